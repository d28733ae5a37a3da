{#-
    Email subscriber LTV, the formula of docs/formulas.md, "Email subscriber
    LTV" (the same as clv.formulas.email_subscriber_ltv):

        net profit per customer-month = (email revenue − email cost) ÷ customers acquired by email
        LTV = net profit per customer-month × average active months

    Worked example (unit test test_email_subscriber_ltv_reproduces_formulas_md):
    (3,000,000 − 1,200,000) ÷ 1,000 = 1,800 a customer a month; × 10 months = 18,000.
    Customers must be more than 0: with none the result is null, not an error,
    so a cohort that has not yet converted anyone still gets its row.
-#}

{% macro email_net_profit_per_customer_month(email_revenue, email_cost, customers_from_email) -%}
    case
        when {{ customers_from_email }} > 0
            then cast(({{ email_revenue }} - {{ email_cost }}) as {{ type_double() }}) / {{ customers_from_email }}
    end
{%- endmacro %}

{% macro email_subscriber_ltv(email_revenue, email_cost, customers_from_email, average_active_months) -%}
    {{ email_net_profit_per_customer_month(email_revenue, email_cost, customers_from_email) }}
    * {{ average_active_months }}
{%- endmacro %}
