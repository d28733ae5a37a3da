{#- Every raw loyalty.loyalty_points row (one ledger entry), renamed and
    cast, with the first contract rule it breaks
    (docs/raw_data_contract.md) as rejection_reason, null when clean. Rules
    1-12 are checked in base_loyalty__loyalty_points_checked; this model adds
    rule 13 and the cascades.

    Rule 13 (redemption_exceeds_balance, expiry_exceeds_balance) is
    sequential: a redemption or an expiry is checked against the balance of
    the accepted entries before it, and a rejected one does not lower the
    balance for the next entry. Window sums cannot express that, so the
    ledger is walked: a recursive CTE takes every customer's first entry,
    then each step takes the next entry of every customer still walking
    (ledger_position + 1) and carries the balance forward. The answer is the
    exact sequential one by construction, for a ledger of any depth; a step
    reads only the entries at one position, so the walk costs the ledger's
    size plus a small constant per step (the deepest customer's entry count).
    DuckDB, PostgreSQL and Spark (4.1 and later) run the same SQL.

    Cascades: a rejection caused by the rejection of another raw row names
    that row in parent_source_table and parent_record_key (audit.rejected_rows
    adds the parent's reason). Rule 10 names the referenced row. Rule 13
    names an earlier earn of the same customer that was rejected (the one
    with the largest entry_id) when the entry would have fitted the balance
    had the rejected earns before it counted; otherwise the entry exceeds
    the balance on its own and names no parent. -#}
with recursive

checked as (
    select * from {{ ref('base_loyalty__loyalty_points_checked') }}
),

walk as (
    {# Rule 13: the first entry of every customer starts from a zero balance;
       each step applies the next one. points_balance_after is the balance
       after the entry, rejected entries leaving it unchanged. #}
    select
        raw_row_id,
        customer_id,
        ledger_position,
        cast(0 as {{ dbt.type_bigint() }}) as points_balance_before,
        entry_type = 'earn' as is_accepted,
        cast(case when entry_type = 'earn' then points else 0 end as {{ dbt.type_bigint() }})
            as points_balance_after
    from {{ ref('base_loyalty__loyalty_points_checked') }}
    where ledger_position = 1

    union all

    select
        entry.raw_row_id,
        entry.customer_id,
        entry.ledger_position,
        walk.points_balance_after as points_balance_before,
        entry.entry_type = 'earn' or entry.points <= walk.points_balance_after as is_accepted,
        cast(walk.points_balance_after + case
            when entry.entry_type = 'earn' then entry.points
            when entry.points <= walk.points_balance_after then -entry.points
            else 0
        end as {{ dbt.type_bigint() }}) as points_balance_after
    from walk
    inner join {{ ref('base_loyalty__loyalty_points_checked') }} as entry
        on
            walk.customer_id = entry.customer_id
            and walk.ledger_position + 1 = entry.ledger_position
),

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
        from checked
        where entry_id is not null and customer_id is not null and entry_at is not null
    ) as candidates
),

settled as (
    select
        checked.*,
        walk.points_balance_before,
        walk.is_accepted,
        lost_earns.last_lost_earn_id,
        {# Rule 13 cascades: the entry would have fitted with the rejected earns before it. #}
        coalesce(
            not walk.is_accepted
            and checked.points <= walk.points_balance_before + lost_earns.lost_points_before,
            false
        ) as is_balance_cascade
    from checked
    left join walk
        on checked.raw_row_id = walk.raw_row_id
    left join lost_earns
        on checked.raw_row_id = lost_earns.raw_row_id
),

decided as (
    select
        *,
        case when entry_type = 'earn' then points else -points end as points_delta,
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
),

final as (
    {# Only a rejected row keeps its raw text, for the audit (audit.rejected_rows):
       a staged row is its typed columns. #}
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
        {{ raw_record_if_rejected() }} as raw_record,
        points_delta,
        rejection_reason,
        parent_source_table,
        parent_record_key
    from decided
)

select * from final
