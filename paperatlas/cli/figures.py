"""`report`, `trend`, `diff`, `papers` and `explain`: the figures of materialised venue-years,
how they moved, and the papers and evidence behind them."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..pipeline.config import Settings
from ..pipeline.text import display
from . import common
from .common import CliError
from .options import KEYS_HELP, command, placement_option, scope_option


def _report(settings: Settings, args: argparse.Namespace, key: str):
    from ..pipeline.reports.views import ReportError, build_report

    store = common.warehouse(settings)
    try:
        return build_report(store, key, args.china_scope, top=args.top, seed=args.seed, sample_size=args.sample,
                            threshold=args.min_confidence, placement=common.placement_of(args, settings))
    except ReportError as exc:
        raise CliError(str(exc)) from exc


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from ..pipeline.reports.render import (
        MARKER,
        format_text,
        kept_message,
        render_html,
        render_markdown,
        report_json,
        write_report,
    )
    from ..pipeline.reports.views import ReportError

    fmt = "json" if args.json else args.format
    if args.sample < 0:
        raise CliError("--sample must be 0 or more")
    several = common.several(args.partitions)
    if several and fmt == "html":
        raise CliError("--format html prints one venue-year's report; for several, use --out DIR "
                       "(each gets DIR/VENUE-YEAR/report.html)")
    if several and args.out and (Path(args.out) / MARKER).exists():
        raise CliError(f"--out {args.out} is one venue-year's report folder; give another folder for several "
                       "venue-years (each gets a folder inside it)")
    keys = common.expand(args.partitions, settings, stored=True)
    reports = [_report(settings, args, key) for key in keys]
    if fmt == "json":
        payload = [report_json(r) for r in reports]
        print(json.dumps(payload if several else payload[0], ensure_ascii=False))
    elif fmt == "html":
        print(render_html(reports[0]))
    else:
        print("\n\n".join(render_markdown(r) if fmt == "md" else format_text(r) for r in reports))
    for report in reports if args.out else ():
        out = Path(args.out) / report.partition_key if several else Path(args.out)
        try:
            paths = write_report(report, out, on_kept=lambda kept, out=out: print(kept_message(out, kept),
                                                                                   file=sys.stderr))
        except ReportError as exc:
            raise CliError(str(exc)) from exc
        print(f"report written to {paths['report.html'].parent} (report.md, report.html, report.json, charts/, "
              f"review.csv, review.html, low_confidence.csv, tables/)", file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    """Which papers entered or left each headline number between two materialisations, for
    each venue-year named (a range or `venue-*` skips those with fewer than two snapshots)."""
    several = common.several(args.partitions)
    if several and (args.old is not None or args.new is not None):
        raise CliError("--from and --to are snapshot numbers of one venue-year; give one VENUE-YEAR with them")
    keys = common.expand(args.partitions, settings, stored=True)
    store = common.warehouse(settings)
    results = []
    for key in keys:
        try:
            result = _diff_one(store, key, args, settings)
        except CliError as exc:
            if not several:
                raise
            print(f"paperatlas: skipped {key}: {exc}", file=sys.stderr)
            continue
        if result is not None:
            results.append(result)
    if args.json and not args.list:
        print(json.dumps(results if several else results[0], ensure_ascii=False, default=str))
    return 0


def _diff_one(store, key: str, args: argparse.Namespace, settings: Settings) -> dict | None:
    """Print one venue-year's diff (or its snapshots with --list); with --json, return it instead."""
    from ..pipeline.reports import queries
    from ..pipeline.reports.diff import diff, diff_rows, format_diff, views_from_snapshot

    runs = queries.snapshot_runs(store, key)
    if args.list:
        for row in runs.itertuples(index=False):
            print(f"{key}\t{row.snapshot}\t{row.taken_at:%Y-%m-%d %H:%M:%S}\t{row.papers} papers\trun {row.run_id}")
        print(f"{len(runs)} snapshots of {key}", file=sys.stderr)
        return None
    if len(runs) < 2 and args.old is None:
        raise CliError(f"{key} has {len(runs)} materialisation(s) of its headlines; a diff needs two "
                       f"(`paperatlas run {key}` again after a change, or see `paperatlas diff {key} --list`)")
    known = list(runs["snapshot"])
    new = args.new if args.new is not None else known[-1]
    old = args.old if args.old is not None else max((s for s in known if s < new), default=None)
    for label, snap in (("--from", old), ("--to", new)):
        if snap not in known:
            raise CliError(f"{label} {snap}: no such snapshot of {key}; kept: {', '.join(map(str, known)) or 'none'}")
    views = {s: views_from_snapshot(queries.snapshot(store, key, s), queries.snapshot_evidence(store, key, s))
             for s in (old, new)}
    result = diff(views[old], views[new], args.china_scope, common.placement_of(args, settings))
    inputs = {s: json.loads(runs.loc[runs["snapshot"] == s, "inputs"].iloc[0] or "{}") for s in (old, new)}
    changed_inputs = {k: [inputs[old].get(k), inputs[new].get(k)]
                      for k in sorted(set(inputs[old]) | set(inputs[new])) if inputs[old].get(k) != inputs[new].get(k)}
    if args.json:
        return {"partition": key, "from": old, "to": new, "inputs_changed": changed_inputs, **result,
                "rows": diff_rows(result)}
    print(display(format_diff(result, f"{key} snapshot {old}", f"snapshot {new}", limit=args.limit)))
    for name, (a, b) in changed_inputs.items():
        print(f"  input {name}: {a} -> {b}")
    return None


def cmd_trend(args: argparse.Namespace, settings: Settings) -> int:
    """One row per materialised year of a venue: US-CN papers with their interval and share,
    the international share and the top partners, under a placement and China scope."""
    from ..pipeline.reports import charts
    from ..pipeline.reports.trend import TrendError, chart_frame, format_text, trend_rows
    from ..pipeline.sources.plan import edition_test

    partners = tuple(dict.fromkeys(c.strip().upper() for c in args.partners_of.split(",") if c.strip()))
    if not partners or any(len(c) != 2 or not c.isalpha() for c in partners):
        raise CliError(f"--partners-of {args.partners_of!r}: give ISO alpha-2 codes separated by commas, e.g. US,CN")
    if args.top < 0:
        raise CliError("--top must be 0 or more")
    placement = common.placement_of(args, settings)
    try:
        rows = trend_rows(common.warehouse(settings), args.venue.lower(), args.start, args.end, placement,
                          args.china_scope, partners, args.top)
    except TrendError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        print(display(format_text(rows)))
    if args.out:
        out = Path(args.out)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(out.name + ".tmp")
            tmp.write_bytes(charts.us_cn_share_by_year(chart_frame(rows), args.venue.lower(), args.china_scope,
                                                       edition_test(settings.sources_file)))
            os.replace(tmp, out)
        except OSError as exc:
            raise CliError(f"--out {out}: cannot write the chart ({exc.strerror or exc})") from exc
        print(f"chart written to {out}", file=sys.stderr)
    return 0


def cmd_papers(args: argparse.Namespace, settings: Settings) -> int:
    """One row per paper of a venue-year: countries under the placement and China scope,
    whether a headline number it is in depends on an uncertain row, and every author's evidence."""
    import csv

    from ..pipeline.reports.explain import AUTHOR_COLUMNS, author_rows, flat, paper_record
    from ..pipeline.reports.headlines import NUMBER_IDS, PaperView, members
    from ..pipeline.text import csv_safe

    if args.number is not None and args.number not in NUMBER_IDS:
        raise CliError(f"unknown number {args.number!r}; the numbers are: {', '.join(NUMBER_IDS)}")
    key = common.partition_keys([args.partition])[0]
    views = common.paper_views(settings, key)
    placement = common.placement_of(args, settings)
    every = len(views)
    if args.number is not None:  # the papers behind one number, as the headline counts them
        inside = members(views, args.china_scope, placement=placement)[args.number]
        views = {pid: view for pid, view in views.items() if pid in inside}
    sink = common.open_file(args.output, "w", sys.stdout)
    try:
        if args.long:
            records = (row for pid in sorted(views) for row in author_rows(views[pid], args.china_scope, placement))
        else:
            records = (paper_record(views[pid], args.china_scope, placement) for pid in sorted(views))
        if args.format == "jsonl":
            for record in records:
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            writer = None
            for record in records:
                row = record if args.long else flat(record)
                if writer is None:
                    writer = csv.DictWriter(sink, fieldnames=list(row), lineterminator="\n")
                    writer.writeheader()
                writer.writerow({k: csv_safe(v) for k, v in row.items()})
            if writer is None:  # no paper: the header alone, so a spreadsheet still shows the columns
                empty = PaperView("", None, None, False, frozenset())
                columns = AUTHOR_COLUMNS if args.long else list(flat(paper_record(empty, args.china_scope, placement)))
                csv.DictWriter(sink, fieldnames=columns, lineterminator="\n").writeheader()
    finally:
        if sink is not sys.stdout:
            sink.close()
    which = f"{len(views)} of the {every} papers of {key} in {args.number}" if args.number else \
        f"{every} papers of {key}"
    print(f"{which} (placement {placement}, China scope {args.china_scope})"
          + ("; one row per author-affiliation row" if args.long else ""), file=sys.stderr)
    return 0


def cmd_explain(args: argparse.Namespace, settings: Settings) -> int:
    from ..pipeline.reports.explain import explain_text, find

    key = common.partition_keys([args.partition])[0]
    views = common.paper_views(settings, key)
    query = " ".join(args.paper)
    found = find(views, query)
    if not found:
        raise CliError(f"no paper of {key} has the id {query!r} or all its words in the title")
    if len(found) > 1:
        listing = display("\n".join(f"  {v.paper_id}  {v.title}" for v in found[:20]))
        raise CliError(f"{len(found)} papers of {key} match {query!r}; give an id:\n{listing}")
    print(display(explain_text(found[0], args.china_scope, common.placement_of(args, settings))))
    return 0


def _parse_report(sub) -> None:
    report = command(
        sub, "report", "the headline figures of materialised venue-years; --out writes the full report",
        "Prints the headline of each venue-year: US-CN co-authored papers with the interval they could move in "
        "(`US-CN 18 (16-18)`), what the countries stand on (PDF, metadata, nothing), every number under both "
        "placements and the three China scopes, the mention counts and the top country pairs. --out writes "
        "report.html, charts, the review sample and CSV/Parquet tables. Ranges and venue-* take the "
        "materialised years.",
        ["paperatlas report neurips-2016",
         "paperatlas report neurips-2016 --out reports/neurips-2016",
         "paperatlas report neurips-2010..2018 --json"], cmd_report)
    report.add_argument("partitions", nargs="+", metavar="VENUE-YEAR",
                        help=KEYS_HELP.format(every="that is materialised") + "; several give a JSON list")
    report.add_argument("--format", choices=["text", "md", "html", "json"], default="text",
                        help="what to print (default text; html embeds the charts and takes one venue-year)")
    report.add_argument("--json", action="store_true", help="same as --format json")
    report.add_argument("--out", metavar="DIR", default=None,
                        help="write report.md/html/json, charts, review sample and CSV/Parquet tables to DIR "
                             "(a new folder, or one an earlier report wrote: it is replaced whole); with several "
                             "venue-years, each goes to DIR/VENUE-YEAR")
    scope_option(report)
    report.add_argument("--top", type=int, default=10, help="country pairs to list (default 10)")
    report.add_argument("--seed", type=int, default=2026, help="seed of the review samples (default 2026)")
    report.add_argument("--sample", type=int, default=20, help="papers sampled per headline number (default 20)")
    report.add_argument("--min-confidence", type=float, default=0.85,
                        help="rows resolved below this confidence are low-confidence (default 0.85)")
    placement_option(report, "the placement of the flat figures, tables and review sample (the headline "
                              "shows both)")


def _parse_trend(sub) -> None:
    trend = command(
        sub, "trend", "US-CN papers per materialised year of a venue, with interval, shares and partners",
        "One row per materialised year of VENUE (or 'all': every venue, summed per year, with the venues "
        "summed): papers, US-CN co-authored papers with their (low-high) interval, the papers unplaced authors "
        "could add (+N unplaced) and share of all papers, the international share of papers with a country and "
        "the top partners of the --partners-of countries. --json prints a list of objects with the keys year, "
        "venues, papers, us_cn_papers, us_cn_papers_low, us_cn_papers_high, us_cn_papers_unplaced, us_cn_share "
        "and us_cn_share_of (what it is of), international_share and international_share_of, top_partners and "
        "more. --out draws one line per venue, none across a missing year.",
        ["paperatlas trend neurips",
         "paperatlas trend neurips --from 2010 --to 2018 --out neurips.png",
         "paperatlas trend all --placement coauthors --json"], cmd_trend)
    trend.add_argument("venue", metavar="VENUE", help="a venue, e.g. neurips, or all")
    trend.add_argument("--from", dest="start", type=int, default=None, metavar="YEAR",
                       help="first year (default: oldest)")
    trend.add_argument("--to", dest="end", type=int, default=None, metavar="YEAR", help="last year (default: newest)")
    scope_option(trend)
    trend.add_argument("--partners-of", default=",".join(("US", "CN")), metavar="CODES",
                       help="countries whose top partners to list (default US,CN)")
    trend.add_argument("--top", type=int, default=3, help="partners listed per country (default 3)")
    trend.add_argument("--json", action="store_true", help="print a JSON list of objects, one per year")
    trend.add_argument("--out", metavar="PNG", default=None, help="also write the US-CN share chart (with its "
                                                                   "interval shaded) to this PNG file")
    placement_option(trend, "the placement of every figure in the rows")


def _parse_papers(sub) -> None:
    papers = command(
        sub, "papers", "one row per paper: countries, uncertainty, every author's evidence",
        "One row per paper of a materialised venue-year: its countries under the placement and China scope, "
        "whether a headline number it is in depends on an uncertain row, what its countries stand on, and per "
        "author the affiliation strings, their source, country, rule, confidence and alternatives.",
        ["paperatlas papers neurips-2016 --output neurips-2016.csv",
         "paperatlas papers neurips-2016 --format jsonl | head -1",
         "paperatlas papers neurips-2016 --number us_cn --long --output us_cn_authors.csv"], cmd_papers)
    papers.add_argument("partition", metavar="VENUE-YEAR", help="a materialised venue-year, e.g. neurips-2016")
    placement_option(papers, "where a multinational named without a place counts")
    scope_option(papers)
    papers.add_argument("--format", choices=["csv", "jsonl"], default="csv",
                        help="csv (default; authors in one readable cell) or jsonl (authors as a list)")
    papers.add_argument("--number", default=None, metavar="KEY",
                        help="only the papers in this headline number under the placement and China scope "
                             "(us_cn, us, cn, international, cn_llama_abstract ...)")
    papers.add_argument("--long", action="store_true",
                        help="one row per author-affiliation row instead of per paper: paper_id, title, author, "
                             "affiliation, e-mail domain, institution, parent institution, country, rule, "
                             "confidence, source")
    papers.add_argument("--output", default="-", help="output file, or - for stdout (default)")


def _parse_explain(sub) -> None:
    explain = command(
        sub, "explain", "why one paper counts where it does, and what would move it",
        "One paper, readably: its countries under each placement, the country sets it could have, each "
        "headline number it is in (or could be), and per author why the row counts where it does and what "
        "would move it. PAPER is an id or words of the title; several matches are listed.",
        ["paperatlas explain neurips-2016 'value iteration networks'",
         "paperatlas explain neurips-2016 7211"], cmd_explain)
    explain.add_argument("partition", metavar="VENUE-YEAR", help="a materialised venue-year, e.g. neurips-2016")
    explain.add_argument("paper", nargs="+", metavar="PAPER", help="a paper id, or words of its title")
    placement_option(explain, "where a multinational named without a place counts")
    scope_option(explain)


def _parse_diff(sub) -> None:
    diff = command(
        sub, "diff", "which papers entered or left each headline number between two runs",
        "Compares two materialisations of a venue-year's headlines (by default the latest and the one "
        "before): for every number, the count before and after and each paper that entered or left, with "
        "the affiliation row, rule or input that changed. A range or venue-* diffs each venue-year that has "
        "two snapshots.",
        ["paperatlas diff neurips-2016",
         "paperatlas diff neurips-2016 --list",
         "paperatlas diff neurips-2010..2018 --json"], cmd_diff)
    diff.add_argument("partitions", nargs="+", metavar="VENUE-YEAR",
                      help=KEYS_HELP.format(every="that is materialised"))
    diff.add_argument("--from", dest="old", type=int, default=None, metavar="N",
                      help="older snapshot (default: the one before --to); one venue-year only")
    diff.add_argument("--to", dest="new", type=int, default=None, metavar="N",
                      help="newer snapshot (default: the latest); one venue-year only")
    scope_option(diff)
    diff.add_argument("--json", action="store_true", help="every change as JSON (a list for several venue-years)")
    diff.add_argument("--limit", type=int, default=20, help="papers listed per number in text output (default 20)")
    diff.add_argument("--list", action="store_true", help="list the stored snapshots and exit")
    placement_option(diff, "the placement under which numbers are compared")


PARSERS = {"report": _parse_report, "trend": _parse_trend, "papers": _parse_papers, "explain": _parse_explain, "diff": _parse_diff}
