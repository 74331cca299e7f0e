"""The Dask engine: the same datasets and KPIs on partitioned data, on a laptop or a cluster.

``load_dataset(path, engine="dask")`` (:func:`load_dataset`) reads every table file, or every
Parquet file of a table folder (``tickets/part-0.parquet``, ...), as one Dask partition and
validates each partition with the pandas loader's own code, so the rules, messages and quality log
are those of the pandas path (file and row of each logged row are the partition file's). The
loader's whole-column rule (a column where every value, or most of more than ten, fail to read
raises instead of excluding rows) applies per file; the duplicate-id rule and the events of unknown
or excluded tickets are applied across files (:func:`_cross_file_duplicates`, :func:`_orphan_events`).
The tables of the returned :class:`DaskDataset` are Dask DataFrames, persisted on the workers of the
current ``dask.distributed`` client when there is one, else in Dask's default scheduler.

KPIs (:func:`kpi_table`, and every per-KPI function, which dispatch here for a
:class:`DaskDataset`) run in three steps (docs/methods.md#dask-engine):

1. the customer-keyed tables (tickets, ticket_events, contacts, surveys, survey_sends) are
   shuffled by Dask on a partition key: ``hash(customer_id)`` for a ticket with a customer,
   ``hash(ticket_id)`` without one; events, surveys and contacts of a ticket take their ticket's
   key through a Dask merge on ``ticket_id``; rows without a ticket take their own customer (or
   id). All of one customer's tickets, events, surveys and contacts so land in one partition.
   The other tables (agents, agent_days, staffing, business tables) are small and broadcast.
2. on each partition a pandas sub-dataset (the global cut-off and settings) runs every KPI with
   its aggregate *captured* before :func:`kpitools.kpis._core.finish` (the hook
   ``_core.capture_aggregates``). The aggregate is reduced to sufficient statistics: sums per
   (period, segment); n, mean and sum of squared deviations of means; for durations and
   bootstrapped values the count of each distinct (cell, value, observed). Only these leave a
   worker; partial results merge pairwise in a tree.
3. the client runs the estimation step of :func:`kpitools.kpis._core.finish` on the merged
   aggregate, reading the counts directly: a weighted Kaplan-Meier (:func:`km_summary_counts`)
   for medians, p90, intervals and restricted means, the count bootstrap for means, quantiles by
   rank in the cumulated counts (:func:`_value_stats`); nothing expands back to rows.

Aggregates that are not plain sums merge by declared rules: broadcast totals taken once
(:data:`MERGE_ONCE`, :data:`MERGE_DERIVED`), distinct counts folded from finer cells
(:data:`FOLD`), per-cell medians from the values the aggregate keeps (:data:`VALUE_COLUMNS`).
KPIs of broadcast tables only run once, on the first partition. KPIs this engine cannot compute
raise :class:`~kpitools.kpis._core.KPIUnavailable` with the reason (:data:`UNSUPPORTED_KPIS`).

The monthly report's own aggregates (:func:`ticket_months`, :func:`equal_age_changes`,
:func:`detractor_topics`, :func:`duration_curves`, :func:`headline_segments`) are computed the
same way; :mod:`kpitools.report` dispatches to them for a :class:`DaskDataset`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpitools import io
from kpitools.schema import TABLES
from kpitools.settings import Settings

__all__ = ["DaskDataset", "load_dataset", "kpi_table", "kpi_tables", "kpi_function", "table_files",
           "write_partitioned", "km_summary_counts", "KEYED_TABLES", "UNSUPPORTED_STATS", "UNSUPPORTED_KPIS"]

#: Tables shuffled so that one customer's rows share a partition; the rest are broadcast.
KEYED_TABLES = ("tickets", "ticket_events", "contacts", "surveys", "survey_sends")
#: Stats whose aggregate carries values that do not add across partitions (a level, an amount
#: computed from the whole table): not computed on the Dask engine for a KPI of the keyed tables
#: unless its aggregate keeps the values behind them (``Agg.values``, see :data:`VALUE_COLUMNS`).
UNSUPPORTED_STATS = {"money": "an amount computed over the whole table does not add across partitions",
                     "level": "a level computed over the whole table does not add across partitions"}
#: KPIs not computed on this engine, with the reason.
UNSUPPORTED_KPIS = {"staffing_gap": "its per-interval Erlang C needs each roster interval's contacts summed over "
                                    "all partitions before the gap is estimated, which the KPI does in one step"}
#: Tables some KPI bodies read beyond their declared ones; a KPI that so combines keyed and
#: broadcast tables runs on every partition and needs a merge rule (:data:`MERGE_ONCE`,
#: :data:`FOLD`): otherwise the broadcast totals would be counted once per partition.
BODY_TABLES = {"staffing_gap": ("staffing",), "cost_per_contact": ("tickets", "contacts"),
               "agent_workload": ("tickets", "contacts")}
#: Aggregate columns computed from a broadcast table alone (every partition has the same value
#: per cell): taken once in the merge, not summed; the partitions must agree on them.
MERGE_ONCE = {"cost_per_contact": ("numerator", "n"), "cost_per_resolution": ("numerator", "n"),
              "contact_rate": ("denominator", "n"), "deflection": ("numerator", "n"),
              "agent_workload": ("denominator",)}
#: Aggregate columns that mix a broadcast part and a keyed part: recomputed after the merge as the
#: sum of the named merged columns (deflection's issues = self-service resolutions + tickets).
MERGE_DERIVED = {"deflection": {"denominator": ("numerator", "tickets")}}
#: Distinct counts across partitions: the partitions group by one more segment (each cell then
#: counts one distinct value), the client sums those cells up (agent_workload's active agents).
FOLD = {"agent_workload": "agent_id"}
#: Per-cell statistics of an aggregate recomputed on the client from the merged value counts
#: (``Agg.values``): column -> quantile (pandas' linear), ``"mean"`` or ``"count"``; per stat,
#: and for any stat (:data:`VALUE_COLUMNS_ANY`).
VALUE_COLUMNS = {"mean": {"median": 0.5, "p90": 0.9},
                 "level": {"value": 0.5, "mean": "mean", "n": "count"}}
VALUE_COLUMNS_ANY = {"breach_minutes_median": 0.5}
_ROW = "_kpitools_row"  # original order: file number x 2**40 + row in file
_PART = "_kpitools_part"
_KEY = "_kpitools_key"
_EMPTY = "is empty"  # missing_requirements' wording for a table without rows


# ----------------------------------------------------------------------------------------------
# the dataset
# ----------------------------------------------------------------------------------------------
@dataclass
class DaskDataset:
    """A validated dataset whose tables are Dask DataFrames (``engine="dask"``).

    Attributes
    ----------
    tables : dict of str -> dask DataFrame
        The tables present, in contract dtypes, one partition per input file. Attribute access
        (``ds.tickets``) gives the Dask DataFrame of a customer-keyed table (:data:`KEYED_TABLES`)
        and the pandas DataFrame of a broadcast table (``ds.launches``, small, computed once).
    settings : Settings
    quality : DataFrame
        The quality log (pandas), the partitions' logs concatenated; file is the partition file.
    path : Path or None
    files : dict of str -> str
        File (or folder) each table came from.
    cutoff : Timestamp
        Export time: settings ``exported_at``, else the latest timestamp of any table (computed once).
    input_rows : dict of str -> int
    partitions : int or None
        Partitions of the KPI shuffle (one customer's rows per partition); default the largest
        input partition count of the customer-keyed tables. Fewer partitions mean less fixed cost
        per partition, more partitions less memory per worker.
    """

    tables: dict[str, Any]
    settings: Settings
    quality: pd.DataFrame
    path: Path | str | None = None
    files: dict[str, str] = field(default_factory=dict)
    cutoff: pd.Timestamp | None = None
    input_rows: dict[str, int] = field(default_factory=dict)
    truth: dict | None = None
    partitions: int | None = None
    cache: dict = field(default_factory=dict, repr=False)
    engine: str = "dask"

    def __getattr__(self, name: str) -> Any:
        if name in TABLES:
            df = self.__dict__["tables"].get(name)
            if df is None or name in KEYED_TABLES:
                return df
            # a broadcast table is small: pandas, computed once (the report reads launches, agents)
            cache = self.__dict__["cache"]
            if ("pandas", name) not in cache:
                cache[("pandas", name)] = _plain(df.compute())
            return cache[("pandas", name)]
        raise AttributeError(f"DaskDataset has no attribute {name!r}")

    def quality_summary(self) -> pd.DataFrame:
        """Counts of excluded/repaired rows by table, reason and action (as :class:`kpitools.io.Dataset`)."""
        return io.Dataset.quality_summary(self)

    def has(self, *names: str) -> bool:
        """True when every named table is present."""
        return all(n in self.tables for n in names)

    @property
    def calendar(self):
        """The business-hours calendar of the settings."""
        if "calendar" not in self.cache:
            from kpitools.calendar import BusinessCalendar

            self.cache["calendar"] = BusinessCalendar.from_settings(self.settings)
        return self.cache["calendar"]

    @property
    def timezone(self) -> str:
        return self.settings.timezone

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}: {v.npartitions} partition(s)" for k, v in self.tables.items())
        return f"<DaskDataset {self.path} ({parts}); cut-off {self.cutoff}>"


def table_files(folder: Path, name: str) -> list[Path]:
    """The input files of table ``name`` in ``folder``: its one file, or the Parquet files of its folder.

    A table folder (``tickets/``, or ``tickets.parquet/`` as Spark and Dask write it) holds Parquet
    files, also in sub-folders (``month=2026-01/part-0.parquet``); they are read in sorted order.
    """
    one = io._find_file(folder, name)
    dirs = [d for d in (folder / name, folder / f"{name}.parquet") if d.is_dir()]
    if one is not None and dirs:
        raise io.DataError(f"{folder}: table {name!r} is there as a file ({one.name}) and as a folder "
                           f"({dirs[0].name}/); keep one of them", file=str(one))
    if one is not None:
        return [one]
    if not dirs:
        return []
    files = sorted(p for p in dirs[0].rglob("*.parquet") if p.is_file())
    if not files:
        raise io.DataError(f"{dirs[0]}: a table folder without Parquet files; write the table's "
                           "partitions there as *.parquet files, or remove the folder", file=str(dirs[0]))
    return files


def _remote(path) -> tuple | None:
    """(fsspec filesystem, root path) of a URL such as ``s3://bucket/support`` (None: a local path)."""
    if "://" not in str(path):
        return None
    import fsspec

    fs, root = fsspec.core.url_to_fs(str(path))
    return fs, root.rstrip("/")


def _remote_files(fs, root: str, name: str) -> list[str]:
    """:func:`table_files` on an fsspec filesystem: the table's one file, or its folder's Parquet files."""
    one = [f"{root}/{name}{x}" for x in io.SUFFIXES if fs.isfile(f"{root}/{name}{x}")]
    dirs = [d for d in (f"{root}/{name}", f"{root}/{name}.parquet") if fs.isdir(d)]
    url = fs.unstrip_protocol
    if len(one) > 1 or (one and dirs):
        found = [x.rsplit("/", 1)[-1] for x in one] + [d.rsplit("/", 1)[-1] + "/" for d in dirs]
        raise io.DataError(f"{url(root)}: table {name!r} is there more than once ({', '.join(found)}); keep one "
                           "file or folder per table", file=url(one[0]))
    if one:
        return one
    if not dirs:
        return []
    files = sorted(f for f in fs.find(dirs[0]) if f.endswith(".parquet"))
    if not files:
        raise io.DataError(f"{url(dirs[0])}: a table folder without Parquet files; write the table's partitions "
                           "there as *.parquet files, or remove the folder", file=url(dirs[0]))
    return files


def _fetch(url: str, folder: str) -> Path:
    """Copy one file of an fsspec URL into a local folder (on the worker that reads it)."""
    import fsspec

    local = Path(folder) / url.rstrip("/").rsplit("/", 1)[-1]
    with fsspec.open(url, "rb") as src:
        local.write_bytes(src.read())
    return local


def _validate_file(name: str, path: str, label: str, settings: Settings, number: int
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """One partition through the pandas loader: (kept rows, quality log, counts and excluded ids).

    A file of an fsspec URL (``s3://``, ``gs://``, ``memory://``) is copied to a temporary local
    file by the worker that reads it, validated there and the copy removed.
    """
    if "://" in path:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="kpitools-") as tmp:
            return _validate_file(name, str(_fetch(path, tmp)), label, settings, number)
    loader = io._Loader(settings, categorical=False)  # partitions keep str, as their meta says
    p = Path(path)
    df, names = io._read_file(p, settings, name)
    loader.add(name, df, file=label, path=p, columns=names)
    ds = loader.finish(path=None, truth=None)
    df = ds.tables.get(name, pd.DataFrame())
    # the 1-based row in the file of each kept row: the loader keeps rows in order, so the log's
    # excluded rows tell which file rows are absent
    n_in = ds.input_rows.get(name, len(df))
    q = ds.quality
    gone = q.loc[(q["table"] == name) & (q["action"] == "excluded"), "row"].to_numpy()
    keep = np.ones(n_in + 1, dtype=bool)
    keep[0] = False
    keep[np.unique(gone[(gone >= 1) & (gone <= n_in)])] = False
    rows = np.flatnonzero(keep)
    if len(rows) != len(df):  # the loader excluded rows it did not log by row: keep file order only
        rows = np.arange(1, len(df) + 1)
    df = df.reset_index(drop=True)
    df[_ROW] = np.int64(number) * (1 << 40) + rows.astype(np.int64)
    info = {"input_rows": n_in, "rows": len(df)}
    if name == "tickets":
        info["excluded_ids"] = _excluded_ids(p, settings, name, df)
    return df, q, info


def _excluded_ids(path: Path, settings: Settings, name: str, kept: pd.DataFrame) -> np.ndarray:
    """ticket_id values of the file whose rows were all excluded (their events are 'parent_excluded')."""
    raw, _ = io._read_file(path, settings, name)
    col = settings.mapping(name).get("ticket_id", "ticket_id")
    if col not in raw.columns:
        return np.array([], dtype=object)
    ids = pd.Series(raw[col], dtype="str").str.strip()
    ids = ids[ids.notna() & (ids != "")]
    return np.asarray(sorted(set(ids) - set(kept["ticket_id"].astype("str"))), dtype=object)


def load_dataset(path: str | Path, *, settings: Settings | dict | None = None) -> DaskDataset:
    """Read and validate a folder of tables as Dask DataFrames (``kpitools.load_dataset(path, engine="dask")``).

    Parameters
    ----------
    path : str or Path
        Folder with one file per table (as for the pandas engine) or one folder of Parquet files
        per table (e.g. ``tickets/`` partitioned by month); a local path or an fsspec URL
        (``s3://bucket/support``, ``gs://...``, ``file:///...``; the filesystem's package, e.g.
        ``s3fs``, on the client and the workers). Each worker copies the files it validates.
    settings : Settings or dict, optional
        Overrides ``dataset.yml``.

    Returns
    -------
    DaskDataset
        Tables as Dask DataFrames (one partition per input file, persisted), the quality log,
        the cut-off.

    Raises
    ------
    DataError
        As the pandas engine, naming the partition file and its rows; also when one ``ticket_id``
        is in two partition files (dedupe them, or keep a ticket's rows in one file), and for
        ``ratings:`` in dataset.yml (survey rows derived from tickets need the pandas engine).
    """
    import dask
    from dask import dataframe as dd

    remote = _remote(path)
    folder = Path(path) if remote is None else str(path).rstrip("/")
    if remote is not None:
        fs, root = remote
        if not fs.isdir(root):
            raise io.DataError(f"{folder}: no such folder. Pass the folder that holds the table files "
                               "(for example s3://bucket/support).", file=folder)
    elif not folder.is_dir():
        raise io.DataError(f"{folder}: no such folder. Pass the folder that holds the table files "
                           "(for example data/sample).", file=str(folder))
    if settings is None:
        if remote is not None:
            import tempfile

            with tempfile.TemporaryDirectory(prefix="kpitools-") as tmp:
                yml = f"{root}/dataset.yml"
                settings = Settings.from_yaml(_fetch(fs.unstrip_protocol(yml), tmp)) if fs.isfile(yml) else Settings()
        else:
            yml = folder / "dataset.yml"
            settings = Settings.from_yaml(yml) if yml.exists() else Settings()
    else:
        settings = io._as_settings(settings)
    if (settings.raw.get("ratings") or {}):
        raise io.DataError(f"{folder}: dataset.yml declares `ratings:` (survey rows derived from ticket "
                           "columns); the dask engine reads surveys only from a surveys table. Load with "
                           "engine='pandas', or export the ratings as a surveys table.", file=str(folder))
    parts: dict[str, list] = {}
    labels: dict[str, str] = {}
    number = 0
    names: dict[int, str] = {}
    for name in TABLES:
        if remote is None:
            files = table_files(folder, name)
            rel = [str(f.relative_to(folder)) for f in files]
            where = [str(f) for f in files]
        else:
            files = _remote_files(fs, root, name)
            rel = [f[len(root) + 1:] for f in files]
            where = [fs.unstrip_protocol(f) for f in files]
        if not files:
            continue
        labels[name] = rel[0] if len(rel) == 1 and "/" not in rel[0] else f"{rel[0].split('/')[0]}/"
        parts[name] = []
        for label, f in zip(rel, where, strict=True):
            names[number] = label
            parts[name].append(dask.delayed(_validate_file, nout=3, pure=True)(name, f, label, settings, number))
            number += 1
    if not parts:
        listing = (", ".join(sorted(p.name for p in folder.iterdir())[:10]) if remote is None else
                   ", ".join(sorted(x.rsplit("/", 1)[-1] for x in fs.ls(root, detail=False))[:10])) or "nothing"
        raise io.DataError(f"{folder}: no table files found (it holds: {listing}). Expected files or "
                           f"folders named after the tables, e.g. tickets.csv or tickets/; tables: "
                           f"{', '.join(TABLES)}.", file=str(folder))
    flat = [p for ps in parts.values() for p in ps]
    persisted = dask.persist(*[p[0] for p in flat])  # validation errors surface here
    logs, infos = dask.compute([p[1] for p in flat], [p[2] for p in flat])
    tables, i = {}, 0
    input_rows: dict[str, int] = {}
    excluded: list[np.ndarray] = []
    for name, ps in parts.items():
        frames = list(persisted[i:i + len(ps)])
        input_rows[name] = int(sum(x["input_rows"] for x in infos[i:i + len(ps)]))
        excluded += [x.get("excluded_ids", np.array([], dtype=object)) for x in infos[i:i + len(ps)]]
        meta = dask.compute(frames[0])[0].iloc[:0] if len(frames) else None
        tables[name] = dd.from_delayed(frames, meta=meta, verify_meta=False)
        i += len(ps)
    quality = [q for q in logs if len(q)]
    for name in list(tables):
        if len(parts[name]) > 1:
            tables[name], extra = _cross_file_duplicates(tables[name], name, names)
            quality += extra
    if "ticket_events" in tables and "tickets" in tables:
        tables["ticket_events"], extra = _orphan_events(tables["ticket_events"], tables["tickets"],
                                                        np.concatenate(excluded) if excluded else np.array([]), names)
        quality += extra
    quality = (pd.concat(quality, ignore_index=True) if quality else logs[0].iloc[:0])
    quality = quality.sort_values(["table", "row", "column"], kind="stable", ignore_index=True)
    ds = DaskDataset(tables=tables, settings=settings, quality=quality, path=folder, files=labels,
                     input_rows=input_rows)
    ds.cutoff = _cutoff(ds)
    import json

    if remote is not None:
        if fs.isfile(f"{root}/truth.json"):
            ds.truth = json.loads(fs.cat_file(f"{root}/truth.json").decode("utf-8"))
    elif (folder / "truth.json").exists():
        ds.truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return ds


def _cross_file_duplicates(df, name: str, names: dict[int, str]) -> tuple[Any, list[pd.DataFrame]]:
    """The pandas loader's duplicate rule across partition files: the first occurrence (file order,
    then row) is kept, the later ones are logged ``duplicate_id`` and left out. Within one file the
    loader already applied it; only the ids counted more than once (few) reach the client."""
    key = TABLES[name].key
    if not key or key not in df.columns:
        return df, []
    counts = df[key].value_counts()
    dup_ids = counts[counts > 1].compute()
    if not len(dup_ids):
        return df, []
    ids = set(dup_ids.index.astype("str"))
    rows = df.loc[df[key].astype("str").isin(list(ids)), [key, _ROW]].compute().sort_values(_ROW, kind="stable")
    later = rows.loc[rows[key].duplicated(keep="first")]
    drop = set(later[_ROW].tolist())
    out = df.loc[~df[_ROW].isin(list(drop))]
    nums = later[_ROW].to_numpy() >> 40
    return out, [pd.DataFrame({
        "table": name, "file": [names[int(n)] for n in nums],
        "row": later[_ROW].to_numpy() & ((1 << 40) - 1), "column": key,
        "value": later[key].astype("str").to_numpy(), "reason": "duplicate_id",
        "detail": f"{key} occurs earlier in the input; the first occurrence is kept", "action": "excluded"})]


def _orphan_events(events, tickets, excluded_ids: np.ndarray, names: dict[int, str]) -> tuple[Any, list[pd.DataFrame]]:
    """Events of unknown or excluded tickets: logged as on the pandas path and left out (Dask merge)."""
    ids = tickets[["ticket_id"]].drop_duplicates().assign(_kpitools_known=True)
    merged = events.merge(ids, on="ticket_id", how="left")
    known = merged["_kpitools_known"].fillna(False).astype(bool)
    orphans = merged.loc[~known, ["ticket_id", _ROW]].compute()
    out = merged.loc[known].drop(columns="_kpitools_known")
    if not len(orphans):
        return out, []
    # file and row of each orphan from its row number (file number x 2**40 + row)
    nums = orphans[_ROW].to_numpy() >> 40
    rows = orphans[_ROW].to_numpy() & ((1 << 40) - 1)
    parent = np.isin(orphans["ticket_id"].astype("str").to_numpy(), excluded_ids.astype("str"))
    return out, [pd.DataFrame({
        "table": "ticket_events", "file": [names[int(n)] for n in nums], "row": rows,
        "column": "ticket_id", "value": orphans["ticket_id"].astype("str").to_numpy(),
        "reason": np.where(parent, "parent_excluded", "unknown_ticket"),
        "detail": np.where(parent, "the ticket was excluded (see its own row in this log)",
                           "ticket_id not found in tickets"),
        "action": "excluded"})]


def _cutoff(ds: DaskDataset) -> pd.Timestamp:
    """settings ``exported_at``, else the latest timestamp of any table (one Dask computation)."""
    import dask

    if ds.settings.exported_at is not None:
        return pd.Timestamp(ds.settings.exported_at).tz_convert("UTC")
    maxima = []
    for name, df in ds.tables.items():
        for c in TABLES[name].columns:
            if c.dtype == "timestamp" and c.name in df.columns:
                maxima.append(df[c.name].max())
    values = [v for v in dask.compute(*maxima) if not pd.isna(v)]
    return pd.Timestamp(max(values) if values else pd.Timestamp.now(tz="UTC")).tz_convert("UTC")


# ----------------------------------------------------------------------------------------------
# KPIs: shuffle by customer, capture the aggregates per partition, merge, finish once
# ----------------------------------------------------------------------------------------------
def _hash(s: pd.Series) -> np.ndarray:
    """Stable 64-bit hash of text values (the same in every process: pandas' fixed-key hash)."""
    return pd.util.hash_pandas_object(s.astype("str"), index=False).to_numpy(dtype=np.uint64)


def _own_key(df: pd.DataFrame, first: str, then: str) -> pd.Series:
    """Partition key of rows from column ``first`` where known, else ``then`` (both text ids)."""
    if first in df.columns:
        has = (df[first].notna() & (df[first].astype("str") != "")).to_numpy()
    else:
        has = np.zeros(len(df), dtype=bool)
    key = _hash(df[then]) if then in df.columns else np.zeros(len(df), dtype=np.uint64)
    if has.any():
        key = np.where(has, _hash(df[first].where(pd.Series(has, index=df.index), "")), key)
    # 52 bits: exact also where a left merge turns the column into float64 (unmatched rows)
    return pd.Series((key >> np.uint64(12)).astype(np.int64), index=df.index, name=_KEY)


def _with_key(df: pd.DataFrame, first: str, then: str) -> pd.DataFrame:
    return df.assign(**{_KEY: _own_key(df, first, then)})


def _fill_key(df: pd.DataFrame, first: str, then: str) -> pd.DataFrame:
    """Rows whose ticket was not found take their own key (``first``, else ``then``)."""
    own = _own_key(df, first, then)
    key = df[_KEY].astype("Int64") if _KEY in df.columns else pd.Series(pd.NA, index=df.index, dtype="Int64")
    return df.assign(**{_KEY: key.fillna(own).astype("int64")})


def _keyed(ds: DaskDataset, npartitions: int) -> dict[str, list]:
    """The customer-keyed tables shuffled (Dask) so that partition i holds key % npartitions == i."""
    tables = {}
    tickets = ds.tables.get("tickets")
    tkey = None
    if tickets is not None:
        tickets = tickets.map_partitions(_with_key, "customer_id", "ticket_id")
        tables["tickets"] = tickets
        tkey = tickets[["ticket_id", _KEY]]
    # which id a row without a ticket falls back to: contacts by customer first (repeat contacts)
    own = {"ticket_events": (None, "ticket_id"), "contacts": ("customer_id", "contact_id"),
           "surveys": ("customer_id", "response_id"), "survey_sends": ("customer_id", "ticket_id")}
    for name, (first, then) in own.items():
        df = ds.tables.get(name)
        if df is None:
            continue
        first = first or "ticket_id"
        if name == "contacts" and "customer_id" in df.columns:
            # a contact with a customer goes with that customer's tickets; without one, with its ticket
            df = df.map_partitions(_with_key, "customer_id", "contact_id")
            if tkey is not None and "ticket_id" in df.columns:
                df = df.merge(tkey.rename(columns={_KEY: "_kpitools_tkey"}), on="ticket_id", how="left")
                df = df.map_partitions(_prefer_customer)
        elif tkey is not None and "ticket_id" in df.columns:
            df = df.merge(tkey, on="ticket_id", how="left").map_partitions(_fill_key, first, then)
        else:
            df = df.map_partitions(_with_key, first, then)
        tables[name] = df
    out = {}
    for name, df in tables.items():
        df = df.assign(**{_PART: df[_KEY] % npartitions})
        df = df.set_index(_PART, divisions=list(range(npartitions + 1)))
        out[name] = df.to_delayed()
    return out


def _prefer_customer(df: pd.DataFrame) -> pd.DataFrame:
    has = (df["customer_id"].notna() & (df["customer_id"].astype("str") != "")).to_numpy()
    tk = df["_kpitools_tkey"].astype("Int64")
    key = np.where(has, df[_KEY].to_numpy(), tk.fillna(df[_KEY]).to_numpy(dtype=np.int64))
    return df.drop(columns="_kpitools_tkey").assign(**{_KEY: key.astype(np.int64)})


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """A shuffled partition back in input order, without the engine's columns."""
    df = df.reset_index(drop=True).sort_values(_ROW, kind="stable")
    return df.drop(columns=[c for c in (_ROW, _KEY, _PART) if c in df.columns]).reset_index(drop=True)


def _sub_dataset(frames: dict, small: dict, settings: Settings, cutoff: pd.Timestamp) -> io.Dataset:
    tables = {n: _plain(f) for n, f in frames.items()}
    tables.update(small)
    tables = {n: tables[n] for n in TABLES if n in tables}
    ds = io.Dataset(tables=tables, settings=settings, quality=pd.DataFrame(columns=io.QUALITY_COLUMNS))
    ds.cache["cutoff"] = cutoff  # the global cut-off, not this partition's latest timestamp
    return ds


def _run_partition(frames: dict, small: dict, settings: Settings, cutoff, jobs: list, first: bool) -> dict:
    """Every job's aggregate on one partition, reduced to mergeable sufficient statistics.

    KPIs of broadcast tables only run on the first partition (which holds those tables whole).
    """
    from kpitools.kpis import _core

    ds = _sub_dataset(frames, small, settings, cutoff)
    out = {}
    for job, name, kwargs in jobs:
        spec = _core.REGISTRY[name]
        if not first and not _reads_keyed(spec):
            continue
        by = _core._check_by(kwargs.get("by"))
        fold = FOLD.get(name)
        run = {**kwargs, "by": [*by, fold]} if fold and fold not in by else kwargs
        try:
            with _core.capture_aggregates():
                spec.func(ds, **run)
            out[job] = ("uncaptured", "its result is not finished from one aggregate")
        except _core.CapturedAggregate as c:
            if c.arguments["spec"].name != name:
                out[job] = ("uncaptured", f"its result is built from the KPI {c.arguments['spec'].name}")
            else:
                args = {k: v for k, v in c.arguments.items() if k != "spec"}
                folded = run is not kwargs
                if folded:
                    args["by"] = list(by)
                try:
                    out[job] = ("ok", _Partial.of(c.agg, spec, fold if folded else None), args)
                except _NotMergeable as e:
                    out[job] = ("uncaptured", str(e))
        except _core.KPIUnavailable as e:
            out[job] = ("unavailable", str(e).split(": ", 1)[-1])
    return out


def _reads_keyed(spec) -> bool:
    """Whether a KPI reads a customer-keyed table (then every partition computes a partial)."""
    return any(t in KEYED_TABLES for t in (*spec.tables, *BODY_TABLES.get(spec.name, ())))


@dataclass
class _Partial:
    """An :class:`~kpitools.kpis._core.Agg` as mergeable sufficient statistics."""

    agg: Any  # the Agg with table (means: plus _m2), durations and values as value counts
    stat: str
    name: str = ""
    derived: dict = field(default_factory=dict)  # table columns recomputed from the value counts
    fold: str | None = None  # the extra segment of FOLD, summed away on the client

    @classmethod
    def of(cls, agg, spec, fold: str | None = None) -> _Partial:
        from dataclasses import replace

        stat = spec.stat
        agg = agg.with_keys()  # rows keyed by cell codes (Agg.cells): the key columns, per partition
        keys = ["period", *agg.levels]
        table = agg.table.copy()
        derived = {}
        if agg.values is not None:
            rules = {**VALUE_COLUMNS.get(stat, {}), **VALUE_COLUMNS_ANY}
            derived = {c: r for c, r in rules.items() if c in table.columns}
        elif stat in UNSUPPORTED_STATS and _reads_keyed(spec):
            raise _NotMergeable(UNSUPPORTED_STATS[stat])
        table = table.drop(columns=list(derived))
        median_like = [c for c in table.columns if "median" in c or c.startswith("p9")]
        if median_like:
            raise _NotMergeable(f"its aggregate's {median_like} are per-cell quantiles of values it does not keep")
        if stat == "mean" and {"n", "mean", "sd"} <= set(table.columns):
            n = table["n"].to_numpy(float)
            table["_m2"] = np.where(n > 1, table["sd"].to_numpy(float) ** 2 * (n - 1), 0.0)
            table = table.drop(columns="sd")
        durations = agg.durations
        if durations is not None:
            durations = _counts(durations, [*keys, "duration", "observed"])
        values = agg.values
        if values is not None:
            values = _counts(values, [*keys, "value"])
        return cls(replace(agg, table=table, durations=durations, values=values), stat, spec.name, derived, fold)

    def merge(self, other: _Partial) -> _Partial:
        from dataclasses import replace

        a, b = self.agg, other.agg
        for f in fields(a):
            if f.name in ("table", "periods", "levels", "durations", "values", "period_notes", "flags"):
                continue
            if _differs(getattr(a, f.name), getattr(b, f.name)):
                raise _NotMergeable(f"its aggregate's {f.name} differs between partitions")
        keys = ["period", *a.levels]
        table = _merge_table(a.table, b.table, keys, self.stat, once=MERGE_ONCE.get(self.name, ()))
        levels = {c: sorted(set(a.levels.get(c, [])) | set(b.levels.get(c, []))) for c in a.levels}
        periods = [p for p in (a.periods, b.periods) if len(p)]
        if periods:
            from kpitools.kpis._core import period_range

            freq = periods[0].freq
            lo = min(p.min() for p in periods)
            hi = max(p.max() for p in periods)
            span = pd.period_range(lo, hi, freq=freq) if freq else period_range(lo, hi, "M")
        else:
            span = a.periods
        durations = _sum_counts(a.durations, b.durations, [*keys, "duration", "observed"])
        values = _sum_counts(a.values, b.values, [*keys, "value"])
        notes = {**a.period_notes, **b.period_notes}
        flags = {**a.flags, **b.flags}
        return _Partial(replace(a, table=table, levels=levels, periods=span, durations=durations,
                                values=values, period_notes=notes, flags=flags), self.stat, self.name,
                        self.derived, self.fold)

    def finished_agg(self):
        """The merged Agg in the form ``finish`` takes (sd from the pooled squares, derived
        columns from the value counts, a FOLD segment summed away); durations and values stay
        value counts (column ``_w``)."""
        from dataclasses import replace

        agg = self.agg
        table = agg.table.copy()
        keys = ["period", *agg.levels]
        for col, parts in MERGE_DERIVED.get(self.name, {}).items():
            table[col] = sum(table[p].to_numpy(float) for p in parts)
        if "_m2" in table.columns:
            n = table["n"].to_numpy(float)
            sd = np.sqrt(np.where(n > 1, table["_m2"].to_numpy(float), np.nan) / np.where(n > 1, n - 1, np.nan))
            table = table.drop(columns="_m2")
            table["sd"] = sd
        if self.derived:
            table = table.merge(_value_stats(agg.values, keys, self.derived), on=keys, how="left")
        levels = agg.levels
        if self.fold is not None:  # each fine cell counts one distinct value: sum them per coarse cell
            keys = [k for k in keys if k != self.fold]
            levels = {c: v for c, v in levels.items() if c != self.fold}
            table = table.drop(columns=self.fold).groupby(keys, observed=True, sort=True, dropna=False
                                                          ).sum(min_count=1).reset_index()
        return replace(agg, table=table, levels=levels)


def _value_stats(counts: pd.DataFrame, keys: list[str], derived: dict) -> pd.DataFrame:
    """Per cell of the value counts (``value``, ``_w``): each derived column's statistic.

    Quantiles are pandas' linear ones (``Series.quantile``) of the cell's values repeated by
    their counts, found by rank in the cumulated counts instead of expanding the rows.
    """
    c = counts.sort_values([*keys, "value"], kind="stable").reset_index(drop=True)
    cell = c.groupby(keys, observed=True, sort=True, dropna=False).ngroup().to_numpy()
    out = c[keys].drop_duplicates().reset_index(drop=True) if len(c) else c[keys].iloc[:0]
    w = c["_w"].to_numpy(np.int64)
    v = c["value"].to_numpy(float)
    n = np.bincount(cell, weights=w, minlength=len(out)).astype(np.int64)
    cum = np.cumsum(w)
    before = np.concatenate([[0], np.cumsum(n)[:-1]]) if len(n) else n
    for col, rule in derived.items():
        if rule == "count":
            out[col] = n.astype("float64")
        elif rule == "mean":
            out[col] = np.bincount(cell, weights=v * w, minlength=len(out)) / np.where(n > 0, n, np.nan)
        else:
            h = (n - 1) * float(rule)
            lo_r, hi_r = np.floor(h).astype(np.int64), np.ceil(h).astype(np.int64)
            lo = v[np.searchsorted(cum, before + lo_r, side="right")] if len(v) else np.zeros(0)
            hi = v[np.searchsorted(cum, before + hi_r, side="right")] if len(v) else np.zeros(0)
            out[col] = lo + (hi - lo) * (h - lo_r)
    return out


class _NotMergeable(Exception):
    pass


def _differs(x, y) -> bool:
    """Whether two aggregate fields differ; NaN equals NaN (pickling between processes makes
    distinct NaN objects, which a plain dict comparison would call different)."""
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() != y.keys() or any(_differs(x[k], y[k]) for k in x)
    if isinstance(x, list | tuple) and isinstance(y, list | tuple):
        return len(x) != len(y) or any(_differs(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, float) and isinstance(y, float):
        return not (x == y or (math.isnan(x) and math.isnan(y)))
    try:
        return bool(x != y)
    except (TypeError, ValueError):
        return repr(x) != repr(y)


def _counts(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Distinct (cell, value[, observed]) rows with their count ``_w``."""
    if len(rows) == 0:
        return rows[keys].assign(_w=np.zeros(0, dtype=np.int64))
    return rows.groupby(keys, observed=True, sort=False, dropna=False).size().rename("_w").reset_index()


def _sum_counts(a: pd.DataFrame | None, b: pd.DataFrame | None, keys: list[str]) -> pd.DataFrame | None:
    if a is None or b is None:
        if a is not None or b is not None:
            raise _NotMergeable("one partition keeps row values, another does not")
        return None
    both = pd.concat([x for x in (a, b) if len(x)] or [a], ignore_index=True)
    if len(both) == 0:
        return both
    return both.groupby(keys, observed=True, sort=False, dropna=False)["_w"].sum().reset_index()


def _merge_table(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], stat: str, once=()) -> pd.DataFrame:
    """Cell sums of two partitions; means pooled (n, mean, sum of squared deviations); ``once``
    columns (a broadcast table's totals) taken once, where the partitions agree on them."""
    if len(a) == 0:
        return b
    if len(b) == 0:
        return a
    both = pd.concat([a, b], ignore_index=True)
    other = [c for c in both.columns if c not in keys]
    bad = [c for c in other if not pd.api.types.is_numeric_dtype(both[c]) and not pd.api.types.is_bool_dtype(both[c])]
    if bad:
        raise _NotMergeable(f"its aggregate holds non-numeric column(s) {bad}")
    g = both.groupby(keys, observed=True, sort=True, dropna=False)
    once = [c for c in once if c in other]
    sums = [c for c in other if c not in ("mean", "_m2", *once)]
    out = g[sums].sum(min_count=1) if sums else g.size().to_frame("_size").drop(columns="_size")
    if once:
        hi, lo = g[once].max(), g[once].min()
        if not np.array_equal(hi.to_numpy(float), lo.to_numpy(float), equal_nan=True):
            raise _NotMergeable(f"its aggregate's broadcast column(s) {once} differ between partitions")
        out[once] = hi
    if "mean" in both.columns and "_m2" in both.columns:
        n = both["n"].to_numpy(float)
        mu = both["mean"].to_numpy(float)
        w = np.where(n > 0, mu * n, 0.0)
        s1 = pd.Series(w).groupby([both[k] for k in keys], observed=True, sort=True, dropna=False).sum()
        ntot = out["n"].to_numpy(float)
        mean = s1.to_numpy() / np.where(ntot > 0, ntot, np.nan)
        cell_mean = pd.Series(mean, index=out.index).reindex(pd.MultiIndex.from_frame(both[keys]) if len(keys) > 1
                                                              else pd.Index(both[keys[0]])).to_numpy()
        dev = np.where(n > 0, both["_m2"].to_numpy(float) + n * (mu - cell_mean) ** 2, 0.0)
        m2 = pd.Series(dev).groupby([both[k] for k in keys], observed=True, sort=True, dropna=False).sum()
        out["mean"] = mean
        out["_m2"] = m2.to_numpy()
    return out.reset_index()[list(a.columns)]


def _tree_merge(parts: list, key: str):
    """Pairwise merge of the partitions' partials of one KPI (a Dask tree reduction)."""
    import dask

    level = [dask.delayed(_pick, pure=True)(p, key) for p in parts]
    while len(level) > 1:
        level = [dask.delayed(_combine, pure=True)(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0]


def _pick(results: dict, key: str) -> list:
    return [results[key]] if key in results else []


def _combine(a: list, b: list) -> list:
    """Merge two lists of partition results: the ok partials into one, other outcomes kept."""
    ok = [r for r in a + b if r[0] == "ok"]
    rest = [r for r in a + b if r[0] != "ok"]
    if len(ok) > 1:
        try:
            merged = ok[0][1]
            for r in ok[1:]:
                merged = merged.merge(r[1])
            ok = [("ok", merged, ok[0][2])]
        except _NotMergeable as e:
            return rest + [("uncaptured", str(e))]
    # keep one result per distinct non-ok outcome (they are small texts)
    seen, kept = set(), []
    for r in rest:
        if r[:2] not in seen:
            seen.add(r[:2])
            kept.append(r)
    return ok + kept


def _outcome(spec, results: list, kwargs: dict) -> pd.DataFrame:
    """The KPI's result from its merged partials, or KPIUnavailable with the reason."""
    from kpitools.kpis import _core

    ok = [r for r in results if r[0] == "ok"]
    uncaptured = [r[1] for r in results if r[0] == "uncaptured"]
    unavailable = [r[1] for r in results if r[0] == "unavailable"]
    if uncaptured:
        raise _core.KPIUnavailable(f"{spec.name}: not computed on the dask engine: {uncaptured[0]}")
    real = [u for u in unavailable if _EMPTY not in u]
    if not ok:
        raise _core.KPIUnavailable(f"{spec.name}: {(real or unavailable or ['no partition has data'])[0]}")
    if real:
        raise _core.KPIUnavailable(f"{spec.name}: not computed on the dask engine: available on some "
                                   f"partitions only (elsewhere: {real[0]})")
    args = ok[0][2]
    agg = ok[0][1].finished_agg()
    return _finish(agg, spec=spec, settings=kwargs["_settings"], **args)


def _finish(agg, *, spec, settings: Settings, **args) -> pd.DataFrame:
    """:func:`kpitools.kpis._core.finish` on a merged aggregate whose durations and values are
    value counts (``_w``): the same steps, with the Kaplan-Meier and bootstrap estimators reading
    the counts (:func:`km_summary_counts`, :func:`_bootstrap_counts`) instead of one row per item."""
    from kpitools.kpis import _core

    ds = _FinishView(settings)
    stat, method = spec.stat, args.get("method")
    if method is None:
        method = spec.method or _core.DEFAULT_METHOD.get(stat)
    counted = (stat == "duration" and agg.durations is not None) or (
        stat == "mean" and agg.values is not None and method == "bootstrap")
    if not counted:
        if stat != "mean":
            agg.values = None  # counts of values a non-mean estimator does not read
        return _core.finish(agg, spec=spec, ds=ds, **args)
    # the steps of _core.finish: complete grid, aligned cells, estimator, presentation
    by = list(args.get("by") or [])
    keys = ["period", *by]
    grid = _core._grid(agg.periods, agg.levels, by)
    if len(agg.table) and len(grid):
        df, present = _core._align(grid, agg.table, agg.periods, agg.levels, by)
    else:
        df, present = grid.copy(), np.zeros(len(grid), dtype=bool)
        for c in agg.table.columns:
            if c not in df.columns:
                df[c] = pd.Series(np.nan, index=df.index, dtype="float64")
    cells = _core.Cells(df=df, present=present, agg=agg, keys=keys, confidence=args["confidence"], method=method,
                        seed=args.get("seed", _core.BOOTSTRAP_SEED), n_boot=args.get("n_boot", _core.BOOTSTRAP_N))
    est = _est_duration_counts(cells) if stat == "duration" else _est_mean_counts(cells)
    return _core._present(est, cells, spec=spec, ds=ds, by=by, basis=args.get("basis"), clock=args.get("clock"))


def _est_duration_counts(c):
    """``_core._est_duration`` from counts of (cell, duration, observed)."""
    from kpitools.kpis import _core

    cols = ["n", "events", "censored", "median", "median_ci_low", "median_ci_high",
            "p90", "p90_ci_low", "p90_ci_high", "mean_observed", "rmst", "rmst_ci_low", "rmst_ci_high"]
    agg, grid = c.agg, c.df
    out = pd.DataFrame({k: np.nan for k in cols}, index=grid.index)
    out["rmst_horizon_s"] = np.nan if agg.horizon is None else agg.horizon
    out[["n", "events", "censored"]] = 0.0
    d = agg.durations
    if len(d) and len(grid):
        summ = km_summary_counts(d["duration"].to_numpy(float), d["observed"].to_numpy(bool), d["_w"].to_numpy(),
                                 _core._cell_codes(d, grid, c.keys), n_groups=len(grid), q=(0.5, 0.9),
                                 confidence=c.confidence, horizon=agg.horizon)
        for k in cols:
            if k in summ.columns:
                out[k] = summ[k].to_numpy(dtype="float64")
    unknown_rmst = (out["events"] > 0) & out["rmst"].isna() & (agg.horizon is not None)
    note = _core._join_notes(
        c.index,
        pd.Series(np.where((out["n"] > 0) & (out["events"] == 0), "all censored", None), index=c.index),
        pd.Series(np.where(unknown_rmst, "rmst: follow-up shorter than horizon", None), index=c.index))
    return _core.Estimate(value=out["median"], numerator=_core._nan(c), denominator=_core._nan(c), n=out["n"],
                          ci_low=out["median_ci_low"], ci_high=out["median_ci_high"], method=c.method,
                          extras={k: out[k] for k in _core.STAT_EXTRAS["duration"]}, note=note)


def _est_mean_counts(c):
    """``_core._est_mean`` with ``method="bootstrap"`` from counts of (cell, value)."""
    from kpitools.kpis import _core
    from kpitools.stats.intervals import BOOTSTRAP_MAX_N

    n = c.col("n", 0.0)
    mean, sd = c.col("mean"), c.col("sd")
    lo, hi = _bootstrap_counts(c)
    method = np.where(n.to_numpy() > BOOTSTRAP_MAX_N, f"t (n > {BOOTSTRAP_MAX_N})", "bootstrap")
    return _core.Estimate(value=mean.where(n > 0), numerator=c.col("numerator"), denominator=c.col("denominator", 0.0),
                          n=n, ci_low=lo, ci_high=hi, method=method, extras={"mean": mean, "sd": sd})


def _bootstrap_counts(c) -> tuple[pd.Series, pd.Series]:
    """``_core._bootstrap_cells`` from counts: the cell's values binned to whole seconds
    (bin value = mean of the values in it, count = their count), then the same seeded
    multinomial bootstrap (:func:`kpitools.stats.intervals.bootstrap_mean_counts`)."""
    from kpitools.kpis import _core
    from kpitools.stats.intervals import DURATION_RESOLUTION_S, bootstrap_mean_counts

    n_boot, seed = c.n_boot, c.seed
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise _core.KPIError(f"n_boot must be a positive integer, got {n_boot!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise _core.KPIError(f"seed must be a non-negative integer or None, got {seed!r}")
    lo = pd.Series(np.nan, index=c.df.index)
    hi = pd.Series(np.nan, index=c.df.index)
    v = c.agg.values
    if v is None or len(v) == 0 or len(c.df) == 0:
        return lo, hi
    code = _core._cell_codes(v, c.df, c.keys)
    x = v["value"].to_numpy(float)
    w = v["_w"].to_numpy(np.int64)
    keep = (code >= 0) & ~np.isnan(x)
    code, x, w = code[keep], x[keep], w[keep]
    if not len(x):
        return lo, hi
    key = np.round(x / DURATION_RESOLUTION_S)
    order = np.lexsort((key, code))
    gs, ks, xs, ws = code[order], key[order], x[order], w[order]
    new = np.ones(len(xs), dtype=bool)
    new[1:] = (gs[1:] != gs[:-1]) | (ks[1:] != ks[:-1])
    starts = np.flatnonzero(new)
    counts = np.add.reduceat(ws, starts)
    values = np.add.reduceat(xs * ws, starts) / counts
    a, b, _ = bootstrap_mean_counts(values, counts, gs[starts], n_groups=len(c.df), confidence=c.confidence,
                                    n_boot=int(n_boot), seed=seed)
    return pd.Series(a, index=c.df.index), pd.Series(b, index=c.df.index)


#: cells x event times of one block of the padded Kaplan-Meier matrices (memory bound)
_KM_BUDGET = 2_000_000


def km_summary_counts(durations, observed, counts, codes, *, n_groups: int, q=(0.5, 0.9), confidence: float = 0.95,
                      horizon: float | None = None) -> pd.DataFrame:
    """Kaplan-Meier summaries per group from counts of (group, duration, observed), without rows.

    The weighted form of :func:`kpitools.stats.survival.km_summary_codes`: row ``i`` stands for
    ``counts[i]`` items with that duration and outcome. What crosses the network on the Dask
    engine is exactly these counts per (period, segment, duration); the curve, quantiles,
    intervals and restricted mean follow from them (docs/methods.md#dask-engine).

    Parameters
    ----------
    durations : array of float
        Durations (censored ones up to the cut-off); NaN rows are left out.
    observed : array of bool
        True where the end event happened.
    counts : array of int
        Items per row (non-negative).
    codes : array of int
        Group of each row, ``-1 <= code < n_groups`` (-1: no group).
    n_groups : int
    q : sequence of float, default (0.5, 0.9)
    confidence : float, default 0.95
    horizon : float, optional
        Restricted mean up to this time.

    Returns
    -------
    DataFrame
        Row ``k`` for group ``k``: ``n``, ``events``, ``censored``; per quantile (``median``,
        ``p90``) the value and its Brookmeyer-Crowley interval (``_ci_low``, ``_ci_high``);
        ``mean_observed``; with a horizon ``rmst``, ``rmst_se``, ``rmst_ci_low``, ``rmst_ci_high``,
        ``rmst_horizon``; ``confidence``.

    Notes
    -----
    At each distinct time ``t_j`` of a group: ``n_j`` = items with duration >= ``t_j`` (sum of
    counts), ``d_j`` = events at ``t_j``. ``S(t) = prod_{t_j <= t} (n_j - d_j) / n_j``; quantile
    = first event time with ``S <= 1 - q``; limits: event times where
    ``|log(-log S) - log(-log(1 - q))| / (sqrt(G) / -log S) <= z`` with Greenwood's
    ``G = sum d_j / (n_j (n_j - d_j))`` (upper limit: the next event time, infinite after the
    last); restricted mean ``int_0^tau S`` with ``Var = sum A_j^2 d_j / (n_j (n_j - d_j))``.
    These are the formulas of :func:`kpitools.stats.survival.km_summary`; tests check equality
    with it on the rows the counts stand for.
    """
    from kpitools.stats._common import check_confidence, z_value
    from kpitools.stats.survival import _check_qs, _q_label

    confidence = check_confidence(confidence)
    qs = _check_qs(q)
    z = z_value(confidence)
    t = np.asarray(durations, dtype=float)
    o = np.asarray(observed, dtype=bool)
    w = np.asarray(counts, dtype=np.int64)
    g = np.asarray(codes, dtype=np.int64)
    keep = (g >= 0) & ~np.isnan(t) & (w > 0)
    t, o, w, g = t[keep], o[keep], w[keep], g[keep]
    n = np.bincount(g, weights=w, minlength=n_groups).astype(np.int64)
    events = np.bincount(g, weights=w * o, minlength=n_groups).astype(np.int64)
    out: dict[str, np.ndarray] = {"n": n, "events": events, "censored": n - events}
    res = {qv: [np.full(n_groups, np.nan) for _ in range(3)] for qv in qs}
    area, var = np.full(n_groups, np.nan), np.full(n_groups, np.nan)
    s_last, t_max = np.ones(n_groups), np.full(n_groups, np.nan)
    order = np.lexsort((t, g))
    g, t, o, w = g[order], t[order], o[order], w[order]
    if len(t):
        new = np.ones(len(t), dtype=bool)
        new[1:] = (g[1:] != g[:-1]) | (t[1:] != t[:-1])
        starts = np.flatnonzero(new)
        cg, ct = g[starts], t[starts]
        cw = np.add.reduceat(w, starts)  # items at the time
        cd = np.add.reduceat(w * o, starts)  # events at the time
        before = np.cumsum(cw) - cw  # items of earlier cells (all groups)
        group_end = np.cumsum(n)
        at_risk = group_end[cg] - before
        last = np.flatnonzero(np.r_[cg[1:] != cg[:-1], True])
        t_max[cg[last]] = ct[last]
        ev = cd > 0
        eg, et, nr, de = cg[ev], ct[ev], at_risk[ev].astype(float), cd[ev].astype(float)
        m = np.bincount(eg, minlength=n_groups)  # event times per group
        col = np.arange(len(eg)) - (np.cumsum(m) - m)[eg]
        todo = np.flatnonzero(m > 0)
        todo = todo[np.argsort(m[todo], kind="stable")]
        i = 0
        while i < len(todo):  # blocks of groups with similar numbers of event times
            j = i + 1
            while j < len(todo) and (j + 1 - i) * m[todo[j]] <= _KM_BUDGET:
                j += 1
            block = todo[i:j]
            i = j
            width = int(m[block].max())
            row_of = np.full(n_groups, -1, dtype=np.int64)
            row_of[block] = np.arange(len(block))
            sel = np.flatnonzero(row_of[eg] >= 0)
            r, cc = row_of[eg[sel]], col[sel]
            shape = (len(block), width)
            ratio, term = np.ones(shape), np.zeros(shape)
            times, nn, dd = np.full(shape, np.nan), np.ones(shape), np.zeros(shape)
            valid = np.zeros(shape, dtype=bool)
            ratio[r, cc] = (nr[sel] - de[sel]) / nr[sel]
            with np.errstate(divide="ignore", invalid="ignore"):
                term[r, cc] = de[sel] / (nr[sel] * (nr[sel] - de[sel]))
            times[r, cc], nn[r, cc], dd[r, cc], valid[r, cc] = et[sel], nr[sel], de[sel], True
            surv = np.cumprod(ratio, axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                gw = np.cumsum(term, axis=1)
                log_s = np.log(surv)
            rows = np.arange(len(block))
            last_col = m[block] - 1
            for qv in qs:
                target = 1.0 - qv
                hit = valid & (surv <= target + 1e-12)
                value = np.where(hit.any(axis=1), times[rows, hit.argmax(axis=1)], np.nan)
                with np.errstate(divide="ignore", invalid="ignore"):
                    stat = (np.log(-log_s) - np.log(-np.log(target))) / (np.sqrt(gw) / -log_s)
                ok = valid & (np.abs(stat) <= z)
                any_ok = ok.any(axis=1)
                hi_last = width - 1 - ok[:, ::-1].argmax(axis=1)
                lo = np.where(any_ok, times[rows, ok.argmax(axis=1)], np.nan)
                nxt = times[rows, np.minimum(hi_last + 1, width - 1)]
                hi = np.where(any_ok, np.where(hi_last == last_col, np.inf, nxt), np.nan)
                res[qv][0][block], res[qv][1][block], res[qv][2][block] = value, lo, hi
            s_last[block] = surv[rows, last_col]
            if horizon is not None:
                tau = float(horizon)
                inside = valid & (times <= tau)
                tc = np.where(inside, times, tau)
                knot = np.concatenate([tc[:, 1:], np.full((len(block), 1), tau)], axis=1)
                pieces = np.where(inside, surv * (knot - tc), 0.0)
                area[block] = tc[:, 0] + pieces.sum(axis=1)
                tail = np.cumsum(pieces[:, ::-1], axis=1)[:, ::-1]  # area from t_j to tau
                nn_, dd_ = np.where(inside, nn, 1.0), np.where(inside, dd, 0.0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    terms = np.where(inside & (dd_ > 0), tail ** 2 * dd_ / (nn_ * (nn_ - dd_)), 0.0)
                terms = np.where(np.isnan(terms) | ((tail == 0) & (dd_ > 0)), 0.0, terms)
                var[block] = terms.sum(axis=1)
        sum_obs = np.bincount(cg, weights=ct * cd, minlength=n_groups)
    else:
        sum_obs = np.zeros(n_groups)
    for qv in qs:
        lab = _q_label(qv)
        out[lab], out[f"{lab}_ci_low"], out[f"{lab}_ci_high"] = res[qv]
    out["mean_observed"] = np.where(events > 0, sum_obs / np.where(events > 0, events, 1), np.nan)
    if horizon is not None:
        tau = float(horizon)
        none = (n > 0) & (events == 0)  # S = 1 throughout: every item reaches tau
        area[none], var[none] = tau, 0.0
        known = (n > 0) & ((t_max >= tau) | (s_last <= 0.0))
        a = np.where(known, area, np.nan)
        se = np.where(known, np.sqrt(var), np.nan)
        out.update(rmst=a, rmst_se=se, rmst_ci_low=a - z * se, rmst_ci_high=a + z * se,
                   rmst_horizon=np.full(n_groups, tau))
    out["confidence"] = np.full(n_groups, confidence)
    return pd.DataFrame(out, index=pd.RangeIndex(n_groups))


@dataclass
class _FinishView:
    """What ``finish`` reads of a dataset: its settings (targets, currency)."""

    settings: Settings


def _jobs(ds, specs, *, period, by, confidence, seed, options=None, tag="") -> list:
    import inspect

    jobs = []
    for spec in specs:
        kw = {"period": period, "by": by or None, "confidence": confidence}
        if options is not None:
            kw.update(options)
        elif "seed" in inspect.signature(spec.func.__wrapped__).parameters:
            kw["seed"] = seed
        jobs.append((f"{spec.name}{tag}", spec.name, kw))
    return jobs


def _compute(ds: DaskDataset, jobs: list, npartitions: int | None = None) -> dict[str, list]:
    """Run ``jobs`` on every partition of the shuffled dataset; the merged partials per KPI."""
    import dask

    shuffled, small, n = _shuffled(ds, npartitions)
    small_d = dask.delayed(small, traverse=False)
    per = [dask.delayed(_run_partition, pure=True)({t: parts[i] for t, parts in shuffled.items()}, small_d,
                                                   ds.settings, ds.cutoff, jobs, i == 0) for i in range(n)]
    merged = [_tree_merge(per, job) for job, *_ in jobs]
    values = dask.compute(*merged)
    return {job: v for (job, *_), v in zip(jobs, values, strict=True)}


def _shuffled(ds: DaskDataset, npartitions: int | None = None) -> tuple[dict, dict, int]:
    """The keyed tables shuffled by customer (persisted, delayed per partition), the broadcast
    tables (pandas) and the partition count; once per dataset and count."""
    import dask

    keyed = ds.tables.get("tickets")
    n = npartitions or ds.partitions or max(1, keyed.npartitions if keyed is not None else 1,
                           *(ds.tables[t].npartitions for t in KEYED_TABLES if t in ds.tables))
    if ("shuffled", n) not in ds.cache:  # once per dataset: the shuffle stays on the workers
        shuffled = _keyed(ds, n)
        flat = [(t, i) for t, parts in shuffled.items() for i in range(len(parts))]
        kept = dask.persist(*[shuffled[t][i] for t, i in flat])
        persisted: dict[str, list] = {t: [None] * len(parts) for t, parts in shuffled.items()}
        for (t, i), d in zip(flat, kept, strict=True):
            persisted[t][i] = d
        small_names = [t for t in ds.tables if t not in KEYED_TABLES]
        small = dict(zip(small_names, dask.compute(*[ds.tables[t] for t in small_names]), strict=True))
        small = {t: _plain(df) for t, df in small.items()}
        ds.cache[("shuffled", n)] = (persisted, small)
    shuffled, small = ds.cache[("shuffled", n)]
    return shuffled, small, n


def _map_shuffled(ds: DaskDataset, func, *args) -> list:
    """``func(sub_dataset, *args)`` on every partition of the customer shuffle (a pandas
    :class:`kpitools.io.Dataset` of one partition with the broadcast tables); the results, which
    must be small (sufficient statistics), come back to the client."""
    import dask

    shuffled, small, n = _shuffled(ds)
    small_d = dask.delayed(small, traverse=False)
    return list(dask.compute(*[dask.delayed(_on_partition, pure=True)(
        {t: parts[i] for t, parts in shuffled.items()}, small_d, ds.settings, ds.cutoff, func, args)
        for i in range(n)]))


def _on_partition(frames: dict, small: dict, settings: Settings, cutoff, func, args):
    return func(_sub_dataset(frames, small, settings, cutoff), *args)


def unsupported(spec) -> str | None:
    """Why the Dask engine does not compute ``spec`` (None when it does)."""
    if spec.name in UNSUPPORTED_KPIS:
        return UNSUPPORTED_KPIS[spec.name]
    if not _reads_keyed(spec):  # broadcast tables only: one partition computes it whole
        return None
    if spec.stat == "money":
        return UNSUPPORTED_STATS["money"]
    tables = (*spec.tables, *BODY_TABLES.get(spec.name, ()))
    broadcast = [t for t in tables if t not in KEYED_TABLES]
    if broadcast and spec.name not in MERGE_ONCE and spec.name not in FOLD:
        return (f"it combines the customer-keyed table(s) with the broadcast table(s) {broadcast}, whose "
                "totals would be counted once per partition")
    return None


def kpi_function(spec, ds: DaskDataset, **kwargs) -> pd.DataFrame:
    """One KPI on a Dask dataset (the per-KPI functions dispatch here), as on the pandas engine."""
    from kpitools.kpis import _core

    why = unsupported(spec)
    if why:
        raise _core.KPIUnavailable(f"{spec.name}: not computed on the dask engine: {why}")
    results = _compute(ds, [(spec.name, spec.name, kwargs)])[spec.name]
    return _outcome(spec, results, {"_settings": ds.settings})


def kpi_table(ds: DaskDataset, *, period: str = "M", by=None, confidence: float = 0.95, kpis=None,
              seed: int | None = 20260601) -> pd.DataFrame:
    """:func:`kpitools.kpi_table` on a Dask dataset: one pass over the partitions for all KPIs.

    Returns the same long table as the pandas engine; KPIs this engine cannot compute are in
    ``result.attrs["skipped"]`` with the reason. ``seed`` defaults to
    :data:`kpitools.kpis._core.BOOTSTRAP_SEED` (20260601), as on the pandas engine.
    """
    return kpi_tables(ds, [(period, by)], confidence=confidence, kpis=kpis, seed=seed)[0]


def kpi_tables(ds: DaskDataset, cuts, *, confidence: float = 0.95, kpis=None,
               seed: int | None = 20260601) -> list[pd.DataFrame]:
    """:func:`kpi_table` for several ``(period, by)`` cuts in one pass over the partitions.

    Each partition builds its facts once for all cuts (a report needs months by several segments).

    Parameters
    ----------
    ds : DaskDataset
    cuts : list of (period, by)
    confidence, kpis, seed
        As :func:`kpitools.kpi_table`.

    Returns
    -------
    list of DataFrame
        One :func:`kpitools.kpi_table` result per cut, in order.
    """
    from kpitools.kpis import _core

    _core._check_confidence(confidence)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise _core.KPIError(f"seed must be a non-negative integer or None, got {seed!r}")
    everything = _core._select(kpis)
    specs = [s for s in everything if not unsupported(s)]
    cuts = [(_core._check_period(p), _core._check_by(b)) for p, b in cuts]
    jobs = []
    for i, (period, by_list) in enumerate(cuts):
        jobs += _jobs(ds, specs, period=period, by=by_list, confidence=confidence, seed=seed, tag=f"|{i}")
    results = _compute(ds, jobs)
    order = {s.name: i for i, s in enumerate(everything)}
    out = []
    for i, (_, by_list) in enumerate(cuts):
        skipped = [{"kpi": s.name, "reason": f"not computed on the dask engine: {unsupported(s)}"}
                   for s in everything if unsupported(s)]
        parts = []
        for spec in specs:
            try:
                parts.append(_outcome(spec, results[f"{spec.name}|{i}"], {"_settings": ds.settings}))
            except _core.KPIUnavailable as e:
                skipped.append({"kpi": spec.name, "reason": str(e).split(": ", 1)[-1]})
        skipped.sort(key=lambda r: order[r["kpi"]])
        parts = [p for p in parts if len(p)]
        if parts:
            res = pd.concat(parts, ignore_index=True, sort=False)
            base = ["kpi", "period", *by_list]
            res = res[base + [c for c in res.columns if c not in base]]
        else:
            res = pd.DataFrame(columns=["kpi", "period", *by_list, *_core.BASE_COLUMNS[2:]])
        res.attrs["skipped"] = pd.DataFrame(skipped, columns=["kpi", "reason"]).astype("str")
        out.append(res)
    return out


# ----------------------------------------------------------------------------------------------
# partitioned Parquet
# ----------------------------------------------------------------------------------------------
#: Timestamp column that decides the month folder of each table's rows (``partition_by="month"``).
MONTH_COLUMNS = {"tickets": "created_at", "ticket_events": "at", "contacts": "queued_at",
                 "surveys": "submitted_at", "survey_sends": "sent_at"}


def write_partitioned(src: str | Path, dest: str | Path, *, partition_by: str = "month") -> list[Path]:
    """Write a dataset folder as partitioned Parquet: ``dest/<table>/month=YYYY-MM/part-0.parquet``.

    Parameters
    ----------
    src : str or Path
        A dataset folder (CSV or Parquet, one file per table), read as it stands (no validation:
        the files keep their dirty rows for the loader to log).
    dest : str or Path
        Output folder; ``dataset.yml`` and ``truth.json`` are copied.
    partition_by : {"month"}
        The large tables (:data:`MONTH_COLUMNS`) get one folder per month of their own timestamp
        (UTC; a row without a readable timestamp goes with the row before it), so a ticket and its later
        events land in different partitions; other tables are written as one file in a folder.

    Returns
    -------
    list of Path
        The files written.
    """
    import shutil

    if partition_by != "month":
        raise ValueError(f"partition_by must be 'month', got {partition_by!r}")
    src, dest = Path(src), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    settings = Settings.from_yaml(src / "dataset.yml") if (src / "dataset.yml").exists() else Settings()
    written = []
    for extra in ("dataset.yml", "truth.json"):
        if (src / extra).exists():
            shutil.copy(src / extra, dest / extra)
    for name in TABLES:
        f = io._find_file(src, name)
        if f is None:
            continue
        df, _ = io._read_file(f, settings, name)
        col = settings.mapping(name).get(MONTH_COLUMNS.get(name, ""), MONTH_COLUMNS.get(name))
        if col is not None and col in df.columns:
            ts = df[col] if isinstance(df[col].dtype, pd.DatetimeTZDtype) else \
                pd.to_datetime(df[col], utc=True, errors="coerce", format="ISO8601")
            # a row without a readable timestamp stays with the row before it (the loader logs it there)
            month = ts.dt.strftime("%Y-%m").ffill().bfill().fillna("all").to_numpy()
        else:
            month = np.full(len(df), "all", dtype=object)
        for m in sorted(set(month)):
            part = dest / name / f"month={m}"
            part.mkdir(parents=True, exist_ok=True)
            out = part / "part-0.parquet"
            df.loc[month == m].reset_index(drop=True).to_parquet(out, index=False)
            written.append(out)
    return written


# ----------------------------------------------------------------------------------------------
# the monthly report's own aggregates (kpitools.report dispatches here for a DaskDataset)
# ----------------------------------------------------------------------------------------------
def _per_file(df, func, *args) -> list:
    """``func(partition, *args)`` on every partition of one (unshuffled) table; small results."""
    import dask

    return list(dask.compute(*[dask.delayed(func, pure=True)(p, *args) for p in df.to_delayed()]))


def _month_counts(df: pd.DataFrame, tz: str) -> pd.Series:
    local = df["created_at"].dropna().dt.tz_convert(tz).dt.tz_localize(None)
    return local.dt.to_period("M").value_counts()


def ticket_months(ds: DaskDataset) -> pd.Series:
    """:func:`kpitools.report._ticket_months`: tickets per local creation month, summed over partitions."""
    t = ds.tables.get("tickets")
    if t is None:
        return pd.Series(dtype="int64")
    parts = [p for p in _per_file(t, _month_counts, ds.settings.timezone) if len(p)]
    if not parts:
        return pd.Series(dtype="int64")
    return pd.concat(parts).groupby(level=0).sum().astype("int64").sort_index()


def _age_counts(df: pd.DataFrame, cutoff, age: float, bounds: list) -> list[tuple[int, int]]:
    from kpitools.report import resolved_within

    created = df["created_at"]
    within = resolved_within(created, df["first_resolved_at"], cutoff, age)
    out = []
    for a, b in bounds:
        sel = ((created >= a) & (created < b)).to_numpy()
        out.append((int(within[sel].sum()), int(sel.sum())))
    return out


def equal_age_changes(ds: DaskDataset, month, *, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`kpitools.report.equal_age_changes` from per-partition counts (resolved within the
    age, tickets) of the month and the month before."""
    from kpitools import report

    m = report.parse_month(month)
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in report.EQUAL_AGE_COLUMNS})
    t = ds.tables.get("tickets")
    if t is None or "first_resolved_at" not in t.columns:
        return empty
    tz = ds.settings.timezone
    _, end = report._month_bounds_utc(m, tz)
    age = (ds.cutoff - end).total_seconds()
    if age <= 0:
        return empty
    bounds = [report._month_bounds_utc(p, tz) for p in (m, m - 1)]
    parts = _per_file(t, _age_counts, ds.cutoff, age, bounds)
    counts = [tuple(int(sum(p[i][j] for p in parts)) for j in range(2)) for i in range(2)]
    return report.equal_age_frame(m, age, counts, confidence=confidence)


def _topic_counts(df: pd.DataFrame, tz: str) -> pd.DataFrame:
    from kpitools.kpis._core import to_period

    s = df[df["survey"] == "nps"]
    topic = (s["comment_category"].astype("str").fillna("(no comment)") if "comment_category" in s.columns
             else pd.Series("(no comment)", index=s.index, dtype="str"))
    score = s["score"].to_numpy(dtype=float, na_value=np.nan)
    rows = pd.DataFrame({"month": to_period(s["submitted_at"], "M", tz).to_numpy(), "comment_category": topic.to_numpy(),
                         "answers": 1, "detractors": (score <= 6).astype("int64"),
                         "promoters": (score >= 9).astype("int64")})
    rows = rows[rows["month"].notna()]
    return rows.groupby(["month", "comment_category"], sort=False).sum().reset_index()


def detractor_topics(ds: DaskDataset, month, *, lookback: int = 3, min_answers: int = 30):
    """:func:`kpitools.report.detractor_topics` from per-partition counts of NPS answers,
    detractors and promoters per (month, comment topic)."""
    from kpitools import report

    cols = ["comment_category", "detractors", "share", "promoters"]
    s = ds.tables.get("surveys")
    if s is None:
        return pd.DataFrame(columns=cols), None
    parts = [p for p in _per_file(s, _topic_counts, ds.settings.timezone) if len(p)]
    if not parts:
        return pd.DataFrame(columns=cols), None
    c = pd.concat(parts, ignore_index=True).groupby(["month", "comment_category"], sort=False).sum().reset_index()
    m = report.parse_month(month)
    per_month = c.groupby("month")["answers"].sum()
    have = [p for p in (m - i for i in range(lookback)) if int(per_month.get(p, 0)) >= min_answers]
    if not have:
        return pd.DataFrame(columns=cols), None
    wave = max(have)
    w = c[c["month"] == wave]
    det = w.loc[w["detractors"] > 0].set_index("comment_category")["detractors"]
    pro = w.loc[w["promoters"] > 0].set_index("comment_category")["promoters"]
    out = pd.DataFrame({"detractors": det}).join(pd.DataFrame({"promoters": pro}), how="outer")
    out = out.fillna(0).astype("int64").rename_axis("comment_category").reset_index()
    total = out["detractors"].sum()
    out["share"] = out["detractors"] / total if total else np.nan
    out = out.sort_values(["detractors", "comment_category"], ascending=[False, True], kind="mergesort")
    return out[cols].reset_index(drop=True), str(wave)


def _curve_counts(ds, month, kind: str, by: str | None, clock: str) -> pd.DataFrame:
    """One partition's (group, duration, observed) counts of the month's tickets."""
    from kpitools.kpis._core import elapsed, to_period
    from kpitools.kpis.responsiveness import ticket_facts

    f = ticket_facts(ds).reset_index(drop=True)
    start, end = ((f["frt_start"], f["frt_end"]) if kind == "first_response" else (f["created_at"], f["resolved"]))
    cutoff = ds.cutoff
    in_month = to_period(f["created_at"], "M", ds.settings.timezone).reset_index(drop=True) == month
    ok = (in_month & start.notna() & (start <= cutoff)).to_numpy()
    observed = (end.notna() & (end <= cutoff)).to_numpy()
    stop = end.where(observed, cutoff)
    dur = np.full(len(f), np.nan)
    if ok.any():
        dur[ok] = elapsed(ds, start[ok], stop[ok], clock)
    if by is None:
        groups = pd.Series("all", index=f.index, dtype="str")
    else:
        t = ds.tickets.reset_index(drop=True)
        if by not in t.columns:
            raise ValueError(f"by: tickets have no column {by!r}; available: {list(t.columns)}")
        groups = t[by].astype("str").fillna("(missing)")
    rows = pd.DataFrame({"group": groups.to_numpy()[ok], "duration": dur[ok], "observed": observed[ok]})
    rows = rows[rows["duration"].notna()]
    return _counts(rows, ["group", "duration", "observed"])


def km_curve_counts(durations, observed, counts, *, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`kpitools.stats.survival.kaplan_meier` from counts of (duration, observed).

    Same columns and formulas: ``S(t) = prod (1 - d_j / n_j)`` over the distinct times, the
    pointwise log-log band ``S^exp(+-z sqrt(G) / log S)`` with Greenwood's
    ``G = sum d_j / (n_j (n_j - d_j))``; NaN where S = 1 before any event or S = 0.
    """
    from kpitools.stats._common import check_confidence, z_value

    confidence = check_confidence(confidence)
    t = np.asarray(durations, dtype=float)
    o = np.asarray(observed, dtype=bool)
    w = np.asarray(counts, dtype=np.int64)
    keep = ~np.isnan(t) & (w > 0)
    t, o, w = t[keep], o[keep], w[keep]
    if t.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in
                             ("time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high")})
    times, inv = np.unique(t, return_inverse=True)
    total = np.bincount(inv, weights=w, minlength=times.size).astype(np.int64)
    events = np.bincount(inv, weights=w * o, minlength=times.size).astype(np.int64)
    at_risk = np.cumsum(total[::-1])[::-1]
    if events.sum() == 0:
        surv, low, high = np.ones(times.size), np.full(times.size, np.nan), np.full(times.size, np.nan)
    else:
        n, d = at_risk.astype(float), events.astype(float)
        surv = np.cumprod(1.0 - d / n)
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(np.cumsum(d / (n * (n - d))) / np.log(surv) ** 2)
            lnl = np.log(-np.log(surv))
            z = z_value(confidence)
            low, high = np.exp(-np.exp(lnl + z * se)), np.exp(-np.exp(lnl - z * se))
    return pd.DataFrame({"time": times, "at_risk": at_risk, "events": events, "censored": total - events,
                         "survival": surv, "ci_low": low, "ci_high": high})


def duration_curves(ds: DaskDataset, month, *, kind: str = "first_response", by: str | None = "priority",
                    clock: str = "business", confidence: float = 0.95) -> pd.DataFrame:
    """:func:`kpitools.report.duration_curves` from per-partition counts of (segment, duration
    second, observed): the Kaplan-Meier curves without the tickets' rows (:func:`km_curve_counts`)."""
    from kpitools import report

    if kind not in ("first_response", "resolution"):
        raise ValueError(f"kind: expected 'first_response' or 'resolution', got {kind!r}")
    m = report.parse_month(month)
    parts = [p for p in _map_shuffled(ds, _curve_counts, m, kind, by, clock) if len(p)]
    label = by or "group"
    if not parts:
        return pd.DataFrame(columns=[label, "time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"])
    c = pd.concat(parts, ignore_index=True).groupby(["group", "duration", "observed"], sort=True)["_w"].sum().reset_index()
    out = []
    for g in sorted(pd.unique(c["group"])):  # one curve per segment level
        x = c[c["group"] == g]
        km = km_curve_counts(x["duration"].to_numpy(), x["observed"].to_numpy(), x["_w"].to_numpy(),
                             confidence=confidence)
        km.insert(0, label, g)
        out.append(km)
    return pd.concat(out, ignore_index=True)


def _has_values(df: pd.DataFrame, col: str) -> bool:
    return bool(df[col].notna().any())


def headline_segments(ds: DaskDataset, kpi_rows: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`kpitools.report.headline_segments` on a Dask dataset (the by-channel KPIs through
    :func:`kpi_table`)."""
    from kpitools.kpis import catalogue

    cat = catalogue()
    sla = kpi_rows[kpi_rows["kpi"].isin(cat.loc[cat["group"] == "sla", "kpi"])]
    if "priority" in sla.columns:
        sla = sla[sla["priority"].notna()]
    have = [k for k in ("csat", "first_response_time") if k in set(kpi_rows["kpi"])]
    sla = sla.copy()
    sla.attrs = {}
    parts = [sla]
    t = ds.tables.get("tickets")
    if have and t is not None and "channel" in t.columns and any(_per_file(t, _has_values, "channel")):
        by_channel = kpi_table(ds, by="channel", kpis=have, confidence=confidence)
        by_channel.attrs = {}
        parts.append(by_channel)
    out = pd.concat([p for p in parts if len(p)], ignore_index=True, sort=False) if any(len(p) for p in parts) \
        else kpi_rows.iloc[:0].copy()
    out.attrs = {}
    return out


def connect(scheduler: str | None = None, *, workers: int = 2):
    """A ``dask.distributed`` client: of the scheduler at ``scheduler`` (``tcp://host:8786``),
    else of a new ``LocalCluster`` of ``workers`` worker processes (one thread each) on this
    machine. The report template calls it with its ``scheduler`` parameter (``engine="dask"``).

    Returns
    -------
    distributed.Client
        The current client from now on (``load_dataset(..., engine="dask")`` and the KPIs use it).
    """
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    return Client(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40))
