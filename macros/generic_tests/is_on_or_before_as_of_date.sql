{% test is_on_or_before_as_of_date(model, column_name) %}
{#- The as-of cut holds: fails with every row whose column (an event
    timestamp or date) lies after the reporting period's as-of date. Nulls
    pass (not_null is a test of its own). -#}
{%- if column_name is none -%}
    {{ exceptions.raise_compiler_error("is_on_or_before_as_of_date on " ~ model ~ ": it is a column test; give it a column") }}
{%- endif -%}
with

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

validation_errors as (
    select tested.{{ column_name }}
    from {{ model }} as tested
    cross join reporting_period
    where tested.{{ column_name }} >= {{ as_of_end('reporting_period') }}
)

select * from validation_errors
{% endtest %}
