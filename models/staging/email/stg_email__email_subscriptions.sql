with

base as (
    select * from {{ ref('base_email__email_subscriptions') }}
),

final as (
    select
        ---------- ids
        subscriber_id,
        customer_id,

        ---------- strings
        email_hash,
        event_type,
        signup_source,

        ---------- timestamps
        event_at,
        loaded_at,

        ---------- derived
        event_type = 'subscribe' as is_subscribe_event
    from base
    where rejection_reason is null
)

select * from final
