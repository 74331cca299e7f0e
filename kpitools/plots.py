"""The present layer: figures and HTML tables for notebooks and the monthly report.

Every function here takes RESULTS (KPI tables from :mod:`kpitools.kpis`, outputs of
:mod:`kpitools.stats`), never raw tickets or events, and draws nothing random: no bootstrap error
bars, no jitter. Figures are :class:`matplotlib.figure.Figure` objects built without pyplot, so they
do not pile up in pyplot's state and are shown once when a notebook cell returns them.

All user-supplied text (categories, agent names, launch names, captions) is HTML-escaped in the
table helpers, and ``$`` is escaped in figure text so matplotlib does not parse it as mathtext.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "STYLE",
    "PALETTE",
    "set_style",
    "HtmlTable",
    "html_table",
    "kpi_rows_table",
    "scorecard_table",
    "wave_changes",
    "sparkline_svg",
    "format_value",
    "format_range",
    "axis_scale",
    "kpi_label",
    "kpi_bounds",
    "shown_intervals",
    "notice",
    "note",
    "plot_kpi_trend",
    "plot_daily_volume",
    "plot_heatmap_arrivals",
    "plot_km_curves",
    "plot_sla_by_priority",
    "plot_rate_with_ci",
    "plot_staffing_gap",
    "plot_event_study",
    "plot_utilization",
]

#: Colour-blind safe palette (Okabe-Ito), used in this order.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
GOOD, BAD, NEUTRAL, TARGET = "#1b7837", "#b2182b", "#777777", "#444444"

#: Matplotlib rc parameters of every kpitools figure (report width ~ 1000 px at 100 dpi).
STYLE: dict[str, Any] = {
    "figure.figsize": (9.0, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": "#bbbbbb",
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "font.family": "DejaVu Sans",
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "svg.hashsalt": "kpitools",
    "svg.fonttype": "path",
    "image.cmap": "Blues",
}


def set_style() -> None:
    """Apply the kpitools figure style globally (for users' own pyplot figures too).

    The helpers in this module apply :data:`STYLE` themselves, so calling this is optional. It
    also fixes the SVG hash salt, so SVG output is byte-identical between runs.
    """
    matplotlib.rcParams.update(STYLE)


def _figure(width: float = 9.0, height: float = 3.6, ncols: int = 1, nrows: int = 1, **kw):
    # SVG ids are hashed at save time with this global salt; without it they are random uuids.
    if matplotlib.rcParams["svg.hashsalt"] is None:
        matplotlib.rcParams["svg.hashsalt"] = STYLE["svg.hashsalt"]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True, **kw)
    return fig, axes


def _mpl_text(text: Any) -> str:
    """User text safe for matplotlib (no mathtext)."""
    return str(text).replace("$", r"\$")


def _check_columns(df: Any, required: Iterable[str], name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; got columns {list(df.columns)}")


# ---------------------------------------------------------------------------------------------
# number formatting
# ---------------------------------------------------------------------------------------------
_SHARE_UNITS = {"share", "proportion", "fraction", "rate", "ratio_share"}
_PERCENT_UNITS = {"%", "percent", "pct"}
_SECONDS_UNITS = {"s", "sec", "second", "seconds"}
_POINT_UNITS = {"points", "nps", "pts"}
_COUNT_UNITS = {"count", "tickets", "contacts", "customers", "users", "agents", "n"}


def _finite(x: Any) -> bool:
    try:
        return x is not None and not pd.isna(x) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _human_seconds(s: float) -> str:
    a = abs(s)
    if a < 120:
        return f"{s:.0f} s"
    if a < 2 * 3600:
        return f"{s / 60:.1f} min"
    if a < 48 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def format_value(value: Any, unit: str | None = None, *, signed: bool = False,
                 currency: str | None = None) -> str:
    """Format one KPI value for reading, by its unit.

    Parameters
    ----------
    value : float
        The number (NaN/None gives an en dash).
    unit : str, optional
        ``share`` (0-1, shown as %), ``percent`` (already x100), ``seconds`` (shown as s, min,
        h or d), ``points`` (NPS), ``count``, ``ratio`` and ``score`` (2 decimals), a currency
        code, or anything else (plain number).
    signed : bool, default False
        Prefix ``+`` to positive numbers (for changes). A change of a share is shown in
        percentage points (``pp``).
    currency : str, optional
        Currency code used when ``unit`` is ``currency``.

    Returns
    -------
    str
    """
    if not _finite(value):
        return "\u2013"
    v = float(value)
    u = (unit or "").strip().lower()
    sign = "+" if signed and v > 0 else ""
    if u in _SHARE_UNITS:
        return f"{sign}{100 * v:.1f}{' pp' if signed else '%'}"
    if u in _PERCENT_UNITS:
        return f"{sign}{v:.1f}{' pp' if signed else '%'}"
    if u in _SECONDS_UNITS:
        return sign + _human_seconds(v)
    if u in _POINT_UNITS:
        return f"{sign}{v:.1f}"
    if u in _COUNT_UNITS:
        return f"{sign}{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{sign}{v:,.2f}"
    if u in ("ratio", "score"):
        return f"{sign}{v:,.2f}"
    if u == "currency" or (len(u) == 3 and u.isalpha() and u not in {"min"}):
        code = (currency or unit or "").upper()
        return f"{sign}{v:,.2f} {code}".strip()
    if abs(v) >= 1000:
        return f"{sign}{v:,.0f}"
    return f"{sign}{v:.3g}" if abs(v) < 10 else f"{sign}{v:.1f}"


def axis_scale(unit: str | None, values: Iterable[float] = ()) -> tuple[float, str]:
    """Factor and axis label suffix for plotting values of a unit.

    Returns ``(factor, label)``: multiply values by ``factor``; ``label`` names the unit
    (``%``, ``hours``, ``minutes``, ``seconds``, ``points`` ...). Durations pick minutes, hours or
    days from the median magnitude of ``values``.
    """
    u = (unit or "").strip().lower()
    if u in _SHARE_UNITS:
        return 100.0, "%"
    if u in _PERCENT_UNITS:
        return 1.0, "%"
    if u in _SECONDS_UNITS:
        arr = np.asarray([float(x) for x in values if _finite(x)], dtype=float)
        med = float(np.median(np.abs(arr))) if arr.size else 3600.0
        if med < 120:
            return 1.0, "seconds"
        if med < 2 * 3600:
            return 1 / 60, "minutes"
        if med < 72 * 3600:
            return 1 / 3600, "hours"
        return 1 / 86400, "days"
    if u in _POINT_UNITS:
        return 1.0, "points"
    if u in _COUNT_UNITS or u in ("ratio", "score"):
        return 1.0, ""
    return 1.0, unit or ""


def _seconds_scale(values: Iterable[float]) -> tuple[float, str]:
    """One duration unit for several values (the largest magnitude picks it)."""
    arr = np.asarray([abs(float(x)) for x in values if _finite(x)], dtype=float)
    a = float(arr.max()) if arr.size else 0.0
    if a < 120:
        return 1.0, "s"
    if a < 2 * 3600:
        return 60.0, "min"
    if a < 48 * 3600:
        return 3600.0, "h"
    return 86400.0, "d"


def format_range(values: Sequence[Any], unit: str | None = None, *, signed: bool = False,
                 currency: str | None = None, reference: Iterable[float] = ()) -> list[str]:
    """Format several values of one row in one unit (a duration's unit chosen from the values).

    Parameters
    ----------
    values : sequence of float
        The values of one row (value, interval bounds, target, change ...).
    unit : str, optional
        As in :func:`format_value`.
    signed : bool, default False
        Signed (change) formatting for every value.
    reference : iterable of float, optional
        Values that pick the duration unit instead of ``values`` (for a change shown in the
        unit of the value it changes).

    Returns
    -------
    list of str
        For durations every value in the same unit (s, min, h or d, picked from the largest of
        ``reference`` or ``values``); otherwise :func:`format_value` of each.
    """
    u = (unit or "").strip().lower()
    if u not in _SECONDS_UNITS:
        return [format_value(v, unit, signed=signed, currency=currency) for v in values]
    ref = [x for x in reference if _finite(x) and float(x) != 0]
    factor, name = _seconds_scale(ref or list(values))    # a zero value does not pick seconds
    out = []
    for v in values:
        if not _finite(v):
            out.append("\u2013")
            continue
        x = float(v) / factor
        sign = "+" if signed and x > 0 else ""
        out.append(f"{sign}{x:.0f} {name}" if name == "s" else f"{sign}{x:.1f} {name}")
    return out


_CLOCKS = {"business": "business hours", "calendar": "calendar time"}


def kpi_label(kpi: str, catalogue: pd.DataFrame | None = None, *, clock: Any = None,
              unit: Any = None) -> str:
    """The human label of a KPI: its catalogue title, with the clock named on durations.

    Parameters
    ----------
    kpi : str
        KPI name (``first_response_time``).
    catalogue : pandas.DataFrame, optional
        ``kpitools.kpis.catalogue()``, or the same indexed by ``kpi``; loaded when omitted.
    clock : str, optional
        ``business`` or ``calendar``: named for durations (``unit`` seconds), as
        "First response time (FRT), business hours".
    unit : str, optional
        The row's unit (default the catalogue's).

    Returns
    -------
    str
        The title (never the raw KPI name, unless the catalogue does not know it).
    """
    if catalogue is None:
        from kpitools.kpis import catalogue as _cat

        catalogue = _cat()
    cat = catalogue if catalogue.index.name == "kpi" else catalogue.drop_duplicates("kpi").set_index("kpi")
    title = str(cat["title"].get(kpi, kpi)) if "title" in cat.columns else str(kpi)
    if unit is None and "unit" in cat.columns:
        unit = cat["unit"].get(kpi)
    if clock is None and "clock" in cat.columns:
        clock = cat["clock"].get(kpi)
    if isinstance(unit, str) and unit in _SECONDS_UNITS and isinstance(clock, str) and clock in _CLOCKS:
        return f"{title}, {_CLOCKS[clock]}"
    return title


_SCALE = re.compile(r"scale\s+(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)")


def kpi_bounds(unit: Any, note: Any = None) -> tuple[float, float]:
    """The range a KPI's value can take: shares 0-1, percent 0-100, NPS -100 to 100, scores on
    their scale (``scale 1-7`` in the row's note), durations and counts from 0.

    Returns
    -------
    (float, float)
        Lower and upper bound (``-inf``/``inf`` when unbounded).
    """
    u = (unit if isinstance(unit, str) else "").strip().lower()
    if u in _SHARE_UNITS:
        return 0.0, 1.0
    if u in _PERCENT_UNITS:
        return 0.0, 100.0
    if u in _POINT_UNITS:
        return -100.0, 100.0
    if u == "score" and isinstance(note, str):
        mt = _SCALE.search(note)
        if mt:
            return float(mt.group(1)), float(mt.group(2))
    if u in _SECONDS_UNITS or u in _COUNT_UNITS:
        return 0.0, math.inf
    return -math.inf, math.inf


def shown_intervals(rows: pd.DataFrame, *, confidence: float | None = None) -> pd.DataFrame:
    """The interval to show for each KPI row: containing its value and inside the KPI's bounds.

    Parameters
    ----------
    rows : pandas.DataFrame
        KPI rows with ``value, ci_low, ci_high`` and optionally ``unit, note, stat, detractors,
        passives, promoters, confidence``.
    confidence : float, optional
        Level for a recomputed NPS interval (default the row's ``confidence``, else 0.95).

    Returns
    -------
    pandas.DataFrame
        ``ci_low, ci_high`` (same index as ``rows``) and ``interval_method``: "as computed";
        "score" where an NPS adjusted-Wald interval excluded its value (small samples: Tango's
        score interval from the answer counts replaces it, docs/methods.md#nps-score-interval);
        "clipped to the scale" where a bound lay outside the KPI's range (a t interval of a
        1-7 score, docs/methods.md#t-interval); the bounds are then cut at the range; "widened
        to the value" where an interval excluded its value and no answer counts were at hand to
        recompute it.
    """
    from kpitools.stats.intervals import nps_interval

    _check_columns(rows, ["value", "ci_low", "ci_high"], "rows")
    v = pd.to_numeric(rows["value"], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(rows["ci_low"], errors="coerce").to_numpy(dtype=float).copy()
    hi = pd.to_numeric(rows["ci_high"], errors="coerce").to_numpy(dtype=float).copy()
    how = np.full(len(rows), "as computed", dtype=object)
    have = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(v)
    outside = have & ((v < lo) | (v > hi))
    if outside.any() and {"detractors", "passives", "promoters"} <= set(rows.columns):
        stat = rows["stat"].astype("str").to_numpy() if "stat" in rows.columns else np.full(len(rows), "nps")
        fix = outside & (stat == "nps")
        if fix.any():
            conf = (pd.to_numeric(rows["confidence"], errors="coerce").to_numpy(dtype=float)
                    if "confidence" in rows.columns else np.full(len(rows), np.nan))
            c = np.where(np.isfinite(conf), conf, 0.95) if confidence is None else np.full(len(rows), confidence)
            d, pas, pro = (pd.to_numeric(rows[k], errors="coerce").to_numpy(dtype=float)[fix]
                           for k in ("detractors", "passives", "promoters"))
            for lvl in np.unique(c[fix]):
                sel = c[fix] == lvl
                a, b = nps_interval(d[sel], pas[sel], pro[sel], confidence=float(lvl), method="score")
                idx = np.flatnonzero(fix)[sel]
                lo[idx], hi[idx] = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
            how[fix] = "score"
    units = rows["unit"].tolist() if "unit" in rows.columns else [None] * len(rows)
    notes = rows["note"].tolist() if "note" in rows.columns else [None] * len(rows)
    bounds = np.array([kpi_bounds(u, n_) for u, n_ in zip(units, notes, strict=True)], dtype=float).reshape(-1, 2)
    clip = np.isfinite(lo) & np.isfinite(hi) & ((lo < bounds[:, 0]) | (hi > bounds[:, 1]))
    lo = np.where(clip, np.maximum(lo, bounds[:, 0]), lo)
    hi = np.where(clip, np.minimum(hi, bounds[:, 1]), hi)
    how[clip & (how == "as computed")] = "clipped to the scale"
    # any interval still excluding its value (no answer counts to recompute it from) is widened
    # to the value, and says so
    out_now = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(v) & ((v < lo) | (v > hi))
    lo = np.where(out_now, np.minimum(lo, v), lo)
    hi = np.where(out_now, np.maximum(hi, v), hi)
    how[out_now] = "widened to the value"
    return pd.DataFrame({"ci_low": lo, "ci_high": hi,
                         "interval_method": pd.array(how.astype(str), dtype="str")}, index=rows.index)


# ---------------------------------------------------------------------------------------------
# HTML helpers
# ---------------------------------------------------------------------------------------------
class HtmlTable:
    """A table rendered as escaped HTML in notebooks, with the tidy data behind it.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data shown (unformatted), for tests and further use.
    html : str
        The HTML (every user-supplied string escaped).
    """

    def __init__(self, frame: pd.DataFrame, html_text: str,
                 text_columns: Sequence[str] | None = None) -> None:
        self.frame = frame
        self.html = html_text
        self._text_columns = list(text_columns) if text_columns is not None else None

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        if self.frame.empty:
            return "(empty table)"
        f = self.frame if self._text_columns is None else self.frame[self._text_columns]
        with pd.option_context("display.width", 120, "display.max_columns", 30,
                               "display.precision", 4):
            return f.to_string(index=False)

    def __str__(self) -> str:
        return self.__repr__()


class _Html:
    """Escaped HTML snippet for display (``notice``/``note``)."""

    def __init__(self, html_text: str, text: str) -> None:
        self.html = html_text
        self.text = text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def notice(section: str, reason: str) -> _Html:
    """A visible box saying a section cannot be shown and why (escaped).

    Example: ``notice("Contact centre", "the dataset has no contacts table")``.
    """
    text = f"{section}: not shown - {reason}"
    return _Html(f'<div class="kpi-missing"><strong>{html.escape(str(section))}</strong>: '
                 f"not shown &mdash; {html.escape(str(reason))}</div>", text)


def note(text: str) -> _Html:
    """A short explanatory paragraph (escaped), for text that contains user data."""
    return _Html(f'<p class="kpi-note">{html.escape(str(text))}</p>', str(text))


def _cell(v: Any, fmt: Any = None) -> str:
    if callable(fmt):
        s = fmt(v)
    elif isinstance(fmt, str):
        missing = v is None or (not isinstance(v, str | list | tuple | np.ndarray) and pd.isna(v))
        s = "\u2013" if missing else fmt.format(v)
    elif isinstance(v, float | np.floating):
        s = format_value(v)
    elif v is None or (not isinstance(v, str | list | tuple | np.ndarray) and pd.isna(v)):
        s = "\u2013"
    else:
        s = str(v)
    return html.escape(s)


_LEFT = ' style="text-align:left"'
_RIGHT = ' style="text-align:right;white-space:nowrap"'


def html_table(df: pd.DataFrame, *, caption: str | None = None,
               formats: dict[str, Any] | None = None, columns: dict[str, str] | None = None,
               max_rows: int | None = 50, align: dict[str, str] | None = None) -> HtmlTable:
    """Render a DataFrame as an escaped HTML table.

    Parameters
    ----------
    df : pandas.DataFrame
        Data; the index is not shown (reset it first if it carries information).
    caption : str, optional
        Caption above the table.
    formats : dict, optional
        Column -> format string (``"{:.1%}"``) or callable returning a string. Floats without a
        format use :func:`format_value`.
    columns : dict, optional
        Column -> header text (renaming for display only).
    max_rows : int or None, default 50
        Show at most this many rows and say how many were left out.
    align : dict, optional
        Column -> ``"left"`` or ``"right"``; default right for numbers, left for text. Set
        inline, so JupyterLab and the exported report agree.

    Returns
    -------
    HtmlTable
        ``frame`` is ``df`` unchanged; every header, cell and the caption are HTML-escaped.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
    formats = formats or {}
    columns = columns or {}
    shown = df if max_rows is None else df.head(max_rows)
    align = align or {}
    numeric = {c: (align[c] == "right") if c in align else
               (pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]))
               for c in df.columns}
    sty = {c: _RIGHT if numeric[c] else _LEFT for c in df.columns}
    out = ['<table class="kpi-table">']
    if caption:
        out.append(f"<caption>{html.escape(str(caption))}</caption>")
    out.append("<thead><tr>" + "".join(
        f'<th class="{"num" if numeric[c] else "text"}"{sty[c]}>{html.escape(str(columns.get(c, c)))}</th>'
        for c in df.columns) + "</tr></thead><tbody>")
    for row in shown.itertuples(index=False, name=None):
        out.append("<tr>" + "".join(
            f'<td class="{"num" if numeric[c] else "text"}"{sty[c]}>{_cell(v, formats.get(c))}</td>'
            for c, v in zip(df.columns, row, strict=True)) + "</tr>")
    out.append("</tbody></table>")
    if max_rows is not None and len(df) > max_rows:
        out.append(f'<p class="kpi-note">{len(df) - max_rows} more rows not shown.</p>')
    return HtmlTable(df, "".join(out))


def sparkline_svg(values: Sequence[float], *, width: int = 96, height: int = 22,
                  color: str = PALETTE[0], label: str | None = None) -> str:
    """A small inline SVG line of a series (NaN leaves a gap); deterministic text.

    Parameters
    ----------
    values : sequence of float
        Oldest first; the last point is marked with a dot.
    width, height : int
        Size in CSS pixels.
    color : str
        Line colour.
    label : str, optional
        Accessible title (escaped).

    Returns
    -------
    str
        ``<svg ...>...</svg>``; an empty string when no value is finite.
    """
    v = np.asarray([float(x) if _finite(x) else np.nan for x in values], dtype=float)
    if v.size == 0 or not np.isfinite(v).any():
        return ""
    pad = 2.0
    lo, hi = np.nanmin(v), np.nanmax(v)
    span = hi - lo if hi > lo else 1.0
    xs = pad + (np.arange(v.size) * (width - 2 * pad) / max(v.size - 1, 1))
    ys = height - pad - (v - lo) / span * (height - 2 * pad)
    if hi == lo:
        ys = np.where(np.isfinite(v), height / 2, np.nan)
    segments, cur = [], []
    for x, y in zip(xs, ys, strict=True):
        if np.isfinite(y):
            cur.append(f"{x:.1f},{y:.1f}")
        elif cur:
            segments.append(cur)
            cur = []
    if cur:
        segments.append(cur)
    lines = "".join(
        f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{" ".join(s)}"/>'
        for s in segments if len(s) > 1)
    last = int(np.flatnonzero(np.isfinite(ys))[-1])
    dot = f'<circle cx="{xs[last]:.1f}" cy="{ys[last]:.1f}" r="2" fill="{color}"/>'
    title = f"<title>{html.escape(label)}</title>" if label else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img">{title}{lines}{dot}</svg>')


_CHANGE_COLS = ["prev_value", "change", "change_ci_low", "change_ci_high", "p_value",
                "p_adjusted", "significant"]


#: Scorecard block titles where capitalising the catalogue group reads wrong.
_GROUP_TITLES = {"sla": "SLA compliance"}
#: The tests of ``period_changes`` as a reader names them.
TEST_NAMES = {
    "newcombe+z": "two-proportion z test",
    "newcombe+fisher": "Fisher's exact test",
    "mover+adjusted_wald_z": "adjusted-Wald z test (NPS)",
    "welch_t": "Welch's t test",
    "poisson_exact_conditional": "exact Poisson test (counts)",
}
#: Statistics estimated from a sample of answers or items, judged only with ``n >= min_n``.
SAMPLED_STATS = ("proportion", "nps", "mean", "duration", "level")
#: Surveys answered in waves: a month without enough answers shows the latest wave.
WAVE_KPIS = ("nps",)


def _period(x: Any) -> pd.Period:
    return x.asfreq("M") if isinstance(x, pd.Period) else pd.Period(str(x), freq="M")


def _truth(x: Any) -> bool | None:
    """True/False from a Python, numpy or pandas boolean; None when missing."""
    if x is None or (not isinstance(x, str | bytes) and pd.isna(x)):
        return None
    return bool(x)


def _preferred_segment(kpi: str) -> str:
    return "priority" if kpi.startswith("sla_") else "channel"


def wave_changes(kpi_rows: pd.DataFrame, *, month: Any, waves: Sequence[str] = WAVE_KPIS,
                 min_n: int = 30, lookback: int = 3, history: int = 12) -> pd.DataFrame:
    """For surveys answered in waves: the latest wave shown for ``month`` against the wave before.

    Parameters
    ----------
    kpi_rows : pandas.DataFrame
        Overall monthly KPI rows with ``kpi, period, value, n, stat`` and the NPS answer counts
        (``detractors, passives, promoters``).
    month : str or pandas.Period
    waves : sequence of str, default ("nps",)
    min_n : int, default 30
        A wave is a month with at least this many answers.
    lookback : int, default 3
        The wave shown is the latest within ``lookback`` months ending at ``month``, when the
        month itself has fewer than ``min_n`` answers.
    history : int, default 12
        The wave before is looked for up to this many months before the wave shown.

    Returns
    -------
    pandas.DataFrame
        One row per survey with two waves: ``kpi, period`` (the wave shown), ``against`` (the wave
        before), ``value, against_value, n, against_n, change, ci_low, ci_high, p_value, test``
        from :func:`kpitools.stats.changes.period_changes` on the two waves (for NPS the MOVER
        difference, docs/methods.md#nps-difference). No row when the month has enough answers
        itself (its change is the ordinary one against last month).
    """
    from kpitools.stats.changes import period_changes

    cols = ["kpi", "period", "against", "value", "against_value", "n", "against_n", "change", "ci_low",
            "ci_high", "p_value", "test"]
    _check_columns(kpi_rows, ["kpi", "period", "value", "n"], "kpi_rows")
    m = _period(month)
    rows = kpi_rows.copy()
    rows.attrs = {}
    rows["period"] = rows["period"].map(_period)
    n = pd.to_numeric(rows["n"], errors="coerce")
    enough = (n >= min_n) & rows["value"].notna()
    recs = []
    for k in waves:
        mine = rows[(rows["kpi"] == k) & enough]
        if "stat" not in rows.columns or mine.empty or bool(((mine["period"] == m)).any()):
            continue
        shown = mine[(mine["period"] <= m) & (mine["period"] > m - lookback)]
        if shown.empty:
            continue
        w = shown["period"].max()
        before = mine[(mine["period"] < w) & (mine["period"] >= w - history)]
        if before.empty:
            continue
        prev = before.sort_values("period").iloc[[-1]]
        pair = pd.concat([prev.assign(period=w - 1), mine[mine["period"] == w]], ignore_index=True)
        pair["period"] = pd.PeriodIndex(pair["period"], freq="M")
        last = period_changes(pair, segments=[]).iloc[-1]
        if not _finite(last["p_value"]):
            continue
        recs.append({"kpi": k, "period": w, "against": prev["period"].iloc[0], "value": last["value"],
                     "against_value": last["prev_value"], "n": float(last["n"]),
                     "against_n": float(prev["n"].iloc[0]), "change": last["change"],
                     "ci_low": last["change_ci_low"], "ci_high": last["change_ci_high"],
                     "p_value": float(last["p_value"]), "test": str(last["test"])})
    return pd.DataFrame(recs, columns=cols)


def scorecard_table(kpi_rows: pd.DataFrame, *, month: Any, changes: pd.DataFrame | None = None,
                    catalogue: pd.DataFrame | None = None, kpis: Sequence[str] | None = None,
                    history: int = 12, caption: str | None = None,
                    currency: str | None = None, min_n: int = 30, alpha: float = 0.05,
                    worst: pd.DataFrame | None = None, waves: Sequence[str] = WAVE_KPIS,
                    lookback: int = 3, equal_age: pd.DataFrame | None = None) -> HtmlTable:
    """The headline scorecard: one row per KPI for ``month``.

    Parameters
    ----------
    kpi_rows : pandas.DataFrame
        Long KPI table over several months without segment columns (``kpi_table(ds)``):
        ``kpi, period, value, unit`` and where available ``ci_low, ci_high, n, target,
        target_met, note, clock`` and the change columns of ``period_changes``.
    month : str or pandas.Period
        The report month.
    changes : pandas.DataFrame, optional
        Output of ``kpitools.stats.changes.period_changes`` on the same rows. Its changes
        against the previous month are read with Benjamini-Hochberg across the KPIs shown
        (:func:`kpitools.stats.changes.changes_across_kpis`); given only some change columns
        (``change``, ``p_adjusted``, ``significant``), those are shown as they are.
    catalogue : pandas.DataFrame, optional
        ``kpitools.kpis.catalogue()``: ``title``, ``group`` and ``higher_is_better`` per KPI;
        rows are ordered by catalogue order. Each group is shown once, as one block.
    kpis : sequence of str, optional
        Restrict to (and order by) these KPIs; a KPI listed apart from the rest of its group
        joins its group's block (groups in order of first appearance).
    history : int, default 12
        Months in the sparkline (ending at ``month``).
    caption : str, optional
    currency : str, optional
        Currency code for money KPIs.
    min_n : int, default 30
        A value estimated from fewer answers or items (``stat`` in :data:`SAMPLED_STATS`) is
        greyed, "n too small": neither met nor missed, its change not tested, and left out of the
        sparkline (setting ``min_n``).
    alpha : float, default 0.05
        False discovery rate of the change test.
    worst : pandas.DataFrame, optional
        ``kpitools.summary.worst_segments`` output: the segment furthest behind is shown beside
        each KPI that has one (priority for SLA KPIs, channel for the others).
    waves : sequence of str, default ("nps",)
        Surveys answered in waves: when the month has fewer than ``min_n`` answers, the latest
        month within ``lookback`` months that has them is shown, with that month named.
    lookback : int, default 3
    equal_age : pandas.DataFrame, optional
        ``kpitools.report.equal_age_changes`` output: a KPI whose cohort is still maturing is
        then compared with the month before at equal age (tickets resolved within the same time
        of creation), tested in the same family; without it such a KPI's change is not tested.

    Returns
    -------
    HtmlTable
        ``frame`` columns: ``kpi, title, group, shown_period, value, ci_low, ci_high,
        interval_method, unit, n, small, target, target_met, direction, prev_value, change,
        change_ci_low, change_ci_high, p_value, test, significant, verdict, higher_is_better,
        worst, trend, maturing``. ``shown_period`` is the month shown (a wave's month for a
        survey in waves); ``ci_low, ci_high`` the interval shown
        (:func:`shown_intervals`: containing the value, inside the KPI's bounds); ``small``:
        n below ``min_n`` (then ``target_met`` is NA and the change is not tested);
        ``direction``: "higher is better", "lower is better" or ""; ``verdict``: "worse",
        "better", "changed" (significant, without a direction) or "" ; ``p_value``: adjusted
        across the KPIs compared; ``trend``: the ``history`` monthly values, oldest first, NaN
        where n < ``min_n``; ``maturing``: the parts of the month's ``note`` saying the cohort is
        not complete yet, else None; ``change_against``: the month the change is against (the
        previous month, or for a survey in waves the wave before the one shown, tested in the same
        Benjamini-Hochberg family). A maturing KPI is marked with a dagger and its change is
        not tested (part of it is the cohort's age). In the HTML each row carries ``data-kpi``,
        ``data-period`` (the month shown) and the value cell ``data-value`` (the unrounded
        value as ``repr``), so the report can be checked against ``kpi_table``; the interval
        cell carries ``data-low`` and ``data-high``.
    """
    from kpitools.stats.changes import benjamini_hochberg, changes_across_kpis

    _check_columns(kpi_rows, ["kpi", "period", "value"], "kpi_rows")
    if not isinstance(history, int) or history < 1:
        raise ValueError(f"history: expected a positive int, got {history!r}")
    if not isinstance(min_n, int) or isinstance(min_n, bool) or min_n < 1:
        raise ValueError(f"min_n: expected a whole number of at least 1, got {min_n!r}")
    m = _period(month)
    rows = kpi_rows.copy()
    rows.attrs = {}
    rows["period"] = rows["period"].map(_period)
    for c in ["unit", "ci_low", "ci_high", "n", "target", "target_met", "clock", *_CHANGE_COLS]:
        if c not in rows.columns:
            rows[c] = np.nan
    if "note" not in rows.columns:
        rows["note"] = None
    dup = rows.duplicated(["kpi", "period"])
    if dup.any():
        raise ValueError("kpi_rows: more than one row per kpi and period; pass overall rows "
                         "(kpi_table without by) or filter the segment first")
    n_all = pd.to_numeric(rows["n"], errors="coerce")
    # only estimates from a sample of answers or items are "too small"; a count or a ratio of
    # totals (cost per contact over 5 cost lines) is what it is
    sampled = (rows["stat"].astype("str").isin(list(SAMPLED_STATS)) if "stat" in rows.columns
               else pd.Series(True, index=rows.index))
    rows["_small"] = n_all.notna() & (n_all < min_n) & sampled
    # survey waves: a month without enough answers shows the latest wave within lookback
    shown = rows[rows["period"] == m].copy()
    shown["shown_period"] = m
    for k in waves:
        here = shown["kpi"] == k
        if not here.any() or not bool(shown.loc[here, "_small"].iloc[0] or
                                      pd.isna(shown.loc[here, "value"].iloc[0])):
            continue
        cand = rows[(rows["kpi"] == k) & ~rows["_small"] & rows["value"].notna()
                    & (rows["period"] <= m) & (rows["period"] > m - lookback)]
        if len(cand):
            best = cand.sort_values("period").iloc[[-1]].assign(shown_period=lambda x: x["period"])
            shown = pd.concat([shown[~here], best], ignore_index=True)
    cur = shown.set_index("kpi")
    order = list(cur.index)
    titles, groups, hib = {}, {}, {}
    cat = None
    if catalogue is not None:
        _check_columns(catalogue, ["kpi"], "catalogue")
        cat = catalogue.drop_duplicates("kpi").set_index("kpi")
        rank = {k: i for i, k in enumerate(cat.index)}
        order = sorted(order, key=lambda k: (rank.get(k, len(rank)), k))
        titles = cat["title"].to_dict() if "title" in cat else {}
        groups = cat["group"].to_dict() if "group" in cat else {}
        hib = cat["higher_is_better"].to_dict() if "higher_is_better" in cat else {}
    if kpis is not None:
        order = [k for k in kpis if k in cur.index]
    if groups:
        first: dict[str, int] = {}
        for k in order:
            first.setdefault(groups.get(k, ""), len(first))
        order = sorted(order, key=lambda k: first[groups.get(k, "")])
    cur = cur.reindex(order)
    iv = shown_intervals(cur.reset_index(), confidence=None)
    iv.index = cur.index
    maturing = {k: _maturing(cur.at[k, "note"]) for k in order}
    # changes against last month, BH across the KPIs shown
    test = pd.Series("", index=cur.index, dtype="object")
    against: dict[str, pd.Period] = {}
    aged: dict[str, float] = {}
    n_compared = None
    full = changes is not None and {"prev_period", "p_value", "yoy_p_value", "test"} <= set(changes.columns)
    if full:
        same_month = cur["shown_period"] == m
        ca = changes_across_kpis(changes, period=m, kpis=[k for k in order if same_month[k]],
                                 exclude=[k for k, v in maturing.items() if v], min_n=min_n, alpha=alpha)
        ca = ca[ca["comparison"] == "previous period"].drop_duplicates("kpi").set_index("kpi").reindex(cur.index)
        cur["prev_value"] = ca["against_value"]
        cur["change"] = ca["change"]
        cur["change_ci_low"], cur["change_ci_high"] = ca["ci_low"], ca["ci_high"]
        cur["p_value"] = ca["p_adjusted"]
        cur["significant"] = ca["significant"].fillna(False).astype(bool)
        test = ca["test"].where(ca["p_adjusted"].notna(), "").fillna("")
        n_compared = int(ca["n_compared"].dropna().iloc[0]) if ca["n_compared"].notna().any() else 0
        # a survey in waves: its latest wave against the wave before, in the same BH family
        in_family = ca["p_adjusted"].notna() & ca["p_value"].notna()
        p_family = ca["p_value"].where(in_family)
        wv = wave_changes(kpi_rows, month=m, waves=waves, min_n=min_n, lookback=lookback)
        for r in wv.itertuples(index=False):
            if r.kpi not in cur.index or cur.at[r.kpi, "shown_period"] != r.period:
                continue
            cur.loc[r.kpi, ["prev_value", "change", "change_ci_low", "change_ci_high"]] = [
                r.against_value, r.change, r.ci_low, r.ci_high]
            against[r.kpi] = r.against
            test[r.kpi] = r.test
            p_family[r.kpi] = float(r.p_value)
        if equal_age is not None and len(equal_age):
            _check_columns(equal_age, ["kpi", "age_s", "change", "ci_low", "ci_high", "p_value", "test"],
                           "equal_age")
            for r in equal_age.itertuples(index=False):
                if r.kpi in cur.index and maturing.get(r.kpi) and cur.at[r.kpi, "shown_period"] == m \
                        and _finite(r.p_value):
                    cur.loc[r.kpi, ["prev_value", "change", "change_ci_low", "change_ci_high"]] = [
                        r.against_value, r.change, r.ci_low, r.ci_high]
                    aged[r.kpi] = float(r.age_s)
                    test[r.kpi] = r.test
                    p_family[r.kpi] = float(r.p_value)
        if against or aged:
            adj, _ = benjamini_hochberg(p_family.to_numpy(dtype=float), alpha=alpha)
            cur["p_value"] = adj
            cur["significant"] = np.where(np.isnan(adj), False, adj <= alpha)
            n_compared = int(np.isfinite(adj).sum())
    elif changes is not None:
        _check_columns(changes, ["kpi", "period"], "changes")
        ch = changes.copy()
        ch["period"] = ch["period"].map(_period)
        ch = ch[ch["period"] == m].drop_duplicates("kpi").set_index("kpi")
        for c in _CHANGE_COLS:
            if c in ch.columns:
                cur[c] = ch[c].reindex(cur.index)
        cur["p_value"] = cur["p_adjusted"].where(pd.to_numeric(cur["p_adjusted"], errors="coerce").notna(),
                                                 cur["p_value"])
    months = pd.period_range(m - (history - 1), m, freq="M")
    spark = rows.assign(value=rows["value"].where(~rows["_small"]))
    wide = spark.pivot(index="period", columns="kpi", values="value").reindex(months)
    worst_of: dict[str, pd.Series] = {}
    if worst is not None and len(worst):
        _check_columns(worst, ["kpi", "segment", "level", "value"], "worst")
        for k, g in worst.groupby("kpi", sort=False):
            pref = g[g["segment"] == _preferred_segment(str(k))]
            worst_of[str(k)] = (pref if len(pref) else g).iloc[0]
    recs = []
    for k in order:
        r = cur.loc[k]
        small = bool(r["_small"])
        h = hib.get(k)
        h = None if h is None or pd.isna(h) else bool(h)
        mat = maturing[k]
        sig = _truth(r["significant"])
        wave_change = k in against
        if small or (mat and k not in aged) or (cur.at[k, "shown_period"] != m and not wave_change):
            sig = None
        chg = r["change"]
        verdict = ""
        if sig and _finite(chg) and float(chg) != 0:
            verdict = "changed" if h is None else ("better" if (float(chg) > 0) == h else "worse")
        trend = [float(x) if _finite(x) else float("nan") for x in
                 (wide[k] if k in wide.columns else [np.nan] * len(months))]
        recs.append({
            "kpi": k, "title": titles.get(k, k) if isinstance(titles.get(k, k), str) else k,
            "group": groups.get(k, ""), "shown_period": cur.at[k, "shown_period"],
            "value": r["value"], "ci_low": iv.at[k, "ci_low"], "ci_high": iv.at[k, "ci_high"],
            "interval_method": iv.at[k, "interval_method"], "unit": r["unit"], "n": r["n"],
            "small": small, "target": r["target"],
            "target_met": pd.NA if small else r["target_met"],
            "direction": {True: "higher is better", False: "lower is better"}.get(h, ""),
            "prev_value": r["prev_value"], "change": chg,
            "change_ci_low": r["change_ci_low"], "change_ci_high": r["change_ci_high"],
            "p_value": r["p_value"], "test": str(test.get(k, "") or ""),
            "significant": bool(sig) if sig is not None else pd.NA, "verdict": verdict,
            "higher_is_better": h, "worst": worst_of.get(k), "trend": trend, "maturing": mat,
            "change_against": against.get(k, m - 1), "equal_age_s": aged.get(k, np.nan),
            "clock": r["clock"], "note": r["note"],
        })
    cols = ["kpi", "title", "group", "shown_period", "value", "ci_low", "ci_high", "interval_method",
            "unit", "n", "small", "target", "target_met", "direction", "prev_value", "change",
            "change_ci_low", "change_ci_high", "p_value", "test", "significant", "verdict",
            "higher_is_better", "worst", "trend", "maturing", "change_against", "equal_age_s"]
    frame = pd.DataFrame(recs, columns=cols)
    with_worst = bool(worst_of)
    ncol = 8 + with_worst
    head = (f'<tr><th class="text"{_LEFT}>KPI</th><th class="text"{_LEFT}>better</th>'
            f'<th{_RIGHT}>value</th><th{_RIGHT}>interval</th>'
            f'<th{_RIGHT}>n</th><th{_RIGHT}>target</th>'
            + (f'<th class="text"{_LEFT}>segment furthest behind</th>' if with_worst else "")
            + f'<th{_RIGHT}>change vs last month</th>'
            f'<th class="text"{_LEFT}>last {history} months</th></tr>')
    out = ['<table class="kpi-table kpi-scorecard">']
    out.append(f"<caption>{html.escape(caption or f'Scorecard {m}')}</caption>")
    out.append(f"<thead>{head}</thead><tbody>")
    last_group = None
    for rec in recs:
        unit = rec["unit"] if isinstance(rec["unit"], str) else None
        if rec["group"] and rec["group"] != last_group:
            out.append(f'<tr class="group"><th class="text" colspan="{ncol}"{_LEFT}>'
                       f'{html.escape(_GROUP_TITLES.get(str(rec["group"]), str(rec["group"]).capitalize()))}</th></tr>')
            last_group = rec["group"]
        fv, flo, fhi, ftg = format_range([rec["value"], rec["ci_low"], rec["ci_high"], rec["target"]], unit,
                                         currency=currency)
        interval = f"{flo} \u2013 {fhi}" if _finite(rec["ci_low"]) and _finite(rec["ci_high"]) else "\u2013"
        n = f"{float(rec['n']):,.0f}" if _finite(rec["n"]) else "\u2013"
        met = _truth(rec["target_met"])
        if rec["small"]:
            tgt = ('<span class="muted">n too small</span>'
                   + (f" ({html.escape(ftg)})" if _finite(rec["target"]) else ""))
        elif _finite(rec["target"]):
            if met is True:
                tgt = f'<span class="ok">\u2713 met</span> ({html.escape(ftg)})'
            elif met is False:
                tgt = f'<span class="miss">\u2717 missed</span> ({html.escape(ftg)})'
            else:
                tgt = html.escape(ftg)
        else:
            tgt = '<span class="muted">none set</span>'
        if _finite(rec["change"]) and (rec["shown_period"] == m or rec["change_against"] != m - 1):
            (fch,) = format_range([rec["change"]], unit, signed=True, currency=currency,
                                  reference=[rec["value"]])
            if rec["change_against"] != m - 1:
                fch += f" vs {rec['change_against'].strftime('%b %Y')} wave"
            if _finite(rec["equal_age_s"]):
                fch += " at equal age"
            sig = _truth(rec["significant"])
            p = f", adjusted p = {rec['p_value']:.3f}" if _finite(rec["p_value"]) else ""
            if rec["maturing"] and not _finite(rec["equal_age_s"]):
                why, cls, mark = "not tested: the cohort is still maturing", "muted", ""
            elif rec["small"]:
                why, cls, mark = f"not tested: n below {min_n}", "muted", ""
            elif sig:
                why = "significant" + p
                cls = {"better": "sig ok", "worse": "sig miss"}.get(rec["verdict"], "sig")
                mark = " *"
            else:
                why, cls, mark = ("not significant" + p) if sig is False else "no test", "muted", ""
            chg = (f'<span class="{cls}" title="{html.escape(why, quote=True)}">'
                   f"{html.escape(fch)}{mark}</span>")
        else:
            chg = '<span class="muted">\u2013</span>'
        spark = sparkline_svg(rec["trend"], label=f"{rec['title']}: last {history} months")
        dagger = (f' <span class="muted" title="{html.escape(rec["maturing"], quote=True)}">\u2020</span>'
                  if rec["maturing"] else "")
        label = html.escape(kpi_label(rec["kpi"], cat, clock=rec["clock"], unit=unit)
                            if cat is not None else str(rec["title"]))
        wave = (f' <span class="muted">({html.escape(rec["shown_period"].strftime("%b %Y"))} wave)</span>'
                if rec["shown_period"] != m else "")
        direction = {"higher is better": "\u2191 higher", "lower is better": "\u2193 lower"}.get(
            rec["direction"], "\u2013")
        value_html = (f'<span class="muted">{html.escape(fv)}</span>' if rec["small"]
                      else f"<strong>{html.escape(fv)}</strong>")
        wcell = ""
        if with_worst:
            w = rec["worst"]
            if w is None:
                wcell = f'<td class="text"{_LEFT}><span class="muted">\u2013</span></td>'
            else:
                wv, wt = format_range([w["value"], w.get("target")], unit, currency=currency)
                wmet = _truth(w.get("target_met"))
                mark = ('<span class="miss">\u2717</span> ' if wmet is False else
                        '<span class="ok">\u2713</span> ' if wmet is True else "")
                wn = f", n {float(w['n']):,.0f}" if _finite(w.get("n")) else ""
                wtg = f" vs {html.escape(wt)}" if _finite(w.get("target")) else ""
                wcell = (f'<td class="text"{_LEFT}>{mark}{html.escape(str(w["level"]))}: '
                         f"{html.escape(wv)}{wtg}{html.escape(wn)}</td>")
        small_cls = ' class="small-n"' if rec["small"] else ""
        lo_attr = repr(float(rec["ci_low"])) if _finite(rec["ci_low"]) else "nan"
        hi_attr = repr(float(rec["ci_high"])) if _finite(rec["ci_high"]) else "nan"
        out.append(
            f'<tr data-kpi="{html.escape(str(rec["kpi"]), quote=True)}" data-period="{rec["shown_period"]}"'
            f'{small_cls}>'
            f'<td class="text"{_LEFT}>{label}{dagger}{wave}</td>'
            f'<td class="text"{_LEFT}>{direction}</td>'
            f'<td class="num"{_RIGHT} data-value="{html.escape(repr(float(rec["value"])) if _finite(rec["value"]) else "nan")}">'
            f"{value_html}</td>"
            f'<td class="num"{_RIGHT} data-low="{lo_attr}" data-high="{hi_attr}">{html.escape(interval)}</td>'
            f'<td class="num"{_RIGHT}>{n}</td>'
            f'<td class="num"{_RIGHT}>{tgt}</td>{wcell}<td class="num"{_RIGHT}>{chg}</td>'
            f'<td class="text"{_LEFT}>{spark}</td></tr>')
    out.append("</tbody></table>")
    conf = pd.to_numeric(kpi_rows["confidence"], errors="coerce").dropna() if "confidence" in kpi_rows else []
    level = f"{float(conf.iloc[0]):.0%}" if len(conf) else "the report's"
    used = sorted({TEST_NAMES.get(t, t) for t in frame["test"] if isinstance(t, str) and t})
    tests = f" ({', '.join(used)})" if used else ""
    across = (f"Benjamini-Hochberg adjusted across the {n_compared} KPIs compared"
              if n_compared is not None else "adjusted as given")
    out.append(f'<p class="kpi-note">Change marked * : two-sided test of no change against last month{html.escape(tests)}, '
               f"p-value {html.escape(across)}, at most {alpha:g}; red is worse, green better. "
               f"Intervals are {html.escape(level)} intervals of the value. "
               f"Values from fewer than {min_n} answers or items are greyed (n too small): not judged "
               "against their target, not tested and left out of the sparkline.</p>")
    mat = [(rec["title"], rec["maturing"]) for rec in recs if rec["maturing"]]
    if mat:
        items = "; ".join(f"{html.escape(str(t))}: {html.escape(x)}" for t, x in mat)
        aged_items = [f"{html.escape(str(rec['title']))} counts the tickets of both months resolved within "
                      f"{html.escape(format_value(rec['equal_age_s'], 'seconds'))} of creation"
                      for rec in recs if rec["maturing"] and _finite(rec["equal_age_s"])]
        aged_text = (" Compared at equal age instead: " + "; ".join(aged_items) + "." if aged_items else "")
        out.append(f'<p class="kpi-note">\u2020 Cohort still maturing in {m} ({items}). These KPIs '
                   "count the tickets created in the month, and the latest tickets have had less time to "
                   "be resolved or followed up, so the value can still change; its change against an older, "
                   f"mature month is partly the cohort's age, so it is not tested as it is.{aged_text}</p>")
    return HtmlTable(frame, "".join(out), text_columns=["kpi", "value", "ci_low", "ci_high", "n",
                                                         "target_met", "change", "significant"])


def _maturing(note: Any) -> str | None:
    """The parts of a KPI note saying its cohort is not complete yet ("... still open at the
    cut-off": tickets unresolved, repeat windows open), or None."""
    if not isinstance(note, str):
        return None
    parts = [p.strip() for p in note.split(";") if "still open at the cut-off" in p]
    return "; ".join(parts) or None


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------
def _finish(ax, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    if title:
        ax.set_title(_mpl_text(title), loc="left", fontsize=12, fontweight="bold")
    if xlabel is not None:
        ax.set_xlabel(_mpl_text(xlabel))
    if ylabel is not None:
        ax.set_ylabel(_mpl_text(ylabel))


def plot_kpi_trend(kpi_rows: pd.DataFrame, kpi: str, *, by: str | None = None,
                   title: str | None = None, unit: str | None = None, ylabel: str | None = None,
                   width: float = 9.0, height: float = 3.2) -> Figure:
    """Monthly value of one KPI with its interval band and target line.

    Parameters
    ----------
    kpi_rows : pandas.DataFrame
        KPI table with ``kpi, period, value`` and optionally ``ci_low, ci_high, target, unit``
        and the segment column ``by``.
    kpi : str
        Which KPI.
    by : str, optional
        Segment column: one line per segment (at most 8).
    title, unit, ylabel : str, optional
        Default: the KPI name and the table's unit; the unit is appended to ``ylabel``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_columns(kpi_rows, ["kpi", "period", "value"] + ([by] if by else []), "kpi_rows")
    d = kpi_rows[kpi_rows["kpi"] == kpi].copy()
    if d.empty:
        raise ValueError(f"kpi: {kpi!r} not in kpi_rows; available: {sorted(kpi_rows['kpi'].unique())}")
    d["period"] = d["period"].map(_period)
    d = d.sort_values("period")
    if unit is None and "unit" in d:
        unit = next((u for u in d["unit"] if isinstance(u, str)), None)
    factor, ulabel = axis_scale(unit, d["value"])
    fig, ax = _figure(width, height)
    groups = [(None, d)] if by is None else list(d.groupby(by, sort=True, observed=True))[:8]
    for i, (g, gd) in enumerate(groups):
        x = pd.DatetimeIndex([p.to_timestamp() for p in gd["period"]])
        col = PALETTE[i % len(PALETTE)]
        y = gd["value"].astype(float).to_numpy() * factor
        ax.plot(x, y, marker="o", ms=3.5, color=col, label=None if g is None else _mpl_text(g))
        if {"ci_low", "ci_high"} <= set(gd.columns):
            iv = shown_intervals(gd)
            lo = iv["ci_low"].to_numpy(dtype=float) * factor
            hi = iv["ci_high"].to_numpy(dtype=float) * factor
            if np.isfinite(lo).any():
                ax.fill_between(x, lo, hi, color=col, alpha=0.15, lw=0)
    if by is None and "target" in d and d["target"].notna().any():
        t = float(d["target"].dropna().iloc[-1]) * factor
        ax.axhline(t, color=TARGET, ls="--", lw=1, label="target")
    if by is not None or ("target" in d and d["target"].notna().any()):
        ax.legend(loc="best")
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y-%m"))
    human = kpi_label(kpi, None, clock=next((c for c in d["clock"] if isinstance(c, str)), None)
                      if "clock" in d else None, unit=unit)
    label = ylabel or human
    _finish(ax, title or human, "month", f"{label} ({ulabel})" if ulabel and f"({ulabel})" not in label else label)
    return fig


def plot_daily_volume(daily: pd.DataFrame | pd.Series, launches: pd.DataFrame | None = None,
                      spikes: pd.DataFrame | None = None, *, value: str | None = None,
                      expected: pd.Series | None = None, title: str = "Tickets created per day",
                      width: float = 10.0, height: float = 3.6) -> Figure:
    """Daily ticket volume with launches marked and detected spikes highlighted.

    Parameters
    ----------
    daily : pandas.Series or pandas.DataFrame
        Series indexed by day, or a frame with a ``date`` column and a count column (``value``,
        default the first numeric column other than ``date``).
    launches : pandas.DataFrame, optional
        ``launched_at`` (or ``date``) and ``name``: dashed vertical lines, labelled.
    spikes : pandas.DataFrame, optional
        Spike table of ``detect_spikes``: ``date, observed`` (and ``expected``): red dots.
    expected : pandas.Series, optional
        Seasonal baseline by day, drawn as a thin line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(daily, pd.Series):
        s = daily.astype(float)
        s.index = pd.DatetimeIndex(s.index)
    else:
        _check_columns(daily, ["date"], "daily")
        if value is None:
            nums = [c for c in daily.columns if c != "date" and pd.api.types.is_numeric_dtype(daily[c])]
            if not nums:
                raise ValueError("daily: no numeric count column; pass value=")
            value = nums[0]
        s = pd.Series(daily[value].astype(float).to_numpy(), index=pd.DatetimeIndex(daily["date"]))
    s = s.sort_index()
    if s.index.tz is not None:
        s.index = s.index.tz_localize(None)
    fig, ax = _figure(width, height)
    ax.plot(s.index, s.to_numpy(), color=PALETTE[0], lw=1.2, label="tickets")
    if expected is not None:
        e = expected.sort_index()
        ax.plot(pd.DatetimeIndex(e.index).tz_localize(None) if pd.DatetimeIndex(e.index).tz else
                pd.DatetimeIndex(e.index), e.to_numpy(dtype=float), color=NEUTRAL, lw=0.9,
                ls=":", label="expected")
    if spikes is not None and len(spikes):
        _check_columns(spikes, ["date", "observed"], "spikes")
        sd = pd.DatetimeIndex(spikes["date"])
        if sd.tz is not None:
            sd = sd.tz_localize(None)
        inside = np.asarray((sd >= s.index.min()) & (sd <= s.index.max())) if len(s) else np.zeros(len(sd), bool)
        if inside.any():
            ax.scatter(sd[inside], spikes["observed"].astype(float).to_numpy()[inside], color=BAD,
                       s=22, zorder=3, label="spike")
    if launches is not None and len(launches):
        col = "launched_at" if "launched_at" in launches else "date"
        _check_columns(launches, [col], "launches")
        ld = pd.DatetimeIndex(launches[col])
        if ld.tz is not None:
            ld = ld.tz_localize(None)
        ld = ld.normalize()
        names = launches["name"].astype(str).tolist() if "name" in launches else [""] * len(ld)
        inside = (ld >= s.index.min()) & (ld <= s.index.max()) if len(s) else ld.notna() & False
        ld, names = ld[inside], [nm for nm, keep in zip(names, inside, strict=True) if keep]
        top = float(np.nanmax(s.to_numpy())) if len(s) else 1.0
        # labels sit in a band above the data (the axis is extended for it), staggered over three
        # rows, so they cover neither the line nor the spike markers nor each other
        for i, (d, nm) in enumerate(sorted(zip(ld, names, strict=True))):
            ax.axvline(d, color=PALETTE[1], ls="--", lw=1, label="launch" if i == 0 else None)
            ax.annotate(_mpl_text(nm[:24]), (d, top * (1.36 - 0.1 * (i % 3))), xytext=(2, 0),
                        textcoords="offset points", fontsize=7.5, color="#8a5a00",
                        rotation=0, va="center",
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.9})
    has_labels = launches is not None and len(launches) and len(s)
    ax.set_ylim(0, (float(np.nanmax(s.to_numpy())) if len(s) else 1.0) * (1.42 if has_labels else 1.15))
    fig.legend(loc="outside upper right", ncols=4)
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y-%m-%d"))
    _finish(ax, title, "day (business timezone)", "tickets per day")
    return fig


_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def plot_heatmap_arrivals(counts: pd.DataFrame, *, title: str = "Arrivals by hour and weekday",
                          per: str = "tickets", width: float = 9.0, height: float = 3.4) -> Figure:
    """Heatmap of arrivals: weekday (rows) x hour of day (columns).

    Parameters
    ----------
    counts : pandas.DataFrame
        Either wide (index: hour 0-23, columns: 7 weekdays Mon..Sun or 0..6) or tidy with
        columns ``hour``, ``weekday`` (0 = Monday or a name) and ``count`` (or ``n``/``value``).
    per : str
        What is counted (colour bar label).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(counts, pd.DataFrame):
        raise TypeError(f"counts: expected a pandas DataFrame, got {type(counts).__name__}")
    if {"hour", "weekday"} <= set(counts.columns):
        val = next((c for c in ("count", "n", "value", "tickets") if c in counts.columns), None)
        if val is None:
            raise ValueError("counts: tidy input needs a count column (count, n, value or tickets)")
        wide = counts.pivot_table(index="hour", columns="weekday", values=val, aggfunc="sum",
                                  observed=True)
    else:
        wide = counts
    cols = list(wide.columns)
    if all(isinstance(c, int | np.integer) for c in cols):
        wide = wide.reindex(columns=range(7))
        wide.columns = _WEEKDAYS
    else:
        short = {str(c)[:3].title(): c for c in cols}
        wide = wide[[short[d] for d in _WEEKDAYS if d in short]]
        wide.columns = [str(c)[:3].title() for c in wide.columns]
    wide = wide.copy()
    wide.index = pd.Index([int(h) for h in wide.index])       # "00".."23" or 0..23
    wide = wide.reindex(range(24)).fillna(0)
    m = wide.T.to_numpy(dtype=float)
    fig, ax = _figure(width, height)
    im = ax.imshow(m, aspect="auto", cmap="Blues", interpolation="nearest")
    ax.grid(False)
    ax.set_yticks(range(len(wide.columns)), wide.columns)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    cb = fig.colorbar(im, ax=ax, pad=0.01)
    cb.set_label(_mpl_text(per))
    _finish(ax, title, "hour of day (business timezone)", "weekday")
    return fig


def plot_km_curves(curves: pd.DataFrame, *, by: str | None = None, time: str = "time",
                   estimate: str | None = None, title: str = "Share still waiting",
                   xlabel: str = "time", time_unit: str = "seconds", quantity: str = "still open",
                   xmax: float | None = None, width: float = 9.0, height: float = 3.4) -> Figure:
    """Kaplan-Meier survival curves (share not yet answered/resolved) with pointwise bands.

    Parameters
    ----------
    curves : pandas.DataFrame
        Tidy curve: ``time`` and the survival column (``survival``, ``estimate`` or
        ``probability``), optionally ``ci_low, ci_high`` and a group column ``by``.
    time_unit : str
        Unit of ``time``: ``seconds`` (rescaled to minutes/hours/days for the axis) or a label.
    xmax : float, optional
        Cut the x axis at this time (in ``time`` units), e.g. the 95th percentile.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if estimate is None:
        estimate = next((c for c in ("survival", "estimate", "probability", "value")
                         if isinstance(curves, pd.DataFrame) and c in curves.columns), "survival")
    _check_columns(curves, [time, estimate] + ([by] if by else []), "curves")
    if xmax is None and len(curves):
        # show up to where the slowest curve has 5% left (the long tail squeezes everything else)
        below = curves[curves[estimate] <= 0.05]
        tail = (below.groupby(by, observed=True)[time].min().max() if by and len(below)
                else below[time].min() if len(below) else np.nan)
        xmax = float(tail) * 1.1 if _finite(tail) and tail > 0 else float(curves[time].max())
    factor, ulabel = (axis_scale(time_unit, [xmax / 2]) if time_unit in _SECONDS_UNITS and xmax
                      else (1.0, time_unit))
    fig, ax = _figure(width, height)
    groups = [(None, curves)] if by is None else list(curves.groupby(by, sort=True, observed=True))[:8]
    prio = {p: i for i, p in enumerate(PRIORITY_ORDER)}
    groups.sort(key=lambda gg: (prio.get(str(gg[0]), len(prio)), str(gg[0])))
    for i, (g, gd) in enumerate(groups):
        gd = gd.sort_values(time)
        col = PALETTE[i % len(PALETTE)]
        t = np.r_[0.0, gd[time].to_numpy(dtype=float) * factor]
        y = np.r_[1.0, gd[estimate].to_numpy(dtype=float)]
        ax.step(t, 100 * y, where="post", color=col, lw=1.4,
                label=None if g is None else _mpl_text(g))
        if {"ci_low", "ci_high"} <= set(gd.columns):
            lo = np.r_[1.0, gd["ci_low"].to_numpy(dtype=float)]
            hi = np.r_[1.0, gd["ci_high"].to_numpy(dtype=float)]
            ax.fill_between(t, 100 * lo, 100 * hi, step="post", color=col, alpha=0.15, lw=0)
    ax.axhline(50, color=NEUTRAL, lw=0.8, ls=":")
    ax.axhline(10, color=NEUTRAL, lw=0.8, ls=":")
    ax.set_ylim(0, 100)
    if xmax is not None:
        ax.set_xlim(0, xmax * factor)
    else:
        ax.set_xlim(left=0)
    if by is not None:
        ax.legend(loc="upper right")
    _finish(ax, title, f"{xlabel} ({ulabel})", f"% {quantity}")
    return fig


def plot_rate_with_ci(rows: pd.DataFrame, *, by: str, value: str = "value", unit: str | None = None,
                      target: float | None = None, title: str | None = None,
                      xlabel: str | None = None, sort: bool = True, max_rows: int = 25,
                      min_n: int = 0, width: float = 9.0, height: float | None = None) -> Figure:
    """Horizontal dot-and-interval chart of a KPI by segment.

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per segment: ``by``, ``value`` and optionally ``ci_low, ci_high, n, unit``.
    by : str
        Segment column (labels are user text).
    target : float, optional
        Vertical dashed target line.
    sort : bool, default True
        Order segments by value.
    max_rows : int, default 25
        Show at most this many segments (the largest ``n`` first when ``n`` exists).
    min_n : int, default 0
        Leave out segments with ``n`` below this (their intervals swamp the axis); the title
        says how many were left out.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_columns(rows, [by, value], "rows")
    d = rows.copy()
    dropped = 0
    if min_n and "n" in d:
        small = d["n"].fillna(0) < min_n
        dropped = int(small.sum())
        d = d[~small]
        if dropped and title:
            title = f"{title} ({dropped} segment{'s' if dropped > 1 else ''} with n < {min_n} not shown)"
    if len(d) > max_rows and "n" in d:
        d = d.sort_values("n", ascending=False, kind="mergesort").head(max_rows)
    if sort:
        d = d.sort_values(value, kind="mergesort", na_position="first")
    if unit is None and "unit" in d:
        unit = next((u for u in d["unit"] if isinstance(u, str)), None)
    factor, ulabel = axis_scale(unit, d[value])
    h = height if height is not None else max(1.6, 0.32 * len(d) + 1.0)
    fig, ax = _figure(width, h)
    ypos = np.arange(len(d))
    v = d[value].to_numpy(dtype=float) * factor
    if {"ci_low", "ci_high"} <= set(d.columns):
        iv = shown_intervals(d.rename(columns={value: "value"}) if value != "value" else d)
        lo = iv["ci_low"].to_numpy(dtype=float) * factor        # around the value, on the scale
        hi = iv["ci_high"].to_numpy(dtype=float) * factor
        ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(v)
        ax.hlines(ypos[ok], lo[ok], hi[ok], color=PALETTE[0], lw=2, alpha=0.5)
    ax.plot(v, ypos, "o", color=PALETTE[0], ms=5)
    labels = [_mpl_text(x) for x in d[by].astype(str)]
    if "n" in d:
        labels = [f"{lab}  (n={int(n):,})" if _finite(n) else lab
                  for lab, n in zip(labels, d["n"], strict=True)]
    ax.set_yticks(ypos, labels)
    if not sort:
        ax.invert_yaxis()          # keep the input order top to bottom
    ax.grid(axis="x", color="#e6e6e6")
    ax.grid(axis="y", visible=False)
    if target is not None and _finite(target):
        t = float(target) * factor
        ax.axvline(t, color=TARGET, ls="--", lw=1, label="target")
        lo_x, hi_x = ax.get_xlim()
        pad = 0.05 * max(hi_x - lo_x, abs(t) * 0.01 or 1.0)
        ax.set_xlim(min(lo_x, t - pad), max(hi_x, t + pad))
        ax.legend(loc="lower right")
    label = xlabel if xlabel is not None else value
    _finish(ax, title, f"{label} ({ulabel})" if ulabel and f"({ulabel})" not in label else label, None)
    return fig


def plot_sla_by_priority(rows: pd.DataFrame, *, priority: str = "priority",
                         title: str = "SLA compliance by priority", width: float = 9.0,
                         height: float | None = None, catalogue: pd.DataFrame | None = None) -> Figure:
    """SLA compliance (share achieved) by priority, with intervals and each priority's target.

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per priority (and optionally per SLA ``kpi``): ``priority, value`` (share 0-1),
        optionally ``ci_low, ci_high, n, target`` and ``kpi`` (one panel colour per SLA).
    catalogue : pandas.DataFrame, optional
        For the legend's KPI titles (:func:`kpi_label`); loaded when omitted.

    The axis is zoomed to the data: from a little below the lowest interval bound or target to
    100 %, so the range that matters is not squashed; every target stays visible.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_columns(rows, [priority, "value"], "rows")
    order = {p: i for i, p in enumerate(PRIORITY_ORDER)}
    d = rows.copy()
    kinds = list(dict.fromkeys(d["kpi"])) if "kpi" in d else [None]
    prios = sorted(d[priority].astype(str).unique(), key=lambda p: (order.get(p, len(order)), p))
    h = height if height is not None else max(2.0, 0.22 * len(prios) * max(len(kinds), 1) + 1.4)
    fig, ax = _figure(width, h)
    bar_h = 0.8 / max(len(kinds), 1)
    for j, k in enumerate(kinds):
        dk = d if k is None else d[d["kpi"] == k]
        dk = dk.assign(_p=dk[priority].astype(str)).drop_duplicates("_p").set_index("_p").reindex(prios)
        y = np.arange(len(prios)) + (j - (len(kinds) - 1) / 2) * bar_h
        v = 100 * dk["value"].to_numpy(dtype=float)
        col = PALETTE[j % len(PALETTE)]
        # dots, not bars: the axis is zoomed to the data, and a bar's length from a cut axis misleads
        ax.plot(v, y, "o", ms=6, color=col, zorder=4,
                label=None if k is None else _mpl_text(kpi_label(k, catalogue)))
        if {"ci_low", "ci_high"} <= set(dk.columns):
            lo = 100 * dk["ci_low"].to_numpy(dtype=float)
            hi = 100 * dk["ci_high"].to_numpy(dtype=float)
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.hlines(y[ok], lo[ok], hi[ok], color=col, lw=2, alpha=0.6)
        if "target" in dk:
            t = 100 * dk["target"].to_numpy(dtype=float)
            ok = np.isfinite(t)
            ax.scatter(t[ok], y[ok], marker="|", s=160, color=TARGET, zorder=3,
                       label="target" if j == 0 and ok.any() else None)
    ax.set_yticks(np.arange(len(prios)), [_mpl_text(p) for p in prios])
    ax.invert_yaxis()
    seen = np.concatenate([100 * pd.to_numeric(d[c], errors="coerce").to_numpy(dtype=float)
                           for c in ("value", "ci_low", "target") if c in d.columns])
    seen = seen[np.isfinite(seen)]
    low = float(seen.min()) if seen.size else 0.0
    left = max(0.0, math.floor((low - 0.15 * (100 - low) - 1) / 5) * 5)
    ax.set_xlim(left, 100)
    ax.grid(axis="x", color="#e6e6e6")
    ax.grid(axis="y", visible=False)
    if kinds != [None] or "target" in d:
        fig.legend(loc="outside upper right", ncols=4)
    _finish(ax, title, "achieved within target (%)", "priority")
    return fig


def plot_staffing_gap(table: pd.DataFrame, *, hour: str = "hour", required: str | None = None,
                      staffed: str | None = None, staffed_label: str = "staffed",
                      share_short: str | None = None,
                      title: str = "Agents required (Erlang C) vs staffed, by hour",
                      width: float = 9.0, height: float = 3.4) -> Figure:
    """Required agents per hour (Erlang C, for the service-level target) against agents staffed.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per hour of day: ``hour`` and the required and staffed agent counts (column names
        ``required``/``agents_required`` and ``staffed``/``agents_staffed`` are recognised). Hours
        short of agents are shaded; ``staffed_label`` names the staffed line (e.g. "agents
        answering"). ``kpitools.kpis.contact_centre.staffing_by_hour`` output
        (``required_agents``, ``agents_observed``) works as it is, given an ``hour`` column.
    share_short : str, optional
        Column with each hour's share of intervals short of their own requirement
        (``kpitools.report.staffing_hours``): written above each hour, since means per hour hide
        the short intervals. The x axis spans the hours with contacts or agents.

    Returns
    -------
    matplotlib.figure.Figure
    """
    def pick(given, names):
        if given is not None:
            return given
        for c in names:
            if isinstance(table, pd.DataFrame) and c in table.columns:
                return c
        return names[0]

    required = pick(required, ["required", "agents_required", "required_agents", "n_required"])
    staffed = pick(staffed, ["agents_observed", "staffed", "agents_staffed", "staffed_agents", "n_staffed"])
    _check_columns(table, [hour, required, staffed], "table")
    d = table.sort_values(hour)
    x = d[hour].to_numpy(dtype=float)
    req = d[required].to_numpy(dtype=float)
    st = d[staffed].to_numpy(dtype=float)
    fig, ax = _figure(width, height)
    ax.bar(x, req, width=0.8, color=PALETTE[0], alpha=0.35, label="required (Erlang C)")
    ax.step(np.r_[x, x[-1] + 1] - 0.5 if len(x) else x, np.r_[st, st[-1]] if len(st) else st,
            where="post", color=PALETTE[3], lw=1.8, label=_mpl_text(staffed_label))
    short = np.isfinite(req) & np.isfinite(st) & (st < req)
    if short.any():
        ax.bar(x[short], (req - st)[short], bottom=st[short], width=0.8, color=BAD, alpha=0.6,
               label="short")
    used = x[(np.nan_to_num(req) > 0) | (np.nan_to_num(st) > 0)]
    first, last = (int(used.min()), int(used.max())) if used.size else (0, 23)
    top = float(np.nanmax(np.r_[req, st, 0.0])) or 1.0
    if share_short is not None:
        _check_columns(table, [share_short], "table")
        sh = d[share_short].to_numpy(dtype=float)
        for h, v in zip(x, sh, strict=True):
            if np.isfinite(v) and first <= h <= last:
                ax.text(h, top * 1.08, f"{100 * v:.0f}%", ha="center", va="bottom", fontsize=7.5,
                        color=BAD if v > 0 else NEUTRAL)
        ax.text(first - 0.5, top * 1.2, "share of intervals short:", ha="left", va="bottom",
                fontsize=7.5, color=NEUTRAL)
    ax.set_xticks(range(first, last + 1), [f"{h:02d}" for h in range(first, last + 1)])
    ax.set_xlim(first - 0.6, last + 0.6)
    ax.set_ylim(0, top * (1.35 if share_short is not None else 1.1))
    fig.legend(loc="outside upper right", ncols=3)
    _finish(ax, title, "hour of day (business timezone)", "agents (average per hour)")
    return fig


def plot_event_study(es: pd.DataFrame, *, day: str | None = None, value: str | None = None,
                     title: str = "Excess tickets around launches",
                     width: float = 9.0, height: float = 3.2) -> Figure:
    """Event study: mean excess volume by day relative to launch, with its interval.

    Parameters
    ----------
    es : pandas.DataFrame
        One row per relative day (``kpitools.stats.launches.event_study``): ``day`` (or
        ``rel_day``/``offset``), ``excess_mean`` (or ``excess``/``value``) and optionally
        ``ci_low, ci_high``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(es, pd.DataFrame):
        raise TypeError(f"es: expected a pandas DataFrame, got {type(es).__name__}")
    day = day or next((c for c in ("day", "rel_day", "offset", "relative_day") if c in es), "day")
    value = value or next((c for c in ("excess_mean", "excess", "mean_excess", "value", "estimate") if c in es), "excess")
    _check_columns(es, [day, value], "es")
    d = es.sort_values(day)
    x = d[day].to_numpy(dtype=float)
    v = d[value].to_numpy(dtype=float)
    fig, ax = _figure(width, height)
    if {"ci_low", "ci_high"} <= set(d.columns):
        ax.fill_between(x, d["ci_low"].to_numpy(dtype=float), d["ci_high"].to_numpy(dtype=float),
                        color=PALETTE[0], alpha=0.18, lw=0, label="interval")
    ax.plot(x, v, marker="o", ms=3.5, color=PALETTE[0], label="mean excess")
    ax.axhline(0, color=NEUTRAL, lw=0.8)
    ax.axvline(0, color=PALETTE[1], ls="--", lw=1, label="launch day")
    ax.legend(loc="upper right", ncols=3)
    _finish(ax, title, "days relative to launch", "excess tickets per day")
    return fig


def plot_utilization(rows: pd.DataFrame, *, by: str = "agent_id", value: str = "value",
                     threshold: float = 0.7, title: str = "Utilization by agent",
                     width: float = 9.0, height: float | None = None) -> Figure:
    """Utilization per agent (or team) as horizontal bars, flagged above the burnout threshold.

    Parameters
    ----------
    rows : pandas.DataFrame
        ``by`` and ``value`` (share 0-1).
    threshold : float, default 0.7
        Burnout-risk threshold (setting ``utilization_burnout``); bars above it are red.
        Rows without a value are left out; at most the 30 highest are shown.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_columns(rows, [by, value], "rows")
    d = rows[rows[value].notna()].sort_values([value, by], kind="mergesort").tail(30)
    v = 100 * d[value].to_numpy(dtype=float)
    over = v > 100 * threshold
    h = height if height is not None else max(1.8, 0.28 * len(d) + 1.0)
    fig, ax = _figure(width, h)
    y = np.arange(len(d))
    ax.barh(y, np.nan_to_num(v), color=np.where(over, BAD, PALETTE[0]), alpha=0.85)
    ax.axvline(100 * threshold, color=TARGET, ls="--", lw=1, label=f"burnout risk > {100 * threshold:.0f}%")
    ax.set_yticks(y, [_mpl_text(x) for x in d[by].astype(str)])
    ax.grid(axis="x", color="#e6e6e6")
    ax.grid(axis="y", visible=False)
    ax.set_xlim(0, max(100.0, float(np.nanmax(v)) + 5 if np.isfinite(v).any() else 100.0))
    ax.legend(loc="lower right")
    _finish(ax, title, "handle time / staffed time (%)", None)
    return fig


#: Priorities in rank order, most urgent first (tables and charts list them so).
PRIORITY_ORDER = ("urgent", "high", "normal", "low")
#: Note parts that tell the reader nothing the row does not already show.
_DULL_NOTE = re.compile(r"^(currency [A-Za-z]{3}|denominator: .*|survey [a-z_]+)$")


def _informative(note: Any) -> str:
    """The parts of a KPI note worth showing (not the currency, the survey's name or the denominator label)."""
    if not isinstance(note, str):
        return ""
    return "; ".join(p.strip() for p in note.split(";") if p.strip() and not _DULL_NOTE.match(p.strip()))


def kpi_rows_table(rows: pd.DataFrame, *, catalogue: pd.DataFrame | None = None,
                   segment: str | None = None, caption: str | None = None,
                   currency: str | None = None, max_rows: int | None = 60,
                   min_n: int = 30) -> HtmlTable:
    """A readable table of KPI result rows (one month): title, segment, value, interval, n, target.

    Parameters
    ----------
    rows : pandas.DataFrame
        KPI rows (``kpi_table`` or a KPI function, filtered to one period): ``kpi, value`` and
        where available ``unit, ci_low, ci_high, n, target, target_met, note`` and the
        ``segment`` column.
    catalogue : pandas.DataFrame, optional
        For KPI titles and row order.
    segment : str, optional
        Segment column to show (user text, escaped); priorities are listed in rank order.
    min_n : int, default 30
        Rows with fewer answers are not judged against their target ("n too small").

    Returns
    -------
    HtmlTable
        ``frame`` is the input rows (unformatted); the HTML shows ``value``, ``interval``,
        ``n``, ``target`` of a row in one unit chosen from its value, the clock of every
        duration in the KPI's label, the interval of :func:`shown_intervals`, notes only where
        they say something the row does not, and every text escaped.
    """
    _check_columns(rows, ["kpi", "value"] + ([segment] if segment else []), "rows")
    d = rows.reset_index(drop=True)
    titles, rank = {}, {}
    if catalogue is not None:
        cat = catalogue.drop_duplicates("kpi")
        titles = dict(zip(cat["kpi"], cat["title"], strict=True)) if "title" in cat else {}
        rank = {k: i for i, k in enumerate(cat["kpi"])}
    prio = {p: i for i, p in enumerate(PRIORITY_ORDER)}

    def seg_key(v):
        if not segment:
            return (0, "")
        text = str(v)
        return (prio.get(text, len(prio)), text) if segment == "priority" else (0, text)

    order = sorted(range(len(d)), key=lambda i: (rank.get(d.at[i, "kpi"], len(rank)), d.at[i, "kpi"],
                                                 seg_key(d.at[i, segment]) if segment else (0, "")))
    d = d.iloc[order].reset_index(drop=True)

    def col(name):
        return d[name] if name in d.columns else pd.Series([np.nan] * len(d))

    units = [u if isinstance(u, str) else None for u in col("unit")]
    iv = shown_intervals(d.assign(ci_low=col("ci_low"), ci_high=col("ci_high")))
    lo, hi, tg, met = iv["ci_low"], iv["ci_high"], col("target"), col("target_met")
    p90 = col("p90")
    cat_ix = catalogue.drop_duplicates("kpi").set_index("kpi") if catalogue is not None else None
    clocks = [c if isinstance(c, str) else None for c in col("clock")]
    # every figure of a row in one unit, chosen from the row's value
    cells = [format_range([v, a, b, q, t], u, currency=currency, reference=[v])
             for v, a, b, q, t, u in zip(d["value"], lo, hi, p90, tg, units, strict=True)]
    sampled = [not isinstance(st, str) or st in SAMPLED_STATS for st in col("stat")]
    ns = [float(x) if _finite(x) and smp else np.nan for x, smp in zip(col("n"), sampled, strict=True)]
    n_shown = [f"{float(x):,.0f}" if _finite(x) else "\u2013" for x in col("n")]
    shown = pd.DataFrame({
        "KPI": [kpi_label(k, cat_ix, clock=c, unit=u) if cat_ix is not None else
                titles.get(k, k) + (f", {_CLOCKS[c]}" if c in _CLOCKS and u in _SECONDS_UNITS else "")
                for k, c, u in zip(d["kpi"], clocks, units, strict=True)],
        **({segment: d[segment].astype(str)} if segment else {}),
        "value": [c[0] for c in cells],
        "interval": [f"{c[1]} \u2013 {c[2]}" if _finite(a) and _finite(b) else "\u2013"
                     for c, a, b in zip(cells, lo, hi, strict=True)],
        **({"p90": [c[3] for c in cells]} if "p90" in d.columns and d["p90"].notna().any() else {}),
        "n": n_shown,
        "target": [("\u2013" if not _finite(t) else
                    c[4] + (" (n too small)" if _finite(x) and x < min_n else
                            " \u2713" if _truth(m) is True else " \u2717" if _truth(m) is False else ""))
                   for t, m, c, x in zip(tg, met, cells, ns, strict=True)],
        "note": [_informative(x) for x in col("note")],
    })
    if not any(shown["note"]):
        shown = shown.drop(columns="note")
    t = html_table(shown, caption=caption, max_rows=max_rows,
                   align={c: "right" for c in ["value", "interval", "p90", "n", "target"]})
    return HtmlTable(rows, t.html, text_columns=[c for c in ["kpi", segment, "value", "n"] if c and c in rows])
