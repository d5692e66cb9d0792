"""Reading a paper's first page: title, authors in order, their affiliations and e-mails.

Input is PyMuPDF's text dict of page 1 (spans with font, size, flags and position); nothing
here opens files. The steps, each in a module of this package:

1. **Lines** (`lines`). Horizontal lines only (the rotated arXiv stamp in the margin is
   skipped). A span is a *marker* when it is set as a superscript (flag, or clearly smaller
   than the line's text) and holds only digits, lower-case letters and footnote symbols, or
   when it holds only footnote symbols (* † ‡ § ¶ ♠ ♢ …) at any size.
2. **Zones** (`zones`). The title is the largest type in the top of the page. The *header*
   runs from the title to the "Abstract" heading (or "Keywords", "Introduction", or else the
   first justified paragraph). *Footnotes* are lines at the foot of the page in smaller type
   than the body with no body text below them.
3. **Line roles in the header** (`roles`). E-mail lines; name lines (lists of capitalised
   names with no institution word, in the type style of the first such line, or carrying
   markers); lines that are neither (dates, "Preprint", "Corresponding author", notes about
   authorship, sentences: `is_note`, `is_prose`) are dropped; the rest are affiliation text. Affiliation lines are grouped into entries (`entries`): a
   leading marker (or a glued number, "1College of ...") starts one; a line continues the
   entry above when that entry is numbered, ends in a comma or a connecting word, or the line
   starts in lower case.
4. **Authors to affiliations** (`assign`). When names carry markers that affiliation entries
   (in the header or the footnotes) also carry, markers decide; unmarked authors take the
   unmarked entries. Otherwise position decides: an entry belongs to the name line above it
   in its column (a "block"); an entry under several names of a row is shared by the row.
   Footnotes of the IEEE form ("A and B are with X") and ACM "Authors' addresses" are read
   by name (`footnotes`).
5. **E-mails** (`assign`). An address alone in an author's block is that author's; the rest
   go to the best-fitting name (local part vs. name: `flast`, `first.last`, `first`, ...).

Every affiliation `analyse` keeps, tied to an author or to no one, has passed
`roles.is_affiliation_text` (not a note, not prose): nothing else of page 1 reaches the resolver.

`analyse` runs them on one page; `FirstPage` and `Author` are what it returns.
"""

from __future__ import annotations

from .assign import Author, FirstPage, analyse
from .footnotes import with_sentences

__all__ = ["Author", "FirstPage", "analyse", "with_sentences"]
