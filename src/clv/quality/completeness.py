"""Cross-file completeness of the raw delivery: the suite ``raw.completeness``.

Every row of a partial delivery can be valid: an ``order_items`` file that
lost 30 % of its lines passes every per-file check, and the marts built from
it overstate gross margin by a third (the cost of goods lives in the missing
lines). What gives such a file away is another file of the same delivery, or
the file's own history. This module computes, with pandas, from the raw
frames the runner has already read, one figure per check; the suite's frame
holds one row with a column per figure and each figure has one expectation
(``expect_column_max_to_be_between`` with the figure's band), so the Data
Docs show observed against allowed. A failed figure is reported as one line,
``<file>: <what> <observed> (allowed <band>)``.

The figures and the file each one blames (bands: :class:`QualitySettings`):

- ``shop/order_items.parquet``
  - completed orders without lines (share; ``max_orders_without_lines_share``);
  - completed orders whose lines' subtotal, sum(quantity × unit_price), differs
    from ``order_total - shipping - tax + discount`` by more than
    ``subtotal_tolerance`` (share; ``max_subtotal_mismatch_share``). The
    simulator keeps that identity to the cent (it rounds the items total and
    the order total to 2 decimals);
  - lines per completed order, and value per line, of the last
    ``recent_days`` against the ``trailing_days`` before (ratios;
    ``recent_lines_band``, ``recent_value_band``).
- ``shop/orders.parquet``: order lines whose order is not in the file (share;
  ``max_lines_without_order_share``; also the raw order_items suite's reference
  check, at ``max_rejected_share``, which blames the other file); orders of
  the last n days, for each n = 2..7, against the sum of the same weekdays'
  medians over the ``weekday_weeks`` weeks before; the figure is the lowest of the seven ratios
  (``min_recent_volume_ratio``), so a delivery missing its last day(s) stops.
  A span is judged only when its expected count reaches
  ``min_recent_volume_expected`` (10 orders): below that, no count is
  surprising (a 300-customer shop sells about 1.5 orders a day).
- ``email/email_sends.parquet``
  - campaigns sent (by the delivery's end) with no send (share;
    ``max_campaigns_without_sends_share``);
  - sends per campaign of the last ``recent_days`` against the median of the
    same purpose's campaigns over the ``trailing_days`` before (the median of
    those ratios; ``recent_sends_band``);
  - e-mail-attributed orders (``utm_campaign`` set) with no opened send of
    that campaign to the customer's subscriber (share;
    ``max_email_orders_without_send_share``): the simulator attributes an
    order only to an opened send, so the shop and the e-mail files must agree.
- ``email/email_subscriptions.parquet``: sends whose subscriber has no
  subscription row, and unsubscribe events with no subscribe event of the
  same subscriber (shares; ``max_missing_subscription_share``). The first is
  also the raw email_sends suite's reference check (at ``max_rejected_share``);
  here it blames the file that lost the rows.
- ``loyalty/loyalty_points.parquet``: a member's completed orders from the
  enrolment on with a total of at least 1 that have no earn entry (share;
  ``max_member_orders_without_earn_share``): the simulator writes one earn
  entry per such order (1 point per currency unit, floored).

"The delivery's end" is the last day before the median, over the raw files,
of each file's latest ``_loaded_at`` (the simulator loads at 02:00 the day
after the events): one truncated file cannot move it. Rows a staging rule
would reject (duplicates, non-positive quantities, unknown statuses) are left
out of the figures where they would bias them, so that the ~1-2 % of
quarantinable rows the simulator injects (``--bad-rows``) do not trip them; a
figure whose input is missing (a file failed its pre-flight, too little
history) is left out rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

from clv.contract import reference as ref
from clv.quality.suites import Expectation, QualitySettings, SuitePlan

SUITE = "raw.completeness"

ORDERS = "shop/orders.parquet"
ORDER_ITEMS = "shop/order_items.parquet"
EMAIL_SENDS = "email/email_sends.parquet"
EMAIL_SUBSCRIPTIONS = "email/email_subscriptions.parquet"
LOYALTY_POINTS = "loyalty/loyalty_points.parquet"


#: The recent-volume figure sums the last n days for n = 2..7. One day alone is too noisy
#: at 1,500 customers (about 8 orders a day: 2 orders on a day whose weekday median is
#: 7.5 occurs in clean data, seed 10); two days are not (about 15 orders).
SHORTEST_RECENT_DAYS = 2


@dataclass(frozen=True)
class Figure:
    """One computed figure, the file it blames and its allowed band."""

    #: The column of the suite's frame (a valid identifier).
    name: str
    #: The raw file a failure blames, e.g. "shop/order_items.parquet".
    file: str
    #: What the figure is, in words: "completed orders without lines".
    label: str
    value: float
    min_value: float | None
    max_value: float | None
    #: "share" (shown as %) or "ratio" (shown as ×).
    unit: str
    why: str

    @property
    def passed(self) -> bool:
        low = self.min_value if self.min_value is not None else -np.inf
        high = self.max_value if self.max_value is not None else np.inf
        return bool(low <= self.value <= high)


def show(value: float | None, unit: str) -> str:
    """A figure as people read it: 31.2 % for a share, 0.71× for a ratio."""
    if value is None:
        return "?"
    if unit == "share":
        return f"{value * 100:.2g} %" if 0 < abs(value) < 0.001 else f"{value * 100:.1f} %"
    return f"{value:.2f}×"


def band(min_value: float | None, max_value: float | None, unit: str) -> str:
    """The allowed band in words: "<= 0.5 %", ">= 0.40×", "0.60× .. 1.40×"."""
    if min_value is None:
        return f"<= {show(max_value, unit)}"
    if max_value is None:
        return f">= {show(min_value, unit)}"
    return f"{show(min_value, unit)} .. {show(max_value, unit)}"


def failure_line(file: str, label: str, observed: float | None, low, high, unit: str) -> str:
    """The one-line report of a failed figure."""
    return f"{file}: {label} {show(observed, unit)} (allowed {band(low, high, unit)})"


# ---------------------------------------------------------------- preparing frames


def _first_loaded(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """One row per key, the earliest loaded (staging's duplicate rule), null keys dropped."""
    frame = frame.dropna(subset=key)
    if "_loaded_at" in frame:
        frame = frame.sort_values("_loaded_at", kind="stable")
    return frame.drop_duplicates(subset=key, keep="first")


def delivery_end(frames: dict[str, pd.DataFrame], now: datetime) -> pd.Timestamp | None:
    """The last event day of the delivery (see the module docstring), or None."""
    latest = []
    for frame in frames.values():
        if "_loaded_at" not in frame:
            continue
        loaded = frame["_loaded_at"].dropna()
        loaded = loaded[loaded <= pd.Timestamp(now)]
        if len(loaded):
            latest.append(loaded.max())
    if not latest:
        return None
    return pd.Series(latest).median().floor("D") - pd.Timedelta(days=1)


def _completed_orders(frames: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    orders = frames.get("shop.orders")
    if orders is None:
        return None
    orders = _first_loaded(orders, ["order_id"])
    keep = (orders["status"] == "completed") & orders["ordered_at"].notna()
    # Rows the quarantine rejects (they have no lines, no earn entry): left out.
    keep &= orders["currency"].isin(sorted(ref.currency_rates()))
    for column in ("order_total", "discount", "shipping", "tax"):
        keep &= orders[column] >= 0
    keep &= ~(orders["ordered_at"] > orders["_loaded_at"])
    customers = frames.get("shop.customers")
    if customers is not None:
        keep &= orders["customer_id"].isin(customers["customer_id"].dropna())
    return orders[keep]


def _valid_lines(frames: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    items = frames.get("shop.order_items")
    if items is None:
        return None
    items = _first_loaded(items, ["order_id", "line_no"])
    items = items[(items["quantity"] > 0) & (items["unit_price"] >= 0)]
    return items.assign(value=items["quantity"].astype(float) * items["unit_price"])


# ---------------------------------------------------------------- figures


def _share(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole else None


def order_item_figures(
    frames: dict[str, pd.DataFrame], settings: QualitySettings, end: pd.Timestamp | None
) -> list[Figure]:
    """shop.orders × shop.order_items: lines present, subtotals, recent lines and values."""
    orders, lines = _completed_orders(frames), _valid_lines(frames)
    if orders is None or lines is None or orders.empty:
        return []
    figures: list[Figure] = []
    per_order = lines.groupby("order_id").agg(lines=("line_no", "size"), subtotal=("value", "sum"))
    joined = orders.join(per_order, on="order_id")
    has_lines = joined["lines"].notna()
    share = _share((~has_lines).sum(), len(joined))
    figures.append(
        Figure(
            "orders_without_lines_share",
            ORDER_ITEMS,
            "completed orders without lines",
            share,
            None,
            settings.max_orders_without_lines_share,
            "share",
            "every completed order has at least one line: the file lost lines",
        )
    )
    known = lines["order_id"].isin(frames["shop.orders"]["order_id"].dropna())
    figures.append(
        Figure(
            "lines_without_order_share",
            ORDERS,
            "order lines whose order is missing",
            _share((~known).sum(), len(known)),
            None,
            settings.max_lines_without_order_share,
            "share",
            "every line belongs to an order: the orders file lost rows",
        )
    )
    with_lines = joined[has_lines]
    expected = (
        with_lines["order_total"]
        - with_lines["shipping"]
        + with_lines["discount"]
        - with_lines["tax"]
    )
    gap = (with_lines["subtotal"] - expected).abs()
    comparable = gap.notna()
    if comparable.any():
        mismatched = (gap[comparable] > settings.subtotal_tolerance).sum()
        figures.append(
            Figure(
                "subtotal_mismatch_share",
                ORDER_ITEMS,
                "completed orders whose lines do not add up to the order's subtotal",
                _share(mismatched, comparable.sum()),
                None,
                settings.max_subtotal_mismatch_share,
                "share",
                "sum(quantity * unit_price) = order_total - shipping - tax + discount "
                f"within {settings.subtotal_tolerance:g}: an order lost some of its lines",
            )
        )
    if end is None:
        return figures
    recent, trailing = _windows(with_lines["ordered_at"], end, settings)
    if recent.sum() and trailing.sum():
        now_, before = with_lines[recent], with_lines[trailing]
        lines_ratio = now_["lines"].mean() / before["lines"].mean()
        value_recent = now_["subtotal"].sum() / now_["lines"].sum()
        value_trailing = before["subtotal"].sum() / before["lines"].sum()
        window = f"last {settings.recent_days} days vs the {settings.trailing_days} before"
        figures.append(
            Figure(
                "recent_lines_per_order_ratio",
                ORDER_ITEMS,
                f"lines per completed order, {window}",
                float(lines_ratio),
                1 - settings.recent_lines_band,
                1 + settings.recent_lines_band,
                "ratio",
                "the recent orders' lines are missing (or doubled)",
            )
        )
        if value_trailing:
            figures.append(
                Figure(
                    "recent_value_per_line_ratio",
                    ORDER_ITEMS,
                    f"value per line, {window}",
                    float(value_recent / value_trailing),
                    1 - settings.recent_value_band,
                    1 + settings.recent_value_band,
                    "ratio",
                    "the recent lines' prices or quantities are off (a partial or mixed file)",
                )
            )
    return figures


def _windows(
    at: pd.Series, end: pd.Timestamp, settings: QualitySettings
) -> tuple[pd.Series, pd.Series]:
    """Masks of the recent window (the last ``recent_days`` up to ``end``) and the one before."""
    stop = end + pd.Timedelta(days=1)
    recent_start = stop - pd.Timedelta(days=settings.recent_days)
    trailing_start = recent_start - pd.Timedelta(days=settings.trailing_days)
    recent = (at >= recent_start) & (at < stop)
    trailing = (at >= trailing_start) & (at < recent_start)
    return recent, trailing


def recent_volume_figure(
    frame: pd.DataFrame | None,
    event: str,
    file: str,
    what: str,
    settings: QualitySettings,
    end: pd.Timestamp | None,
) -> list[Figure]:
    """Events of the last n days (n = 2..7) against the same weekdays' medians before."""
    if frame is None or end is None or event not in frame:
        return []
    days = frame[event].dropna().dt.floor("D")
    counts = days.value_counts()
    ratios = []
    observed = expected = 0.0
    for back in range(7):
        day = end - pd.Timedelta(days=back)
        before = [day - pd.Timedelta(weeks=w) for w in range(1, settings.weekday_weeks + 1)]
        observed += float(counts.get(day, 0))
        expected += float(np.median([counts.get(d, 0) for d in before]))
        if back + 1 >= SHORTEST_RECENT_DAYS and expected >= settings.min_recent_volume_expected:
            ratios.append(observed / expected)
    if not ratios:
        return []
    name = file.split("/")[-1].removesuffix(".parquet")
    return [
        Figure(
            f"recent_{name}_volume_ratio",
            file,
            f"{what} of the last {SHORTEST_RECENT_DAYS}-7 days vs the same weekdays' median of the "
            f"{settings.weekday_weeks} weeks before (lowest)",
            float(min(ratios)),
            settings.min_recent_volume_ratio,
            None,
            "ratio",
            "the delivery is missing its last day(s)",
        )
    ]


def email_figures(
    frames: dict[str, pd.DataFrame], settings: QualitySettings, end: pd.Timestamp | None
) -> list[Figure]:
    """email_campaigns × email_sends × email_subscriptions × shop.orders."""
    figures: list[Figure] = []
    campaigns, sends = frames.get("email.email_campaigns"), frames.get("email.email_sends")
    subscriptions = frames.get("email.email_subscriptions")
    if campaigns is not None and sends is not None:
        campaigns = _first_loaded(campaigns, ["campaign_id"])
        sends = _first_loaded(sends, ["campaign_id", "subscriber_id"])
        # Rows the quarantine rejects (they have no sends) are left out.
        keep = campaigns["purpose"].isin(ref.CAMPAIGN_PURPOSES) & campaigns["name"].notna()
        keep &= campaigns["sent_at"].notna() & ~(campaigns["sent_at"] > campaigns["_loaded_at"])
        if end is not None:
            keep &= campaigns["sent_at"] < end + pd.Timedelta(days=1)
        campaigns = campaigns[keep]
        per_campaign = sends.groupby("campaign_id").size()
        counted = campaigns.assign(
            sends=campaigns["campaign_id"].map(per_campaign).fillna(0).astype(float)
        )
        if len(counted):
            figures.append(
                Figure(
                    "campaigns_without_sends_share",
                    EMAIL_SENDS,
                    "campaigns without sends",
                    _share((counted["sends"] == 0).sum(), len(counted)),
                    None,
                    settings.max_campaigns_without_sends_share,
                    "share",
                    "every campaign went to someone: the file lost its sends",
                )
            )
        if end is not None:
            figures += _recent_sends(counted, settings, end)
        orders = frames.get("shop.orders")
        if orders is not None and subscriptions is not None:
            figures += _email_orders(orders, campaigns, sends, subscriptions, settings)
    if sends is not None and subscriptions is not None:
        known = sends["subscriber_id"].dropna().isin(subscriptions["subscriber_id"].dropna())
        if len(known):
            figures.append(
                Figure(
                    "sends_without_subscription_share",
                    EMAIL_SUBSCRIPTIONS,
                    "sends whose subscriber has no subscription row",
                    _share((~known).sum(), len(known)),
                    None,
                    settings.max_missing_subscription_share,
                    "share",
                    "every send goes to a subscriber: the subscriptions file lost rows",
                )
            )
    if subscriptions is not None:
        events = subscriptions.dropna(subset=["subscriber_id"])
        subscribed = set(events.loc[events["event_type"] == "subscribe", "subscriber_id"])
        unsubscribers = events.loc[events["event_type"] == "unsubscribe", "subscriber_id"].unique()
        if len(unsubscribers):
            orphans = sum(1 for s in unsubscribers if s not in subscribed)
            figures.append(
                Figure(
                    "unsubscribes_without_subscribe_share",
                    EMAIL_SUBSCRIPTIONS,
                    "unsubscribers without a subscribe event",
                    _share(orphans, len(unsubscribers)),
                    None,
                    settings.max_missing_subscription_share,
                    "share",
                    "nobody unsubscribes without subscribing first: the file lost rows",
                )
            )
    return figures


def _recent_sends(
    counted: pd.DataFrame, settings: QualitySettings, end: pd.Timestamp
) -> list[Figure]:
    recent, trailing = _windows(counted["sent_at"], end, settings)
    ratios = []
    for _, campaign in counted[recent].iterrows():
        same = counted[trailing & (counted["purpose"] == campaign["purpose"])]
        baseline = same["sends"].median() if len(same) else 0.0
        if baseline > 0:
            ratios.append(campaign["sends"] / baseline)
    if not ratios:
        return []
    return [
        Figure(
            "recent_sends_per_campaign_ratio",
            EMAIL_SENDS,
            f"sends per campaign of the last {settings.recent_days} days vs the same purpose's "
            f"median of the {settings.trailing_days} before (median)",
            float(np.median(ratios)),
            1 - settings.recent_sends_band,
            1 + settings.recent_sends_band,
            "ratio",
            "the recent campaigns' sends are missing (or doubled)",
        )
    ]


def _email_orders(
    orders: pd.DataFrame,
    campaigns: pd.DataFrame,
    sends: pd.DataFrame,
    subscriptions: pd.DataFrame,
    settings: QualitySettings,
) -> list[Figure]:
    orders = _first_loaded(orders, ["order_id"])
    attributed = orders[(orders["utm_source"] == "email") & orders["utm_campaign"].notna()][
        ["order_id", "customer_id", "utm_campaign"]
    ]
    names = campaigns.dropna(subset=["name"]).drop_duplicates("name")
    attributed = attributed.merge(
        names[["name", "campaign_id"]], left_on="utm_campaign", right_on="name", how="inner"
    )
    subscribers = subscriptions.dropna(subset=["customer_id", "subscriber_id"])[
        ["customer_id", "subscriber_id"]
    ].drop_duplicates()
    attributed = attributed.merge(subscribers, on="customer_id", how="inner")
    if attributed.empty:
        return []
    opened = sends.loc[sends["opened"].fillna(False).astype(bool), ["campaign_id", "subscriber_id"]]
    opened = opened.assign(has_send=True).drop_duplicates(["campaign_id", "subscriber_id"])
    matched = attributed.merge(opened, on=["campaign_id", "subscriber_id"], how="left")
    found = matched.groupby("order_id")["has_send"].any()
    return [
        Figure(
            "email_orders_without_send_share",
            EMAIL_SENDS,
            "e-mail-attributed orders without an opened send of their campaign",
            _share((~found.fillna(False).astype(bool)).sum(), len(found)),
            None,
            settings.max_email_orders_without_send_share,
            "share",
            "an order is attributed to a campaign only through an opened send: the sends "
            "file lost rows",
        )
    ]


def loyalty_figures(frames: dict[str, pd.DataFrame], settings: QualitySettings) -> list[Figure]:
    """loyalty_members × shop.orders × loyalty_points: one earn entry per eligible order."""
    orders = _completed_orders(frames)
    members, points = frames.get("loyalty.loyalty_members"), frames.get("loyalty.loyalty_points")
    if orders is None or members is None or points is None:
        return []
    members = _first_loaded(members, ["customer_id"]).dropna(subset=["enrolled_at"])
    eligible = orders.merge(members[["customer_id", "enrolled_at"]], on="customer_id")
    eligible = eligible[
        (eligible["ordered_at"] >= eligible["enrolled_at"]) & (eligible["order_total"] >= 1.0)
    ]
    if eligible.empty:
        return []
    earned = points.loc[points["entry_type"] == "earn", "order_id"].dropna().unique()
    missing = (~eligible["order_id"].isin(earned)).sum()
    return [
        Figure(
            "member_orders_without_earn_share",
            LOYALTY_POINTS,
            "members' completed orders without an earn entry",
            _share(missing, len(eligible)),
            None,
            settings.max_member_orders_without_earn_share,
            "share",
            "every completed order of a member from the enrolment on earns points",
        )
    ]


def figures(
    frames: dict[str, pd.DataFrame], settings: QualitySettings, now: datetime
) -> list[Figure]:
    """Every figure that the frames present allow (see the module docstring)."""
    end = delivery_end(frames, now)
    found = order_item_figures(frames, settings, end)
    found += recent_volume_figure(
        frames.get("shop.orders"), "ordered_at", ORDERS, "orders", settings, end
    )
    found += email_figures(frames, settings, end)
    found += loyalty_figures(frames, settings)
    return [figure for figure in found if figure.value is not None and np.isfinite(figure.value)]


def completeness_plan(
    frames: dict[str, pd.DataFrame], settings: QualitySettings, now: datetime
) -> SuitePlan | None:
    """The suite ``raw.completeness``: a one-row frame of figures, one expectation each.

    Never raises for odd data: a figure that cannot be computed makes the
    suite fail with a one-line reason.
    """
    try:
        computed = figures(frames, settings, now)
    except Exception as error:  # noqa: BLE001 - odd data must not crash the gate
        message = str(error).splitlines()[0] if str(error) else ""
        return SuitePlan(
            SUITE,
            "raw",
            None,
            problems=[
                f"raw files: the completeness figures could not be computed: "
                f"{type(error).__name__}: {message}"
            ],
        )
    if not computed:
        return None
    frame = pd.DataFrame({figure.name: [figure.value] for figure in computed})
    expectations: list[Expectation] = [
        gxe.ExpectColumnMaxToBeBetween(
            column=figure.name,
            min_value=figure.min_value,
            max_value=figure.max_value,
            notes=f"{figure.file}: {figure.label}. {figure.why}.",
            meta={"file": figure.file, "label": figure.label, "unit": figure.unit},
        )
        for figure in computed
    ]
    return SuitePlan(SUITE, "raw", frame, expectations)
