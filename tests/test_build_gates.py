"""Gates that stop a scheduled build: too many rejected rows, and stale sources."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clv.contract.tables import SPECS
from clv.simulate import generate
from tests.support.dbt import run_dbt, warehouse_env


@pytest.mark.fault
def test_build_fails_naming_the_table_when_too_many_rows_are_rejected(tmp_path):
    raw = tmp_path / "raw"
    generate(
        customers=300,
        start=date(2023, 1, 1),
        end=date(2024, 12, 31),
        seed=5,
        out=raw,
        bad_rows=0.12,
        verbose=False,
    )
    env = warehouse_env(raw, tmp_path / "clv.duckdb")
    result = run_dbt(["build"], expect_pass=False, env=env, target_path=tmp_path / "target")
    messages = [str(r.message) for r in result.result if str(r.status) == "error"]
    gate = [m for m in messages if "max_rejected_share" in m]
    assert gate, messages
    assert "%" in gate[0]
    assert any(f"{source}." in gate[0] for source in ("shop", "email", "marketing", "loyalty"))


@pytest.mark.integration
def test_source_freshness_passes_on_data_that_ends_yesterday(tmp_path):
    """The demo's default: history ending yesterday, at the demo's size."""
    raw = tmp_path / "raw"
    yesterday = date.today() - timedelta(days=1)
    generate(
        customers=5000,
        start=yesterday - timedelta(days=729),
        end=yesterday,
        seed=6,
        out=raw,
        bad_rows=0.0,
        verbose=False,
    )
    env = warehouse_env(raw, tmp_path / "clv.duckdb")
    result = run_dbt(["source", "freshness"], env=env, target_path=tmp_path / "target")
    statuses = {r.node.unique_id: str(r.status) for r in result.result}
    assert len(statuses) == len(SPECS)  # a source per table of the raw contract
    assert "error" not in statuses.values(), statuses


@pytest.mark.fault
def test_source_freshness_errors_on_stale_data(tmp_path):
    raw = tmp_path / "raw"
    generate(
        customers=300,
        start=date(2023, 1, 1),
        end=date(2024, 12, 31),
        seed=6,
        out=raw,
        bad_rows=0.0,
        verbose=False,
    )
    env = warehouse_env(raw, tmp_path / "clv.duckdb")
    result = run_dbt(
        ["source", "freshness"], expect_pass=False, env=env, target_path=tmp_path / "target"
    )
    assert {str(r.status) for r in result.result} == {"error"}
