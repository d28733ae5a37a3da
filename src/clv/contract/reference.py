"""Reference values of the contract: categorical value sets, reason codes, emails, currencies.

Everything but the currencies comes from the ``raw_contract`` var of
``dbt_project.yml`` (:mod:`clv.contract.declaration`); the currencies are read
from ``seeds/currency_rates.csv``, the seed dbt loads.
"""

from __future__ import annotations

import csv
from functools import cache

from clv.contract.declaration import raw_contract
from clv.paths import PROJECT_DIR

#: The currency seed dbt loads; the simulator prices and converts with it.
CURRENCY_RATES_CSV = PROJECT_DIR / "seeds" / "currency_rates.csv"

_CONTRACT = raw_contract()

#: Named value sets of the categorical columns (``value_sets``).
VALUE_SETS: dict[str, tuple[str, ...]] = {
    name: tuple(values) for name, values in _CONTRACT["value_sets"].items()
}

#: Acquisition channels (customers.acquisition_channel, marketing_spend.channel).
CHANNELS = VALUE_SETS["acquisition_channel"]
ORDER_STATUSES = VALUE_SETS["order_status"]
SUBSCRIPTION_EVENT_TYPES = VALUE_SETS["subscription_event_type"]
CAMPAIGN_PURPOSES = VALUE_SETS["campaign_purpose"]
EMAIL_COST_TYPES = VALUE_SETS["email_cost_type"]
SPEND_PURPOSES = VALUE_SETS["spend_purpose"]
LOYALTY_TIERS = VALUE_SETS["loyalty_tier"]
POINT_ENTRY_TYPES = VALUE_SETS["points_entry_type"]

#: Reason codes in the contract's check order.
REASONS: tuple[str, ...] = tuple(_CONTRACT["reasons"])

#: Rule 10: reason code -> (referenced table, referenced column), e.g.
#: ``unknown_order`` -> ``("shop.orders", "order_id")``.
REFERENCES: dict[str, tuple[str, str]] = {
    code: tuple(target.rsplit(".", 1)) for code, target in _CONTRACT["references"].items()
}

#: What `local@domain.tld` means here: no blanks, exactly one @, a dot in the domain.
EMAIL_REGEX: str = _CONTRACT["email_regex"]


@cache
def currency_rates() -> dict[str, float]:
    """USD per unit of each currency, from ``seeds/currency_rates.csv`` (file order)."""
    with CURRENCY_RATES_CSV.open(newline="") as handle:
        return {row["currency_code"]: float(row["usd_per_unit"]) for row in csv.DictReader(handle)}
