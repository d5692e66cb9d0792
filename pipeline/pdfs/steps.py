"""The PDF stage as its assets run it: each paper's PDF (`paper_pdfs`), then what page 1 says
(`pdf_affiliations`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

import pandas as pd

from ..filenames import os_path, path_text
from ..models import IngestError, Markdown, Outcome, Progress
from ..partitions import PartitionKey
from ..pool import Limits, ordered_map, start_method
from ..text import counts, errors_summary, markdown_table, preview
from . import queries
from .downloads import PdfItem, PdfStore
from .extract import (
    CRASHED,
    NOTHING_FOUND,
    PdfResult,
    load_pymupdf,
    over_limit_reason,
    pdf_limits,
    read_pdf,
    table_rows,
    yields_nothing,
)

USABLE = ("stored", "downloaded", "local")  # statuses of a PDF that can be read


def crashed(path: str | Path) -> PdfResult:
    return PdfResult(file=path_text(path), error=CRASHED)


def read_first_pages(paths: Sequence[str | Path], processes: int, on_done: Callable[[int], None] | None = None,
                     limits: Limits | None = None, digest: bool = True) -> Iterator[PdfResult]:
    """`read_pdf` over `paths`, in order, always in worker processes (pipeline/pool.py): one PDF
    that kills MuPDF costs only itself, and one that takes longer or more memory than `limits`
    (default: the settings, `pdf_limits`) is stopped and gets a "pdf too complex" error."""
    paths = [str(p) for p in paths]
    limits = limits or pdf_limits()
    if start_method() == "fork":
        load_pymupdf()  # loaded once, before the workers are forked
    # load_pymupdf: each worker loads MuPDF before its memory limit is set (a no-op after a fork)
    read = read_pdf if digest else partial(read_pdf, digest=False)  # from a light module: quick to spawn
    results = ordered_map(read, paths, max(1, processes),
                          crashed, initializer=load_pymupdf, limits=limits,
                          over_limit=lambda path, which: PdfResult(file=path_text(path),
                                                                    error=over_limit_reason(which, limits)))
    for n, result in enumerate(results, start=1):
        if on_done:
            on_done(n)
        yield result


def first_page_titles(paths: Sequence[str | Path], processes: int | None = None) -> dict[str | Path, str | None]:
    """The title typeset on page 1 of each PDF (None when it cannot be read), by the path as
    given, read in the limited workers as `read_first_pages` reads: a local folder's papers
    without a title in papers.csv take theirs from here, and no PDF is opened in the calling
    process (the `raw_papers` step)."""
    if not paths:
        return {}
    results = read_first_pages(paths, processes or os.cpu_count() or 1, digest=False)
    return {path: result.page.title if result.page else None for path, result in zip(paths, results)}


def paper_pdfs(store, pk: PartitionKey, pdfs: PdfStore, mode: str, log: Callable[[str], None]) -> Outcome:
    """Each paper's PDF in the PDF store (downloaded once) or its local folder; table `paper_pdfs`."""
    papers = queries.pdf_links(store, pk.key)
    items = [PdfItem(r["paper_id"], r["pdf_url"], r["pdf_path"]) for r in papers]
    if mode == "off":  # a local folder's PDFs are its papers: they are read whatever the mode
        items = [i for i in items if i.local_path]
        log(f"{pk}: PDFs off (PAPERATLAS_PDFS=off): only local files are read ({len(items)})")
    progress = Progress(log, f"{pk}: PDFs", len(items))
    records = pdfs.collect(pk.key, items, on_progress=lambda n, total, r: progress(n))
    frame = pd.DataFrame([r.row() for r in records])
    errors = [IngestError(pk.key, "paper_pdfs", r.paper_id, r.error) for r in records if r.status == "failed"]
    with store.connect() as con:
        store.replace_partition("paper_pdfs", pk.key, frame, con=con)
        store.record_errors(pk.key, "paper_pdfs", errors, con=con)
    statuses = counts(frame["status"]) if len(frame) else {}
    usable = sum(n for s, n in statuses.items() if s in USABLE)
    log(f"{pk}: {usable}/{len(papers)} papers have a PDF ({statuses})")
    return Outcome(rows=len(frame), row="paper (its PDF, or why there is none)", metadata={
        "preview": preview(frame, ["paper_id", "status", "bytes", "error"]),
        **errors_summary(errors),
        "mode": mode,
        "papers": len(papers),
        "papers_with_pdf": usable,
        "statuses": statuses,
        "megabytes": round(float(frame["bytes"].fillna(0).sum()) / 1e6, 1) if len(frame) else 0.0,
    })


def pdf_affiliations(store, pk: PartitionKey, processes: int, log: Callable[[str], None]) -> Outcome:
    """Authors, affiliation strings and e-mails off page 1 of each PDF (tables
    `pdf_affiliations` and `pdf_documents`); unreadable PDFs go to ingest_errors."""
    pdfs = queries.usable_pdfs(store, pk.key, USABLE)
    started = time.monotonic()
    # The store keeps each path as exact text (pipeline/filenames.py); the file is opened by its bytes.
    results = list(read_first_pages([os_path(r["path"]) for r in pdfs], processes,
                                    Progress(log, f"{pk}: first pages read", len(pdfs))))
    took = time.monotonic() - started
    docs, rows, errors = [], [], []
    for pdf, result in zip(pdfs, results):
        result.file = pdf["path"]  # as stored and shown, not the name's bytes it was opened by
        doc, found = table_rows(pk.key, pdf["paper_id"], result)
        docs.append(doc)
        rows.extend(found)
        if result.error:
            errors.append(IngestError(pk.key, "pdf_affiliations", f"{pdf['paper_id']} ({result.file})", result.error))
        elif yields_nothing(result):
            errors.append(IngestError(pk.key, "pdf_affiliations", f"{pdf['paper_id']} ({result.file})", NOTHING_FOUND,
                                      severity="warning"))
    frame, documents = pd.DataFrame(rows), pd.DataFrame(docs)
    with store.connect() as con:
        store.replace_partition("pdf_affiliations", pk.key, frame, con=con)
        store.replace_partition("pdf_documents", pk.key, documents, con=con)
        store.record_errors(pk.key, "pdf_affiliations", errors, con=con)
    read = len(pdfs) - sum(1 for e in errors if e.severity == "error")
    empty = sum(1 for e in errors if e.severity == "warning")
    with_aff = int((documents["authors_with_affiliation"] > 0).sum()) if len(documents) else 0
    log(f"{pk}: {read}/{len(pdfs)} PDFs read in {took:.1f}s with {processes} processes; "
        f"{with_aff} tie affiliations to authors" + (f"; {empty} gave no author and no affiliation" if empty else ""))
    return Outcome(rows=len(frame), row="author and affiliation read off a PDF's first page", metadata={
        "preview": preview(frame, ["paper_id", "author_position", "author_name", "affiliation", "email"]),
        **errors_summary(errors),
        "pdfs": len(pdfs),
        "pdfs_read": read,
        "pdfs_with_author_affiliations": with_aff,
        "pdfs_with_nothing": empty,
        "layouts": counts(documents["layout"].dropna().astype(str)) if len(documents) else {},
        "seconds": round(took, 2),
        "pdfs_per_second": round(len(pdfs) / took, 1) if took > 0 else 0.0,
        "documents": Markdown(markdown_table(documents, 10, ["paper_id", "title", "layout", "authors", "error"])),
    })
