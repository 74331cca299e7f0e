"""Tests for kpitools.stats.survival: hand-worked Kaplan-Meier cases, statsmodels as reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.integrate import quad
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from kpitools.stats import survival
from kpitools.stats._common import StatisticalWarning, StatsInputError
from kpitools.stats.survival import (
    kaplan_meier,
    km_quantiles,
    km_summary,
    logrank,
    restricted_mean,
)

Z95 = stats.norm.ppf(0.975)

# Hand example: events at 1, 2, 2, 5, 7; censored at 3, 4, 8
HAND_T = np.array([1, 2, 2, 5, 7, 3, 4, 8], dtype=float)
HAND_O = np.array([1, 1, 1, 1, 1, 0, 0, 0], dtype=bool)


@pytest.fixture
def censored_sample():
    """Lognormal durations with uniform censoring, n odd so S never equals 0.5 exactly."""
    rng = np.random.default_rng(5)
    n = 301
    t = rng.lognormal(2.0, 1.0, n)
    c = rng.uniform(0, 40, n)
    return np.minimum(t, c), t <= c, rng.integers(0, 3, n)


# --------------------------------------------------------------------------- curve
def test_kaplan_meier_hand_example():
    curve = kaplan_meier(HAND_T, HAND_O)
    assert list(curve.columns) == ["time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"]
    # hand: S(1) = 7/8, S(2) = 7/8 x 5/7, S(5) = 0.625 x 2/3, S(7) = 0.41667 x 1/2
    expected = [7 / 8, 5 / 8, 5 / 8, 5 / 8, 5 / 12, 5 / 24, 5 / 24]
    np.testing.assert_allclose(curve["survival"], expected)
    np.testing.assert_array_equal(curve["time"], [1, 2, 3, 4, 5, 7, 8])
    np.testing.assert_array_equal(curve["at_risk"], [8, 7, 5, 4, 3, 2, 1])
    np.testing.assert_array_equal(curve["events"], [1, 2, 0, 0, 1, 1, 0])
    np.testing.assert_array_equal(curve["censored"], [0, 0, 1, 1, 0, 0, 1])
    # hand: log-log band at t = 1: G = 1/(8 x 7), S^exp(-+ z sqrt(G) / log S)
    s, g = 7 / 8, 1 / 56
    lo = s ** math.exp(-Z95 * math.sqrt(g) / math.log(s))
    hi = s ** math.exp(Z95 * math.sqrt(g) / math.log(s))
    assert curve["ci_low"].iloc[0] == pytest.approx(lo)
    assert curve["ci_high"].iloc[0] == pytest.approx(hi)


def test_kaplan_meier_matches_statsmodels(censored_sample):
    t, o, _ = censored_sample
    curve = kaplan_meier(t, o)
    sm = SurvfuncRight(t, o.astype(float))
    at_events = curve[curve["events"] > 0]
    np.testing.assert_allclose(at_events["time"], sm.surv_times)
    np.testing.assert_allclose(at_events["survival"], sm.surv_prob, rtol=1e-12)
    np.testing.assert_array_equal(at_events["at_risk"], sm.n_risk)


def test_kaplan_meier_without_events_and_empty():
    curve = kaplan_meier([1.0, 2.0], [False, False])
    np.testing.assert_array_equal(curve["survival"], [1.0, 1.0])
    assert curve["ci_low"].isna().all()
    assert kaplan_meier([], []).empty


# --------------------------------------------------------------------------- quantiles
def test_km_quantiles_hand_example():
    res = km_quantiles(HAND_T, HAND_O)
    assert list(res.columns) == ["q", "value", "ci_low", "ci_high", "n", "events", "censored"]
    # hand: S first <= 0.5 at t = 5 (S = 0.4167); S never <= 0.1, so p90 is NaN with n kept
    assert res["value"].iloc[0] == 5.0
    assert math.isnan(res["value"].iloc[1])
    assert res[["n", "events", "censored"]].iloc[1].tolist() == [8, 5, 3]
    sm = SurvfuncRight(HAND_T, HAND_O.astype(float))
    assert sm.quantile(0.5) == 5.0  # statsmodels agrees
    assert (res["ci_low"].iloc[0], res["ci_high"].iloc[0]) == sm.quantile_ci(0.5, method="cloglog")


@pytest.mark.parametrize("q", [0.25, 0.5, 0.75, 0.9])
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_km_quantiles_match_statsmodels(censored_sample, q, confidence):
    t, o, _ = censored_sample
    res = km_quantiles(t, o, q=q, confidence=confidence).iloc[0]
    sm = SurvfuncRight(t, o.astype(float))
    # statsmodels SurvfuncRight.quantile and quantile_ci(method="cloglog") (Brookmeyer-Crowley)
    assert res["value"] == sm.quantile(q)
    lo, hi = sm.quantile_ci(q, alpha=1 - confidence, method="cloglog")
    assert res["ci_low"] == lo
    assert res["ci_high"] == hi


def test_km_quantiles_not_reached_with_heavy_censoring():
    rng = np.random.default_rng(2)
    t = rng.exponential(10, 50)
    c = np.full(50, 2.0)  # cut-off after 2 time units: most tickets still open
    res = km_quantiles(np.minimum(t, c), t <= c)
    assert res["value"].isna().all()
    assert (res["n"] == 50).all() and (res["events"] < 25).all()


def test_km_quantiles_no_events():
    res = km_quantiles([1.0, 2.0, 3.0], [0, 0, 0])
    assert res["value"].isna().all() and (res["n"] == 3).all() and (res["events"] == 0).all()


# --------------------------------------------------------------------------- restricted mean
def test_restricted_mean_without_censoring_hand():
    # hand: no censoring, horizon 3: mean of min(T, 3) = 2; variance = population var / n = (2/3)/3
    res = restricted_mean([1.0, 2.0, 3.0], [True, True, True], horizon=3)
    assert res["value"] == pytest.approx(2.0)
    assert res["se"] == pytest.approx(math.sqrt(2 / 9))
    assert res["ci_low"] == pytest.approx(2.0 - Z95 * math.sqrt(2 / 9))


def test_restricted_mean_censored_hand():
    # hand: area under S up to 6 = 1 x 1 + 7/8 x 1 + 5/8 x 3 + 5/12 x 1
    res = restricted_mean(HAND_T, HAND_O, horizon=6)
    assert res["value"] == pytest.approx(1 + 7 / 8 + 15 / 8 + 5 / 12)
    assert res["n"] == 8 and res["events"] == 5


def test_censoring_bias_example():
    """docs/methods.md#censored-durations: lognormal durations with ~8% still open at the cut-off.

    The mean over closed tickets is biased low (there: 40 h against a true 49 h); the KM median
    and the restricted mean are not.
    """
    rng = np.random.default_rng(11)
    n = 4000
    mu, sigma = math.log(49) - 0.5, 1.0  # lognormal with true mean 49 h
    t = rng.lognormal(mu, sigma, n)
    age = rng.uniform(0, 600, n)  # hours between creation and the report cut-off
    observed = t <= age
    durations = np.minimum(t, age)
    assert 0.06 <= 1 - observed.mean() <= 0.10  # ~8% open
    closed_mean = durations[observed].mean()
    assert closed_mean < 45  # well below the true mean of 49 h
    # truth for the restricted mean: int_0^240 S(t) dt of the lognormal (scipy quad)
    horizon = 240.0
    truth, _ = quad(lambda x: stats.lognorm.sf(x, sigma, scale=math.exp(mu)), 0, horizon)
    rm = restricted_mean(durations, observed, horizon=horizon)
    assert rm["ci_low"] <= truth <= rm["ci_high"]
    assert closed_mean < rm["ci_low"]  # dropping open tickets understates even the restricted mean
    med = km_quantiles(durations, observed, q=0.5).iloc[0]
    assert med["ci_low"] <= math.exp(mu) <= med["ci_high"]  # true median exp(mu)


# --------------------------------------------------------------------------- log-rank
@pytest.mark.parametrize("k", [2, 3])
def test_logrank_matches_statsmodels_survdiff(censored_sample, k):
    t, o, g = censored_sample
    t = t * np.where(g == 0, 1.4, 1.0)  # make group 0 slower
    groups = np.array(["chat", "email", "phone"])[g % k]
    res = logrank(t, o, groups)
    chisq, p = survdiff(t, o.astype(float), groups)
    assert res["statistic"] == pytest.approx(chisq, rel=1e-10)
    assert res["p_value"] == pytest.approx(p, rel=1e-10)
    assert res["df"] == k - 1 and res["groups"] == k


def test_logrank_one_group_warns():
    with pytest.warns(StatisticalWarning, match="at least 2 groups"):
        res = logrank([1.0, 2.0], [True, True], ["a", "a"])
    assert math.isnan(res["statistic"])


# --------------------------------------------------------------------------- summary
def test_km_summary_by_group(censored_sample):
    t, o, g = censored_sample
    df = pd.DataFrame(
        {
            "hours": t,
            "resolved": o,
            "channel": pd.Categorical(np.array(["chat", "email", "phone"])[g], categories=["chat", "email", "phone", "sms"]),
        }
    )
    out = km_summary(df, duration="hours", observed="resolved", by="channel")
    assert out["channel"].tolist() == ["chat", "email", "phone", "sms"]
    assert isinstance(out["channel"].dtype, pd.CategoricalDtype)
    for name in ("chat", "email", "phone"):
        row = out[out["channel"] == name].iloc[0]
        mask = df["channel"] == name
        ref = km_quantiles(t[mask], o[mask], q=(0.5, 0.9))
        assert row["n"] == mask.sum()
        assert row["median"] == ref["value"].iloc[0] and row["median_ci_low"] == ref["ci_low"].iloc[0]
        assert row["p90"] == ref["value"].iloc[1] or (math.isnan(row["p90"]) and math.isnan(ref["value"].iloc[1]))
        # hand: mean over observed durations only
        assert row["mean_observed"] == pytest.approx(t[mask & o].mean())
    sms = out[out["channel"] == "sms"].iloc[0]
    assert sms["n"] == 0 and math.isnan(sms["median"])  # empty segment kept, NaN with its n


def test_km_summary_without_groups(censored_sample):
    t, o, _ = censored_sample
    df = pd.DataFrame({"h": t, "done": o})
    out = km_summary(df, duration="h", observed="done", q=(0.5, 0.75))
    assert len(out) == 1 and {"median", "p75", "p75_ci_low", "p75_ci_high"} <= set(out.columns)
    assert out["median"].iloc[0] == SurvfuncRight(t, o.astype(float)).quantile(0.5)


# --------------------------------------------------------------------------- validation
def test_validation_messages():
    with pytest.raises(StatsInputError, match="same length"):
        kaplan_meier([1.0, 2.0], [True])
    with pytest.raises(ValueError, match="durations must be finite and non-negative"):
        km_quantiles([1.0, -2.0], [True, True])
    with pytest.raises(ValueError, match="got timedeltas/datetimes"):
        kaplan_meier(pd.to_timedelta([1, 2], unit="h"), [True, True])
    with pytest.raises(ValueError, match="observed must be booleans"):
        kaplan_meier([1.0, 2.0], [2, 1])
    with pytest.raises(ValueError, match="q must be probabilities"):
        km_quantiles([1.0, 2.0], [True, True], q=50)
    with pytest.raises(ValueError, match="horizon must be a positive"):
        restricted_mean([1.0], [True], horizon=0)
    with pytest.raises(ValueError, match="data has no column"):
        km_summary(pd.DataFrame({"a": [1.0]}), duration="hours", observed="done")
    with pytest.raises(ValueError, match="one label per duration"):
        logrank([1.0, 2.0], [True, True], ["a"])
    with pytest.raises(ValueError, match="confidence must be"):
        kaplan_meier([1.0], [True], confidence=1.5)


def test_pandas_nullable_and_arrow_durations():
    # NA durations are dropped; arrow-backed numbers are accepted (pandas 3 readers produce them)
    t = pd.Series([*HAND_T, None], dtype="double[pyarrow]")
    o = pd.Series([*HAND_O, True])
    res = km_quantiles(t, o)
    ref = km_quantiles(HAND_T, HAND_O)
    pd.testing.assert_frame_equal(res, ref)


# --------------------------------------------------------------------------- vectorised km_summary
def _many_groups(seed, n_groups=400, n=12_000):
    """Censored data with many groups of very different sizes, ties, all-censored and empty groups."""
    rng = np.random.default_rng(seed)
    size = rng.zipf(1.6, n_groups).clip(max=n // 4)
    g = np.repeat(np.arange(n_groups), size)[:n]
    t = np.round(rng.lognormal(1.5, 1.0, g.size), 1)  # rounding makes tied times
    c = rng.uniform(0, 30, g.size)
    obs = t <= c
    dur = np.minimum(t, c)
    obs[g % 37 == 5] = False  # all-censored groups
    dur[rng.random(g.size) < 0.01] = np.nan  # NaN durations are dropped
    labels = np.array([f"g{i:03d}" for i in range(n_groups + 3)])  # three categories never seen
    df = pd.DataFrame({
        "hours": dur,
        "done": obs,
        "team": pd.Categorical(labels[g], categories=labels),
        "tier": np.where(g % 2 == 0, "a", "b"),
    })
    return df


@pytest.mark.parametrize(("seed", "q", "confidence"), [(1, (0.5, 0.9), 0.95), (2, (0.25, 0.5, 0.75), 0.9)])
def test_km_summary_equals_per_group_km_quantiles(seed, q, confidence):
    # reference: km_quantiles (scipy ecdf + Brookmeyer-Crowley, itself checked against
    # statsmodels above) on each group alone, and the former per-group km_summary loop
    df = _many_groups(seed)
    out = km_summary(df, duration="hours", observed="done", by="team", q=q, confidence=confidence)
    pd.testing.assert_frame_equal(
        out, survival._km_summary_loop(df, duration="hours", observed="done", by="team", q=q,
                                       confidence=confidence), check_exact=True)
    labs = [survival._q_label(v) for v in q]
    assert out["team"].tolist() == df["team"].cat.categories.tolist()
    assert (out["n"] == 0).sum() >= 3 and (out["events"] == 0).sum() > 3  # empty and all-censored
    for _, row in out.iterrows():
        mask = (df["team"] == row["team"]).to_numpy()
        ref = km_quantiles(df["hours"][mask], df["done"][mask], q=q, confidence=confidence)
        assert row["n"] == int(df["hours"][mask].notna().sum())
        for lab, (_, r) in zip(labs, ref.iterrows(), strict=True):
            got = [row[lab], row[f"{lab}_ci_low"], row[f"{lab}_ci_high"]]
            np.testing.assert_array_equal(got, [r["value"], r["ci_low"], r["ci_high"]])


def test_km_summary_two_keys_and_padding_chunks(monkeypatch):
    # several chunks (tiny padding budget) and a two-column grouping give the same table
    df = _many_groups(3, n_groups=120, n=4000)
    ref = survival._km_summary_loop(df, duration="hours", observed="done", by=["tier", "team"])
    monkeypatch.setattr(survival, "_PAD_BUDGET", 50)
    out = km_summary(df, duration="hours", observed="done", by=["tier", "team"])
    pd.testing.assert_frame_equal(out, ref, check_exact=True)
    whole = km_summary(df, duration="hours", observed="done")
    pd.testing.assert_frame_equal(whole, survival._km_summary_loop(df, duration="hours", observed="done"),
                                  check_exact=True)


def test_km_summary_codes_equals_km_summary_by_group():
    # reference: km_summary grouped by the category (itself equal to the per-group loop above);
    # rows with code -1 belong to no group and do not change the others
    df = _many_groups(4)
    codes = df["team"].cat.codes.to_numpy().astype(np.int64)
    codes[::50] = -1
    kept = df[codes >= 0]
    ref = km_summary(kept, duration="hours", observed="done", by="team", horizon=12.0)
    out = survival.km_summary_codes(df["hours"].to_numpy(), df["done"].to_numpy(), codes,
                                    n_groups=len(df["team"].cat.categories), horizon=12.0)
    pd.testing.assert_frame_equal(out, ref.drop(columns="team"), check_exact=True)
    with pytest.raises(StatsInputError, match="codes must be integers"):
        survival.km_summary_codes([1.0], [True], [3], n_groups=2)


# --------------------------------------------------------------------------- km_summary horizon
def test_km_summary_restricted_mean_by_hand():
    # Group a: 2, 3+, 5, 7 with horizon 6. KM: S = 3/4 from 2; 3 censored (2 left at risk);
    # S = 3/4 * 1/2 = 3/8 from 5; 7 is beyond the horizon.
    #   RMST = 2 * 1 + (5 - 2) * 3/4 + (6 - 5) * 3/8 = 2 + 2.25 + 0.375 = 4.625
    #   A(2) = 2.25 + 0.375 = 2.625, A(5) = 0.375;
    #   Var = 2.625^2 * 1 / (4 * 3) + 0.375^2 * 1 / (2 * 1) = 0.57421875 + 0.0703125 = 0.64453125
    # Group b: 1+, 2+ (all censored, followed up to 2 < 6): the area beyond 2 is unknown -> NaN.
    # Group c: 1, 3 (no censoring): RMST = 1 * 1 + (3 - 1) * 1/2 = 2 = mean of min(T, 6); the
    #   curve reaches 0 at 3, so the short follow-up is no problem. Var = 1^2 * 1 / (2 * 1) = 0.5
    #   = population variance ((1-2)^2 + (3-2)^2) / 2 = 1, divided by n = 2.
    # Group d: 7+, 9+ (all censored beyond the horizon): RMST = 6, se 0.
    df = pd.DataFrame({
        "t": [2.0, 3.0, 5.0, 7.0, 1.0, 2.0, 1.0, 3.0, 7.0, 9.0],
        "o": [True, False, True, True, False, False, True, True, False, False],
        "g": list("aaaabbccdd"),
    })
    out = km_summary(df, duration="t", observed="o", by="g", horizon=6).set_index("g")
    assert out.loc["a", "rmst"] == pytest.approx(4.625, rel=1e-14)
    assert out.loc["a", "rmst_se"] == pytest.approx(math.sqrt(0.64453125), rel=1e-14)
    z = stats.norm.ppf(0.975)
    assert out.loc["a", "rmst_ci_low"] == pytest.approx(4.625 - z * math.sqrt(0.64453125))
    assert out.loc["a", "rmst_ci_high"] == pytest.approx(4.625 + z * math.sqrt(0.64453125))
    assert math.isnan(out.loc["b", "rmst"]) and math.isnan(out.loc["b", "rmst_ci_low"])
    assert out.loc["c", "rmst"] == pytest.approx(2.0) and out.loc["c", "rmst_se"] == pytest.approx(math.sqrt(0.5))
    assert out.loc["d", "rmst"] == 6.0 and out.loc["d", "rmst_se"] == 0.0
    assert (out["rmst_horizon"] == 6.0).all()
    # the single-group function gives the same numbers
    a = df[df["g"] == "a"]
    ref = restricted_mean(a["t"], a["o"], horizon=6)
    assert ref["value"] == pytest.approx(4.625) and ref["se"] == pytest.approx(math.sqrt(0.64453125))


@pytest.mark.parametrize("horizon", [5.0, 12.0, 40.0])
def test_km_summary_horizon_equals_restricted_mean_loop(horizon):
    # random groups with ties and censoring: every group followed up to the horizon equals
    # restricted_mean on the group alone (up to rounding: the loop also sums the censoring-only
    # knots, where S does not change); the columns without horizon stay identical
    rng = np.random.default_rng(8)
    n = 1500
    df = pd.DataFrame({"h": np.round(rng.lognormal(2.0, 0.8, n), 1), "done": rng.random(n) < 0.75,
                       "team": rng.integers(0, 40, n).astype(str)})
    df.loc[df["team"] == "7", "done"] = False
    out = km_summary(df, duration="h", observed="done", by="team", horizon=horizon)
    base = km_summary(df, duration="h", observed="done", by="team")
    pd.testing.assert_frame_equal(out[base.columns], base)
    assert list(out.columns[-7:]) == ["mean_observed", "rmst", "rmst_se", "rmst_ci_low", "rmst_ci_high",
                                      "rmst_horizon", "confidence"]
    checked = 0
    for _, r in out.iterrows():
        g = df[df["team"] == r["team"]]
        ref = restricted_mean(g["h"], g["done"], horizon=horizon)
        surv_last = kaplan_meier(g["h"], g["done"])["survival"].iloc[-1]
        if g["h"].max() < horizon and surv_last > 0:
            assert math.isnan(r["rmst"])
            continue
        checked += 1
        assert r["rmst"] == pytest.approx(ref["value"], rel=1e-12)
        assert r["rmst_se"] == pytest.approx(ref["se"], rel=1e-12, abs=1e-12)
        assert r["rmst_ci_low"] == pytest.approx(ref["ci_low"], rel=1e-12)
    assert checked >= 30


def test_km_summary_horizon_checked():
    df = pd.DataFrame({"h": [1.0, 2.0], "done": [True, True]})
    for bad in (0, -1.0, float("inf"), "x"):
        with pytest.raises(StatsInputError, match="horizon"):
            km_summary(df, duration="h", observed="done", horizon=bad)
