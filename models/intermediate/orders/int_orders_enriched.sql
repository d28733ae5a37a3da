{#- A table, not the folder's view: 6 models (int_customer_months_spined,
    int_customers_assigned_to_cohorts, ...) and 19 data tests read it; as a view each would compute
    it again (at a million customers the tests re-ran it once per test). -#}
{{ config(materialized='table') }}

{#- One row per valid order (completed, not cancelled) with its net revenue,
    cost of goods and margin in the reporting currency. Definitions in
    DECISIONLOG.md, "Value marts (orders side)". Refunds count against the
    order they refund (not the month they were paid), net of their tax share,
    and take back the same share of the order's cost of goods (returns). -#}
with

orders as (
    select * from {{ ref('int_orders_as_of') }}
),

order_items as (
    select * from {{ ref('int_order_items_as_of') }}
),

refunds as (
    select * from {{ ref('int_refunds_as_of') }}
),

valid_orders as (
    select * from orders
    where {{ is_valid_order('orders') }}
),

items_per_order as (
    select
        order_id,
        sum(line_cost) as cost_of_goods,
        count(distinct category) as categories_count
    from order_items
    group by 1
),

refunds_per_order as (
    select
        order_id,
        sum(refund_amount) as refund_amount
    from refunds
    group by 1
),

order_amounts as (
    select
        valid_orders.order_id,
        valid_orders.customer_id,
        valid_orders.utm_source,
        valid_orders.utm_campaign,
        valid_orders.order_total,
        valid_orders.order_total - valid_orders.tax_amount as gross_revenue,
        {#- Several refunds of one order may add up to more than it; cap them. -#}
        case
            when coalesce(refunds_per_order.refund_amount, 0) > valid_orders.order_total
                then valid_orders.order_total
            else coalesce(refunds_per_order.refund_amount, 0)
        end as refund_amount,
        coalesce(items_per_order.cost_of_goods, 0) as cost_of_goods,
        coalesce(valid_orders.fulfillment_cost, 0) as fulfillment_cost,
        coalesce(items_per_order.categories_count, 0) as categories_count,
        valid_orders.ordered_at
    from valid_orders
    left join items_per_order
        on valid_orders.order_id = items_per_order.order_id
    left join refunds_per_order
        on valid_orders.order_id = refunds_per_order.order_id
),

order_refund_shares as (
    select
        *,
        {#- The refunded share of the order. A refund returns the tax with the
            goods, so revenue falls by the same share of its pre-tax amount:
            refund × gross_revenue / order_total. -#}
        {#- A free order (total 0) cannot be refunded (rule 12 rejects any
            refund of it): its refunded share is 0. -#}
        case when order_total > 0 then refund_amount / order_total else 0 end as refunded_share
    from order_amounts
),

final as (
    select
        order_id,
        customer_id,
        utm_source,
        utm_campaign,
        cast(gross_revenue as {{ type_double() }}) as gross_revenue,
        cast(gross_revenue * refunded_share as {{ type_double() }}) as refund_amount,
        cast(gross_revenue * (1 - refunded_share) as {{ type_double() }}) as revenue,
        {#- Refunded goods are taken back into stock: the refunded share of
            the order takes the same share of its cost of goods. -#}
        cast(cost_of_goods * (1 - refunded_share) as {{ type_double() }}) as cost_of_goods,
        cast((gross_revenue - cost_of_goods) * (1 - refunded_share) as {{ type_double() }}) as gross_margin,
        cast(fulfillment_cost as {{ type_double() }}) as fulfillment_cost,
        categories_count,
        refunded_share >= 1 as is_fully_refunded,
        cast({{ dbt.date_trunc('month', 'ordered_at') }} as date) as order_month,
        ordered_at
    from order_refund_shares
)

select * from final
