"""``clv validate``: the great-expectations gates pass on a good build and can fail.

The session warehouse (1,500 simulated customers with 2 % injected defects)
must pass every layer. Must-fail cases run on a copy of its DuckDB file with
the breakages of ``tests/support/validate_breakages.py`` written into it (the session
files are never modified), on the session build's manifest with an extra
mart, on a fake row-count history, and through the command line's exit codes.
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
from clv.manifest import DbtManifest, canonical_type
from clv.quality import QualitySettings, validate
from clv.quality.history import RowCountHistory
from tests.support.validate_breakages import BREAKAGES, BROKEN_SUITES, EXPECTED_FAILURES

pytestmark = pytest.mark.integration

#: Fewest expectations each suite of a layer must evaluate on the session warehouse.
MIN_EXPECTATIONS = {"raw": 20, "staging": 2, "marts": 2}


@pytest.fixture(scope="module")
def full_report(warehouse, tmp_path_factory):
    docs_dir = tmp_path_factory.mktemp("quality") / "docs"
    report = validate(
        ("raw", "staging", "marts"),
        raw_dir=warehouse.raw_dir,
        database=warehouse.database,
        docs_dir=docs_dir,
        manifest=warehouse.target_path / "manifest.json",
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
    assert sum(s.evaluated for s in report.suites) > 400


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
        ("marts",),
        raw_dir=warehouse.raw_dir,
        database=warehouse.database,
        docs_dir=docs_dir,
        manifest=warehouse.target_path / "manifest.json",
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
    return validate(
        ("staging", "marts"),
        raw_dir=warehouse.raw_dir,
        database=broken_database,
        manifest=warehouse.target_path / "manifest.json",
    )


def _failures(report, suite_name: str) -> str:
    suite = report.suite(suite_name)
    assert not suite.success, f"{suite_name} passed"
    assert suite.failed == len(suite.failures)
    return "\n".join(suite.failures)


def test_broken_warehouse_fails_the_gate(broken_report):
    assert not broken_report.success
    failed = {suite.name for suite in broken_report.suites if not suite.success}
    assert failed == BROKEN_SUITES


@pytest.mark.parametrize("suite_name", sorted(EXPECTED_FAILURES))
def test_each_breakage_fails_its_suite_for_its_reason(broken_report, suite_name):
    assert EXPECTED_FAILURES[suite_name] in _failures(broken_report, suite_name)


def test_a_wrong_type_is_named_with_both_types(broken_report):
    assert (
        "marts.loyalty_monthly: column nps is VARCHAR, the manifest declares double precision"
        in _failures(broken_report, "marts.loyalty_monthly")
    )


def test_latest_average_order_value_outside_its_band_fails(broken_report):
    failures = _failures(broken_report, "marts.kpi_trends")
    assert "retention_rate_annual" not in failures


# ---------------------------------------------------------------- the marts come from the manifest


def _manifest_with(warehouse, tmp_path: Path, **marts: dict[str, str]) -> Path:
    """The session build's manifest plus one mart model per keyword: ``name={column: type}``."""
    document = json.loads((warehouse.target_path / "manifest.json").read_text())
    project = document["metadata"]["project_name"]
    for name, columns in marts.items():
        document["nodes"][f"model.{project}.{name}"] = {
            "resource_type": "model",
            "package_name": project,
            "name": name,
            "alias": name,
            "schema": "marts",
            "config": {"enabled": True, "materialized": "table", "contract": {"enforced": True}},
            "columns": {c: {"name": c, "data_type": t} for c, t in columns.items()},
            "depends_on": {"nodes": []},
        }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document))
    return path


def test_a_new_mart_is_checked_without_editing_any_list(warehouse, tmp_path):
    """A mart dbt builds is checked because the manifest lists it, nothing else.

    ``new_mart`` is in no Python list: the gate finds it in the manifest, and
    fails it when it is empty, then passes it once it has rows.
    """
    copy = tmp_path / "clv.duckdb"
    shutil.copy(warehouse.database, copy)
    connection = duckdb.connect(str(copy))
    try:
        connection.execute(
            "create table marts.new_mart (month date not null, customers bigint not null)"
        )
    finally:
        connection.close()
    new_mart = {"month": "date", "customers": "bigint"}
    manifest = _manifest_with(warehouse, tmp_path, new_mart=new_mart)

    empty = validate(("marts",), raw_dir=warehouse.raw_dir, database=copy, manifest=manifest)

    assert [suite.name for suite in empty.suites if not suite.success] == ["marts.new_mart"]
    assert "expect_table_row_count_to_be_between" in empty.suite("marts.new_mart").failures[0]

    connection = duckdb.connect(str(copy))
    try:
        connection.execute("insert into marts.new_mart values (date '2024-01-01', 3)")
    finally:
        connection.close()
    filled = validate(("marts",), raw_dir=warehouse.raw_dir, database=copy, manifest=manifest)

    assert filled.success, "\n".join(filled.summary_lines())
    assert filled.suite("marts.new_mart").evaluated == 4  # 2 columns compared, rows, column set


def test_a_mart_whose_yaml_says_why_it_may_be_empty_passes_empty(warehouse, tmp_path):
    """clv_backtest_by_origin is empty on the session's two years, and says why in its YAML."""
    manifest = DbtManifest.from_dict(
        json.loads((warehouse.target_path / "manifest.json").read_text())
    )
    (origins,) = [m for m in manifest.in_schema("marts") if m.name == "clv_backtest_by_origin"]
    assert "history" in origins.may_be_empty
    report = validate(
        ("marts",),
        raw_dir=warehouse.raw_dir,
        database=warehouse.database,
        manifest=warehouse.target_path / "manifest.json",
    )
    suite = report.suite("marts.clv_backtest_by_origin")
    assert suite.success, suite.failures
    with duckdb.connect(str(warehouse.database), read_only=True) as connection:
        (rows,) = connection.execute("select count(*) from marts.clv_backtest_by_origin").fetchone()
    assert rows == 0
    # Without the note the same empty table fails, as any other empty mart.
    document = json.loads((warehouse.target_path / "manifest.json").read_text())
    (node,) = [n for n in document["nodes"].values() if n.get("name") == "clv_backtest_by_origin"]
    node["config"]["meta"].pop("may_be_empty")
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document))
    strict = validate(
        ("marts",), raw_dir=warehouse.raw_dir, database=warehouse.database, manifest=path
    )
    assert not strict.suite("marts.clv_backtest_by_origin").success


def test_a_mart_of_the_manifest_that_was_not_built_fails(warehouse, tmp_path):
    manifest = _manifest_with(warehouse, tmp_path, never_built={"customer_id": "bigint"})

    report = validate(
        ("marts",), raw_dir=warehouse.raw_dir, database=warehouse.database, manifest=manifest
    )

    assert [suite.name for suite in report.suites if not suite.success] == ["marts.never_built"]
    assert "in the dbt manifest, missing from" in report.suite("marts.never_built").failures[0]


def test_every_model_of_the_manifest_gets_a_suite(full_report, warehouse):
    """The suites are the manifest's stg_ models and marts, no more and no fewer."""
    report, _ = full_report
    document = json.loads((warehouse.target_path / "manifest.json").read_text())
    models = {
        f"{node['schema']}.{node['alias']}"
        for node in document["nodes"].values()
        if node["resource_type"] == "model"
        and (node["schema"] == "marts" or node["name"].startswith("stg_"))
    }
    checked = {suite.name for suite in report.suites if suite.layer in ("staging", "marts")}
    assert checked - {"audit.rejection_summary", "marts.kpi_trends"} == models
    assert "marts.customer_equity_monthly" in models and "staging.stg_shop__orders" in models


def test_the_manifest_lists_built_models_and_the_source_each_stg_model_stages():
    """Ephemeral, disabled and package models are not built relations; a stg_ model's
    source is the one its base_ model reads, not those of the staging models it joins."""

    project = "clv_warehouse"

    def node(name, schema, parents=(), materialized="view", package=project, **config):
        return {
            "resource_type": "model",
            "package_name": package,
            "name": name,
            "schema": schema,
            "config": {"materialized": materialized, **config},
            "columns": {"id": {"name": "id", "data_type": "bigint"}},
            "depends_on": {"nodes": list(parents)},
        }

    nodes = {
        "model.p.base_shop__customers": node(
            "base_shop__customers", "staging", ["source.p.shop.customers"]
        ),
        "model.p.stg_shop__customers": node(
            "stg_shop__customers", "staging", ["model.p.base_shop__customers"]
        ),
        "model.p.base_shop__orders": node(
            "base_shop__orders",
            "staging",
            ["source.p.shop.orders", "model.p.stg_shop__customers"],
        ),
        "model.p.stg_shop__orders": node(
            "stg_shop__orders", "staging", ["model.p.base_shop__orders"]
        ),
        "model.p.int_orders": node("int_orders", "intermediate", materialized="ephemeral"),
        "model.p.old_mart": node("old_mart", "marts", materialized="table", enabled=False),
        "model.pkg.package_mart": node("package_mart", "marts", package="elsewhere"),
        "model.p.new_mart": node("new_mart", "marts", materialized="table"),
    }
    sources = {
        f"source.p.shop.{name}": {"source_name": "shop", "name": name, "package_name": project}
        for name in ("customers", "orders")
    }
    manifest = DbtManifest.from_dict(
        {"metadata": {"project_name": project}, "nodes": nodes, "sources": sources}
    )

    assert [m.name for m in manifest.in_schema("marts")] == ["new_mart"]
    assert {m.name: m.source for m in manifest.in_schema("staging")} == {
        "stg_shop__customers": "shop.customers",
        "stg_shop__orders": "shop.orders",
    }
    assert manifest.sources == ("shop.customers", "shop.orders")
    assert manifest.in_schema("marts")[0].columns == {"id": "bigint"}


def test_canonical_type_equates_engine_spellings():
    assert canonical_type("DOUBLE") == canonical_type("double precision")
    assert canonical_type("character varying") == canonical_type("VARCHAR(64)")
    assert canonical_type("timestamp without time zone") == canonical_type("TIMESTAMP")
    assert canonical_type("BIGINT") != canonical_type("integer")
    assert canonical_type("DECIMAL(18,3)") == canonical_type("numeric")


def test_a_missing_manifest_is_a_user_error(warehouse, tmp_path):
    with pytest.raises(UserError, match="no dbt manifest at .*nowhere.json"):
        validate(
            ("marts",),
            raw_dir=warehouse.raw_dir,
            database=warehouse.database,
            manifest=tmp_path / "nowhere.json",
        )


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
        "--manifest",
        str(warehouse.target_path / "manifest.json"),
    )

    assert args.func(args) == validate_command.GATE_FAILED == 1

    out = capsys.readouterr().out
    assert "FAILED  marts.loyalty_monthly" in out
    assert "column nps is VARCHAR" in out
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
