"""The page: plotly figures from the dashboard's frames, in one self-contained HTML file.

:func:`build_page` is free of I/O: it takes the frames :mod:`clv.dashboard.data`
reads (or hand-made ones, in the tests) and returns the HTML. Each chart is a
plotly figure as plain JSON (``data`` and ``layout``), drawn by dashboard.js
with ``Plotly.newPlot``; the scope selector swaps the equity and customer
figures with ``Plotly.react``. plotly.js is inlined once, so the page fetches
nothing when it is opened. A chart whose mart is missing, empty or all null is
a sentence, never a broken chart.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any

import pandas as pd

from clv.dashboard.formatting import (
    format_count,
    format_money,
    format_number,
    format_percent,
    symbol,
)

#: Okabe & Ito's colour-blind-safe palette (black last).
OKABE_ITO = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#56B4E9",
    "#CC79A7",
    "#F0E442",
    "#000000",
)
#: Business-event kinds: (colour, glyph at the top of the line, name).
EVENT_KINDS = {
    "promotion": ("#D55E00", "P", "promotion"),
    "price_change": ("#CC79A7", "€", "price change"),
    "new_channel": ("#009E73", "N", "new channel"),
    "seasonal_peak": ("#E69F00", "▲", "seasonal peak"),
    "seasonal_low": ("#56B4E9", "▼", "seasonal low"),
}
UNKNOWN_EVENT = ("#999999", "•", "other")
#: The loyalty programme's warning threshold for the points redemption rate.
REDEMPTION_WARNING = 0.20
SEGMENT_ORDER = ("high", "medium", "low")

#: The what-if calculator's sliders: (name, symbol, label, min, max, step, default).
#: The steps reach both worked examples of clv.formulas.discounted_clv exactly.
SLIDERS = (
    ("purchases_per_year", "p", "Purchases per year", 0, 50, 0.5, 10),
    ("spend_per_purchase", "s", "Spend per purchase", 0, 1000, 5, 200),
    ("gross_margin", "m", "Gross margin", 0, 1, 0.01, 0.41),
    ("marketing_cost", "c", "Marketing cost per customer a year", 0, 200, 1, 20),
    ("acquisition_rate", "a", "Acquisition rate", 0.01, 1, 0.01, 0.02),
    ("retention_rate", "r", "Retention rate", 0, 1, 0.01, 0.8),
    ("discount_rate", "d", "Discount rate", 0, 0.5, 0.01, 0.1),
    ("years", "N", "Years", 1, 50, 1, 5),
)
#: Sliders shown as percentages (fractions underneath).
PERCENT_SLIDERS = {"gross_margin", "acquisition_rate", "retention_rate", "discount_rate"}
MONEY_SLIDERS = {"spend_per_purchase", "marketing_cost"}


# ---------------------------------------------------------------- values


def _clean(value: Any) -> Any:
    """A JSON value: None for NaN / NaT / NA, ISO strings for dates, Python numbers."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _values(series: pd.Series) -> list:
    return [_clean(value) for value in series.tolist()]


def _month_key(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m")


def _all_null(frame: pd.DataFrame, columns: list[str]) -> bool:
    return bool(frame[columns].isna().all().all())


def _empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or frame.empty


# ---------------------------------------------------------------- figures


def _layout(currency: str, **overrides: Any) -> dict:
    layout = {
        "autosize": True,
        "margin": {"l": 64, "r": 24, "t": 28, "b": 48},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
        "colorway": list(OKABE_ITO),
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        "separators": ".,",
        "xaxis": {"gridcolor": "#eeeeee"},
        "yaxis": {"gridcolor": "#eeeeee", "zerolinecolor": "#bbbbbb"},
    }
    layout.update(overrides)
    if "title" in layout["xaxis"]:  # the legend goes below the axis title
        layout["legend"] = {**layout["legend"], "y": -0.3}
        layout["xaxis"] = {"gridcolor": "#eeeeee", **layout["xaxis"]}
    return layout


def _money_axis(currency: str, **extra: Any) -> dict:
    return {
        "tickprefix": symbol(currency),
        "tickformat": ",.0f",
        "gridcolor": "#eeeeee",
        "zerolinecolor": "#bbbbbb",
        **extra,
    }


def _percent_axis(**extra: Any) -> dict:
    return {"tickformat": ".0%", "gridcolor": "#eeeeee", "rangemode": "tozero", **extra}


def _line(name: str, x: list, y: list, hover: str, **extra: Any) -> dict:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": name,
        "x": x,
        "y": y,
        "hovertemplate": f"{hover}<extra>{html.escape(name)}</extra>",
        "marker": {"size": 4},
        **extra,
    }


@dataclass(frozen=True)
class Event:
    day: str
    kind: str
    label: str


def _events_between(events: list[Event], first: Any, last: Any) -> list[Event]:
    """The events from the first month shown to the end of the last."""
    start = pd.Timestamp(first).to_period("M").start_time
    end = pd.Timestamp(last).to_period("M").end_time
    return [event for event in events if start <= pd.Timestamp(event.day) <= end]


def _with_events(layout: dict, events: list[Event], first: Any, last: Any) -> dict:
    """Dotted vertical lines and a glyph with a hover label for each event in range."""
    shown = _events_between(events, first, last)
    shapes = list(layout.get("shapes", []))
    annotations = list(layout.get("annotations", []))
    for event in shown:
        colour, glyph, name = EVENT_KINDS.get(event.kind, UNKNOWN_EVENT)
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": event.day,
                "x1": event.day,
                "y0": 0,
                "y1": 1,
                "line": {"color": colour, "width": 1, "dash": "dot"},
            }
        )
        annotations.append(
            {
                "xref": "x",
                "yref": "paper",
                "x": event.day,
                "y": 1.0,
                "yanchor": "bottom",
                "text": glyph,
                "showarrow": False,
                "font": {"color": colour, "size": 11},
                "hovertext": f"{event.day}: {html.escape(event.label)} ({name})",
            }
        )
    return {**layout, "shapes": shapes, "annotations": annotations}


@dataclass
class Chart:
    """One chart of the page: its figure, or the sentence shown instead."""

    id: str
    title: str
    how_to_read: str
    figure: dict | None = None
    empty: str | None = None


def _missing_sentence(mart: str, frame: pd.DataFrame | None) -> str:
    if frame is None:
        return f"No data: marts.{mart} is not in this file."
    return f"No data yet: marts.{mart} has no rows."


def _chart_or_sentence(
    chart_id: str,
    title: str,
    how_to_read: str,
    mart: str,
    frame: pd.DataFrame | None,
    draw: Callable[[pd.DataFrame], dict],
    drawable: Callable[[pd.DataFrame], bool] = lambda frame: True,
) -> Chart:
    """``draw(frame)`` when the mart has rows that ``drawable`` accepts, else its sentence."""
    if _empty(frame) or not drawable(frame):
        return Chart(chart_id, title, how_to_read, empty=_missing_sentence(mart, frame))
    return Chart(chart_id, title, how_to_read, draw(frame))


# ------------------------------------------ customer equity and customers, by scope


def scope_label(scope_type: str, scope_value: str) -> str:
    if scope_type == "all":
        return "All customers"
    kind = {"country": "Country", "acquisition_channel": "Channel"}.get(scope_type, scope_type)
    return f"{kind}: {scope_value}"


EQUITY_SERIES = (
    ("customer_equity", "Customer equity"),
    ("acquisition_equity", "Acquisition equity"),
    ("retention_equity", "Retention equity"),
)
CUSTOMER_SERIES = (
    ("customers_start", "Customers at start"),
    ("customers_new", "New"),
    ("customers_lost", "Lost"),
    ("customers_end", "Customers at end"),
)


def _equity_null_note(scope_type: str, rows: pd.DataFrame) -> str | None:
    """The sentence shown when some of a scope's equity series are all null."""
    empty = [label for column, label in EQUITY_SERIES if rows[column].isna().all()]
    if not empty:
        return None
    if len(empty) == len(EQUITY_SERIES):
        return (
            "No equity for this scope: its CLV is null in every month (it needs twelve months "
            "of history for the trailing-year retention, and customers in those months)."
        )
    reason = (
        "marketing spend has a channel but no country, so the equities that subtract it are null"
        if scope_type == "country"
        else "retention spend is set for all customers only"
        if scope_type == "acquisition_channel"
        else "their CLV or spend is null"
    )
    return f"{' and '.join(empty)}: null in every month for this scope ({reason})."


def _scope_figures(
    frame: pd.DataFrame, currency: str, events: list[Event]
) -> tuple[list[dict], dict, dict, dict]:
    scopes, equity, customers, notes = [], {}, {}, {}
    order = {"all": 0, "country": 1, "acquisition_channel": 2}
    groups = sorted(
        frame.groupby(["scope_type", "scope_value"], sort=False),
        key=lambda item: (order.get(item[0][0], 9), item[0][1]),
    )
    for (scope_type, scope_value), rows in groups:
        key = f"{scope_type}|{scope_value}"
        rows = rows.sort_values("month")
        x = _values(rows["month"])
        first, last = rows["month"].iloc[0], rows["month"].iloc[-1]
        money = f"{symbol(currency)}%{{y:,.0f}}"
        equity[key] = {
            "data": [
                _line(label, x, _values(rows[column]), money) for column, label in EQUITY_SERIES
            ],
            "layout": _with_events(
                _layout(currency, yaxis=_money_axis(currency)), events, first, last
            ),
        }
        customers[key] = {
            "data": [
                (
                    {
                        "type": "bar",
                        "name": label,
                        "x": x,
                        "y": _values(rows[column]),
                        "hovertemplate": f"%{{y:,.0f}}<extra>{label}</extra>",
                        "marker": {
                            "color": OKABE_ITO[2] if column == "customers_new" else OKABE_ITO[3]
                        },
                    }
                    if column in ("customers_new", "customers_lost")
                    else _line(label, x, _values(rows[column]), "%{y:,.0f}")
                )
                for column, label in CUSTOMER_SERIES
            ],
            "layout": _with_events(
                _layout(
                    currency, barmode="group", yaxis={"tickformat": ",.0f", "gridcolor": "#eeeeee"}
                ),
                events,
                first,
                last,
            ),
        }
        notes[key] = _equity_null_note(scope_type, rows)
        scopes.append({"key": key, "label": scope_label(scope_type, scope_value)})
    return scopes, equity, customers, notes


# ---------------------------------------------------------------- the other charts


def _cohort_heatmap(frame: pd.DataFrame) -> dict:
    cohorts = sorted(frame["cohort_month"].unique())
    months = sorted(int(k) for k in frame["months_since_acquisition"].unique())
    rates = {
        (_month_key(row.cohort_month), int(row.months_since_acquisition)): _clean(row.ordering_rate)
        for row in frame.itertuples()
    }
    y = [_month_key(cohort) for cohort in cohorts]
    z = [[rates.get((cohort, k)) for k in months] for cohort in y]
    later = frame.loc[frame["months_since_acquisition"] >= 1, "ordering_rate"].dropna()
    top = float(later.quantile(0.98)) if not later.empty else 1.0
    return {
        "data": [
            {
                "type": "heatmap",
                "x": months,
                "y": y,
                "z": z,
                "zmin": 0,
                "zmax": max(top, 0.01),
                "colorscale": "Viridis",
                "colorbar": {"tickformat": ".0%", "thickness": 12},
                "hovertemplate": "cohort %{y}, month %{x}: %{z:.1%} ordering<extra></extra>",
                "xgap": 1,
                "ygap": 1,
            }
        ],
        "layout": _layout(
            "USD",
            hovermode="closest",
            xaxis={"title": {"text": "months since acquisition"}, "dtick": 3},
            yaxis={"type": "category", "autorange": "reversed", "title": {"text": "cohort"}},
        ),
    }


def _payback(frame: pd.DataFrame, currency: str) -> dict:
    data = []
    money = f"{symbol(currency)}%{{y:,.2f}}"
    for index, (channel, rows) in enumerate(frame.groupby("acquisition_channel", sort=True)):
        colour = OKABE_ITO[index % len(OKABE_ITO)]
        x = [int(k) for k in rows["months_since_acquisition"]]
        data.append(
            _line(
                channel,
                x,
                _values(rows["discounted_cumulative_margin_per_customer"]),
                money,
                line={"color": colour},
                legendgroup=channel,
            )
        )
        if rows["acquisition_cost_per_customer"].fillna(0).gt(0).any():
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{channel}: acquisition cost",
                    "x": x,
                    "y": _values(rows["acquisition_cost_per_customer"]),
                    "line": {"color": colour, "dash": "dash", "width": 1.5},
                    "legendgroup": channel,
                    "showlegend": False,  # the channel's colour, dashed: the sentence says so
                    "hovertemplate": f"{money}<extra>{channel}: acquisition cost</extra>",
                }
            )
    return {
        "data": data,
        "layout": _layout(
            currency,
            xaxis={"title": {"text": "months since acquisition"}, "gridcolor": "#eeeeee"},
            yaxis=_money_axis(currency, tickformat=",.0f"),
            hovermode="closest",
        ),
    }


def _repeat(frame: pd.DataFrame, currency: str, events: list[Event]) -> dict:
    x = _values(frame["month"])
    return {
        "data": [
            _line(
                "Repeat-customer rate (to date)",
                x,
                _values(frame["repeat_customer_rate"]),
                "%{y:.1%}",
            ),
            _line(
                "Returning share of the month's buyers",
                x,
                _values(frame["period_repeat_rate"]),
                "%{y:.1%}",
            ),
        ],
        "layout": _with_events(
            _layout(currency, yaxis=_percent_axis()),
            events,
            frame["month"].min(),
            frame["month"].max(),
        ),
    }


def _loyalty(frame: pd.DataFrame, currency: str, events: list[Event]) -> dict:
    x = _values(frame["month"])
    layout = _layout(
        currency,
        yaxis={"title": {"text": "NPS"}, "range": [-100, 100], "gridcolor": "#eeeeee"},
        yaxis2={
            "title": {"text": "redemption rate"},
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "rangemode": "tozero",
            "showgrid": False,
        },
        margin={"l": 64, "r": 64, "t": 28, "b": 48},
        shapes=[
            {
                "type": "line",
                "xref": "paper",
                "yref": "y2",
                "x0": 0,
                "x1": 1,
                "y0": REDEMPTION_WARNING,
                "y1": REDEMPTION_WARNING,
                "line": {"color": OKABE_ITO[3], "width": 1.5, "dash": "dash"},
            }
        ],
        annotations=[
            {
                "xref": "paper",
                "yref": "y2",
                "x": 1,
                "y": REDEMPTION_WARNING,
                "xanchor": "right",
                "yanchor": "bottom",
                "text": "20 % warning line",
                "showarrow": False,
                "font": {"color": OKABE_ITO[3], "size": 11},
            }
        ],
    )
    below = frame["is_redemption_below_20pct"].fillna(False).astype(bool)
    return {
        "data": [
            _line("NPS", x, _values(frame["nps"]), "%{y:.1f}", line={"color": OKABE_ITO[0]}),
            _line(
                "Points redemption rate (trailing 12 months)",
                x,
                _values(frame["redemption_rate"]),
                "%{y:.1%}",
                yaxis="y2",
                line={"color": OKABE_ITO[1]},
                marker={
                    "size": [9 if flag else 4 for flag in below],
                    "color": [OKABE_ITO[3] if flag else OKABE_ITO[1] for flag in below],
                    "symbol": ["x" if flag else "circle" for flag in below],
                },
            ),
        ],
        "layout": _with_events(layout, events, frame["month"].min(), frame["month"].max()),
    }


def _email(frame: pd.DataFrame, currency: str, events: list[Event]) -> dict:
    return {
        "data": [
            {
                "type": "bar",
                "name": "Subscriber LTV",
                "x": _values(frame["cohort_month"]),
                "y": _values(frame["subscriber_ltv"]),
                "customdata": [
                    [_clean(s), _clean(m)]
                    for s, m in zip(
                        frame["subscribers"], frame["expected_months_on_list"], strict=True
                    )
                ],
                "hovertemplate": (
                    f"{symbol(currency)}%{{y:,.2f}} per subscriber;"
                    " %{customdata[0]:,} subscribers,"
                    " %{customdata[1]:.1f} months expected on the list<extra></extra>"
                ),
                "marker": {"color": OKABE_ITO[0]},
            }
        ],
        "layout": _with_events(
            _layout(currency, yaxis=_money_axis(currency, tickformat=",.2f"), hovermode="closest"),
            events,
            frame["cohort_month"].min(),
            frame["cohort_month"].max(),
        ),
    }


def _clv_segments(frame: pd.DataFrame, currency: str) -> dict:
    data = []
    biggest = max(float(frame["customers"].max()), 1.0)
    present = [s for s in SEGMENT_ORDER if s in set(frame["value_segment"])]
    others = sorted(set(frame["value_segment"].dropna()) - set(present))
    for index, segment in enumerate([*present, *others]):
        rows = frame[frame["value_segment"] == segment]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"{segment} value",
                "x": _values(rows["historical_clv"]),
                "y": _values(rows["predicted_clv_12m"]),
                "customdata": _values(rows["customers"]),
                "marker": {
                    "color": OKABE_ITO[index % len(OKABE_ITO)],
                    "size": [6 + 18 * math.sqrt(float(c) / biggest) for c in rows["customers"]],
                    "opacity": 0.8,
                    "line": {"width": 0.5, "color": "#ffffff"},
                },
                "hovertemplate": (
                    f"historical {symbol(currency)}%{{x:,.0f}},"
                    f" predicted {symbol(currency)}%{{y:,.0f}}"
                    f"<br>%{{customdata:,}} customers<extra>{segment} value</extra>"
                ),
            }
        )
    low = float(min(frame["historical_clv"].min(), frame["predicted_clv_12m"].min(), 0))
    high = float(max(frame["historical_clv"].max(), frame["predicted_clv_12m"].max()))
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "predicted = historical",
            "x": [low, high],
            "y": [low, high],
            "line": {"color": "#999999", "dash": "dot", "width": 1},
            "hoverinfo": "skip",
        }
    )
    return {
        "data": data,
        "layout": _layout(
            currency,
            hovermode="closest",
            xaxis=_money_axis(currency, title={"text": "historical CLV (margin to date)"}),
            yaxis=_money_axis(currency, title={"text": "predicted CLV, next 12 months"}),
        ),
    }


def _backtest(frame: pd.DataFrame) -> dict:
    groups = frame[frame["calibration_frequency"] != "total"]
    x = _values(groups["calibration_frequency"])
    return {
        "data": [
            {
                "type": "bar",
                "name": "Predicted",
                "x": x,
                "y": _values(groups["mean_predicted_purchases"]),
                "marker": {"color": OKABE_ITO[0]},
                "hovertemplate": "%{y:.2f} purchases a customer<extra>predicted</extra>",
            },
            {
                "type": "bar",
                "name": "Actual",
                "x": x,
                "y": _values(groups["mean_actual_purchases"]),
                "marker": {"color": OKABE_ITO[1]},
                "hovertemplate": "%{y:.2f} purchases a customer<extra>actual</extra>",
            },
        ],
        "layout": _layout(
            "USD",
            barmode="group",
            hovermode="x unified",
            xaxis={
                "title": {"text": "repeat purchases in the calibration period"},
                "type": "category",
            },
            yaxis={"title": {"text": "holdout purchases per customer"}, "gridcolor": "#eeeeee"},
        ),
    }


def _backtest_by_origin(frame: pd.DataFrame) -> dict | None:
    """The rolling-origin backtest: the holdout purchases' error per calibration end, per clock."""
    rows = frame.dropna(subset=["purchases_relative_error"]).sort_values("calibration_end")
    if rows.empty:
        return None
    data = [
        _line(
            f"{clock} clock",
            [_month_key(value) for value in by_clock["calibration_end"]],
            _values(by_clock["purchases_relative_error"] * 100),
            "%{y:+.1f} %",
        )
        for clock, by_clock in rows.groupby("clock", sort=True)
    ]
    return {
        "data": data,
        "layout": _layout(
            "USD",
            xaxis={"title": {"text": "calibration end"}, "gridcolor": "#eeeeee"},
            yaxis={
                "title": {"text": "predicted vs actual purchases, %"},
                "gridcolor": "#eeeeee",
                "zerolinecolor": "#888888",
            },
        ),
    }


# ---------------------------------------------------------------- the page


def _events(frame: pd.DataFrame | None) -> list[Event]:
    if _empty(frame):
        return []
    return [
        Event(
            pd.Timestamp(row.event_date).date().isoformat(),
            str(row.event_kind),
            str(row.event_label),
        )
        for row in frame.itertuples()
    ]


def _headline(frames: dict, currency: str) -> list[tuple[str, str]]:
    """(label, value) tiles: the latest month's figures of the whole."""
    tiles = []
    equity = frames.get("customer_equity_monthly_by_scope")
    if not _empty(equity):
        whole = equity[equity["scope_type"] == "all"].sort_values("month")
        if not whole.empty:
            last = whole.iloc[-1]
            month = pd.Timestamp(last["month"]).strftime("%B %Y")
            tiles += [
                (f"Customer equity, {month}", format_money(last["customer_equity"], currency)),
                (f"Active customers, {month}", format_count(last["customers_end"])),
                (f"CLV per customer, {month}", format_money(last["clv"], currency, decimals=2)),
            ]
    repeat = frames.get("repeat_customer_rate_monthly")
    if not _empty(repeat):
        tiles.append(
            (
                "Repeat-customer rate",
                format_percent(repeat.sort_values("month").iloc[-1]["repeat_customer_rate"]),
            )
        )
    loyalty = frames.get("loyalty_monthly")
    if not _empty(loyalty):
        nps = loyalty.sort_values("month")["nps"].dropna()
        tiles.append(("NPS, latest month", format_number(nps.iloc[-1]) if not nps.empty else "n/a"))
    return tiles


def build_charts(
    frames: dict[str, pd.DataFrame | None], currency: str = "USD"
) -> tuple[list[Chart], dict]:
    """The page's charts, in order, and the scope payload (figures per scope)."""
    events = _events(frames.get("business_event_calendar"))
    charts: list[Chart] = []
    scope_payload: dict = {"scopes": [], "equity": {}, "customers": {}, "notes": {}}
    marker_note = (
        " Dotted lines mark business events (marts.business_event_calendar; hover the glyph at "
        "the top): P promotion, ▲ seasonal peak, ▼ seasonal low."
    )

    equity = frames.get("customer_equity_monthly_by_scope")
    equity_how = (
        "Per month, for the scope chosen above: customer equity = CLV × customers at the month's "
        "end, a stock (compare months, never add them); acquisition equity = new customers × "
        "CLV − acquisition spend, a flow; retention equity = retained customers × CLV − retention "
        "spend. CLV = m × r ÷ (1 + d − r) (Gupta & Lehmann). Columns customer_equity, "
        "acquisition_equity and retention_equity of marts.customer_equity_monthly_by_scope; "
        'formulas in docs/formulas.md, definitions in DECISIONLOG.md, "Customer equity". '
        "Null for the first twelve months." + marker_note
    )
    customers_how = (
        "Per month, for the scope chosen above: customers active at the start and at the end "
        "(a valid order in the last 365 days), new (first-time and win-backs) and lost "
        "customers; end = start + new − lost. Columns customers_start, customers_new, "
        "customers_lost and customers_end of marts.customer_equity_monthly_by_scope."
    )
    if _empty(equity):
        sentence = _missing_sentence("customer_equity_monthly_by_scope", equity)
        charts.append(Chart("chart-equity", "Customer equity", equity_how, empty=sentence))
        charts.append(Chart("chart-customers", "Customers", customers_how, empty=sentence))
    else:
        scopes, by_scope_equity, by_scope_customers, notes = _scope_figures(
            equity, currency, events
        )
        first = scopes[0]["key"]
        scope_payload = {
            "scopes": scopes,
            "equity": by_scope_equity,
            "customers": by_scope_customers,
            "notes": notes,
            "initial": first,
        }
        charts.append(Chart("chart-equity", "Customer equity", equity_how, by_scope_equity[first]))
        charts.append(
            Chart("chart-customers", "Customers", customers_how, by_scope_customers[first])
        )

    cohorts = frames.get("cohort_clv")
    cohort_how = (
        "Each row is a cohort (the month of its customers' first valid order), each column a "
        "month since acquisition; the colour is the share of the cohort that ordered in that "
        "month (marts.cohort_clv, column ordering_rate). Month 0 is 100 % by construction; the "
        "scale stops at the 98th percentile of the later months so their differences show."
    )
    charts.append(
        _chart_or_sentence(
            "chart-cohorts",
            "Cohorts: who orders again",
            cohort_how,
            "cohort_clv",
            cohorts,
            _cohort_heatmap,
            drawable=lambda frame: not _all_null(frame, ["ordering_rate"]),
        )
    )

    payback = frames.get("cohort_clv_by_channel")
    payback_how = (
        "Per acquisition channel, the cumulative discounted margin per acquired customer "
        "(solid; column discounted_cumulative_margin_per_customer of marts.cohort_clv_by_channel, "
        "each month's margin × 1 / (1 + d)^((k + 1) / 12)) against the acquisition cost per "
        "customer (dashed, in the channel's colour; acquisition_cost_per_customer: the channel's "
        "acquisition spend of the cohort month ÷ the customers it acquired; organic, direct and "
        "referral have none). Where solid crosses dashed, the channel has "
        "paid back its acquisition cost (is_payback_reached also subtracts the cost to serve). "
        "Month k averages the cohorts that have reached it, weighted by their size."
    )
    charts.append(
        _chart_or_sentence(
            "chart-payback",
            "Payback by acquisition channel",
            payback_how,
            "cohort_clv_by_channel",
            payback,
            lambda frame: _payback(frame, currency),
        )
    )

    repeat = frames.get("repeat_customer_rate_monthly")
    repeat_how = (
        "The share of customers to date with at least two valid orders (repeat_customer_rate, "
        "cumulative) and the share of the month's buyers who had ordered in an earlier month "
        "(period_repeat_rate), from marts.repeat_customer_rate_monthly." + marker_note
    )
    charts.append(
        _chart_or_sentence(
            "chart-repeat",
            "Repeat customers",
            repeat_how,
            "repeat_customer_rate_monthly",
            repeat,
            lambda frame: _repeat(frame, currency, events),
        )
    )

    loyalty = frames.get("loyalty_monthly")
    loyalty_how = (
        "Left axis: the month's Net Promoter Score, 100 × (promoters − detractors) ÷ answers "
        "(column nps). Right axis: the points redemption rate, points redeemed ÷ earned over the "
        "trailing twelve months (redemption_rate); a month below the dashed 20 % warning line "
        "(is_redemption_below_20pct) is marked ×. From marts.loyalty_monthly." + marker_note
    )
    charts.append(
        _chart_or_sentence(
            "chart-loyalty",
            "Loyalty: NPS and points redemption",
            loyalty_how,
            "loyalty_monthly",
            loyalty,
            lambda frame: _loyalty(frame, currency, events),
        )
    )

    email = frames.get("email_subscriber_ltv")
    email_how = (
        "Per subscription cohort (the month subscribers first joined the list): the email "
        "subscriber LTV = net email profit per subscriber-month × expected months on the list "
        "(1 ÷ the monthly unsubscribe hazard, capped at 60), column subscriber_ltv of "
        'marts.email_subscriber_ltv; docs/formulas.md, "Email subscriber LTV".'
    )
    charts.append(
        _chart_or_sentence(
            "chart-email",
            "Email subscriber LTV by cohort",
            email_how,
            "email_subscriber_ltv",
            email,
            lambda frame: _email(frame, currency, events),
            drawable=lambda frame: not _all_null(frame, ["subscriber_ltv"]),
        )
    )

    segments = frames.get("customer_clv")
    segments_how = (
        "Customers of each value segment (high, medium, low by the quantiles of historical CLV) "
        f"in {20} bins of historical CLV; each point is a bin's average historical CLV (margin to "
        "date after cost to serve, column historical_clv) against its average predicted CLV of "
        "the next twelve months (BG/NBD × Gamma-Gamma, discounted; predicted_clv_12m), its size "
        "the customers in it. From marts.customer_clv, aggregated in SQL. The dotted diagonal is "
        "where the next year would earn what all the years so far did."
    )
    if _empty(segments):
        charts.append(
            Chart(
                "chart-segments",
                "CLV by value segment",
                segments_how,
                empty=_missing_sentence("customer_clv", segments),
            )
        )
    elif _all_null(segments, ["predicted_clv_12m"]):
        charts.append(
            Chart(
                "chart-segments",
                "CLV by value segment",
                segments_how,
                empty="No predictions in this file: predicted_clv_12m of marts.customer_clv "
                "is null "
                "(the probabilistic model runs on DuckDB only, or its fit failed).",
            )
        )
    else:
        charts.append(
            Chart(
                "chart-segments",
                "CLV by value segment",
                segments_how,
                _clv_segments(segments, currency),
            )
        )

    backtest = frames.get("clv_backtest")
    backtest_how = (
        "The holdout backtest of the purchase model (marts.clv_backtest): customers grouped by "
        "their repeat purchases in the calibration period, mean predicted "
        "(mean_predicted_purchases) against mean actual (mean_actual_purchases) purchases in the "
        "holdout period, as Fader, Hardie & Lee (2005) report it."
    )
    if not _empty(backtest):
        total = backtest[backtest["calibration_frequency"] == "total"]
        if not total.empty:
            row = total.iloc[0]
            backtest_how += (
                f" All {format_count(row['customers'])} customers:"
                f" {format_number(row['predicted_purchases'])}"
                f" purchases predicted, {format_count(row['actual_purchases'])} made."
            )
    charts.append(
        _chart_or_sentence(
            "chart-backtest",
            "Backtest: predicted against actual purchases",
            backtest_how,
            "clv_backtest",
            backtest,
            _backtest,
            drawable=lambda frame: not frame[frame["calibration_frequency"] != "total"].empty,
        )
    )

    origin = frames.get("clv_backtest_by_origin")
    origin_how = (
        "The rolling-origin backtest: the models refitted at every month end on the purchases "
        "up to it; the line is how far their 12-month prediction was from what happened "
        "(0 = exact), for the calendar and the seasonal clock (marts.clv_backtest_by_origin)."
    )
    origin_figure = None if _empty(origin) else _backtest_by_origin(origin)
    charts.append(
        Chart("chart-backtest-origin", "Backtest by origin", origin_how, origin_figure)
        if origin_figure is not None
        else Chart(
            "chart-backtest-origin",
            "Backtest by origin",
            origin_how,
            empty="Not built yet: marts.clv_backtest_by_origin is not in this file, so only "
            "the single-origin backtest above is shown."
            if origin is None
            else _missing_sentence("clv_backtest_by_origin", origin)
            if origin.empty
            else "Every origin's fit failed (fit_status in marts.clv_backtest_by_origin): "
            "there is no error to draw.",
        )
    )
    return charts, scope_payload


def _chart_html(chart: Chart) -> str:
    body = (
        f'<div class="chart" id="{chart.id}" data-chart></div>'
        if chart.figure is not None
        else f'<p class="empty" id="{chart.id}-empty">{html.escape(chart.empty or "")}</p>'
    )
    note = (
        f'<p class="scope-note" id="{chart.id}-note" hidden></p>'
        if chart.id == "chart-equity"
        else ""
    )
    return (
        f'<section class="card" id="card-{chart.id.removeprefix("chart-")}">'
        f"<h2>{html.escape(chart.title)}</h2>{body}{note}"
        f'<p class="how">{html.escape(chart.how_to_read)}</p></section>'
    )


def _slider_html(name: str, sym: str, label: str, low, high, step, default) -> str:
    kind = "percent" if name in PERCENT_SLIDERS else "money" if name in MONEY_SLIDERS else "number"
    return (
        f'<label class="slider" for="slider-{name}"><span>{html.escape(label)} ({sym})</span>'
        f'<output id="value-{name}" for="slider-{name}"></output>'
        f'<input type="range" id="slider-{name}" name="{name}" data-kind="{kind}" '
        f'min="{low}" max="{high}" step="{step}" value="{default}"></label>'
    )


def _calculator_html() -> str:
    sliders = "".join(_slider_html(*slider) for slider in SLIDERS)
    return (
        '<section class="card wide" id="card-calculator"><h2>What-if: the CLV of one customer</h2>'
        f'<form id="calculator" class="calculator" onsubmit="return false">{sliders}</form>'
        '<p class="clv-result">CLV: <strong id="clv-value"></strong></p>'
        '<div class="table-wrap"><table id="clv-table"><thead><tr><th>Year</th>'
        "<th>Survival r<sup>t</sup></th>"
        "<th>Discount 1/(1+d)<sup>t</sup></th><th>Expected contribution</th>"
        "<th>Cumulative CLV</th></tr></thead>"
        "<tbody></tbody></table></div>"
        '<p class="how">CLV = Σ<sub>t=1..N</sub> (p·s·m − c) · r<sup>t</sup> ÷ '
        "(1 + d)<sup>t</sup> − c ÷ a: "
        "each year's margin of an active customer (purchases × spend × gross margin − marketing "
        "cost), weighted by the chance they are still a customer and discounted, minus the cost of "
        "acquiring them (marketing cost ÷ acquisition rate). The same formula as "
        "<code>clv calc</code> (clv.formulas.discounted_clv; docs/formulas.md): the small-firm "
        "example p = 10, s = 200, m = 41 %, c = 20, a = 2 %, r = 80 %, d = 10 %, N = 5 "
        "gives 699.28.</p>"
        "</section>"
    )


def _asset(name: str) -> str:
    return resources.files("clv.dashboard").joinpath(name).read_text(encoding="utf-8")


def _script_json(payload: dict) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def build_page(
    frames: dict[str, pd.DataFrame | None],
    *,
    plotly_js: str,
    currency: str = "USD",
    publication: dict | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The dashboard as one HTML document; ``plotly_js`` is inlined once, as it is."""
    charts, scopes = build_charts(frames, currency)
    figures = {chart.id: chart.figure for chart in charts if chart.figure is not None}
    payload = {
        "figures": figures,
        "scope": scopes,
        "currency": currency,
        "symbol": symbol(currency),
    }
    tiles = "".join(
        f'<div class="tile"><span>{html.escape(label)}</span>'
        f"<strong>{html.escape(value)}</strong></div>"
        for label, value in _headline(frames, currency)
    )
    options = "".join(
        f'<option value="{html.escape(scope["key"])}">{html.escape(scope["label"])}</option>'
        for scope in scopes["scopes"]
    )
    selector = (
        f'<label class="scope" for="scope">Scope <select id="scope">{options}</select></label>'
        if options
        else ""
    )
    subtitle = []
    if publication:
        subtitle.append(
            f"Publication {publication['publication_id']}, as of {publication['as_of_date']}"
        )
    if generated_at is not None:
        subtitle.append(f"page written {generated_at:%Y-%m-%d %H:%M} UTC")
    subtitle.append(f"amounts in {currency}")
    sections = "".join(_chart_html(chart) for chart in charts)
    document = _asset("template.html")
    replacements = {
        "{{style}}": _asset("dashboard.css"),
        "{{subtitle}}": html.escape("; ".join(subtitle)),
        "{{tiles}}": tiles,
        "{{selector}}": selector,
        "{{charts}}": sections,
        "{{calculator}}": _calculator_html(),
        "{{payload}}": _script_json(payload),
        "{{script}}": _asset("dashboard.js"),
    }
    for key, value in replacements.items():
        document = document.replace(key, value)
    # Last, so that nothing in the library is taken for a placeholder.
    return document.replace("{{plotly}}", plotly_js.replace("</script", "<\\/script"))
