{#- The period every mart reports on, so a scheduled run is reproducible.
    as_of_month is the var `as_of_date`'s month when it is set, otherwise the
    last complete month in the data: the data is complete up to the day
    before its last nightly load. -#}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

data_bounds as (
    select
        {#- The first valid order (cancelled ones do not start the history). #}
        min(case when {{ is_valid_order('orders') }} then orders.ordered_at end) as first_ordered_at,
        {{ dbt.dateadd('day', -1, 'max(orders.loaded_at)') }} as last_complete_at
    from orders
),

months as (
    select
        cast({{ dbt.date_trunc('month', 'first_ordered_at') }} as date) as first_month,
        {% if var('as_of_date', none) -%}
            cast({{ dbt.date_trunc('month', "cast('" ~ var('as_of_date') ~ "' as date)") }} as date)
        {%- else -%}
            cast({{ dbt.dateadd(
                'month', -1, dbt.date_trunc('month', dbt.dateadd('day', 1, 'last_complete_at'))
            ) }} as date)
        {%- endif %} as as_of_month
    from data_bounds
),

final as (
    select
        first_month,
        as_of_month,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'as_of_month')) }} as date) as as_of_date
    from months
)

select * from final
