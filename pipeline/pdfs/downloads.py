"""The PDF store: one file per paper under `<root>/<partition>/<safe id>.pdf`.

`PdfStore.collect` brings the PDFs of a venue-year's papers into the store and says, per
paper, what happened (`PdfRecord`):

- `stored`: the file was already complete in the store (a re-run downloads nothing again;
  files only ever appear there through an atomic rename, so a present file is whole);
- `downloaded`: streamed now, with retries and backoff, a size cap, a check that the body
  starts like a PDF, its SHA-256, at a polite per-host rate and a bounded number of
  downloads at once;
- `local`: the paper came from a local folder; the file is read where it is, never copied;
- `missing`: no file yet and downloading is off (`mode="cached"`);
- `failed`: the reason is in `error` (and goes to `ingest_errors`).

Paper ids come from sources we do not control ("abs/2101.00001", "../x", "π"); `safe_name`
turns any id into one file name inside the partition folder, never a path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..filenames import os_path, path_text
from ..http import FetchError, HttpClient, PermanentFetchError, Unreachable, host_of, link_problem
from ..partitions import parse_partition_key
from .extract import MAGIC, MAX_BYTES

MODES = ("download", "cached", "off")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Names Windows refuses whatever the extension.
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)


def safe_name(paper_id: str) -> str:
    """A file-name stem for `paper_id`: letters, digits, `.`, `_`, `-` only, at most 100
    characters, never starting with a dot. An id that had to change gets a short hash of the
    original so two ids never share a file ("a/b" and "a_b")."""
    text = unicodedata.normalize("NFKC", str(paper_id)).strip()
    clean = _UNSAFE.sub("_", text).strip("._-")[:80]
    if clean != text or not clean or _RESERVED.match(clean):
        clean = f"{clean or 'paper'}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"
    return clean


def pdf_head_check(head: bytes, content_type: str | None) -> None:
    """Reject a body that does not start like a PDF (an HTML login page, an error text)."""
    if MAGIC not in head[:1024]:
        shown = head[:24].decode("latin-1", "replace").encode("unicode_escape").decode()
        kind = f" ({content_type})" if content_type else ""
        raise PermanentFetchError(f"not a PDF: the body{kind} starts with {shown!r}")


def file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@dataclass
class PdfItem:
    paper_id: str
    url: str | None = None
    local_path: str | None = None


@dataclass
class PdfRecord:
    partition_key: str
    paper_id: str
    url: str | None
    path: str | None
    status: str
    bytes: int | None = None
    sha256: str | None = None
    error: str | None = None
    fetched_at: datetime | None = None

    def row(self) -> dict:
        return asdict(self)


def _mtime(stat: os.stat_result) -> datetime:
    """A file's modification time as naive UTC (as the store keeps timestamps)."""
    return datetime.fromtimestamp(stat.st_mtime, timezone.utc).replace(tzinfo=None, microsecond=0)


class PdfStore:
    def __init__(
        self,
        root: str | Path,
        http: HttpClient | None = None,
        mode: str = "download",
        max_bytes: int = MAX_BYTES,
        concurrency: int = 4,
        host_failure_limit: int = 3,
    ):
        if mode not in MODES:
            raise ValueError(f"PDF mode {mode!r}: expected one of {', '.join(MODES)}")
        self.root = Path(root)
        self.http = http
        self.mode = mode
        self.max_bytes = max_bytes
        self.concurrency = max(1, concurrency)
        self.host_failure_limit = host_failure_limit

    def path_for(self, partition_key: str, paper_id: str) -> Path:
        folder = self.root / parse_partition_key(partition_key).key
        path = folder / f"{safe_name(paper_id)}.pdf"
        if path.parent != folder:  # cannot happen with safe_name; a guard for the future
            raise ValueError(f"paper id {paper_id!r} would leave {folder}")
        return path

    # -- one paper ---------------------------------------------------------------------------
    def _local(self, pk: str, item: PdfItem) -> PdfRecord:
        # `local_path` is the exact text of the file's name (pipeline/filenames.py): it is
        # stored and shown as it is, and turned back into the name's bytes to open the file.
        path = Path(os_path(item.local_path))
        record = PdfRecord(pk, item.paper_id, item.url, path_text(path), "local")
        try:
            stat = path.stat()
            with open(path, "rb") as fh:
                head = fh.read(1024)
            pdf_head_check(head, None)
            if stat.st_size > self.max_bytes:
                raise PermanentFetchError(f"too large: {stat.st_size / 1e6:.1f} MB, limit {self.max_bytes / 1e6:.0f} MB")
            record.bytes, record.sha256, record.fetched_at = stat.st_size, file_sha256(path), _mtime(stat)
        except OSError as exc:
            record.status, record.error = "failed", f"{record.path}: {exc.strerror or exc}"
        except FetchError as exc:
            record.status, record.error = "failed", f"{record.path}: {exc}"
        return record

    def _stored(self, pk: str, item: PdfItem, path: Path) -> PdfRecord:
        stat = path.stat()
        with open(path, "rb") as fh:
            head = fh.read(1024)
        try:
            pdf_head_check(head, None)
        except PermanentFetchError as exc:
            return PdfRecord(pk, item.paper_id, item.url, str(path), "failed", stat.st_size,
                             error=f"{path}: stored file is {exc}; delete it to download again")
        return PdfRecord(pk, item.paper_id, item.url, str(path), "stored", stat.st_size, file_sha256(path),
                         fetched_at=_mtime(stat))

    def _download(self, pk: str, item: PdfItem, path: Path) -> PdfRecord:
        # Every PDF link came from source data: it reaches only public addresses (pipeline/http_links.py).
        got = self.http.download(item.url, path, self.max_bytes, check_head=pdf_head_check, data_link=True)
        return PdfRecord(pk, item.paper_id, item.url, str(path), "downloaded", got.bytes, got.sha256,
                         fetched_at=got.fetched_at.replace(tzinfo=None))

    # -- a partition ---------------------------------------------------------------------------
    def collect(
        self,
        partition_key: str,
        items: Iterable[PdfItem],
        on_progress: Callable[[int, int, PdfRecord], None] | None = None,
    ) -> list[PdfRecord]:
        """One record per item, in the items' order. Never raises for one bad paper."""
        items = list(items)
        remove_stale_parts(self.root / parse_partition_key(partition_key).key)
        records: list[PdfRecord | None] = [None] * len(items)
        pending: list[tuple[int, PdfItem, Path]] = []
        for n, item in enumerate(items):
            if item.local_path:
                records[n] = self._local(partition_key, item)
                continue
            path = self.path_for(partition_key, item.paper_id)
            if path.is_file():
                records[n] = self._stored(partition_key, item, path)
            elif not item.url:
                records[n] = PdfRecord(partition_key, item.paper_id, None, None, "no_link")
            elif self.mode != "download":
                records[n] = PdfRecord(partition_key, item.paper_id, item.url, None, "missing")
            elif problem := link_problem(item.url):
                records[n] = PdfRecord(partition_key, item.paper_id, item.url, None, "failed",
                                       error=f"{item.url}: {problem}")
            else:
                pending.append((n, item, path))
        lock = threading.Lock()
        done = [0]

        def report(record: PdfRecord) -> None:
            with lock:
                done[0] += 1
                if on_progress:
                    on_progress(done[0], len(items), record)

        for record in records:
            if record is not None:
                report(record)
        if pending:
            if self.http is None:
                raise RuntimeError("PdfStore needs an HttpClient to download")
            breaker = _HostBreaker(self.host_failure_limit)

            def work(job: tuple[int, PdfItem, Path]) -> None:
                n, item, path = job
                outcome = breaker.run(item.url, lambda: self._download(partition_key, item, path))
                if isinstance(outcome, str):
                    outcome = PdfRecord(partition_key, item.paper_id, item.url, None, "failed", error=outcome)
                records[n] = outcome
                report(outcome)

            with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="pdf-download") as pool:
                list(pool.map(work, pending))
        return [r for r in records if r is not None]


# What a user without the network does instead of downloading.
OFFLINE_HINT = "offline, use --pdfs cached (only PDFs already stored) or --pdfs off (PAPERATLAS_PDFS)"


class _HostBreaker:
    """Stops trying a host after `limit` papers in a row failed on it for network reasons
    (after all their retries): offline, or the host is down. A host that cannot be reached at
    all (its name does not resolve, it refuses, TLS fails) is given up after its first paper.
    Each skipped paper is still recorded, with the reason. Errors that concern one file (404,
    not a PDF) do not count."""

    def __init__(self, limit: int):
        self.limit = limit
        self.lock = threading.Lock()
        self.failures: dict[str, int] = {}
        self.last: dict[str, str] = {}  # host -> its last network error

    def run(self, url: str, download: Callable[[], PdfRecord]) -> PdfRecord | str:
        """The download's record, or the reason it failed or was not tried."""
        host = host_of(url)
        with self.lock:
            if self.limit and self.failures.get(host, 0) >= self.limit:
                return (f"{url}: not tried: {self.failures[host]} downloads from {host} failed in a row "
                        f"(last: {self.last[host]}); {OFFLINE_HINT}")
        try:
            record = download()
        except PermanentFetchError as exc:
            return str(exc)
        except Unreachable as exc:
            with self.lock:
                self.failures[host] = max(self.limit, 1)
                self.last[host] = exc.reason
            return str(exc.with_hint(OFFLINE_HINT))
        except (FetchError, OSError) as exc:
            with self.lock:
                self.failures[host] = self.failures.get(host, 0) + 1
                self.last[host] = str(exc)
            return str(exc)
        with self.lock:
            self.failures[host] = 0
        return record


def remove_stale_parts(folder: Path, older_than: float = 6 * 3600) -> int:
    """Delete temporary files (`.*.part`) that interrupted downloads left behind, once they are
    `older_than` seconds old (younger ones may belong to a run still going); returns how many."""
    removed = 0
    if folder.is_dir():
        limit = time.time() - older_than
        for path in folder.glob(".*.part"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
    return removed
