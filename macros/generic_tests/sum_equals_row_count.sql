{% test sum_equals_row_count(model, column_name, compare_model, where_clause=none) %}
{#- The sum of a count column (optionally over the rows matching
    where_clause) equals the number of rows of another model, e.g. cohort
    sizes at month 0 sum to the customers of customer_clv. Fails with one
    row holding both figures when they differ. -#}
{%- if compare_model is none -%}
    {{ exceptions.raise_compiler_error("sum_equals_row_count on " ~ model ~ ": compare_model is required") }}
{%- endif -%}
with

summed as (
    select coalesce(sum({{ column_name }}), 0) as summed_value
    from {{ model }}
    {% if where_clause %}where {{ where_clause }}{% endif %}
),

compared as (
    select count(*) as compared_rows
    from {{ compare_model }}
),

validation_errors as (
    select
        summed.summed_value,
        compared.compared_rows
    from summed
    cross join compared
    where summed.summed_value != compared.compared_rows
)

select * from validation_errors
{% endtest %}
