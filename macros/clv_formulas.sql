{#-
    Customer-lifetime-value formulas as SQL expressions. Each implements the
    formula of the same name in docs/formulas.md (Python: src/clv/formulas.py)
    and is pinned by a unit test reproducing that page's worked example
    (models/intermediate/customers/int_clv_formula_examples.sql).
    Arguments are SQL expressions; rates are fractions 0-1.
-#}

{% macro discounted_clv(
    purchases_per_year, spend_per_purchase, gross_margin, marketing_cost,
    acquisition_rate, retention_rate, discount_rate, years
) -%}
    {#- docs/formulas.md, "Discounted CLV over a finite horizon":
        CLV = sum_{t=1..N} (p*s*m - c) * r^t / (1 + d)^t - c / a.
        Margins arrive at each year's end. `years` must be a whole number
        known at compile time (the sum is written out term by term, so r = 1
        with d = 0 needs no special case). Examples: small firms 699.28,
        large firms 731.98. -#}
    {%- set n = years | int -%}
    {%- if n < 1 -%}
        {{ exceptions.raise_compiler_error("discounted_clv: years must be a whole number >= 1, got " ~ years) }}
    {%- endif -%}
    (
        (({{ purchases_per_year }}) * ({{ spend_per_purchase }}) * ({{ gross_margin }}) - ({{ marketing_cost }}))
        * (
            {%- for t in range(1, n + 1) %}
            power(({{ retention_rate }}) / (1 + ({{ discount_rate }})), {{ t }}){% if not loop.last %} +{% endif %}
            {%- endfor %}
        )
        - ({{ marketing_cost }}) / nullif({{ acquisition_rate }}, 0)
    )
{%- endmacro %}


{% macro textbook_clv(average_purchase_value, purchases_per_year, lifespan_years, acquisition_cost=0) -%}
    {#- docs/formulas.md, "Textbook CLV": value x frequency x lifespan -
        acquisition cost (undiscounted, revenue based). Example: a subscription
        box 10 x 12 x 3 = 360. -#}
    (
        ({{ average_purchase_value }}) * ({{ purchases_per_year }}) * ({{ lifespan_years }})
        - ({{ acquisition_cost }})
    )
{%- endmacro %}


{% macro referral_value(base_clv, referrals_per_customer, conversion_rate) -%}
    {#- docs/formulas.md, "Referral value": referrals x conversion rate x base
        CLV. Example (coaching): 4 x 0.5 x 18,000 = 36,000. -#}
    (({{ referrals_per_customer }}) * ({{ conversion_rate }}) * ({{ base_clv }}))
{%- endmacro %}


{% macro expected_lifespan_years(annual_retention_rate, horizon_years) -%}
    {#- The expected lifetime of a customer under constant annual retention r
        (geometric survival): 1 / (1 - r) years, capped at the horizon (and the
        horizon itself when r = 1). See DECISIONLOG.md, "Value marts (orders
        side)". -#}
    case
        when ({{ annual_retention_rate }}) is null then null
        when ({{ annual_retention_rate }}) >= 1 then {{ horizon_years }}
        when 1 / (1 - ({{ annual_retention_rate }})) > {{ horizon_years }} then {{ horizon_years }}
        else 1 / (1 - ({{ annual_retention_rate }}))
    end
{%- endmacro %}


{% macro discount_factor(periods, periods_per_year, discount_rate) -%}
    {#- 1 / (1 + d)^(t / periods_per_year): the present value of 1 received
        at the end of period t, for an annual rate d (docs/formulas.md,
        conventions: margins arrive at each period's end). -#}
    (1 / power(1 + ({{ discount_rate }}), cast({{ periods }} as {{ type_double() }}) / ({{ periods_per_year }})))
{%- endmacro %}
