"""What every paper source shares: the result of reading one venue-year, its errors, JSON
fetching that never trusts a broken body twice, and the keys papers are matched by.

A source reads one venue-year into `Paper`s (pipeline/models.py). Bad records become
`IngestError`s naming the record and the reason, and the rest go on. `SourceError` is for a
venue-year the source cannot give at all (not published, unreadable, a page whose layout
changed, a declared count that does not match): the partition then fails with that message.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from ..affiliations.names import SPECIAL
from ..http import FetchError, HttpClient, Unreachable
from ..models import MAY_BE_UNWRITABLE, IngestError, Paper, scrub
from ..partitions import PartitionKey

if TYPE_CHECKING:
    from collections.abc import Callable

    from .plan import VenuePlan

STAGE = "raw_papers"
# A source on the network that cannot be reached: what a user without the network does instead.
OFFLINE_HINT = ("offline, read a venue from a local folder: PAPERATLAS_PAPERLISTS_BASE (paperlists files) "
                "or PAPERATLAS_LOCAL_DIR (PDFs), chosen per venue in the sources plan (PAPERATLAS_SOURCES)")


class SourceError(RuntimeError):
    """The venue-year's source could not be found, read or understood. `errors` holds the
    record-level errors found on the way, stored beside the message."""

    def __init__(self, message: str, errors: list[IngestError] | None = None):
        super().__init__(message)
        self.errors = list(errors or [])


@dataclass
class SourceFile:
    ref: str  # path or URL it came from
    content: bytes
    sha256: str
    from_cache: bool = False
    fetched_at: datetime | None = None  # download time (URL) or modification time (local file)
    records: list | None = None  # the parsed records, when validating the download parsed them


@dataclass
class ParseResult:
    papers: list[Paper] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    skipped_status: dict[str, int] = field(default_factory=dict)
    records: int = 0
    # Filled by the network sources: what was read, its digest and whether all came from the cache.
    source: str = ""
    refs: list[str] = field(default_factory=list)
    sha256: str = ""
    from_cache: bool = True
    fetched_at: datetime | None = None  # the newest download among the documents read
    stats: dict[str, int] = field(default_factory=dict)
    streamed: int = 0  # papers written batch by batch (then `papers` stays empty)


@dataclass(frozen=True)
class SourceConfig:
    """How a source reaches its system, from `Settings` (pipeline/sources/registry.py builds it).
    `location`: its base URL, API or folder, empty for the source's own default; `rate`:
    requests per second to one host, 0 for the source's own polite default."""

    cache_dir: str
    timeout: float
    retries: int
    rate: float = 0.0
    location: str = ""
    split: int = 0  # a venue-year with more works than this is read as sub-partitions (0: never split)
    credentials: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    allow_private_links: bool = False  # links taken from the data may reach this machine's network

    def secret(self, name: str) -> str | None:
        return dict(self.credentials).get(name) or None

    def client(self, default_rate: float | None = None) -> HttpClient:
        from ..http import HostPacer

        return HttpClient(Path(self.cache_dir) if self.cache_dir else None, timeout=self.timeout,
                          retries=self.retries, pacer=HostPacer(self.rate or default_rate),
                          allow_private_links=self.allow_private_links)


class Source(Protocol):
    """A paper source: where it reads a venue-year, whether it has it, and its papers.

    `venue` is the venue's entry of the sources plan (urls, ids and filters for this source).
    To add a source: a module here with a class of this shape, and one line in
    pipeline/sources/registry.py."""

    name: str

    def papers(self, pk: PartitionKey, venue: VenuePlan, refresh: bool = False,
               progress: Callable[[str], None] | None = None) -> ParseResult: ...

    def available(self, pk: PartitionKey, venue: VenuePlan) -> bool: ...

    def where(self, pk: PartitionKey, venue: VenuePlan) -> str: ...


class Digest:
    """One SHA-256 over every body a source read for a venue-year, in reading order."""

    def __init__(self):
        self._hash = hashlib.sha256()
        self.refs: list[str] = []
        self.entries: list[tuple] = []
        self.from_cache = True
        self.fetched_at: datetime | None = None

    def add(self, url: str, sha256: str, from_cache: bool, fetched_at: datetime | None) -> None:
        self._hash.update(f"{url}\n{sha256}\n".encode())
        self.refs.append(url)
        self.entries.append((url, sha256, from_cache, fetched_at))
        self.from_cache = self.from_cache and from_cache
        if fetched_at and (self.fetched_at is None or fetched_at > self.fetched_at):
            self.fetched_at = fetched_at

    def merge(self, other: "Digest") -> None:
        for url, sha256, from_cache, fetched_at in other.entries:
            self.add(url, sha256, from_cache, fetched_at)

    def fill(self, result: ParseResult) -> ParseResult:
        result.refs, result.sha256, result.from_cache = list(self.refs), self._hash.hexdigest(), self.from_cache
        result.fetched_at = self.fetched_at
        return result


def parse_json(content: bytes | str):
    """The JSON document in `content`; ValueError, in one line, when it is not one. orjson parses
    it when it can (about three times faster on OpenAlex pages); what orjson refuses (lone
    surrogate escapes, which `scrub` then cleans, or a broken document) goes to the standard
    parser, which gives the same values and the error message."""
    return _parsed(content)[0]


def _parsed(content: bytes | str) -> tuple[Any, bool]:
    """(the document, whether orjson parsed it): see `parse_json`."""
    try:
        return orjson.loads(content), True
    except (orjson.JSONDecodeError, TypeError, RecursionError):
        pass
    try:
        return json.loads(content), False
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    except RecursionError:
        raise ValueError("not usable JSON: it nests deeper than Python's parser goes") from None


def json_body(check: "Callable[[Any], None] | None" = None) -> "Callable[[bytes], Any]":
    """A validator for `HttpClient.fetch`: the body parsed as JSON, passed through `check`
    (which raises ValueError when the document is not the one asked for)."""

    def validate(content: bytes):
        data, by_orjson = _parsed(content)
        # orjson takes only valid UTF-8, so only an escape can make text `scrub` would change;
        # what the standard parser took (it passes encoded surrogates through) is always scrubbed.
        if not by_orjson or MAY_BE_UNWRITABLE.search(content):  # text UTF-8 cannot store never reaches a paper
            data, _ = scrub(data)
        if check is not None:
            check(data)
        return data

    return validate


def shaped(what: str, **fields: type) -> "Callable[[Any], None]":
    """A `check` for `json_body`: a JSON object whose `fields` have the given types."""

    def check(data) -> None:
        if not isinstance(data, dict) or any(not isinstance(data.get(k), t) for k, t in fields.items()):
            kind = "object without " + ", ".join(f"'{k}'" for k in fields) if isinstance(data, dict) \
                else type(data).__name__
            raise ValueError(f"not {what}: a JSON {kind}, expected {{{', '.join(fields)}}}")

    return check


def fetch_json(http: HttpClient, url: str, what: str, refresh: bool = False, digest: Digest | None = None,
               check: "Callable[[Any], None] | None" = None, offline_hint: str = OFFLINE_HINT, **kwargs):
    """GET (or POST) `url` and parse it as JSON, checked by `check`. A body that is not JSON
    (cut short, an HTML error page) or not the document asked for is never cached, and is
    reported as a SourceError naming `what` and the URL. An unreachable host's message ends with
    `offline_hint` (the setting that points the source elsewhere)."""
    try:
        result = http.fetch(url, refresh=refresh, validate=json_body(check), **kwargs)
    except Unreachable as exc:
        raise SourceError(f"{what}: {exc.with_hint(offline_hint)}") from None
    except FetchError as exc:
        raise SourceError(f"{what}: {exc}") from exc
    if digest is not None:
        digest.add(url, result.sha256, result.from_cache, result.fetched_at)
    return result.value


def fetch_text(http: HttpClient, url: str, what: str, refresh: bool = False, digest: Digest | None = None,
               parse: "Callable[[str], Any] | None" = None, data_link: bool = False):
    """GET `url` as text, returned through `parse` when given. `parse` raises ValueError for a
    page that is not the one asked for (an error page served with 200), which is then never
    cached and is reported as a SourceError. A `data_link` (a URL found in a page, off the page's
    host) reaches only public addresses."""

    def validate(content: bytes):
        text = content.decode("utf-8", "replace")
        return parse(text) if parse is not None else text

    try:
        result = http.fetch(url, refresh=refresh, validate=validate, data_link=data_link)
    except Unreachable as exc:
        raise SourceError(f"{what}: {exc.with_hint(OFFLINE_HINT)}") from None
    except FetchError as exc:
        raise SourceError(f"{what}: {exc}") from exc
    if digest is not None:
        digest.add(url, result.sha256, result.from_cache, result.fetched_at)
    return result.value


# -- keys papers are matched by ----------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def plain(text: str | None) -> str:
    """Lower case ASCII letters and digits: accents, ligatures, case and punctuation dropped.
    (Not `names.fold`, which strips footnote digits a PDF glues to words: "ColBERTv2" and
    "colbertv2" must stay the same title.)"""
    if not text:
        return ""
    if text.isascii():  # the same result: NFKD and combining marks leave ASCII alone; SPECIAL maps only "`"
        return _NON_ALNUM.sub("", text.lower())
    text = unicodedata.normalize("NFKD", text.translate(SPECIAL))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _NON_ALNUM.sub("", text)


def title_key(title: str | None) -> str:
    """A title compared across sources: accents, case, punctuation and spacing ignored."""
    return plain(title)


def paper_identity(title: str | None, authors) -> str | None:
    """What makes two records of one source the same paper: the same title and author list
    (accents, case and punctuation ignored). None when the title is empty."""
    key = title_key(title)
    if not key:
        return None
    return key + "|" + "|".join(plain(a) for a in (list(authors) if authors is not None else []))


def merge_repeats(pk, source: str, papers: list, kept: dict[str, Any] | None = None) -> tuple[list, list]:
    """One paper for records a source lists twice under different ids (NeurIPS 2017's list
    carries three): the first is kept, with what the others add where it has nothing (abstract,
    PDF link, affiliations, domains); each repeat becomes a warning naming both ids.

    A source read in batches passes the same `kept` for every batch, with the papers already
    written replaced by their ids (`forget_papers`): a repeat of one of those is dropped with
    the same warning, as there is nothing left to merge it into."""
    from ..models import IngestError

    kept = {} if kept is None else kept
    out, errors = [], []
    for paper in papers:
        key = paper_identity(paper.title, paper.authors) if paper.authors else None
        first = kept.get(key) if key else None
        if first is None:
            if key:
                kept[key] = paper
            out.append(paper)
            continue
        if isinstance(first, str):
            errors.append(IngestError(pk.key, "raw_papers", f"paper {paper.paper_id}",
                                      f"[{source}] lists this paper twice (as {first} and {paper.paper_id}, same "
                                      f"title and authors); {paper.paper_id} was dropped", "warning"))
            continue
        for name in ("abstract", "pdf_url", "pdf_path", "track"):
            if not getattr(first, name) and getattr(paper, name):
                setattr(first, name, getattr(paper, name))
        if not any(first.affiliations) and any(paper.affiliations):
            first.affiliations, first.aligned = paper.affiliations, paper.aligned
            first.unaligned_affiliations = paper.unaligned_affiliations
        if not any(first.email_domains) and any(paper.email_domains):
            first.email_domains = paper.email_domains
        errors.append(IngestError(pk.key, "raw_papers", f"paper {paper.paper_id}",
                                  f"[{source}] lists this paper twice (as {first.paper_id} and {paper.paper_id}, "
                                  f"same title and authors); merged into {first.paper_id}", "warning"))
    return out, errors


def forget_papers(kept: dict[str, Any]) -> None:
    """`kept` of `merge_repeats` with each paper replaced by its id, once its batch is written."""
    for key, first in kept.items():
        if not isinstance(first, str):
            kept[key] = first.paper_id


def surname_key(name: str | None) -> str:
    """The family name of an author as printed "First Last" or "Last, First"."""
    text = (name or "").strip()
    if "," in text:
        text = text.split(",", 1)[0]
    else:
        parts = text.split()
        text = parts[-1] if parts else ""
    return plain(text)


def display_name(name: str | None) -> str:
    """ "Last, First" (proceedings' citation meta tags) as "First Last"; other names as given."""
    text = " ".join((name or "").split())
    if text.count(",") == 1:
        last, first = (part.strip() for part in text.split(","))
        if first and last:
            return f"{first} {last}"
    return text


def value(content: dict, name: str):
    """An OpenReview API v2 field: `{"value": ...}` (older notes hold the bare value)."""
    item = content.get(name) if isinstance(content, dict) else None
    if isinstance(item, dict):
        return item.get("value")
    return item
