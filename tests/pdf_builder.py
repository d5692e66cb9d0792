"""Small first pages typeset with PyMuPDF for the extraction tests: text runs placed where a
paper's layout puts them, superscript markers as smaller raised runs.

Faces are PyMuPDF's base-14 fonts (`face`: "helv" sans, "tiro" serif, "cour" mono, each with
bold and italic); footnote symbols the base-14 encoding lacks (`† ‡ ∗ ♠`) are set in the
built-in fallback font."""

from __future__ import annotations

from pathlib import Path

import pymupdf

# face -> (regular, bold, italic)
FACES = {"helv": ("helv", "hebo", "heit"), "tiro": ("tiro", "tibo", "tiit"), "cour": ("cour", "cobo", "coit")}
SYMBOL_FONT = "sym"
NEEDS_SYMBOL_FONT = set("†‡∗♠♣♦♥¶")


class Page:
    def __init__(self, face: str = "helv") -> None:
        self.doc = pymupdf.open()
        self.page = self.doc.new_page(width=612, height=792)
        self.face = face
        self._symbols: pymupdf.Font | None = None

    def _font(self, bold: bool, mono: bool, italic: bool) -> str:
        regular, bolder, slanted = FACES["cour" if mono else self.face]
        return bolder if bold else slanted if italic else regular

    def run(self, x: float, y: float, text: str, size: float = 10, bold: bool = False,
            mono: bool = False, italic: bool = False) -> float:
        """Set `text` with its baseline at y; returns the x where it ends."""
        if any(ch in NEEDS_SYMBOL_FONT for ch in text):
            if self._symbols is None:
                self._symbols = pymupdf.Font("cjk")
                self.page.insert_font(fontname=SYMBOL_FONT, fontbuffer=self._symbols.buffer)
            self.page.insert_text((x, y), text, fontsize=size, fontname=SYMBOL_FONT)
            return x + self._symbols.text_length(text, size)
        font = self._font(bold, mono, italic)
        self.page.insert_text((x, y), text, fontsize=size, fontname=font)
        return x + pymupdf.get_text_length(text, fontname=font, fontsize=size)

    def width(self, text: str, size: float = 10, bold: bool = False, mono: bool = False, italic: bool = False) -> float:
        return pymupdf.get_text_length(text, fontname=self._font(bold, mono, italic), fontsize=size)

    def runs(self, x: float, y: float, parts: list[tuple[str, bool]], size: float = 10, bold: bool = False,
             italic: bool = False) -> float:
        """Text and superscript markers in turn: [("Fei He", False), ("1,2", True), ...]."""
        for text, sup in parts:
            if sup:
                x = self.run(x, y - size * 0.35, text, size * 0.6)
            else:
                x = self.run(x, y, text, size, bold, italic=italic)
        return x

    def runs_width(self, parts: list[tuple[str, bool]], size: float = 10, bold: bool = False,
                   italic: bool = False) -> float:
        total = 0.0
        for text, sup in parts:
            if sup and any(ch in NEEDS_SYMBOL_FONT for ch in text):
                total += pymupdf.Font("cjk").text_length(text, size * 0.6)
            else:
                total += self.width(text, size * 0.6 if sup else size, False if sup else bold, italic=italic and not sup)
        return total

    def centred(self, y: float, text: str, size: float = 10, bold: bool = False, mono: bool = False,
                centre: float = 306, italic: bool = False) -> None:
        width = self.width(text, size, bold, mono, italic)
        self.run(centre - width / 2, y, text, size, bold, mono, italic)

    def centred_runs(self, y: float, parts: list[tuple[str, bool]], size: float = 10, bold: bool = False,
                     centre: float = 306, italic: bool = False) -> None:
        self.runs(centre - self.runs_width(parts, size, bold, italic) / 2, y, parts, size, bold, italic)

    def body(self, y: float, lines: int = 12, x: float = 72, size: float = 10,
             sentence: str = "We study learning with limited labels and report results on standard benchmarks here."
             ) -> None:
        """`lines` lines of body text, 12 pt apart."""
        self.stack(x, y, [sentence] * lines, size, 12)

    def stack(self, x: float, y: float, texts: list[str], size: float = 10, step: float = 12,
              italic: bool = False) -> None:
        """Lines set one under another, `step` apart, from the baseline `y`."""
        for i, text in enumerate(texts):
            self.run(x, y + step * i, text, size, italic=italic)

    def save(self, path: Path) -> Path:
        self.doc.save(path)
        return path
