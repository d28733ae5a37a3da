{#- No missing months: every month of the all_months spine has its row in
    loyalty_monthly (the unique test on loyalty_monthly.month and its
    relationship to all_months cover the other direction). -#}
with

all_months as (
    select * from {{ ref('all_months') }}
),

loyalty_monthly as (
    select * from {{ ref('loyalty_monthly') }}
),

validation_errors as (
    select all_months.month
    from all_months
    left join loyalty_monthly
        on all_months.month = loyalty_monthly.month
    where loyalty_monthly.month is null
)

select * from validation_errors
