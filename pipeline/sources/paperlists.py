"""The papercopilot/paperlists dataset: one JSON array of papers per venue-year.

We read titles, authors, the per-author affiliation strings (`aff`) and email domains
(`aff_domain`), the abstract and the PDF link. The dataset's own normalised institutions and
country labels (`aff_unique_*`, `aff_country_*`) are deliberately never read: paperatlas
computes those, and the labels are only used to measure it (see `benchmarks/`).

Separators: `;` between authors, `+` between one author's affiliations, sometimes with
spaces around them.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

from ..http import FetchError, HttpClient, Unreachable
from ..models import IngestError, Paper, scrub, utcnow
from ..partitions import PartitionKey
from .base import STAGE, ParseResult, SourceConfig, SourceError, SourceFile, parse_json

SOURCE = "paperlists"
OFFLINE_HINT = ("set PAPERATLAS_PAPERLISTS_BASE to a local copy of papercopilot/paperlists "
                "(a folder of <venue>/<venue><year>.json files)")
# Statuses of submissions that were not accepted (paperlists keeps them for ICLR and others).
REJECTED_STATUS = re.compile(r"reject|withdr|desk|retract|not accepted", re.IGNORECASE)


def candidate_names(pk: PartitionKey, name: str | None = None) -> list[str]:
    """Where paperlists keeps a venue-year: `name` is the venue's paperlists name (the plan's
    `paperlists`, e.g. nips for neurips), the venue key when not given."""
    name = name or pk.venue
    file = f"{name}{pk.year}.json"
    return [f"{name}/{file}", file]


def is_url(base: str) -> bool:
    return urlparse(base).scheme in ("http", "https")


def locate_and_read(base: str, pk: PartitionKey, http: HttpClient | None, name: str | None = None,
                    refresh: bool = False) -> SourceFile:
    """Find `{name}/{name}{year}.json` or `{name}{year}.json` under `base` (directory or URL)."""
    if base.startswith("file://"):
        base = urlparse(base).path
    tried = []
    if is_url(base):
        if http is None:
            raise SourceError("an HTTP client is needed to read paperlists from a URL")
        last_error = None
        for rel in candidate_names(pk, name):
            url = base.rstrip("/") + "/" + rel
            tried.append(url)
            try:
                result = http.fetch(url, refresh=refresh, validate=records_of)
            except Unreachable as exc:
                raise SourceError(f"{pk}: could not download {exc.with_hint(OFFLINE_HINT)}") from None
            except FetchError as exc:
                last_error = exc
                if "HTTP 404" in str(exc):
                    continue
                raise SourceError(f"{pk}: could not download {exc}") from exc  # the message starts with the URL
            return SourceFile(url, result.content, result.sha256, result.from_cache, result.fetched_at,
                              result.value)
        raise SourceError(f"{pk}: no paperlists file for this venue-year (tried {', '.join(tried)}): {last_error}")
    root = Path(base).expanduser()
    if not root.is_dir():
        raise SourceError(f"{pk}: PAPERATLAS_PAPERLISTS_BASE {base!r} is neither a URL nor a directory")
    for rel in candidate_names(pk, name):
        path = root / rel
        tried.append(str(path))
        if path.is_file():
            data = path.read_bytes()
            mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).replace(microsecond=0)
            return SourceFile(str(path.resolve()), data, hashlib.sha256(data).hexdigest(), fetched_at=mtime)
    raise SourceError(f"{pk}: no paperlists file for this venue-year (looked for {', '.join(tried)})")


def available(base: str, pk: PartitionKey, http: HttpClient, name: str | None = None) -> bool:
    """Whether `base` has a file for `pk` (asked anew, not from the cache)."""
    if base.startswith("file://"):
        base = urlparse(base).path
    for rel in candidate_names(pk, name):
        if is_url(base):
            if http.get(base.rstrip("/") + "/" + rel).status_code == 200:
                return True
        elif (Path(base).expanduser() / rel).is_file():
            return True
    return False


# -- parsing --------------------------------------------------------------------------------


def _split(value: str, sep: str) -> list[str]:
    return [part.strip() for part in value.split(sep)]


def split_authors(raw: str) -> list[str]:
    """Author names in order. `;` separates; a list written with commas only is split on commas."""
    raw = raw.strip()
    if not raw:
        return []
    if ";" in raw:
        names = _split(raw, ";")
        # A trailing separator ("A; B;") leaves an empty last name: drop it.
        while names and names[-1] == "" and len(names) > 1:
            names.pop()
        return names
    if "," in raw and " and " not in raw:
        return _split(raw, ",")
    return [raw]


def dedupe_repeated(names: list[str]) -> list[str]:
    """Some files list the authors twice in a row (A;B;C;A;B;C): keep one copy."""
    n = len(names)
    if n >= 2 and n % 2 == 0 and names[: n // 2] == names[n // 2 :]:
        return names[: n // 2]
    return names


LONE_PLUS = re.compile(r"(?<!\+)\+(?!\+)")


def split_affiliations(raw: str) -> list[list[str]]:
    """Per-author affiliation lists: `;` between authors, `+` between one author's affiliations.
    A run of pluses belongs to a name ("Megvii (Face++) Technology Inc.", "C++"): only a lone
    `+` separates."""
    per_author = []
    for chunk in raw.split(";"):
        seen: list[str] = []
        for piece in LONE_PLUS.split(chunk):
            piece = " ".join(piece.split())
            if piece and piece not in seen:
                seen.append(piece)
        per_author.append(seen)
    return per_author


def split_domains(raw: str) -> list[str | None]:
    out: list[str | None] = []
    for chunk in raw.split(";"):
        # An author with several affiliations may have "a.edu+b.edu": keep the first domain.
        first = chunk.split("+")[0].strip().lower().strip(".")
        out.append(first or None)
    return out


# Fields that hold text and never a number: a number or NaN there is an export error, not a value.
TEXT_ONLY = ("title", "author", "aff", "aff_domain", "abstract", "pdf", "track", "status")


def _text(record: dict, name: str, odd: list[str] | None = None) -> str | None:
    """The field as text. A number where text belongs (`aff: 42`, `aff: NaN`) is missing, and
    `odd` hears why; a number in `id` is its text ("12345")."""
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if name in TEXT_ONLY or not math.isfinite(value):
            if odd is not None:
                odd.append(f"field {name!r} holds the number {value!r}, not text; treated as missing")
            return None
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"field {name!r} is {type(value).__name__}, expected a string")
    return value


def _own_ids(data: list) -> dict[str, int]:
    """Each id the records give themselves, with the first record that gives it."""
    ids: dict[str, int] = {}
    for index, record in enumerate(data):
        value = record.get("id") if isinstance(record, dict) else None
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            ids.setdefault(str(value).strip(), index)
    return ids


def free_id(paper_id: str, title_hash: str, used: dict[str, int], reserved: dict[str, int]
            ) -> tuple[str, list[tuple[str, int]]]:
    """A new name for a reused id that no record holds or gives itself: `<id>~<8 hex digits of
    the title's hash>`, the hash longer while that name is taken, then `~2`, `~3`, ... after the
    whole hash. Also the names passed over, each with the record that holds it."""
    passed: list[tuple[str, int]] = []
    names = [f"{paper_id}~{title_hash[:n]}" for n in (8, 12, 16, 24, len(title_hash))]
    for name in itertools.chain(names, (f"{names[-1]}~{n}" for n in itertools.count(2))):
        holder = used.get(name, reserved.get(name))
        if holder is None:
            return name, passed
        passed.append((name, holder))
    raise AssertionError("unreachable")


def records_of(payload: bytes | str | list | dict) -> list:
    """The array of paper records in a paperlists file (a bare array, or `{"papers": [...]}`);
    ValueError when it is not JSON or holds no such array. Also the download's validator, so
    an error page served with status 200 is never cached."""
    if isinstance(payload, (bytes, str)):
        payload = parse_json(payload)
    if isinstance(payload, dict) and isinstance(payload.get("papers"), list):
        payload = payload["papers"]
    if not isinstance(payload, list):
        raise ValueError(f"holds a JSON {type(payload).__name__}, expected an array of papers")
    return payload


def _aligned(author_raw: str, aff_raw: str | None, dom_raw: str | None,
             warn: Callable[[str], None]) -> tuple[list[str], list[list[str]], list, list[str]]:
    """A record's authors with their affiliations and e-mail domains, one entry per author:
    (authors, affiliations, domains, unaligned). When 'aff' cannot be tied to the authors, its
    affiliations are `unaligned` (they count for the paper, not for an author); each problem
    is one `warn(reason)`."""
    authors = split_authors(author_raw)
    affs = split_affiliations(aff_raw) if aff_raw is not None else []
    doms = split_domains(dom_raw) if dom_raw else []
    if len(authors) != len(affs) and len(authors) == 2 * len(affs):
        deduped = dedupe_repeated(authors)
        if len(deduped) == len(affs):
            authors = deduped
    if not authors:
        warn("has no authors; kept in paper counts without countries")

    unaligned: list[str] = []
    if not affs or all(not a for a in affs):
        affiliations = [[] for _ in authors]
    elif len(affs) == len(authors):
        affiliations = affs
    else:
        affiliations = [[] for _ in authors]
        unaligned = list(dict.fromkeys(a for group in affs for a in group))
        warn(f"'aff' has {len(affs)} entries for {len(authors)} authors; its affiliations count "
             "for the paper but are not tied to authors")
    if len(doms) == len(authors):
        domains = doms
    else:
        if doms and any(doms):
            warn(f"'aff_domain' has {len(doms)} entries for {len(authors)} authors; ignored")
        domains = [None] * len(authors)
    return authors, affiliations, domains, unaligned


def parse_records(
    payload: bytes | str | list,
    pk: PartitionKey,
    source_ref: str,
    source_sha256: str = "",
    include_rejected: bool = False,
    fetched_at: datetime | None = None,
) -> ParseResult:
    """Turn a paperlists file into `Paper`s; bad records become `IngestError`s, never a crash.

    Raises `SourceError` only when the file as a whole is unusable (not JSON, not an array).
    """
    try:
        data = records_of(payload)
    except ValueError as exc:
        raise SourceError(f"{pk}: {source_ref}: {exc}") from exc
    result = ParseResult(records=len(data))
    fetched_at = fetched_at or utcnow()
    seen: dict[str, set[str]] = {}  # a record's own id -> the title hashes seen under it
    used: dict[str, int] = {}  # stored id -> the record stored under it
    reserved = _own_ids(data)  # a record's own id is never the new name of another
    key = pk.key

    def err(item: str, reason: str, severity: str = "error") -> None:
        result.errors.append(IngestError(key, STAGE, item, reason, severity))

    for index, record in enumerate(data):
        item = f"record #{index}"
        if not isinstance(record, dict):
            err(item, f"is a JSON {type(record).__name__}, expected an object")
            continue
        record, dirty = scrub(record)
        odd: list[str] = ["characters that cannot be stored (lone surrogates, NUL or other controls) were "
                          "replaced"] if dirty else []
        try:
            title = _text(record, "title", odd)
            raw_id = _text(record, "id", odd)
            status = _text(record, "status", odd)
            author_raw = _text(record, "author", odd) or ""
            aff_raw = _text(record, "aff", odd)
            dom_raw = _text(record, "aff_domain", odd)
            abstract = _text(record, "abstract", odd)
            pdf = _text(record, "pdf", odd)
            track = _text(record, "track", odd)
        except TypeError as exc:
            err(f"{item} (id {record.get('id')!r})", str(exc))
            continue
        for reason in odd:
            err(f"{item} (id {raw_id!r})", reason, "warning")
        title = " ".join((title or "").split())
        if not title:
            err(f"{item} (id {raw_id!r})", "has no title")
            continue
        # `id` when the record has one; otherwise a stable hash of the title. (Some files also
        # carry `pid`, which is not unique: cvpr2016 reuses each pid for many papers.)
        title_hash = hashlib.sha1(title.lower().encode()).hexdigest()
        paper_id = (raw_id or "").strip() or "t" + title_hash[:12]
        item = f"paper {paper_id}"
        if status and REJECTED_STATUS.search(status) and not include_rejected:
            result.skipped_status[status] = result.skipped_status.get(status, 0) + 1
            continue
        if title_hash in seen.get(paper_id, ()):
            err(item, f"duplicate record in {source_ref} (same id and title); the first was kept", "warning")
            continue
        seen.setdefault(paper_id, set()).add(title_hash)
        if paper_id in used:
            new_id, passed = free_id(paper_id, title_hash, used, reserved)
            err(item, f"id reused for another title (record #{used[paper_id]} has it)"
                      + "".join(f", and {name!r} is record #{holder}'s id" for name, holder in passed)
                      + f"; this paper is stored as {new_id}", "warning")
            paper_id, item = new_id, f"paper {new_id}"
        used[paper_id] = index

        authors, affiliations, domains, unaligned = _aligned(author_raw, aff_raw, dom_raw,
                                                             lambda reason, item=item: err(item, reason, "warning"))
        aligned = not unaligned  # set only when 'aff' cannot be tied to the authors

        result.papers.append(
            Paper(
                partition_key=key,
                paper_id=paper_id,
                venue=pk.venue,
                year=pk.year,
                title=title,
                abstract=(abstract or "").strip() or None,
                authors=authors,
                affiliations=affiliations,
                email_domains=domains,
                unaligned_affiliations=unaligned,
                aligned=aligned,
                pdf_url=(pdf or "").strip() or None,
                status=status,
                track=track,
                source=SOURCE,
                source_ref=source_ref,
                source_sha256=source_sha256,
                fetched_at=fetched_at,
            )
        )
    return result


class Paperlists:
    """The papercopilot/paperlists dataset: `{name}/{name}{year}.json` or `{name}{year}.json`
    under its base (PAPERATLAS_PAPERLISTS_BASE: the GitHub raw URL, or a local copy), `name`
    being the venue's `paperlists` name in the plan."""

    name = SOURCE
    include_rejected = False

    def __init__(self, config: SourceConfig):
        self.config = config
        self.base = config.location

    def client(self) -> HttpClient:
        return HttpClient(Path(self.config.cache_dir) if self.config.cache_dir else None,
                          timeout=self.config.timeout, retries=self.config.retries)

    def papers(self, pk: PartitionKey, venue, refresh: bool = False, progress=None) -> ParseResult:
        source = locate_and_read(self.base, pk, self.client(), venue.paperlists, refresh=refresh)
        parsed = parse_records(source.content if source.records is None else source.records, pk, source.ref, source.sha256, self.include_rejected,
                               fetched_at=source.fetched_at)
        parsed.source, parsed.refs, parsed.sha256 = SOURCE, [source.ref], source.sha256
        parsed.from_cache = source.from_cache
        return parsed

    def available(self, pk: PartitionKey, venue) -> bool:
        return available(self.base, pk, self.client(), venue.paperlists)

    def where(self, pk: PartitionKey, venue) -> str:
        return " or ".join(f"{self.base.rstrip('/')}/{name}" for name in candidate_names(pk, venue.paperlists))
