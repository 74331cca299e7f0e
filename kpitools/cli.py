"""The ``kpitools`` command: validate, synth, report, docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _validate(args: argparse.Namespace) -> int:
    import pandas as pd

    from kpitools.io import DataError, load_dataset
    from kpitools.settings import SettingsError

    try:
        ds = load_dataset(args.path)
    except (DataError, SettingsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    tz = ds.settings.timezone
    print(f"dataset: {args.path}  (timezone {tz}, currency {ds.settings.currency})")
    span = ds.span()
    if span:
        lo, hi = (x.tz_convert(tz) for x in span)
        print(f"period covered: {lo:%Y-%m-%d} .. {hi:%Y-%m-%d}; export cut-off {ds.cutoff.tz_convert(tz):%Y-%m-%d %H:%M %Z}")
    summ = ds.summary()
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\ntables:")
        print(summ[["table", "file", "rows_read", "rows", "excluded", "repaired"]].to_string(index=False))
        absent = sorted(set(__import__("kpitools.schema", fromlist=["TABLES"]).TABLES) - set(ds.tables))
        if absent:
            print(f"absent tables (their KPIs are skipped): {', '.join(absent)}")
        print(f"\nquality: {len(ds.quality)} row issue(s)")
        if len(ds.quality):
            print(ds.quality_summary().to_string(index=False))
            print("\nrows:")
            print(ds.quality[["table", "file", "row", "column", "value", "reason", "action"]]
                  .to_string(index=False))
    return 0


def _synth(args: argparse.Namespace) -> int:
    from kpitools import synth

    out = Path(args.out)
    if args.sample:
        synth.make_sample(out)
    else:
        res = synth.generate(n_tickets=args.tickets, seed=args.seed)
        synth.write_dataset(res, out, fmt=args.format)
    print(f"wrote {out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from kpitools.report import report_main

    return report_main(month=args.month, start=args.start, end=args.end, latest=args.latest,
                       data=args.data, out=args.out, confidence=args.confidence, seed=args.seed)


def _docs(args: argparse.Namespace) -> int:
    from kpitools.docs import write_docs

    for p in write_docs(Path(args.out)):
        print(f"wrote {p}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kpitools", description="Customer-service KPIs with honest statistics.")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a dataset folder and print its quality log")
    v.add_argument("path", nargs="?", default="data/sample")
    v.set_defaults(func=_validate)

    s = sub.add_parser("synth", help="generate a synthetic dataset")
    s.add_argument("--tickets", type=int, default=None, help="approximate number of tickets")
    s.add_argument("--seed", type=int, default=20261101)
    s.add_argument("--out", required=True)
    s.add_argument("--format", choices=["csv", "parquet"], default="csv")
    s.add_argument("--sample", action="store_true", help="write the committed sample dataset")
    s.set_defaults(func=_synth)

    r = sub.add_parser("report", help="render the monthly KPI report")
    r.add_argument("--month", help="YYYY-MM")
    r.add_argument("--from", dest="start", help="first month YYYY-MM of a range")
    r.add_argument("--to", dest="end", help="last month YYYY-MM of a range")
    r.add_argument("--latest", action="store_true", help="the latest complete month of the data")
    r.add_argument("--data", default="data/sample")
    r.add_argument("--out", default="reports")
    r.add_argument("--confidence", type=float, default=0.95)
    r.add_argument("--seed", type=int, default=None,
                   help="seed of every bootstrap and permutation (default: the template's)")
    r.set_defaults(func=_report)

    d = sub.add_parser("docs", help="regenerate docs/ from the code (data contract, KPI catalogue)")
    d.add_argument("--out", default="docs")
    d.set_defaults(func=_docs)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
