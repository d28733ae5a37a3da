"""Warehouses dbt built for tests, and comparing their marts.

The session's two warehouses (fixtures ``warehouse`` and ``tiny_warehouse``
in tests/conftest.py) and every further one a test builds go through
:func:`build_warehouse`; :func:`assert_same_marts` compares two of them by
content hash (:mod:`clv.content_hash`) and shows rows that differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from clv.content_hash import SchemaHash, schema_hash
from tests.support.dbt import run_dbt, warehouse_env

#: The session's simulated raw data. Pinned dates: tests must not depend on today's date.
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
    result = run_dbt(
        ["build", *extra_args], env=warehouse_env(raw_dir, database), target_path=target_path
    )
    return Warehouse(raw_dir, database, target_path, manifest, list(result.result))


def database_schema_hash(database: Path, schema: str = "marts") -> SchemaHash:
    """Open ``database`` read-only and hash every table of ``schema`` (clv.content_hash)."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        return schema_hash(connection, schema)
    finally:
        connection.close()


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


def assert_same_marts(
    left: Path, right: Path, what: str, left_hash: SchemaHash | None = None
) -> SchemaHash:
    """Every mart of ``right`` has the content hash of ``left``'s; returns ``left``'s hashes.

    ``left_hash``, when given, is ``left``'s hash computed before (a reference
    compared many times).
    """
    left_hash = left_hash or database_schema_hash(left)
    right_hash = database_schema_hash(right)
    assert sorted(left_hash.tables) == sorted(right_hash.tables), what
    differing = [t for t in left_hash.tables if left_hash.tables[t] != right_hash.tables[t]]
    assert not differing, f"{what}: marts differ: {differing}\n" + _differences(
        left, right, differing
    )
    return left_hash
