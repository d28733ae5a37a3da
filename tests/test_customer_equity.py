"""customer_equity_monthly: an incremental run gives exactly the rows of a full refresh.

The mart is incremental (a scheduled run adds the new month and restates the
last ``customer_equity_lookback_months``, default 2, for late data). Two
scenarios, each compared column by column with a ``--full-refresh`` build of
the same data and vars:

* the reporting period moves forward (``as_of_date`` from 2024-09-30 to
  2024-12-31): the new months are added, the lookback months restated;
* orders arrive late (half of one month's orders are missing from the first
  build): for the last built month (October 2024) and for the oldest month
  the lookback restates (August) the incremental run equals a full refresh;
  late orders older than the lookback (July) reach the mart only with
  ``--full-refresh`` (a documented limit, also tested).

The snapshot ``customer_equity_monthly_snapshot`` keeps what was reported:
after late orders restate a month inside the lookback, the month has two
versions, the first (as reported) closed and readable, the second current;
"as reported at X" and "as restated now" are one query each.

Also checks every built month against the Gupta & Lehmann formula of
:func:`clv.formulas.gupta_lehmann_clv` (the identities between the customer
counts are the mart's YAML data tests).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pytest

from clv.formulas import gupta_lehmann_clv
from clv.warehouse import connect_read_only
from tests.support.dbt import run_dbt, warehouse_env

pytestmark = pytest.mark.scale

MART = "customer_equity_monthly"
SELECT_QUERY = f"select * from marts.{MART} order by month"
SNAPSHOT = "customer_equity_monthly_snapshot"
#: The README's two queries: the months as reported at a time, and as restated now.
AS_REPORTED_AT = (
    "select {columns} from snapshots.customer_equity_monthly_snapshot "
    "where valid_from <= ? and (valid_to > ? or valid_to is null) order by month"
)
AS_RESTATED_NOW = (
    "select {columns} from snapshots.customer_equity_monthly_snapshot "
    "where valid_to is null order by month"
)
# Late rows must not trip the rejection gate (items of the held-back orders
# are rejected as unknown orders in the first build).
GATE_VARS = "max_rejected_share: 1"


def _dbt(args: list[str], raw_dir: Path, workdir: Path) -> None:
    """``dbt <args>`` on ``raw_dir`` into ``workdir``'s DuckDB file; must pass."""
    run_dbt(
        args, env=warehouse_env(raw_dir, workdir / "clv.duckdb"), target_path=workdir / "target"
    )


def _vars(as_of_date: str) -> list[str]:
    return ["--vars", f"{{as_of_date: '{as_of_date}', {GATE_VARS}}}"]


def _rows(workdir: Path) -> tuple[list[str], list[tuple]]:
    with connect_read_only(workdir / "clv.duckdb") as connection:
        cursor = connection.execute(SELECT_QUERY)
        columns = [d[0] for d in cursor.description]
        return columns, cursor.fetchall()


def _incremental_then_full_refresh(
    raw_before: Path, raw_after: Path, as_of_before: str, as_of_after: str, workdir: Path
) -> tuple[tuple[list[str], list[tuple]], tuple[list[str], list[tuple]], list[tuple]]:
    """Build on ``raw_before``, run incrementally on ``raw_after``, then full-refresh it."""
    _dbt(["seed"], raw_before, workdir)
    _dbt(["run", "--select", f"+{MART}", *_vars(as_of_before)], raw_before, workdir)
    _, first_rows = _rows(workdir)
    # Upstream tables (reporting_period, all_months) hold the as_of_date, so
    # they are rebuilt too; the mart itself runs incrementally.
    _dbt(["run", "--select", f"+{MART}", *_vars(as_of_after)], raw_after, workdir)
    incremental = _rows(workdir)
    _dbt(["run", "--select", f"+{MART}", "--full-refresh", *_vars(as_of_after)], raw_after, workdir)
    full_refresh = _rows(workdir)
    return incremental, full_refresh, first_rows


def _assert_same_rows(incremental, full_refresh) -> None:
    inc_columns, inc_rows = incremental
    full_columns, full_rows = full_refresh
    assert inc_columns == full_columns
    assert len(inc_rows) == len(full_rows)
    for inc_row, full_row in zip(inc_rows, full_rows, strict=True):
        for column, inc_value, full_value in zip(inc_columns, inc_row, full_row, strict=True):
            assert inc_value == full_value, (
                f"{inc_row[0]} {column}: incremental {inc_value} != full {full_value}"
            )


def test_incremental_matches_full_refresh_when_as_of_date_moves(simulated_raw, tmp_path):
    raw_dir, _ = simulated_raw
    incremental, full_refresh, first_rows = _incremental_then_full_refresh(
        raw_dir, raw_dir, "2024-09-30", "2024-12-31", tmp_path
    )
    assert str(first_rows[-1][0]) == "2024-09-01"
    assert str(incremental[1][-1][0]) == "2024-12-01"
    _assert_same_rows(incremental, full_refresh)


def _hold_back_orders(raw_dir: Path, early_raw: Path, month_start: str) -> int:
    """Copy ``raw_dir`` to ``early_raw`` without half the orders of one month."""
    shutil.copytree(raw_dir, early_raw)
    orders = raw_dir / "shop" / "orders.parquet"
    held_back = (
        f"ordered_at >= timestamp '{month_start}' "
        f"and ordered_at < timestamp '{month_start}' + interval 1 month "
        "and order_id % 2 = 0"
    )
    duckdb.sql(
        f"copy (select * from read_parquet('{orders}') where not ({held_back})) "
        f"to '{early_raw / 'shop' / 'orders.parquet'}' (format parquet)"
    )
    return duckdb.sql(
        f"select count(*) from read_parquet('{orders}') where {held_back}"
    ).fetchone()[0]


@pytest.mark.parametrize(
    "late_month",
    [
        "2024-10-01",  # the last built month
        "2024-08-01",  # the oldest month the 2-month lookback restates
    ],
)
def test_incremental_matches_full_refresh_after_late_orders(simulated_raw, tmp_path, late_month):
    raw_dir, _ = simulated_raw
    assert _hold_back_orders(raw_dir, tmp_path / "early_raw", late_month) > 0
    workdir = tmp_path / "warehouse"
    incremental, full_refresh, first_rows = _incremental_then_full_refresh(
        tmp_path / "early_raw", raw_dir, "2024-10-31", "2024-10-31", workdir
    )
    _assert_same_rows(incremental, full_refresh)
    # The late orders changed their month (so the test exercises a restatement).
    first = {str(row[0]): row for row in first_rows}
    late = {str(row[0]): row for row in incremental[1]}
    assert first[late_month] != late[late_month]


def test_late_orders_older_than_the_lookback_need_a_full_refresh(simulated_raw, tmp_path):
    """Documented limit: July is outside the 2-month lookback of an October run,
    so its late orders reach the mart only with ``--full-refresh``."""
    raw_dir, _ = simulated_raw
    _hold_back_orders(raw_dir, tmp_path / "early_raw", "2024-07-01")
    workdir = tmp_path / "warehouse"
    incremental, full_refresh, first_rows = _incremental_then_full_refresh(
        tmp_path / "early_raw", raw_dir, "2024-10-31", "2024-10-31", workdir
    )
    first = {str(row[0]): row for row in first_rows}
    kept = {str(row[0]): row for row in incremental[1]}
    restated = {str(row[0]): row for row in full_refresh[1]}
    assert kept["2024-07-01"] == first["2024-07-01"]
    assert restated["2024-07-01"] != first["2024-07-01"]


def _versions(workdir: Path, columns: list[str]) -> dict[str, list[dict]]:
    """Every version of every month in the snapshot, oldest first."""
    with connect_read_only(workdir / "clv.duckdb") as connection:
        cursor = connection.execute(
            f"select {', '.join(columns)}, valid_from, valid_to "
            f"from snapshots.{SNAPSHOT} order by month, valid_from"
        )
        names = [d[0] for d in cursor.description]
        versions: dict[str, list[dict]] = {}
        for row in cursor.fetchall():
            version = dict(zip(names, row, strict=True))
            versions.setdefault(str(version["month"]), []).append(version)
        return versions


def _query(workdir: Path, sql: str, params: list | None = None) -> list[tuple]:
    with connect_read_only(workdir / "clv.duckdb") as connection:
        return connection.execute(sql, params or []).fetchall()


def test_snapshot_keeps_what_was_reported_when_late_orders_restate_a_month(simulated_raw, tmp_path):
    """Half of October's orders arrive after the October build: the second
    build restates October (inside the 2-month lookback), and the snapshot
    keeps both versions."""
    raw_dir, _ = simulated_raw
    late_month = "2024-10-01"
    assert _hold_back_orders(raw_dir, tmp_path / "early_raw", late_month) > 0
    workdir = tmp_path / "warehouse"
    build = ["build", *_vars("2024-10-31")]

    _dbt(build, tmp_path / "early_raw", workdir)
    columns, reported = _rows(workdir)
    first = _versions(workdir, columns)
    assert sorted(first) == [str(row[0]) for row in reported]
    assert all(len(v) == 1 and v[0]["valid_to"] is None for v in first.values())
    reported_at = max(v[0]["valid_from"] for v in first.values())

    _dbt(build, raw_dir, workdir)
    _, restated = _rows(workdir)
    versions = _versions(workdir, columns)

    assert [month for month, v in versions.items() if len(v) > 1] == [late_month]
    as_reported, current = versions[late_month]
    month_row = {"reported": reported, "restated": restated}
    reported_row, restated_row = (
        dict(zip(columns, next(r for r in rows if str(r[0]) == late_month), strict=True))
        for rows in month_row.values()
    )
    assert reported_row != restated_row
    assert {c: as_reported[c] for c in columns} == reported_row
    assert as_reported["valid_to"] == current["valid_from"] > as_reported["valid_from"]
    assert {c: current[c] for c in columns} == restated_row
    assert current["valid_to"] is None

    select = ", ".join(columns)
    assert _query(workdir, AS_REPORTED_AT.format(columns=select), [reported_at] * 2) == reported
    assert _query(workdir, AS_RESTATED_NOW.format(columns=select)) == restated


def test_every_month_follows_the_python_formula(warehouse):
    """clv and customer_equity of every built month against :func:`gupta_lehmann_clv`.

    The identities between the customer counts are the mart's YAML data tests.
    """
    with connect_read_only(warehouse.database) as connection:
        cursor = connection.execute(SELECT_QUERY)
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    checked = 0
    for row in rows:
        if row["clv"] is None or row["margin_per_customer_annual"] < 0:
            continue
        margin, retention = row["margin_per_customer_annual"], row["retention_rate_annual"]
        expected = gupta_lehmann_clv(margin, retention, row["discount_rate"])
        assert math.isclose(row["clv"], round(expected, 2), abs_tol=0.006)
        assert math.isclose(row["customer_equity"], expected * row["customers_end"], abs_tol=0.006)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize(
    ("margin", "retention", "discount", "expected"),
    [(100, 0.8, 0.1, 266.67)],
)
def test_python_formula_matches_docs_example(margin, retention, discount, expected):
    assert round(gupta_lehmann_clv(margin, retention, discount), 2) == expected
