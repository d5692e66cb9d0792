"""The resolver against ROR's own matching test data: the Springer Nature set
(../shared/data/ror-tests/springer.jsonl, 8,295 affiliation strings with the ROR id the publisher
asserted and its country; never copied into the project).

Figures:
- country agreement (HK/MO/TW as printed: the set's countries are ROR's);
- strict ROR-id precision (rows where we give a ROR id) and recall (all rows);
- the wrong ids split into **related** (ours is the asserted organisation's parent, child or
  sibling in ROR's `relationships`, or our top-level parent is theirs: the publisher's
  granularity) and **unrelated** (another institution: the real error), with unrelated as a
  share of answers (rows where we give a ROR id);
  ROR's own `related` links (a university hospital and its university) are neither: they are
  counted apart inside unrelated;
- the worst unrelated examples (first the ones in another country, then those without a
  `related` link).

Relationships are read from the dump itself, so the figures do not depend on what the resolver
records (the same script measures older code).

    python benchmarks/ror_springer.py [--data PATH] [--ror PATH] [--show 40] [--json]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

from shared_data import SHARED  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paperatlas.pipeline.affiliations.names import name_key  # noqa: E402
from paperatlas.pipeline.affiliations.resolver import Resolver, load_overrides  # noqa: E402
from paperatlas.pipeline.affiliations.ror import iter_dump, load_index  # noqa: E402
from paperatlas.pipeline.config import load_settings  # noqa: E402

DEFAULT = SHARED / "ror-tests" / "springer.jsonl"
DEFAULT_ROR = SHARED / "ror" / "ror-partial-v2.zip"


def relationships(dump: Path) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, str], dict[str, set[str]]]:
    """(parents, children, names, `related` links) of every record in the dump, by ROR id."""
    parents: dict[str, set[str]] = collections.defaultdict(set)
    children: dict[str, set[str]] = collections.defaultdict(set)
    linked: dict[str, set[str]] = collections.defaultdict(set)
    names: dict[str, str] = {}
    for record in iter_dump(dump):
        rid = record.get("id")
        for name in record.get("names") or []:
            if "ror_display" in (name.get("types") or []):
                names[rid] = name.get("value")
        for rel in record.get("relationships") or []:
            kind = (rel.get("type") or "").lower()
            if kind == "parent":
                parents[rid].add(rel["id"])
                children[rel["id"]].add(rid)
            elif kind == "child":
                children[rid].add(rel["id"])
                parents[rel["id"]].add(rid)
            elif kind == "related":
                linked[rid].add(rel["id"])
                linked[rel["id"]].add(rid)
    return parents, children, names, linked


def roots(rid: str, parents: dict[str, set[str]]) -> set[str]:
    """The top-level parents of `rid` (itself when it has none), cycles guarded."""
    out, seen, todo = set(), set(), [rid]
    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        ups = parents.get(cur) or set()
        if not ups:
            out.add(cur)
        todo.extend(ups)
    return out or {rid}


def related(ours: str, theirs: str, parents, children) -> bool:
    if ours in parents.get(theirs, ()) or ours in children.get(theirs, ()):
        return True
    if parents.get(ours, set()) & parents.get(theirs, set()):
        return True  # siblings
    return bool(roots(ours, parents) & roots(theirs, parents))


def printed(name: str | None, affiliation: str) -> bool:
    """Does the affiliation string print the institution's display name in full?"""
    key = name_key(name or "")
    return bool(key) and f" {key} " in f" {name_key(affiliation)} "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--ror", type=Path, default=DEFAULT_ROR)
    parser.add_argument("--show", type=int, default=40, help="unrelated examples to print")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    if not args.data.exists() or not args.ror.exists():
        print(f"shared data not found ({args.data}, {args.ror})", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    parents, children, names, linked = relationships(args.ror)
    resolver = Resolver(load_index(args.ror, load_settings().cache_dir), load_overrides(None))
    n = len(rows)
    country_ok = answered = correct = rel = 0
    unresolved_country = 0
    unrelated: list[tuple] = []
    by_method: collections.Counter = collections.Counter()
    t0 = time.perf_counter()
    for row in rows:
        res = resolver.resolve(row["affiliation"], row.get("email_domain"))
        if res.country == row["country"]:
            country_ok += 1
        elif res.country is None:
            unresolved_country += 1
        ours = res.ror_id
        if not ours:
            continue
        answered += 1
        theirs = row["ror_id"]
        if ours == theirs:
            correct += 1
        elif related(ours, theirs, parents, children):
            rel += 1
        else:
            unrelated.append((res.country != row["country"], row["affiliation"], names.get(theirs, theirs),
                              row["country"], res.institution, res.country, res.method,
                              bool(linked.get(ours, set()) & ({theirs} | parents.get(theirs, set())))))
            by_method[res.method] += 1
    took = time.perf_counter() - t0
    figures = {
        "rows": n,
        "country": round(country_ok / n, 4),
        "country_unresolved": round(unresolved_country / n, 4),
        "answers": answered,
        "precision": round(correct / answered, 4) if answered else None,
        "recall": round(correct / n, 4),
        "related_share": round(rel / answered, 4) if answered else None,
        "unrelated_share": round(len(unrelated) / answered, 4) if answered else None,
        "unrelated": len(unrelated),
        "unrelated_other_country": sum(1 for u in unrelated if u[0]),
        # ROR's `related` links (a university hospital and its university): neither parent nor child
        "unrelated_ror_related": sum(1 for u in unrelated if u[7]),
    }
    figures["unrelated_share_without_ror_related"] = (round((len(unrelated) - figures["unrelated_ror_related"])
                                                            / answered, 4) if answered else None)
    # An unrelated answer whose display name the string prints in full, beside the asserted one's:
    # the string names both, and the publisher chose the other (names compared as name keys; an
    # answer found through an alias or an acronym counts as not printed, against us).
    both = sum(1 for u in unrelated if printed(u[4], u[1]) and printed(u[2], u[1]))
    figures["unrelated_both_printed"] = both
    figures["unrelated_share_not_both_printed"] = (round((len(unrelated) - both) / answered, 4)
                                                   if answered else None)
    # Neither printed beside the asserted one nor linked to it by ROR `related`: what remains an error.
    rest = sum(1 for u in unrelated if not u[7] and not (printed(u[4], u[1]) and printed(u[2], u[1])))
    figures["unrelated_rest"] = rest
    figures["unrelated_share_rest"] = round(rest / answered, 4) if answered else None
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"rows: {n} ({n / took:,.0f} strings/s)")
    print(f"country agreement: {figures['country']:.4f} (unresolved {figures['country_unresolved']:.4f})")
    print(f"ROR id given: {answered} ({answered / n:.4f} of rows)")
    print(f"strict precision: {figures['precision']:.4f}  recall: {figures['recall']:.4f}")
    print(f"wrong but related (parent, child, sibling, same top-level parent): {rel} "
          f"({figures['related_share']:.4f} of answers)")
    print(f"unrelated: {len(unrelated)} ({figures['unrelated_share']:.4f} of answers; "
          f"{figures['unrelated_other_country']} in another country)")
    print(f"  of which linked by ROR `related` (a hospital and its university): {figures['unrelated_ror_related']}; "
          f"unrelated without them: {figures['unrelated_share_without_ror_related']:.4f} of answers")
    print(f"  of which the string prints both our institution's and the asserted one's name in full: {both}; "
          f"the rest: {figures['unrelated_share_not_both_printed']:.4f} of answers")
    print(f"  neither (not printed beside the asserted one, not linked by ROR `related`): {rest} "
          f"({figures['unrelated_share_rest']:.4f} of answers)")
    print("unrelated by method: " + ", ".join(f"{m} {c}" for m, c in by_method.most_common()))
    print(f"worst {args.show} unrelated (another country first):")
    worst = sorted(unrelated, key=lambda u: (not u[0], u[7]))[:args.show]
    for other, aff, their_name, their_cc, our_name, our_cc, method, _ in worst:
        print(f"  {aff[:110]!r}\n      asserted {their_name} ({their_cc}); ours {our_name} ({our_cc}) by {method}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
