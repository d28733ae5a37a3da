{{ config(materialized='table') }}

{#- One row per customer with a purchase by the reporting period's as_of_date:
    the BG/NBD summary (x, t_x, T) and Gamma-Gamma input the predictions in
    customer_clv_predictions are fitted on (macro btyd_customer_summary). -#}
with

purchase_days as (
    select * from {{ ref('int_purchase_days_aggregated') }}
),

settings as (
    select * from {{ ref('clv_model_settings') }}
),

{{ btyd_customer_summary('purchase_days', 'settings', 'prediction_calibration_end') }},

final as (
    select * from calibration_summary
)

select * from final
