{#- A table, not the folder's view: email_subscribers and int_email_cohorts_summarised and 3 data
    tests read it; as a view each would compute it again (at a million customers the tests re-ran it
    once per test). -#}
{{ config(materialized='table') }}

{#- One row per email subscriber: their dates, the emails they got, the
    spend allocated to those emails and the orders attributed to them. -#}
with

subscribers as (
    select * from {{ ref('int_email_subscribers_summarised') }}
),

sends as (
    select * from {{ ref('int_email_sends_costed') }}
),

attributed_orders as (
    select * from {{ ref('int_email_orders_attributed') }}
),

sends_per_subscriber as (
    select
        subscriber_id,
        count(*) as emails_sent,
        sum(case when is_opened then 1 else 0 end) as emails_opened,
        sum(case when is_clicked then 1 else 0 end) as emails_clicked,
        sum(allocated_spend) as allocated_spend
    from sends
    group by 1
),

orders_per_subscriber as (
    select
        subscriber_id,
        count(*) as attributed_orders,
        sum(revenue) as attributed_revenue,
        sum(gross_margin) as attributed_gross_margin
    from attributed_orders
    group by 1
),

final as (
    select
        subscribers.subscriber_id,
        subscribers.customer_id,
        subscribers.signup_source,
        coalesce(sends_per_subscriber.emails_sent, 0) as emails_sent,
        coalesce(sends_per_subscriber.emails_opened, 0) as emails_opened,
        coalesce(sends_per_subscriber.emails_clicked, 0) as emails_clicked,
        coalesce(orders_per_subscriber.attributed_orders, 0) as attributed_orders,
        cast(coalesce(orders_per_subscriber.attributed_revenue, 0) as {{ type_double() }}) as attributed_revenue,
        cast(
            coalesce(orders_per_subscriber.attributed_gross_margin, 0) as {{ type_double() }}
        ) as attributed_gross_margin,
        cast(coalesce(sends_per_subscriber.allocated_spend, 0) as {{ type_double() }}) as allocated_spend,
        cast(
            coalesce(orders_per_subscriber.attributed_revenue, 0)
            - coalesce(sends_per_subscriber.allocated_spend, 0)
            as {{ type_double() }}
        ) as net_value,
        subscribers.active_months,
        subscribers.is_active,
        subscribers.customer_id is not null as is_customer,
        coalesce(orders_per_subscriber.attributed_orders, 0) > 0 as is_customer_from_email,
        subscribers.cohort_month,
        subscribers.subscribed_at,
        subscribers.unsubscribed_at
    from subscribers
    left join sends_per_subscriber
        on subscribers.subscriber_id = sends_per_subscriber.subscriber_id
    left join orders_per_subscriber
        on subscribers.subscriber_id = orders_per_subscriber.subscriber_id
)

select * from final
