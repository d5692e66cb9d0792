"""The OpenAlex snapshot (`openalex_snapshot`): the works of every year without the API, from the
gzipped JSON Lines OpenAlex publishes, in a folder or on S3.

    <root>/data/works/updated_date=YYYY-MM-DD/part_NNN.gz         (before 2026)
    <root>/data/jsonl/works/updated_date=YYYY-MM-DD/part_NNNN.gz  (the 2026 layout)

`<root>` is `PAPERATLAS_OPENALEX_SNAPSHOT`: a folder (the mirror `aws s3 sync` makes) or
`s3://bucket/prefix` (`s3://openalex` is OpenAlex's own, read anonymously; the usual AWS_*
variables give credentials, `AWS_ENDPOINT_URL` another S3 such as MinIO). Each line is a work in
the API's shape. A work can sit in several `updated_date` folders; the newest version wins.

Index once, read by partition. A pass over the part files (`SnapshotIndex.update`) keeps, for
every venue of the plan that names this source, the works its `openalex` filter selects
(`openalex_filter.py`), appended to gzip JSON Lines shards under the cache folder,
`openalex-snapshot/<venue>/<year>/<MM>.jsonl.gz` (`00`: no publication date), and records each
kept work and each part file read in `openalex-snapshot/index.duckdb`. A part file already read
for the venue (same path and size or ETag) is skipped, so the next snapshot costs only its new
folders. Reading a (sub-)partition then opens only its months' shards, keeps each work's newest
version, applies the venue-year's exact filter (`openalex.year_filter`: date window, month,
subfield) and parses it with `openalex.WorkParser`, as the API source does.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import time
import zlib
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..models import IngestError, utcnow
from ..partitions import PartitionKey
from . import queries
from .base import STAGE, Digest, ParseResult, SourceConfig, SourceError
from .openalex import BATCH, NO_SUBFIELD, Streamed, WorkParser, day_windows, month_window, packed, year_filter
from .openalex_filter import FilterError, compile_filter, prefilter

SOURCE = "openalex_snapshot"
FOLDER = "openalex-snapshot"
LAYOUTS = ("data/works", "data/jsonl/works", "")  # where the `updated_date=` folders may sit under the root
PROGRESS_EVERY = 10  # files between progress lines
FLUSH_BYTES = 32 << 20  # kept lines held in memory before they go to the part's staging files
# The longest line read: a work in OpenAlex's shape is kilobytes, one with thousands of authors a
# few megabytes. A longer "line" (a file without line breaks, a corrupt member) is skipped as an
# error rather than read whole into memory.
MAX_LINE = 64 << 20
# OpenAlex writes a work's own `id` first: a line no venue can take is parsed only when that id
# was kept before (its newer version may have left the filter).
LEADING_ID = re.compile(rb'^\s*\{\s*"id"\s*:\s*"(?:https://openalex\.org/)?([^"/]+)"')
HINT = ("set PAPERATLAS_OPENALEX_SNAPSHOT to the folder holding data/works/updated_date=*/part_*.gz "
        "(`aws s3 sync s3://openalex/data/works ./openalex/data/works --no-sign-request`) or to s3://openalex")


@dataclass(frozen=True)
class PartFile:
    ref: str  # the path or s3:// URL
    size: int
    etag: str = ""

    @property
    def updated(self) -> str:
        """The `updated_date` of the folder the file sits in."""
        for segment in reversed(self.ref.split("/")):
            if segment.startswith("updated_date="):
                return segment.split("=", 1)[1]
        return ""


def _is_part(name: str) -> bool:
    leaf = name.rsplit("/", 1)[-1]
    return leaf.startswith("part_") and leaf.endswith(".gz") and "/updated_date=" in "/" + name


class LocalSnapshot:
    def __init__(self, root: str):
        self.root = Path(root).expanduser()

    def files(self) -> list[PartFile]:
        if not self.root.is_dir():
            raise SourceError(f"the OpenAlex snapshot folder {self.root} does not exist; {HINT}")
        for layout in LAYOUTS:
            base = self.root / layout if layout else self.root
            found = [PartFile(str(p), p.stat().st_size) for p in base.glob("updated_date=*/part_*.gz") if p.is_file()]
            if found:
                return sorted(found, key=lambda f: (f.updated, f.ref))
        return []

    def open(self, part: PartFile):
        return gzip.open(part.ref, "rb")


class S3Snapshot:
    def __init__(self, url: str):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.url, self.bucket, self.prefix = url.rstrip("/"), bucket, prefix.strip("/")
        self._client = None

    def client(self):
        if self._client is None:
            try:
                import boto3
                from botocore import UNSIGNED
                from botocore.config import Config
            except ImportError:
                raise SourceError("reading the OpenAlex snapshot on S3 needs boto3 (pip install 'paperatlas[snapshot]'), "
                                  "or mirror it to a folder first") from None
            session = boto3.Session()
            signed = session.get_credentials() is not None  # AWS_* variables, a profile: else anonymous
            config = Config(retries={"max_attempts": 5, "mode": "standard"},
                            **({} if signed else {"signature_version": UNSIGNED}))
            self._client = session.client("s3", region_name=session.region_name or "us-east-1", config=config)
        return self._client

    def files(self) -> list[PartFile]:
        from botocore.exceptions import BotoCoreError, ClientError

        pager = self.client().get_paginator("list_objects_v2")
        for layout in LAYOUTS:
            prefix = "/".join(p for p in (self.prefix, layout) if p)
            found = []
            try:
                for page in pager.paginate(Bucket=self.bucket, Prefix=(prefix + "/" if prefix else "") + "updated_date="):
                    found += [PartFile(f"s3://{self.bucket}/{o['Key']}", int(o["Size"]), str(o.get("ETag", "")).strip('"'))
                              for o in page.get("Contents", []) if _is_part(o["Key"])]
            except (BotoCoreError, ClientError) as exc:
                raise SourceError(f"the OpenAlex snapshot at {self.url} cannot be listed: {exc}; {HINT}") from None
            if found:
                return sorted(found, key=lambda f: (f.updated, f.ref))
        return []

    def open(self, part: PartFile):
        key = part.ref.removeprefix(f"s3://{self.bucket}/")
        body = self.client().get_object(Bucket=self.bucket, Key=key)["Body"]
        return gzip.GzipFile(fileobj=body, mode="rb")


def snapshot_at(root: str):
    if not root:
        raise SourceError(f"no OpenAlex snapshot is configured; {HINT}")
    return S3Snapshot(root) if root.startswith("s3://") else LocalSnapshot(root)


def capped_lines(stream, limit: int) -> Iterator[bytes | None]:
    """The lines of a binary stream, each at most `limit` bytes; None for a longer one, whose
    rest is read past in pieces of `limit`, never held whole."""
    while True:
        line = stream.readline(limit)
        if not line:
            return
        if len(line) < limit or line.endswith(b"\n"):
            yield line
            continue
        while (more := stream.readline(limit)) and not more.endswith(b"\n"):
            pass
        yield None


class _Prefix(io.RawIOBase):
    """The first `size` bytes of a file: a shard as it was when its index rows were read. A
    pass appending to it meanwhile (whole gzip members, under the lock) is not seen half-written."""

    def __init__(self, path: Path, size: int):
        self.file, self.left = open(path, "rb"), size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left <= 0:
            return 0
        n = self.file.readinto(memoryview(buffer)[: min(len(buffer), self.left)]) or 0
        self.left -= n
        return n

    def close(self) -> None:
        self.file.close()
        super().close()


def work_key(work: dict) -> tuple[str, str, int, int, str, str]:
    """(id, updated_date, year, month, publication_date, primary subfield) of a work: where it is kept."""
    wid = str(work.get("id") or "").rstrip("/").rsplit("/", 1)[-1]
    date = str(work.get("publication_date") or "")
    year = work.get("publication_year")
    if not isinstance(year, int):
        year = int(date[:4]) if date[:4].isdigit() else 0
    month = int(date[5:7]) if len(date) >= 7 and date[:4] == str(year) and date[5:7].isdigit() else 0
    topic = work.get("primary_topic") if isinstance(work.get("primary_topic"), dict) else {}
    subfield = topic.get("subfield") if isinstance(topic.get("subfield"), dict) else {}
    sub = str(subfield.get("id") or "").rstrip("/").rsplit("/", 1)[-1]
    return wid, str(work.get("updated_date") or ""), year, month, date, sub if sub.isdigit() else NO_SUBFIELD


def numeric(wid: str) -> int:
    digits = wid[1:] if wid[:1].isalpha() else wid
    return int(digits) if digits.isdigit() and len(digits) <= 18 else hash(wid)  # a hostile id stays a hash


@dataclass
class VenueIndex:
    """One venue during a pass: its filter, the ids kept before (sorted numbers) and during it."""

    venue: str
    flt: str
    test: Callable[[dict], bool]
    before: list[int]
    maybe: Callable[[bytes], bool] = lambda line: True  # noqa: E731
    during: set[int] = field(default_factory=set)

    def known(self, wid: str) -> bool:
        number = numeric(wid)
        if number in self.during:
            return True
        at = bisect_left(self.before, number)
        return at < len(self.before) and self.before[at] == number


@dataclass
class PassReport:
    files: int = 0  # part files read in this pass
    skipped: int = 0  # part files already read for every venue
    works: int = 0
    kept: int = 0
    seconds: float = 0.0
    errors: list[IngestError] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.works / self.seconds if self.seconds else 0.0


class SnapshotIndex:
    """The venues' works kept from the snapshot at `root`, under `folder` (see the module)."""

    def __init__(self, root: str, folder: str | Path):
        self.root, self.folder = root, Path(folder)
        self.snapshot = snapshot_at(root)

    def shard(self, venue: str, year: int, month: int) -> Path:
        return self.folder / venue / f"{year:04d}" / f"{month:02d}.jsonl.gz"

    def connect(self, read_only: bool = False):
        self.folder.mkdir(parents=True, exist_ok=True)
        return queries.snapshot_open(self.folder / "index.duckdb", read_only=read_only)

    def lock(self):
        from filelock import FileLock

        self.folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.folder / "index.lock"))

    def update(self, venues: dict[str, str], key: str = "openalex_snapshot",
               log: Callable[[str], None] | None = None, every: int = PROGRESS_EVERY) -> PassReport:
        """Read every part file not yet read for one of `venues` ({venue: filter}), oldest
        `updated_date` first, and keep what each venue's filter selects. Bad lines are
        IngestErrors (under `key`) naming the file and line; a file that cannot be read to its
        end (a truncated gzip) is one IngestError and stays unread, to be read next time."""
        tests = {}
        for venue, flt in venues.items():
            try:
                tests[venue] = compile_filter(flt)
            except FilterError as exc:
                raise SourceError(f"venue {venue!r}: its openalex filter {flt!r}: {exc}") from None
        report = PassReport()
        start = time.monotonic()
        with self.lock():
            files = self.snapshot.files()
            if not files:
                raise SourceError(f"no part files (updated_date=*/part_*.gz) under {self.root}; {HINT}")
            con = self.connect()
            try:
                indexes, read = self._venues(con, venues, tests)
                todo = [(f, [v for v in indexes if (f.ref, f.size, f.etag) not in read[v]]) for f in files]
                todo = [(f, names) for f, names in todo if names]
                report.skipped = len(files) - len(todo)
                if log:
                    log(f"OpenAlex snapshot {self.root}: {len(files)} part files, {len(todo)} to read "
                        f"for {', '.join(sorted(venues))}")
                for number, (part, names) in enumerate(todo, start=1):
                    self._read_part(con, part, [indexes[n] for n in names], report, key)
                    report.seconds = time.monotonic() - start
                    if log and (number % every == 0 or number == len(todo)):
                        log(f"OpenAlex snapshot: {number}/{len(todo)} files, {report.works} works read, "
                            f"{report.kept} kept, {report.rate:.0f} works/s")
            finally:
                con.close()
        report.seconds = time.monotonic() - start
        return report

    def _venues(self, con, venues: dict[str, str], tests) -> tuple[dict[str, VenueIndex], dict[str, set]]:
        indexes, read = {}, {}
        for venue, flt in venues.items():
            if queries.snapshot_filter(con, venue) != flt:  # new, or its filter changed: start over
                queries.snapshot_reset(con, venue, flt)
                shutil.rmtree(self.folder / venue, ignore_errors=True)
            indexes[venue] = VenueIndex(venue, flt, tests[venue],
                                        sorted(numeric(w) for w in queries.snapshot_ids(con, venue)), prefilter(flt))
            read[venue] = queries.snapshot_parts_read(con, venue)
        return indexes, read

    def _read_part(self, con, part: PartFile, venues: list[VenueIndex], report: PassReport, key: str) -> None:
        staging = self.folder / ".staging"
        shutil.rmtree(staging, ignore_errors=True)
        held: dict[tuple[str, int, int], list[bytes]] = {}
        rows, errors, works, size = [], [], 0, 0

        def flush():
            for (venue, year, month), lines in held.items():
                path = staging / venue / f"{year:04d}" / f"{month:02d}.jsonl.gz"
                path.parent.mkdir(parents=True, exist_ok=True)
                with gzip.open(path, "ab", compresslevel=5) as out:
                    out.writelines(lines)
            held.clear()

        try:
            with self.snapshot.open(part) as stream:
                for line_no, line in enumerate(capped_lines(stream, MAX_LINE), start=1):
                    if line is None:
                        works += 1
                        errors.append(IngestError(key, STAGE, f"{part.ref} line {line_no}",
                                                  f"longer than {MAX_LINE:,} bytes: not a work; skipped"))
                        continue
                    if not line.strip():
                        continue
                    works += 1
                    if not any(v.maybe(line) for v in venues):  # no venue can take it: parse only a kept id
                        head = LEADING_ID.match(line)
                        if head and not any(v.known(head.group(1).decode()) for v in venues):
                            continue
                    try:
                        work = json.loads(line)
                    except ValueError as exc:
                        errors.append(IngestError(key, STAGE, f"{part.ref} line {line_no}", f"not JSON: {exc}"))
                        continue
                    if not isinstance(work, dict):
                        errors.append(IngestError(key, STAGE, f"{part.ref} line {line_no}",
                                                  f"a JSON {type(work).__name__}, not a work"))
                        continue
                    wid, updated, year, month, date, sub = work_key(work)
                    for venue in venues:
                        if venue.test(work):
                            held.setdefault((venue.venue, year, month), []).append(line.rstrip(b"\r\n") + b"\n")
                            size += len(line)
                            rows.append((venue.venue, wid, updated, year, month, date, sub, part.ref))
                            venue.during.add(numeric(wid))
                        elif venue.known(wid):  # a newer version left the filter: it no longer counts
                            rows.append((venue.venue, wid, updated, None, None, None, None, part.ref))
                    if size > FLUSH_BYTES:
                        flush()
                        size = 0
            flush()
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            shutil.rmtree(staging, ignore_errors=True)
            report.errors += errors + [IngestError(key, STAGE, part.ref, f"cannot be read to its end after {works} "
                                                   f"works ({exc}); it stays unread and is read again next time")]
            return
        for path in sorted(staging.rglob("*.jsonl.gz")):  # gzip members concatenate: append the part's
            rel = path.relative_to(staging)
            target = self.folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "rb") as src, open(target, "ab") as out:
                shutil.copyfileobj(src, out)
        shutil.rmtree(staging, ignore_errors=True)
        frame = pd.DataFrame(rows, columns=["venue", "id", "updated", "year", "month", "pub_date", "subfield", "ref"])
        frame = frame.astype({"year": "Int32", "month": "Int32"})
        kept = frame[frame["year"].notna()].groupby("venue").size().to_dict() if len(frame) else {}
        parts = pd.DataFrame([{"venue": v.venue, "ref": part.ref, "size": part.size, "etag": part.etag,
                               "works": works, "kept": int(kept.get(v.venue, 0)), "errors": len(errors),
                               "read_at": utcnow().replace(tzinfo=None)} for v in venues])
        queries.snapshot_add(con, frame, parts)
        report.files += 1
        report.works += works
        report.kept += int(sum(kept.values()))
        report.errors += errors

    # -- reading -------------------------------------------------------------------------------

    def has_index(self) -> bool:
        return (self.folder / "index.duckdb").is_file()

    def works(self, venue: str, pk: PartitionKey, flt: str, digest: Digest | None = None) -> Iterator[dict]:
        """The venue's works of `pk` (a year: its 12 months and the works without a date; a
        month; a month's subfield) passing `flt` (the venue-year's exact filter), each work once
        in its newest version, read from the months' shards one line at a time."""
        months = [pk.month] if pk.month else list(range(0, 13))
        test = compile_filter(flt)
        with self.lock():  # the index rows and the shards' sizes at one moment: a later pass appends only
            con = self.connect(read_only=True)
            try:
                current = queries.snapshot_current(con, venue, pk.year, months)
            finally:
                con.close()
            sizes = {m: path.stat().st_size for m in months if (path := self.shard(venue, pk.year, m)).is_file()}
        for month in months:
            if month not in sizes:
                continue
            path = self.shard(venue, pk.year, month)
            digest_of = hashlib.sha256()
            with _Prefix(path, sizes[month]) as raw, gzip.GzipFile(fileobj=raw, mode="rb") as lines:
                for line in lines:
                    work = json.loads(line)
                    wid, updated = work_key(work)[:2]
                    if current.get(wid) != updated:
                        continue  # an older version, or a work already given
                    del current[wid]
                    if test(work):
                        digest_of.update(line)
                        yield work
            if digest is not None:
                digest.add(str(path), digest_of.hexdigest(), True, None)

    def counts(self, venue: str, pk: PartitionKey, dates=None, by: str | None = None, month: int | None = None):
        if not self.has_index():
            return {}
        first = last = None
        if dates is not None:
            first, last = f"{pk.year}-{dates[0]}", f"{pk.year}-{dates[1]}"
        with self.lock():
            con = self.connect(read_only=True)
            try:
                return queries.snapshot_counts(con, venue, pk.year, first, last, by, month)
            finally:
                con.close()


def venue_filter(venue) -> str:
    if not venue.openalex:
        raise SourceError(f"no OpenAlex filter is configured for venue {venue.key!r}")
    if "{year}" in venue.openalex:
        raise SourceError(f"venue {venue.key!r}: the snapshot keeps one filter per venue for every year; "
                          "its openalex filter cannot name {year}")
    return venue.openalex.format(venue=venue.key).strip().strip(",")


def plan_venues(venue) -> dict[str, str]:
    """{venue: filter} of every venue of the user's plan that reads this source, and `venue`:
    one pass over the snapshot serves them all."""
    out = {}
    try:
        from ..config import load_settings
        from .plan import load_plan

        plan = load_plan(load_settings().sources_file)
        for other in plan.all_venues():
            if other.openalex and (SOURCE in other.sources or any(SOURCE in s for s in other.years.values())):
                try:
                    out[other.key] = venue_filter(other)
                except SourceError:
                    continue
    except Exception:  # noqa: BLE001 - the plan is read again (and its errors shown) by the step
        out = {}
    out[venue.key] = venue_filter(venue)
    return out


class OpenAlexSnapshot:
    """OpenAlex works from the snapshot (`location`: PAPERATLAS_OPENALEX_SNAPSHOT), selected by
    the venue's `openalex` filter as the `openalex` source selects them through the API."""

    name = SOURCE

    def __init__(self, config: SourceConfig):
        self.config = config
        self.root = (config.location or "").rstrip("/")
        self.folder = Path(config.cache_dir or ".") / FOLDER

    def index(self) -> SnapshotIndex:
        return SnapshotIndex(self.root, self.folder)

    def update(self, pk: PartitionKey, venue, progress=None) -> PassReport:
        """The incremental pass for every venue reading this source (nothing new: a listing)."""
        report = self.index().update(plan_venues(venue), pk.key, progress)
        if progress and report.files:
            progress(f"OpenAlex snapshot: {report.files} new part files read ({report.works} works, "
                     f"{report.kept} kept) in {report.seconds:.0f} s")
        return report

    def stream(self, pk: PartitionKey, venue, refresh: bool = False, progress=None, batch: int = BATCH) -> Streamed:
        report = self.update(pk, venue, progress)
        index, digest = self.index(), Digest()
        works = index.works(venue.key, pk, year_filter(venue_filter(venue), pk, venue.dates), digest)
        reading = Streamed(WorkParser(pk, self.root), works, digest, batch)
        reading.parser.result.source = SOURCE
        reading.parser.result.errors.extend(report.errors)
        reading.parser.result.stats = {"snapshot_files_read": report.files, "snapshot_files_skipped": report.skipped}
        digest.from_cache = not report.files
        return reading

    def papers(self, pk: PartitionKey, venue, refresh: bool = False, progress=None) -> ParseResult:
        reading = self.stream(pk, venue, refresh, progress)
        papers = [paper for batch in reading for paper in batch]
        result = reading.result
        result.papers = papers
        if not papers:
            raise SourceError(f"{pk}: the OpenAlex snapshot has no works for {self.where(pk, venue)}", result.errors)
        return result

    def parts(self, pk: PartitionKey, venue, limit: int) -> list[tuple[PartitionKey, int]]:
        """The (sub-)partitions that read the venue-year, from the index's counts: the year when it
        holds at most `limit` works, else its months, a month above `limit` its subfields, and a
        subfield above it windows of days."""
        self.update(pk, venue)
        index = self.index()
        counted = index.counts(venue.key, pk, self._dates(pk, venue), by="subfield" if pk.subfield else None,
                               month=pk.month)
        total = sum(counted.get(s, 0) for s in pk.subfields) if pk.subfield else sum(counted.values())
        if total <= limit or pk.subfield:
            return [(pk, total)]
        out = []
        for month in [pk.month] if pk.month else range(1, 13):
            part = pk.part(month)
            window = month_window(part, venue.dates)
            if window is None:
                continue
            works = sum(index.counts(venue.key, part, window, month=month).values())
            if works <= limit:
                out += [(part, works)] if works else []
                continue
            groups = index.counts(venue.key, part, window, by="subfield", month=month)
            for sub, n in packed([(pk.part(month, str(key)), n) for key, n in groups.items() if n], limit):
                out += day_windows(sub, n, limit, lambda w: index.counts(
                    venue.key, w, month_window(w, venue.dates), by="subfield", month=month).get(w.subfield, 0),
                    venue.dates)
        if sum(n for _, n in out) != total:
            raise SourceError(f"{pk}: the snapshot index counts {total} works but its months add up to "
                              f"{sum(n for _, n in out)} (works without a publication date in the year?)")
        return out

    @staticmethod
    def _dates(pk: PartitionKey, venue):
        return month_window(pk, venue.dates) if pk.month else venue.dates

    def available(self, pk: PartitionKey, venue) -> bool:
        if not venue.openalex or not self.root:
            return False
        try:
            return sum(self.index().counts(venue.key, pk, self._dates(pk, venue), month=pk.month).values()) > 0
        except Exception:  # noqa: BLE001 - an index being written, a missing folder: not (yet) available
            return False

    def where(self, pk: PartitionKey, venue) -> str:
        if not venue.openalex:
            return "(no filter)"
        return f"{self.root or '(PAPERATLAS_OPENALEX_SNAPSHOT unset)'} works with {year_filter(venue.openalex, pk, venue.dates)}"
