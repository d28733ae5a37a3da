{#- One row per loyalty member enrolled on or before the reporting period's
    as_of_date: `stg_loyalty__loyalty_members` cut at the end of the as-of
    date, the one place this source is cut (DECISIONLOG.md, "Reporting
    period"). -#}
with

members as (
    select * from {{ ref('stg_loyalty__loyalty_members') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        members.customer_id,
        members.loyalty_tier,
        members.enrolled_at,
        members.loaded_at
    from members
    cross join reporting_period
    where {{ is_known_at_as_of('members.enrolled_at') }}
)

select * from final
