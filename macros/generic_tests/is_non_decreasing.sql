{% test is_non_decreasing(model, column_name, order_by, partition_by=[]) %}
{#- A cumulative figure never falls from one period to the next within its
    partition (e.g. a cohort), or over the whole table when partition_by is
    empty. A tolerance of 1e-9 absorbs floating-point noise. -#}
{%- if partition_by is string -%}
    {%- set partition_by = [partition_by] -%}
{%- endif -%}
{%- if partition_by is not iterable or order_by is not string -%}
    {{ exceptions.raise_compiler_error(
        "is_non_decreasing on " ~ model ~ ": partition_by must be a list of columns and order_by a column"
    ) }}
{%- endif -%}
with

windowed as (
    select
        {%- for column in partition_by %}
        {{ column }},
        {%- endfor %}
        {{ order_by }} as order_value,
        {{ column_name }} as current_value,
        lag({{ column_name }}) over (
            {% if partition_by | length > 0 -%}
            partition by {{ partition_by | join(', ') }}
            {% endif -%}
            order by {{ order_by }}
        ) as previous_value
    from {{ model }}
),

validation_errors as (
    select * from windowed
    where current_value < previous_value - 0.000000001
)

select * from validation_errors
{% endtest %}
