{#- One row per subscribe or unsubscribe event on or before the reporting
    period's as_of_date: `stg_email__email_subscriptions` cut at the end of
    the as-of date, the one place this source is cut (DECISIONLOG.md,
    "Reporting period"). The link to a customer is kept only when that
    customer existed by then: an address that became a customer later was not
    yet one at the as-of date. -#}
with

subscriptions as (
    select * from {{ ref('stg_email__email_subscriptions') }}
),

customers as (
    select * from {{ ref('int_customers_as_of') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        subscriptions.subscriber_id,
        customers.customer_id,
        subscriptions.email_hash,
        subscriptions.event_type,
        subscriptions.signup_source,
        subscriptions.event_at,
        subscriptions.loaded_at,
        subscriptions.is_subscribe_event
    from subscriptions
    cross join reporting_period
    left join customers
        on subscriptions.customer_id = customers.customer_id
    where {{ is_known_at_as_of('subscriptions.event_at') }}
)

select * from final
