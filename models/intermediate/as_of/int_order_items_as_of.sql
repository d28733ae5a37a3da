{#- One row per order line of an order placed on or before the reporting
    period's as_of_date: `stg_shop__order_items` cut with its order (a line
    has no timestamp of its own), the one place this source is cut
    (DECISIONLOG.md, "Reporting period"). -#}
with

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

orders as (
    select * from {{ ref('int_orders_as_of') }}
),

final as (
    select
        order_items.order_id,
        order_items.line_number,
        order_items.sku,
        order_items.category,
        order_items.currency_code,
        order_items.quantity,
        order_items.unit_price_local,
        order_items.unit_cost_local,
        order_items.unit_price,
        order_items.unit_cost,
        order_items.line_revenue,
        order_items.line_cost,
        order_items.loaded_at
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
)

select * from final
