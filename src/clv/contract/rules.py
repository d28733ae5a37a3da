"""A reference implementation of the contract's rejection rules, in numpy/pandas.

:func:`classify` gives every raw row the first rule it breaks (in the contract's
check order) or ``None``. The tests use it to prove that clean simulated rows
pass every rule and that every injected row is rejected with the reason the
manifest records; it can also be used to cross-check staging's
``audit.rejected_rows``. Pure functions over Arrow tables, no I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clv.contract import reference as ref
from clv.contract.tables import SPECS, TableSpec


def _null(table: pa.Table, column: str) -> np.ndarray:
    return table[column].is_null().to_numpy(zero_copy_only=False)


def _num(table: pa.Table, column: str) -> np.ndarray:
    """A numeric, timestamp or date column as numbers (timestamps/dates in µs), nulls as 0."""
    values = table[column].combine_chunks()
    if pa.types.is_date32(values.type):
        days = values.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
        return days.astype(np.int64) * 86_400_000_000
    if pa.types.is_timestamp(values.type):
        return values.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return values.fill_null(0).to_numpy(zero_copy_only=False)


def _in(table: pa.Table, column: str, allowed: tuple[str, ...] | list[str]) -> np.ndarray:
    values = table[column].combine_chunks()
    return pc.fill_null(
        pc.is_in(values, value_set=pa.array(list(allowed), values.type)), False
    ).to_numpy(zero_copy_only=False)


def _key_frame(table: pa.Table, columns: tuple[str, ...]) -> pd.DataFrame:
    return table.select(list(columns)).to_pandas()


def _row_text(table: pa.Table, rows: np.ndarray) -> list[str]:
    sub = table.take(pa.array(rows)).to_pylist()
    return ["|".join("" if v is None else str(v) for v in row.values()) for row in sub]


class _Classifier:
    def __init__(self, spec: TableSpec, table: pa.Table) -> None:
        self.spec = spec
        self.table = table
        self.reason = np.full(table.num_rows, None, dtype=object)

    def mark(self, mask: np.ndarray, code: str) -> None:
        self.reason[mask & (self.reason == None)] = code  # noqa: E711 (elementwise)

    @property
    def open(self) -> np.ndarray:
        return self.reason == None  # noqa: E711

    def row_rules(self, currencies: list[str]) -> None:
        """Rules 1-8: checks on the row alone."""
        spec, table = self.spec, self.table
        n = table.num_rows
        key_null = np.zeros(n, bool)
        for column in spec.key:
            if column not in spec.nullable_key:
                key_null |= _null(table, column)
        self.mark(key_null, "null_key")
        required = np.zeros(n, bool)
        for column in table.column_names:
            if column not in spec.key and column not in spec.nullable:
                required |= _null(table, column)
        self.mark(required, "null_required_value")
        for column in spec.emails:
            valid = pc.match_substring_regex(table[column], ref.EMAIL_REGEX)
            self.mark(~pc.fill_null(valid, False).to_numpy(zero_copy_only=False), "invalid_email")
        if spec.currency:
            self.mark(~_in(table, spec.currency, currencies), "unknown_currency")
        for column, allowed in spec.categories.items():
            self.mark(~_in(table, column, allowed), "unknown_value")
        self.mark(self._non_positive(), "non_positive_amount")
        for column, (lowest, highest) in spec.ranges.items():
            value = _num(table, column)
            self.mark((value < lowest) | (value > highest), "score_out_of_range")
        if spec.event:
            self.mark(_num(table, spec.event) > _num(table, "_loaded_at"), "future_timestamp")

    def _non_positive(self) -> np.ndarray:
        """Rule 6: a positive amount at or below zero, or a non-negative amount below it."""
        spec, table = self.spec, self.table
        bad = np.zeros(table.num_rows, bool)
        for column in spec.positive:
            bad |= _num(table, column) <= 0
        for column in spec.non_negative:
            bad |= _num(table, column) < 0
        return bad

    def deduplicate(self) -> None:
        """Rule 9: among rows passing 1-8, the earliest load (then smallest row text) wins."""
        candidates = np.flatnonzero(self.open)
        if len(candidates) == 0:
            return
        keys = _key_frame(self.table.take(pa.array(candidates)), self.spec.key)
        clash = keys.duplicated(keep=False).to_numpy()
        if not clash.any():
            return
        rows = candidates[clash]
        frame = keys[clash].copy()
        frame["_loaded_at"] = _num(self.table, "_loaded_at")[rows]
        frame["_text"] = _row_text(self.table, rows)
        frame["_row"] = rows
        frame = frame.sort_values(["_loaded_at", "_text"], kind="stable")
        later = frame["_row"].to_numpy()[
            frame.duplicated(list(self.spec.key), keep="first").to_numpy()
        ]
        mask = np.zeros(self.table.num_rows, bool)
        mask[later] = True
        self.mark(mask, "duplicate_key")


def _accepted_values(
    tables: dict[str, pa.Table], reasons: dict[str, np.ndarray], name: str, column: str
) -> np.ndarray:
    table = tables[name]
    ok = reasons[name] == None  # noqa: E711
    return np.unique(_num(table, column)[ok & ~_null(table, column)])


def _lookup(
    keys: np.ndarray, values: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``wanted`` in sorted unique ``keys`` and whether found."""
    if len(keys) == 0:
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), bool)
    position = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
    return position, keys[position] == wanted


def classify(
    tables: dict[str, pa.Table], currencies: list[str] | None = None
) -> dict[str, np.ndarray]:
    """Per table, an object array: the reason each row is rejected for, or None (accepted)."""
    currencies = list(currencies or ref.currency_rates())
    reasons: dict[str, np.ndarray] = {}
    customer_created: tuple[np.ndarray, np.ndarray] | None = None
    order_totals: tuple[np.ndarray, np.ndarray] | None = None
    for name, spec in SPECS.items():
        table = tables[name]
        check = _Classifier(spec, table)
        check.row_rules(currencies)
        check.deduplicate()
        for column, (ref_table, ref_column, code) in spec.references.items():
            known = _accepted_values(tables, reasons, ref_table, ref_column)
            value = _num(table, column)
            _, found = _lookup(known, known, value)
            check.mark(~_null(table, column) & ~found, code)
        if spec.after_customer_created and customer_created is not None:
            ids, created = customer_created
            position, found = _lookup(ids, created, _num(table, "customer_id"))
            check.mark(
                found & (_num(table, spec.event) < created[position]), "before_customer_created"
            )
        if name == "shop.refunds" and order_totals is not None:
            ids, totals = order_totals
            position, found = _lookup(ids, totals, _num(table, "order_id"))
            check.mark(found & (_num(table, "amount") > totals[position]), "refund_exceeds_order")
        if name == "loyalty.loyalty_points":
            _check_balances(check)
        reasons[name] = check.reason
        if name == "shop.customers":
            ok = check.open
            order = np.argsort(_num(table, "customer_id")[ok], kind="stable")
            customer_created = (
                _num(table, "customer_id")[ok][order],
                _num(table, "created_at")[ok][order],
            )
        if name == "shop.orders":
            ok = check.open
            order = np.argsort(_num(table, "order_id")[ok], kind="stable")
            order_totals = (
                _num(table, "order_id")[ok][order],
                _num(table, "order_total")[ok][order],
            )
    return reasons


def _check_balances(check: _Classifier) -> None:
    """Rule 13: a redemption or expiry may not exceed the balance of the accepted entries before it.

    Entries are taken per customer in (entry_at, entry_id) order; a rejected
    redemption or expiry does not lower the balance for the entries after it.
    Redemptions are rejected as ``redemption_exceeds_balance``, expiries as
    ``expiry_exceeds_balance``.
    """
    table = check.table
    rows = np.flatnonzero(check.open)
    if len(rows) == 0:
        return
    customer = _num(table, "customer_id")[rows]
    order = np.lexsort((_num(table, "entry_id")[rows], _num(table, "entry_at")[rows], customer))
    rows, customer = rows[order], customer[order]
    entry_type = np.asarray(table["entry_type"].combine_chunks().take(pa.array(rows)).to_pylist())
    points = _num(table, "points")[rows].astype(np.int64)
    signed = np.where(entry_type == "earn", points, -points)
    debit = (entry_type == "redeem") | (entry_type == "expire")
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    counts = np.diff(np.r_[starts, len(rows)])
    rejected = np.zeros(len(rows), bool)
    while True:
        effective = np.where(rejected, 0, signed)
        running = np.cumsum(effective)
        before = running - effective - np.repeat(np.r_[0, running][starts], counts)
        failing = debit & ~rejected & (points > before)
        if not failing.any():
            break
        # Only each customer's first failing debit is certain; recompute after it.
        group = np.repeat(np.arange(len(starts)), counts)
        first = np.flatnonzero(failing)
        _, keep = np.unique(group[first], return_index=True)
        rejected[first[keep]] = True
    for kind, code in (
        ("redeem", "redemption_exceeds_balance"),
        ("expire", "expiry_exceeds_balance"),
    ):
        mask = np.zeros(table.num_rows, bool)
        mask[rows[rejected & (entry_type == kind)]] = True
        check.mark(mask, code)


def summarize(reasons: dict[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """Rejected rows per table and reason."""
    summary = {}
    for name, values in reasons.items():
        rejected = values[values != None]  # noqa: E711
        labels, counts = (
            np.unique(rejected.astype(str), return_counts=True) if len(rejected) else ([], [])
        )
        summary[name] = {str(k): int(v) for k, v in zip(labels, counts, strict=True)}
    return summary
