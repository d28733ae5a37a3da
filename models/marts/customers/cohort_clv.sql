{#- One row per cohort month and month since acquisition (all channels):
    retention, margin and CLV per customer of the cohort, net of
    its acquisition cost. Cohorts the dbt_shopify way: a month spine, monthly
    sums, lifetime figures as window sums. See DECISIONLOG.md, "Value marts
    (orders side)". -#}
with

cohort_channel_months as (
    select * from {{ ref('int_cohort_months_aggregated') }}
),

cohort_months as (
    select
        cohort_month,
        months_since_acquisition,
        month,
        sum(cohort_size) as cohort_size,
        sum(active_customers) as active_customers,
        sum(lost_customers) as lost_customers,
        sum(ordering_customers) as ordering_customers,
        sum(orders) as orders,
        sum(revenue) as revenue,
        sum(gross_margin) as gross_margin,
        sum(fulfillment_cost) as fulfillment_cost,
        sum(acquisition_spend) as acquisition_spend
    from cohort_channel_months
    group by 1, 2, 3
),

{{ cohort_clv_ctes('cohort_months') }}

select * from final
