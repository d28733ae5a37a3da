"""Where things live, resolved from this file rather than the working directory."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root, which is also the dbt project directory.
PROJECT_DIR = Path(__file__).resolve().parents[2]

#: Default folder for generated raw Parquet files (git-ignored).
DEFAULT_RAW_DIR = PROJECT_DIR / "data" / "raw"

#: Default DuckDB warehouse file (git-ignored).
DEFAULT_DUCKDB_PATH = PROJECT_DIR / "data" / "clv.duckdb"

#: Default dbt artefacts folder (``run_results.json``, ``manifest.json``; git-ignored).
DEFAULT_TARGET_DIR = PROJECT_DIR / "target"

#: Default great-expectations Data Docs folder; the raw row-count history lives beside it.
DEFAULT_DOCS_DIR = PROJECT_DIR / "data" / "quality" / "docs"


def raw_dir() -> Path:
    """The raw-data folder dbt reads: ``$CLV_RAW_DIR`` or ``data/raw``."""
    return Path(os.environ.get("CLV_RAW_DIR", DEFAULT_RAW_DIR)).resolve()


def duckdb_path() -> Path:
    """The DuckDB warehouse file: ``$CLV_DUCKDB_PATH`` or ``data/clv.duckdb``."""
    return Path(os.environ.get("CLV_DUCKDB_PATH", DEFAULT_DUCKDB_PATH)).resolve()
