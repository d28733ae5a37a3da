"""Read-only access to the DuckDB warehouse that dbt builds.

Readers open the file read-only, so they never take the single writer lock
that DuckDB allows; they must not be open while dbt writes the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


@contextmanager
def connect_read_only(database: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open ``database`` read-only and close it on exit."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        yield connection
    finally:
        connection.close()


def relation_exists(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """Whether ``schema.name`` is a table or view in the warehouse."""
    row = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def backtest_by_origin(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The rolling-origin backtest as lines of text: one per origin, then the mean |error|.

    Empty when clv_backtest_by_origin does not exist (PostgreSQL, Spark) or is empty.
    """
    if not relation_exists(connection, "marts", "clv_backtest_by_origin"):
        return []
    rows = connection.execute(
        """
        select
            calibration_end,
            max(actual_purchases),
            max(purchases_relative_error) filter (where clock = 'calendar'),
            max(purchases_relative_error) filter (where clock = 'seasonal')
        from marts.clv_backtest_by_origin
        group by 1
        order by 1
        """
    ).fetchall()
    if not rows:
        return []

    def percent(value: float | None) -> str:
        return "failed" if value is None else f"{value:+.1%}"

    lines = [f"{'calibration end':<16} {'actual':>8} {'calendar':>9} {'seasonal':>9}"]
    lines += [
        f"{end:%Y-%m-%d}       {actual:>8,} {percent(cal):>9} {percent(sea):>9}"
        for end, actual, cal, sea in rows
    ]
    for position, clock in ((2, "calendar"), (3, "seasonal")):
        errors = [abs(row[position]) for row in rows if row[position] is not None]
        if errors:
            lines.append(
                f"{clock} clock: mean |error| {sum(errors) / len(errors):.1%},"
                f" largest {max(errors):.1%} over {len(errors)} origin"
                + ("s" if len(errors) != 1 else "")
            )
    return lines


def headline_figures(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """A few figures that tell a new user the build worked and what it holds.

    Only relations that exist are read, so the summary works on a partial
    build too. Money is in the reporting currency.
    """
    figures: list[tuple[str, str]] = []
    if relation_exists(connection, "staging", "stg_shop__customers"):
        (customers,) = connection.execute(
            "select count(*) from staging.stg_shop__customers"
        ).fetchone()
        figures.append(("customers", f"{customers:,}"))
    if relation_exists(connection, "staging", "stg_shop__orders"):
        orders, buyers, repeaters, order_value = connection.execute(
            """
            with per_customer as (
                select customer_id, count(*) as orders, sum(order_total) as order_value
                from staging.stg_shop__orders
                where is_completed
                group by 1
            )
            select sum(orders), count(*), count(*) filter (where orders >= 2), sum(order_value)
            from per_customer
            """
        ).fetchone()
        (refunds,) = connection.execute(
            "select coalesce(sum(refund_amount), 0) from staging.stg_shop__refunds"
        ).fetchone()
        figures.append(("completed orders", f"{orders:,}"))
        if buyers:
            figures.append(
                (
                    "customers with a repeat order",
                    f"{repeaters:,} of {buyers:,} ({repeaters / buyers:.1%})",
                )
            )
        figures.append(
            (
                "net order value (completed, less refunds)",
                f"{order_value - refunds:,.0f}",
            )
        )
    if relation_exists(connection, "marts", "customer_clv"):
        average, median = connection.execute(
            "select avg(historical_clv), median(historical_clv) from marts.customer_clv"
        ).fetchone()
        figures.append(
            ("historical CLV per customer: mean / median", f"{average:,.2f} / {median:,.2f}")
        )
    if relation_exists(connection, "marts", "customer_clv_predictions"):
        alive, purchases, value = connection.execute(
            "select avg(probability_alive), sum(predicted_purchases_12m), sum(predicted_clv_12m)"
            " from marts.customer_clv_predictions"
        ).fetchone()
        if alive is not None:
            figures.append(
                (
                    "BG/NBD next 12 months: purchases / margin",
                    f"{purchases:,.0f} / {value:,.0f} (mean P(alive) {alive:.2f})",
                )
            )
    if relation_exists(connection, "marts", "clv_backtest"):
        row = connection.execute(
            "select predicted_purchases, actual_purchases from marts.clv_backtest"
            " where calibration_frequency = 'total'"
        ).fetchone()
        if row and row[0] is not None:
            figures.append(
                ("backtest purchases: predicted / actual", f"{row[0]:,.0f} / {row[1]:,}")
            )
    if relation_exists(connection, "marts", "loyalty_monthly"):
        row = connection.execute(
            "select month, nps from marts.loyalty_monthly order by month desc limit 1"
        ).fetchone()
        if row and row[1] is not None:
            figures.append((f"NPS in {row[0]:%B %Y}", f"{row[1]:+.0f}"))
    if relation_exists(connection, "audit", "rejection_summary"):
        raw, rejected = connection.execute(
            "select sum(raw_rows), sum(rejected_rows) from audit.rejection_summary"
        ).fetchone()
        share = rejected / raw if raw else 0.0
        figures.append(
            ("raw rows quarantined (audit.rejected_rows)", f"{rejected:,} of {raw:,} ({share:.2%})")
        )
    return figures
