"""The report's charts, drawn with matplotlib (Agg, no screen) into PNG bytes.

Each function takes plain tables and returns the PNG, so the same picture goes into the report
folder, the HTML page and the Dagster UI. Output is deterministic: no timestamps in the PNG
and a fixed layout for the network (countries on a circle, largest first).
"""

from __future__ import annotations

import io
import math

import pandas as pd


def _pyplot():
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


def us_cn_share_by_year(trend: pd.DataFrame, venue: str, scope: str) -> bytes:
    """Lines: the share of papers co-authored by US and CN authors, per year, for the venue and
    for all venues materialised. `trend`: venue, year, papers, denominator, share."""
    plt = _pyplot()
    title = f"US-CN co-authored papers, share of all papers (China scope {scope})"
    if trend.empty:
        return _empty(plt, title, "no venue-year materialised yet")
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for name, style in ((venue, "-o"), ("all", "--s")):  # shaded: the [low, high] interval
        part = trend[trend["venue"] == name].sort_values("year")
        if part.empty:
            continue
        line = ax.plot(part["year"], part["share"] * 100, style, label="all venues" if name == "all" else name)
        if {"low", "high"} <= set(part.columns) and len(part):  # the interval: every / some admissible reading
            base = part["denominator"].where(part["denominator"] > 0)
            ax.fill_between(part["year"], part["low"] / base * 100, part["high"] / base * 100, alpha=0.2,
                            color=line[0].get_color(), linewidth=0)
        for x, y, n in zip(part["year"], part["share"] * 100, part["papers"]):
            ax.annotate(str(int(n)), (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.set_ylabel("% of papers")
    ax.set_xlabel("year")
    ax.set_xticks(sorted(trend["year"].unique()))
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
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
