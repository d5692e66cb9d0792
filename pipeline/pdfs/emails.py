"""E-mail addresses as papers print them, and which author each belongs to.

Printed forms handled: plain `alice@cs.x.edu`; grouped `{alice, bob}@x.edu`,
`(alice|bob)@x.edu`, `alice,bob@x.edu` (JMLR's upper-case lists: `JDF38,SH360@DUKE.EDU`);
spaces inside a grouped list; `Name <alice@x.edu>`.
"""

from __future__ import annotations

import re
import unicodedata

_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\s?\.\s?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}"
_LOCAL = r"[A-Za-z0-9][A-Za-z0-9._%+'\-]*"
GROUPED = re.compile(r"[{(\[]\s*(?P<locals>[^{}()\[\]@]+?)\s*[})\]]\s*@\s*(?P<domain>" + _DOMAIN + ")")
LISTED = re.compile(r"(?<![\w.@-])(?P<locals>" + _LOCAL + r"(?:," + _LOCAL + r")+)@(?P<domain>" + _DOMAIN + ")")
PLAIN = re.compile(r"(?<![\w.%+'-])(?P<local>" + _LOCAL + r")\s?@\s?(?P<domain>" + _DOMAIN + ")")
LOCAL_SPLIT = re.compile(r"\s*[,|;/]\s*|\s+")


def _domain(raw: str) -> str:
    return re.sub(r"\s+", "", raw).strip(".").lower()


def find_emails(text: str) -> list[str]:
    """Every address in `text`, grouped forms expanded, in printed order."""
    if "@" not in text:
        return []
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern in (GROUPED, LISTED):
        for m in pattern.finditer(text):
            domain = _domain(m["domain"])
            locals_ = [p.strip(" .'\"") for p in LOCAL_SPLIT.split(m["locals"]) if p.strip(" .'\"")]
            if not locals_ or not all(re.fullmatch(_LOCAL, p) for p in locals_):
                continue
            taken.append(m.span())
            for n, local in enumerate(locals_):
                found.append((m.start() + n, f"{local}@{domain}".lower()))
    for m in PLAIN.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        found.append((m.start(), f"{m['local'].strip('.')}@{_domain(m['domain'])}".lower()))
    seen: set[str] = set()
    out = []
    for _, email in sorted(found):
        if email not in seen:
            seen.add(email)
            out.append(email)
    return out


def ascii_tokens(name: str) -> list[str]:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return [t for t in re.split(r"[^a-z]+", text) if t]


GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def name_email_score(name: str, email: str) -> float:
    """How well an address's local part fits a name: 1.0 for `first.last`, `flast`, `firstl`
    and similar; 0.5-0.9 for a first or last name alone or partial forms; 0 for no fit.
    Umlauts are tried both ways (Müller: muller, mueller)."""
    plain = _score(name, email)
    if plain < 1.0 and name != name.translate(GERMAN):
        return max(plain, _score(name.translate(GERMAN), email))
    return plain


def _score(name: str, email: str) -> float:
    local = re.sub(r"[^a-z]", "", email.split("@", 1)[0].lower())
    tokens = ascii_tokens(name)
    if not local or not tokens:
        return 0.0
    first, last = tokens[0], tokens[-1]
    initials = "".join(t[0] for t in tokens)
    full = "".join(tokens)
    exact = {full, first + last, last + first, first[0] + last, last + first[0], first + last[0],
             initials, "".join(t[0] for t in tokens[:-1]) + last, first + "".join(t[0] for t in tokens[1:])}
    if local in exact:
        return 1.0
    if len(tokens) > 1 and local in {last, "".join(tokens[1:])} and len(last) > 2:
        return 0.85
    if local == first and len(first) > 2:
        return 0.8
    if len(last) > 3 and last in local:
        return 0.7
    if len(first) > 3 and first in local:
        return 0.6
    if len(local) >= 4 and (full.startswith(local) or local in full):
        return 0.5
    return 0.0


def assign_emails(names: list[str], emails: list[str], fixed: dict[int, str] | None = None) -> dict[int, str]:
    """Author index -> address. `fixed` holds pairs the layout already decided (an address
    printed in an author's own block); the rest go to the best-fitting names, greedily."""
    result = dict(fixed or {})
    used = set(result.values())
    pairs = []
    for e in emails:
        if e in used:
            continue
        for i, name in enumerate(names):
            if i in result:
                continue
            score = name_email_score(name, e)
            if score >= 0.5:
                pairs.append((score, -i, i, e))
    for score, _, i, e in sorted(pairs, reverse=True):
        if i in result or e in used:
            continue
        result[i] = e
        used.add(e)
    return result
