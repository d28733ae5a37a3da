"""``clv publish``: hand the built marts to readers, atomically, once every gate passed.

Exit codes: 0 published; 2 refused (a gate failed or the copy failed: one
line on standard error naming the gate and why, published file unchanged).
See :mod:`clv.publish` for the gates and the guarantees.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from clv import paths
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
            "unchanged when any gate fails."
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
        default=None,
        help=f"run_results.json of the last dbt build (default: {_DEFAULT_RUN_RESULTS})",
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
    publication = publish(
        working=_path(args.database),
        published=_path(args.published),
        run_results=_path(args.run_results),
        raw_dir=_path(args.raw_dir),
    )
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
