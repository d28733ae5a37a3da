{% test is_running_total(model, column_name, of, partition_by, order_by, divide_by=none, tolerance=0.000001) %}
{#- A cumulative column is the running total of `of` (a column or an
    expression per row) within partition_by, ordered by order_by, divided by
    divide_by when given: cumulative_margin_per_customer = the sum of
    gross_margin from the first month to this one ÷ cohort_size. Catches a
    cumulative figure that skips, double-counts or restarts, and unlike "never
    falls" it allows a period whose own value is negative (a month of orders
    sold below cost). Rows differing by more than tolerance × max(1, |expected|)
    fail, as do rows where either side is null. -#}
{%- if partition_by is string -%}
    {%- set partition_by = [partition_by] -%}
{%- endif -%}
{%- if of is none or order_by is not string or partition_by is not iterable or partition_by | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "is_running_total on " ~ model ~ ": of, order_by and a non-empty partition_by are required"
    ) }}
{%- endif -%}
with

windowed as (
    select
        {{ partition_by | join(', ') }},
        {{ order_by }} as order_value,
        {{ column_name }} as actual_value,
        sum({{ of }}) over (
            partition by {{ partition_by | join(', ') }}
            order by {{ order_by }}
            rows between unbounded preceding and current row
        ){% if divide_by is not none %} / nullif({{ divide_by }}, 0){% endif %} as expected_value
    from {{ model }}
),

validation_errors as (
    select * from windowed
    where
        actual_value is null
        or expected_value is null
        or abs(actual_value - expected_value) > {{ tolerance }} * (
            case when abs(expected_value) > 1 then abs(expected_value) else 1 end
        )
)

select * from validation_errors
{% endtest %}
