"""Dagster code location of the pipeline (the ``orchestration`` extra).

``dagster dev -m clv.orchestration`` serves it; :data:`defs` is what Dagster
loads. The assets, job and schedule are built in
:mod:`clv.orchestration.definitions` from :data:`clv.pipeline.STEPS`.
"""

from __future__ import annotations

try:
    import dagster  # noqa: F401
    import dagster_dbt  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "clv.orchestration needs the [orchestration] extra: pip install -e '.[orchestration]'"
    ) from error

from clv.orchestration.definitions import build_definitions  # noqa: E402

defs = build_definitions()

__all__ = ["build_definitions", "defs"]
