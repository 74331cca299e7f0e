"""The distribution: the wheel carries the report templates and renders a report on its own.

The wheel is built offline from a copy of the sources (no build isolation: the environment's
setuptools, from the ``test`` extra), installed with ``pip install --no-deps --target`` into a
temporary folder (its dependencies come from the project's environment), and run from a working
directory outside the checkout with only that folder on ``PYTHONPATH``. A ``sitecustomize`` in
that folder removes the editable install's import hook, so a module or file missing from the
wheel fails here instead of being found in the checkout.

Also here: the Makefile's ``lab`` target adds ``--allow-root`` exactly when run as root.
"""

import importlib.metadata
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
#: A dataset name with spaces, an umlaut, a slash and HTML: slug and escaping both matter.
NAME = "Zürich Help Desk / EU <beta>"
SLUG = "zurich-help-desk-eu-beta"       # by hand: casefold, u-umlaut -> u, runs of others -> "-"

# Removes the editable install's finder (setuptools' __editable__..._finder on sys.meta_path and
# its namespace path hook) and the checkout itself from sys.path, in every process that has the
# install folder on PYTHONPATH (the CLI and the notebook kernel it starts).
SITECUSTOMIZE = """\
import os
import sys

sys.meta_path[:] = [f for f in sys.meta_path
                    if "__editable__" not in str(getattr(f, "__module__", ""))]
sys.path_hooks[:] = [h for h in sys.path_hooks
                     if "__editable__" not in str(getattr(h, "__module__", ""))]
sys.path_importer_cache.clear()
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.getcwd()) != {root!r}]
"""


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f"{cmd} exited {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    have = importlib.metadata.version("setuptools")
    assert int(have.split(".")[0]) >= 77, (
        f"setuptools {have} cannot build kpitools (needs >= 77, from the 'test' extra): "
        "reinstall the environment with `make venv` or `pip install -e .[test]`")
    base = tmp_path_factory.mktemp("dist")
    src = base / "src"
    src.mkdir()
    for f in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / f, src / f)
    shutil.copytree(ROOT / "kpitools", src / "kpitools",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--disable-pip-version-check", "-w", str(base / "wheels"), str(src)])
    wheels = sorted((base / "wheels").glob("kpitools-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
          "--disable-pip-version-check", "--target", str(site), str(wheel)])
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(root=str(ROOT.resolve())),
                                           encoding="utf-8")
    return site


def _env(site: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(site)}


def test_wheel_contains_the_report_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("kpitools/templates/monthly-kpi-report.ipynb",
              "kpitools/templates/kpireport/index.html.j2",
              "kpitools/templates/kpireport/conf.json",
              "kpitools/templates/kpireport/report.css",
              "kpitools/report.py", "kpitools/kpis/__init__.py", "kpitools/stats/__init__.py"):
        assert f in names, f
    # nothing of the checkout besides the package
    assert not [n for n in names if n.startswith(("notebooks/", "tests/", "data/"))]


def test_installed_package_imports_only_from_the_install_folder(installed, tmp_path):
    code = textwrap.dedent("""\
        import importlib, pkgutil, sys
        import kpitools
        import kpitools.report as r
        for m in pkgutil.walk_packages(kpitools.__path__, "kpitools."):
            importlib.import_module(m.name)
        print(r.DEFAULT_TEMPLATE)
        print(r.TEMPLATES_DIR)
        for name, mod in sorted(sys.modules.items()):
            if name == "kpitools" or name.startswith("kpitools."):
                print(getattr(mod, "__file__", None))
        """)
    r = _run([sys.executable, "-c", code], cwd=tmp_path, env=_env(installed))
    lines = r.stdout.splitlines()
    assert len(lines) > 10, lines
    site = str(installed.resolve())
    assert all(line.startswith(site) for line in lines), [x for x in lines if not x.startswith(site)]
    assert Path(lines[0]).is_file() and Path(lines[1], "kpireport", "index.html.j2").is_file()


@pytest.mark.skipif(not (SAMPLE / "dataset.yml").exists(), reason="data/sample not generated")
def test_installed_wheel_renders_a_report_outside_the_checkout(installed, tmp_path):
    # the dataset: the sample's tickets from August on (required columns only), a name of its own
    data = tmp_path / "exports" / "helpdesk"
    data.mkdir(parents=True)
    t = pd.read_csv(SAMPLE / "tickets.csv.gz")
    t = t[t["created_at"] >= "2026-08-01"][["ticket_id", "created_at", "channel", "category", "priority"]]
    t.to_csv(data / "tickets.csv", index=False)
    (data / "dataset.yml").write_text(
        f"name: '{NAME}'\ntimezone: Europe/Berlin\nexported_at: '2026-11-02T08:00:00+01:00'\n",
        encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    script = installed / "bin" / "kpitools"
    assert script.is_file(), sorted(p.name for p in installed.iterdir())

    # a restrictive umask: tempfile and the umask must not decide the modes
    r = _run([str(script), "report", "--data", str(data), "--month", "2026-10"], cwd=work,
             env=_env(installed), preexec_fn=lambda: os.umask(0o077))

    out = work / "reports" / SLUG
    html_path = out / "2026-10" / "kpi-report.html"
    assert r.stdout.strip().splitlines() == [str(Path("reports") / SLUG / "2026-10" / "kpi-report.html")]
    assert html_path.is_file() and (out / "2026-10" / "kpi-report.ipynb").is_file()
    written = sorted(p.relative_to(work) for p in (work / "reports").rglob("*"))
    assert [str(p) for p in written] == [
        "reports/" + SLUG, f"reports/{SLUG}/2026-10", f"reports/{SLUG}/2026-10/kpi-report.html",
        f"reports/{SLUG}/2026-10/kpi-report.ipynb", f"reports/{SLUG}/index.html"]
    for p in written:
        mode = stat.S_IMODE((work / p).stat().st_mode)
        assert mode == (0o755 if (work / p).is_dir() else 0o644), (str(p), oct(mode))
    assert stat.S_IMODE((work / "reports").stat().st_mode) == 0o755

    # the index names the dataset (escaped) and links the month
    index_text = (out / "index.html").read_text(encoding="utf-8")
    index = BeautifulSoup(index_text, "html.parser")
    assert index.find("h1").get_text() == f"KPI reports: {NAME}"
    assert index.find("title").get_text() == f"KPI reports: {NAME}"
    assert "&lt;beta&gt;" in index_text
    assert [a["href"] for a in index.find_all("a")] == ["2026-10/kpi-report.html"]

    # the report itself: heading with the name, and the month's ticket volume
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    assert soup.find("title").get_text() == f"KPI report 2026-10 \u2014 {NAME}"
    assert soup.find("p", class_="kpi-note").get_text().startswith(f"{NAME} \u2014 October 2026.")
    vol = soup.select_one('table.kpi-scorecard tr[data-kpi="ticket_volume"] td[data-value]')
    # independent count: distinct tickets whose Berlin-time creation month is 2026-10
    local = pd.to_datetime(t["created_at"], utc=True).dt.tz_convert("Europe/Berlin").dt.strftime("%Y-%m")
    assert float(vol["data-value"]) == t.loc[local == "2026-10", "ticket_id"].nunique()
    assert soup.find_all("img")                      # the charts that have data are drawn


# ------------------------------------------------------------------------- make lab
@pytest.mark.parametrize(("uid", "expected"), [
    ("0", "lab --allow-root notebooks"),
    ("1000", "lab notebooks"),
])
def test_make_lab_allows_root_only_as_root(tmp_path, uid, expected):
    make = shutil.which("make")
    assert make, "make is needed for the Makefile's targets"
    fake = tmp_path / "bin"
    fake.mkdir()
    # a jupyter that prints its arguments, and an id that reports the uid under test
    (fake / "jupyter").write_text('#!/bin/sh\necho "$@"\n', encoding="utf-8")
    (fake / "id").write_text(f'#!/bin/sh\n[ "$1" = "-u" ] && echo {uid}\n', encoding="utf-8")
    for f in fake.iterdir():
        f.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ.get('PATH', '')}"}
    # BIN: the fake jupyter; STAMP: a file newer than pyproject.toml and constraints.txt, so make
    # does not build the environment (and PYTHON=false would make that fail instead of running)
    stamp = tmp_path / "installed"
    stamp.touch()
    future = (ROOT / "pyproject.toml").stat().st_mtime + 10 * 365 * 86400
    os.utime(stamp, (future, future))
    r = _run([make, "-s", "-C", str(ROOT), "lab", f"BIN={fake}", f"STAMP={stamp}", "PYTHON=false"],
             env=env)
    assert r.stdout.strip() == expected
