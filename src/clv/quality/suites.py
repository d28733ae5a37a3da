"""The shared pieces of every suite, and the raw layer's suites.

Nothing here touches great-expectations' context or a database. Every layer
produces :class:`SuitePlan` objects (a DataFrame or a SQL query, and its
expectations) which :mod:`clv.quality.runner` hands to GX. Suites are rebuilt
on every run, so a bound that depends on the data (the latest load time,
the recorded runs' row counts) is a plain number in the expectation and shows as such
in the Data Docs. This module holds the thresholds (:class:`QualitySettings`),
the expectation helpers and the raw suites; the staging, audit and marts
suites, written as portable SQL, are in :mod:`clv.quality.warehouse_suites`.

- **raw**: one suite per raw table of :data:`clv.contract.tables.SPECS`,
  checked on the Parquet files themselves (pandas), before any target loads
  or reads them. *Gates* (no ``mostly``): the table has rows, its row count
  is within the band of the recorded passing runs (:mod:`clv.quality.history`:
  at most ``row_count_max_decline`` below the largest ever recorded,
  ``row_count_band`` off the latest), every contract column
  exists, ids are not negative, money is within ``±max_abs_amount`` and
  timestamps lie between ``earliest_timestamp`` and ``now + max_future``.
  Those would break or corrupt the build.
  *Row defects* the staging quarantine is there to catch (null keys and
  values, duplicates, unknown categories, currencies and references, bad
  emails, negative amounts, events after their load or after the file's
  last load plus ``event_after_load_tolerance``) use
  ``mostly = 1 - max_rejected_share``: a few pass (they will be quarantined),
  a flood fails the gate before dbt's own rejection gate would.
- **raw.completeness**: the raw files against each other and against their
  own recent history (:mod:`clv.quality.completeness`), for partial deliveries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import great_expectations.expectations as gxe
import pandas as pd
import pyarrow as pa

from clv.contract import reference as ref
from clv.contract.tables import TableSpec
from clv.quality.history import row_count_band

Expectation = gxe.Expectation


@dataclass(frozen=True)
class QualitySettings:
    """The thresholds of the suites; every one is a documented setting.

    ``max_rejected_share`` mirrors the dbt var of the same name (0.05): the raw
    suite lets that share of rows carry a quarantinable defect.
    """

    #: Share of rows of a raw table allowed to break a quarantine rule (dbt var max_rejected_share).
    max_rejected_share: float = 0.05
    #: No amount in any currency is beyond this (a 1e12 order total is a unit or parsing bug).
    max_abs_amount: float = 1e9
    #: No timestamp before this: the business did not exist, the value is a default (1900, epoch).
    earliest_timestamp: datetime = datetime(1990, 1, 1)
    #: No timestamp later than now + this. Not one day: the contract's future_timestamp rows
    #: the simulator injects into marketing_spend are stamped with next month's first day.
    max_future: timedelta = timedelta(days=45)
    #: An event may not be later than the file's latest _loaded_at + this.
    event_after_load_tolerance: timedelta = timedelta(days=1)
    #: Raw row count may grow by this share above the latest passing run, and fall by it
    #: below it (0.5 = ±50 %).
    row_count_band: float = 0.5
    #: Raw row count may not fall more than this share below the largest count ever
    #: recorded (the ratchet: 8 % a run fails at the third run, 1 % a run at the 18th).
    row_count_max_decline: float = 0.15
    #: Passing raw runs whose row counts the history keeps, per raw dir and table.
    row_count_history_runs: int = 10
    # Completeness of the delivery (clv.quality.completeness); defaults measured on clean
    # and --bad-rows 0.02 data at several seeds, sizes and end days (docs/data_tests.md).
    #: Completed orders with no line in order_items (share).
    max_orders_without_lines_share: float = 0.03
    #: |sum(quantity * unit_price) - (order_total - shipping - tax + discount)| above this
    #: (order currency) makes an order's lines disagree with its subtotal.
    subtotal_tolerance: float = 0.02
    #: Order lines whose order_id is not in the orders file (share).
    max_lines_without_order_share: float = 0.04
    #: Completed orders (with lines) whose lines disagree with the subtotal (share).
    max_subtotal_mismatch_share: float = 0.05
    #: The recent window of the within-file trend figures, in days.
    recent_days: int = 28
    #: The trailing window the recent one is compared with, in days.
    trailing_days: int = 84
    #: Recent lines per completed order may differ from the trailing window's by this share.
    recent_lines_band: float = 0.15
    #: Recent value per line may differ from the trailing window's by this share.
    recent_value_band: float = 0.35
    #: Recent sends per campaign may differ from the trailing same-purpose median by this share.
    recent_sends_band: float = 0.4
    #: Weeks of same-weekday history the recent days' volume median is taken over.
    weekday_weeks: int = 8
    #: Orders of the last n days (n = 1..7) at least this share of the same weekdays' median.
    min_recent_volume_ratio: float = 0.2
    #: A recent span is judged only when the weekday medians expect at least this many orders.
    min_recent_volume_expected: float = 10.0
    #: Campaigns sent by the delivery's end with no send (share).
    max_campaigns_without_sends_share: float = 0.05
    #: E-mail-attributed orders with no opened send of their campaign (share).
    max_email_orders_without_send_share: float = 0.08
    #: Sends without a subscription row, unsubscribers without a subscribe event (shares).
    max_missing_subscription_share: float = 0.08
    #: Members' completed orders (total >= 1, from enrolment on) without an earn entry (share).
    max_member_orders_without_earn_share: float = 0.08
    #: The latest month's KPI may differ from its trailing median by this share (0.5 = ±50 %).
    trend_band: float = 0.5
    #: Months of history the trend median is taken over.
    trend_months: int = 6

    @property
    def mostly(self) -> float:
        """The ``mostly`` of the raw suite's row-defect checks."""
        return round(1.0 - self.max_rejected_share, 6)


@dataclass
class SuitePlan:
    """A suite ready to run: its name and layer, the DataFrame and the expectations.

    ``problems`` are failures found before GX could run (pre-flight, a
    missing relation); a plan with problems is reported failed without GX.
    """

    name: str
    layer: str
    frame: pd.DataFrame | None
    expectations: list[Expectation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Checks made outside GX (pre-flight), counted in the report.
    checks: int = 0
    #: Put before each failure line, e.g. the raw file's path "shop/orders.parquet".
    subject: str = ""
    #: A warehouse suite's SQL (:mod:`clv.quality.warehouse_suites`): run into ``frame``
    #: on DuckDB, a query asset of GX's SQL data source on PostgreSQL.
    query: str | None = None


# ---------------------------------------------------------------- helpers


def notes(text: str) -> dict[str, str]:
    return {"notes": text}


def not_null(column: str, mostly: float = 1.0, why: str = "") -> Expectation:
    """The column has no nulls (or at most ``1 - mostly`` of them)."""
    return gxe.ExpectColumnValuesToNotBeNull(
        column=column, mostly=mostly, **notes(why or f"{column} is required")
    )


def unique(columns: Iterable[str], mostly: float = 1.0) -> Expectation:
    """The key is unique: one column, or a compound key."""
    columns = list(columns)
    why = "duplicate keys double-count rows downstream"
    if len(columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=columns[0], mostly=mostly, **notes(why))
    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=columns, mostly=mostly, ignore_row_if="never", **notes(why)
    )


def between(
    column: str,
    min_value: float | datetime | None = None,
    max_value: float | datetime | None = None,
    mostly: float = 1.0,
    strict_min: bool = False,
    why: str = "",
) -> Expectation:
    """Every (non-null) value lies in the range."""
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=min_value,
        max_value=max_value,
        strict_min=strict_min,
        mostly=mostly,
        **notes(why or f"{column} outside its range"),
    )


def in_set(
    column: str, values: Iterable[object], mostly: float = 1.0, why: str = ""
) -> Expectation:
    """Every (non-null) value is one of ``values``."""
    return gxe.ExpectColumnValuesToBeInSet(
        column=column,
        value_set=list(values),
        mostly=mostly,
        **notes(why or f"{column} takes listed values only"),
    )


def is_true(column: str, why: str, mostly: float = 1.0) -> Expectation:
    """A derived boolean column is true on every row."""
    return gxe.ExpectColumnValuesToBeInSet(
        column=column, value_set=[True], mostly=mostly, **notes(why)
    )


def loaded_after(loaded: str, event: str, why: str, mostly: float = 1.0) -> Expectation:
    """A row's load time is not before its event time (rows missing either are skipped)."""
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=loaded,
        column_B=event,
        or_equal=True,
        mostly=mostly,
        ignore_row_if="either_value_is_missing",
        **notes(why),
    )


def _is_money(spec: TableSpec, column: str) -> bool:
    return spec.schema.field(column).type == pa.float64()


def _is_time(data_type: pa.DataType) -> bool:
    return pa.types.is_timestamp(data_type) or pa.types.is_date(data_type)


def _ceil(value: float) -> int:
    return int(math.ceil(value - 1e-9))


# ---------------------------------------------------------------- raw


def raw_amount_rules(spec: TableSpec) -> tuple[tuple[str, float, bool], ...]:
    """The table's amount columns and their minimum (contract rule 6), in file order.

    Each is (column, minimum, strict); strict means the value must be above the minimum.
    """
    return tuple(
        (column, 0.0, column in spec.positive)
        for column in spec.schema.names
        if column in spec.positive or column in spec.non_negative
    )


def raw_frame(spec: TableSpec, frame: pd.DataFrame, frames: dict[str, pd.DataFrame]) -> None:
    """Add the derived columns the raw suite checks: ``<column>_is_known`` per reference.

    A reference is known when its value occurs in the referenced raw table
    (or is null in a nullable column). Compared with the raw, not the staged,
    table: this is a pre-dbt check of how many rows the quarantine will take.
    """
    for column, (table, target, _reason) in spec.references.items():
        if table not in frames or target not in frames[table]:
            continue
        known = frame[column].isin(frames[table][target].dropna().unique())
        if column in spec.nullable:
            known = known | frame[column].isna()
        frame[f"{column}_is_known"] = known.astype(bool)


def raw_expectations(
    spec: TableSpec,
    frame: pd.DataFrame,
    settings: QualitySettings,
    now: datetime,
    previous_rows: int | list[int] | None,
    peak_rows: int | None = None,
) -> list[Expectation]:
    """The raw suite of one table (see the module docstring for gates and row defects)."""
    mostly = settings.mostly
    expectations: list[Expectation] = []

    # Gate: volume, against the row counts of the recorded passing runs (oldest first).
    if previous_rows is None:
        runs: list[int] = []
    elif isinstance(previous_rows, int):
        runs = [previous_rows]
    else:
        runs = list(previous_rows)
    low, high, why = row_count_band(
        runs, settings.row_count_band, settings.row_count_max_decline, peak_rows
    )
    expectations.append(
        gxe.ExpectTableRowCountToBeBetween(min_value=low, max_value=high, **notes(why))
    )

    # Gate: schema (pre-flight checked types; these document the contract in the Data Docs).
    for column in spec.schema.names:
        expectations.append(
            gxe.ExpectColumnToExist(column=column, **notes("dbt selects it by name"))
        )

    # Row defects: keys and required values.
    for column in spec.key:
        if column not in spec.nullable_key:
            expectations.append(not_null(column, mostly, "null_key rows are quarantined"))
    for column in spec.schema.names:
        if column not in spec.key and column not in spec.nullable:
            expectations.append(
                not_null(column, mostly, "null_required_value rows are quarantined")
            )
    expectations.append(unique(spec.key, mostly))

    # Gate: ids are not negative (a sign or overflow bug in the loader).
    for column_field in spec.schema:
        if column_field.name.endswith("_id") and pa.types.is_integer(column_field.type):
            expectations.append(
                between(column_field.name, 0, why="a negative id is a loader sign/overflow bug")
            )

    # Row defects: listed values.
    for column, values in spec.categories.items():
        expectations.append(in_set(column, values, mostly, "unknown_value rows are quarantined"))
    if spec.currency:
        expectations.append(
            in_set(
                spec.currency,
                sorted(ref.currency_rates()),
                mostly,
                "unknown_currency rows are quarantined",
            )
        )
    for column in spec.emails:
        expectations.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column=column,
                regex=ref.EMAIL_REGEX,
                mostly=mostly,
                **notes("invalid_email rows are quarantined"),
            )
        )
    for column, (lowest, highest) in spec.ranges.items():
        expectations.append(between(column, lowest, highest, mostly, why="score_out_of_range"))

    # Gate: absurd amounts; row defect: negative amounts.
    for column_field in spec.schema:
        if _is_money(spec, column_field.name):
            limit = settings.max_abs_amount
            expectations.append(
                between(
                    column_field.name,
                    -limit,
                    limit,
                    why=f"no amount in any currency is beyond {limit:g}: a unit or parsing bug",
                )
            )
    for column, minimum, strict in raw_amount_rules(spec):
        expectations.append(
            between(
                column,
                minimum,
                mostly=mostly,
                strict_min=strict,
                why="non_positive_amount rows are quarantined",
            )
        )

    # Gate: absurd timestamps; row defect: events after the file's last load.
    latest_allowed = now + settings.max_future
    last_load = frame["_loaded_at"].max() if "_loaded_at" in frame else None
    for column_field in spec.schema:
        if not _is_time(column_field.type):
            continue
        expectations.append(
            between(
                column_field.name,
                settings.earliest_timestamp,
                latest_allowed,
                why=(
                    "timestamps before the business existed or far in the future are "
                    "defaults or parsing bugs"
                ),
            )
        )
        if column_field.name == spec.event and last_load is not None and not pd.isna(last_load):
            # A row-level clock error (one event stamped after every load) is a
            # future_timestamp row the quarantine takes; a flood is a broken extract.
            expectations.append(
                between(
                    column_field.name,
                    max_value=last_load.to_pydatetime() + settings.event_after_load_tolerance,
                    mostly=mostly,
                    why="events no later than the file's last load: future_timestamp rows",
                )
            )
    if spec.event:
        expectations.append(
            loaded_after("_loaded_at", spec.event, "future_timestamp rows are quarantined", mostly)
        )

    # Row defects: unknown references.
    for column, (_table, _target, reason) in spec.references.items():
        derived = f"{column}_is_known"
        if derived in frame:
            expectations.append(is_true(derived, f"{reason} rows are quarantined", mostly))
    return expectations
