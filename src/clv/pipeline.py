"""The scheduled pipeline: one ordered list of steps, run by cron and by Dagster alike.

A nightly run of the warehouse is more than ``dbt build``. :data:`STEPS` lists
what it is, in order, and is the one home of that sequence:

1. ``raw-gate`` - the great-expectations suites of the raw files
   (``clv validate --layer raw``): a bad delivery stops here, before dbt reads
   it, and a passing one extends the raw row-count history.
2. ``build`` - ``dbt build`` of the whole project (models, snapshots, data
   tests, unit tests) into the working DuckDB file, with ``complete_through``
   passed as a var when the run is pinned to a day.
3. ``publish`` - write-audit-publish (``clv publish``): the publication gates,
   which run the great-expectations suites of every layer on the working file
   against this build's manifest, then the atomic copy of the marts into the
   file BI tools read. A refused publication leaves the published file as it
   was.

``clv run-pipeline`` runs the steps in that order and stops at the first that
fails. :mod:`clv.orchestration` turns each step into Dagster assets (the raw
gate upstream of the dbt sources, the dbt project from its manifest, the
publication downstream of the marts) and refuses to load if a step has no
asset, so cron and Dagster cannot drift apart.

Exit codes are those of the command each step stands for: ``0`` every step
passed; ``1`` a gate failed (a raw suite, or a failing dbt model or test: the
data is wrong); ``2`` a refused publication or a problem the user can fix
(a missing raw folder, a dbt error before anything ran).

Probabilistic CLV on PostgreSQL and Spark (a ``predict`` step between two dbt
selections) and the dashboard are issues #12 and #13: each adds its step here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from clv import paths
from clv.errors import UserError

#: Exit code of a failed gate (as ``clv validate`` and a failing ``dbt build``).
GATE_FAILED = 1
#: Exit code of a refused publication or an error the user can fix.
REFUSED = 2


@dataclass(frozen=True)
class PipelineSettings:
    """Where one run reads and writes, and the day it is pinned to.

    ``complete_through`` is the last day the data counts as complete (dbt var
    ``complete_through``): the run of the morning after that day, reproduced;
    the marts report the last month complete by then. ``as_of_date`` pins the
    reporting month itself (dbt var ``as_of_date``). With neither, the
    warehouse derives the period from the data (DECISIONLOG.md, "Reporting
    period").
    """

    raw_dir: Path
    database: Path
    published: Path
    target_path: Path = paths.DEFAULT_TARGET_DIR
    docs_dir: Path = paths.DEFAULT_DOCS_DIR
    complete_through: date | None = None
    as_of_date: date | None = None

    @classmethod
    def from_environment(cls, **overrides: object) -> PipelineSettings:
        """Defaults from the environment (``CLV_RAW_DIR``, ``CLV_DUCKDB_PATH``,
        ``CLV_PUBLISHED_PATH``), then ``overrides`` that are not ``None``."""
        from clv.publish import published_path

        settings = cls(
            raw_dir=paths.raw_dir(), database=paths.duckdb_path(), published=published_path()
        )
        given = {name: value for name, value in overrides.items() if value is not None}
        for name in ("raw_dir", "database", "published", "target_path", "docs_dir"):
            if name in given:
                given[name] = Path(given[name]).resolve()
        return replace(settings, **given)

    @property
    def run_results(self) -> Path:
        """The ``run_results.json`` the build writes and the publication checks."""
        return self.target_path / "run_results.json"

    def dbt_env(self) -> dict[str, str]:
        """The environment profiles.yml reads for this run (DuckDB target)."""
        return {
            "CLV_TARGET": "duckdb",
            "CLV_RAW_DIR": str(self.raw_dir),
            "CLV_DUCKDB_PATH": str(self.database),
        }

    def dbt_build_args(self) -> list[str]:
        """``dbt build`` and its vars, without the project and path flags."""
        pinned = {"complete_through": self.complete_through, "as_of_date": self.as_of_date}
        dbt_vars = {name: day.isoformat() for name, day in pinned.items() if day is not None}
        return ["build", "--vars", json.dumps(dbt_vars)] if dbt_vars else ["build"]


@dataclass(frozen=True)
class Check:
    """One gate inside a step: its name, whether it passed, and why not."""

    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class StepResult:
    """What one step did: its exit code, the lines it printed, its checks."""

    step: str
    exit_code: int
    lines: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    seconds: float = field(default=0.0, compare=False)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def reason(self) -> str:
        """Why the step failed, in one line (the failing checks' details)."""
        failing = [f"{check.name}: {check.detail}" for check in self.checks if not check.passed]
        return "; ".join(failing) or (self.lines[-1] if self.lines else "failed")


@dataclass(frozen=True)
class Step:
    """A step of the pipeline: its name (as ``clv run-pipeline`` prints it), what
    it does, and the function that runs it."""

    name: str
    summary: str
    run: Callable[[PipelineSettings], StepResult]


def run_raw_gate(settings: PipelineSettings) -> StepResult:
    """The raw suites, as ``clv validate --layer raw`` runs them (history recorded)."""
    if not settings.raw_dir.is_dir():
        raise UserError(f"no raw-data folder at {settings.raw_dir}")
    from clv.quality import validate

    report = validate(("raw",), raw_dir=settings.raw_dir, database=None, docs_dir=settings.docs_dir)
    checks = tuple(
        Check(suite.name, suite.success, "; ".join(suite.failures[:3])) for suite in report.suites
    )
    return StepResult(
        "raw-gate", 0 if report.success else GATE_FAILED, tuple(report.summary_lines()), checks
    )


def run_build(settings: PipelineSettings) -> StepResult:
    """``dbt build`` in-process (dbt's own log lines go to standard output)."""
    from clv.dbt_runner import run_dbt

    settings.database.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = run_dbt(
            settings.dbt_build_args(), env=settings.dbt_env(), target_path=settings.target_path
        )
    except Exception as error:  # dbt raised before it could report node results
        return StepResult("build", REFUSED, (f"dbt build raised {error!r}",))
    nodes = list(getattr(result.result, "results", None) or [])
    failed = [node for node in nodes if str(node.status) in {"error", "fail", "runtime error"}]
    checks = tuple(
        Check(node.node.unique_id, False, " ".join(str(node.message).split())[:300])
        for node in failed
    )
    line = f"dbt build: {len(nodes)} nodes, {len(failed)} failed"
    return StepResult("build", 0 if result.success else GATE_FAILED, (line,), checks)


def run_publish(settings: PipelineSettings) -> StepResult:
    """``clv publish`` on this run's build; a refusal names the gate that stopped it."""
    from clv.commands.publish import format_publication
    from clv.publish import GATES, PublishRefused, publish

    try:
        publication = publish(
            working=settings.database,
            published=settings.published,
            run_results=settings.run_results,
            raw_dir=settings.raw_dir,
        )
    except PublishRefused as refusal:
        reached = GATES.index(refusal.gate) if refusal.gate in GATES else len(GATES)
        checks = tuple(Check(gate, True) for gate in GATES[:reached])
        checks += (Check(refusal.gate, False, refusal.reason),)
        return StepResult("publish", REFUSED, (str(refusal),), checks)
    checks = tuple(Check(gate, True) for gate in GATES)
    return StepResult("publish", 0, tuple(format_publication(publication).splitlines()), checks)


#: The pipeline, in order. Dagster's assets are built from this list (clv.orchestration).
STEPS: tuple[Step, ...] = (
    Step("raw-gate", "great-expectations suites of the raw files", run_raw_gate),
    Step("build", "dbt build: models, snapshots, data tests and unit tests", run_build),
    Step("publish", "the publication gates, then the atomic copy of the marts", run_publish),
)


def step_named(name: str, steps: Iterable[Step] = STEPS) -> Step:
    """The step called ``name`` (KeyError naming the known steps otherwise)."""
    for step in steps:
        if step.name == name:
            return step
    raise KeyError(f"no step {name!r}; the steps are {[s.name for s in STEPS]}")


def run_pipeline(
    settings: PipelineSettings,
    *,
    steps: Sequence[Step] = STEPS,
    echo: Callable[[str], None] = print,
) -> list[StepResult]:
    """Run ``steps`` in order, stopping after the first that fails; return their results."""
    results = []
    for number, step in enumerate(steps, start=1):
        echo(f"[{number}/{len(steps)}] {step.name}: {step.summary}")
        began = time.perf_counter()
        try:
            result = step.run(settings)
        except UserError as error:
            result = StepResult(step.name, REFUSED, (str(error),))
        result = replace(result, seconds=time.perf_counter() - began)
        for line in result.lines:
            echo(f"  {line}")
        verdict = "passed" if result.passed else f"FAILED (exit {result.exit_code})"
        echo(f"  {step.name} {verdict} in {result.seconds:.1f} s")
        results.append(result)
        if not result.passed:
            break
    return results


def exit_code(results: Sequence[StepResult]) -> int:
    """The exit code of a run: that of its failing step, or 0."""
    return next((result.exit_code for result in results if not result.passed), 0)
