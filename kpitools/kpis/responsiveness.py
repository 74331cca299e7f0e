"""Responsiveness KPIs: first response, reply time, resolution times, wait and on-hold time, effort.

Also the ticket-level facts shared by the helpdesk KPIs (:func:`ticket_facts`, :func:`reply_waits`,
:func:`status_intervals`), derived once per dataset from ``ticket_events`` when present (:mod:`kpitools.facts`).

Definitions (docs/methods.md#responsiveness):

- a *public human agent reply* is an event of kind ``agent_reply``; ``bot_message`` and
  ``internal_note`` never count as a response;
- a ticket is *agent-opened* when its first public message (customer message or agent reply) is an
  agent reply; its first response is then the next agent reply after the customer's first message,
  and an agent-opened ticket without any customer message has no first response to measure
  (excluded, counted in the note);
- durations still running at ``ds.cutoff`` are censored there (``observed=False``), never dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools import facts
from kpitools.kpis._core import (
    BOOTSTRAP_N,
    BOOTSTRAP_SEED,
    Agg,
    Durations,
    KPIUnavailable,
    elapsed,
    finish,
    register,
    segment_frame,
    span,
    ticket_levels,
    ticket_segments,
    to_period,
)

__all__ = [
    "ticket_facts",
    "reply_waits",
    "status_intervals",
    "first_response_time",
    "reply_time",
    "first_resolution_time",
    "full_resolution_time",
    "requester_wait_time",
    "on_hold_time",
    "replies_per_resolution",
    "agent_touches",
    "ticket_handle_time",
]

SOLVED = ("solved", "closed")
#: Statuses in which the requester waits for the support team (Zendesk's requester wait time).
REQUESTER_WAIT = ("new", "open", "on_hold")
ON_HOLD = ("on_hold",)


def _has(df: pd.DataFrame | None, col: str) -> bool:
    return df is not None and col in df.columns and bool(df[col].notna().any())


def _events(ds) -> pd.DataFrame | None:
    """``ticket_events`` sorted by ticket, time and kind (the dataset's facts; None when absent)."""
    return facts.of(ds).events


def ticket_facts(ds) -> pd.DataFrame:
    """Per-ticket facts used by the helpdesk KPIs (built once: :attr:`kpitools.facts.Facts.ticket`).

    Returns
    -------
    DataFrame
        Same rows and order as ``ds.tickets``:

        - ``ticket_id``, ``created_at``
        - ``frt_start``: when the first-response clock starts (creation, or the customer's first
          message on an agent-opened ticket; NaT when nothing is to be answered)
        - ``frt_end``: first public human agent reply after ``frt_start`` (NaT: not yet)
        - ``agent_opened``: bool
        - ``replies``: public human agent replies (float, NaN when unknown)
        - ``touches``: agent actions (replies, internal notes, status changes by an agent)
        - ``first_resolved``: first time solved (NaT: never)
        - ``resolved``: final resolution (NaT: open at the cut-off)
        - ``reopens``: times the ticket went from solved/closed back to an open status
        - ``source``: "events" or "tickets" (where response facts came from)
    """
    return facts.of(ds).ticket


def has_status_events(ds) -> bool:
    """True when ``ticket_events`` has ``status_change`` rows with a ``status`` (resolutions and
    reopens can be derived from them)."""
    return facts.of(ds).has_status_events


def reply_waits(ds) -> pd.DataFrame:
    """Every wait of a customer for a public agent reply (needs ``ticket_events``).

    A wait starts at a customer message that follows an agent reply (or is the ticket's first
    customer message) and ends at the next public human agent reply. Further customer messages
    before that reply belong to the same wait. A wait with no reply yet is censored at the
    cut-off, unless the ticket is solved at the cut-off (its final resolution came after the
    message, or the message came after the final resolution without reopening the ticket, e.g.
    a closing "thank you"): nothing is left to answer, so it is not counted.

    Returns
    -------
    DataFrame
        ``ticket_id``, ``start``, ``end`` (NaT: unanswered), ``first`` (the wait ends in or is the
        ticket's first response, i.e. it is measured by first response time).
    """
    if _events(ds) is None:
        raise KPIUnavailable("table 'ticket_events' absent (reply waits need the message history)")
    return facts.of(ds).reply_waits


def status_intervals(ds) -> pd.DataFrame:
    """Time spans per ticket and status from ``status_change`` events.

    The ticket is ``new`` from creation to its first status change; each status lasts until the
    next change, the last one until the cut-off. Spans after the final resolution are dropped.

    Returns
    -------
    DataFrame
        ``ticket_id``, ``status``, ``start``, ``end`` (UTC), ``open_end`` (True when the span
        runs to the cut-off).
    """
    if _events(ds) is None:
        raise KPIUnavailable("table 'ticket_events' absent (status times need status_change events)")
    return facts.of(ds).status_intervals


# ----------------------------------------------------------------------------------------------
# shared plumbing for ticket-based duration KPIs
# ----------------------------------------------------------------------------------------------
def _segments(ds, frame: pd.DataFrame, by, *, ts=None) -> pd.DataFrame:
    """Segment columns for rows carrying ticket_id (ticket columns looked up by ticket_id)."""
    return segment_frame(ds, frame, by, ts=ts, main="tickets")


def _ticket_levels(ds, by) -> dict[str, list[str]]:
    return ticket_levels(ds, by)


#: Default horizons of the restricted mean, in seconds on the KPI's clock: about a week for
#: first response and reply times (7 calendar days, or 48 business hours: a working week), about
#: a month for resolution and per-ticket status times (30 calendar days, or 200 business hours).
RESPONSE_HORIZON_S = {"calendar": 7 * 86400.0, "business": 48 * 3600.0}
RESOLUTION_HORIZON_S = {"calendar": 30 * 86400.0, "business": 200 * 3600.0}
_HORIZON_OPTION = ("horizon_s: horizon of the restricted mean (rmst columns) in seconds on the KPI's "
                   "clock; default {cal:.0f} s ({cal_d} days) on the calendar clock, {bus:.0f} s "
                   "({bus_h} business hours) on the business clock")
_RESPONSE_OPTION = _HORIZON_OPTION.format(cal=RESPONSE_HORIZON_S["calendar"], cal_d=7,
                                          bus=RESPONSE_HORIZON_S["business"], bus_h=48)
_RESOLUTION_OPTION = _HORIZON_OPTION.format(cal=RESOLUTION_HORIZON_S["calendar"], cal_d=30,
                                            bus=RESOLUTION_HORIZON_S["business"], bus_h=200)


def _horizon(horizon_s, defaults: dict[str, float], clock: str) -> float:
    """The caller's horizon, else the default for the clock (seconds)."""
    return defaults[clock] if horizon_s is None else horizon_s


_DUR_COLS = {"tickets": ("created_at",)}


# ----------------------------------------------------------------------------------------------
# KPIs
# ----------------------------------------------------------------------------------------------
def _check_frt(ds) -> str | None:
    if ds.has("ticket_events") and len(ds.ticket_events):
        return None
    if "first_response_at" in ds.tickets.columns:
        return None
    return "needs ticket_events or tickets.first_response_at"


@register(
    name="first_response_time", title="First response time (FRT)", group="responsiveness",
    definition="Time from ticket creation to the first public reply by a human agent; bots and "
               "internal notes do not count. For agent-opened tickets the clock starts at the "
               "customer's first message. Unanswered tickets are censored at the cut-off.",
    formula="Kaplan-Meier median of (first public agent reply - start), censored at cut-off",
    unit="seconds", higher_is_better=False, stat="duration", basis="created", clock="business",
    tables=("tickets",), columns=_DUR_COLS, segments=("channel", "priority", "team", "agent_id"),
    check=_check_frt, options=_RESPONSE_OPTION,
)
def first_response_time(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                        horizon_s=None):
    """First response time per period and segment (Kaplan-Meier median, p90, censored count).

    Parameters
    ----------
    ds : Dataset
    period : {"D", "W", "M", "Q"}
    by : str or list of str, optional
        Ticket columns (channel, priority, category, team, agent_id, product, hour, weekday).
    basis : {"created", "event"}, default "created"
        ``created``: tickets created in the period (unanswered ones censored); ``event``: first
        responses given in the period.
    clock : {"business", "calendar"}, default "business"
    confidence : float
    method : ignored (Kaplan-Meier with Brookmeyer-Crowley intervals)
    horizon_s : float, optional
        Horizon of the restricted mean in seconds on the chosen clock; default
        :data:`RESPONSE_HORIZON_S`: 7 days (604800 s) on the calendar clock, 48 business hours
        (172800 s, about a working week) on the business clock.

    Returns
    -------
    DataFrame
        Columns of :func:`kpitools.kpis._core.finish`; ``value`` is the median in seconds,
        ``censored`` the tickets still unanswered at the cut-off, ``rmst`` (with ``rmst_ci_low``,
        ``rmst_ci_high``) the mean first response time restricted to ``rmst_horizon_s``: the area
        under the Kaplan-Meier curve up to the horizon, which counts unanswered tickets (unlike
        ``mean_observed``, biased low).

    Notes
    -----
    Start = ``created_at``, or for an agent-opened ticket the customer's first message; end =
    first ``agent_reply`` event at or after the start (``tickets.first_response_at`` when there
    are no events). Agent-opened tickets without a customer message are excluded (note).
    """
    f = ticket_facts(ds)
    applicable = f["frt_start"].notna()
    k = int((~applicable).sum())
    note = f"{k} agent-opened ticket(s) without a customer message excluded" if k else None
    return Durations("tickets", "created_at", f["frt_start"], f["frt_end"], include=applicable.to_numpy(),
                     note=note, horizon=_horizon(horizon_s, RESPONSE_HORIZON_S, clock))


@register(
    name="reply_time", title="Reply time (every customer wait)", group="responsiveness",
    definition="For every customer message waiting for an answer, time to the next public human "
               "agent reply; summarised over all waits, not only the first.",
    formula="Kaplan-Meier median of (next public agent reply - waiting customer message)",
    unit="seconds", higher_is_better=False, stat="duration", basis="created", clock="business",
    tables=("tickets", "ticket_events"), columns=_DUR_COLS, segments=("channel", "priority", "team"),
    options=_RESPONSE_OPTION,
)
def reply_time(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
               horizon_s=None):
    """Reply time over every customer wait (see :func:`reply_waits`): Kaplan-Meier median,
    p90 and censored count over all waits, not only the first.

    ``basis="created"`` puts each wait in the period its ticket was created; ``"event"`` in the
    period the reply was given.
    """
    w = reply_waits(ds)
    return Durations("tickets", "created_at", w["start"], w["end"], pos=facts.of(ds).reply_wait_pos,
                     horizon=_horizon(horizon_s, RESPONSE_HORIZON_S, clock))


def _check_res(col):
    def check(ds):
        if col in ds.tickets.columns or has_status_events(ds):
            return None
        return f"needs tickets.{col} or ticket_events status changes (column 'status')"
    return check


@register(
    name="first_resolution_time", title="First resolution time", group="responsiveness",
    definition="Time from ticket creation to the first time it is solved; open tickets censored.",
    formula="Kaplan-Meier median of (first solved - created)",
    unit="seconds", higher_is_better=False, stat="duration", basis="created", clock="calendar",
    tables=("tickets",), columns=_DUR_COLS, segments=("channel", "priority", "category", "team"),
    check=_check_res("first_resolved_at"), options=_RESOLUTION_OPTION,
)
def first_resolution_time(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                          horizon_s=None):
    """First resolution time: creation to the first time the ticket is solved (default clock
    calendar); tickets never solved by the cut-off are censored."""
    f = ticket_facts(ds)
    return Durations("tickets", "created_at", f["created_at"], f["first_resolved"],
                     horizon=_horizon(horizon_s, RESOLUTION_HORIZON_S, clock))


@register(
    name="full_resolution_time", title="Full resolution time", group="responsiveness",
    definition="Time from ticket creation to its final resolution after any reopens; tickets open "
               "at the cut-off (including reopened ones) are censored.",
    formula="Kaplan-Meier median of (final resolution - created)",
    unit="seconds", higher_is_better=False, stat="duration", basis="created", clock="calendar",
    tables=("tickets",), columns=_DUR_COLS, segments=("channel", "priority", "category", "team"),
    check=_check_res("resolved_at"), options=_RESOLUTION_OPTION,
)
def full_resolution_time(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                         horizon_s=None):
    """Full resolution time: creation to the final resolution after any reopens (default clock
    calendar); tickets open at the cut-off, reopened ones included, are censored."""
    f = ticket_facts(ds)
    return Durations("tickets", "created_at", f["created_at"], f["resolved"],
                     horizon=_horizon(horizon_s, RESOLUTION_HORIZON_S, clock))


def _status_time(ds, spec, statuses, *, period, by, basis, clock, confidence, method, horizon_s):
    iv = status_intervals(ds)
    fx = facts.of(ds)
    f = ticket_facts(ds)
    code = fx.status_interval_code  # each span's ticket (distinct id), once per dataset
    first_row = np.flatnonzero(~f["ticket_id"].duplicated().to_numpy())
    res = f["resolved"].take(first_row[np.maximum(code, 0)]).reset_index(drop=True).where(code >= 0)
    # spans after the final resolution do not count; a solved ticket's time is complete
    sel = iv["status"].isin(statuses).to_numpy()
    end = iv["end"].where(res.isna() | (iv["end"] <= res), res)
    sec = np.nan_to_num(np.clip(elapsed(ds, iv.loc[sel, "start"], end[sel], clock), 0, None))  # NaN adds 0
    known = code[sel] >= 0
    total = pd.Series(np.bincount(code[sel][known], weights=sec[known], minlength=len(fx.ticket_index))[fx.ticket_code])
    observed = f["resolved"].notna() & (f["resolved"] <= ds.cutoff)
    tz = ds.settings.timezone
    if basis == "created":
        when = f["created_at"]
        per = fx.period("tickets", "created_at", period)
    else:
        when = f["resolved"].where(observed)
        per = to_period(when, period, tz)
    ok = when.notna()
    if basis == "event":
        ok &= observed
    seg = ticket_segments(ds, by)
    rows = pd.concat([pd.DataFrame({"period": per.where(ok), "duration": total,
                                    "observed": observed}), seg], axis=1)
    agg = Agg.from_durations(rows, by=by, periods=span(f["created_at"], when[ok], period=period, tz=tz),
                             levels=_ticket_levels(ds, by), horizon=_horizon(horizon_s, RESOLUTION_HORIZON_S, clock),
                             note="per ticket total; unresolved tickets censored at the cut-off")
    return finish(agg, spec=spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                  confidence=confidence, method=method)


@register(
    name="requester_wait_time", title="Requester wait time", group="responsiveness",
    definition="Total time a ticket spends in statuses where the requester waits for support "
               "(new, open, on_hold), up to its final resolution; unresolved tickets censored.",
    formula="Kaplan-Meier median over tickets of the summed time in new/open/on_hold",
    unit="seconds", higher_is_better=False, stat="duration", basis="created", clock="calendar",
    tables=("tickets", "ticket_events"), columns={"ticket_events": ("status",)},
    segments=("channel", "priority", "team"), options=_RESOLUTION_OPTION,
)
def requester_wait_time(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                        horizon_s=None):
    """Requester wait time from status events (Zendesk's definition: new + open + on-hold).

    A ticket's total stays censored until its final resolution, because more waiting may follow.
    """
    return _status_time(ds, requester_wait_time.spec, REQUESTER_WAIT, period=period, by=by, basis=basis,
                        clock=clock, confidence=confidence, method=method, horizon_s=horizon_s)


@register(
    name="on_hold_time", title="On-hold time", group="responsiveness",
    definition="Total time a ticket spends on hold (waiting for a third party) up to its final "
               "resolution; unresolved tickets censored.",
    formula="Kaplan-Meier median over tickets of the summed time in on_hold",
    unit="seconds", higher_is_better=False, stat="duration", basis="created", clock="calendar",
    tables=("tickets", "ticket_events"), columns={"ticket_events": ("status",)},
    segments=("channel", "priority", "team"), options=_RESOLUTION_OPTION,
)
def on_hold_time(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                 horizon_s=None):
    """On-hold time from status events, summed per ticket up to its final resolution."""
    return _status_time(ds, on_hold_time.spec, ON_HOLD, period=period, by=by, basis=basis,
                        clock=clock, confidence=confidence, method=method, horizon_s=horizon_s)


def _level_kpi(ds, spec, values: pd.Series, include: pd.Series, *, period, by, basis, confidence, method):
    """Median (value) and mean of a per-ticket quantity over resolved tickets."""
    f = ticket_facts(ds)
    tz = ds.settings.timezone
    when = f["created_at"] if basis == "created" else f["first_resolved"]
    ok = include & when.notna() & values.notna()
    rows = pd.concat([pd.DataFrame({"period": to_period(when, period, tz).where(ok), "x": values.astype("float64")}),
                      ticket_segments(ds, by)], axis=1)
    rows = rows[ok]
    keys = ["period", *by]
    g = rows.groupby(keys, observed=True, sort=True)["x"]
    table = pd.DataFrame({"value": g.median(), "n": g.size().astype("float64"), "mean": g.mean()}).reset_index()
    # values: the per-ticket quantities behind each cell's median (the Dask engine merges their counts)
    agg = Agg(table=table, periods=span(f["created_at"], when[ok], period=period, tz=tz),
              levels=_ticket_levels(ds, by), extras={"mean": np.nan},
              values=rows[[*keys, "x"]].rename(columns={"x": "value"}).reset_index(drop=True))
    return finish(agg, spec=spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method)


@register(
    name="replies_per_resolution", title="Replies per resolution", group="responsiveness",
    definition="Public human agent replies on resolved tickets; the median is reported (mean as an extra).",
    formula="median over resolved tickets of public agent replies",
    unit="count", higher_is_better=False, stat="level", basis="created",
    tables=("tickets",), columns={}, segments=("channel", "category", "team", "agent_id"),
    check=lambda ds: (None if (ds.has("ticket_events") or "agent_replies" in ds.tickets.columns)
                      else "needs ticket_events or tickets.agent_replies") or _check_res("first_resolved_at")(ds),
)
def replies_per_resolution(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Median public agent replies per resolved ticket (``mean`` column: the mean).

    ``basis="created"``: resolved tickets created in the period; ``"event"``: tickets first
    resolved in the period.
    """
    f = ticket_facts(ds)
    return _level_kpi(ds, replies_per_resolution.spec, f["replies"], f["first_resolved"].notna(),
                      period=period, by=by, basis=basis, confidence=confidence, method=method)


@register(
    name="agent_touches", title="Agent touches per ticket", group="responsiveness",
    definition="Agent actions on a ticket: public replies, internal notes and status changes by an "
               "agent; median over tickets (mean as an extra).",
    formula="median over tickets of agent actions",
    unit="count", higher_is_better=False, stat="level", basis="created",
    tables=("tickets", "ticket_events"), columns={"ticket_events": ("author_id",)},
    segments=("channel", "category", "team"),
)
def agent_touches(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Median agent touches per ticket (``mean`` column: the mean); all tickets created in the
    period (``basis="created"``) or first resolved in it (``"event"``)."""
    f = ticket_facts(ds)
    include = pd.Series(True, index=f.index) if basis == "created" else f["first_resolved"].notna()
    return _level_kpi(ds, agent_touches.spec, f["touches"], include, period=period, by=by, basis=basis,
                      confidence=confidence, method=method)


@register(
    name="ticket_handle_time", title="Ticket handle time (AHT for tickets)", group="responsiveness",
    definition="Agent handle time recorded on tickets (tickets.handle_s): mean with a seeded bootstrap "
               "interval, median as an extra.",
    formula="mean of handle_s over tickets with a recorded handle time",
    unit="seconds", higher_is_better=False, stat="mean", basis="created",
    tables=("tickets",), columns={"tickets": ("handle_s",)}, segments=("channel", "category", "team", "agent_id"),
    method="bootstrap",
    options=(f"method 'bootstrap' (default: seeded percentile bootstrap of the mean) or 't'; "
             f"seed (default {BOOTSTRAP_SEED}) and n_boot (default {BOOTSTRAP_N}) of the bootstrap"),
)
def ticket_handle_time(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                       seed=BOOTSTRAP_SEED, n_boot=BOOTSTRAP_N):
    """Mean agent handle time per ticket (seconds), with ``median`` as an extra column.

    ``basis="created"``: tickets created in the period; ``"event"``: tickets first resolved in it.
    The interval is a seeded percentile bootstrap of the mean (``method="bootstrap"``, default;
    ``seed``, ``n_boot``) or the Student t interval (``method="t"``).
    """
    t = ds.tickets
    f = ticket_facts(ds)
    tz = ds.settings.timezone
    when = f["created_at"] if basis == "created" else f["first_resolved"]
    x = t["handle_s"].astype("Float64").astype("float64").reset_index(drop=True)
    rows = pd.concat([pd.DataFrame({"period": to_period(when, period, tz), "x": x}),
                      ticket_segments(ds, by)], axis=1)
    agg = Agg.from_values(rows, "x", by=by, periods=span(f["created_at"], when, period=period, tz=tz),
                          levels=_ticket_levels(ds, by), extras={"median": np.nan}, keep_values=True)
    med = rows[rows["x"].notna() & rows["period"].notna()].groupby(["period", *by], observed=True)["x"].median()
    agg.table = agg.table.merge(med.rename("median").reset_index(), on=["period", *by], how="left")
    return finish(agg, spec=ticket_handle_time.spec, ds=ds, period=period, by=by, basis=basis, clock=None,
                  confidence=confidence, method=method, seed=seed, n_boot=n_boot)
