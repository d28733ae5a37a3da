{#-
    Customer-equity formulas as SQL expressions (Gupta & Lehmann 2003). Each
    implements the formula of the same name in docs/formulas.md, "Gupta &
    Lehmann CLV and customer equity" (Python: src/clv/formulas.py,
    gupta_lehmann_clv, customer_equity, acquisition_equity, retention_equity),
    and is pinned by a unit test reproducing that page's worked example
    (models/marts/equity/_equity__models.yml). Arguments are SQL expressions;
    rates are fractions 0-1, money in the reporting currency.
-#}

{% macro gupta_lehmann_clv(margin, retention_rate, discount_rate) -%}
    {#- docs/formulas.md: CLV = m × r / (1 + d − r), infinite horizon, margin
        received at each period's end. Example: m = 100, r = 0.8, d = 0.1 →
        80 / 0.3 = 266.67. Where Python raises (1 + d − r ≤ 0, only r = 1 with
        d = 0) the SQL gives null: a value that does not exist, not an error
        that would stop a scheduled build. Null inputs give null. -#}
    (
        ({{ margin }}) * ({{ retention_rate }})
        / case
            when 1 + ({{ discount_rate }}) - ({{ retention_rate }}) > 0
                then 1 + ({{ discount_rate }}) - ({{ retention_rate }})
        end
    )
{%- endmacro %}


{% macro customer_equity(clv, customers) -%}
    {#- docs/formulas.md: customer equity = CLV × customers. Example: 266.67
        (unrounded 266.666…) × 1,000 = 266,666.67. -#}
    (({{ clv }}) * ({{ customers }}))
{%- endmacro %}


{% macro acquisition_equity(new_customers, clv, acquisition_spend) -%}
    {#- docs/formulas.md: acquisition equity = new customers × CLV −
        acquisition spend. Example: 100 × 266.666… − 20,000 = 6,666.67. -#}
    (({{ new_customers }}) * ({{ clv }}) - ({{ acquisition_spend }}))
{%- endmacro %}


{% macro retention_equity(retained_customers, clv, retention_spend) -%}
    {#- docs/formulas.md: retention equity = retained customers × CLV −
        retention spend. Example: 800 × 266.666… − 50,000 = 163,333.33. -#}
    (({{ retained_customers }}) * ({{ clv }}) - ({{ retention_spend }}))
{%- endmacro %}
