"""Benchmark the seasonal clock and the rolling-origin backtest at 1,000,000 customers.

Simulates N customers of BG/NBD on a known seasonal clock over four years
(clv.seasonal.simulate_seasonal_purchases; acquisitions spread over the first
three years), in the shape of int_purchase_days_aggregated. Times, as medians
of --repeats runs: the calendar-clock fit (clv.btyd.fit_bg_nbd) and the
seasonal-clock fit (clv.seasonal.fit_seasonal_bg_nbd) at one origin, and the
whole rolling-origin backtest (clv.origins.origin_table: every month end with
12 months before it and 12 after, both clocks, Gamma-Gamma; origins fitted in
one thread per CPU). Prints the
figures and writes them to JSON (benchmarks/results/ is git-ignored).

    .venv/bin/python scripts/bench_clv_seasonal.py --customers 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from clv import btyd, origins, seasonal
from clv.paths import PROJECT_DIR

START, END = date(2022, 1, 1), date(2025, 12, 31)
ORIGIN = date(2024, 12, 31)
PARAMETERS = (0.8, 40.0, 0.6, 2.5)


def _purchase_days(customers: int, seed: int) -> pd.DataFrame:
    week = np.arange(seasonal.BINS)
    shape = 1 + 0.3 * np.cos(2 * np.pi * (week - 50) / 52) + 0.8 * np.isin(week, [46, 47])
    return seasonal.simulate_purchase_days(
        customers,
        PARAMETERS,
        seasonal.SeasonalIndex.normalised(shape),
        START,
        END,
        acquisition_days=3 * 365,
        seed=seed,
    )


def _median_seconds(function, repeats: int) -> tuple[object, float]:
    seconds, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - began)
    return result, statistics.median(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out",
        type=Path,
        default=PROJECT_DIR / "benchmarks" / "results" / "bench_clv_seasonal.json",
    )
    args = parser.parse_args()

    began = time.perf_counter()
    purchase_days = _purchase_days(args.customers, args.seed)
    simulated = time.perf_counter() - began

    end = (ORIGIN - date(1970, 1, 1)).days
    day = (purchase_days["purchase_date"].to_numpy().astype("datetime64[D]")).astype(np.int64)
    customer = purchase_days["customer_id"].to_numpy()
    kept = day <= end
    ids, starts, counts = np.unique(customer[kept], return_index=True, return_counts=True)
    days = day[kept]
    first, last = days[starts], days[starts + counts - 1]
    x = (counts - 1).astype(np.float64)
    repeat = np.ones(len(days), dtype=bool)
    repeat[starts] = False

    calendar_fit, calendar_seconds = _median_seconds(
        lambda: btyd.fit_bg_nbd(x, (last - first) / 7.0, (end - first) / 7.0), args.repeats
    )
    seasonal_fit, seasonal_seconds = _median_seconds(
        lambda: seasonal.fit_seasonal_bg_nbd(first, last, x, days[repeat], end, time_unit_days=7.0),
        args.repeats,
    )
    settings = origins.OriginSettings("week", 7.0, END, 12, 12)
    table, origin_seconds = _median_seconds(
        lambda: origins.origin_table(purchase_days, settings), args.repeats
    )
    frame = table.to_pandas()
    errors = frame.pivot(
        index="calibration_end", columns="clock", values="purchases_relative_error"
    )
    report = {
        "benchmark": "bench_clv_seasonal",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()),
            "python": platform.python_version(),
        },
        "customers": args.customers,
        "purchase_days": len(purchase_days),
        "repeats": args.repeats,
        "simulate_seconds": round(simulated, 2),
        "origin": ORIGIN.isoformat(),
        "calendar_fit_seconds": round(calendar_seconds, 3),
        "seasonal_fit_seconds": round(seasonal_seconds, 3),
        "seasonal_fit_iterations": seasonal_fit.iterations,
        "seasonal_fit_status": seasonal_fit.status,
        "rolling_origin_seconds": round(origin_seconds, 2),
        "rolling_origin_threads": os.cpu_count(),
        "origins": int(frame["calibration_end"].nunique()),
        "largest_abs_error": {
            clock: round(float(errors[clock].abs().max()), 4) for clock in origins.CLOCKS
        },
        "calendar_fit": calendar_fit.as_dict(),
        "seasonal_fit": seasonal_fit.bg_nbd.as_dict(),
    }
    print(
        f"{args.customers:,} customers, {len(purchase_days):,} purchase days"
        f" (simulated in {simulated:.1f} s); medians of {args.repeats} runs:"
    )
    print(f"  calendar-clock fit at {ORIGIN}:   {calendar_seconds:8.2f} s")
    print(
        f"  seasonal-clock fit at {ORIGIN}:   {seasonal_seconds:8.2f} s"
        f" ({seasonal_fit.iterations} iterations, {seasonal_fit.status})"
    )
    print(
        f"  rolling-origin backtest:          {origin_seconds:8.2f} s"
        f" ({report['origins']} origins x 2 clocks, {os.cpu_count()} threads)"
    )
    print(
        "  largest |error| over the origins: "
        + ", ".join(f"{k} {v:.1%}" for k, v in report["largest_abs_error"].items())
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
