with

base as (
    select * from {{ ref('base_loyalty__nps_responses') }}
),

final as (
    select
        ---------- ids
        response_id,
        customer_id,

        ---------- numerics
        nps_score,

        ---------- timestamps
        responded_at,
        loaded_at
    from base
    where rejection_reason is null
)

select * from final
