"""Ours against the published figure: the difference in words, whether the two agree, and
why they may differ (the published study's conventions where known, the years not
materialised, publication lag, what ours stands on).

No Dagster here.
"""

from __future__ import annotations

from typing import Any

from .model import Claim, Study
from .scope import year_span

ABOUT = 0.15  # "about X" agrees with ours within 15% of X


def fmt(value: Any, measure: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, (tuple, list)):
        return ", ".join(value) or "none"
    if measure == "share":
        return f"{value:.1%}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def ours_text(result, measure: str) -> str:
    """Ours with its interval and unplaced bound: `18 (16–18, +3 unplaced)`, `3.2% (2.8–3.2%)`."""
    text = fmt(result.ours, measure)
    if result.ours is None or result.low is None or result.high is None:
        return text
    extra = ""
    if result.unplaced:
        extra = f", +{fmt(result.unplaced, measure)} unplaced"
    of = ""
    if measure == "count" and result.denominator and result.claim.of:  # as the published "141 of 5,290"
        of = f" of {result.denominator:,} ({result.ours / result.denominator:.1%})"
    if result.low == result.high == result.ours and not extra:
        return text + of
    return f"{text} ({fmt(result.low, measure)}–{fmt(result.high, measure)}{extra}){of}"


def published_text(claim: Claim) -> str:
    if claim.published is None:
        return claim.direction or "no figure"
    word = {"about": "about ", "at_least": "at least ", "at_most": "at most ", "exact": ""}[claim.bound]
    text = word + fmt(claim.published, claim.measure)
    if claim.measure == "count" and claim.of:
        text += f" of {claim.of:,} ({claim.published / claim.of:.1%})"
    if claim.direction:
        text += f", {claim.direction}"
    return text


def compare(result, claim: Claim) -> None:
    """Fill `difference` and `agrees`."""
    ours, pub = result.ours, claim.published
    trend = result.direction not in (None, "too few years")
    if ours is None or pub is None:
        if claim.direction and trend:
            result.agrees = result.direction == claim.direction
            result.difference = f"ours is {result.direction}, theirs {claim.direction}"
        elif claim.direction and result.direction:
            result.difference = f"ours has too few years for a direction (theirs: {claim.direction})"
        return
    if claim.measure == "list" and not ours:
        result.difference = "ours has none here: nothing to compare"
        return
    if claim.measure == "list":
        _compare_lists(result, tuple(ours), tuple(pub))
    else:
        _compare_numbers(result, claim, ours, pub)
    if claim.direction and trend:
        same = result.direction == claim.direction
        result.agrees = bool(result.agrees) and same
        result.difference += f"; ours is {result.direction} over {len(result.years)} years, theirs {claim.direction}"
    elif claim.direction and result.direction:
        result.difference += f"; too few years for a direction (theirs: {claim.direction})"


def _compare_numbers(result, claim: Claim, ours: float, pub: float) -> None:
    diff = ours - pub
    if claim.measure == "share":
        result.difference = f"{diff * 100:+.1f} percentage points"
    else:
        result.difference = f"{diff:+,}" + (f" ({diff / pub:+.1%})" if pub else "")
    top = (result.high if result.high is not None else ours) + (result.unplaced or 0)
    low = result.low if result.low is not None else ours
    if claim.bound == "at_least":
        result.agrees = top >= pub
    elif claim.bound == "at_most":
        result.agrees = low <= pub
    elif claim.bound == "about":
        result.agrees = low <= pub <= top or abs(diff) <= ABOUT * abs(pub)
    else:
        result.agrees = low <= pub <= top
    if claim.bound == "exact" and claim.measure == "count" and not result.agrees:
        result.notes.append(f"{claim.published:,} lies outside ours even with every uncertain row and unplaced "
                            "author counted: the difference is in the scope or the conventions, not in the evidence.")


def _compare_lists(result, ours: tuple, pub: tuple) -> None:
    if ours == pub:
        result.difference, result.agrees = "the same, in the same order", True
        return
    common = [c for c in pub if c in ours]
    if set(ours) == set(pub):
        result.difference, result.agrees = "the same countries, in another order", True
        return
    result.agrees = False
    extra, missing = [c for c in ours if c not in pub], [c for c in pub if c not in ours]
    result.difference = (f"{len(common)} of {len(pub)} in common" + (f"; ours adds {', '.join(extra)}" if extra else "")
                         + (f"; ours lacks {', '.join(missing)}" if missing else ""))


def why(result, claim: Claim, study: Study, context: dict[str, Any]) -> None:
    """Append the reasons ours and theirs may differ to `result.notes`, most decisive first."""
    notes: list[str] = []
    absent = [y for y in result.missing_years if y in context.get("absent_years", ())]
    reachable = [y for y in result.missing_years if y not in absent]
    if reachable:
        first, last = min(reachable), max(reachable)
        rerun = f"`{context['rerun']} --years {first if first == last else f'{first}..{last}'}`"
        failed = [f"{k} ({context['failed'][k]})" for k in context.get("failed", {})
                  if k.rsplit("-", 1)[1].isdigit() and int(k.rsplit("-", 1)[1]) in reachable]
        notes.append(f"Not materialised here: {year_span(reachable)}" + (f"; it failed: {'; '.join(failed)}" if failed
                                                                        else "")
                     + f". With the network, {rerun} reads {'it' if len(reachable) == 1 else 'them'}.")
    if absent:
        notes.append(f"No source publishes {year_span(absent)} here (a local copy without those years, or no "
                     "network).")
    if result.outside_years:
        first, last = min(result.outside_years), max(result.outside_years)
        notes.append(f"The published figure is about {year_span(result.outside_years)}, outside the years this run "
                     f"reads; `{context['rerun']} --years {first if first == last else f'{first}..{last}'}` reads "
                     "them (with the network, where the scope names them).")
    if not context.get("materialised") and claim.kind != "tool_origin" and not result.missing_years:
        notes.append("Nothing in the study's scope is materialised here.")
    if result.their_way is not None and result.their_conventions:
        scope, placement = result.their_conventions
        notes.append(f"Read the published study's way (China scope {scope}, placement {placement}), ours is "
                     f"{fmt(result.their_way, claim.measure)}.")
    lag = sorted(set(study.lag_years) & set(result.years))
    if lag:
        notes.append(f"{', '.join(map(str, lag))}: {study.lag_why or 'publication lag'}; both counts may still grow.")
    conv = study.conventions
    if conv.get("text") == "full_text" and "abstracts only" in result.basis:
        notes.append("The published figure read the papers' full text; ours read titles and abstracts only (no PDF "
                     "was read: run without --pdfs off), so ours is low.")
    china = context["china_scope"]
    if conv.get("hong_kong_taiwan") in ("folded", "greater") and china != "greater":
        notes.append(f"The published study counts Hong Kong, Macau and Taiwan as China; ours uses China scope "
                     f"{china}.")
    elif conv.get("hong_kong_taiwan") == "unknown" and result.claim.number.startswith(("cn", "us_cn")):
        notes.append(f"The published study does not say whether Hong Kong counts as China; ours: China scope {china} "
                     "(`--china-scope cn+hk+mo` folds it in).")
    if conv.get("multinationals") in ("hq", "coauthors") and conv["multinationals"] != context["placement"]:
        notes.append(f"The published study places multinationals by {conv['multinationals']}; ours by "
                     f"{context['placement']}.")
    elif conv.get("multinationals") == "unknown" and claim.kind in ("headline", "term"):
        notes.append(f"Where a multinational's lab counts is not said; ours: placement {context['placement']} "
                     "(the interval covers both placements).")
    if conv.get("min_pair") and claim.number in ("top_partners", "pair") and not claim.min_pair:
        notes.append(f"The published study leaves out pairs with fewer than {conv['min_pair']} joint papers a year; "
                     "ours keeps every pair (set min_pair in the claim to apply it).")
    if claim.kind in ("headline", "term", "country_papers", "cross_border", "pair", "top_partners", "ranking"):
        if conv.get("dual_affiliations"):
            notes.append(f"Dual affiliations: the published study {conv['dual_affiliations']}; ours counts every "
                         "country of every affiliation an author lists.")
    if claim.note:
        notes.append(claim.note)
    result.notes = [n if n.endswith((".", "!", "?")) else n + "." for n in [*result.notes, *notes]]
