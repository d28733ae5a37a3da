{% test keeps_share_of(model, of, min_share) %}
{#- A filtered model keeps at least min_share of the rows of the model it
    filters (`of`): fails with one row (kept_rows, all_rows, kept_share)
    when it keeps less. A model `of` without rows is not judged. -#}
{%- if min_share is none or min_share < 0 or min_share > 1 -%}
    {{ exceptions.raise_compiler_error("keeps_share_of on " ~ model ~ ": min_share must be between 0 and 1, got " ~ min_share) }}
{%- endif -%}
with

kept as (
    select count(*) as kept_rows
    from {{ model }}
),

all_rows as (
    select count(*) as all_rows
    from {{ of }}
),

validation_errors as (
    select
        kept.kept_rows,
        all_rows.all_rows,
        cast(kept.kept_rows as {{ type_double() }}) / all_rows.all_rows as kept_share
    from kept
    cross join all_rows
    where
        all_rows.all_rows > 0
        and kept.kept_rows < {{ min_share }} * all_rows.all_rows
)

select * from validation_errors
{% endtest %}
