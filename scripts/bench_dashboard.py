"""Benchmark the dashboard: `clv dashboard`'s time, the page's size, and its load in chromium.

Writes the page from a published file (default: the demo's,
data/published/clv.duckdb), then opens it --runs times in Debian's chromium
(clv.dashboard.browser: file://, every other request blocked) and prints the
time from navigation start to the last chart drawn (window.dashboard.readyAt)
and the wall time of the whole load. --screenshot also writes a PNG of the
1366x900 view (the README's docs/img/dashboard.png). The figures are also
written as JSON to --results (default data/bench/dashboard.json).

    .venv/bin/python scripts/bench_dashboard.py
    .venv/bin/python scripts/bench_dashboard.py --database /tmp/big/published.duckdb --runs 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from clv.dashboard import DEFAULT_DASHBOARD_PATH, write_dashboard
from clv.dashboard import browser as dashboard_browser
from clv.publish import published_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=None, help="published DuckDB file")
    parser.add_argument("--out", type=Path, default=DEFAULT_DASHBOARD_PATH, help="HTML to write")
    parser.add_argument("--runs", type=int, default=3, help="page loads to time (median)")
    parser.add_argument("--screenshot", type=Path, default=None, help="write a 1366x900 PNG here")
    parser.add_argument(
        "--results", type=Path, default=Path("data/bench/dashboard.json"), help="JSON figures"
    )
    args = parser.parse_args()

    database = args.database or published_path()
    written = [write_dashboard(database, args.out) for _ in range(args.runs)]
    dashboard = written[-1]
    results: dict = {
        "database": str(database),
        "runs": args.runs,
        "page_bytes": dashboard.size_bytes,
        "dashboard_seconds_median": statistics.median(w.elapsed_seconds for w in written),
        "charts": dashboard.charts,
        "charts_as_sentence": dashboard.empty,
        "load_ms_median": {},
    }
    print(f"published file      {database} ({database.stat().st_size:,} bytes)")
    print(f"page                {dashboard.path}")
    print(f"page size           {dashboard.size_bytes:,} bytes")
    print(
        f"clv dashboard       median {statistics.median(w.elapsed_seconds for w in written):.2f} s"
        f" over {args.runs} runs (in-process: read the marts, build, write)"
    )
    print(f"charts              {dashboard.charts} drawn, {dashboard.empty} as a sentence")
    with dashboard_browser.browser() as instance:
        for name, viewport in (
            ("1366x900", dashboard_browser.DESKTOP),
            ("390x844", dashboard_browser.PHONE),
        ):
            loads = [
                dashboard_browser.load_time_ms(instance, dashboard.path, viewport)
                for _ in range(args.runs)
            ]
            ready = statistics.median(load[0] for load in loads)
            wall = statistics.median(load[1] for load in loads)
            results["load_ms_median"][name] = {"last_chart_drawn": ready, "wall": wall}
            print(
                f"load {name:<9}      last chart drawn {ready:,.0f} ms after navigation start"
                f" (median of {args.runs}; wall {wall:,.0f} ms with the browser context)"
            )
    if args.screenshot is not None:
        started = time.perf_counter()
        dashboard_browser.screenshot(dashboard.path, args.screenshot)
        print(
            f"screenshot          {args.screenshot} ({args.screenshot.stat().st_size:,} bytes,"
            f" {time.perf_counter() - started:.1f} s)"
        )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results             {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
