{#- One row per customer with a purchase by the as_of_date: the BG/NBD and
    Gamma-Gamma predictions as int_customers_scored (the dbt Python model that
    scores them) returns them; the column types are set there, by
    clv.predictions.PREDICTION_SCHEMA. -#}
with

scored as (
    select * from {{ predictions_relation('int_customers_scored') }}
),

final as (
    select
        customer_id,
        x,
        t_x,
        {#- T: the papers' name for the age, as clv.btyd reads it. #}
        T,  -- noqa: CP02
        probability_alive,
        predicted_purchases_12m,
        expected_average_spend,
        expected_average_margin,
        predicted_clv_12m,
        predicted_clv_horizon,
        calibration_end,
        {#- Readable names for the papers' symbols (x, t_x, T above). -#}
        x as repeat_purchases,
        t_x as time_to_last_purchase,
        T as time_since_first_purchase  -- noqa: CP02
    from scored
)

select * from final
