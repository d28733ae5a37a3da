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
    select order_items.*
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
)

select * from final
