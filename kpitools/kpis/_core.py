"""The KPI framework: registry, catalogue, period cuts, the aggregate -> finish pipeline.

Every KPI is one function plus one catalogue entry, registered with :func:`register`::

    @register(name="csat", title="Customer satisfaction (CSAT)", group="quality",
              definition="...", formula="...", unit="share", higher_is_better=True,
              stat="proportion", basis="event", tables=("surveys",),
              columns={"surveys": ("score", "survey", "submitted_at")},
              segments=("channel", "agent_id"))
    def csat(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95,
             method=None, **options) -> pd.DataFrame:
        s = ds.surveys[ds.surveys["survey"] == "csat"]
        tz = ds.settings.timezone
        rows = pd.concat([pd.DataFrame({"period": to_period(s["submitted_at"], period, tz),
                                        "top": s["score"] >= 4, "one": 1}),
                          segment_frame(ds, s, by, ts=s["submitted_at"], main="surveys")], axis=1)
        agg = Agg.from_rows(rows, by=by, sums={"numerator": "top", "denominator": "one"},
                            periods=span(s["submitted_at"], period=period, tz=tz),
                            denominator_label="survey answers")
        return finish(agg, spec=csat.spec, ds=ds, period=period, by=by, basis=basis,
                      clock=clock, confidence=confidence, method=method)

The wrapper installed by :func:`register` checks and normalises the common arguments before the
function runs (``by`` arrives as a list, ``basis``/``clock`` defaulted from the spec) and raises
:class:`KPIUnavailable` when a required table, column or segment is missing.
Counts (``stat="count"``) show 0 for empty cells (n = 0, note "no data"); every other stat
shows NaN there.

A KPI may instead *declare* what it reduces and let the wrapper do the rest: it returns its
:class:`Agg` (a table the facts do not hold, e.g. subscription cohorts: the wrapper estimates and
presents), or
:class:`Sums` (a facts table, the timestamp of its periods, per-row measures to add up and the
population) or :class:`Durations` (start/end pairs censored at the cut-off); the wrapper groups
through :func:`cells` (one cell code per row, built once per table, timestamp, period and segments
and shared by every KPI of that table), completes the grid, estimates and presents::

    def ticket_volume(ds, *, period="M", by=None, ...):
        return Sums("tickets", "created_at", sums={"n": np.ones(len(ds.tickets))})

Rows, periods, segments and ticket-event facts come from :mod:`kpitools.facts` (built once per
dataset); the estimate step is the table :data:`ESTIMATORS` (stat -> estimator).

The three layers (``docs``: aggregate -> estimate -> present):

1. the KPI function builds per-row data and :class:`Agg` (sufficient statistics per period and
   segment: sums of counts, or the (duration, observed) pairs of a duration KPI);
2. :func:`finish` turns the sufficient statistics into values and intervals
   (:mod:`kpitools.stats.intervals`, :func:`kpitools.stats.survival.km_summary`);
3. the output is one tidy DataFrame with fixed columns (see :data:`BASE_COLUMNS`).

Periods are cut in the business timezone (:func:`to_period`). Segments (``by``) come from the KPI's
main table; tables that carry ``ticket_id`` borrow ticket columns (category, priority, ...) by a join.
Missing segment values become the level ``"(missing)"`` so that counts add up to the total.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kpitools import facts

__all__ = [
    "KPISpec",
    "Agg",
    "KPIError",
    "KPIUnavailable",
    "REGISTRY",
    "BASE_COLUMNS",
    "PERIODS",
    "STATS",
    "UNITS",
    "MISSING",
    "register",
    "finish",
    "Sums",
    "Durations",
    "Values",
    "Means",
    "reduce_durations",
    "reduce_values",
    "reduce_means",
    "cells",
    "reduce_sums",
    "ESTIMATORS",
    "Cells",
    "Estimate",
    "to_period",
    "period_range",
    "period_bounds",
    "span",
    "local_times",
    "segment_frame",
    "ticket_segments",
    "ticket_levels",
    "levels_of",
    "missing_requirements",
    "catalogue",
    "kpi_table",
    "skipped_kpis",
    "elapsed",
]

#: Allowed ``period`` codes and the pandas Period frequency each maps to.
PERIODS: dict[str, str] = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC"}
STATS = ("proportion", "nps", "mean", "count", "duration", "ratio", "money", "level")
UNITS = ("share", "points", "count", "seconds", "ratio", "currency", "score", "percent")
BASES = ("created", "event")
CLOCKS = ("business", "calendar")
#: Segment level used for rows whose segment column is empty.
MISSING = "(missing)"
#: Segments derived from the KPI's main timestamp rather than read from a column.
DERIVED_SEGMENTS = ("hour", "weekday")
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Output columns in order; ``<by columns>`` are inserted after ``period``.
BASE_COLUMNS = (
    "kpi", "period", "value", "numerator", "denominator", "n", "unit", "stat", "basis", "clock",
    "ci_low", "ci_high", "method", "confidence", "target", "target_met", "note",
)
#: Stat-specific extra columns (appended after ``note``).
STAT_EXTRAS: dict[str, tuple[str, ...]] = {
    "nps": ("detractors", "passives", "promoters"),
    "mean": ("mean", "sd"),
    "duration": ("p90", "p90_ci_low", "p90_ci_high", "mean_observed", "censored",
                 "rmst", "rmst_ci_low", "rmst_ci_high", "rmst_horizon_s"),
}
DEFAULT_METHOD = {"proportion": "wilson", "nps": "adjusted_wald", "mean": "t", "duration": "kaplan-meier"}
#: Interval methods of a mean: ``t`` from n / mean / sd; ``bootstrap`` (seeded percentile
#: bootstrap of the cell's values) where the KPI keeps its values (``Agg.values``).
MEAN_METHODS = ("bootstrap", "t")
#: Default seed and resamples of the bootstrap intervals, so reports reproduce.
BOOTSTRAP_SEED = 20260601
BOOTSTRAP_N = 1000


class KPIError(ValueError):
    """A KPI was called with a parameter value it cannot use."""


class KPIUnavailable(KPIError):
    """The dataset lacks a table or column the KPI needs (``kpi_table`` skips such KPIs)."""


# --- hook of kpitools.dask_engine: capture a KPI's aggregate before finish ------------------------
#: True inside :func:`capture_aggregates`: :func:`finish` raises :class:`CapturedAggregate`.
_CAPTURE: ContextVar[bool] = ContextVar("kpitools_capture_aggregates", default=False)


class CapturedAggregate(Exception):  # noqa: N818 (control flow, not an error)
    """Raised by :func:`finish` under :func:`capture_aggregates`: the :class:`Agg` and finish's arguments."""

    def __init__(self, agg: Agg, arguments: dict):
        super().__init__(arguments["spec"].name)
        self.agg, self.arguments = agg, arguments


@contextmanager
def capture_aggregates():
    """Within this block every KPI call stops at :func:`finish` and raises :class:`CapturedAggregate`
    (the Dask engine merges the partitions' aggregates, then finishes once)."""
    token = _CAPTURE.set(True)
    try:
        yield
    finally:
        _CAPTURE.reset(token)


@dataclass(frozen=True)
class KPISpec:
    """Catalogue entry of one KPI (see :func:`register` for the meaning of each field)."""

    name: str
    title: str
    group: str
    definition: str
    formula: str
    unit: str
    higher_is_better: bool | None
    stat: str
    basis: str | None
    tables: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    segments: tuple[str, ...]
    func: Callable[..., pd.DataFrame] = field(compare=False, repr=False)
    clock: str | None = None
    options: str = ""
    check: Callable[[Any], str | None] | None = field(default=None, compare=False, repr=False)
    bases: tuple[str, ...] = ()
    method: str | None = None

    @property
    def main_table(self) -> str | None:
        return self.tables[0] if self.tables else None


REGISTRY: dict[str, KPISpec] = {}


# ----------------------------------------------------------------------------------------------
# parameter checks
# ----------------------------------------------------------------------------------------------
def _check_period(period: Any) -> str:
    if not isinstance(period, str) or period not in PERIODS:
        raise KPIError(f"period must be one of {list(PERIODS)} (day, week, month, quarter), got {period!r}")
    return period


def _check_by(by: Any) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    if isinstance(by, Iterable):
        out = list(by)
        if all(isinstance(b, str) for b in out) and len(set(out)) == len(out):
            return out
    raise KPIError(f"by must be None, a column name or a list of distinct column names, got {by!r}")


def _check_confidence(confidence: Any) -> float:
    if not isinstance(confidence, int | float) or isinstance(confidence, bool) or not 0 < confidence < 1:
        raise KPIError(f"confidence must be a number strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def _check_choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise KPIError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


# ----------------------------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------------------------
def register(
    *,
    name: str,
    title: str,
    group: str,
    definition: str,
    formula: str,
    unit: str,
    higher_is_better: bool | None,
    stat: str,
    basis: str | None,
    tables: Sequence[str],
    columns: dict[str, Sequence[str]] | None = None,
    segments: Sequence[str] = (),
    clock: str | None = None,
    options: str = "",
    check: Callable[[Any], str | None] | None = None,
    bases: Sequence[str] | None = None,
    clock_option: bool | None = None,
    method: str | None = None,
) -> Callable[[Callable[..., pd.DataFrame]], Callable[..., pd.DataFrame]]:
    """Register a KPI function and its catalogue entry.

    Parameters
    ----------
    name : str
        Public KPI name (``kpi`` column of every result), unique.
    title, group, definition, formula : str
        Human-readable catalogue text; ``group`` is volume, responsiveness, quality, sla,
        contact centre, cost, team or business.
    unit : str
        One of :data:`UNITS`.
    higher_is_better : bool or None
        Direction, used for ``target_met``; None when a KPI has no direction (volume).
    stat : str
        One of :data:`STATS`; decides how :func:`finish` estimates and which extras it adds.
    basis : {"created", "event"} or None
        Default cohort basis; None for KPIs where it does not apply (echoed as NaN).
    tables : sequence of str
        Required tables, main table first (periods and segments come from the main table).
    columns : dict, optional
        Required columns per table (beyond the contract's required columns).
    segments : sequence of str
        Default segments that make sense for this KPI (catalogue information).
    clock : {"business", "calendar"} or None
        Default clock of a duration KPI.
    options : str
        Free text describing KPI-specific options (catalogue information).
    check : callable, optional
        ``check(ds) -> reason or None``: an extra availability test beyond tables and columns.
    bases : sequence of str, optional
        Cohort bases the KPI supports (default: both when ``basis`` is set, none otherwise).
    clock_option : bool, optional
        Whether callers may pass ``clock`` (default: when ``clock`` is set). With ``clock=None``
        and ``clock_option=True`` the function receives None unless the caller chose a clock
        (SLA KPIs: None means the clock configured per priority).
    method : str, optional
        Default interval method of this KPI when it differs from the stat's default
        (:data:`DEFAULT_METHOD`), e.g. ``"bootstrap"`` for means of fully observed durations.

    Returns
    -------
    callable
        A decorator. The decorated function gets normalised arguments (``by`` as a list,
        ``basis``/``clock`` defaulted and checked) and carries its spec as ``func.spec``.
    """
    if unit not in UNITS:
        raise KPIError(f"register({name!r}): unit must be one of {UNITS}, got {unit!r}")
    if stat not in STATS:
        raise KPIError(f"register({name!r}): stat must be one of {STATS}, got {stat!r}")
    if basis is not None and basis not in BASES:
        raise KPIError(f"register({name!r}): basis must be one of {BASES} or None, got {basis!r}")
    if clock is not None and clock not in CLOCKS:
        raise KPIError(f"register({name!r}): clock must be one of {CLOCKS} or None, got {clock!r}")

    def decorate(func: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
        sig = inspect.signature(func)
        takes_clock = clock is not None if clock_option is None else clock_option

        @functools.wraps(func)
        def wrapper(ds, *, period="M", by=None, basis=None, clock=None, confidence=0.95, method=None, **options):
            if getattr(ds, "engine", "pandas") == "dask":  # partitioned dataset: kpitools.dask_engine
                from kpitools import dask_engine

                return dask_engine.kpi_function(spec, ds, period=period, by=by, basis=basis, clock=clock,
                                                confidence=confidence, method=method, **options)
            period = _check_period(period)
            by_list = _check_by(by)
            if basis is None:
                basis = spec.basis
            elif spec.basis is None:
                raise KPIError(f"{name}: basis does not apply to this KPI; leave it None, got {basis!r}")
            else:
                _check_choice("basis", basis, spec.bases)
            if clock is None:
                clock = spec.clock
            elif not takes_clock:
                raise KPIError(f"{name}: clock does not apply to this KPI; leave it None, got {clock!r}")
            else:
                _check_choice("clock", clock, CLOCKS)
            confidence = _check_confidence(confidence)
            unknown = [k for k in options if k not in sig.parameters]
            if unknown and not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
                allowed = [k for k, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY and k not in
                           ("period", "by", "basis", "clock", "confidence", "method")]
                raise KPIError(f"{name}: unknown option(s) {unknown}; allowed options: {allowed}")
            reason = missing_requirements(ds, spec, by_list)
            if reason:
                raise KPIUnavailable(f"{name}: {reason}")
            out = func(ds, period=period, by=by_list, basis=basis, clock=clock,
                       confidence=confidence, method=method, **options)
            if isinstance(out, Sums | Durations | Values | Agg):  # a declaration: group, estimate, present here
                if isinstance(out, Agg):
                    agg = out
                elif isinstance(out, Means):
                    agg = reduce_means(ds, out, period=period, by=by_list)
                    by_list = by_list if out.by is None else list(out.by)
                elif isinstance(out, Sums):
                    agg = reduce_sums(ds, out, period=period, by=by_list)
                    by_list = by_list if out.by is None else list(out.by)
                elif isinstance(out, Values):
                    agg = reduce_values(ds, out, period=period, by=by_list)
                else:
                    agg = reduce_durations(ds, out, period=period, by=by_list, basis=basis, clock=clock)
                boot = {k: options[k] for k in ("seed", "n_boot") if k in options}
                changes = getattr(out, "overrides", None)
                out = finish(agg, spec=dataclasses.replace(spec, **changes) if changes else spec, ds=ds,
                             period=period, by=by_list, basis=basis, clock=clock, confidence=confidence,
                             method=method, **boot)
            return out

        spec = KPISpec(
            name=name, title=title, group=group, definition=definition, formula=formula, unit=unit,
            higher_is_better=higher_is_better, stat=stat, basis=basis, tables=tuple(tables),
            columns={k: tuple(v) for k, v in (columns or {}).items()}, segments=tuple(segments),
            func=wrapper, clock=clock, options=options, check=check,
            bases=tuple(bases) if bases is not None else (BASES if basis is not None else ()),
            method=method,
        )
        if name in REGISTRY and REGISTRY[name].func.__qualname__ != func.__qualname__:
            raise KPIError(f"register: KPI name {name!r} is already taken by {REGISTRY[name].func.__module__}")
        REGISTRY[name] = spec
        wrapper.spec = spec  # type: ignore[attr-defined]
        wrapper.__doc__ = _document(spec, func.__doc__, takes_clock)
        return wrapper

    return decorate


#: Section of docs/methods.md that records the definitions of each KPI group.
GROUP_ANCHORS = {"volume": "volume-and-flow", "responsiveness": "responsiveness",
                 "quality": "quality-and-outcome", "sla": "sla-compliance",
                 "contact centre": "contact-centre", "cost": "cost-and-team", "team": "cost-and-team",
                 "business": "business-value"}


def _document(spec: KPISpec, doc: str | None, takes_clock: bool) -> str:
    """The KPI's docstring: its own text plus the numpydoc sections it does not write itself."""
    import textwrap

    doc = textwrap.dedent(doc or "").strip()
    if not doc:
        doc = f"{spec.title}."
    elif "\n" in doc:  # dedent the body below a summary line written on the first line
        first, rest = doc.split("\n", 1)
        doc = first + "\n" + textwrap.dedent(rest)
    parts = [doc]
    if "Parameters\n" not in doc:
        p = ["Parameters", "----------", "ds : kpitools.io.Dataset",
             'period : {"D", "W", "M", "Q"}, default "M"',
             "    Day, week (ending Sunday), month or quarter, cut in the business timezone.",
             "by : str or list of str, optional",
             "    Segment columns of the main table (or of the ticket it refers to); default",
             f"    segments for this KPI: {', '.join(spec.segments) or 'none'}."]
        if spec.bases:
            p += ["basis : {" + ", ".join(f'"{b}"' for b in spec.bases) + "}, default " + f'"{spec.basis}"',
                  "    Cohort basis: ``created`` = tickets created in the period, ``event`` = events",
                  "    (resolutions, answers, replies) happening in it."]
        if takes_clock:
            p += ['clock : {"business", "calendar"}, default ' + (f'"{spec.clock}"' if spec.clock else "per settings"),
                  "    Duration clock."]
        p += ["confidence : float, default 0.95", "    Interval level."]
        if spec.stat in DEFAULT_METHOD:
            p += ["method : str, optional",
                  f"    Interval method (default ``{spec.method or DEFAULT_METHOD[spec.stat]}``)."]
        if spec.options:
            p += ["**options", f"    {spec.options}."]
        parts.append("\n".join(p))
    if "Returns\n" not in doc:
        extras = STAT_EXTRAS.get(spec.stat, ())
        r = ["Returns", "-------", "DataFrame",
             "    One row per period x segment (complete grid; see :func:`kpitools.kpis._core.finish`):",
             "    ``kpi, period, <by>, value, numerator, denominator, n, unit, stat, basis, clock,",
             "    ci_low, ci_high, method, confidence, target, target_met, note``"
             + (f" and ``{', '.join(extras)}``." if extras else "."),
             f"    ``value`` is in unit ``{spec.unit}``."]
        parts.append("\n".join(r))
    if "Notes\n" not in doc:
        parts.append("\n".join(["Notes", "-----", textwrap.fill(spec.definition, 92),
                                 "", f"Formula: {spec.formula}. Definition: docs/methods.md#{GROUP_ANCHORS.get(spec.group, 'kpi-definitions')}."]))
    return "\n\n".join(parts) + "\n"


def _table(ds, name: str) -> pd.DataFrame | None:
    if hasattr(ds, "has") and not ds.has(name):
        return None
    return getattr(ds, name, None)


def _segment_source(ds, spec: KPISpec, col: str) -> str | None:
    """Where segment ``col`` comes from for this KPI: 'main', 'tickets', 'derived' or None."""
    if col in DERIVED_SEGMENTS:
        return "derived"
    main = spec.main_table
    if main is None:
        return None
    df = _table(ds, main)
    if df is not None and col in df.columns:
        return "main"
    if main != "tickets" and df is not None and "ticket_id" in df.columns:
        t = _table(ds, "tickets")
        if t is not None and col in t.columns:
            return "tickets"
    return None


def missing_requirements(ds, spec: KPISpec, by: Sequence[str] | None = None) -> str | None:
    """Why ``spec`` cannot be computed on ``ds`` with segments ``by`` (None when it can)."""
    for t in spec.tables:
        df = _table(ds, t)
        if df is None:
            return f"table {t!r} absent"
        if len(df) == 0:
            return f"table {t!r} is empty"
    for t, cols in spec.columns.items():
        df = _table(ds, t)
        if df is None:
            return f"table {t!r} absent"
        miss = [c for c in cols if c not in df.columns or df[c].isna().all()]
        if miss:
            return f"table {t!r} lacks column(s) {miss}"
    for col in by or []:
        if _segment_source(ds, spec, col) is None:
            return f"segment {col!r} is not a column of {spec.main_table!r} (nor of tickets via ticket_id)"
    if spec.check is not None:
        return spec.check(ds)
    return None


# ----------------------------------------------------------------------------------------------
# time helpers
# ----------------------------------------------------------------------------------------------
def local_times(ts: pd.Series, tz: str) -> pd.Series:
    """UTC timestamps -> naive wall-clock times in ``tz`` (DST-safe, via ``tz_convert``)."""
    ts = pd.Series(ts)
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = pd.to_datetime(ts, utc=True)
    return ts.dt.tz_convert(tz).dt.tz_localize(None)


def to_period(ts: pd.Series, period: str, tz: str) -> pd.Series:
    """Cut UTC timestamps into periods of the business timezone.

    Parameters
    ----------
    ts : Series of datetime64[ns, UTC]
    period : {"D", "W", "M", "Q"}
        Day, week ending Sunday (``W-SUN``), month, quarter (``Q-DEC``).
    tz : str
        IANA timezone name (``ds.settings.timezone``).

    Returns
    -------
    Series of Period
        Same index as ``ts``; NaT stays NaT.

    Notes
    -----
    Converts with ``tz_convert`` first and only then drops the zone, so 23:30 local on the 31st
    stays in that month whatever the UTC offset, also across DST changes.
    """
    return local_times(ts, tz).dt.to_period(PERIODS[_check_period(period)])


def period_range(first: pd.Period, last: pd.Period, period: str) -> pd.PeriodIndex:
    """Every period from ``first`` to ``last`` inclusive (empty if either is NaT)."""
    freq = PERIODS[_check_period(period)]
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        return pd.PeriodIndex([], freq=freq)
    return pd.period_range(first, last, freq=freq)


def period_bounds(periods: pd.PeriodIndex, tz: str) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """UTC instants where each period starts and ends (end exclusive = next period's start)."""
    periods = pd.PeriodIndex(periods)
    start = periods.start_time
    end = (periods + 1).start_time

    def utc(x):
        return pd.DatetimeIndex(x).tz_localize(tz, nonexistent="shift_forward", ambiguous=True).tz_convert("UTC").as_unit("ns")

    return utc(start), utc(end)


def span(*series: pd.Series, period: str, tz: str) -> pd.PeriodIndex:
    """Every period between the earliest and latest timestamp of ``series`` (business tz)."""
    lo, hi = [], []
    for s in series:
        if s is None:
            continue
        s = pd.Series(s).dropna()
        if len(s):
            lo.append(s.min())
            hi.append(s.max())
    if not lo:
        return pd.PeriodIndex([], freq=PERIODS[period])
    p = to_period(pd.Series([min(lo), max(hi)]), period, tz)
    return period_range(p.iloc[0], p.iloc[1], period)


def elapsed(ds, start, end, clock: str) -> np.ndarray:
    """Seconds from ``start`` to ``end`` (arrays of UTC timestamps) on the given clock.

    ``clock="calendar"``: plain difference; ``"business"``: ``ds.calendar.duration`` (the part
    of [start, end) inside opening hours). NaN where either end is NaT.
    """
    _check_choice("clock", clock, CLOCKS)
    start = pd.Series(start).reset_index(drop=True)
    end = pd.Series(end).reset_index(drop=True)
    if len(start) == 0:
        return np.zeros(0)
    if clock == "business":
        return np.asarray(ds.calendar.duration(start, end), dtype="float64")
    return ((end - start) / pd.Timedelta(seconds=1)).to_numpy(dtype="float64", na_value=np.nan)


# ----------------------------------------------------------------------------------------------
# segments
# ----------------------------------------------------------------------------------------------
def segment_frame(ds, df: pd.DataFrame, by: Sequence[str], *, ts: pd.Series | None = None,
                  main: str = "tickets") -> pd.DataFrame:
    """Segment columns ``by`` for the rows of ``df`` (same index), as strings.

    Columns present in ``df`` are used directly; columns only on tickets are joined through
    ``df["ticket_id"]``; ``hour`` (0-23) and ``weekday`` (mon..sun) are derived from ``ts`` in the
    business timezone. Empty values become :data:`MISSING`.
    """
    out = pd.DataFrame(index=df.index)
    tickets = None
    for col in by:
        if col in df.columns:
            s = df[col]
        elif col in DERIVED_SEGMENTS:
            if ts is None:
                raise KPIUnavailable(f"segment {col!r} needs a timestamp on the {main!r} rows")
            loc = local_times(ts, ds.settings.timezone)
            if col == "hour":
                s = loc.dt.hour.astype("Int64").astype(str)
                s = s.str.zfill(2)
            else:
                s = pd.Series(np.asarray(WEEKDAY_NAMES, dtype=object)[loc.dt.day_of_week.to_numpy()], index=df.index)
        else:
            if tickets is None:
                tickets = _table(ds, "tickets")
            if tickets is None or "ticket_id" not in df.columns or col not in tickets.columns:
                raise KPIUnavailable(f"segment {col!r} is not a column of {main!r} (nor of tickets via ticket_id)")
            s = _borrow(ds, df["ticket_id"], col)
        s = pd.Series(s, index=df.index).astype("str")
        s = s.where(pd.Series(s).notna() & (s != "") & (s != "<NA>") & (s != "nan"), MISSING)
        out[col] = s.astype("str")
    return out


def _borrow(ds, ticket_id: pd.Series, col: str) -> pd.Series:
    """Ticket segment ``col`` (text, :data:`MISSING` for empty) for each id in ``ticket_id``."""
    f = facts.of(ds)
    code = f.ticket_codes_of(ticket_id)
    first_row = f.ticket_first_row
    vals = f.segment("tickets", col).to_numpy()[first_row[np.maximum(code, 0)]] if len(first_row) else \
        np.full(len(code), MISSING, dtype=object)
    return pd.Series(np.where(code >= 0, vals, MISSING), index=ticket_id.index, dtype="str")


def ticket_segments(ds, by: Sequence[str]) -> pd.DataFrame:
    """:func:`segment_frame` of ``ds.tickets`` (positional index 0..n-1), from the dataset's facts
    (:meth:`kpitools.facts.Facts.segments`, each column built once).

    Derived ``hour``/``weekday`` come from ``created_at``.
    """
    return facts.of(ds).segments("tickets", by, ts="created_at")


def ticket_levels(ds, by: Sequence[str]) -> dict[str, list[str]]:
    """Observed values of ticket segments ``by`` (cached with :func:`ticket_segments`)."""
    return levels_of(ticket_segments(ds, by), by)


def levels_of(seg: pd.DataFrame, by: Sequence[str]) -> dict[str, list[str]]:
    """Observed values per segment column, sorted."""
    return {c: sorted(pd.unique(seg[c].dropna())) for c in by}


# ----------------------------------------------------------------------------------------------
# the aggregate layer
# ----------------------------------------------------------------------------------------------
@dataclass
class Agg:
    """Sufficient statistics of one KPI per (period, segment).

    Attributes
    ----------
    table : DataFrame
        One row per observed (period, *by) cell with the stat's columns: ``numerator`` and
        ``denominator`` (proportion, ratio), ``n`` (all; defaults to ``denominator``),
        ``detractors/passives/promoters`` (nps), ``mean/sd`` (mean), ``value`` (level, money),
        plus any ``extras``. Missing cells are filled by :func:`finish`.
    periods : PeriodIndex
        The full span of periods to show.
    levels : dict
        Observed values per segment column (every combination is shown).
    durations : DataFrame, optional
        Duration KPIs: one row per observation with ``period``, *by, ``duration`` (seconds) and
        ``observed`` (False = censored at the cut-off).
    denominator_label : str
        What the denominator counts, for the "zero denominator: <what>" note.
    extras : dict
        Extra output columns -> value for empty cells (e.g. 0 for counts, NaN for medians).
    note : str, optional
        A note appended to every row (the denominator option, the currency, ...).
    notes : dict, optional
        Per-cell notes: count column of ``table`` -> template with ``{k}`` (e.g.
        ``{"other_scale": "{k} answer(s) on another scale left out"}``), written where k > 0.
        The count columns are not output unless also listed in ``extras``.
    values : DataFrame, optional
        Mean KPIs that offer a bootstrap interval: one row per value with ``period``, *by and
        ``value`` (``from_values(..., keep_values=True)``). Level KPIs and the SLA breach minutes
        keep the values of their per-cell medians here too (only the Dask engine reads them).
    horizon : float, optional
        Duration KPIs: horizon of the restricted mean in seconds (None: no ``rmst``).
    empty_when : str, optional
        Column of ``table`` whose zero makes a cell "no data" (default ``n``), e.g. the active
        agents of a workload: agents with nothing handled are a value 0, not missing data.
    relabel : dict, optional
        Count column -> (note text, replacement) where the count is positive, e.g. a zero
        denominator explained as "all items pending".
    period_notes : dict, optional
        Period -> note appended to every cell of that period (a period not over at the cut-off).
    clock : str or dict, optional
        Echoed ``clock`` instead of the caller's: one text, or ``{segment column: {level: clock}}``.
    flags : dict, optional
        Output column -> function of the value array giving a boolean flag (NA where no value).
    constants : dict, optional
        Output column -> one value for every row (e.g. where the agents came from).
    cells : tuple, optional
        ``(code, keys)`` of a declared KPI: ``durations`` / ``values`` then hold only their value
        columns, and row i belongs to the cell ``keys.iloc[code[i]]`` (``period`` and the segment
        columns; :func:`cells`), so no per-row key text is built. :meth:`with_keys` gives the
        equivalent Agg with key columns on every row.
    """

    table: pd.DataFrame
    periods: pd.PeriodIndex
    levels: dict[str, list[str]]
    durations: pd.DataFrame | None = None
    denominator_label: str = "denominator"
    extras: dict[str, float] = field(default_factory=dict)
    note: str | None = None
    notes: dict[str, str] = field(default_factory=dict)
    values: pd.DataFrame | None = None
    horizon: float | None = None
    empty_when: str | None = None
    relabel: dict[str, tuple[str, str]] = field(default_factory=dict)
    period_notes: dict = field(default_factory=dict)
    clock: Any = None
    flags: dict[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    cells: tuple[np.ndarray, pd.DataFrame] | None = None

    def with_keys(self) -> Agg:
        """The same aggregate with the key columns (``period``, segments) on every row of
        ``durations`` and ``values`` (the form of :meth:`from_durations` and :meth:`from_values`)."""
        if self.cells is None:
            return self
        from dataclasses import replace

        code, keys = self.cells
        out = {}
        for name in ("durations", "values"):
            rows = getattr(self, name)
            if rows is not None:
                k = keys.take(code).reset_index(drop=True)
                out[name] = pd.concat([k, rows.reset_index(drop=True)], axis=1)
        return replace(self, cells=None, **out)

    @classmethod
    def from_rows(
        cls,
        rows: pd.DataFrame,
        *,
        by: Sequence[str],
        sums: dict[str, str],
        periods: pd.PeriodIndex,
        levels: dict[str, list[str]] | None = None,
        **kw,
    ) -> Agg:
        """Sum row-level columns per (period, *by).

        ``sums`` maps output column -> column of ``rows`` to add up (booleans count as 0/1).
        Rows with a NaT period are ignored (outside any period).
        """
        keys = ["period", *by]
        r = rows.loc[rows["period"].notna(), keys + sorted(set(sums.values()))]
        data = {out: r[src].astype("float64") for out, src in sums.items()}
        frame = pd.concat([r[keys], pd.DataFrame(data, index=r.index)], axis=1)
        table = frame.groupby(keys, observed=True, sort=True, dropna=False).sum().reset_index()
        if levels is None:
            levels = levels_of(rows, by)
        return cls(table=table, periods=periods, levels=levels, **kw)

    @classmethod
    def from_values(
        cls,
        rows: pd.DataFrame,
        value: str,
        *,
        by: Sequence[str],
        periods: pd.PeriodIndex,
        levels: dict[str, list[str]] | None = None,
        sums: dict[str, str] | None = None,
        keep_values: bool = False,
        **kw,
    ) -> Agg:
        """Per (period, *by): ``n``, ``mean`` and ``sd`` (ddof 1) of ``rows[value]`` (NaN ignored).

        ``sums`` (output column -> row column) adds per-cell sums over all rows of the cell,
        including rows whose value is NaN (e.g. counts of excluded answers for ``notes``).
        ``keep_values=True`` keeps the values themselves (``Agg.values``) for a bootstrap interval.
        """
        keys = ["period", *by]
        r = rows.loc[rows["period"].notna() & rows[value].notna(), [*keys, value]]
        r = r.assign(**{value: r[value].astype("float64")})
        g = r.groupby(keys, observed=True, sort=True, dropna=False)[value]
        table = pd.DataFrame({"n": g.size().astype("float64"), "mean": g.mean(), "sd": g.std(ddof=1)}).reset_index()
        if sums:
            r2 = rows.loc[rows["period"].notna(), keys]
            extra = pd.DataFrame({o: rows.loc[r2.index, c].astype("float64") for o, c in sums.items()})
            extra = pd.concat([r2, extra], axis=1).groupby(keys, observed=True, sort=True, dropna=False).sum()
            table = table.merge(extra.reset_index(), on=keys, how="outer")
            table["n"] = table["n"].fillna(0.0)
        table["numerator"] = table["mean"] * table["n"]
        table["denominator"] = table["n"]
        if levels is None:
            levels = levels_of(rows, by)
        if keep_values:
            kw["values"] = r.rename(columns={value: "value"}).reset_index(drop=True)
        return cls(table=table, periods=periods, levels=levels, **kw)

    @classmethod
    def from_durations(
        cls,
        rows: pd.DataFrame,
        *,
        by: Sequence[str],
        periods: pd.PeriodIndex,
        levels: dict[str, list[str]] | None = None,
        horizon: float | None = None,
        **kw,
    ) -> Agg:
        """Duration KPI: keep the (period, *by, duration, observed) rows for Kaplan-Meier.

        ``horizon`` (seconds, positive) adds the restricted mean up to it (``rmst`` columns).
        """
        _check_horizon(horizon)
        keys = ["period", *by]
        r = rows.loc[rows["period"].notna() & rows["duration"].notna(), [*keys, "duration", "observed"]]
        r = r.assign(duration=r["duration"].astype("float64"), observed=r["observed"].astype(bool))
        if levels is None:
            levels = levels_of(rows, by)
        table = r.groupby(keys, observed=True, sort=True, dropna=False).size().rename("n").reset_index()
        return cls(table=table, periods=periods, levels=levels, durations=r.reset_index(drop=True),
                   horizon=None if horizon is None else float(horizon), **kw)


# ----------------------------------------------------------------------------------------------
# declarations: what a KPI reduces (the register wrapper does the rest)
# ----------------------------------------------------------------------------------------------
@dataclass
class Sums:
    """A KPI's declaration: sums of per-row measures of one facts table per period x segment.

    A KPI function returns a ``Sums`` instead of a DataFrame; the :func:`register` wrapper then
    groups (:func:`cells`: one cell code per row, built once per table, timestamp, period and
    segments, and shared by every KPI of that table), completes the grid, estimates
    (:data:`ESTIMATORS`), and sets targets and notes (:func:`finish`).

    Attributes
    ----------
    table : str
        Facts table (``tickets``, ``contacts``, ``surveys``...); its rows are the measures' rows.
    when : str
        Timestamp column of ``table`` giving each row's period (and ``hour``/``weekday``).
    sums : dict
        Output column of :class:`Agg` ``table`` -> per-row measure (array of bool or float, one
        value per row of ``table``), summed per cell.
    population : array of bool, optional
        The KPI's rows (default: every row); levels and cell presence come from them.
    span : tuple of Series, optional
        Timestamps whose periods to show, first to last (default: ``when`` over the whole table).
    ts : str, optional
        Timestamp column of ``hour``/``weekday`` segments (default: ``when``).
    agg : dict
        Further :class:`Agg` fields (``denominator_label``, ``extras``, ``note``, ``notes``...).
    pos : array of int, optional
        Row of ``table`` whose period and segments each measure row takes (-1: none); the
        measures then have one value per item instead of one per row (default: the table's rows),
        ``population`` is per item and the levels are those of the whole table.
    by : sequence of str, optional
        Segments of the result instead of the caller's ``by`` (e.g. ``priority`` added).
    medians : dict
        Output column -> per-row values (NaN ignored): their median per cell (NaN in cells
        without values).
    times : Series of UTC timestamps, optional
        Per-row timestamps giving the period instead of column ``when`` (a derived time such as
        the first resolution; NaT = in no period); ``when`` then names them, so that the KPIs
        declaring the same times share one cell code (the name must identify the times: e.g.
        ``"fact:first_resolved"``). Give ``ts`` for ``hour``/``weekday`` segments.
    overrides : dict, optional
        Catalogue fields to replace for this call (e.g. ``higher_is_better`` from the settings).
    """

    table: str
    when: str
    sums: dict[str, Any]
    population: np.ndarray | None = None
    span: tuple | None = None
    ts: str | None = None
    agg: dict[str, Any] = field(default_factory=dict)
    pos: np.ndarray | None = None
    by: Sequence[str] | None = None
    medians: dict[str, Any] = field(default_factory=dict)
    times: Any = None
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class Values:
    """A KPI's declaration: the mean of one value per row of a facts table (``stat="mean"``).

    The :func:`register` wrapper groups the values per period x segment (:func:`cells`) into
    ``n``, ``mean`` and ``sd`` (ddof 1), keeps them for the bootstrap interval (``Agg.values``),
    adds per-cell quantiles and finishes as :func:`Agg.from_values` with ``keep_values=True``.

    Attributes
    ----------
    table, when, ts
        As :class:`Sums`.
    values : array of float
        One value per row of ``table``; NaN rows are not part of the mean (their segments still
        count for the levels).
    quantiles : dict
        Output column -> quantile of the cell's values (pandas' linear interpolation; 0.5 is the
        median), e.g. ``{"median": 0.5, "p90": 0.9}``.
    agg : dict
        Further :class:`Agg` fields.
    """

    table: str
    when: str
    values: Any
    quantiles: dict[str, float] = field(default_factory=dict)
    ts: str | None = None
    agg: dict[str, Any] = field(default_factory=dict)


@dataclass
class Means(Sums):
    """A KPI's declaration: the mean of a per-row value per period x segment (stat ``mean``).

    As :class:`Sums` (whose ``sums`` add per-cell counts such as answers left out, over every
    row of the population), plus ``values``: one float per row of ``table``, NaN where the row
    has no value. Each cell gets ``n`` (rows with a value), ``mean``, ``sd`` (ddof 1),
    ``numerator`` = mean x n and ``denominator`` = n; the t interval by default.
    """

    values: Any = None


@dataclass
class Durations:
    """A KPI's declaration: a (start, end) pair per item, censored at the cut-off (Kaplan-Meier).

    The :func:`register` wrapper censors with :func:`kpitools.facts.censor` on the KPI's clock,
    cuts periods by basis (``created``: the period of the item's row of ``table`` at ``when``;
    ``event``: the period of the end, completed items only), takes segments from that row and
    finishes (median, p90, restricted mean).

    Attributes
    ----------
    table : str
        Facts table of the items' rows (``tickets``); segments and levels come from it.
    when : str
        Timestamp column of ``table`` for the created basis and ``hour``/``weekday``.
    start, end : Series of UTC timestamps
        One per item; a missing end is still running.
    pos : array of int, optional
        Row of ``table`` of each item (default: the items are the table's rows).
    include : array of bool, optional
        Items to measure (others are left out).
    horizon : float, optional
        Horizon of the restricted mean, seconds.
    note : str, optional
        Note on every row.
    """

    table: str
    when: str
    start: Any
    end: Any
    pos: np.ndarray | None = None
    include: np.ndarray | None = None
    horizon: float | None = None
    note: str | None = None


def _check_horizon(horizon) -> None:
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, int | float)
                                or not 0 < horizon < np.inf):
        raise KPIError(f"horizon_s must be a positive number of seconds, got {horizon!r}")


def _item_cells(ds, table: str, when: str, period: str, by: Sequence[str], ts: str | None,
                pos: np.ndarray | None, *, times=None) -> tuple[np.ndarray, pd.DataFrame]:
    """Cell code of each item whose period and segments are those of row ``pos`` of ``table``
    (-1 where ``pos`` is -1): the table's :func:`cells` taken at ``pos``."""
    code, keys = cells(ds, table, when, period, by, ts, times=times)
    if pos is None:
        return code, keys
    pos = np.asarray(pos, dtype=np.int64)
    return (np.where(pos >= 0, code[np.maximum(pos, 0)], -1) if len(code) else np.full(len(pos), -1)), keys


def reduce_durations(ds, decl: Durations, *, period: str, by: Sequence[str], basis: str, clock: str) -> Agg:
    """:class:`Agg` of a :class:`Durations` declaration (censored durations per period x segment).

    Each item's cell is an integer code (:func:`cells`; on the event basis the period of the end
    with the segments of the item's row), so no per-item key text is built (``Agg.cells``).
    """
    _check_horizon(decl.horizon)
    f = facts.of(ds)
    tz = ds.settings.timezone
    end = facts.to_utc(decl.end).reset_index(drop=True)
    dur, observed = facts.censor(decl.start, end, ds.cutoff, clock, calendar=ds.calendar, include=decl.include)
    ok = ~np.isnan(dur)
    if basis == "event":
        per = to_period(end.where(observed), period, tz)
        when = end[observed & ok]
        ok &= observed
        bnote = "event basis: completed in the period (no censoring)"
        take = np.arange(len(f.table(decl.table))) if decl.pos is None else np.asarray(decl.pos)
        segs = []
        for c in by:
            codes, levels = f.codes(decl.table, c, ts=decl.when)
            segs.append((c, codes[np.maximum(take, 0)] if len(codes) else np.zeros(len(take), np.int64), levels))
        code, keys = _coded_cells(per.array.asi8, ~per.isna().to_numpy(), segs, period)
    else:
        code, keys = _item_cells(ds, decl.table, decl.when, period, by, decl.when, decl.pos)
        take = np.arange(len(code)) if decl.pos is None else np.asarray(decl.pos)
        when = f.ts(decl.table, decl.when).take(take[ok & (take >= 0)])
        bnote = None
    inc = ok & (code >= 0)
    c = code[inc]
    present = np.bincount(c, minlength=len(keys))
    table = keys[present > 0].reset_index(drop=True)
    table["n"] = present[present > 0]
    levels = {col: list(f.codes(decl.table, col, ts=decl.when)[1]) for col in by}
    rows = pd.DataFrame({"duration": dur[inc], "observed": observed[inc]})
    return Agg(table=table, periods=span(f.ts(decl.table, decl.when), when, period=period, tz=tz), levels=levels,
               durations=rows, horizon=None if decl.horizon is None else float(decl.horizon),
               note="; ".join(x for x in (decl.note, bnote) if x) or None, cells=(c, keys))


def cells(ds, table: str, when: str, period: str, by: Sequence[str], ts: str | None = None, *, times=None
          ) -> tuple[np.ndarray, pd.DataFrame]:
    """Cell code of every row of ``table`` per (period of ``when``, *by), and the cells' keys.

    Built once per (table, when, period, by) on the dataset's facts and shared by all KPIs that
    reduce that table. Returns ``(code, keys)``: ``code`` int64 per row (-1 where the period is
    missing), ``keys`` one row per code with ``period`` and the segment columns (text).
    ``times`` (UTC timestamps per row) replaces column ``when``, which then only names them.
    """
    f = facts.of(ds)
    ts = ts or when
    if times is None:
        return f.memo((cells, table, when, period, tuple(by), ts), lambda: _build_cells(f, table, when, period, by, ts))
    return f.memo((cells, table, when, period, tuple(by), ts),
                  lambda: _build_time_cells(f, table, when, period, by, ts, times))


def _build_cells(f, table: str, when: str, period: str, by: Sequence[str], ts: str
                 ) -> tuple[np.ndarray, pd.DataFrame]:
    return _cells_of(f, table, f.period(table, when, period), period, by, ts)


def _build_time_cells(f, table: str, when: str, period: str, by: Sequence[str], ts: str, times
                      ) -> tuple[np.ndarray, pd.DataFrame]:
    """:func:`_build_cells` for derived per-row times (``Sums.times``) named ``when``."""
    return _cells_of(f, table, to_period(facts.to_utc(times).reset_index(drop=True), period, f.tz), period, by, ts)


def _cells_of(f, table: str, per: pd.Series, period: str, by: Sequence[str], ts: str
              ) -> tuple[np.ndarray, pd.DataFrame]:
    segs = [(c, *f.codes(table, c, ts=ts)) for c in by]
    return _coded_cells(per.array.asi8, ~per.isna().to_numpy(), segs, period)


def _coded_cells(ordinal: np.ndarray, ok: np.ndarray, segs: list, period: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Cell codes from period ordinals (valid where ``ok``) and segment codes ``(col, codes,
    levels)``, combined in mixed radix: ``(code per row, -1 where not ok; keys per code)``."""
    key = np.zeros(len(ordinal), dtype=np.int64)
    lo = int(ordinal[ok].min()) if ok.any() else 0
    key[ok] = ordinal[ok] - lo
    for _, codes, levels in segs:
        key = key * max(len(levels), 1) + codes
    kv = key[ok]
    top = int(kv.max()) + 1 if len(kv) else 0
    if top <= 4 * len(kv) + 1024:  # a small key range: np.unique's result by counting, no sort
        seen = np.bincount(kv, minlength=top) > 0
        uniq = np.flatnonzero(seen)
        inv = (np.cumsum(seen) - 1)[kv]
    else:
        uniq, inv = np.unique(kv, return_inverse=True)
    code = np.full(len(ordinal), -1, dtype=np.int64)
    code[ok] = inv
    rest = uniq
    cols = {}
    for c, _, levels in reversed(segs):
        n = max(len(levels), 1)
        cols[c] = pd.Series(levels.to_numpy()[rest % n], dtype="str")
        rest = rest // n
    keys = pd.DataFrame({"period": pd.PeriodIndex.from_ordinals(rest + lo, freq=PERIODS[period])})
    for c, *_ in segs:
        keys[c] = cols[c]
    return code, keys


def _cell_quantiles(c: np.ndarray, v: np.ndarray, k: int, qs: dict[str, float]) -> dict[str, np.ndarray]:
    """Per cell 0..k-1 the quantiles of its values (pandas' linear interpolation; q = 0.5 as
    pandas' median, the mean of the two middle values); NaN for cells without values."""
    order = np.lexsort((v, c))
    vs = v[order]
    n = np.bincount(c, minlength=k)
    start = np.cumsum(n) - n
    has = n > 0
    out = {}
    for name, q in qs.items():
        res = np.full(k, np.nan)
        pos = q * (n[has] - 1)
        lo = np.floor(pos).astype(np.int64)
        frac = pos - lo
        a = vs[start[has] + lo]
        b = vs[start[has] + np.minimum(lo + 1, n[has] - 1)]
        mid = (a + b) / 2 if q == 0.5 else a + (b - a) * frac
        res[has] = np.where(frac == 0, a, mid)
        out[name] = res
    return out


def reduce_sums(ds, decl: Sums, *, period: str, by: Sequence[str]) -> Agg:
    """:class:`Agg` of a :class:`Sums` declaration (the aggregate step of a declared KPI)."""
    table, levels, periods, c, valid, (_, _, keys) = _reduce(ds, decl, period, by)
    kept = {}
    if len(decl.medians) == 1:  # the values behind the per-cell median (the Dask engine merges their counts)
        (w,) = decl.medians.values()
        w = np.asarray(w, dtype="float64")[valid]
        has = ~np.isnan(w)
        kept = {"values": pd.DataFrame({"value": w[has]}), "cells": (c[has], keys)}
    return Agg(table=table, periods=periods, levels=levels, **kept, **decl.agg)


def reduce_means(ds, decl: Means, *, period: str, by: Sequence[str]) -> Agg:
    """:class:`Agg` of a :class:`Means` declaration: n, mean, sd (ddof 1) of the values per cell."""
    table, levels, periods, c, valid, (k, present, _) = _reduce(ds, decl, period, by)
    x = np.asarray(decl.values, dtype="float64")[valid]
    has = ~np.isnan(x)
    cx, xv = c[has], x[has]
    n = np.bincount(cx, minlength=k).astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(cx, weights=xv, minlength=k) / n
        ss = np.bincount(cx, weights=(xv - mean[cx]) ** 2, minlength=k)
        sd = np.sqrt(ss / np.where(n > 1, n - 1, np.nan))
    mean = np.where(n > 0, mean, np.nan)
    table["n"], table["mean"], table["sd"] = n[present], mean[present], sd[present]
    table["numerator"] = table["mean"] * table["n"]
    table["denominator"] = table["n"]
    return Agg(table=table, periods=periods, levels=levels, **decl.agg)


def _reduce(ds, decl: Sums, period: str, by: Sequence[str]):
    """Grouping shared by the declarations: the observed cells with the sums, levels, periods."""
    f = facts.of(ds)
    if decl.by is not None:
        by = list(decl.by)
    code, keys = _item_cells(ds, decl.table, decl.when, period, by, decl.ts, decl.pos, times=decl.times)
    n_rows = len(code)
    pop = np.ones(n_rows, dtype=bool) if decl.population is None else np.asarray(decl.population, dtype=bool)
    valid = pop & (code >= 0)
    c = code[valid]
    k = len(keys)
    present = np.bincount(c, minlength=k) > 0
    table = keys[present].reset_index(drop=True)
    for out, measure in decl.sums.items():
        w = np.asarray(measure, dtype="float64")[valid]
        table[out] = np.bincount(c, weights=w, minlength=k)[present]
    for out, measure in decl.medians.items():
        w = np.asarray(measure, dtype="float64")[valid]
        has = ~np.isnan(w)
        table[out] = _cell_quantiles(c[has], w[has], k, {out: 0.5})[out][present]
    levels = {}
    for col in by:
        codes, lv = f.codes(decl.table, col, ts=decl.ts or decl.when)
        levels[col] = list(lv.to_numpy()[np.unique(codes[pop] if decl.pos is None else codes)])
    if decl.span is not None:
        spans = decl.span
    elif decl.times is not None:
        spans = (decl.times,)
    else:
        spans = (f.ts(decl.table, decl.when),)
    periods = _span_ns(*spans, period=period, tz=ds.settings.timezone)
    return table, levels, periods, c, valid, (k, present, keys)


def _span_ns(*series, period: str, tz: str) -> pd.PeriodIndex:
    """:func:`span` from the timestamps' int64 nanoseconds (no dropna copies of datetime Series)."""
    lo, hi = [], []
    for s in series:
        if s is None:
            continue
        ns = facts.to_ns(s)
        ns = ns[ns != facts.NAT]
        if len(ns):
            lo.append(ns.min())
            hi.append(ns.max())
    if not lo:
        return pd.PeriodIndex([], freq=PERIODS[period])
    return span(pd.Series(pd.to_datetime([min(lo), max(hi)], utc=True)), period=period, tz=tz)


def reduce_values(ds, decl: Values, *, period: str, by: Sequence[str]) -> Agg:
    """:class:`Agg` of a :class:`Values` declaration: n, mean, sd (ddof 1) and quantiles per
    cell, the values kept for the bootstrap (``Agg.values`` with ``Agg.cells``)."""
    f = facts.of(ds)
    code, keys = cells(ds, decl.table, decl.when, period, by, decl.ts)
    x = np.asarray(decl.values, dtype="float64")
    inc = (code >= 0) & ~np.isnan(x)
    c, v = code[inc], x[inc]
    k = len(keys)
    cnt = np.bincount(c, minlength=k).astype("float64")
    present = cnt > 0
    n = cnt[present]
    mean = np.bincount(c, weights=v, minlength=k)[present] / n
    full_mean = np.zeros(k)
    full_mean[present] = mean
    dev = v - full_mean[c]
    ss = np.bincount(c, weights=dev * dev, minlength=k)[present]
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.where(n > 1, np.sqrt(ss / (n - 1)), np.nan)
    table = keys[present].reset_index(drop=True)
    table["n"], table["mean"], table["sd"] = n, mean, sd
    table["numerator"] = mean * n
    table["denominator"] = n
    for name, q in _cell_quantiles(c, v, k, decl.quantiles).items():
        table[name] = q[present]
    levels = {col: list(f.codes(decl.table, col, ts=decl.ts or decl.when)[1]) for col in by}
    periods = span(f.ts(decl.table, decl.when), period=period, tz=ds.settings.timezone)
    return Agg(table=table, periods=periods, levels=levels, values=pd.DataFrame({"value": v}),
               cells=(c, keys), **decl.agg)


def _grid(periods: pd.PeriodIndex, levels: dict[str, list[str]], by: Sequence[str]) -> pd.DataFrame:
    arrays = [pd.PeriodIndex(periods)] + [pd.Index(levels.get(c, []), dtype="str") for c in by]
    if len(arrays[0]) == 0 or any(len(a) == 0 for a in arrays):
        cols = {"period": pd.PeriodIndex([], freq=periods.freq)} | {c: pd.Series([], dtype="str") for c in by}
        return pd.DataFrame(cols)
    mi = pd.MultiIndex.from_product(arrays, names=["period", *by])
    return mi.to_frame(index=False)


def _align(grid: pd.DataFrame, table: pd.DataFrame, periods: pd.PeriodIndex, levels: dict, by: Sequence[str]
           ) -> tuple[pd.DataFrame, np.ndarray]:
    """The aggregate's rows placed on the complete grid (a left join by position, not a merge).

    The grid is the product periods x levels (period-major), so a row's grid position follows
    from the position of its period and of each segment value; rows outside the grid are left out.
    """
    freq = grid["period"].dtype.freq
    pos = pd.PeriodIndex(periods).asfreq(freq).get_indexer(pd.PeriodIndex(table["period"]).asfreq(freq))
    for c in by:
        lv = pd.Index(levels.get(c, []), dtype="str")
        li = lv.get_indexer(table[c].astype("str"))
        pos = np.where((pos >= 0) & (li >= 0), pos * len(lv) + li, -1)
    inside = pos >= 0
    if len(np.unique(pos[inside])) != int(inside.sum()):
        raise KPIError("finish: the aggregate has more than one row for a period x segment cell")
    row = np.full(len(grid), -1, dtype=np.int64)
    row[pos[inside]] = np.flatnonzero(inside)
    df = grid.copy()
    keys = {"period", *by}
    for c in table.columns:
        if c not in keys:
            df[c] = table[c].reset_index(drop=True).reindex(row).to_numpy()
    return df, row >= 0


def _intervals(stat: str, method: str, confidence: float, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Interval bounds per row, NaN where the interval is undefined."""
    n = len(frame)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    if n == 0:
        return lo, hi
    from kpitools.stats import intervals as iv

    if stat == "proportion":
        x = frame["numerator"].to_numpy(float)
        m = frame["denominator"].to_numpy(float)
        ok = (m > 0) & (x >= 0) & (x <= m) & np.isfinite(x)
        if ok.any():
            a, b = iv.proportion_interval(x[ok], m[ok], confidence=confidence, method=method)
            lo[ok], hi[ok] = np.asarray(a, float), np.asarray(b, float)
    elif stat == "nps":
        d, s, p = (frame[c].to_numpy(float) for c in ("detractors", "passives", "promoters"))
        ok = (d + s + p) > 0
        if ok.any():
            a, b = iv.nps_interval(d[ok], s[ok], p[ok], confidence=confidence, method=method)
            lo[ok], hi[ok] = np.asarray(a, float), np.asarray(b, float)
    elif stat == "mean":
        nn, mu, sd = (frame[c].to_numpy(float) for c in ("n", "mean", "sd"))
        ok = (nn >= 2) & np.isfinite(sd)
        if ok.any():
            a, b = iv.mean_interval(nn[ok], mu[ok], sd[ok], confidence=confidence)
            lo[ok], hi[ok] = np.asarray(a, float), np.asarray(b, float)
    return lo, hi


def _join_notes(index: pd.Index, *parts) -> pd.Series:
    """Row-wise '; '-join of notes (Series of str/None, or one str for all rows); None when empty."""
    n = len(index)
    acc = np.full(n, "", dtype=object)
    for p in parts:
        if p is None:
            continue
        if isinstance(p, pd.Series):
            arr = p.to_numpy(dtype=object)
            miss = pd.isna(arr)
            if miss.all():  # nothing to add (the usual case): skip the string work
                continue
            arr = np.where(miss, "", arr)
        else:
            arr = np.full(n, p, dtype=object)
        sep = np.where((acc != "") & (arr != ""), "; ", "")
        acc = acc + sep + arr
    return pd.Series(np.where(acc != "", acc, None), index=index, dtype=object).astype("str")


def finish(
    agg: Agg,
    *,
    spec: KPISpec,
    ds,
    period: str,
    by: Sequence[str] | None,
    basis: str | None,
    clock: str | None,
    confidence: float = 0.95,
    method: str | None = None,
    seed: int | None = BOOTSTRAP_SEED,
    n_boot: int = BOOTSTRAP_N,
) -> pd.DataFrame:
    """Turn sufficient statistics into the tidy KPI result.

    Parameters
    ----------
    agg : Agg
        Output of the KPI's aggregate step.
    spec : KPISpec
        The KPI's catalogue entry (``func.spec``).
    ds : Dataset
        For targets (``ds.settings.target``) and the currency.
    period, by, basis, clock, confidence, method
        As passed to the KPI; echoed in the output. ``method`` defaults to the KPI's own
        (``spec.method``), else per stat (wilson, adjusted_wald, t, kaplan-meier). Means:
        ``"t"`` or ``"bootstrap"`` (needs ``agg.values``).
    seed : int or None, default :data:`BOOTSTRAP_SEED`
        Seed of the bootstrap interval (cell k of the grid resamples with child k of
        ``SeedSequence(seed)``); None draws fresh entropy (not reproducible).
    n_boot : int, default :data:`BOOTSTRAP_N`
        Bootstrap resamples per cell.

    Returns
    -------
    DataFrame
        One row per period x segment combination (complete grid), columns in this order:

        - ``kpi``: KPI name
        - ``period``: pandas Period in the business timezone
        - ``<by columns>``: segment values (str)
        - ``value``: the KPI value (NaN when n = 0 or the denominator is zero; 0 for empty counts)
        - ``numerator``, ``denominator``: for rates and ratios (NaN otherwise)
        - ``n``: observations behind the value
        - ``unit``, ``stat``, ``basis``, ``clock``: echoed
        - ``ci_low``, ``ci_high``: interval bounds at ``confidence`` where a statistic applies
        - ``method``, ``confidence``: interval method and level
        - ``target``, ``target_met``: configured target and whether the value meets it
          (``higher_is_better`` decides the direction; NA without target or value)
        - ``note``: "no data", "zero denominator: <what>", "all censored", plus ``agg.note``
        - extras per stat: nps ``detractors, passives, promoters``; mean ``mean, sd``; duration
          ``p90, p90_ci_low, p90_ci_high, mean_observed, censored, rmst, rmst_ci_low,
          rmst_ci_high, rmst_horizon_s`` (restricted mean up to ``agg.horizon`` seconds with its
          normal interval; NaN without a horizon, and where the cell's follow-up is shorter than
          the horizon, note "rmst: follow-up shorter than horizon"); plus ``agg.extras``.

    Notes
    -----
    Proportions: value = numerator / denominator, Wilson interval by default. NPS: value =
    100 (promoters - detractors) / n, adjusted-Wald interval in points. Means: t interval
    ``mean +- t_{n-1} sd / sqrt(n)``, or the percentile bootstrap of the cell's values
    (:func:`kpitools.stats.intervals.bootstrap_mean_counts` on the cell's value counts, t above
    ``BOOTSTRAP_MAX_N`` values; docs/methods.md#value-count-bootstrap: means of fully observed durations get a seeded
    bootstrap interval). Durations: Kaplan-Meier median (value) and p90
    with Brookmeyer-Crowley intervals, via :func:`kpitools.stats.survival.km_summary`; censored =
    still open at the cut-off; restricted mean ``int_0^tau S(u) du`` up to the horizon tau.
    """
    if _CAPTURE.get():  # kpitools.dask_engine: hand the aggregate over instead of finishing it
        raise CapturedAggregate(agg.with_keys(), dict(spec=spec, period=period, by=list(by or []), basis=basis, clock=clock,
                                          confidence=confidence, method=method, seed=seed, n_boot=n_boot))
    by = list(by or [])
    stat = spec.stat
    keys = ["period", *by]
    grid = _grid(agg.periods, agg.levels, by)
    if len(agg.table) and len(grid):
        df, present = _align(grid, agg.table, agg.periods, agg.levels, by)
    else:
        df = grid.copy()
        present = np.zeros(len(df), dtype=bool)
        for c in agg.table.columns:
            if c not in df.columns:
                df[c] = pd.Series(np.nan, index=df.index, dtype="float64")
    if method is None:
        method = spec.method or DEFAULT_METHOD.get(stat)
    if stat == "mean":
        _check_choice("method", method, MEAN_METHODS if agg.values is not None else ("t",))
    cells = Cells(df=df, present=present, agg=agg, keys=keys, confidence=confidence, method=method,
                  seed=seed, n_boot=n_boot)
    est = ESTIMATORS[stat](cells)
    return _present(est, cells, spec=spec, ds=ds, by=by, basis=basis, clock=clock)


@dataclass
class Cells:
    """The complete period x segment grid with the aggregate's columns, input of an estimator."""

    df: pd.DataFrame
    present: np.ndarray
    agg: Agg
    keys: list[str]
    confidence: float
    method: str | None
    seed: int | None = BOOTSTRAP_SEED
    n_boot: int = BOOTSTRAP_N

    @property
    def index(self) -> pd.Index:
        return self.df.index

    def col(self, name: str, fill=np.nan) -> pd.Series:
        """Column ``name`` as float (``fill`` for empty cells), or ``fill`` everywhere when absent."""
        if name in self.df.columns:
            return pd.to_numeric(self.df[name], errors="coerce").astype("float64").fillna(fill)
        return pd.Series(fill, index=self.df.index, dtype="float64")

    def has(self, name: str) -> bool:
        return name in self.df.columns


@dataclass
class Estimate:
    """Output of an estimator: the per-cell statistics of the tidy result."""

    value: pd.Series
    numerator: pd.Series
    denominator: pd.Series
    n: pd.Series
    ci_low: pd.Series
    ci_high: pd.Series
    method: Any = None
    extras: dict[str, pd.Series] = field(default_factory=dict)
    note: pd.Series | None = None
    empty: pd.Series | None = None


def _nan(c: Cells) -> pd.Series:
    return pd.Series(np.nan, index=c.index, dtype="float64")


def _ci(stat: str, c: Cells, **cols) -> tuple[pd.Series, pd.Series]:
    lo, hi = _intervals(stat, c.method, c.confidence, pd.DataFrame(cols))
    return pd.Series(lo, index=c.index), pd.Series(hi, index=c.index)


def _zero_denominator(c: Cells, value, n, denominator) -> tuple[pd.Series, pd.Series]:
    zero = (n > 0) & (denominator == 0)
    note = pd.Series(np.where(zero, f"zero denominator: {c.agg.denominator_label}", None), index=c.index)
    return value.where(~zero), note


def _est_duration(c: Cells) -> Estimate:
    """Kaplan-Meier median (value) with p90, restricted mean and censored counts as extras."""
    out = _durations(c.agg, c.df, c.keys, c.confidence)
    unknown_rmst = (out["events"] > 0) & out["rmst"].isna() & (c.agg.horizon is not None)
    note = _join_notes(
        c.index,
        pd.Series(np.where((out["n"] > 0) & (out["events"] == 0), "all censored", None), index=c.index),
        pd.Series(np.where(unknown_rmst, "rmst: follow-up shorter than horizon", None), index=c.index))
    return Estimate(value=out["median"], numerator=_nan(c), denominator=_nan(c), n=out["n"],
                    ci_low=out["median_ci_low"], ci_high=out["median_ci_high"], method=c.method,
                    extras={k: out[k] for k in STAT_EXTRAS["duration"]}, note=note)


def _est_nps(c: Cells) -> Estimate:
    """100 (promoters - detractors) / answers, adjusted-Wald interval by default."""
    d, s, p = c.col("detractors", 0.0), c.col("passives", 0.0), c.col("promoters", 0.0)
    n = d + s + p
    value = 100.0 * (p - d) / n.where(n > 0)
    lo, hi = _ci("nps", c, numerator=p - d, denominator=n, n=n, detractors=d, passives=s, promoters=p)
    return Estimate(value=value, numerator=p - d, denominator=n, n=n, ci_low=lo, ci_high=hi, method=c.method,
                    extras={"detractors": d, "passives": s, "promoters": p})


def _est_mean(c: Cells) -> Estimate:
    """Mean with the t interval, or the seeded bootstrap of the cell's value counts."""
    n = c.col("n", 0.0)
    mean, sd = c.col("mean"), c.col("sd")
    if c.method == "bootstrap":
        from kpitools.stats.intervals import BOOTSTRAP_MAX_N

        lo, hi = _bootstrap_cells(c.agg, c.df, c.keys, c.confidence, n_boot=c.n_boot, seed=c.seed)
        method = np.where(n.to_numpy() > BOOTSTRAP_MAX_N, f"t (n > {BOOTSTRAP_MAX_N})", "bootstrap")
    else:
        lo, hi = _ci("mean", c, n=n, mean=mean, sd=sd)
        method = c.method
    return Estimate(value=mean.where(n > 0), numerator=c.col("numerator"), denominator=c.col("denominator", 0.0),
                    n=n, ci_low=lo, ci_high=hi, method=method, extras={"mean": mean, "sd": sd})


def _est_count(c: Cells) -> Estimate:
    """A count: 0 for cells without rows (n = 0, note "no data")."""
    n = c.col("n", 0.0) if c.has("n") else c.col("numerator", 0.0)
    numerator = c.col("numerator", 0.0) if c.has("numerator") else n
    denominator = c.col("denominator", 0.0) if c.has("denominator") else _nan(c)
    value = c.col("value", 0.0) if c.has("value") else numerator.copy()
    return Estimate(value=value, numerator=numerator, denominator=denominator, n=n, ci_low=_nan(c),
                    ci_high=_nan(c), empty=pd.Series(~c.present, index=c.index))


def _est_proportion(c: Cells) -> Estimate:
    """numerator / denominator with the Wilson interval by default."""
    numerator, denominator = c.col("numerator", 0.0), c.col("denominator", 0.0)
    n = c.col("n", 0.0) if c.has("n") else denominator
    lo, hi = _ci("proportion", c, numerator=numerator, denominator=denominator, n=n)
    value, note = _zero_denominator(c, numerator / denominator.where(denominator != 0), n, denominator)
    return Estimate(value=value, numerator=numerator, denominator=denominator, n=n, ci_low=lo, ci_high=hi,
                    method=c.method, note=note)


def _est_ratio(c: Cells) -> Estimate:
    """numerator / denominator without an interval."""
    numerator, denominator = c.col("numerator", 0.0), c.col("denominator", 0.0)
    n = c.col("n", 0.0) if c.has("n") else denominator
    value, note = _zero_denominator(c, numerator / denominator.where(denominator != 0), n, denominator)
    return Estimate(value=value, numerator=numerator, denominator=denominator, n=n, ci_low=_nan(c),
                    ci_high=_nan(c), note=note)


def _est_value(c: Cells) -> Estimate:
    """A value supplied by the aggregate (money, level)."""
    n = c.col("n", 0.0)
    numerator = c.col("numerator") if c.has("numerator") else _nan(c)
    denominator = c.col("denominator") if c.has("denominator") else _nan(c)
    return Estimate(value=c.col("value").where(n > 0), numerator=numerator, denominator=denominator, n=n,
                    ci_low=_nan(c), ci_high=_nan(c))


#: The estimate step: stat -> estimator(cells) -> :class:`Estimate` (docs/methods.md).
ESTIMATORS: dict[str, Callable[[Cells], Estimate]] = {
    "proportion": _est_proportion,
    "nps": _est_nps,
    "mean": _est_mean,
    "count": _est_count,
    "duration": _est_duration,
    "ratio": _est_ratio,
    "money": _est_value,
    "level": _est_value,
}


def _present(est: Estimate, c: Cells, *, spec: KPISpec, ds, by, basis, clock) -> pd.DataFrame:
    """Shared for every stat: empty cells, scale, targets, echoed columns, notes, extras."""
    agg, df, stat = c.agg, c.df, spec.stat
    n, value = est.n, est.value
    empty = n.fillna(0) <= 0 if est.empty is None else est.empty
    if agg.empty_when is not None:
        empty = c.col(agg.empty_when, 0.0) <= 0
    if stat != "count" or agg.empty_when is not None:
        value = value.where(~empty)
    no_data = pd.Series(np.where(empty, "no data", None), index=df.index)
    extras = dict(est.extras)
    for name, fill in agg.extras.items():
        extras[name] = c.col(name, fill) if name in df.columns else pd.Series(fill, index=df.index, dtype="float64")
    scale = 100.0 if spec.unit == "percent" else 1.0
    value, ci_low, ci_high = value * scale, est.ci_low * scale, est.ci_high * scale

    target = ds.settings.target(spec.name) if hasattr(ds, "settings") else None
    v = value.to_numpy(float)
    if target is None or spec.higher_is_better is None:
        met = pd.array([pd.NA] * len(df), dtype="boolean")
    else:
        ok = v >= target if spec.higher_is_better else v <= target
        met = pd.array(np.where(np.isnan(v), None, ok), dtype="boolean")

    # columns gathered in a dict and framed once (inserting ~25 columns one by one into a str
    # column index costs more than the whole estimate)
    res = {"kpi": pd.Series(spec.name, index=df.index, dtype="str"), "period": df["period"]}
    for col in by:
        res[col] = df[col].astype("str")
    res["value"] = value.astype("float64")
    res["numerator"] = pd.Series(est.numerator, index=df.index).astype("float64")
    res["denominator"] = pd.Series(est.denominator, index=df.index).astype("float64")
    res["n"] = pd.Series(n, index=df.index).fillna(0).astype("int64")
    res["unit"] = pd.Series(spec.unit, index=df.index, dtype="str")
    res["stat"] = pd.Series(stat, index=df.index, dtype="str")
    res["basis"] = pd.Series(basis, index=df.index, dtype="str")
    if isinstance(agg.clock, dict):  # one clock per level of a segment column
        col_, ck = next(iter(agg.clock.items()))
        res["clock"] = res[col_].map(ck).astype("str")
    else:
        res["clock"] = pd.Series(clock if agg.clock is None else agg.clock, index=df.index, dtype="str")
    res["ci_low"] = ci_low.astype("float64")
    res["ci_high"] = ci_high.astype("float64")
    res["method"] = pd.Series(est.method if stat in DEFAULT_METHOD else None, index=df.index, dtype="str")
    res["confidence"] = c.confidence
    res["target"] = np.nan if target is None else float(target)
    res["target_met"] = met
    cell_notes = []
    for col, template in agg.notes.items():
        k = c.col(col, 0.0).to_numpy()
        txt = np.full(len(k), None, dtype=object)
        for u in np.unique(k[k > 0]):  # one format per distinct count, not per row
            txt[k == u] = template.format(k=int(u))
        cell_notes.append(pd.Series(txt, index=df.index))
    note = _join_notes(df.index, no_data, est.note, *cell_notes, agg.note)
    for col, (old, new) in agg.relabel.items():  # a cell-specific wording of a generic note
        m = (c.col(col, 0.0) > 0).to_numpy() & note.notna().to_numpy()
        if m.any():
            note = note.where(~m, note.str.replace(old, new, regex=False))
    if agg.period_notes:
        add = res["period"].map(agg.period_notes).astype(object)
        note = _join_notes(df.index, note, add.where(add.notna(), None))
    res["note"] = note
    for col in STAT_EXTRAS.get(stat, ()):
        res[col] = pd.Series(extras[col], index=df.index).astype("float64")
    for col in agg.extras:
        if col not in res:
            res[col] = pd.Series(extras[col], index=df.index)
    for col, fn in agg.flags.items():
        res[col] = pd.array(np.where(np.isnan(v), None, fn(v)), dtype="boolean")
    for col, const in agg.constants.items():
        res[col] = const
    return pd.DataFrame(res, index=df.index).reset_index(drop=True)


def _bootstrap_cells(agg: Agg, grid: pd.DataFrame, keys: list[str], confidence: float, *,
                     n_boot: int, seed) -> tuple[pd.Series, pd.Series]:
    """Percentile bootstrap interval of the mean per grid cell from ``agg.values``.

    The values (durations in seconds) are counted per (cell, whole second) with
    :func:`kpitools.stats.intervals.value_counts` and resampled as multinomial counts over those
    distinct values, or as indices where a cell has few observations per value
    (:func:`kpitools.stats.intervals.bootstrap_mean_counts`, cost n_boot x min(n, 16 x distinct
    values)); cells with more than
    :data:`kpitools.stats.intervals.BOOTSTRAP_MAX_N` values get the t interval
    (docs/methods.md#value-count-bootstrap). Cell k of the grid resamples with child k of
    ``SeedSequence(seed)``.
    """
    from kpitools.stats.intervals import DURATION_RESOLUTION_S, bootstrap_mean_counts, value_counts

    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise KPIError(f"n_boot must be a positive integer, got {n_boot!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise KPIError(f"seed must be a non-negative integer or None, got {seed!r}")
    lo = pd.Series(np.nan, index=grid.index)
    hi = pd.Series(np.nan, index=grid.index)
    v = agg.values
    if v is None or len(v) == 0 or len(grid) == 0:
        return lo, hi
    code = _row_cells(agg, v, grid, keys)
    inside = code >= 0
    g, x, k = value_counts(v["value"].to_numpy(float)[inside], code[inside], resolution=DURATION_RESOLUTION_S)
    a, b, _ = bootstrap_mean_counts(x, k, g, n_groups=len(grid), confidence=confidence, n_boot=int(n_boot),
                                    seed=seed)
    return pd.Series(a, index=grid.index), pd.Series(b, index=grid.index)


def _durations(agg: Agg, grid: pd.DataFrame, keys: list[str], confidence: float) -> pd.DataFrame:
    """Kaplan-Meier summaries per grid cell (n = 0 rows for cells without observations)."""
    cols = ["n", "events", "censored", "median", "median_ci_low", "median_ci_high",
            "p90", "p90_ci_low", "p90_ci_high", "mean_observed", "rmst", "rmst_ci_low", "rmst_ci_high"]
    out = pd.DataFrame({c: np.nan for c in cols}, index=grid.index)
    out["rmst_horizon_s"] = np.nan if agg.horizon is None else agg.horizon
    out["n"] = 0.0
    out["events"] = 0.0
    out["censored"] = 0.0
    d = agg.durations
    if d is None or len(d) == 0 or len(grid) == 0:
        return out
    from kpitools.stats.survival import km_summary_codes

    summ = km_summary_codes(d["duration"].to_numpy(dtype=float, na_value=np.nan), d["observed"].to_numpy(),
                            _row_cells(agg, d, grid, keys), n_groups=len(grid), q=(0.5, 0.9),
                            confidence=confidence, horizon=agg.horizon)
    for c in cols:
        if c in summ.columns:
            out[c] = summ[c].to_numpy(dtype="float64")
    return out


def _row_cells(agg: Agg, rows: pd.DataFrame, grid: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Grid position of each row of ``agg.durations`` / ``agg.values`` (-1: not in the grid): via
    the cells' keys when the aggregate carries cell codes (``Agg.cells``), else the rows' keys."""
    if agg.cells is None:
        return _cell_codes(rows, grid, keys)
    code, ckeys = agg.cells
    lut = _cell_codes(ckeys, grid, keys)
    return lut[code] if len(lut) else np.full(len(code), -1, dtype=np.int64)


def _cell_codes(frame: pd.DataFrame, grid: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Row position in ``grid`` of each row's cell (-1 where the grid has no such cell).

    A row belongs to the grid cell whose ``keys`` read the same as text (the period compared at
    the grid's frequency). Each key column is factorised once, its distinct values matched to the
    grid's distinct values (text on the distinct values only), and the per-key codes combined in
    mixed radix; no per-row strings.
    """
    combined = np.zeros(len(frame), dtype=np.int64)
    gcombined = np.zeros(len(grid), dtype=np.int64)
    ok = np.ones(len(frame), dtype=bool)
    for k in keys:
        col = frame[k]
        if k == "period":
            col = pd.Series(pd.PeriodIndex(col).asfreq(grid["period"].dtype.freq), index=frame.index)
        fcodes, funiq = pd.factorize(col)
        gcodes, guniq = pd.factorize(grid[k])
        lut = pd.Index(pd.Index(guniq).astype("str")).get_indexer(pd.Index(funiq).astype("str"))
        fc = np.where(fcodes >= 0, lut[np.maximum(fcodes, 0)] if len(lut) else -1, -1)
        ok &= fc >= 0
        radix = max(len(guniq), 1)
        combined = combined * radix + np.maximum(fc, 0)
        gcombined = gcombined * radix + np.maximum(gcodes, 0)
    pos = pd.Index(gcombined).get_indexer(combined)
    return np.where(ok, pos, -1).astype(np.int64)


# ----------------------------------------------------------------------------------------------
# catalogue and the one-call table
# ----------------------------------------------------------------------------------------------
def catalogue() -> pd.DataFrame:
    """Every registered KPI with its definition, as a DataFrame.

    Returns
    -------
    DataFrame
        One row per KPI, sorted by group then name: ``kpi``, ``title``, ``group``,
        ``definition``, ``formula``, ``unit``, ``higher_is_better``, ``stat``, ``basis``
        (default), ``bases`` (supported, comma-separated), ``clock``, ``tables`` (comma-separated), ``columns`` ("table: a, b; ..."),
        ``segments`` (comma-separated), ``options``.
    """
    rows = []
    for s in REGISTRY.values():
        rows.append({
            "kpi": s.name, "title": s.title, "group": s.group, "definition": s.definition,
            "formula": s.formula, "unit": s.unit, "higher_is_better": s.higher_is_better,
            "stat": s.stat, "basis": s.basis, "bases": ", ".join(s.bases), "clock": s.clock,
            "tables": ", ".join(s.tables),
            "columns": "; ".join(f"{t}: {', '.join(c)}" for t, c in s.columns.items()),
            "segments": ", ".join(s.segments), "options": s.options,
        })
    cols = ["kpi", "title", "group", "definition", "formula", "unit", "higher_is_better", "stat",
            "basis", "bases", "clock", "tables", "columns", "segments", "options"]
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values(["group", "kpi"], kind="stable").reset_index(drop=True)


def _select(kpis: Sequence[str] | None) -> list[KPISpec]:
    if kpis is None:
        return list(REGISTRY.values())
    if isinstance(kpis, str):
        kpis = [kpis]
    unknown = [k for k in kpis if k not in REGISTRY]
    if unknown:
        raise KPIError(f"kpis: unknown KPI name(s) {unknown}; see kpitools.catalogue() for the names")
    return [REGISTRY[k] for k in kpis]


def skipped_kpis(ds, by=None, *, kpis: Sequence[str] | None = None) -> pd.DataFrame:
    """KPIs that cannot be computed on ``ds`` (with segments ``by``), with the reason.

    Returns
    -------
    DataFrame
        ``kpi``, ``reason`` (a table absent, a column missing, a segment not supported).
    """
    by_list = _check_by(by)
    rows = []
    for spec in _select(kpis):
        reason = missing_requirements(ds, spec, by_list)
        if reason:
            rows.append({"kpi": spec.name, "reason": reason})
    return pd.DataFrame(rows, columns=["kpi", "reason"]).astype("str")


def kpi_table(ds, period: str = "M", by=None, *, confidence: float = 0.95,
              kpis: Sequence[str] | None = None, seed: int | None = BOOTSTRAP_SEED) -> pd.DataFrame:
    """Every KPI the dataset supports, in long form.

    Parameters
    ----------
    ds : Dataset
    period : {"D", "W", "M", "Q"}
    by : str or list of str, optional
        Segment columns; KPIs that do not have them are skipped.
    confidence : float
    kpis : list of str, optional
        Restrict to these KPI names (default: all registered).
    seed : int or None, default :data:`BOOTSTRAP_SEED`
        Seed of every bootstrap interval (passed to each KPI that takes a ``seed`` option, e.g.
        the duration means asa, aht, acw_time, ticket_handle_time); None draws fresh entropy.

    Returns
    -------
    DataFrame
        The concatenated KPI results (columns of :func:`finish`; stat-specific extras are NaN
        for other KPIs). ``result.attrs["skipped"]`` is a DataFrame ``kpi, reason``.
    """
    if getattr(ds, "engine", "pandas") == "dask":  # partitioned dataset: kpitools.dask_engine
        from kpitools import dask_engine

        return dask_engine.kpi_table(ds, period=period, by=by, confidence=confidence, kpis=kpis, seed=seed)
    _check_period(period)
    by_list = _check_by(by)
    _check_confidence(confidence)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise KPIError(f"seed must be a non-negative integer or None, got {seed!r}")
    parts, skipped = [], []
    for spec in _select(kpis):
        reason = missing_requirements(ds, spec, by_list)
        if reason:
            skipped.append({"kpi": spec.name, "reason": reason})
            continue
        try:
            seeded = "seed" in inspect.signature(spec.func.__wrapped__).parameters
            parts.append(spec.func(ds, period=period, by=by_list or None, confidence=confidence,
                                   **({"seed": seed} if seeded else {})))
        except KPIUnavailable as e:
            skipped.append({"kpi": spec.name, "reason": str(e).split(": ", 1)[-1]})
    parts = [p for p in parts if len(p)]
    if parts:
        res = pd.concat(parts, ignore_index=True, sort=False)
        base = ["kpi", "period", *by_list]
        rest = [c for c in res.columns if c not in base]
        res = res[base + rest]
    else:
        res = pd.DataFrame(columns=["kpi", "period", *by_list, *BASE_COLUMNS[2:]])
    res.attrs["skipped"] = pd.DataFrame(skipped, columns=["kpi", "reason"]).astype("str")
    return res
