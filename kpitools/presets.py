"""Presets: ``dataset.yml`` settings for the standard exports of common helpdesks.

``preset: <name>`` in ``dataset.yml`` loads ``PRESETS[name]``, a dict with the same keys as the
file itself (``mapping``, ``durations``, ``values``, ``defaults``, ``ratings``, ``csv``). The
user's own keys are merged over it (a nested dict merge), so a preset is a starting point that
``dataset.yml`` refines. Columns a preset maps but an export lacks are ignored; columns the user
maps must exist. docs/real-exports.md describes which export each preset expects.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["PRESETS", "preset"]

# ------------------------------------------------------------------------------------------
# Zendesk Support: the CSV export of Admin Center > Account > Tools > Reports > Export.
# Column names and meanings as listed in Zendesk's help article "Exporting data to a JSON, CSV,
# or XML file" (section "CSV export"): dates are written in the account's time zone, the
# durations are whole minutes, "Satisfaction Score" is Not Offered, Offered, Good or Bad.
# ------------------------------------------------------------------------------------------
_ZENDESK: dict[str, Any] = {
    "mapping": {"tickets": {
        "Id": "ticket_id",
        "Requester id": "customer_id",
        "Assignee": "agent_id",
        "Group": "team",
        "Status": "status",
        "Priority": "priority",
        "Via": "channel",
        "Ticket type": "category",
        "Created at": "created_at",
        # "the final or most recent change to solved status"
        "Solved at": "resolved_at",
        "Reopens": "reopen_count",
        "Replies": "agent_replies",
    }},
    # calendar minutes from creation; the "... within business hours" variants are left unmapped
    # because kpitools applies its own business calendar (settings business_hours)
    "durations": {"tickets": {
        "First reply time in minutes": {"start": "created_at", "end": "first_response_at", "unit": "minutes"},
        "First resolution time in minutes": {"start": "created_at", "end": "first_resolved_at",
                                             "unit": "minutes"},
    }},
    "values": {"tickets": {
        # New, Open, Pending, Solved, Closed match the contract statuses case-insensitively
        "status": {"On-hold": "on_hold", "Hold": "on_hold"},
        "channel": {
            "Email": "email", "Mail": "email",
            "Web form": "web", "Web Widget": "web", "Web service": "web", "API": "web", "Mobile SDK": "web",
            "Chat": "chat", "Messaging": "chat",
            "Phone call (inbound)": "phone", "Phone call (outbound)": "phone", "Voicemail": "phone",
            "Twitter": "social", "Facebook": "social", "Facebook Messenger": "social", "WhatsApp": "social",
            "Instagram Direct": "social",
        },
        # Low, Normal, High, Urgent are the contract priorities already (matched case-insensitively)
    }},
    # only used when an export has no "Ticket type" column
    "defaults": {"tickets": {"category": "general"}},
    "ratings": {"tickets": {
        "Satisfaction Score": {
            "survey": "csat",
            # Good/Bad on the 1-5 CSAT scale (top box 4): CSAT = Good / (Good + Bad), Zendesk's own
            # satisfaction score
            "scores": {"Good": 5, "Bad": 1},
            "offered": ["Offered"],
            "not_offered": ["Not Offered", "Unoffered"],
            # the export has no rating time; the survey goes out when the ticket is solved
            "submitted_at": "resolved_at",
            "sent_at": "resolved_at",
        },
    }},
}

# ------------------------------------------------------------------------------------------
# Freshdesk: the ticket export of Tickets > Export (CSV), with its default ticket fields and,
# optionally, the contact field "Contact ID". Field labels as in Freshdesk's own ticket export
# (display_id "Ticket ID", created_at "Created time", resolved_at "Resolved time",
# first_response_time "Initial response time", priority_name Low/Medium/High/Urgent, status_name
# Open/Pending/Resolved/Closed/Waiting on Customer/Waiting on Third Party, source_name ...).
# "First response time (in hrs)" and "Resolution time (in hrs)" count business hours only, so the
# preset uses the timestamps instead. Survey labels are set per account; see docs.
# ------------------------------------------------------------------------------------------
_FRESHDESK: dict[str, Any] = {
    "mapping": {"tickets": {
        "Ticket ID": "ticket_id",
        "Created time": "created_at",
        "Status": "status",
        "Priority": "priority",
        "Source": "channel",
        "Type": "category",
        "Agent": "agent_id",
        "Group": "team",
        "Product": "product",
        "Contact ID": "customer_id",
        "Initial response time": "first_response_at",
        "Resolved time": "resolved_at",
        "Agent interactions": "agent_replies",
    }},
    "values": {"tickets": {
        "priority": {"Medium": "normal"},
        "status": {"Resolved": "solved", "Waiting on Customer": "pending", "Waiting on Third Party": "on_hold"},
        "channel": {
            "Email": "email", "Outbound Email": "email",
            "Portal": "web", "Feedback Widget": "web", "Forum": "web",
            "Phone": "phone",
            "Chat": "chat",
            "Twitter": "social", "Facebook": "social", "WhatsApp": "social",
        },
    }},
    # Type is optional in Freshdesk and may be left out of the export
    "defaults": {"tickets": {"category": "general"}},
}

# ------------------------------------------------------------------------------------------
# Intercom: the CSV export of the Conversations dataset of a report (Reports > a report > Export
# CSV). Attribute names as in Intercom's "Reporting metrics & attributes" article; the durations
# are seconds. Intercom appends the workspace time zone to its timestamp headers, e.g.
# "Conversation started at (America/Chicago)"; see docs for mapping that header.
# ------------------------------------------------------------------------------------------
_INTERCOM: dict[str, Any] = {
    "mapping": {"tickets": {
        "Conversation ID": "ticket_id",
        "Conversation started at": "created_at",
        "Channel": "channel",
        "Current conversation state": "status",
        "Conversation priority": "priority",
        "Team currently assigned": "team",
        "Teammate currently assigned": "agent_id",
        "User ID": "customer_id",
    }},
    "durations": {"tickets": {
        "First response time (seconds)": {"start": "created_at", "end": "first_response_at", "unit": "seconds"},
        "Time to first close (seconds)": {"start": "created_at", "end": "first_resolved_at", "unit": "seconds"},
        "Time to close (seconds)": {"start": "created_at", "end": "resolved_at", "unit": "seconds"},
    }},
    "values": {"tickets": {
        # open and closed are contract statuses already; a snoozed conversation waits for the customer
        "status": {"snoozed": "pending"},
        # Intercom has a priority flag, not levels
        "priority": {"Priority": "high", "Not priority": "normal", "not_priority": "normal"},
        "channel": {
            "Chat": "chat", "Messenger": "chat", "Conversation": "chat", "SMS": "chat",
            "Email": "email",
            "Phone": "phone", "Phone call": "phone",
            "WhatsApp": "social", "Facebook": "social", "Instagram": "social", "Twitter": "social",
        },
    }},
    # Intercom conversations carry no category
    "defaults": {"tickets": {"category": "general"}},
    "ratings": {"tickets": {
        "Last teammate rating": {
            "survey": "csat",
            "scores": {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5},
            # the export has no rating time; Intercom asks for the rating when the conversation closes
            "submitted_at": "resolved_at",
        },
    }},
}

#: Preset settings by name (see the module docstring for the keys).
PRESETS: dict[str, dict[str, Any]] = {"zendesk": _ZENDESK, "freshdesk": _FRESHDESK, "intercom": _INTERCOM}


def preset(name: str) -> dict[str, Any]:
    """The settings of preset ``name`` (a deep copy, safe to modify).

    Raises
    ------
    SettingsError
        ``name`` is not a known preset; the message lists the known ones.
    """
    from kpitools.settings import SettingsError

    key = str(name).strip().casefold()
    if key not in PRESETS:
        known = ", ".join(sorted(PRESETS)) or "none"
        raise SettingsError(f"preset {name!r} is not known; known presets: {known}")
    return copy.deepcopy(PRESETS[key])
