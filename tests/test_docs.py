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
