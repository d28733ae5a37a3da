"""Customer-lifetime-value formulas: pure functions, no I/O.

Each function states its formula, its source and the worked example it
reproduces; ``tests/test_formulas.py`` pins every example and ``docs/formulas.md``
is the page the dbt macros cite. Rates are fractions (0.41 for 41 %), money is in
one currency, and a period is a year unless a name says otherwise.

Bad input raises :class:`InvalidParameterError`, a :class:`clv.errors.UserError`
that names the offending parameter, so the command line can print it as one line
(and rename the parameter to its flag).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from clv.errors import UserError

__all__ = [
    "DiscountedClv",
    "InvalidParameterError",
    "YearRow",
    "acquisition_equity",
    "customer_equity",
    "discounted_clv",
    "email_expected_months_on_list",
    "email_net_profit_per_subscriber_month",
    "email_subscriber_ltv",
    "email_subscriber_ltv_seed_formula",
    "email_unsubscribe_hazard",
    "gupta_lehmann_clv",
    "referral_value",
    "retention_equity",
    "simple_clv_tcf",
    "textbook_clv",
]


class InvalidParameterError(UserError):
    """A formula input out of its domain; ``parameter`` names it, ``problem`` says why."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter} {problem}")
        self.parameter = parameter
        self.problem = problem


# ---------------------------------------------------------------- validation


def _number(name: str, value: object) -> float:
    """``value`` as a finite float, or an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidParameterError(name, f"must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidParameterError(name, f"must be a finite number, got {value!r}")
    return number


def _non_negative(name: str, value: object) -> float:
    number = _number(name, value)
    if number < 0:
        raise InvalidParameterError(name, f"must be 0 or more, got {number:g}")
    return number


def _positive(name: str, value: object) -> float:
    number = _number(name, value)
    if number <= 0:
        raise InvalidParameterError(name, f"must be more than 0, got {number:g}")
    return number


def _fraction(name: str, value: object, *, allow_zero: bool = True) -> float:
    """A rate in [0, 1] (or (0, 1] when ``allow_zero`` is false)."""
    number = _number(name, value)
    low_ok = number >= 0 if allow_zero else number > 0
    if low_ok and number <= 1:
        return number
    bounds = "between 0 and 1" if allow_zero else "more than 0 and at most 1"
    hint = f" (a fraction: {number / 100:g} for {number:g} %)" if 1 < number <= 100 else ""
    raise InvalidParameterError(name, f"must be {bounds}{hint}, got {number:g}")


def _positive_integer(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError(name, f"must be a whole number, got {value!r}")
    if value < 1:
        raise InvalidParameterError(name, f"must be at least 1, got {value}")
    return value


# ---------------------------------------------- discounted CLV (what-if calculator)


@dataclass(frozen=True)
class YearRow:
    """One year of :func:`discounted_clv`."""

    year: int
    #: r^t: share of acquired customers still active in year t.
    survival: float
    #: 1 / (1 + d)^t.
    discount_factor: float
    #: (p·s·m − c) · r^t / (1 + d)^t, per acquired customer.
    expected_contribution: float
    #: Sum of expected contributions up to year t, minus the acquisition cost.
    cumulative_clv: float


@dataclass(frozen=True)
class DiscountedClv:
    """The result of :func:`discounted_clv`: inputs, intermediate figures and rows."""

    purchases_per_year: float
    spend_per_purchase: float
    gross_margin: float
    marketing_cost: float
    acquisition_rate: float
    retention_rate: float
    discount_rate: float
    #: p·s·m − c: what an active customer contributes in a year.
    annual_margin_per_customer: float
    #: c / a: marketing spent per customer acquired.
    acquisition_cost: float
    rows: tuple[YearRow, ...]
    clv: float

    @property
    def years(self) -> int:
        """The horizon N."""
        return len(self.rows)


def discounted_clv(
    purchases_per_year: float,
    spend_per_purchase: float,
    gross_margin: float,
    marketing_cost: float,
    acquisition_rate: float,
    retention_rate: float,
    discount_rate: float,
    years: int,
) -> DiscountedClv:
    """CLV over a finite horizon with retention, discounting and acquisition cost.

    Formula (the "what-if" CLV calculator of interactive illustrations in the style
    of Gupta & Lehmann, *Managing Customers as Investments*, 2005)::

        CLV = sum_{t=1..N} (p*s*m - c) * r^t / (1 + d)^t  -  c / a

    with p purchases a year, s spend a purchase, m gross margin (fraction), c
    marketing cost per customer a year, a acquisition rate (share of prospects
    the marketing spend turns into customers, so c / a is the cost of acquiring
    one customer), r retention rate, d discount rate, N years. Margins arrive at
    each year's end, so year 1 is already retained and discounted once.

    Worked examples (reproduced in ``tests/test_formulas.py``; "about 699" and
    "about 732" in the illustration):

    - small firms: p=10, s=200, m=0.41, c=20, a=0.02, r=0.8, d=0.1, N=5
      -> 800 * 2.124097 - 1000 = 699.28;
    - large firms: p=3, s=400, m=0.5, a=0.04, the rest unchanged
      -> 580 * 2.124097 - 500 = 731.98.

    As N grows the sum tends to Gupta & Lehmann's m·r / (1 + d − r), see
    :func:`gupta_lehmann_clv`.

    Raises :class:`InvalidParameterError` unless money and counts are >= 0,
    gross_margin and retention_rate are in [0, 1], acquisition_rate is in (0, 1],
    discount_rate is >= 0 and years is a whole number >= 1.
    """
    p = _non_negative("purchases_per_year", purchases_per_year)
    s = _non_negative("spend_per_purchase", spend_per_purchase)
    m = _fraction("gross_margin", gross_margin)
    c = _non_negative("marketing_cost", marketing_cost)
    a = _fraction("acquisition_rate", acquisition_rate, allow_zero=False)
    r = _fraction("retention_rate", retention_rate)
    d = _non_negative("discount_rate", discount_rate)
    n = _positive_integer("years", years)

    annual_margin = p * s * m - c
    acquisition_cost = c / a
    cumulative = -acquisition_cost
    rows = []
    for t in range(1, n + 1):
        survival = r**t
        discount_factor = 1 / (1 + d) ** t
        contribution = annual_margin * survival * discount_factor
        cumulative += contribution
        rows.append(YearRow(t, survival, discount_factor, contribution, cumulative))
    return DiscountedClv(
        purchases_per_year=p,
        spend_per_purchase=s,
        gross_margin=m,
        marketing_cost=c,
        acquisition_rate=a,
        retention_rate=r,
        discount_rate=d,
        annual_margin_per_customer=annual_margin,
        acquisition_cost=acquisition_cost,
        rows=tuple(rows),
        clv=cumulative,
    )


# ------------------------------------------------------------ textbook shortcuts


def textbook_clv(
    average_purchase_value: float,
    purchases_per_year: float,
    lifespan_years: float,
    acquisition_cost: float = 0,
) -> float:
    """Undiscounted revenue CLV: value × frequency × lifespan − acquisition cost.

    The textbook shortcut (no margin, no retention curve, no discounting).
    Worked examples (a subscription box): 10 a month × 12 purchases a year × 3
    years = 360; three customers spending 60, 25 and 150 a month average 78.33,
    which the source rounds to 78: 78 × 12 × 5 = 4,680, i.e. 936 a year.
    Coaching: 150 a session × 24 sessions a year × 5 years = 18,000.
    """
    value = _non_negative("average_purchase_value", average_purchase_value)
    frequency = _non_negative("purchases_per_year", purchases_per_year)
    lifespan = _non_negative("lifespan_years", lifespan_years)
    cost = _non_negative("acquisition_cost", acquisition_cost)
    return value * frequency * lifespan - cost


def simple_clv_tcf(t: float, c: float, f: float) -> float:
    """CLV = t × c × f: lifespan t, average purchase value c, purchase frequency f.

    The same shortcut as :func:`textbook_clv` in the letters of the "t·c·f"
    formulation (t and f in the same period unit). Example: t=3 years, c=10,
    f=12 a year gives 360.
    """
    lifespan = _non_negative("t", t)
    value = _non_negative("c", c)
    frequency = _non_negative("f", f)
    return lifespan * value * frequency


def referral_value(base_clv: float, referrals_per_customer: float, conversion_rate: float) -> float:
    """Referral value = referrals per customer × conversion rate × base CLV.

    Each referred customer who converts is assumed worth the referrer's own CLV
    (no second-generation referrals). Worked example (coaching): 150 a session,
    two sessions a month -> 3,600 a year; over five years a base CLV of 18,000;
    each client tells four people and half of them become clients -> referral
    value 4 × 0.5 × 18,000 = 36,000, so 54,000 in total with the base CLV.

    ``base_clv`` may be negative (a CLV is an output, not a price);
    referrals_per_customer must be >= 0 and conversion_rate in [0, 1].
    """
    clv = _number("base_clv", base_clv)
    referrals = _non_negative("referrals_per_customer", referrals_per_customer)
    conversion = _fraction("conversion_rate", conversion_rate)
    return referrals * conversion * clv


def email_subscriber_ltv_seed_formula(
    email_revenue: float,
    email_cost: float,
    customers_from_email: float,
    average_active_months: float,
) -> float:
    """The seed formula as written: (revenue − cost) ÷ customers × average active months.

    docs/formulas.md, "Email subscriber LTV", formula 1: (email revenue − email
    cost) ÷ customers acquired by email, which the seed calls the net profit per
    customer-month, times the months a subscriber stays active. Worked example:
    3,000,000 − 1,200,000 = 1,800,000; ÷ 1,000 customers = 1,800 a customer;
    × 10 months = 18,000. The first factor is a per-customer figure for one
    period: fed with totals to date it counts the observation window twice, so
    the warehouse's ``subscriber_ltv`` uses :func:`email_subscriber_ltv`.

    customers_from_email must be more than 0; the other inputs >= 0.
    """
    revenue = _non_negative("email_revenue", email_revenue)
    cost = _non_negative("email_cost", email_cost)
    customers = _positive("customers_from_email", customers_from_email)
    months = _non_negative("average_active_months", average_active_months)
    return (revenue - cost) / customers * months


def email_net_profit_per_subscriber_month(
    email_margin: float, email_cost: float, subscriber_months: float
) -> float:
    """Net email profit per subscriber-month = (margin − cost) ÷ subscriber-months on the list.

    docs/formulas.md, "Email subscriber LTV", formula 2. ``email_margin`` is the
    gross margin (or, for the revenue-based variant, the revenue) of the orders
    attributed to the subscribers; ``email_cost`` the email spend allocated to
    them; ``subscriber_months`` the months they were on the list. Example:
    (80,000 − 16,000) ÷ 8,000 = 8.

    email_margin may be negative; email_cost >= 0; subscriber_months > 0.
    """
    margin = _number("email_margin", email_margin)
    cost = _non_negative("email_cost", email_cost)
    months = _positive("subscriber_months", subscriber_months)
    return (margin - cost) / months


def email_unsubscribe_hazard(unsubscribes: float, subscriber_months: float) -> float:
    """Monthly unsubscribe hazard h = unsubscribes ÷ subscriber-months on the list.

    The maximum-likelihood rate of an exponential stay from right-censored
    stays (events ÷ exposure): subscribers still on the list add their months
    and no event. Example: 400 ÷ 8,000 = 0.05 a month.

    unsubscribes >= 0; subscriber_months > 0.
    """
    events = _non_negative("unsubscribes", unsubscribes)
    months = _positive("subscriber_months", subscriber_months)
    return events / months


def email_expected_months_on_list(
    unsubscribes: float, subscriber_months: float, horizon_years: int
) -> float:
    """Expected months on the list = min(1 ÷ h, 12 × horizon_years); the cap when h = 0.

    h is :func:`email_unsubscribe_hazard`; 1 ÷ h is the mean of an exponential
    stay. Examples (horizon 5 years): 8,000 ÷ 400 = 20; no unsubscribe -> 60;
    7,000 ÷ 100 = 70 -> 60.

    unsubscribes >= 0; subscriber_months > 0; horizon_years a whole number >= 1.
    """
    events = _non_negative("unsubscribes", unsubscribes)
    months = _positive("subscriber_months", subscriber_months)
    cap = 12 * _positive_integer("horizon_years", horizon_years)
    if events == 0 or months > cap * events:
        return float(cap)
    return months / events


def email_subscriber_ltv(
    net_profit_per_subscriber_month: float, expected_months_on_list: float
) -> float:
    """Email subscriber LTV = net profit per subscriber-month × expected months on the list.

    docs/formulas.md, "Email subscriber LTV", formula 2: both factors are rates
    or durations, not totals to date, so a cohort observed twice as long with
    the same monthly behaviour gets the same LTV. Example: 8 × 20 = 160.

    expected_months_on_list >= 0; the profit may be negative.
    """
    profit = _number("net_profit_per_subscriber_month", net_profit_per_subscriber_month)
    months = _non_negative("expected_months_on_list", expected_months_on_list)
    return profit * months


# ------------------------------------------------- Gupta & Lehmann, customer equity


def gupta_lehmann_clv(margin: float, retention_rate: float, discount_rate: float) -> float:
    """Infinite-horizon CLV = m × r ÷ (1 + d − r).

    Gupta & Lehmann (2003), "Customers as assets", *Journal of Interactive
    Marketing* 17(1): constant margin m a period received at each period's end,
    constant retention r, discount rate d, no acquisition cost. It is the limit
    of :func:`discounted_clv`'s sum as the horizon grows. Example: m=100, r=0.8,
    d=0.1 -> 80 / 0.3 = 266.67.

    margin must be >= 0, retention_rate in [0, 1], discount_rate >= 0, and
    1 + d − r > 0 (only r = 1 with d = 0 fails: the value would be infinite).
    """
    m = _non_negative("margin", margin)
    r = _fraction("retention_rate", retention_rate)
    d = _non_negative("discount_rate", discount_rate)
    denominator = 1 + d - r
    if denominator <= 0:
        raise InvalidParameterError(
            "retention_rate",
            f"of {r:g} with discount_rate {d:g} makes 1 + discount_rate - retention_rate "
            "not more than 0: the infinite-horizon CLV has no finite value",
        )
    return m * r / denominator


def customer_equity(clv: float, customers: float) -> float:
    """Customer equity = CLV × customers (Gupta & Lehmann 2003).

    Example: a CLV of 266.67 and 1,000 customers -> 266,666.67.
    """
    value = _number("clv", clv)
    count = _non_negative("customers", customers)
    return value * count


def acquisition_equity(new_customers: float, clv: float, acquisition_spend: float) -> float:
    """Acquisition equity = new customers × CLV − acquisition spend.

    The value added by a period's acquisition, net of what it cost (the
    acquisition side of customer equity, after Blattberg & Deighton 1996 and
    Gupta & Lehmann 2003). Example: 100 new customers × 266.67 − 20,000 = 6,666.67.
    """
    count = _non_negative("new_customers", new_customers)
    value = _number("clv", clv)
    spend = _non_negative("acquisition_spend", acquisition_spend)
    return count * value - spend


def retention_equity(retained_customers: float, clv: float, retention_spend: float) -> float:
    """Retention equity = retained customers × CLV − retention spend.

    The retention side of customer equity. Example: 800 retained customers ×
    266.67 − 50,000 = 163,333.33.
    """
    count = _non_negative("retained_customers", retained_customers)
    value = _number("clv", clv)
    spend = _non_negative("retention_spend", retention_spend)
    return count * value - spend
