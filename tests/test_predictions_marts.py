"""The probabilistic CLV marts on the simulated warehouse.

Read read-only from the session's ``warehouse`` (the whole project built on
simulated data). The dbt Python models of models/intermediate/predictions fit
and score; the marts publish their tables with enforced contracts, so dbt
checks their column names and types. The column order the YAML documents is
checked here.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from clv import btyd, origins, predictions
from clv.warehouse import connect_read_only

pytestmark = pytest.mark.integration

PREDICTION_MARTS = (
    "clv_model_parameters",
    "customer_clv_predictions",
    "clv_backtest_customers",
    "clv_backtest_by_origin",
)

#: The YAML's portable type names as DuckDB reports them.
DUCKDB_TYPES = {
    "varchar": "VARCHAR",
    "double precision": "DOUBLE",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


@pytest.fixture(scope="module")
def tables(warehouse) -> dict[str, pd.DataFrame]:
    queries = {
        "parameters": "select * from marts.clv_model_parameters",
        "predictions": "select * from marts.customer_clv_predictions",
        "backtest_customers": "select * from marts.clv_backtest_customers",
        "backtest": "select * from marts.clv_backtest order by sort_order",
        "customer_clv": "select * from marts.customer_clv",
        "summary": "select * from intermediate.int_customers_summarised_for_prediction",
        "settings": "select * from intermediate.clv_model_settings",
        "origins": "select * from marts.clv_backtest_by_origin order by calibration_end, clock",
    }
    with connect_read_only(warehouse.database) as connection:
        frames = {name: connection.execute(sql).df() for name, sql in queries.items()}
        frames["types"] = connection.execute(
            "select table_name, column_name, data_type from information_schema.columns"
            " where table_schema = 'marts'"
        ).df()
    return frames


def documented_columns(warehouse) -> dict[str, list[tuple[str, str]]]:
    """Each mart's YAML columns and data types, as dbt rendered them for DuckDB (the manifest)."""
    nodes = json.loads((warehouse.target_path / "manifest.json").read_text())["nodes"]
    return {
        node["name"]: [(c["name"], c["data_type"]) for c in node["columns"].values()]
        for node in nodes.values()
        if node["resource_type"] == "model" and node["name"] in PREDICTION_MARTS
    }


@pytest.mark.parametrize("model", PREDICTION_MARTS)
def test_prediction_marts_have_the_documented_columns_in_order(tables, warehouse, model):
    built = tables["types"].query("table_name == @model")
    actual = list(zip(built["column_name"], built["data_type"], strict=True))
    expected = [(name, DUCKDB_TYPES[kind]) for name, kind in documented_columns(warehouse)[model]]
    assert actual == expected


def test_both_fits_converged_on_the_simulated_shop(tables):
    everything = tables["parameters"]
    # Per fit role: 4 + 3 parameters and the 52 weekly factors of the clock.
    assert len(everything) == 2 * (7 + 52)
    index = everything.query("model == 'seasonal_index'")
    parameters = everything.query("model != 'seasonal_index'")
    assert (parameters.query("model == 'gamma_gamma'")["fit_status"] == "converged").all()
    # The default clock is seasonal; the backtest's calibration is the shop's first year
    # (none of its customers is a year old), too short for an index: it falls back.
    status = everything.query("model != 'gamma_gamma'").groupby("fit_role")["fit_status"]
    assert set(status.unique()["prediction"]) == {"converged; seasonal clock"}
    (backtest_status,) = status.unique()["backtest"]
    assert backtest_status.startswith("converged; calendar (")
    assert "days of history" in backtest_status
    assert (index.query("fit_role == 'backtest'")["value"] == 1).all()
    assert index.query("fit_role == 'prediction'")["value"].std() > 0.05
    assert (everything["value"] > 0).all()
    # Every parameter pinned down: a standard error, below its estimate.
    assert parameters["standard_error"].notna().all()
    assert (parameters["standard_error"] > 0).all()
    assert (parameters["standard_error"] < parameters["value"]).all()
    settings = tables["settings"].iloc[0]
    prediction = parameters.query("fit_role == 'prediction'")
    assert (
        pd.to_datetime(prediction["calibration_end"]) == settings["prediction_calibration_end"]
    ).all()
    assert prediction.query("model == 'bg_nbd'")["n_customers"].iloc[0] == len(tables["summary"])


def test_predictions_cover_every_modelled_customer_and_reach_customer_clv(tables):
    predictions_ = tables["predictions"]
    assert len(predictions_) == len(tables["summary"]) > 1000
    assert predictions_["probability_alive"].between(0, 1).all()
    # One-time buyers are alive with probability 1 under BG/NBD.
    assert (predictions_.query("x == 0")["probability_alive"] == 1).all()
    assert (predictions_["predicted_purchases_12m"] >= 0).all()
    assert (predictions_["predicted_clv_horizon"] >= predictions_["predicted_clv_12m"] - 1e-9).all()
    merged = tables["customer_clv"].merge(predictions_, on="customer_id", suffixes=("", "_p"))
    assert len(merged) == len(predictions_)
    for column in ("probability_alive", "predicted_purchases_12m", "predicted_clv_12m"):
        assert np.allclose(merged[column], merged[f"{column}_p"])


def test_predictions_recompute_from_the_parameters(tables):
    """The mart equals clv.btyd applied to the fitted parameters and the summary, on the clock."""
    settings = predictions.Settings.from_frame(tables["settings"])
    assert settings.clock == "seasonal"
    bg, gg = predictions.fits_from_parameters(tables["parameters"], "prediction")
    index = predictions.index_from_parameters(tables["parameters"], "prediction")
    sample = tables["predictions"].sample(200, random_state=1)
    dates = tables["summary"].set_index("customer_id").loc[sample["customer_id"]]
    first, last = (
        pd.to_datetime(dates[c]).to_numpy().astype("datetime64[D]")
        for c in ("first_purchase_date", "last_purchase_date")
    )
    end = np.datetime64(settings.prediction_calibration_end, "D")
    unit = settings.time_unit_days
    x = sample["x"].to_numpy()
    t_x, T = index.elapsed(first, last) / unit, index.elapsed(first, end) / unit
    t = index.elapsed(end, end + round(12 * predictions.DAYS_PER_MONTH)) / unit
    assert np.allclose(btyd.probability_alive(bg, x, t_x, T), sample["probability_alive"])
    assert np.allclose(btyd.expected_purchases(bg, t, x, t_x, T), sample["predicted_purchases_12m"])
    assert gg is not None


def test_customers_who_buy_more_and_recently_are_predicted_to_buy_more(tables):
    p = tables["predictions"]
    frequent = p.query("x >= 3")["predicted_purchases_12m"].mean()
    once = p.query("x == 0")["predicted_purchases_12m"].mean()
    assert frequent > 2 * once


def test_backtest_totals_add_up_and_predict_the_holdout(tables):
    customers, backtest = tables["backtest_customers"], tables["backtest"]
    assert backtest["calibration_frequency"].tolist()[-1] == "total"
    total = backtest.iloc[-1]
    groups = backtest.iloc[:-1]
    assert total["customers"] == groups["customers"].sum() == len(customers)
    assert total["actual_purchases"] == customers["actual_holdout_purchases"].sum()
    assert np.isclose(total["predicted_purchases"], customers["predicted_holdout_purchases"].sum())
    assert np.isclose(groups["share_of_total_error"].sum(), 1.0)
    # A sanity bound, not an accuracy claim: this fixture's calibration year is
    # the shop's first (548 customers, none older than a year), so dropout is
    # poorly identified and the model over-predicts (measured: 719 against
    # 553, 1.30; the seasonal clock falls back to the calendar one there). On
    # CDNOW 1,653 against 1,882 (tests/test_cdnow.py).
    ratio = total["predicted_purchases"] / total["actual_purchases"]
    assert 0.7 < ratio < 1.4, ratio


def test_the_rolling_origin_backtest_has_exactly_the_origins_the_history_allows(tables):
    """The session's two years leave no origin with 12 + 12 months: the mart is empty, not wrong.

    tests/test_origins_build.py builds it with shorter windows and checks its rows.
    """
    settings = origins.OriginSettings.from_frame(tables["settings"])
    first = pd.to_datetime(tables["summary"]["first_purchase_date"]).min().date()
    assert origins.origin_ends(first, settings) == []
    assert tables["origins"].empty
