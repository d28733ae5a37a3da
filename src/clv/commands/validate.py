"""``clv validate``: the great-expectations quality gates of one or every layer.

The raw files are checked as files whatever the target; staging and marts
are read from the DuckDB file (``--target duckdb``, the default) or checked
inside PostgreSQL (``--target postgres``, connection from the ``CLV_PG_*``
variables of the dbt profile).

Prints one line per suite (expectations met, the worst failures with their
observed values, one line each: file, check, observed against allowed), where
the Data Docs are and, when a gate fails, a last line naming the suites that
stopped it. ``--accept-volume-change TABLE`` accepts a deliberate change in a
raw table's row count (:mod:`clv.quality.history`). Exit codes: 0 when every suite
passes, 1 when a gate fails, 2 (through :class:`clv.errors.UserError`) for a
problem the user can fix, such as a missing warehouse file.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from clv import paths

#: Exit code of a failed gate (the data is wrong, not the command).
GATE_FAILED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="Run the great-expectations quality gates on the raw files, staging or marts.",
        description=(
            "Validate the raw Parquet files (before dbt reads them), the staging layer "
            "and its audit, or the marts, with great-expectations suites built from the "
            "raw data contract and from the models of dbt's manifest. Writes Data Docs. "
            "Exits 0 when every suite passes and 1 when a gate fails."
        ),
    )
    parser.add_argument(
        "--layer",
        choices=("raw", "staging", "marts", "all"),
        default="all",
        help="layer to validate (default: all)",
    )
    parser.add_argument(
        "--raw-dir",
        type=Path,
        default=None,
        help="raw Parquet folder (default: $CLV_RAW_DIR or data/raw)",
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=None,
        help="DuckDB warehouse (default: $CLV_DUCKDB_PATH or data/clv.duckdb)",
    )
    parser.add_argument(
        "--target",
        choices=("duckdb", "postgres"),
        default=None,
        help=(
            "where staging and marts live (default: $CLV_TARGET or duckdb); postgres "
            "reads CLV_PG_HOST, CLV_PG_PORT, CLV_PG_USER, CLV_PG_PASSWORD, CLV_PG_DATABASE"
        ),
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help=(
            "manifest.json of the dbt build that wrote the warehouse: the staging models "
            "and marts to check, with their columns and types (default: target/manifest.json)"
        ),
    )
    parser.add_argument(
        "--marts-schema",
        default=None,
        metavar="SCHEMA",
        help=(
            "schema to read the marts from (default: where the manifest says dbt built them: "
            "marts, or on PostgreSQL marts_build until `clv publish --target postgres` renames "
            "it; pass marts there to check the published marts)"
        ),
    )
    parser.add_argument(
        "--docs-dir",
        type=Path,
        default=None,
        help="Data Docs folder (default: data/quality/docs); raw row-count history beside it",
    )
    parser.add_argument(
        "--accept-volume-change",
        action="append",
        default=[],
        metavar="TABLE",
        help=(
            "accept a deliberate change in the row count of raw TABLE (e.g. shop.orders, "
            "or all) after a backfill or deletion: its row-count check only asks for rows, "
            "and a passing raw run records its count as the new baseline (repeatable)"
        ),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # Imported here: great-expectations takes seconds to import, `clv --help` should not.
    from clv.quality import DEFAULT_DOCS_DIR, validate

    layers = ("raw", "staging", "marts") if args.layer == "all" else (args.layer,)
    report = validate(
        layers,
        raw_dir=args.raw_dir or paths.raw_dir(),
        database=args.database or paths.duckdb_path(),
        docs_dir=args.docs_dir or DEFAULT_DOCS_DIR,
        target=args.target or os.environ.get("CLV_TARGET", "duckdb"),
        accept_volume_change=args.accept_volume_change,
        manifest=args.manifest,
        marts_schema=args.marts_schema,
    )
    for line in report.summary_lines():
        print(line)
    if not report.success:
        failed = [suite.name for suite in report.suites if not suite.success]
        print(f"Quality gate failed. Stopped by: {', '.join(failed)}.")
        return GATE_FAILED
    return 0
