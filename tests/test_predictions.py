"""clv.predictions: the tables the dbt Python models return, without a database.

Plus the fallback end to end: the tiny warehouse has too few orders to fit
BG/NBD, and is built with ``clv_fit_failure: warn``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from clv import btyd, origins, predictions, seasonal
from clv.warehouse import connect_read_only


def settings(on_fit_failure: str = "error", clock: str = "calendar") -> predictions.Settings:
    return predictions.Settings(
        time_unit="week",
        time_unit_days=7.0,
        prediction_calibration_end=date(2024, 12, 31),
        backtest_calibration_end=date(2023, 12, 31),
        backtest_holdout_end=date(2024, 12, 31),
        backtest_holdout_length=366 / 7,
        prediction_months=12,
        horizon_months=60,
        annual_discount_rate=0.10,
        on_fit_failure=on_fit_failure,
        clock=clock,
    )


def summary_frame(n: int = 4000, seed: int = 7) -> pd.DataFrame:
    """A BG/NBD summary with spend: repeaters' mean spend around 50, margin 40 %."""
    x, t_x, T = btyd.simulate_bg_nbd_summary(
        n, 0.25, 4.0, 0.8, 2.5, np.linspace(1, 104, n), seed, time_step=1 / 7
    )
    rng = np.random.default_rng(seed)
    spend = np.where(x > 0, rng.gamma(6.0, 50.0 / 6.0, n), np.nan)
    revenue = np.nan_to_num(spend) * x + rng.gamma(6.0, 50.0 / 6.0, n)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "x": x.astype(np.int64),
            "t_x": t_x,
            "T": T,
            "mean_repeat_spend": spend,
            "calibration_revenue": revenue,
            "calibration_margin": 0.4 * revenue,
            "actual_holdout_purchases": rng.poisson(1.0, n),
            "actual_holdout_spend": rng.gamma(2.0, 25.0, n),
        }
    )


def too_small_frame() -> pd.DataFrame:
    frame = summary_frame(3).iloc[:3].copy()
    frame["x"] = [0, 0, 1]
    frame["t_x"] = [0.0, 0.0, 1.0]
    frame["T"] = [5.0, 5.0, 5.0]
    frame["mean_repeat_spend"] = [np.nan, np.nan, 20.0]
    return frame


@pytest.mark.unit
def test_parameter_table_has_both_models_for_each_role():
    frame = summary_frame()
    table = predictions.parameter_table(
        {"prediction": frame, "backtest": frame}, settings()
    ).to_pandas()
    # 4 + 3 parameters and the 52 weeks of the (flat) seasonal index, per role.
    assert len(table) == 2 * (7 + 52)
    assert set(table["fit_status"]) == {"converged", "converged; calendar clock"}
    models = table.groupby("model")["parameter"].apply(set)
    assert models["bg_nbd"] == {"r", "alpha", "a", "b"}
    assert models["gamma_gamma"] == {"p", "q", "gamma"}
    assert models["seasonal_index"] == set(predictions.INDEX_PARAMETERS)
    assert (table.query("model == 'seasonal_index'")["value"] == 1.0).all()
    bg = table.query("fit_role == 'backtest' and model == 'bg_nbd'")
    assert pd.Timestamp(bg["calibration_end"].iloc[0]).date() == date(2023, 12, 31)
    # The simulated parameters are recovered (4,000 customers: within 25 %).
    fitted = dict(zip(bg["parameter"], bg["value"], strict=True))
    for name, true in {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}.items():
        assert fitted[name] == pytest.approx(true, rel=0.25), name


@pytest.mark.unit
def test_parameter_table_has_a_standard_error_per_parameter():
    frame = summary_frame()
    table = predictions.parameter_table({"prediction": frame}, settings())
    assert table.schema == predictions.PARAMETER_SCHEMA
    result = table.to_pandas().query("model != 'seasonal_index'")
    errors = result["standard_error"]
    assert np.isfinite(errors).all() and (errors > 0).all()
    assert (errors < result["value"]).all()  # 4,000 customers pin every parameter down
    bg, gg = predictions.fits_from_parameters(result, "prediction")
    x, t_x, T = frame["x"], frame["t_x"], frame["T"]
    expected = {
        **btyd.bg_nbd_standard_errors(bg, x, t_x, T),
        **btyd.gamma_gamma_standard_errors(gg, x, frame["mean_repeat_spend"].fillna(0)),
    }
    for name, error in zip(result["parameter"], errors, strict=True):
        assert error == pytest.approx(expected[name], rel=1e-4), name


@pytest.mark.unit
def test_prediction_table_matches_its_schema_and_the_numerics():
    frame = summary_frame()
    parameters = predictions.parameter_table({"prediction": frame}, settings()).to_pandas()
    table = predictions.prediction_table(frame, parameters, settings())
    assert table.schema == predictions.PREDICTION_SCHEMA
    result = table.to_pandas()
    assert result.notna().all().all()
    bg, gg = predictions.fits_from_parameters(parameters, "prediction")
    x, t_x, T = frame["x"], frame["t_x"], frame["T"]
    assert np.allclose(result["probability_alive"], btyd.probability_alive(bg, x, t_x, T))
    margin = result["expected_average_spend"] * 0.4
    assert np.allclose(result["expected_average_margin"], margin)
    expected_12m = btyd.discounted_expected_value(
        bg, x, t_x, T, margin, months=12, annual_discount_rate=0.10, time_unit_days=7.0
    )
    assert np.allclose(result["predicted_clv_12m"], expected_12m)
    assert (result["predicted_clv_horizon"] > result["predicted_clv_12m"]).all()


@pytest.mark.unit
def test_backtest_table_multiplies_purchases_by_expected_spend():
    frame = summary_frame()
    parameters = predictions.parameter_table({"backtest": frame}, settings()).to_pandas()
    result = predictions.backtest_table(frame, parameters, settings()).to_pandas()
    bg, gg = predictions.fits_from_parameters(parameters, "backtest")
    purchases = btyd.expected_purchases(bg, 366 / 7, frame["x"], frame["t_x"], frame["T"])
    spend = btyd.expected_average_value(gg, frame["x"], frame["mean_repeat_spend"].fillna(0))
    assert np.allclose(result["predicted_holdout_purchases"], purchases)
    assert np.allclose(result["predicted_holdout_spend"], purchases * spend)
    assert (result["actual_holdout_purchases"] == frame["actual_holdout_purchases"]).all()


@pytest.mark.unit
def test_a_failed_fit_is_an_error_naming_the_model_and_the_cause():
    with pytest.raises(btyd.FitError, match=r"bg_nbd fit on the prediction summary failed"):
        predictions.parameter_table({"prediction": too_small_frame()}, settings("error"))


@pytest.mark.unit
def test_a_failed_fit_with_warn_leaves_null_predictions_and_says_why(capsys):
    frame = too_small_frame()
    table = predictions.parameter_table({"prediction": frame}, settings("warn"))
    assert table.column("standard_error").null_count == len(table)  # null, not NaN
    parameters = table.to_pandas()
    assert "predictions left null" in capsys.readouterr().err
    assert parameters["value"].isna().all()
    assert parameters["fit_status"].str.startswith("failed: ").all()
    result = predictions.prediction_table(frame, parameters, settings("warn")).to_pandas()
    assert len(result) == 3
    assert result["probability_alive"].isna().all()
    assert result["predicted_clv_12m"].isna().all()


@pytest.mark.integration
def test_the_tiny_warehouse_builds_with_null_predictions(tiny_warehouse):
    with connect_read_only(tiny_warehouse.database) as connection:
        statuses = connection.execute(
            "select distinct fit_status from marts.clv_model_parameters"
        ).fetchall()
        predicted = connection.execute(
            "select count(*), count(probability_alive) from marts.customer_clv"
        ).fetchone()
    assert all(status.startswith("failed: ") for (status,) in statuses)
    assert predicted[0] > 0
    assert predicted[1] == 0


@pytest.mark.unit
def test_a_parameter_at_its_bound_is_flagged_in_fit_status():
    """Everyone bought right at the calibration end: nothing shows dropout."""
    rng = np.random.default_rng(1)
    frame = summary_frame(500)
    T = rng.uniform(20, 100, 500)
    frame["T"] = T
    frame["x"] = rng.poisson(T * 0.2)
    frame["t_x"] = np.where(frame["x"] > 0, T, 0.0)
    frame["mean_repeat_spend"] = np.where(frame["x"] > 0, rng.gamma(6.0, 8.0, 500), np.nan)
    arrow = predictions.parameter_table({"prediction": frame}, settings())
    table = arrow.to_pandas()
    bg = table.query("model == 'bg_nbd'")
    assert bg["fit_status"].str.startswith("converged; BG/NBD parameter").all()
    assert "the data do not identify it" in bg["fit_status"].iloc[0]
    # A parameter at its bound has no standard error: null (not NaN) in its row.
    at_bound = bg["fit_status"].iloc[0].split("BG/NBD parameter ")[1].split()[0]
    row = table.index[(table["model"] == "bg_nbd") & (table["parameter"] == at_bound)][0]
    assert not arrow.column("standard_error").is_valid()[row].as_py()
    # Usable: the predictions are still made from it.
    result = predictions.prediction_table(frame, table, settings()).to_pandas()
    assert result["probability_alive"].notna().all()


# ------------------------------------------------------------ the seasonal clock


@pytest.fixture(scope="module")
def seasonal_shop() -> pd.DataFrame:
    """Purchase days (int_purchase_days_aggregated's shape) of a seasonal BG/NBD shop, 2021-2024."""
    week = np.arange(seasonal.BINS)
    shape = 1 + 0.3 * np.cos(2 * np.pi * (week - 50) / 52) + 0.8 * np.isin(week, [46, 47])
    return seasonal.simulate_purchase_days(
        6_000,
        (0.8, 40.0, 0.6, 2.5),
        seasonal.SeasonalIndex.normalised(shape),
        date(2021, 1, 1),
        date(2024, 12, 31),
        seed=21,
    )


def summarised(purchase_days: pd.DataFrame, end: date, holdout_end: date) -> pd.DataFrame:
    """What int_customers_summarised_for_backtest builds, in weeks, from the purchase days."""
    dates = pd.to_datetime(purchase_days["purchase_date"])
    calibration = purchase_days[dates <= pd.Timestamp(end)].assign(date=dates)
    grouped = calibration.sort_values("date").groupby("customer_id")
    first, last = grouped["date"].min(), grouped["date"].max()
    x = grouped["date"].count() - 1
    repeat_revenue = grouped["revenue"].sum() - grouped["revenue"].first()
    holdout = purchase_days[(dates > pd.Timestamp(end)) & (dates <= pd.Timestamp(holdout_end))]
    actual = holdout.groupby("customer_id")["revenue"].agg(["count", "sum"])
    summary = pd.DataFrame(
        {
            "customer_id": first.index,
            "first_purchase_date": first.dt.date.to_numpy(),
            "last_purchase_date": last.dt.date.to_numpy(),
            "x": x.to_numpy(),
            "t_x": (last - first).dt.days.to_numpy() / 7,
            "T": (pd.Timestamp(end) - first).dt.days.to_numpy() / 7,
            "mean_repeat_spend": (repeat_revenue / x.where(x > 0)).to_numpy(),
            "calibration_revenue": grouped["revenue"].sum().to_numpy(),
            "calibration_margin": grouped["margin"].sum().to_numpy(),
        }
    )
    summary["actual_holdout_purchases"] = (
        summary["customer_id"].map(actual["count"]).fillna(0).astype(np.int64)
    )
    summary["actual_holdout_spend"] = summary["customer_id"].map(actual["sum"]).fillna(0.0)
    return summary


@pytest.mark.unit
def test_the_seasonal_clock_fits_an_index_and_says_so(seasonal_shop):
    backtest = summarised(seasonal_shop, date(2023, 12, 31), date(2024, 12, 31))
    table = predictions.parameter_table(
        {"backtest": backtest}, settings(clock="seasonal"), purchase_days=seasonal_shop
    ).to_pandas()
    bg = table.query("model == 'bg_nbd'")
    assert set(bg["fit_status"]) == {"converged; seasonal clock"}
    index = predictions.index_from_parameters(table, "backtest")
    assert not index.is_flat
    assert int(np.argmax(index.factors)) in (45, 46, 47, 48)
    with pytest.raises(predictions.UserError, match="seasonal clock needs the purchase days"):
        predictions.parameter_table({"backtest": backtest}, settings(clock="seasonal"))


@pytest.mark.unit
def test_the_seasonal_backtest_equals_the_rolling_origin_row_of_its_origin(seasonal_shop):
    """clv_backtest and clv_backtest_by_origin agree where they meet (2023-12-31 → 2024-12-31)."""
    chosen = settings(clock="seasonal")
    backtest = summarised(seasonal_shop, date(2023, 12, 31), date(2024, 12, 31))
    parameters = predictions.parameter_table(
        {"backtest": backtest}, chosen, purchase_days=seasonal_shop
    ).to_pandas()
    result = predictions.backtest_table(backtest, parameters, chosen).to_pandas()
    rows = origins.origin_table(
        seasonal_shop, origins.OriginSettings("week", 7.0, date(2024, 12, 31), 36, 12)
    ).to_pandas()
    assert rows["calibration_end"].tolist() == [date(2023, 12, 31)] * 2
    by_clock = rows.set_index("clock")
    assert result["predicted_holdout_purchases"].sum() == pytest.approx(
        by_clock.loc["seasonal", "predicted_purchases"], rel=1e-9
    )
    assert result["actual_holdout_purchases"].sum() == by_clock.loc["seasonal", "actual_purchases"]
    # And the calendar clock's backtest is the by-origin table's calendar row.
    calendar = settings(clock="calendar")
    flat = predictions.parameter_table({"backtest": backtest}, calendar).to_pandas()
    plain = predictions.backtest_table(backtest, flat, calendar).to_pandas()
    # settings() has a 366-day holdout, as the by-origin table's 2024 holdout.
    assert plain["predicted_holdout_purchases"].sum() == pytest.approx(
        by_clock.loc["calendar", "predicted_purchases"], rel=1e-9
    )
    # On this seasonal shop the seasonal clock is the closer of the two.
    errors = by_clock["purchases_relative_error"].abs()
    assert errors["seasonal"] < 0.03 < errors["calendar"]


@pytest.mark.unit
def test_seasonal_predictions_are_measured_on_the_seasonal_clock(seasonal_shop):
    chosen = settings(clock="seasonal")
    summary = summarised(seasonal_shop, date(2024, 12, 31), date(2024, 12, 31))
    parameters = predictions.parameter_table(
        {"prediction": summary}, chosen, purchase_days=seasonal_shop
    ).to_pandas()
    result = predictions.prediction_table(summary, parameters, chosen).to_pandas()
    bg, _ = predictions.fits_from_parameters(parameters, "prediction")
    index = predictions.index_from_parameters(parameters, "prediction")
    first = pd.to_datetime(summary["first_purchase_date"]).to_numpy().astype("datetime64[D]")
    last = pd.to_datetime(summary["last_purchase_date"]).to_numpy().astype("datetime64[D]")
    end = np.datetime64("2024-12-31", "D")
    t_x, T = index.elapsed(first, last) / 7, index.elapsed(first, end) / 7
    horizon = index.elapsed(end, end + 365) / 7  # 12 × 30.4375 days, rounded: 365
    expected = btyd.expected_purchases(bg, horizon, summary["x"], t_x, T)
    np.testing.assert_allclose(result["predicted_purchases_12m"], expected, rtol=1e-12)
    np.testing.assert_allclose(
        result["probability_alive"], btyd.probability_alive(bg, summary["x"], t_x, T), rtol=1e-12
    )
    # The published summary stays the calendar one.
    np.testing.assert_allclose(result["T"], summary["T"], rtol=0)
    assert (result["predicted_clv_12m"] <= result["predicted_clv_horizon"]).all()
