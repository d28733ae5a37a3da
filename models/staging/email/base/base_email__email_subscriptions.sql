{#- Every raw email.email_subscriptions row (one subscribe or unsubscribe
    event), renamed and cast, with the first contract rule it breaks
    (docs/raw_data_contract.md) as rejection_reason, null when clean. -#}
with

source as (
    select * from {{ source('email', 'email_subscriptions') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('subscriber_id', dbt.type_bigint()) }} as subscriber_id,
        {{ dbt.safe_cast('customer_id', dbt.type_bigint()) }} as customer_id,

        ---------- strings
        {# The raw address stops here: only its hash and its validity go on. #}
        {{ hash_email('email') }} as email_hash,
        {{ dbt.safe_cast('event_type', dbt.type_string()) }} as event_type,
        {{ dbt.safe_cast('source', dbt.type_string()) }} as signup_source,

        ---------- booleans
        {{ is_valid_email('email') }} as has_valid_email,

        ---------- timestamps
        {{ dbt.safe_cast('event_at', dbt.type_timestamp()) }} as event_at,
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('email.email_subscriptions') }} as record_key,
        {{ raw_record_of('email.email_subscriptions') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. The key holds the event's type and time. #}
    select
        *,
        case
            when subscriber_id is null or event_type is null or event_at is null then 'null_key'
            when email_hash is null or signup_source is null or loaded_at is null then 'null_required_value'
            when not has_valid_email then 'invalid_email'
            when event_type not in {{ reference_values('subscription_event_type') }} then 'unknown_value'
            when event_at > loaded_at then 'future_timestamp'
        end as row_rejection_reason
    from renamed
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['subscriber_id', 'event_type', 'event_at']) }} as key_rank,
        {{ raw_row_id('email.email_subscriptions', ['subscriber_id', 'event_type', 'event_at']) }} as raw_row_id
    from row_checks
),

checked as (
    select
        ranked.subscriber_id,
        ranked.customer_id,
        ranked.email_hash,
        ranked.event_type,
        ranked.signup_source,
        ranked.event_at,
        ranked.loaded_at,
        ranked.raw_row_id,
        ranked.record_key,
        ranked.raw_record,
        case
            when ranked.row_rejection_reason is not null then ranked.row_rejection_reason
            when ranked.key_rank > 1 then 'duplicate_key'
            {# Rule 10: a customer_id, when given, must be a clean customer. #}
            when ranked.customer_id is not null and customers.customer_id is null then 'unknown_customer'
        end as rejection_reason
    from ranked
    left join customers
        on ranked.customer_id = customers.customer_id
),

decided as (
    {# Rule 10 rejections name the row they refer to (see audit.rejected_rows). #}
    select
        *,
        {{ rejected_reference_table('rejection_reason') }} as parent_source_table,
        {{ rejected_reference_key('rejection_reason', {'unknown_customer': 'customer_id'}) }} as parent_record_key
    from checked
),

final as (
    {# Only a rejected row keeps its raw text, for the audit (audit.rejected_rows):
       a staged row is its typed columns. #}
    select
        subscriber_id,
        customer_id,
        email_hash,
        event_type,
        signup_source,
        event_at,
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
