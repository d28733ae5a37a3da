"""Reference values shared by the simulator and its contract checks.

The categorical values come from ``docs/raw_data_contract.md``; the currencies
are read from ``seeds/currency_rates.csv`` (the same file dbt seeds), so the
list lives in one place.
"""

from __future__ import annotations

import csv
from functools import cache

from clv.paths import PROJECT_DIR

#: The currency seed dbt loads; the simulator prices and converts with it.
CURRENCY_RATES_CSV = PROJECT_DIR / "seeds" / "currency_rates.csv"

#: Acquisition channels (customers.acquisition_channel, marketing_spend.channel).
CHANNELS = (
    "organic_search",
    "paid_search",
    "paid_social",
    "email",
    "referral",
    "affiliate",
    "direct",
)
#: Channels that carry spend in marketing_spend.
PAID_CHANNELS = ("paid_search", "paid_social", "email", "affiliate")

ORDER_STATUSES = ("completed", "cancelled")
SUBSCRIPTION_EVENT_TYPES = ("subscribe", "unsubscribe")
CAMPAIGN_PURPOSES = ("acquisition", "retention", "newsletter")
EMAIL_COST_TYPES = ("platform", "creative", "list_rental")
SPEND_PURPOSES = ("acquisition", "retention")
LOYALTY_TIERS = ("bronze", "silver", "gold")
POINT_ENTRY_TYPES = ("earn", "redeem", "expire")

#: Reason codes in the contract's check order.
REASONS = (
    "null_key",
    "null_required_value",
    "invalid_email",
    "unknown_currency",
    "unknown_value",
    "non_positive_amount",
    "score_out_of_range",
    "future_timestamp",
    "duplicate_key",
    "unknown_customer",
    "unknown_order",
    "unknown_campaign",
    "unknown_subscriber",
    "before_customer_created",
    "refund_exceeds_order",
    "redemption_exceeds_balance",
    "expiry_exceeds_balance",
)

#: What `local@domain.tld` means here: no blanks, exactly one @, a dot in the domain.
EMAIL_REGEX = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"


@cache
def currency_rates() -> dict[str, float]:
    """USD per unit of each currency, from ``seeds/currency_rates.csv`` (file order)."""
    with CURRENCY_RATES_CSV.open(newline="") as handle:
        return {row["currency_code"]: float(row["usd_per_unit"]) for row in csv.DictReader(handle)}
