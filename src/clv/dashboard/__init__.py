"""``clv dashboard``: the customer-equity dashboard as one self-contained HTML file.

:mod:`clv.dashboard.data` reads the published marts (aggregated in SQL),
:mod:`clv.dashboard.page` turns them into plotly figures inside one HTML page
(template.html, dashboard.css, dashboard.js beside this file), with plotly.js
inlined once: the page fetches nothing when it is opened. :func:`write_dashboard`
is what the command runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clv import paths
from clv.errors import UserError

#: Where ``clv dashboard`` writes the page by default (git-ignored, as data/ is).
DEFAULT_DASHBOARD_PATH = paths.PROJECT_DIR / "data" / "dashboard" / "index.html"


@dataclass(frozen=True)
class Dashboard:
    """A written dashboard: where, how big, how long it took."""

    path: Path
    size_bytes: int
    elapsed_seconds: float
    charts: int
    empty: int


def reporting_currency() -> str:
    """The dbt var ``reporting_currency`` of dbt_project.yml (the marts' currency)."""
    import yaml

    project = yaml.safe_load((paths.PROJECT_DIR / "dbt_project.yml").read_text())
    return str(project.get("vars", {}).get("reporting_currency", "USD"))


def write_dashboard(database: Path, out: Path, currency: str | None = None) -> Dashboard:
    """Read the marts of ``database`` (read-only) and write the page to ``out``."""
    import plotly.offline

    from clv.dashboard.data import read_database
    from clv.dashboard.page import build_charts, build_page

    started = time.perf_counter()
    if not database.exists():
        raise UserError(
            f"no published file at {database}: run `make demo` (or `clv publish`) first"
        )
    frames, publication = read_database(database)
    currency = currency or reporting_currency()
    document = build_page(
        frames,
        plotly_js=plotly.offline.get_plotlyjs(),
        currency=currency,
        publication=publication,
        generated_at=datetime.now(UTC),
    )
    charts, _ = build_charts(frames, currency)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(document, encoding="utf-8")
    temporary.replace(out)
    return Dashboard(
        path=out,
        size_bytes=out.stat().st_size,
        elapsed_seconds=time.perf_counter() - started,
        charts=sum(chart.figure is not None for chart in charts),
        empty=sum(chart.figure is None for chart in charts),
    )
