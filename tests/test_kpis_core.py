"""The KPI framework: period cuts, registry, finish (grid, notes, targets), catalogue, kpi_table,
and property tests across every helpdesk KPI."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpi_fixtures import helpdesk_dataset, helpdesk_frames

import kpitools.kpis as K
from kpitools.kpis._core import (
    BASE_COLUMNS,
    REGISTRY,
    Agg,
    KPIError,
    KPIUnavailable,
    elapsed,
    finish,
    period_bounds,
    register,
    segment_frame,
    to_period,
)
from kpitools.kpis.responsiveness import ticket_facts


@pytest.fixture(scope="module")
def ds():
    return helpdesk_dataset()


# ---------------------------------------------------------------------------------------------
# period cuts in the business timezone
# ---------------------------------------------------------------------------------------------
def _utc(*ts):
    return pd.Series(pd.to_datetime(list(ts), utc=True)).dt.as_unit("ns")


def test_month_cut_in_business_timezone_west_of_utc():
    # 23:30 local on Oct 31 in New York (EDT, UTC-4) = 03:30 UTC Nov 1 -> still October;
    # DST ends there on Sun Nov 1 2026: 00:30 local Nov 1 (EDT) = 04:30 UTC -> November.
    p = to_period(_utc("2026-11-01T03:30:00Z", "2026-11-01T04:30:00Z"), "M", "America/New_York")
    assert list(p.astype(str)) == ["2026-10", "2026-11"]


def test_month_cut_across_dst_start_east_of_utc():
    # Berlin switched to CEST (UTC+2) on Sun Mar 29 2026.
    # 23:30 local Mar 31 = 21:30 UTC -> March; 00:30 local Apr 1 = 22:30 UTC Mar 31 -> April
    # (a fixed CET offset of +1 h would wrongly give 23:30 Mar 31, i.e. March).
    p = to_period(_utc("2026-03-31T21:30:00Z", "2026-03-31T22:30:00Z"), "M", "Europe/Berlin")
    assert list(p.astype(str)) == ["2026-03", "2026-04"]


def test_day_week_quarter_cuts():
    # 2026-10-31T23:30Z = Sun Nov 1 00:30 CET: day Nov 1, week Mon Oct 26 - Sun Nov 1, Q4.
    ts = _utc("2026-10-31T23:30:00Z")
    assert str(to_period(ts, "D", "Europe/Berlin").iloc[0]) == "2026-11-01"
    assert str(to_period(ts, "W", "Europe/Berlin").iloc[0]) == "2026-10-26/2026-11-01"
    assert str(to_period(ts, "Q", "Europe/Berlin").iloc[0]) == "2026Q4"


def test_period_bounds_are_local_midnights():
    # Nov 2026 in Berlin: starts 00:00 CET = Oct 31 23:00 UTC; Oct starts 00:00 CEST = Sep 30 22:00 UTC
    start, end = period_bounds(pd.PeriodIndex(["2026-10", "2026-11"], freq="M"), "Europe/Berlin")
    assert list(start.strftime("%Y-%m-%dT%H:%M")) == ["2026-09-30T22:00", "2026-10-31T23:00"]
    assert list(end.strftime("%Y-%m-%dT%H:%M")) == ["2026-10-31T23:00", "2026-11-30T23:00"]


def test_fixture_tickets_fall_in_local_months(ds):
    # T4 at 23:30 local Oct 31 (22:30 UTC) -> October; T6 at 00:30 local Nov 1 (23:30 UTC Oct 31)
    # -> November. So October holds T1-T4 and T8 (5 tickets), November T5-T7 (3).
    r = K.ticket_volume(ds)
    assert r["period"].astype(str).tolist() == ["2026-10", "2026-11"]
    assert r["value"].tolist() == [5, 3]


def test_bad_period_and_by_raise(ds):
    with pytest.raises(KPIError, match=r"period must be one of \['D', 'W', 'M', 'Q'\].*got 'Y'"):
        K.ticket_volume(ds, period="Y")
    with pytest.raises(KPIError, match="by must be None, a column name or a list"):
        K.ticket_volume(ds, by=3)
    with pytest.raises(KPIError, match=r"confidence must be a number strictly between 0 and 1, got 95"):
        K.csat(ds, confidence=95)
    with pytest.raises(KPIError, match=r"basis must be one of \['created'\], got 'event'"):
        K.ticket_volume(ds, basis="event")
    with pytest.raises(KPIError, match="clock does not apply to this KPI"):
        K.csat(ds, clock="business")
    with pytest.raises(KPIError, match=r"unknown option\(s\) \['windows'\]"):
        K.fcr(ds, windows=3)
    with pytest.raises(KPIUnavailable, match="segment 'region' is not a column of 'tickets'"):
        K.ticket_volume(ds, by="region")


# ---------------------------------------------------------------------------------------------
# finish: grid, notes, targets, column order
# ---------------------------------------------------------------------------------------------
def test_output_columns_in_order(ds):
    r = K.csat(ds, by="channel")
    assert list(r.columns[:2]) == ["kpi", "period"]
    assert r.columns[2] == "channel"
    assert list(r.columns[3:3 + len(BASE_COLUMNS) - 2]) == list(BASE_COLUMNS[2:])
    d = K.first_response_time(ds)
    assert list(d.columns[-9:]) == ["p90", "p90_ci_low", "p90_ci_high", "mean_observed", "censored",
                                    "rmst", "rmst_ci_low", "rmst_ci_high", "rmst_horizon_s"]
    n = K.nps(ds)
    assert list(n.columns[-3:]) == ["detractors", "passives", "promoters"]
    m = K.ces(ds)
    assert list(m.columns[-2:]) == ["mean", "sd"]


def test_empty_cells_appear_with_n0_and_nan(ds):
    r = K.ticket_volume(ds, by="channel")
    # October: email T1, T3; chat T2; web T4; phone T8. November: email T5; chat T6, T7.
    got = {(str(p), c): v for p, c, v in zip(r["period"], r["channel"], r["value"], strict=True)}
    assert got == {("2026-10", "chat"): 1, ("2026-10", "email"): 2, ("2026-10", "phone"): 1,
                   ("2026-10", "web"): 1, ("2026-11", "chat"): 2, ("2026-11", "email"): 1,
                   ("2026-11", "phone"): 0, ("2026-11", "web"): 0}
    empty = r[(r["period"].astype(str) == "2026-11") & r["channel"].isin(["phone", "web"])]
    assert (empty["n"] == 0).all() and (empty["note"] == "no data").all()
    # a rate in an empty cell: NaN value, n = 0, no interval
    c = K.resolution_rate(ds, by="channel")
    e = c[(c["period"].astype(str) == "2026-11") & (c["channel"] == "web")].iloc[0]
    assert e["n"] == 0 and np.isnan(e["value"]) and np.isnan(e["ci_low"]) and e["note"] == "no data"


def test_empty_periods_inside_the_span_appear():
    # Tickets only in October and December: November must appear with n = 0.
    f = helpdesk_frames()
    t = f["tickets"].iloc[:2].copy()
    t.loc[1, "created_at"] = "2026-12-15T10:00:00Z"
    t.loc[1, ["first_response_at", "first_resolved_at", "resolved_at"]] = None
    d = helpdesk_dataset(drop=("ticket_events", "surveys", "survey_sends"), tickets=t,
                         settings={"exported_at": "2026-12-20T00:00:00Z"})
    r = K.resolution_rate(d)
    assert r["period"].astype(str).tolist() == ["2026-10", "2026-11", "2026-12"]
    assert r["n"].tolist() == [1, 0, 1]
    # October: T1 resolved 1/1; November empty; December: 0/1
    assert r["value"].iloc[0] == 1.0 and np.isnan(r["value"].iloc[1]) and r["value"].iloc[2] == 0.0


def test_zero_denominator_gives_nan_with_note(ds):
    # opened_to_resolved by channel in November: web has neither created nor resolved tickets
    # (n = 0 -> "no data"); phone: none either. Make a cell with created > 0 and resolved = 0:
    # November chat: created T6, T7 (2), resolved T6 (1) -> 2.0; November email: created T5,
    # resolved T5 -> 1.0. October web: created T4, resolved none -> zero denominator.
    r = K.opened_to_resolved(ds, by="channel")
    web = r[(r["period"].astype(str) == "2026-10") & (r["channel"] == "web")].iloc[0]
    assert web["numerator"] == 1 and web["denominator"] == 0 and web["n"] == 1
    assert np.isnan(web["value"]) and web["note"] == "zero denominator: resolved tickets"
    chat = r[(r["period"].astype(str) == "2026-11") & (r["channel"] == "chat")].iloc[0]
    assert chat["value"] == 2.0


def test_target_and_direction(ds):
    # targets: csat 0.8 (higher is better): October 0.5 -> not met.
    # first_response_time 3600 s (lower is better): November business median 3600 -> met.
    c = K.csat(ds)
    assert c["target"].tolist() == [0.8, 0.8] and c["target_met"].tolist() == [False, False]
    f = K.first_response_time(ds)
    assert f["value"].iloc[1] == 3600 and bool(f["target_met"].iloc[1]) is True
    # no target configured -> NA
    assert K.nps(ds)["target_met"].isna().all()


def test_missing_segment_values_become_missing_level(ds):
    # agent_id is empty on T4 and T7 -> level "(missing)"; counts still add up to the total
    r = K.ticket_volume(ds, by="agent_id")
    assert "(missing)" in set(r["agent_id"])
    assert r.groupby(r["period"].astype(str))["value"].sum().tolist() == [5, 3]


def test_derived_hour_and_weekday_segments(ds):
    # T4 23:30 local Sat; T2 16:00 local Tue; T6 00:30 local Sun.
    r = K.ticket_volume(ds, by=["weekday"])
    oct_ = r[r["period"].astype(str) == "2026-10"].set_index("weekday")["value"]
    # October: T1 Mon, T2 Tue, T3 Wed, T8 Thu, T4 Sat
    assert oct_.to_dict() == {"mon": 1, "sat": 1, "sun": 0, "thu": 1, "tue": 1, "wed": 1}
    h = segment_frame(ds, ds.tickets, ["hour"], ts=ds.tickets["created_at"])
    assert h["hour"].tolist() == ["09", "16", "10", "23", "10", "00", "12", "11"]


def test_finish_on_a_hand_made_aggregate(ds):
    spec = REGISTRY["resolution_rate"]
    periods = pd.period_range("2026-01", "2026-03", freq="M")
    table = pd.DataFrame({"period": pd.PeriodIndex(["2026-01", "2026-02"], freq="M"), "channel": ["a", "b"],
                          "numerator": [3.0, 0.0], "denominator": [10.0, 0.0], "n": [10.0, 4.0]})
    agg = Agg(table=table, periods=periods, levels={"channel": ["a", "b"]}, denominator_label="things")
    r = finish(agg, spec=spec, ds=ds, period="M", by=["channel"], basis="created", clock=None)
    assert len(r) == 6  # 3 months x 2 channels
    jan_a = r.iloc[0]
    assert jan_a["value"] == pytest.approx(0.3)
    # Wilson 95% for 3/10: statsmodels proportion_confint(3, 10, method="wilson") = (0.1078, 0.6032)
    assert (jan_a["ci_low"], jan_a["ci_high"]) == pytest.approx((0.10779, 0.60322), abs=1e-4)
    assert jan_a["method"] == "wilson" and jan_a["confidence"] == 0.95
    feb_b = r[(r["period"].astype(str) == "2026-02") & (r["channel"] == "b")].iloc[0]
    assert np.isnan(feb_b["value"]) and feb_b["note"] == "zero denominator: things" and feb_b["n"] == 4
    mar = r[r["period"].astype(str) == "2026-03"]
    assert (mar["n"] == 0).all() and mar["value"].isna().all() and (mar["note"] == "no data").all()


def test_register_rejects_bad_specs():
    with pytest.raises(KPIError, match="unit must be one of"):
        register(name="x_bad", title="", group="", definition="", formula="", unit="furlongs",
                 higher_is_better=True, stat="count", basis=None, tables=())
    with pytest.raises(KPIError, match="stat must be one of"):
        register(name="x_bad", title="", group="", definition="", formula="", unit="count",
                 higher_is_better=True, stat="median", basis=None, tables=())


# ---------------------------------------------------------------------------------------------
# catalogue, kpi_table, skipped
# ---------------------------------------------------------------------------------------------
HELPDESK = {
    "ticket_volume", "complaints", "tickets_per_customer", "contact_rate", "resolved", "backlog",
    "net_flow", "opened_to_resolved", "resolution_rate", "first_response_time", "reply_time",
    "first_resolution_time", "full_resolution_time", "requester_wait_time", "on_hold_time",
    "replies_per_resolution", "agent_touches", "ticket_handle_time", "fcr", "one_touch_rate",
    "reopen_rate", "escalation_rate", "repeat_contact_rate", "csat", "csat_response_rate", "nps",
    "ces", "ces_low_effort", "esat", "qa_score", "sla_first_response", "sla_next_reply",
    "sla_resolution",
}


def test_catalogue_lists_every_helpdesk_kpi():
    cat = K.catalogue()
    assert HELPDESK <= set(cat["kpi"])
    assert list(cat.columns[:3]) == ["kpi", "title", "group"]
    row = cat.set_index("kpi").loc["csat"]
    assert row["unit"] == "share" and bool(row["higher_is_better"]) and row["stat"] == "proportion"
    assert row["tables"] == "surveys" and row["columns"] == "surveys: survey, score, submitted_at"
    assert cat["definition"].str.len().gt(20).all()


def test_kpi_table_long_form_and_skips():
    # Without surveys, user_activity and events, the survey KPIs, contact_rate and the
    # event-only KPIs are skipped with their reason.
    d = helpdesk_dataset(drop=("surveys", "survey_sends", "user_activity", "ticket_events"))
    tab = K.kpi_table(d, kpis=sorted(HELPDESK))
    sk = tab.attrs["skipped"].set_index("kpi")["reason"]
    assert sk["csat"] == "table 'surveys' absent"
    assert sk["contact_rate"] == "table 'user_activity' absent"
    assert sk["reply_time"] == "table 'ticket_events' absent"
    assert sk["sla_next_reply"] == "table 'ticket_events' absent"
    assert "ticket_volume" not in sk.index and "first_response_time" not in sk.index
    assert {"kpi", "period", "value", "n", "ci_low", "ci_high", "method"} <= set(tab.columns)
    assert set(tab["kpi"]) | set(sk.index) == HELPDESK
    pd.testing.assert_frame_equal(K.skipped_kpis(d, kpis=sorted(HELPDESK)), tab.attrs["skipped"])


def test_kpi_table_skips_unsupported_segment(ds):
    tab = K.kpi_table(ds, by="agent_id", kpis=["ticket_volume", "nps", "csat"])
    # surveys has an agent_id column: NPS answers without one fall in "(missing)"
    assert tab.attrs["skipped"].empty
    assert set(tab["kpi"]) == {"ticket_volume", "nps", "csat"}
    nps = tab[tab["kpi"] == "nps"]
    assert set(nps.loc[nps["n"] > 0, "agent_id"]) == {"(missing)"}
    tab2 = K.kpi_table(ds, by="region", kpis=["ticket_volume", "csat"])
    assert tab2.empty and len(tab2.attrs["skipped"]) == 2


def test_tickets_only_path_without_events():
    # Without ticket_events, FRT comes from tickets.first_response_at: October T1 3600,
    # T2 6000, T3 16200 (13:30 - 09:00: no event history to see it was agent-opened), T8 1200,
    # T4 censored (calendar clock). KM median over 1200, 3600, 6000, 16200, 221400+:
    # S = 4/5, 3/5, 2/5 at 6000 -> median 6000.
    d = helpdesk_dataset(drop=("ticket_events",))
    r = K.first_response_time(d, clock="calendar")
    assert r["value"].iloc[0] == 6000 and r["censored"].iloc[0] == 1


# ---------------------------------------------------------------------------------------------
# property tests
# ---------------------------------------------------------------------------------------------
_CH = ["email", "chat", "web"]


@st.composite
def _tickets(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    base = pd.Timestamp("2026-10-01T00:00:00Z")
    rows = []
    for i in range(n):
        created = base + pd.Timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))
        solved = draw(st.one_of(st.none(), st.integers(1, 60 * 24 * 20)))
        replies = draw(st.integers(0, 3))
        rows.append({
            "ticket_id": f"P{i}", "created_at": created.isoformat(),
            "channel": draw(st.sampled_from(_CH)), "category": "x",
            "priority": draw(st.sampled_from(["normal", "high"])),
            "customer_id": f"C{draw(st.integers(0, 3))}",
            "first_response_at": (created + pd.Timedelta(minutes=draw(st.integers(1, 3000)))).isoformat()
            if replies else None,
            "first_resolved_at": None if solved is None else (created + pd.Timedelta(minutes=solved)).isoformat(),
            "resolved_at": None if solved is None else (created + pd.Timedelta(minutes=solved)).isoformat(),
            "reopen_count": draw(st.integers(0, 1)), "agent_replies": replies,
            "escalated": draw(st.booleans()),
        })
    return pd.DataFrame(rows)


_PROP = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROP
@given(_tickets())
def test_counts_add_up_and_rates_in_unit_interval(t):
    d = helpdesk_dataset(drop=("ticket_events", "surveys", "survey_sends", "user_activity"), tickets=t,
                         settings={"exported_at": "2026-12-31T00:00:00Z"})
    for name in ("ticket_volume", "resolved"):
        tot = REGISTRY[name].func(d)
        seg = REGISTRY[name].func(d, by="channel")
        s = seg.groupby(seg["period"].astype(str))["value"].sum()
        assert s.to_dict() == tot.set_index(tot["period"].astype(str))["value"].to_dict()
    for name in ("resolution_rate", "fcr", "reopen_rate", "sla_resolution"):
        tot = REGISTRY[name].func(d)
        seg = REGISTRY[name].func(d, by="channel")
        v = pd.concat([tot["value"], seg["value"]]).dropna()
        assert ((v >= 0) & (v <= 1)).all(), name
        lo = pd.concat([tot["ci_low"], seg["ci_low"]]).dropna()
        hi = pd.concat([tot["ci_high"], seg["ci_high"]]).dropna()
        assert (lo >= 0).all() and (hi <= 1).all()
        # numerators and denominators add up across segments (per priority for SLA)
        keys = [k for k in ("priority",) if k in tot.columns]
        a = seg.groupby([seg["period"].astype(str), *[seg[k] for k in keys]])[["numerator", "denominator"]].sum()
        b = tot.set_index([tot["period"].astype(str), *[tot[k] for k in keys]])[["numerator", "denominator"]]
        b.index.names = a.index.names
        pd.testing.assert_frame_equal(a.sort_index(), b.sort_index(), check_dtype=False)


@_PROP
@given(st.lists(st.integers(0, 10), min_size=1, max_size=40), st.lists(st.sampled_from(_CH), min_size=40, max_size=40))
def test_nps_stays_in_points_range(scores, channels):
    n = len(scores)
    s = pd.DataFrame({"response_id": [f"R{i}" for i in range(n)], "survey": "nps", "score": scores,
                      "submitted_at": [(pd.Timestamp("2026-10-01T10:00:00Z") + pd.Timedelta(days=i)).isoformat()
                                       for i in range(n)], "channel": channels[:n]})
    d = helpdesk_dataset(drop=("survey_sends",), surveys=s)
    for r in (K.nps(d), K.nps(d, by="channel")):
        v = r["value"].dropna()
        assert ((v >= -100) & (v <= 100)).all()
        assert (r["ci_low"].dropna() >= -100).all() and (r["ci_high"].dropna() <= 100).all()
        # value = 100 (p - d) / n by definition
        ok = r["n"] > 0
        assert np.allclose(r.loc[ok, "value"], 100 * (r.loc[ok, "promoters"] - r.loc[ok, "detractors"]) / r.loc[ok, "n"])


@_PROP
@given(_tickets())
def test_business_duration_never_exceeds_calendar(t):
    d = helpdesk_dataset(drop=("ticket_events", "surveys", "survey_sends", "user_activity"), tickets=t,
                         settings={"exported_at": "2026-12-31T00:00:00Z"})
    f = ticket_facts(d)
    stop = f["first_resolved"].fillna(d.cutoff)
    b = elapsed(d, f["created_at"], stop, "business")
    c = elapsed(d, f["created_at"], stop, "calendar")
    assert (b <= c + 1e-9).all() and (b >= 0).all()
    for name in ("first_response_time", "first_resolution_time"):
        # same tickets and censoring flags, each duration shorter -> mean of observed shorter
        rb = REGISTRY[name].func(d, clock="business")
        rc = REGISTRY[name].func(d, clock="calendar")
        assert (rb["mean_observed"].fillna(0) <= rc["mean_observed"].fillna(0) + 1e-9).all()
        assert rb["censored"].tolist() == rc["censored"].tolist()


def test_every_kpi_docstring_has_numpydoc_sections():
    for name in HELPDESK:
        doc = REGISTRY[name].func.__doc__
        for section in ("Parameters\n----------", "Returns\n-------", "Notes\n-----"):
            assert section in doc, (name, section)


def test_sample_kpi_table_computes_every_helpdesk_kpi(sample_ds):
    tab = K.kpi_table(sample_ds, kpis=sorted(HELPDESK))
    assert tab.attrs["skipped"].empty
    assert set(tab["kpi"]) == HELPDESK
    shares = tab[tab["unit"] == "share"]
    v = shares["value"].dropna()
    assert len(v) > 300 and ((v >= 0) & (v <= 1)).all()
    # every month of the sample appears for ticket volume, and counts are whole numbers
    vol = tab[tab["kpi"] == "ticket_volume"]
    assert vol["period"].is_monotonic_increasing and (vol["value"] % 1 == 0).all()
    assert vol["value"].sum() == len(sample_ds.tickets)


# ---------------------------------------------------------------------------------------------
# declarations reduced by cell codes equal the keyed (per-row text) aggregates
# ---------------------------------------------------------------------------------------------
def test_cell_quantiles_equal_pandas_groupby():
    # reference: pandas groupby median and quantile(0.9) (linear interpolation) on the same values
    from kpitools.kpis._core import _cell_quantiles

    rng = np.random.default_rng(7)
    c = rng.integers(0, 40, 5000)
    v = np.round(rng.exponential(30.0, 5000), 1)  # ties
    got = _cell_quantiles(c, v, 42, {"median": 0.5, "p90": 0.9})
    g = pd.DataFrame({"c": c, "v": v}).groupby("c")["v"]
    np.testing.assert_array_equal(got["median"][:40], g.median().to_numpy())
    np.testing.assert_allclose(got["p90"][:40], g.quantile(0.9).to_numpy(), rtol=1e-12)
    assert np.isnan(got["median"][40:]).all()  # cells without values


def test_values_declaration_equals_from_values(sample_ds):
    # reference: the keyed path (Agg.from_values on per-row text segments, pandas groupby quantiles)
    from kpitools import facts
    from kpitools.kpis._core import reduce_values
    from kpitools.kpis.contact_centre import asa, contact_facts

    decl = asa.__wrapped__(sample_ds, period="M", by=["channel"], basis="event", clock=None,
                           confidence=0.95, method=None)
    new = reduce_values(sample_ds, decl, period="M", by=["channel"])
    f = contact_facts(sample_ds)
    rows = pd.concat([pd.DataFrame({"period": to_period(sample_ds.contacts["queued_at"], "M", "Europe/Berlin"),
                                    "wait": f["wait_s"].where(f["answered"])}),
                      facts.of(sample_ds).segments("contacts", ["channel"], index=sample_ds.contacts.index)], axis=1)
    old = Agg.from_values(rows, "wait", by=["channel"], periods=new.periods, keep_values=True)
    keys = ["period", "channel"]
    for c in ("n", "mean", "sd", "numerator"):
        np.testing.assert_allclose(new.table[c], old.table[c], rtol=1e-12)
    pd.testing.assert_frame_equal(new.table[keys].astype("str"), old.table[keys].astype("str"))
    med = rows.dropna(subset=["period", "wait"]).groupby(keys, observed=True)["wait"]
    np.testing.assert_array_equal(new.table["median"], med.median().to_numpy())
    np.testing.assert_allclose(new.table["p90"], med.quantile(0.9).to_numpy(), rtol=1e-12)
    pd.testing.assert_frame_equal(new.with_keys().values.astype({"period": "str"}),
                                  old.values.astype({"period": "str"}))


def test_durations_declaration_with_keys_equals_from_durations(sample_ds):
    # reference: Agg.from_durations on per-row periods and segment text (the former reduce step)
    from kpitools import facts
    from kpitools.kpis._core import reduce_durations
    from kpitools.kpis.responsiveness import first_response_time

    decl = first_response_time.__wrapped__(sample_ds, period="M", by=["channel"], basis="created",
                                           clock="business", confidence=0.95, method=None)
    new = reduce_durations(sample_ds, decl, period="M", by=["channel"], basis="created", clock="business")
    assert new.cells is not None and list(new.durations.columns) == ["duration", "observed"]
    dur, obs = facts.censor(decl.start, decl.end, sample_ds.cutoff, "business", calendar=sample_ds.calendar,
                            include=decl.include)
    fx = facts.of(sample_ds)
    rows = pd.DataFrame({"period": fx.period("tickets", "created_at", "M").where(~np.isnan(dur)),
                         "duration": dur, "observed": obs, "channel": fx.segment("tickets", "channel")})
    old = Agg.from_durations(rows, by=["channel"], periods=new.periods)
    keyed = new.with_keys()
    assert keyed.cells is None
    pd.testing.assert_frame_equal(keyed.durations.astype({"period": "str"}), old.durations.astype({"period": "str"}))
    np.testing.assert_array_equal(new.table["n"], old.table["n"])
