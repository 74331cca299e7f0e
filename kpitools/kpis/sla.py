"""SLA compliance per target (first response, next reply, resolution) and priority.

Each ticket (or each customer wait, for next reply) is measured against the target of its
priority from ``dataset.yml`` (``sla: <target>: <priority>: {target: 8h, clock: business}``):

- *achieved*: completed within the target;
- *breached*: completed after the target, or still open at the cut-off and already past it;
- *pending*: still open and inside the target; excluded from the denominator and reported.

Compliance = achieved / (achieved + breached). Breach minutes = (elapsed - target) / 60 on the
target's clock (for open breached items: elapsed up to the cut-off).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools import facts
from kpitools.kpis._core import (
    MISSING,
    Agg,
    KPIUnavailable,
    finish,
    register,
    span,
    ticket_levels,
    to_period,
)
from kpitools.kpis.responsiveness import _check_frt, reply_waits, ticket_facts

__all__ = ["sla_first_response", "sla_next_reply", "sla_resolution", "sla_items"]

_EXTRAS = {"achieved": 0.0, "breached": 0.0, "pending": 0.0, "breach_minutes_median": np.nan}


def sla_items(ds, target: str, *, clock: str | None = None) -> pd.DataFrame:
    """Per item (ticket or wait) SLA outcome for one target.

    Parameters
    ----------
    ds : Dataset
    target : {"first_response", "next_reply", "resolution"}
    clock : {"business", "calendar"}, optional
        Override the configured clock of every priority.

    Returns
    -------
    DataFrame
        ``ticket_id``, ``priority``, ``start``, ``end`` (NaT: not completed by the cut-off),
        ``target_s``, ``clock``, ``elapsed_s`` (to completion or cut-off), ``status``
        (achieved, breached, pending; NaN when the priority has no target), ``breach_min``.
    """
    f = ticket_facts(ds)
    prio = ds.tickets["priority"].reset_index(drop=True).astype("str")
    if target == "first_response":
        items = pd.DataFrame({"ticket_id": f["ticket_id"], "start": f["frt_start"], "end": f["frt_end"],
                              "priority": prio})
    elif target == "resolution":
        items = pd.DataFrame({"ticket_id": f["ticket_id"], "start": f["created_at"], "end": f["resolved"],
                              "priority": prio})
    elif target == "next_reply":
        w = reply_waits(ds)
        later = ~w["first"].to_numpy()
        pos = facts.of(ds).reply_wait_pos[later]
        items = pd.DataFrame({"ticket_id": w["ticket_id"].to_numpy()[later], "start": w["start"].array[later],
                              "end": w["end"].array[later]})  # .array: no Timestamp objects
        items["priority"] = pd.Series(prio.to_numpy()[np.maximum(pos, 0)]).where(pos >= 0).astype("str")
    else:  # pragma: no cover - guarded by the KPI functions
        raise ValueError(f"target must be first_response, next_reply or resolution, got {target!r}")
    for c in ("start", "end"):
        items[c] = pd.to_datetime(items[c], utc=True).dt.as_unit("ns")
    items = items[items["start"].notna() & (items["start"] <= ds.cutoff)].reset_index(drop=True)
    conf = {}
    for p in pd.unique(items["priority"]):
        v = ds.settings.sla(target, p)
        if v is not None:
            conf[p] = (v[0], clock or v[1])
    items["target_s"] = items["priority"].map({p: v[0] for p, v in conf.items()}).astype("float64")
    items["clock"] = items["priority"].map({p: v[1] for p, v in conf.items()}).astype("str")
    el, done = facts.censor(items["start"], items["end"], ds.cutoff, items["clock"].to_numpy(dtype=object),
                            calendar=ds.calendar, include=items["clock"].isin(["business", "calendar"]).to_numpy())
    done = pd.Series(done, index=items.index)
    items["end"] = items["end"].where(done)
    items["elapsed_s"] = el
    has = items["target_s"].notna().to_numpy()
    over = el > items["target_s"].to_numpy()
    status = np.where(over, "breached", np.where(done.to_numpy(), "achieved", "pending"))
    items["status"] = pd.Series(np.where(has, status, None), dtype="str")
    items["breach_min"] = np.where(has & over, (el - items["target_s"].to_numpy()) / 60.0, np.nan)
    return items


def _sla(ds, spec, target, *, period, by, basis, clock, confidence, method, per_priority):
    if not ds.settings.sla_targets or target not in ds.settings.sla_targets:
        raise KPIUnavailable(f"{spec.name}: no SLA '{target}' configured in the settings")
    by = list(by)
    if per_priority and "priority" not in by:
        by = [*by, "priority"]
    items = sla_items(ds, target, clock=clock)
    tz = ds.settings.timezone
    # the items' ticket rows, once: periods and segments come from the ticket facts
    f = facts.of(ds)
    code = f.ticket_index.get_indexer(items["ticket_id"])
    first_row = f.ticket_first_row
    pos = np.where(code >= 0, first_row[np.maximum(code, 0)], -1)
    created = f.ts("tickets", "created_at").take(np.maximum(pos, 0)).reset_index(drop=True).where(pos >= 0)
    has = items["status"].notna()
    seg = pd.DataFrame({c: np.where(pos >= 0, f.segment("tickets", c, ts="created_at").to_numpy()[np.maximum(pos, 0)],
                                    MISSING) for c in by}, index=items.index).astype("str")
    st = items["status"]
    rows = pd.concat([pd.DataFrame({
        "period": to_period(created, period, tz), "no_target": (~has).astype(float),
        "achieved": (st == "achieved").astype(float), "breached": (st == "breached").astype(float),
        "pending": (st == "pending").astype(float), "one": 1.0,
        "applicable": st.isin(["achieved", "breached"]).astype(float),
        "breach_min": items["breach_min"]}), seg], axis=1)
    t = ds.tickets
    levels = ticket_levels(ds, by)
    rows["one"] = has.astype(float)
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "achieved", "denominator": "applicable", "n": "one",
                                           "no_target": "no_target",
                                           "achieved": "achieved", "breached": "breached", "pending": "pending"},
                        periods=span(t["created_at"], period=period, tz=tz), levels=levels,
                        denominator_label="applicable (achieved + breached)", extras=dict(_EXTRAS),
                        notes={"no_target": f"{{k}} item(s) of a priority without a '{target}' target left out"})
    med = rows[rows["breach_min"].notna() & rows["period"].notna()].groupby(["period", *by], observed=True)[
        "breach_min"].median().rename("breach_minutes_median").reset_index()
    agg.table = agg.table.merge(med, on=["period", *by], how="left")
    # values: the breach minutes behind each cell's median (the Dask engine merges their counts)
    agg.values = rows.loc[rows["breach_min"].notna() & rows["period"].notna(), ["period", *by, "breach_min"]
                          ].rename(columns={"breach_min": "value"}).reset_index(drop=True)
    # echo each row's clock: the priority's configured clock (or the override)
    if "priority" in by:
        agg.clock = {"priority": {p: (clock or (ds.settings.sla(target, p) or (None, None))[1])
                                  for p in levels["priority"]}}
    elif clock is None:
        clocks = sorted({v[1] for p in ticket_levels(ds, ["priority"])["priority"]
                         if (v := ds.settings.sla(target, p)) is not None})
        agg.clock = clocks[0] if len(clocks) == 1 else "per priority"
    # all pending (no achieved or breached item): say so instead of a bare "zero denominator"
    agg.relabel = {"pending": ("zero denominator: applicable (achieved + breached)",
                               "zero denominator: all items pending")}
    return finish(agg, spec=spec, ds=ds, period=period, by=by, basis=basis, clock=clock, confidence=confidence,
                  method=method)




def _sla_check(target):
    def check(ds):
        if target not in (ds.settings.sla_targets or []):
            return f"no SLA '{target}' configured"
        if target == "first_response":
            return _check_frt(ds)
        if target == "next_reply" and not ds.has("ticket_events"):
            return "table 'ticket_events' absent"
        if target == "resolution" and not ({"first_resolved_at", "resolved_at"} & set(ds.tickets.columns)
                                           or ds.has("ticket_events")):
            # without any resolution data every ticket would look open and breached
            return "needs first_resolved_at, resolved_at or ticket_events"
        return None
    return check


_COMMON = dict(unit="share", higher_is_better=True, stat="proportion", basis="created", bases=("created",),
               segments=("priority", "channel", "team"), clock=None, clock_option=True,
               options="per_priority: add priority to by (default True)")


@register(
    name="sla_first_response", title="SLA compliance: first response", group="sla",
    definition="Tickets answered within the first-response target of their priority / tickets "
               "achieved or breached; open tickets past the target are breached, open ones inside it pending.",
    formula="achieved / (achieved + breached)",
    tables=("tickets",), columns={"tickets": ("priority",)}, check=_sla_check("first_response"), **_COMMON,
)
def sla_first_response(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                       per_priority=True):
    """SLA compliance for target 'first_response' per period and priority.

    Parameters
    ----------
    ds : Dataset
    period : {"D", "W", "M", "Q"}
    by : str or list of str, optional
        Ticket segments; ``priority`` is added unless ``per_priority=False``.
    basis : {"created"}
        Items of tickets created in the period.
    clock : {"business", "calendar"}, optional
        Override the clock configured per priority (``ds.settings.sla``).
    per_priority : bool, default True

    Returns
    -------
    DataFrame
        Columns of :func:`kpitools.kpis._core.finish` (value = achieved / (achieved + breached),
        Wilson interval, ``n`` = all items incl. pending) plus ``achieved``, ``breached``,
        ``pending``, ``breach_minutes_median``.
    """
    return _sla(ds, sla_first_response.spec, "first_response", period=period, by=by, basis=basis,
                clock=clock,
                confidence=confidence, method=method, per_priority=per_priority)


@register(
    name="sla_next_reply", title="SLA compliance: next reply", group="sla",
    definition="Customer waits after the first response answered within the next-reply target of the "
               "ticket's priority / waits achieved or breached.",
    formula="achieved / (achieved + breached)",
    tables=("tickets", "ticket_events"), columns={"tickets": ("priority",)}, check=_sla_check("next_reply"),
    **_COMMON,
)
def sla_next_reply(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                   per_priority=True):
    """SLA compliance for target 'next_reply' per period and priority.

    Parameters
    ----------
    ds : Dataset
    period : {"D", "W", "M", "Q"}
    by : str or list of str, optional
        Ticket segments; ``priority`` is added unless ``per_priority=False``.
    basis : {"created"}
        Items of tickets created in the period.
    clock : {"business", "calendar"}, optional
        Override the clock configured per priority (``ds.settings.sla``).
    per_priority : bool, default True

    Returns
    -------
    DataFrame
        Columns of :func:`kpitools.kpis._core.finish` (value = achieved / (achieved + breached),
        Wilson interval, ``n`` = all items incl. pending) plus ``achieved``, ``breached``,
        ``pending``, ``breach_minutes_median``.
    """
    return _sla(ds, sla_next_reply.spec, "next_reply", period=period, by=by, basis=basis,
                clock=clock,
                confidence=confidence, method=method, per_priority=per_priority)


@register(
    name="sla_resolution", title="SLA compliance: resolution", group="sla",
    definition="Tickets finally resolved within the resolution target of their priority / tickets "
               "achieved or breached.",
    formula="achieved / (achieved + breached)",
    tables=("tickets",), columns={"tickets": ("priority",)}, check=_sla_check("resolution"), **_COMMON,
)
def sla_resolution(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                   per_priority=True):
    """SLA compliance for target 'resolution' per period and priority.

    Parameters
    ----------
    ds : Dataset
    period : {"D", "W", "M", "Q"}
    by : str or list of str, optional
        Ticket segments; ``priority`` is added unless ``per_priority=False``.
    basis : {"created"}
        Items of tickets created in the period.
    clock : {"business", "calendar"}, optional
        Override the clock configured per priority (``ds.settings.sla``).
    per_priority : bool, default True

    Returns
    -------
    DataFrame
        Columns of :func:`kpitools.kpis._core.finish` (value = achieved / (achieved + breached),
        Wilson interval, ``n`` = all items incl. pending) plus ``achieved``, ``breached``,
        ``pending``, ``breach_minutes_median``.
    """
    return _sla(ds, sla_resolution.spec, "resolution", period=period, by=by, basis=basis,
                clock=clock,
                confidence=confidence, method=method, per_priority=per_priority)
