{#-
    The end of the reporting period's as-of date: midnight after it, as an
    exclusive bound. One convention for every cut and every duration
    (DECISIONLOG.md, "Reporting period"): an event counts when it happened
    before this instant, and a duration that runs "to the as-of date" runs
    to this instant.
-#}
{% macro as_of_end(reporting_period='reporting_period') -%}
    {{ dbt.dateadd('day', 1, reporting_period ~ '.as_of_date') }}
{%- endmacro %}

{#- True when the event timestamp (or date) lies on or before the as-of date. -#}
{% macro is_known_at_as_of(event_column, reporting_period='reporting_period') -%}
    {{ event_column }} < {{ as_of_end(reporting_period) }}
{%- endmacro %}

{#- The definition of a valid order (DECISIONLOG.md, "Value marts (orders
    side)"): completed and not cancelled. Written once; int_orders_enriched
    keeps only these, and reporting_period starts at the first of them. -#}
{% macro is_valid_order(orders='orders') -%}
    ({{ orders }}.is_completed and not {{ orders }}.is_cancelled)
{%- endmacro %}
