"""``clv calc``: the discounted CLV "what-if" calculator, year by year.

Reproduces the interactive illustration on the command line; the formula is
:func:`clv.formulas.discounted_clv` (see docs/formulas.md).
"""

from __future__ import annotations

import argparse
import json

from clv.errors import UserError
from clv.formulas import DiscountedClv, InvalidParameterError, discounted_clv

#: Longest horizon the table accepts: beyond a century r^t is noise.
MAX_YEARS = 100

EPILOG = """\
formula:
  CLV = sum over t=1..N of (p*s*m - c) * r^t / (1+d)^t  -  c / a
  (the acquisition cost c / a is what the marketing spend costs per customer won)

rates are fractions: --gross-margin 0.41 means 41 %.

examples (the illustration's small and large firms):
  clv calc --purchases-per-year 10 --spend-per-purchase 200 --gross-margin 0.41 \\
           --marketing-cost 20 --acquisition-rate 0.02 --retention-rate 0.8
  -> CLV 699.28
  clv calc --purchases-per-year 3 --spend-per-purchase 400 --gross-margin 0.5 \\
           --marketing-cost 20 --acquisition-rate 0.04 --retention-rate 0.8 --json
  -> "clv": 731.976...
"""

#: (flag, type, help) for the required inputs, in the formula's order.
REQUIRED = (
    ("--purchases-per-year", float, "p: purchases an active customer makes a year"),
    ("--spend-per-purchase", float, "s: money spent a purchase"),
    ("--gross-margin", float, "m: gross margin as a fraction of spend, 0 to 1"),
    ("--marketing-cost", float, "c: marketing cost per customer a year (money)"),
    (
        "--acquisition-rate",
        float,
        "a: share of prospects the marketing turns into customers, more than 0 and at most 1",
    ),
    ("--retention-rate", float, "r: share of customers kept from one year to the next, 0 to 1"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calc",
        help="Discounted CLV calculator: year-by-year table and final CLV.",
        description=(
            "Customer lifetime value over a finite horizon with retention, discounting\n"
            "and acquisition cost, year by year. All inputs are required except\n"
            "--discount-rate (default 0.10) and --years (default 5)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inputs = parser.add_argument_group("inputs")
    for flag, kind, text in REQUIRED:
        inputs.add_argument(flag, type=kind, required=True, metavar="X", help=text)
    inputs.add_argument(
        "--discount-rate",
        type=float,
        default=0.10,
        metavar="X",
        help="d: annual discount rate, 0 or more (default: 0.10)",
    )
    inputs.add_argument(
        "--years",
        type=int,
        default=5,
        metavar="N",
        help=f"N: horizon in whole years, 1 to {MAX_YEARS} (default: 5)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON: top-level clv, the inputs and one row a year",
    )
    parser.set_defaults(func=run)


def _flag(parameter: str) -> str:
    return "--" + parameter.replace("_", "-")


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.years <= MAX_YEARS:
        raise UserError(f"--years must be between 1 and {MAX_YEARS}, got {args.years}")
    try:
        result = discounted_clv(
            purchases_per_year=args.purchases_per_year,
            spend_per_purchase=args.spend_per_purchase,
            gross_margin=args.gross_margin,
            marketing_cost=args.marketing_cost,
            acquisition_rate=args.acquisition_rate,
            retention_rate=args.retention_rate,
            discount_rate=args.discount_rate,
            years=args.years,
        )
    except InvalidParameterError as error:
        raise UserError(f"{_flag(error.parameter)} {error.problem}") from error

    if args.json:
        print(json.dumps(_as_json(result), indent=2))
    else:
        print(_as_table(result))
    return 0


def _as_json(result: DiscountedClv) -> dict:
    return {
        "method": "discounted_clv",
        "clv": result.clv,
        "inputs": {
            "purchases_per_year": result.purchases_per_year,
            "spend_per_purchase": result.spend_per_purchase,
            "gross_margin": result.gross_margin,
            "marketing_cost": result.marketing_cost,
            "acquisition_rate": result.acquisition_rate,
            "retention_rate": result.retention_rate,
            "discount_rate": result.discount_rate,
            "years": result.years,
        },
        "annual_margin_per_customer": result.annual_margin_per_customer,
        "acquisition_cost": result.acquisition_cost,
        "years": [
            {
                "year": row.year,
                "survival": row.survival,
                "discount_factor": row.discount_factor,
                "expected_contribution": row.expected_contribution,
                "cumulative_clv": row.cumulative_clv,
            }
            for row in result.rows
        ],
    }


def _as_table(result: DiscountedClv) -> str:
    lines = [
        f"Customer lifetime value over {result.years} years "
        f"(retention {result.retention_rate:g}, discount rate {result.discount_rate:g})",
        f"  margin per active customer a year  p*s*m - c = "
        f"{result.purchases_per_year:g} * {result.spend_per_purchase:,.2f} * "
        f"{result.gross_margin:g} - {result.marketing_cost:,.2f} = "
        f"{result.annual_margin_per_customer:,.2f}",
        f"  acquisition cost per customer      c / a     = "
        f"{result.marketing_cost:,.2f} / {result.acquisition_rate:g} = "
        f"{result.acquisition_cost:,.2f}",
        "",
        f"{'year':>4}  {'survival':>8}  {'discount':>8}  {'expected contribution':>21}  "
        f"{'cumulative CLV':>14}",
    ]
    for row in result.rows:
        lines.append(
            f"{row.year:>4}  {row.survival:>8.4f}  {row.discount_factor:>8.4f}  "
            f"{row.expected_contribution:>21,.2f}  {row.cumulative_clv:>14,.2f}"
        )
    lines += ["", f"CLV: {result.clv:,.2f}"]
    return "\n".join(lines)
