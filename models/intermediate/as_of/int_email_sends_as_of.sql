{#- One row per email sent on or before the reporting period's as_of_date:
    `stg_email__email_sends` cut at the end of the as-of date, the one place
    this source is cut (DECISIONLOG.md, "Reporting period"). -#}
with

sends as (
    select * from {{ ref('stg_email__email_sends') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        sends.campaign_id,
        sends.subscriber_id,
        sends.is_delivered,
        sends.is_opened,
        sends.is_clicked,
        sends.sent_at,
        sends.loaded_at
    from sends
    cross join reporting_period
    where {{ is_known_at_as_of('sends.sent_at') }}
)

select * from final
