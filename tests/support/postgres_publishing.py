"""Publishing on PostgreSQL for tests: a BI login, builds made by copying, readers.

``clv publish --target postgres`` (:mod:`clv.publish_postgres`) publishes the
build schema dbt wrote. A real build takes a minute; to publish many times,
:func:`copy_as_build` makes a build schema from the published marts (grants
and the ``dbt invocation`` comments as dbt writes them, from the
run_results.json files given), optionally with another revenue in the first
row of two marts, which makes this build's content differ. :class:`Readers`
reads two marts as ``clv_bi`` in threads while publications run, recording
the fingerprints each read saw.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from clv.publish_postgres import LOG_TABLE, table_fingerprint_sql

#: The BI role of dbt_project.yml's grants, and the login the tests read as (a member).
BI_ROLE = "clv_bi"
BI_LOGIN = "clv_bi_reader"
#: The two marts the readers read together.
READ_MARTS = ("cohort_clv", "customer_clv")
#: Schemas of PostgreSQL itself, not of the warehouse.
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


def bi_login(connection_kwargs: Mapping[str, object]) -> dict[str, object]:
    """Settings of a LOGIN user in role clv_bi (created once; trust auth: no password)."""
    connection = psycopg2.connect(**connection_kwargs)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("select 1 from pg_roles where rolname = %s", [BI_LOGIN])
        if cursor.fetchone() is None:
            cursor.execute(f'create user "{BI_LOGIN}" in role "{BI_ROLE}"')
    connection.close()
    return {**connection_kwargs, "user": BI_LOGIN}


def built_by(run_results: Sequence[Path]) -> dict[str, str]:
    """``{model: invocation id}`` of each model the run_results.json files built."""
    models: dict[str, str] = {}
    for path in run_results:
        document = json.loads(Path(path).read_text())
        for result in document["results"]:
            if result["unique_id"].startswith("model.") and result["status"] == "success":
                models[result["unique_id"].rsplit(".", 1)[-1]] = document["metadata"][
                    "invocation_id"
                ]
    return models


#: The row of each of READ_MARTS whose revenue a build made by copying may change.
FIRST_ROW = {
    "cohort_clv": "(cohort_month, months_since_acquisition) = "
    '(select min(cohort_month), 0 from "{schema}".cohort_clv)',
    "customer_clv": 'customer_id = (select min(customer_id) from "{schema}".customer_clv)',
}


def first_revenues(connection_kwargs: Mapping[str, object]) -> dict[str, float]:
    """The revenue of the :data:`FIRST_ROW` of each of :data:`READ_MARTS` in the published marts."""
    connection = psycopg2.connect(**connection_kwargs)
    with connection, connection.cursor() as cursor:
        values = {}
        for mart, row in FIRST_ROW.items():
            cursor.execute(f"select revenue from marts.{mart} where {row.format(schema='marts')}")
            (values[mart],) = cursor.fetchone()
    connection.close()
    return values


def copy_as_build(
    connection_kwargs: Mapping[str, object],
    run_results: Sequence[Path],
    revenues: Mapping[str, float] | None = None,
    schema: str = "marts_build",
) -> None:
    """Make ``schema`` a copy of the published marts, as dbt would have built it.

    Every mart but the publication log, SELECT granted to clv_bi, commented
    with the invocation that built it in ``run_results``; ``revenues`` (by
    mart of :data:`READ_MARTS`) replace the revenue of the mart's first row.
    """
    invocations = built_by(run_results)
    connection = psycopg2.connect(**connection_kwargs)
    with connection, connection.cursor() as cursor:
        cursor.execute(f'create schema "{schema}"')
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_name <> %s order by 1",
            [LOG_TABLE],
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f'create table "{schema}"."{table}" as select * from marts."{table}"')
            cursor.execute(f'grant select on "{schema}"."{table}" to "{BI_ROLE}"')
            cursor.execute(
                f'comment on table "{schema}"."{table}" is %s',
                [f"dbt invocation {invocations[table]}"],
            )
        for mart, revenue in (revenues or {}).items():
            cursor.execute(
                f'update "{schema}".{mart} set revenue = %s '
                f"where {FIRST_ROW[mart].format(schema=schema)}",
                [revenue],
            )
    connection.close()


def drop_build(connection_kwargs: Mapping[str, object], schema: str = "marts_build") -> None:
    connection = psycopg2.connect(**connection_kwargs)
    with connection, connection.cursor() as cursor:
        cursor.execute(f'drop schema if exists "{schema}" cascade')
    connection.close()


def marts_state(connection_kwargs: Mapping[str, object]) -> tuple[list, dict[str, str], list]:
    """The publication log's rows, a fingerprint per relation of marts, and the schemas."""
    connection = psycopg2.connect(**connection_kwargs)
    with connection, connection.cursor() as cursor:
        cursor.execute(f"select * from marts.{LOG_TABLE} order by publication_id")
        log = cursor.fetchall()
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by 1"
        )
        fingerprints = {}
        for (table,) in cursor.fetchall():
            cursor.execute(table_fingerprint_sql("marts", table))
            fingerprints[table] = cursor.fetchone()[0]
        cursor.execute("select nspname from pg_namespace order by 1")
        schemas = [name for (name,) in cursor.fetchall()]
    connection.close()
    return log, fingerprints, schemas


#: One statement: both marts' fingerprints and the last publication in the log.
ONE_STATEMENT = (
    "select "
    + ", ".join(f"({table_fingerprint_sql('marts', table)})" for table in READ_MARTS)
    + f", (select max(publication_id) from marts.{LOG_TABLE})"
)


@dataclass
class Readers:
    """Reader threads: half read both marts in one statement, half in a REPEATABLE READ
    transaction of one statement per mart (and one for the log)."""

    connection_kwargs: Mapping[str, object]
    threads: int = 6
    reads: list[tuple[str, str, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    slowest_read_seconds: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def _read(self, index: int) -> None:
        one_statement = index % 2 == 0
        connection = psycopg2.connect(**self.connection_kwargs)
        connection.autocommit = one_statement
        if not one_statement:
            connection.set_session(isolation_level="REPEATABLE READ")
        try:
            with connection.cursor() as cursor:
                while not self._stop.is_set():
                    began = time.perf_counter()
                    try:
                        if one_statement:
                            cursor.execute(ONE_STATEMENT)
                            row = cursor.fetchone()
                        else:
                            row = []
                            for table in READ_MARTS:
                                cursor.execute(table_fingerprint_sql("marts", table))
                                row.append(cursor.fetchone()[0])
                            cursor.execute(f"select max(publication_id) from marts.{LOG_TABLE}")
                            row.append(cursor.fetchone()[0])
                            connection.commit()
                    except psycopg2.Error as error:
                        if not one_statement:
                            connection.rollback()
                        with self._lock:
                            self.failures.append(f"{type(error).__name__}: {error}".strip())
                        continue
                    elapsed = time.perf_counter() - began
                    with self._lock:
                        self.reads.append(tuple(row))
                        self.slowest_read_seconds = max(self.slowest_read_seconds, elapsed)
        finally:
            connection.close()

    def __enter__(self) -> Readers:
        for index in range(self.threads):
            worker = threading.Thread(target=self._read, args=(index,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)
