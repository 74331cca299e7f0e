"""Intervals and two-sample comparisons for NPS, proportions, means and bootstrapped statistics.

Estimate layer: every function takes sufficient statistics (counts, or n / mean / sd), or small
arrays of fully observed values for the bootstraps, never raw tables. Count-based functions are
vectorised: scalars in give floats out, arrays in give arrays out (broadcast together). A group
with no answers (n = 0) gives NaN, never an exception or a warning.

Formulas, reference values and coverage targets: docs/methods.md#coverage-targets.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from kpitools.stats._common import (
    StatisticalWarning,
    StatsInputError,
    as_counts,
    as_float_array,
    check_choice,
    check_confidence,
    check_positive_int,
    unwrap,
    z_value,
)

__all__ = [
    "nps",
    "nps_se",
    "nps_interval",
    "nps_difference",
    "proportion_interval",
    "proportion_difference",
    "proportion_bootstrap_interval",
    "mean_interval",
    "bootstrap_interval",
    "bootstrap_groups",
    "bootstrap_mean_counts",
    "value_counts",
    "bootstrap_difference",
    "BOOTSTRAP_MAX_N",
    "DURATION_RESOLUTION_S",
    "ROWS_PER_DISTINCT",
    "NPS_METHODS",
    "PROPORTION_METHODS",
]

NPS_METHODS = ("adjusted_wald", "score", "wald", "bootstrap", "bayes")
PROPORTION_METHODS = ("wilson", "jeffreys", "agresti_coull", "clopper_pearson")
_STATSMODELS_NAME = {
    "wilson": "wilson",
    "jeffreys": "jeffreys",
    "agresti_coull": "agresti_coull",
    "clopper_pearson": "beta",
}
# Elements per resampling batch (keeps memory of the bootstraps around 32 MB).
_BATCH_ELEMENTS = 4_000_000
# Indices per batch of a row resampling (:func:`_boot_stats`): 2^17 int64 indices (1 MB) and
# their gathered values stay in the CPU cache, which makes the draw-gather-reduce 2-2.4x faster
# than batches of 4 million (measured at n = 2065, B = 1000). The generator's stream continues
# across batches and each resample's statistic is computed on its own row, so the results do
# not depend on the batch size (tested: bit-identical).
_ROW_BATCH_ELEMENTS = 1 << 17


# --------------------------------------------------------------------------- NPS helpers
def _nps_counts(detractors, passives, promoters):
    """Broadcast the three count arguments; return (d, s, p, n, scalar_input)."""
    d = as_counts("detractors", detractors)
    s = as_counts("passives", passives)
    p = as_counts("promoters", promoters)
    scalar = d.ndim == 0 and s.ndim == 0 and p.ndim == 0
    d, s, p = np.broadcast_arrays(d, s, p)
    return d.astype(float), s.astype(float), p.astype(float), d + s + p, scalar


def _share_variance(p_pro, p_det):
    """Variance of one answer scored -1/0/+1: V = p_pro + p_det - (p_pro - p_det)^2."""
    return p_pro + p_det - (p_pro - p_det) ** 2


def nps(detractors, passives, promoters):
    """Net Promoter Score in points, (promoters - detractors) / n x 100.

    Parameters
    ----------
    detractors, passives, promoters : int or array-like of int
        Answer counts (0-6, 7-8, 9-10), broadcast together.

    Returns
    -------
    float or ndarray
        NPS in points from -100 to 100; NaN where n = 0.

    Examples
    --------
    >>> nps(10, 20, 70)
    60.0
    """
    d, _, p, n, scalar = _nps_counts(detractors, passives, promoters)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(n > 0, 100.0 * (p - d) / np.where(n > 0, n, 1.0), np.nan)
    return unwrap(out, scalar)


def nps_se(detractors, passives, promoters):
    """Standard error of the NPS in points.

    Parameters
    ----------
    detractors, passives, promoters : int or array-like of int
        Answer counts, broadcast together.

    Returns
    -------
    float or ndarray
        ``100 * sqrt(V / n)``; NaN where n = 0.

    Notes
    -----
    Each answer is scored -1/0/+1, so ``V = p_pro + p_det - (p_pro - p_det)^2`` and
    ``SE = sqrt(V / n)``. Reference (docs/methods.md#nps-standard-error): (1, 2, 3) gives V = 5/9, SE 0.304.
    """
    d, _, p, n, scalar = _nps_counts(detractors, passives, promoters)
    safe_n = np.where(n > 0, n, 1.0)
    v = _share_variance(p / safe_n, d / safe_n)
    out = np.where(n > 0, 100.0 * np.sqrt(v / safe_n), np.nan)
    return unwrap(out, scalar)


def _tango_score(d, p, n, delta):
    """Tango's score statistic for H0: p_pro - p_det = delta (arrays broadcast)."""
    a = 2.0 * n
    b = -d - p + (2.0 * n - p + d) * delta
    c = -d * delta * (1.0 - delta)
    sq = np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))
    # restricted MLE of the detractor share; the second form avoids cancellation when b > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(b <= 0, (sq - b) / (2.0 * a), -2.0 * c / (sq + b))
        q = np.where((b > 0) & (sq + b == 0), 0.0, q)
        var = np.maximum(2.0 * q + delta * (1.0 - delta), 0.0)
        num = p - d - n * delta
        score = num / np.sqrt(n * var)
    return np.where(num == 0, 0.0, score)


def _tango_interval(d, p, n, z, iterations: int = 60):
    """Score interval by vectorised bisection; returns proportions (low, high)."""
    safe_n = np.where(n > 0, n, 1.0)
    est = (p - d) / safe_n
    # lower bound: score(delta) = z on [-1, est]; score decreases in delta
    lo, hi = np.full_like(est, -1.0), est.copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = _tango_score(d, p, safe_n, mid) > z
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    low = 0.5 * (lo + hi)
    # upper bound: score(delta) = -z on [est, 1]
    lo, hi = est.copy(), np.ones_like(est)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = _tango_score(d, p, safe_n, mid) > -z
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    high = 0.5 * (lo + hi)
    # all-detractor / all-promoter samples take the bound -1 / +1 (docs/methods.md#coverage-targets): the bisection
    # brackets collapse to [est, est] there, so this only removes rounding
    low = np.where(d == safe_n, -1.0, low)
    high = np.where(p == safe_n, 1.0, high)
    bad = ~(n > 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def _wald_nps(d, p, n, z):
    safe_n = np.where(n > 0, n, 1.0)
    pp, pd = p / safe_n, d / safe_n
    centre = pp - pd
    half = z * np.sqrt(_share_variance(pp, pd) / safe_n)
    return np.clip(centre - half, -1, 1), np.clip(centre + half, -1, 1)


def _adjusted_wald_nps(d, s, p, z):
    # add 0.75 detractors, 1.5 passives, 0.75 promoters (n + 3), then Wald (docs/methods.md#adjusted-wald-nps)
    return _wald_nps(d + 0.75, p + 0.75, d + s + p + 3.0, z)


def _resolve_rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)


def _nps_bootstrap(d, p, n, confidence, n_boot, rng):
    """Multinomial bootstrap on the counts (as promoters ~ Bin, detractors | promoters ~ Bin)."""
    flat_d, flat_p, flat_n = d.ravel(), p.ravel(), n.ravel()
    g = flat_n.size
    low, high = np.full(g, np.nan), np.full(g, np.nan)
    ok = np.flatnonzero(flat_n > 0)
    alpha = 1.0 - confidence
    chunk = max(1, _BATCH_ELEMENTS // n_boot)
    for start in range(0, ok.size, chunk):
        idx = ok[start : start + chunk]
        nn = flat_n[idx].astype(np.int64)
        pp = flat_p[idx] / flat_n[idx]
        pd = flat_d[idx] / flat_n[idx]
        cond = np.where(pp < 1.0, pd / np.where(pp < 1.0, 1.0 - pp, 1.0), 0.0)
        cond = np.clip(cond, 0.0, 1.0)
        pro = rng.binomial(nn[None, :], pp[None, :], size=(n_boot, idx.size))
        det = rng.binomial(nn[None, :] - pro, cond[None, :])
        stat = (pro - det) / nn[None, :]
        qs = np.quantile(stat, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
        low[idx], high[idx] = qs[0], qs[1]
    return low.reshape(n.shape), high.reshape(n.shape)


def _nps_bayes(d, s, p, n, confidence, n_draws, rng):
    """Equal-tailed interval of p_pro - p_det under the Dirichlet(d+1/2, s+1/2, p+1/2) posterior."""
    flat = [a.ravel() for a in (d, s, p, n)]
    g = flat[3].size
    low, high = np.full(g, np.nan), np.full(g, np.nan)
    ok = np.flatnonzero(flat[3] > 0)
    alpha = 1.0 - confidence
    chunk = max(1, _BATCH_ELEMENTS // (3 * n_draws))
    for start in range(0, ok.size, chunk):
        idx = ok[start : start + chunk]
        shape = (n_draws, idx.size)
        gd = rng.gamma(flat[0][idx] + 0.5, size=shape)
        gs = rng.gamma(flat[1][idx] + 0.5, size=shape)
        gp = rng.gamma(flat[2][idx] + 0.5, size=shape)
        stat = (gp - gd) / (gd + gs + gp)
        qs = np.quantile(stat, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
        low[idx], high[idx] = qs[0], qs[1]
    return low.reshape(n.shape), high.reshape(n.shape)


def _nps_interval_prop(d, s, p, n, *, confidence, method, n_boot=10_000, seed=None):
    """Interval on the proportion scale (-1..1); arrays in, arrays out."""
    z = z_value(confidence)
    if method == "adjusted_wald":
        low, high = _adjusted_wald_nps(d, s, p, z)
    elif method == "score":
        low, high = _tango_interval(d, p, n, z)
    elif method == "wald":
        low, high = _wald_nps(d, p, n, z)
    elif method == "bootstrap":
        low, high = _nps_bootstrap(d, p, n, confidence, n_boot, _resolve_rng(seed))
    else:  # bayes
        low, high = _nps_bayes(d, s, p, n, confidence, n_boot, _resolve_rng(seed))
    bad = ~(n > 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def nps_interval(
    detractors,
    passives,
    promoters,
    *,
    confidence=0.95,
    method="adjusted_wald",
    n_boot=10_000,
    seed=None,
):
    """Confidence interval for the Net Promoter Score, in points.

    Parameters
    ----------
    detractors, passives, promoters : int or array-like of int
        Answer counts (0-6, 7-8, 9-10), broadcast together.
    confidence : float, default 0.95
        Confidence level.
    method : {"adjusted_wald", "score", "wald", "bootstrap", "bayes"}, default "adjusted_wald"
        - ``adjusted_wald``: add 0.75 detractors, 1.5 passives and 0.75 promoters, then Wald on the
          adjusted shares, centred on the adjusted NPS (default; exact coverage checked).
        - ``score``: Tango's score interval (inverts the score test; solved by vectorised
          bisection). All-promoter / all-detractor samples take the bound +100 / -100.
        - ``wald``: NPS +- z SE. A reference only: coverage falls to 0.46 at n = 10.
        - ``bootstrap``: percentile interval of ``n_boot`` multinomial resamples of the counts
          (cost independent of n).
        - ``bayes``: equal-tailed interval under the Dirichlet(1/2, 1/2, 1/2)-prior posterior,
          from ``n_boot`` seeded Monte Carlo draws.
    n_boot : int, default 10000
        Resamples (``bootstrap``) or posterior draws (``bayes``).
    seed : int, numpy Generator or None
        Seed for ``bootstrap`` and ``bayes``.

    Returns
    -------
    (low, high) : tuple of float or of ndarray
        Bounds in NPS points (-100..100); NaN where n = 0.

    See Also
    --------
    nps, nps_se, nps_difference

    Notes
    -----
    Score interval: all Delta with ``|score(Delta)| < z``, where with ``A = 2n``,
    ``B = -d - p + (2n - p + d) Delta``, ``C = -d Delta (1 - Delta)``,
    ``q = (sqrt(B^2 - 4AC) - B) / (2A)`` and
    ``score = (p - d - n Delta) / sqrt(n (2q + Delta (1 - Delta)))``.
    Checked against docs/methods.md#nps-score-interval: (2, 3, 5) -> [-21.66, 67.53]; (10, 20, 70) -> [45.22, 71.28];
    (5, 0, 5) -> [-52.68, 52.68]. Exact coverage of ``adjusted_wald`` and ``score`` over the grid of
    docs/methods.md#coverage-targets is tested at n = 10, 30 and 100 (mean in [0.945, 0.965]).

    References
    ----------
    Tango, T. (1998). Equivalence test and confidence interval for the difference in proportions
    for the paired-sample design. Statistics in Medicine 17, 891-908.

    Examples
    --------
    >>> low, high = nps_interval(10, 20, 70, method="score")
    >>> round(low, 2), round(high, 2)
    (45.22, 71.28)
    """
    confidence = check_confidence(confidence)
    check_choice("method", method, NPS_METHODS)
    n_boot = check_positive_int("n_boot", n_boot)
    d, s, p, n, scalar = _nps_counts(detractors, passives, promoters)
    low, high = _nps_interval_prop(
        d, s, p, n, confidence=confidence, method=method, n_boot=n_boot, seed=seed
    )
    return unwrap(100.0 * low, scalar), unwrap(100.0 * high, scalar)


def nps_difference(d1, s1, p1, d2, s2, p2, *, confidence=0.95):
    """Difference of two independent NPS values (group 1 minus group 2), in points.

    Parameters
    ----------
    d1, s1, p1 : int or array-like of int
        Detractor, passive and promoter counts of group 1 (e.g. this month).
    d2, s2, p2 : int or array-like of int
        The same for group 2 (e.g. last month). All six broadcast together.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    dict
        - ``difference``: NPS1 - NPS2 in points.
        - ``ci_low``, ``ci_high``: MOVER interval combining the two Tango score intervals.
        - ``p_value``: two-sided adjusted-Wald z test of no difference.
        - ``n1``, ``n2``: answers per group.
        Floats for scalar input, arrays otherwise (``pandas.DataFrame(result)`` makes a table).
        NaN where either group has no answers.

    Notes
    -----
    MOVER (docs/methods.md#nps-difference): with D = N1 - N2 and score intervals (l1, u1), (l2, u2),
    ``L = D - sqrt((N1 - l1)^2 + (u2 - N2)^2)``, ``U = D + sqrt((u1 - N1)^2 + (N2 - l2)^2)``.
    The test statistic is ``z = (A1 - A2) / sqrt(SE1^2 + SE2^2)`` on the adjusted NPS values
    (0.75 / 1.5 / 0.75 answers added to each group). Coverage of the interval is checked by exact
    enumeration at 15 answers per group in the tests.

    References
    ----------
    Newcombe, R. G. (2012). Confidence Intervals for Proportions and Related Measures of Effect
    Size, ch. 7 (MOVER). Chapman & Hall.
    """
    confidence = check_confidence(confidence)
    z = z_value(confidence)
    a1, b1, c1, n1, sc1 = _nps_counts(d1, s1, p1)
    a2, b2, c2, n2, sc2 = _nps_counts(d2, s2, p2)
    scalar = sc1 and sc2
    a1, b1, c1, n1, a2, b2, c2, n2 = np.broadcast_arrays(a1, b1, c1, n1, a2, b2, c2, n2)
    ok = (n1 > 0) & (n2 > 0)
    sn1, sn2 = np.where(n1 > 0, n1, 1.0), np.where(n2 > 0, n2, 1.0)
    e1, e2 = (c1 - a1) / sn1, (c2 - a2) / sn2
    l1, u1 = _tango_interval(a1, c1, n1, z)
    l2, u2 = _tango_interval(a2, c2, n2, z)
    diff = e1 - e2
    low = diff - np.sqrt((e1 - l1) ** 2 + (u2 - e2) ** 2)
    high = diff + np.sqrt((u1 - e1) ** 2 + (e2 - l2) ** 2)
    # adjusted-Wald z test
    m1, m2 = n1 + 3.0, n2 + 3.0
    adj1, adj2 = (c1 - a1) / m1, (c2 - a2) / m2
    v1 = _share_variance((c1 + 0.75) / m1, (a1 + 0.75) / m1)
    v2 = _share_variance((c2 + 0.75) / m2, (a2 + 0.75) / m2)
    zstat = (adj1 - adj2) / np.sqrt(v1 / m1 + v2 / m2)
    from scipy import stats

    pval = 2.0 * stats.norm.sf(np.abs(zstat))
    nan = np.nan
    out = {
        "difference": np.where(ok, 100.0 * diff, nan),
        "ci_low": np.where(ok, 100.0 * np.maximum(low, -2.0), nan),
        "ci_high": np.where(ok, 100.0 * np.minimum(high, 2.0), nan),
        "p_value": np.where(ok, pval, nan),
        "n1": n1.astype(np.int64) if np.all(np.isfinite(n1)) else n1,
        "n2": n2.astype(np.int64) if np.all(np.isfinite(n2)) else n2,
    }
    if scalar:
        return {k: (int(v) if k in ("n1", "n2") and np.isfinite(v) else float(v)) for k, v in out.items()}
    return out


# --------------------------------------------------------------------------- proportions
def _binomial_counts(successes, n):
    x = as_counts("successes", successes)
    m = as_counts("n", n)
    scalar = x.ndim == 0 and m.ndim == 0
    x, m = np.broadcast_arrays(x, m)
    if np.any(x > m):
        raise StatsInputError("successes must not exceed n; got successes > n in some element")
    return x.astype(float), m.astype(float), scalar


def _wilson(x, m, confidence):
    """Wilson score bounds in the form normalised by n (the operation order of statsmodels'
    ``wilson``, so the bounds are bit-identical): with p = x / n and z the upper
    (1 - confidence) / 2 normal point, ``(p + z^2 / (2 n)) / (1 + z^2 / n) -+
    z sqrt(p (1 - p) / n + z^2 / (4 n^2)) / (1 + z^2 / n)``."""
    from scipy.special import ndtri

    z = -ndtri((1.0 - confidence) / 2.0)  # scipy.stats.norm.isf computes exactly this
    z2 = z**2
    p = x / m
    denom = 1 + z2 / m
    centre = (p + z2 / (2 * m)) / denom
    half = z * np.sqrt(p * (1.0 - p) / m + z2 / (4.0 * m**2))
    half /= denom
    return centre - half, centre + half


def _proportion_interval(x, m, confidence, method):
    ok = m > 0
    safe_m = np.where(ok, m, 1.0)
    safe_x = np.where(ok, x, 0.0)
    if method == "wilson":  # the KPI default, without importing statsmodels (and scipy.stats)
        low, high = _wilson(safe_x, safe_m, confidence)
    else:
        from statsmodels.stats.proportion import proportion_confint

        low, high = proportion_confint(
            safe_x, safe_m, alpha=1.0 - confidence, method=_STATSMODELS_NAME[method]
        )
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if method == "jeffreys":
        # Brown, Cai & DasGupta (2001): lower bound 0 at x = 0, upper bound 1 at x = n
        low = np.where(safe_x == 0, 0.0, low)
        high = np.where(safe_x == safe_m, 1.0, high)
    low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def proportion_interval(successes, n, *, confidence=0.95, method="wilson"):
    """Confidence interval for a proportion (CSAT, FCR, SLA, abandon rate ...).

    Parameters
    ----------
    successes : int or array-like of int
        Numerator counts.
    n : int or array-like of int
        Denominator counts (broadcast with ``successes``).
    confidence : float, default 0.95
        Confidence level.
    method : {"wilson", "jeffreys", "agresti_coull", "clopper_pearson"}, default "wilson"
        Wilson from its closed form below (equal to statsmodels' ``wilson``, tested); the others by
        ``statsmodels.stats.proportion.proportion_confint`` ("clopper_pearson" is its "beta",
        statsmodels imported on first use). Jeffreys takes the Brown-Cai-DasGupta boundary rule (0 at x = 0, 1 at x = n).
        Wald is deliberately not offered.

    Returns
    -------
    (low, high) : tuple of float or of ndarray
        Bounds on the 0..1 scale; NaN where n = 0.

    Notes
    -----
    Wilson: ``(x + z^2/2) / (n + z^2) +- z sqrt(n p (1 - p) + z^2/4) / (n + z^2)``. Exact coverage of
    the 95% Wilson interval over p = 0.50..0.99 is tested at n = 10, 30, 100 (docs/methods.md#wilson-interval:
    mean in [0.945, 0.965], minimum >= 0.88).

    References
    ----------
    Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Interval estimation for a binomial
    proportion. Statistical Science 16, 101-133.

    Examples
    --------
    >>> low, high = proportion_interval(3, 10)
    >>> round(low, 4), round(high, 4)
    (0.1078, 0.6032)
    """
    confidence = check_confidence(confidence)
    check_choice("method", method, PROPORTION_METHODS)
    x, m, scalar = _binomial_counts(successes, n)
    low, high = _proportion_interval(x, m, confidence, method)
    return unwrap(low, scalar), unwrap(high, scalar)


def proportion_difference(x1, n1, x2, n2, *, confidence=0.95):
    """Difference of two independent proportions (group 1 minus group 2) with test.

    Parameters
    ----------
    x1, n1 : int or array-like of int
        Successes and trials of group 1.
    x2, n2 : int or array-like of int
        Successes and trials of group 2. All four broadcast together (many segments at once).
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    dict
        - ``difference``: p1 - p2 on the 0..1 scale.
        - ``ci_low``, ``ci_high``: Newcombe hybrid score interval (from two Wilson intervals).
        - ``p_value``: two-sided pooled two-proportion z test, or Fisher's exact test where any
          expected cell of the 2x2 table is below 5.
        - ``test``: "z" or "fisher" per element.
        Floats/str for scalar input, arrays otherwise. NaN where either n is 0.

    Notes
    -----
    Newcombe (1998) method 10: ``L = D - sqrt((p1 - l1)^2 + (u2 - p2)^2)``,
    ``U = D + sqrt((u1 - p1)^2 + (p2 - l2)^2)``; equal to statsmodels
    ``confint_proportions_2indep(method="newcomb")`` (tested).

    References
    ----------
    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890.
    """
    confidence = check_confidence(confidence)
    a, m1, sc1 = _binomial_counts(x1, n1)
    b, m2, sc2 = _binomial_counts(x2, n2)
    scalar = sc1 and sc2
    a, m1, b, m2 = np.broadcast_arrays(a, m1, b, m2)
    ok = (m1 > 0) & (m2 > 0)
    s1, s2 = np.where(m1 > 0, m1, 1.0), np.where(m2 > 0, m2, 1.0)
    p1, p2 = a / s1, b / s2
    l1, u1 = _proportion_interval(a, m1, confidence, "wilson")
    l2, u2 = _proportion_interval(b, m2, confidence, "wilson")
    diff = p1 - p2
    low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    # pooled z test
    pooled = (a + b) / (s1 + s2)
    se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / s1 + 1.0 / s2))
    with np.errstate(invalid="ignore", divide="ignore"):
        zstat = np.where(se > 0, diff / np.where(se > 0, se, 1.0), 0.0)
    from scipy import stats

    pval = 2.0 * stats.norm.sf(np.abs(zstat))
    expected = np.minimum.reduce(
        [s1 * pooled, s1 * (1 - pooled), s2 * pooled, s2 * (1 - pooled)]
    )
    fisher = ok & (expected < 5.0)
    pval = np.array(pval, dtype=float, copy=True).reshape(-1)
    fa, fb, fm1, fm2 = a.ravel(), b.ravel(), m1.ravel(), m2.ravel()
    for i in np.flatnonzero(fisher):  # only the small tables; scipy has no vectorised Fisher
        table = np.array([[fa[i], fm1[i] - fa[i]], [fb[i], fm2[i] - fb[i]]], dtype=np.int64)
        pval[i] = stats.fisher_exact(table).pvalue
    pval = pval.reshape(diff.shape)
    nan = np.nan
    out = {
        "difference": np.where(ok, diff, nan),
        "ci_low": np.where(ok, low, nan),
        "ci_high": np.where(ok, high, nan),
        "p_value": np.where(ok, pval, nan),
        "test": np.where(fisher, "fisher", "z"),
    }
    if scalar:
        return {k: (str(v) if k == "test" else float(v)) for k, v in out.items()}
    return out


def proportion_bootstrap_interval(successes, n, *, confidence=0.95, n_boot=10_000, seed=None):
    """Percentile bootstrap interval for a proportion, resampling the count (binomial).

    Parameters
    ----------
    successes, n : int or array-like of int
        Counts, broadcast together.
    confidence : float, default 0.95
    n_boot : int, default 10000
        Resamples.
    seed : int, numpy Generator or None

    Returns
    -------
    (low, high) : tuple of float or of ndarray
        On the 0..1 scale; NaN where n = 0.

    Notes
    -----
    The proportion depends only on the count of successes, so resampling n rows with
    replacement is the same as drawing ``Binomial(n, x/n)``: cost is independent of n
    (see ``benchmarks/bench_bootstrap.py``). For reporting prefer :func:`proportion_interval`.
    """
    confidence = check_confidence(confidence)
    n_boot = check_positive_int("n_boot", n_boot)
    x, m, scalar = _binomial_counts(successes, n)
    rng = _resolve_rng(seed)
    fx, fm = x.ravel(), m.ravel()
    low, high = np.full(fm.size, np.nan), np.full(fm.size, np.nan)
    ok = np.flatnonzero(fm > 0)
    alpha = 1.0 - confidence
    chunk = max(1, _BATCH_ELEMENTS // n_boot)
    for start in range(0, ok.size, chunk):
        idx = ok[start : start + chunk]
        mm = fm[idx].astype(np.int64)
        draws = rng.binomial(mm[None, :], (fx[idx] / fm[idx])[None, :], size=(n_boot, idx.size))
        qs = np.quantile(draws / mm[None, :], [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
        low[idx], high[idx] = qs[0], qs[1]
    return unwrap(low.reshape(m.shape), scalar), unwrap(high.reshape(m.shape), scalar)


# --------------------------------------------------------------------------- means
def mean_interval(n, mean, sd, *, confidence=0.95):
    """Student t interval for a mean from sufficient statistics.

    Parameters
    ----------
    n : int or array-like
        Number of observations.
    mean : float or array-like
        Sample mean.
    sd : float or array-like
        Sample standard deviation (ddof = 1).
    confidence : float, default 0.95

    Returns
    -------
    (low, high) : tuple of float or of ndarray
        ``mean +- t_{n-1} sd / sqrt(n)``; NaN where n < 2.

    Notes
    -----
    Equals ``scipy.stats.t.interval(confidence, n - 1, mean, sd / sqrt(n))`` (tested).
    """
    confidence = check_confidence(confidence)
    nn = as_float_array("n", n)
    mu = as_float_array("mean", mean)
    sdv = as_float_array("sd", sd)
    if np.any(sdv[np.isfinite(sdv)] < 0):
        raise StatsInputError("sd must be non-negative")
    scalar = nn.ndim == 0 and mu.ndim == 0 and sdv.ndim == 0
    nn, mu, sdv = np.broadcast_arrays(nn, mu, sdv)
    ok = nn >= 2
    safe = np.where(ok, nn, 2.0)
    # scipy.special.stdtrit is what scipy.stats.t.ppf computes, without importing scipy.stats
    from scipy.special import stdtrit

    t = stdtrit(safe - 1.0, 0.5 + confidence / 2.0)
    half = t * sdv / np.sqrt(safe)
    low = np.where(ok, mu - half, np.nan)
    high = np.where(ok, mu + half, np.nan)
    return unwrap(low, scalar), unwrap(high, scalar)


# --------------------------------------------------------------------------- bootstraps of values
_STATISTICS = ("mean", "median")


def _clean_sample(name: str, x: Any) -> np.ndarray:
    arr = as_float_array(name, x).ravel()
    return arr[~np.isnan(arr)]


def _boot_stats(x: np.ndarray, statistic: str, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Statistic of ``n_boot`` resamples of ``x``, drawn as index matrices in batches."""
    n = x.size
    out = np.empty(n_boot)
    batch = max(1, _ROW_BATCH_ELEMENTS // n)
    func = np.mean if statistic == "mean" else np.median
    for start in range(0, n_boot, batch):
        size = min(batch, n_boot - start)
        idx = rng.integers(0, n, size=(size, n))
        out[start : start + size] = func(x[idx], axis=1)
    return out


def _jackknife(x: np.ndarray, statistic: str) -> np.ndarray:
    """Leave-one-out values of the mean or median, vectorised."""
    n = x.size
    if statistic == "mean":
        return (x.sum() - x) / (n - 1)
    s = np.sort(x)
    i = np.arange(n)[:, None]

    def r(k):  # k-th element of the sorted sample with element i removed
        return np.where(k < i, s[np.minimum(k, n - 1)], s[np.minimum(k + 1, n - 1)])

    m = n - 1
    if m % 2 == 1:
        return r(np.full((1, 1), (m - 1) // 2)).ravel()
    return (0.5 * (r(np.full((1, 1), m // 2 - 1)) + r(np.full((1, 1), m // 2)))).ravel()


def bootstrap_interval(
    x, *, statistic="mean", confidence=0.95, n_boot=5000, seed=None, method="percentile"
):
    """Bootstrap interval for the mean or median of fully observed values (e.g. handle times).

    Parameters
    ----------
    x : array-like of float
        Observed values; NaN are dropped. Censored durations belong in
        :func:`kpitools.stats.survival.km_quantiles` instead.
    statistic : {"mean", "median"}, default "mean"
    confidence : float, default 0.95
    n_boot : int, default 5000
        Resamples.
    seed : int, numpy Generator or None
    method : {"percentile", "bca"}, default "percentile"
        ``bca``: bias-corrected and accelerated, acceleration from the jackknife.

    Returns
    -------
    (low, high) : tuple of float
        NaN (with a :class:`StatisticalWarning`) when fewer than 2 values.

    Notes
    -----
    BCa (Efron 1987): ``z0 = Phi^-1(#{theta* < theta} / B)`` (ties counted half),
    ``a = sum(d^3) / (6 (sum d^2)^1.5)`` with ``d = mean(theta_(i)) - theta_(i)`` the jackknife
    deviations; bounds are the percentiles ``Phi(z0 + (z0 + z_a) / (1 - a (z0 + z_a)))``. Agrees
    with ``scipy.stats.bootstrap(method="BCa")`` within Monte Carlo error (tested).
    """
    confidence = check_confidence(confidence)
    check_choice("statistic", statistic, _STATISTICS)
    check_choice("method", method, ("percentile", "bca"))
    n_boot = check_positive_int("n_boot", n_boot)
    arr = _clean_sample("x", x)
    if arr.size < 2:
        warnings.warn(
            f"bootstrap_interval needs at least 2 values, got {arr.size}; returning NaN",
            StatisticalWarning,
            stacklevel=2,
        )
        return np.nan, np.nan
    rng = _resolve_rng(seed)
    boot = _boot_stats(arr, statistic, n_boot, rng)
    alpha = 1.0 - confidence
    probs = np.array([alpha / 2.0, 1.0 - alpha / 2.0])
    theta = float(np.mean(arr) if statistic == "mean" else np.median(arr))
    if np.all(boot == boot[0]):
        return float(boot[0]), float(boot[0])
    if method == "bca":
        # mid-rank of the estimate among the resamples (ties are common for the median)
        frac = 0.5 * (np.mean(boot < theta) + np.mean(boot <= theta))
        if frac in (0.0, 1.0):
            warnings.warn(
                "BCa bias correction is infinite (every resample on one side of the estimate); "
                "falling back to the percentile interval",
                StatisticalWarning,
                stacklevel=2,
            )
        else:
            from scipy import stats

            z0 = stats.norm.ppf(frac)
            jack = _jackknife(arr, statistic)
            dev = jack.mean() - jack
            denom = 6.0 * np.sum(dev**2) ** 1.5
            acc = np.sum(dev**3) / denom if denom > 0 else 0.0
            za = stats.norm.ppf(probs)
            probs = stats.norm.cdf(z0 + (z0 + za) / (1.0 - acc * (z0 + za)))
    low, high = np.quantile(boot, probs)
    return float(low), float(high)


def bootstrap_groups(x, groups, *, n_groups=None, statistic="mean", confidence=0.95, n_boot=1000, seed=None):
    """Seeded percentile bootstrap interval of the mean or median for each group of values.

    Parameters
    ----------
    x : array-like of float
        Fully observed values (NaN dropped with their group code).
    groups : array-like of int
        Group code per value, ``0 <= code < n_groups``.
    n_groups : int, optional
        Number of groups (default ``max(groups) + 1``); groups without values give NaN.
    statistic : {"mean", "median"}, default "mean"
    confidence : float, default 0.95
    n_boot : int, default 1000
        Resamples per group.
    seed : int, numpy SeedSequence or None
        Group ``k`` resamples with ``default_rng(SeedSequence(seed).spawn(n_groups)[k])``, so a
        group's interval does not depend on the sizes of the groups before it.

    Returns
    -------
    (low, high) : tuple of ndarray
        Length ``n_groups``; NaN where a group has fewer than 2 values (no warning: a table of
        many groups reports such cells by their n); both bounds equal the value when a group's
        values are all equal.

    Notes
    -----
    For group k with values ``x_1..x_n``: ``n_boot`` resamples with replacement, drawn as index
    matrices ``rng.integers(0, n, size=(rows, n))`` in batches of about 2^17 indices, the
    statistic of each resample row, and the bounds ``np.quantile(stats, [(1 - confidence) / 2,
    (1 + confidence) / 2])`` (percentile method, Efron & Tibshirani 1993, 13.3). Per group exactly
    :func:`bootstrap_interval` with that group's generator, hence equal to
    ``scipy.stats.bootstrap(method="percentile")`` with the same generator (tested; the
    generator's stream continues across batches, so the batch size does not change the draws). A loop over groups, each vectorised over its resamples; the cost is
    ``n_boot`` x (number of values) random indices.
    """
    confidence = check_confidence(confidence)
    check_choice("statistic", statistic, _STATISTICS)
    n_boot = check_positive_int("n_boot", n_boot)
    xv = as_float_array("x", x).ravel()
    gv = np.asarray(groups).ravel()
    if gv.shape != xv.shape:
        raise StatsInputError(f"x and groups must have the same length, got {xv.size} and {gv.size}")
    if gv.size and (gv.dtype.kind not in "iu" or gv.min() < 0):
        raise StatsInputError("groups must be non-negative integer codes")
    if n_groups is None:
        n_groups = int(gv.max()) + 1 if gv.size else 0
    elif gv.size and int(gv.max()) >= n_groups:
        raise StatsInputError(f"n_groups must exceed every group code, got {n_groups} with code {int(gv.max())}")
    keep = ~np.isnan(xv)
    xv, gv = xv[keep], gv[keep].astype(np.int64)
    low = np.full(n_groups, np.nan)
    high = np.full(n_groups, np.nan)
    if n_groups == 0:
        return low, high
    order = np.argsort(gv, kind="stable")
    xs = xv[order]
    counts = np.bincount(gv, minlength=n_groups)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    seqs = (seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)).spawn(n_groups)
    alpha = 1.0 - confidence
    probs = np.array([alpha / 2.0, 1.0 - alpha / 2.0])
    for k in np.flatnonzero(counts >= 2):
        xk = xs[bounds[k]:bounds[k + 1]]
        if np.all(xk == xk[0]):
            low[k] = high[k] = xk[0]
            continue
        boot = _boot_stats(xk, statistic, n_boot, np.random.default_rng(seqs[k]))
        low[k], high[k] = np.quantile(boot, probs)
    return low, high


# --------------------------------------------------------------------------- bootstrap of a mean from value counts
#: Above this many values in a group, :func:`bootstrap_mean_counts` gives the Student t interval
#: instead of resampling. Measured argument (``benchmarks/bench_bootstrap.py``, "t switch" rows in
#: ``benchmarks/results/bootstrap.json``; docs/methods.md#value-count-bootstrap): the percentile
#: bootstrap and the t interval differ mainly through the skewness g of the values, by about
#: ``g (z^2 - 1) / (6 sqrt(n))`` standard errors (Cornish-Fisher), while the Monte Carlo standard
#: error of a 2.5 % quantile from B = 1000 resamples is ``sqrt(p (1 - p) / B) / phi(z)`` = 0.085
#: standard errors. Measured on the sample's durations (10 subsamples per n, reference bootstrap
#: of 20,000 resamples, whose own error adds a floor of about 0.3): the most skewed, answered
#: waits (g = 7.8), differ by 1.66, 1.10, 0.86 and 0.67 Monte Carlo errors at n = 1000, 2000,
#: 5000 and 10,000; aht, acw_time and ticket_handle_time by at most 0.37 from n = 2000. 5000 is
#: the smallest n measured where every duration agrees to within one Monte Carlo error.
BOOTSTRAP_MAX_N = 5000
#: Recording resolution of durations in seconds: timestamps are stored to the second, and the
#: ``*_s`` duration columns hold whole seconds, so binning to 1 s loses nothing on such data.
DURATION_RESOLUTION_S = 1.0
#: ``draws="auto"`` resamples counts (multinomial) when a group has more than this many
#: observations per distinct value, else indices into the expanded values: one binomial draw of
#: ``Generator.multinomial`` costs about as much as 15-20 index draws and gathers on values that
#: fit in cache (``benchmarks/bench_bootstrap.py``: 14.6 at 100,000 rows, 19 in other runs; 6 at
#: 1,000,000 rows, where the gathers miss the cache), and both give the same distribution.
ROWS_PER_DISTINCT = 16
_DRAWS = ("auto", "counts", "rows")


def value_counts(x, groups, *, resolution=None):
    """Aggregate values per group to (group, distinct value, count) triples, vectorised.

    Parameters
    ----------
    x : array-like of float
        Values (NaN dropped with their group code).
    groups : array-like of int
        Non-negative group code per value.
    resolution : float, optional
        Bin width: values are grouped by ``round(x / resolution)``, and each bin's value is the
        mean of the exact values in it, so every group's mean is unchanged (only the spread
        inside a bin, at most ``resolution / 2``, is lost). None groups equal values only.
        For durations use :data:`DURATION_RESOLUTION_S` (whole seconds).

    Returns
    -------
    (groups, values, counts) : tuple of ndarray
        Sorted by group, then value; ``counts`` int64 and positive.

    Examples
    --------
    >>> g, v, c = value_counts([3.0, 1.0, 3.0, 2.0], [0, 0, 0, 1])
    >>> g.tolist(), v.tolist(), c.tolist()
    ([0, 0, 1], [1.0, 3.0, 2.0], [1, 2, 1])
    """
    xv = as_float_array("x", x).ravel()
    gv = _group_codes(groups, xv.size)
    if resolution is not None and (isinstance(resolution, bool) or not isinstance(resolution, int | float)
                                   or not 0 < resolution < np.inf):
        raise StatsInputError(f"resolution must be a positive number or None, got {resolution!r}")
    keep = ~np.isnan(xv)
    xv, gv = xv[keep], gv[keep]
    if xv.size == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    key = xv if resolution is None else np.round(xv / resolution)
    order = np.lexsort((key, gv))
    gs, ks, xs = gv[order], key[order], xv[order]
    new = np.ones(xs.size, dtype=bool)
    new[1:] = (gs[1:] != gs[:-1]) | (ks[1:] != ks[:-1])
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, xs.size)).astype(np.int64)
    values = xs[starts] if resolution is None else np.add.reduceat(xs, starts) / counts
    return gs[starts], values, counts


def _group_codes(groups, size: int) -> np.ndarray:
    gv = np.asarray(groups).ravel()
    if gv.size != size:
        raise StatsInputError(f"values and groups must have the same length, got {size} and {gv.size}")
    if gv.size and (gv.dtype.kind not in "iu" or gv.min() < 0):
        raise StatsInputError("groups must be non-negative integer codes")
    return gv.astype(np.int64)


def bootstrap_mean_counts(
    values,
    counts,
    groups,
    *,
    n_groups=None,
    confidence=0.95,
    n_boot=1000,
    seed=None,
    max_n=BOOTSTRAP_MAX_N,
    draws="auto",
):
    """Seeded percentile bootstrap interval of the mean per group, from counts of distinct values.

    Parameters
    ----------
    values : array-like of float
        Distinct values (or bin values) of each group, e.g. from :func:`value_counts`.
    counts : array-like of int
        How many observations have that value (positive).
    groups : array-like of int
        Group code of each (value, count) pair, ``0 <= code < n_groups``; a group's pairs must be
        distinct values (unsorted is fine).
    n_groups : int, optional
        Number of groups (default ``max(groups) + 1``); groups without values give NaN.
    confidence : float, default 0.95
    n_boot : int, default 1000
        Resamples per group.
    seed : int, numpy SeedSequence or None
        Group ``k`` resamples with ``default_rng(SeedSequence(seed).spawn(n_groups)[k])``, so a
        group's interval does not depend on the other groups.
    max_n : int, default :data:`BOOTSTRAP_MAX_N`
        Groups with more observations than this get the Student t interval
        (:func:`mean_interval` from the group's n, mean and sd) instead of the bootstrap.
    draws : {"auto", "counts", "rows"}, default "auto"
        How each resample is drawn; all three give the same bootstrap distribution (tested).
        ``counts``: multinomial counts over the distinct values (cost ``n_boot x K``);
        ``rows``: indices into the ``n`` observations rebuilt with ``np.repeat`` (cost
        ``n_boot x n``); ``auto``: ``counts`` where ``n > ROWS_PER_DISTINCT x K``, else ``rows``,
        so the cost is ``n_boot x min(n, ROWS_PER_DISTINCT x K)``.

    Returns
    -------
    (low, high, t_used) : tuple of ndarray
        Bounds of length ``n_groups`` (NaN where a group has fewer than 2 observations; both
        bounds equal the value when a group has one distinct value) and a boolean array, True
        where the t interval was used (n > ``max_n``).

    Notes
    -----
    Resampling the n observations of a group with replacement draws each distinct value
    ``v_j`` a number of times ``C_j``, and ``(C_1, ..., C_K) ~ Multinomial(n; c_1 / n, ...,
    c_K / n)`` where ``c_j`` is its count. The resampled mean is ``sum_j C_j v_j / n``, so
    drawing the counts with ``Generator.multinomial(n, c / n, size=n_boot)`` (vectorised over
    resamples, in batches of about 4 million counts) gives exactly the distribution of the row
    bootstrap (Efron & Tibshirani 1993, 13.3) at a cost of ``n_boot x K`` instead of
    ``n_boot x n``. The bounds are the ``(1 -+ confidence) / 2`` quantiles of the resampled means
    (``np.quantile``, linear). A group with few observations per distinct value is cheaper to
    resample by indices, which ``draws="auto"`` does (:data:`ROWS_PER_DISTINCT`). Above ``max_n`` observations the bootstrap and t intervals agree
    to within the Monte Carlo error of ``n_boot = 1000`` resamples for the durations at hand
    (see :data:`BOOTSTRAP_MAX_N`), and the t interval costs nothing.

    Examples
    --------
    >>> low, high, t_used = bootstrap_mean_counts([10.0, 20.0, 60.0], [2, 1, 1], [0, 0, 0], seed=1)
    >>> bool(10.0 <= low < 25.0 < high <= 60.0), bool(t_used[0])
    (True, False)
    """
    confidence = check_confidence(confidence)
    n_boot = check_positive_int("n_boot", n_boot)
    check_choice("draws", draws, _DRAWS)
    if isinstance(max_n, bool) or not isinstance(max_n, int | np.integer) or max_n < 1:
        raise StatsInputError(f"max_n must be a positive integer, got {max_n!r}")
    vv = as_float_array("values", values).ravel()
    cc = as_counts("counts", counts).ravel()
    gv = _group_codes(groups, vv.size)
    if cc.size != vv.size:
        raise StatsInputError(f"values and counts must have the same length, got {vv.size} and {cc.size}")
    if np.isnan(vv).any() or np.isnan(cc).any():
        raise StatsInputError("values and counts must not contain NaN (drop them before counting)")
    if cc.size and cc.min() < 1:
        raise StatsInputError("counts must be positive (leave out values that do not occur)")
    if n_groups is None:
        n_groups = int(gv.max()) + 1 if gv.size else 0
    elif gv.size and int(gv.max()) >= n_groups:
        raise StatsInputError(f"n_groups must exceed every group code, got {n_groups} with code {int(gv.max())}")
    low = np.full(n_groups, np.nan)
    high = np.full(n_groups, np.nan)
    t_used = np.zeros(n_groups, dtype=bool)
    if n_groups == 0:
        return low, high, t_used
    cc = cc.astype(np.int64)
    order = np.argsort(gv, kind="stable")
    gs, vs, cs = gv[order], vv[order], cc[order]
    pairs = np.bincount(gs, minlength=n_groups)
    bounds = np.concatenate([[0], np.cumsum(pairs)])
    n = np.bincount(gs, weights=cs, minlength=n_groups)
    total = np.bincount(gs, weights=cs * vs, minlength=n_groups)
    # t interval for the large groups, from the weighted n, mean and sd (ddof 1)
    big = n > max_n
    if big.any():
        mean = total / np.where(n > 0, n, 1.0)
        ss = np.bincount(gs, weights=cs * (vs - mean[gs]) ** 2, minlength=n_groups)
        sd = np.sqrt(ss[big] / (n[big] - 1.0))
        low[big], high[big] = mean_interval(n[big], mean[big], sd, confidence=confidence)
        t_used[big] = True
    seqs = (seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)).spawn(n_groups)
    alpha = 1.0 - confidence
    probs = np.array([alpha / 2.0, 1.0 - alpha / 2.0])
    for k in np.flatnonzero((n >= 2) & ~big):
        vk, ck = vs[bounds[k]:bounds[k + 1]], cs[bounds[k]:bounds[k + 1]]
        if vk.size == 1 or np.all(vk == vk[0]):
            low[k] = high[k] = vk[0]
            continue
        nk = int(n[k])
        rng = np.random.default_rng(seqs[k])
        if draws == "counts" or (draws == "auto" and nk > ROWS_PER_DISTINCT * vk.size):
            boot = _boot_means_counts(vk, ck / nk, nk, n_boot, rng)
        else:
            boot = _boot_stats(np.repeat(vk, ck), "mean", n_boot, rng)
        low[k], high[k] = np.quantile(boot, probs)
    return low, high, t_used


def _boot_means_counts(v: np.ndarray, p: np.ndarray, n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_boot`` multinomial resamples of ``n`` observations over values ``v``."""
    out = np.empty(n_boot)
    batch = max(1, _BATCH_ELEMENTS // v.size)
    for start in range(0, n_boot, batch):
        size = min(batch, n_boot - start)
        draws = rng.multinomial(n, p, size=size)
        out[start : start + size] = (draws @ v) / n
    return out


def bootstrap_difference(
    x, y, *, statistic="median", confidence=0.95, n_boot=5000, seed=None
):
    """Difference of a statistic between two independent samples, with a percentile interval.

    Parameters
    ----------
    x, y : array-like of float
        Fully observed values of the two groups (NaN dropped).
    statistic : {"median", "mean"}, default "median"
    confidence : float, default 0.95
    n_boot : int, default 5000
    seed : int, numpy Generator or None

    Returns
    -------
    dict
        ``difference`` (statistic(x) - statistic(y)), ``ci_low``, ``ci_high``, ``n_x``, ``n_y``.
        NaN (with a :class:`StatisticalWarning`) when a group has fewer than 2 values.

    Notes
    -----
    Each group is resampled with replacement independently (index matrices drawn with
    ``rng.integers`` in batches); the interval is the percentile interval of the
    ``n_boot`` differences.
    """
    confidence = check_confidence(confidence)
    check_choice("statistic", statistic, _STATISTICS)
    n_boot = check_positive_int("n_boot", n_boot)
    a, b = _clean_sample("x", x), _clean_sample("y", y)
    out = {"difference": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n_x": a.size, "n_y": b.size}
    if a.size < 2 or b.size < 2:
        warnings.warn(
            f"bootstrap_difference needs at least 2 values per group, got {a.size} and {b.size}",
            StatisticalWarning,
            stacklevel=2,
        )
        return out
    func = np.mean if statistic == "mean" else np.median
    rng = _resolve_rng(seed)
    diffs = _boot_stats(a, statistic, n_boot, rng) - _boot_stats(b, statistic, n_boot, rng)
    alpha = 1.0 - confidence
    low, high = np.quantile(diffs, [alpha / 2.0, 1.0 - alpha / 2.0])
    out.update(difference=float(func(a) - func(b)), ci_low=float(low), ci_high=float(high))
    return out
