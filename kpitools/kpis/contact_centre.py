"""Contact-centre KPIs (calls and chats): abandon rate, ASA, service level, AHT, occupancy, staffing.

All KPIs read the ``contacts`` table (one row per queued contact) except occupancy and
utilization, which read ``agent_days``. Definitions follow ``metrics.md`` ("Contact centre"):

- a contact is *answered* when it is not abandoned and has ``answered_at``; its queue time (wait)
  is ``answered_at - queued_at``;
- an abandoned contact's wait is ``ended_at - queued_at`` (unknown when ``ended_at`` is empty);
- a contact neither abandoned nor answered (still queued at the export, or an incomplete row) has no
  outcome and is left out of abandon rate and service level (counted in the ``no_outcome`` column);
- periods are cut on ``queued_at`` in the business timezone (event basis: the contact entered the
  queue in the period).

Settings used: ``short_abandon_s`` (default 5), ``service_level_s`` (20), ``repeat_window_days``
(7), ``utilization_burnout`` (0.7).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from kpitools.kpis._core import (
    PERIODS,
    Agg,
    KPIError,
    KPIUnavailable,
    cache,
    finish,
    levels_of,
    local_times,
    period_range,
    register,
    segment_frame,
    span,
    to_period,
)

__all__ = [
    "abandon_rate",
    "asa",
    "service_level",
    "chat_abandonment",
    "aht",
    "acw_time",
    "repeat_contact_rate_contacts",
    "occupancy",
    "utilization",
    "staffing_gap",
    "staffing_by_hour",
    "contact_facts",
]

CONTACT_SEGMENTS = ("channel", "agent_id", "hour", "weekday")


# ----------------------------------------------------------------------------------------------
# shared per-contact facts
# ----------------------------------------------------------------------------------------------
def _floats(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def _seconds(end: pd.Series, start: pd.Series) -> np.ndarray:
    return ((end - start) / pd.Timedelta(seconds=1)).to_numpy(dtype="float64", na_value=np.nan)


def contact_facts(ds) -> pd.DataFrame:
    """Per-contact facts shared by the contact-centre KPIs (cached on ``ds.cache``).

    Parameters
    ----------
    ds : Dataset
        Needs the ``contacts`` table.

    Returns
    -------
    DataFrame
        Same rows and order as ``ds.contacts``:

        - ``abandoned``: bool, the customer left before an agent answered
        - ``answered``: bool, not abandoned and ``answered_at`` present
        - ``outcome``: bool, answered or abandoned (False: still queued / incomplete row)
        - ``wait_s``: queue time in seconds (answered: to the answer; abandoned: to ``ended_at``;
          NaN when unknown)
        - ``handle_s``: talk + hold + after-contact work of answered contacts with ``talk_s``
          (hold and wrap-up count 0 where empty); NaN otherwise
        - ``acw_s``: after-contact work of answered contacts (NaN when not recorded)
    """
    c = cache(ds)
    key = "kpis.contact_facts"
    if key in c:
        return c[key]
    t = ds.contacts
    abandoned = t["abandoned"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    has_answer = t["answered_at"].notna().to_numpy() if "answered_at" in t.columns else np.zeros(len(t), bool)
    answered = ~abandoned & has_answer
    wait = np.full(len(t), np.nan)
    if "answered_at" in t.columns:
        wait = np.where(answered, _seconds(t["answered_at"], t["queued_at"]), wait)
    if "ended_at" in t.columns:
        wait = np.where(abandoned, _seconds(t["ended_at"], t["queued_at"]), wait)
    talk, hold, acw = _floats(t, "talk_s"), _floats(t, "hold_s"), _floats(t, "acw_s")
    handle = np.where(answered & ~np.isnan(talk), talk + np.nan_to_num(hold) + np.nan_to_num(acw), np.nan)
    out = pd.DataFrame(
        {
            "abandoned": abandoned,
            "answered": answered,
            "outcome": abandoned | answered,
            "wait_s": wait,
            "handle_s": handle,
            "acw_s": np.where(answered, acw, np.nan),
        },
        index=t.index,
    )
    c[key] = out
    return out


def _rows(ds, by, *, mask=None, ts_col="queued_at") -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(contacts, facts, segments) restricted to ``mask``, plus the period column on facts."""
    t = ds.contacts
    f = contact_facts(ds)
    seg = segment_frame(ds, t, by, ts=t[ts_col], main="contacts")
    if mask is not None:
        t, f, seg = t[mask], f[mask], seg[mask]
    return t, f, seg


def _span_contacts(ds, period):
    return span(ds.contacts["queued_at"], period=period, tz=ds.settings.timezone)


def _quantile_extras(rows: pd.DataFrame, value: str, by) -> pd.DataFrame:
    """median and p90 of ``rows[value]`` per (period, *by)."""
    keys = ["period", *by]
    r = rows.loc[rows["period"].notna() & rows[value].notna(), [*keys, value]]
    g = r.groupby(keys, observed=True, sort=True, dropna=False)[value]
    return pd.DataFrame({"median": g.median(), "p90": g.quantile(0.9)}).reset_index()


def _mean_with_quantiles(rows, value, by, periods, levels, **kw) -> Agg:
    agg = Agg.from_values(rows, value, by=by, periods=periods, levels=levels, **kw)
    if len(agg.table):
        agg.table = agg.table.merge(_quantile_extras(rows, value, by), on=["period", *by], how="left")
    else:
        agg.table = agg.table.assign(median=pd.Series(dtype="float64"), p90=pd.Series(dtype="float64"))
    agg.extras = {"median": np.nan, "p90": np.nan, **agg.extras}
    return agg


def _option(ds, value, key: str, name: str) -> float:
    if value is None:
        value = ds.settings[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise KPIError(f"{name} must be a non-negative number of seconds/days, got {value!r}")
    return float(value)


def _frame(period_s, seg: pd.DataFrame, **cols) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"period": period_s, **cols}, index=seg.index), seg], axis=1)


# ----------------------------------------------------------------------------------------------
# queue KPIs
# ----------------------------------------------------------------------------------------------
@register(
    name="abandon_rate", title="Abandon rate", group="contact centre",
    definition=("Share of queued contacts that left the queue before an agent answered. Abandons "
                "shorter than the short-abandon threshold (setting short_abandon_s) are reported "
                "separately in short_abandons and, by default, left out of numerator and denominator."),
    formula="abandoned (not short) / contacts with an outcome (not short abandons)",
    unit="share", higher_is_better=False, stat="proportion", basis="event",
    tables=("contacts",), columns={}, segments=CONTACT_SEGMENTS,
    options="exclude_short=True; short_abandon_s=None (setting short_abandon_s)",
    bases=("event",),
)
def abandon_rate(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                 exclude_short=True, short_abandon_s=None) -> pd.DataFrame:
    """Abandon rate of queued calls and chats.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts``.
    period : {"D", "W", "M", "Q"}
        Cut on ``queued_at`` in the business timezone.
    by : str or list of str, optional
        Segment columns of contacts (channel, agent_id, ...), ticket columns via ``ticket_id``, or
        ``hour``/``weekday`` of queueing.
    basis, clock
        Event basis only; no clock.
    confidence : float
        Level of the Wilson interval.
    method : str, optional
        Proportion interval method (wilson, jeffreys, agresti_coull, clopper_pearson).
    exclude_short : bool, default True
        Leave abandons shorter than ``short_abandon_s`` out of numerator and denominator.
    short_abandon_s : float, optional
        Threshold in seconds (default: the dataset setting ``short_abandon_s``).

    Returns
    -------
    DataFrame
        The framework's columns (:func:`kpitools.kpis._core.finish`): ``value`` = abandon rate,
        ``numerator`` = abandons counted, ``denominator`` = contacts counted,
        ``n`` = queued contacts (a cell whose contacts were all excluded shows a zero
        denominator, not "no data"), plus ``short_abandons`` (abandons with wait < threshold,
        always reported) and
        ``no_outcome`` (contacts neither answered nor abandoned, left out).

    Notes
    -----
    abandon rate = abandoned / entered queue (metrics.md). A short abandon has a known wait
    (``ended_at - queued_at``) strictly below the threshold; an abandon without ``ended_at`` is
    never short.
    """
    if not isinstance(exclude_short, bool):
        raise KPIError(f"exclude_short must be True or False, got {exclude_short!r}")
    thr = _option(ds, short_abandon_s, "short_abandon_s", "short_abandon_s")
    t, f, seg = _rows(ds, by)
    short = f["abandoned"] & (f["wait_s"] < thr)
    counted = f["outcome"] & ~(short & exclude_short)
    rows = _frame(to_period(t["queued_at"], period, ds.settings.timezone), seg,
                  num=f["abandoned"] & counted, den=counted, short=short, none=~f["outcome"],
                  one=pd.Series(True, index=t.index))
    note = (f"short abandons (< {thr:g} s) excluded" if exclude_short
            else f"short abandons (< {thr:g} s) included")
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "num", "denominator": "den", "n": "one",
                                           "short_abandons": "short", "no_outcome": "none"},
                        periods=_span_contacts(ds, period), levels=levels_of(seg, by),
                        denominator_label="queued contacts", extras={"short_abandons": 0.0, "no_outcome": 0.0},
                        note=note)
    return finish(agg, spec=abandon_rate.spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                  confidence=confidence, method=method)


@register(
    name="asa", title="Average speed of answer (ASA)", group="contact centre",
    definition="Mean queue time of answered contacts, from entering the queue to the agent's answer; also median and p90.",
    formula="sum(answered_at - queued_at) / answered contacts",
    unit="seconds", higher_is_better=False, stat="mean", basis="event",
    tables=("contacts",), columns={"contacts": ("answered_at",)}, segments=CONTACT_SEGMENTS,
    bases=("event",),
)
def asa(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None) -> pd.DataFrame:
    """Average speed of answer (mean wait of answered contacts), with median and p90.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``answered_at``.
    period, by, basis, clock, confidence, method
        As for :func:`abandon_rate`; the interval is a t interval for the mean.

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = mean wait in seconds, ``n`` = answered contacts,
        ``mean``, ``sd``, and extras ``median`` and ``p90`` (seconds).

    Notes
    -----
    ASA = total queue time of answered contacts / answered contacts (metrics.md). Abandoned
    contacts are not part of ASA (see :func:`abandon_rate`).
    """
    t, f, seg = _rows(ds, by)
    rows = _frame(to_period(t["queued_at"], period, ds.settings.timezone), seg,
                  wait=f["wait_s"].where(f["answered"]))
    agg = _mean_with_quantiles(rows, "wait", by, _span_contacts(ds, period), levels_of(seg, by),
                               denominator_label="answered contacts")
    return finish(agg, spec=asa.spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                  confidence=confidence, method=method)


@register(
    name="service_level", title="Service level", group="contact centre",
    definition=("Share of contacts answered within T seconds among contacts answered or abandoned after "
                "T (abandons within T are left out): the usual 80/20 form. T is the setting service_level_s."),
    formula="answered with wait <= T / (answered + abandoned with wait > T)",
    unit="share", higher_is_better=True, stat="proportion", basis="event",
    tables=("contacts",), columns={"contacts": ("answered_at",)}, segments=CONTACT_SEGMENTS,
    options="threshold_s=None (setting service_level_s)", bases=("event",),
)
def service_level(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                  threshold_s=None) -> pd.DataFrame:
    """Service level: answered within T / (answered + abandoned after T).

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``answered_at`` (and ``ended_at`` to place abandons before/after T).
    period, by, basis, clock, confidence, method
        As for :func:`abandon_rate`.
    threshold_s : float, optional
        T in seconds (default: the dataset setting ``service_level_s``).

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = answered within T, ``denominator`` = answered +
        abandoned after T, ``n`` = queued contacts, plus ``abandoned_within_t`` (left out) and ``no_outcome``.

    Notes
    -----
    SL = answered within T / (answered + abandoned after T) (metrics.md). "Within T" is
    ``wait <= T``. An abandon without ``ended_at`` cannot be placed and is counted as abandoned
    after T (conservative).
    """
    thr = _option(ds, threshold_s, "service_level_s", "threshold_s")
    t, f, seg = _rows(ds, by)
    wait = f["wait_s"]
    within = f["answered"] & (wait <= thr)
    ab_within = f["abandoned"] & (wait <= thr)
    den = f["answered"] | (f["abandoned"] & ~ab_within)
    rows = _frame(to_period(t["queued_at"], period, ds.settings.timezone), seg,
                  num=within, den=den, abw=ab_within, none=~f["outcome"], one=pd.Series(True, index=t.index))
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "num", "denominator": "den", "n": "one",
                                           "abandoned_within_t": "abw", "no_outcome": "none"},
                        periods=_span_contacts(ds, period), levels=levels_of(seg, by),
                        denominator_label="answered + abandoned after T",
                        extras={"abandoned_within_t": 0.0, "no_outcome": 0.0}, note=f"T = {thr:g} s")
    return finish(agg, spec=service_level.spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                  confidence=confidence, method=method)


def _has_chats(ds) -> str | None:
    return None if (ds.contacts["channel"].astype("str").str.lower() == "chat").any() else "no chat contacts"


@register(
    name="chat_abandonment", title="Chat abandonment", group="contact centre",
    definition="Share of initiated chats that were never completed with an agent: 1 - completed / initiated.",
    formula="1 - answered chats / queued chats",
    unit="share", higher_is_better=False, stat="proportion", basis="event",
    tables=("contacts",), columns={}, segments=("agent_id", "hour", "weekday"),
    check=_has_chats, bases=("event",),
)
def chat_abandonment(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                     method=None) -> pd.DataFrame:
    """Chat (conversation) abandonment: 1 - completed / initiated chats.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with chat rows (``channel == "chat"``).
    period, by, basis, clock, confidence, method
        As for :func:`abandon_rate`.

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = initiated - completed chats, ``denominator`` =
        initiated chats; ``value`` = 1 - completed / initiated.

    Notes
    -----
    Initiated = every chat that entered the queue; completed = answered by an agent. Unlike
    :func:`abandon_rate` no short-abandon exclusion applies and chats still queued count as not
    completed.
    """
    is_chat = ds.contacts["channel"].astype("str").str.lower() == "chat"
    t, f, seg = _rows(ds, by, mask=is_chat)
    rows = _frame(to_period(t["queued_at"], period, ds.settings.timezone), seg,
                  num=~f["answered"], den=pd.Series(True, index=t.index))
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "num", "denominator": "den"},
                        periods=_span_contacts(ds, period), levels=levels_of(seg, by),
                        denominator_label="initiated chats")
    return finish(agg, spec=chat_abandonment.spec, ds=ds, period=period, by=by, basis=basis,
                  clock=clock, confidence=confidence, method=method)


# ----------------------------------------------------------------------------------------------
# handling
# ----------------------------------------------------------------------------------------------
@register(
    name="aht", title="Average handling time (AHT), calls and chats", group="contact centre",
    definition=("Talk + hold + after-contact work per handled (answered) contact, mean with median "
                "and p90. Empty hold or wrap-up times count as 0."),
    formula="sum(talk_s + hold_s + acw_s) / handled contacts",
    unit="seconds", higher_is_better=None, stat="mean", basis="event",
    tables=("contacts",), columns={"contacts": ("talk_s",)}, segments=CONTACT_SEGMENTS,
    bases=("event",),
)
def aht(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None) -> pd.DataFrame:
    """Average handling time of answered calls and chats.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``talk_s`` (``hold_s``, ``acw_s`` optional).
    period, by, basis, clock, confidence, method
        As for :func:`asa`.

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = mean handle time (s), ``n`` = handled contacts,
        ``mean``, ``sd``, ``median``, ``p90``.

    Notes
    -----
    AHT = (talk + hold + after-call work) / handled contacts (metrics.md). Tickets have their own
    handle time KPI (``ticket_handle_time``).
    """
    t, f, seg = _rows(ds, by)
    rows = _frame(to_period(t["queued_at"], period, ds.settings.timezone), seg, handle=f["handle_s"])
    missing = [c for c in ("hold_s", "acw_s") if not ds.has_columns("contacts", c)]
    agg = _mean_with_quantiles(rows, "handle", by, _span_contacts(ds, period), levels_of(seg, by),
                               denominator_label="handled contacts",
                               note=(f"{', '.join(missing)} not recorded, counted as 0" if missing else None))
    return finish(agg, spec=aht.spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                  confidence=confidence, method=method)


@register(
    name="acw_time", title="After-contact work (wrap-up) time", group="contact centre",
    definition="Wrap-up time per handled contact, mean with median and p90.",
    formula="sum(acw_s) / handled contacts with acw_s",
    unit="seconds", higher_is_better=False, stat="mean", basis="event",
    tables=("contacts",), columns={"contacts": ("acw_s",)}, segments=CONTACT_SEGMENTS,
    bases=("event",),
)
def acw_time(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None) -> pd.DataFrame:
    """After-contact work time per handled contact.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``acw_s``.
    period, by, basis, clock, confidence, method
        As for :func:`asa`.

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = mean wrap-up seconds, ``n`` = handled contacts with a
        recorded wrap-up, ``mean``, ``sd``, ``median``, ``p90``.

    Notes
    -----
    Mean/median wrap-up time per handled contact (metrics.md).
    """
    t, f, seg = _rows(ds, by)
    rows = _frame(to_period(t["queued_at"], period, ds.settings.timezone), seg, acw=f["acw_s"])
    agg = _mean_with_quantiles(rows, "acw", by, _span_contacts(ds, period), levels_of(seg, by),
                               denominator_label="handled contacts")
    return finish(agg, spec=acw_time.spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                  confidence=confidence, method=method)


@register(
    name="repeat_contact_rate_contacts", title="Repeat contacts (calls and chats)", group="contact centre",
    definition=("Share of contacts made by a customer who had already contacted the centre within the "
                "repeat window (setting repeat_window_days) before; contacts without customer_id are "
                "left out."),
    formula="contacts with a previous contact of the same customer within the window / contacts with customer_id",
    unit="share", higher_is_better=False, stat="proportion", basis="event",
    tables=("contacts",), columns={"contacts": ("customer_id",)}, segments=("channel", "agent_id"),
    options="window_days=None (setting repeat_window_days)", bases=("event",),
)
def repeat_contact_rate_contacts(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                                 method=None, window_days=None) -> pd.DataFrame:
    """Repeat contacts (callbacks) among calls and chats.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``customer_id``.
    period, by, basis, clock, confidence, method
        As for :func:`abandon_rate`; the period is the one of the repeat (later) contact.
    window_days : float, optional
        Repeat window in days (default: setting ``repeat_window_days``).

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = contacts preceded by a contact of the same customer
        at most ``window_days`` earlier, ``denominator`` = contacts with a customer id; extra
        ``unknown_customer`` (contacts without ``customer_id``, left out).

    Notes
    -----
    Contacts from a customer within 7 days after a previous contact by the same customer /
    contacts (metrics.md). A previous contact in an earlier period still makes the later one a
    repeat. Abandoned contacts count: calling back after giving up is a repeat contact.
    """
    days = _option(ds, window_days, "repeat_window_days", "window_days")
    t, f, seg = _rows(ds, by)
    cust = t["customer_id"]
    known = cust.notna() & (cust.astype("str") != "")
    order = t.loc[known, ["customer_id", "queued_at"]].sort_values(["customer_id", "queued_at"], kind="stable")
    prev = order.groupby("customer_id", sort=False)["queued_at"].shift(1)
    gap = (order["queued_at"] - prev) / pd.Timedelta(days=1)
    repeat = pd.Series(False, index=t.index)
    repeat.loc[order.index] = (gap <= days).fillna(False).to_numpy(dtype=bool)
    rows = _frame(to_period(t["queued_at"], period, ds.settings.timezone), seg,
                  num=repeat & known, den=known, unk=~known)
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "num", "denominator": "den", "unknown_customer": "unk"},
                        periods=_span_contacts(ds, period), levels=levels_of(seg, by),
                        denominator_label="contacts with customer_id", extras={"unknown_customer": 0.0},
                        note=f"repeat window {days:g} days")
    return finish(agg, spec=repeat_contact_rate_contacts.spec, ds=ds, period=period, by=by, basis=basis,
                  clock=clock, confidence=confidence, method=method)


# ----------------------------------------------------------------------------------------------
# occupancy and utilization (agent_days)
# ----------------------------------------------------------------------------------------------
def _date_period(dates: pd.Series, period: str) -> pd.Series:
    """Naive local dates (``date`` columns) -> Periods (the dates already are business-tz days)."""
    return pd.Series(pd.to_datetime(dates)).dt.to_period(PERIODS[period])


def _date_span(dates: pd.Series, period: str) -> pd.PeriodIndex:
    d = pd.Series(pd.to_datetime(dates)).dropna()
    if d.empty:
        return pd.PeriodIndex([], freq=PERIODS[period])
    freq = PERIODS[period]
    return period_range(d.min().to_period(freq), d.max().to_period(freq), period)


def _occupancy_agg(ds, period, by):
    a = ds.agent_days
    seg = segment_frame(ds, a, by, main="agent_days")
    handle = pd.to_numeric(a["handle_s"], errors="coerce").astype("float64")
    staffed = pd.to_numeric(a["staffed_s"], errors="coerce").astype("float64")
    ok = handle.notna() & staffed.notna()
    rows = _frame(_date_period(a["date"], period), seg, num=handle.where(ok, 0.0),
                  den=staffed.where(ok, 0.0), one=ok & (staffed > 0))
    return Agg.from_rows(rows, by=by, sums={"numerator": "num", "denominator": "den", "n": "one"},
                         periods=_date_span(a["date"], period), levels=levels_of(seg, by),
                         denominator_label="staffed time")


@register(
    name="occupancy", title="Occupancy", group="team",
    definition="Handle time / staffed (logged-in) time, from agent_days.",
    formula="sum(handle_s) / sum(staffed_s)",
    unit="share", higher_is_better=None, stat="ratio", basis=None,
    tables=("agent_days",), columns={"agent_days": ("handle_s",)}, segments=("agent_id",),
)
def occupancy(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None) -> pd.DataFrame:
    """Occupancy: share of staffed time spent handling contacts and tickets.

    Parameters
    ----------
    ds : Dataset
        Needs ``agent_days`` with ``handle_s``.
    period : {"D", "W", "M", "Q"}
        Cut on the ``date`` column (already a business-timezone day).
    by : str or list of str, optional
        ``agent_id``.
    basis, clock, confidence, method
        Not applicable (a ratio of sums, no interval).

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = handle seconds, ``denominator`` = staffed seconds,
        ``n`` = agent-days with staffed time.

    Notes
    -----
    occupancy = handle time / staffed (logged-in) time (metrics.md). Agent-days without
    ``handle_s`` are left out of both sums.
    """
    agg = _occupancy_agg(ds, period, by)
    return finish(agg, spec=occupancy.spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                  confidence=confidence, method=method)


@register(
    name="utilization", title="Agent utilization (burnout risk)", group="team",
    definition=("Handle time / staffed time, per agent (by agent_id) or pooled; burnout_flag marks values "
                "above the setting utilization_burnout (0.7) and agents_over_threshold counts agents above it."),
    formula="sum(handle_s) / sum(staffed_s) per agent; burnout_flag = value > utilization_burnout",
    unit="share", higher_is_better=False, stat="ratio", basis=None,
    tables=("agent_days",), columns={"agent_days": ("handle_s",)}, segments=("agent_id",),
    options="threshold=None (setting utilization_burnout)",
)
def utilization(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                threshold=None) -> pd.DataFrame:
    """Agent utilization with a burnout-risk flag, per agent or summarised.

    Parameters
    ----------
    ds : Dataset
        Needs ``agent_days`` with ``handle_s``.
    period : {"D", "W", "M", "Q"}
    by : str or list of str, optional
        With ``agent_id``: one row per agent and period. Without it: one row per period (and
        other segments) with the pooled ratio and how many agents were above the threshold.
    threshold : float, optional
        Burnout threshold (default: setting ``utilization_burnout``, 0.7).

    Returns
    -------
    DataFrame
        As :func:`occupancy`, plus

        - ``burnout_flag``: boolean, value > threshold (NA without a value)
        - ``agents``: agents with staffed time in the cell
        - ``agents_over_threshold``: agents whose own utilization in the period exceeds the
          threshold (equals ``burnout_flag`` per agent)

    Notes
    -----
    utilization = handle time / staffed time; above 70% is flagged as a burnout risk
    (metrics.md). Per agent the flag is the verdict; summarised, ``agents_over_threshold``
    counts the agents at risk (the pooled value can stay below the threshold while some agents
    are above it).
    """
    thr = threshold if threshold is not None else ds.settings.raw.get("utilization_burnout", 0.7)
    if isinstance(thr, bool) or not isinstance(thr, int | float) or not 0 <= thr:
        raise KPIError(f"threshold must be a non-negative share (e.g. 0.7), got {thr!r}")
    thr = float(thr)
    by = list(by or [])
    per_agent_by = by if "agent_id" in by else ["agent_id", *by]
    agg = _occupancy_agg(ds, period, per_agent_by)
    t = agg.table
    ratio = t["numerator"] / t["denominator"].where(t["denominator"] > 0)
    t["agents"] = (t["n"] > 0).astype("float64")
    t["agents_over_threshold"] = ((ratio > thr) & (t["n"] > 0)).astype("float64")
    if "agent_id" not in by:
        keys = ["period", *by]
        t = t.groupby(keys, observed=True, sort=True, dropna=False)[
            ["numerator", "denominator", "n", "agents", "agents_over_threshold"]].sum().reset_index()
        agg = Agg(table=t, periods=agg.periods, levels={k: v for k, v in agg.levels.items() if k in by},
                  denominator_label=agg.denominator_label)
    else:
        agg.table = t
    agg.extras = {"agents": 0.0, "agents_over_threshold": 0.0}
    agg.note = f"burnout threshold {thr:g}"
    res = finish(agg, spec=utilization.spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                 confidence=confidence, method=method)
    v = res["value"].to_numpy(float)
    res["burnout_flag"] = pd.array(np.where(np.isnan(v), None, v > thr), dtype="boolean")
    return res


# ----------------------------------------------------------------------------------------------
# staffing: Erlang C model vs what the floor did
# ----------------------------------------------------------------------------------------------
def _interval_table(ds, *, channel=None, by=(), threshold_s=None, mask=None) -> pd.DataFrame:
    """Per local hour interval (and segment): calls, handled, handle sum, distinct answering agents, SL counts."""
    t = ds.contacts
    f = contact_facts(ds)
    tz = ds.settings.timezone
    sel = pd.Series(True, index=t.index)
    if channel is not None:
        sel &= t["channel"].astype("str") == channel
    if mask is not None:
        sel &= mask
    t, f = t[sel], f[sel]
    thr = _option(ds, threshold_s, "service_level_s", "threshold_s")
    seg = segment_frame(ds, t, list(by), ts=t["queued_at"], main="contacts")
    start = local_times(t["queued_at"], tz).dt.floor("h")
    wait = f["wait_s"]
    rows = pd.concat([pd.DataFrame({
        "start": start, "calls": 1.0, "handled": f["handle_s"].notna().astype("float64"),
        "handle": f["handle_s"].fillna(0.0),
        "sl_num": (f["answered"] & (wait <= thr)).astype("float64"),
        "sl_den": (f["answered"] | (f["abandoned"] & ~(wait <= thr))).astype("float64"),
    }, index=t.index), seg], axis=1)
    keys = ["start", *by]
    out = rows.groupby(keys, sort=True, observed=True, dropna=False).sum()
    # distinct agents answering in the interval (by the local hour of the answer)
    if "agent_id" in t.columns and "answered_at" in t.columns:
        ans = f["answered"] & t["agent_id"].notna()
        a = pd.concat([pd.DataFrame({"start": local_times(t.loc[ans, "answered_at"], tz).dt.floor("h"),
                                     "agent_id": t.loc[ans, "agent_id"].astype("str")}), seg[ans]], axis=1)
        agents = a.groupby(keys, sort=True, observed=True, dropna=False)["agent_id"].nunique()
        out = out.join(agents.rename("agents_observed").astype("float64"), how="outer")
    else:
        out["agents_observed"] = np.nan
    out = out.reset_index()
    for c in ("calls", "handled", "handle", "sl_num", "sl_den"):
        out[c] = out[c].fillna(0.0)
    out["agents_observed"] = out["agents_observed"].fillna(0.0)
    return out


def _erlang(rows: pd.DataFrame, *, target_s: float, service_level_target: float, shrinkage: float,
            aht_col="aht_s", calls_col="calls", agents_col="agents_observed") -> pd.DataFrame:
    from kpitools.stats.staffing import staffing_by_interval

    arr = pd.DataFrame({"interval_start": np.arange(len(rows)), "calls": rows[calls_col].to_numpy(float),
                        "aht_s": rows[aht_col].to_numpy(float)})
    if agents_col is not None:
        arr["agents_observed"] = rows[agents_col].to_numpy(float)
    return staffing_by_interval(arr, interval_s=3600.0, target_s=target_s, service_level=service_level_target,
                                shrinkage=shrinkage).set_index(rows.index)


def staffing_by_hour(ds, *, month=None, channel="phone", by_weekday=False, target_s=None,
                     service_level=0.8, shrinkage=0.0) -> pd.DataFrame:
    """Erlang C staffing per hour of day compared with the agents observed answering.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` (``answered_at``, ``talk_s`` and ``agent_id`` for the full table).
    month : str or Period, optional
        Month in the business timezone (``"2026-10"``); default the whole dataset.
    channel : str or None, default "phone"
        Contacts of this channel only; None for all channels together.
    by_weekday : bool, default False
        One row per weekday x hour instead of per hour.
    target_s : float, optional
        Service-level threshold T (default: setting ``service_level_s``).
    service_level : float, default 0.8
        Target share answered within T for the required agents.
    shrinkage : float, default 0.0
        Share of paid time unavailable for contacts (only affects ``agents_scheduled``).

    Returns
    -------
    DataFrame
        One row per hour (0-23) [x ``weekday`` mon..sun] in which contacts arrived:

        - ``hour`` (int), ``weekday`` (str, with ``by_weekday``)
        - ``intervals``: hour intervals (days) averaged over, including days without contacts
        - ``calls``: contacts offered in all those intervals
        - ``calls_per_interval``: mean contacts offered per hour interval
        - ``aht_s``: mean handle time of answered contacts (talk + hold + wrap-up); the
          selection's overall AHT for a cell in which no contact was handled
        - ``traffic``: offered load in Erlangs (calls_per_interval x aht_s / 3600)
        - ``agents_observed``: mean number of distinct agents answering per interval
        - ``agents_required``: Erlang C agents for the target at the mean load
        - ``agents_scheduled``: required / (1 - shrinkage), rounded up
        - ``sl_observed``: answered within T / (answered + abandoned after T)
        - ``sl_modelled``: Erlang C service level per interval with the agents observed in that
          interval (0 when they do not exceed the traffic), weighted by calls
        - ``gap``: agents_observed - agents_required (negative = short)
        - ``understaffed``: gap < 0
        - ``target_s``, ``service_level_target``

    Notes
    -----
    Erlang C (statistics.md "Staffing"): A = calls x AHT / interval; P_wait = N B / (N - A (1 - B));
    SL(T) = 1 - P_wait exp(-(N - A) T / AHT); required agents = the smallest N > A with SL >= target
    (:func:`kpitools.stats.staffing.staffing_by_interval`). "Agents observed" are the distinct
    agents who answered at least one contact in the hour: a proxy for agents on the floor that
    misses idle agents (low volume) and counts every agent of a shift change within the hour, so
    it is not a roster. Intervals are local clock hours; a DST day has 23 or 25 of them.
    """
    if not ds.has("contacts"):
        raise KPIUnavailable("staffing_by_hour: table 'contacts' absent")
    tz = ds.settings.timezone
    thr = _option(ds, target_s, "service_level_s", "target_s")
    q = ds.contacts["queued_at"]
    if month is not None:
        if isinstance(month, pd.Period):
            m = month.asfreq("M")
        elif isinstance(month, str) and re.fullmatch(r"\d{4}-\d{2}", month.strip()):
            m = pd.Period(month.strip(), freq="M")
        else:
            raise KPIError(f"month must be a month like '2026-10' or a Period, got {month!r}")
        mask = to_period(q, "M", tz) == m
    else:
        mask = pd.Series(True, index=q.index)
    if channel is not None and not isinstance(channel, str):
        raise KPIError(f"channel must be a channel name (e.g. 'phone') or None, got {channel!r}")
    iv = _interval_table(ds, channel=channel, threshold_s=thr, mask=mask)
    cols = ["hour", *(["weekday"] if by_weekday else []), "intervals", "calls", "calls_per_interval",
            "aht_s", "traffic", "agents_observed", "agents_required", "agents_scheduled", "sl_observed",
            "sl_modelled", "gap", "understaffed", "target_s", "service_level_target"]
    if iv.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    # days covered: every local day from the first to the last contact of the selection
    days = pd.date_range(iv["start"].min().normalize(), iv["start"].max().normalize(), freq="D")
    wd_names = np.array(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    iv["hour"] = iv["start"].dt.hour.astype("int64")
    keys = ["hour"]
    if by_weekday:
        iv["weekday"] = wd_names[iv["start"].dt.day_of_week.to_numpy()]
        keys.append("weekday")
        n_int = pd.Series(wd_names[days.day_of_week]).value_counts()
    # per-interval modelled SL with the agents actually answering
    cell_aht = iv.groupby(keys)[["handle", "handled"]].sum()
    cell_aht = (cell_aht["handle"] / cell_aht["handled"].where(cell_aht["handled"] > 0)).rename("cell_aht")
    iv = iv.join(cell_aht, on=keys)
    overall = iv["handle"].sum() / iv["handled"].sum() if iv["handled"].sum() > 0 else np.nan
    iv["cell_aht"] = iv["cell_aht"].fillna(overall)
    iv["aht_s"] = (iv["handle"] / iv["handled"].where(iv["handled"] > 0)).fillna(iv["cell_aht"])
    e = _erlang(iv, target_s=thr, service_level_target=service_level, shrinkage=shrinkage)
    iv["sl_w"] = e["service_level_observed"] * iv["calls"]
    iv["w"] = np.where(e["service_level_observed"].notna(), iv["calls"], 0.0)
    g = iv.groupby(keys, sort=True)
    out = g[["calls", "handle", "handled", "agents_observed", "sl_num", "sl_den", "sl_w", "w"]].sum().reset_index()
    out["intervals"] = (float(len(days)) if not by_weekday
                        else out["weekday"].map(n_int).astype("float64"))
    out["calls_per_interval"] = out["calls"] / out["intervals"]
    out["aht_s"] = (out["handle"] / out["handled"].where(out["handled"] > 0)).fillna(overall)
    out["agents_observed"] = out["agents_observed"] / out["intervals"]
    out["sl_observed"] = out["sl_num"] / out["sl_den"].where(out["sl_den"] > 0)
    out["sl_modelled"] = out["sl_w"] / out["w"].where(out["w"] > 0)
    req = _erlang(out, target_s=thr, service_level_target=service_level, shrinkage=shrinkage,
                  calls_col="calls_per_interval", agents_col=None)
    out["traffic"] = req["traffic"]
    out["agents_required"] = req["required_agents"].astype("Float64").astype("float64")
    out["agents_scheduled"] = req["scheduled_agents"].astype("Float64").astype("float64")
    out["gap"] = out["agents_observed"] - out["agents_required"]
    out["understaffed"] = (out["gap"] < 0).to_numpy(dtype=bool)
    out["target_s"] = thr
    out["service_level_target"] = float(service_level)
    if by_weekday:
        out["_wd"] = out["weekday"].map({w: i for i, w in enumerate(wd_names)})
        out = out.sort_values(["_wd", "hour"]).drop(columns="_wd")
    return out[cols].reset_index(drop=True)


@register(
    name="staffing_gap", title="Staffing gap (observed - Erlang C required agents)", group="contact centre",
    definition=("Per local hour interval with contacts: distinct agents answering minus the agents Erlang C "
                "requires for that interval's calls and AHT to reach 80% within T (setting "
                "service_level_s); mean over intervals. Negative = short-staffed."),
    formula="mean over hour intervals of (agents answering - required_agents(calls, 3600, AHT, T, 0.8))",
    unit="count", higher_is_better=None, stat="mean", basis="event",
    tables=("contacts",), columns={"contacts": ("answered_at", "talk_s", "agent_id")},
    segments=("channel", "hour", "weekday"), options="service_level_target=0.8; threshold_s=None",
    bases=("event",),
)
def staffing_gap(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                 service_level_target=0.8, threshold_s=None) -> pd.DataFrame:
    """Mean gap between agents observed answering and Erlang C required agents per hour interval.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``answered_at``, ``talk_s`` and ``agent_id``.
    period : {"D", "W", "M", "Q"}
        Period of the interval start (local time).
    by : str or list of str, optional
        ``channel``, ``hour``, ``weekday`` (other segments are not meaningful for staffing).
    service_level_target : float, default 0.8
        Share answered within T the required agents must reach.
    threshold_s : float, optional
        T in seconds (default: setting ``service_level_s``).

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = mean gap in agents over intervals with contacts
        (``n`` = such intervals), ``mean``, ``sd``, plus ``understaffed`` (intervals with gap < 0),
        ``sl_observed`` (pooled observed service level) and ``sl_modelled`` (call-weighted Erlang C
        service level with the observed agents).

    Notes
    -----
    Erlang C as in :func:`staffing_by_hour`; per interval the required agents use that interval's
    own calls and AHT (the interval's AHT, else the segment's mean AHT). See
    :func:`staffing_by_hour` for the hour-of-day view the report plots.
    """
    bad = [b for b in (by or []) if b not in ("channel", "hour", "weekday")]
    if bad:
        raise KPIUnavailable(f"staffing_gap: segment(s) {bad} not supported; use channel, hour or weekday")
    thr = _option(ds, threshold_s, "service_level_s", "threshold_s")
    base = [b for b in (by or []) if b == "channel"]
    iv = _interval_table(ds, by=base, threshold_s=thr)
    iv = iv[iv["calls"] > 0].reset_index(drop=True)
    if base:
        seg_aht = iv.groupby(base)[["handle", "handled"]].transform("sum")
    else:
        seg_aht = pd.DataFrame({"handle": iv["handle"].sum(), "handled": iv["handled"].sum()}, index=iv.index)
    iv["aht_s"] = (iv["handle"] / iv["handled"].where(iv["handled"] > 0)).fillna(
        seg_aht["handle"] / seg_aht["handled"].where(seg_aht["handled"] > 0))
    e = _erlang(iv, target_s=thr, service_level_target=service_level_target, shrinkage=0.0)
    iv["gap"] = e["gap"]
    iv["under"] = (e["gap"] < 0).astype("float64")
    iv["sl_w"] = (e["service_level_observed"] * iv["calls"]).fillna(0.0)
    iv["w"] = np.where(e["service_level_observed"].notna(), iv["calls"], 0.0)
    if "hour" in (by or []):
        iv["hour"] = iv["start"].dt.hour.astype("int64").astype("str").str.zfill(2)
    if "weekday" in (by or []):
        iv["weekday"] = np.array(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])[iv["start"].dt.day_of_week.to_numpy()]
    iv["period"] = iv["start"].dt.to_period(PERIODS[period])
    by = list(by or [])
    for b in by:
        iv[b] = iv[b].astype("str")
    agg = Agg.from_values(iv, "gap", by=by, periods=_span_contacts(ds, period), levels=levels_of(iv, by),
                          denominator_label="hour intervals with contacts",
                          note=f"T = {thr:g} s, target {service_level_target:g}")
    keys = ["period", *by]
    ext = iv.groupby(keys, observed=True, sort=True)[["under", "sl_num", "sl_den", "sl_w", "w"]].sum().reset_index()
    ext["understaffed"] = ext["under"]
    ext["sl_observed"] = ext["sl_num"] / ext["sl_den"].where(ext["sl_den"] > 0)
    ext["sl_modelled"] = ext["sl_w"] / ext["w"].where(ext["w"] > 0)
    if len(agg.table):
        agg.table = agg.table.merge(ext[[*keys, "understaffed", "sl_observed", "sl_modelled"]], on=keys, how="left")
    agg.extras = {"understaffed": 0.0, "sl_observed": np.nan, "sl_modelled": np.nan}
    return finish(agg, spec=staffing_gap.spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                  confidence=confidence, method=method)

