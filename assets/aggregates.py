"""Stage 7: `yearly_aggregates` over every venue-year materialised so far."""

from dagster import AssetExecutionContext, AutomationCondition, MaterializeResult, MetadataValue, asset

from pipeline.reports import charts
from pipeline.countries import counting
from pipeline.text import markdown_table
from resources.conventions import Conventions
from resources.warehouse import WarehouseResource

from .common import GROUP, KINDS, png_metadata
from .countries import country_edges, paper_countries
from .reports import headlines


@asset(
    deps=[paper_countries, country_edges, headlines],
    group_name=GROUP,
    kinds=KINDS,
    code_version="2",
    automation_condition=AutomationCondition.eager(),
    description=(
        "Per venue and year, and per year across venues (venue 'all'): papers per country "
        "(whole and fractional counting), their share of the venue-year and its change from the "
        "previous year, each country's international share and top partners, papers per country "
        "pair (whole and collaboration score), and the headline numbers under every China scope. "
        "Reads whatever venue-years exist, so materialising a new one recomputes only its "
        "partition and these cheap tables. Writes yearly_country, yearly_pairs, yearly_partners, "
        "yearly_headlines and yearly_summary."
    ),
)
def yearly_aggregates(context: AssetExecutionContext, warehouse: WarehouseResource,
                      conventions: Conventions) -> MaterializeResult:
    store = warehouse.warehouse()
    with store.connect() as con:
        pc = store.query("SELECT * FROM paper_countries", con=con)
        edges = store.query("SELECT * FROM country_edges", con=con)
        summaries = store.query("SELECT * FROM partition_summary", con=con)
        numbers = store.query("SELECT * FROM headline_numbers", con=con)
    tables = counting.yearly_tables(pc, edges, summaries, numbers)
    with store.connect() as con:
        counts = {name: store.replace_table(name, frame, con=con) for name, frame in tables.items()}
    summary = tables["yearly_summary"]
    heads = tables["yearly_headlines"]
    us_cn = heads[(heads["number"] == "us_cn") & (heads["china_scope"] == "cn")
                  & (heads["placement"] == conventions.placement)][
        ["venue", "year", "papers", "low", "high", "denominator", "share", "low_confidence"]]
    chart = charts.us_cn_share_by_year(us_cn, "all", "cn")
    overall = summary[summary["venue"] == "all"]
    with_country = int(overall["papers_with_country"].sum())
    context.log.info(f"yearly aggregates over {summaries['partition_key'].nunique()} venue-years: {counts}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": sum(counts.values()),
            **{f"rows_{name}": n for name, n in counts.items()},
            "venue_years": int(summaries["partition_key"].nunique()),
            "venue_year_keys": MetadataValue.json(sorted(summaries["partition_key"].unique().tolist())),
            "papers": int(overall["papers"].sum()),
            "papers_with_country": with_country,
            "international_share": (
                float(overall["international_papers"].sum()) / with_country if with_country else 0.0
            ),
            "summary": MetadataValue.md(markdown_table(summary, 40)),
            "top_pairs": MetadataValue.md(
                markdown_table(tables["yearly_pairs"][tables["yearly_pairs"]["venue"] == "all"], 15)
            ),
            "us_cn_by_year": MetadataValue.md(markdown_table(us_cn, 60)),
            "chart_us_cn_share_by_year": png_metadata(chart, "US-CN share by year"),
        }
    )
