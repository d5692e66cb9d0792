"""What changed between two materialisations of a venue-year's headlines: each headline
materialisation stores a snapshot of every paper's countries and mentions (`headline_snapshots`)
and of the evidence they were counted from (`headline_snapshot_evidence`), and `diff` says which papers entered or left each number, and why."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import pandas as pd
import pyarrow as pa

from ..affiliations.rows import as_list
from ..conventions import DEFAULT_PLACEMENT
from ..countries.decision import from_columns
from ..models import clean
from ..store import columns_of
from .headlines import NUMBERS, Evidence, PaperView, author_order, members, provenance

KEEP_SNAPSHOTS = 20  # per venue-year


def snapshot_rows(partition_key: str, snapshot: int, views: Mapping[str, PaperView]) -> list[dict]:
    """The snapshot's papers (`headline_snapshots`); their evidence goes to its own table
    (`snapshot_evidence`)."""
    rows = []
    for pid, view in sorted(views.items()):
        rows.append({
            "partition_key": partition_key, "snapshot": snapshot, "paper_id": pid, "title": view.title,
            "url": view.url, "has_affiliation": view.has_affiliation, "countries": sorted(view.countries),
            "mentions": sorted(view.mentions), "evidence": None,
        })
    return rows


def snapshot_evidence(partition_key: str, snapshot: int, decisions: pa.Table) -> pa.Table:
    """The snapshot's evidence (`headline_snapshot_evidence`): the `country_decisions` rows its
    views were built from, as read (Arrow, column by column: no Python object per value)."""
    n = decisions.num_rows
    table = decisions.set_column(decisions.column_names.index("partition_key"), "partition_key",
                                 pa.array([partition_key] * n, pa.string()))
    table = table.append_column("snapshot", pa.array([snapshot] * n, pa.int64()))
    return table.select([name for name, _ in columns_of("headline_snapshot_evidence")])


def views_from_snapshot(rows: pd.DataFrame, evidence: pa.Table | None = None) -> dict[str, PaperView]:
    """The views of a stored snapshot: its papers, with their evidence from `evidence` (its
    `headline_snapshot_evidence` rows) or, for a snapshot taken before that table, from the JSON
    in its rows."""
    by_paper: dict[str, list[Evidence]] = defaultdict(list)
    if evidence is not None:
        for d in from_columns(evidence):
            by_paper[d.paper_id].append(d)
    views = {}
    known = {f.name for f in fields(Evidence)}
    for row in rows.to_dict("records"):
        stored = row.get("evidence")
        if isinstance(stored, str):
            found = tuple(Evidence(**{k: tuple(v) if isinstance(v, list) else v for k, v in e.items() if k in known})
                          for e in json.loads(stored or "[]"))
        else:
            found = tuple(sorted(by_paper.get(row["paper_id"], ()), key=author_order))  # as build_views
        views[row["paper_id"]] = PaperView(
            paper_id=row["paper_id"], title=clean(row.get("title")), url=clean(row.get("url")),
            has_affiliation=bool(row["has_affiliation"]), countries=frozenset(as_list(row.get("countries"))),
            mentions=frozenset(as_list(row.get("mentions"))), evidence=found,
        )
    return views


def _describe(e: Evidence) -> str:
    who = f"author {e.author_position}" if e.author_position is not None else "unassigned"
    text = e.affiliation if e.affiliation else f"@{e.email_domain}"
    return f'{who} "{text}" ({provenance(e.source)})'


def _decision(e: Evidence, placement: str = DEFAULT_PLACEMENT) -> str:
    country = "/".join(e.countries_for(placement)) or "none"
    return f"{country} by {e.rule_for(placement)[0]}" + (f" ({e.institution})" if e.institution else "")


def explain(old: PaperView | None, new: PaperView | None, placement: str = DEFAULT_PLACEMENT) -> list[str]:
    """What changed in one paper between two snapshots, one line per change."""
    if old is None:
        return ["paper added to the venue-year"]
    if new is None:
        return ["paper no longer in the venue-year"]
    lines = []
    before = {e.key: e for e in old.evidence}
    after = {e.key: e for e in new.evidence}
    for key in sorted(set(before) | set(after), key=lambda k: tuple("" if v is None else str(v) for v in k)):
        b, a = before.get(key), after.get(key)
        if b is None:
            lines.append(f"{_describe(a)} added: {_decision(a, placement)}")
        elif a is None:
            lines.append(f"{_describe(b)} removed (was {_decision(b, placement)})")
        elif (b.countries_for(placement), b.rule_for(placement)[0], b.institution) != \
                (a.countries_for(placement), a.rule_for(placement)[0], a.institution):
            lines.append(f"{_describe(a)}: {_decision(b, placement)} -> {_decision(a, placement)}")
    for m in sorted(new.mentions - old.mentions):
        lines.append(f"now names {m.replace(':', ' in ')}")
    for m in sorted(old.mentions - new.mentions):
        lines.append(f"no longer names {m.replace(':', ' in ')}")
    was, now = old.countries_for(placement), new.countries_for(placement)
    if not lines and was != now:
        lines.append(f"countries {','.join(sorted(was)) or 'none'} -> {','.join(sorted(now)) or 'none'}")
    return lines or ["no change in its evidence (a change of definition)"]


def diff(old: Mapping[str, PaperView], new: Mapping[str, PaperView], scope: str = "cn",
         placement: str = DEFAULT_PLACEMENT) -> dict[str, Any]:
    """Per number: the counts before and after, and each paper that entered or left, with why."""
    before, after = members(old, scope, placement=placement), members(new, scope, placement=placement)
    numbers = []
    for number in NUMBERS:
        entered = sorted(after[number.id] - before[number.id])
        left = sorted(before[number.id] - after[number.id])
        numbers.append({
            "number": number.id, "label": number.label, "before": len(before[number.id]),
            "after": len(after[number.id]),
            "changes": [
                {"change": change, "paper_id": pid,
                 "title": (new.get(pid) or old.get(pid)).title,
                 "why": explain(old.get(pid), new.get(pid), placement)}
                for change, papers in (("entered", entered), ("left", left)) for pid in papers
            ],
        })
    return {"china_scope": scope, "placement": placement, "numbers": numbers,
            "changed_numbers": sum(1 for n in numbers if n["before"] != n["after"] or n["changes"])}


def diff_rows(result: Mapping[str, Any]) -> list[dict]:
    """The diff flattened: one row per paper that entered or left a number."""
    return [
        {"number": n["number"], "before": n["before"], "after": n["after"], "change": c["change"],
         "paper_id": c["paper_id"], "title": c["title"], "why": "; ".join(c["why"])}
        for n in result["numbers"] for c in n["changes"]
    ]


def format_diff(result: Mapping[str, Any], old_label: str, new_label: str, limit: int = 20) -> str:
    lines = [f"{old_label} -> {new_label} (China scope: {result['china_scope']}, "
             f"placement: {result.get('placement', DEFAULT_PLACEMENT)})"]
    for n in result["numbers"]:
        if n["before"] == n["after"] and not n["changes"]:
            continue
        lines.append(f"  {n['number']}: {n['before']} -> {n['after']}  ({n['label']})")
        for c in n["changes"][:limit]:
            sign = "+" if c["change"] == "entered" else "-"
            lines.append(f"    {sign} {c['paper_id']}  {(c['title'] or '')[:70]}")
            for why in c["why"]:
                lines.append(f"        {why}")
        if len(n["changes"]) > limit:
            lines.append(f"    ... {len(n['changes']) - limit} more (use --json for all)")
    if len(lines) == 1:
        lines.append("  no headline number changed")
    return "\n".join(lines)
