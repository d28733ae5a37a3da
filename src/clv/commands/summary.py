"""``clv summary``: where the warehouse is and a few headline figures from it."""

from __future__ import annotations

import argparse
from pathlib import Path

from clv import paths
from clv.errors import UserError
from clv.publish import published_path, read_publication_log
from clv.warehouse import backtest_by_origin, connect_read_only, headline_figures


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "summary",
        help="Print where the DuckDB warehouse is and headline figures from it.",
    )
    parser.add_argument(
        "--database",
        default=None,
        help="DuckDB file (default: $CLV_DUCKDB_PATH or data/clv.duckdb)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    database = paths.duckdb_path() if args.database is None else Path(args.database)
    if not database.exists():
        raise UserError(f"no warehouse at {database}: run `make demo` (or `dbt build`) first")
    with connect_read_only(database) as connection:
        figures = headline_figures(connection)
        origins = backtest_by_origin(connection)
    print(f"Warehouse: {database}")
    for label, value in figures:
        print(f"  {label:<44} {value}")
    if origins:
        print(
            "Rolling-origin backtest (marts.clv_backtest_by_origin): holdout purchases,"
            " predicted vs actual, per calibration end"
        )
        for line in origins:
            print(f"  {line}")
    published = published_path()
    if published.exists():
        last = read_publication_log(published)[-1]
        print(
            f"Published for BI tools: {published} (publication {last['publication_id']},"
            f" as of {last['as_of_date']}, {last['checks_passed']})"
        )
        print("Connect BI tools to that file, read-only (never to the working file), e.g.:")
        target, query = published, "select * from main.publication_log"
    else:
        print("Not published yet (`make publish`); the working file, read-only, e.g.:")
        target, query = database, "select * from audit.rejection_summary"
    print(
        f"  .venv/bin/python -c \"import duckdb; duckdb.connect('{target}', read_only=True)"
        f".sql('{query}').show()\""
    )
    return 0
