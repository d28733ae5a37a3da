"""As of means as of: a pinned ``as_of_date`` reproduces the marts of that day.

For each as-of date M (a month end before the end D of the session's raw
data), two warehouses are built with ``as_of_date`` = M:

* **A** from the raw data up to D, as a normal run on a later day would see it;
* **B** from the same raw data cut at the end of M (tests/fixtures/raw_as_of.py:
  every table by its event timestamp, order lines with their orders, links to
  customers created later nulled), as an extract taken that night would hold it.

Every mart of A must equal B's by content hash (clv.content_hash). Anything a
mart counts from after M - an NPS answer, an enrolment, a refund of an earlier
order, a referral that converted later - makes them differ. The models and
seeds are built, not the data tests: those run on the session's warehouse.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.fixtures.raw_as_of import cut_raw
from tests.support.dbt import run_dbt, warehouse_env
from tests.support.warehouse import SIM_END, assert_same_marts

pytestmark = pytest.mark.scale

AS_OF_DATES = [date(2024, 8, 31), date(2024, 11, 30)]


def _build_models(raw_dir: Path, workdir: Path, as_of: date) -> Path:
    database = workdir / "clv.duckdb"
    run_dbt(
        [
            "build",
            "--select",
            "resource_type:seed resource_type:model",
            "--indirect-selection",
            "empty",
            "--vars",
            f"{{as_of_date: '{as_of.isoformat()}'}}",
        ],
        env=warehouse_env(raw_dir, database),
        target_path=workdir / "target",
    )
    return database


@pytest.mark.parametrize("as_of", AS_OF_DATES, ids=str)
def test_marts_as_of_a_past_date_equal_marts_from_data_cut_there(
    simulated_raw, tmp_path: Path, as_of: date
):
    raw_dir, _ = simulated_raw
    assert as_of < SIM_END
    cut_dir = tmp_path / "raw_cut"
    counts = cut_raw(raw_dir, cut_dir, as_of)
    # The cut must remove events of every kind a mart counts, or the test proves nothing.
    removed = {table for table, (before, after) in counts.items() if after < before}
    assert removed == set(counts), f"tables with nothing after {as_of}: {set(counts) - removed}"

    full = _build_models(raw_dir, tmp_path / "a_full_history", as_of)
    cut = _build_models(cut_dir, tmp_path / "b_cut_history", as_of)
    hashes = assert_same_marts(full, cut, f"as of {as_of}: full history vs history cut there")
    assert len(hashes.tables) >= 10
