{#- One row per cohort month and acquisition channel with customers: the
    acquisition spend of that month and channel (marketing_spend, purpose
    acquisition), allocated to the customers acquired then through it. Spend
    of a month and channel that acquired nobody stays unallocated. The email
    channel's spend already includes email_spend: it is not added again. -#}
with

customers as (
    select * from {{ ref('int_customers_assigned_to_cohorts') }}
),

marketing_spend as (
    select * from {{ ref('int_marketing_spend_as_of') }}
),

cohort_channels as (
    select
        cohort_month,
        acquisition_channel,
        count(*) as cohort_size
    from customers
    group by 1, 2
),

acquisition_spend as (
    select
        spend_month,
        channel,
        sum(spend_amount) as acquisition_spend
    from marketing_spend
    where spend_purpose = 'acquisition'
    group by 1, 2
),

final as (
    select
        cohort_channels.acquisition_channel,
        cohort_channels.cohort_size,
        cast(coalesce(acquisition_spend.acquisition_spend, 0) as {{ type_double() }}) as acquisition_spend,
        cohort_channels.cohort_month
    from cohort_channels
    left join acquisition_spend
        on
            cohort_channels.cohort_month = acquisition_spend.spend_month
            and cohort_channels.acquisition_channel = acquisition_spend.channel
)

select * from final
