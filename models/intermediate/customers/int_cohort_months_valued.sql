{#- One row per cohort month, month since acquisition and scope: each
    acquisition channel on its own (is_all_channels false) and all channels
    together (is_all_channels true, acquisition_channel null), with the
    per-customer figures of cohort_clv and cohort_clv_by_channel. The lifetime
    sums of int_cohort_months_cumulated are additive across channels, so the
    all-channels rows sum them before dividing by the cohort size: one
    division for both marts. See DECISIONLOG.md, "Value marts (orders side)". -#}
with

cohort_channel_months as (
    select * from {{ ref('int_cohort_months_cumulated') }}
),

by_channel as (
    select
        cohort_month,
        acquisition_channel,
        false as is_all_channels,
        months_since_acquisition,
        month,
        cohort_size,
        active_customers,
        lost_customers,
        ordering_customers,
        orders,
        revenue,
        gross_margin,
        fulfillment_cost,
        acquisition_spend,
        cumulative_gross_margin,
        discounted_cumulative_gross_margin,
        cumulative_fulfillment_cost,
        discounted_cumulative_fulfillment_cost
    from cohort_channel_months
),

all_channels as (
    select
        cohort_month,
        cast(null as {{ dbt.type_string() }}) as acquisition_channel,
        true as is_all_channels,
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
        sum(acquisition_spend) as acquisition_spend,
        sum(cumulative_gross_margin) as cumulative_gross_margin,
        sum(discounted_cumulative_gross_margin) as discounted_cumulative_gross_margin,
        sum(cumulative_fulfillment_cost) as cumulative_fulfillment_cost,
        sum(discounted_cumulative_fulfillment_cost) as discounted_cumulative_fulfillment_cost
    from cohort_channel_months
    group by cohort_month, months_since_acquisition, month
),

cohort_months as (
    select * from by_channel
    union all
    select * from all_channels
),

per_customer as (
    select
        cohort_month,
        acquisition_channel,
        is_all_channels,
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

final as (
    select
        *,
        discounted_cumulative_margin_per_customer
        - discounted_cumulative_cost_to_serve_per_customer
        - acquisition_cost_per_customer as cumulative_clv_net_of_cac
    from per_customer
)

select * from final
