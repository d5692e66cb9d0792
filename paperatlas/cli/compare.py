"""`compare`: venue-years or whole venues side by side, one column each."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..pipeline.config import Settings
from . import common
from .common import CliError
from .options import command, placement_option, scope_option


def _items(raw: list[str], settings: Settings) -> list[str]:
    """The items as given, a range or `venue-*` expanded to its materialised venue-years (one
    column each; a bare venue stays one summed column)."""
    from ..pipeline.partitions import is_pattern

    out: list[str] = []
    for text in raw:
        out.extend(common.expand([text], settings, stored=True) if is_pattern(text) else [text])
    return out


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    from ..pipeline.reports import charts
    from ..pipeline.reports.compare import (
        CHART_NUMBER,
        CompareError,
        chart_frame,
        compare,
        format_text,
        records,
        row_label,
        to_json,
    )
    from ..pipeline.text import csv_frame, display

    store = common.warehouse(settings)
    try:
        result = compare(store, _items(args.items, settings), args.china_scope, common.placement_of(args, settings))
    except CompareError as exc:
        raise CliError(str(exc)) from exc
    payload = to_json(result)
    print(json.dumps(payload, ensure_ascii=False) if args.json else display(format_text(result)))
    if args.out:
        import pandas as pd

        out = Path(args.out)
        label = row_label(CHART_NUMBER, result.china_scope)
        png = charts.compare_shares(chart_frame(result), f"{label[0].upper()}{label[1:]}\n(placement "
                                    f"{result.placement}, China scope {result.china_scope})", "% of all papers")
        try:
            out.mkdir(parents=True, exist_ok=True)
            _write(out / "compare.png", png)
            _write(out / "compare.json", json.dumps(payload, ensure_ascii=False, indent=1).encode())
            _write(out / "compare.csv", csv_frame(pd.DataFrame(records(result))).to_csv(index=False).encode())
        except OSError as exc:
            raise CliError(f"--out {out}: cannot write ({exc.strerror or exc})") from exc
        print(f"comparison written to {out} (compare.png, compare.csv, compare.json)", file=sys.stderr)
    return 0


def _parse_compare(sub) -> None:
    parser = command(
        sub, "compare", "venue-years or whole venues side by side, one column each, with a chart",
        "One column per ITEM: a venue-year (neurips-2016), a whole venue (neurips: its materialised years "
        "summed), all (every materialised venue-year summed) or a range (neurips-2010..2018, neurips-*: one "
        "column per materialised year). The rows are the report's headline numbers: papers, with affiliation "
        "data, with a country, international, US, China, US-China (and papers naming a term in the title or "
        "abstract, when any item has one), each cell 'papers (low-high, +unplaced) share', the interval only "
        "where something is uncertain, and each share names its denominator. --out DIR writes compare.png (the "
        "US-China share of each item with its interval), compare.csv and compare.json.",
        ["paperatlas compare neurips-2016 icml-2021",
         "paperatlas compare neurips neurips-2016 --json",
         "paperatlas compare neurips-2010..2016 --out compare-neurips"], cmd_compare)
    parser.add_argument("items", nargs="+", metavar="ITEM",
                        help="a materialised venue-year (neurips-2016), a venue (neurips: its materialised years "
                             "summed), all (every venue-year summed), or a range / venue-* (one column per "
                             "materialised year)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="also write compare.png, compare.csv and compare.json to DIR (created if needed; "
                             "those three files are replaced)")
    scope_option(parser)
    placement_option(parser, "the placement of every cell")


PARSERS = {"compare": _parse_compare}
