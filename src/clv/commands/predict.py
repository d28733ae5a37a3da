"""``clv predict``: fit and score the probabilistic CLV models on PostgreSQL and Spark.

Runs between two dbt selections on a target without dbt Python models
(README, "Probabilistic CLV"): reads the SQL inputs the dbt Python models
read on DuckDB, fits BG/NBD and Gamma-Gamma, scores, backtests, and writes
the four tables into the schema ``predictions`` (the dbt source of the same
name). The logic is :mod:`clv.predict_step`. The connection comes
from the dbt profile's settings: the ``CLV_PG_*`` variables (as ``clv
validate --target postgres``), or on Spark a local session on
``CLV_SPARK_DIR``.
"""

from __future__ import annotations

import argparse
import os


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="Fit and score the probabilistic CLV on PostgreSQL or Spark (between dbt runs).",
        description=(
            "Read the prediction inputs (schema intermediate) from the warehouse, fit "
            "BG/NBD and Gamma-Gamma, score and backtest, and write the tables of the dbt "
            "source `predictions` back with the engine's bulk path. On DuckDB `dbt build` "
            "does this itself."
        ),
    )
    parser.add_argument(
        "--target",
        choices=("postgres", "spark"),
        default=None,
        help=(
            "where the warehouse lives (default: $CLV_TARGET); postgres reads CLV_PG_HOST, "
            "CLV_PG_PORT, CLV_PG_USER, CLV_PG_PASSWORD, CLV_PG_DATABASE; spark a local session"
            " on CLV_SPARK_DIR, as the dbt profile (run it after dbt exits: one Derby process)"
        ),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: the numerics take a moment to import, `clv --help` should not.
    from clv import predict_step

    target = args.target or os.environ.get("CLV_TARGET", "duckdb")
    result = predict_step.run(predict_step.warehouse_for(target))
    print(f"Wrote to {result.warehouse}, schema {predict_step.OUTPUT_SCHEMA}:")
    for name, rows in result.rows.items():
        print(f"  {name:<28} {rows:>8} rows")
    return 0
