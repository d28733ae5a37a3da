"""The one way tests run dbt: :func:`run_dbt`, which names what failed.

It wraps :func:`clv.dbt_runner.run_dbt` (the in-process runner the ``clv``
command uses too) and checks the outcome: with ``expect_pass=True`` a failed
invocation raises an ``AssertionError`` listing every failing node with its
status and message; with ``expect_pass=False`` a passing one does. Tests that
must run dbt as a separate process (to kill it) use :func:`dbt_command` and
:func:`run_dbt_process`, which read the same failures from ``run_results.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from clv.dbt_runner import run_dbt as invoke_dbt
from clv.paths import PROJECT_DIR

#: Node statuses that do not fail an invocation (dbt's RunStatus, TestStatus, FreshnessStatus).
PASSING_STATUSES = frozenset({"success", "pass", "warn", "skipped", "no-op"})
#: The dbt executable beside the running Python (the project's virtual environment).
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"


def warehouse_env(raw_dir: Path, database: Path) -> dict[str, str]:
    """The environment profiles.yml reads: which raw files, which DuckDB file."""
    return {"CLV_RAW_DIR": str(raw_dir), "CLV_DUCKDB_PATH": str(database)}


def node_results(result) -> list:
    """The per-node results of a dbtRunnerResult (none for ``parse``, ``deps``, ...)."""
    results = getattr(result.result, "results", None)
    return list(results) if results is not None else []


def failing_nodes(nodes: Iterable[tuple[str, str, str]]) -> list[str]:
    """``unique_id: status message`` for each (unique_id, status, message) that failed."""
    return [
        f"{unique_id}: {status} {message or ''}".rstrip()
        for unique_id, status, message in nodes
        if status not in PASSING_STATUSES
    ]


def _failure_report(what: str, lines: list[str]) -> str:
    return f"{what} failed:\n  " + ("\n  ".join(lines) if lines else "(no failing node reported)")


def failures(result) -> list[str]:
    """``unique_id: status message`` for each node of a dbtRunnerResult that failed."""
    return failing_nodes((r.node.unique_id, str(r.status), r.message) for r in node_results(result))


def run_dbt(
    args: Sequence[str],
    expect_pass: bool | None = True,
    *,
    env: Mapping[str, str | os.PathLike[str] | None] | None = None,
    target_path: Path | None = None,
):
    """Run ``dbt <args>`` in-process; assert it passed (or failed); return dbt's result.

    Every failing node is listed in the assertion message, e.g.
    ``test.clv_warehouse.not_null_customer_clv_customer_id: fail Got 3 results``.
    ``expect_pass=None`` checks nothing: a fixture whose tests inspect the
    result themselves (with :func:`failures`).
    """
    result = invoke_dbt(list(args), env=env, target_path=target_path)
    what = "dbt " + " ".join(args)
    if expect_pass and not result.success:
        raise AssertionError(_failure_report(what, failures(result)))
    if expect_pass is False and result.success:
        raise AssertionError(f"{what} passed; the test expected it to fail")
    return result


def dbt_command(
    args: Sequence[str], target_path: Path, project_dir: Path = PROJECT_DIR
) -> list[str]:
    """The command line of ``dbt <args>`` on ``project_dir`` (this project), artefacts under
    ``target_path``."""
    return [
        str(DBT_EXECUTABLE),
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
    ]


def process_env(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment, with ``env`` and tracking off, for a dbt subprocess."""
    return {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", **env}


def sqlfluff_env(home: Path) -> dict[str, str]:
    """A clean environment for ``sqlfluff lint`` with the dbt templater.

    The templater opens a DuckDB connection: a throwaway file under ``home``,
    so linting never touches (or waits for) a warehouse.
    """
    return {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(home),
        "CLV_DUCKDB_PATH": str(home / "lint.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def failing_nodes_in_run_results(target_path: Path) -> list[str]:
    """The failing nodes that ``run_results.json`` under ``target_path`` records."""
    path = target_path / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text())["results"]
    return failing_nodes((r["unique_id"], r["status"], r.get("message")) for r in results)


def run_dbt_process(
    args: Sequence[str],
    expect_pass: bool = True,
    *,
    env: Mapping[str, str],
    target_path: Path,
    log: Path,
    timeout: float = 900,
    project_dir: Path = PROJECT_DIR,
) -> int:
    """Run ``dbt <args>`` as a subprocess to its end (output appended to ``log``).

    Asserts as :func:`run_dbt` does, listing the failing nodes of its
    ``run_results.json`` and the end of its output. Returns the exit code.
    ``project_dir`` is another copy of the project (CONTRIBUTING.md's walkthrough).
    """
    with open(log, "a") as output:
        returncode = subprocess.run(
            dbt_command(args, target_path, project_dir),
            env=process_env(env),
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        ).returncode
    what = "dbt " + " ".join(args)
    if expect_pass and returncode != 0:
        report = _failure_report(what, failing_nodes_in_run_results(target_path))
        raise AssertionError(f"{report}\n--- end of its output ---\n{log.read_text()[-3000:]}")
    if not expect_pass and returncode == 0:
        raise AssertionError(f"{what} passed; the test expected it to fail")
    return returncode
