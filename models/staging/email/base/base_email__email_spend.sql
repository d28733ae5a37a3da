{#- Every raw email.email_spend row, renamed, cast and converted to the
    reporting currency, with the first contract rule it breaks
    (docs/raw_data_contract.md) as rejection_reason, null when clean. A
    null campaign_id is a platform cost of no campaign and one value of the
    key. -#}
with

source as (
    select * from {{ source('email', 'email_spend') }}
),

currency_rates as (
    select * from {{ ref('stg_reference__currency_rates') }}
),

campaigns as (
    select * from {{ ref('stg_email__email_campaigns') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('campaign_id', dbt.type_bigint()) }} as campaign_id,

        ---------- strings
        {{ dbt.safe_cast('cost_type', dbt.type_string()) }} as cost_type,
        {{ dbt.safe_cast('currency', dbt.type_string()) }} as currency_code,

        ---------- numerics (spend currency)
        {{ dbt.safe_cast('amount', type_double()) }} as spend_amount_local,

        ---------- dates
        {{ dbt.safe_cast('spend_date', 'date') }} as spend_date,

        ---------- timestamps
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('email.email_spend') }} as record_key,
        {{ raw_record_of('email.email_spend') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        renamed.*,
        currency_rates.rate_to_reporting_currency,
        case
            when renamed.spend_date is null or renamed.cost_type is null then 'null_key'
            when renamed.spend_amount_local is null or renamed.currency_code is null or renamed.loaded_at is null
                then 'null_required_value'
            when currency_rates.currency_code is null then 'unknown_currency'
            when renamed.cost_type not in {{ reference_values('email_cost_type') }} then 'unknown_value'
            when renamed.spend_amount_local <= 0 then 'non_positive_amount'
            when {{ dbt.safe_cast('renamed.spend_date', dbt.type_timestamp()) }} > renamed.loaded_at
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
        {{ duplicate_rank(['spend_date', 'campaign_id', 'cost_type']) }} as key_rank,
        {{ raw_row_id('email.email_spend', ['spend_date', 'campaign_id', 'cost_type']) }} as raw_row_id
    from row_checks
),

checked as (
    select
        ranked.campaign_id,
        ranked.cost_type,
        ranked.currency_code,
        ranked.rate_to_reporting_currency,
        ranked.spend_amount_local,
        ranked.spend_amount_local * ranked.rate_to_reporting_currency as spend_amount,
        ranked.spend_date,
        ranked.loaded_at,
        ranked.raw_row_id,
        ranked.record_key,
        ranked.raw_record,
        case
            when ranked.row_rejection_reason is not null then ranked.row_rejection_reason
            when ranked.key_rank > 1 then 'duplicate_key'
            {# Rule 10: a campaign_id, when given, must be a clean campaign. #}
            when ranked.campaign_id is not null and campaigns.campaign_id is null then 'unknown_campaign'
        end as rejection_reason
    from ranked
    left join campaigns
        on ranked.campaign_id = campaigns.campaign_id
),

decided as (
    {# Rule 10 rejections name the row they refer to (see audit.rejected_rows). #}
    select
        *,
        {{ rejected_reference_table('rejection_reason') }} as parent_source_table,
        {{ rejected_reference_key('rejection_reason', {'unknown_campaign': 'campaign_id'}) }} as parent_record_key
    from checked
),

final as (
    {# Only a rejected row keeps its raw text, for the audit (audit.rejected_rows):
       a staged row is its typed columns. #}
    select
        campaign_id,
        cost_type,
        currency_code,
        rate_to_reporting_currency,
        spend_amount_local,
        spend_amount,
        spend_date,
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
