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

import calendar
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, islice
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
# A runaway guard, not a limit on scopes: a venue-year larger than PAPERATLAS_OPENALEX_SPLIT is
# split into sub-partitions (`parts`) long before one read comes near it.
MAX_PAGES = 10_000
BATCH = 5_000  # works parsed and staged at a time (`stream`)
# Seconds between "n/N OpenAlex works" lines: each is an event in the Dagster log, and a line
# per page (80 for a month of 16,000 works) cost more than the progress it shows.
PROGRESS_EVERY = 2.0
# A month still above the split size is split by its works' primary subfield.
SPLIT_FIELD = "primary_topic.subfield.id"
NO_SUBFIELD = "0"  # the sub-partition of works without a primary topic
# Subfields of a month read together, at most: an OR list in one filter (OpenAlex takes up to
# 100 values) and a partition key of readable length.
MAX_PACKED = 30
SELECT = ("id,doi,display_name,publication_year,type,authorships,abstract_inverted_index,"
          "primary_location,best_oa_location")
# An OpenAlex API that cannot be reached: the setting that points elsewhere.
OFFLINE_HINT = ("set PAPERATLAS_OPENALEX_BASE to an OpenAlex mirror or self-hosted API you can reach "
                f"(default {DEFAULT_API}), or read the venue from another source in the sources plan")


def year_filter(base: str, pk: PartitionKey, dates: DateWindow | None = None) -> str:
    """The venue's filter for one year: `publication_year:Y`, or with a date window
    `from_publication_date:Y-MM-DD,to_publication_date:Y-MM-DD`. A sub-partition narrows it to
    its month (within the window), or its days of the month, and, when it has one, its subfield
    (`primary_topic.subfield.id:1702`; `:null` for works without a primary topic)."""
    base = base.format(venue=pk.venue, year=pk.year).strip().strip(",")
    if not base:
        raise SourceError(f"{pk}: the OpenAlex filter for venue {pk.venue!r} is empty")
    if pk.month:
        window = month_window(pk, dates)
        if window is None:
            raise SourceError(f"{pk}: month {pk.month} is outside the venue's dates ({'..'.join(dates or ())})")
        dates = window
    if dates is None:
        flt = f"{base},publication_year:{pk.year}"
    else:
        start, end = dates
        flt = f"{base},from_publication_date:{pk.year}-{start},to_publication_date:{pk.year}-{end}"
    if pk.subfield:
        flt += f",{SPLIT_FIELD}:{'|'.join('null' if s == NO_SUBFIELD else s for s in pk.subfields)}"
    return flt


def month_window(pk: PartitionKey, dates: DateWindow | None = None) -> DateWindow | None:
    """The days of `pk`'s month (or of its window of days) as ("MM-DD", "MM-DD"), cut to the
    venue's window; None when they lie outside it."""
    first, last = pk.days or (1, calendar.monthrange(pk.year, pk.month)[1])
    start, end = f"{pk.month:02d}-{first:02d}", f"{pk.month:02d}-{last:02d}"
    if dates is not None:
        start, end = max(start, dates[0]), min(end, dates[1])
    return (start, end) if start <= end else None


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
               progress: Callable[[str], None] | None = None, split: int = 0) -> Iterator[list]:
    """Each page's `results` for the filter `flt`, in order (cursor paging). After the last page
    the works read must add up to `meta.count` and be at least one, else SourceError; more than
    MAX_PAGES pages is a SourceError too. Pages come through `fetch_json` (retries, cache).
    With `split`, a venue-year (not a sub-partition) declaring more works than that is refused
    after its first page: `paperatlas run` reads it as sub-partitions."""
    def page(cursor: str):
        return fetch_json(http, page_url(api, flt, cursor), f"{pk} (OpenAlex works)", refresh, digest,
                          check=shaped("an OpenAlex list answer", meta=dict, results=list),
                          offline_hint=OFFLINE_HINT, secret_params=secret_params)

    # The next page is asked for (in a thread of its own) as soon as this one's cursor is known,
    # so the wait for the server overlaps with the caller's work on this page. One page at a time
    # is in flight, in order: the digest, the rate limit and the cache see the pages as before.
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"openalex-{pk}")
    try:
        yield from _pages(ahead, page, pk, flt, split, progress)
    finally:
        ahead.shutdown(wait=False, cancel_futures=True)  # a page in flight when the reader stops is left


def _pages(ahead: ThreadPoolExecutor, page: Callable[[str], dict], pk: PartitionKey, flt: str, split: int,
           progress: Callable[[str], None] | None) -> Iterator[list]:
    declared = None
    read_so_far = 0
    coming = ahead.submit(page, "*")
    shown, unshown = time.monotonic(), None  # the last progress line's time; a line not shown yet
    for n in range(1, MAX_PAGES + 1):
        data = coming.result()
        if declared is None:
            declared = data["meta"].get("count")
            if split and not pk.is_part and isinstance(declared, int) and declared > split:
                raise SourceError(f"{pk}: OpenAlex holds {declared} works for it, more than one step reads "
                                  f"(PAPERATLAS_OPENALEX_SPLIT={split}); `paperatlas run {pk}` reads it as "
                                  "sub-partitions by month")
        read_so_far += len(data["results"])
        if progress:
            unshown = f"{pk}: {read_so_far}/{declared} OpenAlex works"
            if time.monotonic() - shown >= PROGRESS_EVERY:
                progress(unshown)
                shown, unshown = time.monotonic(), None
        cursor = data["meta"].get("next_cursor")
        last = not cursor or not data["results"]
        if not last and n < MAX_PAGES:
            coming = ahead.submit(page, cursor)
        yield data["results"]
        if last:
            break
    else:
        raise SourceError(f"{pk}: OpenAlex declares {declared} works for {flt!r}, more than one read takes "
                          f"({MAX_PAGES} pages, {read_so_far} works read); narrow the filter")
    if unshown:
        progress(unshown)  # the last count is always shown
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


def stream(http: HttpClient, pk: PartitionKey, base_filter: str, api: str = DEFAULT_API,
           secret_params: dict | None = None, refresh: bool = False,
           progress: Callable[[str], None] | None = None, dates: DateWindow | None = None,
           batch: int | None = None, split: int = 0) -> Streamed:
    """The works of the venue-year as batches of papers, read page by page: memory holds one
    page and one batch, never the scope. Totals, errors and the digest are in `.result`,
    complete once the batches are exhausted."""
    digest = Digest()
    pages = iter_pages(http, pk, year_filter(base_filter, pk, dates), api, secret_params, refresh, digest, progress,
                       split)
    return Streamed(WorkParser(pk, api), chain.from_iterable(pages), digest, batch or BATCH)


class WorkParser:
    """Papers from OpenAlex works, fed in any number of pieces; `result` gathers the count of
    records and the errors over all of them (a work listed twice is caught across pieces)."""

    def __init__(self, pk: PartitionKey, api: str = DEFAULT_API):
        self.pk, self.api = pk, api
        self.result = ParseResult(source=SOURCE)
        self.fetched_at = utcnow()
        self.seen: set[str] = set()

    def parse(self, works: Iterable) -> list[Paper]:
        papers = []
        for work in works:
            index = self.result.records
            self.result.records += 1
            paper = self.paper(work, index)
            if paper is not None:
                papers.append(paper)
        return papers

    def error(self, item: str, reason: str, severity: str = "error") -> None:
        self.result.errors.append(IngestError(self.pk.key, STAGE, item, reason, severity))

    def paper(self, work, index: int) -> Paper | None:
        pk = self.pk
        if not isinstance(work, dict):
            return self.error(f"work #{index}", f"is a JSON {type(work).__name__}")
        work_id = str(work.get("id") or "").rsplit("/", 1)[-1] or f"#{index}"
        item = f"work {work_id}"
        if work_id in self.seen:
            return self.error(item, "listed twice; the first was kept", "warning")
        title = " ".join(str(work.get("display_name") or work.get("title") or "").split())
        if not title:
            return self.error(item, "has no title")
        authorships = work.get("authorships") or []
        if not isinstance(authorships, list):
            return self.error(item, "'authorships' is not a list")
        ref = str(work.get("id") or f"{self.api}/works/{work_id}")
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
        self.seen.add(work_id)
        return Paper(
            partition_key=pk.key, paper_id=work_id, venue=pk.venue, year=pk.year, title=title,
            abstract=abstract_text(work.get("abstract_inverted_index")), authors=names,
            affiliations=affiliations, email_domains=[None] * len(names),
            pdf_url=location.get("pdf_url") or primary.get("pdf_url"), status=work.get("type"),
            track=((primary.get("source") or {}).get("display_name") if isinstance(primary.get("source"), dict) else None),
            source=SOURCE, source_ref=ref, fetched_at=self.fetched_at, author_sources=blocks,
        )


def parse_works(works: Iterable, pk: PartitionKey, api: str = DEFAULT_API) -> ParseResult:
    """Papers from OpenAlex works, read as they come (a list, or the pages of `iter_pages`)."""
    parser = WorkParser(pk, api)
    parser.result.papers = parser.parse(works)
    return parser.result


class Streamed:
    """A source read in batches of papers (`for papers in streamed`); `result` holds the records,
    errors and digest of everything read, complete once the batches are exhausted."""

    def __init__(self, parser: WorkParser, works: Iterator, digest: Digest, batch: int = BATCH):
        self.parser, self.works, self.digest, self.batch = parser, works, digest, batch

    @property
    def result(self) -> ParseResult:
        return self.digest.fill(self.parser.result)

    def __iter__(self) -> Iterator[list[Paper]]:
        while chunk := list(islice(self.works, self.batch)):
            papers = self.parser.parse(chunk)
            if papers:
                yield papers


def count(http: HttpClient, flt: str, api: str = DEFAULT_API, secret_params: dict | None = None,
          group_by: str | None = None):
    """OpenAlex's `meta.count` for the filter (one request, one work), or with `group_by` the
    count of each group ({key: count}, works without the field under "unknown")."""
    url = f"{api.rstrip('/')}/works?filter={quote(flt, safe=':,|')}&per-page=1"
    if group_by:
        url += f"&group_by={group_by}:include_unknown"
    data = fetch_json(http, url, f"OpenAlex count of {flt!r}", refresh=True,
                      check=shaped("an OpenAlex list answer", meta=dict), offline_hint=OFFLINE_HINT,
                      secret_params=secret_params)
    if not group_by:
        declared = data["meta"].get("count")
        if not isinstance(declared, int):
            raise SourceError(f"OpenAlex gave no count for {flt!r}")
        return declared
    groups = data.get("group_by")
    if not isinstance(groups, list):
        raise SourceError(f"OpenAlex gave no groups of {group_by} for {flt!r}")
    return {str(g.get("key") or "unknown").rsplit("/", 1)[-1]: int(g.get("count") or 0)
            for g in groups if isinstance(g, dict)}


def parts(http: HttpClient, pk: PartitionKey, base_filter: str, limit: int, api: str = DEFAULT_API,
          secret_params: dict | None = None, dates: DateWindow | None = None) -> list[tuple[PartitionKey, int]]:
    """The partitions that read the venue-year, each with its count of works: the year itself
    when it holds at most `limit` works; else one per publication month, a month above `limit`
    one per primary subfield (works without one in `-s0`), and a subfield above it windows of
    days (`day_windows`). The parts' counts must add up to the year's, else SourceError: a split
    that loses works would go unnoticed."""
    total = count(http, year_filter(base_filter, pk, dates), api, secret_params)
    if total <= limit or pk.subfield:
        return [(pk, total)]
    out: list[tuple[PartitionKey, int]] = []
    for month in [pk.month] if pk.month else range(1, 13):
        part = pk.part(month)
        if month_window(part, dates) is None:
            continue
        flt = year_filter(base_filter, part, dates)
        works = count(http, flt, api, secret_params)
        if works <= limit:
            out += [(part, works)] if works else []
            continue
        groups = count(http, flt, api, secret_params, group_by=SPLIT_FIELD)
        subfields = [(pk.part(month, NO_SUBFIELD if key == "unknown" else str(int(key))), n)
                     for key, n in groups.items() if n and (key == "unknown" or key.isdigit())]
        if sum(n for _, n in subfields) != works:
            raise SourceError(f"{part}: OpenAlex counts {works} works but its subfields add up to "
                              f"{sum(n for _, n in subfields)}; the month cannot be split without losing works")
        for sub, n in packed(subfields, limit):
            out += day_windows(sub, n, limit, lambda window: count(http, year_filter(base_filter, window, dates), api,
                                                                   secret_params), dates)
    if sum(n for _, n in out) != total:
        raise SourceError(f"{pk}: OpenAlex counts {total} works but its months add up to {sum(n for _, n in out)} "
                          "(works without a publication date in the year?); narrow the filter or raise "
                          "PAPERATLAS_OPENALEX_SPLIT")
    return out


def packed(subfields: list[tuple[PartitionKey, int]], limit: int) -> list[tuple[PartitionKey, int]]:
    """A month's subfields (each a key with its count of works) with the small ones read
    together: each subfield of at most `limit` works goes into the first group it fits
    (largest first), a group holding at most `limit` works and MAX_PACKED subfields, so that a
    month of one large subfield and many small ones is not as many runs, each with a run's
    fixed cost. Works without a primary topic (`-s0`) and subfields above `limit` stay alone
    (the latter are then read in windows of days). In key order."""
    alone, small = [], []
    for pk, n in subfields:
        (alone if n > limit or pk.subfield == NO_SUBFIELD else small).append((pk, n))
    groups: list[list[tuple[PartitionKey, int]]] = []
    for pk, n in sorted(small, key=lambda i: (-i[1], int(i[0].subfield))):
        group = next((g for g in groups if sum(m for _, m in g) + n <= limit and len(g) < MAX_PACKED), None)
        if group is None:
            groups.append(group := [])
        group.append((pk, n))
    for group in groups:
        first = group[0][0]
        ids = sorted((p.subfield for p, _ in group), key=int)
        alone.append((first.part(first.month, "_".join(ids)), sum(n for _, n in group)))
    return sorted(alone, key=lambda item: item[0].key)


def day_windows(pk: PartitionKey, works: int, limit: int, count_of: Callable[[PartitionKey], int],
                dates: DateWindow | None = None) -> list[tuple[PartitionKey, int]]:
    """A month's subfield above `limit` (`pk`, with `works` works) as windows of publication days
    (`-d01-15`), halved until each holds at most `limit` works or is one day; `count_of` counts
    a window (one request to the API, one query of the snapshot's index). A single day above
    `limit` stays one part (OpenAlex dates a work it knows only the year of as January 1st). The
    halves must add up to their window, else SourceError."""
    first, last = pk.days or (1, calendar.monthrange(pk.year, pk.month)[1])
    if works <= limit or first == last:
        return [(pk, works)] if works else []
    middle = (first + last) // 2
    halves = [pk.part(pk.month, pk.subfield, (first, middle)), pk.part(pk.month, pk.subfield, (middle + 1, last))]
    counted = [(half, count_of(half) if month_window(half, dates) else 0) for half in halves]
    if sum(n for _, n in counted) != works:
        raise SourceError(f"{pk}: {works} works, but days {first}-{middle} and {middle + 1}-{last} add up to "
                          f"{sum(n for _, n in counted)}; it cannot be split without losing works")
    return [item for half, n in counted for item in day_windows(half, n, limit, count_of, dates)]


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

    def stream(self, pk: PartitionKey, venue, refresh: bool = False, progress=None) -> Streamed:
        if not venue.openalex:
            raise SourceError(f"{pk}: no OpenAlex filter is configured for venue {pk.venue!r}")
        return stream(self.config.client(self.rate), pk, venue.openalex, self.api, self.secret_params(), refresh,
                      progress, venue.dates, split=self.config.split)

    def parts(self, pk: PartitionKey, venue, limit: int) -> list[tuple[PartitionKey, int]]:
        if not venue.openalex:
            raise SourceError(f"{pk}: no OpenAlex filter is configured for venue {pk.venue!r}")
        return parts(self.config.client(self.rate), pk, venue.openalex, limit, self.api, self.secret_params(),
                     venue.dates)

    def available(self, pk: PartitionKey, venue) -> bool:
        return bool(venue.openalex) and available(self.config.client(self.rate), pk, venue.openalex, self.api,
                                                  self.secret_params(), venue.dates)

    def where(self, pk: PartitionKey, venue) -> str:
        if not venue.openalex:
            return "(no filter)"
        return f"{self.api}/works?filter={year_filter(venue.openalex, pk, venue.dates)}"
