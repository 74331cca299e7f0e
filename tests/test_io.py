"""Loading and validation: every unusable table raises a readable DataError; bad rows are logged."""

import numpy as np
import pandas as pd
import pytest

from kpitools.io import DataError, Dataset, load_dataset

TICKETS = """ticket_id,created_at,channel,category,priority,resolved_at
T1,2026-10-31 23:30:00,email,billing,normal,2026-11-01T10:00:00Z
T2,2026-10-01T08:00:00Z,chat,bug,high,
T3,2026-10-02T08:00:00Z,web,bug,low,2026-10-03T08:00:00Z
"""
EVENTS = """ticket_id,at,kind,author_id
T1,2026-10-31T22:31:00Z,customer_message,C1
T2,2026-10-01T08:05:00Z,agent_reply,A1
"""
YML = "timezone: Europe/Berlin\n"


def write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        p = folder / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def good(tmp_path):
    return write(tmp_path / "ds", {"tickets.csv": TICKETS, "ticket_events.csv": EVENTS, "dataset.yml": YML})


def test_good_dataset_types_and_timezone(good):
    ds = load_dataset(good)
    t = ds.tickets
    assert str(t["created_at"].dtype) == "datetime64[ns, UTC]"
    # naive 23:30 local in Europe/Berlin on 31 Oct 2026 (CET, UTC+1 after the 25 Oct switch) = 22:30 UTC
    assert t.loc[t.ticket_id == "T1", "created_at"].iloc[0] == pd.Timestamp("2026-10-31 22:30", tz="UTC")
    assert pd.isna(t.loc[t.ticket_id == "T2", "resolved_at"].iloc[0])
    # the only quality entry is the note that first_resolved_at was taken equal to resolved_at
    assert ds.quality[["column", "reason", "action"]].values.tolist() == [
        ["first_resolved_at", "derived_column", "note"]]
    assert ds.contacts is None and ds.has("tickets", "ticket_events") and not ds.has("contacts")
    # no exported_at: the cut-off is the latest timestamp in the data (T1 resolved 2026-11-01 10:00 UTC)
    assert ds.cutoff == pd.Timestamp("2026-11-01 10:00", tz="UTC")


def test_missing_required_column_names_file_column_and_fix(tmp_path):
    folder = write(tmp_path / "ds", {"tickets.csv": TICKETS.replace("priority", "Prio")})
    with pytest.raises(DataError, match=r"tickets\.csv.*missing required column\(s\) \['priority'\].*mapping") as e:
        load_dataset(folder)
    assert e.value.column == "priority"
    assert "Did you mean: 'Prio' -> priority" in str(e.value)


def test_empty_file(tmp_path):
    folder = write(tmp_path / "ds", {"tickets.csv": ""})
    with pytest.raises(DataError, match=r"tickets\.csv: the file is empty \(0 bytes\)"):
        load_dataset(folder)


def test_wrong_delimiter(tmp_path):
    folder = write(tmp_path / "ds", {"tickets.csv": TICKETS.replace(",", ";")})
    with pytest.raises(DataError, match=r"semicolon-separated.*csv: \{sep: ';'\}"):
        load_dataset(folder)


def test_declared_delimiter_is_used(tmp_path):
    folder = write(tmp_path / "ds", {"tickets.csv": TICKETS.replace(",", ";"),
                                     "dataset.yml": "csv: {sep: ';'}\n"})
    assert len(load_dataset(folder).tickets) == 3


def test_wrong_encoding(tmp_path):
    latin1 = TICKETS.replace("billing", "facturación").encode("latin-1")
    folder = write(tmp_path / "ds", {"tickets.csv": latin1})
    with pytest.raises(DataError, match=r"not utf-8 text.*encoding: latin-1"):
        load_dataset(folder)


def test_unparseable_column(tmp_path):
    bad = TICKETS.replace("2026-10-01T08:00:00Z", "01/10/2026").replace("2026-10-02T08:00:00Z", "02/10/2026")
    bad = bad.replace("2026-10-31 23:30:00", "31/10/2026")
    folder = write(tmp_path / "ds", {"tickets.csv": bad})
    with pytest.raises(DataError, match=r"column 'created_at'.*cannot be read as timestamp: 3 of 3.*row 1: '31/10/2026'.*ISO 8601") as e:
        load_dataset(folder)
    assert e.value.rows == [1, 2, 3]


def test_no_tables(tmp_path):
    folder = write(tmp_path / "ds", {"notes.txt": "hello"})
    with pytest.raises(DataError, match=r"no table files found.*notes\.txt"):
        load_dataset(folder)


def test_bad_rows_are_excluded_and_logged():
    tickets = pd.DataFrame({
        "ticket_id": ["T1", "T2", "T2", "T3", "T4", "T5"],
        "created_at": ["2026-10-01T08:00:00Z", "2026-10-01T09:00:00Z", "2026-10-01T09:00:00Z",
                       "2026-02-30 25:61", "2026-10-02T08:00:00Z", "2026-10-03T08:00:00Z"],
        "channel": "email", "category": "bug", "priority": "normal",
        "resolved_at": [None, None, None, None, "2026-10-01T08:00:00Z", None],
    })
    events = pd.DataFrame({"ticket_id": ["T1", "T9", "T3"], "at": "2026-10-01T10:00:00Z",
                           "kind": ["agent_reply", "agent_reply", "agent_reply"]})
    surveys = pd.DataFrame({"response_id": ["R1", "R2", "R3"], "survey": ["csat", "nps", "csat"],
                            "score": ["5", "11", "0"], "submitted_at": "2026-10-05T10:00:00Z"})
    contacts = pd.DataFrame({"contact_id": ["C1", "C2"], "channel": "phone",
                             "queued_at": "2026-10-01T08:00:00Z", "abandoned": ["no", "no"],
                             "talk_s": ["120", "-30"]})
    ds = Dataset.from_frames({"tickets": tickets, "ticket_events": events, "surveys": surveys,
                              "contacts": contacts})
    q = ds.quality[ds.quality.action != "note"]
    got = q[["table", "row", "column", "reason", "action"]].itertuples(index=False, name=None)
    # expected by hand: row numbers are 1-based data rows of each input
    assert sorted(got) == sorted([
        ("tickets", 3, "ticket_id", "duplicate_id", "excluded"),            # second T2
        ("tickets", 4, "created_at", "unparseable", "excluded"),            # 30 February, 25:61
        # an optional timestamp before creation loses just that value; the ticket stays
        ("tickets", 5, "resolved_at", "resolved_before_created", "set to missing"),
        ("ticket_events", 2, "ticket_id", "unknown_ticket", "excluded"),    # T9 does not exist
        ("ticket_events", 3, "ticket_id", "parent_excluded", "excluded"),   # T3 itself was excluded
        ("surveys", 2, "score", "out_of_scale", "excluded"),                # NPS 11 on 0-10
        ("surveys", 3, "score", "out_of_scale", "excluded"),                # CSAT 0 on 1-5
        ("contacts", 2, "talk_s", "negative_duration", "set to missing"),   # optional value: row stays
    ])
    assert list(ds.tickets.ticket_id) == ["T1", "T2", "T4", "T5"]
    assert pd.isna(ds.tickets.set_index("ticket_id").loc["T4", "resolved_at"])
    assert len(ds.ticket_events) == 1 and len(ds.surveys) == 1 and len(ds.contacts) == 2
    assert ds.contacts["talk_s"].tolist()[0] == 120 and pd.isna(ds.contacts["talk_s"].tolist()[1])
    # every input row is either kept or logged: nothing is dropped silently
    for name, n_in in {"tickets": 6, "ticket_events": 3, "surveys": 3, "contacts": 2}.items():
        excluded = ds.quality.loc[(ds.quality.table == name) & (ds.quality.action == "excluded"), "row"].nunique()
        assert len(ds.tables[name]) + excluded == n_in


def test_optional_unparseable_value_is_set_to_missing_and_logged():
    tickets = pd.DataFrame({"ticket_id": ["T1", "T2"], "created_at": "2026-10-01T08:00:00Z", "channel": "email",
                            "category": "bug", "priority": "normal", "escalated": ["maybe", "yes"]})
    ds = Dataset.from_frames({"tickets": tickets})
    assert len(ds.tickets) == 2 and pd.isna(ds.tickets.escalated.iloc[0])
    q = ds.quality.iloc[0]
    assert (q.column, q.value, q.reason, q.action) == ("escalated", "maybe", "unparseable", "set to missing")


def test_mapping_renames_export_columns(tmp_path):
    export = TICKETS.replace("ticket_id", "Ticket ID").replace("created_at", "Created")
    folder = write(tmp_path / "ds", {
        "tickets.csv": export,
        "dataset.yml": "timezone: UTC\nmapping:\n  tickets: {'Ticket ID': ticket_id, Created: created_at}\n"})
    ds = load_dataset(folder)
    assert list(ds.tickets.ticket_id) == ["T1", "T2", "T3"]


def test_parquet_and_subset(tmp_path):
    folder = tmp_path / "pq"
    folder.mkdir()
    t = pd.DataFrame({"ticket_id": [1, 2], "created_at": pd.to_datetime(["2026-10-01 08:00", "2026-10-02 09:00"], utc=True),
                      "channel": "email", "category": "bug", "priority": "low", "reopen_count": np.array([0, 2])})
    t.to_parquet(folder / "tickets.parquet")
    ds = load_dataset(folder)
    assert list(ds.tables) == ["tickets"]
    assert ds.tickets.ticket_id.tolist() == ["1", "2"]          # ids become strings
    assert ds.tickets.reopen_count.tolist() == [0, 2]


def test_unknown_table_name_in_frames():
    with pytest.raises(DataError, match=r"unknown table name\(s\) \['ticket'\]"):
        Dataset.from_frames({"ticket": pd.DataFrame()})


def test_dst_naive_timestamps():
    # Europe/Berlin: 2026-03-29 02:30 does not exist (clocks jump 02:00 -> 03:00): shifted forward to 03:00 CEST
    # 2026-10-25 02:30 occurs twice: read as the first (CEST, UTC+2) occurrence = 00:30 UTC
    t = pd.DataFrame({"ticket_id": ["a", "b"], "created_at": ["2026-03-29 02:30", "2026-10-25 02:30"],
                      "channel": "email", "category": "bug", "priority": "low"})
    ds = Dataset.from_frames({"tickets": t}, settings={"timezone": "Europe/Berlin"})
    assert ds.tickets.created_at.tolist() == [pd.Timestamp("2026-03-29 01:00", tz="UTC"),
                                              pd.Timestamp("2026-10-25 00:30", tz="UTC")]
