"""Buy-till-you-die models: BG/NBD for how often customers buy, Gamma-Gamma for how much.

Pure numerics, no I/O. The dbt Python models reach these functions through
:mod:`clv.predictions`; ``tests/test_btyd.py`` checks them against the
published CDNOW estimates and against the test-only package lifetimes 0.11.3.

**BG/NBD** (beta-geometric / negative binomial distribution): Fader, Hardie &
Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
Pareto/NBD Model", *Marketing Science* 24(2):275–284, and their notes
"Implementing the BG/NBD Model for Customer Base Analysis in Excel" (2005) and
"Computing P(alive) Using the BG/NBD Model" (2008).
Assumptions: while active, a customer buys as a Poisson process with rate λ;
λ varies across customers as Gamma(shape r, rate α); after each repeat purchase
the customer drops out for good with probability p; p varies across customers
as Beta(a, b); λ and p are independent. A customer is summarised by

- ``x``: repeat purchases (purchases after the first) in the calibration period;
- ``t_x``: time of the last purchase, counted from the first purchase
  (0 when ``x`` is 0);
- ``T``: age, the time from the first purchase to the end of the calibration
  period;

all three in one time unit (weeks in the papers; the warehouse passes
days / ``time_unit_days``). α is in that time unit; r, a and b have no unit.

**Gamma-Gamma** (spend per transaction): Fader, Hardie & Lee (2005), "RFM and
CLV: Using Iso-Value Curves for Customer Base Analysis", *Journal of Marketing
Research* 42(4):415–430, and Fader & Hardie, "The Gamma-Gamma Model of Monetary
Value" (2013). Assumptions: a customer's transaction values are Gamma(p, ν)
around their mean p/ν; ν varies across customers as Gamma(q, γ); spend is
independent of the purchase process (check that on the data: the correlation
of x and mean spend should be small). Fitted on each repeat customer's mean
spend ``mean_value`` (z̄) over their ``x`` repeat transactions; γ is in money.

Fitting is maximum likelihood: L-BFGS-B on the logarithms of the parameters,
bounded to [-10, 10] after scaling time (BG/NBD) by the mean age and money
(Gamma-Gamma) by the mean spend, with analytic gradients. Rows with the same
summary are grouped and weighted first, so cost grows with the number of
distinct summaries, not customers. Reported log-likelihoods are in the caller's
units (scaling only shifts them by a constant, and the parameters are scaled
back).

Errors: bad input raises :class:`InvalidInputError` (a :class:`ValueError`)
naming the problem and how many rows have it; a fit that cannot be done or does
not converge raises :class:`FitError`. Both are :class:`clv.errors.UserError`.
No function returns NaN: a value that would not be finite raises FitError. The
one exception is the standard errors (:func:`bg_nbd_standard_errors`,
:func:`gamma_gamma_standard_errors`): NaN for a parameter the likelihood does
not pin down (at a bound, or in a flat direction), since the fit stands.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special
from threadpoolctl import ThreadpoolController

from clv.errors import UserError

__all__ = [
    "BgNbdFit",
    "BoundaryWarning",
    "FitError",
    "GammaGammaFit",
    "InvalidInputError",
    "bg_nbd_log_likelihood",
    "bg_nbd_standard_errors",
    "discounted_expected_value",
    "expected_average_value",
    "expected_purchases",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "gamma_gamma_standard_errors",
    "probability_alive",
    "simulate_bg_nbd_summary",
]

FloatArray = NDArray[np.float64]

#: Bounds of the optimiser on the log of each (scaled) parameter.
LOG_BOUND = 10.0
#: A fit that L-BFGS-B does not call converged is still accepted when the
#: largest component of the projected gradient of the mean negative
#: log-likelihood (per customer, in log-parameters) is below this.
GRADIENT_TOLERANCE = 1e-6
#: Within this distance of a = 1 the conditional expectation, whose factor
#: (a + b + x − 1)/(a − 1) has a removable singularity there, is interpolated
#: linearly between a = 1 ± A_NEAR_ONE (relative error about 1e-8).
A_NEAR_ONE = 1e-4
#: Days in an average month (365.25 / 12), the step of discounted_expected_value.
DAYS_PER_MONTH = 365.25 / 12

_OPTIONS = {"maxiter": 2000, "maxfun": 10000, "ftol": 1e-12, "gtol": 1e-8}


class FitError(UserError):
    """A model cannot be fitted or evaluated: too little data, or no convergence."""


class InvalidInputError(UserError, ValueError):
    """Input that breaks the models' assumptions: the message names the problem and the rows."""


class BoundaryWarning(UserWarning):
    """A fitted parameter ended at the optimiser's bound: the data do not pin it down."""


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class BgNbdFit:
    """BG/NBD parameters and how they were fitted.

    r, alpha: shape and rate of the gamma distribution of purchase rates λ
    (alpha in the time unit of the data); a, b: the beta distribution of dropout
    probabilities p; log_likelihood: total (weighted) log-likelihood at the
    parameters, in the units of the data; n_customers: customers (sum of
    weights) fitted on; iterations: L-BFGS-B iterations; notes: one sentence
    per parameter that ended at the optimiser's bound (the BoundaryWarning's
    text), so a caller can report them without catching warnings, which Python
    3.11 keeps per process, not per thread.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    iterations: int
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, float]:
        """``{"r": .., "alpha": .., "a": .., "b": ..}``."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class GammaGammaFit:
    """Gamma-Gamma parameters and how they were fitted.

    p: shape of each transaction's gamma distribution; q, gamma: shape and rate
    of the gamma distribution of its rate ν (gamma in money); log_likelihood,
    n_customers and iterations as in :class:`BgNbdFit` (customers with x > 0
    and a positive mean spend).
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int
    iterations: int
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, float]:
        """``{"p": .., "q": .., "gamma": ..}``."""
        return {"p": self.p, "q": self.q, "gamma": self.gamma}


# ----------------------------------------------------------------- validation


def _column(name: str, values: ArrayLike) -> FloatArray:
    """``values`` (numpy, pandas or a sequence) as a 1-D float array."""
    try:
        if hasattr(values, "to_numpy"):
            array = values.to_numpy(dtype=np.float64, na_value=np.nan)  # type: ignore[union-attr]
        else:
            array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{name} must be numbers: {error}") from error
    array = np.atleast_1d(array)
    if array.ndim != 1:
        raise InvalidInputError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _rows(count: int, total: int) -> str:
    return f"{count:,} of {total:,} rows"


def _columns(**named: ArrayLike) -> list[FloatArray]:
    """Named columns as float arrays of one length, all finite."""
    arrays = {name: _column(name, values) for name, values in named.items()}
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} {length:,}" for name, length in lengths.items())
        raise InvalidInputError(f"inputs must have the same length, got {listed}")
    for name, array in arrays.items():
        bad = int(np.count_nonzero(~np.isfinite(array)))
        if bad:
            raise InvalidInputError(
                f"{name} must be finite numbers; {_rows(bad, len(array))} are NaN or infinite"
            )
    return list(arrays.values())


def _check_counts(x: FloatArray) -> None:
    negative = int(np.count_nonzero(x < 0))
    if negative:
        raise InvalidInputError(
            f"x (repeat purchases) must be 0 or more; {_rows(negative, len(x))} are negative"
        )
    fractional = int(np.count_nonzero(x != np.floor(x)))
    if fractional:
        raise InvalidInputError(
            f"x (repeat purchases) must be whole numbers; {_rows(fractional, len(x))} are not"
        )


def _summary(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[FloatArray, ...]:
    """Validated BG/NBD summaries: x whole >= 0, 0 <= t_x <= T, t_x = 0 when x = 0."""
    x, t_x, T = _columns(x=x, t_x=t_x, T=T)
    n = len(x)
    _check_counts(x)
    for name, values in (("t_x (recency)", t_x), ("T (age)", T)):
        negative = int(np.count_nonzero(values < 0))
        if negative:
            raise InvalidInputError(f"{name} must be 0 or more; {_rows(negative, n)} are negative")
    late = int(np.count_nonzero(t_x > T))
    if late:
        raise InvalidInputError(
            f"t_x (recency) must not exceed T (age); it does in {_rows(late, n)}"
        )
    stray = int(np.count_nonzero((x == 0) & (t_x != 0)))
    if stray:
        raise InvalidInputError(
            f"t_x (recency) must be 0 when x (repeat purchases) is 0; {_rows(stray, n)}"
            " have x = 0 and t_x > 0"
        )
    return x, t_x, T


def _weights(weights: ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n)
    (w,) = _columns(weights=weights)
    if len(w) != n:
        raise InvalidInputError(f"weights must have one value per row: got {len(w):,} for {n:,}")
    negative = int(np.count_nonzero(w < 0))
    if negative:
        raise InvalidInputError(f"weights must be 0 or more; {_rows(negative, n)} are negative")
    return w


def _parameters(model: str, names: Sequence[str], values: Sequence[float]) -> list[float]:
    values = list(values)
    if len(values) != len(names):
        raise InvalidInputError(
            f"{model} takes {len(names)} parameters ({', '.join(names)}), got {len(values)}"
        )
    checked = []
    for name, value in zip(names, values, strict=True):
        number = float(value)
        if not (math.isfinite(number) and number > 0):
            raise InvalidInputError(f"{model} parameter {name} must be more than 0, got {value!r}")
        checked.append(number)
    return checked


def _bg_parameters(fit: BgNbdFit) -> list[float]:
    return _parameters("BG/NBD", ("r", "alpha", "a", "b"), (fit.r, fit.alpha, fit.a, fit.b))


def _gg_parameters(fit: GammaGammaFit) -> list[float]:
    return _parameters("Gamma-Gamma", ("p", "q", "gamma"), (fit.p, fit.q, fit.gamma))


def _finite_or_fail(values: FloatArray, what: str) -> FloatArray:
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        raise FitError(f"{what} is not a finite number for {_rows(bad, values.size)}")
    return values


def _dot(a: FloatArray, b: FloatArray) -> float:
    """Σ a·b without BLAS.

    OpenBLAS threads its dot product; on a busy machine waiting for the second
    thread made each call ~50× slower (measured: a BG/NBD evaluation went from
    1.4 to 33 ms on 2 loaded cores). einsum's own loop has no threads.
    """
    return float(np.einsum("i,i->", a, b))


# ------------------------------------------------------------------- grouping


def _group(
    columns: Sequence[FloatArray], weights: FloatArray | None = None
) -> tuple[list[FloatArray], FloatArray, NDArray[np.intp]]:
    """Distinct rows of ``columns``, their summed weights (or counts) and each row's group.

    Sorted lexicographically with the first column as the primary key.
    """
    n = len(columns[0])
    if n == 0:
        return [c[:0] for c in columns], np.zeros(0), np.zeros(0, dtype=np.intp)
    order = np.lexsort(tuple(reversed(columns)))
    ordered = [c[order] for c in columns]
    starts_group = np.zeros(n, dtype=bool)
    starts_group[0] = True
    for c in ordered:
        starts_group[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(starts_group)
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(starts_group) - 1
    if weights is None:
        summed = np.diff(np.append(starts, n)).astype(np.float64)
    else:
        summed = np.add.reduceat(weights[order], starts)
    return [c[starts] for c in ordered], summed, inverse


# --------------------------------------------------------------- optimisation


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The loaded BLAS libraries, inspected once (threadpoolctl's inspection is slow)."""
    return ThreadpoolController()


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter: Any = None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread while any thread of this process is inside.

    Nestable and safe across threads (the rolling-origin backtest fits origins
    in a thread pool): the first to enter sets the limit, the last to leave
    restores the original, so one fit ending cannot lift the limit from under
    another.
    """
    global _blas_users, _blas_limiter
    with _blas_lock:
        if _blas_users == 0:
            _blas_limiter = _blas_controller().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def _maximise(
    model: str,
    negative_mean_ll: Callable[[FloatArray], tuple[float, FloatArray]],
    starts: Sequence[FloatArray],
    names: Sequence[str],
    warn: bool = True,
) -> tuple[FloatArray, int, tuple[str, ...]]:
    """Log-parameters minimising ``negative_mean_ll`` from the first start that converges.

    Returns them, the iterations taken and a note per parameter at a bound.
    Raises FitError with the optimiser's message if no start converges; warns
    (BoundaryWarning) if a parameter ends at a bound, unless ``warn`` is false.
    """
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    failures = []
    for start in starts:
        start = np.clip(start, -LOG_BOUND + 1, LOG_BOUND - 1)
        # L-BFGS-B calls BLAS on vectors of four: OpenBLAS's threads only wait
        # for each other (measured: a 5,000-customer fit took 0.12 s with two
        # threads on a busy 2-core machine, 0.011 s with one).
        with one_blas_thread():
            result = optimize.minimize(
                negative_mean_ll,
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options=_OPTIONS,
            )
        theta = np.asarray(result.x, dtype=np.float64)
        value, gradient = negative_mean_ll(theta)
        at_low = theta <= -LOG_BOUND + 1e-9
        at_high = theta >= LOG_BOUND - 1e-9
        projected = np.where((at_low & (gradient > 0)) | (at_high & (gradient < 0)), 0.0, gradient)
        largest = float(np.max(np.abs(projected)))
        if math.isfinite(value) and (result.success or largest < GRADIENT_TOLERANCE):
            notes = tuple(
                f"{model} parameter {name} ended at the optimiser's bound"
                f" (log {log_value:+.0f} in scaled units): the data do not identify it"
                for name, low, high, log_value in zip(names, at_low, at_high, theta, strict=True)
                if low or high
            )
            if warn:
                for note in notes:
                    warnings.warn(note, BoundaryWarning, stacklevel=3)
            return theta, int(result.nit), notes
        failures.append(
            f"{result.message} after {result.nit} iterations, largest gradient {largest:.2g}"
        )
    raise FitError(f"{model} fit did not converge: {'; '.join(failures)}")


# ----------------------------------------------------------------- BG/NBD fit


@dataclass(frozen=True)
class _BgNbdData:
    """Grouped BG/NBD summaries, time divided by ``scale``; x_index points into x_values."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray
    x_values: FloatArray
    x_index: NDArray[np.intp]
    x_weight: FloatArray
    scale: float

    @classmethod
    def build(
        cls,
        x: FloatArray,
        t_x: FloatArray,
        T: FloatArray,
        weights: FloatArray,
        scale: float,
        group: bool = True,
    ) -> _BgNbdData:
        keep = weights > 0
        columns = [x[keep], t_x[keep] / scale, T[keep] / scale]
        if group:
            (gx, gt, gT), gw, _ = _group(columns, weights[keep])
        else:
            (gx, gt, gT), gw = columns, weights[keep]
        x_values, x_index = np.unique(gx, return_inverse=True)
        x_weight = np.bincount(x_index, weights=gw, minlength=len(x_values))
        return cls(gx, gt, gT, gw, x_values, x_index, x_weight, scale)

    def log_likelihood(
        self, log_params: FloatArray, gradient: bool = True
    ) -> tuple[float, FloatArray]:
        """Total weighted log-likelihood (scaled time) and its gradient in log-parameters."""
        r, alpha, a, b = np.exp(log_params)
        xv, k, w = self.x_values, self.x_index, self.weight
        repeat = xv > 0
        xv1 = np.where(repeat, xv, 1.0)  # keeps b + x − 1 > 0 where x = 0 (masked out)
        # Terms that depend on x alone: evaluated once per distinct x.
        log_a1 = special.gammaln(r + xv) - special.gammaln(r) + r * np.log(alpha)
        beta_ab = special.betaln(a, b)
        log_b2 = special.betaln(a, b + xv) - beta_ab
        log_b3 = np.where(repeat, special.betaln(a + 1, b + xv1 - 1) - beta_ab, -np.inf)
        # Per distinct (x, t_x, T).
        rx = r + self.x
        log_alpha_T = np.log(alpha + self.T)
        log_alpha_t = np.log(alpha + self.t_x)
        log_2 = log_b2[k] - rx * log_alpha_T
        log_3 = log_b3[k] - rx * log_alpha_t
        # logaddexp(log_2, log_3), sharing exp(−|log_2 − log_3|) with the softmax weights.
        smaller = np.exp(-np.abs(log_2 - log_3))  # 0 where x = 0 (log_3 = −inf)
        mixture = np.maximum(log_2, log_3) + np.log1p(smaller)
        total = _dot(w, log_a1[k]) + _dot(w, mixture)
        if not gradient:
            return total, np.zeros(4)
        # Softmax weight of the dropout component ln A3 (0 when x = 0).
        share_3 = np.where(log_3 > log_2, 1.0, smaller) / (1.0 + smaller)
        share_2 = 1.0 - share_3
        ws3 = w * share_3
        ws2 = w - ws3
        W = self.x_weight
        W3 = np.bincount(k, weights=ws3, minlength=len(xv))
        psi_r = special.digamma(r + xv) - special.digamma(r)
        psi_ab = special.digamma(a + b) - special.digamma(a + b + xv)
        d_r = _dot(W, psi_r + np.log(alpha)) - _dot(ws2, log_alpha_T) - _dot(ws3, log_alpha_t)
        d_alpha = r * W.sum() / alpha - _dot(
            w * rx, share_2 / (alpha + self.T) + share_3 / (alpha + self.t_x)
        )
        d_a = _dot(W, psi_ab) + W3.sum() / a
        d_b = _dot(W, psi_ab - special.digamma(b) + special.digamma(b + xv)) - _dot(
            W3, np.where(repeat, 1.0 / (b + xv1 - 1), 0.0)
        )
        return total, np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])


def bg_nbd_log_likelihood(
    params: Sequence[float],
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total (weighted) BG/NBD log-likelihood at ``params = (r, alpha, a, b)``.

    Fader, Hardie & Lee (2005), Marketing Science 24(2), eq. 6::

        L(r, α, a, b | x, t_x, T) = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
            + δ_{x>0} · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

    computed in log space, ln L = ln A1 + logaddexp(ln A2, ln A3), with
    ln A1 = lnΓ(r+x) − lnΓ(r) + r ln α,
    ln A2 = ln B(a, b+x) − ln B(a, b) − (r+x) ln(α+T),
    ln A3 = ln B(a+1, b+x−1) − ln B(a, b) − (r+x) ln(α+t_x) (x > 0 only),
    so it stays finite for hundreds of purchases over thousands of days.
    ``weights`` (default 1) counts customers per row. On CDNOW in weeks at the
    published estimates it is −9,582.4.
    """
    r, alpha, a, b = _parameters("BG/NBD", ("r", "alpha", "a", "b"), params)
    x_, t_x_, T_ = _summary(x, t_x, T)
    w = _weights(weights, len(x_))
    data = _BgNbdData.build(x_, t_x_, T_, w, 1.0)
    total, _ = data.log_likelihood(np.log([r, alpha, a, b]), gradient=False)
    if not math.isfinite(total):
        raise FitError("the BG/NBD log-likelihood is not finite at these parameters")
    return total


def _time_scale(T: FloatArray, weights: FloatArray) -> float:
    total = float(weights.sum())
    mean_age = _dot(weights, T) / total if total > 0 else 0.0
    return mean_age if mean_age > 0 else 1.0


def fit_bg_nbd(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    start: BgNbdFit | None = None,
    group: bool = True,
    warn: bool = True,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD parameters (Fader, Hardie & Lee 2005).

    Maximises :func:`bg_nbd_log_likelihood` over ln r, ln α, ln a, ln b with
    L-BFGS-B and the analytic gradient (digamma terms; the two components of
    the mixture enter with their softmax weights). Time is divided by the mean
    age T first (α is scaled back) and identical rows are grouped.
    Start: r = 1, a = 1, b = 1 and α such that r/α is the mean repeat rate
    Σx/ΣT; a second start r = a = b = 0.5 if the first does not converge.
    ``start`` (an earlier fit on similar data, e.g. the previous step of the
    seasonal clock's estimation) is tried first: it saves iterations, and the
    optimum is the same to the optimiser's tolerance. ``group=False`` skips
    the grouping of identical rows, for a caller whose rows are already
    distinct with their counts as ``weights`` (the seasonal clock groups its
    customers once and refits on every step): the likelihood is the same,
    only the sort is saved. ``warn=False``: a parameter at a bound is only
    in the fit's ``notes``.

    Raises FitError when fewer than 2 customers have a repeat purchase, or when
    the optimiser does not converge (with its message); warns BoundaryWarning
    when a parameter ends at a bound of [e^-10, e^10] (scaled).
    """
    x_, t_x_, T_ = _summary(x, t_x, T)
    w = _weights(weights, len(x_))
    repeaters = int(np.count_nonzero((x_ > 0) & (w > 0)))
    if repeaters < 2:
        raise FitError(f"BG/NBD needs at least 2 customers with a repeat purchase, got {repeaters}")
    scale = _time_scale(T_, w)
    data = _BgNbdData.build(x_, t_x_, T_, w, scale, group=group)
    total_weight = float(data.weight.sum())

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        value, grad = data.log_likelihood(theta)
        return -value / total_weight, -grad / total_weight

    exposure = _dot(data.weight, data.T)
    if exposure <= 0:
        raise FitError("BG/NBD needs customers with an age T above 0; every T is 0")
    rate = _dot(data.weight, data.x) / exposure  # repeat purchases per unit of scaled time
    starts = [
        np.array([0.0, -math.log(rate), 0.0, 0.0]),
        np.array([math.log(0.5), math.log(0.5 / rate), math.log(0.5), math.log(0.5)]),
    ]
    if start is not None:
        r0, alpha0, a0, b0 = _bg_parameters(start)
        starts.insert(0, np.log([r0, alpha0 / scale, a0, b0]))
    theta, iterations, notes = _maximise(
        "BG/NBD", objective, starts, ("r", "alpha", "a", "b"), warn=warn
    )
    r, alpha, a, b = np.exp(theta)
    log_likelihood = data.log_likelihood(theta, gradient=False)[0] - math.log(scale) * _dot(
        data.weight, data.x
    )
    return BgNbdFit(
        r=float(r),
        alpha=float(alpha * scale),
        a=float(a),
        b=float(b),
        log_likelihood=float(log_likelihood),
        n_customers=round(float(w.sum())),
        iterations=iterations,
        notes=notes,
    )


# --------------------------------------------------------- BG/NBD predictions


def _log_odds_dead(
    params: Sequence[float], x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """ln[(a/(b+x−1)) ((α+T)/(α+t_x))^(r+x)] for x > 0 (−inf for x = 0)."""
    r, alpha, a, b = params
    repeat = x > 0
    x1 = np.where(repeat, x, 1.0)
    value = math.log(a) - np.log(b + x1 - 1) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))
    return np.where(repeat, value, -np.inf)


def probability_alive(fit: BgNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(alive | x, t_x, T): the probability that a customer has not dropped out by T.

    Fader, Hardie & Lee (2008), "Computing P(alive) Using the BG/NBD Model"
    (note to their 2005 Marketing Science paper)::

        P(alive) = 1 / (1 + δ_{x>0} · (a/(b+x−1)) · ((α+T)/(α+t_x))^(r+x))

    evaluated as expit(−ln(...)) so that large x and T do not overflow. 1 for a
    customer with no repeat purchase (in BG/NBD dropout follows a purchase).
    """
    params = _bg_parameters(fit)
    x_, t_x_, T_ = _summary(x, t_x, T)
    alive = special.expit(-_log_odds_dead(params, x_, t_x_, T_))
    return _finite_or_fail(alive, "P(alive)")


def _growth_core(
    params: Sequence[float], x: FloatArray, T: FloatArray, t: FloatArray
) -> FloatArray:
    """(a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)], a ≠ 1.

    z = t/(α+T+t). The hypergeometric term is evaluated through Euler's
    transformation 2F1(A, B; C; z) = (1−z)^(C−A−B) 2F1(C−A, C−B; C; z), which
    turns it into (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z): the same value
    (an identity), but with small upper parameters, so it neither overflows nor
    loses digits for large x (the untransformed 2F1 grows like (1−z)^−(r+x)).
    Where that is not finite the untransformed form is tried.
    """
    r, alpha, a, b = params
    c = a + b + x - 1
    keep = alpha + T
    one_minus_z = keep / (keep + t)
    z = t / (keep + t)
    # Non-finite values are expected here for extreme inputs and handled below.
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        term = one_minus_z ** (a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, c, z)
    bad = ~np.isfinite(term)
    if bad.any():
        direct = one_minus_z[bad] ** (r + x[bad]) * special.hyp2f1(
            r + x[bad], b + x[bad], c[bad], z[bad]
        )
        term[bad] = direct
    return c / (a - 1) * (1 - term)


def _growth(params: Sequence[float], x: FloatArray, T: FloatArray, t: FloatArray) -> FloatArray:
    """:func:`_growth_core`, interpolated in a across the removable singularity a = 1."""
    r, alpha, a, b = params
    if abs(a - 1) >= A_NEAR_ONE:
        return _growth_core(params, x, T, t)
    low = _growth_core((r, alpha, 1 - A_NEAR_ONE, b), x, T, t)
    high = _growth_core((r, alpha, 1 + A_NEAR_ONE, b), x, T, t)
    return low + (a - (1 - A_NEAR_ONE)) / (2 * A_NEAR_ONE) * (high - low)


def expected_purchases(
    fit: BgNbdFit, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] of a customer with this history.

    Fader, Hardie & Lee (2005), Marketing Science 24(2), eq. 10::

        E[Y(t) | x, t_x, T] = (a+b+x−1)/(a−1)
            · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]
            / (1 + δ_{x>0} (a/(b+x−1)) ((α+T)/(α+t_x))^(r+x))

    i.e. P(alive) times the bracketed growth. The formula holds for a < 1 too
    (both the factor and the bracket are then negative: CDNOW's a is 0.79); at
    a = 1 its singularity is removable and the value is interpolated between
    a = 1 ± 1e-4. The hypergeometric term depends only on (x, T, t) and is
    computed once per distinct triple (see :func:`_growth_core` for the Euler
    transformation used). ``t`` is in the data's time unit, a scalar or an
    array broadcastable against the customers.
    """
    params = _bg_parameters(fit)
    x_, t_x_, T_ = _summary(x, t_x, T)
    t_ = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(t_)) or np.any(t_ < 0):
        raise InvalidInputError("t (the prediction horizon) must be finite and 0 or more")
    t_b, x_b, t_x_b, T_b = np.broadcast_arrays(t_, x_, t_x_, T_)
    shape = x_b.shape
    t_f, x_f, t_x_f, T_f = (np.ravel(v) for v in (t_b, x_b, t_x_b, T_b))
    (xu, Tu, tu), _, inverse = _group([x_f, T_f, t_f])
    growth = _growth(params, xu, Tu, tu)[inverse]
    alive = special.expit(-_log_odds_dead(params, x_f, t_x_f, T_f))
    return _finite_or_fail(alive * growth, "expected purchases").reshape(shape)


def discounted_expected_value(
    fit: BgNbdFit,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    value_per_purchase: ArrayLike,
    *,
    months: int,
    annual_discount_rate: float,
    time_unit_days: float,
    month_ends: ArrayLike | None = None,
) -> FloatArray:
    """Discounted expected value of the purchases of the next ``months`` months.

    ::

        sum_{m=1..months} v · (E[X(t_m)] − E[X(t_{m−1})]) / (1 + d)^(m/12)

    with E the BG/NBD conditional expectation (:func:`expected_purchases`),
    t_m = m · (365.25/12) / time_unit_days (whole months in the data's time
    unit, t_0 = 0), v the value of a purchase (e.g. the Gamma-Gamma expected
    spend times a margin share; scalar or one per customer) and d the annual
    discount rate: each month's purchases are discounted at the end of the
    month. ``month_ends`` replaces t_1 … t_months by other times (one per
    month, increasing, in the data's time unit): the month ends on a seasonal
    clock (clv.seasonal). The hypergeometric terms are computed once per
    distinct (x, T) and month.
    """
    params = _bg_parameters(fit)
    x_, t_x_, T_ = _summary(x, t_x, T)
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise InvalidInputError(f"months must be a whole number of at least 1, got {months!r}")
    rate = float(annual_discount_rate)
    if not (math.isfinite(rate) and rate > -1):
        raise InvalidInputError(f"annual_discount_rate must be more than -1, got {rate!r}")
    unit = float(time_unit_days)
    if not (math.isfinite(unit) and unit > 0):
        raise InvalidInputError(f"time_unit_days must be more than 0, got {unit!r}")
    value = np.asarray(value_per_purchase, dtype=np.float64)
    if value.ndim > 1 or (value.ndim == 1 and len(value) != len(x_)):
        raise InvalidInputError(
            f"value_per_purchase must be a number or one per row ({len(x_):,}),"
            f" got shape {value.shape}"
        )
    bad = int(np.count_nonzero(~np.isfinite(value)))
    if bad:
        raise InvalidInputError(
            f"value_per_purchase must be finite; {_rows(bad, value.size)} are NaN or infinite"
        )
    if month_ends is None:
        ends = np.arange(1, int(months) + 1) * (DAYS_PER_MONTH / unit)
    else:
        ends = np.asarray(month_ends, dtype=np.float64)
        if ends.shape != (months,) or not np.all(np.isfinite(ends)) or np.any(np.diff(ends) < 0):
            raise InvalidInputError(
                f"month_ends must be {months} finite, non-decreasing times, got shape {ends.shape}"
            )
        if ends[0] < 0:
            raise InvalidInputError("month_ends must be 0 or more")
    (xu, Tu), _, inverse = _group([x_, T_])
    previous = np.zeros(len(xu))
    discounted = np.zeros(len(xu))
    for m in range(1, int(months) + 1):
        current = _growth(params, xu, Tu, np.full(len(xu), ends[m - 1]))
        discounted += (current - previous) / (1 + rate) ** (m / 12)
        previous = current
    alive = special.expit(-_log_odds_dead(params, x_, t_x_, T_))
    result = value * alive * discounted[inverse]
    return _finite_or_fail(np.asarray(result, dtype=np.float64), "discounted expected value")


# ----------------------------------------------------------------- Gamma-Gamma


@dataclass(frozen=True)
class _GammaGammaData:
    """Grouped (x, z̄) of repeat customers, money divided by ``scale``."""

    x: FloatArray
    log_z: FloatArray
    z: FloatArray
    weight: FloatArray
    x_values: FloatArray
    x_weight: FloatArray
    constant: float  # Σ w (x ln x): a data-only term, kept to report the full likelihood
    scale: float

    @classmethod
    def build(
        cls, x: FloatArray, z: FloatArray, weights: FloatArray, scale: float
    ) -> _GammaGammaData:
        (gx, gz), gw, _ = _group([x, z / scale], weights)
        x_values, x_index = np.unique(gx, return_inverse=True)
        x_weight = np.bincount(x_index, weights=gw, minlength=len(x_values))
        constant = _dot(gw, gx * np.log(gx))
        return cls(gx, np.log(gz), gz, gw, x_values, x_weight, constant, scale)

    def log_likelihood(
        self, log_params: FloatArray, gradient: bool = True
    ) -> tuple[float, FloatArray]:
        """Total weighted log-likelihood (scaled money) and its gradient in log-parameters."""
        p, q, g = np.exp(log_params)
        xv, w, W = self.x_values, self.weight, self.x_weight
        px = p * xv
        per_x = special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(g)
        log_total = np.log(g + self.x * self.z)
        pxr = p * self.x
        total = (
            _dot(W, per_x)
            + _dot(w, (pxr - 1) * self.log_z)
            + p * self.constant
            - _dot(w, (pxr + q) * log_total)
        )
        if not gradient:
            return total, np.zeros(3)
        psi_pxq = special.digamma(px + q)
        wx = w * self.x
        d_p = (
            _dot(W, xv * (psi_pxq - special.digamma(px)))
            + _dot(wx, self.log_z)
            + self.constant
            - _dot(wx, log_total)
        )
        d_q = _dot(W, psi_pxq - special.digamma(q) + np.log(g)) - _dot(w, log_total)
        d_g = q * W.sum() / g - _dot(w, (pxr + q) / (g + self.x * self.z))
        return total, np.array([d_p * p, d_q * q, d_g * g])


def _spend(x: ArrayLike, mean_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x_, z = _columns(x=x, mean_value=mean_value)
    _check_counts(x_)
    negative = int(np.count_nonzero(z < 0))
    if negative:
        raise InvalidInputError(
            f"mean_value (mean spend) must be 0 or more; {_rows(negative, len(z))} are negative"
        )
    return x_, z


def gamma_gamma_log_likelihood(
    params: Sequence[float],
    x: ArrayLike,
    mean_value: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total (weighted) Gamma-Gamma log-likelihood of the mean spends, ``params = (p, q, γ)``.

    Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value": the mean
    z̄ of x transactions ~ Gamma(px, νx), ν ~ Gamma(q, γ), so::

        ln f(z̄ | x) = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ
                      + (px−1) ln z̄ + px ln x − (px+q) ln(γ + x z̄)

    (the density of the mean; the note's likelihood of the individual values
    differs by a term free of the parameters). Only rows with x > 0 and
    z̄ > 0 count.
    """
    p, q, g = _parameters("Gamma-Gamma", ("p", "q", "gamma"), params)
    x_, z = _spend(x, mean_value)
    w = _weights(weights, len(x_))
    used = (x_ > 0) & (z > 0) & (w > 0)
    data = _GammaGammaData.build(x_[used], z[used], w[used], 1.0)
    total, _ = data.log_likelihood(np.log([p, q, g]), gradient=False)
    if not math.isfinite(total):
        raise FitError("the Gamma-Gamma log-likelihood is not finite at these parameters")
    return total


def fit_gamma_gamma(
    x: ArrayLike, mean_value: ArrayLike, weights: ArrayLike | None = None, *, warn: bool = True
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters (Fader, Hardie & Lee 2005, JMR 42(4)).

    Uses only the rows with x > 0 and mean_value > 0 (a customer without a
    repeat purchase has no repeat spend). Maximises
    :func:`gamma_gamma_log_likelihood` over ln p, ln q, ln γ with L-BFGS-B and
    the analytic gradient (digamma terms), money divided by the mean spend
    first (γ is scaled back). Start: p = 1, q = 2, γ = mean spend (so that the
    population mean pγ/(q−1) is the observed mean); a second start p = q = 4
    if the first does not converge.

    Raises FitError when fewer than 2 such rows remain (naming how many) or
    the optimiser does not converge; a parameter at a bound is warned
    (BoundaryWarning, unless ``warn`` is false) and kept in the fit's ``notes``.
    """
    x_, z = _spend(x, mean_value)
    w = _weights(weights, len(x_))
    used = (x_ > 0) & (z > 0) & (w > 0)
    rows = int(np.count_nonzero(used))
    if rows < 2:
        raise FitError(
            "Gamma-Gamma needs at least 2 customers with a repeat purchase and a positive"
            f" mean spend, got {rows}"
        )
    customers = float(w[used].sum())
    scale = _dot(w[used], z[used]) / customers
    data = _GammaGammaData.build(x_[used], z[used], w[used], scale)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        value, grad = data.log_likelihood(theta)
        return -value / customers, -grad / customers

    starts = [np.array([0.0, math.log(2.0), 0.0]), np.log([4.0, 4.0, 3.0])]
    theta, iterations, notes = _maximise(
        "Gamma-Gamma", objective, starts, ("p", "q", "gamma"), warn=warn
    )
    p, q, g = np.exp(theta)
    log_likelihood = data.log_likelihood(theta, gradient=False)[0] - customers * math.log(scale)
    return GammaGammaFit(
        p=float(p),
        q=float(q),
        gamma=float(g * scale),
        log_likelihood=float(log_likelihood),
        n_customers=round(customers),
        iterations=iterations,
        notes=notes,
    )


def expected_average_value(fit: GammaGammaFit, x: ArrayLike, mean_value: ArrayLike) -> FloatArray:
    """E(M | p, q, γ, x, z̄): expected spend per future transaction.

    Fader, Hardie & Lee (2005), JMR 42(4), and Fader & Hardie (2013), eq. 5::

        E(M | x, z̄) = (γ + x z̄) p / (px + q − 1)

    a weighted mean of the population mean pγ/(q−1) and the customer's own z̄
    (the weight of z̄ grows with x). For x = 0 it is the population mean, which
    requires q > 1 (FitError otherwise).
    """
    p, q, g = _gg_parameters(fit)
    x_, z = _spend(x, mean_value)
    denominator = p * x_ + q - 1
    if np.any(x_ == 0) and q <= 1:
        raise FitError(
            f"the Gamma-Gamma population mean spend p·γ/(q−1) needs q > 1, got q = {q:g}"
        )
    if np.any(denominator <= 0):
        raise FitError(f"p·x + q − 1 must be positive, got p = {p:g}, q = {q:g}")
    value = (g + x_ * z) * p / denominator
    return _finite_or_fail(value, "expected average value")


# ------------------------------------------------------------ standard errors

#: Step, in log-parameters, of the central difference of the analytic gradient
#: that gives the Hessian. Measured on CDNOW: the standard errors move by 7e-8
#: (relative) at a step of 1e-4, where truncation (∝ step²) dominates, and by
#: 1.4e-7 at 1e-6, where rounding (∝ 1/step) does; at 1e-5 both are below 1e-7.
HESSIAN_STEP = 1e-5
#: The information matrix (in log-parameters) counts as positive definite when
#: its smallest eigenvalue exceeds this share of its largest: well above the
#: error of the finite difference, well below what a parameter the data pin
#: down gives.
INFORMATION_TOLERANCE = 1e-8


def _log_hessian(
    log_likelihood: Callable[[FloatArray], tuple[float, FloatArray]], theta: FloatArray
) -> FloatArray:
    """Symmetrised Hessian of a log-likelihood: central differences of its analytic gradient."""
    columns = []
    for i in range(len(theta)):
        step = np.zeros(len(theta))
        step[i] = HESSIAN_STEP
        columns.append(log_likelihood(theta + step)[1] - log_likelihood(theta - step)[1])
    hessian = np.column_stack(columns) / (2 * HESSIAN_STEP)
    return (hessian + hessian.T) / 2


def _standard_errors(
    names: Sequence[str],
    natural: Sequence[float],
    theta: FloatArray,
    log_likelihood: Callable[[FloatArray], tuple[float, FloatArray]],
) -> dict[str, float]:
    """Standard errors of the natural parameters from the observed information in log-parameters.

    ``theta`` is the log of the (scaled) estimate, ``natural`` the estimate in
    the caller's units. A parameter at the optimiser's bound gets NaN and the
    others are computed with it held fixed; then, while the information of the
    remaining parameters is not positive definite, the parameter that carries
    most of its flattest direction gets NaN too.
    """
    information = -_log_hessian(log_likelihood, theta)
    free = [i for i, value in enumerate(theta) if abs(value) < LOG_BOUND - 1e-9]
    errors = dict.fromkeys(names, math.nan)
    while free:
        block = information[np.ix_(free, free)]
        if not np.all(np.isfinite(block)):
            return errors
        eigenvalues, eigenvectors = np.linalg.eigh(block)
        if eigenvalues[0] > INFORMATION_TOLERANCE * max(eigenvalues[-1], 0.0):
            log_variance = np.einsum("ij,j,ij->i", eigenvectors, 1 / eigenvalues, eigenvectors)
            for i, variance in zip(free, log_variance, strict=True):
                # Delta method: cov_natural = D cov_log D, D = diag(natural).
                errors[names[i]] = float(natural[i] * math.sqrt(variance))
            return errors
        free.pop(int(np.argmax(np.abs(eigenvectors[:, 0]))))
    return errors


def bg_nbd_standard_errors(
    fit: BgNbdFit,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> dict[str, float]:
    """Asymptotic standard errors of the BG/NBD estimates: ``{"r", "alpha", "a", "b"}``.

    The observed-information standard errors of maximum likelihood (Efron &
    Hinkley 1978, "Assessing the accuracy of the maximum likelihood estimator:
    observed versus expected Fisher information", *Biometrika* 65(3):457–482)::

        I = −∇² ln L(θ̂)        (total log-likelihood, θ = ln r, ln α, ln a, ln b)
        Σ_θ = I⁻¹
        Σ = D Σ_θ D,  D = diag(r, α, a, b)   (delta method)
        se = √diag(Σ)

    on the same data and weights as :func:`fit_bg_nbd` (``fit`` should be its
    result on them). The Hessian is the central difference of the analytic
    gradient, symmetrised; time is scaled by the mean age as in the fit, which
    only shifts ln α, and D holds α in the data's time unit, so se(α) is in
    that unit and se(r), se(a), se(b) have none. They are asymptotic: good
    when many customers inform each parameter.

    No exception for a flat likelihood: a parameter at the optimiser's bound
    gets NaN (the others are then computed with it held at its bound), and
    while the information of the rest is not positive definite (smallest
    eigenvalue ≤ 1e-8 × the largest) the parameter that dominates its flattest
    direction gets NaN too. Invalid input raises InvalidInputError as in the fit.
    """
    params = _bg_parameters(fit)
    x_, t_x_, T_ = _summary(x, t_x, T)
    w = _weights(weights, len(x_))
    scale = _time_scale(T_, w)
    data = _BgNbdData.build(x_, t_x_, T_, w, scale)
    r, alpha, a, b = params
    theta = np.log([r, alpha / scale, a, b])
    return _standard_errors(("r", "alpha", "a", "b"), params, theta, data.log_likelihood)


def gamma_gamma_standard_errors(
    fit: GammaGammaFit,
    x: ArrayLike,
    mean_value: ArrayLike,
    weights: ArrayLike | None = None,
) -> dict[str, float]:
    """Asymptotic standard errors of the Gamma-Gamma estimates: ``{"p", "q", "gamma"}``.

    As :func:`bg_nbd_standard_errors`, for θ = (ln p, ln q, ln γ) and the total
    log-likelihood of :func:`gamma_gamma_log_likelihood` over the rows the fit
    uses (x > 0, mean_value > 0)::

        se = √diag(D (−∇² ln L(θ̂))⁻¹ D),  D = diag(p, q, γ)

    Money is scaled by the mean spend as in :func:`fit_gamma_gamma`; D holds γ
    in money, so se(γ) is in money and se(p), se(q) have none. NaN, not an
    exception, for a parameter at the optimiser's bound or in a flat direction
    of the likelihood (the rule of :func:`bg_nbd_standard_errors`), and for
    all three when fewer than 2 rows are usable.
    """
    params = _gg_parameters(fit)
    x_, z = _spend(x, mean_value)
    w = _weights(weights, len(x_))
    used = (x_ > 0) & (z > 0) & (w > 0)
    names = ("p", "q", "gamma")
    if np.count_nonzero(used) < 2:
        return dict.fromkeys(names, math.nan)
    scale = _dot(w[used], z[used]) / float(w[used].sum())
    data = _GammaGammaData.build(x_[used], z[used], w[used], scale)
    p, q, g = params
    theta = np.log([p, q, g / scale])
    return _standard_errors(names, params, theta, data.log_likelihood)


# ------------------------------------------------------------------ simulation


def simulate_bg_nbd_summary(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: ArrayLike,
    seed: int | None = None,
    *,
    time_step: float | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Summaries (x, t_x, T) of ``n`` customers drawn from the BG/NBD process.

    Each customer gets λ ~ Gamma(r, rate α) and p ~ Beta(a, b). Their repeat
    purchases would form a Poisson(λ) process on (0, T]; they drop out right
    after repeat purchase J ~ Geometric(p) (J = 1, 2, ...). With N ~ Poisson(λT)
    purchases in (0, T], x = min(N, J); given N, purchase times are N uniform
    points on (0, T], so t_x, the x-th of them, is T · Beta(x, N − x + 1).
    ``T`` is one age for all or one per customer. With ``time_step`` (e.g. 1/7
    for days when the unit is weeks) t_x is rounded down to a multiple of it,
    like a summary built from purchase dates.
    """
    if n < 0:
        raise InvalidInputError(f"n must be 0 or more, got {n}")
    r, alpha, a, b = _parameters("BG/NBD", ("r", "alpha", "a", "b"), (r, alpha, a, b))
    ages = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    if not np.all(np.isfinite(ages)) or np.any(ages < 0):
        raise InvalidInputError("T (age) must be finite and 0 or more")
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1.0 / alpha, size=n)
    dropout = np.clip(rng.beta(a, b, size=n), 1e-12, 1.0)
    lifetime_purchases = rng.geometric(dropout)
    possible = rng.poisson(rate * ages)
    x = np.minimum(possible, lifetime_purchases)
    t_x = np.zeros(n)
    repeat = x > 0
    xr = x[repeat]
    t_x[repeat] = ages[repeat] * rng.beta(xr, possible[repeat] - xr + 1)
    if time_step is not None:
        t_x = np.minimum(np.floor(t_x / time_step) * time_step, ages)
    return x.astype(np.float64), t_x, ages
