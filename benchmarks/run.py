"""Run every benchmark in this folder (``make bench``); each compares against a named alternative.

Each ``bench_*.py`` prints its table and writes ``benchmarks/results/<name>.json``; then
``bench_scale.py`` (the speed-and-memory table of issue 8) runs last, with this script's
arguments (``--quick``, ``--tickets``, ``--only`` ...), and prints the one table of rows 1-5,
row 5 read from the results the other scripts just wrote. Two scripts are not run on their own
here, because ``bench_scale.py`` runs them under its resident-memory cap on its cached datasets:
``bench_synth.py`` (row 0 measures ``kpitools synth`` itself) and ``bench_dask.py`` (row 6, issue
9: its ``main`` is called per ticket count on the month-partitioned copy of the same dataset).
``--only`` selects rows of ``bench_scale.py``; with ``--only`` the other scripts are skipped too.
Benchmarks are measurements, not tests: they are never part of ``make test``.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAST = "bench_scale.py"
NOT_RUN = {"bench_synth.py", "bench_dask.py"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    failed = []
    scripts = [p for p in sorted(HERE.glob("bench_*.py")) if p.name not in NOT_RUN | {LAST}]
    if any(a == "--only" or a.startswith("--only=") for a in argv):
        scripts = []  # a selection of bench_scale rows: row 5 is read from the last results
    for script in scripts + [HERE / LAST]:
        print(f"\n=== {script.name} ===", flush=True)
        args = argv if script.name == LAST else []
        if subprocess.run([sys.executable, str(script), *args], cwd=HERE.parent).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
