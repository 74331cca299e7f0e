"""Render the monthly KPI report: execute the template notebook with papermill, export offline HTML.

The runner behind ``kpitools report``::

    kpitools report --month 2026-10 --data data/sample --out reports
    kpitools report --from 2026-01 --to 2026-10
    kpitools report --latest

For each month it writes ``<out>/<YYYY-MM>/kpi-report.ipynb`` (the executed notebook) and
``<out>/<YYYY-MM>/kpi-report.html`` (no code, images embedded, nothing loaded from the network),
and ``<out>/index.html`` linking every rendered month.

Writes are atomic: a month is rendered in a temporary folder beside its destination and moved into
place only when execution and export succeeded. A failed run leaves the previous report untouched,
keeps the failed notebook as ``kpi-report.failed.ipynb`` for inspection and raises
:class:`ReportError` naming the failing cell and its error (``report_main`` prints it and returns a
non-zero exit code). A month without tickets is refused before any kernel starts.
"""

from __future__ import annotations

import html
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ReportError",
    "NoDataError",
    "OfflineError",
    "DEFAULT_TEMPLATE",
    "render_month",
    "render_range",
    "latest_complete_month",
    "months_with_data",
    "write_index",
    "report_main",
    "export_html",
    "check_offline",
    "find_data",
    "parse_month",
    "execute_in_place",
    "HEADLINE_KPIS",
    "segment_columns",
    "overall_rows",
    "month_rows",
    "section_notice",
    "has_tables",
    "header",
    "daily_counts",
    "duration_curves",
    "detractor_topics",
    "arrivals_by_hour",
    "latest_month_with_data",
]

#: The report template shipped in the repository.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATE = PROJECT_ROOT / "notebooks" / "reports" / "monthly-kpi-report.ipynb"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
REPORT_STEM = "kpi-report"
# The kernel's own log (a TCP-transport notice at start, a KeyboardInterrupt line when it is shut
# down) is noise on the user's terminal; errors in cells still reach us through the notebook.
KERNEL_QUIET = ["--IPKernelApp.log_level=CRITICAL"]
#: Cells with these tags are removed from the HTML (plumbing, and papermill's injected parameters).
REMOVE_TAGS = ("remove_cell", "injected-parameters", "parameters")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ReportError(RuntimeError):
    """Rendering one or more months failed; ``failures`` maps month -> message."""

    def __init__(self, message: str, *, failures: dict[str, str] | None = None,
                 rendered: list[Path] | None = None) -> None:
        super().__init__(message)
        self.failures = dict(failures or {})
        self.rendered = list(rendered or [])


class NoDataError(ValueError):
    """The requested month has no data (raised before any kernel starts)."""


class OfflineError(ValueError):
    """The exported HTML would load something from the network."""


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------
def parse_month(month: Any, *, name: str = "month") -> pd.Period:
    """Parse ``"YYYY-MM"`` (or a ``pandas.Period``) into a monthly Period.

    Raises
    ------
    ValueError
        When ``month`` is not of the form ``YYYY-MM``; the message names the parameter.
    """
    if isinstance(month, pd.Period):
        return month.asfreq("M")
    if not isinstance(month, str) or not _MONTH.match(month.strip()):
        raise ValueError(f"{name}: expected a month written YYYY-MM (for example 2026-10), got {month!r}")
    return pd.Period(month.strip(), freq="M")


def find_data(path: str | os.PathLike = "data/sample") -> Path:
    """Resolve a dataset folder given relative to the working directory or to the project.

    Notebooks run with their own folder as working directory (Jupyter, nbval), so ``data/sample``
    is looked up in the working directory, then in each parent folder, then in the project root.

    Parameters
    ----------
    path : str or path-like
        Dataset folder, absolute or relative.

    Returns
    -------
    pathlib.Path
        The absolute folder.

    Raises
    ------
    FileNotFoundError
        When no candidate folder exists; the message lists where it looked.
    """
    p = Path(path)
    if p.is_absolute():
        if not p.is_dir():
            raise FileNotFoundError(f"data: dataset folder {str(p)!r} does not exist")
        return p
    cwd = Path.cwd().resolve()
    candidates = [base / p for base in (cwd, *cwd.parents)] + [PROJECT_ROOT / p]
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    raise FileNotFoundError(
        f"data: dataset folder {str(path)!r} not found in the working directory, its parents "
        "or the project root; pass an existing folder (for example data/sample)"
    )


def _load(dataset_or_path: Any):
    """A Dataset from a Dataset or a folder path."""
    from kpitools.io import load_dataset

    if hasattr(dataset_or_path, "tickets") and hasattr(dataset_or_path, "settings"):
        return dataset_or_path
    if isinstance(dataset_or_path, str | os.PathLike):
        return load_dataset(find_data(dataset_or_path))
    raise TypeError(
        "dataset_or_path: expected a kpitools Dataset or a folder path, "
        f"got {type(dataset_or_path).__name__}"
    )


def _ticket_months(ds) -> pd.Series:
    """Ticket counts per local creation month (index: Period[M])."""
    t = ds.tickets
    if t is None or len(t) == 0:
        return pd.Series(dtype="int64")
    local = t["created_at"].dropna().dt.tz_convert(ds.settings.timezone).dt.tz_localize(None)
    return local.dt.to_period("M").value_counts().sort_index()


def months_with_data(dataset_or_path: Any) -> list[str]:
    """Months (``YYYY-MM``, ascending) in which at least one ticket was created (business timezone)."""
    ds = _load(dataset_or_path)
    counts = _ticket_months(ds)
    return [str(p) for p, n in counts.items() if n > 0]


def latest_complete_month(dataset_or_path: Any) -> str:
    """The last month lying entirely before the export cut-off, as ``"YYYY-MM"``.

    Parameters
    ----------
    dataset_or_path : Dataset or str or path-like
        A loaded dataset or its folder.

    Returns
    -------
    str
        ``YYYY-MM`` of the month before the month that contains the cut-off instant (in the
        business timezone). A cut-off at exactly local midnight on the 1st completes the
        previous month, which is the same rule.

    Raises
    ------
    NoDataError
        When the dataset has no tickets in or before that month.

    Notes
    -----
    The cut-off is ``Dataset.cutoff`` (the ``exported_at`` setting, else the latest timestamp in
    the data). A month [start, end) is complete when end <= cut-off; the latest such month is the
    one before the month containing the cut-off.
    """
    ds = _load(dataset_or_path)
    cutoff = pd.Timestamp(ds.cutoff)
    if cutoff.tzinfo is None:
        cutoff = cutoff.tz_localize("UTC")
    local = cutoff.tz_convert(ds.settings.timezone).tz_localize(None)
    month = local.to_period("M") - 1
    counts = _ticket_months(ds)
    if counts.empty or counts.index.min() > month:
        raise NoDataError(
            f"dataset: no complete month with tickets before the export cut-off {cutoff.isoformat()}"
        )
    return str(month)


def _check_month_has_data(ds, month: pd.Period) -> int:
    counts = _ticket_months(ds)
    n = int(counts.get(month, 0))
    if n == 0:
        have = [str(p) for p in counts.index]
        span = f"{have[0]} to {have[-1]}" if have else "none"
        raise NoDataError(
            f"month: no tickets were created in {month} (business timezone "
            f"{ds.settings.timezone}); months with tickets: {span}"
        )
    return n


# --------------------------------------------------------------------------------------------
# HTML export
# --------------------------------------------------------------------------------------------
_NETWORK = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_REMOTE = re.compile(r"(@import\s+(?:url\()?\s*['\"]?\s*(?:[a-z]+:)?//|url\(\s*['\"]?\s*(?:[a-z]+:)?//)",
                         re.IGNORECASE)
#: Tag -> attributes that make a browser fetch something.
_FETCHING = {
    "script": ("src",), "link": ("href",), "img": ("src", "srcset"), "iframe": ("src",),
    "source": ("src", "srcset"), "audio": ("src",), "video": ("src", "poster"),
    "embed": ("src",), "object": ("data",), "input": ("src",), "track": ("src",),
    "image": ("href", "xlink:href"), "use": ("href", "xlink:href"), "frame": ("src",),
}


def check_offline(html_text: str) -> None:
    """Raise :class:`OfflineError` if the HTML would fetch anything from the network.

    Checks every tag that loads a resource (script, link, img, iframe, source, media, embed,
    object, SVG image/use) for an absolute or protocol-relative URL (``https:``, ``http:``,
    ``//host``), and inline CSS (``<style>`` and ``style=`` attributes) for ``@import`` or
    ``url()`` of a remote address. ``data:`` URIs and relative links pass. Plain links
    (``<a href>``) are not fetched and are allowed.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_text, "html.parser")
    bad: list[str] = []
    for tag in soup.find_all(list(_FETCHING)):
        for attr in _FETCHING[tag.name]:
            v = tag.get(attr)
            if v is None:
                continue
            vals = v if isinstance(v, list) else [v]
            for s in vals:
                for part in str(s).split(","):
                    if _NETWORK.match(part.strip()):
                        bad.append(f"<{tag.name} {attr}={part.strip()[:80]!r}>")
    for tag in soup.find_all("meta"):
        if str(tag.get("http-equiv", "")).lower() == "refresh":
            bad.append("<meta http-equiv=refresh>")
    for style in soup.find_all("style"):
        if _CSS_REMOTE.search(style.get_text()):
            bad.append("<style> with a remote @import/url()")
    for tag in soup.find_all(style=True):
        if _CSS_REMOTE.search(str(tag["style"])):
            bad.append(f"<{tag.name} style=...> with a remote url()")
    if bad:
        raise OfflineError("report HTML would load from the network: " + "; ".join(sorted(set(bad))[:10]))


def export_html(notebook: Any, *, title: str | None = None) -> str:
    """Export an executed notebook to self-contained, offline HTML without code.

    Parameters
    ----------
    notebook : nbformat.NotebookNode or str or path-like
        The executed notebook or its file.
    title : str, optional
        HTML ``<title>``; default: the notebook's metadata title or file name.

    Returns
    -------
    str
        HTML text. Inputs and prompts are excluded; cells tagged ``remove_cell`` (and papermill's
        ``injected-parameters`` and ``parameters`` cells) are dropped; images stay embedded as
        ``data:`` URIs; the custom ``kpireport`` template emits no require.js, MathJax, mermaid
        or widget scripts. The result is checked with :func:`check_offline`.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    nb = notebook
    if isinstance(notebook, str | os.PathLike):
        nb = nbformat.read(notebook, as_version=4)
    if title is not None:
        nb = nbformat.from_dict(nb)
        nb.metadata["title"] = title
    c = Config()
    c.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_TAGS)
    c.TagRemovePreprocessor.enabled = True
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    exporter = HTMLExporter(config=c, template_name="kpireport",
                            extra_template_basedirs=[str(TEMPLATES_DIR)])
    exporter.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title or "KPI report"}})
    check_offline(body)
    return body


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------
def _describe_failure(err: Exception) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        src = "\n".join("    " + line for line in str(err.source).strip().splitlines()[:12])
        return (f"cell {err.cell_index} (execution count {err.exec_count}) failed with "
                f"{err.ename}: {err.evalue}\n  cell source:\n{src}")
    return f"{type(err).__name__}: {err}"


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _render(ds, month: pd.Period, *, data_dir: Path, out: Path, confidence: float,
            template: Path, params: dict) -> Path:
    """Execute + export one month; atomic; raises ReportError on failure."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    _check_month_has_data(ds, month)
    dest = out / str(month)
    dest.mkdir(parents=True, exist_ok=True)
    final_nb = dest / f"{REPORT_STEM}.ipynb"
    final_html = dest / f"{REPORT_STEM}.html"
    failed_nb = dest / f"{REPORT_STEM}.failed.ipynb"
    parameters = {"month": str(month), "data": str(data_dir), "confidence": float(confidence), **params}
    with tempfile.TemporaryDirectory(dir=dest, prefix=".render-") as tmp:
        tmp_nb = Path(tmp) / final_nb.name
        try:
            papermill.execute_notebook(
                str(template), str(tmp_nb), parameters=parameters, kernel_name="python3",
                language="python", progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, cwd=str(template.parent),
                extra_arguments=KERNEL_QUIET,
            )
        except PapermillExecutionError as e:
            msg = _describe_failure(e)
            if tmp_nb.exists():
                os.replace(tmp_nb, failed_nb)
            raise ReportError(f"{month}: {msg}\n  failed notebook kept at {failed_nb}",
                              failures={str(month): msg}) from e
        except Exception as e:  # kernel died, template missing, ...
            msg = _describe_failure(e)
            if tmp_nb.exists():
                os.replace(tmp_nb, failed_nb)
            raise ReportError(f"{month}: {msg}", failures={str(month): msg}) from e
        try:
            body = export_html(tmp_nb, title=f"KPI report {month}")
        except Exception as e:
            msg = f"HTML export failed: {_describe_failure(e)}"
            os.replace(tmp_nb, failed_nb)
            raise ReportError(f"{month}: {msg}\n  failed notebook kept at {failed_nb}",
                              failures={str(month): msg}) from e
        tmp_html = Path(tmp) / final_html.name
        tmp_html.write_text(body, encoding="utf-8")
        os.replace(tmp_nb, final_nb)
        os.replace(tmp_html, final_html)
    failed_nb.unlink(missing_ok=True)
    return final_html


def _resolve_template(template: str | os.PathLike | None) -> Path:
    t = Path(template) if template is not None else DEFAULT_TEMPLATE
    if not t.is_file():
        raise FileNotFoundError(f"template: notebook {str(t)!r} does not exist")
    return t.resolve()


def _check_confidence(confidence: float) -> float:
    if not isinstance(confidence, int | float) or isinstance(confidence, bool) or not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a number strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def _seed_params(seed: Any, params: dict) -> dict:
    """``params`` with the template parameter ``seed`` when one is given (checked)."""
    if seed is None:
        return params
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    return {**params, "seed": int(seed)}


def render_month(month: str, *, data: str | os.PathLike = "data/sample",
                 out: str | os.PathLike = "reports", confidence: float = 0.95,
                 template: str | os.PathLike | None = None, index: bool = True,
                 seed: int | None = None, **params: Any) -> Path:
    """Render the KPI report of one month; return the path of its HTML.

    Parameters
    ----------
    month : str
        ``YYYY-MM``.
    data : str or path-like, default "data/sample"
        Dataset folder (see :func:`find_data` for how relative paths resolve).
    out : str or path-like, default "reports"
        Output root; the report goes to ``<out>/<month>/kpi-report.{ipynb,html}``.
    confidence : float, default 0.95
        Level of every interval in the report.
    template : str or path-like, optional
        Template notebook; default ``notebooks/reports/monthly-kpi-report.ipynb``.
    index : bool, default True
        Rewrite ``<out>/index.html`` afterwards.
    seed : int, optional
        Seed of every bootstrap interval and permutation test in the report (the template
        parameter ``seed``, passed to ``kpi_table(..., seed=)``); default the template's own.
    **params
        Further template parameters (for example ``segments=["channel"]``).

    Returns
    -------
    pathlib.Path
        ``<out>/<month>/kpi-report.html``.

    Raises
    ------
    ValueError
        Bad ``month``, ``confidence`` or ``seed``.
    NoDataError
        No ticket was created in ``month``; raised before a kernel starts.
    ReportError
        Execution or export failed. The previous report of that month is untouched and the
        failed notebook is kept as ``kpi-report.failed.ipynb`` beside it.
    """
    p = parse_month(month)
    confidence = _check_confidence(confidence)
    params = _seed_params(seed, params)
    tpl = _resolve_template(template)
    data_dir = find_data(data)
    ds = _load(data_dir)
    out = Path(out)
    try:
        path = _render(ds, p, data_dir=data_dir, out=out, confidence=confidence, template=tpl,
                       params=params)
    except ReportError:
        if index:
            write_index(out)     # marks the failed run
        raise
    if index:
        write_index(out)
    return path


def render_range(start: str, end: str, *, data: str | os.PathLike = "data/sample",
                 out: str | os.PathLike = "reports", confidence: float = 0.95,
                 template: str | os.PathLike | None = None, progress: bool = True,
                 seed: int | None = None, **params: Any) -> list[Path]:
    """Render every month from ``start`` to ``end`` (inclusive) in this process.

    Loads the dataset once, shows a tqdm progress bar, keeps going after a failed month, then
    writes ``<out>/index.html``.

    Parameters
    ----------
    start, end : str
        ``YYYY-MM``, ``start <= end``.
    data, out, confidence, template, seed, **params
        As in :func:`render_month`.
    progress : bool, default True
        Show the progress bar (on stderr).

    Returns
    -------
    list of pathlib.Path
        The HTML files rendered, in month order.

    Raises
    ------
    ValueError
        Bad months or ``start > end``.
    ReportError
        One or more months failed (including months without tickets); ``failures`` maps month to
        message and ``rendered`` lists the months that succeeded. The index is written first.
    """
    from tqdm.auto import tqdm

    p0, p1 = parse_month(start, name="start"), parse_month(end, name="end")
    if p0 > p1:
        raise ValueError(f"start: {p0} is after end {p1}; give start <= end")
    confidence = _check_confidence(confidence)
    params = _seed_params(seed, params)
    tpl = _resolve_template(template)
    data_dir = find_data(data)
    ds = _load(data_dir)
    out = Path(out)
    months = list(pd.period_range(p0, p1, freq="M"))
    rendered: list[Path] = []
    failures: dict[str, str] = {}
    bar = tqdm(months, desc="kpi report", unit="month", disable=not progress, file=sys.stderr)
    for m in bar:
        bar.set_postfix_str(str(m))
        try:
            rendered.append(_render(ds, m, data_dir=data_dir, out=out, confidence=confidence,
                                    template=tpl, params=params))
        except (ReportError, NoDataError) as e:
            failures[str(m)] = str(e)
    bar.close()
    write_index(out)
    if failures:
        lines = "\n".join(f"- {m}: {msg}" for m, msg in failures.items())
        raise ReportError(f"{len(failures)} of {len(months)} months failed:\n{lines}",
                          failures=failures, rendered=rendered)
    return rendered


_INDEX_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:44rem;margin:2rem auto;
padding:0 1rem;color:#222}h1{font-size:1.5rem}ul{list-style:none;padding:0}
li{padding:.35rem 0;border-bottom:1px solid #eee}a{color:#1f5f99;text-decoration:none}
a:hover{text-decoration:underline}.failed{color:#b00020;font-size:.9rem;margin-left:.5rem}
"""


def write_index(out: str | os.PathLike = "reports") -> Path:
    """Write ``<out>/index.html`` linking every rendered month (newest first).

    A month counts as rendered when ``<out>/<YYYY-MM>/kpi-report.html`` exists; a month whose
    last run failed (``kpi-report.failed.ipynb`` present) is marked. Links are relative, so the
    folder can be moved or opened offline.

    Returns
    -------
    pathlib.Path
        The index file.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for d in sorted((p for p in out.iterdir() if p.is_dir() and _MONTH.match(p.name)), reverse=True):
        report = d / f"{REPORT_STEM}.html"
        failed = d / f"{REPORT_STEM}.failed.ipynb"
        name = html.escape(d.name)
        if report.is_file():
            link = f'<a href="{name}/{REPORT_STEM}.html">KPI report {name}</a>'
        elif failed.is_file():
            link = f"KPI report {name}"
        else:
            continue
        mark = (f'<span class="failed">last run failed: see {name}/{REPORT_STEM}.failed.ipynb</span>'
                if failed.is_file() else "")
        rows.append(f"<li>{link}{mark}</li>")
    body = "\n".join(rows) if rows else "<li>No reports rendered yet.</li>"
    text = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>KPI reports</title>\n"
        f"<style>{_INDEX_CSS}</style>\n</head>\n<body>\n<h1>KPI reports</h1>\n<ul>\n{body}\n</ul>\n"
        "</body>\n</html>\n"
    )
    check_offline(text)
    path = out / "index.html"
    _atomic_write_text(path, text)
    return path


def report_main(*, month: str | None = None, start: str | None = None, end: str | None = None,
                latest: bool = False, data: str | os.PathLike = "data/sample",
                out: str | os.PathLike = "reports", confidence: float = 0.95,
                template: str | os.PathLike | None = None, seed: int | None = None) -> int:
    """Entry point of ``kpitools report``; prints the HTML path(s) and returns an exit code.

    Exactly one of ``month``, ``start``/``end`` (both) or ``latest`` must be given. ``seed``
    (``--seed``) seeds every bootstrap and permutation (see :func:`render_month`).

    Returns
    -------
    int
        0 on success; 1 when rendering failed (the failing cell and error are printed to stderr);
        2 for a usage or data error (bad month, no data for the month, missing folder).
    """
    chosen = sum([month is not None, start is not None or end is not None, bool(latest)])
    try:
        if chosen != 1:
            raise ValueError("report: give exactly one of --month YYYY-MM, --from/--to, or --latest")
        if start is not None or end is not None:
            if start is None or end is None:
                raise ValueError("report: --from and --to go together; give both (YYYY-MM)")
            paths = render_range(start, end, data=data, out=out, confidence=confidence,
                                 template=template, seed=seed)
        else:
            if latest:
                month = latest_complete_month(find_data(data))
            paths = [render_month(month, data=data, out=out, confidence=confidence,
                                  template=template, seed=seed)]
    except ReportError as e:
        for p in e.rendered:
            print(p)
        print(f"kpitools report: FAILED\n{e}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"kpitools report: {e}", file=sys.stderr)
        return 2
    for p in paths:
        print(p)
    return 0


# --------------------------------------------------------------------------------------------
# maintenance: re-execute committed notebooks deterministically
# --------------------------------------------------------------------------------------------
def execute_in_place(paths: Iterable[str | os.PathLike], *, timeout: int = 600) -> list[Path]:
    """Execute notebooks in place (kernel ``python3``, each in its own folder) for committing.

    Equivalent to ``jupyter nbconvert --to notebook --execute --inplace`` but without per-cell
    timing metadata, so re-running an unchanged notebook gives an unchanged file. Used to refresh
    the outputs that nbval compares.

    Returns
    -------
    list of pathlib.Path
        The notebooks written.
    """
    import nbformat
    from nbclient import NotebookClient

    done = []
    for p in map(Path, paths):
        nb = nbformat.read(p, as_version=4)
        NotebookClient(nb, kernel_name="python3", timeout=timeout, record_timing=False,
                       extra_arguments=KERNEL_QUIET, resources={"metadata": {"path": str(p.parent.resolve())}}).execute()
        for cell in nb.cells:
            cell.get("metadata", {}).pop("execution", None)
        _atomic_write_text(p, nbformat.writes(nb) + "\n")
        done.append(p)
    return done


# --------------------------------------------------------------------------------------------
# building blocks of the report template (so the notebook defines no helpers of its own)
# --------------------------------------------------------------------------------------------
#: KPIs on the headline scorecard, in this order, when the dataset supports them.
HEADLINE_KPIS = (
    "ticket_volume", "backlog", "resolution_rate",                        # volume
    "first_response_time", "reply_time", "full_resolution_time",          # responsiveness
    "sla_first_response", "sla_resolution",                               # sla
    "fcr", "reopen_rate", "csat", "nps", "ces", "esat",                   # quality
    "abandon_rate", "asa", "service_level", "aht",                        # contact centre
    "cost_per_contact", "cost_per_resolution",                            # cost
    "utilization",                                                        # team
    "nrr", "grr", "churn_rate",                                           # business
)


def segment_columns(kpi_rows: pd.DataFrame) -> list[str]:
    """Segment columns present in a KPI table (any catalogue segment, plus ``priority`` of SLAs).

    Returns
    -------
    list of str
        Columns of ``kpi_rows`` that name a segment in the catalogue (``channel``, ``team``,
        ``priority``, ``hour`` ...), in table order.
    """
    from kpitools.kpis import catalogue

    segs = {"priority", "hour", "weekday"}
    for s in catalogue()["segments"].dropna():
        segs.update(x.strip() for x in str(s).split(",") if x.strip())
    return [c for c in kpi_rows.columns if c in segs]


def overall_rows(kpi_rows: pd.DataFrame, *, ds: Any = None) -> pd.DataFrame:
    """Rows that belong to no segment (every segment column empty).

    Parameters
    ----------
    kpi_rows : pandas.DataFrame
        ``kpi_table`` output (one period frequency).
    ds : Dataset, optional
        The dataset ``kpi_rows`` was computed from. SLA compliance is reported per priority by
        ``kpi_table``, so it has no overall row; given ``ds``, each SLA KPI present in
        ``kpi_rows`` gets its overall row pooled over priorities
        (``sla_first_response(ds, per_priority=False)``, each item against its own priority's
        target) for the same periods and confidence. Without ``ds`` such KPIs are left out (the
        scorecard then omits them; their section shows them by priority).

    Returns
    -------
    pandas.DataFrame
        The overall rows, without segment columns and without ``attrs``.
    """
    segs = segment_columns(kpi_rows)
    out = kpi_rows[kpi_rows[segs].isna().all(axis=1)].drop(columns=segs) if segs else kpi_rows.copy()
    if ds is not None and len(kpi_rows):
        pooled = _pooled_sla_rows(kpi_rows, ds, have=set(out["kpi"]))
        if len(pooled):
            out = pd.concat([out, pooled[[c for c in pooled.columns if c not in segs]]],
                            ignore_index=True, sort=False)
    # kpi_table keeps a DataFrame in attrs["skipped"]; pandas compares attrs when merging, which
    # fails for DataFrames, so derived frames carry no attrs (the skipped list stays on kpi_table)
    out.attrs = {}
    return out


def _pooled_sla_rows(kpi_rows: pd.DataFrame, ds: Any, *, have: set) -> pd.DataFrame:
    """Overall (pooled over priorities) rows of the SLA KPIs in ``kpi_rows`` lacking one."""
    from kpitools.kpis import catalogue
    from kpitools.kpis._core import PERIODS, REGISTRY

    cat = catalogue()
    names = [k for k in cat.loc[cat["group"] == "sla", "kpi"] if k in set(kpi_rows["kpi"]) and k not in have]
    if not names:
        return pd.DataFrame()
    dtype = kpi_rows["period"].dtype
    period = next((k for k, v in PERIODS.items() if dtype == pd.PeriodDtype(v)), "M")
    conf = pd.to_numeric(kpi_rows["confidence"], errors="coerce").dropna() if "confidence" in kpi_rows else []
    confidence = float(conf.iloc[0]) if len(conf) else 0.95
    periods = set(kpi_rows["period"])
    parts = []
    for k in names:
        r = REGISTRY[k].func(ds, period=period, confidence=confidence, per_priority=False)
        parts.append(r[r["period"].isin(periods)])
    return pd.concat(parts, ignore_index=True, sort=False) if parts else pd.DataFrame()


def month_rows(kpi_rows: pd.DataFrame, month: Any, *, kpis: Iterable[str] | None = None,
               group: str | None = None, drop_missing: bool = False) -> pd.DataFrame:
    """The rows of ``kpi_rows`` for ``month``, optionally only some KPIs or one catalogue group.

    ``drop_missing=True`` also drops rows whose segment value is the ``(missing)`` level (for
    charts by segment; the counts then no longer add up to the total). The result carries no
    ``attrs`` (see :func:`overall_rows`).
    """
    m = parse_month(month)
    d = kpi_rows[kpi_rows["period"].map(lambda p: p.asfreq("M") == m if isinstance(p, pd.Period) else False)]
    if group is not None:
        from kpitools.kpis import catalogue

        cat = catalogue()
        d = d[d["kpi"].isin(cat.loc[cat["group"] == group, "kpi"])]
    if kpis is not None:
        d = d[d["kpi"].isin(list(kpis))]
    if drop_missing:
        from kpitools.kpis._core import MISSING

        for c in segment_columns(d):
            d = d[d[c].astype("str") != MISSING]
    d = d.reset_index(drop=True)
    d.attrs = {}
    return d


def section_notice(kpi_rows: pd.DataFrame, section: str, *, kpis: Iterable[str] | None = None,
                   group: str | None = None):
    """``None`` when a section has KPI rows; else a visible notice saying why it is empty.

    Parameters
    ----------
    kpi_rows : pandas.DataFrame
        ``kpi_table`` output (its ``attrs["skipped"]`` gives the reasons).
    section : str
        Section title for the notice.
    kpis, group : optional
        The section's KPIs, by name or catalogue group.

    Returns
    -------
    None or kpitools.plots notice
    """
    from kpitools import plots
    from kpitools.kpis import catalogue

    names = set(kpis or [])
    if group is not None:
        cat = catalogue()
        names |= set(cat.loc[cat["group"] == group, "kpi"])
    present = set(kpi_rows["kpi"]) & names
    if present:
        return None
    skipped = kpi_rows.attrs.get("skipped")
    reasons = []
    if skipped is not None and len(skipped):
        sk = skipped[skipped["kpi"].isin(names)]
        reasons = sorted(set(sk["reason"].astype(str)))
    why = "; ".join(reasons[:4]) if reasons else "the dataset has no data for these KPIs"
    return plots.notice(section, why)


def has_tables(ds, *tables: str):
    """``None`` when every table is present with rows, else the reason (for a notice)."""
    missing = [t for t in tables if getattr(ds, t, None) is None or len(getattr(ds, t)) == 0]
    if not missing:
        return None
    return f"the dataset has no {', '.join(missing)} table{'s' if len(missing) > 1 else ''}"


def header(ds, month: Any):
    """Report heading (escaped HTML): dataset name, month, timezone, cut-off, tickets in the month."""
    from kpitools import plots

    m = parse_month(month)
    name = str(ds.settings.raw.get("name", "dataset"))
    n = int(_ticket_months(ds).get(m, 0))
    cut = ds.cutoff.tz_convert(ds.settings.timezone)
    text = (f"{name} \u2014 {m.strftime('%B %Y')}. Periods cut in {ds.settings.timezone}; "
            f"data exported {cut:%Y-%m-%d %H:%M}; {n:,} tickets created in the month.")
    return plots.note(text)


def daily_counts(ds, *, end: Any | None = None, days: int | None = None) -> pd.Series:
    """Tickets created per local day (zeros filled) from the ``ticket_volume`` KPI.

    Parameters
    ----------
    end : str or pandas.Period, optional
        Last month to include (``YYYY-MM``); default all data.
    days : int, optional
        Keep only the last ``days`` days up to the end of ``end``.

    Returns
    -------
    pandas.Series
        float counts on a regular daily DatetimeIndex (naive local days), name ``tickets``.
    """
    from kpitools.kpis import kpi_table

    v = kpi_table(ds, period="D", kpis=["ticket_volume"])
    s = pd.Series(v["value"].to_numpy(dtype=float),
                  index=pd.DatetimeIndex([p.to_timestamp() for p in v["period"]]), name="tickets")
    s = s.sort_index()
    s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"), fill_value=0.0)
    if end is not None:
        last = parse_month(end).to_timestamp(how="end").normalize()
        s = s[s.index <= last]
    if days is not None:
        s = s.iloc[-int(days):]
    s.index.name = "date"
    return s


def duration_curves(ds, month: Any, *, kind: str = "first_response", by: str | None = "priority",
                    clock: str = "business", confidence: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier curves of a ticket duration for tickets created in ``month``, per segment.

    Parameters
    ----------
    kind : {"first_response", "resolution"}
        First response (``first_response_time``'s start and end) or full resolution
        (creation to final resolution).
    by : str or None
        Ticket column to split by (``priority``, ``channel`` ...).
    clock : {"business", "calendar"}
    confidence : float

    Returns
    -------
    pandas.DataFrame
        ``kaplan_meier`` columns (``time`` in seconds, ``at_risk, events, censored, survival,
        ci_low, ci_high``) plus the ``by`` column. Tickets still open at the export cut-off are
        censored there, not dropped.
    """
    from kpitools.kpis._core import elapsed, to_period
    from kpitools.kpis.responsiveness import ticket_facts
    from kpitools.stats.survival import kaplan_meier

    if kind not in ("first_response", "resolution"):
        raise ValueError(f"kind: expected 'first_response' or 'resolution', got {kind!r}")
    m = parse_month(month)
    f = ticket_facts(ds).reset_index(drop=True)
    start, end = ((f["frt_start"], f["frt_end"]) if kind == "first_response"
                  else (f["created_at"], f["resolved"]))
    cutoff = ds.cutoff
    in_month = to_period(f["created_at"], "M", ds.settings.timezone).reset_index(drop=True) == m
    ok = (in_month & start.notna() & (start <= cutoff)).to_numpy()
    observed = (end.notna() & (end <= cutoff)).to_numpy()
    stop = end.where(observed, cutoff)
    dur = np.full(len(f), np.nan)
    if ok.any():
        dur[ok] = elapsed(ds, start[ok], stop[ok], clock)
    if by is None:
        groups = pd.Series("all", index=f.index)
    else:
        t = ds.tickets.reset_index(drop=True)
        if by not in t.columns:
            raise ValueError(f"by: tickets have no column {by!r}; available: {list(t.columns)}")
        groups = t[by].astype("str").fillna("(missing)")
    parts = []
    for g in sorted(pd.unique(groups[ok])):
        sel = ok & (groups == g).to_numpy()
        if sel.sum() == 0:
            continue
        km = kaplan_meier(dur[sel], observed[sel], confidence=confidence)
        km.insert(0, by or "group", g)
        parts.append(km)
    if not parts:
        return pd.DataFrame(columns=[by or "group", "time", "at_risk", "events", "censored",
                                     "survival", "ci_low", "ci_high"])
    return pd.concat(parts, ignore_index=True)


def detractor_topics(ds, month: Any, *, lookback: int = 3,
                     min_answers: int = 30) -> tuple[pd.DataFrame, str | None]:
    """What NPS detractors wrote about: counts of ``comment_category`` in the latest NPS wave.

    NPS is often surveyed in waves, so the latest month with at least ``min_answers`` NPS answers
    among ``month`` and the ``lookback - 1`` months before it is used (a few stray answers
    between waves do not make a wave).

    Returns
    -------
    (pandas.DataFrame, str or None)
        Frame with ``comment_category`` (``(no comment)`` when empty), ``detractors``,
        ``share`` (of detractors), ``promoters`` (same topic, for contrast), sorted by
        ``detractors`` descending then topic; and the month used (``None`` when no NPS answers).
    """
    from kpitools.kpis._core import to_period

    cols = ["comment_category", "detractors", "share", "promoters"]
    s = ds.surveys
    if s is None or len(s) == 0:
        return pd.DataFrame(columns=cols), None
    s = s[s["survey"] == "nps"]
    if s.empty:
        return pd.DataFrame(columns=cols), None
    m = parse_month(month)
    per = to_period(s["submitted_at"], "M", ds.settings.timezone)
    window = [m - i for i in range(lookback)]
    have = [p for p in window if int((per == p).sum()) >= min_answers]
    if not have:
        return pd.DataFrame(columns=cols), None
    wave = max(have)
    w = s[(per == wave).to_numpy()]
    topic = (w["comment_category"].astype("str").fillna("(no comment)")
             if "comment_category" in w.columns else pd.Series("(no comment)", index=w.index))
    det = topic[(w["score"] <= 6).to_numpy()].value_counts()
    pro = topic[(w["score"] >= 9).to_numpy()].value_counts()
    out = pd.DataFrame({"detractors": det}).join(pd.DataFrame({"promoters": pro}), how="outer")
    out = out.fillna(0).astype("int64").rename_axis("comment_category").reset_index()
    total = out["detractors"].sum()
    out["share"] = out["detractors"] / total if total else np.nan
    out = out.sort_values(["detractors", "comment_category"], ascending=[False, True], kind="mergesort")
    return out[cols].reset_index(drop=True), str(wave)


def arrivals_by_hour(kpi_rows: pd.DataFrame, month: Any) -> pd.DataFrame:
    """Hour x weekday arrivals of ``month`` from ``ticket_volume`` rows by ``["hour", "weekday"]``.

    Returns
    -------
    pandas.DataFrame
        ``hour`` (int), ``weekday`` (``mon``..``sun``), ``count``.
    """
    d = month_rows(kpi_rows, month, kpis=["ticket_volume"])
    if not {"hour", "weekday"} <= set(d.columns):
        raise ValueError("kpi_rows: need ticket_volume rows by ['hour', 'weekday']")
    d = d[(d["hour"] != "(missing)") & (d["weekday"] != "(missing)")]
    return pd.DataFrame({"hour": d["hour"].astype(int).to_numpy(), "weekday": d["weekday"].to_numpy(),
                         "count": d["value"].to_numpy(dtype=float)})


def latest_month_with_data(kpi_rows: pd.DataFrame, kpi: str, month: Any, *,
                           lookback: int = 3, min_n: int = 1) -> pd.Period | None:
    """The latest month in [month - lookback + 1, month] where ``kpi`` has n >= ``min_n``.

    For survey waves (NPS): with ``min_n=30`` a handful of stray answers between waves is skipped.
    With segments, a month counts when the segments' n add up to ``min_n``.

    Returns
    -------
    pandas.Period or None
    """
    m = parse_month(month)
    d = kpi_rows[kpi_rows["kpi"] == kpi]
    if "n" in d.columns:
        n = d.groupby(d["period"].astype(str))["n"].sum()
    else:
        n = d.groupby(d["period"].astype(str))["value"].count()
    ps = [pd.Period(p, "M") for p, k in n.items() if k >= min_n]
    ps = [p for p in ps if m - (lookback - 1) <= p <= m]
    return max(ps) if ps else None


def _main(argv: list[str] | None = None) -> int:
    """``python -m kpitools.report [NOTEBOOK ...]``: re-execute notebooks in place (default: all
    under ``notebooks/``) so their stored outputs, which nbval compares, match the code and data."""
    args = list(sys.argv[1:] if argv is None else argv)
    paths = [Path(a) for a in args] or sorted((PROJECT_ROOT / "notebooks").rglob("*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    for p in execute_in_place(paths):
        print(f"executed {p}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
