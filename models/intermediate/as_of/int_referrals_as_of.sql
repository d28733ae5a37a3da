{#- One row per referral made on or before the reporting period's as_of_date:
    `stg_loyalty__referrals` cut at the end of the as-of date, the one place
    this source is cut (DECISIONLOG.md, "Reporting period"). A referral
    converts when the referred person becomes a customer, so it counts as
    converted only when that customer existed by then. -#}
with

referrals as (
    select * from {{ ref('stg_loyalty__referrals') }}
),

customers as (
    select * from {{ ref('int_customers_as_of') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        referrals.referral_id,
        referrals.referrer_customer_id,
        customers.customer_id as referred_customer_id,
        referrals.referred_email_hash,
        referrals.referred_at,
        referrals.loaded_at,
        customers.customer_id is not null as is_converted
    from referrals
    cross join reporting_period
    left join customers
        on referrals.referred_customer_id = customers.customer_id
    where {{ is_known_at_as_of('referrals.referred_at') }}
)

select * from final
