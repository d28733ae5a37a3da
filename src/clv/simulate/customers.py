"""Customers: arrival over time, country, channel, referrals, and traits drawn up front.

The traits (NPS disposition, category breadth, purchase rate, drop-out probability,
spend level, loyalty and newsletter propensity) are drawn here, before any order
exists, so that behaviour downstream follows from them: promoters and
multi-category buyers drop out less, promoters refer more, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from clv.contract import reference as ref
from clv.simulate.calendar import Window
from clv.simulate.people import make_emails

#: country, currency, sales tax / VAT rate, share of customers.
COUNTRIES = (
    ("US", "USD", 0.07, 0.42),
    ("CA", "CAD", 0.13, 0.08),
    ("GB", "GBP", 0.20, 0.15),
    ("DE", "EUR", 0.19, 0.12),
    ("FR", "EUR", 0.20, 0.09),
    ("NL", "EUR", 0.21, 0.05),
    ("ES", "EUR", 0.21, 0.05),
    ("IE", "EUR", 0.23, 0.04),
)
COUNTRY_CODES = tuple(c[0] for c in COUNTRIES)
COUNTRY_CURRENCY = tuple(c[1] for c in COUNTRIES)
COUNTRY_TAX = np.array([c[2] for c in COUNTRIES])
COUNTRY_SHARE = np.array([c[3] for c in COUNTRIES])

#: Share of new customers per acquisition channel (same order as ref.CHANNELS).
CHANNEL_SHARE = {
    "organic_search": 0.24,
    "paid_search": 0.20,
    "paid_social": 0.15,
    "email": 0.07,
    "referral": 0.09,
    "affiliate": 0.07,
    "direct": 0.18,
}
#: NPS disposition: 0 promoter, 1 passive, 2 detractor.
NPS_CLASS_SHARE = np.array([0.45, 0.32, 0.23])
#: Product categories a customer is drawn to: 1, 2, 3 or 4 of them.
BREADTH_SHARE = np.array([0.45, 0.30, 0.15, 0.10])
NEVER_BUY_SHARE = 0.06
#: Share of customers inclined to join the loyalty programme (buyers among them enrol).
LOYALTY_SHARE = 0.35
#: Share of customers who join the newsletter (all e-mail-channel customers do).
NEWSLETTER_SHARE = 0.42
#: Customer growth per year and the BG/NBD population parameters (rates per day).
GROWTH_PER_YEAR = 0.45
BGNBD_R, BGNBD_ALPHA = 0.3, 25.0
BGNBD_A, BGNBD_B = 1.0, 1.5
#: Cap on the purchase rate: at most about one order a week.
MAX_RATE = 0.14


@dataclass
class Customers:
    """Customers (sorted by ``created_at``; ``customer_id`` = row number + 1) and their traits."""

    customer_id: np.ndarray
    created_at: np.ndarray
    country: np.ndarray  # index into COUNTRIES
    channel: np.ndarray  # index into ref.CHANNELS
    referred_by: np.ndarray  # customer_id, 0 when not referred
    email: pa.Array
    nps_class: np.ndarray
    categories: np.ndarray  # (n, n_categories) preference order
    breadth: np.ndarray
    spend_level: np.ndarray  # 0..1, position in the price range a customer buys in
    purchase_rate: np.ndarray  # BG/NBD lambda, purchases per effective day
    dropout: np.ndarray  # BG/NBD p, after each purchase
    buys: np.ndarray  # False: registers but never orders
    joins_loyalty: np.ndarray  # bool: enrols in the loyalty programme once a buyer
    subscribes: np.ndarray  # bool: joins the newsletter
    pre_subscribed: np.ndarray  # bool: was a subscriber before becoming a customer
    referral_propensity: np.ndarray

    def __len__(self) -> int:
        return len(self.customer_id)


def simulate_customers(
    n: int, window: Window, n_categories: int, category_share: np.ndarray, rng: np.random.Generator
) -> Customers:
    """Draw ``n`` customers over ``window`` with growth, seasonality and up-front traits."""
    created_at = np.sort(window.clock(GROWTH_PER_YEAR).sample(rng, n))
    customer_id = np.arange(1, n + 1, dtype=np.int64)
    country = rng.choice(len(COUNTRIES), n, p=COUNTRY_SHARE / COUNTRY_SHARE.sum()).astype(np.int8)
    shares = np.array([CHANNEL_SHARE[c] for c in ref.CHANNELS])
    channel = rng.choice(len(ref.CHANNELS), n, p=shares / shares.sum()).astype(np.int8)

    nps_class = rng.choice(3, n, p=NPS_CLASS_SHARE).astype(np.int8)
    breadth = rng.choice(len(BREADTH_SHARE), n, p=BREADTH_SHARE).astype(np.int8) + 1
    # A preference order over categories: popular ones first, per customer (Gumbel trick).
    gumbel = rng.gumbel(size=(n, n_categories))
    categories = np.argsort(-(np.log(category_share) + gumbel), axis=1).astype(np.int8)
    spend_level = rng.beta(2.2, 2.8, n)
    buys = rng.random(n) >= NEVER_BUY_SHARE
    joins_loyalty = rng.random(n) < LOYALTY_SHARE
    email_channel = channel == ref.CHANNELS.index("email")
    subscribes = email_channel | (rng.random(n) < NEWSLETTER_SHARE)
    pre_subscribed = email_channel | (subscribes & (rng.random(n) < 0.12))

    # Buy till you die: lambda ~ Gamma(r, alpha), p ~ Beta(a, b), p shifted by traits.
    purchase_rate = np.minimum(rng.gamma(BGNBD_R, 1.0 / BGNBD_ALPHA, n), MAX_RATE)
    dropout = rng.beta(BGNBD_A, BGNBD_B, n)
    dropout *= np.array([0.45, 1.0, 1.9])[nps_class]
    dropout *= np.where(breadth >= 2, 0.65, 1.0)
    dropout *= np.where(subscribes, 0.85, 1.0)
    dropout *= np.where(joins_loyalty, 0.8, 1.0)
    dropout = np.clip(dropout, 0.005, 0.97)

    referral_propensity = np.array([5.0, 1.0, 0.15])[nps_class] * np.where(joins_loyalty, 2.0, 1.0)
    referral_propensity = np.where(buys, referral_propensity, 0.0)
    referred_by = _assign_referrers(channel, referral_propensity, rng)
    channel[(channel == ref.CHANNELS.index("referral")) & (referred_by == 0)] = ref.CHANNELS.index(
        "organic_search"
    )
    return Customers(
        customer_id=customer_id,
        created_at=created_at,
        country=country,
        channel=channel,
        referred_by=referred_by,
        email=make_emails(customer_id, rng),
        nps_class=nps_class,
        categories=categories,
        breadth=breadth,
        spend_level=spend_level,
        purchase_rate=purchase_rate,
        dropout=dropout,
        buys=buys,
        joins_loyalty=joins_loyalty,
        subscribes=subscribes,
        pre_subscribed=pre_subscribed,
        referral_propensity=referral_propensity,
    )


def _assign_referrers(
    channel: np.ndarray, propensity: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """For each referral-channel customer, an earlier customer drawn by referral propensity.

    Customers are sorted by arrival, so "earlier" is a prefix: a draw in the prefix's
    cumulative weight, located with a binary search. Returns 0 where nobody could refer.
    """
    referred_by = np.zeros(len(channel), dtype=np.int64)
    rows = np.flatnonzero(channel == ref.CHANNELS.index("referral"))
    rows = rows[rows > 0]
    cumulative = np.cumsum(propensity)
    prefix = cumulative[rows - 1]
    rows, prefix = rows[prefix > 0], prefix[prefix > 0]
    referrer = np.searchsorted(cumulative, rng.random(len(rows)) * prefix, side="right")
    referred_by[rows] = referrer + 1
    return referred_by
