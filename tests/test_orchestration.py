"""The scheduled pipeline: Dagster's code location and ``clv run-pipeline`` (cron).

Both run :data:`clv.pipeline.STEPS`. On the session's simulated data, the
Dagster job for one day publishes, and ``clv run-pipeline`` for the same day
publishes the same marts (equal content hash); a broken raw file stops both at
the raw gate with the published file byte-identical; a day the data has not
reached fails the build. The README's cron line does not start a run while
another holds the lock, and ``dagster dev`` serves the code location on
loopback.
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from clv.dbt_runner import environment
from clv.paths import PROJECT_DIR
from clv.pipeline import STEPS
from clv.publish import GATES, read_publication_log
from tests.support.publishing import sha256_of
from tests.support.warehouse import SIM_END, SIM_START

#: The day both runs are pinned to, the day before the simulated data ends: December
#: is not complete by then, so the marts report November.
DAY = (SIM_END - timedelta(days=1)).isoformat()
AS_OF = "2024-11-30"
CLV = Path(sys.executable).with_name("clv")
DAGSTER = Path(sys.executable).with_name("dagster")


@pytest.fixture(scope="module")
def orchestration(tmp_path_factory: pytest.TempPathFactory):
    """clv.orchestration, its manifest parsed into a temporary folder (not target/)."""
    manifest_dir = tmp_path_factory.mktemp("dagster_manifest")
    settings = {
        "CLV_DAGSTER_MANIFEST_DIR": str(manifest_dir),
        "CLV_PARTITIONS_START": SIM_START.isoformat(),  # the simulated history's first day
    }
    with environment(settings):
        for name in ("clv.orchestration.definitions", "clv.orchestration"):
            sys.modules.pop(name, None)
        yield importlib.import_module("clv.orchestration"), manifest_dir


def _run_paths(root: Path, raw_dir: Path) -> dict[str, str]:
    return {
        "raw_dir": str(raw_dir),
        "database": str(root / "work" / "clv.duckdb"),
        "published": str(root / "published" / "clv.duckdb"),
        "target_path": str(root / "target"),
        "docs_dir": str(root / "quality" / "docs"),
    }


def _execute(orchestration, paths: dict[str, str], day: str = DAY):
    import dagster as dg

    module, _ = orchestration
    from clv.orchestration.definitions import JOB_NAME, ClvSettings

    job = module.defs.resolve_job_def(JOB_NAME)
    return job.execute_in_process(
        partition_key=day,
        resources={"clv": ClvSettings(**paths)},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _check_evaluations(result) -> dict[str, bool]:
    return {
        event.event_specific_data.check_name: event.event_specific_data.passed
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def _failed_steps(result) -> list[str]:
    events = result.all_events
    return [event.step_key for event in events if event.event_type_value == "STEP_FAILURE"]


def _broken_raw(raw_dir: Path, directory: Path) -> Path:
    """A copy of ``raw_dir`` whose orders file holds only its first half (a partial delivery)."""
    broken = directory / "raw"
    shutil.copytree(raw_dir, broken)
    orders = broken / "shop" / "orders.parquet"
    table = pq.read_table(orders)
    pq.write_table(table.slice(0, table.num_rows // 2), orders)
    return broken


@pytest.fixture(scope="module")
def dagster_run(orchestration, simulated_raw, tmp_path_factory: pytest.TempPathFactory):
    """The daily job executed in process for :data:`DAY` on the simulated data."""
    raw_dir, _ = simulated_raw
    paths = _run_paths(tmp_path_factory.mktemp("dagster_run"), raw_dir)
    began = time.perf_counter()
    result = _execute(orchestration, paths)
    return result, paths, time.perf_counter() - began


@pytest.mark.integration
def test_the_code_location_loads_with_one_asset_per_step(orchestration) -> None:
    import dagster as dg

    module, manifest_dir = orchestration
    from clv.orchestration.definitions import JOB_NAME, SCHEDULE_TIME

    dg.Definitions.validate_loadable(module.defs)
    assert (manifest_dir / "manifest.json").exists(), "the manifest goes where it was told"
    job = module.defs.resolve_job_def(JOB_NAME)
    schedule = module.defs.resolve_schedule_def(f"{JOB_NAME}_schedule")
    hour, minute = (int(part) for part in SCHEDULE_TIME.split(":"))
    assert schedule.cron_schedule == f"{minute} {hour} * * *"
    assert schedule.execution_timezone == "UTC"
    assert job.partitions_def is not None and job.partitions_def.get_partition_keys()[0]

    graph = module.defs.resolve_asset_graph()
    steps = list(module.defs.assets)  # one per pipeline step, in the steps' order
    assert [a.op.name for a in steps] == ["raw_gate", "dbt_build", "published_marts"]
    assert len(steps) == len(STEPS)
    # Each step's assets hang below the step before it, and only below it.
    for before, after in zip(steps, steps[1:], strict=False):
        parents = {p for key in after.keys for p in graph.get(key).parent_keys}
        assert parents & set(before.keys), f"{after.op.name} does not follow {before.op.name}"
    raw_gate, dbt_build, publish = (set(a.keys) for a in steps)
    dbt_parents = {p for key in dbt_build for p in graph.get(key).parent_keys} - dbt_build
    assert dbt_parents == raw_gate, "the dbt graph starts at the raw files, all of them"
    (published,) = publish
    marts = graph.get(published).parent_keys
    assert len(marts) >= 13 and marts <= dbt_build
    checks = {key.name for key in graph.asset_check_keys if key.asset_key == published}
    assert checks == {"".join(c if c.isalnum() else "_" for c in gate) for gate in GATES}


@pytest.mark.scale
def test_the_daily_job_publishes_the_day_it_is_run_for(dagster_run) -> None:
    result, paths, seconds = dagster_run
    assert result.success, _failed_steps(result)
    (publication,) = read_publication_log(Path(paths["published"]))
    assert DAY == "2024-12-30" and str(publication["as_of_date"]) == AS_OF
    checks = _check_evaluations(result)
    assert all(checks[name] for name in checks if name.startswith("raw_")), checks
    assert all(checks["".join(c if c.isalnum() else "_" for c in gate)] for gate in GATES)
    print(f"Dagster job in process on {DAY}: {seconds:.1f} s")


@pytest.mark.scale
def test_run_pipeline_publishes_what_dagster_published(
    dagster_run, simulated_raw, tmp_path: Path
) -> None:
    raw_dir, _ = simulated_raw
    _, dagster_paths, _ = dagster_run
    paths = _run_paths(tmp_path, raw_dir)
    process = _run_pipeline(paths, "--complete-through", DAY)
    assert process.returncode == 0, process.stdout[-3000:]
    assert "Pipeline passed: 3 steps" in process.stdout
    (ours,) = read_publication_log(Path(paths["published"]))
    (theirs,) = read_publication_log(Path(dagster_paths["published"]))
    assert ours["as_of_date"] == theirs["as_of_date"]
    assert json.loads(ours["row_counts"]) == json.loads(theirs["row_counts"])
    assert ours["content_hash"] == theirs["content_hash"], "cron and Dagster publish the same marts"


def _run_pipeline(paths: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    flags = [f"--{name.replace('_', '-')}" for name in paths]
    args = [value for pair in zip(flags, paths.values(), strict=True) for value in pair]
    return subprocess.run(
        [str(CLV), "run-pipeline", *args, *extra],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"},
    )


@pytest.mark.fault
def test_a_partial_delivery_stops_both_at_the_raw_gate(
    orchestration, dagster_run, simulated_raw, tmp_path: Path
) -> None:
    raw_dir, _ = simulated_raw
    _, dagster_paths, _ = dagster_run
    broken = _broken_raw(raw_dir, tmp_path)
    published = Path(dagster_paths["published"])
    before = sha256_of(published)

    result = _execute(orchestration, {**dagster_paths, "raw_dir": str(broken)})
    assert not result.success
    assert _failed_steps(result) == ["raw_gate"], "the run fails at the raw gate, nothing after"
    checks = _check_evaluations(result)
    failed = sorted(name for name, passed in checks.items() if not passed)
    assert "raw_shop_orders" in failed or "raw_completeness" in failed, failed
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    description = failure.event_specific_data.user_failure_data.description
    assert description.startswith("raw-gate failed: raw."), description
    assert sha256_of(published) == before, "a failed gate leaves the last publication in place"

    process = _run_pipeline({**dagster_paths, "raw_dir": str(broken)})
    assert process.returncode == 1, process.stdout[-2000:]
    assert "Pipeline stopped at step raw-gate (exit 1)" in process.stdout
    assert "[2/3] build" not in process.stdout
    assert sha256_of(published) == before


@pytest.mark.fault
def test_a_day_the_data_has_not_reached_fails_the_build(
    dagster_run, simulated_raw, tmp_path: Path
) -> None:
    raw_dir, _ = simulated_raw
    _, dagster_paths, _ = dagster_run
    published = Path(dagster_paths["published"])
    before = sha256_of(published)
    paths = {**_run_paths(tmp_path, raw_dir), "published": str(published)}
    # A month after the data ends: reporting January as complete would be a lie.
    process = _run_pipeline(paths, "--complete-through", "2025-01-31")
    assert process.returncode == 1, process.stdout[-2000:]
    assert "Pipeline stopped at step build (exit 1)" in process.stdout
    assert "reporting_period_complete_through_is_loaded" in process.stdout
    assert sha256_of(published) == before


def _cron_line() -> str:
    """The crontab line README.md documents (the fenced block under its cron heading)."""
    readme = (PROJECT_DIR / "README.md").read_text()
    match = re.search(r"<!-- cron-line -->\s*```[a-z]*\n(.+?)\n```", readme, re.S)
    assert match, "README.md documents the cron line after a <!-- cron-line --> marker"
    return match.group(1).strip()


@pytest.mark.integration
def test_the_documented_cron_line_never_overlaps_a_running_pipeline(tmp_path: Path) -> None:
    line = _cron_line()
    fields = line.split(None, 5)
    assert len(fields) == 6 and fields[5].startswith("cd "), line
    command = fields[5]
    assert "flock " in command and "--nonblock" in command and "clv run-pipeline" in command
    # Run the line's command from a copy of the lock's folder, with the lock held
    # as a running pipeline holds it: it must give up at once and start nothing.
    project = tmp_path / "project"
    (project / "data" / "logs").mkdir(parents=True)
    command = command.replace(command.split("&&")[0], f"cd {project} ", 1)
    lock_path = project / re.search(r"--nonblock (\S+)", command).group(1)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        began = time.perf_counter()
        process = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
        elapsed = time.perf_counter() - began
    assert process.returncode == 75, (process.returncode, process.stderr)
    assert elapsed < 5
    log = project / "data" / "logs" / "pipeline.log"
    assert not log.exists() or "run-pipeline" not in log.read_text()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, data: bytes | None = None) -> dict:
    headers = {"Content-Type": "application/json"} if data else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.integration
def test_dagster_dev_serves_the_code_location_on_loopback(orchestration, tmp_path: Path) -> None:
    _, manifest_dir = orchestration  # parsed already: the server's load is quick
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path),
        "CLV_DAGSTER_MANIFEST_DIR": str(manifest_dir),
        "CLV_PARTITIONS_START": SIM_START.isoformat(),
    }
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    log = (tmp_path / "dagster-dev.log").open("w")
    server = subprocess.Popen(
        [str(DAGSTER), "dev", "-m", "clv.orchestration", "-h", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    jobs_query = (
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } } } } }"
    )
    query = json.dumps({"query": jobs_query}).encode()
    try:
        deadline = time.monotonic() + 180
        info, jobs = None, []
        while time.monotonic() < deadline and server.poll() is None:
            try:
                info = _get(f"{base}/server_info")
                nodes = _get(f"{base}/graphql", query)["data"]["repositoriesOrError"]["nodes"]
                jobs = [job["name"] for node in nodes for job in node["jobs"]]
                if "clv_daily" in jobs:
                    break
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
        output = (tmp_path / "dagster-dev.log").read_text()[-3000:]
        assert info and "dagster_webserver_version" in info, output
        assert "clv_daily" in jobs, output
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    assert server.returncode is not None
