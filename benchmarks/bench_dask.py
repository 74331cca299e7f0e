"""Benchmark: kpi_table with all KPIs, pandas engine vs Dask on a two-worker LocalCluster.

Not a test. Run with ``.venv/bin/python benchmarks/bench_dask.py [--tickets 1000000]
[--data data/bench-dask] [--workers 2]``.

Data: ``kpitools synth --tickets N --format parquet`` (seeded; written once into ``--data``/flat)
and the same files as month partitions (:func:`kpitools.dask_engine.write_partitioned`, into
``--data``/partitioned).

* pandas: ``load_dataset(flat)`` + ``kpi_table(ds, period="M")`` in a fresh process; peak
  resident memory of that process (``ru_maxrss``).
* dask: ``LocalCluster(n_workers=--workers, threads_per_worker=1, processes=True)``;
  ``load_dataset(partitioned, engine="dask")`` + ``kpi_table(ds, period="M")``; peak resident memory
  of each worker process (``ru_maxrss`` read on the workers with ``Client.run``) and of the client.

Both rows run in the same invocation, one after the other. Writes ``benchmarks/results/dask.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

_PANDAS = """
import json, resource, sys, time
import kpitools
t0 = time.perf_counter()
ds = kpitools.load_dataset(sys.argv[1])
t1 = time.perf_counter()
res = kpitools.kpi_table(ds, period="M")
t2 = time.perf_counter()
print(json.dumps({"load_s": t1 - t0, "kpi_table_s": t2 - t1, "rows": len(res),
                  "kpis": int(res["kpi"].nunique()),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _prepare(data: Path, tickets: int) -> tuple[Path, Path]:
    from kpitools import synth
    from kpitools.dask_engine import write_partitioned

    flat, parts = data / "flat", data / "partitioned"
    if not (flat / "tickets.parquet").exists():
        synth.write_dataset(synth.generate(n_tickets=tickets), flat, fmt="parquet")
    if not (parts / "tickets").exists():
        write_partitioned(flat, parts, partition_by="month")
    return flat, parts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--data", default="data/bench-dask")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    data = Path(args.data) / str(args.tickets)
    flat, parts = _prepare(data, args.tickets)

    out = subprocess.run([sys.executable, "-c", _PANDAS, str(flat)], check=True, capture_output=True, text=True)
    pandas_row = json.loads(out.stdout.strip().splitlines()[-1])

    from dask.distributed import Client, LocalCluster

    import kpitools

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        ds = kpitools.load_dataset(parts, engine="dask")
        t1 = time.perf_counter()
        res = kpitools.kpi_table(ds, period="M")
        t2 = time.perf_counter()
        workers = client.run(_peak_mb)
    dask_row = {"load_s": t1 - t0, "kpi_table_s": t2 - t1, "rows": len(res), "kpis": int(res["kpi"].nunique()),
                "partitions": {"tickets": ds.tickets.npartitions, "ticket_events": ds.ticket_events.npartitions},
                "peak_rss_mb_per_worker": sorted(workers.values()), "client_peak_rss_mb": _peak_mb(),
                "skipped_on_dask": len(res.attrs["skipped"])}
    result = {"tickets": args.tickets, "workers": args.workers, "pandas": pandas_row, "dask": dask_row}
    total_p = pandas_row["load_s"] + pandas_row["kpi_table_s"]
    total_d = dask_row["load_s"] + dask_row["kpi_table_s"]
    print(f"| engine | load s | kpi_table s | total s | peak memory |\n|---|---|---|---|---|\n"
          f"| pandas | {pandas_row['load_s']:.1f} | {pandas_row['kpi_table_s']:.1f} | {total_p:.1f} | "
          f"{pandas_row['peak_rss_mb']:.0f} MB |\n"
          f"| dask, {args.workers} workers | {dask_row['load_s']:.1f} | {dask_row['kpi_table_s']:.1f} | "
          f"{total_d:.1f} ({total_d / total_p:.2f}x) | "
          f"{', '.join(f'{m:.0f}' for m in dask_row['peak_rss_mb_per_worker'])} MB per worker |")
    RESULTS.mkdir(exist_ok=True)
    name = "dask.json" if args.tickets == 1_000_000 else f"dask-{args.tickets}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
