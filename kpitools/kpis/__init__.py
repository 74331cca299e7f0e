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
from kpitools.kpis.quality import (
    ces,
    ces_low_effort,
    csat,
    csat_response_rate,
    esat,
    escalation_rate,
    fcr,
    nps,
    one_touch_rate,
    qa_score,
    reopen_rate,
    repeat_contact_rate,
)
from kpitools.kpis.responsiveness import (
    agent_touches,
    first_resolution_time,
    first_response_time,
    full_resolution_time,
    on_hold_time,
    replies_per_resolution,
    reply_time,
    requester_wait_time,
    ticket_handle_time,
)
from kpitools.kpis.sla import sla_first_response, sla_next_reply, sla_resolution
from kpitools.kpis.volume import (
    backlog,
    backlog_age,
    complaints,
    contact_rate,
    net_flow,
    opened_to_resolved,
    resolution_rate,
    resolved,
    ticket_volume,
    tickets_per_customer,
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
    # volume and flow
    "ticket_volume",
    "complaints",
    "tickets_per_customer",
    "contact_rate",
    "resolved",
    "backlog",
    "backlog_age",
    "net_flow",
    "opened_to_resolved",
    "resolution_rate",
    # responsiveness
    "first_response_time",
    "reply_time",
    "first_resolution_time",
    "full_resolution_time",
    "requester_wait_time",
    "on_hold_time",
    "replies_per_resolution",
    "agent_touches",
    "ticket_handle_time",
    # quality and outcome
    "fcr",
    "one_touch_rate",
    "reopen_rate",
    "escalation_rate",
    "repeat_contact_rate",
    "csat",
    "csat_response_rate",
    "nps",
    "ces",
    "ces_low_effort",
    "esat",
    "qa_score",
    # SLA
    "sla_first_response",
    "sla_next_reply",
    "sla_resolution",
]
