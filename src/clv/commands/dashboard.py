"""``clv dashboard``: write the customer-equity dashboard, one HTML file that fetches nothing.

Reads the published marts (read-only) and writes the page; see
:mod:`clv.dashboard`. Exit codes: 0 written; 2 no published file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from clv.dashboard import DEFAULT_DASHBOARD_PATH, write_dashboard
from clv.publish import published_path

_DEFAULT_OUT = DEFAULT_DASHBOARD_PATH.relative_to(DEFAULT_DASHBOARD_PATH.parents[2])


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="Write the customer-equity dashboard (one HTML page) from the published marts.",
        description=(
            "Read the published marts and write one HTML page with every chart and the what-if "
            "calculator; plotly.js is inlined, so the page fetches nothing when it is opened: "
            "open it from disk in any browser."
        ),
    )
    parser.add_argument(
        "--database",
        default=None,
        help="published DuckDB file (default: $CLV_PUBLISHED_PATH or data/published/clv.duckdb)",
    )
    parser.add_argument("--out", default=None, help=f"HTML file to write (default: {_DEFAULT_OUT})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    database = published_path() if args.database is None else Path(args.database)
    out = DEFAULT_DASHBOARD_PATH if args.out is None else Path(args.out)
    dashboard = write_dashboard(database, out.resolve())
    print(
        f"Dashboard: {dashboard.path} ({dashboard.size_bytes:,} bytes, {dashboard.charts} charts"
        f", {dashboard.empty} shown as a sentence; {dashboard.elapsed_seconds:.1f} s)"
    )
    print(f"  open it in a browser: file://{dashboard.path}")
    return 0
