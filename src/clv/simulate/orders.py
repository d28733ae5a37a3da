"""Orders, order lines and refunds from a BG/NBD "buy till you die" process.

Each buyer's first order comes at or shortly after sign-up. After every purchase
the customer drops out with probability ``p`` (so the purchases they would ever
make are Geometric(p)); while alive they buy as a Poisson process with rate
``lambda`` on a seasonal clock (more buying in late November and December).
Baskets follow the customer's spend level and preferred categories, which gives
Gamma-Gamma-like heterogeneity in order values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from clv.contract import reference as ref
from clv.simulate.calendar import DAY, Window
from clv.simulate.customers import COUNTRY_CURRENCY, COUNTRY_TAX, Customers

#: category, USD price range of its SKUs, unit cost / unit price, share of demand.
CATEGORIES = (
    ("apparel", 14.0, 120.0, 0.42, 0.30),
    ("footwear", 35.0, 190.0, 0.52, 0.14),
    ("accessories", 8.0, 70.0, 0.33, 0.16),
    ("home", 12.0, 160.0, 0.48, 0.16),
    ("beauty", 6.0, 55.0, 0.28, 0.14),
    ("electronics", 25.0, 420.0, 0.74, 0.10),
)
CATEGORY_NAMES = tuple(c[0] for c in CATEGORIES)
CATEGORY_SHARE = np.array([c[4] for c in CATEGORIES])
SKUS_PER_CATEGORY = 60
CANCEL_RATE = 0.03
REFUND_RATE = 0.055
#: Free-shipping threshold and flat shipping fee, per currency.
SHIPPING = {"USD": (50.0, 5.95), "EUR": (50.0, 4.95), "GBP": (40.0, 3.95), "CAD": (75.0, 8.95)}
#: Carrier cost per shipment in USD, per country (same order as COUNTRIES).
CARRIER_USD = np.array([6.5, 9.0, 5.0, 6.0, 6.0, 5.5, 6.5, 7.0])
#: Repeat-order traffic sources (null = no UTM tags).
REPEAT_UTM = (
    (None, 0.56),
    ("google", 0.2),
    ("facebook", 0.1),
    ("instagram", 0.05),
    ("affiliate", 0.05),
    ("bing", 0.04),
)


@dataclass
class Catalog:
    """SKUs per category, sorted by price, with prices and costs per currency."""

    sku: pa.Array  # (n_categories * SKUS_PER_CATEGORY,)
    price: np.ndarray  # (n_skus, n_currencies)
    cost: np.ndarray  # (n_skus, n_currencies)


@dataclass
class Orders:
    """Simulated orders (sorted by ``ordered_at``; ``order_id`` = row number + 1)."""

    order_id: np.ndarray
    customer: np.ndarray  # row index into Customers
    ordered_at: np.ndarray
    is_first: np.ndarray
    cancelled: np.ndarray
    currency: np.ndarray  # index into currency list
    items_total: np.ndarray
    discount: np.ndarray
    shipping: np.ndarray
    tax: np.ndarray
    order_total: np.ndarray
    fulfillment_cost: np.ndarray
    utm_source: np.ndarray  # index into utm_labels, -1 = null
    utm_campaign: np.ndarray  # campaign row index, -1 = null
    utm_labels: tuple[str, ...]
    n_lines: np.ndarray

    def __len__(self) -> int:
        return len(self.order_id)


@dataclass
class OrderItems:
    """Order lines, grouped by order in ``order_id`` order."""

    order: np.ndarray  # row index into Orders
    line_no: np.ndarray
    sku: np.ndarray  # index into Catalog
    category: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    unit_cost: np.ndarray


@dataclass
class Refunds:
    """Refunds (sorted by ``refunded_at``)."""

    refund_id: np.ndarray
    order: np.ndarray
    refunded_at: np.ndarray
    amount: np.ndarray


def make_catalog(
    currencies: tuple[str, ...], usd_per_unit: np.ndarray, rng: np.random.Generator
) -> Catalog:
    """A price-sorted SKU list per category, priced in every currency with .99 endings."""
    rows, skus = [], []
    for index, (name, low, high, cost_ratio, _) in enumerate(CATEGORIES):
        steps = np.linspace(0.0, 1.0, SKUS_PER_CATEGORY)
        usd = np.sort(low * (high / low) ** steps * rng.uniform(0.92, 1.08, SKUS_PER_CATEGORY))
        ratio = cost_ratio * rng.uniform(0.85, 1.15, SKUS_PER_CATEGORY)
        rows.append(np.column_stack([usd, ratio]))
        skus += [f"{name[:3].upper()}-{index + 1}{k:03d}" for k in range(SKUS_PER_CATEGORY)]
    table = np.vstack(rows)
    price = np.maximum(np.ceil(table[:, :1] / usd_per_unit[None, :]) - 0.01, 0.99)
    cost = np.round(price * table[:, 1:2], 2)
    return Catalog(sku=pa.array(skus), price=price, cost=cost)


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)[:-1]])


def _within_group_index(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[i]-1 for every group, concatenated."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(_group_starts(counts), counts)


def simulate_orders(
    customers: Customers,
    window: Window,
    currencies: tuple[str, ...],
    usd_per_unit: np.ndarray,
    rng: np.random.Generator,
) -> tuple[Orders, OrderItems, Refunds, Catalog]:
    """Purchases of every customer over ``window``, with baskets and refunds."""
    catalog = make_catalog(currencies, usd_per_unit, rng)
    n = len(customers)
    clock = window.clock()

    # First order: most in the sign-up session, some days later, a few never.
    same_session = rng.random(n) < 0.7
    delay = np.where(
        same_session, rng.integers(60, 1800, n), (rng.exponential(4.0, n) * DAY).astype(np.int64)
    )
    first_at = customers.created_at + delay
    buyer = np.flatnonzero(customers.buys & (first_at <= window.end))

    # Repeat purchases: min(Geometric(p) - 1, Poisson(lambda * remaining effective days)),
    # the first m of n uniform order statistics drawn via exponential spacings.
    t0 = first_at[buyer]
    start_effective = clock.effective(t0)
    remaining = np.maximum(clock.total - start_effective, 0.0)
    lives = rng.geometric(customers.dropout[buyer]) - 1
    poisson = rng.poisson(customers.purchase_rate[buyer] * remaining)
    repeats = np.minimum(lives, poisson)
    spacing = rng.exponential(1.0, int(repeats.sum()))
    cumulative = np.cumsum(spacing)
    starts = _group_starts(repeats)
    offset = np.repeat(np.concatenate([[0.0], cumulative])[starts], repeats)
    partial = cumulative - offset
    group_total = np.zeros(len(buyer))
    has = repeats > 0
    group_total[has] = partial[starts[has] + repeats[has] - 1]
    tail = rng.gamma(np.maximum(poisson - repeats + 1, 1).astype(float))
    denominator = np.repeat(group_total + tail, repeats)
    uniform = partial / denominator
    owner = np.repeat(np.arange(len(buyer)), repeats)
    repeat_at = clock.time_at(start_effective[owner] + uniform * remaining[owner])
    repeat_at = np.maximum(repeat_at, t0[owner] + 600)
    keep = repeat_at <= window.end

    customer = np.concatenate([buyer, buyer[owner[keep]]])
    ordered_at = np.concatenate([t0, repeat_at[keep]])
    is_first = np.concatenate([np.ones(len(buyer), bool), np.zeros(int(keep.sum()), bool)])
    order = np.lexsort((customer, ordered_at))
    customer, ordered_at, is_first = customer[order], ordered_at[order], is_first[order]
    m = len(customer)

    country = customers.country[customer]
    currency_of_country = np.array([currencies.index(c) for c in COUNTRY_CURRENCY])
    currency = currency_of_country[country]

    # Basket: lines, categories from the customer's preferences, SKUs at their price level.
    level = customers.spend_level[customer]
    n_lines = np.clip(1 + rng.poisson(0.35 + 1.1 * level), 1, 5).astype(np.int32)
    line_order = np.repeat(np.arange(m), n_lines)
    line_no = (_within_group_index(n_lines) + 1).astype(np.int32)
    line_customer = customer[line_order]
    pick = (rng.random(len(line_order)) * customers.breadth[line_customer]).astype(np.int64)
    category = customers.categories[line_customer, pick].astype(np.int64)
    explore = rng.random(len(line_order)) < 0.03
    category[explore] = rng.choice(len(CATEGORIES), int(explore.sum()), p=CATEGORY_SHARE)
    rank = np.clip(level[line_order] + rng.normal(0.0, 0.2, len(line_order)), 0.0, 0.999)
    sku = category * SKUS_PER_CATEGORY + (rank * SKUS_PER_CATEGORY).astype(np.int64)
    quantity = rng.choice(4, len(line_order), p=[0.72, 0.2, 0.06, 0.02]).astype(np.int32) + 1
    line_currency = currency[line_order]
    unit_price = catalog.price[sku, line_currency]
    unit_cost = catalog.cost[sku, line_currency]
    items_total = np.round(np.bincount(line_order, quantity * unit_price, minlength=m), 2)
    units = np.bincount(line_order, quantity, minlength=m)

    # Money: discount codes (welcome offer, Black Friday), shipping threshold, tax, fulfilment.
    day_of_year = (ordered_at // DAY).astype("datetime64[D]")
    doy = (day_of_year - day_of_year.astype("datetime64[Y]")).astype(np.int64)
    promo_week = (doy >= 326) & (doy <= 333)
    discount_chance = np.where(is_first, 0.3, 0.12) + np.where(promo_week, 0.45, 0.0)
    discount_rate = np.where(
        rng.random(m) < discount_chance, rng.choice([0.1, 0.15, 0.2], m, p=[0.5, 0.3, 0.2]), 0.0
    )
    discount = np.round(items_total * discount_rate, 2)
    threshold = np.array([SHIPPING[c][0] for c in currencies])[currency]
    flat = np.array([SHIPPING[c][1] for c in currencies])[currency]
    shipping = np.where(items_total - discount >= threshold, 0.0, flat)
    tax = np.round((items_total - discount + shipping) * COUNTRY_TAX[country], 2)
    order_total = np.round(items_total - discount + shipping + tax, 2)
    fulfillment_usd = 2.2 + 0.6 * units + CARRIER_USD[country] * rng.uniform(0.9, 1.2, m)
    fulfillment_cost = np.round(fulfillment_usd / usd_per_unit[currency], 2)
    cancelled = rng.random(m) < CANCEL_RATE

    # Traffic source: the acquisition channel for first orders, a mix for repeat orders.
    utm_labels = ("email", "google", "facebook", "instagram", "affiliate", "bing", "referral")
    first_utm = {
        "paid_search": "google",
        "paid_social": "facebook",
        "affiliate": "affiliate",
        "referral": "referral",
    }
    by_channel = np.array(
        [utm_labels.index(first_utm[c]) if c in first_utm else -1 for c in ref.CHANNELS]
    )
    repeat_codes = np.array([-1 if s is None else utm_labels.index(s) for s, _ in REPEAT_UTM])
    repeat_p = np.array([w for _, w in REPEAT_UTM])
    utm_source = np.where(
        is_first,
        by_channel[customers.channel[customer]],
        repeat_codes[rng.choice(len(REPEAT_UTM), m, p=repeat_p / repeat_p.sum())],
    ).astype(np.int8)
    social = (utm_source == utm_labels.index("facebook")) & is_first & (rng.random(m) < 0.3)
    utm_source[social] = utm_labels.index("instagram")

    orders = Orders(
        order_id=np.arange(1, m + 1, dtype=np.int64),
        customer=customer,
        ordered_at=ordered_at,
        is_first=is_first,
        cancelled=cancelled,
        currency=currency,
        items_total=items_total,
        discount=discount,
        shipping=shipping,
        tax=tax,
        order_total=order_total,
        fulfillment_cost=fulfillment_cost,
        utm_source=utm_source,
        utm_campaign=np.full(m, -1, dtype=np.int64),
        utm_labels=utm_labels,
        n_lines=n_lines,
    )
    items = OrderItems(
        order=line_order,
        line_no=line_no,
        sku=sku,
        category=category,
        quantity=quantity,
        unit_price=unit_price,
        unit_cost=unit_cost,
    )
    return orders, items, simulate_refunds(orders, window, rng), catalog


def simulate_refunds(orders: Orders, window: Window, rng: np.random.Generator) -> Refunds:
    """At most one refund per completed order: full or partial, days after the order."""
    m = len(orders)
    chosen = (~orders.cancelled) & (rng.random(m) < REFUND_RATE)
    delay = ((2.0 + rng.exponential(8.0, m)) * DAY).astype(np.int64)
    refunded_at = orders.ordered_at + delay
    share = np.where(rng.random(m) < 0.6, 1.0, rng.uniform(0.15, 0.85, m))
    amount = np.clip(np.round(orders.order_total * share, 2), 0.01, orders.order_total)
    rows = np.flatnonzero(chosen & (refunded_at <= window.end))
    rows = rows[np.lexsort((rows, refunded_at[rows]))]
    return Refunds(
        refund_id=np.arange(1, len(rows) + 1, dtype=np.int64),
        order=rows,
        refunded_at=refunded_at[rows],
        amount=amount[rows],
    )
