{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{#- Every non-null value of the column lies between min_value and max_value
    (either bound may be left out; inclusive by default). -#}
{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error(
        "accepted_range on " ~ model ~ "." ~ column_name ~ ": give min_value, max_value or both"
    ) }}
{%- endif -%}
{%- if inclusive is not boolean -%}
    {{ exceptions.raise_compiler_error(
        "accepted_range on " ~ model ~ "." ~ column_name ~ ": inclusive must be true or false, got " ~ inclusive
    ) }}
{%- endif -%}
{%- set lower_operator = '>=' if inclusive else '>' -%}
{%- set upper_operator = '<=' if inclusive else '<' -%}
with

validation_errors as (
    select *
    from {{ model }}
    where
        {{ column_name }} is not null
        and not (
            {% if min_value is not none %}{{ column_name }} {{ lower_operator }} {{ min_value }}{% endif %}
            {% if min_value is not none and max_value is not none %}and{% endif %}
            {% if max_value is not none %}{{ column_name }} {{ upper_operator }} {{ max_value }}{% endif %}
        )
)

select * from validation_errors
{% endtest %}
