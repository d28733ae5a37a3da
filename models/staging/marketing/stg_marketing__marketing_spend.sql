with

base as (
    select * from {{ ref('base_marketing__marketing_spend') }}
),

final as (
    select
        ---------- strings
        channel,
        spend_purpose,
        currency_code,

        ---------- numerics (reporting currency unless _local)
        rate_to_reporting_currency,
        spend_amount_local,
        spend_amount,

        ---------- dates
        spend_month,

        ---------- timestamps
        loaded_at
    from base
    where rejection_reason is null
)

select * from final
