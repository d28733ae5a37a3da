{#- One row per marketing spend entry of a month that starts on or before the
    reporting period's as_of_date: `stg_marketing__marketing_spend` cut at the
    end of the as-of date, the one place this source is cut (DECISIONLOG.md,
    "Reporting period"). -#}
with

marketing_spend as (
    select * from {{ ref('stg_marketing__marketing_spend') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        marketing_spend.channel,
        marketing_spend.spend_purpose,
        marketing_spend.currency_code,
        marketing_spend.rate_to_reporting_currency,
        marketing_spend.spend_amount_local,
        marketing_spend.spend_amount,
        marketing_spend.spend_month,
        marketing_spend.loaded_at
    from marketing_spend
    cross join reporting_period
    where {{ is_known_at_as_of('marketing_spend.spend_month') }}
)

select * from final
