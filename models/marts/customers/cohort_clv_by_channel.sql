{#- One row per cohort month, acquisition channel and month since
    acquisition: retention, margin and CLV per customer of the cohort, net of
    its acquisition cost. Cohorts the dbt_shopify way: a month spine, monthly
    sums, lifetime figures as window sums (int_cohort_months_cumulated). See
    DECISIONLOG.md, "Value marts (orders side)". -#}
with

cohort_months as (
    select * from {{ ref('int_cohort_months_cumulated') }}
),

per_customer as (
    select
        cohort_month,
        acquisition_channel,
        months_since_acquisition,
        month,
        cohort_size,
        active_customers,
        lost_customers,
        ordering_customers,
        orders,
        revenue,
        gross_margin,
        {#- Two retention measures (DECISIONLOG.md): active within the window,
            and ordering in the month (the classic cohort heat map). -#}
        cast(active_customers as {{ type_double() }}) / cohort_size as retention_rate,
        cast(ordering_customers as {{ type_double() }}) / cohort_size as ordering_rate,
        fulfillment_cost / cohort_size as cost_to_serve_per_customer,
        cumulative_fulfillment_cost / cohort_size as cumulative_cost_to_serve_per_customer,
        cumulative_gross_margin / cohort_size as cumulative_margin_per_customer,
        discounted_cumulative_gross_margin / cohort_size as discounted_cumulative_margin_per_customer,
        discounted_cumulative_fulfillment_cost / cohort_size as discounted_cumulative_cost_to_serve_per_customer,
        acquisition_spend / cohort_size as acquisition_cost_per_customer
    from cohort_months
),

net_of_cac as (
    select
        *,
        discounted_cumulative_margin_per_customer
        - discounted_cumulative_cost_to_serve_per_customer
        - acquisition_cost_per_customer as cumulative_clv_net_of_cac
    from per_customer
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
    from net_of_cac
)

select * from final
