"""Benchmark the warehouse at scale (issue #17, "The benchmark"): `make bench`.

For each scale (S 10,000, M 100,000, L 1,000,000 customers; data generated
once per scale into --cache-dir and reused while its parameters match), on
DuckDB: the full `dbt build` (wall time, peak RSS, the slowest models and
tests of its run_results.json), models only (`dbt run`), tests only (`dbt
test`), `clv validate`, `clv publish`, the daily run (`dbt build` after one
more nightly load) and the floor (the models' compiled SQL in one bare DuckDB
connection) with dbt's models-only time over it. At --engine-scales (M), the
same data is built on PostgreSQL (a throwaway server) and on local Spark, as
`make build-postgres` / `make build-spark` do. Prints the figures, how each
grows from scale to scale, and merges them into --out (only the scales and
engines run are replaced). How each figure is made: src/clv/bench.py.

    .venv/bin/python scripts/bench_scale.py                    # S, M, L (make bench)
    .venv/bin/python scripts/bench_scale.py --scales S --engines duckdb
    .venv/bin/python scripts/bench_scale.py --scale-customers tiny=2000 --scales tiny \\
        --engine-scales tiny --out /tmp/bench.json             # a quick end-to-end check

PostgreSQL's throwaway server and its Parquet loader are the test suite's
(tests/pg_server.py, tests/support/postgres_load.py), imported rather than
copied: this is a developer tool, run from a checkout with the [dev] extra,
like the tests.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clv import bench
from clv.paths import PROJECT_DIR

#: Loads the raw Parquet files into PostgreSQL, as a timed subprocess (argv: project, raw, kwargs).
LOAD_POSTGRES = (
    "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
    "from tests.support.postgres_load import load_postgres; "
    "rows = load_postgres(Path(sys.argv[2]), json.loads(sys.argv[3])); "
    "print(json.dumps(rows))"
)


def _scale_sizes(pairs: list[str]) -> dict[str, int]:
    sizes = dict(bench.SCALES)
    for pair in pairs:
        name, _, number = pair.partition("=")
        if not name or not number.isdigit() or int(number) < 1:
            raise SystemExit(f"--scale-customers wants NAME=CUSTOMERS, got {pair!r}")
        sizes[name] = int(number)
    return sizes


def _names(text: str, allowed: list[str] | tuple[str, ...], what: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(allowed)})")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="S,M,L", help="scales to run, small first (S,M,L)")
    parser.add_argument(
        "--scale-customers",
        action="append",
        default=[],
        metavar="NAME=N",
        help="add or resize a scale, e.g. tiny=2000 (repeatable)",
    )
    parser.add_argument("--engines", default=",".join(bench.ENGINES), help="duckdb,postgres,spark")
    parser.add_argument(
        "--engine-scales",
        default=",".join(bench.ENGINE_SCALES),
        help="the scales PostgreSQL and Spark run at (default M)",
    )
    parser.add_argument("--cache-dir", type=Path, default=PROJECT_DIR / "data" / "bench")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench" / "results.json")
    parser.add_argument("--keep", action="store_true", help="keep the DuckDB files of the run")
    args = parser.parse_args()

    sizes = _scale_sizes(args.scale_customers)
    scales = _names(args.scales, list(sizes), "scale")
    engines = _names(args.engines, bench.ENGINES, "engine")
    engine_scales = _names(args.engine_scales, list(sizes), "scale")
    cache = args.cache_dir.resolve()
    failed = False
    for scale in scales:
        customers = sizes[scale]
        folder = cache / f"{scale}-{customers}"
        print(f"\n== {scale}: {customers:,} customers ==")
        data = bench.prepare_data(bench.DataSpec(customers), folder)
        entries: dict[str, dict] = {}
        if "duckdb" in engines:
            entries["duckdb"] = bench.bench_duckdb(customers, data, folder / "work", args.keep)
        for engine in (e for e in engines if e != "duckdb"):
            if scale in engine_scales:
                entries[engine] = _bench_other(engine, customers, data, folder / f"work-{engine}")
        failed |= any(
            not step["ok"] for entry in entries.values() for step in entry["steps"].values()
        )
        results = _write(args.out, {"scales": {scale: entries}})
        print()
        if "duckdb" in entries:
            print("\n".join(bench.format_scale(scale, entries["duckdb"])))
        if len(results["scales"][scale]) > 1:
            print("\n".join(bench.format_engines(scale, results["scales"][scale])))
    print()
    print("\n".join(bench.format_growth(results["growth"])))
    print(f"\nwrote {args.out}")
    return 1 if failed else 0


def _bench_other(engine: str, customers: int, data: bench.BenchData, work: Path) -> dict:
    """One build on PostgreSQL (a throwaway server, loaded first) or local Spark."""
    python = sys.executable
    if engine == "spark":
        java = bench.java_home()
        if java is None:
            raise SystemExit("Spark needs Java 17: apt-get install openjdk-17-jre-headless")
        env = {"CLV_TARGET": "spark", "CLV_SPARK_DIR": str(work / "spark"), "JAVA_HOME": java}
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        return bench.bench_engine(engine, customers, data, work, env)
    sys.path.insert(0, str(PROJECT_DIR))
    from tests.pg_server import PostgresServer, find_pg_bin, free_port

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql")
    server = PostgresServer(bin_dir, work / "server", free_port()).start()
    try:
        load = [
            python,
            "-c",
            LOAD_POSTGRES,
            str(PROJECT_DIR),
            str(data.day0),
            json.dumps(server.connection_kwargs),
        ]
        entry = bench.bench_engine(engine, customers, data, work, server.env, [("load", load)])
        entry["server"] = {"bin": str(bin_dir), "settings": "initdb defaults, fsync=off"}
        return entry
    finally:
        server.stop()


def _write(path: Path, new: dict) -> dict:
    existing = json.loads(path.read_text()) if path.is_file() else None
    merged = bench.merge_results(
        existing, {"benchmark": "bench_scale", "updated_at": bench.now_utc(), **new}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=1) + "\n")
    return merged


if __name__ == "__main__":
    raise SystemExit(main())
