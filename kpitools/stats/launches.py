"""Do ticket spikes follow product launches, and how large is a launch's effect?

Tools on a daily ticket count series (a pandas Series on a regular daily DatetimeIndex, gaps
filled with 0) and a launch calendar:

- :func:`event_study`: excess volume by day relative to launch, averaged over launches, with a
  bootstrap interval over launches;
- :func:`launch_effects`: one row per launch: excess tickets in the post-launch window with an
  interval and a one-sided p-value (negative binomial noise plus baseline error);
- :func:`level_baseline`, :func:`weekday_baseline`: robust seasonal baselines that leave the
  post-launch days out;
- :func:`launch_permutation_test`: are spike days concentrated after launches? (common circular
  shift of all launch dates);
- :func:`prewhitened_ccf`: lagged cross-correlation of launches and tickets after prewhitening;
- :func:`attribute_spikes`: each spike with the launches in the k days before it.

Launch dates may be given as a list of date-likes, a Series/DatetimeIndex, or the ``launches``
table (its ``launched_at`` column). Timestamps with a time zone are converted to ``timezone`` (the
business time zone) before they are cut to calendar days.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from kpitools.stats._common import (
    StatisticalWarning,
    StatsInputError,
    check_choice,
    check_confidence,
    check_positive_int,
    z_value,
)
from kpitools.stats.spikes import SPIKE_COLUMNS, _check_series

__all__ = [
    "PermutationResult",
    "attribute_spikes",
    "event_study",
    "launch_effects",
    "launch_indicator",
    "launch_permutation_test",
    "level_baseline",
    "prewhitened_ccf",
    "weekday_baseline",
]

_DAY = pd.Timedelta(days=1)


# --------------------------------------------------------------------------- inputs


def _naive_days(values, *, timezone: str | None, name: str) -> pd.DatetimeIndex:
    """Date-likes -> naive midnight DatetimeIndex (calendar days in ``timezone`` when tz-aware)."""
    if isinstance(values, pd.DataFrame):
        if "launched_at" not in values.columns:
            raise StatsInputError(
                f"{name} as a table needs a 'launched_at' column (the launches table), "
                f"got columns {list(values.columns)}"
            )
        values = values["launched_at"]
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(pd.Index(values) if not isinstance(values, pd.Index) else values))
    except (TypeError, ValueError) as err:
        raise StatsInputError(f"{name} must be dates or timestamps; could not convert: {err}") from None
    if idx.tz is not None:
        if timezone is not None:
            idx = idx.tz_convert(timezone)
        idx = idx.tz_localize(None)
    return idx.normalize().as_unit("ns")


def _series_days(series, *, name: str = "series", min_days: int = 28) -> pd.Series:
    s = _check_series(series, name=name, min_days=min_days)
    idx = s.index
    if idx.tz is not None:
        s = pd.Series(s.to_numpy(), index=idx.tz_localize(None).as_unit("ns"), name=s.name)
    else:
        s = pd.Series(s.to_numpy(), index=idx.as_unit("ns"), name=s.name)
    return s


def _positions(days: pd.DatetimeIndex, start: pd.Timestamp) -> np.ndarray:
    """Integer day offsets of ``days`` from ``start``."""
    return ((days - start) // _DAY).to_numpy().astype(np.int64)


def _check_window(window, name: str = "window") -> tuple[int, int]:
    try:
        lo, hi = (int(v) for v in window)
    except (TypeError, ValueError):
        raise StatsInputError(f"{name} must be a pair of integers (first, last day), got {window!r}") from None
    if lo > hi:
        raise StatsInputError(f"{name} must have first <= last, got {window!r}")
    return lo, hi


def launch_indicator(launch_dates, days, *, timezone: str | None = None) -> pd.Series:
    """Daily launch counts on the days of ``days`` (0 on days without a launch).

    Parameters
    ----------
    launch_dates : list-like of date-likes, or the launches table
    days : pandas.DatetimeIndex or pandas.Series
        The calendar (a Series contributes its index).
    timezone : str, optional
        Business time zone for tz-aware launch timestamps.

    Returns
    -------
    pandas.Series
        Launches per day, int64, indexed like ``days`` (launches outside it are not counted).
    """
    idx = days.index if isinstance(days, pd.Series) else pd.DatetimeIndex(days)
    naive = idx.tz_localize(None) if idx.tz is not None else idx
    naive = naive.as_unit("ns")
    ld = _naive_days(launch_dates, timezone=timezone, name="launch_dates")
    counts = pd.Series(1, index=ld).groupby(level=0).sum()
    out = counts.reindex(naive, fill_value=0).astype("int64")
    out.index = idx
    return out


# --------------------------------------------------------------------------- baseline


def weekday_baseline(
    series: pd.Series, *, exclude=None, weeks: int = 8
) -> pd.Series:
    """Robust seasonal baseline: median of the same weekday in the surrounding weeks.

    Parameters
    ----------
    series : pandas.Series
        Daily counts on a regular daily DatetimeIndex.
    exclude : array-like of bool, optional
        Days not to use as neighbours (launch windows), aligned with ``series``.
    weeks : int
        Neighbours on each side: the baseline of day t is the median of the counts on days
        ``t +- 7j``, ``j = 1..weeks``, that exist and are not excluded. The day itself is never used.

    Returns
    -------
    pandas.Series
        Expected count per day (NaN where no neighbour is available).

    Notes
    -----
    A centred same-weekday median follows weekly seasonality and slow trends, ignores isolated
    spikes (median) and, with launch windows excluded, is not raised by the launch effects it is
    used to measure. The day itself is left out, so a spike does not raise its own baseline.
    """
    s = _series_days(series)
    weeks = check_positive_int("weeks", weeks)
    y = s.to_numpy().copy()
    if exclude is not None:
        ex = np.asarray(exclude, dtype=bool)
        if ex.shape != y.shape:
            raise StatsInputError(f"exclude must have one flag per day ({y.size}), got shape {ex.shape}")
        y[ex] = np.nan
    n = y.size
    offsets = 7 * np.concatenate([-np.arange(weeks, 0, -1), np.arange(1, weeks + 1)])
    pos = np.arange(n)[:, None] + offsets[None, :]
    ok = (pos >= 0) & (pos < n)
    neigh = np.where(ok, y[np.clip(pos, 0, n - 1)], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        base = np.nanmedian(neigh, axis=1)
    return pd.Series(base, index=series.index, name="expected")


def _weekday_factors(y: np.ndarray, dow: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Multiplicative weekday factors (mean 1): median ratio to a centred 7-day mean."""
    n = y.size
    cs = np.concatenate([[0.0], np.cumsum(np.where(valid, y, 0.0))])
    cv = np.concatenate([[0], np.cumsum(valid)])
    t = np.arange(3, n - 3)
    ok = (cv[t + 4] - cv[t - 3] == 7) & ((cs[t + 4] - cs[t - 3]) > 0)  # whole week usable
    ratio = np.full(n, np.nan)
    ratio[t[ok]] = y[t[ok]] / ((cs[t + 4] - cs[t - 3])[ok] / 7.0)
    f = np.full(7, np.nan)
    for d in range(7):  # seven weekdays
        r = ratio[dow == d]
        if np.isfinite(r).sum() >= 2:
            f[d] = np.nanmedian(r)
    if not np.isfinite(f).all():  # too few clean weeks: ratio of weekday medians instead
        for d in range(7):
            sel = valid & (dow == d)
            f[d] = np.median(y[sel]) if sel.any() else np.nan
    f = np.where(np.isfinite(f) & (f > 0), f, np.nan)
    f = np.where(np.isfinite(f), f, np.nanmean(f) if np.isfinite(f).any() else 1.0)
    return f / f.mean()


def level_baseline(
    series: pd.Series,
    *,
    exclude=None,
    holidays=None,
    level_days: int = 21,
) -> pd.Series:
    """Robust seasonal baseline: local level x weekday factor (x holiday factor).

    Parameters
    ----------
    series : pandas.Series
        Daily counts on a regular daily DatetimeIndex.
    exclude : array-like of bool, optional
        Days not used to estimate anything (launch windows); they are predicted.
    holidays : list-like of date-likes, optional
        Public holidays: they get their own factor (they are usually far quieter), so a holiday
        inside a launch window is not mistaken for a negative launch effect.
    level_days : int
        The level of day t is the median of the weekday-adjusted counts on the ``level_days``
        usable days nearest to t (t itself excluded).

    Returns
    -------
    pandas.Series
        Expected count per day.

    Notes
    -----
    Multiplicative decomposition (weekday effects scale with volume for ticket counts):

    1. weekday factors ``f_d``: median over usable days of ``y_t / MA7_t`` (centred 7-day mean
       over fully usable weeks), normalised to mean 1 (classical decomposition; Hyndman &
       Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., sec. 3.4);
    2. level ``L_t``: median of ``y_s / f_dow(s)`` over the ``level_days`` usable days ``s != t``
       nearest to t; it follows slow trends and ignores isolated spikes (incidents);
    3. ``b_t = L_t f_dow(t)``, times a holiday factor (median of ``y / b`` on usable holidays;
       with fewer than 3 usable holidays a holiday is expected like a Sunday).

    Unlike a same-weekday median, the level borrows from every usable day, so it stays stable
    when launch windows cover most of the calendar.
    """
    s = _series_days(series)
    level_days = check_positive_int("level_days", level_days)
    n = len(s)
    y = s.to_numpy()
    ex = np.zeros(n, dtype=bool) if exclude is None else np.asarray(exclude, dtype=bool)
    if ex.shape != y.shape:
        raise StatsInputError(f"exclude must have one flag per day ({n}), got shape {ex.shape}")
    hol = np.zeros(n, dtype=bool)
    if holidays is not None and len(holidays):
        hol = np.asarray(s.index.isin(_naive_days(list(holidays), timezone=None, name="holidays")))
    dow = s.index.day_of_week.to_numpy()
    valid = ~ex & ~hol
    if valid.sum() < 14:
        raise StatsInputError(
            "level_baseline needs at least 14 usable days outside exclude and holidays, "
            f"got {int(valid.sum())}"
        )
    f = _weekday_factors(y, dow, valid)
    z = y / f[dow]
    vpos = np.flatnonzero(valid)
    M = min(level_days, vpos.size - 1)
    days = np.arange(n)
    # candidates: the M usable days on either side of t's place among the usable days
    at = np.searchsorted(vpos, days)
    cand = at[:, None] + np.arange(-M, M + 1)[None, :]
    inside = (cand >= 0) & (cand < vpos.size)
    cpos = vpos[np.clip(cand, 0, vpos.size - 1)]
    far = np.iinfo(np.int64).max
    dist = np.where(inside & (cpos != days[:, None]), np.abs(cpos - days[:, None]), far)
    nearest = np.argpartition(dist, M - 1, axis=1)[:, :M]
    level = np.median(z[np.take_along_axis(cpos, nearest, axis=1)], axis=1)
    base = level * f[dow]
    if hol.any():
        usable_h = hol & ~ex
        if usable_h.sum() >= 3:
            hf = float(np.median(y[usable_h] / np.maximum(base[usable_h], 1e-9)))
            base = np.where(hol, base * hf, base)
        else:
            base = np.where(hol, level * f[6], base)
    return pd.Series(base, index=series.index, name="expected")


def _baseline_for(
    s: pd.Series, mask: np.ndarray, baseline, weeks: int, holidays=None, level_days: int = 21
) -> np.ndarray:
    if isinstance(baseline, str):
        if baseline == "level":
            return level_baseline(s, exclude=mask, holidays=holidays, level_days=level_days).to_numpy()
        if baseline != "weekday_median":
            raise StatsInputError(
                "baseline must be 'level', 'weekday_median' or a Series of expected counts, "
                f"got {baseline!r}"
            )
        return weekday_baseline(s, exclude=mask, weeks=weeks).to_numpy()
    if isinstance(baseline, pd.Series):
        b = baseline.copy()
        if isinstance(b.index, pd.DatetimeIndex) and b.index.tz is not None:
            b.index = b.index.tz_localize(None)
        b.index = pd.DatetimeIndex(b.index).as_unit("ns")
        return b.reindex(s.index).to_numpy(dtype=float)
    raise StatsInputError(
        "baseline must be 'level', 'weekday_median' or a Series of expected counts, "
        f"got {type(baseline).__name__}"
    )


def _window_mask(n: int, pos: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Union of windows [p + lo, p + hi] over launch positions, clipped to the series."""
    mask = np.zeros(n, dtype=bool)
    if pos.size:
        cells = (pos[:, None] + np.arange(lo, hi + 1)[None, :]).ravel()
        cells = cells[(cells >= 0) & (cells < n)]
        mask[cells] = True
    return mask


# --------------------------------------------------------------------------- event study


def event_study(
    series: pd.Series,
    launch_dates,
    *,
    window: tuple[int, int] = (-7, 21),
    baseline="level",
    holidays=None,
    level_days: int = 21,
    baseline_weeks: int = 8,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed=None,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Average excess ticket volume by day relative to launch, with a bootstrap over launches.

    Parameters
    ----------
    series : pandas.Series
        Daily ticket counts on a regular daily DatetimeIndex (gaps filled with 0).
    launch_dates : list-like of date-likes, or the launches table (``launched_at``)
    window : (int, int)
        First and last day relative to launch (day 0 = launch day).
    baseline : {"level", "weekday_median"} or pandas.Series
        ``"level"`` (default): :func:`level_baseline` (local level x weekday factor x holiday
        factor) estimated outside the post-launch days; ``"weekday_median"``:
        :func:`weekday_baseline`; or a Series of expected counts on the same days.
    holidays : list-like of date-likes, optional
        Public holidays (``Settings.holidays``) for the level baseline.
    level_days : int
        Usable days behind each day's level (see :func:`level_baseline`).
    baseline_weeks : int
        Weeks on each side used by the weekday median.
    n_boot : int
        Bootstrap resamples of the launches.
    confidence : float
        Level of the percentile interval.
    seed : int or numpy.random.Generator, optional
        Seeds the bootstrap.
    timezone : str, optional
        Business time zone for tz-aware launch timestamps.

    Returns
    -------
    pandas.DataFrame
        One row per relative day:

        - ``day``: days since launch;
        - ``excess_mean``: mean over launches of observed - baseline that day;
        - ``ci_low``, ``ci_high``: bootstrap percentile interval of ``excess_mean``;
        - ``cum_excess_mean``, ``cum_ci_low``, ``cum_ci_high``: the same for the excess summed
          from day 0 to this day (NaN before day 0), the total extra tickets a launch brings;
        - ``n_launches``: launches whose series covers that day;
        - ``method`` (``"expanded_percentile_bootstrap"``, over launches) and ``confidence``.

    Notes
    -----
    Excess ``e_{j,d} = y_{t_j + d} - b_{t_j + d}`` for launch j and relative day d. The baseline
    ``b`` is estimated without the post-launch days ``0..window[1]`` of every launch (where
    effects can be); the days before a launch stay usable, because an effect cannot precede its
    launch and the nearest days give the most local level (so the pre-launch excess is ~0 by
    construction and is not a test of anticipation). The interval resamples whole launches with replacement (the launches are the independent
    units; days within a launch are not) and takes percentiles of the resampled means
    (Efron & Tibshirani 1993, ch. 13). With few launches the plain percentile interval is too
    narrow, so the *expanded* percentile interval is used (Hesterberg 2015, The American
    Statistician 69, 371-386): tail share ``Phi(-sqrt(L/(L-1)) t_{1-a/2, L-1})`` instead of
    ``a/2``. On simulated series with 8 launches this lifts the coverage of the 95% interval from
    0.84-0.93 to about the nominal level. Fewer than 5 launches warn.

    Examples
    --------
    >>> import kpitools
    >>> from kpitools.stats.spikes import daily_counts
    >>> from kpitools.stats.launches import event_study, launch_effects
    >>> ds = kpitools.load_dataset("data/sample")
    >>> tz = ds.settings.timezone
    >>> daily = daily_counts(ds.tickets["created_at"], timezone=tz)
    >>> es = event_study(daily, ds.launches, holidays=ds.settings.holidays, timezone=tz, seed=1)
    >>> effects = launch_effects(daily, ds.launches, holidays=ds.settings.holidays, timezone=tz)
    """
    s = _series_days(series)
    lo, hi = _check_window(window)
    n_boot = check_positive_int("n_boot", n_boot)
    confidence = check_confidence(confidence)
    ld = _naive_days(launch_dates, timezone=timezone, name="launch_dates")
    start, n = s.index[0], len(s)
    pos = _positions(ld, start)
    pos = pos[(pos + hi >= 0) & (pos + lo < n)]  # launches whose window touches the data
    days = np.arange(lo, hi + 1)
    mask = _window_mask(n, pos, 0, max(hi, 0))
    base = _baseline_for(s, mask, baseline, baseline_weeks, holidays, level_days)
    excess = s.to_numpy() - base
    L = pos.size
    cells = pos[:, None] + days[None, :]
    inside = (cells >= 0) & (cells < n)
    E = np.where(inside, excess[np.clip(cells, 0, n - 1)], np.nan)  # launches x days
    post = days >= 0
    C = np.full_like(E, np.nan)
    C[:, post] = np.cumsum(E[:, post], axis=1)  # NaN once a launch runs off the data
    if L < 5:
        warnings.warn(
            f"event_study: only {L} launch(es) in the series; the bootstrap interval over launches "
            "is unreliable below 5 launches",
            StatisticalWarning,
            stacklevel=2,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # days no launch covers give NaN
        mean = np.nanmean(E, axis=0) if L else np.full(days.size, np.nan)
        cmean = np.nanmean(C, axis=0) if L else np.full(days.size, np.nan)
        # expanded percentile interval (Hesterberg 2015): the plain percentile interval is
        # too narrow for few launches; widen its tail share to match a t interval's width
        tail = (1 - confidence) / 2
        if L >= 2:
            tail = float(stats.norm.cdf(-np.sqrt(L / (L - 1)) * stats.t.ppf(1 - tail, L - 1)))
        lo_q, hi_q = 100 * tail, 100 * (1 - tail)
        if L >= 2:
            rng = np.random.default_rng(seed)
            ci = np.empty((2, days.size))
            cci = np.empty((2, days.size))
            boot = np.empty((n_boot, days.size))
            cboot = np.empty((n_boot, days.size))
            for b0 in range(0, n_boot, 500):  # batches keep memory flat for many launches
                draw = rng.integers(0, L, size=(min(500, n_boot - b0), L))
                boot[b0 : b0 + draw.shape[0]] = np.nanmean(E[draw], axis=1)
                cboot[b0 : b0 + draw.shape[0]] = np.nanmean(C[draw], axis=1)
            ci = np.nanpercentile(boot, [lo_q, hi_q], axis=0)
            cci = np.nanpercentile(cboot, [lo_q, hi_q], axis=0)
        else:
            ci = cci = np.full((2, days.size), np.nan)
    return pd.DataFrame(
        {
            "day": days,
            "excess_mean": mean,
            "ci_low": ci[0],
            "ci_high": ci[1],
            "cum_excess_mean": np.where(post, cmean, np.nan),
            "cum_ci_low": np.where(post, cci[0], np.nan),
            "cum_ci_high": np.where(post, cci[1], np.nan),
            "n_launches": inside.sum(axis=0).astype("int64"),
            "method": pd.array(["expanded_percentile_bootstrap"] * days.size, dtype="str"),
            "confidence": confidence,
        }
    )


# --------------------------------------------------------------------------- per launch


def launch_effects(
    series: pd.Series,
    launches,
    *,
    window: tuple[int, int] = (0, 14),
    exclude: tuple[int, int] = (0, 28),
    baseline="level",
    holidays=None,
    level_days: int = 21,
    baseline_weeks: int = 8,
    confidence: float = 0.95,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Excess tickets after each launch, with an interval and a one-sided test.

    Parameters
    ----------
    series : pandas.Series
        Daily ticket counts on a regular daily DatetimeIndex (gaps filled with 0).
    launches : pandas.DataFrame or list-like
        The launches table (``launch_id``, ``launched_at``, optional ``name``) or launch dates
        (then ``launch_id`` is the position and ``name`` is empty).
    window : (int, int)
        Days relative to launch summed into the effect (default the launch day and 14 days after).
    exclude : (int, int)
        Days relative to every launch that no baseline may use (extended to cover ``window``):
        effects with a lag and a slow decay must not raise the baseline.
    baseline, holidays, level_days, baseline_weeks, timezone : see :func:`event_study`.
    confidence : float
        Level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row per launch, in the order given:

        - ``launch_id``, ``name``, ``launch_date``;
        - ``observed_total``, ``expected_total``: tickets in the window and their baseline;
        - ``excess_total``: observed_total - expected_total;
        - ``se``: its standard error under no effect;
        - ``ci_low``, ``ci_high``: ``excess_total +- z se``;
        - ``z`` and ``p_value``: one-sided test of "this launch raised volume",
          ``p = 1 - Phi(excess / se)``;
        - ``window``, ``method`` (``"baseline+negbin"``), ``confidence``.
        Rows whose window runs outside the data or lacks a baseline are NaN.

    Notes
    -----
    Under no effect, ``S = sum_{t in window} y_t`` has mean ``E = sum b_t`` and variance
    ``V = sum_t (b_t + a b_t^2) + E^2 v``: negative binomial day-to-day noise with dispersion ``a``
    (moment estimate ``mean(((y - b)^2 - b)/b^2)`` over the usable days outside all exclusion
    zones and holidays), plus the error of the baseline itself, which is shared by all days of the
    window: ``v = (pi/2) s^2 / M`` for a level that is the median of ``M = level_days``
    weekday-adjusted counts with robust relative spread ``s`` (1.4826 MAD of ``z/L - 1``; the
    variance of a median is ``pi/2`` times that of a mean). For ``"weekday_median"``
    ``M = 2 baseline_weeks``; a baseline Series given by the caller is taken as exact (``v = 0``).
    ``z = (S - E)/sqrt(V)`` is referred to the normal distribution. The usable days' residual
    variance already contains the per-day part of the baseline error, so ``V`` errs on the
    large side. Across simulated series with quiet launches the test rejects at about the
    nominal rate (tests).

    Examples
    --------
    >>> import kpitools
    >>> from kpitools.stats.spikes import daily_counts
    >>> from kpitools.stats.launches import event_study, launch_effects
    >>> ds = kpitools.load_dataset("data/sample")
    >>> tz = ds.settings.timezone
    >>> daily = daily_counts(ds.tickets["created_at"], timezone=tz)
    >>> es = event_study(daily, ds.launches, holidays=ds.settings.holidays, timezone=tz, seed=1)
    >>> effects = launch_effects(daily, ds.launches, holidays=ds.settings.holidays, timezone=tz)
    """
    s = _series_days(series)
    lo, hi = _check_window(window)
    ex_lo, ex_hi = _check_window(exclude, name="exclude")
    ex_lo, ex_hi = min(ex_lo, lo), max(ex_hi, hi)
    confidence = check_confidence(confidence)
    level_days = check_positive_int("level_days", level_days)
    if isinstance(launches, pd.DataFrame):
        missing = [c for c in ("launch_id", "launched_at") if c not in launches.columns]
        if missing:
            raise StatsInputError(
                f"launches must have columns launch_id and launched_at (the launches table); "
                f"missing {missing}"
            )
        ids = launches["launch_id"].astype("str").to_numpy()
        names = (
            launches["name"].astype("str").to_numpy()
            if "name" in launches.columns
            else np.array([""] * len(launches))
        )
    else:
        ids = None
    ld = _naive_days(launches, timezone=timezone, name="launches")
    if ids is None:
        ids = np.array([str(i) for i in range(len(ld))])
        names = np.array([""] * len(ld))
    start, n = s.index[0], len(s)
    pos = _positions(ld, start)
    valid = (pos + lo >= 0) & (pos + hi < n)
    mask = _window_mask(n, pos, ex_lo, ex_hi)
    base = _baseline_for(s, mask, baseline, baseline_weeks, holidays, level_days)
    y = s.to_numpy()
    hol = np.zeros(n, dtype=bool)
    if holidays is not None and len(holidays):
        hol = np.asarray(s.index.isin(_naive_days(list(holidays), timezone=None, name="holidays")))
    usable = ~mask & ~hol & np.isfinite(base) & (base > 0)
    if usable.sum() < 28:
        warnings.warn(
            f"launch_effects: only {int(usable.sum())} days outside the launch exclusion zones; "
            "the dispersion and baseline error are poorly estimated",
            StatisticalWarning,
            stacklevel=2,
        )
    bu, yu = base[usable], y[usable]
    a = max(0.0, float(np.mean(((yu - bu) ** 2 - bu) / bu**2))) if bu.size else np.nan
    if isinstance(baseline, str):
        m_eff = level_days if baseline == "level" else 2 * int(baseline_weeks)
        rel = yu / bu - 1.0
        spread = 1.4826 * float(np.median(np.abs(rel - np.median(rel)))) if rel.size else np.nan
        v_level = (np.pi / 2.0) * spread**2 / m_eff
    else:
        v_level = 0.0
    cells = np.clip(pos[:, None] + np.arange(lo, hi + 1)[None, :], 0, n - 1)
    S = np.where(valid, y[cells].sum(axis=1), np.nan)
    E = np.where(valid, base[cells].sum(axis=1), np.nan)  # NaN if a baseline day is missing
    V = np.where(valid, (base[cells] + a * base[cells] ** 2).sum(axis=1) + E**2 * v_level, np.nan)
    se = np.sqrt(V)
    excess = S - E
    with np.errstate(invalid="ignore", divide="ignore"):
        zstat = excess / se
    half = z_value(confidence) * se
    if (~valid).any():
        warnings.warn(
            f"launch_effects: {int((~valid).sum())} launch(es) have a window running outside the "
            f"data (days {lo}..{hi}); their row is NaN",
            StatisticalWarning,
            stacklevel=2,
        )
    return pd.DataFrame(
        {
            "launch_id": pd.array(ids, dtype="str"),
            "name": pd.array(names, dtype="str"),
            "launch_date": ld,
            "observed_total": S,
            "expected_total": E,
            "excess_total": excess,
            "se": se,
            "ci_low": excess - half,
            "ci_high": excess + half,
            "z": zstat,
            "p_value": stats.norm.sf(zstat),
            "window": f"{lo}..{hi}",
            "method": "baseline+negbin",
            "confidence": confidence,
        }
    )


# --------------------------------------------------------------------------- permutation test


@dataclass(frozen=True)
class PermutationResult:
    """Result of :func:`launch_permutation_test`.

    Attributes
    ----------
    statistic : int
        T, spike days inside the post-launch windows.
    p_value : float
        ``(1 + #{T* >= T}) / (1 + n_perm)``.
    n_perm : int
        Shifts in the null distribution.
    shifts : str
        ``"all"`` (every non-zero circular shift) or ``"random"``.
    k : int
        Window length: days 0..k after each launch.
    expected : float
        Mean of T under the null (spike days x window share).
    null : numpy.ndarray
        T* for each shift.
    """

    statistic: int
    p_value: float
    n_perm: int
    shifts: str
    k: int
    expected: float
    null: np.ndarray = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame: statistic, expected, p_value, n_perm, shifts, k."""
        return pd.DataFrame(
            {
                "statistic": [self.statistic],
                "expected": [self.expected],
                "p_value": [self.p_value],
                "n_perm": [self.n_perm],
                "shifts": pd.array([self.shifts], dtype="str"),
                "k": [self.k],
            }
        )


def _perm_setup(spike_dates, launch_dates, days, k, timezone):
    if isinstance(days, pd.Series):
        days = days.index
    try:
        days = pd.DatetimeIndex(days)
    except (TypeError, ValueError):
        raise StatsInputError("days must be a DatetimeIndex (or a Series indexed by days)") from None
    if days.tz is not None:
        days = days.tz_localize(None)
    days = days.as_unit("ns")
    n = len(days)
    if n < 28 or (n > 1 and (np.diff(days.asi8) != _DAY.value).any()):
        raise StatsInputError(
            f"days must be at least 28 consecutive calendar days (the series' full range), got {n} "
            "days" + ("" if n < 28 else " with gaps")
        )
    if isinstance(spike_dates, pd.DataFrame):
        if "date" not in spike_dates.columns:
            raise StatsInputError("spike_dates as a table needs a 'date' column (a spike table)")
        spike_dates = spike_dates["date"]
    sd = _naive_days(spike_dates, timezone=timezone, name="spike_dates")
    ld = _naive_days(launch_dates, timezone=timezone, name="launch_dates")
    spos = _positions(sd, days[0])
    lpos = _positions(ld, days[0])
    if ((lpos < 0) | (lpos >= n)).any():
        warnings.warn(
            f"launch_permutation_test: {int(((lpos < 0) | (lpos >= n)).sum())} launch date(s) "
            "outside days are ignored",
            StatisticalWarning,
            stacklevel=3,
        )
    lpos = lpos[(lpos >= 0) & (lpos < n)]
    spike = np.zeros(n, dtype=np.int64)
    spike[np.unique(spos[(spos >= 0) & (spos < n)])] = 1
    win = np.zeros(n, dtype=bool)
    if lpos.size:
        win[((lpos[:, None] + np.arange(k + 1)[None, :]) % n).ravel()] = True
    return spike, np.nonzero(win)[0], n


def launch_permutation_test(
    spike_dates,
    launch_dates,
    *,
    days,
    k: int = 7,
    n_perm: int = 10_000,
    shifts: str = "auto",
    seed=None,
    timezone: str | None = None,
) -> PermutationResult:
    """Circular-shift permutation test: do spike days fall in the k days after launches?

    Parameters
    ----------
    spike_dates : list-like of date-likes, or a spike table (its ``date`` column)
    launch_dates : list-like of date-likes, or the launches table (``launched_at``)
    days : pandas.DatetimeIndex or pandas.Series
        The full daily range the spikes were searched in (a Series contributes its index).
    k : int
        Post-launch window: days 0..k after each launch.
    n_perm : int
        Random shifts to draw (ignored when every shift is used).
    shifts : {"auto", "all", "random"}
        ``"all"``: every non-zero shift 1..days-1 once (exact test); ``"random"``: ``n_perm``
        shifts drawn uniformly from 1..days-1 with replacement; ``"auto"`` (default): all when
        ``n_perm >= days - 1`` (three years have only 1,095 distinct shifts), else random.
    seed : int or numpy.random.Generator, optional
        Seeds the random shifts.
    timezone : str, optional
        Business time zone for tz-aware timestamps.

    Returns
    -------
    PermutationResult
        ``statistic``, ``p_value``, ``n_perm``, ``shifts``, ``k``, ``expected``, ``null``.

    Notes
    -----
    ``T = sum_t s_t w_t``: spike indicator ``s`` times the union ``w`` of the windows
    ``[l_j, l_j + k]``. Under the null all launch dates move together by a common circular offset
    c, ``T*(c) = sum_{p in W} s_{(p + c) mod N}`` with ``W`` the window days: this keeps the
    spacing of the launches and the autocorrelation of the spikes, and only breaks their
    alignment. ``p = (1 + #{T* >= T}) / (1 + B)`` (Phipson & Smyth 2010). The day axis is a circle,
    so a window running past the last day continues at the first; every shift is then the same
    function of the data and the test is exact. ``T*`` is computed for all ``N`` shifts at once
    as one (shifts x window days) gather, ``O(N |W|)`` whatever ``n_perm`` is; random shifts index
    that table.

    Examples
    --------
    >>> import kpitools
    >>> from kpitools.stats.spikes import daily_counts, detect_spikes
    >>> from kpitools.stats.launches import attribute_spikes, launch_permutation_test
    >>> ds = kpitools.load_dataset("data/sample")
    >>> tz = ds.settings.timezone
    >>> daily = daily_counts(ds.tickets["created_at"], timezone=tz)
    >>> spikes = detect_spikes(daily)
    >>> res = launch_permutation_test(spikes, ds.launches, days=daily, k=7, seed=1, timezone=tz)
    >>> table = attribute_spikes(spikes, ds.launches, k=7, timezone=tz)
    """
    k = int(k)
    if k < 0:
        raise StatsInputError(f"k must be a non-negative integer (days after launch), got {k!r}")
    n_perm = check_positive_int("n_perm", n_perm)
    check_choice("shifts", shifts, ("auto", "all", "random"))
    spike, wpos, n = _perm_setup(spike_dates, launch_dates, days, k, timezone)
    T = int(spike[wpos].sum())
    offsets, kind = _draw_shifts(n, n_perm, shifts, seed)
    null = _all_shift_counts(spike, wpos, n)[offsets]
    p = (1.0 + np.count_nonzero(null >= T)) / (1.0 + null.size)
    return PermutationResult(
        statistic=T,
        p_value=float(p),
        n_perm=int(null.size),
        shifts=kind,
        k=k,
        expected=float(spike.sum() * wpos.size / n),
        null=null,
    )


def _all_shift_counts(spike: np.ndarray, wpos: np.ndarray, n: int) -> np.ndarray:
    """T*(c) for every circular shift c = 0..n-1 at once.

    One (shifts x window days) gather on the spike indicator written twice in a row (so
    ``p + c < 2n`` needs no modulo), summed per row. Its cost, ``n |W|``, does not grow with the
    number of permutations: random shifts just index this table.
    """
    doubled = np.concatenate([spike, spike]).astype(np.int8)
    out = np.empty(n, dtype=np.int64)
    step = max(1, 8_000_000 // max(wpos.size, 1))
    for a in range(0, n, step):  # batches bound the matrix for very long series
        c = np.arange(a, min(a + step, n))
        out[c] = doubled[wpos[None, :] + c[:, None]].sum(axis=1, dtype=np.int64)
    return out


def _draw_shifts(n: int, n_perm: int, shifts: str, seed):
    if shifts == "all" or (shifts == "auto" and n_perm >= n - 1):
        return np.arange(1, n), "all"
    return np.random.default_rng(seed).integers(1, n, size=n_perm), "random"


def _permutation_loop(spike_dates, launch_dates, *, days, k=7, n_perm=10_000, shifts="auto", seed=None):
    """Reference implementation: one shift at a time (for tests and the benchmark only).

    For each shift c, move every launch date by c days around the circle, rebuild the windows
    and count the spike days inside them: the straightforward loop an analyst would write.
    """
    spike, wpos, n = _perm_setup(spike_dates, launch_dates, days, int(k), None)
    T = int(spike[wpos].sum())
    offsets, _ = _draw_shifts(n, n_perm, shifts, seed)
    spike_days = set(np.nonzero(spike)[0].tolist())
    window = wpos.tolist()
    count = 0
    for c in offsets.tolist():
        t_star = sum(1 for p in window if (p + c) % n in spike_days)
        count += t_star >= T
    return T, (1.0 + count) / (1.0 + len(offsets))


# --------------------------------------------------------------------------- prewhitened CCF


def prewhitened_ccf(
    x,
    y,
    *,
    max_lag: int = 14,
    ar_order: int | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Cross-correlation of input ``x`` and output ``y`` after prewhitening with x's AR model.

    Parameters
    ----------
    x : pandas.Series or array-like
        Input series, e.g. daily launch counts (:func:`launch_indicator`).
    y : pandas.Series or array-like
        Output series of the same length, e.g. daily tickets.
    max_lag : int
        Lags -max_lag..max_lag.
    ar_order : int, optional
        AR order for x; default: chosen by AIC (statsmodels ``ar_select_order``, up to 14 lags
        or n/10).
    confidence : float
        Level of the white-noise band.

    Returns
    -------
    pandas.DataFrame
        One row per lag: ``lag`` (positive: y follows x by that many days), ``ccf`` (correlation
        of the prewhitened x_t with the filtered y_{t+lag}), ``band`` (``z/sqrt(n)``, the
        half-width under no cross-correlation) and ``ar_order``.

    Notes
    -----
    Box & Jenkins (1976, sec. 11.2): fit ``phi(B) x_t = a_t`` (statsmodels ``AutoReg``), filter
    both series with the same ``phi(B)``, then ``r(h) = c_ab(h)/(s_a s_b)`` with
    ``c_ab(h) = sum_t (a_t - a_bar)(b_{t+h} - b_bar)/n``. Because ``a`` is white, ``r(h)`` has
    standard error about ``1/sqrt(n)`` under no cross-correlation however autocorrelated ``y`` is;
    without prewhitening that band is wrong for autocorrelated counts.
    """
    from statsmodels.tsa.ar_model import AutoReg, ar_select_order

    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise StatsInputError(f"x and y must be 1-d and of equal length, got {xa.shape} and {ya.shape}")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise StatsInputError("x and y must not contain missing or infinite values")
    max_lag = check_positive_int("max_lag", max_lag)
    confidence = check_confidence(confidence)
    n = xa.size
    if n < 4 * max_lag or n < 30:
        raise StatsInputError(f"x and y need at least max(30, 4*max_lag) values, got {n}")
    if np.std(xa) == 0 or np.std(ya) == 0:
        raise StatsInputError("x and y must vary (a constant series has no cross-correlation)")
    if ar_order is None:
        sel = ar_select_order(xa, maxlag=int(min(14, n // 10)), ic="aic", trend="c")
        order = int(max(sel.ar_lags)) if sel.ar_lags else 0
    else:
        if isinstance(ar_order, bool) or not isinstance(ar_order, int | np.integer) or ar_order < 0:
            raise StatsInputError(f"ar_order must be a non-negative integer or None, got {ar_order!r}")
        order = int(ar_order)
    if order > 0:
        phi = np.asarray(AutoReg(xa, lags=order, trend="c").fit().params)[1:]
        filt = np.concatenate([[1.0], -phi])
        a = np.convolve(xa, filt, mode="valid")
        b = np.convolve(ya, filt, mode="valid")
    else:
        a, b = xa, ya
    m = a.size
    a = a - a.mean()
    b = b - b.mean()
    denom = m * a.std() * b.std()
    lags = np.arange(-max_lag, max_lag + 1)
    r = np.array(
        [
            np.dot(a[: m - h], b[h:]) / denom if h >= 0 else np.dot(a[-h:], b[: m + h]) / denom
            for h in lags
        ]
    )
    return pd.DataFrame(
        {
            "lag": lags,
            "ccf": r,
            "band": z_value(confidence) / np.sqrt(m),
            "ar_order": order,
        }
    )


# --------------------------------------------------------------------------- attribution


def attribute_spikes(
    spikes: pd.DataFrame,
    launches,
    *,
    k: int = 7,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Each spike with the launches in the k days before it; unexplained spikes kept.

    Parameters
    ----------
    spikes : pandas.DataFrame
        A spike table (``date, observed, expected, excess, score, detector``).
    launches : pandas.DataFrame
        The launches table (``launch_id``, ``launched_at``, optional ``name``).
    k : int
        A launch explains a spike on day t when it happened on days t-k..t.
    timezone : str, optional
        Business time zone for tz-aware ``launched_at``.

    Returns
    -------
    pandas.DataFrame
        The spike table's rows and columns, sorted by date, plus:

        - ``launch_ids``, ``launch_names``: the launches in the window, most recent first,
          joined with ``"; "`` (missing when none);
        - ``n_launches``: how many;
        - ``days_since_launch``: days since the most recent of them (missing when none);
        - ``explained``: False for spikes with no launch before them (incident, outage?).

    Examples
    --------
    >>> import kpitools
    >>> from kpitools.stats.spikes import daily_counts, detect_spikes
    >>> from kpitools.stats.launches import attribute_spikes, launch_permutation_test
    >>> ds = kpitools.load_dataset("data/sample")
    >>> tz = ds.settings.timezone
    >>> daily = daily_counts(ds.tickets["created_at"], timezone=tz)
    >>> spikes = detect_spikes(daily)
    >>> res = launch_permutation_test(spikes, ds.launches, days=daily, k=7, seed=1, timezone=tz)
    >>> table = attribute_spikes(spikes, ds.launches, k=7, timezone=tz)
    """
    missing = [c for c in SPIKE_COLUMNS if c not in getattr(spikes, "columns", [])]
    if missing:
        raise StatsInputError(f"spikes must be a spike table with columns {SPIKE_COLUMNS}; missing {missing}")
    if not isinstance(launches, pd.DataFrame) or not {"launch_id", "launched_at"} <= set(launches.columns):
        raise StatsInputError("launches must be the launches table with columns launch_id and launched_at")
    k = int(k)
    if k < 0:
        raise StatsInputError(f"k must be a non-negative integer, got {k!r}")
    sp = spikes.reset_index(drop=True).copy()
    sdate = _naive_days(sp["date"], timezone=timezone, name="spikes['date']")
    lt = pd.DataFrame(
        {
            "launch_id": launches["launch_id"].astype("str").to_numpy(),
            "launch_name": (
                launches["name"].astype("str").to_numpy()
                if "name" in launches.columns
                else np.array([""] * len(launches))
            ),
            "ldate": _naive_days(launches, timezone=timezone, name="launches"),
        }
    )
    pairs = pd.DataFrame({"row": np.arange(len(sp)), "sdate": sdate}).merge(lt, how="cross")
    pairs["days"] = (pairs["sdate"] - pairs["ldate"]) // _DAY
    pairs = pairs[(pairs["days"] >= 0) & (pairs["days"] <= k)].sort_values(["row", "days"])
    g = pairs.groupby("row", sort=True)
    agg = pd.DataFrame(
        {
            "launch_ids": g["launch_id"].agg("; ".join),
            "launch_names": g["launch_name"].agg("; ".join),
            "n_launches": g.size(),
            "days_since_launch": g["days"].min(),
        }
    )
    agg = agg.reindex(np.arange(len(sp)))
    out = sp.assign(
        launch_ids=pd.array(agg["launch_ids"].to_numpy(), dtype="str"),
        launch_names=pd.array(agg["launch_names"].to_numpy(), dtype="str"),
        n_launches=agg["n_launches"].fillna(0).astype("int64").to_numpy(),
        days_since_launch=pd.array(agg["days_since_launch"].to_numpy(), dtype="Int64"),
    )
    out["explained"] = out["n_launches"] > 0
    return out.sort_values(["date", "detector"], ignore_index=True)
