"""Tests for kpitools.stats.spikes: generalized ESD, seasonal-hybrid ESD, negative binomial model."""

import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpitools.stats.spikes import (
    SPIKE_COLUMNS,
    SpikeDetector,
    SpikeInputError,
    daily_counts,
    detect_spikes,
    esd_critical_values,
    generalized_esd,
    negbin_spikes,
    seasonal_esd,
)

# Rosner (1983), Technometrics 25, 165-172, 54 observations; also the worked example of the
# NIST/SEMATECH e-Handbook of Statistical Methods, section 1.3.5.17.3 (generalized ESD test).
ROSNER = [
    -0.25, 0.68, 0.94, 1.15, 1.20, 1.26, 1.26, 1.34, 1.38, 1.43, 1.49, 1.49, 1.55, 1.56,
    1.58, 1.65, 1.69, 1.70, 1.76, 1.77, 1.81, 1.91, 1.94, 1.96, 1.99, 2.06, 2.09, 2.10,
    2.14, 2.15, 2.23, 2.24, 2.26, 2.35, 2.37, 2.40, 2.47, 2.54, 2.62, 2.64, 2.90, 2.92,
    2.92, 2.93, 3.21, 3.26, 3.30, 3.59, 3.68, 4.30, 4.64, 5.34, 5.42, 6.01,
]
# NIST e-Handbook table for alpha = 0.05, up to 10 outliers (values printed truncated to 3 decimals)
NIST_R = [3.118, 2.942, 3.179, 2.810, 2.815, 2.848, 2.279, 2.310, 2.101, 2.067]
NIST_LAMBDA = [3.158, 3.151, 3.143, 3.136, 3.128, 3.120, 3.111, 3.103, 3.094, 3.085]

N_DAYS = 3 * 365


def daily_series(seed, *, n=N_DAYS, spikes=0, spike_factor=2.5, size=30.0, start="2023-01-02"):
    """Weekly seasonality (weekends at 40%), a 30% trend, NB(size) noise, planted spikes."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq="D")
    mu = 100.0 * np.where(idx.day_of_week < 5, 1.0, 0.4) * (1 + 0.3 * np.arange(n) / n)
    y = rng.negative_binomial(size, size / (size + mu)).astype(float)
    planted = np.sort(rng.choice(np.arange(70, n), spikes, replace=False)) if spikes else np.array([], int)
    y[planted] = np.round(mu[planted] * spike_factor)
    return pd.Series(y, index=idx, name="tickets"), idx[planted], mu


# --------------------------------------------------------------------------- critical values


@pytest.mark.parametrize("two_sided", [False, True])
def test_esd_critical_values_match_hand_calculation(two_sided):
    n, k, alpha = 54, 10, 0.05
    got = esd_critical_values(n, k, alpha=alpha, two_sided=two_sided)
    # hand calculation with scipy.stats.t, one value at a time (Rosner 1983 eq. for lambda_i)
    for i in range(1, k + 1):
        p = 1 - alpha / ((2 if two_sided else 1) * (n - i + 1))
        t = stats.t.ppf(p, n - i - 1)
        lam = t * (n - i) / np.sqrt((n - i - 1 + t**2) * (n - i + 1))
        assert got[i - 1] == pytest.approx(lam, rel=1e-12)


def test_esd_two_sided_critical_values_match_nist_table():
    got = esd_critical_values(54, 10, alpha=0.05, two_sided=True)
    # NIST prints lambda_i truncated to three decimals
    np.testing.assert_array_equal(np.floor(got * 1000) / 1000, NIST_LAMBDA)


def test_generalized_esd_reproduces_rosner_example():
    res = generalized_esd(ROSNER, max_outliers=10, alpha=0.05, alternative="two-sided", robust=False)
    # NIST e-Handbook 1.3.5.17.3: R_i (truncated to 3 decimals), and 3 outliers found
    np.testing.assert_array_equal(np.floor(res["statistic"].to_numpy() * 1000) / 1000, NIST_R)
    assert res["outlier"].sum() == 3
    assert sorted(res.loc[res["outlier"], "value"]) == [5.34, 5.42, 6.01]


def test_generalized_esd_robust_one_sided_matches_naive_loop():
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(0, 1, 60), [6.0, 5.5, -7.0]]
    res = generalized_esd(x, max_outliers=5, alpha=0.05, alternative="greater", robust=True)
    # independent loop with the statistics module: remove the largest (x - median) each step
    rest = list(x)
    for i in range(5):
        med = statistics.median(rest)
        mad = 1.4826 * statistics.median([abs(v - med) for v in rest])
        top = max(rest, key=lambda v: v - med)
        assert res["value"].iloc[i] == top
        assert res["statistic"].iloc[i] == pytest.approx((top - med) / mad, rel=1e-12)
        rest.remove(top)
    # one-sided: the low outlier -7 is never a candidate; the two planted high ones are found
    assert -7.0 not in res["value"].to_list()
    assert {6.0, 5.5} <= set(res.loc[res["outlier"], "value"])


def test_generalized_esd_errors():
    with pytest.raises(ValueError, match="alternative must be"):
        generalized_esd([1.0, 2.0, 3.0], max_outliers=1, alternative="less")
    with pytest.raises(ValueError, match="max_outliers must be at least 1"):
        generalized_esd([1.0, 2.0, 3.0], max_outliers=0)
    with pytest.raises(ValueError, match="max_outliers must leave"):
        esd_critical_values(5, 4)


# --------------------------------------------------------------------------- detectors


@pytest.fixture(scope="module")
def planted():
    return daily_series(11, spikes=12)


@pytest.fixture(scope="module")
def found(planted):
    series = planted[0]
    return {"seasonal_esd": seasonal_esd(series), "negbin": negbin_spikes(series)}


@pytest.mark.parametrize("detector, min_hits", [("seasonal_esd", 10), ("negbin", 11)])
def test_planted_spikes_are_found(planted, found, detector, min_hits):
    series, truth, _ = planted
    out = found[detector]
    assert list(out.columns) == SPIKE_COLUMNS
    hits = set(out["date"]) & set(truth)
    # planted spikes are 2.5x the expected level. negbin finds at least 11 of 12; S-H-ESD pools
    # one MAD over weekdays and weekends, so it may miss weekend spikes (+60 tickets where the
    # weekday noise sd is ~21), but finds every weekday one
    assert len(hits) >= min_hits
    weekday = {d for d in truth if d.day_of_week < 5}
    assert weekday <= set(out["date"])
    # few false positives: at most 3% of the days (nominal 1% for negbin, 5% family-wise for ESD
    # on heteroscedastic counts)
    assert len(set(out["date"]) - set(truth)) <= 0.03 * len(series)
    assert (out["excess"] > 0).all()
    assert (out["detector"] == detector).all()
    np.testing.assert_allclose(out["excess"], out["observed"] - out["expected"])


@pytest.mark.parametrize("seed", [1, 2])
def test_negbin_false_alarm_rate_near_nominal(seed):
    series, _, _ = daily_series(seed)
    found = negbin_spikes(series, alpha=0.01)
    # nominal 1% of 1095 days ~ 11; allow binomial noise plus the estimated-parameter slack:
    # P(Binomial(1095, 0.01) > 22) < 0.001
    assert len(found) <= 22


def test_negbin_expected_tracks_true_mean(planted, found):
    series, truth, mu = planted
    # expected of flagged days is the model's prediction; compare with the true mean there
    nb = found["negbin"]
    pos = series.index.get_indexer(nb["date"])
    ratio = nb["expected"].to_numpy() / mu[pos]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.1)


def test_seasonal_esd_expected_is_stl_seasonal_plus_median(planted, found):
    from statsmodels.tsa.seasonal import STL

    series, _, _ = planted
    esd = found["seasonal_esd"]
    seasonal = STL(series.to_numpy(), period=7, robust=True).fit().seasonal
    pos = series.index.get_indexer(esd["date"])
    np.testing.assert_allclose(esd["expected"], seasonal[pos] + np.median(series), rtol=1e-12)


def test_seasonal_esd_respects_max_share():
    series, _, _ = daily_series(5, n=120, spikes=30, spike_factor=4)
    found = seasonal_esd(series, max_share=0.05)
    assert len(found) <= int(0.05 * 120)


def test_detect_spikes_is_union_of_both(planted, found):
    series, _, _ = planted
    both = detect_spikes(series)
    assert both["date"].is_monotonic_increasing
    for name, single in found.items():
        part = both[both["detector"] == name].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, single)
    assert len(both) == sum(len(f) for f in found.values())


def test_spike_detector_class():
    series, _, _ = daily_series(4, n=365, spikes=4)
    det = SpikeDetector(method="both").fit(series)
    assert det.fit(series) is det
    summ = det.summary.set_index("detector")
    assert summ.loc["negbin", "n_spikes"] == (det.spikes_["detector"] == "negbin").sum()
    assert summ.loc["seasonal_esd", "share_of_days"] == pytest.approx(
        (det.spikes_["detector"] == "seasonal_esd").sum() / len(series)
    )
    assert "<table" in det._repr_html_()
    assert "spikes in 365 days" in repr(det)
    pd.testing.assert_frame_equal(det.spikes_, detect_spikes(series))


def test_quiet_series_gives_empty_typed_table():
    idx = pd.date_range("2024-01-01", periods=56, freq="D")
    flat = pd.Series(50.0, index=idx)
    out = seasonal_esd(flat)
    assert list(out.columns) == SPIKE_COLUMNS and len(out) == 0
    assert out["date"].dtype.kind == "M"


def test_daily_counts_cut_days_in_business_timezone():
    ts = pd.Series(
        pd.to_datetime(
            ["2024-03-30 22:30", "2024-03-31 21:59", "2024-03-31 22:01", None, "2024-04-02 10:00"],
            utc=True,
        )
    )
    # by hand: Berlin is UTC+1 until 31 March 02:00, then UTC+2; so 22:30Z on 30 March is 23:30
    # local (30th), 21:59Z on 31 March is 23:59 (31st) and 22:01Z is 00:01 on 1 April
    got = daily_counts(ts, timezone="Europe/Berlin", start="2024-03-29", end="2024-04-03")
    assert got.tolist() == [0, 1, 1, 1, 1, 0]
    assert got.index[0] == pd.Timestamp("2024-03-29") and got.index.tz is None
    assert daily_counts(ts).tolist() == [1, 2, 0, 1]  # UTC days
    with pytest.raises(ValueError, match="no dates"):
        daily_counts(pd.Series([], dtype="datetime64[ns, UTC]"))


def test_tz_aware_daily_series_across_dst():
    # local midnights in Berlin: the days of 31 March and 27 October 2024 last 23 and 25 hours
    series, truth, _ = daily_series(6, n=365, spikes=3, start="2024-01-01")
    local = series.tz_localize("Europe/Berlin")
    found = seasonal_esd(local)
    assert str(found["date"].dt.tz) == "Europe/Berlin"
    naive = seasonal_esd(series)
    assert found["date"].dt.tz_localize(None).tolist() == naive["date"].tolist()


# --------------------------------------------------------------------------- validation


def test_input_validation_messages():
    idx = pd.date_range("2024-01-01", periods=60, freq="D")
    good = pd.Series(np.arange(60.0), index=idx)
    with pytest.raises(TypeError, match="must be a pandas Series"):
        seasonal_esd(good.to_numpy())
    with pytest.raises(SpikeInputError, match="DatetimeIndex"):
        seasonal_esd(good.reset_index(drop=True))
    with pytest.raises(SpikeInputError, match="at least 28 days"):
        negbin_spikes(good.iloc[:20])
    with pytest.raises(SpikeInputError, match="must be daily"):
        seasonal_esd(good.drop(idx[10]))
    hourly = pd.Series(1.0, index=pd.date_range("2024-01-01", periods=60, freq="h"))
    with pytest.raises(SpikeInputError, match="must be daily"):
        seasonal_esd(hourly)
    bad = good.copy()
    bad.iloc[3] = -1
    with pytest.raises(SpikeInputError, match="non-negative counts"):
        negbin_spikes(bad)
    with pytest.raises(ValueError, match="alpha must be a number strictly between 0 and 1"):
        seasonal_esd(good, alpha=5)
    with pytest.raises(ValueError, match="method must be one of"):
        detect_spikes(good, method="prophet")
    with pytest.raises(ValueError, match="baseline_days must be an integer >= 21"):
        negbin_spikes(good, baseline_days=7)
    with pytest.raises(ValueError, match="max_share must be"):
        seasonal_esd(good, max_share=0.9)
