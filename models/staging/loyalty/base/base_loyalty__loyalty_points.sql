{#- Every raw loyalty.loyalty_points row (one ledger entry), renamed and
    cast, with the first contract rule it breaks
    (docs/raw_data_contract.md) as rejection_reason, null when clean.

    Rule 13 (redemption_exceeds_balance, expiry_exceeds_balance) is
    sequential: a redemption or an expiry is checked against the balance of
    the accepted entries before it, and a rejected one does not lower the
    balance for the next entry. Plain
    window sums cannot express that, and recursive CTEs are not portable, so
    the ledger is solved by fixed-point passes: pass 0 accepts every entry;
    pass k recomputes each balance from pass k-1's accepted entries and
    accepts a redemption when it fits. After k passes at least the first k
    redemptions of every customer are final; has_settled_balance says
    whether the last pass changed nothing, i.e. the result is the exact
    sequential one (a data test holds it to that).

    Cascades: a rejection caused by the rejection of another raw row names
    that row in parent_source_table and parent_record_key (audit.rejected_rows
    adds the parent's reason). Rule 10 names the referenced row. Rule 13
    names an earlier earn of the same customer that was rejected (the one
    with the largest entry_id) when the entry would have fitted the balance
    had the rejected earns before it counted; otherwise the entry exceeds
    the balance on its own and names no parent. -#}
{%- set passes = var('points_balance_passes', 8) -%}
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
        {{ raw_row_id('loyalty.loyalty_points') }} as raw_row_id
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

ledger_pass_0 as (
    {# Rule 13, pass 0: every entry that passed rules 1-12 is accepted. #}
    select
        entry_id,
        customer_id,
        entry_type,
        points,
        entry_at,
        true as is_accepted,
        case when entry_type = 'earn' then points else -points end as points_delta
    from referenced
    where reference_rejection_reason is null
),
{% for pass in range(1, passes + 1) %}
    balances_pass_{{ pass }} as (
        select
            entry_id,
            customer_id,
            entry_type,
            points,
            points_delta,
            entry_at,
            coalesce(sum(case when is_accepted then points_delta else 0 end) over (
                partition by customer_id
                order by entry_at, entry_id
                rows between unbounded preceding and 1 preceding
            ), 0) as points_balance_before
        from ledger_pass_{{ pass - 1 }}
    ),

    ledger_pass_{{ pass }} as (
        select
            *,
            entry_type = 'earn' or points <= points_balance_before as is_accepted
        from balances_pass_{{ pass }}
    ),
{% endfor %}
lost_earns as (
    {# Rule 13 cascades: the points of rejected earns before each entry. A
       duplicate_key earn is not lost (its first copy is accepted); an earn
       rejected for an unreadable type counts when it reads 'earn' ignoring
       case and spaces. #}
    select
        raw_row_id,
        coalesce(sum(case when is_lost_earn then points else 0 end) over (
            partition by customer_id
            order by entry_at, entry_id
            rows between unbounded preceding and 1 preceding
        ), 0) as lost_points_before,
        max(case when is_lost_earn then entry_id end) over (
            partition by customer_id
            order by entry_at, entry_id
            rows between unbounded preceding and 1 preceding
        ) as last_lost_earn_id
    from (
        select
            raw_row_id,
            entry_id,
            customer_id,
            entry_at,
            points,
            coalesce(
                reference_rejection_reason is not null
                and reference_rejection_reason != 'duplicate_key'
                and lower(trim(entry_type)) = 'earn'
                and points > 0,
                false
            ) as is_lost_earn
        from referenced
        where entry_id is not null and customer_id is not null and entry_at is not null
    ) as candidates
),

ledger as (
    select
        ledger_pass_{{ passes }}.entry_id,
        ledger_pass_{{ passes }}.points_balance_before,
        ledger_pass_{{ passes }}.is_accepted,
        ledger_pass_{{ passes }}.is_accepted = ledger_pass_{{ passes - 1 }}.is_accepted as has_settled_balance
    from ledger_pass_{{ passes }}
    inner join ledger_pass_{{ passes - 1 }}
        on ledger_pass_{{ passes }}.entry_id = ledger_pass_{{ passes - 1 }}.entry_id
),

settled as (
    select
        referenced.*,
        ledger.points_balance_before,
        ledger.is_accepted,
        ledger.has_settled_balance,
        lost_earns.last_lost_earn_id,
        {# Rule 13 cascades: the entry would have fitted with the rejected earns before it. #}
        coalesce(
            not ledger.is_accepted
            and referenced.points <= ledger.points_balance_before + lost_earns.lost_points_before,
            false
        ) as is_balance_cascade
    from referenced
    left join ledger
        on
            referenced.entry_id = ledger.entry_id
            and referenced.reference_rejection_reason is null
    left join lost_earns
        on referenced.raw_row_id = lost_earns.raw_row_id
),

final as (
    select
        entry_id,
        customer_id,
        order_id,
        entry_type,
        points,
        points_balance_before,
        entry_at,
        loaded_at,
        raw_row_id,
        record_key,
        raw_record,
        case when entry_type = 'earn' then points else -points end as points_delta,
        coalesce(has_settled_balance, true) as has_settled_balance,
        case
            when reference_rejection_reason is not null then reference_rejection_reason
            when not is_accepted and entry_type = 'redeem' then 'redemption_exceeds_balance'
            when not is_accepted then 'expiry_exceeds_balance'
        end as rejection_reason,
        case
            when is_balance_cascade then 'loyalty.loyalty_points'
            else {{ rejected_reference_table('reference_rejection_reason') }}
        end as parent_source_table,
        case
            when is_balance_cascade then cast(last_lost_earn_id as {{ dbt.type_string() }})
            else {{ rejected_reference_key(
                'reference_rejection_reason', {'unknown_customer': 'customer_id', 'unknown_order': 'order_id'}
            ) }}
        end as parent_record_key
    from settled
)

select * from final
