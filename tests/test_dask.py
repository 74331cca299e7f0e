"""The Dask engine (kpitools.dask_engine) gives the pandas engine's results on a 2-process cluster.

Independent source: the frozen pandas ``kpi_table`` output of data/sample
(tests/data/frozen, written by the former implementation; tests/test_frozen.py checks that the
pandas engine still equals it). Every KPI the Dask engine computes must equal it (counts exactly,
rates, medians and intervals with rtol 1e-9), on data/sample as it is (one partition per file)
and on the sample split into month folders, where a ticket and its later events, contacts and
surveys are in different partition files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kpitools
from kpitools import dask_engine
from kpitools.io import DataError
from kpitools.kpis._core import BOOTSTRAP_SEED

distributed = pytest.importorskip("distributed")

FROZEN = Path(__file__).parent / "data" / "frozen"
CUTS = [("M", None), ("M", "channel"), ("M", "priority"), ("W", None), ("W", "channel"), ("W", "priority")]
#: data/sample as it is (one file per table, one partition): three of the cuts keep the test short
SAMPLE_CUTS = [("M", None), ("M", "priority"), ("W", "channel")]
RTOL = 1e-9
#: KPIs the Dask engine declines on the sample, each for the reason its message gives
#: (kpitools.dask_engine.unsupported).
DECLINED = {"staffing_gap": "Erlang C needs each roster interval's contacts summed over all partitions"}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory):
    out = tmp_path_factory.mktemp("partitioned")
    dask_engine.write_partitioned("data/sample", out, partition_by="month")
    return out


def _text(s: pd.Series) -> np.ndarray:
    obj = s.astype(object)
    return np.where(obj.isna().to_numpy(), "nan", obj.astype("str").to_numpy())


def _normalise(df: pd.DataFrame, by: str | None) -> pd.DataFrame:
    df = df.copy()
    df.attrs = {}
    keys = ["kpi", "period", *([by] if by else [])]
    for k in keys:
        df[k] = df[k].astype("str")
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


def _assert_equals_frozen(res: pd.DataFrame, period: str, by: str | None) -> None:
    name = f"{period}_{by or 'none'}"
    frozen = pd.read_parquet(FROZEN / f"kpi_table_{name}.parquet")
    frozen_skipped = pd.read_csv(FROZEN / f"skipped_{name}.csv", dtype=str, keep_default_na=False)
    skipped = res.attrs["skipped"]
    declined = set(skipped["kpi"]) - set(frozen_skipped["kpi"])
    assert declined <= set(DECLINED), declined - set(DECLINED)
    for kpi in declined:
        reason = skipped.loc[skipped["kpi"] == kpi, "reason"].iloc[0]
        assert reason.startswith("not computed on the dask engine") and DECLINED[kpi] in reason, (kpi, reason)
    assert set(frozen_skipped["kpi"]) <= set(skipped["kpi"])
    frozen = _normalise(frozen[~frozen["kpi"].isin(declined)], by)
    now = _normalise(res, by)
    keys = ["kpi", "period", *([by] if by else [])]
    pd.testing.assert_frame_equal(now[keys], frozen[keys])
    for col in frozen.columns:
        if col in keys:
            continue
        if col not in now.columns:  # an extra of a declined KPI only
            assert frozen[col].isna().all(), col
            continue
        a, b = now[col], frozen[col]
        if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
            x, y = a.to_numpy(dtype="float64", na_value=np.nan), b.to_numpy(dtype="float64", na_value=np.nan)
            if col in ("n", "numerator", "denominator") or col.endswith(("_count", "censored")):
                ok = (x == y) | (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=RTOL, atol=0)
            else:
                ok = np.isclose(x, y, rtol=RTOL, atol=0, equal_nan=True)
        else:
            ok = _text(a) == _text(b)
        bad = np.flatnonzero(~ok)
        assert not len(bad), (col, now.loc[bad[:5], [*keys, col]].to_dict("records"), b.iloc[bad[:5]].tolist())


@pytest.fixture(scope="module")
def sample_results(client):
    ds = kpitools.load_dataset("data/sample", engine="dask")
    return ds, dask_engine.kpi_tables(ds, SAMPLE_CUTS, seed=BOOTSTRAP_SEED)


@pytest.fixture(scope="module")
def partitioned_results(client, partitioned):
    ds = kpitools.load_dataset(partitioned, engine="dask")
    ds.partitions = 8  # the KPI shuffle: 8 customer partitions from the 20 month files
    return ds, dask_engine.kpi_tables(ds, CUTS, seed=BOOTSTRAP_SEED)


@pytest.mark.parametrize("cut", range(len(SAMPLE_CUTS)), ids=[f"{p}-{b or 'none'}" for p, b in SAMPLE_CUTS])
def test_sample_equals_pandas(sample_results, cut):
    period, by = SAMPLE_CUTS[cut]
    _assert_equals_frozen(sample_results[1][cut], period, by)


@pytest.mark.parametrize("cut", range(len(CUTS)), ids=[f"{p}-{b or 'none'}" for p, b in CUTS])
def test_partitioned_equals_pandas(partitioned_results, cut):
    period, by = CUTS[cut]
    _assert_equals_frozen(partitioned_results[1][cut], period, by)


def test_partitions_split_tickets_from_their_events(partitioned_results):
    ds = partitioned_results[0]
    assert ds.tickets.npartitions >= 8 and ds.ticket_events.npartitions >= 8
    # a ticket created in one month has events in later month folders: hand-checkable on the files
    t = pd.read_parquet(next((Path(ds.path) / "tickets").glob("month=2025-06/*.parquet")))
    later = pd.read_parquet(next((Path(ds.path) / "ticket_events").glob("month=2025-07/*.parquet")))
    assert later["ticket_id"].isin(t["ticket_id"]).any()


def test_kpi_table_and_per_kpi_function(partitioned_results):
    # the public entry points dispatch to the engine and return the one-pass values
    ds, results = partitioned_results
    res = kpitools.kpi_table(ds, period="M", kpis=["ticket_volume", "csat", "first_response_time"])
    assert list(res["kpi"].unique()) == ["ticket_volume", "csat", "first_response_time"]
    one = results[0]
    for kpi in ("ticket_volume", "csat", "first_response_time"):
        a = res[res["kpi"] == kpi].reset_index(drop=True)
        b = one[one["kpi"] == kpi].reset_index(drop=True)[a.columns]
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    from kpitools.kpis import csat

    c = csat(ds, period="M")
    pd.testing.assert_frame_equal(c, one[one["kpi"] == "csat"].reset_index(drop=True)[c.columns],
                                  check_dtype=False)
    with pytest.raises(kpitools.kpis.KPIUnavailable, match="not computed on the dask engine"):
        from kpitools.kpis import REGISTRY

        REGISTRY["staffing_gap"].func(ds, period="M")


def test_quality_log_counts_as_pandas(partitioned_results):
    # the partitions' logs add up to the pandas engine's log of the same rows (data/sample)
    ds = partitioned_results[0]
    pandas_log = kpitools.load_dataset("data/sample").quality
    a = ds.quality.groupby(["table", "reason", "action"]).size()
    b = pandas_log.groupby(["table", "reason", "action"]).size()
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index())
    assert (ds.quality["file"].str.contains("month=") | (ds.quality["row"] == 0)).all()


def test_validation_error_names_partition_file_and_rows(client, partitioned, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(partitioned, broken)
    f = next((broken / "contacts").glob("month=2025-09/*.parquet"))
    df = pd.read_parquet(f)
    df["queued_at"] = "not a time"
    df.to_parquet(f, index=False)
    with pytest.raises(DataError, match=r"contacts/month=2025-09/part-0\.parquet: column 'queued_at'.*first rows? 1"):
        kpitools.load_dataset(broken, engine="dask")


def test_unknown_engine():
    with pytest.raises(ValueError, match=r"engine must be one of \['pandas', 'dask'\], got 'spark'"):
        kpitools.load_dataset("data/sample", engine="spark")


def test_report_command_passes_engine_and_scheduler(monkeypatch, capsys):
    import kpitools.report
    from kpitools.cli import main

    seen = []
    monkeypatch.setattr(kpitools.report, "report_main", lambda **kw: seen.append(kw) or 0)
    assert main(["report", "--month", "2026-10", "--engine", "dask", "--scheduler", "tcp://scheduler:8786"]) == 0
    assert main(["report", "--month", "2026-10"]) == 0
    assert (seen[0]["engine"], seen[0]["scheduler"]) == ("dask", "tcp://scheduler:8786")
    assert "engine" not in seen[1]  # the pandas default leaves the template's own parameters
    assert main(["report", "--month", "2026-10", "--scheduler", "tcp://scheduler:8786"]) == 2
    assert "--scheduler needs --engine dask" in capsys.readouterr().err


def test_synth_partition_by_month(tmp_path, capsys):
    from kpitools.cli import main

    assert main(["synth", "--tickets", "300", "--out", str(tmp_path / "x"), "--partition-by", "month"]) == 2
    assert "use it with --format parquet" in capsys.readouterr().err
    out = tmp_path / "parts"
    assert main(["synth", "--tickets", "1500", "--seed", "3", "--out", str(out), "--format", "parquet",
                 "--partition-by", "month"]) == 0
    months = sorted(p.name for p in (out / "tickets").iterdir())
    assert len(months) >= 2 and all(m.startswith("month=") for m in months)
    # every ticket row of the flat write is in exactly one month file
    files = dask_engine.table_files(out, "tickets")
    n = sum(len(pd.read_parquet(f)) for f in files)
    flat = tmp_path / "flat"
    assert main(["synth", "--tickets", "1500", "--seed", "3", "--out", str(flat), "--format", "parquet"]) == 0
    assert n == len(pd.read_parquet(flat / "tickets.parquet"))


def test_km_summary_counts_equals_rows():
    # counts of (group, duration, observed) give km_summary_codes' result on the rows they stand
    # for (tests/test_survival.py checks km_summary_codes against scipy.stats.ecdf and lifelines);
    # with ties, an empty group, an all-censored group and a horizon
    from kpitools.stats.survival import km_summary_codes

    rng = np.random.default_rng(7)
    t = rng.integers(0, 300, 20_000).astype(float)
    o = rng.random(20_000) < 0.7
    g = rng.integers(-1, 40, 20_000)
    g[g == 5] = -1
    o[g == 7] = False
    rows = km_summary_codes(t, o, g, n_groups=40, horizon=150.0)
    c = pd.DataFrame({"t": t, "o": o, "g": g}).groupby(["g", "t", "o"]).size().rename("w").reset_index()
    counts = dask_engine.km_summary_counts(c["t"].to_numpy(), c["o"].to_numpy(), c["w"].to_numpy(),
                                           c["g"].to_numpy(), n_groups=40, horizon=150.0)
    assert rows.loc[5, "n"] == 0 and counts.loc[7, "events"] == 0
    pd.testing.assert_frame_equal(counts[rows.columns], rows, check_dtype=False, rtol=1e-12)


def test_value_stats_equal_pandas_quantiles():
    # per-cell median, p90, mean and count from value counts equal pandas on the repeated values
    from kpitools.dask_engine import _value_stats

    rng = np.random.default_rng(3)
    rows = pd.DataFrame({"period": rng.integers(0, 4, 5000), "value": rng.integers(0, 50, 5000).astype(float)})
    counts = rows.groupby(["period", "value"]).size().rename("_w").reset_index()
    got = _value_stats(counts, ["period"], {"median": 0.5, "p90": 0.9, "mean": "mean", "n": "count"})
    g = rows.groupby("period")["value"]
    want = pd.DataFrame({"period": g.size().index, "median": g.median().to_numpy(), "p90": g.quantile(0.9).to_numpy(),
                         "mean": g.mean().to_numpy(), "n": g.size().to_numpy(dtype=float)})
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-12)


def test_fsspec_urls_read_like_local_folders(client, partitioned):
    # an object store is read through fsspec: memory:// (in this process, so Dask's synchronous
    # scheduler) and file:// (through the two worker processes) give the pandas engine's KPIs
    # on data/sample (independent source: kpitools.kpi_table on the pandas engine)
    import dask
    import fsspec

    kpis = ["ticket_volume", "csat", "first_response_time"]
    want = kpitools.kpi_table(kpitools.load_dataset("data/sample"), period="M", kpis=kpis)
    want.attrs = {}
    fs = fsspec.filesystem("memory")
    fs.put(f"{partitioned}/", "/kpitools-test/parts/", recursive=True)
    try:
        # the test's distributed client makes p2p the default shuffle, which needs its workers
        with dask.config.set({"scheduler": "synchronous", "dataframe.shuffle.method": "tasks"}):
            mem = kpitools.load_dataset("memory://kpitools-test/parts", engine="dask")
            got = kpitools.kpi_table(mem, period="M", kpis=kpis)
    finally:
        fs.rm("/kpitools-test", recursive=True)
    assert mem.files["tickets"] == "tickets/" and mem.quality["file"].str.contains("month=").any()
    local = kpitools.load_dataset(partitioned, engine="dask")
    pd.testing.assert_frame_equal(mem.quality, local.quality)
    url = kpitools.load_dataset(Path(partitioned).resolve().as_uri(), engine="dask")
    assert url.tickets.npartitions == local.tickets.npartitions
    vol = kpitools.kpi_table(url, period="M", kpis=["ticket_volume"])
    want_vol = want[want["kpi"] == "ticket_volume"].dropna(axis=1, how="all").reset_index(drop=True)
    for res, w in ((got, want), (vol, want_vol)):
        res.attrs = {}
        pd.testing.assert_frame_equal(res[w.columns], w, check_dtype=False, rtol=RTOL)


def test_fsspec_missing_folder(client):
    with pytest.raises(DataError, match=r"memory://no/such/folder: no such folder"):
        kpitools.load_dataset("memory://no/such/folder", engine="dask")


def _outputs(cell) -> list[str]:
    out = []
    for o in cell.get("outputs", []):
        d = o.get("data", {})
        t = d.get("text/html") or d.get("text/plain") or o.get("text") or ""
        out.append("".join(t) if isinstance(t, list) else t)
    return out


def test_report_renders_on_dask_and_equals_pandas(client, tmp_path):
    # kpitools report --engine dask on data/sample (the kernel joins the test's cluster): every
    # section equals the pandas report's (independent source: the pandas engine's render of the
    # same month), except the staffing sections, whose staffing_gap the dask engine declines
    import json

    from kpitools import report

    a = report.render_month("2026-10", data="data/sample", out=tmp_path / "pandas", index=False)
    b = report.render_month("2026-10", data="data/sample", out=tmp_path / "dask", index=False, engine="dask",
                            scheduler=client.scheduler.address)
    pa_, da_ = (json.loads(p.with_suffix(".ipynb").read_text(encoding="utf-8"))["cells"] for p in (a, b))
    compared = 0
    for x, y in zip(pa_, da_, strict=True):
        src = "".join(x["source"])
        if x["cell_type"] != "code" or "staffing" in src or "summary_sentences" in src or "ds.quality" in src:
            continue
        assert _outputs(x) == _outputs(y), src[:80]
        compared += len(_outputs(x))
    assert compared >= 20
    staffing = next(c for c in da_ if "staffing_hours" in "".join(c["source"]))
    assert "not computed on the dask engine" in _outputs(staffing)[0]
