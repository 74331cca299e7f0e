"""Tests of the present layer (kpitools.plots) on small result frames built by hand."""

import io
import re

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from matplotlib.figure import Figure

from kpitools import plots

EVIL = "<script>alert(1)</script>"


# ------------------------------------------------------------------------- formatting
@pytest.mark.parametrize(
    "value, unit, kw, expected",
    [
        (0.8734, "share", {}, "87.3%"),            # 0.8734 x 100 = 87.34 -> 87.3
        (0.012, "share", {"signed": True}, "+1.2 pp"),  # change of a share in percentage points
        (-0.05, "share", {"signed": True}, "-5.0 pp"),
        (90, "seconds", {}, "90 s"),               # < 120 s stays in seconds
        (900, "seconds", {}, "15.0 min"),          # 900 / 60
        (5400, "seconds", {}, "90.0 min"),         # under 2 h: 5400 / 60
        (9000, "seconds", {}, "2.5 h"),            # 9000 / 3600
        (3 * 86400, "seconds", {}, "3.0 d"),       # 259200 / 86400
        (32.14, "points", {}, "32.1"),
        (4.0, "points", {"signed": True}, "+4.0"),
        (1234.0, "count", {}, "1,234"),
        (12.5, "currency", {"currency": "EUR"}, "12.50 EUR"),
        (1.0016, "ratio", {}, "1.00"),                # ratios and scores: 2 decimals
        (3.2857, "score", {}, "3.29"),
        (float("nan"), "share", {}, "\u2013"),
        (None, "seconds", {}, "\u2013"),
    ],
)
def test_format_value(value, unit, kw, expected):
    # expected strings computed by hand from the unit rules in format_value's docstring
    assert plots.format_value(value, unit, **kw) == expected


def test_axis_scale_picks_units():
    # share -> percent; durations by median magnitude: median 9000 s -> hours (1/3600)
    assert plots.axis_scale("share") == (100.0, "%")
    assert plots.axis_scale("seconds", [3600, 9000, 12000]) == (1 / 3600, "hours")
    assert plots.axis_scale("seconds", [600, 900]) == (1 / 60, "minutes")
    assert plots.axis_scale("points") == (1.0, "points")


# ------------------------------------------------------------------------- HTML helpers
def test_sparkline_coordinates_by_hand():
    # width 96, height 22, pad 2: x = 2 + i * 92 / 2 -> 2, 48, 94;
    # y = 22 - 2 - (v - 1) / 2 * 18 -> 20, 11, 2
    svg = plots.sparkline_svg([1, 2, 3])
    assert 'points="2.0,20.0 48.0,11.0 94.0,2.0"' in svg
    assert '<circle cx="94.0" cy="2.0"' in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_sparkline_gap_and_empty():
    svg = plots.sparkline_svg([1, np.nan, 3, 4])
    # NaN splits the line: the first segment has one point (not drawn), the second two
    assert svg.count("<polyline") == 1
    assert plots.sparkline_svg([np.nan, np.nan]) == ""
    # constant series sits in the middle (height / 2 = 11)
    assert 'points="2.0,11.0 94.0,11.0"' in plots.sparkline_svg([5, 5])


def test_html_table_escapes_user_text():
    df = pd.DataFrame({"category": [EVIL, "billing"], "n": [3, 4]})
    t = plots.html_table(df, caption=f"by {EVIL}", columns={"n": "tickets <n>"})
    assert "<script>" not in t.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in t.html
    soup = BeautifulSoup(t.html, "html.parser")
    assert soup.find("script") is None
    cells = [td.get_text() for td in soup.find_all("td")]
    assert cells == [EVIL, "3", "billing", "4"]      # the text shown is the original string
    assert soup.find("caption").get_text() == f"by {EVIL}"
    assert "tickets <n>" in [th.get_text() for th in soup.find_all("th")]
    assert t.frame is df


def test_html_table_max_rows_and_type_error():
    df = pd.DataFrame({"a": range(5)})
    t = plots.html_table(df, max_rows=2)
    assert t.html.count("<tr>") == 3        # header + 2 rows
    assert "3 more rows not shown" in t.html
    with pytest.raises(TypeError, match="df: expected a pandas DataFrame"):
        plots.html_table([1, 2])


def test_notice_and_note_escape():
    n = plots.notice("Contact centre", f"no table {EVIL}")
    assert "<script>" not in n._repr_html_() and "&lt;script&gt;" in n._repr_html_()
    assert "<script>" not in plots.note(EVIL)._repr_html_()


def _kpi_rows():
    periods = pd.period_range("2025-10", "2026-10", freq="M")     # 13 months
    rows = []
    for i, p in enumerate(periods):
        rows.append(dict(kpi="csat", period=p, value=0.80 + 0.001 * i, ci_low=0.75, ci_high=0.86,
                         unit="share", n=300 + i, target=0.85, target_met=False))
        rows.append(dict(kpi="nps", period=p, value=30.0 + i, ci_low=20.0 + i, ci_high=40.0 + i,
                         unit="points", n=200, target=30.0, target_met=True))
        rows.append(dict(kpi="tickets", period=p, value=1000.0 + i, ci_low=np.nan, ci_high=np.nan,
                         unit="count", n=1000 + i, target=np.nan, target_met=pd.NA))
    return pd.DataFrame(rows)


def test_scorecard_values_targets_changes_and_order():
    rows = _kpi_rows()
    changes = pd.DataFrame({
        "kpi": ["csat", "nps"], "period": [pd.Period("2026-10", "M")] * 2,
        "prev_value": [0.811, 41.0], "change": [0.001, 1.0], "change_ci_low": [-0.05, -9.0],
        "change_ci_high": [0.05, 11.0], "p_value": [0.9, 0.01], "p_adjusted": [0.9, 0.02],
        "significant": [False, True]})
    cat = pd.DataFrame({"kpi": ["tickets", "nps", "csat"], "title": ["Tickets", f"NPS {EVIL}", "CSAT"],
                        "group": ["volume", "quality", "quality"],
                        "higher_is_better": [np.nan, True, True]})
    sc = plots.scorecard_table(rows, month="2026-10", changes=changes, catalogue=cat)
    f = sc.frame
    assert f["kpi"].tolist() == ["tickets", "nps", "csat"]           # catalogue order
    oct_ = rows[rows["period"] == pd.Period("2026-10", "M")].set_index("kpi")
    assert f.set_index("kpi")["value"].to_dict() == oct_["value"].to_dict()
    # sparkline history: 12 months ending 2026-10 -> starts at 2025-11 (i = 1)
    assert f.set_index("kpi").loc["nps", "trend"] == [31.0 + i for i in range(12)]
    assert f.set_index("kpi").loc["nps", "p_value"] == 0.02          # adjusted p preferred
    soup = BeautifulSoup(sc.html, "html.parser")
    assert soup.find("script") is None and "&lt;script&gt;" in sc.html
    got = {tr["data-kpi"]: float(tr.find("td", attrs={"data-value": True})["data-value"])
           for tr in soup.find_all("tr", attrs={"data-kpi": True})}
    assert got == oct_["value"].to_dict()
    nps_row = soup.find("tr", attrs={"data-kpi": "nps"})
    assert "met" in nps_row.get_text() and "+1.0 *" in nps_row.get_text()   # significant, marked
    assert nps_row.find("span", class_="ok") is not None                   # up and higher is better
    csat_row = soup.find("tr", attrs={"data-kpi": "csat"})
    assert "missed" in csat_row.get_text() and "81.2%" in csat_row.get_text()  # 0.812 -> 81.2%
    assert "*" not in csat_row.get_text()
    tickets_row = soup.find("tr", attrs={"data-kpi": "tickets"})
    assert "none set" in tickets_row.get_text() and "1,012" in tickets_row.get_text()
    assert tickets_row.find("svg") is not None


def test_scorecard_shows_each_group_once():
    # ESAT (group quality) listed after a team KPI used to open a second "Quality" block after
    # "Team". Each group now forms one block, in order of first appearance in ``kpis``:
    # quality (nps, csat), volume (tickets), team (util).
    rows = _kpi_rows()
    util = rows[rows["kpi"] == "tickets"].assign(kpi="util", unit="share", value=0.6)
    rows = pd.concat([rows, util], ignore_index=True)
    cat = pd.DataFrame({"kpi": ["tickets", "nps", "csat", "util"], "title": ["Tickets", "NPS", "CSAT", "Util"],
                        "group": ["volume", "quality", "quality", "team"]})
    sc = plots.scorecard_table(rows, month="2026-10", catalogue=cat, kpis=["nps", "tickets", "util", "csat"])
    assert sc.frame["kpi"].tolist() == ["nps", "csat", "tickets", "util"]
    soup = BeautifulSoup(sc.html, "html.parser")
    heads = [tr.get_text() for tr in soup.find_all("tr", class_="group")]
    assert heads == ["Quality", "Volume", "Team"]
    # the "sla" group reads "SLA compliance", not "Sla"
    sla = plots.scorecard_table(rows, month="2026-10", catalogue=cat.assign(group="sla"))
    assert [tr.get_text() for tr in BeautifulSoup(sla.html, "html.parser").find_all("tr", class_="group")] == [
        "SLA compliance"]


def test_scorecard_marks_maturing_cohorts():
    # resolution_rate's note for a month whose created tickets are not all resolved yet, and
    # FCR's note while repeat windows are open: both end in "still open at the cut-off" and get
    # a dagger and a footnote; other notes (here "window 7 d") are not repeated.
    rows = _kpi_rows()
    last = rows["period"] == pd.Period("2026-10", "M")
    rows["note"] = None
    rows.loc[last & (rows["kpi"] == "csat"), "note"] = "cohort still maturing: 64 ticket(s) still open at the cut-off"
    rows.loc[last & (rows["kpi"] == "nps"), "note"] = (
        "12 ticket(s) with the repeat window still open at the cut-off; window 7 d")
    sc = plots.scorecard_table(rows, month="2026-10")
    m = sc.frame.set_index("kpi")["maturing"]
    assert m["csat"] == "cohort still maturing: 64 ticket(s) still open at the cut-off"
    assert m["nps"] == "12 ticket(s) with the repeat window still open at the cut-off"
    assert pd.isna(m["tickets"])
    soup = BeautifulSoup(sc.html, "html.parser")
    assert "\u2020" in soup.find("tr", attrs={"data-kpi": "csat"}).find("td").get_text()
    assert "\u2020" not in soup.find("tr", attrs={"data-kpi": "tickets"}).get_text()
    foot = [p.get_text() for p in soup.find_all("p", class_="kpi-note")]
    assert len(foot) == 2 and foot[1].startswith("\u2020 Cohort still maturing in 2026-10")
    assert "csat: cohort still maturing: 64 ticket(s)" in foot[1] and "window 7 d" not in foot[1]
    # no maturing rows: no footnote
    assert len(BeautifulSoup(plots.scorecard_table(_kpi_rows(), month="2026-10").html,
                             "html.parser").find_all("p", class_="kpi-note")) == 1


def test_scorecard_rejects_segmented_rows_and_bad_history():
    rows = pd.concat([_kpi_rows(), _kpi_rows()])
    with pytest.raises(ValueError, match="kpi_rows: more than one row per kpi and period"):
        plots.scorecard_table(rows, month="2026-10")
    with pytest.raises(ValueError, match="history: expected a positive int"):
        plots.scorecard_table(_kpi_rows(), month="2026-10", history=0)
    with pytest.raises(ValueError, match=r"kpi_rows: missing column\(s\) \['value'\]"):
        plots.scorecard_table(_kpi_rows().drop(columns="value"), month="2026-10")


# ------------------------------------------------------------------------- figures
def _svg(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def _figs():
    rng = np.random.default_rng(7)
    days = pd.date_range("2026-08-01", "2026-10-31")
    daily = pd.DataFrame({"date": days, "tickets": rng.poisson(80, len(days)).astype(float)})
    launches = pd.DataFrame({"launched_at": pd.to_datetime(["2026-08-20", "2026-10-03"]).tz_localize("UTC"),
                             "name": ["Plan $5 and $10", EVIL]})
    spikes = pd.DataFrame({"date": pd.to_datetime(["2026-08-21"]), "observed": [130.0]})
    heat = pd.DataFrame({"hour": np.repeat(np.arange(24), 7), "weekday": np.tile(np.arange(7), 24),
                         "count": rng.poisson(5, 24 * 7)})
    t = np.sort(rng.exponential(20000, 50))   # median ~ 3.9 h -> axis in hours
    s = 1 - np.arange(1, 51) / 51
    km = pd.DataFrame({"time": t, "survival": s, "ci_low": s * 0.9, "ci_high": np.minimum(s * 1.1, 1)})
    sla = pd.DataFrame({"priority": ["low", "urgent", "high", "normal"], "value": [0.9, 0.7, 0.8, 0.85],
                        "ci_low": [0.85, 0.6, 0.7, 0.8], "ci_high": [0.95, 0.8, 0.9, 0.9],
                        "target": [0.9] * 4})
    rate = pd.DataFrame({"channel": ["email", "chat", EVIL], "value": [0.8, 0.7, 0.9],
                         "ci_low": [0.7, 0.6, 0.85], "ci_high": [0.85, 0.8, 0.95], "n": [100, 50, 300]})
    staff = pd.DataFrame({"hour": range(24), "required": np.r_[np.zeros(8), np.full(10, 6.0), np.zeros(6)],
                          "staffed": np.r_[np.zeros(8), np.full(10, 5.0), np.zeros(6)]})
    es = pd.DataFrame({"day": range(-3, 8), "excess": np.linspace(-1, 5, 11), "ci_low": -2.0, "ci_high": 7.0})
    util = pd.DataFrame({"agent_id": ["a", "b", EVIL], "value": [0.5, 0.75, 0.65]})
    rows = _kpi_rows()
    return {
        # no catalogue title for a KPI unknown to the catalogue: "csat" is known, so its title shows
        "trend": (lambda: plots.plot_kpi_trend(rows, "csat"), "Customer satisfaction (CSAT)", "month",
                  "Customer satisfaction (CSAT) (%)"),
        "daily": (lambda: plots.plot_daily_volume(daily, launches, spikes), "Tickets created per day",
                  "day (business timezone)", "tickets per day"),
        "heat": (lambda: plots.plot_heatmap_arrivals(heat), "Arrivals by hour and weekday",
                 "hour of day (business timezone)", "weekday"),
        "km": (lambda: plots.plot_km_curves(km, xlabel="first response time"), "Share still waiting",
               "first response time (hours)", "% still open"),
        "sla": (lambda: plots.plot_sla_by_priority(sla), "SLA compliance by priority",
                "achieved within target (%)", "priority"),
        "rate": (lambda: plots.plot_rate_with_ci(rate, by="channel", target=0.85, unit="share",
                                                 title="CSAT by channel"),
                 "CSAT by channel", "value (%)", ""),
        "staff": (lambda: plots.plot_staffing_gap(staff), "Agents required (Erlang C) vs staffed, by hour",
                  "hour of day (business timezone)", "agents (average per hour)"),
        "es": (lambda: plots.plot_event_study(es), "Excess tickets around launches",
               "days relative to launch", "excess tickets per day"),
        "util": (lambda: plots.plot_utilization(util), "Utilization by agent",
                 "handle time / staffed time (%)", ""),
    }


@pytest.mark.parametrize("name", list(_figs()))
def test_figures_have_title_labels_and_are_deterministic(name):
    make, title, xlabel, ylabel = _figs()[name]
    fig = make()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == title
    assert ax.get_xlabel() == xlabel
    assert ax.get_ylabel() == ylabel
    # same inputs -> byte-identical SVG (fixed hash salt, no date, nothing random)
    assert _svg(fig) == _svg(make())


def test_daily_volume_marks_launches_and_spikes():
    fig = _figs()["daily"][0]()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts]
    # '$' is escaped so matplotlib draws it as text, not mathtext
    assert labels == [r"Plan \$5 and \$10", EVIL[:24]]
    # 2 launches -> 2 vertical lines besides the series
    assert sum(1 for ln in ax.lines if ln.get_linestyle() == "--") == 2
    assert ax.collections[0].get_offsets().shape == (1, 2)          # one spike dot
    fig.savefig(io.BytesIO(), format="png")                        # renders without mathtext errors


def test_heatmap_wide_and_tidy_agree():
    rng = np.random.default_rng(3)
    m = rng.poisson(4, (24, 7))
    wide = pd.DataFrame(m, index=range(24), columns=range(7))
    tidy = pd.DataFrame({"hour": np.repeat(np.arange(24), 7), "weekday": np.tile(np.arange(7), 24),
                         "count": m.ravel()})
    a = plots.plot_heatmap_arrivals(wide).axes[0].images[0].get_array()
    b = plots.plot_heatmap_arrivals(tidy).axes[0].images[0].get_array()
    np.testing.assert_array_equal(a, m.T)        # rows are weekdays Mon..Sun, columns hours
    np.testing.assert_array_equal(b, m.T)


def test_staffing_gap_shades_short_hours():
    fig = _figs()["staff"][0]()
    ax = fig.axes[0]
    short = [c for c in ax.containers if c.get_label() == "short"]
    assert len(short) == 1 and len(short[0]) == 10                # hours 8-17 short by 1 agent
    assert [p.get_height() for p in short[0]] == [1.0] * 10        # required 6 - staffed 5
    # zoomed to the hours with agents (8-17); each hour's share of short intervals written above it
    staff = pd.DataFrame({"hour": range(24), "required": np.r_[np.zeros(8), np.full(10, 6.0), np.zeros(6)],
                          "staffed": np.r_[np.zeros(8), np.full(10, 5.0), np.zeros(6)],
                          "share": np.r_[np.zeros(8), np.full(10, 0.25), np.zeros(6)]})
    ax = plots.plot_staffing_gap(staff, share_short="share").axes[0]
    assert ax.get_xlim() == (7.4, 17.6)
    assert [t.get_text() for t in ax.texts].count("25%") == 10


def test_figure_input_errors():
    with pytest.raises(ValueError, match="kpi: 'nope' not in kpi_rows"):
        plots.plot_kpi_trend(_kpi_rows(), "nope")
    with pytest.raises(ValueError, match=r"rows: missing column\(s\) \['team'\]"):
        plots.plot_rate_with_ci(pd.DataFrame({"value": [1.0]}), by="team")
    with pytest.raises(TypeError, match="counts: expected a pandas DataFrame"):
        plots.plot_heatmap_arrivals(np.zeros((24, 7)))
    with pytest.raises(ValueError, match="counts: tidy input needs a count column"):
        plots.plot_heatmap_arrivals(pd.DataFrame({"hour": [1], "weekday": [1], "x": [1]}))


def test_set_style_sets_hashsalt():
    import matplotlib

    with matplotlib.rc_context():
        plots.set_style()
        assert matplotlib.rcParams["svg.hashsalt"] == "kpitools"
        assert re.fullmatch(r"#[0-9A-F]{6}", plots.PALETTE[0])


def test_html_table_formats_dates_and_missing():
    df = pd.DataFrame({"date": pd.to_datetime(["2026-10-05", None]), "x": [1.5, np.nan]})
    t = plots.html_table(df, formats={"date": "{:%Y-%m-%d}", "x": "{:.2f}"})
    cells = [td.get_text() for td in BeautifulSoup(t.html, "html.parser").find_all("td")]
    assert cells == ["2026-10-05", "1.50", "\u2013", "\u2013"]


def test_rate_with_ci_leaves_out_small_segments():
    rows = pd.DataFrame({"channel": ["a", "b", "c"], "value": [0.5, 0.6, 0.7], "n": [100, 3, 40]})
    fig = plots.plot_rate_with_ci(rows, by="channel", min_n=10, title="CSAT")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a  (n=100)", "c  (n=40)"]
    assert ax.get_title(loc="left") == "CSAT (1 segment with n < 10 not shown)"


# ------------------------------------------------------------------------- issue 11: first screen
def _two_months(kpi, unit, x_sep, x_oct, n, *, hib_target=np.nan, stat="proportion", note=None):
    rows = []
    for p, x in ((pd.Period("2026-09", "M"), x_sep), (pd.Period("2026-10", "M"), x_oct)):
        rows.append(dict(kpi=kpi, period=p, value=x / n, numerator=x, denominator=n, n=n, unit=unit,
                         stat=stat, ci_low=np.nan, ci_high=np.nan, confidence=0.95, target=hib_target,
                         target_met=pd.NA, note=note))
    return rows


def _scorecard_changes(rows):
    from kpitools.stats.changes import period_changes

    df = pd.DataFrame(rows)
    df["period"] = pd.PeriodIndex(df["period"], freq="M")
    df["target_met"] = df["target_met"].astype("boolean")
    return df, period_changes(df)


CAT11 = pd.DataFrame({"kpi": ["abandon_rate", "csat", "service_level", "reopen_rate"],
                      "title": ["Abandon rate", "CSAT", "Service level", "Reopen rate"],
                      "group": ["contact centre", "quality", "contact centre", "quality"],
                      "higher_is_better": [False, True, True, False]})


def test_scorecard_red_for_worse_green_for_better_both_directions():
    # abandon rate 50/1000 -> 100/1000 (lower is better, up: worse); CSAT 300/400 -> 240/400
    # (higher is better, down: worse); service level 700/1000 -> 800/1000 (up: better); reopen
    # rate 100/1000 -> 50/1000 (down: better). Each change is far beyond a 5 % test (z > 4).
    rows = (_two_months("abandon_rate", "share", 50, 100, 1000) + _two_months("csat", "share", 300, 240, 400)
            + _two_months("service_level", "share", 700, 800, 1000)
            + _two_months("reopen_rate", "share", 100, 50, 1000))
    df, ch = _scorecard_changes(rows)
    sc = plots.scorecard_table(df, month="2026-10", changes=ch, catalogue=CAT11)
    soup = BeautifulSoup(sc.html, "html.parser")
    verdict = sc.frame.set_index("kpi")["verdict"].to_dict()
    assert verdict == {"abandon_rate": "worse", "csat": "worse", "service_level": "better",
                       "reopen_rate": "better"}
    for kpi, cls in [("abandon_rate", "miss"), ("csat", "miss"), ("service_level", "ok"), ("reopen_rate", "ok")]:
        tr = soup.find("tr", attrs={"data-kpi": kpi})
        span = [sp for sp in tr.find_all("span") if "sig" in (sp.get("class") or [])]
        assert len(span) == 1 and cls in span[0]["class"] and span[0].get_text().endswith(" *"), kpi
    # the direction column
    assert "\u2193 lower" in soup.find("tr", attrs={"data-kpi": "abandon_rate"}).get_text()
    assert "\u2191 higher" in soup.find("tr", attrs={"data-kpi": "csat"}).get_text()
    # the footnote names the test actually used and BH across the 4 KPIs compared
    foot = soup.find("p", class_="kpi-note").get_text()
    assert "two-proportion z test" in foot and "Benjamini-Hochberg adjusted across the 4 KPIs compared" in foot
    assert "at most 0.05" in foot and "95% intervals" in foot


def test_scorecard_greys_small_n_and_leaves_it_out_of_the_sparkline():
    # CSAT from 2 answers in October: shown greyed, "n too small", neither met nor missed, not
    # tested, and the month is a gap in the sparkline
    rows = _two_months("csat", "share", 300, 0, 400) + _two_months("reopen_rate", "share", 100, 90, 1000)
    df = pd.DataFrame(rows)
    last = (df["kpi"] == "csat") & (df["period"] == pd.Period("2026-10", "M"))
    df.loc[last, ["value", "numerator", "denominator", "n"]] = [0.0, 0.0, 2.0, 2.0]
    df["target"] = np.where(df["kpi"] == "csat", 0.85, np.nan)
    df["target_met"] = pd.array([True, False, pd.NA, pd.NA], dtype="boolean")
    df, ch = _scorecard_changes(df.to_dict("records"))
    sc = plots.scorecard_table(df, month="2026-10", changes=ch, catalogue=CAT11, min_n=30, history=2)
    f = sc.frame.set_index("kpi")
    assert bool(f.at["csat", "small"]) and pd.isna(f.at["csat", "target_met"])
    assert f.at["csat", "verdict"] == "" and pd.isna(f.at["csat", "significant"])
    assert np.isnan(f.at["csat", "trend"][1]) and f.at["csat", "trend"][0] == 0.75
    tr = BeautifulSoup(sc.html, "html.parser").find("tr", attrs={"data-kpi": "csat"})
    assert "small-n" in tr["class"] and "n too small" in tr.get_text()
    assert "met" not in tr.get_text() and "missed" not in tr.get_text()


def test_scorecard_shows_the_latest_survey_wave_with_its_month():
    from kpitools.stats.changes import period_changes

    # waves in May (d, s, p = 60, 80, 134 of 274) and August (60, 84, 172 of 316); stray answers in
    # September (n 2) and none in October
    rows = []
    for p, (d, s_, q) in [("2026-05", (60, 80, 134)), ("2026-06", (0, 0, 0)), ("2026-07", (0, 0, 0)),
                          ("2026-08", (60, 84, 172)), ("2026-09", (0, 1, 1)), ("2026-10", (0, 0, 0))]:
        n = d + s_ + q
        v = 100 * (q - d) / n if n else np.nan
        rows.append(dict(kpi="nps", period=pd.Period(p, "M"), value=v, n=n, unit="points", stat="nps",
                         detractors=d, passives=s_, promoters=q, ci_low=v - 8 if n > 2 else np.nan,
                         ci_high=v + 8 if n > 2 else np.nan, target=30.0,
                         target_met=(v >= 30) if n else pd.NA, confidence=0.95))
    df = pd.DataFrame(rows)
    df["period"] = pd.PeriodIndex(df["period"], freq="M")
    sc = plots.scorecard_table(df, month="2026-10", changes=period_changes(df), min_n=30)
    f = sc.frame.set_index("kpi")
    # August: (172 - 60) / 316 = 35.44; May: (134 - 60) / 274 = 27.01 -> change +8.43 points
    assert f.at["nps", "shown_period"] == pd.Period("2026-08", "M")
    assert f.at["nps", "value"] == pytest.approx(100 * 112 / 316)
    assert f.at["nps", "change"] == pytest.approx(100 * 112 / 316 - 100 * 74 / 274)
    assert f.at["nps", "change_against"] == pd.Period("2026-05", "M")
    assert f.at["nps", "test"] == "mover+adjusted_wald_z"
    tr = BeautifulSoup(sc.html, "html.parser").find("tr", attrs={"data-kpi": "nps"})
    assert tr["data-period"] == "2026-08" and "(Aug 2026 wave)" in tr.get_text()
    assert "+8.4 vs May 2026 wave" in tr.get_text()


def test_shown_interval_contains_the_value_and_stays_on_the_scale():
    rows = pd.DataFrame({
        # July NPS: one detractor, NPS -100, adjusted Wald gave -98.5 to 48.5 (excludes -100)
        "kpi": ["nps", "ces", "csat"], "value": [-100.0, 3.2, 1.0],
        "ci_low": [-98.5, -22.4, 0.9], "ci_high": [48.5, 28.4, 1.0],
        "unit": ["points", "score", "share"], "stat": ["nps", "mean", "proportion"],
        "note": [None, "scale 1-7", None], "detractors": [1, np.nan, np.nan],
        "passives": [0, np.nan, np.nan], "promoters": [0, np.nan, np.nan]})
    iv = plots.shown_intervals(rows)
    v = rows["value"].to_numpy()
    assert ((iv["ci_low"] <= v) & (v <= iv["ci_high"])).all()
    # an all-detractor sample takes the bound -100 (Tango score interval, docs/methods.md#nps-score-interval)
    assert iv.at[0, "ci_low"] == -100.0 and iv.at[0, "interval_method"] == "score"
    assert -100 <= iv.at[0, "ci_high"] <= 100
    # the CES t interval -22.4..28.4 is cut to the 1-7 scale
    assert (iv.at[1, "ci_low"], iv.at[1, "ci_high"]) == (1.0, 7.0)
    assert iv.at[1, "interval_method"] == "clipped to the scale"
    assert iv.at[2, "interval_method"] == "as computed"
    # without answer counts an NPS interval excluding its value is widened to it, and says so
    no_counts = plots.shown_intervals(rows.drop(columns=["detractors", "passives", "promoters"]).iloc[[0]])
    assert (no_counts.at[0, "ci_low"], no_counts.at[0, "ci_high"]) == (-100.0, 48.5)
    assert no_counts.at[0, "interval_method"] == "widened to the value"
    assert plots.kpi_bounds("score", "scale 1-5") == (1.0, 5.0)
    assert plots.kpi_bounds("share") == (0.0, 1.0) and plots.kpi_bounds("points") == (-100.0, 100.0)


def test_one_unit_per_row_and_clock_named():
    # 6680 s, 4000 s and 9000 s: the largest (9000 s = 2.5 h) picks hours: 6680 / 3600 = 1.86 -> 1.9 h
    assert plots.format_range([6680, 4000, 9000], "seconds") == ["1.9 h", "1.1 h", "2.5 h"]
    # a change of 3688 s on a value of 71563 s (19.9 h) is shown in hours: +1.0 h, not "+61.5 min"
    assert plots.format_range([3688], "seconds", signed=True, reference=[71563]) == ["+1.0 h"]
    assert plots.kpi_label("first_response_time") == "First response time (FRT), business hours"
    assert plots.kpi_label("full_resolution_time", clock="calendar") == "Full resolution time, calendar time"
    rows = pd.DataFrame({"kpi": ["first_response_time"], "value": [6680.0], "ci_low": [4000.0],
                         "ci_high": [9000.0], "unit": ["seconds"], "clock": ["business"], "n": [100],
                         "note": ["currency EUR"]})
    from kpitools.kpis import catalogue

    t = plots.kpi_rows_table(rows, catalogue=catalogue())
    cells = [td.get_text() for td in BeautifulSoup(t.html, "html.parser").find_all("td")]
    # the row's unit is chosen from its value (6680 s < 2 h: minutes): 6680 / 60 = 111.3,
    # 4000 / 60 = 66.7, 9000 / 60 = 150.0 -- never "111.3 min - 2.5 h"
    assert cells[:3] == ["First response time (FRT), business hours", "111.3 min", "66.7 min \u2013 150.0 min"]
    assert "currency EUR" not in t.html                     # a note that tells nothing is dropped


def test_priorities_in_rank_order_and_sla_chart_labels():
    from kpitools.kpis import catalogue

    rows = pd.DataFrame({"kpi": ["sla_first_response"] * 4, "priority": ["high", "low", "normal", "urgent"],
                         "value": [0.93, 0.96, 0.94, 0.89], "ci_low": [0.9, 0.93, 0.92, 0.81],
                         "ci_high": [0.96, 0.98, 0.95, 0.94], "unit": "share", "n": 100, "target": 0.9,
                         "target_met": [True, True, True, False]})
    t = plots.kpi_rows_table(rows, catalogue=catalogue(), segment="priority")
    body = BeautifulSoup(t.html, "html.parser").find("tbody").find_all("tr")
    assert [tr.find_all("td")[1].get_text() for tr in body] == ["urgent", "high", "normal", "low"]
    fig = plots.plot_sla_by_priority(rows)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "SLA compliance: first response" in legend and "sla_first_response" not in legend
    lo, hi = fig.axes[0].get_xlim()
    # zoomed: the lowest shown number is 81 %; the axis starts below it (and below 90 % target)
    assert hi == 100 and 0 < lo < 81


def test_maturing_cohort_is_compared_at_equal_age_or_not_starred():
    # resolution rate 1000/1000 -> 900/1000 while 100 tickets are still open: not tested as it is
    rows = _two_months("resolution_rate", "share", 1000, 900, 1000,
                       note="cohort still maturing: 100 ticket(s) still open at the cut-off")
    rows[0]["note"] = None
    df, ch = _scorecard_changes(rows)
    cat = pd.DataFrame({"kpi": ["resolution_rate"], "title": ["Resolution rate"], "group": ["volume"],
                        "higher_is_better": [True]})
    plain = plots.scorecard_table(df, month="2026-10", changes=ch, catalogue=cat)
    assert plain.frame["verdict"].iloc[0] == "" and " *</span>" not in plain.html
    # at equal age (both months: resolved within 32 h) 700/1000 vs 800/1000: significant, worse
    from kpitools.stats.intervals import proportion_difference

    r = proportion_difference(700, 1000, 800, 1000)
    eq = pd.DataFrame([{"kpi": "resolution_rate", "period": pd.Period("2026-10", "M"),
                        "against": pd.Period("2026-09", "M"), "age_s": 115200.0, "value": 0.7,
                        "against_value": 0.8, "n": 1000, "against_n": 1000, "change": r["difference"],
                        "ci_low": r["ci_low"], "ci_high": r["ci_high"], "p_value": r["p_value"],
                        "test": "newcombe+z"}])
    aged = plots.scorecard_table(df, month="2026-10", changes=ch, catalogue=cat, equal_age=eq)
    f = aged.frame.iloc[0]
    assert f["verdict"] == "worse" and f["change"] == pytest.approx(-0.1) and f["equal_age_s"] == 115200.0
    tr = BeautifulSoup(aged.html, "html.parser").find("tr", attrs={"data-kpi": "resolution_rate"})
    assert "-10.0 pp at equal age *" in tr.get_text()
    assert "resolved within 32.0 h of creation" in aged.html
