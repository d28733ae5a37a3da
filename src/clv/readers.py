"""BI readers of a published DuckDB file, as processes: the concurrency tests and ``make bench``.

A *read* opens the published file read-only, takes the newest row of
``main.publication_log``, counts every table in ``marts`` and closes the file.
It is *mixed* when a table's count differs from the count that log row
recorded for it: the reader would then see tables of two publications. It
*fails* when anything raises (the file missing, locked, half-written).

Each reader process runs until a stop file exists (or ``MAX_SECONDS``), waits
``pause`` seconds between reads (none in the tests: as many reads as it can), writes
how many reads it has made to its progress file every ``PROGRESS_EVERY`` reads
(so a test can wait for a number of reads) and prints a JSON summary at the end.
:func:`start_readers` starts them; used as a context manager, they are stopped
on the way out (killed, when the test failed).

    python -m clv.readers PUBLISHED STOP_FILE PROGRESS_FILE [PAUSE_SECONDS]

Used by tests/test_publish.py, tests/test_faults.py and src/clv/bench.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: A reader stops on its own after this long, whatever the test does.
MAX_SECONDS = 900
PROGRESS_EVERY = 10


def read_once(published: str) -> tuple[int, bool]:
    """One read: (the publication id seen, whether every mart matched its log row)."""
    import duckdb

    connection = duckdb.connect(published, read_only=True)
    try:
        publication_id, row_counts = connection.execute(
            "select publication_id, row_counts from main.publication_log "
            "order by publication_id desc limit 1"
        ).fetchone()
        tables = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        counted = {
            name: connection.execute(f'select count(*) from marts."{name}"').fetchone()[0]
            for name in tables
        }
    finally:
        connection.close()
    return publication_id, counted == json.loads(row_counts)


def _write_progress(progress: Path, reads: int) -> None:
    partial = progress.with_name(progress.name + ".part")
    partial.write_text(str(reads))
    os.replace(partial, progress)


def reader_main(published: str, stop_file: str, progress_file: str, pause: float = 0.0) -> dict:
    """Read until ``stop_file`` exists; the last read starts after it appeared."""
    progress = Path(progress_file)
    reads, errors, mixed, seen = 0, [], [], set()
    deadline = time.monotonic() + MAX_SECONDS
    while time.monotonic() < deadline:
        stopping = os.path.exists(stop_file)
        try:
            publication_id, whole = read_once(published)
            seen.add(publication_id)
            if not whole:
                mixed.append(publication_id)
        except Exception as error:  # noqa: BLE001 - every failure is counted and reported
            errors.append(repr(error))
        reads += 1
        if reads % PROGRESS_EVERY == 0:
            _write_progress(progress, reads)
        if stopping:
            break
        time.sleep(pause)
    _write_progress(progress, reads)
    return {
        "reads": reads,
        "failed": len(errors),
        "errors": errors[:10],
        "mixed": mixed,
        "seen": sorted(seen),
    }


@dataclass
class Readers:
    """Reader processes started by :func:`start_readers`."""

    processes: list[subprocess.Popen]
    progress: list[Path]
    stop_file: Path
    #: What :meth:`stop` returned, once the readers have stopped.
    summary: dict | None = None

    def __enter__(self) -> Readers:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        """Stop the readers; after a failure, kill them rather than wait for their summary."""
        if error is not None:
            self.kill()
        elif self.summary is None:
            self.stop()

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.communicate()

    def all_alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def reads_so_far(self) -> int:
        return sum(int(path.read_text() or 0) for path in self.progress if path.exists())

    def stop(self, timeout: float = 120) -> dict:
        """Stop every reader; their summed summary (reads, failed, mixed, seen, per_reader)."""
        self.stop_file.touch()
        summaries = []
        for process in self.processes:
            out, err = process.communicate(timeout=timeout)
            if process.returncode != 0:
                raise AssertionError(f"a reader process failed ({process.returncode}): {err}")
            summaries.append(json.loads(out.strip().splitlines()[-1]))
        self.summary = {
            "readers": len(summaries),
            "reads": sum(s["reads"] for s in summaries),
            "failed": sum(s["failed"] for s in summaries),
            "errors": [e for s in summaries for e in s["errors"]][:10],
            "mixed": [m for s in summaries for m in s["mixed"]],
            "seen": sorted({p for s in summaries for p in s["seen"]}),
            "per_reader": [s["reads"] for s in summaries],
        }
        return self.summary


def start_readers(published: Path, count: int, directory: Path, pause: float = 0.0) -> Readers:
    """Start ``count`` reader processes on ``published``; files go to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    stop_file = directory / "stop"
    stop_file.unlink(missing_ok=True)
    progress = [directory / f"reads-{index}" for index in range(count)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clv.readers",
                str(published),
                str(stop_file),
                str(p),
                str(pause),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in progress
    ]
    return Readers(processes, progress, stop_file)


def wait_for_reads(readers: Readers, reads: int, timeout: float) -> None:
    """Wait until the readers have made ``reads`` reads in all (or ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while readers.reads_so_far() < reads and readers.all_alive() and time.monotonic() < deadline:
        time.sleep(0.05)


if __name__ == "__main__":
    published, stop_file, progress_file, *pause = sys.argv[1:]
    print(json.dumps(reader_main(published, stop_file, progress_file, *map(float, pause))))
