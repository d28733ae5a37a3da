{#- Every raw loyalty.nps_responses row, renamed and cast, with the first
    contract rule it breaks (docs/raw_data_contract.md) as
    rejection_reason, null when clean. -#}
with

source as (
    select * from {{ source('loyalty', 'nps_responses') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('response_id', dbt.type_bigint()) }} as response_id,
        {{ dbt.safe_cast('customer_id', dbt.type_bigint()) }} as customer_id,

        ---------- numerics
        {{ dbt.safe_cast('score', dbt.type_int()) }} as nps_score,

        ---------- timestamps
        {{ dbt.safe_cast('responded_at', dbt.type_timestamp()) }} as responded_at,
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('loyalty.nps_responses') }} as record_key,
        {{ raw_record_of('loyalty.nps_responses') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        *,
        case
            when response_id is null then 'null_key'
            when customer_id is null or responded_at is null or nps_score is null or loaded_at is null
                then 'null_required_value'
            when nps_score < 0 or nps_score > 10 then 'score_out_of_range'
            when responded_at > loaded_at then 'future_timestamp'
        end as row_rejection_reason
    from renamed
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['response_id']) }} as key_rank,
        {{ raw_row_id('loyalty.nps_responses', ['response_id']) }} as raw_row_id
    from row_checks
),

checked as (
    select
        ranked.response_id,
        ranked.customer_id,
        ranked.nps_score,
        ranked.responded_at,
        ranked.loaded_at,
        ranked.raw_row_id,
        ranked.record_key,
        ranked.raw_record,
        case
            when ranked.row_rejection_reason is not null then ranked.row_rejection_reason
            when ranked.key_rank > 1 then 'duplicate_key'
            {# Rules 10-11: against the clean customers. #}
            when customers.customer_id is null then 'unknown_customer'
            when ranked.responded_at < customers.created_at then 'before_customer_created'
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
        response_id,
        customer_id,
        nps_score,
        responded_at,
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
