"""A tiny hand-made helpdesk dataset for KPI tests (shareable: import it from any test module).

Eight tickets in October/November 2026, business timezone Europe/Berlin (CET = UTC+1 after the
DST change on Sun 2026-10-25), business hours Mon-Fri 09:00-17:00 local, cut-off
2026-11-03 12:00 UTC (Tue 13:00 local). All timestamps below are UTC.

====  ====================  =======  ========  ====  ==========================================
id    created (UTC)         channel  priority  cust  story
====  ====================  =======  ========  ====  ==========================================
T1    Mon Oct 26 08:00      email    normal    C1    bot 08:01 + note 08:30 ignored; reply 09:00
                                                      (FRT 3600 s); solved 10:00
T2    Tue Oct 27 15:00      chat     high      C2    reply 16:40 (FRT 6000 s calendar, 3600 s
                                                      business: 16:00-17:00 local); customer
                                                      Oct 28 08:00 -> reply 10:00 (7200 s);
                                                      solved 10:05; reopened by customer Oct 29
                                                      09:00 -> reply 14:00 (18000 s); solved 14:05
T3    Wed Oct 28 09:00      email    normal    C3    agent-opened: agent 09:00, customer 12:00,
                                                      reply 13:30 (FRT 5400 s); open -> on_hold
                                                      Oct 29 10:00 -> open Oct 30 10:00; open
T4    Sat Oct 31 22:30      web      normal    C4    23:30 local on the 31st (October); only a
                                                      bot answered: unanswered, censored
T5    Mon Nov 02 09:00      email    high      C1    reply 09:30 (FRT 1800 s); solved 09:40;
                                                      7 d 1 h after T1: not a repeat
T6    Sat Oct 31 23:30      chat     normal    C5    00:30 local Nov 1 (November); reply Mon Nov 2
                                                      09:00 (FRT 120600 s calendar, 3600 s
                                                      business); solved 09:05
T7    Tue Nov 03 11:00      chat     normal    C5    repeat of T6 within 7 days; unanswered at the
                                                      cut-off (1 h < 2 h target: SLA pending)
T8    Thu Oct 29 10:00      phone    minor     C6    reply 10:20 (FRT 1200 s); solved 10:30;
                                                      priority without SLA targets
====  ====================  =======  ========  ====  ==========================================

SLA targets (settings): first_response normal 2 h calendar, high 1 h business; next_reply 4 h
calendar; resolution normal 2 d, high 1 d calendar.

Surveys: CSAT Oct 5, 3; Nov 4, 2 and a 4 on a "1-7" row scale (left out). NPS Oct 10, 9, 8, 3, 6;
Nov 10, 9, 7. CES (1-7, low is good, low effort <= 3) Oct 2, 5; Nov 1, 3, 7. ESAT Oct 5, 4, 2.
QA (0-1) Oct 0.8, 0.9; Nov 1.0. CSAT invitations: 3 in October, 3 in November.
Active users: 4 in October, 2 in November.

Cross-channel extension (:func:`cross_channel_dataset`, for FCR and repeat contacts): the eight
tickets plus T9 and four contacts (calls and chats) of the same customers.

====  ====================  =======  ====  ==================================================
id    when (UTC)            channel  cust  story
====  ====================  =======  ====  ==================================================
T9    Fri Oct 30 10:00      email    -     no customer_id; reply 10:30, solved 11:00 (one
                                            reply: FCR by everything but the repeat check)
K4    Sun Oct 25 15:00      chat     C2    answered, resolved; T2 (Oct 27 15:00) 2 d later
K1    Tue Oct 27 10:00      phone    C1    answered, resolved; 26 h after T1, 5 d 23 h
                                            before T5
K2    Thu Oct 29 09:55      phone    C6    answered, resolved; ticket_id T8: T8 (10:00) is
                                            the ticket written for this call, not a repeat
K3    Fri Oct 30 12:00      chat     -     answered, resolved; no customer_id
====  ====================  =======  ====  ==================================================
"""

from __future__ import annotations

import pandas as pd

from kpitools.io import Dataset

__all__ = ["HELPDESK_SETTINGS", "helpdesk_frames", "helpdesk_dataset", "CUTOFF", "cross_channel_frames",
           "cross_channel_dataset"]

CUTOFF = "2026-11-03T12:00:00Z"

HELPDESK_SETTINGS = {
    "name": "kpi-fixture",
    "timezone": "Europe/Berlin",
    "exported_at": CUTOFF,
    "repeat_window_days": 7,
    "sla": {
        "first_response": {"normal": {"target": "2h", "clock": "calendar"},
                           "high": {"target": "1h", "clock": "business"}},
        "next_reply": {"normal": {"target": "4h", "clock": "calendar"},
                       "high": {"target": "4h", "clock": "calendar"}},
        "resolution": {"normal": {"target": "2d", "clock": "calendar"},
                       "high": {"target": "1d", "clock": "calendar"}},
    },
    "targets": {"csat": 0.8, "first_response_time": 3600},
}

_T = [
    # id, created, channel, category, priority, customer, team, agent, first_response_at,
    # first_resolved_at, resolved_at, reopen_count, agent_replies, escalated, is_complaint, handle_s, status
    ("T1", "2026-10-26T08:00:00Z", "email", "billing", "normal", "C1", "A", "a1", "2026-10-26T09:00:00Z",
     "2026-10-26T10:00:00Z", "2026-10-26T10:00:00Z", 0, 1, "false", "false", 600.0, "solved"),
    ("T2", "2026-10-27T15:00:00Z", "chat", "bug", "high", "C2", "A", "a2", "2026-10-27T16:40:00Z",
     "2026-10-28T10:05:00Z", "2026-10-29T14:05:00Z", 1, 3, "true", "false", 1800.0, "solved"),
    ("T3", "2026-10-28T09:00:00Z", "email", "billing", "normal", "C3", "B", "a1", "2026-10-28T13:30:00Z",
     None, None, 0, 2, "false", "false", None, "open"),
    ("T4", "2026-10-31T22:30:00Z", "web", "bug", "normal", "C4", "B", None, None,
     None, None, 0, 0, "false", "true", None, "new"),
    ("T5", "2026-11-02T09:00:00Z", "email", "billing", "high", "C1", "A", "a1", "2026-11-02T09:30:00Z",
     "2026-11-02T09:40:00Z", "2026-11-02T09:40:00Z", 0, 1, "false", "false", 300.0, "solved"),
    ("T6", "2026-10-31T23:30:00Z", "chat", "howto", "normal", "C5", "A", "a2", "2026-11-02T09:00:00Z",
     "2026-11-02T09:05:00Z", "2026-11-02T09:05:00Z", 0, 1, "false", "true", 900.0, "solved"),
    ("T7", "2026-11-03T11:00:00Z", "chat", "howto", "normal", "C5", "B", None, None,
     None, None, 0, 0, None, "false", None, "new"),
    ("T8", "2026-10-29T10:00:00Z", "phone", "howto", "minor", "C6", "B", "a1", "2026-10-29T10:20:00Z",
     "2026-10-29T10:30:00Z", "2026-10-29T10:30:00Z", 0, 1, "false", "false", 300.0, "solved"),
]
_T_COLS = ["ticket_id", "created_at", "channel", "category", "priority", "customer_id", "team", "agent_id",
           "first_response_at", "first_resolved_at", "resolved_at", "reopen_count", "agent_replies",
           "escalated", "is_complaint", "handle_s", "status"]

_E = [
    # ticket, at, kind, author, status
    ("T1", "2026-10-26T08:00:00Z", "customer_message", "C1", None),
    ("T1", "2026-10-26T08:01:00Z", "bot_message", "bot", None),
    ("T1", "2026-10-26T08:30:00Z", "internal_note", "a1", None),
    ("T1", "2026-10-26T09:00:00Z", "agent_reply", "a1", None),
    ("T1", "2026-10-26T10:00:00Z", "status_change", "a1", "solved"),
    ("T2", "2026-10-27T15:00:00Z", "customer_message", "C2", None),
    ("T2", "2026-10-27T15:05:00Z", "bot_message", "bot", None),
    ("T2", "2026-10-27T15:10:00Z", "internal_note", "a2", None),
    ("T2", "2026-10-27T16:40:00Z", "agent_reply", "a2", None),
    ("T2", "2026-10-28T08:00:00Z", "customer_message", "C2", None),
    ("T2", "2026-10-28T10:00:00Z", "agent_reply", "a2", None),
    ("T2", "2026-10-28T10:05:00Z", "status_change", "a2", "solved"),
    ("T2", "2026-10-29T09:00:00Z", "customer_message", "C2", None),
    ("T2", "2026-10-29T09:00:00Z", "status_change", "C2", "open"),
    ("T2", "2026-10-29T14:00:00Z", "agent_reply", "a2", None),
    ("T2", "2026-10-29T14:05:00Z", "status_change", "a2", "solved"),
    ("T3", "2026-10-28T09:00:00Z", "agent_reply", "a1", None),
    ("T3", "2026-10-28T09:00:00Z", "status_change", "a1", "open"),
    ("T3", "2026-10-28T12:00:00Z", "customer_message", "C3", None),
    ("T3", "2026-10-28T13:30:00Z", "agent_reply", "a1", None),
    ("T3", "2026-10-29T10:00:00Z", "status_change", "a1", "on_hold"),
    ("T3", "2026-10-30T10:00:00Z", "status_change", "a1", "open"),
    ("T4", "2026-10-31T22:30:00Z", "customer_message", "C4", None),
    ("T4", "2026-10-31T22:31:00Z", "bot_message", "bot", None),
    ("T5", "2026-11-02T09:00:00Z", "customer_message", "C1", None),
    ("T5", "2026-11-02T09:30:00Z", "agent_reply", "a1", None),
    ("T5", "2026-11-02T09:40:00Z", "status_change", "a1", "solved"),
    ("T6", "2026-10-31T23:30:00Z", "customer_message", "C5", None),
    ("T6", "2026-11-02T09:00:00Z", "agent_reply", "a2", None),
    ("T6", "2026-11-02T09:05:00Z", "status_change", "a2", "solved"),
    ("T7", "2026-11-03T11:00:00Z", "customer_message", "C5", None),
    ("T8", "2026-10-29T10:00:00Z", "customer_message", "C6", None),
    ("T8", "2026-10-29T10:20:00Z", "agent_reply", "a1", None),
    ("T8", "2026-10-29T10:30:00Z", "status_change", "a1", "solved"),
]

_S = [
    # id, survey, score, submitted, ticket, agent, channel, scale
    ("S1", "csat", 5, "2026-10-26T12:00:00Z", "T1", "a1", "email", None),
    ("S2", "csat", 3, "2026-10-29T15:00:00Z", "T2", "a2", "chat", None),
    ("S3", "csat", 4, "2026-11-02T10:00:00Z", "T5", "a1", "email", None),
    ("S4", "csat", 2, "2026-11-02T10:00:00Z", "T6", "a2", "chat", None),
    ("S5", "csat", 4, "2026-11-02T11:00:00Z", None, None, "email", "1-7"),
    ("N1", "nps", 10, "2026-10-05T10:00:00Z", None, None, "email", None),
    ("N2", "nps", 9, "2026-10-06T10:00:00Z", None, None, "email", None),
    ("N3", "nps", 8, "2026-10-07T10:00:00Z", None, None, "chat", None),
    ("N4", "nps", 3, "2026-10-08T10:00:00Z", None, None, "chat", None),
    ("N5", "nps", 6, "2026-10-09T10:00:00Z", None, None, "chat", None),
    ("N6", "nps", 10, "2026-11-01T10:00:00Z", None, None, "email", None),
    ("N7", "nps", 9, "2026-11-02T10:00:00Z", None, None, "email", None),
    ("N8", "nps", 7, "2026-11-02T10:00:00Z", None, None, "chat", None),
    ("E1", "ces", 2, "2026-10-10T10:00:00Z", None, None, "email", None),
    ("E2", "ces", 5, "2026-10-11T10:00:00Z", None, None, "email", None),
    ("E3", "ces", 1, "2026-11-01T10:00:00Z", None, None, "email", None),
    ("E4", "ces", 3, "2026-11-02T10:00:00Z", None, None, "chat", None),
    ("E5", "ces", 7, "2026-11-02T11:00:00Z", None, None, "chat", None),
    ("M1", "esat", 5, "2026-10-15T10:00:00Z", None, "a1", None, None),
    ("M2", "esat", 4, "2026-10-15T10:00:00Z", None, "a2", None, None),
    ("M3", "esat", 2, "2026-10-15T10:00:00Z", None, "a3", None, None),
    ("Q1", "qa", 0.8, "2026-10-20T10:00:00Z", "T1", "a1", None, None),
    ("Q2", "qa", 0.9, "2026-10-21T10:00:00Z", "T2", "a2", None, None),
    ("Q3", "qa", 1.0, "2026-11-02T12:00:00Z", "T5", "a1", None, None),
]

_SENDS = [
    ("csat", "2026-10-26T11:00:00Z", "T1"),
    ("csat", "2026-10-29T14:30:00Z", "T2"),
    ("csat", "2026-10-30T10:00:00Z", "T3"),
    ("csat", "2026-11-02T09:45:00Z", "T5"),
    ("csat", "2026-11-02T09:10:00Z", "T6"),
    ("csat", "2026-11-03T11:30:00Z", "T7"),
]

_USERS = [("u1", "2026-10-01"), ("u1", "2026-10-02"), ("u2", "2026-10-03"), ("u3", "2026-10-04"),
          ("u4", "2026-10-31"), ("u1", "2026-11-01"), ("u2", "2026-11-02")]


def helpdesk_frames() -> dict[str, pd.DataFrame]:
    """The raw input tables (strings, as an export would deliver them)."""
    tickets = pd.DataFrame(_T, columns=_T_COLS)
    events = pd.DataFrame(_E, columns=["ticket_id", "at", "kind", "author_id", "status"])
    surveys = pd.DataFrame(_S, columns=["response_id", "survey", "score", "submitted_at", "ticket_id",
                                        "agent_id", "channel", "scale"])
    sends = pd.DataFrame(_SENDS, columns=["survey", "sent_at", "ticket_id"])
    users = pd.DataFrame(_USERS, columns=["user_id", "date"])
    return {"tickets": tickets, "ticket_events": events, "surveys": surveys, "survey_sends": sends,
            "user_activity": users}


def helpdesk_dataset(*, drop: tuple[str, ...] = (), settings: dict | None = None, **replace) -> Dataset:
    """The fixture as a :class:`kpitools.io.Dataset`.

    Parameters
    ----------
    drop : tables to leave out (e.g. ``("ticket_events",)`` for the tickets-only path)
    settings : dict merged over :data:`HELPDESK_SETTINGS`
    **replace : tables replacing the fixture's (name=DataFrame)
    """
    frames = helpdesk_frames()
    frames.update(replace)
    frames = {k: v for k, v in frames.items() if k not in drop}
    s = dict(HELPDESK_SETTINGS)
    s.update(settings or {})
    return Dataset.from_frames(frames, settings=s)


_T9 = ("T9", "2026-10-30T10:00:00Z", "email", "billing", "normal", None, "A", "a1", "2026-10-30T10:30:00Z",
       "2026-10-30T11:00:00Z", "2026-10-30T11:00:00Z", 0, 1, "false", "false", 300.0, "solved")
_E9 = [
    ("T9", "2026-10-30T10:00:00Z", "customer_message", None, None),
    ("T9", "2026-10-30T10:30:00Z", "agent_reply", "a1", None),
    ("T9", "2026-10-30T11:00:00Z", "status_change", "a1", "solved"),
]
_C = [
    # id, channel, queued, abandoned, customer, answered, ended, talk_s, agent, ticket, resolved
    ("K4", "chat", "2026-10-25T15:00:00Z", "false", "C2", "2026-10-25T15:00:30Z", "2026-10-25T15:10:00Z", 540.0,
     "a2", None, "true"),
    ("K1", "phone", "2026-10-27T10:00:00Z", "false", "C1", "2026-10-27T10:00:20Z", "2026-10-27T10:05:00Z", 280.0,
     "a1", None, "true"),
    ("K2", "phone", "2026-10-29T09:55:00Z", "false", "C6", "2026-10-29T09:56:00Z", "2026-10-29T10:01:00Z", 300.0,
     "a1", "T8", "true"),
    ("K3", "chat", "2026-10-30T12:00:00Z", "false", None, "2026-10-30T12:00:10Z", "2026-10-30T12:04:00Z", 230.0,
     "a2", None, "true"),
]
_C_COLS = ["contact_id", "channel", "queued_at", "abandoned", "customer_id", "answered_at", "ended_at", "talk_s",
           "agent_id", "ticket_id", "resolved"]


def cross_channel_frames() -> dict[str, pd.DataFrame]:
    """:func:`helpdesk_frames` plus ticket T9 (no customer) and the contacts K1-K4."""
    frames = helpdesk_frames()
    frames["tickets"] = pd.concat([frames["tickets"], pd.DataFrame([_T9], columns=_T_COLS)], ignore_index=True)
    frames["ticket_events"] = pd.concat([frames["ticket_events"],
                                         pd.DataFrame(_E9, columns=frames["ticket_events"].columns)],
                                        ignore_index=True)
    frames["contacts"] = pd.DataFrame(_C, columns=_C_COLS)
    return frames


def cross_channel_dataset(*, settings: dict | None = None, **replace) -> Dataset:
    """The cross-channel fixture as a Dataset (``replace`` as in :func:`helpdesk_dataset`)."""
    frames = cross_channel_frames()
    frames.update(replace)
    s = dict(HELPDESK_SETTINGS)
    s.update(settings or {})
    return Dataset.from_frames(frames, settings=s)
