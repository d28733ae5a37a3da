{#- Every raw email.email_sends row (one campaign sent to one subscriber),
    renamed and cast, with the first contract rule it breaks
    (docs/raw_data_contract.md) as rejection_reason, null when clean. -#}
with

source as (
    select * from {{ source('email', 'email_sends') }}
),

campaigns as (
    select * from {{ ref('stg_email__email_campaigns') }}
),

subscribers as (
    {# A subscriber is known once any of its events is clean. #}
    select distinct subscriber_id
    from {{ ref('stg_email__email_subscriptions') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('campaign_id', dbt.type_bigint()) }} as campaign_id,
        {{ dbt.safe_cast('subscriber_id', dbt.type_bigint()) }} as subscriber_id,

        ---------- booleans (required: a null flag rejects the row)
        {{ dbt.safe_cast('delivered', dbt.type_boolean()) }} as is_delivered,
        {{ dbt.safe_cast('opened', dbt.type_boolean()) }} as is_opened,
        {{ dbt.safe_cast('clicked', dbt.type_boolean()) }} as is_clicked,

        ---------- timestamps
        {{ dbt.safe_cast('sent_at', dbt.type_timestamp()) }} as sent_at,
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('email.email_sends') }} as record_key,
        {{ raw_record_of('email.email_sends') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        *,
        case
            when campaign_id is null or subscriber_id is null then 'null_key'
            when
                is_delivered is null
                or is_opened is null
                or is_clicked is null
                or sent_at is null
                or loaded_at is null
                then 'null_required_value'
            when sent_at > loaded_at then 'future_timestamp'
        end as row_rejection_reason
    from renamed
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['campaign_id', 'subscriber_id']) }} as key_rank,
        {{ raw_row_id('email.email_sends', ['campaign_id', 'subscriber_id']) }} as raw_row_id
    from row_checks
),

checked as (
    select
        ranked.campaign_id,
        ranked.subscriber_id,
        ranked.is_delivered,
        ranked.is_opened,
        ranked.is_clicked,
        ranked.sent_at,
        ranked.loaded_at,
        ranked.raw_row_id,
        ranked.record_key,
        ranked.raw_record,
        case
            when ranked.row_rejection_reason is not null then ranked.row_rejection_reason
            when ranked.key_rank > 1 then 'duplicate_key'
            {# Rule 10: against the clean campaigns, then the clean subscribers. #}
            when campaigns.campaign_id is null then 'unknown_campaign'
            when subscribers.subscriber_id is null then 'unknown_subscriber'
        end as rejection_reason
    from ranked
    left join campaigns
        on ranked.campaign_id = campaigns.campaign_id
    left join subscribers
        on ranked.subscriber_id = subscribers.subscriber_id
),

decided as (
    {# Rule 10 rejections name the row they refer to (see audit.rejected_rows). #}
    select
        *,
        {{ rejected_reference_table('rejection_reason') }} as parent_source_table,
        {{ rejected_reference_key(
            'rejection_reason', {'unknown_campaign': 'campaign_id', 'unknown_subscriber': 'subscriber_id'}
        ) }} as parent_record_key
    from checked
),

final as (
    {# Only a rejected row keeps its raw text, for the audit (audit.rejected_rows):
       a staged row is its typed columns. #}
    select
        campaign_id,
        subscriber_id,
        is_delivered,
        is_opened,
        is_clicked,
        sent_at,
        loaded_at,
        raw_row_id,
        record_key,
        {{ raw_record_if_rejected() }} as raw_record,
        rejection_reason,
        parent_source_table,
        parent_record_key
    from decided
)

select * from final
