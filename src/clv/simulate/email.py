"""The e-mail channel: subscribers, campaigns, sends, spend and e-mail-attributed orders.

Subscribers are customers (signed up at checkout or before they ever bought) and
newsletter-only prospects; some unsubscribe later. Two campaigns a week go to a
random share of the then-active subscribers; an order placed within seven days
after a subscriber opened (most often: clicked) a campaign is attributed to it
(``utm_source = 'email'``, ``utm_campaign`` = the campaign's name).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from clv.simulate.calendar import DAY, HOUR, Window
from clv.simulate.customers import Customers
from clv.simulate.orders import Orders
from clv.simulate.people import make_emails

SOURCES = ("checkout", "popup", "footer", "list_rental")
PURPOSES = ("acquisition", "retention", "newsletter")
PURPOSE_SHARE = np.array([0.25, 0.35, 0.40])
#: Share of eligible active subscribers a campaign goes to, per purpose.
SEND_SHARE = np.array([0.45, 0.4, 0.35])
#: Newsletter-only subscribers per customer.
PROSPECTS_PER_CUSTOMER = 0.45
ATTRIBUTION_WINDOW = 7 * DAY
THEMES = (
    "new_arrivals",
    "best_sellers",
    "weekend_deals",
    "style_guide",
    "back_in_stock",
    "members_only",
    "flash_sale",
    "gift_ideas",
    "staff_picks",
    "last_chance",
)
NO_TIME = np.iinfo(np.int64).max


@dataclass
class Subscribers:
    """One row per subscriber (sorted by subscription time; id = row + 1)."""

    subscriber_id: np.ndarray
    customer: np.ndarray  # row index into Customers, -1 for prospects
    email: pa.Array
    subscribed_at: np.ndarray
    unsubscribed_at: np.ndarray  # NO_TIME when still subscribed at the end
    source: np.ndarray  # index into SOURCES
    customer_since: np.ndarray  # the customer's created_at, NO_TIME for prospects
    open_rate: np.ndarray
    click_rate: np.ndarray


@dataclass
class Campaigns:
    """Campaigns (sorted by ``sent_at``; id = row + 1)."""

    campaign_id: np.ndarray
    name: pa.Array
    purpose: np.ndarray
    sent_at: np.ndarray


@dataclass
class Sends:
    """One row per campaign and recipient (grouped by campaign, then subscriber)."""

    campaign: np.ndarray  # row index into Campaigns
    subscriber: np.ndarray  # row index into Subscribers
    delivered: np.ndarray
    opened: np.ndarray
    clicked: np.ndarray
    sent_at: np.ndarray


@dataclass
class EmailSpend:
    """Email costs: a platform fee per day, creative per campaign, occasional list rentals."""

    spend_day: np.ndarray
    campaign: np.ndarray  # row index into Campaigns, -1 for platform costs
    cost_type: np.ndarray  # index into ("platform", "creative", "list_rental")
    amount: np.ndarray
    currency: np.ndarray  # currency code per row (strings)
    amount_usd: np.ndarray
    purpose: np.ndarray  # 0 acquisition, 1 retention (for marketing_spend), -1 split


def simulate_subscribers(
    customers: Customers, first_order_at: np.ndarray, window: Window, rng: np.random.Generator
) -> Subscribers:
    """Customer subscribers (checkout or earlier sign-up) and newsletter-only prospects."""
    n = len(customers)
    rows = np.flatnonzero(customers.subscribes)
    created = customers.created_at[rows]
    pre = customers.pre_subscribed[rows]
    has_order = first_order_at[rows] >= 0
    at_checkout = ~pre & has_order & (rng.random(len(rows)) < 0.65)
    early = created - rng.integers(HOUR, 120 * DAY, len(rows))
    later = created + (rng.exponential(20.0, len(rows)) * DAY).astype(np.int64)
    subscribed = np.where(
        pre, np.maximum(early, window.start), np.where(at_checkout, first_order_at[rows], later)
    )
    pre_source = rng.choice([1, 2, 3], len(rows), p=[0.5, 0.25, 0.25])
    source = np.where(
        pre, pre_source, np.where(at_checkout, 0, rng.choice([1, 2], len(rows), p=[0.6, 0.4]))
    )
    kept = subscribed <= window.end
    rows, subscribed, source = rows[kept], subscribed[kept], source[kept]

    n_prospects = int(round(PROSPECTS_PER_CUSTOMER * n))
    prospect_at = window.clock(0.45).sample(rng, n_prospects)
    prospect_source = rng.choice([1, 2, 3], n_prospects, p=[0.45, 0.25, 0.30])
    prospect_email = make_emails(n + 1 + np.arange(n_prospects), rng)

    customer = np.concatenate([rows, np.full(n_prospects, -1)])
    subscribed_at = np.concatenate([subscribed, prospect_at])
    source = np.concatenate([source, prospect_source]).astype(np.int8)
    email = pa.concat_arrays([customers.email.take(pa.array(rows)), prospect_email])
    count = len(customer)

    engagement = np.where(source == 3, 0.5, 1.0)
    mean_life = np.where(source == 3, 120.0, 650.0)
    unsubscribed = (
        subscribed_at + HOUR + (rng.exponential(1.0, count) * mean_life * DAY).astype(np.int64)
    )
    unsubscribed = np.where(unsubscribed <= window.end, unsubscribed, NO_TIME)
    open_rate = np.clip(rng.beta(2.0, 5.0, count) * engagement, 0.0, 1.0)
    click_rate = rng.beta(1.5, 7.0, count)

    order = np.lexsort((customer, subscribed_at))
    since = np.where(customer >= 0, customers.created_at[np.maximum(customer, 0)], NO_TIME)
    return Subscribers(
        subscriber_id=np.arange(1, count + 1, dtype=np.int64),
        customer=customer[order],
        email=email.take(pa.array(order)),
        subscribed_at=subscribed_at[order],
        unsubscribed_at=unsubscribed[order],
        source=source[order],
        customer_since=since[order],
        open_rate=open_rate[order],
        click_rate=click_rate[order],
    )


def simulate_campaigns(window: Window, rng: np.random.Generator) -> Campaigns:
    """A campaign every Tuesday and Thursday morning, with a purpose and a unique name."""
    days = window.day_grid()
    weekday = (days + 3) % 7
    days = days[(weekday == 1) | (weekday == 3)]
    count = len(days)
    sent_at = days * DAY + 9 * HOUR + rng.integers(0, 2 * HOUR, count)
    purpose = rng.choice(len(PURPOSES), count, p=PURPOSE_SHARE).astype(np.int8)
    theme = rng.integers(0, len(THEMES), count)
    date_text = np.datetime_as_string(days.astype("datetime64[D]"))
    names = [
        f"{d}_{PURPOSES[p]}_{THEMES[t]}" for d, p, t in zip(date_text, purpose, theme, strict=True)
    ]
    return Campaigns(
        campaign_id=np.arange(1, count + 1, dtype=np.int64),
        name=pa.array(names, pa.string()),
        purpose=purpose,
        sent_at=sent_at,
    )


def simulate_sends(
    subscribers: Subscribers, campaigns: Campaigns, rng: np.random.Generator
) -> Sends:
    """Each campaign goes to a random share of the subscribers active when it is sent.

    Acquisition campaigns target subscribers who are not customers yet, retention
    campaigns customers, newsletters everybody. One loop step per campaign
    (about a hundred a year); everything inside is vectorised.
    """
    parts: list[tuple[np.ndarray, ...]] = []
    for index in range(len(campaigns.campaign_id)):
        at = int(campaigns.sent_at[index])
        purpose = int(campaigns.purpose[index])
        k = int(np.searchsorted(subscribers.subscribed_at, at, side="right"))
        active = subscribers.unsubscribed_at[:k] > at + HOUR
        if purpose == 0:
            active &= subscribers.customer_since[:k] > at
        elif purpose == 1:
            active &= subscribers.customer_since[:k] <= at
        chosen = np.flatnonzero(active & (rng.random(k) < SEND_SHARE[purpose]))
        size = len(chosen)
        delivered = rng.random(size) < 0.975
        boost = 1.15 if purpose == 1 else 1.0
        opened = delivered & (rng.random(size) < subscribers.open_rate[chosen] * boost)
        clicked = opened & (rng.random(size) < subscribers.click_rate[chosen])
        sent = at + rng.integers(0, 1800, size)
        parts.append((np.full(size, index, np.int64), chosen, delivered, opened, clicked, sent))
    if not parts:
        empty = np.zeros(0, np.int64)
        flag = np.zeros(0, bool)
        return Sends(empty, empty, flag, flag, flag, empty)
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    return Sends(*columns)


def attribute_orders(
    orders: Orders,
    subscribers: Subscribers,
    sends: Sends,
    n_customers: int,
    rng: np.random.Generator,
) -> None:
    """Tag orders placed within 7 days after an opened send as e-mail orders (in place).

    The latest opened send before the order qualifies; the order is attributed with
    probability 0.75 when that send was clicked, 0.3 when it was only opened.
    """
    subscriber_of_customer = np.full(n_customers, -1, dtype=np.int64)
    is_customer = subscribers.customer >= 0
    subscriber_of_customer[subscribers.customer[is_customer]] = np.flatnonzero(is_customer)
    order_subscriber = subscriber_of_customer[orders.customer]
    candidates = np.flatnonzero(order_subscriber >= 0)
    opened = np.flatnonzero(sends.opened)
    if len(candidates) == 0 or len(opened) == 0:
        return
    shift = np.int64(1) << np.int64(34)
    origin = min(int(sends.sent_at.min()), int(orders.ordered_at.min()))
    send_key = sends.subscriber[opened] * shift + (sends.sent_at[opened] - origin)
    order_of_keys = np.argsort(send_key, kind="stable")
    send_key, opened = send_key[order_of_keys], opened[order_of_keys]
    order_key = order_subscriber[candidates] * shift + (orders.ordered_at[candidates] - origin)
    position = np.searchsorted(send_key, order_key, side="left") - 1
    valid = position >= 0
    position = np.maximum(position, 0)
    send = opened[position]
    valid &= sends.subscriber[send] == order_subscriber[candidates]
    age = orders.ordered_at[candidates] - sends.sent_at[send]
    valid &= (age > 0) & (age <= ATTRIBUTION_WINDOW)
    chance = np.where(sends.clicked[send], 0.75, 0.3)
    valid &= rng.random(len(candidates)) < chance
    rows = candidates[valid]
    orders.utm_source[rows] = orders.utm_labels.index("email")
    orders.utm_campaign[rows] = sends.campaign[send[valid]]


def simulate_email_spend(
    window: Window,
    subscribers: Subscribers,
    campaigns: Campaigns,
    usd_per: dict[str, float],
    rng: np.random.Generator,
) -> EmailSpend:
    """Platform fee per day, creative per campaign and list rentals, all scaled to the list.

    Email platforms charge by list size (about 12 USD a month per 1,000
    subscribers here) and a campaign's creative and rental costs grow with the
    audience, so email costs stay a plausible share of email revenue whatever
    the number of customers simulated.
    """
    days = window.day_grid()
    unsubscribed_at = np.sort(subscribers.unsubscribed_at)

    def active_at(day: np.ndarray) -> np.ndarray:
        day_end = (day + 1) * DAY
        joined = np.searchsorted(subscribers.subscribed_at, day_end, side="left")
        left = np.searchsorted(unsubscribed_at, day_end, side="left")
        return joined - left

    platform_noise = rng.uniform(0.95, 1.05, len(days))
    platform = np.round(0.50 + 0.0004 * active_at(days) * platform_noise, 2)

    n_campaigns = len(campaigns.campaign_id)
    campaign_day = campaigns.sent_at // DAY
    #: 1.0 for a list of 10,000 active subscribers; bounded so tiny and huge lists stay sane.
    list_scale = np.clip(active_at(campaign_day) / 10_000, 0.02, 20.0)
    creative = np.round((20.0 + rng.gamma(3.0, 25.0, n_campaigns)) * list_scale + 1.0, 2)
    rental = np.flatnonzero((campaigns.purpose == 0) & (rng.random(n_campaigns) < 0.35))
    rental_amount = np.round(rng.uniform(150.0, 600.0, len(rental)) * list_scale[rental] + 1.0, 2)

    spend_day = np.concatenate([days, campaign_day, campaign_day[rental]])
    campaign = np.concatenate([np.full(len(days), -1), np.arange(n_campaigns), rental])
    cost_type = np.concatenate(
        [np.zeros(len(days)), np.ones(n_campaigns), np.full(len(rental), 2)]
    ).astype(np.int8)
    amount = np.concatenate([platform, creative, rental_amount])
    currency = np.array(["USD"] * len(days) + ["EUR"] * n_campaigns + ["GBP"] * len(rental))
    rate = np.concatenate(
        [
            np.full(len(days), usd_per["USD"]),
            np.full(n_campaigns, usd_per["EUR"]),
            np.full(len(rental), usd_per["GBP"]),
        ]
    )
    campaign_purpose = np.where(campaigns.purpose == 0, 0, 1)
    purpose = np.concatenate(
        [np.full(len(days), -1), campaign_purpose, np.zeros(len(rental), dtype=np.int64)]
    )
    order = np.lexsort((campaign, cost_type, spend_day))
    return EmailSpend(
        spend_day=spend_day[order],
        campaign=campaign[order],
        cost_type=cost_type[order],
        amount=amount[order],
        currency=currency[order],
        amount_usd=(amount * rate)[order],
        purpose=purpose[order],
    )
