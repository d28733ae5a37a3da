"""Write-audit-publish on PostgreSQL: build into a schema of its own, publish by renaming it.

On PostgreSQL BI tools read schema ``marts`` of the database itself, as role
``clv_bi`` (the marts' ``grants`` config in dbt_project.yml). If dbt rebuilt
``marts`` in place, a reader could see a new ``customer_clv`` beside an old
``cohort_clv``. So on that target dbt builds the marts into a *build schema*,
``marts_build`` (macro ``generate_schema_name``, the one place the name is
chosen; read here from the manifest), and :func:`publish_postgres` publishes
it once the gates pass, by renaming schemas in one transaction: PostgreSQL's
DDL is transactional.

Gates, in order (:data:`GATES`; each refusal is a
:class:`~clv.publish.PublishRefused` naming one, and changes nothing):

1. ``build schema`` - the manifest beside the last ``run_results.json`` puts
   the marts in a build schema other than ``marts``; that schema exists in
   the database and holds tables; ``intermediate.reporting_period`` is
   readable (the as-of date of the log).
2. ``dbt build`` - every ``run_results.json`` given (a build made of several
   selections, as ``make build-postgres`` is, passes one per selection) is a
   ``dbt build`` whose nodes all ended ``success``, ``pass`` or ``warn``, and
   together they ran tests. Every relation of the build schema is a table
   that one of those invocations built successfully, as the comment dbt's
   post-hook writes on it says (macro ``mark_built_by_invocation``: ``dbt
   invocation <id>``). The comment ties the tables to the results, as the
   file's modification time does on DuckDB: a later build killed halfway
   leaves tables with its own invocation id, and is refused.
3. ``personal data`` - as on DuckDB (:data:`clv.publish.PERSONAL_COLUMN_PATTERN`,
   :data:`clv.publish.EMAIL_PATTERN`), on the tables of the build schema.
4. ``grants`` - at least one role is granted SELECT on the marts by the
   manifest's ``grants`` config; each exists, is no superuser, may SELECT
   every table of the build schema, and has no other privilege on them
   (dbt applied the grants). Checked again inside the swap, before commit.

Then, holding a session advisory lock (:data:`PUBLISH_LOCK_KEY`: a
publication already running makes this one refuse, gate ``publish lock``,
as the ``flock`` does on DuckDB):

* The publication log is written into the build schema and committed
  (:func:`_write_log`): the rows of ``marts.publication_log`` and one more,
  SELECT granted to the reader roles. It is written before the swap, not in
  it, so that the swap writes no rows (a REPEATABLE READ snapshot taken just
  before the swap commits would see a log the swap wrote empty), and before
  the last gate, so that seconds separate the two.
5. ``mart checks`` - the ``checks`` callable (default :func:`default_checks`:
   the great-expectations staging and marts suites of ``clv validate
   --target postgres``, with the marts read from the build schema) reports
   success.

* The swap, one transaction (:func:`_swap`): ``LOCK TABLE`` on every
  relation of the build schema, of ``marts``, and on dbt's stored-failure
  views over ``marts`` (schema ``test_failures``), in ACCESS EXCLUSIVE mode,
  waiting at most :data:`LOCK_WAIT_SECONDS`. When readers hold them longer,
  the transaction rolls back, waits a moment and tries again, until
  ``lock_deadline_seconds`` (gate ``swap``). The wait is kept under the
  server's ``deadlock_timeout`` (1 s by default), so that a reader which had
  locked one mart and waits for another is never the victim of a deadlock:
  the publication gives way first. Under the locks the tables, their
  invocation comments and the grants are checked again; then ``ALTER SCHEMA
  marts RENAME TO marts_retired``, ``ALTER SCHEMA marts_build RENAME TO
  marts``, ``GRANT USAGE ON SCHEMA marts`` to the reader roles, and the
  grants checked once more, USAGE included (gate ``grants``). A view
  outside ``test_failures`` that reads the retired tables (a view is bound
  to its tables, not their names) makes the publication refuse (gate
  ``swap``), naming it; otherwise ``DROP SCHEMA marts_retired CASCADE``
  (which drops dbt's stored failures of the previous build), then COMMIT.

Any refusal leaves ``marts`` and its log as they were (a refused swap rolls
back; the log written into the build schema is dropped again).

What readers see: a reader's statement locks the marts it reads (ACCESS
SHARE) while it resolves their names, and takes its snapshot after that
(READ COMMITTED). Before the swap has its locks the statement resolves the
old tables, and the swap waits for it; once the swap has them, the statement
waits, and after the commit resolves the new tables. One statement that
reads several marts and the log therefore sees one publication, and so does
a REPEATABLE READ transaction whose first statement reads the marts (it
holds their locks to its end). ``tests/test_postgres_portability.py`` runs
readers of both kinds through twelve publications and counts mixed reads
(none). A reader waits at most for the lock wait and the swap itself
(milliseconds).

The publication log (``marts.publication_log``, readable by the reader roles)
has the columns of DuckDB's ``main.publication_log``: ``publication_id``,
``published_at`` (UTC: when the row was written, seconds before the swap),
``as_of_date``, ``git_commit``, ``row_counts`` (JSON ``{table: rows}``),
``content_hash``, ``checks_passed`` and ``dbt_invocation_id`` (the
invocations of the build, in order, separated by spaces). ``content_hash``
is :func:`table_fingerprint_sql` per table (md5 of the rows as PostgreSQL
prints them, in sorted order), combined with the tables' columns and types;
it is exact, not normalised for float noise as DuckDB's
:mod:`clv.content_hash` is.

After a publication the build schema is gone: the next ``dbt build`` creates
it from scratch (so the incremental mart ``customer_equity_monthly`` is built
in full on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from clv import paths
from clv.errors import UserError
from clv.extras import require
from clv.manifest import DbtManifest, load_manifest
from clv.publish import (
    DEFAULT_RUN_RESULTS,
    EMAIL_PATTERN,
    MARTS_SCHEMA,
    PERSONAL_COLUMN_PATTERN,
    CheckReport,
    Publication,
    _one_line,
    git_commit,
    read_green_build,
)
from clv.publish import PublishRefused as _Refused

#: The gates :func:`publish_postgres` runs, in order (then "publish lock" and "swap").
GATES = ("build schema", "dbt build", "personal data", "grants", "mart checks")
#: The published schema's name while the swap runs (dropped before commit).
RETIRED_SCHEMA = f"{MARTS_SCHEMA}_retired"
#: The publication log, in the published schema.
LOG_TABLE = "publication_log"
#: dbt's stored failing rows of mart tests: views over the marts (dbt_project.yml).
STORED_FAILURES_SCHEMA = "test_failures"
#: The advisory lock that serialises publications into one database.
PUBLISH_LOCK_KEY = 0x636C765F7075626C  # "clv_publ"
#: Longest wait for the marts' locks in one attempt: below PostgreSQL's default
#: deadlock_timeout (1 s), so a reader never loses a deadlock to a publication.
LOCK_WAIT_SECONDS = 0.2
#: How long a publication keeps trying to lock the marts before it refuses.
LOCK_DEADLINE_SECONDS = 120.0
#: Privileges a reader role must not hold on a mart (it may only SELECT).
WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
#: The comment macro mark_built_by_invocation writes on every mart.
BUILT_BY = re.compile(r"^dbt invocation (\S+)$")
#: information_schema data types searched for email-like values.
TEXT_TYPES = frozenset({"character varying", "text", "character"})

_LOG_COLUMNS = (
    "publication_id bigint not null, published_at timestamp not null, as_of_date date, "
    "git_commit varchar not null, row_counts varchar not null, content_hash varchar not null, "
    "checks_passed varchar not null, dbt_invocation_id varchar"
)

#: A mart check on PostgreSQL: called with the connection settings, the build's
#: manifest.json and the build schema.
PostgresChecks = Callable[[Any, Path, str], CheckReport]


class PublishRefused(_Refused):
    """A gate or the swap failed; schema ``marts`` and its log are as they were."""

    def __init__(self, gate: str, reason: str) -> None:
        super().__init__(gate, reason, unchanged="published marts")


def quote(identifier: str) -> str:
    """A quoted PostgreSQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def table_fingerprint_sql(schema: str, table: str) -> str:
    """A query of one row: the md5 of the table's rows (as text, in sorted order).

    The publication records it per table (:attr:`Publication.table_hashes`);
    a reader can compute it in the same statement as it reads the table.
    """
    return (
        "select md5(coalesce(string_agg(row_hash, '' order by row_hash), '')) "
        f"from (select md5(cast(t as text)) as row_hash from {quote(schema)}.{quote(table)} as t)"
        " as hashed"
    )


def default_checks(settings: Any, manifest: Path, build_schema: str) -> CheckReport:
    """The great-expectations staging and marts suites, the marts read from ``build_schema``.

    Fails the gate, rather than skipping it, when ``clv.quality`` cannot be
    imported or raises.
    """
    try:
        from clv.quality import validate
    except ImportError as error:
        raise PublishRefused(
            "mart checks", f"clv.quality cannot be imported ({error}), so the marts are unchecked"
        ) from error
    try:
        return validate(
            ("staging", "marts"),
            raw_dir=paths.raw_dir(),
            database=None,
            target="postgres",
            postgres=settings,
            manifest=manifest,
            marts_schema=build_schema,
        )
    except UserError as error:
        raise PublishRefused("mart checks", str(error)) from error
    except Exception as error:  # any crash of the checks is a failed gate
        raise PublishRefused("mart checks", f"clv.quality.validate raised {error!r}") from error


# --- gates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BuildResults:
    """What the run_results.json files of one build say: invocations and what each built."""

    invocations: tuple[str, ...]
    built: Mapping[str, frozenset[str]]
    nodes: int


def _read_run_results(files: Sequence[Path]) -> _BuildResults:
    """Gate ``dbt build``, first half: every file is a green ``dbt build``; tests ran."""
    gate = "dbt build"
    invocations: list[str] = []
    built: dict[str, frozenset[str]] = {}
    nodes = 0
    tested = False
    for path in files:
        document = read_green_build(path, gate, PublishRefused)
        invocation, results = document["metadata"]["invocation_id"], document["results"]
        tested = tested or any(r["unique_id"].startswith(("test.", "unit_test.")) for r in results)
        invocations.append(invocation)
        built[invocation] = frozenset(
            r["unique_id"].rsplit(".", 1)[-1]
            for r in results
            if r["unique_id"].startswith("model.") and r["status"] == "success"
        )
        nodes += len(results)
    if not tested:
        raise PublishRefused(gate, "the `dbt build` ran no tests")
    return _BuildResults(tuple(invocations), built, nodes)


def _relations(cursor: Any, schema: str) -> dict[str, tuple[str, str | None]]:
    """``{name: (relkind, comment)}`` of every relation of ``schema`` (empty if it is missing)."""
    cursor.execute(
        "select c.relname, c.relkind, obj_description(c.oid, 'pg_class') from pg_class as c "
        "where c.relnamespace = to_regnamespace(%s) and c.relkind in ('r', 'p', 'v', 'm', 'f') "
        "order by c.relname",
        [quote(schema)],
    )
    return {name: (kind, comment) for name, kind, comment in cursor.fetchall()}


def _schema_exists(cursor: Any, schema: str) -> bool:
    cursor.execute("select to_regnamespace(%s) is not null", [quote(schema)])
    return bool(cursor.fetchone()[0])


def _check_built_by(
    relations: Mapping[str, tuple[str, str | None]], build: _BuildResults, schema: str
) -> None:
    """Gate ``dbt build``, second half: every relation is a table a given invocation built."""
    problems = []
    for name, (kind, comment) in relations.items():
        match = BUILT_BY.match(comment or "")
        if kind != "r":
            problems.append(f"{name} is not a table (relkind {kind})")
        elif match is None:
            problems.append(f"{name} has no 'dbt invocation' comment (not built by dbt)")
        elif match.group(1) not in build.built:
            problems.append(f"{name} was built by dbt invocation {match.group(1)}")
        elif name not in build.built[match.group(1)]:
            problems.append(f"{name} is not a model invocation {match.group(1)} built")
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise PublishRefused(
            "dbt build",
            f"schema {schema} holds what the run results given "
            f"({', '.join(build.invocations)}) did not build: {shown}",
        )


def _check_personal_data(cursor: Any, schema: str, tables: Sequence[str]) -> None:
    """Gate ``personal data``: no personal column name, no email-like text value."""
    gate = "personal data"
    cursor.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = %s order by table_name, ordinal_position",
        [schema],
    )
    columns = [row for row in cursor.fetchall() if row[0] in tables]
    named = [f"{t}.{c}" for t, c, _ in columns if PERSONAL_COLUMN_PATTERN.match(c)]
    if named:
        raise PublishRefused(gate, f"columns named like personal data: {', '.join(named)}")
    texts: dict[str, list[str]] = {}
    for table, column, data_type in columns:
        if data_type in TEXT_TYPES:
            texts.setdefault(table, []).append(column)
    hits = []
    for table, names in texts.items():
        counts = ", ".join(f"count(*) filter (where {quote(c)} ~ %(pattern)s)" for c in names)
        cursor.execute(
            f"select {counts} from {quote(schema)}.{quote(table)}", {"pattern": EMAIL_PATTERN}
        )
        for column, count in zip(names, cursor.fetchone(), strict=True):
            if count:
                hits.append(f"{table}.{column} ({count} rows)")
    if hits:
        raise PublishRefused(gate, f"email-like values in {', '.join(hits)}")


def _check_grants(
    cursor: Any, schema: str, tables: Sequence[str], roles: Sequence[str], usage: bool = False
) -> None:
    """Gate ``grants``: each reader role may SELECT every table of ``schema``, and only that.

    With ``usage``, each must also have USAGE on the schema (the published one).
    """
    gate = "grants"
    if not roles:
        raise PublishRefused(
            gate,
            "no role may SELECT the marts: the marts' grants config (dbt_project.yml) names none",
        )
    problems = []
    for role in roles:
        cursor.execute("select rolsuper from pg_roles where rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            problems.append(f"role {role} does not exist")
            continue
        if row[0]:
            problems.append(f"role {role} is a superuser")
            continue
        cursor.execute(
            "select has_schema_privilege(%(role)s, %(schema)s, 'CREATE'), "
            "has_schema_privilege(%(role)s, %(schema)s, 'USAGE')",
            {"role": role, "schema": schema},
        )
        create, may_use = cursor.fetchone()
        if create:
            problems.append(f"{role} may CREATE in schema {schema}")
        if usage and not may_use:
            problems.append(f"{role} has no USAGE on schema {schema}")
        for table in tables:
            relation = f"{quote(schema)}.{quote(table)}"
            checks = ", ".join(
                f"has_table_privilege(%(role)s, %(relation)s, '{privilege}')"
                for privilege in ("SELECT", *WRITE_PRIVILEGES)
            )
            cursor.execute(f"select {checks}", {"role": role, "relation": relation})
            select, *writes = cursor.fetchone()
            if not select:
                problems.append(f"{role} may not SELECT {table}")
            held = [p for p, has in zip(WRITE_PRIVILEGES, writes, strict=True) if has]
            if held:
                problems.append(f"{role} holds {', '.join(held)} on {table}")
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise PublishRefused(gate, shown)


def _fingerprints(cursor: Any, schema: str, tables: Sequence[str]) -> tuple[dict, dict, str]:
    """Row counts, :func:`table_fingerprint_sql` per table, and the combined content hash."""
    import hashlib

    cursor.execute(
        "select table_name, string_agg(column_name || ' ' || data_type, ', ' "
        "order by ordinal_position) from information_schema.columns "
        "where table_schema = %s group by table_name",
        [schema],
    )
    signatures = dict(cursor.fetchall())
    counts: dict[str, int] = {}
    hashes: dict[str, str] = {}
    for table in tables:
        cursor.execute(f"select count(*) from {quote(schema)}.{quote(table)}")
        counts[table] = int(cursor.fetchone()[0])
        cursor.execute(table_fingerprint_sql(schema, table))
        hashes[table] = cursor.fetchone()[0]
    lines = "\n".join(f"{t}({signatures.get(t, '')}): {hashes[t]}" for t in sorted(tables))
    return counts, hashes, hashlib.sha256(lines.encode()).hexdigest()


# --- the swap ------------------------------------------------------------------------------


@contextmanager
def _connection(settings: Any) -> Iterator[Any]:
    import psycopg2

    try:
        connection = psycopg2.connect(connect_timeout=10, **settings.connection_kwargs())
    except psycopg2.Error as error:
        raise UserError(f"cannot connect to {settings}: {error}".strip()) from error
    try:
        yield connection
    finally:
        connection.close()


def _dependent_views(cursor: Any, schema: str) -> list[str]:
    """``schema.name`` of each view outside ``schema`` that reads a relation of ``schema``."""
    cursor.execute(
        "select distinct view_namespace.nspname || '.' || view_class.relname "
        "from pg_depend as dependency "
        "inner join pg_rewrite as rule on rule.oid = dependency.objid "
        "inner join pg_class as view_class on view_class.oid = rule.ev_class "
        "inner join pg_namespace as view_namespace on view_namespace.oid = view_class.relnamespace "
        "inner join pg_class as read_class on read_class.oid = dependency.refobjid "
        "where dependency.classid = 'pg_rewrite'::regclass "
        "and dependency.refclassid = 'pg_class'::regclass "
        "and read_class.relnamespace = to_regnamespace(%s) "
        "and view_class.relnamespace <> read_class.relnamespace "
        "order by 1",
        [quote(schema)],
    )
    return [name for (name,) in cursor.fetchall()]


@dataclass(frozen=True)
class _Gated:
    """What the gates approved: the build schema's tables with their comments."""

    build_schema: str
    relations: Mapping[str, tuple[str, str | None]]
    roles: tuple[str, ...]


def _built(cursor: Any, schema: str) -> dict[str, tuple[str, str | None]]:
    """:func:`_relations` of the build schema but its publication log (written by publish)."""
    return {name: kind for name, kind in _relations(cursor, schema).items() if name != LOG_TABLE}


@contextmanager
def _publication_lock(connection: Any) -> Iterator[None]:
    """A session advisory lock: one publication at a time into the database."""
    with connection.cursor() as cursor:
        cursor.execute("select pg_try_advisory_lock(%s)", [PUBLISH_LOCK_KEY])
        held = cursor.fetchone()[0]
    connection.commit()
    if not held:
        raise PublishRefused("publish lock", "another publication is running")
    try:
        yield
    finally:
        connection.rollback()
        with connection.cursor() as cursor:
            cursor.execute("select pg_advisory_unlock(%s)", [PUBLISH_LOCK_KEY])
        connection.commit()


def _write_log(connection: Any, gated: _Gated, log_row: dict) -> tuple[int, datetime]:
    """Write the publication log, with its new row, into the build schema; commit.

    Written before the swap, not in it, so that the swap writes no rows: a
    REPEATABLE READ reader whose snapshot predates the swap's commit but
    which resolves the marts' names after it sees rows committed before its
    snapshot, and would see a log created by the swap empty.
    """
    build, published = gated.build_schema, MARTS_SCHEMA
    log = f"{quote(build)}.{quote(LOG_TABLE)}"
    with connection.cursor() as cursor:
        cursor.execute(f"drop table if exists {log}")  # left by a publication that failed
        cursor.execute(f"create table {log} ({_LOG_COLUMNS})")
        if LOG_TABLE in _relations(cursor, published):
            cursor.execute(f"insert into {log} select * from {quote(published)}.{quote(LOG_TABLE)}")
        cursor.execute(f"select coalesce(max(publication_id), 0) + 1 from {log}")
        publication_id = int(cursor.fetchone()[0])
        published_at = datetime.now(UTC).replace(tzinfo=None)
        cursor.execute(
            f"insert into {log} (publication_id, published_at, as_of_date, git_commit, "
            "row_counts, content_hash, checks_passed, dbt_invocation_id) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                publication_id,
                published_at,
                log_row["as_of_date"],
                log_row["git_commit"],
                json.dumps(log_row["row_counts"], sort_keys=True),
                log_row["content_hash"],
                log_row["checks_passed"],
                log_row["dbt_invocation_id"],
            ],
        )
        for role in gated.roles:
            cursor.execute(f"grant select on {log} to {quote(role)}")
    connection.commit()
    return publication_id, published_at


def _drop_log(connection: Any, build: str) -> None:
    """Drop the log :func:`_write_log` wrote into the build schema (a refusal: unpublished)."""
    import psycopg2

    with contextlib.suppress(psycopg2.Error):  # the refusal, not this, is what to report
        connection.rollback()
        with connection.cursor() as cursor:
            cursor.execute(f"drop table if exists {quote(build)}.{quote(LOG_TABLE)}")
        connection.commit()


def _swap(connection: Any, gated: _Gated, deadline: float) -> int:
    """Rename the build schema to marts in one transaction; the transactions it took."""
    import psycopg2

    build, published = gated.build_schema, MARTS_SCHEMA
    attempts = 0
    while True:
        attempts += 1
        cursor = connection.cursor()
        try:
            if not _schema_exists(cursor, build):
                raise PublishRefused("build schema", f"schema {build} is gone")
            if _schema_exists(cursor, RETIRED_SCHEMA):
                raise PublishRefused(
                    "swap", f"schema {RETIRED_SCHEMA} exists; drop it (it is never left behind)"
                )
            locked = [f"{quote(build)}.{quote(name)}" for name in _relations(cursor, build)]
            locked += [f"{quote(published)}.{quote(n)}" for n in _relations(cursor, published)]
            locked += [
                ".".join(quote(part) for part in view.split(".", 1))
                for view in _dependent_views(cursor, published)
                if view.startswith(f"{STORED_FAILURES_SCHEMA}.")
            ]
            cursor.execute(f"set local statement_timeout = '{int(LOCK_WAIT_SECONDS * 1000)}ms'")
            try:
                cursor.execute(f"lock table {', '.join(locked)} in access exclusive mode")
            except psycopg2.errors.QueryCanceled:
                connection.rollback()
                if time.monotonic() > deadline:
                    raise PublishRefused(
                        "swap",
                        f"readers held the marts for longer than the lock deadline "
                        f"({attempts} attempts)",
                    ) from None
                time.sleep(random.uniform(0.05, 0.25))
                continue
            cursor.execute("set local statement_timeout = 0")

            # Under the locks: what is published is what the gates approved.
            if _built(cursor, build) != dict(gated.relations):
                raise PublishRefused(
                    "dbt build", f"schema {build} changed after the gates ran (a dbt build?)"
                )
            _check_grants(cursor, build, [*gated.relations, LOG_TABLE], gated.roles)
            retiring = _schema_exists(cursor, published)
            if retiring:
                cursor.execute(f"alter schema {quote(published)} rename to {quote(RETIRED_SCHEMA)}")
            cursor.execute(f"alter schema {quote(build)} rename to {quote(published)}")
            for role in gated.roles:
                cursor.execute(f"grant usage on schema {quote(published)} to {quote(role)}")
            # Before commit: the readers can read every published relation, and only read it.
            _check_grants(cursor, published, [*gated.relations, LOG_TABLE], gated.roles, usage=True)
            if retiring:
                readers = [
                    view
                    for view in _dependent_views(cursor, RETIRED_SCHEMA)
                    if not view.startswith(f"{STORED_FAILURES_SCHEMA}.")
                ]
                if readers:
                    raise PublishRefused(
                        "swap",
                        f"views read the published marts by their tables, not their names, and "
                        f"would be dropped with them: {', '.join(readers)}; drop them (query "
                        f"{published}.<mart> by name instead)",
                    )
                cursor.execute(f"drop schema {quote(RETIRED_SCHEMA)} cascade")
            connection.commit()
            return attempts
        except PublishRefused:
            connection.rollback()
            raise
        except psycopg2.Error as error:
            connection.rollback()
            raise PublishRefused("swap", f"{type(error).__name__}: {error}".strip()) from error
        finally:
            cursor.close()


def publish_postgres(
    settings: Any = None,
    run_results: Sequence[Path] | None = None,
    *,
    checks: PostgresChecks | None = None,
    checks_label: str = "validate staging,marts",
    lock_deadline_seconds: float = LOCK_DEADLINE_SECONDS,
) -> Publication:
    """Publish the build schema of the PostgreSQL database as ``marts`` if every gate passes.

    ``settings`` default to the ``CLV_PG_*`` variables (as the dbt profile);
    ``run_results`` to ``[target/run_results.json]`` (pass one per dbt
    selection of the build; the manifest beside the last says where the
    marts were built); ``checks`` to :func:`default_checks`, recorded as
    ``checks_label``. Raises :class:`PublishRefused` when a gate or the swap
    fails, leaving ``marts`` and its log as they were.
    """
    require("postgres", "psycopg2", what="clv publish --target postgres")
    from clv.quality.warehouses import PostgresSettings

    began = time.perf_counter()
    settings = settings or PostgresSettings.from_env()
    files = [Path(p).resolve() for p in (run_results or [DEFAULT_RUN_RESULTS])]
    manifest_path = files[-1].parent / "manifest.json"
    try:
        manifest = load_manifest(manifest_path)
    except UserError as error:
        raise PublishRefused("build schema", str(error)) from error
    build_schema = manifest.built_in(MARTS_SCHEMA)
    if build_schema == MARTS_SCHEMA:
        raise PublishRefused(
            "build schema",
            f"{manifest_path} has the marts built into {MARTS_SCHEMA} itself, not a build "
            "schema: rebuild with this project (macro generate_schema_name)",
        )
    roles = _reader_roles(manifest)
    checks = checks or default_checks

    with _connection(settings) as connection:
        with connection.cursor() as cursor:
            relations = _built(cursor, build_schema)
            if not relations:
                raise PublishRefused(
                    "build schema",
                    f"schema {build_schema} is missing or empty in {settings}: run `dbt build` "
                    "(it was published, or never built)",
                )
            as_of_date = _as_of_date(cursor)
        connection.rollback()
        build = _read_run_results(files)
        tables = list(relations)
        with connection.cursor() as cursor:
            _check_built_by(relations, build, build_schema)
            _check_personal_data(cursor, build_schema, tables)
            _check_grants(cursor, build_schema, tables, roles)
            row_counts, table_hashes, content_hash = _fingerprints(cursor, build_schema, tables)
        connection.rollback()
        invocations = len(build.invocations)
        passed = (
            f"build schema {build_schema}; dbt build ({invocations} invocation"
            f"{'' if invocations == 1 else 's'}, {build.nodes} nodes); personal data; "
            f"grants ({', '.join(roles)}); {checks_label}"
        )
        log_row = {
            "as_of_date": as_of_date,
            "git_commit": git_commit(),
            "row_counts": row_counts,
            "content_hash": content_hash,
            "checks_passed": passed,
            "dbt_invocation_id": " ".join(build.invocations),
        }
        gated = _Gated(build_schema, relations, roles)
        with _publication_lock(connection):
            # The log row first (see _write_log), then the checks: seconds between the two.
            publication_id, published_at = _write_log(connection, gated, log_row)
            try:
                report = checks(settings, manifest_path, build_schema)
                if not report.success:
                    raise PublishRefused("mart checks", _one_line(_failures_of(report)))
                attempts = _swap(connection, gated, time.monotonic() + lock_deadline_seconds)
            except BaseException:
                _drop_log(connection, build_schema)
                raise
    return Publication(
        published=f"{settings}, schema {MARTS_SCHEMA}",
        publication_id=publication_id,
        published_at=published_at,
        as_of_date=as_of_date,
        git_commit=log_row["git_commit"],
        row_counts=row_counts,
        content_hash=content_hash,
        table_hashes=table_hashes,
        checks_passed=passed,
        dbt_invocation_id=log_row["dbt_invocation_id"],
        elapsed_seconds=time.perf_counter() - began,
        lock_attempts=attempts,
    )


def _failures_of(report: CheckReport) -> list[str]:
    """Each failure of a failed check report, after the name of its suite when it has one."""
    suites = getattr(report, "suites", None) or []
    lines = [
        f"{suite.name}: {failure}"
        for suite in suites
        if not suite.success
        for failure in suite.failures
    ]
    return lines or report.summary_lines()


def _reader_roles(manifest: DbtManifest) -> tuple[str, ...]:
    """The roles every mart of the manifest grants SELECT to."""
    marts = manifest.in_schema(MARTS_SCHEMA)
    if not marts:
        return ()
    common = set(marts[0].select_grantees)
    for model in marts[1:]:
        common &= set(model.select_grantees)
    return tuple(sorted(common))


def _as_of_date(cursor: Any) -> date | None:
    import psycopg2

    try:
        cursor.execute("select max(as_of_date) from intermediate.reporting_period")
    except psycopg2.Error as error:
        raise PublishRefused(
            "build schema", f"cannot read intermediate.reporting_period: {error}".strip()
        ) from error
    row = cursor.fetchone()
    return row[0] if row else None


def read_publication_log(settings: Any = None) -> list[dict]:
    """Every row of ``marts.publication_log``, oldest first."""
    require("postgres", "psycopg2", what="clv publish --target postgres")
    from clv.quality.warehouses import PostgresSettings

    with _connection(settings or PostgresSettings.from_env()) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                f"select * from {quote(MARTS_SCHEMA)}.{quote(LOG_TABLE)} order by publication_id"
            )
            names = [column.name for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        connection.rollback()
    return rows
