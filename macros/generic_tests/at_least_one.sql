{% test at_least_one(model, column_name) %}
{#- The column has at least one non-null value: fails (one row) when the
    model is empty or the column is null throughout. -#}
{%- if column_name is none -%}
    {{ exceptions.raise_compiler_error("at_least_one on " ~ model ~ ": it is a column test; give it a column") }}
{%- endif -%}
with

non_null_values as (
    select count({{ column_name }}) as value_count
    from {{ model }}
),

validation_errors as (
    select value_count
    from non_null_values
    where value_count = 0
)

select * from validation_errors
{% endtest %}
