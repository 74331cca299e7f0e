"""Business-hours calendar: exact, vectorised business durations and SLA deadlines.

A :class:`BusinessCalendar` holds weekly opening hours (several intervals a day for split
shifts), holidays and a timezone. Opening hours are wall-clock times in that timezone, so an
08:00-18:00 shift on the day of a DST change is still 08:00-18:00 local (10 hours).

The business duration of a ticket is the part of ``[start, end)`` that falls inside opening
hours (docs/methods.md#business-hours). A calendar with no opening hours at all is an error,
not a calendar on which every duration is zero.

Examples
--------
>>> import pandas as pd
>>> cal = BusinessCalendar(
...     {d: [("08:00", "12:00"), ("13:00", "18:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
...     holidays=["2026-12-25"], timezone="Europe/Berlin")
>>> start = pd.Series(pd.to_datetime(["2026-03-27 16:00"]).tz_localize("Europe/Berlin"))
>>> end = pd.Series(pd.to_datetime(["2026-03-30 09:30"]).tz_localize("Europe/Berlin"))
>>> cal.duration(start, end) / 3600   # Fri 16:00-18:00 + Mon 08:00-09:30
array([3.5])
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BusinessCalendar", "CalendarError", "WEEKDAYS"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
_MARGIN_DAYS = 7  # extra local days on each side of the data when building the interval table
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


class CalendarError(ValueError):
    """The business calendar or the timestamps given to it cannot be used."""


# --------------------------------------------------------------------------------------------
# parsing and validation of the constructor arguments
# --------------------------------------------------------------------------------------------
def _fmt(sec: int) -> str:
    h, rem = divmod(int(sec), 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _parse_time(value: Any, where: str) -> int:
    """A time of day as seconds after local midnight: 'HH:MM[:SS]', seconds, or datetime.time."""
    if isinstance(value, dt.time):
        return value.hour * 3600 + value.minute * 60 + value.second
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        if not np.isfinite(value) or value < 0 or value > 86_400 or value != int(value):
            raise CalendarError(
                f"{where}: {value!r} is not a time of day; give whole seconds after midnight "
                "between 0 and 86400, or a string HH:MM between 00:00 and 24:00"
            )
        return int(value)
    m = _TIME.match(str(value).strip()) if isinstance(value, str) else None
    if m is None:
        raise CalendarError(
            f"{where}: {value!r} is not a time of day; write HH:MM between 00:00 and 24:00 "
            "(for example '08:00' or '24:00')"
        )
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    sec = h * 3600 + mi * 60 + s
    if mi > 59 or s > 59 or sec > 86_400:
        raise CalendarError(
            f"{where}: {value!r} is not a time of day; write HH:MM between 00:00 and 24:00 "
            "(hours 0-24, minutes 0-59)"
        )
    return sec


def _parse_weekly(weekly: Any) -> dict[str, list[tuple[int, int]]]:
    if not isinstance(weekly, Mapping):
        raise CalendarError(
            "weekly: expected a mapping of weekday (mon, tue, wed, thu, fri, sat, sun) to a list of "
            f"(start, end) intervals, got {type(weekly).__name__}"
        )
    unknown = [k for k in weekly if k not in WEEKDAYS]
    if unknown:
        raise CalendarError(
            f"weekly: unknown weekday key {unknown[0]!r}; use mon, tue, wed, thu, fri, sat, sun"
        )
    out: dict[str, list[tuple[int, int]]] = {}
    for day in WEEKDAYS:
        spans = weekly.get(day) or []
        if isinstance(spans, str) or not isinstance(spans, Iterable):
            raise CalendarError(
                f"weekly[{day!r}]: expected a list of (start, end) intervals such as "
                f"[('08:00', '12:00'), ('13:00', '18:00')], got {spans!r}"
            )
        parsed = []
        for i, span in enumerate(spans):
            where = f"weekly[{day!r}][{i}]"
            if isinstance(span, str) or not isinstance(span, Iterable) or len(list(span)) != 2:
                raise CalendarError(
                    f"{where}: expected a (start, end) pair such as ('08:00', '12:00'), got {span!r}"
                )
            a_raw, b_raw = list(span)
            a = _parse_time(a_raw, f"{where} start")
            b = _parse_time(b_raw, f"{where} end")
            if b <= a:
                raise CalendarError(
                    f"{where}: interval ({_fmt(a)}, {_fmt(b)}) ends at or before it starts; "
                    "write (start, end) with start < end (use '24:00' for midnight at the end of "
                    "the day)"
                )
            parsed.append((a, b))
        parsed.sort()
        for (a1, b1), (a2, b2) in zip(parsed, parsed[1:], strict=False):
            if a2 < b1:
                raise CalendarError(
                    f"weekly[{day!r}]: intervals ({_fmt(a1)}, {_fmt(b1)}) and ({_fmt(a2)}, "
                    f"{_fmt(b2)}) overlap; merge them into one interval or make them disjoint"
                )
        out[day] = parsed
    if not any(out.values()):
        raise CalendarError(
            "weekly: the calendar has no opening hours on any weekday, so no business time could "
            "ever elapse; give at least one interval, for example {'mon': [('09:00', '17:00')]}"
        )
    return out


def _parse_holidays(holidays: Any) -> np.ndarray:
    """Holidays as sorted unique int64 days since 1970-01-01 (local calendar days)."""
    if holidays is None:
        return np.empty(0, dtype=np.int64)
    if isinstance(holidays, str | dt.date) or not isinstance(holidays, Iterable):
        raise CalendarError(
            f"holidays: expected a list of dates (YYYY-MM-DD strings or datetime.date), "
            f"got {holidays!r}"
        )
    days = []
    for h in holidays:
        try:
            if isinstance(h, pd.Timestamp | dt.datetime):
                d = pd.Timestamp(h).date()
            elif isinstance(h, dt.date):
                d = h
            else:
                d = dt.date.fromisoformat(str(h).strip())
        except ValueError:
            raise CalendarError(
                f"holidays: {h!r} is not a date; write dates as YYYY-MM-DD"
            ) from None
        days.append(np.datetime64(d, "D").astype(np.int64))
    return np.unique(np.asarray(days, dtype=np.int64))


def _parse_timezone(timezone: Any) -> str:
    try:
        if not isinstance(timezone, str):
            raise TypeError
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise CalendarError(
            f"timezone: {timezone!r} is not an IANA time zone name; use for example "
            "'Europe/Berlin', 'America/New_York' or 'UTC'"
        ) from None
    return timezone


# --------------------------------------------------------------------------------------------
# timestamps in and out
# --------------------------------------------------------------------------------------------
def _to_utc_ns(x: Any, name: str) -> tuple[np.ndarray, bool]:
    """Timestamps -> (int64 ns since epoch in UTC, 1-d; NaT as iNaT), and whether x was scalar."""
    scalar = np.ndim(x) == 0 and not isinstance(x, pd.Series | pd.Index)
    values = [x] if scalar else x
    try:
        idx = pd.DatetimeIndex(values)
    except (TypeError, ValueError) as e:
        raise CalendarError(
            f"{name}: cannot read the values as timestamps ({e}); pass timezone-aware timestamps, "
            "e.g. a datetime64[ns, UTC] Series"
        ) from None
    if idx.tz is None:
        if len(idx) and not idx.isna().all():
            raise CalendarError(
                f"{name}: timestamps are timezone-naive; business hours need instants in time. "
                "Localise them first, e.g. s.dt.tz_localize('UTC') or pd.to_datetime(s, utc=True)"
            )
        idx = idx.tz_localize("UTC")
    return idx.tz_convert("UTC").as_unit("ns").asi8.copy(), scalar


_INAT = np.iinfo(np.int64).min


# --------------------------------------------------------------------------------------------
# the calendar
# --------------------------------------------------------------------------------------------
class BusinessCalendar:
    """Weekly opening hours with holidays in a timezone; business durations and deadlines.

    Parameters
    ----------
    weekly : mapping of str to list of (start, end)
        Opening intervals per weekday, keys ``mon`` .. ``sun`` (a missing key is a closed day).
        Each interval is a pair of wall-clock times in ``timezone``: strings ``"HH:MM"`` (or
        ``"HH:MM:SS"``), whole seconds after local midnight, or :class:`datetime.time`.
        ``"24:00"`` is allowed as an end. Several intervals a day give split shifts; they must
        not overlap. Intervals are half-open ``[start, end)``.
    holidays : list of date-like, optional
        Local calendar days with no opening hours (``"2026-12-25"``, :class:`datetime.date`).
    timezone : str, default "UTC"
        IANA time zone name of the opening hours and holidays.

    Attributes
    ----------
    weekly_ : dict of str to list of (int, int)
        The validated intervals as seconds after local midnight, sorted.
    holidays_ : list of datetime.date
    timezone : str
    open_seconds_per_week : float
        Nominal opening time of one week (no holidays, no DST change).

    Raises
    ------
    CalendarError
        No opening hours at all, overlapping intervals, an interval ending before it starts, an
        unknown weekday key, a time that is not ``HH:MM``, a date that is not ``YYYY-MM-DD`` or an
        unknown timezone.

    See Also
    --------
    kpitools.settings.Settings.weekly_hours : the ``business_hours`` block of ``dataset.yml``.

    Notes
    -----
    All computation runs on an interval table: every opening interval between the earliest and
    the latest timestamp of the data (plus a week either side), as absolute UTC nanoseconds
    :math:`[s_k, e_k)`, with the cumulative opening time :math:`C_k = \\sum_{j<k}(e_j - s_j)`
    before interval :math:`k`. The business time elapsed before an instant :math:`t` is

    .. math:: B(t) = C_k + \\min(\\max(t - s_k, 0), e_k - s_k),\\quad k = \\max\\{j: s_j \\le t\\}

    found with a binary search (``numpy.searchsorted``); a business duration is
    :math:`B(\\text{end}) - B(\\text{start})`. The arithmetic is in integer nanoseconds, so
    results are exact (to the nanosecond, hence to the second).

    Local interval bounds are converted to UTC with the zone's rules (pandas ``tz_localize``):
    a bound in the hour skipped when clocks go forward moves to the end of the gap
    (``nonexistent="shift_forward"``); a bound in the hour repeated when clocks go back is taken
    at its first occurrence (summer time). Bounds outside those hours, which covers every
    ordinary shift, are the wall-clock times exactly.

    Examples
    --------
    >>> cal = BusinessCalendar({"mon": [("09:00", "17:00")]}, timezone="Europe/Berlin")
    >>> cal.open_seconds_per_week / 3600
    8.0
    """

    def __init__(
        self,
        weekly: Mapping[str, Iterable[tuple[Any, Any]]],
        *,
        holidays: Iterable[Any] | None = None,
        timezone: str = "UTC",
    ) -> None:
        self.weekly_ = _parse_weekly(weekly)
        self._holiday_days = _parse_holidays(holidays)
        self.timezone = _parse_timezone(timezone)
        # the weekly pattern as flat arrays, ordered by weekday then start
        wd, a, b = [], [], []
        for i, day in enumerate(WEEKDAYS):
            for s, e in self.weekly_[day]:
                wd.append(i)
                a.append(s)
                b.append(e)
        self._pat_wd = np.asarray(wd, dtype=np.int64)
        self._pat_start = np.asarray(a, dtype=np.int64) * _NS
        self._pat_end = np.asarray(b, dtype=np.int64) * _NS
        self._pat_count = np.bincount(self._pat_wd, minlength=7)
        self._pat_first = np.concatenate([[0], np.cumsum(self._pat_count)[:-1]])
        self._table: tuple[int, int, np.ndarray, np.ndarray, np.ndarray] | None = None

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Any) -> BusinessCalendar:
        """Build the calendar from dataset settings.

        Parameters
        ----------
        settings : kpitools.settings.Settings or dict
            Uses ``settings.weekly_hours`` (seconds after local midnight per weekday),
            ``settings.holidays`` and ``settings.timezone``. A dict is read with
            :meth:`kpitools.settings.Settings.from_dict` (defaults filled in).

        Returns
        -------
        BusinessCalendar
        """
        if isinstance(settings, Mapping):
            from kpitools.settings import Settings

            settings = Settings.from_dict(dict(settings))
        return cls(settings.weekly_hours, holidays=settings.holidays, timezone=settings.timezone)

    # --- descriptive -------------------------------------------------------------------------
    @property
    def holidays_(self) -> list[dt.date]:
        return [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in self._holiday_days]

    @property
    def open_seconds_per_week(self) -> float:
        """Nominal opening time of one week in seconds (no holidays, no DST change)."""
        return float((self._pat_end - self._pat_start).sum() / _NS)

    @property
    def summary(self) -> pd.DataFrame:
        """The weekly opening intervals as a tidy DataFrame.

        Returns
        -------
        pandas.DataFrame
            One row per opening interval:

            - ``weekday``: ``mon`` .. ``sun``
            - ``start``, ``end``: local wall-clock times ``HH:MM``
            - ``hours``: length of the interval in hours
        """
        rows = [
            {"weekday": d, "start": _fmt(a), "end": _fmt(b), "hours": (b - a) / 3600}
            for d in WEEKDAYS
            for a, b in self.weekly_[d]
        ]
        return pd.DataFrame(rows, columns=["weekday", "start", "end", "hours"])

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar(timezone={self.timezone!r}, "
            f"open_hours_per_week={self.open_seconds_per_week / 3600:g}, "
            f"holidays={len(self._holiday_days)})"
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>BusinessCalendar</b> &middot; timezone {html.escape(self.timezone)} &middot; "
            f"{self.open_seconds_per_week / 3600:g} opening hours a week &middot; "
            f"{len(self._holiday_days)} holidays</p>"
        )
        return head + self.summary.to_html(index=False)

    # --- interval table ----------------------------------------------------------------------
    def _build(self, day0: int, day1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Opening intervals of local days day0..day1 (days since epoch) as UTC ns, and C."""
        days = np.arange(day0, day1 + 1, dtype=np.int64)
        days = days[~np.isin(days, self._holiday_days)]
        wd = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        counts = self._pat_count[wd]
        total = int(counts.sum())
        offsets = np.repeat(np.cumsum(counts) - counts, counts)
        rows = np.repeat(self._pat_first[wd], counts) + (np.arange(total) - offsets)
        midnight = np.repeat(days, counts) * _DAY_NS
        local = np.concatenate([midnight + self._pat_start[rows], midnight + self._pat_end[rows]])
        utc = (
            pd.DatetimeIndex(local.view("datetime64[ns]"))
            .tz_localize(
                self.timezone,
                ambiguous=np.ones(local.size, dtype=bool),
                nonexistent="shift_forward",
            )
            .asi8
        )
        start, end = utc[:total], utc[total:]
        keep = end > start  # an interval inside a skipped DST hour has no length
        start, end = start[keep], end[keep]
        cum = np.concatenate([[0], np.cumsum(end - start)])
        return start, end, cum

    def _ensure(self, lo_ns: int, hi_ns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The interval table covering [lo_ns, hi_ns] (cached; rebuilt to the union if needed)."""
        day0 = lo_ns // _DAY_NS - _MARGIN_DAYS
        day1 = hi_ns // _DAY_NS + _MARGIN_DAYS
        if self._table is not None:
            c0, c1, s, e, c = self._table
            if c0 <= day0 and day1 <= c1:
                return s, e, c
            day0, day1 = min(day0, c0), max(day1, c1)
        s, e, c = self._build(day0, day1)
        self._table = (day0, day1, s, e, c)
        return s, e, c

    @staticmethod
    def _elapsed(t: np.ndarray, s: np.ndarray, e: np.ndarray, c: np.ndarray) -> np.ndarray:
        """B(t): business ns elapsed from the start of the table to each t (int64)."""
        if s.size == 0:
            return np.zeros(t.shape, dtype=np.int64)
        k = np.searchsorted(s, t, side="right") - 1
        kk = np.maximum(k, 0)
        part = np.clip(t - s[kk], 0, e[kk] - s[kk])
        return np.where(k >= 0, c[kk] + part, 0)

    # --- public computations -----------------------------------------------------------------
    def duration(self, start: Any, end: Any) -> np.ndarray:
        """Business seconds in ``[start, end)``, element by element.

        Parameters
        ----------
        start, end : array-like of timezone-aware timestamps
            Series, DatetimeIndex, lists of Timestamps or scalars (broadcast against each other).
            Any timezone; naive timestamps raise :class:`CalendarError`.

        Returns
        -------
        numpy.ndarray of float64
            Business seconds of each pair; NaN where either timestamp is NaT and where
            ``end < start`` (a negative interval has no business duration; check the data).
            ``start == end`` gives 0.

        Notes
        -----
        :math:`B(\\text{end}) - B(\\text{start})` with :math:`B` as in the class Notes; exact in
        integer nanoseconds, divided by :math:`10^9` at the end. Never more than
        ``end - start``.
        """
        s_ns, _ = _to_utc_ns(start, "start")
        e_ns, _ = _to_utc_ns(end, "end")
        try:
            s_ns, e_ns = np.broadcast_arrays(s_ns, e_ns)
        except ValueError:
            raise CalendarError(
                f"start and end: lengths differ ({s_ns.size} and {e_ns.size}); pass one end per "
                "start (or a single timestamp for either)"
            ) from None
        ok = (s_ns != _INAT) & (e_ns != _INAT) & (e_ns >= s_ns)
        out = np.full(s_ns.shape, np.nan)
        if ok.any():
            sv, ev = s_ns[ok], e_ns[ok]
            tab = self._ensure(int(sv.min()), int(ev.max()))
            out[ok] = (self._elapsed(ev, *tab) - self._elapsed(sv, *tab)) / _NS
        return out

    def add(self, start: Any, seconds: Any) -> pd.DatetimeIndex | pd.Series | pd.Timestamp:
        """The instant at which ``seconds`` business seconds have elapsed after ``start``.

        The inverse of :meth:`duration`, for SLA deadlines: ``duration(start, add(start, x))
        == x``.

        Parameters
        ----------
        start : array-like of timezone-aware timestamps, or a scalar
        seconds : float or array-like of float
            Business seconds to add (broadcast against ``start``). NaN or negative values give
            NaT.

        Returns
        -------
        pandas.DatetimeIndex, pandas.Series or pandas.Timestamp
            UTC instants (``datetime64[ns, UTC]``): a Series with ``start``'s index when
            ``start`` is a Series, a Timestamp when both arguments are scalars, else a
            DatetimeIndex. NaT where ``start`` is NaT.

        Notes
        -----
        For ``seconds = 0`` the result is ``start`` itself. Otherwise it is the earliest
        instant :math:`t` with :math:`B(t) = B(\\text{start}) + x`: inside an opening interval
        or exactly at its closing time (a deadline reached at 18:00 is 18:00, not the next
        morning). Fractions of a second are rounded to the nanosecond.
        """
        s_ns, s_scalar = _to_utc_ns(start, "start")
        x = np.asarray(seconds, dtype=float)
        x_scalar = x.ndim == 0
        try:
            s_ns, x = np.broadcast_arrays(s_ns if not s_scalar else s_ns[0], x)
        except ValueError:
            raise CalendarError(
                f"start and seconds: lengths differ ({s_ns.size} and {x.size}); pass one value "
                "per start (or a single value for either)"
            ) from None
        s_ns, x = np.atleast_1d(s_ns), np.atleast_1d(x)
        out = np.full(s_ns.shape, _INAT, dtype=np.int64)
        ok = (s_ns != _INAT) & np.isfinite(x) & (x >= 0)
        if ok.any():
            sv = s_ns[ok]
            xv = np.round(x[ok] * _NS).astype(np.int64)
            lo, hi = int(sv.min()), int(sv.max())
            # grow the table forward until it holds enough opening time for every deadline
            weeks = int(np.ceil(xv.max() / (self.open_seconds_per_week * _NS))) + 1
            while True:
                s, e, c = self._ensure(lo, hi + weeks * 7 * _DAY_NS)
                target = self._elapsed(sv, s, e, c) + xv
                if c[-1] >= target.max():
                    break
                weeks *= 2
            if s.size == 0:  # only possible when every x is 0
                out[ok] = sv
            else:
                k = np.minimum(np.searchsorted(c[1:], target, side="left"), s.size - 1)
                out[ok] = np.where(xv == 0, sv, s[k] + (target - c[k]))
        idx = pd.DatetimeIndex(out.view("datetime64[ns]")).tz_localize("UTC")
        if s_scalar and x_scalar:
            return idx[0]
        if isinstance(start, pd.Series):
            return pd.Series(idx, index=start.index)
        return idx

    def is_open(self, ts: Any) -> np.ndarray:
        """Whether each timestamp lies inside opening hours.

        Parameters
        ----------
        ts : array-like of timezone-aware timestamps, or a scalar

        Returns
        -------
        numpy.ndarray of bool
            True where ``ts`` falls in an opening interval ``[start, end)``; False for NaT.
        """
        t, _ = _to_utc_ns(ts, "ts")
        out = np.zeros(t.shape, dtype=bool)
        ok = t != _INAT
        if ok.any():
            tv = t[ok]
            s, e, _c = self._ensure(int(tv.min()), int(tv.max()))
            if s.size:
                k = np.searchsorted(s, tv, side="right") - 1
                out[ok] = (k >= 0) & (tv < e[np.maximum(k, 0)])
        return out
