"""The rolling-origin backtest: BG/NBD and Gamma-Gamma refitted at every month end.

What the dbt Python model ``int_clv_origins_backtested`` returns and the mart
``clv_backtest_by_origin`` publishes. Nothing here touches a database.

``clv_backtest`` tests the models at one calibration end; its error depends on
the month that end falls in, because buying is seasonal. This table repeats the
backtest at every month end E (an *origin*) with at least
``min_calibration_months`` of purchases before it and a full holdout of
``holdout_months`` after it, ending on or before the as-of date, once per clock:

- ``calendar``: BG/NBD in calendar time (:func:`clv.btyd.fit_bg_nbd`);
- ``seasonal``: BG/NBD in seasonal time (:func:`clv.seasonal.fit_seasonal_bg_nbd`),
  the index estimated from the purchases up to E only.

Each fit sees only the purchase days on or before its origin (no look-ahead);
the holdout (E, E + holdout_months] is used only to count what happened, for the
customers whose first purchase is on or before E (as in Fader, Hardie & Lee
2005). Purchase days and the summaries x, t_x, T, spend and margin follow
``int_customers_summarised_at_calibration_ends`` (DECISIONLOG.md, "Probabilistic
CLV"). Gamma-Gamma does not depend on the clock: one fit per origin serves both.
A fit that fails at an origin (too few repeat customers early in the history)
leaves that origin's predictions null and says why in ``fit_status``; it does
not fail the build.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from clv import btyd, seasonal
from clv.errors import UserError

__all__ = ["CLOCKS", "ORIGIN_SCHEMA", "OriginSettings", "origin_ends", "origin_table"]

CLOCKS = ("calendar", "seasonal")

ORIGIN_SCHEMA = pa.schema(
    [
        ("calibration_end", pa.date32()),
        ("holdout_end", pa.date32()),
        ("clock", pa.string()),
        ("fit_status", pa.string()),
        ("customers", pa.int64()),
        ("repeat_customers", pa.int64()),
        ("predicted_purchases", pa.float64()),
        ("actual_purchases", pa.int64()),
        ("purchases_relative_error", pa.float64()),
        ("predicted_spend", pa.float64()),
        ("actual_spend", pa.float64()),
        ("spend_relative_error", pa.float64()),
        ("r", pa.float64()),
        ("alpha", pa.float64()),
        ("a", pa.float64()),
        ("b", pa.float64()),
        ("p", pa.float64()),
        ("q", pa.float64()),
        ("gamma", pa.float64()),
        ("log_likelihood", pa.float64()),
        ("seasonal_index_peak", pa.float64()),
        ("seasonal_index_trough", pa.float64()),
        ("time_unit", pa.string()),
    ]
)


@dataclass(frozen=True)
class OriginSettings:
    """What the rolling-origin backtest reads from the one row of ``clv_model_settings``."""

    time_unit: str
    time_unit_days: float
    as_of_date: date
    min_calibration_months: int
    holdout_months: int

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> OriginSettings:
        """The settings from the model's DataFrame (exactly one row)."""
        if len(frame) != 1:
            raise UserError(f"clv_model_settings must have exactly one row, has {len(frame)}")
        row = frame.iloc[0]
        settings = cls(
            time_unit=str(row["time_unit"]),
            time_unit_days=float(row["time_unit_days"]),
            as_of_date=pd.Timestamp(row["prediction_calibration_end"]).date(),
            min_calibration_months=int(row["backtest_min_calibration_months"]),
            holdout_months=int(row["backtest_holdout_months"]),
        )
        for name in ("min_calibration_months", "holdout_months"):
            value = getattr(settings, name)
            if value < 1:
                raise UserError(f"var backtest_{name} must be at least 1, got {value}")
        return settings


def origin_ends(first_purchase: date, settings: OriginSettings) -> list[tuple[date, date]]:
    """(calibration end, holdout end) of every origin, oldest first.

    The first origin is the first month end at least ``min_calibration_months``
    after the first purchase in the data; each holdout ends on the last day of
    the month ``holdout_months`` later, and the last origin is the last one whose
    holdout ends on or before the as-of date.
    """
    after_minimum = pd.Timestamp(first_purchase) + pd.DateOffset(
        months=settings.min_calibration_months
    )
    origin = after_minimum - pd.Timedelta(days=1) + pd.offsets.MonthEnd(0)
    as_of = pd.Timestamp(settings.as_of_date)
    ends = []
    while (holdout_end := origin + pd.offsets.MonthEnd(settings.holdout_months)) <= as_of:
        ends.append((origin.date(), holdout_end.date()))
        origin = origin + pd.offsets.MonthEnd(1)
    return ends


@dataclass(frozen=True)
class _PurchaseDays:
    """Purchase days sorted by customer and day: day numbers, revenue, margin, first day."""

    customer: np.ndarray
    day: np.ndarray
    revenue: np.ndarray
    margin: np.ndarray
    #: Each row's customer's first purchase day (in the whole history).
    first_day: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> _PurchaseDays:
        day = seasonal.day_numbers(frame["purchase_date"].to_numpy())
        customer = frame["customer_id"].to_numpy(dtype=np.int64)
        order = np.lexsort((day, customer))
        customer, day = customer[order], day[order]
        starts = _group_starts(customer)
        first_day = np.repeat(day[starts], np.diff(np.append(starts, len(day))))
        return cls(
            customer,
            day,
            frame["revenue"].to_numpy(dtype=np.float64)[order],
            frame["margin"].to_numpy(dtype=np.float64)[order],
            first_day,
        )


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Where each run of equal keys starts in a sorted array (no sort: one pass)."""
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.append(True, sorted_keys[1:] != sorted_keys[:-1]))


def _relative_error(predicted: float, actual: float) -> float:
    return predicted / actual - 1 if actual > 0 and np.isfinite(predicted) else float("nan")


def _origin_rows(
    purchases: _PurchaseDays, calibration_end: date, holdout_end: date, settings: OriginSettings
) -> list[dict]:
    """The rows of one origin, one per clock."""
    end, stop = int(seasonal.day_numbers(calibration_end)), int(seasonal.day_numbers(holdout_end))
    unit = settings.time_unit_days
    calibration = purchases.day <= end
    customer, day = purchases.customer[calibration], purchases.day[calibration]
    revenue = purchases.revenue[calibration]
    # Rows are sorted by customer and day, so each customer's calibration days are a run.
    starts = _group_starts(customer)
    ids = customer[starts]
    counts = np.diff(np.append(starts, len(customer)))
    first, last = day[starts], day[starts + counts - 1]
    x = (counts - 1).astype(np.float64)
    is_repeat = np.ones(len(day), dtype=bool)
    is_repeat[starts] = False
    group = np.repeat(np.arange(len(ids)), counts)
    repeat_revenue = np.bincount(group[is_repeat], revenue[is_repeat], minlength=len(ids))
    mean_spend = np.divide(repeat_revenue, x, out=np.zeros(len(ids)), where=x > 0)

    # The holdout's purchases of the customers acquired by the origin.
    holdout = (purchases.day > end) & (purchases.day <= stop) & (purchases.first_day <= end)
    actual_purchases = int(np.count_nonzero(holdout))
    actual_spend = float(purchases.revenue[holdout].sum())

    base = {
        "calibration_end": calibration_end,
        "holdout_end": holdout_end,
        "customers": len(ids),
        "repeat_customers": int(np.count_nonzero(x > 0)),
        "actual_purchases": actual_purchases,
        "actual_spend": actual_spend,
        "time_unit": settings.time_unit,
    }
    # No warnings here: origins are fitted in threads (origin_table), and a
    # parameter at a bound is reported from the fit's notes.
    try:
        gamma_gamma = btyd.fit_gamma_gamma(x, mean_spend, warn=False)
        spend_per_purchase = btyd.expected_average_value(gamma_gamma, x, mean_spend)
    except btyd.FitError as error:
        gamma_gamma, spend_per_purchase, spend_failure = None, None, str(error)
    else:
        spend_failure = None

    rows = []
    for clock in CLOCKS:
        row = dict(base, clock=clock)
        try:
            if clock == "calendar":
                index = seasonal.SeasonalIndex.flat()
                t_x, T = (last - first) / unit, (end - first) / unit
                fit, status = btyd.fit_bg_nbd(x, t_x, T, warn=False), "converged"
            else:
                seasonal_fit = seasonal.fit_seasonal_bg_nbd(
                    first, last, x, day[is_repeat], end, time_unit_days=unit, warn=False
                )
                fit, index = seasonal_fit.bg_nbd, seasonal_fit.index
                status = f"converged; {seasonal_fit.status} clock"
                t_x = index.elapsed(first, last) / unit
                T = index.elapsed(first, end) / unit
            horizon = float(index.elapsed(end, stop)) / unit
            predicted = btyd.expected_purchases(fit, horizon, x, t_x, T)
        except btyd.FitError as error:
            rows.append(dict(row, fit_status=f"failed: {error}"))
            continue
        row.update(
            fit_status="; ".join([status, *fit.notes]),
            predicted_purchases=float(predicted.sum()),
            purchases_relative_error=_relative_error(float(predicted.sum()), actual_purchases),
            log_likelihood=fit.log_likelihood,
            seasonal_index_peak=float(index.factors.max()),
            seasonal_index_trough=float(index.factors.min()),
            **fit.as_dict(),
        )
        if gamma_gamma is None:
            row["fit_status"] += f"; gamma_gamma failed: {spend_failure}"
        else:
            predicted_spend = float(predicted @ spend_per_purchase)
            row.update(
                predicted_spend=predicted_spend,
                spend_relative_error=_relative_error(predicted_spend, actual_spend),
                **gamma_gamma.as_dict(),
            )
        rows.append(row)
    return rows


def origin_table(
    purchase_days: pd.DataFrame, settings: OriginSettings, *, workers: int | None = None
) -> pa.Table:
    """``clv_backtest_by_origin``: one row per origin and clock (module docstring).

    ``purchase_days`` has the columns of ``int_purchase_days_aggregated``
    (customer_id, purchase_date, revenue, margin), one row per customer and day.
    ``workers``: threads fitting origins at once (default: one per CPU); the
    table does not depend on it.
    """
    workers = workers or os.cpu_count() or 1
    if purchase_days.empty:
        return ORIGIN_SCHEMA.empty_table()
    purchases = _PurchaseDays.from_frame(purchase_days)
    first_purchase = date(1970, 1, 1) + pd.Timedelta(days=int(purchases.day.min()))
    ends = origin_ends(first_purchase, settings)

    def rows_of(origin: tuple[date, date]) -> list[dict]:
        return _origin_rows(purchases, *origin, settings)

    # Origins are independent: fitted in threads (numpy and scipy release the GIL in
    # their loops), collected in origin order, so the table is the same as one
    # thread's. BLAS runs on one thread throughout (btyd.one_blas_thread): its
    # sums would otherwise split differently whenever another origin's optimiser
    # held the limit. No warning is raised (the fits' notes instead).
    with (
        btyd.one_blas_thread(),
        ThreadPoolExecutor(max_workers=max(1, min(workers, len(ends)))) as pool,
    ):
        per_origin = list(pool.map(rows_of, ends))
    return pa.Table.from_pylist([row for rows in per_origin for row in rows], schema=ORIGIN_SCHEMA)
