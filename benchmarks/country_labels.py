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

    python benchmarks/country_labels.py [--paperlists DIR] [--ror ZIP|none] [--show N]
"""

from __future__ import annotations

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paperlists", type=Path, default=SHARED / "paperlists")
    parser.add_argument("--ror", default=str(SHARED / "ror" / "ror-partial-v2.zip"),
                        help="ROR v2 dump zip ('none': without ROR)")
    parser.add_argument("--show", type=int, default=0, help="print this many mismatching papers per venue-year")
    args = parser.parse_args()
    files = sorted(args.paperlists.glob("*.json"))
    if not files:
        print(f"no paperlists files under {args.paperlists}", file=sys.stderr)
        return 2

    from pipeline.affiliations.resolver import Resolver
    from pipeline.affiliations.ror import load_index
    from pipeline.affiliations.rows import explode
    from pipeline.config import load_settings
    from pipeline.countries import decision as dc
    from pipeline.partitions import parse_partition_key
    from pipeline.sources.paperlists import parse_records

    started = time.perf_counter()
    index = None if args.ror == "none" else load_index(Path(args.ror), load_settings().cache_dir)
    resolver = Resolver(index)
    print(f"resolver ready in {time.perf_counter() - started:.1f}s")
    header = (f"{'venue-year':14s} {'papers':>6s} {'labelled':>8s} {'exact':>7s} {'US-CN lab':>9s} "
              f"{'hq':>4s} {'coauth':>6s} {'[low, high]':>12s} {'inside':>6s}")
    print(header)
    total = Counter()
    kinds = Counter()  # uncertainty kinds behind US-CN papers that are in `high` only
    inside_years = widths = 0
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

        ours = {placement: {p: fold(cs) for p, cs in dc.paper_countries(decisions, placement).items()}
                for placement in dc.PLACEMENTS}
        labelled = exact = 0
        lab_uscn = 0
        counts = Counter()
        misses = []
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
            for placement in dc.PLACEMENTS:
                counts[placement] += {"US", "CN"} <= ours[placement].get(paper.paper_id, set())
            possible = [fold(s) for s in dc.possible_country_sets(by_paper.get(paper.paper_id, []))]
            low, high = all({"US", "CN"} <= s for s in possible), any({"US", "CN"} <= s for s in possible)
            counts["low"] += low
            counts["high"] += high
            possible = [fold(s) for s in dc.possible_country_sets(broad_by_paper.get(paper.paper_id, []))]
            counts["low_any"] += all({"US", "CN"} <= s for s in possible)
            counts["high_any"] += any({"US", "CN"} <= s for s in possible)
            if high and not low:
                kinds.update({d.uncertainty for d in by_paper[paper.paper_id] if d.uncertainty})
        inside = counts["low"] <= lab_uscn <= counts["high"]
        years += 1
        inside_years += inside
        if counts["hq"] >= 5:
            widths += 1
            width_ratios.append((counts["high"] - counts["low"]) / counts["hq"])
            broad_ratios.append((counts["high_any"] - counts["low_any"]) / counts["hq"])
        total.update({"papers": len(parsed.papers), "labelled": labelled, "exact": exact, "lab_uscn": lab_uscn,
                      **counts})
        print(f"{pk.key:14s} {len(parsed.papers):6d} {labelled:8d} {exact / max(labelled, 1):7.1%} {lab_uscn:9d} "
              f"{counts['hq']:4d} {counts['coauthors']:6d} {'[' + str(counts['low']) + ', ' + str(counts['high']) + ']':>12s} "
              f"{'yes' if inside else 'NO':>6s}")
        for m in misses:
            print(f"    {m[0]}: labels {m[1]} ours {m[2]}  {m[3]}")
    print(f"{'total':14s} {total['papers']:6d} {total['labelled']:8d} {total['exact'] / max(total['labelled'], 1):7.1%} "
          f"{total['lab_uscn']:9d} {total['hq']:4d} {total['coauthors']:6d} "
          f"{'[' + str(total['low']) + ', ' + str(total['high']) + ']':>12s}")
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
    print(f"uncertain rows behind the US-CN interval, by kind: {dict(kinds)}")
    print(f"took {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
