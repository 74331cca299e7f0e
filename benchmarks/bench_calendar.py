"""Benchmark: business durations for 1,000,000 timestamp pairs, vectorised vs per-row.

Not a test. Run with ``.venv/bin/python benchmarks/bench_calendar.py [--n 1000000]
[--subset 10000] [--seed 2026]``.

Data: start instants uniform over 2026-01-01 .. 2028-01-01 (UTC, whole seconds), spans
log-uniform from one minute to three weeks. Calendar: Europe/Berlin, Mon-Fri 08:00-12:00 and
13:00-18:00, Sat 09:00-13:00, the German national holidays of 2026 and 2027 (so the data
crosses four DST changes).

* vectorised: :meth:`kpitools.calendar.BusinessCalendar.duration` on the whole 1M pairs,
  timed from ``datetime64[ns, UTC]`` Series to the float array, on a fresh calendar each
  repeat (the interval table is built inside the timing); best of ``--repeat``.
* per-row: a straightforward implementation, a Python loop over pairs that walks local day by
  day with :mod:`zoneinfo` and sums the overlap with each opening interval. It is timed on a
  random subset of ``--subset`` pairs and extrapolated linearly per pair to 1M (said so in the
  output). Both implementations must agree exactly on that subset.

Writes ``benchmarks/results/calendar.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import zoneinfo
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kpitools.calendar import BusinessCalendar  # noqa: E402

TZ = "Europe/Berlin"
SPLIT = [("08:00", "12:00"), ("13:00", "18:00")]
WEEKLY = {d: SPLIT for d in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [("09:00", "13:00")],
    "sun": [],
}
# German national holidays 2026 and 2027
HOLIDAYS = [
    "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14", "2026-05-25",
    "2026-10-03", "2026-12-25", "2026-12-26",
    "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-01", "2027-05-06", "2027-05-17",
    "2027-10-03", "2027-12-25", "2027-12-26",
]  # fmt: skip


def make_pairs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random (start, end) as int64 UTC seconds: spans of a minute to three weeks."""
    rng = np.random.default_rng(seed)
    lo = int(pd.Timestamp("2026-01-01", tz="UTC").timestamp())
    hi = int(pd.Timestamp("2028-01-01", tz="UTC").timestamp())
    start = rng.integers(lo, hi, n)
    span = np.exp(rng.uniform(np.log(60), np.log(21 * 86_400), n)).astype(np.int64)
    return start, start + span


def per_row_durations(start_s, end_s, weekly, holidays, tz) -> np.ndarray:
    """Straightforward reference: for each pair, walk the local days and sum the overlaps."""

    def secs(hhmm: str) -> int:
        return int(hhmm[:2]) * 3600 + int(hhmm[3:]) * 60

    zone = zoneinfo.ZoneInfo(tz)
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    table = [[(secs(a), secs(b)) for a, b in weekly.get(d, [])] for d in names]
    hol = {dt.date.fromisoformat(h) for h in holidays}
    out = np.empty(len(start_s))
    one_day = dt.timedelta(days=1)
    for i, (s, e) in enumerate(zip(start_s.tolist(), end_s.tolist(), strict=True)):
        day = dt.datetime.fromtimestamp(s, zone).date()
        last = dt.datetime.fromtimestamp(e, zone).date()
        total = 0
        while day <= last:
            if day not in hol:
                midnight = dt.datetime(day.year, day.month, day.day, tzinfo=zone)
                for a, b in table[day.weekday()]:
                    # aware + timedelta is wall-clock arithmetic; timestamp() applies the offset
                    open_ = int((midnight + dt.timedelta(seconds=a)).timestamp())
                    close = int((midnight + dt.timedelta(seconds=b)).timestamp())
                    overlap = min(e, close) - max(s, open_)
                    if overlap > 0:
                        total += overlap
            day += one_day
        out[i] = total
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--subset", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "calendar.json"))
    args = p.parse_args(argv)

    start_s, end_s = make_pairs(args.n, args.seed)
    start = pd.Series(pd.to_datetime(start_s, unit="s", utc=True)).astype("datetime64[ns, UTC]")
    end = pd.Series(pd.to_datetime(end_s, unit="s", utc=True)).astype("datetime64[ns, UTC]")

    times = []
    for _ in range(args.repeat):
        cal = BusinessCalendar(WEEKLY, holidays=HOLIDAYS, timezone=TZ)  # cold cache
        t0 = time.perf_counter()
        vec = cal.duration(start, end)
        times.append(time.perf_counter() - t0)
    t_vec = min(times)
    t0 = time.perf_counter()
    cal.duration(start, end)  # warm: interval table cached
    t_vec_warm = time.perf_counter() - t0

    rng = np.random.default_rng(args.seed + 1)
    sub = np.sort(rng.choice(args.n, size=min(args.subset, args.n), replace=False))
    t0 = time.perf_counter()
    ref = per_row_durations(start_s[sub], end_s[sub], WEEKLY, HOLIDAYS, TZ)
    t_row = time.perf_counter() - t0
    mismatches = int((ref != vec[sub]).sum())

    per_1m_vec = t_vec / args.n * 1e6
    per_1m_row = t_row / len(sub) * 1e6
    result = {
        "benchmark": "business durations, vectorised vs per-row",
        "n_pairs": args.n,
        "calendar": {"timezone": TZ, "weekly": WEEKLY, "holidays": HOLIDAYS},
        "spans": "log-uniform 60 s .. 21 days; starts uniform 2026-01-01 .. 2028-01-01 UTC",
        "vectorised_seconds": round(t_vec, 4),
        "vectorised_seconds_warm_cache": round(t_vec_warm, 4),
        "vectorised_seconds_per_1m": round(per_1m_vec, 4),
        "per_row_subset_pairs": int(len(sub)),
        "per_row_subset_seconds": round(t_row, 3),
        "per_row_seconds_per_1m_extrapolated": round(per_1m_row, 1),
        "speedup": round(per_1m_row / per_1m_vec, 1),
        "subset_mismatches": mismatches,
        "agree_on_subset": mismatches == 0,
        "mean_business_hours": round(float(np.mean(vec)) / 3600, 3),
        "seed": args.seed,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }
    print(f"pairs: {args.n:,}  calendar: {TZ}, split shifts + Saturday, {len(HOLIDAYS)} holidays")
    print(
        f"vectorised:  {t_vec:.3f} s for {args.n:,} pairs (best of {args.repeat}, cold cache; "
        f"warm {t_vec_warm:.3f} s) -> {per_1m_vec:.3f} s per 1M"
    )
    print(
        f"per-row:     {t_row:.2f} s for a random subset of {len(sub):,} pairs, extrapolated "
        f"per pair -> {per_1m_row:.1f} s per 1M"
    )
    print(f"speed-up:    {result['speedup']:.0f}x  (required >= 100x)")
    print(f"agreement on the subset: {len(sub) - mismatches:,}/{len(sub):,} identical")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    if mismatches or result["speedup"] < 100:
        raise SystemExit(1)
    return result


if __name__ == "__main__":
    main()
