{#- One row per month of the reporting period (all_months, so none is
    missing): loyalty members, points earned / redeemed / expired, the
    trailing-12-month redemption rate and the Net Promoter Score of the
    month's survey answers (macros/loyalty_formulas.sql). DECISIONLOG.md,
    "Value marts (email and loyalty)". -#}
with

all_months as (
    select * from {{ ref('all_months') }}
),

reporting_period as (
    select * from {{ ref('reporting_period') }}
),

members as (
    select * from {{ ref('int_loyalty_members_as_of') }}
),

points as (
    select * from {{ ref('int_loyalty_points_as_of') }}
),

nps_responses as (
    select * from {{ ref('int_nps_responses_as_of') }}
),

new_members_per_month as (
    {#- A member who enrolled before the first month counts from it on. -#}
    select
        case
            when cast({{ dbt.date_trunc('month', 'members.enrolled_at') }} as date) < reporting_period.first_month
                then reporting_period.first_month
            else cast({{ dbt.date_trunc('month', 'members.enrolled_at') }} as date)
        end as month,
        count(*) as new_members
    from members
    cross join reporting_period
    group by 1
),

points_per_month as (
    select
        cast({{ dbt.date_trunc('month', 'entry_at') }} as date) as month,
        sum(case when entry_type = 'earn' then points else 0 end) as points_earned,
        sum(case when entry_type = 'redeem' then points else 0 end) as points_redeemed,
        sum(case when entry_type = 'expire' then points else 0 end) as points_expired
    from points
    group by 1
),

nps_per_month as (
    select
        cast({{ dbt.date_trunc('month', 'responded_at') }} as date) as month,
        count(*) as nps_responses,
        sum(case when {{ nps_category('nps_score') }} = 'promoter' then 1 else 0 end) as promoters,
        sum(case when {{ nps_category('nps_score') }} = 'passive' then 1 else 0 end) as passives,
        sum(case when {{ nps_category('nps_score') }} = 'detractor' then 1 else 0 end) as detractors
    from nps_responses
    group by 1
),

months_joined as (
    select
        all_months.month,
        coalesce(new_members_per_month.new_members, 0) as new_members,
        coalesce(points_per_month.points_earned, 0) as points_earned,
        coalesce(points_per_month.points_redeemed, 0) as points_redeemed,
        coalesce(points_per_month.points_expired, 0) as points_expired,
        coalesce(nps_per_month.nps_responses, 0) as nps_responses,
        coalesce(nps_per_month.promoters, 0) as promoters,
        coalesce(nps_per_month.passives, 0) as passives,
        coalesce(nps_per_month.detractors, 0) as detractors
    from all_months
    left join new_members_per_month
        on all_months.month = new_members_per_month.month
    left join points_per_month
        on all_months.month = points_per_month.month
    left join nps_per_month
        on all_months.month = nps_per_month.month
),

months_windowed as (
    {#- The spine has every month, so 11 preceding rows are 11 months. -#}
    select
        *,
        sum(new_members) over (order by month rows between unbounded preceding and current row) as members,
        sum(points_earned) over (order by month rows between 11 preceding and current row)
            as points_earned_trailing_12_months,
        sum(points_redeemed) over (order by month rows between 11 preceding and current row)
            as points_redeemed_trailing_12_months
    from months_joined
),

final as (
    select
        month,
        cast(members as bigint) as members,
        cast(new_members as bigint) as new_members,
        cast(points_earned as bigint) as points_earned,
        cast(points_redeemed as bigint) as points_redeemed,
        cast(points_expired as bigint) as points_expired,
        cast(points_earned_trailing_12_months as bigint) as points_earned_trailing_12_months,
        cast(points_redeemed_trailing_12_months as bigint) as points_redeemed_trailing_12_months,
        cast({{ points_redemption_rate(
            'points_redeemed_trailing_12_months', 'points_earned_trailing_12_months'
        ) }} as {{ type_double() }}) as redemption_rate,
        cast(nps_responses as bigint) as nps_responses,
        cast(promoters as bigint) as promoters,
        cast(passives as bigint) as passives,
        cast(detractors as bigint) as detractors,
        cast({{ net_promoter_score('promoters', 'detractors', 'nps_responses') }} as {{ type_double() }}) as nps,
        coalesce({{ points_redemption_rate(
            'points_redeemed_trailing_12_months', 'points_earned_trailing_12_months'
        ) }} < 0.2, false) as is_redemption_below_20pct
    from months_windowed
)

select * from final
