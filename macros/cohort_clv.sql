{% macro cohort_clv_ctes(cohort_months, dimension_columns=[]) -%}
{#- The cohort-CLV arithmetic shared by cohort_clv (one row per cohort and
    month since acquisition) and cohort_clv_by_channel (the same, per
    acquisition channel): running sums per cohort, per-customer figures and
    the CLV net of acquisition cost, discounted month by month as in
    DECISIONLOG.md, "Value marts (orders side)".

    cohort_months: the CTE holding one row per cohort (× dimension_columns)
    and month since acquisition, with cohort_size, active_customers,
    lost_customers, ordering_customers, orders, revenue, gross_margin, fulfillment_cost and
    acquisition_spend. Renders the CTEs cumulated, per_customer and final
    (without the leading `with`), ending in `final`. -#}
{%- set partition_by = (['cohort_month'] + dimension_columns) | join(', ') -%}
{%- set discount = discount_factor('months_since_acquisition + 1', 12, var('discount_rate')) -%}
{%- set running_sums = {
    'cumulative_gross_margin': 'gross_margin',
    'discounted_cumulative_gross_margin': 'gross_margin * ' ~ discount,
    'cumulative_fulfillment_cost': 'fulfillment_cost',
    'discounted_cumulative_fulfillment_cost': 'fulfillment_cost * ' ~ discount,
} -%}
cumulated as (
    select
        *,
        {%- for name, expression in running_sums.items() %}
        sum({{ expression }}) over (
            partition by {{ partition_by }}
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ cohort_months }}
),

per_customer as (
    select
        cohort_month,
        {%- for column in dimension_columns %}
        {{ column }},
        {%- endfor %}
        months_since_acquisition,
        month,
        cohort_size,
        active_customers,
        lost_customers,
        ordering_customers,
        orders,
        revenue,
        gross_margin,
        {#- Two retention measures (DECISIONLOG.md): active within the window,
            and ordering in the month (the classic cohort heat map). -#}
        cast(active_customers as {{ type_double() }}) / cohort_size as retention_rate,
        cast(ordering_customers as {{ type_double() }}) / cohort_size as ordering_rate,
        fulfillment_cost / cohort_size as cost_to_serve_per_customer,
        cumulative_fulfillment_cost / cohort_size as cumulative_cost_to_serve_per_customer,
        cumulative_gross_margin / cohort_size as cumulative_margin_per_customer,
        discounted_cumulative_gross_margin / cohort_size as discounted_cumulative_margin_per_customer,
        discounted_cumulative_fulfillment_cost / cohort_size as discounted_cumulative_cost_to_serve_per_customer,
        acquisition_spend / cohort_size as acquisition_cost_per_customer
    from cumulated
),

net_of_cac as (
    select
        *,
        discounted_cumulative_margin_per_customer
        - discounted_cumulative_cost_to_serve_per_customer
        - acquisition_cost_per_customer as cumulative_clv_net_of_cac
    from per_customer
),

final as (
    select
        {%- for column in dimension_columns %}
        cast({{ column }} as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        cast(months_since_acquisition as {{ dbt.type_bigint() }}) as months_since_acquisition,
        cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast(lost_customers as {{ dbt.type_bigint() }}) as lost_customers,
        cast(ordering_customers as {{ dbt.type_bigint() }}) as ordering_customers,
        cast(retention_rate as {{ type_double() }}) as retention_rate,
        cast(ordering_rate as {{ type_double() }}) as ordering_rate,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(revenue as {{ type_double() }}) as revenue,
        cast(gross_margin as {{ type_double() }}) as gross_margin,
        cast(cost_to_serve_per_customer as {{ type_double() }}) as cost_to_serve_per_customer,
        cast(cumulative_cost_to_serve_per_customer as {{ type_double() }}) as cumulative_cost_to_serve_per_customer,
        cast(cumulative_margin_per_customer as {{ type_double() }}) as cumulative_margin_per_customer,
        cast(discounted_cumulative_margin_per_customer as {{ type_double() }})
            as discounted_cumulative_margin_per_customer,
        cast(acquisition_cost_per_customer as {{ type_double() }}) as acquisition_cost_per_customer,
        cast(cumulative_clv_net_of_cac as {{ type_double() }}) as cumulative_clv_net_of_cac,
        cumulative_clv_net_of_cac >= 0 as is_payback_reached,
        cohort_month,
        month
    from net_of_cac
)
{%- endmacro %}
