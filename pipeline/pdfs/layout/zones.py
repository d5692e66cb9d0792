"""Step 2, zones: the title (the largest type in the top of the page), where the header (the
author block) ends, the footnotes at the foot of the page, a side bar beside the title block,
and the reading order of rows and of footnote columns.
"""

from __future__ import annotations

import re

from .lines import Line, _letters, body_size
from .roles import is_aff_like, is_prose

ABSTRACT_RE = re.compile(
    r"^\s*(?:a\s?b\s?s\s?t\s?r\s?a\s?c\s?t\b|summary\b|keywords\b|key\s?words\b|index terms\b|"
    r"(?:1|i)\.?\s*introduction\b|introduction$)", re.IGNORECASE)
STRONG_AFF = re.compile(r"\b(?:universit\w*|institut\w*|department|laborator\w*|college|school|inc|ltd)\b", re.I)


def _title(lines: list[Line], height: float, body: float) -> tuple[list[Line], float]:
    top = [ln for ln in lines if ln.y0 < 0.45 * height and _letters(ln.text) >= 3]
    if not top:
        return [], 0.0
    biggest = max(ln.size for ln in top)
    if biggest < body + 0.9:
        return [], 0.0
    ordered = sorted(top, key=lambda ln: (ln.y0, ln.x0))
    chosen: list[Line] = []
    for ln in ordered:
        if ln.size >= biggest - 0.6:
            if chosen and ln.y0 - chosen[-1].y1 > 1.5 * biggest:
                break
            if chosen and (ln.bold, ln.italic) != (chosen[0].bold, chosen[0].italic):
                break  # names set in the title's size but another face (ICASSP: bold title, italic names)
            chosen.append(ln)
        elif chosen:
            break
    return chosen, max(ln.y1 for ln in chosen)


def _header_end(lines: list[Line], start: float, height: float) -> float:
    after = sorted((ln for ln in lines if ln.y0 >= start - 1), key=lambda ln: (ln.y0, ln.x0))
    for ln in after:
        if ABSTRACT_RE.match(ln.text) and len(ln.text) < 400:
            # half a line up: the other column's first line may sit a little higher
            return ln.y0 - 0.6 * ln.size
    for k, (a, b) in enumerate(zip(after, after[1:])):
        if (abs(a.x0 - b.x0) < 1.5 and a.width > 200 and b.y0 > a.y0 and len(a.text) > 50 and len(b.text) > 40
                and "@" not in a.raw + b.raw and not STRONG_AFF.search(a.text)
                and not (is_aff_like(a.text) and not is_prose(a.text))):  # an ACM journal's "NAMES, affiliation"
            first = after[k - 1] if k else None
            # the paragraph's first line, indented, in the same type, a line above
            if (first is not None and 3 < first.x0 - a.x0 < 4 * a.size and abs(first.size - a.size) < 0.5
                    and 0 < a.y0 - first.y0 < 1.8 * a.size and abs(first.x1 - a.x1) < 0.1 * a.width):
                return first.y0 - 0.5
            return a.y0 - 0.5
    return min(height, start + 0.35 * height)


def _footnotes(lines: list[Line], height: float, body: float) -> list[Line]:
    # The body's size is read off the lower half: a long abstract in small type up top
    # (IEEE journals) must not make the footnotes look like body text.
    body = max(body, body_size([ln for ln in lines if ln.y0 > 0.5 * height and len(ln.text) > 30]))
    low = [ln for ln in lines if ln.y0 > 0.55 * height and ln.size <= body - 0.6 and not ln.text.isdigit()]
    # Running footers (journal name, page number) in the last few percent do not count as text below.
    big = [ln for ln in lines if ln.size > body - 0.6 and 0.5 * height < ln.y0 < 0.93 * height]
    keep = []
    for ln in low:
        below = any(b.y0 > ln.y1 - 1 and b.x0 < ln.x1 and b.x1 > ln.x0 and not b.text.strip().isdigit() for b in big)
        if not below:
            keep.append(ln)
    return keep  # in the page's own reading order


def reading_order(lines: list[Line]) -> list[Line]:
    """Rows top to bottom (lines whose tops are within half a line of the row's first),
    each row left to right."""
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda x: x.y0):
        if rows and ln.y0 - rows[-1][0].y0 < 0.5 * max(ln.size, rows[-1][0].size):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [ln for row in rows for ln in sorted(row, key=lambda x: x.x0)]


def _without_side_bar(header: list[Line], lines: list[Line], title: list[Line], end: float,
                      width: float) -> list[Line]:
    """A side bar beside the title block (PeerJ, some journals: dates, editor, licence) is not
    the author block's: when the title and the text below it start at the same indented edge,
    lines wholly left of that edge are dropped."""
    if not title:
        return header
    edge = min(ln.x0 for ln in title)
    if edge < 0.2 * width or sum(1 for ln in lines if ln.y0 > end and abs(ln.x0 - edge) < 3) < 5:
        return header
    return [ln for ln in header if ln.x1 > edge - 3]


def _foot_order(foot: list[Line], width: float, two_columns: bool) -> list[Line]:
    """Footnote lines column by column, each column in rows (justified footnotes are split
    word by word across a row; a raised marker sits a little above its row)."""
    if not foot:
        return []
    if not two_columns:
        return reading_order(foot)
    left = [ln for ln in foot if ln.x1 <= 0.56 * width]
    right = [ln for ln in foot if ln.x0 >= 0.44 * width and ln not in left]
    if len(left) + len(right) < len(foot):
        return reading_order(foot)
    return reading_order(left) + reading_order(right)
