with

base as (
    select * from {{ ref('base_email__email_campaigns') }}
),

final as (
    select
        ---------- ids
        campaign_id,

        ---------- strings
        campaign_name,
        campaign_purpose,

        ---------- timestamps
        sent_at,
        loaded_at
    from base
    where rejection_reason is null
)

select * from final
