"""Tests for kpitools.stats.staffing: docs/methods.md#erlang-c reference values, closed forms, a simulation."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpitools.stats import staffing
from kpitools.stats._common import StatsInputError
from kpitools.stats.staffing import (
    UnstableQueueError,
    erlang_a,
    erlang_b,
    erlang_c,
    required_agents,
    staffing_by_interval,
)

# docs/methods.md#erlang-c example: 100 calls per 30 min, AHT 180 s (A = 10 Erlangs), T = 20 s
CALLS, INTERVAL, AHT, T = 100, 1800, 180, 20


# --------------------------------------------------------------------------- Erlang B
def test_erlang_b_hand_and_poisson_form():
    # hand: A = 1, N = 1: B = 1/2; A = 2, N = 2: B1 = 2/3, B2 = (4/3)/(2 + 4/3) = 0.4
    assert erlang_b(1.0, 1) == pytest.approx(0.5)
    assert erlang_b(2.0, 2) == pytest.approx(0.4)
    # closed form B = (A^N/N!) / sum_k A^k/k! = poisson.pmf(N, A) / poisson.cdf(N, A)
    a = np.array([0.5, 10.0, 10.0, 55.0])
    n = np.array([3, 13, 14, 60])
    ref = stats.poisson.pmf(n, a) / stats.poisson.cdf(n, a)
    np.testing.assert_allclose(erlang_b(a, n), ref, rtol=1e-12)
    assert erlang_b(3.0, 0) == 1.0  # B_0 = 1


# --------------------------------------------------------------------------- Erlang C
@pytest.mark.parametrize(
    ("agents", "p_wait", "sl", "asa", "occupancy"),
    [
        # docs/methods.md#erlang-c: N = 13 -> P_wait 0.2853, SL 0.7956, ASA 17.1 s
        (13, 0.2853, 0.7956, 17.1, None),
        # docs/methods.md#erlang-c: N = 14 -> P_wait 0.1741, SL 0.8884, ASA 7.84 s, occupancy 0.714
        (14, 0.1741, 0.8884, 7.84, 0.714),
    ],
)
def test_erlang_c_reference(agents, p_wait, sl, asa, occupancy):
    r = erlang_c(CALLS, INTERVAL, AHT, agents, T)
    assert r["traffic"] == pytest.approx(10.0)
    assert round(r["p_wait"], 4) == p_wait
    assert round(r["service_level"], 4) == sl
    assert round(r["asa_s"], len(str(asa).split(".")[1])) == asa
    if occupancy is not None:
        assert round(r["occupancy"], 3) == occupancy


def test_erlang_c_closed_form_vectorised():
    # closed form: P_wait = (A^N/N! N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! N/(N-A))
    calls = np.array([50.0, 100.0, 400.0])
    agents = np.array([7, 13, 45])
    r = erlang_c(calls, INTERVAL, AHT, agents, T)
    a = calls * AHT / INTERVAL
    top = stats.poisson.pmf(agents, a) * agents / (agents - a)
    ref = top / (stats.poisson.cdf(agents - 1, a) + top)
    np.testing.assert_allclose(r["p_wait"], ref, rtol=1e-10)
    np.testing.assert_allclose(r["service_level"], 1 - ref * np.exp(-(agents - a) * T / AHT))
    assert r["asa_s"].shape == (3,)


@pytest.mark.parametrize("agents", [10, 9, [14, 10]])
def test_erlang_c_unstable_raises(agents):
    with pytest.raises(ValueError, match=r"agents must exceed the offered traffic A = 10 Erlangs.*queue grows without bound"):
        erlang_c(CALLS, INTERVAL, AHT, agents, T)
    with pytest.raises(UnstableQueueError):
        erlang_c(CALLS, INTERVAL, AHT, agents, T)


# --------------------------------------------------------------------------- required agents
def test_required_agents_reference():
    # docs/methods.md#staffing-shrinkage: 80/20 needs N = 14 (13 gives SL 0.7956); with 30% shrinkage 20 scheduled
    assert required_agents(CALLS, INTERVAL, AHT, T) == 14
    assert required_agents(CALLS, INTERVAL, AHT, T, service_level=0.8, shrinkage=0.3) == 20
    # hand from the reference ASAs (17.1 s at 13, 7.84 s at 14)
    assert required_agents(CALLS, INTERVAL, AHT, T, service_level=None, asa_s=10) == 14
    assert required_agents(CALLS, INTERVAL, AHT, T, service_level=None, asa_s=20) == 13
    assert required_agents(0, INTERVAL, AHT, T) == 0


def test_required_agents_is_minimal_large_traffic():
    n = required_agents(2000, INTERVAL, 300, 20, service_level=0.9)
    assert erlang_c(2000, INTERVAL, 300, n, 20)["service_level"] >= 0.9
    assert erlang_c(2000, INTERVAL, 300, n - 1, 20)["service_level"] < 0.9


def test_required_agents_validation():
    with pytest.raises(StatsInputError, match=r"shrinkage must be in \[0, 1\)"):
        required_agents(CALLS, INTERVAL, AHT, T, shrinkage=30)
    with pytest.raises(ValueError, match="give service_level, asa_s or both"):
        required_agents(CALLS, INTERVAL, AHT, T, service_level=None)
    with pytest.raises(ValueError, match="aht_s must be positive"):
        required_agents(CALLS, INTERVAL, 0, T)


# --------------------------------------------------------------------------- Erlang A
@pytest.mark.parametrize(
    ("patience_s", "p_wait", "p_abandon"),
    [
        (600, 0.1559, 0.0088),  # docs/methods.md#erlang-a: N = 14, mean patience 10 min
        (180, 0.1355, 0.0187),  # docs/methods.md#erlang-a: N = 14, mean patience 3 min
    ],
)
def test_erlang_a_reference(patience_s, p_wait, p_abandon):
    r = erlang_a(CALLS, INTERVAL, AHT, 14, T, patience_s)
    assert round(r["p_wait"], 4) == p_wait
    assert round(r["p_abandon"], 4) == p_abandon


def test_erlang_a_converges_to_erlang_c():
    c = erlang_c(CALLS, INTERVAL, AHT, 14, T)
    previous = None
    for patience in (1e4, 1e5, 1e7):
        a = erlang_a(CALLS, INTERVAL, AHT, 14, T, patience)
        gap = abs(a["p_wait"] - c["p_wait"])
        assert previous is None or gap < previous
        previous = gap
    assert a["p_wait"] == pytest.approx(c["p_wait"], abs=1e-5)
    assert a["service_level"] == pytest.approx(c["service_level"], abs=1e-5)
    assert a["asa_s"] == pytest.approx(c["asa_s"], abs=1e-3)
    assert a["p_abandon"] < 1e-5


def test_erlang_a_equal_rates_is_poisson():
    # theta = mu (patience = AHT): calls in system behave as M/M/infinity, K ~ Poisson(A),
    # so P_wait = P(K >= N) and P(abandon) = E[(K - N)+] / A (closed form via scipy.stats.poisson)
    n, a = 12, 10.0
    r = erlang_a(CALLS, INTERVAL, AHT, n, T, patience_s=AHT)
    assert r["p_wait"] == pytest.approx(stats.poisson.sf(n - 1, a), rel=1e-9)
    k = np.arange(n, 200)
    expected_queue = ((k - n) * stats.poisson.pmf(k, a)).sum()
    assert r["p_abandon"] == pytest.approx(expected_queue / a, rel=1e-9)


def _simulate_mmn_m(lam, mu, theta, n, target, calls, seed):
    """FCFS M/M/N+M by discrete-event recursion (independent of the birth-death solution)."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / lam, calls))
    service = rng.exponential(1 / mu, calls)
    patience = rng.exponential(1 / theta, calls)
    free = [0.0] * n
    waited = answered_in_t = answered = abandoned_after_t = 0
    wait_answered = 0.0
    warm = calls // 20
    for i in range(calls):
        start = max(arrivals[i], free[0])
        wait = start - arrivals[i]
        counted = i >= warm
        if wait > patience[i]:
            if counted:
                waited += 1
                abandoned_after_t += patience[i] > target
            continue
        heapq.heapreplace(free, start + service[i])
        if counted:
            waited += wait > 0
            answered += 1
            answered_in_t += wait <= target
            wait_answered += wait
    m = calls - warm
    return {
        "p_wait": waited / m,
        "service_level": answered_in_t / (answered + abandoned_after_t),
        "asa_s": wait_answered / answered,
        "p_abandon": 1 - answered / m,
    }


def test_erlang_a_matches_simulation():
    # service level and ASA are exact in the model; check them against a 200,000-call simulation
    r = erlang_a(CALLS, INTERVAL, AHT, 14, T, 180)
    sim = _simulate_mmn_m(CALLS / INTERVAL, 1 / AHT, 1 / 180, 14, T, 200_000, seed=4)
    assert sim["p_wait"] == pytest.approx(r["p_wait"], abs=0.006)
    assert sim["p_abandon"] == pytest.approx(r["p_abandon"], abs=0.002)
    assert sim["service_level"] == pytest.approx(r["service_level"], abs=0.006)
    assert sim["asa_s"] == pytest.approx(r["asa_s"], abs=0.25)


def test_erlang_a_understaffed_is_finite():
    # abandonment keeps the queue finite with N <= A, where Erlang C has no answer
    r = erlang_a(CALLS, INTERVAL, AHT, 8, T, 180)
    assert 0 < r["p_abandon"] < 1 and 0 <= r["service_level"] <= 1 and r["p_wait"] <= 1


def test_erlang_a_validation():
    with pytest.raises(ValueError, match="patience_s must be positive"):
        erlang_a(CALLS, INTERVAL, AHT, 14, T, 0)
    with pytest.raises(ValueError, match="agents must be one whole number >= 1"):
        erlang_a(CALLS, INTERVAL, AHT, 0, T, 180)


# --------------------------------------------------------------------------- per interval
def test_staffing_by_interval():
    arrivals = pd.DataFrame(
        {
            "interval_start": pd.date_range("2026-10-01 08:00", periods=4, freq="30min", tz="UTC"),
            "calls": [100, 0, 50, 300],
            "aht_s": [180.0, np.nan, 200.0, 180.0],
            "agents_observed": [14, 3, 5, 40],
        }
    )
    out = staffing_by_interval(arrivals, interval_s=1800, target_s=20, service_level=0.8, shrinkage=0.3)
    assert len(out) == 4
    # row 0 is the docs/methods.md#erlang-c example: 14 required, 20 scheduled, SL 0.8884 with 14 agents
    assert out["required_agents"].iloc[0] == 14 and out["scheduled_agents"].iloc[0] == 20
    assert round(out["service_level_observed"].iloc[0], 4) == 0.8884
    assert out["gap"].iloc[0] == 0
    # no calls: nothing required, no service level to model
    assert out["required_agents"].iloc[1] == 0 and math.isnan(out["service_level_observed"].iloc[1])
    # 5 agents for 5.56 Erlangs: unstable queue, flagged, SL 0
    assert bool(out["understaffed"].iloc[2]) and out["service_level_observed"].iloc[2] == 0.0
    assert out["required_agents"].iloc[2] == required_agents(50, 1800, 200, 20)
    # row 3 against the scalar functions
    assert out["required_agents"].iloc[3] == required_agents(300, 1800, 180, 20)
    assert out["service_level_observed"].iloc[3] == pytest.approx(
        erlang_c(300, 1800, 180, 40, 20)["service_level"]
    )
    assert out["gap"].iloc[3] == 40 - out["required_agents"].iloc[3]
    assert out["interval_start"].equals(arrivals["interval_start"])


def test_staffing_by_interval_without_observed_agents_and_validation():
    arrivals = pd.DataFrame({"interval_start": [0, 1], "calls": [100, 200], "aht_s": [180, 180]})
    out = staffing_by_interval(arrivals, interval_s=1800)
    assert out["agents_observed"].isna().all() and out["service_level_observed"].isna().all()
    assert out["required_agents"].tolist() == [14, required_agents(200, 1800, 180, 20)]
    with pytest.raises(ValueError, match=r"missing \['aht_s'\]"):
        staffing_by_interval(arrivals.drop(columns="aht_s"), interval_s=1800)
    with pytest.raises(ValueError, match="interval_s must be positive"):
        staffing_by_interval(arrivals, interval_s=0)


@pytest.mark.parametrize(("traffic", "agents"), [(10.0, 13.5), (0.05, 0.3), (49.9, 52.5), (500.0, 480.7)])
def test_erlang_b_continuous_extension(traffic, agents):
    # Jagerman (1974): 1/B(f, A) = int_0^inf e^-s (1 + s/A)^f ds, then the usual recursion;
    # reference by scipy.integrate.quad
    from scipy.integrate import quad

    f = agents - math.floor(agents)
    ref = 1 / quad(lambda s: math.exp(-s) * (1 + s / traffic) ** f, 0, np.inf, epsabs=1e-14, epsrel=1e-13)[0]
    for k in range(1, math.floor(agents) + 1):
        ref = traffic * ref / (f + k + traffic * ref)
    assert erlang_b(traffic, agents) == pytest.approx(ref, rel=1e-9)


def test_fractional_agents_lie_between_neighbours():
    sl = erlang_c(CALLS, INTERVAL, AHT, [13, 13.5, 14], T)["service_level"]
    assert sl[0] < sl[1] < sl[2]
    arrivals = pd.DataFrame({"interval_start": [0], "calls": [100], "aht_s": [180], "agents_observed": [13.5]})
    out = staffing_by_interval(arrivals, interval_s=1800)
    assert out["service_level_observed"].iloc[0] == pytest.approx(sl[1])
    with pytest.raises(ValueError, match="agents must be whole numbers here"):
        erlang_a(CALLS, INTERVAL, AHT, 13.5, T, 180)


# --------------------------------------------------------------------------- fast paths
def test_erlang_a_dense_path_equals_sparse_expm_multiply():
    # the uniformisation fast path (short queues) against the former sparse expm_multiply path on a
    # grid of loads, patience values and targets; both solve the same absorbing chain, so they
    # agree to rounding (independent numerical routes: uniformisation vs Al-Mohy-Higham)
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(60):
        calls, aht = rng.uniform(5, 250), rng.uniform(60, 600)
        a = calls * aht / INTERVAL
        n = max(1, int(round(a * rng.uniform(0.7, 1.5))))
        patience, target = rng.uniform(30, 1200), float(rng.choice([0.0, 10.0, 20.0, 60.0]))
        fast = erlang_a(calls, INTERVAL, aht, n, target, patience)
        slow = staffing._erlang_a_sparse(calls, INTERVAL, aht, n, target, patience)
        assert fast.keys() == slow.keys()
        for key in fast:
            assert fast[key] == pytest.approx(slow[key], rel=1e-12, abs=1e-15), key
        checked += fast["states"] - n <= staffing._DENSE_MAX_POSITIONS
    assert checked > 30  # most of the grid has short queues (the fast path)
    # docs/methods.md#staffing reference values hold on both paths
    for f in (erlang_a, staffing._erlang_a_sparse):
        r = f(CALLS, INTERVAL, AHT, 14, T, 600)
        assert (round(r["p_wait"], 4), round(r["p_abandon"], 4)) == (0.1559, 0.0088)
        r = f(CALLS, INTERVAL, AHT, 14, T, 180)
        assert (round(r["p_wait"], 4), round(r["p_abandon"], 4)) == (0.1355, 0.0187)


def test_erlang_a_long_queue_uses_sparse_path():
    # 30 agents on 50 Erlangs with 20 min patience: a queue of >80 positions goes to expm_multiply
    r = erlang_a(300, INTERVAL, 300, 30, T, 1200)
    assert r["states"] - 30 > staffing._DENSE_MAX_POSITIONS
    assert r == staffing._erlang_a_sparse(300, INTERVAL, 300, 30, T, 1200)


@pytest.mark.parametrize(("service_level", "asa_s"), [(0.8, None), (None, 15.0), (0.9, 30.0)])
def test_required_n_one_pass_equals_per_candidate(service_level, asa_s):
    # one Erlang B recursion for all candidates vs the former per-candidate recomputation
    # (Erlang B recomputed from B_0 for every N): bit-for-bit equal, zero traffic included
    rng = np.random.default_rng(11)
    a = np.concatenate([[0.0, 0.3, 1.0, 13.999], rng.uniform(0, 400, 500)])
    aht = rng.uniform(60, 600, a.size)
    fast = staffing._required_n(a, aht, 20.0, service_level, asa_s)
    slow = staffing._required_n_reference(a, aht, 20.0, service_level, asa_s)
    np.testing.assert_array_equal(fast, slow)
    # and each answer is the smallest N > A meeting the target per erlang_c (docs/methods.md#staffing formulas)
    for i in (1, 2, 3, 10):
        n = fast[i]
        calls = a[i] * INTERVAL / aht[i]
        ok = erlang_c(calls, INTERVAL, aht[i], n, 20.0)
        if service_level is not None:
            assert ok["service_level"] >= service_level - 1e-12
        if n - 1 > a[i]:
            prev = erlang_c(calls, INTERVAL, aht[i], n - 1, 20.0)
            assert (service_level is not None and prev["service_level"] < service_level) or (
                asa_s is not None and prev["asa_s"] > asa_s)
