"""kpitools: customer-service KPIs with honest statistics.

Main entry points::

    import kpitools
    ds = kpitools.load_dataset("data/sample")   # validated tables + quality log
    kpitools.kpi_table(ds, period="M")          # every KPI the dataset supports, long form
    kpitools.catalogue()                        # what each KPI means
"""

from kpitools.io import DataError, Dataset, load_dataset
from kpitools.settings import Settings, SettingsError

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "Dataset",
    "Settings",
    "SettingsError",
    "load_dataset",
    "catalogue",
    "kpi_table",
    "skipped_kpis",
]

_LAZY = {"catalogue": "kpitools.kpis", "kpi_table": "kpitools.kpis", "skipped_kpis": "kpitools.kpis"}


def __getattr__(name):  # lazy: importing kpitools stays cheap, the KPI registry loads on first use
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kpitools' has no attribute {name!r}")
