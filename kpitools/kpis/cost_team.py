"""Cost and team KPIs: cost per contact, cost per resolution, training per employee, agent workload.

Definitions (docs/methods.md#cost-and-team):

- *total support cost* of a period = sum of ``costs.amount`` of its months (every category);
  costs are monthly, so these KPIs exist for ``period="M"`` and ``"Q"`` only;
- *contacts handled* = tickets resolved in the period (first resolution, event basis, as the
  ``resolved`` KPI) + contacts answered in the period (``contacts.answered_at``). A call that
  also became a ticket counts twice (once answered, once when its ticket is resolved): both are
  work the support cost paid for;
- *resolved tickets* = tickets whose first resolution falls in the period (by the cut-off);
- *head count* = distinct agents with staffed time (``agent_days.staffed_s > 0``) in the period;
  the data carry no contracted hours, so it is a head count of active agents, not hours-based FTE.

Money is in the dataset currency (``ds.settings.currency``), named in the ``note`` column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpitools.kpis._core import (
    PERIODS,
    Agg,
    KPIError,
    KPIUnavailable,
    levels_of,
    period_range,
    register,
    segment_frame,
    to_period,
)

__all__ = ["cost_per_contact", "cost_per_resolution", "training_per_employee", "agent_workload"]


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _month_periods(months: pd.Series, period: str, name: str) -> pd.Series:
    """``period[M]`` values -> periods of ``period`` (M or Q); D and W are not available."""
    if period not in ("M", "Q"):
        raise KPIUnavailable(f"{name}: the table is monthly; use period 'M' or 'Q', got {period!r}")
    s = pd.Series(months)
    return s if period == "M" else s.dt.asfreq(PERIODS["Q"])


def _periods_of(p: pd.Series, period: str) -> pd.PeriodIndex:
    p = p.dropna()
    if p.empty:
        return pd.PeriodIndex([], freq=PERIODS[period])
    return period_range(p.min(), p.max(), period)


def _date_period(dates: pd.Series, period: str) -> pd.Series:
    return pd.Series(pd.to_datetime(dates)).dt.to_period(PERIODS[period])


def _resolved_times(ds) -> pd.Series:
    """First resolution time per ticket (NaT: not resolved by the cut-off), as the ``resolved`` KPI."""
    from kpitools.kpis.responsiveness import ticket_facts

    fr = ticket_facts(ds)["first_resolved"]
    return fr.where(fr <= ds.cutoff)


def _has_resolution(ds) -> bool:
    t = ds.tickets
    return ds.has("ticket_events") or any(
        c in t.columns and t[c].notna().any() for c in ("first_resolved_at", "resolved_at"))


def _no_segments(name: str, by) -> None:
    if by:
        raise KPIUnavailable(f"{name}: support costs carry no segment; call without by (got {list(by)})")


def _costs(ds, period: str, name: str) -> tuple[pd.Series, pd.Series, pd.PeriodIndex]:
    """(total cost per period, cost rows per period, the costs' period span)."""
    c = ds.costs
    p = _month_periods(c["month"], period, name)
    amount = pd.to_numeric(c["amount"], errors="coerce").astype("float64")
    g = pd.DataFrame({"period": p.to_numpy(), "amount": amount.to_numpy()}).groupby("period", sort=True)["amount"]
    return g.sum(), g.size().astype("float64"), _periods_of(p, period)


def _count_by_period(ts: pd.Series, period: str, tz: str) -> pd.Series:
    p = to_period(ts.dropna(), period, tz)
    return p.value_counts().astype("float64")


def _cost_agg(ds, period, total, rows, periods, handled: dict[str, pd.Series], label: str, note: str) -> Agg:
    table = pd.DataFrame({"period": periods})
    table["numerator"] = table["period"].map(total).astype("float64")
    table["n"] = table["period"].map(rows).fillna(0.0).astype("float64")
    den = pd.Series(0.0, index=table.index)
    for col, counts in handled.items():
        table[col] = table["period"].map(counts).fillna(0.0).astype("float64")
        den = den + table[col]
    table["denominator"] = den
    table = table[table["n"] > 0]
    return Agg(table=table, periods=periods, levels={}, denominator_label=label,
               extras=dict.fromkeys(handled, 0.0), note=note)


def _check_costs(ds) -> str | None:
    if not (ds.has("tickets") or ds.has("contacts")):
        return "needs tickets or contacts for the contacts handled"
    return None


# ----------------------------------------------------------------------------------------------
# cost KPIs
# ----------------------------------------------------------------------------------------------
@register(
    name="cost_per_contact", title="Cost per contact", group="cost",
    definition=("Total support cost of the period / contacts handled, where contacts handled = tickets "
                "resolved in the period (first resolution) + calls and chats answered in the period."),
    formula="sum(costs.amount) / (resolved tickets + answered contacts)",
    unit="currency", higher_is_better=False, stat="ratio", basis=None,
    tables=("costs",), columns={}, segments=(), check=_check_costs,
)
def cost_per_contact(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                     method=None) -> pd.DataFrame:
    """Cost per contact handled.

    Parameters
    ----------
    ds : Dataset
        Needs ``costs`` and ``tickets`` and/or ``contacts``.
    period : {"M", "Q"}
        Costs are monthly; ``D`` and ``W`` raise :class:`KPIUnavailable` (skipped by
        ``kpi_table``).
    by : None
        Costs carry no segment.
    basis, clock, confidence, method
        Not applicable (a ratio of totals, no interval).

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = cost per contact (currency), ``numerator`` = total
        cost, ``denominator`` = contacts handled, ``n`` = cost rows of the period, plus
        ``tickets_resolved`` and ``contacts_answered`` (the two parts of the denominator).

    Notes
    -----
    cost per contact = total support cost in the period / contacts handled (docs/methods.md#cost-and-team). The
    per-agent form (hourly cost / contacts handled per hour) is not the inverted "calls per hour
    / wage" some sources give.
    """
    _no_segments("cost_per_contact", by)
    total, rows, periods = _costs(ds, period, "cost_per_contact")
    tz = ds.settings.timezone
    handled = {}
    parts = []
    if ds.has("tickets") and _has_resolution(ds):
        handled["tickets_resolved"] = _count_by_period(_resolved_times(ds), period, tz)
        parts.append("resolved tickets")
    if ds.has("contacts") and "answered_at" in ds.contacts.columns:
        c = ds.contacts
        ans = c["answered_at"].where(~c["abandoned"].astype("boolean").fillna(False).to_numpy(dtype=bool))
        handled["contacts_answered"] = _count_by_period(ans, period, tz)
        parts.append("answered contacts")
    if not handled:
        raise KPIUnavailable("cost_per_contact: no resolved tickets or answered contacts to count")
    note = f"currency {ds.settings.currency}; contacts handled = {' + '.join(parts)}"
    agg = _cost_agg(ds, period, total, rows, periods, handled, "contacts handled", note)
    return agg  # register estimates, sets targets and notes


@register(
    name="cost_per_resolution", title="Cost per resolution", group="cost",
    definition="Total support cost of the period / tickets resolved in the period (first resolution).",
    formula="sum(costs.amount) / resolved tickets",
    unit="currency", higher_is_better=False, stat="ratio", basis=None,
    tables=("costs", "tickets"), columns={}, segments=(),
    check=lambda ds: None if _has_resolution(ds) else "needs first_resolved_at, resolved_at or ticket_events",
)
def cost_per_resolution(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                        method=None) -> pd.DataFrame:
    """Cost per resolved ticket.

    Parameters
    ----------
    ds : Dataset
        Needs ``costs`` and ``tickets`` (with resolution times or status events).
    period : {"M", "Q"}
    by, basis, clock, confidence, method
        As for :func:`cost_per_contact`.

    Returns
    -------
    DataFrame
        Framework columns with ``numerator`` = total cost, ``denominator`` = tickets resolved,
        ``n`` = cost rows, plus ``tickets_resolved``.

    Notes
    -----
    cost per resolution = total support cost / resolved tickets (docs/methods.md#cost-and-team).
    """
    _no_segments("cost_per_resolution", by)
    total, rows, periods = _costs(ds, period, "cost_per_resolution")
    handled = {"tickets_resolved": _count_by_period(_resolved_times(ds), period, ds.settings.timezone)}
    agg = _cost_agg(ds, period, total, rows, periods, handled, "resolved tickets",
                    f"currency {ds.settings.currency}")
    return agg  # register estimates, sets targets and notes


# ----------------------------------------------------------------------------------------------
# team KPIs
# ----------------------------------------------------------------------------------------------
def _training_source(ds, source):
    if source not in (None, "agent_days", "costs"):
        raise KPIError(f"source must be None, 'agent_days' or 'costs', got {source!r}")
    has_ad = ds.has_columns("agent_days", "training_spend")
    has_costs = ds.has("costs") and (ds.costs["category"].astype("str").str.lower() == "training").any()
    if source is None:
        source = "agent_days" if has_ad else ("costs" if has_costs else None)
    if source == "agent_days" and not has_ad:
        raise KPIUnavailable("training_per_employee: agent_days has no training_spend")
    if source == "costs" and not has_costs:
        raise KPIUnavailable("training_per_employee: costs has no 'training' rows")
    if source is None:
        raise KPIUnavailable("training_per_employee: no training spend (agent_days.training_spend or costs 'training')")
    return source


@register(
    name="training_per_employee", title="Training investment per employee", group="team",
    definition=("Training spend of the period / head count of agents active in the period (agents with "
                "staffed time in agent_days). Spend from agent_days.training_spend, else the 'training' "
                "rows of costs."),
    formula="training spend / distinct agents with staffed_s > 0",
    unit="currency", higher_is_better=True, stat="ratio", basis=None,
    tables=("agent_days",), columns={}, segments=("agent_id",),
    options="source=None ('agent_days' or 'costs')",
    check=lambda ds: None if (ds.has_columns("agent_days", "training_spend") or (
        ds.has("costs") and (ds.costs["category"].astype("str").str.lower() == "training").any()))
    else "no training spend (agent_days.training_spend or costs category 'training')",
)
def training_per_employee(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                          method=None, source=None) -> pd.DataFrame:
    """Training spend per active agent.

    Parameters
    ----------
    ds : Dataset
        Needs ``agent_days`` and a training spend (``agent_days.training_spend`` or ``costs``
        rows with category ``training``).
    period : {"D", "W", "M", "Q"}
        Any period with ``agent_days`` spend; ``M``/``Q`` only with costs.
    by : str or list of str, optional
        ``agent_id`` (agent_days spend only).
    source : {None, "agent_days", "costs"}
        Where the spend comes from; None picks agent_days when it has spend, else costs.

    Returns
    -------
    DataFrame
        Framework columns with ``numerator`` = training spend, ``denominator`` = head count,
        ``n`` = head count.

    Notes
    -----
    training investment per employee = training spend / head count (FTE) in the period
    (docs/methods.md#cost-and-team); head count here = agents with staffed time in the period.
    """
    source = _training_source(ds, source)
    a = ds.agent_days
    seg = segment_frame(ds, a, by, main="agent_days")
    p = _date_period(a["date"], period)
    staffed = pd.to_numeric(a["staffed_s"], errors="coerce").astype("float64").fillna(0.0)
    act = pd.concat([pd.DataFrame({"period": p, "agent_id": a["agent_id"].astype("str")}), seg.drop(
        columns=[c for c in seg.columns if c == "agent_id"])], axis=1)[staffed > 0]
    keys = ["period", *by]
    heads = act.groupby(keys, observed=True, sort=True)["agent_id"].nunique().astype("float64")
    if source == "agent_days":
        spend_rows = pd.concat([pd.DataFrame({"period": p, "spend": pd.to_numeric(
            a["training_spend"], errors="coerce").astype("float64").fillna(0.0)}), seg], axis=1)
        spend = spend_rows.groupby(keys, observed=True, sort=True)["spend"].sum()
        periods = _periods_of(p, period)
    else:
        if by:
            raise KPIUnavailable("training_per_employee: costs carry no agent; segments need agent_days.training_spend")
        c = ds.costs
        tr = c[c["category"].astype("str").str.lower() == "training"]
        cp = _month_periods(tr["month"], period, "training_per_employee")
        spend = pd.DataFrame({"period": cp.to_numpy(), "spend": pd.to_numeric(tr["amount"], errors="coerce")
                              .astype("float64").to_numpy()}).groupby("period", sort=True)["spend"].sum()
        periods = _periods_of(pd.concat([_month_periods(c["month"], period, "training_per_employee"),
                                         _date_period(a["date"], period)]), period)
    table = pd.concat([spend.rename("numerator"), heads.rename("denominator")], axis=1)
    table = table.reset_index()
    table["numerator"] = table["numerator"].fillna(0.0)
    table["denominator"] = table["denominator"].fillna(0.0)
    table["n"] = table["denominator"]
    agg = Agg(table=table, periods=periods, levels=levels_of(seg, by), denominator_label="active agents",
              note=f"currency {ds.settings.currency}; spend from {source}")
    return agg  # register estimates, sets targets and notes


def _check_workload(ds) -> str | None:
    t_ok = ds.has("tickets") and "agent_id" in ds.tickets.columns and _has_resolution(ds)
    c_ok = ds.has("contacts") and "agent_id" in ds.contacts.columns and "answered_at" in ds.contacts.columns
    return None if (t_ok or c_ok) else "needs tickets (agent_id, resolution) or contacts (agent_id, answered_at)"


@register(
    name="agent_workload", title="Agent workload", group="team",
    definition=("Tickets resolved plus calls and chats answered per agent in the period; the average is over "
                "agents who handled work or had staffed time in the period."),
    formula="(resolved tickets + answered contacts) / active agents",
    unit="count", higher_is_better=None, stat="ratio", basis=None,
    tables=("agents",), columns={}, segments=("agent_id", "team"), check=_check_workload,
)
def agent_workload(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                   method=None) -> pd.DataFrame:
    """Tickets and contacts handled per agent.

    Parameters
    ----------
    ds : Dataset
        Needs ``agents`` and tickets (``agent_id`` and resolution times) and/or contacts
        (``agent_id``, ``answered_at``); ``agent_days`` adds agents who were staffed but handled
        nothing.
    period : {"D", "W", "M", "Q"}
    by : str or list of str, optional
        ``agent_id`` (one agent per row: value = that agent's count) or ``team`` (from ``agents``).

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = items handled per active agent, ``numerator`` = items
        handled, ``denominator`` = active agents, ``n`` = items, plus ``tickets`` and ``contacts``.

    Notes
    -----
    Agent workload = tickets and contacts handled per agent, per period (docs/methods.md#cost-and-team). A ticket
    counts for the agent assigned at export (``tickets.agent_id``) in the period of its first
    resolution; a contact for the agent who answered it, in the period of the answer.
    """
    tz = ds.settings.timezone
    agents = ds.agents
    team = agents.drop_duplicates("agent_id").set_index("agent_id")["team"] if "team" in agents.columns else None
    parts = []
    if ds.has("tickets") and "agent_id" in ds.tickets.columns and _has_resolution(ds):
        fr = _resolved_times(ds).reset_index(drop=True)
        aid = ds.tickets["agent_id"].reset_index(drop=True)
        ok = fr.notna() & aid.notna()
        # .array keeps datetimes and periods typed (to_numpy() would box every value)
        parts.append(pd.DataFrame({"period": to_period(fr[ok], period, tz).array, "agent_id": aid[ok].array,
                                   "tickets": 1.0, "contacts": 0.0}))
    if ds.has("contacts") and {"agent_id", "answered_at"} <= set(ds.contacts.columns):
        c = ds.contacts
        ok = c["answered_at"].notna() & c["agent_id"].notna() & ~c["abandoned"].astype("boolean").fillna(False)
        parts.append(pd.DataFrame({"period": to_period(c.loc[ok, "answered_at"], period, tz).array,
                                   "agent_id": c.loc[ok, "agent_id"].array, "tickets": 0.0, "contacts": 1.0}))
    if ds.has("agent_days"):
        a = ds.agent_days
        st = pd.to_numeric(a["staffed_s"], errors="coerce").fillna(0.0) > 0
        parts.append(pd.DataFrame({"period": _date_period(a.loc[st, "date"], period).array,
                                   "agent_id": a.loc[st, "agent_id"].array, "tickets": 0.0, "contacts": 0.0}))
    rows = pd.concat(parts, ignore_index=True)
    rows["agent_id"] = rows["agent_id"].astype("str")
    if "team" in by:
        if team is None:
            raise KPIUnavailable("agent_workload: agents has no team column")
        # the team of each distinct agent id (text on the distinct ids only), taken by integer code
        codes, ids = pd.factorize(rows["agent_id"])
        at = pd.Index(team.index).get_indexer(ids)
        teams = np.where(at >= 0, team.to_numpy(dtype=object)[np.maximum(at, 0)], None) if len(team) else \
            np.full(len(ids), None, dtype=object)
        rows["team"] = pd.Series(teams[codes] if len(ids) else np.zeros(0, dtype=object), index=rows.index,
                                 dtype="str")
    seg = segment_frame(ds, rows, by, main="agents")
    rows = pd.concat([rows[["period", "agent_id", "tickets", "contacts"]], seg.drop(
        columns=[c for c in seg.columns if c == "agent_id"])], axis=1)
    if "agent_id" in by:
        rows["agent_id"] = seg["agent_id"]
    keys = ["period", *by]
    rows["agent_code"] = pd.factorize(rows["agent_id"])[0]  # distinct counts on ints, not strings
    g = rows.groupby(keys, observed=True, sort=True)
    table = pd.concat([g[["tickets", "contacts"]].sum(), g["agent_code"].nunique().rename("denominator")
                       .astype("float64")], axis=1).reset_index()
    table["numerator"] = table["tickets"] + table["contacts"]
    table["n"] = table["numerator"]
    # work periods: from the first to the last work item (agent_days may extend it)
    periods = _periods_of(rows["period"], period)
    # active agents with nothing handled: 0 items per agent, not "no data"
    agg = Agg(table=table, periods=periods, levels=levels_of(seg, by), denominator_label="active agents",
              extras={"tickets": 0.0, "contacts": 0.0}, empty_when="denominator")
    return agg  # register estimates, sets targets and notes

