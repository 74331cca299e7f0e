"""The kpitools command line: validate on the sample and on broken data."""

import json

import pandas as pd
from conftest import SAMPLE

from kpitools.cli import main


def test_validate_sample_lists_exactly_the_planted_dirty_rows(capsys, sample_ds):
    assert main(["validate", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "period covered: 2025-04-01 .. 2026-10-31" in out
    truth = json.loads((SAMPLE / "truth.json").read_text())["dirty_rows"]
    expected = sorted((d["table"], d["file"], d["row"], d["column"], d["reason"], str(d["value"])) for d in truth)
    q = sample_ds.quality
    got = sorted(q[["table", "file", "row", "column", "reason", "value"]].itertuples(index=False, name=None))
    assert got == expected
    assert f"quality: {len(truth)} row issue(s)" in out
    for d in truth:  # every planted row is printed with its file and row number
        assert f"{d['file']}" in out and str(d["row"]) in out


def test_validate_fatal_error_exits_nonzero(tmp_path, capsys):
    (tmp_path / "tickets.csv").write_text("ticket_id;created_at;channel;category;priority\n1;2026-01-01;a;b;c\n")
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "tickets.csv" in err and "semicolon-separated" in err


def test_validate_subset_of_tables(tmp_path, capsys):
    pd.DataFrame({"mentioned_at": ["2026-10-01T10:00:00Z"], "source": ["reddit"]}).to_csv(
        tmp_path / "mentions.csv", index=False)
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "absent tables (their KPIs are skipped): agent_days, agents" in out


def test_synth_command_writes_a_loadable_dataset(tmp_path, capsys):
    out = tmp_path / "small"
    assert main(["synth", "--tickets", "1500", "--seed", "3", "--out", str(out), "--format", "parquet"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert (out / "tickets.parquet").exists() and (out / "dataset.yml").exists()
    assert main(["validate", str(out)]) == 0
    report = capsys.readouterr().out
    truth = json.loads((out / "truth.json").read_text())
    # the validator finds exactly the dirty rows the generator planted (truth.json)
    assert f"quality: {len(truth['dirty_rows'])} row issue(s)" in report


def test_synth_parquet_writes_typed_timestamps(tmp_path, capsys):
    # reference: pyarrow's own reading of the file's schema
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "typed"
    assert main(["synth", "--tickets", "1500", "--seed", "5", "--out", str(out), "--format", "parquet"]) == 0
    schema = pq.read_schema(out / "tickets.parquet")
    assert schema.field("created_at").type == pa.timestamp("ns", tz="UTC")
    assert schema.field("reopen_count").type == pa.int64()
    assert pq.read_schema(out / "agent_days.parquet").field("date").type == pa.date32()


def test_report_command_rejects_a_month_without_data(tmp_path, capsys):
    # a month outside the sample's span is a clear error before any kernel starts (exit code 2)
    assert main(["report", "--month", "2024-01", "--data", str(SAMPLE), "--out", str(tmp_path)]) == 2
    assert "2024-01" in capsys.readouterr().err


EXPORT = ("Id,Created,Via,Priority,Group,Solved at,Tags\n"
          "1,2026-09-01T08:00:00Z,Email,High,Support,2026-09-01T10:00:00Z,a\n"
          "2,2026-09-01T09:00:00Z,web,,Support,,b\n"
          "3,,chat,low,Support,,c\n")
EXPORT_YML = ("mapping:\n  tickets: {Id: ticket_id, Created: created_at, Via: channel, Priority: priority,\n"
              "            Group: team, 'Solved at': resolved_at}\n"
              "defaults:\n  tickets: {category: general}\n")


def test_validate_lists_unmapped_columns_notes_and_the_excluded_share(tmp_path, capsys):
    (tmp_path / "tickets.csv").write_text(EXPORT)
    (tmp_path / "dataset.yml").write_text(EXPORT_YML)
    # 1 of 3 tickets has no created_at: 33.3 % excluded > the default max_excluded_share of 5 %
    assert main(["validate", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    assert "unmapped export columns" in out and "  tickets: Tags" in out
    assert "tickets.category: default_used" in out
    assert "tickets.first_resolved_at: derived_column" in out
    assert "tickets.priority: blank_segment: 1 blank priority value(s) kept as the level (missing)" in out
    assert "quality: 1 row issue(s)" in out
    assert "33.33" in out  # excluded_pct column of the tables summary
    assert ("error: table 'tickets': 1 of 3 rows excluded (33.3 %), above max_excluded_share 5 %; "
            "reasons: missing_required 1") in err


def test_validate_passes_below_max_excluded_share(tmp_path, capsys):
    (tmp_path / "tickets.csv").write_text(EXPORT)
    (tmp_path / "dataset.yml").write_text(EXPORT_YML + "max_excluded_share: 0.5\n")
    assert main(["validate", str(tmp_path)]) == 0
    assert "error" not in capsys.readouterr().err


def test_validate_reports_a_settings_error(tmp_path, capsys):
    (tmp_path / "tickets.csv").write_text(EXPORT)
    (tmp_path / "dataset.yml").write_text("mapping:\n  tickets: {Group: teem}\n")
    assert main(["validate", str(tmp_path)]) == 2
    assert "'teem' is not a column of table 'tickets' (closest: team)" in capsys.readouterr().err


def test_report_command_passes_seed(monkeypatch):
    # --seed reaches report_main (and from there the template parameter and kpi_table); absent: None,
    # the template's own default
    import kpitools.report

    seen = []
    monkeypatch.setattr(kpitools.report, "report_main", lambda **kw: seen.append(kw) or 0)
    assert main(["report", "--month", "2026-10", "--seed", "5"]) == 0
    assert main(["report", "--month", "2026-10"]) == 0
    assert [kw["seed"] for kw in seen] == [5, None]
    # progress on stderr unless --quiet
    assert main(["report", "--month", "2026-10", "--quiet"]) == 0
    assert [kw["progress"] for kw in seen] == [True, True, False]
