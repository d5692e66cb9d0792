"""Body sentences of the shared real PDFs (pages 2 onwards), and the fixed split of those PDFs
into two halves: `words` (the half `common_words.py` counts words in, to build
`pipeline/data/body_words.tsv`) and `bench` (the half `prose_sentences.py` measures the resolver
on), so the word list is never measured on the text it was made from.

A sentence is kept when it is body prose and cannot be an affiliation:
- page 1 is never read (its header holds the affiliations), nor anything from a heading
  "References" / "Bibliography" / "Acknowledg(e)ments" onwards on a page (reference lists
  print venues and cities; acknowledgements name funders), nor the rest of the paper after
  the references heading;
- a sentence with an "@" (an e-mail address), or with a word saying it is an author note
  ("affiliation", "work done", "equal contribution", "corresponding author", "addresses") is
  dropped;
- a sentence that looks like an address or a heading is dropped: at least one comma and at
  most a third of its words in lower case (words of connectors such as "of", "and", "de" are
  not counted either way);
- 4 to 80 words, at most 600 characters.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from shared_data import SHARED

PDFS = SHARED / "real-pdfs"
STOP_HEADING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?\s*|[A-Z]\.?\s+)?(?:references|bibliography|acknowledge?ments?)\s*$",
                          re.IGNORECASE)
HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")
SENTENCE_END = re.compile(r"(?<![A-Z])(?<!\bet al)(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bcf)(?<!\bFig)(?<!\bEq)"
                          r"(?<!\bSec)(?<!\bTab)(?<!\bNo)([.!?])\s+(?=[A-Z\"'\u201c(\[])")
AUTHOR_NOTE = re.compile(r"@|affiliat|work done|equal contribution|corresponding author|addresses",
                         re.IGNORECASE)
WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
CONNECTORS = {"of", "and", "for", "de", "la", "at", "in", "the", "und", "di", "du", "des"}


def half(path: Path | str) -> str:
    """`words` or `bench`, fixed by a hash of the file name."""
    digest = hashlib.sha256(Path(path).name.encode()).digest()
    return "words" if digest[0] % 2 == 0 else "bench"


def pdf_paths(which: str | None = None, folder: Path = PDFS) -> list[Path]:
    paths = sorted(folder.glob("*.pdf"))
    return [p for p in paths if which is None or half(p) == which]


def page_texts(path: Path) -> list[str]:
    """The text of pages 2 onwards, block by block, up to the references heading."""
    import pymupdf

    out = []
    with pymupdf.open(path) as doc:
        for page in (doc[i] for i in range(1, doc.page_count)):
            blocks = []
            stop = False
            for block in page.get_text("blocks", sort=False):
                if block[6] != 0:  # an image block
                    continue
                text = block[4]
                if STOP_HEADING.match(text.strip()) or STOP_HEADING.match(text.split("\n", 1)[0]):
                    stop = True
                    break
                blocks.append(text)
            out.append(" ".join(HYPHEN_BREAK.sub(r"\1\2", b) for b in blocks))
            if stop:
                break
    return out


def looks_like_address(sentence: str) -> bool:
    words = [w for w in WORD.findall(sentence) if w.lower() not in CONNECTORS]
    if "," not in sentence or not words:
        return False
    lower = sum(1 for w in words if w[0].islower())
    return lower * 3 <= len(words)


def sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    return [s.strip() for s in SENTENCE_END.sub(r"\1\n", text).split("\n") if s.strip()]


def keep(sentence: str) -> bool:
    n = len(sentence.split())
    return (4 <= n <= 80 and len(sentence) <= 600 and not AUTHOR_NOTE.search(sentence)
            and not looks_like_address(sentence))


def body_sentences(path: Path) -> list[str]:
    return [s for page in page_texts(path) for s in sentences(page) if keep(s)]
