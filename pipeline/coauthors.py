"""A paper-level rule for multinationals named without a place: `institution:hq+coauthors`.

The resolver places "Microsoft Research" with no city at Microsoft's headquarters (US, rule
`institution:hq`, confidence 0.7): a string alone cannot say more. The paper can. When every
other affiliation row of the paper that was placed by anything but a headquarters lies in one
country C, those rows belong to at least two authors, and the company runs research labs in C (`labs` in data/institutions.yaml), the row
counts for C instead, at confidence 0.6 (still low: the review trail lists it). A NeurIPS paper
by Peking University and "Microsoft Research" authors is Microsoft Research Asia's.

Nothing moves when the other authors span several countries (a real cross-border paper), when
there are no other placed authors, or when the company has no lab in C (Google has none in CN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULE = "institution:hq+coauthors"
HQ_RULE = "institution:hq"
CONFIDENCE = 0.6
MIN_OTHER_AUTHORS = 2  # one co-author abroad is as likely an intern's home university
INSTITUTIONS = Path(__file__).resolve().parent / "data" / "institutions.yaml"


@lru_cache(maxsize=4)
def labs_by_institution(path: str = str(INSTITUTIONS)) -> dict[str, frozenset[str]]:
    """Institution name -> the countries of its research labs abroad (curated)."""
    with open(path, encoding="utf-8") as f:
        entries = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or []
    return {e["name"]: frozenset(e["labs"]) for e in entries if isinstance(e, dict) and e.get("labs")}


def moves(rows: Sequence[Mapping[str, Any]], labs: Mapping[str, frozenset[str]] | None = None) -> dict[int, str]:
    """For one paper's affiliation rows (each with `countries`: list of codes, `method`,
    `institution` and `unit`: the author), the rows the rule moves: row index -> the country
    it now counts for. The other authors must be at least two, all placed in one country."""
    labs = labs_by_institution() if labs is None else labs
    placed = [r for r in rows if r.get("method") != HQ_RULE and r.get("countries")]
    anchors = {c for r in placed for c in r["countries"]}
    if len(anchors) != 1 or len({r.get("unit") for r in placed}) < MIN_OTHER_AUTHORS:
        return {}
    (country,) = anchors
    return {
        i: country for i, r in enumerate(rows)
        if r.get("method") == HQ_RULE and country not in (r.get("countries") or ())
        and country in labs.get(r.get("institution") or "", ())
    }


def reason(institution: str | None, country: str) -> str:
    return (f"{institution} runs research labs in {country}, and every other author of the paper "
            f"placed by the affiliation is in {country}")
