"""Nothing leaves silently (issue 10): for every table, the n of each KPI plus the rows logged as
excluded equals the rows in the file.

The identity, stated precisely. Each case below names a KPI, its main table and its
*population*: the rows of that table the KPI counts, described by a test on the raw file text
(read here with ``dtype=str``, independently of the loader).

    sum over periods of n (``period="M"``, ``by=None``)
        + rows of the population logged in ``ds.quality`` as excluded
        + rows of the population whose defining value was logged as "set to missing"
      = rows of the population in the file

For a KPI whose population is every row of its table (``ticket_volume``, the n of a duration
KPI, which counts censored tickets too) the right-hand side is ``ds.input_rows[table]``. Survey
KPIs count the answers of one survey kind (``csat``, ``nps`` ...), so the population is the rows
of that kind. Narrower populations (resolved tickets, answered contacts, tickets with a known
escalation flag ...) are listed with each case. The repeat-contact KPIs (fcr,
repeat_contact_rate and their contact-centre twins) count rows with a ``customer_id``; the rows
without one are shown in their ``unknown_customer`` column, which is checked the same way, so
n + unknown_customer + excluded = rows in the file.

Tables without a KPI whose n counts their rows are listed in :data:`NO_ROW_KPI` with the reason,
so that every table of the contract is either checked or explicitly accounted for.

Two datasets: a small hand-made export (written to CSV files below) with deliberately bad rows
in every table it has, and data/sample.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import kpitools
from kpitools.io import load_dataset
from kpitools.schema import TABLES

FALSE = ("false", "no", "0", "f", "n")
TRUE = ("true", "yes", "1", "t", "y")


def _filled(raw: pd.DataFrame, col: str) -> pd.Series:
    if col not in raw.columns:
        return pd.Series(False, index=raw.index)
    return raw[col].str.strip() != ""


def _is(raw: pd.DataFrame, col: str, values) -> pd.Series:
    return raw[col].str.strip().str.lower().isin(values)


def _resolved_by_cutoff(raw: pd.DataFrame, ds) -> pd.Series:
    at = pd.to_datetime(raw["first_resolved_at"].where(_filled(raw, "first_resolved_at")), utc=True,
                        errors="coerce", format="ISO8601")
    return at.notna() & (at <= ds.cutoff)


@dataclass(frozen=True)
class Case:
    kpi: str
    table: str
    population: str
    rows: Callable  # (raw frame, ds) -> bool Series: the population
    columns: tuple[str, ...] = ()  # columns whose "set to missing" takes a row out of the population
    count: str = "n"  # output column summed
    options: tuple = ()

    @property
    def id(self) -> str:
        return f"{self.table}:{self.kpi}" + (f":{self.count}" if self.count != "n" else "")


def _all(raw, ds):
    return pd.Series(True, index=raw.index)


def _kind(kind):
    def rows(raw, ds):
        return raw["survey"].str.strip().str.lower() == kind
    return rows


CASES = [
    # tickets
    Case("ticket_volume", "tickets", "every ticket", _all),
    Case("resolution_rate", "tickets", "every ticket (denominator: tickets created)", _all),
    Case("first_resolution_time", "tickets", "every ticket (open ones censored)", _all),
    Case("full_resolution_time", "tickets", "every ticket (open ones censored)", _all),
    Case("resolved", "tickets", "tickets first resolved by the cut-off",
         _resolved_by_cutoff, ("first_resolved_at",)),
    Case("one_touch_rate", "tickets", "tickets first resolved by the cut-off",
         _resolved_by_cutoff, ("first_resolved_at",)),
    Case("reopen_rate", "tickets", "tickets first resolved by the cut-off",
         _resolved_by_cutoff, ("first_resolved_at",)),
    Case("escalation_rate", "tickets", "tickets with an escalation flag",
         lambda raw, ds: _filled(raw, "escalated"), ("escalated",)),
    Case("ticket_handle_time", "tickets", "tickets with a handle time",
         lambda raw, ds: _filled(raw, "handle_s"), ("handle_s",)),
    Case("fcr", "tickets", "tickets with a customer_id",
         lambda raw, ds: _filled(raw, "customer_id"), ("customer_id",)),
    Case("fcr", "tickets", "tickets without a customer_id (left out, shown)",
         lambda raw, ds: ~_filled(raw, "customer_id"), count="unknown_customer"),
    Case("repeat_contact_rate", "tickets", "tickets with a customer_id",
         lambda raw, ds: _filled(raw, "customer_id"), ("customer_id",)),
    Case("repeat_contact_rate", "tickets", "tickets without a customer_id (left out, shown)",
         lambda raw, ds: ~_filled(raw, "customer_id"), count="unknown_customer"),
    # surveys and invitations, per survey kind
    Case("csat", "surveys", "csat answers", _kind("csat")),
    Case("nps", "surveys", "nps answers", _kind("nps")),
    Case("ces", "surveys", "ces answers", _kind("ces")),
    Case("ces_low_effort", "surveys", "ces answers", _kind("ces")),
    Case("esat", "surveys", "esat answers", _kind("esat")),
    Case("qa_score", "surveys", "qa answers", _kind("qa")),
    Case("csat_response_rate", "survey_sends", "csat invitations (denominator)", _kind("csat")),
    # contacts
    Case("abandon_rate", "contacts", "every contact (short abandons and no-outcome ones shown apart)", _all),
    Case("service_level", "contacts", "every contact", _all),
    Case("chat_abandonment", "contacts", "chats",
         lambda raw, ds: raw["channel"].str.strip().str.lower() == "chat"),
    Case("asa", "contacts", "answered contacts: not abandoned, with answered_at",
         lambda raw, ds: _is(raw, "abandoned", FALSE) & _filled(raw, "answered_at"), ("answered_at",)),
    Case("repeat_contact_rate_contacts", "contacts", "contacts with a customer_id",
         lambda raw, ds: _filled(raw, "customer_id"), ("customer_id",)),
    Case("repeat_contact_rate_contacts", "contacts", "contacts without a customer_id (left out, shown)",
         lambda raw, ds: ~_filled(raw, "customer_id"), count="unknown_customer"),
    Case("fcr_contacts", "contacts", "contacts with a customer_id",
         lambda raw, ds: _filled(raw, "customer_id"), ("customer_id",)),
    Case("fcr_contacts", "contacts", "contacts without a customer_id (left out, shown)",
         lambda raw, ds: ~_filled(raw, "customer_id"), count="unknown_customer"),
    # the other tables with a KPI whose n counts rows
    Case("social_mentions", "mentions", "every mention", _all),
    Case("mention_reply_rate", "mentions", "mentions that needed a reply",
         lambda raw, ds: _is(raw, "needs_reply", TRUE), ("needs_reply",)),
    Case("occupancy", "agent_days", "agent-days", _all),
    Case("conversion_rate", "web_days", "days", _all),
    Case("revenue_backlog", "subscriptions", "customer-months", _all),
    Case("cost_per_resolution", "costs", "cost rows", _all),
]

#: Tables whose rows no KPI's n counts one for one, and why.
NO_ROW_KPI = {
    "ticket_events": "event rows feed per-ticket facts; reply_time's n counts customer waits, not event rows",
    "staffing": "staffing_gap's n counts intervals with contacts, not roster rows",
    "launches": "no KPI (launch effects are a statistics function)",
    "agents": "agent_workload's n counts handled tickets and contacts, not agent rows",
    "user_activity": "active_users counts distinct users and stickiness days, not (user, day) rows",
}


def test_every_table_is_accounted_for():
    covered = {c.table for c in CASES}
    assert covered | set(NO_ROW_KPI) == set(TABLES)
    assert not covered & set(NO_ROW_KPI)


# ----------------------------------------------------------------------------------------------
# the hand-made export: a few deliberately bad rows in every table
# ----------------------------------------------------------------------------------------------
HANDMADE = {
    "dataset.yml": """
        name: accounting fixture
        timezone: UTC
        exported_at: '2026-11-10T00:00:00Z'
        repeat_window_days: 7
        surveys:
          csat: {min: 1, max: 5, higher_is_better: true, top_box: 4}
          nps: {min: 0, max: 10, higher_is_better: true}
          ces: {min: 1, max: 7, higher_is_better: false, low_effort_max: 3}
          esat: {min: 1, max: 5, higher_is_better: true, top_box: 4}
          qa: {min: 0, max: 1, higher_is_better: true}
        """,
    # bad: row 4 unparseable created_at, row 7 duplicate t1 (resolved: leaves the resolved
    # population too), row 9 empty ticket_id
    "tickets.csv": """
        ticket_id,created_at,channel,category,priority,customer_id,first_response_at,first_resolved_at,resolved_at,escalated,agent_replies,reopen_count,handle_s
        t1,2026-10-01T09:00:00Z,email,billing,normal,c1,2026-10-01T10:00:00Z,2026-10-01T12:00:00Z,2026-10-01T12:00:00Z,false,1,0,300
        t2,2026-10-02T09:00:00Z,chat,bug,high,c1,2026-10-02T09:10:00Z,2026-10-02T11:00:00Z,2026-10-02T11:00:00Z,true,2,1,600
        t3,2026-10-03T09:00:00Z,email,billing,normal,,2026-10-03T10:00:00Z,2026-10-03T10:30:00Z,2026-10-03T10:30:00Z,false,1,0,
        t4,2026-13-45T09:00:00Z,web,billing,normal,c2,,,,false,0,0,
        t5,2026-10-20T09:00:00Z,web,howto,low,c2,2026-10-20T12:00:00Z,,,,1,0,200
        t6,2026-11-02T09:00:00Z,email,howto,normal,,,,,false,0,0,
        t1,2026-11-03T09:00:00Z,email,billing,normal,c3,2026-11-03T09:30:00Z,2026-11-03T10:00:00Z,2026-11-03T10:00:00Z,false,1,0,50
        t7,2026-11-04T09:00:00Z,phone,bug,urgent,c3,2026-11-04T09:05:00Z,2026-11-04T09:30:00Z,2026-11-04T09:30:00Z,false,1,0,400
        ,2026-11-05T09:00:00Z,email,bug,normal,c4,,,,false,0,0,
        t8,2026-11-06T09:00:00Z,email,billing,normal,c1,2026-11-06T10:00:00Z,2026-11-06T11:00:00Z,2026-11-06T11:00:00Z,false,1,0,100
        """,
    # bad: row 3 csat 7 on a 1-5 scale, row 6 unparseable nps score, row 9 duplicate q1, row 10 empty submitted_at
    "surveys.csv": """
        response_id,survey,score,submitted_at,ticket_id
        s1,csat,5,2026-10-01T13:00:00Z,t1
        s2,csat,3,2026-10-02T13:00:00Z,t2
        s3,csat,7,2026-10-03T13:00:00Z,t3
        n1,nps,10,2026-10-05T10:00:00Z,
        n2,nps,6,2026-10-06T10:00:00Z,
        n3,nps,abc,2026-10-07T10:00:00Z,
        e1,ces,2,2026-10-08T10:00:00Z,
        q1,qa,0.8,2026-10-09T10:00:00Z,t1
        q1,qa,0.9,2026-10-10T10:00:00Z,t2
        m1,esat,4,,
        m2,esat,5,2026-11-01T10:00:00Z,
        s4,csat,4,2026-11-04T12:00:00Z,t7
        """,
    # bad: row 3 unparseable sent_at, row 4 unknown survey kind
    "survey_sends.csv": """
        survey,sent_at,ticket_id
        csat,2026-10-01T12:30:00Z,t1
        csat,2026-10-02T12:30:00Z,t2
        csat,2026-10-32T12:30:00Z,t3
        poll,2026-10-04T12:30:00Z,
        csat,2026-11-04T11:00:00Z,t7
        """,
    # bad: row 4 duplicate k1, row 6 unparseable queued_at, row 8 negative talk_s (set to missing, row kept)
    "contacts.csv": """
        contact_id,channel,queued_at,abandoned,customer_id,answered_at,ended_at,talk_s,resolved,ticket_id
        k1,phone,2026-10-01T08:00:00Z,false,c1,2026-10-01T08:00:20Z,2026-10-01T08:05:00Z,280,true,
        k2,phone,2026-10-01T09:00:00Z,true,c2,,2026-10-01T09:01:00Z,,,
        k3,chat,2026-10-02T10:00:00Z,false,,2026-10-02T10:00:05Z,2026-10-02T10:10:00Z,595,true,
        k1,chat,2026-10-03T10:00:00Z,false,c3,2026-10-03T10:00:05Z,2026-10-03T10:10:00Z,595,true,
        k4,chat,2026-10-04T10:00:00Z,true,c3,,2026-10-04T10:00:02Z,,,
        k5,phone,yesterday,false,c1,2026-10-05T08:00:20Z,2026-10-05T08:05:00Z,280,true,
        k6,phone,2026-11-04T09:00:00Z,false,c3,2026-11-04T09:00:30Z,2026-11-04T09:04:00Z,210,true,t7
        k7,phone,2026-11-05T09:00:00Z,false,c4,2026-11-05T09:00:30Z,2026-11-05T09:04:00Z,-10,true,
        k8,chat,2026-11-06T09:00:00Z,false,,,,,,
        """,
    # bad: row 3 unparseable mentioned_at
    "mentions.csv": """
        mentioned_at,source,needs_reply,replied_at
        2026-10-01T10:00:00Z,twitter,true,2026-10-01T11:00:00Z
        2026-10-02T10:00:00Z,reddit,false,
        2026-10-99T10:00:00Z,twitter,true,
        2026-11-02T10:00:00Z,reviews,true,
        """,
    # bad: row 2 negative staffed_s
    "agent_days.csv": """
        agent_id,date,staffed_s,handle_s
        a1,2026-10-01,28800,14400
        a1,2026-10-02,-3600,100
        a2,2026-11-02,28800,20000
        """,
    # bad: row 2 unparseable date
    "web_days.csv": """
        date,visits,conversions
        2026-10-01,1000,10
        2026-10-xx,900,9
        2026-11-01,1100,12
        """,
    # bad: row 3 negative mrr
    "subscriptions.csv": """
        customer_id,month,mrr
        c1,2026-10,100
        c2,2026-10,50
        c3,2026-11,-5
        c1,2026-11,100
        """,
    # bad: row 2 unparseable month
    "costs.csv": """
        month,category,amount
        2026-10,salaries,10000
        2026-1x,tools,500
        2026-11,salaries,10000
        """,
}


@pytest.fixture(scope="module")
def handmade(tmp_path_factory):
    folder = tmp_path_factory.mktemp("accounting")
    for name, text in HANDMADE.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def sample_folder():
    from conftest import SAMPLE

    if not (SAMPLE / "dataset.yml").exists():
        pytest.skip("data/sample not generated yet")
    return SAMPLE


class _Loaded:
    """A loaded dataset with its raw files (strings), read once per module."""

    def __init__(self, folder):
        self.folder = folder
        self.ds = load_dataset(folder)
        self._raw: dict[str, pd.DataFrame] = {}
        self._kpi: dict[tuple, pd.DataFrame] = {}

    def raw(self, table: str) -> pd.DataFrame:
        if table not in self._raw:
            path = self.folder / self.ds.files[table]
            self._raw[table] = pd.read_csv(path, dtype=str, keep_default_na=False)
        return self._raw[table]

    def kpi(self, name: str) -> pd.DataFrame:
        if name not in self._kpi:
            self._kpi[name] = kpitools.kpi_table(self.ds, period="M", kpis=[name])
        return self._kpi[name]


@pytest.fixture(scope="module", params=["handmade", "sample"])
def loaded(request):
    folder = request.getfixturevalue("handmade" if request.param == "handmade" else "sample_folder")
    return _Loaded(folder)


def _left_out(ds, table: str, population: pd.Series, columns: tuple[str, ...]) -> int:
    """Rows of ``population`` (raw positions) that the quality log takes out: excluded rows, and
    rows whose defining value was set to missing."""
    q = ds.quality[ds.quality["table"] == table]
    pos = q["row"].to_numpy(dtype=np.int64) - 1  # quality rows are 1-based data rows of the file
    out = q["action"].eq("excluded").to_numpy() | (q["column"].isin(columns).to_numpy()
                                                   & q["action"].ne("excluded").to_numpy())
    rows = np.unique(pos[out])
    return int(population.to_numpy(dtype=bool)[rows].sum())


def test_quality_rows_point_at_the_file_rows(loaded):
    # the identity maps quality rows onto the raw file: check the mapping on every logged value
    ds = loaded.ds
    for table in ds.quality["table"].unique():
        q = ds.quality[ds.quality["table"] == table]
        raw = loaded.raw(table)
        for row, col, value in zip(q["row"], q["column"], q["value"], strict=True):
            cell = raw.iloc[row - 1][col].strip()
            assert cell == value or (cell and value and float(cell) == pytest.approx(float(value))), (table, row, col)


def test_handmade_has_bad_rows_in_every_table(handmade):
    # the hand-made export is only a test of the identity if every table loses rows
    ds = load_dataset(handmade)
    excluded = set(ds.quality.loc[ds.quality["action"] == "excluded", "table"])
    assert excluded == set(ds.tables)
    assert all(ds.input_rows[t] > len(df) for t, df in ds.tables.items())


def test_handmade_counts_by_hand(handmade):
    # worked out by hand from the files above (the identity's independent check, spelled out)
    ds = load_dataset(handmade)

    def total(kpi, col="n"):
        return int(kpitools.kpi_table(ds, period="M", kpis=[kpi])[col].sum())

    # tickets: 10 rows - 3 bad (rows 4, 7, 9) = 7 kept: t1, t2, t3, t5, t6, t7, t8
    assert total("ticket_volume") == 7
    # resolved by the cut-off: t1, t2, t3, t7, t8 (the duplicate t1 of row 7 is excluded)
    assert total("resolved") == 5
    # customer_id known: t1, t2, t5, t7, t8; unknown: t3, t6
    assert (total("fcr"), total("fcr", "unknown_customer")) == (5, 2)
    # escalation flag known: all kept tickets but t5
    assert total("escalation_rate") == 6
    # answers: csat s1, s2, s4 (s3 out of scale); nps n1, n2 (n3 unparseable); qa q1; esat m2
    assert [total(k) for k in ("csat", "nps", "qa_score", "esat", "ces")] == [3, 2, 1, 1, 1]
    # contacts: 9 rows - 2 bad (rows 4 duplicate id, 6 unparseable queued_at) = 7; row 8 (k7,
    # negative optional talk_s) is kept with talk_s set to missing; answered k1, k3, k6, k7;
    # with customer k1, k2, k4, k6, k7
    assert [total(k) for k in ("abandon_rate", "asa", "fcr_contacts")] == [7, 4, 5]
    assert total("fcr_contacts", "unknown_customer") == 2  # k3, k8


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_n_plus_logged_exclusions_equals_rows_in_file(loaded, case):
    ds = loaded.ds
    if case.table not in ds.tables:
        pytest.skip(f"no {case.table} in {loaded.folder.name}")
    raw = loaded.raw(case.table)
    assert len(raw) == ds.input_rows[case.table]
    res = loaded.kpi(case.kpi)
    assert case.kpi in set(res["kpi"]), res.attrs["skipped"]
    n = int(res[case.count].sum())
    population = case.rows(raw, ds).reset_index(drop=True)
    left = _left_out(ds, case.table, population, case.columns)
    # population: documented in the case (case.population)
    assert n + left == int(population.sum()), (case.population, n, left, int(population.sum()))


def test_nps_answer_between_categories_is_logged(handmade, tmp_path):
    for name in HANDMADE:
        (tmp_path / name).write_text((handmade / name).read_text(encoding="utf-8"), encoding="utf-8")
    with (tmp_path / "surveys.csv").open("a", encoding="utf-8") as f:
        f.write("n4,nps,6.5,2026-10-08T10:00:00Z,\n")
    ds = load_dataset(tmp_path)
    raw = pd.read_csv(tmp_path / "surveys.csv", dtype=str, keep_default_na=False)
    population = _kind("nps")(raw, ds)
    n = int(kpitools.kpi_table(ds, period="M", kpis=["nps"])["n"].sum())
    assert n + _left_out(ds, "surveys", population, ()) == int(population.sum())
