{#- One row per month of the all_months spine: the inputs of the customer
    equity mart. Customer movements come from int_customer_months_spined
    (active at a month's end = a valid order within active_window_days), the
    trailing-12-month retention and margin from the same rows, spend from
    stg_marketing__marketing_spend by purpose. Every window and lag lives here,
    over the whole history, so the incremental mart only reads finished rows.
    Definitions: DECISIONLOG.md, "Customer equity". -#}
with

customer_months as (
    select * from {{ ref('int_customer_months_spined') }}
),

marketing_spend as (
    select * from {{ ref('int_marketing_spend_as_of') }}
),

all_months as (
    select * from {{ ref('all_months') }}
),

customer_transitions as (
    select
        customer_id,
        month,
        cohort_month,
        is_active,
        is_lost,
        gross_margin,
        fulfillment_cost,
        coalesce(
            lag(is_active) over (partition by customer_id order by month),
            false
        ) as was_active
    from customer_months
),

movements_per_month as (
    select
        month,
        sum(case when is_active then 1 else 0 end) as customers_active,
        sum(case when month = cohort_month then 1 else 0 end) as customers_acquired,
        sum(case when is_active and not was_active and month != cohort_month then 1 else 0 end)
            as customers_reactivated,
        sum(case when is_lost then 1 else 0 end) as customers_lost,
        sum(gross_margin - fulfillment_cost) as margin_after_cost_to_serve
    from customer_transitions
    group by 1
),

retention_per_month as (
    {#- Customers active at the end of month M − 12 and whether they still
        are at the end of month M. A customer on the spine at M − 12 is on it
        at M (the spine runs from the cohort month to the as_of_month). -#}
    select
        current_months.month,
        sum(case when earlier_months.is_active then 1 else 0 end) as customers_active_year_earlier,
        sum(case when earlier_months.is_active and current_months.is_active then 1 else 0 end)
            as customers_still_active
    from customer_months as current_months
    inner join customer_months as earlier_months
        on
            current_months.customer_id = earlier_months.customer_id
            and current_months.month = {{ dbt.dateadd('month', 12, 'earlier_months.month') }}
    group by 1
),

spend_per_month as (
    select
        spend_month,
        sum(case when spend_purpose = 'acquisition' then spend_amount else 0 end) as acquisition_spend,
        sum(case when spend_purpose = 'retention' then spend_amount else 0 end) as retention_spend
    from marketing_spend
    group by 1
),

monthly as (
    select
        all_months.month,
        retention_per_month.customers_active_year_earlier,
        retention_per_month.customers_still_active,
        coalesce(movements_per_month.customers_active, 0) as customers_end,
        coalesce(movements_per_month.customers_acquired, 0) as customers_acquired,
        coalesce(movements_per_month.customers_reactivated, 0) as customers_reactivated,
        coalesce(movements_per_month.customers_lost, 0) as customers_lost,
        coalesce(movements_per_month.margin_after_cost_to_serve, 0) as margin_after_cost_to_serve,
        coalesce(spend_per_month.acquisition_spend, 0) as acquisition_spend,
        coalesce(spend_per_month.retention_spend, 0) as retention_spend
    from all_months
    left join movements_per_month
        on all_months.month = movements_per_month.month
    left join retention_per_month
        on all_months.month = retention_per_month.month
    left join spend_per_month
        on all_months.month = spend_per_month.spend_month
),

trailing_windows as (
    select
        *,
        lag(customers_end, 1, 0) over (order by month) as customers_start,
        sum(margin_after_cost_to_serve) over (
            order by month rows between 11 preceding and current row
        ) as margin_trailing_12_months,
        avg(cast(customers_end as {{ type_double() }})) over (
            order by month rows between 11 preceding and current row
        ) as average_customers_trailing_12_months,
        count(*) over (
            order by month rows between 11 preceding and current row
        ) as months_in_window
    from monthly
),

final as (
    select
        month,
        cast(customers_start as bigint) as customers_start,
        cast(customers_acquired + customers_reactivated as bigint) as customers_new,
        cast(customers_acquired as bigint) as customers_acquired,
        cast(customers_reactivated as bigint) as customers_reactivated,
        cast(customers_lost as bigint) as customers_lost,
        cast(customers_start - customers_lost as bigint) as customers_retained,
        cast(customers_end as bigint) as customers_end,
        cast(customers_active_year_earlier as bigint) as customers_active_year_earlier,
        {#- Null until twelve months of history exist (no customer was active
            twelve months earlier): no fallback, so a young business shows no
            CLV rather than an invented one. -#}
        {{ round_to(
            'customers_still_active / nullif(cast(customers_active_year_earlier as ' ~ type_double() ~ '), 0)', 6
        ) }} as retention_rate_annual,
        case
            when months_in_window = 12
                then {{ round_to('margin_trailing_12_months / nullif(average_customers_trailing_12_months, 0)', 2) }}
        end as margin_per_customer_annual,
        {{ round_to('acquisition_spend', 2) }} as acquisition_spend,
        {{ round_to('retention_spend', 2) }} as retention_spend
    from trailing_windows
)

select * from final
