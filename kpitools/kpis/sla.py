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
from kpitools.kpis._core import KPIUnavailable, Sums, register
from kpitools.kpis.responsiveness import _check_frt, reply_waits, ticket_facts

__all__ = ["sla_first_response", "sla_next_reply", "sla_resolution", "sla_items"]

_EXTRAS = {"achieved": 0.0, "breached": 0.0, "pending": 0.0, "breach_minutes_median": np.nan}


def _outcomes(ds, target: str, clock: str | None) -> dict:
    """Per item (ticket or wait) of one SLA target, as arrays (built once per dataset, target and
    clock): ``pos`` (row of the item's ticket: its first row), ``start``/``end`` (ns), ``priority``
    (text or NaN), ``target_s``, ``clock``, ``elapsed_s``, ``done``, ``over`` and ``keep`` (items
    started by the cut-off, the ones measured)."""
    f = facts.of(ds)
    tf = ticket_facts(ds)
    cutoff = facts.to_ns(pd.Series([ds.cutoff]))[0]
    if target == "next_reply":
        w = reply_waits(ds)
        later = ~w["first"].to_numpy()
        pos = f.reply_wait_pos[later]
        ids = pd.Series(w["ticket_id"].to_numpy()[later], dtype="str")
        start, end = facts.to_ns(w["start"])[later], facts.to_ns(w["end"])[later]
        row = pos
    else:
        n = len(tf)
        row = np.arange(n)
        pos = f.ticket_first_row[f.ticket_code] if n else np.zeros(0, dtype=np.int64)
        ids = tf["ticket_id"]
        start = facts.to_ns(tf["frt_start"] if target == "first_response" else tf["created_at"])
        end = facts.to_ns(tf["frt_end"] if target == "first_response" else tf["resolved"])
    # the priority of each item's own ticket row, looked up per distinct priority
    pcode, puniq = facts.factorize(f.table("tickets")["priority"])
    pcode = np.where(row >= 0, pcode[np.maximum(row, 0)], -1) if len(pcode) else np.full(len(row), -1)
    values = [*puniq.to_numpy(dtype=object).tolist(), np.nan]  # code -1: no priority
    pcode = np.where(pcode >= 0, pcode, len(values) - 1)
    conf = [ds.settings.sla(target, v) for v in values]
    t_lut = np.array([np.nan if c is None else float(c[0]) for c in conf])
    c_lut = np.array([None if c is None else (clock or c[1]) for c in conf], dtype=object)
    keep = (start != facts.NAT) & (start <= cutoff)
    sel = np.flatnonzero(keep)
    pc_, st, en = pcode[sel], start[sel], end[sel]
    clocks = c_lut[pc_]
    el, done = facts.censor(facts.from_ns(st), facts.from_ns(en), ds.cutoff, clocks, calendar=ds.calendar,
                            include=np.array([c in ("business", "calendar") for c in c_lut], dtype=bool)[pc_])
    target_s = t_lut[pc_]
    return {"ids": ids, "sel": sel, "pos": pos[sel], "start": st, "end": en, "priority": np.asarray(values, dtype=object)[pc_],
            "target_s": target_s, "clock": clocks, "elapsed_s": el, "done": done, "over": el > target_s}


def _items(ds, target: str, clock: str | None) -> dict:
    return facts.of(ds).memo((_outcomes, target, clock), lambda: _outcomes(ds, target, clock))


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
    if target not in ("first_response", "next_reply", "resolution"):  # pragma: no cover - guarded by the KPIs
        raise ValueError(f"target must be first_response, next_reply or resolution, got {target!r}")
    it = _items(ds, target, clock)
    done, over, el, tgt = it["done"], it["over"], it["elapsed_s"], it["target_s"]
    has = ~np.isnan(tgt)
    status = np.where(over, "breached", np.where(done, "achieved", "pending"))
    items = pd.DataFrame({"ticket_id": it["ids"].take(it["sel"]).reset_index(drop=True).astype("str"),
                          "start": facts.from_ns(it["start"]),
                          "end": facts.from_ns(np.where(done, it["end"], facts.NAT)),
                          "priority": pd.Series(it["priority"], dtype="str")})
    items["target_s"] = tgt
    items["clock"] = pd.Series(it["clock"], dtype="str")
    items["elapsed_s"] = el
    items["status"] = pd.Series(np.where(has, status, None), dtype="str")
    items["breach_min"] = np.where(has & over, (el - tgt) / 60.0, np.nan)
    return items


def _sla(ds, spec, target, *, period, by, basis, clock, confidence, method, per_priority):
    """The declaration of one SLA KPI: sums of achieved / breached / pending items per cell of their
    ticket (period of creation, ticket segments), the median breach and the echoed clocks."""
    if not ds.settings.sla_targets or target not in ds.settings.sla_targets:
        raise KPIUnavailable(f"{spec.name}: no SLA '{target}' configured in the settings")
    by = list(by)
    if per_priority and "priority" not in by:
        by = [*by, "priority"]
    it = _items(ds, target, clock)
    done, over, el, tgt = it["done"], it["over"], it["elapsed_s"], it["target_s"]
    has = ~np.isnan(tgt)
    achieved, breached, pending = has & ~over & done, has & over, has & ~over & ~done
    f = facts.of(ds)
    agg = {"denominator_label": "applicable (achieved + breached)", "extras": dict(_EXTRAS),
           "notes": {"no_target": f"{{k}} item(s) of a priority without a '{target}' target left out"},
           # all pending (no achieved or breached item): say so instead of a bare "zero denominator"
           "relabel": {"pending": ("zero denominator: applicable (achieved + breached)",
                                   "zero denominator: all items pending")}}
    # echo each row's clock: the priority's configured clock (or the override)
    if "priority" in by:
        agg["clock"] = {"priority": {p: (clock or (ds.settings.sla(target, p) or (None, None))[1])
                                     for p in f.codes("tickets", "priority")[1]}}
    elif clock is None:
        clocks = sorted({v[1] for p in f.codes("tickets", "priority")[1]
                         if (v := ds.settings.sla(target, p)) is not None})
        agg["clock"] = clocks[0] if len(clocks) == 1 else "per priority"
    return Sums("tickets", "created_at", pos=it["pos"], by=by,
                sums={"numerator": achieved, "denominator": achieved | breached, "n": has, "no_target": ~has,
                      "achieved": achieved, "breached": breached, "pending": pending},
                medians={"breach_minutes_median": np.where(breached, (el - tgt) / 60.0, np.nan)}, agg=agg)


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
