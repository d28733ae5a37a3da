"""The staging, audit and marts suites: portable SQL plus the expectations on its columns.

A warehouse suite is a query over one relation that adds the *derived*
columns a check needs (``<column>_is_known`` for a reference, an identity's
gap, a value minus its previous row's with ``lag``, the months between
consecutive rows) and the expectations on those and the relation's own
columns. The SQL is written once and is portable (window functions,
``extract``, ``percentile_cont ... within group``, no engine-specific syntax),
so the same suites run on both targets:

- **DuckDB**: great-expectations has no working DuckDB dialect, so
  :mod:`clv.quality.runner` runs the query through a read-only connection
  after dbt has closed the file and validates the resulting DataFrame.
- **PostgreSQL**: the query becomes a query asset of GX's PostgreSQL (SQL)
  data source and every expectation is computed in the database.

Which suites exist depends only on which relations exist (``present``, a set
of ``"schema.name"``): a missing staging model is a failed suite, a missing
mart is skipped (the predictions on a target without dbt Python models).

- **staging**: one suite per ``stg_`` model after the quarantine, where no
  defect may be left (no ``mostly``), plus ``audit.rejection_summary``
  (raw = staged + rejected, shares under the limit).
- **marts**: rates in 0–1, NPS in −100..100, the customer-equity identities,
  cumulative costs and counts that never fall, margin to date equal to the
  running sum of monthly margin, month spines without holes, and the
  latest month's average order value and annual retention within a band
  around their trailing median.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import great_expectations.expectations as gxe

from clv.quality.suites import (
    Expectation,
    QualitySettings,
    SuitePlan,
    between,
    in_set,
    is_true,
    loaded_after,
    not_null,
    notes,
    rate,
    unique,
    zero,
)
from clv.simulate import reference as ref
from clv.simulate.tables import SPECS

# ---------------------------------------------------------------- SQL helpers


def relation(schema: str, name: str) -> str:
    """The quoted ``"schema"."name"`` of a warehouse relation."""
    return f'"{schema}"."{name}"'


def _select(schema: str, name: str, derived: Sequence[str] = ()) -> str:
    """``select checked.*, <derived> from "schema"."name" as checked``."""
    columns = ", ".join(["checked.*", *derived])
    return f"select {columns} from {relation(schema, name)} as checked"


def _window(by: Sequence[str], order: str, frame: str = "") -> str:
    partition = f"partition by {', '.join(by)} " if by else ""
    return f"over ({partition}order by {order}{' ' + frame if frame else ''})"


def _change(column: str, by: Sequence[str], order: str, name: str | None = None) -> str:
    """``column`` minus its value on the previous row of its group (null on the first)."""
    return f"{column} - lag({column}) {_window(by, order)} as {name or column + '_change'}"


def _month_index(column: str) -> str:
    return f"(extract(year from {column}) * 12 + extract(month from {column}))"


def _month_steps(column: str, name: str, by: Sequence[str] = ()) -> str:
    """Months between a row's ``column`` and the previous row's (null on the first row)."""
    index = _month_index(column)
    return f"{index} - lag({index}) {_window(by, column)} as {name}"


def _spine(column: str = "month") -> tuple[str, Expectation]:
    """The derived ``<column>s_since_previous_row``; the spine is continuous when it is 1."""
    name = f"{column}s_since_previous_row"
    return _month_steps(column, name), between(
        name, 1, 1, why="the month spine is continuous: no month missing, none twice"
    )


def _non_decreasing(
    column: str, by: Sequence[str], order: str, tolerance: float
) -> tuple[str, Expectation]:
    name = f"{column}_change"
    return _change(column, by, order, name), between(
        name, -tolerance, why=f"{column} is cumulative: it never falls from one month to the next"
    )


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


def staging_plan(spec: StagingSpec, present: Collection[str]) -> SuitePlan:
    """A staging model's suite: its query (with derived columns) and expectations.

    Staging holds only rows that passed the quarantine, so none of these
    allow exceptions: a failure means a quarantine rule has a hole.
    """
    derived: list[str] = []
    expectations: list[Expectation] = [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=1, **notes("an empty staging model empties every mart")
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
                derived.append(f"coalesce(checked.{column}, -1) as {column}_or_minus_one")
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
            loaded_after(
                "loaded_at", spec.event, "nothing is loaded before it happened (future_timestamp)"
            )
        )
    for column, (model, target) in spec.references.items():
        if f"staging.{model}" not in present:
            continue
        derived.append(
            f"case when checked.{column} is null or checked.{column} in "
            f"(select {target} from {relation('staging', model)}) "
            f"then true else false end as {column}_is_known"
        )
        expectations.append(
            is_true(f"{column}_is_known", f"{column} refers to a staged {model} row")
        )
    if spec.model == "stg_shop__orders":
        derived.append(
            "coalesce(checked.is_completed <> checked.is_cancelled, false) as has_one_status_flag"
        )
        expectations.append(is_true("has_one_status_flag", "completed xor cancelled"))
    return SuitePlan(
        f"staging.{spec.model}",
        "staging",
        None,
        expectations,
        query=_select("staging", spec.model, derived),
    )


def audit_plan(present: Collection[str], settings: QualitySettings) -> SuitePlan:
    """``audit.rejection_summary``: nothing dropped, every table present, shares under the gate.

    ``staged_rows_counted`` is each stg_ model's row count, counted in the
    same query, so the summary cannot claim rows staging lacks.
    """
    counts = [
        f"select '{spec.raw}' as source_table, count(*) as staged_rows_counted "
        f"from {relation('staging', spec.model)}"
        for spec in STAGING
        if f"staging.{spec.model}" in present
    ]
    counted = " union all ".join(counts) or (
        "select cast(null as varchar(64)) as source_table, 0 as staged_rows_counted where 1 = 0"
    )
    query = (
        "select checked.*, "
        "checked.raw_rows - checked.staged_rows - checked.rejected_rows as unaccounted_rows, "
        "counted.staged_rows_counted "
        f"from {relation('audit', 'rejection_summary')} as checked "
        f"left join ({counted}) as counted on counted.source_table = checked.source_table"
    )
    expectations = [
        gxe.ExpectColumnDistinctValuesToEqualSet(
            column="source_table",
            value_set=sorted(SPECS),
            **notes("one row per raw table of the contract"),
        ),
        zero("unaccounted_rows", 0, "raw = staged + rejected: nothing is dropped silently"),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="staged_rows",
            column_B="staged_rows_counted",
            **notes("staged_rows equals the rows of the stg_ model"),
        ),
        between(
            "rejected_share",
            0,
            settings.max_rejected_share,
            why="the build gate max_rejected_share",
        ),
        between("raw_rows", 1, why="every raw table delivered rows"),
    ]
    return SuitePlan("audit.rejection_summary", "staging", None, expectations, query=query)


def staging_plans(
    present: Collection[str], settings: QualitySettings, where: str
) -> list[SuitePlan]:
    """Every staging suite and the audit's; a missing relation is a failed suite."""
    plans: list[SuitePlan] = []
    for spec in STAGING:
        if f"staging.{spec.model}" in present:
            plans.append(staging_plan(spec, present))
        else:
            name = f"staging.{spec.model}"
            plans.append(_missing(name, "staging", f"{name}: missing from {where} (run dbt build)"))
    if "audit.rejection_summary" in present:
        plans.append(audit_plan(present, settings))
    else:
        plans.append(
            _missing(
                "audit.rejection_summary",
                "staging",
                f"audit.rejection_summary: missing from {where}",
            )
        )
    return plans


def _missing(name: str, layer: str, problem: str) -> SuitePlan:
    return SuitePlan(name, layer, None, problems=[problem], checks=1)


# ---------------------------------------------------------------- marts

#: The marts the marts suite checks, in report order.
MARTS = (
    "cohort_clv",
    "cohort_clv_by_channel",
    "customer_clv",
    "customer_clv_predictions",
    "repeat_customer_rate_monthly",
    "loyalty_monthly",
    "churn_by_category_breadth",
    "email_subscriber_ltv",
    "email_subscribers",
    "customer_equity_monthly",
)


@dataclass
class _Mart:
    """A mart suite being assembled: derived columns and expectations."""

    name: str
    derived: list[str] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)

    def check(self, sql: str | None, expectation: Expectation) -> None:
        if sql is not None:
            self.derived.append(sql)
        self.expectations.append(expectation)

    def plan(self) -> SuitePlan:
        return SuitePlan(
            f"marts.{self.name}",
            "marts",
            None,
            self.expectations,
            query=_select("marts", self.name, self.derived),
        )


def _cohort(name: str, by: list[str], settings: QualitySettings) -> _Mart:
    order = "months_since_acquisition"
    mart = _Mart(
        name,
        expectations=[
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
                **notes("no more active customers than the cohort has"),
            ),
        ],
    )
    mart.check(
        *_non_decreasing("cumulative_cost_to_serve_per_customer", by, order, settings.tolerance)
    )
    # Margin to date may fall (a month of orders sold below cost), so it is
    # checked as what it is: the running sum of the monthly margin ÷ cohort size.
    to_date = _window(by, order, "rows between unbounded preceding and current row")
    mart.check(
        f"cumulative_margin_per_customer - sum(gross_margin) {to_date} / cohort_size "
        "as margin_running_total_gap",
        zero(
            "margin_running_total_gap",
            settings.tolerance,
            "cumulative_margin_per_customer = sum of gross_margin to date / cohort_size",
        ),
    )
    # Discounting shrinks each month's margin without changing its sign: the
    # discounted step over the undiscounted step lies in 0..1. Months without
    # margin give null, which passes; so does a step within the tolerance of
    # zero, whose sign is rounding noise (a month whose orders net to 0).
    step = "({0} - coalesce(lag({0}) " + _window(by, order) + ", 0))"
    margin_step = step.format("cumulative_margin_per_customer")
    mart.check(
        f"case when abs({margin_step}) > {settings.tolerance} then "
        f"{step.format('discounted_cumulative_margin_per_customer')} / {margin_step} end "
        "as discounted_margin_step_ratio",
        between(
            "discounted_margin_step_ratio",
            0,
            1 + settings.tolerance,
            why="a month's discounted margin has its margin's sign and is no larger",
        ),
    )
    mart.check(
        _change("cohort_size", by, order), zero("cohort_size_change", 0, "a cohort's size is fixed")
    )
    mart.check(
        _month_steps("month", "month_steps_in_cohort", by),
        between("month_steps_in_cohort", 1, 1, why="each cohort has every month, none twice"),
    )
    return mart


def mart_plans(present: Collection[str], settings: QualitySettings, where: str) -> list[SuitePlan]:
    """One plan per mart of :data:`MARTS` in ``present``, plus the KPI trends."""
    marts: list[_Mart] = []
    tol = settings.tolerance
    if "marts.cohort_clv" in present:
        marts.append(_cohort("cohort_clv", ["cohort_month"], settings))
    if "marts.cohort_clv_by_channel" in present:
        mart = _cohort("cohort_clv_by_channel", ["cohort_month", "acquisition_channel"], settings)
        mart.check(None, in_set("acquisition_channel", ref.CHANNELS))
        marts.append(mart)
    if "marts.customer_clv" in present:
        marts.append(
            _Mart(
                "customer_clv",
                expectations=[
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
                        **notes("the last order is not before the first"),
                    ),
                ],
            )
        )
    if "marts.customer_clv_predictions" in present:
        marts.append(
            _Mart(
                "customer_clv_predictions",
                expectations=[
                    unique(["customer_id"]),
                    rate("probability_alive"),
                    between("predicted_purchases_12m", 0),
                    between("x", 0),
                ],
            )
        )
    if "marts.repeat_customer_rate_monthly" in present:
        mart = _Mart(
            "repeat_customer_rate_monthly",
            expectations=[
                unique(["month"]),
                rate("repeat_customer_rate"),
                rate("period_repeat_rate"),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="customers_to_date",
                    column_B="repeat_customers_to_date",
                    or_equal=True,
                    **notes("repeat customers are a subset of customers"),
                ),
            ],
        )
        mart.check(*_spine())
        mart.check(*_non_decreasing("customers_to_date", [], "month", tol))
        marts.append(mart)
    if "marts.loyalty_monthly" in present:
        mart = _Mart(
            "loyalty_monthly",
            expectations=[
                unique(["month"]),
                rate("redemption_rate"),
                between("nps", -100, 100, why="NPS = % promoters - % detractors"),
                between("members", 0),
            ],
        )
        mart.check(*_spine())
        mart.check(
            "nps_responses - (promoters + passives + detractors) as nps_response_gap",
            zero("nps_response_gap", 0, "promoters + passives + detractors = responses"),
        )
        marts.append(mart)
    if "marts.churn_by_category_breadth" in present:
        marts.append(
            _Mart(
                "churn_by_category_breadth",
                expectations=[
                    unique(["category_breadth"]),
                    rate("churn_rate"),
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="customers", column_B="churned_customers", or_equal=True
                    ),
                ],
            )
        )
    if "marts.email_subscriber_ltv" in present:
        marts.append(
            _Mart(
                "email_subscriber_ltv",
                expectations=[
                    unique(["cohort_month"]),
                    between("subscribers", 0),
                    between("email_spend", 0),
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="subscribers", column_B="active_subscribers", or_equal=True
                    ),
                ],
            )
        )
    if "marts.email_subscribers" in present:
        marts.append(
            _Mart(
                "email_subscribers",
                expectations=[
                    unique(["subscriber_id"]),
                    between("emails_sent", 0),
                    between("allocated_spend", 0),
                ],
            )
        )
    if "marts.customer_equity_monthly" in present:
        marts.append(_equity())
    plans = [mart.plan() for mart in marts]
    if not plans:
        plans.append(_missing("marts", "marts", f"no marts in {where} (run dbt build)"))
    trend = trend_plan(present, settings)
    if trend is not None:
        plans.append(trend)
    return plans


def _equity() -> _Mart:
    """``marts.customer_equity_monthly``: its identities, its spine and its ranges.

    Derived gaps: ``end_identity_gap`` (end − (start + new − lost)),
    ``start_continuity_gap`` (start − previous end, 0 before the first month),
    ``retained_identity_gap`` and ``new_identity_gap``.
    """
    mart = _Mart(
        "customer_equity_monthly",
        expectations=[
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            unique(["month"]),
            rate("retention_rate_annual"),
            rate("discount_rate"),
            between("acquisition_spend", 0),
            between("retention_spend", 0),
        ],
    )
    mart.check(*_spine())
    mart.check(
        "customers_end - (customers_start + customers_new - customers_lost) as end_identity_gap",
        zero("end_identity_gap", 0, "customers_end = customers_start + customers_new - lost"),
    )
    mart.check(
        "customers_start - coalesce(lag(customers_end) over (order by month), 0)"
        " as start_continuity_gap",
        zero("start_continuity_gap", 0, "a month's customers_start = previous customers_end"),
    )
    mart.check(
        "customers_retained - (customers_start - customers_lost) as retained_identity_gap",
        zero("retained_identity_gap", 0, "customers_retained = customers_start - lost"),
    )
    mart.check(
        "customers_new - (customers_acquired + customers_reactivated) as new_identity_gap",
        zero("new_identity_gap", 0, "customers_new = acquired + reactivated"),
    )
    for column in (
        "customers_start",
        "customers_new",
        "customers_lost",
        "customers_retained",
        "customers_end",
    ):
        mart.check(None, between(column, 0))
    return mart


def _trend_sql(name: str, monthly: str, settings: QualitySettings) -> str:
    """The latest month's ``name`` and its ratio to the median of the months before it.

    ``monthly`` selects ``month`` and ``value``; months with a null value are
    left out (as if missing). Without ``trend_months`` earlier months the
    median and the ratio are null, which passes.
    """
    months = settings.trend_months
    return (
        f"""
    select
        latest.month,
        latest.value as {name},
        case when history.months = {months} then history.median end
            as {name}_trailing_median,
        case when history.months = {months} and history.median <> 0
            then latest.value / history.median end
            as {name}_ratio_to_trailing_median
    from (
        select month, value from ranked_{name} where months_back = 1
    ) as latest
    cross join (
        select
            count(*) as months,
            percentile_cont(0.5) within group (order by value) as median
        from ranked_{name}
        where months_back between 2 and {months + 1}
    ) as history
    """,
        f"""
    ranked_{name} as (
        select
            month,
            cast(value as double precision) as value,
            row_number() over (order by month desc) as months_back
        from ({monthly}) as monthly
        where value is not null
    )""",
    )


def trend_plan(present: Collection[str], settings: QualitySettings) -> SuitePlan | None:
    """The latest month's average order value and annual retention against their history.

    Average order value per month = revenue ÷ valid orders of ``cohort_clv``
    summed over cohorts; annual retention from ``customer_equity_monthly``.
    Each must lie within ``±trend_band`` of the median of the previous
    ``trend_months`` months: a swing beyond that is far more often a broken
    join, a currency or unit error or a partial load than a real change.
    Without that much history the ratio is null and the check passes.
    """
    sources = {}
    if "marts.cohort_clv" in present:
        sources["average_order_value"] = (
            "select month, sum(revenue) / nullif(sum(orders), 0) as value "
            f"from {relation('marts', 'cohort_clv')} group by month"
        )
    if "marts.customer_equity_monthly" in present:
        sources["retention_rate_annual"] = (
            "select month, retention_rate_annual as value "
            f"from {relation('marts', 'customer_equity_monthly')}"
        )
    if not sources:
        return None
    ctes, parts = [], []
    for name, monthly in sources.items():
        part, ranked = _trend_sql(name, monthly, settings)
        ctes.append(ranked)
        ctes.append(f"{name} as ({part})")
        parts.append(name)
    if len(parts) == 1:
        (only,) = parts
        body = f"select * from {only}"
    else:
        first, second = parts
        columns = [
            f"{part}.{column}"
            for part in parts
            for column in (part, f"{part}_trailing_median", f"{part}_ratio_to_trailing_median")
        ]
        body = (
            f"select coalesce({first}.month, {second}.month) as month, {', '.join(columns)} "
            f"from {first} full outer join {second} on {first}.month = {second}.month"
        )
    # GX's query assets must start with SELECT: the CTEs go inside a derived table.
    query = f"select * from (with {', '.join(ctes)} {body}) as kpi_trends"
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
        for name in parts
    ]
    return SuitePlan("marts.kpi_trends", "marts", None, expectations, query=query)
