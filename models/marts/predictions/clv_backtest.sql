{#- The holdout backtest of the probabilistic CLV models, summarised the way
    Fader, Hardie & Lee (2005, "Counting your customers the easy way",
    figure 4 / table of conditional expectations) report it: customers grouped
    by their calibration-period repeat purchases x (0, 1, ... 6, 7+), the
    mean predicted and actual holdout purchases per customer in each group,
    and a `total` row. Both models are fitted on the calibration period
    only (clv_model_parameters, fit_role = 'backtest'). -#}
with

backtest_customers as (
    select * from {{ predictions_relation('int_customers_backtested') }}
),

customers_grouped as (
    select
        predicted_holdout_purchases,
        actual_holdout_purchases,
        predicted_holdout_spend,
        actual_holdout_spend,
        case when x >= 7 then 7 else x end as frequency_group,
        abs(predicted_holdout_purchases - actual_holdout_purchases) as absolute_error
    from backtest_customers
),

groups as (
    select
        frequency_group,
        count(*) as customers,
        sum(predicted_holdout_purchases) as predicted_purchases,
        sum(actual_holdout_purchases) as actual_purchases,
        sum(predicted_holdout_spend) as predicted_spend,
        sum(actual_holdout_spend) as actual_spend,
        sum(absolute_error) as absolute_error
    from customers_grouped
    group by 1
),

total as (
    select
        8 as frequency_group,
        sum(customers) as customers,
        sum(predicted_purchases) as predicted_purchases,
        sum(actual_purchases) as actual_purchases,
        sum(predicted_spend) as predicted_spend,
        sum(actual_spend) as actual_spend,
        sum(absolute_error) as absolute_error
    from groups
    {#- No total row when no customer is in the backtest (an empty mart). #}
    having count(*) > 0
),

groups_and_total as (
    select * from groups
    union all
    select * from total
),

final as (
    select
        cast(
            case
                when frequency_group = 8 then 'total'
                when frequency_group = 7 then '7+'
                else cast(frequency_group as {{ dbt.type_string() }})
            end as {{ dbt.type_string() }}
        ) as calibration_frequency,
        cast(frequency_group as integer) as sort_order,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(predicted_purchases as {{ type_double() }}) as predicted_purchases,
        cast(actual_purchases as {{ dbt.type_bigint() }}) as actual_purchases,
        cast(predicted_purchases / customers as {{ type_double() }}) as mean_predicted_purchases,
        cast(actual_purchases as {{ type_double() }}) / customers as mean_actual_purchases,
        cast(predicted_spend as {{ type_double() }}) as predicted_spend,
        cast(actual_spend as {{ type_double() }}) as actual_spend,
        cast(absolute_error / customers as {{ type_double() }}) as mean_absolute_error,
        cast(
            absolute_error / nullif((select total.absolute_error from total), 0)
            as {{ type_double() }}
        ) as share_of_total_error
    from groups_and_total
)

select * from final
