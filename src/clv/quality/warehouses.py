"""Where the staging and marts suites run: the DuckDB file or a PostgreSQL database.

Both give :func:`clv.quality.runner.validate` the same three things: the
relations that exist (``"schema.name"``, which decides the suites), a
description for messages, and a way to evaluate a suite's query:

- :class:`DuckDBWarehouse` opens the file read-only (after dbt has closed it:
  DuckDB allows one writer) and runs each query into a DataFrame, because
  great-expectations has no working DuckDB dialect.
- :class:`PostgresWarehouse` hands the queries to great-expectations' SQL
  data source for PostgreSQL, so every expectation is computed in the
  database. The connection comes from the same environment variables as
  the dbt profile (``CLV_PG_HOST``, ``CLV_PG_PORT``, ``CLV_PG_USER``,
  ``CLV_PG_PASSWORD``, ``CLV_PG_DATABASE``); the password never enters a
  connection string or GX's configuration: libpq reads it from
  ``PGPASSWORD``, set only while the suites run. It needs the ``[postgres]``
  extra (:mod:`clv.extras`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clv.errors import UserError
from clv.extras import require
from clv.quality.suites import SuitePlan

#: The schemas the suites read, each where it is read from unless told otherwise.
CHECKED_SCHEMAS: Mapping[str, str] = {"staging": "staging", "audit": "audit", "marts": "marts"}


def _in_list(schemas: Mapping[str, str]) -> str:
    return ", ".join("'" + name.replace("'", "''") + "'" for name in schemas.values())


def _relations_sql(schemas: Mapping[str, str]) -> str:
    return (
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({_in_list(schemas)})"
    )


def _columns_sql(schemas: Mapping[str, str]) -> str:
    return (
        "select table_schema, table_name, column_name, data_type "
        f"from information_schema.columns where table_schema in ({_in_list(schemas)}) "
        "order by ordinal_position"
    )


def _named(schema: str, schemas: Mapping[str, str]) -> str:
    """The schema the suites call ``schema``, where it is read from (``schemas``' key)."""
    return next((name for name, read in schemas.items() if read == schema), schema)


def _by_relation(
    rows: list[tuple[str, str, str, str]], schemas: Mapping[str, str] = CHECKED_SCHEMAS
) -> dict[str, dict[str, str]]:
    columns: dict[str, dict[str, str]] = {}
    for schema, name, column, data_type in rows:
        columns.setdefault(f"{_named(schema, schemas)}.{name}", {})[column] = data_type
    return columns


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class DuckDBWarehouse:
    """The DuckDB file, read-only; suites are validated as DataFrames."""

    sql_source = False

    def __init__(self, database: Path | None) -> None:
        if database is None:
            raise UserError("staging and marts validation need --database (the DuckDB warehouse)")
        self.database = Path(database)
        self._connection: Any = None

    def __str__(self) -> str:
        return str(self.database)

    def __enter__(self) -> DuckDBWarehouse:
        import duckdb

        if not self.database.is_file():
            raise UserError(
                f"no warehouse at {self.database}: run `make demo` (or `dbt build`) first"
            )
        try:
            self._connection = duckdb.connect(str(self.database), read_only=True)
        except duckdb.Error as error:
            raise UserError(
                f"cannot read the warehouse {self.database} (is dbt still building it?): "
                f"{_first_line(error)}"
            ) from error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def relations(self, schemas: Mapping[str, str] = CHECKED_SCHEMAS) -> set[str]:
        """``"schema.name"`` of every table and view in the checked schemas.

        ``schemas`` maps each checked schema to the schema it is read from;
        relations are named after the first.
        """
        rows = self._connection.execute(_relations_sql(schemas)).fetchall()
        return {f"{_named(schema, schemas)}.{name}" for schema, name in rows}

    def columns(self, schemas: Mapping[str, str] = CHECKED_SCHEMAS) -> dict[str, dict[str, str]]:
        """``{"schema.name": {column: data_type}}`` as the warehouse's information_schema has it."""
        return _by_relation(self._connection.execute(_columns_sql(schemas)).fetchall(), schemas)

    def prepare(self, plans: list[SuitePlan]) -> None:
        """Run each plan's query into its DataFrame; a query that fails is a failed suite."""
        import duckdb

        for plan in plans:
            if plan.query is None or plan.problems:
                continue
            try:
                plan.frame = self._connection.execute(plan.query).df()
            except duckdb.Error as error:
                plan.problems = [f"{plan.name}: cannot be read: {_first_line(error)}"]
                plan.checks = max(plan.checks, len(plan.expectations))


@dataclass(frozen=True)
class PostgresSettings:
    """A PostgreSQL connection, with the dbt profile's variables and defaults."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "clv"
    password: str = ""
    database: str = "clv"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PostgresSettings:
        environ = os.environ if environ is None else environ
        port = environ.get("CLV_PG_PORT", "5432")
        if not port.isdigit():
            raise UserError(f"CLV_PG_PORT must be a port number, got {port!r}")
        return cls(
            host=environ.get("CLV_PG_HOST", cls.host),
            port=int(port),
            user=environ.get("CLV_PG_USER", cls.user),
            password=environ.get("CLV_PG_PASSWORD", cls.password),
            database=environ.get("CLV_PG_DATABASE", cls.database),
        )

    def __str__(self) -> str:
        return f"PostgreSQL {self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL for GX, without the password (libpq reads ``PGPASSWORD``)."""
        return (
            f"postgresql+psycopg2://{quote(self.user, safe='')}@{self.host}:{self.port}/"
            f"{quote(self.database, safe='')}"
        )

    def connection_kwargs(self) -> dict[str, object]:
        kwargs: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.database,
        }
        if self.password:
            kwargs["password"] = self.password
        return kwargs


class PostgresWarehouse:
    """A PostgreSQL database; suites are query assets of GX's SQL data source.

    Needs the ``[postgres]`` extra (psycopg2, and SQLAlchemy for GX's data
    source): without it, construction raises :class:`clv.extras.MissingExtra`.
    """

    sql_source = True

    def __init__(self, settings: PostgresSettings | None = None) -> None:
        require("postgres", "psycopg2", "sqlalchemy", what="--target postgres")
        self.settings = settings or PostgresSettings.from_env()

    def __str__(self) -> str:
        return str(self.settings)

    def __enter__(self) -> PostgresWarehouse:
        """Check the connection first, as the DuckDB warehouse opens its file."""
        self._fetch("select 1")
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def relations(self, schemas: Mapping[str, str] = CHECKED_SCHEMAS) -> set[str]:
        """As :meth:`DuckDBWarehouse.relations`."""
        rows = self._fetch(_relations_sql(schemas))
        return {f"{_named(schema, schemas)}.{name}" for schema, name in rows}

    def columns(self, schemas: Mapping[str, str] = CHECKED_SCHEMAS) -> dict[str, dict[str, str]]:
        """``{"schema.name": {column: data_type}}`` as the database's information_schema has it."""
        return _by_relation(self._fetch(_columns_sql(schemas)), schemas)

    def _fetch(self, sql: str) -> list[Any]:
        import psycopg2

        try:
            connection = psycopg2.connect(connect_timeout=10, **self.settings.connection_kwargs())
        except psycopg2.Error as error:
            raise UserError(f"cannot connect to {self.settings}: {_first_line(error)}") from error
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        finally:
            connection.close()

    def prepare(self, plans: list[SuitePlan]) -> None:
        """Nothing to read: GX runs each query in the database."""

    def add_source(self, context: Any) -> Any:
        """The GX PostgreSQL data source the warehouse suites' query assets belong to."""
        return context.data_sources.add_postgres("warehouse", connection_string=self.settings.url)

    @contextmanager
    def credentials(self) -> Iterator[None]:
        """``PGPASSWORD`` set to ``CLV_PG_PASSWORD`` while GX connects, then restored."""
        if not self.settings.password:
            yield
            return
        previous = os.environ.get("PGPASSWORD")
        os.environ["PGPASSWORD"] = self.settings.password
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("PGPASSWORD", None)
            else:
                os.environ["PGPASSWORD"] = previous
