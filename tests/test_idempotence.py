"""Same inputs, same marts: reruns and defective rows do not change what is published.

* ``dbt build`` run again on the same raw data and the same database (the
  incremental ``customer_equity_monthly`` and ``customer_equity_monthly_by_scope``
  then run incrementally) gives marts with the content hash of the first
  build, table by table.
* The raw data with defective rows (``bad_rows=0.02``, the session's data)
  and the same seed without them (``bad_rows=0``) give identical marts: the
  generator's defects are additional rows, and the staging quarantine must
  take out every one of them - and nothing else - for this to hold.

Hashes come from :mod:`clv.content_hash` (floats rounded to 9 significant
digits, run-time columns such as ``clv_model_parameters.fitted_at`` left out).
When a table differs, the assertion message names it and shows a few of the
rows that differ on either side (tests/support/warehouse.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from clv.simulate import generate
from tests.support.dbt import run_dbt, warehouse_env
from tests.support.warehouse import (
    SIM_CUSTOMERS,
    SIM_END,
    SIM_SEED,
    SIM_START,
    assert_same_marts,
    build_warehouse,
)


@pytest.mark.scale
def test_a_second_build_gives_identical_marts(warehouse, tmp_path: Path):
    database = tmp_path / "clv.duckdb"
    shutil.copy2(warehouse.database, database)
    run_dbt(
        ["build"], env=warehouse_env(warehouse.raw_dir, database), target_path=tmp_path / "target"
    )
    hashes = assert_same_marts(warehouse.database, database, "second build")
    assert len(hashes.tables) >= 10
    assert {"customer_equity_monthly", "customer_equity_monthly_by_scope"} <= set(hashes.tables)
    history = "select * from snapshots.customer_equity_monthly_snapshot order by month"
    with duckdb.connect(str(warehouse.database), read_only=True) as connection:
        first = connection.execute(history).fetchall()
    with duckdb.connect(str(database), read_only=True) as connection:
        second = connection.execute(history).fetchall()
        (months,) = connection.execute(
            "select count(*) from marts.customer_equity_monthly"
        ).fetchone()
    assert second == first and len(second) == months


@pytest.mark.scale
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
    assert_same_marts(warehouse.database, clean.database, "bad_rows=0.02 vs bad_rows=0")


@pytest.mark.integration
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
        purchase_days = connection.execute(
            "select * from intermediate.int_purchase_days_aggregated order by 1, 2"
        ).df()
    assert settings.clock == "seasonal"
    shuffled = {
        role: frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
        for role, frame in summaries.items()
    }
    shuffled_days = purchase_days.sample(frac=1.0, random_state=2).reset_index(drop=True)
    ordered = predictions.parameter_table(
        summaries, settings, purchase_days=purchase_days
    ).to_pylist()
    reordered = predictions.parameter_table(
        shuffled, settings, purchase_days=shuffled_days
    ).to_pylist()
    assert [(r["parameter"], r["value"]) for r in ordered] == [
        (r["parameter"], r["value"]) for r in reordered
    ]
