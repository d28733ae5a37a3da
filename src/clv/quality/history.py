"""Row counts of earlier raw validations, for the raw suite's row-count check.

A raw table that suddenly holds half (or twice) as many rows as last time is
the signature of a partial export, a lost partition or a loader that appended
instead of replacing: every row may be valid and the marts still wrong. The
history keeps, per raw dir and table, the row counts of the last
``QualitySettings.row_count_history_runs`` (10) raw validations that passed,
and the raw suite's band is measured against all of them (:func:`row_count_band`):

- the count may not fall more than ``row_count_max_decline`` (15 %) below the
  **largest** count ever recorded since the history began or was last reset
  (kept as ``peak`` beside the runs, so it does not leave with the oldest of
  the 10 runs), so a slow decline cannot ratchet through one small step at a
  time (five runs each 8 % smaller: the third fails, being 15.4 % below the
  first; 1 % a run: the 18th fails, although only 10 runs are kept), and not more than
  ``row_count_band`` (50 %) below the latest;
- and may not grow more than ``row_count_band`` (50 %) above the **latest**.

The history is a small JSON file (by default ``data/quality/raw_row_counts.json``,
next to the Data Docs), keyed by the resolved raw dir so that validating two
data sets does not mix their counts::

    {"/abs/raw/dir": {"shop.orders": {
        "runs": [{"rows": 658, "recorded_at": "2026-11-23T13:00:00+00:00"}, ...],
        "peak": {"rows": 660, "recorded_at": "2026-11-20T13:00:00+00:00"}}}}

The one-entry format of earlier versions (``{"rows": 658, "recorded_at": ...}``)
is read as a history of one run. A table with no recorded count (the first
run, or a new raw dir) has nothing to compare with: the check only asks for at
least one row. Counts are recorded only when the whole raw gate passed, so a
rejected delivery never becomes the baseline.

**Accepting a deliberate change in volume** (a backfill, a deletion): run
``clv validate --layer raw --accept-volume-change shop.orders`` (repeat the
flag for more tables, or pass ``all``). The named tables' row-count check then
only asks for rows, and if every other raw check passes, the history of those
tables is replaced by the current count: a new baseline.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path


def row_count_band(
    runs: list[int], band: float, max_decline: float, peak: int | None = None
) -> tuple[int, int | None, str]:
    """(lowest, highest, why) allowed for a table whose passing runs counted ``runs``.

    ``runs`` is oldest first; ``peak`` is the largest count recorded since the
    history began (it may be older than ``runs``). An empty history allows any
    count of at least one row.
    """
    if not runs:
        return 1, None, "an empty raw table means a failed export (no earlier run to compare with)"
    latest, largest = runs[-1], max(runs + ([peak] if peak is not None else []))
    low = max(
        1,
        math.ceil(largest * (1 - max_decline) - 1e-9),
        math.ceil(latest * (1 - band) - 1e-9),
    )
    high = int(math.floor(latest * (1 + band) + 1e-9))
    why = (
        f"row count not more than {max_decline:.0%} below the largest recorded "
        f"({largest:,} rows) and within ±{band:.0%} of the "
        f"latest ({latest:,} rows): a partial, shrinking or doubled delivery"
    )
    return low, high, why


class RowCountHistory:
    """Read and update the recorded row counts of one raw dir."""

    def __init__(self, path: Path | None, raw_dir: Path, keep: int = 10) -> None:
        self.path = path
        self.key = str(raw_dir.resolve())
        self.keep = max(1, keep)
        self._data: dict[str, dict[str, dict[str, object]]] = {}
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = {}  # an unreadable history is no history: start again
            if isinstance(loaded, dict):
                self._data = {k: v for k, v in loaded.items() if isinstance(v, dict)}

    def _runs(self, table: str) -> list[dict[str, object]]:
        entry = self._data.get(self.key, {}).get(table)
        if not isinstance(entry, dict):
            return []
        if isinstance(entry.get("runs"), list):
            runs = entry["runs"]
        elif "rows" in entry:  # the one-entry format of earlier versions
            runs = [entry]
        else:
            return []
        return [
            run
            for run in runs
            if isinstance(run, dict) and isinstance(run.get("rows"), int) and run["rows"] >= 0
        ]

    def runs(self, table: str) -> list[int]:
        """The row counts recorded for ``table`` (``<source>.<table>``), oldest first."""
        return [int(run["rows"]) for run in self._runs(table)]

    def _peak(self, table: str) -> dict[str, object] | None:
        """The stored peak entry of ``table``, or its largest run (older files have no peak)."""
        entry = self._data.get(self.key, {}).get(table)
        stored = entry.get("peak") if isinstance(entry, dict) else None
        candidates = self._runs(table)
        if isinstance(stored, dict) and isinstance(stored.get("rows"), int):
            candidates = [stored, *candidates]
        return max(candidates, key=lambda run: int(run["rows"]), default=None)

    def peak(self, table: str) -> int | None:
        """The largest row count recorded for ``table`` since its history began or was reset."""
        top = self._peak(table)
        return None if top is None else int(top["rows"])

    def previous(self, table: str) -> int | None:
        """The latest row count recorded for ``table``, or None."""
        runs = self.runs(table)
        return runs[-1] if runs else None

    def record(self, counts: dict[str, int], reset: frozenset[str] = frozenset()) -> None:
        """Append ``counts`` as a passing run and write the file.

        Tables in ``reset`` start a new history with this run (an accepted
        change in volume); each table keeps its last ``keep`` runs.
        """
        if self.path is None:
            return
        now = datetime.now(UTC).isoformat(timespec="seconds")
        tables = self._data.setdefault(self.key, {})
        for table, rows in counts.items():
            kept = [] if table in reset else self._runs(table)
            top = None if table in reset else self._peak(table)
            run = {"rows": int(rows), "recorded_at": now}
            if top is None or int(rows) > int(top["rows"]):
                top = run
            tables[table] = {"runs": [*kept, run][-self.keep :], "peak": top}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self._data, indent=2, sort_keys=True) + "\n")
