{#- A table, not the folder's view: cohort_clv, cohort_clv_by_channel and customer_clv all read it, and as a view each
    would recompute the customer × month spine. -#}
{{ config(materialized='table') }}

{#- One row per cohort month, acquisition channel and month since
    acquisition (0 up to the reporting period's as_of_month): the cohort's
    size, its customers active at the month's end, its customers with a
    valid order in the month, the month's orders and amounts, and the
    acquisition spend allocated to the cohort. The base of cohort_clv and
    cohort_clv_by_channel. -#}
with

customer_months as (
    select * from {{ ref('int_customer_months_spined') }}
),

acquisition_spend as (
    select * from {{ ref('int_cohorts_acquisition_spend') }}
),

cohort_months as (
    select
        cohort_month,
        acquisition_channel,
        months_since_acquisition,
        month,
        count(*) as cohort_size,
        sum(case when is_active then 1 else 0 end) as active_customers,
        sum(case when is_lost then 1 else 0 end) as lost_customers,
        {#- orders counts the customer's rows of int_orders_enriched (valid
            orders) in the month. -#}
        sum(case when orders > 0 then 1 else 0 end) as ordering_customers,
        sum(orders) as orders,
        sum(revenue) as revenue,
        sum(gross_margin) as gross_margin,
        sum(fulfillment_cost) as fulfillment_cost
    from customer_months
    group by 1, 2, 3, 4
),

final as (
    select
        cohort_months.acquisition_channel,
        cohort_months.months_since_acquisition,
        cohort_months.cohort_size,
        cohort_months.active_customers,
        cohort_months.lost_customers,
        cohort_months.ordering_customers,
        cohort_months.orders,
        cohort_months.revenue,
        cohort_months.gross_margin,
        cohort_months.fulfillment_cost,
        cohort_months.cohort_month,
        cohort_months.month,
        coalesce(acquisition_spend.acquisition_spend, 0) as acquisition_spend
    from cohort_months
    left join acquisition_spend
        on
            cohort_months.cohort_month = acquisition_spend.cohort_month
            and cohort_months.acquisition_channel = acquisition_spend.acquisition_channel
)

select * from final
