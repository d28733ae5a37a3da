{#- One row per order placed on or before the reporting period's as_of_date:
    `stg_shop__orders` cut at the end of the as-of date, the one place this
    source is cut (DECISIONLOG.md, "Reporting period"). -#}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

final as (
    select orders.*
    from orders
    cross join reporting_period
    where {{ is_known_at_as_of('orders.ordered_at') }}
)

select * from final
