"""Time arithmetic for the simulator: integer seconds since 1970-01-01 (UTC, naive).

Every timestamp inside the simulator is an ``int64`` count of seconds; dates are
``int64`` day numbers. They become Arrow ``timestamp[us]`` / ``date32`` only in
:mod:`clv.contract.files`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from clv.contract.files import DAY, HOUR, LOAD_HOUR
from clv.contract.files import loaded_at as loaded_at

#: Relative traffic per hour of day (UTC), used to place events within a day.
_HOURLY = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 7, 7, 8, 8, 7, 7, 7, 8, 9, 10, 10, 9, 6, 4], dtype=float
)
_HOUR_CDF = np.concatenate([[0.0], np.cumsum(_HOURLY) / _HOURLY.sum()])


def day_number(value: date) -> int:
    """Days since 1970-01-01."""
    return (value - date(1970, 1, 1)).days


def loaded_at_for_day(day: np.ndarray) -> np.ndarray:
    """02:00 on the day after each day number (seconds)."""
    return (day + 1) * DAY + LOAD_HOUR * HOUR


def diurnal(fraction: np.ndarray) -> np.ndarray:
    """Map a uniform fraction of a day to seconds into the day, following :data:`_HOURLY`."""
    seconds = np.interp(fraction, _HOUR_CDF, np.arange(25) * HOUR)
    return np.minimum(seconds.astype(np.int64), DAY - 1)


def month_starts(first_day: int, last_day: int) -> np.ndarray:
    """Day numbers of the first day of every month overlapping [first_day, last_day]."""
    first = np.datetime64(int(first_day), "D").astype("datetime64[M]")
    last = np.datetime64(int(last_day), "D").astype("datetime64[M]")
    months = np.arange(first, last + 1)
    return months.astype("datetime64[D]").astype(np.int64)


def month_of(day: np.ndarray) -> np.ndarray:
    """The first day (day number) of each day's month."""
    return (
        day.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    )


@dataclass(frozen=True)
class Window:
    """The simulated period [start 00:00:00, end 23:59:59] and its seasonal clock."""

    start_day: int
    end_day: int

    @classmethod
    def from_dates(cls, start: date, end: date) -> Window:
        """The window of two ISO dates (both included)."""
        return cls(day_number(start), day_number(end))

    @property
    def start(self) -> int:
        """First second of the window."""
        return self.start_day * DAY

    @property
    def end(self) -> int:
        """Last second of the window (end date 23:59:59)."""
        return (self.end_day + 1) * DAY - 1

    @property
    def days(self) -> int:
        """Number of days in the window."""
        return self.end_day - self.start_day + 1

    def day_grid(self) -> np.ndarray:
        """Day numbers of the window."""
        return np.arange(self.start_day, self.end_day + 1, dtype=np.int64)

    def seasonality(self) -> np.ndarray:
        """Relative demand per day: a December peak, a Black-Friday week and a summer dip."""
        days = self.day_grid()
        doy = (
            days.astype("datetime64[D]") - days.astype("datetime64[D]").astype("datetime64[Y]")
        ).astype(np.int64)
        season = 1.0 + 0.25 * np.cos(2 * np.pi * (doy - 350) / 365.25)
        season += 0.9 * ((doy >= 326) & (doy <= 333))  # Black Friday to Cyber Monday
        season += 0.35 * ((doy >= 334) & (doy <= 355))  # Christmas shopping
        weekday = (days + 3) % 7  # 0 = Monday
        season *= np.where(weekday >= 5, 0.9, 1.03)
        return season / season.mean()

    def clock(self, growth_per_year: float = 0.0) -> SeasonalClock:
        """Cumulative demand (growth × seasonality) over the window, for inverse sampling."""
        days = np.arange(self.days, dtype=float)
        weight = self.seasonality() * np.exp(np.log1p(growth_per_year) * days / 365.25)
        return SeasonalClock(self, np.concatenate([[0.0], np.cumsum(weight)]))


@dataclass(frozen=True)
class SeasonalClock:
    """Maps seconds to cumulative demand ("effective days") and back, piecewise linear per day."""

    window: Window
    cumulative: np.ndarray

    @property
    def total(self) -> float:
        """Effective days in the whole window."""
        return float(self.cumulative[-1])

    def _knots(self) -> np.ndarray:
        return (self.window.start_day + np.arange(len(self.cumulative))) * float(DAY)

    def effective(self, seconds: np.ndarray) -> np.ndarray:
        """Cumulative demand at each time (effective days since the window's start)."""
        return np.interp(seconds.astype(float), self._knots(), self.cumulative)

    def time_at(self, effective: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`effective`; the time within a day follows :func:`diurnal`."""
        position = np.interp(
            effective, self.cumulative, np.arange(len(self.cumulative), dtype=float)
        )
        whole = np.minimum(np.floor(position), self.window.days - 1)
        seconds = (self.window.start_day + whole.astype(np.int64)) * DAY
        return seconds + diurnal(np.clip(position - whole, 0.0, 1.0))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` times drawn with density proportional to demand."""
        return self.time_at(rng.random(n) * self.total)
