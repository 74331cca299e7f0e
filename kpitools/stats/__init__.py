"""Estimate layer: intervals, tests, durations, staffing, changes, spikes and launches.

Everything here works on small inputs (counts, sufficient statistics, daily series, durations)
produced by the aggregate layer; see docs/methods.md#intervals for the formulas
and the reference values the tests check.
"""

from kpitools.stats._common import StatisticalWarning, StatsInputError
from kpitools.stats.changes import (
    benjamini_hochberg,
    period_changes,
    shrink_agent_rates,
    shrink_rates,
)
from kpitools.stats.intervals import (
    bootstrap_difference,
    bootstrap_groups,
    bootstrap_interval,
    mean_interval,
    nps,
    nps_difference,
    nps_interval,
    nps_se,
    proportion_bootstrap_interval,
    proportion_difference,
    proportion_interval,
)
from kpitools.stats.launches import (
    PermutationResult,
    attribute_spikes,
    event_study,
    launch_effects,
    launch_indicator,
    launch_permutation_test,
    level_baseline,
    prewhitened_ccf,
    weekday_baseline,
)
from kpitools.stats.spikes import (
    SpikeDetector,
    SpikeInputError,
    daily_counts,
    detect_spikes,
    esd_critical_values,
    generalized_esd,
    negbin_spikes,
    seasonal_esd,
)
from kpitools.stats.staffing import (
    UnstableQueueError,
    erlang_a,
    erlang_b,
    erlang_c,
    required_agents,
    staffing_by_interval,
)
from kpitools.stats.survival import kaplan_meier, km_quantiles, km_summary, logrank, restricted_mean

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
