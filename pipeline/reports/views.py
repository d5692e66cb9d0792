"""The report of a venue-year as data: `build_report` loads what every format shows.

A `Report` holds the venue-year's paper views (pipeline/reports/headlines.py), its stored
headline numbers (`headline_numbers`, as the `headlines` asset computed them: the report never
counts them again), its countries, pairs and partners folded by the China scope, the trend of
US-CN papers over the years stored, the WIRED mention table, the review samples and the
inputs. The renderers (pipeline/reports/render/) turn one into text, Markdown, HTML, JSON and
the report folder.

No Dagster here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import pandas as pd
import pyarrow as pa

from ..conventions import (
    CHINA_SCOPE,
    CHINA_SCOPES,
    DEFAULT_PLACEMENT,
    LOW_CONFIDENCE,
    PLACEMENT,
    PLACEMENTS,
    ConventionError,
)
from ..countries import counting, decision
from ..countries import queries as country_queries
from ..partitions import PART_KEY_RE, SCOPE_PREFIX_RE, parse_partition_key
from ..sources.plan import PlanError, load_plan
from . import charts, queries
from .headlines import (
    DEFAULT_SAMPLE,
    DEFAULT_SEED,
    NUMBER_IDS,
    WIRED_TERMS,
    PaperView,
    build_views,
    low_confidence_counts,
)
from .institutions import InstitutionTable, institution_table
from .review import build_review, precision
from .trend import report_trend

# The columns of a headline number, in the order `headline_rows` writes them.
NUMBER_COLUMNS = ["partition_key", "venue", "year", "placement", "china_scope", "number", "label", "papers", "low",
                  "high", "unplaced", "denominator", "share", "low_confidence", "snapshot"]


class ReportError(RuntimeError):
    pass


@dataclass
class Report:
    partition_key: str
    venue: str
    year: int
    scope: str
    seed: int
    sample_size: int
    threshold: float
    views: dict[str, PaperView]
    numbers: pd.DataFrame  # headline_numbers rows of this venue-year, all scopes
    countries: pd.DataFrame
    pairs: pd.DataFrame
    partners: pd.DataFrame
    trend: pd.DataFrame
    mentions: pd.DataFrame
    review: dict[str, dict[str, Any]]
    inputs: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # exported as they are
    top: int = 10
    placement: str = DEFAULT_PLACEMENT
    pdfs_read: int = 0  # papers whose PDF text was read (full-text mentions stand on these)
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # number -> reviewed precision
    venue_name: str = ""  # as readers know it ("NeurIPS"); the venue key when no plan names it
    held: Callable[[str, int], bool] | None = None  # (venue, year) -> held that year (plan.has_edition)
    sources: dict[str, Any] = field(default_factory=dict)  # queries.input_sources: sources, registry, dates
    _charts: dict[str, bytes] | None = None

    def row(self, number: str, scope: str | None = None, placement: str | None = None) -> dict[str, Any]:
        rows = self.numbers[(self.numbers["number"] == number) & (self.numbers["china_scope"] == (scope or self.scope))
                            & (self.numbers["placement"] == (placement or self.placement))]
        return rows.iloc[0].to_dict() if len(rows) else {"papers": 0, "low": 0, "high": 0, "unplaced": 0}

    def number(self, number: str, scope: str | None = None, placement: str | None = None) -> int:
        return int(self.row(number, scope, placement)["papers"])

    @cached_property
    def standing(self) -> dict[str, int]:
        """What the papers' countries stand on: page 1 of the PDF, metadata only, nothing;
        and how many have every author with affiliation data placed, an uncertain row, or (among
        papers with affiliation data) an author no evidence places."""
        out = {"pdf": 0, "metadata": 0, "none": 0, "all_authors_placed": 0, "uncertain": 0, "unplaced_authors": 0}
        for view in self.views.values():
            out[view.placed_from] += 1
            out["all_authors_placed"] += view.all_placed
            out["uncertain"] += view.uncertain
            out["unplaced_authors"] += view.has_affiliation and view.unplaced > 0
        return out

    @cached_property
    def institutions(self) -> InstitutionTable:
        """The institutions behind the US–China count and their pairs across the border, counted
        once per report (every format shows them)."""
        return institution_table(self.views, "us_cn", self.scope, self.placement, self.top)

    def charts(self) -> dict[str, bytes]:
        if self._charts is None:
            top_countries = list(self.countries.sort_values("international_papers", ascending=False)["country"][:6])
            where = f"{self.venue} {self.year}"
            self._charts = {
                "us_cn_share": charts.us_cn_share_by_year(self.trend, self.venue, self.scope, self.held),
                "top_pairs": charts.top_pairs(self.pairs, f"Top country pairs, {where}"),
                "network": charts.network(self.countries, self.pairs, f"Who writes with whom, {where}"),
                "partners": charts.top_partners(self.partners, top_countries, f"Top partners, {where}"),
            }
        return self._charts


def venue_facts(venue: str) -> tuple[str, Callable[[str, int], bool] | None]:
    """From the built-in sources plan, read once: the venue's name as readers know it ("NeurIPS";
    the upper-cased key for a venue the plan does not name) and which years each venue was held
    (None, and the key, when the plan cannot be read: a plan must not stop a report)."""
    try:
        plan = load_plan()
    except PlanError:
        return venue.upper(), None
    return plan.venue(venue).name, plan.has_edition


# -- reading ---------------------------------------------------------------------------------


def load_views(store, key: str, con=None) -> dict[str, PaperView]:
    """One view per paper of the venue-year, from its papers, `country_decisions` and
    `paper_mentions` (see pipeline.reports.headlines)."""
    return views_from(read_views(store, key, con=con))


class ViewTables(NamedTuple):
    """What the views of a venue-year are built from, as read."""
    papers: pd.DataFrame
    decisions: pa.Table  # its `country_decisions` rows
    mentions: pd.DataFrame  # its `paper_mentions` rows


def read_views(store, key: str, con=None) -> ViewTables:
    """The tables `views_from` builds the views of a venue-year from. A step that holds the store
    (one writer at a time on DuckDB) reads these and lets go before building the views."""
    with store.connection(con) as c:
        return ViewTables(queries.papers_for_views(store, key, con=c), country_queries.decisions(store, key, con=c),
                          queries.paper_mentions(store, key, con=c))


def views_from(tables: ViewTables) -> dict[str, PaperView]:
    return build_views(tables.papers, decision.from_columns(tables.decisions), tables.mentions)


def stored_numbers(stored: pd.DataFrame, key: str, papers: int) -> pd.DataFrame:
    """The venue-year's rows of `headline_numbers`, in the order they are written (China scope,
    placement, number), typed as written. A ReportError when they are missing, stored by a
    paperatlas before placements, intervals and unplaced bounds, or counted over other papers than the store
    now holds (the headlines step failed after the papers changed)."""
    mine = stored[stored["partition_key"] == key]
    if mine.empty:
        raise ReportError(f"{key} has no stored headline numbers; run `paperatlas run {key}` again")
    parts = ["placement", "low", "high", "unplaced", "low_confidence"]
    if any(p not in mine.columns for p in parts) or mine[parts].isna().any().any():
        raise ReportError(f"{key}: its headline numbers were stored by an older paperatlas, before placements, "
                          f"intervals and unplaced bounds; run `paperatlas run {key}` again")
    counted = mine.loc[mine["number"] == "papers", "papers"]
    if len(counted) and int(counted.iloc[0]) != papers:
        raise ReportError(f"{key}: the stored headline numbers count {int(counted.iloc[0])} papers, the store now "
                          f"holds {papers}; run `paperatlas run {key}` again")
    order = {"china_scope": list(CHINA_SCOPES), "placement": list(PLACEMENTS), "number": NUMBER_IDS}
    mine = mine.sort_values(list(order), key=lambda column: column.map({v: i for i, v in
                                                                         enumerate(order[column.name])}))
    mine = mine[NUMBER_COLUMNS].reset_index(drop=True)
    return mine.astype({c: "int64" for c in ("year", "papers", "low", "high", "unplaced", "denominator",
                                             "low_confidence")})


def folded_tables(pc: pd.DataFrame, key: str, venue: str, year: int, papers: int, scope: str) -> dict[str, pd.DataFrame]:
    """Countries, pairs and partners of one venue-year with HK/MO/TW folded by the China scope,
    computed by the same code as the yearly tables."""
    if len(pc):
        folded = pc.assign(country=[CHINA_SCOPES[scope].get(c, c) for c in pc["country"]])
        folded = folded.groupby(["partition_key", "venue", "year", "paper_id", "country"], as_index=False).agg(
            authors=("authors", "sum"), fractional=("fractional", "sum"))
        folded["n_countries"] = folded.groupby("paper_id")["country"].transform("nunique")
    else:
        folded = pd.DataFrame(columns=["partition_key", "venue", "year", "paper_id", "country", "authors",
                                       "fractional", "n_countries"])
    edges = pd.DataFrame(counting.edge_rows(folded), columns=counting.EDGE_COLUMNS)
    sets = counting.country_sets(folded)
    summary = pd.DataFrame([counting.partition_summary(key, venue, year, papers, 0, 0, 0, sets)])
    tables = counting.yearly_tables(folded, edges, summary)
    mine = {name: frame[frame["venue"] == venue].drop(columns="venue").reset_index(drop=True)
            for name, frame in tables.items() if name in ("yearly_country", "yearly_pairs", "yearly_partners")}
    return {"countries": mine["yearly_country"].drop(columns=["previous_year", "previous_share", "share_change_pp"]),
            "pairs": mine["yearly_pairs"], "partners": mine["yearly_partners"], "paper_countries": folded,
            "country_edges": edges}


NO_FULL_TEXT = "no PDFs read: the full text was not searched"


def exported_numbers(numbers: pd.DataFrame, pdfs_read: int) -> pd.DataFrame:
    """The headline numbers as the report folder exports them: with no PDF read, the full-text
    counts (which would only repeat the title and abstract's) are empty, with a note saying why."""
    out = numbers.assign(note="")
    if pdfs_read:
        return out
    full = out["number"].str.endswith("_full_text")
    out = out.astype({c: "Int64" for c in ("papers", "low", "high", "unplaced", "low_confidence")})
    out = out.astype({"share": "Float64"})
    out.loc[full, ["papers", "low", "high", "unplaced", "low_confidence", "share"]] = pd.NA
    out.loc[full, "note"] = NO_FULL_TEXT
    return out


def build_report(store, key: str, scope: str = "cn", top: int = 10, seed: int = DEFAULT_SEED,
                 sample_size: int = DEFAULT_SAMPLE, threshold: float = LOW_CONFIDENCE,
                 placement: str = DEFAULT_PLACEMENT) -> Report:
    try:
        CHINA_SCOPE.check(scope)
        PLACEMENT.check(placement)
    except ConventionError as exc:
        raise ReportError(str(exc)) from exc
    pk = parse_partition_key(key)
    with store.connect() as con:
        if not queries.is_materialised(store, pk.key, con=con):
            raise ReportError(f"{pk} is not materialised yet; run `paperatlas run {pk}` first")
        missing = queries.missing_parts(store, pk.key, con=con)
        if missing:
            raise ReportError(f"{pk} is read as sub-partitions and {len(missing)} of them are not materialised "
                              f"({', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}); its numbers would "
                              f"leave their papers out: run `paperatlas run {pk}`")
        tables = read_views(store, pk.key, con=con)  # the views are built after the store is let go
        stored = queries.headline_numbers(store, con=con)
        pdfs_read = queries.pdfs_read(store, pk.key, con=con)
        verdicts = queries.verdicts(store, pk.key, con=con)
        mentions = queries.mentions_by_country(store, pk.key, con=con)
        used = queries.inputs(store, pk.key, con=con)
        sources = queries.input_sources(store, pk.key, con=con)
    views = views_from(tables)
    numbers = stored_numbers(stored, pk.key, len(views))
    if threshold != LOW_CONFIDENCE:  # stored at the default threshold: these papers at another
        weak = low_confidence_counts(views, threshold)
        numbers["low_confidence"] = [weak[(r.china_scope, r.placement, r.number)] for r in numbers.itertuples()]
    meta = {"partition_key": pk.key, "venue": pk.venue, "year": pk.year}
    pc = pd.DataFrame(decision.paper_country_rows((e for v in views.values() for e in v.evidence), placement,
                                                  {pid: meta for pid in views}))
    tables = folded_tables(pc, pk.key, pk.venue, pk.year, len(views), scope)
    mine = numbers[numbers["placement"] == placement]
    # Other venue-years, each once: a year read as sub-partitions by its folded row, not its parts.
    row_scope = stored["partition_key"].str.extract(f"({SCOPE_PREFIX_RE})", expand=False)
    is_part = stored["partition_key"].str.contains(PART_KEY_RE, regex=True)
    everything = stored[(row_scope != pk.scope) & ~is_part & (stored["placement"] == placement)]
    everything = pd.concat([everything, mine], ignore_index=True) if len(everything) else mine
    trend = report_trend(counting.yearly_headlines(everything), everything, pk.venue, scope)
    wired = []
    for term in WIRED_TERMS:
        row = {"term": term}
        for country in ("CN", "US"):
            for group in ("abstract", "full_text"):
                hit = mine[(mine["number"] == f"{country.lower()}_{term}_{group}") & (mine["china_scope"] == scope)]
                row[f"{country}_{group}"] = int(hit["papers"].iloc[0])
        wired.append(row)
    review = build_review(views, pk.key, scope, sample_size, seed, threshold, placement)
    report = Report(
        partition_key=pk.key, venue=pk.venue, year=pk.year, scope=scope, seed=seed, sample_size=sample_size,
        threshold=threshold, views=views, numbers=numbers, countries=tables["countries"], pairs=tables["pairs"],
        partners=tables["partners"], trend=trend.reset_index(drop=True), mentions=pd.DataFrame(wired),
        review=review, inputs=used, top=top, placement=placement, pdfs_read=pdfs_read,
        verdicts=precision(views, verdicts, scope, placement), sources=sources,
    )
    report.venue_name, report.held = venue_facts(pk.venue)
    report.tables = {
        "headline_numbers": exported_numbers(numbers, pdfs_read), "countries": tables["countries"],
        "pairs": tables["pairs"],
        "partners": tables["partners"], "paper_countries": tables["paper_countries"],
        "country_edges": tables["country_edges"],
        "mentions_by_country": mentions, "trend_us_cn": report.trend,
    }
    return report
