"""OpenAlex's works filter (`/works?filter=…`) evaluated on a work, for sources that read works
without the API (the snapshot, `openalex_snapshot.py`).

The syntax the sources plan uses: `,` between conditions (AND), `key:value`, `|` between values
(OR), a leading `!` on the value (NOT), `null` for a missing or empty field.

- `publication_year:2020` (also `2018-2020`, `>2019`, `<2021`);
- `from_publication_date:YYYY-MM-DD`, `to_publication_date:YYYY-MM-DD` on `publication_date`
  (both days included);
- a dotted path into the work (`type`, `topics.subfield.id`, `primary_topic.subfield.id`,
  `primary_location.source.id`, `authorships.institutions.country_code` …), lists flattened;
  `primary_location.source.publisher_lineage` is the source's `host_organization_lineage`, and
  the API's short names (`institutions.country_code`, `author.id`, …) are their paths.

Values compare with case ignored and ids by their last URL segment (`1702` matches
`https://openalex.org/subfields/1702`). A key outside these is a FilterError naming it: a filter
the snapshot cannot evaluate must never pick works quietly.
"""

from __future__ import annotations

from collections.abc import Callable

# The API's names that are not paths into the work.
ALIASES = {
    "primary_location.source.publisher_lineage": "primary_location.source.host_organization_lineage",
    "locations.source.publisher_lineage": "locations.source.host_organization_lineage",
    "best_oa_location.source.publisher_lineage": "best_oa_location.source.host_organization_lineage",
    "institutions.id": "authorships.institutions.id",
    "institutions.ror": "authorships.institutions.ror",
    "institutions.country_code": "authorships.institutions.country_code",
    "institutions.type": "authorships.institutions.type",
    "authorships.countries": "authorships.countries",
    "author.id": "authorships.author.id",
    "author.orcid": "authorships.author.orcid",
    "openalex": "id",
}
# The work's fields a dotted path may start with (the API's shape); anything else is refused.
FIELDS = {"id", "doi", "type", "type_crossref", "language", "topics", "primary_topic", "primary_location",
          "locations", "best_oa_location", "authorships", "open_access", "concepts", "keywords", "ids",
          "sustainable_development_goals", "grants", "is_retracted", "is_paratext", "corresponding_author_ids",
          "corresponding_institution_ids", "indexed_in", "biblio", "institutions_distinct_count",
          "countries_distinct_count", "cited_by_count", "fwci", "has_fulltext", "mesh", "apc_list", "apc_paid"}
DATES = ("from_publication_date", "to_publication_date")


class FilterError(ValueError):
    """A filter the evaluator cannot read; the message names the part."""


def norm(value) -> str:
    """A value as filters compare it: the last segment of an id URL, case ignored."""
    return str(value).strip().rstrip("/").rsplit("/", 1)[-1].lower()


def leaves(value, path: list[str]) -> list:
    """Every value at `path` in `value`, lists flattened (None and missing left out)."""
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item, path)]
    if not path:
        return [] if value is None or value == "" else [value]
    if not isinstance(value, dict):
        return []
    return leaves(value.get(path[0]), path[1:])


def _year_test(value: str, where: str) -> Callable[[int], bool]:
    text = value.strip()
    try:
        if text.startswith(">"):
            low = int(text[1:])
            return lambda y: y > low
        if text.startswith("<"):
            high = int(text[1:])
            return lambda y: y < high
        low_text, _, high_text = text.partition("-")
        low, high = int(low_text), int(high_text or low_text)
    except ValueError:
        raise FilterError(f"{where}: {value!r} is not a year, a range (2018-2020) or >Y/<Y") from None
    return lambda y: low <= y <= high


def _clause(key: str, value: str, where: str) -> Callable[[dict], bool]:
    negate = value.startswith("!")
    value = value[1:] if negate else value
    if not value:
        raise FilterError(f"{where}: no value")
    if key in DATES:
        day = value.strip()
        if len(day) != 10 or day[4] != "-" or day[7] != "-":
            raise FilterError(f"{where}: {value!r} is not a date YYYY-MM-DD")
        if key == "from_publication_date":
            test = lambda w: bool(w.get("publication_date")) and str(w["publication_date"]) >= day  # noqa: E731
        else:
            test = lambda w: bool(w.get("publication_date")) and str(w["publication_date"]) <= day  # noqa: E731
    elif key == "publication_year":
        tests = [_year_test(v, where) for v in value.split("|")]
        test = lambda w: isinstance(w.get("publication_year"), int) and any(  # noqa: E731
            t(w["publication_year"]) for t in tests)
    else:
        path = ALIASES.get(key, key).split(".")
        if path[0] not in FIELDS:
            raise FilterError(f"{where}: the filter key {key!r} cannot be evaluated on snapshot works "
                              f"(known: publication_year, {', '.join(DATES)}, and paths into {', '.join(sorted(FIELDS))})")
        options = {norm(v) for v in value.split("|") if v.strip()}
        want_null = "null" in options
        options.discard("null")

        def test(work: dict, path=path, options=options, want_null=want_null) -> bool:
            found = {norm(leaf) for leaf in leaves(work, path)}
            return (want_null and not found) or bool(found & options)
    return (lambda w: not test(w)) if negate else test


def compile_filter(text: str) -> Callable[[dict], bool]:
    """A function telling whether a work (the API's JSON shape) passes the works filter `text`."""
    clauses = []
    for part in (p.strip() for p in str(text or "").split(",")):
        if not part:
            continue
        key, sep, value = part.partition(":")
        if not sep or not key.strip():
            raise FilterError(f"filter part {part!r} is not key:value")
        clauses.append(_clause(key.strip().lower(), value.strip(), f"filter part {part!r}"))
    return lambda work: isinstance(work, dict) and all(clause(work) for clause in clauses)


def matches(work: dict, text: str) -> bool:
    return compile_filter(text)(work)


def prefilter(text: str) -> Callable[[bytes], bool]:
    """A cheap test on a work's JSON text that is False only when the filter surely fails it: every
    condition on ids (OpenAlex ids `P4310319908`, numeric ids `1702`) needs one of its ids in the
    text. Conditions on other values are left to `compile_filter`, after parsing."""
    needs: list[tuple[bytes, ...]] = []
    for part in (p.strip() for p in str(text or "").split(",")):
        key, _, value = part.partition(":")
        if key.strip().lower() in ("publication_year", *DATES) or value.startswith("!"):
            continue
        options = [norm(v) for v in value.split("|") if v.strip()]
        if options and all(o.isdigit() or (o[:1].isalpha() and o[1:].isdigit() and len(o) > 1) for o in options):
            needs.append(tuple(o.upper().encode() for o in options))
    return lambda line: all(any(o in line for o in options) for options in needs)
