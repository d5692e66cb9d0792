"""The ROR registry: read a v2 data dump, flatten its records, compile a match index.

A ROR dump is a zip holding one JSON array of organisation records (schema v2: `names`,
`locations`, `domains`, `links`, `relationships`, `status`, `types`). Releases 1.45-1.74 hold
both schema versions; the v2 member's name ends in `_schema_v2.json`. The array is read one
record at a time, so the full registry (about 120,000 records) never sits in memory as JSON.

`RorIndex` is what the resolver matches against: normalised names, acronyms and web domains
mapped to organisations. Compiling it takes seconds; it is pickled under the cache directory
keyed by the dump's SHA-256 and the index format version, so later runs load it in well under
a second. Nothing here imports Dagster.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import tempfile
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from .gazetteer import build_gazetteer, places_in_names
from .names import english_forms, name_key

INDEX_VERSION = "7"  # 7: a university is its own top-level parent; 6: parents (ROR `relationships`) and each organisation's top-level parent
US_ONLY_TLDS = {"edu", "gov", "mil"}
ZENODO_CONCEPT_RECORD = "https://zenodo.org/api/records/6347574"


class RorDumpError(ValueError):
    """The file is not a usable ROR v2 dump; the message names the file and the reason."""


# -- reading the dump ---------------------------------------------------------------------------
def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pick_member(archive: zipfile.ZipFile, path: Path) -> str:
    members = [m for m in archive.namelist() if m.lower().endswith(".json") and not m.startswith("__MACOSX")]
    if not members:
        raise RorDumpError(f"no .json member in the zip (members: {archive.namelist()[:5]}) (file: {path})")
    v2 = [m for m in members if m.lower().endswith("_schema_v2.json")]
    return (v2 or members)[0]


def _iter_array(text: io.TextIOBase, source: str, chunk_size: int = 1 << 22) -> Iterator[dict]:
    """Yield the elements of a top-level JSON array one at a time."""
    decoder = json.JSONDecoder()
    buffer = text.read(chunk_size)
    pos = 0
    eof = False

    def skip(pos: int) -> int:
        while pos < len(buffer) and buffer[pos] in " \t\r\n,":
            pos += 1
        return pos

    pos = skip(pos)
    if buffer[pos:pos + 1] != "[":
        raise RorDumpError(f"not a JSON array (starts with {buffer[pos:pos + 20]!r}) (file: {source})")
    pos += 1
    while True:
        pos = skip(pos)
        if pos >= len(buffer) - 1 and not eof:
            more = text.read(chunk_size)
            eof = not more
            buffer = buffer[pos:] + more
            pos = skip(0)
        if buffer[pos:pos + 1] == "]":
            return
        if pos >= len(buffer):
            raise RorDumpError(f"the JSON array is truncated (file: {source})")
        try:
            item, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if eof:
                raise RorDumpError(f"malformed JSON near character {exc.pos}: {exc.msg} (file: {source})") from exc
            more = text.read(chunk_size)
            eof = not more
            buffer = buffer[pos:] + more
            pos = 0
            continue
        yield item
        pos = end


def iter_dump(path: Path) -> Iterator[dict]:
    """Raw records of a ROR dump: a zip (the published form) or a bare .json array. A file that
    is corrupt, truncated or not UTF-8 JSON is a RorDumpError naming it and the cause."""
    path = Path(path)
    if not path.exists():
        raise RorDumpError(f"no such file: {path}")
    try:
        for record in _records(path):
            if not isinstance(record, dict):
                raise RorDumpError(f"holds a JSON {type(record).__name__} where an organisation belongs (file: {path})")
            yield record
    except (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, RorDumpError):
            raise
        raise RorDumpError(
            f"the dump is corrupt or truncated ({type(exc).__name__}: {exc}); download it again, "
            f"or point PAPERATLAS_ROR_DUMP at a good copy (file: {path})") from exc


def _records(path: Path) -> Iterator:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            member = _pick_member(archive, path)
            with archive.open(member) as raw:
                yield from _iter_array(io.TextIOWrapper(raw, encoding="utf-8"), f"{path}:{member}")
    else:
        with open(path, encoding="utf-8") as handle:
            yield from _iter_array(handle, str(path))


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlparse(url if "//" in url else f"//{url}").hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower().strip(".")
    return host[4:] if host.startswith("www.") else host


def flatten(record: dict) -> dict:
    """One ROR v2 record -> a flat row (the `ror_organizations` table)."""
    if "names" not in record:
        if "name" in record and "addresses" in record:
            raise RorDumpError(f"{record.get('id')}: schema v1 record; paperatlas reads schema v2 dumps")
        raise RorDumpError(f"{record.get('id')!r}: not a ROR v2 organisation record (no `names`)")
    display = None
    labels: list[str] = []
    aliases: list[str] = []
    acronyms: list[str] = []
    for entry in record.get("names") or []:
        value = (entry.get("value") or "").strip()
        if not value:
            continue
        kinds = entry.get("types") or []
        if "ror_display" in kinds and display is None:
            display = value
        if "acronym" in kinds:
            acronyms.append(value)
        elif "alias" in kinds:
            aliases.append(value)
        elif "label" in kinds or "ror_display" in kinds:
            labels.append(value)
    locations = record.get("locations") or []
    geo = (locations[0].get("geonames_details") or {}) if locations else {}
    domains = [d.lower().strip(".") for d in record.get("domains") or [] if d]
    hosts = [_host(link.get("value")) for link in record.get("links") or [] if link.get("type") in (None, "website")]
    relationships = defaultdict(list)
    for rel in record.get("relationships") or []:
        relationships[(rel.get("type") or "").lower()].append(rel.get("id"))
    return {
        "ror_id": record.get("id"),
        "name": display or (labels[0] if labels else None),
        "labels": labels,
        "aliases": aliases,
        "acronyms": acronyms,
        "domains": sorted({*domains, *(h for h in hosts if h)}),
        "country": geo.get("country_code"),
        "country_name": geo.get("country_name"),
        "subdivision": geo.get("country_subdivision_name"),
        "city": geo.get("name"),
        "lat": geo.get("lat"),
        "lng": geo.get("lng"),
        "countries": sorted({(loc.get("geonames_details") or {}).get("country_code") for loc in locations} - {None}),
        "types": list(record.get("types") or []),
        "status": record.get("status"),
        "established": record.get("established"),
        "parents": relationships.get("parent", []),
        "children": relationships.get("child", []),
        "related": relationships.get("related", []),
        "successors": relationships.get("successor", []),
    }


def read_dump(path: Path, on_progress=None) -> list[dict]:
    rows = []
    for n, record in enumerate(iter_dump(path), start=1):
        rows.append(flatten(record))
        if on_progress and n % 20000 == 0:
            on_progress(n)
    if not rows:
        raise RorDumpError(f"the dump holds no records (file: {path})")
    return rows


# -- the compiled index -------------------------------------------------------------------------
# Acronyms shorter than this, or written in lower case, are not matched: too many collide.
MIN_ACRONYM = 3
PARENTHESIS = re.compile(r"\s*\([^)]*\)\s*$")


def _add(table: dict, key: str, org: int) -> None:
    current = table.get(key)
    if current is None:
        table[key] = org
    elif isinstance(current, int):
        if current != org:
            table[key] = (current, org)
    elif org not in current:
        table[key] = (*current, org)


def _as_tuple(value) -> tuple[int, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, int) else value


@dataclass
class RorIndex:
    """Organisations and the tables that find them. Values in the tables are an org number or
    a tuple of org numbers when several organisations share the key."""

    checksum: str
    ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    countries: list[str | None] = field(default_factory=list)
    cities: list[str | None] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # first type, e.g. education, company
    active: list[bool] = field(default_factory=list)
    by_name: dict[str, object] = field(default_factory=dict)  # name_key -> org(s)
    by_acronym: dict[str, object] = field(default_factory=dict)  # as written -> org(s)
    by_domain: dict[str, object] = field(default_factory=dict)
    prefixes: set[str] = field(default_factory=set)  # every proper word-prefix of a name key
    token_df: dict[str, int] = field(default_factory=dict)  # how many names hold the token
    city_orgs: dict[str, Counter] = field(default_factory=dict)  # city key -> Counter(country)
    gazetteer: dict[str, str] | None = None  # city key -> country (pipeline.affiliations.gazetteer)
    in_name: dict[str, str] | None = None  # places that name a country inside a name
    fuzzy_blocks: dict[str, list[str]] | None = None  # word -> names holding it (fuzzy matching)
    parents: list[tuple[int, ...]] = field(default_factory=list)  # each org's parents in the index
    roots: list[int] = field(default_factory=list)  # each org's top-level parent (itself when it has none)
    own_top: frozenset[int] = frozenset()  # orgs of a type in OWN_TOP_TYPES, among any of their types
    by_id: dict[str, int] = field(default_factory=dict)  # ROR id -> org

    # -- lookups ----------------------------------------------------------------------------
    def orgs_for_name(self, key: str) -> tuple[int, ...]:
        return _as_tuple(self.by_name.get(key))

    def orgs_for_acronym(self, acronym: str) -> tuple[int, ...]:
        return _as_tuple(self.by_acronym.get(acronym))

    def orgs_for_domain(self, domain: str) -> tuple[tuple[int, ...], str | None]:
        labels = domain.strip().lower().strip(".").split(".")
        for i in range(len(labels) - 1):
            suffix = ".".join(labels[i:])
            found = self.by_domain.get(suffix)
            if found is not None:
                return _as_tuple(found), suffix
        return (), None

    def org_of(self, ror_id: str | None) -> int | None:
        return self.by_id.get(ror_id) if ror_id else None

    def top_parent(self, org: int) -> int:
        """The organisation at the top of `org`'s parents (ROR `relationships` of type parent,
        followed to the root); `org` itself when it has no parent in the registry."""
        return self.roots[org] if self.roots else org

    def is_within(self, org: int, ancestor: int) -> bool:
        """Is `ancestor` the organisation itself or one of its parents, at any depth?"""
        seen, todo = set(), [org]
        while todo:
            cur = todo.pop()
            if cur == ancestor:
                return True
            if cur in seen:
                continue
            seen.add(cur)
            todo.extend(self.parents[cur] if self.parents else ())
        return False

    def __len__(self) -> int:
        return len(self.ids)

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def build(cls, rows: list[dict], checksum: str) -> RorIndex:
        index = cls(checksum=checksum)
        name_orgs: dict[str, set[int]] = defaultdict(set)
        # Withdrawn records are mistakes or duplicates; inactive ones still name real places
        # (old papers) but yield to an active organisation of the same name.
        usable = [r for r in rows if r.get("status") != "withdrawn" and r.get("ror_id")]
        for org, row in enumerate(usable):
            index.ids.append(row["ror_id"])
            index.names.append(row["name"] or row["ror_id"])
            index.countries.append(row.get("country"))
            index.cities.append(row.get("city"))
            index.kinds.append((row.get("types") or ["other"])[0])
            index.active.append(row.get("status") == "active")
            for text in [row["name"], *row["labels"], *row["aliases"]]:
                if not text:
                    continue
                # "Google (United Kingdom)" is also found as "Google"; which Google is then
                # for the place, the e-mail domain or the headquarters table to decide.
                keys = {name_key(text)}
                if "(" in text:
                    keys.add(name_key(PARENTHESIS.sub("", text).strip()))
                if any(c in text for c in "äöüÄÖÜ"):
                    keys.add(name_key(text, transliterate=True))
                for key in keys:
                    if key:
                        name_orgs[key].add(org)
            for acronym in row["acronyms"]:
                acronym = acronym.strip()
                if len(acronym) >= MIN_ACRONYM and acronym.upper() == acronym and re.search("[A-Z]", acronym):
                    _add(index.by_acronym, acronym, org)
            for domain in row["domains"]:
                # .edu, .gov and .mil are reserved for US bodies: a record elsewhere claiming one is
                # a registry error (Northeastern University in Shenyang lists neu.edu, Boston's).
                if domain.rsplit(".", 1)[-1].lower() in US_ONLY_TLDS and row.get("country") not in (None, "US"):
                    continue
                _add(index.by_domain, domain, org)
            city = row.get("city")
            if city and row.get("country"):
                index.city_orgs.setdefault(name_key(city), Counter())[row["country"]] += 1
        # A native university name's English form that no organisation carries names it too.
        english: dict[str, set[int]] = defaultdict(set)
        for key, orgs in name_orgs.items():
            for form in english_forms(key):
                if form not in name_orgs:
                    english[form] |= {o for o in orgs if name_key(index.names[o]) == key}
        df: Counter = Counter()
        for key, orgs in name_orgs.items():
            active = {o for o in orgs if index.active[o]}
            chosen = sorted(active or orgs)
            index.by_name[key] = chosen[0] if len(chosen) == 1 else tuple(chosen)
            tokens = key.split()
            for n in range(1, len(tokens)):
                index.prefixes.add(" ".join(tokens[:n]))
            df.update(set(tokens))
        index.token_df = dict(df)  # the English forms below are not names: they count no word
        for form, orgs in english.items():
            if orgs:
                index.by_name[form] = min(orgs) if len(orgs) == 1 else tuple(sorted(orgs))
                words = form.split()
                index.prefixes.update(" ".join(words[:n]) for n in range(1, len(words)))
        index.by_id = {rid: org for org, rid in enumerate(index.ids)}
        # A relationship may be recorded on one side only (a parent listing its child): both count.
        parents: list[list[int]] = [[index.by_id[p] for p in row.get("parents") or () if p in index.by_id]
                                    for row in usable]
        for org, row in enumerate(usable):
            for child in row.get("children") or ():
                c = index.by_id.get(child)
                if c is not None and org not in parents[c]:
                    parents[c].append(org)
        index.parents = [tuple(p) for p in parents]
        index.own_top = frozenset(org for org, row in enumerate(usable) if OWN_TOP_TYPES & set(row.get("types") or ()))
        index.roots = [top_parent(index, org) for org in range(len(usable))]
        index.gazetteer = build_gazetteer(index.city_orgs)
        index.in_name = places_in_names(index.gazetteer, index.token_df)
        index.fuzzy_blocks = fuzzy_blocks(index.by_name, index.token_df)
        return index

    # -- the on-disk cache --------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(self, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def load(path: Path) -> RorIndex:
        with open(path, "rb") as handle:
            index = pickle.load(handle)
        if not isinstance(index, RorIndex):
            raise RorDumpError(f"not a paperatlas ROR index (file: {path})")
        return index


# A university is counted as itself: ROR gives many a parent that runs or funds it rather than
# contains it (a ministry over a university in China, a university system over a campus in the
# US: "Ministry of Industry and Information Technology" for Beijing Institute of Technology,
# "University of California System" for UC Berkeley). The walk to the top-level parent stops at
# an organisation of this type. Its sub-units (institutes, hospitals, labs) still climb to it.
OWN_TOP_TYPES = frozenset({"education"})


def top_parent(index: RorIndex, org: int) -> int:
    """Follow the parents up to an organisation without one, taking at each step the first parent
    in the organisation's own country, else the first listed; stop at a university (OWN_TOP_TYPES:
    it is its own top-level organisation). A cycle in the registry stops the walk at the last
    organisation before it repeats."""
    seen = {org}
    cur = org
    while True:
        ups = () if cur in index.own_top else index.parents[cur]
        if not ups:
            return cur
        same = [p for p in ups if index.countries[p] == index.countries[cur]]
        nxt = (same or list(ups))[0]
        if nxt in seen:
            return cur
        seen.add(nxt)
        cur = nxt


FUZZY_MAX_BLOCK = 4000  # words in more names than this are too common to block on


def fuzzy_blocks(by_name: dict, token_df: dict[str, int]) -> dict[str, list[str]]:
    """Registry names by their words (blocking for fuzzy matching), leaving out short words
    and words too common to narrow anything down."""
    eligible = {w for w, count in token_df.items() if len(w) > 3 and count <= FUZZY_MAX_BLOCK}
    blocks: dict[str, list[str]] = {w: [] for w in sorted(eligible)}  # sorted: the same in every process
    for key in by_name:
        for word in key.split():
            if word in eligible:
                blocks[word].append(key)
    return blocks


def vocabulary_by_initial(blocks: dict[str, list[str]]) -> dict[str, list[str]]:
    vocab: dict[str, list[str]] = {}
    for word in sorted(blocks):  # sorted: ties in fuzzy lookups go the same way in every process
        vocab.setdefault(word[0], []).append(word)
    return vocab


def index_path(cache_dir: Path, checksum: str) -> Path:
    return Path(cache_dir) / "ror" / f"index-{checksum[:20]}-v{INDEX_VERSION}.pickle"


def load_index(dump: Path, cache_dir: Path, checksum: str | None = None, on_progress=None,
               rows: list[dict] | None = None) -> RorIndex:
    """The compiled index for `dump`, from the cache when it was compiled before. `rows`: the
    dump's records as `read_dump` gave them, when the caller has just read them (the registry
    step), so that the dump is not parsed a second time."""
    checksum = checksum or file_sha256(dump)
    cached = index_path(cache_dir, checksum)
    if cached.exists():
        try:
            return RorIndex.load(cached)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, RorDumpError):
            cached.unlink(missing_ok=True)  # a stale or broken cache is rebuilt, not trusted
    index = RorIndex.build(rows if rows is not None else read_dump(dump, on_progress), checksum)
    index.save(cached)
    return index


# -- finding the dump -----------------------------------------------------------------------------
def newest_zenodo_dump(http) -> tuple[str, str | None, str]:
    """(download URL, md5 or None, file name) of the newest dump in ROR's Zenodo record.

    The concept record id always resolves to the newest release; its `files` list the zip.
    """
    response = http.get(ZENODO_CONCEPT_RECORD, headers={"Accept": "application/json"})
    try:
        payload = response.json()
        files = payload["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RorDumpError(f"{ZENODO_CONCEPT_RECORD}: unexpected answer from Zenodo ({exc})") from exc
    zips = [f for f in files if str(f.get("key", "")).endswith(".zip")]
    if not zips:
        raise RorDumpError(f"{ZENODO_CONCEPT_RECORD}: the newest ROR record lists no .zip file")
    chosen = zips[0]
    links = chosen.get("links") or {}
    url = links.get("self") or links.get("content") or links.get("download")
    if not url:
        raise RorDumpError(f"{ZENODO_CONCEPT_RECORD}: file {chosen.get('key')} has no download link")
    checksum = chosen.get("checksum") or ""
    md5 = checksum.split(":", 1)[1] if checksum.startswith("md5:") else None
    return url, md5, chosen["key"]
