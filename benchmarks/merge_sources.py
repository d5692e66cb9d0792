"""Merging sources on real titles and author names: precision, recall and speed.

For each shared paperlists file, the venue-year's papers are the truth. Three source views
are built from them, in the shapes the real services serve, with the differences real sources
have, and parsed by paperatlas' own readers:

- the virtual site's orals-posters document: one poster per paper, plus an oral repeating it
  for every 10th paper (the reader must drop the repeats);
- OpenReview notes with profiles: titles spelt differently (lower case, a final period,
  dashes and accents changed), the first affiliation as a history entry from the year before;
- the proceedings: authors as "Last, First" (turned around by the reader), every 33rd paper
  missing, and 2% more papers that the other sources do not have.

Then `merge` runs with the three in that order, and the script prints per venue-year: rows
expected and merged, wrong merges (two true papers in one row), split papers (one true paper
in two rows), the merges per rule, and the time. Real files hold near-duplicate titles and
shared first authors, which is what makes this a test of the matching rules.

    python benchmarks/merge_sources.py [--paperlists DIR] [files ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import unicodedata
from pathlib import Path

from shared_data import SHARED  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from paperatlas.pipeline.models import Paper  # noqa: E402
from paperatlas.pipeline.partitions import PartitionKey  # noqa: E402
from paperatlas.pipeline.sources import openreview, virtual_site  # noqa: E402
from paperatlas.pipeline.sources.base import ParseResult  # noqa: E402
from paperatlas.pipeline.sources.merge import merge  # noqa: E402
from paperatlas.pipeline.sources.paperlists import parse_records  # noqa: E402


def respell(title: str, i: int) -> str:
    variants = [
        lambda t: t.lower(),
        lambda t: t + ".",
        lambda t: t.replace("-", "\u2013"),
        lambda t: unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode(),
        lambda t: t.replace(":", " :"),
    ]
    return variants[i % len(variants)](title)


def build(papers: list[Paper], pk: PartitionKey):
    events, notes, profiles = [], [], {}
    for i, p in enumerate(papers):
        event = {"id": 10000 + i, "uid": f"u{i}", "name": p.title, "abstract": p.abstract or "",
                 "authors": [{"fullname": a, "institution": (p.affiliations[k][0] if p.aligned and k < len(p.affiliations)
                                                              and p.affiliations[k] else "")}
                             for k, a in enumerate(p.authors)],
                 "decision": "Accept (poster)", "eventtype": "Poster",
                 "sourceurl": f"https://openreview.net/group?id={pk.venue}/{pk.year}/Conference"}
        events.append(event)
        if i % 10 == 0:
            events.append({**event, "id": 50000 + i, "eventtype": "Oral", "decision": "Accept (oral)"})
        ids = []
        for k, a in enumerate(p.authors):
            pid = f"~P{i}_{k}"
            ids.append(pid)
            inst = p.affiliations[k][0] if p.aligned and k < len(p.affiliations) and p.affiliations[k] else None
            history = [{"position": "Researcher", "start": pk.year - 1, "end": None,
                        "institution": {"name": inst, "domain": p.email_domains[k] if k < len(p.email_domains) else None}}] if inst else []
            profiles[pid] = {"id": pid, "content": {"names": [{"fullname": a, "username": pid}], "history": history}}
        notes.append(("v", {"id": f"n{i}", "content": {"title": {"value": respell(p.title, i)},
                                                      "authors": {"value": list(p.authors)},
                                                      "authorids": {"value": ids}}}))
    site = virtual_site.parse_feed({"count": len(events), "results": events}, pk, "feed")
    review = openreview.parse_notes(notes, profiles, pk, "api")
    proc = ParseResult(source="proceedings")
    for i, p in enumerate(papers):
        if i % 33 == 5:
            continue
        names = [", ".join([a.split()[-1], " ".join(a.split()[:-1])]) if len(a.split()) > 1 else a for a in p.authors]
        from paperatlas.pipeline.sources.base import display_name
        names = [display_name(n) for n in names]
        proc.papers.append(Paper(pk.key, f"h{i}", pk.venue, pk.year, p.title, None, names, [[] for _ in names],
                                 [None] * len(names), source="proceedings"))
    extra = max(1, len(papers) // 50)
    for j in range(extra):
        proc.papers.append(Paper(pk.key, f"x{j}", pk.venue, pk.year, f"A workshop paper number {j}", None,
                                 [f"Extra Author{j}"], [[]], [None], source="proceedings"))
    return site, review, proc, extra


def truth_of(source_id: str) -> str:
    """The true paper a source id stands for (all three views were numbered alike)."""
    source, local = source_id.split(":", 1)
    if source == "virtual_site":
        return f"p{int(local) - 10000}"
    if source == "openreview":
        return f"p{local[1:]}"
    return f"p{local[1:]}" if local.startswith("h") else local


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paperlists", default=str(SHARED / "paperlists"))
    parser.add_argument("files", nargs="*")
    args = parser.parse_args(argv)
    folder = Path(args.paperlists)
    files = [folder / f for f in args.files] if args.files else sorted(folder.glob("*.json"))
    if not files:
        print(f"no paperlists files in {folder}")
        return 1
    print(f"{'venue-year':<16}{'papers':>8}{'expected':>10}{'merged':>8}{'wrong':>7}{'split':>7}{'seconds':>9}  merges by rule")
    totals = [0, 0, 0, 0]
    tracemalloc.start()
    for path in files:
        name = path.stem
        venue, year = name.rstrip("0123456789"), int(name[-4:])
        pk = PartitionKey("neurips" if venue == "nips" else venue, year)
        papers = parse_records(path.read_bytes(), pk, str(path)).papers
        site, review, proc, extra = build(papers, pk)
        started = time.perf_counter()
        merged, stats, _ = merge(pk.key, [site, review, proc])
        seconds = time.perf_counter() - started
        wrong = split = 0
        rows_of: dict[str, int] = {}
        for row in merged:
            truths = {truth_of(s) for s in row.source_ids}
            wrong += len(truths) > 1
            for t in truths:
                rows_of[t] = rows_of.get(t, 0) + 1
        split = sum(1 for n in rows_of.values() if n > 1)
        expected = len(papers) + extra
        rules = {}
        for s in stats:
            for rule, n in s.by_rule.items():
                rules[rule] = rules.get(rule, 0) + n
        print(f"{pk.key:<16}{len(papers):>8}{expected:>10}{len(merged):>8}{wrong:>7}{split:>7}{seconds:>9.2f}  {rules}")
        totals = [totals[0] + expected, totals[1] + len(merged), totals[2] + wrong, totals[3] + split]
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    print(f"{'all':<16}{'':>8}{totals[0]:>10}{totals[1]:>8}{totals[2]:>7}{totals[3]:>7}   peak traced memory {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
