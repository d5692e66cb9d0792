"""`paperatlas compare`, the trend chart's data (what is drawn, not pixels) and the trend's
denominators (`*_of`)."""

import json
import re

import pandas as pd
import pytest

from paperatlas import cli
from paperatlas.pipeline.reports import charts


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _trend(rows):
    """A trend frame as the report and `trend` give it: venue, year, papers, low, high,
    unplaced, denominator, share."""
    frame = pd.DataFrame(rows, columns=["venue", "year", "papers", "low", "high", "denominator"])
    return frame.assign(unplaced=0, share=frame["papers"] / frame["denominator"])


# neurips 2010, 2011 and 2016 only, as in the issue; `all` the same, as only neurips is materialised
NEURIPS = [("neurips", 2010, 2, 2, 2, 292), ("neurips", 2011, 4, 4, 4, 306), ("neurips", 2016, 18, 16, 18, 570)]
ONLY_NEURIPS = _trend(NEURIPS + [("all", *row[1:]) for row in NEURIPS])
WITH_ICML = _trend(NEURIPS + [("icml", 2016, 10, 8, 12, 400), ("all", 2010, 2, 2, 2, 292), ("all", 2011, 4, 4, 4, 306),
                              ("all", 2016, 28, 24, 30, 970)])


# -- the trend chart's data ----------------------------------------------------------------------


def test_trend_series_break_at_missing_years():
    (series,) = charts.trend_series(ONLY_NEURIPS, "neurips")
    assert series.venue == "neurips" and series.years == (2010, 2011, 2016)
    assert series.segments == ((2010, 2011), (2016,))  # no line from 2011 to 2016
    chart = charts.trend_chart(ONLY_NEURIPS, "neurips")
    assert chart.gaps == ((2012, 2015),)
    assert chart.xticks == tuple(range(2010, 2017))


def test_all_venues_line_is_not_drawn_over_the_only_venue():
    (series,) = charts.trend_series(ONLY_NEURIPS, "neurips")
    assert series.for_all and "all venues" in series.label  # the one line says it stands for all venues
    # with another venue, one line per venue plus all venues, the report's venue last (on top)
    lines = charts.trend_series(WITH_ICML, "neurips")
    assert [s.venue for s in lines] == ["all", "icml", "neurips"]
    assert [s.label for s in lines] == ["all venues", "icml", "neurips"]
    assert lines[0].papers == (2, 4, 28) and not any(s.for_all for s in lines)


def test_a_venue_without_an_edition_that_year_has_no_gap():
    biennial = _trend([("eccv", 2018, 5, 5, 5, 100), ("eccv", 2020, 6, 6, 6, 120)])
    held = lambda venue, year: year % 2 == 0  # noqa: E731
    assert charts.trend_series(biennial, "eccv", held)[0].segments == ((2018, 2020),)
    assert charts.trend_chart(biennial, "eccv", held).gaps == ()
    assert charts.trend_series(biennial, "eccv")[0].segments == ((2018,), (2020,))


def test_labels_stay_inside_the_frame():
    for frame in (ONLY_NEURIPS, WITH_ICML):
        chart = charts.trend_chart(frame, "neurips")
        low, high = chart.ylim
        top = max(v for s in chart.series for v in (*s.values, *s.high))
        assert high > top
        assert chart.labels and all(low <= y and y + 0.1 * (high - low) <= high for _, y, _ in chart.labels)
        shown = {(x, text) for x, _, text in chart.labels}
        assert shown == {(2010, "2"), (2011, "4"), (2016, "18")}  # the report's venue's counts, once each


class _Recorder:
    """Records the x values of every line, band and bar the chart draws, and its y range."""

    def __init__(self, monkeypatch):
        from matplotlib.axes import Axes

        self.lines, self.bands, self.bars, self.texts, self.ylim = [], [], [], [], None
        for name, sink in (("plot", self.lines), ("fill_between", self.bands), ("vlines", self.bars)):
            original = getattr(Axes, name)

            def recorded(ax, x, *args, _original=original, _sink=sink, **kw):
                _sink.append([int(v) for v in x])
                return _original(ax, x, *args, **kw)

            monkeypatch.setattr(Axes, name, recorded)
        original_text, original_ylim = Axes.text, Axes.set_ylim

        def text(ax, x, y, s, *args, **kw):
            self.texts.append((x, y, s, kw.get("clip_on")))
            return original_text(ax, x, y, s, *args, **kw)

        def set_ylim(ax, *args, **kw):
            self.ylim = args
            return original_ylim(ax, *args, **kw)

        monkeypatch.setattr(Axes, "text", text)
        monkeypatch.setattr(Axes, "set_ylim", set_ylim)


def test_what_is_drawn_never_crosses_a_missing_year(monkeypatch):
    drawn = _Recorder(monkeypatch)
    png = charts.us_cn_share_by_year(WITH_ICML, "neurips", "cn")
    assert png[:4] == b"\x89PNG"
    data_years = {2010, 2011, 2016}
    assert drawn.lines and all(set(x) <= data_years and not {2011, 2016} <= set(x) for x in drawn.lines)
    # the band only over years with data: 2010-2011 for neurips and all; 2016 alone as a bar
    assert drawn.bands and all(set(x) <= data_years and max(x) - min(x) == len(x) - 1 for x in drawn.bands)
    assert sorted(map(tuple, drawn.bands)) == [(2010, 2011), (2010, 2011)]
    assert sorted(map(tuple, drawn.bars)) == [(2016,), (2016,), (2016,)]
    labels = [(y, s) for _, y, s, clip in drawn.texts if s in ("2", "4", "18")]
    assert len(labels) == 3 and all(y < drawn.ylim[1] for y, _ in labels)
    assert all(clip for *_, clip in drawn.texts)


def test_the_compare_chart_data():
    frame = pd.DataFrame({"item": ["a", "b"], "papers": [18, 4], "low": [16, 4], "high": [18, 4],
                          "unplaced": [3, 0], "denominator": [570, 306]})
    chart = charts.compare_chart(frame)
    assert chart.values == pytest.approx((18 / 570 * 100, 4 / 306 * 100))
    assert chart.low[0] == pytest.approx(16 / 570 * 100) and chart.reach[0] == pytest.approx(21 / 570 * 100)
    assert [t for *_, t in chart.labels] == ["18 (16\u201318, +3 unplaced)", "4"]
    assert all(y < chart.ylim[1] * 0.95 for _, y, _ in chart.labels)


# -- compare and trend on materialised venue-years ---------------------------------------------


def _paper(pid, title, authors, affs, domains):
    return {"id": pid, "title": title, "author": "; ".join(authors), "aff": "; ".join(affs),
            "aff_domain": ";".join(domains), "status": "Poster"}


LISTS = {
    "alphaconf2017": [
        _paper("1", "Dual Learning", ["A One", "B Two", "C Three"],
               ["Peking University", "Peking University", "Microsoft Research"],
               ["pku.edu.cn", "pku.edu.cn", "microsoft.com"]),  # US-CN at headquarters, not with the co-authors
        _paper("2", "Joint work", ["D Four", "E Five"], ["Stanford University", "Tsinghua University"],
               ["stanford.edu", "tsinghua.edu.cn"]),
        _paper("3", "Plain paper", ["F Six"], ["University of Toronto"], ["utoronto.ca"]),
    ],
    "alphaconf2019": [
        _paper("4", "Later work", ["G Seven", "H Eight", "I Nine"], ["MIT", "Fudan University", "University of Oxford"],
               ["mit.edu", "fudan.edu.cn", "ox.ac.uk"]),
        _paper("5", "Alone", ["J Ten"], ["Fudan University"], ["fudan.edu.cn"]),
    ],
    "betaconf2019": [
        _paper("6", "Across", ["K One", "L Two"], ["Stanford University", "Tsinghua University"],
               ["stanford.edu", "tsinghua.edu.cn"]),
        _paper("7", "Home", ["M Three"], ["MIT"], ["mit.edu"]),
        _paper("8", "Abroad", ["N Four", "O Five"], ["University of Toronto", "University of Oxford"],
               ["utoronto.ca", "ox.ac.uk"]),
    ],
}


@pytest.fixture
def two_venues(home, tmp_path, monkeypatch):
    base = tmp_path / "lists"
    base.mkdir()
    for name, records in LISTS.items():
        (base / f"{name}.json").write_text(json.dumps(records))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(base))
    return home


def _report_trend(capsys, key):
    code, out, err = run(capsys, "report", key, "--json")
    assert code == 0, err
    return json.loads(out)["trend_us_cn"]


DEGENERATE = re.compile(r"\b(\d+) \(\1\u2013\1\b")  # "3 (3–3": an interval where nothing is uncertain


def test_compare_and_the_trend_on_two_venues(two_venues, capsys, tmp_path):
    assert run(capsys, "run", "alphaconf-2017", "alphaconf-2019")[0] == 0
    # one venue materialised: the report's trend has its rows once, no `all` copy of them
    trend = _report_trend(capsys, "alphaconf-2019")
    assert [(r["venue"], r["year"]) for r in trend] == [("alphaconf", 2017), ("alphaconf", 2019)]
    assert all(r["share_of"] == "papers" for r in trend)
    code, _, err = run(capsys, "compare", "alphaconf-2017", "betaconf-2019")
    assert code == 2 and err == ("paperatlas: betaconf-2019 is not materialised yet; "
                                 "run `paperatlas run betaconf-2019` first\n")
    code, _, err = run(capsys, "compare", "betaconf")
    assert code == 2 and err.count("\n") == 1 and "no year of betaconf is materialised" in err
    code, _, err = run(capsys, "compare", "alpha conf!")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err

    assert run(capsys, "run", "betaconf-2019")[0] == 0
    trend = _report_trend(capsys, "alphaconf-2019")  # now all venues differ from alphaconf in 2019
    assert [(r["venue"], r["year"], r["venues"]) for r in trend][-2:] == [("all", 2017, "alphaconf"),
                                                                          ("all", 2019, "alphaconf, betaconf")]

    code, out, err = run(capsys, "compare", "alphaconf-2017", "betaconf-2019", "alphaconf", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert [i["item"] for i in result["items"]] == ["alphaconf-2017", "betaconf-2019", "alphaconf"]
    first, beta, whole = ({n: i["numbers"][n] for n in i["numbers"]} for i in result["items"])
    # the same figures the report prints
    reported = json.loads(run(capsys, "report", "alphaconf-2017", "--json")[1])
    assert (first["us_cn"]["papers"], first["us_cn"]["low"], first["us_cn"]["high"]) == (
        reported["us_cn_papers"], reported["us_cn_papers_low"], reported["us_cn_papers_high"]) == (2, 1, 2)
    assert first["us_cn"]["share"] == pytest.approx(2 / 3) and first["us_cn"]["share_of"] == "papers"
    assert first["international"]["share_of"] == "papers with a country"
    assert first["papers_with_country"]["share_of"] == "papers with affiliation data"
    assert (beta["papers"]["papers"], beta["us_cn"]["papers"], beta["us_cn"]["text"]) == (3, 1, "1 33.3%")
    # a whole venue: its years summed, the share of the sums
    later = json.loads(run(capsys, "report", "alphaconf-2019", "--json")[1])
    assert whole["papers"]["papers"] == 5 and result["items"][2]["years"] == [2017, 2019]
    assert (whole["us_cn"]["papers"], whole["us_cn"]["low"], whole["us_cn"]["high"]) == (
        2 + later["us_cn_papers"], 1 + later["us_cn_papers_low"], 2 + later["us_cn_papers_high"])
    assert whole["us_cn"]["share"] == pytest.approx(whole["us_cn"]["papers"] / 5)
    assert {r["number"] for r in result["rows"]} >= {"papers", "papers_with_country", "international", "us", "cn",
                                                     "us_cn"}
    _, out, _ = run(capsys, "compare", "all", "--json")
    (every,) = json.loads(out)["items"]
    assert every["venue_years"] == ["alphaconf-2017", "alphaconf-2019", "betaconf-2019"]
    assert every["numbers"]["papers"]["papers"] == 8
    assert every["numbers"]["us_cn"]["papers"] == whole["us_cn"]["papers"] + 1

    code, out, err = run(capsys, "compare", "alphaconf-2017", "betaconf-2019", "alphaconf", "--out",
                         str(tmp_path / "cmp"))
    assert code == 0, err
    assert "2 (1\u20132) 66.7%" in out  # an interval where a multinational's place is uncertain
    assert not DEGENERATE.search(out)  # ... and none where nothing is
    assert "papers with authors in the United States and China" in out and "share of" in out
    assert "alphaconf (2 years): 2017, 2019, summed" in out
    for name in ("compare.png", "compare.csv", "compare.json"):
        assert (tmp_path / "cmp" / name).stat().st_size > 0
    frame = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert set(frame["item"]) == {"alphaconf-2017", "betaconf-2019", "alphaconf"}
    assert set(frame.loc[frame["number"] == "us", "share_of"]) == {"papers"}

    # the trend names what each share is of, and which venues `all` sums each year
    code, out, _ = run(capsys, "trend", "alphaconf", "--json")
    assert code == 0
    for row in json.loads(out):
        assert row["us_cn_share_of"] == "papers" and row["international_share_of"] == "papers with a country"
        assert row["venues"] == ["alphaconf"]
    code, out, _ = run(capsys, "trend", "all", "--json")
    rows = json.loads(out)
    assert [(r["year"], r["venues"]) for r in rows] == [(2017, ["alphaconf"]), (2019, ["alphaconf", "betaconf"])]
    code, out, _ = run(capsys, "trend", "all")
    assert "all venues materialised (summed)" in out and "alphaconf, betaconf" in out
    assert "US\u2013CN % of papers" in out and "intl % of papers with a country" in out
    assert "United States: China" in out  # partners by name
