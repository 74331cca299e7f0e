"""Quality and outcome KPIs: FCR, one-touch, reopen, escalation, repeat contacts, CSAT and its
response rate, NPS, CES, ESAT, QA score (``metrics.md``, "Quality and outcome").

Survey scales come from ``dataset.yml`` (``surveys:``), never guessed; answers whose per-row
``scale`` differs from the declared scale are left out and counted in the note.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

from kpitools.kpis._core import (
    Agg,
    KPIError,
    KPIUnavailable,
    finish,
    levels_of,
    register,
    segment_frame,
    span,
    ticket_levels,
    ticket_segments,
    to_period,
)
from kpitools.kpis.responsiveness import has_status_events, ticket_facts

__all__ = [
    "fcr",
    "one_touch_rate",
    "reopen_rate",
    "escalation_rate",
    "repeat_contact_rate",
    "csat",
    "csat_response_rate",
    "nps",
    "ces",
    "ces_low_effort",
    "esat",
    "qa_score",
    "repeat_flags",
]


def _levels(ds, by):
    return ticket_levels(ds, by)


def _ticket_rows(ds, by, period, when, **cols) -> pd.DataFrame:
    seg = ticket_segments(ds, by)
    base = pd.DataFrame({"period": to_period(pd.Series(when).reset_index(drop=True), period,
                                             ds.settings.timezone), **cols})
    return pd.concat([base, seg], axis=1)


def _window_days(ds, window_days) -> float:
    w = ds.settings["repeat_window_days"] if window_days is None else window_days
    if not isinstance(w, int | float) or isinstance(w, bool) or w < 0:
        raise KPIError(f"window_days must be a non-negative number of days, got {window_days!r}")
    return float(w)


def repeat_flags(ds, *, window_days=None) -> pd.DataFrame:
    """Per ticket: is there a repeat contact by the same customer within the window?

    Returns
    -------
    DataFrame
        Same rows as ``ds.tickets``: ``ticket_id``, ``followed`` (another ticket by the customer
        created within ``window_days`` after this one), ``repeat`` (this ticket follows one of
        the customer's tickets within the window), ``window_complete`` (the window after the
        ticket ended before the cut-off). Tickets without ``customer_id`` are never repeats.
    """
    w = pd.Timedelta(days=_window_days(ds, window_days))
    t = ds.tickets.reset_index(drop=True)
    out = pd.DataFrame({"ticket_id": t["ticket_id"], "followed": False, "repeat": False})
    out["window_complete"] = (t["created_at"] + w <= ds.cutoff).to_numpy()
    if "customer_id" not in t.columns:
        return out
    known = t["customer_id"].notna()
    s = t.loc[known, ["customer_id", "created_at"]].sort_values(["customer_id", "created_at"], kind="stable")
    g = s.groupby("customer_id", sort=False)["created_at"]
    nxt = g.shift(-1)
    prv = g.shift(1)
    out.loc[s.index, "followed"] = ((nxt - s["created_at"]) <= w).fillna(False).to_numpy()
    out.loc[s.index, "repeat"] = ((s["created_at"] - prv) <= w).fillna(False).to_numpy()
    return out


def _check_replies(ds):
    if ds.has("ticket_events") or "agent_replies" in ds.tickets.columns:
        return None
    return "needs ticket_events or tickets.agent_replies"


def _check_resolution(ds):
    # these KPIs use the first resolution: tickets.first_resolved_at, else status_change events
    if ds.has_columns("tickets", "first_resolved_at") or has_status_events(ds):
        return None
    return "needs tickets.first_resolved_at or ticket_events status changes (column 'status')"


@register(
    name="fcr", title="First contact resolution (FCR)", group="quality",
    definition="Issues resolved with exactly one public agent reply and no repeat contact by the same "
               "customer within the repeat window (default 7 days) / all issues received. Variant: "
               "over resolved issues only (denominator='resolved').",
    formula="resolved & replies == 1 & no repeat within window / tickets created (or resolved)",
    unit="share", higher_is_better=True, stat="proportion", basis="created",
    tables=("tickets",), columns={"tickets": ("customer_id",)},
    segments=("channel", "category", "team", "agent_id"),
    options="denominator: received | resolved; window_days: repeat window (settings repeat_window_days)",
    check=lambda ds: _check_replies(ds) or _check_resolution(ds),
)
def fcr(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
        denominator="received", window_days=None):
    """First contact resolution rate of tickets.

    Parameters
    ----------
    ds : Dataset
    period, by, confidence, method
        As every KPI (method: proportion interval, default wilson).
    basis : {"created", "event"}, default "created"
        ``created``: tickets created in the period; ``event``: tickets first resolved in the period
        (then ``denominator`` is necessarily the resolved ones).
    denominator : {"received", "resolved"}
        All tickets (the seeds' definition) or only resolved ones; named in ``note``.
    window_days : float, optional
        Repeat-contact window; default ``settings.repeat_window_days``.

    Returns
    -------
    DataFrame
        Columns of :func:`kpitools.kpis._core.finish`.

    Notes
    -----
    FCR = #{resolved, exactly one public agent reply, no other ticket by the customer within the
    window after creation} / #{tickets received}. Tickets whose window has not ended at the
    cut-off are counted with what is known so far (note).
    """
    if denominator not in ("received", "resolved"):
        raise KPIError(f"denominator must be 'received' or 'resolved', got {denominator!r}")
    f = ticket_facts(ds)
    rep = repeat_flags(ds, window_days=window_days)
    res = (f["first_resolved"].notna() & (f["first_resolved"] <= ds.cutoff)).to_numpy()
    ok = res & (f["replies"].to_numpy() == 1) & ~rep["followed"].to_numpy(dtype=bool)
    if basis == "event":
        when = f["first_resolved"].where(res)
        denominator = "resolved"
    else:
        when = f["created_at"]
    den = res if denominator == "resolved" else np.ones(len(f), dtype=bool)
    rows = _ticket_rows(ds, by, period, when, x=ok.astype(float), m=den.astype(float),
                        immature=(~rep["window_complete"].to_numpy(dtype=bool) & den).astype(float))
    note = f"denominator: {denominator}; window {_window_days(ds, window_days):g} d"
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "x", "denominator": "m", "window_open": "immature"},
                        levels=_levels(ds, by),
                        periods=span(f["created_at"], period=period, tz=ds.settings.timezone),
                        denominator_label=f"{denominator} tickets", note=note, extras={"window_open": 0.0},
                        notes={"window_open": "{k} ticket(s) with the repeat window still open at the cut-off"})
    return finish(agg, spec=fcr.spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)


def _resolved_share(ds, spec, flag: np.ndarray, *, period, by, basis, confidence, method, label="resolved tickets"):
    f = ticket_facts(ds)
    res = (f["first_resolved"].notna() & (f["first_resolved"] <= ds.cutoff)).to_numpy()
    when = f["created_at"] if basis == "created" else f["first_resolved"].where(res)
    rows = _ticket_rows(ds, by, period, when, x=(flag & res).astype(float), m=res.astype(float))
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "x", "denominator": "m"}, levels=_levels(ds, by),
                        periods=span(f["created_at"], period=period, tz=ds.settings.timezone),
                        denominator_label=label)
    return finish(agg, spec=spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)


@register(
    name="one_touch_rate", title="One-touch resolution rate", group="quality",
    definition="Resolved tickets with fewer than 2 public agent replies / resolved tickets.",
    formula="resolved & replies < 2 / resolved",
    unit="share", higher_is_better=True, stat="proportion", basis="created",
    tables=("tickets",), columns={}, segments=("channel", "category", "team", "agent_id"),
    check=lambda ds: _check_replies(ds) or _check_resolution(ds),
)
def one_touch_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """One-touch rate among resolved tickets created (``created``) or resolved (``event``) in the period."""
    f = ticket_facts(ds)
    flag = (f["replies"] < 2).to_numpy(dtype=bool, na_value=False)
    return _resolved_share(ds, one_touch_rate.spec, flag, period=period, by=by, basis=basis,
                           confidence=confidence, method=method)


@register(
    name="reopen_rate", title="Reopen rate", group="quality",
    definition="Resolved tickets reopened (solved -> open) at least once / resolved tickets.",
    formula="resolved & reopens >= 1 / resolved",
    unit="share", higher_is_better=False, stat="proportion", basis="created",
    tables=("tickets",), columns={}, segments=("channel", "category", "team", "agent_id"),
    check=lambda ds: (None if (ds.has_columns("tickets", "reopen_count") or has_status_events(ds))
                      else "needs tickets.reopen_count or ticket_events status changes (column 'status')")
    or _check_resolution(ds),
)
def reopen_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Share of resolved tickets reopened at least once (``reopen_count`` or status events)."""
    f = ticket_facts(ds)
    flag = (f["reopens"] >= 1).to_numpy(dtype=bool, na_value=False)
    return _resolved_share(ds, reopen_rate.spec, flag, period=period, by=by, basis=basis,
                           confidence=confidence, method=method)


@register(
    name="escalation_rate", title="Escalation rate", group="quality",
    definition="Tickets escalated (to tier 2, another team or a supervisor) / tickets handled "
               "(tickets created in the period with a known escalation flag).",
    formula="escalated / tickets with escalated known",
    unit="share", higher_is_better=False, stat="proportion", basis="created", bases=("created",),
    tables=("tickets",), columns={"tickets": ("escalated",)}, segments=("channel", "category", "team", "agent_id"),
)
def escalation_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Escalated / handled tickets created in the period (rows with an empty flag are left out)."""
    t = ds.tickets.reset_index(drop=True)
    esc = t["escalated"]
    known = esc.notna().to_numpy()
    rows = _ticket_rows(ds, by, period, t["created_at"], x=esc.fillna(False).astype(bool).astype(float).to_numpy(),
                        m=known.astype(float))
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "x", "denominator": "m"}, levels=_levels(ds, by),
                        periods=span(t["created_at"], period=period, tz=ds.settings.timezone),
                        denominator_label="tickets with a known escalation flag")
    return finish(agg, spec=escalation_rate.spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)


@register(
    name="repeat_contact_rate", title="Repeat contact rate (tickets)", group="quality",
    definition="Tickets created by a customer within the repeat window (default 7 days) after a "
               "previous ticket by the same customer / tickets with a known customer.",
    formula="tickets with a previous ticket by the customer within window / tickets",
    unit="share", higher_is_better=False, stat="proportion", basis="created", bases=("created",),
    tables=("tickets",), columns={"tickets": ("customer_id",)}, segments=("channel", "category"),
    options="window_days: repeat window (settings repeat_window_days)",
)
def repeat_contact_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                        window_days=None):
    """Share of tickets that repeat a contact of the same customer within ``window_days``."""
    t = ds.tickets.reset_index(drop=True)
    rep = repeat_flags(ds, window_days=window_days)
    known = t["customer_id"].notna().to_numpy()
    rows = _ticket_rows(ds, by, period, t["created_at"], x=(rep["repeat"].to_numpy(dtype=bool) & known).astype(float),
                        m=known.astype(float))
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "x", "denominator": "m"}, levels=_levels(ds, by),
                        periods=span(t["created_at"], period=period, tz=ds.settings.timezone),
                        denominator_label="tickets with a customer",
                        note=f"window {_window_days(ds, window_days):g} d")
    return finish(agg, spec=repeat_contact_rate.spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)


# ----------------------------------------------------------------------------------------------
# surveys
# ----------------------------------------------------------------------------------------------
_SCALE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$")


def _survey_check(name):
    def check(ds):
        s = ds.surveys
        if not (s["survey"] == name).any():
            return f"no {name!r} answers in surveys"
        return None
    return check


def _survey_rows(ds, name: str, by, period, basis):
    """Answers of one survey with period and segments.

    Returns (rows, levels, periods, note, declared scale). ``rows``: ``period``, ``score`` (NaN
    for answers left out), ``keep`` (0/1), ``other_scale`` (0/1: a per-row scale differing from
    the declared one), the segment columns.
    """
    spec = ds.settings.survey(name)
    s = ds.surveys
    s = s[s["survey"] == name].reset_index(drop=True)
    notes = []
    keep = s["score"].notna()
    other = pd.Series(False, index=s.index)
    if "scale" in s.columns and s["scale"].notna().any():
        m = s["scale"].astype("str").str.extract(_SCALE)
        lo, hi = pd.to_numeric(m[0], errors="coerce"), pd.to_numeric(m[1], errors="coerce")
        other = s["scale"].notna() & ~((lo == float(spec["min"])) & (hi == float(spec["max"])))
        keep &= ~other
    tz = ds.settings.timezone
    if basis == "created":
        if "ticket_id" not in s.columns or not ds.has("tickets"):
            raise KPIUnavailable(f"{name}: created basis needs surveys.ticket_id and tickets")
        created = s["ticket_id"].map(ds.tickets.drop_duplicates("ticket_id").set_index("ticket_id")["created_at"])
        k = int((keep & created.isna()).sum())
        if k:
            notes.append(f"{k} answer(s) without a known ticket left out (created basis)")
        when = created
    else:
        when = s["submitted_at"]
    seg = segment_frame(ds, s, by, ts=s["submitted_at"], main="surveys")
    levels = levels_of(seg, by)
    rows = pd.concat([pd.DataFrame({"period": to_period(when, period, tz),
                                    "score": s["score"].astype("float64").where(keep),
                                    "keep": keep.astype("float64"), "other_scale": other.astype("float64")}),
                      seg], axis=1)
    # the grid spans the whole surveys table, so months without answers to this survey show n = 0
    periods = span(ds.surveys["submitted_at"], when, period=period, tz=tz)
    return rows, levels, periods, ("; ".join(notes) or None), spec


def _top_box_kpi(ds, spec, name, *, period, by, basis, confidence, method):
    rows, levels, periods, note, sv = _survey_rows(ds, name, by, period, basis)
    if "top_box" not in sv:
        raise KPIUnavailable(f"{name}: surveys.{name}.top_box is not declared in the settings")
    rows = rows.assign(top=(rows["score"] >= float(sv["top_box"])).astype(float))
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "top", "denominator": "keep", "other_scale": "other_scale"},
                        periods=periods, levels=levels, denominator_label="answers", note=note,
                        notes=_NOTES)
    return finish(agg, spec=spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)


_NOTES = {"other_scale": "{k} answer(s) on another scale left out"}
_SURVEY_COLS = {"surveys": ("survey", "score", "submitted_at")}


@register(
    name="csat", title="Customer satisfaction (CSAT)", group="quality",
    definition="Share of CSAT answers in the top two boxes (4 or 5 on 1-5; top_box as declared).",
    formula="answers with score >= top_box / answers",
    unit="share", higher_is_better=True, stat="proportion", basis="event",
    tables=("surveys",), columns=_SURVEY_COLS, segments=("channel", "agent_id", "category"),
    check=_survey_check("csat"),
)
def csat(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """CSAT: top-box share of answers, Wilson interval.

    Parameters
    ----------
    basis : {"event", "created"}, default "event"
        ``event``: answers submitted in the period; ``created``: answers about tickets created
        in the period (CSAT by ticket).
    by : segments from surveys (channel, agent_id) or from the rated ticket (category, priority, ...).
    """
    return _top_box_kpi(ds, csat.spec, "csat", period=period, by=by, basis=basis, confidence=confidence,
                        method=method)


@register(
    name="esat", title="Employee satisfaction (ESAT)", group="quality",
    definition="Share of ESAT answers in the top boxes (top_box as declared), same machinery as CSAT.",
    formula="answers with score >= top_box / answers",
    unit="share", higher_is_better=True, stat="proportion", basis="event", bases=("event",),
    tables=("surveys",), columns=_SURVEY_COLS, segments=("agent_id",),
    check=_survey_check("esat"),
)
def esat(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """ESAT: top-box share of employee survey answers submitted in the period."""
    return _top_box_kpi(ds, esat.spec, "esat", period=period, by=by, basis=basis, confidence=confidence,
                        method=method)


@register(
    name="csat_response_rate", title="CSAT response rate", group="quality",
    definition="CSAT answers submitted in the period / CSAT invitations sent in the period.",
    formula="answers / survey_sends, per period",
    unit="share", higher_is_better=True, stat="proportion", basis="event", bases=("event",),
    tables=("survey_sends", "surveys"), columns={"survey_sends": ("survey", "sent_at")},
    segments=("channel",),
    options="survey: which survey (default csat)",
)
def csat_response_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                       survey="csat"):
    """Answers / invitations per period (event basis); ``n`` = invitations.

    Segments come from the invitation's ticket (sends carry no channel) and from the answer's
    own columns or ticket. A period with more answers than sends gives a value above 1 and no
    interval (answers to earlier invitations).
    """
    tz = ds.settings.timezone
    sends = ds.survey_sends
    sends = sends[sends["survey"] == survey].reset_index(drop=True)
    ans = ds.surveys
    ans = ans[ans["survey"] == survey].reset_index(drop=True)
    a = pd.concat([pd.DataFrame({"period": to_period(ans["submitted_at"], period, tz), "x": 1.0, "m": 0.0}),
                   segment_frame(ds, ans, by, ts=ans["submitted_at"], main="surveys")], axis=1)
    b = pd.concat([pd.DataFrame({"period": to_period(sends["sent_at"], period, tz), "x": 0.0, "m": 1.0}),
                   segment_frame(ds, sends, by, ts=sends["sent_at"], main="survey_sends")], axis=1)
    rows = pd.concat([a, b], ignore_index=True)
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "x", "denominator": "m"},
                        periods=span(sends["sent_at"], ans["submitted_at"], period=period, tz=tz),
                        denominator_label="surveys sent", note=f"survey {survey}")
    return finish(agg, spec=csat_response_rate.spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)


@register(
    name="nps", title="Net Promoter Score (NPS)", group="quality",
    definition="% promoters (9-10) - % detractors (0-6) on the 0-10 question, in points from -100 to +100.",
    formula="100 (promoters - detractors) / answers",
    unit="points", higher_is_better=True, stat="nps", basis="event",
    tables=("surveys",), columns=_SURVEY_COLS, segments=("channel",),
    check=_survey_check("nps"),
)
def nps(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """NPS in points with the adjusted-Wald interval (``method`` as in
    :func:`kpitools.stats.intervals.nps_interval`); extras detractors, passives, promoters."""
    rows, levels, periods, note, sv = _survey_rows(ds, "nps", by, period, basis)
    if float(sv["min"]) != 0 or float(sv["max"]) != 10:
        raise KPIUnavailable(f"nps: the declared scale is {sv['min']}-{sv['max']}; NPS needs 0-10")
    sc = rows["score"]
    rows = rows.assign(d=(sc <= 6).astype(float), s=((sc >= 7) & (sc <= 8)).astype(float), p=(sc >= 9).astype(float))
    # NaN scores (answers left out) compare False everywhere: they count in no group
    agg = Agg.from_rows(rows, by=by, sums={"detractors": "d", "passives": "s", "promoters": "p",
                                           "other_scale": "other_scale"},
                        periods=periods, levels=levels, note=note, notes=_NOTES)
    return finish(agg, spec=nps.spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)


@register(
    name="ces", title="Customer effort score (CES)", group="quality",
    definition="Mean effort score on the declared scale (1-5 or 1-7); direction declared in the settings.",
    formula="mean(score)",
    unit="score", higher_is_better=False, stat="mean", basis="event",
    tables=("surveys",), columns=_SURVEY_COLS, segments=("channel",),
    check=_survey_check("ces"),
)
def ces(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Mean CES with a t interval; the direction (``higher_is_better``) comes from the settings."""
    rows, levels, periods, note, sv = _survey_rows(ds, "ces", by, period, basis)
    agg = Agg.from_values(rows, "score", by=by, periods=periods, levels=levels,
                          sums={"other_scale": "other_scale"}, notes=_NOTES,
                          note="; ".join(x for x in (note, f"scale {sv['min']:g}-{sv['max']:g}") if x))
    spec = dataclasses.replace(ces.spec, higher_is_better=bool(sv.get("higher_is_better", False)))
    return finish(agg, spec=spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)


@register(
    name="ces_low_effort", title="CES low-effort share", group="quality",
    definition="Share of CES answers declared 'low effort' (score <= low_effort_max when low is "
               "good, score >= low_effort_min when high is good).",
    formula="low-effort answers / answers",
    unit="share", higher_is_better=True, stat="proportion", basis="event",
    tables=("surveys",), columns=_SURVEY_COLS, segments=("channel",),
    check=_survey_check("ces"),
)
def ces_low_effort(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Share of low-effort CES answers (threshold declared in the settings), Wilson interval."""
    rows, levels, periods, note, sv = _survey_rows(ds, "ces", by, period, basis)
    if sv.get("higher_is_better", False):
        if "low_effort_min" not in sv:
            raise KPIUnavailable("ces_low_effort: surveys.ces.low_effort_min is not declared (high is good)")
        low = rows["score"] >= float(sv["low_effort_min"])
    else:
        if "low_effort_max" not in sv:
            raise KPIUnavailable("ces_low_effort: surveys.ces.low_effort_max is not declared")
        low = rows["score"] <= float(sv["low_effort_max"])
    rows = rows.assign(x=(low & rows["score"].notna()).astype(float))
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "x", "denominator": "keep", "other_scale": "other_scale"},
                        periods=periods, levels=levels, denominator_label="answers", note=note, notes=_NOTES)
    return finish(agg, spec=ces_low_effort.spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)


@register(
    name="qa_score", title="QA score", group="quality",
    definition="Mean rubric score of reviewed tickets x 100 (scores rescaled to 0-1 from the declared scale).",
    formula="100 mean((score - min) / (max - min))",
    unit="score", higher_is_better=True, stat="mean", basis="event",
    tables=("surveys",), columns=_SURVEY_COLS, segments=("agent_id",),
    check=_survey_check("qa"),
)
def qa_score(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Mean QA score x 100 with a t interval."""
    rows, levels, periods, note, sv = _survey_rows(ds, "qa", by, period, basis)
    lo, hi = float(sv["min"]), float(sv["max"])
    rows = rows.assign(score=100.0 * (rows["score"] - lo) / (hi - lo))
    agg = Agg.from_values(rows, "score", by=by, periods=periods, levels=levels, note=note,
                          sums={"other_scale": "other_scale"}, notes=_NOTES)
    return finish(agg, spec=qa_score.spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)
