{#- A table, not the folder's view: email_subscriber_ltv and 3 data tests read it; as a view each
    would compute it again (at a million customers the tests re-ran it once per test). -#}
{{ config(materialized='table') }}

{#- One row per subscription cohort month (month of the first subscribe):
    the inputs of the email subscriber LTV formula. -#}
with

subscribers as (
    select * from {{ ref('int_email_subscribers_valued') }}
),

final as (
    select
        cohort_month,
        count(*) as subscribers,
        sum(case when is_active then 1 else 0 end) as active_subscribers,
        sum(active_months) as active_months,
        count(distinct case when is_customer_from_email then customer_id end) as customers_from_email,
        sum(attributed_orders) as email_orders,
        sum(attributed_revenue) as email_revenue,
        sum(attributed_gross_margin) as email_gross_margin,
        sum(allocated_spend) as email_spend
    from subscribers
    group by 1
)

select * from final
