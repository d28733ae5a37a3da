{#- One row per NPS answer given on or before the reporting period's
    as_of_date: `stg_loyalty__nps_responses` cut at the end of the as-of date,
    the one place this source is cut (DECISIONLOG.md, "Reporting period"). -#}
with

nps_responses as (
    select * from {{ ref('stg_loyalty__nps_responses') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        nps_responses.response_id,
        nps_responses.customer_id,
        nps_responses.nps_score,
        nps_responses.responded_at,
        nps_responses.loaded_at
    from nps_responses
    cross join reporting_period
    where {{ is_known_at_as_of('nps_responses.responded_at') }}
)

select * from final
