with

base as (
    select * from {{ ref('base_email__email_sends') }}
),

final as (
    select
        ---------- ids
        campaign_id,
        subscriber_id,

        ---------- booleans
        is_delivered,
        is_opened,
        is_clicked,

        ---------- timestamps
        sent_at,
        loaded_at
    from base
    where rejection_reason is null
)

select * from final
