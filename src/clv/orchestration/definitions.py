"""The Dagster code location: the pipeline's steps as one asset graph.

Built from :data:`clv.pipeline.STEPS`, one factory per step:

- ``raw-gate``: a multi-asset that materialises every dbt *source* (the raw
  files dbt reads), so the whole dbt graph hangs below it; each raw suite is an
  asset check on its source (``raw.completeness``, which spans the delivery, on
  every source of it would say the same thing five times: it sits on
  ``shop/orders``, the table every other is reconciled against).
- ``build``: the dbt project from its manifest (``@dbt_assets``); dbt's data
  tests are asset checks. The command is :meth:`PipelineSettings.dbt_build_args`,
  the one ``clv run-pipeline`` runs.
- ``publish``: an asset downstream of every mart; each publication gate
  (:data:`clv.publish.GATES`) is an asset check.

Every asset is partitioned by day: a partition is the day the data counts as
complete through (dbt var ``complete_through``; the marts report the last
month complete by then, and the publication log records that ``as_of_date``),
so a past day reruns reproducibly. The schedule runs the job for yesterday's
partition each morning at ``CLV_SCHEDULE_TIME`` (``HH:MM`` UTC, default 05:00).

A failing gate raises :class:`dagster.Failure` after recording its checks as
failed asset checks: the run fails at that step, its log names the check and
the reason, nothing downstream runs and the last publication stays in place.

The manifest the graph is read from is ``target/dagster/manifest.json``
(``CLV_DAGSTER_MANIFEST_DIR``), made
by ``dbt parse`` at load when it is missing or older than a file of the dbt
project (:data:`PROJECT_SOURCES`), so the graph never lags the models.
"""

# No `from __future__ import annotations`: Dagster reads the context parameter's type.

import functools
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    AssetSpec,
    BackfillPolicy,
    ConfigurableResource,
    DailyPartitionsDefinition,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    ScheduleDefinition,
    asset,
    build_schedule_from_partitioned_job,
    define_asset_job,
    multi_asset,
)
from dagster_dbt import (
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_key_for_model,
    get_asset_keys_by_output_name_for_source,
)

from clv import paths
from clv.dbt_runner import environment, run_dbt
from clv.manifest import load_manifest
from clv.pipeline import STEPS, Check, PipelineSettings, StepResult, step_named
from clv.publish import GATES

#: The daily job's name, as the UI and ``dagster job execute`` show it.
JOB_NAME = "clv_daily"
#: First as-of date a partition exists for (``CLV_PARTITIONS_START``, ISO date).
PARTITIONS_START = os.environ.get("CLV_PARTITIONS_START", "2025-01-01")
#: Schedule time of the daily run, ``HH:MM`` in UTC (``CLV_SCHEDULE_TIME``).
SCHEDULE_TIME = os.environ.get("CLV_SCHEDULE_TIME", "05:00")
#: The raw suite that spans the whole delivery, and the source it is reported on.
DELIVERY_SUITE, DELIVERY_SOURCE = "raw.completeness", ("shop", "orders")

PARTITIONS = DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")
#: One run per as-of date: a backfill of several days builds each day on its own.
ONE_DAY_PER_RUN = BackfillPolicy.multi_run(max_partitions_per_run=1)

#: Where the manifest the graph is read from lives (``CLV_DAGSTER_MANIFEST_DIR``).
MANIFEST_DIR = Path(
    os.environ.get("CLV_DAGSTER_MANIFEST_DIR", paths.DEFAULT_TARGET_DIR / "dagster")
).resolve()

DBT_PROJECT = DbtProject(
    project_dir=paths.PROJECT_DIR, profiles_dir=paths.PROJECT_DIR, target_path=MANIFEST_DIR
)


class ClvSettings(ConfigurableResource):
    """Where a run reads and writes (each empty field: the environment's default)."""

    raw_dir: str = ""
    database: str = ""
    published: str = ""
    target_path: str = ""
    docs_dir: str = ""

    def for_partition(self, partition_key: str | None) -> PipelineSettings:
        """The pipeline settings of one run, pinned to its partition's day."""
        return PipelineSettings.from_environment(
            raw_dir=self.raw_dir or None,
            database=self.database or None,
            published=self.published or None,
            target_path=self.target_path or None,
            docs_dir=self.docs_dir or None,
            complete_through=date.fromisoformat(partition_key) if partition_key else None,
        )


#: The dbt executable of this environment (a virtual environment need not be on PATH).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


#: What the manifest is parsed from: a file here newer than it makes it stale.
PROJECT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "snapshots")


def _stale(manifest: Path) -> bool:
    """Whether ``manifest`` is missing or older than a file of the dbt project."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for name in PROJECT_SOURCES:
        path = paths.PROJECT_DIR / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        if any(file.stat().st_mtime > built for file in files):
            return True
    return False


@functools.cache
def _manifest_path() -> Path:
    """The manifest the graph is read from, parsed again whenever the project changed."""
    if _stale(DBT_PROJECT.manifest_path):
        result = run_dbt(["parse", "--quiet"], target_path=DBT_PROJECT.manifest_path.parent)
        if not result.success:
            raise RuntimeError(f"dbt parse failed; the graph cannot be built ({result.exception})")
    return DBT_PROJECT.manifest_path


def _partition(context: AssetExecutionContext) -> str | None:
    return context.partition_key if context.has_partition_key else None


def _check_results(
    result: StepResult, key_of: Callable[[Check], AssetKey]
) -> Iterator[AssetCheckResult]:
    for check in result.checks:
        yield AssetCheckResult(
            asset_key=key_of(check),
            check_name=_check_name(check.name),
            passed=check.passed,
            severity=AssetCheckSeverity.ERROR,
            metadata={"detail": MetadataValue.text(check.detail or "passed")},
        )


def _check_name(name: str) -> str:
    """A Dagster check name (letters, digits, underscores) for a gate or suite name."""
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def _fail(context: AssetExecutionContext, result: StepResult) -> Failure:
    context.log.error(f"step {result.step} failed (exit {result.exit_code}): {result.reason()}")
    return Failure(
        description=f"{result.step} failed: {result.reason()}",
        metadata={
            "exit_code": result.exit_code,
            "output": MetadataValue.md("\n".join(result.lines)),
        },
    )


def _dbt_assets() -> AssetsDefinition:
    build = step_named("build")

    @dbt_assets(
        manifest=_manifest_path(),
        project=DBT_PROJECT,
        partitions_def=PARTITIONS,
        backfill_policy=ONE_DAY_PER_RUN,
        name="dbt_build",
    )
    def dbt_build(context: AssetExecutionContext, dbt: DbtCliResource, clv: ClvSettings):
        settings = clv.for_partition(_partition(context))
        settings.database.parent.mkdir(parents=True, exist_ok=True)
        context.log.info(f"{build.name}: {build.summary} ({settings.dbt_build_args()})")
        with environment(settings.dbt_env()):
            invocation = dbt.cli(
                settings.dbt_build_args(), context=context, target_path=settings.target_path
            )
            yield from invocation.stream()

    return dbt_build


def _raw_gate(dbt_build: AssetsDefinition) -> AssetsDefinition:
    step = step_named("raw-gate")
    manifest = load_manifest(_manifest_path())
    sources = sorted(tuple(source.split(".", 1)) for source in manifest.sources)
    # dagster-dbt's default key of a source table is [source, table].
    keys = {
        tuple(key.path): key
        for source in sorted({name for name, _ in sources})
        for key in get_asset_keys_by_output_name_for_source([dbt_build], source).values()
    }
    if sorted(keys) != sources:
        raise RuntimeError(f"dbt sources {sources} do not match their asset keys {sorted(keys)}")

    def key_of_suite(name: str) -> AssetKey:
        if name == DELIVERY_SUITE:
            return keys[DELIVERY_SOURCE]
        _, source, table = name.split(".", 2)  # raw.<source>.<table>
        return keys[(source, table)]

    suite_names = [f"raw.{source}.{table}" for source, table in sources] + [DELIVERY_SUITE]

    @multi_asset(
        name="raw_gate",
        specs=[
            AssetSpec(key, group_name="raw", description=f"raw file {s}.{t}, checked")
            for (s, t), key in sorted(keys.items())
        ],
        check_specs=[
            AssetCheckSpec(_check_name(name), asset=key_of_suite(name), description=name)
            for name in suite_names
        ],
        partitions_def=PARTITIONS,
        backfill_policy=ONE_DAY_PER_RUN,
        description=step.summary,
    )
    def raw_gate(context: AssetExecutionContext, clv: ClvSettings):
        result = step.run(clv.for_partition(_partition(context)))
        for line in result.lines:
            context.log.info(line)
        yield from _check_results(result, lambda check: key_of_suite(check.name))
        if not result.passed:
            raise _fail(context, result)
        for key in keys.values():
            yield MaterializeResult(asset_key=key)

    return raw_gate


def _publish(dbt_build: AssetsDefinition) -> AssetsDefinition:
    step = step_named("publish")
    manifest = load_manifest(_manifest_path())
    marts = [get_asset_key_for_model([dbt_build], m.name) for m in manifest.in_schema("marts")]
    key = AssetKey(["published_marts"])

    @asset(
        key=key,
        deps=marts,
        group_name="publication",
        partitions_def=PARTITIONS,
        backfill_policy=ONE_DAY_PER_RUN,
        check_specs=[
            AssetCheckSpec(_check_name(gate), asset=key, description=gate) for gate in GATES
        ],
        description=step.summary,
    )
    def published_marts(context: AssetExecutionContext, clv: ClvSettings):
        result = step.run(clv.for_partition(_partition(context)))
        for line in result.lines:
            context.log.info(line)
        yield from _check_results(result, lambda check: key)
        if not result.passed:
            raise _fail(context, result)
        yield MaterializeResult(metadata={"publication": MetadataValue.md("\n".join(result.lines))})

    return published_marts


def _assets() -> list[AssetsDefinition]:
    """One asset (or multi-asset) per pipeline step, in the steps' order."""
    dbt_build = _dbt_assets()
    factories: Mapping[str, Callable[[], AssetsDefinition]] = {
        "raw-gate": lambda: _raw_gate(dbt_build),
        "build": lambda: dbt_build,
        "publish": lambda: _publish(dbt_build),
    }
    missing = [step.name for step in STEPS if step.name not in factories]
    if missing:
        raise RuntimeError(f"pipeline steps without a Dagster asset: {missing}")
    return [factories[step.name]() for step in STEPS]


def _schedule(job) -> ScheduleDefinition:
    hour, _, minute = SCHEDULE_TIME.partition(":")
    return build_schedule_from_partitioned_job(
        job,
        name=f"{JOB_NAME}_schedule",
        hour_of_day=int(hour),
        minute_of_hour=int(minute or 0),
        description=f"every day at {SCHEDULE_TIME} UTC, for yesterday's as-of date",
    )


def build_definitions() -> Definitions:
    """The code location: the assets of every step, the daily job and its schedule."""
    assets = _assets()
    job = define_asset_job(JOB_NAME, selection=AssetSelection.all())
    return Definitions(
        assets=assets,
        jobs=[job],
        schedules=[_schedule(job)],
        resources={
            "dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE),
            "clv": ClvSettings(),
        },
    )
