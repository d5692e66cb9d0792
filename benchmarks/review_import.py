"""Storing review verdicts: the time `store_verdicts` takes for one verdicts file (issue 36).

Usage (a home with the venue-year materialised, on either store):

    PAPERATLAS_HOME=... [PAPERATLAS_STORE=delta] python benchmarks/review_import.py neurips-2016 [N]

It writes N verdicts (default 1,000: `right` for the first papers of the venue-year under the
numbers `us` and `international`, China scope cn, placement hq) and times the write alone, twice:
the second call replaces what the first stored. Verdicts are stored in one write per file (one
DuckDB transaction, one Delta commit); before, one per verdict. docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import io
import sys
import time

from paperatlas.cli import common
from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.models import utcnow
from paperatlas.pipeline.reports.review import read_verdicts, store_verdicts


def main(key: str, n: int) -> None:
    settings = load_settings()
    views = common.paper_views(settings, key)
    ids = sorted(views)[: max(1, n // 2)]
    text = io.StringIO()
    text.write("number,paper_id,china_scope,placement,evidence_sha256,verdict\n")
    for number in ("us", "international"):
        for paper_id in ids:
            text.write(f"{number},{paper_id},cn,hq,,right\n")
    rows = read_verdicts(text.getvalue(), "benchmark.csv")
    store = common.warehouse(settings, write=True)
    for attempt in (1, 2):
        started = time.perf_counter()
        stored = store_verdicts(store, key, rows, views, "hq", "benchmark.csv", utcnow().replace(tzinfo=None))
        print(f"{settings.store}: {stored} verdicts stored in {time.perf_counter() - started:.2f} s (call {attempt})")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
