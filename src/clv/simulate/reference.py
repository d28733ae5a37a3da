"""The simulator's reference values: the contract's, plus which channels carry spend.

The categorical values, reason codes, email regex and currencies are the
contract's (:mod:`clv.contract.reference`, read from ``dbt_project.yml`` and
``seeds/currency_rates.csv``); they are re-exported here for the simulator's
modules and for ``clv.quality.warehouse_suites``, which another change rewrites.
"""

from __future__ import annotations

from clv.contract.reference import (
    CAMPAIGN_PURPOSES,
    CHANNELS,
    CURRENCY_RATES_CSV,
    EMAIL_COST_TYPES,
    EMAIL_REGEX,
    LOYALTY_TIERS,
    ORDER_STATUSES,
    POINT_ENTRY_TYPES,
    REASONS,
    SPEND_PURPOSES,
    SUBSCRIPTION_EVENT_TYPES,
    currency_rates,
)

__all__ = [
    "CAMPAIGN_PURPOSES",
    "CHANNELS",
    "CURRENCY_RATES_CSV",
    "EMAIL_COST_TYPES",
    "EMAIL_REGEX",
    "LOYALTY_TIERS",
    "ORDER_STATUSES",
    "PAID_CHANNELS",
    "POINT_ENTRY_TYPES",
    "REASONS",
    "SPEND_PURPOSES",
    "SUBSCRIPTION_EVENT_TYPES",
    "currency_rates",
]

#: Channels that carry spend in marketing_spend (a property of the simulated shop).
PAID_CHANNELS = ("paid_search", "paid_social", "email", "affiliate")
