{#- One row per order placed on or before the reporting period's as_of_date:
    `stg_shop__orders` cut at the end of the as-of date, the one place this
    source is cut (DECISIONLOG.md, "Reporting period"). -#}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.status,
        orders.currency_code,
        orders.utm_source,
        orders.utm_campaign,
        orders.rate_to_reporting_currency,
        orders.order_total_local,
        orders.order_total,
        orders.discount_amount,
        orders.shipping_amount,
        orders.tax_amount,
        orders.fulfillment_cost,
        orders.is_completed,
        orders.is_cancelled,
        orders.ordered_at,
        orders.loaded_at
    from orders
    cross join reporting_period
    where {{ is_known_at_as_of('orders.ordered_at') }}
)

select * from final
