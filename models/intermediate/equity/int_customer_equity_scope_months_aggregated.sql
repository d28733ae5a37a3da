{#- A table, not the folder's view: two models read it (int_customer_equity_months_aggregated for
    customer_equity_monthly, and customer_equity_monthly_by_scope), and as a view each would redo the
    customer-month windows and the year-earlier self-join. -#}
{{ config(materialized='table') }}

{#- One row per month of the all_months spine per scope: scope 'all' (every
    customer) and each country and acquisition channel. The inputs of the
    customer equity marts, computed once for all scopes: each customer-month
    of int_customer_months_spined is counted in three scopes (all, its
    customer's country, its acquisition channel), then every sum, window and
    lag runs per scope over the whole history, so scope 'all' is exactly the
    input of customer_equity_monthly and the incremental marts only read
    finished rows. Spend is scoped only where its source says where it went:
    acquisition spend by channel; no spend by country, no retention spend by
    channel (null there). Definitions: DECISIONLOG.md, "Customer equity" and
    "Customer equity by scope". -#}
with

customer_months as (
    select * from {{ ref('int_customer_months_spined') }}
),

customers as (
    select * from {{ ref('int_customers_as_of') }}
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
        acquisition_channel,
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

customer_transitions_with_year_earlier as (
    {#- Whether the customer was active at the end of month M − 12: null
        when the customer has no row then (not yet acquired, or the spine
        does not reach back). A customer on the spine at M − 12 is on it at M
        (the spine runs from the cohort month to the as_of_month). -#}
    select
        customer_transitions.*,
        earlier_months.is_active as was_active_year_earlier
    from customer_transitions
    left join customer_months as earlier_months
        on
            customer_transitions.customer_id = earlier_months.customer_id
            and customer_transitions.month = {{ dbt.dateadd('month', 12, 'earlier_months.month') }}
),

customer_scopes as (
    {#- Each customer in three scopes. A customer without a country lands in
        'unknown', never nowhere (staging rejects a null country today; this
        keeps the scopes adding up if that rule ever changes). -#}
    select
        customer_id,
        'all' as scope_type,
        'all' as scope_value
    from customers
    union all
    select
        customer_id,
        'country' as scope_type,
        coalesce(nullif(country_code, ''), 'unknown') as scope_value
    from customers
    union all
    select
        customer_id,
        'acquisition_channel' as scope_type,
        coalesce(nullif(acquisition_channel, ''), 'unknown') as scope_value
    from customers
),

scoped_customer_months as (
    select
        customer_transitions_with_year_earlier.*,
        customer_scopes.scope_type,
        customer_scopes.scope_value
    from customer_transitions_with_year_earlier
    inner join customer_scopes
        on customer_transitions_with_year_earlier.customer_id = customer_scopes.customer_id
),

movements_per_scope_month as (
    select
        scope_type,
        scope_value,
        month,
        sum(case when is_active then 1 else 0 end) as customers_active,
        sum(case when month = cohort_month then 1 else 0 end) as customers_acquired,
        sum(case when is_active and not was_active and month != cohort_month then 1 else 0 end)
            as customers_reactivated,
        sum(case when is_lost then 1 else 0 end) as customers_lost,
        sum(gross_margin - fulfillment_cost) as margin_after_cost_to_serve,
        {#- Null when no customer of the scope has a row twelve months earlier. -#}
        sum(case when was_active_year_earlier then 1 when was_active_year_earlier is not null then 0 end)
            as customers_active_year_earlier,
        sum(
            case
                when was_active_year_earlier and is_active then 1
                when was_active_year_earlier is not null then 0
            end
        ) as customers_still_active
    from scoped_customer_months
    group by 1, 2, 3
),

spend_per_scope_month as (
    select
        spend_month,
        'all' as scope_type,
        'all' as scope_value,
        sum(case when spend_purpose = 'acquisition' then spend_amount else 0 end) as acquisition_spend,
        sum(case when spend_purpose = 'retention' then spend_amount else 0 end) as retention_spend
    from marketing_spend
    group by 1, 2, 3
    union all
    select
        spend_month,
        'acquisition_channel' as scope_type,
        channel as scope_value,
        sum(case when spend_purpose = 'acquisition' then spend_amount else 0 end) as acquisition_spend,
        sum(case when spend_purpose = 'retention' then spend_amount else 0 end) as retention_spend
    from marketing_spend
    group by 1, 2, 3
),

scopes as (
    {#- Every scope with a customer or with spend, and 'all' even without
        either: each gets every month of the spine. -#}
    select
        'all' as scope_type,
        'all' as scope_value
    union
    select
        scope_type,
        scope_value
    from movements_per_scope_month
    union
    select
        scope_type,
        scope_value
    from spend_per_scope_month
),

monthly as (
    select
        scopes.scope_type,
        scopes.scope_value,
        all_months.month,
        movements_per_scope_month.customers_active_year_earlier,
        movements_per_scope_month.customers_still_active,
        coalesce(movements_per_scope_month.customers_active, 0) as customers_end,
        coalesce(movements_per_scope_month.customers_acquired, 0) as customers_acquired,
        coalesce(movements_per_scope_month.customers_reactivated, 0) as customers_reactivated,
        coalesce(movements_per_scope_month.customers_lost, 0) as customers_lost,
        coalesce(movements_per_scope_month.margin_after_cost_to_serve, 0) as margin_after_cost_to_serve,
        {#- Spend has a channel and a purpose, no country; retention spend's
            channel is the medium that reached existing customers of every
            acquisition channel, not the channel that acquired them. -#}
        case
            when scopes.scope_type in ('all', 'acquisition_channel')
                then coalesce(spend_per_scope_month.acquisition_spend, 0)
        end as acquisition_spend,
        case
            when scopes.scope_type = 'all'
                then coalesce(spend_per_scope_month.retention_spend, 0)
        end as retention_spend
    from scopes
    cross join all_months
    left join movements_per_scope_month
        on
            scopes.scope_type = movements_per_scope_month.scope_type
            and scopes.scope_value = movements_per_scope_month.scope_value
            and all_months.month = movements_per_scope_month.month
    left join spend_per_scope_month
        on
            scopes.scope_type = spend_per_scope_month.scope_type
            and scopes.scope_value = spend_per_scope_month.scope_value
            and all_months.month = spend_per_scope_month.spend_month
),

trailing_windows as (
    select
        *,
        lag(customers_end, 1, 0) over (partition by scope_type, scope_value order by month) as customers_start,
        sum(margin_after_cost_to_serve) over (
            partition by scope_type, scope_value
            order by month rows between 11 preceding and current row
        ) as margin_trailing_12_months,
        avg(cast(customers_end as {{ type_double() }})) over (
            partition by scope_type, scope_value
            order by month rows between 11 preceding and current row
        ) as average_customers_trailing_12_months,
        count(*) over (
            partition by scope_type, scope_value
            order by month rows between 11 preceding and current row
        ) as months_in_window
    from monthly
),

final as (
    select
        scope_type,
        scope_value,
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
