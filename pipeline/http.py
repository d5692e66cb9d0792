"""HTTP with timeouts, retries with backoff, a descriptive User-Agent and an on-disk cache.

`HttpClient.fetch` returns the body of a URL, from the cache when it is there (a re-run then
reads exactly the bytes the first run read), else from the network. Writes to the cache are
atomic: a crash mid-download never leaves a half file that a later run would trust.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import os
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin, urlparse

import requests
import urllib3.exceptions
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    wait_exponential_jitter,
)

from .http_links import AddressRefused, checked_session, refusal

USER_AGENT = "paperatlas/0.1 (+https://github.com/paperatlas/paperatlas; research pipeline)"

RETRY_STATUS = {429, 500, 502, 503, 504}
# Every setting that keeps a run off the network, for a message about an unreachable host.
OFFLINE_SETTINGS = ("to work offline, set PAPERATLAS_PAPERLISTS_BASE and PAPERATLAS_ROR_DUMP to local copies "
                    "(PAPERATLAS_OPENALEX_BASE to an OpenAlex mirror for OpenAlex venues) and use --pdfs cached "
                    "or --pdfs off (every setting: docs/configuration.md)")
# The largest body `get`/`fetch` hold in memory (after decompression): more than any paper list
# or registry dump, less than a hostile server could send. Large files stream with `download`.
MAX_BODY = 1 << 30


class FetchError(RuntimeError):
    """A URL could not be fetched; the message names the URL and the reason."""


class PermanentFetchError(FetchError):
    """A download that another try would not fix (404, not a PDF, over the size cap)."""


class LinkRefused(PermanentFetchError):
    """A link from source data that points into this machine's network (pipeline/http_links.py),
    or a redirect that leaves http(s) or loops: never fetched, never retried."""


class InvalidBody(PermanentFetchError):
    """A body that arrived whole but is not what was asked for (an HTML error page served with
    status 200, JSON of the wrong shape, a zip that is not one). It is never cached."""


class Unreachable(FetchError):
    """A request that waiting would not fix: the host name does not resolve, the connection is
    refused, or TLS fails. It is never retried, and the client remembers the host: later requests
    to it fail at once with the same reason. `hint` names the setting that avoids the network."""

    MARK = "unreachable"  # in every message, so a caller that sees only the text knows the kind

    def __init__(self, url: str, reason: str, hint: str = ""):
        super().__init__(f"{url}: {self.MARK}, {reason}" + (f"; {hint}" if hint else ""))
        self.url, self.reason, self.hint = url, reason, hint

    def with_hint(self, hint: str) -> Unreachable:
        return Unreachable(self.url, self.reason, hint)


class RetryableHTTPError(FetchError):
    def __init__(self, url: str, status: int, retry_after: float | None):
        super().__init__(f"{url}: HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _seconds_until(value) -> float | None:
    """Seconds from now to a reset time given as an ISO 8601 time, epoch seconds or a delta."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().replace(".", "", 1).isdigit()):
        number = float(value)
        # Epoch seconds (or milliseconds) for a reset time; small numbers are a delay.
        if number > 1e11:
            number /= 1000.0
        return max(0.0, number - time.time()) if number > 1e9 else number
    try:
        when = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def retry_delay(response: requests.Response) -> float | None:
    """How long a 429 or 503 asks us to wait: `Retry-After`, else `X-RateLimit-Reset` /
    `RateLimit-Reset`, else a reset time in a JSON error body (OpenReview answers 429 with
    `{"name": "RateLimitError", ..., "details": {"resetTime": "<ISO time>"}}`)."""
    delay = _parse_retry_after(response.headers.get("Retry-After"))
    if delay is not None:
        return delay
    for header in ("X-RateLimit-Reset", "RateLimit-Reset"):
        delay = _seconds_until(response.headers.get(header))
        if delay is not None:
            return delay
    if "json" in (response.headers.get("Content-Type") or ""):
        try:
            body = response.json()
        except ValueError:
            return None
        if isinstance(body, dict):
            details = body.get("details") if isinstance(body.get("details"), dict) else {}
            for value in (details.get("resetTime"), body.get("resetTime"), body.get("retryAfter")):
                delay = _seconds_until(value)
                if delay is not None:
                    return delay
    return None


# Transport failures worth another try: refused or reset connections, timeouts, and bodies
# cut short in transfer (requests raises ChunkedEncodingError when fewer bytes arrive than
# Content-Length announced).
TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, (RetryableHTTPError, *TRANSIENT)) and not isinstance(exc, Unreachable)


def _chain(exc: BaseException):
    """`exc` and what lies under it: causes, contexts, and urllib3's `reason`."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen or not isinstance(current, BaseException):
            continue
        seen.add(id(current))
        yield current
        todo.extend([current.__cause__, current.__context__, getattr(current, "reason", None),
                     *[a for a in current.args if isinstance(a, BaseException)]])


def unreachable_reason(exc: BaseException, url: str) -> str | None:
    """Why a request failed for good, when it did: the name did not resolve, the connection
    was refused, or TLS failed. None for failures worth another try (resets, timeouts)."""
    host = urlparse(url).hostname or host_of(url)
    for cause in _chain(exc):
        if isinstance(cause, (socket.gaierror, urllib3.exceptions.NameResolutionError)):
            return f"cannot resolve the host name {host} (no network, or a wrong address)"
        if isinstance(cause, ConnectionRefusedError):
            return f"{host} refused the connection"
        if isinstance(cause, (ssl.SSLError, urllib3.exceptions.SSLError, requests.exceptions.SSLError)):
            detail = str(getattr(cause, "reason", None) or cause).strip() or type(cause).__name__
            return f"TLS with {host} failed ({detail[:160]})"
    return None


def _cause_text(exc: BaseException) -> str:
    """What went wrong underneath a requests error, without urllib3's wrapper, which repeats the
    URL: "[Errno 104] Connection reset by peer", "Read timed out. (read timeout=60)"."""
    for cause in _chain(exc):
        if isinstance(cause, OSError) and not isinstance(cause, requests.RequestException) and str(cause):
            return str(cause)
    for cause in _chain(exc):
        if isinstance(cause, urllib3.exceptions.HTTPError) and not isinstance(cause, urllib3.exceptions.MaxRetryError):
            texts = [a for a in cause.args if isinstance(a, str) and a]
            if texts:
                return texts[-1].split(": ", 1)[-1] if "ConnectionPool(" in texts[-1] else texts[-1]
    return str(exc)


class HostPacer:
    """A polite rate: at most `rate` requests per second to any one host, across threads."""

    def __init__(self, rate: float | None):
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, url: str) -> None:
        if not self.interval:
            return
        host = host_of(url)
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self.interval
        if start > now:
            time.sleep(start - now)


@dataclass
class Download:
    url: str
    path: Path
    bytes: int
    sha256: str
    content_type: str | None
    fetched_at: datetime


@dataclass
class FetchResult:
    url: str
    content: bytes
    from_cache: bool
    cache_path: Path | None
    sha256: str
    fetched_at: datetime  # when the bytes were downloaded (UTC), also for cache hits
    value: object = None  # what `fetch(validate=...)` returned for the body


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _from_cache(url: str, cache_path: Path, meta_path: Path) -> FetchResult:
    data = cache_path.read_bytes()
    try:
        fetched_at = datetime.fromisoformat(json.loads(meta_path.read_text())["fetched_at"])
    except (OSError, ValueError, KeyError, TypeError):
        fetched_at = _now()  # a cache file without readable metadata: say "now"
    return FetchResult(url, data, True, cache_path, hashlib.sha256(data).hexdigest(), fetched_at)


def _announced(response: requests.Response) -> int | None:
    """The body's size the server announced (Content-Length), or None."""
    value = (response.headers.get("Content-Length") or "").strip()
    return int(value) if value.isdigit() else None


def host_of(url: str) -> str:
    """The host part of `url` in lower case; the URL itself when it has none or is malformed."""
    try:
        return urlparse(url).netloc.lower() or url
    except ValueError:
        return url


def link_problem(url: str) -> str | None:
    """Why `url` cannot be downloaded (not http(s), no host, malformed), or None when it can."""
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        return f"malformed link ({exc})"
    if parsed.scheme.lower() not in ("http", "https"):
        return "not an http(s) link"
    if not parsed.hostname:
        return "a link without a host"
    return None


class HttpClient:
    """`timeout` bounds a whole request: connecting, the headers and the body, however slowly
    the server sends it. A 429/503 that asks to wait longer than `max_retry_after` at once, or
    longer than `max_total_wait` over all tries, is given up at once, naming the host."""

    def __init__(
        self,
        cache_dir: Path | None,
        timeout: float = 60.0,
        retries: int = 5,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        max_retry_after: float = 120.0,
        max_total_wait: float = 300.0,
        session: requests.Session | None = None,
        pacer: HostPacer | None = None,
        max_body: int = MAX_BODY,
        allow_private_links: bool = False,
    ):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.timeout = timeout
        self.retries = retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.max_total_wait = max_total_wait
        self.max_body = max_body
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # Links taken from source data (`data_link=True`) go through a session that connects only
        # to public addresses, unless PAPERATLAS_ALLOW_PRIVATE_LINKS lets them reach this network.
        self.link_session = self.session if allow_private_links else checked_session()
        self.link_session.headers["User-Agent"] = USER_AGENT
        self.pacer = pacer
        self._unreachable: dict[str, str] = {}  # host -> why it cannot be reached

    # -- cache -----------------------------------------------------------------------------
    def cache_path_for(self, url: str, body: object = None) -> Path | None:
        if self.cache_dir is None:
            return None
        key = url if body is None else url + "\n" + json.dumps(body, sort_keys=True)
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        tail = url.rstrip("/").rsplit("/", 1)[-1] or "index"
        safe_tail = "".join(c if c.isalnum() or c in "._-" else "_" for c in tail)[:80]
        return self.cache_dir / "http" / f"{digest}-{safe_tail}"

    # -- fetching --------------------------------------------------------------------------
    def _asks_too_long(self, exc: BaseException | None, waited: float) -> bool:
        """Whether a 429/503 asks for a wait we will not make (alone, or on top of `waited`)."""
        return (isinstance(exc, RetryableHTTPError) and exc.retry_after is not None
                and (exc.retry_after > self.max_retry_after or waited + exc.retry_after > self.max_total_wait))

    def _stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        return state.attempt_number >= self.retries + 1 or self._asks_too_long(exc, state.idle_for)

    def _wait(self, state: RetryCallState) -> float:
        if self._stop(state):  # tenacity asks for the wait before it checks the stop: no try follows
            return 0.0
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableHTTPError) and exc.retry_after is not None:
            delay = exc.retry_after
        else:
            delay = wait_exponential_jitter(initial=self.backoff_initial, max=self.backoff_max)(state)
        if delay >= 2:  # a wait a person would notice: say why the command is quiet
            what = f"answered HTTP {exc.status}" if isinstance(exc, RetryableHTTPError) else \
                f"failed ({type(exc).__name__})"
            url = str(state.args[0]) if state.args else ""
            print(f"paperatlas: {host_of(url)} {what}; waiting {delay:.0f} s "
                  f"before try {state.attempt_number + 1} of {self.retries + 1}", file=sys.stderr, flush=True)
        return delay

    def _retrying(self) -> Retrying:
        return Retrying(stop=self._stop, wait=self._wait, retry=retry_if_exception(_is_retryable), reraise=True)

    def _timed_out(self, url: str) -> requests.Timeout:
        return requests.Timeout(f"{url}: the whole request took longer than {self.timeout:g} s "
                                "(PAPERATLAS_HTTP_TIMEOUT bounds a request, body included)")

    def _headers(self, url: str, deadline: float, method: str, data_link: bool = False, **kwargs
                 ) -> requests.Response:
        """Send the request and read the status and headers (the body streams later), by
        `deadline`. requests bounds each socket read, not their sum, so a server trickling its
        headers would hold us for ever: the request runs in a daemon thread we stop waiting for.
        A `data_link` (a URL taken from source data) connects only to public addresses."""
        host = host_of(url)
        if host in self._unreachable:
            raise Unreachable(url, self._unreachable[host])
        box: dict = {}
        hops: list[str] = []  # where each redirect led, for messages

        def hop(response: requests.Response, *args, **kw) -> None:
            if response.is_redirect:
                location = response.headers["Location"]
                try:
                    hops.append(urljoin(response.url, location))
                except ValueError:  # a malformed Location (requests refuses it next)
                    hops.append(location)

        session = self.link_session if data_link else self.session

        def send() -> None:
            try:
                box["response"] = session.request(method, url, timeout=self.timeout, stream=True,
                                                  hooks={"response": [hop]}, **kwargs)
            except BaseException as exc:  # handed to the caller's thread
                box["error"] = exc

        worker = threading.Thread(target=send, name="paperatlas-http", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            raise self._timed_out(url)
        if "error" in box:
            error = box["error"]
            target = hops[-1] if hops else url  # the hop that failed
            refused = self._refused(url, error, hops)
            if refused:
                raise refused from None
            reason = unreachable_reason(error, target) if isinstance(error, requests.ConnectionError) else None
            if reason:
                self._unreachable[host_of(target)] = reason
                raise Unreachable(url, reason) from None
            raise error
        return box["response"]

    def _refused(self, url: str, error: BaseException, hops: list[str]) -> LinkRefused | None:
        """A request's failure that names the URL asked for and the redirect hop it failed at:
        a link into this machine's network, a redirect loop, a redirect out of http(s)."""
        hop = hops[-1] if hops else None
        if isinstance(error, AddressRefused):
            return LinkRefused(refusal(url, error, hop))
        if isinstance(error, requests.TooManyRedirects):
            return LinkRefused(f"{url}: redirected more than {self.session.max_redirects} times (a loop?)")
        if isinstance(error, requests.exceptions.InvalidSchema):
            return LinkRefused(f"{url}: redirected to {hop}; only http(s) is followed" if hop
                               else f"{url}: not an http(s) link")
        if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)) or (
                hop and isinstance(error, ValueError)):  # urllib's own "Invalid IPv6 URL" on a hop
            return LinkRefused(f"{url}: redirected to a malformed link {hop!r}" if hop
                               else f"{url}: malformed link ({error})")
        return None

    def _body(self, response: requests.Response, url: str, deadline: float, chunk_size: int = 1 << 16):
        """The body's chunks as they arrive, each socket read bounded by what is left of the
        request's time: a server trickling bytes cannot hold a request past `timeout`."""
        raw = response.raw
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timed_out(url)
            sock = getattr(getattr(raw, "connection", None), "sock", None)
            if sock is not None:
                sock.settimeout(remaining)
            try:
                chunk = raw.read1(chunk_size, decode_content=True)
            except (urllib3.exceptions.ReadTimeoutError, socket.timeout, TimeoutError) as exc:
                raise self._timed_out(url) from exc
            except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
                raise requests.exceptions.ChunkedEncodingError(f"{url}: {exc}") from exc
            if not chunk:
                return
            yield chunk

    def _get_once(self, url: str, headers: dict[str, str], params: dict | None = None,
                  body: object = None, data_link: bool = False) -> requests.Response:
        if self.pacer:
            self.pacer.wait(url)
        deadline = time.monotonic() + self.timeout
        response = self._headers(url, deadline, "GET" if body is None else "POST", data_link, headers=headers,
                                 params=params, json=body)
        try:
            if response.status_code in RETRY_STATUS:
                raise RetryableHTTPError(url, response.status_code, retry_delay(response))
            announced = _announced(response)
            if announced is not None and announced > self.max_body:  # refused before a byte is read
                raise PermanentFetchError(f"{url}: too large ({announced / 1e6:.0f} MB announced, over the "
                                          f"{self.max_body / 1e6:.0f} MB a body may hold in memory); refused")
            # Read the whole body here, within the deadline, so a broken or stalled transfer is retried too.
            chunks, size = [], 0
            for chunk in self._body(response, url, deadline):
                size += len(chunk)
                if size > self.max_body:
                    raise PermanentFetchError(f"{url}: the body is over {self.max_body / 1e6:.0f} MB; refused")
                chunks.append(chunk)
            response._content = b"".join(chunks)
            response._content_consumed = True
        finally:
            response.close()
        return response

    def get(self, url: str, headers: dict[str, str] | None = None, params: dict | None = None,
            body: object = None, data_link: bool = False) -> requests.Response:
        """GET (POST with a JSON `body`) with retries on 429/5xx, connection errors and timeouts.

        `params` are added to the query string but never to messages: pass secrets (API keys)
        there, so errors and the cache never show them."""
        with self._final_errors(url, secrets=[str(v) for v in (params or {}).values()]):
            return self._retrying()(self._get_once, url, dict(headers or {}), params, body, data_link)

    @contextlib.contextmanager
    def _final_errors(self, url: str, secrets: list[str] | None = None):
        """Turn the last retryable failure into a FetchError that names the URL. Secret query
        values (API keys) are blanked: requests' own messages repeat the full URL."""

        def clean(exc: BaseException) -> str:
            text = str(exc)
            for secret in secrets or []:
                if secret:
                    text = text.replace(secret, "***")
            return text

        try:
            yield
        except RetryableHTTPError as exc:
            if exc.retry_after is not None and exc.retry_after > self.max_retry_after:
                raise FetchError(
                    f"{url}: HTTP {exc.status}: {host_of(url)} asked to wait {exc.retry_after:.0f} s, longer than "
                    f"the {self.max_retry_after:.0f} s paperatlas waits at once; giving up, try again later") from None
            if exc.retry_after is not None:
                raise FetchError(
                    f"{url}: HTTP {exc.status}: {host_of(url)} still asks to wait ({exc.retry_after:.0f} s more) "
                    f"after the tries paperatlas makes (at most {self.max_total_wait:.0f} s of waiting in all); "
                    "giving up, try again later") from None
            raise FetchError(f"{url}: HTTP {exc.status} after {self.retries + 1} attempts") from None
        except requests.exceptions.ChunkedEncodingError as exc:
            raise FetchError(f"{url}: truncated transfer after {self.retries + 1} attempts: {clean(exc)}") from None
        except TRANSIENT as exc:
            raise FetchError(f"{url}: {type(exc).__name__} after {self.retries + 1} attempts: {clean(_cause_text(exc))}"
                             ) from None

    def evict(self, url: str, body: object = None) -> None:
        """Forget the cached copy of `url` (a body that turned out unreadable must not be reused)."""
        cache_path = self.cache_path_for(url, body)
        if cache_path:
            for path in (cache_path, cache_path.with_name(cache_path.name + ".meta.json")):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def fetch(self, url: str, refresh: bool = False, *, headers: dict[str, str] | None = None,
              secret_params: dict | None = None, body: object = None,
              validate: Callable[[bytes], object] | None = None, data_link: bool = False) -> FetchResult:
        """Body of `url`: from the cache unless `refresh`, revalidated with ETag when refreshing.

        `validate(body)` returns what the caller wants from the body (parsed JSON, say) as the
        result's `value`, or raises ValueError saying why the body is not usable. Only a valid
        body is cached; a cached one that fails (written by an older version) is evicted and
        fetched anew, and an invalid download raises `InvalidBody`.

        With a JSON `body` the request is a POST (cached by URL and body). `headers` and
        `secret_params` (credentials, API keys) are sent but kept out of the cache key, the
        cache's metadata and every message. A `data_link` (a URL taken from source data, not
        one the user configured) connects only to public addresses (pipeline/http_links.py)."""
        cache_path = self.cache_path_for(url, body)
        meta_path = cache_path.with_name(cache_path.name + ".meta.json") if cache_path else None
        if cache_path and cache_path.exists() and not refresh:
            cached = _from_cache(url, cache_path, meta_path)
            try:
                cached.value = validate(cached.content) if validate else None
                return cached
            except ValueError:
                self.evict(url, body)

        headers = dict(headers or {})
        if refresh and cache_path and cache_path.exists() and meta_path and meta_path.exists():
            try:
                etag = json.loads(meta_path.read_text()).get("etag")
            except (OSError, ValueError):
                etag = None
            if etag:
                headers["If-None-Match"] = etag
        response = self.get(url, headers=headers, params=secret_params, body=body, data_link=data_link)
        if response.status_code == 304 and cache_path and cache_path.exists():
            cached = _from_cache(url, cache_path, meta_path)
            cached.value = self._validated(url, cached.content, validate)
            return cached
        if response.status_code != 200:
            raise FetchError(f"{url}: HTTP {response.status_code}")
        data = response.content
        fetched_at = _now()
        expected = response.headers.get("Content-Length")
        if expected and expected.isdigit() and int(expected) != len(data) and not response.headers.get(
            "Content-Encoding"
        ):
            raise FetchError(f"{url}: truncated body ({len(data)} of {expected} bytes)")
        value = self._validated(url, data, validate)
        if cache_path:
            atomic_write_bytes(cache_path, data)
            atomic_write_bytes(
                meta_path,
                json.dumps(
                    {
                        "url": url,
                        "etag": response.headers.get("ETag"),
                        "fetched_at": fetched_at.isoformat(),
                        "bytes": len(data),
                    }
                ).encode(),
            )
        return FetchResult(url, data, False, cache_path, hashlib.sha256(data).hexdigest(), fetched_at, value)

    def _validated(self, url: str, data: bytes, validate: Callable[[bytes], object] | None) -> object:
        if validate is None:
            return None
        try:
            return validate(data)
        except ValueError as exc:
            head = data[:80].decode("utf-8", "replace").replace("\n", " ")
            raise InvalidBody(f"{url}: not usable ({exc}; {len(data)} bytes starting {head!r}); "
                              "it was not cached, so a re-run asks the server again") from exc

    # -- streaming a large file to disk -----------------------------------------------------
    def download(
        self,
        url: str,
        dest: Path,
        max_bytes: int,
        check_head: Callable[[bytes, str | None], None] | None = None,
        chunk_size: int = 1 << 16,
        data_link: bool = False,
    ) -> Download:
        """Stream `url` into `dest` atomically (temporary file, fsync, rename).

        Retries 429/5xx, dropped connections, timeouts and bodies shorter than announced.
        Raises PermanentFetchError, without retrying, for other HTTP errors, for a body over
        `max_bytes` (announced or counted) and when `check_head(first bytes, content type)`
        rejects the start of the body; `dest` is then left as it was. A `data_link` connects only
        to public addresses (pipeline/http_links.py).
        """
        with self._final_errors(url):
            return self._retrying()(self._download_once, url, Path(dest), max_bytes, check_head, chunk_size,
                                    data_link)

    @staticmethod
    def _check_head(url: str, check_head, head: bytes, content_type: str | None) -> None:
        try:
            check_head(head, content_type)
        except PermanentFetchError as exc:
            raise PermanentFetchError(f"{url}: {exc}") from exc

    def _download_once(self, url, dest: Path, max_bytes: int, check_head, chunk_size: int,
                       data_link: bool = False) -> Download:
        if self.pacer:
            self.pacer.wait(url)
        deadline = time.monotonic() + self.timeout
        with self._headers(url, deadline, "GET", data_link) as response:
            status = response.status_code
            if status in RETRY_STATUS:
                raise RetryableHTTPError(url, status, retry_delay(response))
            if status != 200:
                raise PermanentFetchError(f"{url}: HTTP {status}")
            announced = _announced(response)
            if announced is not None and announced > max_bytes:
                raise PermanentFetchError(
                    f"{url}: too large ({announced / 1e6:.1f} MB announced, limit {max_bytes / 1e6:.0f} MB)")
            content_type = response.headers.get("Content-Type")
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
            digest = hashlib.sha256()
            size = 0
            head = b""
            checked = check_head is None
            try:
                with os.fdopen(fd, "wb") as handle:
                    for chunk in self._body(response, url, deadline, chunk_size):
                        if not checked:
                            head += chunk[: 1024 - len(head)]
                            if len(head) >= 1024:
                                self._check_head(url, check_head, head, content_type)
                                checked = True
                        size += len(chunk)
                        if size > max_bytes:
                            raise PermanentFetchError(
                                f"{url}: too large (over the {max_bytes / 1e6:.0f} MB limit while streaming)")
                        digest.update(chunk)
                        handle.write(chunk)
                    if not checked:  # a body shorter than 1 KB
                        self._check_head(url, check_head, head, content_type)
                    if announced is not None and size != announced and not response.headers.get("Content-Encoding"):
                        raise requests.exceptions.ChunkedEncodingError(
                            f"body ended after {size} of {announced} bytes")
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, dest)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        return Download(url, dest, size, digest.hexdigest(), content_type, _now())
