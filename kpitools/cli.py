"""The ``kpitools`` command: validate, synth, report, docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _validate(args: argparse.Namespace) -> int:
    """Print what was loaded and every row issue; exit 1 when a table lost too many rows."""
    import pandas as pd

    from kpitools.io import DataError, load_dataset
    from kpitools.schema import TABLES
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
    q = ds.quality
    notes = q[q["action"] == "note"]
    issues = q[q["action"] != "note"]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 120):
        print("\ntables:")
        shown = summ.assign(excluded_pct=(100 * summ["excluded_share"]).round(2))
        print(shown[["table", "file", "rows_read", "rows", "excluded", "excluded_pct", "repaired", "notes"]]
              .to_string(index=False))
        absent = sorted(set(TABLES) - set(ds.tables))
        if absent:
            print(f"absent tables (their KPIs are skipped): {', '.join(absent)}")
        unmapped = {t: cols for t, cols in ds.unmapped.items() if cols}
        if unmapped:
            print("\nunmapped export columns (not contract columns; kept but unused; map them in dataset.yml "
                  "`mapping:` if they hold contract data):")
            for t, cols in unmapped.items():
                print(f"  {t}: {', '.join(cols)}")
        if len(notes):
            print("\nnotes:")
            for r in notes.itertuples(index=False):
                print(f"  {r.table}.{r.column}: {r.reason}: {r.detail}")
        print(f"\nquality: {len(issues)} row issue(s)")
        if len(issues):
            print(ds.quality_summary().query("action != 'note'").to_string(index=False))
            print("\nrows:")
            print(issues[["table", "file", "row", "column", "value", "reason", "action"]].to_string(index=False))
    limit = ds.settings.max_excluded_share
    over = summ[summ["excluded_share"] > limit]
    for r in over.itertuples(index=False):
        tq = issues[(issues["table"] == r.table) & (issues["action"] == "excluded")]
        why = tq.drop_duplicates(["file", "row"])["reason"].value_counts()
        reasons = ", ".join(f"{k} {v:,}" for k, v in why.items())
        print(f"error: table {r.table!r}: {r.excluded:,} of {r.rows_read:,} rows excluded "
              f"({100 * r.excluded_share:.1f} %), above max_excluded_share {100 * limit:g} %; reasons: {reasons}. "
              "Fix the export or dataset.yml (see the rows above), or raise max_excluded_share in dataset.yml.",
              file=sys.stderr)
    return 1 if len(over) else 0


def _synth(args: argparse.Namespace) -> int:
    from kpitools import synth

    out = Path(args.out)
    if args.sample:
        synth.make_sample(out)
    elif args.partition_by:  # folders of Parquet partitions (kpitools.dask_engine.write_partitioned)
        import tempfile

        from kpitools.dask_engine import write_partitioned

        res = synth.generate(n_tickets=args.tickets, seed=args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            synth.write_dataset(res, tmp, fmt="parquet")
            write_partitioned(tmp, out, partition_by=args.partition_by)
    elif args.format == "parquet":  # typed columns, written month by month (bounded memory)
        synth.synth_to(out, n_tickets=args.tickets, seed=args.seed, fmt="parquet")
    else:
        res = synth.generate(n_tickets=args.tickets, seed=args.seed)
        synth.write_dataset(res, out, fmt=args.format)
    print(f"wrote {out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from kpitools.report import report_main

    engine = {} if args.engine == "pandas" and args.scheduler is None else \
        {"engine": args.engine, "scheduler": args.scheduler}  # template parameters (README "Scaling out")
    return report_main(month=args.month, start=args.start, end=args.end, latest=args.latest,
                       data=args.data, out=args.out, confidence=args.confidence, seed=args.seed,
                       progress=not args.quiet, **engine)


def _docs(args: argparse.Namespace) -> int:
    from kpitools.docs import write_docs

    for p in write_docs(Path(args.out)):
        print(f"wrote {p}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kpitools", description="Customer-service KPIs with honest statistics.")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a dataset folder and print its quality log (exit 1: too many "
                       "rows excluded, 2: unusable data)")
    v.add_argument("path", nargs="?", default="data/sample")
    v.set_defaults(func=_validate)

    s = sub.add_parser("synth", help="generate a synthetic dataset")
    s.add_argument("--tickets", type=int, default=None, help="approximate number of tickets")
    s.add_argument("--seed", type=int, default=20261101)
    s.add_argument("--out", required=True)
    s.add_argument("--format", choices=["csv", "parquet"], default="csv",
                   help="csv (gzip for large tables) or parquet: typed columns (timestamps as "
                        "timestamps), written month by month in bounded memory")
    s.add_argument("--sample", action="store_true", help="write the committed sample dataset")
    s.add_argument("--partition-by", choices=["month"], default=None,
                   help="write each large table as a folder of Parquet files, one per month (engine dask)")
    s.set_defaults(func=_synth)

    r = sub.add_parser("report", help="render the monthly KPI report")
    r.add_argument("--month", help="YYYY-MM")
    r.add_argument("--from", dest="start", help="first month YYYY-MM of a range")
    r.add_argument("--to", dest="end", help="last month YYYY-MM of a range")
    r.add_argument("--latest", action="store_true", help="the latest complete month of the data")
    r.add_argument("--data", default="data/sample", help="dataset folder (default data/sample)")
    r.add_argument("--out", default="reports",
                   help="output root; reports go to OUT/<dataset name>/YYYY-MM/ (default reports)")
    r.add_argument("--confidence", type=float, default=0.95, help="level of every interval")
    r.add_argument("--seed", type=int, default=None,
                   help="seed of every bootstrap and permutation (default: the template's)")
    r.add_argument("--quiet", action="store_true",
                   help="no progress on stderr (by default: the loading step and a bar through the "
                        "report's sections, or through the months of a range)")
    r.add_argument("--engine", choices=["pandas", "dask"], default="pandas",
                   help="pandas (default) or dask: load and compute on a Dask cluster")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --engine dask: scheduler address (tcp://host:8786); default a LocalCluster")
    r.set_defaults(func=_report)

    d = sub.add_parser("docs", help="regenerate docs/ from the code (data contract, KPI catalogue)")
    d.add_argument("--out", default="docs")
    d.set_defaults(func=_docs)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "partition_by", None) and (args.sample or args.format != "parquet"):
        print("error: --partition-by writes Parquet folders; use it with --format parquet (not --sample)",
              file=sys.stderr)
        return 2
    if getattr(args, "scheduler", None) and args.engine != "dask":
        print("error: --scheduler needs --engine dask", file=sys.stderr)
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
