"""Tests for kpitools.stats.intervals.

Reference values come from docs/methods.md#intervals (quoted beside each assertion), from
hand calculation, or from another library (statsmodels, scipy). Coverage is exact: every sample
outcome at a given n is enumerated once, and the multinomial/binomial probabilities of all grid
points are applied as one matrix product.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from kpitools.stats._common import StatisticalWarning, StatsInputError
from kpitools.stats.intervals import (
    BOOTSTRAP_MAX_N,
    _nps_interval_prop,
    bootstrap_difference,
    bootstrap_groups,
    bootstrap_interval,
    bootstrap_mean_counts,
    mean_interval,
    nps,
    nps_difference,
    nps_interval,
    nps_se,
    proportion_bootstrap_interval,
    proportion_difference,
    proportion_interval,
    value_counts,
)

Z95 = stats.norm.ppf(0.975)


# --------------------------------------------------------------------------- enumeration helpers
def _all_samples(n: int):
    """Every (d, s, p) with d + s + p = n."""
    d, p = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    d, p = d.ravel(), p.ravel()
    keep = d + p <= n
    d, p = d[keep].astype(float), p[keep].astype(float)
    return d, n - d - p, p


def _nps_grid():
    """docs/methods.md#coverage-targets grid: detractor and promoter shares 0.02, 0.06, ..., 0.98; passives >= 0.02."""
    v = np.round(np.arange(0.02, 0.99, 0.04), 2)
    det, pro = np.meshgrid(v, v, indexing="ij")
    det, pro = det.ravel(), pro.ravel()
    keep = 1.0 - det - pro >= 0.02 - 1e-9
    return det[keep], 1.0 - det[keep] - pro[keep], pro[keep]


def _multinomial_pmf(d, s, p, n, shares):
    """pmf matrix: rows = samples, columns = true share vectors (det, pas, pro)."""
    log_coef = gammaln(n + 1) - gammaln(d + 1) - gammaln(s + 1) - gammaln(p + 1)
    log_share = np.log(np.vstack(shares))
    return np.exp(log_coef[:, None] + np.column_stack([d, s, p]) @ log_share)


def _nps_coverage(method: str, n: int):
    d, s, p = _all_samples(n)
    low, high = _nps_interval_prop(d, s, p, d + s + p, confidence=0.95, method=method)
    det, pas, pro = _nps_grid()
    pmf = _multinomial_pmf(d, s, p, n, (det, pas, pro))
    truth = pro - det
    inside = (low[:, None] <= truth + 1e-12) & (truth - 1e-12 <= high[:, None])
    return (pmf * inside).sum(axis=0)


# --------------------------------------------------------------------------- NPS point and SE
@pytest.mark.parametrize(
    ("counts", "variance", "se"),
    [
        # docs/methods.md#nps-standard-error: (1,2,3) V = 5/9, SE 0.304; (1,0,1) V = 1, SE 0.707; (1,1,1) V = 2/3, SE 0.471
        ((1, 2, 3), 5 / 9, 0.304),
        ((1, 0, 1), 1.0, 0.707),
        ((1, 1, 1), 2 / 3, 0.471),
    ],
)
def test_nps_se_reference(counts, variance, se):
    n = sum(counts)
    got = nps_se(*counts)
    assert got == pytest.approx(100 * math.sqrt(variance / n), rel=1e-12)
    assert round(got / 100, 3) == se


def test_nps_se_vectorised_matches_scalars():
    d, s, p = np.array([1, 1, 1]), np.array([2, 0, 1]), np.array([3, 1, 1])
    got = nps_se(d, s, p)
    assert isinstance(got, np.ndarray)
    # hand: sqrt(V/n) for V = 5/9, 1, 2/3 and n = 6, 2, 3
    np.testing.assert_allclose(got, 100 * np.sqrt([5 / 9 / 6, 1 / 2, 2 / 3 / 3]))


def test_nps_point():
    # hand: (70 - 10) / 100 = 60 points
    assert nps(10, 20, 70) == 60.0
    assert isinstance(nps(10, 20, 70), float)
    np.testing.assert_array_equal(nps([10, 0], [20, 0], [70, 0]), [60.0, np.nan])


# --------------------------------------------------------------------------- NPS intervals
@pytest.mark.parametrize(
    ("counts", "low", "high"),
    [
        # Tango score interval, reference (2, 3, 5) -> [-0.2166, 0.6753] (docs/methods.md#nps-score-interval)
        ((2, 3, 5), -0.2166, 0.6753),
        # Tango score interval, reference (10, 20, 70) -> [0.4522, 0.7128] (docs/methods.md#nps-score-interval)
        ((10, 20, 70), 0.4522, 0.7128),
        # Tango score interval, reference (5, 0, 5) -> [-0.5268, 0.5268] (docs/methods.md#nps-score-interval)
        ((5, 0, 5), -0.5268, 0.5268),
    ],
)
def test_tango_score_reference(counts, low, high):
    got_low, got_high = nps_interval(*counts, method="score")
    assert round(got_low / 100, 4) == low
    assert round(got_high / 100, 4) == high


def test_tango_score_vectorised_equals_scalar_calls():
    d, s, p = np.array([2, 10, 5]), np.array([3, 20, 0]), np.array([5, 70, 5])
    low, high = nps_interval(d, s, p, method="score")
    for i in range(3):
        lo, hi = nps_interval(int(d[i]), int(s[i]), int(p[i]), method="score")
        assert low[i] == pytest.approx(lo, abs=1e-12) and high[i] == pytest.approx(hi, abs=1e-12)


def test_tango_bounds_for_unanimous_samples():
    # docs/methods.md#coverage-targets: all-promoter / all-detractor samples take the bound +1 / -1
    low, high = nps_interval(0, 0, 10, method="score")
    assert high == 100.0 and low < 100.0
    low, high = nps_interval(10, 0, 0, method="score")
    assert low == -100.0 and high > -100.0
    # symmetry (hand): swapping detractors and promoters mirrors the interval
    lo2, hi2 = nps_interval(0, 0, 10, method="score")
    assert lo2 == pytest.approx(-high) and hi2 == pytest.approx(-low)


def test_tango_bounds_solve_the_score_equation():
    # independent check: scipy's brentq on the score function written out from docs/methods.md#nps-score-interval
    d, p, n = 10.0, 70.0, 100.0

    def score(delta):
        a = 2 * n
        b = -d - p + (2 * n - p + d) * delta
        c = -d * delta * (1 - delta)
        q = (math.sqrt(b * b - 4 * a * c) - b) / (2 * a)
        return (p - d - n * delta) / math.sqrt(n * (2 * q + delta * (1 - delta)))

    from scipy.optimize import brentq

    est = (p - d) / n
    low_ref = brentq(lambda x: score(x) - Z95, -0.999999, est)
    high_ref = brentq(lambda x: score(x) + Z95, est, 0.999999)
    low, high = nps_interval(10, 20, 70, method="score")
    assert low / 100 == pytest.approx(low_ref, abs=1e-10)
    assert high / 100 == pytest.approx(high_ref, abs=1e-10)


def test_adjusted_wald_hand():
    # hand: add 0.75/1.5/0.75 -> (10.75, 21.5, 70.75), n = 103
    pp, pd_ = 70.75 / 103, 10.75 / 103
    centre = pp - pd_
    se = math.sqrt((pp + pd_ - centre**2) / 103)
    low, high = nps_interval(10, 20, 70)
    assert low == pytest.approx(100 * (centre - Z95 * se), rel=1e-12)
    assert high == pytest.approx(100 * (centre + Z95 * se), rel=1e-12)


@pytest.mark.parametrize(
    ("method", "n", "ref_mean", "ref_min", "min_target"),
    [
        # docs/methods.md#adjusted-wald-nps reference implementations, mean/min: adjusted Wald .951/.903, .951/.935,
        # .950/.946; score .964/.926, .952/.937, .950/.940; targets: min >= 0.90 at n = 10,
        # >= 0.93 at n >= 30
        ("adjusted_wald", 10, 0.951, 0.903, 0.90),
        ("adjusted_wald", 30, 0.951, 0.935, 0.93),
        ("adjusted_wald", 100, 0.950, 0.946, 0.93),
        ("score", 10, 0.964, 0.926, 0.90),
        ("score", 30, 0.952, 0.937, 0.93),
        ("score", 100, 0.950, 0.940, 0.93),
    ],
)
def test_nps_exact_coverage(method, n, ref_mean, ref_min, min_target):
    cov = _nps_coverage(method, n)
    assert cov.size == 300  # grid points with passive share >= 0.02
    assert 0.945 <= cov.mean() <= 0.965
    assert cov.min() >= min_target
    assert round(cov.mean(), 3) == ref_mean
    assert round(cov.min(), 3) == ref_min


def test_wald_nps_coverage_collapses_at_n10():
    # docs/methods.md#coverage-targets: Wald coverage falls to 0.46 at worst at n = 10
    assert round(_nps_coverage("wald", 10).min(), 2) == 0.46


def test_nps_interval_n_zero_is_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("adjusted_wald", "score", "wald", "bootstrap", "bayes"):
            low, high = nps_interval(0, 0, 0, method=method, n_boot=200, seed=1)
            assert math.isnan(low) and math.isnan(high)
            low, high = nps_interval([0, 1], [0, 1], [0, 1], method=method, n_boot=200, seed=1)
            assert np.isnan(low[0]) and np.isfinite(low[1]) and np.isfinite(high[1])


def test_nps_interval_types():
    low, high = nps_interval(1, 2, 3)
    assert type(low) is float and type(high) is float
    low, high = nps_interval(np.ones((2, 2)), 2, 3)
    assert low.shape == (2, 2)


@pytest.mark.parametrize("method", ["bootstrap", "bayes"])
def test_nps_random_methods_reproducible_and_seeded(method):
    a = nps_interval([10, 40], [20, 30], [70, 30], method=method, seed=42)
    b = nps_interval([10, 40], [20, 30], [70, 30], method=method, seed=42)
    c = nps_interval([10, 40], [20, 30], [70, 30], method=method, seed=43)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0]) or not np.array_equal(a[1], c[1])


def test_nps_bootstrap_agrees_with_wald_at_large_n():
    # large n: the multinomial bootstrap distribution of NPS is close to normal with the Wald SE
    # (hand formula), so the two intervals agree to a fraction of a point
    counts = (2000, 3000, 5000)
    boot = nps_interval(*counts, method="bootstrap", n_boot=20_000, seed=7)
    wald = nps_interval(*counts, method="wald")
    assert boot[0] == pytest.approx(wald[0], abs=0.25)
    assert boot[1] == pytest.approx(wald[1], abs=0.25)


def test_nps_bayes_close_to_score():
    # Dirichlet(1/2) posterior and the score interval are both close to nominal at n = 100;
    # they agree to about a point (independent approaches)
    bayes = nps_interval(10, 20, 70, method="bayes", n_boot=40_000, seed=3)
    score = nps_interval(10, 20, 70, method="score")
    assert bayes[0] == pytest.approx(score[0], abs=1.0)
    assert bayes[1] == pytest.approx(score[1], abs=1.0)


# --------------------------------------------------------------------------- NPS difference
def _mover_coverage(share1, share2, n=15):
    d, s, p = _all_samples(n)
    i, j = np.meshgrid(np.arange(d.size), np.arange(d.size), indexing="ij")
    i, j = i.ravel(), j.ravel()
    res = nps_difference(d[i], s[i], p[i], d[j], s[j], p[j])
    w1 = _multinomial_pmf(d, s, p, n, [np.array([v]) for v in share1])[:, 0]
    w2 = _multinomial_pmf(d, s, p, n, [np.array([v]) for v in share2])[:, 0]
    weight = w1[i] * w2[j]
    truth = 100 * ((share1[2] - share1[0]) - (share2[2] - share2[0]))
    inside = (res["ci_low"] <= truth + 1e-9) & (truth - 1e-9 <= res["ci_high"])
    return float((weight * inside).sum()), res, weight


@pytest.mark.parametrize(
    ("share1", "share2"),
    [
        ((0.2, 0.3, 0.5), (0.2, 0.3, 0.5)),
        ((0.1, 0.2, 0.7), (0.3, 0.3, 0.4)),
        ((0.3, 0.4, 0.3), (0.1, 0.3, 0.6)),
        ((0.4, 0.2, 0.4), (0.2, 0.2, 0.6)),
        ((0.15, 0.25, 0.6), (0.25, 0.35, 0.4)),
    ],
)
def test_mover_difference_exact_coverage_at_15_per_group(share1, share2):
    # docs/methods.md#nps-difference: MOVER coverage stays >= 0.945 at 15 answers a group
    cov, _, _ = _mover_coverage(share1, share2)
    assert cov >= 0.945


def test_nps_difference_test_size_under_null():
    # exact type I error of the adjusted-Wald z test at 15 per group, equal shares: near 0.05
    _, res, weight = _mover_coverage((0.2, 0.3, 0.5), (0.2, 0.3, 0.5))
    size = float((weight * (res["p_value"] < 0.05)).sum())
    assert 0.03 <= size <= 0.06


def test_nps_difference_hand_values():
    res = nps_difference(10, 20, 70, 20, 20, 60)
    # hand: difference 60 - 40 = 20 points; MOVER from the two score intervals
    l1, u1 = nps_interval(10, 20, 70, method="score")
    l2, u2 = nps_interval(20, 20, 60, method="score")
    assert res["difference"] == pytest.approx(20.0)
    assert res["ci_low"] == pytest.approx(20 - math.hypot(60 - l1, u2 - 40))
    assert res["ci_high"] == pytest.approx(20 + math.hypot(u1 - 60, 40 - l2))
    # hand: adjusted NPS (70 - 10)/103 and (60 - 20)/103, adjusted-Wald SEs
    a1, a2 = 60 / 103, 40 / 103
    v1 = 70.75 / 103 + 10.75 / 103 - a1**2
    v2 = 60.75 / 103 + 20.75 / 103 - a2**2
    z = (a1 - a2) / math.sqrt(v1 / 103 + v2 / 103)
    assert res["p_value"] == pytest.approx(2 * stats.norm.sf(z), rel=1e-10)
    assert res["n1"] == 100 and res["n2"] == 100


def test_nps_difference_empty_group_is_nan():
    res = nps_difference(0, 0, 0, 1, 2, 3)
    assert math.isnan(res["difference"]) and math.isnan(res["p_value"]) and res["n1"] == 0


# --------------------------------------------------------------------------- proportions
@pytest.mark.parametrize(
    ("n", "ref_mean", "ref_min"),
    [
        (10, 0.956, 0.904),  # docs/methods.md#wilson-interval: Wilson at n = 10: mean 0.956, min 0.904
        (30, None, None),
        (100, None, None),
    ],
)
def test_wilson_exact_coverage(n, ref_mean, ref_min):
    # docs/methods.md#coverage-targets target: p = 0.50, ..., 0.99, mean in [0.945, 0.965], min >= 0.88
    x = np.arange(n + 1, dtype=float)
    low, high = proportion_interval(x, n)
    p = np.round(np.arange(0.50, 0.995, 0.01), 2)
    pmf = stats.binom.pmf(x[:, None], n, p[None, :])
    cov = (pmf * ((low[:, None] <= p) & (p <= high[:, None]))).sum(axis=0)
    assert p.size == 50
    assert 0.945 <= cov.mean() <= 0.965
    assert cov.min() >= 0.88
    if ref_mean is not None:
        assert round(cov.mean(), 3) == ref_mean
        assert round(cov.min(), 3) == ref_min


def test_wilson_hand_value():
    # hand: Wilson for 3/10 with z = 1.96: centre (3 + z^2/2)/(10 + z^2), half z sqrt(n p q + z^2/4)/(n + z^2)
    z = Z95
    centre = (3 + z**2 / 2) / (10 + z**2)
    half = z * math.sqrt(10 * 0.3 * 0.7 + z**2 / 4) / (10 + z**2)
    low, high = proportion_interval(3, 10)
    assert low == pytest.approx(centre - half, rel=1e-12)
    assert high == pytest.approx(centre + half, rel=1e-12)


@pytest.mark.parametrize(
    ("method", "sm_method"),
    [("wilson", "wilson"), ("agresti_coull", "agresti_coull"), ("clopper_pearson", "beta"), ("jeffreys", "jeffreys")],
)
def test_proportion_interval_matches_statsmodels(method, sm_method):
    x = np.array([1, 3, 17, 29])
    n = np.array([10, 30, 40, 30])
    low, high = proportion_interval(x, n, confidence=0.9, method=method)
    ref_low, ref_high = proportion_confint(x, n, alpha=0.1, method=sm_method)
    np.testing.assert_allclose(low, np.clip(ref_low, 0, 1), rtol=1e-12)
    np.testing.assert_allclose(high, np.clip(ref_high, 0, 1), rtol=1e-12)


def test_jeffreys_boundary_rule():
    # Brown, Cai & DasGupta (2001): Jeffreys lower bound 0 at x = 0, upper bound 1 at x = n
    low, high = proportion_interval([0, 10], [10, 10], method="jeffreys")
    assert low[0] == 0.0 and high[1] == 1.0
    # the other bound is statsmodels' value
    assert high[0] == pytest.approx(proportion_confint(0, 10, method="jeffreys")[1])


def test_proportion_interval_n_zero_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("wilson", "jeffreys", "agresti_coull", "clopper_pearson"):
            low, high = proportion_interval([0, 2], [0, 5], method=method)
            assert np.isnan(low[0]) and np.isnan(high[0]) and np.isfinite(low[1])
        low, high = proportion_interval(0, 0)
        assert math.isnan(low) and math.isnan(high)


def test_proportion_difference_matches_statsmodels_newcombe_and_ztest():
    x1, n1 = np.array([30, 50, 120]), np.array([60, 100, 150])
    x2, n2 = np.array([20, 61, 100]), np.array([55, 100, 160])
    res = proportion_difference(x1, n1, x2, n2)
    for i in range(3):
        # statsmodels confint_proportions_2indep(method="newcomb")
        lo, hi = confint_proportions_2indep(x1[i], n1[i], x2[i], n2[i], method="newcomb")
        assert res["ci_low"][i] == pytest.approx(lo, rel=1e-10)
        assert res["ci_high"][i] == pytest.approx(hi, rel=1e-10)
        # statsmodels proportions_ztest (pooled variance)
        _, p = proportions_ztest([x1[i], x2[i]], [n1[i], n2[i]])
        assert res["p_value"][i] == pytest.approx(p, rel=1e-10)
        assert res["test"][i] == "z"
    np.testing.assert_allclose(res["difference"], x1 / n1 - x2 / n2)


def test_proportion_difference_small_counts_use_fisher():
    res = proportion_difference(3, 10, 7, 11)
    # expected cells: pooled 10/21 -> 10 x 10/21 = 4.8 < 5, so Fisher (scipy.stats.fisher_exact)
    assert res["test"] == "fisher"
    assert res["p_value"] == pytest.approx(stats.fisher_exact([[3, 7], [7, 4]]).pvalue)
    assert isinstance(res["difference"], float)


def test_proportion_difference_empty_group():
    res = proportion_difference([0, 5], [0, 10], [1, 5], [4, 10])
    assert np.isnan(res["difference"][0]) and np.isnan(res["p_value"][0])
    assert res["difference"][1] == pytest.approx(0.0)


def test_proportion_bootstrap_close_to_wald_and_seeded():
    a = proportion_bootstrap_interval(3000, 10_000, n_boot=20_000, seed=1)
    b = proportion_bootstrap_interval(3000, 10_000, n_boot=20_000, seed=1)
    assert a == b
    # hand Wald at n = 10,000: 0.3 +- 1.96 sqrt(0.21 / 10000) = [0.29102, 0.30898]
    half = Z95 * math.sqrt(0.21 / 10_000)
    assert a[0] == pytest.approx(0.3 - half, abs=3e-4)
    assert a[1] == pytest.approx(0.3 + half, abs=3e-4)


# --------------------------------------------------------------------------- means
def test_mean_interval_matches_scipy_t():
    low, high = mean_interval([10, 50, 1], [5.0, 2.0, 3.0], [2.0, 1.5, 1.0])
    for i, (n, m, sd) in enumerate([(10, 5.0, 2.0), (50, 2.0, 1.5)]):
        ref = stats.t.interval(0.95, n - 1, loc=m, scale=sd / math.sqrt(n))
        assert low[i] == pytest.approx(ref[0]) and high[i] == pytest.approx(ref[1])
    assert np.isnan(low[2]) and np.isnan(high[2])
    assert isinstance(mean_interval(10, 5.0, 2.0)[0], float)


# --------------------------------------------------------------------------- bootstraps of values
@pytest.fixture
def skewed():
    rng = np.random.default_rng(3)
    return rng.lognormal(size=40), rng.lognormal(0.3, 1.0, size=30)


@pytest.mark.parametrize("statistic", ["mean", "median"])
@pytest.mark.parametrize(("method", "scipy_method"), [("percentile", "percentile"), ("bca", "BCa")])
def test_bootstrap_interval_matches_scipy(skewed, statistic, method, scipy_method):
    # scipy.stats.bootstrap draws the same index matrices from the same seed, so the bounds agree
    # to rounding; the BCa jackknife and bias correction are computed independently
    x, _ = skewed
    func = np.mean if statistic == "mean" else np.median
    ref = stats.bootstrap((x,), func, method=scipy_method, n_resamples=5000, rng=1).confidence_interval
    low, high = bootstrap_interval(x, statistic=statistic, method=method, n_boot=5000, seed=1)
    assert low == pytest.approx(ref.low, rel=1e-9)
    assert high == pytest.approx(ref.high, rel=1e-9)


@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_bootstrap_groups_matches_scipy_per_group(skewed, statistic):
    # group k resamples with default_rng(SeedSequence(seed).spawn(n_groups)[k]); scipy.stats.bootstrap
    # given the same generator draws the same (n_resamples x n) index matrix, so the percentile
    # bounds agree to rounding. Groups given out of order and with NaN values (dropped).
    x, y = skewed
    z = np.array([2.0, 7.0, 3.0])
    values = np.concatenate([y, [np.nan], x, z])
    codes = np.concatenate([np.full(y.size, 3), [0], np.zeros(x.size, int), np.full(3, 1)])
    low, high = bootstrap_groups(values, codes, n_groups=5, statistic=statistic, n_boot=1000, seed=11)
    children = np.random.SeedSequence(11).spawn(5)
    func = np.mean if statistic == "mean" else np.median
    for k, sample in ((0, x), (1, z), (3, y)):
        ref = stats.bootstrap((sample,), func, method="percentile", n_resamples=1000,
                              rng=np.random.default_rng(children[k])).confidence_interval
        assert low[k] == pytest.approx(ref.low, rel=1e-12)
        assert high[k] == pytest.approx(ref.high, rel=1e-12)
        # and exactly the single-sample function with that generator
        one = bootstrap_interval(sample, statistic=statistic, n_boot=1000,
                                 seed=np.random.default_rng(children[k]))
        assert (low[k], high[k]) == one
    # groups 2 and 4 have no values: NaN, no exception
    assert np.isnan(low[[2, 4]]).all() and np.isnan(high[[2, 4]]).all()


def test_bootstrap_groups_small_constant_seeded_and_errors():
    # one value: NaN (no warning); constant values: both bounds equal that value
    low, high = bootstrap_groups([5.0, 4.0, 4.0, 4.0], [0, 1, 1, 1], seed=1)
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert (low[1], high[1]) == (4.0, 4.0)
    x = np.arange(20.0)
    g = np.repeat([0, 1], 10)
    a = bootstrap_groups(x, g, seed=3)
    b = bootstrap_groups(x, g, seed=3)
    c = bootstrap_groups(x, g, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    # the interval brackets the group mean (4.5 and 14.5)
    assert a[0][0] < 4.5 < a[1][0] and a[0][1] < 14.5 < a[1][1]
    with pytest.raises(StatsInputError, match="same length"):
        bootstrap_groups([1.0, 2.0], [0])
    with pytest.raises(StatsInputError, match="non-negative integer"):
        bootstrap_groups([1.0, 2.0], [0, -1])
    with pytest.raises(StatsInputError, match="n_groups"):
        bootstrap_groups([1.0, 2.0], [0, 3], n_groups=2)
    with pytest.raises(StatsInputError, match="n_boot"):
        bootstrap_groups([1.0, 2.0], [0, 0], n_boot=0)
    empty = bootstrap_groups([], np.array([], dtype=int))
    assert empty[0].size == 0


def test_bootstrap_difference_matches_scipy_and_is_seeded(skewed):
    x, y = skewed

    def diff(a, b, axis=-1):
        return np.median(a, axis=axis) - np.median(b, axis=axis)

    ref = stats.bootstrap((x, y), diff, method="percentile", n_resamples=5000, rng=1).confidence_interval
    res = bootstrap_difference(x, y, seed=1)
    assert res["ci_low"] == pytest.approx(ref.low, rel=1e-9)
    assert res["ci_high"] == pytest.approx(ref.high, rel=1e-9)
    assert res["difference"] == pytest.approx(np.median(x) - np.median(y))
    assert bootstrap_difference(x, y, seed=1) == res
    assert bootstrap_difference(x, y, seed=2) != res


def test_bootstrap_small_samples_warn_and_give_nan():
    with pytest.warns(StatisticalWarning, match="at least 2"):
        low, high = bootstrap_interval([1.0], seed=1)
    assert math.isnan(low) and math.isnan(high)
    with pytest.warns(StatisticalWarning, match="at least 2"):
        res = bootstrap_difference([1.0, 2.0], [3.0], seed=1)
    assert math.isnan(res["difference"]) and res["n_y"] == 1


def test_bootstrap_constant_sample():
    # hand: every resample of a constant sample has the same mean
    assert bootstrap_interval([4.0, 4.0, 4.0], method="bca", seed=1) == (4.0, 4.0)


# --------------------------------------------------------------------------- validation messages
def test_validation_messages():
    with pytest.raises(StatsInputError, match="confidence must be strictly between 0 and 1"):
        nps_interval(1, 2, 3, confidence=95)
    with pytest.raises(ValueError, match="confidence must be a number"):
        proportion_interval(1, 2, confidence="high")
    with pytest.raises(ValueError, match="method must be one of 'adjusted_wald'"):
        nps_interval(1, 2, 3, method="exact")
    with pytest.raises(ValueError, match="method must be one of 'wilson'.*got 'wald'"):
        proportion_interval(1, 2, method="wald")
    with pytest.raises(ValueError, match="detractors must be non-negative whole numbers"):
        nps_interval(-1, 2, 3)
    with pytest.raises(ValueError, match="promoters must be non-negative whole numbers"):
        nps(1, 2, 2.5)
    with pytest.raises(ValueError, match="successes must not exceed n"):
        proportion_interval(5, 3)
    with pytest.raises(ValueError, match="n_boot must be a positive integer"):
        nps_interval(1, 2, 3, method="bootstrap", n_boot=0)
    with pytest.raises(ValueError, match="statistic must be one of 'mean', 'median'"):
        bootstrap_interval([1.0, 2.0], statistic="mode")
    with pytest.raises(ValueError, match="sd must be non-negative"):
        mean_interval(5, 1.0, -1.0)
    with pytest.raises(ValueError, match="x must be numeric"):
        bootstrap_interval(["a", "b"])


def test_pandas_nullable_and_arrow_counts():
    import pandas as pd

    # NA counts give NaN; other elements equal the plain-integer call
    low, high = nps_interval(
        pd.Series([10, None], dtype="Int64"), pd.Series([20, 3]), pd.Series([70, 4], dtype="int64[pyarrow]")
    )
    ref = nps_interval(10, 20, 70)
    assert low[0] == pytest.approx(ref[0]) and high[0] == pytest.approx(ref[1])
    assert np.isnan(low[1]) and np.isnan(high[1])


# --------------------------------------------------------------------------- bootstrap of a mean from value counts
@pytest.fixture
def tied():
    """40 waits in whole seconds with ties (14 distinct values), right-skewed like queue times."""
    rng = np.random.default_rng(8)
    x = np.round(rng.gamma(1.5, 40.0, size=40) / 10.0) * 10.0
    assert np.unique(x).size < 20  # ties: fewer distinct values than observations
    return x


def _quantile_mc_se(p, n_boot, scale):
    # Monte Carlo standard error of the p-quantile of n_boot iid draws from a density f:
    #   se(q_p) = sqrt(p (1 - p) / n_boot) / f(q_p)   (asymptotic variance of a sample quantile),
    # with f(q_p) = phi(z_p) / scale from the normal approximation of the bootstrap distribution
    # of the mean, scale = sigma / sqrt(n) (sigma with ddof 0, the spread of the resampled values).
    return math.sqrt(p * (1.0 - p) / n_boot) * scale / stats.norm.pdf(stats.norm.ppf(p))


def test_value_counts_hand_and_resolution():
    # by hand: group 0 has 3.0 twice and 1.0 once; group 1 has 2.0; NaN dropped with its code
    g, v, c = value_counts([3.0, 1.0, np.nan, 3.0, 2.0], [0, 0, 1, 0, 1])
    assert (g.tolist(), v.tolist(), c.tolist()) == ([0, 0, 1], [1.0, 3.0, 2.0], [1, 2, 1])
    # 1 s bins: 9.8 and 10.2 share the bin 10 and carry their mean 10.0; 12.4 is alone. The group
    # mean is unchanged: (9.8 + 10.2 + 12.4) / 3 = 32.4 / 3
    g, v, c = value_counts([9.8, 12.4, 10.2], [0, 0, 0], resolution=1.0)
    assert v.tolist() == pytest.approx([10.0, 12.4]) and c.tolist() == [2, 1]
    assert (v * c).sum() / c.sum() == pytest.approx(32.4 / 3)
    empty = value_counts([], np.array([], dtype=int))
    assert [a.size for a in empty] == [0, 0, 0]
    with pytest.raises(StatsInputError, match="resolution must be a positive number"):
        value_counts([1.0], [0], resolution=0)
    with pytest.raises(StatsInputError, match="same length"):
        value_counts([1.0, 2.0], [0])
    with pytest.raises(StatsInputError, match="non-negative integer codes"):
        value_counts([1.0], [-1])


def test_value_count_bootstrap_equals_row_bootstrap_in_distribution(tied):
    # The multinomial counts over the distinct values against scipy.stats.bootstrap's row
    # resampling (an independent implementation): the 2.5 %, 50 % and 97.5 % quantiles of the
    # resampled means agree to Monte Carlo error at B = 20000 each. The two estimates are
    # independent, so their difference has sd sqrt(2) se(q_p); tolerance 4 such sd.
    from kpitools.stats.intervals import _boot_means_counts

    x, b = tied, 20_000
    vals, counts = np.unique(x, return_counts=True)
    counts_means = _boot_means_counts(vals, counts / x.size, x.size, b, np.random.default_rng(5))
    rows = stats.bootstrap((x,), np.mean, n_resamples=b, method="percentile", rng=6)
    rows_means = rows.bootstrap_distribution
    scale = x.std(ddof=0) / math.sqrt(x.size)
    for p in (0.025, 0.5, 0.975):
        tol = 4.0 * math.sqrt(2.0) * _quantile_mc_se(p, b, scale)
        assert np.quantile(counts_means, p) == pytest.approx(np.quantile(rows_means, p), abs=tol)
    # moments of the bootstrap distribution of a mean, by hand: E = mean(x), Var = sigma^2 / n
    # (sigma ddof 0); tolerances 4 Monte Carlo sd: scale / sqrt(B) for the mean, and for the
    # variance its sd sqrt(2 / (B - 1)) Var (near-normal draws) with room for the skewness
    assert counts_means.mean() == pytest.approx(x.mean(), abs=4.0 * scale / math.sqrt(b))
    assert counts_means.var() == pytest.approx(scale**2, rel=6.0 * math.sqrt(2.0 / (b - 1)))
    # the public function, both samplers, against scipy's percentile interval
    g = np.zeros(vals.size, dtype=np.int64)
    ref = rows.confidence_interval
    for draws in ("counts", "rows"):
        low, high, t_used = bootstrap_mean_counts(vals, counts, g, n_boot=b, seed=7, draws=draws)
        assert not t_used[0]
        assert low[0] == pytest.approx(ref.low, abs=4.0 * math.sqrt(2.0) * _quantile_mc_se(0.025, b, scale))
        assert high[0] == pytest.approx(ref.high, abs=4.0 * math.sqrt(2.0) * _quantile_mc_se(0.975, b, scale))


def test_value_count_bootstrap_seeded_groups_and_edge_cases(tied):
    x = tied
    codes = np.repeat([0, 2], [x.size, 3])
    g, v, c = value_counts(np.concatenate([x, [5.0, 5.0, 5.0]]), codes)
    a = bootstrap_mean_counts(v, c, g, n_groups=4, seed=3)
    b = bootstrap_mean_counts(v, c, g, n_groups=4, seed=3)
    other = bootstrap_mean_counts(v, c, g, n_groups=4, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[0][0] != other[0][0] and a[1][0] != other[1][0]
    # group 0 brackets its mean; group 2 (one distinct value) has both bounds 5; 1 and 3 are empty
    assert a[0][0] < x.mean() < a[1][0]
    assert (a[0][2], a[1][2]) == (5.0, 5.0)
    assert np.isnan(a[0][[1, 3]]).all() and np.isnan(a[1][[1, 3]]).all()
    # a group's interval does not depend on the others: group 0 alone, same child generator
    alone = bootstrap_mean_counts(v[g == 0], c[g == 0], g[g == 0], n_groups=4, seed=3)
    assert (alone[0][0], alone[1][0]) == (a[0][0], a[1][0])
    # "auto" takes counts for many observations per distinct value and equals draws="counts"
    many = np.repeat([10.0, 20.0, 40.0], [300, 200, 100])  # 600 observations, 3 values: 200 per value
    gm, vm, cm = value_counts(many, np.zeros(many.size, dtype=int))
    auto = bootstrap_mean_counts(vm, cm, gm, seed=9)
    assert auto[:2] == bootstrap_mean_counts(vm, cm, gm, seed=9, draws="counts")[:2]
    # one observation: NaN
    single = bootstrap_mean_counts([4.0], [1], [0], seed=1)
    assert np.isnan(single[0][0]) and np.isnan(single[1][0])


def test_value_count_bootstrap_switches_to_t_above_max_n():
    # above max_n observations the interval is the Student t interval from n, mean, sd (scipy
    # reference from the expanded values); at exactly max_n it is still the bootstrap
    vals, counts = np.array([30.0, 60.0, 240.0]), np.array([3000, 1500, 501])  # n = 5001
    x = np.repeat(vals, counts)
    low, high, t_used = bootstrap_mean_counts(vals, counts, np.zeros(3, dtype=int), seed=1)
    assert BOOTSTRAP_MAX_N == 5000 and t_used[0]
    ref = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    assert (low[0], high[0]) == pytest.approx(ref, rel=1e-12)
    at = bootstrap_mean_counts(vals, counts, np.zeros(3, dtype=int), seed=1, max_n=5001)
    assert not at[2][0] and (at[0][0], at[1][0]) != (low[0], high[0])
    # the two agree to Monte Carlo error at this n (the reason for the switch): B = 1000
    scale = x.std() / math.sqrt(x.size)
    assert at[0][0] == pytest.approx(ref[0], abs=4.0 * _quantile_mc_se(0.025, 1000, scale) + 0.1 * scale)


def test_value_count_bootstrap_validation():
    with pytest.raises(StatsInputError, match="values and counts must have the same length"):
        bootstrap_mean_counts([1.0, 2.0], [1], [0, 0])
    with pytest.raises(StatsInputError, match="counts must be positive"):
        bootstrap_mean_counts([1.0, 2.0], [1, 0], [0, 0])
    with pytest.raises(StatsInputError, match="must not contain NaN"):
        bootstrap_mean_counts([1.0, np.nan], [1, 1], [0, 0])
    with pytest.raises(StatsInputError, match="counts must be non-negative whole numbers"):
        bootstrap_mean_counts([1.0, 2.0], [1.5, 1], [0, 0])
    with pytest.raises(StatsInputError, match="n_groups must exceed"):
        bootstrap_mean_counts([1.0, 2.0], [1, 1], [0, 3], n_groups=2)
    with pytest.raises(StatsInputError, match="max_n must be a positive integer"):
        bootstrap_mean_counts([1.0, 2.0], [1, 1], [0, 0], max_n=0)
    with pytest.raises(StatsInputError, match="draws must be one of"):
        bootstrap_mean_counts([1.0, 2.0], [1, 1], [0, 0], draws="poisson")
    with pytest.raises(StatsInputError, match="n_boot"):
        bootstrap_mean_counts([1.0, 2.0], [1, 1], [0, 0], n_boot=0)


@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_row_bootstrap_does_not_depend_on_the_batch_size(monkeypatch, statistic):
    # Reference: the same generator drawn as one (n_boot, n) index matrix, as before the batches
    # were made cache-sized; the generator's stream continues across calls, so every batch size
    # gives bit-identical resample statistics (and intervals).
    from kpitools.stats import intervals as iv

    x = np.repeat(np.arange(1.0, 301.0), 7)  # n = 2100, ties as in whole-second durations
    one = iv._boot_stats(x, statistic, 700, np.random.default_rng(11))
    direct = np.random.default_rng(11).integers(0, x.size, size=(700, x.size))
    ref = (np.mean if statistic == "mean" else np.median)(x[direct], axis=1)
    assert np.array_equal(one, ref)
    for batch in (1 << 12, 1 << 17, 4_000_000):
        monkeypatch.setattr(iv, "_ROW_BATCH_ELEMENTS", batch)
        assert np.array_equal(iv._boot_stats(x, statistic, 700, np.random.default_rng(11)), ref)


def test_mean_and_z_quantiles_equal_scipy_stats():
    # scipy.stats.t.ppf and norm.ppf are the references; the KPI path calls scipy.special directly
    from kpitools.stats._common import z_value

    n = np.array([2.0, 5.0, 30.0, 1000.0])
    low, high = mean_interval(n, np.full(4, 10.0), np.full(4, 2.0), confidence=0.9)
    t = stats.t.ppf(0.95, n - 1)
    np.testing.assert_array_equal(low, 10.0 - t * 2.0 / np.sqrt(n))
    np.testing.assert_array_equal(high, 10.0 + t * 2.0 / np.sqrt(n))
    assert z_value(0.95) == float(stats.norm.ppf(0.975))


def test_kpi_intervals_do_not_import_scipy_stats():
    # A fresh interpreter: the intervals kpi_table needs (Wilson, NPS, t, KM summaries) load
    # scipy.special only; scipy.stats, statsmodels and scipy.sparse take about a second more.
    import subprocess
    import sys

    code = ("import sys, numpy as np\n"
            "from kpitools.stats.intervals import proportion_interval, nps_interval, mean_interval\n"
            "from kpitools.stats.survival import km_summary_codes\n"
            "proportion_interval([3], [10]); nps_interval([1], [2], [3]); mean_interval([5], [1.0], [1.0])\n"
            "km_summary_codes(np.array([1.0, 2.0]), np.array([True, False]), np.array([0, 0]), n_groups=1)\n"
            "print(sorted(m for m in sys.modules if m.startswith(('scipy.stats', 'statsmodels', 'scipy.sparse'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_wilson_is_bit_identical_to_statsmodels():
    # Reference: statsmodels proportion_confint(method="wilson"), clipped to [0, 1] as it does;
    # bit-identical (also the ~1e-17 lower bounds at x = 0), so results compared without an
    # absolute tolerance (the Dask engine's test) do not move.
    rng = np.random.default_rng(3)
    n = rng.integers(1, 5000, 5000).astype(float)
    x = np.floor(rng.random(n.size) * (n + 1))
    x[:50], x[50:100] = 0.0, n[50:100]
    for confidence in (0.5, 0.8, 0.9, 0.95, 0.99):
        low, high = proportion_interval(x, n, confidence=confidence)
        ref_low, ref_high = proportion_confint(x, n, alpha=1.0 - confidence, method="wilson")
        np.testing.assert_array_equal(low, np.clip(ref_low, 0, 1))
        np.testing.assert_array_equal(high, np.clip(ref_high, 0, 1))
