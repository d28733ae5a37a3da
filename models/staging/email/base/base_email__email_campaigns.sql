{#- Every raw email.email_campaigns row, renamed and cast, with the first
    contract rule it breaks (docs/raw_data_contract.md) as
    rejection_reason, null when clean. -#}
with

source as (
    select * from {{ source('email', 'email_campaigns') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('campaign_id', dbt.type_bigint()) }} as campaign_id,

        ---------- strings
        {{ dbt.safe_cast('name', dbt.type_string()) }} as campaign_name,
        {{ dbt.safe_cast('purpose', dbt.type_string()) }} as campaign_purpose,

        ---------- timestamps
        {{ dbt.safe_cast('sent_at', dbt.type_timestamp()) }} as sent_at,
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('email.email_campaigns') }} as record_key,
        {{ raw_record_of('email.email_campaigns') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        *,
        case
            when campaign_id is null then 'null_key'
            when campaign_name is null or campaign_purpose is null or sent_at is null or loaded_at is null
                then 'null_required_value'
            when campaign_purpose not in {{ reference_values('campaign_purpose') }} then 'unknown_value'
            when sent_at > loaded_at then 'future_timestamp'
        end as row_rejection_reason
    from renamed
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['campaign_id']) }} as key_rank,
        {{ raw_row_id('email.email_campaigns', ['campaign_id']) }} as raw_row_id
    from row_checks
),

decided as (
    select
        *,
        case
            when row_rejection_reason is not null then row_rejection_reason
            when key_rank > 1 then 'duplicate_key'
        end as rejection_reason,
        {# No rule 10 here: these rejections never follow from another row's. #}
        cast(null as {{ dbt.type_string() }}) as parent_source_table,
        cast(null as {{ dbt.type_string() }}) as parent_record_key
    from ranked
),

final as (
    {# Only a rejected row keeps its raw text, for the audit (audit.rejected_rows):
       a staged row is its typed columns. #}
    select
        campaign_id,
        campaign_name,
        campaign_purpose,
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
