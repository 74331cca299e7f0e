"""Every optional contract column may be absent (issue 10): ``kpi_table`` raises nothing, every
KPI that does not need the column is computed, and every KPI it leaves out is in
``attrs["skipped"]`` with a reason that names the column.

The cases are parametrised over the contract (:data:`kpitools.schema.TABLES`), so a column added
to the contract is covered without editing this module. For speed the sample is loaded once,
restricted to its last three months (rows of ticket-linked tables follow their tickets), and each
case rebuilds a Dataset from the typed frames with one column dropped (``Dataset.from_frames``:
the same conversion and checks as loading files).
"""

from __future__ import annotations

import pandas as pd
import pytest

import kpitools
from kpitools.kpis import REGISTRY
from kpitools.schema import TABLES

CASES = [(t.name, c) for t in TABLES.values() for c in t.optional]
MONTHS = 3


def _restrict(ds, months: int) -> dict[str, pd.DataFrame]:
    """The tables of ``ds`` with rows from the last ``months`` months before the cut-off.

    Each table is cut on its first required time column (timestamp, date or month; tables
    without one are kept whole). Rows that refer to a ticket keep only tickets still present, so
    the rebuilt dataset has no new ``unknown_ticket`` exclusions.
    """
    start = ds.cutoff - pd.DateOffset(months=months)
    local_day = start.tz_convert(ds.settings.timezone).tz_localize(None).normalize()
    out = {}
    for name, df in ds.tables.items():
        cols = [c.name for c in TABLES[name].columns if c.required and c.dtype in ("timestamp", "date", "month")]
        if not cols:
            out[name] = df
            continue
        s = df[cols[0]]
        if isinstance(s.dtype, pd.PeriodDtype):
            keep = s >= local_day.to_period("M")
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            keep = s >= start
        else:
            keep = s >= local_day
        out[name] = df[keep.to_numpy(dtype=bool)]
    kept = set(out["tickets"]["ticket_id"])
    for name, df in out.items():
        if name != "tickets" and "ticket_id" in df.columns:
            out[name] = df[(df["ticket_id"].isna() | df["ticket_id"].isin(kept)).to_numpy(dtype=bool)]
    return out


@pytest.fixture(scope="module")
def frames(sample_ds):
    return _restrict(sample_ds, MONTHS)


@pytest.fixture(scope="module")
def settings(sample_ds):
    return sample_ds.settings


@pytest.fixture(scope="module")
def baseline(frames, settings):
    """KPIs computed and skipped with every column present (the reference for each case)."""
    ds = kpitools.Dataset.from_frames(frames, settings=settings)
    res = kpitools.kpi_table(ds, period="M")
    return set(res["kpi"]), set(res.attrs["skipped"]["kpi"])


def test_restricted_sample_covers_every_table_and_kpi(frames, baseline):
    # the reference must be worth something: all tables non-empty, every KPI computed
    assert all(len(df) > 0 for df in frames.values()), {k: len(v) for k, v in frames.items()}
    computed, skipped = baseline
    assert skipped == set() and computed == set(REGISTRY)


@pytest.mark.parametrize(("table", "column"), CASES, ids=[f"{t}.{c}" for t, c in CASES])
def test_kpi_table_without_optional_column(frames, settings, baseline, table, column):
    if table not in frames:
        pytest.skip(f"data/sample has no {table} table")
    fr = dict(frames)
    fr[table] = frames[table].drop(columns=[column])
    ds = kpitools.Dataset.from_frames(fr, settings=settings)
    # one solved timestamp is enough (issue 10): the loader derives the other one from it, with
    # a note in the quality log; every other dropped column stays absent
    derived = {("tickets", "first_resolved_at"), ("tickets", "resolved_at")}
    if (table, column) in derived:
        other = "resolved_at" if column == "first_resolved_at" else "first_resolved_at"
        assert ds.tables[table][column].equals(ds.tables[table][other].rename(column))
    else:
        assert column not in ds.tables[table].columns
    res = kpitools.kpi_table(ds, period="M")  # raises nothing
    computed = set(res["kpi"])
    skipped = dict(zip(res.attrs["skipped"]["kpi"], res.attrs["skipped"]["reason"], strict=True))
    # every KPI is either computed or skipped, never silently missing
    assert computed | set(skipped) == set(REGISTRY), sorted(set(REGISTRY) - computed - set(skipped))
    assert not computed & set(skipped)
    # a skip that the full dataset does not have is caused by the column and says so
    caused = {k: r for k, r in skipped.items() if k not in baseline[1]}
    unnamed = {k: r for k, r in caused.items() if column not in r}
    assert not unnamed, f"reasons that do not name {table}.{column}: {unnamed}"
