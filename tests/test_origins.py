"""clv.origins: the rolling-origin backtest refits at every month end without look-ahead.

Purchase days are simulated from BG/NBD on a seasonal clock (clv.seasonal), in
the shape of int_purchase_days_aggregated.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from clv import btyd, origins, seasonal

pytestmark = pytest.mark.unit


def _settings(as_of: date = date(2025, 12, 31), minimum: int = 12, holdout: int = 12):
    return origins.OriginSettings("day", 1.0, as_of, minimum, holdout)


@pytest.fixture(scope="module")
def purchase_days() -> pd.DataFrame:
    week = np.arange(seasonal.BINS)
    index = seasonal.SeasonalIndex.normalised(1 + 0.4 * np.isin(week, range(44, 52)))
    return seasonal.simulate_purchase_days(
        4_000, (0.8, 40.0, 0.6, 2.5), index, date(2022, 1, 3), date(2025, 12, 31), seed=3
    )


def test_origins_are_the_month_ends_with_the_history_and_a_full_holdout():
    ends = origins.origin_ends(date(2023, 12, 3), _settings(date(2026, 11, 30)))
    assert len(ends) == 12
    assert ends[0] == (date(2024, 12, 31), date(2025, 12, 31))
    assert ends[-1] == (date(2025, 11, 30), date(2026, 11, 30))
    # A first purchase on the first of a month: twelve whole months before the first origin.
    assert origins.origin_ends(date(2023, 1, 1), _settings(date(2024, 12, 31)))[0][0] == date(
        2023, 12, 31
    )
    assert origins.origin_ends(date(2023, 12, 3), _settings(date(2025, 12, 30))) == []
    short = origins.origin_ends(date(2023, 12, 3), _settings(date(2026, 11, 30), 18, 6))
    assert short[0] == (date(2025, 6, 30), date(2025, 12, 31)) and len(short) == 12


def test_one_row_per_origin_and_clock_with_both_clocks_side_by_side(purchase_days):
    table = origins.origin_table(purchase_days, _settings()).to_pandas()
    assert list(table.columns) == origins.ORIGIN_SCHEMA.names
    assert len(table) == 2 * 24
    clocks = table.groupby("calibration_end")["clock"].apply(lambda c: tuple(sorted(c)))
    assert set(clocks) == {("calendar", "seasonal")}
    # The customers and what they did are the same for both clocks.
    by_clock = table.pivot(index="calibration_end", columns="clock", values="actual_purchases")
    assert (by_clock["calendar"] == by_clock["seasonal"]).all()
    assert table["fit_status"].str.startswith("converged").all()
    assert table["purchases_relative_error"].notna().all()
    calendar = table[table["clock"] == "calendar"]
    assert (calendar["seasonal_index_peak"] == 1).all()


def test_the_calendar_row_is_the_plain_backtest_of_that_origin(purchase_days):
    """Known answer: rebuilt by hand from the purchase days with clv.btyd alone."""
    table = origins.origin_table(purchase_days, _settings()).to_pandas()
    end, stop = pd.Timestamp("2023-06-30"), pd.Timestamp("2024-06-30")
    row = table[(table["calibration_end"] == end.date()) & (table["clock"] == "calendar")].iloc[0]
    dates = pd.to_datetime(purchase_days["purchase_date"])
    calibration = purchase_days[dates <= end].assign(date=dates[dates <= end])
    grouped = calibration.groupby("customer_id")["date"]
    first, last, count = grouped.min(), grouped.max(), grouped.count()
    x = (count - 1).to_numpy(dtype=float)
    t_x = (last - first).dt.days.to_numpy(dtype=float)
    T = (end - first).dt.days.to_numpy(dtype=float)
    fit = btyd.fit_bg_nbd(x, t_x, T)
    predicted = btyd.expected_purchases(fit, float((stop - end).days), x, t_x, T).sum()
    holdout = purchase_days[(dates > end) & (dates <= stop)]
    actual = int(holdout["customer_id"].isin(first.index).sum())
    assert row["customers"] == len(first)
    assert row["actual_purchases"] == actual
    assert row["predicted_purchases"] == pytest.approx(predicted, rel=1e-9)
    assert row["purchases_relative_error"] == pytest.approx(predicted / actual - 1, rel=1e-9)
    assert row["r"] == pytest.approx(fit.r, rel=1e-9)


def test_no_fit_sees_a_purchase_after_its_origin(purchase_days):
    """Replacing everything after an origin changes its actuals, never its fits."""
    origin = date(2023, 9, 30)
    dates = pd.to_datetime(purchase_days["purchase_date"])
    before = purchase_days[dates <= pd.Timestamp(origin)]
    rng = np.random.default_rng(9)
    invented = pd.DataFrame(
        {
            "customer_id": rng.integers(1, 4_001, 30_000),
            "purchase_date": np.datetime64("2023-10-01", "D") + rng.integers(0, 800, 30_000),
            "revenue": rng.gamma(2.0, 50.0, 30_000),
            "margin": rng.gamma(2.0, 20.0, 30_000),
        }
    ).drop_duplicates(["customer_id", "purchase_date"])
    settings = _settings(date(2024, 9, 30))
    honest = origins.origin_table(purchase_days, settings).to_pandas()
    altered = origins.origin_table(pd.concat([before, invented]), settings).to_pandas()

    def at_origin(table: pd.DataFrame) -> pd.DataFrame:
        return table[table["calibration_end"] == origin].set_index("clock")

    fitted = ["r", "alpha", "a", "b", "p", "q", "gamma", "log_likelihood", "customers"]
    fitted += ["predicted_purchases", "predicted_spend", "seasonal_index_peak"]
    pd.testing.assert_frame_equal(at_origin(honest)[fitted], at_origin(altered)[fitted])
    assert (at_origin(honest)["actual_purchases"] != at_origin(altered)["actual_purchases"]).all()


def test_an_origin_that_cannot_be_fitted_is_reported_not_raised():
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 3],
            "purchase_date": pd.to_datetime(
                ["2023-01-05", "2023-02-01", "2023-03-01", "2024-06-01"]
            ),
            "revenue": [10.0, 20.0, 30.0, 40.0],
            "margin": [4.0, 8.0, 12.0, 16.0],
        }
    )
    table = origins.origin_table(frame, _settings(date(2025, 2, 28))).to_pandas()
    assert len(table) == 4
    assert table["fit_status"].str.startswith("failed: BG/NBD needs at least 2 customers").all()
    assert table["predicted_purchases"].isna().all()
    assert table["calibration_end"].unique().tolist() == [date(2024, 1, 31), date(2024, 2, 29)]
    assert table["actual_purchases"].eq(1).all()


def test_empty_purchases_give_an_empty_table_and_bad_settings_an_error():
    empty = pd.DataFrame(columns=["customer_id", "purchase_date", "revenue", "margin"])
    assert origins.origin_table(empty, _settings()).num_rows == 0
    frame = pd.DataFrame(
        {
            "time_unit": ["week"],
            "time_unit_days": [7],
            "prediction_calibration_end": [date(2025, 12, 31)],
            "backtest_min_calibration_months": [0],
            "backtest_holdout_months": [12],
        }
    )
    with pytest.raises(origins.UserError, match="backtest_min_calibration_months must be"):
        origins.OriginSettings.from_frame(frame)


def test_threads_give_the_same_table_as_one_thread(purchase_days):
    """Origins are fitted in a thread pool; the table does not depend on how many."""
    one = origins.origin_table(purchase_days, _settings(), workers=1)
    four = origins.origin_table(purchase_days, _settings(), workers=4)
    assert one.num_rows > 2
    assert four.equals(one)
