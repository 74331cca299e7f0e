"""Cost and team KPIs against a hand-worked fixture.

Fixture (timezone UTC, currency EUR):

- tickets: t1 (agent x) first resolved Fri Oct 02; t2 (agent y) resolved Mon Nov 02; t3 (x) open.
- contacts: c1 answered by y Oct 01; c2 abandoned Oct 01 (not handled); c3 answered by y Nov 03.
- costs: Oct salaries 1000 + training 200; Nov salaries 900; Dec salaries 500 (nothing handled).
- agents: x, y in team A; z in team B.
- agent_days: x Oct 01 (training 50), y Oct 01, z Oct 02 (training 100), x Nov 02; 1 h staffed each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpitools.io import Dataset
from kpitools.kpis import kpi_table
from kpitools.kpis._core import KPIError, KPIUnavailable
from kpitools.kpis.cost_team import (
    agent_workload,
    cost_per_contact,
    cost_per_resolution,
    training_per_employee,
)

SETTINGS = {"timezone": "UTC", "currency": "EUR", "exported_at": "2026-12-15T00:00:00Z"}

TICKETS = pd.DataFrame({
    "ticket_id": ["t1", "t2", "t3"],
    "created_at": ["2026-10-01T08:00:00Z", "2026-10-05T08:00:00Z", "2026-10-20T08:00:00Z"],
    "channel": "email", "category": "billing", "priority": "normal", "agent_id": ["x", "y", "x"],
    "first_resolved_at": ["2026-10-02T08:00:00Z", "2026-11-02T08:00:00Z", None],
    "resolved_at": ["2026-10-02T08:00:00Z", "2026-11-02T08:00:00Z", None],
})
CONTACTS = pd.DataFrame({
    "contact_id": ["c1", "c2", "c3"], "channel": "phone",
    "queued_at": ["2026-10-01T08:00:00Z", "2026-10-01T09:00:00Z", "2026-11-03T09:00:00Z"],
    "abandoned": [False, True, False],
    "answered_at": ["2026-10-01T08:00:10Z", None, "2026-11-03T09:00:05Z"], "agent_id": ["y", None, "y"],
})
COSTS = pd.DataFrame({"month": ["2026-10", "2026-10", "2026-11", "2026-12"],
                      "category": ["salaries", "training", "salaries", "salaries"],
                      "amount": [1000.0, 200.0, 900.0, 500.0]})
AGENTS = pd.DataFrame({"agent_id": ["x", "y", "z"], "team": ["A", "A", "B"]})
AGENT_DAYS = pd.DataFrame({"agent_id": ["x", "y", "z", "x"],
                           "date": ["2026-10-01", "2026-10-01", "2026-10-02", "2026-11-02"],
                           "staffed_s": [3600.0, 3600.0, 3600.0, 3600.0],
                           "training_spend": [50.0, 0.0, 100.0, 0.0]})


@pytest.fixture(scope="module")
def ds():
    return Dataset.from_frames({"tickets": TICKETS, "contacts": CONTACTS, "costs": COSTS, "agents": AGENTS,
                                "agent_days": AGENT_DAYS}, settings=SETTINGS)


def row(res: pd.DataFrame, period: str, **seg) -> pd.Series:
    m = res["period"].astype(str) == period
    for k, v in seg.items():
        m &= res[k] == v
    assert m.sum() == 1, (period, seg)
    return res[m].iloc[0]


def test_cost_per_contact(ds):
    r = cost_per_contact(ds)
    assert r["period"].astype(str).tolist() == ["2026-10", "2026-11", "2026-12"]
    # October: cost 1000 + 200 = 1200; handled = t1 resolved + c1 answered = 2 -> 600
    oct_ = row(r, "2026-10")
    assert (oct_["numerator"], oct_["denominator"], oct_["value"]) == (1200, 2, 600)
    assert (oct_["tickets_resolved"], oct_["contacts_answered"]) == (1, 1)
    assert oct_["unit"] == "currency" and "currency EUR" in oct_["note"]
    # November: 900 / (t2 + c3) = 450
    assert row(r, "2026-11")["value"] == 450
    # December: 500 spent, nothing handled -> NaN with the reason
    dec = row(r, "2026-12")
    assert np.isnan(dec["value"]) and "zero denominator: contacts handled" in dec["note"]
    # a quarter adds the months: (1200 + 900 + 500) / 4 = 650
    q = cost_per_contact(ds, period="Q")
    assert q["period"].astype(str).tolist() == ["2026Q4"]
    assert q["value"].iloc[0] == pytest.approx(650.0)


def test_cost_per_contact_with_contacts_only():
    d = Dataset.from_frames({"contacts": CONTACTS, "costs": COSTS}, settings=SETTINGS)
    # October: 1200 / 1 answered contact; the note says what was counted
    oct_ = row(cost_per_contact(d), "2026-10")
    assert oct_["value"] == 1200 and oct_["note"].endswith("contacts handled = answered contacts")


def test_cost_per_resolution(ds):
    r = cost_per_resolution(ds)
    # 1200 / t1; 900 / t2; December: no resolution -> zero denominator
    assert row(r, "2026-10")["value"] == 1200
    assert row(r, "2026-11")["value"] == 900
    assert "zero denominator: resolved tickets" in row(r, "2026-12")["note"]


def test_cost_kpis_are_monthly_and_unsegmented(ds):
    with pytest.raises(KPIUnavailable, match="monthly; use period 'M' or 'Q', got 'W'"):
        cost_per_contact(ds, period="W")
    with pytest.raises(KPIUnavailable, match="carry no segment"):
        cost_per_resolution(ds, by="category")
    t = kpi_table(ds, period="W", kpis=["cost_per_contact", "agent_workload"])
    assert set(t["kpi"]) == {"agent_workload"}
    skipped = t.attrs["skipped"].set_index("kpi")["reason"]
    assert "monthly" in skipped["cost_per_contact"]


def test_training_per_employee(ds):
    r = training_per_employee(ds)
    # agent_days spend: October 50 + 0 + 100 = 150 over 3 active agents (x, y, z) = 50
    oct_ = row(r, "2026-10")
    assert (oct_["numerator"], oct_["denominator"], oct_["value"]) == (150, 3, 50)
    assert "spend from agent_days" in oct_["note"]
    # November: x active, no spend -> 0 / 1 = 0
    assert row(r, "2026-11")["value"] == 0
    # from costs instead: October training row 200 / 3 agents
    c = training_per_employee(ds, source="costs")
    assert row(c, "2026-10")["value"] == pytest.approx(200 / 3)
    # per agent: z spent 100 alone
    a = training_per_employee(ds, by="agent_id")
    assert row(a, "2026-10", agent_id="z")["value"] == 100
    assert row(a, "2026-10", agent_id="y")["value"] == 0
    with pytest.raises(KPIError, match="source must be None, 'agent_days' or 'costs'"):
        training_per_employee(ds, source="payroll")


def test_agent_workload(ds):
    r = agent_workload(ds)
    # October: t1 (x) + c1 (y) = 2 items; active agents x, y (work) and z (staffed) -> 2 / 3
    oct_ = row(r, "2026-10")
    assert (oct_["numerator"], oct_["denominator"]) == (2, 3)
    assert oct_["value"] == pytest.approx(2 / 3)
    assert (oct_["tickets"], oct_["contacts"]) == (1, 1)
    # November: t2 (y, resolved Nov 02) + c3 (y) = 2; agents y and x (staffed Nov 02) -> 1.0
    assert row(r, "2026-11")["value"] == pytest.approx(1.0)
    team = agent_workload(ds, by="team")
    assert row(team, "2026-10", team="A")["value"] == pytest.approx(1.0)  # 2 items / x, y
    b = row(team, "2026-10", team="B")  # z was staffed but handled nothing: 0, not "no data"
    assert b["value"] == 0 and pd.isna(b["note"])
    per_agent = agent_workload(ds, by="agent_id")
    assert row(per_agent, "2026-11", agent_id="y")["value"] == 2
    # counts add up across agents to the total
    assert per_agent.groupby(per_agent["period"].astype(str))["numerator"].sum().tolist() == \
        r["numerator"].tolist()


@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=6),
       st.lists(st.booleans(), min_size=1, max_size=6))
def test_cost_per_contact_is_total_over_handled(amounts, answered):
    costs = pd.DataFrame({"month": "2026-10", "category": "salaries", "amount": amounts})
    n = len(answered)
    contacts = pd.DataFrame({
        "contact_id": [f"c{i}" for i in range(n)], "channel": "phone",
        "queued_at": "2026-10-10T10:00:00Z", "abandoned": [not a for a in answered],
        "answered_at": ["2026-10-10T10:00:05Z" if a else None for a in answered],
    })
    r = cost_per_contact(Dataset.from_frames({"costs": costs, "contacts": contacts}, settings=SETTINGS))
    k = sum(answered)
    v = r["value"].iloc[0]
    if k == 0:
        assert np.isnan(v)
    else:
        assert v == pytest.approx(sum(amounts) / k)
