"""clv.pipeline without a warehouse: the steps' order, the stop at the first failure,
the exit codes, and what a pinned day passes to dbt."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from clv.cli import main
from clv.errors import UserError
from clv.pipeline import (
    GATE_FAILED,
    REFUSED,
    STEPS,
    Check,
    PipelineSettings,
    Step,
    StepResult,
    exit_code,
    run_pipeline,
    step_named,
)

pytestmark = pytest.mark.unit


def _settings(tmp_path: Path, **pins) -> PipelineSettings:
    return PipelineSettings(
        raw_dir=tmp_path / "raw",
        database=tmp_path / "clv.duckdb",
        published=tmp_path / "published.duckdb",
        **pins,
    )


def test_the_steps_are_the_gate_the_build_and_the_publication_in_that_order() -> None:
    assert [step.name for step in STEPS] == ["raw-gate", "build", "publish"]
    assert step_named("build") is STEPS[1]
    with pytest.raises(KeyError, match="raw-gate"):
        step_named("dashboard")


def test_a_pinned_day_reaches_dbt_as_vars(tmp_path: Path) -> None:
    assert _settings(tmp_path).dbt_build_args() == ["build"]
    args = _settings(tmp_path, complete_through=date(2026, 12, 1)).dbt_build_args()
    assert args[:2] == ["build", "--vars"]
    assert json.loads(args[2]) == {"complete_through": "2026-12-01"}
    both = _settings(tmp_path, complete_through=date(2026, 12, 1), as_of_date=date(2026, 6, 30))
    assert json.loads(both.dbt_build_args()[2]) == {
        "complete_through": "2026-12-01",
        "as_of_date": "2026-06-30",
    }
    env = _settings(tmp_path).dbt_env()
    assert env["CLV_DUCKDB_PATH"] == str(tmp_path / "clv.duckdb")
    assert env["CLV_RAW_DIR"] == str(tmp_path / "raw") and env["CLV_TARGET"] == "duckdb"


def _step(name: str, code: int, ran: list[str]) -> Step:
    def run(settings: PipelineSettings) -> StepResult:
        ran.append(name)
        checks = (Check("a check", code == 0, "" if code == 0 else "3 rows out of range"),)
        return StepResult(name, code, (f"{name} said something",), checks)

    return Step(name, f"the {name} step", run)


def test_the_pipeline_stops_at_the_first_failing_step(tmp_path: Path) -> None:
    ran: list[str] = []
    steps = [_step("one", 0, ran), _step("two", GATE_FAILED, ran), _step("three", 0, ran)]
    lines: list[str] = []
    results = run_pipeline(_settings(tmp_path), steps=steps, echo=lines.append)
    assert ran == ["one", "two"]
    assert exit_code(results) == GATE_FAILED
    assert results[-1].reason() == "a check: 3 rows out of range"
    assert "[2/3] two: the two step" in lines
    assert any(line.startswith("  two FAILED (exit 1)") for line in lines)


def test_a_user_error_in_a_step_is_a_refusal_not_a_traceback(tmp_path: Path) -> None:
    def broken(settings: PipelineSettings) -> StepResult:
        raise UserError("no raw-data folder at /nowhere")

    ran: list[str] = []
    steps = [Step("gate", "a gate", broken), _step("after", 0, ran)]
    results = run_pipeline(_settings(tmp_path), steps=steps, echo=lambda line: None)
    assert exit_code(results) == REFUSED and ran == []
    assert results[0].reason() == "no raw-data folder at /nowhere"
    assert exit_code([StepResult("x", 0)]) == 0


def test_run_pipeline_refuses_a_missing_raw_folder_and_a_bad_day(tmp_path: Path, capsys) -> None:
    code = main(["run-pipeline", "--raw-dir", str(tmp_path / "none"), "--docs-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == REFUSED
    assert f"Pipeline stopped at step raw-gate (exit 2): no raw-data folder at {tmp_path}" in out
    assert main(["run-pipeline", "--complete-through", "yesterday"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [
        "clv run-pipeline: error: --complete-through 'yesterday' is not a date (YYYY-MM-DD)"
    ]
