{#- Every raw loyalty.loyalty_points row (one ledger entry), renamed and
    cast, checked against rules 1-12 of the contract
    (docs/raw_data_contract.md): reference_rejection_reason is the first rule
    it breaks, null when it passed them all. base_loyalty__loyalty_points
    adds rule 13 (the balance) by walking each customer's ledger in
    ledger_position order; the table is stored in that order so that the
    walk's step, which reads the entries at one position, reads only the
    row groups that hold it (zone maps) instead of the whole table.

    Rule-10 cascades name the referenced row (parent_record_key, in
    base_loyalty__loyalty_points). -#}
with

source as (
    select * from {{ source('loyalty', 'loyalty_points') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

renamed as (
    select
        ---------- ids
        {{ dbt.safe_cast('entry_id', dbt.type_bigint()) }} as entry_id,
        {{ dbt.safe_cast('customer_id', dbt.type_bigint()) }} as customer_id,
        {{ dbt.safe_cast('order_id', dbt.type_bigint()) }} as order_id,

        ---------- strings
        {{ dbt.safe_cast('entry_type', dbt.type_string()) }} as entry_type,

        ---------- numerics
        {{ dbt.safe_cast('points', dbt.type_bigint()) }} as points,

        ---------- timestamps
        {{ dbt.safe_cast('entry_at', dbt.type_timestamp()) }} as entry_at,
        {{ dbt.safe_cast('_loaded_at', dbt.type_timestamp()) }} as loaded_at,

        ---------- audit
        {{ record_key_of('loyalty.loyalty_points') }} as record_key,
        {{ raw_record_of('loyalty.loyalty_points') }} as raw_record
    from source
),

row_checks as (
    {# Rules 1-8: each row on its own. #}
    select
        *,
        case
            when entry_id is null then 'null_key'
            when
                customer_id is null
                or entry_type is null
                or points is null
                or entry_at is null
                or loaded_at is null
                then 'null_required_value'
            when entry_type not in {{ reference_values('points_entry_type') }} then 'unknown_value'
            when points <= 0 then 'non_positive_amount'
            when entry_at > loaded_at then 'future_timestamp'
        end as row_rejection_reason
    from renamed
),

ranked as (
    {# Rule 9: the first-loaded row of a key wins. #}
    select
        *,
        {{ duplicate_rank(['entry_id']) }} as key_rank,
        {{ raw_row_id('loyalty.loyalty_points', ['entry_id']) }} as raw_row_id
    from row_checks
),

referenced as (
    {# Rules 10-11: against the clean customers and orders. #}
    select
        ranked.*,
        case
            when ranked.row_rejection_reason is not null then ranked.row_rejection_reason
            when ranked.key_rank > 1 then 'duplicate_key'
            when customers.customer_id is null then 'unknown_customer'
            when ranked.order_id is not null and orders.order_id is null then 'unknown_order'
            when ranked.entry_at < customers.created_at then 'before_customer_created'
        end as reference_rejection_reason
    from ranked
    left join customers
        on ranked.customer_id = customers.customer_id
    left join orders
        on ranked.order_id = orders.order_id
),

positioned as (
    {# The walk's order: a customer's entries that passed rules 1-12, by
       entry_at then entry_id (ties within a second are rare; entry_id
       settles them). Null for the others, which take no part in the balance. #}
    select
        *,
        case
            when reference_rejection_reason is null
                then row_number() over (
                    partition by customer_id, reference_rejection_reason is null
                    order by entry_at, entry_id
                )
        end as ledger_position
    from referenced
),

final as (
    select
        entry_id,
        customer_id,
        order_id,
        entry_type,
        points,
        entry_at,
        loaded_at,
        raw_row_id,
        record_key,
        raw_record,
        reference_rejection_reason,
        ledger_position
    from positioned
    order by ledger_position, customer_id
)

select * from final
