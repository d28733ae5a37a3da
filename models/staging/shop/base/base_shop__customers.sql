{#- Every raw shop.customers row, renamed and cast, with the first
    contract rule it breaks (docs/raw_data_contract.md) as rejection_reason,
    null when the row is clean. Never filters: one row out per raw row. -#}
with

source as (
    select * from {{ source('shop', 'customers') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('customer_id', dbt.type_bigint()) }} as customer_id,
        {{ dbt.safe_cast('referred_by_customer_id', dbt.type_bigint()) }} as referred_by_customer_id,

        ---------- strings
        {# The raw address stops here: only its hash and its validity go on. #}
        {{ hash_email('email') }} as email_hash,
        {{ dbt.safe_cast('country', dbt.type_string()) }} as country_code,
        {{ dbt.safe_cast('acquisition_channel', dbt.type_string()) }} as acquisition_channel,

        ---------- booleans
        {{ is_valid_email('email') }} as has_valid_email,

        ---------- timestamps
        {{ dbt.safe_cast('created_at', dbt.type_timestamp()) }} as created_at,
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('shop.customers') }} as record_key,
        {{ raw_record_of('shop.customers') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        *,
        case
            when customer_id is null then 'null_key'
            when
                email_hash is null
                or created_at is null
                or country_code is null
                or acquisition_channel is null
                or loaded_at is null
                then 'null_required_value'
            when not has_valid_email then 'invalid_email'
            when acquisition_channel not in {{ reference_values('acquisition_channel') }} then 'unknown_value'
            when created_at > loaded_at then 'future_timestamp'
        end as row_rejection_reason
    from renamed
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['customer_id']) }} as key_rank,
        {{ raw_row_id('shop.customers', ['customer_id']) }} as raw_row_id
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
        customer_id,
        referred_by_customer_id,
        email_hash,
        country_code,
        acquisition_channel,
        created_at,
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
