{#- One row per subscription cohort month: the email subscriber LTV of
    docs/formulas.md, "Email subscriber LTV" (macros/email_formulas.sql):
    net profit per subscriber-month on the list × expected months on the
    list, and the seed formula beside it. Every month of the reporting
    period is present; a cohort with no subscribers has zero counts and a
    null LTV. DECISIONLOG.md, "Value marts (email and loyalty)". -#}
with

all_months as (
    select * from {{ ref('all_months') }}
),

cohorts as (
    select * from {{ ref('int_email_cohorts_summarised') }}
),

cohort_months as (
    select month as cohort_month from all_months
    {# Subscribers may predate the first order's month. #}
    union
    select cohort_month from cohorts
),

cohort_figures as (
    select
        cohort_months.cohort_month,
        coalesce(cohorts.subscribers, 0) as subscribers,
        coalesce(cohorts.active_subscribers, 0) as active_subscribers,
        coalesce(cohorts.subscribers - cohorts.active_subscribers, 0) as unsubscribed_subscribers,
        coalesce(cohorts.customers_from_email, 0) as customers_from_email,
        coalesce(cohorts.email_orders, 0) as email_orders,
        cast(coalesce(cohorts.email_revenue, 0) as {{ type_double() }}) as email_revenue,
        cast(coalesce(cohorts.email_gross_margin, 0) as {{ type_double() }}) as email_gross_margin,
        cast(coalesce(cohorts.email_spend, 0) as {{ type_double() }}) as email_spend,
        cast(coalesce(cohorts.active_months, 0) as {{ type_double() }}) as subscriber_months_on_list,
        case
            when cohorts.subscribers > 0
                then cast(cohorts.active_months as {{ type_double() }}) / cohorts.subscribers
        end as average_active_months
    from cohort_months
    left join cohorts
        on cohort_months.cohort_month = cohorts.cohort_month
),

cohort_rates as (
    {#- Per subscriber-month on the list, over every subscriber of the
        cohort: the spend went to all of them, so the months of all of them
        are the exposure (DECISIONLOG.md). -#}
    select
        *,
        {{ email_net_profit_per_subscriber_month(
            'email_gross_margin', 'email_spend', 'subscriber_months_on_list'
        ) }} as net_profit_per_subscriber_month,
        {{ email_net_profit_per_subscriber_month(
            'email_revenue', 'email_spend', 'subscriber_months_on_list'
        ) }} as net_revenue_per_subscriber_month,
        {{ email_unsubscribe_hazard(
            'unsubscribed_subscribers', 'subscriber_months_on_list'
        ) }} as monthly_unsubscribe_hazard,
        {{ email_expected_months_on_list(
            'unsubscribed_subscribers', 'subscriber_months_on_list', var('clv_horizon_years')
        ) }} as expected_months_on_list
    from cohort_figures
),

final as (
    select
        cohort_month,
        cast(subscribers as bigint) as subscribers,
        cast(active_subscribers as bigint) as active_subscribers,
        cast(customers_from_email as bigint) as customers_from_email,
        cast(email_orders as bigint) as email_orders,
        cast(average_active_months as {{ type_double() }}) as average_active_months,
        email_revenue,
        email_gross_margin,
        email_spend,
        cast(email_revenue - email_spend as {{ type_double() }}) as email_net_profit,
        cast(net_profit_per_subscriber_month as {{ type_double() }}) as net_profit_per_customer_month,
        cast({{ email_subscriber_ltv(
            'net_profit_per_subscriber_month', 'expected_months_on_list'
        ) }} as {{ type_double() }}) as subscriber_ltv,
        cast(unsubscribed_subscribers as bigint) as unsubscribed_subscribers,
        subscriber_months_on_list,
        cast(monthly_unsubscribe_hazard as {{ type_double() }}) as monthly_unsubscribe_hazard,
        cast(expected_months_on_list as {{ type_double() }}) as expected_months_on_list,
        cast(net_revenue_per_subscriber_month as {{ type_double() }}) as net_revenue_per_subscriber_month,
        cast({{ email_subscriber_ltv(
            'net_revenue_per_subscriber_month', 'expected_months_on_list'
        ) }} as {{ type_double() }}) as subscriber_ltv_revenue_based,
        cast({{ email_subscriber_ltv_seed_formula(
            'email_revenue', 'email_spend', 'customers_from_email', 'average_active_months'
        ) }} as {{ type_double() }}) as subscriber_ltv_seed_formula
    from cohort_rates
)

select * from final
