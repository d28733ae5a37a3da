with

base as (
    select * from {{ ref('base_shop__order_items') }}
),

final as (
    select
        ---------- ids
        order_id,
        line_number,

        ---------- strings
        sku,
        category,
        currency_code,

        ---------- numerics (reporting currency unless _local)
        quantity,
        unit_price_local,
        unit_cost_local,
        unit_price,
        unit_cost,
        line_revenue,
        line_cost,

        ---------- timestamps
        loaded_at
    from base
    where rejection_reason is null
)

select * from final
