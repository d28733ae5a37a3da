"""Load raw Parquet files into PostgreSQL's source schemas, for the portability test.

On DuckDB the dbt sources read the Parquet files directly; on PostgreSQL the
same sources are tables ``<source>.<table>``. :func:`load_postgres` creates
them from the files (replacing what is there) with ``COPY``, so the warehouse
test_postgres_portability.py builds on PostgreSQL reads the session's raw data.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from clv.errors import UserError


def postgres_type(arrow_type: pa.DataType) -> str:
    """The PostgreSQL column type for an Arrow type of the raw contract."""
    if pa.types.is_int64(arrow_type):
        return "bigint"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type):
        return "double precision"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    raise UserError(f"no PostgreSQL type for Arrow type {arrow_type}")


def raw_files(raw_dir: Path) -> dict[str, Path]:
    """``{"<source>.<table>": path}`` for every Parquet file under ``raw_dir``."""
    files = {
        f"{path.parent.name}.{path.stem}": path for path in sorted(raw_dir.glob("*/*.parquet"))
    }
    if not files:
        raise UserError(f"no Parquet files under {raw_dir}/<source>/<table>.parquet")
    return files


def load_postgres(raw_dir: Path, connection_kwargs: Mapping[str, object]) -> dict[str, int]:
    """Replace the tables ``<source>.<table>`` with the Parquet files' rows; return row counts."""
    import psycopg2

    counts: dict[str, int] = {}
    with psycopg2.connect(**connection_kwargs) as connection, connection.cursor() as cursor:
        for name, path in raw_files(raw_dir).items():
            source, table = name.split(".")
            data = pq.read_table(path)
            columns = ", ".join(
                f'"{field.name}" {postgres_type(field.type)}' for field in data.schema
            )
            cursor.execute(f'create schema if not exists "{source}"')
            cursor.execute(f'drop table if exists "{source}"."{table}" cascade')
            cursor.execute(f'create table "{source}"."{table}" ({columns})')
            buffer = io.BytesIO()
            pacsv.write_csv(data, buffer, pacsv.WriteOptions(include_header=False))
            buffer.seek(0)
            cursor.copy_expert(
                f'copy "{source}"."{table}" from stdin with (format csv, null \'\')', buffer
            )
            counts[name] = data.num_rows
    return counts
