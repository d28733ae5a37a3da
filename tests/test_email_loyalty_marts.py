"""The email and loyalty value marts, checked from Python on the simulated warehouse.

Each test recomputes a mart figure from the staging layer (or from another
mart) with pandas and compares: NPS, subscriber counts, the LTV formulas against
their Python twins in ``clv.formulas``, the trailing redemption rate and the
churn buckets. Ranges, keys, the month spine and the NPS identity are the
marts' YAML data tests, not repeated here.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from clv.formulas import (
    email_expected_months_on_list,
    email_net_profit_per_subscriber_month,
    email_subscriber_ltv,
    email_subscriber_ltv_seed_formula,
    email_unsubscribe_hazard,
)
from clv.warehouse import connect_read_only

pytestmark = pytest.mark.integration


def _frame(warehouse, sql: str) -> pd.DataFrame:
    with connect_read_only(warehouse.database) as connection:
        return connection.execute(sql).df()


@pytest.fixture(scope="module")
def as_of_date(warehouse) -> pd.Timestamp:
    period = _frame(warehouse, "select as_of_date from intermediate.reporting_period")
    return pd.Timestamp(period.iloc[0, 0])


def test_nps_of_the_last_month_matches_pandas(warehouse):
    mart = _frame(warehouse, "select * from marts.loyalty_monthly order by month")
    last = mart.iloc[-1]
    month = pd.Timestamp(last["month"])
    responses = _frame(
        warehouse, "select nps_score, responded_at from staging.stg_loyalty__nps_responses"
    )
    next_month = month + pd.DateOffset(months=1)
    in_month = responses[(responses.responded_at >= month) & (responses.responded_at < next_month)]
    assert len(in_month) > 0, "the simulated data should have NPS answers in the last month"
    promoters = int((in_month.nps_score >= 9).sum())
    detractors = int((in_month.nps_score <= 6).sum())
    assert last["nps_responses"] == len(in_month)
    assert last["promoters"] == promoters
    assert last["detractors"] == detractors
    assert last["nps"] == pytest.approx(100 * (promoters - detractors) / len(in_month))


def test_redemption_flag_is_a_rate_below_20_percent(warehouse):
    mart = _frame(warehouse, "select * from marts.loyalty_monthly")
    assert (mart.is_redemption_below_20pct == (mart.redemption_rate.fillna(1) < 0.2)).all()


def test_redemption_rate_is_trailing_twelve_months(warehouse):
    mart = _frame(warehouse, "select * from marts.loyalty_monthly order by month")
    earned = mart.points_earned.rolling(12, min_periods=1).sum()
    redeemed = mart.points_redeemed.rolling(12, min_periods=1).sum()
    expected = (redeemed / earned.where(earned > 0)).tolist()
    for actual, wanted in zip(mart.redemption_rate.tolist(), expected, strict=True):
        if math.isnan(wanted):
            assert actual is None or math.isnan(actual)
        else:
            assert actual == pytest.approx(wanted)


def test_subscribers_over_cohorts_equal_distinct_subscribers(warehouse, as_of_date):
    cohorts = _frame(warehouse, "select * from marts.email_subscriber_ltv")
    subscriptions = _frame(
        warehouse,
        "select subscriber_id, event_at from staging.stg_email__email_subscriptions "
        "where is_subscribe_event",
    )
    in_period = subscriptions[subscriptions.event_at < as_of_date + pd.Timedelta(days=1)]
    subscribers = _frame(warehouse, "select * from marts.email_subscribers")
    assert cohorts.subscribers.sum() == in_period.subscriber_id.nunique() == len(subscribers)
    assert cohorts.active_subscribers.sum() == subscribers.is_active.sum()


def test_cohort_money_adds_up_to_the_subscriber_mart(warehouse):
    cohorts = _frame(warehouse, "select * from marts.email_subscriber_ltv")
    subscribers = _frame(warehouse, "select * from marts.email_subscribers")
    assert cohorts.email_revenue.sum() == pytest.approx(subscribers.attributed_revenue.sum())
    assert cohorts.email_spend.sum() == pytest.approx(subscribers.allocated_spend.sum())
    assert cohorts.email_orders.sum() == subscribers.attributed_orders.sum()
    net = subscribers.attributed_revenue - subscribers.allocated_spend
    assert (subscribers.net_value - net).abs().max() < 1e-6


def test_email_spend_is_allocated_up_to_the_as_of_date(warehouse, as_of_date):
    spend = _frame(warehouse, "select spend_date, spend_amount from staging.stg_email__email_spend")
    in_period = spend[pd.to_datetime(spend.spend_date) <= as_of_date].spend_amount.sum()
    cohorts = _frame(warehouse, "select email_spend from marts.email_subscriber_ltv")
    allocated = cohorts.email_spend.sum()
    # Spend of a campaign or month without sends in the period has no subscriber to go to.
    assert allocated <= in_period + 0.01
    assert allocated >= 0.95 * in_period


def test_subscriber_ltv_is_the_python_formula(warehouse):
    horizon_years = 5  # dbt_project.yml, clv_horizon_years
    cohorts = _frame(warehouse, "select * from marts.email_subscriber_ltv")
    with_subscribers = cohorts[cohorts.subscribers > 0]
    assert len(with_subscribers) > 0
    for row in with_subscribers.itertuples():
        months = row.subscriber_months_on_list
        assert months == pytest.approx(row.average_active_months * row.subscribers)
        profit = email_net_profit_per_subscriber_month(
            row.email_gross_margin, row.email_spend, months
        )
        expected_months = email_expected_months_on_list(
            row.unsubscribed_subscribers, months, horizon_years
        )
        assert row.net_profit_per_customer_month == pytest.approx(profit)
        assert row.monthly_unsubscribe_hazard == pytest.approx(
            email_unsubscribe_hazard(row.unsubscribed_subscribers, months)
        )
        assert row.expected_months_on_list == pytest.approx(expected_months)
        assert row.subscriber_ltv == pytest.approx(email_subscriber_ltv(profit, expected_months))
        revenue_based = email_net_profit_per_subscriber_month(
            row.email_revenue, row.email_spend, months
        )
        assert row.subscriber_ltv_revenue_based == pytest.approx(
            email_subscriber_ltv(revenue_based, expected_months)
        )
    with_customers = cohorts[cohorts.customers_from_email > 0]
    assert len(with_customers) > 0
    for row in with_customers.itertuples():
        assert row.subscriber_ltv_seed_formula == pytest.approx(
            email_subscriber_ltv_seed_formula(
                row.email_revenue,
                row.email_spend,
                row.customers_from_email,
                row.average_active_months,
            )
        )
    assert cohorts[cohorts.customers_from_email == 0].subscriber_ltv_seed_formula.isna().all()
    assert cohorts[cohorts.subscribers == 0].subscriber_ltv.isna().all()


def test_expected_months_on_list_is_capped_at_the_horizon(warehouse):
    cohorts = _frame(warehouse, "select * from marts.email_subscriber_ltv where subscribers > 0")
    assert cohorts.expected_months_on_list.between(0, 12 * 5).all()
    nobody_left = cohorts[cohorts.unsubscribed_subscribers == 0]
    assert (nobody_left.expected_months_on_list == 12 * 5).all()


def test_email_marts_hold_no_email_column(warehouse):
    columns = _frame(
        warehouse,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' "
        "and table_name in ('email_subscribers', 'email_subscriber_ltv')",
    )
    assert not columns.column_name.str.contains("email_hash|^email$", regex=True).any()


def test_churn_buckets_cover_every_customer_with_a_valid_order(warehouse, as_of_date):
    buckets = _frame(
        warehouse, "select * from marts.churn_by_category_breadth order by min_categories"
    )
    assert buckets.category_breadth.tolist() == ["1", "2", "3", "4+"]
    orders = _frame(
        warehouse, "select customer_id, ordered_at from intermediate.int_orders_enriched"
    )
    orders = orders[orders.ordered_at < as_of_date + pd.Timedelta(days=1)]
    assert buckets.customers.sum() == orders.customer_id.nunique()
    last_order = orders.groupby("customer_id").ordered_at.max()
    window_start = as_of_date + pd.Timedelta(days=1) - pd.Timedelta(days=365)
    assert buckets.churned_customers.sum() == int((last_order < window_start).sum())
