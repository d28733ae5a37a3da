{#- Every raw shop.orders row, renamed, cast and converted to the reporting
    currency, with the first contract rule it breaks
    (docs/raw_data_contract.md) as rejection_reason, null when clean. -#}
with

source as (
    select * from {{ source('shop', 'orders') }}
),

currency_rates as (
    select * from {{ ref('stg_reference__currency_rates') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('order_id', dbt.type_bigint()) }} as order_id,
        {{ dbt.safe_cast('customer_id', dbt.type_bigint()) }} as customer_id,

        ---------- strings
        {{ dbt.safe_cast('status', dbt.type_string()) }} as status,
        {{ dbt.safe_cast('currency', dbt.type_string()) }} as currency_code,
        {{ dbt.safe_cast('utm_source', dbt.type_string()) }} as utm_source,
        {{ dbt.safe_cast('utm_campaign', dbt.type_string()) }} as utm_campaign,

        ---------- numerics (order currency)
        {{ dbt.safe_cast('order_total', type_double()) }} as order_total_local,
        {{ dbt.safe_cast('discount', type_double()) }} as discount_local,
        {{ dbt.safe_cast('shipping', type_double()) }} as shipping_local,
        {{ dbt.safe_cast('tax', type_double()) }} as tax_local,
        {{ dbt.safe_cast('fulfillment_cost', type_double()) }} as fulfillment_cost_local,

        ---------- timestamps
        {{ dbt.safe_cast('ordered_at', dbt.type_timestamp()) }} as ordered_at,
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('shop.orders') }} as record_key,
        {{ raw_record_of('shop.orders') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        renamed.*,
        currency_rates.rate_to_reporting_currency,
        case
            when renamed.order_id is null then 'null_key'
            when
                renamed.customer_id is null
                or renamed.ordered_at is null
                or renamed.status is null
                or renamed.currency_code is null
                or renamed.order_total_local is null
                or renamed.discount_local is null
                or renamed.shipping_local is null
                or renamed.tax_local is null
                or renamed.fulfillment_cost_local is null
                or renamed.loaded_at is null
                then 'null_required_value'
            when currency_rates.currency_code is null then 'unknown_currency'
            when renamed.status not in {{ reference_values('order_status') }} then 'unknown_value'
            when
                renamed.order_total_local < 0
                or renamed.discount_local < 0
                or renamed.shipping_local < 0
                or renamed.tax_local < 0
                or renamed.fulfillment_cost_local < 0
                then 'non_positive_amount'
            when renamed.ordered_at > renamed.loaded_at then 'future_timestamp'
        end as row_rejection_reason
    from renamed
    left join currency_rates
        on renamed.currency_code = currency_rates.currency_code
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['order_id']) }} as key_rank,
        {{ raw_row_id('shop.orders', ['order_id']) }} as raw_row_id
    from row_checks
),

checked as (
    select
        ranked.order_id,
        ranked.customer_id,
        ranked.status,
        ranked.currency_code,
        ranked.utm_source,
        ranked.utm_campaign,
        ranked.rate_to_reporting_currency,
        ranked.order_total_local,
        ranked.order_total_local * ranked.rate_to_reporting_currency as order_total,
        ranked.discount_local * ranked.rate_to_reporting_currency as discount_amount,
        ranked.shipping_local * ranked.rate_to_reporting_currency as shipping_amount,
        ranked.tax_local * ranked.rate_to_reporting_currency as tax_amount,
        ranked.fulfillment_cost_local * ranked.rate_to_reporting_currency as fulfillment_cost,
        coalesce(ranked.status = 'completed', false) as is_completed,
        coalesce(ranked.status = 'cancelled', false) as is_cancelled,
        ranked.ordered_at,
        ranked.loaded_at,
        ranked.raw_row_id,
        ranked.record_key,
        ranked.raw_record,
        case
            when ranked.row_rejection_reason is not null then ranked.row_rejection_reason
            when ranked.key_rank > 1 then 'duplicate_key'
            {# Rules 10-11: against the clean customers. #}
            when customers.customer_id is null then 'unknown_customer'
            when ranked.ordered_at < customers.created_at then 'before_customer_created'
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
        order_id,
        customer_id,
        status,
        currency_code,
        utm_source,
        utm_campaign,
        rate_to_reporting_currency,
        order_total_local,
        order_total,
        discount_amount,
        shipping_amount,
        tax_amount,
        fulfillment_cost,
        is_completed,
        is_cancelled,
        ordered_at,
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
