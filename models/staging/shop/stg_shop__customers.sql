with

base as (
    select * from {{ ref('base_shop__customers') }}
),

final as (
    select
        ---------- ids
        customer_id,
        referred_by_customer_id,

        ---------- strings
        email_hash,
        country_code,
        acquisition_channel,

        ---------- timestamps
        created_at,
        loaded_at
    from base
    where rejection_reason is null
)

select * from final
