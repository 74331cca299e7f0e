"""Quality and outcome KPIs: FCR, one-touch, reopen, escalation, repeat contacts, CSAT and its
response rate, NPS, CES, ESAT, QA score (docs/methods.md#quality-and-outcome).

Survey scales come from ``dataset.yml`` (``surveys:``), never guessed; answers whose per-row
``scale`` differs from the declared scale are left out and counted in the note.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from kpitools import facts
from kpitools.kpis._core import (
    Agg,
    KPIError,
    KPIUnavailable,
    Means,
    Sums,
    register,
    segment_frame,
    span,
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
    "repeat_timeline",
]


#: Name of the declared per-ticket time "first resolution by the cut-off" (shared cell codes).
RESOLVED_WHEN = "fact:first_resolved"


def _first_resolved(ds) -> tuple[pd.Series, np.ndarray]:
    """(first resolution by the cut-off, NaT otherwise; resolved flag) per ticket row."""
    f = ticket_facts(ds)
    res = (f["first_resolved"].notna() & (f["first_resolved"] <= ds.cutoff)).to_numpy()
    return f["first_resolved"].where(res), res


def _tickets(ds, basis: str, sums: dict, **agg) -> Sums:
    """Declaration over ticket rows: created basis by ``created_at``, event basis by the first
    resolution (tickets not resolved by the cut-off in no period); the grid spans the creations."""
    if basis == "event":
        fr, _ = _first_resolved(ds)
        return Sums("tickets", RESOLVED_WHEN, times=fr, ts="created_at",
                    span=(facts.of(ds).ts("tickets", "created_at"),), sums=sums, agg=agg)
    return Sums("tickets", "created_at", sums=sums, agg=agg)


def _window_days(ds, window_days) -> float:
    w = ds.settings["repeat_window_days"] if window_days is None else window_days
    if not isinstance(w, int | float) or isinstance(w, bool) or w < 0:
        raise KPIError(f"window_days must be a non-negative number of days, got {window_days!r}")
    return float(w)


def _across(ds, across_channels) -> bool:
    """The effective ``across_channels`` option: default True when tickets and contacts exist."""
    if across_channels is None:
        return ds.has("tickets") and ds.has("contacts")
    if not isinstance(across_channels, bool | np.bool_):
        raise KPIError(f"across_channels must be True, False or None (default), got {across_channels!r}")
    return bool(across_channels) and ds.has("tickets") and ds.has("contacts")


def _known(s: pd.Series) -> np.ndarray:
    return (s.notna() & (s.astype("str") != "")).to_numpy(dtype=bool)


def _items(ds, table: str) -> pd.DataFrame:
    """One timeline row per ticket (``created_at``) or contact (``queued_at``) with a customer."""
    df = getattr(ds, table).reset_index(drop=True)
    none = pd.Series(np.nan, index=df.index, dtype="str")
    cust = df["customer_id"] if "customer_id" in df.columns else none
    # the link between a contact and its ticket: the ticket's own id, the contact's ticket_id
    link = df["ticket_id"] if "ticket_id" in df.columns else none
    at = df["created_at" if table == "tickets" else "queued_at"]
    out = pd.DataFrame({"src": 0 if table == "tickets" else 1, "pos": np.arange(len(df)),
                        "cust": cust.astype("str"), "at": pd.to_datetime(at, utc=True).dt.as_unit("ns"),
                        "link": link.astype("str").where(_known(link))})
    return out[_known(cust) & out["at"].notna().to_numpy()]


def _neighbours(items: pd.DataFrame, w: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
    """(followed, repeat) per row of ``items``: another row of the same customer at most ``w``
    after (followed) or before (repeat) it that is not its linked ticket/contact.

    Rows are sorted by customer, time, source and position; ties count in that order. A contact
    and the ticket it is linked to (``contacts.ticket_id``) are one contact, never repeats of
    each other. Vectorised: step k compares every row with the row k places after (before) it;
    a row stops at the first unlinked neighbour or the first one outside its customer or window,
    so the number of steps is 1 + the most linked partners next to one row.
    """
    s = items.sort_values(["cust", "at", "src", "pos"], kind="stable")
    n = len(s)
    cust = pd.factorize(s["cust"])[0]
    t = s["at"].to_numpy(dtype="datetime64[ns]").view("int64")
    src = s["src"].to_numpy()
    lk = pd.factorize(s["link"])[0]  # -1 where there is no link
    w_ns = int(w / pd.Timedelta(1, "ns"))
    idx = np.arange(n)
    flags = []
    for sign in (1, -1):
        hit_any = np.zeros(n, dtype=bool)
        pending = np.ones(n, dtype=bool)
        k = 1
        while pending.any():
            q = idx + sign * k
            inside = (q >= 0) & (q < n)
            q = np.where(inside, q, 0)
            near = inside & (cust[q] == cust) & (sign * (t[q] - t) <= w_ns)
            pending &= near  # sorted by time: nothing further away can be within the window
            linked = (src[q] != src) & (lk >= 0) & (lk[q] == lk)
            hit = pending & ~linked
            hit_any |= hit
            pending &= ~hit
            k += 1
        out = np.zeros(n, dtype=bool)
        out[s.index.to_numpy()] = hit_any  # back to the order of ``items`` (index 0..n-1)
        flags.append(out)
    return flags[0], flags[1]


def repeat_timeline(ds, *, window_days=None, across_channels=None) -> dict[str, pd.DataFrame]:
    """Repeat-contact flags of every ticket and every contact (call or chat).

    Parameters
    ----------
    ds : Dataset
    window_days : float, optional
        Repeat window in days; default ``settings.repeat_window_days``.
    across_channels : bool, optional
        True: a ticket and a call or chat of the same customer repeat each other (a call within
        the window after a ticket is a repeat of the ticket, a ticket after a call a repeat of
        the call). False: tickets are compared with tickets and contacts with contacts only.
        Default: True when the dataset has both tickets and contacts.

    Returns
    -------
    dict of str -> DataFrame
        ``"tickets"`` and/or ``"contacts"`` (the tables present), same rows and order as the
        table: ``known`` (has a ``customer_id``: only these are in a repeat check's population),
        ``followed`` (another contact by the customer at most ``window_days`` after this one),
        ``repeat`` (this one comes at most ``window_days`` after another contact by the
        customer), ``window_complete`` (the window after it ended before the cut-off).
        Unknown customers are never followed or repeats. A contact and the ticket it is linked
        to (``contacts.ticket_id``: the ticket written for that call or chat) are one contact,
        not repeats of each other.
    """
    days = _window_days(ds, window_days)
    w = pd.Timedelta(days=days)
    across = _across(ds, across_channels)
    return facts.of(ds).memo((repeat_timeline, days, across), lambda: _repeat_timeline(ds, w, across))


def _repeat_timeline(ds, w: pd.Timedelta, across: bool) -> dict[str, pd.DataFrame]:
    tables = [name for name in ("tickets", "contacts") if ds.has(name)]
    items = {name: _items(ds, name) for name in tables}
    groups = [tables] if across else [[name] for name in tables]
    out = {}
    for g in groups:
        it = pd.concat([items[name] for name in g], ignore_index=True)
        followed, repeat = _neighbours(it, w)
        for name in g:
            df = getattr(ds, name)
            ts = df["created_at" if name == "tickets" else "queued_at"].reset_index(drop=True)
            sel = (it["src"] == (0 if name == "tickets" else 1)).to_numpy()
            res = pd.DataFrame({"known": np.zeros(len(df), dtype=bool), "followed": False, "repeat": False})
            pos = it.loc[sel, "pos"].to_numpy()
            res.loc[pos, "known"] = True
            res.loc[pos, "followed"] = followed[sel]
            res.loc[pos, "repeat"] = repeat[sel]
            res["window_complete"] = (ts + w <= ds.cutoff).to_numpy(dtype=bool)
            out[name] = res
    return out


def repeat_flags(ds, *, window_days=None, across_channels=None) -> pd.DataFrame:
    """Per ticket: is there a repeat contact by the same customer within the window?

    Parameters
    ----------
    ds : Dataset
    window_days : float, optional
        Repeat window in days; default ``settings.repeat_window_days``.
    across_channels : bool, optional
        Count calls and chats of the customer (``contacts``) as repeats too; default True when
        the dataset has contacts (see :func:`repeat_timeline`).

    Returns
    -------
    DataFrame
        Same rows as ``ds.tickets``: ``ticket_id``, ``known`` (the ticket has a customer_id),
        ``followed`` (another contact by the customer within ``window_days`` after this
        ticket), ``repeat`` (this ticket follows a contact of the customer within the window),
        ``window_complete`` (the window after the ticket ended before the cut-off). Tickets
        without ``customer_id`` are neither; the KPIs leave them out of the population.
    """
    t = ds.tickets.reset_index(drop=True)
    r = repeat_timeline(ds, window_days=window_days, across_channels=across_channels)["tickets"]
    return pd.concat([t[["ticket_id"]], r], axis=1)


def _check_replies(ds):
    if ds.has("ticket_events") or "agent_replies" in ds.tickets.columns:
        return None
    return "needs ticket_events or tickets.agent_replies"


def _check_resolution(ds):
    # these KPIs use the first resolution: tickets.first_resolved_at, else status_change events
    if "first_resolved_at" in ds.tickets.columns or has_status_events(ds):
        return None
    return "needs tickets.first_resolved_at or ticket_events status changes (column 'status')"


_ACROSS_OPTION = ("across_channels: True (default when the dataset has contacts) counts a call or chat of the "
                  "customer as a repeat of a ticket and a ticket as a repeat of a call or chat; False compares "
                  "tickets with tickets and contacts with contacts only")
_UNKNOWN_TICKETS = "{k} ticket(s) without customer_id left out"


def _repeat_note(ds, days: float, across_channels) -> str:
    return f"window {days:g} d; repeats: " + ("tickets, calls and chats" if _across(ds, across_channels)
                                              else "tickets only")


@register(
    name="fcr", title="First contact resolution (FCR)", group="quality",
    definition="Issues resolved with exactly one public agent reply and no repeat contact by the same "
               "customer within the repeat window (default 7 days) / all issues received. A repeat is "
               "another ticket or, where the dataset has contacts, a call or chat by the customer "
               "(across_channels; the call or chat a ticket was written for does not count). Tickets "
               "without customer_id cannot be checked for repeats: they are left out of numerator and "
               "denominator and counted in unknown_customer. Variant: over resolved issues only "
               "(denominator='resolved').",
    formula="resolved & replies == 1 & no repeat within window / tickets created (or resolved), "
            "tickets with a customer_id",
    unit="share", higher_is_better=True, stat="proportion", basis="created",
    tables=("tickets",), columns={"tickets": ("customer_id",)},
    segments=("channel", "category", "team", "agent_id"),
    options="denominator: received | resolved; window_days: repeat window (settings repeat_window_days); "
            + _ACROSS_OPTION,
    check=lambda ds: _check_replies(ds) or _check_resolution(ds),
)
def fcr(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
        denominator="received", window_days=None, across_channels=None):
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
    across_channels : bool, optional
        True: a call or chat (``contacts``) by the same customer within the window after the
        ticket is a repeat contact too; False: only another ticket is. Default: True when the
        dataset has contacts. Named in ``note``.

    Returns
    -------
    DataFrame
        Columns of :func:`kpitools.kpis._core.finish`, plus ``window_open`` (counted tickets
        whose repeat window had not ended at the cut-off) and ``unknown_customer`` (tickets of
        the denominator's kind without ``customer_id``, left out; named in ``note``).

    Notes
    -----
    FCR = #{resolved, exactly one public agent reply, no other ticket, call or chat by the
    customer within the window after creation} / #{tickets received}, both over tickets with a
    ``customer_id`` (the rule of :func:`repeat_contact_rate`): a ticket whose customer is
    unknown cannot be checked for repeats and is not counted as "never repeated". The contact a
    ticket was written for (``contacts.ticket_id``) is the same contact, not a repeat. Tickets
    whose window has not ended at the cut-off are counted with what is known so far (note).
    """
    if denominator not in ("received", "resolved"):
        raise KPIError(f"denominator must be 'received' or 'resolved', got {denominator!r}")
    f = ticket_facts(ds)
    rep = repeat_flags(ds, window_days=window_days, across_channels=across_channels)
    known = rep["known"].to_numpy(dtype=bool)
    _, res = _first_resolved(ds)
    ok = res & (f["replies"].to_numpy() == 1) & ~rep["followed"].to_numpy(dtype=bool) & known
    if basis == "event":
        denominator = "resolved"
    pop = res if denominator == "resolved" else np.ones(len(f), dtype=bool)
    den = pop & known
    note = f"denominator: {denominator}; {_repeat_note(ds, _window_days(ds, window_days), across_channels)}"
    return _tickets(ds, basis, {"numerator": ok, "denominator": den,
                                "window_open": ~rep["window_complete"].to_numpy(dtype=bool) & den,
                                "unknown_customer": pop & ~known},
                    denominator_label=f"{denominator} tickets with a customer", note=note,
                    extras={"window_open": 0.0, "unknown_customer": 0.0},
                    notes={"window_open": "{k} ticket(s) with the repeat window still open at the cut-off",
                           "unknown_customer": _UNKNOWN_TICKETS})


def _resolved_share(ds, flag: np.ndarray, *, basis, label="resolved tickets") -> Sums:
    _, res = _first_resolved(ds)
    return _tickets(ds, basis, {"numerator": flag & res, "denominator": res}, denominator_label=label)


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
    return _resolved_share(ds, flag, basis=basis)


@register(
    name="reopen_rate", title="Reopen rate", group="quality",
    definition="Resolved tickets reopened (solved -> open) at least once / resolved tickets.",
    formula="resolved & reopens >= 1 / resolved",
    unit="share", higher_is_better=False, stat="proportion", basis="created",
    tables=("tickets",), columns={}, segments=("channel", "category", "team", "agent_id"),
    check=lambda ds: (None if ("reopen_count" in ds.tickets.columns or has_status_events(ds))
                      else "needs tickets.reopen_count or ticket_events status changes (column 'status')")
    or _check_resolution(ds),
)
def reopen_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Share of resolved tickets reopened at least once (``reopen_count`` or status events)."""
    f = ticket_facts(ds)
    flag = (f["reopens"] >= 1).to_numpy(dtype=bool, na_value=False)
    return _resolved_share(ds, flag, basis=basis)


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
    esc = facts.of(ds).table("tickets")["escalated"]
    return Sums("tickets", "created_at",
                sums={"numerator": esc.fillna(False).astype(bool).to_numpy(), "denominator": esc.notna().to_numpy()},
                agg={"denominator_label": "tickets with a known escalation flag"})


@register(
    name="repeat_contact_rate", title="Repeat contact rate (tickets)", group="quality",
    definition="Tickets created by a customer within the repeat window (default 7 days) after a "
               "previous ticket or, where the dataset has contacts, a call or chat by the same customer "
               "(across_channels; the call or chat the ticket was written for does not count) / tickets "
               "with a known customer. Tickets without customer_id are left out and counted in "
               "unknown_customer.",
    formula="tickets with a previous ticket, call or chat by the customer within window / tickets with a customer_id",
    unit="share", higher_is_better=False, stat="proportion", basis="created", bases=("created",),
    tables=("tickets",), columns={"tickets": ("customer_id",)}, segments=("channel", "category"),
    options="window_days: repeat window (settings repeat_window_days); " + _ACROSS_OPTION,
)
def repeat_contact_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                        window_days=None, across_channels=None):
    """Share of tickets that repeat a contact of the same customer within ``window_days``.

    Parameters
    ----------
    ds : Dataset
    period, by, confidence, method
        As every KPI (tickets created in the period; Wilson interval by default).
    window_days : float, optional
        Repeat window; default ``settings.repeat_window_days``.
    across_channels : bool, optional
        True: a ticket after a call or chat (``contacts``) of the customer within the window is
        a repeat too; False: only a ticket after another ticket. Default: True when the
        dataset has contacts. Named in ``note``.

    Returns
    -------
    DataFrame
        Columns of :func:`kpitools.kpis._core.finish`, plus ``unknown_customer`` (tickets
        without ``customer_id``, left out of numerator and denominator; named in ``note``).

    Notes
    -----
    Repeat rate = #{tickets with a previous ticket, call or chat by the customer at most
    ``window_days`` before} / #{tickets with a customer_id}, the same rule for unknown
    customers as :func:`fcr`. A call or chat and the ticket written for it
    (``contacts.ticket_id``) are one contact, not a repeat.
    """
    rep = repeat_flags(ds, window_days=window_days, across_channels=across_channels)
    known = rep["known"].to_numpy(dtype=bool)
    return Sums("tickets", "created_at",
                sums={"numerator": rep["repeat"].to_numpy(dtype=bool) & known, "denominator": known,
                      "unknown_customer": ~known},
                agg={"denominator_label": "tickets with a customer",
                     "note": _repeat_note(ds, _window_days(ds, window_days), across_channels),
                     "extras": {"unknown_customer": 0.0}, "notes": {"unknown_customer": _UNKNOWN_TICKETS}})


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


def _survey_answers(ds, name: str, basis: str):
    """Answers of one survey as per-row measures over the whole surveys table (facts rows).

    Returns (population, score, keep, other, when, span, note, declared scale): ``population`` the
    rows of survey ``name``; ``score`` NaN for answers left out; ``keep`` and ``other`` (a per-row
    scale differing from the declared one) as bool arrays; ``when`` the facts timestamp of the
    period (``submitted_at``, or the ticket's ``created_at`` on the created basis).
    """
    sv = ds.settings.survey(name)
    f = facts.of(ds)
    s = f.table("surveys")
    pop = (s["survey"] == name).to_numpy(dtype=bool)
    keep = s["score"].notna().to_numpy(dtype=bool) & pop
    other = np.zeros(len(s), dtype=bool)
    if "scale" in s.columns and s.loc[pop, "scale"].notna().any():
        m = s["scale"].astype("str").str.extract(_SCALE)
        lo, hi = pd.to_numeric(m[0], errors="coerce"), pd.to_numeric(m[1], errors="coerce")
        other = (s["scale"].notna() & ~((lo == float(sv["min"])) & (hi == float(sv["max"])))).to_numpy(dtype=bool) & pop
        keep &= ~other
    note = None
    when = "submitted_at"
    if basis == "created":
        if "ticket_id" not in s.columns or not ds.has("tickets"):
            raise KPIUnavailable(f"{name}: created basis needs surveys.ticket_id and tickets")
        when = "ticket:created_at"
        k = int((keep & f.ts("surveys", when).isna().to_numpy()).sum())
        note = f"{k} answer(s) without a known ticket left out (created basis)" if k else None
    # the grid spans the whole surveys table, so months without answers to this survey show n = 0
    spans = (f.ts("surveys", "submitted_at"), f.ts("surveys", when)[pop])
    score = s["score"].astype("float64").where(keep).to_numpy()
    return pop, score, keep, other, when, spans, note, sv


def _top_box_kpi(ds, spec, name, *, period, by, basis, confidence, method):
    pop, score, keep, other, when, spans, note, sv = _survey_answers(ds, name, basis)
    if "top_box" not in sv:
        raise KPIUnavailable(f"{name}: surveys.{name}.top_box is not declared in the settings")
    return Sums("surveys", when, ts="submitted_at", population=pop, span=spans,
                sums={"numerator": score >= float(sv["top_box"]), "denominator": keep, "other_scale": other},
                agg={"denominator_label": "answers", "note": note, "notes": _NOTES})


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
    return agg  # register estimates, sets targets and notes


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
    pop, sc, keep, other, when, spans, note, sv = _survey_answers(ds, "nps", basis)
    if float(sv["min"]) != 0 or float(sv["max"]) != 10:
        raise KPIUnavailable(f"nps: the declared scale is {sv['min']}-{sv['max']}; NPS needs 0-10")
    # NaN scores (answers left out) compare False everywhere: they count in no group
    return Sums("surveys", when, ts="submitted_at", population=pop, span=spans,
                sums={"detractors": sc <= 6, "passives": (sc >= 7) & (sc <= 8), "promoters": sc >= 9,
                      "other_scale": other},
                agg={"note": note, "notes": _NOTES})


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
    pop, score, keep, other, when, spans, note, sv = _survey_answers(ds, "ces", basis)
    return Means("surveys", when, ts="submitted_at", population=pop, span=spans, values=score,
                 sums={"other_scale": other},
                 agg={"notes": _NOTES, "note": "; ".join(x for x in (note, f"scale {sv['min']:g}-{sv['max']:g}") if x)},
                 overrides={"higher_is_better": bool(sv.get("higher_is_better", False))})


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
    pop, score, keep, other, when, spans, note, sv = _survey_answers(ds, "ces", basis)
    # NaN scores (answers left out) compare False: never low effort
    if sv.get("higher_is_better", False):
        if "low_effort_min" not in sv:
            raise KPIUnavailable("ces_low_effort: surveys.ces.low_effort_min is not declared (high is good)")
        low = score >= float(sv["low_effort_min"])
    else:
        if "low_effort_max" not in sv:
            raise KPIUnavailable("ces_low_effort: surveys.ces.low_effort_max is not declared")
        low = score <= float(sv["low_effort_max"])
    return Sums("surveys", when, ts="submitted_at", population=pop, span=spans,
                sums={"numerator": low, "denominator": keep, "other_scale": other},
                agg={"denominator_label": "answers", "note": note, "notes": _NOTES})


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
    pop, score, keep, other, when, spans, note, sv = _survey_answers(ds, "qa", basis)
    lo, hi = float(sv["min"]), float(sv["max"])
    return Means("surveys", when, ts="submitted_at", population=pop, span=spans,
                 values=100.0 * (score - lo) / (hi - lo), sums={"other_scale": other},
                 agg={"note": note, "notes": _NOTES})
