"""``clv validate``: the great-expectations gates pass on a good build and can fail.

The session warehouse (1,500 simulated customers with 2 % injected defects)
must pass every layer. Must-fail cases run on a copy of its DuckDB file with
broken rows written into it (the session files are never modified), on a
fake row-count history, and through the command line's exit codes.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from clv.commands import validate as validate_command
from clv.contract.tables import SPECS
from clv.errors import UserError
from clv.quality import QualitySettings, validate
from clv.quality.history import RowCountHistory

pytestmark = pytest.mark.integration

#: Fewest expectations each suite of a layer must evaluate on the session warehouse.
MIN_EXPECTATIONS = {"raw": 20, "staging": 5, "marts": 2}


@pytest.fixture(scope="module")
def full_report(warehouse, tmp_path_factory):
    docs_dir = tmp_path_factory.mktemp("quality") / "docs"
    report = validate(
        ("raw", "staging", "marts"),
        raw_dir=warehouse.raw_dir,
        database=warehouse.database,
        docs_dir=docs_dir,
    )
    return report, docs_dir


def test_every_layer_passes_on_the_session_warehouse(full_report):
    report, _ = full_report
    assert report.success, "\n".join(report.summary_lines())
    layers = {suite.layer for suite in report.suites}
    assert layers == {"raw", "staging", "marts"}


def test_every_suite_evaluates_a_real_number_of_expectations(full_report):
    report, _ = full_report
    by_layer: dict[str, list] = {}
    for suite in report.suites:
        by_layer.setdefault(suite.layer, []).append(suite)
        # raw.completeness holds one expectation per cross-file figure (12).
        minimum = 10 if suite.name == "raw.completeness" else MIN_EXPECTATIONS[suite.layer]
        assert suite.evaluated >= minimum, suite
    assert len(by_layer["raw"]) == len(SPECS) + 1  # a suite per file, and raw.completeness
    assert {s.name for s in by_layer["staging"]} >= {
        "staging.stg_shop__orders",
        "audit.rejection_summary",
    }
    assert {s.name for s in by_layer["marts"]} >= {
        "marts.customer_equity_monthly",
        "marts.loyalty_monthly",
        "marts.cohort_clv",
        "marts.kpi_trends",
    }
    assert sum(s.evaluated for s in report.suites) > 500


def test_data_docs_and_row_count_history_are_written(full_report):
    report, docs_dir = full_report
    assert report.docs_path == docs_dir / "index.html"
    assert report.docs_path.is_file()
    assert list((docs_dir / "validations").rglob("*.html"))
    history = json.loads((docs_dir.parent / "raw_row_counts.json").read_text())
    (counts,) = history.values()
    assert set(counts) == set(SPECS)
    lines = report.summary_lines()
    assert lines[-1] == f"Data Docs: {report.docs_path}"
    assert f"{len(report.suites)} of {len(report.suites)} suites passed" in lines[-2]


def test_data_docs_show_the_last_run_only_and_keep_other_files(warehouse, tmp_path):
    docs_dir = tmp_path / "docs"
    stale = docs_dir / "validations" / "raw.old" / "__none__" / "stale.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("<html>an earlier run</html>")
    (docs_dir / "index.html").write_text("<html>old index</html>")
    keep = docs_dir / "README.txt"
    keep.write_text("not written by great-expectations")

    report = validate(
        ("marts",), raw_dir=warehouse.raw_dir, database=warehouse.database, docs_dir=docs_dir
    )

    assert report.docs_path == docs_dir / "index.html"
    assert "old index" not in report.docs_path.read_text()
    assert not stale.exists()
    pages = list((docs_dir / "validations").rglob("*.html"))
    # validations/<layer>/<suite>/...: this run's marts suites and nothing else.
    layers = {path.relative_to(docs_dir / "validations").parts[0] for path in pages}
    assert pages and layers == {"marts"}, pages
    assert keep.read_text() == "not written by great-expectations"


# ---------------------------------------------------------------- must-fail: warehouse


BREAKAGES = (
    # Staging: a clean order delivered twice slips past the quarantine.
    "insert into staging.base_shop__orders"
    " select * from staging.base_shop__orders where rejection_reason is null limit 1",
    # Audit: one row unaccounted for.
    "update audit.rejection_summary set staged_rows = staged_rows - 1"
    " where source_table = 'shop.customers'",
    # Marts: rates and NPS out of range.
    "update marts.cohort_clv set retention_rate = 1.5"
    " where months_since_acquisition = 1"
    " and cohort_month = (select min(cohort_month) from marts.cohort_clv)",
    "update marts.loyalty_monthly set nps = 150"
    " where month = (select max(month) from marts.loyalty_monthly)",
    # A cumulative margin that falls.
    "update marts.cohort_clv"
    " set cumulative_margin_per_customer = cumulative_margin_per_customer - 1000"
    " where months_since_acquisition = 3"
    " and cohort_month = (select min(cohort_month) from marts.cohort_clv)",
    # Customer equity: end != start + new - lost, and next start != this end.
    "update marts.customer_equity_monthly set customers_end = customers_end + 7"
    " where month = (select month from marts.customer_equity_monthly order by month"
    " limit 1 offset 5)",
    # A hole in a month spine.
    "delete from marts.repeat_customer_rate_monthly"
    " where month = (select month from marts.repeat_customer_rate_monthly order by month"
    " limit 1 offset 3)",
    # The latest month's revenue (so its average order value) five times too high.
    "update marts.cohort_clv set revenue = revenue * 5"
    " where month = (select max(month) from marts.cohort_clv)",
)

#: The suites BREAKAGES break: only those, and the audit, which counts staging rows.
BROKEN_SUITES = {
    "staging.stg_shop__orders",
    "audit.rejection_summary",
    "marts.cohort_clv",
    "marts.loyalty_monthly",
    "marts.customer_equity_monthly",
    "marts.repeat_customer_rate_monthly",
    "marts.kpi_trends",
}


@pytest.fixture(scope="module")
def broken_database(warehouse, tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("broken") / "clv.duckdb"
    shutil.copy(warehouse.database, copy)
    connection = duckdb.connect(str(copy))
    try:
        for statement in BREAKAGES:
            connection.execute(statement)
    finally:
        connection.close()
    return copy


@pytest.fixture(scope="module")
def broken_report(warehouse, broken_database):
    return validate(("staging", "marts"), raw_dir=warehouse.raw_dir, database=broken_database)


def _failures(report, suite_name: str) -> str:
    suite = report.suite(suite_name)
    assert not suite.success, f"{suite_name} passed"
    assert suite.failed == len(suite.failures)
    return "\n".join(suite.failures)


def test_broken_warehouse_fails_the_gate(broken_report):
    assert not broken_report.success
    failed = {suite.name for suite in broken_report.suites if not suite.success}
    assert failed == BROKEN_SUITES


def test_duplicate_staging_key_fails(broken_report):
    failures = _failures(broken_report, "staging.stg_shop__orders")
    assert "expect_column_values_to_be_unique on order_id" in failures
    assert "observed 2 of" in failures


def test_unaccounted_raw_rows_fail_the_audit(broken_report):
    failures = _failures(broken_report, "audit.rejection_summary")
    assert "on unaccounted_rows" in failures
    assert "staged_rows vs staged_rows_counted" in failures


def test_rate_above_one_fails(broken_report):
    failures = _failures(broken_report, "marts.cohort_clv")
    assert "expect_column_values_to_be_between on retention_rate (expected 0 .. 1)" in failures
    assert "e.g. 1.5" in failures


def test_cumulative_margin_off_its_running_sum_fails(broken_report):
    failures = _failures(broken_report, "marts.cohort_clv")
    assert "on margin_running_total_gap" in failures
    assert "on discounted_margin_step_ratio" in failures


def test_a_month_sold_below_cost_passes(warehouse, tmp_path):
    """Margin to date may fall: a month whose margin is negative is no defect.

    One cohort month's gross margin becomes -5 per customer, and both margin
    columns to date are lowered consistently from that month on (the
    discounted one by that month's discount factor at 10 %).
    """
    copy = tmp_path / "clv.duckdb"
    shutil.copy(warehouse.database, copy)
    connection = duckdb.connect(str(copy))
    try:
        cohort, month, size, margin = connection.execute(
            "select cohort_month, months_since_acquisition, cohort_size, gross_margin"
            " from marts.cohort_clv where months_since_acquisition = 2"
            " order by cohort_month limit 1"
        ).fetchone()
        drop = margin + 5 * size
        factor = 1.1 ** (-(month + 1) / 12)
        connection.execute(
            "update marts.cohort_clv set"
            " cumulative_margin_per_customer = cumulative_margin_per_customer - ?,"
            " discounted_cumulative_margin_per_customer"
            " = discounted_cumulative_margin_per_customer - ?"
            " where cohort_month = ? and months_since_acquisition >= ?",
            [drop / size, drop / size * factor, cohort, month],
        )
        connection.execute(
            "update marts.cohort_clv set gross_margin = gross_margin - ?"
            " where cohort_month = ? and months_since_acquisition = ?",
            [drop, cohort, month],
        )
        (fell,) = connection.execute(
            "select count(*) from (select cumulative_margin_per_customer - lag("
            "cumulative_margin_per_customer) over (order by months_since_acquisition) as step"
            " from marts.cohort_clv where cohort_month = ?) where step < 0",
            [cohort],
        ).fetchone()
    finally:
        connection.close()
    assert fell == 1

    report = validate(("marts",), raw_dir=warehouse.raw_dir, database=copy)

    assert report.suite("marts.cohort_clv").success, report.suite("marts.cohort_clv").failures


def test_nps_of_150_fails(broken_report):
    failures = _failures(broken_report, "marts.loyalty_monthly")
    assert "expect_column_values_to_be_between on nps (expected -100 .. 100)" in failures
    assert "e.g. 150" in failures


def test_broken_equity_identities_fail(broken_report):
    failures = _failures(broken_report, "marts.customer_equity_monthly")
    assert "on end_identity_gap" in failures
    assert "on start_continuity_gap" in failures
    assert "e.g. 7" in failures and "e.g. -7" in failures


def test_missing_month_fails_the_spine(broken_report):
    failures = _failures(broken_report, "marts.repeat_customer_rate_monthly")
    assert "on months_since_previous_row (expected 1 .. 1)" in failures
    assert "e.g. 2" in failures


def test_latest_average_order_value_outside_its_band_fails(broken_report):
    failures = _failures(broken_report, "marts.kpi_trends")
    assert "on average_order_value_ratio_to_trailing_median (expected 0.5 .. 1.5)" in failures
    assert "retention_rate_annual" not in failures


# ---------------------------------------------------------------- must-fail: raw row counts


def test_row_count_outside_the_band_fails_and_is_not_recorded(simulated_raw, tmp_path):
    raw_dir, _ = simulated_raw
    history_path = tmp_path / "raw_row_counts.json"
    first = validate(("raw",), raw_dir=raw_dir, database=None, history_path=history_path)
    assert first.success
    orders = RowCountHistory(history_path, raw_dir).previous("shop.orders")
    assert orders and orders > 100

    # Pretend last run saw three times as many orders: this delivery looks partial.
    # (Written in the one-entry format of earlier versions, which is still read.)
    data = json.loads(history_path.read_text())
    data[str(raw_dir.resolve())]["shop.orders"] = {"rows": orders * 3, "recorded_at": "x"}
    history_path.write_text(json.dumps(data))
    second = validate(("raw",), raw_dir=raw_dir, database=None, history_path=history_path)

    assert not second.success
    failures = "\n".join(second.suite("raw.shop.orders").failures)
    assert "shop/orders.parquet: expect_table_row_count_to_be_between on table" in failures
    assert f"observed {orders}" in failures
    assert [s.name for s in second.suites if not s.success] == ["raw.shop.orders"]
    # A failed gate does not become the next baseline.
    assert RowCountHistory(history_path, raw_dir).previous("shop.orders") == orders * 3

    # A wider band accepts the change.
    wide = QualitySettings(row_count_band=0.7, row_count_max_decline=0.7)
    third = validate(
        ("raw",), raw_dir=raw_dir, database=None, history_path=history_path, settings=wide
    )
    assert third.success
    assert RowCountHistory(history_path, raw_dir).previous("shop.orders") == orders


# ---------------------------------------------------------------- command line


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="clv")
    validate_command.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["validate", *argv])


def test_cli_exits_0_and_prints_a_summary_when_the_raw_gate_passes(simulated_raw, tmp_path, capsys):
    raw_dir, _ = simulated_raw
    docs_dir = tmp_path / "docs"
    args = _parse("--layer", "raw", "--raw-dir", str(raw_dir), "--docs-dir", str(docs_dir))

    assert args.func(args) == 0

    out = capsys.readouterr().out
    assert "passed  raw.shop.orders" in out
    assert f"{len(SPECS) + 1} of {len(SPECS) + 1} suites passed" in out
    assert f"Data Docs: {docs_dir / 'index.html'}" in out
    assert (docs_dir / "index.html").is_file()


def test_cli_exits_1_with_the_worst_failures_when_a_gate_fails(
    warehouse, broken_database, tmp_path, capsys
):
    args = _parse(
        "--layer",
        "marts",
        "--database",
        str(broken_database),
        "--raw-dir",
        str(warehouse.raw_dir),
        "--docs-dir",
        str(tmp_path / "docs"),
    )

    assert args.func(args) == validate_command.GATE_FAILED == 1

    out = capsys.readouterr().out
    assert "FAILED  marts.loyalty_monthly" in out
    assert "expect_column_values_to_be_between on nps" in out
    assert "passed  marts.customer_clv" in out
    assert "Quality gate failed." in out
    assert "Traceback" not in out


def test_cli_missing_warehouse_is_a_user_error(tmp_path):
    args = _parse("--layer", "marts", "--database", str(tmp_path / "nope.duckdb"))
    with pytest.raises(UserError, match="no warehouse at .*nope.duckdb"):
        args.func(args)


def test_cli_missing_raw_dir_is_a_user_error(tmp_path):
    args = _parse("--layer", "raw", "--raw-dir", str(tmp_path / "nothing"))
    with pytest.raises(UserError, match="no raw data folder"):
        args.func(args)


def test_cli_main_maps_a_user_error_to_exit_2(tmp_path, capsys):
    from clv import cli

    assert validate_command in cli.COMMANDS
    code = cli.main(["validate", "--layer", "marts", "--database", str(tmp_path / "x.duckdb")])
    assert code == 2
    assert "no warehouse at" in capsys.readouterr().err


def test_unknown_layer_and_target_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="unknown layer"):
        validate(("gold",), raw_dir=tmp_path, database=None)
    with pytest.raises(UserError, match="unknown target 'spark'"):
        validate(("marts",), raw_dir=tmp_path, database=None, target="spark")


def test_unreachable_postgres_is_a_user_error(tmp_path):
    from clv.quality.warehouses import PostgresSettings
    from tests.pg_server import free_port

    nobody = PostgresSettings(port=free_port())
    with pytest.raises(UserError, match=r"cannot connect to PostgreSQL clv@127\.0\.0\.1:"):
        validate(("marts",), raw_dir=tmp_path, database=None, target="postgres", postgres=nobody)
