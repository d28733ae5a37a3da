"""The value marts (orders side) recomputed from Python.

The marts are built once per session by the ``warehouse`` fixture (the whole
project on simulated data); here they are read read-only and compared with
independent pandas computations from the staging models, or with another
mart that computes the same figure another way. Ranges, keys and identities
of one mart are its YAML's data tests, not repeated here. Definitions:
DECISIONLOG.md, "Value marts (orders side)".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clv.warehouse import connect_read_only

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tables(warehouse) -> dict[str, pd.DataFrame]:
    """The four marts and the staging tables the checks recompute them from."""
    queries = {
        "cohort_clv": "select * from marts.cohort_clv",
        "cohort_clv_by_channel": "select * from marts.cohort_clv_by_channel",
        "customer_clv": "select * from marts.customer_clv",
        "repeat": "select * from marts.repeat_customer_rate_monthly order by month",
        "orders": "select * from staging.stg_shop__orders",
        "period": "select * from intermediate.reporting_period",
    }
    with connect_read_only(warehouse.database) as connection:
        return {name: connection.execute(sql).df() for name, sql in queries.items()}


def test_cohort_grid_runs_to_the_as_of_month(tables):
    cohorts = tables["cohort_clv"]
    as_of = pd.Timestamp(tables["period"]["as_of_month"].iloc[0])
    last = cohorts.groupby("cohort_month")["month"].max()
    assert (pd.to_datetime(last) == as_of).all()
    rows_per_cohort = cohorts.groupby("cohort_month").size()
    expected = [
        (as_of.year - pd.Timestamp(m).year) * 12 + as_of.month - pd.Timestamp(m).month + 1
        for m in rows_per_cohort.index
    ]
    assert rows_per_cohort.tolist() == expected


def test_margin_and_cost_to_date_equal_the_sum_over_the_cohorts_customers(tables):
    """A cohort's last row holds, per customer, what customer_clv holds for each of them.

    Two models compute value to date: cohort_clv month by month for a cohort,
    customer_clv per customer. At the as-of month, cumulative margin and cost
    to serve × cohort size equal the sums over the cohort's customers. (Margin
    to date may fall in a month sold below cost: the mart's YAML keeps the
    running total as the invariant and only warns on a fall.)
    """
    customers = tables["customer_clv"].copy()
    customers["cost_to_serve"] = customers["gross_margin"] - customers["historical_clv"]
    for name, keys in (
        ("cohort_clv", ["cohort_month"]),
        ("cohort_clv_by_channel", ["cohort_month", "acquisition_channel"]),
    ):
        frame = tables[name].sort_values([*keys, "months_since_acquisition"])
        last = frame.groupby(keys).tail(1).set_index(keys)
        expected = customers.groupby(keys)[["gross_margin", "cost_to_serve"]].sum()
        assert len(last) == len(expected) > 0, name
        expected = expected.loc[last.index]
        assert np.allclose(
            last["cumulative_margin_per_customer"] * last["cohort_size"], expected["gross_margin"]
        ), name
        assert np.allclose(
            last["cumulative_cost_to_serve_per_customer"] * last["cohort_size"],
            expected["cost_to_serve"],
        ), name


def test_channel_split_adds_up_to_the_cohort(tables):
    by_channel = tables["cohort_clv_by_channel"].copy()
    by_channel["acquisition_spend"] = (
        by_channel["acquisition_cost_per_customer"] * by_channel["cohort_size"]
    )
    summed = by_channel.groupby(["cohort_month", "months_since_acquisition"])[
        ["cohort_size", "orders", "revenue", "acquisition_spend"]
    ].sum()
    cohorts = (
        tables["cohort_clv"]
        .set_index(["cohort_month", "months_since_acquisition"])
        .loc[summed.index]
    )
    assert (summed["cohort_size"] == cohorts["cohort_size"]).all()
    assert (summed["orders"] == cohorts["orders"]).all()
    assert np.allclose(summed["revenue"], cohorts["revenue"])
    assert np.allclose(
        summed["acquisition_spend"],
        cohorts["acquisition_cost_per_customer"] * cohorts["cohort_size"],
    )


def _valid_orders_to_date(tables) -> pd.DataFrame:
    """Valid orders placed by the end of the as-of date, with their month."""
    orders = tables["orders"]
    as_of = pd.Timestamp(tables["period"]["as_of_date"].iloc[0]) + pd.Timedelta(days=1)
    valid = orders[
        orders["is_completed"] & ~orders["is_cancelled"] & (orders["ordered_at"] < as_of)
    ].copy()
    valid["month"] = valid["ordered_at"].dt.to_period("M").dt.to_timestamp()
    return valid


def test_repeat_rate_matches_an_independent_computation(tables):
    valid = _valid_orders_to_date(tables)
    valid = valid.sort_values(["customer_id", "ordered_at", "order_id"])
    valid["order_number"] = valid.groupby("customer_id").cumcount() + 1
    first_month = valid[valid["order_number"] == 1].set_index("customer_id")["month"]
    second_month = valid[valid["order_number"] == 2].set_index("customer_id")["month"]

    repeat = tables["repeat"]
    assert repeat["customers_to_date"].iloc[-1] == len(tables["customer_clv"]) == first_month.size
    for row in repeat.itertuples():
        month = pd.Timestamp(row.month)
        customers = int((first_month <= month).sum())
        repeaters = int((second_month <= month).sum())
        in_month = valid[valid["month"] == month]
        ordering = in_month["customer_id"].unique()
        returning = int((first_month.loc[ordering] < month).sum())
        assert row.customers_to_date == customers, month
        assert row.repeat_customers_to_date == repeaters, month
        assert row.repeat_customer_rate == pytest.approx(repeaters / customers), month
        assert row.customers_ordering == len(ordering), month
        assert row.returning_customers_ordering == returning, month


def test_customer_values_match_the_orders(tables):
    customers = tables["customer_clv"]
    assert np.allclose(
        customers["average_order_value"] * customers["orders_count"], customers["revenue"]
    )
    high_share = (customers["value_segment"] == "high").mean()
    assert 0.1 < high_share < 0.3
    # Predictions (tests/test_predictions_marts.py) are missing only for
    # customers with no purchase to model: every order refunded in full.
    unpredicted = customers["probability_alive"].isna()
    assert unpredicted.mean() < 0.05
    assert (customers.loc[unpredicted, "revenue"] == 0).all()
    # simple_clv is the textbook formula on the row's own inputs.
    recomputed = (
        customers["average_order_value"]
        * customers["purchases_per_year"]
        * customers["expected_lifespan_years"]
        - customers["acquisition_cost"]
    )
    assert np.allclose(recomputed, customers["simple_clv"])
    assert customers["expected_lifespan_years"].between(1, 5).all()


def test_ordering_customers_match_an_independent_computation(tables):
    """ordering_customers: distinct cohort customers with a valid order in the month."""
    valid = _valid_orders_to_date(tables)
    valid["cohort_month"] = valid.groupby("customer_id")["month"].transform("min")
    expected = valid.groupby(["cohort_month", "month"])["customer_id"].nunique()

    cohorts = tables["cohort_clv"].copy()
    cohorts["cohort_month"] = pd.to_datetime(cohorts["cohort_month"])
    cohorts["month"] = pd.to_datetime(cohorts["month"])
    built = cohorts.set_index(["cohort_month", "month"])["ordering_customers"]
    assert (built.reindex(expected.index) == expected).all()
    assert built.sum() == expected.sum() > 0  # every other row is 0

    assert np.allclose(
        cohorts["ordering_rate"], cohorts["ordering_customers"] / cohorts["cohort_size"]
    )
    later = cohorts.query("0 < months_since_acquisition < 11")
    assert (later["retention_rate"] == 1).all() and (later["ordering_rate"] < 1).all()

    by_channel = tables["cohort_clv_by_channel"]
    summed = by_channel.groupby(["cohort_month", "months_since_acquisition"])[
        "ordering_customers"
    ].sum()
    assert (
        summed
        == tables["cohort_clv"]
        .set_index(["cohort_month", "months_since_acquisition"])
        .loc[summed.index, "ordering_customers"]
    ).all()
