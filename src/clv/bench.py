"""The warehouse benchmark behind ``make bench`` (``scripts/bench_scale.py``).

Per scale (S, M, L: 10,000, 100,000 and 1,000,000 simulated customers) it
times, each as its own subprocess (wall time, and peak RSS from ``wait4`` on
that process): a full ``dbt build`` into a fresh DuckDB file, ``clv
validate``, ``clv publish``, ``dbt test`` on the built file, ``dbt run``
(models only) into a fresh seeded file, the *floor* (the same models'
compiled SQL executed in one bare DuckDB connection, no dbt), the daily
run (``dbt build`` on the built file after one more day of data arrived) and
the same build and its ``clv publish`` once more while ``READERS`` BI reader
processes read the published file (:mod:`clv.readers`): none of their reads
may fail or mix two publications, and the build's time beside the daily
run's shows whether the readers held it up.

The data
--------
The simulator places a fixed number of customers, and every event, on the
seasonal clock of its whole window, so a simulation one day longer is a
different data set, not the same one plus a day (nearly every row differs).
A scheduled next-day run sees the old rows plus one day's load, so the
benchmark simulates once, one day *past* the end (``day1``), and cuts the
day before out of it (``day0``: the rows whose ``_loaded_at`` is at or before
the nightly load of the end date, :func:`cut_raw`). ``day0`` is the data of
the full build; ``day1`` is exactly ``day0`` plus the rows of the next
nightly load. Both are cached with a stamp of their parameters
(:func:`prepare_data`).

The floor
---------
:func:`floor_statements` turns the models-only run's ``manifest.json`` and
``run_results.json`` into ``create or replace table|view <relation> as
<compiled SQL>`` statements, one per SQL model, in dbt's order (made
topological by :func:`replay_order`); an incremental model is a table (the
first run's full refresh). :func:`run_floor` executes them in one
connection to a copy of the seeded file. dbt-duckdb's Python models cannot
be replayed as SQL: their tables are copied from dbt's file, untimed, and
dbt's own execution time for them is added to the floor. The floor leaves
out what dbt adds around the SQL: parsing and compiling, the temporary
relation and rename, contracts and constraints, and hooks (the rejection
gate's post-hook of ``rejection_summary``).

The rest is arithmetic on the figures: :func:`summarize_run_results`,
:func:`growth_factors`, :func:`fast_growing` and :func:`merge_results`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path

from clv.paths import PROJECT_DIR

#: Customers per scale (issue #17).
SCALES = {"S": 10_000, "M": 100_000, "L": 1_000_000}
#: The simulation every scale uses: two years ending START + 2 years - 1 day.
START = date(2024, 12, 1)
END = date(2026, 11, 30)
SEED = 42
BAD_ROWS = 0.005
#: Scales PostgreSQL and Spark run at unless told otherwise.
ENGINE_SCALES = ("M",)
ENGINES = ("duckdb", "postgres", "spark")
#: How many of the slowest models and tests are listed.
TOP = 10
#: A model whose time grows more than this from one scale to the next (10× the customers)
#: is flagged, when it takes at least FLAG_MIN_SECONDS at the larger scale.
FLAG_FACTOR = 15.0
FLAG_MIN_SECONDS = 0.5
#: The wrapper that measures each step's peak RSS, and how often the process tree is sampled.
TIME = Path("/usr/bin/time")
SAMPLE_SECONDS = 0.5
#: Bump when :func:`cut_raw` changes: cached data sets with another version are rebuilt.
CUT_VERSION = 1
#: BI reader processes on the published file during a build and its publication, and the
#: pause between one reader's reads (a dashboard refreshing, not a busy loop on 2 CPUs).
READERS = 4
READER_PAUSE_SECONDS = 0.1
#: Relation materializations the floor can replay, and what each becomes.
FLOOR_MATERIALIZATIONS = {"table": "table", "incremental": "table", "view": "view"}
#: The floor's name for dbt's file, attached read-only to copy the Python models' tables.
COPY_CATALOG = "dbt_built"


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSpec:
    """One scale's simulation: ``day1`` runs to ``end + 1 day``, ``day0`` is cut at ``end``."""

    customers: int
    start: date = START
    end: date = END
    seed: int = SEED
    bad_rows: float = BAD_ROWS

    @property
    def loaded_through(self) -> datetime:
        """The nightly load of the end date (02:00 the next day): ``day0`` holds what it loaded."""
        from clv.contract.files import LOAD_HOUR

        return datetime.combine(self.end + timedelta(days=1), datetime.min.time()).replace(
            hour=LOAD_HOUR
        )

    def stamp(self) -> dict:
        """What the cached data sets were made from; a cache with another stamp is remade."""
        return {
            "customers": self.customers,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "simulated_end": (self.end + timedelta(days=1)).isoformat(),
            "loaded_through": self.loaded_through.isoformat(),
            "seed": self.seed,
            "bad_rows": self.bad_rows,
            "cut_version": CUT_VERSION,
            "simulator": simulator_fingerprint(),
        }


def simulator_fingerprint() -> str:
    """A hash of what decides the simulated rows: the simulator, the contract and its rates."""
    from clv.contract.declaration import raw_contract

    digest = hashlib.sha256()
    src = PROJECT_DIR / "src" / "clv"
    files = sorted([*(src / "simulate").rglob("*.py"), *(src / "contract").rglob("*.py")])
    for path in [*files, PROJECT_DIR / "seeds" / "currency_rates.csv"]:
        digest.update(path.relative_to(PROJECT_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(json.dumps(raw_contract(), sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def raw_row_counts(raw_dir: Path) -> dict[str, int]:
    """``{"<source>.<table>": rows}`` of the Parquet files under ``raw_dir``."""
    import pyarrow.parquet as pq

    return {
        f"{path.parent.name}.{path.stem}": pq.read_metadata(path).num_rows
        for path in sorted(Path(raw_dir).glob("*/*.parquet"))
    }


def cut_raw(source: Path, dest: Path, loaded_through: datetime) -> dict[str, int]:
    """Copy the raw files of ``source`` to ``dest``, keeping rows loaded by ``loaded_through``.

    A row is kept when its ``_loaded_at`` is at or before ``loaded_through``
    (or null: a row without a load time is in every delivery). Schema, row
    order and file layout are kept. Returns the kept rows per table.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from clv.contract.files import write_table

    kept: dict[str, int] = {}
    files = sorted(Path(source).glob("*/*.parquet"))
    if not files:
        raise FileNotFoundError(f"no Parquet files under {source}/<source>/<table>.parquet")
    for path in files:
        table = pq.read_table(path)
        loaded = table["_loaded_at"]
        bound = pa.scalar(loaded_through, loaded.type)
        mask = pc.or_kleene(pc.is_null(loaded), pc.less_equal(loaded, bound))
        cut = table.filter(mask)
        write_table(cut, Path(dest) / path.relative_to(source))
        kept[f"{path.parent.name}.{path.stem}"] = cut.num_rows
    return kept


@dataclass(frozen=True)
class BenchData:
    """The two cached data sets of one scale and their row counts."""

    day0: Path
    day1: Path
    stamp: dict
    day0_rows: dict[str, int]
    day1_rows: dict[str, int]
    #: The step that made them (generate and cut), or None when they came from the cache.
    made_by: dict | None = None

    def as_dict(self) -> dict:
        appended = {
            name: self.day1_rows[name] - self.day0_rows.get(name, 0) for name in self.day1_rows
        }
        return {
            "simulation": self.stamp,
            "day0_rows": self.day0_rows,
            "day1_rows": self.day1_rows,
            "appended_rows": appended,
            "day0_total_rows": sum(self.day0_rows.values()),
            "appended_total_rows": sum(appended.values()),
            "generated_now": self.made_by is not None,
            "generate": self.made_by,
        }


def make_data(spec: DataSpec, folder: Path) -> None:
    """Simulate ``spec`` one day past its end into ``folder/day1``, cut ``folder/day0``, stamp."""
    from clv.simulate import generate

    folder = Path(folder)
    day0, day1, stamp_path = folder / "day0", folder / "day1", folder / "stamp.json"
    stamp_path.unlink(missing_ok=True)
    for old in (day0, day1):
        shutil.rmtree(old, ignore_errors=True)
    generate(
        customers=spec.customers,
        start=spec.start,
        end=spec.end + timedelta(days=1),
        seed=spec.seed,
        out=day1,
        bad_rows=spec.bad_rows,
    )
    cut_raw(day1, day0, spec.loaded_through)
    stamp = spec.stamp()
    (day0 / "_cut.json").write_text(
        json.dumps({"cut_from": str(day1), "loaded_through": stamp["loaded_through"]}) + "\n"
    )
    stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")


def prepare_data(spec: DataSpec, folder: Path, log=print) -> BenchData:
    """The scale's ``day1`` and ``day0`` data sets in ``folder``, made unless cached.

    ``folder/stamp.json`` is written last, so an interrupted generation is
    redone; a stamp that differs from ``spec.stamp()`` (other parameters, or
    a changed simulator) remakes both sets. They are made by a subprocess
    (``python -m clv.bench data``), timed like a step, so that the memory
    of a million simulated customers is not held by this process while dbt runs.
    """
    folder = Path(folder)
    day0, day1, stamp_path = folder / "day0", folder / "day1", folder / "stamp.json"
    wanted = spec.stamp()
    made_by = None
    if stamp_path.is_file() and json.loads(stamp_path.read_text()) == wanted:
        log(f"data: reusing {folder} ({spec.customers:,} customers)")
    else:
        log(f"data: generating {spec.customers:,} customers into {folder}")
        folder.mkdir(parents=True, exist_ok=True)
        arguments = _flags(
            customers=spec.customers,
            start=spec.start,
            end=spec.end,
            seed=spec.seed,
            bad_rows=spec.bad_rows,
            folder=folder,
        )
        step = run_step(
            "generate",
            [sys.executable, "-m", "clv.bench", "data", *arguments],
            env=step_env(),
            cwd=folder,
            log_path=folder / "generate.log",
        )
        if not step.ok or json.loads(stamp_path.read_text()) != wanted:
            raise RuntimeError(f"generating {folder} failed:\n{log_tail(step.log)}")
        made_by = step.as_dict()
        log(f"data: generated and cut in {step.seconds:.1f} s, {step.peak_rss_mib:,.0f} MiB")
    return BenchData(day0, day1, wanted, raw_row_counts(day0), raw_row_counts(day1), made_by)


# --- steps ----------------------------------------------------------------------------------


@dataclass
class Step:
    """One timed subprocess: wall seconds, its peak RSS, exit code and the load around it."""

    name: str
    command: list[str]
    seconds: float = 0.0
    peak_rss_mib: float = 0.0
    peak_tree_rss_mib: float = 0.0
    returncode: int | None = None
    load_average_start: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_average_end: tuple[float, float, float] = (0.0, 0.0, 0.0)
    log: str = ""
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.skipped is None and self.returncode == 0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 2)
        data["peak_rss_mib"] = round(self.peak_rss_mib, 1)
        data["peak_tree_rss_mib"] = round(self.peak_tree_rss_mib, 1)
        data["load_average_start"] = [round(x, 2) for x in self.load_average_start]
        data["load_average_end"] = [round(x, 2) for x in self.load_average_end]
        data["command"] = " ".join(_shorten(part) for part in self.command)
        data["log"] = _shorten(self.log)
        data["ok"] = self.ok
        return data


def _shorten(part: str) -> str:
    """A path inside the project relative to it, so the recorded commands stay readable."""
    root = str(PROJECT_DIR)
    return "." + part[len(root) :] if part.startswith(root) else part


def run_step(
    name: str,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
) -> Step:
    """Run ``command``, its output into ``log_path``; time it and measure its memory.

    ``peak_rss_mib`` is the command's own peak RSS (its largest process), as
    ``/usr/bin/time -f %M`` reports it. Not ``getrusage`` or ``wait4`` on the
    command itself: Linux starts a child's peak at its parent's size at the
    fork, and this process can hold gigabytes (the simulator runs in it), so
    the small ``time`` process is the one forked. Without ``/usr/bin/time``
    it falls back to ``wait4`` of the command (an upper bound).
    ``peak_tree_rss_mib`` is the largest sum of the RSS of the command and
    all its descendants, sampled every :data:`SAMPLE_SECONDS`: it counts
    the processes a command does not wait for, such as Spark's JVM.
    """
    step = Step(name, list(command), log=str(log_path))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    rss_file = log_path.with_suffix(".rss")
    rss_file.unlink(missing_ok=True)
    wrapped = list(command)
    if TIME.is_file():
        wrapped = [str(TIME), "-f", "%M", "-o", str(rss_file), *wrapped]
    step.load_average_start = os.getloadavg()
    with open(log_path, "wb") as log:
        began = time.perf_counter()
        process = subprocess.Popen(
            wrapped, env=dict(env), cwd=cwd, stdout=log, stderr=subprocess.STDOUT
        )
        sampler = _TreeSampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        step.seconds = time.perf_counter() - began
        sampler.stop()
    process.returncode = step.returncode = os.waitstatus_to_exitcode(status)
    step.peak_rss_mib = _time_peak_kib(rss_file, usage.ru_maxrss) / 1024
    step.peak_tree_rss_mib = sampler.peak_kib / 1024
    step.load_average_end = os.getloadavg()
    return step


def _time_peak_kib(path: Path, fallback: int) -> int:
    """The ``%M`` (KiB) ``/usr/bin/time`` wrote last into ``path``, else ``fallback``."""
    try:
        lines = path.read_text().split()
    except OSError:
        return fallback
    numbers = [word for word in lines if word.isdigit()]
    return int(numbers[-1]) if numbers else fallback


class _TreeSampler(threading.Thread):
    """The largest summed RSS of a process and its descendants, read from /proc."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_kib = 0
        self._done = threading.Event()

    def run(self) -> None:
        while True:
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.root))
            if self._done.wait(SAMPLE_SECONDS):
                return

    def stop(self) -> None:
        self._done.set()
        self.join()


def tree_rss_kib(root: int) -> int:
    """The summed RSS of ``root`` and its descendants now (0 without /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    try:
        entries = [entry.name for entry in os.scandir("/proc") if entry.name.isdigit()]
    except OSError:
        return 0
    for pid in entries:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:  # the process ended meanwhile
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()  # from field 3, the state
        children.setdefault(int(fields[1]), []).append(int(pid))
        rss[int(pid)] = int(fields[21])  # field 24, in pages
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total * os.sysconf("SC_PAGE_SIZE") // 1024


def skipped(name: str, reason: str) -> Step:
    """A step not run because one it needs failed."""
    return Step(name, [], skipped=reason)


def log_tail(path: str | Path, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- run_results ----------------------------------------------------------------------------


def _kind(unique_id: str) -> str:
    return unique_id.split(".", 1)[0]


def _short(unique_id: str) -> str:
    """``model.clv_warehouse.x`` -> ``x``; a test keeps its whole generated name."""
    parts = unique_id.split(".")
    if parts[0] == "unit_test":
        return "unit_test " + ".".join(parts[2:])
    return parts[2] if parts[0] == "test" else parts[-1]


def summarize_run_results(document: Mapping, top: int = TOP) -> dict:
    """Sums and the slowest nodes of one ``run_results.json``.

    Models are ``model.*`` nodes; tests are data tests and unit tests. The
    sums are thread time: with dbt's 2 threads they exceed the wall time.
    ``tests_share`` is the tests' part of the nodes' summed time.
    """
    results = document.get("results", [])
    models = [r for r in results if _kind(r["unique_id"]) == "model"]
    tests = [r for r in results if _kind(r["unique_id"]) in ("test", "unit_test")]
    model_sum = sum(r["execution_time"] for r in models)
    test_sum = sum(r["execution_time"] for r in tests)
    all_sum = sum(r["execution_time"] for r in results)

    def slowest(rows: list) -> list[list]:
        ranked = sorted(rows, key=lambda r: r["execution_time"], reverse=True)[:top]
        return [[_short(r["unique_id"]), round(r["execution_time"], 3)] for r in ranked]

    statuses: dict[str, int] = {}
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return {
        "dbt_elapsed_seconds": _round(document.get("elapsed_time")),
        "nodes": len(results),
        "statuses": statuses,
        "models": len(models),
        "tests": len(tests),
        "model_seconds_sum": round(model_sum, 2),
        "test_seconds_sum": round(test_sum, 2),
        "node_seconds_sum": round(all_sum, 2),
        "tests_share": round(test_sum / all_sum, 3) if all_sum else None,
        "slowest_models": slowest(models),
        "slowest_tests": slowest(tests),
        "model_seconds": {_short(r["unique_id"]): round(r["execution_time"], 3) for r in models},
    }


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


# --- the floor ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FloorStatement:
    """One model of the floor: its SQL, or (a Python model) the table to copy from dbt's file."""

    unique_id: str
    name: str
    relation: str
    schema: str
    language: str
    materialized: str
    sql: str | None = None
    #: Python models: dbt's execution time (added to the floor) and the relation to copy.
    dbt_seconds: float = 0.0
    copy_from: str | None = None


def replay_order(run_order: Sequence[str], parents: Mapping[str, Sequence[str]]) -> list[str]:
    """``run_order`` made topological: a node after every parent in the run, else in run order.

    dbt's results come in completion order, which is already topological (a
    node starts only after its parents finished); this makes it so whatever
    the order given. Parents outside ``run_order`` (sources, seeds, ephemeral
    models inlined into their children) are ignored. Raises ``ValueError`` on a cycle.
    """
    position = {node: index for index, node in enumerate(run_order)}
    waiting = {node: {p for p in parents.get(node, ()) if p in position} for node in run_order}
    children: dict[str, list[str]] = {node: [] for node in run_order}
    for node, ps in waiting.items():
        for parent in ps:
            children[parent].append(node)
    ready = sorted((node for node, ps in waiting.items() if not ps), key=position.__getitem__)
    order: list[str] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for child in children[node]:
            waiting[child].discard(node)
            if not waiting[child]:
                ready.append(child)
        ready.sort(key=position.__getitem__)
    if len(order) != len(run_order):
        stuck = sorted(set(run_order) - set(order))
        raise ValueError(f"dependency cycle among {', '.join(stuck[:5])}")
    return order


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def floor_statements(manifest: Mapping, run_results: Mapping) -> list[FloorStatement]:
    """The floor of a models-only run: every model it ran, in a topological order.

    A SQL model becomes ``create or replace table|view <relation> as <compiled
    code>`` (the compiled code of its run, with ephemeral models already
    inlined; an incremental model as the table of a full refresh). A Python
    model becomes a copy of its table from catalog :data:`COPY_CATALOG` (dbt's
    file, attached), carrying dbt's execution time.
    """
    nodes = manifest["nodes"]
    ran = {
        r["unique_id"]: r
        for r in run_results["results"]
        if _kind(r["unique_id"]) == "model" and r["status"] == "success"
    }
    parents = {uid: nodes[uid]["depends_on"]["nodes"] for uid in ran}
    statements = []
    for uid in replay_order(list(ran), parents):
        node, result = nodes[uid], ran[uid]
        materialized = node["config"]["materialized"]
        relation = result.get("relation_name") or node.get("relation_name")
        if materialized == "ephemeral" or not relation:
            continue
        if materialized not in FLOOR_MATERIALIZATIONS:
            raise ValueError(f"{uid}: the floor cannot replay materialization {materialized!r}")
        language = node.get("language", "sql")
        common = {
            "unique_id": uid,
            "name": node["name"],
            "relation": relation,
            "schema": f"{_quote(node['database'])}.{_quote(node['schema'])}",
            "language": language,
            "materialized": materialized,
        }
        if language == "python":
            copy_from = f"{_quote(COPY_CATALOG)}.{_quote(node['schema'])}.{_quote(node['alias'])}"
            statements.append(
                FloorStatement(**common, dbt_seconds=result["execution_time"], copy_from=copy_from)
            )
            continue
        code = (result.get("compiled_code") or node.get("compiled_code") or "").strip()
        code = code.rstrip(";").rstrip()
        if not code:
            raise ValueError(f"{uid}: no compiled code in run_results.json or manifest.json")
        kind = FLOOR_MATERIALIZATIONS[materialized]
        statements.append(
            FloorStatement(**common, sql=f"create or replace {kind} {relation} as\n{code}\n")
        )
    return statements


def run_floor(
    database: Path, statements: Sequence[FloorStatement], dbt_database: Path | None = None
) -> dict:
    """Execute the floor in one connection to ``database``; the seconds, per model and in all.

    ``seconds`` is the SQL statements' time plus a final checkpoint (dbt's
    file is checkpointed when dbt closes it) plus dbt's time for the Python
    models, whose tables are copied from ``dbt_database`` untimed.
    """
    import duckdb

    connection = duckdb.connect(str(database))
    per_model: dict[str, float] = {}
    sql_seconds = python_seconds = 0.0
    try:
        if any(s.copy_from for s in statements):
            if dbt_database is None:
                raise ValueError("Python models need dbt's database to copy their tables from")
            literal = "'" + str(dbt_database).replace("'", "''") + "'"
            connection.execute(f"attach {literal} as {_quote(COPY_CATALOG)} (read_only)")
        began = time.perf_counter()
        for schema in dict.fromkeys(s.schema for s in statements):
            connection.execute(f"create schema if not exists {schema}")
        sql_seconds += time.perf_counter() - began
        for statement in statements:
            if statement.copy_from:
                connection.execute(
                    f"create or replace table {statement.relation} as "
                    f"select * from {statement.copy_from}"
                )
                per_model[statement.name] = round(statement.dbt_seconds, 3)
                python_seconds += statement.dbt_seconds
                continue
            began = time.perf_counter()
            connection.execute(statement.sql)
            seconds = time.perf_counter() - began
            per_model[statement.name] = round(seconds, 3)
            sql_seconds += seconds
        began = time.perf_counter()
        connection.execute("checkpoint")
        checkpoint_seconds = time.perf_counter() - began
    finally:
        connection.close()
    return {
        "seconds": round(sql_seconds + checkpoint_seconds + python_seconds, 2),
        "sql_seconds": round(sql_seconds, 2),
        "checkpoint_seconds": round(checkpoint_seconds, 2),
        "python_models_dbt_seconds": round(python_seconds, 2),
        "sql_models": sum(1 for s in statements if not s.copy_from),
        "python_models": [s.name for s in statements if s.copy_from],
        "model_seconds": per_model,
    }


def write_floor_plan(path: Path, statements: Sequence[FloorStatement]) -> None:
    path.write_text(json.dumps([asdict(s) for s in statements], indent=1) + "\n")


def read_floor_plan(path: Path) -> list[FloorStatement]:
    return [FloorStatement(**row) for row in json.loads(Path(path).read_text())]


# --- growth and results ---------------------------------------------------------------------


def ordered_scales(scales: Mapping[str, Mapping]) -> list[str]:
    """Scale names by their number of customers."""
    return sorted(scales, key=lambda name: (scales[name].get("customers", 0), name))


def growth_factors(
    values: Mapping[str, Mapping[str, float | None]], order: Sequence[str]
) -> dict[str, dict[str, float | None]]:
    """For each figure, the factor from each scale to the next: ``{"S->M": 8.7, "M->L": 11.2}``.

    ``values`` is ``{scale: {figure: value}}``; ``order`` the scales from
    small to large. A factor is None when a value is missing or the smaller is 0.
    """
    names = list(dict.fromkeys(name for scale in order for name in values.get(scale, {})))
    factors: dict[str, dict[str, float | None]] = {}
    for name in names:
        row: dict[str, float | None] = {}
        for small, large in zip(order, order[1:], strict=False):
            a, b = values.get(small, {}).get(name), values.get(large, {}).get(name)
            row[f"{small}->{large}"] = round(b / a, 2) if a and b is not None else None
        factors[name] = row
    return factors


def fast_growing(
    small: Mapping[str, float],
    large: Mapping[str, float],
    factor: float = FLAG_FACTOR,
    min_seconds: float = FLAG_MIN_SECONDS,
) -> list[tuple[str, float, float, float]]:
    """Models whose time grew more than ``factor``: ``(name, small s, large s, factor)``.

    Only models taking at least ``min_seconds`` at the larger scale count
    (below that a ratio is start-up noise). Largest factor first.
    """
    flagged = []
    for name, b in large.items():
        a = small.get(name)
        if a and b >= min_seconds and b / a > factor:
            flagged.append((name, a, b, round(b / a, 2)))
    return sorted(flagged, key=lambda row: row[3], reverse=True)


def growth_report(results: Mapping) -> dict:
    """The DuckDB growth between the scales in ``results``: figures and per model."""
    scales = {
        name: entry["duckdb"]
        for name, entry in results.get("scales", {}).items()
        if "duckdb" in entry
    }
    order = ordered_scales(scales)
    figures = growth_factors({name: scales[name].get("figures", {}) for name in order}, order)
    models = growth_factors(
        {name: scales[name].get("full_build", {}).get("model_seconds", {}) for name in order}, order
    )
    flagged = {}
    for small, large in zip(order, order[1:], strict=False):
        rows = fast_growing(
            scales[small].get("full_build", {}).get("model_seconds", {}),
            scales[large].get("full_build", {}).get("model_seconds", {}),
        )
        flagged[f"{small}->{large}"] = [
            {"model": n, small: a, large: b, "factor": f} for n, a, b, f in rows
        ]
    return {
        "scales": order,
        "customers": {name: scales[name].get("customers") for name in order},
        "figures": figures,
        "models": models,
        "flag": f"over {FLAG_FACTOR:g}x, at least {FLAG_MIN_SECONDS:g} s at the larger scale",
        "flagged": flagged,
    }


def merge_results(existing: Mapping | None, new: Mapping) -> dict:
    """``existing`` with the scales and engines of ``new`` replaced; growth recomputed.

    Only the ``(scale, engine)`` entries ``new`` holds are replaced, so
    running one scale (or one engine) at a time accumulates the others.
    """
    merged = json.loads(json.dumps(existing or {}))
    scales = merged.setdefault("scales", {})
    for scale, engines in new.get("scales", {}).items():
        for engine, entry in engines.items():
            scales.setdefault(scale, {})[engine] = entry
    for key, value in new.items():
        if key not in ("scales", "growth"):
            merged[key] = value
    merged["scales"] = {name: scales[name] for name in ordered_scales(_customers_of(scales))}
    merged["growth"] = growth_report(merged)
    return merged


def _customers_of(scales: Mapping[str, Mapping]) -> dict[str, dict]:
    """``{scale: {"customers": n}}`` from any engine's entry, for ordering."""
    return {
        name: {"customers": next((e.get("customers", 0) for e in engines.values()), 0)}
        for name, engines in scales.items()
    }


# --- machine --------------------------------------------------------------------------------


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory = None
    return {
        "cpus": cpus,
        "cpu_count": os.cpu_count(),
        "memory_gib": _round(memory, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            name: _version(name)
            for name in ("duckdb", "dbt-core", "dbt-duckdb", "dbt-postgres", "dbt-spark", "pyspark")
        },
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def now_utc() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


# --- the DuckDB benchmark of one scale ------------------------------------------------------


def step_env(**overrides: str | Path) -> dict[str, str]:
    """This environment, nothing sent anywhere, this checkout's package first, and overrides."""
    src = str(PROJECT_DIR / "src")
    path = os.environ.get("PYTHONPATH")
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": src if not path else f"{src}{os.pathsep}{path}",
    }
    env.update({name: str(value) for name, value in overrides.items()})
    return env


@dataclass
class Runner:
    """What every step of a scale shares: the interpreter, environment and folders."""

    work: Path
    python: str = sys.executable
    base_env: dict[str, str] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    echo: object = print

    def env(self, **overrides: str | Path) -> dict[str, str]:
        return step_env(**{**self.base_env, **overrides})

    @property
    def dbt(self) -> str:
        return str(Path(self.python).with_name("dbt"))

    def dbt_command(self, args: Sequence[str], target: Path) -> list[str]:
        return [
            self.dbt,
            *args,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ]

    def clv_command(self, *args: str) -> list[str]:
        return [self.python, "-m", "clv.cli", *args]

    def run(self, name: str, command: Sequence[str], needs: Sequence[str] = (), **env) -> Step:
        failed = [n for n in needs if n in self.steps and not self.steps[n].ok]
        if failed:
            step = skipped(name, f"needs {', '.join(failed)}, which failed")
        else:
            self.echo(f"  {name} ...")
            step = run_step(
                name,
                command,
                env=self.env(**env),
                cwd=self.work,
                log_path=self.work / "logs" / f"{name}.log",
            )
            status = "ok" if step.ok else f"FAILED (exit {step.returncode}), log {step.log}"
            self.echo(f"  {name}: {step.seconds:.1f} s, {step.peak_rss_mib:,.0f} MiB, {status}")
            if not step.ok:
                self.echo(log_tail(step.log))
        self.steps[name] = step
        return step


def bench_duckdb(
    customers: int, data: BenchData, work: Path, keep: bool = False, echo=print
) -> dict:
    """Every DuckDB figure of one scale (the steps of the module docstring), as a dict."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    runner = Runner(work, echo=echo)
    full, models, floor = work / "full", work / "models", work / "floor"
    for folder in (full, models, floor):
        folder.mkdir()
    # One file name everywhere: dbt-duckdb names the catalog after the file's stem, and
    # the compiled SQL the floor replays names relations "clv"."<schema>"."<model>".
    full_db, models_db, floor_db = full / "clv.duckdb", models / "clv.duckdb", floor / "clv.duckdb"
    day0 = {"CLV_RAW_DIR": data.day0, "CLV_TARGET": "duckdb"}

    runner.run(
        "full_build",
        runner.dbt_command(["build"], full / "target"),
        CLV_DUCKDB_PATH=full_db,
        **day0,
    )
    full_period = _reporting_period(full_db) if runner.steps["full_build"].ok else None
    validate = _flags(
        layer="all",
        raw_dir=data.day0,
        database=full_db,
        manifest=full / "target" / "manifest.json",
        docs_dir=work / "quality" / "docs",
    )
    runner.run("validate", runner.clv_command("validate", *validate), needs=["full_build"])
    publish = _flags(
        database=full_db,
        published=work / "published" / "clv.duckdb",
        run_results=full / "target" / "run_results.json",
        raw_dir=data.day0,
    )
    runner.run("publish", runner.clv_command("publish", *publish), needs=["full_build"])
    runner.run(
        "tests_only",
        runner.dbt_command(["test"], full / "target_tests"),
        needs=["full_build"],
        CLV_DUCKDB_PATH=full_db,
        **day0,
    )
    runner.run(
        "seed",
        runner.dbt_command(["seed"], models / "target_seed"),
        CLV_DUCKDB_PATH=models_db,
        **day0,
    )
    if runner.steps["seed"].ok:
        shutil.copyfile(models_db, floor_db)  # the floor starts from the same seeded file
    runner.run(
        "models_only",
        runner.dbt_command(["run"], models / "target"),
        needs=["seed"],
        CLV_DUCKDB_PATH=models_db,
        **day0,
    )
    floor_result: dict = {}
    if runner.steps["models_only"].ok:
        statements = floor_statements(
            read_json(models / "target" / "manifest.json"),
            read_json(models / "target" / "run_results.json"),
        )
        write_floor_plan(floor / "plan.json", statements)
    plan = _flags(
        database=floor_db,
        plan=floor / "plan.json",
        dbt_database=models_db,
        out=floor / "floor.json",
    )
    runner.run("floor", [runner.python, "-m", "clv.bench", "floor", *plan], needs=["models_only"])
    if runner.steps["floor"].ok:
        floor_result = read_json(floor / "floor.json")
    runner.run(
        "daily",
        runner.dbt_command(["build"], full / "target_daily"),
        needs=["full_build"],
        CLV_DUCKDB_PATH=full_db,
        CLV_RAW_DIR=data.day1,
    )
    readers = run_under_readers(runner, full, work / "published" / "clv.duckdb", data)

    steps = runner.steps
    summaries = {
        name: summarize_run_results(read_json(path))
        for name, path in {
            "full_build": full / "target" / "run_results.json",
            "models_only": models / "target" / "run_results.json",
            "tests_only": full / "target_tests" / "run_results.json",
            "daily": full / "target_daily" / "run_results.json",
        }.items()
        if steps[name].ok and path.is_file()
    }
    entry = scale_entry(customers, data, steps, summaries, floor_result)
    entry["full_build"]["reporting_period"] = full_period
    entry["readers_during_build"] = readers
    if readers and steps["build_under_readers"].ok and entry["figures"]["daily_seconds"]:
        entry["figures"]["build_under_readers_to_daily"] = round(
            steps["build_under_readers"].seconds / entry["figures"]["daily_seconds"], 3
        )
    if steps["daily"].ok:
        entry["daily"]["reporting_period"] = _reporting_period(full_db)
    if not keep:
        for database in work.rglob("*.duckdb"):
            database.unlink()
    return entry


def run_under_readers(runner: Runner, full: Path, published: Path, data: BenchData) -> dict:
    """The daily build once more, and its publication, while READERS processes read.

    Needs the published file of step ``publish`` and the built file of ``daily``
    (the rebuild then has the same data to work on). Returns the readers'
    summary (:meth:`clv.readers.Readers.stop`), or {} when a step it needs failed.
    """
    from clv.readers import start_readers

    if not (runner.steps["publish"].ok and runner.steps["daily"].ok):
        return {}
    database = full / "clv.duckdb"
    with start_readers(published, READERS, runner.work / "readers", READER_PAUSE_SECONDS) as (
        readers
    ):
        runner.run(
            "build_under_readers",
            runner.dbt_command(["build"], full / "target_under_readers"),
            CLV_DUCKDB_PATH=database,
            CLV_RAW_DIR=data.day1,
        )
        flags = _flags(
            database=database,
            published=published,
            run_results=full / "target_under_readers" / "run_results.json",
            raw_dir=data.day1,
        )
        runner.run(
            "publish_under_readers",
            runner.clv_command("publish", *flags),
            needs=["build_under_readers"],
        )
        summary = readers.stop()
    return {**summary, "pause_seconds": READER_PAUSE_SECONDS}


def _flags(**values: object) -> list[str]:
    """``--name value`` pairs, underscores in names as dashes."""
    return [
        part
        for name, value in values.items()
        for part in (f"--{name.replace('_', '-')}", str(value))
    ]


def _reporting_period(database: Path) -> dict | None:
    """The reporting period a build chose (``intermediate.reporting_period``), as text."""
    import duckdb

    try:
        connection = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        return None
    try:
        cursor = connection.execute("select * from intermediate.reporting_period")
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        return {k: str(v) for k, v in zip(names, row, strict=True)} if row else None
    except duckdb.Error:
        return None
    finally:
        connection.close()


def scale_entry(
    customers: int,
    data: BenchData,
    steps: Mapping[str, Step],
    summaries: Mapping[str, dict],
    floor: Mapping,
) -> dict:
    """The JSON entry of one scale on DuckDB, with its flat ``figures`` for the growth."""

    def seconds(name: str) -> float | None:
        return round(steps[name].seconds, 2) if name in steps and steps[name].ok else None

    full = summaries.get("full_build", {})
    daily = summaries.get("daily", {})
    full_s, daily_s, models_s = seconds("full_build"), seconds("daily"), seconds("models_only")
    floor_s = floor.get("seconds")
    elapsed = summaries.get("models_only", {}).get("dbt_elapsed_seconds")
    incremental = {
        name: {"full_build": full.get("model_seconds", {}).get(name), "daily": s}
        for name, s in daily.get("model_seconds", {}).items()
        if name.startswith("customer_equity_monthly")
    }
    figures = {
        "full_build_seconds": full_s,
        "full_build_peak_rss_mib": _round(steps["full_build"].peak_rss_mib, 1)
        if steps["full_build"].ok
        else None,
        "models_only_seconds": models_s,
        "tests_only_seconds": seconds("tests_only"),
        "daily_seconds": daily_s,
        "daily_to_full_build": round(daily_s / full_s, 3) if daily_s and full_s else None,
        "validate_seconds": seconds("validate"),
        "publish_seconds": seconds("publish"),
        "floor_seconds": floor_s,
        "models_only_to_floor": round(models_s / floor_s, 2) if models_s and floor_s else None,
        # dbt's own elapsed time of the run (from run_results.json): without its start-up
        # and parse, which the wall time above includes.
        "models_only_dbt_elapsed_seconds": elapsed,
        "models_only_elapsed_to_floor": round(elapsed / floor_s, 2)
        if elapsed and floor_s
        else None,
        "model_seconds_sum": full.get("model_seconds_sum"),
        "test_seconds_sum": full.get("test_seconds_sum"),
        "tests_share": full.get("tests_share"),
    }
    return {
        "customers": customers,
        "measured_at": now_utc(),
        "git_commit": _git_commit(),
        "machine": machine_info(),
        "data": data.as_dict(),
        "figures": figures,
        "steps": {name: step.as_dict() for name, step in steps.items()},
        "full_build": full,
        "models_only": summaries.get("models_only", {}),
        "tests_only": summaries.get("tests_only", {}),
        "daily": {
            **{k: v for k, v in daily.items() if k != "model_seconds"},
            "incremental_models": incremental,
            "what": (
                "dbt build on the full build's file after one more nightly load (day1 = day0 "
                "plus the rows loaded the next night); not a full refresh"
            ),
        },
        "floor": {
            **floor,
            "what": (
                "the models-only run's compiled SQL as create or replace table/view, in dbt's "
                "order, in one bare DuckDB connection to a copy of the seeded file, plus a "
                "checkpoint; Python models counted at dbt's execution time (tables copied "
                "untimed); no contracts, constraints, hooks or dbt parsing"
            ),
        },
    }


def _git_commit(results: str = "bench/results.json") -> str:
    """HEAD, ``-dirty`` when the tree differs from it outside ``results``; ``unknown`` without git.

    The results file itself is left out: it changes after every scale.
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(PROJECT_DIR), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()

    try:
        head = git("rev-parse", "HEAD")
        status = git("status", "--porcelain", "--", ".", f":(exclude){results}")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if status else head or "unknown"


# --- PostgreSQL and Spark -------------------------------------------------------------------


#: The README's two selections around ``clv predict`` (make build-postgres, make build-spark).
BEFORE_PREDICT = ["build", "--exclude", "source:predictions+"]
AFTER_PREDICT = ["build", "--select", "source:predictions+"]


def engine_sequence(engine: str) -> list[tuple[str, str, list[str]]]:
    """The timed steps of a build on ``engine``: ``(step, kind, args)``, kind ``dbt`` or ``clv``.

    As ``make build-postgres`` / ``make build-spark``: (Spark: load the raw
    files as external tables,) dbt build of all but the predictions, ``clv
    predict``, dbt build of the predictions' source and what reads it
    (PostgreSQL: then ``clv publish``, given both builds' run_results.json by
    :func:`bench_engine`).
    """
    steps = [
        ("build_before_predict", "dbt", BEFORE_PREDICT),
        ("predict", "clv", ["predict", "--target", engine]),
        ("build_after_predict", "dbt", AFTER_PREDICT),
    ]
    if engine == "spark":
        return [("load_raw", "dbt", ["run-operation", "load_raw_spark"]), *steps]
    if engine == "postgres":
        return [*steps, ("publish", "clv", ["publish", "--target", "postgres"])]
    raise ValueError(f"no build sequence for engine {engine!r}")


def bench_engine(
    engine: str,
    customers: int,
    data: BenchData,
    work: Path,
    env: Mapping[str, str],
    before: Sequence[tuple[str, list[str]]] = (),
    echo=print,
) -> dict:
    """Time ``before`` (e.g. loading PostgreSQL) and the engine's build sequence on ``day0``.

    ``env`` holds the engine's connection variables (``CLV_TARGET``,
    ``CLV_PG_*``, ``CLV_SPARK_DIR``, ``JAVA_HOME``). ``build_seconds`` is the
    sum of the build sequence's steps, the figure beside DuckDB's full build.
    """
    work.mkdir(parents=True, exist_ok=True)
    runner = Runner(work, base_env={**env, "CLV_RAW_DIR": str(data.day0)}, echo=echo)
    for name, command in before:
        runner.run(name, command)
    previous = [name for name, _ in before]
    summaries = {}
    for name, kind, args in engine_sequence(engine):
        target = work / f"target_{name}"
        if name == "publish":
            builds = ("build_before_predict", "build_after_predict")
            for build_step in builds:
                args = [
                    *args,
                    "--run-results",
                    str(work / f"target_{build_step}" / "run_results.json"),
                ]
        command = runner.dbt_command(args, target) if kind == "dbt" else runner.clv_command(*args)
        step = runner.run(name, command, needs=previous)
        previous = [*previous, name]
        results = target / "run_results.json"
        if kind == "dbt" and step.ok and results.is_file() and args[0] == "build":
            summaries[name] = summarize_run_results(read_json(results))
    sequence = [name for name, _, _ in engine_sequence(engine)]
    steps = runner.steps
    ok = all(steps[name].ok for name in sequence)
    build = round(sum(steps[name].seconds for name in sequence), 2) if ok else None
    model_sum = sum(s["model_seconds_sum"] for s in summaries.values())
    test_sum = sum(s["test_seconds_sum"] for s in summaries.values())
    return {
        "customers": customers,
        "measured_at": now_utc(),
        "git_commit": _git_commit(),
        "machine": machine_info(),
        "figures": {
            "build_seconds": build,
            "peak_rss_mib": round(max(s.peak_rss_mib for s in steps.values()), 1),
            "peak_tree_rss_mib": round(max(s.peak_tree_rss_mib for s in steps.values()), 1),
            "model_seconds_sum": round(model_sum, 2),
            "test_seconds_sum": round(test_sum, 2),
            **{f"{name}_seconds": round(steps[name].seconds, 2) for name, _ in before},
        },
        "sequence": sequence,
        "steps": {name: step.as_dict() for name, step in steps.items()},
        "builds": summaries,
    }


def java_home() -> str | None:
    """$JAVA_HOME, else Debian's Java 17 (pyspark 4 runs on 17 and 21), as the Spark tests do."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return home
    for candidate in sorted(Path("/usr/lib/jvm").glob("java-17-openjdk-*")):
        if (candidate / "bin" / "java").is_file():
            return str(candidate)
    return None


# --- printing -------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}{unit}"


def format_scale(scale: str, entry: Mapping) -> list[str]:
    """The readable table of one scale on DuckDB."""
    f, steps = entry["figures"], entry["steps"]
    data = entry["data"]
    lines = [
        f"{scale}: {entry['customers']:,} customers on DuckDB ({data['day0_total_rows']:,} raw"
        f" rows; the daily run adds {data['appended_total_rows']:,}),"
        f" {entry['machine']['cpus']} CPUs",
        f"  {'step':<34}{'wall s':>9}{'peak RSS MiB':>14}{'tree MiB':>10}"
        "   load 1 min (start -> end)",
    ]
    if data.get("generate"):
        made = data["generate"]
        lines.append(
            f"  data generated and cut in {made['seconds']:.1f} s"
            f" ({made['peak_rss_mib']:,.0f} MiB); cached for the next run"
        )
    labels = {
        "full_build": "full dbt build",
        "validate": "clv validate (raw, staging, marts)",
        "publish": "clv publish",
        "tests_only": "tests only (dbt test)",
        "seed": "dbt seed (before models only)",
        "models_only": "models only (dbt run)",
        "floor": "floor (bare DuckDB, no dbt)",
        "daily": "daily run (+1 day, dbt build)",
        "build_under_readers": f"the same, {READERS} readers reading",
        "publish_under_readers": "its clv publish, readers reading",
    }
    for name, label in labels.items():
        step = steps.get(name)
        if step is None:
            continue
        if step["skipped"]:
            lines.append(f"  {label:<34}  skipped: {step['skipped']}")
            continue
        status = "" if step["ok"] else f"  FAILED (exit {step['returncode']})"
        load = f"{step['load_average_start'][0]:.2f} -> {step['load_average_end'][0]:.2f}"
        lines.append(
            f"  {label:<34}{step['seconds']:>9.1f}{step['peak_rss_mib']:>14,.0f}"
            f"{step['peak_tree_rss_mib']:>10,.0f}   {load}{status}"
        )
    floor = entry.get("floor", {})
    if f.get("floor_seconds"):
        lines.append(
            f"  floor {f['floor_seconds']:.1f} s = SQL {floor['sql_seconds']:.1f} s"
            f" + checkpoint {floor['checkpoint_seconds']:.1f} s + Python models at dbt's time"
            f" {floor['python_models_dbt_seconds']:.1f} s ({', '.join(floor['python_models'])})"
        )
        lines.append(
            f"  models only / floor = {_fmt(f['models_only_to_floor'], 'x', 2)} (wall),"
            f" {_fmt(f['models_only_elapsed_to_floor'], 'x', 2)} (dbt's elapsed time"
            f" {_fmt(f['models_only_dbt_elapsed_seconds'])} s, without start-up and parse)"
        )
    if f.get("daily_seconds"):
        lines.append(
            f"  daily run / full build = {_fmt(f['daily_to_full_build'], 'x', 2)};"
            " incremental models (full build -> daily, s): "
            + ", ".join(
                f"{name} {_fmt(t['full_build'], '', 2)} -> {_fmt(t['daily'], '', 2)}"
                for name, t in entry["daily"].get("incremental_models", {}).items()
            )
        )
    readers = entry.get("readers_during_build")
    if readers:
        ratio = _fmt(f.get("build_under_readers_to_daily"), "x", 2)
        lines.append(
            f"  readers: {readers['readers']} processes made {readers['reads']:,} reads of the"
            f" published file during the build and its publication: {readers['failed']} failed,"
            f" {len(readers['mixed'])} mixed, publications seen {readers['seen']};"
            f" build with readers / daily run = {ratio}"
        )
    full = entry.get("full_build", {})
    if full:
        wall = f.get("full_build_seconds")
        lines.append(
            f"  full build run_results: {full['models']} models {full['model_seconds_sum']:.1f} s,"
            f" {full['tests']} tests {full['test_seconds_sum']:.1f} s of thread time"
            f" (2 threads: the sums exceed the {_fmt(wall)} s wall);"
            f" tests {full['tests_share']:.0%} of the nodes' time"
        )
        for kind in ("models", "tests"):
            lines.append(f"  slowest {kind}:")
            lines += [f"    {s:>8.2f} s  {name}" for name, s in full[f"slowest_{kind}"]]
    return lines


def format_engines(scale: str, engines: Mapping[str, Mapping]) -> list[str]:
    """PostgreSQL and Spark beside DuckDB at one scale."""
    duck = engines.get("duckdb", {}).get("figures", {})
    base = duck.get("full_build_seconds")
    lines = [f"{scale}: the build on each engine (wall s; PostgreSQL and Spark around clv predict)"]
    for engine, entry in engines.items():
        if engine == "duckdb":
            lines.append(f"  {'duckdb':<9}{_fmt(base):>9}   dbt build")
            continue
        fig = entry["figures"]
        ratio = (
            f"{fig['build_seconds'] / base:.1f}x DuckDB" if fig["build_seconds"] and base else ""
        )
        parts = ", ".join(
            f"{name} {entry['steps'][name]['seconds']:.1f}" for name in entry["steps"]
        )
        lines.append(f"  {engine:<9}{_fmt(fig['build_seconds']):>9}   {ratio}  ({parts})")
    return lines


def format_growth(growth: Mapping) -> list[str]:
    order = growth["scales"]
    if len(order) < 2:
        return []
    pairs = [f"{a}->{b}" for a, b in zip(order, order[1:], strict=False)]
    lines = [
        "Growth (factor from one scale to the next; customers "
        + ", ".join(f"{s} {growth['customers'][s]:,}" for s in order)
        + ")",
        "  " + f"{'figure':<26}" + "".join(f"{p:>9}" for p in pairs),
    ]
    for name, row in growth["figures"].items():
        lines.append("  " + f"{name:<26}" + "".join(f"{_fmt(row[p], 'x', 2):>9}" for p in pairs))
    last = pairs[-1]
    models = sorted(
        ((name, row[last]) for name, row in growth["models"].items() if row.get(last) is not None),
        key=lambda item: item[1],
        reverse=True,
    )
    lines.append(f"  per model {last} (full build's execution time):")
    lines += [f"    {factor:>8.2f}x  {name}" for name, factor in models]
    for pair, rows in growth["flagged"].items():
        for row in rows:
            lines.append(
                f"  FLAG {pair}: {row['model']} grew {row['factor']:.1f}x ({growth['flag']})"
            )
    return lines


# --- python -m clv.bench floor --------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m clv.bench floor|data``: the floor, or one scale's data, as a subprocess."""
    parser = argparse.ArgumentParser(prog="python -m clv.bench")
    sub = parser.add_subparsers(dest="command", required=True)
    floor = sub.add_parser("floor", help="execute a floor plan in one DuckDB connection")
    floor.add_argument("--database", type=Path, required=True)
    floor.add_argument("--plan", type=Path, required=True)
    floor.add_argument("--dbt-database", type=Path, default=None)
    floor.add_argument("--out", type=Path, required=True)
    data = sub.add_parser("data", help="generate and cut one scale's data sets")
    data.add_argument("--customers", type=int, required=True)
    data.add_argument("--start", type=date.fromisoformat, default=START)
    data.add_argument("--end", type=date.fromisoformat, default=END)
    data.add_argument("--seed", type=int, default=SEED)
    data.add_argument("--bad-rows", type=float, default=BAD_ROWS)
    data.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "data":
        spec = DataSpec(args.customers, args.start, args.end, args.seed, args.bad_rows)
        make_data(spec, args.folder)
        print(f"data: {args.folder}: {raw_row_counts(args.folder / 'day0')}")
        return 0
    result = run_floor(args.database, read_floor_plan(args.plan), args.dbt_database)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"floor: {result['seconds']:.2f} s: {result['sql_models']} SQL models"
        f" {result['sql_seconds']:.2f} s, checkpoint {result['checkpoint_seconds']:.2f} s,"
        f" {len(result['python_models'])} Python models at dbt's time"
        f" {result['python_models_dbt_seconds']:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
