"""Parquet files in the contract's shape, and the nightly load convention.

Shared by every writer of raw files: the simulator and the CDNOW loader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from clv.contract.tables import SPECS

US = 1_000_000
ROW_GROUP_SIZE = 1_000_000
DAY = 86_400
HOUR = 3_600
#: Rows are loaded at 02:00 on the day after their event.
LOAD_HOUR = 2


def loaded_at(event_seconds: np.ndarray) -> np.ndarray:
    """02:00 on the day after each event (seconds since 1970-01-01)."""
    return (event_seconds // DAY + 1) * DAY + LOAD_HOUR * HOUR


def to_arrow(name: str, columns: dict[str, object]) -> pa.Table:
    """A table with the contract's schema; numpy timestamps are seconds, dates day numbers."""
    schema = SPECS[name].schema
    arrays = []
    for field in schema:
        values = columns[field.name]
        if isinstance(values, pa.Array | pa.ChunkedArray):
            arrays.append(values.cast(field.type))
            continue
        values = np.asarray(values)
        if pa.types.is_timestamp(field.type):
            arrays.append(pa.array(values.astype(np.int64) * US, pa.int64()).cast(field.type))
        elif pa.types.is_date32(field.type):
            arrays.append(pa.array(values.astype(np.int32), pa.int32()).cast(field.type))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_table(table: pa.Table, path: Path) -> None:
    """One Parquet file, zstd-compressed, in row groups of :data:`ROW_GROUP_SIZE` rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        path,
        compression="zstd",
        row_group_size=ROW_GROUP_SIZE,
        write_statistics=True,
    )
