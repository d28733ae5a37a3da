{#- A table, not the folder's view: customer_equity_monthly and 3 data tests read it; as a view each
    would compute it again (at a million customers the tests re-ran it once per test). -#}
{{ config(materialized='table') }}

{#- One row per month of the all_months spine: the inputs of the customer
    equity mart, which are scope 'all' of
    int_customer_equity_scope_months_aggregated (one computation for the
    whole and its scopes, so customer_equity_monthly_by_scope's 'all' rows
    are customer_equity_monthly's). Customer movements come from
    int_customer_months_spined (active at a month's end = a valid order within
    active_window_days), the trailing-12-month retention and margin from the
    same rows, spend from stg_marketing__marketing_spend by purpose. Every
    window and lag lives there, over the whole history, so the incremental mart
    only reads finished rows. Definitions: DECISIONLOG.md, "Customer equity". -#}
with

scope_months as (
    select * from {{ ref('int_customer_equity_scope_months_aggregated') }}
),

final as (
    select
        month,
        customers_start,
        customers_new,
        customers_acquired,
        customers_reactivated,
        customers_lost,
        customers_retained,
        customers_end,
        customers_active_year_earlier,
        retention_rate_annual,
        margin_per_customer_annual,
        acquisition_spend,
        retention_spend
    from scope_months
    where scope_type = 'all'
)

select * from final
