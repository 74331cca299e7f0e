"""The data contract: every table kpitools reads, its columns, dtypes and meaning.

This module is the single source of truth. ``docs/data-contract.md`` is rendered from it
(``kpitools docs``) and a test keeps the two identical.

Column dtypes (logical names, converted by :func:`kpitools.io.load_dataset`):

========== ======================================================================
dtype      pandas dtype after loading
========== ======================================================================
string     ``str`` (pandas string dtype); ids are always strings
timestamp  ``datetime64[ns, UTC]``; naive input is read in the dataset timezone
date       ``datetime64[ns]`` at midnight, a calendar day in the business timezone
month      ``period[M]``; input ``2026-10`` or any date inside the month
float      ``float64``
int        ``Int64`` (nullable integer)
bool       ``boolean`` (nullable); accepts true/false, yes/no, 1/0, t/f, y/n
========== ======================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Column",
    "Table",
    "TABLES",
    "EVENT_KINDS",
    "SURVEY_KINDS",
    "DTYPES",
    "REASONS",
    "MISSING",
    "SEGMENT_COLUMNS",
    "render_markdown",
]

DTYPES = ("string", "timestamp", "date", "month", "float", "int", "bool")

EVENT_KINDS = ("customer_message", "agent_reply", "internal_note", "bot_message", "status_change")
SURVEY_KINDS = ("csat", "nps", "ces", "esat", "qa")
TICKET_STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")

#: Reason codes written to ``Dataset.quality`` for rows that are excluded or repaired.
REASONS = {
    "unparseable": "value cannot be converted to the column's dtype",
    "missing_required": "a required value is empty",
    "duplicate_id": "the id occurs more than once; the first occurrence is kept",
    "out_of_scale": "survey score outside the declared scale of that survey",
    "unknown_value": "value not among the allowed values of the column",
    "resolved_before_created": "a resolution or response timestamp lies before creation",
    "unknown_ticket": "the row refers to a ticket_id not present in tickets",
    "negative_duration": "a duration or time difference is negative",
    "negative_value": "a count or amount that must be >= 0 is negative",
    "parent_excluded": "the row belongs to a ticket that was itself excluded",
    "not_on_scale_step": "survey score inside the scale but not one of its points (6.5 on a 0-10 scale of "
                         "whole points; `step` of the survey in dataset.yml)",
    "no_start": "a duration is given but the timestamp it is counted from is empty",
    "default_used": "note: the export has no such column; the `defaults:` value of dataset.yml is used",
    "derived_column": "note: the export has no such column; it is taken equal to another one "
                      "(first_resolved_at and resolved_at)",
    "blank_segment": "note: blank values of a segment column are kept as the level `(missing)`",
}

#: The level of a blank segment value (equal to ``kpitools.kpis._core.MISSING``).
MISSING = "(missing)"
#: Required ticket columns whose blank values are kept as the level :data:`MISSING`.
SEGMENT_COLUMNS = {"tickets": ("channel", "category", "priority")}


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    dtype: str
    required: bool
    description: str
    allowed: tuple[str, ...] | None = None
    nonnegative: bool = False
    categorical: bool = False

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"column {self.name!r}: dtype {self.dtype!r} not in {DTYPES}")


@dataclass(frozen=True)
class Table:
    """One contract table: its name, key, and columns."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: str | None = None
    group: str = "helpdesk"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def optional(self) -> list[str]:
        return [c.name for c in self.columns if not c.required]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def _c(name, dtype, required, description, **kw) -> Column:
    return Column(name, dtype, required, description, **kw)


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "tickets",
            "One row per helpdesk ticket (email, web form, chat transcript, social, phone ticket).",
            key="ticket_id",
            columns=(
                _c("ticket_id", "string", True, "Unique ticket id."),
                _c("created_at", "timestamp", True, "When the customer opened the ticket."),
                _c("channel", "string", True, "Channel of the first contact: email, web, chat, phone, social.", categorical=True),
                _c("category", "string", True, "Topic of the request (billing, bug, how-to, ...)."),
                _c("priority", "string", True, "Priority used for SLA targets: low, normal, high, urgent.", categorical=True),
                _c("customer_id", "string", False, "Requesting customer (account); needed for repeat contacts and per-customer KPIs."),
                _c("status", "string", False, "Status at export time.", allowed=TICKET_STATUSES, categorical=True),
                _c("team", "string", False, "Team owning the ticket."),
                _c("agent_id", "string", False, "Agent assigned at export time."),
                _c("product", "string", False, "Product or feature the ticket is about."),
                _c("first_response_at", "timestamp", False, "First public reply by a human agent (empty: not yet answered). Derived from ticket_events when those exist."),
                _c("first_resolved_at", "timestamp", False, "First time the ticket was set to solved (empty: never resolved)."),
                _c("resolved_at", "timestamp", False, "Final resolution, after any reopens (empty: open at export)."),
                _c("escalated", "bool", False, "Escalated to tier 2, another team or a supervisor."),
                _c("reopen_count", "int", False, "How often the ticket went from solved back to open.", nonnegative=True),
                _c("agent_replies", "int", False, "Public replies by human agents.", nonnegative=True),
                _c("is_complaint", "bool", False, "Flagged as a complaint."),
                _c("handle_s", "float", False, "Agent handle time recorded on the ticket, seconds.", nonnegative=True),
            ),
        ),
        Table(
            "ticket_events",
            "Messages and status changes on tickets, one row per event (the ticket's audit trail). "
            "Loaded with its text columns as pandas Categoricals of str (about 7 events per ticket: "
            "codes per row, each distinct value once).",
            columns=(
                _c("ticket_id", "string", True, "Ticket the event belongs to (must exist in tickets)."),
                _c("at", "timestamp", True, "When the event happened."),
                _c("kind", "string", True, "What happened.", allowed=EVENT_KINDS, categorical=True),
                _c("author_id", "string", False, "Agent, customer or bot id that caused the event."),
                _c("status", "string", False, "New status of a status_change event.", allowed=TICKET_STATUSES,
                   categorical=True),
            ),
        ),
        Table(
            "contacts",
            "Calls and chats from the contact centre queue, one row per queued contact.",
            key="contact_id",
            group="contact centre",
            columns=(
                _c("contact_id", "string", True, "Unique contact id."),
                _c("channel", "string", True, "phone or chat.", categorical=True),
                _c("queued_at", "timestamp", True, "When the contact entered the queue."),
                _c("abandoned", "bool", True, "The customer left before an agent answered."),
                _c("customer_id", "string", False, "Calling customer, for repeat contacts."),
                _c("answered_at", "timestamp", False, "When an agent answered (empty if abandoned)."),
                _c("ended_at", "timestamp", False, "When the contact ended (answered) or was abandoned."),
                _c("talk_s", "float", False, "Talk time, seconds.", nonnegative=True),
                _c("hold_s", "float", False, "Hold time, seconds.", nonnegative=True),
                _c("acw_s", "float", False, "After-contact work (wrap-up), seconds.", nonnegative=True),
                _c("agent_id", "string", False, "Agent who handled the contact."),
                _c("ticket_id", "string", False, "Ticket created or linked for this contact."),
                _c("resolved", "bool", False, "Resolved during the contact (agent disposition)."),
            ),
        ),
        Table(
            "staffing",
            "Workforce plan of the contact centre: agents staffed on a queue per interval (e.g. 30 min).",
            group="contact centre",
            columns=(
                _c("interval_start", "timestamp", True, "Start of the interval."),
                _c("channel", "string", True, "Queue: phone or chat.", categorical=True),
                _c("staffed_agents", "float", True, "Agents logged in on that queue during the interval.", nonnegative=True),
                _c("forecast_contacts", "float", False, "Contacts forecast for the interval.", nonnegative=True),
                _c("required_agents", "float", False, "Agents the plan said were required.", nonnegative=True),
            ),
        ),
        Table(
            "surveys",
            "Survey answers: CSAT, NPS, customer effort (CES), employee satisfaction (ESAT), QA reviews.",
            key="response_id",
            group="surveys",
            columns=(
                _c("response_id", "string", True, "Unique answer id."),
                _c("survey", "string", True, "Which survey.", allowed=SURVEY_KINDS, categorical=True),
                _c("score", "float", True, "The answer, on the survey's declared scale (dataset.yml surveys)."),
                _c("submitted_at", "timestamp", True, "When the answer was submitted."),
                _c("ticket_id", "string", False, "Ticket the survey was about."),
                _c("customer_id", "string", False, "Answering customer."),
                _c("agent_id", "string", False, "Agent rated (CSAT, QA) or answering (ESAT)."),
                _c("channel", "string", False, "Channel of the rated interaction.", categorical=True),
                _c("scale", "string", False, "Per-row scale override like '1-7'; normally the dataset setting applies."),
                _c("comment_category", "string", False, "Coded topic of the free-text comment (what the answer was about)."),
            ),
        ),
        Table(
            "survey_sends",
            "Surveys sent (invitations), the denominator of response rates.",
            group="surveys",
            columns=(
                _c("survey", "string", True, "Which survey.", allowed=SURVEY_KINDS, categorical=True),
                _c("sent_at", "timestamp", True, "When the invitation was sent."),
                _c("ticket_id", "string", False, "Ticket the invitation was about."),
                _c("customer_id", "string", False, "Invited customer."),
            ),
        ),
        Table(
            "launches",
            "Product launch calendar.",
            key="launch_id",
            group="business",
            columns=(
                _c("launch_id", "string", True, "Unique launch id."),
                _c("launched_at", "timestamp", True, "When the launch went live."),
                _c("name", "string", True, "Launch name."),
                _c("product", "string", False, "Product launched."),
            ),
        ),
        Table(
            "subscriptions",
            "Recurring revenue per customer and month (one row per active customer-month).",
            group="business",
            columns=(
                _c("customer_id", "string", True, "Customer."),
                _c("month", "month", True, "Month of the subscription (YYYY-MM)."),
                _c("mrr", "float", True, "Monthly recurring revenue in the dataset currency.", nonnegative=True),
                _c("plan", "string", False, "Plan name."),
            ),
        ),
        Table(
            "costs",
            "Support costs per month and category (salaries, tools, outsourcing, training, ...).",
            group="business",
            columns=(
                _c("month", "month", True, "Month (YYYY-MM)."),
                _c("category", "string", True, "Cost category; 'training' counts as training spend."),
                _c("amount", "float", True, "Amount in the dataset currency.", nonnegative=True),
                _c("currency", "string", False, "Currency code if it differs per row (must equal the dataset currency)."),
            ),
        ),
        Table(
            "agents",
            "Support agents.",
            key="agent_id",
            group="team",
            columns=(
                _c("agent_id", "string", True, "Unique agent id."),
                _c("team", "string", False, "Team."),
                _c("hourly_cost", "float", False, "Fully loaded cost per staffed hour.", nonnegative=True),
                _c("hired_at", "timestamp", False, "Start date."),
                _c("left_at", "timestamp", False, "Leaving date (empty: still employed)."),
                _c("name", "string", False, "Display name."),
            ),
        ),
        Table(
            "agent_days",
            "Per agent and day: staffed (logged-in) time, handle time and training spend.",
            group="team",
            columns=(
                _c("agent_id", "string", True, "Agent."),
                _c("date", "date", True, "Calendar day in the business timezone."),
                _c("staffed_s", "float", True, "Logged-in time, seconds.", nonnegative=True),
                _c("handle_s", "float", False, "Time spent handling contacts and tickets, seconds.", nonnegative=True),
                _c("training_spend", "float", False, "Training spend booked that day, dataset currency.", nonnegative=True),
            ),
        ),
        Table(
            "web_days",
            "Daily web and self-service usage.",
            group="business",
            columns=(
                _c("date", "date", True, "Calendar day in the business timezone."),
                _c("visits", "int", True, "Website visits (sessions).", nonnegative=True),
                _c("conversions", "int", False, "Purchases or sign-ups counted as conversions.", nonnegative=True),
                _c("signups", "int", False, "New sign-ups.", nonnegative=True),
                _c("activations", "int", False, "Sign-ups of that day that reached the activation event.", nonnegative=True),
                _c("self_service_sessions", "int", False, "Help-centre and bot sessions.", nonnegative=True),
                _c("self_service_resolved", "int", False, "Self-service sessions not followed by a ticket within the window.", nonnegative=True),
            ),
        ),
        Table(
            "user_activity",
            "Distinct active users per day (one row per user and active day).",
            group="business",
            columns=(
                _c("user_id", "string", True, "User."),
                _c("date", "date", True, "Day the user was active, business timezone."),
            ),
        ),
        Table(
            "mentions",
            "Brand mentions on social media and review sites.",
            group="business",
            columns=(
                _c("mentioned_at", "timestamp", True, "When the mention was posted."),
                _c("source", "string", True, "Platform (twitter, reddit, reviews, ...)."),
                _c("needs_reply", "bool", False, "The mention needed a reply."),
                _c("replied_at", "timestamp", False, "When support replied."),
            ),
        ),
    ]
}


def render_markdown() -> str:
    """Render the data contract as Markdown (the text of ``docs/data-contract.md``)."""
    out = [
        "# kpitools data contract",
        "",
        "Generated from `kpitools/schema.py` by `kpitools docs`; do not edit by hand.",
        "",
        "A dataset is a folder of CSV (`.csv`, `.csv.gz`) or Parquet (`.parquet`) files named after the",
        "tables below, plus an optional `dataset.yml` with settings. Any subset of tables may be present:",
        "KPIs whose tables are absent are skipped, with the reason. Every optional column may be absent.",
        "A real helpdesk export needs no editing: `dataset.yml` maps its column names (`mapping:`), turns",
        "elapsed-time columns into timestamps (`durations:`), translates its values (`values:`), fills an",
        "absent required column (`defaults:`), turns a ticket rating column into survey answers",
        "(`ratings:`) and sets delimiter, encoding and date format per table (`csv:`); see",
        "[real-exports.md](real-exports.md).",
        "",
        "Timestamps are stored timezone-aware in UTC. Input with a zone (`2026-10-31T23:30:00+01:00`,",
        "`...Z`, `2026-10-31 23:30:00 UTC`, `GMT`, `+0100`) is converted; naive input (`2026-10-31 23:30`)",
        "is read in the dataset's business timezone (`timezone:` in `dataset.yml`, default UTC), in ISO 8601",
        "or in the `csv: datetime_format` of the table. Dates (`date` columns) are calendar days in that zone.",
        "",
        "Columns marked *categorical* match case-insensitively and trimmed: `Solved` is the allowed value",
        "`solved`, and `High` becomes `high` (turn this off with `ignore_case: false`). A blank `channel`,",
        "`category` or `priority` of a ticket is kept as the level `(missing)`, never a reason to exclude it.",
        "",
        "| dtype | after loading | accepted input |",
        "|---|---|---|",
        "| string | pandas `str` | anything; numbers become text |",
        "| timestamp | `datetime64[ns, UTC]` | ISO 8601 with or without zone, or `csv: datetime_format` |",
        "| date | `datetime64[ns]` (midnight) | `YYYY-MM-DD` |",
        "| month | `period[M]` | `YYYY-MM` or any date in the month |",
        "| float | `float64` | decimal number with `.` |",
        "| int | `Int64` | whole number |",
        "| bool | `boolean` | true/false, yes/no, 1/0, t/f, y/n |",
        "",
        "Rows that cannot be used are excluded and listed in `Dataset.quality` with one of these reasons;",
        "an invalid value of an optional column is set to missing and listed the same way (the row stays);",
        "notes (row 0) say where a whole column was filled or derived. Nothing is dropped silently:",
        "",
        "| reason | meaning |",
        "|---|---|",
    ]
    out += [f"| `{k}` | {v} |" for k, v in REASONS.items()]
    out.append("")
    for t in TABLES.values():
        out += [f"## `{t.name}`", "", t.description]
        if t.key:
            out.append(f"Key: `{t.key}` (unique).")
        out += ["", "| column | dtype | required | meaning |", "|---|---|---|---|"]
        for c in t.columns:
            desc = c.description
            if c.allowed:
                desc += " Allowed: " + ", ".join(f"`{a}`" for a in c.allowed) + "."
            if c.nonnegative:
                desc += " Must be >= 0."
            if c.categorical:
                desc += " Categorical."
            out.append(f"| `{c.name}` | {c.dtype} | {'yes' if c.required else 'no'} | {desc} |")
        out.append("")
    return "\n".join(out)
