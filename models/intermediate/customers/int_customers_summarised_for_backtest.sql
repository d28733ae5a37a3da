{{ config(materialized='table') }}

{#- One row per customer with a purchase by the backtest's calibration end:
    the BG/NBD summary (x, t_x, T) and Gamma-Gamma input of the calibration
    period (int_customers_summarised_at_calibration_ends, fit role backtest),
    and what the customer actually did in the holdout period (calibration
    end, holdout end]: purchase days and revenue. Customers acquired in the
    holdout are not in the backtest, as in Fader, Hardie & Lee (2005). -#}
with

calibration_summaries as (
    select * from {{ ref('int_customers_summarised_at_calibration_ends') }}
),

purchase_days as (
    select * from {{ ref('int_purchase_days_aggregated') }}
),

settings as (
    select * from {{ ref('clv_model_settings') }}
),

calibration_summary as (
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
    where fit_role = 'backtest'
),

holdout_purchases as (
    select
        purchase_days.customer_id,
        count(*) as actual_holdout_purchases,
        sum(cast(purchase_days.revenue as {{ dbt.type_numeric() }})) as actual_holdout_spend
    from purchase_days
    cross join settings
    where
        purchase_days.purchase_date > settings.backtest_calibration_end
        and purchase_days.purchase_date <= settings.backtest_holdout_end
    group by 1
),

final as (
    select
        calibration_summary.*,
        settings.backtest_holdout_end as holdout_end,
        cast(coalesce(holdout_purchases.actual_holdout_purchases, 0) as {{ dbt.type_bigint() }})
            as actual_holdout_purchases,
        cast(coalesce(holdout_purchases.actual_holdout_spend, 0) as {{ type_double() }})
            as actual_holdout_spend
    from calibration_summary
    cross join settings
    left join holdout_purchases
        on calibration_summary.customer_id = holdout_purchases.customer_id
)

select * from final
