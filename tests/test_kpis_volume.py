"""Volume and flow KPIs against the hand-made fixture (tests/kpi_fixtures.py) and data/sample."""

import collections
import datetime as dt
import zoneinfo

import numpy as np
import pytest
from kpi_fixtures import helpdesk_dataset

import kpitools.kpis as K


@pytest.fixture(scope="module")
def ds():
    return helpdesk_dataset()


def _by_period(r, col="value"):
    return dict(zip(r["period"].astype(str), r[col], strict=True))


def test_ticket_volume(ds):
    # October (local): T1, T2, T3, T4 (23:30 local Oct 31), T8 = 5; November: T5, T6 (00:30
    # local Nov 1), T7 = 3.
    r = K.ticket_volume(ds)
    assert _by_period(r) == {"2026-10": 5, "2026-11": 3}
    assert _by_period(r, "n") == {"2026-10": 5, "2026-11": 3}
    assert (r["basis"] == "created").all() and (r["unit"] == "count").all()


def test_ticket_volume_by_day_and_week(ds):
    # Days (local): T1 Oct 26, T2 Oct 27, T3 Oct 28, T8 Oct 29, T4 Oct 31, T6 Nov 1, T5 Nov 2,
    # T7 Nov 3; Oct 30 has none -> 0 with note "no data". Span Oct 26 .. Nov 3 = 9 days.
    d = K.ticket_volume(ds, period="D")
    assert len(d) == 9
    assert _by_period(d)["2026-10-30"] == 0 and d.set_index(d["period"].astype(str)).loc["2026-10-30", "note"] == "no data"
    assert d["value"].sum() == 8
    # Weeks ending Sunday: Oct 26 - Nov 1 holds T1-T4, T8, T6 (6); Nov 2 - 8 holds T5, T7 (2)
    w = K.ticket_volume(ds, period="W")
    assert w["value"].tolist() == [6, 2]


def test_complaints(ds):
    # is_complaint: T4 (October) and T6 (November); denominator = tickets created 5 and 3
    r = K.complaints(ds)
    assert _by_period(r) == {"2026-10": 1, "2026-11": 1}
    assert _by_period(r, "denominator") == {"2026-10": 5, "2026-11": 3}
    assert r["note"].str.contains("is_complaint").all()


def test_tickets_per_customer(ds):
    # October: 5 tickets / customers C1, C2, C3, C4, C6 = 1.0; November: 3 / {C1, C5} = 1.5
    r = K.tickets_per_customer(ds)
    assert _by_period(r) == {"2026-10": 1.0, "2026-11": 1.5}
    assert _by_period(r, "denominator") == {"2026-10": 5, "2026-11": 2}


def test_contact_rate(ds):
    # Active users: October u1 (two days), u2, u3, u4 = 4; November u1, u2 = 2.
    # October 5 / 4 = 1.25; November 3 / 2 = 1.5
    r = K.contact_rate(ds)
    assert _by_period(r) == {"2026-10": 1.25, "2026-11": 1.5}
    # by channel: every segment shares the month's active users; web in November: 0 / 2 = 0
    c = K.contact_rate(ds, by="channel")
    web = c[(c["channel"] == "web")].set_index(c.loc[c["channel"] == "web", "period"].astype(str))
    assert web.loc["2026-10", "value"] == 0.25 and web.loc["2026-11", "value"] == 0.0


def test_resolved_event_and_created_basis(ds):
    # First resolutions: T1 Oct 26, T2 Oct 28 (first solve), T8 Oct 29 -> October 3;
    # T5 Nov 2, T6 Nov 2 -> November 2. Created basis: of October's tickets T1, T2, T8 are
    # resolved (3); of November's T5, T6 (2).
    e = K.resolved(ds)
    assert _by_period(e) == {"2026-10": 3, "2026-11": 2} and (e["basis"] == "event").all()
    c = K.resolved(ds, basis="created")
    assert _by_period(c) == {"2026-10": 3, "2026-11": 2} and (c["basis"] == "created").all()


def test_resolved_basis_differs_when_resolution_crosses_month():
    # T6 created in November (local) but resolved in December: event basis counts it in
    # December, created basis in November.
    from kpi_fixtures import helpdesk_frames

    f = helpdesk_frames()
    t = f["tickets"].copy()
    t.loc[t["ticket_id"] == "T6", ["first_resolved_at", "resolved_at"]] = "2026-12-01T10:00:00Z"
    d = helpdesk_dataset(drop=("ticket_events",), tickets=t, settings={"exported_at": "2026-12-05T00:00:00Z"})
    e = K.resolved(d)
    c = K.resolved(d, basis="created")
    assert _by_period(e) == {"2026-10": 3, "2026-11": 1, "2026-12": 1}
    assert _by_period(c) == {"2026-10": 3, "2026-11": 2, "2026-12": 0}


def test_backlog_and_net_flow(ds):
    # End of October (Nov 1 00:00 local = Oct 31 23:00 UTC): open T3 (never solved) and T4
    # (22:30 UTC); T2 was reopened Oct 29 09:00 but solved again at 14:05; T6 starts 23:30.
    # End of November = the cut-off: T3, T4, T7 open -> 3.
    b = K.backlog(ds)
    assert _by_period(b) == {"2026-10": 2, "2026-11": 3}
    assert b["note"].iloc[1].startswith("counted at the cut-off")
    # net flow = created - first resolved: October 5 - 3 = 2; November 3 - 2 = 1
    n = K.net_flow(ds)
    assert _by_period(n) == {"2026-10": 2, "2026-11": 1}
    assert _by_period(n, "numerator") == {"2026-10": 5, "2026-11": 3}


def test_backlog_sees_a_reopen_inside_the_period():
    # Export cut at Oct 29 12:00 UTC, daily backlog from the status events:
    # Oct 26: T1 created 08:00, solved 10:00 -> 0 open at the day's end;
    # Oct 27: T2 created 15:00, open -> 1;
    # Oct 28: T2 solved 10:05, T3 created 09:00 and open -> 1;
    # Oct 29 (counted at the cut-off 12:00 UTC): T2 reopened 09:00 (open), T3 open, T8 created
    # 10:00 and solved 10:30 -> 2.
    d = helpdesk_dataset(settings={"exported_at": "2026-10-29T12:00:00Z"})
    got = _by_period(K.backlog(d, period="D"))
    assert {k: got[k] for k in ("2026-10-26", "2026-10-27", "2026-10-28", "2026-10-29")} == {
        "2026-10-26": 0, "2026-10-27": 1, "2026-10-28": 1, "2026-10-29": 2}


def test_backlog_without_events_uses_final_resolution():
    # Without status events T2 counts as open from creation to its final resolution (Oct 29).
    d = helpdesk_dataset(drop=("ticket_events",))
    b = K.backlog(d, period="D")
    got = _by_period(b)
    assert got["2026-10-28"] == 2  # T2 (solved/reopened history unknown) + T3
    assert got["2026-10-29"] == 1  # T2 finally solved 14:05; T3 open; T8 solved 10:30


def test_opened_to_resolved_and_resolution_rate(ds):
    # October 5 created / 3 resolved; November 3 / 2
    r = K.opened_to_resolved(ds)
    assert _by_period(r) == pytest.approx({"2026-10": 5 / 3, "2026-11": 1.5})
    # resolution rate: October 3 of 5 created resolved = 0.6; November 2/3
    rr = K.resolution_rate(ds)
    assert _by_period(rr) == pytest.approx({"2026-10": 0.6, "2026-11": 2 / 3})
    # Wilson 95% for 3/5: statsmodels proportion_confint(3, 5, method="wilson") = (0.2307, 0.8824)
    assert (rr["ci_low"].iloc[0], rr["ci_high"].iloc[0]) == pytest.approx((0.23072, 0.88238), abs=1e-4)
    # cohort maturity: October's T3 and T4, November's T7 are still open at the cut-off
    assert _by_period(rr, "open_at_cutoff") == {"2026-10": 2, "2026-11": 1}
    assert _by_period(rr, "note") == {
        "2026-10": "cohort still maturing: 2 ticket(s) still open at the cut-off",
        "2026-11": "cohort still maturing: 1 ticket(s) still open at the cut-off"}
    # by team: team A (T1, T2, T5, T6) is fully resolved -> no note; team B holds T3, T4, T7
    bt = K.resolution_rate(ds, by="team")
    assert bt.loc[bt["team"] == "A", "note"].isna().all()
    assert bt.loc[bt["team"] == "B", "open_at_cutoff"].tolist() == [2, 1]


def test_backlog_age(ds):
    # At the cut-off (Nov 3 12:00 UTC): T3 age 6 d 3 h -> "3-7d"; T4 2 d 13.5 h -> "1-3d";
    # T7 1 h -> "<1d".
    a = K.backlog_age(ds)
    assert a["bucket"].tolist() == ["<1d", "1-3d", "3-7d", "7-30d", ">30d"]
    assert a["n"].tolist() == [1, 1, 1, 0, 0]
    assert a["share"].tolist()[:3] == pytest.approx([1 / 3] * 3)
    assert a["median_age_s"].iloc[1] == 2 * 86400 + 13.5 * 3600
    # on Oct 30 00:00 UTC: open T3 (1 d 15 h) -> "1-3d" only (T4 not created yet)
    b = K.backlog_age(ds, at="2026-10-30T00:00:00Z")
    assert b["n"].tolist() == [0, 1, 0, 0, 0]
    by = K.backlog_age(ds, by="team")
    # team B holds T3, T4, T7; team A has nothing open -> share NaN
    assert by.groupby("team")["n"].sum().to_dict() == {"A": 0, "B": 3}
    assert by.loc[by["team"] == "A", "share"].isna().all()


# ---------------------------------------------------------------------------------------------
# data/sample against an independent computation
# ---------------------------------------------------------------------------------------------
def test_sample_ticket_volume_by_month_matches_plain_python(sample_ds):
    # Plain Python over rows: convert each UTC timestamp with zoneinfo and count (year, month).
    tz = zoneinfo.ZoneInfo(sample_ds.settings.timezone)
    counts = collections.Counter()
    for ts in sample_ds.tickets["created_at"].dt.to_pydatetime():
        local = ts.astimezone(tz)
        counts[f"{local.year:04d}-{local.month:02d}"] += 1
    r = K.ticket_volume(sample_ds)
    got = {p: int(v) for p, v in _by_period(r).items() if v > 0}
    assert got == dict(counts)
    # by channel adds up to the total
    c = K.ticket_volume(sample_ds, by="channel")
    assert c["value"].sum() == len(sample_ds.tickets)


def test_sample_resolution_rate_matches_plain_python(sample_ds):
    tz = zoneinfo.ZoneInfo(sample_ds.settings.timezone)
    cutoff = sample_ds.cutoff.to_pydatetime()
    num, den = collections.Counter(), collections.Counter()
    t = sample_ds.tickets
    first = t["first_resolved_at"] if "first_resolved_at" in t.columns else None
    for created, fr in zip(t["created_at"].dt.to_pydatetime(), first.dt.to_pydatetime(), strict=True):
        key = created.astimezone(tz).strftime("%Y-%m")
        den[key] += 1
        if isinstance(fr, dt.datetime) and fr == fr and fr <= cutoff:
            num[key] += 1
    r = K.resolution_rate(sample_ds)
    exp = {k: num[k] / den[k] for k in den}
    got = {k: v for k, v in _by_period(r).items() if k in exp}
    assert got == pytest.approx(exp)
    assert np.isfinite(r["ci_low"]).all()


def test_complaints_from_category_when_no_flag():
    from kpi_fixtures import helpdesk_frames

    t = helpdesk_frames()["tickets"].drop(columns=["is_complaint"])
    t.loc[t["ticket_id"].isin(["T2", "T3", "T5"]), "category"] = "Complaint"
    d = helpdesk_dataset(tickets=t)
    # category 'complaint' (any case): T2, T3 in October, T5 in November
    r = K.complaints(d)
    assert _by_period(r) == {"2026-10": 2, "2026-11": 1}
    assert r["note"].str.contains("category 'complaint'").all()
    none = helpdesk_dataset(tickets=helpdesk_frames()["tickets"].drop(columns=["is_complaint"]))
    assert K.skipped_kpis(none, kpis=["complaints"])["reason"].tolist() == [
        "needs tickets.is_complaint or a category 'complaint'"]
