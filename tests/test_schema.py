"""The data contract: fixed public names, and the rendered page in sync with the code."""

from conftest import ROOT

from kpitools.schema import TABLES, render_markdown

# The public contract of issue 2 (table -> required columns); these names are fixed.
REQUIRED = {
    "tickets": ["ticket_id", "created_at", "channel", "category", "priority"],
    "ticket_events": ["ticket_id", "at", "kind"],
    "contacts": ["contact_id", "channel", "queued_at", "abandoned"],
    "surveys": ["response_id", "survey", "score", "submitted_at"],
    "survey_sends": ["survey", "sent_at"],
    "launches": ["launch_id", "launched_at", "name"],
    "subscriptions": ["customer_id", "month", "mrr"],
    "costs": ["month", "category", "amount"],
    "agents": ["agent_id"],
    "agent_days": ["agent_id", "date", "staffed_s"],
    "web_days": ["date", "visits"],
    "user_activity": ["user_id", "date"],
    "mentions": ["mentioned_at", "source"],
    "staffing": ["interval_start", "channel", "staffed_agents"],  # added: optional table (WFM plan)
}
OPTIONAL = {
    "tickets": ["customer_id", "status", "team", "agent_id", "product", "first_response_at", "first_resolved_at",
                "resolved_at", "escalated", "reopen_count", "agent_replies", "is_complaint"],
    "ticket_events": ["author_id", "status"],
    "contacts": ["customer_id", "answered_at", "ended_at", "talk_s", "hold_s", "acw_s", "agent_id", "ticket_id", "resolved"],
    "surveys": ["ticket_id", "customer_id", "agent_id", "channel", "scale"],
    "survey_sends": ["ticket_id", "customer_id"],
    "launches": ["product"],
    "subscriptions": ["plan"],
    "costs": ["currency"],
    "agents": ["team", "hourly_cost", "hired_at", "left_at"],
    "agent_days": ["handle_s", "training_spend"],
    "web_days": ["conversions", "signups", "activations", "self_service_sessions", "self_service_resolved"],
    "user_activity": [],
    "mentions": ["needs_reply", "replied_at"],
    "staffing": ["forecast_contacts", "required_agents"],
}


def test_contract_names_are_fixed():
    assert set(TABLES) == set(REQUIRED)
    for name, req in REQUIRED.items():
        assert TABLES[name].required == req, name
        assert set(OPTIONAL[name]) <= set(TABLES[name].optional), name


def test_event_kinds_and_surveys():
    assert TABLES["ticket_events"].column("kind").allowed == (
        "customer_message", "agent_reply", "internal_note", "bot_message", "status_change")
    assert TABLES["surveys"].column("survey").allowed == ("csat", "nps", "ces", "esat", "qa")


def test_rendered_contract_is_in_sync():
    # regenerate with `make docs` (kpitools docs) when the schema changes
    assert (ROOT / "docs" / "data-contract.md").read_text() == render_markdown() + "\n"


def test_missing_level_is_the_kpi_layers():
    from kpitools.kpis._core import MISSING as KPI_MISSING
    from kpitools.schema import MISSING, SEGMENT_COLUMNS

    assert MISSING == KPI_MISSING == "(missing)"
    # blank values of these required segment columns are kept, never a reason to exclude
    assert SEGMENT_COLUMNS == {"tickets": ("channel", "category", "priority")}


def test_categorical_columns_and_new_reasons():
    from kpitools.schema import REASONS

    cat = sorted((t.name, c.name) for t in TABLES.values() for c in t.columns if c.categorical)
    assert cat == [("contacts", "channel"), ("staffing", "channel"), ("survey_sends", "survey"),
                   ("surveys", "channel"), ("surveys", "survey"), ("ticket_events", "kind"),
                   ("ticket_events", "status"), ("tickets", "channel"), ("tickets", "priority"),
                   ("tickets", "status")]
    assert {"not_on_scale_step", "no_start", "default_used", "derived_column", "blank_segment"} <= set(REASONS)
