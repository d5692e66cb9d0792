"""Our paper countries and US-CN counts against the country labels of the paperlists files.

Metadata only, as `raw_papers` reads a paperlists file: each file goes through the paperlists
reader, `affiliations.explode`, the resolver (with the ROR dump) and the country decision
(`pipeline.countries.decision`), the same functions the assets call. The labels
(`aff_country_unique`) fold Hong Kong, Macau and Taiwan into China and place multinationals at
headquarters, so our sets are folded the same way (China scope `greater`). Labels are noisy:
they measure, they are never pipeline input.

Prints, per venue-year and in total: papers, papers with a usable label (every comparison
below is over those), per-paper exact country sets, US-CN
papers by the labels and by us under each placement with our [low, high] interval, and
whether the labels' count lies inside it; then the figures the numbers issue asks for.

    python benchmarks/country_labels.py [--paperlists DIR] [--ror ZIP|none] [--show N] [--audit]

`--audit` prints every paper whose US-CN membership differs between the labels and us (under
`hq`), author by author: the affiliation string, the e-mail domain, the labels' country for
that affiliation and our decision, so that each disagreement can be judged by hand.

The US-CN figures are printed twice: against the labels as published, and against the labels
with the reviewed corrections of `--corrections` (default benchmarks/data/label_corrections.csv:
one row per paper whose US-CN membership the labels get wrong, with the fact that shows it;
`none` for no corrections). A correction whose paper is missing, or whose label already agrees
with it, is reported and not applied.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from shared_data import SHARED  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FOLD = {"HK": "CN", "MO": "CN", "TW": "CN"}
NAME_FIXES = {"Türkiye": "TR", "Kingdom of Saudi Arabia": "SA", "South Korea": "KR", "Russian Federation": "RU",
              "Czechia": "CZ", "Iran": "IR", "Vietnam": "VN", "Taiwan": "TW", "Macau": "MO", "Hong Kong": "HK"}


def label_code(name: str) -> str | None:
    import pycountry

    name = name.strip()
    if not name or name.lower() == "unknown":
        return None
    if name in NAME_FIXES:
        return NAME_FIXES[name]
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        return None


def labels_of(record: dict) -> set[str] | None:
    """The labelled country set of a paper (folded), None when the record has no usable label."""
    raw = record.get("aff_country_unique")
    if not isinstance(raw, str) or not raw.strip():
        return None
    names = [n for n in raw.split(";") if n.strip()]
    codes = [label_code(n) for n in names]
    if not codes or any(c is None for c in codes):
        return None
    return {FOLD.get(c, c) for c in codes}


CORRECTIONS = Path(__file__).resolve().parent / "data" / "label_corrections.csv"


def load_corrections(path: str) -> dict[tuple[str, str], bool]:
    """(venue-year, paper id) -> the reviewed US-CN membership."""
    if path == "none":
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        return {(row["venue_year"], row["paper_id"]): row["us_cn"].strip().lower() == "true"
                for row in csv.DictReader(handle)}


def author_labels(record: dict) -> list[list[str]]:
    """The labels' country of each author's affiliations, in the order of `aff` ("?" where the
    record does not say): `aff_country_unique_index` holds, per author, `+`-joined indexes into
    `aff_country_unique`."""
    names = str(record.get("aff_country_unique") or "").split(";")
    out = []
    for entry in str(record.get("aff_country_unique_index") or "").split(";"):
        found = []
        for index in entry.split("+"):
            index = index.strip()
            name = names[int(index)].strip() if index.isdigit() and int(index) < len(names) else ""
            found.append(name or "?")
        out.append(found)
    return out


def audit(pk, paper, record, label: set[str], mine: set[str], high: bool, decisions: list) -> None:
    print(f"\n{pk.key} {paper.paper_id}: labels {sorted(label)}, ours {sorted(mine)}"
          f"{' (US-CN in high)' if high else ''}  {paper.title[:70]}")
    labelled = author_labels(record)
    affs = str(record.get("aff") or "").split(";")
    domains = str(record.get("aff_domain") or "").split(";")
    for i, aff in enumerate(affs):
        countries = labelled[i] if i < len(labelled) else ["?"]
        ours = sorted({c for d in decisions if d.author_position == i + 1 for c in d.countries}) or ["-"]
        rules = sorted({str(d.method) for d in decisions if d.author_position == i + 1})
        domain = domains[i].strip() if i < len(domains) else ""
        print(f"    author {i + 1}: labels {'+'.join(countries):24s} ours {'/'.join(ours):8s} "
              f"{','.join(rules)[:30]:30s} | {aff.strip()[:80]} | {domain}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paperlists", type=Path, default=SHARED / "paperlists")
    parser.add_argument("--ror", default=str(SHARED / "ror" / "ror-partial-v2.zip"),
                        help="ROR v2 dump zip ('none': without ROR)")
    parser.add_argument("--show", type=int, default=0, help="print this many mismatching papers per venue-year")
    parser.add_argument("--audit", action="store_true",
                        help="print every paper whose US-CN membership differs, author by author")
    parser.add_argument("--corrections", default=str(CORRECTIONS),
                        help="CSV of reviewed US-CN corrections to the labels ('none': without)")
    args = parser.parse_args()
    try:
        corrections = load_corrections(args.corrections)
    except (OSError, KeyError, csv.Error) as exc:
        print(f"{args.corrections}: not a corrections CSV (venue_year, paper_id, us_cn, authors, fact): {exc}",
              file=sys.stderr)
        return 2
    applied: set[tuple[str, str]] = set()
    files = sorted(args.paperlists.glob("*.json"))
    if not files:
        print(f"no paperlists files under {args.paperlists}", file=sys.stderr)
        return 2

    import pandas as pd

    from paperatlas.pipeline.affiliations.resolver import Resolver
    from paperatlas.pipeline.affiliations.ror import load_index
    from paperatlas.pipeline.affiliations.rows import explode
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.conventions import PLACEMENTS
    from paperatlas.pipeline.countries import decision as dc
    from paperatlas.pipeline.partitions import parse_partition_key
    from paperatlas.pipeline.reports import headlines as hl
    from paperatlas.pipeline.sources.paperlists import parse_records

    started = time.perf_counter()
    index = None if args.ror == "none" else load_index(Path(args.ror), load_settings().cache_dir)
    resolver = Resolver(index)
    print(f"resolver ready in {time.perf_counter() - started:.1f}s")
    header = (f"{'venue-year':14s} {'papers':>6s} {'labelled':>8s} {'exact':>7s} {'US-CN lab':>9s} "
              f"{'hq':>4s} {'coauth':>6s} {'[low, high]':>12s} {'inside':>6s} {'unplaced':>9s}")
    print(header)
    total = Counter()
    kinds = Counter()  # uncertainty kinds behind US-CN papers that are in `high` only
    inside_years = inside_reviewed = inside_unplaced = inside_reviewed_unplaced = widths = 0
    width_ratios, broad_ratios = [], []
    years = 0
    for path in files:
        venue = path.stem.rstrip("0123456789")
        pk = parse_partition_key(f"{venue}-{path.stem[len(venue):]}")
        records = json.loads(path.read_text(encoding="utf-8"))
        parsed = parse_records(records, pk, str(path))
        by_id = {}
        for n, record in enumerate(records):
            if isinstance(record, dict):
                by_id.setdefault(str(record.get("id") or ""), record)
        rows = explode([p.row() for p in parsed.papers])
        resolutions = {}
        for row in rows:
            key = dc.resolution_key(row.get("affiliation"), row.get("email_domain"))
            if key not in resolutions:
                resolutions[key] = resolver.resolve(*key).row()
        decisions = dc.decide(rows, resolutions)
        broad = dc.decide(rows, resolutions, labs="any")
        broad_by_paper: dict[str, list] = {}
        for d in broad:
            broad_by_paper.setdefault(d.paper_id, []).append(d)
        by_paper: dict[str, list] = {}
        for d in decisions:
            by_paper.setdefault(d.paper_id, []).append(d)

        def fold(cs):
            return {FOLD.get(c, c) for c in cs}

        # The unplaced bound, as the headlines asset computes it (China scope `greater`, as folded here).
        views = hl.build_views(pd.DataFrame([{"paper_id": p.paper_id, "title": p.title, "n_authors": len(p.authors)}
                                             for p in parsed.papers]), decisions)
        could_enter = hl.unplaced(views, "greater")["us_cn"]

        ours = {placement: {p: fold(cs) for p, cs in dc.paper_countries(decisions, placement).items()}
                for placement in PLACEMENTS}
        labelled = exact = 0
        lab_uscn = reviewed_uscn = 0
        counts = Counter()
        misses = []
        audits = []
        for paper in parsed.papers:
            record = by_id.get(paper.paper_id.split("~")[0])
            label = labels_of(record) if record else None
            mine = ours["hq"].get(paper.paper_id, set())
            if label is not None:
                labelled += 1
                if mine == label:
                    exact += 1
                elif len(misses) < args.show:
                    misses.append((paper.paper_id, sorted(label), sorted(mine), paper.title[:60]))
                lab_uscn += {"US", "CN"} <= label
            if label is None:  # compared on the papers the labels cover
                continue
            reviewed = corrections.get((pk.key, paper.paper_id))
            if reviewed is not None and reviewed != ({"US", "CN"} <= label):
                applied.add((pk.key, paper.paper_id))
            reviewed_uscn += ({"US", "CN"} <= label) if reviewed is None else reviewed
            for placement in PLACEMENTS:
                counts[placement] += {"US", "CN"} <= ours[placement].get(paper.paper_id, set())
            possible = [fold(s) for s in dc.possible_country_sets(by_paper.get(paper.paper_id, []))]
            low, high = all({"US", "CN"} <= s for s in possible), any({"US", "CN"} <= s for s in possible)
            counts["low"] += low
            counts["high"] += high
            counts["unplaced"] += paper.paper_id in could_enter
            if args.audit and ({"US", "CN"} <= label) != ({"US", "CN"} <= mine):
                audits.append((paper, record, label, mine, high))
            possible = [fold(s) for s in dc.possible_country_sets(broad_by_paper.get(paper.paper_id, []))]
            counts["low_any"] += all({"US", "CN"} <= s for s in possible)
            counts["high_any"] += any({"US", "CN"} <= s for s in possible)
            if high and not low:
                kinds.update({d.uncertainty for d in by_paper[paper.paper_id] if d.uncertainty})
        inside = counts["low"] <= lab_uscn <= counts["high"]
        years += 1
        inside_years += inside
        inside_reviewed += counts["low"] <= reviewed_uscn <= counts["high"]
        inside_unplaced += counts["low"] <= lab_uscn <= counts["high"] + counts["unplaced"]
        inside_reviewed_unplaced += counts["low"] <= reviewed_uscn <= counts["high"] + counts["unplaced"]
        if counts["hq"] >= 5:
            widths += 1
            width_ratios.append((counts["high"] - counts["low"]) / counts["hq"])
            broad_ratios.append((counts["high_any"] - counts["low_any"]) / counts["hq"])
        total.update({"papers": len(parsed.papers), "labelled": labelled, "exact": exact, "lab_uscn": lab_uscn,
                      "reviewed_uscn": reviewed_uscn, **counts})
        print(f"{pk.key:14s} {len(parsed.papers):6d} {labelled:8d} {exact / max(labelled, 1):7.1%} {lab_uscn:9d} "
              f"{counts['hq']:4d} {counts['coauthors']:6d} {'[' + str(counts['low']) + ', ' + str(counts['high']) + ']':>12s} "
              f"{'yes' if inside else 'NO':>6s} {'+' + str(counts['unplaced']):>9s}")
        for m in misses:
            print(f"    {m[0]}: labels {m[1]} ours {m[2]}  {m[3]}")
        for paper, record, label, mine, high in audits:
            audit(pk, paper, record, label, mine, high, by_paper.get(paper.paper_id, []))
    print(f"{'total':14s} {total['papers']:6d} {total['labelled']:8d} {total['exact'] / max(total['labelled'], 1):7.1%} "
          f"{total['lab_uscn']:9d} {total['hq']:4d} {total['coauthors']:6d} "
          f"{'[' + str(total['low']) + ', ' + str(total['high']) + ']':>12s} {'':>6s} {'+' + str(total['unplaced']):>9s}")
    lab = max(total["lab_uscn"], 1)
    print()
    print(f"per-paper exact country sets (hq, greater): {total['exact']}/{total['labelled']} = "
          f"{total['exact'] / max(total['labelled'], 1):.2%}   (target >= 97.5%)")
    print(f"aggregate US-CN: labels {total['lab_uscn']}, ours hq {total['hq']} ({(total['hq'] - lab) / lab:+.1%}), "
          f"coauthors {total['coauthors']} ({(total['coauthors'] - lab) / lab:+.1%})   (target within +-2% under hq)")
    print(f"labels' US-CN inside [low, high]: {inside_years}/{years} venue-years = {inside_years / max(years, 1):.0%}"
          f"   (target >= 90%)")
    if width_ratios:
        print(f"median (high - low) / count over {widths} venue-years with >= 5 US-CN papers: "
              f"{statistics.median(width_ratios):.1%}   (target <= 25%); with every lab admissible (labs=any): "
              f"{statistics.median(broad_ratios):.1%}, total [{total['low_any']}, {total['high_any']}]")
    print(f"with the unplaced bound (papers unplaced authors could bring in: {total['unplaced']}): labels' US-CN "
          f"inside [low, high + unplaced] in {inside_unplaced}/{years} venue-years; with the corrections "
          f"{inside_reviewed_unplaced}/{years}")
    print(f"uncertain rows behind the US-CN interval, by kind: {dict(kinds)}")
    unused = sorted(set(corrections) - applied)
    if corrections:
        reviewed = max(total["reviewed_uscn"], 1)
        print(f"with {len(applied)} reviewed corrections to the labels ({args.corrections}): labels' US-CN "
              f"{total['reviewed_uscn']}, ours hq {total['hq']} ({(total['hq'] - reviewed) / reviewed:+.1%}); "
              f"inside [low, high] in {inside_reviewed}/{years} venue-years = {inside_reviewed / max(years, 1):.0%}")
    for key in unused:
        print(f"correction not applied (paper missing, or its label already says so): {key[0]} {key[1]}")
    print(f"took {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
