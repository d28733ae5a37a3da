with

base as (
    select * from {{ ref('base_email__email_spend') }}
),

final as (
    select
        ---------- ids
        campaign_id,

        ---------- strings
        cost_type,
        currency_code,

        ---------- numerics (reporting currency unless _local)
        rate_to_reporting_currency,
        spend_amount_local,
        spend_amount,

        ---------- dates
        spend_date,

        ---------- timestamps
        loaded_at
    from base
    where rejection_reason is null
)

select * from final
