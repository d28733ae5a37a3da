"""Defect injection: extra raw rows that each break exactly one rule of the contract.

Every injected row is either

* a corrupted copy of a real row under a *fresh key* (a key no clean row and no
  other injected row uses, and that nothing references), changed in exactly one
  way: a null key, a null required value, a broken e-mail, an unknown currency
  or categorical value, a non-positive amount, an out-of-range score, a load
  time before the event, a reference to a row that does not exist, an event
  before the customer's sign-up, a refund above the order total or a
  redemption above the points balance;
* or a *duplicate*: an exact copy of a real row loaded in a later batch.

Clean tables are never modified: defect rows are appended after them, and this
module draws from its own random stream, so the clean rows are the same with
and without ``--bad-rows``. Each table's defect count is spread over the
reasons that apply to it, table-specific reasons first (so that even a small
rate covers them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clv.contract.tables import SPECS, TableSpec
from clv.simulate.calendar import DAY, HOUR, LOAD_HOUR, Window
from clv.simulate.people import break_emails, make_emails

US = 1_000_000
#: Ids no clean or injected row uses; orphan references point here.
ORPHAN_BASE = 900_000_000_000

#: Reasons injected per table, in priority order (the first ones get the remainder).
REASONS: dict[str, tuple[str, ...]] = {
    "shop.customers": ("invalid_email", "future_timestamp", "duplicate_key", "null_key"),
    "shop.orders": (
        "before_customer_created",
        "unknown_customer",
        "unknown_currency",
        "non_positive_amount",
        "future_timestamp",
        "duplicate_key",
        "null_key",
        "unknown_value",
        "null_required_value",
    ),
    "shop.order_items": ("unknown_order", "non_positive_amount", "duplicate_key", "null_key"),
    "shop.refunds": (
        "refund_exceeds_order",
        "unknown_order",
        "non_positive_amount",
        "future_timestamp",
        "duplicate_key",
        "null_key",
        "null_required_value",
    ),
    "email.email_subscriptions": (
        "invalid_email",
        "unknown_customer",
        "future_timestamp",
        "duplicate_key",
        "null_key",
        "unknown_value",
    ),
    "email.email_campaigns": ("duplicate_key", "future_timestamp", "unknown_value", "null_key"),
    "email.email_sends": (
        "unknown_campaign",
        "unknown_subscriber",
        "duplicate_key",
        "future_timestamp",
        "null_key",
    ),
    "email.email_spend": (
        "unknown_currency",
        "unknown_campaign",
        "non_positive_amount",
        "future_timestamp",
        "duplicate_key",
        "null_key",
        "unknown_value",
    ),
    "marketing.marketing_spend": (
        "unknown_currency",
        "non_positive_amount",
        "duplicate_key",
        "future_timestamp",
        "null_key",
        "unknown_value",
    ),
    "loyalty.loyalty_members": (
        "before_customer_created",
        "unknown_customer",
        "duplicate_key",
        "future_timestamp",
        "unknown_value",
        "null_key",
    ),
    "loyalty.loyalty_points": (
        "redemption_exceeds_balance",
        "before_customer_created",
        "unknown_customer",
        "non_positive_amount",
        "duplicate_key",
        "future_timestamp",
        "null_key",
        "unknown_value",
        "null_required_value",
    ),
    "loyalty.nps_responses": (
        "score_out_of_range",
        "before_customer_created",
        "unknown_customer",
        "future_timestamp",
        "duplicate_key",
        "null_key",
        "null_required_value",
    ),
    "loyalty.referrals": (
        "invalid_email",
        "unknown_customer",
        "future_timestamp",
        "duplicate_key",
        "null_key",
    ),
}

#: A value outside the listed ones, per categorical column.
UNKNOWN_VALUES = {
    "status": "pending",
    "event_type": "bounce",
    "purpose": "brand",
    "cost_type": "agency",
    "tier": "platinum",
    "entry_type": "adjust",
}
UNKNOWN_CURRENCIES = ("JPY", "CHF", "AUD", "SEK")
#: The column nulled for null_required_value (all in the contract's explicit list).
REQUIRED_VALUE = {
    "shop.orders": "ordered_at",
    "shop.refunds": "amount",
    "loyalty.loyalty_points": "points",
    "loyalty.nps_responses": "score",
}
AMOUNT_COLUMN = {
    "shop.orders": "order_total",
    "shop.order_items": "quantity",
    "shop.refunds": "amount",
    "email.email_spend": "amount",
    "marketing.marketing_spend": "amount",
    "loyalty.loyalty_points": "points",
}


def split_count(total: int, reasons: tuple[str, ...]) -> dict[str, int]:
    """Spread ``total`` over ``reasons`` evenly, the first reasons taking the remainder."""
    if not reasons:
        return {}
    base, remainder = divmod(total, len(reasons))
    return {r: base + (1 if i < remainder else 0) for i, r in enumerate(reasons)}


def micros(table: pa.Table, column: str) -> np.ndarray:
    """A timestamp or date column as int64 microseconds."""
    values = table[column].combine_chunks()
    if pa.types.is_date32(values.type):
        return values.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64) * DAY * US
    return values.cast(pa.int64()).to_numpy(zero_copy_only=False)


def int_values(table: pa.Table, column: str) -> np.ndarray:
    """A column as a numpy array (its own dtype)."""
    return table[column].combine_chunks().to_numpy(zero_copy_only=False)


def loaded_after(event_us: np.ndarray) -> np.ndarray:
    """The nightly load after each event (µs): 02:00 the next day."""
    return ((event_us // (DAY * US)) + 1) * DAY * US + LOAD_HOUR * HOUR * US


@dataclass
class Context:
    """What defect generators need to know about the clean data."""

    tables: dict[str, pa.Table]
    window: Window
    rng: np.random.Generator
    next_person_key: int
    #: created_at (µs) per customer, indexed by customer_id - 1.
    created_us: np.ndarray
    counters: dict[str, int] = field(default_factory=dict)
    #: (campaign_id << 32) + subscriber_id of the fresh send keys handed out so far.
    send_pairs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: Customers who are not loyalty members, in random order (drawn on first use).
    non_members: np.ndarray | None = None

    def take(self, name: str, n: int, rows: np.ndarray | None = None) -> pa.Table:
        """``n`` rows of a clean table (from ``rows`` if given), without replacement if possible."""
        table = self.tables[name]
        pool = np.arange(table.num_rows) if rows is None else rows
        picked = self.rng.choice(pool, n, replace=n > len(pool))
        return table.take(pa.array(np.sort(picked)))

    def fresh_ids(self, name: str, column: str, n: int) -> np.ndarray:
        """``n`` ids above every clean id of ``column`` and above earlier fresh ids."""
        key = f"{name}.{column}"
        if key not in self.counters:
            values = self.tables[name][column]
            top = pc.max(values).as_py() if len(values) else 0
            self.counters[key] = int(top or 0)
        first = self.counters[key] + 1
        self.counters[key] += n
        return np.arange(first, first + n, dtype=np.int64)

    def orphans(self, n: int) -> np.ndarray:
        """``n`` ids that exist in no table."""
        first = ORPHAN_BASE + self.counters.get("orphans", 0)
        self.counters["orphans"] = self.counters.get("orphans", 0) + n
        return np.arange(first, first + n, dtype=np.int64)

    def emails(self, n: int) -> pa.Array:
        """``n`` fresh, valid addresses of people who exist nowhere else."""
        keys = self.next_person_key + np.arange(n)
        self.next_person_key += n
        return make_emails(keys, self.rng)

    def created_of(self, customer_id: np.ndarray) -> np.ndarray:
        """The customers' created_at (µs)."""
        return self.created_us[customer_id - 1]


def set_column(table: pa.Table, column: str, values: object) -> pa.Table:
    """``table`` with ``column`` replaced; numpy timestamps and dates are given in µs."""
    index = table.schema.get_field_index(column)
    field_type = table.schema.field(index).type
    if isinstance(values, np.ndarray) and pa.types.is_timestamp(field_type):
        array = pa.array(values.astype(np.int64), pa.int64()).cast(field_type)
    elif isinstance(values, np.ndarray) and pa.types.is_date32(field_type):
        array = pa.array((values // (DAY * US)).astype(np.int32), pa.int32()).cast(field_type)
    elif isinstance(values, pa.Array | pa.ChunkedArray):
        array = values.cast(field_type)
    else:
        array = pa.array(values, field_type)
    return table.set_column(index, column, array)


def null_column(table: pa.Table, column: str) -> pa.Table:
    """``table`` with every value of ``column`` null."""
    field_type = table.schema.field(column).type
    return set_column(table, column, pa.nulls(table.num_rows, field_type))


class Injector:
    """Builds the defect rows of one table."""

    def __init__(self, spec: TableSpec, ctx: Context) -> None:
        self.spec = spec
        self.name = spec.full_name
        self.ctx = ctx
        self.table = ctx.tables[self.name]

    # ---------- fresh keys

    def fresh(self, n: int, rows: np.ndarray | None = None) -> pa.Table:
        """Copies of ``n`` clean rows under fresh keys that nothing references."""
        ctx, name = self.ctx, self.name
        copy = ctx.take(name, n, rows)
        if name == "shop.customers":
            copy = set_column(copy, "customer_id", ctx.fresh_ids(name, "customer_id", n))
            copy = set_column(copy, "email", ctx.emails(n))
            copy = null_column(copy, "referred_by_customer_id")
        elif name == "shop.order_items":
            counter = ctx.counters.get("line_no", 0)
            ctx.counters["line_no"] = counter + n
            copy = set_column(copy, "line_no", (6 + counter + np.arange(n)).astype(np.int32))
        elif name == "email.email_subscriptions":
            copy = set_column(copy, "subscriber_id", ctx.fresh_ids(name, "subscriber_id", n))
            copy = set_column(copy, "email", ctx.emails(n))
            copy = null_column(copy, "customer_id")
        elif name == "email.email_campaigns":
            ids = ctx.fresh_ids(name, "campaign_id", n)
            copy = set_column(copy, "campaign_id", ids)
            suffix = pc.cast(pa.array(ids), pa.string())
            copy = set_column(copy, "name", pc.binary_join_element_wise(copy["name"], suffix, "_v"))
        elif name == "email.email_sends":
            copy = set_column(
                copy, "subscriber_id", self._fresh_send_subscribers(int_values(copy, "campaign_id"))
            )
        elif name == "email.email_spend":
            copy = self._fresh_spend_keys(copy)
        elif name == "marketing.marketing_spend":
            copy = self._shift_months(copy, before=True)
        elif name == "loyalty.loyalty_members":
            copy = self._fresh_members(copy)
        else:
            key = self.spec.key[0]
            copy = set_column(copy, key, ctx.fresh_ids(name, key, n))
        return copy

    def _fresh_send_subscribers(self, campaign: np.ndarray) -> np.ndarray:
        """Per campaign, a subscriber who did not get it and was not picked before."""
        sends, rng, shift = self.table, self.ctx.rng, np.int64(1) << np.int64(32)
        subscribers = np.unique(int_values(sends, "subscriber_id"))
        taken = np.sort(
            int_values(sends, "campaign_id") * shift + int_values(sends, "subscriber_id")
        )
        picked = self.ctx.send_pairs
        chosen = rng.choice(subscribers, len(campaign))
        for _ in range(1000):
            pair = campaign * shift + chosen
            position = np.minimum(np.searchsorted(taken, pair), len(taken) - 1)
            clash = (taken[position] == pair) | np.isin(pair, picked)
            _, first = np.unique(pair, return_index=True)
            repeated = np.ones(len(pair), bool)
            repeated[first] = False
            clash |= repeated
            if not clash.any():
                break
            chosen[clash] = rng.choice(subscribers, int(clash.sum()))
        else:
            raise _Exhausted
        self.ctx.send_pairs = np.concatenate([picked, campaign * shift + chosen])
        return chosen

    def _fresh_spend_keys(self, copy: pa.Table) -> pa.Table:
        """(a campaign's day minus k, campaign, creative): creative cost billed earlier."""
        n = copy.num_rows
        spend = self.table
        creative = pc.equal(spend["cost_type"], "creative").to_numpy(zero_copy_only=False)
        counter = self.ctx.counters.get("spend_keys", 0)
        self.ctx.counters["spend_keys"] = counter + n
        index = counter + np.arange(n)
        if creative.any():
            rows = np.flatnonzero(creative)
            source = rows[index % len(rows)]
            shift = 1 + index // len(rows)
            campaign = int_values(spend, "campaign_id")[source]
            day_us = micros(spend, "spend_date")[source] - shift * DAY * US
            copy = set_column(copy, "campaign_id", campaign)
            copy = set_column(copy, "cost_type", pa.array(["creative"] * n))
        else:  # no campaigns: platform fees on days before the window
            day_us = (self.ctx.window.start_day - 1 - index) * DAY * US
            copy = null_column(copy, "campaign_id")
            copy = set_column(copy, "cost_type", pa.array(["platform"] * n))
        copy = set_column(copy, "spend_date", day_us)
        return set_column(copy, "_loaded_at", loaded_after(day_us))

    def _shift_months(self, copy: pa.Table, before: bool) -> pa.Table:
        """Months outside the window: before its first month (or after its last)."""
        n = copy.num_rows
        key = "months_before" if before else "months_after"
        counter = self.ctx.counters.get(key, 0)
        self.ctx.counters[key] = counter + n
        # Each (month, channel, purpose) once: 8 slots per month.
        slot = counter + np.arange(n)
        months_away = 1 + slot // 8
        channels = np.array(["paid_search", "paid_social", "email", "affiliate"])
        purposes = np.array(["acquisition", "retention"])
        window = self.ctx.window
        anchor = np.datetime64(int(window.start_day if before else window.end_day), "D").astype(
            "datetime64[M]"
        )
        month = (anchor - months_away) if before else (anchor + months_away)
        month_day = month.astype("datetime64[D]").astype(np.int64)
        next_day = (month + 1).astype("datetime64[D]").astype(np.int64)
        copy = set_column(copy, "spend_month", month_day * DAY * US)
        copy = set_column(copy, "channel", pa.array(channels[(slot // 2) % 4].tolist()))
        copy = set_column(copy, "purpose", pa.array(purposes[slot % 2].tolist()))
        return set_column(copy, "_loaded_at", ((next_day) * DAY + LOAD_HOUR * HOUR) * US)

    def _fresh_members(self, copy: pa.Table) -> pa.Table:
        """Customers who are not members, enrolled at a valid time."""
        n = copy.num_rows
        if self.ctx.non_members is None:
            members = int_values(self.table, "customer_id")
            everyone = np.arange(1, len(self.ctx.created_us) + 1, dtype=np.int64)
            self.ctx.non_members = self.ctx.rng.permutation(np.setdiff1d(everyone, members))
        pool = self.ctx.non_members
        used = self.ctx.counters.get("non_members", 0)
        if used + n > len(pool):
            raise _Exhausted
        self.ctx.counters["non_members"] = used + n
        customer = pool[used : used + n]
        created = self.ctx.created_of(customer)
        end = self.ctx.window.end * US
        enrolled = created + (self.ctx.rng.random(n) * np.maximum(end - created, 0)).astype(
            np.int64
        )
        enrolled -= enrolled % US
        copy = set_column(copy, "customer_id", customer)
        copy = set_column(copy, "enrolled_at", enrolled)
        return set_column(copy, "_loaded_at", loaded_after(enrolled))

    # ---------- reasons

    def null_key(self, n: int) -> pa.Table:
        copy = self.fresh(n)
        return null_column(copy, self.spec.key[0])

    def null_required_value(self, n: int) -> pa.Table:
        return null_column(self.fresh(n), REQUIRED_VALUE[self.name])

    def invalid_email(self, n: int) -> pa.Table:
        copy = self.fresh(n)
        column = self.spec.emails[0]
        return set_column(copy, column, break_emails(copy[column].combine_chunks()))

    def unknown_currency(self, n: int) -> pa.Table:
        values = self.ctx.rng.choice(UNKNOWN_CURRENCIES, n).tolist()
        return set_column(self.fresh(n), self.spec.currency, pa.array(values))

    def unknown_value(self, n: int) -> pa.Table:
        column = next(c for c in self.spec.categories if c in UNKNOWN_VALUES)
        return set_column(self.fresh(n), column, pa.array([UNKNOWN_VALUES[column]] * n))

    def non_positive_amount(self, n: int) -> pa.Table:
        copy = self.fresh(n)
        column = AMOUNT_COLUMN[self.name]
        values = copy[column].combine_chunks().to_numpy(zero_copy_only=False)
        # Zero or negative; orders only negative (a free order is valid).
        zero = (self.ctx.rng.random(n) < 0.5) & (self.name != "shop.orders")
        if self.name == "shop.order_items":
            bad = np.where(zero, 0, -values).astype(np.int32)
        else:
            bad = np.where(zero, 0, -values).astype(values.dtype)
        return set_column(copy, column, bad)

    def score_out_of_range(self, n: int) -> pa.Table:
        bad = self.ctx.rng.choice([-1, 11, 12, 100], n).astype(np.int32)
        return set_column(self.fresh(n), "score", bad)

    def future_timestamp(self, n: int) -> pa.Table:
        """Loaded two days before the event (fresh key, so not also a duplicate)."""
        if self.name == "marketing.marketing_spend":
            copy = self._shift_months(self.ctx.take(self.name, n), before=False)
            month = micros(copy, "spend_month")
            return set_column(copy, "_loaded_at", month - (DAY - LOAD_HOUR * HOUR) * US)
        copy = self.fresh(n)
        event = micros(copy, self.spec.event)
        return set_column(copy, "_loaded_at", loaded_after(event) - 2 * DAY * US)

    def duplicate_key(self, n: int) -> pa.Table:
        """Exact copies loaded 1 to 7 days later (by the last nightly load where possible)."""
        loaded = micros(self.table, "_loaded_at")
        last_load = ((self.ctx.window.end_day + 1) * DAY + LOAD_HOUR * HOUR) * US
        early = np.flatnonzero(loaded < last_load)
        copy = self.ctx.take(self.name, n, early if len(early) else None)
        original = micros(copy, "_loaded_at")
        later = original + self.ctx.rng.integers(1, 8, n) * DAY * US
        later = np.where(original < last_load, np.minimum(later, last_load), later)
        return set_column(copy, "_loaded_at", later)

    def _orphan(
        self, n: int, column: str, extra: Callable[[pa.Table], pa.Table] | None = None
    ) -> pa.Table:
        copy = self.fresh(n)
        copy = set_column(copy, column, self.ctx.orphans(n))
        return extra(copy) if extra else copy

    def unknown_customer(self, n: int) -> pa.Table:
        column = "referrer_customer_id" if self.name == "loyalty.referrals" else "customer_id"
        if self.name == "loyalty.referrals":
            return null_column(self._orphan(n, column), "referred_customer_id")
        if self.name == "loyalty.loyalty_members":
            copy = self.ctx.take(self.name, n)
            return set_column(copy, "customer_id", self.ctx.orphans(n))
        return self._orphan(n, column)

    def unknown_order(self, n: int) -> pa.Table:
        if self.name == "shop.order_items":
            copy = self.ctx.take(self.name, n)
            return set_column(copy, "order_id", self.ctx.orphans(n))
        return self._orphan(n, "order_id")

    def unknown_campaign(self, n: int) -> pa.Table:
        if self.name == "email.email_sends":
            copy = self.ctx.take(self.name, n)
            return set_column(copy, "campaign_id", self.ctx.orphans(n))
        copy = self.fresh(n)
        copy = set_column(copy, "campaign_id", self.ctx.orphans(n))
        return set_column(copy, "cost_type", pa.array(["creative"] * n))

    def unknown_subscriber(self, n: int) -> pa.Table:
        copy = self.ctx.take(self.name, n)
        return set_column(copy, "subscriber_id", self.ctx.orphans(n))

    def before_customer_created(self, n: int) -> pa.Table:
        """The event moved 1 to 20 days before the customer's sign-up, loaded after it."""
        rows = None
        if self.name == "loyalty.loyalty_points":
            rows = np.flatnonzero(
                pc.equal(self.table["entry_type"], "earn").to_numpy(zero_copy_only=False)
            )
            if len(rows) == 0:
                raise _Exhausted
        copy = self.fresh(n, rows)
        created = self.ctx.created_of(int_values(copy, "customer_id"))
        event = created - self.ctx.rng.integers(DAY, 20 * DAY, n) * US
        copy = set_column(copy, self.spec.event, event)
        if self.name == "loyalty.loyalty_points":
            copy = null_column(copy, "order_id")
        return set_column(copy, "_loaded_at", loaded_after(event))

    def refund_exceeds_order(self, n: int) -> pa.Table:
        """A refund above the total of a completed order that has no refund."""
        orders = self.ctx.tables["shop.orders"]
        completed = pc.equal(orders["status"], "completed").to_numpy(zero_copy_only=False)
        order_id = int_values(orders, "order_id")
        ordered = micros(orders, "ordered_at")
        refunded = np.isin(order_id, int_values(self.table, "order_id"))
        last = self.ctx.window.end * US - 3 * DAY * US
        rows = np.flatnonzero(completed & ~refunded & (ordered <= last))
        if len(rows) == 0 or self.table.num_rows == 0:
            raise _Exhausted
        pick = self.ctx.rng.choice(rows, n, replace=n > len(rows))
        total = orders["order_total"].combine_chunks().to_numpy(zero_copy_only=False)[pick]
        refunded_at = ordered[pick] + self.ctx.rng.integers(1, 3 * DAY, n) * US
        copy = self.fresh(n)
        copy = set_column(copy, "order_id", order_id[pick])
        copy = set_column(copy, "refunded_at", refunded_at)
        copy = set_column(
            copy, "amount", np.round(total * self.ctx.rng.uniform(1.05, 1.5, n) + 1.0, 2)
        )
        return set_column(copy, "_loaded_at", loaded_after(refunded_at))

    def redemption_exceeds_balance(self, n: int) -> pa.Table:
        """A redemption above the member's final balance, after all their entries.

        The excess is at least everything the member ever earned, so even a balance
        that wrongly counted rejected earn rows would not cover it.
        """
        points = self.table
        customer = int_values(points, "customer_id")
        signed = int_values(points, "points") * np.select(
            [
                pc.equal(points["entry_type"], t).to_numpy(zero_copy_only=False)
                for t in ("earn", "redeem", "expire")
            ],
            [1, -1, -1],
        )
        ids, inverse = np.unique(customer, return_inverse=True)
        balance = np.bincount(inverse, signed, minlength=len(ids)).astype(np.int64)
        earned = np.bincount(inverse, np.maximum(signed, 0), minlength=len(ids)).astype(np.int64)
        last = np.zeros(len(ids), dtype=np.int64)
        np.maximum.at(last, inverse, micros(points, "entry_at"))
        end = self.ctx.window.end * US
        eligible = np.flatnonzero(last <= end - HOUR * US)
        if len(eligible) == 0:
            raise _Exhausted
        pick = self.ctx.rng.choice(eligible, n, replace=n > len(eligible))
        span = np.minimum(end - last[pick], 30 * DAY * US)
        entry_at = last[pick] + self.ctx.rng.integers(60 * US, span + 1)
        entry_at -= entry_at % US
        entry_at = np.maximum(entry_at, last[pick] + US)
        copy = self.fresh(n)
        copy = set_column(copy, "customer_id", ids[pick])
        copy = set_column(copy, "entry_type", pa.array(["redeem"] * n))
        excess = earned[pick] + self.ctx.rng.integers(1, 500, n)
        copy = set_column(copy, "points", balance[pick] + excess)
        copy = set_column(copy, "entry_at", entry_at)
        copy = null_column(copy, "order_id")
        return set_column(copy, "_loaded_at", loaded_after(entry_at))


class _Exhausted(Exception):
    """A reason has no row it could be applied to."""


def inject(
    tables: dict[str, pa.Table],
    rate: float,
    window: Window,
    created_us: np.ndarray,
    next_person_key: int,
    rng: np.random.Generator,
) -> tuple[dict[str, pa.Table], dict[str, dict[str, int]]]:
    """Defect rows per table (same schema) and their counts per reason.

    ``created_us`` holds each customer's created_at in microseconds, indexed by
    ``customer_id - 1``; ``next_person_key`` is the first person key no e-mail
    address uses yet.
    """
    ctx = Context(tables, window, rng, next_person_key, created_us)
    defects: dict[str, pa.Table] = {}
    counts: dict[str, dict[str, int]] = {}
    for name, spec in SPECS.items():
        clean = tables[name]
        total = int(round(rate * clean.num_rows))
        counts[name] = {}
        parts = []
        if total and clean.num_rows:
            injector = Injector(spec, ctx)
            reasons = list(REASONS[name])
            # Drop reasons that cannot apply, then spread the count over the rest.
            while reasons:
                plan = split_count(total, tuple(reasons))
                failed = None
                built = []
                for reason, n in plan.items():
                    if n == 0:
                        continue
                    try:
                        built.append((reason, getattr(injector, reason)(n)))
                    except _Exhausted:
                        failed = reason
                        break
                if failed is None:
                    parts = [table for _, table in built]
                    counts[name] = {reason: table.num_rows for reason, table in built}
                    break
                reasons.remove(failed)
        defects[name] = (
            pa.concat_tables(parts).cast(spec.schema) if parts else spec.schema.empty_table()
        )
    return defects, counts
