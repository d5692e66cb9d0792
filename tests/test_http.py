import pytest
import requests
import responses

from paperatlas.pipeline.http import FetchError, HttpClient
from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.sources.paperlists import SourceError, locate_and_read

BASE = "https://raw.githubusercontent.com/papercopilot/paperlists/main"
URL = f"{BASE}/nips/nips2020.json"
PAYLOAD = b'[{"title": "T", "id": "1", "author": "A", "aff": "MIT", "aff_domain": "mit.edu"}]'


def client(tmp_path, **kw):
    return HttpClient(tmp_path / "cache", timeout=5, retries=kw.pop("retries", 3), backoff_initial=0.01, backoff_max=0.02, **kw)


@responses.activate
def test_retries_5xx_then_caches(tmp_path):
    responses.add(responses.GET, URL, status=503)
    responses.add(responses.GET, URL, status=502)
    responses.add(responses.GET, URL, body=PAYLOAD, status=200, headers={"ETag": '"v1"'})
    http = client(tmp_path)
    first = http.fetch(URL)
    assert first.content == PAYLOAD and not first.from_cache
    assert len(responses.calls) == 3
    assert responses.calls[0].request.headers["User-Agent"].startswith("paperatlas/")
    second = http.fetch(URL)
    assert second.from_cache and second.content == PAYLOAD
    assert len(responses.calls) == 3  # served from disk
    assert second.fetched_at == first.fetched_at  # the download time, not the cache read


@responses.activate
def test_honours_retry_after_on_429(tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr("time.sleep", lambda s: waits.append(s))
    responses.add(responses.GET, URL, status=429, headers={"Retry-After": "7"})
    responses.add(responses.GET, URL, body=PAYLOAD)
    assert client(tmp_path).fetch(URL).content == PAYLOAD
    assert waits == [7.0]


@responses.activate
def test_gives_up_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    for _ in range(3):
        responses.add(responses.GET, URL, status=500)
    with pytest.raises(FetchError, match=r"nips2020.json: HTTP 500 after 3 attempts"):
        client(tmp_path, retries=2).fetch(URL)
    assert not any((tmp_path / "cache").rglob("*nips2020.json")), "nothing half-written is cached"


@responses.activate
def test_timeouts_are_retried(tmp_path, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    responses.add(responses.GET, URL, body=requests.Timeout("read timed out"))
    responses.add(responses.GET, URL, body=PAYLOAD)
    assert client(tmp_path).fetch(URL).content == PAYLOAD


@responses.activate
def test_refresh_revalidates_with_etag(tmp_path):
    responses.add(responses.GET, URL, body=PAYLOAD, headers={"ETag": '"v1"'})
    http = client(tmp_path)
    http.fetch(URL)
    responses.replace(responses.GET, URL, status=304)
    again = http.fetch(URL, refresh=True)
    assert again.from_cache and again.content == PAYLOAD
    assert responses.calls[1].request.headers["If-None-Match"] == '"v1"'


@responses.activate
def test_truncated_body_is_retried_then_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    for _ in range(2):
        responses.add(responses.GET, URL, body=PAYLOAD[:20], headers={"Content-Length": str(len(PAYLOAD))},
                      auto_calculate_content_length=False)
    with pytest.raises(FetchError, match="truncated transfer after 2 attempts"):
        client(tmp_path, retries=1).fetch(URL)
    assert len(responses.calls) == 2
    assert not any((tmp_path / "cache").rglob("*nips2020.json"))


@responses.activate
def test_truncated_body_then_complete(tmp_path, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    responses.add(responses.GET, URL, body=PAYLOAD[:20], headers={"Content-Length": str(len(PAYLOAD))},
                  auto_calculate_content_length=False)
    responses.add(responses.GET, URL, body=PAYLOAD)
    assert client(tmp_path).fetch(URL).content == PAYLOAD


@responses.activate
def test_paperlists_url_falls_back_to_flat_layout(tmp_path):
    responses.add(responses.GET, URL, status=404)
    responses.add(responses.GET, f"{BASE}/nips2020.json", body=PAYLOAD)
    source = locate_and_read(BASE, parse_partition_key("neurips-2020"), client(tmp_path), "nips")
    assert source.ref == f"{BASE}/nips2020.json"


@responses.activate
def test_paperlists_url_missing_everywhere(tmp_path):
    responses.add(responses.GET, URL, status=404)
    responses.add(responses.GET, f"{BASE}/nips2020.json", status=404)
    with pytest.raises(SourceError, match="no paperlists file for this venue-year"):
        locate_and_read(BASE, parse_partition_key("neurips-2020"), client(tmp_path), "nips")
