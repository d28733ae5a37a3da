{#- The business events the dashboard marks on its time charts, from the
    seed business_events (seeds/business_events.csv): one row per event,
    with its month. A mart reads the seed itself: the seed is a calendar
    the team edits by hand, not a source with load times, so it has no
    staging model and no as-of cut (the dashboard keeps the events inside
    the months it draws). -#}
with

business_events as (
    select * from {{ ref('business_events') }}
),

final as (
    select
        {{ dbt.safe_cast('event_kind', dbt.type_string()) }} as event_kind,
        {{ dbt.safe_cast('event_label', dbt.type_string()) }} as event_label,
        cast({{ dbt.date_trunc('month', 'cast(event_date as date)') }} as date) as event_month,
        cast(event_date as date) as event_date
    from business_events
)

select * from final
