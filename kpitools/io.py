"""Loading and validating a dataset: folder of tables -> :class:`Dataset`.

The loader never drops a row silently. A table that cannot be used at all raises
:class:`DataError` naming the file, the column, the first offending rows, what was expected
and how to fix it. Single bad rows are excluded (or, for an optional value, repaired by
setting it to missing) and recorded in :attr:`Dataset.quality`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpitools.schema import REASONS, TABLES, Column, Table
from kpitools.settings import Settings

__all__ = ["Dataset", "DataError", "load_dataset", "QUALITY_COLUMNS", "SUFFIXES"]

SUFFIXES = (".csv", ".csv.gz", ".parquet")
QUALITY_COLUMNS = ["table", "file", "row", "column", "value", "reason", "detail", "action"]
_MAX_SHOWN = 5
_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


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
    "timestamp": "ISO 8601 timestamps such as 2026-10-31T23:30:00Z, 2026-10-31T23:30:00+01:00 "
                 "or 2026-10-31 23:30:00 (naive values are read in the dataset timezone)",
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
        detail, action (``excluded`` or ``set to missing``).
    path : Path or None
        The folder it was read from.
    files : dict of str -> str
        File name each table came from.
    truth : dict or None
        ``truth.json`` of a synthetic dataset (planted effects and dirty rows), if present.
    """

    tables: dict[str, pd.DataFrame]
    settings: Settings
    quality: pd.DataFrame
    path: Path | None = None
    files: dict[str, str] = field(default_factory=dict)
    truth: dict | None = None
    input_rows: dict[str, int] = field(default_factory=dict)
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
        """One row per table: file, rows read, rows kept, rows excluded, rows repaired, first and last timestamp."""
        out = []
        q = self.quality
        for name, df in self.tables.items():
            tq = q[q["table"] == name]
            ts_cols = [c.name for c in TABLES[name].columns if c.dtype in ("timestamp", "date")]
            first = last = pd.NaT
            if ts_cols and len(df):
                col = df[ts_cols[0]]
                first, last = col.min(), col.max()
            out.append({
                "table": name,
                "file": self.files.get(name, ""),
                "rows_read": self.input_rows.get(name, len(df)),
                "rows": len(df),
                "excluded": int(tq.loc[tq["action"] == "excluded", "row"].nunique()),
                "repaired": int((tq["action"] != "excluded").sum()),
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


def _read_file(path: Path, settings: Settings) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise DataError(
            f"{path}: the file is empty (0 bytes). Expected a header line with the column names "
            "and one row per record; re-export it, or delete the file if you have no such data.",
            file=str(path),
        )
    if path.name.endswith(".parquet"):
        try:
            return pd.read_parquet(path)
        except Exception as e:  # pyarrow raises many types for a broken file
            raise DataError(f"{path}: cannot be read as Parquet ({e}). Re-export the file.",
                            file=str(path)) from None
    csv = settings.raw.get("csv") or {}
    sep = csv.get("sep", ",")
    encoding = csv.get("encoding", "utf-8")
    try:
        df = pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False,
                         na_values=[""], skipinitialspace=False)
    except UnicodeDecodeError as e:
        raise DataError(
            f"{path}: the file is not {encoding} text (byte {e.start} cannot be decoded: {e.reason}). "
            "Save the export as UTF-8, or declare its encoding in dataset.yml, e.g. "
            "`csv: {encoding: latin-1}`.",
            file=str(path),
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file has no header line. Expected comma-separated values whose first "
            "line names the columns.",
            file=str(path),
        ) from None
    except pd.errors.ParserError as e:
        raise DataError(
            f"{path}: not valid CSV ({e}). Check the delimiter (dataset.yml `csv: {{sep: ';'}}`) "
            "and quoting of text that contains the delimiter.",
            file=str(path),
        ) from None
    if df.shape[1] == 1:
        header = str(df.columns[0])
        for cand, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if cand in header and cand != sep:
                raise DataError(
                    f"{path}: the file looks {label}-separated (header {header[:80]!r}) but "
                    f"kpitools was told the delimiter is {sep!r}. Re-export as comma-separated "
                    f"CSV, or add to dataset.yml: `csv: {{sep: {cand!r}}}`.",
                    file=str(path),
                )
    df.columns = [str(c).strip() for c in df.columns]
    return df


def load_dataset(path: str | Path = "data/sample", *, settings: Settings | dict | None = None) -> Dataset:
    """Read, convert and validate a folder of customer-service tables.

    Parameters
    ----------
    path : str or Path
        Folder with files named after the contract tables (``tickets.csv``, ``surveys.parquet``,
        ``contacts.csv.gz`` ...) and optionally ``dataset.yml`` and ``truth.json``.
    settings : Settings or dict, optional
        Overrides ``dataset.yml``.

    Returns
    -------
    Dataset
        Tables in contract dtypes, settings, and the quality log of excluded/repaired rows.

    Raises
    ------
    DataError
        A table is unusable (missing required column, empty file, wrong delimiter or encoding,
        unparseable column). The message names the file, column, first rows and the fix.

    Examples
    --------
    >>> ds = load_dataset("data/sample")       # doctest: +SKIP
    >>> ds.tickets.shape, ds.quality.shape     # doctest: +SKIP
    """
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
            loader.add(name, _read_file(f, settings), file=f.name, path=f)
    if not loader.frames:
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
# Conversion and checks
# ------------------------------------------------------------------------------------
class _Loader:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.frames: dict[str, pd.DataFrame] = {}
        self.files: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.input_rows: dict[str, int] = {}
        self.issues: list[pd.DataFrame] = []
        self.raw_frames: dict[str, pd.DataFrame] = {}

    # record rows: positions are 0-based positions in the input file's data rows
    def record(self, table: str, pos, column: str, values, reason: str, detail: str, action: str):
        pos = np.asarray(pos)
        if pos.size == 0:
            return
        raw = self.raw_frames.get(table)
        if raw is not None and column in raw.columns:  # show the value as it stood in the input
            values = raw[column].to_numpy()[pos]
        vals = (pd.Series(values, dtype=object).fillna("").astype(str).to_numpy() if values is not None
                else [""] * pos.size)
        self.issues.append(pd.DataFrame({
            "table": table, "file": self.files[table], "row": pos + 1, "column": column,
            "value": vals, "reason": reason, "detail": detail, "action": action,
        }))

    def add(self, name: str, df: pd.DataFrame, *, file: str, path: Path | None = None) -> None:
        table = TABLES[name]
        self.files[name] = file
        self.paths[name] = str(path) if path else file
        mapping = self.settings.mapping(name)
        if mapping:
            missing_src = [k for k in mapping if k not in df.columns and mapping[k] not in df.columns]
            if missing_src:
                raise DataError(
                    f"{self.paths[name]}: dataset.yml maps column(s) {missing_src} of table {name!r}, "
                    f"but the file has no such column. Columns in the file: {list(df.columns)}.",
                    file=self.paths[name], column=missing_src[0],
                )
            df = df.rename(columns=mapping)
        missing = [c for c in table.required if c not in df.columns]
        if missing:
            hints = []
            for m in missing:
                lower = {str(c).lower().replace(" ", "_"): str(c) for c in df.columns}
                close = difflib.get_close_matches(m, list(lower), n=1, cutoff=0.6)
                if close:
                    hints.append(f"{lower[close[0]]!r} -> {m}")
            hint = (f" Did you mean: {', '.join(hints)}? " if hints else " ")
            raise DataError(
                f"{self.paths[name]}: table {name!r} is missing required column(s) {missing}. "
                f"Required: {table.required}; found: {list(df.columns)}.{hint}"
                f"Rename the column(s) in the export, or map them in dataset.yml under "
                f"`mapping: {{{name}: {{<your column>: <contract column>}}}}`.",
                file=self.paths[name], column=missing[0],
            )
        self.input_rows[name] = len(df)
        df = df.reset_index(drop=True)
        df.index = pd.RangeIndex(len(df))  # position in file = index
        keep = [c for c in df.columns if c in table.names]
        extra = [c for c in df.columns if c not in table.names]
        out = df[keep + extra].copy()
        for c in out.columns:  # blank text is a missing value, as in a CSV
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
                txt = out[c].astype("str").str.strip()
                out[c] = out[c].where(~(txt == "").fillna(False).to_numpy(dtype=bool))
        raw = out.copy()
        self.raw_frames[name] = raw
        bad = np.zeros(len(df), dtype=bool)
        for col in table.columns:
            if col.name not in out.columns:
                continue
            conv, failed = self._convert(out[col.name], col, name)
            if failed.any():
                fpos = np.flatnonzero(failed)
                if col.required:
                    self.record(name, fpos, col.name, raw[col.name].to_numpy()[fpos], "unparseable",
                                f"expected {_EXPECT[col.dtype]}", "excluded")
                    bad |= failed
                else:
                    self.record(name, fpos, col.name, raw[col.name].to_numpy()[fpos], "unparseable",
                                f"expected {_EXPECT[col.dtype]}", "set to missing")
            out[col.name] = conv
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
                wrong = (v.notna() & ~v.isin(col.allowed)).to_numpy() & ~bad
                if wrong.any():
                    action = "excluded" if col.required else "set to missing"
                    self.record(name, np.flatnonzero(wrong), col.name, v.to_numpy()[wrong], "unknown_value",
                                f"allowed: {', '.join(col.allowed)}", action)
                    if col.required:
                        bad |= wrong
                    else:
                        out.loc[wrong, col.name] = pd.NA
        # non-negative
        for col in table.columns:
            if col.nonnegative and col.name in out.columns:
                neg = (out[col.name] < 0).fillna(False).to_numpy(dtype=bool) & ~bad
                if neg.any():
                    reason = "negative_duration" if col.name.endswith("_s") else "negative_value"
                    self.record(name, np.flatnonzero(neg), col.name, out[col.name].to_numpy()[neg], reason,
                                f"{col.name} must be >= 0", "excluded")
                    bad |= neg
        self._table_checks(name, out, bad)
        self.frames[name] = out

    def _table_checks(self, name: str, out: pd.DataFrame, bad: np.ndarray) -> None:
        # time order within a row
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
                        self.record(name, np.flatnonzero(wrong), e, out[e].to_numpy()[wrong], reason,
                                    f"{e} lies before {start}", "excluded")
                        bad |= wrong
        # survey scores on their declared scale
        if name == "surveys":
            lo = pd.Series(np.nan, index=out.index)
            hi = pd.Series(np.nan, index=out.index)
            for kind, spec in self.settings.raw["surveys"].items():
                m = (out["survey"] == kind).to_numpy()
                lo[m], hi[m] = spec["min"], spec["max"]
            if "scale" in out.columns:
                sc = out["scale"].astype("str").str.extract(r"^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$")
                has = sc[0].notna().to_numpy()
                lo[has] = sc.loc[has, 0].astype(float)
                hi[has] = sc.loc[has, 1].astype(float)
            nodecl = (lo.isna() & out["survey"].notna()).to_numpy() & ~bad
            if nodecl.any():
                self.record(name, np.flatnonzero(nodecl), "survey", out["survey"].to_numpy()[nodecl],
                            "unknown_value", "no scale declared for this survey in dataset.yml `surveys:`",
                            "excluded")
                bad |= nodecl
            wrong = ((out["score"] < lo) | (out["score"] > hi)).fillna(False).to_numpy(dtype=bool) & ~bad
            if wrong.any():
                det = [f"{k} scale is {a:g}-{b:g}" for k, a, b in zip(out["survey"].to_numpy()[wrong],
                                                                   lo.to_numpy()[wrong], hi.to_numpy()[wrong], strict=True)]
                self.issues.append(pd.DataFrame({
                    "table": name, "file": self.files[name], "row": np.flatnonzero(wrong) + 1,
                    "column": "score", "value": self.raw_frames[name]["score"].astype("str").to_numpy()[wrong],
                    "reason": "out_of_scale", "detail": det, "action": "excluded"}))
                bad |= wrong
        # duplicate keys: the later occurrence is excluded
        key = TABLES[name].key
        if key:
            valid = ~bad
            dup = out[key].where(valid).duplicated(keep="first").to_numpy() & valid & out[key].notna().to_numpy()
            if dup.any():
                self.record(name, np.flatnonzero(dup), key, out[key].to_numpy()[dup], "duplicate_id",
                            f"{key} occurs earlier in the file; the first occurrence is kept", "excluded")
                bad |= dup
        out.attrs["_bad"] = bad

    def _convert(self, s: pd.Series, col: Column, table: str) -> tuple[pd.Series, np.ndarray]:
        """Convert one column; return converted values and a mask of values that failed."""
        present = s.notna().to_numpy()
        if col.dtype == "string":
            conv = s.astype("str")
            conv = conv.where(present, other=None) if not present.all() else conv
            conv = conv.str.strip()
            return conv, np.zeros(len(s), bool)
        if col.dtype == "timestamp":
            conv = self._timestamps(s)
        elif col.dtype == "date":
            if pd.api.types.is_datetime64_any_dtype(s):
                conv = s.dt.tz_localize(None) if s.dt.tz is not None else s
            else:
                conv = pd.to_datetime(s.astype("str").str.strip(), errors="coerce", format="ISO8601")
            conv = conv.dt.normalize().astype("datetime64[ns]")
        elif col.dtype == "month":
            if isinstance(s.dtype, pd.PeriodDtype):
                conv = s.astype("period[M]")
            else:
                d = pd.to_datetime(s.astype("str").str.strip(), errors="coerce", format="ISO8601") \
                    if not pd.api.types.is_datetime64_any_dtype(s) else s
                if getattr(d.dt, "tz", None) is not None:
                    d = d.dt.tz_localize(None)
                conv = d.dt.to_period("M")
        elif col.dtype in ("float", "int"):
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
                conv[low.isin(_TRUE).to_numpy()] = True
                conv[low.isin(_FALSE).to_numpy()] = False
        else:  # pragma: no cover - guarded by Column
            raise TypeError(col.dtype)
        failed = present & conv.isna().to_numpy()
        n_present = int(present.sum())
        n_failed = int(failed.sum())
        if n_failed and (n_failed == n_present or (n_failed > 10 and n_failed > 0.5 * n_present)):
            pos = np.flatnonzero(failed)
            raise DataError(
                f"{self.paths[table]}: column {col.name!r} of table {table!r} cannot be read as "
                f"{col.dtype}: {n_failed:,} of {n_present:,} values fail, first "
                f"{_rows_text(pos + 1, s.to_numpy()[pos])} (data rows, header not counted). "
                f"Expected {_EXPECT[col.dtype]}. Fix the export's format for this column, or map "
                f"the right column onto {col.name!r} in dataset.yml `mapping:`.",
                file=self.paths[table], column=col.name, rows=list(pos[:_MAX_SHOWN] + 1),
            )
        return conv, failed

    def _timestamps(self, s: pd.Series) -> pd.Series:
        tz = self.settings.timezone
        if pd.api.types.is_datetime64_any_dtype(s):
            out = s if s.dt.tz is not None else s.dt.tz_localize(
                tz, ambiguous=np.ones(len(s), bool), nonexistent="shift_forward")
            return out.dt.tz_convert("UTC").dt.as_unit("ns")
        txt = s.astype("str").str.strip()
        has_off = txt.str.contains(_OFFSET, na=False).to_numpy()
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
        if has_off.any():
            out[has_off] = pd.to_datetime(txt[has_off], errors="coerce", utc=True,
                                          format="ISO8601").dt.as_unit("ns")
        naive = ~has_off & s.notna().to_numpy()
        if naive.any():
            loc = pd.to_datetime(txt[naive], errors="coerce", format="ISO8601")
            loc = loc.dt.tz_localize(tz, ambiguous=np.ones(int(naive.sum()), bool),
                                     nonexistent="shift_forward")
            out[naive] = loc.dt.tz_convert("UTC").dt.as_unit("ns")
        return out

    def finish(self, *, path: Path | None, truth: dict | None) -> Dataset:
        # events for unknown or excluded tickets
        if "ticket_events" in self.frames:
            ev = self.frames["ticket_events"]
            bad = ev.attrs["_bad"]
            if "tickets" in self.frames:
                t = self.frames["tickets"]
                tb = t.attrs["_bad"]
                kept_ids = t.loc[~tb, "ticket_id"]
                all_ids = t["ticket_id"]
                unknown = (~ev["ticket_id"].isin(all_ids)).to_numpy() & ~bad
                parent = (ev["ticket_id"].isin(all_ids) & ~ev["ticket_id"].isin(kept_ids)).to_numpy() & ~bad
                self.record("ticket_events", np.flatnonzero(unknown), "ticket_id",
                            ev["ticket_id"].to_numpy()[unknown], "unknown_ticket",
                            "ticket_id not found in tickets", "excluded")
                self.record("ticket_events", np.flatnonzero(parent), "ticket_id",
                            ev["ticket_id"].to_numpy()[parent], "parent_excluded",
                            "the ticket was excluded (see its own row in this log)", "excluded")
                ev.attrs["_bad"] = bad | unknown | parent
        tables = {}
        for name, df in self.frames.items():
            bad = df.attrs.pop("_bad")
            kept = df.loc[~bad].copy()
            kept.attrs = {}
            tables[name] = kept
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
                       files=self.files, truth=truth, input_rows=self.input_rows)


def table_spec(name: str) -> Table:
    """The contract of one table (see :mod:`kpitools.schema`)."""
    return TABLES[name]
