{#- A table, not the folder's view: int_customers_summarised_for_backtest and
    int_customers_summarised_for_prediction and 15 data tests read it; as a view each would compute
    it again (at a million customers the tests re-ran it once per test). -#}
{{ config(materialized='table') }}

{#- One row per fit role (prediction, backtest) and customer whose first
    purchase is on or before that role's calibration end
    (clv_model_settings): the BG/NBD summary of the calibration period
    (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):

      x    repeat purchases: purchase days after the first one, up to the
           calibration end;
      t_x  time from the first purchase to the last one in the period;
      T    time from the first purchase to the calibration end (the age);

    t_x and T in the time unit of clv_model_settings (days, or days / 7 for
    weeks), and the Gamma-Gamma input: the mean revenue and margin of the
    repeat purchases (null when x = 0). int_customers_summarised_for_prediction
    and int_customers_summarised_for_backtest each keep one fit role. -#}
with

purchase_days as (
    select * from {{ ref('int_purchase_days_aggregated') }}
),

settings as (
    select * from {{ ref('clv_model_settings') }}
),

calibration_ends as (
    select
        cast('prediction' as {{ dbt.type_string() }}) as fit_role,
        prediction_calibration_end as calibration_end,
        time_unit_days
    from settings
    union all
    select
        cast('backtest' as {{ dbt.type_string() }}) as fit_role,
        backtest_calibration_end as calibration_end,
        time_unit_days
    from settings
),

calibration_days as (
    select
        calibration_ends.fit_role,
        purchase_days.customer_id,
        purchase_days.purchase_date,
        purchase_days.revenue,
        purchase_days.margin,
        calibration_ends.calibration_end,
        calibration_ends.time_unit_days
    from purchase_days
    inner join calibration_ends
        on purchase_days.purchase_date <= calibration_ends.calibration_end
),

calibration_days_numbered as (
    select
        *,
        min(purchase_date) over (partition by fit_role, customer_id) as first_purchase_date
    from calibration_days
),

calibration_totals as (
    select
        fit_role,
        customer_id,
        first_purchase_date,
        calibration_end,
        time_unit_days,
        count(*) - 1 as repeat_purchases,
        max(purchase_date) as last_purchase_date,
        {#- Exact decimal sums, so the fits get the same input on every run. -#}
        sum(cast(revenue as {{ dbt.type_numeric() }})) as calibration_revenue,
        sum(cast(margin as {{ dbt.type_numeric() }})) as calibration_margin,
        sum(
            case when purchase_date > first_purchase_date then cast(revenue as {{ dbt.type_numeric() }}) end
        ) as repeat_revenue,
        sum(
            case when purchase_date > first_purchase_date then cast(margin as {{ dbt.type_numeric() }}) end
        ) as repeat_margin
    from calibration_days_numbered
    group by 1, 2, 3, 4, 5
),

final as (
    select
        fit_role,
        customer_id,
        first_purchase_date,
        last_purchase_date,
        calibration_end,
        cast(repeat_purchases as {{ dbt.type_bigint() }}) as x,
        cast(
            {{ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') }} as {{ type_double() }}  -- noqa: LT05
        ) / time_unit_days as t_x,
        {#- T: the papers' name for the age, as clv.btyd reads it. #}
        cast(
            {{ dbt.datediff('first_purchase_date', 'calibration_end', 'day') }} as {{ type_double() }}  -- noqa: LT05
        ) / time_unit_days as T,  -- noqa: CP02
        cast(calibration_revenue as {{ type_double() }}) as calibration_revenue,
        cast(calibration_margin as {{ type_double() }}) as calibration_margin,
        cast(repeat_revenue as {{ type_double() }}) / nullif(repeat_purchases, 0) as mean_repeat_spend,
        cast(repeat_margin as {{ type_double() }}) / nullif(repeat_purchases, 0) as mean_repeat_margin
    from calibration_totals
)

select * from final
