"""What the PDF limits cost and what they stop (issue 36).

    python benchmarks/pdf_limits.py [--levels 10] [--repeats 3]

- **The form bomb.** A PDF of a few KB whose page 1 draws nested form XObjects, 4 per level,
  `--levels` deep (tests/test_pdf_limits.py builds the same), read by `paperatlas extract-pdf`
  with one real paper beside it, in a fresh process: wall seconds, the largest RSS of the
  command and its workers, and each file's `error`.
- **The page budgets on real papers.** Every page of the shared real PDFs and page 1 of the
  typeset corpus: how many are refused (none should be), the largest form-draw and
  text-operator counts, and the budget check's CPU per page against MuPDF's own text
  extraction of the same page (best of --repeats).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared_data import SHARED

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

RUN = """
import contextlib, io, json, resource, sys, time
from paperatlas.cli import main
out = io.StringIO()
started = time.monotonic()
with contextlib.redirect_stdout(out):
    main(["extract-pdf", *sys.argv[1:]])
took = time.monotonic() - started
mb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
print(json.dumps({"seconds": round(took, 2), "peak_rss_mb": round(mb),
                  "errors": {json.loads(x)["file"]: json.loads(x)["error"] for x in out.getvalue().splitlines()}}))
"""


def bomb(levels: int) -> dict:
    from test_pdf_limits import form_bomb

    real = sorted((SHARED / "real-pdfs").glob("*.pdf"))[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = form_bomb(Path(tmp) / "bomb.pdf", levels=levels)
        done = subprocess.run([sys.executable, "-c", RUN, str(path), str(real)], capture_output=True, text=True,
                              cwd=ROOT, check=True)
        return {"levels": levels, "bytes": path.stat().st_size, **json.loads(done.stdout.splitlines()[-1])}


def budgets(repeats: int) -> dict:
    from paperatlas.pipeline.pdfs.budget import page_work, too_complex
    from paperatlas.pipeline.pdfs.extract import load_pymupdf

    pymupdf = load_pymupdf()
    pages = []
    for path in sorted((SHARED / "real-pdfs").glob("*.pdf")) + sorted((SHARED / "pdf-corpus").glob("*.pdf")):
        doc = pymupdf.open(path)
        pages.extend((doc, doc.load_page(n), n + 1) for n in range(doc.page_count))
    refused = [f"{doc.name} p{n}: {reason}" for doc, page, n in pages if (reason := too_complex(doc, page, n))]
    work = [page_work(doc, page) for doc, page, _ in pages]

    def best(fn) -> float:
        times = []
        for _ in range(repeats):
            started = time.process_time()
            for doc, page, n in pages:
                fn(doc, page, n)
            times.append(time.process_time() - started)
        return min(times) / len(pages) * 1000

    check = best(too_complex)
    text = best(lambda doc, page, n: page.get_text("text"))
    return {"pages": len(pages), "refused": refused, "most_form_draws": max(w.forms for w in work),
            "most_text_ops": max(w.text_ops for w in work), "check_ms_per_page": round(check, 3),
            "get_text_ms_per_page": round(text, 3), "check_over_get_text": f"{check / text:.1%}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps({"bomb": bomb(args.levels), "real_pages": budgets(args.repeats)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
