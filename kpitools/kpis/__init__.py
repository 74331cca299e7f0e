"""Every customer-service KPI, by period and segment, from one catalogue.

Importing this package registers every KPI module; see :mod:`kpitools.kpis._core` for the framework.
"""

from kpitools.kpis._core import (
    REGISTRY,
    Agg,
    KPIError,
    KPISpec,
    KPIUnavailable,
    catalogue,
    finish,
    kpi_table,
    register,
    skipped_kpis,
    to_period,
)

__all__ = [
    "REGISTRY",
    "Agg",
    "KPIError",
    "KPISpec",
    "KPIUnavailable",
    "catalogue",
    "finish",
    "kpi_table",
    "register",
    "skipped_kpis",
    "to_period",
]
