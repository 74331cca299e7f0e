"""Time and peak memory of ``kpitools.synth.generate`` (and writing) at a large volume.

Usage::

    .venv/bin/python benchmarks/bench_synth.py --tickets 1000000 [--write DIR] [--format csv]

Peak memory is the process's maximum resident set size (``resource.getrusage``), so run one
benchmark per process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write", default=None, help="also write the dataset to this folder")
    ap.add_argument("--format", default="csv", choices=["csv", "parquet"])
    a = ap.parse_args(argv)

    from kpitools.synth import generate, write_dataset

    t0 = time.perf_counter()
    res = generate(n_tickets=a.tickets, seed=a.seed)
    t1 = time.perf_counter()
    rows = {k: len(v) for k, v in res.tables.items()}
    print(f"generate(n_tickets={a.tickets:,}): {t1 - t0:.1f} s")
    for k, v in rows.items():
        print(f"  {k:15s} {v:>12,}")
    if a.write:
        write_dataset(res, a.write, fmt=a.format)
        print(f"write_dataset(fmt={a.format!r}): {time.perf_counter() - t1:.1f} s")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS: {peak_kb / 1024**2:.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
