"""Tests of kpitools.summary on hand-made KPI tables (no dataset)."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from kpitools import summary
from kpitools.stats.changes import period_changes

SEP, OCT = pd.Period("2026-09", "M"), pd.Period("2026-10", "M")

CAT = pd.DataFrame({
    "kpi": ["csat", "reopen_rate", "resolution_rate", "ticket_volume", "sla_first_response"],
    "title": ["CSAT", "Reopen rate", "Resolution rate", "Ticket volume", "SLA compliance: first response"],
    "group": ["quality", "quality", "volume", "volume", "sla"],
    "unit": ["share", "share", "share", "count", "share"],
    "higher_is_better": [True, False, True, None, True],
    "clock": [None, None, None, None, "business"],
})


def _prop(kpi, period, x, n, *, target=np.nan, note=None, **seg):
    return dict(kpi=kpi, period=period, value=x / n, numerator=x, denominator=n, n=n, unit="share",
                stat="proportion", target=target,
                target_met=pd.NA if np.isnan(target) else x / n >= target, note=note, **seg)


def _table(rows):
    df = pd.DataFrame(rows)
    df["period"] = pd.PeriodIndex(df["period"], freq="M")
    df["target_met"] = df["target_met"].astype("boolean")
    df["unit"] = df["unit"].astype("str")
    df["stat"] = df["stat"].astype("str")
    return df


def _month_pair():
    rows = [
        # CSAT drops from 300/400 to 240/400: a significant worsening that also misses 85 %
        _prop("csat", SEP, 300, 400, target=0.85), _prop("csat", OCT, 240, 400, target=0.85),
        # reopen rate 40/400 -> 42/400: no significant change
        _prop("reopen_rate", SEP, 40, 400), _prop("reopen_rate", OCT, 42, 400),
        # resolution rate of a cohort still maturing: 1000/1000 -> 900/1000, not a drop
        _prop("resolution_rate", SEP, 1000, 1000),
        _prop("resolution_rate", OCT, 900, 1000,
              note="cohort still maturing: 100 ticket(s) still open at the cut-off"),
    ]
    return period_changes(_table(rows))


def test_significant_worsening_gives_a_sentence_with_its_figures():
    ch = _month_pair()
    s = summary.summary_sentences(ch, month="2026-10", catalogue=CAT, min_n=30)
    worse = s[s["topic"] == "worse"]
    assert len(worse) == 1 and worse["kpi"].iloc[0] == "csat"
    text = worse["text"].iloc[0]
    # 240/400 = 60.0 %, 300/400 = 75.0 %, change -15.0 pp, n 400
    assert "CSAT 60.0% against 75.0% in September 2026" in text
    assert "-15.0 pp" in text and "n 400" in text
    # Newcombe interval of 0.60 - 0.75, independent source: statsmodels
    lo, hi = confint_proportions_2indep(240, 400, 300, 400, method="newcomb", compare="diff")
    assert f"95% interval {100 * lo:.1f} pp to {100 * hi:+.1f} pp" in text
    # the family: CSAT and reopen rate (resolution rate excluded as maturing), both comparisons
    # exist only against the previous month, so 2 KPIs compared
    assert "across 2 KPIs against the previous period" in text
    # the adjusted p-value: BH over the two p-values, independent source: statsmodels
    p = ch.loc[(ch["period"] == OCT) & ch["kpi"].isin(["csat", "reopen_rate"]), "p_value"].to_numpy()
    adj = multipletests(p, method="fdr_bh")[1]
    assert f"adjusted p {adj[0]:.2g}" in text


def test_non_significant_change_yields_no_sentence():
    s = summary.summary_sentences(_month_pair(), month="2026-10", catalogue=CAT)
    assert not s["text"].str.contains("Reopen rate").any()
    assert not s["kpi"].str.contains("reopen_rate").any()


def test_maturing_cohort_yields_no_dropped_sentence():
    # 900/1000 vs 1000/1000 would be hugely significant, but the cohort is still maturing
    s = summary.summary_sentences(_month_pair(), month="2026-10", catalogue=CAT)
    assert not s["text"].str.contains("Resolution rate").any()


def test_missed_target_names_the_worst_segment():
    ch = _month_pair()
    seg = _table([
        _prop("csat", OCT, 110, 200, target=0.85, channel="email"),   # 55 %: furthest behind
        _prop("csat", OCT, 130, 200, target=0.85, channel="chat"),    # 65 %
        _prop("csat", OCT, 9, 10, target=0.85, channel="phone"),      # n 10 < min_n: not judged
    ])
    s = summary.summary_sentences(ch, month="2026-10", catalogue=CAT, segment_rows=seg, min_n=30)
    target = s[s["topic"] == "target"]["text"].iloc[0]
    assert target.startswith("Missed targets, furthest first: CSAT 60.0% against 85.0%")
    assert "furthest behind: email (channel) at 55.0% against 85.0%" in target and "n 200" in target
    assert "phone" not in target
    w = summary.worst_segments(seg, month="2026-10", catalogue=CAT, min_n=30)
    assert w[["kpi", "segment", "level"]].values.tolist() == [["csat", "channel", "email"]]
    assert w["shortfall"].iloc[0] == pytest.approx(0.85 - 0.55)   # target - value
    assert w["segments_judged"].iloc[0] == 2


def test_target_met_overall_but_missed_by_a_segment_is_named():
    rows = [_prop("sla_first_response", SEP, 900, 1000, target=0.9),
            _prop("sla_first_response", OCT, 938, 1000, target=0.9)]
    ch = period_changes(_table(rows))
    seg = _table([_prop("sla_first_response", OCT, 80, 90, target=0.9, priority="urgent"),
                  _prop("sla_first_response", OCT, 858, 910, target=0.9, priority="normal")])
    s = summary.summary_sentences(ch, month="2026-10", catalogue=CAT, segment_rows=seg)
    t = s[s["topic"] == "target"]["text"].iloc[0]
    # 938/1000 = 93.8 % met; urgent 80/90 = 88.9 % < 90 %
    assert "SLA compliance: first response met overall (93.8%, n 1,000) but urgent (priority) at 88.9%" in t


def test_nothing_changed_says_so():
    rows = [_prop("reopen_rate", SEP, 40, 400, target=0.12), _prop("reopen_rate", OCT, 42, 400, target=0.12)]
    rows[1]["target_met"] = True        # 10.5 % against at most 12 %
    spikes = summary.spike_table(pd.DataFrame(columns=["date", "detector", "observed", "expected", "excess",
                                                       "launch_names", "days_since_launch", "explained"]))
    staffing = pd.DataFrame({"channel": ["phone"], "intervals": [400], "short_intervals": [0],
                             "interval_s": [1800.0]})
    s = summary.summary_sentences(period_changes(_table(rows)), month="2026-10", catalogue=CAT,
                                  spikes=spikes, staffing=staffing)
    assert s["topic"].tolist() == ["no change", "target", "spikes", "staffing"]
    assert s["text"].iloc[0].startswith("Nothing changed significantly in October 2026")
    assert "1 KPIs against the previous period" in s["text"].iloc[0]
    assert s["text"].iloc[1] == "Every target was met: 1 KPIs with a target and at least 30 answers or items."
    assert s["text"].iloc[2] == "No spike day of ticket volume."
    assert s["text"].iloc[3].startswith("No staffing interval with contacts was short")


def test_first_month_has_nothing_to_compare_with():
    s = summary.summary_sentences(period_changes(_table([_prop("reopen_rate", OCT, 42, 400)])),
                                  month="2026-10", catalogue=CAT)
    assert s["text"].tolist() == ["No change could be tested in October 2026: there is no earlier month "
                                  "with at least 30 answers to compare with."]


def test_small_samples_are_not_judged():
    # 2 answers: a "drop" from 100 % to 0 % and a missed target are not reported below min_n
    rows = [_prop("csat", SEP, 2, 2, target=0.85), _prop("csat", OCT, 0, 2, target=0.85)]
    s = summary.summary_sentences(period_changes(_table(rows)), month="2026-10", catalogue=CAT, min_n=30)
    assert not s["text"].str.contains("CSAT").any()


def test_spikes_and_staffing_sentences():
    attribution = pd.DataFrame({
        "date": pd.to_datetime(["2026-10-05", "2026-10-05", "2026-10-20"]),
        "detector": ["negbin", "seasonal_esd", "negbin"],
        "observed": [90.0, 90.0, 70.0], "expected": [50.0, 55.0, 40.0], "excess": [40.0, 35.0, 30.0],
        "launch_names": ["Offline mode", "Offline mode", None], "days_since_launch": [2.0, 2.0, np.nan],
        "explained": [True, True, False]})
    sp = summary.spike_table(attribution)
    # one row per day, detectors joined, the lowest baseline and largest excess
    assert sp["found by"].tolist() == ["negative-binomial model, seasonal-hybrid ESD", "negative-binomial model"]
    assert sp["expected"].tolist() == [50.0, 40.0] and sp["excess"].tolist() == [40.0, 30.0]
    assert sp["explained"].tolist() == ["yes", "no"] and sp["launch before it"].tolist() == ["Offline mode", "none"]
    staffing = pd.DataFrame({"channel": ["phone", "chat"], "intervals": [400, 300],
                             "short_intervals": [52, 0], "interval_s": [1800.0, 1800.0]})
    s = summary.summary_sentences(_month_pair(), month="2026-10", catalogue=CAT, spikes=sp,
                                  staffing=staffing)
    spike = s[s["topic"] == "spikes"]["text"].iloc[0]
    assert "2 spike days of ticket volume (5 Oct 2026 to 20 Oct 2026)" in spike
    assert "5 Oct 2026 (90 tickets, about 50 expected) 2 days after Offline mode" in spike
    assert "explained by no launch: 20 Oct 2026 (70 tickets, about 40 expected)" in spike
    staff = s[s["topic"] == "staffing"]["text"].iloc[0]
    # 52 / 400 = 13.0 %; chat has no short interval and is not named
    assert "phone in 13.0% of its 400 30-minute intervals with contacts (52)" in staff
    assert "chat" not in staff
    assert 3 <= len(s) <= 7


def test_sentences_are_capped_and_errors_are_clear():
    s = summary.summary_sentences(_month_pair(), month="2026-10", catalogue=CAT, max_sentences=1)
    assert len(s) == 1 and list(s.columns) == summary.SENTENCE_COLUMNS
    with pytest.raises(ValueError, match="max_sentences: expected a positive int"):
        summary.summary_sentences(_month_pair(), month="2026-10", catalogue=CAT, max_sentences=0)
    with pytest.raises(ValueError, match=r"changes: missing column\(s\) \['value'\]"):
        summary.summary_sentences(_month_pair().drop(columns="value"), month="2026-10", catalogue=CAT)
    with pytest.raises(TypeError, match="changes: expected a pandas DataFrame"):
        summary.summary_sentences([1], month="2026-10", catalogue=CAT)


def test_summary_html_escapes():
    s = pd.DataFrame({"topic": ["worse"], "kpi": ["x"], "text": ["<script>alert(1)</script>"]})
    h = summary.summary_html(s)._repr_html_()
    assert "<script>" not in h and h.startswith('<ul class="kpi-summary"><li class="worse">')


def test_maturing_cohort_at_equal_age_joins_the_family():
    from kpitools.stats.intervals import proportion_difference

    # at equal age 700/1000 against 800/1000: a real drop, tested with CSAT and reopen rate
    r = proportion_difference(700, 1000, 800, 1000)
    eq = pd.DataFrame([{"kpi": "resolution_rate", "period": OCT, "against": SEP, "age_s": 115200.0,
                        "value": 0.7, "against_value": 0.8, "n": 1000, "against_n": 1000,
                        "change": r["difference"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                        "p_value": r["p_value"], "test": "newcombe+z"}])
    s = summary.summary_sentences(_month_pair(), month="2026-10", catalogue=CAT, equal_age=eq)
    worse = s[s["topic"] == "worse"]["text"].iloc[0]
    assert "Resolution rate at equal age 70.0% against 80.0% in September 2026 (-10.0 pp" in worse
    assert "across 3 KPIs against the previous period" in worse


def test_summary_and_scorecard_read_the_same_family():
    from kpitools import plots

    ch = _month_pair()
    s = summary.summary_sentences(ch, month="2026-10", catalogue=CAT)
    sc = plots.scorecard_table(ch, month="2026-10", changes=ch, catalogue=CAT).frame.set_index("kpi")
    # the scorecard's adjusted p of CSAT is the one the summary quotes
    assert f"adjusted p {sc.at['csat', 'p_value']:.2g}" in s[s["topic"] == "worse"]["text"].iloc[0]
    assert sc.at["csat", "verdict"] == "worse"
