"""``clv run-pipeline``: the nightly run without an orchestrator (cron), step by step.

Runs :data:`clv.pipeline.STEPS` in order - the raw gate, ``dbt build``, the
publication - and stops at the first that fails, printing which and why.
Exit codes: 0 every step passed; 1 a gate failed (raw suites, or a failing dbt
model or test); 2 a refused publication or a problem the user can fix. The
same steps are Dagster's assets (:mod:`clv.orchestration`).
"""

from __future__ import annotations

import argparse
from datetime import date

from clv.errors import UserError
from clv.pipeline import STEPS, PipelineSettings, exit_code, run_pipeline


def register(subparsers: argparse._SubParsersAction) -> None:
    steps = ", ".join(step.name for step in STEPS)
    parser = subparsers.add_parser(
        "run-pipeline",
        help="Run the whole pipeline (raw gate, dbt build, publish) as cron would.",
        description=(
            f"Run the pipeline's steps in order ({steps}) and stop at the first that fails. "
            "Exit codes: 0 every step passed; 1 a gate failed (raw suites, dbt models or "
            "tests); 2 the publication was refused or the input is unusable. The published "
            "file is only ever replaced by a whole publication that passed every gate."
        ),
    )
    parser.add_argument(
        "--raw-dir", default=None, help="raw Parquet folder (default: $CLV_RAW_DIR or data/raw)"
    )
    parser.add_argument(
        "--database",
        default=None,
        help="working DuckDB file (default: $CLV_DUCKDB_PATH or data/clv.duckdb)",
    )
    parser.add_argument(
        "--published",
        default=None,
        help="published DuckDB file (default: $CLV_PUBLISHED_PATH or data/published/clv.duckdb)",
    )
    parser.add_argument(
        "--target-path", default=None, help="dbt artefacts folder of the build (default: target)"
    )
    parser.add_argument(
        "--docs-dir",
        default=None,
        help="Data Docs folder; the raw row-count history lives beside it (data/quality/docs)",
    )
    parser.add_argument(
        "--complete-through",
        default=None,
        metavar="YYYY-MM-DD",
        help=(
            "rerun the run of the morning after DAY: the data counts as complete through DAY "
            "(dbt var complete_through) and the marts report the last month complete by then "
            "(default: the day before the data's last load)"
        ),
    )
    parser.add_argument(
        "--as-of-date",
        default=None,
        metavar="YYYY-MM-DD",
        help="pin the reporting month itself: the month of this date (dbt var as_of_date)",
    )
    parser.set_defaults(func=run)


def _day(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise UserError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from error


def run(args: argparse.Namespace) -> int:
    settings = PipelineSettings.from_environment(
        raw_dir=args.raw_dir,
        database=args.database,
        published=args.published,
        target_path=args.target_path,
        docs_dir=args.docs_dir,
        complete_through=_day("--complete-through", args.complete_through),
        as_of_date=_day("--as-of-date", args.as_of_date),
    )
    results = run_pipeline(settings)
    code = exit_code(results)
    if code:
        failed = results[-1]
        print(f"Pipeline stopped at step {failed.step} (exit {code}): {failed.reason()}")
    else:
        total = sum(result.seconds for result in results)
        print(f"Pipeline passed: {len(results)} steps in {total:.1f} s")
    return code
