"""Agreement of the resolver with the country labels of ../shared/data/affiliations/dev.jsonl.

The labels fold Hong Kong, Macau and Taiwan into China, so our answers are folded the same
way before comparing. Unresolved rows count against agreement but not as wrong.

    python benchmarks/resolver_agreement.py [--data PATH] [--show 25]
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

from paperatlas.pipeline.affiliations.resolver import Resolver, load_overrides  # noqa: E402
from paperatlas.pipeline.affiliations.ror import load_index  # noqa: E402
from paperatlas.pipeline.config import load_settings  # noqa: E402

FOLD = {"HK": "CN", "MO": "CN", "TW": "CN"}
DEFAULT = SHARED / "affiliations" / "dev.jsonl"
DEFAULT_ROR = SHARED / "ror" / "ror-partial-v2.zip"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--show", type=int, default=25, help="error groups to print")
    parser.add_argument("--ror", type=Path, default=DEFAULT_ROR, help="ROR v2 dump zip ('none': without ROR)")
    parser.add_argument("--overrides", type=Path, default=None, help="an overrides YAML file")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    t0 = time.perf_counter()
    index = None if str(args.ror) == "none" else load_index(args.ror, load_settings().cache_dir)
    resolver = Resolver(index, load_overrides(args.overrides))
    load = time.perf_counter() - t0
    agree = wrong = unresolved = 0
    by_method = collections.Counter()
    wrong_by_method = collections.Counter()
    errors = collections.Counter()
    examples: dict[tuple, list] = collections.defaultdict(list)
    t1 = time.perf_counter()
    for row in rows:
        res = resolver.resolve(row["affiliation"], row.get("email_domain"))
        got = FOLD.get(res.country, res.country) if res.country else None
        label = FOLD.get(row["country"], row["country"])
        by_method[res.method] += 1
        if got is None:
            unresolved += 1
            key = ("unresolved", label, None)
        elif got == label:
            agree += 1
            continue
        else:
            wrong += 1
            wrong_by_method[res.method] += 1
            key = (res.method, label, got)
        errors[key] += 1
        if len(examples[key]) < 3:
            examples[key].append((row["affiliation"][:90], row.get("email_domain"), res.evidence))
    elapsed = time.perf_counter() - t1
    n = len(rows)
    print(f"rows: {n}")
    print(f"agreement: {agree / n:.4f} ({agree})")
    print(f"wrong: {wrong / n:.4f} ({wrong})")
    print(f"unresolved: {unresolved / n:.4f} ({unresolved})")
    print(f"resolver load: {load:.2f}s; {n / elapsed:,.0f} strings/s (cold cache)")
    print("decisions by method (wrong):")
    for method, count in by_method.most_common():
        print(f"  {method:24s} {count:6d} ({wrong_by_method[method]})")
    print(f"top {args.show} error groups (method, label, ours): count, examples")
    for key, count in errors.most_common(args.show):
        print(f"  {key}: {count}")
        for ex in examples[key]:
            print(f"      {ex}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
