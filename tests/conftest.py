"""Session fixtures (the simulated raw data and the two warehouses dbt builds from
it) and the test tiers.

A warehouse is built once per session into a temporary DuckDB file
(``CLV_DUCKDB_PATH``) from raw Parquet in a temporary folder (``CLV_RAW_DIR``),
with its own dbt target path, so tests never touch the developer's data/ or
target/. Tests read the warehouse read-only after dbt has closed it. What test
modules share besides fixtures lives in tests/support/.

Every test belongs to exactly one tier, a marker whose description in
pyproject.toml starts with ``tier:`` (``unit``, ``integration``, ``fault``,
``scale``, ``portability``): collection fails for a test with none or with two,
and for a ``unit`` test that asks for a warehouse. A ``unit`` test that runs dbt
anyway fails when it calls dbt. ``make test-fast`` runs ``pytest -m unit``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clv.simulate import generate
from tests.support.warehouse import (
    SIM_BAD_ROWS,
    SIM_CUSTOMERS,
    SIM_END,
    SIM_SEED,
    SIM_START,
    Warehouse,
    build_warehouse,
)

#: Fixtures that build a warehouse with dbt: a unit test may not ask for them.
DBT_FIXTURES = frozenset({"warehouse", "tiny_warehouse"})


def tier_names(config: pytest.Config) -> set[str]:
    """The markers pyproject.toml registers as tiers (their description starts with 'tier:')."""
    names = set()
    for line in config.getini("markers"):
        name, _, description = line.partition(":")
        if description.strip().startswith("tier:"):
            names.add(name.split("(")[0].strip())
    return names


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Fail collection unless every test has exactly one tier and unit tests need no dbt."""
    tiers = tier_names(config)
    problems = []
    for item in items:
        found = sorted({mark.name for mark in item.iter_markers() if mark.name in tiers})
        if len(found) != 1:
            problems.append(f"{item.nodeid}: tiers {found or 'none'}, need exactly one")
        elif found == ["unit"] and DBT_FIXTURES & set(item.fixturenames):
            needs = ", ".join(sorted(DBT_FIXTURES & set(item.fixturenames)))
            problems.append(f"{item.nodeid}: a unit test asks for {needs}")
    if problems:
        raise pytest.UsageError(
            f"tests without exactly one tier of {sorted(tiers)} (see tests/conftest.py):\n  "
            + "\n  ".join(problems)
        )


@pytest.fixture(autouse=True)
def _unit_tests_run_no_dbt(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """In the unit tier, any in-process dbt invocation fails the test."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(*args, **kwargs):
        raise AssertionError("a unit test ran dbt: mark it integration, fault or scale")

    import clv.dbt_runner
    import tests.support.dbt

    monkeypatch.setattr(clv.dbt_runner, "run_dbt", refuse)
    monkeypatch.setattr(tests.support.dbt, "invoke_dbt", refuse)


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
    predictions null (test_predictions.py).
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
