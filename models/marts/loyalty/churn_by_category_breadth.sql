{#- One row per category-breadth bucket (1, 2, 3, 4+ distinct product
    categories bought): customers, churned customers, churn rate, average
    orders and average lifetime gross margin, to test the cross-selling
    claim. All four buckets are always present. DECISIONLOG.md, "Value marts
    (email and loyalty)". -#}
with

customers as (
    select * from {{ ref('int_customers_categories_counted') }}
),

buckets as (
    select
        '1' as category_breadth,
        1 as min_categories
    union all
    select
        '2' as category_breadth,
        2 as min_categories
    union all
    select
        '3' as category_breadth,
        3 as min_categories
    union all
    select
        '4+' as category_breadth,
        4 as min_categories
),

customers_bucketed as (
    select
        case
            when categories_purchased >= 4 then '4+'
            else cast(categories_purchased as {{ dbt.type_string() }})
        end as category_breadth,
        valid_orders,
        gross_margin,
        is_churned
    from customers
    where categories_purchased >= 1
),

figures_per_bucket as (
    select
        category_breadth,
        count(*) as customers,
        sum(case when is_churned then 1 else 0 end) as churned_customers,
        avg(cast(valid_orders as {{ type_double() }})) as average_orders,
        avg(gross_margin) as average_margin
    from customers_bucketed
    group by 1
),

final as (
    select
        buckets.category_breadth,
        cast(buckets.min_categories as integer) as min_categories,
        cast(coalesce(figures_per_bucket.customers, 0) as bigint) as customers,
        cast(coalesce(figures_per_bucket.churned_customers, 0) as bigint) as churned_customers,
        cast(case
            when figures_per_bucket.customers > 0
                then cast(figures_per_bucket.churned_customers as {{ type_double() }}) / figures_per_bucket.customers
        end as {{ type_double() }}) as churn_rate,
        cast(figures_per_bucket.average_orders as {{ type_double() }}) as average_orders,
        cast(figures_per_bucket.average_margin as {{ type_double() }}) as average_margin
    from buckets
    left join figures_per_bucket
        on buckets.category_breadth = figures_per_bucket.category_breadth
)

select * from final
