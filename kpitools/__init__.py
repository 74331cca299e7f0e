"""kpitools: customer-service KPIs with honest statistics."""
__version__ = "0.1.0"
