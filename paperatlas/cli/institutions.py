"""`institutions`: the institutions behind a headline number (pipeline/reports/institutions.py),
for one venue-year or every materialised year of a venue: papers per top-level organisation,
the pairs across the border, and the papers the table does not explain."""

from __future__ import annotations

import argparse
import json

from ..pipeline.config import Settings
from . import common
from .common import CliError
from .countries import scope_keys
from .options import command, placement_option, scope_option


def _where(keys: list[str]) -> str:
    """"neurips 2016", "neurips 2010, 2011, 2016", or the keys themselves across venues."""
    from ..pipeline.partitions import parse_partition_key

    parsed = [parse_partition_key(k) for k in keys]
    venues = list(dict.fromkeys(p.venue for p in parsed))
    if len(venues) == 1:
        return f"{venues[0]} {', '.join(str(p.year) for p in parsed)}"
    return ", ".join(keys) if len(keys) <= 6 else f"{len(keys)} venue-years of {', '.join(venues)}"


def _label(table) -> str:
    return table.label.replace("US-CN", "US\u2013CN")


def _records(frame) -> list[dict]:
    """The frame's rows for JSON: missing cells as null, numbers as Python numbers."""
    out = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        out.append({k: (int(v) if k == "papers" else v) for k, v in row.items()})
    return out


def table_json(table, keys: list[str]) -> dict:
    """The table as one JSON object (codes for countries, with their names beside)."""
    from ..pipeline.countries.groups import country_name

    institutions = [{**r, "country_name": country_name(r["country"])} for r in _records(table.institutions)]
    pairs = [{**r, "country_a_name": country_name(r["country_a"]), "country_b_name": country_name(r["country_b"])}
             for r in _records(table.pairs)]
    unattributed = [{"paper_id": r["paper_id"], "title": r["title"], "missing": list(r["missing"])}
                    for r in _records(table.unattributed)]
    return {"number": table.number, "label": table.label, "venue_years": keys, "china_scope": table.scope,
            "placement": table.placement, "papers": table.papers, "top": table.top,
            "institutions": institutions, "institutions_total": table.institutions_total, "pairs": pairs,
            "pairs_total": table.pairs_total, "attributed": table.attributed, "unattributed": unattributed}


def _with_country(name: str, code: str) -> str:
    """"Peking University (China)"; a name that ends with its country already keeps it once
    ("Alibaba Group (China)")."""
    from ..pipeline.countries.groups import country_name

    country = country_name(code)
    return name if name.endswith(f"({country})") else f"{name} ({country})"


def table_text(table, keys: list[str]) -> str:
    """The header line, the institutions with country names, the pairs, then what is unexplained."""
    from ..pipeline.countries.groups import country_name

    n = table.papers
    lines = [f"{_label(table)}, {_where(keys)}: {n}  (China scope {table.scope}, placement {table.placement})"]
    if not n:
        return "\n".join(lines + ["  no papers in this number, so no institutions behind it"])
    lines.append(f"institutions behind them, each counted once per paper at its top-level organisation "
                 f"(share: of the {n} papers; a paper can have several):")
    width = max([len(x) for x in table.institutions["institution"]] + [11])
    lines.append(f"  {'papers':>6}  {'share':>6}  {'institution':<{width}}  country")
    for r in table.institutions.itertuples(index=False):
        lines.append(f"  {r.papers:>6}  {r.share:>6.1%}  {r.institution:<{width}}  {country_name(r.country)}")
    if table.institutions_total > len(table.institutions):
        lines.append(f"  ({len(table.institutions)} of {table.institutions_total} institutions; --top 0 lists all)")
    if table.institutions.empty:
        lines.append("  none recorded")
    lines.append("institution pairs across the border (papers with both):")
    for r in table.pairs.itertuples(index=False):
        lines.append(f"  {r.papers:>6}  {r.share:>6.1%}  {_with_country(r.institution_a, r.country_a)} \u2013 "
                     f"{_with_country(r.institution_b, r.country_b)}")
    if table.pairs_total > len(table.pairs):
        lines.append(f"  ({len(table.pairs)} of {table.pairs_total} pairs; --top 0 lists all)")
    if table.pairs.empty:
        lines.append("  none")
    lines.extend(_unexplained(table))
    return "\n".join(lines)


def _unexplained(table) -> list[str]:
    from ..pipeline.countries.groups import country_name

    gone = table.unattributed
    if gone.empty:
        return [f"every one of the {table.papers} papers has an institution recorded on each side"]
    have = "has" if len(gone) == 1 else "have"
    lines = [f"not explained: {len(gone)} of the {table.papers} papers {have} no institution recorded on a side "
             "(a country known from a place or an e-mail domain alone, or no country):"]
    shown = gone if not table.top else gone.head(table.top)
    for r in shown.itertuples(index=False):
        where = ", ".join(country_name(c) for c in r.missing) or "any country"
        lines.append(f"  {r.paper_id}  {r.title or '(no title)'}  [no institution for {where}]")
    if len(shown) < len(gone):
        lines.append(f"  ({len(shown)} of {len(gone)} papers; --top 0 lists all, --json gives every one)")
    return lines


def cmd_institutions(args: argparse.Namespace, settings: Settings) -> int:
    from ..pipeline.reports.institutions import InstitutionError, combine_views, institution_table
    from ..pipeline.reports.views import load_views
    from ..pipeline.text import csv_frame, display

    if args.top < 0:
        raise CliError("--top must be 0 or more (0 lists every institution)")
    keys = scope_keys([args.scope], settings, None, None)
    store = common.warehouse(settings)
    views = combine_views({key: load_views(store, key) for key in keys})
    try:
        table = institution_table(views, args.number, args.china_scope, common.placement_of(args, settings),
                                  args.top or None)
    except InstitutionError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(table_json(table, keys), ensure_ascii=False))
    elif args.csv:
        print(csv_frame(table.institutions).to_csv(index=False), end="")
    else:
        print(display(table_text(table, keys)))
    return 0


def _parse_institutions(sub) -> None:
    parser = command(
        sub, "institutions", "the institutions behind a number: papers per organisation, pairs across the border",
        "The institutions behind a headline number (default us_cn, US-CN co-authored papers) of a venue-year, "
        "or of every materialised year of a venue: each top-level organisation (the parent ROR records, "
        "Tsinghua for a Tsinghua lab; the institution itself when it has none) with the number's papers it is "
        "on, counted once per paper on the number's sides (for us_cn, its US and Chinese institutions), and "
        "the share of the number each explains; then the pairs of institutions in different countries on the "
        "same paper (a US one and a Chinese one for us_cn); then the papers with no institution recorded on a "
        "side. --json prints one object, --csv the institutions table.",
        ["paperatlas institutions neurips-2016",
         "paperatlas institutions neurips --number cn --top 5",
         "paperatlas institutions neurips-2016 --csv | head -4"], cmd_institutions)
    parser.add_argument("scope", metavar="VENUE-YEAR|VENUE",
                        help="a materialised venue-year (neurips-2016), a venue (neurips: every materialised "
                             "year of it, counted together), a range (neurips-2010..2018), neurips-* or all")
    parser.add_argument("--number", default="us_cn",
                        help="the headline number: us_cn (default), us, cn, international, papers_with_country, "
                             "cn_llama_abstract ... (an unknown key lists them all)")
    parser.add_argument("--top", type=int, default=10,
                        help="institutions, pairs and unexplained papers listed (default 10; 0: all)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object: the number, institutions, pairs, "
                                                         "unattributed papers")
    out.add_argument("--csv", action="store_true", help="the institutions table as CSV (institution, ror_id, "
                                                        "country, papers, share)")
    scope_option(parser)
    placement_option(parser, "where a multinational named without a place counts, and so its institution's country")


PARSERS = {"institutions": _parse_institutions}
