"""Dagster code location of the pipeline (the ``orchestration`` extra).

``dagster dev -m clv.orchestration`` serves it; :data:`defs` is what Dagster
loads. The assets, job and schedule are built in
:mod:`clv.orchestration.definitions` from :data:`clv.pipeline.STEPS`.
"""

from __future__ import annotations

from clv.extras import require

require("orchestration", what="clv.orchestration")

from clv.orchestration.definitions import build_definitions  # noqa: E402 - the extra first

defs = build_definitions()

__all__ = ["build_definitions", "defs"]
