"""Tests for kpitools.calendar: hand-worked business durations, DST, holidays, properties.

Europe/Berlin: CET = UTC+1 in winter, CEST = UTC+2 in summer. In 2026 clocks go forward on
Sunday 2026-03-29 at 01:00 UTC (02:00 CET -> 03:00 CEST) and back on Sunday 2026-10-25 at
01:00 UTC (03:00 CEST -> 02:00 CET). Weekdays used: 2026-01-05 Mon, 2026-01-10 Sat,
2026-03-27 Fri, 2026-10-23 Fri, 2026-12-24 Thu, 2026-12-25 Fri, 2026-12-28 Mon.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpitools.calendar import BusinessCalendar, CalendarError
from kpitools.settings import Settings

TZ = "Europe/Berlin"
H = 3600
WEEKDAYS5 = ("mon", "tue", "wed", "thu", "fri")
SPLIT = [("08:00", "12:00"), ("13:00", "18:00")]  # 9 h a day, 45 h a week


def local(*stamps: str, tz: str = TZ) -> pd.Series:
    """Local wall-clock strings -> Series of UTC instants (datetime64[ns, UTC])."""
    return pd.Series(
        pd.to_datetime(list(stamps), format="ISO8601").tz_localize(tz).tz_convert("UTC")
    )


def utc(*stamps: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(stamps), utc=True))


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    """Mon-Fri 08:00-12:00 and 13:00-18:00 Berlin, Christmas Day 2026 a holiday."""
    return BusinessCalendar(
        {d: SPLIT for d in WEEKDAYS5} | {"sat": [], "sun": []}, holidays=["2026-12-25"], timezone=TZ
    )


@pytest.fixture(scope="module")
def sunday_cal() -> BusinessCalendar:
    """Open on Sundays only (the EU DST switches fall on Sundays): 01:00-05:00 and 08:00-18:00."""
    return BusinessCalendar({"sun": [("01:00", "05:00"), ("08:00", "18:00")]}, timezone=TZ)


# --------------------------------------------------------------------------------------------
# hand-worked durations
# --------------------------------------------------------------------------------------------
CASES = [
    # (id, start local, end local, expected business seconds, working)
    ("same shift", "2026-01-05 08:15", "2026-01-05 11:45", 3.5 * H),  # 08:15-11:45 = 3.5 h
    ("start == end inside", "2026-01-05 10:00", "2026-01-05 10:00", 0),
    ("start == end at night", "2026-01-05 23:00", "2026-01-05 23:00", 0),
    ("before opening", "2026-01-05 06:00", "2026-01-05 10:00", 2 * H),  # 08:00-10:00
    ("both in lunch break", "2026-01-05 12:30", "2026-01-05 12:45", 0),
    ("start in lunch break", "2026-01-05 12:30", "2026-01-05 14:00", 1 * H),  # 13:00-14:00
    ("end in lunch break", "2026-01-05 11:00", "2026-01-05 12:30", 1 * H),  # 11:00-12:00
    ("across lunch", "2026-01-05 11:00", "2026-01-05 14:00", 2 * H),  # 11-12 + 13-14
    ("night to before opening", "2026-01-05 20:00", "2026-01-06 07:00", 0),
    ("night to morning", "2026-01-05 20:00", "2026-01-06 09:00", 1 * H),  # Tue 08:00-09:00
    ("within weekend", "2026-01-10 10:00", "2026-01-11 15:00", 0),  # Sat -> Sun
    ("weekend to Monday", "2026-01-10 10:00", "2026-01-12 08:30", 0.5 * H),  # Mon 08:00-08:30
    ("Friday to Monday", "2026-01-09 17:00", "2026-01-12 09:00", 2 * H),  # Fri 17-18, Mon 8-9
    ("whole day", "2026-01-05 00:00", "2026-01-06 00:00", 9 * H),  # 4 h + 5 h
    # three whole weeks = 3 x 45 h; the second one crosses the spring DST switch
    ("multi-week winter", "2026-01-05 00:00", "2026-01-26 00:00", 3 * 45 * H),
    ("multi-week over DST", "2026-03-16 00:00", "2026-04-06 00:00", 3 * 45 * H),
    # Thu 24 Dec 17:00-18:00 (1 h), Fri 25 Dec holiday, weekend, Mon 28 Dec 08:00-09:00 (1 h)
    ("spanning a holiday", "2026-12-24 17:00", "2026-12-28 09:00", 2 * H),
    ("holiday only", "2026-12-25 07:00", "2026-12-25 20:00", 0),
    # spring switch weekend: Fri 27 Mar 16:00-18:00 CET (2 h) + Mon 30 Mar 08:00-09:30 CEST (1.5 h)
    ("spring DST weekend", "2026-03-27 16:00", "2026-03-30 09:30", 3.5 * H),
    # autumn switch weekend: Fri 23 Oct 17:00-18:00 CEST (1 h) + Mon 26 Oct 08:00-08:30 CET
    ("autumn DST weekend", "2026-10-23 17:00", "2026-10-26 08:30", 1.5 * H),
    # exact to the second: 11:59:59-12:00:00 (1 s) + 13:00:00-13:00:01 (1 s)
    ("seconds", "2026-01-05 11:59:59", "2026-01-05 13:00:01", 2),
    # below the second: 0.5 s + 0.25 s
    ("sub-second", "2026-01-05 11:59:59.5", "2026-01-05 13:00:00.25", 0.75),
]


@pytest.mark.parametrize(
    ("start", "end", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_duration_hand_worked(cal, start, end, expected):
    got = cal.duration(local(start), local(end))
    assert got.dtype == np.float64
    assert got.tolist() == [expected]


def test_duration_vectorised_equals_cases(cal):
    # the same cases in one call give the same numbers (hand-worked in CASES)
    s = local(*[c[1] for c in CASES])
    e = local(*[c[2] for c in CASES])
    np.testing.assert_array_equal(cal.duration(s, e), [c[3] for c in CASES])


def test_dst_spring_day_inside_shift(sunday_cal):
    # 2026-03-29: 01:00 CET = 00:00 UTC ... 05:00 CEST = 03:00 UTC: the 01:00-05:00 shift is 3 h
    # ticket 00:30-02:30 UTC = 01:30 CET - 04:30 CEST lies inside it: 2 h of real time
    assert sunday_cal.duration(utc("2026-03-29 00:30"), utc("2026-03-29 02:30")).tolist() == [2 * H]
    # the whole local day 00:00 CET (28th 23:00 UTC) - 24:00 CEST (29th 22:00 UTC): 3 h + 10 h
    assert sunday_cal.duration(utc("2026-03-28 23:00"), utc("2026-03-29 22:00")).tolist() == [
        13 * H
    ]
    # the 08:00-18:00 shift is 08:00-18:00 CEST = 06:00-16:00 UTC: 10 h; 05:00-07:00 UTC -> 1 h
    assert sunday_cal.duration(utc("2026-03-29 05:00"), utc("2026-03-29 07:00")).tolist() == [1 * H]


def test_dst_autumn_day_inside_shift(sunday_cal):
    # 2026-10-25: 01:00 CEST = 24th 23:00 UTC ... 05:00 CET = 04:00 UTC: the shift is 5 h
    # ticket 00:30-02:30 UTC = 02:30 CEST - 03:30 CET lies inside it: 2 h
    assert sunday_cal.duration(utc("2026-10-25 00:30"), utc("2026-10-25 02:30")).tolist() == [2 * H]
    # whole local day 00:00 CEST (24th 22:00 UTC) - 24:00 CET (25th 23:00 UTC): 5 h + 10 h
    assert sunday_cal.duration(utc("2026-10-24 22:00"), utc("2026-10-25 23:00")).tolist() == [
        15 * H
    ]
    # 08:00-18:00 CET = 07:00-17:00 UTC: ticket 06:00-18:00 UTC covers exactly the 10 h shift
    assert sunday_cal.duration(utc("2026-10-25 06:00"), utc("2026-10-25 18:00")).tolist() == [
        10 * H
    ]


def test_bounds_inside_dst_hours_follow_documented_convention():
    cal = BusinessCalendar({"sun": [("02:30", "04:00")]}, timezone=TZ)
    # spring: 02:30 does not exist, it moves to the end of the gap 03:00 CEST = 01:00 UTC;
    # 04:00 CEST = 02:00 UTC -> 1 h
    assert cal.duration(utc("2026-03-29 00:00"), utc("2026-03-29 04:00")).tolist() == [1 * H]
    # autumn: 02:30 occurs twice; the first occurrence 02:30 CEST = 00:30 UTC is used;
    # 04:00 CET = 03:00 UTC -> 2.5 h
    assert cal.duration(utc("2026-10-25 00:00"), utc("2026-10-25 04:00")).tolist() == [2.5 * H]


def test_end_of_day_2400_joins_next_day():
    cal = BusinessCalendar({"fri": [("20:00", "24:00")], "sat": [("00:00", "02:00")]}, timezone=TZ)
    # Fri 21:00 -> Sat 01:00 is one continuous opening: 3 h + 1 h
    assert cal.duration(local("2026-01-09 21:00"), local("2026-01-10 01:00")).tolist() == [4 * H]
    assert cal.is_open(local("2026-01-09 23:59:59", "2026-01-10 00:00")).tolist() == [True, True]


def test_nat_and_negative_give_nan(cal):
    s = local("2026-01-05 09:00", "2026-01-05 09:00", "2026-01-05 11:00")
    e = local("2026-01-05 10:00", "2026-01-05 10:00", "2026-01-05 10:00")
    s[1] = pd.NaT
    got = cal.duration(s, e)
    # row 0: 1 h; row 1: start NaT; row 2: end before start
    assert got[0] == 1 * H and np.isnan(got[1]) and np.isnan(got[2])
    e2 = e.copy()
    e2[0] = pd.NaT
    assert np.isnan(cal.duration(s, e2)[0])
    all_nat = pd.Series(pd.to_datetime([None, None], utc=True))
    assert np.isnan(cal.duration(all_nat, all_nat)).all()


def test_input_types_and_timezones(cal):
    # Mon 09:00-10:00 Berlin = 08:00-09:00 UTC = 03:00-04:00 New York (EST): 1 h in every form
    s_utc, e_utc = (
        pd.Timestamp("2026-01-05 08:00", tz="UTC"),
        pd.Timestamp("2026-01-05 09:00", tz="UTC"),
    )
    ny = pd.DatetimeIndex([s_utc, e_utc]).tz_convert("America/New_York")
    assert cal.duration([s_utc], [e_utc]).tolist() == [H]
    assert cal.duration(ny[:1], ny[1:]).tolist() == [H]
    assert cal.duration(s_utc, e_utc).tolist() == [H]
    # a scalar start broadcasts against an array of ends: 1 h and 2 h
    assert cal.duration(s_utc, [e_utc, e_utc + pd.Timedelta(hours=1)]).tolist() == [H, 2 * H]
    # microsecond-unit input (the pandas 3 default) gives the same seconds
    s_us = pd.Series([s_utc]).astype("datetime64[us, UTC]")
    assert cal.duration(s_us, pd.Series([e_utc])).tolist() == [H]


def test_empty_input(cal):
    empty = pd.Series(pd.to_datetime([], utc=True))
    assert cal.duration(empty, empty).shape == (0,)
    assert cal.is_open(empty).shape == (0,)
    assert len(cal.add(empty, 5.0)) == 0


def test_cache_does_not_change_results():
    # a calendar that first sees 2026, then 2030, then 2026 again agrees with a fresh one
    kw = {"holidays": ["2030-01-01"], "timezone": TZ}
    warm = BusinessCalendar({d: SPLIT for d in WEEKDAYS5}, **kw)
    s = local("2026-01-05 09:00", "2029-12-31 17:00")
    e = local("2026-01-05 10:00", "2030-01-02 09:00")
    # row 1: Mon 31 Dec 17:00-18:00 (1 h), Tue 1 Jan holiday, Wed 2 Jan 08:00-09:00 (1 h)
    assert warm.duration(s[:1], e[:1]).tolist() == [H]
    assert warm.duration(s[1:], e[1:]).tolist() == [2 * H]
    assert warm.duration(s, e).tolist() == [H, 2 * H]
    fresh = BusinessCalendar({d: SPLIT for d in WEEKDAYS5}, **kw)
    assert fresh.duration(s, e).tolist() == [H, 2 * H]


# --------------------------------------------------------------------------------------------
# add (deadlines) and is_open
# --------------------------------------------------------------------------------------------
ADD_CASES = [
    # (id, start local, seconds, expected local)
    ("inside a shift", "2026-01-05 09:00", 2 * H, "2026-01-05 11:00"),
    ("reaches closing time", "2026-01-05 10:00", 2 * H, "2026-01-05 12:00"),  # not 13:00
    ("one second past lunch", "2026-01-05 10:00", 2 * H + 1, "2026-01-05 13:00:01"),
    ("zero seconds at night", "2026-01-05 23:00", 0, "2026-01-05 23:00"),
    ("from the weekend", "2026-01-10 10:00", 60, "2026-01-12 08:01"),
    ("over the spring switch", "2026-03-27 16:00", 3.5 * H, "2026-03-30 09:30"),
    ("over the autumn switch", "2026-10-23 17:00", 1.5 * H, "2026-10-26 08:30"),
    ("over a holiday", "2026-12-24 17:00", 2 * H, "2026-12-28 09:00"),
    # 45 h = one week: Mon 00:00 + 45 h ends on Fri 18:00 of the same week
    ("one week", "2026-01-05 00:00", 45 * H, "2026-01-09 18:00"),
]


@pytest.mark.parametrize(
    ("start", "seconds", "expected"), [c[1:] for c in ADD_CASES], ids=[c[0] for c in ADD_CASES]
)
def test_add_hand_worked(cal, start, seconds, expected):
    got = cal.add(local(start), seconds)
    assert isinstance(got, pd.Series) and str(got.dtype) == "datetime64[ns, UTC]"
    assert got.tolist() == local(expected).tolist()


def test_add_far_ahead_grows_the_table():
    cal = BusinessCalendar({d: SPLIT for d in WEEKDAYS5}, timezone=TZ)
    # 100 weeks of 45 h from Mon 2026-01-05 00:00 end on Fri of week 100 at 18:00 local:
    # 2026-01-05 + 99 weeks + 4 days = 2027-12-03 (datetime.date arithmetic)
    got = cal.add(pd.Timestamp("2026-01-05", tz=TZ), 100 * 45 * H)
    assert isinstance(got, pd.Timestamp)
    assert got == pd.Timestamp("2027-12-03 18:00", tz=TZ)


def test_add_missing_and_negative_give_nat(cal):
    s = local("2026-01-05 09:00", "2026-01-05 09:00", "2026-01-05 09:00")
    s.index = ["a", "b", "c"]
    s["c"] = pd.NaT
    got = cal.add(s, [np.nan, -5.0, 60.0])
    assert list(got.index) == ["a", "b", "c"]
    assert got.isna().all()
    # broadcast: one start, several amounts -> a DatetimeIndex
    idx = cal.add(pd.Timestamp("2026-01-05 09:00", tz=TZ), [0, 60])
    assert isinstance(idx, pd.DatetimeIndex)
    assert list(idx) == list(local("2026-01-05 09:00", "2026-01-05 09:01"))


def test_is_open(cal):
    ts = local(
        "2026-01-05 07:59:59",  # before opening
        "2026-01-05 08:00",  # opening instant: open
        "2026-01-05 11:59:59",  # last second of the morning shift
        "2026-01-05 12:00",  # intervals are half-open: closed at 12:00
        "2026-01-05 13:30",
        "2026-01-05 18:00",  # closed at 18:00
        "2026-01-10 10:00",  # Saturday
        "2026-12-25 10:00",  # holiday
    )
    ts[5] = pd.NaT  # NaT is never open
    expected = [False, True, True, False, True, False, False, False]
    assert cal.is_open(ts).tolist() == expected


def test_open_seconds_summary_and_repr(cal):
    # 5 days x (4 h + 5 h) = 45 h
    assert cal.open_seconds_per_week == 45 * H
    summ = cal.summary
    assert list(summ.columns) == ["weekday", "start", "end", "hours"]
    assert summ["hours"].sum() == 45
    assert summ.iloc[1].tolist() == ["mon", "13:00", "18:00", 5.0]
    assert "Europe/Berlin" in cal._repr_html_() and "45 opening hours" in cal._repr_html_()
    assert cal.holidays_ == [dt.date(2026, 12, 25)]


def test_time_formats_are_equivalent():
    # "HH:MM", "HH:MM:SS", seconds after midnight and datetime.time describe the same hours
    a = BusinessCalendar({"mon": [("08:00", "12:00")]}, timezone=TZ)
    b = BusinessCalendar({"mon": [("08:00:00", 43200)]}, timezone=TZ)
    c = BusinessCalendar({"mon": [(dt.time(8), dt.time(12))]}, timezone=TZ)
    s, e = local("2026-01-05 07:00"), local("2026-01-05 11:00")
    assert (
        a.duration(s, e).tolist()
        == b.duration(s, e).tolist()
        == c.duration(s, e).tolist()
        == [3 * H]
    )


def test_from_settings_matches_constructor(cal):
    st_ = Settings.from_dict(
        {
            "timezone": TZ,
            "business_hours": {
                "weekly": {d: [list(x) for x in SPLIT] for d in WEEKDAYS5} | {"sat": [], "sun": []},
                "holidays": ["2026-12-25"],
            },
        }
    )
    from_settings = BusinessCalendar.from_settings(st_)
    s = local(*[c[1] for c in CASES])
    e = local(*[c[2] for c in CASES])
    np.testing.assert_array_equal(from_settings.duration(s, e), cal.duration(s, e))
    # a plain dict is read as settings too; the defaults are Mon-Fri 09:00-17:00 UTC
    default = BusinessCalendar.from_settings({})
    assert default.timezone == "UTC" and default.open_seconds_per_week == 5 * 8 * H


# --------------------------------------------------------------------------------------------
# validation messages
# --------------------------------------------------------------------------------------------
ERRORS = [
    ({"weekly": {"mon": [], "sat": []}}, r"no opening hours on any weekday"),
    ({"weekly": {}}, r"no opening hours on any weekday"),
    (
        {"weekly": {"mon": [("08:00", "12:00"), ("11:00", "13:00")]}},
        r"weekly\['mon'\]: intervals \(08:00, 12:00\) and \(11:00, 13:00\) overlap",
    ),
    (
        {"weekly": {"tue": [("12:00", "08:00")]}},
        r"weekly\['tue'\]\[0\]: interval \(12:00, 08:00\) ends at or before it starts",
    ),
    ({"weekly": {"tue": [("08:00", "08:00")]}}, r"ends at or before it starts"),
    ({"weekly": {"monday": [("08:00", "12:00")]}}, r"unknown weekday key 'monday'; use mon, tue"),
    (
        {"weekly": {"mon": [("8am", "12:00")]}},
        r"weekly\['mon'\]\[0\] start: '8am' is not a time of day; write HH:MM",
    ),
    ({"weekly": {"mon": [("08:00", "24:30")]}}, r"end: '24:30' is not a time of day"),
    ({"weekly": {"mon": [("08:60", "12:00")]}}, r"'08:60' is not a time of day"),
    ({"weekly": {"mon": [(-5, 3600)]}}, r"-5 is not a time of day; give whole seconds"),
    ({"weekly": {"mon": [("08:00",)]}}, r"weekly\['mon'\]\[0\]: expected a \(start, end\) pair"),
    (
        {"weekly": {"mon": "08:00-12:00"}},
        r"weekly\['mon'\]: expected a list of \(start, end\) intervals",
    ),
    ({"weekly": [("08:00", "12:00")]}, r"weekly: expected a mapping of weekday"),
    ({"timezone": "Berlin"}, r"timezone: 'Berlin' is not an IANA time zone name"),
    ({"timezone": None}, r"timezone: None is not an IANA time zone name"),
    (
        {"holidays": ["2026-13-01"]},
        r"holidays: '2026-13-01' is not a date; write dates as YYYY-MM-DD",
    ),
    ({"holidays": "2026-12-25"}, r"holidays: expected a list of dates"),
]


@pytest.mark.parametrize(("kwargs", "match"), ERRORS, ids=[m for _, m in ERRORS])
def test_constructor_errors(kwargs, match):
    args = {"weekly": {"mon": [("08:00", "12:00")]}, "timezone": TZ} | kwargs
    with pytest.raises(CalendarError, match=match):
        BusinessCalendar(args.pop("weekly"), **args)


def test_calendar_error_is_value_error():
    assert issubclass(CalendarError, ValueError)


def test_timestamp_errors(cal):
    naive = pd.Series(pd.to_datetime(["2026-01-05 09:00"]))
    with pytest.raises(CalendarError, match=r"start: timestamps are timezone-naive.*tz_localize"):
        cal.duration(naive, local("2026-01-05 10:00"))
    with pytest.raises(CalendarError, match=r"end: timestamps are timezone-naive"):
        cal.duration(local("2026-01-05 10:00"), naive)
    with pytest.raises(CalendarError, match=r"ts: timestamps are timezone-naive"):
        cal.is_open(naive)
    with pytest.raises(CalendarError, match=r"start and end: lengths differ \(2 and 3\)"):
        cal.duration(
            local("2026-01-05 09:00", "2026-01-05 09:00"),
            local("2026-01-05 10:00", "2026-01-05 10:00", "2026-01-05 10:00"),
        )
    with pytest.raises(CalendarError, match=r"start and seconds: lengths differ \(2 and 3\)"):
        cal.add(local("2026-01-05 09:00", "2026-01-05 09:00"), [1.0, 2.0, 3.0])
    with pytest.raises(CalendarError, match=r"start: cannot read the values as timestamps"):
        cal.duration(["not a date"], local("2026-01-05 10:00"))


# --------------------------------------------------------------------------------------------
# cross-check against an independent per-second implementation
# --------------------------------------------------------------------------------------------
def per_second_open(t0: pd.Timestamp, n_seconds: int, weekly: dict, holidays: list[str], tz: str):
    """Deliberately simple reference: every second of [t0, t0 + n) converted UTC -> local wall
    clock (the opposite direction of the implementation) and tested against the weekly table."""
    grid = pd.date_range(t0, periods=n_seconds, freq="s", tz="UTC").tz_convert(tz)
    sod = grid.hour * 3600 + grid.minute * 60 + grid.second
    wd = grid.day_of_week
    hol = np.isin(grid.tz_localize(None).normalize(), pd.to_datetime(holidays))
    open_ = np.zeros(n_seconds, dtype=bool)
    for i, day in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
        for a, b in weekly.get(day, []):
            a_s = int(a[:2]) * 3600 + int(a[3:]) * 60
            b_s = int(b[:2]) * 3600 + int(b[3:]) * 60
            open_ |= (wd == i) & (sod >= a_s) & (sod < b_s)
    return open_ & ~hol


CROSS_WEEKLY = {
    "mon": [("08:00", "12:00"), ("13:00", "18:00")],
    "tue": [("08:00", "12:00"), ("13:00", "18:00")],
    "wed": [("07:30", "11:15"), ("11:45", "16:00"), ("17:00", "21:30")],
    "thu": [("00:00", "06:00"), ("08:00", "18:00")],
    "fri": [("08:00", "12:00"), ("13:00", "24:00")],
    "sat": [("00:00", "01:30"), ("10:00", "14:00")],
    # 02:00 ends an interval: in autumn it is ambiguous (first occurrence = wall-clock reading)
    "sun": [("01:00", "02:00"), ("03:00", "05:00"), ("10:00", "11:00")],
}
CROSS_HOLIDAYS = ["2026-04-03", "2026-04-06", "2026-10-26", "2026-10-28"]


@pytest.mark.parametrize(
    ("tz", "first_day"),
    [
        (TZ, "2026-03-22"),
        (TZ, "2026-10-18"),
        ("America/New_York", "2026-03-04"),
        ("UTC", "2026-06-01"),
    ],
)
def test_cross_check_per_second(tz, first_day):
    # three weeks around a DST switch (New York switches on 2026-03-08 and 2026-11-01)
    n = 21 * 86_400
    t0 = pd.Timestamp(first_day, tz=tz).tz_convert("UTC")
    open_ = per_second_open(t0, n, CROSS_WEEKLY, CROSS_HOLIDAYS, tz)
    cum = np.concatenate([[0], np.cumsum(open_)])
    rng = np.random.default_rng(20261025)
    a = rng.integers(0, n, 3000)
    b = rng.integers(0, n, 3000)
    a, b = np.minimum(a, b), np.maximum(a, b)
    b[:300] = a[:300] + rng.integers(0, 600, 300).clip(max=n - a[:300])  # many short tickets
    cal = BusinessCalendar(CROSS_WEEKLY, holidays=CROSS_HOLIDAYS, timezone=tz)
    start = t0 + pd.to_timedelta(a, unit="s")
    end = t0 + pd.to_timedelta(b, unit="s")
    np.testing.assert_array_equal(cal.duration(start, end), cum[b] - cum[a])
    np.testing.assert_array_equal(cal.is_open(start), open_[a])
    # add: the deadline x business seconds after start, where x = reference duration
    x = (cum[b] - cum[a]).astype(float)
    deadline = cal.add(start, x)
    # the reference deadline: the first second d >= a with cum[d] - cum[a] == x, i.e. the end of
    # the x-th open second after a (d = a when x == 0)
    ref = np.searchsorted(cum, cum[a] + x, side="left")
    ref = np.where(x == 0, a, ref)
    np.testing.assert_array_equal(np.asarray(deadline - t0) // np.timedelta64(1, "s"), ref)


# --------------------------------------------------------------------------------------------
# properties (hypothesis)
# --------------------------------------------------------------------------------------------
PROP_CAL = BusinessCalendar(
    CROSS_WEEKLY, holidays=["2026-12-24", "2026-12-25", "2027-01-01"], timezone=TZ
)
T_LO = int(pd.Timestamp("2026-01-01", tz="UTC").value // 10**9)
T_HI = int(pd.Timestamp("2028-01-01", tz="UTC").value // 10**9)
seconds_ts = st.integers(T_LO, T_HI)


def _ts(secs) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(secs, dtype=np.int64), unit="s", utc=True))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(seconds_ts, st.integers(0, 21 * 86_400)), min_size=1, max_size=20))
def test_add_inverts_duration(pairs):
    s = _ts([p[0] for p in pairs])
    x = np.array([p[1] for p in pairs], dtype=float)
    d = PROP_CAL.add(s, x)
    # duration(s, add(s, x)) == x exactly, and add gives the earliest such instant
    np.testing.assert_array_equal(PROP_CAL.duration(s, d), x)
    pos = x > 0
    if pos.any():
        before = PROP_CAL.duration(s[pos], d[pos] - pd.Timedelta(seconds=1))
        assert (before < x[pos]).all()
    assert (d >= s).all()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(seconds_ts, seconds_ts, seconds_ts), min_size=1, max_size=20))
def test_additivity_and_bounds(triples):
    a, b, c = np.sort(np.array(triples, dtype=np.int64), axis=1).T
    ta, tb, tc = _ts(a), _ts(b), _ts(c)
    dab, dbc, dac = PROP_CAL.duration(ta, tb), PROP_CAL.duration(tb, tc), PROP_CAL.duration(ta, tc)
    # additivity: [a, c) = [a, b) + [b, c)
    np.testing.assert_array_equal(dac, dab + dbc)
    # 0 <= business duration <= calendar duration
    assert (dac >= 0).all() and (dac <= (c - a)).all()
