"""Speed and memory at scale (issue 8): kpitools against DuckDB SQL and the pyarrow read floor.

Usage::

    .venv/bin/python benchmarks/bench_scale.py [--tickets 1000000,10000000] [--quick]
        [--only synth,duckdb,pyarrow,core,all,sample,report] [--mem-cap-gb 12] [--cache DIR]

For each ticket count a typed Parquet dataset is written by ``kpitools synth --format parquet``
into a cache folder outside the repository (``$KPITOOLS_BENCH_CACHE``, else
``$XDG_CACHE_HOME/kpitools-bench``, else ``~/.cache/kpitools-bench``; reused when present). Every
measurement runs in a fresh child process (``--child TASK``) with its address space capped at
``--mem-cap-gb`` (``resource.setrlimit(RLIMIT_AS)``), so a run out of memory is reported as such;
the child reports its own wall time per step and its peak resident set size
(``getrusage(RUSAGE_SELF).ru_maxrss``). The rows are those of issue 8's "Speed and memory":

1. ``load_dataset`` + the 8 core KPIs by month x channel, against the same 8 KPIs as DuckDB SQL
   over the same files (what DuckDB computes is printed: medians of *observed* durations on the
   calendar clock, no censoring, no cleaning, so it is a lower bound of the work, not the same
   estimator) and against reading the columns used with pyarrow.
2. ``kpi_table(ds, period="M")`` with all KPIs, against row 1.
3. Peak memory of rows 1 and 2 against the Arrow size of the columns read (row 1: the columns the
   8 KPIs use; row 2: every column of every table).
4. ``load_dataset`` + ``kpi_table`` on data/sample in a fresh process; ``kpitools report`` for one
   month on the sample and on the 1M dataset.
5. The earlier benchmarks (business durations, count bootstraps, permutation test), read from
   ``benchmarks/results/{calendar,bootstrap,permutation}.json`` as their scripts wrote them.

Writes ``benchmarks/results/scale.json``. ``--quick`` uses 100,000 tickets unless ``--tickets``
is given and skips the reports on the generated data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
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
TASKS = ("synth", "pyarrow", "duckdb", "core", "all", "sample", "report")
GOALS = {"duckdb": 0.5, "pyarrow": 3.0, "all_vs_core": 2.0, "mem_vs_arrow": 3.0,
         "mem_cap_gb": 12.0, "sample_s": 2.0, "sample_kpi_s": 1.0, "report_sample_s": 15.0,
         "report_ratio": 3.0}

DUCKDB_NOTE = (
    "DuckDB computes, per month (business timezone) x channel: ticket count; median of observed "
    "calendar-clock first-response and first-resolution durations (answered/resolved tickets only, "
    "no censoring of open ones, so not kpitools' Kaplan-Meier median); SLA first response = "
    "answered within the priority's target / (answered + breached, open past target = breached) on "
    "the calendar clock (kpitools: the SLA's business clock); CSAT top-box share, NPS points; "
    "abandon rate without short abandons; ASA = mean wait of answered contacts. No de-duplication "
    "or exclusion of dirty rows, no intervals.")


# ------------------------------------------------------------------------------- child tasks
def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


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
    t2 = time.perf_counter()
    full = {p.name: pq.read_table(p) for p in Path(a.data).glob("*.parquet")}
    t3 = time.perf_counter()
    return {"seconds": t1 - t0, "arrow_bytes": used_bytes, "all_seconds": t3 - t2,
            "all_arrow_bytes": sum(t.nbytes for t in full.values())}


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

    t0 = time.perf_counter()
    ds = kpitools.load_dataset(a.data)
    t1 = time.perf_counter()
    res = kpitools.kpi_table(ds, period="M", by=a.by, kpis=kpis)
    t2 = time.perf_counter()
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
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"seconds": sec, "month": a.month, "html": Path(p.stdout.strip().splitlines()[-1]).name,
            "children_peak_rss_bytes": peak_children}


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
        else:
            raise ValueError(f"unknown task {a.child!r}")
        r["status"] = "ok"
    except MemoryError as e:  # numpy's and pyarrow's (ArrowMemoryError) out-of-memory errors
        r = {"status": "oom", "error": f"{type(e).__name__}: {e}"[:300]}
    r["peak_rss_bytes"] = _peak()
    print("RESULT " + json.dumps(r), flush=True)
    return 0


# ------------------------------------------------------------------------------- parent
def _cache_dir() -> Path:
    env = os.environ.get("KPITOOLS_BENCH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kpitools-bench"


def run_child(task: str, *, data: str, n: int = 0, month: str = "", cap_gb: float,
              timeout: float) -> dict:
    """Run one task in a fresh process under the memory cap; its result dict (status, numbers)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", task, "--data", data,
           "--n", str(n), "--month", month]
    cap = int(cap_gb * 1024**3)

    def limit():  # runs in the child before exec
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, preexec_fn=limit,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"over {timeout:.0f} s", "wall": timeout}
    wall = time.perf_counter() - t0
    line = next((x for x in reversed(p.stdout.splitlines()) if x.startswith("RESULT ")), None)
    if line is not None:
        r = json.loads(line[len("RESULT "):])
    else:
        err = p.stderr.strip().splitlines()
        oom = any(s in p.stderr for s in ("MemoryError", "bad_alloc", "Cannot allocate memory",
                                           "out of memory"))
        r = {"status": "oom" if oom else "failed",
             "error": f"exit {p.returncode}: {err[-1] if err else ''}"[:300]}
    r["wall"] = wall
    if r["status"] == "oom":
        r["error"] = f"out of memory under the {cap_gb:g} GB cap: " + r.get("error", "")
    return r


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
            _fmt_gb(_val(syn, "peak_rss_bytes")), None, "runs (<= 12 GB)",
            None if _val(syn) is None else _val(syn, "peak_rss_bytes") <= 12 * 1024**3, _why(syn))
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
            peak = kr.get("peak_rss_bytes") if kr and kr.get("status") == "ok" else None
            ab = _val(pa_, key)
            ratio = peak / ab if peak and ab else None
            ok = None if ratio is None else (ratio <= GOALS["mem_vs_arrow"]
                                             and peak <= GOALS["mem_cap_gb"] * 1024**3)
            add(3, f"peak RSS of {label}", n, _fmt_gb(peak),
                "Arrow size, " + ("used columns" if key == "arrow_bytes" else "all columns"),
                _fmt_gb(ab), ratio, f"<= {GOALS['mem_vs_arrow']:g}x and <= 12 GB", ok,
                _why(kr))
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
    ap.add_argument("--mem-cap-gb", type=float, default=12.0, help="address-space cap of each child")
    ap.add_argument("--timeout", type=float, default=5400.0, help="seconds per child")
    ap.add_argument("--cache", default=None, help="folder of the generated datasets")
    ap.add_argument("--out", default=str(RESULTS / "scale.json"))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--data", default="", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--month", default="", help=argparse.SUPPRESS)
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
    old = json.loads(out_path.read_text()) if out_path.exists() else {}
    res = {"benchmark": "speed and memory at scale (issue 8)", "machine": machine(),
           "mem_cap_gb": a.mem_cap_gb, "duckdb_computes": DUCKDB_NOTE, "used_columns": USED,
           "sizes": {}, "sample": dict(old.get("sample", {}))}
    for k, v in old.get("sizes", {}).items():  # keep what this run does not measure again
        res["sizes"][k] = dict(v)
    kw = {"cap_gb": a.mem_cap_gb, "timeout": a.timeout}
    sample = str(ROOT / "data" / "sample")
    month = None
    if "sample" in only:
        print("sample: load_dataset + kpi_table ...", flush=True)
        res["sample"]["sample"] = run_child("sample", data=sample, **kw)
    if "report" in only:
        month = _latest_month(sample)
        print(f"sample: kpitools report --month {month} ...", flush=True)
        res["sample"]["report"] = run_child("report", data=sample, month=month, **kw)
    for n in sizes:
        key = str(n)
        r = res["sizes"].setdefault(key, {})
        data = cache / f"synth-{n}-seed{SEED}"
        ready = (data / "truth.json").exists()
        if "synth" in only or not ready:
            if "synth" not in only:
                print(f"{n:,} tickets: dataset missing, generating it", flush=True)
            print(f"{n:,} tickets: kpitools synth --format parquet -> {data} ...", flush=True)
            r["synth"] = run_child("synth", data=str(data), n=n, **kw)
            if r["synth"]["status"] != "ok":
                print(f"  synth {r['synth']['status']}: {r['synth'].get('error')}", flush=True)
                continue
        for task in ("pyarrow", "duckdb", "core", "all"):
            if task in only:
                print(f"{n:,} tickets: {task} ...", flush=True)
                r[task] = run_child(task, data=str(data), n=n, **kw)
                print(f"  {r[task]['status']} {r[task].get('seconds', r[task].get('error'))}",
                      flush=True)
        if "report" in only and not a.quick and n <= 1_000_000:
            m = month or _latest_month(str(data))
            print(f"{n:,} tickets: kpitools report --month {m} ...", flush=True)
            r["report"] = run_child("report", data=str(data), month=m, **kw)
        res["sizes"][key] = r
        out_path.write_text(json.dumps(res, indent=1) + "\n")  # partial results survive a cut-off
    res["sizes"] = {int(k): v for k, v in sorted(res["sizes"].items(), key=lambda kv: int(kv[0]))}
    rows = build_rows(res)
    res["rows"] = rows
    res["sizes"] = {str(k): v for k, v in res["sizes"].items()}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(res, indent=1) + "\n")
    m = res["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, "
          f"{(m['ram_bytes'] or 0) / 1024**3:.0f} GB RAM; child memory cap {a.mem_cap_gb:g} GB")
    print(render(rows))
    print(f"\n{DUCKDB_NOTE}\nwrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
