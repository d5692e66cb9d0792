"""The mentions stage as its assets run it: the term catalogue (`term_catalogue`), what each paper
names (`paper_mentions`), by author country (`mentions_by_country`), and tool origin against tool
use (`tool_dependency`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..affiliations.reference import REFERENCE
from ..filenames import os_path
from ..http import atomic_write_bytes
from ..models import Check, IngestError, Markdown, Outcome, Progress
from ..partitions import PartitionKey
from ..pdfs.steps import USABLE
from ..text import counts, errors_summary, markdown_table, plural, preview
from . import queries, tally
from .catalogue import Catalogue, CatalogueError, load_catalogue
from .fulltext import TEXT_VERSION
from .runner import Task, scan_tasks
from .scan import ScanResult, scan_document

ROWS_CHECK = "one_row_per_paper_term_and_scope"
SCOPES_CHECK = "full_text_includes_abstract"
SHARES_CHECK = "shares_within_bounds"
HEADLINE_TERMS = ("transformer", "llama", "qwen", "gpt", "deepseek", "bert", "pytorch", "tensorflow", "jax")


def catalogue(store, path: str) -> Catalogue:
    """The term catalogue at `path`; one that cannot be used is filed in ingest_errors."""
    try:
        return load_catalogue(path)
    except CatalogueError as exc:
        raise store.refuse(REFERENCE, "term_catalogue", path, str(exc)) from exc


def _keep_copy(store, loaded: Catalogue) -> str:
    """A copy of the catalogue with the store (`reference/terms-<sha>.yaml`; in the files folder
    for the Delta store), which the mentions steps read: when the user's file later breaks, the
    last good one goes on."""
    copy = store.beside("reference", f"terms-{loaded.sha256[:16]}.yaml")
    if copy is None:  # a store in memory
        return loaded.path
    if not copy.exists():
        atomic_write_bytes(copy, loaded.text.encode("utf-8"))  # the bytes that were loaded (UTF-8 both ways)
    return str(copy)


def stored_catalogue(store, fallback: str) -> str:
    """The catalogue `term_catalogue` last loaded (its kept copy), else `fallback`."""
    copies = queries.catalogue_copies(store)
    if len(copies) == 1 and Path(copies[0]).is_file():
        return copies[0]
    return fallback


def term_catalogue(store, path: str, log: Callable[[str], None]) -> Outcome:
    """The catalogue as table `terms`; its data version is the file's SHA-256."""
    loaded = catalogue(store, path)
    copy = _keep_copy(store, loaded)
    store.record_errors(REFERENCE, "term_catalogue", [])
    frame = pd.DataFrame([{**t.row(), "catalogue": loaded.path, "catalogue_sha256": loaded.sha256,
                           "catalogue_copy": copy} for t in loaded.terms])
    store.replace_table("terms", frame)
    kinds = counts(frame["kind"])
    log(f"{len(frame)} terms from {loaded.path} ({kinds})")
    return Outcome(rows=len(frame), row="term of the catalogue", data_version=loaded.sha256, metadata={
        "file": loaded.path, "sha256": loaded.sha256, "kinds": kinds,
        "terms": preview(frame, ["term", "kind", "organisation", "origin_country", "lab_country"], len(frame)),
    })


def _text(value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def paper_mentions(store, pk: PartitionKey, catalogue_path: str, text_dir: str, processes: int,
                   log: Callable[[str], None]) -> Outcome:
    """What each paper names, per scope (tables `paper_mentions` and `paper_texts`)."""
    catalogue_path = stored_catalogue(store, catalogue_path)
    terms = catalogue(store, catalogue_path)
    records = queries.papers_to_scan(store, pk.key, USABLE)
    with_pdf = [r for r in records if _text(r["path"])]
    tasks = [Task(os_path(r["path"]), title=_text(r["title"]), abstract=_text(r["abstract"]),  # the exact name
                  sha256=_text(r["sha256"]), cache_dir=text_dir) for r in with_pdf]
    started = time.monotonic()
    scans = scan_tasks(tasks, processes, catalogue_path=catalogue_path,
                       on_done=Progress(log, f"{pk}: full texts scanned", len(tasks)))
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
                errors.append(IngestError(pk.key, "paper_mentions", f"{r['paper_id']} ({r['path']})",
                                          f"{scan.error}; title and abstract from the metadata only", "warning"))
            result = scan_document(terms, title, None, abstract) if (title or abstract) else ScanResult()
            sources = {"title": "metadata", "abstract": "metadata"}
        rows.extend(tally.mention_rows(pk.key, r["paper_id"], result, terms, sources))
    frame, text_frame = pd.DataFrame(rows), pd.DataFrame(texts)
    found, texts = store.framed("paper_mentions", frame), store.framed("paper_texts", text_frame)
    with store.connect() as con:  # held for the writes alone (see reports.steps.headlines)
        store.replace_partition("paper_mentions", pk.key, found, con=con)
        store.replace_partition("paper_texts", pk.key, texts, con=con)
        store.record_errors(pk.key, "paper_mentions", errors, con=con)

    pages = int(text_frame["pages"].fillna(0).sum()) if len(text_frame) else 0
    read = int(text_frame["error"].isna().sum()) if len(text_frame) else 0
    cached = int(text_frame["cached"].sum()) if len(text_frame) else 0
    duplicates = frame[frame.duplicated(["paper_id", "term", "scope"], keep=False)] if len(frame) else frame
    empty = frame[frame["mentions"] < 1] if len(frame) else frame
    naming = int(frame["paper_id"].nunique()) if len(frame) else 0
    log(f"{pk}: {read}/{len(tasks)} full texts ({pages} pages, {cached} from the cache) in {took:.1f}s; "
        f"{naming}/{plural(len(records), 'paper')} {'names' if naming == 1 else 'name'} a catalogue term")
    return Outcome(rows=len(frame), row="paper, term and scope (title, abstract, body, references) naming it",
                   metadata={
        "preview": preview(frame, ["paper_id", "term", "scope", "mentions", "snippet"]),
        **errors_summary(errors),
        "papers": len(records),
        "papers_with_full_text": read,
        "papers_naming_a_term": naming,
        "pages": pages,
        "texts_from_cache": cached,
        "seconds": round(took, 2),
        "pages_per_second": round(pages / took, 1) if took > 0 else 0.0,
        "catalogue_version": terms.version,
        "papers_per_term": preview(term_summary(frame), rows=40),
    }, checks=[Check(ROWS_CHECK, duplicates.empty and empty.empty,
                     {"duplicate_rows": len(duplicates), "rows_without_matches": len(empty)})])


def term_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Papers per term in the abstract scope, the full-text scope and the references."""
    if frame.empty:
        return pd.DataFrame(columns=["term", "papers_abstract", "papers_full_text", "papers_references"])
    out = []
    for term, rows in frame.groupby("term"):
        out.append({
            "term": term,
            "papers_abstract": rows.loc[rows["scope"].isin(tally.ABSTRACT_SCOPES), "paper_id"].nunique(),
            "papers_full_text": rows.loc[rows["scope"].isin(tally.FULL_TEXT_SCOPES), "paper_id"].nunique(),
            "papers_references": rows.loc[rows["scope"] == "references", "paper_id"].nunique(),
        })
    return pd.DataFrame(out).sort_values(["papers_full_text", "term"], ascending=[False, True])


@dataclass
class Inputs:
    """What mentions_by_country and tool_dependency read."""

    catalogue: Catalogue
    meta: dict
    mentions: pd.DataFrame
    countries: pd.DataFrame
    with_text: set


def inputs(store, pk: PartitionKey, catalogue_path: str) -> Inputs:
    terms = catalogue(store, stored_catalogue(store, catalogue_path))
    with store.connect() as con:
        mentions = store.read_partition("paper_mentions", pk.key, con=con)
        countries = store.read_partition("paper_countries", pk.key, con=con)
        with_text = queries.papers_with_text(store, pk.key, con=con)
    meta = {"partition_key": pk.key, "venue": pk.venue, "year": pk.year}
    return Inputs(terms, meta, mentions, countries, with_text)


def wired_table(frame: pd.DataFrame) -> pd.DataFrame:
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


def mentions_by_country(store, pk: PartitionKey, catalogue_path: str) -> Outcome:
    """Per term and author country: papers naming the term, abstract and full text (table
    `mentions_by_country`)."""
    i = inputs(store, pk, catalogue_path)
    frame = pd.DataFrame(tally.mentions_by_country(i.meta, i.mentions, i.countries, i.catalogue, i.with_text))
    store.replace_partition("mentions_by_country", pk.key, frame)
    if len(frame):
        narrower = frame[frame["papers_full_text"] < frame["papers_abstract"]]
        too_many = frame[(frame["papers_full_text"] > frame["country_papers"])
                         | (frame["share_full_text"] > 1) | (frame["share_abstract"] < 0)
                         | (frame["fractional_full_text"] > frame["papers_full_text"] + 1e-9)]
    else:
        narrower = too_many = frame
    return Outcome(rows=len(frame), row="term and author country", metadata={
        "preview": preview(frame, ["term", "country", "country_papers", "papers_abstract", "papers_full_text"]),
        "papers_with_full_text": len(i.with_text),
        "wired_terms": preview(wired_table(frame), rows=len(HEADLINE_TERMS)),
    }, checks=[Check(SCOPES_CHECK, narrower.empty, {"rows": len(narrower)}),
               Check(SHARES_CHECK, too_many.empty, {"rows": len(too_many)})])


def tool_dependency(store, pk: PartitionKey, catalogue_path: str) -> Outcome:
    """Tool origin x the countries of the authors who name it (table `tool_dependency`)."""
    i = inputs(store, pk, catalogue_path)
    rows = tally.tool_dependency(i.meta, i.mentions, i.countries, i.catalogue)
    frame = pd.DataFrame(rows)
    store.replace_partition("tool_dependency", pk.key, frame)
    if len(frame):
        bad = frame[(frame["fractional"] < -1e-12) | (frame["fractional"] > frame["papers"] + 1e-9)
                    | (frame["papers"] > frame["origin_papers"])]
        sums = frame.groupby(["kind", "basis", "origin_country"]).agg(f=("fractional", "sum"), n=("origin_papers", "first"))
        over = sums[sums["f"] > sums["n"] + 1e-6]
    else:
        bad = over = frame
    matrices = {}
    for kind in (tally.ALL_KINDS, "library"):
        table = tally.dependency_matrix(rows, kind=kind, top=10)
        matrices[f"matrix_{kind.replace(' ', '_')}"] = Markdown(
            markdown_table(table.reset_index(), 15) if len(table) else "no tool named")
    return Outcome(rows=len(frame), row="kind of tool, basis, origin country and user country", metadata={
        "preview": preview(frame, ["kind", "basis", "origin_country", "user_country", "papers", "fractional"]),
        **matrices,
    }, checks=[Check(SHARES_CHECK, bad.empty and over.empty, {"rows_out_of_bounds": len(bad), "origins_over": len(over)})])
