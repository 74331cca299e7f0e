"""Benchmark: kpi_table with all KPIs, pandas engine vs Dask on a two-worker LocalCluster.

Not a test. Run with ``.venv/bin/python benchmarks/bench_dask.py [--tickets 1000000]
[--workers 2] [--cache DIR] [--out FILE]``.

Data (outside the repository, reused when present): ``kpitools synth --tickets N --seed 20261101
--format parquet`` in ``<cache>/synth-N-seed20261101`` (the dataset of ``bench_scale.py``) and the
same files as month partitions (:func:`kpitools.dask_engine.write_partitioned`) in
``<cache>/synth-N-seed20261101-by-month``; ``<cache>`` is ``--cache``, else
``$KPITOOLS_BENCH_CACHE``, else ``$XDG_CACHE_HOME/kpitools-bench``, else ``~/.cache/kpitools-bench``.

* pandas: ``load_dataset(flat)`` + ``kpi_table(ds, period="M")`` in a fresh process; peak
  resident memory of that process (``ru_maxrss``).
* dask: ``LocalCluster(n_workers=--workers, threads_per_worker=1, processes=True)`` started in a
  fresh process; ``load_dataset(partitioned, engine="dask")`` + ``kpi_table(ds, period="M")``;
  peak resident memory of each worker process (``ru_maxrss`` read on the workers with
  ``Client.run``) and of the client process.

Both rows run in the same invocation, one after the other. Writes ``benchmarks/results/dask.json``
at 1M tickets (``dask-N.json`` otherwise; ``--out`` overrides). ``bench_scale.py`` reads it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SEED = 20261101

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

_DASK = """
import json, resource, sys, time
from dask.distributed import Client, LocalCluster
import kpitools


def peak_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    workers = int(sys.argv[2])
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        ds = kpitools.load_dataset(sys.argv[1], engine="dask")
        t1 = time.perf_counter()
        res = kpitools.kpi_table(ds, period="M")
        t2 = time.perf_counter()
        per_worker = sorted(client.run(peak_mb).values())
    print(json.dumps({"load_s": t1 - t0, "kpi_table_s": t2 - t1, "rows": len(res),
                      "kpis": int(res["kpi"].nunique()),
                      "partitions": {"tickets": ds.tickets.npartitions, "ticket_events": ds.ticket_events.npartitions},
                      "peak_rss_mb_per_worker": per_worker, "client_peak_rss_mb": peak_mb(),
                      "skipped_on_dask": res.attrs["skipped"]["kpi"].tolist()}))
"""


def _cache_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("KPITOOLS_BENCH_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kpitools-bench"


def _prepare(cache: Path, tickets: int) -> tuple[Path, Path]:
    from kpitools.cli import main as cli_main
    from kpitools.dask_engine import write_partitioned

    flat = cache / f"synth-{tickets}-seed{SEED}"
    parts = cache / f"synth-{tickets}-seed{SEED}-by-month"
    if not (flat / "tickets.parquet").exists():
        cli_main(["synth", "--tickets", str(tickets), "--seed", str(SEED), "--format", "parquet", "--out", str(flat)])
    if not (parts / "tickets").exists():
        write_partitioned(flat, parts, partition_by="month")
    return flat, parts


def _run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=None, help="folder of the generated datasets")
    ap.add_argument("--out", default=None, help="result JSON (default benchmarks/results/dask.json at 1M)")
    args = ap.parse_args(argv)
    cache = _cache_dir(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    flat, parts = _prepare(cache, args.tickets)

    load_before = os.getloadavg()
    pandas_row = _run(_PANDAS, str(flat))
    dask_row = _run(_DASK, str(parts), str(args.workers))
    total_p = pandas_row["load_s"] + pandas_row["kpi_table_s"]
    total_d = dask_row["load_s"] + dask_row["kpi_table_s"]
    result = {"tickets": args.tickets, "workers": args.workers, "ratio_dask_to_pandas": total_d / total_p,
              "pandas": pandas_row, "dask": dask_row,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_average_1_5_15_before": list(load_before),
                          "load_average_1_5_15_after": list(os.getloadavg())}}
    print(f"| engine | load s | kpi_table s | total s | peak memory |\n|---|---|---|---|---|\n"
          f"| pandas | {pandas_row['load_s']:.1f} | {pandas_row['kpi_table_s']:.1f} | {total_p:.1f} | "
          f"{pandas_row['peak_rss_mb']:.0f} MB |\n"
          f"| dask, {args.workers} workers | {dask_row['load_s']:.1f} | {dask_row['kpi_table_s']:.1f} | "
          f"{total_d:.1f} ({total_d / total_p:.2f}x) | "
          f"{', '.join(f'{m:.0f}' for m in dask_row['peak_rss_mb_per_worker'])} MB per worker, "
          f"client {dask_row['client_peak_rss_mb']:.0f} MB |")
    if args.out:
        out = Path(args.out)
    else:
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / ("dask.json" if args.tickets == 1_000_000 else f"dask-{args.tickets}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
