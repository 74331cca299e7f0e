"""dataset.yml settings: defaults, overrides, and readable errors."""

import pandas as pd
import pytest

from kpitools.settings import Settings, SettingsError, parse_duration


def test_defaults():
    s = Settings()
    assert s.timezone == "UTC"
    assert s.sla("first_response", "urgent") == (3600.0, "business")
    assert s.weekly_hours["mon"] == [(9 * 3600, 17 * 3600)] and s.weekly_hours["sun"] == []
    assert s["repeat_window_days"] == 7
    assert s.min_n == 30 and Settings.from_dict({"min_n": 50}).min_n == 50


def test_override_merges_nested():
    s = Settings.from_dict({"sla": {"first_response": {"urgent": {"target": "30m", "clock": "calendar"}}},
                            "targets": {"csat": 0.85}})
    assert s.sla("first_response", "urgent") == (1800.0, "calendar")
    assert s.sla("first_response", "low") == (86400.0, "business")  # default kept
    assert s.target("csat") == 0.85 and s.target("nps") is None


@pytest.mark.parametrize(("text", "seconds"), [("90m", 5400), ("8h", 28800), ("5d", 432000), (45, 45), ("1.5h", 5400)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("data", "match"), [
    ({"timezone": "Mars/Base"}, r"timezone 'Mars/Base' is not an IANA time zone"),
    ({"business_hours": {"weekly": {"mon": [["18:00", "08:00"]]}}}, r"weekly\.mon: interval ends before it starts"),
    ({"business_hours": {"weekly": {"mon": [["08:00", "12:00"], ["11:00", "13:00"]]}}}, r"weekly\.mon: intervals overlap"),
    ({"business_hours": {"weekly": {"mon": [["8am", "12:00"]]}}}, r"'8am' is not a time of day HH:MM"),
    ({"sla": {"resolution": {"low": {"target": "soon"}}}}, r"'soon' is not a duration"),
    ({"sla": {"resolution": {"low": {"target": "1d", "clock": "wall"}}}}, r"clock must be business or calendar"),
    ({"surveys": {"csat": {"min": 5, "max": 1}}}, r"surveys\.csat needs min < max"),
    ({"exported_at": "yesterday"}, r"exported_at 'yesterday' is not a timestamp"),
    ({"repeat_window_days": -1}, r"repeat_window_days must be a non-negative number"),
    ({"min_n": 0}, r"min_n must be a whole number of answers, at least 1 \(30 by default\), got 0"),
    ({"min_n": 2.5}, r"min_n must be a whole number of answers"),
])
def test_errors(data, match):
    with pytest.raises(SettingsError, match=match):
        Settings.from_dict(data)


def test_exported_at_naive_is_local():
    s = Settings.from_dict({"timezone": "Europe/Berlin", "exported_at": "2026-11-02 08:00"})
    # 08:00 CET (UTC+1) = 07:00 UTC
    assert s.exported_at == pd.Timestamp("2026-11-02 07:00", tz="UTC")


def test_undeclared_survey_scale_is_an_error():
    with pytest.raises(SettingsError, match=r"survey 'pulse' has no declared scale"):
        Settings().survey("pulse")


def test_yaml_roundtrip(tmp_path):
    p = tmp_path / "dataset.yml"
    p.write_text(Settings.from_dict({"timezone": "Europe/Berlin"}).to_yaml())
    assert Settings.from_yaml(p).timezone == "Europe/Berlin"
    p.write_text("timezone: [unclosed\n")
    with pytest.raises(SettingsError, match=r"not valid YAML"):
        Settings.from_yaml(p)


# --------------------------------------------------------------------------------------------
# keys for real exports: checked against the data contract when the settings are read
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "match"), [
    ({"mapping": {"tickets": {"Group": "teem"}}},
     r"mapping\.tickets: 'Group' -> 'teem': 'teem' is not a column of table 'tickets' \(closest: team"),
    ({"mapping": {"ticket": {"Id": "ticket_id"}}},
     r"mapping\.ticket: 'ticket' is not a table of the data contract \(closest: tickets"),
    ({"mapping": {"tickets": {"Id": "ticket_id", "Number": "ticket_id"}}},
     r"'Id' and 'Number' both map onto 'ticket_id'"),
    ({"mapping": {"tickets": ["ticket_id"]}}, r"mapping\.tickets must be a mapping"),
    ({"durations": {"tickets": {"FRT": {"start": "created_at", "end": "first_response_at", "unit": "days"}}}},
     r"durations\.tickets\.'FRT'\.unit 'days' is not one of seconds, minutes, hours"),
    ({"durations": {"tickets": {"FRT": {"start": "created", "end": "first_response_at"}}}},
     r"durations\.tickets\.'FRT'\.start: 'created' is not a column of table 'tickets' \(closest: created_at"),
    ({"durations": {"tickets": {"FRT": {"start": "created_at", "end": "handle_s"}}}},
     r"'handle_s' is a float column; durations needs a timestamp column"),
    ({"durations": {"tickets": {"FRT": {"start": "created_at"}}}}, r"durations\.tickets\.'FRT' needs start, end"),
    ({"mapping": {"tickets": {"First reply": "first_response_at"}},
      "durations": {"tickets": {"FRT": {"start": "created_at", "end": "first_response_at", "unit": "minutes"}}}},
     r"'first_response_at' is also a target of mapping\.tickets"),
    ({"values": {"tickets": {"prio": {"P1": "urgent"}}}},
     r"values\.tickets\.prio: 'prio' is not a column of table 'tickets' \(closest: priority"),
    ({"values": {"tickets": {"priority": ["urgent"]}}}, r"values\.tickets\.priority must map export values"),
    ({"defaults": {"tickets": {"categroy": "general"}}},
     r"defaults\.tickets\.categroy: 'categroy' is not a column of table 'tickets' \(closest: category"),
    ({"defaults": {"tickets": {"category": ["a", "b"]}}}, r"defaults\.tickets\.category must be one value"),
    ({"ratings": {"contacts": {"Rating": {"survey": "csat", "scores": {"Good": 5}}}}},
     r"ratings\.contacts: ratings are read from ticket columns only"),
    ({"ratings": {"tickets": {"Rating": {"survey": "cast", "scores": {"Good": 5}}}}},
     r"ratings\.tickets\.'Rating'\.survey 'cast' is not one of csat, nps"),
    ({"ratings": {"tickets": {"Rating": {"survey": "csat"}}}}, r"ratings\.tickets\.'Rating' needs survey and scores"),
    ({"ratings": {"tickets": {"Rating": {"survey": "csat", "scores": {"Good": "five"}}}}},
     r"ratings\.tickets\.'Rating'\.scores\.Good must be a number on the csat scale"),
    ({"ratings": {"tickets": {"Rating": {"survey": "csat", "scores": {"Good": 5}, "offered": "Offered"}}}},
     r"ratings\.tickets\.'Rating'\.offered must be a list"),
    ({"ratings": {"tickets": {"Rating": {"survey": "csat", "scores": {"Good": 5}, "when": "resolved_at"}}}},
     r"unknown key\(s\) \['when'\]"),
    ({"ratings": {"tickets": {"A": {"survey": "csat", "scores": {"Good": 5}},
                              "B": {"survey": "CSAT", "scores": {"Good": 5}}}}},
     r"survey 'csat' also comes from column 'A'; one rating column per survey"),
    ({"csv": {"seperator": ";"}}, r"csv\.seperator: 'seperator' is neither a csv option .* nor a table name \(closest: sep"),
    ({"csv": {"tickets": {"delimiter": ";"}}}, r"csv\.tickets: unknown option\(s\) \['delimiter'\]"),
    ({"csv": {"tickets": {"encoding": "latin-9x"}}}, r"csv\.tickets\.encoding 'latin-9x' is not a known text encoding"),
    ({"csv": {"sep": ""}}, r"csv\.sep must be a non-empty text"),
    ({"sla": {"resolution": {"High": {"target": "1d"}, "high": {"target": "2d"}}}},
     r"sla\.resolution: keys 'High' and 'high' are the same key"),
    ({"sla": {"default_priority": 3}}, r"sla\.default_priority must be a priority name"),
    ({"surveys": {"nps": {"min": 0, "max": 10, "step": 0}}}, r"surveys\.nps\.step must be a positive number"),
    ({"max_excluded_share": 5}, r"max_excluded_share must be a share between 0 and 1"),
    ({"preset": "zendeks"}, r"preset 'zendeks' is not known; known presets:"),
])
def test_export_key_errors(data, match):
    with pytest.raises(SettingsError, match=match):
        Settings.from_dict(data)


def test_keys_match_case_insensitively():
    s = Settings.from_dict({"sla": {"resolution": {"High": {"target": "2d", "clock": "calendar"}}},
                            "targets": {"CSAT": 0.8}, "surveys": {"NPS": {"min": 0, "max": 10}}})
    # the user's 'High' replaced the default 'high' (3d) instead of sitting beside it
    assert s.sla("resolution", "high") == (172800.0, "calendar")
    assert s.sla("resolution", " HIGH ") == (172800.0, "calendar")
    assert s.target("csat") == 0.8 and s.target("CSAT") == 0.8
    assert s.survey("Nps")["max"] == 10 and s.survey("nps")["step"] == 1  # default step kept


def test_default_priority_for_blank_priorities():
    s = Settings.from_dict({"sla": {"default_priority": "Normal"}})
    normal = s.sla("first_response", "normal")
    assert normal == (28800.0, "business")  # default 8h business
    for blank in (None, float("nan"), "", " ", "(missing)"):
        assert s.sla("first_response", blank) == normal
    assert s.sla("first_response", "vip") is None          # a priority without a target stays without
    assert Settings().sla("first_response", None) is None  # no default_priority: "no target"
    assert s.sla_targets == ["first_response", "next_reply", "resolution"]


def test_csv_options_per_table_over_folder_wide():
    s = Settings.from_dict({"csv": {"encoding": "latin-1", "datetime_format": "%d.%m.%Y %H:%M",
                                    "tickets": {"sep": ";", "encoding": "cp1252"},
                                    "agents": {"datetime_format": "%m/%d/%Y"}}})
    assert s.csv("tickets") == {"sep": ";", "encoding": "cp1252", "datetime_format": "%d.%m.%Y %H:%M",
                                "encoding_explicit": True}
    assert s.csv("agents") == {"sep": ",", "encoding": "latin-1", "datetime_format": "%m/%d/%Y",
                               "encoding_explicit": False}
    assert s.csv("contacts")["encoding_explicit"] is False


@pytest.fixture
def demo_preset(monkeypatch):
    from kpitools import presets

    monkeypatch.setitem(presets.PRESETS, "demo", {
        "mapping": {"tickets": {"Id": "ticket_id", "Solved": "first_resolved_at", "Group": "team"}},
        "values": {"tickets": {"priority": {"P1": "urgent", "P2": "high"}}},
        "csv": {"tickets": {"sep": ";"}},
    })
    return "demo"


def test_preset_is_merged_under_the_users_keys(demo_preset):
    s = Settings.from_dict({"preset": "Demo", "mapping": {"tickets": {"Solved at": "resolved_at",
                                                                      "Team name": "team"}},
                            "values": {"tickets": {"priority": {"P2": "normal"}}}})
    # the user's 'Team name' -> team replaces the preset's 'Group' -> team; other entries stay
    assert s.mapping("tickets") == {"Id": "ticket_id", "Solved": "first_resolved_at", "Solved at": "resolved_at",
                                    "Team name": "team"}
    assert s.values("tickets") == {"priority": {"P1": "urgent", "P2": "normal"}}
    assert s.csv("tickets")["sep"] == ";"
    assert s.is_preset_only("mapping", "tickets", "Id") and not s.is_preset_only("mapping", "tickets", "Solved at")


def test_unknown_preset_lists_the_known_ones(demo_preset):
    with pytest.raises(SettingsError, match=r"preset 'nope' is not known; known presets: .*demo"):
        Settings.from_dict({"preset": "nope"})


def test_preset_with_a_key_presets_may_not_set(monkeypatch):
    from kpitools import presets

    monkeypatch.setitem(presets.PRESETS, "bad", {"timezone": "UTC"})
    with pytest.raises(SettingsError, match=r"preset 'bad' sets \['timezone'\]; a preset may set only"):
        Settings.from_dict({"preset": "bad"})


def test_presets_module_contract():
    from kpitools import presets

    assert isinstance(presets.PRESETS, dict)
    for name in presets.PRESETS:  # every shipped preset is valid settings on its own
        assert Settings.from_dict({"preset": name}).raw["preset"] == name


def test_real_exports_page_documents_every_key():
    from conftest import ROOT

    text = (ROOT / "docs" / "real-exports.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    for key in ("mapping", "durations", "values", "defaults", "csv", "ratings", "preset",
                "sla.default_priority", "max_excluded_share"):
        assert any(f"`{key}`" in h for h in headings), key
    assert "## Presets" in headings


def test_yaml_yes_no_stay_text(tmp_path):
    # YAML 1.1 reads Yes/No/On/Off as booleans; export values must stay the text they are
    p = tmp_path / "dataset.yml"
    p.write_text("values:\n  contacts:\n    abandoned: {Yes: true, No: false, Off: FALSE}\n"
                 "surveys:\n  csat: {min: 1, max: 5, higher_is_better: True}\n")
    s = Settings.from_yaml(p)
    assert s.values("contacts") == {"abandoned": {"Yes": True, "No": False, "Off": False}}
    assert s.survey("csat")["higher_is_better"] is True
