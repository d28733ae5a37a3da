{#- A table, not the folder's view: int_email_orders_attributed and int_email_subscribers_valued and
    8 data tests read it; as a view each would compute it again (at a million customers the tests
    re-ran it once per test). -#}
{{ config(materialized='table') }}

{#- One row per email sent to a subscriber on or before the as_of_date, with
    its share of the email spend. A campaign's own costs (creative, list
    rental) are split equally over its sends; platform costs (no campaign)
    are split equally over all sends of the spend's month. DECISIONLOG.md,
    "Value marts (email and loyalty)". -#}
with

sends as (
    select * from {{ ref('int_email_sends_as_of') }}
),

spend as (
    select * from {{ ref('int_email_spend_as_of') }}
),

sends_in_period as (
    select
        sends.campaign_id,
        sends.subscriber_id,
        sends.is_delivered,
        sends.is_opened,
        sends.is_clicked,
        cast({{ dbt.date_trunc('month', 'sends.sent_at') }} as date) as sent_month,
        sends.sent_at
    from sends
),

spend_in_period as (
    select
        spend.campaign_id,
        spend.spend_amount,
        cast({{ dbt.date_trunc('month', 'spend.spend_date') }} as date) as spend_month
    from spend
),

campaign_spend as (
    select
        campaign_id,
        sum(spend_amount) as campaign_spend
    from spend_in_period
    where campaign_id is not null
    group by 1
),

platform_spend as (
    select
        spend_month,
        sum(spend_amount) as platform_spend
    from spend_in_period
    where campaign_id is null
    group by 1
),

sends_per_campaign as (
    select
        campaign_id,
        count(*) as campaign_sends
    from sends_in_period
    group by 1
),

sends_per_month as (
    select
        sent_month,
        count(*) as month_sends
    from sends_in_period
    group by 1
),

final as (
    select
        sends_in_period.campaign_id,
        sends_in_period.subscriber_id,
        cast(
            coalesce(campaign_spend.campaign_spend / sends_per_campaign.campaign_sends, 0)
            + coalesce(platform_spend.platform_spend / sends_per_month.month_sends, 0)
            as {{ type_double() }}
        ) as allocated_spend,
        sends_in_period.is_delivered,
        sends_in_period.is_opened,
        sends_in_period.is_clicked,
        sends_in_period.sent_month,
        sends_in_period.sent_at
    from sends_in_period
    inner join sends_per_campaign
        on sends_in_period.campaign_id = sends_per_campaign.campaign_id
    inner join sends_per_month
        on sends_in_period.sent_month = sends_per_month.sent_month
    left join campaign_spend
        on sends_in_period.campaign_id = campaign_spend.campaign_id
    left join platform_spend
        on sends_in_period.sent_month = platform_spend.spend_month
)

select * from final
