"""BG/NBD in seasonal time: a week-of-year purchase index and the clock it defines.

Pure numerics beside :mod:`clv.btyd`, no I/O; tested in ``tests/test_seasonal.py``.

Retail buying is seasonal and plain BG/NBD assumes it is not. In BG/NBD a customer
drops out only at a purchase, so a purchase rate multiplied by a seasonal factor,
λ·s(t), is exactly a change of clock: with the seasonal time

    τ(d) = Σ_{u ≤ d} s(u)      (d a day; τ counts "seasonal days")

purchases form a Poisson(λ) process in τ and every BG/NBD formula holds with
t_x, T and the prediction horizon measured in τ instead of calendar days (Fader &
Hardie describe this time-varying-rate form in their note on covariates in the
BG/NBD model). The factor s is one per week of the year (:data:`BINS` bins of 7
days; the last holds the year's last 8 or 9 days), normalised so that a year has
as many seasonal days as calendar days: a 12-month horizon stays 12 months long.

**Estimating the index** (:func:`fit_seasonal_bg_nbd`) uses the calibration data
only. Starting from s = 1, it alternates two steps until the index settles:

1. fit BG/NBD (:func:`clv.btyd.fit_bg_nbd`) on the summaries in seasonal time;
2. for every period (a week-of-year bin of one year) compare the repeat
   purchases observed with those the fitted model expects of the customers
   acquired so far (each first-purchase day's cohort times the unconditional
   BG/NBD mean E[X(t)] = E[Y(t) | x = 0, T = 0] over the period in τ), and scale
   each bin's factor by observed / expected summed over the years; smooth the
   factors over neighbouring weeks (weights 1/4, 1/2, 1/4, circularly) and
   normalise them.

The expected counts carry the shop's growth and the dropout of its customers, so
the ratio isolates the season: no moving average is needed, and one full year of
history is enough. With less than :data:`MIN_HISTORY_DAYS` of history, or a bin
with fewer than :data:`MIN_BIN_PURCHASES` repeat purchases, there is too little to
estimate and the fit falls back to the calendar clock (s = 1), saying why.
Gamma-Gamma does not involve time and is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from clv import btyd

__all__ = [
    "BINS",
    "MIN_REPEAT_PURCHASES",
    "PRIOR_PURCHASES",
    "MIN_HISTORY_DAYS",
    "SeasonalFit",
    "SeasonalIndex",
    "day_numbers",
    "fit_seasonal_bg_nbd",
    "simulate_purchase_days",
    "simulate_seasonal_purchases",
    "week_of_year",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Week-of-year bins: day of year // 7, the year's days 358 to 366 in the last.
BINS = 52
#: Calendar days per bin in an average year (the last bin has 8.2425).
BIN_DAYS = np.array([7.0] * (BINS - 1) + [365.2425 - 7.0 * (BINS - 1)])
#: History (first purchase in the data to the calibration end) needed to estimate the index.
MIN_HISTORY_DAYS = 365
#: Repeat purchases the calibration history needs in all.
MIN_REPEAT_PURCHASES = 500
#: Pseudo-purchases that pull a week's factor towards its current value: a week
#: with few purchases moves little (observed + k) / (expected + k), one with
#: many follows its data.
PRIOR_PURCHASES = 20.0
#: The estimation stops when no factor moves by more than this, or after MAX_ITERATIONS.
TOLERANCE = 1e-3
MAX_ITERATIONS = 50
#: Ages at which E[X(t)] is evaluated for the expected repeat purchases.
AGE_GRID = 2000
#: Weight of each neighbouring week in the smoothing of the index.
SMOOTHING = 0.25
_EPOCH = np.datetime64("1970-01-01", "D")


def day_numbers(values: ArrayLike) -> IntArray:
    """Days since 1970-01-01 of dates, datetimes or day numbers (a scalar, a sequence, a column)."""
    array = np.asarray(values)
    if np.issubdtype(array.dtype, np.datetime64):
        return (array.astype("datetime64[D]") - _EPOCH).astype(np.int64)
    if array.dtype == object:
        return (np.asarray(array, dtype="datetime64[D]") - _EPOCH).astype(np.int64)
    return array.astype(np.int64)


def week_of_year(days: ArrayLike) -> IntArray:
    """The bin of each day: (day of year − 1) // 7, capped at BINS − 1."""
    as_dates = day_numbers(days).astype("datetime64[D]")
    day_of_year = (as_dates - as_dates.astype("datetime64[Y]")).astype(np.int64)
    return np.minimum(day_of_year // 7, BINS - 1)


@dataclass(frozen=True)
class SeasonalIndex:
    """The relative purchase intensity of each week of the year (mean 1 per day of a year)."""

    factors: FloatArray

    @classmethod
    def flat(cls) -> SeasonalIndex:
        """The calendar clock: every factor 1."""
        return cls(np.ones(BINS))

    @classmethod
    def normalised(cls, factors: ArrayLike) -> SeasonalIndex:
        """``factors`` scaled so that a year has as many seasonal days as calendar days."""
        values = np.asarray(factors, dtype=np.float64)
        if values.shape != (BINS,) or not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise btyd.InvalidInputError(f"a seasonal index needs {BINS} positive factors")
        return cls(values * BIN_DAYS.sum() / float(values @ BIN_DAYS))

    @property
    def is_flat(self) -> bool:
        """True for the calendar clock."""
        return bool(np.all(self.factors == 1.0))

    def elapsed(self, start: ArrayLike, end: ArrayLike) -> FloatArray:
        """Seasonal days from the end of day ``start`` to the end of day ``end``: τ(end) − τ(start).

        Σ s(u) over the days u in (start, end]; negative when end is before start.
        """
        first, last = np.broadcast_arrays(day_numbers(start), day_numbers(end))
        if first.size == 0:
            return np.zeros(first.shape)
        low = int(min(first.min(), last.min()))
        high = int(max(first.max(), last.max()))
        grid = np.arange(low, high + 1)
        cumulative = np.cumsum(self.factors[week_of_year(grid)])
        return cumulative[last - low] - cumulative[first - low]


@dataclass(frozen=True)
class SeasonalFit:
    """BG/NBD fitted in seasonal time, the index that defines the time, and how it went.

    status: ``seasonal`` when the index was estimated, or
    ``calendar (<why>)`` when the fit fell back to the calendar clock.
    """

    bg_nbd: btyd.BgNbdFit
    index: SeasonalIndex
    status: str
    iterations: int


def _summaries(
    index: SeasonalIndex, first: IntArray, last: IntArray, end: int, unit: float
) -> tuple[FloatArray, FloatArray]:
    """t_x and T in seasonal time, in the time unit."""
    return index.elapsed(first, last) / unit, index.elapsed(first, end) / unit


def _periods(start: int, end: int) -> tuple[IntArray, IntArray]:
    """The last day of every week-of-year period in [start, end] (end itself last) and its bin."""
    grid = np.arange(start, end + 1)
    bins = week_of_year(grid)
    closes = np.flatnonzero(np.append(bins[1:] != bins[:-1], True))
    return grid[closes], bins[closes]


def _expected_repeats(
    fit: btyd.BgNbdFit,
    index: SeasonalIndex,
    cohort_days: IntArray,
    cohort_sizes: FloatArray,
    period_ends: IntArray,
    unit: float,
) -> FloatArray:
    """Repeat purchases the model expects in each period of the cohorts acquired by then."""
    # Seasonal time from each cohort's first day to each period's end (cohort × period).
    age = np.maximum(index.elapsed(cohort_days[:, None], period_ends[None, :]) / unit, 0.0)
    # E[X(t)] is smooth and increasing: evaluated on a grid of AGE_GRID ages and
    # interpolated (relative error below 1e-6 at 2,000 points; the exact values
    # would cost one hypergeometric function per cohort and period).
    grid = np.linspace(0.0, float(age.max()), AGE_GRID)
    cumulative = np.interp(age, grid, btyd.expected_purchases(fit, grid, 0.0, 0.0, 0.0))
    per_period = np.diff(cumulative, axis=1, prepend=0.0)
    return cohort_sizes @ per_period


def fit_seasonal_bg_nbd(
    first_purchase_day: ArrayLike,
    last_purchase_day: ArrayLike,
    x: ArrayLike,
    repeat_purchase_days: ArrayLike,
    calibration_end: object,
    *,
    time_unit_days: float = 1.0,
    warn: bool = True,
) -> SeasonalFit:
    """BG/NBD on the seasonal clock estimated from the calibration data (module docstring).

    One value per customer in ``first_purchase_day``, ``last_purchase_day`` (dates
    or day numbers, both on or before ``calibration_end``) and ``x`` (repeat
    purchases); ``repeat_purchase_days`` lists the day of every repeat purchase of
    every customer up to ``calibration_end`` (its length is Σx). Time in the fit is
    seasonal days / ``time_unit_days``. Falls back to the calendar clock, with the
    reason in ``status``, when the history is too short or a week too thin.
    Raises :class:`clv.btyd.FitError` when even the calendar fit fails. A
    parameter at a bound in the last fit is in ``bg_nbd.notes`` (and warned
    unless ``warn`` is false); the rounds before it say nothing.
    """
    first = day_numbers(first_purchase_day)
    last = day_numbers(last_purchase_day)
    x_ = np.asarray(x, dtype=np.float64)
    repeats = day_numbers(repeat_purchase_days)
    end = int(day_numbers(calibration_end))
    unit = float(time_unit_days)
    if not (len(first) == len(last) == len(x_)):
        raise btyd.InvalidInputError(
            "first_purchase_day, last_purchase_day and x must have one value per customer"
        )
    if len(repeats) != int(x_.sum()):
        raise btyd.InvalidInputError(
            f"repeat_purchase_days must list every repeat purchase: {len(repeats):,} days"
            f" for {int(x_.sum()):,} repeat purchases"
        )
    latest = max(int(first.max()), int(last.max())) if len(first) else end
    if latest > end or (len(repeats) and int(repeats.max()) > end):
        raise btyd.InvalidInputError("a purchase falls after the calibration end")

    def calendar(why: str) -> SeasonalFit:
        flat = SeasonalIndex.flat()
        t_x, T = _summaries(flat, first, last, end, unit)
        return SeasonalFit(btyd.fit_bg_nbd(x_, t_x, T, warn=warn), flat, f"calendar ({why})", 0)

    if len(first) and (x_.min() < 0 or x_.max() >= 2**20 or first.min() < 0):
        raise btyd.InvalidInputError("x must be 0 to 2**20 and days after 1970-01-01")

    history = end - int(first.min()) + 1 if len(first) else 0
    if history < MIN_HISTORY_DAYS:
        return calendar(f"{history} days of history, the seasonal index needs {MIN_HISTORY_DAYS}")
    if len(repeats) < MIN_REPEAT_PURCHASES:
        return calendar(
            f"{len(repeats)} repeat purchases, the seasonal index needs {MIN_REPEAT_PURCHASES}"
        )

    period_ends, period_bins = _periods(int(first.min()), end)
    observed = np.bincount(
        np.searchsorted(period_ends, repeats), minlength=len(period_ends)
    ).astype(np.float64)
    observed_per_bin = np.bincount(period_bins, weights=observed, minlength=BINS)
    cohort_days, cohort_sizes = np.unique(first, return_counts=True)

    # The clock changes t_x and T but not who shares them: customers with the same
    # (x, first day, last day) are fitted once, weighted (grouped once, not per step).
    key = (x_.astype(np.int64) << 40) | (first << 20) | last
    distinct, weights = np.unique(key, return_counts=True)
    gx = (distinct >> 40).astype(np.float64)
    gfirst, glast = (distinct >> 20) & (2**20 - 1), distinct & (2**20 - 1)
    weights = weights.astype(np.float64)

    index = SeasonalIndex.flat()
    iterations = 0
    fit = None
    while iterations < MAX_ITERATIONS:
        iterations += 1
        t_x, T = _summaries(index, gfirst, glast, end, unit)
        fit = btyd.fit_bg_nbd(gx, t_x, T, weights, start=fit, group=False, warn=False)
        expected = _expected_repeats(
            fit, index, cohort_days, cohort_sizes.astype(np.float64), period_ends, unit
        )
        expected_per_bin = np.bincount(period_bins, weights=expected, minlength=BINS)
        scaled = (
            index.factors
            * (observed_per_bin + PRIOR_PURCHASES)
            / (expected_per_bin + PRIOR_PURCHASES)
        )
        w = SMOOTHING
        smoothed = (1 - 2 * w) * scaled + w * (np.roll(scaled, 1) + np.roll(scaled, -1))
        updated = SeasonalIndex.normalised(smoothed)
        change = float(np.max(np.abs(updated.factors - index.factors)))
        index = updated
        if change < TOLERANCE:
            break
    t_x, T = _summaries(index, gfirst, glast, end, unit)
    return SeasonalFit(
        btyd.fit_bg_nbd(gx, t_x, T, weights, start=fit, group=False, warn=warn),
        index,
        "seasonal",
        iterations,
    )


def simulate_seasonal_purchases(
    n: int,
    params: tuple[float, float, float, float],
    index: SeasonalIndex,
    start: object,
    end: object,
    *,
    acquisition_days: int = 365,
    seed: int | None = None,
) -> tuple[IntArray, IntArray, IntArray]:
    """Purchases of ``n`` customers from BG/NBD on the seasonal clock of ``index``.

    ``params`` = (r, alpha, a, b) with alpha in seasonal days. First purchases
    fall uniformly on the first ``acquisition_days`` days from ``start``; each
    customer then buys as a Poisson(λ) process in seasonal time until ``end`` and
    drops out after repeat purchase J ~ Geometric(p). Returns the day numbers of
    the first purchases, and the customer (row) and day of every repeat purchase.
    For tests: the process the estimator assumes, with a known index.
    """
    r, alpha, a, b = params
    first_day, last_day = (int(day_numbers(v)) for v in (start, end))
    rng = np.random.default_rng(seed)
    first = first_day + rng.integers(0, acquisition_days, size=n)
    rate = rng.gamma(r, 1.0 / alpha, size=n)
    lifetime = rng.geometric(np.clip(rng.beta(a, b, size=n), 1e-12, 1.0))
    grid = np.arange(first_day, last_day + 1)
    cumulative = np.cumsum(index.factors[week_of_year(grid)])
    clock_at_first = cumulative[first - first_day]
    span = cumulative[-1] - clock_at_first
    possible = rng.poisson(rate * span)
    owner = np.repeat(np.arange(n), possible)
    offset = rng.random(len(owner)) * span[owner]
    order = np.lexsort((offset, owner))
    owner, offset = owner[order], offset[order]
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(possible) - possible, possible)
    kept = rank < lifetime[owner]
    owner, offset = owner[kept], offset[kept]
    day = first_day + np.searchsorted(cumulative, clock_at_first[owner] + offset)
    return first, owner, np.minimum(day, last_day)


def simulate_purchase_days(
    n: int,
    params: tuple[float, float, float, float],
    index: SeasonalIndex,
    start: object,
    end: object,
    *,
    acquisition_days: int = 365,
    seed: int | None = None,
) -> pd.DataFrame:
    """:func:`simulate_seasonal_purchases` in the shape of int_purchase_days_aggregated.

    One row per customer (ids 1 … n) and purchase day, first purchases
    included, with a revenue (gamma, mean 90) and a margin (gamma, mean 36)
    per day. For tests and benchmarks of the seasonal clock and the
    rolling-origin backtest.
    """
    first, owner, day = simulate_seasonal_purchases(
        n, params, index, start, end, acquisition_days=acquisition_days, seed=seed
    )
    customer = np.concatenate([np.arange(n), owner]).astype(np.int64) + 1
    key = np.unique(customer * 2**20 + np.concatenate([first, day]))
    rng = np.random.default_rng(None if seed is None else seed + 1)
    return pd.DataFrame(
        {
            "customer_id": key // 2**20,
            "purchase_date": np.datetime64("1970-01-01", "D") + key % 2**20,
            "revenue": rng.gamma(6.0, 15.0, len(key)),
            "margin": rng.gamma(6.0, 6.0, len(key)),
        }
    )
