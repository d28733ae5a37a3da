"""``clv generate``: write a simulated raw data set as Parquet files."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

from clv.errors import UserError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from error


def register(subparsers: argparse._SubParsersAction) -> None:
    yesterday = date.today() - timedelta(days=1)
    parser = subparsers.add_parser(
        "generate",
        help="Generate a realistic raw data set (Parquet, one file per raw table).",
        description=(
            "Simulate a shop's customers, orders, email channel and loyalty programme and "
            "write one Parquet file per raw table. Deterministic for a given seed. "
            "By default the history covers the two years that end yesterday."
        ),
    )
    parser.add_argument("--customers", type=int, default=5000, help="customers to simulate")
    parser.add_argument(
        "--start", type=_date, default=None, help="first day (default: end - 2 years)"
    )
    parser.add_argument(
        "--years",
        type=int,
        default=None,
        help=(
            "instead of --start: start on the first day of the month this many years"
            " before the end's month (whole years and the end's month to date)"
        ),
    )
    parser.add_argument(
        "--end", type=_date, default=yesterday, help="last day (default: yesterday)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--out", type=Path, default=Path("data/raw"), help="output folder")
    parser.add_argument(
        "--bad-rows",
        type=float,
        default=0.0,
        metavar="RATE",
        help="share of extra defective rows injected into every raw table (0 to 0.5)",
    )
    parser.add_argument(
        "--corrupt-rows",
        type=float,
        default=0.0,
        metavar="RATE",
        help=(
            "share of the rows of every raw table corrupted in place or deleted, so that "
            "rejections cascade to the rows that reference them (0 to 0.2)"
        ),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that `clv --help` stays fast.
    from clv.simulate import generate

    if args.start is not None and args.years is not None:
        raise UserError("give --start or --years, not both")
    if args.years is not None and args.years < 1:
        raise UserError("--years must be at least 1")
    if args.years is not None:
        start = args.end.replace(year=args.end.year - args.years, day=1)
    else:
        start = args.start or args.end - timedelta(days=729)
    if args.customers < 1:
        raise UserError("--customers must be at least 1")
    if start > args.end:
        raise UserError(f"--start {start} is after --end {args.end}")
    if not 0.0 <= args.bad_rows <= 0.5:
        raise UserError("--bad-rows must be between 0 and 0.5")
    if not 0.0 <= args.corrupt_rows <= 0.2:
        raise UserError("--corrupt-rows must be between 0 and 0.2")
    generate(
        customers=args.customers,
        start=start,
        end=args.end,
        seed=args.seed,
        out=args.out,
        bad_rows=args.bad_rows,
        corrupt_rows=args.corrupt_rows,
        verbose=True,
    )
    return 0
