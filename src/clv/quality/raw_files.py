"""Pre-flight of the raw Parquet files, before great-expectations or dbt reads them.

GX validates rows of a DataFrame; it cannot say anything useful about a file
that is missing, empty, truncated or written with the wrong column types, and
reading such a file would crash. Each check here turns one of those file-level
problems into a message that names the file and the problem, e.g.
``shop/orders.parquet: missing columns order_total, currency``. Every problem
found here fails the raw gate: dbt would otherwise stop with an error half-way
through the build, or silently read a column as nulls.

The contract's column names and types come from :data:`clv.contract.tables.SPECS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from clv.contract.tables import TableSpec


@dataclass
class RawFile:
    """One raw table's file after pre-flight: its rows when readable, its problems."""

    spec: TableSpec
    path: Path
    table: pa.Table | None = None
    problems: list[str] = field(default_factory=list)
    #: Pre-flight checks run on the file (for the report's counts).
    checks: int = 0

    @property
    def ok(self) -> bool:
        """Whether the file passed every pre-flight check and can go to GX."""
        return not self.problems and self.table is not None


def _family(data_type: pa.DataType) -> str:
    """The contract type family a column's Arrow type belongs to."""
    if pa.types.is_null(data_type):
        return "null"
    if pa.types.is_boolean(data_type):
        return "bool"
    if pa.types.is_integer(data_type):
        return "integer"
    if pa.types.is_floating(data_type) or pa.types.is_decimal(data_type):
        return "float"
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "string"
    if pa.types.is_timestamp(data_type):
        return "timestamp_tz" if data_type.tz else "timestamp"
    if pa.types.is_date(data_type):
        return "date"
    if pa.types.is_dictionary(data_type):
        return _family(data_type.value_type)
    return str(data_type)


#: For each contract family, the Arrow families dbt's casts read without loss.
_COMPATIBLE = {
    "integer": {"integer", "null"},
    "float": {"float", "integer", "null"},
    "string": {"string", "null"},
    "timestamp": {"timestamp", "date", "null"},
    "date": {"date", "timestamp", "null"},
    "bool": {"bool", "null"},
}


def is_compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column of type ``actual`` can stand for the contract's ``expected``.

    Integers of any width stand for int64/int32, integers and floats for
    double, any time unit for timestamps; an all-null column (Arrow ``null``)
    fits anywhere. A string where a number or timestamp belongs, or a
    timestamp with a time zone (the contract's timestamps are naive UTC and a
    zoned one would be shifted by the session's zone), does not.
    """
    return _family(actual) in _COMPATIBLE.get(_family(expected), {_family(expected)})


def _cast_note(column: pa.ChunkedArray, expected: pa.DataType) -> str:
    """Whether the values would survive a cast; a hint for the message only."""
    try:
        pc.cast(column, expected, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        return f"values cannot be cast: {str(error).splitlines()[0]}"
    return "values happen to cast, but the loader must write the contract's type"


def preflight(raw_dir: Path, spec: TableSpec) -> RawFile:
    """Check that ``spec``'s file exists, is readable Parquet and has the contract's columns.

    Never raises for a bad file: every problem becomes a line in
    :attr:`RawFile.problems`. Checks, in order (a later one runs only when the
    earlier ones pass): the file exists (a missing table would make dbt fail
    on a missing relation); it is not empty (0 bytes: an interrupted upload);
    it is a Parquet file (a truncated or corrupt file); every contract column
    is present (dbt selects them by name); each column's type is compatible
    with the contract (a string in a numeric column means a shifted or
    mis-typed export); float columns hold no NaN or infinity (DuckDB sorts NaN
    above every number, so ``order_total < 0`` would let it through and every
    sum it touches would become NaN).
    """
    path = raw_dir / spec.path
    raw = RawFile(spec, path)
    name = spec.path

    raw.checks += 1
    if not path.is_file():
        raw.problems.append(f"{name}: file not found in {raw_dir}")
        return raw
    raw.checks += 1
    if path.stat().st_size == 0:
        raw.problems.append(f"{name}: empty file (0 bytes)")
        return raw
    raw.checks += 1
    try:
        table = pq.read_table(path)
    except Exception as error:  # noqa: BLE001 - pyarrow raises several types; all mean unreadable
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raw.problems.append(f"{name}: not a Parquet file (truncated or corrupt): {message}")
        return raw

    raw.checks += 1
    expected_names = spec.schema.names
    missing = [column for column in expected_names if column not in table.column_names]
    if missing:
        raw.problems.append(f"{name}: missing columns {', '.join(missing)}")

    for expected in spec.schema:
        if expected.name in missing:
            continue
        raw.checks += 1
        actual = table.schema.field(expected.name).type
        if not is_compatible(actual, expected.type):
            note = _cast_note(table[expected.name], expected.type)
            raw.problems.append(
                f"{name}: column {expected.name} has type {actual}, the contract says "
                f"{expected.type} ({note})"
            )
            continue
        if pa.types.is_floating(actual):
            raw.checks += 1
            values = table[expected.name]
            not_finite = pc.sum(
                pc.or_(pc.is_nan(values), pc.is_inf(values)).cast(pa.int64())
            ).as_py()
            if not_finite:
                raw.problems.append(
                    f"{name}: column {expected.name} has {not_finite} NaN or infinite "
                    f"value{'s' if not_finite != 1 else ''}"
                )
    if not raw.problems:
        raw.table = table.select(expected_names)
    return raw


def to_frame(raw: RawFile) -> pd.DataFrame:
    """The file's rows as a DataFrame GX's pandas data source validates.

    Integers stay integers with pandas' nullable ``Int64`` (so a null key is
    null, not a float NaN), dates become ``datetime64`` (comparable with
    timestamps) and the time unit is kept at microseconds, as in the contract.
    """
    if raw.table is None:
        raise ValueError(f"{raw.spec.path} did not pass pre-flight")
    return raw.table.to_pandas(types_mapper=_nullable_integers, date_as_object=False)


def _nullable_integers(data_type: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    return pd.Int64Dtype() if pa.types.is_integer(data_type) else None
