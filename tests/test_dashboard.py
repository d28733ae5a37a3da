"""The dashboard page builder on small hand-made frames: no dbt, no browser.

What a reader sees is tested in a real browser in tests/test_dashboard_browser.py;
here: an empty or missing mart is a sentence, numbers are formatted for people,
the page fetches nothing, the CLV chart stays small however many customers
there are, the scope payload and its null-series sentences, the events kept to
the months shown, the sliders reach both worked examples, and the dashboard
exposure lists exactly the marts the page reads.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd
import pytest
import yaml

from clv.cli import main
from clv.dashboard import data
from clv.dashboard.formatting import format_count, format_money, format_number, format_percent
from clv.dashboard.page import SLIDERS, build_charts, build_page
from clv.paths import PROJECT_DIR
from tests.support.worked_examples import WORKED_EXAMPLES

pytestmark = pytest.mark.unit

#: Stands in for plotly.min.js (4.8 MB): the builder inlines whatever it is given.
PLOTLY_STUB = "/* plotly.js stand-in */ window.Plotly = {};"

MONTHS = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])


def equity_rows(scope_type: str, scope_value: str, equity=(100.0, 110.0, 120.0), spend=True):
    return pd.DataFrame(
        {
            "scope_type": scope_type,
            "scope_value": scope_value,
            "month": MONTHS,
            "customers_start": [10, 12, 13],
            "customers_new": [3, 2, 4],
            "customers_lost": [1, 1, 2],
            "customers_end": [12, 13, 15],
            "clv": [8.0, 8.5, 8.0],
            "customer_equity": list(equity),
            "acquisition_equity": [5.0, 6.0, 7.0] if spend else [None] * 3,
            "retention_equity": [90.0, 95.0, 99.0] if spend else [None] * 3,
        }
    )


def small_frames() -> dict[str, pd.DataFrame | None]:
    """One or a few rows for every mart the page reads."""
    return {
        "customer_equity_monthly_by_scope": pd.concat(
            [
                equity_rows("all", "all"),
                equity_rows("country", "DE", equity=(40.0, 44.0, 50.0), spend=False),
                equity_rows("country", "FR", equity=(None, None, None), spend=False),
                equity_rows("acquisition_channel", "paid_search"),
            ],
            ignore_index=True,
        ),
        "cohort_clv": pd.DataFrame(
            {
                "cohort_month": pd.to_datetime(["2024-01-01"] * 3 + ["2024-02-01"] * 2),
                "months_since_acquisition": [0, 1, 2, 0, 1],
                "cohort_size": [10, 10, 10, 8, 8],
                "ordering_rate": [1.0, 0.2, 0.1, 1.0, 0.25],
            }
        ),
        "cohort_clv_by_channel": pd.DataFrame(
            {
                "acquisition_channel": ["paid_search"] * 2 + ["organic_search"] * 2,
                "months_since_acquisition": [0, 1, 0, 1],
                "customers": [5, 5, 7, 7],
                "cohorts": [2, 1, 2, 1],
                "discounted_cumulative_margin_per_customer": [10.0, 25.0, 12.0, 20.0],
                "acquisition_cost_per_customer": [30.0, 30.0, 0.0, 0.0],
            }
        ),
        "repeat_customer_rate_monthly": pd.DataFrame(
            {
                "month": MONTHS,
                "customers_to_date": [10, 20, 30],
                "repeat_customer_rate": [0.1, 0.15, 0.2],
                "period_repeat_rate": [None, 0.3, 0.4],
            }
        ),
        "loyalty_monthly": pd.DataFrame(
            {
                "month": MONTHS,
                "nps": [20.0, None, 35.5],
                "nps_responses": [10, 0, 12],
                "redemption_rate": [0.1, 0.25, 0.3],
                "is_redemption_below_20pct": [True, False, False],
            }
        ),
        "email_subscriber_ltv": pd.DataFrame(
            {
                "cohort_month": MONTHS,
                "subscribers": [5, 6, 7],
                "subscriber_ltv": [3.5, -1.0, 4.0],
                "expected_months_on_list": [12.0, 20.0, 60.0],
                "net_profit_per_customer_month": [0.3, -0.05, 0.07],
            }
        ),
        "customer_clv": pd.DataFrame(
            {
                "value_segment": ["high", "medium", "low"],
                "clv_bin": [1, 1, 1],
                "customers": [2, 3, 5],
                "predicted_customers": [2, 3, 5],
                "historical_clv": [500.0, 120.0, 20.0],
                "predicted_clv_12m": [300.0, 80.0, 5.0],
            }
        ),
        "clv_backtest": pd.DataFrame(
            {
                "calibration_frequency": ["0", "1", "total"],
                "sort_order": [0, 1, 8],
                "customers": [60, 40, 100],
                "mean_predicted_purchases": [0.2, 0.8, 0.44],
                "mean_actual_purchases": [0.25, 0.7, 0.43],
                "predicted_purchases": [12.0, 32.0, 44.0],
                "actual_purchases": [15, 28, 43],
            }
        ),
        "business_event_calendar": pd.DataFrame(
            {
                "event_date": pd.to_datetime(["2023-11-23", "2024-02-14", "2024-06-16"]),
                "event_kind": ["promotion", "price_change", "seasonal_low"],
                "event_label": ["Black Friday", "Price rise", "Summer low"],
            }
        ),
        "clv_backtest_by_origin": None,
    }


def payload_of(page: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="dashboard-data">(.*?)</script>', page, re.S
    )
    assert match, "no payload"
    return json.loads(match.group(1).replace("<\\/", "</"))


# ---------------------------------------------------------------- numbers for people


@pytest.mark.parametrize(
    ("value", "decimals", "currency", "text"),
    [
        (1234567.891, 0, "USD", "$1,234,568"),
        (699.2837, 2, "USD", "$699.28"),
        (-1500.5, 0, "USD", "-$1,500"),
        (-0.001, 2, "USD", "$0.00"),
        (12.5, 2, "EUR", "€12.50"),
        (12.5, 0, "CHF", "CHF 12"),
        (None, 0, "USD", "n/a"),
        (float("nan"), 2, "USD", "n/a"),
    ],
)
def test_money_has_a_symbol_and_thousands_separators(value, decimals, currency, text):
    assert format_money(value, currency, decimals) == text


def test_counts_percentages_and_numbers():
    assert format_count(1234567) == "1,234,567"
    assert format_count(None) == "n/a"
    assert format_percent(0.2) == "20.0 %"
    assert format_percent(0.3671) == "36.7 %"
    assert format_percent(float("nan")) == "n/a"
    assert format_number(22.74) == "22.7"
    assert format_number(pd.NA) == "n/a"


def test_headline_figures_are_formatted():
    page = build_page(small_frames(), plotly_js=PLOTLY_STUB)
    assert "<strong>$120</strong>" in page  # customer equity, March 2024
    assert "<strong>15</strong>" in page  # customers at the end
    assert "<strong>$8.00</strong>" in page  # CLV per customer
    assert "<strong>20.0 %</strong>" in page  # repeat-customer rate
    assert "Customer equity, March 2024" in page


# ---------------------------------------------------------------- empty and missing marts


def test_an_empty_mart_is_a_sentence_not_a_chart():
    frames = {
        name: frame.iloc[0:0] if frame is not None else None
        for name, frame in small_frames().items()
    }
    page = build_page(frames, plotly_js=PLOTLY_STUB)
    assert " data-chart>" not in page
    assert payload_of(page)["figures"] == {}
    for mart in (
        "customer_equity_monthly_by_scope",
        "cohort_clv",
        "loyalty_monthly",
        "clv_backtest",
    ):
        assert f"No data yet: marts.{mart} has no rows." in page
    assert "Not built yet: marts.clv_backtest_by_origin is not in this file" in page
    assert '<select id="scope">' not in page


def test_the_rolling_origin_backtest_draws_one_error_line_per_clock():
    frames = small_frames()
    ends = [date(2024, 11, 30), date(2024, 12, 31), date(2025, 1, 31)]
    frames["clv_backtest_by_origin"] = pd.DataFrame(
        {
            "calibration_end": [end for end in ends for _ in ("calendar", "seasonal")],
            "clock": ["calendar", "seasonal"] * 3,
            "purchases_relative_error": [0.30, -0.01, 0.32, 0.003, None, 0.12],
        }
    )
    figure = payload_of(build_page(frames, plotly_js=PLOTLY_STUB))["figures"][
        "chart-backtest-origin"
    ]
    lines = {trace["name"]: trace for trace in figure["data"]}
    assert set(lines) == {"calendar clock", "seasonal clock"}
    assert lines["seasonal clock"]["x"] == ["2024-11", "2024-12", "2025-01"]
    assert lines["seasonal clock"]["y"] == pytest.approx([-1.0, 0.3, 12.0])
    # A failed fit (null error) is left out, not drawn as 0.
    assert lines["calendar clock"]["x"] == ["2024-11", "2024-12"]
    assert "%" in figure["layout"]["yaxis"]["title"]["text"]
    # Every fit failed: a sentence that says so.
    frames["clv_backtest_by_origin"]["purchases_relative_error"] = None
    page = build_page(frames, plotly_js=PLOTLY_STUB)
    assert "chart-backtest-origin" not in payload_of(page)["figures"]
    assert "Every origin&#x27;s fit failed (fit_status in marts.clv_backtest_by_origin)" in page


def test_a_missing_mart_is_a_sentence_and_the_others_still_draw():
    frames = small_frames()
    frames["loyalty_monthly"] = None
    charts, _ = build_charts(frames)
    by_id = {chart.id: chart for chart in charts}
    assert by_id["chart-loyalty"].figure is None
    assert by_id["chart-loyalty"].empty == "No data: marts.loyalty_monthly is not in this file."
    assert all(by_id[i].figure is not None for i in ("chart-equity", "chart-repeat", "chart-email"))


def test_all_null_predictions_are_a_sentence():
    frames = small_frames()
    frames["customer_clv"] = frames["customer_clv"].assign(predicted_clv_12m=None)
    charts, _ = build_charts(frames)
    (segments,) = [chart for chart in charts if chart.id == "chart-segments"]
    assert segments.figure is None
    assert "No predictions in this file" in segments.empty


def test_every_chart_says_how_to_read_it_and_names_its_mart():
    charts, _ = build_charts(small_frames())
    assert len(charts) == 10
    for chart in charts:
        assert "marts." in chart.how_to_read, chart.id


# ---------------------------------------------------------------- nothing fetched


def test_the_page_fetches_nothing_and_inlines_the_library_once():
    page = build_page(small_frames(), plotly_js=PLOTLY_STUB)
    assert page.count(PLOTLY_STUB) == 1
    ours = page.replace(PLOTLY_STUB, "")
    assert re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", ours, re.I) == []
    assert re.findall(r"<(?:script|link|img|iframe)[^>]*\s(?:src|href)=", ours, re.I) == []
    assert "@import" not in ours and "url(" not in ours
    assert "default-src 'none'" in ours  # the Content-Security-Policy refuses any fetch


def test_the_payload_cannot_close_its_script_element():
    frames = small_frames()
    frames["business_event_calendar"].loc[1, "event_label"] = "</script><script>alert(1)//"
    page = build_page(frames, plotly_js=PLOTLY_STUB)
    assert "</script><script>alert(1)" not in page
    labels = json.dumps(payload_of(page))
    assert "alert(1)" in labels


# ---------------------------------------------------------------- scopes and events


def test_every_scope_has_its_equity_series_and_the_null_ones_a_sentence():
    page = build_page(small_frames(), plotly_js=PLOTLY_STUB)
    scope = payload_of(page)["scope"]
    keys = [s["key"] for s in scope["scopes"]]
    assert keys == ["all|all", "country|DE", "country|FR", "acquisition_channel|paid_search"]
    assert scope["initial"] == "all|all"
    de = scope["equity"]["country|DE"]["data"]
    assert [trace["y"] for trace in de][0] == [40.0, 44.0, 50.0]
    assert scope["equity"]["all|all"]["data"][0]["y"] == [100.0, 110.0, 120.0]
    assert scope["notes"]["all|all"] is None
    assert "Acquisition equity and Retention equity" in scope["notes"]["country|DE"]
    assert "no country" in scope["notes"]["country|DE"]
    assert scope["notes"]["country|FR"].startswith("No equity for this scope")
    assert '<option value="country|DE">Country: DE</option>' in page


def test_events_are_drawn_only_inside_the_months_shown():
    charts, scope = build_charts(small_frames())
    layout = scope["equity"]["all|all"]["layout"]
    days = [shape["x0"] for shape in layout["shapes"]]
    assert days == ["2024-02-14"]  # 2023-11-23 and 2024-06-16 fall outside Jan-Mar 2024
    (annotation,) = layout["annotations"]
    assert annotation["hovertext"] == "2024-02-14: Price rise (price change)"


def test_colours_are_okabe_ito():
    charts, _ = build_charts(small_frames())
    (equity,) = [chart for chart in charts if chart.id == "chart-equity"]
    assert equity.figure["layout"]["colorway"][:3] == ["#0072B2", "#E69F00", "#009E73"]


# ---------------------------------------------------------------- the calculator


@pytest.mark.parametrize("example", WORKED_EXAMPLES)
def test_the_sliders_reach_both_worked_examples_exactly(example):
    for name, _, _, low, high, step, _default in SLIDERS:
        value = Decimal(str(WORKED_EXAMPLES[example][name]))
        steps = (value - Decimal(str(low))) / Decimal(str(step))
        assert Decimal(str(low)) <= value <= Decimal(str(high)), name
        assert steps == steps.to_integral_value(), f"{name}: {value} is not on a step"


def test_the_page_has_a_slider_and_its_number_for_every_input():
    page = build_page(small_frames(), plotly_js=PLOTLY_STUB)
    for name, *_ in SLIDERS:
        assert f'id="slider-{name}"' in page
        assert f'id="value-{name}"' in page


# ---------------------------------------------------------------- the queries


def test_customer_clv_reaches_the_page_as_bins_not_customers():
    connection = duckdb.connect()
    connection.execute("create schema marts")
    connection.execute(
        """
        create table marts.customer_clv as
        select
            case when i % 10 < 2 then 'high' when i % 10 < 5 then 'medium' else 'low' end
                as value_segment,
            (i % 997) * 1.5 as historical_clv,
            case when i % 3 = 0 then null else (i % 991) * 0.7 end as predicted_clv_12m
        from range(200000) as t(i)
        """
    )
    frames = data.read_frames(connection)
    bins = frames["customer_clv"]
    assert len(bins) == 3 * data.CLV_BINS
    assert bins["customers"].sum() == 200_000
    assert frames["cohort_clv"] is None  # not in this file
    assert frames["clv_backtest_by_origin"] is None


def test_the_dashboard_exposure_lists_the_marts_the_page_reads():
    document = yaml.safe_load((PROJECT_DIR / "models/marts/_marts__exposures.yml").read_text())
    (exposure,) = [e for e in document["exposures"] if e["name"] == "customer_equity_dashboard"]
    refs = sorted(re.fullmatch(r"ref\('(\w+)'\)", ref).group(1) for ref in exposure["depends_on"])
    assert refs == list(data.MARTS)


# ---------------------------------------------------------------- the command line


def test_without_a_published_file_the_command_says_so_in_one_line(tmp_path, capsys):
    missing = tmp_path / "none.duckdb"
    assert main(["dashboard", "--database", str(missing), "--out", str(tmp_path / "i.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"clv dashboard: error: no published file at {missing}: run `make demo` "
        "(or `clv publish`) first"
    )
    assert not (tmp_path / "i.html").exists()


def test_the_command_writes_the_page_and_prints_its_path(tmp_path, capsys):
    database = tmp_path / "published.duckdb"
    connection = duckdb.connect(str(database))
    connection.execute("create schema marts")
    connection.register("rows", small_frames()["repeat_customer_rate_monthly"])
    connection.execute("create table marts.repeat_customer_rate_monthly as select * from rows")
    connection.close()
    out = tmp_path / "dash" / "index.html"
    assert main(["dashboard", "--database", str(database), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Dashboard: {out}" in printed
    assert f"file://{out}" in printed
    page = out.read_text()
    assert 'id="chart-repeat" data-chart' in page
    assert "No data: marts.customer_equity_monthly_by_scope is not in this file." in page


# ---------------------------------------------------------------- the browser's prerequisites


def test_without_playwright_the_browser_names_the_extra(monkeypatch):
    import sys

    from clv.dashboard import browser as dashboard_browser
    from clv.extras import MissingExtra

    monkeypatch.setitem(sys.modules, "playwright", None)
    with (
        pytest.raises(MissingExtra, match=r"needs the \[dev\] extra \(playwright not installed\)"),
        dashboard_browser.browser(),
    ):
        pass


def test_without_chromium_the_message_says_how_to_install_it(monkeypatch, tmp_path):
    from clv.dashboard import browser as dashboard_browser
    from clv.errors import UserError

    monkeypatch.setenv("CLV_CHROMIUM", str(tmp_path / "chromium"))
    with pytest.raises(UserError, match=r"apt-get install -y chromium"):
        dashboard_browser.chromium_path()


# ---------------------------------------------------------------- the business events seed


def test_the_seed_matches_what_the_simulator_does_every_year():
    """seeds/business_events.csv says what src/clv/simulate/ does: each year 2015-2035 has
    its summer low, Black Friday week and Christmas shopping on the simulator's days."""
    import numpy as np

    from clv.simulate.calendar import Window

    seed = pd.read_csv(PROJECT_DIR / "seeds/business_events.csv", parse_dates=["event_date"])
    assert sorted(set(seed["event_kind"])) == ["promotion", "seasonal_low", "seasonal_peak"]
    assert seed.groupby(seed["event_date"].dt.year)["event_kind"].apply(sorted).to_dict() == {
        year: ["promotion", "seasonal_low", "seasonal_peak"] for year in range(2015, 2036)
    }
    for row in seed.itertuples():
        year = row.event_date.year
        demand = Window.from_dates(date(year, 1, 1), date(year, 12, 31)).seasonality()
        day = row.event_date.day_of_year - 1  # the simulator's day of year counts from 0
        if row.event_kind == "promotion":  # the discount week starts: demand jumps
            assert day == 326 and demand[day] > 1.4 * demand[day - 1], row
        elif row.event_kind == "seasonal_peak":  # Christmas shopping, above the days after it
            assert day == 334 and demand[334:356].mean() > 1.2 * demand[356:].mean(), row
        else:  # the summer low: the lowest week of demand
            weekly = np.convolve(demand, np.ones(7) / 7, mode="same")
            lowest = 7 + int(np.argmin(weekly[7:300]))  # away from the year's edges
            assert day == 167 and abs(day - lowest) <= 4, row


#: The columns of each mart that the page's queries read (types as the contracts declare).
EMPTY_MARTS = {
    "customer_equity_monthly_by_scope": "scope_type varchar, scope_value varchar, month date, "
    "customers_start bigint, customers_new bigint, customers_lost bigint, customers_end bigint, "
    "clv double, customer_equity double, acquisition_equity double, retention_equity double",
    "cohort_clv": "cohort_month date, months_since_acquisition bigint, cohort_size bigint, "
    "ordering_rate double",
    "cohort_clv_by_channel": "acquisition_channel varchar, months_since_acquisition bigint, "
    "cohort_size bigint, discounted_cumulative_margin_per_customer double, "
    "acquisition_cost_per_customer double",
    "repeat_customer_rate_monthly": "month date, customers_to_date bigint, "
    "repeat_customer_rate double, period_repeat_rate double",
    "loyalty_monthly": "month date, nps double, nps_responses bigint, redemption_rate double, "
    "is_redemption_below_20pct boolean",
    "email_subscriber_ltv": "cohort_month date, subscribers bigint, subscriber_ltv double, "
    "expected_months_on_list double, net_profit_per_customer_month double",
    "customer_clv": "value_segment varchar, historical_clv double, predicted_clv_12m double",
    "clv_backtest": "calibration_frequency varchar, sort_order integer, customers bigint, "
    "mean_predicted_purchases double, mean_actual_purchases double, "
    "predicted_purchases double, actual_purchases bigint",
    "business_event_calendar": "event_date date, event_kind varchar, event_label varchar",
    "clv_backtest_by_origin": "calibration_end date, clock varchar, "
    "purchases_relative_error double",
}


def test_an_empty_table_in_the_file_is_a_sentence(tmp_path):
    assert set(EMPTY_MARTS) == set(data.MARTS)
    database = tmp_path / "published.duckdb"
    connection = duckdb.connect(str(database))
    connection.execute("create schema marts")
    for name, columns in EMPTY_MARTS.items():
        connection.execute(f"create table marts.{name} ({columns})")
    connection.close()
    frames, publication = data.read_database(database)
    assert publication is None
    assert {name: len(frames[name]) for name in data.MARTS} == dict.fromkeys(data.MARTS, 0)
    page = build_page(frames, plotly_js=PLOTLY_STUB)
    assert " data-chart>" not in page
    assert page.count('<p class="empty"') == 10
    assert "No data yet: marts.customer_clv has no rows." in page
    assert "No data yet: marts.clv_backtest_by_origin has no rows." in page
