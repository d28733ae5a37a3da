"""customer_equity_monthly and customer_equity_monthly_by_scope: an incremental
run gives exactly the rows of a full refresh.

Both marts are incremental the same way (a scheduled run adds the new month and restates the
last ``customer_equity_lookback_months``, default 2, for late data). Two
scenarios, each compared column by column with a ``--full-refresh`` build of
the same data and vars (both marts in each scenario):

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
counts are the mart's YAML data tests), that scope 'all' of
customer_equity_monthly_by_scope is customer_equity_monthly row for row, and
recomputes its country scopes' customers_end from the staging tables (the
scopes adding up to the whole are the mart's YAML data tests).
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
SCOPED_MART = "customer_equity_monthly_by_scope"
ORDER_BY = {MART: "month", SCOPED_MART: "month, scope_type, scope_value"}
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


def _rows(workdir: Path, mart: str = MART) -> tuple[list[str], list[tuple]]:
    with connect_read_only(workdir / "clv.duckdb") as connection:
        cursor = connection.execute(f"select * from marts.{mart} order by {ORDER_BY[mart]}")
        columns = [d[0] for d in cursor.description]
        return columns, cursor.fetchall()


def _incremental_then_full_refresh(
    raw_before: Path, raw_after: Path, as_of_before: str, as_of_after: str, workdir: Path
) -> dict[str, tuple[tuple[list[str], list[tuple]], tuple[list[str], list[tuple]], list[tuple]]]:
    """Build on ``raw_before``, run incrementally on ``raw_after``, then full-refresh it.

    Per mart (customer_equity_monthly and its by-scope twin): the incremental
    rows, the full-refresh rows and the rows of the first build.
    """
    select = ["--select", f"+{MART}", f"+{SCOPED_MART}"]
    _dbt(["seed"], raw_before, workdir)
    _dbt(["run", *select, *_vars(as_of_before)], raw_before, workdir)
    first_rows = {mart: _rows(workdir, mart)[1] for mart in ORDER_BY}
    # Upstream tables (reporting_period, all_months) hold the as_of_date, so
    # they are rebuilt too; the marts themselves run incrementally.
    _dbt(["run", *select, *_vars(as_of_after)], raw_after, workdir)
    incremental = {mart: _rows(workdir, mart) for mart in ORDER_BY}
    _dbt(["run", *select, "--full-refresh", *_vars(as_of_after)], raw_after, workdir)
    full_refresh = {mart: _rows(workdir, mart) for mart in ORDER_BY}
    return {mart: (incremental[mart], full_refresh[mart], first_rows[mart]) for mart in ORDER_BY}


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
    runs = _incremental_then_full_refresh(raw_dir, raw_dir, "2024-09-30", "2024-12-31", tmp_path)
    incremental, full_refresh, first_rows = runs[MART]
    assert str(first_rows[-1][0]) == "2024-09-01"
    assert str(incremental[1][-1][0]) == "2024-12-01"
    _assert_same_rows(incremental, full_refresh)
    scoped_incremental, scoped_full_refresh, scoped_first_rows = runs[SCOPED_MART]
    month = scoped_incremental[0].index("month")
    assert str(max(row[month] for row in scoped_first_rows)) == "2024-09-01"
    assert str(max(row[month] for row in scoped_incremental[1])) == "2024-12-01"
    _assert_same_rows(scoped_incremental, scoped_full_refresh)


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
    runs = _incremental_then_full_refresh(
        tmp_path / "early_raw", raw_dir, "2024-10-31", "2024-10-31", workdir
    )
    incremental, full_refresh, first_rows = runs[MART]
    _assert_same_rows(incremental, full_refresh)
    # The late orders changed their month (so the test exercises a restatement).
    first = {str(row[0]): row for row in first_rows}
    late = {str(row[0]): row for row in incremental[1]}
    assert first[late_month] != late[late_month]
    scoped_incremental, scoped_full_refresh, scoped_first_rows = runs[SCOPED_MART]
    _assert_same_rows(scoped_incremental, scoped_full_refresh)
    assert scoped_first_rows != scoped_incremental[1]


def test_late_orders_older_than_the_lookback_need_a_full_refresh(simulated_raw, tmp_path):
    """Documented limit: July is outside the 2-month lookback of an October run,
    so its late orders reach the mart only with ``--full-refresh``."""
    raw_dir, _ = simulated_raw
    _hold_back_orders(raw_dir, tmp_path / "early_raw", "2024-07-01")
    workdir = tmp_path / "warehouse"
    incremental, full_refresh, first_rows = _incremental_then_full_refresh(
        tmp_path / "early_raw", raw_dir, "2024-10-31", "2024-10-31", workdir
    )[MART]
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


def test_scope_all_is_customer_equity_monthly(warehouse):
    """Scope 'all' of the by-scope mart is customer_equity_monthly, row for row."""
    with connect_read_only(warehouse.database) as connection:
        whole_cursor = connection.execute(SELECT_QUERY)
        columns = [d[0] for d in whole_cursor.description]
        whole = whole_cursor.fetchall()
        scoped = connection.execute(
            f"select {', '.join(columns)} from marts.{SCOPED_MART} "
            "where scope_type = 'all' and scope_value = 'all' order by month"
        ).fetchall()
    assert len(whole) > 12
    assert scoped == whole


#: Customers active at each month's end per country, from the staging tables
#: alone: a valid order (completed, not cancelled) in the active_window_days
#: (365) before the first day of the next month; a missing country is 'unknown'.
CUSTOMERS_END_BY_COUNTRY = """
with months as (
    select distinct month from marts.customer_equity_monthly_by_scope
),
valid_orders as (
    select customer_id, ordered_at from staging.stg_shop__orders
    where is_completed and not is_cancelled
)
select
    months.month,
    coalesce(nullif(customers.country_code, ''), 'unknown') as country,
    count(distinct valid_orders.customer_id) as customers_end
from months
inner join valid_orders
    on valid_orders.ordered_at < months.month + interval 1 month
    and valid_orders.ordered_at >= months.month + interval 1 month - interval 365 day
inner join staging.stg_shop__customers as customers
    on valid_orders.customer_id = customers.customer_id
group by 1, 2
"""


def test_country_scopes_match_a_count_from_staging(warehouse):
    """customers_end of every country scope and month, recomputed from
    stg_shop__orders and stg_shop__customers without the intermediate models."""
    with connect_read_only(warehouse.database) as connection:
        expected = {
            (str(month), country): count
            for month, country, count in connection.execute(CUSTOMERS_END_BY_COUNTRY).fetchall()
        }
        found = {
            (str(month), country): count
            for month, country, count in connection.execute(
                f"select month, scope_value, customers_end from marts.{SCOPED_MART} "
                "where scope_type = 'country' and customers_end > 0"
            ).fetchall()
        }
    assert len({country for _, country in expected}) > 1
    assert found == expected


@pytest.mark.parametrize(
    ("margin", "retention", "discount", "expected"),
    [(100, 0.8, 0.1, 266.67)],
)
def test_python_formula_matches_docs_example(margin, retention, discount, expected):
    assert round(gupta_lehmann_clv(margin, retention, discount), 2) == expected
