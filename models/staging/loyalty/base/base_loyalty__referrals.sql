{#- Every raw loyalty.referrals row, renamed and cast, with the first
    contract rule it breaks (docs/raw_data_contract.md) as
    rejection_reason, null when clean. -#}
with

source as (
    select * from {{ source('loyalty', 'referrals') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('referral_id', dbt.type_bigint()) }} as referral_id,
        {{ dbt.safe_cast('referrer_customer_id', dbt.type_bigint()) }} as referrer_customer_id,
        {{ dbt.safe_cast('referred_customer_id', dbt.type_bigint()) }} as referred_customer_id,

        ---------- strings
        {# The raw address stops here: only its hash and its validity go on. #}
        {{ hash_email('referred_email') }} as referred_email_hash,

        ---------- booleans
        {{ is_valid_email('referred_email') }} as has_valid_referred_email,

        ---------- timestamps
        {{ dbt.safe_cast('referred_at', dbt.type_timestamp()) }} as referred_at,
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('loyalty.referrals') }} as record_key,
        {{ raw_record_of('loyalty.referrals') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        *,
        case
            when referral_id is null then 'null_key'
            when
                referrer_customer_id is null
                or referred_email_hash is null
                or referred_at is null
                or loaded_at is null
                then 'null_required_value'
            when not has_valid_referred_email then 'invalid_email'
            when referred_at > loaded_at then 'future_timestamp'
        end as row_rejection_reason
    from renamed
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['referral_id']) }} as key_rank,
        {{ raw_row_id('loyalty.referrals', ['referral_id']) }} as raw_row_id
    from row_checks
),

checked as (
    select
        ranked.referral_id,
        ranked.referrer_customer_id,
        ranked.referred_customer_id,
        ranked.referred_email_hash,
        ranked.referred_at,
        ranked.loaded_at,
        ranked.raw_row_id,
        ranked.record_key,
        ranked.raw_record,
        case
            when ranked.row_rejection_reason is not null then ranked.row_rejection_reason
            when ranked.key_rank > 1 then 'duplicate_key'
            {# Rule 10: the referrer, and the referred customer once there is one. #}
            when referrers.customer_id is null then 'unknown_customer'
            when ranked.referred_customer_id is not null and referred_customers.customer_id is null
                then 'unknown_customer'
        end as rejection_reason,
        case
            when referrers.customer_id is null then ranked.referrer_customer_id
            else ranked.referred_customer_id
        end as checked_customer_id
    from ranked
    left join customers as referrers
        on ranked.referrer_customer_id = referrers.customer_id
    left join customers as referred_customers
        on ranked.referred_customer_id = referred_customers.customer_id
),

final as (
    {# Rule 10 rejections name the row they refer to (see audit.rejected_rows):
       the referrer when it is unknown, else the referred customer. Only a
       rejected row keeps its raw text, for the audit. #}
    select
        referral_id,
        referrer_customer_id,
        referred_customer_id,
        referred_email_hash,
        referred_at,
        loaded_at,
        raw_row_id,
        record_key,
        {{ raw_record_if_rejected() }} as raw_record,
        rejection_reason,
        {{ rejected_reference_table('rejection_reason') }} as parent_source_table,
        {{ rejected_reference_key('rejection_reason', {'unknown_customer': 'checked_customer_id'}) }}
            as parent_record_key
    from checked
)

select * from final
