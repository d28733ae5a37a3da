"""Rule 13 on an adversarial ledger: exact at any depth, at a cost linear in its size.

The walk of ``base_loyalty__loyalty_points`` (a recursive CTE, DECISIONLOG.md
"The points balance is walked entry by entry") runs here on ledgers built to
be hard: every member alternates earns of 10 with redemptions of 11 to 17
points, so whether a redemption fits depends on every decision before it.
The compiled SQL of the session's build runs in a DuckDB file of its own
whose ``base_loyalty__loyalty_points_checked`` holds that ledger, and its
balances and reasons are compared with the rule applied sequentially in
Python. The cost is counted, not timed: DuckDB's profiler reports the rows
every operator produced (``cumulative_cardinality``); a ledger four times as
long (deeper chains or more members) must cost about four times as much.
The wall times at a million entries are in the benchmark (``make bench``).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.integration

MODEL = "model.clv_warehouse.base_loyalty__loyalty_points"


def adversarial_ledger(members: int, depth: int) -> list[tuple]:
    """(entry_id, customer_id, entry_type, points, ledger_position) rows."""
    rows = []
    for member in range(1, members + 1):
        for position in range(1, depth + 1):
            earn = position % 2 == 1
            points = 10 if earn else 11 + (member * 7 + position * 3) % 7
            entry_id = member * 1_000_000 + position
            rows.append((entry_id, member, "earn" if earn else "redeem", points, position))
    return rows


def walked_in_python(rows: list[tuple]) -> dict[int, tuple[int, str | None]]:
    """entry_id -> (balance before, rejection reason): rule 13, one entry at a time."""
    balances: dict[int, int] = {}
    expected = {}
    for entry_id, member, entry_type, points, _ in sorted(rows, key=lambda row: (row[1], row[4])):
        balance = balances.get(member, 0)
        accepted = entry_type == "earn" or points <= balance
        expected[entry_id] = (balance, None if accepted else "redemption_exceeds_balance")
        if entry_type == "earn":
            balances[member] = balance + points
        elif accepted:
            balances[member] = balance - points
    return expected


def walk_in_duckdb(compiled_sql: str, rows: list[tuple], workdir: Path) -> tuple[dict, int]:
    """The model's compiled SQL run over ``rows``: its answer, and the rows its operators made."""
    database = workdir / "clv.duckdb"
    database.unlink(missing_ok=True)
    profile = workdir / "profile.json"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema staging")
        connection.execute(
            """
            create table staging.base_loyalty__loyalty_points_checked (
                entry_id bigint, customer_id bigint, order_id bigint, entry_type varchar,
                points bigint, entry_at timestamp, loaded_at timestamp, raw_row_id varchar,
                record_key varchar, raw_record varchar, reference_rejection_reason varchar,
                ledger_position bigint
            )
            """
        )
        connection.executemany(
            "insert into staging.base_loyalty__loyalty_points_checked values "
            "(?, ?, null, ?, ?, timestamp '2024-01-01' + to_seconds(?::bigint), "
            "timestamp '2025-01-01', ?, ?, null, null, ?)",
            [
                (entry_id, member, kind, points, position, f"r{entry_id}", str(entry_id), position)
                for entry_id, member, kind, points, position in rows
            ],
        )
        # Stored in the walk's order, as the model's materialisation stores it.
        connection.execute(
            "create or replace table staging.base_loyalty__loyalty_points_checked as "
            "select * from staging.base_loyalty__loyalty_points_checked "
            "order by ledger_position, customer_id"
        )
        connection.execute("pragma enable_profiling = 'json'")
        connection.execute(f"pragma profiling_output = '{profile}'")
        result = connection.execute(
            f"select entry_id, points_balance_before, rejection_reason from ({compiled_sql})"
        ).fetchall()
        connection.execute("pragma disable_profiling")
    produced = json.loads(profile.read_text())["cumulative_cardinality"]
    return {entry_id: (balance, reason) for entry_id, balance, reason in result}, produced


@pytest.fixture(scope="module")
def compiled_walk(warehouse) -> str:
    manifest = json.loads((warehouse.target_path / "manifest.json").read_text())
    return manifest["nodes"][MODEL]["compiled_code"]


def test_the_walk_is_exact_on_long_alternating_chains(compiled_walk, tmp_path):
    rows = adversarial_ledger(members=30, depth=600)
    expected = walked_in_python(rows)
    walked, _ = walk_in_duckdb(compiled_walk, rows, tmp_path)
    rejected = sum(reason is not None for _, reason in expected.values())
    # The ledger is adversarial: a good share of the redemptions is refused.
    assert len(rows) // 10 < rejected < len(rows) // 2
    assert walked == expected


@pytest.mark.parametrize(("members", "depth"), [(20, 1600), (80, 400)])
def test_the_walk_costs_the_ledgers_size(compiled_walk, tmp_path, members, depth):
    """Four times the entries, by chains four times deeper or four times as many members."""
    small = adversarial_ledger(members=20, depth=400)
    large = adversarial_ledger(members=members, depth=depth)
    walked_small, work_small = walk_in_duckdb(compiled_walk, small, tmp_path)
    walked_large, work_large = walk_in_duckdb(compiled_walk, large, tmp_path)
    assert walked_small == walked_in_python(small)
    assert walked_large == walked_in_python(large)
    # Linear: about 4x. The fixed-point passes it replaced settled one
    # redemption per pass, a cost that grew with depth times size (16x here).
    assert 3.5 < work_large / work_small < 4.5
