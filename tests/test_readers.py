"""The BI reader of the concurrency figures (``clv.readers``) tells a whole read from a bad one.

test_publish.py and test_faults.py count failed and mixed reads with it, and
``make bench`` during an L-scale build: here each kind of read is made on a
hand-made published file, so a reader that could not see a mixed or failed
read would fail these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from clv.readers import read_once, reader_main, start_readers, wait_for_reads

pytestmark = pytest.mark.unit


def write_published(path: Path, publication_id: int, rows: dict[str, int], logged: dict) -> Path:
    """A file shaped like a publication: marts with ``rows`` rows, a log row claiming ``logged``."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        for table, count in rows.items():
            connection.execute(
                f"create table marts.{table} as select range as id from range({count})"
            )
        connection.execute(
            "create table main.publication_log (publication_id integer, row_counts varchar)"
        )
        connection.execute(
            "insert into main.publication_log values (?, ?)", [publication_id, json.dumps(logged)]
        )
    return path


def test_a_read_of_one_whole_publication_is_whole(tmp_path):
    published = write_published(tmp_path / "p.duckdb", 3, {"a": 5, "b": 2}, {"a": 5, "b": 2})
    assert read_once(str(published)) == (3, True)


def test_a_table_counted_unlike_its_log_row_is_a_mixed_read(tmp_path):
    published = write_published(tmp_path / "p.duckdb", 4, {"a": 5, "b": 2}, {"a": 5, "b": 3})
    assert read_once(str(published)) == (4, False)


def test_a_table_the_log_does_not_name_is_a_mixed_read(tmp_path):
    published = write_published(tmp_path / "p.duckdb", 4, {"a": 5, "b": 2}, {"a": 5})
    assert read_once(str(published)) == (4, False)


def test_the_reader_counts_failed_and_mixed_reads_and_stops_on_its_file(tmp_path):
    stop = tmp_path / "stop"
    stop.touch()  # one read, then it stops
    mixed = write_published(tmp_path / "mixed.duckdb", 7, {"a": 1}, {"a": 2})
    summary = reader_main(str(mixed), str(stop), str(tmp_path / "progress"))
    assert summary == {"reads": 1, "failed": 0, "errors": [], "mixed": [7], "seen": [7]}
    assert (tmp_path / "progress").read_text() == "1"

    missing = reader_main(str(tmp_path / "absent.duckdb"), str(stop), str(tmp_path / "progress"))
    assert (missing["reads"], missing["failed"], missing["mixed"]) == (1, 1, [])


def test_reader_processes_report_their_reads_when_stopped(tmp_path):
    published = write_published(tmp_path / "p.duckdb", 1, {"a": 3}, {"a": 3})
    with start_readers(published, 2, tmp_path / "readers") as readers:
        wait_for_reads(readers, 20, timeout=60)
        summary = readers.stop()
    assert summary["readers"] == 2
    assert summary["reads"] >= 20
    assert (summary["failed"], summary["mixed"], summary["seen"]) == (0, [], [1])
