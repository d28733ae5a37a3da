"""The raw tables of ``docs/raw_data_contract.md``: Arrow schema, key and rule metadata.

One :class:`TableSpec` per raw table. The writer casts to :attr:`TableSpec.schema`,
the defect injector and the contract checker read the rest (keys, the event
timestamp, references, which categorical column takes which values).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from clv.simulate import reference as ref

TS = pa.timestamp("us")


@dataclass(frozen=True)
class TableSpec:
    """One raw table: where it lives, its columns and the contract rules that apply."""

    source: str
    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    #: Columns that may be null (apart from those, every column is required).
    nullable: tuple[str, ...] = ()
    #: Key columns that may be null and then count as one value (email_spend.campaign_id).
    nullable_key: tuple[str, ...] = ()
    #: The event timestamp compared with ``_loaded_at`` (None: the table has none).
    event: str | None = None
    emails: tuple[str, ...] = ()
    currency: str | None = None
    #: column -> allowed values.
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: column -> (referenced table, referenced column, reason code).
    references: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: Whether rule 11 (before_customer_created) applies to :attr:`event`.
    after_customer_created: bool = False

    @property
    def full_name(self) -> str:
        """``<source>.<table>``, as in the manifest."""
        return f"{self.source}.{self.name}"

    @property
    def path(self) -> str:
        """The file's path relative to the raw dir."""
        return f"{self.source}/{self.name}.parquet"


def _schema(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype) for name, dtype in columns])


_CUSTOMER_REF = ("shop.customers", "customer_id", "unknown_customer")
_ORDER_REF = ("shop.orders", "order_id", "unknown_order")
_CAMPAIGN_REF = ("email.email_campaigns", "campaign_id", "unknown_campaign")
_SUBSCRIBER_REF = ("email.email_subscriptions", "subscriber_id", "unknown_subscriber")

SPECS: dict[str, TableSpec] = {
    spec.full_name: spec
    for spec in (
        TableSpec(
            "shop",
            "customers",
            _schema(
                ("customer_id", pa.int64()),
                ("email", pa.string()),
                ("created_at", TS),
                ("country", pa.string()),
                ("acquisition_channel", pa.string()),
                ("referred_by_customer_id", pa.int64()),
                ("_loaded_at", TS),
            ),
            key=("customer_id",),
            nullable=("referred_by_customer_id",),
            event="created_at",
            emails=("email",),
            categories={"acquisition_channel": ref.CHANNELS},
        ),
        TableSpec(
            "shop",
            "orders",
            _schema(
                ("order_id", pa.int64()),
                ("customer_id", pa.int64()),
                ("ordered_at", TS),
                ("status", pa.string()),
                ("currency", pa.string()),
                ("order_total", pa.float64()),
                ("discount", pa.float64()),
                ("shipping", pa.float64()),
                ("tax", pa.float64()),
                ("fulfillment_cost", pa.float64()),
                ("utm_source", pa.string()),
                ("utm_campaign", pa.string()),
                ("_loaded_at", TS),
            ),
            key=("order_id",),
            nullable=("utm_source", "utm_campaign"),
            event="ordered_at",
            currency="currency",
            categories={"status": ref.ORDER_STATUSES},
            references={"customer_id": _CUSTOMER_REF},
            after_customer_created=True,
        ),
        TableSpec(
            "shop",
            "order_items",
            _schema(
                ("order_id", pa.int64()),
                ("line_no", pa.int32()),
                ("sku", pa.string()),
                ("category", pa.string()),
                ("quantity", pa.int32()),
                ("unit_price", pa.float64()),
                ("unit_cost", pa.float64()),
                ("_loaded_at", TS),
            ),
            key=("order_id", "line_no"),
            references={"order_id": _ORDER_REF},
        ),
        TableSpec(
            "shop",
            "refunds",
            _schema(
                ("refund_id", pa.int64()),
                ("order_id", pa.int64()),
                ("refunded_at", TS),
                ("amount", pa.float64()),
                ("_loaded_at", TS),
            ),
            key=("refund_id",),
            event="refunded_at",
            references={"order_id": _ORDER_REF},
        ),
        TableSpec(
            "email",
            "email_subscriptions",
            _schema(
                ("subscriber_id", pa.int64()),
                ("email", pa.string()),
                ("customer_id", pa.int64()),
                ("event_type", pa.string()),
                ("event_at", TS),
                ("source", pa.string()),
                ("_loaded_at", TS),
            ),
            key=("subscriber_id", "event_type", "event_at"),
            nullable=("customer_id",),
            event="event_at",
            emails=("email",),
            categories={"event_type": ref.SUBSCRIPTION_EVENT_TYPES},
            references={"customer_id": _CUSTOMER_REF},
        ),
        TableSpec(
            "email",
            "email_campaigns",
            _schema(
                ("campaign_id", pa.int64()),
                ("name", pa.string()),
                ("purpose", pa.string()),
                ("sent_at", TS),
                ("_loaded_at", TS),
            ),
            key=("campaign_id",),
            event="sent_at",
            categories={"purpose": ref.CAMPAIGN_PURPOSES},
        ),
        TableSpec(
            "email",
            "email_sends",
            _schema(
                ("campaign_id", pa.int64()),
                ("subscriber_id", pa.int64()),
                ("delivered", pa.bool_()),
                ("opened", pa.bool_()),
                ("clicked", pa.bool_()),
                ("sent_at", TS),
                ("_loaded_at", TS),
            ),
            key=("campaign_id", "subscriber_id"),
            event="sent_at",
            references={"campaign_id": _CAMPAIGN_REF, "subscriber_id": _SUBSCRIBER_REF},
        ),
        TableSpec(
            "email",
            "email_spend",
            _schema(
                ("spend_date", pa.date32()),
                ("campaign_id", pa.int64()),
                ("cost_type", pa.string()),
                ("amount", pa.float64()),
                ("currency", pa.string()),
                ("_loaded_at", TS),
            ),
            key=("spend_date", "campaign_id", "cost_type"),
            nullable=("campaign_id",),
            nullable_key=("campaign_id",),
            event="spend_date",
            currency="currency",
            categories={"cost_type": ref.EMAIL_COST_TYPES},
            references={"campaign_id": _CAMPAIGN_REF},
        ),
        TableSpec(
            "marketing",
            "marketing_spend",
            _schema(
                ("spend_month", pa.date32()),
                ("channel", pa.string()),
                ("purpose", pa.string()),
                ("amount", pa.float64()),
                ("currency", pa.string()),
                ("_loaded_at", TS),
            ),
            key=("spend_month", "channel", "purpose"),
            event="spend_month",
            currency="currency",
            categories={"channel": ref.CHANNELS, "purpose": ref.SPEND_PURPOSES},
        ),
        TableSpec(
            "loyalty",
            "loyalty_members",
            _schema(
                ("customer_id", pa.int64()),
                ("enrolled_at", TS),
                ("tier", pa.string()),
                ("_loaded_at", TS),
            ),
            key=("customer_id",),
            event="enrolled_at",
            categories={"tier": ref.LOYALTY_TIERS},
            references={"customer_id": _CUSTOMER_REF},
            after_customer_created=True,
        ),
        TableSpec(
            "loyalty",
            "loyalty_points",
            _schema(
                ("entry_id", pa.int64()),
                ("customer_id", pa.int64()),
                ("entry_type", pa.string()),
                ("points", pa.int64()),
                ("entry_at", TS),
                ("order_id", pa.int64()),
                ("_loaded_at", TS),
            ),
            key=("entry_id",),
            nullable=("order_id",),
            event="entry_at",
            categories={"entry_type": ref.POINT_ENTRY_TYPES},
            references={"customer_id": _CUSTOMER_REF, "order_id": _ORDER_REF},
            after_customer_created=True,
        ),
        TableSpec(
            "loyalty",
            "nps_responses",
            _schema(
                ("response_id", pa.int64()),
                ("customer_id", pa.int64()),
                ("responded_at", TS),
                ("score", pa.int32()),
                ("_loaded_at", TS),
            ),
            key=("response_id",),
            event="responded_at",
            references={"customer_id": _CUSTOMER_REF},
            after_customer_created=True,
        ),
        TableSpec(
            "loyalty",
            "referrals",
            _schema(
                ("referral_id", pa.int64()),
                ("referrer_customer_id", pa.int64()),
                ("referred_email", pa.string()),
                ("referred_at", TS),
                ("referred_customer_id", pa.int64()),
                ("_loaded_at", TS),
            ),
            key=("referral_id",),
            nullable=("referred_customer_id",),
            event="referred_at",
            emails=("referred_email",),
            references={
                "referrer_customer_id": _CUSTOMER_REF,
                "referred_customer_id": _CUSTOMER_REF,
            },
        ),
    )
}
