"""One row per paper when several sources see the same venue-year.

Sources come in priority order. A paper of a lower-priority source is the same paper as one
already kept when their normalised titles and first authors' family names agree
("title+first author"), or, failing that, when the titles agree, only one kept paper has that
title and at least half of the shorter author list matches by name ("title+authors"). A
paper no earlier source has is added.

The merged paper takes its id, title, authors and track from the first source that has it,
and the abstract and PDF link from the first source that gives them. For every author it keeps
each source's view (`author_sources`: name, affiliation strings, e-mail domain, the source's
own institutions and countries), matched to the merged author list by name. The first view
with affiliation strings is the one that counts (pipeline/affiliations/rows.py); the others stay
beside it, visible in `author_affiliations` as `other-source`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..affiliations.reconcile import match_authors
from ..models import IngestError, Paper, author_block
from .base import STAGE, ParseResult, surname_key, title_key


@dataclass
class MergeStats:
    source: str
    papers: int
    matched: int = 0  # merged into a paper an earlier source has
    added: int = 0  # new rows (all of the first source's papers)
    by_rule: dict[str, int] = field(default_factory=dict)


def blocks_of(paper: Paper) -> list[list[dict]]:
    """The paper's per-author views; built from its flat columns when the source gave none."""
    if paper.author_sources and len(paper.author_sources) == len(paper.authors):
        return [list(blocks) for blocks in paper.author_sources]
    out = []
    for i, name in enumerate(paper.authors):
        affs = paper.affiliations[i] if paper.aligned and i < len(paper.affiliations) else []
        domain = paper.email_domains[i] if i < len(paper.email_domains) else None
        out.append([author_block(paper.source, paper.source_ref, name, affs, domain)])
    return out


def _key(paper: Paper) -> tuple[str, str]:
    return title_key(paper.title), surname_key(paper.authors[0] if paper.authors else "")


def _overlap(a: list[str], b: list[str]) -> float:
    if not a or not b:
        return 0.0
    return len(match_authors(a, b)) / min(len(a), len(b))


def merge(partition_key: str, results: list[ParseResult]) -> tuple[list[Paper], list[MergeStats], list[IngestError]]:
    """Merge the sources' papers (`results` highest priority first)."""
    merged: list[Paper] = []
    by_key: dict[tuple[str, str], int] = {}
    by_title: dict[str, list[int]] = {}
    stats: list[MergeStats] = []
    errors: list[IngestError] = []
    used_ids: dict[str, str] = {}  # stored id -> "<source>:<its id>" of the paper stored under it
    for result in results:
        stat = MergeStats(result.source, len(result.papers))
        stats.append(stat)
        for paper in result.papers:
            key = _key(paper)
            index, rule = by_key.get(key), "title+first author"
            if index is not None and result.source in merged[index].sources:
                index = None  # two papers of one source are never merged into one
            if index is None:
                candidates = [i for i in by_title.get(key[0], []) if result.source not in merged[i].sources]
                if len(candidates) == 1 and _overlap(merged[candidates[0]].authors, paper.authors) >= 0.5:
                    index, rule = candidates[0], "title+authors"
            if index is None:
                merged.append(_start(paper, used_ids, errors))
                index = len(merged) - 1
                by_key.setdefault(key, index)
                by_title.setdefault(key[0], []).append(index)
                stat.added += 1
                continue
            _fold(merged[index], paper, errors)
            stat.matched += 1
            stat.by_rule[rule] = stat.by_rule.get(rule, 0) + 1
    return merged, stats, errors


def _start(paper: Paper, used_ids: dict[str, str], errors: list[IngestError]) -> Paper:
    """`paper` as a new merged paper. An id another paper has is stored as `<id>~<source>`, or,
    when that is taken too, `<id>~<source>~2`, `~3`, ...: never merged into the other."""
    paper_id = paper.paper_id
    if paper_id in used_ids:
        renamed = paper_id = f"{paper.paper_id}~{paper.source}"
        passed = []
        while paper_id in used_ids:
            passed.append(paper_id)
            paper_id = f"{renamed}~{len(passed) + 1}"
        errors.append(IngestError(paper.partition_key, STAGE, f"paper {paper.paper_id}",
                                  f"id already used by another source's paper ({used_ids[paper.paper_id]})"
                                  + "".join(f", and {name!r} by {used_ids[name]}" for name in passed)
                                  + f"; stored as {paper_id}", "warning"))
    used_ids[paper_id] = f"{paper.source}:{paper.paper_id}"
    return replace(paper, paper_id=paper_id, author_sources=blocks_of(paper), sources=[paper.source],
                   source_ids=[f"{paper.source}:{paper.paper_id}"])


def _fold(target: Paper, paper: Paper, errors: list[IngestError]) -> None:
    """Add `paper` (a lower-priority source's view) to `target`."""
    target.sources.append(paper.source)
    target.source_ids.append(f"{paper.source}:{paper.paper_id}")
    target.abstract = target.abstract or paper.abstract
    target.pdf_url = target.pdf_url or paper.pdf_url
    target.track = target.track or paper.track
    theirs = blocks_of(paper)
    if not target.authors and paper.authors:
        target.authors = list(paper.authors)
        target.author_sources = theirs
        target.email_domains = list(paper.email_domains)
        target.affiliations = [[] for _ in paper.authors]
    else:
        matches = match_authors(target.authors, paper.authors)
        for i, (j, _, _) in matches.items():
            target.author_sources[i].extend(theirs[j])
        missing = len(paper.authors) - len(matches)
        if missing:
            errors.append(IngestError(
                target.partition_key, STAGE, f"paper {target.paper_id}",
                f"{missing} of {len(paper.authors)} authors from {paper.source} match no author of "
                f"{target.sources[0]} by name; their affiliations are not used", "warning"))
    if not target.aligned and paper.aligned:
        # The first source could not tie its affiliations to authors; one that can takes over.
        if any(b["affiliations"] for blocks in target.author_sources for b in blocks):
            target.aligned, target.unaligned_affiliations = True, []
    _flatten(target)


def _flatten(paper: Paper) -> None:
    """`affiliations` and `email_domains` from the views that count (the first with affiliations)."""
    affiliations, domains = [], []
    for i, blocks in enumerate(paper.author_sources):
        chosen = next((b for b in blocks if b["affiliations"]), None)
        affiliations.append(list(chosen["affiliations"]) if chosen else [])
        domain = (chosen or {}).get("email_domain") or next((b["email_domain"] for b in blocks if b["email_domain"]), None)
        domains.append(domain)
    if paper.aligned:
        paper.affiliations = affiliations
    paper.email_domains = domains
