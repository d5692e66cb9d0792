"""`country` and `ranking`: one country's papers, cross-border papers and partners year by year,
and countries ranked by cross-border papers, within a group if asked (Georgetown ETO's
cross-border AI research tracker, on our venue-years)."""

from __future__ import annotations

import argparse
import json
import re

from ..pipeline.config import Settings
from . import common
from .common import CliError
from .options import command, placement_option, scope_option

VENUE_RE = re.compile(r"^[a-z][a-z0-9]*$")
SCOPE_HELP = ("the venue-years counted: all (default: every materialised venue-year), a venue (neurips: its "
              "materialised years), venue-years (neurips-2016), ranges (neurips-2010..2018) or neurips-*")


def scope_keys(raw: list[str], settings: Settings, start: int | None, end: int | None) -> list[str]:
    """The materialised venue-years `--scope` names, between `--from` and `--to`."""
    from ..pipeline.partitions import parse_partition_key

    if start is not None and end is not None and start > end:
        raise CliError(f"--from {start} is after --to {end}")
    from ..pipeline.reports.queries import materialised_keys

    done = materialised_keys(common.warehouse(settings))
    if not done:
        raise CliError("no venue-year is materialised yet; run `paperatlas run VENUE-YEAR` first")
    wanted = []
    for text in raw:
        clean = text.strip().lower()
        if clean == "all":
            wanted.extend(done)
        elif VENUE_RE.match(clean):
            venue = parse_partition_key(f"{clean}-2000").venue  # nips is neurips
            years = [k for k in done if parse_partition_key(k).venue == venue]
            if not years:
                venues = sorted({parse_partition_key(k).venue for k in done})
                raise CliError(f"no year of {venue} is materialised; materialised venues: {', '.join(venues)} "
                               f"(`paperatlas run {venue}-YEAR` adds one)")
            wanted.extend(years)
        else:
            wanted.append(clean)
    keys = common.expand(wanted, settings, stored=True)
    missing = [k for k in keys if k not in done]
    if missing:
        raise CliError(f"not materialised: {', '.join(missing)} (`paperatlas run {missing[0]}` adds it; "
                       f"materialised: {', '.join(done)})")
    kept = [k for k in keys if (start is None or parse_partition_key(k).year >= start)
            and (end is None or parse_partition_key(k).year <= end)]
    if not kept:
        raise CliError(f"no venue-year of {' '.join(raw)} lies between {start or '…'} and {end or '…'}")
    return kept


def _code(text: str, what: str) -> str:
    from ..pipeline.countries.groups import iso_codes

    code = text.strip().upper()
    if code not in iso_codes():
        raise CliError(f"{what} {text!r}: give an ISO 3166-1 alpha-2 code, e.g. US, CN, GB")
    return code


def _counts(args: argparse.Namespace) -> None:
    for name in ("top", "min_pair", "partners"):
        value = getattr(args, name, None)
        if value is not None and value < 0:
            raise CliError(f"--{name.replace('_', '-')} must be 0 or more")


def _sets(args: argparse.Namespace, settings: Settings):
    from ..pipeline.reports.profiles import year_sets

    keys = scope_keys(args.scope, settings, args.start, args.end)
    placement = common.placement_of(args, settings)
    return keys, placement, year_sets(common.warehouse(settings), keys, placement, args.china_scope)


def cmd_country(args: argparse.Namespace, settings: Settings) -> int:
    """One row per year: the country's papers and cross-border papers (whole counting), their
    shares and the top partners, under a placement and China scope."""
    from ..pipeline.conventions import fold_countries
    from ..pipeline.countries.groups import country_name
    from ..pipeline.reports.profiles import country_profile, format_profile, partner_totals

    country = _code(args.country, "country")
    _counts(args)
    folded = fold_countries({country}, args.china_scope)
    if folded != {country}:
        raise CliError(f"{country} folds into {''.join(folded)} under China scope {args.china_scope}; "
                       f"ask for {''.join(folded)}, or use --china-scope cn to see {country} apart")
    keys, placement, sets = _sets(args, settings)
    rows = country_profile(sets, country, args.top, args.min_pair)
    if not any(r["papers"] for r in rows):
        raise CliError(f"no paper of the {len(keys)} venue-year(s) counted has an author placed in {country} "
                       f"({country_name(country)}) under placement {placement} and China scope {args.china_scope}")
    totals = partner_totals(sets, country, args.top, args.min_pair)
    if args.json:
        print(json.dumps({"country": country, "name": country_name(country), "placement": placement,
                          "china_scope": args.china_scope, "min_pair": args.min_pair, "top": args.top,
                          "venue_years": keys, "years": rows, "partners_all_years": totals}, ensure_ascii=False))
    else:
        print(format_profile(rows, country, totals, keys, placement, args.china_scope, args.min_pair))
    return 0


def cmd_ranking(args: argparse.Namespace, settings: Settings) -> int:
    """Countries by cross-border papers (or all papers) over the venue-years, within a group."""
    from ..pipeline.countries.groups import GroupError, country_name, load_groups
    from ..pipeline.reports.profiles import partner_totals, ranking

    _counts(args)
    group = None
    if args.group:
        try:
            groups = load_groups(settings.country_groups_file)
        except GroupError as exc:
            raise CliError(str(exc)) from exc
        group = groups.get(args.group.strip().lower())
        if group is None:
            raise CliError(f"unknown group {args.group!r}; known: {', '.join(groups)} "
                           "(add your own in PAPERATLAS_COUNTRY_GROUPS, see docs/configuration.md)")
    keys, placement, sets = _sets(args, settings)
    rows = ranking(sets, group.members if group else None, args.top, args.cross_border)
    for row in rows:
        row["name"] = country_name(row["country"])
        row["partners"] = partner_totals(sets, row["country"], args.partners, args.min_pair)
    if args.json:
        print(json.dumps({"ranked_by": "cross_border" if args.cross_border else "papers",
                          "group": group.name if group else None, "group_title": group.title if group else None,
                          "placement": placement, "china_scope": args.china_scope, "min_pair": args.min_pair,
                          "venue_years": keys, "rows": rows}, ensure_ascii=False))
    else:
        from ..pipeline.reports.profiles import format_ranking, notes

        print(format_ranking(rows, keys, placement, args.china_scope, args.cross_border,
                             group.name if group else None, args.min_pair))
        if group:
            print("\n".join(notes([f"group {group.name}: {group.title}. Source: {group.source}"])))
    return 0


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scope", nargs="+", default=["all"], metavar="KEYS", help=SCOPE_HELP)
    parser.add_argument("--from", dest="start", type=int, default=None, metavar="YEAR",
                        help="first year (default: oldest)")
    parser.add_argument("--to", dest="end", type=int, default=None, metavar="YEAR",
                        help="last year (default: newest)")
    scope_option(parser)
    parser.add_argument("--min-pair", type=int, default=0, metavar="N",
                        help="leave out a partner in a year with fewer than N joint papers that year (ETO uses 25; "
                             "default 0: none left out)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _parse_country(sub) -> None:
    country = command(
        sub, "country", "one country per year: papers, cross-border papers, shares, top partners",
        "One row per year of the venue-years counted (--scope, default all): all papers, the papers with at "
        "least one author placed in the country (whole counting), its share of all papers, the cross-border "
        "papers (with at least one other country) and their share, and the top partners by joint papers; a "
        "last row over all years. As Georgetown ETO's cross-border AI research tracker shows a country; the "
        "partner counts are those of `paperatlas trend all --partners-of CC`.",
        ["paperatlas country CN",
         "paperatlas country US --scope neurips --from 2016 --top 10 --min-pair 25",
         "paperatlas country GB --scope neurips-2016 icml-2021 --json"], cmd_country)
    country.add_argument("country", metavar="CC", help="an ISO 3166-1 alpha-2 code, e.g. CN")
    _common_options(country)
    country.add_argument("--top", type=int, default=5, help="partners listed per year (default 5)")
    placement_option(country, "where a multinational named without a place counts")


def _parse_ranking(sub) -> None:
    ranked = command(
        sub, "ranking", "countries ranked by cross-border papers, within a group (non-western, eu, g20 ...)",
        "Countries ranked by their cross-border papers (papers with an author placed there and at least one "
        "other country), summed over the venue-years counted; without --cross-border, by all their papers. "
        "--group keeps a group's countries: built in are western, non-western, eu, g7, g20, brics and asean "
        "(pipeline/data/country_groups.yaml; your own in PAPERATLAS_COUNTRY_GROUPS). Each row lists the "
        "country's top partners over all years.",
        ["paperatlas ranking --cross-border --group non-western --top 10",
         "paperatlas ranking --scope neurips --from 2016 --json",
         "paperatlas ranking --cross-border --group g20 --min-pair 25"], cmd_ranking)
    ranked.add_argument("--cross-border", action="store_true",
                        help="rank by cross-border papers (default: by all papers)")
    ranked.add_argument("--group", default=None, metavar="NAME", help="keep only this group's countries")
    _common_options(ranked)
    ranked.add_argument("--top", type=int, default=None, help="countries listed (default: all)")
    ranked.add_argument("--partners", type=int, default=3, metavar="N",
                        help="top partners listed per country (default 3)")
    placement_option(ranked, "where a multinational named without a place counts")


PARSERS = {"country": _parse_country, "ranking": _parse_ranking}
