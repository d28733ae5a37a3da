"""Hostile raw files against the raw gate (``clv validate --layer raw``) and the quarantine.

27 hostile inputs are tried, each written from a clean simulated raw dir
(300 customers, 2023-2024, no injected defects) by tests/fixtures/hostile.py:

- 20 gate cases, one raw dir each with ONE file replaced: strings in a
  numeric column, a zoned timestamp column, one and two missing columns, a
  0-byte file, a truncated file, a CSV under a .parquet name, a missing file,
  order totals of 1e300, a refund of 1e12, NaN totals, an infinite spend,
  dates in 1900 and 2200 (event and _loaded_at), negative ids, every row
  delivered twice, a flood of null keys, lower-case currency codes. Each must
  fail the raw gate with a message naming the file and the problem.
- 7 quarantine-level cases, applied together to ONE raw dir: odd text (BOM,
  NUL, RTL marks, emoji, mojibake, blanks, SQL) in sku, category and
  country, unicode emails, three negative totals and three re-delivered
  orders, compatible but unusual column types, a timestamp for a date, an
  extra column, a null refund key. The raw gate must pass them, and one dbt
  build must then account for every raw row (staged or rejected with a
  reason) without a Python traceback.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from clv.contract.tables import SPECS
from clv.quality import validate
from clv.simulate import generate
from clv.warehouse import connect_read_only
from tests.fixtures.hostile import (
    GATE_CASES,
    QUARANTINE_CASES,
    HostileCase,
    write_gate_case,
    write_quarantine_corpus,
)
from tests.support.dbt import run_dbt, warehouse_env


@pytest.mark.unit
def test_the_corpus_has_the_documented_size():
    assert (len(GATE_CASES), len(QUARANTINE_CASES)) == (20, 7)
    assert len({case.name for case in (*GATE_CASES, *QUARANTINE_CASES)}) == 27


@pytest.fixture(scope="module")
def clean_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean simulated raw dir the hostile cases are copied from (never modified)."""
    out = tmp_path_factory.mktemp("hostile_clean")
    generate(
        customers=300,
        start=date(2023, 1, 1),
        end=date(2024, 12, 31),
        seed=11,
        out=out,
        bad_rows=0.0,
        verbose=False,
    )
    return out


@pytest.mark.integration
def test_clean_raw_passes_the_gate(clean_raw):
    report = validate(("raw",), raw_dir=clean_raw, database=None)
    assert report.success, report.summary_lines()
    assert len(report.suites) == len(SPECS) + 1  # one suite per file, and raw.completeness


@pytest.mark.fault
@pytest.mark.parametrize("case", GATE_CASES, ids=lambda case: case.name)
def test_gate_case_fails_naming_the_file_and_the_problem(
    case: HostileCase, clean_raw: Path, tmp_path: Path
):
    raw_dir = write_gate_case(clean_raw, tmp_path / "raw", case)

    report = validate(("raw",), raw_dir=raw_dir, database=None)

    assert not report.success
    suite = report.suite(f"raw.{case.table}")
    assert not suite.success
    matching = [line for line in suite.failures if case.problem in line]
    assert matching, suite.failures
    assert matching[0].startswith(f"{case.path}: ")
    assert "Traceback" not in "\n".join(report.summary_lines())
    # The other files are untouched copies: their own checks still pass, apart
    # from references into the hostile table (negative ids, null keys) and the
    # cross-file figures of raw.completeness, which read the hostile table too.
    untouched = [
        s for s in report.suites if s.name not in (suite.name, "raw.completeness") and not s.success
    ]
    for other in untouched:
        assert all("_is_known" in line for line in other.failures), other.failures


@pytest.fixture(scope="module")
def quarantine_raw(clean_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_quarantine_corpus(clean_raw, tmp_path_factory.mktemp("hostile") / "raw")


@pytest.mark.fault
def test_quarantine_cases_pass_the_raw_gate(quarantine_raw):
    report = validate(("raw",), raw_dir=quarantine_raw, database=None)
    assert report.success, "\n".join(report.summary_lines())


@pytest.mark.fault
def test_quarantine_cases_are_accounted_for_by_dbt(quarantine_raw, tmp_path, capfd):
    database = tmp_path / "clv.duckdb"
    env = warehouse_env(quarantine_raw, database)

    run_dbt(["build"], env=env, target_path=tmp_path / "target")

    output = capfd.readouterr()
    assert "Traceback" not in output.out + output.err
    raw_rows = {
        name: pq.read_metadata(quarantine_raw / spec.path).num_rows for name, spec in SPECS.items()
    }
    with connect_read_only(database) as connection:
        summary = {
            table: (raw, staged, rejected)
            for table, raw, staged, rejected in connection.execute(
                "select source_table, raw_rows, staged_rows, rejected_rows"
                " from audit.rejection_summary"
            ).fetchall()
        }
        reasons = dict(
            connection.execute(
                "select reason, count(*) from audit.rejected_rows"
                " where source_table = 'shop.orders' group by 1"
            ).fetchall()
        )
        null_reasons = connection.execute(
            "select count(*) from audit.rejected_rows where reason is null"
        ).fetchone()[0]
        odd_skus = connection.execute(
            "select count(*) from staging.stg_shop__order_items where sku in ("
            + ", ".join("?" for _ in range(3))
            + ")",
            ["\ufeffSKU-BOM", "Toys \U0001f9f8\U0001f680", "CafÃ© crÃ¨me"],
        ).fetchone()[0]
    assert set(summary) == set(SPECS)
    for table, (raw, staged, rejected) in summary.items():
        assert raw == raw_rows[table], table
        assert raw == staged + rejected, table
    assert null_reasons == 0
    assert reasons.get("non_positive_amount") == 3
    assert reasons.get("duplicate_key") == 3
    assert summary["shop.refunds"][2] == 1
    # Odd text is data, not a defect: it reaches staging unchanged.
    assert odd_skus == 3
