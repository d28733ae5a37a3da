{% test share_in_range(
    model,
    column_name=none,
    expression=none,
    min_share=none,
    max_share=none,
    group_by=none,
    period_column=none,
    datepart='month',
    min_rows=1
) %}
{#- The share of rows where a condition holds lies in [min_share, max_share]:
    over the whole model, or per group (group_by columns and/or period_column
    truncated to datepart). Fails with one row per group outside the band, so
    warn_if / error_if count the groups (e.g. months) that drifted. Groups
    with fewer than min_rows rows are not judged: one odd row in five is not
    drift. The condition is `expression`; on a column without an expression,
    "<column> is not null" (the share of rows that have the value); on a
    column with one, "<column> <expression>". Rows where it is null count as
    not matching. -#}
{%- if expression is none and column_name is none -%}
    {{ exceptions.raise_compiler_error(
        "share_in_range on " ~ model ~ ": give an expression or use it as a column test"
    ) }}
{%- endif -%}
{%- if min_share is none and max_share is none -%}
    {{ exceptions.raise_compiler_error("share_in_range on " ~ model ~ ": give min_share, max_share or both") }}
{%- endif -%}
{%- if group_by is none -%}
    {%- set group_by = [] -%}
{%- elif group_by is string -%}
    {%- set group_by = [group_by] -%}
{%- endif -%}
{%- if column_name is none -%}
    {%- set condition = expression -%}
{%- elif expression is none -%}
    {%- set condition = column_name ~ ' is not null' -%}
{%- else -%}
    {%- set condition = column_name ~ ' ' ~ expression -%}
{%- endif -%}
{%- set group_expressions = [] -%}
{%- set group_columns = [] -%}
{%- if period_column is not none -%}
    {%- do group_expressions.append(dbt.date_trunc(datepart, period_column)) -%}
    {%- do group_columns.append(dbt.date_trunc(datepart, period_column) ~ ' as period_start') -%}
{%- endif -%}
{%- for group_column in group_by -%}
    {%- do group_expressions.append(group_column) -%}
    {%- do group_columns.append(group_column) -%}
{%- endfor -%}
with

grouped as (
    select
        {%- for group_column in group_columns %}
        {{ group_column }},
        {%- endfor %}
        count(*) as row_count,
        sum(case when {{ condition }} then 1 else 0 end) as matching_rows
    from {{ model }}
    {%- if group_expressions %}
    group by {{ group_expressions | join(', ') }}
    {%- endif %}
),

shares as (
    select
        *,
        1.0 * matching_rows / nullif(row_count, 0) as matching_share
    from grouped
    where row_count >= {{ min_rows }}
),

validation_errors as (
    select * from shares
    where
        {%- if min_share is not none %}
        matching_share < {{ min_share }}
        {%- endif %}
        {%- if min_share is not none and max_share is not none %}
        or
        {%- endif %}
        {%- if max_share is not none %}
        matching_share > {{ max_share }}
        {%- endif %}
)

select * from validation_errors
{% endtest %}
