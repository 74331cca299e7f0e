"""Benchmark: Erlang A (dense fast path vs sparse expm_multiply), required agents (one Erlang B
pass vs per candidate) and km_summary (all groups at once vs per-group loop).

Not a test. Run with ``.venv/bin/python benchmarks/bench_staffing.py [--repeat 5]``.

* ``erlang_a``: :func:`kpitools.stats.staffing.erlang_a` (waiting-time absorption by
  uniformisation for short queues) against the former path kept as ``_erlang_a_sparse`` (same
  chain, absorption by ``scipy.sparse.linalg.expm_multiply``),
  per call, on the docs/methods.md#erlang-a example (100 calls / 30 min, AHT 180 s, N = 14, patience 3 and
  10 min) and on 400 random intervals like a month of the report's ``staffing_intervals``;
  the largest relative difference between the two paths is recorded.
* ``required_n``: ``_required_n`` (one recursion pass) vs ``_required_n_reference`` (Erlang B
  recomputed for each candidate N) on 2,000 intervals; results must be equal.
* ``km_summary``: :func:`kpitools.stats.survival.km_summary` vs ``_km_summary_loop`` (the former
  per-group scipy ecdf loop) and vs a loop of :func:`km_quantiles` per group, on (a) the input
  ``full_resolution_time(ds, period="M", by=["channel", "priority"])`` builds from
  ``data/sample`` and (b) synthetic censored data with 570 groups. Tables must be equal.

Best of ``--repeat`` wall-clock runs. Writes ``benchmarks/results/staffing.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kpitools.stats import staffing, survival  # noqa: E402


def best(fn, repeat: int, number: int = 1) -> float:
    """Best wall-clock seconds per call over ``repeat`` runs of ``number`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def month_of_intervals(seed: int, n: int = 400):
    """Random (calls, aht, agents, patience) like half-hours of a phone queue."""
    rng = np.random.default_rng(seed)
    calls = rng.uniform(10, 160, n)
    aht = rng.uniform(150, 400, n)
    a = calls * aht / 1800
    agents = np.maximum(1, np.round(a * rng.uniform(0.8, 1.4, n))).astype(int)
    return calls, aht, agents


def bench_erlang_a(repeat: int) -> dict:
    out = {}
    for patience in (600, 180):
        args = (100, 1800, 180, 14, 20, patience)
        new = best(lambda a=args: staffing.erlang_a(*a), repeat, 50)
        old = best(lambda a=args: staffing._erlang_a_sparse(*a), repeat, 50)
        r = staffing.erlang_a(*args)
        out[f"reference_patience_{patience}s"] = {
            "states": r["states"], "new_ms": new * 1e3, "old_ms": old * 1e3, "speedup": old / new,
            "p_wait": r["p_wait"], "p_abandon": r["p_abandon"]}
    calls, aht, agents = month_of_intervals(1)

    def run(f):
        return [f(calls[i], 1800, aht[i], int(agents[i]), 20, 180) for i in range(calls.size)]

    new = best(lambda: run(staffing.erlang_a), repeat)
    old = best(lambda: run(staffing._erlang_a_sparse), repeat)
    a, b = run(staffing.erlang_a), run(staffing._erlang_a_sparse)
    worst = max(abs(x[k] - y[k]) / max(abs(y[k]), 1e-300) for x, y in zip(a, b, strict=True) for k in x)
    short = sum(x["states"] - n <= staffing._DENSE_MAX_POSITIONS for x, n in zip(a, agents, strict=True))
    out["month_400_intervals"] = {"new_s": new, "old_s": old, "speedup": old / new,
                                  "new_ms_per_call": new / calls.size * 1e3,
                                  "old_ms_per_call": old / calls.size * 1e3,
                                  "short_queue_calls": int(short), "max_rel_diff": worst}
    return out


def bench_required(repeat: int) -> dict:
    rng = np.random.default_rng(2)
    a = rng.uniform(0, 120, 2000)
    aht = rng.uniform(120, 480, 2000)
    new = best(lambda: staffing._required_n(a, aht, 20.0, 0.8, None), repeat)
    old = best(lambda: staffing._required_n_reference(a, aht, 20.0, 0.8, None), repeat)
    equal = np.array_equal(staffing._required_n(a, aht, 20.0, 0.8, None),
                           staffing._required_n_reference(a, aht, 20.0, 0.8, None))
    return {"intervals": 2000, "new_s": new, "old_s": old, "speedup": old / new, "equal": bool(equal)}


def sample_input() -> tuple[pd.DataFrame, dict]:
    from kpitools import kpis
    from kpitools.io import load_dataset

    captured = []
    original = survival.km_summary

    def spy(data, **kw):
        captured.append((data.copy(), kw))
        return original(data, **kw)

    survival.km_summary = spy
    try:
        kpis.full_resolution_time(load_dataset("data/sample"), period="M", by=["channel", "priority"])
    finally:
        survival.km_summary = original
    return captured[0]


def synthetic_input(seed: int, n_groups: int = 570, n: int = 30_000) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, n_groups, n)
    t = rng.lognormal(2.0, 1.2, n)
    c = rng.uniform(0, 60, n)
    df = pd.DataFrame({"duration": np.minimum(t, c), "observed": t <= c,
                       "__cell": np.array([f"c{i:04d}" for i in range(n_groups)])[g]})
    return df, {"duration": "duration", "observed": "observed", "by": "__cell", "q": (0.5, 0.9),
                "confidence": 0.95}


def bench_km(data: pd.DataFrame, kw: dict, repeat: int) -> dict:
    new = best(lambda: survival.km_summary(data, **kw), repeat)
    old = best(lambda: survival._km_summary_loop(data, **kw), max(1, repeat // 2))
    by = kw["by"]

    def loop_quantiles():
        return [survival.km_quantiles(f[kw["duration"]], f[kw["observed"]], q=kw["q"],
                                      confidence=kw["confidence"]) for _, f in data.groupby(by, sort=True)]

    loop = best(loop_quantiles, max(1, repeat // 2))
    pd.testing.assert_frame_equal(survival.km_summary(data, **kw), survival._km_summary_loop(data, **kw),
                                  check_exact=True)
    return {"rows": len(data), "groups": int(data[by].nunique()), "new_s": new, "old_loop_s": old,
            "km_quantiles_loop_s": loop, "speedup_vs_old": old / new, "speedup_vs_km_quantiles": loop / new,
            "identical_to_old": True}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    res = {
        "benchmark": "staffing and survival hot spots, new vs former implementation (same run)",
        "repeat": args.repeat,
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
                    "cpus": os.cpu_count(), "platform": platform.platform()},
        "erlang_a": bench_erlang_a(args.repeat),
        "required_n": bench_required(args.repeat),
        "km_summary_sample": bench_km(*sample_input(), args.repeat),
        "km_summary_synthetic_570_groups": bench_km(*synthetic_input(3), args.repeat),
    }
    print(json.dumps(res, indent=2))
    path = Path(__file__).resolve().parent / "results" / "staffing.json"
    path.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
