{#- One row per cohort month, acquisition channel and month since
    acquisition: retention, margin and CLV per customer of the cohort, net of
    its acquisition cost. Cohorts the dbt_shopify way: a month spine, monthly
    sums, lifetime figures as window sums; the per-customer figures are
    int_cohort_months_valued's rows per channel. See DECISIONLOG.md, "Value
    marts (orders side)". -#}
with

cohort_months as (
    select * from {{ ref('int_cohort_months_valued') }}
    where not is_all_channels
),

final as (
    select
        cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast(months_since_acquisition as {{ dbt.type_bigint() }}) as months_since_acquisition,
        cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast(lost_customers as {{ dbt.type_bigint() }}) as lost_customers,
        cast(ordering_customers as {{ dbt.type_bigint() }}) as ordering_customers,
        cast(retention_rate as {{ type_double() }}) as retention_rate,
        cast(ordering_rate as {{ type_double() }}) as ordering_rate,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(revenue as {{ type_double() }}) as revenue,
        cast(gross_margin as {{ type_double() }}) as gross_margin,
        cast(cost_to_serve_per_customer as {{ type_double() }}) as cost_to_serve_per_customer,
        cast(cumulative_cost_to_serve_per_customer as {{ type_double() }}) as cumulative_cost_to_serve_per_customer,
        cast(cumulative_margin_per_customer as {{ type_double() }}) as cumulative_margin_per_customer,
        cast(discounted_cumulative_margin_per_customer as {{ type_double() }})
            as discounted_cumulative_margin_per_customer,
        cast(acquisition_cost_per_customer as {{ type_double() }}) as acquisition_cost_per_customer,
        cast(cumulative_clv_net_of_cac as {{ type_double() }}) as cumulative_clv_net_of_cac,
        cumulative_clv_net_of_cac >= 0 as is_payback_reached,
        cohort_month,
        month
    from cohort_months
)

select * from final
