"""Speed and memory at scale (issues 8 and 9): kpitools against DuckDB SQL, the pyarrow read floor and Dask.

Usage::

    .venv/bin/python benchmarks/bench_scale.py [--tickets 1000000,10000000] [--quick]
        [--only synth,pyarrow,duckdb,core,all,sample,report,dask] [--mem-cap-gb 12]
        [--arrow-pool mimalloc|jemalloc|system] [--workers 2] [--cache DIR] [--out FILE] [--fresh]

For each ticket count a typed Parquet dataset is written by ``kpitools synth --format parquet``
into a cache folder outside the repository (``$KPITOOLS_BENCH_CACHE``, else
``$XDG_CACHE_HOME/kpitools-bench``, else ``~/.cache/kpitools-bench``; reused when present), as
``synth-<N>-seed20261101``; its month-partitioned copy (``kpitools.dask_engine.write_partitioned``)
goes beside it as ``synth-<N>-seed20261101-by-month`` when the ``dask`` row first needs it.

How time and memory are measured
--------------------------------
Every measurement runs in a fresh child process (``--child TASK``) started in its own session.
The child reports its own wall time per step. Memory is resident memory, measured from outside:
the parent samples ``VmRSS`` (``/proc/<pid>/status``) of the child and of every descendant it
starts (the report's kernel, a Dask LocalCluster's workers) every ``--interval`` seconds (50 ms),
records the largest sum ("peak RSS", with its anonymous / file-backed split at that moment, and
each process's own peak) and kills the whole process group at ``--mem-cap-gb`` (12 GB), reported
as ``oom (RSS cap)``. ``ru_maxrss`` of the child (from ``wait4``: the kernel's high-water mark of
the largest single process) is reported beside it; it also catches a peak shorter than one sample.
The sum counts pages that processes share once per process, so for several processes it is an
upper bound. The child also reports Arrow's allocator (``arrow_pool``) and the most bytes it held
at once (``arrow_pool_max_bytes``); ``--arrow-pool`` sets ``ARROW_DEFAULT_MEMORY_POOL`` for the
children to compare allocators.

The cap used to be ``resource.setrlimit(RLIMIT_AS)``: that limits *address space*, which counts
the arenas Arrow's allocators (mimalloc by default, jemalloc) reserve without touching, so at 10M
tickets even the pyarrow read floor failed with ``ArrowMemoryError`` while its resident memory was
well below the cap. A cgroup memory limit would be the kernel's own way of capping resident
memory; on the development machine the cgroup v2 hierarchy offers no memory controller (only
``hugetlb``) and the v1 memory hierarchy belongs to the machine's supervisor, so the benchmark
does not create cgroups and samples ``/proc`` instead (Linux only).

Rows (issue 8's "Speed and memory", and issue 9's benchmark)
------------------------------------------------------------
1. ``load_dataset`` + the 8 core KPIs by month x channel, against the same 8 KPIs as DuckDB SQL
   over the same files (what DuckDB computes is printed: medians of *observed* durations on the
   calendar clock, no censoring, no cleaning, so it is a lower bound of the work, not the same
   estimator) and against reading the columns used with pyarrow.
2. ``kpi_table(ds, period="M")`` with all KPIs, against row 1.
3. Peak memory of rows 1 and 2 against the Arrow size of the columns read (row 1: the columns the
   8 KPIs use; row 2: every column of every table, read one table at a time).
4. ``load_dataset`` + ``kpi_table`` on data/sample in a fresh process; ``kpitools report`` for one
   month on the sample and on the 1M dataset.
5. The earlier benchmarks (business durations, count bootstraps, permutation test), read from
   ``benchmarks/results/{calendar,bootstrap,permutation}.json`` as their scripts wrote them.
6. Issue 9: ``kpi_table(period="M")``, all KPIs, on the month-partitioned Parquet with Dask on a
   ``LocalCluster`` of ``--workers`` worker processes, against the pandas engine on the flat
   files, with peak memory per worker. This row is ``benchmarks/bench_dask.py``: its ``main`` runs
   in the child on the cached datasets and writes its own ``results/dask*.json``, which is read back.

Writes ``benchmarks/results/scale.json`` (``--out``), keeping the sizes and rows a run does not
measure again (``--fresh``: only this run's); every task's record carries the commit, the time,
the load average before and after, and the machine's free memory (a child SIGKILLed from outside,
usually by the kernel's OOM killer when other processes fill the machine, is
``killed (signal 9)``). Row 6 falls back to ``results/dask*.json`` when this run did not measure
it. ``--quick`` uses 100,000 tickets unless ``--tickets`` is given and skips the reports on the
generated data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
SEED = 20261101
CORE8 = ["ticket_volume", "first_response_time", "first_resolution_time", "csat", "nps",
         "abandon_rate", "asa", "sla_first_response"]
#: Columns the 8 core KPIs need (and the DuckDB queries read).
USED = {
    "tickets": ["ticket_id", "created_at", "channel", "priority", "first_response_at",
                "first_resolved_at"],
    "contacts": ["queued_at", "channel", "abandoned", "answered_at", "ended_at"],
    "surveys": ["survey", "score", "submitted_at", "channel"],
}
TASKS = ("synth", "pyarrow", "duckdb", "core", "all", "sample", "report", "dask")
GOALS = {"duckdb": 0.5, "pyarrow": 3.0, "all_vs_core": 2.0, "mem_vs_arrow": 3.0,
         "mem_cap_gb": 12.0, "sample_s": 2.0, "sample_kpi_s": 1.0, "report_sample_s": 15.0,
         "report_ratio": 3.0, "dask_vs_pandas": 1.5}

DUCKDB_NOTE = (
    "DuckDB computes, per month (business timezone) x channel: ticket count; median of observed "
    "calendar-clock first-response and first-resolution durations (answered/resolved tickets only, "
    "no censoring of open ones, so not kpitools' Kaplan-Meier median); SLA first response = "
    "answered within the priority's target / (answered + breached, open past target = breached) on "
    "the calendar clock (kpitools: the SLA's business clock); CSAT top-box share, NPS points; "
    "abandon rate without short abandons; ASA = mean wait of answered contacts. No de-duplication "
    "or exclusion of dirty rows, no intervals.")

MEMORY_NOTE = (
    "Memory: each step runs in a fresh child process in its own session; the parent samples the "
    "resident memory (VmRSS in /proc/<pid>/status) of the child and all its descendants every "
    "50 ms and kills the group at the cap ('oom (RSS cap)'). 'peak RSS' is the largest such sum "
    "(shared pages count once per process, so for several processes it is an upper bound); "
    "ru_maxrss is the kernel's high-water mark of the largest single process, which also catches "
    "a peak shorter than one sample. Address-space reservations (virtual memory that Arrow's and "
    "the allocators' arenas reserve without touching) are not counted, unlike the RLIMIT_AS cap "
    "used before.")

# ------------------------------------------------------------------------------- child tasks
def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


_T0 = time.perf_counter()


def _step(name: str) -> None:
    """Tell the parent (on stdout) that a step starts, with this process's time and VmRSS.

    A child killed at the cap has no result; its last step says where it was.
    """
    rss = (_status_rss(os.getpid()) or {}).get("rss")
    print("STEP " + json.dumps({"step": name, "t": round(time.perf_counter() - _T0, 2),
                                "rss_bytes": rss}), flush=True)


def _task_synth(a) -> dict:
    from kpitools.cli import main as cli_main

    t0 = time.perf_counter()
    cli_main(["synth", "--tickets", str(a.n), "--seed", str(SEED), "--format", "parquet",
              "--out", a.data])
    rows = {}
    import pyarrow.parquet as pq

    for p in sorted(Path(a.data).glob("*.parquet")):
        rows[p.name.removesuffix(".parquet")] = pq.ParquetFile(p).metadata.num_rows
    return {"seconds": time.perf_counter() - t0, "rows": rows}


def _task_pyarrow(a) -> dict:
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    used = {t: pq.read_table(Path(a.data) / f"{t}.parquet", columns=c) for t, c in USED.items()}
    t1 = time.perf_counter()
    used_bytes = sum(t.nbytes for t in used.values())
    del used
    # every column of every table, one table at a time: the Arrow size row 2 is compared with
    # (holding all tables at once would measure this task's peak, not the data's size)
    all_bytes, all_seconds, tables = 0, 0.0, {}
    for p in sorted(Path(a.data).glob("*.parquet")):
        t2 = time.perf_counter()
        tab = pq.read_table(p)
        all_seconds += time.perf_counter() - t2
        tables[p.stem] = tab.nbytes
        all_bytes += tab.nbytes
        del tab
    return {"seconds": t1 - t0, "arrow_bytes": used_bytes, "all_seconds": all_seconds,
            "all_arrow_bytes": all_bytes, "table_arrow_bytes": tables}


def _targets_sql(data: Path) -> tuple[str, str, str, float]:
    """First-response targets (SQL VALUES, seconds), cut-off, timezone, short-abandon threshold."""
    from kpitools.settings import Settings

    st = Settings.from_yaml(data / "dataset.yml")
    vals = []
    for prio in ("urgent", "high", "normal", "low"):
        tgt = st.sla("first_response", prio)
        if tgt is not None:
            vals.append(f"('{prio}', {tgt[0]})")
    short = float(st.raw.get("short_abandon_s") or 0)
    return ", ".join(vals), st.exported_at.isoformat(), st.timezone, short


def _task_duckdb(a) -> dict:
    import duckdb

    data = Path(a.data)
    t0 = time.perf_counter()
    targets, cutoff, tz, short = _targets_sql(data)
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{tz}'")
    tk, ct, sv = (str(data / f"{t}.parquet") for t in ("tickets", "contacts", "surveys"))
    q_tickets = f"""
        WITH t AS (
            SELECT strftime(created_at, '%Y-%m') AS month, channel, priority,
                   epoch(created_at) AS c, epoch(first_response_at) AS fr,
                   epoch(first_resolved_at) AS fs
            FROM read_parquet('{tk}') WHERE created_at IS NOT NULL),
        g AS (SELECT * FROM (VALUES {targets}) v(priority, target))
        SELECT month, channel, count(*) AS ticket_volume,
               quantile_cont(fr - c, 0.5) FILTER (WHERE fr IS NOT NULL) AS frt_median_observed,
               quantile_cont(fs - c, 0.5) FILTER (WHERE fs IS NOT NULL) AS fres_median_observed,
               count(*) FILTER (WHERE fr IS NOT NULL AND fr - c <= target) AS sla_met,
               count(*) FILTER (WHERE (fr IS NOT NULL AND fr - c > target)
                                OR (fr IS NULL AND epoch(TIMESTAMPTZ '{cutoff}') - c > target))
                   AS sla_breached
        FROM t LEFT JOIN g USING (priority) GROUP BY ALL ORDER BY ALL"""
    q_contacts = f"""
        WITH c AS (
            SELECT strftime(queued_at, '%Y-%m') AS month, channel, abandoned,
                   epoch(coalesce(answered_at, ended_at)) - epoch(queued_at) AS wait,
                   answered_at IS NOT NULL AND NOT abandoned AS answered
            FROM read_parquet('{ct}') WHERE queued_at IS NOT NULL)
        SELECT month, channel,
               count(*) FILTER (WHERE abandoned AND wait >= {short})
                   / count(*) FILTER (WHERE NOT (abandoned AND wait < {short})) AS abandon_rate,
               count(*) FILTER (WHERE abandoned AND wait < {short}) AS short_abandons,
               avg(wait) FILTER (WHERE answered) AS asa
        FROM c GROUP BY ALL ORDER BY ALL"""
    q_surveys = f"""
        SELECT strftime(submitted_at, '%Y-%m') AS month, channel,
               avg(CASE WHEN score >= 4 THEN 1.0 ELSE 0.0 END)
                   FILTER (WHERE survey = 'csat' AND score BETWEEN 1 AND 5) AS csat,
               100 * avg(CASE WHEN score >= 9 THEN 1.0 WHEN score <= 6 THEN -1.0 ELSE 0.0 END)
                   FILTER (WHERE survey = 'nps' AND score BETWEEN 0 AND 10) AS nps
        FROM read_parquet('{sv}') WHERE submitted_at IS NOT NULL GROUP BY ALL ORDER BY ALL"""
    out = [con.sql(q).df() for q in (q_tickets, q_contacts, q_surveys)]
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "result_rows": [len(x) for x in out], "threads":
            con.execute("SELECT current_setting('threads')").fetchone()[0],
            "duckdb": duckdb.__version__}


def _task_kpitools(a, kpis) -> dict:
    import kpitools

    _step("load_dataset")
    t0 = time.perf_counter()
    ds = kpitools.load_dataset(a.data)
    t1 = time.perf_counter()
    _step("kpi_table")
    res = kpitools.kpi_table(ds, period="M", by=a.by, kpis=kpis)
    t2 = time.perf_counter()
    _step("done")
    return {"seconds": t2 - t0, "load_seconds": t1 - t0, "kpi_seconds": t2 - t1,
            "result_rows": len(res), "kpis": int(res["kpi"].nunique()) if len(res) else 0}


def _task_report(a) -> dict:
    out = tempfile.mkdtemp(prefix="kpitools-bench-report-")
    cmd = [sys.executable, "-m", "kpitools.cli", "report", "--data", a.data, "--month", a.month,
           "--out", out]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    sec = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    if p.returncode != 0:
        raise RuntimeError(f"kpitools report failed ({p.returncode}): {p.stderr[-2000:]}")
    return {"seconds": sec, "month": a.month, "html": Path(p.stdout.strip().splitlines()[-1]).name}


def _task_partition(a) -> dict:
    """Month partitions of the flat dataset (``write_partitioned``), written then renamed."""
    from kpitools.dask_engine import write_partitioned

    dest = Path(a.dest)
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    files = write_partitioned(a.data, tmp, partition_by="month")
    tmp.rename(dest)
    return {"seconds": time.perf_counter() - t0, "files": len(files),
            "bytes": sum(f.stat().st_size for f in dest.rglob("*.parquet"))}


def _task_dask(a) -> dict:
    """Issue 9's row: ``benchmarks/bench_dask.py`` (pandas engine, then Dask on a LocalCluster).

    Its ``main`` runs here on this benchmark's cached flat and month-partitioned datasets and
    writes its own results file, which is read back. bench_dask with ``--cache`` reads
    ``<cache>/synth-<N>-seed20261101[-by-month]`` itself; the older one (no ``--cache``) reads
    ``<data>/<N>/flat`` and ``<data>/<N>/partitioned``, given as symbolic links to the same folders.
    """
    sys.path.insert(0, str(HERE))
    import bench_dask

    flat = Path(a.data)
    t0 = time.perf_counter()
    if hasattr(bench_dask, "_cache_dir"):  # bench_dask --cache (the shared benchmark cache)
        rc = bench_dask.main(["--tickets", str(a.n), "--workers", str(a.workers),
                              "--cache", str(flat.parent)])
    else:
        links = Path(a.dest) / str(a.n)
        links.mkdir(parents=True, exist_ok=True)
        for name, target in (("flat", flat), ("partitioned", Path(f"{flat}-by-month"))):
            link = links / name
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target.resolve(), target_is_directory=True)
        rc = bench_dask.main(["--tickets", str(a.n), "--data", str(links.parent),
                              "--workers", str(a.workers)])
    sec = time.perf_counter() - t0
    name = "dask.json" if a.n == 1_000_000 else f"dask-{a.n}.json"
    res_path = bench_dask.RESULTS / name
    if rc != 0 or not res_path.exists():
        raise RuntimeError(f"bench_dask.main returned {rc}; expected its results in {res_path}")
    r = json.loads(res_path.read_text())
    r["seconds"] = sec
    r["results_file"] = f"benchmarks/results/{name}"
    return r


def child(a) -> int:
    try:
        if a.child == "synth":
            r = _task_synth(a)
        elif a.child == "pyarrow":
            r = _task_pyarrow(a)
        elif a.child == "duckdb":
            r = _task_duckdb(a)
        elif a.child == "core":
            a.by = "channel"
            r = _task_kpitools(a, CORE8)
        elif a.child in ("all", "sample"):
            a.by = None
            r = _task_kpitools(a, None)
        elif a.child == "report":
            r = _task_report(a)
        elif a.child == "partition":
            r = _task_partition(a)
        elif a.child == "dask":
            r = _task_dask(a)
        else:
            raise ValueError(f"unknown task {a.child!r}")
        r["status"] = "ok"
    except MemoryError as e:  # numpy's and pyarrow's (ArrowMemoryError) out-of-memory errors
        r = {"status": "oom", "error": f"{type(e).__name__}: {e}"[:300]}
    r["peak_rss_bytes"] = _peak()
    if "pyarrow" in sys.modules:  # which allocator Arrow used, and the most it held at once
        import pyarrow as pa

        pool = pa.default_memory_pool()
        r["arrow_pool"] = pool.backend_name
        r["arrow_pool_max_bytes"] = pool.max_memory()
    print("RESULT " + json.dumps(r), flush=True)
    return 0


# ------------------------------------------------------------------------------- parent
def _cache_dir() -> Path:
    env = os.environ.get("KPITOOLS_BENCH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kpitools-bench"


def _proc_tree(root: int) -> list[int]:
    """``root`` and every live descendant of it (parent links read from ``/proc/<pid>/stat``)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat", "rb") as f:
                    st = f.read()
            except OSError:  # the process ended meanwhile
                continue
            parent[int(d)] = int(st[st.rfind(b")") + 2:].split()[1])
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in parent:
            tree.append(pid)
            todo += children.get(pid, [])
    return tree


_STATUS_KEYS = {b"VmRSS:": "rss", b"RssAnon:": "anon", b"RssFile:": "file", b"RssShmem:": "shmem"}


def _status_rss(pid: int) -> dict | None:
    """Resident memory of one process in bytes (VmRSS and its anon/file/shmem parts), or None."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    out = {}
    for line in lines:
        key = _STATUS_KEYS.get(line.split(b"\t", 1)[0])
        if key:
            out[key] = int(line.split()[1]) * 1024
    return out if "rss" in out else None  # a zombie has no VmRSS


def _mem_available() -> int | None:
    """The machine's MemAvailable (bytes), from ``/proc/meminfo``."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""
    # no machine-specific paths in the results: the checkout and home folder as placeholders
    cmd = cmd.replace(str(Path(__file__).resolve().parents[1]) + "/", "").replace(str(Path.home()), "~")
    return cmd[:160]


class RssMonitor:
    """Peak resident memory of a process tree, sampled from ``/proc``; kills the tree at the cap.

    Every ``interval`` seconds it sums ``VmRSS`` of the root process and all its descendants
    (``/proc/<pid>/status``; the tree itself is re-read from ``/proc/*/stat`` every
    ``scan_every`` seconds, so workers a child starts are counted). The sum counts shared pages
    (libraries, a parent's pages after fork) once per process, so it is an upper bound of what the
    tree holds; the cap is applied to that sum. A peak shorter than one interval can be missed: the
    kernel's own high-water mark (``ru_maxrss`` of the largest process) is reported beside it.
    """

    def __init__(self, root: int, *, cap_bytes: int, interval: float = 0.05,
                 scan_every: float = 0.5):
        self.root, self.cap, self.interval, self.scan_every = root, cap_bytes, interval, scan_every
        self.peak = 0
        self.peak_parts: dict = {}
        self.peak_at = 0.0
        self.samples = 0
        self.procs: dict[int, dict] = {}  # pid -> {"cmd", "peak"}
        self._tree: list[int] = [root]
        self._next_scan = 0.0
        self.timeline: list[tuple[float, int]] = []  # (s, tree RSS), one point per `_every` s
        self._every = 1.0
        # the machine's free memory: other processes can exhaust it before the cap is reached
        self.mem_available_start = _mem_available()
        self.mem_available_min = self.mem_available_start

    def sample(self, now: float) -> int:
        """Read the tree's RSS once; return the sum (bytes)."""
        if now >= self._next_scan:
            self._tree = _proc_tree(self.root) or [self.root]
            self._next_scan = now + self.scan_every
        total = {"rss": 0, "anon": 0, "file": 0, "shmem": 0}
        for pid in self._tree:
            m = _status_rss(pid)
            if m is None:
                continue
            for k, v in m.items():
                total[k] += v
            rec = self.procs.get(pid)
            if rec is None:
                rec = self.procs[pid] = {"cmd": _cmdline(pid), "peak_rss_bytes": 0}
            rec["peak_rss_bytes"] = max(rec["peak_rss_bytes"], m["rss"])
        self.samples += 1
        if not self.timeline or now - self.timeline[-1][0] >= self._every:
            self.timeline.append((round(now, 2), total["rss"]))
            avail = _mem_available()
            if avail is not None and (self.mem_available_min is None
                                      or avail < self.mem_available_min):
                self.mem_available_min = avail
            if len(self.timeline) > 600:  # keep it short: halve the resolution
                self.timeline, self._every = self.timeline[::2], self._every * 2
        if total["rss"] > self.peak:
            self.peak, self.peak_parts, self.peak_at = total["rss"], total, now
        return total["rss"]

    def report(self) -> dict:
        procs = sorted(self.procs.items(), key=lambda kv: -kv[1]["peak_rss_bytes"])
        return {"monitor_peak_rss_bytes": self.peak,
                "monitor_peak_parts_bytes": {k: v for k, v in self.peak_parts.items() if k != "rss"},
                "monitor_peak_at_s": round(self.peak_at, 2), "monitor_samples": self.samples,
                "monitor_interval_s": self.interval, "processes": len(procs),
                "process_peaks": [{"pid": pid, **rec} for pid, rec in procs[:8]],
                "mem_available_start_bytes": self.mem_available_start,
                "mem_available_min_bytes": self.mem_available_min,
                "timeline_s_rss_bytes": self.timeline}


def run_child(task: str, *, data: str, n: int = 0, month: str = "", dest: str = "",
              workers: int = 2, cap_gb: float, timeout: float, arrow_pool: str | None = None,
              interval: float = 0.05) -> dict:
    """Run one task in a fresh process under the resident-memory cap; its result dict.

    The child (and whatever it starts) runs in its own session; an :class:`RssMonitor` samples
    the tree's resident memory and kills the whole process group with SIGKILL when it reaches
    ``cap_gb`` (status ``oom (RSS cap)``) or when ``timeout`` passes (status ``timeout``).
    ``ru_maxrss`` of the child comes from ``wait4``.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", task, "--data", data,
           "--n", str(n), "--month", month, "--dest", dest, "--workers", str(workers)]
    cap = int(cap_gb * 1024**3)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    if arrow_pool:
        env["ARROW_DEFAULT_MEMORY_POOL"] = arrow_pool
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, text=True, env=env,
                             start_new_session=True)
        mon = RssMonitor(p.pid, cap_bytes=cap, interval=interval)
        killed = None
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter() - t0
            if mon.sample(now) >= cap and killed is None:
                killed = "oom (RSS cap)"
                _kill_group(p.pid)
            elif now > timeout and killed is None:
                killed = "timeout"
                _kill_group(p.pid)
            time.sleep(interval)
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        wall = time.perf_counter() - t0
        _kill_group(p.pid)  # workers the child left behind in its session
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    line = next((x for x in reversed(stdout.splitlines()) if x.startswith("RESULT ")), None)
    steps = [json.loads(x[len("STEP "):]) for x in stdout.splitlines() if x.startswith("STEP ")]
    if killed is not None:
        r = {"status": killed, "error": (f"tree RSS reached the {cap_gb:g} GB cap after "
                                         f"{wall:.0f} s" if killed != "timeout"
                                         else f"over {timeout:.0f} s")}
    elif line is not None:
        r = json.loads(line[len("RESULT "):])
    elif p.returncode < 0:  # a signal the harness did not send, e.g. the kernel's OOM killer
        r = {"status": f"killed (signal {-p.returncode})",
             "error": f"signal {signal.Signals(-p.returncode).name} from outside the harness after "
                      f"{wall:.0f} s (SIGKILL: usually the kernel's OOM killer, when the machine "
                      f"runs out of memory below the cap)"}
    else:
        tail = stderr.strip().splitlines()
        r = {"status": "failed", "error": f"exit {p.returncode}: {tail[-1] if tail else ''}"[:300]}
    r["wall"] = wall
    if steps:
        r["steps"] = steps
        if r["status"] != "ok":
            r["error"] += f" during {steps[-1]['step']}"
    r["ru_maxrss_bytes"] = ru.ru_maxrss * 1024
    r.update(mon.report())
    if r["status"] == "oom":  # the child's own MemoryError (an allocation the kernel refused)
        r["error"] = "allocation failed: " + r.get("error", "")
    return r


def _kill_group(pgid: int) -> None:
    """SIGKILL the process group this harness started (the child's own session)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _latest_month(data: str) -> str:
    from kpitools.report import find_data, latest_complete_month

    return latest_complete_month(find_data(data))


def _fmt_s(x):
    if x is None:
        return "-"
    return f"{x * 1000:.2g} ms" if x < 0.1 else (f"{x:.2f} s" if x < 10 else f"{x:.0f} s")


def _fmt_gb(b):
    return "-" if b is None else f"{b / 1024**3:.2f} GB"


def _val(r: dict | None, key: str = "seconds"):
    return r.get(key) if r and r.get("status") == "ok" else None


def _why(r: dict | None) -> str:
    if r is None:
        return "not run"
    return r["status"] if r.get("status") != "ok" else ""


def build_rows(res: dict) -> list[dict]:
    """The table: one row per measured goal, as dicts (also written to scale.json)."""
    rows = []

    def add(row, step, n, value, ref_name, ref, ratio, goal, ok, note=""):
        rows.append({"row": row, "step": step, "tickets": n, "kpitools": value, "reference": ref_name,
                     "reference_value": ref, "ratio": ratio, "goal": goal,
                     "met": None if ok is None else bool(ok), "note": note})

    for n, r in res["sizes"].items():
        syn = r.get("synth")
        add(0, "kpitools synth --format parquet (time; peak RSS)", n, _fmt_s(_val(syn)), "-",
            _fmt_gb(_peak_of(syn)), None, "runs (<= 12 GB)",
            None if _val(syn) is None else _peak_of(syn) <= GOALS["mem_cap_gb"] * 1024**3,
            _why(syn))
        core, allk, duck, pa_ = (r.get(k) for k in ("core", "all", "duckdb", "pyarrow"))
        kc = _val(core)
        for ref_name, ref_r, goal in (("DuckDB SQL (3 queries)", duck, GOALS["duckdb"]),
                                      ("pyarrow read of used columns", pa_, GOALS["pyarrow"])):
            rv = _val(ref_r)
            ratio = kc / rv if kc is not None and rv else None
            load = _val(core, "load_seconds")
            note = _why(core) or (f"load {load:.1f} s + KPIs {_val(core, 'kpi_seconds'):.1f} s"
                                  if load is not None else "")
            add(1, "load_dataset + 8 core KPIs, M x channel", n, _fmt_s(kc), ref_name, _fmt_s(rv),
                ratio, f"<= {goal:g}x", None if ratio is None else ratio <= goal,
                note or _why(ref_r))
        ka = _val(allk)
        ratio = ka / kc if ka is not None and kc else None
        note = _why(allk) or (f"load {_val(allk, 'load_seconds'):.1f} s + KPIs "
                              f"{_val(allk, 'kpi_seconds'):.1f} s" if ka is not None else "")
        add(2, "load_dataset + kpi_table(period='M'), all KPIs", n, _fmt_s(ka), "row 1",
            _fmt_s(kc), ratio, f"<= {GOALS['all_vs_core']:g}x",
            None if ratio is None else ratio <= GOALS["all_vs_core"], note)
        for label, kr, key in (("row 1", core, "arrow_bytes"), ("row 2", allk, "all_arrow_bytes")):
            peak = _peak_of(kr)
            ab = _val(pa_, key)
            ratio = peak / ab if peak and ab else None
            ok = None if ratio is None else (ratio <= GOALS["mem_vs_arrow"]
                                             and peak <= GOALS["mem_cap_gb"] * 1024**3)
            if kr and kr.get("status") != "ok" and peak is not None:
                ok = False  # stopped at the cap: the peak shown is where it was stopped
            note = _why(kr)
            if kr and kr.get("ru_maxrss_bytes"):
                note = ", ".join(x for x in (note, "ru_maxrss " + _fmt_gb(kr["ru_maxrss_bytes"]))
                                 if x)
            add(3, f"peak RSS of {label}", n, _fmt_gb(peak),
                "Arrow size, " + ("used columns" if key == "arrow_bytes" else "all columns"),
                _fmt_gb(ab), ratio, f"<= {GOALS['mem_vs_arrow']:g}x and <= 12 GB", ok, note)
        rows += _dask_rows(n, r.get("dask") or _dask_results_file(n))
        rep = r.get("report")
        if rep is not None:
            rs = _val(res.get("sample", {}).get("report"))
            rv = _val(rep)
            ratio = rv / rs if rv is not None and rs else None
            add(4, f"kpitools report, one month ({rep.get('month', '')})", n, _fmt_s(rv),
                "report on data/sample", _fmt_s(rs), ratio, f"<= {GOALS['report_ratio']:g}x",
                None if ratio is None else ratio <= GOALS["report_ratio"], _why(rep))
    smp = res.get("sample", {})
    s = smp.get("sample")
    add(4, "data/sample: load_dataset + kpi_table(period='M'), fresh process", "sample",
        _fmt_s(_val(s)), "goal", f"{GOALS['sample_s']:g} s", None, f"< {GOALS['sample_s']:g} s",
        None if _val(s) is None else _val(s) < GOALS["sample_s"],
        _why(s) or (f"load {_val(s, 'load_seconds'):.2f} s" if _val(s) is not None else ""))
    add(4, "data/sample: kpi_table alone", "sample", _fmt_s(_val(s, "kpi_seconds")), "goal",
        f"{GOALS['sample_kpi_s']:g} s", None, f"< {GOALS['sample_kpi_s']:g} s",
        None if _val(s) is None else _val(s, "kpi_seconds") < GOALS["sample_kpi_s"], _why(s))
    rp = smp.get("report")
    add(4, f"kpitools report, one month ({(rp or {}).get('month', '')})", "sample",
        _fmt_s(_val(rp)), "goal", f"{GOALS['report_sample_s']:g} s", None,
        f"< {GOALS['report_sample_s']:g} s",
        None if _val(rp) is None else _val(rp) < GOALS["report_sample_s"], _why(rp))
    rows += _earlier_rows()
    return rows


def _peak_of(r: dict | None):
    """Peak resident memory of a task: the monitor's tree peak, else (older results) ru_maxrss.

    Also given for a task stopped at the cap, since that peak is what stopped it.
    """
    if not r or not (r.get("status") == "ok" or str(r.get("status", "")).startswith("oom")):
        return None
    return r.get("monitor_peak_rss_bytes") or r.get("peak_rss_bytes")


def _dask_results_file(n: int) -> dict | None:
    """bench_dask's own results at ``n`` tickets when this run did not measure row 6 itself."""
    p = RESULTS / ("dask.json" if n == 1_000_000 else f"dask-{n}.json")
    if not p.exists():
        return None
    r = json.loads(p.read_text())
    if r.get("tickets") != n or "pandas" not in r or "dask" not in r:
        return None
    return {**r, "status": "ok", "from_file": f"from results/{p.name}"}


def _dask_rows(n, r: dict | None) -> list[dict]:
    """Row 6 (issue 9): kpi_table, all KPIs, Dask on a LocalCluster vs the pandas engine."""
    if r is None:
        return []
    step = "kpi_table(period='M'), all KPIs: Dask LocalCluster on month partitions vs pandas engine"
    if r.get("status") != "ok":
        return [{"row": 6, "step": step, "tickets": n, "kpitools": "-",
                 "reference": "pandas engine", "reference_value": "-", "ratio": None,
                 "goal": f"<= {GOALS['dask_vs_pandas']:g}x", "met": None, "note": _why(r)}]
    pd_, dk = r["pandas"], r["dask"]
    tp, td = pd_["load_s"] + pd_["kpi_table_s"], dk["load_s"] + dk["kpi_table_s"]
    skipped = dk.get("skipped_on_dask", 0)  # a count, or (newer bench_dask) the KPIs' names
    skipped = len(skipped) if isinstance(skipped, list) else skipped
    w = r.get("workers", len(dk.get("peak_rss_mb_per_worker", [])))
    rows = [{"row": 6, "step": step, "tickets": n, "kpitools": _fmt_s(td),
             "reference": "pandas engine, flat Parquet", "reference_value": _fmt_s(tp),
             "ratio": td / tp, "goal": f"<= {GOALS['dask_vs_pandas']:g}x",
             "met": td / tp <= GOALS["dask_vs_pandas"],
             "note": f"{w} workers x 1 thread; dask load {dk['load_s']:.1f} s + KPIs "
                     f"{dk['kpi_table_s']:.1f} s; {skipped} KPIs skipped"}]
    per = [m * 1024**2 for m in dk.get("peak_rss_mb_per_worker", [])]
    pp = pd_.get("peak_rss_mb", 0) * 1024**2
    parts = dk.get("partitions", {})
    rows.append({"row": 6, "step": "peak RSS per Dask worker (ru_maxrss on each worker)",
                 "tickets": n, "kpitools": " / ".join(_fmt_gb(b) for b in per) or "-",
                 "reference": "pandas engine process", "reference_value": _fmt_gb(pp),
                 "ratio": max(per) / pp if per and pp else None,
                 "goal": "bounded by the partition size", "met": None,
                 "note": f"client {_fmt_gb(dk.get('client_peak_rss_mb', 0) * 1024**2)}; whole tree "
                         f"{_fmt_gb(r.get('monitor_peak_rss_bytes'))}; partitions "
                         + ", ".join(f"{k} {v}" for k, v in parts.items())})
    if r.get("from_file"):  # not measured by this run, nor under its cap
        for row in rows:
            row["note"] = f"{r['from_file']}; {row['note']}"
    return rows


def _earlier_rows() -> list[dict]:
    """Row 5: the headline numbers of the earlier benchmarks, from their own result files."""
    out = []

    def load(name):
        p = RESULTS / f"{name}.json"
        return json.loads(p.read_text()) if p.exists() else None

    def add(step, n, value, ref_name, ref, ratio):
        out.append({"row": 5, "step": step, "tickets": n, "kpitools": value, "reference": ref_name,
                    "reference_value": ref, "ratio": ratio, "goal": "faster than reference",
                    "met": None if ratio is None else ratio < 1, "note": "from results/*.json"})

    cal = load("calendar")
    if cal and "vectorised_seconds_per_1m" in cal:
        v, ref = cal["vectorised_seconds_per_1m"], cal["per_row_seconds_per_1m_extrapolated"]
        add("business durations, vectorised vs per-row loop", f"{cal['n_pairs']:,} pairs",
            _fmt_s(v), "per-row loop (extrapolated from a subset)", _fmt_s(ref), v / ref)
    boot = load("bootstrap")
    if boot:
        for r in boot.get("results", []):
            if "counts_seconds" in r and "rows_seconds" in r:
                add(f"bootstrap {r['kpi']} from counts vs resampling rows",
                    f"{boot.get('n_answers', 0):,} answers, B={boot.get('n_boot')}",
                    _fmt_s(r["counts_seconds"]), "row resampling", _fmt_s(r["rows_seconds"]),
                    r["counts_seconds"] / r["rows_seconds"])
    perm = load("permutation")
    if perm:
        res = perm.get("results", [])
        if len(res) >= 2:
            add("permutation test, vectorised vs loop over shifts",
                f"{perm.get('n_perm', 0):,} permutations", _fmt_s(res[0]["seconds"]),
                res[1]["method"], _fmt_s(res[1]["seconds"]), res[0]["seconds"] / res[1]["seconds"])
    return out


def render(rows: list[dict]) -> str:
    head = ["row", "step", "tickets", "kpitools", "reference", "ref. value", "ratio", "goal", "met",
            "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        n = r["tickets"]
        n = f"{n / 1e6:g}M" if isinstance(n, int) else n
        ratio = "-" if r["ratio"] is None else (f"{r['ratio']:.3g}x" if r["ratio"] >= 0.01
                                                else f"{r['ratio']:.1e}x")
        met = {None: "-", True: "yes", False: "no"}[r["met"]]
        lines.append("| " + " | ".join(str(x) for x in (
            r["row"], r["step"], n, r["kpitools"], r["reference"], r["reference_value"], ratio,
            r["goal"], met, r["note"])) + " |")
    return "\n".join(lines)


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        mem = None
    import numpy
    import pandas
    import pyarrow

    return {"cpu": cpu, "cores": os.cpu_count(), "ram_bytes": mem, "python": platform.python_version(),
            "numpy": numpy.__version__, "pandas": pandas.__version__, "pyarrow": pyarrow.__version__,
            "platform": platform.platform()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", default=None, help="comma-separated ticket counts (default 1000000,10000000)")
    ap.add_argument("--quick", action="store_true", help="100,000 tickets, no report on them")
    ap.add_argument("--only", default=None, help=f"comma-separated tasks among {','.join(TASKS)}")
    ap.add_argument("--mem-cap-gb", type=float, default=12.0,
                    help="resident-memory cap of each child's process tree (GB)")
    ap.add_argument("--interval", type=float, default=0.05, help="RSS sampling interval (s)")
    ap.add_argument("--arrow-pool", default=None, choices=["mimalloc", "jemalloc", "system"],
                    help="ARROW_DEFAULT_MEMORY_POOL for the children (default: pyarrow's own)")
    ap.add_argument("--workers", type=int, default=2, help="Dask LocalCluster workers (task dask)")
    ap.add_argument("--timeout", type=float, default=5400.0, help="seconds per child")
    ap.add_argument("--cache", default=None, help="folder of the generated datasets")
    ap.add_argument("--out", default=str(RESULTS / "scale.json"))
    ap.add_argument("--fresh", action="store_true",
                    help="start --out afresh instead of keeping the steps this run does not measure")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--data", default="", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--month", default="", help=argparse.SUPPRESS)
    ap.add_argument("--dest", default="", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        return child(a)

    sizes = [int(x) for x in (a.tickets or ("100000" if a.quick else "1000000,10000000")).split(",")]
    only = set(TASKS if a.only is None else a.only.split(","))
    unknown = only - set(TASKS)
    if unknown:
        ap.error(f"--only: unknown task(s) {sorted(unknown)}; choose among {', '.join(TASKS)}")
    cache = Path(a.cache) if a.cache else _cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    out_path = Path(a.out)
    old = json.loads(out_path.read_text()) if out_path.exists() and not a.fresh else {}
    res = {"benchmark": "speed and memory at scale (issues 8 and 9)", "machine": machine(),
           "commit": _commit(), "mem_cap_gb": a.mem_cap_gb, "memory_measured": MEMORY_NOTE,
           "arrow_pool": a.arrow_pool or "pyarrow default", "duckdb_computes": DUCKDB_NOTE,
           "used_columns": USED, "sizes": {}, "sample": dict(old.get("sample", {}))}
    for k, v in old.get("sizes", {}).items():  # keep what this run does not measure again
        res["sizes"][k] = dict(v)
    kw = {"cap_gb": a.mem_cap_gb, "timeout": a.timeout, "arrow_pool": a.arrow_pool,
          "interval": a.interval}

    def run(task, label, **more):
        print(f"{label}: {task} ...", flush=True)
        la0 = os.getloadavg()
        r = run_child(task, **more, **kw)
        r["loadavg_before"], r["loadavg_after"] = la0, os.getloadavg()
        r["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        r["commit"] = res["commit"]
        print(f"  {r['status']} {_fmt_s(r.get('seconds')) if r['status'] == 'ok' else r.get('error')}"
              f"; peak tree RSS {_fmt_gb(r['monitor_peak_rss_bytes'])} (ru_maxrss "
              f"{_fmt_gb(r['ru_maxrss_bytes'])}); load {la0[0]:.1f} -> {r['loadavg_after'][0]:.1f}",
              flush=True)
        return r

    def save():
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(res, indent=1) + "\n")  # partial results survive a cut-off

    sample = str(ROOT / "data" / "sample")
    month = None
    if "sample" in only:
        res["sample"]["sample"] = run("sample", "data/sample", data=sample)
    if "report" in only:
        month = _latest_month(sample)
        res["sample"]["report"] = run("report", f"data/sample, month {month}", data=sample,
                                      month=month)
    save()
    for n in sizes:
        key = str(n)
        r = res["sizes"].setdefault(key, {})
        data = cache / f"synth-{n}-seed{SEED}"
        label = f"{n:,} tickets"
        if "synth" in only or not (data / "truth.json").exists():
            if "synth" not in only:
                print(f"{label}: dataset missing, generating it", flush=True)
            r["synth"] = run("synth", label, data=str(data), n=n)
            save()
            if r["synth"]["status"] != "ok":
                continue
        for task in ("pyarrow", "duckdb", "core", "all"):
            if task in only:
                r[task] = run(task, label, data=str(data), n=n)
                save()
        if "report" in only and not a.quick and n <= 1_000_000:
            m = month or _latest_month(str(data))
            r["report"] = run("report", f"{label}, month {m}", data=str(data), month=m)
            save()
        if "dask" in only:
            parts = Path(f"{data}-by-month")
            if not (parts / "tickets").exists():
                r["partition"] = run("partition", label, data=str(data), dest=str(parts))
                save()
            if (parts / "tickets").exists():
                r["dask"] = run("dask", label, data=str(data), n=n,
                                dest=str(cache / "bench-dask-links"), workers=a.workers)
            else:
                r["dask"] = {"status": "not run", "error": "no month-partitioned dataset"}
            save()
    res["sizes"] = {int(k): v for k, v in sorted(res["sizes"].items(), key=lambda kv: int(kv[0]))}
    rows = build_rows(res)
    res["rows"] = rows
    res["sizes"] = {str(k): v for k, v in res["sizes"].items()}
    save()
    m = res["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, "
          f"{(m['ram_bytes'] or 0) / 1024**3:.0f} GB RAM; commit {res['commit']}; cap "
          f"{a.mem_cap_gb:g} GB on the resident memory of each child's process tree")
    print(render(rows))
    print(f"\n{MEMORY_NOTE}\n\n{DUCKDB_NOTE}\nwrote {out_path}")
    return 0


def _commit() -> str:
    """The commit measured, with ``+modified`` when ``kpitools/`` or ``benchmarks/*.py`` differ from it.

    Result files written by this run do not count as a modification.
    """
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "kpitools", "benchmarks/*.py"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + ("+modified" if dirty else "")


if __name__ == "__main__":
    sys.exit(main())
