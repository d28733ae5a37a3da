{#- One row per cohort month, acquisition channel and month since
    acquisition: int_cohort_months_aggregated with the cohort and channel's
    lifetime sums to that month, plain and discounted to the cohort month
    (each month k by 1 / (1 + d)^((k + 1) / 12), DECISIONLOG.md, "Value marts
    (orders side)"). Every column is additive across channels, so
    cohort_clv sums the channels and cohort_clv_by_channel reads the rows as
    they are; both divide by the cohort size. -#}
with

cohort_months as (
    select * from {{ ref('int_cohort_months_aggregated') }}
),

discounted as (
    select
        *,
        {{ discount_factor('months_since_acquisition + 1', 12, var('discount_rate')) }} as discount_factor
    from cohort_months
),

final as (
    select
        acquisition_channel,
        months_since_acquisition,
        cohort_size,
        active_customers,
        lost_customers,
        ordering_customers,
        orders,
        revenue,
        gross_margin,
        fulfillment_cost,
        acquisition_spend,
        cohort_month,
        month,
        sum(gross_margin) over (
            partition by cohort_month, acquisition_channel
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as cumulative_gross_margin,
        sum(gross_margin * discount_factor) over (
            partition by cohort_month, acquisition_channel
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as discounted_cumulative_gross_margin,
        sum(fulfillment_cost) over (
            partition by cohort_month, acquisition_channel
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as cumulative_fulfillment_cost,
        sum(fulfillment_cost * discount_factor) over (
            partition by cohort_month, acquisition_channel
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as discounted_cumulative_fulfillment_cost
    from discounted
)

select * from final
