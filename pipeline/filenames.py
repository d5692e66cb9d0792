"""File names as a POSIX file system has them: bytes, which need not be UTF-8 (`caf\\xe9.pdf`, as
old archives unpack) and may hold control characters (`\\x1b[31m`, which a terminal acts on).

Such a name is kept, stored and shown as one text (`path_text`): each byte that is not part of a
printable UTF-8 character is written `\\xNN`, and a backslash `\\\\`; everything else stays as it
is. That text is exact (`path_bytes` gives the name back byte for byte, `os_path` the path to
open), storable (UTF-8, no control character) and safe to print or put in a page. An ordinary
name is its own text.
"""

from __future__ import annotations

import os
import re

# A name with none of these is its own text: a backslash, C0 controls, DEL and C1 controls, and
# the surrogates `os.fsdecode` holds undecodable bytes in.
_ODD = re.compile("[\\\\\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_ESCAPE = re.compile(r"\\(?:\\|x([0-9a-fA-F]{2}))")


def _escaped(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if "\udc80" <= ch <= "\udcff":  # a byte UTF-8 could not decode, as os.fsdecode holds it
        return f"\\x{ord(ch) - 0xdc00:02x}"
    return "".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))


def path_text(path: str | bytes | os.PathLike) -> str:
    """The path as exact, storable, printable text (see the module's docstring)."""
    text = os.fsencode(path).decode("utf-8", "surrogateescape")
    if not _ODD.search(text):
        return text
    return _ODD.sub(lambda m: _escaped(m.group()), text)


def path_bytes(text: str) -> bytes:
    """The name `path_text` made `text` from, byte for byte. A lone backslash (a path stored
    before names were escaped) stands for itself."""
    out, pos = bytearray(), 0
    for m in _ESCAPE.finditer(text):
        out += text[pos:m.start()].encode("utf-8", "surrogateescape")
        out += b"\\" if m.group(1) is None else bytes([int(m.group(1), 16)])
        pos = m.end()
    out += text[pos:].encode("utf-8", "surrogateescape")
    return bytes(out)


def os_path(text: str) -> str:
    """The path to open for a text of `path_text`: a `str` that Python's file functions turn back
    into the exact bytes (`os.fsdecode`)."""
    return text if "\\" not in text else os.fsdecode(path_bytes(text))


def open_pdf(pymupdf, path: str | os.PathLike):
    """`pymupdf.open` on a file by name. MuPDF takes a name as UTF-8, so a name that is not UTF-8
    is opened by Python and its bytes handed over (their size is checked before: `checked_digest`)."""
    name = os.fspath(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        with open(name, "rb") as fh:
            return pymupdf.open(stream=fh.read(), filetype="pdf")
    return pymupdf.open(name, filetype="pdf")
