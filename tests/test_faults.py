"""Kill -9 at random points: nothing a reader sees breaks, and a rerun recovers exactly.

``test_killed_builds_never_reach_readers`` builds a small warehouse
with ``dbt build`` as a subprocess, publishes it, then SIGKILLs further
builds of the same working file at ``KILL_POINTS`` seeded random moments (one
in each equal slice of the build: parse, models, tests). Reader processes
read the published file the whole time (src/clv/readers.py). After each
kill:

* the published file is byte-identical and readable;
* ``publish`` refuses the half-written working file (or, when the kill came
  before dbt wrote anything, publishes content identical to the reference);
* the working file opens read-write (DuckDB replays or discards its WAL);
* a rerun of the seeds and models (``dbt build --resource-type seed
  --resource-type model``; tests do not change the marts) restores marts
  whose content hash equals the uninterrupted build's.

A last full ``dbt build`` and ``publish`` end the story with a published
content hash equal to the reference, and no read failed or mixed two publications.

``test_killed_publications_never_reach_readers`` SIGKILLs ``publish`` itself
at ``PUBLICATION_KILLS`` seeded random moments while readers read: the
published file is always one whole publication.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from clv.paths import PROJECT_DIR
from clv.publish import PublishRefused, publish, read_publication_log
from clv.readers import start_readers
from clv.simulate import generate
from tests.support.dbt import dbt_command, process_env, run_dbt_process, warehouse_env
from tests.support.publishing import copy_working, passing_checks, publish_from, sha256_of
from tests.support.warehouse import assert_same_marts, database_schema_hash

pytestmark = pytest.mark.fault

#: The reliability figures (issue #17): kill points in a build and in a publication.
KILL_POINTS = 10
PUBLICATION_KILLS = 10
KILL_SEED = 20240607
#: Kill points run again, earlier, when the build finished before them.
RETRIES = 4
#: Reader processes on the published file while builds and publications are killed.
READERS = 2


def start_dbt(args: list[str], raw_dir: Path, workdir: Path) -> subprocess.Popen:
    """Start ``dbt <args>`` on ``workdir/clv.duckdb`` as its own process group."""
    env = process_env(warehouse_env(raw_dir, workdir / "clv.duckdb"))
    log = open(workdir / "dbt-output.log", "a")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        dbt_command(args, workdir / "target"),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def run_dbt_to_the_end(args: list[str], raw_dir: Path, workdir: Path) -> float:
    """Run ``dbt <args>`` to completion (it must pass); return its duration in seconds."""
    began = time.perf_counter()
    run_dbt_process(
        args,
        env=warehouse_env(raw_dir, workdir / "clv.duckdb"),
        target_path=workdir / "target",
        log=workdir / "dbt-output.log",
    )
    return time.perf_counter() - began


def published_is_whole(published: Path) -> int:
    """Open the published file; its marts match its last log row. Returns that row's id."""
    with duckdb.connect(str(published), read_only=True) as connection:
        publication_id, row_counts = connection.execute(
            "select publication_id, row_counts from main.publication_log "
            "order by publication_id desc limit 1"
        ).fetchone()
        for table, rows in json.loads(row_counts).items():
            (counted,) = connection.execute(f'select count(*) from marts."{table}"').fetchone()
            assert counted == rows, f"{table}: {counted} rows, log says {rows}"
    return publication_id


@pytest.fixture
def reader_processes():
    """Starts readers of a published file (``start(published, directory)``); kills leftovers."""
    started = []

    def start(published: Path, directory: Path):
        started.append(start_readers(published, READERS, directory))
        return started[-1]

    yield start
    for readers in started:
        if readers.summary is None:  # the test failed before it stopped them
            readers.kill()


@pytest.fixture(scope="module")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fault_raw")
    generate(
        customers=300,
        start=date(2023, 1, 1),
        end=date(2024, 12, 31),
        seed=7,
        out=out,
        bad_rows=0.005,
    )
    return out


def test_killed_builds_never_reach_readers(small_raw: Path, tmp_path: Path, reader_processes):
    began = time.perf_counter()
    workdir = tmp_path / "working"
    workdir.mkdir()
    database = workdir / "clv.duckdb"
    run_results = workdir / "target" / "run_results.json"
    published = tmp_path / "published" / "clv.duckdb"

    build_seconds = run_dbt_to_the_end(["build"], small_raw, workdir)
    reference = database_schema_hash(database)
    reference_db = tmp_path / "reference.duckdb"
    shutil.copy2(database, reference_db)
    publish(database, published, run_results, small_raw, checks=passing_checks)
    published_sha = sha256_of(published)
    readers = reader_processes(published, tmp_path / "readers")

    rng = random.Random(KILL_SEED)
    # One random moment in each of KILL_POINTS equal slices of the build (parse, models, tests).
    span = (0.9 * build_seconds - 1.0) / KILL_POINTS
    delays = [round(1.0 + span * (i + rng.random()), 1) for i in range(KILL_POINTS)]
    survived, report = 0, []
    # The first build runs cold and on a shared machine later ones can be faster: a
    # build that finishes before its kill point is run again, killed earlier in its
    # slot (at most RETRIES times), so every slot gets a real kill.
    pending, retries = list(delays), 0
    while pending:
        delay = pending.pop(0)
        process = start_dbt(["build"], small_raw, workdir)
        time.sleep(delay)
        finished_first = process.poll() is not None
        if not finished_first:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        wal_left = database.with_name("clv.duckdb.wal").exists()

        # Readers: the published file is untouched and whole.
        assert sha256_of(published) == published_sha
        published_is_whole(published)

        # Publish refuses the interrupted build, unless dbt had not written yet.
        try:
            publish(database, published, run_results, small_raw, checks=passing_checks)
            outcome = "published (no write before the kill)"
            assert_same_marts(reference_db, database, f"kill at {delay} s", reference)
            published_sha = sha256_of(published)
        except PublishRefused as refused:
            outcome = f"refused at gate '{refused.gate}'"
            assert sha256_of(published) == published_sha

        # The working file recovers: it opens read-write (WAL replayed).
        with duckdb.connect(str(database)) as connection:
            connection.execute("select count(*) from information_schema.tables").fetchone()
        assert not database.with_name("clv.duckdb.wal").exists()

        rerun_seconds = run_dbt_to_the_end(
            ["build", "--resource-type", "seed", "--resource-type", "model"], small_raw, workdir
        )
        assert_same_marts(reference_db, database, f"after the kill at {delay} s", reference)
        survived += 0 if finished_first else 1
        report.append(
            f"kill at {delay:5.1f} s: WAL left {wal_left}; {outcome}; "
            f"rerun {rerun_seconds:.0f} s, marts equal to the reference"
            + (" (the build finished first)" if finished_first else "")
        )
        if finished_first and retries < RETRIES:
            pending.insert(0, round(delay * 0.7, 1))
            retries += 1

    final_seconds = run_dbt_to_the_end(["build"], small_raw, workdir)
    final = publish(database, published, run_results, small_raw, checks=passing_checks)
    reads = readers.stop()
    assert_same_marts(reference_db, published, "final publication", reference)
    assert final.publication_id == len(read_publication_log(published)) >= 2
    print(
        f"\nfaults: uninterrupted build {build_seconds:.0f} s; {survived} of {len(delays)} "
        f"kill points survived; final build {final_seconds:.0f} s; {reads['readers']} readers "
        f"made {reads['reads']} reads, {reads['failed']} failed, {len(reads['mixed'])} mixed; "
        f"total {time.perf_counter() - began:.0f} s\n  " + "\n  ".join(report)
    )
    assert survived == len(delays) == KILL_POINTS
    assert reads["failed"] == 0, reads["errors"]
    assert reads["mixed"] == []
    assert min(reads["per_reader"]) >= 1


PUBLISHER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from clv.publish import publish
    from tests.support.publishing import passing_checks

    database, published, run_results, raw_dir = map(Path, sys.argv[1:5])
    publish(database, published, run_results, raw_dir, checks=passing_checks)
    """
)


def test_killed_publications_never_reach_readers(warehouse, tmp_path: Path, reader_processes):
    working = copy_working(warehouse, tmp_path / "working")
    published = tmp_path / "published" / "clv.duckdb"
    publish_from(working, published)
    command = [
        sys.executable,
        "-c",
        PUBLISHER,
        str(working.database),
        str(published),
        str(working.run_results),
        str(working.raw_dir),
    ]
    began = time.perf_counter()
    subprocess.run(command, check=True, cwd=PROJECT_DIR, timeout=300)
    uninterrupted = time.perf_counter() - began
    last_id = published_is_whole(published)
    assert last_id == 2

    readers = reader_processes(published, tmp_path / "readers")
    rng = random.Random(KILL_SEED)
    kills, mid_write, attempt = 0, 0, 0
    # A publication that ends before its kill is published whole and counts as none.
    while kills < PUBLICATION_KILLS and attempt < 2 * PUBLICATION_KILLS:
        attempt += 1
        before = sha256_of(published)
        process = subprocess.Popen(command, cwd=PROJECT_DIR, start_new_session=True)
        # Wait until the copy has begun, then let it run a random part of its course.
        temporary = published.with_name(f".clv.duckdb.tmp-{process.pid}")
        deadline = time.monotonic() + 120
        while not temporary.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.0 if attempt == 1 else rng.uniform(0.0, 0.3))  # the first: at once
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            kills += 1
            mid_write += temporary.exists()
        process.wait(timeout=60)
        publication_id = published_is_whole(published)
        if publication_id == last_id:
            assert sha256_of(published) == before  # killed before the rename
        else:
            assert publication_id == last_id + 1  # the rename happened: a whole new file
        last_id = publication_id
    # The next publication removes what the killed ones left behind.
    publish_from(working, published)
    reads = readers.stop()
    assert not list(published.parent.glob(".clv.duckdb.tmp-*"))
    assert [r["publication_id"] for r in read_publication_log(published)] == list(
        range(1, last_id + 2)
    )
    print(
        f"\npublish kills: {kills} of {attempt} publications killed, {mid_write} of them while "
        f"the temporary copy was being written (uninterrupted publish {uninterrupted:.1f} s); "
        f"{reads['readers']} readers made {reads['reads']} reads, {reads['failed']} failed, "
        f"{len(reads['mixed'])} mixed, publications seen {reads['seen']}"
    )
    assert kills == PUBLICATION_KILLS
    assert mid_write >= 1
    assert reads["failed"] == 0, reads["errors"]
    assert reads["mixed"] == []
