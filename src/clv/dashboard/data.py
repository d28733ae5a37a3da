"""What the dashboard reads from the published file: one small query per chart.

Every query aggregates in SQL, so the page's size does not grow with the
customers: ``customer_clv`` (one row per customer) reaches the page as at most
20 bins per value segment. A mart missing from the file reads as ``None``
(the page says so); an optional mart (``clv_backtest_by_origin``, DuckDB
only) is read only when it exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

#: Bins of historical CLV per value segment in the CLV chart.
CLV_BINS = 20

#: mart -> the query the page reads it with (schema ``marts``).
QUERIES: Mapping[str, str] = {
    "customer_equity_monthly_by_scope": """
        select scope_type, scope_value, month, customers_start, customers_new,
               customers_lost, customers_end, clv, customer_equity,
               acquisition_equity, retention_equity
        from marts.customer_equity_monthly_by_scope
        order by scope_type, scope_value, month
    """,
    "cohort_clv": """
        select cohort_month, months_since_acquisition, cohort_size, ordering_rate
        from marts.cohort_clv
        order by cohort_month, months_since_acquisition
    """,
    # Payback per channel: at each month since acquisition, the average per
    # customer over the cohorts that have reached that month (weighted by size).
    "cohort_clv_by_channel": """
        select
            acquisition_channel,
            months_since_acquisition,
            sum(cohort_size) as customers,
            count(*) as cohorts,
            sum(discounted_cumulative_margin_per_customer * cohort_size) / sum(cohort_size)
                as discounted_cumulative_margin_per_customer,
            sum(acquisition_cost_per_customer * cohort_size) / sum(cohort_size)
                as acquisition_cost_per_customer
        from marts.cohort_clv_by_channel
        group by 1, 2
        having sum(cohort_size) > 0
        order by 1, 2
    """,
    "repeat_customer_rate_monthly": """
        select month, customers_to_date, repeat_customer_rate, period_repeat_rate
        from marts.repeat_customer_rate_monthly
        order by month
    """,
    "loyalty_monthly": """
        select month, nps, nps_responses, redemption_rate, is_redemption_below_20pct
        from marts.loyalty_monthly
        order by month
    """,
    "email_subscriber_ltv": """
        select cohort_month, subscribers, subscriber_ltv, expected_months_on_list,
               net_profit_per_customer_month
        from marts.email_subscriber_ltv
        order by cohort_month
    """,
    "customer_clv": f"""
        with binned as (
            select
                value_segment,
                historical_clv,
                predicted_clv_12m,
                ntile({CLV_BINS}) over (
                    partition by value_segment order by historical_clv
                ) as clv_bin
            from marts.customer_clv
        )
        select
            value_segment,
            clv_bin,
            count(*) as customers,
            count(predicted_clv_12m) as predicted_customers,
            avg(historical_clv) as historical_clv,
            avg(predicted_clv_12m) as predicted_clv_12m
        from binned
        group by 1, 2
        order by 1, 2
    """,
    "clv_backtest": """
        select calibration_frequency, sort_order, customers, mean_predicted_purchases,
               mean_actual_purchases, predicted_purchases, actual_purchases
        from marts.clv_backtest
        order by sort_order
    """,
    "business_event_calendar": """
        select event_date, event_kind, event_label
        from marts.business_event_calendar
        order by event_date, event_kind
    """,
}

#: Marts drawn only where they exist: the rolling-origin backtest is built on DuckDB only,
#: and a publication written before it existed lacks it.
OPTIONAL_QUERIES: Mapping[str, str] = {
    "clv_backtest_by_origin": "select * from marts.clv_backtest_by_origin limit 10000",
}

#: Every mart the page reads (the dashboard exposure in models/marts/_marts__exposures.yml).
MARTS: tuple[str, ...] = tuple(sorted({**QUERIES, **OPTIONAL_QUERIES}))


def _tables(connection: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    rows = connection.execute(
        "select table_name from information_schema.tables where table_schema = ?", [schema]
    ).fetchall()
    return {name for (name,) in rows}


def read_frames(connection: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame | None]:
    """mart -> its query's rows; ``None`` for a mart the file does not hold."""
    present = _tables(connection, "marts")
    frames: dict[str, pd.DataFrame | None] = {}
    for name, query in {**QUERIES, **OPTIONAL_QUERIES}.items():
        frames[name] = connection.execute(query).df() if name in present else None
    return frames


def read_publication(connection: duckdb.DuckDBPyConnection) -> dict | None:
    """The last row of ``main.publication_log``, if the file is a publication."""
    if "publication_log" not in _tables(connection, "main"):
        return None
    row = connection.execute(
        "select publication_id, published_at, as_of_date, git_commit"
        " from main.publication_log order by publication_id desc limit 1"
    ).fetchone()
    if row is None:
        return None
    return dict(
        zip(("publication_id", "published_at", "as_of_date", "git_commit"), row, strict=True)
    )


def read_database(database: Path) -> tuple[dict[str, pd.DataFrame | None], dict | None]:
    """Open ``database`` read-only and read every frame and the publication."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        return read_frames(connection), read_publication(connection)
    finally:
        connection.close()
