"""Volume and flow KPIs: ticket volume, complaints, tickets per customer, contact rate, resolved,
backlog, net flow, opened-to-resolved ratio, resolution rate (docs/methods.md#volume-and-flow).

Periods are cut in the business timezone; ``created`` basis counts tickets created in the period,
``event`` basis counts events (resolutions) happening in it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools import facts
from kpitools.kpis._core import (
    PERIODS,
    Agg,
    KPIError,
    Sums,
    cells,
    period_bounds,
    period_range,
    register,
    span,
    ticket_levels,
    ticket_segments,
    to_period,
)
from kpitools.kpis.quality import RESOLVED_WHEN
from kpitools.kpis.responsiveness import SOLVED, _events, _has, ticket_facts

__all__ = [
    "ticket_volume",
    "complaints",
    "tickets_per_customer",
    "contact_rate",
    "resolved",
    "backlog",
    "net_flow",
    "opened_to_resolved",
    "resolution_rate",
    "backlog_age",
    "AGE_BUCKETS",
]

#: Age buckets of open tickets (upper bounds in days, label).
AGE_BUCKETS = ((1, "<1d"), (3, "1-3d"), (7, "3-7d"), (30, "7-30d"), (np.inf, ">30d"))


def _tickets_rows(ds, by, period, when: pd.Series, **cols) -> pd.DataFrame:
    """Row per ticket: period of ``when``, the ticket's segments, extra columns."""
    seg = ticket_segments(ds, by)
    base = pd.DataFrame({"period": to_period(when.reset_index(drop=True), period, ds.settings.timezone), **cols})
    return pd.concat([base, seg], axis=1)


def _levels(ds, by) -> dict[str, list[str]]:
    return ticket_levels(ds, by)


@register(
    name="ticket_volume", title="Ticket volume", group="volume",
    definition="Tickets created per period (by channel, category, priority, customer, hour of day, weekday).",
    formula="count of tickets with created_at in the period",
    unit="count", higher_is_better=None, stat="count", basis="created", bases=("created",),
    tables=("tickets",), columns={"tickets": ("created_at",)},
    segments=("channel", "category", "priority", "hour", "weekday"),
)
def ticket_volume(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Tickets created per period and segment.

    Parameters
    ----------
    ds : Dataset
    period : {"D", "W", "M", "Q"}
    by : str or list of str, optional
        Ticket columns, or ``hour`` (0-23) / ``weekday`` (mon..sun) of creation in the business
        timezone.

    Returns
    -------
    DataFrame
        Columns of :func:`kpitools.kpis._core.finish`; ``value`` = ``n`` = tickets created.
    """
    return Sums("tickets", "created_at", sums={"n": np.ones(len(ds.tickets))})


def _complaint_flag(ds) -> tuple[pd.Series, str]:
    t = ds.tickets.reset_index(drop=True)
    if _has(t, "is_complaint"):
        return t["is_complaint"].fillna(False).astype(bool), "flag is_complaint"
    if "category" in t.columns and t["category"].str.lower().eq("complaint").any():
        return t["category"].str.lower().eq("complaint").fillna(False).astype(bool), "category 'complaint'"
    raise KPIError("complaints: needs tickets.is_complaint or a category 'complaint'")


@register(
    name="complaints", title="Complaints", group="volume",
    definition="Tickets flagged as complaints (is_complaint, else category 'complaint') created per period; "
               "denominator = all tickets created (the complaint share is numerator / denominator).",
    formula="count of complaint tickets created in the period",
    unit="count", higher_is_better=False, stat="count", basis="created", bases=("created",),
    tables=("tickets",), columns={}, segments=("channel", "category", "product"),
    check=lambda ds: None if (_has(ds.tickets, "is_complaint") or (
        "category" in ds.tickets.columns and ds.tickets["category"].str.lower().eq("complaint").any()))
    else "needs tickets.is_complaint or a category 'complaint'",
)
def complaints(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Complaint tickets created per period; ``denominator`` = all tickets created."""
    flag, how = _complaint_flag(ds)
    c = flag.to_numpy(dtype=bool)
    return Sums("tickets", "created_at", sums={"numerator": c, "n": c, "denominator": np.ones(len(c))},
                agg={"note": f"complaints by {how}"})


@register(
    name="tickets_per_customer", title="Tickets per customer", group="volume",
    definition="Tickets created per distinct customer with a ticket in the period (tickets without "
               "customer_id are left out of both counts).",
    formula="tickets / distinct customer_id, per period",
    unit="ratio", higher_is_better=False, stat="ratio", basis="created", bases=("created",),
    tables=("tickets",), columns={"tickets": ("customer_id",)}, segments=("channel", "category"),
)
def tickets_per_customer(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Tickets / distinct customers with a ticket, per period and segment (``n`` = tickets)."""
    t = ds.tickets.reset_index(drop=True)
    known = t["customer_id"].notna()
    rows = _tickets_rows(ds, by, period, t["created_at"], one=known.astype(float).to_numpy(),
                         customer=t["customer_id"])
    keys = ["period", *by]
    r = rows[known & rows["period"].notna()]
    g = r.groupby(keys, observed=True, sort=True)
    table = pd.DataFrame({"numerator": g["one"].sum(), "denominator": g["customer"].nunique().astype(float)})
    table["n"] = table["numerator"]
    agg = Agg(table=table.reset_index(), levels=_levels(ds, by), denominator_label="customers",
              periods=span(t["created_at"], period=period, tz=ds.settings.timezone))
    return agg  # register estimates, sets targets and notes


@register(
    name="contact_rate", title="Contact rate", group="volume",
    definition="Tickets created per active user in the period (distinct users in user_activity).",
    formula="tickets created / distinct active users, per period",
    unit="ratio", higher_is_better=False, stat="ratio", basis="created", bases=("created",),
    tables=("tickets", "user_activity"), columns={}, segments=("channel", "category"),
)
def contact_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Tickets / active users per period; segments split the tickets, the denominator is all
    active users of the period (users carry no segments); ``n`` = active users."""
    t = ds.tickets
    tz = ds.settings.timezone
    rows = _tickets_rows(ds, by, period, t["created_at"], one=np.ones(len(t)))
    ua = ds.user_activity
    up = pd.to_datetime(ua["date"]).dt.to_period(PERIODS[period])
    active = ua.assign(period=up).groupby("period")["user_id"].nunique().astype(float)
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "one", "n": "one"}, levels=_levels(ds, by),
                        periods=span(t["created_at"], period=period, tz=tz), denominator_label="active users")
    if len(agg.periods) and len(active):
        agg.periods = period_range(min(agg.periods.min(), active.index.min()),
                                   max(agg.periods.max(), active.index.max()), period)
    # the denominator belongs to every segment of the period, also where no ticket was created
    grid = pd.MultiIndex.from_product([agg.periods] + [agg.levels[c] for c in by], names=["period", *by])
    full = grid.to_frame(index=False).merge(agg.table, on=["period", *by], how="left")
    full[["numerator", "n"]] = full[["numerator", "n"]].fillna(0.0)
    full["denominator"] = full["period"].map(active).fillna(0.0).to_numpy()
    full["n"] = full["denominator"]  # the population at risk: active users
    agg.table = full
    return agg  # register estimates, sets targets and notes


@register(
    name="resolved", title="Tickets resolved", group="volume",
    definition="Tickets whose first resolution falls in the period (event basis); created basis: "
               "tickets created in the period that are resolved by the cut-off.",
    formula="count of tickets with first solved time in the period",
    unit="count", higher_is_better=True, stat="count", basis="event",
    tables=("tickets",), columns={}, segments=("channel", "category", "priority", "team", "agent_id"),
    check=lambda ds: None if ("first_resolved_at" in ds.tickets.columns or "resolved_at" in ds.tickets.columns
                              or ds.has("ticket_events")) else "needs first_resolved_at, resolved_at or ticket_events",
)
def resolved(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Tickets resolved per period (first resolution; see :func:`ticket_facts`)."""
    f = ticket_facts(ds)
    fr = f["first_resolved"].where(f["first_resolved"] <= ds.cutoff)
    span_ = (f["created_at"], fr)
    if basis == "event":  # the period of the first resolution (shared with the quality KPIs)
        return Sums("tickets", RESOLVED_WHEN, times=fr, ts="created_at", span=span_,
                    sums={"n": np.ones(len(f))})
    return Sums("tickets", "fact:created_if_resolved", times=f["created_at"].where(fr.notna()), ts="created_at",
                span=span_, sums={"n": np.ones(len(f))})


def _transitions(ds) -> pd.DataFrame:
    """Backlog transitions: +1 when a ticket opens or reopens, -1 when it is solved (built once).

    From status events when present (exact reopen times), else +1 at creation and -1 at the final
    resolution (``resolved_at``; ``first_resolved_at`` when there is no final one). Columns
    ``pos`` (row of the ticket in ``ds.tickets``: the first row with its id; -1 for events of an
    unknown ticket), ``at`` and ``d``; only moves by the cut-off.
    """
    return facts.of(ds).memo((_transitions,), lambda: _build_transitions(ds))


def _build_transitions(ds) -> pd.DataFrame:
    fa = facts.of(ds)
    f = ticket_facts(ds)
    ev = _events(ds)
    pos = fa.ticket_pos("tickets")
    opened = pd.DataFrame({"pos": pos, "at": f["created_at"], "d": 1.0})
    if ev is not None and "status" in ev.columns and ev["status"].notna().any():
        sel = ((ev["kind"] == "status_change") & ev["status"].notna()).to_numpy()
        code = fa.event_code[sel]
        solved = ev["status"].isin(SOLVED).to_numpy()[sel]
        # events are sorted by ticket id: the previous status of a ticket is the row before
        tid = pd.factorize(ev.loc[sel, "ticket_id"])[0]
        prev = np.r_[False, solved[:-1] & (tid[1:] == tid[:-1])] if len(tid) else np.zeros(0, dtype=bool)
        d = np.where(solved & ~prev, -1.0, np.where(~solved & prev, 1.0, 0.0))
        first_row = fa.ticket_first_row
        mpos = np.where(code >= 0, first_row[np.maximum(code, 0)] if len(first_row) else -1, -1)
        moves = pd.DataFrame({"pos": mpos, "at": ev.loc[sel, "at"].reset_index(drop=True), "d": d})
        moves = moves[d != 0]
    else:
        end = f["resolved"].fillna(f["first_resolved"])
        moves = pd.DataFrame({"pos": pos, "at": end, "d": -1.0})[end.notna()]
    out = pd.concat([opened, moves.astype({"at": opened["at"].dtype})], ignore_index=True)
    return out[(out["at"] <= ds.cutoff).to_numpy()].reset_index(drop=True)


def _backlog_table(ds, by, period):
    """(periods, levels, table with the net moves ``d`` and the ``backlog`` per period x segment cell).

    Moves are placed on the grid (periods x levels, period-major) by integer codes: the period's
    position and each segment's code of the move's ticket; moves of unknown tickets count in the
    total only (they have no segment).
    """
    fa = facts.of(ds)
    tz = ds.settings.timezone
    tr = _transitions(ds)
    periods = span(fa.ts("tickets", "created_at"), pd.Series([ds.cutoff]), period=period, tz=tz)
    ppos = periods.get_indexer(to_period(tr["at"], period, tz))
    cell = ppos.astype(np.int64)
    ok = ppos >= 0
    pos = tr["pos"].to_numpy()
    levels, size = {}, 1
    for c in by:
        codes, lv = fa.codes("tickets", c, ts="created_at")
        levels[c] = list(lv)
        ok &= pos >= 0
        cell = cell * len(lv) + codes[np.maximum(pos, 0)]
        size *= len(lv)
    n_cells = len(periods) * size
    d = np.bincount(cell[ok], weights=tr["d"].to_numpy()[ok], minlength=n_cells) if n_cells else np.zeros(0)
    backlog = np.cumsum(d.reshape(len(periods), size), axis=0).ravel() if n_cells else np.zeros(0)
    keys = ["period", *by]
    grid = pd.MultiIndex.from_product([periods] + [pd.Index(levels[c], dtype="str") for c in by], names=keys)
    net = grid.to_frame(index=False)
    net["d"] = d
    net["backlog"] = backlog
    return periods, levels, net


@register(
    name="backlog", title="Backlog (open tickets at period end)", group="volume",
    definition="Tickets open at the end of the period: created before it and not solved at that "
               "moment (reopened tickets count as open again). The current period ends at the cut-off.",
    formula="sum over tickets of opens - solves before the period end",
    unit="count", higher_is_better=False, stat="count", basis="event", bases=("event",),
    tables=("tickets",), columns={}, segments=("channel", "priority", "team", "category"),
    check=resolved.spec.check,
)
def backlog(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Open tickets at each period end, per segment (status events give exact reopen times;
    without them a ticket is open from creation to its final resolution)."""
    periods, levels, net = _backlog_table(ds, by, period)
    net["n"] = net["backlog"]
    _, end = period_bounds(periods, ds.settings.timezone)
    notes = ({periods[-1]: f"counted at the cut-off {ds.cutoff:%Y-%m-%d %H:%M} UTC (period not over)"}
             if len(end) and end[-1] > ds.cutoff else {})
    agg = Agg(table=net[["period", *by, "n"]], periods=periods, levels=levels, period_notes=notes)
    return agg  # register estimates, sets targets and notes


def _created_resolved(ds, by, period) -> tuple[pd.DataFrame, pd.PeriodIndex, dict]:
    """Tickets created and first resolved per period x segment cell: ``(table, periods, levels)``.

    Two cell codes of the tickets shared with the other KPIs (by creation, as ticket_volume; by
    first resolution, as resolved on the event basis), counted with bincount and joined on the
    few observed cells; a cell appears when something was created or resolved in it.
    """
    f = ticket_facts(ds)
    fr = f["first_resolved"].where(f["first_resolved"] <= ds.cutoff)
    keys = ["period", *by]
    parts = []
    for col, (code, cell_keys) in (("created", cells(ds, "tickets", "created_at", period, by)),
                                   ("resolved", cells(ds, "tickets", RESOLVED_WHEN, period, by, "created_at",
                                                      times=fr))):
        parts.append(cell_keys.assign(**{col: np.bincount(code[code >= 0], minlength=len(cell_keys)).astype(float)}))
    table = parts[0].merge(parts[1], on=keys, how="outer")
    table[["created", "resolved"]] = table[["created", "resolved"]].fillna(0.0)
    periods = span(f["created_at"], fr, period=period, tz=ds.settings.timezone)
    fa = facts.of(ds)
    levels = {c: list(fa.codes("tickets", c, ts="created_at")[1]) for c in by}
    return table, periods, levels


@register(
    name="net_flow", title="Net flow (created - resolved)", group="volume",
    definition="Tickets created minus tickets first resolved in the period (numerator = created, "
               "denominator = resolved).",
    formula="created in period - first resolved in period",
    unit="count", higher_is_better=False, stat="count", basis="event", bases=("event",),
    tables=("tickets",), columns={}, segments=("channel", "priority", "team"),
    check=resolved.spec.check,
)
def net_flow(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Created minus resolved per period: ``value`` = numerator - denominator."""
    t, periods, levels = _created_resolved(ds, by, period)
    table = t[["period", *by]].assign(numerator=t["created"], denominator=t["resolved"],
                                      value=t["created"] - t["resolved"], n=t["created"] + t["resolved"])
    return Agg(table=table, periods=periods, levels=levels)  # register estimates, sets targets and notes


@register(
    name="opened_to_resolved", title="Opened-to-resolved ratio", group="volume",
    definition="Tickets created / tickets first resolved in the same period; above 1 the backlog grows.",
    formula="created in period / resolved in period",
    unit="ratio", higher_is_better=False, stat="ratio", basis="event", bases=("event",),
    tables=("tickets",), columns={}, segments=("channel", "priority", "team"),
    check=resolved.spec.check,
)
def opened_to_resolved(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Created / resolved per period (``n`` = created + resolved)."""
    t, periods, levels = _created_resolved(ds, by, period)
    table = t[["period", *by]].assign(numerator=t["created"], denominator=t["resolved"],
                                      n=t["created"] + t["resolved"])
    return Agg(table=table, periods=periods, levels=levels, denominator_label="resolved tickets")  # register estimates, sets targets and notes


@register(
    name="resolution_rate", title="Resolution rate", group="volume",
    definition="Share of the tickets created in the period that are resolved by the cut-off "
               "(recent periods are not yet mature).",
    formula="tickets created in period and resolved / tickets created in period",
    unit="share", higher_is_better=True, stat="proportion", basis="created", bases=("created",),
    tables=("tickets",), columns={}, segments=("channel", "priority", "category", "team"),
    check=resolved.spec.check,
)
def resolution_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None):
    """Resolved / received among tickets created in the period, with a Wilson interval.

    Returns
    -------
    DataFrame
        Columns of :func:`kpitools.kpis._core.finish` plus ``open_at_cutoff``: tickets of the
        cohort not yet resolved at the cut-off (``denominator - numerator``).

    Notes
    -----
    resolution rate = resolved / received among tickets created in the period (docs/methods.md#volume-and-flow),
    resolved meaning first resolved by the cut-off. It is a cohort KPI: a recent period's
    tickets have had less time to be resolved, so its rate is lower and still rising
    (cohort maturity); comparing it with an older, mature period mixes a real change with the
    cohort's age. Every period with tickets still open says so in ``note`` ("cohort still
    maturing: k ticket(s) still open at the cut-off"), and the scorecard marks it.
    """
    f = ticket_facts(ds)
    done = (f["first_resolved"].notna() & (f["first_resolved"] <= ds.cutoff)).to_numpy()
    return Sums("tickets", "created_at", sums={"numerator": done, "denominator": np.ones(len(f)),
                                               "open_at_cutoff": ~done},
                agg={"denominator_label": "tickets created", "extras": {"open_at_cutoff": 0.0},
                     "notes": {"open_at_cutoff": "cohort still maturing: {k} ticket(s) still open at the cut-off"}})


def backlog_age(ds, *, at=None, by=None) -> pd.DataFrame:
    """Open tickets at one instant, by age bucket.

    Parameters
    ----------
    ds : Dataset
    at : timestamp, optional
        The instant (default ``ds.cutoff``); naive values are read as UTC.
    by : str or list of str, optional
        Ticket segment columns.

    Returns
    -------
    DataFrame
        One row per (segment x) bucket in :data:`AGE_BUCKETS` order: ``at``, <by>, ``bucket``,
        ``n`` (open tickets), ``share`` (of the segment's open tickets; NaN when none),
        ``median_age_s`` (median age in seconds of the bucket's tickets).

    Notes
    -----
    Age = ``at`` - ``created_at`` (calendar time). Open means opens - solves before ``at`` > 0
    per ticket (see :func:`backlog`).
    """
    from kpitools.kpis._core import _check_by

    by = _check_by(by)
    at = ds.cutoff if at is None else pd.Timestamp(at)
    if at.tzinfo is None:
        at = at.tz_localize("UTC")
    at = at.tz_convert("UTC")
    f = ticket_facts(ds)
    tr = _transitions(ds)
    before = ((tr["at"] <= at) & (tr["pos"] >= 0)).to_numpy()
    state = np.bincount(tr["pos"].to_numpy()[before], weights=tr["d"].to_numpy()[before], minlength=len(f))
    is_open = state[facts.of(ds).ticket_pos("tickets")] > 0  # per ticket id (its first row)
    age_s = ((at - f["created_at"]) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)
    edges = np.array([b for b, _ in AGE_BUCKETS], dtype=float) * 86400.0
    labels = [lab for _, lab in AGE_BUCKETS]
    idx = np.searchsorted(edges, age_s, side="right")
    seg = ticket_segments(ds, by).copy()
    rows = pd.concat([seg, pd.DataFrame({"bucket": np.asarray(labels, dtype=object)[np.minimum(idx, len(labels) - 1)],
                                         "age": age_s})], axis=1)[is_open]
    levels = _levels(ds, by)
    grid = (pd.MultiIndex.from_product([levels[c] for c in by] + [labels], names=[*by, "bucket"]) if by
            else pd.Index(labels, name="bucket"))
    g = rows.groupby([*by, "bucket"], observed=True)["age"]
    out = pd.DataFrame({"n": g.size(), "median_age_s": g.median()}).reindex(grid).reset_index()
    out["n"] = out["n"].fillna(0).astype("int64")
    tot = out.groupby(by, observed=True)["n"].transform("sum") if by else pd.Series(out["n"].sum(), index=out.index)
    out["share"] = out["n"] / tot.where(tot > 0)
    out.insert(0, "at", at)
    out["bucket"] = out["bucket"].astype("str")
    return out[["at", *by, "bucket", "n", "share", "median_age_s"]]
