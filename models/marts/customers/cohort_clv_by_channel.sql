{#- One row per cohort month, acquisition channel and month since
    acquisition: retention, margin and CLV per customer of the cohort, net of
    its acquisition cost. Cohorts the dbt_shopify way: a month spine, monthly
    sums, lifetime figures as window sums. See DECISIONLOG.md, "Value marts
    (orders side)". -#}
with

cohort_months as (
    select * from {{ ref('int_cohort_months_aggregated') }}
),

{{ cohort_clv_ctes('cohort_months', dimension_columns=['acquisition_channel']) }}

select * from final
