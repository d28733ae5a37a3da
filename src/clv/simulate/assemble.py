"""From simulated objects to the raw tables of the contract (Arrow, contract schema).

Every simulated entity is numbered by its row: ``customer_id``, ``order_id``,
``subscriber_id`` and ``campaign_id`` are row + 1, and a row reference of -1
means null.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from clv.contract import reference as ref
from clv.simulate.calendar import loaded_at, loaded_at_for_day
from clv.simulate.customers import COUNTRY_CODES, Customers
from clv.simulate.email import NO_TIME, PURPOSES, SOURCES, Campaigns, EmailSpend, Sends, Subscribers
from clv.simulate.loyalty import TIERS, Members, NpsResponses, Points, Referrals
from clv.simulate.marketing import MarketingSpend
from clv.simulate.orders import CATEGORY_NAMES, Catalog, OrderItems, Orders, Refunds
from clv.simulate.writer import to_arrow


@dataclass
class World:
    """Everything the simulation produced, before it becomes raw tables."""

    currencies: tuple[str, ...]
    customers: Customers
    orders: Orders
    items: OrderItems
    refunds: Refunds
    catalog: Catalog
    subscribers: Subscribers
    campaigns: Campaigns
    sends: Sends
    email_spend: EmailSpend
    marketing: MarketingSpend
    members: Members
    points: Points
    nps: NpsResponses
    referrals: Referrals


def _labels(values: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(np.asarray(codes, dtype=np.int64)))


def _id(rows: np.ndarray) -> pa.Array:
    """Row references as ids (row + 1); -1 becomes null."""
    rows = np.asarray(rows, dtype=np.int64)
    return pa.array(rows + 1, pa.int64(), mask=rows < 0)


def shop_tables(world: World) -> dict[str, pa.Table]:
    """customers, orders, order_items, refunds."""
    customers, orders, items, refunds = world.customers, world.orders, world.items, world.refunds
    utm_source = np.where(orders.utm_source >= 0, orders.utm_source, -1)
    return {
        "shop.customers": to_arrow(
            "shop.customers",
            {
                "customer_id": customers.customer_id,
                "email": customers.email,
                "created_at": customers.created_at,
                "country": _labels(COUNTRY_CODES, customers.country),
                "acquisition_channel": _labels(ref.CHANNELS, customers.channel),
                "referred_by_customer_id": _id(customers.referred_by - 1),
                "_loaded_at": loaded_at(customers.created_at),
            },
        ),
        "shop.orders": to_arrow(
            "shop.orders",
            {
                "order_id": orders.order_id,
                "customer_id": customers.customer_id[orders.customer],
                "ordered_at": orders.ordered_at,
                "status": _labels(ref.ORDER_STATUSES, orders.cancelled),
                "currency": _labels(world.currencies, orders.currency),
                "order_total": orders.order_total,
                "discount": orders.discount,
                "shipping": orders.shipping,
                "tax": orders.tax,
                "fulfillment_cost": orders.fulfillment_cost,
                "utm_source": pa.array(orders.utm_labels).take(
                    pa.array(utm_source.astype(np.int64), mask=utm_source < 0)
                ),
                "utm_campaign": world.campaigns.name.take(
                    pa.array(orders.utm_campaign, mask=orders.utm_campaign < 0)
                ),
                "_loaded_at": loaded_at(orders.ordered_at),
            },
        ),
        "shop.order_items": to_arrow(
            "shop.order_items",
            {
                "order_id": orders.order_id[items.order],
                "line_no": items.line_no,
                "sku": world.catalog.sku.take(pa.array(items.sku)),
                "category": _labels(CATEGORY_NAMES, items.category),
                "quantity": items.quantity,
                "unit_price": items.unit_price,
                "unit_cost": items.unit_cost,
                "_loaded_at": loaded_at(orders.ordered_at[items.order]),
            },
        ),
        "shop.refunds": to_arrow(
            "shop.refunds",
            {
                "refund_id": refunds.refund_id,
                "order_id": orders.order_id[refunds.order],
                "refunded_at": refunds.refunded_at,
                "amount": refunds.amount,
                "_loaded_at": loaded_at(refunds.refunded_at),
            },
        ),
    }


def email_tables(world: World) -> dict[str, pa.Table]:
    """email_subscriptions (subscribe and unsubscribe events), campaigns, sends, spend."""
    subscribers, campaigns, sends, spend = (
        world.subscribers,
        world.campaigns,
        world.sends,
        world.email_spend,
    )
    count = len(subscribers.subscriber_id)
    left = np.flatnonzero(subscribers.unsubscribed_at != NO_TIME)
    row = np.concatenate([np.arange(count), left])
    event_at = np.concatenate([subscribers.subscribed_at, subscribers.unsubscribed_at[left]])
    event_type = np.concatenate([np.zeros(count, np.int8), np.ones(len(left), np.int8)])
    order = np.lexsort((event_at, row))
    row, event_at, event_type = row[order], event_at[order], event_type[order]
    return {
        "email.email_subscriptions": to_arrow(
            "email.email_subscriptions",
            {
                "subscriber_id": subscribers.subscriber_id[row],
                "email": subscribers.email.take(pa.array(row)),
                "customer_id": _id(subscribers.customer[row]),
                "event_type": _labels(ref.SUBSCRIPTION_EVENT_TYPES, event_type),
                "event_at": event_at,
                "source": _labels(SOURCES, subscribers.source[row]),
                "_loaded_at": loaded_at(event_at),
            },
        ),
        "email.email_campaigns": to_arrow(
            "email.email_campaigns",
            {
                "campaign_id": campaigns.campaign_id,
                "name": campaigns.name,
                "purpose": _labels(PURPOSES, campaigns.purpose),
                "sent_at": campaigns.sent_at,
                "_loaded_at": loaded_at(campaigns.sent_at),
            },
        ),
        "email.email_sends": to_arrow(
            "email.email_sends",
            {
                "campaign_id": sends.campaign + 1,
                "subscriber_id": sends.subscriber + 1,
                "delivered": sends.delivered,
                "opened": sends.opened,
                "clicked": sends.clicked,
                "sent_at": sends.sent_at,
                "_loaded_at": loaded_at(sends.sent_at),
            },
        ),
        "email.email_spend": to_arrow(
            "email.email_spend",
            {
                "spend_date": spend.spend_day,
                "campaign_id": _id(spend.campaign),
                "cost_type": _labels(ref.EMAIL_COST_TYPES, spend.cost_type),
                "amount": spend.amount,
                "currency": pa.array(spend.currency.tolist(), pa.string()),
                "_loaded_at": loaded_at_for_day(spend.spend_day),
            },
        ),
    }


def marketing_tables(world: World) -> dict[str, pa.Table]:
    """marketing_spend (USD)."""
    marketing = world.marketing
    return {
        "marketing.marketing_spend": to_arrow(
            "marketing.marketing_spend",
            {
                "spend_month": marketing.spend_month,
                "channel": _labels(ref.CHANNELS, marketing.channel),
                "purpose": _labels(ref.SPEND_PURPOSES, marketing.purpose),
                "amount": marketing.amount,
                "currency": pa.array(["USD"] * len(marketing.amount), pa.string()),
                "_loaded_at": marketing.loaded_at,
            },
        )
    }


def loyalty_tables(world: World) -> dict[str, pa.Table]:
    """loyalty_members, loyalty_points, nps_responses, referrals."""
    members, points, nps, referrals = world.members, world.points, world.nps, world.referrals
    return {
        "loyalty.loyalty_members": to_arrow(
            "loyalty.loyalty_members",
            {
                "customer_id": members.customer + 1,
                "enrolled_at": members.enrolled_at,
                "tier": _labels(TIERS, members.tier),
                "_loaded_at": loaded_at(members.enrolled_at),
            },
        ),
        "loyalty.loyalty_points": to_arrow(
            "loyalty.loyalty_points",
            {
                "entry_id": points.entry_id,
                "customer_id": points.customer + 1,
                "entry_type": _labels(ref.POINT_ENTRY_TYPES, points.entry_type),
                "points": points.points,
                "entry_at": points.entry_at,
                "order_id": _id(points.order),
                "_loaded_at": loaded_at(points.entry_at),
            },
        ),
        "loyalty.nps_responses": to_arrow(
            "loyalty.nps_responses",
            {
                "response_id": nps.response_id,
                "customer_id": nps.customer + 1,
                "responded_at": nps.responded_at,
                "score": nps.score,
                "_loaded_at": loaded_at(nps.responded_at),
            },
        ),
        "loyalty.referrals": to_arrow(
            "loyalty.referrals",
            {
                "referral_id": referrals.referral_id,
                "referrer_customer_id": referrals.referrer + 1,
                "referred_email": referrals.referred_email,
                "referred_at": referrals.referred_at,
                "referred_customer_id": _id(referrals.referred_customer),
                "_loaded_at": loaded_at(referrals.referred_at),
            },
        ),
    }


def raw_tables(world: World) -> dict[str, pa.Table]:
    """All thirteen raw tables, keyed ``<source>.<table>``."""
    return {
        **shop_tables(world),
        **email_tables(world),
        **marketing_tables(world),
        **loyalty_tables(world),
    }
