{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- The primary-key test for a composite grain: no two rows share the same
    values in all of the given columns. Nulls count as one value (group by
    groups them), which is what a composite key with a nullable part needs. -#}
{%- if combination_of_columns is string or combination_of_columns is not iterable
    or combination_of_columns | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "unique_combination_of_columns on " ~ model ~ ": combination_of_columns must be a non-empty list, got "
        ~ combination_of_columns
    ) }}
{%- endif -%}
with

validation_errors as (
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
)

select * from validation_errors
{% endtest %}
