"""Benchmark: NPS and CSAT bootstrap from counts vs resampling rows, at 100,000 answers.

Not a test. Run with ``.venv/bin/python benchmarks/bench_bootstrap.py [--n 100000]
[--n-boot 2000] [--repeat 5] [--seed 2026]``.

Data (seeded): ``--n`` NPS answers with shares 15% detractors, 25% passives, 60% promoters, scored
-1/0/+1; ``--n`` CSAT answers, 82% in the top two boxes, scored 0/1.

* counts: :func:`kpitools.stats.intervals.nps_interval` (``method="bootstrap"``: multinomial
  resampling of the three counts) and :func:`proportion_bootstrap_interval` (binomial resampling
  of the count). NPS and CSAT depend only on the counts, so this is the same bootstrap
  distribution at a cost independent of n. Best of ``--repeat`` runs.
* rows: ``scipy.stats.bootstrap((rows,), np.mean, method="percentile")`` resampling the n scored
  rows ``--n-boot`` times (``batch`` set so memory stays bounded), timed once.

Both use the same number of resamples; the table shows seconds, speed-up and the two intervals,
with the analytic interval (adjusted Wald / Wilson) for reference. Writes
``benchmarks/results/bootstrap.json``.
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
import scipy
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kpitools.stats.intervals import (  # noqa: E402
    nps_interval,
    proportion_bootstrap_interval,
    proportion_interval,
)

RESULTS = Path(__file__).resolve().parent / "results" / "bootstrap.json"


def _best_of(func, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t0)
    return min(times), out


def _rows_bootstrap(rows: np.ndarray, n_boot: int, seed: int, confidence: float):
    batch = max(1, 20_000_000 // rows.size)  # about 160 MB of indices per batch
    t0 = time.perf_counter()
    res = stats.bootstrap(
        (rows,),
        np.mean,
        n_resamples=n_boot,
        confidence_level=confidence,
        method="percentile",
        batch=batch,
        rng=seed,
    )
    return time.perf_counter() - t0, (float(res.confidence_interval.low), float(res.confidence_interval.high))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="answers per survey")
    parser.add_argument("--n-boot", type=int, default=2000, help="resamples for both methods")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of the counts method")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--confidence", type=float, default=0.95)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    nps_rows = rng.choice(np.array([-1.0, 0.0, 1.0]), size=args.n, p=[0.15, 0.25, 0.60])
    d, s, p = (int((nps_rows == v).sum()) for v in (-1.0, 0.0, 1.0))
    csat_rows = (rng.random(args.n) < 0.82).astype(float)
    x = int(csat_rows.sum())

    records = []

    # ---- NPS
    t_counts, (lo, hi) = _best_of(
        lambda: nps_interval(
            d, s, p, method="bootstrap", n_boot=args.n_boot, seed=args.seed, confidence=args.confidence
        ),
        args.repeat,
    )
    t_rows, (rlo, rhi) = _rows_bootstrap(nps_rows, args.n_boot, args.seed, args.confidence)
    aw = nps_interval(d, s, p, confidence=args.confidence)
    records.append(
        {
            "kpi": "NPS (points)",
            "counts_seconds": t_counts,
            "rows_seconds": t_rows,
            "speedup": t_rows / t_counts,
            "counts_interval": [lo, hi],
            "rows_interval": [100 * rlo, 100 * rhi],
            "analytic_interval": list(aw),
            "analytic_method": "adjusted_wald",
            "estimate": 100 * (p - d) / args.n,
        }
    )

    # ---- CSAT
    t_counts, (lo, hi) = _best_of(
        lambda: proportion_bootstrap_interval(
            x, args.n, n_boot=args.n_boot, seed=args.seed, confidence=args.confidence
        ),
        args.repeat,
    )
    t_rows, (rlo, rhi) = _rows_bootstrap(csat_rows, args.n_boot, args.seed, args.confidence)
    wl = proportion_interval(x, args.n, confidence=args.confidence)
    records.append(
        {
            "kpi": "CSAT (%)",
            "counts_seconds": t_counts,
            "rows_seconds": t_rows,
            "speedup": t_rows / t_counts,
            "counts_interval": [100 * lo, 100 * hi],
            "rows_interval": [100 * rlo, 100 * rhi],
            "analytic_interval": [100 * wl[0], 100 * wl[1]],
            "analytic_method": "wilson",
            "estimate": 100 * x / args.n,
        }
    )

    print(f"Bootstrap from counts vs resampling rows: n = {args.n:,} answers, {args.n_boot:,} resamples each")
    print(f"{'KPI':<13}{'method':<34}{'seconds':>10}{'speed-up':>10}   interval ({args.confidence:.0%})")
    for r in records:
        print(f"{r['kpi']:<13}{'counts (multinomial/binomial)':<34}{r['counts_seconds']:>10.5f}"
              f"{r['speedup']:>9.0f}x   [{r['counts_interval'][0]:.3f}, {r['counts_interval'][1]:.3f}]")
        print(f"{'':<13}{'rows (scipy.stats.bootstrap)':<34}{r['rows_seconds']:>10.3f}{'1x':>10}   "
              f"[{r['rows_interval'][0]:.3f}, {r['rows_interval'][1]:.3f}]")
        print(f"{'':<13}{'analytic (' + r['analytic_method'] + ')':<34}{'':>10}{'':>10}   "
              f"[{r['analytic_interval'][0]:.3f}, {r['analytic_interval'][1]:.3f}]")
        print(f"{'':<13}estimate {r['estimate']:.3f}")

    result = {
        "benchmark": "bootstrap from counts vs resampling rows",
        "n_answers": args.n,
        "n_boot": args.n_boot,
        "repeat_counts": args.repeat,
        "seed": args.seed,
        "confidence": args.confidence,
        "nps_counts": {"detractors": d, "passives": s, "promoters": p},
        "csat_counts": {"successes": x, "n": args.n},
        "results": records,
        "target_speedup": 100,
        "meets_target": all(r["speedup"] >= 100 for r in records),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
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
