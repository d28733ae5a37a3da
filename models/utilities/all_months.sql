{#- The month spine: every month from the first order's month to the
    reporting period's as_of_month. Numbers come from a cross join of digits
    (up to 1,000 months) so the spine needs no engine-specific series
    function. -#}
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

month_offsets as (
    select units.digit + 10 * tens.digit + 100 * hundreds.digit as month_offset
    from digits as units
    cross join digits as tens
    cross join digits as hundreds
),

final as (
    select
        cast({{ dbt.dateadd('month', 'month_offsets.month_offset', 'reporting_period.first_month') }} as date)
            as month
    from month_offsets
    cross join reporting_period
    where month_offsets.month_offset <= {{ dbt.datediff(
        'reporting_period.first_month', 'reporting_period.as_of_month', 'month'
    ) }}
)

select * from final
