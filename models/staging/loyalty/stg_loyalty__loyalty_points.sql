with

base as (
    select * from {{ ref('base_loyalty__loyalty_points') }}
),

final as (
    select
        ---------- ids
        entry_id,
        customer_id,
        order_id,

        ---------- strings
        entry_type,

        ---------- numerics
        points,
        points_delta,

        ---------- timestamps
        entry_at,
        loaded_at,

        ---------- derived
        points_balance_before + points_delta as points_balance
    from base
    where rejection_reason is null
)

select * from final
