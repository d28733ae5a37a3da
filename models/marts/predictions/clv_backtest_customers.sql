{#- One row per customer with a purchase by the backtest's calibration end:
    predicted against actual holdout purchases and spend, as
    int_customers_backtested (the dbt Python model that predicts them)
    returns them; the column types are set there, by
    clv.predictions.BACKTEST_SCHEMA. -#}
with

backtested as (
    select * from {{ predictions_relation('int_customers_backtested') }}
),

final as (
    select
        customer_id,
        x,
        t_x,
        {#- T: the papers' name for the age, as clv.btyd reads it. #}
        T,  -- noqa: CP02
        predicted_holdout_purchases,
        actual_holdout_purchases,
        predicted_holdout_spend,
        actual_holdout_spend,
        calibration_end,
        holdout_end,
        {#- Readable names for the papers' symbols (x, t_x, T above). -#}
        x as repeat_purchases,
        t_x as time_to_last_purchase,
        T as time_since_first_purchase  -- noqa: CP02
    from backtested
)

select * from final
