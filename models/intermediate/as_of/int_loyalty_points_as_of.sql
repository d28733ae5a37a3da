{#- One row per points ledger entry booked on or before the reporting period's
    as_of_date: `stg_loyalty__loyalty_points` cut at the end of the as-of
    date, the one place this source is cut (DECISIONLOG.md, "Reporting
    period"). -#}
with

points as (
    select * from {{ ref('stg_loyalty__loyalty_points') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select
        points.entry_id,
        points.customer_id,
        points.order_id,
        points.entry_type,
        points.points,
        points.points_delta,
        points.entry_at,
        points.loaded_at,
        points.points_balance
    from points
    cross join reporting_period
    where {{ is_known_at_as_of('points.entry_at') }}
)

select * from final
