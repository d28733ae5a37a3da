{{ config(materialized='table') }}

{#- One row per customer with a purchase by the reporting period's as_of_date:
    the BG/NBD summary (x, t_x, T) and Gamma-Gamma input the predictions in
    customer_clv_predictions are fitted on (int_customers_summarised_at_calibration_ends,
    fit role prediction). -#}
with

calibration_summaries as (
    select * from {{ ref('int_customers_summarised_at_calibration_ends') }}
),

final as (
    select
        customer_id,
        first_purchase_date,
        last_purchase_date,
        calibration_end,
        x,
        t_x,
        {#- T: the papers' name for the age, as clv.btyd reads it. #}
        T,  -- noqa: CP02
        calibration_revenue,
        calibration_margin,
        mean_repeat_spend,
        mean_repeat_margin
    from calibration_summaries
    where fit_role = 'prediction'
)

select * from final
