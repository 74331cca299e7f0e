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


# --------------------------------------------------------------------------------------------
# real exports (issue 10): mapping, durations, values, defaults, csv per table, zones, ratings
# --------------------------------------------------------------------------------------------
from kpitools.schema import MISSING, TABLES  # noqa: E402
from kpitools.settings import SettingsError  # noqa: E402

UTC = "UTC"


def ts(text):
    return pd.Timestamp(text, tz="UTC")


def tickets_frame(**cols):
    base = {"ticket_id": ["T1", "T2", "T3"], "created_at": ["2026-09-01T08:00:00Z"] * 3,
            "channel": "email", "category": "bug", "priority": "normal"}
    base.update(cols)
    return pd.DataFrame(base)


def test_mapping_typo_in_dataset_yml_names_the_closest_column(tmp_path):
    folder = write(tmp_path / "ds", {"tickets.csv": TICKETS.replace("category", "Group"),
                                     "dataset.yml": "mapping:\n  tickets: {Group: teem}\n"})
    with pytest.raises(SettingsError, match=r"'teem' is not a column of table 'tickets' \(closest: team\)"):
        load_dataset(folder)


def test_unmapped_export_columns_are_listed(tmp_path):
    export = TICKETS.replace("ticket_id", "Id").replace("resolved_at", "Solved at")
    export = export.replace("Solved at\n", "Solved at,Tags,Via\n").replace("Z\n", "Z,a,x\n")
    folder = write(tmp_path / "ds", {"tickets.csv": export, "dataset.yml":
                                     "mapping:\n  tickets: {Id: ticket_id, 'Solved at': resolved_at}\n"})
    ds = load_dataset(folder)
    assert ds.unmapped["tickets"] == ["Tags", "Via"]
    assert list(ds.tickets.ticket_id) == ["T1", "T2", "T3"]


def test_user_mapping_of_an_absent_column_is_an_error(tmp_path):
    folder = write(tmp_path / "ds", {"tickets.csv": TICKETS,
                                     "dataset.yml": "mapping:\n  tickets: {'Group name': team}\n"})
    with pytest.raises(DataError, match=r"maps column\(s\) \['Group name'\] of table 'tickets', but the file has no"):
        load_dataset(folder)


def test_mapping_onto_a_column_the_file_already_has(tmp_path):
    export = TICKETS.replace("resolved_at", "resolved_at,Solved").replace("Z\n", "Z,x\n")
    folder = write(tmp_path / "ds", {"tickets.csv": export, "dataset.yml": "mapping:\n  tickets: {Solved: resolved_at}\n"})
    with pytest.raises(DataError, match=r"has column\(s\) \['resolved_at'\] twice"):
        load_dataset(folder)


def test_durations_become_end_timestamps():
    t = tickets_frame(**{"First reply (min)": ["30", "", "abc"], "Full resolution (h)": ["2.5", "-1", ""]})
    t = pd.concat([t, tickets_frame(ticket_id=["T4"], created_at=["2026-09-01T08:00:00Z"], **{"First reply (min)": ["90"],
                                                          "Full resolution (h)": ["0"]})], ignore_index=True)
    ds = Dataset.from_frames({"tickets": t}, settings={"durations": {"tickets": {
        "First reply (min)": {"start": "created_at", "end": "first_response_at", "unit": "minutes"},
        "Full resolution (h)": {"start": "created_at", "end": "resolved_at", "unit": "hours"}}}})
    tk = ds.tickets.set_index("ticket_id")
    # created 08:00 UTC: + 30 min = 08:30; + 90 min = 09:30; + 2.5 h = 10:30; + 0 h = 08:00
    assert tk["first_response_at"].tolist()[0] == ts("2026-09-01 08:30")
    assert pd.isna(tk.loc["T2", "first_response_at"])             # empty: not answered yet
    assert pd.isna(tk.loc["T3", "first_response_at"])             # 'abc': logged, set to missing
    assert tk.loc["T4", "first_response_at"] == ts("2026-09-01 09:30")
    assert tk.loc["T1", "resolved_at"] == ts("2026-09-01 10:30") and tk.loc["T4", "resolved_at"] == ts("2026-09-01 08:00")
    assert pd.isna(tk.loc["T2", "resolved_at"])                   # -1 h: logged, set to missing
    q = ds.quality[ds.quality.action != "note"]
    assert q[["row", "column", "value", "reason", "action"]].values.tolist() == [
        [2, "Full resolution (h)", "-1", "negative_duration", "set to missing"],
        [3, "First reply (min)", "abc", "unparseable", "set to missing"]]
    assert len(ds.tickets) == 4 and ds.unmapped["tickets"] == []


def test_duration_without_its_start_is_logged():
    c = pd.DataFrame({"contact_id": ["C1", "C2"], "channel": "phone", "queued_at": "2026-09-01T08:00:00Z",
                      "abandoned": "no", "answered_at": ["2026-09-01T08:01:00Z", ""], "Talk (s)": ["120", "60"]})
    ds = Dataset.from_frames({"contacts": c}, settings={"durations": {"contacts": {
        "Talk (s)": {"start": "answered_at", "end": "ended_at", "unit": "seconds"}}}})
    assert ds.contacts["ended_at"].tolist()[0] == ts("2026-09-01 08:03")  # 08:01 + 120 s
    assert pd.isna(ds.contacts["ended_at"].tolist()[1])
    assert ds.quality[["row", "reason", "action"]].values.tolist() == [[2, "no_start", "set to missing"]]


def test_duration_column_named_by_the_user_must_exist(tmp_path):
    folder = write(tmp_path / "ds", {"tickets.csv": TICKETS, "dataset.yml": (
        "durations:\n  tickets: {FRT: {start: created_at, end: first_response_at, unit: minutes}}\n")})
    with pytest.raises(DataError, match=r"`durations: \{tickets: \{'FRT': \.\.\.\}\}` names a column the file does not have"):
        load_dataset(folder)


def test_values_and_case_insensitive_categories():
    t = tickets_frame(priority=["P1", "p2 ", "High"], channel=["Email", " WEB", "chat"],
                      status=["Solved", "OPEN", "Gelöst"])
    ds = Dataset.from_frames({"tickets": t}, settings={"values": {"tickets": {
        "priority": {"P1": "urgent", "P2": "High"}, "status": {"Gelöst": "solved"}}}})
    tk = ds.tickets
    # 'p2 ' matches the key P2 trimmed and case-insensitively; mapped and plain values are folded
    assert tk["priority"].tolist() == ["urgent", "high", "high"]
    assert tk["channel"].tolist() == ["email", "web", "chat"]
    assert tk["status"].tolist() == ["solved", "open", "solved"]
    assert ds.quality[ds.quality.action != "note"].empty


def test_ignore_case_false_keeps_spellings():
    t = tickets_frame(channel=["Email", "email", "email"], status=["Solved", "solved", "open"])
    ds = Dataset.from_frames({"tickets": t}, settings={"ignore_case": False})
    assert ds.tickets["channel"].tolist() == ["Email", "email", "email"]
    q = ds.quality
    assert q[["row", "column", "reason", "action"]].values.tolist() == [[1, "status", "unknown_value", "set to missing"]]


def test_values_map_booleans_and_blanks():
    c = pd.DataFrame({"contact_id": ["C1", "C2", "C3"], "channel": "Phone", "queued_at": "2026-09-01T08:00:00Z",
                      "abandoned": ["Abandoned", "Answered", "-"]})
    ds = Dataset.from_frames({"contacts": c}, settings={"values": {"contacts": {
        "abandoned": {"Abandoned": True, "Answered": False, "-": None}}}})
    assert ds.contacts["abandoned"].tolist() == [True, False]
    assert ds.contacts["channel"].tolist() == ["phone", "phone"]
    assert ds.quality[["row", "column", "reason"]].values.tolist() == [[3, "abandoned", "missing_required"]]


def test_defaults_fill_an_absent_required_column_with_a_note(tmp_path):
    folder = write(tmp_path / "ds", {"tickets.csv": TICKETS.replace(",category", "").replace(",billing", "")
                                     .replace(",bug", ""), "dataset.yml": "defaults:\n  tickets: {category: general}\n"})
    ds = load_dataset(folder)
    assert ds.tickets["category"].tolist() == ["general"] * 3
    notes = ds.quality[ds.quality.action == "note"]
    assert notes[["row", "column", "value", "reason"]].values.tolist()[0] == [0, "category", "general", "default_used"]
    assert ds.summary().set_index("table").loc["tickets", "notes"] == 2  # default + derived first_resolved_at


def test_missing_required_column_suggests_defaults(tmp_path):
    folder = write(tmp_path / "ds", {"tickets.csv": TICKETS.replace(",category", "").replace(",billing", "")
                                     .replace(",bug", "")})
    with pytest.raises(DataError, match=r"missing required column\(s\) \['category'\].*defaults: \{tickets: \{category"):
        load_dataset(folder)


def test_csv_settings_per_table(tmp_path):
    folder = write(tmp_path / "ds", {
        "tickets.csv": TICKETS.replace(",", ";").replace("billing", "facturación").encode("latin-1"),
        "agents.csv": "agent_id,name\nA1,Jürgen\n",
        "dataset.yml": "csv: {sep: ',', tickets: {sep: ';', encoding: latin-1}}\n"})
    ds = load_dataset(folder)
    assert ds.tickets["category"].tolist()[0] == "facturación"
    assert ds.agents["name"].tolist() == ["Jürgen"]


def test_folder_wide_latin1_does_not_garble_utf8(tmp_path):
    folder = write(tmp_path / "ds", {
        "tickets.csv": TICKETS.replace("billing", "facturación").encode("latin-1"),
        "agents.csv": "agent_id,name\nA1,Jürgen\n",
        "launches.csv": "\ufefflaunch_id,launched_at,name\nL1,2026-09-01,Größe\n".encode(),  # UTF-8 with BOM
        "dataset.yml": "csv: {encoding: latin-1}\n"})
    ds = load_dataset(folder)
    assert ds.agents["name"].tolist() == ["Jürgen"]             # valid UTF-8: read as UTF-8
    assert ds.launches["name"].tolist() == ["Größe"]            # the BOM is not part of the first column name
    assert ds.tickets["category"].tolist()[0] == "facturación"  # not UTF-8: the folder-wide latin-1


def test_a_tables_own_encoding_is_used_as_declared(tmp_path):
    folder = write(tmp_path / "ds", {"agents.csv": "agent_id,name\nA1,Jürgen\n",
                                     "dataset.yml": "csv: {agents: {encoding: latin-1}}\n"})
    # declared explicitly for this table: the UTF-8 bytes c3 bc are read as the two latin-1 characters
    assert load_dataset(folder).agents["name"].tolist() == ["J\u00c3\u00bcrgen"]


def test_encoding_error_names_the_true_offset_and_line(tmp_path):
    lines = "".join(f"T{i},2026-10-0{1 + i % 9}T08:00:00Z,email,bug,low,\n" for i in range(30))
    text = "ticket_id,created_at,channel,category,priority,resolved_at\n" + lines + "T99,2026-10-01T08:00:00Z,email,facturación,low,\n"
    data = text.encode("latin-1")
    offset = data.index(b"\xf3")  # by hand: the byte of 'ó' in latin-1, past the first 1,000 bytes
    assert offset > 1000
    folder = write(tmp_path / "ds", {"tickets.csv": data})
    with pytest.raises(DataError, match=rf"not utf-8 text \(byte {offset}, line 32, cannot be decoded.*bytes there: f3"):
        load_dataset(folder)
    import gzip

    (folder / "tickets.csv").unlink()
    (folder / "tickets.csv.gz").write_bytes(gzip.compress(data))
    with pytest.raises(DataError, match=rf"byte {offset} of the uncompressed data, line 32"):
        load_dataset(folder)
    (folder / "dataset.yml").write_text("csv: {tickets: {encoding: utf-8}}\n")
    with pytest.raises(DataError, match=r"csv: \{tickets: \{encoding: latin-1\}\}` \(this file only\)"):
        load_dataset(folder)


def test_per_table_delimiter_hint(tmp_path):
    folder = write(tmp_path / "ds", {"tickets.csv": TICKETS.replace(",", ";")})
    with pytest.raises(DataError, match=r"`csv: \{tickets: \{sep: ';'\}\}` \(this file only\)"):
        load_dataset(folder)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-09-01 08:53:00 UTC", "2026-09-01 08:53"),
    ("2026-09-01T08:53:00Z", "2026-09-01 08:53"),
    ("2026-09-01 08:53:00 GMT", "2026-09-01 08:53"),
    ("2026-09-01T08:53:00+01:00", "2026-09-01 07:53"),
    ("2026-09-01 08:53:00 +0100", "2026-09-01 07:53"),
    ("2026-09-01 08:53 GMT+01:00", "2026-09-01 07:53"),
    ("2026-09-01T08:53:00.250-05:00", "2026-09-01 13:53:00.250"),
    ("2026-09-01 08:53:00", "2026-09-01 12:53"),   # naive: America/New_York, EDT = UTC-4
    ("2026-09-01", "2026-09-01 04:00"),            # a date alone is local midnight, not an offset '-01'
])
def test_timestamps_with_zone_names_need_no_setting(text, expected):
    t = tickets_frame(ticket_id=["T1"], created_at=[text])
    ds = Dataset.from_frames({"tickets": t}, settings={"timezone": "America/New_York"})
    assert ds.tickets["created_at"].iloc[0] == ts(expected)


def test_datetime_format_per_table_and_folder_wide(tmp_path):
    us = TICKETS.replace("2026-10-31 23:30:00", "10/31/2026 11:30 PM").replace("2026-10-01T08:00:00Z", "10/01/2026 08:00 AM")
    folder = write(tmp_path / "ds", {"tickets.csv": us, "dataset.yml": (
        "timezone: America/New_York\ncsv: {tickets: {datetime_format: '%m/%d/%Y %I:%M %p'}}\n")})
    t = load_dataset(folder).tickets.set_index("ticket_id")
    # 11:30 PM EDT on 31 Oct (UTC-4) = 03:30 UTC on 1 Nov; 08:00 AM EDT = 12:00 UTC; the ISO value still reads
    assert t.loc["T1", "created_at"] == ts("2026-11-01 03:30")
    assert t.loc["T2", "created_at"] == ts("2026-10-01 12:00")
    assert t.loc["T3", "created_at"] == ts("2026-10-02 08:00")
    (folder / "dataset.yml").write_text("timezone: America/New_York\ncsv: {datetime_format: '%m/%d/%Y %I:%M %p'}\n")
    assert load_dataset(folder).tickets["created_at"].iloc[0] == ts("2026-11-01 03:30")
    (folder / "dataset.yml").write_text("timezone: America/New_York\n")
    q = load_dataset(folder).quality
    q = q[q.action != "note"]  # without the format the two US dates are logged, with the fix in the detail
    assert q[["row", "reason", "action"]].values.tolist() == [[1, "unparseable", "excluded"], [2, "unparseable", "excluded"]]
    assert q["detail"].str.contains("datetime_format").all()


def test_us_dates_with_a_zone_and_a_format():
    t = tickets_frame(ticket_id=["T1"], created_at=["09/01/2026 08:53 AM UTC"])
    ds = Dataset.from_frames({"tickets": t}, settings={"timezone": "America/New_York",
                                                        "csv": {"datetime_format": "%m/%d/%Y %I:%M %p"}})
    assert ds.tickets["created_at"].iloc[0] == ts("2026-09-01 08:53")


RATINGS = {"ratings": {"tickets": {"Satisfaction": {
    "survey": "csat", "scores": {"Good": 5, "Bad": 1}, "offered": ["Offered"], "not_offered": ["Unoffered"]}}}}


def test_ratings_become_survey_answers_and_sends():
    t = tickets_frame(ticket_id=["T1", "T2", "T3", "T4", "T5", "T6"], created_at=["2026-09-01T08:00:00Z"] * 6,
                      customer_id=["C1", "C2", "C3", "C4", "C5", "C6"],
                      resolved_at=["2026-09-02T08:00:00Z"] * 6,
                      Satisfaction=["Good", "bad", "Offered", "Unoffered", "", "meh"])
    ds = Dataset.from_frames({"tickets": t}, settings=RATINGS)
    s = ds.surveys
    # by hand: Good -> 5 (T1), bad -> 1 (T2, case-insensitive); submitted at resolved_at
    assert s[["response_id", "survey", "score", "ticket_id", "customer_id"]].values.tolist() == [
        ["csat:T1", "csat", 5.0, "T1", "C1"], ["csat:T2", "csat", 1.0, "T2", "C2"]]
    assert (s["submitted_at"] == ts("2026-09-02 08:00")).all()
    # sends: the two answers plus the offered T3; Unoffered, blank and the unknown 'meh' send nothing
    assert ds.survey_sends["ticket_id"].tolist() == ["T1", "T2", "T3"]
    q = ds.quality[ds.quality.action != "note"]
    assert q[["table", "row", "column", "value", "reason", "action"]].values.tolist() == [
        ["tickets", 6, "Satisfaction", "meh", "unknown_value", "set to missing"]]
    assert ds.files["surveys"] == "tickets (DataFrame) (ratings: Satisfaction)"
    from kpitools.kpis import csat

    # CSAT = answers with score >= 4 / answers = 1 / 2
    assert csat(ds, period="M")["value"].dropna().tolist() == [0.5]


def test_ratings_are_appended_to_a_surveys_file_with_own_submitted_at(tmp_path):
    tickets = ("ticket_id,created_at,channel,category,priority,Rating,Rated at\n"
               "T1,2026-09-01T08:00:00Z,email,bug,low,Good,2026-09-03T10:00:00Z\n"
               "T2,2026-09-01T09:00:00Z,email,bug,low,Bad,\n"
               "T3,not a date,email,bug,low,Good,2026-09-03T10:00:00Z\n")
    surveys = "response_id,survey,score,submitted_at\nR1,nps,9,2026-09-02T10:00:00Z\n"
    folder = write(tmp_path / "ds", {"tickets.csv": tickets, "surveys.csv": surveys, "dataset.yml": (
        "ratings:\n  tickets:\n    Rating: {survey: csat, scores: {Good: 5, Bad: 1}, submitted_at: Rated at}\n")})
    ds = load_dataset(folder)
    assert ds.surveys["response_id"].tolist() == ["R1", "csat:T1"]
    assert ds.surveys["submitted_at"].tolist()[1] == ts("2026-09-03 10:00")
    assert ds.unmapped["tickets"] == []   # Rating and Rated at are used
    q = ds.quality[ds.quality.action != "note"]
    # T2 was rated but has no 'Rated at': its answer row (tickets.csv row 2) is excluded and logged;
    # T3 itself is excluded (bad created_at), so no survey row is derived from it
    assert q[["table", "file", "row", "column", "reason"]].values.tolist() == [
        ["survey_sends", "tickets.csv (ratings: Rating)", 2, "sent_at", "missing_required"],
        ["surveys", "tickets.csv (ratings: Rating)", 2, "submitted_at", "missing_required"],
        ["tickets", "tickets.csv", 3, "created_at", "unparseable"]]
    assert ds.input_rows["surveys"] == 3 and ds.files["surveys"] == "surveys.csv + tickets.csv (ratings: Rating)"


def test_ratings_time_column_must_exist():
    t = tickets_frame(Rating=["Good", "Bad", ""])
    settings = {"ratings": {"tickets": {"Rating": {"survey": "csat", "scores": {"Good": 5, "Bad": 1},
                                                   "submitted_at": "Rated"}}}}
    with pytest.raises(DataError, match=r"ratings\.tickets\.'Rating'\.submitted_at is 'Rated', which is neither"):
        Dataset.from_frames({"tickets": t}, settings=settings)


def test_preset_columns_may_be_absent(monkeypatch, tmp_path):
    from kpitools import presets

    monkeypatch.setitem(presets.PRESETS, "demo", {
        "mapping": {"tickets": {"Id": "ticket_id", "Assignee": "agent_id"}},
        "durations": {"tickets": {"Reply (min)": {"start": "created_at", "end": "first_response_at",
                                                  "unit": "minutes"}}}})
    folder = write(tmp_path / "ds", {"tickets.csv": TICKETS.replace("ticket_id", "Id"), "dataset.yml": "preset: demo\n"})
    ds = load_dataset(folder)
    assert list(ds.tickets.ticket_id) == ["T1", "T2", "T3"] and "agent_id" not in ds.tickets


def test_one_solved_timestamp_is_enough_for_resolution_kpis():
    from kpitools.kpis import resolution_rate, resolved, sla_resolution

    solved = ["2026-09-01T12:00:00Z", "2026-09-05T08:00:00Z", None, "2026-09-02T09:00:00Z"]
    base = dict(ticket_id=["T1", "T2", "T3", "T4"], created_at=["2026-09-01T08:00:00Z"] * 4,
                priority=["urgent", "urgent", "normal", "normal"])
    settings = {"exported_at": "2026-09-30T00:00:00Z"}
    out = {}
    for col in ("resolved_at", "first_resolved_at"):
        ds = Dataset.from_frames({"tickets": tickets_frame(**base, **{col: solved})}, settings=settings)
        other = "first_resolved_at" if col == "resolved_at" else "resolved_at"
        assert ds.tickets[other].equals(ds.tickets[col])
        note = ds.quality[ds.quality.action == "note"]
        assert note[["column", "reason"]].values.tolist() == [[other, "derived_column"]]
        out[col] = (resolved(ds, period="M")["value"].tolist(), resolution_rate(ds, period="M")["value"].tolist(),
                    sla_resolution(ds, period="M", per_priority=False)["value"].tolist())
    # by hand: 3 of 4 tickets resolved in September; SLA resolution (calendar): urgent 1d -> T1 4 h met,
    # T2 4 days breached; normal 5d -> T4 25 h met; T3 still open at the cut-off after 29 days > 5 d: breached
    assert out["resolved_at"] == out["first_resolved_at"] == ([3.0], [0.75], [0.5])


def test_blank_segment_values_are_kept_as_missing_level():
    from kpitools.kpis import sla_first_response, ticket_volume

    t = tickets_frame(ticket_id=["T1", "T2", "T3", "T4"], created_at=["2026-09-01T08:00:00Z"] * 4,
                      priority=["normal", "", "normal", None], channel=["email", "", "email", "web"],
                      category=["bug", "bug", " ", "bug"],
                      first_response_at=["2026-09-01T08:30:00Z"] * 4)
    settings = {"exported_at": "2026-09-30T00:00:00Z",
                "sla": {"first_response": {"normal": {"target": "1h", "clock": "calendar"}}}}
    ds = Dataset.from_frames({"tickets": t}, settings=settings)
    assert len(ds.tickets) == 4
    assert ds.tickets["priority"].tolist() == ["normal", MISSING, "normal", MISSING]
    assert ds.tickets["channel"].tolist() == ["email", MISSING, "email", "web"]
    assert ds.tickets["category"].tolist() == ["bug", "bug", MISSING, "bug"]
    notes = ds.quality[ds.quality.action == "note"]
    assert notes[["column", "reason", "detail"]].values.tolist() == [
        ["category", "blank_segment", "1 blank category value(s) kept as the level (missing)"],
        ["channel", "blank_segment", "1 blank channel value(s) kept as the level (missing)"],
        ["priority", "blank_segment", "2 blank priority value(s) kept as the level (missing)"]]
    vol = ticket_volume(ds, period="M", by=["priority"]).set_index("priority")["value"]
    assert vol.to_dict() == {MISSING: 2.0, "normal": 2.0}
    # no default_priority: the two blank-priority tickets have no target and are reported as such
    r = sla_first_response(ds, period="M", per_priority=False).iloc[0]
    assert (r["value"], r["denominator"]) == (1.0, 2.0) and "2 item(s) of a priority without" in r["note"]
    # default_priority normal: all four answered in 30 min < 1 h
    ds2 = Dataset.from_frames({"tickets": t}, settings={**settings, "sla": {**settings["sla"], "default_priority": "normal"}})
    r2 = sla_first_response(ds2, period="M", per_priority=False).iloc[0]
    assert (r2["value"], r2["denominator"]) == (1.0, 4.0)


def test_optional_timestamps_before_creation_lose_just_the_value():
    t = tickets_frame(first_response_at=["2026-09-01T07:00:00Z", "2026-09-01T09:00:00Z", None],
                      resolved_at=["2026-09-01T10:00:00Z", "2026-08-01T00:00:00Z", None])
    ev = pd.DataFrame({"ticket_id": ["T1", "T2"], "at": "2026-09-01T08:10:00Z", "kind": "agent_reply"})
    c = pd.DataFrame({"contact_id": ["C1"], "channel": "chat", "queued_at": "2026-09-01T08:00:00Z",
                      "abandoned": "no", "answered_at": "2026-09-01T07:59:00Z", "ended_at": "2026-09-01T08:10:00Z"})
    ds = Dataset.from_frames({"tickets": t, "ticket_events": ev, "contacts": c})
    assert len(ds.tickets) == 3 and len(ds.ticket_events) == 2 and len(ds.contacts) == 1
    tk = ds.tickets.set_index("ticket_id")
    assert pd.isna(tk.loc["T1", "first_response_at"]) and tk.loc["T1", "resolved_at"] == ts("2026-09-01 10:00")
    assert pd.isna(tk.loc["T2", "resolved_at"]) and pd.isna(tk.loc["T2", "first_resolved_at"])
    assert pd.isna(ds.contacts["answered_at"].iloc[0]) and ds.contacts["ended_at"].iloc[0] == ts("2026-09-01 08:10")
    q = ds.quality[ds.quality.action != "note"]
    assert q[["table", "row", "column", "reason", "action"]].values.tolist() == [
        ["contacts", 1, "answered_at", "negative_duration", "set to missing"],
        ["tickets", 1, "first_response_at", "resolved_before_created", "set to missing"],
        ["tickets", 2, "resolved_at", "resolved_before_created", "set to missing"]]


def test_scores_between_the_points_of_a_scale_are_excluded():
    s = pd.DataFrame({"response_id": [f"R{i}" for i in range(1, 8)],
                      "survey": ["nps", "nps", "csat", "csat", "qa", "ces", "CSAT"],
                      "score": ["6.5", "8", "4.5", "4", "0.85", "2.0", "5"],
                      "scale": [None, None, None, None, None, "1-5", None],
                      "submitted_at": "2026-09-01T08:00:00Z"})
    ds = Dataset.from_frames({"surveys": s})
    # NPS 6.5 and CSAT 4.5 are on their scales but between whole points; QA (no step) takes 0.85
    assert ds.quality[["row", "value", "reason", "detail"]].values.tolist() == [
        [1, "6.5", "not_on_scale_step", "nps scale is 0-10 in steps of 1"],
        [3, "4.5", "not_on_scale_step", "csat scale is 1-5 in steps of 1"]]
    assert ds.surveys["response_id"].tolist() == ["R2", "R4", "R5", "R6", "R7"]
    assert ds.surveys["survey"].tolist()[-1] == "csat"
    from kpitools.kpis import nps

    # n of nps() equals the rows loaded minus the rows logged as excluded: 2 - 1
    assert nps(ds, period="M")["n"].tolist() == [1.0]
    ds2 = Dataset.from_frames({"surveys": s}, settings={"surveys": {"nps": {"min": 0, "max": 10, "step": 0.5}}})
    assert ds2.quality["row"].tolist() == [3]  # 6.5 is a point of a 0-10 scale in half steps


def test_summary_share_of_excluded_rows():
    t = tickets_frame(ticket_id=["T1", "T1", "T2"])
    summ = Dataset.from_frames({"tickets": t}).summary().iloc[0]
    assert (summ["rows_read"], summ["rows"], summ["excluded"]) == (3, 2, 1)
    assert summ["excluded_share"] == pytest.approx(1 / 3)


def _value(dtype):
    return {"string": "x", "timestamp": "2026-09-01T08:00:00Z", "date": "2026-09-01", "month": "2026-09",
            "float": "1.5", "int": "2", "bool": "true"}[dtype]


@pytest.mark.parametrize(("table", "column"), [(t.name, c) for t in TABLES.values() for c in t.optional])
def test_every_optional_column_may_be_absent(table, column):
    spec = TABLES[table]
    row = {c.name: (c.allowed[0] if c.allowed else _value(c.dtype)) for c in spec.columns if c.name != column}
    if table == "surveys":
        row.update(survey="csat", score="4", scale="1-5") if column != "scale" else row.update(survey="csat", score="4")
    frames = {table: pd.DataFrame([row])}
    ds = Dataset.from_frames(frames)
    assert len(ds.tables[table]) == 1 and ds.quality[ds.quality.action != "note"].empty
    if column in ("first_resolved_at", "resolved_at"):  # taken equal to the other solved timestamp
        assert ds.quality[["column", "reason"]].values.tolist() == [[column, "derived_column"]]
    else:
        assert column not in ds.tables[table].columns


def test_worked_example_of_the_docs(tmp_path):
    # the two blocks of docs/real-exports.md "Worked example", loaded as they are written there
    import re

    from conftest import ROOT

    from kpitools.kpis import csat, resolved, sla_resolution

    text = (ROOT / "docs" / "real-exports.md").read_text(encoding="utf-8")
    example = text.split("## Worked example", 1)[1].split("\n## ", 1)[0]
    csv_block = re.search(r"```csv\n(.*?)```", example, re.S).group(1)
    yml_block = re.search(r"```yaml\n(.*?)```", example, re.S).group(1)
    folder = write(tmp_path / "ds", {"tickets.csv": csv_block, "dataset.yml": yml_block})
    ds = load_dataset(folder)
    t = ds.tickets.set_index("ticket_id")
    assert len(t) == 6 and ds.summary().set_index("table").loc["tickets", "excluded"] == 0
    assert t.loc["101", "created_at"] == ts("2026-09-01 12:53")       # 08:53 AM EDT
    assert t.loc["105", "created_at"] == ts("2026-09-02 19:00")       # its own zone, UTC
    assert t.loc["101", "first_response_at"] == ts("2026-09-01 13:38")  # + 45 min
    assert pd.isna(t.loc["105", "first_response_at"])
    assert t["priority"].tolist() == ["high", MISSING, "low", "normal", "urgent", "urgent"]
    assert t["channel"].tolist() == ["email", "web", "chat", "email", "phone", "email"]
    assert set(t["category"]) == {"general"}
    notes = ds.quality[ds.quality.action == "note"]
    assert sorted(notes["reason"]) == ["blank_segment", "default_used", "derived_column"]
    assert ds.quality[ds.quality.action != "note"].empty
    assert resolved(ds, period="M")["value"].sum() == 5
    assert ds.surveys[["response_id", "score"]].values.tolist() == [["csat:101", 5.0], ["csat:103", 1.0],
                                                                     ["csat:106", 5.0]]
    assert csat(ds, period="M")["value"].dropna().tolist() == [pytest.approx(2 / 3)]
    assert sorted(ds.survey_sends["ticket_id"]) == ["101", "102", "103", "106"]
    assert ds.unmapped["tickets"] == ["Tags"]
    # ticket 102's (missing) priority gets the normal resolution target (5 d): solved in 6 h, achieved
    sla = sla_resolution(ds, period="M")
    assert sla.set_index("priority").loc[MISSING, "value"] == 1.0


def test_durations_chain_in_the_order_written():
    c = pd.DataFrame({"contact_id": ["C1"], "channel": "phone", "queued_at": "2026-09-01T08:00:00Z",
                      "abandoned": "no", "Wait (s)": ["30"], "Talk (min)": ["2"]})
    ds = Dataset.from_frames({"contacts": c}, settings={"durations": {"contacts": {
        "Wait (s)": {"start": "queued_at", "end": "answered_at", "unit": "seconds"},
        "Talk (min)": {"start": "answered_at", "end": "ended_at", "unit": "minutes"}}}})
    # 08:00:00 + 30 s = 08:00:30; + 2 min = 08:02:30
    assert ds.contacts[["answered_at", "ended_at"]].iloc[0].tolist() == [ts("2026-09-01 08:00:30"),
                                                                         ts("2026-09-01 08:02:30")]


def test_blank_team_is_the_missing_level_of_breakdowns():
    from kpitools.kpis import ticket_volume

    t = tickets_frame(team=["tier1", "", None])
    ds = Dataset.from_frames({"tickets": t})
    assert len(ds.tickets) == 3  # team is optional: blanks stay blank in the table ...
    vol = ticket_volume(ds, period="M", by=["team"]).set_index("team")["value"]
    assert vol.to_dict() == {MISSING: 2.0, "tier1": 1.0}  # ... and are the level (missing) by team


def test_parquet_reads_the_used_columns_with_their_timestamp_type(tmp_path):
    # a typed Parquet export: the timestamps are read as stored (microseconds, UTC) and only converted
    # to nanoseconds; an export column the contract does not use is not read but listed as unmapped
    import pyarrow as pa
    import pyarrow.parquet as pq

    created = pd.to_datetime(["2026-10-01 08:00", "2026-10-02 09:30"]).tz_localize("UTC").as_unit("us")
    tbl = pa.table({"ticket_id": ["T1", "T2"], "created_at": pa.array(created),
                    "channel": ["Email", "chat"], "category": ["billing", "bug"], "priority": ["normal", "high"],
                    "Tags": ["a", "b"]})
    folder = tmp_path / "ds"
    folder.mkdir()
    pq.write_table(tbl, folder / "tickets.parquet")
    ds = load_dataset(folder)
    t = ds.tickets
    assert str(t["created_at"].dtype) == "datetime64[ns, UTC]"
    # the values written above, unchanged
    assert list(t["created_at"]) == [pd.Timestamp("2026-10-01 08:00", tz="UTC"),
                                     pd.Timestamp("2026-10-02 09:30", tz="UTC")]
    assert list(t["channel"]) == ["email", "chat"]   # categorical values still case-folded
    assert ds.unmapped["tickets"] == ["Tags"] and "Tags" not in t.columns


# --------------------------------------------------------------------------------------------
# the fast paths of the loader (issue 8): per distinct value, whitespace candidates, Arrow slices
# --------------------------------------------------------------------------------------------
def _dirty_export():
    """A small export with dirty rows, as typed columns: dictionary-encoded categories, padded ids,
    blank and mixed-case values, a duplicate id, a value outside the allowed ones, nullable booleans,
    Parquet dates and month text."""
    t = pd.DataFrame({
        "ticket_id": ["T001", "T002", "T002", " T003 ", "T004", "T005", "T006"],
        "created_at": pd.to_datetime(["2026-09-01 08:00", "2026-09-01 09:00", "2026-09-01 09:30", None,
                                      "2026-09-02 08:00", "2026-09-03 08:00", "2026-09-04 08:00"], utc=True),
        "channel": ["Email", "", "chat", "web", "email", "CHAT", " web "],
        "category": [" bug ", "bug", "bug", "billing", "billing", "how-to", "bug"],
        "priority": ["HIGH", "normal", "normal", "low", "   ", "urgent", "\u00a0"],
        "customer_id": ["Kundé", "C2", "C2", "C3", None, "C5", "C6"],
        "status": ["Solved", "weird", "open", "open", "solved", "pending", None],
        "resolved_at": pd.to_datetime(["2026-09-01 10:00", None, None, None, "2026-09-01 07:00",
                                       None, "2026-09-05 08:00"], utc=True),
        "escalated": pd.array([True, None, False, False, True, None, False], dtype="boolean"),
        "reopen_count": [0, 1, 0, 0, 2, 0, 1],
    })
    ev = pd.DataFrame({
        "ticket_id": ["T001", "T001", "T002", "T003", "T999", "T004", "T006"],
        "at": pd.to_datetime(["2026-09-01 08:05"] * 7, utc=True),
        "kind": ["customer_message", "Agent_Reply", "agent_reply", "agent_reply", "agent_reply", "bogus",
                 "internal_note"],
        "author_id": ["C1", "A1", "A2", "A2", "A3", "A1", " "],
    })
    c = pd.DataFrame({"contact_id": ["K1", "K2", "K3"], "channel": ["Phone", "chat", "phone"],
                      "queued_at": pd.to_datetime(["2026-09-01 08:00"] * 3, utc=True),
                      "abandoned": [False, True, False],
                      "resolved": pd.array([True, None, False], dtype="boolean")})
    days = pd.DataFrame({"agent_id": ["A1", "A2"], "date": pd.to_datetime(["2026-09-01", "2026-09-02"]).date,
                         "staffed_s": [28800.0, -1.0]})
    subs = pd.DataFrame({"customer_id": ["C1", "C2"], "month": ["2026-09", " 2026-10"], "mrr": [10.0, 20.0]})
    return {"tickets": t, "ticket_events": ev, "contacts": c, "agent_days": days, "subscriptions": subs}


def test_typed_dirty_export_loads_like_the_same_export_as_text(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frames = _dirty_export()
    categorical = {"channel", "priority", "status", "kind", "category"}
    pdir, cdir = tmp_path / "pq", tmp_path / "csv"
    pdir.mkdir()
    cdir.mkdir()
    for name, df in frames.items():
        tbl = pa.Table.from_pandas(df, preserve_index=False)
        for i, f in enumerate(tbl.schema):
            if f.name in categorical:  # dictionary-encoded, one dictionary per row group
                tbl = tbl.set_column(i, f.name, tbl[f.name].dictionary_encode())
        pq.write_table(tbl, pdir / f"{name}.parquet", row_group_size=3)
        text = df.copy()
        for col in text.columns:
            if isinstance(text[col].dtype, pd.DatetimeTZDtype):
                text[col] = text[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            elif isinstance(text[col].dtype, pd.BooleanDtype):
                text[col] = text[col].map({True: "true", False: "false"})
        text.to_csv(cdir / f"{name}.csv", index=False)
    typed, csv = load_dataset(pdir), load_dataset(cdir)
    assert list(typed.tables) == list(csv.tables)
    for name in typed.tables:  # the text export takes none of the typed shortcuts
        pd.testing.assert_frame_equal(typed.tables[name], csv.tables[name], check_exact=True)
    cols = ["table", "file", "row", "column", "reason", "detail", "action"]
    a = typed.quality[cols].replace({"file": {r"\.parquet$": ""}}, regex=True)
    b = csv.quality[cols].replace({"file": {r"\.csv$": ""}}, regex=True)
    pd.testing.assert_frame_equal(a, b)
    assert typed.input_rows == csv.input_rows and typed.unmapped == csv.unmapped
    # by hand, from the rows written above
    q = typed.quality
    got = q[["table", "row", "column", "value", "reason", "action"]].values.tolist()
    assert got == [
        ["agent_days", 2, "staffed_s", "-1.0", "negative_duration", "excluded"],
        ["ticket_events", 4, "ticket_id", "T003", "parent_excluded", "excluded"],
        ["ticket_events", 5, "ticket_id", "T999", "unknown_ticket", "excluded"],
        ["ticket_events", 6, "kind", "bogus", "unknown_value", "excluded"],
        ["tickets", 0, "channel", MISSING, "blank_segment", "note"],
        ["tickets", 0, "first_resolved_at", "resolved_at", "derived_column", "note"],
        ["tickets", 0, "priority", MISSING, "blank_segment", "note"],
        ["tickets", 2, "status", "weird", "unknown_value", "set to missing"],
        ["tickets", 3, "ticket_id", "T002", "duplicate_id", "excluded"],
        ["tickets", 4, "created_at", "", "missing_required", "excluded"],
        ["tickets", 5, "resolved_at", "2026-09-01 07:00:00+00:00", "resolved_before_created", "set to missing"],
    ]
    t = typed.tickets
    assert t.index.tolist() == [0, 1, 4, 5, 6]  # positions of the kept input rows
    assert t["ticket_id"].tolist() == ["T001", "T002", "T004", "T005", "T006"]
    assert t["channel"].tolist() == ["email", MISSING, "email", "chat", "web"]
    assert t["category"].tolist() == ["bug", "bug", "billing", "how-to", "bug"]
    assert t["priority"].tolist() == ["high", "normal", MISSING, "urgent", MISSING]
    assert t["customer_id"].tolist()[:2] == ["Kundé", "C2"] and pd.isna(t["customer_id"].iloc[2])
    assert t["status"].tolist()[0] == "solved" and pd.isna(t["status"].iloc[1])
    assert t["escalated"].tolist()[:2] == [True, pd.NA]
    assert str(t["status"].dtype) == "str" and str(t["reopen_count"].dtype) == "Int64"
    assert typed.ticket_events["kind"].tolist() == ["customer_message", "agent_reply", "agent_reply",
                                                    "internal_note"]
    assert pd.isna(typed.ticket_events["author_id"].iloc[-1])  # a blank value is missing
    assert typed.contacts["resolved"].tolist() == [True, pd.NA, False]
    assert typed.contacts["channel"].tolist() == ["phone", "chat", "phone"]
    assert typed.agent_days["date"].tolist() == [pd.Timestamp("2026-09-01")]
    assert str(typed.agent_days["date"].dtype) == "datetime64[ns]"
    assert typed.subscriptions["month"].astype(str).tolist() == ["2026-09", "2026-10"]


@pytest.mark.parametrize("seed", range(5))
def test_trimming_and_duplicates_equal_pandas(seed):
    import pyarrow as pa

    from kpitools.io import _first_duplicates, _strip

    rng = np.random.default_rng(seed)
    pieces = np.array(["a", "B", "é", " ", "\t", "\u00a0", "\u2003", "7", "x y", ""], dtype=object)
    words = ["".join(rng.choice(pieces, rng.integers(0, 4))) for _ in range(300)]
    s = pd.Series(words, dtype="str")
    s[rng.random(len(s)) < 0.1] = None
    sliced = pd.Series(pd.array(pa.chunked_array([pa.array(words[:150], pa.large_string()).slice(7),
                                                  pa.array(words[150:], pa.large_string())]), dtype="str"))
    for x in (s, sliced):  # pandas' own str.strip is the reference
        pd.testing.assert_series_equal(_strip(x), x.str.strip())
    ids = pd.Series(np.sort(rng.integers(0, 250, 300)).astype(str), dtype="str")
    for keys in (ids, ids.sample(frac=1, random_state=seed, ignore_index=True), s):
        valid = rng.random(len(keys)) < 0.9
        expected = keys.where(valid).duplicated(keep="first").to_numpy() & valid & keys.notna().to_numpy()
        assert (_first_duplicates(keys, valid) == expected).all()
