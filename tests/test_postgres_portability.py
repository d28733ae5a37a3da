"""The same models, unchanged, on a real PostgreSQL server.

Starts a throwaway server on loopback (Debian's ``postgresql`` package), loads
the simulated raw Parquet files into ``<source>.<table>`` tables with
``tests.support.postgres_load``, runs ``dbt build --target postgres`` (models, data tests and unit
tests) and compares the results with the DuckDB warehouse built from the same
files. Set CLV_SKIP_POSTGRES=1 to skip on a machine without PostgreSQL; CI
installs it (.ci/run).
"""

from __future__ import annotations

import os

import pytest

from clv.warehouse import connect_read_only
from tests.pg_server import PostgresServer, find_pg_bin, free_port
from tests.support.dbt import failures, run_dbt
from tests.support.postgres_load import load_postgres
from tests.support.staging import STAGING_MODELS
from tests.support.validate_breakages import BREAKAGES, BROKEN_SUITES, EXPECTED_FAILURES

pytestmark = pytest.mark.portability


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    if os.environ.get("CLV_SKIP_POSTGRES") == "1":
        pytest.skip("CLV_SKIP_POSTGRES=1")
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL is not installed: `apt-get install postgresql` "
            "(or set CLV_SKIP_POSTGRES=1 to skip the portability tests)"
        )
    server = PostgresServer(bin_dir, tmp_path_factory.mktemp("pg") / "server", free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pg_target(tmp_path_factory):
    """The PostgreSQL build's target path: its manifest lists the models the gates check."""
    return tmp_path_factory.mktemp("pg_target")


@pytest.fixture(scope="module")
def postgres_build(postgres, warehouse, pg_target):
    loaded = load_postgres(warehouse.raw_dir, postgres.connection_kwargs)
    assert set(loaded) == set(STAGING_MODELS)
    result = run_dbt(
        ["build"],
        expect_pass=None,
        env={**postgres.env, "CLV_RAW_DIR": str(warehouse.raw_dir)},
        target_path=pg_target,
    )
    return result


def pg_rows(postgres, sql):
    import psycopg2

    with psycopg2.connect(**postgres.connection_kwargs) as connection, connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_dbt_build_passes_on_postgres(postgres_build):
    assert postgres_build.success, "\n".join(failures(postgres_build))
    kinds = {str(r.node.resource_type) for r in postgres_build.result}
    assert {"model", "test", "unit_test", "seed"} <= kinds


def test_quarantine_is_identical_on_postgres_and_duckdb(postgres, postgres_build, warehouse):
    sql = (
        "select source_table, raw_rows, staged_rows, rejected_rows "
        "from audit.rejection_summary order by source_table"
    )
    with connect_read_only(warehouse.database) as connection:
        duckdb_rows = connection.execute(sql).fetchall()
    assert [tuple(r) for r in pg_rows(postgres, sql)] == [tuple(r) for r in duckdb_rows]
    reasons = (
        "select source_table, reason, count(*) from audit.rejected_rows group by 1, 2 order by 1, 2"
    )
    with connect_read_only(warehouse.database) as connection:
        duckdb_reasons = connection.execute(reasons).fetchall()
    assert [tuple(r) for r in pg_rows(postgres, reasons)] == [tuple(r) for r in duckdb_reasons]


def test_converted_amounts_agree_on_postgres_and_duckdb(postgres, postgres_build, warehouse):
    sql = (
        "select count(*), round(cast(sum(order_total) as numeric), 2), "
        "round(cast(sum(fulfillment_cost) as numeric), 2) from staging.stg_shop__orders"
    )
    with connect_read_only(warehouse.database) as connection:
        (duck,) = connection.execute(sql).fetchall()
    (pg,) = pg_rows(postgres, sql)
    assert duck[0] == pg[0]
    assert float(duck[1]) == pytest.approx(float(pg[1]), abs=0.05)
    assert float(duck[2]) == pytest.approx(float(pg[2]), abs=0.05)


def test_without_python_models_the_predictions_stay_null(postgres, postgres_build, warehouse):
    """PostgreSQL runs no dbt Python models: they are disabled, customer_clv builds."""
    tables = {
        name
        for (name,) in pg_rows(
            postgres,
            "select table_name from information_schema.tables where table_schema = 'marts'",
        )
    }
    assert "customer_clv" in tables
    assert not tables & {"clv_model_parameters", "customer_clv_predictions", "clv_backtest"}
    ((customers, predicted),) = pg_rows(
        postgres, "select count(*), count(probability_alive) from marts.customer_clv"
    )
    assert customers > 0
    assert predicted == 0
    # The SQL summary the models would read is portable and equal on both engines.
    sql = (
        "select count(*), sum(x), round(cast(sum(t_x) as numeric), 6), "
        "round(cast(sum(T) as numeric), 6) from intermediate.int_customers_summarised_for_backtest"
    )
    with connect_read_only(warehouse.database) as connection:
        (duck,) = connection.execute(sql).fetchall()
    (pg,) = pg_rows(postgres, sql)
    assert duck[:2] == pg[:2]
    assert float(duck[2]) == pytest.approx(float(pg[2]))
    assert float(duck[3]) == pytest.approx(float(pg[3]))


def test_snapshot_of_customer_equity_builds_on_postgres(postgres, postgres_build, warehouse):
    """The check-strategy snapshot runs on PostgreSQL: one current version per month."""
    assert "snapshot" in {str(r.node.resource_type) for r in postgres_build.result}
    sql = (
        "select month, customers_end, customers_new, customers_lost "
        "from snapshots.customer_equity_monthly_snapshot where valid_to is null order by month"
    )
    with connect_read_only(warehouse.database) as connection:
        duckdb_rows = connection.execute(sql).fetchall()
    assert duckdb_rows
    assert [tuple(r) for r in pg_rows(postgres, sql)] == [tuple(r) for r in duckdb_rows]


# ---------------------------------------------------------------- great-expectations in PostgreSQL


def _validate_in_postgres(warehouse, settings, pg_target, docs_dir=None):
    from clv.quality import validate

    return validate(
        ("staging", "marts"),
        raw_dir=warehouse.raw_dir,
        database=None,
        docs_dir=docs_dir,
        target="postgres",
        postgres=settings,
        manifest=pg_target / "manifest.json",
    )


@pytest.fixture(scope="module")
def pg_settings(postgres):
    from clv.quality.warehouses import PostgresSettings

    return PostgresSettings(port=postgres.port, user=postgres.user, database=postgres.database)


@pytest.fixture(scope="module")
def broken_pg_settings(postgres, postgres_build, pg_settings):
    """A copy of the built database (``create database ... template``) with the breakages."""
    import dataclasses

    import psycopg2

    admin = psycopg2.connect(**{**postgres.connection_kwargs, "dbname": "postgres"})
    admin.autocommit = True
    with admin.cursor() as cursor:
        # A template must have no other sessions: close what earlier tests left open.
        cursor.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = %s and pid <> pg_backend_pid()",
            [postgres.database],
        )
        cursor.execute(f'create database broken template "{postgres.database}"')
    admin.close()
    broken = dataclasses.replace(pg_settings, database="broken")
    connection = psycopg2.connect(**broken.connection_kwargs())
    with connection, connection.cursor() as cursor:
        for statement in BREAKAGES:
            cursor.execute(statement)
    connection.close()
    return broken


def test_great_expectations_suites_run_in_postgres_and_pass(
    postgres_build, pg_settings, pg_target, warehouse, tmp_path
):
    """The same staging and marts suites as on DuckDB, as query assets of GX's SQL source."""
    import json

    from clv.manifest import DbtManifest
    from clv.quality import validate

    report = _validate_in_postgres(warehouse, pg_settings, pg_target, tmp_path / "docs")
    assert report.success, "\n".join(report.summary_lines())
    assert report.docs_path is not None and report.docs_path.is_file()
    on_duckdb = validate(
        ("staging", "marts"),
        raw_dir=warehouse.raw_dir,
        database=warehouse.database,
        manifest=warehouse.target_path / "manifest.json",
    )
    # Every suite and expectation of the DuckDB run, except the marts PostgreSQL's
    # manifest does not list (the dbt Python models and what reads them).
    pg_manifest = json.loads((pg_target / "manifest.json").read_text())
    pg_marts = {model.relation_name for model in DbtManifest.from_dict(pg_manifest).models}
    expected = {
        (suite.name, suite.evaluated)
        for suite in on_duckdb.suites
        if suite.name in pg_marts
        or not suite.name.startswith("marts.")
        or suite.name == "marts.kpi_trends"
    }
    assert {(suite.name, suite.evaluated) for suite in report.suites} == expected
    assert "marts.customer_clv_predictions" not in pg_marts
    assert sum(evaluated for _, evaluated in expected) > 200


def test_great_expectations_in_postgres_catches_the_same_breakages(
    broken_pg_settings, pg_target, warehouse
):
    """validate_breakages.BREAKAGES applied in PostgreSQL: the same suites fail, same reasons."""
    report = _validate_in_postgres(warehouse, broken_pg_settings, pg_target)
    failed = {suite.name: "\n".join(suite.failures) for suite in report.suites if not suite.success}
    assert set(failed) == BROKEN_SUITES
    for name, failure in EXPECTED_FAILURES.items():
        assert failure in failed[name], (name, failed[name])
    assert "column nps is character varying" in failed["marts.loyalty_monthly"]


def test_clv_validate_target_postgres_from_the_profile_variables(
    postgres, postgres_build, pg_target, monkeypatch, tmp_path, capsys
):
    from clv import cli

    for name, value in postgres.env.items():
        monkeypatch.setenv(name, value)
    code = cli.main(
        [
            "validate",
            "--layer",
            "marts",
            "--target",
            "postgres",
            "--docs-dir",
            str(tmp_path),
            "--manifest",
            str(pg_target / "manifest.json"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "passed  marts.customer_equity_monthly" in out
    assert "suites passed" in out
