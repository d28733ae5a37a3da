{#- The rolling-origin backtest of the probabilistic CLV models: one row per
    origin (a month end with backtest_min_calibration_months of purchases
    before it and a full holdout of backtest_holdout_months after it) and
    clock (calendar, seasonal), as int_clv_origins_backtested (the dbt Python
    model that fits them; clv.origins) returns them. The column types are set
    there, by clv.origins.ORIGIN_SCHEMA. -#}
with

origins_backtested as (
    select * from {{ predictions_relation('int_clv_origins_backtested') }}
),

final as (
    select
        calibration_end,
        holdout_end,
        clock,
        fit_status,
        customers,
        repeat_customers,
        predicted_purchases,
        actual_purchases,
        purchases_relative_error,
        predicted_spend,
        actual_spend,
        spend_relative_error,
        r,
        alpha,
        a,
        b,
        p,
        q,
        gamma,
        log_likelihood,
        seasonal_index_peak,
        seasonal_index_trough,
        time_unit
    from origins_backtested
)

select * from final
