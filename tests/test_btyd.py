"""clv.btyd reproduces the published CDNOW fits and agrees with lifetimes 0.11.3.

Published estimates: Fader, Hardie & Lee (2005), Marketing Science 24(2)
(BG/NBD on the 2,357 CDNOW customers, weeks, calibration to week 39) and
JMR 42(4) (Gamma-Gamma on the 946 of them with a repeat purchase).
lifetimes is the independent reference for the predictions; both sides are
evaluated at the same parameters (ours), set on lifetimes' fitter as params_.
"""

from __future__ import annotations

import math
import threading
import warnings

import numpy as np
import pandas as pd
import pytest

from clv import btyd
from clv.errors import UserError

pytestmark = pytest.mark.unit

with warnings.catch_warnings():  # lifetimes 0.11.3 sets a pandas option pandas 3 deprecates
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BG_NBD_LL = -9582.4
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    data = load_cdnow_summary_data_with_monetary_value()
    assert len(data) == 2357
    return data


@pytest.fixture(scope="module")
def cdnow_arrays(cdnow) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        cdnow["frequency"].to_numpy(),
        cdnow["recency"].to_numpy(),
        cdnow["T"].to_numpy(),
        cdnow["monetary_value"].to_numpy(),
    )


@pytest.fixture(scope="module")
def bg_fit(cdnow_arrays) -> btyd.BgNbdFit:
    x, t_x, T, _ = cdnow_arrays
    return btyd.fit_bg_nbd(x, t_x, T)


@pytest.fixture(scope="module")
def gg_fit(cdnow_arrays) -> btyd.GammaGammaFit:
    x, _, _, spend = cdnow_arrays
    return btyd.fit_gamma_gamma(x, spend)


def lifetimes_bg(fit: btyd.BgNbdFit) -> BetaGeoFitter:
    """lifetimes' BG/NBD fitter set to our parameters (no fitting)."""
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series(fit.as_dict())
    return fitter


# -------------------------------------------------------- published estimates


def test_bg_nbd_reproduces_published_cdnow_estimates(bg_fit):
    for name, published in PUBLISHED_BG_NBD.items():
        assert bg_fit.as_dict()[name] == pytest.approx(published, rel=0.01), name
    assert bg_fit.log_likelihood == pytest.approx(PUBLISHED_BG_NBD_LL, rel=0.01)
    assert round(bg_fit.log_likelihood, 1) == PUBLISHED_BG_NBD_LL
    assert bg_fit.n_customers == 2357
    assert bg_fit.iterations > 0
    assert list(bg_fit.as_dict()) == ["r", "alpha", "a", "b"]


def test_bg_nbd_log_likelihood_at_published_parameters(cdnow_arrays):
    x, t_x, T, _ = cdnow_arrays
    params = tuple(PUBLISHED_BG_NBD.values())
    assert btyd.bg_nbd_log_likelihood(params, x, t_x, T) == pytest.approx(-9582.4, abs=0.05)


def test_gamma_gamma_reproduces_published_cdnow_estimates(gg_fit):
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert gg_fit.as_dict()[name] == pytest.approx(published, rel=0.01), name
    assert gg_fit.n_customers == 946
    assert list(gg_fit.as_dict()) == ["p", "q", "gamma"]
    assert math.isfinite(gg_fit.log_likelihood)


def test_fits_agree_with_lifetimes_fits(cdnow, bg_fit, gg_fit):
    """Each library fitted on its own: the same maximum (lifetimes stops at tol 1e-7)."""
    theirs = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"]).params_
    for name, ours in bg_fit.as_dict().items():
        assert ours == pytest.approx(theirs[name], rel=1e-4), name
    repeat = cdnow[cdnow["frequency"] > 0]
    theirs = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"]).params_
    for ours_name, their_name in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert gg_fit.as_dict()[ours_name] == pytest.approx(theirs[their_name], rel=1e-4)


# ------------------------------------------------- predictions against lifetimes


def test_probability_alive_matches_lifetimes(cdnow_arrays, bg_fit):
    x, t_x, T, _ = cdnow_arrays
    ours = btyd.probability_alive(bg_fit, x, t_x, T)
    theirs = lifetimes_bg(bg_fit).conditional_probability_alive(x, t_x, T)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)
    assert np.all(ours[x == 0] == 1.0)


@pytest.mark.parametrize("t", [39, 52])
def test_expected_purchases_match_lifetimes(cdnow_arrays, bg_fit, t):
    x, t_x, T, _ = cdnow_arrays
    ours = btyd.expected_purchases(bg_fit, t, x, t_x, T)
    theirs = lifetimes_bg(bg_fit).conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)
    assert bg_fit.a < 1  # CDNOW's a < 1: the formula holds there too
    assert np.all(ours > 0)


def test_expected_average_value_matches_lifetimes(cdnow_arrays, gg_fit):
    x, _, _, spend = cdnow_arrays
    fitter = GammaGammaFitter()
    fitter.params_ = pd.Series({"p": gg_fit.p, "q": gg_fit.q, "v": gg_fit.gamma})
    ours = btyd.expected_average_value(gg_fit, x, spend)
    theirs = fitter.conditional_expected_average_profit(x, spend)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)
    population_mean = gg_fit.p * gg_fit.gamma / (gg_fit.q - 1)
    np.testing.assert_allclose(ours[x == 0], population_mean, rtol=1e-12)


def test_expected_purchases_broadcast_t_and_pandas_inputs(cdnow, bg_fit):
    x, t_x, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    horizons = np.array([[0.0], [39.0], [52.0]])
    both = btyd.expected_purchases(bg_fit, horizons, x, t_x, T)
    assert both.shape == (3, len(cdnow))
    assert np.all(both[0] == 0)
    np.testing.assert_allclose(both[2], btyd.expected_purchases(bg_fit, 52, x, t_x, T))
    assert np.all(both[2] > both[1])


# ---------------------------------------------------------------- gradients


def _central_difference(function, theta: np.ndarray, step: float = 1e-6) -> np.ndarray:
    gradient = np.empty_like(theta)
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        gradient[i] = (function(up) - function(down)) / (2 * step)
    return gradient


@pytest.mark.parametrize(
    "params",
    [(0.243, 4.414, 0.793, 2.426), (1.5, 0.7, 3.0, 0.4), (0.05, 20.0, 1.0, 8.0), (3, 3, 0.2, 1)],
)
def test_bg_nbd_gradient_equals_finite_differences(cdnow_arrays, params):
    x, t_x, T, _ = cdnow_arrays
    weights = np.random.default_rng(7).uniform(0.5, 2.0, size=len(x))
    data = btyd._BgNbdData.build(x, t_x, T, weights, 1.0)
    theta = np.log(params)
    _, analytic = data.log_likelihood(theta)
    numeric = _central_difference(lambda th: data.log_likelihood(th, gradient=False)[0], theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6 * np.abs(numeric).max())


@pytest.mark.parametrize("params", [(6.25, 3.74, 15.44), (0.5, 1.5, 2.0), (20.0, 0.8, 200.0)])
def test_gamma_gamma_gradient_equals_finite_differences(cdnow_arrays, params):
    x, _, _, spend = cdnow_arrays
    used = x > 0
    data = btyd._GammaGammaData.build(x[used], spend[used], np.ones(int(used.sum())), 1.0)
    theta = np.log(params)
    _, analytic = data.log_likelihood(theta)
    numeric = _central_difference(lambda th: data.log_likelihood(th, gradient=False)[0], theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6 * np.abs(numeric).max())


def test_gamma_gamma_log_likelihood_is_the_density_of_the_mean():
    """The density integrates to 1 over z̄ (so the constant terms are right)."""
    p, q, gamma, x = 2.0, 3.0, 10.0, 4
    grid = np.linspace(1e-6, 400, 400_001)
    density = np.exp(
        [btyd.gamma_gamma_log_likelihood((p, q, gamma), [x], [z]) for z in grid[::400]]
    )
    assert np.trapezoid(density, grid[::400]) == pytest.approx(1.0, abs=2e-3)


# ---------------------------------------------------------------- stability


def test_large_histories_stay_finite():
    fit = btyd.BgNbdFit(
        r=0.243, alpha=4.414 * 7, a=0.793, b=2.426, log_likelihood=0, n_customers=0, iterations=0
    )
    x, t_x, T = [500, 0, 3], [4999, 0, 10], [5000, 5000, 5000]
    ll = btyd.bg_nbd_log_likelihood(tuple(fit.as_dict().values()), x, t_x, T)
    assert math.isfinite(ll)
    alive = btyd.probability_alive(fit, x, t_x, T)
    assert np.all((alive >= 0) & (alive <= 1))
    for t in (52 * 7, 10 * 365, 100 * 365):
        expected = btyd.expected_purchases(fit, t, x, t_x, T)
        assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    value = btyd.discounted_expected_value(
        fit, x, t_x, T, 10.0, months=120, annual_discount_rate=0.1, time_unit_days=1
    )
    assert np.all(np.isfinite(value))


def _hyp2f1_series(a: float, b: float, c: float, z: float) -> float:
    """2F1(a, b; c; z) by its power series (|z| well below 1)."""
    total = term = 1.0
    for n in range(10_000):
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total += term
        if abs(term) < 1e-17 * abs(total):
            return total
    raise AssertionError("series did not converge")


@pytest.mark.parametrize("x, T, t", [(200, 300.0, 52.0), (200, 210.0, 400.0), (2, 38.86, 39.0)])
def test_hypergeometric_term_for_large_x(x, T, t):
    """The Euler-transformed term equals the untransformed series (x = 200 included)."""
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    growth = btyd._growth((r, alpha, a, b), np.array([float(x)]), np.array([T]), np.array([t]))
    z = t / (alpha + T + t)
    # Untransformed: ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x−1; z), series in log space.
    log_power = (r + x) * math.log((alpha + T) / (alpha + T + t))
    series = _hyp2f1_series(r + x, b + x, a + b + x - 1, z)
    expected = (a + b + x - 1) / (a - 1) * (1 - math.exp(log_power + math.log(series)))
    assert growth[0] == pytest.approx(expected, rel=1e-10)


def _expectation_at_a_equal_one(r, alpha, b, x, t_x, T, t) -> float:
    """The a -> 1 limit of eq. 10, derived by hand (l'Hôpital on (a−1)).

    With z = t/(α+T+t): E = P(alive) · (b+x) · [−ln(1−z) − Σ_{n≥1} (b−r)_n z^n / ((b+x)_n n)].
    """
    z = t / (alpha + T + t)
    total, term = 0.0, 1.0
    for n in range(1, 10_000):
        term *= (b - r + n - 1) / (b + x + n - 1) * z
        total += term / n
        if abs(term) < 1e-18:
            break
    alive = 1.0
    if x > 0:
        alive = 1 / (1 + 1 / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    return alive * (b + x) * (-math.log(1 - z) - total)


def test_expectation_through_a_equal_one(cdnow_arrays):
    x, t_x, T, _ = cdnow_arrays

    def at(a: float) -> np.ndarray:
        fit = btyd.BgNbdFit(
            r=0.243, alpha=4.414, a=a, b=2.426, log_likelihood=0, n_customers=0, iterations=0
        )
        return btyd.expected_purchases(fit, 52, x, t_x, T)

    exactly_one = at(1.0)
    for i in range(0, len(x), 97):
        limit = _expectation_at_a_equal_one(0.243, 4.414, 2.426, x[i], t_x[i], T[i], 52.0)
        assert exactly_one[i] == pytest.approx(limit, rel=1e-7)
    np.testing.assert_allclose(at(1 + 5e-5), exactly_one, rtol=1e-4)
    fitter = lifetimes_bg(btyd.BgNbdFit(0.243, 4.414, 1.001, 2.426, 0, 0, 0))
    theirs = fitter.conditional_expected_number_of_purchases_up_to_time(52, x, t_x, T)
    np.testing.assert_allclose(at(1.001), theirs, rtol=1e-6)


# ------------------------------------------------------------------ grouping


def test_grouped_fit_equals_expanded_fit(cdnow_arrays, bg_fit):
    x, t_x, T, _ = cdnow_arrays
    rows = pd.DataFrame({"x": x, "t_x": t_x, "T": T})
    grouped = rows.groupby(["x", "t_x", "T"], as_index=False).size()
    assert len(grouped) < len(rows)
    fit = btyd.fit_bg_nbd(grouped["x"], grouped["t_x"], grouped["T"], weights=grouped["size"])
    for name, value in bg_fit.as_dict().items():
        assert fit.as_dict()[name] == pytest.approx(value, rel=1e-6), name
    assert fit.log_likelihood == pytest.approx(bg_fit.log_likelihood, rel=1e-9)
    assert fit.n_customers == bg_fit.n_customers
    # Rows already distinct need no grouping (the seasonal clock's steps): the same fit.
    ungrouped = btyd.fit_bg_nbd(
        grouped["x"], grouped["t_x"], grouped["T"], weights=grouped["size"], group=False
    )
    for name, value in fit.as_dict().items():
        assert ungrouped.as_dict()[name] == pytest.approx(value, rel=1e-6), name
    assert ungrouped.log_likelihood == pytest.approx(fit.log_likelihood, rel=1e-9)


def test_weights_equal_repeated_rows(cdnow_arrays, gg_fit):
    x, _, _, spend = cdnow_arrays
    doubled = btyd.fit_gamma_gamma(np.tile(x, 2), np.tile(spend, 2))
    weighted = btyd.fit_gamma_gamma(x, spend, weights=np.full(len(x), 2.0))
    for name, value in doubled.as_dict().items():
        assert weighted.as_dict()[name] == pytest.approx(value, rel=1e-6)
        assert value == pytest.approx(gg_fit.as_dict()[name], rel=1e-6)
    assert weighted.log_likelihood == pytest.approx(2 * gg_fit.log_likelihood, rel=1e-9)


def test_time_unit_only_rescales_alpha(cdnow_arrays, bg_fit):
    x, t_x, T, _ = cdnow_arrays
    in_days = btyd.fit_bg_nbd(x, t_x * 7, T * 7)
    assert in_days.alpha == pytest.approx(bg_fit.alpha * 7, rel=1e-6)
    for name in ("r", "a", "b"):
        assert in_days.as_dict()[name] == pytest.approx(bg_fit.as_dict()[name], rel=1e-6)


def test_parameter_at_a_bound_warns():
    """Nobody drops out and everyone buys alike: the fit runs to the bounds and says so."""
    x = np.array([5, 6, 5, 7, 6, 5] * 50)
    T = np.full(len(x), 52.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = btyd.fit_bg_nbd(x, T - 0.5, T)
    assert {w.category for w in caught} == {btyd.BoundaryWarning}
    messages = " ".join(str(w.message) for w in caught)
    assert "parameter a ended at the optimiser's bound" in messages
    assert fit.a < 1e-4
    assert np.all(btyd.probability_alive(fit, x, T - 0.5, T) > 0.99)
    # The fit keeps what it warned, so callers in threads need no warning filters.
    assert fit.notes == tuple(str(w.message) for w in caught)
    with warnings.catch_warnings(record=True) as silent:
        warnings.simplefilter("always")
        quiet = btyd.fit_bg_nbd(x, T - 0.5, T, warn=False)
    assert silent == []
    assert quiet.notes == fit.notes


def test_blas_limit_is_restored_only_when_the_last_thread_leaves():
    controller = btyd._blas_controller()
    before = [info["num_threads"] for info in controller.info() if info["user_api"] == "blas"]
    entered, release = threading.Barrier(3), threading.Event()
    during = []

    def fit_in_a_thread():
        with btyd.one_blas_thread():
            entered.wait()
            release.wait()

    threads = [threading.Thread(target=fit_in_a_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    entered.wait()
    with btyd.one_blas_thread():
        during.append([i["num_threads"] for i in controller.info() if i["user_api"] == "blas"])
    # The main thread has left; the other two are still inside: still one thread.
    during.append([i["num_threads"] for i in controller.info() if i["user_api"] == "blas"])
    release.set()
    for thread in threads:
        thread.join()
    after = [info["num_threads"] for info in controller.info() if info["user_api"] == "blas"]
    assert during == [[1] * len(before)] * 2
    assert after == before


# ------------------------------------------------------------------- errors


def test_too_few_repeaters_is_a_fit_error():
    with pytest.raises(btyd.FitError, match="at least 2 customers with a repeat purchase, got 1"):
        btyd.fit_bg_nbd([0, 0, 3], [0, 0, 5.0], [10, 10, 10])
    with pytest.raises(btyd.FitError, match="got 0"):
        btyd.fit_bg_nbd([0, 0], [0, 0], [10, 10])
    with pytest.raises(btyd.FitError, match="Gamma-Gamma needs at least 2 .* got 1"):
        btyd.fit_gamma_gamma([0, 2, 3], [0, 10.0, 0.0])
    assert issubclass(btyd.FitError, UserError)


@pytest.mark.parametrize(
    "x, t_x, T, message",
    [
        (
            [1, 2],
            [5.0, 11.0],
            [10.0, 10.0],
            r"t_x \(recency\) must not exceed T \(age\); it does in 1 of 2 rows",
        ),
        ([1, np.nan], [5.0, 1.0], [10.0, 10.0], r"x must be finite numbers; 1 of 2 rows are NaN"),
        ([1, 2], [5.0, 1.0], [10.0, np.inf], r"T must be finite numbers; 1 of 2 rows"),
        ([0, 2], [5.0, 1.0], [10.0, 10.0], r"must be 0 when x \(repeat purchases\) is 0; 1 of 2"),
        ([-1, 2], [0.0, 1.0], [10.0, 10.0], r"must be 0 or more; 1 of 2 rows are negative"),
        ([1.5, 2], [1.0, 1.0], [10.0, 10.0], r"must be whole numbers; 1 of 2 rows are not"),
        ([1, 2], [-1.0, 1.0], [10.0, 10.0], r"t_x \(recency\) must be 0 or more"),
        ([1, 2, 3], [1.0, 1.0], [10.0, 10.0], r"same length, got x 3, t_x 2, T 2"),
    ],
)
def test_bad_summaries_are_named(x, t_x, T, message):
    for call in (
        lambda: btyd.fit_bg_nbd(x, t_x, T),
        lambda: btyd.bg_nbd_log_likelihood((1, 1, 1, 1), x, t_x, T),
        lambda: btyd.probability_alive(btyd.BgNbdFit(1, 1, 2, 1, 0, 0, 0), x, t_x, T),
    ):
        with pytest.raises(btyd.InvalidInputError, match=message) as caught:
            call()
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, UserError)


def test_nullable_pandas_missing_value_is_an_error():
    x = pd.Series([1, None, 2], dtype="Int64")
    with pytest.raises(btyd.InvalidInputError, match="x must be finite numbers; 1 of 3"):
        btyd.fit_bg_nbd(x, [1.0, 0.0, 2.0], [5.0, 5.0, 5.0])


def test_bad_parameters_and_spend_are_named(gg_fit):
    with pytest.raises(btyd.InvalidInputError, match="parameter alpha must be more than 0"):
        btyd.bg_nbd_log_likelihood((1, -1, 1, 1), [1], [1.0], [2.0])
    with pytest.raises(btyd.InvalidInputError, match=r"mean_value \(mean spend\) must be 0 or"):
        btyd.fit_gamma_gamma([1, 2], [-5.0, 3.0])
    with pytest.raises(btyd.InvalidInputError, match="mean_value must be finite"):
        btyd.expected_average_value(gg_fit, [1, 2], [np.nan, 3.0])
    low_q = btyd.GammaGammaFit(
        p=2.0, q=0.8, gamma=10.0, log_likelihood=0, n_customers=0, iterations=0
    )
    with pytest.raises(btyd.FitError, match="needs q > 1, got q = 0.8"):
        btyd.expected_average_value(low_q, [0, 2], [0.0, 3.0])
    assert btyd.expected_average_value(low_q, [2], [3.0])[0] == pytest.approx(32 / 3.8)


# ------------------------------------------------------- discounted expected value


def test_discounted_value_without_discounting_is_a_year_of_purchases(cdnow_arrays, bg_fit):
    x, t_x, T, _ = cdnow_arrays
    value = np.linspace(5, 50, len(x))
    undiscounted = btyd.discounted_expected_value(
        bg_fit, x, t_x, T, value, months=12, annual_discount_rate=0.0, time_unit_days=7
    )
    year = btyd.expected_purchases(bg_fit, 365.25 / 7, x, t_x, T)
    np.testing.assert_allclose(undiscounted, value * year, rtol=1e-10)
    discounted = btyd.discounted_expected_value(
        bg_fit, x, t_x, T, value, months=12, annual_discount_rate=0.1, time_unit_days=7
    )
    assert np.all(discounted < undiscounted)
    assert np.all(discounted > undiscounted / 1.1)


def test_discounted_value_of_one_month_by_hand(cdnow_arrays, bg_fit):
    x, t_x, T, _ = cdnow_arrays
    one_month = btyd.discounted_expected_value(
        bg_fit, x, t_x, T, 20.0, months=1, annual_discount_rate=0.12, time_unit_days=7
    )
    purchases = btyd.expected_purchases(bg_fit, 365.25 / 12 / 7, x, t_x, T)  # a month in weeks
    np.testing.assert_allclose(one_month, 20.0 * purchases / 1.12 ** (1 / 12), rtol=1e-10)


def test_discounted_value_rejects_bad_settings(cdnow_arrays, bg_fit):
    x, t_x, T, _ = cdnow_arrays
    settings = {"months": 12, "annual_discount_rate": 0.1, "time_unit_days": 7}
    for key, bad in (
        ("months", 0),
        ("months", 1.5),
        ("annual_discount_rate", math.nan),
        ("time_unit_days", 0),
    ):
        with pytest.raises(btyd.InvalidInputError, match=key):
            btyd.discounted_expected_value(bg_fit, x, t_x, T, 1.0, **{**settings, key: bad})
    with pytest.raises(btyd.InvalidInputError, match="value_per_purchase must be finite"):
        btyd.discounted_expected_value(bg_fit, x, t_x, T, np.full(len(x), np.nan), **settings)


# ---------------------------------------------------------------- simulation


def test_simulation_recovers_its_parameters():
    rng = np.random.default_rng(3)
    T = rng.integers(7, 729, size=60_000) / 7
    true = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    x, t_x, ages = btyd.simulate_bg_nbd_summary(60_000, *true.values(), T, seed=11)
    assert np.array_equal(ages, T)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = btyd.fit_bg_nbd(x, t_x, ages)
    for name, value in true.items():
        assert fit.as_dict()[name] == pytest.approx(value, rel=0.1), name


def test_simulation_is_reproducible_and_valid():
    first = btyd.simulate_bg_nbd_summary(5000, 0.5, 2.0, 1.2, 3.0, 52.0, seed=1, time_step=1 / 7)
    second = btyd.simulate_bg_nbd_summary(5000, 0.5, 2.0, 1.2, 3.0, 52.0, seed=1, time_step=1 / 7)
    for one, two in zip(first, second, strict=True):
        np.testing.assert_array_equal(one, two)
    x, t_x, T = first
    btyd.probability_alive(btyd.BgNbdFit(0.5, 2.0, 1.2, 3.0, 0, 0, 0), x, t_x, T)  # validates
    assert np.allclose(t_x * 7, np.round(t_x * 7))


# ------------------------------------------------------------ standard errors


def test_standard_errors_match_lifetimes(cdnow, cdnow_arrays, bg_fit, gg_fit):
    """lifetimes takes the autograd Hessian of the mean negative log-likelihood in
    log-parameters and returns sqrt(params² · diag(H⁻¹) / N): the same observed
    information as ours (total log-likelihood), at its own maximum (rel 1e-4 of ours).
    """
    x, t_x, T, spend = cdnow_arrays
    ours = btyd.bg_nbd_standard_errors(bg_fit, x, t_x, T)
    theirs = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert list(ours) == ["r", "alpha", "a", "b"]
    for name, value in ours.items():
        assert value == pytest.approx(theirs.standard_errors_[name], rel=1e-3), name
    ours = btyd.gamma_gamma_standard_errors(gg_fit, x, spend)
    repeat = cdnow[cdnow["frequency"] > 0]
    theirs = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    assert list(ours) == ["p", "q", "gamma"]
    for ours_name, their_name in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert ours[ours_name] == pytest.approx(theirs.standard_errors_[their_name], rel=1e-3)


def test_standard_errors_follow_the_time_unit(cdnow_arrays, bg_fit):
    """In days alpha is 7 times larger and so is its standard error; the others stay."""
    x, t_x, T, _ = cdnow_arrays
    in_weeks = btyd.bg_nbd_standard_errors(bg_fit, x, t_x, T)
    fit_in_days = btyd.fit_bg_nbd(x, t_x * 7, T * 7)
    in_days = btyd.bg_nbd_standard_errors(fit_in_days, x, t_x * 7, T * 7)
    assert in_days["alpha"] == pytest.approx(7 * in_weeks["alpha"], rel=1e-5)
    for name in ("r", "a", "b"):
        assert in_days[name] == pytest.approx(in_weeks[name], rel=1e-5), name


def _bootstrap_sd(fit_function, n: int, replicates: int = 200) -> np.ndarray:
    """Standard deviation of each parameter over fits on multinomial resamples of n rows."""
    weights = np.random.default_rng(8).multinomial(n, np.full(n, 1 / n), size=replicates)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a resample at a bound would not be a fair comparison
        fits = [list(fit_function(w).as_dict().values()) for w in weights]
    return np.std(fits, axis=0, ddof=1)


def test_bg_nbd_standard_errors_agree_with_a_bootstrap():
    """2,000 simulated customers, 200 resamples: each bootstrap sd within 25 % of the
    Hessian's (measured: ratios 0.96 to 1.05; the sd itself is known to ±5 % at B = 200)."""
    x, t_x, T = btyd.simulate_bg_nbd_summary(
        2000, 0.5, 4.0, 0.8, 2.5, np.linspace(1, 78, 2000), seed=21, time_step=1 / 7
    )
    fit = btyd.fit_bg_nbd(x, t_x, T)
    errors = btyd.bg_nbd_standard_errors(fit, x, t_x, T)
    bootstrap = _bootstrap_sd(lambda w: btyd.fit_bg_nbd(x, t_x, T, weights=w), len(x))
    for (name, error), sd in zip(errors.items(), bootstrap, strict=True):
        assert sd == pytest.approx(error, rel=0.25), name


def test_gamma_gamma_standard_errors_agree_with_a_bootstrap():
    """2,000 simulated repeat customers (p = 2, q = 5, γ = 100), 200 resamples
    (measured: ratios 1.12 to 1.17, the bootstrap wider as p and γ are skewed)."""
    rng = np.random.default_rng(13)
    x = 1 + rng.poisson(2.0, 2000)
    rate = rng.gamma(5.0, 1 / 100.0, 2000)  # ν ~ Gamma(q, γ)
    spend = rng.gamma(2.0 * x, 1 / (rate * x))  # z̄ ~ Gamma(px, νx)
    fit = btyd.fit_gamma_gamma(x, spend)
    errors = btyd.gamma_gamma_standard_errors(fit, x, spend)
    bootstrap = _bootstrap_sd(lambda w: btyd.fit_gamma_gamma(x, spend, weights=w), len(x))
    for (name, error), sd in zip(errors.items(), bootstrap, strict=True):
        assert sd == pytest.approx(error, rel=0.25), name


def test_standard_error_of_a_parameter_at_a_bound_is_nan():
    """The data of test_parameter_at_a_bound_warns: r, a and b end at bounds, alpha does not."""
    x = np.array([5, 6, 5, 7, 6, 5] * 50)
    T = np.full(len(x), 52.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", btyd.BoundaryWarning)
        fit = btyd.fit_bg_nbd(x, T - 0.5, T)
    errors = btyd.bg_nbd_standard_errors(fit, x, T - 0.5, T)
    assert math.isnan(errors["a"]) and math.isnan(errors["r"]) and math.isnan(errors["b"])
    assert math.isfinite(errors["alpha"]) and errors["alpha"] > 0


def test_a_flat_direction_of_the_likelihood_gets_nan():
    """ln L = −(4 θ0² + θ2²)/2 does not depend on θ1: its information is not positive definite."""

    def log_likelihood(theta: np.ndarray) -> tuple[float, np.ndarray]:
        curvature = np.array([4.0, 0.0, 1.0])
        return -0.5 * float(curvature @ theta**2), -curvature * theta

    errors = btyd._standard_errors(("u", "v", "w"), (3.0, 2.0, 5.0), np.zeros(3), log_likelihood)
    assert errors["u"] == pytest.approx(3.0 * 0.5)
    assert math.isnan(errors["v"])
    assert errors["w"] == pytest.approx(5.0 * 1.0)


def test_too_few_spend_rows_give_nan_standard_errors():
    fit = btyd.GammaGammaFit(
        p=2.0, q=3.0, gamma=10.0, log_likelihood=0, n_customers=0, iterations=0
    )
    errors = btyd.gamma_gamma_standard_errors(fit, [0, 2], [0.0, 10.0])
    assert all(math.isnan(value) for value in errors.values())
