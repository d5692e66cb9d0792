"""Steps 4 and 5: authors to affiliations and e-mails, and the result (`FirstPage`, `Author`).

Names are read in printed order from the name lines (`_names`; column blocks, `Block`).
Affiliations are tied by markers, by position (`_by_position`), or by name from the
footnotes (footnotes.py: IEEE sentences, Springer's name groups, ACM "Authors' addresses").
E-mails go by block, else to the best-fitting name. `analyse` runs the five steps on page 1's
text dict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..emails import assign_emails, find_emails
from .entries import Entry, _entries, _leading_markers, clean_affiliation
from .footnotes import FORMER_RE, NAME_SUFFIX, SENTENCE_WORDS, _footnote_entries, _match_author, _name_groups
from .lines import Line, _letters, attach_stray_markers, body_size, page_lines, split_markers
from .roles import (
    AFF_RE,
    EXCLUDE_RE,
    NAME_SPLIT,
    _name_chunks,
    _places,
    _roles,
    _strip_credentials,
    is_aff_like,
    is_affiliation_text,
    is_name_like,
)
from .zones import (
    ABSTRACT_RE,
    STRONG_AFF,
    _foot_order,
    _footnotes,
    _header_end,
    _title,
    _without_side_bar,
    reading_order,
)


@dataclass
class Author:
    name: str
    markers: list[str] = field(default_factory=list)
    affiliations: list[str] = field(default_factory=list)
    email: str | None = None


@dataclass
class FirstPage:
    title: str | None
    authors: list[Author]
    # Affiliation text found on the page that no author could be tied to.
    unassigned: list[str]
    emails: list[str]
    layout: str  # how authors were tied to affiliations: markers, blocks, shared, footnote, none
    # Why no author could be tied to an affiliation (layout "none"), in words; None otherwise.
    reason: str | None = None
    # "Work done while at X", "during an internship at X", "X was with Y": (name or None, place).
    # Recorded, never counted.
    former: list[tuple[str | None, str]] = field(default_factory=list)


@dataclass(eq=False)
class Block:
    """Name lines stacked in one column (a name that wraps, or a group of names)."""
    lines: list[Line]

    @property
    def x0(self) -> float:
        return min(ln.x0 for ln in self.lines)

    @property
    def x1(self) -> float:
        return max(ln.x1 for ln in self.lines)

    @property
    def y0(self) -> float:
        return min(ln.y0 for ln in self.lines)

    @property
    def y1(self) -> float:
        return max(ln.y1 for ln in self.lines)

    @property
    def size(self) -> float:
        return max(ln.size for ln in self.lines)

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2


def _name_blocks(name_lines: list[Line]) -> list[Block]:
    blocks: list[Block] = []
    for ln in sorted(name_lines, key=lambda x: (x.y0, x.x0)):
        for b in blocks:
            last = b.lines[-1]
            if -0.3 * ln.size <= ln.y0 - last.y1 < 0.8 * ln.size and _overlap((last.x0, last.x1), (ln.x0, ln.x1)) > 0:
                b.lines.append(ln)
                break
        else:
            blocks.append(Block([ln]))
    rows: list[list[Block]] = []
    for b in sorted(blocks, key=lambda b: b.y0):
        if rows and b.y0 - rows[-1][0].y0 < 0.5 * b.size:
            rows[-1].append(b)
        else:
            rows.append([b])
    return [b for row in rows for b in sorted(row, key=lambda b: b.x0)]


def _names(name_lines: list[Line], flow: bool) -> list[tuple[Author, object]]:
    """Authors in printed order, each with what owns their affiliations by position: their
    line when names flow in rows with markers, else their column block."""
    if flow:
        sequences = [(reading_order(name_lines), None)]
    else:
        sequences = [(b.lines, b) for b in _name_blocks(name_lines)]
    out: list[tuple[Author, object]] = []
    for ordered, block in sequences:
        carry = ""
        for idx, ln in enumerate(ordered):
            owner = block if block is not None else ln
            chunks: list[list] = []  # [text, markers]: a marker closes the name before it
            current = carry
            carry = ""
            for text, marker in ln.pieces:
                if marker:
                    if current.strip(" ,;"):
                        chunks.append([current, split_markers(text)])
                    elif chunks:
                        chunks[-1][1].extend(split_markers(text))
                    current = ""
                    continue
                current += text
            tail = current
            if tail.strip():
                pieces = NAME_SPLIT.split(tail)
                following = ordered[idx + 1] if idx + 1 < len(ordered) else None
                head = _name_chunks(following.name_text)[:1] if following is not None else []
                if (following is not None and head and not re.search(r"(?:,|;|\band)\s*$", tail)
                        and 0 < following.y0 - ln.y0 < 2.5 * ln.size
                        and (len(pieces[-1].split()) == 1 or len(head[0].split()) == 1)):
                    # a name broken across lines ("... Songfang" / "Huang²"; "Paulo Ro-" / "cha⁹")
                    carry = pieces[-1].rstrip()
                    if carry.endswith("-") and head[0][:1].islower():
                        carry = carry[:-1]
                    elif not carry.endswith("-"):
                        carry += " "
                    tail = tail[: len(tail) - len(pieces[-1])]
                chunks.append([tail, []])
            for text, markers in chunks:
                names = _name_chunks(text)
                for k, name in enumerate(names):
                    name = re.sub(r"^(?:and|by)\s+", "", name, flags=re.I).strip()
                    if name and NAME_SUFFIX.fullmatch(name) and out:
                        out[-1][0].name += ", " + name + ("." if name in ("Jr", "Sr") else "")  # "John Smith, Jr."
                        out[-1][0].markers.extend(m for m in markers if m not in out[-1][0].markers)
                        continue
                    if name:
                        mk = markers if k == len(names) - 1 else []
                        out.append((Author(name, list(dict.fromkeys(mk))), owner))
        if carry.strip():
            out.append((Author(carry.strip(" ,;"), []), block if block is not None else ordered[-1]))
    return out


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


def _by_position(named: list[tuple[Author, Line]], entries: list[Entry]) -> list[Entry]:
    """Tie each entry to the name line(s) above it in its column; returns the entries no
    name line could take."""
    name_lines: list[Line] = []
    for _, ln in named:
        if ln not in name_lines:
            name_lines.append(ln)
    owners: dict[int, list[Entry]] = {id(ln): [] for ln in name_lines}
    loose = []
    for e in entries:
        x0, y0, x1, _ = e.box
        above = [ln for ln in name_lines if ln.y0 < y0 + 1]
        if not above:
            loose.append(e)
            continue
        overlapping = [ln for ln in above if _overlap((ln.x0, ln.x1), (x0, x1)) > 0]
        row_y = max(ln.y0 for ln in overlapping or above)
        row = [ln for ln in above if abs(ln.y0 - row_y) < 0.6 * ln.size]
        hits = [ln for ln in row if _overlap((ln.x0, ln.x1), (x0, x1)) > 0]
        if len(hits) >= 2:
            hits = row  # under several names of the row: a shared affiliation, the row's
        elif not hits and row:
            hits = [min(row, key=lambda ln: abs(ln.xc - (x0 + x1) / 2))]
        hits = hits + _stacked_rows(row, above, entries, (x0, x1))
        for ln in hits:
            owners[id(ln)].append(e)
    # A row where some names got an entry under several names and others got none: the
    # entry is the row's.
    for ln in name_lines:
        if owners[id(ln)]:
            continue
        row = [o for o in name_lines if abs(o.y0 - ln.y0) < 0.6 * ln.size and owners[id(o)]]
        shared = [e for o in row for e in owners[id(o)] if sum(1 for r in row if e in owners[id(r)]) >= 2]
        if shared:
            owners[id(ln)] = list(dict.fromkeys(shared))
    for author, ln in named:
        author.affiliations = [e.text for e in owners[id(ln)]]
    return loose


def _one_block_below(named: list[tuple[Author, object]], entries: list[Entry], loose: list[Entry]) -> bool:
    """Do the entries make one block under every name, tied to some authors and not others?
    Then it is the byline's shared affiliation: every author with the same one, all entries
    below the last name line, stacked in one column with no gap, none tied to no one."""
    tied = {tuple(a.affiliations) for a, _ in named if a.affiliations}
    if loose or len(tied) != 1 or all(a.affiliations for a, _ in named) or len(list(tied)[0]) != len(entries):
        return False
    boxes = sorted((e.box for e in entries), key=lambda b: b[1])
    if boxes[0][1] < max(ln.y1 for _, ln in named) - 1:
        return False
    return all(b[1] - a[3] < 1.5 * (a[3] - a[1]) and min(a[2], b[2]) > max(a[0], b[0]) for a, b in zip(boxes, boxes[1:]))


def _stacked_rows(row: list[Line], above: list[Line], entries: list[Entry], span: tuple[float, float]) -> list[Line]:
    """Rows of names stacked right above `row` with no affiliation between them share the
    entry under the stack (ICLR: twelve names in three rows, one affiliation below)."""
    out: list[Line] = []
    top = min(ln.y0 for ln in row)
    size = max(ln.size for ln in row)
    while True:
        higher = [ln for ln in above if ln.y1 <= top + 0.3 * size and ln not in row and ln not in out]
        if not higher:
            return out
        y = max(ln.y0 for ln in higher)
        next_row = [ln for ln in higher if abs(ln.y0 - y) < 0.6 * ln.size]
        bottom = max(ln.y1 for ln in next_row)
        if top - bottom > 1.2 * size or any(bottom - 1 < e.box[1] < top for e in entries):
            return out
        touching = [ln for ln in next_row if _overlap((ln.x0, ln.x1), span) > 0]
        if not touching:
            return out
        out.extend(next_row if len(touching) >= 2 or len(next_row) == 1 else touching)
        top = min(ln.y0 for ln in next_row)


def analyse(page_dict: dict) -> FirstPage:
    """Page 1's title, authors, affiliations and e-mails. When the first reading finds no
    author, the page is read again with fewer assumptions (no title taken from lines that
    look like names, no end to the author block at a gap): a byline set larger than the
    title, or an author block below a teaser, is still found."""
    page = _analyse(page_dict, relaxed=False)
    if page.authors:
        return page
    again = _analyse(page_dict, relaxed=True)
    return again if again.authors else page


def _analyse(page_dict: dict, relaxed: bool) -> FirstPage:
    """One reading of page 1, the five steps in turn; `relaxed` as `analyse` says."""
    width = page_dict.get("width", 612.0)
    height = page_dict.get("height", 792.0)
    lines = attach_stray_markers([ln for ln in page_lines(page_dict) if 0 <= ln.x0 < width and 0 <= ln.y0 < height])
    if not lines:
        return FirstPage(None, [], [], [], "none", "no text lines on page 1")
    body = body_size(lines)
    title, title_lines, header = _title_and_header(lines, width, height, body, relaxed)
    for ln in header:
        _strip_credentials(ln)
    _acm_inline(header)
    _roles(header)
    emails: list[str] = []
    for ln in header:
        if ln.role == "email" or "@" in ln.raw or ln.own_emails:
            emails.extend(e for e in ln.own_emails + find_emails(ln.raw) if e not in emails)
    name_lines = [ln for ln in header if ln.role == "name"]
    aff_lines = [ln for ln in header if ln.role == "aff"]
    # Names carrying markers flow in rows (a name may wrap to the next row); otherwise each
    # column of name lines is a block with the affiliations under it.
    flow = any(m and t.strip() for ln in name_lines for t, m in ln.pieces)
    named = _names(name_lines, flow)
    authors = [a for a, _ in named]
    _leading_markers(aff_lines, {m for a in authors for m in a.markers})
    entries = _entries(aff_lines, width)
    inline = {" ".join(name.split()): ln.inline_aff for ln in header if ln.inline_aff for name in _name_chunks(ln.text)}

    foot = _footnotes(lines, height, body)
    foot += _marked_notes(lines, foot, height, {m for a in authors for m in a.markers})
    text_lines = [ln for ln in lines if ln.y0 > 0.4 * height and len(ln.text) > 40]
    two_columns = sum(ln.width < 0.5 * width for ln in text_lines) > 0.7 * max(len(text_lines), 1)
    foot = _foot_order(foot, width, two_columns)
    foot_entries, by_name, foot_emails, former = _footnote_entries(foot)
    emails.extend(e for e in foot_emails if e not in emails)
    by_name.extend(_name_groups(foot, authors))

    layout, unassigned = _tie_affiliations(authors, named, entries, foot_entries, inline, by_name)
    # The invariant: nothing is an author's affiliation, or the page's, unless it reads as one.
    for a in authors:
        a.affiliations = [x for x in a.affiliations if is_affiliation_text(x)]
    unassigned = [x for x in unassigned if is_affiliation_text(x)]
    for ln in header:
        if ln.role == "other":
            former.extend((None, clean_affiliation(m["aff"])) for m in FORMER_RE.finditer(ln.text))
    reason = None
    if not any(a.affiliations for a in authors):
        layout = "none"
        if not unassigned:
            unassigned = _loose_affiliations(lines, title_lines, header, foot, height)
        reason = _why_none(authors, unassigned)

    mapping = _email_owners(authors, named, name_lines, header, emails, flow)
    for i, a in enumerate(authors):
        a.email = mapping.get(i)
        a.name = _clean_name(a.name)
    formers = list(dict.fromkeys((n, a) for n, a in former if _letters(a) >= 3))
    return FirstPage(title, authors, list(dict.fromkeys(unassigned)), emails, layout, reason, formers)


def _title_and_header(lines: list[Line], width: float, height: float, body: float, relaxed: bool
                      ) -> tuple[str | None, list[Line], list[Line]]:
    """Step 2 for the author block: the title, its lines, and the header's lines top to bottom
    (from the title to the abstract, a side bar left out, ended at a gap of four body lines).
    `relaxed`: no title taken from lines that look like names, no end at a gap."""
    title_lines, title_end = _title(lines, height, body)
    if relaxed:
        ordered = sorted(title_lines, key=lambda x: (x.y0, x.x0))
        # a byline set as large as the title: a list of names, or a name under the title's first line
        title_lines = [ln for k, ln in enumerate(ordered) if not (is_name_like(ln.name_text) and (
            k > 0 or re.search(r",|\band\b|&", ln.name_text)))]
        title_end = max((ln.y1 for ln in title_lines), default=0.0)
    title = " ".join(ln.text for ln in sorted(title_lines, key=lambda x: (x.y0, x.x0))) or None
    start = title_end if title_lines else 0.0
    end = _header_end(lines, start + 1, height)
    header = sorted((ln for ln in lines if start - 1 <= ln.y0 < end and ln not in title_lines),
                    key=lambda x: (x.y0, x.x0))
    header = _without_side_bar(header, lines, title_lines, end, width)
    # The author block is compact: a gap of four body lines ends it.
    for a, b in zip(header, header[1:]):
        if b.y0 - a.y1 > 4 * body and not relaxed:
            header = [ln for ln in header if ln.y0 <= a.y0]
            break
    return title, title_lines, header


def _tie_affiliations(authors: list[Author], named: list[tuple[Author, object]], entries: list[Entry],
                      foot_entries: list[Entry], inline: dict[str, str], by_name: list[tuple[str, str]]
                      ) -> tuple[str, list[str]]:
    """Step 4: give the authors their affiliations (by markers, by position, from ACM inline
    lines, from footnotes by name); returns how they were tied (the layout) and the
    affiliation text tied to no author."""
    unassigned: list[str] = []
    author_marks = {m for a in authors for m in a.markers}
    marked = [e for e in entries + foot_entries if e.markers and set(e.markers) & author_marks]
    layout = "none"
    if marked:
        layout = "markers"
        unmarked = [e for e in entries if not e.markers]
        for a in authors:
            affs = [e.text for e in marked if set(e.markers) & set(a.markers)]
            if not affs and unmarked:
                affs = [e.text for e in unmarked]
            a.affiliations = list(dict.fromkeys(affs))
        used = {e.text for a in authors for e in marked if e.text in a.affiliations} | {e.text for e in unmarked}
        unassigned = [e.text for e in entries if e.text not in used]
    elif entries:
        layout = "blocks"
        loose = _by_position(named, entries)
        if all(not a.affiliations for a in authors) and entries:
            layout = "shared"
            for a in authors:
                a.affiliations = [e.text for e in entries]
            loose = []
        elif _one_block_below(named, entries, loose):
            # names in a grid over one centred block: the block is everyone's, not only the
            # names it happens to sit under
            layout = "shared"
            for a in authors:
                a.affiliations = a.affiliations or [e.text for e in entries]
        unassigned = [e.text for e in loose]
    elif foot_entries and authors:
        layout = "footnote"
        unassigned = [e.text for e in foot_entries if not e.markers]
    for a in authors:  # ACM journals: "NAME, affiliation" on the name's own line
        if a.name.strip(" ,") in inline:
            a.affiliations = list(dict.fromkeys([inline[a.name.strip(" ,")], *a.affiliations]))
            layout = layout if layout != "none" else "blocks"
    for name, aff in by_name:
        if name == "*":
            for a in authors:
                if aff not in a.affiliations:
                    a.affiliations.append(aff)
            layout = layout if layout != "none" or not authors else "footnote"
            if not authors:
                unassigned.append(aff)
            continue
        target = _match_author(authors, name)
        if target is not None:
            if aff not in target.affiliations:
                target.affiliations.append(aff)
            layout = layout if layout != "none" else "footnote"
        else:
            unassigned.append(aff)
    # Authors still without an affiliation take the unmarked shared ones when there is one.
    if authors and len(unassigned) == 1 and all(not a.affiliations for a in authors):
        for a in authors:
            a.affiliations = list(unassigned)
        unassigned = []
    return layout, unassigned


def _email_owners(authors: list[Author], named: list[tuple[Author, object]], name_lines: list[Line],
                  header: list[Line], emails: list[str], flow: bool) -> dict[int, str]:
    """Step 5: author index -> e-mail address. An address alone under a one-name block, or
    alone on the name's own line, is that author's; the rest go to the best-fitting names."""
    fixed = {} if flow else _block_emails(named, header)
    for i, (a, _) in enumerate(named):  # one name and one address on the same line
        line = next((ln for ln in name_lines if ln.own_emails and len(ln.own_emails) == 1
                     and " ".join(ln.text.split()).strip(" ,") == a.name.strip(" ,")), None)
        if line is not None:
            fixed[i] = line.own_emails[0]
    return assign_emails([a.name for a in authors], emails, fixed)


def _why_none(authors: list[Author], loose: list[str]) -> str:
    if not authors and not loose:
        return "no author names and no affiliation text found on page 1"
    if not authors:
        return "no author names found; the page's affiliation text gives the paper's countries"
    if not loose:
        return "author names found, but no affiliation text on page 1 (the e-mail domains may still speak)"
    return "affiliation text found, but not tied to authors; it gives the paper's countries"


PROSE_WORDS = re.compile(r"\b(?:the|a|an|to|in|for|with|by|from|that|which|on|as|be|can|these|its)\b")


def _loose_affiliations(lines: list[Line], title: list[Line], header: list[Line], foot: list[Line],
                        height: float) -> list[str]:
    """Affiliation-looking lines anywhere above the abstract or in the footnotes, when the
    author block gave none: short lines naming an institution (a university, an institute, a
    department, a company with its legal form) or an institution word and a place."""
    out: list[str] = []
    seen = {id(ln) for ln in title}
    pool = [ln for ln in lines if ln.y0 < 0.4 * height and id(ln) not in seen] + foot
    for ln in sorted(pool, key=lambda x: (x.y0, x.x0)):
        text = clean_affiliation(ln.text)
        if not 6 <= len(text) <= 160 or EXCLUDE_RE.search(text) or ABSTRACT_RE.match(text):
            continue
        if (re.search(r"\b(?:we|our|this paper|in this|is|are|was|were|has|have)\b", text) or text[:1].islower()
                or text.endswith("-") or len(PROSE_WORDS.findall(text)) >= 2):
            continue  # a line of the text, not an address
        if is_affiliation_text(text) and (STRONG_AFF.search(text) or (AFF_RE.search(text) and _places().search(text))):
            out.append(text)
    return out


def _clean_name(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip(" ,;:*")
    return name


ACM_NAME = re.compile(r"\s*(?:and\s+)?(?P<name>[A-Z][A-Z.\-'\u2019\u00c0-\u00de]*(?:\s+[A-Z][A-Z.\-'\u2019\u00c0-\u00de]*)+)"
                      r"(?:\s*,\s*|\s+and\s+)")


def _acm_inline(header: list[Line]) -> None:
    """ACM journals print "KYLE LO, Allen Institute for AI, USA" on one line: a name in
    capitals, then the affiliation. Split such lines into a name line and its affiliation."""
    for ln in header:
        text = ln.text
        at = 0
        names: list[str] = []
        # names in capitals, each of two words or more and naming no institution, apart by
        # commas and "and" ("MEI LIN, CARLOS ORTEGA, and SOPHIE LAURENT, Inria, France")
        for m in ACM_NAME.finditer(text):
            if m.start() != at or is_aff_like(m.group("name")):
                break
            names.append(m.group("name"))
            at = m.end()
        rest = text[at:]
        if names and rest.strip() and is_aff_like(rest):
            ln.pieces = [(", ".join(names), False)]
            ln.inline_aff = clean_affiliation(rest)
            ln.role = ""


def _block_emails(named: list[tuple[Author, Line]], header: list[Line]) -> dict[int, str]:
    """An address printed alone in the column under a single-name line is that author's."""
    fixed: dict[int, str] = {}
    per_line: dict[int, list[int]] = {}
    for i, (_, ln) in enumerate(named):
        per_line.setdefault(id(ln), []).append(i)
    name_lines = {id(ln): ln for _, ln in named}
    for ln in header:
        if ln.role != "email":
            continue
        found = find_emails(ln.raw)
        if len(found) != 1:
            continue
        above = [n for n in name_lines.values() if n.y0 < ln.y0 and _overlap((n.x0, n.x1), (ln.x0, ln.x1)) > 0]
        if not above:
            continue
        owner = max(above, key=lambda n: n.y0)
        others = [n for n in name_lines.values() if abs(n.y0 - owner.y0) < 0.6 * owner.size and n is not owner
                  and _overlap((n.x0, n.x1), (ln.x0, ln.x1)) > 0]
        indexes = per_line[id(owner)]
        if len(indexes) == 1 and not others:
            fixed[indexes[0]] = found[0]
    return fixed


def _marked_notes(lines: list[Line], foot: list[Line], height: float, marks: set[str]) -> list[Line]:
    """Affiliation notes set in the body's own size (word processors): lines in the lower part
    of the page that start with one of the names' markers and name an institution."""
    if not marks:
        return []
    out = []
    for ln in lines:
        if ln.y0 <= 0.55 * height or ln in foot or not ln.pieces or not ln.pieces[0][1]:
            continue
        if set(split_markers(ln.pieces[0][0])) & marks and is_aff_like(ln.text) and not SENTENCE_WORDS.search(ln.text):
            out.append(ln)
    return out


