"""Open a PDF safely and read its first page; resolve what it says to countries.

`read_pdf` never raises for a bad file: it returns a `PdfResult` whose `error` names the
reason (not a PDF, too large, encrypted, corrupt, truncated, no pages, no text layer, a page
that asks for too much work: pdf/budget.py). One bad file never stops a batch. Only running
out of memory is raised (a MemoryError), for the worker that reads the file under its memory
limit to report it (pipeline/pool.py, pdfs/steps.py). `result_record` gives the JSON-lines contract of
`paperatlas extract-pdf`.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..filenames import open_pdf, path_text
from .budget import TOO_COMPLEX, too_complex
from .layout import FirstPage, analyse

MAX_BYTES = 200 * 1024 * 1024  # a paper is a few MB; anything this big is not one
MAGIC = b"%PDF-"
_quiet = False


def load_pymupdf():
    """PyMuPDF, quiet. Its optional companions (pymupdf.layout and pymupdf4llm, installed
    with PyMuPDF 2) are kept out: importing them loads ONNX models into onnxruntime, numpy and
    more, half a second and about 100 MB in every process that reads PDFs, for a page analysis
    and Markdown export we do not use (ours is the package pipeline/pdfs/layout/). PyMuPDF
    imports them only if it can and reads text the same without them."""
    global _quiet
    if "pymupdf" not in sys.modules:
        for optional in ("pymupdf.layout", "pymupdf4llm"):
            sys.modules.setdefault(optional, None)  # None: `import` of it fails, as if absent
    import pymupdf

    if not _quiet:
        pymupdf.TOOLS.mupdf_display_errors(False)
        pymupdf.TOOLS.mupdf_display_warnings(False)
        # The two settings the companions make at import, which every figure in
        # docs/benchmarks.md was measured with: no quad corrections (character boxes from the
        # font's own metrics, and text extraction about 12% faster) and no anti-aliasing (we
        # never render). Set here, they hold whether or not the companions are installed.
        pymupdf.TOOLS.unset_quad_corrections(True)
        pymupdf.TOOLS.set_aa_level(0)
        _quiet = True
    return pymupdf


CRASHED = "the PDF reader (MuPDF) crashed on it: a malformed PDF? The other PDFs were read"


def pdf_limits(settings=None):
    """The time and memory one PDF's reading may take in a worker (pipeline/pool.py), from the
    settings PAPERATLAS_PDF_SECONDS and PAPERATLAS_PDF_MEMORY_MB."""
    from ..config import load_settings
    from ..pool import Limits

    settings = settings or load_settings()
    return Limits(seconds=settings.pdf_seconds, memory_mb=settings.pdf_memory_mb)


def over_limit_reason(which: str, limits) -> str:
    """The error of a PDF whose reading went over a worker's limit (pool.SECONDS or pool.MEMORY)."""
    from ..pool import SECONDS

    if which == SECONDS:
        return (f"{TOO_COMPLEX}: reading it took over {limits.seconds:,g} s (PAPERATLAS_PDF_SECONDS); "
                "its worker was stopped. The other PDFs were read")
    return (f"{TOO_COMPLEX}: reading it needed over {limits.memory_mb:,g} MB (PAPERATLAS_PDF_MEMORY_MB). "
            "The other PDFs were read")


class PdfError(Exception):
    """A PDF that cannot be read, with the reason."""


@dataclass
class PdfResult:
    file: str
    sha256: str | None = None
    pages: int | None = None
    page: FirstPage | None = None
    error: str | None = None
    # Filled by `attribute`: per author a list of ISO codes, and the paper's set.
    author_countries: list[list[str]] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)


def check_bytes(head: bytes, tail: bytes, size: int, max_bytes: int = MAX_BYTES) -> None:
    """The cheap checks on a file's first and last KB; raises PdfError."""
    if size == 0:
        raise PdfError("empty file (0 bytes)")
    if size > max_bytes:
        raise PdfError(f"too large: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    if MAGIC not in head[:1024]:
        shown = head[:16].decode("latin-1", "replace").encode("unicode_escape").decode()
        raise PdfError(f"not a PDF: no '%PDF-' header (starts with {shown!r})")
    if b"%%EOF" not in tail:
        raise PdfError("truncated: no '%%EOF' marker at the end of the file (incomplete download?)")


def checked_digest(path: Path, max_bytes: int = MAX_BYTES, digest: bool = True) -> str | None:
    """The cheap checks on the file (`check_bytes`), then its SHA-256 when `digest`. Raises
    PdfError, or OSError when the file cannot be read."""
    # Opened without blocking and checked before reading: a FIFO or a device would hang or
    # never end. Only regular files are read.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise PdfError("not a regular file (a FIFO, device or socket); only regular files are read")
    size = info.st_size
    with os.fdopen(fd, "rb") as fh:
        head = fh.read(2048)
        if size > len(head):
            fh.seek(-1024, os.SEEK_END)
            tail = fh.read()
        else:
            tail = head[-1024:]
        check_bytes(head, tail, size, max_bytes)
        if digest:
            fh.seek(0)
            return hashlib.file_digest(fh, "sha256").hexdigest()
    return None


def read_pdf(path: str | Path, max_bytes: int = MAX_BYTES, digest: bool = True) -> PdfResult:
    """Read page 1 of `path` into a `PdfResult` (error set instead of raising)."""
    path = Path(path)
    result = PdfResult(file=path_text(path))  # shown and stored: bytes a name may hold are escaped
    try:
        result.sha256 = checked_digest(path, max_bytes, digest)
        result.pages, result.page = _first_page(path)
    except PdfError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"cannot read the file: {exc.strerror or exc}"
    return result


def _first_page(path: Path) -> tuple[int, FirstPage]:
    pymupdf = load_pymupdf()
    try:
        doc = open_pdf(pymupdf, path)  # also a name that is not UTF-8 (pipeline/filenames.py)
    except Exception as exc:  # MuPDF raises FileDataError, RuntimeError, ValueError ...
        raise_if_out_of_memory(exc)
        raise PdfError(f"corrupt: MuPDF cannot open it ({short_reason(exc)})") from None
    try:
        if doc.needs_pass:
            raise PdfError("encrypted: a password is needed to open it")
        pages = doc.page_count
        if pages == 0:
            raise PdfError("no pages")
        try:
            page = doc.load_page(0)
            reason = too_complex(doc, page, 1)  # before MuPDF does the work: it cannot be interrupted
            if reason:
                raise PdfError(reason)
            data = page.get_text("dict", flags=pymupdf.TEXTFLAGS_DICT & ~pymupdf.TEXT_PRESERVE_IMAGES)
        except PdfError:
            raise
        except Exception as exc:
            raise_if_out_of_memory(exc)
            raise PdfError(f"corrupt: page 1 cannot be read ({short_reason(exc)})") from None
        chars = sum(len(s["text"].strip()) for b in data.get("blocks", ()) for ln in b.get("lines", ())
                    for s in ln.get("spans", ()))
        if chars < 20:
            images = len(page.get_images(full=False))
            what = f"{images} image(s) and " if images else ""
            raise PdfError(f"no text layer on page 1 ({what}{chars} characters of text): a scan? OCR is not attempted")
        return pages, analyse(bounded(data))
    finally:
        doc.close()


# Real first pages hold up to about 120 lines and 1,600 spans (measured on the shared corpora).
# Layout analysis grows faster than linearly with them, so a page built to hold tens of
# thousands would take minutes: only its top MAX_LINES lines and MAX_SPANS spans are read.
MAX_LINES = 600
MAX_SPANS = 8000


def bounded(data: dict) -> dict:
    """Page 1's text dict with at most MAX_LINES lines and MAX_SPANS spans, the top ones kept."""
    lines = [(ln["bbox"][1], b, i) for b, block in enumerate(data.get("blocks", ()))
             for i, ln in enumerate(block.get("lines", ()))]
    spans = sum(len(ln.get("spans", ())) for block in data.get("blocks", ()) for ln in block.get("lines", ()))
    if len(lines) <= MAX_LINES and spans <= MAX_SPANS:
        return data
    keep, budget = set(), MAX_SPANS
    for _, b, i in sorted(lines)[:MAX_LINES]:
        n = len(data["blocks"][b]["lines"][i].get("spans", ()))
        if n > budget:
            break
        keep.add((b, i))
        budget -= n
    blocks = []
    for b, block in enumerate(data.get("blocks", ())):
        kept = [ln for i, ln in enumerate(block.get("lines", ())) if (b, i) in keep]
        if kept or "lines" not in block:
            blocks.append({**block, "lines": kept} if "lines" in block else block)
    return {**data, "blocks": blocks}


_NO_MEMORY = re.compile(r"\b(?:m|c|re)alloc\b.*\bfailed|out of memory", re.I)


def raise_if_out_of_memory(exc: Exception) -> None:
    """Re-raise MuPDF's failure to allocate (under the worker's memory limit) as a MemoryError, so
    the pool reports the file as over that limit instead of as corrupt."""
    if isinstance(exc, MemoryError) or _NO_MEMORY.search(str(exc)):
        raise MemoryError(short_reason(exc)) from None


def short_reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


def iter_pdf_paths(paths: list[str | Path]) -> list[Path]:
    """Files as given; folders expanded to their *.pdf files (recursively, sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() == ".pdf"))
        else:
            out.append(p)
    return out


def attribute(result: PdfResult, resolver, placement: str = "hq") -> PdfResult:
    """Each author's countries and the paper's, decided as the pipeline decides them
    (pipeline.countries.decision) from the page's rows: affiliations with the author's e-mail
    domain, an author without affiliations through the domain alone, text tied to no author
    for the paper."""
    from ..countries import decision

    if result.page is None:
        return result
    _, rows = table_rows("", result.file, result)
    resolutions = {}
    for row in rows:
        key = decision.resolution_key(row.get("affiliation"), row.get("email_domain"))
        if key not in resolutions:
            resolutions[key] = resolver.resolve(*key).row()
    decided = decision.decide([{**r, "source": "pdf"} for r in rows], resolutions)
    by_author: dict[int, list[str]] = {}
    for d in decided:
        if d.author_position is not None:
            found = by_author.setdefault(d.author_position, [])
            found.extend(c for c in d.countries_for(placement) if c not in found)
    result.author_countries = [by_author.get(i, []) for i in range(1, len(result.page.authors) + 1)]
    result.countries = sorted(decision.paper_countries(decided, placement).get(result.file, set()))
    return result


def result_record(result: PdfResult, resolved: bool) -> dict:
    """One line of `paperatlas extract-pdf` output."""
    page = result.page
    authors = []
    if page is not None:
        for i, a in enumerate(page.authors):
            countries = result.author_countries[i] if resolved and i < len(result.author_countries) else []
            authors.append({"name": a.name, "affiliations": a.affiliations, "email": a.email,
                            "countries": sorted(countries)})
    record = {
        "file": result.file,
        "title": page.title if page else None,
        "authors": authors,
        "countries": result.countries if resolved else [],
        "error": result.error,
    }
    if page is not None:
        record["layout"] = page.layout
        if page.reason:
            record["layout_reason"] = page.reason
        if page.unassigned:
            record["unassigned_affiliations"] = page.unassigned
        if page.former:
            record["former_affiliations"] = [{"author": name, "affiliation": aff} for name, aff in page.former]
    return record


def yields_nothing(result: PdfResult) -> bool:
    """Read, but no author and no affiliation text on page 1."""
    page = result.page
    return page is not None and not page.authors and not page.unassigned


NOTHING_FOUND = ("page 1 was read but gave no author and no affiliation (layout: none); the paper's countries "
                 "come from its metadata alone")


# Bump when a change to the reading of page 1 can change what it finds: the
# `pdf_affiliations` asset's code version follows it, so Dagster marks every venue-year stale.
EXTRACTOR_VERSION = "3"  # 3: only text that reads as an affiliation is one (issue 31); shared blocks, ACM columns, streets


def table_rows(partition_key: str, paper_id: str, result: PdfResult) -> tuple[dict, list[dict]]:
    """The `pdf_documents` row and the `pdf_affiliations` rows of one read PDF.

    One affiliation row per (author, affiliation) in printed order (`author_position` is the
    author's place on the page); an author with no affiliation keeps one row (affiliation
    NULL) so their e-mail can speak; affiliation text tied to no author gets rows with a NULL
    position.
    """
    page = result.page
    doc = {
        "partition_key": partition_key, "paper_id": paper_id, "path": result.file, "sha256": result.sha256,
        "pages": result.pages, "title": page.title if page else None, "layout": page.layout if page else None,
        "authors": len(page.authors) if page else 0,
        "authors_with_affiliation": sum(1 for a in page.authors if a.affiliations) if page else 0,
        "error": result.error, "extractor_version": EXTRACTOR_VERSION,
        "layout_reason": page.reason if page else None,
        "former_affiliations": [f"{name}: {aff}" if name else aff for name, aff in page.former] if page else [],
    }
    rows: list[dict] = []
    if page is None:
        return doc, rows
    base = {"partition_key": partition_key, "paper_id": paper_id, "pdf_sha256": result.sha256}
    for position, author in enumerate(page.authors, start=1):
        domain = author.email.rsplit("@", 1)[1] if author.email else None
        person = {**base, "author_position": position, "author_name": author.name, "email": author.email,
                  "email_domain": domain}
        if not author.affiliations:
            rows.append({**person, "affiliation_index": None, "affiliation": None})
        for index, aff in enumerate(author.affiliations, start=1):
            rows.append({**person, "affiliation_index": index, "affiliation": aff})
    for index, aff in enumerate(page.unassigned, start=1):
        rows.append({**base, "author_position": None, "author_name": None, "email": None, "email_domain": None,
                     "affiliation_index": index, "affiliation": aff})
    return doc, rows
