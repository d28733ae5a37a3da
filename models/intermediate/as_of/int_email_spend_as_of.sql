{#- One row per email spend entry dated on or before the reporting period's
    as_of_date: `stg_email__email_spend` cut at the end of the as-of date, the
    one place this source is cut (DECISIONLOG.md, "Reporting period"). -#}
with

spend as (
    select * from {{ ref('stg_email__email_spend') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        spend.campaign_id,
        spend.cost_type,
        spend.currency_code,
        spend.rate_to_reporting_currency,
        spend.spend_amount_local,
        spend.spend_amount,
        spend.spend_date,
        spend.loaded_at
    from spend
    cross join reporting_period
    where {{ is_known_at_as_of('spend.spend_date') }}
)

select * from final
