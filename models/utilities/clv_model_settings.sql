{#- One row: the settings of the probabilistic CLV models (BG/NBD and
    Gamma-Gamma), so that the dbt Python models read them from the warehouse
    rather than from dbt's vars, and an analyst can see what a prediction
    was made with. Periods come from the reporting period unless the vars
    `calibration_end` / `holdout_end` pin them (README, "Probabilistic CLV");
    the rolling-origin backtest's from `backtest_min_calibration_months` and
    `backtest_holdout_months`. -#}
{%- set time_unit = var('clv_time_unit') -%}
{%- if time_unit not in ('day', 'week') -%}
    {{ exceptions.raise_compiler_error(
        "var clv_time_unit must be 'day' or 'week', got '" ~ time_unit ~ "'"
    ) }}
{%- endif -%}
{%- set on_fit_failure = var('clv_fit_failure') -%}
{%- if on_fit_failure not in ('error', 'warn') -%}
    {{ exceptions.raise_compiler_error(
        "var clv_fit_failure must be 'error' or 'warn', got '" ~ on_fit_failure ~ "'"
    ) }}
{%- endif -%}
{%- set clock = var('clv_clock') -%}
{%- if clock not in ('seasonal', 'calendar') -%}
    {{ exceptions.raise_compiler_error(
        "var clv_clock must be 'seasonal' or 'calendar', got '" ~ clock ~ "'"
    ) }}
{%- endif -%}
{%- for name in ('backtest_min_calibration_months', 'backtest_holdout_months') -%}
    {%- if var(name) is not integer or var(name) < 1 -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a whole number of months, at least 1, got '" ~ var(name) ~ "'"
        ) }}
    {%- endif -%}
{%- endfor -%}
with

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

periods as (
    select
        as_of_date as prediction_calibration_end,
        {% if var('calibration_end', none) -%}
            cast('{{ var("calibration_end") }}' as date)
        {%- else -%}
            cast({{ dbt.dateadd('year', -1, 'as_of_date') }} as date)
        {%- endif %} as backtest_calibration_end,
        {% if var('holdout_end', none) -%}
            cast('{{ var("holdout_end") }}' as date)
        {%- else -%}
            as_of_date
        {%- endif %} as backtest_holdout_end
    from reporting_period
),

final as (
    select
        cast('{{ time_unit }}' as {{ dbt.type_string() }}) as time_unit,
        cast({{ 7 if time_unit == 'week' else 1 }} as integer) as time_unit_days,
        prediction_calibration_end,
        backtest_calibration_end,
        backtest_holdout_end,
        cast(
            {{ dbt.datediff('backtest_calibration_end', 'backtest_holdout_end', 'day') }}
            as {{ type_double() }}
        ) / {{ 7 if time_unit == 'week' else 1 }} as backtest_holdout_length,
        cast(12 as integer) as prediction_months,
        cast({{ var('clv_horizon_years') }} * 12 as integer) as horizon_months,
        cast({{ var('discount_rate') }} as {{ type_double() }}) as annual_discount_rate,
        cast('{{ on_fit_failure }}' as {{ dbt.type_string() }}) as on_fit_failure,
        cast({{ var('backtest_min_calibration_months') }} as integer) as backtest_min_calibration_months,
        cast({{ var('backtest_holdout_months') }} as integer) as backtest_holdout_months,
        cast('{{ clock }}' as {{ dbt.type_string() }}) as clock
    from periods
)

select * from final
