"""A content hash of every table in a DuckDB schema, stable across reruns of a build.

Two builds of the same inputs must give the same hash, and two different
contents must (with overwhelming probability) give different hashes. What
stands in the way is noise, not logic:

* **Float noise.** Multithreaded DuckDB aggregates add doubles in an order
  that varies between runs, so a sum can differ in its last bits (~1e-13
  relative). Every ``DOUBLE`` / ``FLOAT`` value is therefore normalised
  before hashing: rounded to ``ABSOLUTE_DECIMALS`` (9) decimals, which turns
  near-zero noise such as ``-1.4e-17`` into ``0``, and then printed with
  ``SIGNIFICANT_DIGITS`` (9) significant digits, which absorbs relative noise
  on large values; ``-0`` becomes ``0``. A real change below both
  thresholds goes unnoticed; a change in the 9th significant digit does not.
* **Row order.** Tables have no order: each row is serialised to one JSON
  text (an array of its normalised values, ``null`` for NULL) and the rows
  are hashed in the sorted order of those texts, so the hash does not depend
  on how DuckDB happened to write them.
* **Run metadata.** A column that records *when* something ran rather than
  *what* it computed (``clv_model_parameters.fitted_at``, the wall-clock time
  of the BG/NBD fit) differs on every build by design. Such columns are
  listed in :data:`VOLATILE_COLUMNS` and left out of the hash (their names
  and types still count); callers may pass their own list.

The hash of a table covers its column names and types and its rows; the
combined hash covers the sorted ``table: hash`` pairs, so it changes when a
table is added, removed or renamed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import duckdb

#: Digits kept after the decimal point before significant-digit rounding.
ABSOLUTE_DECIMALS = 9
#: Significant digits kept of every floating-point value.
SIGNIFICANT_DIGITS = 9
#: Columns that record when a build ran, not what it computed: ``{table: {column}}``.
VOLATILE_COLUMNS: Mapping[str, frozenset[str]] = {
    "clv_model_parameters": frozenset({"fitted_at"}),
}

_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
_FETCH_BATCH = 10_000


@dataclass(frozen=True)
class SchemaHash:
    """The content hash of each table of a schema and of the schema as a whole."""

    tables: dict[str, str]
    combined: str


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _normalised(column: str, data_type: str) -> str:
    """A SQL expression giving ``column`` as text, with floats made noise-free."""
    quoted = _quote(column)
    if data_type.upper() in _FLOAT_TYPES:
        # `+ 0.0` turns -0.0 into 0.0; nan and inf print as themselves.
        return (
            f"printf('%.{SIGNIFICANT_DIGITS}g', "
            f"round(cast({quoted} as double), {ABSOLUTE_DECIMALS}) + 0.0)"
        )
    return f"cast({quoted} as varchar)"


def table_hash(
    connection: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[tuple[str, str]],
    exclude: Collection[str] = (),
) -> str:
    """The sha256 hex digest of ``relation`` (``catalog.schema.table``, quoted).

    ``columns`` gives (name, type) in table order; the names in ``exclude``
    enter the hash by name and type only, not by value.
    """
    digest = hashlib.sha256()
    for name, data_type in columns:
        marker = " (not hashed)" if name in exclude else ""
        digest.update(f"{name} {data_type}{marker}\n".encode())
    hashed = [_normalised(name, data_type) for name, data_type in columns if name not in exclude]
    if not hashed:
        (rows,) = connection.execute(f"select count(*) from {relation}").fetchone()
        digest.update(f"rows {rows}\n".encode())
        return digest.hexdigest()
    query = (
        f"select line from (select to_json([{', '.join(hashed)}]) as line from {relation}) "
        "order by line"
    )
    cursor = connection.execute(query)
    while batch := cursor.fetchmany(_FETCH_BATCH):
        for (line,) in batch:
            digest.update(str(line).encode())
            digest.update(b"\n")
    return digest.hexdigest()


def schema_hash(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    *,
    catalog: str | None = None,
    tables: Collection[str] | None = None,
    volatile: Mapping[str, Collection[str]] = VOLATILE_COLUMNS,
) -> SchemaHash:
    """Hash every base table of ``schema`` (in ``catalog``, default the current one).

    ``tables`` restricts the hash to those tables (all must exist). Returns
    each table's hash and the combined hash of the schema.
    """
    catalog_filter = (
        "table_catalog = current_database()" if catalog is None else "table_catalog = ?"
    )
    params: list[object] = [] if catalog is None else [catalog]
    rows = connection.execute(
        "select c.table_name, c.column_name, c.data_type "
        "from information_schema.columns as c "
        "join information_schema.tables as t using (table_catalog, table_schema, table_name) "
        f"where c.{catalog_filter} and c.table_schema = ? and t.table_type = 'BASE TABLE' "
        "order by c.table_name, c.ordinal_position",
        [*params, schema],
    ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, []).append((column, data_type))
    if tables is not None:
        missing = sorted(set(tables) - set(columns))
        if missing:
            raise ValueError(f"no table {', '.join(missing)} in schema {schema}")
        columns = {name: columns[name] for name in tables}
    prefix = "" if catalog is None else _quote(catalog) + "."
    hashes = {
        table: table_hash(
            connection,
            f"{prefix}{_quote(schema)}.{_quote(table)}",
            table_columns,
            exclude=volatile.get(table, ()),
        )
        for table, table_columns in sorted(columns.items())
    }
    combined = hashlib.sha256(
        "".join(f"{table}: {digest}\n" for table, digest in hashes.items()).encode()
    ).hexdigest()
    return SchemaHash(hashes, combined)
