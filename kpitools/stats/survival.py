"""Durations with right-censoring: Kaplan-Meier curve, quantiles, restricted mean, log-rank.

Tickets not yet answered or resolved at the report's cut-off are right-censored, never dropped:
dropping them makes resolution look faster than it is (docs/methods.md#censored-durations). The functions
take a duration per ticket (a number in the caller's unit, e.g. hours) and whether the end event
was observed (``True``) or the ticket was still open at the cut-off (``False``, duration up to the
cut-off).

The estimate is ``scipy.stats.ecdf`` on ``scipy.stats.CensoredData``; quantile intervals follow
Brookmeyer & Crowley (1982) with the log-log transform, as statsmodels ``SurvfuncRight.quantile_ci``
(``method="cloglog"``) and SAS PROC LIFETEST do.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from kpitools.stats._common import (
    StatisticalWarning,
    StatsInputError,
    check_confidence,
    z_value,
)

__all__ = ["kaplan_meier", "km_quantiles", "restricted_mean", "logrank", "km_summary", "km_summary_codes"]

_CURVE_COLUMNS = ["time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"]
_QUANTILE_COLUMNS = ["q", "value", "ci_low", "ci_high", "n", "events", "censored"]


# --------------------------------------------------------------------------- input
def _durations(durations, observed) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return (time, observed) as float / bool arrays, NaN durations dropped."""
    t, o, _ = _durations_keep(durations, observed)
    return t, o


def _durations_keep(durations, observed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As :func:`_durations`, also returning the mask of the rows kept (non-NaN durations)."""
    dtype = getattr(durations, "dtype", None)
    if dtype is None:
        dtype = np.asarray(durations).dtype
    if getattr(dtype, "kind", None) in ("m", "M"):
        raise StatsInputError(
            f"durations must be numbers in one unit (e.g. hours), got timedeltas/datetimes ({dtype}); "
            "convert with `series.dt.total_seconds() / 3600`"
        )
    try:
        if isinstance(durations, pd.Series | pd.Index):
            t = durations.to_numpy(dtype=float, na_value=np.nan).ravel()
        else:
            t = np.asarray(durations, dtype=float).ravel()
    except (TypeError, ValueError):
        raise StatsInputError(f"durations must be numeric, got dtype {dtype}") from None
    o_in = np.asarray(observed).ravel()
    if o_in.shape != t.shape:
        raise StatsInputError(
            f"durations and observed must have the same length, got {t.size} and {o_in.size}"
        )
    if o_in.dtype == bool:
        o = o_in
    else:
        try:
            o_num = o_in.astype(float)
        except (TypeError, ValueError):
            raise StatsInputError(
                f"observed must be booleans (True = event seen, False = censored), got dtype {o_in.dtype}"
            ) from None
        if not np.all(np.isin(o_num[~np.isnan(o_num)], (0.0, 1.0))):
            raise StatsInputError("observed must be booleans or 0/1 (True = event seen, False = censored)")
        o = o_num == 1.0
    keep = ~np.isnan(t)
    t, o = t[keep], o[keep]
    if np.any(t < 0) or np.any(np.isinf(t)):
        bad = np.flatnonzero((t < 0) | np.isinf(t))[:5]
        raise StatsInputError(
            f"durations must be finite and non-negative; offending positions (after dropping NaN): {bad.tolist()}"
        )
    return t, o, keep


def _table(t: np.ndarray, o: np.ndarray):
    """Unique times with at-risk, event and censoring counts (vectorised)."""
    times, inv = np.unique(t, return_inverse=True)
    total = np.bincount(inv, minlength=times.size)
    events = np.bincount(inv, weights=o.astype(float), minlength=times.size).astype(np.int64)
    at_risk = np.cumsum(total[::-1])[::-1]
    return times, at_risk, events, total - events


def _curve_arrays(t: np.ndarray, o: np.ndarray, confidence: float):
    times, at_risk, events, censored = _table(t, o)
    if events.sum() == 0:
        ones = np.ones(times.size)
        return times, at_risk, events, censored, ones, np.full(times.size, np.nan), np.full(times.size, np.nan)
    from scipy import stats  # on first use: kpi_table's grouped summaries need no scipy.stats

    data = stats.CensoredData(uncensored=t[o], right=t[~o])
    res = stats.ecdf(data)
    sf = res.sf
    if not np.array_equal(sf.quantiles, times):  # pragma: no cover - scipy contract
        raise RuntimeError("scipy.stats.ecdf returned unexpected support")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = sf.confidence_interval(confidence, method="log-log")
        low, high = ci.low.probabilities, ci.high.probabilities
    return times, at_risk, events, censored, sf.probabilities, low, high


# --------------------------------------------------------------------------- public
def kaplan_meier(durations, observed, *, confidence=0.95):
    """Kaplan-Meier survival curve with a pointwise log-log confidence band.

    Parameters
    ----------
    durations : array-like of float
        Time to the event (e.g. resolution, in hours), or to the cut-off for open tickets.
        NaN are dropped.
    observed : array-like of bool
        True where the event happened, False where the ticket is censored (still open).
    confidence : float, default 0.95
        Level of the pointwise band.

    Returns
    -------
    pandas.DataFrame
        One row per distinct time:

        - ``time``: the time.
        - ``at_risk``: tickets with duration >= time.
        - ``events``: events at time.
        - ``censored``: censored at time.
        - ``survival``: S(time), share still without the event just after time.
        - ``ci_low``, ``ci_high``: pointwise log-log (Greenwood) band; NaN where undefined
          (S = 1 before any event, or S = 0).

    Notes
    -----
    ``S(t) = prod_{t_j <= t} (1 - d_j / n_j)`` from ``scipy.stats.ecdf(CensoredData)``; band
    ``S^exp(+-z sqrt(G) / log S)`` with Greenwood's ``G = sum d_j / (n_j (n_j - d_j))``
    (``confidence_interval(method="log-log")``). Tested against a hand calculation.

    References
    ----------
    Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation from incomplete observations.
    JASA 53, 457-481.
    """
    confidence = check_confidence(confidence)
    t, o = _durations(durations, observed)
    if t.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in _CURVE_COLUMNS})
    times, at_risk, events, censored, surv, low, high = _curve_arrays(t, o, confidence)
    return pd.DataFrame(
        {
            "time": times,
            "at_risk": at_risk,
            "events": events,
            "censored": censored,
            "survival": surv,
            "ci_low": low,
            "ci_high": high,
        }
    )


def _quantile_rows(t, o, qs, confidence):
    """Quantiles and Brookmeyer-Crowley intervals for one sample; list of dicts."""
    n = int(t.size)
    n_events = int(o.sum())
    base = {"n": n, "events": n_events, "censored": n - n_events}
    rows = []
    if n_events == 0:
        for q in qs:
            rows.append({"q": q, "value": np.nan, "ci_low": np.nan, "ci_high": np.nan, **base})
        return rows
    times, at_risk, events, _, surv, _, _ = _curve_arrays(t, o, confidence)
    has_event = events > 0
    et, es = times[has_event], surv[has_event]
    nr, de = at_risk[has_event].astype(float), events[has_event].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(de / (nr * (nr - de)))
        log_s = np.log(es)
    z = z_value(confidence)
    for q in qs:
        target = 1.0 - q
        hit = np.flatnonzero(es <= target + 1e-12)
        value = et[hit[0]] if hit.size else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            # |g(S) - g(1-q)| / (g'(S) se(S)) with g = log(-log), se = S sqrt(G)
            r = (np.log(-log_s) - np.log(-np.log(target))) / (np.sqrt(greenwood) / -log_s)
        inside = np.flatnonzero(np.abs(r) <= z)
        if inside.size == 0:
            lo, hi = np.nan, np.nan
        else:
            lo = et[inside[0]]
            hi = np.inf if inside[-1] == et.size - 1 else et[inside[-1] + 1]
        rows.append({"q": q, "value": value, "ci_low": lo, "ci_high": hi, **base})
    return rows


def _check_qs(q) -> tuple[float, ...]:
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    if qs.size == 0 or np.any(~(qs > 0)) or np.any(~(qs < 1)):
        raise StatsInputError(f"q must be probabilities strictly between 0 and 1 (e.g. 0.5, 0.9), got {q!r}")
    return tuple(float(v) for v in qs)


def km_quantiles(durations, observed, *, q=(0.5, 0.9), confidence=0.95):
    """Quantiles (median, p90 ...) of a censored duration from the Kaplan-Meier curve.

    Parameters
    ----------
    durations : array-like of float
        Durations, censored ones up to the cut-off. NaN are dropped.
    observed : array-like of bool
        True where the event happened.
    q : float or sequence of float, default (0.5, 0.9)
        Probabilities; 0.5 is the median, 0.9 the p90.
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per ``q``:

        - ``q``: the probability.
        - ``value``: first event time where S(t) <= 1 - q; NaN if the curve never gets there
          (too many tickets still open).
        - ``ci_low``, ``ci_high``: Brookmeyer-Crowley interval; ``ci_high`` is ``inf`` when the
          data cannot bound it, both NaN when no time is compatible.
        - ``n``, ``events``, ``censored``: counts behind the estimate (always reported).

    Notes
    -----
    The interval holds the event times t whose log-log statistic
    ``|log(-log S(t)) - log(-log(1 - q))| / (sqrt(G(t)) / -log S(t))`` is at most z, with Greenwood's
    G; the lower limit is the first such time and the upper limit the next event time after the
    last one (SAS convention). Equal to statsmodels ``SurvfuncRight.quantile`` and
    ``quantile_ci(method="cloglog")`` (tested) except that the estimate uses ``S <= 1 - q``
    (statsmodels ``<``), which differs only when S equals 1 - q exactly.

    References
    ----------
    Brookmeyer, R. and Crowley, J. (1982). A confidence interval for the median survival time.
    Biometrics 38, 29-41.
    """
    confidence = check_confidence(confidence)
    qs = _check_qs(q)
    t, o = _durations(durations, observed)
    return pd.DataFrame(_quantile_rows(t, o, qs, confidence), columns=_QUANTILE_COLUMNS)


def restricted_mean(durations, observed, *, horizon, confidence=0.95):
    """Restricted mean duration: area under the Kaplan-Meier curve up to ``horizon``.

    Parameters
    ----------
    durations : array-like of float
    observed : array-like of bool
    horizon : float
        Positive time in the unit of ``durations``; state it beside the result ("mean resolution
        time within the first 7 days").
    confidence : float, default 0.95

    Returns
    -------
    dict
        ``value`` (mean of min(T, horizon)), ``se``, ``ci_low``, ``ci_high`` (normal), ``horizon``,
        ``n``, ``events``. NaN value with n = 0.

    Notes
    -----
    ``RMST = int_0^tau S(u) du``; ``Var = sum_{t_j <= tau} A_j^2 d_j / (n_j (n_j - d_j))`` with
    ``A_j = int_{t_j}^tau S(u) du`` (Klein & Moeschberger 2003, 4.5). Without censoring the value is
    the mean of min(T, tau) and the variance its population variance / n (hand-checked in tests).
    """
    confidence = check_confidence(confidence)
    try:
        tau = float(horizon)
    except (TypeError, ValueError):
        raise StatsInputError(f"horizon must be a positive number, got {horizon!r}") from None
    if not tau > 0 or np.isinf(tau):
        raise StatsInputError(f"horizon must be a positive finite number, got {horizon!r}")
    t, o = _durations(durations, observed)
    out = {"value": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
           "horizon": tau, "n": int(t.size), "events": int(o.sum())}
    if t.size == 0:
        return out
    times, at_risk, events, _, surv, _, _ = _curve_arrays(t, o, confidence)
    keep = times <= tau
    tj, sj = times[keep], surv[keep]
    nj, dj = at_risk[keep].astype(float), events[keep].astype(float)
    knots = np.concatenate([[0.0], tj, [tau]])
    levels = np.concatenate([[1.0], sj])  # S on [knots[i], knots[i+1])
    pieces = levels * np.diff(knots)
    value = pieces.sum()
    # A_j = area from t_j to tau = sum of pieces after knot j
    tail = np.cumsum(pieces[::-1])[::-1][1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(dj > 0, tail**2 * dj / (nj * (nj - dj)), 0.0)
    terms = np.where(np.isnan(terms) | ((tail == 0) & (dj > 0)), 0.0, terms)
    se = float(np.sqrt(terms.sum()))
    z = z_value(confidence)
    out.update(value=float(value), se=se, ci_low=float(value - z * se), ci_high=float(value + z * se))
    return out


def logrank(durations, observed, groups):
    """Log-rank test that k groups share one survival curve.

    Parameters
    ----------
    durations : array-like of float
    observed : array-like of bool
    groups : array-like
        Group label per duration (any hashable values: channel, priority, team).

    Returns
    -------
    dict
        ``statistic`` (chi-square), ``df`` (k - 1), ``p_value``, ``groups`` (number of groups).
        NaN with a :class:`StatisticalWarning` when fewer than 2 groups or no events.

    Notes
    -----
    With ``O_g - E_g = sum_j (d_gj - d_j n_gj / n_j)`` over event times and
    ``V_gh = sum_j d_j (n_j - d_j) / (n_j - 1) (n_gj / n_j) (delta_gh - n_hj / n_j)``,
    ``statistic = (O - E)' V^- (O - E)`` on the first k - 1 groups, chi-square with k - 1 df.
    Equal to statsmodels ``survdiff`` (tested).

    References
    ----------
    Mantel, N. (1966). Evaluation of survival data and two new rank order statistics arising in
    its consideration. Cancer Chemotherapy Reports 50, 163-170.
    """
    g_in = np.asarray(groups).ravel()
    t_raw = np.asarray(durations, dtype=float).ravel()
    if g_in.size != t_raw.size:
        raise StatsInputError(
            f"groups must have one label per duration, got {g_in.size} labels for {t_raw.size} durations"
        )
    codes, _ = pd.factorize(pd.Series(g_in), use_na_sentinel=True)
    keep_nan = ~np.isnan(t_raw)
    t, o = _durations(t_raw, observed)
    codes = codes[keep_nan]
    t, o = t[codes >= 0], o[codes >= 0]
    codes = codes[codes >= 0]
    present = np.unique(codes)
    codes = np.searchsorted(present, codes)
    k = present.size
    out = {"statistic": np.nan, "df": max(k - 1, 0), "p_value": np.nan, "groups": int(k)}
    if k < 2 or o.sum() == 0:
        warnings.warn(
            f"logrank needs at least 2 groups and 1 event, got {k} groups and {int(o.sum())} events",
            StatisticalWarning,
            stacklevel=2,
        )
        return out
    times, inv = np.unique(t, return_inverse=True)
    cells = inv * k + codes
    total = np.bincount(cells, minlength=times.size * k).reshape(times.size, k)
    ev = np.bincount(cells, weights=o.astype(float), minlength=times.size * k).reshape(times.size, k)
    risk = np.cumsum(total[::-1], axis=0)[::-1].astype(float)
    rows = ev.sum(axis=1) > 0
    ev, risk = ev[rows], risk[rows]
    d = ev.sum(axis=1)
    n = risk.sum(axis=1)
    share = risk / n[:, None]
    o_minus_e = (ev - d[:, None] * share).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
    # V = sum_j factor_j (diag(share_j) - share_j share_j')
    cov = np.diag((factor[:, None] * share).sum(axis=0)) - np.einsum("j,jg,jh->gh", factor, share, share)
    u, v = o_minus_e[: k - 1], cov[: k - 1, : k - 1]
    stat = float(u @ np.linalg.pinv(v) @ u)
    from scipy import stats

    out.update(statistic=stat, p_value=float(stats.chi2.sf(stat, k - 1)))
    return out


def _q_label(q: float) -> str:
    if q == 0.5:
        return "median"
    pct = q * 100
    return f"p{pct:g}".replace(".", "_")


# rows x width of the padded per-group matrices built at once (memory bound: 8 bytes each)
_PAD_BUDGET = 2_000_000


def _grouped_quantiles(t, o, codes, n_groups, qs, confidence, horizon=None) -> dict[str, np.ndarray]:
    """:func:`_quantile_rows` for many groups at once; columns of the km_summary table.

    One sort by (group, time) gives each group's distinct event times with at-risk and event
    counts (at risk = rows of the group from that time on). Survival ``prod (n_j - d_j) / n_j``
    and Greenwood's sum are then cumulated along the rows of a padded group x event-time matrix
    (``np.cumprod`` / ``np.cumsum`` along an axis run the same sequential products and sums as
    on one group alone, and the censoring-only times multiply by exactly 1, so S is bit-for-bit
    scipy's); groups are cut into chunks of similar length to bound the padding. The quantile and
    the Brookmeyer-Crowley limits come from the same elementwise log-log statistic with first /
    last true positions per row.
    """
    z = z_value(confidence)
    n = np.bincount(codes, minlength=n_groups).astype(np.int64)
    events = np.bincount(codes, weights=o.astype(float), minlength=n_groups).astype(np.int64)
    out: dict[str, np.ndarray] = {"n": n, "events": events, "censored": n - events}
    res = {qv: [np.full(n_groups, np.nan) for _ in range(3)] for qv in qs}
    # restricted mean: area up to the horizon, Greenwood-type variance sum, S at the last event
    rm = {"area": np.full(n_groups, np.nan), "var": np.full(n_groups, np.nan),
          "s_last": np.ones(n_groups), "t_max": np.full(n_groups, np.nan)}
    if n_groups <= np.iinfo(np.int16).max:  # = lexsort((t, codes)): stable sorts, the second on int16
        by_t = np.argsort(t, kind="stable")
        order = by_t[np.argsort(codes[by_t].astype(np.int16), kind="stable")]
    else:
        order = np.lexsort((t, codes))
    cs, ts, os_ = codes[order], t[order], o[order]
    size = cs.size
    if size:
        new = np.ones(size, dtype=bool)
        new[1:] = (cs[1:] != cs[:-1]) | (ts[1:] != ts[:-1])
        starts = np.flatnonzero(new)
        cell_g, cell_t = cs[starts], ts[starts]
        cell_d = np.add.reduceat(os_.astype(np.int64), starts)
        group_end = np.cumsum(n)
        has = n > 0
        rm["t_max"][has] = ts[group_end[has] - 1]  # longest follow-up (event or censored)
        cell_n = group_end[cell_g] - starts  # rows of the group with time >= cell time
        ev = cell_d > 0
        eg, et = cell_g[ev], cell_t[ev]
        nr, de = cell_n[ev].astype(float), cell_d[ev].astype(float)
        m = np.bincount(eg, minlength=n_groups)  # distinct event times per group
        first_cell = np.cumsum(m) - m
        col = np.arange(eg.size) - first_cell[eg]
        with_events = np.flatnonzero(m > 0)
        by_len = with_events[np.argsort(m[with_events], kind="stable")]
        lo_i = 0
        while lo_i < by_len.size:  # chunks of groups, shortest first
            hi_i = lo_i + 1
            while hi_i < by_len.size and (hi_i + 1 - lo_i) * m[by_len[hi_i]] <= _PAD_BUDGET:
                hi_i += 1
            _chunk_quantiles(by_len[lo_i:hi_i], m, eg, col, et, nr, de, n_groups, qs, z, res, horizon, rm)
            lo_i = hi_i
    for qv in qs:
        lab = _q_label(qv)
        out[lab], out[f"{lab}_ci_low"], out[f"{lab}_ci_high"] = res[qv]
    # mean of observed durations in data order per group: np.mean on each group's slice (the
    # same pairwise sum as on the group alone); a loop over groups, not rows
    obs = np.flatnonzero(o)
    og = codes[obs]
    oorder = np.argsort(og, kind="stable")
    ot = t[obs][oorder]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(og, minlength=n_groups))])
    mean = np.full(n_groups, np.nan)
    for gi in np.flatnonzero(np.diff(bounds) > 0):
        mean[gi] = float(ot[bounds[gi]:bounds[gi + 1]].mean())
    out["mean_observed"] = mean
    if horizon is not None:
        tau = float(horizon)
        no_events = (n > 0) & (events == 0)  # S = 1 throughout: every duration reaches min(T, tau) = tau
        rm["area"][no_events] = tau
        rm["var"][no_events] = 0.0
        # beyond the longest follow-up the curve is unknown unless it already reached 0
        known = (n > 0) & ((rm["t_max"] >= tau) | (rm["s_last"] <= 0.0))
        area = np.where(known, rm["area"], np.nan)
        se = np.where(known, np.sqrt(rm["var"]), np.nan)
        out["rmst"] = area
        out["rmst_se"] = se
        out["rmst_ci_low"] = area - z * se
        out["rmst_ci_high"] = area + z * se
        out["rmst_horizon"] = np.full(n_groups, tau)
    return out


def _chunk_quantiles(groups, m, eg, col, et, nr, de, n_groups, qs, z, res, horizon=None, rm=None) -> None:
    """Fill ``res`` (and ``rm`` for a horizon) for ``groups`` (all with events) from a padded
    rows x max-events matrix."""
    width = int(m[groups].max())
    row_of = np.full(n_groups, -1, dtype=np.int64)
    row_of[groups] = np.arange(groups.size)
    sel = np.flatnonzero(row_of[eg] >= 0)
    r_idx, c_idx = row_of[eg[sel]], col[sel]
    shape = (groups.size, width)
    ratio = np.ones(shape)
    term = np.zeros(shape)
    times = np.full(shape, np.nan)
    valid = np.zeros(shape, dtype=bool)
    nrs, des = nr[sel], de[sel]
    ratio[r_idx, c_idx] = (nrs - des) / nrs
    with np.errstate(divide="ignore", invalid="ignore"):
        term[r_idx, c_idx] = des / (nrs * (nrs - des))
    times[r_idx, c_idx] = et[sel]
    valid[r_idx, c_idx] = True
    surv = np.cumprod(ratio, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(term, axis=1)
        log_s = np.log(surv)
    rows = np.arange(groups.size)
    last_col = m[groups] - 1
    with np.errstate(divide="ignore", invalid="ignore"):  # the quantile-free parts of the statistic
        loglog, scale = np.log(-log_s), np.sqrt(greenwood) / -log_s
    for qv in qs:
        target = 1.0 - qv
        hit = valid & (surv <= target + 1e-12)
        first = hit.argmax(axis=1)
        value = np.where(hit.any(axis=1), times[rows, first], np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (loglog - np.log(-np.log(target))) / scale
        ok = valid & (np.abs(r) <= z)
        any_ok = ok.any(axis=1)
        lo_col = ok.argmax(axis=1)
        hi_last = width - 1 - ok[:, ::-1].argmax(axis=1)
        lo = np.where(any_ok, times[rows, lo_col], np.nan)
        nxt = times[rows, np.minimum(hi_last + 1, width - 1)]
        hi = np.where(any_ok, np.where(hi_last == last_col, np.inf, nxt), np.nan)
        res[qv][0][groups], res[qv][1][groups], res[qv][2][groups] = value, lo, hi
    if horizon is None:
        return
    tau = float(horizon)
    rm["s_last"][groups] = surv[rows, last_col]
    # knots 0 < t_1 <= ... <= t_k <= tau (event times up to tau), then tau; S = 1 before t_1 and
    # S_j on [t_j, t_{j+1}); padded or later columns sit at tau and add zero width
    inside = valid & (times <= tau)
    tc = np.where(inside, times, tau)
    nxt_knot = np.concatenate([tc[:, 1:], np.full((groups.size, 1), tau)], axis=1)
    pieces = np.where(inside, surv * (nxt_knot - tc), 0.0)
    rm["area"][groups] = tc[:, 0] + pieces.sum(axis=1)
    tail = np.cumsum(pieces[:, ::-1], axis=1)[:, ::-1]  # A_j = area from t_j to tau
    nn = np.where(inside, _padded(groups.size, width, r_idx, c_idx, nrs), 1.0)
    dd = np.where(inside, _padded(groups.size, width, r_idx, c_idx, des), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(inside & (dd > 0), tail**2 * dd / (nn * (nn - dd)), 0.0)
    terms = np.where(np.isnan(terms) | ((tail == 0) & (dd > 0)), 0.0, terms)
    rm["var"][groups] = terms.sum(axis=1)


def _padded(n_rows: int, width: int, r_idx, c_idx, values) -> np.ndarray:
    out = np.zeros((n_rows, width))
    out[r_idx, c_idx] = values
    return out


def km_summary(
    data: pd.DataFrame,
    *,
    duration: str,
    observed: str,
    by: str | Sequence[str] | None = None,
    q=(0.5, 0.9),
    confidence=0.95,
    horizon=None,
):
    """Kaplan-Meier quantiles of a censored duration for each group, one row per group.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per ticket (or contact).
    duration : str
        Column with durations (numbers, e.g. hours; censored ones up to the cut-off).
    observed : str
        Boolean column: True where the end event happened.
    by : str or list of str, optional
        Segment columns. Categorical segments keep their empty categories (n = 0, NaN values).
    q : sequence of float, default (0.5, 0.9)
        Quantiles; columns are named ``median`` for 0.5 and ``p90``-style otherwise.
    confidence : float, default 0.95
    horizon : float, optional
        Add the restricted mean up to this positive time (unit of ``duration``), as
        :func:`restricted_mean`. None (default) leaves the output exactly as without it.

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns, then

        - ``n``, ``events``, ``censored``: tickets, events seen, still open.
        - ``median``, ``median_ci_low``, ``median_ci_high``: KM median and its Brookmeyer-Crowley
          interval (likewise ``p90``, ``p90_ci_low``, ``p90_ci_high``); NaN when not reached.
        - ``mean_observed``: mean over observed durations only. Biased low when tickets are
          still open; shown for comparison, not as the mean duration.
        - only with ``horizon``: ``rmst`` (restricted mean = area under the curve up to the
          horizon), ``rmst_se``, ``rmst_ci_low``, ``rmst_ci_high`` (normal) and ``rmst_horizon``.
          NaN for an empty group and where the longest follow-up of the group is shorter than
          the horizon while the curve is still above 0 (the area beyond it is unknown).
        - ``confidence``: the level used.

    Notes
    -----
    Per group exactly :func:`km_quantiles` (``S(t) = prod_{t_j <= t} (n_j - d_j) / n_j``, quantile
    = first event time with ``S <= 1 - q``, Brookmeyer-Crowley limits from the log-log statistic
    with Greenwood's ``G = sum d_j / (n_j (n_j - d_j))``), computed for all groups at once: one sort
    by (group, time), then cumulative products and sums along a padded group x event-time matrix.
    Equal bit for bit to a loop of :func:`km_quantiles` over the groups (tested on 400 groups with
    ties, empty and all-censored groups).

    Restricted mean (Klein & Moeschberger 2003, 4.5): ``RMST = int_0^tau S(u) du`` summed as
    rectangles between the event times up to ``tau``; ``Var = sum_{t_j <= tau} A_j^2 d_j /
    (n_j (n_j - d_j))`` with ``A_j`` the area from ``t_j`` to ``tau``. Equal to a loop of
    :func:`restricted_mean` over the groups up to rounding (tested), except that groups
    followed up for less than the horizon give NaN here.

    See Also
    --------
    km_quantiles, restricted_mean
    """
    confidence = check_confidence(confidence)
    qs = _check_qs(q)
    if not isinstance(data, pd.DataFrame):
        raise StatsInputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in [duration, observed, *([] if by is None else ([by] if isinstance(by, str) else list(by)))] if c not in data.columns]
    if missing:
        raise StatsInputError(f"data has no column(s) {missing}; available: {list(data.columns)}")
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))

    if not by_cols:
        codes = np.zeros(len(data), dtype=np.int64)
        keys_list = [()]
    else:
        grouped = data.groupby(by_cols, observed=False, sort=True)
        positions = grouped.indices
        keys_list = grouped.size().index.tolist()
        codes = np.full(len(data), -1, dtype=np.int64)
        for gi, key in enumerate(keys_list):  # one vectorised assignment per group
            idx = positions.get(key)
            if idx is not None:
                codes[idx] = gi
    table = _coded_table(data[duration].to_numpy(dtype=float, na_value=np.nan), data[observed].to_numpy(),
                         codes, len(keys_list), qs, confidence, horizon)
    cols: dict[str, object] = {}
    if by_cols:
        key_frame = pd.DataFrame([dict(zip(by_cols, k if isinstance(k, tuple) else (k,), strict=True))
                                  for k in keys_list], columns=by_cols)
        for c in by_cols:  # keep the segment dtype (categorical, str)
            cols[c] = key_frame[c].astype(data[c].dtype)
    cols.update(table)
    cols["confidence"] = np.full(len(keys_list), confidence)
    return pd.DataFrame(cols, index=pd.RangeIndex(len(keys_list)))


def _coded_table(durations, observed, codes, n_groups, qs, confidence, horizon) -> dict[str, np.ndarray]:
    """The km_summary columns for integer group codes (rows with code -1 or NaN duration left out)."""
    t_all, o_all, keep = _durations_keep(durations, observed)
    g = codes[keep]
    inside = g >= 0
    if horizon is not None:
        try:
            horizon = float(horizon)
        except (TypeError, ValueError):
            raise StatsInputError(f"horizon must be a positive number or None, got {horizon!r}") from None
        if not horizon > 0 or np.isinf(horizon):
            raise StatsInputError(f"horizon must be a positive finite number or None, got {horizon!r}")
    return _grouped_quantiles(t_all[inside], o_all[inside], g[inside], n_groups, qs, confidence, horizon)


def km_summary_codes(durations, observed, codes, *, n_groups, q=(0.5, 0.9), confidence=0.95, horizon=None):
    """:func:`km_summary` for groups given as integer codes, one row per code ``0 .. n_groups - 1``.

    Parameters
    ----------
    durations : array-like of float
        Durations (censored ones up to the cut-off); NaN rows are left out.
    observed : array-like of bool
        True where the end event happened.
    codes : array-like of int
        Group code of each row, ``-1 <= code < n_groups``; rows with -1 belong to no group.
    n_groups : int
        Number of groups; groups without rows get n = 0 and NaN values.
    q, confidence, horizon
        As :func:`km_summary`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`km_summary` without the ``by`` columns, row ``k`` for code ``k``.

    Notes
    -----
    Equal to :func:`km_summary` grouped by the codes (the same vectorised computation, without
    grouping a DataFrame): used by the KPI layer, which already holds each row's cell position.
    """
    confidence = check_confidence(confidence)
    qs = _check_qs(q)
    cv = np.asarray(codes)
    if cv.size and (cv.dtype.kind not in "iu" or cv.min() < -1 or cv.max() >= n_groups):
        raise StatsInputError(f"codes must be integers in [-1, {n_groups}), got {cv.dtype} "
                              f"{cv.min() if cv.size else ''}..{cv.max() if cv.size else ''}")
    table = _coded_table(durations, observed, cv.astype(np.int64), int(n_groups), qs, confidence, horizon)
    cols: dict[str, object] = dict(table)
    cols["confidence"] = np.full(int(n_groups), confidence)
    return pd.DataFrame(cols, index=pd.RangeIndex(int(n_groups)))


def _km_summary_loop(data, *, duration, observed, by=None, q=(0.5, 0.9), confidence=0.95):
    """The former per-group km_summary (one scipy ecdf per group); kept for tests and benchmarks."""
    confidence = check_confidence(confidence)
    qs = _check_qs(q)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))

    def summarise(frame: pd.DataFrame) -> dict:
        t, o = _durations(frame[duration].to_numpy(dtype=float, na_value=np.nan),
                          frame[observed].to_numpy())
        rows = _quantile_rows(t, o, qs, confidence)
        rec = {"n": rows[0]["n"], "events": rows[0]["events"], "censored": rows[0]["censored"]}
        for r in rows:
            lab = _q_label(r["q"])
            rec[lab], rec[f"{lab}_ci_low"], rec[f"{lab}_ci_high"] = r["value"], r["ci_low"], r["ci_high"]
        rec["mean_observed"] = float(t[o].mean()) if o.any() else np.nan
        rec["confidence"] = confidence
        return rec

    if not by_cols:
        return pd.DataFrame([summarise(data)])
    grouped = data.groupby(by_cols, observed=False, sort=True)
    positions = grouped.indices
    records = []
    for key in grouped.size().index.tolist():
        idx = positions.get(key, np.array([], dtype=np.int64))
        keys = key if isinstance(key, tuple) else (key,)
        records.append({**dict(zip(by_cols, keys, strict=True)), **summarise(data.iloc[idx])})
    out = pd.DataFrame(records)
    for c in by_cols:  # keep the segment dtype (categorical, str)
        out[c] = out[c].astype(data[c].dtype)
    return out
