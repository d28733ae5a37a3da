{#- One row per customer with at least one valid order by the reporting
    period's as_of_date: value to date, the textbook CLV, referral value,
    loyalty facts and a value segment. Formulas from macros/clv_formulas.sql
    (docs/formulas.md); definitions in DECISIONLOG.md, "Value marts (orders
    side)". -#}
with

customers as (
    select * from {{ ref('int_customers_assigned_to_cohorts') }}
),

cohort_months as (
    select * from {{ ref('int_cohort_months_aggregated') }}
),

acquisition_spend as (
    select * from {{ ref('int_cohorts_acquisition_spend') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

referrals as (
    select * from {{ ref('stg_loyalty__referrals') }}
),

loyalty_members as (
    select * from {{ ref('stg_loyalty__loyalty_members') }}
),

nps_responses as (
    select * from {{ ref('stg_loyalty__nps_responses') }}
),

predictions as (
    select * from {{ ref('int_customers_predicted') }}
),

annual_retention as (
    {# Annual retention from the cohorts: of the customers of every cohort
       that is at least twelve months old, the share still active twelve
       months after acquisition. #}
    select cast(sum(active_customers) as {{ type_double() }}) / nullif(sum(cohort_size), 0) as annual_retention_rate
    from cohort_months
    where months_since_acquisition = 12
),

expected_lifespan as (
    select
        annual_retention_rate,
        {{ expected_lifespan_years('annual_retention_rate', var('clv_horizon_years')) }} as expected_lifespan_years
    from annual_retention
),

referrals_to_date as (
    select referrals.*
    from referrals
    cross join reporting_period
    where referrals.referred_at < {{ dbt.dateadd('day', 1, 'reporting_period.as_of_date') }}
),

referral_program as (
    select
        cast(sum(case when is_converted then 1 else 0 end) as {{ type_double() }})
        / nullif(count(*), 0) as referral_conversion_rate
    from referrals_to_date
),

referrals_made as (
    select
        referrer_customer_id as customer_id,
        count(*) as referrals_count,
        sum(case when is_converted then 1 else 0 end) as converted_referrals_count
    from referrals_to_date
    group by 1
),

referred_pairs as (
    select distinct
        referrer_customer_id,
        referred_customer_id
    from referrals_to_date
    where is_converted and referred_customer_id is not null
),

referred_value as (
    select
        referred_pairs.referrer_customer_id as customer_id,
        sum(referred.gross_margin - referred.fulfillment_cost) as referral_value
    from referred_pairs
    inner join customers as referred
        on referred_pairs.referred_customer_id = referred.customer_id
    group by 1
),

latest_nps as (
    select
        customer_id,
        nps_score,
        row_number() over (partition by customer_id order by responded_at desc, response_id desc) as response_rank
    from nps_responses
),

members as (
    select distinct customer_id
    from loyalty_members
),

customer_facts as (
    select
        customers.customer_id,
        customers.acquisition_channel,
        customers.orders_count,
        customers.categories_purchased,
        customers.revenue,
        customers.gross_margin,
        customers.gross_margin - customers.fulfillment_cost as historical_clv,
        customers.revenue / customers.orders_count as average_order_value,
        customers.orders_count / greatest(
            {{ dbt.datediff('cast(customers.first_order_at as date)', 'reporting_period.as_of_date', 'day') }}
            / cast(365.25 as {{ type_double() }}),
            1
        ) as purchases_per_year,
        {{ dbt.datediff('cast(customers.first_order_at as date)', 'cast(customers.last_order_at as date)', 'day') }}
        / cast(365.25 as {{ type_double() }}) as lifespan_years,
        coalesce(acquisition_spend.acquisition_spend / acquisition_spend.cohort_size, 0) as acquisition_cost,
        customers.cohort_month,
        customers.first_order_at,
        customers.last_order_at
    from customers
    cross join reporting_period
    left join acquisition_spend
        on
            customers.cohort_month = acquisition_spend.cohort_month
            and customers.acquisition_channel = acquisition_spend.acquisition_channel
),

valued as (
    select
        customer_facts.*,
        expected_lifespan.expected_lifespan_years,
        {{ textbook_clv(
            'customer_facts.average_order_value',
            'customer_facts.purchases_per_year',
            'expected_lifespan.expected_lifespan_years',
            'customer_facts.acquisition_cost'
        ) }} as simple_clv,
        coalesce(referrals_made.referrals_count, 0) as referrals_count,
        coalesce(referrals_made.converted_referrals_count, 0) as converted_referrals_count,
        coalesce(referred_value.referral_value, 0) as referral_value,
        referral_program.referral_conversion_rate,
        latest_nps.nps_score as latest_nps_score,
        members.customer_id is not null as is_loyalty_member,
        predictions.probability_alive,
        predictions.predicted_purchases_12m,
        predictions.predicted_clv_12m,
        percent_rank() over (order by customer_facts.historical_clv) as value_percent_rank
    from customer_facts
    cross join expected_lifespan
    cross join referral_program
    left join referrals_made
        on customer_facts.customer_id = referrals_made.customer_id
    left join referred_value
        on customer_facts.customer_id = referred_value.customer_id
    left join latest_nps
        on
            customer_facts.customer_id = latest_nps.customer_id
            and latest_nps.response_rank = 1
    left join members
        on customer_facts.customer_id = members.customer_id
    left join predictions
        on customer_facts.customer_id = predictions.customer_id
),

final as (
    select
        customer_id,
        cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast(
            case
                when value_percent_rank >= {{ var('value_segment_high_quantile') }} then 'high'
                when value_percent_rank < {{ var('value_segment_low_quantile') }} then 'low'
                else 'medium'
            end as {{ dbt.type_string() }}
        ) as value_segment,
        cast(orders_count as {{ dbt.type_bigint() }}) as orders_count,
        cast(categories_purchased as {{ dbt.type_bigint() }}) as categories_purchased,
        cast(revenue as {{ type_double() }}) as revenue,
        cast(gross_margin as {{ type_double() }}) as gross_margin,
        cast(average_order_value as {{ type_double() }}) as average_order_value,
        cast(purchases_per_year as {{ type_double() }}) as purchases_per_year,
        cast(lifespan_years as {{ type_double() }}) as lifespan_years,
        cast(expected_lifespan_years as {{ type_double() }}) as expected_lifespan_years,
        cast(acquisition_cost as {{ type_double() }}) as acquisition_cost,
        cast(historical_clv as {{ type_double() }}) as historical_clv,
        cast(simple_clv as {{ type_double() }}) as simple_clv,
        cast(referrals_count as {{ dbt.type_bigint() }}) as referrals_count,
        cast(converted_referrals_count as {{ dbt.type_bigint() }}) as converted_referrals_count,
        cast(referral_value as {{ type_double() }}) as referral_value,
        cast(
            {{ referral_value('simple_clv', 'referrals_count', 'coalesce(referral_conversion_rate, 0)') }}
            as {{ type_double() }}
        ) as expected_referral_value,
        cast(latest_nps_score as {{ dbt.type_bigint() }}) as latest_nps_score,
        {#- BG/NBD + Gamma-Gamma (customer_clv_predictions); null where the
            target runs no Python models. -#}
        cast(probability_alive as {{ type_double() }}) as probability_alive,
        cast(predicted_purchases_12m as {{ type_double() }}) as predicted_purchases_12m,
        cast(predicted_clv_12m as {{ type_double() }}) as predicted_clv_12m,
        is_loyalty_member,
        cohort_month,
        first_order_at,
        last_order_at
    from valued
)

select * from final
