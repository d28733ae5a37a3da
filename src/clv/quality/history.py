"""Row counts of earlier raw validations, for the raw suite's row-count-change check.

A raw table that suddenly holds half (or twice) as many rows as last time is
the signature of a partial export, a lost partition or a loader that appended
instead of replacing: every row may be valid and the marts still wrong. The
raw suite compares each table's row count with the count recorded by the last
raw validation that passed, within a band (``QualitySettings.row_count_band``,
default ±50 %).

The history is a small JSON file (by default ``data/quality/raw_row_counts.json``,
next to the Data Docs), keyed by the resolved raw dir so that validating two
data sets does not mix their counts::

    {"/abs/raw/dir": {"shop.orders": {"rows": 658, "recorded_at": "2026-11-23T13:00:00+00:00"}}}

A table with no recorded count (the first run, or a new raw dir) has nothing
to compare with: the check only asks for at least one row and passes. Counts
are recorded only when the whole raw gate passed, so a rejected delivery never
becomes the baseline; delete the file (or one entry) to accept a deliberate
change in volume, such as a backfill.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path


class RowCountHistory:
    """Read and update the recorded row counts of one raw dir."""

    def __init__(self, path: Path | None, raw_dir: Path) -> None:
        self.path = path
        self.key = str(raw_dir.resolve())
        self._data: dict[str, dict[str, dict[str, object]]] = {}
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = {}  # an unreadable history is no history: start again
            if isinstance(loaded, dict):
                self._data = loaded

    def previous(self, table: str) -> int | None:
        """The row count recorded for ``table`` (``<source>.<table>``), or None."""
        entry = self._data.get(self.key, {}).get(table)
        if isinstance(entry, dict) and isinstance(entry.get("rows"), int):
            return int(entry["rows"])
        return None

    def record(self, counts: dict[str, int]) -> None:
        """Store ``counts`` as this raw dir's baseline and write the file."""
        if self.path is None:
            return
        now = datetime.now(UTC).isoformat(timespec="seconds")
        tables = self._data.setdefault(self.key, {})
        for table, rows in counts.items():
            tables[table] = {"rows": int(rows), "recorded_at": now}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self._data, indent=2, sort_keys=True) + "\n")
