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
