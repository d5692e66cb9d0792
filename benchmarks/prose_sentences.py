"""How many sentences of the body of real papers get a country from the resolver. None of them
is an affiliation, so every country is wrong (issue 31: "…the PC is at line 4" was LINE
Corporation, JP; "the oracle returns…" Oracle, US).

The sentences come from pages 2 onwards of ../shared/data/real-pdfs (never copied into the
project), read with PyMuPDF by `body_text.py`, whose docstring says which sentences are
dropped so that none is an affiliation: page 1, reference lists and acknowledgements, anything
with an "@" or an author note, and anything that looks like an address or a heading (a comma
and at most a third of the words in lower case). The PDFs are split in two halves by a hash of
the file name: `bench` is what this benchmark measures; `words` is the half whose body text
made `pipeline/data/body_words.tsv` (the common-word list the resolver reads), printed too, as
the figure the word list was fitted on.

Each sentence goes through `paperatlas resolve`'s own loop (`resolve_stream`) with the resolver
it builds (the ROR dump, no overrides, no e-mail domain).

    python benchmarks/prose_sentences.py [--ror PATH] [--show 30] [--half bench|words|both]
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import re
import sys
import time
from pathlib import Path

from body_text import PDFS, body_sentences, pdf_paths
from shared_data import SHARED

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paperatlas.cli.files import resolve_stream  # noqa: E402
from paperatlas.pipeline.affiliations.reference import build_resolver  # noqa: E402
from paperatlas.pipeline.config import load_settings  # noqa: E402


def measure(resolver, sentences: list[str]) -> list[dict]:
    source = io.StringIO("".join(json.dumps({"affiliation": s, "email_domain": None}) + "\n" for s in sentences))
    sink = io.StringIO()
    resolve_stream(source, sink, resolver)
    return [json.loads(line) for line in sink.getvalue().splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ror", type=Path, default=SHARED / "ror" / "ror-partial-v2.zip")
    parser.add_argument("--show", type=int, default=30, help="worst examples to print")
    parser.add_argument("--half", choices=("bench", "words", "both"), default="both")
    args = parser.parse_args()
    if not PDFS.exists() or not args.ror.exists():
        print("shared data not found", file=sys.stderr)
        return 2
    resolver = build_resolver(str(args.ror), load_settings().cache_dir, None)
    halves = ("bench", "words") if args.half == "both" else (args.half,)
    for which in halves:
        paths = pdf_paths(which)
        sentences = [s for p in paths for s in body_sentences(p)]
        t0 = time.perf_counter()
        out = measure(resolver, sentences)
        took = time.perf_counter() - t0
        placed = [r for r in out if r["country"]]
        methods = collections.Counter(r["method"] for r in placed)
        # Grouped by kind: the counts inside a reason ("5 sentence words to 1 capitalised") become N.
        reasons = collections.Counter(re.sub(r"\d+", "N", r.get("reason") or "") for r in out if not r["country"])
        print(f"{which}: {len(paths)} PDFs, {len(sentences):,} sentences; {len(placed)} get a country "
              f"({len(placed) / max(1, len(sentences)):.2%}); {len(sentences) / took:,.0f} sentences/s")
        print(f"  by method: {dict(methods.most_common())}")
        print(f"  unresolved by reason: {dict(reasons.most_common())}")
        if which == halves[0]:
            # The worst: the most confident wrong answers first.
            for r in sorted(placed, key=lambda r: -r["confidence"])[:args.show]:
                print(f"  {r['country']} {r['method']:22s} {str(r['institution'])[:28]:28s} | {r['affiliation'][:110]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
