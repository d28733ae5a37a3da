"""The expectation suites of every layer, built in code from the contract and the marts.

Nothing here touches great-expectations' context or a database: each
``*_plans`` function takes DataFrames and returns :class:`SuitePlan` objects
(a DataFrame, its expectations and any derived columns already added), which
:mod:`clv.quality.runner` hands to GX. Suites are rebuilt on every run, so a
bound that depends on the data (the latest load time, last run's row count)
is a plain number in the expectation and shows as such in the Data Docs.

Three layers:

- **raw**: one suite per raw table of :data:`clv.simulate.tables.SPECS`.
  *Gates* (no ``mostly``): the table has rows, its row count moved less than
  the band since the last passing run, every contract column exists, ids are
  not negative, money is within ``±max_abs_amount``, timestamps lie between
  ``earliest_timestamp`` and ``now + max_future`` and events are not later
  than the file's last load plus ``event_after_load_tolerance``. Those would
  break or corrupt the build. *Row defects* the staging quarantine is there
  to catch (null keys and values, duplicates, unknown categories, currencies
  and references, bad emails, negative amounts, events after their load) use
  ``mostly = 1 - max_rejected_share``: a few pass (they will be quarantined),
  a flood fails the gate before dbt's own rejection gate would.
- **staging**: one suite per ``stg_`` model after the quarantine, where no
  defect may be left (no ``mostly``), plus ``audit.rejection_summary``
  (raw = staged + rejected, shares under the limit).
- **marts**: rates in 0–1, NPS in −100..100, the customer-equity identities,
  cumulative values that never fall, month spines without holes, and the
  latest month's average order value and annual retention within a band
  around their trailing median.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import great_expectations.expectations as gxe
import pandas as pd
import pyarrow as pa

from clv.simulate import reference as ref
from clv.simulate.tables import SPECS, TableSpec

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
    #: Raw row count may move by this share since the last passing run (0.5 = ±50 %).
    row_count_band: float = 0.5
    #: The latest month's KPI may differ from its trailing median by this share (0.5 = ±50 %).
    trend_band: float = 0.5
    #: Months of history the trend median is taken over.
    trend_months: int = 6
    #: Tolerance for floating-point identities and monotone cumulative values.
    tolerance: float = 1e-6

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


# ---------------------------------------------------------------- helpers


def _notes(text: str) -> dict[str, str]:
    return {"notes": text}


def not_null(column: str, mostly: float = 1.0, why: str = "") -> Expectation:
    """The column has no nulls (or at most ``1 - mostly`` of them)."""
    return gxe.ExpectColumnValuesToNotBeNull(
        column=column, mostly=mostly, **_notes(why or f"{column} is required")
    )


def unique(columns: Iterable[str], mostly: float = 1.0) -> Expectation:
    """The key is unique: one column, or a compound key."""
    columns = list(columns)
    why = "duplicate keys double-count rows downstream"
    if len(columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=columns[0], mostly=mostly, **_notes(why))
    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=columns, mostly=mostly, ignore_row_if="never", **_notes(why)
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
        **_notes(why or f"{column} outside its range"),
    )


def in_set(
    column: str, values: Iterable[object], mostly: float = 1.0, why: str = ""
) -> Expectation:
    """Every (non-null) value is one of ``values``."""
    return gxe.ExpectColumnValuesToBeInSet(
        column=column,
        value_set=list(values),
        mostly=mostly,
        **_notes(why or f"{column} takes listed values only"),
    )


def is_true(column: str, why: str, mostly: float = 1.0) -> Expectation:
    """A derived boolean column is true on every row."""
    return gxe.ExpectColumnValuesToBeInSet(
        column=column, value_set=[True], mostly=mostly, **_notes(why)
    )


def zero(column: str, tolerance: float, why: str) -> Expectation:
    """A derived gap column (an identity's left minus right side) is zero."""
    return gxe.ExpectColumnValuesToBeBetween(
        column=column, min_value=-tolerance, max_value=tolerance, **_notes(why)
    )


def rate(column: str, why: str = "") -> Expectation:
    """A fraction lies in 0–1."""
    return between(column, 0, 1, why=why or f"{column} is a fraction 0-1")


def _is_money(spec: TableSpec, column: str) -> bool:
    return spec.schema.field(column).type == pa.float64()


def _is_time(data_type: pa.DataType) -> bool:
    return pa.types.is_timestamp(data_type) or pa.types.is_date(data_type)


def _ceil(value: float) -> int:
    return int(math.ceil(value - 1e-9))


# ---------------------------------------------------------------- raw

#: Per raw table, the amount columns and their minimum (contract rule 6):
#: (column, minimum, strict) — strict means the value must be above the minimum.
RAW_AMOUNT_RULES: dict[str, tuple[tuple[str, float, bool], ...]] = {
    "shop.orders": tuple(
        (c, 0.0, False) for c in ("order_total", "discount", "shipping", "tax", "fulfillment_cost")
    ),
    "shop.order_items": (("quantity", 0, True), ("unit_price", 0, False), ("unit_cost", 0, False)),
    "shop.refunds": (("amount", 0, True),),
    "email.email_spend": (("amount", 0, True),),
    "marketing.marketing_spend": (("amount", 0, True),),
    "loyalty.loyalty_points": (("points", 0, True),),
}


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
    previous_rows: int | None,
) -> list[Expectation]:
    """The raw suite of one table (see the module docstring for gates and row defects)."""
    mostly = settings.mostly
    expectations: list[Expectation] = []

    # Gate: volume.
    if previous_rows is None:
        low, high = 1, None
        why = "an empty raw table means a failed export (no earlier run to compare with)"
    else:
        low = max(1, _ceil(previous_rows * (1 - settings.row_count_band)))
        high = int(math.floor(previous_rows * (1 + settings.row_count_band) + 1e-9))
        why = (
            f"row count within ±{settings.row_count_band:.0%} of the last passing run "
            f"({previous_rows:,} rows): a partial or doubled delivery"
        )
    expectations.append(
        gxe.ExpectTableRowCountToBeBetween(min_value=low, max_value=high, **_notes(why))
    )

    # Gate: schema (pre-flight checked types; these document the contract in the Data Docs).
    for column in spec.schema.names:
        expectations.append(
            gxe.ExpectColumnToExist(column=column, **_notes("dbt selects it by name"))
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
                **_notes("invalid_email rows are quarantined"),
            )
        )
    if spec.name == "nps_responses":
        expectations.append(between("score", 0, 10, mostly, why="score_out_of_range"))

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
    for column, minimum, strict in RAW_AMOUNT_RULES.get(spec.full_name, ()):
        expectations.append(
            between(
                column,
                minimum,
                mostly=mostly,
                strict_min=strict,
                why="non_positive_amount rows are quarantined",
            )
        )

    # Gate: absurd timestamps; row defect: events after their load.
    latest_allowed = now + settings.max_future
    last_load = frame["_loaded_at"].max() if "_loaded_at" in frame else None
    for column_field in spec.schema:
        if not _is_time(column_field.type):
            continue
        upper = latest_allowed
        if column_field.name == spec.event and last_load is not None and not pd.isna(last_load):
            upper = min(upper, last_load.to_pydatetime() + settings.event_after_load_tolerance)
        expectations.append(
            between(
                column_field.name,
                settings.earliest_timestamp,
                upper,
                why=(
                    "timestamps before the business existed or far in the future are "
                    "defaults or parsing bugs; events no later than the file's last load"
                ),
            )
        )
    if spec.event:
        expectations.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="_loaded_at",
                column_B=spec.event,
                or_equal=True,
                mostly=mostly,
                ignore_row_if="either_value_is_missing",
                **_notes("future_timestamp rows are quarantined"),
            )
        )

    # Row defects: unknown references.
    for column, (_table, _target, reason) in spec.references.items():
        derived = f"{column}_is_known"
        if derived in frame:
            expectations.append(is_true(derived, f"{reason} rows are quarantined", mostly))
    return expectations


# ---------------------------------------------------------------- staging


@dataclass(frozen=True)
class StagingSpec:
    """What a ``stg_`` model guarantees once the quarantine has run."""

    model: str
    raw: str
    key: tuple[str, ...]
    required: tuple[str, ...] = ()
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    currency: str | None = None
    #: column -> (minimum, strict).
    minimums: dict[str, tuple[float, bool]] = field(default_factory=dict)
    #: column -> (minimum, maximum).
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    event: str | None = None
    #: column -> (referenced stg model, referenced column); null values are allowed.
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Key columns that may be null (email_spend.campaign_id).
    nullable_key: tuple[str, ...] = ()


def _categories(raw: str, renames: dict[str, str] | None = None) -> dict[str, tuple[str, ...]]:
    renames = renames or {}
    return {renames.get(c, c): values for c, values in SPECS[raw].categories.items()}


_NON_NEGATIVE = (0.0, False)
_POSITIVE = (0.0, True)

STAGING: tuple[StagingSpec, ...] = (
    StagingSpec(
        "stg_shop__customers",
        "shop.customers",
        key=("customer_id",),
        required=("email_hash", "acquisition_channel", "created_at", "loaded_at"),
        categories=_categories("shop.customers"),
        event="created_at",
    ),
    StagingSpec(
        "stg_shop__orders",
        "shop.orders",
        key=("order_id",),
        required=("customer_id", "status", "currency_code", "order_total", "ordered_at"),
        categories=_categories("shop.orders"),
        currency="currency_code",
        minimums={
            "order_total_local": _NON_NEGATIVE,
            "order_total": _NON_NEGATIVE,
            "discount_amount": _NON_NEGATIVE,
            "shipping_amount": _NON_NEGATIVE,
            "tax_amount": _NON_NEGATIVE,
            "fulfillment_cost": _NON_NEGATIVE,
            "rate_to_reporting_currency": _POSITIVE,
        },
        event="ordered_at",
        references={"customer_id": ("stg_shop__customers", "customer_id")},
    ),
    StagingSpec(
        "stg_shop__order_items",
        "shop.order_items",
        key=("order_id", "line_number"),
        required=("quantity", "unit_price", "unit_cost", "line_revenue"),
        minimums={
            "quantity": (1, False),
            "unit_price": _NON_NEGATIVE,
            "unit_cost": _NON_NEGATIVE,
            "line_revenue": _NON_NEGATIVE,
            "line_cost": _NON_NEGATIVE,
        },
        references={"order_id": ("stg_shop__orders", "order_id")},
    ),
    StagingSpec(
        "stg_shop__refunds",
        "shop.refunds",
        key=("refund_id",),
        required=("order_id", "refund_amount", "refunded_at"),
        minimums={"refund_amount": _POSITIVE, "refund_amount_local": _POSITIVE},
        event="refunded_at",
        references={"order_id": ("stg_shop__orders", "order_id")},
    ),
    StagingSpec(
        "stg_email__email_subscriptions",
        "email.email_subscriptions",
        key=("subscriber_id", "event_type", "event_at"),
        required=("email_hash",),
        categories=_categories("email.email_subscriptions"),
        event="event_at",
        references={"customer_id": ("stg_shop__customers", "customer_id")},
    ),
    StagingSpec(
        "stg_email__email_campaigns",
        "email.email_campaigns",
        key=("campaign_id",),
        required=("campaign_name", "sent_at"),
        categories=_categories("email.email_campaigns", {"purpose": "campaign_purpose"}),
        event="sent_at",
    ),
    StagingSpec(
        "stg_email__email_sends",
        "email.email_sends",
        key=("campaign_id", "subscriber_id"),
        required=("is_delivered", "sent_at"),
        event="sent_at",
        references={
            "campaign_id": ("stg_email__email_campaigns", "campaign_id"),
            "subscriber_id": ("stg_email__email_subscriptions", "subscriber_id"),
        },
    ),
    StagingSpec(
        "stg_email__email_spend",
        "email.email_spend",
        key=("spend_date", "campaign_id", "cost_type"),
        nullable_key=("campaign_id",),
        required=("spend_amount", "currency_code"),
        categories=_categories("email.email_spend"),
        currency="currency_code",
        minimums={"spend_amount": _POSITIVE, "spend_amount_local": _POSITIVE},
        event="spend_date",
        references={"campaign_id": ("stg_email__email_campaigns", "campaign_id")},
    ),
    StagingSpec(
        "stg_marketing__marketing_spend",
        "marketing.marketing_spend",
        key=("spend_month", "channel", "spend_purpose"),
        required=("spend_amount", "currency_code"),
        categories=_categories("marketing.marketing_spend", {"purpose": "spend_purpose"}),
        currency="currency_code",
        minimums={"spend_amount": _POSITIVE, "spend_amount_local": _POSITIVE},
        event="spend_month",
    ),
    StagingSpec(
        "stg_loyalty__loyalty_members",
        "loyalty.loyalty_members",
        key=("customer_id",),
        required=("loyalty_tier", "enrolled_at"),
        categories=_categories("loyalty.loyalty_members", {"tier": "loyalty_tier"}),
        event="enrolled_at",
        references={"customer_id": ("stg_shop__customers", "customer_id")},
    ),
    StagingSpec(
        "stg_loyalty__loyalty_points",
        "loyalty.loyalty_points",
        key=("entry_id",),
        required=("customer_id", "points", "entry_at"),
        categories=_categories("loyalty.loyalty_points"),
        # A balance never goes below zero: redemptions beyond it are quarantined.
        minimums={"points": _POSITIVE, "points_balance": _NON_NEGATIVE},
        event="entry_at",
        references={
            "customer_id": ("stg_shop__customers", "customer_id"),
            "order_id": ("stg_shop__orders", "order_id"),
        },
    ),
    StagingSpec(
        "stg_loyalty__nps_responses",
        "loyalty.nps_responses",
        key=("response_id",),
        required=("customer_id", "nps_score", "responded_at"),
        ranges={"nps_score": (0, 10)},
        event="responded_at",
        references={"customer_id": ("stg_shop__customers", "customer_id")},
    ),
    StagingSpec(
        "stg_loyalty__referrals",
        "loyalty.referrals",
        key=("referral_id",),
        required=("referrer_customer_id", "referred_email_hash", "referred_at"),
        event="referred_at",
        references={
            "referrer_customer_id": ("stg_shop__customers", "customer_id"),
            "referred_customer_id": ("stg_shop__customers", "customer_id"),
        },
    ),
)


def staging_expectations(
    spec: StagingSpec, frame: pd.DataFrame, frames: dict[str, pd.DataFrame]
) -> list[Expectation]:
    """A staging model's suite; adds its derived columns to ``frame``.

    Staging holds only rows that passed the quarantine, so none of these
    allow exceptions: a failure means a quarantine rule has a hole.
    """
    expectations: list[Expectation] = [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=1, **_notes("an empty staging model empties every mart")
        )
    ]
    for column in spec.key:
        if column not in spec.nullable_key:
            expectations.append(not_null(column, why="null keys must have been quarantined"))
    if spec.nullable_key:
        # A null key part counts as one value (the contract): compare on a filled copy.
        keyed = []
        for column in spec.key:
            if column in spec.nullable_key:
                frame[f"{column}_or_minus_one"] = frame[column].fillna(-1)
                keyed.append(f"{column}_or_minus_one")
            else:
                keyed.append(column)
        expectations.append(unique(keyed))
    else:
        expectations.append(unique(spec.key))
    for column in spec.required:
        expectations.append(not_null(column))
    for column, values in spec.categories.items():
        expectations.append(in_set(column, values))
    if spec.currency:
        expectations.append(in_set(spec.currency, sorted(ref.currency_rates())))
    for column, (minimum, strict) in spec.minimums.items():
        expectations.append(
            between(column, minimum, strict_min=strict, why=f"{column} must not be negative")
        )
    for column, (low, high) in spec.ranges.items():
        expectations.append(between(column, low, high))
    if spec.event:
        expectations.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="loaded_at",
                column_B=spec.event,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                **_notes("nothing is loaded before it happened (future_timestamp)"),
            )
        )
    for column, (model, target) in spec.references.items():
        if model not in frames:
            continue
        derived = f"{column}_is_known"
        known = frame[column].isin(frames[model][target].dropna().unique()) | frame[column].isna()
        frame[derived] = known.astype(bool)
        expectations.append(is_true(derived, f"{column} refers to a staged {model} row"))
    if spec.model == "stg_shop__orders":
        frame["has_one_status_flag"] = (frame["is_completed"] != frame["is_cancelled"]).astype(bool)
        expectations.append(is_true("has_one_status_flag", "completed xor cancelled"))
    return expectations


def audit_expectations(
    frame: pd.DataFrame, staged_counts: dict[str, int], settings: QualitySettings
) -> list[Expectation]:
    """``audit.rejection_summary``: nothing dropped, every table present, shares under the gate.

    ``staged_counts`` maps ``<source>.<table>`` to the row count of its stg_
    model, read independently, so the summary cannot claim rows staging lacks.
    """
    frame["unaccounted_rows"] = frame["raw_rows"] - frame["staged_rows"] - frame["rejected_rows"]
    frame["staged_rows_counted"] = frame["source_table"].map(staged_counts).astype("Int64")
    return [
        gxe.ExpectColumnDistinctValuesToEqualSet(
            column="source_table",
            value_set=sorted(SPECS),
            **_notes("one row per raw table of the contract"),
        ),
        zero("unaccounted_rows", 0, "raw = staged + rejected: nothing is dropped silently"),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="staged_rows",
            column_B="staged_rows_counted",
            **_notes("staged_rows equals the rows of the stg_ model"),
        ),
        between(
            "rejected_share",
            0,
            settings.max_rejected_share,
            why="the build gate max_rejected_share",
        ),
        between("raw_rows", 1, why="every raw table delivered rows"),
    ]


# ---------------------------------------------------------------- marts


def _gap_to_previous(
    frame: pd.DataFrame, column: str, by: list[str], order: str, first: float | None = None
) -> pd.Series:
    """``column`` minus its value on the previous row of the group (``first`` on the first row)."""
    ordered = frame.sort_values([*by, order]) if by else frame.sort_values(order)
    previous = ordered.groupby(by)[column].shift(1) if by else ordered[column].shift(1)
    if first is not None:
        previous = previous.fillna(first)
    return (ordered[column] - previous).reindex(frame.index)


def _month_steps(frame: pd.DataFrame, column: str, by: list[str] | None = None) -> pd.Series:
    """Months between a row's month and the previous row's (null on the first row)."""
    months = pd.to_datetime(frame[column])
    index = months.dt.year * 12 + months.dt.month
    helper = frame.assign(_month_index=index)
    return _gap_to_previous(helper, "_month_index", by or [], "_month_index").astype("Float64")


def _spine(frame: pd.DataFrame, column: str = "month") -> Expectation:
    """Adds ``<column>s_since_previous_row``; the spine is continuous when it is always 1."""
    frame[f"{column}s_since_previous_row"] = _month_steps(frame, column)
    return between(
        f"{column}s_since_previous_row",
        1,
        1,
        why="the month spine is continuous: no month missing, none twice",
    )


def _non_decreasing(
    frame: pd.DataFrame, column: str, by: list[str], order: str, tolerance: float
) -> Expectation:
    derived = f"{column}_change"
    frame[derived] = _gap_to_previous(frame, column, by, order)
    return between(
        derived,
        -tolerance,
        why=f"{column} is cumulative: it never falls from one month to the next",
    )


def _cohort_expectations(
    frame: pd.DataFrame, by: list[str], settings: QualitySettings
) -> list[Expectation]:
    order = "months_since_acquisition"
    expectations = [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        unique([*by, order]),
        rate("retention_rate"),
        between("months_since_acquisition", 0),
        between("cohort_size", 1),
        between("orders", 0),
        between("cost_to_serve_per_customer", 0),
        between("acquisition_cost_per_customer", 0),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="cohort_size",
            column_B="active_customers",
            or_equal=True,
            **_notes("no more active customers than the cohort has"),
        ),
    ]
    for column in (
        "cumulative_margin_per_customer",
        "discounted_cumulative_margin_per_customer",
        "cumulative_cost_to_serve_per_customer",
    ):
        expectations.append(_non_decreasing(frame, column, by, order, settings.tolerance))
    frame["cohort_size_change"] = _gap_to_previous(frame, "cohort_size", by, order)
    expectations.append(zero("cohort_size_change", 0, "a cohort's size is fixed"))
    frame["month_steps_in_cohort"] = _month_steps(frame, "month", by)
    expectations.append(
        between("month_steps_in_cohort", 1, 1, why="each cohort has every month, none twice")
    )
    return expectations


def _trend_frame(
    months: pd.Series, values: pd.Series, name: str, settings: QualitySettings
) -> pd.DataFrame:
    """The latest month's value and its ratio to the median of the months before it."""
    series = pd.Series(values.to_numpy(dtype=float), index=pd.to_datetime(months)).sort_index()
    series = series.dropna()
    if series.empty:
        return pd.DataFrame({"month": [], f"{name}_ratio_to_trailing_median": []})
    latest = series.iloc[-1]
    history = series.iloc[:-1].tail(settings.trend_months)
    median = float(history.median()) if len(history) == settings.trend_months else math.nan
    ratio = latest / median if median and not math.isnan(median) else math.nan
    return pd.DataFrame(
        {
            "month": [series.index[-1]],
            name: [latest],
            f"{name}_trailing_median": [median],
            f"{name}_ratio_to_trailing_median": [ratio],
        }
    )


def mart_plans(frames: dict[str, pd.DataFrame], settings: QualitySettings) -> list[SuitePlan]:
    """One plan per mart present in ``frames`` (name without schema), plus the KPI trends."""
    plans: list[SuitePlan] = []
    tol = settings.tolerance

    def add(name: str, frame: pd.DataFrame, expectations: list[Expectation]) -> None:
        plans.append(SuitePlan(f"marts.{name}", "marts", frame, expectations))

    if "cohort_clv" in frames:
        frame = frames["cohort_clv"].copy()
        add("cohort_clv", frame, _cohort_expectations(frame, ["cohort_month"], settings))
    if "cohort_clv_by_channel" in frames:
        frame = frames["cohort_clv_by_channel"].copy()
        expectations = _cohort_expectations(
            frame, ["cohort_month", "acquisition_channel"], settings
        )
        expectations.append(in_set("acquisition_channel", ref.CHANNELS))
        add("cohort_clv_by_channel", frame, expectations)
    if "customer_clv" in frames:
        frame = frames["customer_clv"].copy()
        add(
            "customer_clv",
            frame,
            [
                gxe.ExpectTableRowCountToBeBetween(min_value=1),
                not_null("customer_id"),
                unique(["customer_id"]),
                in_set("value_segment", ("high", "medium", "low")),
                in_set("acquisition_channel", ref.CHANNELS),
                between("orders_count", 1),
                between("purchases_per_year", 0),
                between("lifespan_years", 0),
                rate("probability_alive"),
                between("predicted_purchases_12m", 0),
                between("latest_nps_score", 0, 10),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="last_order_at",
                    column_B="first_order_at",
                    or_equal=True,
                    **_notes("the last order is not before the first"),
                ),
            ],
        )
    if "customer_clv_predictions" in frames:
        frame = frames["customer_clv_predictions"].copy()
        add(
            "customer_clv_predictions",
            frame,
            [
                unique(["customer_id"]),
                rate("probability_alive"),
                between("predicted_purchases_12m", 0),
                between("x", 0),
            ],
        )
    if "repeat_customer_rate_monthly" in frames:
        frame = frames["repeat_customer_rate_monthly"].copy()
        spine = _spine(frame)
        add(
            "repeat_customer_rate_monthly",
            frame,
            [
                unique(["month"]),
                spine,
                rate("repeat_customer_rate"),
                rate("period_repeat_rate"),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="customers_to_date",
                    column_B="repeat_customers_to_date",
                    or_equal=True,
                    **_notes("repeat customers are a subset of customers"),
                ),
                _non_decreasing(frame, "customers_to_date", [], "month", tol),
            ],
        )
    if "loyalty_monthly" in frames:
        frame = frames["loyalty_monthly"].copy()
        spine = _spine(frame)
        frame["nps_response_gap"] = frame["nps_responses"] - (
            frame["promoters"] + frame["passives"] + frame["detractors"]
        )
        add(
            "loyalty_monthly",
            frame,
            [
                unique(["month"]),
                spine,
                rate("redemption_rate"),
                between("nps", -100, 100, why="NPS = % promoters - % detractors"),
                zero("nps_response_gap", 0, "promoters + passives + detractors = responses"),
                between("members", 0),
            ],
        )
    if "churn_by_category_breadth" in frames:
        frame = frames["churn_by_category_breadth"].copy()
        add(
            "churn_by_category_breadth",
            frame,
            [
                unique(["category_breadth"]),
                rate("churn_rate"),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="customers", column_B="churned_customers", or_equal=True
                ),
            ],
        )
    if "email_subscriber_ltv" in frames:
        frame = frames["email_subscriber_ltv"].copy()
        add(
            "email_subscriber_ltv",
            frame,
            [
                unique(["cohort_month"]),
                between("subscribers", 0),
                between("email_spend", 0),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="subscribers", column_B="active_subscribers", or_equal=True
                ),
            ],
        )
    if "email_subscribers" in frames:
        frame = frames["email_subscribers"].copy()
        add(
            "email_subscribers",
            frame,
            [unique(["subscriber_id"]), between("emails_sent", 0), between("allocated_spend", 0)],
        )
    if "customer_equity_monthly" in frames:
        frame = frames["customer_equity_monthly"].copy()
        add("customer_equity_monthly", frame, equity_expectations(frame, settings))
    trend = trend_plan(frames, settings)
    if trend is not None:
        plans.append(trend)
    return plans


def equity_expectations(frame: pd.DataFrame, settings: QualitySettings) -> list[Expectation]:
    """``marts.customer_equity_monthly``: its identities, its spine and its ranges.

    Adds the gap columns: ``end_identity_gap`` (end − (start + new − lost)),
    ``start_continuity_gap`` (start − previous end, 0 before the first month),
    ``retained_identity_gap`` and ``new_identity_gap``.
    """
    frame["end_identity_gap"] = frame["customers_end"] - (
        frame["customers_start"] + frame["customers_new"] - frame["customers_lost"]
    )
    frame["retained_identity_gap"] = frame["customers_retained"] - (
        frame["customers_start"] - frame["customers_lost"]
    )
    frame["new_identity_gap"] = frame["customers_new"] - (
        frame["customers_acquired"] + frame["customers_reactivated"]
    )
    ordered = frame.sort_values("month")
    previous_end = ordered["customers_end"].shift(1).fillna(0)
    frame["start_continuity_gap"] = (ordered["customers_start"] - previous_end).reindex(frame.index)
    spine = _spine(frame)
    expectations: list[Expectation] = [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        unique(["month"]),
        spine,
        zero("end_identity_gap", 0, "customers_end = customers_start + customers_new - lost"),
        zero("start_continuity_gap", 0, "a month's customers_start = previous customers_end"),
        zero("retained_identity_gap", 0, "customers_retained = customers_start - lost"),
        zero("new_identity_gap", 0, "customers_new = acquired + reactivated"),
        rate("retention_rate_annual"),
        rate("discount_rate"),
        between("acquisition_spend", 0),
        between("retention_spend", 0),
    ]
    for column in (
        "customers_start",
        "customers_new",
        "customers_lost",
        "customers_retained",
        "customers_end",
    ):
        expectations.append(between(column, 0))
    return expectations


def trend_plan(frames: dict[str, pd.DataFrame], settings: QualitySettings) -> SuitePlan | None:
    """The latest month's average order value and annual retention against their history.

    Average order value per month = revenue ÷ valid orders of ``cohort_clv``
    summed over cohorts; annual retention from ``customer_equity_monthly``.
    Each must lie within ``±trend_band`` of the median of the previous
    ``trend_months`` months: a swing beyond that is far more often a broken
    join, a currency or unit error or a partial load than a real change.
    Without that much history the ratio is null and the check passes.
    """
    parts = []
    if "cohort_clv" in frames:
        monthly = frames["cohort_clv"].groupby("month")[["revenue", "orders"]].sum()
        aov = monthly["revenue"] / monthly["orders"].where(monthly["orders"] > 0)
        parts.append(_trend_frame(monthly.index.to_series(), aov, "average_order_value", settings))
    if "customer_equity_monthly" in frames:
        equity = frames["customer_equity_monthly"]
        parts.append(
            _trend_frame(
                equity["month"], equity["retention_rate_annual"], "retention_rate_annual", settings
            )
        )
    if not parts:
        return None
    frame = parts[0]
    for part in parts[1:]:
        frame = frame.merge(part, on="month", how="outer")
    low, high = 1 - settings.trend_band, 1 + settings.trend_band
    expectations = [
        between(
            f"{name}_ratio_to_trailing_median",
            low,
            high,
            why=(
                f"latest month within ±{settings.trend_band:.0%} of the median of the "
                f"{settings.trend_months} months before it"
            ),
        )
        for name in ("average_order_value", "retention_rate_annual")
        if f"{name}_ratio_to_trailing_median" in frame
    ]
    return SuitePlan("marts.kpi_trends", "marts", frame, expectations)
