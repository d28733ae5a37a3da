"""Same inputs, same marts: reruns and defective rows do not change what is published.

* ``dbt build`` run again on the same raw data and the same database (the
  incremental ``customer_equity_monthly`` then runs incrementally) gives marts
  with the content hash of the first build, table by table.
* The raw data with defective rows (``bad_rows=0.02``, the session's data)
  and the same seed without them (``bad_rows=0``) give identical marts: the
  generator's defects are additional rows, and the staging quarantine must
  take out every one of them - and nothing else - for this to hold.

Hashes come from :mod:`clv.content_hash` (floats rounded to 9 significant
digits, run-time columns such as ``clv_model_parameters.fitted_at`` left out).
When a table differs, the assertion message names it and shows a few of the
rows that differ on either side.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from clv.content_hash import SchemaHash, database_schema_hash
from clv.dbt_runner import run_dbt
from clv.simulate import generate
from tests.conftest import SIM_CUSTOMERS, SIM_END, SIM_SEED, SIM_START, build_warehouse

pytestmark = pytest.mark.slow


def _differences(left: Path, right: Path, tables: list[str], sample: int = 3) -> str:
    """Rows in one database's marts and not in the other's (exact comparison)."""
    lines = []
    with duckdb.connect() as connection:
        connection.execute(f"attach '{left}' as lhs (read_only)")
        connection.execute(f"attach '{right}' as rhs (read_only)")
        for table in tables:
            for first, second in (("lhs", "rhs"), ("rhs", "lhs")):
                query = (
                    f'select * from {first}.marts."{table}" '
                    f'except all select * from {second}.marts."{table}"'
                )
                (count,) = connection.execute(f"select count(*) from ({query})").fetchone()
                rows = connection.execute(f"{query} limit {sample}").fetchall()
                lines.append(f"{table}: {count} rows only in {first}; e.g. {rows}")
    return "\n".join(lines)


def _assert_same_marts(left: Path, right: Path, what: str) -> SchemaHash:
    left_hash, right_hash = database_schema_hash(left), database_schema_hash(right)
    assert sorted(left_hash.tables) == sorted(right_hash.tables)
    differing = [t for t in left_hash.tables if left_hash.tables[t] != right_hash.tables[t]]
    assert not differing, f"{what}: marts differ: {differing}\n" + _differences(
        left, right, differing
    )
    return left_hash


def test_a_second_build_gives_identical_marts(warehouse, tmp_path: Path):
    database = tmp_path / "clv.duckdb"
    shutil.copy2(warehouse.database, database)
    env = {"CLV_RAW_DIR": str(warehouse.raw_dir), "CLV_DUCKDB_PATH": str(database)}
    result = run_dbt(["build"], env=env, target_path=tmp_path / "target")
    assert result.success
    hashes = _assert_same_marts(warehouse.database, database, "second build")
    assert len(hashes.tables) >= 10
    history = "select * from snapshots.customer_equity_monthly_snapshot order by month"
    with duckdb.connect(str(warehouse.database), read_only=True) as connection:
        first = connection.execute(history).fetchall()
    with duckdb.connect(str(database), read_only=True) as connection:
        second = connection.execute(history).fetchall()
        (months,) = connection.execute(
            "select count(*) from marts.customer_equity_monthly"
        ).fetchone()
    assert second == first and len(second) == months


def test_defective_rows_do_not_change_the_marts(warehouse, tmp_path: Path):
    clean_raw = tmp_path / "clean_raw"
    manifest = generate(
        customers=SIM_CUSTOMERS,
        start=SIM_START,
        end=SIM_END,
        seed=SIM_SEED,
        out=clean_raw,
        bad_rows=0.0,
    )
    assert all(entry["defect_rows"] == 0 for entry in manifest["tables"].values())
    assert sum(e["defect_rows"] for e in warehouse.manifest["tables"].values()) > 0
    clean = build_warehouse(clean_raw, tmp_path / "clean", manifest)
    _assert_same_marts(warehouse.database, clean.database, "bad_rows=0.02 vs bad_rows=0")


def test_fit_ignores_row_order(warehouse):
    """The warehouse returns rows in no fixed order; the fit must not depend on it."""
    from clv import predictions

    with duckdb.connect(str(warehouse.database), read_only=True) as connection:
        settings = predictions.Settings.from_frame(
            connection.execute("select * from intermediate.clv_model_settings").df()
        )
        summaries = {
            role: connection.execute(
                f"select * from intermediate.int_customers_summarised_for_{role} "
                "order by customer_id"
            ).df()
            for role in ("prediction", "backtest")
        }
    shuffled = {
        role: frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
        for role, frame in summaries.items()
    }
    ordered = predictions.parameter_table(summaries, settings).to_pylist()
    reordered = predictions.parameter_table(shuffled, settings).to_pylist()
    assert [(r["parameter"], r["value"]) for r in ordered] == [
        (r["parameter"], r["value"]) for r in reordered
    ]
