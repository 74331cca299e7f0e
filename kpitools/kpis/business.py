"""Business-value KPIs: retention, churn, NRR/GRR, conversion, activation, active users, CLV, ...

Definitions (docs/methods.md#business-value). Tables:

- ``subscriptions`` (one row per active customer-month, ``mrr``): retention_rate, churn_rate,
  revenue_churn_rate, nrr, grr, revenue_backlog, clv. Monthly data, so these KPIs exist for
  ``period="M"`` and ``"Q"`` (``D``/``W`` raise :class:`KPIUnavailable`, which ``kpi_table``
  reports as skipped). A customer is *active* in a month when it has a row that month.
  The *start* of a period is the month before its first month, the *end* its last month (the
  last month with data for a period the data end inside). The start cohort is the customers
  active at the start; segments (``plan``) are the plan at the start (at the end for customers new
  in the period).
- ``web_days``: conversion_rate, activation_rate, self_service_rate, deflection (with tickets).
- ``user_activity``: active_users, stickiness.
- ``mentions``: social_mentions, mention_reply_rate.

KPIs defined "x 100" in docs/methods.md#business-value (CRR, NRR, GRR, conversion rate) have unit ``percent``:
value and interval bounds are multiplied by 100 (numerator and denominator stay counts or money),
and targets are read in percent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools import facts
from kpitools.kpis._core import (
    PERIODS,
    Agg,
    KPIError,
    KPIUnavailable,
    Sums,
    levels_of,
    period_range,
    register,
    segment_frame,
    to_period,
)

__all__ = [
    "subscription_cohorts",
    "retention_rate",
    "churn_rate",
    "revenue_churn_rate",
    "nrr",
    "grr",
    "revenue_backlog",
    "clv",
    "conversion_rate",
    "activation_rate",
    "self_service_rate",
    "deflection",
    "active_users",
    "stickiness",
    "social_mentions",
    "mention_reply_rate",
]


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _monthly(period: str, name: str) -> None:
    if period not in ("M", "Q"):
        raise KPIUnavailable(f"{name}: subscriptions are monthly; use period 'M' or 'Q', got {period!r}")


def _date_period(dates: pd.Series, period: str) -> pd.Series:
    return pd.Series(pd.to_datetime(dates)).dt.to_period(PERIODS[period])


def _date_span(dates: pd.Series, period: str) -> pd.PeriodIndex:
    d = pd.Series(pd.to_datetime(dates)).dropna()
    if d.empty:
        return pd.PeriodIndex([], freq=PERIODS[period])
    return period_range(d.min().to_period(PERIODS[period]), d.max().to_period(PERIODS[period]), period)


def _customer_months(ds) -> pd.DataFrame:
    """One row per active customer-month: customer_id, month, mrr (summed), plan (last listed)."""
    return facts.of(ds).memo((_customer_months,), lambda: _build_customer_months(ds))


def _build_customer_months(ds) -> pd.DataFrame:
    s = ds.subscriptions
    cols = {"mrr": ("mrr", "sum")}
    if "plan" in s.columns:
        cols["plan"] = ("plan", "last")
    g = s.groupby(["customer_id", "month"], sort=True, observed=True).agg(**cols).reset_index()
    if "plan" not in g.columns:
        g["plan"] = pd.Series(pd.NA, index=g.index, dtype="str")
    g["mrr"] = g["mrr"].astype("float64")
    return g


def subscription_cohorts(ds, *, period="M") -> pd.DataFrame:
    """Start and end state of every customer per period (the basis of the retention KPIs).

    Parameters
    ----------
    ds : Dataset
        Needs ``subscriptions``.
    period : {"M", "Q"}

    Returns
    -------
    DataFrame
        One row per (period, customer) active at the start or the end of the period:
        ``period``, ``customer_id``, ``start_mrr`` / ``end_mrr`` (NaN when not active),
        ``start`` / ``end`` (bool, active), ``plan`` (at the start, else at the end),
        ``start_month``, ``end_month``.

    Notes
    -----
    Start = the month before the period's first month; end = its last month, or the last month
    with data when the data end inside the period. Periods whose start month precedes the data
    have an empty start cohort (zero denominators).
    """
    _monthly(period, "subscription_cohorts")
    return _cohorts(ds, period).drop(columns="_end_plan")


def _cohorts(ds, period) -> pd.DataFrame:
    """:func:`subscription_cohorts` built once per period, plus ``_end_plan`` (the plan held at the
    end, NaN when not active then)."""
    return facts.of(ds).memo((subscription_cohorts, period), lambda: _subscription_cohorts(ds, period))


def _subscription_cohorts(ds, period) -> pd.DataFrame:
    cm = _customer_months(ds)
    last = cm["month"].max()
    periods = _periods(ds, period)
    wide = cm.pivot(index="customer_id", columns="month", values="mrr")
    plans = cm.pivot(index="customer_id", columns="month", values="plan")
    frames = []
    for p in periods:
        sm = p.asfreq("M", how="start") - 1
        em = min(p.asfreq("M", how="end"), last)
        s = wide[sm] if sm in wide.columns else pd.Series(np.nan, index=wide.index)
        e = wide[em] if em in wide.columns else pd.Series(np.nan, index=wide.index)
        ps = plans[sm] if sm in plans.columns else pd.Series(pd.NA, index=wide.index, dtype="object")
        pe = plans[em] if em in plans.columns else pd.Series(pd.NA, index=wide.index, dtype="object")
        keep = s.notna() | e.notna()
        frames.append(pd.DataFrame({
            "period": p,
            "customer_id": wide.index[keep.to_numpy()].astype("str"),
            "start_mrr": s[keep].to_numpy(dtype=float), "end_mrr": e[keep].to_numpy(dtype=float),
            "plan": ps[keep].where(ps[keep].notna(), pe[keep]).astype("str").to_numpy(),
            "start_month": sm, "end_month": em, "_end_plan": pe[keep].to_numpy(),
        }))
    out = (pd.concat(frames, ignore_index=True) if frames else
           pd.DataFrame(columns=["period", "customer_id", "start_mrr", "end_mrr", "plan", "start_month", "end_month",
                                 "_end_plan"]))
    out["start"] = out["start_mrr"].notna().to_numpy(dtype=bool)
    out["end"] = out["end_mrr"].notna().to_numpy(dtype=bool)
    return out


def _periods(ds, period) -> pd.PeriodIndex:
    cm = _customer_months(ds)
    m = cm["month"]
    if m.empty:
        return pd.PeriodIndex([], freq=PERIODS[period])
    lo, hi = m.min(), m.max()
    if period == "Q":
        lo, hi = lo.asfreq(PERIODS["Q"]), hi.asfreq(PERIODS["Q"])
    return period_range(lo, hi, period)


def _cohort_cells(ds, period, by, *, end_plan=False):
    """Cell of every cohort row per (period, *by), built once per period and segments.

    Returns ``(cohorts, code, keys, levels, periods)``: ``code`` int64 per row of
    :func:`subscription_cohorts` (its position in ``keys``, one row per observed cell with
    ``period`` and the segment text). Segments are the plan at the start (at the end for new
    customers); ``end_plan=True``: the plan held at the end where the customer is active then.
    """
    return facts.of(ds).memo((_cohort_cells, period, tuple(by), end_plan),
                             lambda: _build_cohort_cells(ds, period, by, end_plan))


def _build_cohort_cells(ds, period, by, end_plan):
    co = _cohorts(ds, period)
    seg = segment_frame(ds, co, by, main="subscriptions")
    if end_plan and "plan" in by:  # backlog belongs to the plan held at the end
        ep = co["_end_plan"]
        seg["plan"] = ep.where(ep.notna(), seg["plan"]).astype("str")
    levels = levels_of(seg, by)
    periods = _periods(ds, period)
    key = periods.get_indexer(pd.PeriodIndex(co["period"], freq=periods.freq)).astype(np.int64)
    ok = key >= 0
    for c in by:
        lv = pd.Index(levels[c], dtype="str")
        li = lv.get_indexer(seg[c])  # text on the few distinct plans' rows, once per period x segments
        ok &= li >= 0
        key = key * max(len(lv), 1) + li
    uniq, inv = np.unique(key[ok], return_inverse=True)
    code = np.full(len(co), -1, dtype=np.int64)
    code[ok] = inv
    rest, cols = uniq, {}
    for c in reversed(by):
        n = max(len(levels[c]), 1)
        cols[c] = pd.Series(np.asarray(levels[c], dtype=object)[rest % n], dtype="str")
        rest = rest // n
    keys = pd.DataFrame({"period": periods[rest] if len(rest) else pd.PeriodIndex([], freq=periods.freq)})
    for c in by:
        keys[c] = cols[c]
    return co, code, keys, levels, periods


def _cohort_agg(ds, period, by, name, sums, *, start_only=False, end_plan=False, **kw) -> Agg:
    """:class:`Agg` of per-cohort-row measures ``sums(cohorts) -> {column: array}`` summed per cell.

    Cells with customers only at the end (e.g. the first month of data) have an empty start
    cohort, which is a zero denominator, not "no data" (a relabelled note); ``start_only``: the
    measures count the start cohort only (cells without it show zero sums).
    """
    _monthly(period, name)
    co, code, keys, levels, periods = _cohort_cells(ds, period, by, end_plan=end_plan)
    ok = code >= 0
    c, k = code[ok], len(keys)
    counts = np.bincount(c, minlength=k)
    present = counts > 0
    table = keys[present].reset_index(drop=True)
    start = co["start"].to_numpy(dtype=bool)[ok]
    for out, w in sums(co).items():
        w = np.asarray(w, dtype="float64")[ok]
        table[out] = np.bincount(c, weights=np.where(start, w, 0.0) if start_only else w, minlength=k)[present]
    if len(co) and not end_plan:
        table["_customers"] = counts[present].astype("float64")
        kw["relabel"] = {"_customers": ("no data", "zero denominator: customers at start")}
    return Agg(table=table, periods=periods, levels=levels, **kw)


# ----------------------------------------------------------------------------------------------
# subscription KPIs
# ----------------------------------------------------------------------------------------------
_SUB = dict(tables=("subscriptions",), columns={}, segments=("plan",), basis=None)


@register(
    name="retention_rate", title="Customer retention rate (CRR)", group="business",
    definition=("(Customers at the end of the period - new customers in the period) / customers at the start "
                "x 100, i.e. the share of the start cohort still active at the end."),
    formula="100 x (E - N) / S = 100 x |start and end| / |start|",
    unit="percent", higher_is_better=True, stat="proportion", **_SUB,
)
def retention_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                   method=None) -> pd.DataFrame:
    """Customer retention rate in percent.

    Parameters
    ----------
    ds : Dataset
        Needs ``subscriptions``.
    period : {"M", "Q"}
    by : str or list of str, optional
        ``plan``.
    confidence, method
        Proportion interval (Wilson by default), reported in percent.

    Returns
    -------
    DataFrame
        Framework columns with ``value`` in percent, ``numerator`` = retained customers (E - N),
        ``denominator`` = customers at the start (S), plus ``customers_end`` (E) and
        ``new_customers`` (N).

    Notes
    -----
    CRR = (E - N) / S x 100 (docs/methods.md#business-value). E - N = customers active at both start and end.
    """
    return _cohort_agg(ds, period, by, "retention_rate",
                       lambda co: {"numerator": co["start"] & co["end"], "denominator": co["start"],
                                   "customers_end": co["end"], "new_customers": co["end"] & ~co["start"]},
                       denominator_label="customers at start", extras={"customers_end": 0.0, "new_customers": 0.0})


@register(
    name="churn_rate", title="Customer churn rate", group="business",
    definition="Customers active at the start and no longer at the end of the period / customers at the start.",
    formula="|start and not end| / |start|",
    unit="share", higher_is_better=False, stat="proportion", **_SUB,
)
def churn_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None) -> pd.DataFrame:
    """Customer churn rate.

    Parameters
    ----------
    ds : Dataset
        Needs ``subscriptions``.
    period : {"M", "Q"}
    by : str or list of str, optional
        ``plan`` (at the start).

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = customers lost, ``denominator`` = customers at start.

    Notes
    -----
    churn rate = customers lost in period / customers at start (docs/methods.md#business-value); equals
    1 - CRR / 100.
    """
    return _cohort_agg(ds, period, by, "churn_rate",
                       lambda co: {"numerator": co["start"] & ~co["end"], "denominator": co["start"]},
                       denominator_label="customers at start")


@register(
    name="revenue_churn_rate", title="Revenue churn rate", group="business",
    definition="Starting MRR of the customers lost in the period / starting MRR of all customers at the start.",
    formula="sum(start MRR of churned) / sum(start MRR)",
    unit="share", higher_is_better=False, stat="ratio", **_SUB,
)
def revenue_churn_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                       method=None) -> pd.DataFrame:
    """Revenue churn: starting MRR lost with churned customers / starting MRR.

    Parameters
    ----------
    ds : Dataset
        Needs ``subscriptions``.
    period : {"M", "Q"}
    by : str or list of str, optional
        ``plan``.

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = churned start MRR, ``denominator`` = start MRR,
        ``n`` = customers at start.

    Notes
    -----
    "revenue churn likewise on revenue" (docs/methods.md#business-value): churned customers' revenue only;
    contraction of retained customers is in :func:`grr`.
    """
    def sums(co):
        st = co["start_mrr"].fillna(0.0)
        return {"numerator": st.where(co["start"] & ~co["end"], 0.0), "denominator": st, "n": co["start"]}

    return _cohort_agg(ds, period, by, "revenue_churn_rate", sums, denominator_label="starting MRR",
                       note=f"currency {ds.settings.currency}")


def _revenue_sums(co: pd.DataFrame) -> dict[str, pd.Series]:
    """Per cohort row: start and end MRR and their split (counted for the start cohort only)."""
    s, e = co["start_mrr"], co["end_mrr"].fillna(0.0)
    kept = co["end"]
    return {"s": s, "e": e, "start": co["start"],
            "expansion": (e - s).clip(lower=0.0).where(kept, 0.0),
            "contraction": (s - e).clip(lower=0.0).where(kept, 0.0),
            "churned_revenue": s.where(~kept, 0.0), "gross": np.minimum(s, e)}


@register(
    name="nrr", title="Net revenue retention (NRR)", group="business",
    definition=("(Starting MRR of the start cohort + expansion - contraction - churned MRR) / starting MRR x 100; "
                "customers new in the period are not part of it."),
    formula="100 x sum(end MRR of the start cohort) / sum(start MRR)",
    unit="percent", higher_is_better=True, stat="ratio", **_SUB,
)
def nrr(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None) -> pd.DataFrame:
    """Net revenue retention in percent.

    Parameters
    ----------
    ds : Dataset
        Needs ``subscriptions``.
    period : {"M", "Q"}
    by : str or list of str, optional
        ``plan`` (at the start).

    Returns
    -------
    DataFrame
        Framework columns: ``value`` in percent, ``numerator`` = end MRR of the start cohort,
        ``denominator`` = start MRR, ``n`` = customers at start, plus ``expansion``,
        ``contraction`` and ``churned_revenue`` (currency).

    Notes
    -----
    NRR = (start + expansion - contraction - churned) / start x 100 (docs/methods.md#business-value); per customer
    start + expansion - contraction - churned = its end MRR (0 when churned).
    """
    def sums(co):
        r = _revenue_sums(co)
        return {"numerator": r["e"], "denominator": r["s"], "n": r["start"], "expansion": r["expansion"],
                "contraction": r["contraction"], "churned_revenue": r["churned_revenue"]}

    return _cohort_agg(ds, period, by, "nrr", sums, start_only=True, denominator_label="starting MRR",
                       extras={"expansion": 0.0, "contraction": 0.0, "churned_revenue": 0.0},
                       note=f"currency {ds.settings.currency}")


@register(
    name="grr", title="Gross revenue retention (GRR)", group="business",
    definition="(Starting MRR - contraction - churned MRR) / starting MRR x 100; expansion is ignored, so at most 100.",
    formula="100 x sum(min(end MRR, start MRR) of the start cohort) / sum(start MRR)",
    unit="percent", higher_is_better=True, stat="ratio", **_SUB,
)
def grr(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None) -> pd.DataFrame:
    """Gross revenue retention in percent (capped at 100 by construction).

    Parameters
    ----------
    ds : Dataset
        Needs ``subscriptions``.
    period : {"M", "Q"}
    by : str or list of str, optional
        ``plan`` (at the start).

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = start MRR - contraction - churned MRR,
        ``denominator`` = start MRR, ``n`` = customers at start, plus ``contraction`` and
        ``churned_revenue``.

    Notes
    -----
    GRR = (start - contraction - churned) / start x 100, capped at 100 (docs/methods.md#business-value): per customer
    min(end, start) with end = 0 for churned customers.
    """
    def sums(co):
        r = _revenue_sums(co)
        return {"numerator": r["gross"], "denominator": r["s"], "n": r["start"], "contraction": r["contraction"],
                "churned_revenue": r["churned_revenue"]}

    return _cohort_agg(ds, period, by, "grr", sums, start_only=True, denominator_label="starting MRR",
                       extras={"contraction": 0.0, "churned_revenue": 0.0}, note=f"currency {ds.settings.currency}")


@register(
    name="revenue_backlog", title="Revenue backlog (contracted MRR)", group="business",
    definition="Recurring revenue already contracted for the coming period: sum of MRR of subscriptions active at period end.",
    formula="sum(mrr) in the period's last month",
    unit="currency", higher_is_better=True, stat="money", **_SUB,
)
def revenue_backlog(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                    method=None) -> pd.DataFrame:
    """MRR of subscriptions active at the end of the period.

    Parameters
    ----------
    ds : Dataset
        Needs ``subscriptions``.
    period : {"M", "Q"}
    by : str or list of str, optional
        ``plan`` (at the end).

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = MRR at period end (currency), ``n`` = customers
        active at the end.

    Notes
    -----
    Revenue backlog = sum of MRR of subscriptions active at period end (docs/methods.md#business-value).
    """
    return _cohort_agg(ds, period, by, "revenue_backlog",
                       lambda co: {"value": co["end_mrr"].fillna(0.0), "n": co["end"]}, end_plan=True,
                       note=f"currency {ds.settings.currency}")


def _margin(ds, margin):
    m = ds.settings.raw.get("gross_margin", 0.7) if margin is None else margin
    if isinstance(m, bool) or not isinstance(m, int | float) or not 0 < m <= 1:
        raise KPIError(f"gross_margin must be a share in (0, 1], got {m!r}")
    return float(m)


@register(
    name="clv", title="Customer lifetime value (CLV)", group="business",
    definition=("Average monthly revenue per customer x gross margin (setting gross_margin) / monthly customer "
                "churn rate, both over the months of the period."),
    formula="(sum MRR / customer-months) x margin / (customers lost month to month / customers at month start)",
    unit="currency", higher_is_better=True, stat="ratio", tables=("subscriptions",), columns={},
    segments=("plan",), basis=None, options="gross_margin=None (setting gross_margin)",
)
def clv(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
        gross_margin=None) -> pd.DataFrame:
    """Customer lifetime value from ARPA, margin and monthly churn.

    Parameters
    ----------
    ds : Dataset
        Needs ``subscriptions``.
    period : {"M", "Q"}
        A quarter pools its three months (ARPA over its customer-months, churn over its three
        month-to-month transitions).
    by : str or list of str, optional
        ``plan`` (of the customer-month; churn by the plan in the month before).
    gross_margin : float, optional
        Margin share (default: setting ``gross_margin``, 0.7).

    Returns
    -------
    DataFrame
        Framework columns: ``value`` = CLV (currency), ``numerator`` = ARPA x margin,
        ``denominator`` = monthly churn rate, ``n`` = customer-months, plus ``arpa``,
        ``churned`` and ``at_risk`` (customers at month starts). Zero churn gives NaN with the
        note "zero denominator: monthly churn".

    Notes
    -----
    CLV = average monthly revenue per customer x gross margin / monthly churn rate
    (docs/methods.md#business-value). The month before the first month of data has no customers, so the first
    month's churn is undefined.
    """
    _monthly(period, "clv")
    margin = _margin(ds, gross_margin)
    cm = _customer_months(ds).copy()
    last = cm["month"].max()
    # churn: a customer-month (c, m) is at risk for month m + 1 and churns when (c, m + 1) is absent
    nxt = cm["month"] + 1
    present = pd.MultiIndex.from_arrays([cm["customer_id"], cm["month"]])
    churned = ~pd.MultiIndex.from_arrays([cm["customer_id"], nxt]).isin(present)
    risk = pd.DataFrame({"month": nxt, "plan": cm["plan"], "at_risk": (nxt <= last).astype("float64"),
                         "churned": (churned & (nxt <= last)).astype("float64"), "mrr": 0.0, "cm": 0.0})
    rev = pd.DataFrame({"month": cm["month"], "plan": cm["plan"], "at_risk": 0.0, "churned": 0.0,
                        "mrr": cm["mrr"], "cm": 1.0})
    rows = pd.concat([rev, risk[risk["at_risk"] > 0]], ignore_index=True)
    rows["period"] = rows["month"] if period == "M" else rows["month"].dt.asfreq(PERIODS["Q"])
    seg = segment_frame(ds, rows, by, main="subscriptions")
    rows = pd.concat([rows.drop(columns=[c for c in by if c in rows.columns]), seg], axis=1)
    agg = Agg.from_rows(rows, by=by, sums={"mrr": "mrr", "n": "cm", "churned": "churned", "at_risk": "at_risk"},
                        periods=_periods(ds, period), levels=levels_of(seg, by),
                        denominator_label="monthly churn",
                        extras={"arpa": np.nan, "churned": 0.0, "at_risk": 0.0},
                        note=f"currency {ds.settings.currency}; gross margin {margin:g}")
    t = agg.table
    t["arpa"] = t["mrr"] / t["n"].where(t["n"] > 0)
    t["numerator"] = t["arpa"] * margin
    t["denominator"] = (t["churned"] / t["at_risk"].where(t["at_risk"] > 0)).fillna(0.0)
    agg.table = t.drop(columns="mrr")
    return agg  # register estimates, sets targets and notes


# ----------------------------------------------------------------------------------------------
# web_days KPIs
# ----------------------------------------------------------------------------------------------
def _web(ds, spec, num: str, den: str, period, by, basis, clock, confidence, method, label: str,
         extra_den: pd.Series | None = None, note: str | None = None) -> Agg:
    """Sum a web_days numerator and denominator per period; ``n`` = days with both values."""
    if by:
        raise KPIUnavailable(f"{spec.name}: web_days carry no segment; call without by (got {list(by)})")
    w = ds.web_days
    numv = pd.to_numeric(w[num], errors="coerce").astype("float64").to_numpy()
    denv = pd.to_numeric(w[den], errors="coerce").astype("float64").to_numpy() if den else numv.copy()
    ok = ~np.isnan(numv) & ~np.isnan(denv)
    code, keys, periods = _web_cells(ds, period)
    inside = code >= 0
    c, k = code[inside], len(keys)
    table = pd.DataFrame({"period": keys})
    for col, v in (("numerator", np.where(ok, numv, 0.0)), ("denominator", np.where(ok, denv, 0.0)),
                   ("n", ok.astype("float64"))):
        table[col] = np.bincount(c, weights=v[inside], minlength=k)
    agg = Agg(table=table, periods=periods, levels={}, denominator_label=label, note=note)
    if extra_den is not None:
        t = agg.table
        add = t["period"].map(extra_den).fillna(0.0).astype("float64")
        t["tickets"] = add
        t["denominator"] = t["denominator"] + add
        agg.extras = {"tickets": 0.0}
    return agg  # register estimates, sets targets and notes


def _web_cells(ds, period) -> tuple[np.ndarray, pd.PeriodIndex, pd.PeriodIndex]:
    """Per ``web_days`` row its period's position among the observed periods (-1: no date), the
    observed periods (sorted) and the span of the dates; built once per period kind."""
    return facts.of(ds).memo((_web_cells, period), lambda: _build_web_cells(ds, period))


def _build_web_cells(ds, period):
    dates = ds.web_days["date"]
    p = _date_period(dates, period)
    ok = p.notna().to_numpy()
    codes, uniq = pd.factorize(p[ok], sort=True)
    code = np.full(len(p), -1, dtype=np.int64)
    code[ok] = codes
    return code, pd.PeriodIndex(uniq, freq=PERIODS[period]), _date_span(dates, period)


_WEB = dict(group="business", basis=None, segments=())


@register(
    name="conversion_rate", title="Conversion rate", **_WEB,
    definition="Conversions (purchases, sign-ups) / website visits (sessions) x 100.",
    formula="100 x sum(conversions) / sum(visits)", unit="percent", higher_is_better=True,
    stat="proportion", tables=("web_days",), columns={"web_days": ("conversions",)},
)
def conversion_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                    method=None) -> pd.DataFrame:
    """Conversion rate in percent (conversions / visits x 100).

    Parameters
    ----------
    ds : Dataset
        Needs ``web_days`` with ``conversions``.
    period : {"D", "W", "M", "Q"}

    Returns
    -------
    DataFrame
        Framework columns: ``value`` and interval in percent, ``numerator`` = conversions,
        ``denominator`` = visits.

    Notes
    -----
    conversion rate = conversions / visits x 100 (docs/methods.md#business-value). The variant restricted to visits
    that touched support needs visit-level data, which the contract does not carry.
    """
    return _web(ds, conversion_rate.spec, "conversions", "visits", period, by, basis, clock, confidence,
                method, "visits")


@register(
    name="activation_rate", title="Activation rate", **_WEB,
    definition="Sign-ups that reached the activation event / sign-ups, by sign-up day.",
    formula="sum(activations) / sum(signups)", unit="share", higher_is_better=True,
    stat="proportion", tables=("web_days",), columns={"web_days": ("signups", "activations")},
)
def activation_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                    method=None) -> pd.DataFrame:
    """Activation rate: activated sign-ups / sign-ups of the period.

    Parameters
    ----------
    ds : Dataset
        Needs ``web_days`` with ``signups`` and ``activations``.
    period : {"D", "W", "M", "Q"}

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = activations, ``denominator`` = sign-ups.

    Notes
    -----
    activation rate = users reaching the activation event / users who signed up in the period
    (docs/methods.md#business-value); ``activations`` are counted on the sign-up day (a cohort basis).
    """
    return _web(ds, activation_rate.spec, "activations", "signups", period, by, basis, clock, confidence,
                method, "sign-ups")


@register(
    name="self_service_rate", title="Self-service resolution", **_WEB,
    definition=("Help-centre and bot sessions that ended without a ticket within the window (setting "
                "self_service_window_days) / all self-service sessions."),
    formula="sum(self_service_resolved) / sum(self_service_sessions)", unit="share", higher_is_better=True,
    stat="proportion", tables=("web_days",),
    columns={"web_days": ("self_service_sessions", "self_service_resolved")},
)
def self_service_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                      method=None) -> pd.DataFrame:
    """Self-service usage: sessions resolved without a ticket / sessions.

    Parameters
    ----------
    ds : Dataset
        Needs ``web_days`` with ``self_service_sessions`` and ``self_service_resolved``.
    period : {"D", "W", "M", "Q"}

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = resolved sessions, ``denominator`` = sessions.

    Notes
    -----
    self-service usage = sessions that ended without a ticket within a window / all sessions
    (docs/methods.md#business-value); the window is applied upstream when ``self_service_resolved`` is counted.
    """
    return _web(ds, self_service_rate.spec, "self_service_resolved", "self_service_sessions", period, by,
                basis, clock, confidence, method, "self-service sessions")


@register(
    name="deflection", title="Deflection (issues solved without an agent)", **_WEB,
    definition=("Issues solved by self-service / (issues solved by self-service + tickets created): the share of "
                "issues that never needed an agent."),
    formula="sum(self_service_resolved) / (sum(self_service_resolved) + tickets created)", unit="share",
    higher_is_better=True, stat="proportion", tables=("web_days", "tickets"),
    columns={"web_days": ("self_service_resolved",)},
)
def deflection(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
               method=None) -> pd.DataFrame:
    """Deflection: share of issues solved without an agent.

    Parameters
    ----------
    ds : Dataset
        Needs ``web_days`` with ``self_service_resolved`` and ``tickets``.
    period : {"D", "W", "M", "Q"}
        Periods of the ``web_days`` span; tickets by creation in the business timezone.

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = self-service resolutions, ``denominator`` = those +
        tickets created, plus ``tickets``.

    Notes
    -----
    deflection = share of issues solved without an agent (docs/methods.md#business-value), with issues = self-service
    resolutions + tickets (agent-handled issues).
    """
    tickets = to_period(ds.tickets["created_at"], period, ds.settings.timezone).value_counts()
    return _web(ds, deflection.spec, "self_service_resolved", None, period, by, basis, clock, confidence,
                method, "issues", extra_den=tickets.astype("float64"),
                note="issues = self-service resolutions + tickets created")


# ----------------------------------------------------------------------------------------------
# active users
# ----------------------------------------------------------------------------------------------
def _activity(ds, period) -> pd.DataFrame:
    """Per period: distinct users, mean DAU, WAU and MAU over the days of the period (cached)."""
    return facts.of(ds).memo((_activity, period), lambda: _build_activity(ds, period)).copy()


def _build_activity(ds, period) -> pd.DataFrame:
    ua = ds.user_activity
    d = pd.Series(pd.to_datetime(ua["date"]).dt.normalize().to_numpy(), name="d")
    # integer user codes: grouping on strings costs seconds at 10^5 rows, on ints milliseconds
    u = pd.Series(pd.factorize(ua["user_id"].astype("str"))[0], name="u")
    days = pd.date_range(d.min(), d.max(), freq="D")
    wk, mo = d.dt.to_period(PERIODS["W"]), d.dt.to_period("M")

    def distinct(keys: pd.Series) -> pd.Series:
        return pd.DataFrame({"k": keys.array, "u": u.to_numpy()}).drop_duplicates().groupby("k").size()

    dau = distinct(d).reindex(days, fill_value=0).astype("float64")
    wau, mau = distinct(wk), distinct(mo)
    dd = pd.Series(days)
    per_day = pd.DataFrame({
        "period": dd.dt.to_period(PERIODS[period]).to_numpy(),
        "dau": dau.to_numpy(),
        "wau": dd.dt.to_period(PERIODS["W"]).map(wau).fillna(0).astype("float64").to_numpy(),
        "mau": dd.dt.to_period("M").map(mau).fillna(0).astype("float64").to_numpy(),
    })
    g = per_day.groupby("period", sort=True)
    out = g[["dau", "wau", "mau"]].mean().add_suffix("_mean")
    out["days"] = g.size().astype("float64")
    out["users"] = distinct(d.dt.to_period(PERIODS[period])).reindex(out.index).fillna(0).astype("float64")
    out = out.reset_index()
    return out


_UA = dict(group="business", basis=None, segments=(), tables=("user_activity",), columns={})


@register(
    name="active_users", title="Active users (DAU, WAU, MAU)", **_UA,
    definition=("Distinct users active in the period; also mean daily (DAU), weekly (WAU) and monthly (MAU) "
                "active users over its days and stickiness DAU/MAU."),
    formula="distinct user_id in the period; dau_mean = mean over days of distinct users that day",
    unit="count", higher_is_better=True, stat="count",
)
def active_users(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                 method=None) -> pd.DataFrame:
    """Active users per period with DAU, WAU, MAU and stickiness.

    Parameters
    ----------
    ds : Dataset
        Needs ``user_activity``.
    period : {"D", "W", "M", "Q"}

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = ``n`` = distinct active users in the period, plus
        ``dau_mean`` (mean over the period's days of distinct users per day, days without
        activity count 0), ``wau_mean`` / ``mau_mean`` (the week's / month's distinct users,
        averaged over the period's days), ``stickiness`` = dau_mean / mau_mean, ``days``.

    Notes
    -----
    DAU/WAU/MAU and stickiness DAU/MAU (docs/methods.md#business-value). Days run from the first to the last day of
    the data; a month cut by the data's edge has a MAU over its covered days only.
    """
    if by:
        raise KPIUnavailable(f"active_users: user_activity carries no segment; call without by (got {list(by)})")
    a = _activity(ds, period)
    a["n"] = a["users"]
    a["stickiness"] = a["dau_mean"] / a["mau_mean"].where(a["mau_mean"] > 0)
    agg = Agg(table=a.drop(columns="users"), periods=_date_span(ds.user_activity["date"], period), levels={},
              extras={"dau_mean": np.nan, "wau_mean": np.nan, "mau_mean": np.nan, "stickiness": np.nan,
                      "days": 0.0})
    return agg  # register estimates, sets targets and notes


@register(
    name="stickiness", title="Stickiness (DAU / MAU)", **_UA,
    definition="Mean daily active users / mean monthly active users over the days of the period.",
    formula="dau_mean / mau_mean", unit="share", higher_is_better=True, stat="ratio",
)
def stickiness(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
               method=None) -> pd.DataFrame:
    """Stickiness DAU / MAU.

    Parameters
    ----------
    ds : Dataset
        Needs ``user_activity``.
    period : {"D", "W", "M", "Q"}

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = mean DAU, ``denominator`` = mean MAU (see
        :func:`active_users`), ``n`` = days.

    Notes
    -----
    stickiness = DAU / MAU (docs/methods.md#business-value); for a month exactly mean DAU / MAU of that month.
    """
    if by:
        raise KPIUnavailable(f"stickiness: user_activity carries no segment; call without by (got {list(by)})")
    a = _activity(ds, period)
    t = pd.DataFrame({"period": a["period"], "numerator": a["dau_mean"], "denominator": a["mau_mean"],
                      "n": a["days"]})
    agg = Agg(table=t, periods=_date_span(ds.user_activity["date"], period), levels={},
              denominator_label="monthly active users")
    return agg  # register estimates, sets targets and notes


# ----------------------------------------------------------------------------------------------
# social mentions
# ----------------------------------------------------------------------------------------------
def _mention_flags(ds) -> tuple[np.ndarray, np.ndarray]:
    """(needs a reply, replied) per mention row; an empty needs_reply flag counts as not needing one."""
    m = facts.of(ds).table("mentions")
    nr = m["needs_reply"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    rep = m["replied_at"].notna().to_numpy() if "replied_at" in m.columns else np.zeros(len(m), dtype=bool)
    return nr, rep


def _mention_rows(ds, period, by):
    m = ds.mentions
    seg = segment_frame(ds, m, by, ts=m["mentioned_at"], main="mentions")
    nr = m["needs_reply"].astype("boolean") if "needs_reply" in m.columns else pd.Series(pd.NA, index=m.index, dtype="boolean")
    rep = m["replied_at"].notna() if "replied_at" in m.columns else pd.Series(False, index=m.index)
    rows = pd.concat([pd.DataFrame({
        "period": to_period(m["mentioned_at"], period, ds.settings.timezone), "one": 1.0,
        "known": nr.notna().astype("float64"), "nr": nr.fillna(False).astype("float64"),
        "rep": (nr.fillna(False) & rep).astype("float64"),
    }, index=m.index), seg], axis=1)
    periods = pd.PeriodIndex([], freq=PERIODS[period])
    if len(m):
        p = to_period(m["mentioned_at"], period, ds.settings.timezone).dropna()
        periods = period_range(p.min(), p.max(), period)
    return rows, levels_of(seg, by), periods


@register(
    name="social_mentions", title="Social mentions", group="business",
    definition="Brand mentions per period (by source), with the share that needed a reply and the reply rate.",
    formula="count of mentions; needs_reply_share = needing reply / mentions with the flag; reply_rate = replied / needing reply",
    unit="count", higher_is_better=None, stat="count", basis="event", bases=("event",),
    tables=("mentions",), columns={}, segments=("source",),
)
def social_mentions(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                    method=None) -> pd.DataFrame:
    """Brand mentions per period with reply need and reply rate.

    Parameters
    ----------
    ds : Dataset
        Needs ``mentions`` (``needs_reply`` and ``replied_at`` for the shares).
    period : {"D", "W", "M", "Q"}
        Cut on ``mentioned_at`` in the business timezone.
    by : str or list of str, optional
        ``source``.

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = ``n`` = mentions, plus ``needs_reply`` (count),
        ``needs_reply_share`` (needing reply / mentions with a known flag), ``replied`` (needing
        reply and replied) and ``reply_rate`` (replied / needing reply).

    Notes
    -----
    social mentions = brand mentions per period by source, with the share that needed a reply
    (docs/methods.md#business-value). :func:`mention_reply_rate` gives the reply rate with its interval.
    """
    rows, levels, periods = _mention_rows(ds, period, by)
    agg = Agg.from_rows(rows, by=by, sums={"n": "one", "known": "known", "needs_reply": "nr", "replied": "rep"},
                        periods=periods, levels=levels,
                        extras={"needs_reply": 0.0, "needs_reply_share": np.nan, "replied": 0.0, "reply_rate": np.nan})
    t = agg.table
    t["needs_reply_share"] = t["needs_reply"] / t["known"].where(t["known"] > 0)
    t["reply_rate"] = t["replied"] / t["needs_reply"].where(t["needs_reply"] > 0)
    agg.table = t.drop(columns="known")
    return agg  # register estimates, sets targets and notes


@register(
    name="mention_reply_rate", title="Social mention reply rate", group="business",
    definition="Mentions that needed a reply and got one / mentions that needed a reply.",
    formula="needs_reply and replied_at / needs_reply", unit="share", higher_is_better=True,
    stat="proportion", basis="event", bases=("event",), tables=("mentions",),
    columns={"mentions": ("needs_reply",)}, segments=("source",),
)
def mention_reply_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                       method=None) -> pd.DataFrame:
    """Reply rate on mentions that needed a reply.

    Parameters
    ----------
    ds : Dataset
        Needs ``mentions`` with ``needs_reply`` (``replied_at`` empty = not replied).
    period : {"D", "W", "M", "Q"}
    by : str or list of str, optional
        ``source``.

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = replied, ``denominator`` = needing a reply.

    Notes
    -----
    Companion of :func:`social_mentions` (docs/methods.md#business-value "social mentions ... share that needed a
    reply"), with a Wilson interval.
    """
    nr, rep = _mention_flags(ds)
    return Sums("mentions", "mentioned_at", sums={"numerator": nr & rep, "denominator": nr},
                agg={"denominator_label": "mentions needing a reply"})
