"""A printed postal address (rule 4b, `location:address`): a postal code in a form that only one
country uses, or a street in one country's language beside a postal code of that country's
length. It places an author whose city the gazetteer does not hold ("IBM SEMEA Sud, Via
Tridente 42/14, 70125 Bari" is in Italy, not at IBM's US headquarters) and whose institution
names no country of its own: it ranks below an explicit country, a known institution and a known
city, and above a multinational's headquarters, because an address printed for the author says
where the author works.

Forms read (Universal Postal Union formats; each is used by one country only):
- a country prefix before the code, the old European style: "D-81739 München", "CH-8092
  Zürich", "F-75014 Paris", "I-70125 Bari";
- the United Kingdom's "CB1 2FB", "EC1V 0HB"; Canada's "M5S 1A1"; Brazil's "13083-852";
  Portugal's "1049-001 Lisboa"; Poland's "00-662 Warszawa"; Japan's "〒113-8656";
- a five-digit code with an Italian street ("Via", "Viale", "Piazza", "Corso", "Largo"), a
  German one ("…straße", "…str.", "…weg", "…allee", "…platz", "-Ring" and a house number) or
  a French one ("rue", "boulevard", "quai", "allée", "chemin", "impasse"): Switzerland, Austria
  and Belgium, which share those languages, use four digits.

Not read: five or six digits alone (the US, Germany, France, Italy, Spain, Mexico, India and
China share them), Spanish and Portuguese street words (Spain, Latin America, Portugal and
Brazil share them) and English ones.
"""

from __future__ import annotations

import re

# Country prefix -> (country, digits of its postal codes).
PREFIX_COUNTRY = {
    "A": ("AT", 4), "B": ("BE", 4), "CH": ("CH", 4), "D": ("DE", 5), "DK": ("DK", 4), "E": ("ES", 5),
    "F": ("FR", 5), "FI": ("FI", 5), "FIN": ("FI", 5), "GR": ("GR", 5), "H": ("HU", 4), "I": ("IT", 5),
    "L": ("LU", 4), "N": ("NO", 4), "NL": ("NL", 4), "P": ("PT", 4), "SLO": ("SI", 4), "HR": ("HR", 5),
    "RO": ("RO", 6), "BG": ("BG", 4), "LT": ("LT", 5), "LV": ("LV", 4), "EE": ("EE", 5),
}
CITY = r"\s+[A-Z][A-Za-z'-]+"  # the town after the code, capitalised
PREFIXED = re.compile(r"(?<![\w-])(" + "|".join(sorted(PREFIX_COUNTRY, key=len, reverse=True))
                      + r")\s?-\s?(\d{4,6})(?=" + CITY + ")")
CODES = [
    (re.compile(r"(?<![\w-])[A-Z]{1,2}\d[A-Z\d]?\s\d[ABD-HJLNP-UW-Z]{2}(?![\w-])"), "GB"),
    (re.compile(r"(?<![\w-])[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d(?![\w-])"), "CA"),
    (re.compile(r"(?<![\w-])\d{5}-\d{3}(?![\w-])"), "BR"),
    (re.compile(r"(?<![\w-])\d{4}-\d{3}(?=" + CITY + ")"), "PT"),
    (re.compile(r"(?<![\w-])\d{2}-\d{3}(?=" + CITY + ")"), "PL"),
    (re.compile(r"\u3012\s?\d{3}-\d{4}(?!\d)"), "JP"),
]
FIVE_DIGITS = re.compile(r"(?<![\w-])\d{5}(?=" + CITY + ")")
STREETS = [
    (re.compile(r"\b(?:Via|Viale|Piazza|Piazzale|Corso|Largo)\s+[A-Z][\w']*"), "IT"),
    (re.compile(r"[a-z\u00e4\u00f6\u00fc](?:stra(?:ss|\u00df)e|str\.|weg|allee|platz)\s+\d|-Ring\s+\d"), "DE"),
    (re.compile(r"\b(?:rue|boulevard|quai|all[e\u00e9]e|chemin|impasse)\s+(?:de\s|du\s|des\s|d')?[A-Z][\w'-]*",
                re.IGNORECASE), "FR"),
]


def address_country(text: str) -> tuple[str, str] | None:
    """(country, the address text that says so) of a postal address in `text`, or None. Reads
    the string as printed (case kept): postal codes are upper case."""
    if not any(c.isdigit() for c in text):
        return None
    for m in PREFIXED.finditer(text):
        country, digits = PREFIX_COUNTRY[m.group(1)]
        if len(m.group(2)) == digits:
            return country, m.group(0)
    for pattern, country in CODES:
        m = pattern.search(text)
        if m:
            return country, m.group(0)
    code = FIVE_DIGITS.search(text)
    if code:
        for pattern, country in STREETS:
            street = pattern.search(text)
            if street:
                return country, f"{street.group(0).strip()} … {code.group(0)}"
    return None
