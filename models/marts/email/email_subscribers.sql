{#- One row per email subscriber: subscribe and unsubscribe dates, active
    months, the spend allocated to the emails they got, the revenue of the
    orders attributed to them and their net value. No email address, not
    even hashed. DECISIONLOG.md, "Value marts (email and loyalty)". -#}
with

subscribers as (
    select * from {{ ref('int_email_subscribers_valued') }}
),

final as (
    select
        subscriber_id,
        customer_id,
        signup_source,
        cast(emails_sent as bigint) as emails_sent,
        cast(emails_opened as bigint) as emails_opened,
        cast(emails_clicked as bigint) as emails_clicked,
        cast(attributed_orders as bigint) as attributed_orders,
        cast(active_months as {{ type_double() }}) as active_months,
        attributed_revenue,
        attributed_gross_margin,
        allocated_spend,
        net_value,
        is_active,
        is_customer,
        is_customer_from_email,
        cohort_month,
        cast(subscribed_at as date) as subscribed_date,
        cast(unsubscribed_at as date) as unsubscribed_date,
        subscribed_at,
        unsubscribed_at
    from subscribers
)

select * from final
