"""Render the monthly KPI report: execute the template notebook with papermill, export offline HTML.

The runner behind ``kpitools report``::

    kpitools report --month 2026-10 --data data/sample --out reports
    kpitools report --from 2026-01 --to 2026-10
    kpitools report --latest

Each dataset gets its own folder ``<out>/<dataset>/``, named by :func:`dataset_slug` (a
filesystem-safe slug of the ``name:`` in ``dataset.yml``, else of the data folder's name). For each
month it writes ``<out>/<dataset>/<YYYY-MM>/kpi-report.ipynb`` (the executed notebook) and
``<out>/<dataset>/<YYYY-MM>/kpi-report.html`` (no code, images embedded, nothing loaded from the
network), and ``<out>/<dataset>/index.html`` naming the dataset and linking every rendered month.
Every file written has mode 0644 and every folder created 0755, whatever the umask.

The template notebook, the nbconvert HTML template and its CSS are package data
(``kpitools/templates/``), so an installed wheel renders reports from any working directory.
``kpitools/templates/monthly-kpi-report.ipynb`` is the one source of the template;
``notebooks/reports/monthly-kpi-report.ipynb`` in a checkout is its executed copy (nbval compares
its outputs), rewritten from the package template by ``python -m kpitools.report``
(``make notebooks``).

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
import unicodedata
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
    "REPORT_NOTEBOOK",
    "dataset_name",
    "dataset_slug",
    "sync_report_notebook",
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
    "ticket_durations",
    "duration_curves",
    "detractor_topics",
    "arrivals_by_hour",
    "latest_month_with_data",
    "staffing_by_channel",
    "staffing_hours",
    "headline_segments",
    "equal_age_changes",
]

#: Package data: the nbconvert template ``kpireport`` and the report template notebook.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
#: The report template notebook shipped in the package (the one source of the template).
DEFAULT_TEMPLATE = TEMPLATES_DIR / "monthly-kpi-report.ipynb"
#: The executed copy of the template in a checkout, relative to the checkout's root.
REPORT_NOTEBOOK = Path("notebooks") / "reports" / "monthly-kpi-report.ipynb"
REPORT_STEM = "kpi-report"
#: Modes of everything the runner writes, set explicitly (the umask and tempfile's 0600 ignored).
FILE_MODE = 0o644
DIR_MODE = 0o755
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
    """Resolve a dataset folder given relative to the working directory or one of its parents.

    Notebooks run with their own folder as working directory (Jupyter, nbval), so ``data/sample``
    is looked up in the working directory, then in each parent folder. Nothing is looked up where
    the package is installed.

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
    for c in (base / p for base in (cwd, *cwd.parents)):
        if c.is_dir():
            return c.resolve()
    raise FileNotFoundError(
        f"data: dataset folder {str(path)!r} not found in the working directory {str(cwd)!r} "
        "or its parents; pass an existing folder (for example data/sample)"
    )


#: Letters that Unicode decomposition does not reduce to ASCII.
_FOLD = str.maketrans({"\u00f8": "o", "\u0111": "d", "\u0142": "l", "\u00fe": "th",
                       "\u00e6": "ae", "\u0153": "oe", "\u00f0": "d"})


def _slug(text: str) -> str:
    t = unicodedata.normalize("NFKD", str(text).casefold().translate(_FOLD))
    t = t.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")[:80].rstrip("-")


def dataset_name(ds) -> str:
    """The dataset's display name: ``name:`` of its ``dataset.yml``, else its folder's name.

    A ``name`` equal to the settings default (``dataset``) counts as not set. A dataset built in
    memory without a name is called ``dataset``.
    """
    from kpitools.settings import DEFAULTS

    name = ds.settings.raw.get("name")
    name = str(name).strip() if name is not None else ""
    if name and name != DEFAULTS["name"]:
        return name
    path = getattr(ds, "path", None)
    folder = Path(path).resolve().name if path is not None else ""
    return folder or name or DEFAULTS["name"]


def dataset_slug(dataset: Any) -> str:
    """The folder name of a dataset's reports: a filesystem-safe slug of its name.

    Parameters
    ----------
    dataset : Dataset or str
        A dataset (its :func:`dataset_name` is used; when that gives an empty slug, for example a
        name written only in non-Latin letters, the data folder's name is used instead) or a name.

    Returns
    -------
    str
        Lower-case ASCII letters, digits and single hyphens, at most 80 characters; letters with
        accents lose them (``Jürgen`` -> ``jurgen``, ``Straße`` -> ``strasse``). ``dataset``
        when nothing is left.

    Examples
    --------
    ``"Lumen Ledger GmbH customer support (synthetic sample)"`` ->
    ``"lumen-ledger-gmbh-customer-support-synthetic-sample"``.
    """
    if isinstance(dataset, str):
        return _slug(dataset) or "dataset"
    slug = _slug(dataset_name(dataset))
    path = getattr(dataset, "path", None)
    if not slug and path is not None:
        slug = _slug(Path(path).resolve().name)
    return slug or "dataset"


def _load(dataset_or_path: Any, engine: str = "pandas"):
    """A Dataset from a Dataset or a folder path (``engine="dask"``: a DaskDataset)."""
    from kpitools.io import load_dataset

    if hasattr(dataset_or_path, "tickets") and hasattr(dataset_or_path, "settings"):
        return dataset_or_path
    if isinstance(dataset_or_path, str | os.PathLike):
        return load_dataset(find_data(dataset_or_path), engine=engine)
    raise TypeError(
        "dataset_or_path: expected a kpitools Dataset or a folder path, "
        f"got {type(dataset_or_path).__name__}"
    )


def _runner_dataset(data_dir: Path):
    """What the runner reads before any kernel starts: the dataset's tickets only, when it can.

    The runner needs the dataset's name, its months with tickets and, for ``--latest``, its
    cut-off; the template loads and validates the whole dataset itself in its kernel. With
    ``exported_at`` in ``dataset.yml`` the cut-off needs no table, so only the tickets file is
    read (through :func:`kpitools.io.load_dataset`, on a folder that shows it alone); without it
    the cut-off is the latest timestamp of every table and the whole dataset is loaded. A
    fatal error in another table is then reported by the template's loading cell.
    """
    import shutil

    from kpitools.io import SUFFIXES, load_dataset
    from kpitools.settings import Settings

    yml = data_dir / "dataset.yml"
    settings = Settings.from_yaml(yml) if yml.exists() else Settings()
    files = [data_dir / f"tickets{sfx}" for sfx in SUFFIXES if (data_dir / f"tickets{sfx}").is_file()]
    if settings.exported_at is None or not files:
        return _load(data_dir)
    # --latest asks for the latest month, then renders it: read the tickets once per version
    key = (str(data_dir.resolve()), *((str(f), f.stat().st_mtime_ns, f.stat().st_size)
                                      for f in [*files, yml] if f.exists()))
    if _RUNNER_CACHE.get("key") == key:
        return _RUNNER_CACHE["ds"]
    with tempfile.TemporaryDirectory(prefix="kpitools-report-") as tmp:
        for f in files:
            try:
                os.symlink(f.resolve(), Path(tmp) / f.name)
            except OSError:              # no symlinks on this filesystem: copy the one file
                shutil.copyfile(f, Path(tmp) / f.name)
        ds = load_dataset(tmp, settings=settings)
    ds.path = data_dir
    _RUNNER_CACHE.clear()
    _RUNNER_CACHE.update(key=key, ds=ds)
    return ds


#: The last dataset :func:`_runner_dataset` read (one entry: its key and the tickets-only Dataset).
_RUNNER_CACHE: dict = {}


def _ticket_months(ds) -> pd.Series:
    """Ticket counts per local creation month (index: Period[M])."""
    if getattr(ds, "engine", "pandas") == "dask":  # kpitools.dask_engine: partition aggregates
        from kpitools import dask_engine

        return dask_engine.ticket_months(ds)
    from kpitools import facts

    t = ds.tickets
    if t is None or len(t) == 0:
        return pd.Series(dtype="int64")
    # the facts' month of every ticket (cut once per dataset, shared with the KPIs)
    per = facts.of(ds).period("tickets", "created_at", "M")
    return per[per.notna()].value_counts().sort_index()


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


def _make_dirs(path: Path, *, own: bool = False) -> Path:
    """Create ``path`` and its missing parents, each with mode 0755 (umask ignored).

    With ``own=True`` an existing ``path`` is set to 0755 too (the runner's own dataset and month
    folders); folders that existed before and are not the runner's keep their mode.
    """
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    path.mkdir(parents=True, exist_ok=True)
    for d in missing + ([path] if own and path not in missing else []):
        os.chmod(d, DIR_MODE)
    return path


def _place(src: Path, dst: Path) -> None:
    """Move a finished file into place with mode 0644."""
    os.chmod(src, FILE_MODE)
    os.replace(src, dst)


def _atomic_write_text(path: Path, text: str) -> None:
    _make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, FILE_MODE)          # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _render(ds, month: pd.Period, *, data_dir: Path, out: Path, confidence: float,
            template: Path, params: dict, progress: bool = False) -> Path:
    """Execute + export one month; atomic; raises ReportError on failure."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    _check_month_has_data(ds, month)
    dest = _make_dirs(out / str(month), own=True)
    final_nb = dest / f"{REPORT_STEM}.ipynb"
    final_html = dest / f"{REPORT_STEM}.html"
    failed_nb = dest / f"{REPORT_STEM}.failed.ipynb"
    parameters = {"month": str(month), "data": str(data_dir), "confidence": float(confidence), **params}
    with tempfile.TemporaryDirectory(dir=dest, prefix=".render-") as tmp:
        tmp_nb = Path(tmp) / final_nb.name
        try:
            papermill.execute_notebook(
                str(template), str(tmp_nb), parameters=parameters, kernel_name="python3",
                language="python", log_output=False,
                progress_bar=({"desc": f"kpi report {month}", "unit": "cell", "file": sys.stderr}
                              if progress else False),
                request_save_on_cell_execute=False, cwd=str(Path.cwd()),
                extra_arguments=KERNEL_QUIET,
            )
        except PapermillExecutionError as e:
            msg = _describe_failure(e)
            if tmp_nb.exists():
                _place(tmp_nb, failed_nb)
            raise ReportError(f"{month}: {msg}\n  failed notebook kept at {failed_nb}",
                              failures={str(month): msg}) from e
        except Exception as e:  # kernel died, template missing, ...
            msg = _describe_failure(e)
            if tmp_nb.exists():
                _place(tmp_nb, failed_nb)
            raise ReportError(f"{month}: {msg}", failures={str(month): msg}) from e
        try:
            body = export_html(tmp_nb, title=f"KPI report {month} \u2014 {dataset_name(ds)}")
        except Exception as e:
            msg = f"HTML export failed: {_describe_failure(e)}"
            _place(tmp_nb, failed_nb)
            raise ReportError(f"{month}: {msg}\n  failed notebook kept at {failed_nb}",
                              failures={str(month): msg}) from e
        tmp_html = Path(tmp) / final_html.name
        tmp_html.write_text(body, encoding="utf-8")
        _place(tmp_nb, final_nb)
        _place(tmp_html, final_html)
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
                 seed: int | None = None, progress: bool = False, **params: Any) -> Path:
    """Render the KPI report of one month; return the path of its HTML.

    Parameters
    ----------
    month : str
        ``YYYY-MM``.
    data : str or path-like, default "data/sample"
        Dataset folder (see :func:`find_data` for how relative paths resolve).
    out : str or path-like, default "reports"
        Output root; the report goes to ``<out>/<dataset>/<month>/kpi-report.{ipynb,html}``,
        ``<dataset>`` being :func:`dataset_slug` of the dataset.
    confidence : float, default 0.95
        Level of every interval in the report.
    template : str or path-like, optional
        Template notebook; default :data:`DEFAULT_TEMPLATE`, the one shipped in the package.
    index : bool, default True
        Rewrite ``<out>/<dataset>/index.html`` afterwards.
    seed : int, optional
        Seed of every bootstrap interval and permutation test in the report (the template
        parameter ``seed``, passed to ``kpi_table(..., seed=)``); default the template's own.
    progress : bool, default False
        Say on stderr what is being done: loading the dataset, then a progress bar through the
        template's cells (``kpitools report`` turns it on).
    **params
        Further template parameters (for example ``segments=["channel"]``).

    Returns
    -------
    pathlib.Path
        ``<out>/<dataset>/<month>/kpi-report.html``.

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
    if progress:
        print(f"kpi report {p}: loading {data_dir.name} ...", file=sys.stderr, flush=True)
    ds = (_runner_dataset(data_dir) if params.get("engine", "pandas") == "pandas"
          else _load(data_dir, engine=params["engine"]))  # dask: the template connects the cluster
    folder = Path(out) / dataset_slug(ds)
    try:
        path = _render(ds, p, data_dir=data_dir, out=folder, confidence=confidence, template=tpl,
                       params=params, progress=progress)
    except ReportError:
        if index:
            write_index(folder, name=dataset_name(ds))     # marks the failed run
        raise
    if index:
        write_index(folder, name=dataset_name(ds))
    return path


def render_range(start: str, end: str, *, data: str | os.PathLike = "data/sample",
                 out: str | os.PathLike = "reports", confidence: float = 0.95,
                 template: str | os.PathLike | None = None, progress: bool = True,
                 seed: int | None = None, **params: Any) -> list[Path]:
    """Render every month from ``start`` to ``end`` (inclusive) in this process.

    Reads the dataset's tickets once (:func:`_runner_dataset`), shows a tqdm progress bar, keeps
    going after a failed month, then writes ``<out>/<dataset>/index.html``.

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
    ds = (_runner_dataset(data_dir) if params.get("engine", "pandas") == "pandas"
          else _load(data_dir, engine=params["engine"]))  # dask: the template connects the cluster
    folder = Path(out) / dataset_slug(ds)
    months = list(pd.period_range(p0, p1, freq="M"))
    rendered: list[Path] = []
    failures: dict[str, str] = {}
    bar = tqdm(months, desc="kpi report", unit="month", disable=not progress, file=sys.stderr)
    for m in bar:
        bar.set_postfix_str(str(m))
        try:
            rendered.append(_render(ds, m, data_dir=data_dir, out=folder, confidence=confidence,
                                    template=tpl, params=params))
        except (ReportError, NoDataError) as e:
            failures[str(m)] = str(e)
    bar.close()
    write_index(folder, name=dataset_name(ds))
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


def write_index(folder: str | os.PathLike, *, name: str | None = None) -> Path:
    """Write ``<folder>/index.html`` naming the dataset and linking every rendered month.

    Parameters
    ----------
    folder : str or path-like
        One dataset's report folder (``<out>/<dataset slug>``).
    name : str, optional
        The dataset's name for the title and heading (escaped); default the folder's name.

    Returns
    -------
    pathlib.Path
        The index file (mode 0644).

    Notes
    -----
    Months are listed newest first. A month counts as rendered when
    ``<folder>/<YYYY-MM>/kpi-report.html`` exists; a month whose last run failed
    (``kpi-report.failed.ipynb`` present) is marked. Links are relative, so the folder can be
    moved or opened offline.
    """
    out = _make_dirs(Path(folder), own=True)
    title = html.escape(name if name is not None else out.name)
    rows = []
    for d in sorted((p for p in out.iterdir() if p.is_dir() and _MONTH.match(p.name)), reverse=True):
        report = d / f"{REPORT_STEM}.html"
        failed = d / f"{REPORT_STEM}.failed.ipynb"
        label = html.escape(d.name)
        if report.is_file():
            link = f'<a href="{label}/{REPORT_STEM}.html">KPI report {label}</a>'
        elif failed.is_file():
            link = f"KPI report {label}"
        else:
            continue
        mark = (f'<span class="failed">last run failed: see {label}/{REPORT_STEM}.failed.ipynb</span>'
                if failed.is_file() else "")
        rows.append(f"<li>{link}{mark}</li>")
    body = "\n".join(rows) if rows else "<li>No reports rendered yet.</li>"
    text = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>KPI reports: {title}</title>\n"
        f"<style>{_INDEX_CSS}</style>\n</head>\n<body>\n<h1>KPI reports: {title}</h1>\n"
        f"<ul>\n{body}\n</ul>\n"
        "</body>\n</html>\n"
    )
    check_offline(text)
    path = out / "index.html"
    _atomic_write_text(path, text)
    return path


def report_main(*, month: str | None = None, start: str | None = None, end: str | None = None,
                latest: bool = False, data: str | os.PathLike = "data/sample",
                out: str | os.PathLike = "reports", confidence: float = 0.95,
                template: str | os.PathLike | None = None, seed: int | None = None,
                progress: bool = True, **params) -> int:
    """Entry point of ``kpitools report``; prints the HTML path(s) and returns an exit code.

    Exactly one of ``month``, ``start``/``end`` (both) or ``latest`` must be given. ``seed``
    (``--seed``) seeds every bootstrap and permutation (see :func:`render_month`). ``progress``
    (off with ``--quiet``) shows on stderr the loading step and a bar through the report's cells
    for one month, a bar through the months for a range. Further ``params`` go to the template as
    parameters (``engine``, ``scheduler`` from ``--engine dask``).

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
                                 template=template, seed=seed, progress=progress, **params)
        else:
            if latest:
                engine = params.get("engine", "pandas")
                month = latest_complete_month(_runner_dataset(find_data(data)) if engine == "pandas"
                                              else _load(find_data(data), engine=engine))
            paths = [render_month(month, data=data, out=out, confidence=confidence,
                                  template=template, seed=seed, progress=progress, **params)]
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
    from kpitools import facts
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
    fx = facts.of(ds)
    parts = []
    for k in names:
        # every period at once, kept on the dataset's facts: the template pools the SLAs of the
        # whole history and of its 12-month window from the same rows
        r = fx.memo((_pooled_sla_rows, k, period, confidence),
                    lambda k=k: REGISTRY[k].func(ds, period=period, confidence=confidence, per_priority=False))
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
    per = kpi_rows["period"]
    if isinstance(per.dtype, pd.PeriodDtype):
        d = kpi_rows[(per.dt.asfreq("M") == m).to_numpy()]
    else:
        d = kpi_rows[per.map(lambda p: p.asfreq("M") == m if isinstance(p, pd.Period) else False)]
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
                   group: str | None = None, require: str = "any"):
    """``None`` when a section (or chart) can be shown; else a visible notice saying why not.

    Parameters
    ----------
    kpi_rows : pandas.DataFrame
        ``kpi_table`` output (its ``attrs["skipped"]`` gives the reasons).
    section : str
        Section or chart title for the notice.
    kpis, group : optional
        The section's KPIs, by name or catalogue group.
    require : {"any", "all"}, default "any"
        ``"any"``: the section is shown when at least one of its KPIs has rows (a table of the
        KPIs that exist). ``"all"``: a chart drawn from several KPIs, or a part of a section that
        is partly shown: the notice names each KPI without rows (by catalogue title, after
        ``section``) with its reason, and is ``None`` only when every KPI has rows.

    Returns
    -------
    None or kpitools.plots notice
        The notice reads ``<section>: not shown - <reasons>``, the reasons being those
        ``kpi_table`` gave for skipping the KPIs (up to four, de-duplicated), or "the dataset has
        no data for these KPIs" when it gave none.

    Raises
    ------
    ValueError
        ``require`` is neither "any" nor "all", or no KPI is named.
    """
    from kpitools import plots
    from kpitools.kpis import catalogue

    if require not in ("any", "all"):
        raise ValueError(f"require: expected 'any' or 'all', got {require!r}")
    cat = catalogue()
    names = list(dict.fromkeys(kpis or []))
    if group is not None:
        names += [k for k in cat.loc[cat["group"] == group, "kpi"] if k not in names]
    if not names:
        raise ValueError(f"section_notice({section!r}): name the section's KPIs (kpis=) or group=")
    have = set(kpi_rows["kpi"]) if "kpi" in kpi_rows.columns else set()
    absent = [k for k in names if k not in have]
    if not absent or (require == "any" and len(absent) < len(names)):
        return None
    skipped = kpi_rows.attrs.get("skipped")
    reasons = []
    if skipped is not None and len(skipped):
        sk = skipped[skipped["kpi"].isin(absent)]
        reasons = sorted(set(sk["reason"].astype(str)))
    why = "; ".join(reasons[:4]) if reasons else "the dataset has no data for these KPIs"
    title = section
    if len(absent) < len(names):         # partly shown: say which KPIs are missing
        titles = cat.set_index("kpi")["title"].reindex(absent)
        title = f"{section} ({', '.join(str(t) if isinstance(t, str) else k for k, t in titles.items())})"
    return plots.notice(title, why)


def has_tables(ds, *tables: str):
    """``None`` when every table (and column) is present with rows, else the reason.

    Parameters
    ----------
    ds : Dataset
    *tables : str
        Table names (``"contacts"``) or ``"table.column"`` (``"tickets.team"``) for a column that
        must exist and hold at least one value.

    Returns
    -------
    None or str
        The reason, for :func:`kpitools.plots.notice`: ``the dataset has no contacts, costs
        tables``; ``the tickets table has no team column`` (or ``no values in its team column``).
    """
    missing, cols = [], []
    for spec in tables:
        table, _, column = str(spec).partition(".")
        df = getattr(ds, table, None)
        if df is None or len(df) == 0:
            if table not in missing:
                missing.append(table)
        elif column and column not in df.columns:
            cols.append(f"the {table} table has no {column} column")
        elif column and df[column].notna().sum() == 0:
            cols.append(f"the {table} table has no values in its {column} column")
    parts = []
    if missing:
        parts.append(f"the dataset has no {', '.join(missing)} table{'s' if len(missing) > 1 else ''}")
    parts += cols
    return "; ".join(parts) if parts else None


def header(ds, month: Any):
    """Report heading (escaped HTML): dataset name, month, timezone, cut-off, tickets in the month."""
    from kpitools import plots

    m = parse_month(month)
    name = dataset_name(ds)
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
                  index=pd.PeriodIndex(v["period"]).to_timestamp(), name="tickets")
    s = s.sort_index()
    s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"), fill_value=0.0)
    if end is not None:
        last = parse_month(end).to_timestamp(how="end").normalize()
        s = s[s.index <= last]
    if days is not None:
        s = s.iloc[-int(days):]
    s.index.name = "date"
    return s


def ticket_durations(ds, month: Any, *, kind: str = "first_response", by: str | None = "priority",
                     clock: str = "business") -> pd.DataFrame:
    """Censored duration of every ticket created in ``month``: the input of the survival curves.

    The one censoring rule (:func:`kpitools.facts.censor`, docs/methods.md#censoring) applied to
    the tickets of one month, with the same start and end as the KPIs: a ticket still waiting at
    the export cut-off has its duration up to the cut-off and ``observed=False``, never dropped.

    Parameters
    ----------
    ds : Dataset
    month : str or pandas.Period
        Tickets created in this month (business timezone).
    kind : {"first_response", "resolution"}
        First response (``first_response_time``'s start and end: creation, or the customer's
        first message on an agent-opened ticket, to the first public human reply) or full
        resolution (creation to final resolution, ``full_resolution_time``).
    by : str or None
        Ticket column to carry as a segment (``priority``, ``channel`` ...); empty values are
        ``(missing)``.
    clock : {"business", "calendar"}

    Returns
    -------
    pandas.DataFrame
        One row per ticket created in the month, in ticket order: ``ticket_id``, the ``by``
        column (when given), ``duration`` (seconds on ``clock``; NaN when the ticket has no start,
        e.g. an agent-opened ticket without a customer message) and ``observed`` (False:
        censored at the cut-off).

    Raises
    ------
    ValueError
        Unknown ``kind`` or ``clock``, or ``by`` not a ticket column.

    Examples
    --------
    >>> ds = kpitools.load_dataset("data/sample")                           # doctest: +SKIP
    >>> d = ticket_durations(ds, "2026-10", kind="resolution", clock="calendar")  # doctest: +SKIP
    >>> kpitools.stats.survival.logrank(d["duration"], d["observed"], d["priority"])  # doctest: +SKIP
    """
    from kpitools import facts

    if kind not in ("first_response", "resolution"):
        raise ValueError(f"kind: expected 'first_response' or 'resolution', got {kind!r}")
    if clock not in ("business", "calendar"):
        raise ValueError(f"clock: expected 'business' or 'calendar', got {clock!r}")
    m = parse_month(month)
    fx = facts.of(ds)
    t = fx.table("tickets")
    if by is not None and by not in t.columns:
        raise ValueError(f"by: tickets have no column {by!r}; available: {list(t.columns)}")
    f = fx.ticket
    start, end = ((f["frt_start"], f["frt_end"]) if kind == "first_response"
                  else (f["created_at"], f["resolved"]))
    # the month's rows by the period codes of the facts (computed once per dataset)
    rows = np.flatnonzero(fx.period("tickets", "created_at", "M").array.asi8 == m.ordinal)
    dur, observed = facts.censor(start.take(rows), end.take(rows), ds.cutoff, clock, calendar=ds.calendar)
    out = {"ticket_id": t["ticket_id"].take(rows).to_numpy()}
    if by is not None:
        codes, levels = fx.codes("tickets", by)
        out[by] = pd.Categorical.from_codes(codes[rows], categories=levels).astype("str")
    out["duration"] = dur
    out["observed"] = observed
    return pd.DataFrame(out)


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
        ci_low, ci_high``) plus the ``by`` column (``group`` = ``all`` without ``by``). Tickets
        still open at the export cut-off are censored there, not dropped
        (:func:`ticket_durations`, :func:`kpitools.facts.censor`).
    """
    if getattr(ds, "engine", "pandas") == "dask":  # kpitools.dask_engine: partition aggregates
        from kpitools import dask_engine

        return dask_engine.duration_curves(ds, month, kind=kind, by=by, clock=clock, confidence=confidence)
    from kpitools.stats.survival import kaplan_meier

    d = ticket_durations(ds, month, kind=kind, by=by, clock=clock)
    col = by or "group"
    d = d[~np.isnan(d["duration"].to_numpy())]
    groups = d[by].to_numpy() if by is not None else np.full(len(d), "all", dtype=object)
    parts = []
    for g in sorted(pd.unique(groups)):
        sel = groups == g
        km = kaplan_meier(d["duration"].to_numpy()[sel], d["observed"].to_numpy()[sel], confidence=confidence)
        km.insert(0, col, g)
        parts.append(km)
    if not parts:
        return pd.DataFrame(columns=[col, "time", "at_risk", "events", "censored",
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
    if getattr(ds, "engine", "pandas") == "dask":  # kpitools.dask_engine: partition aggregates
        from kpitools import dask_engine

        return dask_engine.detractor_topics(ds, month, lookback=lookback, min_answers=min_answers)
    from kpitools import facts

    cols = ["comment_category", "detractors", "share", "promoters"]
    if ds.surveys is None or len(ds.surveys) == 0:
        return pd.DataFrame(columns=cols), None
    fx = facts.of(ds)
    s = fx.table("surveys")
    nps = (s["survey"] == "nps").to_numpy()
    if not nps.any():
        return pd.DataFrame(columns=cols), None
    m = parse_month(month)
    # month ordinals of the facts' periods (business timezone, cut once per dataset)
    ordinal = np.where(nps, fx.period("surveys", "submitted_at", "M").array.asi8, facts.NAT)
    window = [m - i for i in range(lookback)]
    have = [p for p in window if int((ordinal == p.ordinal).sum()) >= min_answers]
    if not have:
        return pd.DataFrame(columns=cols), None
    wave = max(have)
    w = s[ordinal == wave.ordinal]
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


def _channels(ds, channels) -> list[str]:
    if channels is not None:
        return [str(c) for c in channels]
    c = getattr(ds, "contacts", None)
    if c is None or not len(c) or "channel" not in c.columns:
        return []
    return sorted(c["channel"].dropna().astype("str").unique())


def staffing_by_channel(ds, month: Any, *, channels: Iterable[str] | None = None) -> pd.DataFrame:
    """Each channel's staffing intervals in ``month`` against its own Erlang C requirement.

    Calls and chats are separate queues with their own agents, so each channel is modelled on
    its own (:func:`kpitools.kpis.contact_centre.staffing_intervals` with ``channel=``), never
    pooled into one queue.

    Parameters
    ----------
    ds : Dataset
        Needs ``contacts`` (and the ``staffing`` roster when there is one).
    month : str or pandas.Period
    channels : iterable of str, optional
        Default every channel in ``contacts``.

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``channel``, ``intervals`` (intervals with contacts), ``short_intervals``
        (those with fewer agents than that interval's Erlang C requirement), ``share_short``,
        ``roster_intervals`` and ``share_short_of_plan`` (roster intervals of the month, with or
        without contacts, whose staffed agents are below the roster's own ``required_agents``,
        the plan made from the forecast; 0 and NaN without a roster plan), ``mean_gap`` (mean
        agents staffed - Erlang C required over the intervals with contacts), ``agents_source``,
        ``interval_s``. Erlang C on the contacts that came is stricter than the plan made from
        the forecast, so both are shown. The same intervals as :func:`staffing_hours`, so the hours' short
        intervals add up to ``short_intervals``.
    """
    from kpitools.kpis.contact_centre import staffing_intervals

    m = parse_month(month)
    recs = []
    for ch in _channels(ds, channels):
        iv = staffing_intervals(ds, month=m, channel=ch)
        busy = iv[iv["calls"] > 0]
        k = int(len(busy))
        short = int(busy["understaffed"].astype(bool).sum()) if k else 0
        plan = pd.to_numeric(iv["roster_required"], errors="coerce") if "roster_required" in iv else None
        has_plan = plan is not None and plan.notna().any()
        below_plan = (iv["agents_observed"] < plan) if has_plan else None
        recs.append({"channel": ch, "intervals": k, "short_intervals": short,
                     "share_short": short / k if k else np.nan,
                     "roster_intervals": int(plan.notna().sum()) if has_plan else 0,
                     "share_short_of_plan": float(below_plan[plan.notna()].mean()) if has_plan else np.nan,
                     "mean_gap": float(busy["gap"].mean()) if k else np.nan,
                     "agents_source": str(iv["agents_source"].iloc[0]) if len(iv) else "",
                     "interval_s": float(iv["interval_s"].iloc[0]) if len(iv) else np.nan})
    out = pd.DataFrame(recs, columns=["channel", "intervals", "short_intervals", "share_short",
                                      "roster_intervals", "share_short_of_plan", "mean_gap",
                                      "agents_source", "interval_s"])
    out["channel"] = out["channel"].astype("str")
    out["agents_source"] = out["agents_source"].astype("str")
    return out


def staffing_hours(ds, month: Any, *, channel: str) -> pd.DataFrame:
    """Staffing by hour of day for one channel, with the intervals short of Erlang C per hour.

    :func:`kpitools.kpis.contact_centre.staffing_by_hour` (means over the month's intervals of
    each hour) plus ``busy_intervals`` (intervals with contacts) and ``short_intervals`` (those
    short of their own requirement) and ``share_short``, counted on the same intervals as
    :func:`staffing_by_channel`.

    Returns
    -------
    pandas.DataFrame
        One row per hour of day (int ``hour``), columns of ``staffing_by_hour`` plus the three above.
    """
    from kpitools.kpis.contact_centre import staffing_by_hour, staffing_intervals

    m = parse_month(month)
    hours = staffing_by_hour(ds, month=m, channel=channel)
    iv = staffing_intervals(ds, month=m, channel=channel)
    busy = iv[iv["calls"] > 0]
    g = busy.assign(_s=busy["understaffed"].astype(bool)).groupby("hour")["_s"].agg(["size", "sum"])
    hours = hours.copy()
    hours["busy_intervals"] = hours["hour"].map(g["size"]).fillna(0).astype("int64")
    hours["short_intervals"] = hours["hour"].map(g["sum"]).fillna(0).astype("int64")
    hours["share_short"] = hours["short_intervals"] / hours["busy_intervals"].where(hours["busy_intervals"] > 0)
    return hours


def _month_bounds_utc(month: pd.Period, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(month.start_time).tz_localize(tz).tz_convert("UTC")
    end = pd.Timestamp((month + 1).start_time).tz_localize(tz).tz_convert("UTC")
    return start, end


def equal_age_changes(ds, month: Any, *, confidence: float = 0.95) -> pd.DataFrame:
    """Resolution rate of a month still maturing against the month before, at equal age.

    The month's newest tickets were created shortly before the export's cut-off and have had
    little time to be resolved, so its resolution rate is low for want of time, not of
    performance. At equal age both months count the tickets resolved within the same time of
    their creation: the age ``a`` of the month's youngest possible ticket at the cut-off
    (cut-off - month end); every ticket of both months has been observed that long.

    Parameters
    ----------
    ds : Dataset
        Needs ``tickets`` with ``created_at`` and ``first_resolved_at``.
    month : str or pandas.Period
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row for ``resolution_rate`` (none when the month ended after the cut-off, the
        column is missing, or either month has no ticket): ``kpi, period, against, age_s``
        (a, seconds), ``value`` and ``against_value`` (shares resolved within a), ``n``,
        ``against_n``, ``change``, ``ci_low``, ``ci_high`` (Newcombe), ``p_value`` and
        ``test`` (``newcombe+z`` or ``newcombe+fisher``), from
        :func:`kpitools.stats.intervals.proportion_difference`
        (docs/methods.md#proportion-difference).
    """
    if getattr(ds, "engine", "pandas") == "dask":  # kpitools.dask_engine: partition aggregates
        from kpitools import dask_engine

        return dask_engine.equal_age_changes(ds, month, confidence=confidence)
    from kpitools import facts

    m = parse_month(month)
    t = ds.tickets
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in EQUAL_AGE_COLUMNS})
    if t is None or "first_resolved_at" not in t.columns:
        return empty
    tz = ds.settings.timezone
    start, end = _month_bounds_utc(m, tz)
    age = (ds.cutoff - end).total_seconds()
    if age <= 0:
        return empty
    fx = facts.of(ds)
    ordinal = fx.period("tickets", "created_at", "M").array.asi8
    sel = (ordinal == m.ordinal) | (ordinal == (m - 1).ordinal)
    # resolved within the age a: observed by the cut-off (the one censoring rule) and at most a
    within = resolved_within(fx.ts("tickets", "created_at")[sel], fx.ts("tickets", "first_resolved_at")[sel],
                             ds.cutoff, age)
    counts = []
    for p in (m, m - 1):
        rows = ordinal[sel] == p.ordinal
        counts.append((int(within[rows].sum()), int(rows.sum())))
    return equal_age_frame(m, age, counts, confidence=confidence)


#: Columns of :func:`equal_age_changes`.
EQUAL_AGE_COLUMNS = ["kpi", "period", "against", "age_s", "value", "against_value", "n", "against_n",
                     "change", "ci_low", "ci_high", "p_value", "test"]


def resolved_within(created, resolved, cutoff, age: float) -> np.ndarray:
    """Per ticket: first resolved by the cut-off and within ``age`` seconds of creation (calendar
    clock), by the one censoring rule :func:`kpitools.facts.censor`."""
    from kpitools import facts

    dur, observed = facts.censor(created, resolved, cutoff, "calendar")
    return observed & (dur <= age)


def equal_age_frame(m: pd.Period, age: float, counts, *, confidence: float = 0.95) -> pd.DataFrame:
    """The estimate step of :func:`equal_age_changes` from ``counts`` = ((resolved within the
    age, tickets) of month ``m``, the same of ``m - 1``), shared by both engines."""
    from kpitools.stats.intervals import proportion_difference

    (x1, n1), (x2, n2) = counts
    if n1 == 0 or n2 == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in EQUAL_AGE_COLUMNS})
    r = proportion_difference(x1, n1, x2, n2, confidence=confidence)
    return pd.DataFrame([{
        "kpi": "resolution_rate", "period": m, "against": m - 1, "age_s": age, "value": x1 / n1,
        "against_value": x2 / n2, "n": n1, "against_n": n2, "change": r["difference"],
        "ci_low": r["ci_low"], "ci_high": r["ci_high"], "p_value": r["p_value"],
        "test": f"newcombe+{r['test']}"}], columns=EQUAL_AGE_COLUMNS)


def headline_segments(ds, kpi_rows: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Segment rows of the headline KPIs that have segments: SLA by priority, CSAT and FRT by channel.

    Parameters
    ----------
    ds : Dataset
    kpi_rows : pandas.DataFrame
        ``kpi_table(ds, period="M")`` (its SLA rows are per priority).
    confidence : float

    Returns
    -------
    pandas.DataFrame
        SLA rows by ``priority`` from ``kpi_rows`` stacked with ``kpi_table(ds, by="channel",
        kpis=["csat", "first_response_time"])`` (the KPIs the dataset supports), for
        :func:`kpitools.summary.worst_segments`.
    """
    if getattr(ds, "engine", "pandas") == "dask":  # kpitools.dask_engine: partition aggregates
        from kpitools import dask_engine

        return dask_engine.headline_segments(ds, kpi_rows, confidence=confidence)
    from kpitools.kpis import catalogue, kpi_table

    cat = catalogue()
    sla = kpi_rows[kpi_rows["kpi"].isin(cat.loc[cat["group"] == "sla", "kpi"])]
    if "priority" in sla.columns:
        sla = sla[sla["priority"].notna()]
    have = [k for k in ("csat", "first_response_time") if k in set(kpi_rows["kpi"])]
    sla = sla.copy()
    sla.attrs = {}
    parts = [sla]
    if have and "channel" in ds.tickets.columns and ds.tickets["channel"].notna().any():
        by_channel = kpi_table(ds, by="channel", kpis=have, confidence=confidence)
        by_channel.attrs = {}           # attrs hold a DataFrame, which pandas cannot compare on concat
        parts.append(by_channel)
    out = pd.concat([p for p in parts if len(p)], ignore_index=True, sort=False) if any(len(p) for p in parts) \
        else kpi_rows.iloc[:0].copy()
    out.attrs = {}
    return out


def sync_report_notebook(copy: str | os.PathLike = REPORT_NOTEBOOK, *,
                         template: str | os.PathLike = DEFAULT_TEMPLATE) -> Path:
    """Rewrite a checkout's report notebook from the package template (outputs cleared).

    ``kpitools/templates/monthly-kpi-report.ipynb`` is the one source of the report template;
    ``notebooks/reports/monthly-kpi-report.ipynb`` is its executed copy for nbval and for
    analysts to read. This writes the template's cells and metadata into the copy;
    :func:`execute_in_place` then refreshes its outputs (``make notebooks`` does both).

    Returns
    -------
    pathlib.Path
        The copy (mode 0644).
    """
    import nbformat

    copy, template = Path(copy), Path(template)
    nb = nbformat.read(template, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    _atomic_write_text(copy, nbformat.writes(nb) + "\n")
    return copy


def _main(argv: list[str] | None = None) -> int:
    """``python -m kpitools.report [NOTEBOOK ...]``: re-execute notebooks in place (default: all
    under ``notebooks/`` of the working directory, a checkout) so their stored outputs, which
    nbval compares, match the code and data. The report notebook is first rewritten from the
    package template (:func:`sync_report_notebook`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args and not Path("notebooks").is_dir():
        print(f"python -m kpitools.report: no notebooks/ folder in {str(Path.cwd())!r}; run it "
              "from the root of a kpitools checkout or name the notebooks", file=sys.stderr)
        return 2
    paths = [Path(a) for a in args] or sorted(Path("notebooks").rglob("*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    for p in paths:
        if p.resolve() == REPORT_NOTEBOOK.resolve():
            print(f"wrote {sync_report_notebook(p)} from {DEFAULT_TEMPLATE}")
    for p in execute_in_place(paths):
        print(f"executed {p}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
