"""Tests for kpitools.stats.changes: period changes, Benjamini-Hochberg, beta-binomial shrinkage."""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from statsmodels.stats import rates as sm_rates
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from kpitools.stats._common import StatisticalWarning, StatsInputError
from kpitools.stats.changes import (
    benjamini_hochberg,
    period_changes,
    shrink_agent_rates,
    shrink_rates,
)

# --------------------------------------------------------------------------- BH


def test_bh_matches_statsmodels(rng):
    p = np.r_[rng.uniform(size=30), rng.uniform(0, 0.01, size=10)]
    adj, rej = benjamini_hochberg(p, alpha=0.05)
    sm_rej, sm_adj, _, _ = multipletests(p, alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(adj, sm_adj, rtol=1e-12)
    np.testing.assert_array_equal(rej, sm_rej)


def test_bh_leaves_nan_out_of_the_family():
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan])
    adj, rej = benjamini_hochberg(p, alpha=0.05)
    sm_rej, sm_adj, _, _ = multipletests(p[~np.isnan(p)], alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(adj[~np.isnan(p)], sm_adj)
    assert np.isnan(adj[[1, 4]]).all() and not rej[[1, 4]].any()
    # by hand: sorted 0.01, 0.03, 0.04 with m = 3 -> 0.03, 0.045, 0.04 -> monotone 0.03, 0.04, 0.04
    np.testing.assert_allclose(adj[[0, 3, 2]], [0.03, 0.04, 0.04])


def test_bh_errors():
    with pytest.raises(StatsInputError, match="alpha must be"):
        benjamini_hochberg([0.1], alpha=1.5)
    with pytest.raises(StatsInputError, match=r"p_values must lie in \[0, 1\]"):
        benjamini_hochberg([0.1, 1.2])


# --------------------------------------------------------------------------- period changes


def _rows(**cols):
    df = pd.DataFrame(cols)
    df["period"] = pd.PeriodIndex(df["period"], freq="M")
    return df


def test_proportion_change_matches_statsmodels_newcombe():
    rows = _rows(
        kpi=["csat", "csat"],
        period=["2026-09", "2026-10"],
        value=[0.80, 0.85],
        numerator=[80.0, 85.0],
        denominator=[100.0, 100.0],
        n=[100, 100],
        stat=["proportion", "proportion"],
    )
    out = period_changes(rows).set_index(rows["period"].astype(str))
    r = out.loc["2026-10"]
    # statsmodels confint_proportions_2indep(85, 100, 80, 100, method="newcomb", compare="diff")
    lo, hi = confint_proportions_2indep(85, 100, 80, 100, method="newcomb", compare="diff")
    assert r["change"] == pytest.approx(0.05)
    assert r["change_ci_low"] == pytest.approx(lo, abs=1e-10)
    assert r["change_ci_high"] == pytest.approx(hi, abs=1e-10)
    # pooled two-proportion z test: statsmodels proportions_ztest
    assert r["p_value"] == pytest.approx(proportions_ztest([85, 80], [100, 100])[1], rel=1e-10)
    assert r["test"] == "newcombe+z"
    assert r["prev_value"] == 0.80 and str(r["prev_period"]) == "2026-09"
    assert out.loc["2026-09", "test"] == "none" and np.isnan(out.loc["2026-09", "p_value"])
    assert r["p_adjust_method"] == "fdr_bh"


def test_proportion_in_percent_is_reported_in_percent():
    rows = _rows(
        kpi=["fcr"] * 2, period=["2026-09", "2026-10"], value=[80.0, 85.0],
        numerator=[80.0, 85.0], denominator=[100.0, 100.0], n=[100, 100], stat=["proportion"] * 2,
    )
    r = period_changes(rows).iloc[1]
    lo, hi = confint_proportions_2indep(85, 100, 80, 100, method="newcomb", compare="diff")
    assert r["change"] == pytest.approx(5.0)
    assert r["change_ci_low"] == pytest.approx(100 * lo) and r["change_ci_high"] == pytest.approx(100 * hi)


def test_nps_change_mover_from_reference_intervals():
    # docs/methods.md#nps-score-interval reference Tango score intervals: (10,20,70) -> [0.4522, 0.7128],
    # (2,3,5) -> [-0.2166, 0.6753]. MOVER by hand: D = 0.6 - 0.3,
    # L = D - sqrt((0.6 - 0.4522)^2 + (0.6753 - 0.3)^2), U = D + sqrt((0.7128 - 0.6)^2 + (0.3 + 0.2166)^2)
    D = 0.3
    L = D - np.hypot(0.6 - 0.4522, 0.6753 - 0.3)
    U = D + np.hypot(0.7128 - 0.6, 0.3 + 0.2166)
    rows = _rows(
        kpi=["nps"] * 2, period=["2026-09", "2026-10"], value=[30.0, 60.0],
        detractors=[2.0, 10.0], passives=[3.0, 20.0], promoters=[5.0, 70.0], n=[10, 100],
        stat=["nps"] * 2,
    )
    r = period_changes(rows).iloc[1]
    assert r["change"] == pytest.approx(30.0)
    assert r["change_ci_low"] == pytest.approx(100 * L, abs=0.02)
    assert r["change_ci_high"] == pytest.approx(100 * U, abs=0.02)
    assert r["test"] == "mover+adjusted_wald_z"
    # adjusted-Wald z test by hand: add 0.75/1.5/0.75, Wald on the adjusted shares
    def adj(d, s, p):
        m = d + s + p + 3
        pp, pd_ = (p + 0.75) / m, (d + 0.75) / m
        return (p - d) / m, (pp + pd_ - (pp - pd_) ** 2) / m

    a1, v1 = adj(10, 20, 70)
    a2, v2 = adj(2, 3, 5)
    z = (a1 - a2) / np.sqrt(v1 + v2)
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)


def test_mean_change_is_welch_t():
    rows = _rows(
        kpi=["ces"] * 2, period=["2026-09", "2026-10"], value=[3.2, 3.6], mean=[3.2, 3.6],
        sd=[1.1, 0.9], n=[40, 25], stat=["mean"] * 2,
    )
    r = period_changes(rows).iloc[1]
    # scipy.stats.ttest_ind_from_stats(equal_var=False) for the p-value and df
    t = stats.ttest_ind_from_stats(3.6, 0.9, 25, 3.2, 1.1, 40, equal_var=False)
    assert r["p_value"] == pytest.approx(t.pvalue, rel=1e-10)
    se = np.sqrt(0.9**2 / 25 + 1.1**2 / 40)
    df = se**4 / ((0.9**2 / 25) ** 2 / 24 + (1.1**2 / 40) ** 2 / 39)
    half = stats.t.ppf(0.975, df) * se
    assert r["change_ci_low"] == pytest.approx(0.4 - half)
    assert r["change_ci_high"] == pytest.approx(0.4 + half)
    assert r["test"] == "welch_t"


def test_count_change_is_exact_conditional_poisson():
    rows = _rows(
        kpi=["volume"] * 2, period=["2026-09", "2026-10"], value=[1000.0, 1100.0], n=[1000, 1100],
        stat=["count"] * 2,
    )
    r = period_changes(rows).iloc[1]
    # statsmodels test_poisson_2indep(method="exact-cond") and scipy binomtest agree
    sm = sm_rates.test_poisson_2indep(1100, 1, 1000, 1, method="exact-cond")
    assert r["p_value"] == pytest.approx(sm.pvalue, rel=1e-8)
    assert r["p_value"] == pytest.approx(stats.binomtest(1100, 2100, 0.5).pvalue, rel=1e-8)
    assert r["change"] == 100
    assert r["change_ci_low"] == pytest.approx(100 - 1.959964 * np.sqrt(2100), rel=1e-6)


def test_durations_and_ratios_get_no_test():
    rows = _rows(
        kpi=["frt"] * 2, period=["2026-09", "2026-10"], value=[3600.0, 3000.0], n=[50, 60],
        stat=["duration"] * 2,
    )
    r = period_changes(rows).iloc[1]
    assert r["change"] == -600.0
    assert r["test"] == "none" and np.isnan(r["p_value"]) and pd.isna(r["significant"])


def test_yoy_and_bh_across_segments():
    months = ["2025-10", "2026-09", "2026-10"]
    chans = ["email", "chat", "phone"]
    num = {"email": [70, 80, 85], "chat": [60, 60, 75], "phone": [50, 50, 51]}
    rows = _rows(
        kpi=["csat"] * 9,
        period=[m for _ in chans for m in months],
        channel=pd.array([c for c in chans for _ in months], dtype="str"),
        value=[v / 100 for c in chans for v in num[c]],
        numerator=[float(v) for c in chans for v in num[c]],
        denominator=[100.0] * 9,
        n=[100] * 9,
        stat=["proportion"] * 9,
    )
    out = period_changes(rows)
    oct26 = out[out["period"].astype(str) == "2026-10"].set_index("channel")
    # vs previous month, each channel's own p-value
    for c in chans:
        x1, x2 = num[c][2], num[c][1]
        assert oct26.loc[c, "p_value"] == pytest.approx(proportions_ztest([x1, x2], [100, 100])[1])
        assert oct26.loc[c, "yoy_value"] == num[c][0] / 100
        assert str(oct26.loc[c, "yoy_period"]) == "2025-10"
    # BH across the three channels of csat in 2026-10: statsmodels multipletests
    rej, adj, _, _ = multipletests(oct26["p_value"], alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(oct26["p_adjusted"], adj)
    np.testing.assert_array_equal(oct26["significant"].to_numpy(dtype=bool), rej)
    assert (oct26["n_tests"] == 3).all()
    rej, adj, _, _ = multipletests(oct26["yoy_p_value"], alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(oct26["yoy_p_adjusted"], adj)
    # 2026-09 has a previous month only for none of the rows -> family of 0 tests
    sep = out[out["period"].astype(str) == "2026-09"]
    assert sep["p_value"].isna().all() and (sep["n_tests"] == 0).all()


def test_segments_inferred_and_explicit_agree():
    rows = _rows(
        kpi=["csat"] * 4, period=["2026-09", "2026-10"] * 2,
        team=pd.array(["a", "a", "b", "b"], dtype="str"),
        value=[0.5, 0.6, 0.7, 0.7], numerator=[5.0, 6.0, 7.0, 7.0], denominator=[10.0] * 4,
        n=[10] * 4, stat=["proportion"] * 4, unit=["share"] * 4, note=["", "", "", ""],
    )
    a = period_changes(rows)
    b = period_changes(rows, segments=["team"])
    pd.testing.assert_frame_equal(a, b)
    assert a["prev_value"].tolist()[1::2] == [0.5, 0.7]


def test_attrs_holding_tables_survive():
    # kpi_table keeps its list of skipped KPIs as a DataFrame in .attrs; merges compare attrs
    rows = _rows(kpi=["v", "v"], period=["2026-09", "2026-10"], value=[10.0, 20.0], stat=["count"] * 2)
    rows.attrs["skipped"] = pd.DataFrame({"kpi": ["nps"], "reason": ["no surveys"]})
    out = period_changes(rows)
    assert out["change"].iloc[1] == 10.0
    assert out.attrs["skipped"]["kpi"].tolist() == ["nps"]


def test_period_changes_errors():
    rows = _rows(kpi=["x"], period=["2026-10"], value=[1.0], stat=["count"])
    with pytest.raises(StatsInputError, match="missing \\['stat'\\]"):
        period_changes(rows.drop(columns="stat"))
    with pytest.raises(StatsInputError, match="must hold pandas Periods"):
        period_changes(rows.assign(period="2026-10"))
    with pytest.raises(StatsInputError, match="several rows per"):
        period_changes(pd.concat([rows, rows]))
    with pytest.raises(StatsInputError, match="segments must be columns"):
        period_changes(rows, segments=["agent"])
    with pytest.raises(StatsInputError, match="confidence must be"):
        period_changes(rows, confidence=95)
    with pytest.raises(StatsInputError, match="must be a DataFrame"):
        period_changes([1, 2])


# --------------------------------------------------------------------------- shrinkage


def test_shrinkage_with_fixed_prior_by_hand():
    out = shrink_rates([3, 45], [4, 60], prior=(8.0, 2.0))
    # posterior Beta(8 + x, 2 + n - x): means 11/14 and 53/70
    np.testing.assert_allclose(out["shrunk_rate"], [11 / 14, 53 / 70])
    np.testing.assert_allclose(out["raw_rate"], [0.75, 0.75])
    np.testing.assert_allclose(out["ci_low"], stats.beta.ppf(0.025, [11, 53], [3, 17]))
    np.testing.assert_allclose(out["ci_high"], stats.beta.ppf(0.975, [11, 53], [3, 17]))
    np.testing.assert_allclose(out["shrinkage"], [10 / 14, 10 / 70])
    assert (out["method"] == "fixed_prior").all()
    # same raw rate, the small agent moves further towards the prior mean 0.8
    move = (out["shrunk_rate"] - out["raw_rate"]).abs()
    assert move[0] > move[1]


def test_shrinkage_small_n_shrinks_more_with_fitted_prior(rng):
    # 40 agents with true rates from Beta(16, 4) (mean 0.8); n from 5 to 200
    p = rng.beta(16, 4, size=40)
    n = rng.integers(5, 200, size=40)
    x = rng.binomial(n, p)
    out = shrink_rates(x, n)
    assert out["prior_mean"].iloc[0] == pytest.approx(x.sum() / n.sum(), abs=0.02)
    # weight on the prior falls with n
    assert np.all(np.diff(out["shrinkage"].to_numpy()[np.argsort(n)]) <= 0)
    # shrinking reduces the error against the true rates (Efron & Morris 1975)
    assert np.mean((out["shrunk_rate"] - p) ** 2) < np.mean((out["raw_rate"] - p) ** 2)


def test_shrinkage_mle_maximises_the_betabinomial_likelihood(rng):
    n = rng.integers(10, 80, size=30)
    x = rng.binomial(n, rng.beta(6, 3, size=30))
    out = shrink_rates(x, n, method="mle")
    a, b = out["prior_alpha"].iloc[0], out["prior_beta"].iloc[0]

    def ll(ab):
        return stats.betabinom.logpmf(x, n, ab[0], ab[1]).sum()

    # independent optimiser on (alpha, beta) directly (Nelder-Mead on the log scale)
    ref = optimize.minimize(lambda t: -ll(np.exp(t)), np.log([1.0, 1.0]), method="Nelder-Mead",
                            options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000})
    assert ll((a, b)) >= -ref.fun - 1e-6
    mom = shrink_rates(x, n, method="moments")
    assert ll((a, b)) >= ll((mom["prior_alpha"].iloc[0], mom["prior_beta"].iloc[0])) - 1e-9


def test_shrinkage_degenerate_inputs():
    with pytest.warns(StatisticalWarning, match="at least 2 units"):
        out = shrink_rates([3], [4])
    assert np.isnan(out["shrunk_rate"]).all() and out["n"].tolist() == [4.0]
    out = shrink_rates([3, 0, 5], [4, 0, 10], prior=(1.0, 1.0))
    assert np.isnan(out["raw_rate"].iloc[1]) and out["shrunk_rate"].iloc[1] == 0.5
    with pytest.raises(StatsInputError, match="0 <= successes <= n"):
        shrink_rates([5], [4])
    with pytest.raises(StatsInputError, match="same length"):
        shrink_rates([1, 2], [4])
    with pytest.raises(StatsInputError, match="prior must be one of 'team'"):
        shrink_rates([1, 2], [4, 4], prior="global")
    with pytest.raises(StatsInputError, match="must both be positive"):
        shrink_rates([1, 2], [4, 4], prior=(0, 1))
    with pytest.raises(StatsInputError, match="method must be one of"):
        shrink_rates([1, 2], [4, 4], method="em")


def test_shrink_agent_rates_sums_rows_and_ranks():
    data = pd.DataFrame(
        {
            "agent_id": pd.array(["a", "a", "b", "c"], dtype="str"),
            "numerator": [2, 1, 45, 9],
            "denominator": [2, 1, 50, 12],
        }
    )
    out = shrink_agent_rates(data, successes="numerator", n="denominator", prior=(8.0, 2.0))
    by = out.set_index("agent_id")
    assert by.loc["a", "n"] == 3 and by.loc["a", "raw_rate"] == 1.0
    assert by.loc["a", "shrunk_rate"] == pytest.approx(11 / 13)  # (8 + 3)/(10 + 3)
    assert by.loc["b", "shrunk_rate"] == pytest.approx(53 / 60)
    # raw ranking puts a (3 of 3) first; shrunk ranking puts b (45 of 50) first
    assert by.loc["a", "rank_raw"] == 1 and by.loc["b", "rank_shrunk"] == 1
    assert out["agent_id"].iloc[0] == "b"
    with pytest.raises(StatsInputError, match="no column"):
        shrink_agent_rates(data, successes="x", n="denominator")


# --------------------------------------------------------------------------- across KPIs
def _monthly(kpi, x1, n1, x2, n2, stat="proportion"):
    return [dict(kpi=kpi, period=pd.Period("2026-09", "M"), value=x1 / n1, numerator=x1, denominator=n1,
                 n=n1, unit="share", stat=stat),
            dict(kpi=kpi, period=pd.Period("2026-10", "M"), value=x2 / n2, numerator=x2, denominator=n2,
                 n=n2, unit="share", stat=stat)]


def test_changes_across_kpis_is_bh_over_the_kpis_compared():
    from kpitools.stats.changes import changes_across_kpis

    rows = (_monthly("a", 300, 400, 240, 400) + _monthly("b", 40, 400, 52, 400)
            + _monthly("c", 100, 1000, 90, 1000) + _monthly("d", 2, 2, 0, 2)          # n 2: not judged
            + _monthly("e", 1000, 1000, 900, 1000))                                  # excluded (maturing)
    df = pd.DataFrame(rows)
    df["period"] = pd.PeriodIndex(df["period"], freq="M")
    ch = period_changes(df)
    out = changes_across_kpis(ch, period="2026-10", min_n=30, exclude=["e"])
    prev = out[out["comparison"] == "previous period"].set_index("kpi")
    # independent source: statsmodels BH over the three p-values of a, b, c; each p-value itself
    # the pooled z test of statsmodels proportions_ztest
    p = [proportions_ztest([x2, x1], [400, 400])[1] for x1, x2 in [(300, 240), (40, 52)]]
    p.append(proportions_ztest([90, 100], [1000, 1000])[1])
    np.testing.assert_allclose(prev.loc[["a", "b", "c"], "p_value"], p, rtol=1e-9)
    np.testing.assert_allclose(prev.loc[["a", "b", "c"], "p_adjusted"],
                               multipletests(p, method="fdr_bh")[1], rtol=1e-9)
    assert prev.loc[["a", "b", "c"], "significant"].tolist() == [True, False, False]
    assert (prev["n_compared"] == 3).all()
    assert prev.loc["d", "excluded"] == "n below min_n" and np.isnan(prev.loc["d", "p_adjusted"])
    assert prev.loc["e", "excluded"] == "excluded" and not prev.loc["e", "significant"]
    # no row a year earlier: no test, an empty family
    yoy = out[out["comparison"] == "same period last year"]
    assert yoy["p_adjusted"].isna().all() and (yoy["n_compared"] == 0).all()
    assert prev.loc["a", "against"] == pd.Period("2026-09", "M") and prev.loc["a", "against_n"] == 400


def test_changes_across_kpis_errors():
    from kpitools.stats.changes import changes_across_kpis

    df = pd.DataFrame(_monthly("a", 3, 4, 2, 4))
    df["period"] = pd.PeriodIndex(df["period"], freq="M")
    ch = period_changes(df)
    with pytest.raises(StatsInputError, match=r"changes lacks columns \['prev_period', 'prev_value', 'change'"):
        changes_across_kpis(df, period="2026-10")
    with pytest.raises(StatsInputError, match="min_n must be a whole number of at least 1"):
        changes_across_kpis(ch, period="2026-10", min_n=0)
    with pytest.raises(StatsInputError, match="alpha must be a number strictly between 0 and 1"):
        changes_across_kpis(ch, period="2026-10", alpha=2)
    with pytest.raises(StatsInputError, match="changes must be a DataFrame"):
        changes_across_kpis([1], period="2026-10")
