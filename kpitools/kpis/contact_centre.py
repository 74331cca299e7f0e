"""Contact-centre KPIs (calls and chats): abandon rate, ASA, service level, AHT, occupancy, staffing.

All KPIs read the ``contacts`` table (one row per queued contact) except occupancy and
utilization, which read ``agent_days``. Definitions follow docs/methods.md#contact-centre:

- a contact is *answered* when it is not abandoned and has ``answered_at``; its queue time (wait)
  is ``answered_at - queued_at``;
- an abandoned contact's wait is ``ended_at - queued_at`` (unknown when ``ended_at`` is empty);
- a contact neither abandoned nor answered (still queued at the export, or an incomplete row) has no
  outcome and is left out of abandon rate and service level (counted in the ``no_outcome`` column);
- periods are cut on ``queued_at`` in the business timezone (event basis: the contact entered the
  queue in the period).

Settings used: ``short_abandon_s`` (default 5), ``service_level_s`` (20), ``repeat_window_days``
(7), ``utilization_burnout`` (0.7).

Staffing (Erlang C / Erlang A: :func:`staffing_by_hour`, :func:`staffing_intervals`,
:func:`staffing_gap`, :func:`caller_patience`):

- agents come from the optional ``staffing`` table (the workforce roster: ``staffed_agents`` per
  interval and channel) when the dataset has one, else from the distinct agents answering per
  local clock hour (a proxy); the ``agents_source`` column says which ("roster" or
  "answering agents");
- the models run per roster interval (its own length, e.g. 30 min; ``interval_s`` column): calls
  and AHT of the interval from the contacts, staffed agents from the roster; the hour-of-day table
  averages those intervals;
- Erlang A needs the callers' mean patience, estimated from the contacts as total time in queue
  (answered waits + times to abandon) / abandoned contacts, the MLE for exponential patience with
  answered contacts right-censored (:func:`caller_patience`); Erlang A runs with the roster
  rounded to whole agents;
- modelled (Erlang C ``sl_modelled``, Erlang A ``sl_modelled_a`` / ``abandon_modelled``) sits next
  to observed (``sl_observed``, ``abandon_observed``) service level and abandonment per interval.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from kpitools import facts
from kpitools.kpis._core import (
    BOOTSTRAP_N,
    BOOTSTRAP_SEED,
    PERIODS,
    Agg,
    KPIError,
    KPIUnavailable,
    Sums,
    Values,
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
    "fcr_contacts",
    "occupancy",
    "utilization",
    "staffing_gap",
    "staffing_by_hour",
    "staffing_intervals",
    "caller_patience",
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
    """Per-contact facts shared by the contact-centre KPIs (built once: :attr:`kpitools.facts.Facts.contacts`).

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
    return facts.of(ds).contacts


def _rows(ds, by, *, mask=None, ts_col="queued_at") -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(contacts, facts, segments) restricted to ``mask``, plus the period column on facts."""
    t = ds.contacts
    f = contact_facts(ds)
    seg = facts.of(ds).segments("contacts", by, ts=ts_col, index=t.index)
    if mask is not None:
        t, f, seg = t[mask], f[mask], seg[mask]
    return t, f, seg


def _span_contacts(ds, period):
    return span(ds.contacts["queued_at"], period=period, tz=ds.settings.timezone)


#: Catalogue text of the interval options of the duration means (asa, aht, acw_time).
_BOOT_OPTIONS = (f"method 'bootstrap' (default: seeded percentile bootstrap of the mean) or 't'; "
                 f"seed (default {BOOTSTRAP_SEED}) and n_boot (default {BOOTSTRAP_N}) of the bootstrap")


def _mean_values(values: np.ndarray, label: str, note: str | None = None) -> Values:
    """Declaration of a duration mean over contacts (asa, aht, acw_time): the values per contact
    (NaN: not counted), with the cell's median and p90 as extras; the register wrapper groups
    per period of ``queued_at`` and segment, and bootstraps the mean (seeded) from the kept values."""
    return Values("contacts", "queued_at", values=np.asarray(values, dtype="float64"),
                  quantiles={"median": 0.5, "p90": 0.9},
                  agg={"denominator_label": label, "note": note, "extras": {"median": np.nan, "p90": np.nan}})


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
    abandon rate = abandoned / entered queue (docs/methods.md#contact-centre). A short abandon has a known wait
    (``ended_at - queued_at``) strictly below the threshold; an abandon without ``ended_at`` is
    never short.
    """
    if not isinstance(exclude_short, bool):
        raise KPIError(f"exclude_short must be True or False, got {exclude_short!r}")
    thr = _option(ds, short_abandon_s, "short_abandon_s", "short_abandon_s")
    f = contact_facts(ds)
    abandoned, outcome = f["abandoned"].to_numpy(), f["outcome"].to_numpy()
    short = abandoned & (f["wait_s"].to_numpy() < thr)
    counted = outcome & ~(short & exclude_short)
    note = (f"short abandons (< {thr:g} s) excluded" if exclude_short
            else f"short abandons (< {thr:g} s) included")
    return Sums("contacts", "queued_at",
                sums={"numerator": abandoned & counted, "denominator": counted, "n": np.ones(len(f)),
                      "short_abandons": short, "no_outcome": ~outcome},
                agg={"denominator_label": "queued contacts", "note": note,
                     "extras": {"short_abandons": 0.0, "no_outcome": 0.0}})


@register(
    name="asa", title="Average speed of answer (ASA)", group="contact centre",
    definition="Mean queue time of answered contacts, from entering the queue to the agent's answer; also median and p90.",
    formula="sum(answered_at - queued_at) / answered contacts",
    unit="seconds", higher_is_better=False, stat="mean", basis="event",
    tables=("contacts",), columns={"contacts": ("answered_at",)}, segments=CONTACT_SEGMENTS,
    bases=("event",), method="bootstrap", options=_BOOT_OPTIONS,
)
def asa(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
        seed=BOOTSTRAP_SEED, n_boot=BOOTSTRAP_N) -> pd.DataFrame:
    """Average speed of answer (mean wait of answered contacts), with median and p90.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``answered_at``.
    period, by, basis, clock, confidence
        As for :func:`abandon_rate`.
    method : {"bootstrap", "t"}, default "bootstrap"
        Interval of the mean: seeded percentile bootstrap of the cell's waits (docs/methods.md#bootstrap:
        means of fully observed durations), or the Student t interval from n, mean and sd.
    seed : int or None, default ``kpitools.kpis._core.BOOTSTRAP_SEED``
        Bootstrap seed (fixed so reports reproduce; None = fresh entropy).
    n_boot : int, default ``kpitools.kpis._core.BOOTSTRAP_N``
        Bootstrap resamples per cell.

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = mean wait in seconds, ``n`` = answered contacts,
        ``mean``, ``sd``, and extras ``median`` and ``p90`` (seconds).

    Notes
    -----
    ASA = total queue time of answered contacts / answered contacts (docs/methods.md#contact-centre). Abandoned
    contacts are not part of ASA (see :func:`abandon_rate`). Bootstrap interval: the 2.5% and
    97.5% quantiles (at 95%) of the means of ``n_boot`` resamples with replacement of each cell's
    waits, drawn as counts over the distinct whole seconds
    (:func:`kpitools.stats.intervals.bootstrap_mean_counts`, docs/methods.md#value-count-bootstrap);
    NaN where n < 2; cells with more than 5000 waits get the t interval (``method`` says so).
    """
    f = contact_facts(ds)
    return _mean_values(np.where(f["answered"].to_numpy(), f["wait_s"].to_numpy(), np.nan), "answered contacts")


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
    SL = answered within T / (answered + abandoned after T) (docs/methods.md#contact-centre). "Within T" is
    ``wait <= T``. An abandon without ``ended_at`` cannot be placed and is counted as abandoned
    after T (conservative).
    """
    thr = _option(ds, threshold_s, "service_level_s", "threshold_s")
    f = contact_facts(ds)
    answered, abandoned, wait = f["answered"].to_numpy(), f["abandoned"].to_numpy(), f["wait_s"].to_numpy()
    ab_within = abandoned & (wait <= thr)
    return Sums("contacts", "queued_at",
                sums={"numerator": answered & (wait <= thr), "denominator": answered | (abandoned & ~ab_within),
                      "n": np.ones(len(f)), "abandoned_within_t": ab_within, "no_outcome": ~f["outcome"].to_numpy()},
                agg={"denominator_label": "answered + abandoned after T", "note": f"T = {thr:g} s",
                     "extras": {"abandoned_within_t": 0.0, "no_outcome": 0.0}})


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
    is_chat = (ds.contacts["channel"].astype("str").str.lower() == "chat").to_numpy(dtype=bool)
    answered = contact_facts(ds)["answered"].to_numpy()
    return Sums("contacts", "queued_at", population=is_chat,
                sums={"numerator": is_chat & ~answered, "denominator": is_chat},
                agg={"denominator_label": "initiated chats"})


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
    bases=("event",), method="bootstrap", options=_BOOT_OPTIONS,
)
def aht(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
        seed=BOOTSTRAP_SEED, n_boot=BOOTSTRAP_N) -> pd.DataFrame:
    """Average handling time of answered calls and chats.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``talk_s`` (``hold_s``, ``acw_s`` optional).
    period, by, basis, clock, confidence, method, seed, n_boot
        As for :func:`asa` (default interval: seeded percentile bootstrap of the mean).

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = mean handle time (s), ``n`` = handled contacts,
        ``mean``, ``sd``, ``median``, ``p90``.

    Notes
    -----
    AHT = (talk + hold + after-call work) / handled contacts (docs/methods.md#contact-centre). Tickets have their own
    handle time KPI (``ticket_handle_time``).
    """
    missing = [c for c in ("hold_s", "acw_s") if not ds.has_columns("contacts", c)]
    return _mean_values(contact_facts(ds)["handle_s"].to_numpy(), "handled contacts",
                        note=(f"{', '.join(missing)} not recorded, counted as 0" if missing else None))


@register(
    name="acw_time", title="After-contact work (wrap-up) time", group="contact centre",
    definition="Wrap-up time per handled contact, mean with median and p90.",
    formula="sum(acw_s) / handled contacts with acw_s",
    unit="seconds", higher_is_better=False, stat="mean", basis="event",
    tables=("contacts",), columns={"contacts": ("acw_s",)}, segments=CONTACT_SEGMENTS,
    bases=("event",), method="bootstrap", options=_BOOT_OPTIONS,
)
def acw_time(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
        seed=BOOTSTRAP_SEED, n_boot=BOOTSTRAP_N) -> pd.DataFrame:
    """After-contact work time per handled contact.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``acw_s``.
    period, by, basis, clock, confidence, method, seed, n_boot
        As for :func:`asa` (default interval: seeded percentile bootstrap of the mean).

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = mean wrap-up seconds, ``n`` = handled contacts with a
        recorded wrap-up, ``mean``, ``sd``, ``median``, ``p90``.

    Notes
    -----
    Mean/median wrap-up time per handled contact (docs/methods.md#contact-centre).
    """
    return _mean_values(contact_facts(ds)["acw_s"].to_numpy(), "handled contacts")


_ACROSS_OPTION = ("across_channels: True (default when the dataset has tickets) counts a ticket of the "
                  "customer as a repeat of a call or chat and a call or chat as a repeat of a ticket; False "
                  "compares contacts with contacts only")
_UNKNOWN_CONTACTS = "{k} contact(s) without customer_id left out"


def _repeats(ds, window_days, across_channels):
    """(contacts' repeat flags, window in days, note text) from :func:`kpitools.kpis.quality.repeat_timeline`."""
    from kpitools.kpis.quality import _across, repeat_timeline

    days = _option(ds, window_days, "repeat_window_days", "window_days")
    rep = repeat_timeline(ds, window_days=days, across_channels=across_channels)["contacts"]
    what = "calls, chats and tickets" if _across(ds, across_channels) else "calls and chats only"
    return rep, days, what


@register(
    name="repeat_contact_rate_contacts", title="Repeat contacts (calls and chats)", group="contact centre",
    definition=("Share of contacts made by a customer who had already contacted support within the "
                "repeat window (setting repeat_window_days) before: by a call or chat or, where the "
                "dataset has tickets, a ticket (across_channels; the ticket written for the contact does "
                "not count). Contacts without customer_id are left out and counted in unknown_customer."),
    formula="contacts with a previous contact or ticket of the same customer within the window / contacts with customer_id",
    unit="share", higher_is_better=False, stat="proportion", basis="event",
    tables=("contacts",), columns={"contacts": ("customer_id",)}, segments=("channel", "agent_id"),
    options="window_days=None (setting repeat_window_days); " + _ACROSS_OPTION, bases=("event",),
)
def repeat_contact_rate_contacts(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
                                 method=None, window_days=None, across_channels=None) -> pd.DataFrame:
    """Repeat contacts (callbacks) among calls and chats.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``customer_id``.
    period, by, basis, clock, confidence, method
        As for :func:`abandon_rate`; the period is the one of the repeat (later) contact.
    window_days : float, optional
        Repeat window in days (default: setting ``repeat_window_days``).
    across_channels : bool, optional
        True: a call or chat after a ticket of the customer (``tickets.created_at``) within the
        window is a repeat too; False: only a contact after another contact. Default: True when
        the dataset has tickets. Named in ``note``.

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = contacts preceded by a contact (or ticket) of the same
        customer at most ``window_days`` earlier, ``denominator`` = contacts with a customer id;
        extra ``unknown_customer`` (contacts without ``customer_id``, left out; named in ``note``).

    Notes
    -----
    Contacts from a customer within 7 days after a previous contact by the same customer /
    contacts (docs/methods.md#contact-centre). A previous contact in an earlier period still makes the later one a
    repeat. Abandoned contacts count: calling back after giving up is a repeat contact. A
    contact and the ticket written for it (``contacts.ticket_id``) are one contact, not a repeat.
    """
    rep, days, what = _repeats(ds, window_days, across_channels)
    t, f, seg = _rows(ds, by)
    known = rep["known"].to_numpy(dtype=bool)
    rows = _frame(to_period(t["queued_at"], period, ds.settings.timezone), seg,
                  num=rep["repeat"].to_numpy(dtype=bool) & known, den=known, unk=~known)
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "num", "denominator": "den", "unknown_customer": "unk"},
                        periods=_span_contacts(ds, period), levels=levels_of(seg, by),
                        denominator_label="contacts with customer_id", extras={"unknown_customer": 0.0},
                        note=f"repeat window {days:g} days; repeats: {what}",
                        notes={"unknown_customer": _UNKNOWN_CONTACTS})
    return finish(agg, spec=repeat_contact_rate_contacts.spec, ds=ds, period=period, by=by, basis=basis,
                  clock=clock, confidence=confidence, method=method)


@register(
    name="fcr_contacts", title="First contact resolution (calls and chats)", group="contact centre",
    definition=("Contacts resolved in the one call or chat (agent disposition contacts.resolved) with no "
                "further contact by the same customer within the repeat window (setting "
                "repeat_window_days): no call or chat and, where the dataset has tickets, no ticket "
                "(across_channels; the ticket written for the contact does not count) / all contacts "
                "received. Contacts without customer_id cannot be checked for repeats: they are left out "
                "and counted in unknown_customer. Variant: over resolved contacts only "
                "(denominator='resolved')."),
    formula="answered & resolved & no next contact or ticket of the customer within window / contacts queued "
            "(or resolved), contacts with customer_id",
    unit="share", higher_is_better=True, stat="proportion", basis="event",
    tables=("contacts",), columns={"contacts": ("resolved", "customer_id")}, segments=("channel", "agent_id"),
    options="denominator: received | resolved; window_days=None (setting repeat_window_days); " + _ACROSS_OPTION,
    bases=("event",),
)
def fcr_contacts(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                 denominator="received", window_days=None, across_channels=None) -> pd.DataFrame:
    """First contact resolution of calls and chats (docs/methods.md#quality-and-outcome FCR, "or in one call/chat").

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``resolved`` and ``customer_id``.
    period, by, basis, clock, confidence, method
        As for :func:`abandon_rate` (period of queueing, Wilson interval by default).
    denominator : {"received", "resolved"}
        Every contact that entered the queue (the seeds' "all issues received": abandoned and
        unresolved contacts count as not resolved first time), or only contacts resolved during
        the contact. Named in ``note``.
    window_days : float, optional
        Repeat window in days (default: setting ``repeat_window_days``).
    across_channels : bool, optional
        True: a ticket by the same customer (``tickets.created_at``) within the window after the
        contact is a repeat too; False: only another call or chat is. Default: True when the
        dataset has tickets. Named in ``note``.

    Returns
    -------
    DataFrame
        Framework columns: ``numerator`` = first-contact resolutions, ``denominator`` = contacts
        received (or resolved) with a customer id; extras ``window_open`` (counted contacts
        whose repeat window had not ended at the cut-off: known so far, can still fall) and
        ``unknown_customer`` (contacts of the denominator's kind without ``customer_id``, left
        out; named in ``note``).

    Notes
    -----
    FCR = #{answered, resolved during the contact, no next contact or ticket by the same
    customer at most ``window_days`` after it} / #{contacts received}, both over contacts with a
    ``customer_id`` (docs/methods.md#quality-and-outcome; the rule of :func:`kpitools.kpis.quality.fcr`): a contact whose
    customer is unknown cannot be checked for repeats and is not counted as "never repeated".
    The ticket written for the contact (``contacts.ticket_id``) is the same contact, not a
    repeat. An empty ``resolved`` counts as not resolved. Without ``answered_at`` a resolved
    contact that was not abandoned counts as answered.
    """
    if denominator not in ("received", "resolved"):
        raise KPIError(f"denominator must be 'received' or 'resolved', got {denominator!r}")
    rep, days, what = _repeats(ds, window_days, across_channels)
    t, f, seg = _rows(ds, by)
    answered = f["answered"].to_numpy() if "answered_at" in t.columns else ~f["abandoned"].to_numpy()
    solved = t["resolved"].astype("boolean").fillna(False).to_numpy(dtype=bool) & answered
    known = rep["known"].to_numpy(dtype=bool)
    ok = solved & ~rep["followed"].to_numpy(dtype=bool) & known
    pop = solved if denominator == "resolved" else np.ones(len(t), dtype=bool)
    den = pop & known
    open_w = (t["queued_at"] + pd.Timedelta(days=days) > ds.cutoff).to_numpy(dtype=bool) & den
    rows = _frame(to_period(t["queued_at"], period, ds.settings.timezone), seg,
                  num=pd.Series(ok, index=t.index), den=pd.Series(den, index=t.index),
                  wo=pd.Series(open_w, index=t.index), unk=pd.Series(pop & ~known, index=t.index))
    agg = Agg.from_rows(rows, by=by, sums={"numerator": "num", "denominator": "den", "window_open": "wo",
                                           "unknown_customer": "unk"},
                        periods=_span_contacts(ds, period), levels=levels_of(seg, by),
                        denominator_label=f"{denominator} contacts with customer_id",
                        extras={"window_open": 0.0, "unknown_customer": 0.0},
                        note=f"denominator: {denominator}; window {days:g} d; repeats: {what}",
                        notes={"window_open": "{k} contact(s) with the repeat window still open at the cut-off",
                               "unknown_customer": _UNKNOWN_CONTACTS})
    return finish(agg, spec=fcr_contacts.spec, ds=ds, period=period, by=by, basis=basis,
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
    occupancy = handle time / staffed (logged-in) time (docs/methods.md#contact-centre). Agent-days without
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
    (docs/methods.md#contact-centre). Per agent the flag is the verdict; summarised, ``agents_over_threshold``
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
    agg.flags = {"burnout_flag": lambda v: v > thr}
    return finish(agg, spec=utilization.spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                  confidence=confidence, method=method)


# ----------------------------------------------------------------------------------------------
# staffing: Erlang C / Erlang A models vs what the floor did
# ----------------------------------------------------------------------------------------------
ROSTER = "roster"
ANSWERING = "answering agents"
STAFFING_SOURCES = ("auto", ROSTER, ANSWERING)
_WEEKDAYS = np.array(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
_SUMS = ("calls", "handled", "handle", "sl_num", "sl_den", "answered", "abandoned")


def _month(month) -> pd.Period | None:
    if month is None:
        return None
    if isinstance(month, pd.Period):
        return month.asfreq("M")
    if isinstance(month, str) and re.fullmatch(r"\d{4}-\d{2}", month.strip()):
        return pd.Period(month.strip(), freq="M")
    raise KPIError(f"month must be a month like '2026-10' or a Period, got {month!r}")


def _check_channel(channel) -> None:
    if channel is not None and not isinstance(channel, str):
        raise KPIError(f"channel must be a channel name (e.g. 'phone') or None, got {channel!r}")


def _has_roster(ds, channel=None) -> bool:
    """The dataset has a usable staffing roster (with rows for ``channel`` when given)."""
    if not (ds.has("staffing") and ds.has_columns("staffing", "interval_start", "staffed_agents")):
        return False
    if channel is None:
        return True
    st = ds.staffing
    return bool(((st["channel"].astype("str") == channel) & st["staffed_agents"].notna()).any())


def _agents_source(ds, source, channel=None) -> str:
    """Resolve ``source`` ("auto", "roster", "answering agents") to the one used.

    "auto" takes the roster when it has rows (for ``channel`` when given), else the proxy.
    """
    if not isinstance(source, str) or source not in STAFFING_SOURCES:
        raise KPIError(f"source must be one of {list(STAFFING_SOURCES)}, got {source!r}")
    if source == "auto":
        return ROSTER if _has_roster(ds, channel) else ANSWERING
    if source == ROSTER and not _has_roster(ds, channel):
        where = "" if channel is None else f" for channel {channel!r}"
        raise KPIUnavailable(f"source='roster' needs the staffing table with interval_start and "
                             f"staffed_agents{where}; it is absent or empty")
    return source


def _contact_sums(ds, thr: float) -> pd.DataFrame:
    """Per contact (same rows as ``ds.contacts``): the additive quantities summed per interval."""
    f = contact_facts(ds)
    within = f["wait_s"] <= thr
    return pd.DataFrame({
        "calls": np.ones(len(f)),
        "handled": f["handle_s"].notna().astype("float64"),
        "handle": f["handle_s"].fillna(0.0),
        "sl_num": (f["answered"] & within).astype("float64"),
        "sl_den": (f["answered"] | (f["abandoned"] & ~within)).astype("float64"),
        "answered": f["answered"].astype("float64"),
        "abandoned": f["abandoned"].astype("float64"),
    }, index=f.index)


def _interval_table(ds, *, channel=None, by=(), threshold_s=None, mask=None) -> pd.DataFrame:
    """Answering-agents proxy: per local clock hour (and segment) the contact sums and distinct agents answering."""
    t = ds.contacts
    f = contact_facts(ds)
    tz = ds.settings.timezone
    sel = pd.Series(True, index=t.index)
    if channel is not None:
        sel &= t["channel"].astype("str") == channel
    if mask is not None:
        sel &= mask
    thr = _option(ds, threshold_s, "service_level_s", "threshold_s")
    t, f, v = t[sel], f[sel], _contact_sums(ds, thr)[sel]
    seg = segment_frame(ds, t, list(by), ts=t["queued_at"], main="contacts")
    start = local_times(t["queued_at"], tz).dt.floor("h")
    rows = pd.concat([pd.DataFrame({"start": start}, index=t.index), v, seg], axis=1)
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
    for c in _SUMS:
        out[c] = out[c].fillna(0.0)
    out["agents_observed"] = out["agents_observed"].fillna(0.0)
    out["roster_required"] = np.nan
    return out


def _roster_length(st: pd.DataFrame, interval_s) -> float:
    """Roster interval length in seconds: given, else the most common gap between consecutive
    interval starts of a channel, over all channels (ties: the shortest)."""
    if interval_s is not None:
        if isinstance(interval_s, bool) or not isinstance(interval_s, int | float) or not 0 < interval_s < np.inf:
            raise KPIError(f"interval_s must be a positive number of seconds (e.g. 1800), got {interval_s!r}")
        return float(interval_s)
    gaps = []
    for _, s in st.groupby(st["channel"].astype("str"), sort=False):
        u = np.unique(pd.DatetimeIndex(s["interval_start"]).as_unit("ns").asi8)
        gaps.append(np.diff(u))
    gaps = np.concatenate(gaps) if gaps else np.zeros(0, dtype=np.int64)
    gaps = gaps[gaps > 0]
    if not len(gaps):
        raise KPIError("interval_s: the staffing table has a single interval start, so its interval "
                       "length cannot be inferred; pass interval_s (e.g. 1800)")
    vals, counts = np.unique(gaps, return_counts=True)
    return float(vals[np.argmax(counts)]) / 1e9


def _roster_table(ds, *, channel=None, by=(), threshold_s=None, month=None,
                  interval_s=None) -> tuple[pd.DataFrame, float, int]:
    """Roster path: one row per roster interval (and channel with ``by=["channel"]``).

    Contacts are placed in the roster interval [start, start + length) of their channel (or of
    all channels together) by ``queued_at``; staffed agents of several channels are summed.
    Returns (table, interval length in seconds, contacts of the selection outside every interval).
    """
    tz = ds.settings.timezone
    thr = _option(ds, threshold_s, "service_level_s", "threshold_s")
    st = ds.staffing
    st = st[st["interval_start"].notna() & st["staffed_agents"].notna()]
    length = _roster_length(st, interval_s)  # from the whole roster (all channels)
    st_ch = st["channel"].astype("str")
    if channel is not None:
        st, st_ch = st[st_ch == channel], st_ch[st_ch == channel]
    if month is not None:
        keep = to_period(st["interval_start"], "M", tz) == month
        st, st_ch = st[keep], st_ch[keep]
    planned = (_floats(st, "required_agents") if "required_agents" in st.columns
               else np.full(len(st), np.nan))
    r = pd.DataFrame({"interval_start": st["interval_start"].dt.as_unit("ns"), "channel": st_ch,
                      "staffed": _floats(st, "staffed_agents"), "planned": planned})
    gk = ["channel"] if "channel" in by else []
    r = (r.groupby([*gk, "interval_start"], sort=True)[["staffed", "planned"]].sum(min_count=1)
         .reset_index().rename(columns={"staffed": "agents_observed", "planned": "roster_required"}))
    # contacts of the selection, placed in their roster interval (vectorised: searchsorted)
    t = ds.contacts
    sel = t["queued_at"].notna()
    if channel is not None:
        sel &= t["channel"].astype("str") == channel
    if month is not None:
        sel &= to_period(t["queued_at"], "M", tz) == month
    t, v = t[sel], _contact_sums(ds, thr)[sel]
    q = pd.DatetimeIndex(t["queued_at"]).as_unit("ns").asi8
    c_ch = t["channel"].astype("str").to_numpy()
    ids = np.full(len(t), -1, dtype=np.int64)
    step = int(round(length * 1e9))
    groups = r.groupby(gk, sort=True).indices.items() if gk else [(None, np.arange(len(r)))]
    for key, pos_rows in groups:
        key = key[0] if isinstance(key, tuple) else key
        if not len(pos_rows):
            continue
        starts = pd.DatetimeIndex(r["interval_start"].iloc[pos_rows]).asi8
        m = np.ones(len(t), bool) if key is None else c_ch == key
        pos = np.searchsorted(starts, q[m], side="right") - 1
        ok = (pos >= 0) & (q[m] < starts[np.clip(pos, 0, None)] + step)
        ids[m] = np.where(ok, pos_rows[np.clip(pos, 0, None)], -1)
    inside = ids >= 0
    for c in _SUMS:
        r[c] = np.bincount(ids[inside], weights=v[c].to_numpy()[inside], minlength=len(r))
    r["start"] = local_times(r["interval_start"], tz)
    return r, length, int((~inside).sum())


def _erlang(rows: pd.DataFrame, *, target_s: float, service_level_target: float, shrinkage: float,
            aht_col="aht_s", calls_col="calls", agents_col="agents_observed",
            interval_s: float = 3600.0) -> pd.DataFrame:
    from kpitools.stats.staffing import staffing_by_interval

    arr = pd.DataFrame({"interval_start": np.arange(len(rows)), "calls": rows[calls_col].to_numpy(float),
                        "aht_s": rows[aht_col].to_numpy(float)})
    if agents_col is not None:
        arr["agents_observed"] = rows[agents_col].to_numpy(float)
    return staffing_by_interval(arr, interval_s=interval_s, target_s=target_s, service_level=service_level_target,
                                shrinkage=shrinkage).set_index(rows.index)


def _patience(wait: np.ndarray, abandoned: np.ndarray, outcome: np.ndarray) -> tuple[float, int, float, int]:
    """Exponential-patience MLE: (patience_s, abandons, exposure_s, contacts used)."""
    use = outcome & ~np.isnan(wait)
    d = int((abandoned & use).sum())
    exposure = float(np.clip(wait[use], 0.0, None).sum())
    return (exposure / d if d else np.inf), d, exposure, int(use.sum())


def caller_patience(ds, *, month=None, channel="phone", confidence=0.95) -> pd.DataFrame:
    """Mean caller patience estimated from the contacts (exponential patience, right-censored).

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` (``answered_at`` and ``ended_at`` give the waits).
    month : str or Period, optional
        Month in the business timezone (``"2026-10"``); default the whole dataset.
    channel : str or None, default "phone"
        Contacts of this channel only; None for all channels together.
    confidence : float, default 0.95
        Level of the interval for the mean patience.

    Returns
    -------
    DataFrame
        One row: ``channel`` ("all" for None), ``month`` (str, "all" for None), ``contacts``
        (answered or abandoned with a known wait), ``abandons``, ``exposure_s`` (total time in
        queue of those contacts), ``patience_s`` (mean patience in seconds; inf without abandons,
        so an Erlang A model is not available), ``ci_low``, ``ci_high``, ``confidence``.

    Notes
    -----
    Patience is exponential with mean ``1/theta``. An abandoned contact shows its patience (time
    to abandon); an answered contact shows only that its patience exceeded its wait (right
    censored). The likelihood ``theta^d exp(-theta S)`` with ``d`` abandons and ``S`` the sum of
    all waits (answered waits + times to abandon) is maximal at

        mean patience = S / d = total time in queue of all contacts / abandoned contacts,

    the standard censored-exponential MLE (Mandelbaum and Zeltyn 2007, Erlang A; Lawless,
    *Statistical Models and Methods for Lifetime Data*, 2nd ed. 2003, sec. 2.2). The interval is
    Wald on the log scale, ``S/d exp(-/+ z / sqrt(d))`` (the observed information of
    ``log theta`` is ``d``). All abandons count, short ones included (the model's abandonment has no
    threshold); contacts without an outcome or without a known wait are left out.
    """
    if not ds.has("contacts"):
        raise KPIUnavailable("caller_patience: table 'contacts' absent")
    _check_channel(channel)
    m = _month(month)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise KPIError(f"confidence must be a level in (0, 1) such as 0.95, got {confidence!r}")
    t, f = ds.contacts, contact_facts(ds)
    sel = np.ones(len(t), bool)
    if channel is not None:
        sel &= (t["channel"].astype("str") == channel).to_numpy()
    if m is not None:
        sel &= (to_period(t["queued_at"], "M", ds.settings.timezone) == m).to_numpy()
    p, d, s, n = _patience(f["wait_s"].to_numpy()[sel], f["abandoned"].to_numpy()[sel], f["outcome"].to_numpy()[sel])
    from scipy.stats import norm

    z = norm.ppf(0.5 + confidence / 2)
    lo, hi = (p * np.exp(-z / np.sqrt(d)), p * np.exp(z / np.sqrt(d))) if d and p > 0 else (np.nan, np.nan)
    return pd.DataFrame({"channel": ["all" if channel is None else channel],
                         "month": ["all" if m is None else str(m)], "contacts": [n], "abandons": [d],
                         "exposure_s": [s], "patience_s": [p], "ci_low": [lo], "ci_high": [hi],
                         "confidence": [float(confidence)]})


def _erlang_a_columns(iv: pd.DataFrame, *, interval_s: float, target_s: float,
                      patience_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Erlang A service level and P(abandon) per interval with whole agents (loop over intervals)."""
    from kpitools.stats._common import StatsInputError
    from kpitools.stats.staffing import erlang_a

    calls = iv["calls"].to_numpy(float)
    aht = iv["aht_s"].to_numpy(float)
    agents = np.floor(iv["agents_observed"].to_numpy(float) + 0.5)  # nearest whole agent, halves up
    sl, ab = np.full(len(iv), np.nan), np.full(len(iv), np.nan)
    if not (np.isfinite(patience_s) and patience_s > 0):
        return agents, sl, ab
    todo = (calls > 0) & np.isfinite(aht) & (aht > 0) & np.isfinite(agents)
    nobody = todo & (agents < 1)  # no agent: every caller abandons, none is answered
    sl[nobody], ab[nobody] = 0.0, 1.0
    seen: dict[tuple, tuple[float, float]] = {}
    for i in np.flatnonzero(todo & (agents >= 1)):
        key = (calls[i], aht[i], agents[i])
        if key not in seen:
            try:
                r = erlang_a(calls[i], interval_s, aht[i], int(agents[i]), target_s, patience_s)
                seen[key] = (r["service_level"], r["p_abandon"])
            except StatsInputError:  # chain too long (extreme overload with long patience)
                seen[key] = (np.nan, np.nan)
        sl[i], ab[i] = seen[key]
    return agents, sl, ab


def _modelled(iv: pd.DataFrame, *, interval_s: float, thr: float, service_level: float, shrinkage: float,
              fallback: list[str], patience_s: float | None) -> pd.DataFrame:
    """Add AHT, Erlang C (required, gap, SL with the agents) and Erlang A columns per interval."""
    iv = iv.copy()
    tot = iv["handled"].sum()
    overall = iv["handle"].sum() / tot if tot > 0 else np.nan
    if fallback:
        cell = iv.groupby(fallback, sort=False)[["handle", "handled"]].transform("sum")
        cell_aht = cell["handle"] / cell["handled"].where(cell["handled"] > 0)
    else:
        cell_aht = pd.Series(np.nan, index=iv.index)
    iv["aht_s"] = (iv["handle"] / iv["handled"].where(iv["handled"] > 0)).fillna(cell_aht).fillna(overall)
    e = _erlang(iv, target_s=thr, service_level_target=service_level, shrinkage=shrinkage, interval_s=interval_s)
    iv["traffic"] = e["traffic"]
    iv["agents_required"] = e["required_agents"].astype("Float64").astype("float64")
    iv["gap"] = e["gap"]
    iv["understaffed"] = (iv["gap"] < 0).to_numpy(dtype=bool)
    iv["sl_modelled"] = e["service_level_observed"]
    if patience_s is None:
        iv["agents_whole"] = np.floor(iv["agents_observed"] + 0.5)
        iv["sl_modelled_a"] = np.nan
        iv["abandon_modelled"] = np.nan
    else:
        iv["agents_whole"], iv["sl_modelled_a"], iv["abandon_modelled"] = _erlang_a_columns(
            iv, interval_s=interval_s, target_s=thr, patience_s=patience_s)
    return iv


_INTERVAL_COLUMNS = [
    "interval_start", "hour", "weekday", "channel", "interval_s", "agents_source", "calls", "answered",
    "abandoned", "aht_s", "traffic", "agents_observed", "agents_whole", "agents_required", "roster_required",
    "gap", "understaffed", "sl_num", "sl_den", "sl_observed", "sl_modelled", "sl_modelled_a",
    "abandon_observed", "abandon_modelled", "patience_s", "target_s", "service_level_target",
]


def _staffing_rows(ds, *, month, channel, thr, service_level, shrinkage, source, interval_s, patience_s,
                   by_weekday) -> tuple[pd.DataFrame, float, str, int]:
    """Per-interval table for one channel (or all) and month; cached on the dataset."""
    key = ("kpis.staffing_rows", None if month is None else str(month), channel, thr, float(service_level),
           float(shrinkage), source, interval_s, patience_s, bool(by_weekday))
    iv, length, outside = facts.of(ds).memo((_staffing_rows, *key[1:]), lambda: _build_staffing_rows(
        ds, month=month, channel=channel, thr=thr, service_level=service_level, shrinkage=shrinkage,
        source=source, interval_s=interval_s, patience_s=patience_s, by_weekday=by_weekday))
    return iv.copy(), length, source, outside


def _build_staffing_rows(ds, *, month, channel, thr, service_level, shrinkage, source, interval_s, patience_s,
                         by_weekday) -> tuple[pd.DataFrame, float, int]:
    tz = ds.settings.timezone
    if source == ROSTER:
        iv, length, outside = _roster_table(ds, channel=channel, threshold_s=thr, month=month, interval_s=interval_s)
    else:
        q = ds.contacts["queued_at"]
        mask = (to_period(q, "M", tz) == month) if month is not None else None
        iv, length, outside = _interval_table(ds, channel=channel, threshold_s=thr, mask=mask), 3600.0, 0
        iv["interval_start"] = (pd.DatetimeIndex(iv["start"]).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
                                .tz_convert("UTC").as_unit("ns"))
    iv["hour"] = iv["start"].dt.hour.astype("int64")
    iv["weekday"] = _WEEKDAYS[iv["start"].dt.day_of_week.to_numpy()]
    if patience_s is None:
        t, f = ds.contacts, contact_facts(ds)
        sel = t["queued_at"].notna().to_numpy().copy()
        if channel is not None:
            sel &= (t["channel"].astype("str") == channel).to_numpy()
        if month is not None:
            sel &= (to_period(t["queued_at"], "M", tz) == month).to_numpy()
        patience_s = _patience(f["wait_s"].to_numpy()[sel], f["abandoned"].to_numpy()[sel],
                               f["outcome"].to_numpy()[sel])[0]
    fallback = ["hour", "weekday"] if by_weekday else ["hour"]
    iv = _modelled(iv, interval_s=length, thr=thr, service_level=service_level, shrinkage=shrinkage,
                   fallback=fallback, patience_s=patience_s)
    iv["channel"] = "all" if channel is None else channel
    iv["interval_s"] = length
    iv["agents_source"] = source
    iv["sl_observed"] = iv["sl_num"] / iv["sl_den"].where(iv["sl_den"] > 0)
    outcome = iv["answered"] + iv["abandoned"]
    iv["abandon_observed"] = iv["abandoned"] / outcome.where(outcome > 0)
    iv["patience_s"] = float(patience_s)
    iv["target_s"] = thr
    iv["service_level_target"] = float(service_level)
    iv = iv.sort_values("interval_start", kind="stable").reset_index(drop=True)
    return iv, length, outside


def _staffing_args(ds, *, month, channel, target_s, service_level, shrinkage, source, interval_s, patience_s):
    if not ds.has("contacts"):
        raise KPIUnavailable("staffing: table 'contacts' absent")
    _check_channel(channel)
    m = _month(month)
    thr = _option(ds, target_s, "service_level_s", "target_s")
    if isinstance(service_level, bool) or not isinstance(service_level, int | float) or not 0 < service_level < 1:
        raise KPIError(f"service_level must be a share in (0, 1) such as 0.8, got {service_level!r}")
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, int | float) or not 0 <= shrinkage < 1:
        raise KPIError(f"shrinkage must be a share in [0, 1) such as 0.3, got {shrinkage!r}")
    if patience_s is not None and (isinstance(patience_s, bool) or not isinstance(patience_s, int | float)
                                   or not 0 < patience_s < np.inf):
        raise KPIError(f"patience_s must be a positive number of seconds or None (estimate), got {patience_s!r}")
    src = _agents_source(ds, source, channel)
    if interval_s is not None:
        _roster_length(None, interval_s)  # validates the value
    return m, thr, src, (None if patience_s is None else float(patience_s))


def staffing_intervals(ds, *, month=None, channel="phone", target_s=None, service_level=0.8, shrinkage=0.0,
                       source="auto", interval_s=None, patience_s=None) -> pd.DataFrame:
    """Erlang C and Erlang A per staffing interval, next to what the contacts show (modelled vs observed).

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts``; uses the ``staffing`` roster when present (see ``source``).
    month : str or Period, optional
        Month in the business timezone (``"2026-10"``); default the whole dataset (slow with
        Erlang A: a few ms per interval).
    channel : str or None, default "phone"
        This channel only; None for all channels together (roster agents summed over channels per
        interval start, which assumes the channels' roster intervals are aligned).
    target_s : float, optional
        Service-level threshold T (default: setting ``service_level_s``).
    service_level : float, default 0.8
        Target share answered within T for the required agents.
    shrinkage : float, default 0.0
        Share of paid time unavailable (only affects ``agents_scheduled`` of :func:`staffing_by_hour`).
    source : {"auto", "roster", "answering agents"}
        Where agents come from: the ``staffing`` table's ``staffed_agents`` per roster interval, or
        the distinct agents answering per local clock hour (the proxy). "auto": the roster when
        the dataset has one with rows for ``channel``.
    interval_s : float, optional
        Roster interval length in seconds (default: the most common gap between consecutive
        interval starts of a channel in the whole roster, the shortest on a tie; 1800 on the
        sample). The proxy always uses 3600.
    patience_s : float, optional
        Mean caller patience for Erlang A (default: estimated from the selection's contacts, see
        :func:`caller_patience`).

    Returns
    -------
    DataFrame
        One row per interval (roster: every roster interval of the month, with or without
        contacts; proxy: local hours with contacts or answers), sorted by start:

        - ``interval_start`` (UTC), ``hour``, ``weekday`` (local start), ``channel`` ("all" for None)
        - ``interval_s`` (model interval length), ``agents_source`` ("roster" or "answering agents")
        - ``calls`` (offered), ``answered``, ``abandoned``
        - ``aht_s``: the interval's mean handle time; the hour-of-day cell's (or the selection's)
          when no contact of the interval was handled
        - ``traffic``: calls x aht_s / interval_s (Erlangs)
        - ``agents_observed``: roster ``staffed_agents`` (summed over channels for None) or
          distinct agents answering; ``agents_whole``: rounded to whole agents for Erlang A
        - ``agents_required``: Erlang C agents for the target; ``roster_required``: the roster's own
          ``required_agents`` (the plan; NaN when absent); ``gap`` = agents_observed -
          agents_required; ``understaffed``: gap < 0
        - ``sl_num``, ``sl_den``, ``sl_observed``: answered within T / (answered + abandoned after T)
        - ``sl_modelled``: Erlang C service level with the agents (0 when they do not exceed the
          traffic, NaN without calls)
        - ``sl_modelled_a``, ``abandon_modelled``: Erlang A service level (docs/methods.md#erlang-a form) and
          P(abandon) with ``agents_whole`` and ``patience_s`` (no agent: 0 and 1; NaN without calls
          or without an abandon to estimate patience from)
        - ``abandon_observed``: abandoned / (answered + abandoned), short abandons included
        - ``patience_s``, ``target_s``, ``service_level_target``

        ``attrs["calls_outside_roster"]``: contacts of the selection in no roster interval (left
        out of the table).

    Notes
    -----
    Each interval is modelled with its own calls, AHT and agents over the roster's interval
    length (Erlang C and A are per interval: averaging first would hide the short intervals).
    Erlang C: :func:`kpitools.stats.staffing.erlang_c` (docs/methods.md#erlang-c reference: 100 calls per
    30 min, AHT 180 s, N = 14 gives SL 0.8884). Erlang A: :func:`kpitools.stats.staffing.erlang_a`
    with the patience MLE of :func:`caller_patience` (total time in queue / abandons). A contact
    belongs to the roster interval [start, start + interval_s) of its channel that contains its
    ``queued_at``.
    """
    m, thr, src, pat = _staffing_args(ds, month=month, channel=channel, target_s=target_s,
                                      service_level=service_level, shrinkage=shrinkage, source=source,
                                      interval_s=interval_s, patience_s=patience_s)
    iv, _, _, outside = _staffing_rows(ds, month=m, channel=channel, thr=thr, service_level=service_level,
                                       shrinkage=shrinkage, source=src, interval_s=interval_s, patience_s=pat,
                                       by_weekday=False)
    out = iv[_INTERVAL_COLUMNS].reset_index(drop=True) if len(iv) else pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in _INTERVAL_COLUMNS})
    out.attrs["calls_outside_roster"] = outside
    return out


def staffing_by_hour(ds, *, month=None, channel="phone", by_weekday=False, target_s=None,
                     service_level=0.8, shrinkage=0.0, source="auto", interval_s=None,
                     patience_s=None) -> pd.DataFrame:
    """Erlang C / Erlang A staffing per hour of day compared with the agents staffed (roster) or answering.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` (``answered_at`` and ``talk_s``; ``agent_id`` for the answering-agents
        proxy). Uses the ``staffing`` roster when present.
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
    source, interval_s, patience_s
        As for :func:`staffing_intervals`: agents from the roster ("auto" when present) or the
        distinct agents answering; roster interval length; mean patience (default estimated).

    Returns
    -------
    DataFrame
        One row per hour (0-23) [x ``weekday`` mon..sun] with intervals:

        - ``hour`` (int), ``weekday`` (str, with ``by_weekday``)
        - ``intervals``: model intervals averaged over (roster: roster intervals of that hour, with
          or without contacts, two per day for 30-minute rosters; proxy: days, including days
          without contacts)
        - ``calls``: contacts offered in all those intervals
        - ``calls_per_interval``: mean contacts offered per model interval (``interval_s`` long)
        - ``calls_per_hour``: calls_per_interval x 3600 / interval_s
        - ``aht_s``: mean handle time of answered contacts (talk + hold + wrap-up); the
          selection's overall AHT for a cell in which no contact was handled
        - ``traffic``: offered load in Erlangs (calls_per_interval x aht_s / interval_s)
        - ``agents_observed``: mean roster ``staffed_agents`` (roster) or mean number of distinct
          agents answering (proxy) per interval
        - ``agents_source``: "roster" or "answering agents"; ``interval_s``: 1800 for a
          30-minute roster, 3600 for the proxy
        - ``agents_required``: Erlang C agents for the target at the mean load per interval
        - ``roster_required``: mean of the roster's own ``required_agents`` (the plan; NaN when absent)
        - ``agents_scheduled``: required / (1 - shrinkage), rounded up
        - ``understaffed_intervals``: intervals with contacts whose agents are below that
          interval's own Erlang C requirement
        - ``sl_observed``: answered within T / (answered + abandoned after T)
        - ``sl_modelled``: Erlang C service level per interval with the agents of that interval
          (0 when they do not exceed the traffic), weighted by calls
        - ``sl_modelled_a``: Erlang A service level per interval (whole agents, patience
          ``patience_s``), weighted by calls
        - ``abandon_observed``: abandoned / (answered + abandoned) (short abandons included)
        - ``abandon_modelled``: Erlang A P(abandon) per interval, weighted by calls
        - ``patience_s``: mean caller patience used by Erlang A (seconds)
        - ``gap``: agents_observed - agents_required (negative = short)
        - ``understaffed``: gap < 0
        - ``target_s``, ``service_level_target``

        ``attrs["calls_outside_roster"]``: contacts of the selection in no roster interval.

    Notes
    -----
    Erlang C (docs/methods.md#erlang-c): A = calls x AHT / interval; P_wait = N B / (N - A (1 - B));
    SL(T) = 1 - P_wait exp(-(N - A) T / AHT); required agents = the smallest N > A with SL >= target
    (:func:`kpitools.stats.staffing.staffing_by_interval`). Erlang A
    (:func:`kpitools.stats.staffing.erlang_a`) adds exponential caller patience, estimated by
    :func:`caller_patience` as total time in queue of all contacts / abandoned contacts.

    Agents. With a ``staffing`` table (``source="auto"``/``"roster"``) the roster's
    ``staffed_agents`` of the channel are the agents, and the models run per roster interval
    (e.g. 30 min: calls and AHT of that half-hour from the contacts, staffed agents from the
    roster; see :func:`staffing_intervals`), then are averaged by hour of day. Without one
    (``"answering agents"``) they are the distinct agents who answered at least one contact in
    the local clock hour: a proxy for agents on the floor that misses idle agents (low volume)
    and counts every agent of a shift change within the hour, so it is not a roster. Proxy
    intervals are local clock hours; a DST day has 23 or 25 of them.
    """
    m, thr, src, pat = _staffing_args(ds, month=month, channel=channel, target_s=target_s,
                                      service_level=service_level, shrinkage=shrinkage, source=source,
                                      interval_s=interval_s, patience_s=patience_s)
    cols = ["hour", *(["weekday"] if by_weekday else []), "intervals", "calls", "calls_per_interval",
            "calls_per_hour", "aht_s", "traffic", "agents_observed", "agents_source", "interval_s",
            "agents_required", "roster_required", "agents_scheduled", "understaffed_intervals",
            "sl_observed", "sl_modelled", "sl_modelled_a", "abandon_observed", "abandon_modelled",
            "patience_s", "gap", "understaffed", "target_s", "service_level_target"]
    iv, length, _, outside = _staffing_rows(ds, month=m, channel=channel, thr=thr, service_level=service_level,
                                            shrinkage=shrinkage, source=src, interval_s=interval_s,
                                            patience_s=pat, by_weekday=by_weekday)
    if iv.empty:
        out = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
        out.attrs["calls_outside_roster"] = outside
        return out
    keys = ["hour", *(["weekday"] if by_weekday else [])]
    sl_c, sl_a, ab_a = (iv[c].to_numpy(float) for c in ("sl_modelled", "sl_modelled_a", "abandon_modelled"))
    calls = iv["calls"].to_numpy(float)
    iv = iv.assign(
        sl_w=np.where(np.isnan(sl_c), 0.0, sl_c * calls), w=np.where(np.isnan(sl_c), 0.0, calls),
        sla_w=np.where(np.isnan(sl_a), 0.0, sl_a * calls), wa=np.where(np.isnan(sl_a), 0.0, calls),
        aba_w=np.where(np.isnan(ab_a), 0.0, ab_a * calls),
        under_n=(iv["understaffed"] & (iv["calls"] > 0)).astype("float64"),
    )
    g = iv.groupby(keys, sort=True)
    out = g[["calls", "handle", "handled", "agents_observed", "sl_num", "sl_den", "answered", "abandoned",
             "sl_w", "w", "sla_w", "wa", "aba_w", "under_n"]].sum()
    out["roster_required"] = g["roster_required"].mean()
    out["n_rows"] = g.size().astype("float64")
    out = out.reset_index()
    if src == ROSTER:
        out["intervals"] = out["n_rows"]
    else:  # days covered: every local day from the first to the last contact of the selection
        days = pd.date_range(iv["start"].min().normalize(), iv["start"].max().normalize(), freq="D")
        if by_weekday:
            n_int = pd.Series(_WEEKDAYS[days.day_of_week]).value_counts()
            out["intervals"] = out["weekday"].map(n_int).astype("float64")
        else:
            out["intervals"] = float(len(days))
    tot = iv["handled"].sum()
    overall = iv["handle"].sum() / tot if tot > 0 else np.nan
    out["calls_per_interval"] = out["calls"] / out["intervals"]
    out["calls_per_hour"] = out["calls_per_interval"] * 3600.0 / length
    out["aht_s"] = (out["handle"] / out["handled"].where(out["handled"] > 0)).fillna(overall)
    out["agents_observed"] = out["agents_observed"] / out["intervals"]
    out["agents_source"] = src
    out["interval_s"] = length
    out["sl_observed"] = out["sl_num"] / out["sl_den"].where(out["sl_den"] > 0)
    out["sl_modelled"] = out["sl_w"] / out["w"].where(out["w"] > 0)
    out["sl_modelled_a"] = out["sla_w"] / out["wa"].where(out["wa"] > 0)
    out["abandon_modelled"] = out["aba_w"] / out["wa"].where(out["wa"] > 0)
    outcome = out["answered"] + out["abandoned"]
    out["abandon_observed"] = out["abandoned"] / outcome.where(outcome > 0)
    out["understaffed_intervals"] = out["under_n"]
    out["patience_s"] = float(iv["patience_s"].iloc[0])
    req = _erlang(out, target_s=thr, service_level_target=service_level, shrinkage=shrinkage,
                  calls_col="calls_per_interval", agents_col=None, interval_s=length)
    out["traffic"] = req["traffic"]
    out["agents_required"] = req["required_agents"].astype("Float64").astype("float64")
    out["agents_scheduled"] = req["scheduled_agents"].astype("Float64").astype("float64")
    out["gap"] = out["agents_observed"] - out["agents_required"]
    out["understaffed"] = (out["gap"] < 0).to_numpy(dtype=bool)
    out["target_s"] = thr
    out["service_level_target"] = float(service_level)
    if by_weekday:
        out["_wd"] = out["weekday"].map({w: i for i, w in enumerate(_WEEKDAYS)})
        out = out.sort_values(["_wd", "hour"]).drop(columns="_wd")
    out = out[cols].reset_index(drop=True)
    out.attrs["calls_outside_roster"] = outside
    return out


def _staffing_check(ds) -> str | None:
    if _has_roster(ds) or ds.has_columns("contacts", "agent_id"):
        return None
    return "needs the staffing table (roster) or contacts.agent_id (agents answering)"


@register(
    name="staffing_gap", title="Staffing gap (staffed - Erlang C required agents)", group="contact centre",
    definition=("Per staffing interval with contacts: agents staffed (the staffing roster's staffed_agents "
                "per roster interval; without a roster, distinct agents answering per local hour) minus "
                "the agents Erlang C requires for that interval's calls and AHT to reach 80% within T "
                "(setting service_level_s); mean over intervals. Negative = short-staffed."),
    formula="mean over intervals of (agents staffed - required_agents(calls, interval_s, AHT, T, 0.8))",
    unit="count", higher_is_better=None, stat="mean", basis="event",
    tables=("contacts",), columns={"contacts": ("answered_at", "talk_s")},
    segments=("channel", "hour", "weekday"),
    options="service_level_target=0.8; threshold_s=None; source='auto' (roster when present); interval_s=None",
    check=_staffing_check, bases=("event",),
)
def staffing_gap(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None,
                 service_level_target=0.8, threshold_s=None, source="auto", interval_s=None) -> pd.DataFrame:
    """Mean gap between agents staffed (roster) or answering and Erlang C required agents per interval.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` with ``answered_at`` and ``talk_s``, and the ``staffing`` roster or
        ``contacts.agent_id``.
    period : {"D", "W", "M", "Q"}
        Period of the interval start (local time).
    by : str or list of str, optional
        ``channel``, ``hour``, ``weekday`` (other segments are not meaningful for staffing).
    service_level_target : float, default 0.8
        Share answered within T the required agents must reach.
    threshold_s : float, optional
        T in seconds (default: setting ``service_level_s``).
    source : {"auto", "roster", "answering agents"}
        Agents from the roster (default when the dataset has a ``staffing`` table) or the distinct
        agents answering per local hour.
    interval_s : float, optional
        Roster interval length (default inferred from the roster, 1800 on the sample).

    Returns
    -------
    DataFrame
        Framework columns with ``value`` = mean gap in agents over intervals with contacts
        (``n`` = such intervals), ``mean``, ``sd``, plus ``understaffed`` (intervals with gap < 0),
        ``sl_observed`` (pooled observed service level), ``sl_modelled`` (call-weighted Erlang C
        service level with the agents), ``agents_source`` ("roster" or "answering agents") and
        ``interval_s`` (model interval length: the roster's, or 3600 for the proxy).

    Notes
    -----
    Erlang C as in :func:`staffing_by_hour`; per interval the required agents use that interval's
    own calls and AHT (the interval's AHT, else the segment's mean AHT). With the roster, an
    interval is a roster interval of the channel (``by="channel"``) or of all channels with the
    staffed agents summed; contacts outside every roster interval are left out. See
    :func:`staffing_by_hour` for the hour-of-day view the report plots and
    :func:`staffing_intervals` for Erlang A per interval.
    """
    bad = [b for b in (by or []) if b not in ("channel", "hour", "weekday")]
    if bad:
        raise KPIUnavailable(f"staffing_gap: segment(s) {bad} not supported; use channel, hour or weekday")
    if not isinstance(service_level_target, int | float) or isinstance(service_level_target, bool) \
            or not 0 < service_level_target < 1:
        raise KPIError(f"service_level_target must be a share in (0, 1) such as 0.8, got {service_level_target!r}")
    thr = _option(ds, threshold_s, "service_level_s", "threshold_s")
    src = _agents_source(ds, source)
    base = [b for b in (by or []) if b == "channel"]
    if src == ROSTER:
        iv, length, _ = _roster_table(ds, by=base, threshold_s=thr, interval_s=interval_s)
    else:
        iv, length = _interval_table(ds, by=base, threshold_s=thr), 3600.0
    iv = iv[iv["calls"] > 0].reset_index(drop=True)
    if base:
        seg_aht = iv.groupby(base)[["handle", "handled"]].transform("sum")
    else:
        seg_aht = pd.DataFrame({"handle": iv["handle"].sum(), "handled": iv["handled"].sum()}, index=iv.index)
    iv["aht_s"] = (iv["handle"] / iv["handled"].where(iv["handled"] > 0)).fillna(
        seg_aht["handle"] / seg_aht["handled"].where(seg_aht["handled"] > 0))
    e = _erlang(iv, target_s=thr, service_level_target=service_level_target, shrinkage=0.0, interval_s=length)
    iv["gap"] = e["gap"]
    iv["under"] = (e["gap"] < 0).astype("float64")
    iv["sl_w"] = (e["service_level_observed"] * iv["calls"]).fillna(0.0)
    iv["w"] = np.where(e["service_level_observed"].notna(), iv["calls"], 0.0)
    if "hour" in (by or []):
        iv["hour"] = iv["start"].dt.hour.astype("int64").astype("str").str.zfill(2)
    if "weekday" in (by or []):
        iv["weekday"] = _WEEKDAYS[iv["start"].dt.day_of_week.to_numpy()]
    iv["period"] = iv["start"].dt.to_period(PERIODS[period])
    by = list(by or [])
    for b in by:
        iv[b] = iv[b].astype("str")
    agg = Agg.from_values(iv, "gap", by=by, periods=_span_contacts(ds, period), levels=levels_of(iv, by),
                          denominator_label="intervals with contacts",
                          note=f"T = {thr:g} s, target {service_level_target:g}, agents: {src} "
                               f"({length:g} s intervals)")
    keys = ["period", *by]
    ext = iv.groupby(keys, observed=True, sort=True)[["under", "sl_num", "sl_den", "sl_w", "w"]].sum().reset_index()
    ext["understaffed"] = ext["under"]
    ext["sl_observed"] = ext["sl_num"] / ext["sl_den"].where(ext["sl_den"] > 0)
    ext["sl_modelled"] = ext["sl_w"] / ext["w"].where(ext["w"] > 0)
    if len(agg.table):
        agg.table = agg.table.merge(ext[[*keys, "understaffed", "sl_observed", "sl_modelled"]], on=keys, how="left")
    agg.extras = {"understaffed": 0.0, "sl_observed": np.nan, "sl_modelled": np.nan}
    agg.constants = {"agents_source": src, "interval_s": length}
    return finish(agg, spec=staffing_gap.spec, ds=ds, period=period, by=by, basis=basis, clock=clock,
                  confidence=confidence, method=method)
