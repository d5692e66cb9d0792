"""The NeurIPS proceedings: `https://papers.nips.cc/paper_files/paper/{year}`.

The year's listing links every paper's abstract page
(`/paper_files/paper/{year}/hash/{hash}-Abstract-{Track}.html`; before 2022 without the
track). An abstract page gives the title, the authors and the PDF in `citation_*` meta tags,
the PDF also as a link (`/paper_files/paper/{year}/file/{hash}-Paper-{Conference|
Datasets_and_Benchmarks_Track}.pdf`), and the abstract under its heading. The proceedings
name no affiliations: their papers' countries come from page 1 of the PDF, or from another
source merged with this one.

HTML is parsed with BeautifulSoup. A listing with no abstract links, or abstract pages of which
more than half can't be read, fail the venue-year with an error naming the page: a changed
layout must never look like a year with no papers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

from bs4 import BeautifulSoup

from ..http import HttpClient
from ..http_links import same_origin
from ..models import IngestError, Paper, author_block, utcnow
from ..partitions import PartitionKey
from .base import STAGE, Digest, ParseResult, SourceConfig, SourceError, display_name, fetch_text

SOURCE = "proceedings"
DEFAULT_URL = "https://papers.nips.cc/paper_files/paper/{year}"
ABSTRACT_LINK = re.compile(r"/hash/(?P<hash>[0-9a-f]{16,64})-Abstract(?:-(?P<track>[A-Za-z_]+))?\.html$")
PDF_LINK = re.compile(r"/file/[0-9a-f]{16,64}-Paper(?:-[A-Za-z_]+)?\.pdf$")
MAX_UNREADABLE = 0.5  # share of abstract pages that may fail before the layout is called broken


def listing_url(template: str | None, pk: PartitionKey) -> str:
    return (template or DEFAULT_URL).format(venue=pk.venue, year=pk.year)


def parse_listing(html: str, url: str) -> list[dict]:
    """[{url, hash, track, title, authors}] for every abstract page the listing links, in order."""
    soup = BeautifulSoup(html, "html.parser")
    entries, seen = [], set()
    for link in soup.find_all("a", href=True):
        match = ABSTRACT_LINK.search(link["href"])
        if not match or match["hash"] in seen:
            continue
        seen.add(match["hash"])
        holder = link.find_parent("li") or link.parent
        authors_tag = (holder.find(class_="paper-authors") or holder.find("i")) if holder else None
        authors = [a.strip() for a in authors_tag.get_text(" ").split(",")] if authors_tag else []
        entries.append({
            "url": urljoin(url, link["href"]), "hash": match["hash"], "track": match["track"],
            "title": " ".join(link.get_text(" ").split()) or link.get("title"), "authors": [a for a in authors if a],
        })
    return entries


def parse_abstract_page(html: str, url: str) -> dict:
    """{title, authors, pdf_url, abstract} from an abstract page; ValueError naming what is missing."""
    soup = BeautifulSoup(html, "html.parser")

    def meta(name: str) -> list[str]:
        return [" ".join(t["content"].split()) for t in soup.find_all("meta", attrs={"name": name}) if t.get("content")]

    titles = meta("citation_title")
    title = titles[0] if titles else None
    if not title:
        heading = soup.find("h4")
        title = " ".join(heading.get_text(" ").split()) if heading else None
    pdfs = meta("citation_pdf_url")
    pdf = pdfs[0] if pdfs else None
    if not pdf:
        link = soup.find("a", href=PDF_LINK)
        pdf = urljoin(url, link["href"]) if link else None
    abstract = None
    for heading in soup.find_all(["h4", "h3", "h2"]):
        if heading.get_text(strip=True).lower() == "abstract":
            paragraphs = []
            for sibling in heading.find_next_siblings():
                if sibling.name in ("h2", "h3", "h4"):
                    break
                text = " ".join(sibling.get_text(" ").split())
                if text:
                    paragraphs.append(text)
            abstract = " ".join(paragraphs) or None
            break
    missing = [what for what, got in (("title", title), ("PDF link", pdf)) if not got]
    if missing:
        raise ValueError(f"no {' and no '.join(missing)} (citation_title / citation_pdf_url meta tags, "
                         "or an <a> to …-Paper….pdf)")
    return {"title": title, "authors": [display_name(a) for a in meta("citation_author")], "pdf_url": pdf,
            "abstract": abstract}


def read(http: HttpClient, pk: PartitionKey, template: str | None = None, refresh: bool = False,
         concurrency: int = 4, progress: Callable[[str], None] | None = None) -> ParseResult:
    url = listing_url(template, pk)
    digest = Digest()

    def listing(html: str) -> list[dict]:
        entries = parse_listing(html, url)
        if not entries:
            raise ValueError("the listing links no abstract pages (no <a> to …/hash/<hash>-Abstract….html); "
                             "the page's layout has changed or the year is not published. Nothing was stored")
        return entries

    entries = fetch_text(http, url, f"{pk} (proceedings listing)", refresh=refresh, digest=digest, parse=listing)
    result = ParseResult(records=len(entries), source=SOURCE)
    fetched_at = utcnow()

    def one(entry: dict):
        page_digest = Digest()  # one per page: the pages are read in parallel, added in listing order
        try:
            # The listing's links are data: one that leaves the listing's host reaches only public addresses.
            page = fetch_text(http, entry["url"], f"{pk} (abstract page)", refresh=refresh, digest=page_digest,
                              parse=lambda html: parse_abstract_page(html, entry["url"]),
                              data_link=not same_origin(entry["url"], url))
            return entry, page, None, page_digest
        except (SourceError, ValueError) as exc:
            return entry, None, str(exc), page_digest

    unreadable: list[tuple[str, str]] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for done, (entry, page, problem, page_digest) in enumerate(pool.map(one, entries), start=1):
            if progress and (done % 250 == 0 or done == len(entries)):
                progress(f"{pk}: {done}/{len(entries)} abstract pages read")
            if page is None:
                unreadable.append((entry["url"], problem))
                result.errors.append(IngestError(pk.key, STAGE, f"abstract page {entry['url']}", problem))
                continue
            digest.merge(page_digest)
            authors = page["authors"] or entry["authors"]
            result.papers.append(Paper(
                partition_key=pk.key, paper_id=entry["hash"], venue=pk.venue, year=pk.year, title=page["title"],
                abstract=page["abstract"], authors=authors, affiliations=[[] for _ in authors],
                email_domains=[None] * len(authors), pdf_url=page["pdf_url"], track=entry["track"],
                source=SOURCE, source_ref=entry["url"], fetched_at=fetched_at,
                author_sources=[[author_block(SOURCE, entry["url"], name)] for name in authors],
            ))
    if len(unreadable) > MAX_UNREADABLE * len(entries):
        first_url, first_problem = unreadable[0]
        raise SourceError(
            f"{pk}: {len(unreadable)} of {len(entries)} proceedings abstract pages could not be read, e.g. "
            f"{first_url}: {first_problem}. The pages' layout has changed or the site is failing; nothing was stored."
        )
    return digest.fill(result)


def available(http: HttpClient, pk: PartitionKey, template: str | None = None) -> bool:
    url = listing_url(template, pk)
    response = http.get(url)
    return response.status_code == 200 and bool(parse_listing(response.text, url))


class Proceedings:
    """The NeurIPS proceedings site: the year's listing, then each abstract page."""

    name = SOURCE
    rate = 2.0
    concurrency = 4  # abstract pages read at once (the rate still applies)

    def __init__(self, config: SourceConfig):
        self.config = config

    def papers(self, pk: PartitionKey, venue, refresh: bool = False, progress=None) -> ParseResult:
        return read(self.config.client(self.rate), pk, venue.proceedings, refresh=refresh,
                    concurrency=self.concurrency, progress=progress)

    def available(self, pk: PartitionKey, venue) -> bool:
        return available(self.config.client(self.rate), pk, venue.proceedings)

    def where(self, pk: PartitionKey, venue) -> str:
        return listing_url(venue.proceedings, pk)
