"""Benchmark clv.btyd against lifetimes 0.11.3: BG/NBD fit time, agreement, predictions.

For each size, simulates BG/NBD summaries with known parameters
(clv.btyd.simulate_bg_nbd_summary; T uniform over 1..104 weeks at day
resolution, t_x rounded down to whole days), fits them with
clv.btyd.fit_bg_nbd (median of --repeats runs) and with lifetimes'
BetaGeoFitter (same raw arrays; once, or --repeats times when a fit takes under
--lifetimes-repeat-below seconds), compares the two and times the predictions.
Prints a table and writes the figures to JSON (benchmarks/results/ is git-ignored).

    .venv/bin/python scripts/bench_clv.py --customers 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from clv import btyd
from clv.extras import MissingExtra, require
from clv.paths import PROJECT_DIR

TRUE_PARAMETERS = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
NAMES = tuple(TRUE_PARAMETERS)
WEEK_DAYS = 7


def _timed(function: Callable[[], Any], repeats: int) -> tuple[Any, list[float]]:
    """The last result of ``function`` and the seconds of each of ``repeats`` runs."""
    seconds = []
    result = None
    for _ in range(repeats):
        began = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - began)
    return result, seconds


def _lifetimes_fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter

        return BetaGeoFitter().fit(x, t_x, T)


def bench_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure for one number of customers."""
    rng = np.random.default_rng(args.seed)
    ages = rng.integers(WEEK_DAYS, 104 * WEEK_DAYS + 1, size=n) / WEEK_DAYS
    (x, t_x, T), simulate_seconds = _timed(
        lambda: btyd.simulate_bg_nbd_summary(
            n, *TRUE_PARAMETERS.values(), ages, seed=args.seed, time_step=1 / WEEK_DAYS
        ),
        1,
    )
    distinct = np.unique(np.stack([x, t_x, T], axis=1), axis=0).shape[0]
    print(
        f"\n{n:,} customers: simulated in {simulate_seconds[0]:.2f} s;"
        f" {np.mean(x > 0):.1%} repeat buyers, max x {int(x.max())},"
        f" {distinct:,} distinct (x, t_x, T)"
    )

    load = [round(v, 2) for v in os.getloadavg()]
    print(f"  load average (1, 5, 15 min) before fitting: {load}")
    ours, our_seconds = _timed(lambda: btyd.fit_bg_nbd(x, t_x, T), args.repeats)
    ours_median = statistics.median(our_seconds)
    print(f"  clv.btyd fit: {', '.join(f'{s:.2f}' for s in our_seconds)} s")

    result: dict[str, Any] = {
        "customers": n,
        "load_average_before": load,
        "repeat_buyers": int(np.count_nonzero(x > 0)),
        "distinct_summaries": distinct,
        "simulate_seconds": round(simulate_seconds[0], 3),
        "true_parameters": TRUE_PARAMETERS,
        "ours": {
            "fit_seconds_median": round(ours_median, 3),
            "fit_seconds_runs": [round(s, 3) for s in our_seconds],
            "parameters": ours.as_dict(),
            "log_likelihood": ours.log_likelihood,
            "iterations": ours.iterations,
        },
        "lifetimes": None,
    }

    if args.skip_lifetimes or n > args.lifetimes_max_customers:
        print(f"  lifetimes: skipped (--lifetimes-max-customers {args.lifetimes_max_customers:,})")
    else:
        fitter, their_seconds = _timed(lambda: _lifetimes_fit(x, t_x, T), 1)
        if their_seconds[0] < args.lifetimes_repeat_below and args.repeats > 1:
            fitter, more = _timed(lambda: _lifetimes_fit(x, t_x, T), args.repeats - 1)
            their_seconds += more
        their_median = statistics.median(their_seconds)
        print(f"  lifetimes fit: {', '.join(f'{s:.2f}' for s in their_seconds)} s")
        theirs = {name: float(fitter.params_[name]) for name in NAMES}
        # lifetimes reports the mean negative log-likelihood in time scaled by 1/max(T);
        # scaling time by s multiplies each likelihood by s^(-x), hence the Σx·ln(s) term.
        their_own_ll = -fitter._negative_log_likelihood_ * n + float(x.sum()) * math.log(
            fitter._scale
        )
        result["lifetimes"] = {
            "fit_seconds_median": round(their_median, 3),
            "fit_seconds_runs": [round(s, 3) for s in their_seconds],
            "parameters": theirs,
            "log_likelihood_reported": their_own_ll,
            "log_likelihood_by_ours": btyd.bg_nbd_log_likelihood(tuple(theirs.values()), x, t_x, T),
        }
        result["speed_ratio"] = round(their_median / ours_median, 1)
        result["max_relative_parameter_difference"] = max(
            abs(ours.as_dict()[name] - theirs[name]) / abs(theirs[name]) for name in NAMES
        )

    predictions = {
        "probability_alive": lambda: btyd.probability_alive(ours, x, t_x, T),
        "expected_purchases_52": lambda: btyd.expected_purchases(ours, 52, x, t_x, T),
        "discounted_expected_value_12m": lambda: btyd.discounted_expected_value(
            ours, x, t_x, T, 1.0, months=12, annual_discount_rate=0.1, time_unit_days=WEEK_DAYS
        ),
    }
    result["prediction_seconds_median"] = {
        name: round(statistics.median(_timed(call, args.repeats)[1]), 3)
        for name, call in predictions.items()
    }
    if result["lifetimes"] is not None:
        reference = fitter
        reference.params_ = reference.params_.copy()
        for name in NAMES:
            reference.params_[name] = ours.as_dict()[name]
        _, seconds = _timed(
            lambda: (
                reference.conditional_probability_alive(x, t_x, T),
                reference.conditional_expected_number_of_purchases_up_to_time(52, x, t_x, T),
            ),
            1,
        )
        result["lifetimes"]["probability_alive_and_expected_purchases_52_seconds"] = round(
            seconds[0], 3
        )
    return result


def print_table(results: list[dict[str, Any]]) -> None:
    """The figures side by side, one column per size."""
    sizes = [f"{r['customers']:,}" for r in results]
    rows: list[tuple[str, list[str]]] = []

    def figure(label: str, get: Callable[[dict[str, Any]], Any], fmt: str) -> None:
        cells = []
        for r in results:
            try:
                value = get(r)
            except (KeyError, TypeError):
                value = None
            cells.append("skipped" if value is None else format(value, fmt))
        rows.append((label, cells))

    figure("distinct (x, t_x, T)", lambda r: r["distinct_summaries"], ",")
    figure("fit seconds, clv.btyd (median)", lambda r: r["ours"]["fit_seconds_median"], ".2f")
    figure("fit seconds, lifetimes", lambda r: r["lifetimes"]["fit_seconds_median"], ".2f")
    figure("speed ratio (lifetimes / ours)", lambda r: r["speed_ratio"], ".1f")
    figure(
        "max relative parameter difference", lambda r: r["max_relative_parameter_difference"], ".1e"
    )
    figure("log-likelihood, ours", lambda r: r["ours"]["log_likelihood"], ",.2f")
    figure(
        "log-likelihood, lifetimes' own",
        lambda r: r["lifetimes"]["log_likelihood_reported"],
        ",.2f",
    )
    figure(
        "our LL at lifetimes' parameters",
        lambda r: r["lifetimes"]["log_likelihood_by_ours"],
        ",.2f",
    )
    for name, true in TRUE_PARAMETERS.items():
        figure(f"{name} (true {true:g}), ours", lambda r, n=name: r["ours"]["parameters"][n], ".5f")
        figure(f"{name}, lifetimes", lambda r, n=name: r["lifetimes"]["parameters"][n], ".5f")
    for name in ("probability_alive", "expected_purchases_52", "discounted_expected_value_12m"):
        figure(f"{name} seconds", lambda r, n=name: r["prediction_seconds_median"][n], ".3f")
    figure(
        "lifetimes P(alive) + E[52] seconds",
        lambda r: r["lifetimes"]["probability_alive_and_expected_purchases_52_seconds"],
        ".3f",
    )
    width = max(len(label) for label, _ in rows)
    cell = max(12, *(len(c) for _, cells in rows for c in cells), *(len(s) for s in sizes))
    print("\n" + " " * width + "".join(f"  {s:>{cell}}" for s in sizes))
    for label, cells in rows:
        print(f"{label:<{width}}" + "".join(f"  {c:>{cell}}" for c in cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing (median)")
    parser.add_argument(
        "--out", type=Path, default=PROJECT_DIR / "benchmarks" / "results" / "bench_clv.json"
    )
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument(
        "--lifetimes-max-customers",
        type=int,
        default=1_000_000,
        help="skip lifetimes above this many customers",
    )
    parser.add_argument(
        "--lifetimes-repeat-below",
        type=float,
        default=30.0,
        help="repeat lifetimes' fit only when one takes fewer seconds than this",
    )
    args = parser.parse_args()
    if not args.skip_lifetimes:
        try:
            require("dev", "lifetimes", what="the lifetimes comparison (or pass --skip-lifetimes)")
        except MissingExtra as error:
            print(f"bench_clv: error: {error}", file=sys.stderr)
            return 2

    results = [bench_size(n, args) for n in args.customers]
    print_table(results)
    report = {
        "benchmark": "btyd",
        "measured_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "numpy": np.__version__,
            # OpenBLAS threads even tiny operations (L-BFGS-B's): on a loaded machine
            # that costs milliseconds per optimiser step. Recorded, not changed.
            "blas_threads_env": {
                name: os.environ.get(name) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
            },
        },
        "arguments": {
            "customers": args.customers,
            "seed": args.seed,
            "repeats": args.repeats,
            "time_unit": "weeks; T uniform over 1..104 weeks in whole days, t_x in whole days",
        },
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
