{% test has_every_month(model, column_name, spine_model, allow_extra_months=false, partition_by=[]) %}
{#- Every month of the spine (its column `month`) has a row in the model and,
    unless allow_extra_months, the model has no month outside it. With
    partition_by (a list of columns), every partition found in the model has
    every month of the spine (e.g. each scope of
    customer_equity_monthly_by_scope). -#}
{%- if spine_model is none -%}
    {{ exceptions.raise_compiler_error("has_every_month on " ~ model ~ ": spine_model is required") }}
{%- endif -%}
{%- if partition_by is string or partition_by is not iterable -%}
    {{ exceptions.raise_compiler_error(
        "has_every_month on " ~ model ~ ": partition_by must be a list of columns, got " ~ partition_by
    ) }}
{%- endif -%}
with

spine as (
    select month as spine_month from {{ spine_model }}
),

model_months as (
    select
        {%- for column in partition_by %}
        {{ column }},
        {%- endfor %}
        {{ column_name }} as model_month
    from {{ model }}
),
{%- if partition_by | length > 0 %}

partitions as (
    select distinct
        {{ partition_by | join(', ') }}
    from {{ model }}
),

expected as (
    select
        {%- for column in partition_by %}
        partitions.{{ column }},
        {%- endfor %}
        spine.spine_month
    from partitions
    cross join spine
),

missing as (
    select
        {%- for column in partition_by %}
        expected.{{ column }},
        {%- endfor %}
        expected.spine_month as month,
        'missing from the model' as problem
    from expected
    left join model_months
        on
            expected.spine_month = model_months.model_month
            {%- for column in partition_by %}
            and expected.{{ column }} = model_months.{{ column }}
            {%- endfor %}
    where model_months.model_month is null
),

extra as (
    select
        {%- for column in partition_by %}
        model_months.{{ column }},
        {%- endfor %}
        model_months.model_month as month,
        'not in the spine' as problem
    from model_months
    left join spine
        on model_months.model_month = spine.spine_month
    where spine.spine_month is null
),
{%- else %}

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
{%- endif %}

validation_errors as (
    select * from missing
    {%- if not allow_extra_months %}
    union all
    select * from extra
    {%- endif %}
)

select * from validation_errors
{% endtest %}
