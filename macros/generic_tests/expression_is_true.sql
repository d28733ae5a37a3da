{% test expression_is_true(model, expression, column_name=none) %}
{#- A boolean SQL expression holds on every row (rows where it is null
    fail too). With a column, the expression is appended to the column:
    `column_name: order_total, expression: "> 0"`. -#}
{%- if expression is not string or expression | trim | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "expression_is_true on " ~ model ~ ": expression must be a non-empty SQL string"
    ) }}
{%- endif -%}
{%- set condition = (column_name ~ ' ' ~ expression) if column_name is not none else expression -%}
with

validation_errors as (
    select *
    from {{ model }}
    where not coalesce({{ condition }}, false)
)

select * from validation_errors
{% endtest %}
