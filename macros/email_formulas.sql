{#-
    Email subscriber LTV formulas, docs/formulas.md, "Email subscriber LTV"
    (Python twins in src/clv/formulas.py of the same names). Arguments are SQL
    expressions; results are doubles, null where a denominator is 0.

    1. The seed formula, kept exactly as written (column
       subscriber_ltv_seed_formula; unit test
       test_email_subscriber_ltv_reproduces_formulas_md):

           net profit per customer = (email revenue − email cost) ÷ customers acquired by email
           LTV = net profit per customer × average active months

       (3,000,000 − 1,200,000) ÷ 1,000 = 1,800; × 10 months = 18,000. Its
       first factor is a per-customer figure for one period (the seed calls
       it "per customer-month"); fed with totals to date it counts the
       observation window twice.

    2. The dimensionally sound version (columns net_profit_per_customer_month,
       monthly_unsubscribe_hazard, expected_months_on_list, subscriber_ltv;
       unit tests test_email_subscriber_ltv_worked_example and
       test_email_subscriber_ltv_is_invariant_to_the_window):

           net profit per subscriber-month = (margin − cost) ÷ subscriber-months on the list
           monthly unsubscribe hazard h   = unsubscribes ÷ subscriber-months on the list
           expected months on the list    = min(1 ÷ h, 12 × horizon years); the cap when h = 0
           LTV = net profit per subscriber-month × expected months on the list

       (80,000 − 16,000) ÷ 8,000 = 8 a subscriber-month; h = 400 ÷ 8,000 =
       0.05, 1 ÷ h = 20 months; LTV = 8 × 20 = 160.
-#}

{#- ---------- 1. the seed formula -#}

{% macro email_net_profit_per_customer(email_revenue, email_cost, customers_from_email) -%}
    case
        when {{ customers_from_email }} > 0
            then cast(({{ email_revenue }} - {{ email_cost }}) as {{ type_double() }}) / {{ customers_from_email }}
    end
{%- endmacro %}

{% macro email_subscriber_ltv_seed_formula(
    email_revenue, email_cost, customers_from_email, average_active_months
) -%}
    {{ email_net_profit_per_customer(email_revenue, email_cost, customers_from_email) }}
    * {{ average_active_months }}
{%- endmacro %}

{#- ---------- 2. per subscriber-month × expected months on the list -#}

{% macro email_net_profit_per_subscriber_month(email_margin, email_cost, subscriber_months) -%}
    case
        when {{ subscriber_months }} > 0
            then cast(({{ email_margin }} - {{ email_cost }}) as {{ type_double() }}) / {{ subscriber_months }}
    end
{%- endmacro %}

{% macro email_unsubscribe_hazard(unsubscribes, subscriber_months) -%}
    {#- The maximum-likelihood rate of an exponential stay from right-censored
        stays: events ÷ exposure. Subscribers still on the list add their
        months to the exposure and no event. -#}
    case
        when {{ subscriber_months }} > 0
            then cast({{ unsubscribes }} as {{ type_double() }}) / {{ subscriber_months }}
    end
{%- endmacro %}

{% macro email_expected_months_on_list(unsubscribes, subscriber_months, horizon_years) -%}
    {#- 1 ÷ hazard = subscriber-months ÷ unsubscribes, capped at the horizon;
        the cap itself when no one has unsubscribed. -#}
    case
        when {{ subscriber_months }} is null or {{ subscriber_months }} <= 0 then null
        when {{ unsubscribes }} <= 0 then cast(12 * {{ horizon_years }} as {{ type_double() }})
        when {{ subscriber_months }} > 12 * {{ horizon_years }} * {{ unsubscribes }}
            then cast(12 * {{ horizon_years }} as {{ type_double() }})
        else cast({{ subscriber_months }} as {{ type_double() }}) / {{ unsubscribes }}
    end
{%- endmacro %}

{% macro email_subscriber_ltv(net_profit_per_subscriber_month, expected_months_on_list) -%}
    ({{ net_profit_per_subscriber_month }}) * ({{ expected_months_on_list }})
{%- endmacro %}
