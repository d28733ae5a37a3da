"""Write-audit-publish (``clv publish``): what is published, what is refused, who waits.

Every test works on copies of the session warehouse (its DuckDB file and its
``run_results.json``), copied with their modification times so the
``dbt build`` gate sees the file as written by that build. The mart checks of
``clv.quality`` are replaced by stubs; the gate's own behaviour without
``clv.quality`` is tested too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from clv import publish as publish_module
from clv.commands import publish as publish_command
from clv.publish import PublishRefused, git_commit, publish, read_publication_log
from clv.readers import start_readers, wait_for_reads
from clv.warehouse import connect_read_only
from tests.support.publishing import (
    Working,
    copy_working,
    failing_checks,
    passing_checks,
    publish_from,
    restamp_run_results,
    sha256_of,
)
from tests.support.warehouse import database_schema_hash


def mart_row_counts(database: Path) -> dict[str, int]:
    with connect_read_only(database) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {
            table: connection.execute(f'select count(*) from marts."{table}"').fetchone()[0]
            for table in tables
        }


@pytest.fixture
def working(warehouse, tmp_path: Path) -> Working:
    return copy_working(warehouse, tmp_path / "working")


@pytest.mark.integration
def test_publish_copies_every_mart_and_logs_the_publication(working, tmp_path):
    published = tmp_path / "published" / "clv.duckdb"
    first = publish_from(working, published)

    assert published.is_file()
    assert not list(published.parent.glob(".clv.duckdb.tmp-*"))
    working_counts = mart_row_counts(working.database)
    assert len(working_counts) >= 10
    assert mart_row_counts(published) == working_counts
    assert first.row_counts == working_counts
    working_hash = database_schema_hash(working.database)
    published_hash = database_schema_hash(published)
    assert published_hash.tables == working_hash.tables
    assert first.content_hash == working_hash.combined

    with connect_read_only(working.database) as connection:
        (as_of_date,) = connection.execute(
            "select as_of_date from intermediate.reporting_period"
        ).fetchone()
        working_types = connection.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' order by all"
        ).fetchall()
    with connect_read_only(published) as connection:
        published_types = connection.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' order by all"
        ).fetchall()
    assert published_types == working_types

    (row,) = read_publication_log(published)
    assert row["publication_id"] == 1
    assert row["as_of_date"] == as_of_date
    assert row["git_commit"] == git_commit()
    assert row["git_commit"] != "unknown"
    assert json.loads(row["row_counts"]) == working_counts
    assert row["content_hash"] == working_hash.combined
    assert "dbt build" in row["checks_passed"] and "stub checks" in row["checks_passed"]
    assert abs((datetime.now(UTC).replace(tzinfo=None) - row["published_at"]).total_seconds()) < 600

    second = publish_from(working, published)
    log = read_publication_log(published)
    assert [r["publication_id"] for r in log] == [1, 2]
    assert log[0] == row  # earlier rows are carried over unchanged
    assert second.publication_id == 2 and second.content_hash == first.content_hash


@pytest.mark.integration
def test_publish_carries_the_snapshots_for_as_reported_queries(working, tmp_path):
    """Schema snapshots is copied whole, so BI can read a month as reported and as restated."""
    published = tmp_path / "published" / "clv.duckdb"
    publish_from(working, published)
    query = "select * from snapshots.customer_equity_monthly_snapshot order by month, valid_from"
    current = (
        "select * exclude (valid_from, valid_to, dbt_scd_id, dbt_updated_at) "
        "from snapshots.customer_equity_monthly_snapshot where valid_to is null order by month"
    )
    with connect_read_only(working.database) as connection:
        working_rows = connection.execute(query).fetchall()
    with connect_read_only(published) as connection:
        assert connection.execute(query).fetchall() == working_rows
        as_restated_now = connection.execute(current).fetchall()
        mart = connection.execute(
            "select * from marts.customer_equity_monthly order by month"
        ).fetchall()
    assert working_rows and as_restated_now == mart


@pytest.mark.integration
def test_cli_prints_the_publication(working, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(publish_module, "default_checks", passing_checks)
    parser = argparse.ArgumentParser(prog="clv")
    publish_command.register(parser.add_subparsers(dest="command"))
    published = tmp_path / "out" / "clv.duckdb"
    args = parser.parse_args(
        [
            "publish",
            "--database",
            str(working.database),
            "--published",
            str(published),
            "--run-results",
            str(working.run_results),
            "--raw-dir",
            str(working.raw_dir),
        ]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert f"Published {published}" in out
    assert "publication 1 " in out
    assert "customer_equity_monthly" in out


@pytest.mark.unit
def test_published_path_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CLV_PUBLISHED_PATH", str(tmp_path / "elsewhere.duckdb"))
    assert publish_module.published_path() == tmp_path / "elsewhere.duckdb"


@pytest.mark.integration
def test_missing_quality_package_fails_the_gate(working, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "clv.quality", None)  # makes the import fail
    with pytest.raises(PublishRefused, match="mart checks.*clv.quality cannot be imported"):
        publish(working.database, tmp_path / "p.duckdb", working.run_results, working.raw_dir)
    assert not (tmp_path / "p.duckdb").exists()


def _error_in_run_results(working: Working) -> None:
    document = json.loads(working.run_results.read_text())
    failed = next(r for r in document["results"] if r["unique_id"].startswith("test."))
    failed["status"] = "fail"
    working.run_results.write_text(json.dumps(document))


def _run_not_build(working: Working) -> None:
    document = json.loads(working.run_results.read_text())
    document["args"]["which"] = "run"
    working.run_results.write_text(json.dumps(document))


def _plant_email(working: Working) -> None:
    with duckdb.connect(str(working.database)) as connection:
        connection.execute(
            "update marts.customer_clv set acquisition_channel = 'jane.doe@example.com' "
            "where customer_id = (select min(customer_id) from marts.customer_clv)"
        )
    restamp_run_results(working)


def _plant_personal_column(working: Working) -> None:
    with duckdb.connect(str(working.database)) as connection:
        connection.execute("alter table marts.email_subscribers add column first_name varchar")
    restamp_run_results(working)


def _later_build_killed(working: Working) -> None:
    # A build that started writing after run_results.json and never finished.
    later = time.time() + 3600
    os.utime(working.database, (later, later))


def _results_of_another_build(working: Working) -> None:
    earlier = working.database.stat().st_mtime - 3600 * 24
    os.utime(working.database, (earlier, earlier))


def _pending_wal(working: Working) -> None:
    working.database.with_name("clv.duckdb.wal").write_bytes(b"\0" * 64)


def _snapshot_not_run(working: Working) -> None:
    # e.g. `dbt build --exclude customer_equity_monthly_snapshot`: the history lags the marts.
    document = json.loads(working.run_results.read_text())
    document["results"] = [
        r for r in document["results"] if not r["unique_id"].startswith("snapshot.")
    ]
    working.run_results.write_text(json.dumps(document))


def _model_no_op(working: Working) -> None:
    # dbt lists exposures as `no-op` and the gate lets them through; a model that did not run
    # must not pass.
    document = json.loads(working.run_results.read_text())
    model = next(r for r in document["results"] if r["unique_id"].startswith("model."))
    model["status"] = "no-op"
    working.run_results.write_text(json.dumps(document))


def _missing_run_results(working: Working) -> None:
    working.run_results.unlink()


FAILED_GATES = {
    "checks fail": (None, "mart checks", "expect revenue >= 0 failed"),
    "test failed": (_error_in_run_results, "dbt build", "1 of .* nodes did not pass: test\\."),
    "model no-op": (
        _model_no_op,
        "dbt build",
        "1 of .* nodes did not pass: model\\..* \\(no-op\\)",
    ),
    "dbt run": (_run_not_build, "dbt build", "was `dbt run`, not `dbt build`"),
    "no run_results": (_missing_run_results, "dbt build", "no .*run_results.json"),
    "snapshot not run": (
        _snapshot_not_run,
        "dbt build",
        "snapshots not run by the last `dbt build`: customer_equity_monthly_snapshot",
    ),
    "email value": (_plant_email, "personal data", "customer_clv.acquisition_channel"),
    "personal column": (_plant_personal_column, "personal data", "email_subscribers.first_name"),
    "killed later build": (_later_build_killed, "dbt build", "modified after the last"),
    "other build": (_results_of_another_build, "dbt build", "not about this database"),
    "pending wal": (_pending_wal, "working database", "clv.duckdb.wal exists"),
}


@pytest.mark.integration
@pytest.mark.parametrize("case", list(FAILED_GATES))
def test_failed_gate_leaves_the_published_file_unchanged(warehouse, tmp_path, case):
    published = tmp_path / "published" / "clv.duckdb"
    publish_from(copy_working(warehouse, tmp_path / "good"), published)
    before = sha256_of(published)

    bad = copy_working(warehouse, tmp_path / "bad")
    spoil, gate, reason = FAILED_GATES[case]
    checks = passing_checks
    if spoil is None:
        checks = failing_checks
    else:
        spoil(bad)
    with pytest.raises(PublishRefused) as refused:
        publish_from(bad, published, checks=checks)

    assert refused.value.gate == gate
    assert f"gate '{gate}' failed" in str(refused.value)
    assert refused.value.reason and __import__("re").search(reason, refused.value.reason)
    assert "\n" not in str(refused.value)
    assert sha256_of(published) == before
    assert [r["publication_id"] for r in read_publication_log(published)] == [1]
    assert not list(published.parent.glob(".clv.duckdb.tmp-*"))


@pytest.mark.integration
def test_a_leftover_temporary_file_is_cleaned_up(working, tmp_path):
    published = tmp_path / "clv.duckdb"
    leftover = tmp_path / ".clv.duckdb.tmp-999999"
    leftover.write_bytes(b"half a file from a killed publication")
    publish_from(working, published)
    assert not leftover.exists()


#: The concurrency figures (issue #17): reader processes, their reads in all, publications.
READERS = 4
READS = 1_000
PUBLICATIONS = 12


@pytest.mark.integration
def test_readers_see_whole_publications_and_never_block_publish(warehouse, tmp_path):
    """READERS processes make READS reads while PUBLICATIONS or more publications happen.

    Publications alternate two different builds (the second has fewer rows in two
    marts), so a read that mixed them would count a table differently from the log
    row it read; none may, and none may fail. Publishing goes on past PUBLICATIONS
    until the readers have made READS reads in all.
    """
    full = copy_working(warehouse, tmp_path / "full")
    smaller = copy_working(warehouse, tmp_path / "smaller")
    with duckdb.connect(str(smaller.database)) as connection:
        connection.execute("delete from marts.customer_clv where customer_id % 3 = 0")
        connection.execute("delete from marts.cohort_clv where months_since_acquisition > 6")
    restamp_run_results(smaller)
    published = tmp_path / "published" / "clv.duckdb"
    publish_from(full, published)

    readers = start_readers(published, READERS, tmp_path / "readers")
    publications, publish_seconds = 1, []
    try:
        wait_for_reads(readers, READERS, timeout=60)  # every reader holds the first one open
        deadline = time.monotonic() + 300
        while readers.all_alive() and (
            publications - 1 < PUBLICATIONS
            or (readers.reads_so_far() < READS and time.monotonic() < deadline)
        ):
            source = smaller if publications % 2 == 1 else full
            started = time.perf_counter()
            publish_from(source, published)
            publish_seconds.append(time.perf_counter() - started)
            publications += 1
        wait_for_reads(readers, READS, timeout=60)
    finally:
        summary = readers.stop()
    print(
        f"\nconcurrency: {summary['readers']} reader processes made {summary['reads']} reads "
        f"({summary['per_reader']}) during {publications - 1} publications "
        f"(median {statistics.median(publish_seconds):.2f} s each); {summary['failed']} failed, "
        f"{len(summary['mixed'])} mixed; publications seen: {summary['seen']}"
    )
    assert summary["failed"] == 0, summary["errors"]
    assert summary["mixed"] == []
    assert summary["reads"] >= READS
    assert min(summary["per_reader"]) >= 1
    assert len(summary["seen"]) >= 2
    log = read_publication_log(published)
    assert [r["publication_id"] for r in log] == list(range(1, publications + 1))
    assert len({r["content_hash"] for r in log}) == 2


HOLDER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb

    published, ready_file, go_file = sys.argv[1:4]
    connection = duckdb.connect(published, read_only=True)
    query = "select max(publication_id), count(*) from main.publication_log"
    before = connection.execute(query).fetchone()
    open(ready_file, "w").close()
    deadline = time.monotonic() + 300
    while not os.path.exists(go_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    after = connection.execute(query).fetchone()
    rows = connection.execute("select count(*) from marts.customer_clv").fetchone()[0]
    connection.close()
    print(json.dumps({"before": before, "after": after, "customer_clv_rows": rows}))
    """
)


@pytest.mark.integration
def test_a_reader_holding_the_old_file_keeps_it_and_does_not_block(warehouse, tmp_path):
    full = copy_working(warehouse, tmp_path / "full")
    smaller = copy_working(warehouse, tmp_path / "smaller")
    with duckdb.connect(str(smaller.database)) as connection:
        connection.execute("delete from marts.customer_clv where customer_id % 2 = 0")
    restamp_run_results(smaller)
    published = tmp_path / "published" / "clv.duckdb"
    first = publish_from(full, published)

    ready, go = tmp_path / "ready", tmp_path / "go"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(published), str(ready), str(go)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and holder.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the reader did not open the published file"
        second = publish_from(smaller, published)  # must not wait for the reader
    finally:
        go.touch()
        out, err = holder.communicate(timeout=120)
    assert holder.returncode == 0, err
    seen = json.loads(out)
    # The reader kept the whole first publication; new readers get the second.
    assert seen == {
        "before": [1, 1],
        "after": [1, 1],
        "customer_clv_rows": first.row_counts["customer_clv"],
    }
    assert mart_row_counts(published)["customer_clv"] == second.row_counts["customer_clv"]
    assert second.row_counts["customer_clv"] < first.row_counts["customer_clv"]


@pytest.mark.integration
@pytest.mark.parametrize("case_name", ["order_total_1e300", "ordered_at_2200", "truncated_file"])
def test_a_hostile_raw_file_never_changes_the_published_marts(warehouse, tmp_path, case_name):
    """The default checks (every great-expectations layer) refuse a hostile raw file."""
    from tests.fixtures.hostile import GATE_CASES, write_gate_case

    working = copy_working(warehouse, tmp_path / "working")
    published = tmp_path / "published" / "clv.duckdb"
    publish_from(working, published)
    before = sha256_of(published)
    case = next(case for case in GATE_CASES if case.name == case_name)
    hostile_raw = write_gate_case(warehouse.raw_dir, tmp_path / "hostile_raw", case)
    hostile = Working(working.database, working.run_results, hostile_raw)
    with pytest.raises(PublishRefused) as refused:
        publish(hostile.database, published, hostile.run_results, hostile.raw_dir)
    assert case.path in str(refused.value)
    assert sha256_of(published) == before
