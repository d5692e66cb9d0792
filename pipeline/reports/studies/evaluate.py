"""A study's claims computed on what is materialised: ours beside the published figure, with
the interval and the papers unplaced authors could add, what ours stands on, the difference,
and why the two may differ.

Each claim kind reads the store through `ScopeData` (scope.py):

- a headline number (`us_cn`, `cn_transformer_full_text`, …): the stored `headline_numbers`,
  summed over the venue-years of the claim's years, with their low, high and unplaced bounds;
  read the published study's way too where its conventions are known;
- `<cc>_<term>_<group>` for any term of the catalogue: counted from the papers' views and
  mentions with the same membership rule and bounds as the headline numbers;
- profile numbers (`country_papers`, `cross_border`, `pair`, `top_partners`, `ranking`,
  `countries`): the country sets of pipeline/reports/profiles.py, whole counting;
- tool numbers (`tool_origin`, `top_tools`): the term catalogue the mentions were counted with.

No Dagster here.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...conventions import CHINA_SCOPES, PLACEMENTS, fold_countries
from ...countries.numbers import Number, belongs, could_belong
from ..headlines import BY_ID, MENTION_GROUPS
from ..profiles import direction
from .model import Claim, Study
from .scope import ScopeData, country_basis, span, text_basis


@dataclass
class ClaimResult:
    claim: Claim
    scope: str  # the venue-years ours stands on
    ours: Any = None
    low: Any = None
    high: Any = None
    unplaced: Any = None
    basis: str = "nothing"
    basis_detail: str = ""
    difference: str = ""
    agrees: bool | None = None  # ours agrees with the published figure (None: nothing to compare)
    notes: list[str] = field(default_factory=list)
    per_year: list[dict] = field(default_factory=list)
    their_way: Any = None  # ours under the published study's known conventions, where they differ
    years: list[int] = field(default_factory=list)  # the years ours stands on
    missing_years: list[int] = field(default_factory=list)  # years of this run the claim names, not materialised
    outside_years: list[int] = field(default_factory=list)  # years the claim names outside this run's scope/--years
    direction: str | None = None
    venues_by_year: dict[int, list[str]] = field(default_factory=dict)  # the venues each year holds
    institutions: list[dict] = field(default_factory=list)  # who the papers in ours are from, by top-level parent
    their_conventions: tuple[str, str] | None = None  # (China scope, placement) of `their_way`
    denominator: int | None = None  # for a count: ours of how many (the number's own denominator)

    def as_json(self, study: Study) -> dict[str, Any]:
        c = self.claim
        return {
            "id": c.id, "claim": c.claim, "number": c.number, "measure": c.measure, "scope": self.scope,
            "years": self.years, "missing_years": self.missing_years, "outside_years": self.outside_years,
            "published": list(c.published) if isinstance(c.published, tuple) else c.published,
            "published_bound": c.bound, "published_of": c.of if c.measure == "count" else None,
            "published_direction": c.direction,
            "source": c.source or study.source_line() or None, "source_year": c.year, "url": c.url,
            "ours": list(self.ours) if isinstance(self.ours, tuple) else self.ours, "low": self.low,
            "high": self.high, "unplaced": self.unplaced, "direction": self.direction,
            "their_way": self.their_way, "ours_of": self.denominator, "basis": self.basis,
            "basis_detail": self.basis_detail,
            "difference": self.difference or None, "agrees": self.agrees, "note": " ".join(self.notes) or None,
            "per_year": self.per_year, "institutions": self.institutions,
        }


def _added(rows: list[dict[str, int | None]], column: str) -> int | None:
    values = [r[column] for r in rows]
    return None if not values or any(v is None for v in values) else sum(values)


# -- the claim kinds ---------------------------------------------------------------------------


def _headline(data: ScopeData, claim: Claim, keys: list[str], result: ClaimResult, study: Study) -> None:
    number = BY_ID[claim.number]
    stored = data.headline(claim.number, keys)
    of = claim.of if claim.measure == "share" and claim.of else None
    base = data.headline(of, keys) if of else None
    by_year: dict[int, list[str]] = {}
    for key in keys:
        by_year.setdefault(data.years[key], []).append(key)
    missing = [k for k in keys if k not in stored or (base is not None and k not in base)]
    if missing:
        result.notes.append(f"{span(missing)} stored no {claim.number}" + (f" or {of}" if of else "")
                            + f"; run `paperatlas run {missing[0]}` again.")
        return
    for year, ks in sorted(by_year.items()):
        rows = [stored[k] for k in ks]
        denominator = _added([base[k] for k in ks], "papers") if base else _added(rows, "denominator")
        result.per_year.append({"year": year, "papers": _added(rows, "papers"), "low": _added(rows, "low"),
                                "high": _added(rows, "high"), "unplaced": _added(rows, "unplaced"),
                                "denominator": denominator})
    _total(result, claim)
    result.basis, result.basis_detail = (_mention_basis(data, keys, number.group) if number.term
                                         else country_basis(data.standing(keys)))
    if number.countries:
        result.institutions = _institutions(data, number, keys)
    their = _their_conventions(study, data)
    result.their_conventions = their
    if their:
        rows = data.headline(claim.number, keys, *their)
        papers = _added(list(rows.values()), "papers")
        if claim.measure == "share":
            den = (_added(list(data.headline(of, keys, *their).values()), "papers") if of
                   else _added(list(rows.values()), "denominator"))
            result.their_way = papers / den if papers is not None and den else None
        else:
            result.their_way = papers


def _term(data: ScopeData, claim: Claim, keys: list[str], result: ClaimResult) -> None:
    from .model import TERM_NUMBER

    match = TERM_NUMBER.match(claim.number)
    country, term, group = match["country"].upper(), match["term"], match["group"]
    known = set(data.terms["term"]) if len(data.terms) else set()
    if term not in known:
        result.notes.append(f"the term catalogue the mentions were counted with has no term {term!r}")
        return
    number = Number(claim.number, claim.claim, (country,), term, group, denominator=country.lower())
    mark = f"{term}:{group}"
    scopes = MENTION_GROUPS[group]
    hits: dict[str, set[str]] = {}
    for year in sorted({data.years[k] for k in keys}):
        tally = Counter()
        for key in [k for k in keys if data.years[k] == year]:
            pm = data.mentions(key)
            hit = hits[key] = set(pm.loc[(pm["term"] == term) & pm["scope"].isin(scopes) & (pm["mentions"] > 0),
                                         "paper_id"]) if len(pm) else set()
            for pid, view in data.views(key).items():
                v = dataclasses.replace(view, mentions=view.mentions | {mark}) if pid in hit else view
                tally.update(_readings(number, v, data.china_scope, data.placement))
        result.per_year.append({"year": year, "papers": tally["papers"], "low": tally["low"], "high": tally["high"],
                                "unplaced": tally["unplaced"], "denominator": tally["denominator"]})
    _total(result, claim)
    result.basis, result.basis_detail = _mention_basis(data, keys, group)
    result.institutions = _institutions(data, number, keys, {k: (hits[k], mark) for k in keys})


def _mention_basis(data: ScopeData, keys: list[str], group: str) -> tuple[str, str]:
    """(label, detail) of a number about a term: what its text and its countries stand on."""
    label, detail = text_basis(data.text_read(keys), group)
    countries, country_detail = country_basis(data.standing(keys))
    return f"{label}; countries: {countries}", f"{detail}; {country_detail}"


def _institutions(data: ScopeData, number: Number, keys: list[str], marks: Mapping | None = None,
                  top: int = 8) -> list[dict]:
    """The institutions (by their top-level parent in ROR, else as resolved) of the number's
    countries on the papers in ours, each with how many of those papers it is on: who drives
    the count, for a reader to check."""
    from ..headlines import belongs as view_belongs

    papers: dict[str, set[tuple[str, str]]] = {}
    for key in keys:
        hit, mark = (marks or {}).get(key, (set(), None))
        for pid, view in data.views(key).items():
            if mark and pid in hit:
                view = dataclasses.replace(view, mentions=view.mentions | {mark})
            if not view_belongs(number, view.folded(data.china_scope, data.placement), view):
                continue
            for e in view.evidence:
                if set(fold_countries(e.countries_for(data.placement), data.china_scope)) & set(number.countries):
                    name = e.parent_name or e.institution
                    if name:
                        papers.setdefault(name, set()).add((key, pid))
    ranked = sorted(papers.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]
    return [{"institution": name, "papers": len(ids)} for name, ids in ranked]


def _readings(number: Number, view, china_scope: str, placement: str) -> Counter:
    """The paper's part in a term number: in it, in it under every / some reading, could enter
    with its unplaced authors placed, and in its denominator (papers with the country)."""
    out = Counter()
    folded = view.folded(china_scope, placement)
    out["papers"] += belongs(number, folded, view.has_affiliation, view.mentions)
    out["denominator"] += number.countries[0] in folded
    possible = view.possible(china_scope)
    inside = [belongs(number, s, view.has_affiliation, view.mentions) for s in possible]
    out["low"] += all(inside)
    out["high"] += any(inside)
    out["unplaced"] += not any(inside) and bool(view.unplaced) and any(
        could_belong(number, s, view.unplaced, view.has_affiliation, view.mentions) for s in possible)
    return out


def _total(result: ClaimResult, claim: Claim) -> None:
    """Ours over every year of the claim, from `per_year`, as a count or a share."""
    rows = [r for r in result.per_year if r["papers"] is not None]
    if not rows:
        return
    papers, den = sum(r["papers"] for r in rows), sum(r["denominator"] or 0 for r in rows)
    low, high, unplaced = (_added(rows, c) for c in ("low", "high", "unplaced"))
    for r in result.per_year:
        r["share"] = r["papers"] / r["denominator"] if r["papers"] is not None and r["denominator"] else None
    if claim.measure == "share":
        result.ours = papers / den if den else None
        result.low = low / den if den and low is not None else None
        result.high = high / den if den and high is not None else None
        result.unplaced = unplaced / den if den and unplaced is not None else None
    else:
        result.ours, result.low, result.high, result.unplaced = papers, low, high, unplaced
        result.denominator = den or None
    if claim.direction and len(rows) > 1:
        column = "share" if claim.measure == "share" else "papers"
        result.direction = direction([r[column] for r in rows], [r["year"] for r in rows])


def _profile(data: ScopeData, claim: Claim, years: Sequence[int], result: ClaimResult, groups) -> None:
    from .. import profiles

    sets = data.sets_in(years)
    result.basis, result.basis_detail = country_basis(data.standing(data.keys_in(years)))
    min_pair = claim.min_pair or 0
    if claim.number in ("country_papers", "cross_border"):
        for row in profiles.country_profile(sets, claim.country, top=0):
            value = row["papers"] if claim.number == "country_papers" else row["cross_border"]
            den = row["all_papers"] if claim.number == "country_papers" else row["papers"]
            result.per_year.append({"year": row["year"], "papers": value, "denominator": den,
                                    "low": None, "high": None, "unplaced": None})
        _total(result, claim)
    elif claim.number == "pair":
        cross = {row["year"]: row["cross_border"] for row in profiles.country_profile(sets, claim.country, top=0)}
        for row in profiles.pair_series(sets, claim.country, claim.partner):
            if row["papers"] < min_pair:  # left out that year, as ETO leaves out small pairs
                row = {**row, "papers": 0}
            result.per_year.append({"year": row["year"], "papers": row["papers"], "low": None, "high": None,
                                    "unplaced": None, "denominator": cross[row["year"]]})
        _total(result, claim)
    elif claim.number == "top_partners":
        top = profiles.partner_totals(sets, claim.country, claim.top or 5, min_pair)
        result.ours = tuple(p["country"] for p in top)
        result.per_year = [{"country": p["country"], "papers": p["papers"]} for p in top]
    elif claim.number == "ranking":
        members = None
        if claim.group:
            if claim.group not in groups:
                result.notes.append(f"no country group {claim.group!r} (known: {', '.join(sorted(groups))})")
                return
            members = groups[claim.group].members
        rows = profiles.ranking(sets, members, claim.top, cross_border=True)
        result.ours = tuple(r["country"] for r in rows)
        result.per_year = [{"country": r["country"], "papers": r["cross_border"], "all_papers": r["papers"]}
                           for r in rows]
    elif claim.number == "countries":
        result.ours = len({c for s in sets.values() for paper in s for c in paper})


def _tools(data: ScopeData, claim: Claim, keys: list[str], result: ClaimResult) -> None:
    terms = data.terms.set_index("term") if len(data.terms) else None
    if terms is None:
        result.notes.append("no term catalogue is stored; run a venue-year first")
        return
    result.basis, result.basis_detail = "term catalogue", "the origins written in the term catalogue (terms.yaml)"
    if claim.number == "tool_origin":
        if claim.term not in terms.index:
            result.notes.append(f"the term catalogue has no term {claim.term!r}")
            return
        row = terms.loc[claim.term]
        result.ours = (row["origin_country"],)
        if row["lab_country"] and row["lab_country"] != row["origin_country"]:
            result.notes.append(f"{row['name']} was built by a team in {row['lab_country']}; its organisation "
                                f"({row['organisation']}) is in {row['origin_country']}.")
        return
    papers: Counter = Counter()
    for key in keys:
        pm = data.mentions(key)
        if len(pm):
            hit = pm[pm["scope"].isin(MENTION_GROUPS["full_text"]) & (pm["mentions"] > 0)]
            papers.update(hit.drop_duplicates(["paper_id", "term"])["term"])
    tools = [t for t, _ in sorted(papers.items(), key=lambda kv: (-kv[1], kv[0]))
             if t in terms.index and terms.loc[t, "kind"] == "library"][: claim.top or 10]
    if not tools:
        result.notes.append("no paper in scope names a library of the term catalogue")
        return
    result.ours = sum(terms.loc[t, "origin_country"] == claim.country for t in tools) / len(tools)
    result.per_year = [{"tool": t, "papers": papers[t], "origin": terms.loc[t, "origin_country"]} for t in tools]
    label, detail = text_basis(data.text_read(keys), "full_text")
    result.basis, result.basis_detail = f"{label}; origins: term catalogue", detail


def _their_conventions(study: Study, data: ScopeData) -> tuple[str, str] | None:
    """(China scope, placement) the published study used, when known and not ours."""
    conv = study.conventions
    scope = conv.get("china_scope") if conv.get("china_scope") in CHINA_SCOPES else None
    if scope is None and conv.get("hong_kong_taiwan") in ("folded", "greater"):
        scope = "greater"
    placement = conv.get("multinationals") if conv.get("multinationals") in PLACEMENTS else None
    theirs = (scope or data.china_scope, placement or data.placement)
    return theirs if theirs != (data.china_scope, data.placement) else None


# -- the study ---------------------------------------------------------------------------------


@dataclass
class StudyResult:
    study: Study
    placement: str
    china_scope: str
    wanted: list[str]  # the scope's venue-years (after --years)
    materialised: list[str]
    failed: dict[str, str]
    claims: list[ClaimResult]

    def as_json(self) -> dict[str, Any]:
        s = self.study
        return {"study": s.name, "title": s.title, "source": s.source_line() or None, "placement": self.placement,
                "china_scope": self.china_scope, "scope": list(s.scope), "materialised": self.materialised,
                "not_materialised": [k for k in self.wanted if k not in self.materialised],
                "failed": self.failed, "claims": [c.as_json(s) for c in self.claims]}


def evaluate(store, study: Study, wanted: Sequence[str], materialised: Sequence[str], placement: str,
             china_scope: str, groups: Mapping[str, Any] | None = None, failed: Mapping[str, str] | None = None,
             absent: Sequence[str] = (), rerun: str | None = None) -> StudyResult:
    """Every claim of the study on the `materialised` venue-years of its scope (`wanted`, after
    --years). `absent`: venue-years no source publishes here; `rerun`: the command that runs this
    study again (the notes add --years to it)."""
    from .compare import compare, why

    data = ScopeData(store, list(materialised), placement, china_scope)
    wanted_years = sorted({int(k.rsplit("-", 1)[1]) for k in wanted})
    absent_years = {int(k.rsplit("-", 1)[1]) for k in absent} - {int(k.rsplit("-", 1)[1]) for k in materialised}
    context = {"placement": placement, "china_scope": china_scope, "failed": dict(failed or {}),
               "absent_years": absent_years, "rerun": rerun or f"paperatlas study run {study.name}",
               "materialised": len(materialised)}
    results = []
    for claim in study.claims:
        keys = data.keys_in(claim.years)
        years = sorted({data.years[k] for k in keys})
        where = "the term catalogue" if claim.kind == "tool_origin" else span(keys) or "nothing materialised"
        result = ClaimResult(claim, where, years=years)
        result.venues_by_year = {y: sorted({k.rsplit("-", 1)[0] for k in keys if data.years[k] == y}) for y in years}
        named = claim.years or (wanted_years if claim.kind != "tool_origin" else ())
        result.missing_years = [y for y in named if y in wanted_years and y not in years]
        result.outside_years = [y for y in claim.years if y not in wanted_years]
        if keys or claim.kind == "tool_origin":
            _compute(data, claim, keys, years, result, study, groups or {})
        compare(result, claim)
        why(result, claim, study, context)
        results.append(result)
    return StudyResult(study, placement, china_scope, list(wanted), list(materialised), dict(failed or {}), results)


def _compute(data: ScopeData, claim: Claim, keys: list[str], years: list[int], result: ClaimResult, study: Study,
             groups: Mapping[str, Any]) -> None:
    kind = claim.kind
    if kind == "headline":
        _headline(data, claim, keys, result, study)
    elif kind == "term":
        _term(data, claim, keys, result)
    elif kind in ("tool_origin", "top_tools"):
        _tools(data, claim, keys, result)
    else:
        _profile(data, claim, years, result, groups)
