"""Changes between periods, false discovery rate across segments, and shrunk agent rates.

- :func:`period_changes`: every KPI row compared with the previous period and the same period last
  year: change, interval and p-value by a method that fits the row's ``stat``, then
  Benjamini-Hochberg across the segments of each KPI and period.
- :func:`benjamini_hochberg`: BH adjusted p-values and rejections.
- :func:`shrink_rates` / :func:`shrink_agent_rates`: beta-binomial empirical Bayes rates for ranking
  agents on small samples, raw rate beside the shrunk one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from kpitools.stats._common import (
    StatisticalWarning,
    StatsInputError,
    check_choice,
    check_confidence,
    z_value,
)

__all__ = [
    "benjamini_hochberg",
    "changes_across_kpis",
    "period_changes",
    "shrink_agent_rates",
    "shrink_rates",
]

#: Columns of a KPI table that describe the value, never a segment.
_VALUE_COLUMNS = frozenset(
    {
        "kpi", "period", "value", "numerator", "denominator", "n", "unit", "stat", "basis",
        "clock", "ci_low", "ci_high", "method", "confidence", "target", "target_met", "note",
        "detractors", "passives", "promoters", "mean", "sd", "p90", "p90_ci_low", "p90_ci_high",
        "mean_observed", "censored", "title", "group", "definition", "formula", "higher_is_better",
    }
)
#: Columns that identify a KPI variant alongside its name (same name, other basis or clock).
_IDENTITY_COLUMNS = ("basis", "clock", "unit")
_STAT_INPUTS = {
    "proportion": ("numerator", "denominator"),
    "nps": ("detractors", "passives", "promoters"),
    "mean": ("mean", "sd", "n"),
    "count": ("value",),
}
_TEST_NAMES = {
    "proportion": "newcombe+{}",  # z or fisher, per row
    "nps": "mover+adjusted_wald_z",
    "mean": "welch_t",
    "count": "poisson_exact_conditional",
}


# --------------------------------------------------------------------------- BH


def benjamini_hochberg(p_values, *, alpha: float = 0.05):
    """Benjamini-Hochberg adjusted p-values and rejections at false discovery rate ``alpha``.

    Parameters
    ----------
    p_values : array-like of float
        p-values; NaN entries are left out of the family and stay NaN.
    alpha : float
        False discovery rate to control.

    Returns
    -------
    p_adjusted : numpy.ndarray
        ``min(1, min_{j >= i} m p_(j) / j)`` in the original order (NaN kept).
    reject : numpy.ndarray of bool
        ``p_adjusted <= alpha`` (False where NaN).

    Notes
    -----
    Benjamini & Hochberg (1995), JRSS B 57, 289-300; m counts the non-missing p-values. Equals
    statsmodels ``multipletests(method="fdr_bh")`` (tested).
    """
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise StatsInputError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        p = p.ravel()
    finite = p[~np.isnan(p)]
    if np.any((finite < 0) | (finite > 1)):
        raise StatsInputError("p_values must lie in [0, 1] (NaN allowed)")
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m:
        order = np.argsort(p[ok], kind="mergesort")
        ranked = p[ok][order] * m / np.arange(1, m + 1)
        adj = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
        tmp = np.empty(m)
        tmp[order] = adj
        out[ok] = tmp
    return out, np.where(np.isnan(out), False, out <= alpha)


def _bh_grouped(p: np.ndarray, groups: np.ndarray, alpha: float):
    """BH within each group label (vectorised over groups by a sort)."""
    adj = np.full(p.shape, np.nan)
    ntests = np.zeros(p.shape, dtype=np.int64)
    ok = ~np.isnan(p)
    if not ok.any():
        return adj, ntests
    g = groups[ok]
    pv = p[ok]
    order = np.lexsort((pv, g))
    gs, ps = g[order], pv[order]
    starts = np.r_[0, np.flatnonzero(gs[1:] != gs[:-1]) + 1]
    sizes = np.diff(np.r_[starts, gs.size])
    m = np.repeat(sizes, sizes)
    rank = np.arange(gs.size) - np.repeat(starts, sizes) + 1
    ranked = ps * m / rank
    # running minimum from the end, restarted per group: reverse, accumulate per segment
    res = np.empty_like(ranked)
    for s0, sz in zip(starts, sizes, strict=True):  # one pass per family (kpi x period)
        seg = ranked[s0 : s0 + sz]
        res[s0 : s0 + sz] = np.minimum.accumulate(seg[::-1])[::-1]
    res = np.minimum(res, 1.0)
    tmp = np.empty_like(res)
    tmp[order] = res
    adj[ok] = tmp
    mm = np.empty(gs.size, dtype=np.int64)
    mm[order] = m
    ntests[ok] = mm
    return adj, ntests


# --------------------------------------------------------------------------- comparisons


def _scale_from(value: np.ndarray, raw: np.ndarray, candidates=(1.0, 100.0)) -> np.ndarray:
    """Per row, the factor in ``candidates`` that maps ``raw`` closest onto ``value`` (units)."""
    cand = np.asarray(candidates, dtype=float)
    err = np.abs(value[:, None] - raw[:, None] * cand[None, :])
    best = cand[np.argmin(np.where(np.isfinite(err), err, np.inf), axis=1)]
    return np.where(np.isfinite(value) & np.isfinite(raw), best, cand[0])


def _compare(stat: str, cur: pd.DataFrame, old: pd.DataFrame, confidence: float):
    """Change, interval, p-value and test name for rows of one stat (arrays, NaN where none)."""
    n = len(cur)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    p = np.full(n, np.nan)
    test = np.full(n, "none", dtype=object)
    need = _STAT_INPUTS.get(stat)
    if need is None or any(c not in cur.columns for c in need) or n == 0:
        return lo, hi, p, test

    def arr(df, c):
        return pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)

    value = arr(cur, "value")
    if stat == "proportion":
        from kpitools.stats.intervals import proportion_difference

        x1, n1, x2, n2 = arr(cur, "numerator"), arr(cur, "denominator"), arr(old, "numerator"), arr(old, "denominator")
        ok = (
            np.isfinite(x1) & np.isfinite(n1) & np.isfinite(x2) & np.isfinite(n2)
            & (n1 > 0) & (n2 > 0) & (x1 >= 0) & (x2 >= 0) & (x1 <= n1) & (x2 <= n2)
            & (x1 == np.round(x1)) & (x2 == np.round(x2)) & (n1 == np.round(n1)) & (n2 == np.round(n2))
        )
        if ok.any():
            r = proportion_difference(x1[ok], n1[ok], x2[ok], n2[ok], confidence=confidence)
            scale = _scale_from(value[ok], x1[ok] / n1[ok])
            lo[ok] = np.asarray(r["ci_low"], float) * scale
            hi[ok] = np.asarray(r["ci_high"], float) * scale
            p[ok] = np.asarray(r["p_value"], float)
            test[ok] = np.char.add("newcombe+", np.asarray(r["test"]).astype(str))
    elif stat == "nps":
        from kpitools.stats.intervals import nps_difference

        d1, s1, q1 = (arr(cur, c) for c in ("detractors", "passives", "promoters"))
        d2, s2, q2 = (arr(old, c) for c in ("detractors", "passives", "promoters"))
        allv = np.vstack([d1, s1, q1, d2, s2, q2])
        ok = np.isfinite(allv).all(axis=0) & (allv >= 0).all(axis=0) & (allv == np.round(allv)).all(axis=0)
        ok &= (d1 + s1 + q1 > 0) & (d2 + s2 + q2 > 0)
        if ok.any():
            r = nps_difference(d1[ok], s1[ok], q1[ok], d2[ok], s2[ok], q2[ok], confidence=confidence)
            points = 100.0 * (q1[ok] - d1[ok]) / (d1[ok] + s1[ok] + q1[ok])
            scale = _scale_from(value[ok], points, candidates=(1.0, 0.01))
            lo[ok] = np.asarray(r["ci_low"], float) * scale
            hi[ok] = np.asarray(r["ci_high"], float) * scale
            p[ok] = np.asarray(r["p_value"], float)
            test[ok] = _TEST_NAMES["nps"]
    elif stat == "mean":
        m1, sd1, n1 = arr(cur, "mean"), arr(cur, "sd"), arr(cur, "n")
        m2, sd2, n2 = arr(old, "mean"), arr(old, "sd"), arr(old, "n")
        ok = (
            np.isfinite(m1) & np.isfinite(m2) & np.isfinite(sd1) & np.isfinite(sd2)
            & (n1 >= 2) & (n2 >= 2)
        )
        v1 = np.where(ok, sd1**2 / np.where(ok, n1, 1.0), np.nan)
        v2 = np.where(ok, sd2**2 / np.where(ok, n2, 1.0), np.nan)
        se = np.sqrt(v1 + v2)
        ok &= se > 0
        if ok.any():
            # Welch-Satterthwaite degrees of freedom
            df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
            diff = m1 - m2
            t = stats.t.ppf(0.5 + confidence / 2.0, df[ok])
            lo[ok] = diff[ok] - t * se[ok]
            hi[ok] = diff[ok] + t * se[ok]
            p[ok] = 2.0 * stats.t.sf(np.abs(diff[ok] / se[ok]), df[ok])
            test[ok] = _TEST_NAMES["mean"]
    elif stat == "count":
        c1, c2 = value, arr(old, "value")
        ok = np.isfinite(c1) & np.isfinite(c2) & (c1 >= 0) & (c2 >= 0) & (c1 == np.round(c1)) & (c2 == np.round(c2))
        if ok.any():
            a, b = c1[ok], c2[ok]
            tot = a + b
            # conditional on the total, a ~ Binomial(a + b, 1/2) under equal Poisson rates;
            # the distribution is symmetric, so the two-sided p is twice the smaller tail
            tail = np.minimum(stats.binom.cdf(a, tot, 0.5), stats.binom.sf(a - 1, tot, 0.5))
            p[ok] = np.where(tot > 0, np.minimum(1.0, 2.0 * tail), 1.0)
            half = z_value(confidence) * np.sqrt(tot)
            lo[ok] = (a - b) - half
            hi[ok] = (a - b) + half
            test[ok] = _TEST_NAMES["count"]
    return lo, hi, p, test


def _infer_segments(df: pd.DataFrame) -> list[str]:
    segs = []
    for c in df.columns:
        if c in _VALUE_COLUMNS or str(c).startswith(("prev_", "yoy_", "change", "p_")):
            continue
        dt = df[c].dtype
        if (
            pd.api.types.is_string_dtype(dt)
            or isinstance(dt, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(dt)
            or pd.api.types.is_object_dtype(dt)
        ):
            segs.append(c)
    return segs


def period_changes(
    kpi_rows: pd.DataFrame,
    *,
    segments: list[str] | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Each KPI row compared with the previous period and the same period last year.

    Parameters
    ----------
    kpi_rows : pandas.DataFrame
        Long KPI table (``kpitools.kpi_table`` output or any KPI result): at least ``kpi``,
        ``period`` (pandas Period), ``value`` and ``stat``; per stat the sufficient statistics
        ``numerator, denominator`` (proportion), ``detractors, passives, promoters`` (nps),
        ``mean, sd, n`` (mean); counts use ``value``.
    segments : list of str, optional
        Segment columns. Default: every text, categorical or boolean column that is not one of the
        KPI table's value columns (``unit``, ``basis``, ``method``, ``note``, ...).
    confidence : float
        Level of the change intervals.
    alpha : float
        False discovery rate for ``significant``.

    Returns
    -------
    pandas.DataFrame
        The input rows (same order) with added columns:

        - ``prev_period``, ``prev_value``: the previous period and its value (NaN if absent);
        - ``change``: value - prev_value, in the value's units;
        - ``change_ci_low``, ``change_ci_high``: interval of the change;
        - ``p_value``: two-sided test of no change;
        - ``yoy_period``, ``yoy_value``, ``yoy_change``, ``yoy_ci_low``, ``yoy_ci_high``,
          ``yoy_p_value``: the same against the period one year earlier;
        - ``test``, ``yoy_test``: the method used: ``newcombe+z`` / ``newcombe+fisher``
          (proportions), ``mover+adjusted_wald_z`` (NPS), ``welch_t`` (means),
          ``poisson_exact_conditional`` (counts), ``none`` (durations, ratios, money, levels, or a
          missing comparison row: NaN interval and p);
        - ``p_adjusted``, ``significant``, ``yoy_p_adjusted``, ``yoy_significant``: Benjamini-
          Hochberg within each family (KPI variant x period, across segments), ``significant`` =
          ``p_adjusted <= alpha`` (NA without a test);
        - ``n_tests``: tests in the row's family; ``p_adjust_method``: ``"fdr_bh"``.

    Notes
    -----
    - Proportions: Newcombe hybrid-score interval for p1 - p2 with a pooled two-proportion z test
      (Fisher's exact test where an expected cell is below 5), from
      :func:`kpitools.stats.intervals.proportion_difference`.
    - NPS: MOVER on two Tango score intervals, adjusted-Wald z test
      (:func:`kpitools.stats.intervals.nps_difference`).
    - Means: Welch t from the sufficient statistics, ``se = sqrt(s1^2/n1 + s2^2/n2)``,
      Welch-Satterthwaite df (equal to ``scipy.stats.ttest_ind_from_stats(equal_var=False)``).
    - Counts: equal Poisson rates per period, exact conditional test
      (``a | a + b ~ Binomial(a + b, 1/2)``), interval ``a - b +- z sqrt(a + b)``. Periods of
      unequal length (28 vs 31 days) are compared as they are; the change is the change in count.
    - Same period last year: the period containing the start of this period minus one year.
    - Intervals and changes are in the units of ``value`` (a share of 0.85 or 85 percent; NPS points).
    - Benjamini & Hochberg (1995); the family is one KPI variant (kpi, basis, clock, unit) in one
      period, so a KPI with 40 agents is corrected for 40 tests, a KPI without segments for one.

    Examples
    --------
    >>> import kpitools
    >>> from kpitools.stats.changes import period_changes
    >>> ds = kpitools.load_dataset("data/sample")
    >>> changes = period_changes(kpitools.kpi_table(ds, period="M", by="channel"))
    >>> changes[changes["significant"].fillna(False)]  # doctest: +SKIP
    """
    if not isinstance(kpi_rows, pd.DataFrame):
        raise StatsInputError(f"kpi_rows must be a DataFrame (the KPI table), got {type(kpi_rows).__name__}")
    missing = [c for c in ("kpi", "period", "value", "stat") if c not in kpi_rows.columns]
    if missing:
        raise StatsInputError(
            f"kpi_rows must have columns kpi, period, value and stat; missing {missing} "
            "(pass the output of kpitools.kpi_table)"
        )
    if not isinstance(kpi_rows["period"].dtype, pd.PeriodDtype):
        raise StatsInputError(
            f"kpi_rows['period'] must hold pandas Periods (dtype period[M] etc.), got {kpi_rows['period'].dtype}; "
            "convert with pd.PeriodIndex(values, freq='M')"
        )
    confidence = check_confidence(confidence)
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise StatsInputError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")
    df = kpi_rows.reset_index(drop=True).copy()
    df.attrs = {}  # attrs may hold tables (kpi_table's skip list); merges compare attrs
    if segments is None:
        segments = _infer_segments(df)
    else:
        segments = [segments] if isinstance(segments, str) else list(segments)
        bad = [c for c in segments if c not in df.columns]
        if bad:
            raise StatsInputError(f"segments must be columns of kpi_rows; not found: {bad}")
    ident = ["kpi", *[c for c in _IDENTITY_COLUMNS if c in df.columns]]
    keys = ident + segments
    dup = df.duplicated(keys + ["period"], keep=False)
    if dup.any():
        first = df.loc[dup, keys + ["period"]].head(3).to_dict("records")
        raise StatsInputError(
            f"kpi_rows has several rows per {keys + ['period']} (e.g. {first}); pass the segment "
            "columns explicitly with segments=[...]"
        )
    freq = df["period"].dtype.freq
    period = df["period"]
    prev_period = period - 1
    yoy_period = (period.dt.start_time - pd.DateOffset(years=1)).dt.to_period(freq)
    stat_cols = sorted({c for cols in _STAT_INPUTS.values() for c in cols} & set(df.columns))
    lookup = df[keys + ["period"] + stat_cols].copy()
    key_frame = df[keys].copy()
    # keys with missing values would not match in a merge: use a stable text label instead
    for c in keys[1:]:
        lookup[c] = lookup[c].astype("str").fillna("\x00NA")
        key_frame[c] = key_frame[c].astype("str").fillna("\x00NA")
    out = df.copy()
    out["prev_period"] = prev_period
    out["yoy_period"] = yoy_period
    stats_list = df["stat"].astype("str").to_numpy()
    for prefix, target in (("", prev_period), ("yoy_", yoy_period)):
        q = key_frame.assign(period=target.to_numpy())
        old = q.merge(lookup, on=keys + ["period"], how="left", validate="many_to_one")
        cur = df[stat_cols]
        lo = np.full(len(df), np.nan)
        hi = np.full(len(df), np.nan)
        p = np.full(len(df), np.nan)
        test = np.full(len(df), "none", dtype=object)
        for stat in np.unique(stats_list):  # a handful of stat types, each vectorised
            rows = np.flatnonzero(stats_list == stat)
            r_lo, r_hi, r_p, r_test = _compare(
                stat, cur.iloc[rows].reset_index(drop=True), old.iloc[rows].reset_index(drop=True), confidence
            )
            lo[rows], hi[rows], p[rows], test[rows] = r_lo, r_hi, r_p, r_test
        old_value = pd.to_numeric(old["value"], errors="coerce").to_numpy(dtype=float)
        value = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=float)
        name = "prev_value" if prefix == "" else "yoy_value"
        out[name] = old_value
        out["change" if prefix == "" else "yoy_change"] = value - old_value
        out[f"{'change' if prefix == '' else 'yoy'}_ci_low"] = lo
        out[f"{'change' if prefix == '' else 'yoy'}_ci_high"] = hi
        out[f"{prefix}p_value"] = p
        out[f"{prefix}test"] = pd.array(test.astype(str), dtype="str")
    # Benjamini-Hochberg per family: KPI variant x period, across segments
    fam = pd.MultiIndex.from_frame(
        out[ident].astype("str").fillna("").assign(period=out["period"].astype("str"))
    )
    fam_codes = pd.factorize(fam)[0]
    for prefix in ("", "yoy_"):
        adj, ntests = _bh_grouped(out[f"{prefix}p_value"].to_numpy(dtype=float), fam_codes, alpha)
        out[f"{prefix}p_adjusted"] = adj
        out[f"{prefix}significant"] = pd.array(
            np.where(np.isnan(adj), pd.NA, adj <= alpha), dtype="boolean"
        )
        if prefix == "":
            out["n_tests"] = ntests
    out["p_adjust_method"] = pd.array(["fdr_bh"] * len(out), dtype="str")
    out.attrs = dict(kpi_rows.attrs)
    return out


_COMPARISONS = {
    "previous period": ("prev_period", "prev_value", "change", "change_ci_low", "change_ci_high",
                        "p_value", "test"),
    "same period last year": ("yoy_period", "yoy_value", "yoy_change", "yoy_ci_low", "yoy_ci_high",
                              "yoy_p_value", "yoy_test"),
}


def changes_across_kpis(
    changes: pd.DataFrame,
    *,
    period,
    kpis=None,
    exclude=None,
    min_n: int = 1,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The changes of one period, Benjamini-Hochberg adjusted across the KPIs compared.

    :func:`period_changes` corrects across the segments of one KPI; a report that reads many
    KPIs of one period side by side needs the correction across those KPIs (one family per
    comparison: against the previous period, against the same period last year).

    Parameters
    ----------
    changes : pandas.DataFrame
        :func:`period_changes` output on rows without segments (one row per KPI variant and
        period; overall rows of ``kpi_table``).
    period : str or pandas.Period
        The period read (``"2026-10"`` for monthly rows).
    kpis : sequence of str, optional
        Only these KPIs form the family (the scorecard's); default every KPI with a test.
    exclude : sequence of str, optional
        KPIs left out of the family: no test is read for them (a cohort still maturing, whose
        change is partly the cohort's age).
    min_n : int, default 1
        A comparison of sample estimates (proportions, NPS, means) where either period has
        ``n`` below this is left out of the family (a handful of answers is not judged; setting
        ``min_n``). Counts are tested whatever their size.
    alpha : float, default 0.05
        False discovery rate.

    Returns
    -------
    pandas.DataFrame
        One row per KPI and comparison, in the order of ``changes``:

        - ``kpi``, ``comparison`` ("previous period" or "same period last year"), ``period``,
          ``against`` (the period compared with)
        - ``value``, ``against_value``, ``n``, ``against_n``, ``change``, ``ci_low``, ``ci_high``
          (interval of the change), ``p_value``, ``test``
        - ``p_adjusted``: BH across the family's rows with a test (NaN for rows outside it)
        - ``significant``: ``p_adjusted <= alpha`` (False outside the family)
        - ``n_compared``: the family's size; ``alpha``
        - ``excluded``: why a row with a test is outside the family ("" when inside):
          "excluded" (``exclude``), "n below min_n"

    Notes
    -----
    Benjamini & Hochberg (1995), see docs/methods.md#benjamini-hochberg; the tests are those of
    :func:`period_changes` (docs/methods.md#change-tests).

    Examples
    --------
    >>> import kpitools
    >>> from kpitools import report
    >>> from kpitools.stats.changes import changes_across_kpis, period_changes
    >>> ds = kpitools.load_dataset("data/sample")
    >>> ch = period_changes(report.overall_rows(kpitools.kpi_table(ds), ds=ds))
    >>> changes_across_kpis(ch, period="2026-10")  # doctest: +SKIP
    """
    if not isinstance(changes, pd.DataFrame):
        raise StatsInputError(f"changes must be a DataFrame (period_changes output), got {type(changes).__name__}")
    need = ["kpi", "period", "value", *dict.fromkeys(c for cols in _COMPARISONS.values() for c in cols)]
    missing = [c for c in need if c not in changes.columns]
    if missing:
        raise StatsInputError(f"changes lacks columns {missing}; pass the output of period_changes")
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise StatsInputError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")
    if not isinstance(min_n, int) or isinstance(min_n, bool) or min_n < 1:
        raise StatsInputError(f"min_n must be a whole number of at least 1, got {min_n!r}")
    freq = changes["period"].dtype.freq
    per = period if isinstance(period, pd.Period) else pd.Period(str(period), freq=freq)
    per = per.asfreq(freq)
    df = changes.reset_index(drop=True)
    df.attrs = {}
    ident = ["kpi", *[c for c in _IDENTITY_COLUMNS if c in df.columns]]
    if "n" in df.columns:
        n_of = df.set_index([*ident, "period"])["n"]
        n_of = n_of[~n_of.index.duplicated()]
    cur = df[df["period"] == per]
    if kpis is not None:
        cur = cur[cur["kpi"].isin(list(kpis))]
    ex = set(exclude or [])
    parts = []
    for name, (pcol, vcol, ccol, lcol, hcol, ptcol, tcol) in _COMPARISONS.items():
        n_cur = pd.to_numeric(cur["n"], errors="coerce").to_numpy(dtype=float) if "n" in cur else np.full(len(cur), np.nan)
        if "n" in df.columns:
            keys = pd.MultiIndex.from_frame(cur[ident].assign(period=cur[pcol].to_numpy()))
            n_old = pd.to_numeric(n_of.reindex(keys), errors="coerce").to_numpy(dtype=float)
        else:
            n_old = np.full(len(cur), np.nan)
        p = pd.to_numeric(cur[ptcol], errors="coerce").to_numpy(dtype=float)
        small = (n_cur < min_n) | (n_old < min_n)
        if "stat" in cur.columns:          # counts are whole populations, not samples of answers
            small &= cur["stat"].astype("str").isin(["proportion", "nps", "mean"]).to_numpy()
        excl = cur["kpi"].isin(ex).to_numpy()
        why = np.where(np.isnan(p), "", np.where(excl, "excluded", np.where(small, "n below min_n", "")))
        family = ~np.isnan(p) & (why == "")
        adj, _ = benjamini_hochberg(np.where(family, p, np.nan), alpha=alpha)
        parts.append(pd.DataFrame({
            "kpi": cur["kpi"].to_numpy(), "comparison": name, "period": cur["period"].to_numpy(),
            "against": cur[pcol].to_numpy(), "value": cur["value"].to_numpy(dtype=float),
            "against_value": cur[vcol].to_numpy(dtype=float), "n": n_cur, "against_n": n_old,
            "change": cur[ccol].to_numpy(dtype=float), "ci_low": cur[lcol].to_numpy(dtype=float),
            "ci_high": cur[hcol].to_numpy(dtype=float), "p_value": p,
            "test": cur[tcol].astype("str").to_numpy(), "p_adjusted": adj,
            "significant": np.where(np.isnan(adj), False, adj <= alpha),
            "n_compared": int(family.sum()), "alpha": float(alpha), "excluded": why,
        }))
    out = pd.concat(parts, ignore_index=True)
    out["excluded"] = out["excluded"].astype("str")
    return out


# --------------------------------------------------------------------------- shrinkage


def _betabinom_negll(theta, x, n):
    mu = special.expit(theta[0])
    kappa = np.exp(theta[1])
    return -np.sum(stats.betabinom.logpmf(x, n, mu * kappa, (1.0 - mu) * kappa))


def _fit_prior(x: np.ndarray, n: np.ndarray, method: str):
    """(alpha, beta) of the beta prior across units by marginal likelihood or moments."""
    use = n > 0
    x, n = x[use], n[use]
    if x.size < 2:
        return np.nan, np.nan
    mu = x.sum() / n.sum()
    if mu <= 0 or mu >= 1:
        return np.nan, np.nan
    rates = x / n
    v = rates.var(ddof=1)
    inv_n = np.mean(1.0 / n)
    # moments: Var(rate_i) ~ mu(1-mu) [rho + (1 - rho) mean(1/n_i)], rho = 1/(kappa + 1)
    rho = (v / (mu * (1 - mu)) - inv_n) / (1.0 - inv_n) if inv_n < 1 else np.nan
    kappa_mom = 1.0 / rho - 1.0 if np.isfinite(rho) and 0 < rho < 1 else _KAPPA_MAX
    kappa_mom = float(np.clip(kappa_mom, _KAPPA_MIN, _KAPPA_MAX))
    if method == "moments":
        return mu * kappa_mom, (1.0 - mu) * kappa_mom
    start = np.array([special.logit(mu), np.log(min(kappa_mom, 1e4))])
    res = optimize.minimize(
        _betabinom_negll,
        start,
        args=(x, n),
        method="L-BFGS-B",
        bounds=[(-20.0, 20.0), (np.log(_KAPPA_MIN), np.log(_KAPPA_MAX))],
    )
    m, kappa = special.expit(res.x[0]), float(np.exp(res.x[1]))
    return m * kappa, (1.0 - m) * kappa


_KAPPA_MIN, _KAPPA_MAX = 1e-3, 1e7


def shrink_rates(
    successes,
    n,
    *,
    prior="team",
    method: str = "mle",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Beta-binomial empirical Bayes rates: each unit's rate shrunk towards the team rate.

    Parameters
    ----------
    successes : array-like of int
        Successes per unit (e.g. satisfied answers per agent).
    n : array-like of int
        Trials per unit (answers per agent).
    prior : "team" or (float, float)
        ``"team"``: fit the Beta(alpha, beta) prior across the units given; a pair: use that prior.
    method : {"mle", "moments"}
        How the team prior is fitted: marginal (beta-binomial) likelihood, or moments.
    confidence : float
        Level of the equal-tailed posterior interval.

    Returns
    -------
    pandas.DataFrame
        One row per unit, in input order:

        - ``successes``, ``n``;
        - ``raw_rate``: successes / n (NaN when n = 0);
        - ``shrunk_rate``: posterior mean ``(alpha + x) / (alpha + beta + n)``;
        - ``ci_low``, ``ci_high``: Beta(alpha + x, beta + n - x) quantiles;
        - ``shrinkage``: weight on the prior mean, ``(alpha + beta) / (alpha + beta + n)``;
        - ``prior_alpha``, ``prior_beta``, ``prior_mean``;
        - ``method`` and ``confidence``.

    Notes
    -----
    Hierarchical model ``x_i ~ Binomial(n_i, p_i)``, ``p_i ~ Beta(alpha, beta)``. The prior is
    estimated from all units by maximising ``sum_i log BetaBinomial(x_i; n_i, alpha, beta)``
    (scipy ``betabinom``; parameters mean and log concentration, L-BFGS-B) or by the moment
    equation ``Var(x_i/n_i) = mu(1-mu)[rho + (1-rho)/n_i]``, ``rho = 1/(alpha + beta + 1)``.
    A unit with few trials is pulled strongly to the team mean, one with many barely (Efron &
    Morris 1975; Robinson, *Introduction to Empirical Bayes*, 2017). When the units vary no more
    than binomial noise, the concentration hits its bound (1e7) and every unit gets the team rate.
    """
    x = np.asarray(successes, dtype=float).ravel()
    m = np.asarray(n, dtype=float).ravel()
    if x.shape != m.shape:
        raise StatsInputError(f"successes and n must have the same length, got {x.size} and {m.size}")
    bad = ~np.isfinite(x) | ~np.isfinite(m) | (x < 0) | (x > m) | (x != np.round(x)) | (m != np.round(m))
    if bad.any():
        raise StatsInputError(
            "successes and n must be whole numbers with 0 <= successes <= n; first bad positions: "
            f"{np.flatnonzero(bad)[:3].tolist()}"
        )
    method = check_choice("method", method, ("mle", "moments"))
    confidence = check_confidence(confidence)
    if isinstance(prior, str):
        check_choice("prior", prior, ("team",))
        a, b = _fit_prior(x, m, method)
        if not np.isfinite(a):
            warnings.warn(
                "shrink_rates: the team prior needs at least 2 units with n > 0 and a team rate "
                "strictly between 0 and 1; shrunk rates are NaN",
                StatisticalWarning,
                stacklevel=2,
            )
        used = method
    else:
        try:
            a, b = (float(v) for v in prior)
        except (TypeError, ValueError):
            raise StatsInputError(f"prior must be 'team' or a pair (alpha, beta), got {prior!r}") from None
        if not (a > 0 and b > 0):
            raise StatsInputError(f"prior (alpha, beta) must both be positive, got {prior!r}")
        used = "fixed_prior"
    pa, pb = a + x, b + m - x
    tail = (1.0 - confidence) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(m > 0, x / np.where(m > 0, m, 1.0), np.nan)
    return pd.DataFrame(
        {
            "successes": x,
            "n": m,
            "raw_rate": raw,
            "shrunk_rate": pa / (pa + pb),
            "ci_low": stats.beta.ppf(tail, pa, pb),
            "ci_high": stats.beta.ppf(1.0 - tail, pa, pb),
            "shrinkage": (a + b) / (a + b + m),
            "prior_alpha": a,
            "prior_beta": b,
            "prior_mean": a / (a + b),
            "method": pd.array([used] * x.size, dtype="str"),
            "confidence": confidence,
        }
    )


def shrink_agent_rates(
    data: pd.DataFrame,
    *,
    successes: str,
    n: str,
    by="agent_id",
    prior="team",
    method: str = "mle",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Shrunk rates per agent (or any unit) from a table of counts, ranked.

    Parameters
    ----------
    data : pandas.DataFrame
        Counts per unit, e.g. a CSAT KPI table by agent (``numerator``, ``denominator``). Several
        rows per unit (periods, channels) are summed.
    successes, n : str
        Column names of the successes and trials.
    by : str or list of str
        Unit column(s).
    prior, method, confidence : see :func:`shrink_rates`.

    Returns
    -------
    pandas.DataFrame
        One row per unit: the ``by`` columns, then the columns of :func:`shrink_rates`, plus
        ``rank_raw`` and ``rank_shrunk`` (1 = highest rate; units without trials are unranked),
        sorted by ``rank_shrunk``.

    Examples
    --------
    >>> from kpitools.stats.changes import shrink_agent_rates
    >>> import pandas as pd
    >>> csat = pd.DataFrame({"agent_id": ["a", "b", "c"], "satisfied": [3, 45, 9],
    ...                      "answers": [3, 50, 12]})
    >>> ranked = shrink_agent_rates(csat, successes="satisfied", n="answers")
    """
    if not isinstance(data, pd.DataFrame):
        raise StatsInputError(f"data must be a DataFrame, got {type(data).__name__}")
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, successes, n] if c not in data.columns]
    if missing:
        raise StatsInputError(f"data has no column(s) {missing}; columns are {list(data.columns)}")
    g = (
        data[[*by, successes, n]]
        .groupby(by, observed=True, dropna=False, sort=True)
        .sum(min_count=1)
        .reset_index()
    )
    res = shrink_rates(
        g[successes].fillna(0).to_numpy(), g[n].fillna(0).to_numpy(),
        prior=prior, method=method, confidence=confidence,
    )
    out = pd.concat([g[by].reset_index(drop=True), res], axis=1)
    out["rank_raw"] = out["raw_rate"].rank(ascending=False, method="min").astype("Int64")
    out["rank_shrunk"] = (
        out["shrunk_rate"].where(out["n"] > 0).rank(ascending=False, method="min").astype("Int64")
    )
    return out.sort_values(["rank_shrunk", *by], ignore_index=True, na_position="last")
