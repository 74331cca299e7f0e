"""Tests of kpitools.presets: hand-made exports in the shape of each vendor's standard export
(tests/data/zendesk, tests/data/freshdesk, tests/data/intercom) give the KPI values worked out
by hand below.

Conventions used in the hand calculations
-----------------------------------------
- Months are cut in the dataset's timezone (dataset.yml ``timezone``); the cut-off is
  ``exported_at``.
- First response median: kpitools reports the Kaplan-Meier median, the first event time t with
  S(t) <= 0.5 (kpitools.stats.survival.km_quantiles). In every month below the unanswered tickets
  are censored at the cut-off, later than every answered ticket's response time, so after the
  k-th response S = (n - k) / n and the median is the ceil(n / 2)-th smallest response time
  counting all n tickets (not the mean of the two middle values an ordinary median of an even
  count would take). Calendar clock.
- CSAT: share of answers with score >= 4 (top two boxes of 1-5). ``basis="created"`` puts an
  answer in the month its ticket was created; the default event basis in the month it was
  submitted, which the presets take as the (final) resolution time.
- SLA: an item is achieved when done within the target (elapsed <= target, so exactly on the
  target is achieved), breached when elapsed > target (done late, or still open past it at the
  cut-off), pending when still open inside it. value = achieved / (achieved + breached).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpitools import load_dataset
from kpitools.io import DataError
from kpitools.kpis import (
    csat,
    first_response_time,
    kpi_table,
    resolution_rate,
    resolved,
    sla_first_response,
    sla_resolution,
    ticket_volume,
)
from kpitools.presets import PRESETS, preset
from kpitools.schema import TABLES
from kpitools.settings import PRESET_KEYS, Settings, SettingsError

DATA = Path(__file__).parent / "data"
VENDORS = ("zendesk", "freshdesk", "intercom")
SEP, OCT = "2026-09", "2026-10"

# ---------------------------------------------------------------------------------------------
# Zendesk: tests/data/zendesk/tickets.csv, 34 tickets (1001-1034), America/New_York (EDT, UTC-4),
# cut-off 2026-10-31 12:00 EDT. Durations are minutes after "Created at".
#
# Volume: September 1001-1018 = 18 (1018 at Sep 30 22:30 EDT is Oct 1 02:30 UTC, still September
#   in New York); October 1019-1034 = 16. Three tickets have a blank priority (1005, 1012, 1023):
#   kept, as priority "(missing)".
# First resolution ("First resolution time in minutes"; 1007 and 1026 reopened, so first < full):
#   September tickets unresolved: 1010, 1014, 1016 -> 15 of 18 resolved (rate 15/18).
#   1015 (Sep 24 14:45 + 10080 min = Oct 1 14:45), 1017 (Sep 29 17:00 + 2400 = Oct 1 09:00) and
#   1018 (Sep 30 22:30 + 720 = Oct 1 10:30) are resolved in October -> event basis Sep 15 - 3 = 12.
#   October unresolved: 1025, 1029, 1031, 1032 -> 12 of 16 (rate 12/16); event basis 12 + 3 = 15.
# First response (minutes), September, n = 18, 1016 never answered (censored ~33 days):
#   5, 10, 20, 30, 45, 60, 75, 90, [120], 150, 180, 200, 240, 300, 400, 480, 600, censored
#   ceil(18/2) = 9th -> 120 min = 7200 s.
#   October, n = 16, 1031 (Oct 26 14:00 -> cut-off: 7080 min) and 1032 (Oct 30 20:00 -> 960 min)
#   censored: 8, 12, 15, 25, 35, 40, 50, [55], 70, 100, 130, 260, 360, 900, cens, cens
#   8th -> 55 min = 3300 s.
# CSAT ("Satisfaction Score": Good -> 5, Bad -> 1, so CSAT = Good / (Good + Bad), Zendesk's own
#   satisfaction score; Offered -> a send without an answer; Not Offered -> nothing):
#   created basis: September Good 1001 1004 1006 1008 1011 1013 1015 1018 = 8, Bad 1002 1007 1017
#   = 3 -> 8/11; October Good 1019 1021 1023 1026 1028 1030 1033 1034 = 8, Bad 1020 1027 -> 8/10.
#   event basis (solved month): September 1015, 1017, 1018 move to October -> 6/8; October
#   10/13. Sends: 21 answers + 3 Offered (1003, 1012, 1024) = 24.
# SLA first response, targets urgent 60, high 120, normal 240, low 480 min (calendar):
#   Sep urgent 1004 10 ok, 1011 75 late -> 1/1/0 (achieved/breached/pending)
#       high 1002 45 ok, 1007 200 late, 1014 20 ok, 1017 180 late -> 2/2/0
#       normal 1001 30, 1006 5, 1010 90, 1013 240 (= target) ok; 1008 300, 1018 480 late, 1016
#       unanswered past target -> 4/3/0
#       low 1003 120, 1015 400 ok, 1009 600 late -> 2/1/0
#       (missing) 1005, 1012: no target. All priorities: 9 / (9 + 7).
#   Oct urgent 1020 50, 1028 40 -> 2/0/0; high 1021 100 ok, 1026 130 late, 1031 unanswered -> 1/2/0
#       normal 1019 35, 1025 70, 1030 12, 1034 55 ok; 1024 260, 1029 360 late, 1032 unanswered
#       (960 min) -> 4/3/0; low 1022 15, 1033 25 ok, 1027 900 late -> 2/1/0. All: 9 / (9 + 6).
# SLA resolution ("Solved at", final), targets urgent 1d, high 2d, normal 3d, low 5d:
#   Sep urgent 1004 300 min ok, 1011 1800 late -> 1/1/0
#       high 1002 1440 ok, 1017 2400 ok, 1007 5760 late, 1014 open since Sep 22 -> 2/2/0
#       normal 1001 240, 1006 90, 1008 4320 (= target), 1013 480, 1018 720 ok; 1010, 1016 open
#       past target -> 5/2/0; low 1003 2880, 1009 7000 ok, 1015 10080 late -> 2/1/0
#   Oct urgent 1020 600 ok, 1028 1600 late -> 1/1/0
#       high 1021 2160 ok, 1026 3000 late, 1031 open 7080 min -> 1/2/0
#       normal 1019 300, 1030 200, 1034 1000 ok; 1024 5000 late, 1025 and 1029 open past target;
#       1032 open 960 min < 4320 -> pending -> 3/3/1
#       low 1022 1200, 1033 400 ok, 1027 8000 late -> 2/1/0
#
# Freshdesk: tests/data/freshdesk/tickets.csv, 32 tickets (5001-5032), Asia/Kolkata (UTC+5:30),
# cut-off 2026-10-31 18:00 IST; minutes after "Created time". Medium = normal.
# Volume: Sep 5001-5016 = 16 (5016 at Sep 30 23:50 IST), Oct 5017-5032 = 16.
# Resolution ("Resolved time", the only solved timestamp, so first resolution = final):
#   Sep unresolved 5006, 5008, 5014, 5015 -> 12/16; 5016 resolved Oct 1 10:00 -> event Sep 11.
#   Oct unresolved 5022, 5027, 5029, 5031, 5032 -> 11/16; event 11 + 1 = 12.
# First response ("Initial response time"), Sep n = 16, 5015 unanswered:
#   2, 5, 10, 20, 30, 40, 45, [60], 70, 90, 150, 180, 240, 300, 600, cens -> 8th = 60 min = 3600 s
#   Oct n = 16, 5029 (7740 min) and 5031 (3360 min) censored:
#   3, 6, 15, 25, 30, 35, 45, [65], 75, 80, 100, 110, 200, 500, cens, cens -> 65 min = 3900 s
# CSAT (the account's labels, dataset.yml ratings: Happy 5, Neutral 3, Unhappy 1; blank = none):
#   created: Sep Happy 5001 5003 5004 5007 5011 5012 5016 = 7 of 11 answers; Oct Happy 5017 5018
#   5021 5023 5026 5028 = 6 of 10. Event (resolved month): Sep 6/10, Oct 7/11 (5016 moves).
# SLA first response, urgent 30, high 60, normal 120, low 240 min:
#   Sep urgent 5004 5 ok, 5010 70 late -> 1/1/0; high 5002 20, 5012 10 ok, 5007 90 late -> 2/1/0
#       normal 5001 45, 5005 2, 5009 60, 5014 30, 5016 40 ok; 5006 300, 5011 150 late, 5015
#       unanswered -> 5/3/0; low 5003 180, 5008 240 (= target) ok, 5013 600 late -> 2/1/0
#   Oct urgent 5018 15 ok, 5026 75 late -> 1/1/0; high 5023 45 ok, 5019 200 late, 5029
#       unanswered -> 1/2/0; normal 5017 25, 5021 3, 5022 100, 5027 30, 5028 110, 5032 65 ok;
#       5024 500 late, 5031 unanswered -> 6/2/0; low 5020 35, 5025 80, 5030 6 -> 3/0/0
# SLA resolution, urgent 8h, high 1d, normal 2d, low 4d:
#   Sep urgent 5004 180 min ok, 5010 1080 late -> 1/1/0; high 5002 1320, 5012 240 ok, 5007 2880
#       late -> 2/1/0; normal 5001 360, 5005 30, 5009 1440, 5011 1440, 5016 610 ok; 5006, 5014,
#       5015 open past target -> 5/3/0; low 5003 1440, 5013 4320 ok, 5008 open past 4d -> 2/1/0
#   Oct urgent 5018 240 ok, 5026 1560 late -> 1/1/0; high 5019 4320, 5023 1800 late, 5029 open
#       7740 min -> 0/3/0; normal 5017 180, 5021 30, 5024 1440, 5028 1080 ok; 5022, 5027, 5031
#       (3360 min) open past 2880; 5032 open 1860 min -> pending -> 4/3/1;
#       low 5020 500, 5025 5700, 5030 30 -> 3/0/0
#
# Intercom: tests/data/intercom/tickets.csv, 32 conversations, America/Chicago (CDT, UTC-5),
# cut-off 2026-10-31 09:00 CDT; durations in seconds. "Priority" = high, "Not priority" = normal.
# Conversations I1..I32 in file order.
# Volume: Sep I1-I16 = 16 (I16 at Sep 30 23:00 CDT), Oct I17-I32 = 16.
# First close ("Time to first close"): Sep open I7, I12, I15 -> 13/16; I16 closes Oct 1 01:00
#   (Sep 30 23:00 + 7200 s) -> event Sep 12. Oct open I22, I27, I29, I31 -> 12/16; event 13.
# First response, Sep n = 16, I12 unanswered:
#   30, 45, 90, 120, 150, 200, 300, [400], 600, 1200, 2400, 3600, 5400, 7200, 10000, cens -> 400 s
#   Oct n = 16, I29 (431100 s) and I31 (64800 s) censored:
#   20, 35, 50, 60, 75, 100, 150, [180], 240, 500, 900, 1000, 3000, 4000, cens, cens -> 180 s
# CSAT ("Last teammate rating" 1-5): created Sep ratings 5 4 2 5 3 5 1 4 5 2 4 (I1 I2 I3 I4 I5
#   I8 I9 I10 I13 I14 I16) -> 7 of 11 >= 4; Oct 5 5 3 4 2 5 1 4 4 5 4 (I17 I18 I19 I20 I21 I23
#   I24 I26 I28 I30 I32) -> 8 of 11. Event (last close month): Sep 6/10, Oct 9/12 (I16 moves).
# SLA first response, high 15 min, normal 1 h:
#   Sep high I2 300, I9 200 ok, I5 1200 late, I12 unanswered -> 2/2/0; normal I1 I4 I6 I7 I8 I11
#       I13 (3600 = target) I15 I16 ok, I3 5400, I10 7200, I14 10000 late -> 9/3/0
#   Oct high I18 500, I26 100 ok, I21 1000 late, I31 unanswered -> 2/2/0; normal I17 I20 I22 I23
#       I24 (3000) I25 I27 (900) I28 I30 I32 ok, I19 4000 late, I29 unanswered -> 10/2/0
# SLA resolution ("Time to close", the last close), high 4 h, normal 1 d:
#   Sep high I2 7200, I5 10800 ok, I9 20000 late, I12 open -> 2/2/0; normal I1 I3 (50000) I4 I8
#       I10 (80000) I11 I13 I16 ok, I6 90000, I14 100000 late, I7 and I15 open -> 8/4/0
#   Oct high I18 9000, I26 5000 ok, I21 16000 late, I31 open 64800 s -> 2/2/0; normal I17 I19
#       (60000) I20 I23 I25 I28 (30000) I30 I32 ok, I24 95000 late, I22 I27 I29 open -> 8/4/0
# ---------------------------------------------------------------------------------------------
EXPECTED = {
    "zendesk": {
        "rows": 34,
        "volume": {SEP: 18, OCT: 16},
        "resolved_event": {SEP: 12, OCT: 15},
        "resolved_created": {SEP: 15, OCT: 12},
        "frt_median_s": {SEP: 7200.0, OCT: 3300.0},
        "frt_censored": {SEP: 1, OCT: 2},
        "csat_created": {SEP: (8, 11), OCT: (8, 10)},
        "csat_event": {SEP: (6, 8), OCT: (10, 13)},
        "sla_first_response": {
            (SEP, "urgent"): (1, 1, 0), (SEP, "high"): (2, 2, 0), (SEP, "normal"): (4, 3, 0),
            (SEP, "low"): (2, 1, 0),
            (OCT, "urgent"): (2, 0, 0), (OCT, "high"): (1, 2, 0), (OCT, "normal"): (4, 3, 0),
            (OCT, "low"): (2, 1, 0),
        },
        "sla_resolution": {
            (SEP, "urgent"): (1, 1, 0), (SEP, "high"): (2, 2, 0), (SEP, "normal"): (5, 2, 0),
            (SEP, "low"): (2, 1, 0),
            (OCT, "urgent"): (1, 1, 0), (OCT, "high"): (1, 2, 0), (OCT, "normal"): (3, 3, 1),
            (OCT, "low"): (2, 1, 0),
        },
    },
    "freshdesk": {
        "rows": 32,
        "volume": {SEP: 16, OCT: 16},
        "resolved_event": {SEP: 11, OCT: 12},
        "resolved_created": {SEP: 12, OCT: 11},
        "frt_median_s": {SEP: 3600.0, OCT: 3900.0},
        "frt_censored": {SEP: 1, OCT: 2},
        "csat_created": {SEP: (7, 11), OCT: (6, 10)},
        "csat_event": {SEP: (6, 10), OCT: (7, 11)},
        "sla_first_response": {
            (SEP, "urgent"): (1, 1, 0), (SEP, "high"): (2, 1, 0), (SEP, "normal"): (5, 3, 0),
            (SEP, "low"): (2, 1, 0),
            (OCT, "urgent"): (1, 1, 0), (OCT, "high"): (1, 2, 0), (OCT, "normal"): (6, 2, 0),
            (OCT, "low"): (3, 0, 0),
        },
        "sla_resolution": {
            (SEP, "urgent"): (1, 1, 0), (SEP, "high"): (2, 1, 0), (SEP, "normal"): (5, 3, 0),
            (SEP, "low"): (2, 1, 0),
            (OCT, "urgent"): (1, 1, 0), (OCT, "high"): (0, 3, 0), (OCT, "normal"): (4, 3, 1),
            (OCT, "low"): (3, 0, 0),
        },
    },
    "intercom": {
        "rows": 32,
        "volume": {SEP: 16, OCT: 16},
        "resolved_event": {SEP: 12, OCT: 13},
        "resolved_created": {SEP: 13, OCT: 12},
        "frt_median_s": {SEP: 400.0, OCT: 180.0},
        "frt_censored": {SEP: 1, OCT: 2},
        "csat_created": {SEP: (7, 11), OCT: (8, 11)},
        "csat_event": {SEP: (6, 10), OCT: (9, 12)},
        "sla_first_response": {
            (SEP, "high"): (2, 2, 0), (SEP, "normal"): (9, 3, 0),
            (OCT, "high"): (2, 2, 0), (OCT, "normal"): (10, 2, 0),
        },
        "sla_resolution": {
            (SEP, "high"): (2, 2, 0), (SEP, "normal"): (8, 4, 0),
            (OCT, "high"): (2, 2, 0), (OCT, "normal"): (8, 4, 0),
        },
    },
}


@pytest.fixture(scope="module")
def datasets():
    return {v: load_dataset(DATA / v) for v in VENDORS}


def _by_period(res: pd.DataFrame, col: str = "value") -> dict:
    return {str(p): v for p, v in zip(res["period"], res[col], strict=True)}


def _rows(res: pd.DataFrame, key: tuple) -> pd.Series:
    sel = res["period"].astype("str") == key[0]
    if len(key) > 1:
        sel &= res["priority"] == key[1]
    assert sel.sum() == 1, f"expected one row for {key}, got {int(sel.sum())}"
    return res.loc[sel].iloc[0]


# --- loading -------------------------------------------------------------------------------
@pytest.mark.parametrize("vendor", VENDORS)
def test_export_loads_every_row(datasets, vendor):
    ds = datasets[vendor]
    # every row of the hand-made export is kept; the quality log holds notes only
    assert len(ds.tickets) == EXPECTED[vendor]["rows"]
    assert not (ds.quality["action"] == "excluded").any(), ds.quality
    assert set(ds.tickets["priority"]) <= {"low", "normal", "high", "urgent", "(missing)"}
    assert set(ds.tickets["status"].dropna()) <= set(TABLES["tickets"].column("status").allowed)
    assert set(ds.tickets["channel"]) <= {"email", "web", "chat", "phone", "social"}


def test_zendesk_values_mapped(datasets):
    t = datasets["zendesk"].tickets.set_index("ticket_id")
    # hand count of the file: 3 blank priorities kept as a level of their own
    assert (t["priority"] == "(missing)").sum() == 3
    assert t.loc["1014", "status"] == "on_hold"  # "On-hold"
    assert t.loc["1004", "channel"] == "phone"  # "Phone call (inbound)"
    assert t.loc["1002", "channel"] == "web"  # "Web form"
    assert t.loc["1007", "reopen_count"] == 1
    # first response = created + "First reply time in minutes" (200 min after Sep 9 16:10 EDT)
    assert t.loc["1007", "first_response_at"] == pd.Timestamp("2026-09-09T23:30:00Z")
    # "Solved at" is the final resolution, "First resolution time in minutes" the first one
    assert t.loc["1007", "resolved_at"] == pd.Timestamp("2026-09-13T20:10:00Z")
    assert t.loc["1007", "first_resolved_at"] == pd.Timestamp("2026-09-10T20:10:00Z")
    assert pd.isna(t.loc["1016", "first_response_at"])  # blank: not answered yet


def test_zendesk_ratings_become_answers_and_sends(datasets):
    ds = datasets["zendesk"]
    # 21 Good/Bad answers; sends = answers + 3 Offered; Not Offered is neither
    assert len(ds.surveys) == 21
    assert sorted(ds.surveys["score"].unique()) == [1.0, 5.0]
    assert len(ds.survey_sends) == 24
    assert set(ds.survey_sends["survey"]) == {"csat"}


def test_freshdesk_values_mapped(datasets):
    t = datasets["freshdesk"].tickets.set_index("ticket_id")
    assert t.loc["5001", "priority"] == "normal"  # Medium
    assert t.loc["5001", "status"] == "solved"  # Resolved
    assert t.loc["5008", "status"] == "pending"  # Waiting on Customer
    assert t.loc["5022", "status"] == "on_hold"  # Waiting on Third Party
    assert t.loc["5002", "channel"] == "web"  # Portal
    assert t.loc["5001", "customer_id"] == "80000"  # Contact ID
    # the only solved timestamp serves as first and final resolution
    assert t.loc["5007", "first_resolved_at"] == t.loc["5007", "resolved_at"]
    assert t.loc["5007", "first_response_at"] == pd.Timestamp("2026-09-09T05:00:00Z")  # 10:30 IST


def test_intercom_values_mapped(datasets):
    t = datasets["intercom"].tickets.reset_index(drop=True)
    assert t.loc[0, "ticket_id"] == "215470000037"
    assert t.loc[1, "priority"] == "high"  # "Priority"
    assert t.loc[0, "priority"] == "normal"  # "Not priority"
    assert t.loc[6, "status"] == "pending"  # snoozed
    assert set(t["category"]) == {"general"}  # defaults: Intercom has no category
    # created (09:05 CDT) + 600 s to the first close, + 4000 s to the last close
    assert t.loc[7, "first_resolved_at"] == pd.Timestamp("2026-09-10T14:15:00Z")
    assert t.loc[7, "resolved_at"] == pd.Timestamp("2026-09-10T15:11:40Z")


UNMAPPED = {
    # columns of each export the preset leaves out (listed by `kpitools validate`)
    "zendesk": ["Requester", "Requester email", "Subject", "Tags", "Updated at",
                "First reply time in minutes within business hours", "Full resolution time in minutes"],
    "freshdesk": ["Subject", "Due by Time", "Closed time", "Last update time", "Time tracked",
                  "First response time (in hrs)", "Resolution time (in hrs)", "Customer interactions",
                  "Resolution status", "First response status", "Tags", "Full name", "Email"],
    "intercom": ["Started by", "User email", "Conversation first replied at (America/Chicago)",
                 "Conversation last closed at (America/Chicago)",
                 "First response time, only within office hours (seconds)", "Conversation tag"],
}


@pytest.mark.parametrize("vendor", VENDORS)
def test_unmapped_export_columns(datasets, vendor):
    assert datasets[vendor].unmapped["tickets"] == UNMAPPED[vendor]


def test_zendesk_full_resolution_agrees_with_solved_at(datasets):
    # "Full resolution time in minutes" (unmapped) is Solved at - Created at: the export is consistent
    t = datasets["zendesk"].tickets
    full = pd.to_numeric(t["Full resolution time in minutes"])
    got = (t["resolved_at"] - t["created_at"]) / pd.Timedelta(minutes=1)
    assert full.notna().sum() == 27
    assert (got[full.notna()] == full[full.notna()]).all()
    assert got[full.isna()].isna().all()


# --- KPIs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("vendor", VENDORS)
def test_ticket_volume(datasets, vendor):
    res = ticket_volume(datasets[vendor])
    assert _by_period(res) == EXPECTED[vendor]["volume"]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("basis", ["event", "created"])
def test_resolved(datasets, vendor, basis):
    res = resolved(datasets[vendor], basis=basis)
    assert _by_period(res) == EXPECTED[vendor][f"resolved_{basis}"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_resolution_rate(datasets, vendor):
    res = resolution_rate(datasets[vendor])
    exp = EXPECTED[vendor]
    for p, n in exp["volume"].items():
        row = _rows(res, (p,))
        k = exp["resolved_created"][p]
        assert (row["numerator"], row["denominator"]) == (k, n)
        assert row["value"] == pytest.approx(k / n)
        assert row["open_at_cutoff"] == n - k


@pytest.mark.parametrize("vendor", VENDORS)
def test_first_response_median(datasets, vendor):
    res = first_response_time(datasets[vendor], clock="calendar")
    exp = EXPECTED[vendor]
    for p, median in exp["frt_median_s"].items():
        row = _rows(res, (p,))
        assert row["value"] == pytest.approx(median)
        assert row["n"] == exp["volume"][p]
        assert row["censored"] == exp["frt_censored"][p]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("basis", ["created", "event"])
def test_csat(datasets, vendor, basis):
    res = csat(datasets[vendor], basis=basis)
    for p, (top, n) in EXPECTED[vendor][f"csat_{basis}"].items():
        row = _rows(res, (p,))
        assert (row["numerator"], row["denominator"]) == (top, n)
        assert row["value"] == pytest.approx(top / n)


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("kpi", [sla_first_response, sla_resolution], ids=["first_response", "resolution"])
def test_sla_per_priority(datasets, vendor, kpi):
    res = kpi(datasets[vendor])
    expected = EXPECTED[vendor][kpi.__name__]
    for key, (ach, br, pend) in expected.items():
        row = _rows(res, key)
        assert (row["achieved"], row["breached"], row["pending"]) == (ach, br, pend), key
        assert row["value"] == pytest.approx(ach / (ach + br))
        assert row["clock"] == "calendar"


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("kpi", [sla_first_response, sla_resolution], ids=["first_response", "resolution"])
def test_sla_all_priorities(datasets, vendor, kpi):
    # per_priority=False sums the per-priority rows; a blank priority has no target
    res = kpi(datasets[vendor], per_priority=False)
    expected = EXPECTED[vendor][kpi.__name__]
    for p in (SEP, OCT):
        ach = sum(v[0] for k, v in expected.items() if k[0] == p)
        br = sum(v[1] for k, v in expected.items() if k[0] == p)
        row = _rows(res, (p,))
        assert (row["numerator"], row["denominator"]) == (ach, br + ach)


@pytest.mark.parametrize("vendor", VENDORS)
def test_kpi_table_on_export(datasets, vendor):
    # the whole catalogue runs on each export; its helpdesk rows agree with the hand values
    # (first response on kpi_table's default business clock is not checked here)
    table = kpi_table(datasets[vendor])
    exp = EXPECTED[vendor]
    vol = table[table["kpi"] == "ticket_volume"]
    assert _by_period(vol) == exp["volume"]
    rate = table[table["kpi"] == "resolution_rate"]
    assert _by_period(rate, "numerator") == exp["resolved_created"]
    sat = table[table["kpi"] == "csat"]
    assert _by_period(sat, "numerator") == {p: v[0] for p, v in exp["csat_event"].items()}
    skipped = set(table.attrs["skipped"]["kpi"])
    assert {"ticket_volume", "resolved", "resolution_rate", "first_response_time", "csat",
            "sla_first_response", "sla_resolution"}.isdisjoint(skipped)


def test_zendesk_blank_priority_has_no_sla_target(datasets):
    res = sla_first_response(datasets["zendesk"], per_priority=False)
    # September: 1005 and 1012 have no priority, so no target (no sla.default_priority set)
    assert "2 item(s) of a priority without a 'first_response' target left out" in _rows(res, (SEP,))["note"]


# --- presets themselves ----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_is_valid_settings(name):
    pre = PRESETS[name]
    assert set(pre) <= set(PRESET_KEYS)
    st = Settings.from_dict({"preset": name})  # validates every key against the contract
    # every required ticket column comes from a mapped column, a duration or a default
    covered = (set(st.mapping("tickets").values()) | {d["end"] for d in st.durations("tickets").values()}
               | set(st.defaults("tickets")))
    assert set(TABLES["tickets"].required) <= covered


def test_preset_returns_a_copy():
    p = preset("Zendesk")  # names match case-insensitively
    p["mapping"]["tickets"]["Id"] = "customer_id"
    assert PRESETS["zendesk"]["mapping"]["tickets"]["Id"] == "ticket_id"


def test_unknown_preset_lists_known_names():
    with pytest.raises(SettingsError, match=r"preset 'zendsk' is not known; known presets: freshdesk, intercom, "
                                            r"zendesk"):
        Settings.from_dict({"preset": "zendsk"})


def test_unknown_preset_in_dataset_yml(tmp_path):
    shutil.copy(DATA / "zendesk" / "tickets.csv", tmp_path / "tickets.csv")
    (tmp_path / "dataset.yml").write_text("preset: helpscout\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"dataset\.yml: preset 'helpscout' is not known; known presets: "
                                            r"freshdesk, intercom, zendesk"):
        load_dataset(tmp_path)


def _copy_with_settings(tmp_path: Path, vendor: str, **changes) -> Path:
    shutil.copy(DATA / vendor / "tickets.csv", tmp_path / "tickets.csv")
    cfg = yaml.safe_load((DATA / vendor / "dataset.yml").read_text(encoding="utf-8"))
    cfg.update(changes)
    (tmp_path / "dataset.yml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return tmp_path


def test_user_mapping_overrides_preset(tmp_path):
    # the preset maps "Requester id" onto customer_id; the user's own mapping onto the same
    # contract column wins, and the preset's column is left unmapped
    folder = _copy_with_settings(tmp_path, "zendesk",
                                 mapping={"tickets": {"Requester email": "customer_id"}})
    ds = load_dataset(folder)
    assert ds.tickets.set_index("ticket_id").loc["1001", "customer_id"] == "ava.brooks@example.com"
    assert "Requester id" in ds.unmapped["tickets"]
    assert "Requester email" not in ds.unmapped["tickets"]


def test_user_values_override_preset(tmp_path):
    # the preset reads Freshdesk's Medium as normal; this user's SLA calls it high
    folder = _copy_with_settings(tmp_path, "freshdesk", values={"tickets": {"priority": {"Medium": "high"}}})
    ds = load_dataset(folder)
    # hand count of the file: 16 Medium + 6 High tickets
    assert (ds.tickets["priority"] == "high").sum() == 22
    assert (ds.tickets["priority"] == "normal").sum() == 0
    # the other preset values still apply
    assert ds.tickets.set_index("ticket_id").loc["5001", "status"] == "solved"


def test_user_defaults_override_preset(tmp_path):
    folder = _copy_with_settings(tmp_path, "intercom", defaults={"tickets": {"category": "chat support"}})
    assert set(load_dataset(folder).tickets["category"]) == {"chat support"}


def test_user_rating_field_overrides_preset(tmp_path):
    # one field of the preset's rating entry is replaced; survey, scores and offered stay
    folder = _copy_with_settings(tmp_path, "zendesk",
                                 ratings={"tickets": {"Satisfaction Score": {"submitted_at": "Updated at"}}})
    ds = load_dataset(folder)
    spec = ds.settings.ratings("tickets")["Satisfaction Score"]
    assert (spec["survey"], spec["submitted_at"], spec["offered"]) == ("csat", "Updated at", ["Offered"])
    assert (len(ds.surveys), len(ds.survey_sends)) == (21, 24)
    # 1002 was updated (and solved) Sep 2 10:15 EDT
    at = ds.surveys.set_index("ticket_id").loc["1002", "submitted_at"]
    assert at == pd.Timestamp("2026-09-02T14:15:00Z")


def test_preset_columns_missing_from_export_are_skipped(tmp_path):
    # an export without some preset columns still loads; without "Ticket type" the preset's
    # default category applies, and the quality log says so
    t = pd.read_csv(DATA / "zendesk" / "tickets.csv", dtype=str, keep_default_na=False)
    t.drop(columns=["Ticket type", "Reopens", "Replies", "Satisfaction Score"]).to_csv(
        tmp_path / "tickets.csv", index=False)
    shutil.copy(DATA / "zendesk" / "dataset.yml", tmp_path / "dataset.yml")
    ds = load_dataset(tmp_path)
    assert len(ds.tickets) == 34
    assert set(ds.tickets["category"]) == {"general"}
    assert "reopen_count" not in ds.tickets.columns
    assert ds.surveys is None
    assert ((ds.quality["reason"] == "default_used") & (ds.quality["column"] == "category")).sum() == 1


def test_user_named_column_missing_from_export_is_an_error(tmp_path):
    folder = _copy_with_settings(tmp_path, "zendesk", mapping={"tickets": {"Organization": "product"}})
    with pytest.raises(DataError, match=r"dataset\.yml maps column\(s\) \['Organization'\] of table 'tickets', "
                                        r"but the file has no such column"):
        load_dataset(folder)


def test_presets_section_of_docs():
    # docs/real-exports.md "## Presets": every preset has its subsection, and each YAML example
    # there is valid settings as written
    text = (Path(__file__).parents[1] / "docs" / "real-exports.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Presets\n"):]
    for name in PRESETS:
        assert f"### `{name}`:" in section
    blocks = section.split("```yaml\n")[1:]
    assert len(blocks) == 3
    for block in blocks:
        Settings.from_dict(yaml.safe_load(block.split("```")[0]), source="docs")
