{% test volume_does_not_drop(
    model,
    column_name,
    datepart='month',
    trailing_periods=3,
    min_ratio=0.5,
    min_trailing_rows=20
) %}
{#- Volume: the rows per period (column_name truncated to datepart) do not
    fall below min_ratio × the average rows of the trailing_periods periods
    with rows before it, and no period between the first and the last is
    empty. Fails with one row per period that fell short and one per gap (the
    period after one or more empty periods), so warn_if / error_if count
    periods. A period whose trailing average is below min_trailing_rows is
    not judged (too few rows to tell a drop or an empty month from noise),
    nor is the latest period's volume (it may still be loading). -#}
{%- if column_name is none -%}
    {{ exceptions.raise_compiler_error(
        "volume_does_not_drop on " ~ model ~ ": it is a column test; give it a date or timestamp column"
    ) }}
{%- endif -%}
{%- if trailing_periods is not integer or trailing_periods < 1 -%}
    {{ exceptions.raise_compiler_error(
        "volume_does_not_drop on " ~ model ~ ": trailing_periods must be a positive integer, got " ~ trailing_periods
    ) }}
{%- endif -%}
with

periods as (
    select
        {{ dbt.date_trunc(datepart, column_name) }} as period_start,
        count(*) as row_count
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ dbt.date_trunc(datepart, column_name) }}
),

windowed as (
    select
        period_start,
        row_count,
        lag(period_start) over (order by period_start) as previous_period_start,
        avg(1.0 * row_count) over (
            order by period_start
            rows between {{ trailing_periods }} preceding and 1 preceding
        ) as trailing_average,
        max(period_start) over () as latest_period_start
    from periods
),

judged as (
    select
        period_start,
        row_count,
        trailing_average,
        case
            when {{ dbt.datediff('previous_period_start', 'period_start', datepart) }} > 1
                then 'after empty periods'
            when period_start < latest_period_start
                and row_count < {{ min_ratio }} * trailing_average
                then 'below trailing average'
        end as problem
    from windowed
    where trailing_average >= {{ min_trailing_rows }}
),

validation_errors as (
    select * from judged
    where problem is not null
)

select * from validation_errors
{% endtest %}
