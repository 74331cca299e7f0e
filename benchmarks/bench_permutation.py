"""Benchmark: circular-shift permutation test "spikes follow launches", vectorised vs loops.

Not a test. Run with ``.venv/bin/python benchmarks/bench_permutation.py [--days 1096]
[--n-perm 10000] [--launches 24] [--k 7] [--repeat 5] [--seed 2026]``.

Data (seeded): three years of days (2023-01-01 .. 2025-12-31, 1,096 days); ``--launches`` launch
dates drawn without replacement; spike days = 2.5% of days at random (incidents) plus a spike on
day 1 or 2 after about half of the launches.

* vectorised: :func:`kpitools.stats.launches.launch_permutation_test` with ``shifts="random"``
  and ``--n-perm`` shifts: T* for all 1,096 circular shifts by one (shifts x window days) gather
  and row sum, then the random shifts index that table; best of ``--repeat``, timed from the
  date inputs (setup included).
* loop (Python): for each shift, move every launch window around the circle and count the spike
  days inside it (``kpitools.stats.launches._permutation_loop``, the straightforward version).
* loop (numpy per shift): for each shift, ``np.roll`` the spike indicator and sum it over the
  window days, one numpy call per shift.

All three use the same seeded shifts and must give the same T and p-value (checked). The exact
test over all 1,095 non-zero shifts (``shifts="all"``) is timed too. Writes
``benchmarks/results/permutation.json``.
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
from kpitools.stats.launches import (  # noqa: E402
    _draw_shifts,
    _perm_setup,
    _permutation_loop,
    launch_permutation_test,
)

RESULTS = Path(__file__).resolve().parent / "results" / "permutation.json"


def _best_of(func, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t0)
    return min(times), out


def _numpy_loop(spikes, launches, days, k, n_perm, seed):
    spike, wpos, n = _perm_setup(spikes, launches, days, k, None)
    window = np.zeros(n, dtype=bool)
    window[wpos] = True
    T = int(spike[window].sum())
    offsets, _ = _draw_shifts(n, n_perm, "random", seed)
    count = 0
    for c in offsets:  # one shift at a time
        count += int(np.roll(spike, -int(c))[window].sum()) >= T
    return T, (1.0 + count) / (1.0 + offsets.size)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=1096, help="days in the series (3 years)")
    parser.add_argument("--n-perm", type=int, default=10_000, help="random shifts")
    parser.add_argument("--launches", type=int, default=24)
    parser.add_argument("--k", type=int, default=7, help="post-launch window 0..k days")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of the vectorised method")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    days = pd.date_range("2023-01-01", periods=args.days, freq="D")
    lpos = np.sort(rng.choice(args.days - 3, args.launches, replace=False))
    spike = rng.random(args.days) < 0.025
    follow = lpos[rng.random(args.launches) < 0.5]
    spike[follow + rng.integers(1, 3, follow.size)] = True
    spikes, launches = days[spike], days[lpos]

    t_vec, res = _best_of(
        lambda: launch_permutation_test(
            spikes, launches, days=days, k=args.k, n_perm=args.n_perm, shifts="random", seed=args.seed
        ),
        args.repeat,
    )
    t0 = time.perf_counter()
    T_loop, p_loop = _permutation_loop(
        spikes, launches, days=days, k=args.k, n_perm=args.n_perm, shifts="random", seed=args.seed
    )
    t_loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    T_np, p_np = _numpy_loop(spikes, launches, days, args.k, args.n_perm, args.seed)
    t_np = time.perf_counter() - t0
    if not (res.statistic == T_loop == T_np and np.isclose(res.p_value, p_loop) and np.isclose(res.p_value, p_np)):
        raise SystemExit(
            f"implementations disagree: vectorised T={res.statistic} p={res.p_value}, "
            f"loop T={T_loop} p={p_loop}, numpy loop T={T_np} p={p_np}"
        )
    t_all, res_all = _best_of(
        lambda: launch_permutation_test(spikes, launches, days=days, k=args.k, shifts="all"), args.repeat
    )

    records = [
        {"method": "vectorised (gather, launch_permutation_test)", "seconds": t_vec, "speedup_vs_loop": t_loop / t_vec},
        {"method": "loop over shifts (Python)", "seconds": t_loop, "speedup_vs_loop": 1.0},
        {"method": "loop over shifts (numpy roll per shift)", "seconds": t_np, "speedup_vs_loop": t_loop / t_np},
    ]
    print(
        f"Circular-shift permutation test: {args.days:,} days, {args.launches} launches, k = {args.k}, "
        f"{int(spike.sum())} spike days, {args.n_perm:,} random shifts"
    )
    print(f"{'method':<48}{'seconds':>10}{'speed-up vs Python loop':>26}")
    for r in records:
        print(f"{r['method']:<48}{r['seconds']:>10.4f}{r['speedup_vs_loop']:>25.0f}x")
    print(f"vectorised is {t_np / t_vec:.0f}x faster than the numpy-per-shift loop")
    print(f"T = {res.statistic} (expected under the null {res.expected:.1f}), p = {res.p_value:.5f} "
          f"with {args.n_perm:,} random shifts; exact over all {res_all.n_perm:,} shifts: "
          f"p = {res_all.p_value:.5f} in {t_all:.4f} s")

    result = {
        "benchmark": "circular-shift permutation test, vectorised vs loop over shifts",
        "days": args.days,
        "launches": args.launches,
        "k": args.k,
        "spike_days": int(spike.sum()),
        "n_perm": args.n_perm,
        "seed": args.seed,
        "repeat_vectorised": args.repeat,
        "results": records,
        "speedup_vs_python_loop": t_loop / t_vec,
        "speedup_vs_numpy_loop": t_np / t_vec,
        "statistic": res.statistic,
        "expected_under_null": res.expected,
        "p_value_random_shifts": res.p_value,
        "all_shifts": {"n_perm": res_all.n_perm, "p_value": res_all.p_value, "seconds": t_all},
        "implementations_agree": True,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(RESULTS)
    print(f"wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return result


if __name__ == "__main__":
    main()
