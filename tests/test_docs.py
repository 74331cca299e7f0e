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
