with

base as (
    select * from {{ ref('base_shop__orders') }}
),

final as (
    select
        ---------- ids
        order_id,
        customer_id,

        ---------- strings
        status,
        currency_code,
        utm_source,
        utm_campaign,

        ---------- numerics (reporting currency unless _local)
        rate_to_reporting_currency,
        order_total_local,
        order_total,
        discount_amount,
        shipping_amount,
        tax_amount,
        fulfillment_cost,

        ---------- booleans
        is_completed,
        is_cancelled,

        ---------- timestamps
        ordered_at,
        loaded_at
    from base
    where rejection_reason is null
)

select * from final
