"""Shared fixtures: generated raw data and warehouses built from it by dbt.

A warehouse is built once per session into a temporary DuckDB file
(``CLV_DUCKDB_PATH``) from raw Parquet in a temporary folder (``CLV_RAW_DIR``),
with its own dbt target path, so tests never touch the developer's data/ or
target/. Tests read the warehouse read-only after dbt has closed it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from clv.dbt_runner import run_dbt
from clv.simulate import generate

#: Pinned dates: tests must not depend on today's date.
SIM_START = date(2023, 1, 1)
SIM_END = date(2024, 12, 31)
SIM_CUSTOMERS = 1500
SIM_SEED = 20231
SIM_BAD_ROWS = 0.02


@dataclass(frozen=True)
class Warehouse:
    """A warehouse dbt built: its raw inputs, DuckDB file and dbt results."""

    raw_dir: Path
    database: Path
    target_path: Path
    manifest: dict
    results: list


def build_warehouse(
    raw_dir: Path, workdir: Path, manifest: dict, extra_args: tuple[str, ...] = ()
) -> Warehouse:
    """Run ``dbt build`` (seeds, models, tests) on ``raw_dir`` into ``workdir``; must pass."""
    database = workdir / "clv.duckdb"
    target_path = workdir / "target"
    env = {"CLV_RAW_DIR": str(raw_dir), "CLV_DUCKDB_PATH": str(database)}
    result = run_dbt(["build", *extra_args], env=env, target_path=target_path)
    failures = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in result.result
        if str(r.status) not in ("success", "pass")
    ]
    assert result.success, "dbt build failed:\n" + "\n".join(failures)
    return Warehouse(raw_dir, database, target_path, manifest, list(result.result))


@pytest.fixture(scope="session")
def simulated_raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A small simulated data set with injected defects, and its manifest."""
    out = tmp_path_factory.mktemp("sim_raw")
    manifest = generate(
        customers=SIM_CUSTOMERS,
        start=SIM_START,
        end=SIM_END,
        seed=SIM_SEED,
        out=out,
        bad_rows=SIM_BAD_ROWS,
        verbose=False,
    )
    return out, manifest


@pytest.fixture(scope="session")
def warehouse(simulated_raw, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The warehouse built by ``dbt build`` from :func:`simulated_raw`."""
    raw_dir, manifest = simulated_raw
    return build_warehouse(raw_dir, tmp_path_factory.mktemp("sim_warehouse"), manifest)


@pytest.fixture(scope="session")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The warehouse built from the hand-made tiny raw set, with its expected counts.

    The tiny set holds at least one row per rejection reason, so most of its
    tables reject far more than the production gate allows: the gate is
    lifted here (and tested on its own in test_build_gates.py). Its handful
    of orders is too few to fit BG/NBD: a failed fit warns and leaves the
    predictions null (test_predictions_fallback.py).
    """
    from tests.fixtures.make_tiny_raw import write_tiny_raw

    raw_dir = tmp_path_factory.mktemp("tiny_raw")
    write_tiny_raw(raw_dir)
    expected = json.loads((raw_dir / "expected.json").read_text())
    return build_warehouse(
        raw_dir,
        tmp_path_factory.mktemp("tiny_warehouse"),
        expected,
        extra_args=("--vars", "{max_rejected_share: 1, clv_fit_failure: warn}"),
    )
