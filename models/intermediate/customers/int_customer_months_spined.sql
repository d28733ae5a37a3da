{#- A table, not the folder's view: int_cohort_months_aggregated and
    int_customer_equity_scope_months_aggregated and 7 data tests read it; as a view each would
    compute it again (at a million customers the tests re-ran it once per test). -#}
{{ config(materialized='table') }}

{#- One row per customer per month from the customer's cohort month to the
    reporting period's as_of_month (the dbt_shopify cohort grain): the month's
    valid orders and amounts, and whether the customer is active at the
    month's end (a valid order within the last active_window_days). -#}
with

customers as (
    select * from {{ ref('int_customers_assigned_to_cohorts') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

all_months as (
    select * from {{ ref('all_months') }}
),

customer_months as (
    select
        customers.customer_id,
        customers.acquisition_channel,
        customers.cohort_month,
        all_months.month
    from customers
    inner join all_months
        on customers.cohort_month <= all_months.month
),

orders_per_customer_month as (
    select
        customer_id,
        order_month,
        count(*) as orders,
        sum(revenue) as revenue,
        sum(gross_margin) as gross_margin,
        sum(fulfillment_cost) as fulfillment_cost,
        max(ordered_at) as last_ordered_at
    from orders
    group by 1, 2
),

joined as (
    select
        customer_months.customer_id,
        customer_months.acquisition_channel,
        customer_months.cohort_month,
        customer_months.month,
        coalesce(orders_per_customer_month.orders, 0) as orders,
        coalesce(orders_per_customer_month.revenue, 0) as revenue,
        coalesce(orders_per_customer_month.gross_margin, 0) as gross_margin,
        coalesce(orders_per_customer_month.fulfillment_cost, 0) as fulfillment_cost,
        max(orders_per_customer_month.last_ordered_at) over (
            partition by customer_months.customer_id
            order by customer_months.month
            rows between unbounded preceding and current row
        ) as last_order_to_date_at,
        {{ dbt.dateadd('month', 1, 'customer_months.month') }} as next_month
    from customer_months
    left join orders_per_customer_month
        on
            customer_months.customer_id = orders_per_customer_month.customer_id
            and customer_months.month = orders_per_customer_month.order_month
),

activity as (
    select
        *,
        coalesce(
            last_order_to_date_at >= {{ dbt.dateadd('day', -1 * var('active_window_days'), 'next_month') }},
            false
        ) as is_active
    from joined
),

final as (
    select
        customer_id,
        acquisition_channel,
        {{ dbt.datediff('cohort_month', 'month', 'month') }} as months_since_acquisition,  -- noqa: LT05
        orders,
        revenue,
        gross_margin,
        fulfillment_cost,
        {#- Active at the month's end: the last order is less than
            active_window_days before the first day of the next month. Lost in
            the month the window runs out: active at the previous month's end,
            not at this one's. -#}
        is_active,
        coalesce(
            not is_active and lag(is_active) over (partition by customer_id order by month),
            false
        ) as is_lost,
        cohort_month,
        month,
        last_order_to_date_at
    from activity
)

select * from final
