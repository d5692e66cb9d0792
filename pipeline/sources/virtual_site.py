"""A conference's virtual site: `https://neurips.cc/static/virtual/data/neurips-{year}-orals-posters.json`.

NeurIPS, ICML and ICLR publish their programme as one JSON document per year:
`{"count": N, "results": [event, ...]}`, one event per poster, oral or spotlight. An event
holds `id`, `uid`, `name` (the title), `abstract`, `authors` [{`fullname`, `institution`, ...}],
`decision` ("Accept (poster)"), `eventtype` ("Poster", "Oral", ...), `sourceurl` (the
OpenReview group of the track, ".../Conference" or ".../Datasets_and_Benchmarks_Track"),
`paper_url`, `paper_pdf_url` and `eventmedia`.

A paper presented as an oral or a spotlight also has its poster: those events repeat the
paper and are dropped (matched by `uid`, else by title and first author). An oral without a
poster is kept.
`count` must equal the number of events read, else the download was cut short or the feed
changed, and the venue-year fails with that message.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from ..http import HttpClient
from ..models import IngestError, Paper, author_block, utcnow
from ..partitions import PartitionKey
from .base import STAGE, Digest, ParseResult, SourceConfig, SourceError, fetch_json, surname_key, title_key

SOURCE = "virtual_site"
DEFAULT_URL = "https://{venue}.cc/static/virtual/data/{venue}-{year}-orals-posters.json"
PAPER_EVENTS = re.compile(r"poster|oral|spotlight", re.IGNORECASE)
REJECTED = re.compile(r"reject|withdr", re.IGNORECASE)


def feed_url(template: str | None, pk: PartitionKey) -> str:
    return (template or DEFAULT_URL).format(venue=pk.venue, year=pk.year)


def track_of(sourceurl: str | None) -> str | None:
    """The track from the OpenReview group in `sourceurl`: its last segment ("Conference",
    "Datasets_and_Benchmarks_Track")."""
    if not sourceurl:
        return None
    try:
        parsed = urlparse(sourceurl)
    except ValueError:  # a malformed link ("http://[::1/x") names no track
        return None
    group = (parse_qs(parsed.query).get("id") or [parsed.path])[0]
    last = group.rstrip("/").rsplit("/", 1)[-1]
    return last or None


def authors_first(event: dict) -> str:
    authors = event.get("authors")
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        return str(authors[0].get("fullname") or authors[0].get("name") or "")
    return ""


def _is_poster(event: dict) -> bool:
    return "poster" in str(event.get("eventtype") or "").lower()


def check_feed(data) -> None:
    """Raise ValueError unless `data` is a whole orals-posters document: a `results` array
    holding as many events as its `count` declares (fewer: cut short or paginated)."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        kind = type(data).__name__ if not isinstance(data, dict) else "object without a 'results' array"
        raise ValueError(f"a JSON {kind}, expected {{'count', 'results': [...]}}")
    declared = data.get("count")
    if isinstance(declared, int) and declared != len(data["results"]):
        raise ValueError(f"declares count {declared} but holds {len(data['results'])} events; the download is "
                         "incomplete or the feed is paginated differently. Nothing was stored; retry with refresh")


def parse_feed(data, pk: PartitionKey, url: str) -> ParseResult:
    """Papers from a parsed orals-posters document (see the module docstring)."""
    try:
        check_feed(data)
    except ValueError as exc:
        raise SourceError(f"{pk}: {url} {exc}") from exc
    events = data["results"]
    result = ParseResult(records=len(events), source=SOURCE)
    fetched_at = utcnow()

    def err(item: str, reason: str, severity: str = "error") -> None:
        result.errors.append(IngestError(pk.key, STAGE, item, reason, severity))

    # Posters first, so an oral repeating a poster is recognised whatever the file order.
    ordered = sorted(
        (e for e in enumerate(events)), key=lambda pair: (not (isinstance(pair[1], dict) and _is_poster(pair[1])), pair[0])
    )
    seen_uid: dict[str, str] = {}
    seen_title: dict[tuple[str, str], str] = {}
    for index, event in ordered:
        if not isinstance(event, dict):
            err(f"event #{index}", f"is a JSON {type(event).__name__}, expected an object")
            continue
        event_id = str(event.get("id") or event.get("uid") or f"#{index}")
        item = f"event {event_id}"
        kind = str(event.get("eventtype") or event.get("event_type") or "")
        decision = str(event.get("decision") or "")
        if kind and not PAPER_EVENTS.search(kind):
            result.skipped_status[kind] = result.skipped_status.get(kind, 0) + 1
            continue
        if REJECTED.search(decision):
            result.skipped_status[decision] = result.skipped_status.get(decision, 0) + 1
            continue
        title = " ".join(str(event.get("name") or "").split())
        if not title:
            err(item, "has no title ('name')")
            continue
        uid = str(event.get("uid") or "")
        first_author = authors_first(event)
        key = (title_key(title), surname_key(first_author))
        first = seen_uid.get(uid) if uid else None
        first = first or seen_title.get(key)
        if first is not None:
            result.stats["repeated_presentations"] = result.stats.get("repeated_presentations", 0) + 1
            if _is_poster(event):
                err(item, f"poster repeats {first} (same uid, or same title and first author); the first was kept",
                    "warning")
            continue
        authors_raw = event.get("authors") or []
        if not isinstance(authors_raw, list) or not all(isinstance(a, dict) for a in authors_raw):
            err(item, f"'authors' is {type(authors_raw).__name__}, expected a list of objects")
            continue
        names, affiliations, blocks = [], [], []
        for author in authors_raw:
            name = " ".join(str(author.get("fullname") or author.get("name") or "").split())
            institution = " ".join(str(author.get("institution") or "").split())
            names.append(name)
            affiliations.append([institution] if institution else [])
            blocks.append([author_block(SOURCE, url, name, affiliations[-1])])
        if not names:
            err(item, "has no authors; kept in paper counts without countries", "warning")
        if uid:
            seen_uid[uid] = item
        seen_title[key] = item
        result.papers.append(Paper(
            partition_key=pk.key, paper_id=event_id, venue=pk.venue, year=pk.year, title=title,
            abstract=(str(event.get("abstract") or "").strip() or None), authors=names,
            affiliations=affiliations, email_domains=[None] * len(names),
            pdf_url=(str(event.get("paper_pdf_url") or "").strip() or None),
            status=decision or kind or None, track=track_of(event.get("sourceurl")),
            source=SOURCE, source_ref=url, fetched_at=fetched_at, author_sources=blocks,
        ))
    result.papers.sort(key=lambda p: _id_order(p.paper_id))
    return result


def _id_order(paper_id: str):
    return (0, int(paper_id), "") if paper_id.isdigit() else (1, 0, paper_id)


def read(http: HttpClient, pk: PartitionKey, template: str | None = None, refresh: bool = False) -> ParseResult:
    url = feed_url(template, pk)
    digest = Digest()
    data = fetch_json(http, url, f"{pk} (virtual site)", refresh=refresh, digest=digest, check=check_feed)
    return digest.fill(parse_feed(data, pk, url))


def available(http: HttpClient, pk: PartitionKey, template: str | None = None) -> bool:
    """Whether the feed of `pk` is out with at least one event (uncached: asked anew)."""
    response = http.get(feed_url(template, pk))
    if response.status_code != 200:
        return False
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict) and bool(data.get("results"))


class VirtualSite:
    """A conference virtual site's `…-orals-posters.json` (neurips.cc, icml.cc, iclr.cc)."""

    name = SOURCE
    rate = 2.0  # requests per second to one host, unless PAPERATLAS_SOURCE_RATE says otherwise

    def __init__(self, config: SourceConfig):
        self.config = config

    def papers(self, pk: PartitionKey, venue, refresh: bool = False, progress=None) -> ParseResult:
        return read(self.config.client(self.rate), pk, venue.virtual_site, refresh=refresh)

    def available(self, pk: PartitionKey, venue) -> bool:
        return available(self.config.client(self.rate), pk, venue.virtual_site)

    def where(self, pk: PartitionKey, venue) -> str:
        return feed_url(venue.virtual_site, pk)
