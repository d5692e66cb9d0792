"""`review import`: the verdicts a reviewer gave in review.html, stored for the report."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..pipeline.config import Settings
from . import common
from .options import command, placement_option


def _refuse_verdicts(settings: Settings, key: str, path: Path, reason: str) -> None:
    """A verdicts file that cannot be used: one line for the user, a row in ingest_errors."""
    common.refuse(settings, key, "review import", str(path),
                  reason if reason.startswith(str(path)) else f"{path}: {reason}")


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    """`review import`: store the verdicts of a CSV that review.html downloaded."""
    from ..pipeline.models import utcnow
    from ..pipeline.reports.review import VerdictError, read_verdicts, store_verdicts
    from ..pipeline.text import plural

    key = common.partition_keys([args.partition])[0]
    path = Path(args.csv)
    try:
        text = path.read_text(encoding="utf-8-sig")
        rows = read_verdicts(text, str(path))
    except (OSError, UnicodeDecodeError, VerdictError) as exc:
        _refuse_verdicts(settings, key, path, str(exc) if isinstance(exc, VerdictError) else f"cannot read it ({exc})")
    views = common.paper_views(settings, key)
    store = common.warehouse(settings, write=True)
    now = utcnow().replace(tzinfo=None)
    unknown = [r["paper_id"] for r in rows if r["paper_id"] not in views]
    if unknown:
        said = f"{plural(len(unknown), 'paper id')} {'is' if len(unknown) == 1 else 'are'}"
        _refuse_verdicts(settings, key, path, f"{said} not in {key} (e.g. {unknown[0]!r}); "
                                              "is it another venue-year's CSV?")
    stored = store_verdicts(store, key, rows, views, common.placement_of(args, settings), str(path), now)
    print(f"{plural(stored, 'verdict')} of {key} stored from {path}; `paperatlas report {key}` shows the reviewed "
          "precision")
    return 0


def _parse_review(sub) -> None:
    review = command(
        sub, "review", "store review verdicts; the report then shows precision and a corrected count",
        "`review import` reads the CSV that review.html downloads (or review.csv with its verdict column "
        "filled). Verdicts survive re-runs, keyed by paper and evidence; one whose evidence has since changed "
        "is stale and not used.",
        ["paperatlas review import neurips-2016 ~/Downloads/verdicts.csv"], cmd_review)
    review.add_argument("action", choices=["import"], help="import: store the verdicts of a CSV")
    review.add_argument("partition", metavar="VENUE-YEAR", help="the venue-year the verdicts are about")
    review.add_argument("csv", metavar="CSV", help="the verdicts CSV review.html downloads")
    placement_option(review, "placement of verdicts whose CSV does not say")


PARSERS = {"review": _parse_review}
