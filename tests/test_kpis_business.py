"""Business-value KPIs against hand-worked fixtures and hypothesis properties.

Subscriptions (MRR, plan):

========  ==========  ==========  ==========
customer  2026-09     2026-10     2026-11
========  ==========  ==========  ==========
a         100 pro     150 pro     150 pro     expansion +50 in October
b         100 basic    60 basic   -           contraction -40 in October, churns in November
c         100 pro     100 pro     100 pro
d         100 basic   -           -           churns in October
e         -            50 basic    50 basic   new in October
========  ==========  ==========  ==========
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from kpitools.io import Dataset
from kpitools.kpis._core import KPIUnavailable
from kpitools.kpis.business import (
    activation_rate,
    active_users,
    churn_rate,
    clv,
    conversion_rate,
    deflection,
    grr,
    mention_reply_rate,
    nrr,
    retention_rate,
    revenue_backlog,
    revenue_churn_rate,
    self_service_rate,
    social_mentions,
    stickiness,
    subscription_cohorts,
)

SETTINGS = {"timezone": "UTC", "currency": "EUR", "gross_margin": 0.7, "targets": {"nrr": 100, "grr": 60}}

SUBS = pd.DataFrame(
    [("a", "2026-09", 100.0, "pro"), ("b", "2026-09", 100.0, "basic"), ("c", "2026-09", 100.0, "pro"),
     ("d", "2026-09", 100.0, "basic"),
     ("a", "2026-10", 150.0, "pro"), ("b", "2026-10", 60.0, "basic"), ("c", "2026-10", 100.0, "pro"),
     ("e", "2026-10", 50.0, "basic"),
     ("a", "2026-11", 150.0, "pro"), ("c", "2026-11", 100.0, "pro"), ("e", "2026-11", 50.0, "basic")],
    columns=["customer_id", "month", "mrr", "plan"],
)
WEB = pd.DataFrame({
    "date": ["2026-10-01", "2026-10-02", "2026-11-01"],
    "visits": [100, 100, 0], "conversions": [3, 5, 0], "signups": [10, 10, 0], "activations": [4, 6, 0],
    "self_service_sessions": [20, 30, 0], "self_service_resolved": [15, 20, 0],
})
TICKETS = pd.DataFrame({"ticket_id": ["t1", "t2", "t3"],
                        "created_at": ["2026-10-01T08:00:00Z", "2026-10-15T08:00:00Z", "2026-11-01T09:00:00Z"],
                        "channel": "email", "category": "billing", "priority": "normal"})
ACTIVITY = pd.DataFrame({"user_id": ["u1", "u2", "u1", "u3", "u1"],
                         "date": ["2026-10-01", "2026-10-01", "2026-10-02", "2026-10-03", "2026-11-02"]})
MENTIONS = pd.DataFrame({
    "mentioned_at": ["2026-10-01T10:00:00Z", "2026-10-02T10:00:00Z", "2026-10-03T10:00:00Z",
                     "2026-12-01T10:00:00Z"],
    "source": ["x", "x", "reddit", "reviews"],
    "needs_reply": ["true", "false", "true", None],
    "replied_at": ["2026-10-01T11:00:00Z", None, None, None],
})


@pytest.fixture(scope="module")
def ds():
    return Dataset.from_frames({"subscriptions": SUBS, "web_days": WEB, "tickets": TICKETS,
                                "user_activity": ACTIVITY, "mentions": MENTIONS}, settings=SETTINGS)


def row(res: pd.DataFrame, period: str, **seg) -> pd.Series:
    m = res["period"].astype(str) == period
    for k, v in seg.items():
        m &= res[k] == v
    assert m.sum() == 1, (period, seg)
    return res[m].iloc[0]


# ----------------------------------------------------------------------------------------------
# retention and churn
# ----------------------------------------------------------------------------------------------
def test_cohorts(ds):
    co = subscription_cohorts(ds)
    oct_ = co[co["period"].astype(str) == "2026-10"].set_index("customer_id")
    assert sorted(oct_.index) == ["a", "b", "c", "d", "e"]
    assert oct_.loc["d", "start"] and not oct_.loc["d", "end"]
    assert oct_.loc["e", "end"] and not oct_.loc["e", "start"]
    assert oct_.loc["a", "start_mrr"] == 100 and oct_.loc["a", "end_mrr"] == 150


def test_retention_rate(ds):
    r = retention_rate(ds)
    # October: S = {a, b, c, d} = 4, E = {a, b, c, e} = 4, N = {e} = 1 -> (4 - 1) / 4 x 100 = 75
    oct_ = row(r, "2026-10")
    assert oct_["value"] == pytest.approx(75.0)
    assert (oct_["numerator"], oct_["denominator"], oct_["customers_end"], oct_["new_customers"]) == (3, 4, 4, 1)
    assert oct_["unit"] == "percent"
    lo, hi = proportion_confint(3, 4, method="wilson")  # statsmodels, x 100 for percent
    assert (oct_["ci_low"], oct_["ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    # November: S = {a, b, c, e}, E = {a, c, e}, N = {} -> 3 / 4
    assert row(r, "2026-11")["value"] == pytest.approx(75.0)
    # September, the first month of data: nobody at the start -> zero denominator, not "no data"
    sep = row(r, "2026-09")
    assert np.isnan(sep["value"]) and sep["note"].startswith("zero denominator: customers at start")
    # a quarter compares Sep (start) with Nov (last month with data): a, c retained of 4 -> 50
    q = retention_rate(ds, period="Q")
    assert row(q, "2026Q4")["value"] == pytest.approx(50.0)


def test_churn_and_revenue_churn(ds):
    c = churn_rate(ds)
    # October: d lost of 4 -> 0.25; November: b lost of 4 -> 0.25 (= 1 - CRR / 100)
    assert row(c, "2026-10")["value"] == pytest.approx(0.25)
    assert row(c, "2026-11")["value"] == pytest.approx(0.25)
    rc = revenue_churn_rate(ds)
    # October: d's 100 of 400 starting MRR; November: b's 60 of 150 + 60 + 100 + 50 = 360
    assert row(rc, "2026-10")["value"] == pytest.approx(0.25)
    assert row(rc, "2026-11")["value"] == pytest.approx(60 / 360)


def test_nrr_grr_with_expansion_contraction_and_churn(ds):
    n, g = nrr(ds), grr(ds)
    oct_n, oct_g = row(n, "2026-10"), row(g, "2026-10")
    # start 400; expansion a +50; contraction b -40; churned d 100
    # NRR = (400 + 50 - 40 - 100) / 400 x 100 = 77.5; GRR = (400 - 40 - 100) / 400 x 100 = 65
    assert oct_n["value"] == pytest.approx(77.5)
    assert (oct_n["expansion"], oct_n["contraction"], oct_n["churned_revenue"]) == (50, 40, 100)
    assert oct_g["value"] == pytest.approx(65.0)
    # targets are read in percent: NRR 77.5 < 100 missed; GRR 65 >= 60 met
    assert oct_n["target"] == 100 and not oct_n["target_met"]
    assert oct_g["target_met"]
    # November: start 360 (a 150, b 60, c 100, e 50); end of that cohort 150 + 0 + 100 + 50 = 300
    assert row(n, "2026-11")["value"] == pytest.approx(300 / 360 * 100)
    assert row(g, "2026-11")["value"] == pytest.approx(300 / 360 * 100)
    # by plan (at the start): pro a, c: (150 + 100) / 200 = 125 %; basic b, d: 60 / 200 = 30 %
    bp = nrr(ds, by="plan")
    assert row(bp, "2026-10", plan="pro")["value"] == pytest.approx(125.0)
    assert row(bp, "2026-10", plan="basic")["value"] == pytest.approx(30.0)
    # GRR is capped at 100 even where the cohort expanded
    assert row(grr(ds, by="plan"), "2026-10", plan="pro")["value"] == pytest.approx(100.0)


def test_revenue_backlog(ds):
    r = revenue_backlog(ds)
    # MRR active at period end: Sep 400, Oct 150 + 60 + 100 + 50 = 360, Nov 300
    assert r["value"].tolist() == [400.0, 360.0, 300.0]
    assert r["n"].tolist() == [4, 4, 3]
    # by plan at the end: October basic = b 60 + e 50
    assert row(revenue_backlog(ds, by="plan"), "2026-10", plan="basic")["value"] == 110.0


def test_clv(ds):
    r = clv(ds)
    # October: ARPA = 360 / 4 = 90; monthly churn = 1 / 4 -> CLV = 90 x 0.7 / 0.25 = 252
    oct_ = row(r, "2026-10")
    assert oct_["arpa"] == pytest.approx(90.0)
    assert oct_["value"] == pytest.approx(252.0)
    # November: ARPA = 300 / 3 = 100; churn 1 / 4 (b) -> 280
    assert row(r, "2026-11")["value"] == pytest.approx(280.0)
    # September: no month before -> churn undefined: NaN with the reason
    assert "zero denominator: monthly churn" in row(r, "2026-09")["note"]
    # quarter Q4: ARPA (360 + 300) / 7 customer-months; churn (1 + 1) / (4 + 4) -> 264
    assert row(clv(ds, period="Q"), "2026Q4")["value"] == pytest.approx((660 / 7) * 0.7 / 0.25)
    # margin option
    assert row(clv(ds, gross_margin=0.5), "2026-10")["value"] == pytest.approx(90 * 0.5 / 0.25)


def test_subscription_kpis_need_months(ds):
    for f in (retention_rate, churn_rate, nrr, grr, revenue_backlog, clv):
        with pytest.raises(KPIUnavailable, match="monthly"):
            f(ds, period="W")


# ----------------------------------------------------------------------------------------------
# web and self-service
# ----------------------------------------------------------------------------------------------
def test_conversion_rate_in_percent(ds):
    r = conversion_rate(ds)
    oct_ = row(r, "2026-10")
    # (3 + 5) / (100 + 100) x 100 = 4 %
    assert oct_["value"] == pytest.approx(4.0)
    lo, hi = proportion_confint(8, 200, method="wilson")
    assert (oct_["ci_low"], oct_["ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    # November: a day with 0 visits -> zero denominator with a note
    nov = row(r, "2026-11")
    assert np.isnan(nov["value"]) and nov["note"] == "zero denominator: visits"


def test_activation_self_service_deflection(ds):
    # activations 10 / sign-ups 20
    assert row(activation_rate(ds), "2026-10")["value"] == pytest.approx(0.5)
    # self-service resolved 35 / sessions 50
    assert row(self_service_rate(ds), "2026-10")["value"] == pytest.approx(0.7)
    d = deflection(ds)
    # October: 35 self-served / (35 + tickets t1, t2) ; November: 0 / (0 + t3) = 0
    assert row(d, "2026-10")["value"] == pytest.approx(35 / 37)
    assert row(d, "2026-10")["tickets"] == 2
    assert row(d, "2026-11")["value"] == 0.0
    with pytest.raises(KPIUnavailable, match="not a column of 'web_days'"):
        conversion_rate(ds, by="channel")
    with pytest.raises(KPIUnavailable, match="web_days carry no segment"):
        conversion_rate(ds, by="weekday")  # derived segments pass the framework's check


# ----------------------------------------------------------------------------------------------
# active users
# ----------------------------------------------------------------------------------------------
def test_active_users_and_stickiness(ds):
    a = active_users(ds)
    oct_ = row(a, "2026-10")
    # October (31 days, activity on Oct 1-3): users u1, u2, u3; DAU 2, 1, 1, then 0 -> 4 / 31
    assert oct_["value"] == 3
    assert oct_["dau_mean"] == pytest.approx(4 / 31)
    assert oct_["mau_mean"] == 3
    # WAU: the week Sep 28 - Oct 4 has 3 users on Oct 1-4 (4 days), other October weeks 0
    assert oct_["wau_mean"] == pytest.approx(4 * 3 / 31)
    assert oct_["stickiness"] == pytest.approx((4 / 31) / 3)
    # November (data end Nov 2): DAU 0, 1 -> 0.5; MAU 1 -> stickiness 0.5
    s = stickiness(ds)
    assert row(s, "2026-11")["value"] == pytest.approx(0.5)
    assert row(s, "2026-10")["value"] == pytest.approx(4 / 93)
    # a week: Sep 28 - Oct 4 covers data days Oct 1-4: DAU mean 4 / 4 = 1; MAU 3
    w = stickiness(ds, period="W")
    assert w["value"].iloc[0] == pytest.approx(1 / 3)


# ----------------------------------------------------------------------------------------------
# social mentions
# ----------------------------------------------------------------------------------------------
def test_social_mentions(ds):
    r = social_mentions(ds)
    oct_ = row(r, "2026-10")
    # 3 mentions; 2 needed a reply (share 2/3); 1 of those replied (rate 1/2)
    assert (oct_["value"], oct_["needs_reply"], oct_["replied"]) == (3, 2, 1)
    assert oct_["needs_reply_share"] == pytest.approx(2 / 3)
    assert oct_["reply_rate"] == pytest.approx(0.5)
    # November: none -> a count of 0, "no data"
    nov = row(r, "2026-11")
    assert nov["value"] == 0 and nov["note"] == "no data"
    # December: one mention without the flag -> share unknown
    assert np.isnan(row(r, "2026-12")["needs_reply_share"])
    by = social_mentions(ds, by="source")
    assert row(by, "2026-10", source="x")["value"] == 2
    assert by["value"].sum() == r["value"].sum()  # counts add up across sources
    rr = mention_reply_rate(ds)
    assert row(rr, "2026-10")["value"] == pytest.approx(0.5)


# ----------------------------------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------------------------------
@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.floats(1, 500)), min_size=1, max_size=25))
def test_retention_rates_bounded(rows):
    months = ["2026-08", "2026-09", "2026-10", "2026-11"]
    frame = pd.DataFrame([(f"k{c}", months[m], mrr) for c, m, mrr in rows],
                         columns=["customer_id", "month", "mrr"])
    d = Dataset.from_frames({"subscriptions": frame}, settings={"timezone": "UTC"})
    crr, ch, g, n = retention_rate(d), churn_rate(d), grr(d), nrr(d)
    for res, hi in ((crr, 100), (ch, 1), (g, 100)):
        v = res["value"].dropna()
        assert ((v >= 0) & (v <= hi + 1e-9)).all()
    assert (n["value"].dropna() >= 0).all()
    both = crr["value"].notna()
    assert np.allclose(crr.loc[both, "value"] / 100, 1 - ch.loc[both, "value"])


# ----------------------------------------------------------------------------------------------
# sample data: an independent plain-Python computation
# ----------------------------------------------------------------------------------------------
def test_sample_retention_and_nrr_agree_with_plain_python(sample_ds):
    if not sample_ds.has("subscriptions"):
        pytest.skip("sample has no subscriptions")
    by_month: dict[str, dict[str, float]] = {}
    s = sample_ds.subscriptions
    for cust, month, mrr in zip(s["customer_id"].tolist(), s["month"].astype(str).tolist(),
                                s["mrr"].tolist(), strict=True):
        by_month.setdefault(month, {})
        by_month[month][cust] = by_month[month].get(cust, 0.0) + mrr
    months = sorted(by_month)
    crr, n = retention_rate(sample_ds), nrr(sample_ds)
    for prev, month in ((months[0], months[1]), (months[-2], months[-1])):
        start, end = by_month[prev], by_month[month]
        kept = sum(1 for c in start if c in end)
        assert row(crr, month)["value"] == pytest.approx(100 * kept / len(start))
        assert row(n, month)["value"] == pytest.approx(
            100 * sum(end.get(c, 0.0) for c in start) / sum(start.values()))
