"""The dashboard in a real browser: Debian's chromium, headless, through Playwright.

The page is written by ``clv dashboard`` from a publication of the session
warehouse and opened from ``file://`` with every other request aborted and
recorded (clv.dashboard.browser). Chromium must be installed (``.ci/run``
installs it): without it these tests fail, saying how to install it; they
never skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clv.cli import main
from clv.dashboard import browser as dashboard_browser
from clv.dashboard.page import SLIDERS
from clv.errors import UserError
from clv.formulas import discounted_clv
from tests.support.publishing import copy_working, publish_from
from tests.support.worked_examples import LARGE_FIRM, SMALL_FIRM

pytestmark = pytest.mark.integration

#: The worked examples of clv.formulas.discounted_clv (and `clv calc`'s epilog).
EXAMPLES = {"small firm": (SMALL_FIRM, "$699.28"), "large firm": (LARGE_FIRM, "$731.98")}

#: The marks plotly draws: markers and lines of scatter traces, bars, heat-map images.
MARKS = "path.point, path.js-line, g.bars path, g.hm image"


@pytest.fixture(scope="module")
def dashboard_file(warehouse, tmp_path_factory) -> Path:
    """The page ``clv dashboard`` writes from a publication of the session warehouse."""
    directory = tmp_path_factory.mktemp("dashboard")
    published = directory / "published.duckdb"
    publish_from(copy_working(warehouse, directory / "working"), published)
    out = directory / "index.html"
    assert main(["dashboard", "--database", str(published), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def chromium():
    try:
        dashboard_browser.chromium_path()
    except UserError as error:
        pytest.fail(f"the dashboard's browser tests need chromium: {error}", pytrace=False)
    with dashboard_browser.browser() as instance:
        yield instance


def chart_marks(page) -> dict[str, int]:
    return page.evaluate(
        """(marks) => Object.fromEntries(
            Array.from(document.querySelectorAll('[data-chart]')).map(
                (div) => [
                    div.id,
                    div.querySelector('svg.main-svg') ? div.querySelectorAll(marks).length : -1,
                ]
            ))""",
        MARKS,
    )


def test_the_page_loads_offline_with_no_errors_and_every_chart_draws(dashboard_file, chromium):
    with dashboard_browser.open_page(chromium, dashboard_file) as (page, log):
        marks = chart_marks(page)
        drawn = page.evaluate("document.body.dataset.chartsDrawn")
        sentences = page.locator("p.empty").all_inner_texts()
        assert log.problems() == []
    assert set(marks) >= {
        "chart-equity",
        "chart-customers",
        "chart-cohorts",
        "chart-payback",
        "chart-repeat",
        "chart-loyalty",
        "chart-email",
        "chart-segments",
        "chart-backtest",
    }
    assert {chart: count for chart, count in marks.items() if count <= 0} == {}
    assert drawn == str(len(marks))
    # The session's two years leave the rolling-origin backtest empty: a sentence, not a chart.
    assert sentences == ["No data yet: marts.clv_backtest_by_origin has no rows."]


@pytest.mark.parametrize(
    "viewport", [dashboard_browser.DESKTOP, dashboard_browser.PHONE], ids=["1366x900", "390x844"]
)
def test_screenshots_are_not_blank_and_the_page_fits_the_width(
    dashboard_file, chromium, viewport, tmp_path
):
    with dashboard_browser.open_page(chromium, dashboard_file, viewport) as (page, log):
        png = page.screenshot(path=str(tmp_path / "shot.png"))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        # Scroll to the charts further down: they are drawn there too, at this width.
        page.locator("#card-segments").scroll_into_view_if_needed()
        lower = page.screenshot()
        assert log.problems() == []
    assert overflow <= 0, f"the page is {overflow} px wider than the {viewport['width']} px window"
    # A blank page is one colour in 5.6 KB; a page with one heading 216 colours in 9 KB.
    # The demo's views have 1,100 to 1,900 colours in 57 to 147 KB.
    for shot in (png, lower):
        assert len(shot) > 30_000
        assert dashboard_browser.distinct_colours(chromium, shot) > 600


def test_choosing_a_scope_changes_the_equity_chart(dashboard_file, chromium):
    series = "document.getElementById('chart-equity').data.map((trace) => trace.y)"
    customers = "document.getElementById('chart-customers').data.map((trace) => trace.y)"
    with dashboard_browser.open_page(chromium, dashboard_file) as (page, log):
        options = page.eval_on_selector_all("#scope option", "(os) => os.map((o) => o.value)")
        assert options[0] == "all|all"
        assert any(o.startswith("country|") for o in options)
        assert any(o.startswith("acquisition_channel|") for o in options)
        before, before_customers = page.evaluate(series), page.evaluate(customers)
        page.evaluate(f"window.equityBefore = JSON.stringify({series})")
        assert page.locator("#chart-equity-note").is_hidden()
        country = next(o for o in options if o.startswith("country|"))
        page.select_option("#scope", country)
        page.wait_for_function(f"JSON.stringify({series}) !== window.equityBefore")
        after, after_customers = page.evaluate(series), page.evaluate(customers)
        note = page.locator("#chart-equity-note")
        note_text = note.inner_text() if note.is_visible() else ""
        marks = chart_marks(page)["chart-equity"]
        assert log.problems() == []
    assert after != before
    assert after_customers != before_customers
    assert marks > 0
    # A country has no spend, so its acquisition and retention equity are null: a sentence says so.
    assert all(value is None for value in after[1]) and all(value is None for value in after[2])
    assert "no country" in note_text


def set_sliders(page, values: dict) -> None:
    for name, value in values.items():
        page.fill(f"#slider-{name}", str(value))


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_calculator_equals_clv_calc_to_the_cent(dashboard_file, chromium, example):
    inputs, shown = EXAMPLES[example]
    expected = discounted_clv(**inputs)
    with dashboard_browser.open_page(chromium, dashboard_file) as (page, log):
        # Start from elsewhere, so that the example's numbers are the sliders' doing.
        set_sliders(page, {name: default for name, *_, default in SLIDERS} | {"years": 7})
        set_sliders(page, inputs)
        text = page.inner_text("#clv-value")
        value = float(page.get_attribute("#clv-value", "data-value"))
        rows = page.eval_on_selector_all(
            "#clv-table tbody tr",
            "(rows) => rows.map((r) => [Number(r.dataset.contribution),"
            " Number(r.dataset.cumulative), r.cells[4].textContent])",
        )
        outputs = {name: page.inner_text(f"#value-{name}") for name in inputs}
        assert log.problems() == []
    assert text == shown
    assert round(value, 2) == round(expected.clv, 2)
    assert f"${expected.clv:,.2f}" == shown
    assert len(rows) == expected.years == 5
    for (contribution, cumulative, cell), row in zip(rows, expected.rows, strict=True):
        assert round(contribution, 2) == round(row.expected_contribution, 2)
        assert round(cumulative, 2) == round(row.cumulative_clv, 2)
        assert cell == f"{'-' if row.cumulative_clv < 0 else ''}${abs(row.cumulative_clv):,.2f}"
    assert outputs["retention_rate"] == "80 %"
    assert outputs["years"] == "5"
