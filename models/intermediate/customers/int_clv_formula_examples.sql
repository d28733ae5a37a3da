{#- One row per worked example of docs/formulas.md, computed by the macros
    of macros/clv_formulas.sql, so that every build re-checks them (unit
    tests pin the results). The examples are constants; reporting_period only
    anchors the model in the DAG. -#}
with

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

examples as (
    select
        'small_firms' as example_name,
        {{ round_to(discounted_clv(10, 200, 0.41, 20, 0.02, 0.8, 0.1, 5), 2) }}
            as example_value,
        699.28 as documented_value
    union all
    select
        'large_firms' as example_name,
        {{ round_to(discounted_clv(3, 400, 0.5, 20, 0.04, 0.8, 0.1, 5), 2) }}
            as example_value,
        731.98 as documented_value
    union all
    select
        'subscription_box' as example_name,
        {{ round_to(textbook_clv(10, 12, 3, 0), 2) }} as example_value,
        360 as documented_value
    union all
    select
        'subscription_box_average_customer' as example_name,
        {{ round_to(textbook_clv(78, 12, 5, 0), 2) }} as example_value,
        4680 as documented_value
    union all
    select
        'coaching_base_value' as example_name,
        {{ round_to(textbook_clv(150, 24, 5, 0), 2) }} as example_value,
        18000 as documented_value
    union all
    select
        'coaching_referrals' as example_name,
        {{ round_to(referral_value(18000, 4, 0.5), 2) }} as example_value,
        36000 as documented_value
),

final as (
    select
        examples.example_name,
        examples.example_value,
        cast(examples.documented_value as {{ type_double() }}) as documented_value,
        reporting_period.as_of_date
    from examples
    cross join reporting_period
)

select * from final
