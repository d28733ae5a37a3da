{% test is_non_decreasing(model, column_name, partition_by, order_by) %}
{#- A cumulative figure never falls from one period to the next within its
    partition (e.g. a cohort). A tolerance of 1e-9 absorbs floating-point
    noise. -#}
{%- if partition_by is string -%}
    {%- set partition_by = [partition_by] -%}
{%- endif -%}
{%- if partition_by is not iterable or partition_by | length == 0 or order_by is not string -%}
    {{ exceptions.raise_compiler_error(
        "is_non_decreasing on " ~ model ~ ": partition_by must be a non-empty list and order_by a column"
    ) }}
{%- endif -%}
with

windowed as (
    select
        {{ partition_by | join(', ') }},
        {{ order_by }} as order_value,
        {{ column_name }} as current_value,
        lag({{ column_name }}) over (
            partition by {{ partition_by | join(', ') }}
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
