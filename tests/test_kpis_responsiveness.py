"""Responsiveness KPIs against the hand-made fixture (tests/kpi_fixtures.py) and data/sample.

Kaplan-Meier medians below follow the usual convention (lifelines, docs/methods.md#censored-durations): the smallest
time t with S(t) <= 0.5. Working is written as the sorted durations, "+" marking censored ones.
"""

import math
import zoneinfo

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from kpi_fixtures import helpdesk_dataset

import kpitools.kpis as K
from kpitools.kpis._core import BOOTSTRAP_N, BOOTSTRAP_SEED
from kpitools.kpis.responsiveness import reply_waits, status_intervals, ticket_facts


@pytest.fixture(scope="module")
def ds():
    return helpdesk_dataset()


def _col(r, col):
    return dict(zip(r["period"].astype(str), r[col], strict=True))


def test_ticket_facts_from_events(ds):
    f = ticket_facts(ds).set_index("ticket_id")
    # T1: the bot message (08:01) and the internal note (08:30) are not a response; 09:00 is.
    assert f.loc["T1", "frt_end"] == pd.Timestamp("2026-10-26T09:00:00Z")
    # T3 was opened by an agent (09:00): the clock starts at the customer's message 12:00
    assert bool(f.loc["T3", "agent_opened"]) and f.loc["T3", "frt_start"] == pd.Timestamp("2026-10-28T12:00:00Z")
    assert f.loc["T3", "frt_end"] == pd.Timestamp("2026-10-28T13:30:00Z")
    # T4 only got a bot message: unanswered
    assert pd.isna(f.loc["T4", "frt_end"])
    # replies = agent_reply events: T2 has 3; touches add internal notes and agent status changes
    # (T2: note + 3 replies + 2 solves by a2; the reopening by the customer C2 is no touch)
    assert f.loc["T2", "replies"] == 3 and f.loc["T2", "touches"] == 6
    assert f.loc["T2", "reopens"] == 1


def test_first_response_time_calendar(ds):
    # October: T8 1200, T1 3600, T3 5400 (agent-opened: 12:00 -> 13:30), T2 6000,
    # T4 221400+ (Oct 31 22:30 -> cut-off Nov 3 12:00, unanswered: bot messages do not count).
    # S = 4/5, 3/5, 2/5 at 5400 -> median 5400; mean of observed (1200+3600+5400+6000)/4 = 4050.
    # November: T5 1800, T7 3600+ (11:00 -> 12:00), T6 120600 -> S = 2/3, 0 -> median 120600.
    r = K.first_response_time(ds, clock="calendar")
    assert _col(r, "value") == {"2026-10": 5400, "2026-11": 120600}
    assert _col(r, "n") == {"2026-10": 5, "2026-11": 3}
    assert _col(r, "censored") == {"2026-10": 1, "2026-11": 1}
    assert _col(r, "mean_observed") == {"2026-10": 4050, "2026-11": 61200}
    # p90 is not reached in October (the last duration is censored, S stays at 1/5)
    assert math.isnan(r["p90"].iloc[0])
    assert (r["unit"] == "seconds").all() and (r["clock"] == "calendar").all() and (r["basis"] == "created").all()


def test_first_response_time_business(ds):
    # Business hours Mon-Fri 09:00-17:00 Berlin (UTC+1 here).
    # October: T8 Thu 11:00-11:20 local 1200; T1 Mon 09:00-10:00 3600; T2 Tue 16:00-17:40 ->
    # 3600 (closed after 17:00); T3 Wed 13:00-14:30 5400; T4 Sat 23:30 -> Tue 13:00: Mon 8 h +
    # Tue 4 h = 43200+. Sorted 1200, 3600, 3600, 5400, 43200+: S = 4/5, 2/5 at 3600 -> 3600.
    # November: T5 Mon 10:00-10:30 1800; T6 Sun 00:30 -> Mon 10:00 = 3600 (Sunday closed);
    # T7 Tue 12:00 -> 13:00 = 3600+. S = 2/3, 1/3 at 3600 -> 3600.
    r = K.first_response_time(ds)
    assert (r["clock"] == "business").all()
    assert _col(r, "value") == {"2026-10": 3600, "2026-11": 3600}
    assert _col(r, "mean_observed") == {"2026-10": (1200 + 3600 + 3600 + 5400) / 4, "2026-11": 2700}


def test_first_response_time_event_basis(ds):
    # Responses given in October: T8 1200, T1 3600, T3 5400, T2 6000 (no censoring on this
    # basis): S = 3/4, 1/2 at 3600 -> 3600. November: T5 1800, T6 120600 -> 1800.
    r = K.first_response_time(ds, clock="calendar", basis="event")
    assert _col(r, "value") == {"2026-10": 3600, "2026-11": 1800}
    assert (r["censored"] == 0).all() and r["note"].str.contains("event basis").all()


def test_first_response_by_channel_keeps_empty_segments(ds):
    r = K.first_response_time(ds, by="channel", clock="calendar")
    web_nov = r[(r["period"].astype(str) == "2026-11") & (r["channel"] == "web")].iloc[0]
    assert web_nov["n"] == 0 and math.isnan(web_nov["value"]) and web_nov["note"] == "no data"
    # web in October: only T4, censored -> median not reached, note says so
    web_oct = r[(r["period"].astype(str) == "2026-10") & (r["channel"] == "web")].iloc[0]
    assert web_oct["n"] == 1 and web_oct["censored"] == 1 and web_oct["note"] == "all censored"


def test_agent_opened_ticket_without_customer_message_is_excluded():
    from kpi_fixtures import helpdesk_frames

    ev = helpdesk_frames()["ticket_events"]
    ev = ev[~((ev["ticket_id"] == "T3") & (ev["kind"] == "customer_message"))]
    d = helpdesk_dataset(ticket_events=ev)
    r = K.first_response_time(d, clock="calendar")
    # October now: T8 1200, T1 3600, T2 6000, T4 221400+ -> S = 3/4, 1/2 at 3600 -> 3600
    assert r["n"].iloc[0] == 4 and r["value"].iloc[0] == 3600
    assert "1 agent-opened ticket(s) without a customer message excluded" in r["note"].iloc[0]


def test_reply_waits_and_reply_time(ds):
    w = reply_waits(ds)
    t2 = w[w["ticket_id"] == "T2"]
    # T2: three waits (15:00 -> 16:40, Oct 28 08:00 -> 10:00, Oct 29 09:00 -> 14:00)
    assert (t2["end"] - t2["start"]).dt.total_seconds().tolist() == [6000, 7200, 18000]
    assert t2["first"].tolist() == [True, False, False]
    # T3's wait starts at the customer's message, after the agent's opening message
    assert w.loc[w["ticket_id"] == "T3", "start"].tolist() == [pd.Timestamp("2026-10-28T12:00:00Z")]
    # October waits: 1200, 3600, 5400, 6000, 7200, 18000, 221400+ -> S = 6/7 .. 3/7 at 6000
    r = K.reply_time(ds, clock="calendar")
    assert _col(r, "value") == {"2026-10": 6000, "2026-11": 120600}
    assert _col(r, "n") == {"2026-10": 7, "2026-11": 3}


def test_resolution_times(ds):
    # First resolution, October: T8 1800, T1 7200, T2 68700 (Oct 27 15:00 -> Oct 28 10:05),
    # T4 221400+, T3 529200+ (Oct 28 09:00 -> cut-off): S = 4/5, 3/5, 2/5 at 68700.
    f = K.first_resolution_time(ds)
    assert _col(f, "value")["2026-10"] == 68700 and f["clock"].iloc[0] == "calendar"
    # Full resolution: T2's final resolution Oct 29 14:05 -> 169500 s: median 169500
    g = K.full_resolution_time(ds)
    assert _col(g, "value")["2026-10"] == 169500
    # November: T5 2400, T7 3600+, T6 120900 (Oct 31 23:30 -> Nov 2 09:05) -> 120900 for both
    assert _col(f, "value")["2026-11"] == 120900 and _col(g, "value")["2026-11"] == 120900
    assert _col(g, "censored") == {"2026-10": 2, "2026-11": 1}


def test_status_times(ds):
    iv = status_intervals(ds)
    t3 = iv[iv["ticket_id"] == "T3"]
    assert t3["status"].tolist() == ["new", "open", "on_hold", "open"]
    # requester wait (new, open, on_hold) up to the final resolution:
    # T1 7200; T2 68700 + 18300 (open again 09:00 -> 14:05) = 87000; T8 1800;
    # T3 90000 + 86400 + 352800 = 529200+; T4 221400+ -> S = 4/5, 3/5, 2/5 at 87000
    r = K.requester_wait_time(ds)
    assert _col(r, "value")["2026-10"] == 87000
    assert _col(r, "censored")["2026-10"] == 2
    # on hold: only T3 (Oct 29 10:00 -> Oct 30 10:00 = 86400, unresolved -> censored)
    # October 0, 0, 0 (T1, T2, T8 observed), 0+ (T4), 86400+ (T3): S = 2/5 at 0 -> median 0
    h = K.on_hold_time(ds)
    assert _col(h, "value")["2026-10"] == 0 and _col(h, "censored")["2026-10"] == 2


def test_replies_and_touches(ds):
    # Resolved October tickets T1 (1 reply), T2 (3), T8 (1): median 1, mean 5/3
    r = K.replies_per_resolution(ds)
    assert _col(r, "value") == {"2026-10": 1, "2026-11": 1}
    assert _col(r, "mean")["2026-10"] == pytest.approx(5 / 3)
    # Touches October: T4 0, T8 2, T1 3, T3 5 (2 replies + 3 status changes), T2 6 -> median 3,
    # mean 16/5; November: T7 0, T5 2, T6 2 -> median 2, mean 4/3
    a = K.agent_touches(ds)
    assert _col(a, "value") == {"2026-10": 3, "2026-11": 2}
    assert _col(a, "mean") == pytest.approx({"2026-10": 3.2, "2026-11": 4 / 3})


def test_ticket_handle_time(ds):
    # October handle_s: 600 (T1), 1800 (T2), 300 (T8) -> mean 900, sd sqrt(630000), median 600
    r = K.ticket_handle_time(ds, method="t")
    assert _col(r, "value") == {"2026-10": 900, "2026-11": 600}
    assert _col(r, "median")["2026-10"] == 600
    sd = math.sqrt(630000)
    lo, hi = scipy.stats.t.interval(0.95, 2, loc=900, scale=sd / math.sqrt(3))  # reference
    assert (r["ci_low"].iloc[0], r["ci_high"].iloc[0]) == pytest.approx((lo, hi))
    assert r["method"].iloc[0] == "t"


def test_ticket_handle_time_default_bootstrap(ds):
    # default: seeded percentile bootstrap of the mean. Reference: scipy.stats.bootstrap with the
    # generator of grid cell 0 (October): SeedSequence(BOOTSTRAP_SEED).spawn(cells)[0], on the
    # values sorted (the value-count bootstrap resamples indices into the sorted values of a cell
    # with few observations per distinct value)
    r = K.ticket_handle_time(ds)
    assert (r["method"] == "bootstrap").all() and r["value"].iloc[0] == 900
    rng = np.random.default_rng(np.random.SeedSequence(BOOTSTRAP_SEED).spawn(len(r))[0])
    ref = scipy.stats.bootstrap((np.array([300.0, 600.0, 1800.0]),), np.mean, method="percentile",
                                n_resamples=BOOTSTRAP_N, rng=rng).confidence_interval
    assert (r["ci_low"].iloc[0], r["ci_high"].iloc[0]) == pytest.approx((ref.low, ref.high), rel=1e-12)
    # resample means of 3 values lie between 300 and 1800
    assert 300 <= r["ci_low"].iloc[0] < 900 < r["ci_high"].iloc[0] <= 1800
    with pytest.raises(K.KPIError, match="method"):
        K.ticket_handle_time(ds, method="wilson")


def test_first_response_time_restricted_mean(ds):
    # Calendar clock, horizon 10000 s. October: 1200, 3600, 5400, 6000, 221400+ (censored beyond
    # the horizon, so min(T, 10000) is known for every ticket):
    #   RMST = 1200 + 2400 * 4/5 + 1800 * 3/5 + 600 * 2/5 + 4000 * 1/5 = 5240
    #        = mean(1200, 3600, 5400, 6000, 10000) = 26200 / 5;
    #   Var = population variance / n = ((-4040)^2 + (-1640)^2 + 160^2 + 760^2 + 4760^2) / 5 / 5
    #       = 42272000 / 25 = 1690880.
    # November: 1800, 3600+, 120600: RMST = 1800 + 8200 * 2/3 = 7266.67;
    #   Var = (8200 * 2/3)^2 * 1 / (3 * 2).
    r = K.first_response_time(ds, clock="calendar", horizon_s=10000)
    assert _col(r, "rmst") == pytest.approx({"2026-10": 5240.0, "2026-11": 1800 + 8200 * 2 / 3})
    z = scipy.stats.norm.ppf(0.975)
    se_oct, se_nov = math.sqrt(1690880), math.sqrt((8200 * 2 / 3) ** 2 / 6)
    assert _col(r, "rmst_ci_low") == pytest.approx({"2026-10": 5240 - z * se_oct,
                                                    "2026-11": 1800 + 8200 * 2 / 3 - z * se_nov})
    assert _col(r, "rmst_ci_high")["2026-10"] == pytest.approx(5240 + z * se_oct)
    assert (r["rmst_horizon_s"] == 10000).all()
    # default horizon 7 days = 604800 s. October's longest follow-up is T4's censored 221400 s
    # with S still 1/5: the area beyond is unknown -> NaN, with a note. November reaches S = 0
    # at 120600 (T6): RMST = 1800 + (120600 - 1800) * 2/3 = 81000.
    d = K.first_response_time(ds, clock="calendar")
    assert (d["rmst_horizon_s"] == 7 * 86400).all()
    assert math.isnan(d["rmst"].iloc[0]) and "rmst: follow-up shorter than horizon" in d["note"].iloc[0]
    assert d["rmst"].iloc[1] == pytest.approx(81000.0)
    # the restricted mean counts the open tickets, unlike the mean over answered ones (61200)
    assert d["rmst"].iloc[1] > d["mean_observed"].iloc[1]
    with pytest.raises(K.KPIError, match="horizon_s"):
        K.first_response_time(ds, horizon_s=0)


def test_restricted_mean_without_censoring_is_the_plain_mean(ds):
    # event basis: no censoring; with a horizon beyond every duration the restricted mean is the
    # mean and its variance the population variance / n. October answers: 1200, 3600, 5400, 6000
    # -> mean 4050; squared deviations 8122500 + 202500 + 1822500 + 3802500 = 13950000,
    # / 4 / 4 = 871875
    r = K.first_response_time(ds, clock="calendar", basis="event", horizon_s=1e9)
    assert r["rmst"].iloc[0] == pytest.approx(4050.0) == r["mean_observed"].iloc[0]
    z = scipy.stats.norm.ppf(0.975)
    assert r["rmst_ci_high"].iloc[0] == pytest.approx(4050.0 + z * math.sqrt(871875))
    assert r["rmst"].tolist() == pytest.approx(r["mean_observed"].tolist())


def test_resolution_and_status_times_default_horizon(ds):
    # defaults (stated in the catalogue): resolution and status times 30 calendar days
    # (2592000 s) or 200 business hours (720000 s); response and reply 7 calendar days
    # (604800 s) or 48 business hours (172800 s)
    from kpitools.kpis.responsiveness import RESOLUTION_HORIZON_S, RESPONSE_HORIZON_S

    assert RESOLUTION_HORIZON_S == {"calendar": 2592000.0, "business": 720000.0}
    assert RESPONSE_HORIZON_S == {"calendar": 604800.0, "business": 172800.0}
    cases = ((K.full_resolution_time, {}, 2592000.0), (K.first_resolution_time, {"clock": "business"}, 720000.0),
             (K.requester_wait_time, {}, 2592000.0), (K.reply_time, {}, 172800.0),
             (K.first_response_time, {}, 172800.0), (K.reply_time, {"clock": "calendar"}, 604800.0))
    for kpi, kw, h in cases:
        r = kpi(ds, **kw)
        assert (r["rmst_horizon_s"] == h).all(), kpi
        assert (r["rmst"].isna() | (r["rmst"] <= h)).all()
    r = K.on_hold_time(ds, horizon_s=3600.0)
    assert (r["rmst_horizon_s"] == 3600.0).all()
    assert "48 business hours" in K.catalogue().set_index("kpi").loc["reply_time", "options"]


def test_tickets_only_dataset_has_no_reply_time():
    d = helpdesk_dataset(drop=("ticket_events",))
    with pytest.raises(K.KPIUnavailable, match="table 'ticket_events' absent"):
        K.reply_time(d)


# ---------------------------------------------------------------------------------------------
# data/sample: FRT median of fully observed tickets against a different route
# ---------------------------------------------------------------------------------------------
def test_sample_frt_median_of_observed_tickets(sample_ds):
    # Independent route: plain Python per ticket from the raw event rows (first agent_reply at or
    # after creation, the customer's first message for agent-opened tickets), calendar seconds,
    # grouped by local month with zoneinfo; median of observed durations with the statistics
    # module. With only observed tickets (no censoring) the KM median equals the sample median
    # convention "smallest t with ecdf >= 0.5", i.e. the lower median.
    import statistics
    from collections import defaultdict

    ds = sample_ds
    tz = zoneinfo.ZoneInfo(ds.settings.timezone)
    ev = ds.ticket_events
    first_cust, first_agent = {}, {}
    agent_times = defaultdict(list)
    for tid, at, kind in zip(ev["ticket_id"], ev["at"], ev["kind"], strict=True):
        if kind == "customer_message":
            first_cust[tid] = min(first_cust.get(tid, at), at)
        elif kind == "agent_reply":
            first_agent[tid] = min(first_agent.get(tid, at), at)
            agent_times[tid].append(at)
    per_month = defaultdict(list)
    cutoff = ds.cutoff
    for tid, created in zip(ds.tickets["ticket_id"], ds.tickets["created_at"], strict=True):
        start = created
        if tid in first_agent and (tid not in first_cust or first_agent[tid] < first_cust[tid]):
            if tid not in first_cust:
                continue
            start = first_cust[tid]
        later = [a for a in agent_times.get(tid, []) if a >= start and a <= cutoff]
        if not later:
            continue
        per_month[created.astimezone(tz).strftime("%Y-%m")].append((min(later) - start).total_seconds())
    expected = {m: statistics.median_low(v) for m, v in per_month.items()}

    # the KPI restricted to fully observed tickets: event basis has no censoring, but cuts by
    # response time; so rebuild with created basis over observed tickets via the row layer
    f = ticket_facts(ds)
    obs = f["frt_end"].notna() & f["frt_start"].notna()
    d = (f.loc[obs, "frt_end"] - f.loc[obs, "frt_start"]).dt.total_seconds()
    month = f.loc[obs, "created_at"].dt.tz_convert(ds.settings.timezone).dt.strftime("%Y-%m")
    got_rows = d.groupby(month).agg(lambda x: np.sort(x.to_numpy())[(len(x) - 1) // 2]).to_dict()
    assert got_rows == pytest.approx(expected)
    # and the KPI itself: months without censored tickets have the same median
    r = K.first_response_time(ds, clock="calendar")
    full = r[(r["censored"] == 0) & (r["n"] > 0)]
    assert len(full) >= 12
    for p, v in zip(full["period"].astype(str), full["value"], strict=True):
        assert v == pytest.approx(expected[p]), p


def test_sample_censored_frt_median_against_statsmodels(sample_ds):
    # Months with tickets still unanswered at the cut-off: the KM median of calendar FRT equals
    # statsmodels' SurvfuncRight on (duration, status) pairs built another way: the end is the
    # export's tickets.first_response_at; the start is creation, or for tickets whose first
    # public message is an agent's, the customer's first message (found with idxmin per ticket).
    from statsmodels.duration.survfunc import SurvfuncRight

    ds = sample_ds
    t = ds.tickets.reset_index(drop=True)
    ev = ds.ticket_events
    pub = ev[ev["kind"].isin(["customer_message", "agent_reply"])].reset_index(drop=True)
    first_kind = pub.loc[pub.groupby("ticket_id")["at"].idxmin()].set_index("ticket_id")["kind"]
    first_cust = pub[pub["kind"] == "customer_message"].groupby("ticket_id")["at"].min()
    opened_by_agent = t["ticket_id"].map(first_kind).eq("agent_reply")
    start = t["created_at"].where(~opened_by_agent, t["ticket_id"].map(first_cust))
    keep = start.notna().to_numpy()
    answered = t["first_response_at"].notna() & (t["first_response_at"] <= ds.cutoff)
    end = t["first_response_at"].where(answered, ds.cutoff)
    dur = (end - start).dt.total_seconds().to_numpy()
    month = t["created_at"].dt.tz_convert(ds.settings.timezone).dt.strftime("%Y-%m").to_numpy()
    r = K.first_response_time(ds, clock="calendar")
    censored_months = r.loc[r["censored"] > 0, "period"].astype(str).tolist()
    assert censored_months  # the last month(s) of the export
    compared = 0
    for m in censored_months:
        sel = (month == m) & keep
        sf = SurvfuncRight(dur[sel], answered.to_numpy()[sel].astype(int))
        # median = smallest time with S(t) <= 0.5 on statsmodels' KM curve (statsmodels'
        # own quantile() takes the next time when S is exactly 0.5, which happens when half
        # of an even number of tickets are answered before the first censored one)
        expected = sf.surv_times[np.argmax(sf.surv_prob <= 0.5 + 1e-12)]
        got = r.loc[r["period"].astype(str) == m].iloc[0]
        assert got["value"] == pytest.approx(expected), m
        assert got["censored"] == int((~answered.to_numpy()[sel]).sum())
        compared += 1
    assert compared >= 1


def test_message_after_final_resolution_is_not_a_wait():
    # docs/methods.md#responsiveness "reply time": only customer messages *waiting* for an answer count. A closing
    # "thanks" on T1 at Oct 26 11:00 UTC, after its final resolution (10:00) and without a status
    # change, leaves nothing to answer: no wait for it (before the fix it was a wait censored at
    # the cut-off, 8 d 1 h long).
    from kpi_fixtures import helpdesk_frames

    ev = helpdesk_frames()["ticket_events"]
    thanks = pd.DataFrame([("T1", "2026-10-26T11:00:00Z", "customer_message", "C1", None)], columns=ev.columns)
    d = helpdesk_dataset(ticket_events=pd.concat([ev, thanks], ignore_index=True))
    w = reply_waits(d)
    assert w.loc[w["ticket_id"] == "T1", "start"].tolist() == [pd.Timestamp("2026-10-26T08:00:00Z")]
    # so reply time is unchanged: October waits 1200, 3600, 5400, 6000, 7200, 18000, 221400+ (n 7)
    r = K.reply_time(d, clock="calendar")
    assert _col(r, "value") == {"2026-10": 6000, "2026-11": 120600}
    assert _col(r, "n") == {"2026-10": 7, "2026-11": 3}
    # an open ticket's unanswered message still waits: T3 (open at the cut-off) with a customer
    # message at Oct 30 12:00 UTC (after the 13:30 reply on Oct 28) gets a second wait, still
    # unanswered (censored at the cut-off)
    more = pd.DataFrame([("T3", "2026-10-30T12:00:00Z", "customer_message", "C3", None)], columns=ev.columns)
    w3 = reply_waits(helpdesk_dataset(ticket_events=pd.concat([ev, more], ignore_index=True)))
    t3 = w3[w3["ticket_id"] == "T3"]
    assert t3["start"].tolist() == [pd.Timestamp("2026-10-28T12:00:00Z"), pd.Timestamp("2026-10-30T12:00:00Z")]
    assert t3["end"].isna().tolist() == [False, True]
