{#- A table, not the folder's view: churn_by_category_breadth and 10 data tests read it; as a view
    each would compute it again (at a million customers the tests re-ran it once per test). -#}
{{ config(materialized='table') }}

{#- One row per customer with a valid order on or before the as_of_date: how
    many distinct product categories they have bought, their valid orders
    and lifetime gross margin, and whether they have churned (no valid order
    in the var('active_window_days') days up to the as_of_date).
    DECISIONLOG.md, "Value marts (email and loyalty)". -#}
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

order_items as (
    select * from {{ ref('int_order_items_as_of') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

categories_per_customer as (
    select
        orders.customer_id,
        count(distinct order_items.category) as categories_purchased
    from orders
    inner join order_items
        on orders.order_id = order_items.order_id
    group by 1
),

orders_per_customer as (
    select
        customer_id,
        count(*) as valid_orders,
        sum(gross_margin) as gross_margin,
        max(ordered_at) as last_ordered_at
    from orders
    group by 1
),

final as (
    select
        orders_per_customer.customer_id,
        coalesce(categories_per_customer.categories_purchased, 0) as categories_purchased,
        orders_per_customer.valid_orders,
        cast(orders_per_customer.gross_margin as {{ type_double() }}) as gross_margin,
        orders_per_customer.last_ordered_at < {{ dbt.dateadd(
            'day', 1 - var('active_window_days', 365), 'reporting_period.as_of_date'
        ) }} as is_churned,
        orders_per_customer.last_ordered_at
    from orders_per_customer
    cross join reporting_period
    left join categories_per_customer
        on orders_per_customer.customer_id = categories_per_customer.customer_id
)

select * from final
