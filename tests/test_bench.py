"""The warehouse benchmark's arithmetic and plumbing (``clv.bench``, ``make bench``).

The benchmark itself builds whole warehouses at 10,000 customers and more,
so it is not run here (at 2,000 customers it takes about three minutes);
these tests cover what its figures are made of: the floor's statements from
a manifest, their replay in one DuckDB connection, the day cut of the raw
files, the sums of run_results.json, per-step peak RSS, growth factors and
the merge of results files.
"""

from __future__ import annotations

import re
import sys
from datetime import date, datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clv import bench
from clv.paths import PROJECT_DIR

pytestmark = pytest.mark.unit


# --- the floor ------------------------------------------------------------------------------


def _node(name, materialized="table", language="sql", schema="marts", parents=(), code=None):
    return {
        "name": name,
        "alias": name,
        "database": "clv",
        "schema": schema,
        "language": language,
        "config": {"materialized": materialized},
        "relation_name": None if materialized == "ephemeral" else f'"clv"."{schema}"."{name}"',
        "depends_on": {"nodes": [f"model.p.{p}" for p in parents]},
        "compiled_code": code,
    }


def _result(name, seconds=0.5, status="success", code=None, kind="model"):
    return {
        "unique_id": f"{kind}.p.{name}",
        "status": status,
        "execution_time": seconds,
        "relation_name": None if code is None else f'"clv"."x"."{name}"',
        "compiled_code": code,
    }


@pytest.fixture
def fake_run():
    """Four models run out of dependency order, one Python model, one ephemeral, one error."""
    nodes = {
        "model.p.base": _node("base", schema="staging", code="select 1 as id"),
        "model.p.cte": _node("cte", "ephemeral", schema="staging", code="select 1"),
        "model.p.stg": _node("stg", "view", schema="staging", parents=["base", "cte"]),
        "model.p.fitted": _node(
            "fitted", language="python", schema="intermediate", parents=["stg"]
        ),
        "model.p.mart": _node("mart", "incremental", parents=["stg", "fitted"]),
        "model.p.broken": _node("broken", parents=["base"]),
    }
    results = [
        _result("mart", code='select * from "clv"."staging"."stg";\n'),
        _result("stg", code='select id from "clv"."staging"."base" -- trailing comment'),
        _result("base", code="select 1 as id"),
        _result("fitted", seconds=2.25),
        _result("broken", status="error", code="select nonsense"),
    ]
    # The manifest's relation names, not the fake ones of _result, are the relations.
    for result in results:
        result["relation_name"] = nodes[result["unique_id"]]["relation_name"]
    return {"nodes": nodes}, {"results": results}


def test_floor_statements_replay_the_run_in_dependency_order(fake_run):
    statements = bench.floor_statements(*fake_run)
    assert [s.name for s in statements] == ["base", "stg", "fitted", "mart"]
    by_name = {s.name: s for s in statements}
    assert (
        by_name["base"].sql == 'create or replace table "clv"."staging"."base" as\nselect 1 as id\n'
    )
    # A view stays a view; a trailing line comment cannot swallow anything after it.
    assert by_name["stg"].sql.startswith('create or replace view "clv"."staging"."stg" as\n')
    assert by_name["stg"].sql.endswith("-- trailing comment\n")
    # An incremental model is the table of a full refresh; a trailing semicolon goes.
    assert by_name["mart"].sql == (
        'create or replace table "clv"."marts"."mart" as\nselect * from "clv"."staging"."stg"\n'
    )
    assert by_name["mart"].schema == '"clv"."marts"'


def test_a_python_model_is_copied_from_dbts_file_at_dbts_time(fake_run):
    fitted = {s.name: s for s in bench.floor_statements(*fake_run)}["fitted"]
    assert fitted.sql is None
    assert fitted.copy_from == '"dbt_built"."intermediate"."fitted"'
    assert fitted.dbt_seconds == 2.25


def test_the_floor_refuses_a_materialization_it_cannot_replay(fake_run):
    manifest, run_results = fake_run
    manifest["nodes"]["model.p.base"]["config"]["materialized"] = "materialized_view"
    with pytest.raises(ValueError, match="materialized_view"):
        bench.floor_statements(manifest, run_results)


def test_replay_order_keeps_the_run_order_when_it_is_already_topological():
    parents = {"b": ["a"], "c": ["a"], "d": ["b", "c", "source_x"]}
    assert bench.replay_order(["a", "c", "b", "d"], parents) == ["a", "c", "b", "d"]
    assert bench.replay_order(["d", "b", "a", "c"], parents) == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="cycle"):
        bench.replay_order(["a", "b"], {"a": ["b"], "b": ["a"]})


def test_run_floor_builds_the_relations_in_one_connection(tmp_path, fake_run):
    # dbt-duckdb names the catalog after the file: both files are clv.duckdb.
    (tmp_path / "dbt").mkdir()
    (tmp_path / "floor").mkdir()
    dbt_file, floor_file = tmp_path / "dbt" / "clv.duckdb", tmp_path / "floor" / "clv.duckdb"
    with duckdb.connect(str(dbt_file)) as connection:
        connection.execute("create schema intermediate")
        connection.execute("create table intermediate.fitted as select 42 as id")
    manifest, run_results = fake_run
    manifest["nodes"]["model.p.mart"]["compiled_code"] = None
    for result in run_results["results"]:
        if result["unique_id"] == "model.p.mart":
            result["compiled_code"] = (
                'select id from "clv"."staging"."stg" union all '
                'select id from "clv"."intermediate"."fitted"'
            )
    statements = bench.floor_statements(manifest, run_results)
    plan = tmp_path / "plan.json"
    bench.write_floor_plan(plan, statements)
    assert bench.read_floor_plan(plan) == statements

    result = bench.run_floor(floor_file, bench.read_floor_plan(plan), dbt_file)
    assert result["sql_models"] == 3
    assert result["python_models"] == ["fitted"]
    assert result["python_models_dbt_seconds"] == 2.25
    assert result["seconds"] >= 2.25
    assert set(result["model_seconds"]) == {"base", "stg", "fitted", "mart"}
    with duckdb.connect(str(floor_file), read_only=True) as connection:
        rows = connection.execute("select id from marts.mart order by id").fetchall()
        kinds = dict(
            connection.execute(
                "select table_name, table_type from information_schema.tables"
            ).fetchall()
        )
    assert rows == [(1,), (42,)]
    assert kinds == {
        "base": "BASE TABLE",
        "stg": "VIEW",
        "fitted": "BASE TABLE",
        "mart": "BASE TABLE",
    }


# --- data -----------------------------------------------------------------------------------


def test_the_day_before_is_what_the_nightly_load_of_the_end_date_loaded(tmp_path):
    spec = bench.DataSpec(customers=10, end=date(2026, 11, 30))
    assert spec.loaded_through == datetime(2026, 12, 1, 2, 0)
    assert spec.stamp()["simulated_end"] == "2026-12-01"

    loaded = pa.array(
        [datetime(2026, 11, 30, 2), datetime(2026, 12, 1, 2), None, datetime(2026, 12, 2, 2)],
        pa.timestamp("us"),
    )
    table = pa.table({"id": pa.array([1, 2, 3, 4], pa.int64()), "_loaded_at": loaded})
    (tmp_path / "day1" / "shop").mkdir(parents=True)
    pq.write_table(table, tmp_path / "day1" / "shop" / "orders.parquet")

    kept = bench.cut_raw(tmp_path / "day1", tmp_path / "day0", spec.loaded_through)
    assert kept == {"shop.orders": 3}
    cut = pq.read_table(tmp_path / "day0" / "shop" / "orders.parquet")
    assert cut.schema == table.schema
    assert cut["id"].to_pylist() == [1, 2, 3]  # a row without a load time is in every delivery
    assert bench.raw_row_counts(tmp_path / "day1") == {"shop.orders": 4}


# --- steps and run_results ------------------------------------------------------------------


def test_each_step_reports_its_own_peak_rss(tmp_path):
    # The small step after the big one, forked from this (pytest's) process of some 200 MiB:
    # its peak is neither the running maximum of the children nor this process's size.
    big = (
        "import time; x = bytearray(300 * 2**20); x[::4096] = b'1' * len(x[::4096]); time.sleep(1)"
    )
    env = {"PATH": "/usr/bin:/bin"}
    first = bench.run_step(
        "big", [sys.executable, "-c", big], env=env, cwd=tmp_path, log_path=tmp_path / "big.log"
    )
    second = bench.run_step(
        "small", [sys.executable, "-c", "pass"], env=env, cwd=tmp_path, log_path=tmp_path / "s.log"
    )
    failed = bench.run_step(
        "fails",
        [sys.executable, "-c", "raise SystemExit(3)"],
        env=env,
        cwd=tmp_path,
        log_path=tmp_path / "f.log",
    )
    assert first.ok and second.ok and not failed.ok and failed.returncode == 3
    assert first.peak_rss_mib > 300
    assert first.peak_tree_rss_mib > 300  # sampled while it ran
    assert second.peak_rss_mib < 100  # not the running maximum of every child so far
    assert len(first.load_average_start) == 3 and first.seconds > 0


def test_summarize_run_results_sums_thread_time_and_ranks_the_slowest():
    document = {
        "elapsed_time": 10.0,
        "results": [
            _result("a", 3.0),
            _result("b", 1.0),
            _result("not_null_a_id.123", 2.0, status="pass", kind="test"),
            {**_result("x.test_it", 4.0, status="pass"), "unique_id": "unit_test.p.a.test_it"},
            {**_result("s", 0.5), "unique_id": "seed.p.s"},
        ],
    }
    summary = bench.summarize_run_results(document, top=1)
    assert summary["model_seconds_sum"] == 4.0
    assert summary["test_seconds_sum"] == 6.0
    assert summary["node_seconds_sum"] == 10.5
    assert summary["tests_share"] == round(6.0 / 10.5, 3)
    assert summary["slowest_models"] == [["a", 3.0]]
    assert summary["slowest_tests"] == [["unit_test a.test_it", 4.0]]
    assert summary["model_seconds"] == {"a": 3.0, "b": 1.0}
    assert summary["statuses"] == {"success": 3, "pass": 2}


def test_the_engine_sequences_are_the_makefiles():
    makefile = (PROJECT_DIR / "Makefile").read_text()
    for engine in ("postgres", "spark"):
        recipe = re.search(rf"^build-{engine}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)[1]
        # A file copy (the first build's run_results.json, for clv publish) is not a step.
        commands = [
            line.replace('"', "") for line in recipe.splitlines() if not line.startswith("\tcp ")
        ]
        sequence = bench.engine_sequence(engine)
        assert len(sequence) == len(commands)
        for (_, kind, args), command in zip(sequence, commands, strict=True):
            tool = "$(DBT) " if kind == "dbt" else "$(BIN)/clv "
            assert tool + args[0] in command
            assert " ".join(args[1:]) in command


# --- growth and results ---------------------------------------------------------------------


def test_growth_factors_from_scale_to_scale():
    values = {"S": {"t": 2.0, "z": 0.0}, "M": {"t": 10.0, "z": 1.0}, "L": {"t": 150.0}}
    assert bench.growth_factors(values, ["S", "M", "L"]) == {
        "t": {"S->M": 5.0, "M->L": 15.0},
        "z": {"S->M": None, "M->L": None},  # from zero, and missing at L
    }


def test_fast_growing_flags_superlinear_models_that_take_time():
    small = {"fast": 0.1, "linear": 1.0, "noise": 0.001, "new": 0.0}
    large = {"fast": 2.0, "linear": 10.0, "noise": 0.1, "new": 5.0, "only_large": 3.0}
    assert bench.fast_growing(small, large) == [("fast", 0.1, 2.0, 20.0)]


def _entry(customers, seconds, model_seconds, **extra):
    return {
        "customers": customers,
        "figures": {"full_build_seconds": seconds},
        "full_build": {"model_seconds": model_seconds},
        **extra,
    }


def test_merging_results_replaces_only_the_scales_and_engines_run():
    existing = {
        "benchmark": "bench_scale",
        "scales": {
            "M": {
                "duckdb": _entry(100_000, 40.0, {"a": 1.0}, old=True),
                "postgres": {"customers": 100_000, "figures": {"build_seconds": 200.0}},
            },
            "S": {"duckdb": _entry(10_000, 10.0, {"a": 0.1})},
        },
    }
    new = {"updated_at": "now", "scales": {"L": {"duckdb": _entry(1_000_000, 500.0, {"a": 2.0})}}}
    merged = bench.merge_results(existing, new)
    assert list(merged["scales"]) == ["S", "M", "L"]
    assert merged["scales"]["M"]["postgres"]["figures"]["build_seconds"] == 200.0
    assert merged["updated_at"] == "now"
    growth = merged["growth"]
    assert growth["scales"] == ["S", "M", "L"]
    assert growth["figures"]["full_build_seconds"] == {"S->M": 4.0, "M->L": 12.5}
    assert growth["models"]["a"] == {"S->M": 10.0, "M->L": 2.0}
    assert growth["flagged"] == {"S->M": [], "M->L": []}

    again = bench.merge_results(merged, {"scales": {"M": {"duckdb": _entry(100_000, 50.0, {})}}})
    assert "old" not in again["scales"]["M"]["duckdb"]
    assert again["scales"]["M"]["postgres"] == existing["scales"]["M"]["postgres"]
    assert again["growth"]["figures"]["full_build_seconds"] == {"S->M": 5.0, "M->L": 10.0}
    assert existing["scales"]["M"]["duckdb"]["old"]  # the input is not modified


def test_format_growth_prints_each_figure_and_flags():
    results = bench.merge_results(
        None,
        {
            "scales": {
                "S": {"duckdb": _entry(10, 1.0, {"slow": 0.1, "ok": 1.0})},
                "M": {"duckdb": _entry(100, 10.0, {"slow": 2.0, "ok": 9.0})},
            }
        },
    )
    text = "\n".join(bench.format_growth(results["growth"]))
    assert "full_build_seconds" in text and "10.00x" in text
    assert "FLAG S->M: slow grew 20.0x" in text
