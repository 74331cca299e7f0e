"""Contact-centre KPIs against a hand-worked fixture, hypothesis properties and the sample data.

Fixture (timezone Europe/Berlin: CEST = UTC+2 until Sun 2026-10-25, CET = UTC+1 after;
settings service_level_s 20, short_abandon_s 5, repeat_window_days 7). Timestamps UTC.

====  =======  ===================  ==========================  ====  =====  ===============
id    channel  queued               outcome (wait)              cust  agent  talk/hold/acw
====  =======  ===================  ==========================  ====  =====  ===============
c1    phone    Mon Oct 05 08:00:00  answered 08:00:10 (10 s)    K1    a1     300/30/60 = 390
c2    phone    Mon Oct 05 08:10:00  abandoned 08:10:03 (3 s)    K1    -      short abandon
c3    phone    Mon Oct 05 08:20:00  answered 08:20:30 (30 s)    K2    a2     200/-/40 = 240
c4    phone    Tue Oct 06 09:00:00  abandoned 09:00:25 (25 s)   K3    -
c5    chat     Tue Oct 06 09:30:00  answered 09:30:20 (20 s)    K2    a1     600/0/0 = 600
c6    chat     Wed Oct 07 10:00:00  abandoned 10:00:12 (12 s)   -     -
c7    chat     Sat Oct 31 22:30:00  answered 22:30:05 (5 s)     K1    a2     100/0/20 = 120
c8    phone    Tue Dec 01 09:00:00  answered 09:00:08 (8 s)     K3    a1     60/0/0 = 60
====  =======  ===================  ==========================  ====  =====  ===============

c7 is 23:30 local on Oct 31: October. No contact in November (an empty period).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from kpitools.io import Dataset
from kpitools.kpis import kpi_table
from kpitools.kpis._core import KPIError, KPIUnavailable
from kpitools.kpis.contact_centre import (
    abandon_rate,
    acw_time,
    aht,
    asa,
    chat_abandonment,
    contact_facts,
    occupancy,
    repeat_contact_rate_contacts,
    service_level,
    staffing_by_hour,
    staffing_gap,
    utilization,
)
from kpitools.stats.staffing import erlang_c, required_agents

SETTINGS = {"timezone": "Europe/Berlin", "service_level_s": 20, "short_abandon_s": 5,
            "repeat_window_days": 7, "utilization_burnout": 0.7}

CONTACTS = pd.DataFrame(
    [
        ("c1", "phone", "2026-10-05T08:00:00Z", False, "K1", "2026-10-05T08:00:10Z", "2026-10-05T08:06:40Z", 300, 30, 60, "a1"),
        ("c2", "phone", "2026-10-05T08:10:00Z", True, "K1", None, "2026-10-05T08:10:03Z", None, None, None, None),
        ("c3", "phone", "2026-10-05T08:20:00Z", False, "K2", "2026-10-05T08:20:30Z", "2026-10-05T08:24:30Z", 200, None, 40, "a2"),
        ("c4", "phone", "2026-10-06T09:00:00Z", True, "K3", None, "2026-10-06T09:00:25Z", None, None, None, None),
        ("c5", "chat", "2026-10-06T09:30:00Z", False, "K2", "2026-10-06T09:30:20Z", "2026-10-06T09:40:20Z", 600, 0, 0, "a1"),
        ("c6", "chat", "2026-10-07T10:00:00Z", True, None, None, "2026-10-07T10:00:12Z", None, None, None, None),
        ("c7", "chat", "2026-10-31T22:30:00Z", False, "K1", "2026-10-31T22:30:05Z", "2026-10-31T22:32:05Z", 100, 0, 20, "a2"),
        ("c8", "phone", "2026-12-01T09:00:00Z", False, "K3", "2026-12-01T09:00:08Z", "2026-12-01T09:01:08Z", 60, 0, 0, "a1"),
    ],
    columns=["contact_id", "channel", "queued_at", "abandoned", "customer_id", "answered_at", "ended_at",
             "talk_s", "hold_s", "acw_s", "agent_id"],
)

AGENT_DAYS = pd.DataFrame(
    [
        ("a1", "2026-10-05", 28800.0, 14400.0),
        ("a1", "2026-10-06", 28800.0, 21600.0),
        ("a2", "2026-10-05", 14400.0, 12960.0),
        ("a2", "2026-12-01", 28800.0, None),  # no handle time: left out of both sums
    ],
    columns=["agent_id", "date", "staffed_s", "handle_s"],
)


@pytest.fixture(scope="module")
def ds():
    return Dataset.from_frames({"contacts": CONTACTS, "agent_days": AGENT_DAYS}, settings=SETTINGS)


def row(res: pd.DataFrame, period: str, **seg) -> pd.Series:
    m = res["period"].astype(str) == period
    for k, v in seg.items():
        m &= res[k] == v
    assert m.sum() == 1, (period, seg)
    return res[m].iloc[0]


# ----------------------------------------------------------------------------------------------
# abandon rate
# ----------------------------------------------------------------------------------------------
def test_abandon_rate_excludes_short_abandon_by_default(ds):
    r = abandon_rate(ds)
    assert r["period"].astype(str).tolist() == ["2026-10", "2026-11", "2026-12"]
    oct_ = row(r, "2026-10")
    # October: 7 queued; c2 abandoned after 3 s < 5 s (short) -> left out: 6 counted,
    # abandons c4, c6 -> 2 / 6
    assert (oct_["numerator"], oct_["denominator"], oct_["n"]) == (2, 6, 7)
    assert oct_["value"] == pytest.approx(1 / 3)
    assert oct_["short_abandons"] == 1
    assert "excluded" in oct_["note"]
    # Wilson interval, cross-checked with statsmodels proportion_confint(2, 6, method="wilson")
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(2, 6, alpha=0.05, method="wilson")
    assert (oct_["ci_low"], oct_["ci_high"]) == pytest.approx((lo, hi))
    # November: no contact -> n = 0, NaN, "no data"
    nov = row(r, "2026-11")
    assert nov["n"] == 0 and np.isnan(nov["value"]) and "no data" in nov["note"]
    # December: c8 answered -> 0 / 1
    assert row(r, "2026-12")["value"] == 0.0


def test_abandon_rate_includes_short_abandon_on_request(ds):
    # all 7 October contacts, abandons c2, c4, c6 -> 3 / 7; the short abandon is still reported
    oct_ = row(abandon_rate(ds, exclude_short=False), "2026-10")
    assert (oct_["numerator"], oct_["denominator"]) == (3, 7)
    assert oct_["short_abandons"] == 1
    assert "included" in oct_["note"]


def test_abandon_rate_threshold_option_and_segments(ds):
    # threshold 15 s: c2 (3 s) and c6 (12 s) are short -> counted c1, c3, c4, c5, c7: 1 abandon / 5
    oct_ = row(abandon_rate(ds, short_abandon_s=15), "2026-10")
    assert (oct_["numerator"], oct_["denominator"], oct_["short_abandons"]) == (1, 5, 2)
    by = abandon_rate(ds, by="channel")
    # phone Oct: c1, c3, c4 counted (c2 short) -> 1/3; chat Oct: c5, c6, c7 -> 1/3
    assert row(by, "2026-10", channel="phone")["value"] == pytest.approx(1 / 3)
    assert row(by, "2026-10", channel="chat")["value"] == pytest.approx(1 / 3)
    # counts add up across segments to the total
    tot = abandon_rate(ds).set_index(abandon_rate(ds)["period"].astype(str))
    sums = by.groupby(by["period"].astype(str))[["numerator", "denominator", "n", "short_abandons"]].sum()
    pd.testing.assert_frame_equal(sums, tot[["numerator", "denominator", "n", "short_abandons"]],
                                  check_names=False)


def test_abandon_rate_zero_denominator_has_a_note():
    # the only contact is a short abandon: excluded -> 0 / 0 with n = 1
    c = CONTACTS[CONTACTS["contact_id"] == "c2"]
    r = abandon_rate(Dataset.from_frames({"contacts": c}, settings=SETTINGS))
    assert r["n"].tolist() == [1] and np.isnan(r["value"].iloc[0])
    assert r["note"].iloc[0].startswith("zero denominator: queued contacts")


def test_abandon_rate_rejects_bad_options(ds):
    with pytest.raises(KPIError, match="exclude_short must be True or False"):
        abandon_rate(ds, exclude_short="yes")
    with pytest.raises(KPIError, match="short_abandon_s must be a non-negative"):
        abandon_rate(ds, short_abandon_s=-1)
    with pytest.raises(KPIError, match="unknown option"):
        abandon_rate(ds, exclude_shorts=True)


# ----------------------------------------------------------------------------------------------
# ASA, service level, chat abandonment
# ----------------------------------------------------------------------------------------------
def test_asa_mean_median_p90_and_t_interval(ds):
    oct_ = row(asa(ds), "2026-10")
    waits = np.array([10.0, 30.0, 20.0, 5.0])  # c1, c3, c5, c7 (answered)
    # mean 65 / 4 = 16.25; median (10 + 20) / 2 = 15; p90 linear: 20 + 0.7 x 10 = 27
    assert oct_["value"] == pytest.approx(16.25)
    assert oct_["n"] == 4
    assert oct_["median"] == pytest.approx(15.0)
    assert oct_["p90"] == pytest.approx(27.0)
    # sd by hand: squared deviations 39.0625 + 189.0625 + 14.0625 + 126.5625 = 368.75; / 3
    assert oct_["sd"] == pytest.approx(np.sqrt(368.75 / 3))
    lo, hi = stats.t.interval(0.95, df=3, loc=waits.mean(), scale=stats.sem(waits))  # scipy reference
    assert (oct_["ci_low"], oct_["ci_high"]) == pytest.approx((lo, hi))
    assert np.isnan(row(asa(ds), "2026-11")["value"])


def test_service_level_80_20_form(ds):
    r = service_level(ds)
    oct_ = row(r, "2026-10")
    # T = 20: answered within (<= 20 s): c1 10, c5 20, c7 5 -> 3; denominator: 4 answered
    # + abandoned after T (c4 25 s) = 5; c2 (3 s) and c6 (12 s) abandoned within T are left out
    assert (oct_["numerator"], oct_["denominator"], oct_["abandoned_within_t"]) == (3, 5, 2)
    assert oct_["value"] == pytest.approx(0.6)
    assert oct_["note"] == "T = 20 s"
    # T = 10: within c1 10, c7 5 -> 2; abandoned after 10 s: c4, c6 -> denominator 4 + 2 = 6
    oct10 = row(service_level(ds, threshold_s=10), "2026-10")
    assert (oct10["numerator"], oct10["denominator"]) == (2, 6)
    assert row(r, "2026-12")["value"] == 1.0  # c8 answered after 8 s


def test_service_level_target_from_settings():
    d = Dataset.from_frames({"contacts": CONTACTS}, settings={**SETTINGS, "targets": {"service_level": 0.8}})
    r = service_level(d)
    assert row(r, "2026-10")["target"] == 0.8
    assert not row(r, "2026-10")["target_met"]  # 0.6 < 0.8
    assert row(r, "2026-12")["target_met"]  # 1.0 >= 0.8
    assert pd.isna(row(r, "2026-11")["target_met"])  # no value, no verdict


def test_chat_abandonment(ds):
    r = chat_abandonment(ds)
    # chats initiated in October: c5, c6, c7; completed (answered) c5, c7 -> 1 - 2/3
    oct_ = row(r, "2026-10")
    assert (oct_["numerator"], oct_["denominator"]) == (1, 3)
    assert oct_["value"] == pytest.approx(1 / 3)
    # December has a phone call only: no chat -> no data
    assert row(r, "2026-12")["n"] == 0 and np.isnan(row(r, "2026-12")["value"])
    phone_only = Dataset.from_frames({"contacts": CONTACTS[CONTACTS["channel"] == "phone"]}, settings=SETTINGS)
    with pytest.raises(KPIUnavailable, match="no chat contacts"):
        chat_abandonment(phone_only)


# ----------------------------------------------------------------------------------------------
# handling time and repeats
# ----------------------------------------------------------------------------------------------
def test_aht_and_acw(ds):
    a = row(aht(ds), "2026-10")
    # handle = talk + hold + acw: c1 390, c3 240 (empty hold = 0), c5 600, c7 120 -> mean 1350 / 4
    assert a["value"] == pytest.approx(337.5)
    assert a["n"] == 4
    assert a["median"] == pytest.approx((240 + 390) / 2)
    w = row(acw_time(ds), "2026-10")
    # wrap-up: 60, 40, 0, 20 -> mean 30, median 30
    assert w["value"] == pytest.approx(30.0)
    assert w["median"] == pytest.approx(30.0)
    assert row(aht(ds), "2026-12")["value"] == pytest.approx(60.0)


def test_contact_facts(ds):
    f = contact_facts(ds)
    assert f["wait_s"].tolist() == [10.0, 3.0, 30.0, 25.0, 20.0, 12.0, 5.0, 8.0]
    assert f["answered"].tolist() == [True, False, True, False, True, False, True, True]
    assert f["handle_s"].fillna(-1).tolist() == [390.0, -1, 240.0, -1, 600.0, -1, 120.0, 60.0]


def test_repeat_contacts(ds):
    r = repeat_contact_rate_contacts(ds)
    oct_ = row(r, "2026-10")
    # with a customer: c1 K1 (first), c2 K1 10 min after c1 (repeat), c3 K2, c4 K3, c5 K2 25 h
    # after c3 (repeat), c7 K1 26 days after c2 (not) -> 2 / 6; c6 has no customer (left out)
    assert (oct_["numerator"], oct_["denominator"], oct_["unknown_customer"]) == (2, 6, 1)
    # c8 K3: 56 days after c4 -> 0 / 1
    assert row(r, "2026-12")["value"] == 0.0
    # a 30-day window makes c7 a repeat too -> 3 / 6
    assert row(repeat_contact_rate_contacts(ds, window_days=30), "2026-10")["numerator"] == 3


# ----------------------------------------------------------------------------------------------
# occupancy and utilization
# ----------------------------------------------------------------------------------------------
def test_occupancy(ds):
    r = occupancy(ds)
    # October: handle (14400 + 21600 + 12960) / staffed (28800 + 28800 + 14400) = 48960 / 72000
    oct_ = row(r, "2026-10")
    assert oct_["value"] == pytest.approx(0.68)
    assert (oct_["numerator"], oct_["denominator"], oct_["n"]) == (48960, 72000, 3)
    assert np.isnan(row(r, "2026-11")["value"])  # no agent-days
    assert np.isnan(row(r, "2026-12")["value"])  # a2's day has no handle time: left out


def test_utilization_flags_burnout(ds):
    r = utilization(ds, by="agent_id")
    # a1 October: 36000 / 57600 = 0.625 (not flagged); a2: 12960 / 14400 = 0.9 > 0.7 (flagged)
    a1, a2 = row(r, "2026-10", agent_id="a1"), row(r, "2026-10", agent_id="a2")
    assert a1["value"] == pytest.approx(0.625) and not a1["burnout_flag"]
    assert a2["value"] == pytest.approx(0.9) and a2["burnout_flag"]
    assert pd.isna(row(r, "2026-12", agent_id="a2")["burnout_flag"])
    assert r["burnout_flag"].dtype == "boolean"
    assert (a1["agents_over_threshold"], a2["agents_over_threshold"]) == (0, 1)
    # summarised: pooled 48960 / 72000 = 0.68 (not flagged) yet 1 of 2 agents is above 0.7
    pooled = row(utilization(ds), "2026-10")
    assert "agent_id" not in utilization(ds).columns
    assert pooled["value"] == pytest.approx(0.68) and not pooled["burnout_flag"]
    assert (pooled["agents"], pooled["agents_over_threshold"]) == (2, 1)
    # threshold option: 0.95 flags nobody
    assert not utilization(ds, by="agent_id", threshold=0.95)["burnout_flag"].fillna(False).any()
    with pytest.raises(KPIError, match="threshold must be a non-negative share"):
        utilization(ds, threshold="high")


# ----------------------------------------------------------------------------------------------
# staffing
# ----------------------------------------------------------------------------------------------
def test_staffing_by_hour_against_erlang_c(ds):
    s = staffing_by_hour(ds, month="2026-10", channel="phone")
    # phone in October: days Mon Oct 05 .. Tue Oct 06 (2 intervals per hour of day)
    # hour 10 (08:xx UTC + 2 h): c1, c2, c3 on Oct 05 -> 3 calls / 2 days = 1.5 per interval;
    # AHT (390 + 240) / 2 = 315; agents answering: a1, a2 -> 2 in one interval -> mean 1.0
    h10 = s[s["hour"] == 10].iloc[0]
    assert (h10["intervals"], h10["calls"], h10["calls_per_interval"]) == (2, 3, 1.5)
    assert h10["aht_s"] == pytest.approx(315.0)
    assert h10["agents_observed"] == pytest.approx(1.0)
    assert h10["agents_required"] == required_agents(1.5, 3600, 315, 20, service_level=0.8)
    assert h10["traffic"] == pytest.approx(1.5 * 315 / 3600)
    # modelled SL: the one interval with calls (3 calls, 2 agents), Erlang C directly
    assert h10["sl_modelled"] == pytest.approx(erlang_c(3, 3600, 315, 2, 20)["service_level"])
    # observed SL: c1 within 20 s; c3 answered after 30 s; c2 abandoned within T (left out) -> 1/2
    assert h10["sl_observed"] == pytest.approx(0.5)
    assert h10["gap"] == pytest.approx(1.0 - h10["agents_required"])
    # hour 11: c4 alone (abandoned, nobody answered): AHT falls back to the selection's 315,
    # 0 agents observed -> Erlang C unstable -> modelled SL 0; observed 0 / 1
    h11 = s[s["hour"] == 11].iloc[0]
    assert h11["aht_s"] == pytest.approx(315.0)
    assert h11["agents_observed"] == 0.0
    assert h11["sl_modelled"] == 0.0 and h11["sl_observed"] == 0.0
    assert h11["understaffed"]
    # weekday view: Monday 10 h has one interval (Oct 05), 3 calls
    w = staffing_by_hour(ds, month="2026-10", channel="phone", by_weekday=True)
    mon10 = w[(w["weekday"] == "mon") & (w["hour"] == 10)].iloc[0]
    assert (mon10["intervals"], mon10["calls_per_interval"], mon10["agents_observed"]) == (1, 3, 2)
    assert mon10["agents_required"] == required_agents(3, 3600, 315, 20)
    with pytest.raises(KPIError, match="month must be a month"):
        staffing_by_hour(ds, month="October")


def test_staffing_gap_kpi(ds):
    r = row(staffing_gap(ds), "2026-10")
    # hour intervals with contacts in October (all channels), gap = agents answering - required:
    overall_aht = (390 + 240 + 600 + 120 + 60) / 5  # fallback for an interval nobody answered
    gaps = [
        2 - required_agents(3, 3600, 315, 20),  # Oct 05 10 h: c1, c2, c3; a1, a2
        1 - required_agents(2, 3600, 600, 20),  # Oct 06 11 h: c4, c5; a1 (c5: 600 s)
        0 - required_agents(1, 3600, overall_aht, 20),  # Oct 07 12 h: c6 abandoned
        1 - required_agents(1, 3600, 120, 20),  # Oct 31 23 h local: c7; a2
    ]
    assert r["n"] == 4
    assert r["value"] == pytest.approx(np.mean(gaps))
    assert r["understaffed"] == sum(g < 0 for g in gaps)
    with pytest.raises(KPIUnavailable, match="not supported"):
        staffing_gap(ds, by="agent_id")


def test_kpi_table_includes_contact_centre(ds):
    t = kpi_table(ds, kpis=["abandon_rate", "service_level", "occupancy", "cost_per_contact"])
    assert set(t["kpi"]) == {"abandon_rate", "service_level", "occupancy"}
    assert t.attrs["skipped"]["kpi"].tolist() == ["cost_per_contact"]


# ----------------------------------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------------------------------
@st.composite
def contact_frames(draw):
    n = draw(st.integers(1, 25))
    base = pd.Timestamp("2026-09-20T00:00:00Z")
    rows = []
    for i in range(n):
        q = base + pd.Timedelta(minutes=draw(st.integers(0, 60 * 24 * 40)))
        ab = draw(st.booleans())
        wait = pd.Timedelta(seconds=draw(st.integers(0, 120)))
        rows.append({
            "contact_id": f"c{i}", "channel": draw(st.sampled_from(["phone", "chat"])),
            "queued_at": q, "abandoned": ab,
            "customer_id": draw(st.sampled_from(["K1", "K2", "K3", None])),
            "answered_at": None if ab else q + wait, "ended_at": q + wait + pd.Timedelta(seconds=60),
            "talk_s": None if ab else 60.0, "agent_id": None if ab else draw(st.sampled_from(["a1", "a2"])),
        })
    return pd.DataFrame(rows)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contact_frames())
def test_rates_stay_in_unit_interval_and_segments_add_up(frame):
    d = Dataset.from_frames({"contacts": frame}, settings=SETTINGS)
    for f in (abandon_rate, service_level, repeat_contact_rate_contacts):
        try:
            r = f(d)
        except KPIUnavailable:  # e.g. nobody answered: answered_at is empty, so SL is skipped
            continue
        v = r["value"].dropna()
        assert ((v >= 0) & (v <= 1)).all()
        assert (r["ci_low"].dropna() >= 0).all() and (r["ci_high"].dropna() <= 1).all()
        by = f(d, by="channel")
        assert by["numerator"].sum() == r["numerator"].sum()
        assert by["denominator"].sum() == r["denominator"].sum()


# ----------------------------------------------------------------------------------------------
# sample data: an independent plain-Python computation
# ----------------------------------------------------------------------------------------------
def _plain_rates(ds, month: str):
    """Abandon rate (short excluded) and service level for one local month, row by row."""
    tz = zoneinfo.ZoneInfo(ds.settings.timezone)
    short, t_sl = ds.settings["short_abandon_s"], ds.settings["service_level_s"]
    c = ds.contacts
    recs = zip(c["queued_at"].dt.to_pydatetime(), c["abandoned"].tolist(),
               c["answered_at"].dt.to_pydatetime(), c["ended_at"].dt.to_pydatetime(), strict=True)
    ab_num = ab_den = sl_num = sl_den = 0
    for q, abandoned, ans, end in recs:
        if q.astimezone(tz).strftime("%Y-%m") != month:
            continue
        answered = (abandoned is False) and isinstance(ans, dt.datetime)
        wait = None
        if answered:
            wait = (ans - q).total_seconds()
        elif abandoned is True and isinstance(end, dt.datetime):
            wait = (end - q).total_seconds()
        if abandoned is True:
            if wait is not None and wait < short:
                pass  # short abandon: out of the abandon rate
            else:
                ab_num += 1
                ab_den += 1
            if wait is None or wait > t_sl:
                sl_den += 1
        elif answered:
            ab_den += 1
            sl_den += 1
            if wait <= t_sl:
                sl_num += 1
    return ab_num, ab_den, sl_num, sl_den


def test_sample_abandon_rate_and_service_level_agree_with_plain_python(sample_ds):
    if not sample_ds.has("contacts"):
        pytest.skip("sample has no contacts")
    ab, sl = abandon_rate(sample_ds), service_level(sample_ds)
    months = ab.loc[ab["n"] > 0, "period"].astype(str).tolist()
    for month in (months[0], months[len(months) // 2], months[-1]):
        ab_num, ab_den, sl_num, sl_den = _plain_rates(sample_ds, month)
        a, s = row(ab, month), row(sl, month)
        assert (a["numerator"], a["denominator"]) == (ab_num, ab_den), month
        assert (s["numerator"], s["denominator"]) == (sl_num, sl_den), month
