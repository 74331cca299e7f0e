"""Generated documentation stays in sync with the code (regenerate with `make docs`)."""

from conftest import ROOT

from kpitools.docs import README_KPI_BEGIN, README_KPI_END, render_kpi_markdown


def test_kpi_catalogue_page_in_sync():
    text = (ROOT / "docs" / "kpis.md").read_text()
    assert text.endswith(render_kpi_markdown() + "\n")


def test_readme_kpi_table_in_sync():
    readme = (ROOT / "README.md").read_text()
    block = readme.split(README_KPI_BEGIN, 1)[1].split(README_KPI_END, 1)[0]
    assert block.strip() == render_kpi_markdown().strip()


def test_every_kpi_in_the_table():
    from kpitools import catalogue

    table = render_kpi_markdown()
    for name in catalogue()["kpi"]:
        assert f" `{name}` |" in table


def _anchors(md_text: str) -> set[str]:
    """GitHub-style anchors of the headings of a Markdown page (lower case, punctuation dropped,
    spaces to hyphens), the rule GitHub documents for heading links."""
    import re

    out = set()
    for line in md_text.splitlines():
        m = re.match(r"#+\s+(.*)", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(slug)
    return out


def test_methods_anchors_cited_in_code_exist():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    anchors = _anchors((root / "docs" / "methods.md").read_text(encoding="utf-8"))
    # a few headings worked by hand: "### Erlang C" -> erlang-c, "### NPS standard error" -> ...
    assert {"erlang-c", "nps-standard-error", "value-count-bootstrap", "volume-and-flow"} <= anchors
    cited = {}
    for folder in ("kpitools", "tests", "benchmarks", "notebooks"):
        for path in (root / folder).rglob("*"):
            if path.suffix in (".py", ".ipynb") and ".ipynb_checkpoints" not in path.parts:
                for a in re.findall(r"docs/methods\.md#([\w\-]+)", path.read_text(encoding="utf-8")):
                    cited.setdefault(a, path.relative_to(root).as_posix())
    missing = {a: f for a, f in cited.items() if a not in anchors}
    assert not missing, f"citations of docs/methods.md anchors that do not exist: {missing}"


def test_code_cites_no_reference_file_outside_the_repository():
    # definitions the code and tests cite live in docs/methods.md; the team's reference files
    # are not part of the repository, so a citation of them points nowhere for a user
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    outside = ("metrics" + ".md", "statistics" + ".md", "shared/" + "reference")
    hits = []
    for folder in ("kpitools", "tests", "benchmarks", "notebooks"):
        for path in (root / folder).rglob("*"):
            if path.suffix in (".py", ".ipynb") and ".ipynb_checkpoints" not in path.parts:
                text = path.read_text(encoding="utf-8")
                hits += [f"{path.relative_to(root).as_posix()}: {o}" for o in outside if o in text]
    assert not hits, hits


def test_kpi_docstring_names_its_methods_section():
    import re
    from pathlib import Path

    from kpitools.kpis import REGISTRY, csat

    # csat is in group "quality" (catalogue), recorded under "### Quality and outcome"
    assert "Definition: docs/methods.md#quality-and-outcome." in csat.__doc__
    root = Path(__file__).resolve().parents[1]
    anchors = _anchors((root / "docs" / "methods.md").read_text(encoding="utf-8"))
    cited = {s.name: re.findall(r"docs/methods\.md#([\w\-]+)", s.func.__doc__ or "") for s in REGISTRY.values()}
    assert {k: v for k, v in cited.items() if not set(v) <= anchors} == {}
