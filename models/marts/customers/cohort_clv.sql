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
        sum(orders) as orders,
        sum(revenue) as revenue,
        sum(gross_margin) as gross_margin,
        sum(fulfillment_cost) as fulfillment_cost,
        sum(acquisition_spend) as acquisition_spend
    from cohort_channel_months
    group by 1, 2, 3
),

cumulated as (
    select
        *,
        sum(gross_margin) over (
            partition by cohort_month
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as cumulative_gross_margin,
        sum(gross_margin * {{ discount_factor('months_since_acquisition + 1', 12, var('discount_rate')) }}) over (
            partition by cohort_month
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as discounted_cumulative_gross_margin,
        sum(fulfillment_cost) over (
            partition by cohort_month
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as cumulative_fulfillment_cost,
        sum(fulfillment_cost * {{ discount_factor('months_since_acquisition + 1', 12, var('discount_rate')) }}) over (
            partition by cohort_month
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as discounted_cumulative_fulfillment_cost
    from cohort_months
),

per_customer as (
    select
        cohort_month,
        months_since_acquisition,
        month,
        cohort_size,
        active_customers,
        lost_customers,
        orders,
        revenue,
        gross_margin,
        active_customers * 1.0 / cohort_size as retention_rate,
        fulfillment_cost / cohort_size as cost_to_serve_per_customer,
        cumulative_fulfillment_cost / cohort_size as cumulative_cost_to_serve_per_customer,
        cumulative_gross_margin / cohort_size as cumulative_margin_per_customer,
        discounted_cumulative_gross_margin / cohort_size as discounted_cumulative_margin_per_customer,
        discounted_cumulative_fulfillment_cost / cohort_size as discounted_cumulative_cost_to_serve_per_customer,
        acquisition_spend / cohort_size as acquisition_cost_per_customer
    from cumulated
),

final as (
    select
        cast(months_since_acquisition as {{ dbt.type_bigint() }}) as months_since_acquisition,
        cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast(lost_customers as {{ dbt.type_bigint() }}) as lost_customers,
        cast(retention_rate as {{ type_double() }}) as retention_rate,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(revenue as {{ type_double() }}) as revenue,
        cast(gross_margin as {{ type_double() }}) as gross_margin,
        cast(cost_to_serve_per_customer as {{ type_double() }}) as cost_to_serve_per_customer,
        cast(cumulative_cost_to_serve_per_customer as {{ type_double() }}) as cumulative_cost_to_serve_per_customer,
        cast(cumulative_margin_per_customer as {{ type_double() }}) as cumulative_margin_per_customer,
        cast(discounted_cumulative_margin_per_customer as {{ type_double() }})
            as discounted_cumulative_margin_per_customer,
        cast(acquisition_cost_per_customer as {{ type_double() }}) as acquisition_cost_per_customer,
        cast(
            discounted_cumulative_margin_per_customer
            - discounted_cumulative_cost_to_serve_per_customer
            - acquisition_cost_per_customer
            as {{ type_double() }}
        ) as cumulative_clv_net_of_cac,
        discounted_cumulative_margin_per_customer
        - discounted_cumulative_cost_to_serve_per_customer
        - acquisition_cost_per_customer >= 0 as is_payback_reached,
        cohort_month,
        month
    from per_customer
)

select * from final
