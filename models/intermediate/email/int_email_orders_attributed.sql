{#- A table, not the folder's view: int_email_subscribers_valued and 10 data tests read it; as a
    view each would compute it again (at a million customers the tests re-ran it once per test). -#}
{{ config(materialized='table') }}

{#- One row per valid order attributed to email: utm_source = 'email' and
    placed within var('email_attribution_window_days') days after an email
    was delivered to a subscriber who is the order's customer. The order goes
    to the latest such send. DECISIONLOG.md, "Value marts (email and
    loyalty)". -#}
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

subscribers as (
    select * from {{ ref('int_email_subscribers_summarised') }}
),

sends as (
    select * from {{ ref('int_email_sends_costed') }}
),

email_orders as (
    select *
    from orders
    where utm_source = 'email'
),

candidate_sends as (
    select
        email_orders.order_id,
        email_orders.customer_id,
        sends.subscriber_id,
        sends.campaign_id,
        email_orders.revenue,
        email_orders.gross_margin,
        email_orders.ordered_at,
        sends.sent_at,
        row_number() over (
            partition by email_orders.order_id
            order by sends.sent_at desc, sends.subscriber_id asc, sends.campaign_id asc
        ) as send_rank
    from email_orders
    inner join subscribers
        on email_orders.customer_id = subscribers.customer_id
    inner join sends
        on
            subscribers.subscriber_id = sends.subscriber_id
            and sends.is_delivered
            and email_orders.ordered_at >= sends.sent_at
            and email_orders.ordered_at <= {{ dbt.dateadd(
                'day', var('email_attribution_window_days', 7), 'sends.sent_at'
            ) }}
),

final as (
    select
        order_id,
        customer_id,
        subscriber_id,
        campaign_id,
        revenue,
        gross_margin,
        ordered_at,
        sent_at
    from candidate_sends
    where send_rank = 1
)

select * from final
