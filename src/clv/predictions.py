"""The probabilistic CLV tables: what the dbt Python models return.

The dbt Python models under ``models/intermediate/predictions/`` stay thin
(the marts of ``models/marts/predictions/`` publish their tables): they read
their refs as DataFrames and call this module, which calls the numerics in
:mod:`clv.btyd` and returns Arrow tables with the exact column types the marts
document. Nothing here touches a database, so it is tested without one.

Three tables:

- :func:`parameter_table` — ``clv_model_parameters``: BG/NBD and Gamma-Gamma
  fitted twice, on the customers as of the reporting date (``prediction``) and
  on the backtest's calibration period (``backtest``).
- :func:`prediction_table` — ``customer_clv_predictions``: per customer P(alive),
  expected purchases and discounted expected margin.
- :func:`backtest_table` — ``clv_backtest_customers``: per customer predicted
  against actual holdout purchases and spend.

Margin. Gamma-Gamma is fitted on revenue per purchase (spend, as in the
papers). The expected margin of a purchase is its expected spend times the
shop's margin share over the calibration period: sum(margin) / sum(revenue),
margin being gross margin less fulfilment cost (DECISIONLOG.md).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from clv import btyd, seasonal
from clv.errors import UserError

__all__ = [
    "BACKTEST_SCHEMA",
    "PARAMETER_SCHEMA",
    "PREDICTION_SCHEMA",
    "Settings",
    "backtest_table",
    "fits_from_parameters",
    "parameter_table",
    "prediction_table",
]

PARAMETER_SCHEMA = pa.schema(
    [
        ("fit_role", pa.string()),
        ("model", pa.string()),
        ("parameter", pa.string()),
        ("value", pa.float64()),
        ("log_likelihood", pa.float64()),
        ("n_customers", pa.int64()),
        ("fit_status", pa.string()),
        ("calibration_end", pa.date32()),
        ("time_unit", pa.string()),
        ("fitted_at", pa.timestamp("us")),
        ("standard_error", pa.float64()),
    ]
)

PREDICTION_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("x", pa.int64()),
        ("t_x", pa.float64()),
        ("T", pa.float64()),
        ("probability_alive", pa.float64()),
        ("predicted_purchases_12m", pa.float64()),
        ("expected_average_spend", pa.float64()),
        ("expected_average_margin", pa.float64()),
        ("predicted_clv_12m", pa.float64()),
        ("predicted_clv_horizon", pa.float64()),
        ("calibration_end", pa.date32()),
    ]
)

BACKTEST_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("x", pa.int64()),
        ("t_x", pa.float64()),
        ("T", pa.float64()),
        ("predicted_holdout_purchases", pa.float64()),
        ("actual_holdout_purchases", pa.int64()),
        ("predicted_holdout_spend", pa.float64()),
        ("actual_holdout_spend", pa.float64()),
        ("calibration_end", pa.date32()),
        ("holdout_end", pa.date32()),
    ]
)

#: Parameter names per model, in the order the mart lists them.
PARAMETERS = {"bg_nbd": ("r", "alpha", "a", "b"), "gamma_gamma": ("p", "q", "gamma")}
#: The seasonal index's rows in clv_model_parameters (model ``seasonal_index``): one per week.
INDEX_PARAMETERS = tuple(f"week_{week:02d}" for week in range(1, seasonal.BINS + 1))

#: Average month in days: the monthly steps of the 12-month and horizon figures.
DAYS_PER_MONTH = btyd.DAYS_PER_MONTH


@dataclass(frozen=True)
class Settings:
    """The one row of ``clv_model_settings``."""

    time_unit: str
    time_unit_days: float
    prediction_calibration_end: date
    backtest_calibration_end: date
    backtest_holdout_end: date
    backtest_holdout_length: float
    prediction_months: int
    horizon_months: int
    annual_discount_rate: float
    on_fit_failure: str
    #: ``calendar`` or ``seasonal``: the clock BG/NBD is fitted and predicts on (var clv_clock).
    clock: str = "calendar"

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Settings:
        """The settings from the model's DataFrame (exactly one row)."""
        if len(frame) != 1:
            raise UserError(f"clv_model_settings must have exactly one row, has {len(frame)}")
        row = frame.iloc[0]
        return cls(
            time_unit=str(row["time_unit"]),
            time_unit_days=float(row["time_unit_days"]),
            prediction_calibration_end=_as_date(row["prediction_calibration_end"]),
            backtest_calibration_end=_as_date(row["backtest_calibration_end"]),
            backtest_holdout_end=_as_date(row["backtest_holdout_end"]),
            backtest_holdout_length=float(row["backtest_holdout_length"]),
            prediction_months=int(row["prediction_months"]),
            horizon_months=int(row["horizon_months"]),
            annual_discount_rate=float(row["annual_discount_rate"]),
            on_fit_failure=str(row["on_fit_failure"]),
            clock=str(row["clock"]),
        )

    def calibration_end(self, fit_role: str) -> date:
        """The calibration end of a fit role (``prediction`` or ``backtest``)."""
        return {
            "prediction": self.prediction_calibration_end,
            "backtest": self.backtest_calibration_end,
        }[fit_role]


def _as_date(value: object) -> date:
    return pd.Timestamp(value).date()


def _summary_arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        summary["x"].to_numpy(dtype=np.int64),
        summary["t_x"].to_numpy(dtype=np.float64),
        summary["T"].to_numpy(dtype=np.float64),
    )


def _repeat_spend(summary: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    """The Gamma-Gamma input: mean spend of the repeat purchases, 0 where x = 0."""
    spend = summary["mean_repeat_spend"].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(x > 0, spend, 0.0)


# ------------------------------------------------------------------ fitting


def parameter_table(
    summaries: Mapping[str, pd.DataFrame],
    settings: Settings,
    *,
    purchase_days: pd.DataFrame | None = None,
    fitted_at: datetime | None = None,
) -> pa.Table:
    """``clv_model_parameters``: both models fitted on each summary (fit role → summary).

    Each parameter row carries its asymptotic standard error
    (:func:`clv.btyd.bg_nbd_standard_errors`,
    :func:`clv.btyd.gamma_gamma_standard_errors`, in the parameter's units),
    null where the information matrix does not give one (a parameter at a
    bound, a flat likelihood). A fit that fails raises
    :class:`clv.btyd.FitError` when ``settings.on_fit_failure`` is ``error``;
    with ``warn`` it prints a warning and writes the model's parameters and
    standard errors as null with ``fit_status`` saying why.

    The clock (``settings.clock``): on ``seasonal`` BG/NBD is fitted by
    :func:`clv.seasonal.fit_seasonal_bg_nbd`, which needs ``purchase_days``
    (int_purchase_days_aggregated) for the repeat purchases' days; it falls
    back to the calendar clock when the history is too short, and
    ``fit_status`` names the clock used. Either way the index is written as
    model ``seasonal_index``, one row per week (all 1 on the calendar clock),
    which the predictions read back (:func:`index_from_parameters`).
    """
    if settings.clock == "seasonal" and purchase_days is None:
        raise UserError("the seasonal clock needs the purchase days (int_purchase_days_aggregated)")
    fitted_at = fitted_at or datetime.now(UTC).replace(tzinfo=None)
    rows: list[dict] = []
    for fit_role, unordered in summaries.items():
        # The warehouse returns rows in no fixed order, and floating-point sums
        # depend on it: sorted, the same data always gives the same fit.
        summary = unordered.sort_values("customer_id", kind="stable")
        x, t_x, T = _summary_arrays(summary)
        spend = _repeat_spend(summary, x)
        clock = {"index": seasonal.SeasonalIndex.flat(), "status": "calendar clock"}

        def fit_bg_nbd(summary=summary, x=x, t_x=t_x, T=T, clock=clock, fit_role=fit_role):
            if settings.clock == "calendar":
                return btyd.fit_bg_nbd(x, t_x, T, warn=False)
            end = settings.calibration_end(fit_role)
            fitted = seasonal.fit_seasonal_bg_nbd(
                summary["first_purchase_date"],
                summary["last_purchase_date"],
                x,
                _repeat_days(summary, purchase_days, end),
                end,
                time_unit_days=settings.time_unit_days,
                warn=False,
            )
            clock.update(index=fitted.index, status=f"{fitted.status} clock")
            return fitted.bg_nbd

        def bg_nbd_errors(fit, summary=summary, x=x, clock=clock, fit_role=fit_role):
            t_x, T = _clock_summary(summary, clock["index"], settings, fit_role)
            return btyd.bg_nbd_standard_errors(fit, x, t_x, T)

        fits = {
            "bg_nbd": fit_bg_nbd,
            "gamma_gamma": lambda x=x, spend=spend: btyd.fit_gamma_gamma(x, spend, warn=False),
        }
        standard_errors = {
            "bg_nbd": bg_nbd_errors,
            "gamma_gamma": lambda fit, x=x, spend=spend: btyd.gamma_gamma_standard_errors(
                fit, x, spend
            ),
        }
        for model, fit_function in fits.items():
            base = {
                "fit_role": fit_role,
                "model": model,
                "calibration_end": settings.calibration_end(fit_role),
                "time_unit": settings.time_unit,
                "fitted_at": fitted_at,
            }
            try:
                fit = fit_function()
            except btyd.FitError as error:
                message = f"{model} fit on the {fit_role} summary failed: {error}"
                if settings.on_fit_failure == "error":
                    raise btyd.FitError(message) from error
                print(
                    f"WARNING clv_model_parameters: {message}; predictions left null",
                    file=sys.stderr,
                )
                rows += [
                    {
                        **base,
                        "parameter": name,
                        "value": None,
                        "log_likelihood": None,
                        "n_customers": None,
                        "fit_status": f"failed: {error}",
                        "standard_error": None,
                    }
                    for name in PARAMETERS[model]
                ]
                continue
            errors = standard_errors[model](fit)
            status = _converged_status(fit.notes)
            if model == "bg_nbd":
                status = f"{status}; {clock['status']}"
            rows += [
                {
                    **base,
                    "parameter": name,
                    "value": value,
                    "log_likelihood": fit.log_likelihood,
                    "n_customers": fit.n_customers,
                    "fit_status": status,
                    "standard_error": _finite_or_null(errors[name]),
                }
                for name, value in fit.as_dict().items()
            ]
            if model == "bg_nbd":
                rows += [
                    {
                        **base,
                        "model": "seasonal_index",
                        "parameter": name,
                        "value": float(factor),
                        "log_likelihood": None,
                        "n_customers": fit.n_customers,
                        "fit_status": status,
                        "standard_error": None,
                    }
                    for name, factor in zip(INDEX_PARAMETERS, clock["index"].factors, strict=True)
                ]
    return pa.Table.from_pylist(rows, schema=PARAMETER_SCHEMA)


def _repeat_days(summary: pd.DataFrame, purchase_days: pd.DataFrame, end: date) -> np.ndarray:
    """The day of every repeat purchase, up to ``end``, of the summary's customers."""
    days = purchase_days[["customer_id", "purchase_date"]].merge(
        summary[["customer_id", "first_purchase_date"]], on="customer_id"
    )
    purchase = pd.to_datetime(days["purchase_date"])
    repeat = (purchase > pd.to_datetime(days["first_purchase_date"])) & (
        purchase <= pd.Timestamp(end)
    )
    return purchase[repeat].to_numpy().astype("datetime64[D]")


def _clock_summary(
    summary: pd.DataFrame, index: seasonal.SeasonalIndex, settings: Settings, fit_role: str
) -> tuple[np.ndarray, np.ndarray]:
    """t_x and T on the clock of ``index``: the summary's own on the calendar clock."""
    _, t_x, T = _summary_arrays(summary)
    if index.is_flat:
        return t_x, T
    first, last = summary["first_purchase_date"], summary["last_purchase_date"]
    end = settings.calibration_end(fit_role)
    unit = settings.time_unit_days
    return index.elapsed(first, last) / unit, index.elapsed(first, end) / unit


def _month_ends(
    index: seasonal.SeasonalIndex, end: date, months: int, unit: float
) -> np.ndarray | None:
    """Time from ``end`` to the end of each of the next ``months`` months on the clock.

    None on the calendar clock (months of 365.25 / 12 days, as before); on the
    seasonal clock each month end is rounded to a whole day.
    """
    if index.is_flat:
        return None
    start = int(seasonal.day_numbers(end))
    ends = start + np.rint(np.arange(1, months + 1) * DAYS_PER_MONTH).astype(np.int64)
    return index.elapsed(np.full(months, start), ends) / unit


def index_from_parameters(parameters: pd.DataFrame, fit_role: str) -> seasonal.SeasonalIndex:
    """The seasonal index of ``fit_role`` read back from ``clv_model_parameters``.

    Flat (the calendar clock) when the table has no index rows for the role.
    """
    rows = parameters[
        (parameters["fit_role"] == fit_role) & (parameters["model"] == "seasonal_index")
    ]
    if rows.empty:
        return seasonal.SeasonalIndex.flat()
    found = dict(zip(rows["parameter"], rows["value"].astype(float), strict=True))
    missing = set(INDEX_PARAMETERS) - set(found)
    if missing:
        raise UserError(f"clv_model_parameters lacks seasonal_index {sorted(missing)[:3]} ...")
    return seasonal.SeasonalIndex(np.array([found[name] for name in INDEX_PARAMETERS]))


def _finite_or_null(value: float) -> float | None:
    """NaN (a standard error the information matrix does not give) as null."""
    return value if math.isfinite(value) else None


def _converged_status(notes: Sequence[str]) -> str:
    """``converged``, or ``converged; <why>`` when a parameter ended at a bound.

    A parameter at the optimiser's bound is one the data do not identify (for
    example nobody seems to drop out): the fit is usable, but the row says so
    and the dbt test on fit_status warns. The notes come from the fit, not
    from catching its warnings: dbt runs the Python models in threads, and
    Python 3.11's warning filters belong to the process.
    """
    return "; ".join(["converged", *notes])


def fits_from_parameters(
    parameters: pd.DataFrame, fit_role: str
) -> tuple[btyd.BgNbdFit | None, btyd.GammaGammaFit | None]:
    """The two fits of ``fit_role`` read back from ``clv_model_parameters`` (None if failed)."""
    chosen = parameters[parameters["fit_role"] == fit_role]

    def fit(model: str, kind: type) -> btyd.BgNbdFit | btyd.GammaGammaFit | None:
        rows = chosen[chosen["model"] == model]
        if rows.empty or not rows["fit_status"].str.startswith("converged").all():
            return None
        found = dict(zip(rows["parameter"], rows["value"].astype(float), strict=True))
        missing = set(PARAMETERS[model]) - set(found)
        if missing:
            raise UserError(f"clv_model_parameters lacks {model} {sorted(missing)} for {fit_role}")
        first = rows.iloc[0]
        return kind(
            **found,
            log_likelihood=float(first["log_likelihood"]),
            n_customers=int(first["n_customers"]),
            iterations=0,
        )

    return fit("bg_nbd", btyd.BgNbdFit), fit("gamma_gamma", btyd.GammaGammaFit)


# --------------------------------------------------------------- predicting


def margin_share(summary: pd.DataFrame) -> float:
    """Margin per unit of revenue over the calibration period (0 if there is no revenue)."""
    revenue = float(summary["calibration_revenue"].sum())
    if not math.isfinite(revenue) or revenue <= 0:
        return 0.0
    return float(summary["calibration_margin"].sum()) / revenue


def _nulls(length: int) -> np.ndarray:
    return np.full(length, np.nan)


def prediction_table(
    summary: pd.DataFrame, parameters: pd.DataFrame, settings: Settings
) -> pa.Table:
    """``customer_clv_predictions``: one row per customer of the prediction summary.

    - probability_alive: P(alive | x, t_x, T) under BG/NBD;
    - predicted_purchases_12m: expected purchases in the next 12 months;
    - expected_average_spend: Gamma-Gamma conditional mean spend per purchase;
    - expected_average_margin: that spend × the shop's margin share;
    - predicted_clv_12m / predicted_clv_horizon: expected margin of the
      purchases of each coming month, discounted monthly at the annual rate,
      summed over 12 months / the horizon.
    A failed fit (``fit_status`` not converged) leaves its columns null. On
    the seasonal clock (a seasonal_index in ``parameters``) t_x, T and every
    horizon are measured in seasonal time; the x, t_x and T columns stay the
    calendar summary.
    """
    bg, gg = fits_from_parameters(parameters, "prediction")
    index = index_from_parameters(parameters, "prediction")
    x, calendar_t_x, calendar_T = _summary_arrays(summary)
    t_x, T = _clock_summary(summary, index, settings, "prediction")
    end, unit = settings.prediction_calibration_end, settings.time_unit_days
    n = len(summary)
    alive = purchases = spend = margin = clv_12m = clv_horizon = _nulls(n)
    if bg is not None:
        alive = btyd.probability_alive(bg, x, t_x, T)
        months = settings.prediction_months
        ends = _month_ends(index, end, months, unit)
        horizon = months * DAYS_PER_MONTH / unit if ends is None else ends[-1]
        purchases = btyd.expected_purchases(bg, horizon, x, t_x, T)
    if gg is not None:
        spend = btyd.expected_average_value(gg, x, _repeat_spend(summary, x))
        margin = spend * margin_share(summary)
    if bg is not None and gg is not None:

        def clv(months: int) -> np.ndarray:
            return btyd.discounted_expected_value(
                bg,
                x,
                t_x,
                T,
                margin,
                months=months,
                annual_discount_rate=settings.annual_discount_rate,
                time_unit_days=settings.time_unit_days,
                month_ends=_month_ends(index, end, months, unit),
            )

        clv_12m = clv(settings.prediction_months)
        clv_horizon = clv(settings.horizon_months)
    columns = {
        "customer_id": summary["customer_id"].to_numpy(dtype=np.int64),
        "x": x,
        "t_x": calendar_t_x,
        "T": calendar_T,
        "probability_alive": alive,
        "predicted_purchases_12m": purchases,
        "expected_average_spend": spend,
        "expected_average_margin": margin,
        "predicted_clv_12m": clv_12m,
        "predicted_clv_horizon": clv_horizon,
        "calibration_end": [settings.prediction_calibration_end] * n,
    }
    failed = {
        name
        for name, fit in (
            ("probability_alive", bg),
            ("predicted_purchases_12m", bg),
            ("expected_average_spend", gg),
            ("expected_average_margin", gg),
            ("predicted_clv_12m", bg and gg),
            ("predicted_clv_horizon", bg and gg),
        )
        if fit is None
    }
    return _table(columns, PREDICTION_SCHEMA, nullable=frozenset(failed))


def backtest_table(summary: pd.DataFrame, parameters: pd.DataFrame, settings: Settings) -> pa.Table:
    """``clv_backtest_customers``: predicted against actual holdout purchases and spend.

    predicted_holdout_purchases is the BG/NBD conditional expectation over the
    holdout length; predicted_holdout_spend multiplies it by the Gamma-Gamma
    expected spend per purchase. Both fitted on the calibration period only.
    On the seasonal clock t_x, T and the holdout's length are in seasonal time.
    """
    bg, gg = fits_from_parameters(parameters, "backtest")
    index = index_from_parameters(parameters, "backtest")
    x, calendar_t_x, calendar_T = _summary_arrays(summary)
    t_x, T = _clock_summary(summary, index, settings, "backtest")
    n = len(summary)
    purchases = spend = _nulls(n)
    if bg is not None:
        holdout = settings.backtest_holdout_length
        if not index.is_flat:
            holdout = float(
                index.elapsed(settings.backtest_calibration_end, settings.backtest_holdout_end)
                / settings.time_unit_days
            )
        purchases = btyd.expected_purchases(bg, holdout, x, t_x, T)
    if bg is not None and gg is not None:
        spend = purchases * btyd.expected_average_value(gg, x, _repeat_spend(summary, x))
    columns = {
        "customer_id": summary["customer_id"].to_numpy(dtype=np.int64),
        "x": x,
        "t_x": calendar_t_x,
        "T": calendar_T,
        "predicted_holdout_purchases": purchases,
        "actual_holdout_purchases": summary["actual_holdout_purchases"].to_numpy(dtype=np.int64),
        "predicted_holdout_spend": spend,
        "actual_holdout_spend": summary["actual_holdout_spend"].to_numpy(dtype=np.float64),
        "calibration_end": [settings.backtest_calibration_end] * n,
        "holdout_end": [settings.backtest_holdout_end] * n,
    }
    failed = set()
    if bg is None:
        failed.add("predicted_holdout_purchases")
    if bg is None or gg is None:
        failed.add("predicted_holdout_spend")
    return _table(columns, BACKTEST_SCHEMA, nullable=frozenset(failed))


def _table(columns: dict[str, object], schema: pa.Schema, *, nullable: frozenset[str]) -> pa.Table:
    """An Arrow table in ``schema``.

    NaN in a column of ``nullable`` (left empty by a failed fit) becomes null;
    a non-finite value anywhere else is a numerical failure and raises.
    """
    arrays = []
    for field in schema:
        values = columns[field.name]
        if pa.types.is_floating(field.type):
            values = np.asarray(values, dtype=np.float64)
            bad = ~np.isfinite(values)
            if field.name not in nullable and bad.any():
                raise btyd.FitError(
                    f"{field.name} is not a finite number for {int(bad.sum())} of"
                    f" {len(values)} customers"
                )
            arrays.append(pa.array(values, field.type, mask=np.isnan(values)))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
