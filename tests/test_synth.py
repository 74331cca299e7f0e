"""Tests of kpitools.synth: determinism, the committed sample, realism and planted truth.

Realism checks read the written files with plain pandas (an implementation independent of the
generator's internal arrays); the loader is used only where the issue's criterion is about it
(the quality log must list exactly the truth's dirty rows).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpitools.calendar import BusinessCalendar
from kpitools.schema import TABLES
from kpitools.settings import Settings
from kpitools.synth import (
    HOLIDAYS_DE,
    _Clock,
    _days,
    _erlang_c,
    _erlang_required,
    _open_intervals,
    generate,
    make_sample,
    write_dataset,
)

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "data" / "sample"
TZ = "Europe/Berlin"


def _read(folder: Path, table: str) -> pd.DataFrame:
    for suf in (".csv", ".csv.gz"):
        p = folder / f"{table}{suf}"
        if p.exists():
            return pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    raise FileNotFoundError(table)


def _ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, errors="coerce", utc=True, format="ISO8601")


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The sample remade from scratch (about 5 s)."""
    out = tmp_path_factory.mktemp("sample")
    make_sample(out)
    return out


@pytest.fixture(scope="module")
def truth(sample) -> dict:
    return json.loads((sample / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def daily(sample) -> pd.Series:
    tk = _read(sample, "tickets")
    day = _ts(tk["created_at"]).dt.tz_convert(TZ).dt.tz_localize(None).dt.normalize().dropna()
    idx = pd.date_range("2025-04-01", "2026-10-31", freq="D")
    return day.value_counts().reindex(idx, fill_value=0)


# --------------------------------------------------------------------------------------------
# determinism
# --------------------------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    # reference: the bytes of a first run (sha256 of every file), compared with a second run
    kw = {"n_tickets": 3000, "start": "2025-04-01", "end": "2025-08-31"}
    a = generate(seed=11, **kw)
    write_dataset(a, tmp_path / "a")
    write_dataset(generate(seed=11, **kw), tmp_path / "b")
    write_dataset(generate(seed=12, **kw), tmp_path / "c")
    da, db, dc = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert da == db
    assert set(da) == set(dc)
    assert da["tickets.csv.gz"] != dc["tickets.csv.gz"]
    assert da["ticket_events.csv.gz"] != dc["ticket_events.csv.gz"]
    # about n_tickets: within 25 % of the request
    assert 2250 <= len(a.tables["tickets"]) <= 3750


def test_parquet_output_is_deterministic_and_loads(tmp_path):
    res = generate(n_tickets=2000, seed=4, start="2025-04-01", end="2025-07-31")
    write_dataset(res, tmp_path / "p1", fmt="parquet")
    write_dataset(res, tmp_path / "p2", fmt="parquet")
    assert _digest(tmp_path / "p1") == _digest(tmp_path / "p2")
    back = pd.read_parquet(tmp_path / "p1" / "tickets.parquet")
    # same rows as the in-memory table (pandas round trip is the reference)
    assert len(back) == len(res.tables["tickets"])
    assert list(back.columns) == list(res.tables["tickets"].columns)


def test_make_sample_reproduces_committed_sample_byte_for_byte(sample):
    if not COMMITTED.exists():
        pytest.skip("data/sample not committed yet")
    # reference: the committed files in data/sample. Compressed files are compared after
    # decompression: the gzip stream is deterministic on one machine (mtime 0, tested above),
    # but another zlib build may compress the identical text to other bytes.
    ours = sorted(p.name for p in sample.iterdir())
    assert ours == sorted(p.name for p in COMMITTED.iterdir() if not p.name.startswith("."))
    for name in ours:
        a, b = (sample / name).read_bytes(), (COMMITTED / name).read_bytes()
        if name.endswith(".gz"):
            a, b = gzip.decompress(a), gzip.decompress(b)
        assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest(), name


def test_sample_is_at_most_20_mb(sample):
    # reference: the limit for the committed sample
    total = sum(p.stat().st_size for p in sample.iterdir())
    assert total <= 20 * 1024**2


def test_bad_arguments_raise_value_errors(tmp_path):
    # reference: the messages name the parameter and what is allowed (style.md)
    with pytest.raises(ValueError, match="n_tickets"):
        generate(n_tickets=10)
    with pytest.raises(ValueError, match="at least 60 days"):
        generate(start="2026-01-01", end="2026-01-31")
    with pytest.raises(ValueError, match="fmt must be 'csv' or 'parquet'"):
        write_dataset(generate(n_tickets=500, seed=1, start="2025-04-01", end="2025-06-30"),
                      tmp_path, fmt="xlsx")


# --------------------------------------------------------------------------------------------
# contract
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("table", list(TABLES))
def test_every_table_carries_every_contract_column(sample, table):
    # reference: kpitools.schema.TABLES (the fixed data contract)
    df = _read(sample, table)
    assert len(df) > 0
    missing = [c for c in TABLES[table].names if c not in df.columns]
    assert missing == []
    assert [c for c in df.columns if c not in TABLES[table].names] == []


def test_dataset_yml_is_valid_settings(sample):
    s = Settings.from_yaml(sample / "dataset.yml")
    assert s.timezone == TZ and s.currency == "EUR"
    # real German public holidays, e.g. Easter Monday 2026 = 2026-04-06 (Easter Sunday 2026-04-05)
    assert {str(h) for h in s.holidays} >= {"2025-04-21", "2026-04-06", "2026-10-03", "2025-12-25"}
    assert s.weekly_hours["mon"] == [(8 * 3600, 12 * 3600), (13 * 3600, 18 * 3600)]
    assert s.sla("first_response", "urgent") == (3600.0, "business")
    assert s.exported_at == pd.Timestamp("2026-11-02T07:00:00Z")


# --------------------------------------------------------------------------------------------
# time helpers against independent implementations
# --------------------------------------------------------------------------------------------
def test_business_clock_matches_kpitools_calendar():
    # reference: kpitools.calendar.BusinessCalendar (written independently) measures exactly the
    # business seconds that _Clock.add advanced, and the result lies in opening hours
    weekly = {"mon": [("08:00", "12:00"), ("13:00", "18:00")], "tue": [("08:00", "12:00"), ("13:00", "18:00")],
              "wed": [("08:00", "12:00"), ("13:00", "18:00")], "thu": [("08:00", "12:00"), ("13:00", "18:00")],
              "fri": [("08:00", "12:00"), ("13:00", "18:00")], "sat": [("10:00", "14:00")]}
    cal = BusinessCalendar(weekly, holidays=HOLIDAYS_DE, timezone=TZ)
    days = _days("2025-03-20", "2025-11-30", TZ, HOLIDAYS_DE)
    s, e, _, _ = _open_intervals(days)
    clock = _Clock(s, e)
    rng = np.random.default_rng(0)
    t = days.mid[0] + rng.integers(0, 200 * 86400, 4000)  # spans both DST changes of 2025
    x = rng.integers(1, 40 * 3600, 4000)
    out = clock.add(t, x)
    start = pd.to_datetime(t, unit="s", utc=True)
    end = pd.to_datetime(out, unit="s", utc=True)
    np.testing.assert_array_equal(cal.duration(start, end), x.astype(float))
    assert cal.is_open(end).all()


def test_erlang_c_matches_statistics_reference():
    # docs/methods.md#erlang-c: 100 calls per 30 min, AHT 180 s (A = 10): N = 13 -> P_wait 0.2853,
    # N = 14 -> P_wait 0.1741; SL(20 s) 0.7956 at 13, 0.8884 at 14, so 80/20 needs 14 agents
    p = _erlang_c(np.array([13, 14]), np.array([10.0, 10.0]))
    np.testing.assert_allclose(p, [0.2853, 0.1741], atol=5e-5)
    assert _erlang_required(np.array([10.0]), 180.0, target=0.8, t=20.0)[0] == 14
    assert _erlang_c(np.array([3]), np.array([3.5]))[0] == 1.0  # N <= A: everyone waits


# --------------------------------------------------------------------------------------------
# realism
# --------------------------------------------------------------------------------------------
def test_monthly_volume_and_weekday_weekend_ratio(daily):
    monthly = daily.groupby(daily.index.to_period("M")).sum()
    # the brief: about 1,300-1,700 tickets a month on average
    assert 1300 <= monthly.mean() <= 1700
    wd = daily[daily.index.day_of_week < 5].mean()
    we = daily[daily.index.day_of_week >= 5].mean()
    # hand check on the plan: weekday factors ~1.0 vs weekend 0.22-0.30 -> ratio ~3.5-4
    assert wd / we > 2.5


def test_holidays_are_quieter(daily):
    # reference: the German holiday dates (HOLIDAYS_DE, checked against the published calendar
    # in test_dataset_yml_is_valid_settings); planned holiday factor 0.30 of a weekday
    hol = pd.to_datetime([h for h in HOLIDAYS_DE if "2025-04-01" <= h <= "2026-10-31"])
    hol = hol[hol.day_of_week < 5]
    ordinary = daily[(daily.index.day_of_week < 5) & ~daily.index.isin(hol)]
    assert daily[hol].mean() < 0.6 * ordinary.mean()


def _excess(daily: pd.Series, start: pd.Timestamp, days: int) -> tuple[float, float]:
    """Observed and weekday-matched expected tickets in [start, start + days), baseline = median
    of the same weekday over the 28 days before ``start``."""
    win = daily[start:start + pd.Timedelta(days=days - 1)]
    base = daily[start - pd.Timedelta(days=28):start - pd.Timedelta(days=1)]
    med = base.groupby(base.index.day_of_week).median()
    expected = med.reindex(win.index.day_of_week).to_numpy().sum()
    return float(win.sum()), float(expected)


def test_launch_effects_are_as_recorded_in_truth(daily, truth):
    # reference: truth.json; observed daily totals over 14 days from the launch against a
    # weekday-matched median of the 28 days before (an event-study baseline, docs/methods.md#event-study)
    assert 10 <= len(truth["launches"]) <= 14
    effects = [la for la in truth["launches"] if la["effect"]]
    quiet = [la for la in truth["launches"] if not la["effect"]]
    assert len(effects) >= 5 and len(quiet) >= 3
    for la in truth["launches"]:
        days = 14
        obs, exp = _excess(daily, pd.Timestamp(la["launch_date"]), days)
        if la["effect"]:
            assert la["excess_total"] > 0 and 0 <= la["lag_days"] <= 3 and la["peak_extra"] > 0
            assert obs > 1.08 * exp, la["launch_id"]
        else:
            assert la["excess_total"] == 0
            assert obs < 1.08 * exp, la["launch_id"]


def test_incidents_are_visible_spikes(daily, truth):
    # reference: truth.json incident dates; the day's count against the weekday-matched baseline
    assert 1 <= len(truth["incidents"]) <= 4
    for inc in truth["incidents"]:
        obs, exp = _excess(daily, pd.Timestamp(inc["date"]), 1)
        assert obs > 2 * exp and inc["extra_tickets"] > 0


def test_abandonment_rises_when_understaffed(sample):
    # reference: the staffing plan in staffing.csv.gz (staffed < Erlang-required agents) joined
    # to the contacts by 30-minute interval; abandonment = abandoned / queued (docs/methods.md#contact-centre)
    c = _read(sample, "contacts")
    st = _read(sample, "staffing")
    q = _ts(c["queued_at"])
    c = c.assign(slot=q.dt.floor("30min"), ab=c["abandoned"] == "True").dropna(subset=["slot"])
    st = st.assign(slot=_ts(st["interval_start"]),
                   under=st["staffed_agents"].astype(float) < st["required_agents"].astype(float))
    m = c.merge(st[["slot", "channel", "under"]], on=["slot", "channel"], how="left", validate="m:1")
    assert m["under"].notna().all()  # every contact falls in a staffed interval
    rate = m.groupby("under")["ab"].mean()
    assert 0.03 < rate[False] < 0.12
    assert rate[True] > 2.5 * rate[False]
    assert 0.05 < st["under"].mean() < 0.25


def test_first_responses_land_in_opening_hours(sample):
    # reference: kpitools.calendar.BusinessCalendar.is_open on the dataset's own settings
    tk = _read(sample, "tickets")
    cal = BusinessCalendar.from_settings(Settings.from_yaml(sample / "dataset.yml"))
    written = tk[tk["channel"].isin(["email", "web", "social"]) & tk["first_response_at"].notna()]
    fr = _ts(written["first_response_at"])
    assert len(fr) > 10_000
    assert cal.is_open(fr).all()


def test_ticket_fields_agree_with_events(sample):
    # an independent re-derivation with pandas groupby of what the helpdesk stores on tickets
    tk = _read(sample, "tickets")
    ev = _read(sample, "ticket_events")
    created, resolved = _ts(tk["created_at"]), _ts(tk["resolved_at"])
    tk = tk[~tk["ticket_id"].duplicated(keep="first") & created.notna() & ~(resolved < created)]
    ev = ev.assign(at=_ts(ev["at"])).dropna(subset=["at"])
    ev = ev[ev["ticket_id"].isin(tk["ticket_id"])].sort_values(["ticket_id", "at"], kind="stable")
    t = tk.set_index("ticket_id")
    first_cm = ev[ev["kind"] == "customer_message"].groupby("ticket_id")["at"].min()
    rep = ev[ev["kind"] == "agent_reply"].join(first_cm.rename("fcm"), on="ticket_id")
    frt = rep[rep["at"] >= rep["fcm"]].groupby("ticket_id")["at"].min()
    got = _ts(t["first_response_at"]).dropna()
    assert got.index.equals(frt.sort_index().index) or set(got.index) == set(frt.index)
    assert (got.reindex(frt.index) == frt).all()
    replies = ev[ev["kind"] == "agent_reply"].groupby("ticket_id").size()
    assert (t["agent_replies"].astype(int).reindex(replies.index) == replies).all()
    assert (t["agent_replies"].astype(int).drop(replies.index) == 0).all()
    sc = ev[ev["kind"] == "status_change"]
    solved = sc[sc["status"] == "solved"].groupby("ticket_id")["at"].min()
    assert (_ts(t["first_resolved_at"]).dropna().sort_index() == solved.sort_index()).all()
    prev = sc.groupby("ticket_id")["status"].shift()
    reopens = sc[(prev == "solved") & (sc["status"] == "open")].groupby("ticket_id").size()
    rc = t["reopen_count"].astype(int)
    assert (rc.reindex(reopens.index) == reopens).all() and rc.sum() == reopens.sum()
    last = sc.groupby("ticket_id").tail(1).set_index("ticket_id")
    final = last.loc[last["status"] == "solved", "at"]
    assert (_ts(t["resolved_at"]).dropna().sort_index() == final.sort_index()).all()
    assert (t.loc[last.index, "status"] == last["status"]).all()
    # bot messages and internal notes precede first responses without counting as one
    early = ev[ev["kind"].isin(["bot_message", "internal_note"])].groupby("ticket_id")["at"].min()
    both = early.index.intersection(frt.index)
    assert (early[both] < frt[both]).sum() > 1000
    # agent-initiated tickets: the clock starts at the customer's first message
    opened = ev.groupby("ticket_id").head(1)
    proactive = opened.loc[opened["kind"] == "agent_reply", "ticket_id"]
    answered = frt.index.intersection(proactive)
    assert len(answered) > 50
    assert (frt[answered] > first_cm[answered]).all()


def test_censoring_at_export_time(sample):
    # reference: exported_at in dataset.yml (2026-11-02 08:00 CET = 07:00 UTC)
    s = Settings.from_yaml(sample / "dataset.yml")
    cut = s.exported_at
    tk = _read(sample, "tickets")
    ev = _read(sample, "ticket_events")
    assert _ts(ev["at"]).max() <= cut
    created = _ts(tk["created_at"])
    late = tk[created >= cut - pd.Timedelta(days=3)]
    assert late["resolved_at"].isna().sum() >= 20  # still open at export
    assert late["first_response_at"].isna().sum() >= 5  # not even answered


def test_surveys_response_rates_and_scales(sample):
    # reference: survey_sends (the denominator of response rates) and the declared scales
    sv = _read(sample, "surveys")
    sd = _read(sample, "survey_sends")
    sv = sv.assign(score=sv["score"].astype(float))
    csat = sv[sv["survey"] == "csat"]
    rr = len(csat) / (sd["survey"] == "csat").sum()
    assert 0.2 <= rr <= 0.3  # the brief: CSAT response rate 20-30 %
    ok = csat[csat["score"] <= 5]
    assert set(ok["score"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert ok.loc[ok["score"] <= 2, "comment_category"].notna().all()
    for kind, lo, hi in (("nps", 0, 10), ("ces", 1, 7), ("esat", 1, 5), ("qa", 0, 1)):
        sc = sv.loc[sv["survey"] == kind, "score"]
        assert len(sc) > 100, kind
        assert ((sc >= lo) & (sc <= hi)).mean() > 0.99, kind


def test_business_tables_are_coherent(sample):
    # reference: set differences of customers between consecutive months (churn and new
    # customers), utilisation = handle / staffed (docs/methods.md#contact-centre), the brief's 2,000-4,000 customers
    subs = _read(sample, "subscriptions")
    per_month = subs.groupby("month")["customer_id"].nunique()
    assert len(per_month) == 19 and 2000 <= per_month.min() and per_month.max() <= 4000
    ids = subs.groupby("month")["customer_id"].apply(set)
    churned = [len(ids.iloc[i] - ids.iloc[i + 1]) for i in range(len(ids) - 1)]
    new = [len(ids.iloc[i + 1] - ids.iloc[i]) for i in range(len(ids) - 1)]
    assert min(churned) > 0 and min(new) > 0
    costs = _read(sample, "costs")
    assert {"salaries", "tools", "training", "outsourcing"} <= set(costs["category"])
    ad = _read(sample, "agent_days").astype({"staffed_s": float, "handle_s": float})
    ad = ad[ad["staffed_s"] > 0]
    util = ad.groupby("agent_id")["handle_s"].sum() / ad.groupby("agent_id")["staffed_s"].sum()
    assert (util > 0.7).sum() >= 2 and (util < 1.0).all()
    agents = _read(sample, "agents")
    assert agents["left_at"].notna().sum() >= 1
    assert (_ts(agents["hired_at"]) > pd.Timestamp("2025-04-01", tz="UTC")).sum() >= 1
    ua = _read(sample, "user_activity").groupby("date").size()
    assert 100 <= ua.mean() <= 600
    assert not _read(sample, "user_activity").duplicated().any()


# --------------------------------------------------------------------------------------------
# dirty rows
# --------------------------------------------------------------------------------------------
def test_dirty_rows_exist_at_stated_rows(sample, truth):
    # reference: the written files read back with pandas; row = 1-based data row (iloc + 1)
    rows = truth["dirty_rows"]
    assert 10 <= len(rows) <= 25
    kinds = {r["reason"] for r in rows}
    assert kinds == {"unparseable", "out_of_scale", "duplicate_id", "resolved_before_created",
                     "unknown_ticket", "negative_duration"}
    cache: dict[str, pd.DataFrame] = {}
    for r in rows:
        df = cache.setdefault(r["table"], _read(sample, r["table"]))
        assert df.iloc[r["row"] - 1][r["column"]] == r["value"], r
        if r["reason"] == "duplicate_id":
            first = np.flatnonzero(df[r["column"]].to_numpy() == r["value"])
            assert len(first) == 2 and first[1] == r["row"] - 1


def test_loader_quality_log_equals_truth(sample, truth):
    # reference: the project's loader (kpitools.io), which must exclude exactly the planted rows
    from kpitools.io import load_dataset

    ds = load_dataset(sample)
    got = set(zip(ds.quality["file"], ds.quality["row"], ds.quality["column"], ds.quality["reason"],
                  strict=True))
    want = {(r["file"], r["row"], r["column"], r["reason"]) for r in truth["dirty_rows"]}
    assert got == want
    # an invalid value of an optional column (resolved_at before created_at, a negative talk_s)
    # loses just that value; the row stays (issue 10). Every other planted row is excluded.
    optional = ds.quality["column"].isin(["resolved_at", "talk_s"])
    assert set(ds.quality.loc[optional, "action"]) == {"set to missing"}
    assert set(ds.quality.loc[~optional, "action"]) == {"excluded"}
    row = next(r for r in truth["dirty_rows"] if r["reason"] == "resolved_before_created")
    tid = _read(sample, "tickets").iloc[row["row"] - 1]["ticket_id"]
    kept = ds.tickets[ds.tickets["ticket_id"] == tid]
    assert len(kept) == 1 and kept["resolved_at"].isna().all()


def test_escalations_complaints_and_repeat_contacts(sample):
    # reference: plain pandas on tickets.csv.gz
    tk = _read(sample, "tickets")
    tk = tk[~tk["ticket_id"].duplicated() & _ts(tk["created_at"]).notna()]
    esc = tk["escalated"] == "True"
    assert 0.05 < esc.mean() < 0.15
    assert (tk.loc[esc, "team"] == "tier2").all()  # escalated tickets end with tier 2
    assert 0.01 < (tk["is_complaint"] == "True").mean() < 0.08
    # repeat contacts: a ticket by the same customer within 7 days after that customer's
    # previous ticket (docs/methods.md#quality-and-outcome, repeat contacts), computed with a plain groupby diff
    known = tk.dropna(subset=["customer_id"]).assign(t=lambda x: _ts(x["created_at"]))
    known = known.sort_values(["customer_id", "t"])
    gap = known.groupby("customer_id")["t"].diff()
    share = (gap <= pd.Timedelta(days=7)).mean()
    assert 0.08 < share < 0.35


def test_planted_agent_differences(sample, truth):
    # reference: truth notes (planted agents); business-time FRT by kpitools.calendar
    tk = _read(sample, "tickets")
    tk = tk[~tk["ticket_id"].duplicated() & _ts(tk["created_at"]).notna()]
    cal = BusinessCalendar.from_settings(Settings.from_yaml(sample / "dataset.yml"))
    t1 = tk[(tk["team"] == "tier1") & tk["channel"].isin(["email", "web", "social"])]
    frt = pd.Series(cal.duration(_ts(t1["created_at"]), _ts(t1["first_response_at"])), index=t1.index)
    med = frt.groupby(t1["agent_id"]).median()
    slow = truth["notes"]["planted_slow_agent"]
    # the slow agent (speed x1.8) answers later, in business time, than the median tier-1 agent
    assert med[slow] > 1.25 * med.drop(slow).median()
    sv = _read(sample, "surveys")
    cs = sv[(sv["survey"] == "csat")].assign(score=lambda x: x["score"].astype(float))
    cs = cs[cs["score"] <= 5]
    top2 = (cs["score"] >= 4).groupby(cs["agent_id"]).mean()
    weak = truth["notes"]["planted_low_quality_agent"]
    assert top2[weak] < top2.drop(weak).median() - 0.08


@pytest.mark.parametrize("dirty", [False, True])
def test_loader_quality_at_another_seed_and_scale(tmp_path, dirty):
    # reference: kpitools.io.load_dataset; clean data must raise no quality issue at all, and
    # the planted rows must be found exactly, whatever the seed and volume
    from kpitools.io import load_dataset

    res = generate(n_tickets=2500, seed=7, start="2025-09-01", end="2026-01-31", dirty=dirty)
    write_dataset(res, tmp_path)
    q = load_dataset(tmp_path).quality
    got = set(zip(q["file"], q["row"], q["column"], q["reason"], strict=True))
    want = {(r["file"], r["row"], r["column"], r["reason"]) for r in res.truth["dirty_rows"]}
    assert got == want
    assert (len(want) > 0) == dirty


# ---------------------------------------------------------------------------- typed Parquet
_PQ_KW = {"n_tickets": 3000, "seed": 21, "start": "2025-04-01", "end": "2025-08-31"}


@pytest.fixture(scope="module")
def pq_pair(tmp_path_factory) -> tuple[Path, Path]:
    """The same small dataset written as CSV (write_dataset) and as typed Parquet (synth_to)."""
    from kpitools.synth import synth_to

    base = tmp_path_factory.mktemp("pq")
    write_dataset(generate(**_PQ_KW), base / "csv")
    synth_to(base / "pq", fmt="parquet", **_PQ_KW)
    return base / "csv", base / "pq"


def test_parquet_columns_have_the_contract_types(pq_pair):
    # reference: the contract dtypes of kpitools.schema.TABLES mapped to Arrow types by hand
    import pyarrow as pa
    import pyarrow.parquet as pq

    want = {"timestamp": pa.timestamp("ns", tz="UTC"), "date": pa.date32(), "int": pa.int64(),
            "float": pa.float64(), "bool": pa.bool_(), "month": pa.string()}
    _, pqdir = pq_pair
    for table, spec in TABLES.items():
        path = pqdir / f"{table}.parquet"
        if not path.exists():
            continue
        schema = pq.read_schema(path)
        for c in spec.columns:
            if c.name not in schema.names:
                continue
            got = schema.field(c.name).type
            if c.dtype == "string":
                expect = pa.dictionary(pa.int32(), pa.string()) if c.categorical else pa.string()
                # an all-empty string column (surveys.scale) is written as strings too
                assert got == expect, (table, c.name, got)
            else:
                assert got == want[c.dtype], (table, c.name, got)


def test_parquet_holds_the_csv_rows_and_values(pq_pair):
    # reference: the CSV files of write_dataset read with plain pandas (text parsed by
    # pandas.to_datetime), compared value by value with the typed Parquet of synth_to
    import pyarrow.parquet as pq

    csvdir, pqdir = pq_pair
    for table, spec in TABLES.items():
        if not (pqdir / f"{table}.parquet").exists():
            continue
        a = _read(csvdir, table)
        b = pq.read_table(pqdir / f"{table}.parquet").to_pandas()
        assert len(a) == len(b) and list(a.columns) == list(b.columns), table
        assert pq.ParquetFile(pqdir / f"{table}.parquet").metadata.num_rows == len(a)
        for c in a.columns:
            dt = spec.column(c).dtype if c in spec.names else "string"
            x, y = a[c], b[c]
            if dt == "timestamp":  # unparseable planted text -> missing in the typed column
                assert _ts(x).astype("datetime64[ns, UTC]").equals(y), (table, c)
            elif dt == "date":
                assert (pd.to_datetime(x).dt.date == y).all(), (table, c)
            elif dt in ("int", "float"):
                np.testing.assert_array_equal(x.astype(float).to_numpy(), y.astype(float).to_numpy())
            elif dt == "bool":
                xs = x.map({"True": True, "False": False})
                assert xs.isna().equals(y.isna()) and (xs[xs.notna()] == y[y.notna()]).all(), (table, c)
            else:
                ys = y.astype("str")
                assert x.isna().equals(ys.isna()) and (x[x.notna()] == ys[ys.notna()]).all(), (table, c)


def test_parquet_month_row_groups_and_dirty_rows_of_truth(pq_pair):
    # reference: the CSV truth.json of the same seed; only the planted unparseable timestamps
    # change, to missing required values (a typed column cannot hold the text)
    import pyarrow.parquet as pq

    from kpitools.io import load_dataset

    csvdir, pqdir = pq_pair
    tc = json.loads((csvdir / "truth.json").read_text())["dirty_rows"]
    tp = json.loads((pqdir / "truth.json").read_text())["dirty_rows"]
    assert [(r["table"], r["row"], r["column"]) for r in tc] == \
        [(r["table"], r["row"], r["column"]) for r in tp]
    assert [r["reason"] for r in tp] == \
        ["missing_required" if r["reason"] == "unparseable" else r["reason"] for r in tc]
    # 5 months of data: tickets written in at least one row group per month
    assert pq.ParquetFile(pqdir / "tickets.parquet").metadata.num_row_groups >= 5
    q = load_dataset(pqdir).quality
    got = set(zip(q["file"], q["row"], q["column"], q["reason"], strict=True))
    assert got == {(r["file"], r["row"], r["column"], r["reason"]) for r in tp}


def test_synth_to_csv_equals_write_dataset(tmp_path, pq_pair):
    # reference: the bytes written by write_dataset(generate(...)) for the same arguments
    from kpitools.synth import synth_to

    csvdir, _ = pq_pair
    synth_to(tmp_path, fmt="csv", **_PQ_KW)
    assert _digest(tmp_path) == _digest(csvdir)


# ---------------------------------------------------------------------------- sharded Parquet
_SH_KW = dict(_PQ_KW, n_tickets=3000)


@pytest.fixture(scope="module")
def sharded(tmp_path_factory) -> Path:
    """The Parquet dataset of _PQ_KW forced into 3 shards of at most 1,000 tickets."""
    from kpitools.synth import synth_to

    out = tmp_path_factory.mktemp("sharded")
    synth_to(out, fmt="parquet", shard_tickets=1000, **_SH_KW)
    return out


def _pq(folder: Path, table: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.read_table(folder / f"{table}.parquet").to_pandas()


def test_one_shard_or_less_is_the_unsharded_output(tmp_path, pq_pair):
    # reference: the bytes of synth_to without sharding (the default shard size is far above)
    from kpitools.synth import synth_to

    _, pqdir = pq_pair
    synth_to(tmp_path, fmt="parquet", shard_tickets=_SH_KW["n_tickets"], **_SH_KW)
    assert _digest(tmp_path) == _digest(pqdir)


def test_shards_have_disjoint_ids_and_rows_that_add_up(sharded):
    # reference: the shard sizes recorded in truth.json plus the planted dirty rows, counted by
    # hand from truth["dirty_rows"]; uniqueness checked with pandas on the written files
    truth = json.loads((sharded / "truth.json").read_text())
    shards = truth["notes"]["shards"]
    assert len(shards) == 3 and len({s["seed"] for s in shards}) == 3
    assert abs(sum(s["tickets"] for s in shards) - 3000) < 300  # ~n_tickets, as unsharded
    planted = pd.DataFrame(truth["dirty_rows"])
    per_table = planted.groupby("table").size()
    tk = _pq(sharded, "tickets")
    # 2 unparseable + 1 resolved-before-created + 2 duplicates are extra rows
    assert len(tk) == sum(s["tickets"] for s in shards) + per_table["tickets"] == \
        sum(s["tickets"] for s in shards) + 5
    dup = planted[(planted["table"] == "tickets") & (planted["reason"] == "duplicate_id")]
    assert tk["ticket_id"].duplicated().sum() == len(dup) == 2
    # the rows of each shard form one block; the blocks' ids do not overlap
    cut = np.cumsum([0] + [s["tickets"] for s in shards])
    clean = tk[~tk["ticket_id"].isin(dup["value"])]
    num = clean["ticket_id"].str[1:].astype(int).to_numpy()
    blocks = [num[cut[i]:cut[i + 1]] for i in range(3)]
    assert blocks[0].max() < blocks[1].min() and blocks[1].max() < blocks[2].min()
    ct = _pq(sharded, "contacts")
    assert ct["contact_id"].duplicated().sum() == 1  # the planted duplicate contact
    sv = _pq(sharded, "surveys")
    assert sv["response_id"].duplicated().sum() == 1  # the planted duplicate response
    ag = _pq(sharded, "agents")
    assert ag["agent_id"].is_unique and len(ag) == len(truth["notes"]["utilisation_by_agent"])
    assert set(truth["notes"]["planted_slow_agents"]) <= set(ag["agent_id"])
    assert set(tk["agent_id"].dropna()) <= set(ag["agent_id"])
    subs = _pq(sharded, "subscriptions")
    assert not subs.duplicated(["customer_id", "month"]).any()
    assert set(tk["customer_id"].dropna()) <= set(subs["customer_id"])
    ad = _pq(sharded, "agent_days")
    assert not ad[ad["staffed_s"] >= 0].duplicated(["agent_id", "date"]).any()
    ev = _pq(sharded, "ticket_events")
    ghosts = set(ev["ticket_id"]) - set(tk["ticket_id"])
    assert len(ghosts) == 2  # the planted unknown_ticket events
    ua = _pq(sharded, "user_activity")
    assert not ua.duplicated(["user_id", "date"]).any()


def test_keyed_tables_are_summed_over_shards(sharded):
    # reference: one row per key (months x 5 cost categories, days, intervals x 2 queues) and
    # the fixed cost parts written once for the organisation: tools = 450 + 95 x agents
    # working in the month, counted by hand from agent_days (the generator's cost model)
    truth = json.loads((sharded / "truth.json").read_text())
    costs = _pq(sharded, "costs")
    assert len(costs) == 5 * 5 and not costs.duplicated(["month", "category"]).any()
    ad = _pq(sharded, "agent_days")
    ad = ad[ad["staffed_s"] >= 0]
    heads = ad.assign(m=pd.to_datetime(ad["date"]).dt.strftime("%Y-%m")) \
        .drop_duplicates(["agent_id", "m"]).groupby("m").size()
    tools = costs[costs["category"] == "tools"].set_index("month")["amount"]
    np.testing.assert_allclose(tools.reindex(heads.index).to_numpy(), 450 + 95 * heads.to_numpy(),
                               atol=0.02)
    # salaries = staffed hours x hourly cost, summed over all shards' agents
    hourly = _pq(sharded, "agents").set_index("agent_id")["hourly_cost"]
    sal = (ad["staffed_s"] / 3600 * ad["agent_id"].map(hourly).to_numpy()) \
        .groupby(pd.to_datetime(ad["date"]).dt.strftime("%Y-%m")).sum()
    got = costs[costs["category"] == "salaries"].set_index("month")["amount"].reindex(sal.index)
    np.testing.assert_allclose(got.to_numpy(), sal.to_numpy(), atol=0.05)
    web = _pq(sharded, "web_days")
    assert len(web) == 153 and web["date"].is_unique  # 2025-04-01 .. 2025-08-31
    assert (web["self_service_resolved"] <= web["self_service_sessions"]).all()
    st = _pq(sharded, "staffing")
    assert not st.duplicated(["interval_start", "channel"]).any()
    one = generate(**dict(_SH_KW, n_tickets=1000), dirty=False).tables["staffing"]
    assert len(st) == len(one)  # the same interval grid as one shard
    under = st["staffed_agents"] < st["required_agents"]
    assert truth["notes"]["understaffed_interval_share"] == round(float(under.mean()), 4)
    assert len(_pq(sharded, "launches")) == len(truth["launches"])
    assert [la["launch_id"] for la in truth["launches"]] == _pq(sharded, "launches")["launch_id"].tolist()


def test_sharded_dataset_loads_with_exactly_the_planted_rows(sharded):
    # reference: truth.json's dirty rows (the loader must find exactly those); abandonment
    # recounted from the loaded contacts, understaffed intervals from the loaded staffing
    from kpitools.io import load_dataset

    truth = json.loads((sharded / "truth.json").read_text())
    ds = load_dataset(sharded)
    q = ds.quality
    got = set(zip(q["file"], q["row"], q["column"], q["reason"], strict=True))
    assert got == {(r["file"], r["row"], r["column"], r["reason"]) for r in truth["dirty_rows"]}
    ct = ds.tables["contacts"]
    assert truth["notes"]["abandon_rate"] == round(float(ct["abandoned"].astype(bool).mean()), 4)
    st = ds.tables["staffing"]
    under = st.loc[st["staffed_agents"] < st["required_agents"], ["interval_start", "channel"]]
    start = ct["queued_at"].dt.floor("30min")
    key = pd.MultiIndex.from_arrays([start, ct["channel"].astype(str)])
    ukey = pd.MultiIndex.from_arrays([under["interval_start"], under["channel"].astype(str)])
    in_under = key.isin(ukey)
    if in_under.any():
        want = round(float(ct["abandoned"].astype(bool)[in_under].mean()), 4)
        assert truth["notes"]["abandon_rate_understaffed"] == want
    assert truth["seed"] == _SH_KW["seed"]
