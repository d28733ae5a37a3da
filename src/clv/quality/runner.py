"""Run the suites with great-expectations and turn the results into a short report.

One ephemeral GX context per run (GX's start-up is the slow part, so it is
paid once). For each suite: an asset with a whole-table batch definition, an
expectation suite, a validation definition and a checkpoint.

- The raw files, and on DuckDB the staging and marts queries, are validated
  as DataFrames (a pandas data source per layer, the DataFrame passed as batch
  parameter): DuckDB has no SQL dialect GX can use, so each suite's query is
  read through a read-only connection after dbt has closed the file.
- On PostgreSQL, each staging and marts suite is a query asset of GX's
  PostgreSQL data source: the checks run in the database
  (:mod:`clv.quality.warehouses`).

The Data Docs site is written to ``docs_dir`` (``docs_dir/index.html``) and
shows the last run only: the pages of earlier runs are removed first.

Nothing raised inside GX reaches the user: a suite that cannot run is
reported as failed with a one-line reason, and problems the user can fix
(no warehouse file, a locked file, an unknown layer) are
:class:`clv.errors.UserError`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from clv.contract.tables import SPECS
from clv.errors import UserError
from clv.manifest import load_manifest
from clv.paths import DEFAULT_DOCS_DIR, DEFAULT_TARGET_DIR
from clv.quality.completeness import completeness_plan, failure_line
from clv.quality.history import RowCountHistory
from clv.quality.raw_files import RawFile, preflight, to_frame
from clv.quality.suites import QualitySettings, SuitePlan, raw_expectations, raw_frame
from clv.quality.warehouse_suites import mart_plans, staging_plans
from clv.quality.warehouses import (
    CHECKED_SCHEMAS,
    DuckDBWarehouse,
    PostgresSettings,
    PostgresWarehouse,
)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

LAYERS = ("raw", "staging", "marts")

#: Default Data Docs folder (data/ is git-ignored).


def history_beside(docs_dir: Path) -> Path:
    """Where the raw row-count history of a Data Docs folder lives: beside it."""
    return Path(docs_dir).parent / "raw_row_counts.json"


#: The raw row-count history beside the default Data Docs (:mod:`clv.quality.history`).
DEFAULT_HISTORY_PATH = history_beside(DEFAULT_DOCS_DIR)

#: The manifest of the last ``dbt build`` into the project's target/: the models to check.
DEFAULT_MANIFEST_PATH = DEFAULT_TARGET_DIR / "manifest.json"

#: What ``target`` may be: where the staging and marts suites run.
TARGETS = ("duckdb", "postgres")

#: Failures listed per suite in :meth:`ValidationReport.summary_lines`.
WORST_FAILURES_SHOWN = 3


@dataclass
class SuiteResult:
    """The outcome of one suite: how many expectations ran, failed, and why."""

    name: str
    layer: str
    success: bool
    evaluated: int
    failed: int
    #: Human lines, worst first: "expectation on column: observed ...".
    failures: list[str] = field(default_factory=list)


@dataclass
class ValidationReport:
    """Every suite's result of one :func:`validate` run and where the Data Docs are."""

    suites: list[SuiteResult]
    docs_path: Path | None = None
    layers: tuple[str, ...] = LAYERS

    @property
    def success(self) -> bool:
        """Whether every suite passed: the gate."""
        return all(suite.success for suite in self.suites)

    def suite(self, name: str) -> SuiteResult:
        """The result of the suite called ``name`` (KeyError if it did not run)."""
        for suite in self.suites:
            if suite.name == name:
                return suite
        raise KeyError(name)

    def failure_lines(self) -> list[str]:
        """Every failure of every failed suite, one line each (what ``clv publish`` reports)."""
        return [line for suite in self.suites if not suite.success for line in suite.failures]

    def summary_lines(self) -> list[str]:
        """What ``clv validate`` prints: a line per suite, its worst failures, the docs path."""
        lines: list[str] = []
        width = max((len(suite.name) for suite in self.suites), default=10)
        for suite in self.suites:
            passed = suite.evaluated - suite.failed
            status = "passed" if suite.success else "FAILED"
            lines.append(
                f"{status:<6}  {suite.name:<{width}}  {passed}/{suite.evaluated} expectations met"
            )
            for failure in suite.failures[:WORST_FAILURES_SHOWN]:
                lines.append(f"          - {failure}")
            hidden = len(suite.failures) - WORST_FAILURES_SHOWN
            if hidden > 0:
                lines.append(f"          ... and {hidden} more (see the Data Docs)")
        failed = [suite for suite in self.suites if not suite.success]
        total = sum(suite.evaluated for suite in self.suites)
        lines.append(
            f"{len(self.suites) - len(failed)} of {len(self.suites)} suites passed "
            f"({total} expectations, layers: {', '.join(self.layers)})"
        )
        if self.docs_path is not None:
            lines.append(f"Data Docs: {self.docs_path}")
        return lines


# ---------------------------------------------------------------- public entry point


def validate(
    layers: Sequence[str] = LAYERS,
    *,
    raw_dir: Path,
    database: Path | None,
    docs_dir: Path | None = None,
    target: str = "duckdb",
    settings: QualitySettings | None = None,
    history_path: Path | None = None,
    now: datetime | None = None,
    postgres: PostgresSettings | None = None,
    accept_volume_change: Sequence[str] = (),
    record_history: bool = True,
    manifest: Path | None = None,
    marts_schema: str | None = None,
) -> ValidationReport:
    """Validate ``layers`` and return the report; never raises for bad data.

    ``raw_dir`` holds the raw Parquet files, checked as files whatever the
    target. Staging and marts are read from ``database`` (the DuckDB file)
    when ``target`` is ``"duckdb"``, and validated in the database when it
    is ``"postgres"`` (connection from the ``CLV_PG_*`` variables, or
    ``postgres`` settings). ``docs_dir`` receives the Data Docs site;
    the raw row-count history lives beside it (``docs_dir.parent /
    raw_row_counts.json``) unless ``history_path`` says otherwise; with
    neither, no history is kept and the row-count check only asks for rows.
    ``now`` pins the clock for the raw timestamp bounds (tests).
    ``accept_volume_change`` names raw tables (``shop.orders``, or ``all``)
    whose change in row count is deliberate (a backfill, a deletion): their
    row-count check only asks for rows, and a passing raw run records their
    count as a new baseline (:mod:`clv.quality.history`). With
    ``record_history`` false the history is read but not written (``clv
    publish`` checks the delivery ``clv validate`` already recorded).
    ``manifest`` is the ``manifest.json`` of the dbt build that wrote the
    warehouse (default ``target/manifest.json``): the staging and marts
    layers check the models it lists, with their declared columns and types
    (:mod:`clv.quality.warehouse_suites`). ``marts_schema`` is where the
    marts are read from: by default the schema the manifest says dbt built
    them into (``marts``; ``marts_build`` on PostgreSQL, before ``clv publish
    --target postgres`` renames it to ``marts``, so pass ``"marts"`` there to
    check the published marts). Suites are named after schema ``marts``
    wherever the marts are read from.
    """
    settings = settings or QualitySettings()
    chosen = _layers(layers)
    if target not in TARGETS:
        raise UserError(f"unknown target {target!r}: expected duckdb or postgres")
    now = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if history_path is None and docs_dir is not None:
        history_path = history_beside(docs_dir)
    accepted = _accepted_tables(accept_volume_change)

    # Made before the raw checks run, so a missing --database or [postgres] extra stops at once.
    warehouse: DuckDBWarehouse | PostgresWarehouse | None = None
    if "staging" in chosen or "marts" in chosen:
        warehouse = (
            PostgresWarehouse(postgres) if target == "postgres" else DuckDBWarehouse(database)
        )

    plans: list[SuitePlan] = []
    raw_counts: dict[str, int] = {}
    history: RowCountHistory | None = None
    if "raw" in chosen:
        history = RowCountHistory(history_path, Path(raw_dir), settings.row_count_history_runs)
        raw_plans, raw_counts = _raw_plans(Path(raw_dir), settings, now, history, accepted)
        plans += raw_plans
    if warehouse is not None:
        with warehouse:
            models = load_manifest(DEFAULT_MANIFEST_PATH if manifest is None else Path(manifest))
            schemas = {
                **CHECKED_SCHEMAS,
                "staging": models.built_in("staging"),
                "marts": marts_schema or models.built_in("marts"),
            }
            present = warehouse.relations(schemas)
            columns = warehouse.columns(schemas)
            where = str(warehouse)
            if schemas["marts"] != "marts":
                where += f" (marts read from schema {schemas['marts']})"
            warehouse_plans: list[SuitePlan] = []
            if "staging" in chosen:
                warehouse_plans += staging_plans(models, present, columns, where, schemas)
            if "marts" in chosen:
                warehouse_plans += mart_plans(models, present, columns, settings, where, schemas)
            warehouse.prepare(warehouse_plans)
        plans += warehouse_plans

    sql = warehouse if isinstance(warehouse, PostgresWarehouse) else None
    results, docs_path = _run(plans, docs_dir, sql)
    if history is not None and raw_counts and record_history:
        raw_results = [result for result in results if result.layer == "raw"]
        if all(result.success for result in raw_results):
            history.record(raw_counts, reset=accepted)
    return ValidationReport(results, docs_path, chosen)


def _accepted_tables(tables: Sequence[str] | str) -> frozenset[str]:
    if isinstance(tables, str):
        tables = (tables,)
    names: set[str] = set()
    for table in tables:
        if table == "all":
            names.update(SPECS)
        elif table in SPECS:
            names.add(table)
        else:
            raise UserError(
                f"unknown raw table {table!r} for --accept-volume-change: expected "
                f"all or one of {', '.join(sorted(SPECS))}"
            )
    return frozenset(names)


def _layers(layers: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(layers, str):
        layers = (layers,)
    chosen: list[str] = []
    for layer in layers:
        names = LAYERS if layer == "all" else (layer,)
        for name in names:
            if name not in LAYERS:
                raise UserError(f"unknown layer {name!r}: expected raw, staging, marts or all")
            if name not in chosen:
                chosen.append(name)
    if not chosen:
        raise UserError("no layer to validate")
    return tuple(name for name in LAYERS if name in chosen)


# ---------------------------------------------------------------- building plans


def _raw_plans(
    raw_dir: Path,
    settings: QualitySettings,
    now: datetime,
    history: RowCountHistory,
    accepted: frozenset[str] = frozenset(),
) -> tuple[list[SuitePlan], dict[str, int]]:
    if not raw_dir.is_dir():
        raise UserError(f"no raw data folder at {raw_dir}: run `clv generate` or pass --raw-dir")
    files: dict[str, RawFile] = {name: preflight(raw_dir, spec) for name, spec in SPECS.items()}
    frames = {name: to_frame(raw) for name, raw in files.items() if raw.ok}
    plans: list[SuitePlan] = []
    counts: dict[str, int] = {}
    for name, raw in files.items():
        suite_name = f"raw.{name}"
        if not raw.ok:
            plans.append(
                SuitePlan(suite_name, "raw", None, problems=raw.problems, checks=raw.checks)
            )
            continue
        frame = frames[name]
        counts[name] = len(frame)
        raw_frame(raw.spec, frame, frames)
        runs = [] if name in accepted else history.runs(name)
        peak = None if name in accepted else history.peak(name)
        expectations = raw_expectations(raw.spec, frame, settings, now, runs, peak)
        plans.append(
            SuitePlan(
                suite_name, "raw", frame, expectations, checks=raw.checks, subject=raw.spec.path
            )
        )
    # Across files: a partial delivery (clv.quality.completeness).
    completeness = completeness_plan(frames, settings, now)
    if completeness is not None:
        plans.append(completeness)
    return plans, counts


# ---------------------------------------------------------------- running GX


def _context(docs_dir: Path | None) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        sites["clv_quality"] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites,
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _run(
    plans: list[SuitePlan], docs_dir: Path | None, sql: PostgresWarehouse | None = None
) -> tuple[list[SuiteResult], Path | None]:
    """Run every plan; ``sql`` is the database that runs the plans' queries (else DataFrames)."""
    runnable = [
        plan
        for plan in plans
        if not plan.problems
        and (plan.frame is not None or (sql is not None and plan.query is not None))
    ]
    results: dict[str, SuiteResult] = {}
    for plan in plans:
        if plan.problems:
            results[plan.name] = SuiteResult(
                plan.name,
                plan.layer,
                False,
                evaluated=max(plan.checks, len(plan.problems)),
                failed=len(plan.problems),
                failures=list(plan.problems),
            )
    docs_path: Path | None = None
    if runnable or docs_dir is not None:
        credentials = sql.credentials() if sql is not None else contextlib.nullcontext()
        with _quiet(), credentials:
            context = _context(Path(docs_dir) if docs_dir is not None else None)
            sources: dict[str, Any] = {}
            for plan in runnable:
                results[plan.name] = _run_plan(context, sources, plan, sql)
            if docs_dir is not None:
                docs_path = _build_docs(context, Path(docs_dir))
    return [results[plan.name] for plan in plans], docs_path


def _run_plan(
    context: Any, sources: dict[str, Any], plan: SuitePlan, sql: PostgresWarehouse | None
) -> SuiteResult:
    import great_expectations as gx

    try:
        if plan.frame is not None:
            if plan.layer not in sources:
                sources[plan.layer] = context.data_sources.add_pandas(plan.layer)
            asset = sources[plan.layer].add_dataframe_asset(name=plan.name)
            batch = asset.add_batch_definition_whole_dataframe("whole table")
            batch_parameters: dict[str, Any] | None = {"dataframe": plan.frame}
        else:
            assert sql is not None and plan.query is not None
            if "warehouse" not in sources:
                sources["warehouse"] = sql.add_source(context)
            asset = sources["warehouse"].add_query_asset(name=plan.name, query=plan.query)
            batch = asset.add_batch_definition_whole_table("whole table")
            batch_parameters = None
        # Built whole, then stored once: add_expectation on a stored suite re-saves it each time.
        suite = context.suites.add(
            gx.ExpectationSuite(name=plan.name, expectations=list(plan.expectations))
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=plan.name, data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=plan.name,
                validation_definitions=[definition],
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
            )
        )
        outcome = checkpoint.run(batch_parameters=batch_parameters)
    except Exception as error:  # noqa: BLE001 - any GX failure becomes a failed suite
        message = str(error).splitlines()[0] if str(error) else ""
        return SuiteResult(
            plan.name,
            plan.layer,
            False,
            evaluated=len(plan.expectations) + plan.checks,
            failed=1,
            failures=[
                f"{plan.name}: great-expectations could not run it: "
                f"{type(error).__name__}: {message}"
            ],
        )
    evaluated = plan.checks
    failed: list[tuple[float, str]] = []
    for validation in outcome.run_results.values():
        for result in validation.results:
            evaluated += 1
            if not result.success:
                failed.append(describe(result))
    failed.sort(key=lambda item: -item[0])
    return SuiteResult(
        plan.name,
        plan.layer,
        not failed,
        evaluated=evaluated,
        failed=len(failed),
        failures=[f"{plan.subject}: {line}" if plan.subject else line for _, line in failed],
    )


#: What GX's site builder writes into the Data Docs folder; removed before each build.
DOCS_SITE_PARTS = ("index.html", "validations", "expectations", "static")


def _build_docs(context: Any, docs_dir: Path) -> Path | None:
    """Write this run's Data Docs; earlier runs' pages are removed first.

    The context is ephemeral, so the index lists this run only and older
    result pages would be orphans that pile up. Only what the site builder
    writes is removed (:data:`DOCS_SITE_PARTS`): ``--docs-dir`` may point
    at a folder that holds other files.
    """
    docs_dir.mkdir(parents=True, exist_ok=True)
    for part in DOCS_SITE_PARTS:
        path = docs_dir / part
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    try:
        context.build_data_docs(site_names=["clv_quality"])
    except Exception as error:  # noqa: BLE001 - docs are a by-product; report, do not crash
        logging.getLogger(__name__).warning("Data Docs not built: %s", error)
        return None
    index = docs_dir / "index.html"
    return index if index.is_file() else None


class _quiet:
    """Silence GX's warnings and info logging for the duration of a run."""

    def __enter__(self) -> None:
        self._logger = logging.getLogger("great_expectations")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: object) -> None:
        self._warnings.__exit__(*exc)
        self._logger.setLevel(self._level)


# ---------------------------------------------------------------- describing failures


def _format(value: object, limit: int = 40) -> str:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.6g}"
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat(sep=" ")
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            return _format(value.item(), limit)
        except (TypeError, ValueError):
            pass
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _target(kwargs: dict[str, Any]) -> str:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_list"):
        return ", ".join(kwargs["column_list"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']} vs {kwargs['column_B']}"
    return "table"


def _expected(kwargs: dict[str, Any]) -> str:
    parts = []
    if "min_value" in kwargs or "max_value" in kwargs:
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        parts.append(
            f"expected {_format(low) if low is not None else '-inf'} .. "
            f"{_format(high) if high is not None else 'inf'}"
        )
    if "value_set" in kwargs:
        values = list(kwargs["value_set"])
        shown = ", ".join(_format(v, 20) for v in values[:6])
        parts.append(f"expected one of {shown}{', …' if len(values) > 6 else ''}")
    if kwargs.get("regex"):
        parts.append(f"expected to match {kwargs['regex']}")
    if "mostly" in kwargs and kwargs["mostly"] not in (None, 1, 1.0):
        parts.append(f"mostly {kwargs['mostly']:g}")
    return f" ({'; '.join(parts)})" if parts else ""


def _exception_message(result: Any) -> str | None:
    info = result.exception_info or {}
    candidates: Iterable[Any] = [info] if "raised_exception" in info else info.values()
    for candidate in candidates:
        if isinstance(candidate, dict) and candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "").splitlines()
            return message[0] if message else "an error"
    return None


def describe(result: Any) -> tuple[float, str]:
    """A failed expectation as (severity, "expectation on column: observed ..." line).

    Severity orders failures worst first: the share of unexpected rows, or
    100 for a failed aggregate (row count, identity over the whole table) and
    for an expectation that could not be evaluated (a missing column).
    """
    config = result.expectation_config
    kwargs = dict(config.kwargs)
    head = f"{config.type} on {_target(kwargs)}{_expected(kwargs)}"
    raised = _exception_message(result)
    outcome = result.result or {}
    meta = config.meta or {}
    if raised is None and {"file", "label", "unit"} <= set(meta):
        # A completeness figure: "<file>: <what> <observed> (allowed <band>)".
        observed = outcome.get("observed_value")
        return 100.0, failure_line(
            str(meta["file"]),
            str(meta["label"]),
            float(observed) if isinstance(observed, int | float) else None,
            kwargs.get("min_value"),
            kwargs.get("max_value"),
            str(meta["unit"]),
        )
    if raised is not None:
        return 100.0, f"{head}: could not be evaluated: {raised}"
    if "unexpected_count" in outcome and outcome.get("unexpected_count") is not None:
        count = int(outcome["unexpected_count"])
        total = int(outcome.get("element_count") or 0)
        share = float(outcome.get("unexpected_percent") or 0.0)
        examples = outcome.get("partial_unexpected_list") or []
        shown = ", ".join(_format(value) for value in examples[:3])
        return share, (
            f"{head}: observed {count:,} of {total:,} rows unexpected ({share:.2f} %)"
            + (f", e.g. {shown}" if shown else "")
        )
    if "observed_value" in outcome:
        return 100.0, f"{head}: observed {_format(outcome['observed_value'], 80)}"
    return 100.0, f"{head}: failed"
