{#- One row per month of the reporting period: how many customers have
    ordered again, cumulatively and within the month. A repeat customer has
    at least two valid orders by the month's end; a returning customer orders
    in the month after a first valid order in an earlier month. See
    DECISIONLOG.md, "Value marts (orders side)". -#}
with

customers as (
    select * from {{ ref('int_customers_assigned_to_cohorts') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

all_months as (
    select * from {{ ref('all_months') }}
),

new_customers_per_month as (
    select
        cohort_month as month,
        count(*) as new_customers
    from customers
    group by 1
),

new_repeat_customers_per_month as (
    select
        cast({{ dbt.date_trunc('month', 'second_order_at') }} as date) as month,
        count(*) as new_repeat_customers
    from customers
    where second_order_at is not null
    group by 1
),

customers_ordering_per_month as (
    select
        orders.order_month as month,
        count(distinct orders.customer_id) as customers_ordering,
        count(distinct case
            when customers.cohort_month < orders.order_month then orders.customer_id
        end) as returning_customers_ordering
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
    group by 1
),

monthly as (
    select
        all_months.month,
        coalesce(new_customers_per_month.new_customers, 0) as new_customers,
        coalesce(new_repeat_customers_per_month.new_repeat_customers, 0) as new_repeat_customers,
        coalesce(customers_ordering_per_month.customers_ordering, 0) as customers_ordering,
        coalesce(customers_ordering_per_month.returning_customers_ordering, 0) as returning_customers_ordering
    from all_months
    left join new_customers_per_month
        on all_months.month = new_customers_per_month.month
    left join new_repeat_customers_per_month
        on all_months.month = new_repeat_customers_per_month.month
    left join customers_ordering_per_month
        on all_months.month = customers_ordering_per_month.month
),

cumulated as (
    select
        month,
        new_customers,
        customers_ordering,
        returning_customers_ordering,
        sum(new_customers) over (
            order by month rows between unbounded preceding and current row
        ) as customers_to_date,
        sum(new_repeat_customers) over (
            order by month rows between unbounded preceding and current row
        ) as repeat_customers_to_date
    from monthly
),

final as (
    select
        cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
        cast(customers_to_date as {{ dbt.type_bigint() }}) as customers_to_date,
        cast(repeat_customers_to_date as {{ dbt.type_bigint() }}) as repeat_customers_to_date,
        cast(repeat_customers_to_date as {{ type_double() }}) / nullif(customers_to_date, 0)
            as repeat_customer_rate,
        cast(customers_ordering as {{ dbt.type_bigint() }}) as customers_ordering,
        cast(returning_customers_ordering as {{ dbt.type_bigint() }}) as returning_customers_ordering,
        cast(returning_customers_ordering as {{ type_double() }}) / nullif(customers_ordering, 0)
            as period_repeat_rate,
        month
    from cumulated
)

select * from final
