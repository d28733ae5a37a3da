{#- A table, not the folder's view: four models read it (the spine, the acquisition spend, customer_clv and
    repeat_customer_rate_monthly). -#}
{{ config(materialized='table') }}

{#- One row per customer with at least one valid order up to the reporting
    period's as_of_date: the cohort (month of the first valid order), the
    acquisition channel and lifetime totals to date. -#}
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

order_items as (
    select * from {{ ref('int_order_items_as_of') }}
),

customers as (
    select * from {{ ref('int_customers_as_of') }}
),

orders_numbered as (
    select
        customer_id,
        ordered_at,
        row_number() over (partition by customer_id order by ordered_at, order_id) as order_number
    from orders
),

second_orders as (
    select
        customer_id,
        ordered_at as second_order_at
    from orders_numbered
    where order_number = 2
),

customer_totals as (
    select
        customer_id,
        count(*) as orders_count,
        sum(revenue) as revenue,
        sum(gross_margin) as gross_margin,
        sum(fulfillment_cost) as fulfillment_cost,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at
    from orders
    group by 1
),

customer_categories as (
    select
        orders.customer_id,
        count(distinct order_items.category) as categories_purchased
    from orders
    inner join order_items
        on orders.order_id = order_items.order_id
    group by 1
),

final as (
    select
        customer_totals.customer_id,
        customers.acquisition_channel,
        customer_totals.orders_count,
        coalesce(customer_categories.categories_purchased, 0) as categories_purchased,
        customer_totals.revenue,
        customer_totals.gross_margin,
        customer_totals.fulfillment_cost,
        cast({{ dbt.date_trunc('month', 'customer_totals.first_order_at') }} as date) as cohort_month,
        customer_totals.first_order_at,
        second_orders.second_order_at,
        customer_totals.last_order_at
    from customer_totals
    inner join customers
        on customer_totals.customer_id = customers.customer_id
    left join second_orders
        on customer_totals.customer_id = second_orders.customer_id
    left join customer_categories
        on customer_totals.customer_id = customer_categories.customer_id
)

select * from final
