"""The facts layer (kpitools.facts) against the per-KPI derivation it replaced and hand-worked values.

Independent sources: ``_old_*`` below are the former derivations of ``kpitools.kpis.responsiveness``
and ``kpitools.kpis._core.segment_frame`` (string ids joined with ``Series.map`` per KPI, as at
commit e0ed2da), kept here verbatim in substance; hand-worked values come from the stories of the
fixture in tests/kpi_fixtures.py (cut-off 2026-11-03 12:00 UTC, Europe/Berlin, Mon-Fri 09-17).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kpi_fixtures import helpdesk_dataset, helpdesk_frames

import kpitools
from kpitools import facts
from kpitools.facts import censor


# ----------------------------------------------------------------------------------------------
# the former derivations (reference)
# ----------------------------------------------------------------------------------------------
def _text(df):
    """ticket_events' Categorical text columns as ``str`` (the former derivations sorted the text)."""
    return df.astype({c: "str" for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})


def _old_events(ds):
    ev = _text(ds.ticket_events)
    order = {"customer_message": 0, "bot_message": 1, "internal_note": 2, "agent_reply": 3, "status_change": 4}
    e = ev.assign(_k=ev["kind"].map(order).astype("int64"))
    return e.sort_values(["ticket_id", "at", "_k"], kind="stable").drop(columns="_k").reset_index(drop=True)


def _old_ticket_facts(ds):
    t = ds.tickets.reset_index(drop=True)
    out = pd.DataFrame({"ticket_id": t["ticket_id"],
                        "created_at": pd.to_datetime(t["created_at"], utc=True).dt.as_unit("ns")})
    ev = _old_events(ds)
    tid = out["ticket_id"]
    cust = ev[ev["kind"] == "customer_message"]
    agent = ev[ev["kind"] == "agent_reply"]
    first_cust = tid.map(cust.groupby("ticket_id")["at"].min())
    first_agent = tid.map(agent.groupby("ticket_id")["at"].min())
    agent_opened = first_agent.notna() & (first_cust.isna() | (first_agent < first_cust))
    start = out["created_at"].where(~agent_opened, first_cust)
    a = agent[["ticket_id", "at"]].assign(start=agent["ticket_id"].map(pd.Series(start.array, index=tid)))
    a = a[a["at"] >= a["start"]]
    out["frt_start"] = pd.to_datetime(start, utc=True).dt.as_unit("ns")
    out["frt_end"] = pd.to_datetime(tid.map(a.groupby("ticket_id")["at"].min()), utc=True).dt.as_unit("ns")
    out["agent_opened"] = agent_opened.to_numpy(dtype=bool)
    out["replies"] = tid.map(agent.groupby("ticket_id").size()).fillna(0).astype("float64")
    agents = set(ev.loc[ev["kind"].isin(["agent_reply", "internal_note"]), "author_id"].dropna())
    if ds.has("agents"):
        agents |= set(ds.agents["agent_id"].dropna())
    st = ev["kind"] == "status_change"
    touch = ev["kind"].isin(["agent_reply", "internal_note"]) | (st & ev["author_id"].isin(list(agents)))
    out["touches"] = tid.map(ev[touch].groupby("ticket_id").size()).fillna(0).astype("float64")
    # resolution from status events
    s = ev.loc[(ev["kind"] == "status_change") & ev["status"].notna(), ["ticket_id", "at", "status"]]
    solved = s["status"].isin(("solved", "closed"))
    prev = solved.groupby(s["ticket_id"]).shift(1, fill_value=False).astype(bool)
    into, reopen = solved & ~prev, ~solved & prev
    last_into = s[into].groupby("ticket_id")["at"].max()
    last_solved = solved.groupby(s["ticket_id"]).last()
    final = last_into.where(last_solved.reindex(last_into.index).fillna(False).astype(bool))
    out["ev_first_resolved"] = pd.to_datetime(tid.map(s[into].groupby("ticket_id")["at"].min()), utc=True)
    out["ev_resolved"] = pd.to_datetime(tid.map(final), utc=True)
    out["ev_reopens"] = tid.map(reopen.groupby(s["ticket_id"]).sum()).fillna(0).astype("float64")
    return out


def _old_reply_waits(ds, resolved):
    ev = _old_events(ds)
    pub = ev.loc[ev["kind"].isin(["customer_message", "agent_reply"]), ["ticket_id", "at", "kind"]].reset_index(drop=True)
    is_cust = pub["kind"] == "customer_message"
    prev_kind = pub.groupby("ticket_id")["kind"].shift(1)
    starts = is_cust & (prev_kind.isna() | (prev_kind == "agent_reply"))
    next_agent = pub["at"].where(pub["kind"] == "agent_reply").groupby(pub["ticket_id"]).bfill()
    w = pd.DataFrame({"ticket_id": pub.loc[starts, "ticket_id"], "start": pub.loc[starts, "at"],
                      "end": next_agent[starts]}).reset_index(drop=True)
    res = w["ticket_id"].map(resolved)
    w = w[~(w["end"].isna() & res.notna() & (res <= ds.cutoff))].reset_index(drop=True)
    w["first"] = w.groupby("ticket_id").cumcount().eq(0).to_numpy()
    return w


def _old_borrowed_segment(ds, df, col):
    lookup = ds.tickets.drop_duplicates("ticket_id").set_index("ticket_id")[col]
    s = df["ticket_id"].map(lookup).astype("str")
    return s.where(s.notna() & (s != "") & (s != "<NA>") & (s != "nan"), "(missing)").astype("str")


def _no_resolution_columns(ds_factory=helpdesk_dataset):
    """The fixture without the tickets' resolution columns: resolutions come from status events."""
    t = helpdesk_frames()["tickets"].drop(columns=["first_resolved_at", "resolved_at", "reopen_count"])
    return ds_factory(tickets=t)


@pytest.fixture(scope="module")
def sample():
    return kpitools.load_dataset("data/sample")


@pytest.fixture(scope="module")
def hd():
    return helpdesk_dataset()


# ----------------------------------------------------------------------------------------------
# facts equal the former derivation
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["sample", "fixture", "fixture_no_resolution_columns"])
def test_ticket_facts_equal_former_derivation(which, sample, hd):
    ds = {"sample": sample, "fixture": hd}.get(which) or _no_resolution_columns()
    new = facts.of(ds).ticket
    old = _old_ticket_facts(ds)
    for c in ("ticket_id", "created_at", "frt_start", "frt_end", "agent_opened", "replies", "touches"):
        pd.testing.assert_series_equal(new[c], old[c], check_names=False)
    if which == "fixture_no_resolution_columns" or "resolved_at" not in ds.tickets.columns:
        pd.testing.assert_series_equal(new["first_resolved"], old["ev_first_resolved"], check_names=False)
        pd.testing.assert_series_equal(new["resolved"], old["ev_resolved"], check_names=False)
        np.testing.assert_array_equal(new["reopens"].to_numpy(), old["ev_reopens"].to_numpy())


@pytest.mark.parametrize("which", ["sample", "fixture"])
def test_reply_waits_equal_former_derivation(which, sample, hd):
    ds = sample if which == "sample" else hd
    f = facts.of(ds)
    resolved = f.ticket.set_index("ticket_id")["resolved"]
    old = _old_reply_waits(ds, resolved)
    pd.testing.assert_frame_equal(f.reply_waits, old)
    # the waits' ticket rows point at their own ticket
    tid = ds.tickets["ticket_id"].reset_index(drop=True)
    np.testing.assert_array_equal(tid.to_numpy()[f.reply_wait_pos], f.reply_waits["ticket_id"].to_numpy())


def test_borrowed_segments_equal_former_join(sample):
    f = facts.of(sample)
    s = sample.surveys.reset_index(drop=True)
    for col in ("priority", "team", "category"):
        got = f.segment("surveys", col)
        np.testing.assert_array_equal(got.to_numpy(), _old_borrowed_segment(sample, s, col).to_numpy())
        codes, levels = f.codes("surveys", col)
        assert list(levels) == sorted(levels)
        np.testing.assert_array_equal(levels.to_numpy()[codes], got.to_numpy())


def test_contact_facts_hand_values():
    # K1: answered 20 s after queueing, talk 280 s, no hold or wrap-up recorded -> handle 280 s
    from kpi_fixtures import cross_channel_dataset

    c = facts.of(cross_channel_dataset()).contacts
    assert c["answered"].all() and not c["abandoned"].any()
    np.testing.assert_allclose(c["wait_s"].to_numpy(), [30.0, 20.0, 60.0, 10.0])  # K4, K1, K2, K3
    np.testing.assert_allclose(c["handle_s"].to_numpy(), [540.0, 280.0, 300.0, 230.0])


# ----------------------------------------------------------------------------------------------
# hand-worked facts on the fixture
# ----------------------------------------------------------------------------------------------
def test_event_resolution_hand_values():
    f = facts.of(_no_resolution_columns()).ticket.set_index("ticket_id")
    # T2: solved Oct 28 10:05, reopened by the customer Oct 29 09:00, solved again 14:05
    assert f.loc["T2", "first_resolved"] == pd.Timestamp("2026-10-28T10:05:00Z")
    assert f.loc["T2", "resolved"] == pd.Timestamp("2026-10-29T14:05:00Z")
    assert f.loc["T2", "reopens"] == 1
    # T3: open -> on_hold -> open, never solved
    assert pd.isna(f.loc["T3", "first_resolved"]) and pd.isna(f.loc["T3", "resolved"])
    assert f.loc["T3", "reopens"] == 0
    # T3 is agent-opened (agent 09:00 before the customer's 12:00): the clock starts at 12:00
    assert bool(f.loc["T3", "agent_opened"]) and f.loc["T3", "frt_start"] == pd.Timestamp("2026-10-28T12:00:00Z")
    # touches of T2: note + 3 replies + 2 solves by a2 = 6 (the customer's reopening is no touch)
    assert f.loc["T2", "touches"] == 6


def test_reply_waits_hand_values(hd):
    w = facts.of(hd).reply_waits
    t2 = w[w["ticket_id"] == "T2"]
    # T2's three waits: 15:00 -> 16:40 (first), Oct 28 08:00 -> 10:00, Oct 29 09:00 -> 14:00
    assert list(t2["start"]) == [pd.Timestamp(x) for x in
                                 ("2026-10-27T15:00Z", "2026-10-28T08:00Z", "2026-10-29T09:00Z")]
    assert list(t2["end"]) == [pd.Timestamp(x) for x in
                               ("2026-10-27T16:40Z", "2026-10-28T10:00Z", "2026-10-29T14:00Z")]
    assert list(t2["first"]) == [True, False, False]
    # T4 (only a bot answered) and T7 wait unanswered and unresolved: kept, end missing
    assert w.loc[w["ticket_id"].isin(["T4", "T7"]), "end"].isna().all()
    assert len(w) == 10  # T1 1, T2 3, T3 1, T4 1, T5 1, T6 1, T7 1, T8 1


def test_status_intervals_hand_values(hd):
    iv = facts.of(hd).status_intervals
    t3 = iv[iv["ticket_id"] == "T3"].reset_index(drop=True)
    # T3: new 09:00-09:00 (first change at creation), open to Oct 29 10:00, on_hold to Oct 30
    # 10:00, open to the cut-off (still running)
    assert list(t3["status"]) == ["new", "open", "on_hold", "open"]
    assert t3.loc[2, "start"] == pd.Timestamp("2026-10-29T10:00Z") and t3.loc[2, "end"] == pd.Timestamp("2026-10-30T10:00Z")
    assert list(t3["open_end"]) == [False, False, False, True]
    assert t3.loc[3, "end"] == hd.cutoff


def test_facts_built_once(hd):
    f = facts.of(hd)
    assert facts.of(hd) is f
    assert f.ticket is f.ticket
    from kpitools.kpis.responsiveness import ticket_facts

    assert ticket_facts(hd) is f.ticket


# ----------------------------------------------------------------------------------------------
# the censoring rule
# ----------------------------------------------------------------------------------------------
CUT = pd.Timestamp("2026-11-03T12:00:00Z")


def _ts(*xs):
    return pd.Series(pd.to_datetime(list(xs), utc=True))


def test_censor_calendar_cases():
    start = _ts("2026-11-03T10:00Z", "2026-11-03T10:00Z", "2026-11-03T10:00Z", "2026-11-03T13:00Z", None)
    end = _ts("2026-11-03T11:00Z", None, "2026-11-03T13:00Z", "2026-11-03T14:00Z", "2026-11-03T11:00Z")
    dur, obs = censor(start, end, CUT)
    # ended 11:00: 3600 s observed; still open: 12:00 - 10:00 = 7200 s censored; ends after the
    # cut-off: censored at it (7200 s); starts after the cut-off: no duration; no start: none
    np.testing.assert_array_equal(dur, [3600.0, 7200.0, 7200.0, np.nan, np.nan])
    np.testing.assert_array_equal(obs, [True, False, False, False, True])


def test_censor_include_and_clock_per_span(hd):
    start = _ts("2026-10-27T15:00Z", "2026-10-27T15:00Z")
    end = _ts("2026-10-27T16:40Z", "2026-10-27T16:40Z")
    # T2's first response: 6000 s calendar; business (Mon-Fri 09-17 Berlin, UTC+1): 16:00-17:00 = 3600 s
    dur, obs = censor(start, end, CUT, np.array(["calendar", "business"], dtype=object), calendar=hd.calendar)
    np.testing.assert_array_equal(dur, [6000.0, 3600.0])
    assert obs.all()
    dur, _ = censor(start, end, CUT, "calendar", include=[True, False])
    np.testing.assert_array_equal(dur, [6000.0, np.nan])


def test_censor_errors():
    with pytest.raises(ValueError, match="clock must be one of"):
        censor(_ts("2026-11-03T10:00Z"), _ts(None), CUT, "wall")
    with pytest.raises(ValueError, match="needs calendar"):
        censor(_ts("2026-11-03T10:00Z"), _ts(None), CUT, "business")


# ----------------------------------------------------------------------------------------------
# kpi_table groups each table once
# ----------------------------------------------------------------------------------------------
def test_kpi_table_groups_each_table_once(monkeypatch):
    from kpi_fixtures import cross_channel_dataset

    import kpitools.kpis._core as core

    built = []
    original = core._build_cells

    def spy(f, table, when, period, by, ts):
        built.append((table, when, period, tuple(by), ts))
        return original(f, table, when, period, by, ts)

    monkeypatch.setattr(core, "_build_cells", spy)
    ds = cross_channel_dataset()
    res = kpitools.kpi_table(ds, period="M", by="channel")
    # every (table, timestamp, period, segments) cell index is built once for all declared KPIs
    assert len(built) == len(set(built))
    declared = {"ticket_volume": "tickets", "complaints": "tickets", "csat": "surveys", "nps": "surveys",
                "abandon_rate": "contacts", "service_level": "contacts", "chat_abandonment": "contacts"}
    done = set(res["kpi"])
    for table in set(declared.values()):
        names = [k for k, t in declared.items() if t == table and k in done]
        assert len(names) >= 2, (table, names)  # shared by at least two KPIs ...
        # ... and grouped once by these segments (the SLA KPIs group tickets by channel and priority)
        assert sum(b[0] == table and b[3] == ("channel",) for b in built) == 1
    # a second call reuses the cell index (built once per dataset)
    kpitools.kpi_table(ds, period="M", by="channel", kpis=["ticket_volume", "complaints"])
    assert len(built) == len(set(built))


def test_declared_kpi_counts_by_hand(hd):
    # ticket_volume by channel in October (Berlin): T1 email, T2 chat, T3 email, T4 web (23:30 local
    # on Oct 31), T8 phone -> chat 1, email 2, phone 1, web 1; November: T5 email, T6 chat (00:30
    # local Nov 1), T7 chat -> chat 2, email 1, phone 0, web 0
    r = kpitools.kpis.ticket_volume(hd, period="M", by="channel")
    got = {(str(p), c): v for p, c, v in zip(r["period"], r["channel"], r["value"], strict=True)}
    assert got == {("2026-10", "chat"): 1, ("2026-10", "email"): 2, ("2026-10", "phone"): 1, ("2026-10", "web"): 1,
                   ("2026-11", "chat"): 2, ("2026-11", "email"): 1, ("2026-11", "phone"): 0, ("2026-11", "web"): 0}
    # CSAT (top box 4-5): October 5, 3 -> 1/2; November 4, 2 (the 1-7 row left out) -> 1/2
    c = kpitools.kpis.csat(hd, period="M")
    assert list(c["numerator"]) == [1, 1] and list(c["denominator"]) == [2, 2]
    assert c["note"].iloc[1] == "1 answer(s) on another scale left out"


# ----------------------------------------------------------------------------------------------
# integer ids, codes and the events' order (the fast paths against pandas)
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_shuffled_events_sort_and_facts_equal_former_derivation(seed):
    # reference: the former sort_values on the text ids and the former per-KPI derivations
    ev = helpdesk_frames()["ticket_events"].sample(frac=1.0, random_state=seed).reset_index(drop=True)
    ds = helpdesk_dataset(ticket_events=ev)
    f = facts.of(ds)
    assert f.event_order is not None  # shuffled: the int64 lexsort path runs
    pd.testing.assert_frame_equal(_text(f.events), _old_events(ds))
    new, old = f.ticket, _old_ticket_facts(ds)
    for c in ("frt_start", "frt_end", "agent_opened", "replies", "touches"):
        pd.testing.assert_series_equal(new[c], old[c], check_names=False)
    resolved = new.set_index("ticket_id")["resolved"]
    pd.testing.assert_frame_equal(f.reply_waits, _old_reply_waits(ds, resolved))


def test_sorted_events_need_no_sort(hd):
    f = facts.of(hd)
    ordered = _old_events(hd)
    ds = helpdesk_dataset(ticket_events=ordered)
    assert facts.of(ds).event_order is None
    pd.testing.assert_frame_equal(_text(facts.of(ds).events), ordered)
    assert f.events is not None


def test_ticket_codes_of_equal_get_indexer(hd):
    # reference: pandas Index.get_indexer on the same ids (runs of equal ids, unknown and missing ids)
    f = facts.of(hd)
    known = list(f.ticket_index[:3])
    ids = pd.Series([known[0], known[0], "nope", None, known[2], known[2], known[2], known[1], "nope"], dtype="str")
    np.testing.assert_array_equal(f.ticket_codes_of(ids), f.ticket_index.get_indexer(ids))
    singles = pd.Series([known[1], known[0], None], dtype="str")  # no runs: one lookup per row
    np.testing.assert_array_equal(f.ticket_codes_of(singles), [1, 0, -1])
    as_object = pd.Series(ids.to_numpy(dtype=object), dtype=object)  # not Arrow text: get_indexer
    np.testing.assert_array_equal(f.ticket_codes_of(as_object), f.ticket_index.get_indexer(ids))


@pytest.mark.parametrize("kind", ["str", "category", "object", "Int64"])
def test_factorize_codes_point_at_their_values(kind):
    values = ["b", None, "a", "b", "c", None, "a"] if kind != "Int64" else [2, None, 1, 2, 3, None, 1]
    s = pd.Series(values, dtype=kind)
    codes, uniques = facts.factorize(s)
    assert codes.dtype == np.int64
    back = [None if c < 0 else uniques[c] for c in codes]
    assert back == [None if v is None else v for v in values]  # hand check: every code names its value
    assert (codes[[1, 5]] == -1).all()


def test_segment_codes_fold_text_of_distinct_values():
    # hand values: "" and missing both become "(missing)"; levels sorted as text; other tables borrow
    t = helpdesk_frames()["tickets"]
    t["channel"] = ["email", "", None, "chat", "email", "chat", "web", "email"][: len(t)] + ["email"] * (len(t) - 8)
    ds = helpdesk_dataset(tickets=t)
    f = facts.of(ds)
    codes, levels = f.codes("tickets", "channel")
    assert list(levels) == sorted({"(missing)"} | {c for c in t["channel"] if isinstance(c, str) and c})
    np.testing.assert_array_equal(levels.to_numpy()[codes], _old_borrowed_segment(ds, t, "channel").to_numpy())
    s = f.segment("surveys", "priority")
    np.testing.assert_array_equal(s.to_numpy(), _old_borrowed_segment(ds, f.table("surveys"), "priority").to_numpy())
