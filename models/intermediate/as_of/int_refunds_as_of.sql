{#- One row per refund paid on or before the reporting period's as_of_date:
    `stg_shop__refunds` cut at the end of the as-of date, the one place this
    source is cut (DECISIONLOG.md, "Reporting period"). -#}
with

refunds as (
    select * from {{ ref('stg_shop__refunds') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        refunds.refund_id,
        refunds.order_id,
        refunds.currency_code,
        refunds.refund_amount_local,
        refunds.refund_amount,
        refunds.refunded_at,
        refunds.loaded_at
    from refunds
    cross join reporting_period
    where {{ is_known_at_as_of('refunds.refunded_at') }}
)

select * from final
