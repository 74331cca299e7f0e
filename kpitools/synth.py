"""Synthetic, seeded customer-service data with planted ground truth.

:func:`generate` builds a complete, coherent dataset for a fictional SaaS company
("Lumen Ledger GmbH", invoicing and payments software for small businesses, support in
Berlin): tickets with their event trail, a contact centre (calls and chats) whose waits and
abandonment follow from its staffing, surveys with non-response bias, customers with recurring
revenue and churn, costs, agents and their days, web and self-service usage, active users and
social mentions. Product launches raise ticket volume with a lag and a decay (some launches are
quiet), incidents add spikes with no launch, and a handful of dirty rows mimic a real export.
Everything that was planted is returned in ``truth`` and written to ``truth.json``.

The generation is vectorised with numpy: loops run only over a handful of groups (days of the
week, reply rounds, months, launches), never over tickets, events or contacts.

Example::

    from kpitools.synth import generate, write_dataset
    res = generate(n_tickets=100_000, seed=7)
    write_dataset(res, "data/big", fmt="parquet")
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from kpitools.schema import TABLES

__all__ = ["SynthResult", "generate", "write_dataset", "synth_to", "make_sample", "SAMPLE_SEED", "HOLIDAYS_DE"]

SAMPLE_SEED = 20261101

#: German nationwide public holidays 2025-2026 (real dates; Easter 2025-04-20, 2026-04-05).
HOLIDAYS_DE = [
    "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-01", "2025-05-29", "2025-06-09",
    "2025-10-03", "2025-12-25", "2025-12-26",
    "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14", "2026-05-25",
    "2026-10-03", "2026-12-25", "2026-12-26",
]

_WEEKLY = {
    "mon": [["08:00", "12:00"], ["13:00", "18:00"]],
    "tue": [["08:00", "12:00"], ["13:00", "18:00"]],
    "wed": [["08:00", "12:00"], ["13:00", "18:00"]],
    "thu": [["08:00", "12:00"], ["13:00", "18:00"]],
    "fri": [["08:00", "12:00"], ["13:00", "18:00"]],
    "sat": [["10:00", "14:00"]],
    "sun": [],
}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

CHANNELS = ("email", "web", "chat", "phone", "social")
CATEGORIES = ("how-to", "bug", "billing", "account", "feature request", "outage")
_CAT_P = np.array([0.33, 0.20, 0.18, 0.17, 0.10, 0.02])
PRIORITIES = ("low", "normal", "high", "urgent")
PRODUCTS = ("Core", "Invoicing", "Payments", "Mobile App", "Integrations", "Reporting")
_PROD_P = np.array([0.30, 0.22, 0.18, 0.12, 0.10, 0.08])
TEAMS = ("tier1", "tier2", "billing")
PLANS = ("starter", "team", "business", "enterprise")

# Weekday factors of arrival volume (Mon..Sun) and hourly profiles (local hour 0..23).
_DOW = np.array([1.15, 1.05, 1.0, 0.98, 0.86, 0.30, 0.22])
_HOL = 0.30
_HOURS_WD = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1.2, 2.6, 3.6, 3.9, 3.6,
                      2.8, 3.2, 3.5, 3.3, 2.9, 2.3, 1.7, 1.4, 1.3, 1.1, 0.8, 0.5])
_HOURS_WE = np.array([0.4, 0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 0.7, 1.1, 1.5, 1.8, 1.9,
                      1.8, 1.7, 1.7, 1.6, 1.5, 1.4, 1.3, 1.3, 1.2, 1.0, 0.8, 0.5])
_CALL_HOUR = {8: 0.7, 9: 1.1, 10: 1.3, 11: 1.2, 12: 0.9, 13: 1.0, 14: 1.2, 15: 1.1, 16: 0.9, 17: 0.6}

# Natural volume (scale 1): tickets per weekday-unit at the start (grows ~16 %/year),
# and calls/chats per weekday-unit.
_L0 = 48.0
_CONTACT_L0 = {"phone": 62.0, "chat": 40.0}
_LINK_P = {"phone": 0.15, "chat": 0.12}
_AHT_PARAMS = {  # median talk s, hold share, acw median s, patience mean s
    "phone": (290.0, 0.4, 50.0, 260.0),
    "chat": (520.0, 0.1, 40.0, 200.0),
}
_N_AGENTS = {"tier1": 17, "tier2": 3, "billing": 5}
# Fully loaded cost per *staffed* hour: agents are a customer-success-and-support team that is
# logged into the support queue for only ~40 % of a working day (onboarding calls, documentation
# and account work fill the rest), so a staffed hour carries the cost of 2.5 paid hours.
_HOURLY = {"tier1": 74.0, "tier2": 92.0, "billing": 78.0}
_QUEUE_SHARE = (0.34, 0.46)
_PLAN_P = np.array([0.45, 0.33, 0.17, 0.05])
_PLAN_MRR = np.array([49.0, 149.0, 490.0, 1900.0])
_PLAN_TICKETS = np.array([0.6, 1.0, 1.8, 4.0])  # relative ticket propensity
_PLAN_CHURN = np.array([0.025, 0.015, 0.010, 0.005])

_LAUNCHES = [
    ("Mobile App 3.0", "Mobile App"), ("SEPA Instant payouts", "Payments"),
    ("E-invoice (XRechnung)", "Invoicing"), ("DATEV connector", "Integrations"),
    ("Dashboard redesign", "Reporting"), ("Team roles", "Core"),
    ("Recurring invoices v2", "Invoicing"), ("Card terminal", "Payments"),
    ("Open API v2", "Integrations"), ("Cash-flow forecast", "Reporting"),
    ("Offline mode", "Mobile App"), ("Single sign-on", "Core"),
    ("Dunning automation", "Invoicing"), ("Shopify app", "Integrations"),
]
_PRODUCT_CATEGORY = {"Core": "account", "Invoicing": "billing", "Payments": "billing",
                     "Mobile App": "bug", "Integrations": "bug", "Reporting": "how-to"}
_FIRST = ["Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hannes", "Ida", "Jonas",
          "Kira", "Lukas", "Mara", "Niklas", "Olga", "Paul", "Rosa", "Samir", "Tara", "Umut",
          "Vera", "Wim", "Yara", "Zoe", "Emil", "Lena", "Moritz", "Nora", "Oskar", "Pia"]
_LAST = ["Albers", "Brandt", "Cramer", "Dietz", "Engel", "Fuchs", "Graf", "Hahn", "Iske", "Jung",
         "Keller", "Lange", "Maier", "Neumann", "Otto", "Peters", "Roth", "Schulz", "Thiel",
         "Ulrich", "Vogt", "Weber", "Yilmaz", "Ziegler"]

# Tables written gzip-compressed (large); the others stay plain CSV for newcomers to read.
_GZ_TABLES = ("tickets", "ticket_events", "contacts", "surveys", "survey_sends", "subscriptions",
              "agent_days", "user_activity", "staffing")
_TABLE_ORDER = ("tickets", "ticket_events", "contacts", "surveys", "survey_sends", "launches",
                "subscriptions", "costs", "agents", "agent_days", "web_days", "user_activity",
                "mentions", "staffing")


@dataclass
class SynthResult:
    """What :func:`generate` returns.

    Attributes
    ----------
    tables : dict of str to DataFrame
        Export-ready tables under their contract names. Values are as
        they are written to file: timestamps as ISO 8601 UTC strings with ``Z``, dates
        ``YYYY-MM-DD``, months ``YYYY-MM``; dirty rows are included. Load the written folder with
        :func:`kpitools.io.load_dataset` for contract dtypes.
    settings : dict
        The content of ``dataset.yml``.
    truth : dict
        Planted ground truth (launches and their effects, incidents, dirty rows, notes); the
        content of ``truth.json``.
    """

    tables: dict[str, pd.DataFrame]
    settings: dict[str, Any]
    truth: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict, repr=False)


# ----------------------------------------------------------------------------------------
# settings
# ----------------------------------------------------------------------------------------
def _settings(start: str, end: str, timezone: str, exported_at: str) -> dict[str, Any]:
    y0, y1 = int(start[:4]), int(end[:4])
    hol = [h for h in HOLIDAYS_DE if y0 <= int(h[:4]) <= y1]
    return {
        "name": "Lumen Ledger GmbH customer support (synthetic sample)",
        "timezone": timezone,
        "currency": "EUR",
        "exported_at": exported_at,
        "business_hours": {"weekly": {d: [list(x) for x in _WEEKLY[d]] for d in _DAYS},
                           "holidays": hol},
        "sla": {
            "first_response": {
                "urgent": {"target": "1h", "clock": "business"},
                "high": {"target": "4h", "clock": "business"},
                "normal": {"target": "8h", "clock": "business"},
                "low": {"target": "24h", "clock": "business"},
            },
            "next_reply": {
                "urgent": {"target": "2h", "clock": "business"},
                "high": {"target": "6h", "clock": "business"},
                "normal": {"target": "12h", "clock": "business"},
                "low": {"target": "24h", "clock": "business"},
            },
            "resolution": {
                "urgent": {"target": "1d", "clock": "calendar"},
                "high": {"target": "3d", "clock": "calendar"},
                "normal": {"target": "5d", "clock": "calendar"},
                "low": {"target": "10d", "clock": "calendar"},
            },
        },
        # KPI targets, keyed by KPI name (kpitools.catalogue()); durations in seconds,
        # KPIs defined "x 100" (NRR, retention, QA) in percent
        "targets": {"csat": 0.85, "csat_response_rate": 0.25, "nps": 30, "ces": 3.0,
                    "esat": 0.75, "qa_score": 85, "fcr": 0.7, "one_touch_rate": 0.6,
                    "reopen_rate": 0.08, "escalation_rate": 0.12, "repeat_contact_rate": 0.15,
                    "abandon_rate": 0.05, "service_level": 0.8, "asa": 30,
                    "first_response_time": 14400, "sla_first_response": 0.9,
                    "sla_next_reply": 0.9, "sla_resolution": 0.85, "churn_rate": 0.02,
                    "nrr": 100, "retention_rate": 97},
        "surveys": {
            "csat": {"min": 1, "max": 5, "higher_is_better": True, "top_box": 4},
            "nps": {"min": 0, "max": 10, "higher_is_better": True},
            "ces": {"min": 1, "max": 7, "higher_is_better": False, "low_effort_max": 3},
            "esat": {"min": 1, "max": 5, "higher_is_better": True, "top_box": 4},
            "qa": {"min": 0, "max": 1, "higher_is_better": True},
        },
        "short_abandon_s": 5,
        "repeat_window_days": 7,
        "service_level_s": 20,
        "self_service_window_days": 3,
        "gross_margin": 0.78,
        "utilization_burnout": 0.7,
    }


# ----------------------------------------------------------------------------------------
# time helpers (int64 seconds since the epoch, UTC)
# ----------------------------------------------------------------------------------------
class _Clock:
    """Business-time arithmetic on sorted open intervals [s, e) in epoch seconds."""

    def __init__(self, s: np.ndarray, e: np.ndarray):
        self.s, self.e = s, e
        self.cum = np.concatenate([[0], np.cumsum(e - s)])

    def to_b(self, t: np.ndarray) -> np.ndarray:
        k = np.minimum(np.searchsorted(self.e, t, side="right"), len(self.s) - 1)
        inside = np.clip(t - self.s[k], 0, self.e[k] - self.s[k])
        return self.cum[k] + inside

    def from_b(self, b: np.ndarray) -> np.ndarray:
        k = np.clip(np.searchsorted(self.cum, b, side="right") - 1, 0, len(self.s) - 1)
        return self.s[k] + (b - self.cum[k])

    def add(self, t: np.ndarray, sec: np.ndarray) -> np.ndarray:
        """Instant when ``sec`` (> 0) business seconds have elapsed after ``t``; lands in hours."""
        return self.from_b(self.to_b(t) + np.maximum(np.asarray(sec, dtype=np.int64), 1))


def _iso(t: np.ndarray) -> pd.Series:
    """Epoch seconds (int64, -1 = missing) -> 'YYYY-MM-DDTHH:MM:SSZ' strings (missing if < 0).

    Built with Arrow kernels (cast to text, then 'T' and 'Z'), about 6x faster than
    ``numpy.datetime_as_string`` and without a Python object per value.
    """
    t = np.asarray(t, dtype=np.int64)
    arr = pa.array(t.astype("datetime64[s]"), mask=t < 0).cast(pa.string())
    arr = pc.binary_join_element_wise(pc.utf8_replace_slice(arr, 10, 11, "T"), pa.scalar("Z"), "")
    return pd.Series(arr, dtype="str")


def _take(labels, idx: np.ndarray) -> pd.Series:
    """``labels[idx]`` as a pandas ``str`` Series, missing where ``idx < 0`` (Arrow take).

    ``labels`` is a sequence of labels or an Arrow string array (converted once by the caller
    when many slices take from it).
    """
    idx = np.asarray(idx, dtype=np.int64)
    lab = labels if isinstance(labels, pa.Array) else pa.array(np.asarray(labels).astype(str))
    return pd.Series(pc.take(lab, pa.array(idx, mask=idx < 0)), dtype="str")


def _ids(prefix: str, n: int, width: int | None = None, start: int = 0) -> np.ndarray:
    """Ids ``prefix`` + zero-padded numbers ``start + 1 .. start + n``."""
    width = width or max(4, len(str(n)))
    return np.char.add(prefix, np.char.zfill(np.arange(start + 1, start + n + 1).astype(str),
                                             width)).astype(object)


def _ids_range(prefix: str, n: int, width: int, sl: slice, start: int = 0) -> np.ndarray:
    """``_ids(prefix, n, width, start)[sl]`` without building the other ids."""
    num = np.arange(start + 1, start + n + 1)[sl]
    return np.char.add(prefix, np.char.zfill(num.astype(str), width)).astype(object)


def _ids_arrow(prefix: str, n: int, width: int, start: int = 0) -> pa.Array:
    """The ids ``_ids(prefix, n, width, start)`` as one Arrow string array (1M at a time)."""
    step = 1_000_000
    return pa.concat_arrays([
        pa.array(_ids_range(prefix, n, width, slice(lo, lo + step), start).astype(str))
        for lo in range(0, max(n, 1), step)])


class _LazyTable:
    """A written table as column builders: rows ``lo:hi`` are formatted when asked for.

    Parameters
    ----------
    n : int
        Number of rows.
    columns : dict of str to callable
        Column name -> function of a row slice returning that column's written values (an array,
        a Series or a scalar).
    month : ndarray of int, optional
        Month index of each row (the table's time column); :meth:`month_cuts` cuts the rows there.
    """

    def __init__(self, n: int, columns: dict, month: np.ndarray | None = None):
        self.n, self.columns, self.month = int(n), columns, month

    @classmethod
    def of(cls, df: pd.DataFrame) -> _LazyTable:
        """A small table that is already a DataFrame."""
        return cls(len(df), {c: (lambda sl, s=df[c]: s.iloc[sl].reset_index(drop=True))
                             for c in df.columns})

    def __len__(self) -> int:
        return self.n

    def frame(self, sl: slice = slice(None), cols=None) -> pd.DataFrame:
        """Rows ``sl`` (all columns, or ``cols``) as the DataFrame of written values."""
        m = len(range(*sl.indices(self.n)))
        return pd.DataFrame({c: f(sl) for c, f in self.columns.items() if cols is None or c in cols},
                            index=pd.RangeIndex(m))

    def __getitem__(self, col: str) -> pd.Series:
        return self.frame(cols=[col])[col]

    @property
    def iloc(self):
        table = self

        class _Row:
            def __getitem__(self, i: int) -> pd.Series:
                i = int(i) % table.n
                return table.frame(slice(i, i + 1)).iloc[0]

        return _Row()

    def month_cuts(self, max_rows: int) -> np.ndarray:
        """Row positions cutting the table into months (pieces of at most ``max_rows`` rows)."""
        cuts = [np.arange(0, self.n, max_rows), [self.n]]
        if self.month is not None and self.n:
            m = np.asarray(self.month)
            change = np.flatnonzero(m[1:] != m[:-1]) + 1
            if len(change) <= 4 * (int(m.max()) - int(m.min()) + 1):  # the rows are in month order
                cuts.append(change)
        return np.unique(np.concatenate(cuts))


def _lognormal(rng, median, sigma, size):
    return np.exp(np.log(median) + sigma * rng.standard_normal(size))


def _rng(seed: int, part: int) -> np.random.Generator:
    return np.random.default_rng([seed, part])


@dataclass
class _Days:
    dates: pd.DatetimeIndex      # naive local days
    mid: np.ndarray              # epoch seconds of local midnight (UTC instant)
    dow: np.ndarray
    holiday: np.ndarray
    month: np.ndarray            # month index from start
    months: pd.PeriodIndex


def _days(start: str, end: str, tz: str, holidays: list[str]) -> _Days:
    dates = pd.date_range(start, end, freq="D")
    noon = (dates + pd.Timedelta(hours=12)).tz_localize(tz)
    off = (noon.tz_localize(None) - noon.tz_convert("UTC").tz_localize(None)) // pd.Timedelta(seconds=1)
    naive_s = (dates - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    mid = np.asarray(naive_s, dtype=np.int64) - np.asarray(off, dtype=np.int64)
    hol = np.isin(dates.strftime("%Y-%m-%d"), holidays)
    months = pd.period_range(dates[0], dates[-1], freq="M")
    mi = (dates.year - dates[0].year) * 12 + dates.month - dates[0].month
    return _Days(dates, mid, dates.day_of_week.to_numpy(), hol, np.asarray(mi), months)


def _open_intervals(days: _Days) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Opening intervals (UTC epoch s) and their day index and local start second."""
    s_l, e_l, d_l, a_l = [], [], [], []
    for w, name in enumerate(_DAYS):
        dd = np.flatnonzero((days.dow == w) & ~days.holiday)
        for a, b in _WEEKLY[name]:
            a_s = int(a[:2]) * 3600 + int(a[3:]) * 60
            b_s = int(b[:2]) * 3600 + int(b[3:]) * 60
            s_l.append(days.mid[dd] + a_s)
            e_l.append(days.mid[dd] + b_s)
            d_l.append(dd)
            a_l.append(np.full(len(dd), a_s))
    s, e, d, a = (np.concatenate(x) for x in (s_l, e_l, d_l, a_l))
    o = np.argsort(s, kind="stable")
    return s[o], e[o], d[o], a[o]


# ----------------------------------------------------------------------------------------
# the generator
# ----------------------------------------------------------------------------------------
def generate(*, n_tickets: int | None = None, seed: int = SAMPLE_SEED, start: str = "2025-04-01",
             end: str = "2026-10-31", timezone: str = "Europe/Berlin", dirty: bool = True,
             exported_at: str | None = None) -> SynthResult:
    """Generate a complete, coherent customer-service dataset with planted truth.

    Parameters
    ----------
    n_tickets : int, optional
        Approximate number of tickets. ``None`` gives the sample's natural volume
        (about 1,300-1,700 tickets a month); otherwise every volume (tickets, contacts,
        customers, agents, mentions, ...) is scaled to reach about ``n_tickets``.
    seed : int
        Seed of all random draws; the same seed gives identical tables.
    start, end : str
        First and last local calendar day (``YYYY-MM-DD``) of the data.
    timezone : str
        Business timezone (IANA name).
    dirty : bool
        Add a handful of dirty rows (recorded in ``truth["dirty_rows"]``).
    exported_at : str, optional
        Export time, the censoring cut-off (ISO 8601 with offset). Default: 08:00 local on the
        second day after ``end``.

    Returns
    -------
    SynthResult
        - ``tables``: export-ready DataFrames for every contract table (every contract column,
          required and optional), including ``staffing``, the contact-centre plan per
          30-minute interval and queue (agents required by Erlang C on the forecast, agents
          actually staffed).
        - ``settings``: the ``dataset.yml`` content (timezone, currency EUR, ``exported_at``,
          business hours with split shifts and German public holidays, SLA targets, KPI targets
          keyed by KPI name, survey scales, thresholds, gross margin).
        - ``truth``: ``generator``, ``seed``, ``start``, ``end``, ``timezone``, ``exported_at``;
          ``launches`` (launch_id, name, launched_at, launch_date, product, effect, lag_days,
          peak_extra = expected extra tickets on a weekday at the peak, peak_extra_share =
          the same relative to that day's base volume, decay_days, excess_total = extra
          tickets actually generated); ``incidents`` (date, extra_tickets, extra_on_day,
          category, product, start_local, duration_h, volume_multiplier); ``dirty_rows`` (table,
          file, row = 1-based data row in the written file, column, reason from
          :data:`kpitools.schema.REASONS`, value as written); ``notes`` (abandonment in
          understaffed vs other intervals, planted slow and low-quality agents, utilisation by
          agent, CSAT drivers and response probabilities, support-driven churn, ...).

    Raises
    ------
    ValueError
        ``n_tickets`` below 100 or not an integer, ``start``/``end`` not dates or less than 60
        days apart.

    See Also
    --------
    write_dataset : write the result as CSV or Parquet.
    make_sample : the committed sample.

    Notes
    -----
    Arrivals are Poisson per day with weekday, holiday, seasonal and trend factors, plus one
    component per launch (extra volume ``peak * exp(-(d - lag) / decay)`` after the launch day)
    and per incident. Calls and chats arrive per 30-minute interval; with ``N`` agents staffed
    and traffic ``A = lambda * AHT`` a contact waits with probability Erlang C ``P_wait(N, A)``
    and then ``Exp(rate (N - A) / AHT)`` (Erlang C, Cooper 1981); when ``N <= A`` waits are
    long (mean ``AHT (1 + A - N) / N``). Patience is exponential; a contact whose patience is
    shorter than its wait abandons (a simple Erlang-A-like approximation, Garnett et al. 2002).
    Ticket fields ``first_response_at``, ``first_resolved_at``, ``resolved_at``,
    ``reopen_count``, ``agent_replies`` and ``status`` are derived from the generated events
    after censoring at the export time, so they agree with ``ticket_events`` by construction.
    Agent replies are scheduled on a business clock (opening hours, split shifts, holidays), so
    written tickets are answered inside opening hours. Dirty rows are extra rows (or a second
    copy of an existing id placed after the first); injected ticket rows have no events,
    surveys or contacts, so the loader's cascade does not fire.

    References
    ----------
    Cooper, R. B. (1981). *Introduction to Queueing Theory*, 2nd ed. (Erlang B/C).
    Garnett, O., Mandelbaum, A., Reiman, M. (2002). Designing a call center with impatient
    customers. *Manufacturing & Service Operations Management* 4(3), 208-227 (Erlang A).

    Examples
    --------
    >>> from kpitools.synth import generate
    >>> res = generate(n_tickets=5_000, seed=1)        # doctest: +SKIP
    >>> res.tables["tickets"].columns[:5].tolist()     # doctest: +SKIP
    ['ticket_id', 'created_at', 'channel', 'category', 'priority']
    """
    return _generate(n_tickets=n_tickets, seed=seed, start=start, end=end, timezone=timezone,
                     dirty=dirty, exported_at=exported_at)


def _generate(*, n_tickets, seed, start, end, timezone, dirty, exported_at, lazy=False, shard=None):
    if n_tickets is not None and (not isinstance(n_tickets, int | np.integer) or n_tickets < 100):
        raise ValueError(f"n_tickets must be None or an integer >= 100, got {n_tickets!r}")
    try:
        t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    except ValueError:
        raise ValueError(f"start/end must be dates YYYY-MM-DD, got {start!r}, {end!r}") from None
    if (t1 - t0).days < 59:
        raise ValueError(f"end must be at least 60 days after start, got start={start}, end={end}")
    if exported_at is None:
        exported_at = (t1 + pd.Timedelta(days=2, hours=8)).tz_localize(timezone).isoformat()
    g = _Gen(seed=int(seed), start=start, end=end, tz=timezone, exported_at=exported_at,
             shard=shard)
    return g.run(n_tickets=n_tickets, dirty=dirty, lazy=lazy)


class _Gen:
    def __init__(self, *, seed, start, end, tz, exported_at, shard=None):
        self.seed, self.start, self.end, self.tz = seed, start, end, tz
        # shard of a larger organisation (see _Shard): own seed, id offsets and widths; the
        # launch/incident schedule is drawn from the organisation's seed
        self.shard = shard
        self.stats: dict[str, Any] = {}
        self.settings = _settings(start, end, tz, exported_at)
        self.cutoff = int(pd.Timestamp(exported_at).tz_convert("UTC").value // 10**9)
        self.days = _days(start, end, tz, HOLIDAYS_DE)
        ext_end = (pd.Timestamp(end) + pd.Timedelta(days=150)).strftime("%Y-%m-%d")
        self.xdays = _days(start, ext_end, tz, HOLIDAYS_DE)
        s, e, _, _ = _open_intervals(self.xdays)
        self.clock = _Clock(s, e)
        self.notes: dict[str, Any] = {}

    def _idw(self, prefix: str, n: int, width: int) -> tuple[int, int]:
        """Width and first number of this part's ``n`` ids of ``prefix`` (a shard's own range)."""
        if self.shard is None:
            return width, 0
        self.shard.count[prefix] = int(n)
        return self.shard.width[prefix], self.shard.off.get(prefix, 0)

    def id_end(self, prefix: str, n: int) -> int:
        """Last id number used by a table of ``n`` rows (new dirty-row ids come after it)."""
        return n + (self.shard.off.get(prefix, 0) if self.shard else 0)

    # ---------------------------------------------------------------- volume model
    def _base_rate(self) -> np.ndarray:
        d = self.days
        years = np.arange(len(d.dates)) / 365.25
        f = np.where(d.holiday, np.minimum(_HOL, _DOW[d.dow]), _DOW[d.dow])
        season = np.ones(len(d.dates))
        season[d.dates.month == 8] = 0.88
        season[(d.dates.month == 12) & (d.dates.day >= 20)] = 0.70
        season[d.dates.month == 1] = 1.06
        return f * (1 + 0.16 * years) * season

    def _schedule(self, rng):
        """Launch days, effects, incident days; returns component table and per-day multipliers."""
        d = self.days
        n = len(d.dates)
        n_launch = int(np.clip(round(n / 30.4 * 0.68), 2, len(_LAUNCHES)))
        lo, hi = 21, n - 16
        edges = np.linspace(lo, hi, n_launch + 1).astype(int)
        launch_days = []
        for i in range(n_launch):
            cand = np.arange(edges[i] + 2, max(edges[i] + 3, edges[i + 1] - 12))
            cand = cand[(d.dow[cand] >= 1) & (d.dow[cand] <= 3) & ~d.holiday[cand]]
            if len(cand) == 0:
                cand = np.arange(edges[i], edges[i + 1])
            launch_days.append(int(rng.choice(cand)))
        order = rng.permutation(n_launch)
        n_effect = int(round(n_launch * 0.6))
        effect = np.zeros(n_launch, bool)
        effect[order[:n_effect]] = True
        names = [_LAUNCHES[i] for i in rng.permutation(len(_LAUNCHES))[:n_launch]]
        launches = []
        for i in range(n_launch):
            launches.append({
                "launch_id": f"L{i + 1:02d}", "name": names[i][0], "product": names[i][1],
                "day": launch_days[i], "effect": bool(effect[i]),
                "lag_days": int(rng.integers(0, 4)) if effect[i] else 0,
                "peak_frac": float(np.round(rng.uniform(0.6, 1.2), 2)) if effect[i] else 0.0,
                "decay_days": float(np.round(rng.uniform(4.0, 9.0), 1)) if effect[i] else 0.0,
                "hour": int(rng.integers(9, 15)),
            })
        # incidents: weekdays at least 18 days after any launch window start and 5 before the next
        n_inc = int(np.clip(round(n / 30.4 * 0.17), 1, 4))
        blocked = np.zeros(n, bool)
        for la in launches:
            blocked[max(0, la["day"] - 5): la["day"] + 19] = True
        blocked[: 14] = True
        blocked[n - 10:] = True
        cand = np.flatnonzero(~blocked & (d.dow < 5) & ~d.holiday)
        inc_days = np.sort(rng.choice(cand, size=min(n_inc, len(cand)), replace=False))
        # keep incidents apart
        incidents = []
        for k, day in enumerate(inc_days):
            incidents.append({"day": int(day), "mult": float(np.round(rng.uniform(1.6, 3.0), 2)),
                              "hour": int(rng.integers(8, 15)), "dur_h": float(rng.uniform(2.5, 5.0)),
                              "product": str(rng.choice(["Core", "Payments", "Invoicing"])),
                              "id": f"I{k + 1:02d}"})
        # relative multipliers per component and day (component 0 = base)
        comps = ["base"] + [la["launch_id"] for la in launches] + [i["id"] for i in incidents]
        rel = np.zeros((n, len(comps)))
        rel[:, 0] = 1.0
        dd = np.arange(n)
        for j, la in enumerate(launches, start=1):
            if not la["effect"]:
                continue
            # extra volume relative to the day's own base volume (so weekends get less)
            t = dd - la["day"] - la["lag_days"]
            rel[:, j] = la["peak_frac"] * np.where(t >= 0, np.exp(-np.maximum(t, 0) / la["decay_days"]), 0.0)
        for j, inc in enumerate(incidents, start=1 + len(launches)):
            rel[inc["day"], j] = inc["mult"]
            if inc["day"] + 1 < n:
                rel[inc["day"] + 1, j] = inc["mult"] * 0.15
        return launches, incidents, comps, rel

    # ---------------------------------------------------------------- agents
    def _agents(self, rng, scale):
        d = self.days
        n = len(d.dates)
        counts = {t: max(1, int(round(c * max(scale, 0.3)))) for t, c in _N_AGENTS.items()}
        team = np.concatenate([[t] * c for t, c in counts.items()])
        na = len(team)
        ids = _ids("A", na, *self._idw("A", na, max(2, len(str(na)))))
        speed = _lognormal(rng, 1.0, 0.18, na)
        quality = rng.normal(0, 0.35, na)
        # planted standouts: one slow agent, one low-quality agent (among tier1)
        t1 = np.flatnonzero(team == "tier1")
        slow, weak = int(t1[0]), int(t1[min(1, len(t1) - 1)])
        speed[slow] = 1.8
        quality[weak] = -1.4
        fte = rng.choice([1.0, 1.0, 1.0, 0.75, 0.5], size=na)
        hired = d.mid[0] - rng.integers(120, 1800, na) * 86400  # local midnight, years ago
        left = np.full(na, -1, dtype=np.int64)
        n_new = max(1, int(round(3 * max(scale, 0.34))))
        n_left = max(1, int(round(2 * max(scale, 0.5))))
        cand = rng.permutation(np.flatnonzero(team != "tier2"))
        new_i = cand[:n_new]
        left_i = cand[n_new:n_new + n_left]
        hire_day = rng.integers(int(n * 0.25), int(n * 0.85), len(new_i))
        hired[new_i] = d.mid[hire_day] + 8 * 3600
        left_day = rng.integers(int(n * 0.2), int(n * 0.9), len(left_i))
        left[left_i] = d.mid[left_day] + 18 * 3600
        hourly = np.round(np.array([_HOURLY[t] for t in team]) + rng.normal(0, 4.0, na), 2)
        names = np.array([f"{_FIRST[i % len(_FIRST)]} {_LAST[(i * 7 + 3) % len(_LAST)]}"
                          for i in rng.permutation(na)], dtype=object)
        # presence matrix (agents x days)
        emp = (hired[:, None] <= d.mid[None, :] + 12 * 3600) & \
            ((left[:, None] < 0) | (left[:, None] >= d.mid[None, :] + 12 * 3600))
        workday = (d.dow < 5) & ~d.holiday
        sat = (d.dow == 5) & ~d.holiday
        absent = rng.random((na, n)) < 0.09
        rota = (rng.random((na, n)) < 0.22) & (team != "tier2")[:, None]
        present = emp & ~absent & (workday[None, :] | (sat[None, :] & rota))
        return {"n": na, "ids": ids, "team": team, "speed": speed, "quality": quality,
                "fte": fte, "hired": hired, "left": left, "hourly": hourly, "names": names,
                "present": present, "slow": slow, "weak": weak, "new": new_i}

    def _pick(self, rng, team_idx: np.ndarray, day: np.ndarray, ag) -> np.ndarray:
        """Pick an agent of the given team who is present on (or nearest after) the day."""
        out = np.zeros(len(day), dtype=np.int64)
        n = ag["present"].shape[1]
        for t, name in enumerate(TEAMS):
            m = team_idx == t
            if not m.any():
                continue
            members = np.flatnonzero(ag["team"] == name)
            P = ag["present"][members]
            # work is shared in proportion to FTE / speed (slow agents get through fewer tickets):
            # each agent appears 1-5 times in the pool
            wgt = np.clip(np.round(ag["fte"][members] * 4 / ag["speed"][members]), 1, 5).astype(np.int64)
            cnt = P.sum(axis=0)
            # map empty days to the next day with someone present (else the previous)
            idx = np.where(cnt > 0, np.arange(n), n)
            nxt = np.minimum.accumulate(idx[::-1])[::-1]
            prv = np.maximum.accumulate(np.where(cnt > 0, np.arange(n), -1))
            dm = np.where(nxt[day[m]] < n, nxt[day[m]], prv[day[m]])
            dm = np.where(dm < 0, 0, dm)
            dd, aa = np.nonzero(P.T)  # sorted by day
            dd, aa = np.repeat(dd, wgt[aa]), np.repeat(aa, wgt[aa])
            cnt = np.bincount(dd, minlength=n)
            starts = np.searchsorted(dd, dm)
            c = np.maximum(cnt[dm], 1)
            pos = starts + np.floor(rng.random(m.sum()) * c).astype(np.int64)
            pos = np.minimum(pos, len(aa) - 1)
            out[m] = members[aa[pos]] if len(aa) else members[0]
        return out

    # ---------------------------------------------------------------- customers
    def _customers(self, rng, scale):
        d = self.days
        nm = len(d.months)
        n0 = int(round(3300 * scale))
        new_per_m = rng.poisson(95 * scale, nm)
        new_per_m[0] = 0
        start_m = np.concatenate([np.zeros(n0, int)] + [np.full(k, m) for m, k in enumerate(new_per_m)])
        nc = len(start_m)
        plan = rng.choice(4, size=nc, p=_PLAN_P)
        mrr0 = _PLAN_MRR[plan] * _lognormal(rng, 1.0, 0.35, nc)
        # baseline churn: geometric months until churn
        life = rng.geometric(_PLAN_CHURN[plan])
        end_m = np.minimum(start_m + life, 10**6)
        # start day within the start month (existing customers: first day)
        dim = np.bincount(d.month, minlength=nm)
        first_day = np.searchsorted(d.month, np.arange(nm))
        sday = first_day[start_m] + np.floor(rng.random(nc) * dim[start_m]).astype(int)
        sday[:n0] = 0
        propensity = _PLAN_TICKETS[plan] * rng.gamma(4.0, 0.25, nc)
        return {"n": nc, "ids": _ids("CUS", nc, *self._idw("CUS", nc, max(5, len(str(nc))))),
                "start_m": start_m,
                "end_m": end_m, "plan": plan, "mrr0": mrr0, "sday": sday, "prop": propensity,
                "n0": n0}

    def _pick_customers(self, rng, month: np.ndarray, cust) -> np.ndarray:
        out = np.full(len(month), -1, dtype=np.int64)
        for m in np.unique(month):
            sel = np.flatnonzero(month == m)
            act = np.flatnonzero((cust["start_m"] <= m) & (cust["end_m"] > m))
            w = cust["prop"][act]
            cw = np.cumsum(w)
            u = rng.random(len(sel)) * cw[-1]
            out[sel] = act[np.minimum(np.searchsorted(cw, u, side="right"), len(act) - 1)]
        return out

    # ---------------------------------------------------------------- contact centre
    def _contacts(self, rng, scale, rel, comps, incidents, ag, cust):
        d = self.days
        s, e, dayi, a_loc = _open_intervals(d)
        # 30-minute slots inside opening intervals
        nslot = ((e - s) // 1800).astype(int)
        rep = np.repeat(np.arange(len(s)), nslot)
        k = np.arange(len(rep)) - np.repeat(np.cumsum(nslot) - nslot, nslot)
        slot_s = s[rep] + k * 1800
        slot_d = dayi[rep]
        slot_h = (a_loc[rep] + k * 1800) // 3600
        w = np.array([_CALL_HOUR.get(int(h), 0.8) for h in range(24)])[slot_h]
        w = w / np.bincount(slot_d, weights=w, minlength=len(d.dates))[slot_d]
        base = self._base_rate()
        inc_cols = {c: i for i, c in enumerate(comps)}
        frames = []
        staff_rows = []
        for ch in ("phone", "chat"):
            day_rate = _CONTACT_L0[ch] * scale * base  # contacts per day (base component)
            day_rate = np.where(d.dow == 6, 0.0, day_rate)
            lam = (day_rate[slot_d] * w)[:, None] * rel[slot_d, :]
            # incidents concentrate in a few hours around their start
            hrs = (slot_s - d.mid[slot_d]) / 3600.0
            for inc in incidents:
                j = inc_cols[inc["id"]]
                bump = w * np.exp(-0.5 * ((hrs - inc["hour"] - inc["dur_h"] / 2) / (inc["dur_h"] / 2)) ** 2)
                norm = np.bincount(slot_d, weights=bump, minlength=len(d.dates))
                lam[:, j] = day_rate[slot_d] * rel[slot_d, j] * bump / np.maximum(norm[slot_d], 1e-12)
            cnt = rng.poisson(lam)
            tot_lam = lam.sum(axis=1)
            rows_, cols_ = np.nonzero(cnt)  # row-major: sorted by slot
            reps_ = cnt[rows_, cols_]
            slot_of = np.repeat(rows_, reps_)
            comp_of = np.repeat(cols_, reps_)
            q = slot_s[slot_of] + np.floor(rng.random(len(slot_of)) * 1800).astype(np.int64)
            aht_med, hold_p, acw_med, patience = _AHT_PARAMS[ch]
            aht = aht_med * np.exp(0.5 * 0.45**2) + hold_p * 60 + acw_med * np.exp(0.5 * 0.4**2)
            # staffing plan: Erlang C on the forecast (base component only: launches and
            # incidents are not foreseen), planned for 85 % in 20 s as a buffer over 80/20
            fc = lam[:, 0] * 1.0
            A_fc = fc * aht / 1800.0
            req = _erlang_required(A_fc, aht, target=0.85, t=20.0)
            # shortfalls: some half-days short by 1-2 agents, a few over
            half = (slot_d * 2 + (slot_h >= 12)).astype(np.int64)
            # short or over-staffed half-days are the organisation's (shared by its shards)
            org = self.shard.org_seed if self.shard else self.seed
            u = _rng(org, 900 + (ch == "chat")).random(half.max() + 1)
            short = np.where(u < 0.04, 2, np.where(u < 0.13, 1, 0))[half]
            over = np.where(u > 0.93, 1, 0)[half]
            staffed = np.maximum(req - short + over, 1)
            A_true = tot_lam * aht / 1800.0
            pw = _erlang_c(staffed, A_true)
            Ni, Ai, Pi = staffed[slot_of], A_true[slot_of], pw[slot_of]
            nc = len(q)
            waits = rng.random(nc) < Pi
            stable = Ni > Ai
            rate = np.where(stable, (Ni - Ai) / aht, 1.0)
            w_st = rng.exponential(1.0, nc) / rate
            w_un = rng.exponential(1.0, nc) * aht * (1 + Ai - Ni) / Ni
            wait = np.where(stable, np.where(waits, w_st, 0.0), w_un + 20)
            pat = rng.exponential(patience, nc)
            aband = pat < wait
            wait_obs = np.round(np.where(aband, pat, wait)).astype(np.int64)
            talk = np.where(aband, np.nan, np.round(_lognormal(rng, aht_med, 0.45, nc)))
            hold = np.where(aband, np.nan, np.where(rng.random(nc) < hold_p,
                                                     np.round(rng.exponential(60, nc)), 0.0))
            acw = np.where(aband, np.nan, np.round(_lognormal(rng, acw_med, 0.4, nc)))
            frames.append(pd.DataFrame({
                "channel": ch, "queued_at": q, "wait": wait_obs, "abandoned": aband,
                "talk": talk, "hold": hold, "acw": acw, "comp": comp_of,
                "day": slot_d[slot_of], "under": (staffed < req)[slot_of]}))
            staff_rows.append(pd.DataFrame({
                "interval_start": slot_s, "channel": ch, "forecast_contacts": np.round(fc, 3),
                "expected_contacts": np.round(tot_lam, 3), "contacts": cnt.sum(axis=1),
                "required_agents": req, "staffed_agents": staffed,
                "abandoned": np.bincount(slot_of, weights=aband, minlength=len(slot_s))}))
        c = pd.concat(frames, ignore_index=True)
        n = len(c)
        # category/team/agent
        cat = rng.choice(len(CATEGORIES), size=n, p=_CAT_P)
        team = np.where(CATEGORIES.index("billing") == cat, 2, 0)
        agent = self._pick(rng, team, c["day"].to_numpy(), ag)
        spd = ag["speed"][agent]
        c["talk"] = np.round(c["talk"].to_numpy() * spd)
        c["agent"] = np.where(c["abandoned"], -1, agent)
        c["cat"] = cat
        # customer: a quarter are prospects or callers the agent could not identify
        mon = d.month[c["day"].to_numpy()]
        cu = self._pick_customers(rng, mon, cust)
        cu[rng.random(n) < 0.25] = -1  # prospects and callers not identified
        c["cust"] = cu
        c["answered"] = np.where(c["abandoned"], -1, c["queued_at"] + c["wait"])
        c["ended"] = np.where(c["abandoned"], c["queued_at"] + c["wait"],
                              c["answered"] + c["talk"].fillna(0).astype(np.int64)
                              + c["hold"].fillna(0).astype(np.int64))
        # resolved on the contact: worse for slow/low quality agents
        qual = ag["quality"][agent]
        p_res = 1 / (1 + np.exp(-(1.6 + 0.8 * qual)))
        c["resolved"] = np.where(c["abandoned"], False, rng.random(n) < p_res)
        c["link"] = (~c["abandoned"].to_numpy()) & (rng.random(n) < np.where(
            c["channel"] == "phone", _LINK_P["phone"], _LINK_P["chat"]))
        staffing = pd.concat(staff_rows, ignore_index=True)
        staffing = staffing.sort_values(["interval_start", "channel"], kind="stable", ignore_index=True)
        return c, staffing

    # ---------------------------------------------------------------- tickets (arrivals)
    def _ticket_arrivals(self, rng, scale, rel, comps, launches, incidents):
        d = self.days
        base = self._base_rate() * _L0 * scale * 0.78  # non-contact channels
        lam = base[:, None] * rel
        cnt = rng.poisson(lam)
        rows, cols = np.nonzero(cnt)
        reps = cnt[rows, cols]
        day = np.repeat(rows, reps)
        comp = np.repeat(cols, reps)
        n = len(day)
        we = (d.dow[day] >= 5) | d.holiday[day]
        pw = _HOURS_WD / _HOURS_WD.sum()
        pe = _HOURS_WE / _HOURS_WE.sum()
        cw, ce = np.cumsum(pw), np.cumsum(pe)
        u = rng.random(n)
        hour = np.where(we, np.searchsorted(ce, u * ce[-1], side="right"),
                        np.searchsorted(cw, u * cw[-1], side="right"))
        hour = np.minimum(hour, 23)
        sec = hour * 3600 + np.floor(rng.random(n) * 3600).astype(np.int64)
        # launches: first hours after the launch; incidents concentrated in their window
        ncomp = len(comps)
        for j in range(1, ncomp):
            m = comp == j
            if not m.any():
                continue
            if j <= len(launches):
                la = launches[j - 1]
                on_launch_day = m & (day == la["day"])
                lo = la["hour"] * 3600
                sec[on_launch_day] = lo + np.floor(rng.random(on_launch_day.sum()) * (86400 - lo)).astype(np.int64)
            else:
                inc = incidents[j - 1 - len(launches)]
                on = m & (day == inc["day"])
                st = inc["hour"] * 3600
                sec[on] = np.minimum(st + rng.exponential(inc["dur_h"] * 3600 / 1.5, on.sum()),
                                     86399).astype(np.int64)
        t = d.mid[day] + sec
        chan = rng.choice([0, 1, 4], size=n, p=[0.60, 0.32, 0.08])  # email, web, social
        return pd.DataFrame({"created": t, "day": day, "comp": comp, "channel": chan})

    # ---------------------------------------------------------------- lifecycle
    def _lifecycle(self, rng, T: pd.DataFrame, ag) -> tuple[pd.DataFrame, dict]:
        """Generate the event trail for tickets in T (vectorised over tickets, loop over rounds)."""
        n = len(T)
        clk = self.clock
        created = T["created"].to_numpy()
        prio = T["prio"].to_numpy()
        chan = T["channel"].to_numpy()
        a1 = T["agent1"].to_numpy()
        a2 = T["agent2"].to_numpy()
        esc = T["escalated"].to_numpy()
        k = T["rounds"].to_numpy()
        reo = T["reopens"].to_numpy()
        from_contact = T["contact_end"].to_numpy() >= 0
        contact_resolved = T["contact_resolved"].to_numpy()
        spd1 = ag["speed"][a1]
        spd2 = ag["speed"][a2]
        ev_t, ev_i, ev_k, ev_a, ev_s = [], [], [], [], []
        tix = np.arange(n)

        def emit(mask, t, kind, author, status=-1):
            idx = tix[mask]
            ev_i.append(idx)
            ev_t.append(np.asarray(t)[mask] if np.ndim(t) else np.full(len(idx), t))
            ev_k.append(np.full(len(idx), kind, dtype=np.int8))
            au = np.asarray(author)
            ev_a.append(au[mask] if au.ndim else np.full(len(idx), int(au)))
            ev_s.append(np.full(len(idx), status, dtype=np.int8))

        CUST, BOT = -2, -3
        # kinds: 0 customer_message, 1 agent_reply, 2 internal_note, 3 bot_message, 4 status_change
        # statuses: 1 open, 2 pending, 3 on_hold, 4 solved
        proactive = T["proactive"].to_numpy()
        all_ = np.ones(n, bool)
        emit(proactive, created, 1, a1)
        emit(proactive, created, 4, a1, 1)
        first_cust = np.where(proactive, created + np.round(_lognormal(rng, 3 * 3600, 0.8, n)).astype(np.int64),
                              created)
        emit(all_, first_cust, 0, CUST)
        bot = (~proactive) & np.isin(chan, [0, 1]) & (rng.random(n) < 0.85)
        emit(bot, first_cust + rng.integers(3, 90, n), 3, BOT)
        # first response: business clock (contact tickets: during the contact)
        med = np.array([6 * 3600, 2.6 * 3600, 1.1 * 3600, 0.4 * 3600])[prio]
        d_fr = np.round(_lognormal(rng, 1.0, 0.85, n) * med * spd1).astype(np.int64)
        fr = clk.add(first_cust, d_fr)
        fr = np.where(from_contact, np.maximum(T["contact_end"].to_numpy(), first_cust + 30), fr)
        fr = np.maximum(fr, first_cust + 1)
        note = rng.random(n) < 0.22
        emit(note & ~from_contact, first_cust + np.maximum(((fr - first_cust) * rng.random(n)).astype(np.int64), 1),
             2, a1)
        emit(all_, fr, 1, a1)
        emit(~proactive, fr, 4, a1, 1)
        last = fr.copy()
        cur = a1.copy()
        cur_spd = spd1.copy()
        # escalation after the first reply
        esc_t = fr + 60
        emit(esc, esc_t, 2, a1)
        emit(esc, esc_t + 1, 4, a1, 3)
        pick = clk.add(esc_t + 1, np.round(_lognormal(rng, 4 * 3600, 0.7, n)).astype(np.int64))
        emit(esc, pick, 4, a2, 1)
        rep2 = clk.add(pick, np.round(_lognormal(rng, 1.5 * 3600, 0.8, n) * spd2).astype(np.int64))
        emit(esc, rep2, 1, a2)
        last = np.where(esc, rep2, last)
        cur = np.where(esc, a2, cur)
        cur_spd = np.where(esc, spd2, cur_spd)
        done_rounds = np.where(esc, 2, 1)
        # later rounds: pending, customer reply, open, agent reply
        nr_med = np.array([8 * 3600, 3 * 3600, 1.5 * 3600, 0.6 * 3600])[prio]
        for j in range(2, int(k.max()) + 1):
            m = k >= j
            m &= done_rounds < j
            if not m.any():
                continue
            emit(m, last + 1, 4, cur, 2)
            cm = last + 60 + np.round(_lognormal(rng, 5 * 3600, 1.0, n)).astype(np.int64)
            emit(m, cm, 0, CUST)
            emit(m, cm + 1, 4, CUST, 1)
            ar = clk.add(cm + 1, np.round(_lognormal(rng, 1.0, 0.8, n) * nr_med * cur_spd).astype(np.int64))
            emit(m, ar, 1, cur)
            last = np.where(m, ar, last)
        # solved
        solve = last + rng.integers(1, 900, n)
        solve = np.where(from_contact & contact_resolved & (k == 1) & ~esc, last + 1, solve)
        emit(all_, solve, 4, cur, 4)
        first_solved = solve.copy()
        last = solve
        for r in (1, 2):
            m = reo >= r
            if not m.any():
                continue
            cm = last + 300 + np.round(_lognormal(rng, 20 * 3600, 0.9, n)).astype(np.int64)
            emit(m, cm, 0, CUST)
            emit(m, cm + 1, 4, CUST, 1)
            ar = clk.add(cm + 1, np.round(_lognormal(rng, 1.0, 0.8, n) * nr_med * cur_spd).astype(np.int64))
            emit(m, ar, 1, cur)
            sv = ar + rng.integers(1, 900, n)
            emit(m, sv, 4, cur, 4)
            last = np.where(m, sv, last)
        ev = pd.DataFrame({"t": np.concatenate(ev_i), "at": np.concatenate(ev_t).astype(np.int64),
                           "kind": np.concatenate(ev_k), "author": np.concatenate(ev_a),
                           "status": np.concatenate(ev_s)})
        info = {"fr_sched": fr, "first_solved_sched": first_solved, "final_agent": cur,
                "first_cust": first_cust}
        return ev, info

    # ---------------------------------------------------------------- main
    def run(self, *, n_tickets, dirty, lazy=False):
        seed = self.seed
        d = self.days
        rng = _rng(self.shard.org_seed if self.shard else seed, 1)
        launches, incidents, comps, rel = self._schedule(rng)
        # natural expected tickets (scale 1) to derive the scale
        base = self._base_rate()
        contact_tickets = sum(_CONTACT_L0[c] * _LINK_P[c] * 0.93 for c in _CONTACT_L0)
        nat = float((base[:, None] * rel).sum(axis=0).sum() * (_L0 * 0.78) * 1.07
                    + (np.where(d.dow == 6, 0, base)[:, None] * rel).sum() * contact_tickets)
        scale = 1.0 if n_tickets is None else n_tickets / nat
        self.notes["scale"] = round(scale, 6)
        # organisation-wide scale (truths and fixed costs) and this part's share of it
        self.org_scale = self.shard.n_org / nat if self.shard else self.notes["scale"]
        self.share = n_tickets / self.shard.n_org if self.shard else 1.0
        ag = self._agents(_rng(seed, 2), scale)
        self.ag_ids, self.ag_slow, self.ag_weak = ag["ids"], ag["slow"], ag["weak"]
        cust = self._customers(_rng(seed, 3), scale)
        contacts, staffing = self._contacts(_rng(seed, 4), scale, rel, comps, incidents, ag, cust)
        T = self._tickets(_rng(seed, 5), scale, rel, comps, launches, incidents, contacts, ag, cust)
        T, ev, contacts = self._finish_tickets(_rng(seed, 6), T, ag, cust, contacts)
        agent_days = self._agent_days(_rng(seed, 7), T, contacts, ag)
        surveys, sends, bad_exp = self._surveys(_rng(seed, 8), T, ag, cust, agent_days)
        subs, cust = self._subscriptions(_rng(seed, 9), cust, T, bad_exp)
        users = self._user_activity(_rng(seed, 10), cust, scale)
        web = self._web_days(_rng(seed, 11), scale, rel, comps, launches, incidents, cust, T)
        mentions = self._mentions(_rng(seed, 12), scale, rel, comps, launches, incidents)
        costs = self._costs(agent_days, ag, contacts, T)
        if lazy:
            tables = self._lazy_tables(T, ev, contacts, surveys, sends, launches, subs, costs, ag,
                                       agent_days, web, users, mentions, staffing, cust)
        else:
            tables = self._format(T, ev, contacts, surveys, sends, launches, subs, costs, ag,
                                  agent_days, web, users, mentions, staffing, cust)
        truth = self._truth(T, launches, incidents, comps, contacts, staffing)
        del T, ev, contacts, surveys, sends, subs, users, agent_days  # free memory before copies
        if lazy:  # dirty rows are spliced in while writing (see _write_parquet)
            plans, dirty_rows = _plan_dirty(_rng(seed, 13), tables, self) if dirty else ({}, [])
            truth["dirty_rows"] = dirty_rows
            return SynthResult(tables=tables, settings=self.settings, truth=truth,
                               meta={"scale": scale, "placed": plans, "gen": self,
                                     "keyed": {"staffing": staffing, "web_days": web,
                                               "costs": costs}})
        if dirty:
            tables, dirty_rows = _inject_dirty(_rng(seed, 13), tables, self)
        else:
            dirty_rows = []
        truth["dirty_rows"] = dirty_rows
        return SynthResult(tables=tables, settings=self.settings, truth=truth,
                           meta={"scale": scale})

    def _tickets(self, rng, scale, rel, comps, launches, incidents, contacts, ag, cust):
        d = self.days
        A = self._ticket_arrivals(rng, scale, rel, comps, launches, incidents)
        n = len(A)
        # categories/products
        cat = rng.choice(len(CATEGORIES), size=n, p=_CAT_P)
        prod = rng.choice(len(PRODUCTS), size=n, p=_PROD_P)
        nl = len(launches)
        for j in range(1, len(comps)):
            m = (A["comp"] == j).to_numpy()
            if not m.any():
                continue
            if j <= nl:
                la = launches[j - 1]
                pc = CATEGORIES.index(_PRODUCT_CATEGORY[la["product"]])
                cc = rng.choice([1, 0, pc], size=m.sum(), p=[0.4, 0.35, 0.25])
                cat[m] = cc
                prod[m] = PRODUCTS.index(la["product"])
            else:
                inc = incidents[j - 1 - nl]
                cat[m] = np.where(rng.random(m.sum()) < 0.85, CATEGORIES.index("outage"), cat[m])
                prod[m] = PRODUCTS.index(inc["product"])
        A["cat"], A["prod"] = cat, prod
        A["contact"] = -1
        A["contact_end"] = -1
        A["contact_resolved"] = False
        mon = d.month[A["day"].to_numpy()]
        cu = self._pick_customers(rng, mon, cust)
        cu[rng.random(n) < 0.08] = -1  # prospects without an account
        A["cust"] = cu
        # tickets from answered contacts
        cl = contacts[contacts["link"]]
        B = pd.DataFrame({
            "created": cl["answered"].to_numpy(), "day": cl["day"].to_numpy(),
            "comp": cl["comp"].to_numpy(),
            "channel": np.where(cl["channel"] == "phone", 3, 2),
            "cat": cl["cat"].to_numpy(), "prod": rng.choice(len(PRODUCTS), size=len(cl), p=_PROD_P),
            "contact": cl.index.to_numpy(),
            "contact_end": (cl["ended"] + cl["acw"].astype(np.int64)).to_numpy(),
            "contact_resolved": cl["resolved"].to_numpy(), "cust": cl["cust"].to_numpy(),
            "agent1": cl["agent"].to_numpy()})
        for j in range(1, nl + 1):
            m = (B["comp"] == j).to_numpy()
            if m.any():
                B.loc[m, "prod"] = PRODUCTS.index(launches[j - 1]["product"])
        A["agent1"] = -1
        T = pd.concat([A, B], ignore_index=True)
        T["repeat_of"] = -1
        return T

    def _attributes(self, rng, T, ag):
        """Priority, team, agents, escalation, rounds, reopens (vectorised)."""
        d = self.days
        n = len(T)
        cat = T["cat"].to_numpy()
        outage = cat == CATEGORIES.index("outage")
        bug = cat == CATEGORIES.index("bug")
        p = np.array([0.22, 0.55, 0.18, 0.05])
        prio = rng.choice(4, size=n, p=p)
        prio = np.where(bug & (rng.random(n) < 0.25), np.maximum(prio, 2), prio)
        prio = np.where(outage, np.where(rng.random(n) < 0.45, 3, 2), prio)
        T["prio"] = prio
        billing = cat == CATEGORIES.index("billing")
        team1 = np.where(billing, 2, 0)
        day = T["day"].to_numpy()
        a1 = T["agent1"].to_numpy()
        need = a1 < 0
        pick = self._pick(rng, team1, day, ag)
        a1 = np.where(need, pick, a1)
        # contact tickets keep the contact's agent; its team decides the team
        team_of = np.array([TEAMS.index(t) for t in ag["team"]])
        team1 = team_of[a1]
        T["agent1"] = a1
        p_esc = np.select([outage, bug, cat == CATEGORIES.index("feature request")],
                          [0.45, 0.24, 0.10], 0.05)
        esc = (rng.random(n) < p_esc) & (team1 == 0)
        T["escalated"] = esc
        a2 = self._pick(rng, np.ones(n, dtype=np.int64), np.minimum(day + 1, len(d.dates) - 1), ag)
        T["agent2"] = np.where(esc, a2, a1)
        T["team"] = np.where(esc, 1, team1)
        lam = np.array([0.4, 1.2, 0.6, 0.5, 0.3, 0.6])[cat] * ag["speed"][a1] ** 0.5
        k = 1 + rng.poisson(lam)
        from_contact = T["contact_end"].to_numpy() >= 0
        k = np.where(from_contact & T["contact_resolved"].to_numpy(), 1, k)
        k = np.where(esc, np.maximum(k, 2), k)
        T["rounds"] = np.minimum(k, 8)
        q = ag["quality"][T["agent2"].to_numpy()]
        p_re = 0.055 * np.exp(-0.7 * q) * np.where(bug, 1.5, 1.0)
        reo = (rng.random(n) < p_re).astype(int)
        reo = reo + ((reo == 1) & (rng.random(n) < 0.15))
        T["reopens"] = reo
        T["proactive"] = (T["channel"].to_numpy() == 0) & (rng.random(n) < 0.03) & ~from_contact
        return T

    def _finish_tickets(self, rng, T, ag, cust, contacts):
        d = self.days
        T = self._attributes(rng, T, ag)
        ev, info = self._lifecycle(rng, T, ag)
        # repeat contacts: new tickets from the same customer within 7 days
        fb = info["fr_sched"] - T["created"].to_numpy()
        p_rep = 0.035 + 0.05 * (T["rounds"].to_numpy() >= 3) + 0.10 * (T["reopens"].to_numpy() > 0) \
            + 0.05 * (fb > 24 * 3600)
        has_c = T["cust"].to_numpy() >= 0
        rep = has_c & (rng.random(len(T)) < p_rep)
        src = np.flatnonzero(rep)
        gap = np.minimum(rng.exponential(2.2 * 86400, len(src)), 6.6 * 86400).astype(np.int64) + 600
        newt = T["created"].to_numpy()[src] + gap
        keep = newt < d.mid[-1] + 86400
        src, newt = src[keep], newt[keep]
        R = pd.DataFrame({
            "created": newt, "day": np.clip(np.searchsorted(d.mid, newt, side="right") - 1, 0, len(d.mid) - 1),
            "comp": 0, "channel": rng.choice([0, 1, 4], size=len(src), p=[0.65, 0.3, 0.05]),
            "cat": T["cat"].to_numpy()[src], "prod": T["prod"].to_numpy()[src], "contact": -1,
            "contact_end": -1, "contact_resolved": False, "cust": T["cust"].to_numpy()[src],
            "agent1": -1, "repeat_of": src})
        R = self._attributes(rng, R, ag)
        evR, infoR = self._lifecycle(rng, R, ag)
        nA = len(T)
        evR["t"] += nA
        T = pd.concat([T, R], ignore_index=True)
        ev = pd.concat([ev, evR], ignore_index=True)
        first_cust = np.concatenate([info["first_cust"], infoR["first_cust"]])
        final_agent = np.concatenate([info["final_agent"], infoR["final_agent"]])
        # complaints
        n = len(T)
        fb = np.concatenate([info["fr_sched"], infoR["fr_sched"]]) - first_cust
        p_c = 0.012 + 0.05 * (fb > 8 * 3600) + 0.06 * (T["cat"].to_numpy() == CATEGORIES.index("outage")) \
            + 0.05 * (T["reopens"].to_numpy() > 0) + 0.03 * (T["repeat_of"].to_numpy() >= 0)
        T["complaint"] = rng.random(n) < p_c
        T["final_agent"] = final_agent
        # order tickets by creation; ids follow that order
        order = np.lexsort((np.arange(n), T["created"].to_numpy()))
        newpos = np.empty(n, dtype=np.int64)
        newpos[order] = np.arange(n)
        T = T.iloc[order].reset_index(drop=True)
        T["repeat_of"] = np.where(T["repeat_of"] >= 0, newpos[np.maximum(T["repeat_of"].to_numpy(), 0)], -1)
        ev["t"] = newpos[ev["t"].to_numpy()]
        # censor at the export time
        ev = ev[ev["at"].to_numpy() <= self.cutoff]
        ev = ev.iloc[np.lexsort((np.arange(len(ev)), ev["at"].to_numpy(), ev["t"].to_numpy()))]
        ev = ev.reset_index(drop=True)
        # derive ticket fields from events
        t = ev["t"].to_numpy()
        kind = ev["kind"].to_numpy()
        at = ev["at"].to_numpy()
        st = ev["status"].to_numpy()
        cm = kind == 0
        first_cm = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_cm, t[cm], at[cm])
        ar = (kind == 1) & (at >= first_cm[t])
        frt = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(frt, t[ar], at[ar])
        T["first_response"] = np.where(frt == np.iinfo(np.int64).max, -1, frt)
        T["agent_replies"] = np.bincount(t[kind == 1], minlength=n)
        sv = (kind == 4) & (st == 4)
        fs = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(fs, t[sv], at[sv])
        T["first_resolved"] = np.where(fs == np.iinfo(np.int64).max, -1, fs)
        sc = kind == 4
        ts, ss, ats = t[sc], st[sc], at[sc]
        prev_same = np.r_[False, ts[1:] == ts[:-1]]
        prev_st = np.r_[-1, ss[:-1]]
        reopen = prev_same & (prev_st == 4) & (ss == 1)
        T["reopen_count"] = np.bincount(ts[reopen], minlength=n)
        last_idx = np.full(n, -1)
        last_idx[ts] = np.arange(len(ts))  # last assignment wins (sorted by time)
        last_status = np.where(last_idx >= 0, ss[np.maximum(last_idx, 0)], 0)
        T["status"] = last_status
        T["resolved"] = np.where(last_status == 4, ats[np.maximum(last_idx, 0)], -1)
        # handle time per ticket (seconds), calibrated later against staffed time
        spd = ag["speed"][T["final_agent"].to_numpy()]
        T["handle"] = T["agent_replies"].to_numpy() * _lognormal(rng, 600, 0.5, n) * spd \
            * np.where(T["escalated"], 1.6, 1.0)
        # contacts: link ticket positions
        contacts["ticket"] = -1
        fc = T["contact"].to_numpy() >= 0
        contacts.loc[T["contact"].to_numpy()[fc], "ticket"] = np.flatnonzero(fc)
        return T, ev, contacts

    # ---------------------------------------------------------------- agent days
    def _agent_days(self, rng, T, contacts, ag):
        d = self.days
        pres = ag["present"]
        ai, di = np.nonzero(pres)
        sat = d.dow[di] == 5
        fte = ag["fte"][ai]
        # logged into the queue: Saturday rota fully, weekdays ~40 % of a 9-hour day
        staffed = np.where(sat, 4 * 3600 * rng.uniform(0.80, 0.95, len(ai)),
                           9 * 3600 * fte * rng.uniform(*_QUEUE_SHARE, len(ai)))
        # training: a few days a year per agent, onboarding for new hires
        train = rng.random(len(ai)) < 0.018
        spend = np.where(train, np.round(rng.uniform(250, 650, len(ai)), -1), 0.0)
        day_since_hire = (d.mid[di] - ag["hired"][ai]) / 86400
        onboarding = (day_since_hire >= 0) & (day_since_hire < 14)
        spend = np.where(onboarding, 180.0, spend)
        staffed = np.where(train | onboarding, staffed * 0.5, staffed)
        # handle time: tickets on the day of the first response, contacts on their day
        n = len(d.dates)
        H = np.zeros((ag["n"], n))
        fr = T["first_response"].to_numpy()
        ok = fr >= 0
        tday = np.clip(np.searchsorted(d.mid, fr[ok], side="right") - 1, 0, n - 1)
        np.add.at(H, (T["final_agent"].to_numpy()[ok], tday), T["handle"].to_numpy()[ok])
        C = np.zeros((ag["n"], n))
        ans = ~contacts["abandoned"].to_numpy()
        cs = (contacts["talk"].fillna(0) + contacts["hold"].fillna(0) + contacts["acw"].fillna(0)).to_numpy()
        np.add.at(C, (contacts["agent"].to_numpy()[ans], contacts["day"].to_numpy()[ans]), cs[ans])
        # calibrate ticket handle per team so that team utilisation is realistic
        target = {"tier1": 0.66, "tier2": 0.58, "billing": 0.60}
        fa = T["final_agent"].to_numpy()
        factors = np.ones(ag["n"])
        for name, tu in target.items():
            members = ag["team"][ai] == name
            st_ = staffed[members].sum()
            tk = H[ai[members], di[members]].sum()
            ct = C[ai[members], di[members]].sum()
            factors[ag["team"] == name] = float(np.clip((tu * st_ - ct) / max(tk, 1.0), 0.3, 6.0))
        T["handle"] = np.round(T["handle"].to_numpy() * factors[fa])
        handle = H[ai, di] * factors[ai] + C[ai, di]
        factor = {n_: round(float(factors[ag["team"] == n_][0]), 4) for n_ in target
                  if (ag["team"] == n_).any()}
        # work on a day the agent is absent is booked on their day anyway (rare): drop it
        self.notes["ticket_handle_factor"] = factor
        out = pd.DataFrame({"agent": ai, "day": di, "staffed_s": np.round(staffed),
                            "handle_s": np.round(handle), "training_spend": spend})
        util = out.groupby("agent")["handle_s"].sum() / out.groupby("agent")["staffed_s"].sum()
        self.notes["utilisation_by_agent"] = {ag["ids"][i]: round(float(v), 3) for i, v in util.items()}
        return out

    # ---------------------------------------------------------------- surveys
    def _surveys(self, rng, T, ag, cust, agent_days):
        d = self.days
        n = len(T)
        cut = self.cutoff
        fres = T["first_resolved"].to_numpy()
        created = T["created"].to_numpy()
        frt = T["first_response"].to_numpy()
        frt_b = np.where(frt >= 0, (self.clock.to_b(frt) - self.clock.to_b(created)) / 3600.0, 48.0)
        agent = T["final_agent"].to_numpy()
        q = ag["quality"][agent]
        reo = T["reopens"].to_numpy() > 0
        esc = T["escalated"].to_numpy()
        comp = T["complaint"].to_numpy()
        rounds = T["rounds"].to_numpy()
        z = 2.6 + q - 0.30 * np.log1p(frt_b) - 1.3 * reo - 0.4 * esc - 1.6 * comp \
            - 0.15 * (rounds - 1) + rng.logistic(0, 0.9, n)
        csat = 1 + np.searchsorted([-1.2, -0.3, 0.5, 1.6], z, side="right")
        ces = np.clip(np.round(4.6 - 0.9 * z + rng.normal(0, 0.8, n)), 1, 7)
        out, sends = [], []
        res_ok = fres >= 0
        chan = T["channel"].to_numpy()
        # CSAT after first resolution
        sent = fres + 3600
        m = m_csat = res_ok & (sent <= cut) & (T["cust"].to_numpy() >= 0)
        p_resp = np.array([0, 0.42, 0.30, 0.18, 0.20, 0.31])[csat]
        resp = m & (rng.random(n) < p_resp)
        sub = sent + np.round(_lognormal(rng, 5 * 3600, 1.1, n)).astype(np.int64)
        resp &= sub <= cut
        sends.append(pd.DataFrame({"survey": "csat", "sent": sent[m], "t": np.flatnonzero(m),
                                   "cust": T["cust"].to_numpy()[m]}))
        low_cat = np.select([reo, frt_b > 8, esc, comp],
                            ["not resolved", "slow response", "handoffs", "complaint handling"],
                            "agent knowledge")
        alt = np.array(["agent knowledge", "product bug", "pricing", "other"], dtype=object)[
            rng.integers(0, 4, n)]
        low_cat = np.where(rng.random(n) < 0.7, low_cat, alt)
        out.append(pd.DataFrame({
            "survey": "csat", "score": csat[resp].astype(float), "submitted": sub[resp],
            "t": np.flatnonzero(resp), "cust": T["cust"].to_numpy()[resp], "agent": agent[resp],
            "channel": chan[resp],
            "comment": np.where(csat[resp] <= 2, low_cat[resp], None)}))
        # CES after a quarter of the resolved tickets (those without a CSAT invitation)
        mc = res_ok & (rng.random(n) < 0.25) & (sent + 120 <= cut) & (T["cust"].to_numpy() >= 0)
        p_c = np.where(ces >= 6, 0.30, 0.18)
        rc = mc & (rng.random(n) < p_c)
        subc = sent + 120 + np.round(_lognormal(rng, 6 * 3600, 1.0, n)).astype(np.int64)
        rc &= subc <= cut
        sends.append(pd.DataFrame({"survey": "ces", "sent": sent[mc] + 120, "t": np.flatnonzero(mc),
                                   "cust": T["cust"].to_numpy()[mc]}))
        out.append(pd.DataFrame({
            "survey": "ces", "score": ces[rc], "submitted": subc[rc], "t": np.flatnonzero(rc),
            "cust": T["cust"].to_numpy()[rc], "agent": agent[rc], "channel": chan[rc],
            "comment": np.where(ces[rc] >= 5, low_cat[rc], None)}))
        # QA reviews: ~6 % of resolved tickets, a few business days later
        mq = res_ok & (rng.random(n) < 0.06)
        qa_t = self.clock.add(fres, np.round(rng.uniform(1, 5, n) * 9 * 3600).astype(np.int64))
        mq &= qa_t <= cut
        qa = np.clip(np.round((0.84 + 0.07 * q + rng.normal(0, 0.08, n)) * 20) / 20, 0, 1)
        out.append(pd.DataFrame({
            "survey": "qa", "score": qa[mq], "submitted": qa_t[mq], "t": np.flatnonzero(mq),
            "cust": -1, "agent": agent[mq], "channel": chan[mq],
            "comment": np.where(qa[mq] <= 0.7, "process not followed", None)}))
        # bad experiences per customer and month (for churn): complaint, CSAT <= 2, 2 reopens
        bad = np.zeros(n, bool)
        bad |= comp
        bad[np.flatnonzero(resp)[csat[resp] <= 2]] = True
        bad |= T["reopens"].to_numpy() >= 2
        tm = d.month[np.clip(T["day"].to_numpy(), 0, len(d.mid) - 1)]
        bad_exp = pd.DataFrame({"cust": T["cust"].to_numpy()[bad], "month": tm[bad]})
        bad_exp = bad_exp[bad_exp["cust"] >= 0]
        # NPS: quarterly waves to ~35 % of active customers, support experience matters
        cust_bad = np.zeros(cust["n"])
        np.add.at(cust_bad, bad_exp["cust"].to_numpy(), 1.0)
        nps_rows, nps_sends = [], []
        nm = len(d.months)
        for m in range(1, nm, 3):
            act = np.flatnonzero((cust["start_m"] <= m) & (cust["end_m"] > m))
            inv = act[rng.random(len(act)) < 0.35]
            first = np.searchsorted(d.month, m)
            days_m = np.flatnonzero(d.month == m)
            tue = days_m[(d.dow[days_m] == 1) & ~d.holiday[days_m]]
            sday = int(tue[1] if len(tue) > 1 else first)
            st_ = d.mid[sday] + 9 * 3600 + rng.integers(0, 3600, len(inv))
            lat = 8.5 + 0.4 * (cust["plan"][inv] >= 2) - 1.5 * np.minimum(cust_bad[inv], 2) \
                + rng.normal(0, 1.6, len(inv))
            sc = np.clip(np.round(lat), 0, 10)
            pr = np.where(sc <= 4, 0.30, np.where(sc >= 9, 0.28, 0.18))
            r = rng.random(len(inv)) < pr
            sb = st_ + np.round(_lognormal(rng, 20 * 3600, 1.2, len(inv))).astype(np.int64)
            r &= sb <= cut
            ok = st_ <= cut
            nps_sends.append(pd.DataFrame({"survey": "nps", "sent": st_[ok], "t": -1, "cust": inv[ok]}))
            cats = np.array(["pricing", "product bug", "missing feature", "support"], dtype=object)[
                np.where(cust_bad[inv] > 0, 3, rng.integers(0, 3, len(inv)))]
            nps_rows.append(pd.DataFrame({
                "survey": "nps", "score": sc[r], "submitted": sb[r], "t": -1, "cust": inv[r],
                "agent": -1, "channel": -1, "comment": np.where(sc[r] <= 6, cats[r], None)}))
        out += nps_rows
        sends += nps_sends
        # ESAT: monthly to employed agents; high utilisation lowers satisfaction
        ad = agent_days
        ad_m = d.month[ad["day"].to_numpy()]
        util = (pd.DataFrame({"a": ad["agent"], "m": ad_m, "h": ad["handle_s"], "s": ad["staffed_s"]})
                .groupby(["a", "m"], sort=True)[["h", "s"]].sum())
        u = pd.DataFrame({"a": util.index.get_level_values(0), "m": util.index.get_level_values(1),
                          "u": (util["h"] / util["s"]).to_numpy()})
        u = u[u["m"] >= 1]
        first_wd = np.array([np.r_[np.flatnonzero((d.month == m) & (d.dow < 5) & ~d.holiday),
                                   np.flatnonzero(d.month == m)][0] for m in range(len(d.months))])
        est = d.mid[first_wd[u["m"].to_numpy()]] + 10 * 3600
        na_ = len(u)
        lat = 1.2 - 3.5 * (u["u"].to_numpy() - 0.6) + 0.3 * ag["quality"][u["a"].to_numpy()] \
            + rng.normal(0, 0.8, na_)
        es = 1 + np.searchsorted([-1.3, -0.5, 0.3, 1.4], lat, side="right")
        sends.append(pd.DataFrame({"survey": "esat", "sent": est[est <= cut], "t": -1, "cust": -1}))
        re_ = rng.random(na_) < 0.8
        esub = est + np.round(_lognormal(rng, 26 * 3600, 0.8, na_)).astype(np.int64)
        re_ &= esub <= cut
        out.append(pd.DataFrame({"survey": "esat", "score": es[re_].astype(float), "submitted": esub[re_],
                                 "t": -1, "cust": -1, "agent": u["a"].to_numpy()[re_], "channel": -1,
                                 "comment": np.where(es[re_] <= 2, "workload", None)}))
        sv = pd.concat(out, ignore_index=True)
        sd = pd.concat(sends, ignore_index=True)
        self.notes["csat_latent_drivers"] = ("z = 2.6 + agent quality - 0.3 log1p(FRT business h) "
                                             "- 1.3 reopened - 0.4 escalated - 1.6 complaint")
        self.notes["csat_response_prob_by_score"] = {"1": 0.42, "2": 0.30, "3": 0.18, "4": 0.20, "5": 0.31}
        self.stats["csat_invited"] = int(m_csat.sum())
        self.stats["csat_top2"] = int((csat[m_csat] >= 4).sum())
        self.notes["csat_true_top2_all_invited"] = round(float((csat[m_csat] >= 4).mean()), 4) \
            if m_csat.any() else None
        return sv, sd, bad_exp

    # ---------------------------------------------------------------- subscriptions
    def _subscriptions(self, rng, cust, T, bad_exp):
        d = self.days
        nm = len(d.months)
        nc = cust["n"]
        # support-driven churn: 18 % of customers with a bad experience leave after their last ticket
        tm = d.month[np.clip(T["day"].to_numpy(), 0, len(d.mid) - 1)]
        tc = T["cust"].to_numpy()
        last_tm = np.full(nc, -1)
        ok = tc >= 0
        np.maximum.at(last_tm, tc[ok], tm[ok])
        first_bad = np.full(nc, 10**6)
        np.minimum.at(first_bad, bad_exp["cust"].to_numpy(), bad_exp["month"].to_numpy())
        hit = (first_bad < 10**6) & (rng.random(nc) < 0.18)
        new_end = np.maximum(first_bad + 1, last_tm + 1)
        end_m = cust["end_m"].copy()
        churned_support = hit & (new_end < end_m) & (new_end < nm)
        end_m = np.where(churned_support, new_end, end_m)
        cust = dict(cust, end_m=end_m)
        self.notes["support_driven_churn_customers"] = int(churned_support.sum())
        # monthly MRR: expansion / contraction as multiplicative steps
        steps = np.ones((nc, nm))
        u = rng.random((nc, nm))
        steps[u < 0.025] = rng.uniform(1.15, 1.6, (u < 0.025).sum())
        con = (u > 0.985)
        steps[con] = rng.uniform(0.55, 0.9, con.sum())
        mrr = cust["mrr0"][:, None] * np.cumprod(steps, axis=1)
        active = (cust["start_m"][:, None] <= np.arange(nm)[None, :]) & (end_m[:, None] > np.arange(nm)[None, :])
        ci, mi = np.nonzero(active)
        subs = pd.DataFrame({"cust": ci, "month": mi, "mrr": np.round(mrr[ci, mi], 2),
                             "plan": np.array(PLANS, dtype=object)[cust["plan"][ci]]})
        return subs, cust

    def _user_activity(self, rng, cust, scale):
        d = self.days
        nc = cust["n"]
        sub = max(1, int(round(max(scale, 1.0) / min(max(scale, 1.0), 3.0))))
        # keep rows manageable: at most 3x the sample's users whatever the scale
        pick = np.arange(0, nc, sub)
        nu_per = 1 + rng.poisson(0.3, len(pick))
        owner = np.repeat(pick, nu_per)
        nu = len(owner)
        p = rng.beta(0.6, 6.0, nu)
        rows_u, rows_d = [], []
        wk = np.where(d.dow >= 5, 0.25, 1.0) * np.where(d.holiday, 0.3, 1.0)
        for m in range(len(d.months)):
            dd = np.flatnonzero(d.month == m)
            act = (cust["start_m"][owner] <= m) & (cust["end_m"][owner] > m)
            ui = np.flatnonzero(act)
            A = rng.random((len(ui), len(dd))) < p[ui][:, None] * wk[dd][None, :]
            a, b = np.nonzero(A)
            rows_u.append(ui[a])
            rows_d.append(dd[b])
        u = np.concatenate(rows_u)
        dd = np.concatenate(rows_d)
        o = np.lexsort((u, dd))
        return pd.DataFrame({"user": u[o], "day": dd[o], "nu": nu})

    def _web_days(self, rng, scale, rel, comps, launches, incidents, cust, T):
        d = self.days
        n = len(d.dates)
        base = self._base_rate()
        lr = rel[:, 1:1 + len(launches)].sum(axis=1)
        ir = rel[:, 1 + len(launches):].sum(axis=1)
        visits = rng.negative_binomial(20, 20 / (20 + 2600 * scale * base * (1 + 0.25 * lr)))
        signups = rng.binomial(visits, 0.012)
        activ = rng.binomial(signups, 0.42)
        conv = np.bincount(cust["sday"][cust["start_m"] > 0], minlength=n)
        tickets_d = np.bincount(T["day"].to_numpy(), minlength=n)
        sessions = rng.poisson(4.2 * tickets_d + 30 * scale)
        resolved = rng.binomial(sessions, np.clip(0.72 - 0.3 * np.minimum(ir, 1.0), 0.2, 0.9))
        return pd.DataFrame({"day": np.arange(n), "visits": visits, "conversions": conv,
                             "signups": signups, "activations": activ,
                             "self_service_sessions": sessions, "self_service_resolved": resolved})

    def _mentions(self, rng, scale, rel, comps, launches, incidents):
        d = self.days
        lr = rel[:, 1:1 + len(launches)].sum(axis=1)
        ir = rel[:, 1 + len(launches):].sum(axis=1)
        lam = 11 * scale * np.where(d.dow >= 5, 0.7, 1.0) * (1 + 0.6 * lr + 2.5 * ir)
        cnt = rng.poisson(lam)
        day = np.repeat(np.arange(len(d.dates)), cnt)
        nmen = len(day)
        pw = _HOURS_WD / _HOURS_WD.sum()
        hour = rng.choice(24, size=nmen, p=pw)
        t = d.mid[day] + hour * 3600 + rng.integers(0, 3600, nmen)
        src_names = np.array(["twitter", "linkedin", "reddit", "trustpilot", "g2", "facebook"], dtype=object)
        src = rng.choice(6, size=nmen, p=[0.40, 0.15, 0.15, 0.15, 0.10, 0.05])
        need = rng.random(nmen) < np.array([0.40, 0.20, 0.25, 0.60, 0.55, 0.35])[src]
        rep = need & (rng.random(nmen) < 0.86)
        rt = self.clock.add(t, np.round(_lognormal(rng, 1.5 * 3600, 1.0, nmen)).astype(np.int64))
        rep &= rt <= self.cutoff
        o = np.lexsort((np.arange(nmen), t))
        return pd.DataFrame({"t": t[o], "source": src_names[src][o], "needs_reply": need[o],
                             "replied": np.where(rep, rt, -1)[o]})

    def _costs(self, agent_days, ag, contacts, T):
        d = self.days
        m = d.month[agent_days["day"].to_numpy()]
        sal = np.bincount(m, weights=agent_days["staffed_s"].to_numpy() / 3600
                          * ag["hourly"][agent_days["agent"].to_numpy()], minlength=len(d.months))
        train = np.bincount(m, weights=agent_days["training_spend"].to_numpy(), minlength=len(d.months))
        heads = pd.DataFrame({"a": agent_days["agent"], "m": m}).drop_duplicates().groupby("m").size()
        heads = heads.reindex(range(len(d.months)), fill_value=0).to_numpy()
        tools = 450.0 * self.share + 95.0 * heads
        ph = contacts["channel"].to_numpy() == "phone"
        cm = d.month[contacts["day"].to_numpy()]
        mins = (contacts["talk"].fillna(0) + contacts["hold"].fillna(0)).to_numpy() / 60
        tel = 250.0 * self.share + np.bincount(cm[ph], weights=mins[ph] * 0.012, minlength=len(d.months))
        soc = np.bincount(d.month[T["day"].to_numpy()], weights=(T["channel"].to_numpy() == 4) * 6.5,
                          minlength=len(d.months))
        outs = 3800.0 * self.org_scale ** 0.5 * self.share + soc
        rows = []
        for cat, v in (("salaries", sal), ("tools", tools), ("telephony", tel),
                       ("outsourcing", outs), ("training", train)):
            rows.append(pd.DataFrame({"m": np.arange(len(d.months)), "category": cat,
                                      "amount": np.round(v, 2)}))
        return pd.concat(rows, ignore_index=True).sort_values(["m", "category"], ignore_index=True)

    # ---------------------------------------------------------------- formatting
    def _format(self, T, ev, contacts, surveys, sends, launches, subs, costs, ag, agent_days,
                web, users, mentions, staffing, cust):
        """Every table as a DataFrame of written values (see :meth:`_lazy_tables`)."""
        lazy = self._lazy_tables(T, ev, contacts, surveys, sends, launches, subs, costs, ag,
                                 agent_days, web, users, mentions, staffing, cust)
        return {name: lz.frame() for name, lz in lazy.items()}

    def _lazy_tables(self, T, ev, contacts, surveys, sends, launches, subs, costs, ag, agent_days,
                     web, users, mentions, staffing, cust) -> dict[str, _LazyTable]:
        """Every table as column builders over the generated arrays, in written row order.

        A table's rows ``lo:hi`` are formatted on demand (:class:`_LazyTable`), so a writer can
        go month by month without the whole table as text in memory.
        """
        d = self.days
        n = len(T)
        tid = _ids_arrow("T", n, *self._idw("T", n, max(6, len(str(n)))))
        cid = pa.array(np.asarray(cust["ids"]).astype(str))
        aid = ag["ids"]
        aid_pa = pa.array(np.asarray(aid).astype(str))

        def col(a):  # column a[rows]
            a = np.asarray(a)
            return lambda sl: a[sl]

        def take(labels, idx):  # labels[idx[rows]], missing where idx < 0
            idx = np.asarray(idx)
            return lambda sl: _take(labels, idx[sl])

        def iso(t):
            t = np.asarray(t)
            return lambda sl: _iso(t[sl])

        def ids(prefix, n_, width):
            width, start = self._idw(prefix, n_, width)
            return lambda sl: _ids_range(prefix, n_, width, sl, start)

        def month_of(t):  # month index (from the data start) of epoch seconds, for write cuts
            day = np.clip(np.searchsorted(d.mid, np.asarray(t), side="right") - 1, 0, len(d.mid) - 1)
            return d.month[day].astype(np.int16)

        status_names = np.array(["new", "open", "pending", "on_hold", "solved"])
        created = T["created"].to_numpy()
        t_month = month_of(created)
        tickets = _LazyTable(n, {
            "ticket_id": take(tid, np.arange(n)),
            "created_at": iso(created),
            "channel": take(CHANNELS, T["channel"].to_numpy()),
            "category": take(CATEGORIES, T["cat"].to_numpy()),
            "priority": take(PRIORITIES, T["prio"].to_numpy()),
            "customer_id": take(cid, T["cust"].to_numpy()),
            "status": take(status_names, T["status"].to_numpy()),
            "team": take(TEAMS, T["team"].to_numpy()),
            "agent_id": take(aid_pa, T["final_agent"].to_numpy()),
            "product": take(PRODUCTS, T["prod"].to_numpy()),
            "first_response_at": iso(T["first_response"].to_numpy()),
            "first_resolved_at": iso(T["first_resolved"].to_numpy()),
            "resolved_at": iso(T["resolved"].to_numpy()),
            "escalated": col(T["escalated"].to_numpy()),
            "reopen_count": col(T["reopen_count"].to_numpy()),
            "agent_replies": col(T["agent_replies"].to_numpy()),
            "is_complaint": col(T["complaint"].to_numpy()),
            "handle_s": col(T["handle"].to_numpy().astype(float)),
        }, t_month)
        kinds = np.array(["customer_message", "agent_reply", "internal_note", "bot_message",
                          "status_change"])
        # authors: agents, then "bot", then customers (one label table, one take)
        au = ev["author"].to_numpy()
        et = ev["t"].to_numpy()
        tc = T["cust"].to_numpy()[et]
        na_ = len(aid)
        who = np.where(au >= 0, au, np.where(au == -3, na_, np.where(tc >= 0, na_ + 1 + tc, -1)))
        del tc
        labels = pa.concat_arrays([aid_pa, pa.array(["bot"]), cid])
        events = _LazyTable(len(ev), {
            "ticket_id": take(tid, et),
            "at": iso(ev["at"].to_numpy()),
            "kind": take(kinds, ev["kind"].to_numpy()),
            "author_id": take(labels, who),
            "status": take(status_names, ev["status"].to_numpy().astype(np.int64)),
        }, t_month[et])  # events follow their ticket (ordered by ticket, then time)
        # contacts ordered by queue time
        c = contacts.iloc[np.lexsort((np.arange(len(contacts)), contacts["queued_at"].to_numpy()))]
        self.contact_order = c.index.to_numpy()
        ncn = len(c)
        ab = c["abandoned"].to_numpy()
        res_obj = np.where(ab, None, c["resolved"].to_numpy()).astype(object)
        ctab = _LazyTable(ncn, {
            "contact_id": ids("C", ncn, max(6, len(str(ncn)))),
            "channel": col(c["channel"].to_numpy().astype(object)),
            "queued_at": iso(c["queued_at"].to_numpy()),
            "abandoned": col(ab),
            "customer_id": take(cid, c["cust"].to_numpy()),
            "answered_at": iso(c["answered"].to_numpy()),
            "ended_at": iso(c["ended"].to_numpy()),
            "talk_s": col(c["talk"].to_numpy()), "hold_s": col(c["hold"].to_numpy()),
            "acw_s": col(c["acw"].to_numpy()),
            "agent_id": take(aid_pa, c["agent"].to_numpy()),
            "ticket_id": take(tid, c["ticket"].to_numpy()),
            "resolved": lambda sl: pd.array(res_obj[sl], dtype="boolean"),
        }, month_of(c["queued_at"].to_numpy()))
        # surveys sorted by submission time
        sv = surveys.iloc[np.lexsort((np.arange(len(surveys)), surveys["submitted"].to_numpy()))]
        nsv = len(sv)
        stab = _LazyTable(nsv, {
            "response_id": ids("R", nsv, max(6, len(str(nsv)))),
            "survey": col(sv["survey"].to_numpy().astype(object)),
            "score": col(sv["score"].to_numpy().astype(float)),
            "submitted_at": iso(sv["submitted"].to_numpy()),
            "ticket_id": take(tid, sv["t"].to_numpy()),
            "customer_id": take(cid, sv["cust"].to_numpy()),
            "agent_id": take(aid_pa, sv["agent"].to_numpy()),
            "channel": take(CHANNELS, sv["channel"].to_numpy()),
            "scale": lambda sl: None,  # per-row override left empty: the dataset.yml scales apply
            "comment_category": col(sv["comment"].to_numpy().astype(object)),
        }, month_of(sv["submitted"].to_numpy()))
        sd = sends.iloc[np.lexsort((np.arange(len(sends)), sends["sent"].to_numpy()))]
        sdtab = _LazyTable(len(sd), {"survey": col(sd["survey"].to_numpy().astype(object)),
                                     "sent_at": iso(sd["sent"].to_numpy()),
                                     "ticket_id": take(tid, sd["t"].to_numpy()),
                                     "customer_id": take(cid, sd["cust"].to_numpy())},
                           month_of(sd["sent"].to_numpy()))
        ltab = _LazyTable.of(pd.DataFrame({
            "launch_id": [la["launch_id"] for la in launches],
            "launched_at": _iso(np.array([d.mid[la["day"]] + la["hour"] * 3600 for la in launches])),
            "name": [la["name"] for la in launches], "product": [la["product"] for la in launches]}))
        mstr = np.array([str(p) for p in d.months], dtype=object)
        # by month, then customer id (ids are zero-padded to one width: their text order is the
        # order of the customer index)
        so = np.lexsort((np.arange(len(subs)), subs["cust"].to_numpy(), subs["month"].to_numpy()))
        sub_m = subs["month"].to_numpy()[so]
        subtab = _LazyTable(len(subs), {"customer_id": take(cid, subs["cust"].to_numpy()[so]),
                                        "month": col(mstr[sub_m]),
                                        "mrr": col(subs["mrr"].to_numpy()[so]),
                                        "plan": col(subs["plan"].to_numpy()[so])}, sub_m)
        atab = _LazyTable.of(pd.DataFrame({"agent_id": aid, "team": ag["team"].astype(object),
                                           "hourly_cost": ag["hourly"], "hired_at": _iso(ag["hired"]),
                                           "left_at": _iso(ag["left"]), "name": ag["names"]}))
        dstr = np.array(d.dates.strftime("%Y-%m-%d"), dtype=object)
        ado = np.lexsort((ad_a := agent_days["agent"].to_numpy(), ad_d := agent_days["day"].to_numpy()))
        adtab = _LazyTable(len(agent_days), {
            "agent_id": col(aid[ad_a[ado]]), "date": col(dstr[ad_d[ado]]),
            "staffed_s": col(agent_days["staffed_s"].to_numpy()[ado]),
            "handle_s": col(agent_days["handle_s"].to_numpy()[ado]),
            "training_spend": col(agent_days["training_spend"].to_numpy()[ado])}, d.month[ad_d[ado]])
        nu = int(users["nu"].iloc[0]) if len(users) else 0
        u_day = users["day"].to_numpy()
        uid = _ids_arrow("U", max(nu, 1), *self._idw("U", max(nu, 1), max(5, len(str(nu)))))
        utab = _LazyTable(len(users), {"user_id": take(uid, users["user"].to_numpy()),
                                       "date": col(dstr[u_day])}, d.month[u_day])
        mtab = _LazyTable(len(mentions), {"mentioned_at": iso(mentions["t"].to_numpy()),
                                          "source": col(mentions["source"].to_numpy()),
                                          "needs_reply": col(mentions["needs_reply"].to_numpy()),
                                          "replied_at": iso(mentions["replied"].to_numpy())},
                          month_of(mentions["t"].to_numpy()))
        keyed = self._keyed_tables(costs, web, staffing)
        return {"tickets": tickets, "ticket_events": events, "contacts": ctab, "surveys": stab,
                "survey_sends": sdtab, "launches": ltab, "subscriptions": subtab,
                "costs": keyed["costs"], "agents": atab, "agent_days": adtab,
                "web_days": keyed["web_days"], "user_activity": utab, "mentions": mtab,
                "staffing": keyed["staffing"]}

    def _keyed_tables(self, costs, web, staffing) -> dict[str, _LazyTable]:
        """The tables keyed by month, day or interval (not by ids) as written.

        Shards of one organisation share these keys; :func:`_synth_sharded` sums them first.
        """
        d = self.days
        mstr = np.array([str(p) for p in d.months], dtype=object)
        dstr = np.array(d.dates.strftime("%Y-%m-%d"), dtype=object)
        ctab = _LazyTable.of(pd.DataFrame({
            "month": mstr[costs["m"].to_numpy()], "category": costs["category"].to_numpy(),
            "amount": costs["amount"].to_numpy(), "currency": "EUR"}))
        wtab = web.copy()
        wtab.insert(0, "date", dstr[web["day"].to_numpy()])
        wtab = _LazyTable.of(wtab.drop(columns="day"))
        ist = staffing["interval_start"].to_numpy()
        day = np.clip(np.searchsorted(d.mid, ist, side="right") - 1, 0, len(d.mid) - 1)
        sttab = _LazyTable(len(staffing), {
            "interval_start": lambda sl: _iso(ist[sl]),
            "channel": lambda sl: staffing["channel"].to_numpy().astype(object)[sl],
            "staffed_agents": lambda sl: staffing["staffed_agents"].to_numpy().astype(float)[sl],
            "forecast_contacts": lambda sl: staffing["forecast_contacts"].to_numpy()[sl],
            "required_agents": lambda sl: staffing["required_agents"].to_numpy().astype(float)[sl]},
            d.month[day].astype(np.int16))
        return {"costs": ctab, "web_days": wtab, "staffing": sttab}

    def _truth(self, T, launches, incidents, comps, contacts, staffing):
        d = self.days
        base = self._base_rate()
        comp = T["comp"].to_numpy()
        lt = []
        for j, la in enumerate(launches, start=1):
                # peak extra = peak_frac x the mean expected base tickets of a weekday (Mon-Fri,
            # not a holiday) in the launch week; weekend days get proportionally less
            wk = np.flatnonzero((np.abs(np.arange(len(base)) - la["day"]) <= 3) & (d.dow < 5) & ~d.holiday)
            day_base = self.org_scale * base[wk].mean() * (_L0 * 0.78 + sum(
                _CONTACT_L0[c] * _LINK_P[c] * 0.93 for c in _CONTACT_L0))
            lt.append({
                "launch_id": la["launch_id"], "name": la["name"],
                "launched_at": _iso(np.array([d.mid[la["day"]] + la["hour"] * 3600])).iloc[0],
                "launch_date": d.dates[la["day"]].strftime("%Y-%m-%d"),
                "product": la["product"], "effect": la["effect"], "lag_days": la["lag_days"],
                "peak_extra": round(float(la["peak_frac"] * day_base), 1),
                "peak_extra_share": la["peak_frac"], "decay_days": la["decay_days"],
                "excess_total": float((comp == j).sum()),
            })
        it = []
        for j, inc in enumerate(incidents, start=1 + len(launches)):
            it.append({"date": d.dates[inc["day"]].strftime("%Y-%m-%d"),
                       "extra_tickets": int((comp == j).sum()),
                       "extra_on_day": int(((comp == j) & (T["day"].to_numpy() == inc["day"])).sum()),
                       "category": "outage", "product": inc["product"],
                       "start_local": f"{inc['hour']:02d}:00", "duration_h": round(inc["dur_h"], 1),
                       "volume_multiplier": inc["mult"]})
        st = staffing
        under = st["staffed_agents"].to_numpy() < st["required_agents"].to_numpy()
        self.notes["understaffed_interval_share"] = round(float(under.mean()), 4)
        ab = contacts["abandoned"].to_numpy()
        cu = contacts["under"].to_numpy()
        self.notes["abandon_rate_understaffed"] = round(float(ab[cu].mean()), 4) if cu.any() else None
        self.notes["abandon_rate_staffed"] = round(float(ab[~cu].mean()), 4)
        self.notes["abandon_rate"] = round(float(ab.mean()), 4)
        self.notes["planted_slow_agent"] = str(self.ag_ids[self.ag_slow])
        self.notes["planted_low_quality_agent"] = str(self.ag_ids[self.ag_weak])
        notes = dict(self.notes)
        return {"generator": "kpitools.synth", "seed": self.seed, "start": self.start, "end": self.end,
                "timezone": self.tz, "exported_at": self.settings["exported_at"],
                "launches": lt, "incidents": it, "dirty_rows": [], "notes": notes}

# ----------------------------------------------------------------------------------------
# Erlang C
# ----------------------------------------------------------------------------------------
def _erlang_c(N: np.ndarray, A: np.ndarray) -> np.ndarray:
    """P(wait) of Erlang C, vectorised; 1 where N <= A.

    Erlang B by the recursion 1/B_k = 1 + (k/A)/B_(k-1) (B_0 = 1), then
    C = N B / (N - A (1 - B)) (Cooper 1981; reference values in docs/methods.md#erlang-c).
    """
    N = np.asarray(N, dtype=np.int64)
    A = np.asarray(A, dtype=float)
    B = np.ones_like(A)
    out = np.ones_like(A)
    for k in range(1, int(N.max()) + 1):
        B = np.where(A > 0, A * B / (k + A * B), 0.0)
        m = N == k
        if m.any():
            c = k * B[m] / np.maximum(k - A[m] * (1 - B[m]), 1e-12)
            out[m] = np.where(k > A[m], c, 1.0)
    return np.clip(out, 0.0, 1.0)


def _erlang_required(A: np.ndarray, aht: float, *, target: float, t: float) -> np.ndarray:
    """Smallest N with service level 1 - C(N, A) exp(-(N - A) t / AHT) >= target."""
    A = np.asarray(A, dtype=float)
    req = np.zeros(len(A), dtype=np.int64)
    for N in range(1, int(np.ceil(A.max())) + 40):
        todo = req == 0
        if not todo.any():
            break
        Nv = np.full(todo.sum(), N)
        c = _erlang_c(Nv, A[todo])
        sl = np.where(N > A[todo], 1 - c * np.exp(-(N - A[todo]) * t / aht), 0.0)
        ok = sl >= target
        idx = np.flatnonzero(todo)[ok]
        req[idx] = N
    return np.maximum(req, 1)


# ----------------------------------------------------------------------------------------
# dirty rows
# ----------------------------------------------------------------------------------------
_BAD_TS = ("2026-02-30 25:61", "2025-13-05T10:00:00Z", "31.06.2025 9:00", "2026-04-31T24:15:00Z")


def _file_name(table: str, fmt: str = "csv") -> str:
    if fmt == "parquet":
        return f"{table}.parquet"
    return f"{table}.csv.gz" if table in _GZ_TABLES else f"{table}.csv"


def _plan_dirty(rng: np.random.Generator, tables, gen: _Gen):
    """Draw the ~18 dirty rows: ``({table: [(cut, row), ...]}, records)``.

    ``tables`` maps names to DataFrames or :class:`_LazyTable` (only a few rows and columns are
    read). A row goes before original row ``cut`` (0-based), the rows in written order.
    """
    plans: dict[str, list[tuple[int, pd.DataFrame, dict]]] = {}

    def add(table, anchor, row: dict, column, reason, value):
        plans.setdefault(table, []).append(
            (int(anchor), pd.DataFrame([row]), {"table": table, "column": column, "reason": reason,
                                                "value": value}))

    tk = tables["tickets"]
    n = len(tk)
    width = len(tk["ticket_id"].iloc[0]) - 1
    n_id = gen.id_end("T", n)  # new ids after every id of the organisation
    new_tid = [f"T{n_id + i:0{width}d}" for i in range(1, 4)]
    ghost_tid = [f"T{n_id + i:0{width}d}" for i in (57, 58)]
    # tickets: unparseable created_at (2), resolution before creation (1), duplicate ids (2)
    templ = tk.iloc[int(rng.integers(0, n))].to_dict()
    for i, bad in enumerate(_BAD_TS[:2]):
        r = dict(templ, ticket_id=new_tid[i], created_at=bad, status="new", first_response_at=None,
                 first_resolved_at=None, resolved_at=None, reopen_count=0, agent_replies=0,
                 handle_s=0.0)
        add("tickets", rng.integers(n // 4, n), r, "created_at", "unparseable", bad)
    pos = int(rng.integers(n // 5, n - 10))
    cr = tk["created_at"].iloc[pos]
    ts = pd.Timestamp(cr)
    res = (ts - pd.Timedelta(days=2, minutes=17)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = dict(tk.iloc[pos].to_dict(), ticket_id=new_tid[2], status="solved", first_response_at=None,
             first_resolved_at=None, resolved_at=res, reopen_count=0, agent_replies=0, handle_s=0.0)
    add("tickets", pos, r, "resolved_at", "resolved_before_created", res)
    for k in range(2):
        p = int(rng.integers(n // 10, n - 400))
        r = tk.iloc[p].to_dict()
        if k == 1:  # a conflicting second row (another priority), not an exact copy
            r["priority"] = "urgent" if r["priority"] != "urgent" else "low"
        add("tickets", p + int(rng.integers(5, 300)), r, "ticket_id", "duplicate_id", r["ticket_id"])
    # ticket_events: unknown ticket (2), unparseable timestamp (1)
    ev = tables["ticket_events"]
    ne = len(ev)
    for k in range(2):
        p = int(rng.integers(0, ne))
        r = dict(ev.iloc[p].to_dict(), ticket_id=ghost_tid[k], kind="customer_message", status=None)
        add("ticket_events", p, r, "ticket_id", "unknown_ticket", ghost_tid[k])
    p = int(rng.integers(0, ne))
    r = dict(ev.iloc[p].to_dict(), at=_BAD_TS[2], kind="internal_note", status=None)
    add("ticket_events", p, r, "at", "unparseable", _BAD_TS[2])
    # contacts: negative talk time (2), duplicate id (1), unparseable queued_at (1)
    ct = tables["contacts"]
    nc = len(ct)
    width_c = len(ct["contact_id"].iloc[0]) - 1
    nc_id = gen.id_end("C", nc)
    cand = np.flatnonzero((~ct["abandoned"].to_numpy()) & ct["ticket_id"].isna().to_numpy())
    for k in range(2):
        p = int(rng.choice(cand))
        r = dict(ct.iloc[p].to_dict(), contact_id=f"C{nc_id + 1 + k:0{width_c}d}", talk_s=-30.0 - 15 * k)
        add("contacts", p, r, "talk_s", "negative_duration", str(-30.0 - 15 * k))
    p = int(rng.choice(cand))
    r = dict(ct.iloc[p].to_dict(), agent_id=ct["agent_id"].iloc[int(rng.choice(cand))])
    add("contacts", min(p + int(rng.integers(3, 100)), nc - 1), r, "contact_id", "duplicate_id",
        r["contact_id"])
    p = int(rng.choice(cand))
    r = dict(ct.iloc[p].to_dict(), contact_id=f"C{nc_id + 3:0{width_c}d}", queued_at=_BAD_TS[3])
    add("contacts", p, r, "queued_at", "unparseable", _BAD_TS[3])
    # surveys: CSAT 6 (2), NPS 11 (1), duplicate response id (1)
    sv = tables["surveys"]
    ns = len(sv)
    width_r = len(sv["response_id"].iloc[0]) - 1
    ns_id = gen.id_end("R", ns)
    csat_rows = np.flatnonzero(sv["survey"].to_numpy() == "csat")
    nps_rows = np.flatnonzero(sv["survey"].to_numpy() == "nps")
    for k in range(2):
        p = int(rng.choice(csat_rows))
        r = dict(sv.iloc[p].to_dict(), response_id=f"R{ns_id + 1 + k:0{width_r}d}", score=6.0,
                 comment_category=None)
        add("surveys", p, r, "score", "out_of_scale", "6.0")
    if len(nps_rows):
        p = int(rng.choice(nps_rows))
        r = dict(sv.iloc[p].to_dict(), response_id=f"R{ns_id + 3:0{width_r}d}", score=11.0,
                 comment_category=None)
        add("surveys", p, r, "score", "out_of_scale", "11.0")
    p = int(rng.choice(csat_rows))
    r = sv.iloc[p].to_dict()
    add("surveys", min(p + int(rng.integers(2, 50)), ns - 1), r, "response_id", "duplicate_id",
        r["response_id"])
    # agent_days: negative staffed time (1); mentions: unparseable timestamp (1)
    ad = tables["agent_days"]
    p = int(rng.integers(0, len(ad)))
    r = dict(ad.iloc[p].to_dict(), staffed_s=-3600.0, handle_s=0.0, training_spend=0.0)
    add("agent_days", p, r, "staffed_s", "negative_duration", "-3600.0")
    mt = tables["mentions"]
    p = int(rng.integers(0, len(mt)))
    r = dict(mt.iloc[p].to_dict(), mentioned_at=_BAD_TS[0])
    add("mentions", p, r, "mentioned_at", "unparseable", _BAD_TS[0])

    records = []
    for table in _TABLE_ORDER:
        if table not in plans:
            continue
        items = plans[table]
        # each extra row goes right after the original row it is anchored to
        anchors = np.minimum(np.array([x[0] for x in items]), len(tables[table]) - 1)
        placed = []
        for k, j in enumerate(np.lexsort((np.arange(len(items)), anchors))):
            cut = int(anchors[j]) + 1
            placed.append((cut, items[j][1]))
            records.append({"table": table, "file": _file_name(table), "row": cut + k + 1,
                            **items[j][2]})
        plans[table] = placed
    records.sort(key=lambda r: (_TABLE_ORDER.index(r["table"]), r["row"]))
    return plans, records


def _inject_dirty(rng: np.random.Generator, tables: dict[str, pd.DataFrame], gen: _Gen):
    """Insert ~18 dirty rows of the kinds the loader excludes; return tables and their records.

    Injected ticket rows have no events, surveys or contacts, so the loader's cascade
    (``parent_excluded``) does not fire and the quality log equals exactly these rows.
    """
    plans, records = _plan_dirty(rng, tables, gen)
    out = tables  # replaced table by table, so only one table exists twice at a time
    for table in _TABLE_ORDER:
        if table in plans:
            out[table] = _splice(out[table], plans[table])
    return out, records


def _splice(df: pd.DataFrame, placed: list[tuple[int, pd.DataFrame]]) -> pd.DataFrame:
    """``df`` with each extra row inserted before row ``cut`` (``placed``: (cut, row) in order)."""
    if not placed:
        return df
    extra = pd.concat([x[1] for x in placed], ignore_index=True)
    extra = extra.astype({c: df[c].dtype for c in df.columns if c in extra.columns
                          and not (pd.api.types.is_bool_dtype(df[c]) or
                                   pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object)},
                         errors="ignore")[df.columns]
    pieces, prev = [], 0
    for j, (cut, _) in enumerate(placed):
        pieces += [df.iloc[prev:cut], extra.iloc[[j]]]
        prev = max(prev, cut)
    pieces.append(df.iloc[prev:])
    allrows = pd.concat(pieces, ignore_index=True)
    del pieces
    for c in df.columns:  # keep the original dtypes where the dirty values allow it
        if pd.api.types.is_bool_dtype(df[c].dtype) and str(df[c].dtype) == "boolean":
            allrows[c] = allrows[c].astype("boolean")
    return allrows


# ----------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------
def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


#: Row groups of a Parquet file hold at most this many rows (one month's rows are split further).
_ROW_GROUP = 1_000_000
_TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _arrow_column(table: str, name: str, s: pd.Series) -> pa.Array:
    """One written column as a typed Arrow array (contract dtype of ``table.name``).

    Timestamps become ``timestamp[ns, UTC]``, dates ``date32``, ints ``int64``, floats
    ``float64``, booleans ``bool`` (missing stays missing); the contract's categorical columns
    (channel, priority, status, ...) are dictionary-encoded strings, other strings plain
    strings, months ``YYYY-MM`` text. A text value that does not parse (a planted dirty row) becomes missing.
    """
    spec = TABLES[table].column(name).dtype if name in TABLES[table].names else None
    if spec == "timestamp":
        txt = pa.array(s, type=pa.string(), from_pandas=True)
        t = pc.strptime(txt, format=_TS_FORMAT, unit="s", error_is_null=True)
        return t.cast(pa.timestamp("s", tz="UTC")).cast(pa.timestamp("ns", tz="UTC"))
    if spec == "date":
        txt = pa.array(s, type=pa.string(), from_pandas=True)
        return pc.strptime(txt, format="%Y-%m-%d", unit="s", error_is_null=True).cast(pa.date32())
    if spec == "int":
        return pa.array(s, type=pa.int64(), from_pandas=True)
    if spec == "float":
        return pa.array(s, type=pa.float64(), from_pandas=True)
    if spec == "bool":
        return pa.array(s, type=pa.bool_(), from_pandas=True)
    arr = pa.array(s, type=pa.string(), from_pandas=True)
    if name in TABLES[table].names and TABLES[table].column(name).categorical:
        return arr.dictionary_encode()
    return arr


def _month_cuts(table: str, df: pd.DataFrame) -> np.ndarray:
    """Row positions where the month of the table's first timestamp/date column changes.

    Tables are written in time order, so these cut the rows into months; each month (at most
    :data:`_ROW_GROUP` rows at a time) is converted and written on its own.
    """
    n = len(df)
    tcol = next((c.name for c in TABLES[table].columns
                 if c.dtype in ("timestamp", "date", "month") and c.required and c.name in df), None)
    cuts = [np.arange(0, n, _ROW_GROUP)]
    if tcol is not None and n:
        m = pc.utf8_slice_codeunits(pa.array(df[tcol], type=pa.string(), from_pandas=True), 0, 7)
        m = m.to_numpy(zero_copy_only=False)
        cuts.append(np.flatnonzero(m[1:] != m[:-1]) + 1)
    return np.unique(np.concatenate(cuts + [[n]]))


def _parquet_batches(table: str, src, placed=()):
    """Typed Arrow tables of ``src``, month by month (an empty table when it has no rows).

    ``src`` is a DataFrame of written values or a :class:`_LazyTable`, whose rows are formatted
    one month at a time; ``placed`` are dirty rows ``(cut, row)`` spliced in before row ``cut``.
    """
    if isinstance(src, _LazyTable):
        cuts, rows = src.month_cuts(_ROW_GROUP), src.frame
    else:
        cuts, rows = _month_cuts(table, src), (lambda sl: src.iloc[sl])
    any_rows = False
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        part = rows(slice(int(lo), int(hi)))
        part = _splice(part, [(cut - lo, r) for cut, r in placed if lo < cut <= hi])
        any_rows = True
        yield pa.table({c: _arrow_column(table, c, part[c]) for c in part.columns})
        del part
    if not any_rows:  # an empty table still gets its typed columns
        part = rows(slice(0, 0))
        yield pa.table({c: _arrow_column(table, c, part[c]) for c in part.columns})


class _ParquetAppender:
    """One open :class:`pyarrow.parquet.ParquetWriter` per table; batches are appended."""

    def __init__(self):
        self.writers: dict[str, pq.ParquetWriter] = {}

    def append(self, table: str, src, path: Path, placed=()) -> None:
        for batch in _parquet_batches(table, src, placed):
            w = self.writers.get(table)
            if w is None:
                w = self.writers[table] = pq.ParquetWriter(path, batch.schema)
            elif batch.num_rows == 0:
                continue
            w.write_table(batch, row_group_size=_ROW_GROUP)
            del batch

    def close(self) -> None:
        for w in self.writers.values():
            w.close()
        self.writers.clear()


def _write_parquet(table: str, src, path: Path, placed=()) -> None:
    """Write one table as typed Parquet, month by month (one or more row groups per month)."""
    app = _ParquetAppender()
    try:
        app.append(table, src, path, placed)
    finally:
        app.close()


def _typed_dirty_record(r: dict) -> dict:
    """A dirty-row record of ``truth.json`` as it reads in the typed Parquet files.

    A typed timestamp column cannot hold unparseable text: such a value is written as missing,
    so the row is planted as ``missing_required`` (every planted unparseable column is
    required) with an empty value.
    """
    r = dict(r, file=_file_name(r["table"], "parquet"))
    if r["reason"] == "unparseable":
        r.update(reason="missing_required", value="")
    return r


def write_dataset(res: SynthResult, out_dir: str | Path, *, fmt: str = "csv") -> list[Path]:
    """Write a generated dataset: one file per table, ``dataset.yml`` and ``truth.json``.

    Parameters
    ----------
    res : SynthResult
        What :func:`generate` returned.
    out_dir : str or Path
        Folder to write into (created if needed). Files of the same tables in another format
        are removed, so the folder holds one file per table.
    fmt : {"csv", "parquet"}
        ``"csv"``: large tables as ``.csv.gz`` (gzip with mtime 0, so bytes are deterministic),
        small ones (launches, costs, agents, web_days, mentions) as plain ``.csv``.
        ``"parquet"``: every table as ``.parquet``.

    Returns
    -------
    list of Path
        The files written, in table order, then ``dataset.yml`` and ``truth.json``.

    Notes
    -----
    The dirty rows' ``row`` numbers in ``truth.json`` are 1-based data-row numbers (header not
    counted) in the written file; they are the same for CSV and Parquet.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in _TABLE_ORDER:
        if name not in res.tables:
            continue
        df = res.tables[name]
        fname = _file_name(name, fmt)
        for suf in (".csv", ".csv.gz", ".parquet"):
            other = out / f"{name}{suf}"
            if other.name != fname and other.exists():
                other.unlink()
        path = out / fname
        placed = res.meta.get("placed", {}).get(name, [])
        if fmt == "parquet":
            _write_parquet(name, df, path, placed)
        else:
            if isinstance(df, _LazyTable):
                df = _splice(df.frame(), placed)
            with open(path, "wb") as fh:
                if fname.endswith(".gz"):
                    # streamed in chunks; no file name and mtime 0 in the header -> same bytes
                    with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=6) as z, \
                            io.TextIOWrapper(z, encoding="utf-8", newline="") as txt:
                        df.to_csv(txt, index=False, lineterminator="\n", chunksize=200_000)
                else:
                    with io.TextIOWrapper(fh, encoding="utf-8", newline="") as txt:
                        df.to_csv(txt, index=False, lineterminator="\n")
        written.append(path)
    truth = dict(res.truth)
    if fmt == "parquet":
        truth["dirty_rows"] = [_typed_dirty_record(r) for r in truth["dirty_rows"]]
    p = out / "dataset.yml"
    head = ("# Settings of a dataset generated by kpitools.synth (see kpitools/settings.py for every\n"
            "# key). exported_at is the export time: the censoring cut-off of open tickets.\n")
    p.write_text(head + yaml.safe_dump(res.settings, sort_keys=False, allow_unicode=True,
                                       default_flow_style=None, width=100), encoding="utf-8")
    written.append(p)
    p = out / "truth.json"
    p.write_text(json.dumps(truth, indent=1, default=_json_default, ensure_ascii=False) + "\n",
                 encoding="utf-8")
    written.append(p)
    return written


_SHARD_TICKETS = 1_000_000
# tables keyed by month, day or interval: summed over shards (launches: the shared schedule)
_KEYED = ("launches", "costs", "web_days", "staffing")


@dataclass
class _Shard:
    """One part of a large organisation generated on its own (see :func:`_synth_sharded`).

    ``width`` is the organisation's id width per prefix, ``off`` the last id number used by
    the parts before, ``count`` the ids this part used (filled while it is generated).
    """

    org_seed: int
    n_org: int
    width: dict[str, int]
    off: dict[str, int] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)


def synth_to(out_dir: str | Path, *, n_tickets: int | None = None, seed: int = SAMPLE_SEED,
             fmt: str = "parquet", start: str = "2025-04-01", end: str = "2026-10-31",
             timezone: str = "Europe/Berlin", dirty: bool = True,
             exported_at: str | None = None, shard_tickets: int = _SHARD_TICKETS) -> list[Path]:
    """Generate a dataset and write it table by table, month by month (bounded memory).

    Up to ``shard_tickets`` tickets, the same data as ``write_dataset(generate(...), out_dir,
    fmt=fmt)`` for the same arguments, without ever holding a whole table as text: the
    generated arrays (int64 epoch seconds, small integer codes) stay in memory and each
    table's rows are formatted and written one month at a time (Parquet: one or more row groups per month, typed columns), with the
    planted dirty rows spliced in on the way. ``kpitools synth --format parquet`` uses this.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if needed).
    n_tickets, seed, start, end, timezone, dirty, exported_at
        As for :func:`generate`.
    fmt : {"parquet", "csv"}
        ``"csv"`` formats each table whole (as :func:`write_dataset`), so it saves no memory.
    shard_tickets : int
        Parquet only: above this many tickets the organisation is generated in independent
        shards of at most this size (see Notes), so memory is bounded by one shard.

    Returns
    -------
    list of Path
        The files written, as :func:`write_dataset` returns them.

    Notes
    -----
    A sharded organisation is ``k = ceil(n_tickets / shard_tickets)`` sub-organisations of
    near-equal size, each with its own customers, agents and id ranges (disjoint, one id
    width for the whole organisation) and its own seed (``numpy.random.SeedSequence(seed)
    .spawn(k)``); all share the launch and incident schedule drawn from ``seed``. Tables with
    ids are appended shard after shard (so rows are in time order within a shard); the tables
    keyed by month, day or interval (``costs``, ``web_days``, ``staffing``) are summed per key
    over the shards, and ``launches`` is written once. Dirty rows are planted in the last
    shard; ``truth.json`` adds up the shards' counts and recomputes the rates (abandonment in
    understaffed intervals from the summed staffing). Up to one shard the output is that of
    the unsharded generator.

    Examples
    --------
    >>> from kpitools.synth import synth_to
    >>> files = synth_to("/tmp/big", n_tickets=10_000_000)  # doctest: +SKIP
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    if not isinstance(shard_tickets, int | np.integer) or shard_tickets < 100:
        raise ValueError(f"shard_tickets must be an integer >= 100, got {shard_tickets!r}")
    kw = {"start": start, "end": end, "timezone": timezone, "exported_at": exported_at}
    if fmt == "parquet" and n_tickets is not None and n_tickets > shard_tickets:
        return _synth_sharded(out_dir, n_tickets=n_tickets, seed=seed, dirty=dirty,
                              shard_tickets=int(shard_tickets), **kw)
    res = _generate(n_tickets=n_tickets, seed=seed, dirty=dirty, lazy=True, **kw)
    return write_dataset(res, out_dir, fmt=fmt)


def _synth_sharded(out_dir, *, n_tickets, seed, dirty, shard_tickets, **kw) -> list[Path]:
    """Parquet dataset of ``n_tickets`` written shard by shard (see :func:`synth_to`)."""
    import gc
    import math

    if not isinstance(n_tickets, int | np.integer) or n_tickets < 100:
        raise ValueError(f"n_tickets must be None or an integer >= 100, got {n_tickets!r}")
    k = math.ceil(n_tickets / shard_tickets)
    sizes = np.diff(np.round(np.linspace(0, n_tickets, k + 1)).astype(np.int64))
    seeds = [int(c.generate_state(1, np.uint64)[0]) for c in np.random.SeedSequence(seed).spawn(k)]
    w = len(str(4 * n_tickets))  # ids stay below 4x the tickets (contacts ~1.6x, surveys < 1x)
    width = {"T": max(6, w), "C": max(6, w), "R": max(6, w), "CUS": max(5, w), "U": max(5, w),
             "A": max(2, len(str(4 * n_tickets // 1000 + 100)))}
    shard = _Shard(org_seed=int(seed), n_org=int(n_tickets), width=width)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in _TABLE_ORDER:
        for suf in (".csv", ".csv.gz"):
            (out / f"{name}{suf}").unlink(missing_ok=True)
    app = _ParquetAppender()
    rows = dict.fromkeys(_TABLE_ORDER, 0)
    keyed: dict[str, pd.DataFrame] = {}
    truths, stats, notes, dirty_rows = [], [], [], []
    try:
        for i in range(k):
            res = _generate(n_tickets=int(sizes[i]), seed=seeds[i], dirty=dirty and i == k - 1,
                            lazy=True, shard=shard, **kw)
            for r in res.truth["dirty_rows"]:  # rows of the earlier shards come first
                dirty_rows.append(dict(r, row=r["row"] + rows[r["table"]]))
            for name in _TABLE_ORDER:
                if name in _KEYED:
                    continue
                app.append(name, res.tables[name], out / _file_name(name, "parquet"),
                           res.meta["placed"].get(name, []))
                rows[name] += len(res.tables[name])
            raw = res.meta["keyed"]
            keyed = _add_keyed(keyed, raw)
            if i == 0:
                keyed["launches"] = res.tables["launches"]
            gen = res.meta["gen"]
            truths.append(res.truth)
            stats.append(dict(gen.stats, seed=seeds[i], tickets=shard.count["T"],
                              slow=str(gen.ag_ids[gen.ag_slow]), weak=str(gen.ag_ids[gen.ag_weak])))
            notes.append(res.truth["notes"])
            for p_, c_ in shard.count.items():
                shard.off[p_] = shard.off.get(p_, 0) + c_
            settings = res.settings
            del res, raw
            gc.collect()
        small = gen._keyed_tables(keyed["costs"], keyed["web_days"], keyed["staffing"])
        small["launches"] = keyed["launches"]
        for name in _KEYED:
            app.append(name, small[name], out / _file_name(name, "parquet"))
    finally:
        app.close()
    truth = dict(_combine_truth(truths, stats, keyed["staffing"], dirty_rows), seed=int(seed))
    written = [out / _file_name(name, "parquet") for name in _TABLE_ORDER]
    res = SynthResult(tables={}, settings=settings, truth=truth)
    return written + write_dataset(res, out, fmt="parquet")


def _add_keyed(acc: dict, raw: dict) -> dict:
    """Sum one shard's keyed tables into ``acc`` (same keys in the same order in every shard)."""
    add = {"costs": ("m", "category"), "web_days": ("day",),
           "staffing": ("interval_start", "channel")}
    out = dict(acc)
    for name, key in add.items():
        df = raw[name].reset_index(drop=True)
        if name not in acc:
            out[name] = df.copy()
            continue
        a = acc[name]
        same = all(np.array_equal(a[c].to_numpy(), df[c].to_numpy()) for c in key)
        if len(a) != len(df) or not same:
            raise RuntimeError(f"synth shards disagree on the keys {key} of {name}")
        num = [c for c in df.columns if c not in key]
        a = a.copy()
        for c in num:
            a[c] = a[c].to_numpy() + df[c].to_numpy()
        if name == "costs":
            a["amount"] = np.round(a["amount"].to_numpy(), 2)
        if name == "staffing":
            a["forecast_contacts"] = np.round(a["forecast_contacts"].to_numpy(), 3)
            a["expected_contacts"] = np.round(a["expected_contacts"].to_numpy(), 3)
        out[name] = a
    return out


def _combine_truth(truths: list[dict], stats: list[dict], staffing: pd.DataFrame,
                   dirty_rows: list[dict]) -> dict:
    """``truth.json`` of a sharded organisation: counts added up, rates recomputed."""
    t0 = truths[0]
    launches = [dict(la, excess_total=float(sum(t["launches"][j]["excess_total"] for t in truths)))
                for j, la in enumerate(t0["launches"])]
    incidents = [dict(inc, extra_tickets=int(sum(t["incidents"][j]["extra_tickets"] for t in truths)),
                      extra_on_day=int(sum(t["incidents"][j]["extra_on_day"] for t in truths)))
                 for j, inc in enumerate(t0["incidents"])]
    notes = dict(t0["notes"])
    ns = [t["notes"] for t in truths]
    notes["scale"] = round(sum(n["scale"] for n in ns), 6)
    notes["ticket_handle_factor"] = [n["ticket_handle_factor"] for n in ns]
    notes["utilisation_by_agent"] = {a: u for n in ns for a, u in n["utilisation_by_agent"].items()}
    notes["support_driven_churn_customers"] = sum(n["support_driven_churn_customers"] for n in ns)
    inv = sum(s["csat_invited"] for s in stats)
    notes["csat_true_top2_all_invited"] = round(sum(s["csat_top2"] for s in stats) / inv, 4) \
        if inv else None
    under = staffing["staffed_agents"].to_numpy() < staffing["required_agents"].to_numpy()
    n_c = staffing["contacts"].to_numpy().astype(float)
    n_ab = staffing["abandoned"].to_numpy()
    notes["understaffed_interval_share"] = round(float(under.mean()), 4)
    notes["abandon_rate_understaffed"] = round(float(n_ab[under].sum() / n_c[under].sum()), 4) \
        if n_c[under].sum() else None
    notes["abandon_rate_staffed"] = round(float(n_ab[~under].sum() / n_c[~under].sum()), 4)
    notes["abandon_rate"] = round(float(n_ab.sum() / n_c.sum()), 4)
    notes["planted_slow_agents"] = [s["slow"] for s in stats]
    notes["planted_low_quality_agents"] = [s["weak"] for s in stats]
    notes["shards"] = [{"seed": s["seed"], "tickets": s["tickets"], "scale": n["scale"]}
                       for s, n in zip(stats, ns, strict=True)]
    dirty_rows = sorted(dirty_rows, key=lambda r: (_TABLE_ORDER.index(r["table"]), r["row"]))
    return dict(t0, launches=launches, incidents=incidents, dirty_rows=dirty_rows, notes=notes)


def make_sample(out_dir: str | Path = "data/sample") -> list[Path]:
    """Write the committed sample dataset (byte-identical when remade).

    Parameters
    ----------
    out_dir : str or Path, default "data/sample"
        Folder to write into.

    Returns
    -------
    list of Path
        The files written: one per table, ``dataset.yml``, ``truth.json`` and ``README.md``.

    Notes
    -----
    Runs :func:`generate` with its defaults (seed :data:`SAMPLE_SEED`, 2025-04-01 ..
    2026-10-31, Europe/Berlin, natural volume, dirty rows) and :func:`write_dataset` as CSV, then
    writes a ``README.md`` describing the company and what is planted. ``make sample`` and
    ``kpitools synth --sample --out data/sample`` call this; ``tests/test_synth.py`` checks that
    a fresh run reproduces the committed files byte for byte.

    Examples
    --------
    >>> from kpitools.synth import make_sample
    >>> files = make_sample("/tmp/sample")  # doctest: +SKIP
    """
    res = generate()
    written = write_dataset(res, out_dir, fmt="csv")
    p = Path(out_dir) / "README.md"
    p.write_text(_sample_readme(res), encoding="utf-8")
    return written + [p]


def _sample_readme(res: SynthResult) -> str:
    t = res.truth
    rows = "\n".join(f"| {name} | `{_file_name(name)}` | {len(df):,} |"
                     for name, df in res.tables.items())
    la = "\n".join(
        f"| {x['launch_id']} | {x['launch_date']} | {x['name']} | {x['product']} | "
        f"{'yes' if x['effect'] else 'no'} | {x['lag_days']} | {x['peak_extra']:g} | "
        f"{x['decay_days']:g} | {x['excess_total']:g} |" for x in t["launches"])
    inc = "\n".join(f"| {x['date']} | {x['product']} | {x['extra_tickets']} |" for x in t["incidents"])
    dirty = "\n".join(f"| `{x['file']}` | {x['row']} | {x['column']} | {x['reason']} | `{x['value']}` |"
                      for x in t["dirty_rows"])
    n = t["notes"]
    return f"""# Sample dataset: Lumen Ledger GmbH (synthetic)

Made by `make sample` (`kpitools synth --sample --out data/sample`, i.e. `kpitools.synth.make_sample`,
seed {t['seed']}); byte-identical when remade. Everything here is invented.

**The company.** Lumen Ledger GmbH sells invoicing and payments software to small businesses
(plans starter, team, business, enterprise; prices in EUR). Support sits in Berlin (timezone
Europe/Berlin) and is open Mon-Fri 08:00-12:00 and 13:00-18:00 and Sat 10:00-14:00, closed on German
public holidays. Three teams: tier1 (general questions, phones and chats), billing, and tier2
(escalations). Customers write by email, web form and social media, or call and chat; some calls
and chats become tickets. Period {t['start']} .. {t['end']}; the export was taken at
{t['exported_at']}, so tickets from the last days are still open or unanswered (censored).

**Tables.** Column meanings: `docs/data-contract.md`. Settings (business hours, holidays, SLA targets,
KPI targets, survey scales): `dataset.yml`. `staffing.csv.gz` is the contact centre's workforce plan
(agents required by Erlang C on the forecast and agents actually staffed, per 30 minutes and queue).

| table | file | rows (incl. dirty) |
|---|---|---|
{rows}

**Planted truth** (`truth.json`):

- Launches: volume rises after a lag and decays exponentially (extra tickets
  `peak * exp(-(day - lag) / decay)`, mostly in the launched product); quiet launches have no effect.
  `excess_total` counts the extra tickets actually generated.

| id | date | name | product | effect | lag days | peak extra tickets/day | decay days | excess tickets |
|---|---|---|---|---|---|---|---|---|
{la}

- Incidents (spikes with no launch, outage tickets concentrated in a few hours):

| date | product | extra tickets |
|---|---|---|
{inc}

- Contact centre: staffing is planned with Erlang C for 85 % in 20 s on the forecast, but
  {n['understaffed_interval_share']:.1%} of intervals are short of agents; abandonment there is
  {n['abandon_rate_understaffed']:.1%} against {n['abandon_rate_staffed']:.1%} elsewhere.
- Agents differ in speed and quality; {n['planted_slow_agent']} is slow and
  {n['planted_low_quality_agent']} gets low CSAT and more reopens. CSAT answers have non-response
  bias (very unhappy and very happy customers answer more). Customers with bad support experiences
  churn more.
- Dirty rows ({len(t['dirty_rows'])}), which `kpitools validate data/sample` lists in its quality
  summary (`row` = data row in the file, header not counted):

| file | row | column | reason | value |
|---|---|---|---|---|
{dirty}
"""
