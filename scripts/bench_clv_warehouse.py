"""Benchmark the dbt Python-model step of the probabilistic CLV at warehouse scale.

Generates N simulated customers (clv generate), builds everything the
prediction models read (`dbt seed`, then `dbt run` of their parents), then runs the three dbt
Python models — clv_model_parameters (read both summaries, fit BG/NBD and
Gamma-Gamma twice, write), customer_clv_predictions and clv_backtest_customers
(read, predict, write) — --repeats times, and reports dbt's own execution time
per model and the wall time of the whole step (median). Prints the figures and
writes them to JSON (benchmarks/results/ is git-ignored).

    .venv/bin/python scripts/bench_clv_warehouse.py --customers 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from clv.dbt_runner import run_dbt
from clv.paths import PROJECT_DIR
from clv.simulate import generate
from clv.warehouse import connect_read_only

PYTHON_MODELS = ("clv_model_parameters", "customer_clv_predictions", "clv_backtest_customers")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out",
        type=Path,
        default=PROJECT_DIR / "benchmarks" / "results" / "bench_clv_warehouse.json",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_clv_") as tmp:
        work = Path(tmp)
        env = {"CLV_RAW_DIR": str(work / "raw"), "CLV_DUCKDB_PATH": str(work / "clv.duckdb")}
        began = time.perf_counter()
        generate(
            customers=args.customers,
            start=date(2023, 1, 1),
            end=date(2024, 12, 31),
            seed=args.seed,
            out=work / "raw",
            bad_rows=0.0,
            verbose=False,
        )
        generate_seconds = time.perf_counter() - began
        print(f"generated {args.customers:,} customers in {generate_seconds:.1f} s")

        parents = [f"+{name}" for name in PYTHON_MODELS]
        began = time.perf_counter()
        run_dbt(["seed"], env=env, target_path=work / "target")
        result = run_dbt(
            ["run", "--select", *parents, "--exclude", *PYTHON_MODELS],
            env=env,
            target_path=work / "target",
        )
        if not result.success:
            raise SystemExit("dbt run of the parents failed")
        parents_seconds = time.perf_counter() - began
        print(f"built the parents in {parents_seconds:.1f} s")

        runs = []
        for repeat in range(args.repeats):
            began = time.perf_counter()
            result = run_dbt(
                ["run", "--select", *PYTHON_MODELS], env=env, target_path=work / "target"
            )
            wall = time.perf_counter() - began
            if not result.success:
                raise SystemExit("dbt run of the Python models failed")
            per_model = {r.node.name: r.execution_time for r in result.result}
            runs.append({"wall_seconds": wall, "model_seconds": per_model})
            print(
                f"run {repeat + 1}: {wall:.1f} s wall, models "
                + ", ".join(f"{k} {v:.1f} s" for k, v in per_model.items())
            )

        with connect_read_only(work / "clv.duckdb") as connection:
            rows = {
                name: connection.execute(f"select count(*) from marts.{name}").fetchone()[0]
                for name in PYTHON_MODELS
            }

    model_seconds = {
        name: statistics.median(run["model_seconds"][name] for run in runs)
        for name in PYTHON_MODELS
    }
    step = sum(model_seconds.values())
    report = {
        "benchmark": "clv_python_models",
        "measured_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "customers": args.customers,
        "rows": rows,
        "generate_seconds": round(generate_seconds, 2),
        "parents_seconds": round(parents_seconds, 2),
        "median_model_seconds": {k: round(v, 2) for k, v in model_seconds.items()},
        "median_step_seconds": round(step, 2),
        "median_wall_seconds": round(statistics.median(r["wall_seconds"] for r in runs), 2),
        "runs": runs,
    }
    print(
        f"\n{args.customers:,} customers ({rows['customer_clv_predictions']:,} predicted):"
        f" Python-model step {step:.1f} s (median of {args.repeats}; sum of the three"
        f" models' execution times), dbt wall {report['median_wall_seconds']:.1f} s"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
