"""Estimate layer: intervals, tests, durations, staffing, changes, spikes and launches.

Everything here works on small inputs (counts, sufficient statistics, daily series, durations)
produced by the aggregate layer; see docs/methods.md#intervals for the formulas
and the reference values the tests check.
"""

import importlib

#: Public name -> submodule that defines it (imported on first use, so that importing one
#: submodule, e.g. :mod:`kpitools.stats.intervals` for ``kpi_table``, does not load scipy's
#: optimisation, sparse and distribution modules the others need).
_LAZY = {
    "PermutationResult": "launches",
    "SpikeDetector": "spikes",
    "SpikeInputError": "spikes",
    "StatisticalWarning": "_common",
    "StatsInputError": "_common",
    "UnstableQueueError": "staffing",
    "attribute_spikes": "launches",
    "benjamini_hochberg": "changes",
    "bootstrap_difference": "intervals",
    "bootstrap_groups": "intervals",
    "bootstrap_interval": "intervals",
    "daily_counts": "spikes",
    "detect_spikes": "spikes",
    "erlang_a": "staffing",
    "erlang_b": "staffing",
    "erlang_c": "staffing",
    "esd_critical_values": "spikes",
    "event_study": "launches",
    "generalized_esd": "spikes",
    "kaplan_meier": "survival",
    "km_quantiles": "survival",
    "km_summary": "survival",
    "launch_effects": "launches",
    "launch_indicator": "launches",
    "launch_permutation_test": "launches",
    "level_baseline": "launches",
    "logrank": "survival",
    "mean_interval": "intervals",
    "negbin_spikes": "spikes",
    "nps": "intervals",
    "nps_difference": "intervals",
    "nps_interval": "intervals",
    "nps_se": "intervals",
    "period_changes": "changes",
    "prewhitened_ccf": "launches",
    "proportion_bootstrap_interval": "intervals",
    "proportion_difference": "intervals",
    "proportion_interval": "intervals",
    "required_agents": "staffing",
    "restricted_mean": "survival",
    "seasonal_esd": "spikes",
    "shrink_agent_rates": "changes",
    "shrink_rates": "changes",
    "staffing_by_interval": "staffing",
    "weekday_baseline": "launches",
}

__all__ = [
    "PermutationResult",
    "SpikeDetector",
    "SpikeInputError",
    "StatisticalWarning",
    "StatsInputError",
    "UnstableQueueError",
    "attribute_spikes",
    "benjamini_hochberg",
    "bootstrap_difference",
    "bootstrap_groups",
    "bootstrap_interval",
    "daily_counts",
    "detect_spikes",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "esd_critical_values",
    "event_study",
    "generalized_esd",
    "kaplan_meier",
    "km_quantiles",
    "km_summary",
    "launch_effects",
    "launch_indicator",
    "launch_permutation_test",
    "level_baseline",
    "logrank",
    "mean_interval",
    "negbin_spikes",
    "nps",
    "nps_difference",
    "nps_interval",
    "nps_se",
    "period_changes",
    "prewhitened_ccf",
    "proportion_bootstrap_interval",
    "proportion_difference",
    "proportion_interval",
    "required_agents",
    "restricted_mean",
    "seasonal_esd",
    "shrink_agent_rates",
    "shrink_rates",
    "staffing_by_interval",
    "weekday_baseline",
]


def __getattr__(name):  # PEP 562: ``kpitools.stats.<name>`` imports its submodule on first use
    if name in _LAZY:
        value = getattr(importlib.import_module(f"kpitools.stats.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kpitools.stats' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
