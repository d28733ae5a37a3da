"""The same models, unchanged, on a real PostgreSQL server.

Starts a throwaway server on loopback (Debian's ``postgresql`` package), loads
the simulated raw Parquet files into ``<source>.<table>`` tables with
``tests.support.postgres_load``, builds the project as the README says
(``dbt build --exclude source:predictions+``, ``clv predict --target postgres``,
``dbt build --select source:predictions+``: models, data tests and unit tests)
and compares the results with the DuckDB warehouse built from the same files.
Set CLV_SKIP_POSTGRES=1 to skip on a machine without PostgreSQL; CI
installs it (.ci/run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

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


#: The README's two dbt selections around `clv predict` on PostgreSQL.
BEFORE_PREDICT = ["build", "--exclude", "source:predictions+"]
AFTER_PREDICT = ["build", "--select", "source:predictions+"]


@dataclass
class PostgresBuild:
    """The first selection, what `clv predict` printed, and the second selection."""

    before: object
    predict_code: int
    predict_output: str
    after: object

    @property
    def success(self) -> bool:
        return self.before.success and self.predict_code == 0 and self.after.success

    @property
    def result(self) -> list:
        return [*self.before.result, *self.after.result]


def postgres_failures(build: PostgresBuild) -> list[str]:
    predict = [] if build.predict_code == 0 else [f"clv predict: {build.predict_output}"]
    return [*failures(build.before), *predict, *failures(build.after)]


@pytest.fixture(scope="module")
def postgres_build(postgres, warehouse, pg_target):
    loaded = load_postgres(warehouse.raw_dir, postgres.connection_kwargs)
    assert set(loaded) == set(STAGING_MODELS)
    env = {**postgres.env, "CLV_RAW_DIR": str(warehouse.raw_dir)}
    before = run_dbt(BEFORE_PREDICT, expect_pass=None, env=env, target_path=pg_target)
    code, output = run_predict(postgres)
    after = run_dbt(AFTER_PREDICT, expect_pass=None, env=env, target_path=pg_target)
    return PostgresBuild(before, code, output, after)


def run_predict(postgres) -> tuple[int, str]:
    """``clv predict --target postgres`` in-process, connected by the profile's variables."""
    import contextlib
    import io

    from clv import cli

    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in postgres.env.items():
            patch.setenv(name, value)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = cli.main(["predict", "--target", "postgres"])
    return code, out.getvalue()


def pg_rows(postgres, sql):
    import psycopg2

    with psycopg2.connect(**postgres.connection_kwargs) as connection, connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_dbt_build_passes_on_postgres(postgres_build):
    assert postgres_build.success, "\n".join(postgres_failures(postgres_build))
    kinds = {str(r.node.resource_type) for r in postgres_build.result}
    assert {"model", "test", "unit_test", "seed"} <= kinds
    # The second selection builds the prediction marts and customer_clv, nothing else.
    models = {
        r.node.name for r in postgres_build.after.result if str(r.node.resource_type) == "model"
    }
    assert models == {
        "clv_backtest",
        "clv_backtest_by_origin",
        "clv_backtest_customers",
        "clv_model_parameters",
        "customer_clv",
        "customer_clv_predictions",
        "int_customers_predicted",
    }
    assert "int_customers_scored" in postgres_build.predict_output


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


#: Each compared relation: its key columns and the columns compared (doubles within
#: RELATIVE_TOLERANCE, the rest exactly), as DuckDB names them.
PREDICTION_COLUMNS = {
    "marts.customer_clv": (
        ("customer_id",),
        ("probability_alive", "predicted_purchases_12m", "predicted_clv_12m"),
    ),
    "marts.customer_clv_predictions": (
        ("customer_id",),
        (
            "x",
            "t_x",
            "T",
            "probability_alive",
            "predicted_purchases_12m",
            "expected_average_spend",
            "expected_average_margin",
            "predicted_clv_12m",
            "predicted_clv_horizon",
            "calibration_end",
        ),
    ),
    "marts.clv_model_parameters": (
        ("fit_role", "model", "parameter"),
        ("value", "log_likelihood", "standard_error", "n_customers", "fit_status", "time_unit"),
    ),
    "marts.clv_backtest_customers": (
        ("customer_id",),
        (
            "predicted_holdout_purchases",
            "actual_holdout_purchases",
            "predicted_holdout_spend",
            "actual_holdout_spend",
        ),
    ),
    "marts.clv_backtest": (
        ("calibration_frequency",),
        ("customers", "predicted_purchases", "actual_purchases", "share_of_total_error"),
    ),
}
#: The issue's bar: PostgreSQL's predictions equal DuckDB's within 1e-9 relative.
RELATIVE_TOLERANCE = 1e-9


def max_relative_differences(postgres, warehouse, relation: str) -> dict[str, float]:
    """Per compared double column, the largest |PostgreSQL - DuckDB| / |DuckDB|, by key.

    Asserts the same keys on both engines, the same nulls, and every other
    compared column equal.
    """
    keys, columns = PREDICTION_COLUMNS[relation]
    sql = f"select {', '.join([*keys, *columns])} from {relation}"
    with connect_read_only(warehouse.database) as connection:
        duckdb_rows = {row[: len(keys)]: row for row in connection.execute(sql).fetchall()}
    pg = {tuple(row[: len(keys)]): row for row in pg_rows(postgres, sql)}
    assert duckdb_rows, relation
    assert set(pg) == set(duckdb_rows), relation
    worst: dict[str, float] = {}
    for key, duck in duckdb_rows.items():
        values = zip(columns, pg[key][len(keys) :], duck[len(keys) :], strict=True)
        for name, ours, theirs in values:
            if isinstance(theirs, float) and ours is not None:
                difference = abs(ours - theirs) / max(abs(theirs), 1e-300)
                worst[name] = max(worst.get(name, 0.0), difference)
            else:
                assert ours == theirs, (relation, key, name, ours, theirs)
    return worst


@pytest.mark.parametrize("relation", sorted(PREDICTION_COLUMNS))
def test_clv_predict_gives_postgres_the_predictions_of_duckdb(
    postgres, postgres_build, warehouse, relation
):
    """`clv predict` between the two selections: the same figures as DuckDB's in-build fit."""
    worst = max_relative_differences(postgres, warehouse, relation)
    print(relation, {name: f"{value:.1e}" for name, value in sorted(worst.items())})
    assert worst, relation
    assert max(worst.values()) <= RELATIVE_TOLERANCE, worst


def test_customer_clv_has_predictions_on_postgres(postgres, postgres_build):
    ((customers, predicted),) = pg_rows(
        postgres, "select count(*), count(probability_alive) from marts.customer_clv"
    )
    assert 0 < predicted <= customers
    # The tables clv predict wrote: the source `predictions` of the dbt project.
    written = pg_rows(
        postgres,
        "select table_name from information_schema.tables"
        " where table_schema = 'predictions' order by 1",
    )
    assert [name for (name,) in written] == [
        "int_clv_models_fitted",
        "int_clv_origins_backtested",
        "int_customers_backtested",
        "int_customers_scored",
    ]


def test_clv_predict_again_replaces_the_tables_and_keeps_the_views(postgres, postgres_build):
    """A second run truncates and rewrites in one transaction: same rows, views still read them."""
    sql = "select count(*), sum(probability_alive) from intermediate.int_customers_predicted"
    before = pg_rows(postgres, sql)
    code, output = run_predict(postgres)
    assert code == 0, output
    assert pg_rows(postgres, sql) == before


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
    # manifest does not list.
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
    assert "marts.customer_clv_predictions" in pg_marts
    assert "marts.clv_backtest_by_origin" in pg_marts
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
