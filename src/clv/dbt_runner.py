"""Drive dbt in-process, the way dbt-core's own tests do.

dbt reads its connection settings from environment variables in profiles.yml
(``CLV_DUCKDB_PATH``, ``CLV_RAW_DIR``, ...). :func:`run_dbt` sets them for the
duration of one invocation only and always passes the project and profiles
directories as flags, so it works from any working directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from clv.paths import PROJECT_DIR


@contextmanager
def environment(overrides: Mapping[str, str | os.PathLike[str] | None]) -> Iterator[None]:
    """Set (or, with ``None``, unset) environment variables, restoring them on exit."""
    saved = {name: os.environ.get(name) for name in overrides}
    try:
        for name, value in overrides.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = str(value)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_dbt(
    args: Sequence[str],
    *,
    env: Mapping[str, str | os.PathLike[str] | None] | None = None,
    target_path: Path | None = None,
):
    """Run one dbt command and return dbt's ``dbtRunnerResult``.

    ``target_path`` keeps the artefacts of this invocation apart from the
    developer's ``target/`` (tests build several warehouses side by side).
    Raises whatever exception dbt raised; the caller checks ``result.success``.
    """
    from dbt.cli.main import dbtRunner

    flags = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    if target_path is not None:
        flags += ["--target-path", str(target_path), "--log-path", str(target_path / "logs")]
    base_env = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    with environment({**base_env, **(env or {})}):
        try:
            result = dbtRunner().invoke([*args, *flags])
        finally:
            _release_duckdb()
    if result.exception is not None:
        raise result.exception
    return result


def _release_duckdb() -> None:
    """Close the DuckDB file dbt-duckdb keeps open in this process after a run.

    Without this, a later read-only connection to the same file from this
    process fails ("different configuration than existing connections"), and
    the writer lock would outlive the dbt invocation.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing is held open in-process
        return
    DuckDBConnectionManager.close_all_connections()
