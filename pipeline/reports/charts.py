"""The report's charts, drawn with matplotlib (Agg, no screen) into PNG bytes.

Each function takes plain tables and returns the PNG, so the same picture goes into the report
folder, the HTML page and the Dagster UI. Output is deterministic: no timestamps in the PNG
and a fixed layout for the network (countries on a circle, largest first). What the trend and
comparison charts draw is computed first by plain functions (`trend_chart`, `compare_chart`),
which the tests read instead of pixels.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd


def _pyplot():
    import sys

    if "matplotlib" not in sys.modules:
        from ..config import chart_library_home

        chart_library_home()
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)
    return buffer.getvalue()


def _empty(plt, title: str, message: str) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 1.6))
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.4, message, ha="center", va="center", color="#666")
    return _png(fig)


@dataclass(frozen=True)
class TrendSeries:
    """One venue's line on the trend chart (venue `all`: every venue materialised, summed per year).
    `values`, `low` and `high` are shares in percent (low/high: the interval's ends over the
    same denominator; None where the interval is unknown); `segments` are the runs of years
    with no missing year between them: a line and its band are drawn over each run alone."""
    venue: str
    label: str
    years: tuple[int, ...]
    values: tuple[float, ...]
    low: tuple[float | None, ...]
    high: tuple[float | None, ...]
    papers: tuple[int, ...]
    segments: tuple[tuple[int, ...], ...]
    for_all: bool = False  # the only venue materialised: its line is also the line of all venues

    def at(self, years: Sequence[int]) -> tuple[list[float], list[float | None], list[float | None]]:
        """The values, lows and highs of the given years of this series."""
        index = [self.years.index(y) for y in years]
        return [self.values[i] for i in index], [self.low[i] for i in index], [self.high[i] for i in index]


@dataclass(frozen=True)
class TrendChart:
    """Everything `us_cn_share_by_year` draws, computed without matplotlib: the series (the
    emphasised venue last, drawn on top), the missing years inside the span (no series has
    them: shaded, never crossed by a line), the y range and the count labels (x, y, text) of
    `venue`'s points (or of the one series), placed inside that range."""
    series: tuple[TrendSeries, ...]
    gaps: tuple[tuple[int, int], ...]
    xticks: tuple[int, ...]
    ylim: tuple[float, float]
    labels: tuple[tuple[int, float, str], ...]


def _runs(years: Sequence[int], held: Callable[[int], bool]) -> tuple[tuple[int, ...], ...]:
    """`years` (sorted) cut where a year between two of them is missing: a year `held` says the
    venue had an edition in (by default every year)."""
    runs: list[list[int]] = []
    for year in years:
        if runs and not any(held(y) for y in range(runs[-1][-1] + 1, year)):
            runs[-1].append(year)
        else:
            runs.append([year])
    return tuple(tuple(r) for r in runs)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    columns = [c for c in ("year", "papers", "low", "high", "denominator") if c in a.columns and c in b.columns]
    left = a[columns].sort_values("year").reset_index(drop=True)
    right = b[columns].sort_values("year").reset_index(drop=True)
    return len(left) == len(right) and bool((left.fillna(-1) == right.fillna(-1)).all().all())


def trend_series(trend: pd.DataFrame, venue: str | None = None,
                 held: Callable[[str, int], bool] | None = None) -> list[TrendSeries]:
    """One series per venue of `trend` (venue, year, papers, low, high, denominator, share), the
    venue `all` (every venue materialised, summed per year) first and `venue` last, the others
    by name between. `all` is left out when it equals one venue in every year (only that venue
    is materialised): its line would lie on the venue's and hide it; the venue's label says it
    stands for all venues. `held(venue, year)`: whether the venue had an edition that year (a
    year without one is not missing); by default every year counts."""
    if trend.empty:
        return []
    frame = trend.dropna(subset=["share"])
    names = sorted(set(frame["venue"]), key=lambda v: (v != "all", v == venue, v))
    parts = {name: frame[frame["venue"] == name].sort_values("year") for name in names}
    alone = None
    if "all" in parts:
        alone = next((name for name in names if name != "all" and _same(parts[name], parts["all"])), None)
        if alone is not None:
            names.remove("all")
    out = []
    for name in names:
        part = parts[name]
        base = part["denominator"].where(part["denominator"] > 0) if "denominator" in part else None

        def pct(column: str) -> tuple[float | None, ...]:
            if base is None or column not in part:
                return tuple(None for _ in range(len(part)))
            return tuple(None if v != v else float(v) for v in part[column] / base * 100)

        years = tuple(int(y) for y in part["year"])
        label = "all venues" if name == "all" else name
        if name == alone:
            label += " (all venues: the only one materialised)"
        known = (lambda y, name=name: held(name, y)) if held and name != "all" else (lambda y: True)
        out.append(TrendSeries(name, label, years, tuple(float(v) * 100 for v in part["share"]), pct("low"),
                               pct("high"), tuple(int(n) for n in part["papers"]), _runs(years, known), name == alone))
    return out


def trend_chart(trend: pd.DataFrame, venue: str | None = None,
                held: Callable[[str, int], bool] | None = None) -> TrendChart:
    """The data of the trend chart: `trend_series`, the gaps, ticks, y range and labels."""
    series = trend_series(trend, venue, held)
    years = sorted({y for s in series for y in s.years})
    missing = [y for y in range(years[0], years[-1] + 1) if not any(y in s.years for s in series)
               and (held is None or any(s.venue == "all" or held(s.venue, y) for s in series))] if years else []
    gaps: list[tuple[int, int]] = []
    for year in missing:
        if gaps and gaps[-1][1] == year - 1:
            gaps[-1] = (gaps[-1][0], year)
        else:
            gaps.append((year, year))
    top = max([v for s in series for v in (*s.values, *(h for h in s.high if h is not None))] or [0.0])
    top = top or 1.0
    pad = 0.05 * top  # a label sits this far above its point, and the frame this far above the highest label
    named = [s for s in series if s.venue == venue or (venue == "all" and s.for_all)]
    labelled = named[:1] or series[-1:]  # one series' counts: labels of several lines at a year would overlap
    labels = tuple((y, v + pad, str(n)) for s in labelled for y, v, n in zip(s.years, s.values, s.papers))
    highest = max([lab[1] for lab in labels] + [top])
    ticks = tuple(range(years[0], years[-1] + 1)) if years and years[-1] - years[0] <= 20 else tuple(years)
    return TrendChart(tuple(series), tuple(gaps), ticks, (0.0, highest + 3 * pad), labels)


def us_cn_share_by_year(trend: pd.DataFrame, venue: str, scope: str,
                        held: Callable[[str, int], bool] | None = None) -> bytes:
    """Lines: the share of papers co-authored by US and CN authors, per year, one line per venue
    of `trend` (venue, year, papers, low, high, denominator, share; `all`: every venue summed)
    with its [low, high] interval shaded, `venue` on top. What is drawn is `trend_chart`'s: no
    line or band crosses a missing year, and the count labels stay inside the frame."""
    plt = _pyplot()
    title = f"US-CN co-authored papers, share of all papers (China scope {scope})"
    chart = trend_chart(trend, venue, held)
    if not chart.series:
        return _empty(plt, title, "no venue-year materialised yet")
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for first, last in chart.gaps:
        ax.axvspan(first - 0.5, last + 0.5, color="#eee", linewidth=0, zorder=0)
        ax.text((first + last) / 2, chart.ylim[0] + 0.02 * (chart.ylim[1] - chart.ylim[0]), "no data",
                ha="center", va="bottom", fontsize=7, color="#888", clip_on=True)
    for series in chart.series:
        style = {"linestyle": "--", "marker": "s", "zorder": 2} if series.venue == "all" else \
            {"linestyle": "-", "marker": "o", "zorder": 3 + (series.venue == venue)}
        color = None
        for run in series.segments:  # one line, one band per run of years without a missing one
            values, low, high = series.at(run)
            line = ax.plot(run, values, color=color, label=None if color else series.label, **style)
            color = line[0].get_color()
            if any(v is None for v in (*low, *high)):
                continue
            if len(run) > 1:
                ax.fill_between(run, low, high, alpha=0.2, color=color, linewidth=0)
            else:  # a year alone: its interval as a bar
                ax.vlines(run, low, high, color=color, alpha=0.4, linewidth=4)
    for x, y, text in chart.labels:
        ax.text(x, y, text, ha="center", va="bottom", fontsize=8, clip_on=True)
    ax.set_ylabel("% of papers")
    ax.set_xlabel("year (labels: papers)")
    ax.set_xticks(list(chart.xticks))
    ax.set_xlim(chart.xticks[0] - 0.5, chart.xticks[-1] + 0.5)
    ax.set_ylim(*chart.ylim)
    ax.set_title(title)
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=min(4, len(chart.series)),
              fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


@dataclass(frozen=True)
class CompareChart:
    """What `compare_shares` draws, in percent of each item's denominator: per item its share,
    the interval's ends, how far its unplaced authors could take it (`reach`, None when
    unknown), and the label above it; the y range holds every bar and label."""
    items: tuple[str, ...]
    values: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    reach: tuple[float | None, ...]
    labels: tuple[tuple[int, float, str], ...]
    ylim: tuple[float, float]


def compare_chart(frame: pd.DataFrame) -> CompareChart:
    """`frame`: item, papers, low, high, unplaced, denominator (one row per item)."""
    from .headlines import interval

    def pct(counts) -> list[float]:
        return [float(n) / d * 100 if d else 0.0 for n, d in zip(counts, frame["denominator"])]

    values, low, high = pct(frame["papers"]), pct(frame["low"]), pct(frame["high"])
    more = [None if u is None or u != u else h + u for h, u in zip(frame["high"], frame["unplaced"])]
    reach = [None if m is None else v for m, v in zip(more, pct([m or 0 for m in more]))]
    top = max([*values, *high, *(r for r in reach if r is not None)] or [0.0]) or 1.0
    pad = 0.05 * top
    labels = [(i, max(h, r or 0.0) + pad, interval(n, lo, hi, u))
              for i, (h, r, n, lo, hi, u) in enumerate(zip(high, reach, frame["papers"], frame["low"], frame["high"],
                                                            frame["unplaced"]))]
    highest = max([lab[1] for lab in labels] + [top])
    return CompareChart(tuple(frame["item"]), tuple(values), tuple(low), tuple(high), tuple(reach), tuple(labels),
                        (0.0, highest + 3 * pad))


def compare_shares(frame: pd.DataFrame, title: str, ylabel: str) -> bytes:
    """Points with error bars, one per item: a number's share with its interval and, dotted past
    the bar, what the unplaced authors could add; the count above each (`compare_chart`)."""
    plt = _pyplot()
    chart = compare_chart(frame)
    if not chart.items:
        return _empty(plt, title, "nothing to compare")
    fig, ax = plt.subplots(figsize=(max(4.5, 1.6 * len(chart.items) + 1.5), 3.4))
    x = list(range(len(chart.items)))
    ax.errorbar(x, chart.values, yerr=[[v - lo for v, lo in zip(chart.values, chart.low)],
                                       [h - v for v, h in zip(chart.values, chart.high)]],
                fmt="o", capsize=5, color="#4a7ab5")
    for i, (h, r) in enumerate(zip(chart.high, chart.reach)):
        if r is not None and r > h:
            ax.plot([i, i], [h, r], linestyle=":", color="grey")
    for i, y, text in chart.labels:
        ax.text(i, y, text, ha="center", va="bottom", fontsize=8, clip_on=True)
    ax.set_xticks(x)
    ax.set_xticklabels(chart.items)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_ylim(*chart.ylim)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("bar: low\u2013high over the readings of uncertain rows; dotted: + unplaced authors", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)


def intervals(numbers: pd.DataFrame, title: str) -> bytes:
    """Points with error bars: the country headline numbers (US, CN, US-CN, international) with
    their [low, high] intervals and, dotted past `high`, the papers their unplaced authors could
    add. `numbers`: number, label, papers, low, high (and unplaced)."""
    plt = _pyplot()
    wanted = ["international", "us", "cn", "us_cn"]
    part = numbers[numbers["number"].isin(wanted)].set_index("number").reindex(wanted).dropna(subset=["papers"])
    if part.empty:
        return _empty(plt, title, "no headline number")
    fig, ax = plt.subplots(figsize=(7, 2.8))
    y = range(len(part))
    ax.errorbar(part["papers"], list(y), xerr=[part["papers"] - part["low"], part["high"] - part["papers"]],
                fmt="o", capsize=4)
    more = part["unplaced"] if "unplaced" in part.columns else pd.Series(float("nan"), index=part.index)
    for i, (n, lo, hi, extra) in enumerate(zip(part["papers"], part["low"], part["high"], more)):
        label = f"{int(n)} ({int(lo)}\u2013{int(hi)})"
        if extra == extra and extra:  # not NaN, not 0
            ax.plot([hi, hi + extra], [i, i], linestyle=":", color="grey")
            label = f"{int(n)} ({int(lo)}\u2013{int(hi)}, +{int(extra)} unplaced)"
        ax.annotate(label, (n, i), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    ax.set_yticks(list(y))
    ax.set_yticklabels([str(n).replace("_", "-").upper() if n != "international" else "international"
                        for n in part.index])
    ax.set_xlabel("papers (bars: every / some admissible reading of uncertain rows; dotted: +unplaced)")
    ax.set_xlim(left=0)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)


def top_pairs(pairs: pd.DataFrame, title: str, top: int = 15) -> bytes:
    """Horizontal bars: papers per country pair (whole counting), the collaboration score beside."""
    plt = _pyplot()
    if pairs.empty:
        return _empty(plt, title, "no international paper")
    head = pairs.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(head) + 1.2))
    labels = [f"{a}-{b}" for a, b in zip(head["country_a"], head["country_b"])]
    ax.barh(labels, head["papers"], color="#4a7ab5", label="papers (whole)")
    if "papers_fractional" in head:
        ax.barh(labels, head["papers_fractional"], color="#f0a030", height=0.35, label="collaboration score")
    for y, n in enumerate(head["papers"]):
        ax.text(n, y, f" {int(n)}", va="center", fontsize=8)
    ax.set_xlabel("papers")
    ax.set_title(title)
    ax.legend(frameon=False, loc="lower right")
    return _png(fig)


def network(countries: pd.DataFrame, pairs: pd.DataFrame, title: str, top: int = 20) -> bytes:
    """The collaboration network of the `top` countries by papers: node area by papers, line
    width by papers co-authored, countries on a circle from the largest clockwise."""
    plt = _pyplot()
    if countries.empty:
        return _empty(plt, title, "no paper with a country")
    nodes = countries.sort_values(["papers", "country"], ascending=[False, True]).head(top)
    names = list(nodes["country"])
    n = len(names)
    pos = {c: (math.sin(2 * math.pi * i / n), math.cos(2 * math.pi * i / n)) for i, c in enumerate(names)}
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    edges = pairs[pairs["country_a"].isin(pos) & pairs["country_b"].isin(pos)] if len(pairs) else pairs
    widest = float(edges["papers"].max()) if len(edges) else 1.0
    for a, b, w in edges[["country_a", "country_b", "papers"]].itertuples(index=False) if len(edges) else []:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        ax.plot([x1, x2], [y1, y2], color="#4a7ab5", alpha=0.25 + 0.6 * w / widest, linewidth=0.5 + 7 * w / widest,
                zorder=1)
    biggest = float(nodes["papers"].max())
    for c, p in zip(nodes["country"], nodes["papers"]):
        x, y = pos[c]
        ax.scatter([x], [y], s=120 + 1400 * p / biggest, color="#f0a030", edgecolor="#333", zorder=2)
        ax.text(x, y, c, ha="center", va="center", fontsize=9, fontweight="bold", zorder=3)
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.3, 1.3)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title)
    return _png(fig)


def top_partners(partners: pd.DataFrame, countries: list[str], title: str, per_country: int = 5) -> bytes:
    """Small multiples: each country's top partners by papers together."""
    plt = _pyplot()
    shown = [c for c in countries if c in set(partners["country"])] if len(partners) else []
    if not shown:
        return _empty(plt, title, "no international paper")
    cols = min(3, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.1 * rows), squeeze=False)
    for ax, country in zip(axes.flat, shown):
        part = partners[partners["country"] == country].sort_values("rank").head(per_country).iloc[::-1]
        ax.barh(part["partner"], part["papers"], color="#4a7ab5")
        ax.set_title(country, fontsize=10)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_axis_off()
    fig.suptitle(title)
    fig.tight_layout()
    return _png(fig)
