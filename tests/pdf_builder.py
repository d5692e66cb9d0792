"""Small first pages typeset with PyMuPDF for the extraction tests: text runs placed where a
paper's layout puts them, superscript markers as smaller raised runs."""

from __future__ import annotations

from pathlib import Path

import pymupdf


class Page:
    def __init__(self) -> None:
        self.doc = pymupdf.open()
        self.page = self.doc.new_page(width=612, height=792)

    def run(self, x: float, y: float, text: str, size: float = 10, bold: bool = False,
            mono: bool = False) -> float:
        """Set `text` with its baseline at y; returns the x where it ends."""
        font = "cour" if mono else ("hebo" if bold else "helv")
        self.page.insert_text((x, y), text, fontsize=size, fontname=font)
        return x + pymupdf.get_text_length(text, fontname=font, fontsize=size)

    def runs(self, x: float, y: float, parts: list[tuple[str, bool]], size: float = 10, bold: bool = False) -> float:
        """Text and superscript markers in turn: [("Fei He", False), ("1,2", True), ...]."""
        for text, sup in parts:
            if sup:
                x = self.run(x, y - size * 0.35, text, size * 0.6)
            else:
                x = self.run(x, y, text, size, bold)
        return x

    def centred(self, y: float, text: str, size: float = 10, bold: bool = False, mono: bool = False,
                centre: float = 306) -> None:
        font = "cour" if mono else ("hebo" if bold else "helv")
        width = pymupdf.get_text_length(text, fontname=font, fontsize=size)
        self.run(centre - width / 2, y, text, size, bold, mono)

    def body(self, y: float, lines: int = 12, x: float = 72, size: float = 10,
             sentence: str = "We study learning with limited labels and report results on standard benchmarks here."
             ) -> None:
        """`lines` lines of body text, 12 pt apart."""
        self.stack(x, y, [sentence] * lines, size, 12)

    def stack(self, x: float, y: float, texts: list[str], size: float = 10, step: float = 12) -> None:
        """Lines set one under another, `step` apart, from the baseline `y`."""
        for i, text in enumerate(texts):
            self.run(x, y + step * i, text, size)

    def save(self, path: Path) -> Path:
        self.doc.save(path)
        return path
