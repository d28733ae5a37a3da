"""Which staging model holds each raw table's clean rows."""

from __future__ import annotations

#: raw table -> staging model that holds its clean rows.
STAGING_MODELS = {
    "shop.customers": "stg_shop__customers",
    "shop.orders": "stg_shop__orders",
    "shop.order_items": "stg_shop__order_items",
    "shop.refunds": "stg_shop__refunds",
    "email.email_subscriptions": "stg_email__email_subscriptions",
    "email.email_campaigns": "stg_email__email_campaigns",
    "email.email_sends": "stg_email__email_sends",
    "email.email_spend": "stg_email__email_spend",
    "marketing.marketing_spend": "stg_marketing__marketing_spend",
    "loyalty.loyalty_members": "stg_loyalty__loyalty_members",
    "loyalty.loyalty_points": "stg_loyalty__loyalty_points",
    "loyalty.nps_responses": "stg_loyalty__nps_responses",
    "loyalty.referrals": "stg_loyalty__referrals",
}
