"""OpenAlex works (`https://api.openalex.org/works`): journals and topics, not only conferences.

A venue-year is a filter plus its publication year, e.g. Nature Machine Intelligence
(`primary_location.source.id:S2912241403`) or a topic (`topics.id:T10320`), with
`publication_year:{year}` added, or, for a venue whose plan sets `dates: "MM-DD..MM-DD"`, that
window of the year (`from_publication_date:{year}-MM-DD,to_publication_date:{year}-MM-DD`).
Pages are read with cursor paging (`cursor=*`, then `meta.next_cursor`), 200 works a page, one
page at a time (`iter_pages`); the works read must add up to `meta.count`. The API is
`PAPERATLAS_OPENALEX_BASE` (a mirror or a self-hosted copy), default https://api.openalex.org.

Each authorship gives the author's name and `raw_affiliation_strings`, the text printed on
the paper: those are what paperatlas resolves. OpenAlex's own institutions and their
`country_code` are kept per author only as a comparison column (`reference_*`), never counted.
The API key (`PAPERATLAS_OPENALEX_API_KEY`) is sent as `api_key` and never stored or shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..http import HttpClient
from ..models import IngestError, Paper, author_block, utcnow
from ..partitions import PartitionKey
from .base import STAGE, Digest, ParseResult, SourceConfig, SourceError, fetch_json, shaped

if TYPE_CHECKING:
    from .plan import DateWindow

SOURCE = "openalex"
DEFAULT_API = "https://api.openalex.org"
PER_PAGE = 200
MAX_PAGES = 500  # 100,000 works: a filter that broad is a mistake, not a venue
SELECT = ("id,doi,display_name,publication_year,type,authorships,abstract_inverted_index,"
          "primary_location,best_oa_location")
# An OpenAlex API that cannot be reached: the setting that points elsewhere.
OFFLINE_HINT = ("set PAPERATLAS_OPENALEX_BASE to an OpenAlex mirror or self-hosted API you can reach "
                f"(default {DEFAULT_API}), or read the venue from another source in the sources plan")


def year_filter(base: str, pk: PartitionKey, dates: DateWindow | None = None) -> str:
    """The venue's filter for one year: `publication_year:Y`, or with a date window
    `from_publication_date:Y-MM-DD,to_publication_date:Y-MM-DD`."""
    base = base.format(venue=pk.venue, year=pk.year).strip().strip(",")
    if not base:
        raise SourceError(f"{pk}: the OpenAlex filter for venue {pk.venue!r} is empty")
    if dates is None:
        return f"{base},publication_year:{pk.year}"
    start, end = dates
    return f"{base},from_publication_date:{pk.year}-{start},to_publication_date:{pk.year}-{end}"


def page_url(api: str, flt: str, cursor: str, per_page: int = PER_PAGE) -> str:
    return (f"{api.rstrip('/')}/works?filter={quote(flt, safe=':,|')}&per-page={per_page}"
            f"&select={SELECT}&cursor={quote(cursor, safe='*')}")


def abstract_text(index) -> str | None:
    """The abstract from OpenAlex's inverted index {word: [positions]}."""
    if not isinstance(index, dict) or not index:
        return None
    slots: dict[int, str] = {}
    for word, positions in index.items():
        for position in positions if isinstance(positions, list) else []:
            if isinstance(position, int):
                slots[position] = word
    return " ".join(slots[i] for i in sorted(slots)) or None


def iter_pages(http: HttpClient, pk: PartitionKey, flt: str, api: str = DEFAULT_API,
               secret_params: dict | None = None, refresh: bool = False, digest: Digest | None = None,
               progress: Callable[[str], None] | None = None) -> Iterator[list]:
    """Each page's `results` for the filter `flt`, in order (cursor paging). After the last page
    the works read must add up to `meta.count` and be at least one, else SourceError; more than
    MAX_PAGES pages is a SourceError too. Pages come through `fetch_json` (retries, cache)."""
    declared = None
    read_so_far = 0
    cursor = "*"
    for _ in range(MAX_PAGES):
        data = fetch_json(http, page_url(api, flt, cursor), f"{pk} (OpenAlex works)", refresh, digest,
                          check=shaped("an OpenAlex list answer", meta=dict, results=list),
                          offline_hint=OFFLINE_HINT, secret_params=secret_params)
        if declared is None:
            declared = data["meta"].get("count")
        read_so_far += len(data["results"])
        if progress:
            progress(f"{pk}: {read_so_far}/{declared} OpenAlex works")
        yield data["results"]
        cursor = data["meta"].get("next_cursor")
        if not cursor or not data["results"]:
            break
    else:
        raise SourceError(f"{pk}: OpenAlex declares {declared} works for {flt!r}, more than one read takes "
                          f"({MAX_PAGES} pages, {read_so_far} works read); narrow the filter")
    if isinstance(declared, int) and declared != read_so_far:
        raise SourceError(f"{pk}: OpenAlex declares {declared} works for {flt!r} but {read_so_far} were read; "
                          "nothing was stored (retry with refresh)")
    if not read_so_far:
        raise SourceError(f"{pk}: OpenAlex has no works for {flt!r}")


def read(http: HttpClient, pk: PartitionKey, base_filter: str, api: str = DEFAULT_API,
         secret_params: dict | None = None, refresh: bool = False,
         progress: Callable[[str], None] | None = None, dates: DateWindow | None = None) -> ParseResult:
    digest = Digest()
    pages = iter_pages(http, pk, year_filter(base_filter, pk, dates), api, secret_params, refresh, digest, progress)
    return digest.fill(parse_works(chain.from_iterable(pages), pk, api))


def parse_works(works: Iterable, pk: PartitionKey, api: str = DEFAULT_API) -> ParseResult:
    """Papers from OpenAlex works, read as they come (a list, or the pages of `iter_pages`)."""
    result = ParseResult(source=SOURCE)
    fetched_at = utcnow()
    seen: set[str] = set()
    for index, work in enumerate(works):
        result.records = index + 1
        if not isinstance(work, dict):
            result.errors.append(IngestError(pk.key, STAGE, f"work #{index}", f"is a JSON {type(work).__name__}"))
            continue
        work_id = str(work.get("id") or "").rsplit("/", 1)[-1] or f"#{index}"
        item = f"work {work_id}"
        if work_id in seen:
            result.errors.append(IngestError(pk.key, STAGE, item, "listed twice; the first was kept", "warning"))
            continue
        title = " ".join(str(work.get("display_name") or work.get("title") or "").split())
        if not title:
            result.errors.append(IngestError(pk.key, STAGE, item, "has no title"))
            continue
        authorships = work.get("authorships") or []
        if not isinstance(authorships, list):
            result.errors.append(IngestError(pk.key, STAGE, item, "'authorships' is not a list"))
            continue
        ref = str(work.get("id") or f"{api}/works/{work_id}")
        names, affiliations, blocks = [], [], []
        for authorship in authorships:
            if not isinstance(authorship, dict):
                continue
            author = authorship.get("author") if isinstance(authorship.get("author"), dict) else {}
            name = " ".join(str(author.get("display_name") or authorship.get("raw_author_name") or "").split())
            raw = [" ".join(str(s).split()) for s in authorship.get("raw_affiliation_strings") or [] if s]
            raw = list(dict.fromkeys(s for s in raw if s))
            institutions = [i for i in authorship.get("institutions") or [] if isinstance(i, dict)]
            countries = [c for c in authorship.get("countries") or [] if c] or \
                [i.get("country_code") for i in institutions if i.get("country_code")]
            names.append(name)
            affiliations.append(raw)
            blocks.append([author_block(SOURCE, ref, name, raw, None,
                                        [str(i.get("display_name")) for i in institutions if i.get("display_name")],
                                        list(dict.fromkeys(countries)))])
        location = work.get("best_oa_location") if isinstance(work.get("best_oa_location"), dict) else {}
        primary = work.get("primary_location") if isinstance(work.get("primary_location"), dict) else {}
        seen.add(work_id)
        result.papers.append(Paper(
            partition_key=pk.key, paper_id=work_id, venue=pk.venue, year=pk.year, title=title,
            abstract=abstract_text(work.get("abstract_inverted_index")), authors=names,
            affiliations=affiliations, email_domains=[None] * len(names),
            pdf_url=location.get("pdf_url") or primary.get("pdf_url"), status=work.get("type"),
            track=((primary.get("source") or {}).get("display_name") if isinstance(primary.get("source"), dict) else None),
            source=SOURCE, source_ref=ref, fetched_at=fetched_at, author_sources=blocks,
        ))
    return result


def available(http: HttpClient, pk: PartitionKey, base_filter: str, api: str = DEFAULT_API,
              secret_params: dict | None = None, dates: DateWindow | None = None) -> bool:
    url = f"{api.rstrip('/')}/works?filter={quote(year_filter(base_filter, pk, dates), safe=':,|')}&per-page=1"
    response = http.get(url, params=secret_params)
    if response.status_code != 200:
        return False
    try:
        return bool((response.json().get("meta") or {}).get("count"))
    except (ValueError, AttributeError):
        return False


class OpenAlex:
    """OpenAlex works selected by a filter (a journal, a topic) and the year (or a window of it).
    The API (`location`: PAPERATLAS_OPENALEX_BASE), an API key and a contact e-mail come from the
    settings (PAPERATLAS_OPENALEX_*)."""

    name = SOURCE
    rate = 5.0  # OpenAlex allows 10 per second

    def __init__(self, config: SourceConfig):
        self.config = config
        self.api = (config.location or DEFAULT_API).rstrip("/")

    def secret_params(self) -> dict[str, str]:
        params = {"api_key": self.config.secret("openalex_api_key"), "mailto": self.config.secret("openalex_email")}
        return {k: v for k, v in params.items() if v}

    def papers(self, pk: PartitionKey, venue, refresh: bool = False, progress=None) -> ParseResult:
        if not venue.openalex:
            raise SourceError(f"{pk}: no OpenAlex filter is configured for venue {pk.venue!r}")
        return read(self.config.client(self.rate), pk, venue.openalex, self.api, self.secret_params(), refresh, progress,
                    venue.dates)

    def available(self, pk: PartitionKey, venue) -> bool:
        return bool(venue.openalex) and available(self.config.client(self.rate), pk, venue.openalex, self.api,
                                                  self.secret_params(), venue.dates)

    def where(self, pk: PartitionKey, venue) -> str:
        if not venue.openalex:
            return "(no filter)"
        return f"{self.api}/works?filter={year_filter(venue.openalex, pk, venue.dates)}"
