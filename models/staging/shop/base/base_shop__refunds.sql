{#- Every raw shop.refunds row, renamed, cast and converted to the
    reporting currency (at its order's currency), with the first contract
    rule it breaks (docs/raw_data_contract.md) as rejection_reason, null
    when clean. -#}
with

source as (
    select * from {{ source('shop', 'refunds') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('refund_id', dbt.type_bigint()) }} as refund_id,
        {{ dbt.safe_cast('order_id', dbt.type_bigint()) }} as order_id,

        ---------- numerics (order currency)
        {{ dbt.safe_cast('amount', type_double()) }} as refund_amount_local,

        ---------- timestamps
        {{ dbt.safe_cast('refunded_at', dbt.type_timestamp()) }} as refunded_at,
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('shop.refunds') }} as record_key,
        {{ raw_record_of('shop.refunds') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        *,
        case
            when refund_id is null then 'null_key'
            when order_id is null or refunded_at is null or refund_amount_local is null or loaded_at is null
                then 'null_required_value'
            when refund_amount_local <= 0 then 'non_positive_amount'
            when refunded_at > loaded_at then 'future_timestamp'
        end as row_rejection_reason
    from renamed
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['refund_id']) }} as key_rank,
        {{ raw_row_id('shop.refunds', ['refund_id']) }} as raw_row_id
    from row_checks
),

checked as (
    select
        ranked.refund_id,
        ranked.order_id,
        orders.currency_code,
        ranked.refund_amount_local,
        ranked.refund_amount_local * orders.rate_to_reporting_currency as refund_amount,
        ranked.refunded_at,
        ranked.loaded_at,
        ranked.raw_row_id,
        ranked.record_key,
        ranked.raw_record,
        case
            when ranked.row_rejection_reason is not null then ranked.row_rejection_reason
            when ranked.key_rank > 1 then 'duplicate_key'
            {# Rule 10: against the clean orders. #}
            when orders.order_id is null then 'unknown_order'
            {# Rule 12: one refund can't exceed what the order cost (order currency). #}
            when ranked.refund_amount_local > orders.order_total_local then 'refund_exceeds_order'
        end as rejection_reason
    from ranked
    left join orders
        on ranked.order_id = orders.order_id
),

decided as (
    {# Rule 10 rejections name the row they refer to (see audit.rejected_rows). #}
    select
        *,
        {{ rejected_reference_table('rejection_reason') }} as parent_source_table,
        {{ rejected_reference_key('rejection_reason', {'unknown_order': 'order_id'}) }} as parent_record_key
    from checked
),

final as (
    {# Only a rejected row keeps its raw text, for the audit (audit.rejected_rows):
       a staged row is its typed columns. #}
    select
        refund_id,
        order_id,
        currency_code,
        refund_amount_local,
        refund_amount,
        refunded_at,
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
