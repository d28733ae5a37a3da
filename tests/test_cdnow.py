"""The proof on real data: the warehouse built on CDNOW reproduces the papers.

CDNOW_sample (shipped by lifetimes) goes through the same path as any shop's
data: raw Parquet files, the quarantine, staging, the purchase-day summary in
SQL and the dbt Python models. The fitted parameters must match the published
estimates to 1 %: BG/NBD, Fader, Hardie & Lee (2005), Marketing Science 24(2);
Gamma-Gamma on the 946 repeat customers, Fader & Hardie (2013), "The
Gamma-Gamma Model of Monetary Value".
"""

from __future__ import annotations

import pandas as pd
import pytest

from clv.cdnow import PUBLISHED, build_cdnow_warehouse
from clv.warehouse import connect_read_only

pytestmark = pytest.mark.scale


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory) -> dict[str, pd.DataFrame]:
    workdir = tmp_path_factory.mktemp("cdnow")
    database = workdir / "cdnow.duckdb"
    counts = build_cdnow_warehouse(workdir / "raw", database, workdir / "target")
    queries = {
        "parameters": "select * from marts.clv_model_parameters",
        "backtest": "select * from marts.clv_backtest order by sort_order",
        "backtest_customers": "select * from marts.clv_backtest_customers",
        "summary": "select * from intermediate.int_customers_summarised_for_backtest",
        "rejected": "select * from audit.rejected_rows",
        "customer_clv": "select * from marts.customer_clv",
        "email": "select * from marts.email_subscriber_ltv",
        "email_subscribers": "select * from marts.email_subscribers",
    }
    with connect_read_only(database) as connection:
        frames = {name: connection.execute(sql).df() for name, sql in queries.items()}
    frames["counts"] = counts
    return frames


def test_every_cdnow_purchase_is_staged(cdnow):
    assert cdnow["counts"]["shop.customers"] == 2357
    assert cdnow["counts"]["shop.orders"] == 6919
    assert cdnow["rejected"].empty
    assert len(cdnow["customer_clv"]) == 2357


def test_the_summary_is_the_published_one(cdnow):
    """Weeks as days / 7, purchases per day: 946 repeaters, 2,457 repeat purchases."""
    summary = cdnow["summary"]
    assert len(summary) == 2357
    assert (summary["x"] > 0).sum() == 946
    assert summary["x"].sum() == 2457
    assert summary["T"].max() == pytest.approx(272 / 7)


@pytest.mark.parametrize(("model", "parameter"), sorted(PUBLISHED))
def test_fitted_parameters_match_the_published_estimates(cdnow, model, parameter):
    fits = cdnow["parameters"].query("fit_role == 'backtest'")
    row = fits.query("model == @model and parameter == @parameter")
    assert len(row) == 1
    assert row["value"].iloc[0] == pytest.approx(PUBLISHED[(model, parameter)], rel=0.01)


def test_published_log_likelihood_and_sample_sizes(cdnow):
    fits = cdnow["parameters"].query("fit_role == 'backtest'")
    bg = fits.query("model == 'bg_nbd'").iloc[0]
    gg = fits.query("model == 'gamma_gamma'").iloc[0]
    assert bg["log_likelihood"] == pytest.approx(-9582.4, abs=0.5)
    assert bg["n_customers"] == 2357
    assert gg["n_customers"] == 946
    # The default clock is seasonal; 39 weeks of calibration are too few for an index,
    # so the fit falls back to the calendar clock (the published model), and says so.
    assert bg["fit_status"] == (
        "converged; calendar (273 days of history, the seasonal index needs 365) clock"
    )


def test_backtest_of_the_39_week_holdout(cdnow):
    backtest = cdnow["backtest"].set_index("calibration_frequency")
    assert backtest.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+", "total"]
    total = backtest.loc["total"]
    assert total["customers"] == 2357
    assert (
        total["actual_purchases"] == cdnow["backtest_customers"]["actual_holdout_purchases"].sum()
    )
    # Measured: 1,653 predicted against 1,882 purchase days. The model
    # under-predicts customers with one or two calibration purchases, as the
    # paper's own conditional-expectation figure shows; the total stays
    # within 15 %, and customers with more calibration purchases buy more.
    assert total["predicted_purchases"] == pytest.approx(total["actual_purchases"], rel=0.15)
    means = backtest.loc[["0", "1", "2", "3", "4", "5", "6", "7+"], "mean_predicted_purchases"]
    assert means.is_monotonic_increasing


def test_marts_without_source_data_are_empty_not_broken(cdnow):
    """CDNOW has no e-mail data: the email marts build, with nothing in them."""
    assert cdnow["email_subscribers"].empty
    assert (cdnow["email"]["subscribers"] == 0).all()
    assert cdnow["email"]["email_revenue"].sum() == 0
