"""Write-audit-publish: hand the marts to readers only after the build proved them good.

DuckDB allows one writer per file, and a reader holding a file open blocks
that writer. So ``dbt build`` writes the *working* database
(``data/clv.duckdb``), which BI tools never open, and :func:`publish` copies
its marts into a separate *published* file (``data/published/clv.duckdb``,
``--published`` / ``$CLV_PUBLISHED_PATH``), which is all BI tools ever open.

Guarantees
----------
* **Nothing unproven is published.** :func:`publish` first runs its gates, in
  this order, and refuses at the first that fails:

  1. ``working database`` - the file exists, has no pending write-ahead log
     (a build running or killed), opens read-only, holds at least one table in
     schema ``marts`` and ``intermediate.reporting_period``.
  2. ``personal data`` - no column of a mart is named like a personal
     attribute (:data:`PERSONAL_COLUMN_PATTERN`) and no text value of a mart
     looks like an email address (:data:`EMAIL_PATTERN`).
  3. ``dbt build`` - the last invocation's ``run_results.json`` (default
     ``target/run_results.json``) is a ``dbt build`` that ran tests, every node in it ended
     ``success``, ``pass`` or ``warn``, every mart table was built by it, and
     the working file was last modified *during* that invocation (between its
     start and its end, with :data:`MTIME_SLACK_SECONDS` slack). The last point
     ties the results to the file: results of a build into another file, or a
     later build that was killed after it had started writing (it leaves the
     old ``run_results.json`` behind), are refused.
  4. ``mart checks`` - the ``checks`` callable (default
     :func:`default_checks`: ``clv.quality.validate(layers=("raw", "staging", "marts"))``
     on the models of the ``manifest.json`` beside ``run_results.json``)
     reports success. When ``clv.quality`` cannot be imported the gate fails;
     it is never skipped silently.

* **Readers see a whole publication or the previous one, never a mix, and
  never block a build or a publication.** The marts are copied (``ATTACH`` of
  the working file ``READ_ONLY``, ``CREATE TABLE ... AS SELECT``) into a new
  temporary file ``.<name>.tmp-<pid>`` beside the published file, together with
  the publication log and the snapshots (below); the copy is checkpointed, closed and fsynced, and
  ``os.replace`` renames it over the published file (atomic on POSIX), then the
  directory is fsynced. A reader that opened the old file keeps reading the
  old inode until it closes it; the next open gets the new file. The published
  file is never written in place, so a read-only reader's lock never meets a
  writer's.

* **A failure changes nothing.** Any failure (a gate, a copy error, a kill)
  leaves the published file byte-identical; the temporary file is removed
  (or, after a kill, by the next publication). Publications are serialised by
  an exclusive ``flock`` on ``.<name>.lock`` beside the published file.

* **Every publication is recorded.** ``main.publication_log`` in the published
  file holds one row per publication ever made (earlier rows are carried over
  from the file being replaced): ``publication_id`` (1, 2, ...),
  ``published_at`` (UTC, ``TIMESTAMP`` without time zone), ``as_of_date``,
  ``git_commit`` (``-dirty`` when the work tree differs from it, ``unknown``
  without git), ``row_counts`` (JSON text ``{table: rows}``), ``content_hash``
  (:mod:`clv.content_hash` of schema ``marts``), ``checks_passed`` (the gates
  passed) and ``dbt_invocation_id``. The log lives in schema ``main``, not
  ``marts``, so schema ``marts`` of the published file is an exact copy of the
  working one (same tables, column types and content hash).

* **What was reported stays readable.** Schema ``snapshots`` of the working
  file (dbt snapshots, such as ``customer_equity_monthly_snapshot``: every
  version of every month the mart has published, with ``valid_from`` /
  ``valid_to``) is copied whole beside the marts, so BI can query a month
  "as reported at time X" as well as "as restated now". The ``dbt build``
  gate also requires every snapshot table to have been run by that build.
  ``row_counts`` and ``content_hash`` of the log describe schema ``marts``
  only: a snapshot holds build timestamps, which differ between builds of
  the same data.

Errors: every refusal raises :class:`PublishRefused` (a
:class:`~clv.errors.UserError`: one line on the command line, exit code 2)
naming the gate and the reason.

Limits: POSIX only (``flock``, rename over an open file). The copy holds a
read lock on the working file for the few seconds it takes, so a ``dbt
build`` started in those seconds fails to open it; run publish after the
build, as ``make`` does. Constraints (``not null``) of the working marts are
not copied; names and column types are.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

import duckdb

from clv import paths
from clv.content_hash import schema_hash
from clv.errors import UserError

#: Schema copied from the working database, under the same name.
MARTS_SCHEMA = "marts"
#: dbt snapshots (the history of what the marts reported), copied whole when present.
SNAPSHOTS_SCHEMA = "snapshots"
#: Where the publication log lives in the published file.
LOG_TABLE = "main.publication_log"
#: Default published file (git-ignored, like data/).
DEFAULT_PUBLISHED_PATH = paths.PROJECT_DIR / "data" / "published" / "clv.duckdb"
#: Default run results of the last dbt invocation.
DEFAULT_RUN_RESULTS = paths.DEFAULT_TARGET_DIR / "run_results.json"
#: The gates :func:`publish` runs, in order (each refusal names one, or "arguments" / "copy").
GATES = ("working database", "personal data", "dbt build", "mart checks")
#: run_results statuses that let a publication through.
OK_STATUSES = frozenset({"success", "pass", "warn"})
#: dbt 1.11's `dbt build` lists each exposure (models/marts/_marts__exposures.yml)
#: as a node with status ``no-op``: there is nothing to run for it.
NOTHING_TO_RUN = ("exposure.",)
#: Tolerance between the working file's mtime and the build's start and end
#: (DuckDB checkpoints when dbt closes the file, just after run_results.json).
MTIME_SLACK_SECONDS = 10.0
#: An email address anywhere in a text value (as in tests/test_personal_data.py).
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+"
#: Column names that say "personal data": email, name, first/last name, phone, optionally
#: after a personal prefix (``customer_email``, ``subscriber_phone``). Columns *about* email
#: as a channel (``email_orders``, ``customers_from_email``) or hashes (``email_hash``) pass.
PERSONAL_COLUMN_PATTERN = re.compile(
    r"^(?:(?:customer|subscriber|contact|user|person|member|billing|shipping|primary|personal)_)?"
    r"(?:e_?mail(?:_address)?|(?:first|last|full|given|family|middle)_?name|surname|name"
    r"|(?:tele)?phone(?:_number)?|mobile(?:_phone|_number)?)$",
    re.IGNORECASE,
)

_LOG_COLUMNS = (
    "publication_id bigint not null, published_at timestamp not null, as_of_date date, "
    "git_commit varchar not null, row_counts varchar not null, content_hash varchar not null, "
    "checks_passed varchar not null, dbt_invocation_id varchar"
)


class CheckReport(Protocol):
    """What a mart check returns (``clv.quality.validate`` returns one)."""

    success: bool

    def summary_lines(self) -> list[str]: ...


#: A mart check: called with the working database and the raw-data folder.
Checks = Callable[[Path, Path], CheckReport]


class PublishRefused(UserError):
    """A gate failed or the copy could not be made; the published file is unchanged."""

    def __init__(self, gate: str, reason: str, unchanged: str = "published file") -> None:
        self.gate = gate
        self.reason = reason
        super().__init__(
            f"publish refused, gate '{gate}' failed: {reason} ({unchanged} left unchanged)"
        )


@dataclass(frozen=True)
class Publication:
    """One publication made by :func:`publish` (its row of the publication log).

    :func:`clv.publish_postgres.publish_postgres` returns one too: there
    ``published`` names the database and schema, ``lock_attempts`` counts the
    transactions it took to lock the marts away from their readers.
    """

    published: Path | str
    publication_id: int
    published_at: datetime
    as_of_date: date | None
    git_commit: str
    row_counts: dict[str, int]
    content_hash: str
    table_hashes: dict[str, str]
    checks_passed: str
    dbt_invocation_id: str | None
    elapsed_seconds: float = field(default=0.0, compare=False)
    lock_attempts: int = field(default=1, compare=False)


def published_path() -> Path:
    """The published file: ``$CLV_PUBLISHED_PATH`` or ``data/published/clv.duckdb``."""
    return Path(os.environ.get("CLV_PUBLISHED_PATH", DEFAULT_PUBLISHED_PATH)).resolve()


def default_checks(database: Path, raw_dir: Path, manifest: Path | None = None) -> CheckReport:
    """The great-expectations suites of ``clv.quality`` on every layer: raw, staging, marts.

    The staging models and marts checked are those of ``manifest`` (the
    ``manifest.json`` beside the build's ``run_results.json``; default
    ``target/manifest.json``), with their declared columns and types.

    The raw files are checked again, not only before the build: a file with
    absurd values (an amount of 1e300, a date in 2200) can build cleanly, and
    must still never reach a reader. Their row counts are held to the history
    ``clv validate`` keeps (``clv.quality.DEFAULT_HISTORY_PATH``), which publish
    reads but does not extend.

    Fails the gate, rather than skipping it, when ``clv.quality`` cannot be
    imported or raises.
    """
    try:
        from clv.quality import DEFAULT_HISTORY_PATH, validate
    except ImportError as error:
        raise PublishRefused(
            "mart checks", f"clv.quality cannot be imported ({error}), so the marts are unchecked"
        ) from error
    try:
        return validate(
            layers=("raw", "staging", "marts"),
            raw_dir=raw_dir,
            database=database,
            history_path=DEFAULT_HISTORY_PATH,
            record_history=False,
            manifest=manifest,
        )
    except Exception as error:  # any crash of the checks is a failed gate
        raise PublishRefused("mart checks", f"clv.quality.validate raised {error!r}") from error


def git_commit(project_dir: Path = paths.PROJECT_DIR) -> str:
    """``git rev-parse HEAD`` of the project, ``-dirty`` if the tree has changes, or ``unknown``."""
    try:
        head = subprocess.run(
            ["git", "-C", str(project_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(project_dir), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown"
    return f"{head}-dirty" if status.strip() else head


# --- gates ---------------------------------------------------------------------------------


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _wal(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


@dataclass(frozen=True)
class _Working:
    tables: list[str]
    as_of_date: date | None
    snapshots: list[str] = field(default_factory=list)


def _inspect_working(working: Path) -> _Working:
    """Gate ``working database``: present, no pending WAL, readable, with marts."""
    gate = "working database"
    if not working.is_file():
        raise PublishRefused(gate, f"no working database at {working}: run `dbt build` first")
    if _wal(working).exists():
        raise PublishRefused(
            gate,
            f"{_wal(working).name} exists: a dbt build is writing {working.name} or was "
            "interrupted; rerun `dbt build`",
        )
    try:
        connection = duckdb.connect(str(working), read_only=True)
    except duckdb.Error as error:
        raise PublishRefused(gate, f"cannot open {working} read-only: {error}") from error
    try:
        tables = _mart_tables(connection)
        if not tables:
            raise PublishRefused(gate, f"{working} has no table in schema {MARTS_SCHEMA}")
        try:
            row = connection.execute(
                "select max(as_of_date) from intermediate.reporting_period"
            ).fetchone()
        except duckdb.Error as error:
            raise PublishRefused(
                gate, f"cannot read intermediate.reporting_period: {error}"
            ) from error
        _check_personal_data(connection, tables)
        snapshots = _mart_tables(connection, schema=SNAPSHOTS_SCHEMA)
    finally:
        connection.close()
    return _Working(tables, row[0] if row else None, snapshots)


def _mart_tables(
    connection: duckdb.DuckDBPyConnection, catalog: str | None = None, schema: str = MARTS_SCHEMA
) -> list[str]:
    catalog_filter = "current_database()" if catalog is None else _sql_string(catalog)
    rows = connection.execute(
        "select table_name from information_schema.tables "
        f"where table_catalog = {catalog_filter} and table_schema = ? "
        "and table_type in ('BASE TABLE', 'VIEW') order by table_name",
        [schema],
    ).fetchall()
    return [name for (name,) in rows]


def _parse_timestamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_green_build(
    run_results: Path, gate: str, refused: type[PublishRefused] | None = None
) -> dict:
    """The ``run_results.json`` of a ``dbt build`` in which every node passed, else refuse.

    Refuses (``refused``, default :class:`PublishRefused`, at ``gate``) a
    missing or unreadable file, another dbt command, an empty run and any
    node that did not end ``success``, ``pass`` or ``warn`` (a no-op only for
    what has nothing to run). Both publications (DuckDB's and PostgreSQL's,
    which passes its own subclass) read their builds with it.
    """
    error = refused or PublishRefused
    if not run_results.is_file():
        raise error(gate, f"no {run_results}: run `dbt build` first")
    try:
        document = json.loads(run_results.read_text())
        document["metadata"]["invocation_id"]  # noqa: B018 - present, or unreadable
        results = document["results"]
        which = document.get("args", {}).get("which")
    except (OSError, ValueError, KeyError, TypeError) as unreadable:
        raise error(gate, f"cannot read {run_results}: {unreadable}") from unreadable
    if which != "build":
        raise error(gate, f"{run_results} was `dbt {which}`, not `dbt build` (tests must run)")
    if not results:
        raise error(gate, f"{run_results} lists no nodes")
    bad = [
        f"{r['unique_id']} ({r['status']})"
        for r in results
        if r["status"] not in OK_STATUSES
        and not (r["status"] == "no-op" and r["unique_id"].startswith(NOTHING_TO_RUN))
    ]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise error(
            gate, f"{run_results}: {len(bad)} of {len(results)} nodes did not pass: {shown}"
        )
    return document


def _check_run_results(
    run_results: Path, working: Path, tables: list[str], snapshots: Sequence[str] = ()
) -> dict:
    """Gate ``dbt build``: a complete, green ``dbt build`` that wrote ``working``.

    Every mart in ``tables`` and every snapshot in ``snapshots`` must have been
    built by it.
    """
    gate = "dbt build"
    document = read_green_build(run_results, gate)
    metadata, results = document["metadata"], document["results"]
    if not any(r["unique_id"].split(".", 1)[0] in ("test", "unit_test") for r in results):
        raise PublishRefused(gate, "the last `dbt build` ran no tests")
    built = _succeeded(results, "model")
    not_built = [table for table in tables if table not in built]
    if not_built:
        raise PublishRefused(
            gate, f"marts not built by the last `dbt build`: {', '.join(not_built)}"
        )
    snapshotted = _succeeded(results, "snapshot")
    not_snapshotted = [table for table in snapshots if table not in snapshotted]
    if not_snapshotted:
        raise PublishRefused(
            gate, f"snapshots not run by the last `dbt build`: {', '.join(not_snapshotted)}"
        )
    _check_written_by(metadata, run_results, working)
    return document


def _succeeded(results: list[dict], resource_type: str) -> set[str]:
    """Names of the nodes of ``resource_type`` (model, snapshot) that ran successfully."""
    return {
        r["unique_id"].rsplit(".", 1)[-1]
        for r in results
        if r["unique_id"].startswith(f"{resource_type}.") and r["status"] == "success"
    }


def _check_written_by(metadata: dict, run_results: Path, working: Path) -> None:
    """The working file was last written during the invocation of ``run_results``."""
    gate = "dbt build"
    try:
        ended = _parse_timestamp(metadata["generated_at"])
        started = _parse_timestamp(
            metadata.get("invocation_started_at") or metadata["generated_at"]
        )
    except (KeyError, ValueError) as error:
        raise PublishRefused(gate, f"no timestamps in {run_results}: {error}") from error
    modified = working.stat().st_mtime
    if modified > ended + MTIME_SLACK_SECONDS:
        raise PublishRefused(
            gate,
            f"{working.name} was modified after the last `dbt build` ended "
            f"({_utc(modified)} > {metadata['generated_at']}): a later build did not finish",
        )
    if modified < started - MTIME_SLACK_SECONDS:
        raise PublishRefused(
            gate,
            f"{working.name} was last written before the build in {run_results} began "
            f"({_utc(modified)} < {metadata.get('invocation_started_at')}): "
            "those results are not about this database",
        )


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _check_personal_data(connection: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """Gate ``personal data``: no personal column name, no email-like text value."""
    gate = "personal data"
    columns = connection.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? "
        "order by table_name, ordinal_position",
        [MARTS_SCHEMA],
    ).fetchall()
    named = [
        f"{table}.{column}"
        for table, column, _ in columns
        if table in tables and PERSONAL_COLUMN_PATTERN.match(column)
    ]
    if named:
        raise PublishRefused(gate, f"columns named like personal data: {', '.join(named)}")
    hits = []
    for table, column, data_type in columns:
        if table not in tables or data_type != "VARCHAR":
            continue
        (count,) = connection.execute(
            f"select count(*) from {_quote(MARTS_SCHEMA)}.{_quote(table)} "
            f"where regexp_matches({_quote(column)}, ?)",
            [EMAIL_PATTERN],
        ).fetchone()
        if count:
            hits.append(f"{table}.{column} ({count} rows)")
    if hits:
        raise PublishRefused(gate, f"email-like values in {', '.join(hits)}")


# --- write and swap ------------------------------------------------------------------------


@contextmanager
def _publish_lock(published: Path) -> Iterator[None]:
    """Hold an exclusive lock so two publications never interleave."""
    lock_path = published.with_name(f".{published.name}.lock")
    with open(lock_path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise PublishRefused(
                "publish lock", f"another publication into {published} is running"
            ) from error
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _temporary_files(published: Path) -> list[Path]:
    return sorted(published.parent.glob(f".{published.name}.tmp-*"))


def _remove(path: Path) -> None:
    for leftover in (path, _wal(path)):
        leftover.unlink(missing_ok=True)


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_copy(
    temporary: Path,
    working: Path,
    published: Path,
    tables: list[str],
    log_row: dict,
    run_results_meta: tuple[dict, Path],
    snapshots: Sequence[str] = (),
) -> Publication:
    """Copy the marts and the log into ``temporary`` (a new file) and return the publication."""
    connection = duckdb.connect(str(temporary))
    try:
        try:
            connection.execute(f"attach {_sql_string(working)} as working (read_only)")
        except duckdb.Error as error:
            raise PublishRefused(
                "working database", f"cannot attach {working} read-only: {error}"
            ) from error
        # Under our read lock nobody writes the working file: check again that
        # it is the file the gates approved (no build started since).
        if _wal(working).exists():
            raise PublishRefused("working database", "a dbt build started during publication")
        _check_written_by(*run_results_meta, working)
        if _mart_tables(connection, "working") != tables or list(snapshots) != _mart_tables(
            connection, "working", schema=SNAPSHOTS_SCHEMA
        ):
            raise PublishRefused(
                "working database", "the marts or snapshots changed during publication"
            )
        row_counts = _copy_schema(connection, MARTS_SCHEMA, tables)
        if snapshots:
            _copy_schema(connection, SNAPSHOTS_SCHEMA, snapshots)
        connection.execute("detach working")
        hashes = schema_hash(connection, MARTS_SCHEMA)

        connection.execute(f"create table {LOG_TABLE} ({_LOG_COLUMNS})")
        if published.exists():
            try:
                connection.execute(f"attach {_sql_string(published)} as previous (read_only)")
                connection.execute(
                    f"insert into {LOG_TABLE} by name select * from previous.{LOG_TABLE}"
                )
                connection.execute("detach previous")
            except duckdb.Error as error:
                raise PublishRefused(
                    "publication log",
                    f"cannot carry over the log of {published}: {error}; move it away to "
                    "start a new log",
                ) from error
        (last_id,) = connection.execute(
            f"select coalesce(max(publication_id), 0) from {LOG_TABLE}"
        ).fetchone()
        publication = Publication(
            published=published,
            publication_id=int(last_id) + 1,
            published_at=datetime.now(UTC).replace(tzinfo=None),
            row_counts=row_counts,
            content_hash=hashes.combined,
            table_hashes=hashes.tables,
            **log_row,
        )
        connection.execute(
            f"insert into {LOG_TABLE} (publication_id, published_at, as_of_date, git_commit, "
            "row_counts, content_hash, checks_passed, dbt_invocation_id) "
            "values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                publication.publication_id,
                publication.published_at,
                publication.as_of_date,
                publication.git_commit,
                json.dumps(row_counts, sort_keys=True),
                publication.content_hash,
                publication.checks_passed,
                publication.dbt_invocation_id,
            ],
        )
        connection.execute("checkpoint")
    finally:
        connection.close()
    if _wal(temporary).exists():
        raise PublishRefused("copy", f"{temporary.name} kept a write-ahead log after closing")
    return publication


def _copy_schema(
    connection: duckdb.DuckDBPyConnection, schema: str, tables: list[str]
) -> dict[str, int]:
    """Copy ``tables`` of ``schema`` from the attached ``working`` file; their row counts."""
    connection.execute(f"create schema {_quote(schema)}")
    row_counts: dict[str, int] = {}
    for table in tables:
        target = f"{_quote(schema)}.{_quote(table)}"
        connection.execute(f"create table {target} as select * from working.{target}")
        (copied,) = connection.execute(f"select count(*) from {target}").fetchone()
        (source,) = connection.execute(f"select count(*) from working.{target}").fetchone()
        if copied != source:
            raise PublishRefused("copy", f"{table}: copied {copied} of {source} rows")
        row_counts[table] = int(copied)
    return row_counts


def publish(
    working: Path | None = None,
    published: Path | None = None,
    run_results: Path | None = None,
    raw_dir: Path | None = None,
    *,
    checks: Checks | None = None,
    checks_label: str = "validate raw,staging,marts",
) -> Publication:
    """Publish the marts of ``working`` into ``published`` if every gate passes.

    Defaults: ``$CLV_DUCKDB_PATH`` or ``data/clv.duckdb``; :func:`published_path`;
    ``target/run_results.json``; ``$CLV_RAW_DIR`` or ``data/raw``; and
    :func:`default_checks`, recorded as ``checks_label``. Returns the
    :class:`Publication`; raises :class:`PublishRefused` when a gate fails or
    the copy fails, leaving ``published`` untouched.
    """
    began = time.perf_counter()
    working = (paths.duckdb_path() if working is None else Path(working)).resolve()
    published = (published_path() if published is None else Path(published)).resolve()
    run_results = (DEFAULT_RUN_RESULTS if run_results is None else Path(run_results)).resolve()
    raw_dir = (paths.raw_dir() if raw_dir is None else Path(raw_dir)).resolve()
    if checks is None:
        # The models to check are those of the build run_results.json describes.
        checks = functools.partial(default_checks, manifest=run_results.parent / "manifest.json")
    if published == working:
        raise PublishRefused("arguments", "the published file must differ from the working one")

    state = _inspect_working(working)  # gates "working database" and "personal data"
    document = _check_run_results(run_results, working, state.tables, state.snapshots)
    report = checks(working, raw_dir)
    if not report.success:
        failing = getattr(report, "failure_lines", None)  # clv.quality's report names each
        lines = failing() if callable(failing) else []
        raise PublishRefused("mart checks", _one_line(lines or report.summary_lines()))
    passed = f"working database; personal data; dbt build ({len(document['results'])} nodes)"
    passed += f"; {checks_label}"

    published.parent.mkdir(parents=True, exist_ok=True)
    with _publish_lock(published):
        for leftover in _temporary_files(published):  # left by a killed publication
            _remove(leftover)
        temporary = published.with_name(f".{published.name}.tmp-{os.getpid()}")
        _remove(temporary)
        try:
            publication = _write_copy(
                temporary,
                working,
                published,
                state.tables,
                {
                    "as_of_date": state.as_of_date,
                    "git_commit": git_commit(),
                    "checks_passed": passed,
                    "dbt_invocation_id": document["metadata"].get("invocation_id"),
                },
                (document["metadata"], run_results),
                state.snapshots,
            )
            _fsync(temporary)
            os.replace(temporary, published)
            _fsync(published.parent, directory=True)
        except PublishRefused:
            _remove(temporary)
            raise
        except (duckdb.Error, OSError) as error:
            _remove(temporary)
            raise PublishRefused("copy", f"{type(error).__name__}: {error}") from error
        except BaseException:
            _remove(temporary)
            raise
    return _with_elapsed(publication, time.perf_counter() - began)


def _one_line(lines: list[str], limit: int = 600) -> str:
    """The failing part of a check summary as one line (passed suites left out)."""
    kept = [" ".join(line.split()) for line in lines]
    kept = [line for line in kept if line and not line.lower().startswith("passed")]
    text = "; ".join(kept) or "the checks did not pass"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _with_elapsed(publication: Publication, seconds: float) -> Publication:
    return replace(publication, elapsed_seconds=seconds)


def read_publication_log(published: Path) -> list[dict]:
    """Every row of the publication log of ``published``, oldest first."""
    connection = duckdb.connect(str(published), read_only=True)
    try:
        cursor = connection.execute(f"select * from {LOG_TABLE} order by publication_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()
