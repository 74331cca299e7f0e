"""Ticket spikes in daily counts: seasonal-hybrid ESD and a negative binomial count model.

Both detectors take a daily count series (a pandas Series on a regular daily DatetimeIndex, gaps
filled with 0) and return a *spike table*, one row per flagged day, with the fixed columns

``date, observed, expected, excess, score, detector``.

Only positive spikes (more tickets than expected) are reported: a quiet day is not a spike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from kpitools.stats._common import StatisticalWarning, StatsInputError

__all__ = [
    "SPIKE_COLUMNS",
    "SpikeDetector",
    "SpikeInputError",
    "StatisticalWarning",
    "daily_counts",
    "detect_spikes",
    "esd_critical_values",
    "generalized_esd",
    "negbin_spikes",
    "seasonal_esd",
]

SPIKE_COLUMNS = ["date", "observed", "expected", "excess", "score", "detector"]
_METHODS = ("both", "seasonal_esd", "negbin")
_MIN_DAYS = 28
_CLEAR_SPIKE_P = 0.001  # days this extreme are left out of later negbin baselines
_CALIBRATION_DAYS = 182  # past one-step-ahead errors used to calibrate the negbin dispersion


class SpikeInputError(StatsInputError):
    """The daily series handed to a spike detector cannot be used."""


# --------------------------------------------------------------------------- validation


def _check_series(series, *, name: str = "series", min_days: int = _MIN_DAYS) -> pd.Series:
    """Return ``series`` as float64 on a validated, regular daily DatetimeIndex."""
    if not isinstance(series, pd.Series):
        raise TypeError(
            f"{name} must be a pandas Series of daily counts indexed by a DatetimeIndex, "
            f"got {type(series).__name__}; build one with "
            "tickets.set_index('created_date').resample('D').size()"
        )
    if not isinstance(series.index, pd.DatetimeIndex):
        raise SpikeInputError(
            f"{name} must be indexed by a DatetimeIndex of days, got {type(series.index).__name__}"
        )
    idx = series.index
    if len(idx) < min_days:
        raise SpikeInputError(
            f"{name} must cover at least {min_days} days (4 weeks) to estimate weekly "
            f"seasonality, got {len(idx)}"
        )
    if not idx.is_monotonic_increasing or idx.has_duplicates:
        raise SpikeInputError(f"{name} index must be increasing days without duplicates")
    wall = idx.tz_localize(None) if idx.tz is not None else idx  # DST days last 23 or 25 hours
    steps = np.diff(wall.as_unit("ns").asi8)
    day_ns = pd.Timedelta(days=1).value
    if (steps != day_ns).any() or (wall != wall.normalize()).any():
        bad = idx[1:][steps != day_ns][:3]
        raise SpikeInputError(
            f"{name} must be daily (one row per calendar day at midnight, gaps filled with 0, "
            f"e.g. .resample('D').size()); irregular steps before {list(map(str, bad))}"
        )
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    if values.isna().any() or (values < 0).any():
        raise SpikeInputError(
            f"{name} must hold non-negative counts without missing values; "
            f"first bad dates: {list(map(str, idx[(values.isna() | (values < 0)).to_numpy()][:3]))}"
        )
    return pd.Series(values.to_numpy(), index=idx, name=series.name)


def _check_alpha(alpha, name: str = "alpha") -> float:
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise StatsInputError(f"{name} must be a number strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


def _empty_spikes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series([], dtype="datetime64[ns]"),
            "observed": pd.Series([], dtype="float64"),
            "expected": pd.Series([], dtype="float64"),
            "excess": pd.Series([], dtype="float64"),
            "score": pd.Series([], dtype="float64"),
            "detector": pd.Series([], dtype="str"),
        }
    )


def _spike_frame(idx, observed, expected, score, detector: str) -> pd.DataFrame:
    if len(idx) == 0:
        out = _empty_spikes()
        if isinstance(idx, pd.DatetimeIndex) and idx.tz is not None:
            out["date"] = out["date"].dt.tz_localize(idx.tz)
        return out
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    out = pd.DataFrame(
        {
            "date": pd.DatetimeIndex(idx),
            "observed": observed,
            "expected": expected,
            "excess": observed - expected,
            "score": np.asarray(score, dtype=float),
            "detector": pd.array([detector] * len(idx), dtype="str"),
        }
    )
    return out.sort_values("date", ignore_index=True)


def daily_counts(timestamps, *, timezone: str | None = None, start=None, end=None) -> pd.Series:
    """Events per calendar day in the business time zone, gaps filled with 0.

    Parameters
    ----------
    timestamps : pandas.Series or array-like of datetime
        Event times, e.g. ``tickets["created_at"]`` (tz-aware UTC in the data contract).
        Missing values are ignored.
    timezone : str, optional
        Business time zone (``ds.settings.timezone``); tz-aware times are converted to it before
        they are cut into days. Naive times are taken as local already.
    start, end : date-like, optional
        First and last day of the result (default: the first and last event's day), so that
        days without events at either end are kept as 0.

    Returns
    -------
    pandas.Series
        ``int64`` counts on a naive daily DatetimeIndex (local midnight), named ``"count"``:
        the input of the spike detectors and the launch functions.

    Examples
    --------
    >>> import kpitools
    >>> ds = kpitools.load_dataset("data/sample")  # doctest: +SKIP
    >>> daily = daily_counts(ds.tickets["created_at"], timezone=ds.settings.timezone)  # doctest: +SKIP
    """
    t = pd.DatetimeIndex(pd.to_datetime(pd.Series(timestamps)).dropna())
    if t.tz is not None:
        t = t.tz_convert(timezone) if timezone is not None else t
        t = t.tz_localize(None)
    days = t.normalize().as_unit("ns")
    lo = pd.Timestamp(start).normalize() if start is not None else (days.min() if len(days) else None)
    hi = pd.Timestamp(end).normalize() if end is not None else (days.max() if len(days) else None)
    if lo is None or hi is None:
        raise StatsInputError("timestamps holds no dates and start/end are not given")
    index = pd.date_range(lo, hi, freq="D", unit="ns")
    counts = pd.Series(1, index=days).groupby(level=0).sum()
    out = counts.reindex(index, fill_value=0).astype("int64")
    out.name = "count"
    return out


# --------------------------------------------------------------------------- generalized ESD


def esd_critical_values(n: int, max_outliers: int, *, alpha: float = 0.05, two_sided: bool = False):
    """Critical values lambda_1..lambda_k of Rosner's generalized ESD test.

    Parameters
    ----------
    n : int
        Sample size before any removal.
    max_outliers : int
        Number of critical values k (the maximum number of outliers tested).
    alpha : float
        Significance level of the whole procedure.
    two_sided : bool
        False (default, spikes): ``p = 1 - alpha/(n - i + 1)``; True: ``p = 1 - alpha/(2(n - i + 1))``.

    Returns
    -------
    numpy.ndarray
        ``lambda_i`` for i = 1..k.

    Notes
    -----
    ``lambda_i = t(p, n-i-1) (n-i) / sqrt((n-i-1 + t^2)(n-i+1))`` with ``t(p, df)`` the p quantile of
    Student's t (Rosner 1983, Technometrics 25, 165-172; NIST/SEMATECH e-Handbook 1.3.5.17.3).
    """
    alpha = _check_alpha(alpha)
    i = np.arange(1, int(max_outliers) + 1, dtype=float)
    if n - max_outliers - 1 < 1:
        raise ValueError(
            f"max_outliers must leave at least 2 observations, got {max_outliers} of n={n}"
        )
    denom = 2.0 if two_sided else 1.0
    p = 1.0 - alpha / (denom * (n - i + 1))
    t = stats.t.ppf(p, n - i - 1)
    return t * (n - i) / np.sqrt((n - i - 1 + t**2) * (n - i + 1))


def generalized_esd(
    values,
    *,
    max_outliers: int,
    alpha: float = 0.05,
    alternative: str = "greater",
    robust: bool = True,
) -> pd.DataFrame:
    """Rosner's generalized extreme studentized deviate test for up to ``max_outliers`` outliers.

    Parameters
    ----------
    values : array-like of float
        The sample (for spikes: the STL remainder).
    max_outliers : int
        Upper bound k on the number of outliers.
    alpha : float
        Significance level.
    alternative : {"greater", "two-sided"}
        ``"greater"`` looks for values far above the centre only (one-sided critical values);
        ``"two-sided"`` for values far from it on either side.
    robust : bool
        True: centre = median, scale = MAD (scaled by 1.4826 to estimate the normal sd), as in
        Twitter's seasonal-hybrid ESD; when more than half the values tie (MAD = 0) the mean
        absolute deviation x 1.2533 is used instead. False: mean and sample sd, Rosner's
        original test.

    Returns
    -------
    pandas.DataFrame
        One row per step i = 1..k:

        - ``i``: step;
        - ``position``: position in ``values`` of the candidate removed at that step;
        - ``value``: that value;
        - ``statistic``: R_i = (x - centre)/scale (absolute for two-sided);
        - ``critical``: lambda_i;
        - ``outlier``: True for steps 1..r, where r is the largest i with R_i > lambda_i.

    Notes
    -----
    Each step removes the most extreme remaining value and recomputes centre and scale; the number
    of outliers is the largest i with R_i > lambda_i (steps before it count even when their own R is
    below the critical value). Checked against Rosner's (1983) 54-value example as reproduced in the
    NIST/SEMATECH e-Handbook section 1.3.5.17.3.
    """
    if alternative not in ("greater", "two-sided"):
        raise ValueError(f"alternative must be 'greater' or 'two-sided', got {alternative!r}")
    x = np.asarray(values, dtype=float)
    n = x.size
    k = int(max_outliers)
    if k < 1:
        raise ValueError(f"max_outliers must be at least 1, got {max_outliers!r}")
    crit = esd_critical_values(n, k, alpha=alpha, two_sided=alternative == "two-sided")
    remaining = np.ones(n, dtype=bool)
    positions = np.empty(k, dtype=np.int64)
    stat = np.empty(k)
    for step in range(k):  # k steps, each vectorised over the sample
        xr = x[remaining]
        if robust:
            centre = np.median(xr)
            scale = 1.4826 * np.median(np.abs(xr - centre))
            if scale == 0:  # over half the values tie: normal-consistent mean absolute deviation
                scale = 1.2533 * np.mean(np.abs(xr - centre))
        else:
            centre = xr.mean()
            scale = xr.std(ddof=1)
        dev = x - centre if alternative == "greater" else np.abs(x - centre)
        dev = np.where(remaining, dev, -np.inf)
        j = int(np.argmax(dev))
        positions[step] = j
        stat[step] = dev[j] / scale if scale > 0 else (np.inf if dev[j] > 0 else np.nan)
        remaining[j] = False
    above = np.nonzero(stat > crit)[0]
    r = int(above[-1]) + 1 if above.size else 0
    return pd.DataFrame(
        {
            "i": np.arange(1, k + 1),
            "position": positions,
            "value": x[positions],
            "statistic": stat,
            "critical": crit,
            "outlier": np.arange(1, k + 1) <= r,
        }
    )


def seasonal_esd(
    series: pd.Series,
    *,
    period: int = 7,
    alpha: float = 0.05,
    max_share: float = 0.10,
) -> pd.DataFrame:
    """Seasonal-hybrid ESD spike detection on a daily count series.

    Parameters
    ----------
    series : pandas.Series
        Daily counts on a regular daily DatetimeIndex (gaps filled with 0), at least 28 days.
    period : int
        Seasonal period in days (7: weekly).
    alpha : float
        Significance level of the generalized ESD test.
    max_share : float
        Largest share of days that may be flagged (k = floor(max_share n)).

    Returns
    -------
    pandas.DataFrame
        One row per spike day, sorted by date:

        - ``date``: the day;
        - ``observed``: count that day;
        - ``expected``: baseline = STL seasonal component + median of the series;
        - ``excess``: observed - expected (at least 1: a spike needs one extra ticket);
        - ``score``: the ESD statistic R_i (remainder above its median, in robust sd units);
        - ``detector``: ``"seasonal_esd"``.

    Notes
    -----
    Robust STL (statsmodels ``STL(robust=True)``) with the given period; remainder
    ``R = x - seasonal - median(x)`` (the trend is deliberately not removed: Twitter's S-H-ESD, Hochenbaum,
    Vallis & Kejariwal 2017, arXiv:1704.07706); then the one-sided generalized ESD with median and MAD
    (:func:`generalized_esd`), critical values
    ``lambda_i = t(p, n-i-1)(n-i)/sqrt((n-i-1+t^2)(n-i+1))``, ``p = 1 - alpha/(n-i+1)``.

    Examples
    --------
    >>> import kpitools
    >>> from kpitools.stats.spikes import daily_counts, detect_spikes
    >>> ds = kpitools.load_dataset("data/sample")
    >>> daily = daily_counts(ds.tickets["created_at"], timezone=ds.settings.timezone)
    >>> spikes = detect_spikes(daily)
    >>> spikes[["date", "observed", "expected", "detector"]].head()  # doctest: +SKIP
    """
    from statsmodels.tsa.seasonal import STL

    s = _check_series(series)
    alpha = _check_alpha(alpha)
    if not isinstance(period, int | np.integer) or period < 2:
        raise ValueError(f"period must be an integer >= 2, got {period!r}")
    if not isinstance(max_share, int | float) or not 0 < max_share < 0.5:
        raise ValueError(f"max_share must be a number in (0, 0.5), got {max_share!r}")
    x = s.to_numpy()
    n = x.size
    k = max(1, int(np.floor(max_share * n)))
    seasonal = STL(x, period=int(period), robust=True).fit().seasonal
    med = float(np.median(x))
    expected = seasonal + med
    remainder = np.round(x - expected, 9)  # STL leaves ~1e-12 noise on flat series
    esd = generalized_esd(remainder, max_outliers=k, alpha=alpha, alternative="greater", robust=True)
    # a count spike needs at least one extra ticket (guards near-constant series, where the
    # MAD is ~0 and fractions of a ticket would look extreme)
    hit = esd[esd["outlier"] & (esd["value"] >= 1.0)]
    pos = hit["position"].to_numpy()
    return _spike_frame(s.index[pos], x[pos], expected[pos], hit["statistic"], "seasonal_esd")


# --------------------------------------------------------------------------- negative binomial


def _design(t: np.ndarray, dow: np.ndarray, t0: float, scale: float) -> np.ndarray:
    """Intercept, linear trend (centred, scaled) and six day-of-week dummies (Monday is the base)."""
    cols = [np.ones(t.size), (t - t0) / scale]
    cols += [(dow == d).astype(float) for d in range(1, 7)]
    return np.column_stack(cols)


def _fit_negbin(y: np.ndarray, X: np.ndarray):
    """NB2 GLM fit: Poisson GLM, moment estimate of alpha, then NB GLM with that alpha.

    Returns (params, alpha) or None when the window has no counts.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    if y.sum() <= 0:
        return None
    # drop day-of-week columns without any observation in the window (all-zero dummies)
    keep = np.ones(X.shape[1], dtype=bool)
    keep[2:] = X[:, 2:].sum(axis=0) > 0
    Xk = X[:, keep]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        pois = sm.GLM(y, Xk, family=sm.families.Poisson()).fit()
        mu = pois.fittedvalues
        dof = max(y.size - Xk.shape[1], 1)
        # Cameron & Trivedi moment estimator of the NB2 dispersion: E[(y-mu)^2 - y] = alpha mu^2
        alpha = float(np.sum(((y - mu) ** 2 - y) / np.maximum(mu, 1e-9) ** 2) / dof)
        alpha = max(alpha, 1e-8)
        nb = sm.GLM(y, Xk, family=sm.families.NegativeBinomial(alpha=alpha)).fit()
        mu = nb.fittedvalues
        alpha = float(np.sum(((y - mu) ** 2 - y) / np.maximum(mu, 1e-9) ** 2) / dof)
        alpha = max(alpha, 1e-8)
        cov = np.asarray(nb.cov_params()) * max(1.0, float(nb.pearson_chi2) / dof)
    return keep, np.asarray(nb.params), cov, alpha


def _nb_dist(mu, alpha):
    """Frozen scipy NB2 distribution with mean ``mu`` and variance ``mu + alpha mu^2``."""
    size = 1.0 / alpha
    return stats.nbinom(size, size / (size + mu))


def negbin_spikes(
    series: pd.Series,
    *,
    alpha: float = 0.01,
    baseline_days: int = 56,
    refit_every: int = 7,
    exclude_spikes: bool = True,
) -> pd.DataFrame:
    """Spikes as days whose count exceeds the negative binomial predictive quantile.

    Parameters
    ----------
    series : pandas.Series
        Daily counts on a regular daily DatetimeIndex (gaps filled with 0), at least 28 days.
    alpha : float
        A day is a spike when its count exceeds the ``1 - alpha`` quantile of its predictive
        distribution.
    baseline_days : int
        Length of the trailing window the model is fitted on (default 8 weeks).
    refit_every : int
        The model is refitted every ``refit_every`` days on the ``baseline_days`` days before
        the block, and predicts the days of that block.
    exclude_spikes : bool
        Leave days already flagged out of later baselines, so that a spike does not raise the
        baseline of the following weeks.

    Returns
    -------
    pandas.DataFrame
        One row per spike day, sorted by date: ``date``, ``observed``, ``expected`` (predicted mean),
        ``excess`` (observed - expected), ``score`` (Pearson residual
        ``(y - mu)/sqrt(mu + alpha_hat mu^2)``) and ``detector`` = ``"negbin"``.

    Notes
    -----
    Model: ``log E[y_t] = b0 + b1 t + sum_d g_d [weekday(t) = d]`` with NB2 variance
    ``mu + a mu^2``, fitted with statsmodels ``GLM``: a Poisson fit gives the mean, the moment
    estimator ``a = sum(((y - mu)^2 - y)/mu^2)/(n - p)`` (Cameron & Trivedi 2013, ch. 3) the
    dispersion, then a ``NegativeBinomial(alpha=a)`` GLM the final mean. A day is a spike when
    ``y > F^{-1}(1 - alpha)`` for ``F`` the NB2(mu_t, a) distribution (scipy ``nbinom`` with
    ``n = 1/a``, ``p = n/(n + mu)``). Two corrections keep the rate of false alarms near ``alpha``:
    the variance of the fitted log-mean (``x' Cov x``) is added to ``a`` for the prediction, and
    once 8 weeks of one-step-ahead predictions exist, the predictive dispersion is at least their
    out-of-sample moment estimate ``mean(((y - mu)^2 - mu)/mu^2)`` over the last 26 weeks (a 56-day
    window estimates ``a`` only to about +-20%, and an underestimate inflates false alarms; on
    simulated NB series the corrected detector flags 1.1-1.2% of null days at ``alpha = 0.01``
    against 2% without). Days with upper-tail probability below 0.001 are left out of later
    baselines (``exclude_spikes``); a stricter cut than ``alpha`` avoids trimming the baseline's
    upper tail, which would shrink ``a`` and feed back into more flags. The first
    ``baseline_days`` days have no trailing history: they are judged against a model fitted on
    themselves, refitted once without their clear spikes.

    Examples
    --------
    >>> import kpitools
    >>> from kpitools.stats.spikes import daily_counts, detect_spikes
    >>> ds = kpitools.load_dataset("data/sample")
    >>> daily = daily_counts(ds.tickets["created_at"], timezone=ds.settings.timezone)
    >>> spikes = detect_spikes(daily)
    >>> spikes[["date", "observed", "expected", "detector"]].head()  # doctest: +SKIP
    """
    s = _check_series(series)
    alpha = _check_alpha(alpha)
    if not isinstance(baseline_days, int | np.integer) or baseline_days < 21:
        raise ValueError(f"baseline_days must be an integer >= 21, got {baseline_days!r}")
    if not isinstance(refit_every, int | np.integer) or refit_every < 1:
        raise ValueError(f"refit_every must be a positive integer, got {refit_every!r}")
    y = s.to_numpy()
    n = y.size
    t = np.arange(n, dtype=float)
    dow = s.index.day_of_week.to_numpy()
    flagged = np.zeros(n, dtype=bool)
    clear = np.zeros(n, dtype=bool)
    mu_all = np.full(n, np.nan)
    score_all = np.full(n, np.nan)
    B = min(int(baseline_days), n)
    baseline = B  # days before this were judged in-sample and are not used for calibration

    def judge(lo: int, hi: int, fit_idx: np.ndarray) -> None:
        fit_idx = fit_idx[~clear[fit_idx]] if exclude_spikes else fit_idx
        if fit_idx.size < 14:
            return
        t0, scale = float(t[fit_idx].mean()), float(B)
        res = _fit_negbin(y[fit_idx], _design(t[fit_idx], dow[fit_idx], t0, scale))
        if res is None:
            return
        keep, params, cov, a = res
        Xp = _design(t[lo:hi], dow[lo:hi], t0, scale)
        unseen = (Xp[:, ~keep] > 0).any(axis=1)  # weekday never seen in the baseline window
        Xp = Xp[:, keep]
        eta = Xp @ params
        v = np.einsum("ij,jk,ik->i", Xp, cov, Xp)  # var of the fitted log-mean
        mu = np.where(unseen, np.nan, np.exp(eta))
        a_pred = a + v  # lognormal-ish mean uncertainty folded into the dispersion
        # out-of-sample calibration: the dispersion of past one-step-ahead errors, which also
        # carries the estimation error of a (a 56-day window estimates it to about +-20%)
        past = np.arange(max(0, lo - _CALIBRATION_DAYS), lo)
        past = past[np.isfinite(mu_all[past]) & ~clear[past] & (past >= baseline)]
        if past.size >= 56:
            m = mu_all[past]
            a_oos = float(np.mean(((y[past] - m) ** 2 - m) / m**2))
            a_pred = np.maximum(a_pred, a_oos)
        dist = _nb_dist(mu, a_pred)
        q = dist.ppf(1.0 - alpha)
        pval = dist.sf(y[lo:hi] - 1)
        mu_all[lo:hi] = mu
        score_all[lo:hi] = (y[lo:hi] - mu) / np.sqrt(mu + a_pred * mu**2)
        flagged[lo:hi] = y[lo:hi] > q
        clear[lo:hi] = pval < _CLEAR_SPIKE_P

    # burn-in: the first window judged in-sample, then once more without its own spikes
    burn = np.arange(B)
    judge(0, B, burn)
    judge(0, B, burn)
    for lo in range(B, n, int(refit_every)):  # one fit per block of days, not per day
        hi = min(lo + int(refit_every), n)
        judge(lo, hi, np.arange(lo - B, lo))
    pos = np.nonzero(flagged)[0]
    return _spike_frame(s.index[pos], y[pos], mu_all[pos], score_all[pos], "negbin")


# --------------------------------------------------------------------------- both


def detect_spikes(
    series: pd.Series,
    *,
    method: str = "both",
    alpha: float | None = None,
    period: int = 7,
    max_share: float = 0.10,
    baseline_days: int = 56,
) -> pd.DataFrame:
    """Run one or both spike detectors and return their spike tables stacked.

    Parameters
    ----------
    series : pandas.Series
        Daily counts on a regular daily DatetimeIndex (gaps filled with 0), at least 28 days.
    method : {"both", "seasonal_esd", "negbin"}
        Which detector(s) to run.
    alpha : float, optional
        Significance level passed to the detector(s); default 0.05 for seasonal ESD and 0.01 for the
        negative binomial model.
    period, max_share : see :func:`seasonal_esd`.
    baseline_days : see :func:`negbin_spikes`.

    Returns
    -------
    pandas.DataFrame
        The columns of the spike table (``date, observed, expected, excess, score, detector``),
        sorted by date then detector. A day found by both detectors appears twice, once per detector.

    Examples
    --------
    >>> import kpitools
    >>> from kpitools.stats.spikes import daily_counts, detect_spikes
    >>> ds = kpitools.load_dataset("data/sample")
    >>> daily = daily_counts(ds.tickets["created_at"], timezone=ds.settings.timezone)
    >>> spikes = detect_spikes(daily)
    >>> spikes[["date", "observed", "expected", "detector"]].head()  # doctest: +SKIP
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    parts = []
    if method in ("both", "seasonal_esd"):
        parts.append(
            seasonal_esd(
                series, period=period, alpha=0.05 if alpha is None else alpha, max_share=max_share
            )
        )
    if method in ("both", "negbin"):
        parts.append(
            negbin_spikes(
                series, alpha=0.01 if alpha is None else alpha, baseline_days=baseline_days
            )
        )
    parts = [p for p in parts if len(p)]
    if not parts:
        return _spike_frame(_check_series(series).index[:0], [], [], [], "")
    return pd.concat(parts, ignore_index=True).sort_values(["date", "detector"], ignore_index=True)


class SpikeDetector:
    """Configured spike detector (lifelines style): ``SpikeDetector(method="both").fit(series)``.

    Parameters
    ----------
    method : {"both", "seasonal_esd", "negbin"}
    alpha : float, optional
        See :func:`detect_spikes`.
    **options
        Further keyword options of :func:`detect_spikes` (``period``, ``max_share``,
        ``baseline_days``).

    Attributes
    ----------
    spikes_ : pandas.DataFrame
        The spike table after :meth:`fit`.
    n_days_ : int
        Days in the fitted series.
    """

    def __init__(self, method: str = "both", alpha: float | None = None, **options) -> None:
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        self.method = method
        self.alpha = alpha
        self.options = options

    def fit(self, series: pd.Series) -> SpikeDetector:
        """Detect spikes in ``series``; returns self."""
        s = _check_series(series)
        self.spikes_ = detect_spikes(s, method=self.method, alpha=self.alpha, **self.options)
        self.n_days_ = len(s)
        self.start_, self.end_ = s.index[0], s.index[-1]
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """Spikes per detector: ``detector, n_spikes, share_of_days, excess_total, max_score``."""
        if not hasattr(self, "spikes_"):
            raise AttributeError("call fit(series) first")
        g = self.spikes_.groupby("detector", observed=True)
        out = g.agg(
            n_spikes=("date", "size"), excess_total=("excess", "sum"), max_score=("score", "max")
        ).reset_index()
        out.insert(2, "share_of_days", out["n_spikes"] / self.n_days_)
        return out

    def __repr__(self) -> str:
        state = f", {len(self.spikes_)} spikes in {self.n_days_} days" if hasattr(self, "spikes_") else ""
        return f"SpikeDetector(method={self.method!r}, alpha={self.alpha!r}{state})"

    def _repr_html_(self) -> str:
        if not hasattr(self, "spikes_"):
            return f"<p>{self!r} (not fitted)</p>"
        head = f"<p><b>SpikeDetector</b> ({self.method}): {self.start_:%Y-%m-%d} to {self.end_:%Y-%m-%d}</p>"
        return head + self.summary.to_html(index=False) + self.spikes_.to_html(index=False)
