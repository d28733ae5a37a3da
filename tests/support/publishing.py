"""Publishing for tests: a copy of a built warehouse, and stand-ins for the mart checks.

``clv publish`` gates on the working file and the ``run_results.json`` of the
build that wrote it; :func:`copy_working` copies both with their modification
times so the gate sees the copy as written by that build. The great-expectations
checks are replaced by :func:`passing_checks` or :func:`failing_checks`
(test_publish.py, test_faults.py, and the publisher subprocess of test_faults.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from clv.publish import publish


@dataclass
class StubReport:
    """Stands in for the result of ``clv.quality.validate``."""

    success: bool
    lines: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        return self.lines


def passing_checks(database: Path, raw_dir: Path, manifest: Path | None = None) -> StubReport:
    return StubReport(True, ["marts: 12 expectations passed"])


def failing_checks(database: Path, raw_dir: Path, manifest: Path | None = None) -> StubReport:
    return StubReport(False, ["marts.customer_clv: expect revenue >= 0 failed (3 rows)"])


@dataclass(frozen=True)
class Working:
    """A working database and the run_results.json of the build that wrote it."""

    database: Path
    run_results: Path
    raw_dir: Path


def copy_working(warehouse, directory: Path) -> Working:
    """Copy a built warehouse's file and run results (keeping their mtimes)."""
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "clv.duckdb"
    run_results = directory / "run_results.json"
    shutil.copy2(warehouse.database, database)
    shutil.copy2(warehouse.target_path / "run_results.json", run_results)
    # The checks read the models of the build from the manifest beside run_results.json.
    shutil.copy2(warehouse.target_path / "manifest.json", directory / "manifest.json")
    return Working(database, run_results, warehouse.raw_dir)


def restamp_run_results(working: Working) -> None:
    """Make run_results.json claim the build that last wrote the (modified) copy."""
    document = json.loads(working.run_results.read_text())
    modified = datetime.fromtimestamp(working.database.stat().st_mtime, UTC)
    started = datetime.fromtimestamp(working.database.stat().st_mtime - 60, UTC)
    document["metadata"]["generated_at"] = modified.isoformat().replace("+00:00", "Z")
    document["metadata"]["invocation_started_at"] = started.isoformat().replace("+00:00", "Z")
    working.run_results.write_text(json.dumps(document))


def publish_from(working: Working, published: Path, checks=passing_checks):
    return publish(
        working.database,
        published,
        working.run_results,
        working.raw_dir,
        checks=checks,
        checks_label="stub checks",
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
