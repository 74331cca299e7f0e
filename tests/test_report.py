"""Tests of the report runner (kpitools.report).

Rendering costs a kernel start per month, so the rendering tests are few and use a tiny dataset and
(except for the headline test) a tiny template; the real template is exercised once, on a subset of
the sample data, and by nbval on its committed outputs.
"""

import os
import re
import stat
import textwrap
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kpitools import report
from kpitools.report import NoDataError, OfflineError, ReportError

EVIL = "<script>alert(1)</script>"


# ------------------------------------------------------------------------- fixtures
@pytest.fixture
def tiny_data(tmp_path) -> Path:
    """Five tickets in Berlin time: September (incl. one at 00:30 local on 1 Sep = 31 Aug UTC) and October."""
    d = tmp_path / "data"
    d.mkdir()
    (d / "tickets.csv").write_text(textwrap.dedent(f"""\
        ticket_id,created_at,channel,category,priority
        t1,2026-08-31T22:30:00Z,email,billing,normal
        t2,2026-09-15T10:00:00Z,chat,billing,high
        t3,2026-10-02T09:00:00Z,email,"{EVIL}",normal
        t4,2026-10-20T12:00:00Z,web,billing,low
        t5,2026-10-31T23:30:00Z,email,how-to,normal
        """), encoding="utf-8")
    (d / "dataset.yml").write_text("timezone: Europe/Berlin\nexported_at: '2026-11-05 10:00'\n",
                                   encoding="utf-8")
    return d


def _template(path: Path, body: str) -> Path:
    """A small template: imports, a `parameters` cell, then ``body`` (a remove_cell plumbing cell first)."""
    nb = new_notebook(cells=[
        new_markdown_cell("# Tiny report"),
        new_code_cell("import pandas as pd\nfrom kpitools.io import load_dataset\nfrom kpitools import plots",
                      metadata={"tags": ["remove_cell"]}),
        new_code_cell('month = "2026-09"\ndata = "data/sample"\nconfidence = 0.95',
                      metadata={"tags": ["parameters"]}),
        new_code_cell(body),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


GOOD_BODY = textwrap.dedent("""\
    ds = load_dataset(data)
    t = ds.tickets
    local = t["created_at"].dt.tz_convert(ds.settings.timezone).dt.tz_localize(None)
    rows = t[local.dt.to_period("M") == pd.Period(month, "M")]
    counts = rows.groupby("category").size().rename("tickets").reset_index()
    plots.html_table(counts, caption=f"Tickets by category, {month}")
    """)


@pytest.fixture
def good_template(tmp_path) -> Path:
    return _template(tmp_path / "good.ipynb", GOOD_BODY)


@pytest.fixture
def bad_template(tmp_path) -> Path:
    return _template(tmp_path / "bad.ipynb", 'x = 1\nraise RuntimeError("boom in the template")')


# ------------------------------------------------------------------------- pure helpers
def test_parse_month_and_errors():
    assert report.parse_month("2026-10") == pd.Period("2026-10", "M")
    for bad in ["2026-13", "202610", "2026-1", 202610, None]:
        with pytest.raises(ValueError, match=r"month: expected a month written YYYY-MM"):
            report.parse_month(bad)


def test_latest_complete_month_from_cutoff(tiny_data):
    from kpitools.io import load_dataset

    # exported 2026-11-05 10:00 Berlin: November is running, October is the last complete month
    assert report.latest_complete_month(tiny_data) == "2026-10"
    # exactly at local midnight on 1 November: October lies entirely before the cut-off
    ds = load_dataset(tiny_data, settings={"timezone": "Europe/Berlin", "exported_at": "2026-11-01 00:00"})
    assert report.latest_complete_month(ds) == "2026-10"
    # one minute earlier October is incomplete
    ds = load_dataset(tiny_data, settings={"timezone": "Europe/Berlin", "exported_at": "2026-10-31 23:59"})
    assert report.latest_complete_month(ds) == "2026-09"
    # no tickets before the cut-off month -> clear error
    ds = load_dataset(tiny_data, settings={"timezone": "Europe/Berlin", "exported_at": "2026-09-20 00:00"})
    with pytest.raises(NoDataError, match="no complete month with tickets"):
        report.latest_complete_month(ds)
    with pytest.raises(TypeError, match="dataset_or_path: expected a kpitools Dataset or a folder path"):
        report.latest_complete_month(42)


def test_months_with_data_uses_business_timezone(tiny_data):
    # t1 is 2026-08-31 22:30 UTC = 2026-09-01 00:30 Berlin -> September, so August has no ticket
    assert report.months_with_data(tiny_data) == ["2026-09", "2026-10", "2026-11"]


@pytest.mark.parametrize("snippet", [
    '<script src="https://cdn.example.com/require.js"></script>',
    '<script src="//cdn.example.com/x.js"></script>',
    '<link rel="stylesheet" href="http://fonts.example.com/a.css">',
    '<img src="https://example.com/a.png">',
    '<img srcset="a.png 1x, https://example.com/b.png 2x">',
    '<iframe src="https://example.com"></iframe>',
    "<style>@import url('https://fonts.example.com/css');</style>",
    '<style>body{background:url("//example.com/bg.png")}</style>',
    '<div style="background:url(https://example.com/x.png)"></div>',
])
def test_check_offline_rejects_network_loads(snippet):
    with pytest.raises(OfflineError, match="report HTML would load from the network"):
        report.check_offline(f"<html><head></head><body>{snippet}</body></html>")


def test_check_offline_accepts_embedded_and_relative():
    ok = ('<img src="data:image/png;base64,iVBORw0KGgo="><a href="https://example.com">a link</a>'
          '<link rel="stylesheet" href="style.css"><script>var x = 1;</script>'
          '<style>.a{background:url(data:image/svg+xml;base64,PHN2Zz4=)}</style>'
          '<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    report.check_offline(ok)     # no exception


# ------------------------------------------------------------------------- rendering
def test_render_month_writes_offline_escaped_html(tiny_data, good_template, tmp_path):
    out = tmp_path / "reports"
    html_path = report.render_month("2026-10", data=tiny_data, out=out, template=good_template)
    # tiny_data's dataset.yml has no name: the reports go under the data folder's name
    assert html_path == out / "data" / "2026-10" / "kpi-report.html"
    assert (out / "data" / "2026-10" / "kpi-report.ipynb").is_file()
    text = html_path.read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    # no code: neither the plumbing cell, the parameters nor the body's source appear
    assert "load_dataset" not in text and "groupby" not in text
    assert soup.select(".jp-CodeCell .jp-InputArea") == []
    assert soup.select(".jp-CodeMirrorEditor, .highlight") == []
    # October (Berlin): t3 (evil category), t4 (billing); t5 is 1 Nov 00:30 Berlin (CET = UTC+1 after 25 Oct)
    cells = [td.get_text() for td in soup.find("table", class_="kpi-table").find_all("td")]
    assert cells == [EVIL, "1", "billing", "1"]
    # the category is shown as text, never as a script tag
    assert soup.find_all("script") == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    report.check_offline(text)
    # the dataset's index names it and links the month, relatively
    index = BeautifulSoup((out / "data" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert [a["href"] for a in index.find_all("a")] == ["2026-10/kpi-report.html"]
    assert index.find("h1").get_text() == "KPI reports: data"
    assert not (out / "index.html").exists()


def test_render_month_shows_progress_through_the_cells(tiny_data, good_template, tmp_path, capsys):
    # one month: the loading step, then papermill's bar through the notebook's 5 cells (stderr):
    # title, plumbing, parameters, papermill's injected parameters, body
    report.render_month("2026-10", data=tiny_data, out=tmp_path / "r", template=good_template, progress=True)
    err = capsys.readouterr().err
    assert "kpi report 2026-10: loading data ..." in err
    assert "kpi report 2026-10" in err and "5/5" in err and "cell/s" in err
    report.render_month("2026-10", data=tiny_data, out=tmp_path / "r", template=good_template)
    assert capsys.readouterr().err == ""                  # the API is quiet by default


def test_failed_run_keeps_previous_report(tiny_data, good_template, bad_template, tmp_path, capsys):
    root = tmp_path / "reports"
    out = root / "data"              # the dataset's folder (tiny_data has no name: its folder's)
    good = report.render_month("2026-10", data=tiny_data, out=root, template=good_template)
    before = good.read_bytes()
    nb_before = (out / "2026-10" / "kpi-report.ipynb").read_bytes()
    code = report.report_main(month="2026-10", data=tiny_data, out=root, template=bad_template)
    assert code == 1
    err = capsys.readouterr().err
    assert "RuntimeError: boom in the template" in err
    assert 'raise RuntimeError("boom in the template")' in err       # the failing cell's source
    # the last good report is untouched; the failed notebook is kept beside it
    assert good.read_bytes() == before
    assert (out / "2026-10" / "kpi-report.ipynb").read_bytes() == nb_before
    failed = out / "2026-10" / "kpi-report.failed.ipynb"
    assert failed.is_file()
    nb = nbformat.read(failed, as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in nb.cells for o in c.get("outputs", []))
    # no temporary render folders left behind
    assert [p.name for p in (out / "2026-10").iterdir() if p.name.startswith(".")] == []
    # the index marks the failed run
    assert "last run failed" in (out / "index.html").read_text(encoding="utf-8")


def test_month_without_data_fails_before_any_kernel(tiny_data, good_template, tmp_path, monkeypatch, capsys):
    import papermill

    def no_kernel(*a, **k):
        raise AssertionError("a kernel was started for a month without data")

    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    with pytest.raises(NoDataError, match=r"month: no tickets were created in 2026-08 .*2026-09 to 2026-11"):
        report.render_month("2026-08", data=tiny_data, out=tmp_path / "r", template=good_template)
    code = report.report_main(month="2026-08", data=tiny_data, out=tmp_path / "r", template=good_template)
    assert code == 2
    assert "no tickets were created in 2026-08" in capsys.readouterr().err
    assert not (tmp_path / "r" / "data" / "2026-08").exists()


def test_runner_reads_only_the_tickets_before_the_kernel(tiny_data, tmp_path):
    # exported_at is set: the runner's checks (months with tickets, name, cut-off) need only the
    # tickets file; the kernel loads the whole dataset. A broken second table is not read here.
    (tiny_data / "surveys.csv").write_text("not,a,survey\n1,2,3\n", encoding="utf-8")
    ds = report._runner_dataset(tiny_data)
    assert list(ds.tables) == ["tickets"] and ds.path == tiny_data
    assert report.dataset_slug(ds) == "data"
    assert report.months_with_data(ds) == ["2026-09", "2026-10", "2026-11"]
    assert report.latest_complete_month(ds) == "2026-10"
    # read once per version of the files (--latest, then the month): a changed file is read again
    assert report._runner_dataset(tiny_data) is ds
    t = tiny_data / "tickets.csv"
    t.write_text(t.read_text(encoding="utf-8") + "t6,2026-11-02T10:00:00Z,email,billing,low\n", encoding="utf-8")
    again = report._runner_dataset(tiny_data)
    assert again is not ds and len(again.tickets) == 6
    # without exported_at the cut-off is the latest timestamp of every table: all are loaded
    other = tmp_path / "other"
    other.mkdir()
    (other / "tickets.csv").write_text((tiny_data / "tickets.csv").read_text(encoding="utf-8"), encoding="utf-8")
    (other / "launches.csv").write_text("launch_id,name,launched_at\nL1,x,2026-11-20T10:00:00Z\n",
                                        encoding="utf-8")
    full = report._runner_dataset(other)
    assert set(full.tables) == {"tickets", "launches"}
    assert full.cutoff == pd.Timestamp("2026-11-20T10:00:00Z")


def test_report_main_usage_errors(tiny_data, tmp_path, capsys):
    assert report.report_main(data=tiny_data, out=tmp_path) == 2
    assert "give exactly one of --month" in capsys.readouterr().err
    assert report.report_main(start="2026-09", data=tiny_data, out=tmp_path) == 2
    assert "--from and --to go together" in capsys.readouterr().err
    assert report.report_main(month="2026-10", data=tiny_data, out=tmp_path, confidence=1.5) == 2
    assert "confidence: expected a number strictly between 0 and 1" in capsys.readouterr().err
    assert report.report_main(month="2026-10", data=tmp_path / "nope", out=tmp_path) == 2
    assert "does not exist" in capsys.readouterr().err
    assert report.report_main(month="2026-10", data=tiny_data, out=tmp_path, seed=-1) == 2
    assert "seed: expected a non-negative integer, got -1" in capsys.readouterr().err


def test_render_month_passes_seed_to_the_template(tiny_data, tmp_path):
    # the template's parameter `seed` is set by render_month(seed=); the body shows it
    tpl = _template(tmp_path / "seed.ipynb", 'print(f"seed is {seed}")')
    html_path = report.render_month("2026-10", data=tiny_data, out=tmp_path / "r", template=tpl, seed=7)
    assert "seed is 7" in html_path.read_text(encoding="utf-8")


def test_render_range_renders_each_month_and_index(tiny_data, good_template, tmp_path, capsys):
    root = tmp_path / "reports"
    out = root / "data"
    # 2026-08 has no tickets: it fails before a kernel starts, the other months still render
    with pytest.raises(ReportError, match="1 of 3 months failed") as ei:
        report.render_range("2026-08", "2026-10", data=tiny_data, out=root, template=good_template,
                            progress=False)
    assert list(ei.value.failures) == ["2026-08"]
    assert ei.value.rendered == [out / "2026-09" / "kpi-report.html", out / "2026-10" / "kpi-report.html"]
    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert [a["href"] for a in index.find_all("a")] == ["2026-10/kpi-report.html", "2026-09/kpi-report.html"]
    # September (Berlin): t1 and t2, both billing
    sep = BeautifulSoup((out / "2026-09" / "kpi-report.html").read_text(encoding="utf-8"), "html.parser")
    assert [td.get_text() for td in sep.find("table", class_="kpi-table").find_all("td")] == ["billing", "2"]
    with pytest.raises(ValueError, match="start: 2026-10 is after end 2026-09"):
        report.render_range("2026-10", "2026-09", data=tiny_data, out=root, template=good_template)


def _modes(root: Path) -> dict[str, str]:
    """Octal mode of every file and folder below ``root`` (relative path -> mode)."""
    return {str(p.relative_to(root)): oct(stat.S_IMODE(p.stat().st_mode)) for p in sorted(root.rglob("*"))}


def test_datasets_get_their_own_folders_and_files_are_0644(tiny_data, good_template, tmp_path):
    other = tmp_path / "other-export"
    other.mkdir()
    (other / "tickets.csv").write_text((tiny_data / "tickets.csv").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    (other / "dataset.yml").write_text(
        "name: 'Other Corp & Co <EU>'\ntimezone: Europe/Berlin\nexported_at: '2026-11-05 10:00'\n",
        encoding="utf-8")
    out = tmp_path / "reports"
    old = os.umask(0o077)        # tempfile (0600) and a strict umask must not decide the modes
    try:
        first = report.render_month("2026-10", data=tiny_data, out=out, template=good_template)
        before = first.read_bytes()
        second = report.render_month("2026-10", data=other, out=out, template=good_template)
    finally:
        os.umask(old)
    # same month, two datasets: two folders, the first report untouched by the second run
    assert first == out / "data" / "2026-10" / "kpi-report.html"
    assert second == out / "other-corp-co-eu" / "2026-10" / "kpi-report.html"
    assert first.read_bytes() == before
    for folder, name in [("data", "data"), ("other-corp-co-eu", "Other Corp & Co <EU>")]:
        text = (out / folder / "index.html").read_text(encoding="utf-8")
        index = BeautifulSoup(text, "html.parser")
        assert index.find("h1").get_text() == f"KPI reports: {name}"
        assert index.find("title").get_text() == f"KPI reports: {name}"
        assert [a["href"] for a in index.find_all("a")] == ["2026-10/kpi-report.html"]
    assert "Other Corp &amp; Co &lt;EU&gt;" in (out / "other-corp-co-eu" / "index.html").read_text(encoding="utf-8")
    # every file 0644, every folder 0755 (the output root was created by the runner, too)
    modes = _modes(out)
    assert modes == {
        "data": "0o755", "data/2026-10": "0o755", "data/2026-10/kpi-report.html": "0o644",
        "data/2026-10/kpi-report.ipynb": "0o644", "data/index.html": "0o644",
        "other-corp-co-eu": "0o755", "other-corp-co-eu/2026-10": "0o755",
        "other-corp-co-eu/2026-10/kpi-report.html": "0o644",
        "other-corp-co-eu/2026-10/kpi-report.ipynb": "0o644", "other-corp-co-eu/index.html": "0o644",
    }
    assert oct(stat.S_IMODE(out.stat().st_mode)) == "0o755"


def test_failed_notebook_is_0644(tiny_data, bad_template, tmp_path):
    old = os.umask(0o077)
    try:
        with pytest.raises(ReportError, match="boom in the template"):
            report.render_month("2026-10", data=tiny_data, out=tmp_path / "r", template=bad_template)
    finally:
        os.umask(old)
    assert _modes(tmp_path / "r") == {
        "data": "0o755", "data/2026-10": "0o755", "data/2026-10/kpi-report.failed.ipynb": "0o644",
        "data/index.html": "0o644"}


@pytest.mark.parametrize(("name", "slug"), [
    # by hand: casefold, accents dropped (u-umlaut -> u, sharp s -> ss, o-slash -> o), every run of
    # other characters -> one hyphen, no hyphen at either end
    ("Lumen Ledger GmbH customer support (synthetic sample)",
     "lumen-ledger-gmbh-customer-support-synthetic-sample"),
    ("J\u00fcrgen's Stra\u00dfe / \u00d8resund", "jurgen-s-strasse-oresund"),
    ("  --Support 2026--  ", "support-2026"),
    ("../../etc", "etc"),
    ("\u65e5\u672c\u30b5\u30dd\u30fc\u30c8", "dataset"),          # nothing Latin left
])
def test_dataset_slug(name, slug):
    assert report.dataset_slug(name) == slug


def test_dataset_slug_is_at_most_80_characters():
    s = report.dataset_slug("ab " * 60)              # "ab-ab-...": 179 characters before the cut
    assert len(s) == 80 and s == ("ab-" * 27)[:80] and not s.endswith("-")


def test_dataset_name_from_settings_or_folder(tmp_path):
    from kpitools.io import Dataset, load_dataset

    tickets = pd.DataFrame({"ticket_id": ["t1"], "created_at": ["2026-10-01T10:00:00Z"],
                            "channel": ["email"], "category": ["billing"], "priority": ["normal"]})
    named = Dataset.from_frames({"tickets": tickets}, settings={"name": "Acme Support"})
    assert report.dataset_name(named) == "Acme Support" and report.dataset_slug(named) == "acme-support"
    # in memory and without a name: the settings default
    assert report.dataset_name(Dataset.from_frames({"tickets": tickets})) == "dataset"
    # from a folder without a name: the folder's name
    folder = tmp_path / "My Export 2026"
    folder.mkdir()
    tickets.to_csv(folder / "tickets.csv", index=False)
    ds = load_dataset(folder)
    assert report.dataset_name(ds) == "My Export 2026" and report.dataset_slug(ds) == "my-export-2026"
    # a name without Latin letters is shown as written; its folder is named after the data folder
    (folder / "dataset.yml").write_text("name: \u65e5\u672c\u30b5\u30dd\u30fc\u30c8\n", encoding="utf-8")
    ds = load_dataset(folder)
    assert report.dataset_name(ds) == "\u65e5\u672c\u30b5\u30dd\u30fc\u30c8"
    assert report.dataset_slug(ds) == "my-export-2026"
    assert report.header(ds, "2026-10")._repr_html_().startswith(
        '<p class="kpi-note">\u65e5\u672c\u30b5\u30dd\u30fc\u30c8 \u2014 October 2026.')


# ------------------------------------------------------------------------- the template's source
ROOT = Path(__file__).resolve().parents[1]


def _cells(path) -> list[tuple]:
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in nb.cells]


def test_report_notebook_is_the_package_template():
    # the package template is the one source; notebooks/reports holds its executed copy
    template = nbformat.read(report.DEFAULT_TEMPLATE, as_version=4)
    assert report.DEFAULT_TEMPLATE.parent == report.TEMPLATES_DIR
    assert report.DEFAULT_TEMPLATE.is_relative_to(Path(report.__file__).parent)
    copy = ROOT / report.REPORT_NOTEBOOK
    assert _cells(copy) == _cells(report.DEFAULT_TEMPLATE), (
        f"{copy} differs from {report.DEFAULT_TEMPLATE}: edit the package template, then run "
        "`make notebooks` (it rewrites the copy and re-executes it)")
    # stored without outputs; exactly one parameters cell
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
               for c in template.cells if c.cell_type == "code")
    assert sum("parameters" in c.metadata.get("tags", []) for c in template.cells) == 1
    assert template.metadata["kernelspec"]["name"] == "python3"


def test_sync_report_notebook_rewrites_the_copy(tmp_path):
    copy = tmp_path / "notebooks" / "reports" / "monthly-kpi-report.ipynb"
    copy.parent.mkdir(parents=True)
    stale = new_notebook(cells=[new_code_cell("1 + 1", outputs=[], execution_count=3)])
    nbformat.write(stale, copy)
    assert report.sync_report_notebook(copy) == copy
    assert _cells(copy) == _cells(report.DEFAULT_TEMPLATE)
    assert oct(stat.S_IMODE(copy.stat().st_mode)) == "0o644"


def test_python_m_report_needs_a_checkout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert report._main([]) == 2
    assert "no notebooks/ folder in" in capsys.readouterr().err


# ------------------------------------------------------------------------- the real template
SAMPLE = ROOT / "data" / "sample"


def _subset_of_sample(dest: Path, start: str = "2026-08-01") -> Path:
    """data/sample from ``start`` on (tables filtered on their first time column), as CSV, with a
    hostile comment category on the NPS detractors and a hostile launch name."""
    from kpitools.io import load_dataset
    from kpitools.schema import TABLES

    ds = load_dataset(SAMPLE)
    dest.mkdir()
    t0 = pd.Timestamp(start, tz="UTC")
    keep_tickets = None
    for name, df in ds.tables.items():
        cols = TABLES[name].columns
        tcol = next((c for c in cols if c.dtype in ("timestamp", "date", "month")), None)
        out = df
        if name == "ticket_events":
            out = df[df["ticket_id"].isin(keep_tickets)]
        elif name in ("agents", "launches"):
            out = df
        elif tcol is not None:
            s = df[tcol.name]
            if tcol.dtype == "timestamp":
                out = df[s >= t0]
            elif tcol.dtype == "date":
                out = df[s >= t0.tz_localize(None)]
            else:
                out = df[s >= pd.Period(start[:7], "M")]
        out = out.copy()
        if name == "tickets":
            keep_tickets = set(out["ticket_id"])
        if name == "surveys":
            det = (out["survey"] == "nps") & (out["score"] <= 6)
            out["comment_category"] = out["comment_category"].where(~det, EVIL)
        if name == "launches":
            out["name"] = out["name"].where(out["launch_id"] != out["launch_id"].iloc[-1], EVIL)
        for c in out.columns:
            if isinstance(out[c].dtype, pd.PeriodDtype):
                out[c] = out[c].astype(str)
        out.to_csv(dest / f"{name}.csv", index=False)
    (dest / "dataset.yml").write_text((SAMPLE / "dataset.yml").read_text(encoding="utf-8"), encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def sample_subset(tmp_path_factory) -> Path:
    if not (SAMPLE / "dataset.yml").exists():
        pytest.skip("data/sample not generated")
    return _subset_of_sample(tmp_path_factory.mktemp("sample") / "subset")


@pytest.mark.skipif(not (SAMPLE / "dataset.yml").exists(), reason="data/sample not generated")
def test_template_headline_numbers_equal_kpi_table(tmp_path, sample_subset):
    from kpitools.io import load_dataset
    from kpitools.kpis import kpi_table

    data = sample_subset
    month = report.latest_complete_month(data)
    html_path = report.render_month(month, data=data, out=tmp_path / "reports")
    text = html_path.read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")

    # independent source: kpi_table computed here, in the test process, on the same files
    dsx = load_dataset(data)
    kt = kpi_table(dsx, period="M", confidence=0.95)
    overall = report.overall_rows(kt, ds=dsx)
    by_period = overall.set_index(["kpi", overall["period"].astype(str)])
    expected = overall[overall["period"] == pd.Period(month, "M")].set_index("kpi")["value"]
    rows = soup.select("table.kpi-scorecard tr[data-kpi]")
    shown = {tr["data-kpi"]: tr.find("td", attrs={"data-value": True})["data-value"] for tr in rows}
    assert len(shown) >= 10, shown
    for tr in rows:
        kpi, v, per = tr["data-kpi"], tr.find("td", attrs={"data-value": True})["data-value"], tr["data-period"]
        want = by_period.loc[(kpi, per), "value"]      # a survey wave shows its own month
        if pd.isna(want):
            assert v == "nan", kpi
        else:
            assert float(v) == float(want), kpi           # exact: repr round-trips a float
        if per != month:
            assert kpi == "nps" and f"({pd.Period(per, 'M').strftime('%b %Y')} wave)" in tr.get_text()
    _check_intervals(soup, by_period)
    _check_human_labels(soup)
    summary_items = soup.select("ul.kpi-summary li")
    assert 3 <= len(summary_items) <= 7, [li.get_text() for li in summary_items]
    assert shown["ticket_volume"] == repr(float(expected["ticket_volume"]))

    # offline, no code, user text escaped (comment topics and launch names come from the data)
    report.check_offline(text)
    assert soup.find_all("script") == []
    assert soup.select(".jp-CodeCell .jp-InputArea") == []
    assert "import kpitools" not in text and "kpi_table(" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert all("alert(1)" not in (tag.string or "") for tag in soup.find_all("script"))
    # every figure is embedded
    imgs = soup.find_all("img")
    assert imgs and all(img["src"].startswith("data:image/png;base64,") for img in imgs)


_NUMBER = re.compile(r"^([+-]?[\d,]*\.?\d+)\s*(%|s|min|h|d|[A-Z]{3})?$")


def _number(text: str):
    """(number, unit) of a formatted figure such as "93.8%", "1.5 h", "1,614", "26.98 EUR"."""
    m = _NUMBER.match(text.strip().replace("\u2212", "-"))
    return (float(m.group(1).replace(",", "")), m.group(2) or "") if m else None


def _check_intervals(soup, by_period) -> None:
    """Every interval shown contains its value and lies within the KPI's bounds (issue 11)."""
    from kpitools import plots

    # the scorecard: unrounded numbers in data attributes
    checked = 0
    for tr in soup.select("table.kpi-scorecard tr[data-kpi]"):
        cell = tr.find("td", attrs={"data-low": True})
        v = float(tr.find("td", attrs={"data-value": True})["data-value"])
        lo, hi = float(cell["data-low"]), float(cell["data-high"])
        if pd.isna(lo) or pd.isna(v):
            continue
        row = by_period.loc[(tr["data-kpi"], tr["data-period"])]
        b_lo, b_hi = plots.kpi_bounds(row["unit"], row.get("note"))
        assert lo <= v <= hi, (tr["data-kpi"], lo, v, hi)
        assert b_lo <= lo and hi <= b_hi, (tr["data-kpi"], lo, hi, b_lo, b_hi)
        checked += 1
    assert checked >= 8
    # every other KPI table: value and interval in one unit, the interval around the value
    tables = 0
    for table in soup.select("table.kpi-table"):
        heads = [th.get_text() for th in table.select("thead th")]
        if "value" not in heads or "interval" not in heads or "kpi-scorecard" in table["class"]:
            continue
        iv, ix = heads.index("value"), heads.index("interval")
        for tr in table.select("tbody tr"):
            cells = [td.get_text() for td in tr.find_all("td")]
            value, interval = _number(cells[iv]), cells[ix].split(" \u2013 ")
            if value is None or len(interval) != 2:
                continue
            lo, hi = _number(interval[0]), _number(interval[1])
            assert lo[1] == value[1] == hi[1], cells            # one unit per row
            assert lo[0] <= value[0] <= hi[0], cells
            if value[1] == "%":
                assert 0 <= lo[0] and hi[0] <= 100, cells
            if value[1] in ("s", "min", "h", "d"):
                assert lo[0] >= 0, cells
        tables += 1
    assert tables >= 4


def _check_human_labels(soup) -> None:
    """No raw field name of the KPI catalogue (nor of a result table) as a label in the report body."""
    from kpitools.kpis import catalogue

    raw = {k for k in catalogue()["kpi"] if "_" in k} | {"launch_names", "days_since_launch", "agents_observed",
                                     "calls_per_hour", "agents_required", "abandon_observed",
                                     "sl_observed", "comment_category"}
    body = []
    for cell in soup.select("div.jp-Cell"):
        h = cell.find(["h2"])
        if h is not None and h.get_text().startswith("Appendix"):
            break                      # the appendices list definitions and skipped KPIs by name
        body.append(cell)
    labels = [el.get_text(" ", strip=True) for cell in body for el in cell.select("th, caption, li, p")]
    words = {w.strip("()[],.:;") for text in labels for w in text.split()}
    assert not (words & raw), sorted(words & raw)


def _figure_texts(fig) -> list[str]:
    out = []
    for ax in fig.axes:
        out += [ax.get_title(loc="left"), ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels() + ax.texts]
        if ax.get_legend() is not None:
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    for leg in fig.legends:
        out += [t.get_text() for t in leg.get_texts()]
    return [t for t in out if t]


@pytest.mark.skipif(not (SAMPLE / "dataset.yml").exists(), reason="data/sample not generated")
def test_template_figures_have_human_labels(sample_subset, monkeypatch):
    """Every chart of the template, drawn on the sample, is labelled in words: no raw KPI or column
    name as a title, axis label, tick label or legend entry (issue 11). The template's code cells
    run in this process (the figures themselves are then at hand; nothing is written)."""
    import ast
    import json

    from matplotlib.figure import Figure

    from kpitools.kpis import catalogue

    nb = json.loads(report.DEFAULT_TEMPLATE.read_text(encoding="utf-8"))
    month = report.latest_complete_month(sample_subset)
    shown: list = []
    scope: dict = {}
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]).replace("%matplotlib inline", "")
        if "parameters" in cell["metadata"].get("tags", []):
            src += f"\nmonth = {month!r}\ndata = {str(sample_subset)!r}\n"
        tree = ast.parse(src)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "template", "exec"), scope)
        if last is not None:
            shown.append(eval(compile(ast.Expression(last.value), "template", "eval"), scope))
    figures = [f for f in shown if isinstance(f, Figure)]
    assert len(figures) >= 8
    # KPI names that are plain words ("resolved", "backlog") may be read; names with an
    # underscore are field names
    raw = {k for k in catalogue()["kpi"] if "_" in k} | {"launch_names", "days_since_launch",
                                                         "agents_observed", "calls_per_hour"}
    for fig in figures:
        texts = _figure_texts(fig)
        words = {w.strip("()[],.:;") for t in texts for w in t.split()}
        assert not (words & raw), (texts, sorted(words & raw))
    # the summary at the top: 3 to 7 sentences
    assert 3 <= len(scope["summary"].summary_sentences(
        scope["changes"], month=scope["m"], catalogue=scope["cat"], segment_rows=scope["seg_rows"],
        spikes=scope["spike_rows"], staffing=scope["staffing"], kpis=report.HEADLINE_KPIS)) <= 7
    # staffing per channel agrees from headline to hourly table
    ds, m = scope["ds"], scope["m"]
    st = ds.staffing
    local_month = st["interval_start"].dt.tz_convert(ds.settings.timezone).dt.tz_localize(None).dt.to_period("M")
    for r in scope["staffing"].itertuples(index=False):
        hours = report.staffing_hours(ds, m, channel=r.channel)
        assert hours["short_intervals"].sum() == r.short_intervals
        assert hours["busy_intervals"].sum() == r.intervals
        # below the roster's own plan: counted here straight from the staffing table
        plan = st[(st["channel"] == r.channel) & (local_month == m)]
        assert r.roster_intervals == len(plan)
        assert r.share_short_of_plan == pytest.approx((plan["staffed_agents"] < plan["required_agents"]).mean())


def _sections(soup) -> dict[str, dict]:
    """Per heading (h2 or h3) of a rendered report: the figures drawn and the notices shown below
    it, up to the next heading (``{"images": int, "notices": {title: text}}``)."""
    out: dict[str, dict] = {}
    current = None
    for cell in soup.select("div.jp-Cell"):
        h = cell.find(["h2", "h3"])
        if h is not None:
            current = h.get_text().replace("\u00b6", "").strip()
            out[current] = {"images": 0, "notices": {}}
        elif current is not None:
            out[current]["images"] += len(cell.find_all("img"))
            for n in cell.select("div.kpi-missing"):
                out[current]["notices"][n.find("strong").get_text()] = n.get_text()
    return out


@pytest.mark.skipif(not (SAMPLE / "dataset.yml").exists(), reason="data/sample not generated")
def test_template_renders_with_only_tickets_and_says_what_is_missing(tmp_path):
    data = tmp_path / "only_tickets"
    data.mkdir()
    t = pd.read_csv(SAMPLE / "tickets.csv.gz")
    t = t[t["created_at"] >= "2026-08-01"][["ticket_id", "created_at", "channel", "category", "priority"]]
    t.to_csv(data / "tickets.csv", index=False)
    (data / "dataset.yml").write_text("timezone: Europe/Berlin\nexported_at: '2026-11-02T08:00:00+01:00'\n",
                                      encoding="utf-8")
    html_path = report.render_month("2026-10", data=data, out=tmp_path / "reports")
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    notices = {n.find("strong").get_text(): n.get_text() for n in soup.select("div.kpi-missing")}
    # every section whose tables are absent says so, with the reason from kpi_table / the dataset
    assert "table 'contacts' absent" in notices["Contact centre"]
    assert "table 'costs' absent" in notices["Efficiency and cost"]
    assert "table 'subscriptions' absent" in notices["Business value"]
    assert "table 'agent_days' absent" in notices["Team"]
    assert "table 'surveys' absent" in notices["Quality"]
    assert "no launches table" in notices["Launch attribution"]
    # the sections that have data still render: the scorecard shows this month's ticket volume
    vol = soup.select_one('table.kpi-scorecard tr[data-kpi="ticket_volume"] td[data-value]')
    month_local = (pd.to_datetime(t["created_at"], utc=True).dt.tz_convert("Europe/Berlin")
                   .dt.strftime("%Y-%m"))
    # independent count: tickets whose Berlin-time creation month is 2026-10 (the loader drops
    # duplicate ids, so count distinct ids)
    assert float(vol["data-value"]) == t.loc[month_local == "2026-10", "ticket_id"].nunique()

    # charts follow the KPIs: a chart whose KPI kpi_table skipped is replaced by its reason
    from kpitools.io import load_dataset
    from kpitools.kpis import kpi_table

    why = kpi_table(load_dataset(data), kpis=["first_response_time", "full_resolution_time"]
                    ).attrs["skipped"].set_index("kpi")["reason"]
    assert why["first_response_time"] == "needs ticket_events or tickets.first_response_at"
    sec = _sections(soup)
    resp = sec["Responsiveness"]
    assert resp["images"] == 0                     # no "Waiting for ..." curves at 100 % open
    assert why["first_response_time"] in resp["notices"]["Waiting for a first response"]
    assert why["full_resolution_time"] in resp["notices"]["Waiting for resolution"]
    for name in ("Quality", "Contact centre", "Efficiency and cost", "Business value", "Team"):
        assert sec[name]["images"] == 0, name
    q = sec["Quality"]["notices"]
    for chart in ("CSAT by channel", "NPS by channel", "Customer effort (CES) by team"):
        assert "table 'surveys' absent" in q[chart], chart
    assert "table 'surveys' absent" in q["What detractors wrote about"]
    assert "table 'contacts' absent" in sec["Contact centre"]["notices"]["Staffing per channel (Erlang C)"]
    assert "table 'agent_days' absent" in sec["Team"]["notices"]["Utilization by agent"]
    sla = sec["SLA compliance by priority"]["notices"]
    # no solved timestamps either: the resolution SLA is skipped too (it would show 0 %)
    # (when every KPI of the section is skipped the notice carries the section title alone)
    title = "SLA compliance"
    assert why["first_response_time"] in sla[title]
    assert "needs first_resolved_at, resolved_at or ticket_events" in sla[title]
    assert sec["SLA compliance by priority"]["images"] == 0
    # the sections with data are drawn: monthly trend and arrivals heatmap; daily volume
    assert sec["Volume and backlog"]["images"] == 2 and sec["Volume and backlog"]["notices"] == {}
    assert sec["Spikes and launches"]["images"] == 1


@pytest.mark.skipif(not (SAMPLE / "dataset.yml").exists(), reason="data/sample not generated")
def test_template_draws_what_a_partial_export_supports(tmp_path):
    """No ticket_events, contacts or staffing; tickets without first_response_at and team."""
    from kpitools.io import Dataset
    from kpitools.kpis import kpi_table
    from kpitools.settings import Settings

    subset = _subset_of_sample(tmp_path / "subset")
    frames = {name: pd.read_csv(subset / f"{name}.csv") for name in ("tickets", "surveys", "launches")}
    frames["tickets"] = frames["tickets"].drop(columns=["first_response_at", "team"])
    settings = Settings.from_yaml(subset / "dataset.yml")
    # the frames load as a Dataset (the same checks as files) ...
    dsx = Dataset.from_frames(frames, settings=settings)
    assert set(dsx.tables) == {"tickets", "surveys", "launches"}
    # ... and the report renders them from a folder
    data = tmp_path / "partial"
    data.mkdir()
    for name, df in frames.items():
        df.to_csv(data / f"{name}.csv", index=False)
    (data / "dataset.yml").write_text((subset / "dataset.yml").read_text(encoding="utf-8"),
                                      encoding="utf-8")
    month = "2026-10"
    html_path = report.render_month(month, data=data, out=tmp_path / "reports")
    sec = _sections(BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser"))

    # independent source of what can be shown: kpi_table in this process on the same frames
    kt = kpi_table(dsx)
    skipped = kt.attrs["skipped"].set_index("kpi")["reason"]
    have = set(kt["kpi"])
    assert "first_response_time" in skipped and "full_resolution_time" in have
    assert {"sla_resolution", "csat", "nps"} <= have and "sla_first_response" in skipped
    # responsiveness: the resolution curve only, and why the first-response curve is missing
    resp = sec["Responsiveness"]
    assert resp["images"] == 1
    assert list(resp["notices"]) == ["Waiting for a first response"]
    assert skipped["first_response_time"] in resp["notices"]["Waiting for a first response"]
    # SLA: the resolution chart, and a notice naming the SLA KPIs that are missing
    sla = sec["SLA compliance by priority"]
    assert sla["images"] == 1
    (title, text), = sla["notices"].items()
    assert title == "SLA compliance (SLA compliance: first response, SLA compliance: next reply)"
    assert skipped["sla_first_response"] in text and skipped["sla_next_reply"] in text
    # quality by segment: drawn by channel where a wave has >= 30 answers; by team the reason
    by_team = kpi_table(dsx, by="team", kpis=["csat", "nps", "ces"]).attrs["skipped"]
    team_reason = by_team.set_index("kpi")["reason"]
    q = sec["Quality"]["notices"]
    for kpi, title in [("csat", "CSAT"), ("nps", "NPS"), ("ces", "Customer effort (CES)")]:
        assert team_reason[kpi] in q[f"{title} by team"], kpi
        assert "team" in team_reason[kpi]
    by_channel = kpi_table(dsx, by="channel", kpis=["csat", "nps", "ces"])
    drawn = []
    for kpi, title in [("csat", "CSAT"), ("nps", "NPS"), ("ces", "Customer effort (CES)")]:
        wave = report.latest_month_with_data(by_channel, kpi, month, min_n=30)
        assert wave is not None, kpi
        rows = by_channel[(by_channel["kpi"] == kpi) & (by_channel["period"] == wave)
                          & (by_channel["channel"].astype("str") != "(missing)")]
        if len(rows):
            drawn.append(kpi)
            assert f"{title} by channel" not in q
        else:    # NPS is a relationship survey here: its answers have no ticket, so no channel
            assert q[f"{title} by channel"].endswith(f"every answer of {wave} lacks a channel")
    assert drawn and sec["Quality"]["images"] == len(drawn)
    assert "What detractors wrote about" not in q           # NPS present: the topics table
    # no contacts, agent_days: no staffing or utilization chart, each with its reason
    assert sec["Contact centre"]["images"] == 0 and sec["Team"]["images"] == 0
    assert skipped["staffing_gap"] in sec["Contact centre"]["notices"]["Staffing per channel (Erlang C)"]
    assert skipped["utilization"] in sec["Team"]["notices"]["Utilization by agent"]


# ------------------------------------------------------------------------- template building blocks
@pytest.fixture
def helpdesk():
    from kpi_fixtures import helpdesk_dataset

    return helpdesk_dataset()


def test_duration_curves_censor_open_tickets(helpdesk):
    # October (Berlin) tickets, first response on the calendar clock (kpi_fixtures docstring):
    # T8 1200 s, T1 3600 s, T3 5400 s (agent-opened: from the customer's message), T2 6000 s,
    # T4 unanswered -> censored at the cut-off: 2026-11-03 12:00 - 2026-10-31 22:30 = 2 d 13.5 h
    # = 221400 s.
    # Kaplan-Meier by hand: S = 4/5, 3/5, 2/5, 1/5 after the four events; T4 censored at 1/5.
    c = report.duration_curves(helpdesk, "2026-10", kind="first_response", by=None, clock="calendar")
    assert c["time"].tolist() == [1200.0, 3600.0, 5400.0, 6000.0, 221400.0]
    assert c["survival"].tolist() == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.2])
    assert c["censored"].tolist() == [0, 0, 0, 0, 1]
    # by priority: normal = T1, T3, T4 -> S = 2/3, 1/3, then T4 censored
    byp = report.duration_curves(helpdesk, "2026-10", kind="first_response", by="priority",
                                 clock="calendar")
    normal = byp[byp["priority"] == "normal"]
    assert normal["time"].tolist() == [3600.0, 5400.0, 221400.0]
    assert normal["survival"].tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    assert sorted(byp["priority"].unique()) == ["high", "minor", "normal"]
    with pytest.raises(ValueError, match="kind: expected 'first_response' or 'resolution'"):
        report.duration_curves(helpdesk, "2026-10", kind="reply")


def test_ticket_durations_one_row_per_ticket_of_the_month(helpdesk):
    # October (Berlin) tickets in table order T1, T2, T3, T4, T8 (kpi_fixtures docstring), full
    # resolution on the calendar clock, by hand: T1 08:00 -> 10:00 = 7200 s; T2 Oct 27 15:00 ->
    # final solve Oct 29 14:05 = 47 h 5 min = 169500 s; T3 open: censored at the cut-off
    # 2026-11-03 12:00 - Oct 28 09:00 = 6 d 3 h = 529200 s; T4 open: 2 d 13.5 h = 221400 s;
    # T8 10:00 -> 10:30 = 1800 s
    d = report.ticket_durations(helpdesk, "2026-10", kind="resolution", by="priority", clock="calendar")
    assert d.columns.tolist() == ["ticket_id", "priority", "duration", "observed"]
    assert d["ticket_id"].tolist() == ["T1", "T2", "T3", "T4", "T8"]
    assert d["priority"].tolist() == ["normal", "high", "normal", "normal", "minor"]
    assert d["duration"].tolist() == [7200.0, 169500.0, 529200.0, 221400.0, 1800.0]
    assert d["observed"].tolist() == [True, True, False, False, True]
    # first response on the business clock (Mon-Fri 09:00-17:00 local): T2's 16:00-17:00 local
    # = 3600 s; T1 09:00-10:00 local = 3600 s (created 09:00 local, reply 10:00 local)
    frt = report.ticket_durations(helpdesk, "2026-10", kind="first_response", by=None)
    assert frt.columns.tolist() == ["ticket_id", "duration", "observed"]
    assert frt["duration"].iloc[:2].tolist() == [3600.0, 3600.0]
    # the curves are Kaplan-Meier of exactly these rows (censored ones kept)
    curves = report.duration_curves(helpdesk, "2026-10", kind="resolution", by=None, clock="calendar")
    assert curves["time"].tolist() == sorted(d["duration"])
    assert curves["censored"].sum() == 2
    with pytest.raises(ValueError, match="by: tickets have no column 'hour'"):
        report.ticket_durations(helpdesk, "2026-10", by="hour")
    with pytest.raises(ValueError, match="clock: expected 'business' or 'calendar', got 'wall'"):
        report.ticket_durations(helpdesk, "2026-10", clock="wall")


def test_detractor_topics_counts_by_hand(helpdesk):
    from kpi_fixtures import helpdesk_dataset, helpdesk_frames

    s = helpdesk_frames()["surveys"]
    # October NPS answers 10, 9, 8, 3, 6: detractors N4 (3) and N5 (6), promoters N1, N2
    s["comment_category"] = s["response_id"].map({"N1": "pricing", "N4": EVIL, "N5": "pricing"})
    ds = helpdesk_dataset(surveys=s)
    topics, wave = report.detractor_topics(ds, "2026-10", min_answers=1)
    assert wave == "2026-10"
    assert topics.to_dict("list") == {
        "comment_category": [EVIL, "pricing", "(no comment)"],
        "detractors": [1, 1, 0], "share": [0.5, 0.5, 0.0], "promoters": [0, 1, 1]}
    # with the default minimum of 30 answers the 5 answers are no wave
    assert report.detractor_topics(ds, "2026-10")[1] is None
    # December: the November wave (3 answers) lies within the 3-month lookback
    assert report.detractor_topics(ds, "2026-12", min_answers=1)[1] == "2026-11"


def test_daily_counts_local_days(helpdesk):
    s = report.daily_counts(helpdesk)
    # Berlin days: Oct 26 T1, 27 T2, 28 T3, 29 T8, 30 none, 31 T4 (23:30 local),
    # Nov 1 T6 (00:30 local), 2 T5, 3 T7
    assert s.index[0] == pd.Timestamp("2026-10-26") and s.index[-1] == pd.Timestamp("2026-11-03")
    assert s.tolist() == [1, 1, 1, 1, 0, 1, 1, 1, 1]
    assert report.daily_counts(helpdesk, end="2026-10").tolist() == [1, 1, 1, 1, 0, 1]
    assert report.daily_counts(helpdesk, days=3).index[0] == pd.Timestamp("2026-11-01")


def test_overall_rows_pool_sla_over_priorities(helpdesk):
    from kpitools.kpis import kpi_table

    kt = kpi_table(helpdesk)
    o = report.overall_rows(kt, ds=helpdesk).set_index(["kpi", "period"])
    oct_, nov = pd.Period("2026-10", "M"), pd.Period("2026-11", "M")
    # first response (tests/kpi_fixtures.py story; T8 "minor" has no target, left out):
    # October T1 1 h <= 2 h, T2 1 h business <= 1 h, T3 1.5 h <= 2 h achieved; T4 unanswered,
    # open past 2 h at the cut-off -> breached: 3 / 4. November T5 30 min <= 1 h achieved, T6
    # 33.5 h > 2 h breached, T7 1 h open inside 2 h -> pending (out of the denominator): 1 / 2.
    fr = o.loc["sla_first_response"]
    assert fr.loc[oct_, ["numerator", "denominator"]].tolist() == [3.0, 4.0]
    assert fr.loc[nov, ["numerator", "denominator", "pending"]].tolist() == [1.0, 2.0, 1.0]
    assert fr.loc[oct_, "value"] == 0.75 and fr.loc[nov, "value"] == 0.5
    # Wilson 95% for 3/4: statsmodels proportion_confint(3, 4, method="wilson") = (0.3006, 0.9544)
    assert (fr.loc[oct_, "ci_low"], fr.loc[oct_, "ci_high"]) == pytest.approx((0.30064, 0.95440), abs=1e-4)
    # resolution: October T1 2 h <= 2 d achieved; T2 47 h 05 > 1 d, T3 and T4 open > 2 d at the
    # cut-off breached: 1 / 4. November T5 40 min <= 1 d, T6 33 h 35 <= 2 d achieved; T7 pending.
    res = o.loc["sla_resolution"]
    assert res.loc[oct_, ["numerator", "denominator"]].tolist() == [1.0, 4.0]
    assert res.loc[nov, ["numerator", "denominator", "pending"]].tolist() == [2.0, 2.0, 1.0]
    # the pooled rows equal the sums of the per-priority rows kept in kpi_table
    per = kt[kt["kpi"] == "sla_first_response"].groupby("period")[["numerator", "denominator"]].sum()
    assert per.loc[oct_].tolist() == [3.0, 4.0] and per.loc[nov].tolist() == [1.0, 2.0]
    assert "priority" not in o.reset_index().columns and o.index.is_unique
    # without ds: no SLA rows (as before)
    assert not report.overall_rows(kt)["kpi"].str.startswith("sla_").any()


def test_rows_helpers_and_notices(helpdesk):
    from kpitools.kpis import kpi_table

    kt = kpi_table(helpdesk)
    overall = report.overall_rows(kt)
    # SLA KPIs exist only per priority, so they have no overall row
    assert not overall["kpi"].str.startswith("sla_").any()
    assert overall.attrs == {}
    assert "priority" not in overall.columns
    oct_ = report.month_rows(overall, "2026-10", kpis=["ticket_volume"])
    assert oct_["value"].tolist() == [5.0]                   # T1, T2, T3, T4, T8 (local October)
    # the contact-centre KPIs were skipped (no contacts table): the notice says why
    n = report.section_notice(kt, "Contact centre", group="contact centre")
    assert "table 'contacts' absent" in repr(n) and "&#x27;contacts&#x27;" in n._repr_html_()
    assert report.section_notice(kt, "Volume", group="volume") is None
    # NPS: October has 5 answers, November 3
    assert report.latest_month_with_data(kt, "nps", "2026-11") == pd.Period("2026-11", "M")
    assert report.latest_month_with_data(kt, "nps", "2026-11", min_n=4) == pd.Period("2026-10", "M")
    assert report.latest_month_with_data(kt, "nps", "2027-03") is None
    assert report.has_tables(helpdesk, "tickets") is None
    assert report.has_tables(helpdesk, "contacts", "costs") == "the dataset has no contacts, costs tables"


def test_section_notice_require_all_names_the_missing_kpis(helpdesk):
    from kpitools.kpis import catalogue, kpi_table

    kt = kpi_table(helpdesk)
    assert "ticket_volume" in set(kt["kpi"]) and "asa" in set(kt.attrs["skipped"]["kpi"])
    # "any": one KPI with rows is enough
    assert report.section_notice(kt, "Mixed", kpis=["ticket_volume", "asa"]) is None
    # "all": the notice names the KPI without rows (its catalogue title) and kpi_table's reason
    title = catalogue().set_index("kpi").loc["asa", "title"]
    n = report.section_notice(kt, "Mixed", kpis=["ticket_volume", "asa"], require="all")
    assert repr(n) == f"Mixed ({title}): not shown - table 'contacts' absent"
    # nothing present: titled by the section alone
    n = report.section_notice(kt, "Phone", kpis=["asa", "aht"], require="all")
    assert repr(n) == "Phone: not shown - table 'contacts' absent"
    assert report.section_notice(kt, "Volume", kpis=["ticket_volume"], require="all") is None
    # a KPI neither computed nor skipped (not requested): the generic reason
    only = kpi_table(helpdesk, kpis=["ticket_volume"])
    n = report.section_notice(only, "Quality", kpis=["csat"])
    assert repr(n) == "Quality: not shown - the dataset has no data for these KPIs"
    with pytest.raises(ValueError, match="require: expected 'any' or 'all', got 'some'"):
        report.section_notice(kt, "Mixed", kpis=["asa"], require="some")
    with pytest.raises(ValueError, match=r"section_notice\('Empty'\): name the section's KPIs"):
        report.section_notice(kt, "Empty")


def test_has_tables_checks_columns():
    from kpi_fixtures import helpdesk_dataset, helpdesk_frames

    frames = helpdesk_frames()
    assert report.has_tables(helpdesk_dataset(), "tickets.team", "surveys") is None
    no_team = helpdesk_dataset(tickets=frames["tickets"].drop(columns=["team"]))
    assert report.has_tables(no_team, "tickets.team") == "the tickets table has no team column"
    blank = helpdesk_dataset(tickets=frames["tickets"].assign(team=None))
    assert report.has_tables(blank, "tickets.team") == "the tickets table has no values in its team column"
    assert report.has_tables(no_team, "contacts", "contacts.agent_id", "tickets.team") == (
        "the dataset has no contacts table; the tickets table has no team column")


def test_equal_age_changes_by_hand():
    from types import SimpleNamespace

    from statsmodels.stats.proportion import confint_proportions_2indep

    day = pd.Timedelta("1D")
    created = pd.to_datetime(["2026-10-05", "2026-10-10", "2026-10-20", "2026-10-30",
                              "2026-09-05", "2026-09-10", "2026-09-20"]).tz_localize("UTC")
    resolved = pd.Series([created[0] + day, created[1] + 3 * day, pd.NaT, created[3] + 1.5 * day,
                          created[4] + 0.5 * day, created[5] + 5 * day, created[6] + day])
    tickets = pd.DataFrame({"created_at": created, "first_resolved_at": pd.to_datetime(resolved, utc=True)})
    ds = SimpleNamespace(tickets=tickets, settings=SimpleNamespace(timezone="UTC"),
                         cutoff=pd.Timestamp("2026-11-03", tz="UTC"))
    r = report.equal_age_changes(ds, "2026-10").iloc[0]
    # cut-off 3 Nov 00:00 - October's end 1 Nov 00:00 = 2 days; within 2 days of creation:
    # October 2 of 4 (1 d, 1.5 d), September 2 of 3 (0.5 d, 1 d)
    assert r["age_s"] == 2 * 86400 and (r["n"], r["against_n"]) == (4, 3)
    assert r["value"] == 0.5 and r["against_value"] == pytest.approx(2 / 3)
    lo, hi = confint_proportions_2indep(2, 4, 2, 3, method="newcomb", compare="diff")   # statsmodels
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert r["test"] == "newcombe+fisher"                  # expected cells below 5
    # a month ending after the cut-off has no equal-age comparison
    assert report.equal_age_changes(ds, "2026-11").empty


def test_report_engine_reaches_the_loader(tmp_path):
    # the report loads the dataset with the chosen engine (the dask render itself is tested in
    # tests/test_dask.py); an unknown engine stops before a kernel starts
    from kpitools.report import render_month

    with pytest.raises(ValueError, match=r"engine must be one of \['pandas', 'dask'\], got 'spark'"):
        render_month("2026-10", data="data/sample", out=tmp_path, engine="spark")
    assert not any(tmp_path.iterdir())  # nothing written, no kernel started
