"""Mentions of models, architectures and libraries: the catalogue (`term_catalogue`), what each
paper names (`paper_mentions`), by author country (`mentions_by_country`) and the origin of
tools against the countries of their users (`tool_dependency`)."""

import time
from dataclasses import dataclass

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AutomationCondition,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipeline.mentions import tally as mcount
from pipeline.mentions.catalogue import CatalogueError
from pipeline.mentions.fulltext import TEXT_VERSION
from pipeline.mentions.runner import Task, scan_tasks
from pipeline.mentions.scan import ScanResult, scan_document
from pipeline.models import IngestError
from pipeline.text import markdown_table
from resources.pdfs import PdfStoreResource
from resources.terms import TermCatalogueFile
from resources.warehouse import WarehouseResource

from .common import GROUP, KINDS, errors_metadata, partition, table_metadata
from .countries import paper_countries
from .partitions import venue_year_partitions
from .pdfs import USABLE, _Progress, paper_pdfs
from .reference import REFERENCE, _bad_input
from .sources import raw_papers

ROWS_CHECK = "one_row_per_paper_term_and_scope"
SCOPES_CHECK = "full_text_includes_abstract"
SHARES_CHECK = "shares_within_bounds"
HEADLINE_TERMS = ("transformer", "llama", "qwen", "gpt", "deepseek", "bert", "pytorch", "tensorflow", "jax")


def _text(value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


@asset(
    group_name=GROUP,
    kinds={*KINDS, "yaml"},
    code_version="1",
    description=(
        "The term catalogue (YAML; PAPERATLAS_TERMS, else pipeline/data/terms.yaml): per model, "
        "architecture or library its canonical id, family, kind, spellings, look-alike rules and "
        "the organisation that built it with its country (and the lab's country where that "
        "differs). Stored as table `terms`. Its data version is the file's SHA-256: editing the "
        "catalogue stales every paper_mentions partition."
    ),
)
def term_catalogue(context: AssetExecutionContext, terms: TermCatalogueFile, warehouse: WarehouseResource) -> MaterializeResult:
    store = warehouse.warehouse()
    try:
        catalogue = terms.load()
    except CatalogueError as exc:
        raise _bad_input(store, "term_catalogue", terms.file(), exc) from exc
    store.record_errors(REFERENCE, "term_catalogue", [])
    frame = pd.DataFrame([{**t.row(), "catalogue": catalogue.path, "catalogue_sha256": catalogue.sha256}
                          for t in catalogue.terms])
    store.replace_table("terms", frame)
    kinds = frame["kind"].value_counts().to_dict()
    context.log.info(f"{len(frame)} terms from {catalogue.path} ({kinds})")
    return MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "file": catalogue.path,
            "sha256": catalogue.sha256,
            "kinds": MetadataValue.json({k: int(v) for k, v in kinds.items()}),
            "terms": MetadataValue.md(markdown_table(
                frame, len(frame), ["term", "kind", "organisation", "origin_country", "lab_country"])),
        },
        data_version=DataVersion(catalogue.sha256),
    )


@asset(
    partitions_def=venue_year_partitions,
    deps=[raw_papers, paper_pdfs, term_catalogue],
    group_name=GROUP,
    kinds={*KINDS, "pdf"},
    code_version=f"text-{TEXT_VERSION}",
    check_specs=[AssetCheckSpec(ROWS_CHECK, asset="paper_mentions",
                                description="One row per paper, term and scope, each with at least one match.")],
    description=(
        "What each paper names from the term catalogue, per scope (title, abstract, body, "
        "references): the number of matches, the first match's surface form and a snippet for "
        "review. Title and abstract come from the metadata when it has them, else from the PDF; "
        "body and references from the PDF's full text (every page, read in a process pool; "
        "texts are cached by the PDF's SHA-256, so a catalogue change rescans without reading "
        "PDFs again). Writes tables paper_mentions and paper_texts."
    ),
)
def paper_mentions(context: AssetExecutionContext, pdf_store: PdfStoreResource, terms: TermCatalogueFile,
                   warehouse: WarehouseResource) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    catalogue = _catalogue(store, terms)
    papers = store.query(
        """
        SELECT p.paper_id, p.title, p.abstract, d.path, d.sha256
        FROM raw_papers p
        LEFT JOIN paper_pdfs d
          ON d.partition_key = p.partition_key AND d.paper_id = p.paper_id AND list_contains(?, d.status)
        WHERE p.partition_key = ?
        ORDER BY p.paper_id
        """, [list(USABLE), pk.key])
    records = papers.to_dict("records")
    with_pdf = [r for r in records if _text(r["path"])]
    tasks = [Task(r["path"], title=_text(r["title"]), abstract=_text(r["abstract"]),
                  sha256=_text(r["sha256"]), cache_dir=str(pdf_store.texts())) for r in with_pdf]
    processes = pdf_store.processes()
    progress = _Progress(context, f"{pk}: full texts scanned", len(tasks))
    started = time.monotonic()
    scans = scan_tasks(tasks, processes, catalogue_path=terms.file(), on_done=progress)
    took = time.monotonic() - started
    by_paper = {r["paper_id"]: s for r, s in zip(with_pdf, scans)}

    rows, texts, errors = [], [], []
    for r in records:
        title, abstract = _text(r["title"]), _text(r["abstract"])
        scan = by_paper.get(r["paper_id"])
        if scan is not None:
            texts.append({
                "partition_key": pk.key, "paper_id": r["paper_id"], "pdf_sha256": scan.sha256, "pages": scan.pages,
                "chars": sum(v for k, v in scan.lengths.items() if k != "title") if scan.lengths else None,
                **{f"{k}_chars": scan.lengths.get(k) for k in ("title", "abstract", "body", "references")},
                "pdf_title": scan.pdf_title, "title_source": "metadata" if title else "pdf",
                "abstract_source": "metadata" if abstract else "pdf", "cached": scan.cached,
                "seconds": scan.seconds, "error": scan.error, "text_version": TEXT_VERSION,
            })
        if scan is not None and scan.error is None:
            result = scan.scan
            sources = {"title": "metadata" if title else "pdf", "abstract": "metadata" if abstract else "pdf"}
        else:
            if scan is not None:
                errors.append(IngestError(pk.key, "paper_mentions", f"{r['paper_id']} ({scan.file})",
                                          f"{scan.error}; title and abstract from the metadata only", "warning"))
            result = scan_document(catalogue, title, None, abstract) if (title or abstract) else ScanResult()
            sources = {"title": "metadata", "abstract": "metadata"}
        rows.extend(mcount.mention_rows(pk.key, r["paper_id"], result, catalogue, sources))
    frame = pd.DataFrame(rows)
    text_frame = pd.DataFrame(texts)
    with store.connect() as con:
        store.replace_partition("paper_mentions", pk.key, frame, con=con)
        store.replace_partition("paper_texts", pk.key, text_frame, con=con)
        store.record_errors(pk.key, "paper_mentions", errors, con=con)

    pages = int(text_frame["pages"].fillna(0).sum()) if len(text_frame) else 0
    read = int(text_frame["error"].isna().sum()) if len(text_frame) else 0
    cached = int(text_frame["cached"].sum()) if len(text_frame) else 0
    summary = _term_summary(frame)
    duplicates = frame[frame.duplicated(["paper_id", "term", "scope"], keep=False)] if len(frame) else frame
    empty = frame[frame["mentions"] < 1] if len(frame) else frame
    naming = int(frame["paper_id"].nunique()) if len(frame) else 0
    context.log.info(f"{pk}: {read}/{len(tasks)} full texts ({pages} pages, {cached} from the cache) in {took:.1f}s; "
                     f"{naming}/{len(records)} papers name a catalogue term")
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["paper_id", "term", "scope", "mentions", "snippet"]),
            **errors_metadata(errors),
            "papers": len(records),
            "papers_with_full_text": read,
            "papers_naming_a_term": naming,
            "pages": pages,
            "texts_from_cache": cached,
            "seconds": round(took, 2),
            "pages_per_second": round(pages / took, 1) if took > 0 else 0.0,
            "catalogue_version": catalogue.version,
            "papers_per_term": MetadataValue.md(markdown_table(summary, 40)),
        },
        check_results=[AssetCheckResult(
            check_name=ROWS_CHECK, passed=duplicates.empty and empty.empty, severity=AssetCheckSeverity.ERROR,
            metadata={"duplicate_rows": len(duplicates), "rows_without_matches": len(empty)},
        )],
    )


def _term_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Papers per term in the abstract scope, the full-text scope and the references."""
    if frame.empty:
        return pd.DataFrame(columns=["term", "papers_abstract", "papers_full_text", "papers_references"])
    out = []
    for term, rows in frame.groupby("term"):
        out.append({
            "term": term,
            "papers_abstract": rows.loc[rows["scope"].isin(mcount.ABSTRACT_SCOPES), "paper_id"].nunique(),
            "papers_full_text": rows.loc[rows["scope"].isin(mcount.FULL_TEXT_SCOPES), "paper_id"].nunique(),
            "papers_references": rows.loc[rows["scope"] == "references", "paper_id"].nunique(),
        })
    return pd.DataFrame(out).sort_values(["papers_full_text", "term"], ascending=[False, True])


@dataclass
class _Inputs:
    store: object
    catalogue: object
    meta: dict
    mentions: pd.DataFrame
    countries: pd.DataFrame
    with_text: set


def _catalogue(store, terms: TermCatalogueFile):
    try:
        return terms.load()
    except CatalogueError as exc:
        raise _bad_input(store, "term_catalogue", terms.file(), exc) from exc


def _inputs(context: AssetExecutionContext, terms: TermCatalogueFile, warehouse: WarehouseResource) -> _Inputs:
    """What mentions_by_country and tool_dependency read: the partition's mentions, paper
    countries and papers with a full text, and the catalogue."""
    pk = partition(context)
    store = warehouse.warehouse()
    catalogue = _catalogue(store, terms)
    with store.connect() as con:
        mentions = store.read_partition("paper_mentions", pk.key, con=con)
        countries = store.read_partition("paper_countries", pk.key, con=con)
        texts = store.read_partition("paper_texts", pk.key, con=con)
    with_text = set(texts.loc[texts["error"].isna(), "paper_id"]) if len(texts) else set()
    meta = {"partition_key": pk.key, "venue": pk.venue, "year": pk.year}
    return _Inputs(store, catalogue, meta, mentions, countries, with_text)


def _wired_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Papers naming each headline term, with US and with CN authors, abstract and full text."""
    rows = []
    for term in HEADLINE_TERMS:
        row = {"term": term}
        for country in ("US", "CN"):
            hit = frame[(frame["term"] == term) & (frame["country"] == country)] if len(frame) else frame
            row[f"{country}_abstract"] = int(hit["papers_abstract"].sum()) if len(hit) else 0
            row[f"{country}_full_text"] = int(hit["papers_full_text"].sum()) if len(hit) else 0
        rows.append(row)
    return pd.DataFrame(rows)


@asset(
    partitions_def=venue_year_partitions,
    deps=[paper_mentions, paper_countries, term_catalogue],
    group_name=GROUP,
    kinds=KINDS,
    code_version="1",
    automation_condition=AutomationCondition.eager(),
    check_specs=[
        AssetCheckSpec(SCOPES_CHECK, asset="mentions_by_country",
                       description="A paper naming a term in its title or abstract names it in its full text too."),
        AssetCheckSpec(SHARES_CHECK, asset="mentions_by_country",
                       description="Counts never exceed the country's papers; shares lie in [0, 1]."),
    ],
    description=(
        "Per term and author country: the papers with at least one author from the country that "
        "name the term, in the abstract scope (title and abstract) and the full-text scope "
        "(title, abstract, body; references left out) side by side, with their share of the "
        "country's papers and the fractional count. Countries as stored (HK, MO, TW apart); "
        "reports fold them by --china-scope."
    ),
)
def mentions_by_country(context: AssetExecutionContext, terms: TermCatalogueFile,
                        warehouse: WarehouseResource) -> MaterializeResult:
    i = _inputs(context, terms, warehouse)
    frame = pd.DataFrame(mcount.mentions_by_country(i.meta, i.mentions, i.countries, i.catalogue, i.with_text))
    i.store.replace_partition("mentions_by_country", i.meta["partition_key"], frame)
    if len(frame):
        narrower = frame[frame["papers_full_text"] < frame["papers_abstract"]]
        too_many = frame[(frame["papers_full_text"] > frame["country_papers"])
                         | (frame["share_full_text"] > 1) | (frame["share_abstract"] < 0)
                         | (frame["fractional_full_text"] > frame["papers_full_text"] + 1e-9)]
    else:
        narrower = too_many = frame
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["term", "country", "country_papers", "papers_abstract", "papers_full_text"]),
            "papers_with_full_text": len(i.with_text),
            "wired_terms": MetadataValue.md(markdown_table(_wired_table(frame), len(HEADLINE_TERMS))),
        },
        check_results=[
            AssetCheckResult(check_name=SCOPES_CHECK, passed=narrower.empty, severity=AssetCheckSeverity.ERROR,
                             metadata={"rows": len(narrower)}),
            AssetCheckResult(check_name=SHARES_CHECK, passed=too_many.empty, severity=AssetCheckSeverity.ERROR,
                             metadata={"rows": len(too_many)}),
        ],
    )


@asset(
    partitions_def=venue_year_partitions,
    deps=[paper_mentions, paper_countries, term_catalogue],
    group_name=GROUP,
    kinds=KINDS,
    code_version="1",
    automation_condition=AutomationCondition.eager(),
    check_specs=[AssetCheckSpec(SHARES_CHECK, asset="tool_dependency",
                                description="0 <= fractional <= papers <= papers using the origin's tools, and "
                                            "per origin the fractional counts sum to at most those papers.")],
    description=(
        "Who builds, who uses: the country a tool comes from x the countries of the authors who "
        "name it in their full text (references left out), whole counting (papers) and "
        "fractional counting (the users' shares of those papers). Per kind of tool (library, "
        "model family, architecture, all) and per notion of origin: the organisation's "
        "country, or the country where the team that built it sat (basis 'lab')."
    ),
)
def tool_dependency(context: AssetExecutionContext, terms: TermCatalogueFile,
                    warehouse: WarehouseResource) -> MaterializeResult:
    i = _inputs(context, terms, warehouse)
    rows = mcount.tool_dependency(i.meta, i.mentions, i.countries, i.catalogue)
    frame = pd.DataFrame(rows)
    i.store.replace_partition("tool_dependency", i.meta["partition_key"], frame)
    if len(frame):
        bad = frame[(frame["fractional"] < -1e-12) | (frame["fractional"] > frame["papers"] + 1e-9)
                    | (frame["papers"] > frame["origin_papers"])]
        sums = frame.groupby(["kind", "basis", "origin_country"]).agg(f=("fractional", "sum"), n=("origin_papers", "first"))
        over = sums[sums["f"] > sums["n"] + 1e-6]
    else:
        bad = over = frame
    matrices = {}
    for kind in (mcount.ALL_KINDS, "library"):
        table = mcount.dependency_matrix(rows, kind=kind, top=10)
        matrices[f"matrix_{kind.replace(' ', '_')}"] = MetadataValue.md(
            markdown_table(table.reset_index(), 15) if len(table) else "no tool named")
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["kind", "basis", "origin_country", "user_country", "papers", "fractional"]),
            **matrices,
        },
        check_results=[AssetCheckResult(
            check_name=SHARES_CHECK, passed=bad.empty and over.empty, severity=AssetCheckSeverity.ERROR,
            metadata={"rows_out_of_bounds": len(bad), "origins_over": len(over)},
        )],
    )
