with

base as (
    select * from {{ ref('base_shop__refunds') }}
),

final as (
    select
        ---------- ids
        refund_id,
        order_id,

        ---------- strings
        currency_code,

        ---------- numerics (reporting currency unless _local)
        refund_amount_local,
        refund_amount,

        ---------- timestamps
        refunded_at,
        loaded_at
    from base
    where rejection_reason is null
)

select * from final
