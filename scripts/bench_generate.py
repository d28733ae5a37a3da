"""Benchmark ``clv generate``: wall time, peak RSS and rows per table.

Runs the simulator in this process (so ``getrusage`` sees its peak memory),
prints the figures and writes them to ``benchmarks/results/`` (git-ignored).

    .venv/bin/python scripts/bench_generate.py --customers 1000000
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from clv.paths import PROJECT_DIR
from clv.simulate import generate

RESULTS_DIR = PROJECT_DIR / "benchmarks" / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 12, 31))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bad-rows", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=None, help="output dir (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temp output")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="clv_bench_"))
    began = time.perf_counter()
    manifest = generate(
        customers=args.customers,
        start=args.start,
        end=args.end,
        seed=args.seed,
        out=out,
        bad_rows=args.bad_rows,
        verbose=True,
    )
    seconds = time.perf_counter() - began
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    tables = manifest["tables"]
    rows = {name: t["clean_rows"] + t["defect_rows"] for name, t in tables.items()}
    sizes = {name: (out / t["path"]).stat().st_size for name, t in tables.items()}
    orders = tables["shop.orders"]["clean_rows"]
    result = {
        "benchmark": "generate",
        "measured_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "machine": {
            "python": platform.python_version(),
            "cpus": _cpus(),
            "platform": platform.platform(),
        },
        "arguments": {
            "customers": args.customers,
            "start": args.start.isoformat(),
            "end": args.end.isoformat(),
            "seed": args.seed,
            "bad_rows": args.bad_rows,
        },
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(peak_rss_mib, 1),
        "orders_per_customer": round(orders / args.customers, 3),
        "total_rows": sum(rows.values()),
        "rows": rows,
        "bytes": sizes,
        "total_bytes": sum(sizes.values()),
    }
    print(
        f"time {seconds:.1f} s, peak RSS {peak_rss_mib:,.0f} MiB, {sum(rows.values()):,} rows, "
        f"{sum(sizes.values()) / 2**20:,.0f} MiB on disk, "
        f"{orders / args.customers:.2f} orders/customer"
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"generate_{args.customers}_{stamp}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    if args.out is None and not args.keep:
        shutil.rmtree(out)
    return 0


def _cpus() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    raise SystemExit(main())
