"""The NeurIPS virtual site, the proceedings, OpenReview and OpenAlex: parsing real-shaped
payloads, and each source's failure modes (429 and 5xx, timeouts, truncated or malformed
bodies, a changed page layout, a count that does not match). HTTP is mocked with `responses`."""

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
import responses
from responses import matchers
from source_payloads import (
    PAPERS,
    abstract_html,
    listing_html,
    openalex_work,
    openreview_note,
    openreview_profile,
    virtual_feed,
)

from paperatlas.pipeline.http import HttpClient, retry_delay
from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.sources import openalex, openreview, proceedings, virtual_site
from paperatlas.pipeline.sources.base import SourceError

PK = parse_partition_key("neurips-2024")
FEED = "https://neurips.cc/static/virtual/data/neurips-2024-orals-posters.json"
LISTING = "https://papers.nips.cc/paper_files/paper/2024"
API = "https://api2.openreview.net"
ALEX = "https://api.openalex.org"


@pytest.fixture
def http(tmp_path):
    return HttpClient(tmp_path / "cache", retries=2, backoff_initial=0.01, backoff_max=0.02)


# -- virtual site -------------------------------------------------------------------------------


@responses.activate
def test_virtual_site_keeps_posters_drops_repeated_orals_and_keeps_the_track(http):
    responses.add(responses.GET, FEED, json=virtual_feed())
    result = virtual_site.read(http, PK)
    titles = [p.title for p in result.papers]
    assert sorted(titles) == sorted([p["title"] for p in PAPERS] + ["An Oral Without Poster"])
    sparse = next(p for p in result.papers if p.title == "Sparse Attention at Scale")
    assert sparse.paper_id == "90000"  # the poster, not the oral listed before it
    assert sparse.authors == ["Wei Zhang", "Alice Smith"]
    assert sparse.affiliations == [["Tsinghua University"], ["Stanford University"]]
    assert sparse.pdf_url == "https://openreview.net/pdf?id=or0" and sparse.track == "Conference"
    bench = next(p for p in result.papers if p.title == "A Benchmark of Benchmarks")
    assert bench.track == "Datasets_and_Benchmarks_Track"
    assert result.stats["repeated_presentations"] == 2
    assert result.skipped_status == {"Invited Talk": 1, "Reject": 1}
    assert result.refs == [FEED] and len(result.sha256) == 64 and not result.from_cache
    # A re-run reads the cached bytes: no second request, same digest.
    again = virtual_site.read(http, PK)
    assert len(responses.calls) == 1 and again.sha256 == result.sha256 and again.from_cache
    assert result.fetched_at is not None and again.fetched_at == result.fetched_at  # the download's time, kept


@responses.activate
def test_virtual_site_count_mismatch_fails_with_both_numbers(http):
    feed = virtual_feed()
    feed["count"] = len(feed["results"]) + 5
    responses.add(responses.GET, FEED, json=feed)
    with pytest.raises(SourceError, match=r"declares count 13 but holds 8 events"):
        virtual_site.read(http, PK)


@responses.activate
def test_virtual_site_truncated_json_is_not_cached(http):
    body = json.dumps(virtual_feed())
    responses.add(responses.GET, FEED, body=body[: len(body) // 2])
    responses.add(responses.GET, FEED, body=body)
    with pytest.raises(SourceError, match="not valid JSON"):
        virtual_site.read(http, PK)
    assert len(virtual_site.read(http, PK).papers) == 4  # the broken body was evicted, not reused
    assert len(responses.calls) == 2


@responses.activate
def test_virtual_site_retries_429_and_5xx_then_succeeds(http):
    responses.add(responses.GET, FEED, status=429, headers={"Retry-After": "0"})
    responses.add(responses.GET, FEED, status=503)
    responses.add(responses.GET, FEED, json=virtual_feed())
    assert len(virtual_site.read(http, PK).papers) == 4
    assert len(responses.calls) == 3


@responses.activate
def test_virtual_site_gives_up_after_retries_naming_the_url(http):
    for _ in range(3):
        responses.add(responses.GET, FEED, status=502)
    with pytest.raises(SourceError, match=r"virtual site.*orals-posters.json: HTTP 502 after 3 attempts"):
        virtual_site.read(http, PK)


@responses.activate
def test_virtual_site_timeouts_are_retried_then_reported(http):
    for _ in range(3):
        responses.add(responses.GET, FEED, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(SourceError, match="ReadTimeout after 3 attempts"):
        virtual_site.read(http, PK)
    assert len(responses.calls) == 3


@responses.activate
def test_virtual_site_bad_records_become_errors_and_the_rest_go_on(http):
    feed = virtual_feed()
    feed["results"].append({"id": 1, "eventtype": "Poster", "name": "", "authors": []})
    feed["results"].append({"id": 2, "eventtype": "Poster", "name": "Authors Wrong", "authors": "A, B"})
    feed["results"].append("not an event")
    feed["count"] = len(feed["results"])
    responses.add(responses.GET, FEED, json=feed)
    result = virtual_site.read(http, PK)
    assert len(result.papers) == 4
    reasons = {e.item: e.reason for e in result.errors}
    assert reasons["event 1"] == "has no title ('name')"
    assert "expected a list of objects" in reasons["event 2"]
    assert "expected an object" in reasons["event #10"]


def test_virtual_site_rejects_a_document_of_another_shape():
    with pytest.raises(SourceError, match="expected"):
        virtual_site.parse_feed([{"name": "x"}], PK, FEED)


# -- proceedings --------------------------------------------------------------------------------


def _add_abstract_pages(year=2024, broken=()):
    for p in PAPERS:
        url = f"https://papers.nips.cc/paper_files/paper/{year}/hash/{p['hash']}-Abstract-{p['track'].replace('_Track', '')}.html"
        body = "<html><body><p>Page moved</p></body></html>" if p["hash"] in broken else abstract_html(p, year)
        responses.add(responses.GET, url, body=body, content_type="text/html")


@responses.activate
def test_proceedings_listing_then_abstract_pages_give_pdf_links_authors_and_tracks(http):
    responses.add(responses.GET, LISTING, body=listing_html(), content_type="text/html")
    _add_abstract_pages()
    progress = []
    result = proceedings.read(http, PK, concurrency=2, progress=progress.append)
    assert [p.title for p in result.papers] == [p["title"] for p in PAPERS]
    sparse = result.papers[0]
    assert sparse.paper_id == PAPERS[0]["hash"] and sparse.track == "Conference"
    assert sparse.authors == ["Wei Zhang", "Alice Smith"]  # from "Zhang, Wei"
    assert sparse.pdf_url.endswith(f"/file/{PAPERS[0]['hash']}-Paper-Conference.pdf")
    assert sparse.abstract == "We scale sparse attention."
    assert result.papers[2].track == "Datasets_and_Benchmarks"
    assert result.papers[2].pdf_url.endswith("-Paper-Datasets_and_Benchmarks_Track.pdf")
    assert all(not any(p.affiliations) for p in result.papers)  # the proceedings name no affiliations
    assert progress[-1] == "neurips-2024: 3/3 abstract pages read"
    assert len(result.refs) == 4


def test_proceedings_old_listing_layout_is_read():
    entries = proceedings.parse_listing(listing_html(2019, layout="old"), "https://papers.nips.cc/paper_files/paper/2019")
    assert [e["hash"] for e in entries] == [p["hash"] for p in PAPERS]
    assert entries[0]["authors"] == ["Wei Zhang", "Alice Smith"] and entries[0]["track"] is None


@responses.activate
def test_proceedings_listing_with_a_changed_layout_fails_naming_the_page(http):
    responses.add(responses.GET, LISTING, body="<html><body><div id='papers'>Loading…</div></body></html>")
    with pytest.raises(SourceError, match=r"proceedings listing\): https://papers.nips.cc/paper_files/paper/2024: .*links no abstract pages"):
        proceedings.read(http, PK)


@responses.activate
def test_proceedings_unreadable_abstract_pages(http):
    responses.add(responses.GET, LISTING, body=listing_html())
    _add_abstract_pages(broken={PAPERS[1]["hash"]})
    result = proceedings.read(http, PK)
    assert len(result.papers) == 2
    (error,) = result.errors
    assert error.item.startswith("abstract page https://papers.nips.cc/") and "no title and no PDF link" in error.reason


@responses.activate
def test_proceedings_mostly_unreadable_pages_fail_as_a_layout_change(http):
    responses.add(responses.GET, LISTING, body=listing_html())
    _add_abstract_pages(broken={PAPERS[0]["hash"], PAPERS[1]["hash"]})
    with pytest.raises(SourceError, match=r"2 of 3 proceedings abstract pages could not be read, e.g. https://papers.nips.cc/"):
        proceedings.read(http, PK)


# -- OpenReview ---------------------------------------------------------------------------------


VENUE = "NeurIPS.cc/2024/Conference"


def _notes_url(offset, limit=None):
    return f"{API}/notes?content.venueid={VENUE}&limit={limit or openreview.PAGE}&offset={offset}"


def _add_openreview(count=None):
    notes = [openreview_note(i, p, VENUE) for i, p in enumerate(PAPERS)]
    responses.add(responses.GET, _notes_url(0), json={"notes": notes[:2], "count": count or len(notes)})
    responses.add(responses.GET, _notes_url(2), json={"notes": notes[2:], "count": count or len(notes)})
    profiles = [openreview_profile(a) for p in PAPERS for a in p["authors"] if a[2].startswith("~")]
    # Profiles are asked for by id; one author is listed under an older username of their profile.
    responses.add(responses.POST, f"{API}/profiles/search", json={"profiles": profiles})


@responses.activate
def test_openreview_notes_pages_and_profile_history_valid_in_the_paper_year(http, monkeypatch):
    monkeypatch.setattr(openreview, "PAGE", 2)
    _add_openreview()
    result = openreview.read(http, PK, [VENUE.replace("2024", "{year}")])
    assert [p.paper_id for p in result.papers] == ["or0", "or1", "or2"]
    sparse = result.papers[0]
    assert sparse.title == "Sparse Attention at Scale" and sparse.abstract == "We scale sparse attention."
    # The 2021-2024 PhD counts, not the newer job, nor the internship of the same year.
    assert sparse.affiliations == [["Tsinghua University"], ["Stanford University"]]
    assert sparse.email_domains == ["tsinghua.edu.cn", "stanford.edu"]
    assert sparse.author_sources[0][0]["reference_countries"] == ["CN"]
    assert sparse.pdf_url == "https://openreview.net/pdf/" + "0" * 40 + ".pdf" and sparse.track == "Conference"
    graph = result.papers[1]
    assert graph.affiliations[1] == [] and graph.email_domains[1] == "inria.fr"  # listed by e-mail only
    assert result.stats["authors_by_email"] == 1
    body = json.loads(responses.calls[-1].request.body)
    assert body == {"ids": sorted(a[2] for p in PAPERS for a in p["authors"] if a[2].startswith("~"))}


def test_openreview_history_choice():
    profile = openreview_profile(PAPERS[0]["authors"][0], year=2024)
    assert [e["institution"]["name"] for e in openreview.history_for(profile, 2024)] == ["Tsinghua University"]
    assert [e["institution"]["name"] for e in openreview.history_for(profile, 2026)] == ["Example Labs"]
    assert openreview.history_for(profile, 2015) == []
    only_intern = {"content": {"history": [{"position": "Intern", "start": 2024, "end": 2024,
                                             "institution": {"name": "Lab"}}]}}
    assert len(openreview.history_for(only_intern, 2024)) == 1
    undated = {"content": {"history": [{"position": "Professor", "institution": {"name": "MIT", "domain": "mit.edu"}}]}}
    assert openreview.history_for(undated, 2024)[0]["institution"]["name"] == "MIT"


@responses.activate
def test_openreview_count_mismatch_fails(http, monkeypatch):
    monkeypatch.setattr(openreview, "PAGE", 2)
    notes = [openreview_note(i, p, VENUE) for i, p in enumerate(PAPERS)]
    responses.add(responses.GET, _notes_url(0), json={"notes": notes[:2], "count": 5})
    responses.add(responses.GET, _notes_url(2), json={"notes": [], "count": 5})
    with pytest.raises(SourceError, match=f"declares 5 accepted notes for {VENUE} but 2 were read"):
        openreview.read(http, PK, [VENUE])


@responses.activate
def test_openreview_429_waits_for_the_reset_time_in_the_body(http):
    reset = (datetime.now(timezone.utc) + timedelta(seconds=1.5)).isoformat().replace("+00:00", "Z")
    responses.add(responses.GET, _notes_url(0), status=429, json={
        "name": "RateLimitError", "message": "Too many requests: 60 requests per minute", "status": 429,
        "details": {"resetTime": reset}})
    notes = [openreview_note(0, PAPERS[0], VENUE)]
    responses.add(responses.GET, _notes_url(0), json={"notes": notes, "count": 1})
    responses.add(responses.POST, f"{API}/profiles/search",
                  json={"profiles": [openreview_profile(a) for a in PAPERS[0]["authors"]]})
    started = time.monotonic()
    result = openreview.read(http, PK, [VENUE])
    assert time.monotonic() - started >= 1.0  # waited for the reset, not the 10 ms backoff
    assert len(result.papers) == 1


def test_retry_delay_reads_headers_and_bodies():
    def response(status, headers=None, body=None):
        r = requests.Response()
        r.status_code, r.headers = status, requests.structures.CaseInsensitiveDict(headers or {})
        r._content = json.dumps(body).encode() if body is not None else b""
        if body is not None:
            r.headers["Content-Type"] = "application/json; charset=utf-8"
        return r

    assert retry_delay(response(429, {"Retry-After": "12"})) == 12
    assert 9 <= retry_delay(response(429, {"X-RateLimit-Reset": str(int(time.time()) + 10)})) <= 10
    soon = (datetime.now(timezone.utc) + timedelta(seconds=30)).isoformat()
    assert 28 <= retry_delay(response(429, body={"details": {"resetTime": soon}})) <= 30
    assert retry_delay(response(429, body={"name": "RateLimitError"})) is None


@responses.activate
def test_openreview_credentials_log_in_and_send_a_bearer_token(tmp_path, monkeypatch):
    from paperatlas.pipeline.sources.plan import VenuePlan
    from paperatlas.resources.sources import PaperSource

    monkeypatch.setenv("PAPERATLAS_OPENREVIEW_USERNAME", "someone@example.org")
    monkeypatch.setenv("PAPERATLAS_OPENREVIEW_PASSWORD", "secret-pw")
    monkeypatch.delenv("PAPERATLAS_OPENREVIEW_TOKEN", raising=False)
    responses.add(responses.POST, f"{API}/login", json={"token": "tok123", "user": {"profile": {"id": "~Some_One1"}}},
                  match=[matchers.json_params_matcher({"id": "someone@example.org", "password": "secret-pw"})])
    notes = [openreview_note(0, PAPERS[0], VENUE)]
    responses.add(responses.GET, _notes_url(0), json={"notes": notes, "count": 1},
                  match=[matchers.header_matcher({"Authorization": "Bearer tok123"})])
    responses.add(responses.POST, f"{API}/profiles/search", json={"profiles": []})
    source = PaperSource(source="openreview", location="", cache_dir=str(tmp_path / "cache"), timeout=60, retries=1,
                         rate=0).reader()  # credentials: from the settings, read when the source is used
    result = source.papers(PK, VenuePlan("neurips", "NeurIPS", ("openreview",), openreview=("NeurIPS.cc/{year}/Conference",)))
    assert len(result.papers) == 1
    cached = "".join(p.read_text(errors="ignore") for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert "secret-pw" not in cached and "tok123" not in cached


@responses.activate
def test_openreview_login_failure_is_clear(http):
    responses.add(responses.POST, f"{API}/login", status=400, json={"name": "InvalidCredentials"})
    with pytest.raises(SourceError, match="OpenReview login for a@b.c failed: HTTP 400"):
        openreview.login(http, API, "a@b.c", "pw")


# -- OpenAlex -----------------------------------------------------------------------------------

NMI = "primary_location.source.id:S2912241403"


def _alex_url(cursor):
    return openalex.page_url(ALEX, f"{NMI},publication_year:2024", cursor)


@responses.activate
def test_openalex_cursor_paging_raw_affiliations_and_comparison_columns(tmp_path, monkeypatch):
    from paperatlas.pipeline.sources.plan import VenuePlan
    from paperatlas.resources.sources import PaperSource

    monkeypatch.setenv("PAPERATLAS_OPENALEX_API_KEY", "KEY-not-for-logs")
    monkeypatch.delenv("PAPERATLAS_OPENALEX_EMAIL", raising=False)
    works = [openalex_work(i, p) for i, p in enumerate(PAPERS)]

    def page(cursor):  # the key must be sent with every page
        return [matchers.query_param_matcher({
            "filter": f"{NMI},publication_year:2024", "per-page": "200", "select": openalex.SELECT,
            "cursor": cursor, "api_key": "KEY-not-for-logs"})]

    responses.add(responses.GET, f"{ALEX}/works", match=page("*"),
                  json={"meta": {"count": 3, "db_response_time_ms": 20, "page": None, "per_page": 200,
                                 "next_cursor": "IlsxNjA5"}, "results": works[:2], "group_by": []})
    responses.add(responses.GET, f"{ALEX}/works", match=page("IlsxNjA5"),
                  json={"meta": {"count": 3, "per_page": 200, "next_cursor": "IlsxNzAw"}, "results": works[2:]})
    responses.add(responses.GET, f"{ALEX}/works", match=page("IlsxNzAw"),
                  json={"meta": {"count": 3, "per_page": 200, "next_cursor": None}, "results": []})
    source = PaperSource(source="openalex", location="", cache_dir=str(tmp_path / "cache"), timeout=60, retries=1,
                         rate=0).reader()
    venue = VenuePlan("naturemi", "Nature Machine Intelligence", ("openalex",), openalex=NMI)
    result = source.papers(parse_partition_key("naturemi-2024"), venue)
    assert [p.paper_id for p in result.papers] == ["W4000000", "W4000001", "W4000002"]
    sparse = result.papers[0]
    assert sparse.affiliations == [["Department of Computer Science, Tsinghua University"],
                                   ["Department of Computer Science, Stanford University"]]
    assert sparse.abstract == "We scale sparse attention."
    assert sparse.author_sources[0][0]["reference_institutions"] == ["Tsinghua University"]
    assert sparse.author_sources[1][0]["reference_countries"] == ["US"]
    assert sparse.pdf_url == "https://europepmc.org/articles/0.pdf" and sparse.track == "Nature Machine Intelligence"
    cached = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert len(cached) == 6 and not any("KEY-not" in p.name or "KEY-not" in p.read_text(errors="ignore") for p in cached)


@responses.activate
def test_openalex_count_mismatch_and_malformed_json(http):
    responses.add(responses.GET, _alex_url("*"), json={"meta": {"count": 9, "next_cursor": None},
                                                      "results": [openalex_work(0, PAPERS[0])]})
    with pytest.raises(SourceError, match="declares 9 works .* but 1 were read"):
        openalex.read(http, parse_partition_key("naturemi-2024"), NMI)
    responses.replace(responses.GET, _alex_url("*"), body='{"meta": {"count": 9}, "results": [{"id": ')
    with pytest.raises(SourceError, match="not valid JSON"):
        openalex.read(http, parse_partition_key("naturemi-2024"), NMI, refresh=True)


def test_openalex_abstract_from_inverted_index():
    assert openalex.abstract_text({"world": [1], "hello": [0, 2]}) == "hello world hello"
    assert openalex.abstract_text(None) is None


# -- the same failure modes, for every source ----------------------------------------------------


def _first_url_and_payload(name):
    """(method, first URL the source asks, body in the real shape, reader) for each source."""
    if name == "virtual_site":
        return responses.GET, FEED, json.dumps(virtual_feed()), lambda http: virtual_site.read(http, PK)
    if name == "proceedings":
        def read(http):
            _add_abstract_pages()
            return proceedings.read(http, PK)
        return responses.GET, LISTING, listing_html(), read
    if name == "openreview":
        def read(http):
            responses.add(responses.POST, f"{API}/profiles/search", json={"profiles": []})
            return openreview.read(http, PK, [VENUE])
        notes = [openreview_note(i, p, VENUE) for i, p in enumerate(PAPERS)]
        return responses.GET, _notes_url(0), json.dumps({"notes": notes, "count": 3}), read
    works = [openalex_work(i, p) for i, p in enumerate(PAPERS)]
    body = json.dumps({"meta": {"count": 3, "next_cursor": None}, "results": works})
    return responses.GET, _alex_url("*"), body, lambda http: openalex.read(http, parse_partition_key("naturemi-2024"), NMI)


SOURCES = ["virtual_site", "proceedings", "openreview", "openalex"]


@pytest.mark.parametrize("name", SOURCES)
@responses.activate
def test_every_source_retries_429_and_5xx(http, name):
    method, url, body, read = _first_url_and_payload(name)
    responses.add(method, url, status=429, headers={"Retry-After": "0"})
    responses.add(method, url, status=500)
    responses.add(method, url, body=body)
    assert len(read(http).papers) >= 3
    assert [c.response.status_code for c in responses.calls[:3]] == [429, 500, 200]


@pytest.mark.parametrize("name", SOURCES)
@responses.activate
def test_every_source_reports_timeouts_and_server_errors_by_url(http, name):
    method, url, _, read = _first_url_and_payload(name)
    responses.add(method, url, body=requests.exceptions.ConnectTimeout("connect timed out"))
    responses.add(method, url, status=503)
    responses.add(method, url, status=503)
    with pytest.raises(SourceError) as failure:
        read(http)
    assert url.split("?")[0] in str(failure.value) and "HTTP 503 after 3 attempts" in str(failure.value)


@pytest.mark.parametrize("name", ["virtual_site", "openreview", "openalex"])
@responses.activate
def test_every_json_source_refuses_truncated_bodies_and_does_not_cache_them(http, name):
    method, url, body, read = _first_url_and_payload(name)
    responses.add(method, url, body=body[: len(body) // 3])
    with pytest.raises(SourceError, match="not valid JSON"):
        read(http)
    assert not list((http.cache_dir / "http").glob("*"))  # evicted: the next run downloads it again


@responses.activate
def test_an_api_key_never_reaches_an_error_message(http):
    # requests repeats the full URL, query included, in its own exception messages.
    responses.add(responses.GET, f"{ALEX}/works", body=requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='api.openalex.org'): Max retries exceeded with url: /works?api_key=SECRET-KEY-1"))
    with pytest.raises(SourceError) as failure:
        openalex.read(http, parse_partition_key("naturemi-2024"), NMI, secret_params={"api_key": "SECRET-KEY-1"})
    assert "SECRET-KEY-1" not in str(failure.value) and "api_key=***" in str(failure.value)
