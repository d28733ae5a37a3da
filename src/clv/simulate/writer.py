"""The simulator's Parquet files (written as the contract says) and its manifest."""

from __future__ import annotations

import json
from pathlib import Path

from clv.contract.files import ROW_GROUP_SIZE, US, to_arrow, write_table

__all__ = ["ROW_GROUP_SIZE", "US", "to_arrow", "write_manifest", "write_table"]


def write_manifest(manifest: dict, out: Path) -> Path:
    """``_manifest.json`` next to the source folders."""
    path = out / "_manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path
