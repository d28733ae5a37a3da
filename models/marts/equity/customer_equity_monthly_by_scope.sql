{#- Spark (parquet tables, no merge): overwrite the restated months'
    partitions, which is delete+insert by month. unique_key month, as
    customer_equity_monthly's (the grain is month × scope): a run replaces
    every scope row of each restated month, so a scope that disappears from
    a month cannot linger. -#}
{{
    config(
        materialized='incremental',
        unique_key='month',
        incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'),
        partition_by=(['month'] if target.type == 'spark' else none),
        on_schema_change='fail'
    )
}}
{#- One row per month and scope (scope 'all', each country, each acquisition
    channel): customer_equity_monthly's figures for the scope, for a
    dashboard filtered to where decisions are made. Scope 'all' is
    customer_equity_monthly row for row. Incremental exactly as that mart
    (the same lookback var, customer_equity_lookback_months): the inputs come
    finished, per scope, from int_customer_equity_scope_months_aggregated,
    so a restated month equals its full-refresh value. Formulas:
    macros/equity_formulas.sql (docs/formulas.md). -#}
with

equity_inputs as (
    select * from {{ ref('int_customer_equity_scope_months_aggregated') }}
    {% if is_incremental() -%}
        where month >= coalesce(
            (
                select
                    cast({{ dbt.dateadd(
                        'month', -1 * (var('customer_equity_lookback_months', 2) | int), 'max(month)'
                    ) }} as date)
                from {{ this }}
            ),
            cast('1900-01-01' as date)
        )
    {%- endif %}
),

valued as (
    select
        *,
        cast({{ var('discount_rate') }} as {{ type_double() }}) as discount_rate,
        {{ gupta_lehmann_clv(
            'margin_per_customer_annual', 'retention_rate_annual', var('discount_rate')
        ) }} as clv_unrounded
    from equity_inputs
),

final as (
    select
        cast(scope_type as {{ dbt.type_string() }}) as scope_type,
        cast(scope_value as {{ dbt.type_string() }}) as scope_value,
        cast(month as date) as month,
        cast(customers_start as bigint) as customers_start,
        cast(customers_new as bigint) as customers_new,
        cast(customers_acquired as bigint) as customers_acquired,
        cast(customers_reactivated as bigint) as customers_reactivated,
        cast(customers_lost as bigint) as customers_lost,
        cast(customers_retained as bigint) as customers_retained,
        cast(customers_end as bigint) as customers_end,
        cast(retention_rate_annual as {{ type_double() }}) as retention_rate_annual,
        cast(margin_per_customer_annual as {{ type_double() }}) as margin_per_customer_annual,
        discount_rate,
        {{ round_to('clv_unrounded', 2) }} as clv,
        {{ round_to(customer_equity('clv_unrounded', 'customers_end'), 2) }} as customer_equity,
        cast(acquisition_spend as {{ type_double() }}) as acquisition_spend,
        cast(retention_spend as {{ type_double() }}) as retention_spend,
        {{ round_to(acquisition_equity('customers_new', 'clv_unrounded', 'acquisition_spend'), 2) }}
            as acquisition_equity,
        {{ round_to(retention_equity('customers_retained', 'clv_unrounded', 'retention_spend'), 2) }}
            as retention_equity
    from valued
)

select * from final
