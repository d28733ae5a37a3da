{% test has_every_month(model, column_name, spine_model, allow_extra_months=false) %}
{#- Every month of the spine (its column `month`) has a row in the model and,
    unless allow_extra_months, the model has no month outside it. -#}
{%- if spine_model is none -%}
    {{ exceptions.raise_compiler_error("has_every_month on " ~ model ~ ": spine_model is required") }}
{%- endif -%}
with

spine as (
    select month as spine_month from {{ spine_model }}
),

model_months as (
    select {{ column_name }} as model_month from {{ model }}
),

missing as (
    select spine.spine_month as month, 'missing from the model' as problem
    from spine
    left join model_months
        on spine.spine_month = model_months.model_month
    where model_months.model_month is null
),

extra as (
    select model_months.model_month as month, 'not in the spine' as problem
    from model_months
    left join spine
        on model_months.model_month = spine.spine_month
    where spine.spine_month is null
),

validation_errors as (
    select * from missing
    {%- if not allow_extra_months %}
    union all
    select * from extra
    {%- endif %}
)

select * from validation_errors
{% endtest %}
