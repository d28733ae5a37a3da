{#- The day spine: every day from the first order's month to the reporting
    period's as_of_date. MetricFlow needs a time spine at day grain (or finer)
    besides all_months (dbt parse refuses a semantic layer without one).
    Numbers come from a cross join of digits (up to 100,000 days) so the spine
    needs no engine-specific series function, as all_months. -#}
with

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

digits as (
    {% for digit in range(10) -%}
        select {{ digit }} as digit
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

day_offsets as (
    select
        units.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_offset
    from digits as units
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands
),

final as (
    select
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'reporting_period.first_month') }} as date)
            as calendar_date
    from day_offsets
    cross join reporting_period
    where day_offsets.day_offset <= {{ dbt.datediff(
        'reporting_period.first_month', 'reporting_period.as_of_date', 'day'
    ) }}
)

select * from final
