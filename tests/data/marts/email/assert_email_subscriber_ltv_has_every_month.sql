{#- No missing cohort months: every month of the all_months spine has its
    row in email_subscriber_ltv. -#}
with

all_months as (
    select * from {{ ref('all_months') }}
),

email_subscriber_ltv as (
    select * from {{ ref('email_subscriber_ltv') }}
),

validation_errors as (
    select all_months.month
    from all_months
    left join email_subscriber_ltv
        on all_months.month = email_subscriber_ltv.cohort_month
    where email_subscriber_ltv.cohort_month is null
)

select * from validation_errors
