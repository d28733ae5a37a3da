{#- Every raw marketing.marketing_spend row (one channel's spend for one
    purpose in one month), renamed, cast and converted to the reporting
    currency, with the first contract rule it breaks
    (docs/raw_data_contract.md) as rejection_reason, null when clean. -#}
with

source as (
    select * from {{ source('marketing', 'marketing_spend') }}
),

currency_rates as (
    select * from {{ ref('stg_reference__currency_rates') }}
),

renamed as (
    select
        ---------- strings
        {{ dbt.safe_cast('channel', dbt.type_string()) }} as channel,
        {{ dbt.safe_cast('purpose', dbt.type_string()) }} as spend_purpose,
        {{ dbt.safe_cast('currency', dbt.type_string()) }} as currency_code,

        ---------- numerics (spend currency)
        {{ dbt.safe_cast('amount', type_double()) }} as spend_amount_local,

        ---------- dates
        {{ dbt.safe_cast('spend_month', 'date') }} as spend_month,

        ---------- timestamps
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('marketing.marketing_spend') }} as record_key,
        {{ raw_record_of('marketing.marketing_spend') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        renamed.*,
        currency_rates.rate_to_reporting_currency,
        case
            when renamed.spend_month is null or renamed.channel is null or renamed.spend_purpose is null
                then 'null_key'
            when renamed.spend_amount_local is null or renamed.currency_code is null or renamed.loaded_at is null
                then 'null_required_value'
            when currency_rates.currency_code is null then 'unknown_currency'
            when
                renamed.channel not in {{ reference_values('acquisition_channel') }}
                or renamed.spend_purpose not in {{ reference_values('spend_purpose') }}
                then 'unknown_value'
            when renamed.spend_amount_local <= 0 then 'non_positive_amount'
            when {{ dbt.safe_cast('renamed.spend_month', dbt.type_timestamp()) }} > renamed.loaded_at
                then 'future_timestamp'
        end as row_rejection_reason
    from renamed
    left join currency_rates
        on renamed.currency_code = currency_rates.currency_code
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['spend_month', 'channel', 'spend_purpose']) }} as key_rank,
        {{ raw_row_id('marketing.marketing_spend', ['spend_month', 'channel', 'spend_purpose']) }} as raw_row_id
    from row_checks
),

decided as (
    select
        *,
        spend_amount_local * rate_to_reporting_currency as spend_amount,
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
        channel,
        spend_purpose,
        currency_code,
        rate_to_reporting_currency,
        spend_amount_local,
        spend_month,
        loaded_at,
        raw_row_id,
        record_key,
        {{ raw_record_if_rejected() }} as raw_record,
        spend_amount,
        rejection_reason,
        parent_source_table,
        parent_record_key
    from decided
)

select * from final
