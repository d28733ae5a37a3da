"""Numbers for people: currency, thousands separators and percentages.

The page's JavaScript formats the calculator's numbers the same way
(``money`` in dashboard.js); plotly's axes and hovers use d3 formats
(``,.0f``, ``.1%``) with the currency symbol as a prefix.
"""

from __future__ import annotations

import math

#: Reporting currency -> the symbol shown before amounts; other codes are shown as "CHF 12".
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

MISSING = "n/a"


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # NaN, pandas NA as float
    except (TypeError, ValueError):
        return True


def symbol(currency: str) -> str:
    """The prefix of amounts in ``currency``: "$" for USD, "CHF " for a code without a symbol."""
    return SYMBOLS.get(currency, f"{currency} ")


def format_money(value: object, currency: str = "USD", decimals: int = 0) -> str:
    """``-$1,234,568`` (sign, symbol, thousands separators); "n/a" for a missing value."""
    if _missing(value):
        return MISSING
    number = float(value)
    sign = "-" if number < 0 and round(abs(number), decimals) != 0 else ""
    return f"{sign}{symbol(currency)}{abs(number):,.{decimals}f}"


def format_count(value: object) -> str:
    """``12,345``; "n/a" for a missing value."""
    if _missing(value):
        return MISSING
    return f"{round(float(value)):,}"


def format_percent(value: object, decimals: int = 1) -> str:
    """A fraction as a percentage, ``0.2`` -> ``20.0 %``; "n/a" for a missing value."""
    if _missing(value):
        return MISSING
    return f"{float(value) * 100:.{decimals}f} %"


def format_number(value: object, decimals: int = 1) -> str:
    """``1,234.5``; "n/a" for a missing value."""
    if _missing(value):
        return MISSING
    return f"{float(value):,.{decimals}f}"
