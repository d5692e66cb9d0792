"""What a page would make MuPDF do, estimated from its content before MuPDF interprets it.

A few KB of PDF can ask for unbounded work: a form XObject that draws another form four times,
nested ten deep, is a million draws on page 1 (30 to 50 s and gigabytes in MuPDF, which cannot
be interrupted), and one compressed content stream can hold a million text-showing operators.
`check_page` reads the page's content streams and the form XObjects they draw (decompressed,
each form once), multiplies every form's own work by the number of times it is drawn down the
nesting, and says why the page is refused ("pdf too complex: …") when the totals are over
the budgets below. Real pages are far below them (measured over the 358 PDFs of the shared
corpora, every page: at most 1,713 form draws and 1,788 text operators on a page), and the
check costs about half a millisecond a page.

The estimate is an upper bound of the work, not an exact count: a name in a string that reads
like an operator is counted too. What it cannot see (a Type3 glyph procedure, an annotation's
appearance) is bounded by the worker's own limits (pipeline/pool.py: time and memory).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

MAX_FORM_DRAWS = 100_000  # form XObjects drawn on one page, nesting expanded (real pages: under 2,000)
MAX_TEXT_OPS = 100_000  # text-showing operators on one page, forms expanded (real pages: under 2,000;
#                         100,000 one-word lines take MuPDF about 3 s and 350 MB)
MAX_DEPTH = 64  # forms nested deeper than this (real papers: a handful)
TOO_COMPLEX = "pdf too complex"

# PDF's lexer, as MuPDF's: white space includes NUL; a comment runs from % to the end of its
# line and separates tokens as white space does; a name may spell any byte as #xx. Each of
# these is matched, so `/#58 Do`, `/X %c<EOL>Do` or `/X<NUL>Do` is the draw `/X Do` is.
_WS = rb"\x00\t\n\x0c\r "
_DELIM = rb"[" + _WS + rb"/\[\]()<>{}%]"
_NAME = rb"[^" + _WS + rb"/\[\]()<>{}%]+"
_GAP = rb"(?:[" + _WS + rb"]|%[^\r\n]*)*"
_DO = re.compile(rb"/(" + _NAME + rb")" + _GAP + rb"Do(?=" + _DELIM + rb"|$)")
_REF = re.compile(r"/([^\x00\s/\[\]()<>{}%]+)\s*(\d+)\s+\d+\s+R")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def _name(raw: bytes) -> bytes:
    """A name as the lexer reads it: its #xx escapes decoded."""
    return _ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw) if b"#" in raw else raw
_SHOW = (b"Tj", b"TJ", b"'", b'"')  # the text-showing operators; each needs 3 bytes or more


class _TooDeep(Exception):
    pass


@dataclass
class Work:
    forms: int = 0  # form XObjects drawn, each draw of a nested one counted
    text_ops: int = 0  # text-showing operators run, those inside forms once per draw


def _text_ops(stream: bytes) -> int:
    return sum(stream.count(op) for op in _SHOW)


def _xobjects(doc, xref: int) -> dict[str, int] | None:
    """The XObject names of the object's /Resources (None when it has no such dictionary)."""
    kind, value = doc.xref_get_key(xref, "Resources/XObject")
    if kind == "xref":
        value = doc.xref_object(int(value.split()[0]), compressed=True)
    elif kind != "dict":
        return None
    return {_name(m[1].encode("latin-1")).decode("latin-1"): int(m[2]) for m in _REF.finditer(value)}


def _page_xobjects(doc, page) -> dict[str, int]:
    """The page's XObject names, from its own resources or those it inherits from the page tree."""
    xref, seen = page.xref, set()
    while xref and xref not in seen:
        seen.add(xref)
        names = _xobjects(doc, xref)
        if names is not None:
            return names
        kind, value = doc.xref_get_key(xref, "Parent")
        xref = int(value.split()[0]) if kind == "xref" else 0
    return {}


def page_work(doc, page, known: dict | None = None) -> Work:
    """The work a page asks for; raises _TooDeep when its forms nest over MAX_DEPTH. `known`
    keeps what one document's pages share (which objects are forms, and the work of a form with
    resources of its own) from one page to the next."""
    content = page.read_contents()
    names = _page_xobjects(doc, page)
    if (not names or b"Do" not in content) and len(content) < 3 * MAX_TEXT_OPS:
        return Work()  # no form drawn, and too short to hold the budget's text operators
    known = {} if known is None else known  # xref -> Work of a form with its own resources, or None
    inherits: dict[int, Work] = {}  # forms that take the page's resources: this page's alone

    def form(xref: int, depth: int) -> Work | None:
        if xref in known:
            return known[xref]
        if xref in inherits:
            return inherits[xref]
        if doc.xref_get_key(xref, "Subtype")[1] != "/Form":
            known[xref] = None
            return None
        if depth > MAX_DEPTH:
            raise _TooDeep
        own = _xobjects(doc, xref)
        memo = inherits if own is None else known
        memo[xref] = Work()  # a form that draws itself: MuPDF stops there, and so does the count
        memo[xref] = expand(doc.xref_stream(xref) or b"", names if own is None else own, depth + 1)
        return memo[xref]

    def expand(stream: bytes, scope: dict[str, int], depth: int) -> Work:
        work = Work(text_ops=_text_ops(stream))
        for name, times in Counter(_name(n) for n in _DO.findall(stream)).items():
            xref = scope.get(name.decode("latin-1"))
            inner = form(xref, depth) if xref else None
            if inner is not None:
                work.forms += times * (1 + inner.forms)
                work.text_ops += times * inner.text_ops
        return work

    return expand(content, names, 1)


def too_complex(doc, page, number: int, known: dict | None = None) -> str | None:
    """Why page `number` (1-based) asks for more work than the budgets allow, or None. Pass one
    `known` dict for the pages of one document (see `page_work`)."""
    try:
        work = page_work(doc, page, known)
    except _TooDeep:
        return f"{TOO_COMPLEX}: page {number} nests form objects over {MAX_DEPTH} deep"
    except Exception:  # a stream MuPDF cannot decompress: its own reading of the page says why
        return None
    if work.forms > MAX_FORM_DRAWS:
        return (f"{TOO_COMPLEX}: page {number} draws {work.forms:,} form objects (nested forms); "
                f"the budget is {MAX_FORM_DRAWS:,}")
    if work.text_ops > MAX_TEXT_OPS:
        return f"{TOO_COMPLEX}: page {number} shows text {work.text_ops:,} times; the budget is {MAX_TEXT_OPS:,}"
    return None
