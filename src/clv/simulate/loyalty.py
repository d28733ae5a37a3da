"""Loyalty programme: members, the points ledger, NPS responses and referrals.

The points ledger is valid by construction: a member redeems in blocks of
:data:`REDEEM_BLOCK` points, and the cumulative redemptions up to an earn entry
never exceed a fraction of the points earned so far, each redemption dated after
the earn entry it draws on; unused points expire a year after the last activity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from clv.simulate.calendar import DAY, HOUR, Window
from clv.simulate.customers import Customers
from clv.simulate.orders import Orders
from clv.simulate.people import make_emails

TIERS = ("bronze", "silver", "gold")
#: Lifetime completed spend (USD) for silver and gold.
TIER_THRESHOLDS_USD = (400.0, 1200.0)
REDEEM_BLOCK = 100
EXPIRY = 365 * DAY
NPS_RESPONSE_RATE = 0.18
#: Score distributions per NPS disposition (promoter, passive, detractor).
SCORE_P = np.array(
    [
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.4, 0.6],
        [0, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0, 0],
        [0.04, 0.03, 0.05, 0.08, 0.12, 0.28, 0.40, 0, 0, 0, 0],
    ]
)
UNCONVERTED_REFERRALS_PER_CONVERSION = 2.0


@dataclass
class Members:
    """Loyalty members (sorted by customer)."""

    customer: np.ndarray
    enrolled_at: np.ndarray
    tier: np.ndarray  # index into TIERS


@dataclass
class Points:
    """The points ledger (sorted by ``entry_at``; entry_id = row + 1)."""

    entry_id: np.ndarray
    customer: np.ndarray
    entry_type: np.ndarray  # 0 earn, 1 redeem, 2 expire
    points: np.ndarray
    entry_at: np.ndarray
    order: np.ndarray  # row index into Orders, -1 = null


@dataclass
class NpsResponses:
    """NPS survey answers (sorted by ``responded_at``)."""

    response_id: np.ndarray
    customer: np.ndarray
    responded_at: np.ndarray
    score: np.ndarray


@dataclass
class Referrals:
    """Referral invitations (sorted by ``referred_at``)."""

    referral_id: np.ndarray
    referrer: np.ndarray  # row index into Customers
    referred_email: pa.Array
    referred_at: np.ndarray
    referred_customer: np.ndarray  # row index into Customers, -1 when not (yet) a customer


def _group_cumsum(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(values)
    before = np.concatenate([[0], cumulative])[starts]
    return cumulative - np.repeat(before, counts)


def simulate_members(
    customers: Customers,
    orders: Orders,
    first_order_at: np.ndarray,
    usd_per_unit: np.ndarray,
    window: Window,
    rng: np.random.Generator,
) -> Members:
    """Buyers with the loyalty trait enrol at their first order or some weeks later."""
    n = len(customers)
    candidate = np.flatnonzero((first_order_at >= 0) & customers.joins_loyalty)
    later = (rng.exponential(30.0, len(candidate)) * DAY).astype(np.int64)
    at_checkout = rng.random(len(candidate)) < 0.65
    enrolled_at = first_order_at[candidate] + np.where(at_checkout, 0, later)
    keep = enrolled_at <= window.end
    candidate, enrolled_at = candidate[keep], enrolled_at[keep]
    completed = ~orders.cancelled
    spend = np.bincount(
        orders.customer[completed],
        orders.order_total[completed] * usd_per_unit[orders.currency[completed]],
        minlength=n,
    )[candidate]
    tier = np.searchsorted(np.array(TIER_THRESHOLDS_USD), spend, side="right").astype(np.int8)
    return Members(customer=candidate, enrolled_at=enrolled_at, tier=tier)


def simulate_points(
    members: Members, orders: Orders, n_customers: int, window: Window, rng: np.random.Generator
) -> Points:
    """Earn 1 point per currency unit on completed orders, redeem in blocks, expire after a year."""
    enrolled = np.full(n_customers, np.iinfo(np.int64).max, dtype=np.int64)
    enrolled[members.customer] = members.enrolled_at
    earn = np.flatnonzero(
        ~orders.cancelled
        & (orders.ordered_at >= enrolled[orders.customer])
        & (orders.order_total >= 1.0)
    )
    earn = earn[np.lexsort((orders.ordered_at[earn], orders.customer[earn]))]
    earn_points = np.floor(orders.order_total[earn]).astype(np.int64)
    member = orders.customer[earn]
    earn_at = orders.ordered_at[earn]

    # Redemptions: cumulative redeemed after earn k = block * floor(appetite * earned_k / block).
    boundaries = np.flatnonzero(np.diff(member)) + 1
    starts = np.concatenate([[0], boundaries]).astype(np.int64) if len(member) else boundaries
    counts = np.diff(np.concatenate([starts, [len(member)]]))
    earned = _group_cumsum(earn_points, starts, counts)
    appetite = np.where(rng.random(n_customers) < 0.55, rng.beta(2.0, 2.0, n_customers), 0.0)
    allowed = REDEEM_BLOCK * np.floor(appetite[member] * earned / REDEEM_BLOCK).astype(np.int64)
    previous = np.concatenate([[0], allowed[:-1]])
    previous[starts] = 0
    redeem_points = allowed - previous
    redeem_at = earn_at + rng.integers(DAY, 45 * DAY, len(earn_at))
    redeem = (redeem_points > 0) & (redeem_at <= window.end)

    # Expiry: whatever is left a year after the member's last activity.
    group = np.repeat(np.arange(len(starts)), counts)
    last_at = np.zeros(len(starts), dtype=np.int64)
    np.maximum.at(last_at, group, np.where(redeem, redeem_at, earn_at))
    balance = np.bincount(
        group, earn_points - np.where(redeem, redeem_points, 0), minlength=len(starts)
    ).astype(np.int64)
    expire_at = last_at + EXPIRY
    expire = (balance > 0) & (expire_at <= window.end)
    group_member = member[starts]

    customer = np.concatenate([member, member[redeem], group_member[expire]])
    entry_type = np.concatenate(
        [np.zeros(len(member)), np.ones(int(redeem.sum())), np.full(int(expire.sum()), 2)]
    ).astype(np.int8)
    points = np.concatenate([earn_points, redeem_points[redeem], balance[expire]])
    entry_at = np.concatenate([earn_at, redeem_at[redeem], expire_at[expire]])
    order_row = np.concatenate([earn, np.full(int(redeem.sum() + expire.sum()), -1)])
    order = np.lexsort((entry_type, customer, entry_at))
    return Points(
        entry_id=np.arange(1, len(order) + 1, dtype=np.int64),
        customer=customer[order],
        entry_type=entry_type[order],
        points=points[order],
        entry_at=entry_at[order],
        order=order_row[order],
    )


def simulate_nps(
    customers: Customers, orders: Orders, window: Window, rng: np.random.Generator
) -> NpsResponses:
    """Surveys after some completed orders; the score follows the customer's disposition."""
    m = len(orders)
    responded_at = orders.ordered_at + rng.integers(2 * DAY, 12 * DAY, m)
    rows = np.flatnonzero(
        ~orders.cancelled & (rng.random(m) < NPS_RESPONSE_RATE) & (responded_at <= window.end)
    )
    disposition = customers.nps_class[orders.customer[rows]].astype(np.int64)
    mood = rng.random(len(rows)) < 0.12
    disposition = np.where(
        mood, np.where(disposition == 1, rng.choice([0, 2], len(rows)), 1), disposition
    )
    cdf = np.cumsum(SCORE_P, axis=1)
    cdf[:, -1] = 1.0  # no rounding error may push a draw past 10
    score = (rng.random(len(rows))[:, None] >= cdf[disposition]).sum(axis=1).astype(np.int32)
    by_time = np.lexsort((rows, responded_at[rows]))
    rows, score = rows[by_time], score[by_time]
    return NpsResponses(
        response_id=np.arange(1, len(rows) + 1, dtype=np.int64),
        customer=orders.customer[rows],
        responded_at=responded_at[rows],
        score=score,
    )


def simulate_referrals(
    customers: Customers,
    first_order_at: np.ndarray,
    first_person_key: int,
    window: Window,
    rng: np.random.Generator,
) -> Referrals:
    """Invitations that became customers (as ``referred_by_customer_id`` says) and others."""
    referred = np.flatnonzero(customers.referred_by > 0)
    referrer = customers.referred_by[referred] - 1
    lead = rng.integers(HOUR, 21 * DAY, len(referred))
    floor = np.maximum(customers.created_at[referrer], window.start)
    converted_at = np.maximum(customers.created_at[referred] - lead, floor)
    converted_at = np.minimum(converted_at, customers.created_at[referred])

    weights = customers.referral_propensity * (first_order_at >= 0)
    count = (
        int(round(UNCONVERTED_REFERRALS_PER_CONVERSION * len(referred))) if weights.sum() > 0 else 0
    )
    other = (
        rng.choice(len(customers), count, p=weights / weights.sum())
        if count
        else np.zeros(0, np.int64)
    )
    since = first_order_at[other]
    invited_at = since + (rng.random(count) * (window.end - since)).astype(np.int64)
    invited_email = make_emails(first_person_key + np.arange(count), rng)

    referrer_all = np.concatenate([referrer, other])
    referred_at = np.concatenate([converted_at, invited_at])
    referred_customer = np.concatenate([referred, np.full(count, -1)])
    email = pa.concat_arrays([customers.email.take(pa.array(referred)), invited_email])
    order = np.lexsort((referrer_all, referred_at))
    return Referrals(
        referral_id=np.arange(1, len(order) + 1, dtype=np.int64),
        referrer=referrer_all[order],
        referred_email=email.take(pa.array(order)),
        referred_at=referred_at[order],
        referred_customer=referred_customer[order],
    )
