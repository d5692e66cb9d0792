"""Step 1, lines: page 1's horizontal text lines (`Line`, `page_lines`).

A line is a run of pieces, each words or a *marker*: a span set as a superscript (flag, or
clearly smaller than the line's text) that holds only digits, lower-case letters and footnote
symbols, or a span of footnote symbols alone at any size. Here too: the marker tokens
(`split_markers`), markers MuPDF set on a line of their own (`attach_stray_markers`), the
body's type size (`body_size`), and the text normalisation every line goes through (`nfkc`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

SYMBOLS = "*\u2217\u22c6\u2605\u2020\u2021\u00a7\u00b6\u2016#\u2660\u2663\u2665\u2666\u2661\u2662\u2664\u2667\u266e\u271d\u2709"
SYMBOL_SET = set(SYMBOLS)
MARKER_RE = re.compile(r"^[\s,0-9a-z" + re.escape(SYMBOLS) + r"'\u2019.\-]{1,14}$")
MARKER_TOKEN = re.compile(r"\d{1,2}|[a-z]|[" + re.escape(SYMBOLS) + "]")
MARKER_CANON = {"\u2217": "*", "\u22c6": "*", "\u2605": "*"}
GLUED_NUMBER = re.compile(r"^(\d{1,2})(?=[A-Z\u00c0-\u00de])")
SPACED_ACCENT = re.compile(r"\s*([\u0300-\u0326\u0329-\u036f])\s*([A-Za-z])")
SPACED_CEDILLA = re.compile(r"([A-Za-z])\s*([\u0327\u0328])")


def nfkc(text: str) -> str:
    """NFKC, with accents TeX sets apart from their letter put back on it ("Montr ´eal",
    "O˘guz", "Franc¸ois" -> "Montréal", "Oğuz", "François")."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    if SPACED_ACCENT.search(text) or SPACED_CEDILLA.search(text):
        text = SPACED_CEDILLA.sub(lambda m: unicodedata.normalize("NFC", m.group(1) + m.group(2)), text)
        text = SPACED_ACCENT.sub(lambda m: unicodedata.normalize("NFC", m.group(2) + m.group(1)), text)
    return text


def names_text(pieces: list[tuple[str, bool]]) -> str:
    """The words with each marker, and each wide gap, read as a separator ("Fei He¹˒²,
    Naiyu Gao¹" -> "Fei He, Naiyu Gao"; "Chen Wei    Laura Fischer" -> "Chen Wei, Laura Fischer")."""
    joined = re.sub(r"\S\s{3,}(?=\S)", lambda m: m.group(0)[0] + ", ", "".join(t if not m else ", " for t, m in pieces))
    return " ".join(joined.split()).strip(" ,")


@dataclass
class Line:
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool
    italic: bool
    mono: bool
    pieces: list[tuple[str, bool]]  # (text, is_marker) in order
    role: str = ""
    inline_aff: str | None = None  # ACM "NAME, affiliation" lines: the affiliation part
    own_emails: list[str] = field(default_factory=list)  # addresses printed on a name's own line

    @property
    def text(self) -> str:
        """The words, markers left out."""
        return " ".join("".join(t if not m else " " for t, m in self.pieces).split())

    @property
    def name_text(self) -> str:
        return names_text(self.pieces)

    @property
    def raw(self) -> str:
        return "".join(t for t, _ in self.pieces)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    def style(self) -> tuple[float, bool]:
        return (round(self.size * 2) / 2, self.bold)


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))


_SYMBOLS_AND_SEPARATORS = SYMBOLS + " ,"


def _is_marker(text: str, size: float, line_size: float, flags: int) -> bool:
    stripped = text.strip()
    if not stripped:
        return False
    if not stripped.strip(_SYMBOLS_AND_SEPARATORS):  # only symbols (and commas)
        return any(c in SYMBOL_SET for c in stripped)
    small = (flags & 1) or size <= 0.82 * line_size
    return bool(small and len(stripped) <= 14 and MARKER_RE.match(stripped)
                and any(c.isalnum() or c in SYMBOL_SET for c in stripped))


BOLD_FONT = re.compile(r"bold|[-,.]b$|-bd|black|heavy|semibold|\.B\b|-Bo", re.I)
_BOLD_FONTS: dict[str, bool] = {}


def _bold(span: dict) -> bool:
    if span.get("flags", 0) & 16:
        return True
    font = span.get("font", "")
    known = _BOLD_FONTS.get(font)
    if known is None:
        known = _BOLD_FONTS[font] = bool(BOLD_FONT.search(font)) if len(_BOLD_FONTS) < 4096 else False
    return known


def page_lines(page_dict: dict) -> list[Line]:
    lines: list[Line] = []
    for block in page_dict.get("blocks", ()):
        if block.get("type", 0) != 0:
            continue
        for raw in block.get("lines", ()):
            direction = raw.get("dir", (1, 0))
            if abs(direction[1]) > 0.1 or direction[0] < 0:
                continue  # rotated text: the arXiv stamp in the margin, vertical labels
            spans = [s for s in raw.get("spans", ()) if s.get("text")]
            if not spans:
                continue
            text_sizes = [s["size"] for s in spans if s["text"].strip()]
            if not text_sizes:
                continue
            line_size = max(text_sizes)
            is_marker = [_is_marker(s["text"], s["size"], line_size, s.get("flags", 0)) for s in spans]
            pieces: list[tuple[str, bool]] = []
            for s, marker in zip(spans, is_marker):
                if not s["text"].strip() and pieces and pieces[-1][1]:
                    marker = True  # a space inside a run of markers (" 1 2 3 *")
                if pieces and pieces[-1][1] == marker:
                    pieces[-1] = (pieces[-1][0] + s["text"], marker)
                else:
                    pieces.append((s["text"], marker))
            pieces = _rejoin_words(_symbols_apart(pieces))
            words = [s for s, marker in zip(spans, is_marker) if s["text"].strip() and not marker]
            main = words or spans
            size = max(s["size"] for s in main)
            if len(main) == 1:
                only = main[0]
                flags = only.get("flags", 0)
                bold, italic = _bold(only), bool(flags & 2)
                mono = bool(flags & 8) or "mono" in only.get("font", "").lower()
            else:
                weight = sum(len(s["text"]) for s in main) or 1
                bold = sum(len(s["text"]) for s in main if _bold(s)) / weight > 0.5
                italic = sum(len(s["text"]) for s in main if s.get("flags", 0) & 2) / weight > 0.5
                mono = sum(len(s["text"]) for s in main
                           if s.get("flags", 0) & 8 or "mono" in s.get("font", "").lower()) / weight > 0.5
            x0, y0, x1, y1 = raw["bbox"]
            lines.append(Line(x0, y0, x1, y1, size, bold, italic, mono, [(nfkc(t), m) for t, m in pieces]))
    return lines


_SYMBOL_RUN = re.compile("([" + re.escape(SYMBOLS) + "]+)")


def _symbols_apart(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Footnote symbols set in the text's own size ("Jongchan Park*†²") are markers too."""
    out: list[tuple[str, bool]] = []
    for text, marker in pieces:
        parts = [text] if marker else _SYMBOL_RUN.split(text)
        for k, part in enumerate(parts):
            if not part:
                continue
            is_marker = marker or k % 2 == 1
            if out and out[-1][1] == is_marker:
                out[-1] = (out[-1][0] + part, is_marker)
            else:
                out.append((part, is_marker))
    return out


def _rejoin_words(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """A marker between two capitals with no space is part of the word: a superscript digit
    in a name ("NLP²CT Lab"), a symbol in one ("A*STAR", "A⋆STAR")."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(pieces):
        text, marker = pieces[i]
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        inside = (marker and out and nxt is not None and not out[-1][1] and not nxt[1]
                  and out[-1][0][-1:].isupper() and nxt[0][:1].isupper() and out[-1][0][-1:].isascii())
        if inside and ((text.isdigit() and nxt[0][:1].isascii()) or (len(text) == 1 and text in SYMBOL_SET)):
            out[-1] = (out[-1][0] + text + nxt[0], False)
            i += 2
            continue
        out.append((text, marker))
        i += 1
    return out


def attach_stray_markers(lines: list[Line]) -> list[Line]:
    """A marker MuPDF put on a line of its own ("Pérez" then "³˒*" as a separate line, raised
    above the baseline) goes back to the end of the line it follows."""
    kept: list[Line] = []
    for ln in lines:
        raw = ln.raw.strip()
        if 0 < len(raw) <= 8 and MARKER_RE.match(raw) and any(c.isdigit() or c in SYMBOL_SET for c in raw):
            host = None
            for other in lines:
                # an italic line's box runs past its last glyph: the marker may end inside it
                if (other is not ln and other.size > ln.size * 1.15 and -12 <= ln.x0 - other.x1 < 3
                        and ln.x1 > other.x1 - 0.3 * other.size and ln.y0 < other.y1 and ln.y1 > other.y0):
                    host = other
                    break
            if host is not None:
                host.pieces.append((raw, True))
                host.x1 = max(host.x1, ln.x1)
                continue
        kept.append(ln)
    # A line MuPDF starts with the marker of the text just before it on the same row, touching
    # it ("TOMÁS LIN" | "∗   WEI BELLO†"): the marker is that text's.
    for ln in kept:
        if len(ln.pieces) < 2 or not ln.pieces[0][1] or ln.pieces[1][1]:
            continue
        host = next((o for o in kept if o is not ln and o.pieces and not o.pieces[-1][1] and o.x0 < ln.x0
                     and abs(o.size - ln.size) < 1 and abs((o.y0 + o.y1) - (ln.y0 + ln.y1)) < ln.size
                     and -0.6 * ln.size <= ln.x0 - o.x1 < 1), None)
        if host is not None:
            host.pieces.append(ln.pieces[0])
            ln.pieces = ln.pieces[1:]
    return kept


def body_size(lines: list[Line]) -> float:
    weights: dict[float, int] = {}
    for line in lines:
        key = round(line.size * 2) / 2
        weights[key] = weights.get(key, 0) + len(line.raw)
    return max(weights, key=weights.get) if weights else 10.0


def split_markers(text: str) -> list[str]:
    return [MARKER_CANON.get(t, t) for t in MARKER_TOKEN.findall(text)]
