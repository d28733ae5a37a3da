"""Quality gates on every layer: great-expectations suites as code and ``clv validate``.

- :mod:`clv.quality.raw_files`: pre-flight of the raw Parquet files (exists,
  non-empty, readable, the contract's columns and types).
- :mod:`clv.quality.suites`: the thresholds (:class:`QualitySettings`), the
  expectation helpers and the raw suites, built from
  :data:`clv.contract.tables.SPECS`.
- :mod:`clv.quality.warehouse_suites`: the staging, audit and marts suites,
  one portable SQL query and its expectations each, for the models of the
  build's dbt manifest (:mod:`clv.manifest`); the models' invariants are
  their dbt data tests.
- :mod:`clv.quality.warehouses`: where those run: the DuckDB file (read into
  DataFrames) or PostgreSQL (GX's SQL data source, checks in the database).
- :mod:`clv.quality.completeness`: the suite ``raw.completeness``, figures
  across the raw files that give a partial delivery away.
- :mod:`clv.quality.history`: raw row counts of the last passing runs (the
  ratchet, ``--accept-volume-change``).
- :mod:`clv.quality.runner`: the GX context, data sources, validation
  definitions, checkpoints, Data Docs and the report.

Importing this package imports great-expectations (a few seconds), with its
usage analytics switched off first; :mod:`clv.commands.validate` imports it
only when the command runs, so ``clv --help`` stays fast.

Every module of this package that imports great-expectations is imported
here, inside :func:`clv.extras.hidden` ``("pyspark")``: great-expectations
imports pyspark at import time when it is installed (the ``[spark]`` extra),
only to support Spark DataFrames, which clv never hands it. That import costs
about 0.2 s, prints pyspark 4.3's FutureWarning about pandas 3 on every
``clv validate`` and ``clv publish``, and under ``python -c`` (no ``__main__``
file) pyspark takes the process for a doctest run and ends it with
``sys.exit(0)`` ("Skipping doctests: ...") when Spark Connect's dependencies
are missing. Hidden, GX behaves as on the core install, where pyspark is
absent; a later real ``import pyspark`` in the same process (the Spark
target) still works.
"""

from __future__ import annotations

import os

from clv.extras import hidden

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

with hidden("pyspark"):
    # The environment must be set first, and pyspark hidden: these import great-expectations.
    from clv.quality.runner import (
        DEFAULT_DOCS_DIR,
        DEFAULT_HISTORY_PATH,
        LAYERS,
        SuiteResult,
        ValidationReport,
        validate,
    )
    from clv.quality.suites import QualitySettings

__all__ = [
    "DEFAULT_DOCS_DIR",
    "DEFAULT_HISTORY_PATH",
    "LAYERS",
    "QualitySettings",
    "SuiteResult",
    "ValidationReport",
    "validate",
]
