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
from kpitools.kpis._core import BOOTSTRAP_N, BOOTSTRAP_SEED, KPIError, KPIUnavailable
from kpitools.kpis.contact_centre import (
    abandon_rate,
    acw_time,
    aht,
    asa,
    caller_patience,
    chat_abandonment,
    contact_facts,
    occupancy,
    repeat_contact_rate_contacts,
    service_level,
    staffing_by_hour,
    staffing_gap,
    staffing_intervals,
    utilization,
)
from kpitools.stats.staffing import erlang_a, erlang_c, required_agents

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
def _boot_reference(res: pd.DataFrame, period: str, values, seed=BOOTSTRAP_SEED, n_boot=BOOTSTRAP_N):
    """scipy.stats.bootstrap percentile interval with the generator of the result's grid cell:
    cell k of the grid (row k with by=None) resamples with SeedSequence(seed).spawn(cells)[k].

    The value-count bootstrap (kpitools.stats.intervals.bootstrap_mean_counts) resamples a cell
    with few observations per distinct value by indices into its values in sorted order, so
    scipy given the sorted values and the same generator draws the same resamples."""
    k = int(np.flatnonzero(res["period"].astype(str) == period)[0])
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(len(res))[k])
    ci = stats.bootstrap((np.sort(np.asarray(values, float)),), np.mean, method="percentile", n_resamples=n_boot,
                         rng=rng).confidence_interval
    return ci.low, ci.high


def test_asa_mean_median_p90_and_t_interval(ds):
    oct_ = row(asa(ds, method="t"), "2026-10")
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
    assert oct_["method"] == "t"
    assert np.isnan(row(asa(ds), "2026-11")["value"])


def test_asa_default_interval_is_seeded_bootstrap(ds):
    # docs/methods.md#bootstrap: means of fully observed durations get a seeded bootstrap percentile interval
    res = asa(ds)
    oct_ = row(res, "2026-10")
    waits = [10.0, 30.0, 20.0, 5.0]  # c1, c3, c5, c7 (answered)
    assert oct_["value"] == pytest.approx(16.25) and oct_["method"] == "bootstrap"
    lo, hi = _boot_reference(res, "2026-10", waits)  # scipy reference, same resamples
    assert (oct_["ci_low"], oct_["ci_high"]) == pytest.approx((lo, hi), rel=1e-12)
    # a resample mean lies between the smallest and the largest wait
    assert 5.0 <= oct_["ci_low"] < 16.25 < oct_["ci_high"] <= 30.0
    # reproducible with the default seed; another seed or n_boot gives its own reference
    again = row(asa(ds), "2026-10")
    assert (again["ci_low"], again["ci_high"]) == (oct_["ci_low"], oct_["ci_high"])
    other = asa(ds, seed=7, n_boot=500)
    lo7, hi7 = _boot_reference(other, "2026-10", waits, seed=7, n_boot=500)
    assert (row(other, "2026-10")["ci_low"], row(other, "2026-10")["ci_high"]) == pytest.approx((lo7, hi7), rel=1e-12)
    # by channel: cell k of the period x channel grid uses child k; Oct chat waits c5 20, c7 5;
    # Oct phone c1 10, c3 30
    seg = asa(ds, by="channel")
    children = np.random.SeedSequence(BOOTSTRAP_SEED).spawn(len(seg))
    for channel, waits_ch in (("chat", [20.0, 5.0]), ("phone", [10.0, 30.0])):
        k = int(np.flatnonzero((seg["period"].astype(str) == "2026-10") & (seg["channel"] == channel))[0])
        ci = stats.bootstrap((np.sort(waits_ch),), np.mean, method="percentile", n_resamples=BOOTSTRAP_N,
                             rng=np.random.default_rng(children[k])).confidence_interval
        assert (seg.loc[k, "ci_low"], seg.loc[k, "ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-12)
    with pytest.raises(KPIError, match="method"):
        asa(ds, method="bca")
    with pytest.raises(KPIError, match="seed"):
        asa(ds, seed=-1)
    with pytest.raises(KPIError, match="n_boot"):
        asa(ds, n_boot=0)


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
    res = aht(ds)
    assert (a["ci_low"], a["ci_high"]) == pytest.approx(_boot_reference(res, "2026-10", [390, 240, 600, 120]),
                                                        rel=1e-12)
    assert a["method"] == "bootstrap"
    w = row(acw_time(ds), "2026-10")
    # wrap-up: 60, 40, 0, 20 -> mean 30, median 30
    assert w["value"] == pytest.approx(30.0)
    assert w["median"] == pytest.approx(30.0)
    assert (w["ci_low"], w["ci_high"]) == pytest.approx(_boot_reference(acw_time(ds), "2026-10", [60, 40, 0, 20]),
                                                        rel=1e-12)
    # t interval still available: 30 +- t(0.975, 3) sd / 2, sd of 60, 40, 0, 20 = sqrt(2000 / 3)
    wt = row(acw_time(ds, method="t"), "2026-10")
    lo, hi = stats.t.interval(0.95, 3, loc=30.0, scale=np.sqrt(2000 / 3) / 2)
    assert (wt["ci_low"], wt["ci_high"]) == pytest.approx((lo, hi)) and wt["method"] == "t"
    # December: one handled contact (60 s): no interval from one value
    dec = row(aht(ds), "2026-12")
    assert dec["value"] == pytest.approx(60.0)
    assert np.isnan(dec["ci_low"]) and np.isnan(dec["ci_high"])


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


def test_kpi_table_seed_reaches_the_bootstrap_only(sample_ds):
    # kpi_table(seed=) is passed to the KPIs with a bootstrap (asa here): another seed changes the
    # bootstrap bounds of asa and nothing else; the same seed reproduces; the default is the
    # per-KPI function's own default (BOOTSTRAP_SEED)
    kpis = ["asa", "abandon_rate", "service_level"]

    def table(**kw):
        t = kpi_table(sample_ds, period="Q", by="channel", kpis=kpis, **kw)
        t.attrs = {}
        return t

    one, two = table(seed=1), table(seed=2)
    pd.testing.assert_frame_equal(one, table(seed=1))
    pd.testing.assert_frame_equal(two, table(seed=2))
    ci = ["ci_low", "ci_high"]
    pd.testing.assert_frame_equal(one.drop(columns=ci), two.drop(columns=ci))
    boot = ((one["kpi"] == "asa") & (one["method"] == "bootstrap")).to_numpy()
    assert boot.sum() >= 10
    for c in ci:
        assert (one[c] != two[c]).to_numpy()[boot].all()
        np.testing.assert_array_equal(one[c].to_numpy()[~boot], two[c].to_numpy()[~boot])
    # cells above BOOTSTRAP_MAX_N answered contacts take the t interval (same for every seed):
    # scipy reference from the row's n, mean and sd
    big = (one["kpi"] == "asa") & (one["n"] > 5000)
    assert big.any() and (one.loc[big, "method"] == "t (n > 5000)").all()
    for _, r in one[big].iterrows():
        ref = stats.t.interval(0.95, r["n"] - 1, loc=r["mean"], scale=r["sd"] / np.sqrt(r["n"]))
        assert (r["ci_low"], r["ci_high"]) == pytest.approx(ref, rel=1e-12)
    default = table()
    own = asa(sample_ds, period="Q", by="channel")
    np.testing.assert_array_equal(default.loc[default["kpi"] == "asa", "ci_low"].to_numpy(), own["ci_low"].to_numpy())
    with pytest.raises(KPIError, match="seed must be a non-negative integer"):
        kpi_table(sample_ds, kpis=["asa"], seed=-3)


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


# ----------------------------------------------------------------------------------------------
# staffing with a roster (staffing table): Erlang C and Erlang A per roster interval
# ----------------------------------------------------------------------------------------------
def _roster_contacts() -> pd.DataFrame:
    """Phone contacts on Mon 2026-10-05 (CEST, UTC+2) around a small 30-minute roster.

    Interval A, 08:00-08:30 UTC (10:00 local), 14 agents: the docs/methods.md#erlang-c Erlang C example,
    100 calls with handle 180 s (98 answered: 88 after 0 s, 10 after 100 s; 2 abandoned after
    120 s and 80 s). Interval B, 08:30-09:00 UTC, 13 agents, no call. Interval C, 11:00-11:30 UTC
    (13:00 local), 1 agent: answered after 30 s and 50 s (talk 300 s each), abandoned after 520 s.
    A phone call at 14:00 UTC is in no roster interval; a chat at 08:05 UTC is on the chat roster.
    """
    t0 = pd.Timestamp("2026-10-05T08:00:00Z")
    rows = []

    def add(cid, ch, q, abandoned, wait, talk):
        ans = None if abandoned else q + pd.Timedelta(seconds=wait)
        end = q + pd.Timedelta(seconds=wait + (0 if abandoned else talk))
        rows.append((cid, ch, q, abandoned, ans, end, None if abandoned else float(talk), 0.0, 0.0,
                     None if abandoned else "a1"))

    for i in range(100):
        q = t0 + pd.Timedelta(seconds=18 * i)
        if i < 88:
            add(f"p{i}", "phone", q, False, 0, 180)
        elif i < 98:
            add(f"p{i}", "phone", q, False, 100, 180)
        else:
            add(f"p{i}", "phone", q, True, 120 if i == 98 else 80, 0)
    t1 = pd.Timestamp("2026-10-05T11:00:00Z")
    add("q1", "phone", t1, False, 30, 300)
    add("q2", "phone", t1 + pd.Timedelta(minutes=5), False, 50, 300)
    add("q3", "phone", t1 + pd.Timedelta(minutes=10), True, 520, 0)
    add("out", "phone", pd.Timestamp("2026-10-05T14:00:00Z"), False, 0, 60)
    add("ch1", "chat", t0 + pd.Timedelta(minutes=5), False, 10, 400)
    return pd.DataFrame(rows, columns=["contact_id", "channel", "queued_at", "abandoned", "answered_at",
                                       "ended_at", "talk_s", "hold_s", "acw_s", "agent_id"])


ROSTER = pd.DataFrame(
    [
        ("2026-10-05T08:00:00Z", "phone", 14.0, 14.0),
        ("2026-10-05T08:30:00Z", "phone", 13.0, 13.0),
        ("2026-10-05T11:00:00Z", "phone", 1.0, 2.0),
        ("2026-10-05T08:00:00Z", "chat", 2.0, 2.0),
    ],
    columns=["interval_start", "channel", "staffed_agents", "required_agents"],
)


@pytest.fixture(scope="module")
def roster_ds():
    return Dataset.from_frames({"contacts": _roster_contacts(), "staffing": ROSTER}, settings=SETTINGS)


def test_caller_patience_mle_by_hand(ds, roster_ds):
    # fixture ds, phone in October: answered c1 (10 s), c3 (30 s); abandoned c2 (3 s), c4 (25 s)
    # -> total time in queue 10 + 30 + 3 + 25 = 68 s over 2 abandons = 34 s
    p = caller_patience(ds, month="2026-10", channel="phone").iloc[0]
    assert (p["contacts"], p["abandons"], p["exposure_s"]) == (4, 2, 68.0)
    assert p["patience_s"] == pytest.approx(34.0)
    # log-scale Wald interval by hand: 34 exp(-/+ 1.959964 / sqrt(2))
    assert (p["ci_low"], p["ci_high"]) == pytest.approx((34 * np.exp(-1.959964 / np.sqrt(2)),
                                                         34 * np.exp(1.959964 / np.sqrt(2))))
    # roster fixture, phone: waits 10 x 100 + 120 + 80 + 30 + 50 + 520 (+ 88 x 0 + 0) = 1800 s,
    # 3 abandons -> 600 s (the docs/methods.md#erlang-a Erlang A example's 10 minutes)
    r = caller_patience(roster_ds, channel="phone").iloc[0]
    assert (r["contacts"], r["abandons"], r["exposure_s"], r["patience_s"]) == (104, 3, 1800.0, 600.0)
    # chat of ds in October: c5 answered 20 s, c6 abandoned 12 s, c7 answered 5 s -> 37 / 1
    assert caller_patience(ds, month="2026-10", channel="chat")["patience_s"].iloc[0] == pytest.approx(37.0)
    # no abandon: patience unbounded, no interval
    none = caller_patience(ds, month="2026-12", channel="phone").iloc[0]
    assert none["abandons"] == 0 and np.isinf(none["patience_s"]) and np.isnan(none["ci_low"])
    with pytest.raises(KPIError, match="confidence must be"):
        caller_patience(ds, confidence=95)


def test_staffing_intervals_roster_against_erlang_c_and_a(roster_ds):
    iv = staffing_intervals(roster_ds, month="2026-10", channel="phone")
    assert iv["interval_start"].astype(str).tolist() == [
        "2026-10-05 08:00:00+00:00", "2026-10-05 08:30:00+00:00", "2026-10-05 11:00:00+00:00"]
    assert (iv["agents_source"] == "roster").all() and (iv["interval_s"] == 1800).all()
    assert iv["hour"].tolist() == [10, 10, 13]  # local CEST
    assert iv.attrs["calls_outside_roster"] == 1  # the 14:00 UTC call
    assert (iv["patience_s"] == 600.0).all()
    a, b, c = (iv.iloc[i] for i in range(3))
    # A: 100 calls, AHT 180 s, A = 10 Erlangs, N = 14 -> docs/methods.md#erlang-c: SL 0.8884, and N = 13
    # gives 0.7956 < 0.8, so 14 are required (gap 0)
    assert (a["calls"], a["answered"], a["abandoned"], a["aht_s"]) == (100, 98, 2, 180.0)
    assert a["traffic"] == pytest.approx(10.0)
    assert a["agents_required"] == 14 == required_agents(100, 1800, 180, 20)
    assert a["sl_modelled"] == pytest.approx(0.8884, abs=5e-5)
    assert a["gap"] == 0 and not a["understaffed"]
    # Erlang A with 10 min patience at N = 14: docs/methods.md#erlang-a P(abandon) 0.0088
    ea = erlang_a(100, 1800, 180, 14, 20, 600)
    assert a["abandon_modelled"] == pytest.approx(0.0088, abs=5e-5)
    assert a["sl_modelled_a"] == pytest.approx(ea["service_level"])
    # observed: 88 within 20 s / (98 answered + 2 abandoned after 20 s) = 0.88; abandons 2 / 100
    assert (a["sl_observed"], a["abandon_observed"]) == (pytest.approx(0.88), pytest.approx(0.02))
    # B: no call -> nothing required, nothing modelled, the 13 staffed agents are all spare
    assert (b["calls"], b["agents_observed"], b["agents_required"], b["gap"]) == (0, 13, 0, 13)
    assert np.isnan(b["sl_modelled"]) and np.isnan(b["sl_modelled_a"]) and np.isnan(b["sl_observed"])
    # C: 3 calls x 300 s / 1800 s = 0.5 Erlang. By hand, N = 1: P_wait = A = 0.5,
    # SL = 1 - 0.5 exp(-0.5 x 20 / 300) = 0.516 < 0.8; N = 2: B = 0.125 / 1.625 = 0.0769,
    # P_wait = 0.1, SL = 1 - 0.1 exp(-1.5 x 20 / 300) = 0.9095 -> 2 required; 1 staffed: short
    assert c["traffic"] == pytest.approx(0.5)
    assert c["agents_required"] == 2 and c["roster_required"] == 2 and c["understaffed"]
    assert c["sl_modelled"] == pytest.approx(erlang_c(3, 1800, 300, 1, 20)["service_level"])
    assert c["sl_modelled"] == pytest.approx(1 - 0.5 * np.exp(-0.5 * 20 / 300))
    ec = erlang_a(3, 1800, 300, 1, 20, 600)
    assert (c["sl_modelled_a"], c["abandon_modelled"]) == pytest.approx((ec["service_level"], ec["p_abandon"]))
    # observed: nobody within 20 s; 2 answered + 1 abandoned after 20 s -> 0; abandons 1 / 3
    assert (c["sl_observed"], c["abandon_observed"]) == (0.0, pytest.approx(1 / 3))
    # interval length given explicitly: same table; the chat roster has its own intervals
    pd.testing.assert_frame_equal(staffing_intervals(roster_ds, month="2026-10", channel="phone",
                                                     interval_s=1800), iv)
    ch = staffing_intervals(roster_ds, month="2026-10", channel="chat")
    assert (ch["calls"].tolist(), ch["agents_observed"].tolist()) == ([1.0], [2.0])


def test_staffing_by_hour_roster(roster_ds):
    s = staffing_by_hour(roster_ds, month="2026-10", channel="phone")
    assert s["hour"].tolist() == [10, 13]
    h10, h13 = s.iloc[0], s.iloc[1]
    assert (h10["agents_source"], h10["interval_s"]) == ("roster", 1800.0)
    # hour 10 = intervals A and B: 100 calls over 2 half-hours -> 50 per interval, 100 per hour;
    # staffed (14 + 13) / 2; the plan's required (14 + 13) / 2
    assert (h10["intervals"], h10["calls"], h10["calls_per_interval"], h10["calls_per_hour"]) == (2, 100, 50, 100)
    assert (h10["agents_observed"], h10["roster_required"]) == (13.5, 13.5)
    assert h10["traffic"] == pytest.approx(50 * 180 / 1800)
    assert h10["agents_required"] == required_agents(50, 1800, 180, 20)
    assert h10["gap"] == pytest.approx(13.5 - h10["agents_required"])
    # modelled: only A has calls -> its Erlang C (docs/methods.md#erlang-c 0.8884) and Erlang A values
    assert h10["sl_modelled"] == pytest.approx(0.8884, abs=5e-5)
    assert h10["sl_modelled_a"] == pytest.approx(erlang_a(100, 1800, 180, 14, 20, 600)["service_level"])
    assert h10["abandon_modelled"] == pytest.approx(0.0088, abs=5e-5)
    assert (h10["sl_observed"], h10["abandon_observed"], h10["understaffed_intervals"]) == (0.88, 0.02, 0)
    assert h10["patience_s"] == 600.0
    # hour 13 = interval C alone: short of agents
    assert (h13["intervals"], h13["agents_observed"], h13["understaffed_intervals"]) == (1, 1, 1)
    assert h13["understaffed"] and h13["sl_observed"] == 0.0
    assert s.attrs["calls_outside_roster"] == 1
    # the proxy on the same data (a1 answers everything): one agent per hour with answers
    p = staffing_by_hour(roster_ds, month="2026-10", channel="phone", source="answering agents")
    assert (p["agents_source"] == "answering agents").all() and (p["interval_s"] == 3600).all()
    assert p.loc[p["hour"] == 10, "agents_observed"].iloc[0] == 1.0


def test_staffing_fallback_without_roster(ds):
    s = staffing_by_hour(ds, month="2026-10", channel="phone")
    assert (s["agents_source"] == "answering agents").all() and (s["interval_s"] == 3600).all()
    assert (s["calls_per_hour"] == s["calls_per_interval"]).all()
    assert s["roster_required"].isna().all()
    # patience for phone in October: 68 s / 2 abandons = 34 s (see the MLE test)
    assert (s["patience_s"] == 34.0).all()
    h10 = s[s["hour"] == 10].iloc[0]
    # hour 10: one interval with 3 calls, AHT 315 s, 2 agents answering -> Erlang A directly
    ea = erlang_a(3, 3600, 315, 2, 20, 34)
    assert (h10["sl_modelled_a"], h10["abandon_modelled"]) == pytest.approx((ea["service_level"], ea["p_abandon"]))
    assert h10["abandon_observed"] == pytest.approx(1 / 3)  # c2 of c1, c2, c3 (short abandons count)
    # hour 11: c4 abandoned and nobody answered: no agent -> everyone abandons in Erlang A
    h11 = s[s["hour"] == 11].iloc[0]
    assert (h11["sl_modelled_a"], h11["abandon_modelled"], h11["abandon_observed"]) == (0.0, 1.0, 1.0)
    iv = staffing_intervals(ds, month="2026-10", channel="phone")
    assert iv["interval_start"].astype(str).tolist() == ["2026-10-05 08:00:00+00:00", "2026-10-06 09:00:00+00:00"]
    assert iv.attrs["calls_outside_roster"] == 0
    g = staffing_gap(ds)
    assert (g["agents_source"] == "answering agents").all() and (g["interval_s"] == 3600).all()
    with pytest.raises(KPIUnavailable, match="staffing table"):
        staffing_by_hour(ds, source="roster")
    # a roster without rows for the channel: "auto" falls back for that channel only
    chat_roster = ROSTER[ROSTER["channel"] == "chat"]
    d = Dataset.from_frames({"contacts": CONTACTS, "staffing": chat_roster}, settings=SETTINGS)
    assert staffing_by_hour(d, month="2026-10", channel="phone", interval_s=1800)["agents_source"].eq(
        "answering agents").all()
    chat = staffing_by_hour(d, month="2026-10", channel="chat", interval_s=1800)
    # one roster interval (Oct 05 10:00 local, 2 agents, no chat); c5, c6, c7 fall outside it
    assert chat[["hour", "calls", "agents_observed", "agents_source"]].values.tolist() == [[10, 0, 2.0, "roster"]]
    assert chat.attrs["calls_outside_roster"] == 3
    with pytest.raises(KPIUnavailable, match="for channel 'phone'"):
        staffing_by_hour(d, channel="phone", source="roster")
    with pytest.raises(KPIError, match="source must be one of"):
        staffing_by_hour(ds, source="rota")
    with pytest.raises(KPIError, match="interval_s must be a positive"):
        staffing_intervals(ds, interval_s=0)
    with pytest.raises(KPIError, match="patience_s must be"):
        staffing_by_hour(ds, patience_s=-1)


def test_staffing_gap_roster(roster_ds):
    g = staffing_gap(roster_ds, by="channel")
    assert (g["agents_source"] == "roster").all() and (g["interval_s"] == 1800).all()
    phone = row(g, "2026-10", channel="phone")
    # roster intervals with phone calls: A (14 - 14 = 0) and C (1 - 2 = -1); the 14:00 call is in
    # no roster interval and B has no call -> mean -0.5 over 2 intervals, 1 short
    assert (phone["n"], phone["value"], phone["understaffed"]) == (2, -0.5, 1)
    chat = row(g, "2026-10", channel="chat")
    assert chat["value"] == 2 - required_agents(1, 1800, 400, 20)
    # all channels: staffed agents summed per interval start (08:00: 14 + 2, 11:00: 1);
    # 08:00 carries 100 phone calls + 1 chat, AHT (98 x 180 + 400) / 99
    pooled = row(staffing_gap(roster_ds), "2026-10")
    gaps = [16 - required_agents(101, 1800, (98 * 180 + 400) / 99, 20), 1 - required_agents(3, 1800, 300, 20)]
    assert (pooled["n"], pooled["value"]) == (2, pytest.approx(np.mean(gaps)))
    assert "agents: roster (1800 s intervals)" in pooled["note"]


def test_sample_roster_understaffed_intervals_serve_worse(sample_ds):
    if not (sample_ds.has("contacts") and sample_ds.has("staffing")):
        pytest.skip("sample has no contacts or staffing")
    iv = staffing_intervals(sample_ds, month="2026-10", channel="phone")
    assert (iv["agents_source"] == "roster").all() and (iv["interval_s"] == 1800).all()
    # every October phone contact is in one interval or counted outside (independent count)
    tz = sample_ds.settings.timezone
    c = sample_ds.contacts
    n_oct = ((c["channel"] == "phone") & (c["queued_at"].dt.tz_convert(tz).dt.strftime("%Y-%m") == "2026-10")).sum()
    assert iv["calls"].sum() + iv.attrs["calls_outside_roster"] == n_oct
    busy = iv[iv["calls"] > 0]
    assert busy["sl_modelled"].notna().all() and busy["sl_modelled_a"].notna().all()

    def pooled(d):
        return d["sl_num"].sum() / d["sl_den"].sum(), d["abandoned"].sum() / (d["answered"] + d["abandoned"]).sum()

    # the generator plants short-staffed half-days (staffed below its plan): there observed
    # service level is lower and abandonment higher than in well-staffed intervals, both against
    # the plan's required agents and against Erlang C's per interval
    for short in (busy["agents_observed"] < busy["roster_required"], busy["understaffed"]):
        assert 0 < short.sum() < len(busy)
        sl_short, ab_short = pooled(busy[short])
        sl_ok, ab_ok = pooled(busy[~short])
        assert sl_short < sl_ok - 0.05
        assert ab_short > ab_ok
    # the modelled service level follows: lower in the short intervals (Erlang C and A)
    short = busy["understaffed"]
    assert busy.loc[short, "sl_modelled_a"].mean() < busy.loc[~short, "sl_modelled_a"].mean()
    # planted mean patience of phone callers (kpitools.synth._AHT_PARAMS: 260 s) inside the interval
    p = caller_patience(sample_ds, channel="phone").iloc[0]
    from kpitools.synth import _AHT_PARAMS

    assert p["ci_low"] < _AHT_PARAMS["phone"][3] < p["ci_high"]
    s = staffing_by_hour(sample_ds, month="2026-10", channel="phone")
    assert (s["agents_source"] == "roster").all() and s["sl_modelled_a"].between(0, 1).all()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contact_frames(), st.lists(st.integers(0, 4), min_size=2, max_size=2), st.integers(0, 60))
def test_roster_placement_counts_add_up(frame, agents, first_slot):
    # a roster of 30-minute phone intervals on 40 days from 2026-09-20 (two agents values alternating,
    # starting first_slot half-hours into each day, 16 slots a day): every phone contact is either in
    # exactly one interval or counted outside, and the modelled and observed shares stay in [0, 1]
    base = pd.Timestamp("2026-09-20T00:00:00Z")
    starts = [base + pd.Timedelta(days=d, minutes=30 * (first_slot % 32 + k)) for d in range(41) for k in range(16)]
    roster = pd.DataFrame({"interval_start": starts, "channel": "phone",
                           "staffed_agents": [float(agents[i % 2]) for i in range(len(starts))]})
    d = Dataset.from_frames({"contacts": frame, "staffing": roster}, settings=SETTINGS)
    iv = staffing_intervals(d, month=None, channel="phone", patience_s=120)
    phone = frame[frame["channel"] == "phone"]
    assert iv["calls"].sum() + iv.attrs["calls_outside_roster"] == len(phone)
    q = pd.to_datetime(phone["queued_at"], utc=True)
    slot = (q - base) // pd.Timedelta(minutes=30)  # half-hour index since base (plain arithmetic)
    inside = (((slot % 48) >= first_slot % 32) & ((slot % 48) < first_slot % 32 + 16)).sum()
    assert iv["calls"].sum() == inside
    for c in ("sl_observed", "sl_modelled", "sl_modelled_a", "abandon_observed", "abandon_modelled"):
        v = iv[c].dropna()
        assert ((v >= 0) & (v <= 1 + 1e-12)).all(), c


def test_fcr_contacts_by_hand():
    # docs/methods.md#quality-and-outcome FCR "resolved ... in one call/chat AND no repeat contact by the same customer
    # within 7 days" / all issues received. resolved dispositions: c1, c3, c7, c8 yes; c5 no.
    # c1 (K1) is followed by c2 10 min later, c3 (K2) by c5 25 h later: not first-contact
    # resolutions. c7 (K1, next contact none) and c8 (K3, none) are.
    # October: 1 (c7) / 6 received with a customer (c1-c7, abandons included; c6 has no
    # customer_id, so it cannot be checked for repeats and is left out, shown in
    # unknown_customer); December: 1 / 1.
    c = CONTACTS.assign(resolved=[True, None, True, None, False, None, True, True])
    d = Dataset.from_frames({"contacts": c}, settings=SETTINGS)
    from statsmodels.stats.proportion import proportion_confint

    from kpitools.kpis.contact_centre import fcr_contacts

    r = fcr_contacts(d)
    oct_, dec = row(r, "2026-10"), row(r, "2026-12")
    assert (oct_["numerator"], oct_["denominator"]) == (1, 6) and (dec["numerator"], dec["denominator"]) == (1, 1)
    assert oct_["unknown_customer"] == 1 and "1 contact(s) without customer_id left out" in oct_["note"]
    assert dec["unknown_customer"] == 0
    assert np.isnan(row(r, "2026-11")["value"])                      # no contact in November
    # Wilson 95% for 1/6, reference: statsmodels proportion_confint(1, 6, method="wilson")
    assert (oct_["ci_low"], oct_["ci_high"]) == pytest.approx(proportion_confint(1, 6, method="wilson"), abs=1e-12)
    # the cut-off is the last timestamp (c8 ended Dec 1 09:01:08): c8's 7-day window is still open
    assert dec["window_open"] == 1 and "1 contact(s) with the repeat window still open" in dec["note"]
    assert oct_["window_open"] == 0 and "denominator: received; window 7 d" in oct_["note"]
    # variant over resolved contacts: October c1, c3, c7 -> 1 / 3
    v = row(fcr_contacts(d, denominator="resolved"), "2026-10")
    assert (v["numerator"], v["denominator"]) == (1, 3)
    # with a 0-day window a later contact is never within it: c1, c3, c7 -> 3 / 6
    w0 = row(fcr_contacts(d, window_days=0), "2026-10")
    assert (w0["numerator"], w0["denominator"]) == (3, 6)
    with pytest.raises(KPIError, match="denominator must be 'received' or 'resolved', got 'all'"):
        fcr_contacts(d, denominator="all")
    # without the disposition column the KPI is skipped, not guessed
    assert "fcr_contacts" in set(kpi_table(Dataset.from_frames({"contacts": CONTACTS}, settings=SETTINGS))
                                 .attrs["skipped"]["kpi"])


# ----------------------------------------------------------------------------------------------
# FCR and repeat contacts across channels (tests/kpi_fixtures.py, cross-channel extension)
# ----------------------------------------------------------------------------------------------
def test_fcr_contacts_across_channels_and_unknown_customers():
    from kpi_fixtures import cross_channel_dataset

    from kpitools.kpis.contact_centre import fcr_contacts

    d = cross_channel_dataset()
    # hand-worked (window 7 d), all four contacts answered and resolved, all in October:
    # K4 (C2) is followed by ticket T2 2 d later, K1 (C1) by ticket T5 5 d 23 h later: not
    # first-contact resolutions. K2 (C6) is linked to T8, the ticket written for the call: not a
    # repeat, so K2 is one. K3 has no customer_id: left out -> 1 / 3, unknown_customer 1.
    r = row(fcr_contacts(d), "2026-10")
    assert (r["numerator"], r["denominator"], r["unknown_customer"]) == (1, 3, 1)
    assert "1 contact(s) without customer_id left out" in r["note"]
    assert "repeats: calls, chats and tickets" in r["note"]
    # option off: only calls and chats repeat calls and chats; C1, C2, C6 call once -> 3 / 3
    off = row(fcr_contacts(d, across_channels=False), "2026-10")
    assert (off["numerator"], off["denominator"], off["unknown_customer"]) == (3, 3, 1)
    assert "repeats: calls and chats only" in off["note"]


def test_repeat_contacts_after_a_ticket():
    from kpi_fixtures import cross_channel_dataset

    d = cross_channel_dataset()
    # call K1 (C1) comes 26 h after ticket T1: a repeat contact. K4 (C2) has nothing before it;
    # K2's only earlier-or-equal neighbour is its own ticket T8; K3 has no customer (left out)
    # -> 1 / 3. Option off: no contact follows a contact of the same customer -> 0 / 3.
    r = row(repeat_contact_rate_contacts(d), "2026-10")
    assert (r["numerator"], r["denominator"], r["unknown_customer"]) == (1, 3, 1)
    off = row(repeat_contact_rate_contacts(d, across_channels=False), "2026-10")
    assert (off["numerator"], off["denominator"]) == (0, 3)
    with pytest.raises(KPIError, match="across_channels must be True, False or None"):
        repeat_contact_rate_contacts(d, across_channels=1)
