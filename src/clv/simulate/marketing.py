"""Monthly marketing spend per paid channel and purpose, in USD.

Acquisition spend follows the customers each channel brought in that month (a
cost per acquisition with monthly noise, plus a fixed base); retention spend
follows the repeat orders the channel's traffic sources brought. The e-mail
channel's figures are the month's ``email_spend`` converted to USD (platform
fees split half and half). A month cut by the window holds the spend of the
days inside the window (month to date for the last one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clv.contract import reference as ref
from clv.simulate.calendar import DAY, Window, loaded_at_for_day, month_of, month_starts
from clv.simulate.customers import Customers
from clv.simulate.email import EmailSpend
from clv.simulate.orders import Orders

#: Channels that carry spend in marketing_spend (a property of the simulated shop).
PAID_CHANNELS = ("paid_search", "paid_social", "email", "affiliate")

#: channel -> (USD per acquired customer, USD per repeat order it drove, USD base per day).
PAID = {
    "paid_search": (42.0, 1.4, 6.0),
    "paid_social": (36.0, 1.1, 5.0),
    "affiliate": (24.0, 2.5, 1.0),
}
#: Traffic sources (orders.utm_source) that count as the channel's repeat orders.
CHANNEL_UTM = {
    "paid_search": ("google", "bing"),
    "paid_social": ("facebook", "instagram"),
    "affiliate": ("affiliate",),
}


@dataclass
class MarketingSpend:
    """One row per month x paid channel x purpose."""

    spend_month: np.ndarray  # day number of the month's first day
    channel: np.ndarray  # index into ref.CHANNELS
    purpose: np.ndarray  # 0 acquisition, 1 retention
    amount: np.ndarray  # USD
    loaded_at: np.ndarray  # seconds


def simulate_marketing_spend(
    window: Window,
    customers: Customers,
    orders: Orders,
    email_spend: EmailSpend,
    rng: np.random.Generator,
) -> MarketingSpend:
    """Spend for every month overlapping the window, every paid channel and purpose."""
    months = month_starts(window.start_day, window.end_day)
    n_months = len(months)
    next_months = np.append(months[1:], month_of(np.array([months[-1] + 31]))[0])
    first_day = np.maximum(months, window.start_day)
    last_day = np.minimum(next_months - 1, window.end_day)
    covered = (last_day - first_day + 1).astype(float)

    def per_month(days: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        index = np.searchsorted(months, days, side="right") - 1
        return np.bincount(index, weights, minlength=n_months)[:n_months]

    repeat = ~orders.is_first
    order_day = orders.ordered_at // DAY
    rows = []
    for channel in PAID_CHANNELS:
        code = ref.CHANNELS.index(channel)
        if channel == "email":
            acquisition = per_month(
                email_spend.spend_day,
                email_spend.amount_usd
                * np.select([email_spend.purpose == 0, email_spend.purpose == -1], [1.0, 0.5], 0.0),
            )
            retention = per_month(
                email_spend.spend_day,
                email_spend.amount_usd
                * np.select([email_spend.purpose == 1, email_spend.purpose == -1], [1.0, 0.5], 0.0),
            )
            acquisition = np.maximum(acquisition, 0.01 * covered)
            retention = np.maximum(retention, 0.01 * covered)
        else:
            cac, per_order, base = PAID[channel]
            acquired = per_month(customers.created_at[customers.channel == code] // DAY)
            utm = [orders.utm_labels.index(s) for s in CHANNEL_UTM[channel]]
            driven = per_month(order_day[repeat & np.isin(orders.utm_source, utm)])
            acquisition = acquired * cac * rng.uniform(0.85, 1.15, n_months) + base * covered
            retention = (
                driven * per_order * rng.uniform(0.85, 1.15, n_months) + 0.5 * base * covered
            )
        for purpose, amount in enumerate((acquisition, retention)):
            rows.append((months, np.full(n_months, code), np.full(n_months, purpose), amount))
    spend_month, channel, purpose, amount = (np.concatenate(c) for c in zip(*rows, strict=True))
    order = np.lexsort((purpose, channel, spend_month))
    loaded = np.tile(loaded_at_for_day(last_day), len(rows))
    return MarketingSpend(
        spend_month=spend_month[order],
        channel=channel[order].astype(np.int8),
        purpose=purpose[order].astype(np.int8),
        amount=np.round(amount[order], 2),
        loaded_at=loaded[order].astype(np.int64),
    )
