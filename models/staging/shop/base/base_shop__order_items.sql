{#- Every raw shop.order_items row, renamed, cast and converted to the
    reporting currency (at its order's currency), with the first contract
    rule it breaks (docs/raw_data_contract.md) as rejection_reason, null
    when clean. Order lines carry no event timestamp, so rule 8 does not
    apply. -#}
with

source as (
    select * from {{ source('shop', 'order_items') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('order_id', dbt.type_bigint()) }} as order_id,
        {{ dbt.safe_cast('line_no', dbt.type_int()) }} as line_number,

        ---------- strings
        {{ dbt.safe_cast('sku', dbt.type_string()) }} as sku,
        {{ dbt.safe_cast('category', dbt.type_string()) }} as category,

        ---------- numerics (order currency)
        {{ dbt.safe_cast('quantity', dbt.type_int()) }} as quantity,
        {{ dbt.safe_cast('unit_price', type_double()) }} as unit_price_local,
        {{ dbt.safe_cast('unit_cost', type_double()) }} as unit_cost_local,

        ---------- timestamps
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('shop.order_items') }} as record_key,
        {{ raw_record_of('shop.order_items') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        *,
        case
            when order_id is null or line_number is null then 'null_key'
            when
                sku is null
                or category is null
                or quantity is null
                or unit_price_local is null
                or unit_cost_local is null
                or loaded_at is null
                then 'null_required_value'
            when quantity <= 0 or unit_price_local < 0 or unit_cost_local < 0 then 'non_positive_amount'
        end as row_rejection_reason
    from renamed
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['order_id', 'line_number']) }} as key_rank,
        {{ raw_row_id('shop.order_items', ['order_id', 'line_number']) }} as raw_row_id
    from row_checks
),

checked as (
    select
        ranked.order_id,
        ranked.line_number,
        ranked.sku,
        ranked.category,
        orders.currency_code,
        ranked.quantity,
        ranked.unit_price_local,
        ranked.unit_cost_local,
        ranked.unit_price_local * orders.rate_to_reporting_currency as unit_price,
        ranked.unit_cost_local * orders.rate_to_reporting_currency as unit_cost,
        ranked.quantity * ranked.unit_price_local * orders.rate_to_reporting_currency as line_revenue,
        ranked.quantity * ranked.unit_cost_local * orders.rate_to_reporting_currency as line_cost,
        ranked.loaded_at,
        ranked.raw_row_id,
        ranked.record_key,
        ranked.raw_record,
        case
            when ranked.row_rejection_reason is not null then ranked.row_rejection_reason
            when ranked.key_rank > 1 then 'duplicate_key'
            {# Rule 10: against the clean orders. #}
            when orders.order_id is null then 'unknown_order'
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
        order_id,
        line_number,
        sku,
        category,
        currency_code,
        quantity,
        unit_price_local,
        unit_cost_local,
        unit_price,
        unit_cost,
        line_revenue,
        line_cost,
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
