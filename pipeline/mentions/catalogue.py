"""The term catalogue: which models, architectures and libraries are counted, how they are
spelled, which look-alikes are refused, and where each one comes from.

The catalogue is a YAML file (`pipeline/data/terms.yaml`, or the file `PAPERATLAS_TERMS`
names); its format is described at the top of that file. `load_catalogue` validates it and
compiles one matcher per term; every problem is reported with the file, the term and the field.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from ..models import load_yaml, yaml_problem

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "terms.yaml"
KINDS = ("architecture", "model family", "library")
CASES = ("sensitive", "insensitive")
VERSIONS = ("none", "allowed", "required")
ID_RE = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$")

# What may follow a name as its version or size: "Llama 2", "Llama-3.1-8B", "Qwen2.5-7B-Instruct",
# "GPT-4o", "ResNet50", "Mixtral-8x7B", "DeepSeek-R1", "ViT-B/16" (up to the "/").
_NUMBER = r"[ \t-]?v?\d+(?:\.\d+)*[a-zA-Z]?(?![a-zA-Z\d])"
_PART = r"-(?:\d+(?:\.\d+)?(?:x\d+)?[BbMmKkTt](?![a-zA-Z\d])|\d+(?:\.\d+)*(?![a-zA-Z\d])|[A-Za-z][A-Za-z0-9]*)"
VERSION_OPTIONAL = rf"(?:{_NUMBER})?(?:{_PART})*"
VERSION_REQUIRED = rf"{_NUMBER}(?:{_PART})*"
LEFT = r"(?<![\w])"
# A mention ends where a letter cannot follow: digits may (footnote marks glued on by the text
# layer, "PyTorch2"), letters may not ("GPTQ" is not GPT).
RIGHT = r"(?![^\W\d_])"
_SEPARATOR = r"[\s\-\u2010\u2011]{0,2}"


class CatalogueError(ValueError):
    """A term catalogue that cannot be used, with the file, term and field at fault."""


@dataclass(frozen=True)
class Start:
    """Where an alias's matches can start: its name alone (no version, no right edge), which
    matches at most `reach` characters. Searching for it over a few characters before each
    anchor, then trying the whole alias only where it matched, halved the term scan's time on
    the real PDFs against searching the whole alias around every anchor (pipeline.mentions.scan)."""

    core: re.Pattern
    reach: int


@dataclass(frozen=True)
class Reject:
    before: re.Pattern | None
    after: re.Pattern | None
    near: re.Pattern | None
    window: int
    why: str
    unless: re.Pattern | None = None
    itself: re.Pattern | None = None

    def refuses(self, text: str, start: int, end: int) -> bool:
        if self.unless is not None and self.unless.search(text[start:end]):
            return False
        if self.itself is not None and self.itself.search(text[start:end]):
            return True
        if self.before is not None and self.before.search(text[max(0, start - 40):start]):
            return True
        if self.after is not None and self.after.search(text[end:end + 40]):
            return True
        if self.near is not None and self.near.search(_sentence(text, start, end, self.window)):
            return True
        return False


_SENTENCE_END = re.compile(r"[.!?][\s)\]]+(?=[A-Z(\[])")


def _sentence(text: str, start: int, end: int, window: int) -> str:
    """Up to `window` characters either side of a match, not past the sentence it is in."""
    left = text[max(0, start - window):start]
    ends = list(_SENTENCE_END.finditer(left))
    if ends:
        left = left[ends[-1].end():]
    right = text[end:end + window]
    stop = _SENTENCE_END.search(right)
    if stop:
        right = right[:stop.start() + 1]
    return left + text[start:end] + right


@dataclass
class Term:
    id: str
    name: str
    family: str
    kind: str
    organisation: str
    country: str
    lab: str | None
    lab_country: str | None
    reference: str | None
    regexes: list[re.Pattern]
    anchors: tuple[str, ...]
    rejects: list[Reject] = field(default_factory=list)
    shadows: tuple[str, ...] = ()
    starts: tuple[Start | None, ...] = ()  # one per regex: None for a pattern

    @property
    def reach(self) -> int:
        """No anchor lies farther than this from the start of an alias's match: the longest an
        alias's name can be written."""
        return max((s.reach for s in self.starts if s is not None), default=0)

    @property
    def built_in(self) -> str:
        """Where the team that built it sat: the lab's country, else the organisation's."""
        return self.lab_country or self.country

    def row(self) -> dict:
        return {
            "term": self.id, "name": self.name, "family": self.family, "kind": self.kind,
            "organisation": self.organisation, "origin_country": self.country, "lab": self.lab,
            "lab_country": self.built_in, "reference": self.reference,
            "patterns": [r.pattern for r in self.regexes],
        }


@dataclass
class Catalogue:
    terms: list[Term]
    path: str
    sha256: str
    text: str = field(default="", repr=False)  # the YAML it was read from

    def __post_init__(self):
        self.by_id = {t.id: t for t in self.terms}

    @property
    def version(self) -> str:
        return self.sha256[:12]

    def ids(self) -> list[str]:
        return [t.id for t in self.terms]

    @cached_property
    def anchor_finder(self) -> ahocorasick.Automaton:
        """Every term's anchors in one Aho-Corasick automaton: a text is read once for all of
        them, instead of once per anchor (which cost as much as the term regexes themselves)."""
        finder = ahocorasick.Automaton()
        for anchor in sorted({a for t in self.terms for a in t.anchors}):
            finder.add_word(anchor, anchor)
        finder.make_automaton()
        return finder


def _flexible(alias: str) -> str:
    """An alias as a regex in which a space or hyphen also matches the other or nothing."""
    out = []
    for part in re.split(r"([\s\-]+)", alias):
        if not part:
            continue
        out.append(_SEPARATOR if re.fullmatch(r"[\s\-]+", part) else re.escape(part))
    return "".join(out)


def _reach(alias: str) -> int:
    """The longest text `_flexible(alias)` matches: each space or hyphen may become two."""
    return sum(2 if re.fullmatch(r"[\s\-]+", part) else len(part) for part in re.split(r"([\s\-]+)", alias) if part)


def _case(pattern: str, case: str) -> str:
    return f"(?i:{pattern})" if case == "insensitive" else pattern


def _anchor(alias: str) -> str:
    """The longest run of letters or digits in an alias, lower-cased: every match contains it."""
    runs = re.findall(r"[^\W_]+", alias.lower())
    return max(runs, key=len) if runs else alias.lower()


class _Where:
    def __init__(self, path: str, term: str | None = None):
        self.path, self.term = path, term

    def fail(self, what: str) -> CatalogueError:
        where = f"{self.path}: term {self.term!r}" if self.term else self.path
        return CatalogueError(f"{where}: {what}")


def _country(value: Any, where: _Where, name: str) -> str:
    import pycountry

    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{2}", value) or pycountry.countries.get(alpha_2=value) is None:
        raise where.fail(f"{name} {value!r} is not an ISO 3166-1 alpha-2 code")
    return value


def _regex(source: str, where: _Where, what: str, user: bool = True) -> re.Pattern:
    """`source` compiled; a user's regex (`user`) is also refused when it nests repeats."""
    try:
        pattern = re.compile(source)
    except re.error as exc:
        raise where.fail(f"{what} is not a valid regular expression ({exc})") from None
    if user:
        _refuse_nested(source, where, what)
    return pattern


def _refuse_nested(source: str, where: _Where, what: str) -> None:
    nested = nested_repeat(source)
    if nested:
        raise where.fail(f"{what} repeats {nested!r}, which holds another repeat: on some text matching takes "
                         "exponential time (catastrophic backtracking). Repeat once, e.g. `(ab)+` or `a+`, or "
                         "make the inner repeat possessive (`a++`) or atomic (`(?>a+)`)")


def _parts(value):
    """The sub-patterns inside one parsed node's argument."""
    from re import _parser

    if isinstance(value, _parser.SubPattern):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _parts(item)


def _matches_char(item, char: int) -> bool:
    """Whether the one-character node `item` (parsed) can match `char`; True when unsure."""
    from re import _constants as c

    op, av = item
    if op == c.LITERAL:
        return av == char
    if op == c.NOT_LITERAL:
        return av != char
    if op == c.IN:
        negate = any(o == c.NEGATE for o, _ in av)
        text = chr(char)
        hit = False
        for o, a in av:
            if o == c.LITERAL:
                hit |= a == char
            elif o == c.RANGE:
                hit |= a[0] <= char <= a[1]
            elif o == c.CATEGORY:
                name = str(a).lower()
                test = {"digit": text.isdigit(), "word": text.isalnum() or text == "_", "space": text.isspace()}
                kind = next((k for k in test if k in name), None)
                if kind is None:
                    return True
                hit |= test[kind] != ("not" in name)
        return hit != negate
    return True


def _can_match(sub, char: int) -> bool:
    """Whether anything repeated inside `sub` can match `char`; True when unsure."""
    from re import _constants as c

    for op, av in sub:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            body = list(av[2])
            if len(body) == 1 and body[0][0] in (c.LITERAL, c.NOT_LITERAL, c.IN):
                if _matches_char(body[0], char):
                    return True
            elif _can_match(av[2], char) or any(_matches_char(i, char) for i in body[:1]):
                return True
        elif any(_can_match(part, char) for part in _parts(av)):
            return True
    return False


def _delimited(body) -> bool:
    """Whether each pass of a repeated `body` starts with a literal character that nothing
    repeated inside it can match (`(?:-[A-Za-z]+)*`): the passes then cannot trade characters,
    and matching stays linear."""
    from re import _constants as c

    items = list(body)
    while items and items[0][0] == c.SUBPATTERN:
        items = list(items[0][1][3]) + items[1:]
    if not items or items[0][0] != c.LITERAL:
        return False
    return not _can_match(items, items[0][1])


def nested_repeat(source: str) -> str | None:
    """`source` when a repeated part of it holds another repeat that can trade characters with
    the next pass (`(a+)+`, `(\\w*\\s)*`): the shape whose matching time can grow
    exponentially (catastrophic backtracking). Possessive and atomic parts do not backtrack,
    and passes that start with a literal no inner repeat matches (`(?:-\\d+)*`) are linear;
    both are allowed. None when there is no such part."""
    from re import _constants as c
    from re import _parser

    repeats = (c.MAX_REPEAT, c.MIN_REPEAT)
    closed = (c.POSSESSIVE_REPEAT, c.ATOMIC_GROUP)

    def repeat_inside(sub) -> bool:
        for op, av in sub:
            if op in closed:
                continue
            if op in repeats and av[1] > 1:
                return True
            if any(repeat_inside(part) for part in _parts(av)):
                return True
        return False

    parsed = _parser.parse(source)

    def walk(sub) -> str | None:
        for op, av in sub:
            if op in repeats and av[1] > 1 and repeat_inside(av[2]) and not _delimited(av[2]):
                return source if len(source) <= 60 else source[:60] + "…"
            for part in _parts(av):
                found = walk(part)
                if found:
                    return found
        return None

    return walk(parsed)


TERM_KEYS = {"id", "name", "family", "kind", "origin", "reference", "case", "versions", "aliases", "patterns",
             "anchors", "reject", "shadows"}
ORIGIN_KEYS = {"organisation", "country", "lab", "lab_country"}
ALIAS_KEYS = {"text", "case", "versions"}
PATTERN_KEYS = {"regex", "case"}
REJECT_KEYS = {"match", "before", "after", "near", "window", "unless", "why"}


def _known(entry: dict, allowed: set[str], what: str, where: _Where) -> None:
    """A misspelt key ("version:" for "versions:") would be ignored silently: refuse it."""
    unknown = sorted(set(map(str, entry)) - allowed)
    if unknown:
        raise where.fail(f"{what}: unknown key(s) {', '.join(unknown)} (expected {', '.join(sorted(allowed))})")


def _choice(entry: dict, key: str, choices: tuple[str, ...], default: str, where: _Where) -> str:
    value = entry.get(key, default)
    if value not in choices:
        raise where.fail(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _compile_term(raw: Any, where: _Where) -> Term:
    if not isinstance(raw, dict):
        raise where.fail("each term must be a mapping")
    _known(raw, TERM_KEYS, "term", where)
    for key in ("id", "name", "family", "kind", "origin"):
        if not raw.get(key):
            raise where.fail(f"missing {key!r}")
    term_id = str(raw["id"])
    if not ID_RE.match(term_id):
        raise where.fail("id must be lower-case letters and digits joined by '-' or '.'")
    kind = _choice(raw, "kind", KINDS, "", where)
    case = _choice(raw, "case", CASES, "insensitive", where)
    versions = _choice(raw, "versions", VERSIONS, "none", where)
    origin = raw["origin"]
    if not isinstance(origin, dict) or not origin.get("organisation"):
        raise where.fail("origin needs an organisation and a country")
    _known(origin, ORIGIN_KEYS, "origin", where)
    country = _country(origin.get("country"), where, "origin country")
    lab_country = _country(origin["lab_country"], where, "lab_country") if origin.get("lab_country") else None

    regexes: list[str] = []
    starts: list[Start | None] = []
    anchors: set[str] = set()
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list):
        raise where.fail("aliases must be a list")
    for n, alias in enumerate(aliases, start=1):
        spec = {"text": alias} if isinstance(alias, str) else alias
        if not isinstance(spec, dict) or not isinstance(spec.get("text"), str) or not spec["text"].strip():
            raise where.fail(f"alias {n} must be a string or a mapping with a 'text'")
        _known(spec, ALIAS_KEYS, f"alias {n}", where)
        a_case = _choice(spec, "case", CASES, case, where)
        a_versions = _choice(spec, "versions", VERSIONS, versions, where)
        suffix = {"none": "", "allowed": VERSION_OPTIONAL, "required": VERSION_REQUIRED}[a_versions]
        core = LEFT + _case(_flexible(spec["text"].strip()), a_case)
        regexes.append(core + suffix + RIGHT)
        starts.append(Start(_regex(core, where, f"alias {n}", user=False), _reach(spec["text"].strip())))
        anchors.add(_anchor(spec["text"]))
    patterns = raw.get("patterns") or []
    for n, pattern in enumerate(patterns, start=1):
        spec = {"regex": pattern} if isinstance(pattern, str) else pattern
        if not isinstance(spec, dict) or not isinstance(spec.get("regex"), str):
            raise where.fail(f"pattern {n} must be a string or a mapping with a 'regex'")
        _known(spec, PATTERN_KEYS, f"pattern {n}", where)
        p_case = _choice(spec, "case", CASES, case, where)
        _regex(spec["regex"], where, f"pattern {n}")
        regexes.append(LEFT + _case(spec["regex"], p_case) + RIGHT)
        starts.append(None)
    if patterns:
        given = raw.get("anchors")
        if not given or not isinstance(given, list):
            raise where.fail("a term with patterns needs 'anchors': lower-case strings every match contains")
        anchors.update(str(a).lower() for a in given)
    if not regexes:
        raise where.fail("needs at least one alias or pattern")
    compiled = [_regex(r, where, f"alias or pattern {n}", user=False) for n, r in enumerate(regexes, start=1)]

    rejects = []
    for n, rule in enumerate(raw.get("reject") or [], start=1):
        if not isinstance(rule, dict) or not ({"before", "after", "near", "match"} & set(rule)):
            raise where.fail(f"reject rule {n} needs 'match', 'before', 'after' or 'near'")
        _known(rule, REJECT_KEYS, f"reject rule {n}", where)
        window = rule.get("window", 60)
        if not isinstance(window, int) or isinstance(window, bool) or not 0 < window <= 1000:
            raise where.fail(f"reject rule {n}: window must be a number of characters from 1 to 1000, not {window!r}")
        rejects.append(Reject(
            before=_regex(rule["before"], where, f"reject rule {n} 'before'") if rule.get("before") else None,
            after=_regex(rule["after"], where, f"reject rule {n} 'after'") if rule.get("after") else None,
            near=_regex(rule["near"], where, f"reject rule {n} 'near'") if rule.get("near") else None,
            window=window,
            why=str(rule.get("why", "")),
            unless=_regex(rule["unless"], where, f"reject rule {n} 'unless'") if rule.get("unless") else None,
            itself=_regex(rule["match"], where, f"reject rule {n} 'match'") if rule.get("match") else None,
        ))
    shadows = raw.get("shadows") or []
    if not isinstance(shadows, list):
        raise where.fail("shadows must be a list of term ids")
    return Term(
        id=term_id, name=str(raw["name"]), family=str(raw["family"]), kind=kind,
        organisation=str(origin["organisation"]), country=country,
        lab=str(origin["lab"]) if origin.get("lab") else None, lab_country=lab_country,
        reference=str(raw["reference"]) if raw.get("reference") else None,
        regexes=compiled, anchors=_shortest(anchors), rejects=rejects, shadows=tuple(map(str, shadows)),
        starts=tuple(starts),
    )


def parse_catalogue(text: str, path: str = "<catalogue>", sha256: str | None = None) -> Catalogue:
    where = _Where(path)
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise where.fail(yaml_problem(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("terms"), list) or not data["terms"]:
        raise where.fail("expected a mapping with a non-empty 'terms' list")
    _known(data, {"version", "terms"}, "top level", where)
    terms: list[Term] = []
    seen: set[str] = set()
    for n, raw in enumerate(data["terms"], start=1):
        term_where = _Where(path, raw.get("id") if isinstance(raw, dict) and raw.get("id") else f"#{n}")
        term = _compile_term(raw, term_where)
        if term.id in seen:
            raise term_where.fail("id used twice")
        seen.add(term.id)
        terms.append(term)
    for term in terms:
        unknown = [s for s in term.shadows if s not in seen]
        if unknown:
            raise _Where(path, term.id).fail(f"shadows unknown term(s) {', '.join(unknown)}")
    return Catalogue(terms, path, sha256 or hashlib.sha256(text.encode()).hexdigest(), text)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    path = Path(path) if path else DEFAULT_CATALOGUE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read the term catalogue ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_catalogue(text, str(path), hashlib.sha256(raw).hexdigest())


def _shortest(anchors: set[str]) -> tuple[str, ...]:
    """The anchors no other anchor of the term lies inside ("bert" makes "roberta" and "berts"
    redundant): every place the longer one occurs, the shorter does too, and its window
    (scan._windows) covers the same match. Fewer windows to search."""
    return tuple(sorted(a for a in anchors if not any(b != a and b in a for b in anchors)))
