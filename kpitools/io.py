"""Loading and validating a dataset: folder of tables -> :class:`Dataset`.

The loader never drops a row silently. A table that cannot be used at all raises
:class:`DataError` naming the file, the column, the first offending rows, what was expected
and how to fix it. Single bad rows are excluded (or, for an optional value, repaired by
setting it to missing) and recorded in :attr:`Dataset.quality`.
"""

from __future__ import annotations

import codecs
import difflib
import gzip
import io as _io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from kpitools.schema import MISSING, REASONS, SEGMENT_COLUMNS, TABLES, Column, Table
from kpitools.settings import DURATION_UNITS, Settings, fold

__all__ = ["Dataset", "DataError", "load_dataset", "parse_timestamps", "QUALITY_COLUMNS", "SUFFIXES"]

SUFFIXES = (".csv", ".csv.gz", ".parquet")
QUALITY_COLUMNS = ["table", "file", "row", "column", "value", "reason", "detail", "action"]
_MAX_SHOWN = 5
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
_STR = pd.Series([], dtype="str").dtype
# tables whose text columns are held as pandas Categoricals of ``str`` (codes per row, each distinct
# value once): ticket_events has 7 events per ticket, so at 10 million tickets its ids as text on
# every row would take 5 GB; as codes they take 0.6 GB (docs/data-contract.md)
CATEGORICAL_TABLES = ("ticket_events",)
# bytes that may begin or end whitespace: ASCII space and controls, and every non-ASCII byte
_EDGE = np.zeros(256, dtype=bool)
_EDGE[:0x21] = True
_EDGE[0x80:] = True


class DataError(ValueError):
    """A table cannot be used. The message says which file, column and rows, and how to fix it."""

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None,
                 rows: list[int] | None = None):
        super().__init__(message)
        self.file = file
        self.column = column
        self.rows = rows or []


def _rows_text(rows: np.ndarray | list[int], values: Any = None) -> str:
    rows = list(rows)
    shown = rows[:_MAX_SHOWN]
    if values is not None:
        vals = list(values)[:_MAX_SHOWN]
        items = ", ".join(f"row {r}: {v!r}" for r, v in zip(shown, vals, strict=False))
    else:
        items = ", ".join(str(r) for r in shown)
    more = f" and {len(rows) - len(shown)} more" if len(rows) > len(shown) else ""
    return items + more


_EXPECT = {
    "timestamp": "ISO 8601 timestamps such as 2026-10-31T23:30:00Z, 2026-10-31T23:30:00+01:00, "
                 "2026-10-31 23:30:00 UTC or 2026-10-31 23:30:00 (naive values are read in the dataset "
                 "timezone), or the dataset.yml `csv: datetime_format`",
    "date": "dates as YYYY-MM-DD",
    "month": "months as YYYY-MM",
    "float": "numbers with a decimal point (.)",
    "int": "whole numbers",
    "bool": "true/false, yes/no or 1/0",
    "string": "text",
}


# ------------------------------------------------------------------------------------
# The Dataset
# ------------------------------------------------------------------------------------
@dataclass
class Dataset:
    """A validated customer-service dataset.

    Attributes
    ----------
    tables : dict of str -> DataFrame
        The tables present, in contract dtypes (see :mod:`kpitools.schema`). Each is also an
        attribute (``ds.tickets``); an absent table's attribute is ``None``.
    settings : Settings
        The dataset's ``dataset.yml`` (or defaults).
    quality : DataFrame
        One row per excluded or repaired input row: table, file, row (1-based data row of the
        file, header not counted), column, value, reason (see ``kpitools.schema.REASONS``),
        detail, action (``excluded`` or ``set to missing``). Whole-column notes (a default
        used, a column derived from another, blank segment values kept) have row 0 and action
        ``note``. Survey rows derived from a ticket rating column name the tickets file and the
        ticket's row (file ``tickets.csv (ratings: <column>)``).
    path : Path or None
        The folder it was read from.
    files : dict of str -> str
        File name each table came from.
    truth : dict or None
        ``truth.json`` of a synthetic dataset (planted effects and dirty rows), if present.
    input_rows : dict of str -> int
        Rows read per table (file rows plus rows derived from ratings).
    unmapped : dict of str -> list of str
        Export columns per table that are neither contract columns nor used by ``durations:`` or
        ``ratings:`` (ignored by the KPIs; kept in the table when read from CSV, not read at all
        from Parquet, whose columns are pruned to the used ones).
    """

    tables: dict[str, pd.DataFrame]
    settings: Settings
    quality: pd.DataFrame
    path: Path | None = None
    files: dict[str, str] = field(default_factory=dict)
    truth: dict | None = None
    input_rows: dict[str, int] = field(default_factory=dict)
    unmapped: dict[str, list[str]] = field(default_factory=dict)
    cache: dict = field(default_factory=dict, repr=False)

    def __getattr__(self, name: str) -> Any:
        if name in TABLES:
            return self.__dict__["tables"].get(name)
        raise AttributeError(f"Dataset has no attribute {name!r}")

    def has(self, *names: str) -> bool:
        """True when every named table is present."""
        return all(n in self.tables for n in names)

    def has_columns(self, table: str, *columns: str) -> bool:
        """True when the table is present and has every named column with some data."""
        df = self.tables.get(table)
        return df is not None and all(c in df.columns and df[c].notna().any() for c in columns)

    @property
    def cutoff(self) -> pd.Timestamp:
        """Export time (UTC): settings ``exported_at``, else the latest timestamp in the data.

        Durations still running at the cut-off are right-censored there.
        """
        if "cutoff" not in self.cache:
            ts = self.settings.exported_at
            if ts is None:
                latest = []
                for name, df in self.tables.items():
                    for c in TABLES[name].columns:
                        if c.dtype == "timestamp" and c.name in df and df[c.name].notna().any():
                            latest.append(df[c.name].max())
                ts = max(latest) if latest else pd.Timestamp.now(tz="UTC")
            self.cache["cutoff"] = pd.Timestamp(ts).tz_convert("UTC")
        return self.cache["cutoff"]

    @property
    def calendar(self):
        """The business-hours calendar of the settings (:class:`kpitools.calendar.BusinessCalendar`)."""
        if "calendar" not in self.cache:
            from kpitools.calendar import BusinessCalendar

            self.cache["calendar"] = BusinessCalendar.from_settings(self.settings)
        return self.cache["calendar"]

    @property
    def timezone(self) -> str:
        return self.settings.timezone

    def span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last ticket creation (or first/last timestamp of any table), UTC."""
        if self.tickets is not None and len(self.tickets):
            s = self.tickets["created_at"]
            return s.min(), s.max()
        lo, hi = [], []
        for name, df in self.tables.items():
            for c in TABLES[name].columns:
                if c.dtype == "timestamp" and c.name in df and df[c.name].notna().any():
                    lo.append(df[c.name].min())
                    hi.append(df[c.name].max())
        return (min(lo), max(hi)) if lo else None

    def summary(self) -> pd.DataFrame:
        """One row per table: file, rows read, kept, excluded, their share, repaired, notes, time span.

        ``excluded_share`` is excluded / rows read (NaN for an empty table); ``repaired`` counts
        values set to missing, ``notes`` whole-column notes (row 0 of the quality log).
        """
        out = []
        q = self.quality
        for name, df in self.tables.items():
            tq = q[q["table"] == name]
            ts_cols = [c.name for c in TABLES[name].columns if c.dtype in ("timestamp", "date") and c.name in df]
            first = last = pd.NaT
            if ts_cols and len(df):
                col = df[ts_cols[0]]
                first, last = col.min(), col.max()
            read = self.input_rows.get(name, len(df))
            excluded = int(tq.loc[tq["action"] == "excluded", ["file", "row"]].drop_duplicates().shape[0])
            out.append({
                "table": name,
                "file": self.files.get(name, ""),
                "rows_read": read,
                "rows": len(df),
                "excluded": excluded,
                "excluded_share": excluded / read if read else np.nan,
                "repaired": int((tq["action"] == "set to missing").sum()),
                "notes": int((tq["action"] == "note").sum()),
                "first": first,
                "last": last,
            })
        return pd.DataFrame(out)

    def quality_summary(self) -> pd.DataFrame:
        """Counts of excluded/repaired rows by table, reason and action."""
        q = self.quality
        if q.empty:
            return pd.DataFrame(columns=["table", "reason", "action", "rows", "meaning"])
        g = q.groupby(["table", "reason", "action"], sort=True).size().rename("rows").reset_index()
        g["meaning"] = g["reason"].map(REASONS)
        return g

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"<Dataset {self.settings.raw.get('name', '')!s} [{parts}] quality={len(self.quality)}>"

    # --- construction -------------------------------------------------------------
    @classmethod
    def from_frames(cls, frames: dict[str, pd.DataFrame], *, settings: Settings | dict | None = None,
                    truth: dict | None = None) -> Dataset:
        """Build a Dataset from in-memory DataFrames with the same conversion and checks as files.

        Parameters
        ----------
        frames : dict of str -> DataFrame
            Tables by contract name (columns may be strings, numbers or already typed).
        settings : Settings or dict, optional
            Dataset settings; a dict is merged over the defaults.
        """
        settings = _as_settings(settings)
        unknown = sorted(set(frames) - set(TABLES))
        if unknown:
            raise DataError(
                f"unknown table name(s) {unknown}; known tables: {', '.join(TABLES)}"
            )
        loader = _Loader(settings)
        for name, df in frames.items():
            loader.add(name, df.copy(), file=f"{name} (DataFrame)")
        return loader.finish(path=None, truth=truth)


def _as_settings(settings: Settings | dict | None) -> Settings:
    if settings is None:
        return Settings()
    if isinstance(settings, Settings):
        return settings
    if isinstance(settings, dict):
        return Settings.from_dict(settings)
    raise TypeError(f"settings must be a Settings, a dict or None, not {type(settings).__name__}")


# ------------------------------------------------------------------------------------
# Loading files
# ------------------------------------------------------------------------------------
def _find_file(folder: Path, table: str) -> Path | None:
    found = [folder / f"{table}{s}" for s in SUFFIXES if (folder / f"{table}{s}").exists()]
    if len(found) > 1:
        raise DataError(
            f"{folder}: table {table!r} is there more than once ({', '.join(p.name for p in found)}); "
            "keep one file per table",
            file=str(found[0]),
        )
    return found[0] if found else None


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


def _to_utf8(data: bytes, path: Path, opts: dict) -> bytes:
    """A CSV file's bytes as UTF-8 without byte-order mark (what pyarrow's CSV reader reads).

    A table's own ``csv.<table>.encoding`` is always used. Otherwise a file that is valid UTF-8
    (with or without byte-order mark) is read as UTF-8, whatever the folder-wide encoding says,
    so a folder-wide ``latin-1`` cannot garble a UTF-8 file; other files are read in the folder-wide
    encoding. A decoding error names the byte offset in the (uncompressed) file and its line.
    """
    enc = opts["encoding"]
    candidates = [enc] if opts["encoding_explicit"] else (["utf-8"] if _is_utf8(enc) else ["utf-8", enc])
    err = None
    for cand in candidates:
        try:
            if _is_utf8(cand):
                codecs.utf_8_decode(data, "strict", True)  # validate only; pyarrow reads the bytes
                return data[3:] if data.startswith(codecs.BOM_UTF8) else data
            return data.decode(cand).encode("utf-8")
        except UnicodeDecodeError as e:
            err = e
    off = err.start
    line = data.count(b"\n", 0, off) + 1
    where = " of the uncompressed data" if path.name.endswith(".gz") else ""
    bad = data[off:off + 4].hex(" ")
    table = path.name.split(".")[0]
    raise DataError(
        f"{path}: the file is not {enc} text (byte {off}{where}, line {line}, cannot be decoded: "
        f"{err.reason}; bytes there: {bad}). Save the export as UTF-8, or declare its encoding in "
        f"dataset.yml, e.g. `csv: {{encoding: latin-1}}` (all files) or "
        f"`csv: {{{table}: {{encoding: latin-1}}}}` (this file only).",
        file=str(path), rows=[line],
    )


def _used_columns(settings: Settings, table: str, names: list[str]) -> list[str]:
    """The file columns the loader uses: contract columns, mapped sources, durations and ratings."""
    st = settings
    spec = TABLES[table]
    used = set(spec.names) | set(st.mapping(table))
    for block in (st.durations(table), st.ratings(table)):
        for col, sub in block.items():
            used.add(col)
            used.update(c for c in (sub.get("submitted_at"), sub.get("sent_at")) if c)
    return [c for c in names if c in used]


def _arrow_to_pandas(tbl: pa.Table, codes: dict | None = None, *,
                     categorical: frozenset | set = frozenset()) -> pd.DataFrame:
    """An Arrow table as pandas: strings as ``str``, timestamps kept as stored (no Python objects).

    Dates become ``datetime64`` (not Python ``date`` objects) and booleans with missing values the
    ``boolean`` dtype (not objects). ``codes``, when given, receives for each dictionary-encoded text
    column its codes and distinct values (see :func:`_dictionary_codes`), so that the loader works
    per distinct value without hashing the rows again. The dictionary-encoded text columns named in
    ``categorical`` become pandas Categoricals of their distinct values: the text of the rows is
    never built.
    """
    cats: dict[str, pd.Categorical] = {}
    for i, f in enumerate(tbl.schema):
        if pa.types.is_null(f.type):  # an all-empty column written without a type
            tbl = tbl.set_column(i, f.name, pa.nulls(len(tbl), pa.large_string()))
        elif pa.types.is_dictionary(f.type):
            col = tbl[f.name]
            if codes is not None and (pa.types.is_string(f.type.value_type)
                                      or pa.types.is_large_string(f.type.value_type)):
                col = col.unify_dictionaries()
                if f.name in categorical and not any(c.dictionary.null_count for c in col.chunks):
                    tbl = tbl.set_column(i, f.name, pa.nulls(len(tbl), pa.int8()))  # placeholder
                    (row_codes, uniques), _ = _dictionary_codes(col, text=False)
                    del col
                    cat = cats[f.name] = _categorical(uniques, row_codes, distinct=True)
                    del row_codes
                    # the loader's codes are the Categorical's own (no second array of row codes)
                    codes[f.name] = (cat.cat.codes.to_numpy(), uniques)
                    continue
                codes[f.name], text = _dictionary_codes(col)
                tbl = tbl.set_column(i, f.name, text)
            else:
                tbl = tbl.set_column(i, f.name, col.cast(f.type.value_type))
    # without the pandas metadata of the writer: its dtype reconstruction of string columns costs
    # far more than the read (30 s for 7 million events); the columns read are plain columns
    df = tbl.replace_schema_metadata(None).to_pandas(
        split_blocks=True, self_destruct=True, date_as_object=False,
        types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
    for name, cat in cats.items():
        df[name] = cat
    return df


def _release() -> None:
    """Hand the memory Arrow's allocator holds but no longer uses back to the system.

    After a large table's read and checks, mimalloc (pyarrow's default pool) keeps about as much
    freed memory resident as the table's text took; at 10 million tickets that is gigabytes.
    """
    pa.default_memory_pool().release_unused()


def _categorical(uniques: pd.Series, codes: np.ndarray, index: pd.Index | None = None, *,
                 distinct: bool = False) -> pd.Series:
    """The rows of a coded text column as a Categorical of ``str``: ``uniques`` at ``codes``
    (-1: missing). ``uniques`` may hold missing or repeated values (after trimming or ``values:``);
    ``distinct=True`` says they hold neither (a dictionary), which saves hashing them."""
    if not distinct and (uniques.isna().any() or not uniques.is_unique):
        ucodes, cats = pd.factorize(uniques, use_na_sentinel=True)  # the distinct values only
        codes = np.append(ucodes, -1)[codes]
        uniques = pd.Series(cats, dtype="str")
    dtype = pd.CategoricalDtype(pd.Index(uniques, dtype="str"))
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype, validate=False), index=index, copy=False)


def _dictionary_codes(col: pa.ChunkedArray, *, text: bool = True
                      ) -> tuple[tuple[np.ndarray, pd.Series], pa.ChunkedArray | None]:
    """Codes (-1: missing) and distinct values (``str``) of a dictionary column with one dictionary,
    and the column as text (``large_string``, taken from the distinct values; None: ``text=False``)."""
    if col.num_chunks == 0:
        return (np.zeros(0, dtype=np.int64), pd.Series([], dtype="str")), pa.chunked_array([], pa.large_string())
    dictionary = col.chunk(0).dictionary.cast(pa.large_string())
    idx = pa.chunked_array([c.indices for c in col.chunks], type=col.type.index_type)
    codes = (pc.fill_null(idx, -1) if idx.null_count else idx).to_numpy()
    return (codes, _str_series(dictionary)), (pc.take(dictionary, idx) if text else None)


def _str_series(a: pa.Array | pa.ChunkedArray, index: pd.Index | None = None) -> pd.Series:
    """Arrow text as a ``str`` Series, without copying the text."""
    return pd.Series(_STR.__from_arrow__(a), index=index, copy=False)


def _read_parquet(path: Path, settings: Settings, table: str,
                  codes: dict | None = None) -> tuple[pd.DataFrame, list[str]]:
    try:
        pf = pq.ParquetFile(path, memory_map=True)  # the pages are read from the mapped file, not copied
        names = list(pf.schema_arrow.names)
        used = _used_columns(settings, table, names)
        coded = set(_categorical_sources(settings, table, used) if codes is not None else [])
        if not used or pf.metadata.num_rows < 1_000_000:
            return _arrow_to_pandas(pf.read(columns=used), codes, categorical=coded), names
        # a large file one column at a time: the memory held beyond the frame is one column's
        parts = []
        for c in used:
            col = pf.read(columns=[c]).column(0)
            if c in coded and (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                col = pc.dictionary_encode(col)  # one dictionary shared by the chunks
            parts.append(_arrow_to_pandas(pa.table({c: col}), codes, categorical=coded))
            del col
    except Exception as e:  # pyarrow raises many types for a broken file
        raise DataError(f"{path}: cannot be read as Parquet ({e}). Re-export the file.",
                        file=str(path)) from None
    return pd.concat(parts, axis=1), names


def _categorical_sources(settings: Settings, table: str, names: list[str]) -> list[str]:
    """File columns (of ``names``) that feed a text column of a :data:`CATEGORICAL_TABLES` table."""
    if table not in CATEGORICAL_TABLES:
        return []
    spec = TABLES[table]
    mapping = settings.mapping(table)
    text = {c.name for c in spec.columns if c.dtype == "string"}
    return [n for n in names if mapping.get(n, n) in text]


def _csv_header(data: bytes, sep: str) -> list[str]:
    """The column names of the first record (which may span lines inside quotes)."""
    import csv

    first = data[:1 << 20].decode("utf-8", errors="replace")
    try:
        return next(csv.reader(_io.StringIO(first), delimiter=sep))
    except StopIteration:
        return []


def _read_file(path: Path, settings: Settings, table: str | None = None, *,
               codes: dict | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read one table file: CSV as text columns (through pyarrow), Parquet as stored.

    Returns the frame and every column name of the file. A Parquet file is read with column
    pruning: only the columns the loader uses (see :func:`_used_columns`); the names of the others
    are returned so that they are listed as unmapped. ``codes`` (a dict) receives the codes and
    distinct values of the dictionary-encoded text columns of a Parquet file, for
    :meth:`_Loader.add`.
    """
    table = table or path.name.split(".")[0]
    if path.stat().st_size == 0:
        raise DataError(
            f"{path}: the file is empty (0 bytes). Expected a header line with the column names "
            "and one row per record; re-export it, or delete the file if you have no such data.",
            file=str(path),
        )
    if path.name.endswith(".parquet"):
        return _read_parquet(path, settings, table, codes)
    opts = settings.csv(table)
    sep = opts["sep"]
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise DataError(f"{path}: not a valid gzip file ({e}). Re-export it, or save it as plain "
                            f"{table}.csv.", file=str(path)) from None
    data = _to_utf8(data, path, opts)
    no_header = DataError(
        f"{path}: the file has no header line. Expected comma-separated values whose first "
        "line names the columns.",
        file=str(path),
    )
    header = _csv_header(data, sep)
    if not header or all(not h.strip() for h in header):
        raise no_header
    names = [h if h else f"Unnamed: {i}" for i, h in enumerate(header)]
    try:
        tbl = pcsv.read_csv(
            pa.BufferReader(data),
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True),
        )
        df = _arrow_to_pandas(tbl)
    except pa.ArrowInvalid:
        # rows with fewer fields than the header (pandas fills them with missing values) or a
        # malformed file: pandas' reader gives the same result as before or the precise error
        try:
            df = pd.read_csv(_io.BytesIO(data), sep=sep, dtype=str, keep_default_na=False,
                             na_values=[""], skipinitialspace=False, encoding="utf-8")
        except pd.errors.ParserError as e:
            raise DataError(
                f"{path}: not valid CSV ({e}). Check the delimiter (dataset.yml `csv: {{sep: ';'}}` or "
                f"`csv: {{{table}: {{sep: ';'}}}}`) and quoting of text that contains the delimiter.",
                file=str(path),
            ) from None
    if df.shape[1] == 1:
        header = str(df.columns[0])
        for cand, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")):
            if cand in header and cand != sep:
                raise DataError(
                    f"{path}: the file looks {label}-separated (header {header[:80]!r}) but "
                    f"kpitools was told the delimiter is {sep!r}. Re-export with the declared "
                    f"delimiter, or add to dataset.yml: `csv: {{sep: {cand!r}}}` (all files) or "
                    f"`csv: {{{table}: {{sep: {cand!r}}}}}` (this file only).",
                    file=str(path),
                )
    df.columns = [str(c).strip() for c in df.columns]
    return df, list(df.columns)


def load_dataset(path: str | Path = "data/sample", *, settings: Settings | dict | None = None,
                 engine: str = "pandas") -> Dataset:
    """Read, convert and validate a folder of customer-service tables.

    Parameters
    ----------
    path : str or Path
        Folder with files named after the contract tables (``tickets.csv``, ``surveys.parquet``,
        ``contacts.csv.gz`` ...) and optionally ``dataset.yml`` and ``truth.json``.
    settings : Settings or dict, optional
        Overrides ``dataset.yml``.
    engine : {"pandas", "dask"}, default "pandas"
        ``"dask"``: tables as Dask DataFrames, a table may be a folder of Parquet files
        (:func:`kpitools.dask_engine.load_dataset`; README "Scaling out").

    Returns
    -------
    Dataset
        Tables in contract dtypes, settings, and the quality log of excluded/repaired rows
        (a :class:`kpitools.dask_engine.DaskDataset` for ``engine="dask"``).

    Raises
    ------
    DataError
        A table is unusable (missing required column, empty file, wrong delimiter or encoding,
        unparseable column). The message names the file, column, first rows and the fix.

    Notes
    -----
    ``dataset.yml`` adapts a real export without editing it (docs/real-exports.md): ``mapping``
    (column names), ``durations`` (elapsed-time columns), ``values`` (value spellings),
    ``defaults`` (absent required columns), ``ratings`` (a ticket rating column as surveys),
    ``csv`` (delimiter, encoding and date format, per table or for the folder) and ``preset``.

    Examples
    --------
    >>> ds = load_dataset("data/sample")       # doctest: +SKIP
    >>> ds.tickets.shape, ds.quality.shape     # doctest: +SKIP
    """
    if engine == "dask":  # partitioned tables: kpitools.dask_engine
        from kpitools import dask_engine

        return dask_engine.load_dataset(path, settings=settings)
    if engine != "pandas":
        raise ValueError(f"engine must be one of ['pandas', 'dask'], got {engine!r}")
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder. Pass the folder that holds the table files "
                        "(for example data/sample).", file=str(folder))
    if settings is None:
        yml = folder / "dataset.yml"
        settings = Settings.from_yaml(yml) if yml.exists() else Settings()
    else:
        settings = _as_settings(settings)
    loader = _Loader(settings)
    for name in TABLES:
        f = _find_file(folder, name)
        if f is not None:
            codes: dict = {}
            df, names = _read_file(f, settings, name, codes=codes)
            loader.add(name, df, file=f.name, path=f, columns=names, codes=codes)
            _release()
    if not loader.pending:
        listing = ", ".join(sorted(p.name for p in folder.iterdir())[:10]) or "nothing"
        raise DataError(
            f"{folder}: no table files found (it holds: {listing}). Expected files named after "
            f"the tables, e.g. tickets.csv; tables: {', '.join(TABLES)}.",
            file=str(folder),
        )
    truth = None
    if (folder / "truth.json").exists():
        import json

        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return loader.finish(path=folder, truth=truth)


# ------------------------------------------------------------------------------------
# Timestamps
# ------------------------------------------------------------------------------------
# a time of day (after T or a space), optional AM/PM, then a zone: Z, UTC, GMT or an offset
_ZONE = re.compile(
    r"(?i)^(?P<body>.*[T\s]\d{1,2}(?::?\d{2}){0,2}(?:[.,]\d+)?(?:\s*[ap]\.?m\.?)?)\s*"
    r"(?:(?P<utc>z|utc|gmt)|(?:utc|gmt)?\s*(?P<sign>[+-])(?P<hh>\d{1,2})(?::?(?P<mm>\d{2}))?)$"
)


# the common case, read directly by pandas' ISO 8601 parser
_ISO_ZONED = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$"
_ZONE_END = r"(?i)(?:z|utc|gmt|[+-]\d{1,2}(?::?\d{2})?)$"


def _parse_naive(txt: pd.Series, fmt: str | None) -> pd.Series:
    """Naive text -> naive datetimes: the declared format first, then ISO 8601."""
    if fmt:
        out = pd.to_datetime(txt, format=fmt, errors="coerce")
        rest = out.isna().to_numpy() & txt.notna().to_numpy()
        if rest.any():
            out[rest] = pd.to_datetime(txt[rest], format="ISO8601", errors="coerce")
        return out
    return pd.to_datetime(txt, format="ISO8601", errors="coerce")


def _arrow_timestamps(txt: pd.Series, timezone: str) -> pd.Series | None:
    """All values ISO 8601 with a zone (or all without one): Arrow's parser reads them at once.

    None when some value is in another form; the general path then reads each form.
    """
    a = _arrow(txt)
    try:
        return pd.Series(pd.array(pc.cast(a, pa.timestamp("ns", "UTC"))), index=txt.index,
                         dtype="datetime64[ns, UTC]")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if txt.str.contains(_ZONE_END).fillna(False).any():
        return None
    try:
        naive = pd.Series(pd.array(pc.cast(a, pa.timestamp("ns"))), index=txt.index, dtype="datetime64[ns]")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    loc = naive.dt.tz_localize(timezone, ambiguous=np.ones(len(naive), bool), nonexistent="shift_forward")
    return loc.dt.tz_convert("UTC").dt.as_unit("ns")


def parse_timestamps(s: pd.Series, *, timezone: str = "UTC", datetime_format: str | None = None) -> pd.Series:
    """Text or datetimes -> ``datetime64[ns, UTC]``; NaT where a value cannot be read.

    Parameters
    ----------
    s : Series
        Timestamps as text (or datetimes: naive ones are local times in ``timezone``).
    timezone : str
        Zone of naive values (the dataset's business timezone).
    datetime_format : str, optional
        ``strptime`` format of naive text (``%m/%d/%Y %I:%M %p``); ISO 8601 is accepted besides.

    Notes
    -----
    A value ending in a zone is read in that zone without any setting: ``Z``, ``UTC``, ``GMT``,
    an offset ``+01:00``/``+0100``/``+01`` or ``GMT+01:00``. Daylight-saving gaps are shifted
    forward and repeated hours read as their first occurrence.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s if s.dt.tz is not None else s.dt.tz_localize(
            timezone, ambiguous=np.ones(len(s), bool), nonexistent="shift_forward")
        return out.dt.tz_convert("UTC").dt.as_unit("ns")
    present = s.notna().to_numpy()
    txt = s.astype("str").str.strip().where(present)
    if not datetime_format:
        fast = _arrow_timestamps(txt, timezone)
        if fast is not None:
            return fast
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    if datetime_format and re.search(r"%[zZ]", datetime_format):  # the format reads the zone itself
        return pd.to_datetime(txt, format=datetime_format, errors="coerce", utc=True).dt.as_unit("ns")
    iso = txt.str.match(_ISO_ZONED).fillna(False).to_numpy(dtype=bool)
    if iso.any():
        out[iso] = pd.to_datetime(txt[iso], format="ISO8601", errors="coerce", utc=True).dt.as_unit("ns")
    maybe = ~iso & txt.str.contains(_ZONE_END).fillna(False).to_numpy(dtype=bool)
    zoned = np.zeros(len(s), dtype=bool)
    if maybe.any():  # other zone spellings: only these rows go through the slower full pattern
        z = txt[maybe].str.extract(_ZONE)
        zoned[np.flatnonzero(maybe)[z["body"].notna().to_numpy()]] = True
        zz = z[z["body"].notna()]
        body = _parse_naive(zz["body"], datetime_format)
        sign = np.where(zz["sign"].to_numpy() == "-", -1.0, 1.0)
        minutes = (pd.to_numeric(zz["hh"], errors="coerce").fillna(0).to_numpy() * 60
                   + pd.to_numeric(zz["mm"], errors="coerce").fillna(0).to_numpy()) * sign
        utc = body.dt.tz_localize("UTC") - pd.to_timedelta(minutes, unit="m")
        out[zoned] = utc.dt.as_unit("ns").to_numpy()
    naive = ~zoned & ~iso & present
    if naive.any():
        loc = _parse_naive(txt[naive], datetime_format)
        loc = loc.dt.tz_localize(timezone, ambiguous=np.ones(int(naive.sum()), bool),
                                 nonexistent="shift_forward")
        out[naive] = loc.dt.tz_convert("UTC").dt.as_unit("ns")
    return out


# ------------------------------------------------------------------------------------
# Conversion and checks
# ------------------------------------------------------------------------------------
_NO_MATCH = object()


def _map_distinct(s: pd.Series, func: Any, coded: tuple[np.ndarray, pd.Series] | None = None
                  ) -> tuple[pd.Series, pd.Series | None]:
    """``func`` applied once per distinct value of a text column, spread back to the rows.

    ``func`` gets the value as written and returns the new text (None: missing); missing values
    stay missing. The result has ``str`` dtype. ``coded`` are the column's codes and distinct
    values (see :meth:`_Loader._coded`): ``func`` is then applied to those values (no hashing of the
    rows), and a column that ``func`` leaves as it is comes back unchanged. Returns the new column
    and, with ``coded``, the new distinct values (for the same codes).
    """
    if coded is not None:
        codes, uniques = coded
        new = _map_uniques(uniques, func)
        if new.equals(uniques):
            return s.astype("str"), uniques
        return _spread(new, codes, s.index), new
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    new = pd.array([func(str(u)) for u in uniques], dtype="str")  # distinct values only
    return pd.Series(new.take(codes, allow_fill=True), index=s.index, dtype="str"), None


def _map_uniques(uniques: pd.Series, func: Any) -> pd.Series:
    """``func`` of each distinct value of a coded column (missing stays missing), as ``str``."""
    present = uniques.notna().to_numpy()
    return pd.Series([func(str(u)) if p else None for u, p in zip(uniques.to_numpy(), present, strict=True)],
                     dtype="str")


def _factorized(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes (-1: missing) and distinct values of a column as text (hashed by Arrow)."""
    a = _arrow(s.astype("str"))
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks() if a.num_chunks != 1 else a.chunk(0)
    enc = pc.dictionary_encode(a)
    codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False) if enc.null_count else \
        enc.indices.to_numpy(zero_copy_only=False)
    return codes, _str_series(enc.dictionary)


def _per_value(s: pd.Series, func: Any) -> pd.Series:
    """``func(s.astype("str"))`` for an element-wise ``func``, evaluated once per distinct value."""
    codes, uniques = _factorized(s)
    got = func(uniques)
    return pd.Series(got.array.take(codes, allow_fill=True), index=s.index)


def _spread(uniques: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """The rows of a coded text column: ``uniques`` at ``codes`` (-1: missing), as ``str``."""
    return pd.Series(uniques.array.take(codes, allow_fill=True), index=index, dtype="str")


def _edge_candidates(a: pa.ChunkedArray) -> np.ndarray:
    """Rows of Arrow text whose first or last byte may be whitespace (a superset; bool array).

    Reads the offsets and bytes of the Arrow buffers: a value is a candidate when it is empty or
    its first or last byte is ASCII space/control (<= 0x20) or not ASCII (>= 0x80, which covers the
    multi-byte Unicode spaces). Missing values are never candidates.
    """
    out = []
    for ch in a.chunks:
        n = len(ch)
        bufs = ch.buffers()
        width = np.int64 if pa.types.is_large_string(ch.type) else np.int32
        off = np.frombuffer(bufs[1], dtype=width, count=ch.offset + n + 1)[ch.offset:] if n else \
            np.zeros(1, dtype=width)
        start, end = off[:-1], off[1:]
        cand = start == end  # empty
        if n and bufs[2] is not None and bufs[2].size:
            data = np.frombuffer(bufs[2], dtype=np.uint8)
            # an empty value's position may lie at the end: clipped (it is a candidate anyway)
            cand |= _EDGE[data.take(start, mode="clip")]
            cand |= _EDGE[data.take(end - 1, mode="clip")]
        if ch.null_count:
            cand &= ch.is_valid().to_numpy(zero_copy_only=False)
        out.append(cand)
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)


def _strip(s: pd.Series) -> pd.Series:
    """``s.str.strip()`` of a ``str`` Series; ``s`` itself when no value has surrounding whitespace.

    The whitespace test runs on the few candidate values of :func:`_edge_candidates` only.
    """
    a = getattr(s.array, "_pa_array", None)
    if a is None or not pa.types.is_large_string(a.type):
        return s.str.strip()
    cand = _edge_candidates(a)
    if cand.any():
        sub = a.filter(pa.array(cand))
        if not pc.all(pc.equal(pc.utf8_trim_whitespace(sub), sub)).as_py():
            return s.str.strip()
    return s


def _drop_rows(df: pd.DataFrame, bad: np.ndarray) -> pd.DataFrame:
    """``df.loc[~bad].copy()``; text columns as slices of their Arrow data when ``bad`` rows are few.

    Slicing does not copy the text: the kept runs of rows share the input's buffers.
    """
    keep = ~bad
    edges = np.diff(np.concatenate([[0], keep.view(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(starts) > 1000:
        return df.loc[keep].copy()
    cols = {}
    for c in df.columns:
        arr = df[c].array
        a = getattr(arr, "_pa_array", None)
        if a is not None and isinstance(df[c].dtype, pd.StringDtype):
            chunks = [ch for b, e in zip(starts, ends, strict=True) for ch in a.slice(b, e - b).chunks]
            cols[c] = df[c].dtype.__from_arrow__(pa.chunked_array(chunks, type=a.type))
        else:
            cols[c] = arr[keep]  # a boolean index copies
    return pd.DataFrame(cols, index=df.index[keep], columns=df.columns, copy=False)


def _first_duplicates(s: pd.Series, valid: np.ndarray) -> np.ndarray:
    """Valid, present rows whose value occurs in an earlier valid row (``duplicated(keep="first")``).

    Ids mostly in order (the usual export) are sorted, which costs less than hashing them: after
    Arrow's stable sort, a value equal to the one before it is a later occurrence. Other columns
    are hashed (dictionary-encoded) once.
    """
    pos = np.flatnonzero(valid & s.notna().to_numpy())
    a = getattr(s.array, "_pa_array", None)
    out = np.zeros(len(s), dtype=bool)
    if a is not None and len(pos) > 1:
        v = a if len(pos) == len(s) else a.take(pa.array(pos))
        descents = pc.sum(pc.greater(v.slice(0, len(v) - 1), v.slice(1))).as_py() or 0
        if descents <= len(v) // 100:
            order = pc.sort_indices(v).to_numpy()
            sv = v.take(pa.array(order))
            same = pc.equal(sv.slice(1), sv.slice(0, len(sv) - 1)).to_numpy(zero_copy_only=False)
            out[pos[order[1:][same]]] = True
            return out
    codes, _ = _factorized(s)
    c = np.where(valid, codes, -1)
    first = np.zeros(len(c), dtype=bool)
    first[np.unique(c, return_index=True)[1]] = True
    return (c >= 0) & ~first


def _lookup(txt: pd.Series, mapping: dict, *, folded: bool) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``txt`` found among the keys of ``mapping`` and their mapped values (vectorised).

    The keys are matched once per distinct value of ``txt``; the mapped values come back as an
    array indexed like ``txt`` (meaningful where found).
    """
    keys = [fold(k) if folded else str(k).strip() for k in mapping]
    vals = list(mapping.values())
    idx = pd.Index(keys, dtype="str")
    if not idx.is_unique:  # folded keys may coincide ("High" and "high"): the first wins
        first = ~idx.duplicated()
        keys = [k for k, f in zip(keys, first, strict=True) if f]
        vals = [v for v, f in zip(vals, first, strict=True) if f]
        idx = pd.Index(keys, dtype="str")
    codes, uniques = pd.factorize(txt, use_na_sentinel=True)
    probe = pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    if folded:
        probe = probe.str.casefold()
    ucodes = np.append(idx.get_indexer(probe), -1)  # the last entry serves missing values
    hit = ucodes[codes]
    found = hit >= 0
    table = np.asarray(vals)
    if table.dtype.kind not in "biufU":  # mixed or None values
        table = np.asarray(vals, dtype=object)
    out = table[np.where(found, hit, 0)] if len(vals) else np.empty(len(txt), dtype=object)
    return found, out


def _at(s: pd.Series | np.ndarray, where: np.ndarray) -> np.ndarray:
    """Values of ``s`` at a mask or positions, converting only those (not the whole column)."""
    if isinstance(s, pd.Series):
        return s.iloc[where].to_numpy()
    return np.asarray(s)[where]


def _arrow(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A Series as Arrow data (zero-copy for Arrow-backed strings)."""
    return pa.array(s, from_pandas=True) if not hasattr(s.array, "_pa_array") else s.array._pa_array


def _isin(s: pd.Series, values: Any) -> np.ndarray:
    """``s.isin(values)`` as a bool array, hashed in Arrow (missing values are never in)."""
    vals = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype="str")
    if isinstance(s.dtype, pd.CategoricalDtype):  # per category, spread by the codes
        cats = pd.Series(s.cat.categories.array)
        return np.append(_isin(cats, vals), False)[s.cat.codes.to_numpy()]
    if not (pd.api.types.is_string_dtype(s) and pd.api.types.is_string_dtype(vals)):
        return s.isin(vals).to_numpy(dtype=bool)
    a = _arrow(s.astype("str"))
    v = _arrow(vals.astype("str"))
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    got = pc.is_in(a, value_set=v.cast(a.type), skip_nulls=True)
    return pc.fill_null(got, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _per_distinct(fmt: Any, *columns: np.ndarray) -> np.ndarray:
    """``fmt(*values)`` for each row, evaluated once per distinct combination of the values."""
    frame = pd.DataFrame({i: c for i, c in enumerate(columns)})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame))
    texts = np.array([fmt(*u) for u in uniques] + [""], dtype=object)
    return texts[codes]


def _blank(s: pd.Series) -> np.ndarray:
    """Text that is empty or only whitespace (missing values are not blank)."""
    if isinstance(s.dtype, pd.StringDtype) and hasattr(s.array, "_pa_array"):
        a = s.array._pa_array
        got = pc.or_(pc.equal(pc.utf8_length(a), 0), pc.utf8_is_space(a))
        return pc.fill_null(got, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)
    txt = s.astype("str").str.strip()
    return (txt == "").fillna(False).to_numpy(dtype=bool)


def _as_text(v: Any) -> Any:
    """A YAML value as the text a CSV would hold (true -> 'true', 5 -> '5', null -> missing)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class _Loader:
    def __init__(self, settings: Settings, *, categorical: bool = True):
        self.settings = settings
        # hold the text columns of CATEGORICAL_TABLES as Categoricals (the Dask engine's partitions
        # keep ``str``, which its metadata declares)
        self.categorical_tables = CATEGORICAL_TABLES if categorical else ()
        # of the table being processed: its text columns held as Categoricals (always coded)
        self.categorical: set[str] = set()
        self.pending: dict[str, tuple[pd.DataFrame, str, Path | None]] = {}
        self.frames: dict[str, pd.DataFrame] = {}
        self.files: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.input_rows: dict[str, int] = {}
        self.issues: list[pd.DataFrame] = []
        self.raw_frames: dict[str, pd.DataFrame] = {}
        self.row_file: dict[str, pd.Categorical] = {}
        self.row_no: dict[str, np.ndarray] = {}
        self.unmapped: dict[str, list[str]] = {}
        self.derived: dict[str, list[tuple[pd.DataFrame, str, np.ndarray]]] = {}
        self.file_columns: dict[str, list[str]] = {}
        # per table read from a file: codes and distinct values of its dictionary-encoded columns
        self.codes: dict[str, dict[str, tuple[np.ndarray, pd.Series]]] = {}
        # of the table being processed: the columns whose rows are still their distinct values at codes
        self.coded: dict[str, tuple[np.ndarray, pd.Series]] = {}
        # of the table being processed: text columns without a value that is blank or needs trimming
        self.clean: set[str] = set()

    # --- the quality log ---------------------------------------------------------------
    def record(self, table: str, pos, column: str, values, reason: str, detail, action: str):
        """Log rows at 0-based positions ``pos`` of the table being loaded."""
        pos = np.asarray(pos, dtype=np.int64)
        if pos.size == 0:
            return
        raw = self.raw_frames.get(table)
        if raw is not None and column in raw.columns:  # show the value as it stood in the input
            values = _at(raw[column], pos)
        vals = (pd.Series(values, dtype=object).fillna("").astype(str).to_numpy() if values is not None
                else [""] * pos.size)
        self.issues.append(pd.DataFrame({
            "table": table, "file": np.asarray(self.row_file[table].take(pos), dtype=object), "row": self.row_no[table][pos],
            "column": column, "value": vals, "reason": reason, "detail": detail, "action": action,
        }))

    def note(self, table: str, column: str, reason: str, detail: str, value: str = "") -> None:
        """Log a whole-column note (row 0): a default used, a column derived, blanks kept."""
        self.issues.append(pd.DataFrame({
            "table": [table], "file": [self.files[table]], "row": [0], "column": [column], "value": [value],
            "reason": [reason], "detail": [detail], "action": ["note"]}))

    # --- input ---------------------------------------------------------------------------
    def add(self, name: str, df: pd.DataFrame, *, file: str, path: Path | None = None,
            columns: list[str] | None = None, codes: dict | None = None) -> None:
        """Queue one table; :meth:`finish` converts and checks all of them, tickets first.

        ``columns`` are all column names of the file when only some of them were read. ``codes``
        are the codes and distinct values of dictionary-encoded columns (from :func:`_read_file`):
        blanks, ``values:``, case folding, trimming and allowed values are then checked once per
        distinct value.
        """
        self.pending[name] = (df, file, path)
        self.codes[name] = {c: v for c, v in (codes or {}).items() if len(v[0]) == len(df)}
        self.file_columns[name] = [str(c) for c in (df.columns if columns is None else columns)]

    def _prepare(self, name: str, df: pd.DataFrame) -> pd.DataFrame:
        """Rename, add defaults and duration placeholders; check the required columns."""
        table = TABLES[name]
        where = self.paths[name]
        st = self.settings
        cols = self.file_columns.get(name) or [str(c) for c in df.columns]
        unread = [c for c in cols if c not in df.columns]  # pruned at reading: never used

        def need(key: str, col: str) -> bool:  # a user-named export column must exist
            return not st.is_preset_only(key, name, col)

        mapping = {k: v for k, v in st.mapping(name).items() if k in cols}
        missing_src = [k for k, v in st.mapping(name).items()
                       if k not in cols and v not in cols and need("mapping", k)]
        if missing_src:
            raise DataError(
                f"{where}: dataset.yml maps column(s) {missing_src} of table {name!r}, "
                f"but the file has no such column. Columns in the file: {cols}.",
                file=where, column=missing_src[0],
            )
        df = df.rename(columns=mapping)
        self.codes[name] = {mapping.get(c, c): v for c, v in self.codes.get(name, {}).items()}
        dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
        if dup:
            raise DataError(
                f"{where}: after the mapping of dataset.yml, table {name!r} has column(s) {dup} twice "
                f"(the file has a column of that name and a column mapped onto it). Map only one.",
                file=where, column=dup[0],
            )
        used: list[str] = []
        for key, block in (("durations", st.durations(name)), ("ratings", st.ratings(name))):
            for col, spec in block.items():
                if col in df.columns:
                    used.append(col)
                    sub = spec.get("submitted_at"), spec.get("sent_at")
                    used += [c for c in sub if c and c in df.columns and c not in table.names]
                elif need(key, col):
                    raise DataError(
                        f"{where}: dataset.yml `{key}: {{{name}: {{{col!r}: ...}}}}` names a column the "
                        f"file does not have. Columns in the file: {list(df.columns)}.",
                        file=where, column=col,
                    )
        for col, spec in st.durations(name).items():
            if col in df.columns:
                if spec["end"] in df.columns:
                    raise DataError(
                        f"{where}: {spec['end']!r} is in the file and also computed from the duration "
                        f"column {col!r} (dataset.yml `durations:`); keep one of them.",
                        file=where, column=spec["end"],
                    )
                df[spec["end"]] = pd.Series(pd.NA, index=df.index, dtype="object")
        for col, value in st.defaults(name).items():
            if col not in df.columns:
                df[col] = _as_text(value)
                self.note(name, col, "default_used", f"the export has no {col!r} column; every row gets "
                          f"the dataset.yml default {value!r}", _as_text(value) or "")
        missing = [c for c in table.required if c not in df.columns]
        if missing:
            hints = []
            for m in missing:
                lower = {str(c).lower().replace(" ", "_"): str(c) for c in [*df.columns, *unread]}
                close = difflib.get_close_matches(m, list(lower), n=1, cutoff=0.6)
                if close:
                    hints.append(f"{lower[close[0]]!r} -> {m}")
            hint = (f" Did you mean: {', '.join(hints)}? " if hints else " ")
            raise DataError(
                f"{where}: table {name!r} is missing required column(s) {missing}. "
                f"Required: {table.required}; found: {list(df.columns) + unread}.{hint}"
                f"Rename the column(s) in the export, or map them in dataset.yml under "
                f"`mapping: {{{name}: {{<your column>: <contract column>}}}}`, or give a value for "
                f"every row under `defaults: {{{name}: {{{missing[0]}: <value>}}}}`.",
                file=where, column=missing[0],
            )
        renamed = [mapping.get(c, c) for c in cols]
        self.unmapped[name] = [c for c in renamed if c not in table.names and c not in used]
        return df

    def _values(self, name: str, out: pd.DataFrame) -> None:
        """``values:`` replacements, then case-insensitive matching of categorical columns.

        Each rule is evaluated once per distinct value of the column, not per row.
        """
        table = TABLES[name]
        fold_case = bool(self.settings.raw.get("ignore_case", True))
        for col_name, mapping in self.settings.values(name).items():
            if col_name not in out.columns or not mapping:
                continue
            col = table.column(col_name)
            exact: dict[str, Any] = {}
            folded: dict[str, Any] = {}
            for k, v in mapping.items():  # keys that coincide after trimming or folding: the first wins
                exact.setdefault(str(k).strip(), _as_text(v))
                folded.setdefault(fold(k), _as_text(v))
            use_fold = fold_case and col.categorical

            hits: list[str] = []

            def rule(u: str, exact=exact, folded=folded, use_fold=use_fold, hits=hits) -> Any:
                t = u.strip()
                if t in exact or (use_fold and fold(t) in folded):
                    hits.append(u)
                    return exact[t] if t in exact else folded[fold(t)]
                return u  # no rule: the value as written

            if col_name in self.categorical:
                new_u = _map_uniques(self.coded[col_name][1], rule)
                if hits:
                    self._put(out, col_name, new_u)
                continue
            new, uniques = _map_distinct(out[col_name].astype("str"), rule, self.coded.get(col_name))
            if hits:  # a column no rule applies to keeps its dtype
                out[col_name] = new
                self._recode(col_name, uniques)
                self.clean.discard(col_name)
        if not fold_case:
            return
        for col in table.columns:
            if not col.categorical or col.name not in out.columns:
                continue
            if col.allowed:  # an allowed value in any case becomes that value; others stay trimmed
                allowed = {fold(a): a for a in reversed(col.allowed)}

                def func(u, allowed=allowed):
                    return allowed.get(fold(u), u.strip())
            else:
                func = fold
            if col.name in self.categorical:
                uniques = self.coded[col.name][1]
                new_u = _map_uniques(uniques, func)
                if not new_u.equals(uniques):
                    self._put(out, col.name, new_u)
                continue
            out[col.name], uniques = _map_distinct(out[col.name].astype("str"), func, self.coded.get(col.name))
            self._recode(col.name, uniques)
            self.clean.discard(col.name)

    def _as_categorical(self, table: Table, out: pd.DataFrame) -> None:
        """Hold the text columns of ``out`` as Categoricals of ``str``, coded (see :attr:`coded`)."""
        for col in table.columns:
            if col.dtype != "string" or col.name not in out.columns:
                continue
            s = out[col.name]
            if col.name in self.coded:  # read as a dictionary: already a Categorical of its values
                codes, uniques = self.coded[col.name]
                distinct = True
            elif isinstance(s.dtype, pd.CategoricalDtype):
                codes = s.cat.codes.to_numpy()
                uniques = pd.Series(s.cat.categories.astype("str").array, dtype="str")
                distinct = False  # other values may coincide as text (1 and "1")
            else:
                codes, uniques = _factorized(s)
                distinct = True
            self.coded[col.name] = (codes, uniques)
            self.categorical.add(col.name)
            if not (distinct and isinstance(s.dtype, pd.CategoricalDtype)):
                out[col.name] = _categorical(uniques, codes, out.index, distinct=distinct)

    def _put(self, out: pd.DataFrame, column: str, uniques: pd.Series) -> None:
        """Give a coded column new distinct values (for the same codes), as Categorical or text."""
        codes = self.coded[column][0]
        self.coded[column] = (codes, uniques)
        out[column] = (_categorical(uniques, codes, out.index) if column in self.categorical
                       else _spread(uniques, codes, out.index))
        self.clean.discard(column)

    def _recode(self, column: str, uniques: pd.Series | None) -> None:
        """New distinct values of a coded column (its codes unchanged); None: the column is not coded."""
        if uniques is None or column not in self.coded:
            self.coded.pop(column, None)
        else:
            self.coded[column] = (self.coded[column][0], uniques)

    def _coded_isin(self, column: str, s: pd.Series, values: Any) -> np.ndarray:
        """``_isin(s, values)``, per distinct value when the column is coded."""
        if column not in self.coded:
            return _isin(s, values)
        codes, uniques = self.coded[column]
        return np.append(_isin(uniques, values), False)[codes]

    def _process(self, name: str, df: pd.DataFrame, row_file: pd.Categorical, row_no: np.ndarray) -> None:
        """Convert and check one table; ``row_file``/``row_no`` label each input row for the log."""
        table = TABLES[name]
        st = self.settings
        opts = st.csv(name)
        df = df.reset_index(drop=True)
        df.index = pd.RangeIndex(len(df))  # position in the input = index
        self.row_file[name], self.row_no[name] = row_file, row_no
        self.input_rows[name] = len(df)
        keep = [c for c in df.columns if c in table.names]
        extra = [c for c in df.columns if c not in table.names]
        self.coded = self.codes.pop(name, {})
        self.clean = set()
        out = df[keep + extra]  # copy-on-write: the input frame stays as read
        self.categorical = set()
        if name in self.categorical_tables:
            self._as_categorical(table, out)
        for c in out.columns:  # blank text is a missing value, as in a CSV
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
                if c in self.coded:  # per distinct value
                    codes, uniques = self.coded[c]
                    blank_u = _blank(uniques)
                    if not blank_u.any():
                        continue
                    if c in self.categorical:
                        self._put(out, c, uniques.where(~blank_u))
                        continue
                    self._recode(c, uniques.where(~blank_u))
                    blank = np.append(blank_u, False)[codes]
                else:
                    a = getattr(out[c].array, "_pa_array", None)
                    if a is not None and pa.types.is_large_string(a.type):
                        cand = _edge_candidates(a)  # only these can be blank or need trimming
                        if not cand.any():
                            self.clean.add(c)
                            continue
                        blank = np.zeros(len(cand), dtype=bool)
                        blank[cand] = _blank(_str_series(a.filter(pa.array(cand))))
                    else:
                        blank = _blank(out[c])
                if blank.any():
                    out[c] = out[c].where(~blank)
        self._values(name, out)
        raw = out.copy(deep=False)
        self.raw_frames[name] = raw
        bad = np.zeros(len(df), dtype=bool)
        for col in table.columns:
            if col.name not in out.columns:
                continue
            conv, failed = self._convert(out[col.name], col, name, opts.get("datetime_format"))
            if failed.any():
                fpos = np.flatnonzero(failed)
                if col.required:
                    self.record(name, fpos, col.name, None, "unparseable",
                                f"expected {_EXPECT[col.dtype]}", "excluded")
                    bad |= failed
                else:
                    self.record(name, fpos, col.name, None, "unparseable",
                                f"expected {_EXPECT[col.dtype]}", "set to missing")
            out[col.name] = conv
            if col.dtype != "string":
                self.coded.pop(col.name, None)
        bad = self._durations(name, out, raw, bad)
        # blank segment values are a level of their own, not a reason to exclude the row
        for c in SEGMENT_COLUMNS.get(name, ()):
            blank = out[c].isna().to_numpy()
            if blank.any():
                out[c] = out[c].fillna(MISSING)
                self.coded.pop(c, None)
                self.note(name, c, "blank_segment", f"{int(blank.sum()):,} blank {c} value(s) kept as the "
                          f"level {MISSING}", MISSING)
        # missing required values
        for c in table.required:
            miss = out[c].isna().to_numpy() & ~bad
            if miss.any():
                self.record(name, np.flatnonzero(miss), c, None, "missing_required",
                            f"{c} is required", "excluded")
                bad |= miss
        # allowed values
        for col in table.columns:
            if col.allowed and col.name in out.columns:
                v = out[col.name]
                wrong = v.notna().to_numpy() & ~self._coded_isin(col.name, v, col.allowed) & ~bad
                if wrong.any():
                    action = "excluded" if col.required else "set to missing"
                    self.record(name, np.flatnonzero(wrong), col.name, _at(v, wrong), "unknown_value",
                                f"allowed: {', '.join(col.allowed)}", action)
                    if col.required:
                        bad |= wrong
                    else:
                        out.loc[wrong, col.name] = pd.NA
                        self.coded.pop(col.name, None)
        # non-negative: a required value excludes the row, an optional one is set to missing
        for col in table.columns:
            if col.nonnegative and col.name in out.columns:
                neg = (out[col.name] < 0).fillna(False).to_numpy(dtype=bool) & ~bad
                if neg.any():
                    reason = "negative_duration" if col.name.endswith("_s") else "negative_value"
                    action = "excluded" if col.required else "set to missing"
                    self.record(name, np.flatnonzero(neg), col.name, _at(out[col.name], neg), reason,
                                f"{col.name} must be >= 0", action)
                    if col.required:
                        bad |= neg
                    else:
                        out.loc[neg, col.name] = pd.NA
        self._table_checks(name, out, bad)
        if name == "tickets":
            self._one_solved_timestamp(out)
        self.frames[name] = out

    def _durations(self, name: str, out: pd.DataFrame, raw: pd.DataFrame, bad: np.ndarray) -> np.ndarray:
        """``durations:``: end = start + elapsed time; empty stays empty (not reached yet)."""
        for col, spec in self.settings.durations(name).items():
            if col not in out.columns:
                continue
            end, start = spec["end"], spec["start"]
            unit = spec.get("unit", "seconds")
            txt = out[col]
            present = txt.notna().to_numpy()
            num = pd.to_numeric(txt, errors="coerce").astype("float64")
            failed = present & num.isna().to_numpy()
            self.record(name, np.flatnonzero(failed), col, None, "unparseable",
                        f"expected a number of {unit} (durations: {col!r} -> {end})", "set to missing")
            neg = (num < 0).fillna(False).to_numpy(dtype=bool)
            self.record(name, np.flatnonzero(neg & ~bad), col, None, "negative_duration",
                        f"{col!r} must be >= 0 (durations: -> {end})", "set to missing")
            num = num.where(~neg)
            nostart = num.notna().to_numpy() & out[start].isna().to_numpy() & ~bad
            self.record(name, np.flatnonzero(nostart), col, None, "no_start",
                        f"{start} is empty, so {end} cannot be computed", "set to missing")
            seconds = num.to_numpy() * DURATION_UNITS[unit]
            out[end] = (out[start] + pd.to_timedelta(seconds, unit="s")).dt.as_unit("ns")
            if TABLES[name].column(end).required:
                bad = bad | (failed | neg)
        return bad

    def _one_solved_timestamp(self, out: pd.DataFrame) -> None:
        """Only one of first_resolved_at and resolved_at in the export: the other equals it."""
        have = {c: c in out.columns and out[c].notna().any() for c in ("first_resolved_at", "resolved_at")}
        if have["first_resolved_at"] == have["resolved_at"]:
            return
        src, dst = ("resolved_at", "first_resolved_at") if have["resolved_at"] else \
            ("first_resolved_at", "resolved_at")
        out[dst] = out[src]
        self.note("tickets", dst, "derived_column",
                  f"the export has only one solved timestamp: {dst} is taken equal to {src}", src)

    def _table_checks(self, name: str, out: pd.DataFrame, bad: np.ndarray) -> None:
        # time order within a row: an optional end before the start loses just that value
        order = {
            "tickets": ("created_at", ["first_response_at", "first_resolved_at", "resolved_at"],
                        "resolved_before_created"),
            "contacts": ("queued_at", ["answered_at", "ended_at"], "negative_duration"),
        }
        if name in order:
            start, ends, reason = order[name]
            for e in ends:
                if e in out.columns:
                    wrong = (out[e] < out[start]).fillna(False).to_numpy(dtype=bool) & ~bad
                    if wrong.any():
                        required = TABLES[name].column(e).required
                        self.record(name, np.flatnonzero(wrong), e, _at(out[e], wrong), reason,
                                    f"{e} lies before {start}", "excluded" if required else "set to missing")
                        if required:
                            bad |= wrong
                        else:
                            out.loc[wrong, e] = pd.NaT
        if name == "surveys":
            bad = self._survey_scales(out, bad)
        # duplicate keys: the later occurrence is excluded
        key = TABLES[name].key
        if key:
            dup = _first_duplicates(out[key], ~bad)
            if dup.any():
                self.record(name, np.flatnonzero(dup), key, _at(out[key], dup), "duplicate_id",
                            f"{key} occurs earlier in the input; the first occurrence is kept", "excluded")
                bad |= dup
        out.attrs["_bad"] = bad

    def _survey_scales(self, out: pd.DataFrame, bad: np.ndarray) -> np.ndarray:
        """Survey scores on their declared scale, and on one of its points when it has a step."""
        name = "surveys"
        lo = pd.Series(np.nan, index=out.index)
        hi = pd.Series(np.nan, index=out.index)
        step = pd.Series(np.nan, index=out.index)
        codes, kinds = self.coded.get("survey") or _factorized(out["survey"])
        kinds = kinds.str.casefold()  # per distinct value
        for kind, spec in self.settings.raw["surveys"].items():
            m = np.append((kinds == fold(kind)).fillna(False).to_numpy(dtype=bool), False)[codes]
            lo[m], hi[m] = spec["min"], spec["max"]
            if spec.get("step") is not None:
                step[m] = float(spec["step"])
        if "scale" in out.columns:
            codes, scales = _factorized(out["scale"])  # each distinct scale read once
            sc = scales.str.extract(r"^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$")
            a = np.append(sc[0].astype(float).to_numpy(), np.nan)[codes]
            b = np.append(sc[1].astype(float).to_numpy(), np.nan)[codes]
            has = ~np.isnan(a)
            lo[has] = a[has]
            hi[has] = b[has]
        nodecl = (lo.isna() & out["survey"].notna()).to_numpy() & ~bad
        if nodecl.any():
            self.record(name, np.flatnonzero(nodecl), "survey", _at(out["survey"], nodecl),
                        "unknown_value", "no scale declared for this survey in dataset.yml `surveys:`",
                        "excluded")
            bad |= nodecl
        score = out["score"]
        wrong = ((score < lo) | (score > hi)).fillna(False).to_numpy(dtype=bool) & ~bad
        if wrong.any():
            det = _per_distinct(lambda k, a, b: f"{k} scale is {a:g}-{b:g}",
                                _at(out["survey"], wrong), _at(lo, wrong), _at(hi, wrong))
            self.record(name, np.flatnonzero(wrong), "score", None, "out_of_scale", det, "excluded")
            bad |= wrong
        k = (score - lo) / step
        off = ((k - k.round()).abs() > 1e-9).fillna(False).to_numpy(dtype=bool) & ~bad
        if off.any():
            det = _per_distinct(lambda k, a, b, d: f"{k} scale is {a:g}-{b:g} in steps of {d:g}",
                                _at(out["survey"], off), _at(lo, off), _at(hi, off), _at(step, off))
            self.record(name, np.flatnonzero(off), "score", None, "not_on_scale_step", det, "excluded")
            bad |= off
        return bad

    def _convert(self, s: pd.Series, col: Column, table: str,
                 datetime_format: str | None = None) -> tuple[pd.Series, np.ndarray]:
        """Convert one column; return converted values and a mask of values that failed."""
        present = s.notna().to_numpy()
        if col.dtype == "string" and col.name in self.categorical:  # trimmed per distinct value
            codes, uniques = self.coded[col.name]
            trimmed = uniques.str.strip()
            if trimmed.equals(uniques):
                return s, np.zeros(len(s), bool)
            self._recode(col.name, trimmed)
            return _categorical(trimmed, codes, s.index), np.zeros(len(s), bool)
        if col.dtype == "string":
            conv = s.astype("str")
            if not present.all() and not pd.api.types.is_string_dtype(s):
                conv = conv.where(present, other=None)
            if col.name in self.coded:  # trimmed per distinct value
                codes, uniques = self.coded[col.name]
                trimmed = uniques.str.strip()
                if not trimmed.equals(uniques):
                    self._recode(col.name, trimmed)
                    conv = _spread(trimmed, codes, s.index)
            elif col.name not in self.clean:
                conv = _strip(conv)
            return conv, np.zeros(len(s), bool)
        if col.dtype == "timestamp":
            conv = parse_timestamps(s, timezone=self.settings.timezone, datetime_format=datetime_format)
        elif col.dtype == "date":
            if pd.api.types.is_datetime64_any_dtype(s):
                conv = s.dt.tz_localize(None) if s.dt.tz is not None else s
            else:
                conv = _per_value(s, lambda u: pd.to_datetime(u.str.strip(), errors="coerce", format="ISO8601"))
            conv = conv.dt.normalize().astype("datetime64[ns]")
        elif col.dtype == "month":
            if isinstance(s.dtype, pd.PeriodDtype):
                conv = s.astype("period[M]")
            else:
                d = _per_value(s, lambda u: pd.to_datetime(u.str.strip(), errors="coerce", format="ISO8601")) \
                    if not pd.api.types.is_datetime64_any_dtype(s) else s
                if getattr(d.dt, "tz", None) is not None:
                    d = d.dt.tz_localize(None)
                conv = d.dt.to_period("M")
        elif col.dtype in ("float", "int"):
            conv = None
            if pd.api.types.is_string_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
                try:  # every value a plain number: Arrow reads them at once
                    conv = pd.Series(pc.cast(_arrow(s.astype("str")), pa.float64()).to_numpy(zero_copy_only=False),
                                     index=s.index)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    conv = None
            if conv is None:
                conv = pd.to_numeric(s, errors="coerce")
            if col.dtype == "int":
                nonint = (conv.notna() & (conv != np.floor(conv))).to_numpy()
                conv = conv.where(~nonint)
                conv = conv.round().astype("Int64")
            else:
                conv = conv.astype("float64")
        elif col.dtype == "bool":
            if pd.api.types.is_bool_dtype(s):
                conv = s.astype("boolean")
            else:
                low = s.astype("str").str.strip().str.lower()
                conv = pd.Series(pd.NA, index=s.index, dtype="boolean")
                conv[_isin(low, _TRUE)] = True
                conv[_isin(low, _FALSE)] = False
        else:  # pragma: no cover - guarded by Column
            raise TypeError(col.dtype)
        failed = present & conv.isna().to_numpy()
        n_present = int(present.sum())
        n_failed = int(failed.sum())
        if n_failed and (n_failed == n_present or (n_failed > 10 and n_failed > 0.5 * n_present)):
            pos = np.flatnonzero(failed)
            fix = ""
            if col.dtype == "timestamp":
                fix = (f" If the export writes another format, declare it in dataset.yml, e.g. "
                       f"`csv: {{{table}: {{datetime_format: '%m/%d/%Y %I:%M %p'}}}}` (strptime codes).")
            raise DataError(
                f"{self.paths[table]}: column {col.name!r} of table {table!r} cannot be read as "
                f"{col.dtype}: {n_failed:,} of {n_present:,} values fail, first "
                f"{_rows_text(self.row_no[table][pos], _at(s, pos))} (data rows, header not counted). "
                f"Expected {_EXPECT[col.dtype]}.{fix} Fix the export's format for this column, or map "
                f"the right column onto {col.name!r} in dataset.yml `mapping:`.",
                file=self.paths[table], column=col.name, rows=list(self.row_no[table][pos[:_MAX_SHOWN]]),
            )
        return conv, failed

    # --- ratings: a ticket column -> surveys and survey_sends --------------------------
    def _ratings(self) -> None:
        t = self.frames.get("tickets")
        if t is None:
            return
        raw = self.raw_frames["tickets"]
        keep = ~t.attrs["_bad"]
        for col, spec in self.settings.ratings("tickets").items():
            if col not in raw.columns:
                continue
            survey = fold(spec["survey"])
            label = f"{self.files['tickets']} (ratings: {col})"
            txt = raw[col].astype("str").str.strip().where(raw[col].notna())
            found, score = _lookup(txt, spec["scores"], folded=True)
            offered, _ = _lookup(txt, {v: 1 for v in spec.get("offered", [])}, folded=True)
            unoffered, _ = _lookup(txt, {v: 1 for v in spec.get("not_offered", [])}, folded=True)
            offered &= ~found
            present = txt.notna().to_numpy()
            unknown = present & ~found & ~offered & ~unoffered & keep
            known = [*spec["scores"], *spec.get("offered", []), *spec.get("not_offered", [])]
            self.record("tickets", np.flatnonzero(unknown), col, None, "unknown_value",
                        f"rating value not in ratings.tickets.{col!r} ({', '.join(map(str, known))})",
                        "set to missing")

            submitted = self._rating_time(t, raw, col, "submitted_at", spec.get("submitted_at") or "resolved_at")
            sent = self._rating_time(t, raw, col, "sent_at",
                                     spec.get("sent_at") or spec.get("submitted_at") or "resolved_at")

            def iso(ts: pd.Series) -> np.ndarray:
                return ts.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").to_numpy()

            def ticket_col(c: str, m: np.ndarray) -> Any:
                if c not in t.columns:
                    return None
                v = _at(t[c], m)
                return pd.Series(v, dtype=object).where(pd.Series(v, dtype=object) != MISSING).to_numpy()

            rows = np.asarray(self.row_no["tickets"])
            m = found & keep
            answers = pd.DataFrame({
                "response_id": (survey + ":" + t["ticket_id"].astype("str")).to_numpy()[m],
                "survey": survey, "score": pd.Series(score[m], dtype=object).astype("str").to_numpy(),
                "submitted_at": iso(submitted)[m], "ticket_id": _at(t["ticket_id"], m)})
            for c in ("customer_id", "agent_id", "channel"):
                v = ticket_col(c, m)
                if v is not None:
                    answers[c] = v
            self.derived.setdefault("surveys", []).append((answers, label, rows[m]))
            s = (found | offered) & keep
            sends = pd.DataFrame({"survey": survey, "sent_at": iso(sent)[s], "ticket_id": _at(t["ticket_id"], s)})
            v = ticket_col("customer_id", s)
            if v is not None:
                sends["customer_id"] = v
            self.derived.setdefault("survey_sends", []).append((sends, label, rows[s]))

    def _rating_time(self, t: pd.DataFrame, raw: pd.DataFrame, col: str, key: str, c: str) -> pd.Series:
        """The timestamp of derived survey rows: a ticket timestamp column or another export column."""
        if c in TABLES["tickets"].names and c in t.columns and TABLES["tickets"].column(c).dtype == "timestamp":
            return t[c]
        if c in raw.columns and c not in TABLES["tickets"].names:
            return parse_timestamps(raw[c], timezone=self.settings.timezone,
                                    datetime_format=self.settings.csv("tickets").get("datetime_format"))
        raise DataError(
            f"{self.paths['tickets']}: dataset.yml ratings.tickets.{col!r}.{key} is {c!r}, which is neither a "
            f"timestamp column of tickets nor a column of the file; name one, e.g. `{key}: resolved_at`.",
            file=self.paths["tickets"], column=c)

    # --- all tables ----------------------------------------------------------------------
    def finish(self, *, path: Path | None, truth: dict | None) -> Dataset:
        for name in TABLES:  # contract order: tickets first, so ratings can add survey rows
            parts = []
            if name in self.pending:
                df, file, fpath = self.pending.pop(name)
                self.files[name] = file
                self.paths[name] = str(fpath) if fpath else file
                df = self._prepare(name, df)
                parts.append((df, file, np.arange(1, len(df) + 1)))
            for df, label, rows in self.derived.get(name, []):
                if name not in self.files:
                    self.files[name] = label
                    self.paths[name] = label
                    self.unmapped[name] = []
                elif label not in self.files[name]:
                    self.files[name] = f"{self.files[name]} + {label}"
                parts.append((df, label, np.asarray(rows, dtype=np.int64)))
            if not parts:
                continue
            labels = list(dict.fromkeys(p[1] for p in parts))
            codes = np.repeat(np.array([labels.index(p[1]) for p in parts], dtype=np.int32),
                              [len(p[0]) for p in parts])
            rf = pd.Categorical.from_codes(codes, categories=labels)  # file of each row, one label per file
            if len(parts) == 1:
                df, rn = parts[0][0], parts[0][2]
            else:
                self.codes.pop(name, None)  # the codes are those of the file's rows only
                df = pd.concat([p[0].astype(object) for p in parts], ignore_index=True)
                rn = np.concatenate([p[2] for p in parts])
            self._process(name, df, rf, np.asarray(rn, dtype=np.int64))
            del df, parts
            _release()
            if name == "tickets":
                self._ratings()
        # events for unknown or excluded tickets
        if "ticket_events" in self.frames:
            ev = self.frames["ticket_events"]
            bad = ev.attrs["_bad"]
            if "tickets" in self.frames:
                t = self.frames["tickets"]
                tb = t.attrs["_bad"]
                all_ids = t["ticket_id"]
                in_all = _isin(ev["ticket_id"], all_ids)
                unknown = ~in_all & ~bad
                # ids of excluded tickets that no kept ticket has: few, so only these are looked up
                gone = all_ids[tb]
                gone = gone[~_isin(gone, all_ids[~tb])]
                parent = (in_all & _isin(ev["ticket_id"], gone) & ~bad if len(gone)
                          else np.zeros(len(ev), dtype=bool))
                self.record("ticket_events", np.flatnonzero(unknown), "ticket_id",
                            _at(ev["ticket_id"], unknown), "unknown_ticket",
                            "ticket_id not found in tickets", "excluded")
                self.record("ticket_events", np.flatnonzero(parent), "ticket_id",
                            _at(ev["ticket_id"], parent), "parent_excluded",
                            "the ticket was excluded (see its own row in this log)", "excluded")
                ev.attrs["_bad"] = bad | unknown | parent
        # the last row is logged: the input values kept for the log are no longer needed, and each
        # frame is let go as soon as its kept rows are taken (not all originals beside all copies)
        self.raw_frames.clear()
        ev = t = all_ids = gone = None  # noqa: F841 - references to frames released
        tables = {}
        for name in list(self.frames):
            df = self.frames.pop(name)
            bad = df.attrs.pop("_bad")
            kept = _drop_rows(df, bad) if bad.any() else df  # the loader's own frame: no copy needed
            kept.attrs = {}
            tables[name] = kept
            del df
            _release()
        quality = (pd.concat(self.issues, ignore_index=True) if self.issues
                   else pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "str")
                                      for c in QUALITY_COLUMNS}))
        quality = quality[QUALITY_COLUMNS].sort_values(["table", "row", "column"], kind="stable",
                                                       ignore_index=True)
        quality["row"] = quality["row"].astype("int64")
        for c in ("table", "file", "column", "value", "reason", "detail", "action"):
            quality[c] = quality[c].astype("str")
        self.raw_frames.clear()
        return Dataset(tables=tables, settings=self.settings, quality=quality, path=path,
                       files=self.files, truth=truth, input_rows=self.input_rows, unmapped=self.unmapped)


def table_spec(name: str) -> Table:
    """The contract of one table (see :mod:`kpitools.schema`)."""
    return TABLES[name]
