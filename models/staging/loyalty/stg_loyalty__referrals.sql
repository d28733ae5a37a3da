with

base as (
    select * from {{ ref('base_loyalty__referrals') }}
),

final as (
    select
        ---------- ids
        referral_id,
        referrer_customer_id,
        referred_customer_id,

        ---------- strings
        referred_email_hash,

        ---------- timestamps
        referred_at,
        loaded_at,

        ---------- derived
        referred_customer_id is not null as is_converted
    from base
    where rejection_reason is null
)

select * from final
