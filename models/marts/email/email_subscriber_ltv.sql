{#- One row per subscription cohort month: the email subscriber LTV of
    docs/formulas.md, "Email subscriber LTV" (macros/email_formulas.sql).
    Every month of the reporting period is present; a cohort with no
    subscribers has zero counts and a null LTV. DECISIONLOG.md, "Value marts
    (email and loyalty)". -#}
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
        coalesce(cohorts.customers_from_email, 0) as customers_from_email,
        coalesce(cohorts.email_orders, 0) as email_orders,
        cast(coalesce(cohorts.email_revenue, 0) as {{ type_double() }}) as email_revenue,
        cast(coalesce(cohorts.email_gross_margin, 0) as {{ type_double() }}) as email_gross_margin,
        cast(coalesce(cohorts.email_spend, 0) as {{ type_double() }}) as email_spend,
        case
            when cohorts.subscribers > 0
                then cast(cohorts.active_months as {{ type_double() }}) / cohorts.subscribers
        end as average_active_months
    from cohort_months
    left join cohorts
        on cohort_months.cohort_month = cohorts.cohort_month
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
        cast({{ email_net_profit_per_customer_month(
            'email_revenue', 'email_spend', 'customers_from_email'
        ) }} as {{ type_double() }}) as net_profit_per_customer_month,
        cast({{ email_subscriber_ltv(
            'email_revenue', 'email_spend', 'customers_from_email', 'average_active_months'
        ) }} as {{ type_double() }}) as subscriber_ltv
    from cohort_figures
)

select * from final
