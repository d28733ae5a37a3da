"""Breakages the great-expectations warehouse gates must catch, on DuckDB and PostgreSQL.

Shared by ``tests/test_validate.py`` (a copy of the session DuckDB file) and
``tests/test_postgres_portability.py`` (a copy of the PostgreSQL database).
Each statement breaks what only these gates check, not a dbt data test: the
audit against the staging it summarises, a mart against the manifest of the
build (present, not empty, its columns and types), and a trend against its
history. Breakages a dbt data test catches (a rate of 1.5, a broken
identity, a duplicate key) are the models' YAML's: ``dbt build`` fails on
them before any publication.
"""

from __future__ import annotations

BREAKAGES = (
    # Not a breakage: dbt's stored failing rows (schema test_failures) are views on the
    # marts, and PostgreSQL refuses to alter or drop a column or table a view reads.
    "drop schema if exists test_failures cascade",
    # Audit: the summary claims one staged row more than staging holds.
    "update audit.rejection_summary set staged_rows = staged_rows - 1"
    " where source_table = 'shop.customers'",
    # A mart whose column no longer has its contract's type.
    "alter table marts.loyalty_monthly alter column nps type varchar using cast(nps as varchar)",
    # A mart emptied.
    "delete from marts.churn_by_category_breadth",
    # A mart without one of its declared columns.
    "alter table marts.email_subscribers drop column allocated_spend",
    # A mart of the manifest missing from the warehouse.
    "drop table marts.repeat_customer_rate_monthly",
    # The latest month's revenue (so its average order value) five times too high.
    "update marts.cohort_clv set revenue = revenue * 5"
    " where month = (select max(month) from marts.cohort_clv)",
)

#: The suites BREAKAGES break, and nothing else.
BROKEN_SUITES = {
    "audit.rejection_summary",
    "marts.loyalty_monthly",
    "marts.churn_by_category_breadth",
    "marts.email_subscribers",
    "marts.repeat_customer_rate_monthly",
    "marts.kpi_trends",
}

#: A line of each broken suite's failures, on either engine.
EXPECTED_FAILURES = {
    "audit.rejection_summary": "staged_rows vs staged_rows_counted",
    "marts.loyalty_monthly": "marts.loyalty_monthly: column nps is ",
    "marts.churn_by_category_breadth": "expect_table_row_count_to_be_between on table",
    "marts.email_subscribers": (
        "marts.email_subscribers: column allocated_spend of the dbt manifest is missing"
    ),
    "marts.repeat_customer_rate_monthly": "in the dbt manifest, missing from",
    "marts.kpi_trends": "on average_order_value_ratio_to_trailing_median (expected 0.5 .. 1.5)",
}
