{#- The period every mart reports on, so a scheduled run is reproducible.
    as_of_month is the var `as_of_date`'s month when it is set, otherwise the
    last complete month of the data complete through `complete_through`: the
    var `complete_through` when set (the day a scheduled run's partition
    names), else the day before the data's last nightly load. -#}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

data_bounds as (
    select
        {#- The first valid order (cancelled ones do not start the history). #}
        min(case when {{ is_valid_order('orders') }} then orders.ordered_at end) as first_ordered_at,
        {{ dbt.dateadd('day', -1, 'max(orders.loaded_at)') }} as last_loaded_complete_at
    from orders
),

completeness as (
    select
        first_ordered_at,
        last_loaded_complete_at,
        {% if var('complete_through', none) -%}
            cast('{{ var("complete_through") }}' as {{ dbt.type_timestamp() }})
        {%- else -%}
            last_loaded_complete_at
        {%- endif %} as last_complete_at
    from data_bounds
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
        {%- endif %} as as_of_month,
        cast(last_complete_at as date) as complete_through,
        cast(last_loaded_complete_at as date) as data_complete_through
    from completeness
),

final as (
    select
        first_month,
        as_of_month,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'as_of_month')) }} as date) as as_of_date,
        complete_through,
        data_complete_through
    from months
)

select * from final
