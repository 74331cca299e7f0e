"""Run every benchmark in this folder (``make bench``); each compares against a named alternative.

Each ``bench_*.py`` prints its table and writes ``benchmarks/results/<name>.json``; then
``bench_scale.py`` (the speed-and-memory table of issue 8) runs last, with this script's
arguments (``--quick``, ``--tickets``, ``--only`` ...), and prints the one table of rows 1-5,
row 5 read from the results the other scripts just wrote. ``bench_synth.py`` is not run here:
``bench_scale.py`` measures ``kpitools synth`` itself (row 0). Benchmarks are measurements, not
tests: they are never part of ``make test``.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAST = "bench_scale.py"
NOT_RUN = {"bench_synth.py"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    failed = []
    scripts = [p for p in sorted(HERE.glob("bench_*.py")) if p.name not in NOT_RUN | {LAST}]
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
