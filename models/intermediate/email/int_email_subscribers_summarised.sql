{#- One row per email subscriber who subscribed on or before the reporting
    period's as_of_date: when they subscribed and unsubscribed, and how many
    months they have been active. DECISIONLOG.md, "Value marts (email and
    loyalty)". -#}
with

subscriptions as (
    select * from {{ ref('int_email_subscriptions_as_of') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

subscriber_events as (
    select
        subscriber_id,
        max(customer_id) as customer_id,
        min(case when is_subscribe_event then event_at end) as subscribed_at,
        max(case when is_subscribe_event then event_at end) as last_subscribed_at,
        max(case when not is_subscribe_event then event_at end) as last_unsubscribed_at
    from subscriptions
    group by 1
),

first_signups as (
    select
        subscriber_id,
        signup_source,
        row_number() over (partition by subscriber_id order by event_at, signup_source) as signup_rank
    from subscriptions
    where is_subscribe_event
),

subscribers as (
    select
        subscriber_events.subscriber_id,
        subscriber_events.customer_id,
        first_signups.signup_source,
        subscriber_events.subscribed_at,
        {#- Unsubscribed only when the last unsubscribe follows the last
            subscribe: a re-subscribed address is active again. -#}
        case
            when subscriber_events.last_unsubscribed_at >= subscriber_events.last_subscribed_at
                then subscriber_events.last_unsubscribed_at
        end as unsubscribed_at
    from subscriber_events
    inner join first_signups
        on
            subscriber_events.subscriber_id = first_signups.subscriber_id
            and first_signups.signup_rank = 1
),

final as (
    select
        subscribers.subscriber_id,
        subscribers.customer_id,
        subscribers.signup_source,
        {#- Months on the list: from the first subscribe to the last
            unsubscribe, or to the end of the as-of date (as_of_end(),
            midnight after it) for a subscriber still active, in average
            calendar months of 365.25 / 12 days. Summed per cohort, they are
            the exposure of the unsubscribe hazard. -#}
        cast({{ dbt.datediff(
            'subscribers.subscribed_at',
            'coalesce(subscribers.unsubscribed_at, ' ~ as_of_end() ~ ')',
            'day'
        ) }} as {{ type_double() }}) / (365.25 / 12) as active_months,
        subscribers.unsubscribed_at is null as is_active,
        cast({{ dbt.date_trunc('month', 'subscribers.subscribed_at') }} as date) as cohort_month,
        subscribers.subscribed_at,
        subscribers.unsubscribed_at
    from subscribers
    cross join reporting_period
    where subscribers.subscribed_at is not null
)

select * from final
