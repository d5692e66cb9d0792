"""First-page extraction: accuracy against a labelled PDF folder, and speed against bare PyMuPDF.

Accuracy (needs `truth.jsonl` beside the PDFs, as in ../shared/data/pdf-corpus and
../shared/data/real-pdfs):
- a paper counts as exact when its country set equals the label's, Hong Kong, Macau and
  Taiwan folded into China (the paperlists labels fold them);
- author-country recall: of all (author, country) labels, the share our extraction gives
  that author. Authors are matched by name after normalising case, accents, hyphens and
  footnote marks ("Stanisław Jastrzębski*" = "stanislaw jastrzebski"), in printed order;
- results per layout family (the label's `layout` field, else a family read from the
  label's notes) and per way the page tied authors to affiliations (our `layout`);
- every miss, with the reason: an author not found, an author found without an affiliation,
  an affiliation that resolved to another country, a country from text tied to no author;
- pages that gave nothing: no author and no affiliation, or no author tied to an affiliation;
- author-name and affiliation-string precision, recall and F1 measured as GROBID's header
  evaluation measures fields (`Fields`): each expected name, and each distinct affiliation
  string of a paper, against ours, with soft matching and with Ratcliff/Obershelp >= 0.95.

Speed: in one run, side by side, bare PyMuPDF (open the file, page 1 as a text dict) and our
extraction without resolution (the same, plus the layout analysis and the byte checks).

    python benchmarks/pdf_extraction.py [--corpus DIR] [--ror ZIP|none] [--show 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

from shared_data import SHARED  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paperatlas.pipeline.affiliations.resolver import Resolver  # noqa: E402
from paperatlas.pipeline.affiliations.ror import load_index  # noqa: E402
from paperatlas.pipeline.config import load_settings  # noqa: E402
from paperatlas.pipeline.pdfs.extract import attribute, read_pdf  # noqa: E402

FOLD = {"HK": "CN", "MO": "CN", "TW": "CN"}
LABELS = {"United States": "US", "United Kingdom": "GB", "South Korea": "KR", "Russian Federation": "RU",
          "Türkiye": "TR", "Czech Republic": "CZ", "Czechia": "CZ", "Vietnam": "VN", "Iran": "IR",
          "Taiwan": "TW", "Hong Kong": "HK", "Macau": "MO", "Macao": "MO"}
# Layout families, read from a label's notes when it has no `layout` field (first match wins).
FAMILIES = [
    ("ACM", r"\bACM\b|KDD|WWW|RecSys|SIGIR|CIKM|WSDM|CCS concepts|authors' addresses"),
    ("CHI/CSCW", r"\bCHI\b|CSCW"),
    ("IEEE journal", r"IEEE (?:T|Trans)|TPAMI|TCSVT|TNNLS|TASLP|Proceedings of the IEEE|IEEE journal|is with"),
    ("Interspeech/ICASSP", r"Interspeech|ICASSP|Odyssey"),
    ("IEEE conference", r"IEEE"),
    ("LNCS/Springer", r"LNCS|Springer|ECCV"),
    ("Elsevier", r"Elsevier|ScienceDirect"),
    ("ML conference/arXiv", r"ICLR|NeurIPS|NIPS|ICML|PMLR|CVPR|ICCV|ACL|EMNLP|NAACL|AAAI|IJCAI|arXiv|JMLR"),
]


def code(label: str) -> str:
    if len(label) == 2 and label.isupper():
        return FOLD.get(label, label)
    if label in LABELS:
        return FOLD.get(LABELS[label], LABELS[label])
    import pycountry

    try:
        found = pycountry.countries.lookup(label).alpha_2
    except LookupError:
        return "?" + label
    return FOLD.get(found, found)


def name_key(name: str) -> str:
    """A name with case, accents, hyphens, digits and footnote marks taken out."""
    text = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("ß", "ss"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z]+", " ", text).split())


def family(row: dict) -> str:
    if row.get("layout"):
        return f"layout {row['layout']}"
    text = " ".join(str(row.get(k) or "") for k in ("notes", "source", "file"))
    for name, pattern in FAMILIES:
        if re.search(pattern, text, re.IGNORECASE):
            return name
    return "other"


def soft(text: str) -> str:
    """GROBID's soft matching: punctuation, case and space characters ignored."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def ratcliff(a: str, b: str) -> float:
    """GROBID's Ratcliff/Obershelp similarity (difflib's), on case- and space-normalised text."""
    from difflib import SequenceMatcher

    return SequenceMatcher(None, " ".join(a.lower().split()), " ".join(b.lower().split())).ratio()


class Fields:
    """Field-level precision, recall and F1 as GROBID's header evaluation counts them: every
    expected field (an author name; a paper's distinct affiliation strings) is correct when
    one of the extracted fields of the same paper matches it, each extracted field used once;
    with soft matching and with Ratcliff/Obershelp similarity at 0.95."""

    def __init__(self) -> None:
        self.expected = self.found = 0
        self.hits = {"soft": 0, "ratcliff": 0}

    def add(self, want: list[str], got: list[str]) -> None:
        self.expected += len(want)
        self.found += len(got)
        for how, same in (("soft", lambda a, b: soft(a) == soft(b)), ("ratcliff", lambda a, b: ratcliff(a, b) >= 0.95)):
            free = list(got)
            for w in want:
                j = next((k for k, g in enumerate(free) if same(w, g)), None)
                if j is not None:
                    free.pop(j)
                    self.hits[how] += 1

    def line(self, label: str) -> str:
        out = []
        for how, hit in self.hits.items():
            p, r = hit / max(self.found, 1), hit / max(self.expected, 1)
            out.append(f"{how} P {p:.3f} R {r:.3f} F1 {2 * p * r / max(p + r, 1e-9):.3f}")
        return f"  {label:<12} {self.expected:>5} expected, {self.found:>5} found;  " + ";  ".join(out)


def bare(path: Path) -> int:
    import pymupdf

    with pymupdf.open(path) as doc:
        return len(doc[0].get_text("dict")["blocks"])


class Tally:
    def __init__(self) -> None:
        self.pdfs = self.exact = self.hit = self.all = 0

    def add(self, exact: bool, hit: int, total: int) -> None:
        self.pdfs += 1
        self.exact += exact
        self.hit += hit
        self.all += total

    def line(self, label: str) -> str:
        return (f"  {label:<22} {self.pdfs:>4} PDFs  exact {self.exact:>4} ({self.exact / max(self.pdfs, 1):6.1%})"
                f"  author recall {self.hit:>4}/{self.all:<4} ({self.hit / max(self.all, 1):6.1%})")


def match_authors(labelled: list[dict], ours: list[str]) -> list[int | None]:
    """For each labelled author, the index of our author with the same normalised name (each
    used once, in printed order)."""
    keys = [name_key(n) for n in ours]
    taken: set[int] = set()
    out: list[int | None] = []
    for a in labelled:
        want = name_key(a["name"])
        j = next((i for i, k in enumerate(keys) if k == want and i not in taken), None)
        if j is not None:
            taken.add(j)
        out.append(j)
    return out


def reasons(row: dict, result, matched: list[int | None], want: set[str], got: set[str]) -> list[str]:
    """Why the country set is wrong, one phrase per missing or extra country."""
    page = result.page
    if result.error:
        return [f"unreadable: {result.error}"]
    out: list[str] = []
    if page is not None and page.layout == "none":
        out.append(f"layout none ({page.reason})")
    for c in sorted(want - got):
        for a, j in zip(row["authors"], matched):
            if c not in {code(x) for x in a["countries"]}:
                continue
            if j is None:
                out.append(f"missing {c}: author {a['name']!r} not found")
            elif not page.authors[j].affiliations:
                out.append(f"missing {c}: {a['name']!r} found without an affiliation")
            else:
                mine = sorted(FOLD.get(x, x) for x in result.author_countries[j])
                out.append(f"missing {c}: {a['name']!r} has {page.authors[j].affiliations} -> {mine or 'nothing'}")
            break
    for c in sorted(got - want):
        source = next((f"{a.name!r}'s {a.affiliations}" for a, cs in zip(page.authors, result.author_countries)
                       if c in {FOLD.get(x, x) for x in cs}), None)
        out.append(f"extra {c}: from {source or 'text tied to no author ' + repr(page.unassigned)}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=SHARED / "pdf-corpus")
    parser.add_argument("--ror", default=str(SHARED / "ror" / "ror-partial-v2.zip"))
    parser.add_argument("--show", type=int, default=20, help="misses to print (all with -1)")
    parser.add_argument("--repeat", type=int, default=3, help="speed passes (the best is reported)")
    args = parser.parse_args()
    truth_file = args.corpus / "truth.jsonl"
    if not truth_file.exists():
        print(f"no truth.jsonl in {args.corpus}", file=sys.stderr)
        return 2
    truth = [json.loads(line) for line in truth_file.read_text().splitlines() if line.strip()]
    index = None if args.ror == "none" else load_index(Path(args.ror), load_settings().cache_dir)
    resolver = Resolver(index, [])
    total = Tally()
    by_family: dict[str, Tally] = defaultdict(Tally)
    by_layout: dict[str, Tally] = defaultdict(Tally)
    misses: list[str] = []
    author_misses: list[str] = []
    names_found = names_all = 0
    name_fields, aff_fields = Fields(), Fields()
    empty: list[str] = []  # no author and no affiliation
    untied: list[str] = []  # something found, but no author tied to an affiliation
    for row in truth:
        result = attribute(read_pdf(args.corpus / row["file"]), resolver)
        page = result.page
        want = {code(c) for c in row.get("countries", [])}
        got = {FOLD.get(c, c) for c in result.countries}
        ours = [a.name for a in page.authors] if page else []
        matched = match_authors(row["authors"], ours)
        name_fields.add([a["name"] for a in row["authors"]], ours)
        want_affs = list(dict.fromkeys(x for a in row["authors"] for x in a.get("affiliations", [])))
        got_affs = list(dict.fromkeys([x for a in page.authors for x in a.affiliations] + page.unassigned)) if page else []
        aff_fields.add(want_affs, got_affs)
        hit = labelled = 0
        for a, j in zip(row["authors"], matched):
            labels = {code(c) for c in a["countries"]}
            mine = {FOLD.get(c, c) for c in result.author_countries[j]} if j is not None else set()
            labelled += len(labels)
            hit += len(labels & mine)
            names_all += 1
            names_found += j is not None
            if labels - mine:
                why = "not found" if j is None else f"ours {sorted(mine) or 'nothing'} from {page.authors[j].affiliations}"
                author_misses.append(f"  {row['file']}: {a['name']!r} labelled {sorted(labels)}, {why}")
        exact = got == want
        layout = (page.layout if page else "unreadable") or "none"
        total.add(exact, hit, labelled)
        by_family[family(row)].add(exact, hit, labelled)
        by_layout[layout].add(exact, hit, labelled)
        if page is None or (not page.authors and not page.unassigned and not any(a.affiliations for a in page.authors)):
            empty.append(row["file"])
        elif layout == "none":
            untied.append(row["file"])
        if not exact:
            misses.append(f"  {row['file']}: labels {sorted(want)}, ours {sorted(got)}; "
                          + "; ".join(reasons(row, result, matched, want, got)))
    n = len(truth)
    print(f"corpus: {args.corpus} ({n} PDFs)")
    print(f"paper country sets exact: {total.exact}/{n} = {total.exact / n:.1%}")
    print(f"author-level country recall: {total.hit}/{total.all} = {total.hit / max(total.all, 1):.1%}")
    print(f"author names found (case, accents and marks normalised): {names_found}/{names_all} = "
          f"{names_found / max(names_all, 1):.1%}")
    print(f"pages with no author and no affiliation: {len(empty)}{' ' + str(empty) if empty else ''}")
    print(f"pages whose authors were tied to no affiliation (layout none; countries from the page's text): "
          f"{len(untied)}{' ' + str(untied) if untied else ''}")
    print("fields as GROBID's header evaluation counts them (soft: punctuation, case, spaces ignored; "
          "Ratcliff/Obershelp >= 0.95):")
    print(name_fields.line("author names"))
    print(aff_fields.line("affiliations"))
    print("by layout family:")
    for name in sorted(by_family):
        print(by_family[name].line(name))
    print("by how authors were tied to affiliations:")
    for name in sorted(by_layout):
        print(by_layout[name].line(name))
    show = len(misses) if args.show < 0 else args.show
    print(f"paper misses ({len(misses)}{', first ' + str(show) if show < len(misses) else ''}):")
    for line in misses[:show]:
        print(line)
    show = len(author_misses) if args.show < 0 else args.show
    print(f"author misses ({len(author_misses)}{', first ' + str(show) if show < len(author_misses) else ''}):")
    for line in author_misses[:show]:
        print(line)

    paths = [args.corpus / row["file"] for row in truth]
    best_bare = best_ours = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for p in paths:
            bare(p)
        t1 = time.perf_counter()
        for p in paths:
            read_pdf(p, digest=False)
        t2 = time.perf_counter()
        best_bare, best_ours = min(best_bare, t1 - t0), min(best_ours, t2 - t1)
    print(f"speed, one process, best of {args.repeat}: bare PyMuPDF page-1 dict {best_bare:.2f}s "
          f"({n / best_bare:.0f} PDFs/s); paperatlas extraction {best_ours:.2f}s ({n / best_ours:.0f} PDFs/s); "
          f"ratio {best_ours / best_bare:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
