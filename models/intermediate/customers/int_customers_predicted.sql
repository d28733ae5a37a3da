{#- The three prediction columns customer_clv shows, one row per customer of
    int_customers_scored: the BG/NBD + Gamma-Gamma scores that the mart
    customer_clv_predictions publishes, built by the dbt Python model on
    DuckDB and written by `clv predict` on PostgreSQL and Spark (macro
    predictions_relation). On a target with neither it is empty with the
    same columns, so customer_clv builds unchanged everywhere and its
    predictions stay null there. -#}
with

predictions as (
    {% if python_models_enabled() or predictions_from_step() -%}
        select
            customer_id,
            probability_alive,
            predicted_purchases_12m,
            predicted_clv_12m
        from {{ predictions_relation('int_customers_scored') }}
    {%- else -%}
        select
            cast(null as {{ dbt.type_bigint() }}) as customer_id,
            cast(null as {{ type_double() }}) as probability_alive,
            cast(null as {{ type_double() }}) as predicted_purchases_12m,
            cast(null as {{ type_double() }}) as predicted_clv_12m
        where 1 = 0
    {%- endif %}
),

final as (
    select * from predictions
)

select * from final
