"""``clv cdnow``: build the warehouse on the real CDNOW data and show the fits.

Writes CDNOW_sample (shipped by lifetimes) as raw shop tables, runs the same
dbt project into its own DuckDB file with the published calibration and
holdout windows, then prints the fitted parameters next to the published ones
and the holdout backtest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from clv import paths


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cdnow",
        help="Build the warehouse on the real CDNOW data and compare the fits with the papers.",
        description=(
            "Load CDNOW_sample (2,357 customers, 6,919 purchases, 1997-01 to 1998-06) into the "
            "raw shop tables, build the dbt project on it (calibration to 1997-09-30, holdout "
            "to 1998-06-30, weeks) and print the BG/NBD and Gamma-Gamma parameters against "
            "the published estimates, and the backtest."
        ),
    )
    parser.add_argument(
        "--raw-dir",
        type=Path,
        default=paths.PROJECT_DIR / "data" / "cdnow" / "raw",
        help="where to write the raw Parquet files (default: data/cdnow/raw)",
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=paths.PROJECT_DIR / "data" / "cdnow.duckdb",
        help="the DuckDB file to build (default: data/cdnow.duckdb)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clv.cdnow import build_cdnow_warehouse

    raw_dir = args.raw_dir.resolve()
    database = args.database.resolve()
    counts = build_cdnow_warehouse(raw_dir, database, paths.PROJECT_DIR / "target" / "cdnow")
    print(
        f"CDNOW raw tables in {raw_dir}: {counts['shop.customers']:,} customers, "
        f"{counts['shop.orders']:,} orders"
    )
    print_report(database)
    return 0


def print_report(database: Path) -> None:
    """The fitted parameters against the published ones, and the backtest table."""
    from clv.cdnow import PUBLISHED
    from clv.warehouse import connect_read_only

    with connect_read_only(database) as connection:
        parameters = connection.sql(
            "select model, parameter, value, log_likelihood, n_customers"
            " from marts.clv_model_parameters where fit_role = 'backtest'"
            " order by model, parameter"
        ).fetchall()
        backtest = connection.sql(
            "select calibration_frequency, customers, mean_predicted_purchases,"
            " mean_actual_purchases, predicted_purchases, actual_purchases,"
            " mean_absolute_error, share_of_total_error"
            " from marts.clv_backtest order by sort_order"
        ).fetchall()
    print(f"\nWarehouse: {database}")
    print("Fitted on purchases to 1997-09-30 (fit_role = 'backtest'), against the papers:")
    print(f"  {'model':<12} {'param':<6} {'fitted':>10} {'published':>10} {'diff':>8}")
    for model, parameter, value, log_likelihood, n_customers in parameters:
        published = PUBLISHED[(model, parameter)]
        print(
            f"  {model:<12} {parameter:<6} {value:>10.4f} {published:>10.3f}"
            f" {value / published - 1:>+8.2%}"
            f"   (LL {log_likelihood:,.1f}, {n_customers:,} customers)"
        )
    print("\nHoldout backtest, weeks 40-78 (clv_backtest):")
    print(
        f"  {'x':>5} {'customers':>9} {'pred/cust':>9} {'act/cust':>9} {'predicted':>10}"
        f" {'actual':>7} {'MAE':>6} {'err share':>9}"
    )
    for row in backtest:
        label, customers, mean_pred, mean_act, pred, act, mae, share = row
        print(
            f"  {label:>5} {customers:>9,} {mean_pred:>9.3f} {mean_act:>9.3f} {pred:>10.1f}"
            f" {act:>7,} {mae:>6.3f} {share:>9.3f}"
        )
