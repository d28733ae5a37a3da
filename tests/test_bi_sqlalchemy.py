"""BI tools read the published file through SQLAlchemy, as Superset and similar tools do.

The session warehouse is published (:mod:`tests.support.publishing`: a copy of
the working file, stand-in checks), then read with SQLAlchemy's DuckDB dialect
(duckdb-engine, the [semantic] extra) on a read-only connection: the marts are
listed with ``sqlalchemy.inspect``, every one is read (its row count, and each
column's values are of the type its contract declares), and writing fails.

Column reflection (``inspect(engine).get_columns``, which Superset's "sync
columns" uses) is tested on every mart: SQLAlchemy 2.0.45+ asks the PostgreSQL
catalog for ``pg_collation``, which DuckDB 1.4 does not emulate
(Mause/duckdb_engine#1379, fixed for DuckDB 1.5 by duckdb/duckdb#22160), so
pyproject.toml pins SQLAlchemy 2.0.44 until the project moves to DuckDB 1.5.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import sqlalchemy
from sqlalchemy import exc, inspect, text

from tests.support.conventions import marts
from tests.support.publishing import copy_working, publish_from

pytestmark = pytest.mark.integration

#: A contract's data_type (DuckDB spelling) -> the Python type SQLAlchemy returns.
PYTHON_TYPES = {
    "bigint": int,
    "integer": int,
    "double precision": float,
    "double": float,
    "varchar": str,
    "boolean": bool,
    "date": date,
    "timestamp": datetime,
}


@pytest.fixture(scope="module")
def manifest(warehouse) -> dict:
    return json.loads((warehouse.target_path / "manifest.json").read_text())


@pytest.fixture(scope="module")
def published(warehouse, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("bi")
    working = copy_working(warehouse, directory / "working")
    path = directory / "published" / "clv.duckdb"
    publish_from(working, path)
    return path


@pytest.fixture(scope="module")
def engine(published):
    engine = sqlalchemy.create_engine(f"duckdb:///{published}", connect_args={"read_only": True})
    yield engine
    engine.dispose()


def working_counts(path: Path) -> dict[str, int]:
    """Row counts of the working file's marts, read with the DuckDB client.

    (Not the published file: this process holds it through SQLAlchemy, and DuckDB
    refuses a second connection to one file with another configuration.)
    """
    connection = duckdb.connect(str(path), read_only=True)
    try:
        tables = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        return {
            name: connection.execute(f'select count(*) from marts."{name}"').fetchone()[0]
            for (name,) in tables
        }
    finally:
        connection.close()


def sqlalchemy_counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f'select count(*) from marts."{table}"')).scalar_one()
            for table in inspect(engine).get_table_names(schema="marts")
        }


def test_sqlalchemy_lists_every_mart(engine, manifest):
    inspector = inspect(engine)
    # duckdb-engine names schemas <catalog>.<schema>; the file is clv.duckdb.
    assert {"clv.marts", "clv.snapshots"} <= set(inspector.get_schema_names())
    expected = {node["alias"] for node in marts(manifest).values() if node["config"]["enabled"]}
    assert set(inspector.get_table_names(schema="marts")) == expected


#: Marts the session's two years of data leave empty, and why (their rows are checked elsewhere).
EMPTY_ON_THE_FIXTURE = {
    # No month end has 12 months before it and 12 after: tests/test_origins_build.py
    # builds it with 6 + 6 months and checks its rows.
    "clv_backtest_by_origin",
}


def test_every_mart_reads_through_sqlalchemy_with_its_contract_types(engine, manifest, warehouse):
    counts = working_counts(warehouse.database)
    unread = []
    with engine.connect() as connection:
        for node in sorted(marts(manifest).values(), key=lambda node: node["alias"]):
            table = node["alias"]
            count = connection.execute(text(f'select count(*) from marts."{table}"')).scalar_one()
            if table in EMPTY_ON_THE_FIXTURE:
                assert count == counts[table] == 0, table
                continue
            assert count == counts[table] > 0, table
            rows = connection.execute(text(f'select * from marts."{table}" limit 50')).mappings()
            rows = list(rows)
            assert list(rows[0]) == list(node["columns"]), f"{table}: columns differ from contract"
            for name, column in node["columns"].items():
                expected_type = PYTHON_TYPES[column["data_type"]]
                values = [row[name] for row in rows if row[name] is not None]
                wrong = [v for v in values if not isinstance(v, expected_type)]
                if wrong:
                    unread.append(f"{table}.{name}: {type(wrong[0]).__name__}, not {expected_type}")
    assert unread == []


def test_every_mart_reflects_its_contract_columns(engine, manifest):
    """Superset's "sync columns": each reflected column's type reads back as the
    Python type its contract's data_type names, in the contract's order."""
    inspector = inspect(engine)
    wrong = []
    for node in sorted(marts(manifest).values(), key=lambda node: node["alias"]):
        reflected = inspector.get_columns(node["alias"], schema="marts")
        names = [column["name"] for column in reflected]
        assert names == list(node["columns"]), f"{node['alias']}: reflected columns differ"
        for column in reflected:
            expected = PYTHON_TYPES[node["columns"][column["name"]]["data_type"]]
            if column["type"].python_type is not expected:
                wrong.append(f"{node['alias']}.{column['name']}: {column['type']!r}")
    assert wrong == []


def test_a_read_only_connection_cannot_write(engine):
    before = sqlalchemy_counts(engine)
    statements = [
        "insert into marts.customer_equity_monthly select * from marts.customer_equity_monthly"
        " limit 1",
        "delete from marts.loyalty_monthly",
        "create table marts.scratch as select 1 as x",
    ]
    for statement in statements:
        with engine.connect() as connection, pytest.raises(exc.DBAPIError, match="read-only"):
            connection.execute(text(statement))
    assert sqlalchemy_counts(engine) == before


def test_bi_exposure_lists_every_published_table(manifest, engine):
    exposure = manifest["exposures"]["exposure.clv_warehouse.published_marts_for_bi"]
    depends = {node.split(".")[-1] for node in exposure["depends_on"]["nodes"]}
    inspector = inspect(engine)
    tables = {
        table for schema in ("marts", "snapshots") for table in inspector.get_table_names(schema)
    }
    assert depends == tables
