"""Every model passes sqlfluff with the project's .sqlfluff rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clv.paths import PROJECT_DIR
from tests.support.dbt import sqlfluff_env

pytestmark = pytest.mark.integration


def test_sqlfluff_lint_models_passes(tmp_path):
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    completed = subprocess.run(
        [str(sqlfluff), "lint", "models", "--format", "json", "--processes", "2"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env=sqlfluff_env(tmp_path),
        timeout=900,
    )
    report = json.loads(completed.stdout)
    linted = [entry["filepath"] for entry in report]
    assert len(linted) >= 28, f"sqlfluff linted only {linted}"
    violations = [
        f"{entry['filepath']}:{v.get('start_line_no')} {v['code']} {v['description']}"
        for entry in report
        for v in entry["violations"]
    ]
    assert not violations, "\n".join(violations)
    assert completed.returncode == 0, completed.stderr[-4000:]
