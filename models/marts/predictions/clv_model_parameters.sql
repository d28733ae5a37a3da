{#- The fitted parameters of the probabilistic CLV models, one row per fit
    role, model and parameter, as int_clv_models_fitted (the dbt Python model
    that fits them) returns them; the column types are set there, by
    clv.predictions.PARAMETER_SCHEMA. -#}
with

fitted as (
    select * from {{ predictions_relation('int_clv_models_fitted') }}
),

final as (
    select
        fit_role,
        model,
        parameter,
        value,
        log_likelihood,
        n_customers,
        fit_status,
        calibration_end,
        time_unit,
        fitted_at,
        standard_error
    from fitted
)

select * from final
