"""The CLV formulas reproduce their sources' worked examples (see docs/formulas.md)."""

from __future__ import annotations

import math
from statistics import mean

import pytest

from clv.errors import UserError
from clv.formulas import (
    InvalidParameterError,
    acquisition_equity,
    customer_equity,
    discounted_clv,
    email_expected_months_on_list,
    email_net_profit_per_subscriber_month,
    email_subscriber_ltv,
    email_subscriber_ltv_seed_formula,
    email_unsubscribe_hazard,
    gupta_lehmann_clv,
    referral_value,
    retention_equity,
    simple_clv_tcf,
    textbook_clv,
)
from tests.support.worked_examples import LARGE_FIRM, SMALL_FIRM

pytestmark = pytest.mark.unit

# ------------------------------------------------------------ discounted_clv


def test_discounted_clv_small_firm_example():
    result = discounted_clv(**SMALL_FIRM)
    assert result.annual_margin_per_customer == pytest.approx(800)
    assert result.acquisition_cost == pytest.approx(1000)
    assert round(result.clv, 2) == 699.28
    assert round(result.clv) == 699  # "about 699"


def test_discounted_clv_large_firm_example():
    result = discounted_clv(**LARGE_FIRM)
    assert result.annual_margin_per_customer == pytest.approx(580)
    assert result.acquisition_cost == pytest.approx(500)
    assert round(result.clv, 2) == 731.98
    assert round(result.clv) == 732  # "about 732"


def test_discounted_clv_small_firm_rows():
    rows = discounted_clv(**SMALL_FIRM).rows
    assert [row.year for row in rows] == [1, 2, 3, 4, 5]
    assert [round(row.expected_contribution, 2) for row in rows] == [
        581.82,
        423.14,
        307.74,
        223.81,
        162.77,
    ]
    assert [round(row.cumulative_clv, 2) for row in rows] == [
        -418.18,
        4.96,
        312.70,
        536.51,
        699.28,
    ]
    assert rows[4].survival == pytest.approx(0.8**5)
    assert rows[4].discount_factor == pytest.approx(1.1**-5)


def test_discounted_clv_one_year_by_hand():
    # (10 * 200 * 0.41 - 20) * 0.8 / 1.1 - 20 / 0.02 = 581.8181... - 1000
    result = discounted_clv(**{**SMALL_FIRM, "years": 1})
    assert result.years == 1
    assert result.clv == pytest.approx(800 * 0.8 / 1.1 - 1000)
    assert round(result.clv, 2) == -418.18


def test_discounted_clv_rows_are_consistent():
    result = discounted_clv(**{**SMALL_FIRM, "years": 12})
    running = -result.acquisition_cost
    for row in result.rows:
        expected = result.annual_margin_per_customer * row.survival * row.discount_factor
        assert row.expected_contribution == pytest.approx(expected)
        running += row.expected_contribution
        assert row.cumulative_clv == pytest.approx(running)
    assert result.clv == result.rows[-1].cumulative_clv


@pytest.mark.parametrize("years", [1, 2, 5, 30])
@pytest.mark.parametrize(("retention", "discount"), [(0.8, 0.1), (0.5, 0.0), (0.95, 0.25)])
def test_discounted_clv_matches_geometric_closed_form(years, retention, discount):
    # sum_{t=1..N} q^t = q (1 - q^N) / (1 - q) with q = r / (1 + d)
    inputs = {**SMALL_FIRM, "retention_rate": retention, "discount_rate": discount}
    q = retention / (1 + discount)
    closed = 800 * q * (1 - q**years) / (1 - q) - 1000
    assert discounted_clv(**{**inputs, "years": years}).clv == pytest.approx(closed)


def test_discounted_clv_tends_to_gupta_lehmann():
    long_run = discounted_clv(**{**SMALL_FIRM, "years": 400})
    limit = gupta_lehmann_clv(800, 0.8, 0.1) - 1000
    assert long_run.clv == pytest.approx(limit)


def test_discounted_clv_rises_with_retention():
    clvs = [
        discounted_clv(**{**SMALL_FIRM, "retention_rate": r}).clv
        for r in (0, 0.2, 0.5, 0.8, 0.95, 1)
    ]
    assert clvs == sorted(clvs)
    assert len(set(clvs)) == len(clvs)
    assert clvs[0] == pytest.approx(-1000)  # nobody stays: only the acquisition cost


def test_discounted_clv_falls_with_discount_rate():
    clvs = [
        discounted_clv(**{**SMALL_FIRM, "discount_rate": d}).clv for d in (0, 0.05, 0.1, 0.5, 2)
    ]
    assert clvs == sorted(clvs, reverse=True)
    assert len(set(clvs)) == len(clvs)


def test_discounted_clv_rises_with_horizon_and_acquisition_rate():
    by_years = [discounted_clv(**{**SMALL_FIRM, "years": n}).clv for n in range(1, 11)]
    assert by_years == sorted(by_years)
    by_rate = [
        discounted_clv(**{**SMALL_FIRM, "acquisition_rate": a}).clv for a in (0.01, 0.02, 0.5, 1)
    ]
    assert by_rate == sorted(by_rate)


def test_discounted_clv_without_discounting_or_churn_is_plain_sum():
    result = discounted_clv(**{**SMALL_FIRM, "retention_rate": 1, "discount_rate": 0})
    assert result.clv == pytest.approx(5 * 800 - 1000)


def test_discounted_clv_loss_making_customer_is_negative():
    result = discounted_clv(**{**SMALL_FIRM, "spend_per_purchase": 1})
    assert result.annual_margin_per_customer == pytest.approx(10 * 0.41 - 20)
    assert all(row.expected_contribution < 0 for row in result.rows)
    assert result.clv < -1000


@pytest.mark.parametrize(
    ("parameter", "value", "message"),
    [
        ("purchases_per_year", -1, "purchases_per_year must be 0 or more, got -1"),
        ("spend_per_purchase", -0.5, "spend_per_purchase must be 0 or more"),
        ("gross_margin", 1.01, "gross_margin must be between 0 and 1"),
        ("gross_margin", 41, "gross_margin must be between 0 and 1 (a fraction: 0.41 for 41 %)"),
        ("gross_margin", -0.1, "gross_margin must be between 0 and 1, got -0.1"),
        ("marketing_cost", -20, "marketing_cost must be 0 or more"),
        ("acquisition_rate", 0, "acquisition_rate must be more than 0 and at most 1, got 0"),
        ("acquisition_rate", 1.5, "acquisition_rate must be more than 0 and at most 1"),
        ("retention_rate", 1.2, "retention_rate must be between 0 and 1"),
        ("retention_rate", -0.2, "retention_rate must be between 0 and 1"),
        ("discount_rate", -0.1, "discount_rate must be 0 or more"),
        ("years", 0, "years must be at least 1, got 0"),
        ("years", -3, "years must be at least 1"),
        ("years", 2.5, "years must be a whole number"),
        ("years", True, "years must be a whole number"),
        ("spend_per_purchase", math.nan, "spend_per_purchase must be a finite number"),
        ("marketing_cost", math.inf, "marketing_cost must be a finite number"),
        ("gross_margin", "0.41", "gross_margin must be a number"),
    ],
)
def test_discounted_clv_rejects_bad_input(parameter, value, message):
    with pytest.raises(InvalidParameterError) as excinfo:
        discounted_clv(**{**SMALL_FIRM, parameter: value})
    assert message in str(excinfo.value)
    assert excinfo.value.parameter == parameter
    assert isinstance(excinfo.value, UserError)
    assert "\n" not in str(excinfo.value)


def test_discounted_clv_accepts_domain_edges():
    edges = {
        "purchases_per_year": 0,
        "gross_margin": 0,
        "marketing_cost": 0,
        "acquisition_rate": 1,
        "retention_rate": 0,
        "discount_rate": 0,
        "years": 1,
    }
    assert discounted_clv(**{**SMALL_FIRM, **edges}).clv == 0
    assert math.isfinite(
        discounted_clv(**{**SMALL_FIRM, "gross_margin": 1, "discount_rate": 3}).clv
    )


# ------------------------------------------------------------ textbook shortcuts


def test_textbook_clv_subscription_box():
    assert textbook_clv(10, 12, 3) == 360
    assert simple_clv_tcf(t=3, c=10, f=12) == 360


def test_textbook_clv_average_of_three_customers():
    monthly = mean([60, 25, 150])
    assert round(monthly, 2) == 78.33
    # The source rounds the average to 78 before multiplying.
    lifetime = textbook_clv(round(monthly), 12, 5)
    assert lifetime == 4680
    assert lifetime / 5 == 936
    assert simple_clv_tcf(5, 78, 12) == 4680
    # Unrounded the same inputs give 4,700.
    assert textbook_clv(monthly, 12, 5) == pytest.approx(4700)


def test_textbook_clv_subtracts_acquisition_cost():
    assert textbook_clv(10, 12, 3, acquisition_cost=60) == 300


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: textbook_clv(-10, 12, 3), "average_purchase_value must be 0 or more"),
        (lambda: textbook_clv(10, -12, 3), "purchases_per_year must be 0 or more"),
        (lambda: textbook_clv(10, 12, -3), "lifespan_years must be 0 or more"),
        (lambda: textbook_clv(10, 12, 3, -1), "acquisition_cost must be 0 or more"),
        (lambda: simple_clv_tcf(-1, 10, 12), "t must be 0 or more"),
        (lambda: simple_clv_tcf(3, -10, 12), "c must be 0 or more"),
        (lambda: simple_clv_tcf(3, 10, math.nan), "f must be a finite number"),
    ],
)
def test_textbook_clv_rejects_bad_input(call, message):
    with pytest.raises(UserError) as excinfo:
        call()
    assert str(excinfo.value).startswith(message)


# ------------------------------------------------------------ referrals and email


def test_referral_value_coaching_example():
    per_year = textbook_clv(150, 2 * 12, 1)
    assert per_year == 3600
    base = textbook_clv(150, 2 * 12, 5)
    assert base == 18000
    referrals = referral_value(base, referrals_per_customer=4, conversion_rate=0.5)
    assert referrals == 36000
    assert base + referrals == 54000


def test_referral_value_edges():
    assert referral_value(18000, 0, 0.5) == 0
    assert referral_value(18000, 4, 0) == 0
    assert referral_value(-100, 2, 1) == -200  # a loss-making CLV stays a loss


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((18000, -1, 0.5), "referrals_per_customer must be 0 or more"),
        ((18000, 4, 1.5), "conversion_rate must be between 0 and 1"),
        ((18000, 4, 50), "conversion_rate must be between 0 and 1 (a fraction: 0.5 for 50 %)"),
        ((math.inf, 4, 0.5), "base_clv must be a finite number"),
    ],
)
def test_referral_value_rejects_bad_input(args, message):
    with pytest.raises(InvalidParameterError) as excinfo:
        referral_value(*args)
    assert str(excinfo.value).startswith(message)


def test_email_subscriber_ltv_seed_formula_example():
    assert (3_000_000 - 1_200_000) / 1_000 == 1_800
    assert email_subscriber_ltv_seed_formula(3_000_000, 1_200_000, 1_000, 10) == 18_000


def test_email_subscriber_ltv_seed_formula_can_be_negative():
    assert email_subscriber_ltv_seed_formula(1_000, 3_000, 100, 10) == -200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 0, 1, 1), "email_revenue must be 0 or more"),
        ((1, -1, 1, 1), "email_cost must be 0 or more"),
        ((1, 0, 0, 1), "customers_from_email must be more than 0, got 0"),
        ((1, 0, -5, 1), "customers_from_email must be more than 0"),
        ((1, 0, 1, -1), "average_active_months must be 0 or more"),
    ],
)
def test_email_subscriber_ltv_seed_formula_rejects_bad_input(args, message):
    with pytest.raises(InvalidParameterError) as excinfo:
        email_subscriber_ltv_seed_formula(*args)
    assert str(excinfo.value).startswith(message)


def test_email_subscriber_ltv_worked_example():
    """docs/formulas.md: 8 a subscriber-month × 20 expected months = 160."""
    profit = email_net_profit_per_subscriber_month(80_000, 16_000, 8_000)
    assert profit == 8
    assert email_unsubscribe_hazard(400, 8_000) == 0.05
    months = email_expected_months_on_list(400, 8_000, horizon_years=5)
    assert months == 20
    assert email_subscriber_ltv(profit, months) == 160
    revenue_based = email_net_profit_per_subscriber_month(200_000, 16_000, 8_000)
    assert email_subscriber_ltv(revenue_based, months) == 460


def test_email_expected_months_on_list_is_capped_at_the_horizon():
    assert email_expected_months_on_list(0, 300, horizon_years=5) == 60
    assert email_expected_months_on_list(100, 7_000, horizon_years=5) == 60
    assert email_expected_months_on_list(100, 7_000, horizon_years=6) == 70
    assert email_unsubscribe_hazard(0, 300) == 0


def _synthetic_cohort(months_observed: float, subscribers: int = 2_000, hazard: float = 0.05):
    """A cohort whose subscribers behave identically every month, observed for a while.

    Stays on the list are exponential with ``hazard`` a month (quantiles of the
    distribution, so the sample is the same for every window); each subscriber
    brings 25 of revenue and 10 of gross margin and costs 2 of email spend a
    month on the list, and first buys through email after 1 to 20 months on it
    (spread evenly). Stays longer than the window are right-censored at its end.
    """
    stays = [-math.log(1 - (i + 0.5) / subscribers) / hazard for i in range(subscribers)]
    on_list = [min(stay, months_observed) for stay in stays]
    first_purchase = [1 + i % 20 for i in range(subscribers)]
    months = sum(on_list)
    return {
        "subscribers": subscribers,
        "unsubscribes": sum(1 for stay in stays if stay <= months_observed),
        "subscriber_months": months,
        "revenue": 25 * months,
        "margin": 10 * months,
        "spend": 2 * months,
        "customers_from_email": sum(
            1 for stay, first in zip(on_list, first_purchase, strict=True) if stay >= first
        ),
    }


def _ltv(cohort: dict) -> float:
    profit = email_net_profit_per_subscriber_month(
        cohort["margin"], cohort["spend"], cohort["subscriber_months"]
    )
    months = email_expected_months_on_list(
        cohort["unsubscribes"], cohort["subscriber_months"], horizon_years=5
    )
    return email_subscriber_ltv(profit, months)


def _seed_ltv(cohort: dict) -> float:
    return email_subscriber_ltv_seed_formula(
        cohort["revenue"],
        cohort["spend"],
        cohort["customers_from_email"],
        cohort["subscriber_months"] / cohort["subscribers"],
    )


def test_email_subscriber_ltv_does_not_grow_with_the_observation_window():
    """The issue's invariance: observed 10 or 20 months, the same LTV within 1 %."""
    ten, twenty = _synthetic_cohort(10), _synthetic_cohort(20)
    assert twenty["subscriber_months"] > 1.5 * ten["subscriber_months"]
    assert _ltv(twenty) == pytest.approx(_ltv(ten), rel=0.01)
    # Both near the truth: 8 a month × 1 / 0.05 = 20 months = 160.
    assert _ltv(ten) == pytest.approx(160, rel=0.01)


def test_email_subscriber_ltv_seed_formula_grows_with_the_observation_window():
    """The seed formula fails the same invariance (the reason it is not subscriber_ltv)."""
    ten, twenty = _synthetic_cohort(10), _synthetic_cohort(20)
    assert _seed_ltv(twenty) > 1.3 * _seed_ltv(ten)


@pytest.mark.parametrize(
    ("function", "args", "message"),
    [
        (email_net_profit_per_subscriber_month, (1, -1, 1), "email_cost must be 0 or more"),
        (email_net_profit_per_subscriber_month, (1, 0, 0), "subscriber_months must be more than 0"),
        (email_unsubscribe_hazard, (-1, 10), "unsubscribes must be 0 or more"),
        (email_unsubscribe_hazard, (1, 0), "subscriber_months must be more than 0"),
        (email_expected_months_on_list, (1, 10, 0), "horizon_years must be at least 1"),
        (email_expected_months_on_list, (1, 10, 2.5), "horizon_years must be a whole number"),
        (email_subscriber_ltv, (8, -1), "expected_months_on_list must be 0 or more"),
        (email_subscriber_ltv, (math.nan, 1), "net_profit_per_subscriber_month must be a finite"),
    ],
)
def test_email_subscriber_ltv_parts_reject_bad_input(function, args, message):
    with pytest.raises(InvalidParameterError) as excinfo:
        function(*args)
    assert str(excinfo.value).startswith(message)


# ------------------------------------------------- Gupta & Lehmann, customer equity


def test_gupta_lehmann_example():
    clv = gupta_lehmann_clv(margin=100, retention_rate=0.8, discount_rate=0.1)
    assert clv == pytest.approx(80 / 0.3)
    assert round(clv, 2) == 266.67


def test_gupta_lehmann_edges_and_monotonicity():
    assert gupta_lehmann_clv(100, 0, 0.1) == 0
    assert gupta_lehmann_clv(100, 1, 0.1) == pytest.approx(1000)  # m / d
    by_retention = [gupta_lehmann_clv(100, r, 0.1) for r in (0.1, 0.5, 0.8, 0.9, 1)]
    assert by_retention == sorted(by_retention)
    by_discount = [gupta_lehmann_clv(100, 0.8, d) for d in (0, 0.1, 0.2, 1)]
    assert by_discount == sorted(by_discount, reverse=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-100, 0.8, 0.1), "margin must be 0 or more"),
        ((100, 1.1, 0.1), "retention_rate must be between 0 and 1"),
        ((100, 0.8, -0.1), "discount_rate must be 0 or more"),
        ((100, 1, 0), "retention_rate of 1 with discount_rate 0 makes 1 + discount_rate"),
    ],
)
def test_gupta_lehmann_rejects_bad_input(args, message):
    with pytest.raises(InvalidParameterError) as excinfo:
        gupta_lehmann_clv(*args)
    assert str(excinfo.value).startswith(message)
    assert "\n" not in str(excinfo.value)


def test_customer_equity_helpers():
    clv = gupta_lehmann_clv(100, 0.8, 0.1)
    assert round(customer_equity(clv, 1_000), 2) == 266_666.67
    assert round(acquisition_equity(100, clv, 20_000), 2) == 6_666.67
    assert round(retention_equity(800, clv, 50_000), 2) == 163_333.33
    assert customer_equity(-10, 3) == -30
    assert acquisition_equity(0, clv, 500) == -500


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: customer_equity(100, -1), "customers must be 0 or more"),
        (lambda: customer_equity(math.nan, 1), "clv must be a finite number"),
        (lambda: acquisition_equity(-1, 100, 0), "new_customers must be 0 or more"),
        (lambda: acquisition_equity(1, 100, -5), "acquisition_spend must be 0 or more"),
        (lambda: retention_equity(-1, 100, 0), "retained_customers must be 0 or more"),
        (lambda: retention_equity(1, 100, -5), "retention_spend must be 0 or more"),
    ],
)
def test_customer_equity_helpers_reject_bad_input(call, message):
    with pytest.raises(InvalidParameterError) as excinfo:
        call()
    assert str(excinfo.value).startswith(message)
