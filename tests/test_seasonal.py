"""clv.seasonal: the week-of-year clock, and BG/NBD fitted on it recovers a known seasonal process.

The known process: BG/NBD (r, α, a, b) on the seasonal clock of a known index
(a summer dip, a December peak and a Black-Friday fortnight), simulated by
clv.seasonal.simulate_seasonal_purchases. The estimator sees only the purchase
days up to a calibration end and must recover the index, the parameters and
the next year's purchases; the calendar clock, on the same data, misses them.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from clv import btyd, seasonal

pytestmark = pytest.mark.unit

TRUE_PARAMS = (0.8, 40.0, 0.6, 2.5)  # r, alpha (seasonal days), a, b
START, END = date(2022, 1, 1), date(2025, 12, 31)


def _day(value: date) -> int:
    return (value - date(1970, 1, 1)).days


@pytest.fixture(scope="module")
def true_index() -> seasonal.SeasonalIndex:
    week = np.arange(seasonal.BINS)
    shape = 1 + 0.3 * np.cos(2 * np.pi * (week - 50) / 52) + 0.8 * np.isin(week, [46, 47])
    return seasonal.SeasonalIndex.normalised(shape)


@pytest.fixture(scope="module")
def purchases(true_index):
    """20,000 customers acquired in 2022; (first day, repeat owner, repeat day), deduplicated."""
    first, owner, day = seasonal.simulate_seasonal_purchases(
        20_000, TRUE_PARAMS, true_index, START, END, seed=11
    )
    # One purchase per customer and day, as the warehouse counts them.
    pairs = np.unique(np.stack([owner, day]), axis=1)
    owner, day = pairs[0], pairs[1]
    later = day > first[owner]
    return first, owner[later], day[later]


def _summary(purchases, calibration_end: date):
    first, owner, day = purchases
    end = _day(calibration_end)
    kept = day <= end
    x = np.bincount(owner[kept], minlength=len(first)).astype(float)
    last = first.copy()
    np.maximum.at(last, owner[kept], day[kept])
    return first, last, x, day[kept], end


def _holdout(purchases, calibration_end: date, days: int) -> int:
    _, _, day = purchases
    end = _day(calibration_end)
    return int(np.count_nonzero((day > end) & (day <= end + days)))


def test_week_of_year_bins_seven_days_and_the_last_holds_the_rest():
    days = [date(2023, 1, 1), date(2023, 1, 7), date(2023, 1, 8), date(2023, 12, 23)]
    days += [date(2023, 12, 24), date(2023, 12, 31), date(2024, 12, 31)]
    assert seasonal.week_of_year(np.array(days, dtype="datetime64[D]")).tolist() == [
        0, 0, 1, 50, 51, 51, 51,
    ]  # fmt: skip


def test_a_year_has_as_many_seasonal_days_as_calendar_days(true_index):
    flat = seasonal.SeasonalIndex.flat()
    assert flat.elapsed(_day(date(2023, 3, 4)), _day(date(2024, 3, 4))) == 366.0
    # Over the 400-year Gregorian cycle the mean year is 365.2425 seasonal days.
    cycle = true_index.elapsed(_day(date(1999, 12, 31)), _day(date(2399, 12, 31)))
    assert cycle / 400 == pytest.approx(365.2425, rel=1e-12)
    # A season shifts time inside the year: the December days weigh more.
    december = true_index.elapsed(_day(date(2023, 11, 30)), _day(date(2023, 12, 31)))
    july = true_index.elapsed(_day(date(2023, 6, 30)), _day(date(2023, 7, 31)))
    assert december > 31 > july
    assert true_index.elapsed(10, 5) == -true_index.elapsed(5, 10)


@pytest.mark.parametrize("calibration_end", [date(2023, 6, 30), date(2023, 12, 31)])
def test_the_known_index_parameters_and_holdout_are_recovered(
    purchases, true_index, calibration_end
):
    first, last, x, repeats, end = _summary(purchases, calibration_end)
    fit = seasonal.fit_seasonal_bg_nbd(first, last, x, repeats, end)
    assert fit.status == "seasonal"
    estimated = fit.index.factors
    assert np.corrcoef(estimated, true_index.factors)[0, 1] > 0.97
    # The Black-Friday fortnight is the peak, the summer the trough.
    assert int(np.argmax(estimated)) in (45, 46, 47, 48)
    assert 20 <= int(np.argmin(estimated)) <= 32
    for name, value in zip(("r", "alpha", "a", "b"), TRUE_PARAMS, strict=True):
        assert fit.bg_nbd.as_dict()[name] == pytest.approx(value, rel=0.1), name
    # The next 365 days: seasonal within 3 %, the calendar clock off by more than 7 %.
    actual = _holdout(purchases, calibration_end, 365)
    horizon = fit.index.elapsed(end, end + 365)
    t_x, T = fit.index.elapsed(first, last), fit.index.elapsed(first, end)
    predicted = btyd.expected_purchases(fit.bg_nbd, horizon, x, t_x, T).sum()
    assert abs(predicted / actual - 1) < 0.03
    calendar = btyd.fit_bg_nbd(x, (last - first).astype(float), (end - first).astype(float))
    calendar_predicted = btyd.expected_purchases(
        calendar, 365.0, x, (last - first).astype(float), (end - first).astype(float)
    ).sum()
    assert abs(calendar_predicted / actual - 1) > 0.07


def test_a_flat_process_gives_a_flat_index(purchases):
    first, owner, day = seasonal.simulate_seasonal_purchases(
        20_000, TRUE_PARAMS, seasonal.SeasonalIndex.flat(), START, END, seed=5
    )
    pairs = np.unique(np.stack([owner, day]), axis=1)
    later = pairs[1] > first[pairs[0]]
    first_, last, x, repeats, end = _summary((first, pairs[0][later], pairs[1][later]), END)
    fit = seasonal.fit_seasonal_bg_nbd(first_, last, x, repeats, end)
    assert np.max(np.abs(fit.index.factors - 1)) < 0.1


def test_time_unit_weeks_scales_alpha_only(purchases):
    first, last, x, repeats, end = _summary(purchases, date(2023, 12, 31))
    in_days = seasonal.fit_seasonal_bg_nbd(first, last, x, repeats, end)
    in_weeks = seasonal.fit_seasonal_bg_nbd(first, last, x, repeats, end, time_unit_days=7.0)
    assert in_weeks.bg_nbd.alpha * 7 == pytest.approx(in_days.bg_nbd.alpha, rel=1e-4)
    assert in_weeks.bg_nbd.r == pytest.approx(in_days.bg_nbd.r, rel=1e-4)
    np.testing.assert_allclose(in_weeks.index.factors, in_days.index.factors, rtol=1e-4)


def test_too_little_history_falls_back_to_the_calendar_clock(purchases):
    first, owner, day = purchases
    end = _day(date(2022, 9, 30))
    young = np.flatnonzero(first <= end)
    first_, last, x, repeats, end = _summary(purchases, date(2022, 9, 30))
    fit = seasonal.fit_seasonal_bg_nbd(first_[young], last[young], x[young], repeats, end)
    assert fit.status.startswith("calendar (")
    assert "days of history, the seasonal index needs 365" in fit.status
    assert fit.index.is_flat
    calendar = btyd.fit_bg_nbd(
        x[young], (last - first_)[young].astype(float), (end - first_[young]).astype(float)
    )
    assert fit.bg_nbd == calendar


def test_too_few_repeat_purchases_falls_back_to_the_calendar_clock(purchases):
    first, last, x, repeats, end = _summary(purchases, date(2023, 12, 31))
    few = np.flatnonzero(x > 0)[:60]
    fit = seasonal.fit_seasonal_bg_nbd(
        first[few], last[few], x[few], np.repeat(last[few], x[few].astype(int)), end
    )
    assert fit.status.startswith("calendar (") and "repeat purchases" in fit.status


def test_bad_input_is_refused_with_what_is_wrong(purchases):
    first, last, x, repeats, end = _summary(purchases, date(2023, 12, 31))
    with pytest.raises(btyd.InvalidInputError, match="every repeat purchase"):
        seasonal.fit_seasonal_bg_nbd(first, last, x, repeats[:-1], end)
    with pytest.raises(btyd.InvalidInputError, match="after the calibration end"):
        seasonal.fit_seasonal_bg_nbd(first, last, x, repeats, end - 30)
    with pytest.raises(btyd.InvalidInputError, match="52 positive factors"):
        seasonal.SeasonalIndex.normalised(np.ones(12))
