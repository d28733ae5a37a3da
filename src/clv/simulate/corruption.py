"""In-place corruption: real raw rows damaged where they stand, so rejections cascade.

:mod:`clv.simulate.defects` appends extra rows under fresh keys that nothing
references; this module instead damages about ``RATE`` × rows of every table in
place (same key, the row is still there), so every row that references a
damaged row now references a rejected one. The kinds, and the contract rule
(``docs/raw_data_contract.md``) each is expected to trip:

* ``currency_case``: the currency in lower case (``'eur'``) -> ``unknown_currency``;
* ``currency_padded``: the currency with a trailing space (``'EUR '``) -> ``unknown_currency``;
* ``code_case``: a status, event_type, purpose, cost_type, tier, entry_type, channel or
  acquisition_channel in upper or title case (``'EARN'``, ``'Gold'``) -> ``unknown_value``;
* ``code_typo``: the same codes with two adjacent letters swapped (``'compelted'``)
  -> ``unknown_value``;
* ``null_value``: a required column the loader dropped (:data:`NULL_COLUMNS`)
  -> ``null_required_value``;
* ``sign_flip``: an amount with its sign flipped (:data:`SIGNED_AMOUNT`)
  -> ``non_positive_amount``;
* ``late_timestamp``: the event moved forward by 1 hour to 3 days past its ``_loaded_at``
  -> ``future_timestamp``;
* ``early_timestamp``: the event moved to 1-10 days before the customer's ``created_at``
  -> ``before_customer_created``;
* ``shifted_timestamp``: the event moved 1-12 hours earlier (where rule 11 applies, only
  events at least 13 hours after the customer's ``created_at``) -> nothing; except in the
  points ledger, where a redemption or expiry moves 1-30 days earlier (not before the
  customer's ``created_at``) and may then exceed the balance there (rule 13) or not.

Besides, a few parent rows are deleted outright (customers, orders, campaigns
and every row of a few subscribers, :data:`DELETED`), so their children become
orphans with no rejected parent in raw: ``unknown_customer``, ``unknown_order``,
``unknown_campaign``, ``unknown_subscriber``. Ids are never changed, and
timestamps that are part of a key (email_subscriptions.event_at) and the spend
dates are never shifted; a code that is part of a composite key
(email_subscriptions.event_type, email_spend.cost_type, marketing_spend.channel
and purpose) may be miswritten, which changes the key's text but not which row
it is, and never makes two rows share a key.

Cascades follow from the contract: the children of a damaged or deleted parent
are rejected as ``unknown_*`` (and theirs in turn), and a rejected earn in the
points ledger can make a later redemption or expiry exceed the balance. To keep
cascades near the children's own rate (staging fails a build above 5 %
rejected), a parent row is picked with weight 1 / (1 + rows referencing it)²,
so parents with few children are damaged and deleted more often.

This module draws from its own random stream and only ever changes or drops
rows, so every row it leaves untouched is the clean row, in the clean order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clv.contract.tables import SPECS, TableSpec
from clv.simulate.calendar import DAY, HOUR
from clv.simulate.defects import US, int_values, micros, set_column, split_count

#: Kind -> the reason a row damaged that way is rejected for (None: not by itself).
EXPECTED_REASON: dict[str, str | None] = {
    "currency_case": "unknown_currency",
    "currency_padded": "unknown_currency",
    "code_case": "unknown_value",
    "code_typo": "unknown_value",
    "null_value": "null_required_value",
    "sign_flip": "non_positive_amount",
    "late_timestamp": "future_timestamp",
    "early_timestamp": "before_customer_created",
    "shifted_timestamp": None,
}
KINDS = tuple(EXPECTED_REASON)

#: Required (non-key) columns a loader may drop, per table.
NULL_COLUMNS: dict[str, tuple[str, ...]] = {
    "shop.customers": ("country", "acquisition_channel"),
    "shop.orders": ("currency", "status", "ordered_at"),
    "shop.order_items": ("sku", "unit_price"),
    "shop.refunds": ("amount",),
    "email.email_subscriptions": ("source",),
    "email.email_campaigns": ("name",),
    "email.email_sends": ("delivered", "sent_at"),
    "email.email_spend": ("amount",),
    "marketing.marketing_spend": ("amount",),
    "loyalty.loyalty_members": ("tier",),
    "loyalty.loyalty_points": ("points",),
    "loyalty.nps_responses": ("score",),
    "loyalty.referrals": ("referred_email",),
}
#: The amount whose sign flips, per table.
SIGNED_AMOUNT = {
    "shop.orders": "order_total",
    "shop.order_items": "unit_price",
    "shop.refunds": "amount",
    "email.email_spend": "amount",
    "marketing.marketing_spend": "amount",
    "loyalty.loyalty_points": "points",
}
#: Parent tables that lose rows, and the column whose rows go together.
DELETED = {
    "shop.customers": "customer_id",
    "shop.orders": "order_id",
    "email.email_campaigns": "campaign_id",
    "email.email_subscriptions": "subscriber_id",
}
#: Share of a parent table's budget spent on deletions (at least one parent).
DELETE_SHARE = 0.1


@dataclass(frozen=True)
class Corrupted:
    """The corrupted tables and what was done to them."""

    tables: dict[str, pa.Table]
    #: Per table, the clean row index of each row kept (in order).
    kept: dict[str, np.ndarray]
    #: Per table, the kind of damage of each kept row (None: untouched).
    kinds: dict[str, np.ndarray]

    def counts(self, name: str) -> dict[str, int]:
        """Damaged rows of one table per kind (kinds that occur only)."""
        damaged = self.kinds[name][self.kinds[name] != None]  # noqa: E711 (elementwise)
        labels, n = np.unique(damaged.astype(str), return_counts=True)
        return {str(k): int(v) for k, v in zip(labels, n, strict=True)}


def _kinds_for(spec: TableSpec) -> list[str]:
    """The kinds of damage that apply to a table, in the order its budget is spread."""
    kinds = []
    if spec.currency:
        kinds += ["currency_case", "currency_padded"]
    if spec.categories:
        kinds += ["code_case", "code_typo"]
    kinds.append("null_value")
    if spec.full_name in SIGNED_AMOUNT:
        kinds.append("sign_flip")
    if _shiftable(spec):
        kinds.append("late_timestamp")
        if spec.after_customer_created:
            kinds.append("early_timestamp")
        kinds.append("shifted_timestamp")
    return kinds


def _shiftable(spec: TableSpec) -> bool:
    """An event timestamp outside the key (dates are spend periods, never shifted)."""
    return (
        spec.event is not None
        and spec.event not in spec.key
        and pa.types.is_timestamp(spec.schema.field(spec.event).type)
    )


def _put(table: pa.Table, column: str, rows: np.ndarray, new: list) -> pa.Table:
    """``table`` with ``column`` set to ``new`` at ``rows`` (None: null; timestamps in µs)."""
    values = table[column].combine_chunks()
    if pa.types.is_timestamp(values.type):
        values = values.cast(pa.int64())
    items = values.to_pylist()
    for row, value in zip(rows.tolist(), new, strict=True):
        items[row] = value.item() if isinstance(value, np.generic) else value
    return set_column(table, column, pa.array(items, values.type))


def _typo(value: str, allowed: tuple[str, ...], rng: np.random.Generator) -> str:
    """Two adjacent, different letters swapped (a letter dropped if that is still allowed)."""
    positions = [i for i in range(len(value) - 1) if value[i] != value[i + 1]]
    i = int(rng.choice(positions))
    typo = value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    return typo if typo not in allowed else value[:i] + value[i + 1 :]


class _Damage:
    """Applies the kinds of damage to rows of one table."""

    def __init__(
        self, spec: TableSpec, table: pa.Table, created_us: np.ndarray, rng: np.random.Generator
    ) -> None:
        self.spec, self.table, self.rng = spec, table, rng
        self.created_us = created_us
        self.name = spec.full_name

    def _created(self) -> np.ndarray:
        """The clean created_at (µs) of each row's customer."""
        return self.created_us[int_values(self.table, "customer_id") - 1]

    def eligible(self, kind: str) -> np.ndarray:
        """Rows the kind can be applied to."""
        table, n = self.table, self.table.num_rows
        if kind == "sign_flip":
            return int_values(table, SIGNED_AMOUNT[self.name]) > 0
        if kind == "shifted_timestamp" and self.spec.after_customer_created:
            margin = micros(table, self.spec.event) - self._created()
            if self.name == "loyalty.loyalty_points":
                debit = ~pc.equal(table["entry_type"], "earn").to_numpy(zero_copy_only=False)
                return debit & (margin >= 2 * DAY * US)
            return margin >= 13 * HOUR * US
        return np.ones(n, bool)

    def apply(self, kind: str, rows: np.ndarray) -> None:
        getattr(self, kind)(rows)

    def _strings(self, column: str, rows: np.ndarray) -> list[str]:
        return self.table[column].combine_chunks().take(pa.array(rows)).to_pylist()

    def currency_case(self, rows: np.ndarray) -> None:
        column = self.spec.currency
        self.table = _put(
            self.table, column, rows, [v.lower() for v in self._strings(column, rows)]
        )

    def currency_padded(self, rows: np.ndarray) -> None:
        column = self.spec.currency
        self.table = _put(self.table, column, rows, [v + " " for v in self._strings(column, rows)])

    def _codes(self, rows: np.ndarray, change) -> None:
        columns = list(self.spec.categories)
        picked = self.rng.integers(0, len(columns), len(rows))
        for index, column in enumerate(columns):
            subset = rows[picked == index]
            if len(subset):
                allowed = self.spec.categories[column]
                new = [change(v, allowed) for v in self._strings(column, subset)]
                self.table = _put(self.table, column, subset, new)

    def code_case(self, rows: np.ndarray) -> None:
        self._codes(rows, lambda v, _: v.upper() if self.rng.random() < 0.5 else v.title())

    def code_typo(self, rows: np.ndarray) -> None:
        self._codes(rows, lambda v, allowed: _typo(v, allowed, self.rng))

    def null_value(self, rows: np.ndarray) -> None:
        columns = NULL_COLUMNS[self.name]
        picked = self.rng.integers(0, len(columns), len(rows))
        for index, column in enumerate(columns):
            subset = rows[picked == index]
            if len(subset):
                self.table = _put(self.table, column, subset, [None] * len(subset))

    def sign_flip(self, rows: np.ndarray) -> None:
        column = SIGNED_AMOUNT[self.name]
        values = int_values(self.table, column)[rows]
        self.table = _put(self.table, column, rows, list(-values))

    def _event(self, rows: np.ndarray, new_us: np.ndarray) -> None:
        new_us = new_us - new_us % US  # whole seconds, like the clean rows
        self.table = _put(self.table, self.spec.event, rows, list(new_us))

    def late_timestamp(self, rows: np.ndarray) -> None:
        loaded = micros(self.table, "_loaded_at")[rows]
        self._event(rows, loaded + self.rng.integers(HOUR, 3 * DAY, len(rows)) * US)

    def early_timestamp(self, rows: np.ndarray) -> None:
        created = self._created()[rows]
        self._event(rows, created - self.rng.integers(DAY, 10 * DAY, len(rows)) * US)

    def shifted_timestamp(self, rows: np.ndarray) -> None:
        event = micros(self.table, self.spec.event)[rows]
        if self.name == "loyalty.loyalty_points":
            shift = self.rng.integers(DAY, 30 * DAY, len(rows)) * US
            floor = self._created()[rows] + HOUR * US
            self._event(rows, np.maximum(event - shift, floor))
        else:
            self._event(rows, event - self.rng.integers(HOUR, 12 * HOUR, len(rows)) * US)


def _children(name: str, tables: dict[str, pa.Table]) -> np.ndarray:
    """Per row of ``name``: how many rows of other tables reference its key (0 for a leaf)."""
    table = tables[name]
    counts = np.zeros(table.num_rows, np.int64)
    for child, spec in SPECS.items():
        for column, (parent, parent_column, _) in spec.references.items():
            if parent != name:
                continue
            keys = int_values(table, parent_column)
            referenced = tables[child][column].drop_null().to_numpy(zero_copy_only=False)
            ids, n = np.unique(referenced, return_counts=True)
            position = np.clip(np.searchsorted(ids, keys), 0, max(len(ids) - 1, 0))
            if len(ids):
                counts += np.where(ids[position] == keys, n[position], 0)
    return counts


def _pick(pool: np.ndarray, n: int, weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows of ``pool`` (all if fewer), drawn with the given weights, in row order."""
    if len(pool) <= n:
        return pool
    p = weight[pool] / weight[pool].sum()
    return np.sort(rng.choice(pool, n, replace=False, p=p))


def _deleted_rows(
    name: str, table: pa.Table, units: int, weight: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A mask of the rows of ``units`` parents (all rows of a subscriber go together)."""
    keys = int_values(table, DELETED[name])
    ids, first = np.unique(keys, return_index=True)
    gone = keys[_pick(first, units, weight, rng)] if len(ids) else ids
    return np.isin(keys, gone)


def corrupt(
    tables: dict[str, pa.Table], rate: float, created_us: np.ndarray, rng: np.random.Generator
) -> Corrupted:
    """Damage about ``rate`` × rows of every clean table in place, delete a few parents.

    ``created_us`` holds each customer's clean created_at in microseconds,
    indexed by ``customer_id - 1``. The tables passed in are not modified.
    """
    out, kept, kinds = {}, {}, {}
    for name, spec in SPECS.items():
        table = tables[name]
        n = table.num_rows
        budget = int(round(rate * n))
        # A parent is picked less often the more rows reference it, so that its
        # cascade stays near the children's own rate (the realism budget).
        weight = 1.0 / (1.0 + _children(name, tables)) ** 2
        drop = np.zeros(n, bool)
        if budget and name in DELETED:
            units = max(1, round(DELETE_SHARE * budget))
            drop = _deleted_rows(name, table, units, weight, rng)
            budget = max(budget - int(drop.sum()), 0)
        damage = _Damage(spec, table, created_us, rng)
        kind_of = np.full(n, None, dtype=object)
        for kind, count in split_count(budget, tuple(_kinds_for(spec))).items():
            pool = np.flatnonzero(damage.eligible(kind) & ~drop & (kind_of == None))  # noqa: E711
            rows = _pick(pool, count, weight, rng)
            if len(rows):
                damage.apply(kind, rows)
                kind_of[rows] = kind
        keep = np.flatnonzero(~drop)
        out[name] = damage.table.take(pa.array(keep)) if drop.any() else damage.table
        kept[name] = keep
        kinds[name] = kind_of[keep]
    return Corrupted(out, kept, kinds)
