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
with the analytic interval (adjusted Wald / Wilson) for reference.

Means of durations (asa, aht, acw_time, ticket_handle_time), in the same run, at ``--mean-sizes``
rows (default 100,000 and 1,000,000) of seeded lognormal durations in whole seconds, ``--mean-n-boot``
(1000) resamples each:

* value counts: :func:`kpitools.stats.intervals.value_counts` (per whole second) and
  :func:`bootstrap_mean_counts` with ``draws="counts"`` (multinomial counts over the distinct
  values, cost B x distinct values), best of ``--repeat``;
* rows: :func:`bootstrap_groups`, the former implementation (index matrices, cost B x n), once.

The t switch (``BOOTSTRAP_MAX_N``): for each duration of data/sample and n in ``--t-sizes``,
``--t-reps`` seeded subsamples of n values; the bootstrap bounds at ``--t-n-boot`` (20,000) resamples against the
t interval, in units of the Monte Carlo standard error of a bound at B = 1000
(``sqrt(p (1 - p) / B) / phi(z_p)`` standard errors of the mean), with the Cornish-Fisher
prediction ``skewness (z^2 - 1) / (6 sqrt(n))`` in the same units. Below 1 the two intervals
agree to Monte Carlo error (the reference bootstrap's own Monte Carlo error adds a floor of
about 0.3). Writes ``benchmarks/results/bootstrap.json``.
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
    BOOTSTRAP_MAX_N,
    ROWS_PER_DISTINCT,
    bootstrap_groups,
    bootstrap_mean_counts,
    mean_interval,
    nps_interval,
    proportion_bootstrap_interval,
    proportion_interval,
    value_counts,
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


def _duration_means(sizes, n_boot: int, seed: int, repeat: int, confidence: float) -> list[dict]:
    """Value-count bootstrap against the row bootstrap of one mean, per size."""
    out = []
    for n in sizes:
        rng = np.random.default_rng([seed, n])
        x = np.round(rng.lognormal(6.0, 0.8, size=n))  # handle-time-like, whole seconds
        codes = np.zeros(n, dtype=np.int64)

        def counts_method(x=x, codes=codes):
            g, v, c = value_counts(x, codes, resolution=1.0)
            lo, hi, _ = bootstrap_mean_counts(v, c, g, n_boot=n_boot, seed=seed, confidence=confidence,
                                              max_n=np.iinfo(np.int64).max, draws="counts")
            return (float(lo[0]), float(hi[0])), v.size

        t_counts, ((lo, hi), distinct) = _best_of(counts_method, repeat)
        t0 = time.perf_counter()
        rlo, rhi = bootstrap_groups(x, codes, n_boot=n_boot, seed=seed, confidence=confidence)
        t_rows = time.perf_counter() - t0
        tlo, thi = mean_interval(n, x.mean(), x.std(ddof=1), confidence=confidence)
        out.append({
            "kpi": "mean duration (s)", "n": n, "distinct_values": int(distinct), "n_boot": n_boot,
            "counts_seconds": t_counts, "rows_seconds": t_rows, "speedup": t_rows / t_counts,
            "counts_interval": [lo, hi], "rows_interval": [float(rlo[0]), float(rhi[0])],
            "t_interval": [float(tlo), float(thi)], "estimate": float(x.mean()),
            # cost per random draw: one multinomial count vs one index draw and gather
            "ns_per_count_draw": 1e9 * t_counts / (n_boot * distinct),
            "ns_per_row_draw": 1e9 * t_rows / (n_boot * n),
        })
    return out


def _sample_durations() -> dict[str, np.ndarray]:
    """The durations behind the bootstrap KPIs in data/sample, in seconds."""
    from kpitools import load_dataset

    ds = load_dataset(Path(__file__).resolve().parents[1] / "data" / "sample")
    c = ds.contacts
    answered = c["answered_at"].notna().to_numpy()
    wait = (c["answered_at"] - c["queued_at"]).dt.total_seconds().to_numpy(float)[answered]
    talk = c["talk_s"].to_numpy(float)
    handle = talk + np.nan_to_num(c["hold_s"].to_numpy(float)) + np.nan_to_num(c["acw_s"].to_numpy(float))
    out = {"asa (wait)": wait, "aht (talk + hold + acw)": handle, "acw_time": c["acw_s"].to_numpy(float),
           "ticket_handle_time": ds.tickets["handle_s"].to_numpy(float)}
    return {k: v[~np.isnan(v)] for k, v in out.items()}


def _t_switch(sizes, reps: int, seed: int, confidence: float, b_ref: int = 10_000, b_report: int = 1000) -> list[dict]:
    """|bootstrap - t| per bound in Monte Carlo standard errors at b_report resamples."""
    alpha = 1.0 - confidence
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    mc_units = np.sqrt(alpha / 2.0 * (1.0 - alpha / 2.0) / b_report) / stats.norm.pdf(z)
    rows = []
    for name, pool in _sample_durations().items():
        skew = float(stats.skew(pool))
        for n in sizes:
            rng = np.random.default_rng([seed, n])
            ratios = []
            for r in range(reps):
                x = rng.choice(pool, size=n, replace=True)
                g, v, c = value_counts(x, np.zeros(n, dtype=np.int64), resolution=1.0)
                lo, hi, _ = bootstrap_mean_counts(v, c, g, n_boot=b_ref, seed=[seed, n, r], confidence=confidence,
                                                  max_n=np.iinfo(np.int64).max)
                tlo, thi = mean_interval(n, x.mean(), x.std(ddof=1), confidence=confidence)
                se = x.std(ddof=1) / np.sqrt(n)
                ratios.append(max(abs(lo[0] - tlo), abs(hi[0] - thi)) / (mc_units * se))
            rows.append({
                "duration": name, "n": n, "skewness": skew, "reps": reps,
                "mean_abs_difference_in_mc_se": float(np.mean(ratios)),
                "max_abs_difference_in_mc_se": float(np.max(ratios)),
                "cornish_fisher_in_mc_se": float(skew * (z * z - 1.0) / (6.0 * np.sqrt(n)) / mc_units),
            })
    return rows


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="answers per survey")
    parser.add_argument("--n-boot", type=int, default=2000, help="resamples for both methods")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of the counts method")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--mean-sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="rows of the duration-mean rows")
    parser.add_argument("--mean-n-boot", type=int, default=1000, help="resamples of the duration means")
    parser.add_argument("--t-sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10_000],
                        help="sample sizes of the t-switch measurement")
    parser.add_argument("--t-reps", type=int, default=10, help="subsamples per size of the t-switch measurement")
    parser.add_argument("--t-n-boot", type=int, default=20_000,
                        help="resamples of the reference bootstrap in the t-switch measurement")
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

    means = _duration_means(args.mean_sizes, args.mean_n_boot, args.seed, args.repeat, args.confidence)
    print(f"\nMean of durations: value counts vs resampling rows, {args.mean_n_boot:,} resamples each")
    print(f"{'rows':>10}{'distinct':>10}  {'method':<30}{'seconds':>10}{'speed-up':>10}   interval")
    for r in means:
        print(f"{r['n']:>10,}{r['distinct_values']:>10,}  {'value counts (multinomial)':<30}{r['counts_seconds']:>10.3f}"
              f"{r['speedup']:>9.0f}x   [{r['counts_interval'][0]:.3f}, {r['counts_interval'][1]:.3f}]")
        print(f"{'':>20}  {'rows (index matrices)':<30}{r['rows_seconds']:>10.3f}{'1x':>10}   "
              f"[{r['rows_interval'][0]:.3f}, {r['rows_interval'][1]:.3f}]")
        print(f"{'':>20}  {'t':<30}{'':>10}{'':>10}   [{r['t_interval'][0]:.3f}, {r['t_interval'][1]:.3f}]")
        print(f"{'':>20}  ns per draw: count {r['ns_per_count_draw']:.1f}, row {r['ns_per_row_draw']:.1f} "
              f"(ratio {r['ns_per_count_draw'] / r['ns_per_row_draw']:.1f}; ROWS_PER_DISTINCT = {ROWS_PER_DISTINCT})")

    switch = _t_switch(args.t_sizes, args.t_reps, args.seed, args.confidence, b_ref=args.t_n_boot)
    print(f"\nt switch (BOOTSTRAP_MAX_N = {BOOTSTRAP_MAX_N}): |bootstrap - t| in Monte Carlo s.e. at B = 1000 "
          f"(mean / max of {args.t_reps} subsamples; Cornish-Fisher prediction)")
    print(f"{'duration':<26}{'skew':>6}" + "".join(f"{n:>16,}" for n in args.t_sizes))
    for name in dict.fromkeys(r["duration"] for r in switch):
        rs = [r for r in switch if r["duration"] == name]
        print(f"{name:<26}{rs[0]['skewness']:>6.1f}" + "".join(
            f"{r['mean_abs_difference_in_mc_se']:>6.2f}/{r['max_abs_difference_in_mc_se']:<4.2f} ({r['cornish_fisher_in_mc_se']:.2f})"
            for r in rs))
    at_max = [r for r in switch if r["n"] == BOOTSTRAP_MAX_N]

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
        "duration_means": means,
        "t_switch": {
            "bootstrap_max_n": BOOTSTRAP_MAX_N,
            "criterion": "mean |bootstrap - t| below 1 Monte Carlo s.e. of a bound at B = 1000",
            "reference_n_boot": args.t_n_boot,
            "meets_criterion_at_max_n": all(r["mean_abs_difference_in_mc_se"] < 1.0 for r in at_max),
            "rows": switch,
        },
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
