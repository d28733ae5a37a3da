{% test continues_previous_row(model, column_name, previous_column, order_by, first_value=0, partition_by=[]) %}
{#- Period continuity: each row's column_name equals previous_column of the
    row before it (ordered by order_by), and first_value on the first row,
    e.g. customers_start of a month = customers_end of the month before.
    With partition_by (a list of columns), within each partition, e.g. per
    scope of customer_equity_monthly_by_scope.
    Kept beside the equity formulas because that folder is the equity work's
    own; candidate for macros/generic_tests/. -#}
{%- if previous_column is none or order_by is none -%}
    {{ exceptions.raise_compiler_error(
        "continues_previous_row on " ~ model ~ ": previous_column and order_by are required"
    ) }}
{%- endif -%}
{%- if partition_by is string or partition_by is not iterable -%}
    {{ exceptions.raise_compiler_error(
        "continues_previous_row on " ~ model ~ ": partition_by must be a list of columns, got " ~ partition_by
    ) }}
{%- endif -%}
with

windowed as (
    select
        {%- for column in partition_by %}
        {{ column }},
        {%- endfor %}
        {{ order_by }} as ordered_by,
        {{ column_name }} as current_value,
        lag({{ previous_column }}, 1, {{ first_value }}) over (
            {% if partition_by | length > 0 -%}
            partition by {{ partition_by | join(', ') }}
            {% endif -%}
            order by {{ order_by }}
        ) as previous_value
    from {{ model }}
),

validation_errors as (
    select * from windowed
    where current_value is null or previous_value is null or current_value != previous_value
)

select * from validation_errors
{% endtest %}
