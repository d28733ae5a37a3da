{#- One row per customer created on or before the reporting period's
    as_of_date: `stg_shop__customers` cut at the end of the as-of date, the
    one place this source is cut (DECISIONLOG.md, "Reporting period"). -#}
with

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        customers.customer_id,
        customers.referred_by_customer_id,
        customers.email_hash,
        customers.country_code,
        customers.acquisition_channel,
        customers.created_at,
        customers.loaded_at
    from customers
    cross join reporting_period
    where {{ is_known_at_as_of('customers.created_at') }}
)

select * from final
