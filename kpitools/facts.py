"""Typed facts per main table, built once per dataset and shared by every KPI (issue 8).

``kpitools.facts.of(ds)`` returns the dataset's :class:`Facts`, created on first use and kept on
the Dataset object. Each fact is computed on first request and cached, so that the KPIs of one
``kpi_table`` call derive rows, segments, periods and ticket-event facts once, not once per KPI:

- per table and timestamp column: UTC timestamps (``ts``), epoch nanoseconds (``ns``, int64 with
  ``NAT`` for missing), wall-clock times in the business timezone and the period of each row per
  period kind (``period``);
- per table and segment column: integer codes into the sorted levels (``codes``), missing values
  as the level ``"(missing)"``; segments of tables that carry ``ticket_id`` are borrowed from the
  ticket through row positions computed once (``ticket_pos``), not a join per KPI;
- ticket-event facts (:attr:`Facts.ticket`): first public human reply, agent-opened tickets,
  replies, touches, resolutions and reopens; customer waits (:attr:`Facts.reply_waits`) and
  status spans (:attr:`Facts.status_intervals`);
- contact facts (:attr:`Facts.contacts`): outcome, wait, handle and wrap-up times.

The censoring rule of every duration is :func:`censor`.

Definitions (docs/methods.md#censoring): a duration that has not ended by the cut-off is
right-censored at the cut-off (``observed=False``), never dropped; a start after the cut-off has
no duration yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Facts", "of", "censor", "NAT", "MISSING", "to_ns", "from_ns"]

#: int64 value of a missing timestamp in the ``ns`` arrays (numpy's NaT).
NAT = np.iinfo(np.int64).min
#: Segment level of rows whose segment column is empty (same as :data:`kpitools.kpis._core.MISSING`).
MISSING = "(missing)"
#: Order of event kinds at the same instant (a customer message before the reply to it).
KIND_ORDER = {"customer_message": 0, "bot_message": 1, "internal_note": 2, "agent_reply": 3, "status_change": 4}
SOLVED = ("solved", "closed")
DERIVED_SEGMENTS = ("hour", "weekday")
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIODS: dict[str, str] = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC"}


# ----------------------------------------------------------------------------------------------
# typed conversions
# ----------------------------------------------------------------------------------------------
def to_utc(s) -> pd.Series:
    """Timestamps as a ``datetime64[ns, UTC]`` Series (positional index kept from ``s``)."""
    s = pd.Series(s)
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s, utc=True)
    elif str(s.dtype.tz) != "UTC":
        s = s.dt.tz_convert("UTC")
    return s.dt.as_unit("ns")


def to_ns(s) -> np.ndarray:
    """Timestamps -> int64 epoch nanoseconds, :data:`NAT` where missing."""
    return to_utc(s).array.asi8.copy()


def from_ns(ns: np.ndarray, index=None) -> pd.Series:
    """int64 epoch nanoseconds (:data:`NAT` = missing) -> ``datetime64[ns, UTC]`` Series."""
    return pd.Series(np.asarray(ns, dtype=np.int64).view("M8[ns]"), index=index).dt.tz_localize("UTC")


def _segment_strings(s: pd.Series) -> pd.Series:
    """Segment values as text; empty values (None, NaN, "") become :data:`MISSING`."""
    s = pd.Series(s).astype("str")
    return s.where(s.notna() & (s != "") & (s != "<NA>") & (s != "nan"), MISSING).astype("str")


def _arrow_text(s: pd.Series) -> pa.Array | None:
    """The Arrow string array behind a text Series (one chunk, no copy of the values), else None."""
    dt = s.dtype
    if not (isinstance(dt, pd.StringDtype) and dt.storage == "pyarrow"):
        return None
    a = pa.array(s.array)
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return a


def factorize(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``(codes, uniques)`` of ``s``: int64 codes (-1 where missing) into the distinct values.

    Categorical columns give their category codes (uniques = categories, used or not), Arrow text
    is dictionary-encoded by Arrow, anything else goes through :func:`pandas.factorize`. The order
    of ``uniques`` is not specified; only equal values share a code.
    """
    s = pd.Series(s)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy().astype(np.int64), pd.Index(s.cat.categories)
    a = _arrow_text(s)
    if a is not None:
        enc = pc.dictionary_encode(a)
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, pd.Index(pd.array(enc.dictionary, dtype=s.dtype) if len(enc.dictionary) else [], dtype=s.dtype)
    codes, uniques = pd.factorize(s)
    return codes.astype(np.int64), pd.Index(uniques)


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Rows where each code first occurs, for codes numbered in order of first occurrence."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.maximum.accumulate(codes)
    return np.flatnonzero(np.r_[True, top[1:] > top[:-1]])


def _group_min(code: np.ndarray, ns: np.ndarray, n: int) -> np.ndarray:
    """Minimum of ``ns`` per group code 0..n-1 (:data:`NAT` for groups without a value)."""
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    ok = ns != NAT
    np.minimum.at(out, code[ok], ns[ok])
    out[out == np.iinfo(np.int64).max] = NAT
    return out


# ----------------------------------------------------------------------------------------------
# the censoring rule
# ----------------------------------------------------------------------------------------------
def censor(start, end, cutoff, clock="calendar", *, calendar=None, include=None
           ) -> tuple[np.ndarray, np.ndarray]:
    """Duration and observed flag of spans ``[start, end)`` seen at ``cutoff``: the one censoring rule.

    Parameters
    ----------
    start, end : array-like of UTC timestamps
        Start and end of each span; a missing ``end`` means not ended yet.
    cutoff : Timestamp
        The export time (``ds.cutoff``).
    clock : {"calendar", "business"} or array-like of them, default "calendar"
        Calendar seconds, or the part inside opening hours (needs ``calendar``); one clock for
        all spans or one per span (SLA targets set the clock per priority).
    calendar : BusinessCalendar, optional
        ``ds.calendar``; required for ``clock="business"``.
    include : array-like of bool, optional
        Spans to measure at all; the others get NaN.

    Returns
    -------
    duration : ndarray of float
        Seconds from ``start`` to ``end`` when the span ended by the cut-off (observed), else to
        the cut-off (censored); NaN when ``start`` is missing or after the cut-off, or not included.
    observed : ndarray of bool
        True when ``end`` is present and not after the cut-off.

    Notes
    -----
    docs/methods.md#censoring: spans still running at the cut-off are right-censored there,
    never dropped; the survival estimators (Kaplan-Meier) take ``(duration, observed)``.

    Examples
    --------
    >>> import pandas as pd
    >>> cut = pd.Timestamp("2026-01-02", tz="UTC")
    >>> censor(pd.Series(pd.to_datetime(["2026-01-01"], utc=True)), pd.Series([pd.NaT]), cut)
    (array([86400.]), array([False]))
    """
    start = to_utc(start).reset_index(drop=True)
    end = to_utc(end).reset_index(drop=True)
    cutoff = pd.Timestamp(cutoff)
    cutoff = cutoff.tz_localize("UTC") if cutoff.tzinfo is None else cutoff.tz_convert("UTC")
    ok = (start.notna() & (start <= cutoff)).to_numpy()
    if include is not None:
        ok = ok & np.asarray(include, dtype=bool)
    observed = (end.notna() & (end <= cutoff)).to_numpy()
    stop = end.where(observed, cutoff)
    clocks = np.broadcast_to(np.asarray(clock, dtype=object), (len(start),))
    # one clock per span: compared per distinct clock value, not per span
    ccode, cuniq = pd.factorize(clocks) if clocks.ndim and len(clocks) else (np.zeros(0, np.int64), [])
    cuniq = list(cuniq)
    allowed = np.array([c in ("business", "calendar") for c in cuniq] + [False], dtype=bool)
    bad = ok & ~allowed[ccode]  # code -1 (None, NaN) -> the last entry, False
    if bad.any():
        raise ValueError(f"clock must be one of ['business', 'calendar'], got {clocks[np.flatnonzero(bad)[0]]!r}")
    dur = np.full(len(start), np.nan)
    for ck in ("business", "calendar"):
        if ck not in cuniq:
            continue
        m = ok & (ccode == cuniq.index(ck))
        if not m.any():
            continue
        if ck == "business":
            if calendar is None:
                raise ValueError("censor: clock='business' needs calendar=ds.calendar")
            dur[m] = np.asarray(calendar.duration(start[m].reset_index(drop=True),
                                                  stop[m].reset_index(drop=True)), dtype="float64")
        else:
            dur[m] = ((stop[m] - start[m]) / pd.Timedelta(seconds=1)).to_numpy(dtype="float64", na_value=np.nan)
    return dur, observed


# ----------------------------------------------------------------------------------------------
# the facts object
# ----------------------------------------------------------------------------------------------
def of(ds) -> Facts:
    """The facts of ``ds``, built on first use and kept on the Dataset object."""
    f = ds.__dict__.get("_facts")
    if f is None:
        f = Facts(ds)
        ds.__dict__["_facts"] = f
    return f


class Facts:
    """Typed facts of one dataset, computed lazily and cached (see the module docstring).

    Parameters
    ----------
    ds : kpitools.io.Dataset
    """

    def __init__(self, ds):
        self._ds = ds
        self._memo: dict = {}

    def _get(self, key, build):
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def memo(self, key: tuple, build):
        """A derived table of one KPI module, built once: ``key`` is ``(function, *arguments)``
        (the function object that derives it, not a string), ``build()`` computes it."""
        return self._get(key, build)

    @property
    def tz(self) -> str:
        return self._ds.settings.timezone

    def table(self, name: str) -> pd.DataFrame:
        """The table with a positional index 0..n-1 (the row order of every fact)."""
        return self._get(("table", name), lambda: getattr(self._ds, name).reset_index(drop=True))

    # ---- timestamps and periods ----------------------------------------------------------
    def ts(self, table: str, col: str) -> pd.Series:
        """``datetime64[ns, UTC]`` of ``table[col]`` (positional index); ``"ticket:<col>"`` is the
        column of the row's ticket (NaT where the ticket is unknown)."""
        def build():
            if col.startswith("ticket:"):
                pos = self.ticket_pos(table)
                ns = self.ns("tickets", col[len("ticket:"):])[np.maximum(pos, 0)] if len(pos) else np.zeros(0, np.int64)
                return from_ns(np.where(pos >= 0, ns, NAT))
            return to_utc(self.table(table)[col])
        return self._get(("ts", table, col), build)

    def ns(self, table: str, col: str) -> np.ndarray:
        """int64 epoch nanoseconds of ``table[col]`` (:data:`NAT` where missing)."""
        return self._get(("ns", table, col), lambda: self.ts(table, col).array.asi8)

    def local(self, table: str, col: str) -> pd.Series:
        """Naive wall-clock times of ``table[col]`` in the business timezone."""
        return self._get(("local", table, col),
                         lambda: self.ts(table, col).dt.tz_convert(self.tz).dt.tz_localize(None))

    def period(self, table: str, col: str, period: str) -> pd.Series:
        """Period (business timezone) of every row of ``table[col]``; NaT stays NaT."""
        return self._get(("period", table, col, period),
                         lambda: self.local(table, col).dt.to_period(PERIODS[period]))

    # ---- ids and segments ------------------------------------------------------------------
    def _ticket_ids(self) -> tuple[np.ndarray, pd.Index]:
        return self._get("ticket_ids", lambda: tuple(
            (c.astype(np.int64), pd.Index(u)) for c, u in
            [pd.factorize(self.table("tickets")["ticket_id"], use_na_sentinel=False)])[0])

    @property
    def ticket_index(self) -> pd.Index:
        """Distinct ticket ids (first occurrence order) of ``tickets``."""
        return self._ticket_ids()[1]

    @property
    def ticket_code(self) -> np.ndarray:
        """Per ticket row: its position in :attr:`ticket_index` (equal ids share one code)."""
        return self._ticket_ids()[0]

    @property
    def ticket_first_row(self) -> np.ndarray:
        """Row of ``tickets`` where each id of :attr:`ticket_index` first occurs (code -> row)."""
        return self._get("ticket_first_row", lambda: _first_rows(self.ticket_code))

    def ticket_codes_of(self, ids: pd.Series) -> np.ndarray:
        """Code in :attr:`ticket_index` of each id of ``ids`` (-1: not a ticket of ``tickets``).

        One hash lookup of the ids against the distinct ticket ids (Arrow's ``index_in`` on text
        columns, :meth:`pandas.Index.get_indexer` otherwise); no per-row Python objects.
        """
        ids = pd.Series(ids)
        if isinstance(ids.dtype, pd.CategoricalDtype):  # each category looked up once
            lut = self.ticket_codes_of(pd.Series(ids.cat.categories.array))
            return np.append(lut, -1)[ids.cat.codes.to_numpy()]
        idx = self.ticket_index
        a = _arrow_text(ids)
        u = _arrow_text(pd.Series(idx)) if len(idx) else None
        if a is None or u is None or a.type != u.type:
            return np.asarray(idx.get_indexer(ids), dtype=np.int64)
        n = len(a)
        heads = None
        if n > 1:  # rows of one ticket usually follow each other: look up each run of equal ids once
            change = pc.fill_null(pc.not_equal(a.slice(1), a.slice(0, n - 1)), True)
            heads = np.flatnonzero(np.r_[True, change.to_numpy(zero_copy_only=False)])
            if len(heads) > n // 2:
                heads = None
        if heads is None:
            return pc.fill_null(pc.index_in(a, value_set=u), -1).to_numpy(zero_copy_only=False).astype(np.int64)
        found = pc.fill_null(pc.index_in(a.take(pa.array(heads)), value_set=u), -1)
        return np.repeat(found.to_numpy(zero_copy_only=False).astype(np.int64), np.diff(np.r_[heads, n]))

    def _joint_ticket_codes(self, ids: pd.Series) -> np.ndarray | None:
        """Codes of ``ids`` and of the tickets' own ids from one Arrow dictionary encoding of both
        (one hash table instead of two), memoising :attr:`ticket_index` and :attr:`ticket_code`
        on the way; None where that does not apply (ids not Arrow text, missing ticket ids).

        The tickets' ids come first, so the dictionary starts with them in order of first
        occurrence: their codes are those of :func:`pandas.factorize`, and an id of ``ids`` coded
        beyond them is no ticket (-1).
        """
        tid = self.table("tickets")["ticket_id"]
        ids = pd.Series(ids)
        if isinstance(ids.dtype, pd.CategoricalDtype):  # the categories, spread by the codes
            cats = self._joint_ticket_codes(pd.Series(ids.cat.categories.array))
            return None if cats is None else np.append(cats, -1)[ids.cat.codes.to_numpy()]
        t, a = _arrow_text(tid), _arrow_text(ids)
        if t is None or a is None or t.type != a.type or t.null_count:
            return None
        n, m = len(t), len(a)
        heads = np.zeros(0, dtype=np.int64)
        if m:  # each run of equal ids once
            change = pc.fill_null(pc.not_equal(a.slice(1), a.slice(0, m - 1)), True) if m > 1 else pa.array([], pa.bool_())
            heads = np.flatnonzero(np.r_[True, change.to_numpy(zero_copy_only=False)])
        enc = pc.dictionary_encode(pa.concat_arrays([t, a.take(pa.array(heads))]))
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        tcode = codes[:n]
        n_tickets = int(tcode.max()) + 1 if n else 0
        uniques = enc.dictionary.slice(0, n_tickets)
        self._memo["ticket_ids"] = (tcode, pd.Index(pd.Series(pd.array(uniques, dtype=tid.dtype)) if n_tickets
                                                     else pd.Series([], dtype=tid.dtype)))
        hc = codes[n:]
        hc = np.where(hc < n_tickets, hc, -1)
        return np.repeat(hc, np.diff(np.r_[heads, m])) if m else np.zeros(0, dtype=np.int64)

    def ticket_pos(self, table: str) -> np.ndarray:
        """Per row of ``table``: the row of its ticket (first row with that id), -1 if unknown."""
        def build():
            first_row = self.ticket_first_row
            code = self.ticket_codes_of(self.table(table)["ticket_id"])
            return np.where(code >= 0, first_row[np.maximum(code, 0)], -1)
        return self._get(("ticket_pos", table), build)

    def segment(self, table: str, col: str, *, ts: str | None = None) -> pd.Series:
        """Segment ``col`` of every row of ``table`` as text (:data:`MISSING` for empty values).

        Columns of the table itself come first; ``hour``/``weekday`` derive from timestamp column
        ``ts``; other columns are borrowed from the row's ticket (``ticket_id``). Built from
        :meth:`codes` (the levels taken by code), so text is formatted once per distinct value.
        """
        def build():
            codes, levels = self.codes(table, col, ts=ts)
            return pd.Series(levels.take(codes), dtype="str") if len(codes) else pd.Series([], dtype="str")
        return self._get(("segment", table, col, ts if col in DERIVED_SEGMENTS else None), build)

    def _segment_text(self, table: str, col: str, ts: str | None) -> pd.Series:
        """Segment text per row, the reference derivation (derived segments only)."""
        loc = self.local(table, ts)
        if col == "hour":
            return _segment_strings(loc.dt.hour.astype("Int64").astype(str).str.zfill(2))
        names = np.asarray(WEEKDAY_NAMES, dtype=object)[loc.dt.day_of_week.to_numpy()]
        return _segment_strings(pd.Series(names))

    def codes(self, table: str, col: str, *, ts: str | None = None) -> tuple[np.ndarray, pd.Index]:
        """Integer codes of :meth:`segment` into its sorted levels: ``(codes, levels)``.

        The column is factorised once (:func:`factorize`); its distinct values are turned into text
        (empty values: :data:`MISSING`), sorted and merged where equal, and the row codes remapped
        through that small table. Ticket columns borrowed by another table take the ticket's code
        through :meth:`ticket_pos`.
        """
        def build():
            df = self.table(table)
            if col in df.columns:
                raw, uniq = factorize(df[col])
                text = _segment_strings(pd.Series(uniq.to_numpy(dtype=object) if len(uniq) else [], dtype=object))
                text = np.append(text.to_numpy(dtype=object), np.array([MISSING], dtype=object))  # -1 -> last
                raw = np.where(raw >= 0, raw, len(text) - 1)
            elif col in DERIVED_SEGMENTS:
                s = self._segment_text(table, col, ts)
                raw, uniq = pd.factorize(s)
                text = np.asarray(uniq, dtype=object)
            else:
                tcodes, tlevels = self.codes("tickets", col)
                pos = self.ticket_pos(table)
                text = np.append(tlevels.to_numpy(dtype=object), np.array([MISSING], dtype=object))
                raw = np.where(pos >= 0, tcodes[np.maximum(pos, 0)], len(text) - 1) if len(pos) else \
                    np.zeros(0, dtype=np.int64)
            used = np.bincount(raw, minlength=len(text)) > 0 if len(raw) else np.zeros(len(text), bool)
            levels = pd.Index(sorted(set(text[used].tolist())), dtype="str")
            lut = levels.get_indexer(pd.Index(text, dtype="str"))
            return lut[raw].astype(np.int64) if len(raw) else np.zeros(0, dtype=np.int64), levels
        return self._get(("codes", table, col, ts if col in DERIVED_SEGMENTS else None), build)

    def segments(self, table: str, by: Sequence[str], *, ts: str | None = None, index=None) -> pd.DataFrame:
        """:meth:`segment` of every column of ``by`` as one DataFrame (positional index, or
        ``index``: e.g. the table's own)."""
        n = len(self.table(table))
        idx = pd.RangeIndex(n) if index is None else index
        return pd.DataFrame({c: self.segment(table, c, ts=ts).to_numpy() for c in by}, index=idx).astype("str")

    # ---- ticket events -----------------------------------------------------------------
    def _raw_events(self) -> pd.DataFrame | None:
        """``ticket_events`` in table order with a positional index (None when absent or empty)."""
        def build():
            ds = self._ds
            ev = ds.ticket_events if ds.has("ticket_events") else None
            return None if ev is None or len(ev) == 0 else ev.reset_index(drop=True)
        return self._get("raw_events", build)

    def _ev(self, name: str) -> np.ndarray:
        """Typed arrays of ``ticket_events`` in table order: ``code`` (ticket code, -1 unknown),
        ``at`` (int64 ns), ``kind`` (:data:`KIND_ORDER` value; other kinds after them)."""
        def build():
            ev = self._raw_events()
            if name == "code":
                joint = None if "ticket_ids" in self._memo else self._joint_ticket_codes(ev["ticket_id"])
                return self.ticket_codes_of(ev["ticket_id"]) if joint is None else joint
            if name == "at":
                return to_ns(ev["at"])
            raw, uniq = factorize(ev["kind"])  # kind order looked up per distinct kind
            other = len(KIND_ORDER)
            lut = np.array([KIND_ORDER.get(u, other) if isinstance(u, str) else other for u in uniq] + [other],
                           dtype=np.int64)
            return lut[raw]
        return self._get(("ev", name), build)

    @property
    def event_order(self) -> np.ndarray | None:
        """Rows of ``ticket_events`` in the order of :attr:`events` (ticket id as text, time, kind
        order; stable), or None when the table is already in that order (no sort needed).

        The ids are ranked once among the distinct ids, so the sort runs on int64 keys
        (``np.lexsort``) and reproduces ``sort_values(["ticket_id", "at", kind order])``.
        """
        def build():
            ev = self._raw_events()
            if ev is None:
                return None
            code = self._ev("code")
            if (code >= 0).all():
                raw, uniq = code, self.ticket_index
            else:  # ids that are no ticket of the tickets table: rank every id of the events
                raw, uniq = factorize(ev["ticket_id"])
            rank = np.empty(len(uniq), dtype=np.int64)
            rank[pd.Index(uniq).sort_values(return_indexer=True, na_position="last")[1]] = np.arange(len(uniq))
            r = np.where(raw >= 0, rank[np.maximum(raw, 0)] if len(rank) else 0, len(uniq))
            at = self._ev("at")
            at = np.where(at == NAT, np.iinfo(np.int64).max, at)  # NaT last, as sort_values puts it
            k = self._ev("kind")
            if len(r) < 2:
                return None
            same_r, same_at = r[1:] == r[:-1], at[1:] == at[:-1]
            ordered = (r[1:] > r[:-1]) | (same_r & ((at[1:] > at[:-1]) | (same_at & (k[1:] >= k[:-1]))))
            return None if ordered.all() else np.lexsort((k, at, r))
        return self._get("event_order", build)

    def _sorted_ev(self, values: np.ndarray) -> np.ndarray:
        order = self.event_order
        return values if order is None else values[order]

    @property
    def events(self) -> pd.DataFrame | None:
        """``ticket_events`` sorted by ticket, time and kind order (None when absent or empty)."""
        def build():
            ev = self._raw_events()
            if ev is None:
                return None
            order = self.event_order
            return ev if order is None else ev.take(order).reset_index(drop=True)
        return self._get("events", build)

    @property
    def event_code(self) -> np.ndarray:
        """Per sorted event: its ticket's code in :attr:`ticket_index` (-1: unknown ticket)."""
        return self._get("event_code", lambda: self._sorted_ev(self._ev("code")))

    @property
    def has_status_events(self) -> bool:
        """``ticket_events`` has ``status_change`` rows with a ``status``."""
        def build():
            ev = self._raw_events()
            return (ev is not None and "status" in ev.columns
                    and bool((ev["status"].notna().to_numpy() & (self._ev("kind") == KIND_ORDER["status_change"])).any()))
        return self._get("has_status_events", build)

    @property
    def ticket(self) -> pd.DataFrame:
        """Per-ticket facts (rows and order of ``ds.tickets``); see
        :func:`kpitools.kpis.responsiveness.ticket_facts` for the columns."""
        return self._get("ticket", self._ticket_facts)

    def _agent_actions(self, ev: pd.DataFrame, kind: np.ndarray, note_or_reply: np.ndarray) -> np.ndarray:
        """Status changes made by an agent: the author wrote a reply or note, or is in ``agents``."""
        ds = self._ds
        status = kind == KIND_ORDER["status_change"]
        author = ev["author_id"]
        if isinstance(author.dtype, pd.CategoricalDtype):  # per distinct author
            codes = author.cat.codes.to_numpy()
            cats = pd.Series(author.cat.categories.array)
            wrote = np.zeros(len(cats), dtype=bool)
            wrote[codes[note_or_reply & (codes >= 0)]] = True
            if ds.has("agents"):
                wrote |= cats.isin(ds.agents["agent_id"].dropna()).to_numpy(dtype=bool)
            return status & np.append(wrote, False)[codes]
        a = _arrow_text(author)
        if a is None:
            authors = ev.loc[note_or_reply, "author_id"].dropna()
            agents = pd.Index(authors.unique())
            if ds.has("agents"):
                agents = agents.append(pd.Index(ds.agents["agent_id"].dropna().unique()))
            return status & ev["author_id"].isin(agents).to_numpy()
        known = pc.drop_null(pc.unique(pc.filter(a, pa.array(note_or_reply)))).to_pylist()
        if ds.has("agents"):
            known += [x for x in pd.unique(ds.agents["agent_id"].dropna()).tolist() if isinstance(x, str)]
        out = np.zeros(len(kind), dtype=bool)
        if status.any() and known:
            hit = pc.is_in(pc.filter(a, pa.array(status)), value_set=pa.array(sorted(set(known)), type=a.type))
            out[status] = hit.to_numpy(zero_copy_only=False)
        return out

    def _ticket_facts(self) -> pd.DataFrame:
        t = self.table("tickets")
        n = len(t)
        out = pd.DataFrame({"ticket_id": t["ticket_id"], "created_at": self.ts("tickets", "created_at")})
        ev = self._raw_events()
        nat = from_ns(np.full(n, NAT))
        tcode = self.ticket_code
        m = len(self.ticket_index)
        if ev is not None:
            # per-ticket minima and counts do not depend on the events' order: table order here,
            # on the customer messages and agent replies only
            code = self._ev("code")
            known = code >= 0
            at = self._ev("at")
            kind = self._ev("kind")
            ic = np.flatnonzero((kind == KIND_ORDER["customer_message"]) & known)
            ia = np.flatnonzero((kind == KIND_ORDER["agent_reply"]) & known)
            cc, ca, aa = code[ic], code[ia], at[ia]
            first_cust = _group_min(cc, at[ic], m)  # per code
            first_agent = _group_min(ca, aa, m)
            opened = (first_agent != NAT) & ((first_cust == NAT) | (first_agent < first_cust))
            agent_opened = opened[tcode]
            created = self.ns("tickets", "created_at")
            start = np.where(agent_opened, first_cust[tcode], created)
            # first agent reply at or after the start (start per distinct id: first ticket row)
            start_code = start[self.ticket_first_row]
            sa = start_code[ca]
            after = (sa != NAT) & (aa != NAT) & (aa >= sa)
            out["frt_start"] = from_ns(start)
            out["frt_end"] = from_ns(_group_min(ca[after], aa[after], m)[tcode])
            out["agent_opened"] = agent_opened
            out["replies"] = np.bincount(ca, minlength=m)[tcode].astype("float64")
            note_or_reply = (kind == KIND_ORDER["agent_reply"]) | (kind == KIND_ORDER["internal_note"])
            if "author_id" in ev.columns:  # without author_id: agent_touches is skipped
                touch = note_or_reply | self._agent_actions(ev, kind, note_or_reply)
            else:
                touch = note_or_reply
            out["touches"] = np.bincount(code[touch & known], minlength=m)[tcode].astype("float64")
            out["source"] = "events"
        else:
            out["frt_start"] = out["created_at"]
            out["frt_end"] = to_utc(t["first_response_at"]) if "first_response_at" in t.columns else nat
            out["agent_opened"] = False
            out["replies"] = (t["agent_replies"].astype("Float64").astype("float64").to_numpy(na_value=np.nan)
                              if "agent_replies" in t.columns else np.nan)
            out["touches"] = np.nan
            out["source"] = "tickets"
        # resolutions from status events only where the tickets table does not carry them
        needed = not (_has(t, "first_resolved_at") and _has(t, "resolved_at") and _has(t, "reopen_count"))
        res = self._resolution_from_events() if needed and self.has_status_events else None
        for col, src in (("first_resolved", "first_resolved_at"), ("resolved", "resolved_at")):
            if _has(t, src):
                out[col] = to_utc(t[src])
            elif res is not None:
                out[col] = from_ns(res[col][tcode])
            else:
                out[col] = nat
        if _has(t, "reopen_count"):
            out["reopens"] = t["reopen_count"].astype("Float64").astype("float64").to_numpy(na_value=np.nan)
        elif res is not None:
            out["reopens"] = res["reopens"][tcode]
        else:
            out["reopens"] = np.nan
        if out["replies"].isna().all() and _has(t, "agent_replies"):
            out["replies"] = t["agent_replies"].astype("Float64").astype("float64").to_numpy(na_value=np.nan)
        return out

    def _resolution_from_events(self) -> dict[str, np.ndarray]:
        """Per distinct ticket id: first and final resolution (ns) and reopens from status events."""
        ev = self._raw_events()
        m = len(self.ticket_index)
        status = ev["status"]
        sel = self._sorted_ev(status.notna().to_numpy() & (self._ev("kind") == KIND_ORDER["status_change"]))
        sel &= self.event_code >= 0
        code = self.event_code[sel]
        at = self._sorted_ev(self._ev("at"))[sel]
        solved = self._sorted_ev(status.isin(SOLVED).to_numpy())[sel]
        # events are sorted by ticket: the previous row of the same ticket is the previous status
        same = np.r_[False, code[1:] == code[:-1]]
        prev_solved = np.r_[False, solved[:-1]] & same
        into = solved & ~prev_solved
        reopen = ~solved & prev_solved
        first = _group_min(code[into], at[into], m)
        last_into = np.full(m, NAT, dtype=np.int64)
        np.maximum.at(last_into, code[into], at[into])
        last_row = np.r_[code[1:] != code[:-1], True] if len(code) else np.zeros(0, bool)
        last_solved = np.zeros(m, dtype=bool)
        last_solved[code[last_row]] = solved[last_row]
        final = np.where(last_solved, last_into, NAT)
        return {"first_resolved": first, "resolved": final,
                "reopens": np.bincount(code[reopen], minlength=m).astype("float64")}

    @property
    def reply_waits(self) -> pd.DataFrame:
        """Every customer wait for a public agent reply; see
        :func:`kpitools.kpis.responsiveness.reply_waits` (ticket rows: :attr:`reply_wait_pos`)."""
        return self._get("reply_waits", self._reply_waits)

    def _reply_waits(self) -> pd.DataFrame:
        kind = self._sorted_ev(self._ev("kind"))
        pi = np.flatnonzero((kind == KIND_ORDER["customer_message"]) | (kind == KIND_ORDER["agent_reply"]))
        code = self.event_code[pi]
        at = self._sorted_ev(self._ev("at"))[pi]
        is_cust = kind[pi] == KIND_ORDER["customer_message"]
        same = np.r_[False, code[1:] == code[:-1]]
        prev_cust = np.r_[False, is_cust[:-1]]
        starts = is_cust & (~same | ~prev_cust)
        # the next agent reply of the same ticket code (a groupby(code).bfill of the reply times)
        n = len(code)
        order = None
        if n and (1 + int((code[1:] != code[:-1]).sum())) != int((np.bincount(code + 1) > 0).sum()):
            order = np.argsort(code, kind="stable")  # a code in more than one run: group it first
        c, t, cust = (code, at, is_cust) if order is None else (code[order], at[order], is_cust[order])
        reply = np.where(~cust & (t != NAT), np.arange(n), n)
        nxt = np.minimum.accumulate(reply[::-1])[::-1] if n else reply
        ok = nxt < n
        nxt_at = np.where(ok, t[np.minimum(nxt, n - 1)], NAT) if n else t
        nxt_at = np.where(ok & (c[np.minimum(nxt, max(n - 1, 0))] == c) if n else ok, nxt_at, NAT)
        if order is not None:
            back = np.empty(n, dtype=nxt_at.dtype)
            back[order] = nxt_at
            nxt_at = back
        si = np.flatnonzero(starts)
        ev = self._raw_events()
        rows = pi[si] if self.event_order is None else self.event_order[pi[si]]
        w = pd.DataFrame({"ticket_id": _text(ev["ticket_id"].take(rows)).reset_index(drop=True),
                          "start": from_ns(at[si]), "end": from_ns(nxt_at[si])})
        first_row = self.ticket_first_row
        wcode = code[si]
        pos = np.where(wcode >= 0, first_row[np.maximum(wcode, 0)], -1)
        resolved = self.ticket["resolved"].array.asi8
        res = np.where(pos >= 0, resolved[np.maximum(pos, 0)], NAT) if len(resolved) else np.full(len(pos), NAT)
        cutoff = to_ns(pd.Series([self._ds.cutoff]))[0]
        # solved at the cut-off: an unanswered message is not waiting (docs/methods.md: only
        # customer messages waiting for an answer count)
        drop = (nxt_at[si] == NAT) & (res != NAT) & (res <= cutoff)
        w = w[~drop].reset_index(drop=True)
        wcode = wcode[~drop]
        w["first"] = np.r_[True, wcode[1:] != wcode[:-1]] if len(w) else np.zeros(0, bool)
        self._memo["reply_wait_pos"] = pos[~drop]
        return w

    @property
    def reply_wait_pos(self) -> np.ndarray:
        """Per row of :attr:`reply_waits`: the row of its ticket (-1 if unknown)."""
        _ = self.reply_waits
        return self._memo["reply_wait_pos"]

    @property
    def status_intervals(self) -> pd.DataFrame:
        """Status spans per ticket; see :func:`kpitools.kpis.responsiveness.status_intervals`."""
        return self._get("status_intervals", self._status_intervals)

    @property
    def status_interval_code(self) -> np.ndarray:
        """Per row of :attr:`status_intervals`: its ticket's code in :attr:`ticket_index`."""
        _ = self.status_intervals  # built with the spans
        return self._memo["status_interval_code"]

    def _status_intervals(self) -> pd.DataFrame:
        # typed arrays: the tickets' "new" spans, then the status events in table order, put in
        # (ticket id text, time) order by one stable lexsort of integer keys (NaT and missing ids
        # last, as a stable sort_values puts them; equal keys keep the events' table order, which
        # is the events' sorted order among status changes of one ticket and instant)
        ev = self._raw_events()
        t = self.table("tickets")
        kind = self._ev("kind")
        sel = np.flatnonzero((kind == KIND_ORDER["status_change"]) & ev["status"].notna().to_numpy())
        ids = pd.concat([pd.Series(t["ticket_id"]).astype("str"),
                         ev["ticket_id"].take(sel).astype("str")], ignore_index=True)
        at = np.concatenate([self.ns("tickets", "created_at"), self._ev("at")[sel]])
        code = np.concatenate([self.ticket_code, self._ev("code")[sel]])
        status = pd.concat([pd.Series("new", index=range(len(t)), dtype="str"),
                            ev["status"].take(sel).astype("str")], ignore_index=True)
        raw, uniq = factorize(ids)
        rank = np.empty(len(uniq) + 1, dtype=np.int64)  # text order of the distinct ids; missing last
        u = _arrow_text(pd.Series(uniq))
        srt = (pc.array_sort_indices(u).to_numpy() if u is not None
               else np.argsort(np.asarray(uniq.astype("str").to_numpy(), dtype=object), kind="stable"))
        rank[srt] = np.arange(len(uniq))
        rank[-1] = len(uniq)
        key = rank[raw]
        big = np.iinfo(np.int64).max
        order = np.lexsort((np.where(at == NAT, big, at), key))
        key, at, code = key[order], at[order], code[order]
        n = len(order)
        same = np.zeros(n, dtype=bool)
        if n > 1:  # next row of the same ticket (missing ids form no group: no next row)
            same[:-1] = (key[1:] == key[:-1]) & (key[:-1] < len(uniq))
        nxt = np.where(same, np.r_[at[1:], NAT] if n else at, NAT)
        cutoff = to_ns(pd.Series([self._ds.cutoff]))[0]
        open_end = nxt == NAT
        end = np.where(open_end, cutoff, nxt)
        keep = (at != NAT) & (end >= at)
        rows = order[keep]
        self._memo["status_interval_code"] = code[keep]
        return pd.DataFrame({"ticket_id": ids.take(rows).reset_index(drop=True),
                             "status": status.take(rows).reset_index(drop=True),
                             "start": from_ns(at[keep]), "end": from_ns(end[keep]), "open_end": open_end[keep]})

    # ---- contacts ------------------------------------------------------------------------
    @property
    def contacts(self) -> pd.DataFrame:
        """Per-contact facts; see :func:`kpitools.kpis.contact_centre.contact_facts`."""
        return self._get("contacts", self._contact_facts)

    def _contact_facts(self) -> pd.DataFrame:
        t = self._ds.contacts
        abandoned = t["abandoned"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        answered_ns = self.ns("contacts", "answered_at") if "answered_at" in t.columns else None
        has_answer = answered_ns != NAT if answered_ns is not None else np.zeros(len(t), bool)
        answered = ~abandoned & has_answer
        wait = np.full(len(t), np.nan)
        queued = self.ns("contacts", "queued_at")
        if answered_ns is not None:
            wait = np.where(answered, _seconds_ns(answered_ns, queued), wait)
        if "ended_at" in t.columns:
            wait = np.where(abandoned, _seconds_ns(self.ns("contacts", "ended_at"), queued), wait)
        talk, hold, acw = _floats(t, "talk_s"), _floats(t, "hold_s"), _floats(t, "acw_s")
        handle = np.where(answered & ~np.isnan(talk), talk + np.nan_to_num(hold) + np.nan_to_num(acw), np.nan)
        return pd.DataFrame({"abandoned": abandoned, "answered": answered, "outcome": abandoned | answered,
                             "wait_s": wait, "handle_s": handle, "acw_s": np.where(answered, acw, np.nan)},
                            index=t.index)


def _text(s: pd.Series) -> pd.Series:
    """A Categorical column (ticket_events' text) as ``str``; other columns as they are."""
    return s.astype("str") if isinstance(s.dtype, pd.CategoricalDtype) else s


def _has(df: pd.DataFrame | None, col: str) -> bool:
    return df is not None and col in df.columns and bool(df[col].notna().any())


def _floats(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def _seconds_ns(end: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Seconds from ``start`` to ``end`` (int64 ns, :data:`NAT` missing), as pandas divides a
    timedelta by one second (the int64 nanoseconds over 1e9); NaN where either is missing."""
    with np.errstate(invalid="ignore"):
        out = (end - start) / np.int64(1_000_000_000)
    return np.where((end == NAT) | (start == NAT), np.nan, out)
