"""``clv publish``: hand the built marts to readers, atomically, once every gate passed.

Exit codes: 0 published; 2 refused (a gate failed or the copy failed: one
line on standard error naming the gate and why, published file unchanged).
See :mod:`clv.publish` for the gates and the guarantees on DuckDB, and
:mod:`clv.publish_postgres` for PostgreSQL (``--target postgres``: the build
schema renamed to ``marts`` in one transaction).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from clv import paths
from clv.errors import UserError
from clv.publish import DEFAULT_RUN_RESULTS, Publication, publish

_DEFAULT_RUN_RESULTS = DEFAULT_RUN_RESULTS.relative_to(paths.PROJECT_DIR)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="Copy the marts of a passed build into the file BI tools read (write-audit-publish).",
        description=(
            "Check that the last `dbt build` passed and wrote the working database, that no mart "
            "holds personal data and that the mart checks pass; then copy schema marts into a new "
            "file and rename it over the published file (readers see the old or the new "
            "publication, never a mix). Refuses with exit code 2 and leaves the published file "
            "unchanged when any gate fails. With --target postgres: the same idea inside the "
            "database (the build schema marts_build is renamed to marts in one transaction)."
        ),
    )
    parser.add_argument(
        "--target",
        choices=("duckdb", "postgres"),
        default=None,
        help=(
            "where the marts are published (default: $CLV_TARGET or duckdb); postgres reads "
            "CLV_PG_HOST, CLV_PG_PORT, CLV_PG_USER, CLV_PG_PASSWORD, CLV_PG_DATABASE"
        ),
    )
    parser.add_argument(
        "--database",
        default=None,
        help="working DuckDB file dbt built (default: $CLV_DUCKDB_PATH or data/clv.duckdb)",
    )
    parser.add_argument(
        "--published",
        default=None,
        help="published DuckDB file (default: $CLV_PUBLISHED_PATH or data/published/clv.duckdb)",
    )
    parser.add_argument(
        "--run-results",
        action="append",
        default=None,
        help=(
            f"run_results.json of the last dbt build (default: {_DEFAULT_RUN_RESULTS}); on "
            "postgres, repeat it for each dbt selection of the build, the last one last"
        ),
    )
    parser.add_argument(
        "--raw-dir",
        default=None,
        help="raw-data folder, for the checks (default: $CLV_RAW_DIR or data/raw)",
    )
    parser.set_defaults(func=run)


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def run(args: argparse.Namespace) -> int:
    target = args.target or os.environ.get("CLV_TARGET", "duckdb")
    run_results = args.run_results or []
    if target == "postgres":
        from clv.publish_postgres import publish_postgres

        if args.database or args.published:
            raise UserError(
                "--database and --published are DuckDB files: not for --target postgres"
            )
        publication = publish_postgres(run_results=[Path(p) for p in run_results] or None)
    elif target == "duckdb":
        if len(run_results) > 1:
            raise UserError("--run-results is given once on DuckDB: one dbt build wrote the file")
        publication = publish(
            working=_path(args.database),
            published=_path(args.published),
            run_results=_path(run_results[0] if run_results else None),
            raw_dir=_path(args.raw_dir),
        )
    else:
        raise UserError(f"unknown target {target!r}: expected duckdb or postgres")
    print(format_publication(publication))
    return 0


def format_publication(publication: Publication) -> str:
    """What ``clv publish`` prints after a publication."""
    lines = [
        f"Published {publication.published}",
        f"  publication {publication.publication_id}"
        f" at {publication.published_at:%Y-%m-%d %H:%M:%S} UTC,"
        f" as of {publication.as_of_date}, commit {publication.git_commit}",
        f"  gates passed: {publication.checks_passed}",
        f"  content hash: {publication.content_hash}",
        f"  done in {publication.elapsed_seconds:.1f} s; rows per table:",
    ]
    width = max(len(name) for name in publication.row_counts)
    lines += [f"    {name:<{width}}  {rows:>10,}" for name, rows in publication.row_counts.items()]
    return "\n".join(lines)
