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
    select * from {{ ref('int_referrals_as_of') }}
),

loyalty_members as (
    select * from {{ ref('int_loyalty_members_as_of') }}
),

nps_responses as (
    select * from {{ ref('int_nps_responses_as_of') }}
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

referral_program as (
    select
        cast(sum(case when is_converted then 1 else 0 end) as {{ type_double() }})
        / nullif(count(*), 0) as referral_conversion_rate
    from referrals
),

referrals_made as (
    select
        referrer_customer_id as customer_id,
        count(*) as referrals_count,
        sum(case when is_converted then 1 else 0 end) as converted_referrals_count
    from referrals
    group by 1
),

referred_pairs as (
    select distinct
        referrer_customer_id,
        referred_customer_id
    from referrals
    where is_converted and referred_customer_id is not null
),

referred_customer_ids as (
    select distinct referred_customer_id
    from referred_pairs
),

referred_customers as (
    {#- The base CLV of a referral: what a referred customer has been worth
        so far (historical CLV; 0 for one without a valid order yet), on
        average over the converted referred customers (one referred twice
        counts once). DECISIONLOG.md, "Value marts (orders side)". -#}
    select avg(coalesce(referred.gross_margin - referred.fulfillment_cost, 0)) as referred_customer_clv
    from referred_customer_ids
    left join customers as referred
        on referred_customer_ids.referred_customer_id = referred.customer_id
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
        (customers.gross_margin - customers.fulfillment_cost) / customers.orders_count as average_order_margin,
        {#- Days from the first order's day to the end of the as-of date (the
            duration convention, DECISIONLOG.md "Reporting period"). -#}
        customers.orders_count / greatest(
            {{ dbt.datediff('customers.first_order_at', as_of_end(), 'day') }}
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
        {{ textbook_clv(
            'customer_facts.average_order_margin',
            'customer_facts.purchases_per_year',
            'expected_lifespan.expected_lifespan_years',
            'customer_facts.acquisition_cost'
        ) }} as simple_clv_margin,
        coalesce(referrals_made.referrals_count, 0) as referrals_count,
        coalesce(referrals_made.converted_referrals_count, 0) as converted_referrals_count,
        coalesce(referred_value.referral_value, 0) as referral_value,
        referral_program.referral_conversion_rate,
        referred_customers.referred_customer_clv,
        latest_nps.nps_score as latest_nps_score,
        members.customer_id is not null as is_loyalty_member,
        predictions.probability_alive,
        predictions.predicted_purchases_12m,
        predictions.predicted_clv_12m,
        percent_rank() over (order by customer_facts.historical_clv) as value_percent_rank
    from customer_facts
    cross join expected_lifespan
    cross join referral_program
    cross join referred_customers
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
        cast(simple_clv_margin as {{ type_double() }}) as simple_clv_margin,
        cast(average_order_margin as {{ type_double() }}) as average_order_margin,
        cast(referrals_count as {{ dbt.type_bigint() }}) as referrals_count,
        cast(converted_referrals_count as {{ dbt.type_bigint() }}) as converted_referrals_count,
        cast(referral_value as {{ type_double() }}) as referral_value,
        cast(
            {{ referral_value(
                'coalesce(referred_customer_clv, 0)', 'referrals_count', 'coalesce(referral_conversion_rate, 0)'
            ) }}
            as {{ type_double() }}
        ) as expected_referral_value,
        cast(referred_customer_clv as {{ type_double() }}) as referred_customer_clv,
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
