"""First-page extraction: accuracy against a labelled PDF folder, and speed against bare PyMuPDF.

Accuracy (needs `truth.jsonl` beside the PDFs, as in ../shared/data/pdf-corpus and
../shared/data/real-pdfs): a paper counts as exact when its country set equals the label's,
Hong Kong, Macau and Taiwan folded into China (the paperlists labels fold them). Author
recall: of all (author, country) labels, the share our extraction gives that author (matched
by printed name).

Speed: in one run, side by side, bare PyMuPDF (open the file, page 1 as a text dict) and our
extraction without resolution (the same, plus the layout analysis and the byte checks).

    python benchmarks/pdf_extraction.py [--corpus DIR] [--ror ZIP|none] [--show 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.affiliations.resolver import Resolver  # noqa: E402
from pipeline.affiliations.ror import load_index  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.pdfs.extract import attribute, read_pdf  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FOLD = {"HK": "CN", "MO": "CN", "TW": "CN"}
LABELS = {"United States": "US", "United Kingdom": "GB", "South Korea": "KR", "Russian Federation": "RU",
          "Türkiye": "TR", "Czech Republic": "CZ", "Czechia": "CZ", "Vietnam": "VN", "Iran": "IR",
          "Taiwan": "TW", "Hong Kong": "HK", "Macau": "MO", "Macao": "MO"}


def code(label: str) -> str:
    if len(label) == 2 and label.isupper():
        return FOLD.get(label, label)
    if label in LABELS:
        return FOLD.get(LABELS[label], LABELS[label])
    import pycountry

    try:
        return FOLD.get(pycountry.countries.lookup(label).alpha_2, pycountry.countries.lookup(label).alpha_2)
    except LookupError:
        return "?" + label


def bare(path: Path) -> int:
    import pymupdf

    with pymupdf.open(path) as doc:
        return len(doc[0].get_text("dict")["blocks"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=SHARED / "pdf-corpus")
    parser.add_argument("--ror", default=str(SHARED / "ror" / "ror-partial-v2.zip"))
    parser.add_argument("--show", type=int, default=10, help="misses to print")
    parser.add_argument("--repeat", type=int, default=3, help="speed passes (the best is reported)")
    args = parser.parse_args()
    truth_file = args.corpus / "truth.jsonl"
    if not truth_file.exists():
        print(f"no truth.jsonl in {args.corpus}", file=sys.stderr)
        return 2
    truth = [json.loads(line) for line in truth_file.read_text().splitlines() if line.strip()]
    index = None if args.ror == "none" else load_index(Path(args.ror), load_settings().cache_dir)
    resolver = Resolver(index, [])
    exact = recall_hit = recall_all = names_found = names_all = 0
    shown = 0
    for row in truth:
        result = attribute(read_pdf(args.corpus / row["file"]), resolver)
        want = {code(c) for c in row["countries"]}
        got = {FOLD.get(c, c) for c in result.countries}
        names = [a.name for a in result.page.authors] if result.page else []
        for a in row["authors"]:
            labels = {code(c) for c in a["countries"]}
            j = names.index(a["name"]) if a["name"] in names else None
            mine = {FOLD.get(c, c) for c in result.author_countries[j]} if j is not None else set()
            recall_all += len(labels)
            recall_hit += len(labels & mine)
            names_all += 1
            names_found += j is not None
        if got == want:
            exact += 1
        elif shown < args.show:
            shown += 1
            print(f"miss {row['file']}: labels {sorted(want)}, ours {sorted(got)}"
                  f"{' error: ' + result.error if result.error else ''}")
    n = len(truth)
    print(f"corpus: {args.corpus} ({n} PDFs)")
    print(f"paper country sets exact: {exact}/{n} = {exact / n:.1%}")
    print(f"author-level country recall: {recall_hit}/{recall_all} = {recall_hit / max(recall_all, 1):.1%}")
    print(f"author names found as printed: {names_found}/{names_all} = {names_found / max(names_all, 1):.1%}")

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
