{% macro btyd_customer_summary(purchase_days, settings, calibration_end_column) %}
{#- CTEs ending in `calibration_summary`: one row per customer whose first
    purchase is on or before `settings.<calibration_end_column>`, with the
    BG/NBD summary of their calibration period (Fader, Hardie & Lee 2005,
    "Counting your customers the easy way"):

      x    repeat purchases: purchase days after the first one, up to the
           calibration end;
      t_x  time from the first purchase to the last one in the period;
      T    time from the first purchase to the calibration end (the age);

    t_x and T in the time unit of clv_model_settings (days, or days / 7 for
    weeks), and the Gamma-Gamma input: the mean revenue and margin of the
    repeat purchases (null when x = 0). `purchase_days` and `settings` are
    the names of CTEs over int_purchase_days_aggregated and
    clv_model_settings. -#}
calibration_days as (
    select
        {{ purchase_days }}.customer_id,
        {{ purchase_days }}.purchase_date,
        {{ purchase_days }}.revenue,
        {{ purchase_days }}.margin,
        {{ settings }}.{{ calibration_end_column }} as calibration_end,
        {{ settings }}.time_unit_days
    from {{ purchase_days }}
    cross join {{ settings }}
    where {{ purchase_days }}.purchase_date <= {{ settings }}.{{ calibration_end_column }}
),

calibration_days_numbered as (
    select
        *,
        min(purchase_date) over (partition by customer_id) as first_purchase_date
    from calibration_days
),

calibration_totals as (
    select
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
    group by 1, 2, 3, 4
),

calibration_summary as (
    select
        customer_id,
        first_purchase_date,
        last_purchase_date,
        calibration_end,
        cast(repeat_purchases as {{ dbt.type_bigint() }}) as x,
        cast({{ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') }} as {{ type_double() }})
        / time_unit_days as t_x,
        cast({{ dbt.datediff('first_purchase_date', 'calibration_end', 'day') }} as {{ type_double() }})
        / time_unit_days as T,
        cast(calibration_revenue as {{ type_double() }}) as calibration_revenue,
        cast(calibration_margin as {{ type_double() }}) as calibration_margin,
        cast(repeat_revenue as {{ type_double() }}) / nullif(repeat_purchases, 0) as mean_repeat_spend,
        cast(repeat_margin as {{ type_double() }}) / nullif(repeat_purchases, 0) as mean_repeat_margin
    from calibration_totals
)
{% endmacro %}
