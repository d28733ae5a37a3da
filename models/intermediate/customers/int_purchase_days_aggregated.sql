{{ config(materialized='table') }}

{#- One row per customer and day with at least one purchase: the unit the
    probabilistic CLV models count (several orders on one day are one
    purchase, their amounts summed; Fader, Hardie & Lee 2005 count CDNOW
    purchases the same way). A purchase is a valid order (completed, not
    cancelled) that was not refunded in full. Definitions in DECISIONLOG.md,
    "Probabilistic CLV". -#}
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

purchases as (
    select
        customer_id,
        cast(ordered_at as date) as purchase_date,
        revenue,
        gross_margin - fulfillment_cost as margin
    from orders
    where not is_fully_refunded
),

final as (
    select
        customer_id,
        purchase_date,
        count(*) as orders_count,
        {#- Summed as exact decimals: a sum of doubles depends on the order a
            parallel engine adds them in, and the fits downstream must get the
            same input on every run (idempotent builds). -#}
        cast(sum(cast(revenue as {{ dbt.type_numeric() }})) as {{ type_double() }}) as revenue,
        cast(sum(cast(margin as {{ dbt.type_numeric() }})) as {{ type_double() }}) as margin
    from purchases
    group by 1, 2
)

select * from final
