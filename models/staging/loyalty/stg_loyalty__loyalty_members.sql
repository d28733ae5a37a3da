with

base as (
    select * from {{ ref('base_loyalty__loyalty_members') }}
),

final as (
    select
        ---------- ids
        customer_id,

        ---------- strings
        loyalty_tier,

        ---------- timestamps
        enrolled_at,
        loaded_at
    from base
    where rejection_reason is null
)

select * from final
