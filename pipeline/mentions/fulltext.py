"""The full text of a PDF, every page, split into title, abstract, body and references.

Page 1 is read with its layout (to tell the title by its type size and keep it apart); the
other pages as plain text, which is several times faster. Pages are joined with a form feed.
The same checks as page-1 reading apply first (empty, not a PDF, truncated, encrypted), and
every page is checked against the work budgets (pdfs/budget.py) before MuPDF reads it.
"""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..filenames import open_pdf, path_text
from ..pdfs.budget import too_complex
from ..pdfs.extract import MAX_BYTES, PdfError, checked_digest, load_pymupdf, raise_if_out_of_memory, short_reason
from .scan import Sections, find_sections, normalise

# 2: a word broken over three lines is joined whole ("multi-\nx-\nmodal").
TEXT_VERSION = "2"


@dataclass
class FullText:
    file: str
    sha256: str | None = None
    pages: int = 0
    title: str | None = None
    text: str = ""
    abstract: tuple[int, int] | None = None
    references: tuple[int, int] | None = None
    error: str | None = None
    seconds: float = 0.0
    empty_pages: list[int] = field(default_factory=list)

    @property
    def sections(self) -> Sections:
        return Sections(self.abstract, self.references)

    def lengths(self) -> dict[str, int]:
        return {"title": len(self.title or ""), **self.sections.lengths(len(self.text))}

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> "FullText":
        data = json.loads(raw)
        for key in ("abstract", "references"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)


_P = re.compile(r'<p style="top:([-\d.]+)pt;left:([-\d.]+)pt;line-height:([-\d.]+)pt">(.*?)</p>', re.S)
_SIZE = re.compile(r"font-size:([\d.]+)pt")
_SUP = re.compile(r"<sup>.*?</sup>", re.S)
_TAG = re.compile(r"<[^>]+>")
_STAMP = re.compile(r"^\s*arXiv:\d")


def _page_one(page, pymupdf) -> tuple[str | None, str]:
    """Page 1: the title (the largest type in the top 45% of the page, at least a point above
    the body text) and the rest of its text, line by line.

    Read from MuPDF's HTML rendering, which gives each line's position and type size at the
    cost of plain text (the dict rendering costs half as much again). Superscripts (footnote
    and affiliation marks) are left out so they do not glue onto words."""
    rendered = _SUP.sub(" ", page.get_text("html", flags=pymupdf.TEXT_MEDIABOX_CLIP))
    lines: list[tuple[float, float, str]] = []  # (size, top, text)
    weight: dict[float, int] = {}
    for top, _left, _height, inner in _P.findall(rendered):
        text = html.unescape(_TAG.sub("", inner))
        if not text.strip() or _STAMP.match(text):
            continue  # superscripts alone, or the arXiv stamp in the margin
        size = max(map(float, _SIZE.findall(inner)), default=0.0)
        lines.append((size, float(top), text))
        key = round(size * 2) / 2
        weight[key] = weight.get(key, 0) + len(text)
    if not lines:
        return None, ""
    body = max(weight, key=weight.get)
    limit = 0.45 * page.rect.height
    biggest = max((ln[0] for ln in lines if ln[1] < limit and sum(c.isalpha() for c in ln[2][:40]) >= 3), default=0.0)
    chosen: set[int] = set()
    if biggest >= body + 0.9:
        last_top = None
        for n, (size, top, text) in sorted(enumerate(lines), key=lambda item: (item[1][1], item[0])):
            if top >= limit:
                break
            if size >= biggest - 0.6 and any(c.isalpha() for c in text):
                if last_top is not None and top - last_top > 2.5 * biggest:
                    break
                chosen.add(n)
                last_top = top
            elif chosen:
                break
    title = " ".join(" ".join(lines[n][2].split()) for n in sorted(chosen)) or None
    rest = "\n".join(ln[2] for n, ln in enumerate(lines) if n not in chosen)
    return title, rest


def read_fulltext(path: str | Path, max_bytes: int = MAX_BYTES, digest: bool = True) -> FullText:
    """Every page of `path` as normalised text with its sections (error set instead of raising)."""
    started = time.perf_counter()
    path = Path(path)
    result = FullText(file=path_text(path))  # shown, stored and cached: bytes a name may hold are escaped
    try:
        result.sha256 = checked_digest(path, max_bytes, digest)
        _read_pages(path, result)
    except PdfError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"cannot read the file: {exc.strerror or exc}"
    result.seconds = round(time.perf_counter() - started, 4)
    return result


def _read_pages(path: Path, result: FullText) -> None:
    pymupdf = load_pymupdf()
    try:
        doc = open_pdf(pymupdf, path)  # also a name that is not UTF-8 (pipeline/filenames.py)
    except Exception as exc:  # MuPDF raises FileDataError, RuntimeError, ValueError ...
        raise_if_out_of_memory(exc)
        raise PdfError(f"corrupt: MuPDF cannot open it ({short_reason(exc)})") from None
    flags = pymupdf.TEXT_MEDIABOX_CLIP
    try:
        if doc.needs_pass:
            raise PdfError("encrypted: a password is needed to open it")
        result.pages = doc.page_count
        if result.pages == 0:
            raise PdfError("no pages")
        texts: list[str] = []
        known: dict = {}  # what the budget check learnt of the forms the pages share
        for number in range(result.pages):
            try:
                page = doc.load_page(number)
                reason = too_complex(doc, page, number + 1, known)  # before MuPDF does the work
                if reason:
                    raise PdfError(reason)
                if number == 0:
                    result.title, text = _page_one(page, pymupdf)
                else:
                    text = page.get_text("text", flags=flags)
            except PdfError:
                raise
            except Exception as exc:
                raise_if_out_of_memory(exc)
                raise PdfError(f"corrupt: page {number + 1} cannot be read ({short_reason(exc)})") from None
            if len(text.strip()) < 20:
                result.empty_pages.append(number + 1)
            texts.append(text)
        if len(result.empty_pages) == result.pages:
            raise PdfError(f"no text layer on any of its {result.pages} pages: a scan? OCR is not attempted")
    finally:
        doc.close()
    result.title = " ".join(normalise(result.title).split()) if result.title else None
    result.text = normalise("\n\f\n".join(texts))
    sections = find_sections(result.text)
    result.abstract, result.references = sections.abstract, sections.references


# -- the text cache ----------------------------------------------------------------------------


def cache_path(directory: Path, sha256: str) -> Path:
    """Texts are cached by the PDF's content, so a moved or renamed PDF is not read again."""
    return directory / sha256[:2] / f"{sha256}.v{TEXT_VERSION}.json.gz"


def save_text(directory: Path, result: FullText) -> Path:
    """Write a read text to the cache atomically; returns its path."""
    assert result.sha256, "only texts of hashed PDFs are cached"
    target = cache_path(directory, result.sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5, mtime=0) as gz:
            gz.write(result.to_json().encode("utf-8"))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_text(path: Path) -> FullText | None:
    """A cached text, or None when it is missing or unreadable (it is then read again)."""
    try:
        with gzip.open(path, "rb") as gz:
            return FullText.from_json(gz.read().decode("utf-8"))
    except (OSError, EOFError, ValueError, TypeError):
        return None
