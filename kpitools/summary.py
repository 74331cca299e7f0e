"""The report's summary in words: a few sentences written from one month's KPI results.

The present layer's first screen. :func:`summary_sentences` takes results only (the changes of
:func:`kpitools.stats.changes.period_changes`, segment rows of ``kpi_table``, the spike table and
the staffing per channel) and writes 3 to 7 sentences, each with its figures, ``n`` and interval:

1. the significant changes against the previous month and the same month last year, worst first
   (Benjamini-Hochberg across the KPIs compared, :func:`~kpitools.stats.changes.changes_across_kpis`);
2. the targets missed, and targets met overall that a segment misses, with the segment furthest
   behind;
3. the spikes, with the launches that explain them and those nothing explains;
4. the share of staffing intervals short of the Erlang C requirement, per channel.

Nothing is said that is not significant or not measured against a target; values with fewer than
``min_n`` answers are not judged; a cohort still maturing (tickets still open at the cut-off) is
not tested. When nothing changed significantly the summary says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from kpitools.plots import WAVE_KPIS, _finite, _maturing, format_value, kpi_label, wave_changes
from kpitools.stats.changes import benjamini_hochberg, changes_across_kpis

__all__ = ["summary_sentences", "summary_html", "worst_segments", "spike_table", "SENTENCE_COLUMNS"]

#: Columns of :func:`summary_sentences`' result.
SENTENCE_COLUMNS = ["topic", "kpi", "text"]
_MAX_LISTED = 3


def _check_frame(df: Any, name: str, required: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; got {list(df.columns)}")


def _month(x: Any) -> pd.Period:
    return x.asfreq("M") if isinstance(x, pd.Period) else pd.Period(str(x), freq="M")


def _in_month(periods: pd.Series, m: pd.Period) -> pd.Series:
    """Rows whose period is month ``m`` (vectorised; monthly or finer periods, or text)."""
    if isinstance(periods.dtype, pd.PeriodDtype):
        return pd.Series(pd.PeriodIndex(periods).asfreq("M") == m, index=periods.index)
    return periods.astype("str").str[:7] == str(m)


def _catalogue(catalogue: pd.DataFrame | None) -> pd.DataFrame:
    if catalogue is None:
        from kpitools.kpis import catalogue as _cat

        catalogue = _cat()
    _check_frame(catalogue, "catalogue", ["kpi", "title", "higher_is_better"])
    return catalogue.drop_duplicates("kpi").set_index("kpi")


def _fmt(v: Any, unit: Any, currency: str | None, **kw) -> str:
    return format_value(v, unit if isinstance(unit, str) else None, currency=currency, **kw)


def _interval(lo: Any, hi: Any, unit: Any, currency: str | None, confidence: float, *,
              signed: bool = False) -> str:
    if not (_finite(lo) and _finite(hi)):
        return ""
    if isinstance(unit, str) and unit in ("count", "tickets", "contacts", "customers", "users"):
        lo, hi = round(float(lo)), round(float(hi))
    return (f"{confidence:.0%} interval {_fmt(lo, unit, currency, signed=signed)} to "
            f"{_fmt(hi, unit, currency, signed=signed)}")


def _n(n: Any) -> str:
    return f"n {float(n):,.0f}" if _finite(n) else ""


def _join(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    return ", ".join(parts)


def _listing(items: Sequence[str], more_what: str, most: int = _MAX_LISTED) -> str:
    shown = list(items[:most])
    rest = len(items) - len(shown)
    text = "; ".join(shown)
    if rest > 0:
        text += f"; and {rest} more (see the scorecard)"
    return text


def worst_segments(segment_rows: pd.DataFrame, *, month: Any, catalogue: pd.DataFrame | None = None,
                   segments: Sequence[str] | None = None, min_n: int = 30) -> pd.DataFrame:
    """The segment furthest behind for each KPI of ``month`` (priority, channel, ...).

    Parameters
    ----------
    segment_rows : pandas.DataFrame
        ``kpi_table`` rows by segment (``kpi, period, value`` and one or more segment columns,
        optionally ``n, ci_low, ci_high, target, target_met, unit, clock``); rows of several
        breakdowns may be stacked (each row has one segment column set).
    month : str or pandas.Period
    catalogue : pandas.DataFrame, optional
        ``kpitools.kpis.catalogue()`` (for ``higher_is_better``); loaded when omitted.
    segments : sequence of str, optional
        Segment columns to read; default ``priority``, ``channel``, ``team`` where present.
    min_n : int, default 30
        Segments with fewer answers or items are not judged.

    Returns
    -------
    pandas.DataFrame
        One row per KPI and segment column: ``kpi, segment, level, value, n, ci_low, ci_high,
        target, target_met, unit, clock, shortfall, segments_judged``. The worst level is the one
        furthest on the wrong side of its own target (SLA priorities have their own), else of the
        best level; ``shortfall`` is that distance in the value's units (positive = behind).
        KPIs without a direction (``higher_is_better`` empty) are left out. The ``(missing)``
        level is never reported as the worst.
    """
    from kpitools.kpis._core import MISSING

    _check_frame(segment_rows, "segment_rows", ["kpi", "period", "value"])
    cat = _catalogue(catalogue)
    m = _month(month)
    d = segment_rows
    d = d[_in_month(d["period"], m)]
    cols = list(segments) if segments is not None else [c for c in ("priority", "channel", "team")
                                                         if c in d.columns]
    out = []
    for seg in cols:
        if seg not in d.columns:
            raise ValueError(f"segments: {seg!r} is not a column of segment_rows")
        others = [c for c in cols if c != seg and c in d.columns]
        part = d[d[seg].notna() & (d[seg].astype("str") != MISSING)]
        if others:
            part = part[part[others].isna().all(axis=1)]
        if "n" in part.columns:
            part = part[pd.to_numeric(part["n"], errors="coerce").fillna(0) >= min_n]
        part = part[pd.to_numeric(part["value"], errors="coerce").notna()]
        if part.empty:
            continue
        hib = part["kpi"].map(cat["higher_is_better"]) if "higher_is_better" in cat else None
        sign = np.where(hib.astype("object") == True, 1.0, np.where(hib.astype("object") == False, -1.0, np.nan))  # noqa: E712
        value = part["value"].to_numpy(dtype=float)
        target = (pd.to_numeric(part["target"], errors="coerce").to_numpy(dtype=float)
                  if "target" in part.columns else np.full(len(part), np.nan))
        best = pd.Series(sign * value, index=part.index).groupby(part["kpi"]).transform("max").to_numpy()
        ref = np.where(np.isfinite(target), sign * target, best)
        p = part.assign(segment=seg, level=part[seg].astype("str"), shortfall=ref - sign * value,
                        _sign=sign)
        p = p[np.isfinite(p["_sign"])]
        if p.empty:
            continue
        judged = p.groupby("kpi")["level"].transform("size")
        p = p.assign(segments_judged=judged)
        p = p.sort_values(["kpi", "shortfall"], ascending=[True, False], kind="mergesort")
        out.append(p.drop_duplicates("kpi"))
    cols_out = ["kpi", "segment", "level", "value", "n", "ci_low", "ci_high", "target", "target_met",
                "unit", "clock", "shortfall", "segments_judged"]
    if not out:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols_out})
    r = pd.concat(out, ignore_index=True)
    for c in cols_out:
        if c not in r.columns:
            r[c] = np.nan
    return r[cols_out].reset_index(drop=True)


_DETECTORS = {"negbin": "negative-binomial model", "seasonal_esd": "seasonal-hybrid ESD"}


def spike_table(attribution: pd.DataFrame) -> pd.DataFrame:
    """One row per spike day, with every detector that found it and the launches before it.

    Parameters
    ----------
    attribution : pandas.DataFrame
        ``kpitools.stats.launches.attribute_spikes`` output (one row per spike and detector):
        ``date, detector, observed, expected, excess, launch_names, days_since_launch,
        explained``.

    Returns
    -------
    pandas.DataFrame
        Sorted by date, with human column names for the report: ``day``, ``tickets``,
        ``expected`` (the lowest baseline of the detectors), ``excess`` (the largest),
        ``found by`` (detectors joined), ``launch before it`` (names, or "none"), ``days after
        launch`` and ``explained`` ("yes" / "no").
    """
    _check_frame(attribution, "attribution", ["date", "detector", "observed", "expected", "excess",
                                              "launch_names", "days_since_launch", "explained"])
    a = attribution.copy()
    a["detector"] = a["detector"].astype("str").map(lambda x: _DETECTORS.get(x, x))
    g = a.groupby("date", sort=True)
    out = pd.DataFrame({
        "day": g["date"].first(),
        "tickets": g["observed"].max(),
        "expected": g["expected"].min(),
        "excess": g["excess"].max(),
        "found by": g["detector"].agg(lambda s: ", ".join(sorted(set(s)))),
        "launch before it": g["launch_names"].first(),
        "days after launch": g["days_since_launch"].min(),
        "explained": g["explained"].max(),
    }).reset_index(drop=True)
    out["launch before it"] = out["launch before it"].where(
        out["launch before it"].notna() & (out["launch before it"].astype("str") != ""), "none").astype("str")
    out["explained"] = np.where(out["explained"].fillna(False).astype(bool), "yes", "no")
    out["explained"] = out["explained"].astype("str")
    return out


def _day(d: Any) -> str:
    t = pd.Timestamp(d)
    return f"{t.day} {t:%b %Y}"


def summary_sentences(changes: pd.DataFrame, *, month: Any, catalogue: pd.DataFrame | None = None,
                      segment_rows: pd.DataFrame | None = None,
                      segments: dict[str, str] | None = None, spikes: pd.DataFrame | None = None,
                      staffing: pd.DataFrame | None = None, kpis: Sequence[str] | None = None,
                      equal_age: pd.DataFrame | None = None, spike_window: str | None = None,
                      min_n: int = 30, alpha: float = 0.05, confidence: float = 0.95,
                      currency: str | None = None, max_sentences: int = 7) -> pd.DataFrame:
    """What changed, what missed its target and who is behind, in 3 to 7 sentences.

    Parameters
    ----------
    changes : pandas.DataFrame
        :func:`kpitools.stats.changes.period_changes` of the overall monthly rows
        (``report.overall_rows(kpi_table(ds), ds=ds)``): ``kpi, period, value, n, unit, ci_low,
        ci_high, target, target_met, note`` and the change columns.
    month : str or pandas.Period
        The report month.
    catalogue : pandas.DataFrame, optional
        ``kpitools.kpis.catalogue()``; loaded when omitted.
    segment_rows : pandas.DataFrame, optional
        ``kpi_table`` rows by segment for the month (see :func:`worst_segments`).
    segments : dict, optional
        KPI -> the segment column that names who is behind (default: ``priority`` for SLA KPIs,
        ``channel`` for the others).
    spikes : pandas.DataFrame, optional
        :func:`spike_table` output (one row per spike day).
    spike_window : str, optional
        What span ``spikes`` covers, for the sentence ("in the last three months").
    staffing : pandas.DataFrame, optional
        Staffing per channel: ``channel, intervals, short_intervals, interval_s`` (see
        ``kpitools.report.staffing_by_channel``).
    kpis : sequence of str, optional
        KPIs whose changes and targets are read (the scorecard's); default all.
    equal_age : pandas.DataFrame, optional
        ``kpitools.report.equal_age_changes``: a cohort still maturing is then compared with the
        month before at equal age (in the same family) instead of not at all.
    min_n : int, default 30
        Values with fewer answers or items are not judged (setting ``min_n``).
    alpha : float, default 0.05
        False discovery rate of the Benjamini-Hochberg correction across the KPIs compared.
    confidence : float, default 0.95
        Level of the intervals quoted (that of ``changes``).
    currency : str, optional
        Currency code for money KPIs.
    max_sentences : int, default 7

    Returns
    -------
    pandas.DataFrame
        One row per sentence, in reading order: ``topic`` ("worse", "better", "changed",
        "no change", "target", "spikes", "staffing"), ``kpi`` (comma-separated KPIs the
        sentence is about, "" for spikes and staffing) and ``text``.

    Notes
    -----
    Significance is BH-adjusted ``p <= alpha`` across the KPIs compared in each comparison (last
    month, same month last year), docs/methods.md#benjamini-hochberg; comparisons where either
    month has ``n < min_n``, and KPIs whose cohort is still maturing, are not in the family.
    Worst first: worsenings before changes without a direction before improvements, each by
    adjusted p. Targets: a missed target (``target_met`` False, ``n >= min_n``) names its
    segment furthest behind; a target met overall that a segment misses is named as well.

    Examples
    --------
    >>> import kpitools
    >>> from kpitools import report, summary
    >>> from kpitools.stats.changes import period_changes
    >>> ds = kpitools.load_dataset("data/sample")
    >>> ch = period_changes(report.overall_rows(kpitools.kpi_table(ds), ds=ds))
    >>> summary.summary_sentences(ch, month="2026-10")["text"].tolist()  # doctest: +SKIP
    """
    _check_frame(changes, "changes", ["kpi", "period", "value"])
    if not isinstance(max_sentences, int) or max_sentences < 1:
        raise ValueError(f"max_sentences: expected a positive int, got {max_sentences!r}")
    cat = _catalogue(catalogue)
    m = _month(month)
    freq_rows = changes[_in_month(changes["period"], m)]
    if kpis is not None:
        freq_rows = freq_rows[freq_rows["kpi"].isin(list(kpis))]
    cur = freq_rows.drop_duplicates("kpi").set_index("kpi")
    notes = cur["note"] if "note" in cur.columns else pd.Series(None, index=cur.index, dtype="object")
    maturing = [k for k, v in notes.items() if _maturing(v)]
    sentences: list[dict[str, str]] = []

    def title(k: str) -> str:
        clock = cur.at[k, "clock"] if "clock" in cur.columns and k in cur.index else None
        unit = cur.at[k, "unit"] if "unit" in cur.columns and k in cur.index else None
        return kpi_label(k, cat, clock=clock, unit=unit)

    def unit_of(k: str):
        return cur.at[k, "unit"] if "unit" in cur.columns and k in cur.index else None

    # 1. significant changes, worst first
    have_tests = {"change", "p_value", "yoy_change", "yoy_p_value"} <= set(changes.columns)
    if have_tests:
        ca = changes_across_kpis(changes, period=m, kpis=list(cur.index), exclude=maturing,
                                 min_n=min_n, alpha=alpha)
        ca["at_equal_age"] = False
        ca["wave"] = ""
        extra = []
        if equal_age is not None and len(equal_age):
            # a maturing cohort compared with the month before at equal age joins that family
            _check_frame(equal_age, "equal_age", ["kpi", "against", "value", "against_value", "n",
                                                  "change", "ci_low", "ci_high", "p_value", "test"])
            ea = equal_age[equal_age["kpi"].isin(maturing) & equal_age["p_value"].notna()]
            extra.append(ea.assign(at_equal_age=True, wave=""))
        # a survey in waves: its latest wave against the wave before joins the family too (as in
        # the scorecard)
        wv = wave_changes(changes, month=m, waves=[k for k in WAVE_KPIS if k in cur.index], min_n=min_n)
        if len(wv):
            extra.append(wv.assign(at_equal_age=False,
                                   wave=[f" ({_month(p).strftime('%b %Y')} wave)" for p in wv["period"]]))
        extra = [e for e in extra if len(e)]
        if extra:
            add = pd.concat(extra, ignore_index=True)
            prev = ca["comparison"] == "previous period"
            ca = ca[~(prev & ca["kpi"].isin(add["kpi"]))]
            add = add.assign(comparison="previous period", against_n=add.get("against_n", add["n"]),
                             excluded="", alpha=alpha, p_adjusted=np.nan, significant=False, n_compared=0)
            add["period"] = m
            ca = pd.concat([ca, add[ca.columns]], ignore_index=True)
            prev = (ca["comparison"] == "previous period").to_numpy()
            fam = prev & ca["p_value"].notna().to_numpy() & (ca["excluded"] == "").to_numpy()
            adj, _ = benjamini_hochberg(np.where(fam, ca["p_value"].to_numpy(dtype=float), np.nan),
                                        alpha=alpha)
            ca.loc[prev, "p_adjusted"] = adj[prev]
            ca.loc[prev, "significant"] = np.where(np.isnan(adj[prev]), False, adj[prev] <= alpha)
            ca.loc[prev, "n_compared"] = int(fam.sum())
        hib = ca["kpi"].map(cat["higher_is_better"]).astype("object")
        up = ca["change"] > 0
        worse = ((hib == True) & ~up) | ((hib == False) & up)  # noqa: E712
        better = ((hib == True) & up) | ((hib == False) & ~up)  # noqa: E712
        ca = ca.assign(direction=np.where(worse, "worse", np.where(better, "better", "changed")))
        sig = ca[ca["significant"]].copy()
        sig["_rank"] = sig["direction"].map({"worse": 0, "changed": 1, "better": 2})
        sig = sig.sort_values(["_rank", "p_adjusted"], kind="mergesort")
        n_fam = {c: int(g["n_compared"].iloc[0]) for c, g in ca.groupby("comparison")}
        verbs = {"worse": "Significantly worse", "better": "Significantly better",
                 "changed": "Significant changes (no better direction)"}
        for direction in ("worse", "changed", "better"):
            dd = sig[sig["direction"] == direction]
            if dd.empty:
                continue
            items = []
            for r in dd.itertuples(index=False):
                u = unit_of(r.kpi)
                against = _month(r.against).strftime("%B %Y")
                fval, fold = _fmt(r.value, u, currency), _fmt(r.against_value, u, currency)
                aged = (" at equal age" if getattr(r, "at_equal_age", False) else "") + (r.wave or "")
                items.append(
                    f"{title(r.kpi)}{aged} {fval} against {fold} in {against} "
                    f"({_join([_fmt(r.change, u, currency, signed=True), _interval(r.ci_low, r.ci_high, u, currency, confidence, signed=True), _n(r.n), f'adjusted p {r.p_adjusted:.2g}'])})")
            sentences.append({"topic": direction, "kpi": ", ".join(dict.fromkeys(dd["kpi"])),
                              "text": f"{verbs[direction]}: {_listing(items, 'changes')}."})
        if len(sig):
            fam_text = " and ".join(f"{n} KPIs against the {c}" for c, n in n_fam.items() if n)
            sentences[-1]["text"] = (sentences[-1]["text"][:-1]
                                     + f" (two-sided tests, Benjamini-Hochberg at {alpha:g} across {fam_text}).")
        if sig.empty:
            total = " and ".join(f"{n} KPIs against the {c}" for c, n in n_fam.items() if n)
            text = (f"Nothing changed significantly in {m.strftime('%B %Y')}: no change among {total} "
                    f"passes Benjamini-Hochberg at {alpha:g}." if total else
                    f"No change could be tested in {m.strftime('%B %Y')}: there is no earlier month "
                    f"with at least {min_n} answers to compare with.")
            sentences.append({"topic": "no change", "kpi": "", "text": text})

    # 2. targets: missed, and met overall but missed by a segment
    worst = pd.DataFrame()
    if segment_rows is not None and len(segment_rows):
        worst = worst_segments(segment_rows, month=m, catalogue=catalogue, min_n=min_n)
    seg_for = dict(segments or {})

    def behind(k: str) -> pd.Series | None:
        if worst.empty:
            return None
        w = worst[worst["kpi"] == k]
        if w.empty:
            return None
        want = seg_for.get(k, "priority" if k.startswith("sla_") else "channel")
        w2 = w[w["segment"] == want]
        return (w2 if len(w2) else w).iloc[0]

    def seg_text(w: pd.Series, u) -> str:
        tgt = f" against {_fmt(w['target'], u, currency)}" if _finite(w["target"]) else ""
        return (f"{w['level']} ({w['segment']}) at {_fmt(w['value'], u, currency)}{tgt} "
                f"({_join([_interval(w['ci_low'], w['ci_high'], u, currency, confidence), _n(w['n'])])})")

    tgt_items, tgt_kpis, seg_kpis = [], [], []
    if {"target", "target_met"} <= set(cur.columns):
        from kpitools.plots import SAMPLED_STATS

        n_ok = pd.to_numeric(cur["n"], errors="coerce").fillna(0) >= min_n if "n" in cur.columns else True
        if "stat" in cur.columns:
            n_ok = n_ok | ~cur["stat"].astype("str").isin(list(SAMPLED_STATS))
        has_t = pd.to_numeric(cur["target"], errors="coerce").notna() & n_ok
        for k in cur.index[has_t]:
            r = cur.loc[k]
            u = unit_of(k)
            met = r["target_met"]
            if pd.isna(met):
                continue
            w = behind(k)
            hibk = cat["higher_is_better"].get(k)
            sign = 1.0 if hibk is True or hibk == True else -1.0  # noqa: E712
            short = sign * (float(r["target"]) - float(r["value"])) / (abs(float(r["target"])) or 1.0)
            head = (f"{title(k)} {_fmt(r['value'], u, currency)} against {_fmt(r['target'], u, currency)} "
                    f"({_join([_interval(r.get('ci_low'), r.get('ci_high'), u, currency, confidence), _n(r.get('n'))])})")
            if not bool(met):
                text = head + (f", furthest behind: {seg_text(w, u)}" if w is not None else "")
                tgt_items.append(("missed", short, text))
                tgt_kpis.append(k)
                continue
            elif w is not None and w["target_met"] is not None and not pd.isna(w["target_met"]) \
                    and not bool(w["target_met"]):
                text = f"{title(k)} met overall ({_fmt(r['value'], u, currency)}, {_n(r.get('n'))}) but {seg_text(w, u)} is behind"
                tgt_items.append(("segment", short, text))
                seg_kpis.append(k)
    judged = int(has_t.sum()) if {"target", "target_met"} <= set(cur.columns) else 0
    missed = sorted([t for t in tgt_items if t[0] == "missed"], key=lambda t: -t[1])
    seg_missed = sorted([t for t in tgt_items if t[0] == "segment"], key=lambda t: -t[1])
    if missed:
        sentences.append({"topic": "target", "kpi": ", ".join(tgt_kpis),
                          "text": f"Missed targets, furthest first: {_listing([t[2] for t in missed], 'missed targets', 5)}."})
    if judged and not missed and not seg_missed:
        sentences.append({"topic": "target", "kpi": "",
                          "text": f"Every target was met: {judged} KPIs with a target and at least {min_n} "
                                  "answers or items"
                                  + (", and by every segment judged." if not worst.empty else ".")})
    if seg_missed:
        sentences.append({"topic": "target", "kpi": ", ".join(seg_kpis),
                          "text": f"Targets met overall but not by every segment: {_listing([t[2] for t in seg_missed], 'segments')}."})

    # 3. spikes
    if spikes is not None and not len(spikes):
        within = f" {spike_window}" if spike_window else ""
        sentences.append({"topic": "spikes", "kpi": "", "text": f"No spike day of ticket volume{within}."})
    if spikes is not None and len(spikes):
        _check_frame(spikes, "spikes", ["day", "tickets", "expected", "launch before it",
                                        "days after launch", "explained"])
        expl = spikes[spikes["explained"] == "yes"]
        unexpl = spikes[spikes["explained"] != "yes"]
        parts = []
        if len(expl):
            parts.append("explained by a launch: " + "; ".join(
                f"{_day(d)} ({t:.0f} tickets, about {e:.0f} expected) "
                f"{int(a)} day{'s' if int(a) != 1 else ''} after {nm}"
                for d, t, e, nm, a in zip(expl["day"], expl["tickets"], expl["expected"],
                                          expl["launch before it"], expl["days after launch"], strict=True)))
        if len(unexpl):
            parts.append("explained by no launch: " + "; ".join(
                f"{_day(d)} ({t:.0f} tickets, about {e:.0f} expected)"
                for d, t, e in zip(unexpl["day"], unexpl["tickets"], unexpl["expected"], strict=True)))
        first, last = _day(spikes["day"].min()), _day(spikes["day"].max())
        span = first if first == last else f"{first} to {last}"
        sentences.append({"topic": "spikes", "kpi": "",
                          "text": f"{len(spikes)} spike day{'s' if len(spikes) != 1 else ''} of ticket volume"
                                  f"{' ' + spike_window if spike_window else ''} ({span}); "
                                  + "; ".join(parts) + "."})

    # 4. staffing
    if staffing is not None and len(staffing):
        _check_frame(staffing, "staffing", ["channel", "intervals", "short_intervals"])
        s = staffing[staffing["intervals"] > 0]
        s = s.assign(share=s["short_intervals"] / s["intervals"]).sort_values("share", ascending=False)
        s = s[s["short_intervals"] > 0]
        if not len(s):
            sentences.append({"topic": "staffing", "kpi": "staffing_gap",
                              "text": "No staffing interval with contacts was short of the agents Erlang C "
                                      "requires, in any channel."})
        if len(s):
            length = staffing["interval_s"].iloc[0] if "interval_s" in staffing else np.nan
            what = (f"{length / 60:.0f}-minute intervals" if _finite(length) else "intervals")
            items = [f"{r.channel} in {r.share:.1%} of its {r.intervals:,.0f} {what} with contacts "
                     f"({r.short_intervals:,.0f})" for r in s.itertuples(index=False)]
            sentences.append({"topic": "staffing", "kpi": "staffing_gap",
                              "text": "Short of the agents Erlang C requires for the service-level target: "
                                      + "; ".join(items) + "."})

    out = pd.DataFrame(sentences[:max_sentences], columns=SENTENCE_COLUMNS)
    for c in SENTENCE_COLUMNS:
        out[c] = out[c].astype("str")
    return out


def summary_html(sentences: pd.DataFrame):
    """The sentences of :func:`summary_sentences` as an escaped HTML list for the report.

    Returns
    -------
    object with ``_repr_html_``
        ``<ul class="kpi-summary">`` with one ``<li>`` per sentence (class ``worse``, ``better``,
        ``target`` ... after its topic); its ``repr`` is the plain text, one sentence a line.
    """
    import html

    from kpitools.plots import _Html

    _check_frame(sentences, "sentences", SENTENCE_COLUMNS)
    items = "".join(f'<li class="{html.escape(t.replace(" ", "-"), quote=True)}">{html.escape(x)}</li>'
                    for t, x in zip(sentences["topic"], sentences["text"], strict=True))
    return _Html(f'<ul class="kpi-summary">{items}</ul>', "\n".join(sentences["text"]))
