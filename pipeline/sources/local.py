"""A folder of PDFs as a venue-year: for users without network or with their own corpus.

Layout: `<local root>/<venue>-<year>/` holds the PDFs (sub-folders too) and, optionally,
`papers.csv` with a header row and these columns:

- `file` (required): the PDF's path relative to the folder (a name that is not UTF-8 as
  paperatlas shows it: `caf\\xe9.pdf`);
- `paper_id`, `title`, `abstract`: optional; the id defaults to the file's path without
  `.pdf`, the title to the one typeset on page 1;
- `authors`: optional, `;` between names; when given, the PDF's authors are matched to them,
  else the PDF's authors are the paper's authors;
- `venue`, `year`: optional; when given they must agree with the folder's venue-year.

PDFs the CSV does not list are papers too. The folder (or a symlink to it) being there is
what makes the venue-year local: `raw_papers` then reads it instead of paperlists. Files are
read where they are and never copied. Two files with the same bytes are one paper: the first in
sorted order is kept, the other gets a warning. So are two files with the same title and
authors (v1 and v2 of one paper; with no authors in papers.csv, the same title on page 1).

File names are bytes (pipeline/filenames.py): a name that is not UTF-8, or holds control
characters, is kept as its escaped text (`caf\\xe9.pdf`, `\\x1b[31mred.pdf`) in `pdf_path` and in
every message, and the default id of such a file is its escaped stem (`caf\\xe9`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from datetime import datetime, timezone
from pathlib import Path

from ..filenames import os_path, path_text
from ..models import IngestError, Paper
from ..partitions import PartitionKey
from .base import SourceConfig, paper_identity
from .paperlists import STAGE, ParseResult, SourceError, split_authors

SOURCE = "local"
CSV_NAME = "papers.csv"
COLUMNS = {"file", "paper_id", "title", "abstract", "authors", "venue", "year"}


def local_folder(root: str | Path | None, pk: PartitionKey) -> Path | None:
    """The local folder of `pk` under `root`, when there is one."""
    if not root:
        return None
    folder = Path(root).expanduser() / pk.key
    return folder if folder.is_dir() else None


def local_keys(root: str | Path | None) -> list[str]:
    """Venue-years that have a local folder (names that are valid keys only)."""
    from ..partitions import PartitionKeyError, parse_partition_key

    if not root or not Path(root).expanduser().is_dir():
        return []
    keys = []
    for child in sorted(Path(root).expanduser().iterdir()):
        if child.is_dir():
            try:
                keys.append(parse_partition_key(child.name).key)
            except PartitionKeyError:
                continue
    return keys


def _pdfs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _read_csv(path: Path, pk: PartitionKey) -> list[dict]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{pk}: {path} cannot be read as UTF-8 text: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = {(h or "").strip().lower() for h in reader.fieldnames or []}
    if "file" not in header:
        raise SourceError(f"{pk}: {path} has no 'file' column (header: {sorted(header) or 'empty'}); "
                          f"expected columns: {', '.join(sorted(COLUMNS))}")
    rows = []
    try:
        for row in reader:
            rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k is not None})
    except csv.Error as exc:  # a field over the size limit, an unclosed quote at the end
        raise SourceError(f"{pk}: {path} line {reader.line_num + 1}: not readable as CSV ({exc}); "
                          "fix that line and run again") from exc
    return rows


def _same_content(paths: list[Path]) -> dict[Path, Path]:
    """Each file whose bytes an earlier file of `paths` (in sorted order) has, mapped to that
    file. Only files of one size are hashed, each once; a file that cannot be read is left to
    the PDF stage, which says why."""
    by_size: dict[int, list[Path]] = {}
    for path in sorted(paths):
        try:
            by_size.setdefault(path.stat().st_size, []).append(path)
        except OSError:
            continue
    twins: dict[Path, Path] = {}
    for group in by_size.values():
        if len(group) < 2:
            continue
        first: dict[str, Path] = {}
        for path in group:
            try:
                with open(path, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
            except OSError:
                continue
            if digest in first:
                twins[path] = first[digest]
            else:
                first[digest] = path
    return twins


def _first_page_titles(paths: list[Path]) -> dict[Path, str | None]:
    """Page 1's title of each PDF, read in worker processes with the PDF limits: this step
    opens no PDF itself (pipeline/pdfs/steps.py)."""
    from ..pdfs.steps import first_page_titles

    return first_page_titles(paths)


def read_local(folder: Path, pk: PartitionKey) -> ParseResult:
    """Papers of a local folder; rows that cannot be used become IngestErrors."""
    folder = folder.resolve()
    csv_path = folder / CSV_NAME
    rows = _read_csv(csv_path, pk) if csv_path.is_file() else []
    pdfs = _pdfs(folder)
    result = ParseResult()
    key = pk.key

    def err(item: str, reason: str, severity: str = "error") -> None:
        result.errors.append(IngestError(key, STAGE, item, reason, severity))

    digest = hashlib.sha256(csv_path.read_bytes() if csv_path.is_file() else b"")
    listed: dict[Path, dict] = {}
    rejected: set[Path] = set()  # files a bad row names: not read as unlisted PDFs either
    for n, row in enumerate(rows, start=2):  # line 1 is the header
        item = f"{CSV_NAME} line {n}"
        name = row.get("file", "")
        if not name:
            err(item, "no file named")
            continue
        path = Path(os.path.normpath(folder / name))
        if "\\" in name and not os.path.lexists(path):  # the name as shown: `caf\xe9.pdf` (pipeline/filenames.py)
            path = Path(os.path.normpath(folder / os_path(name)))
        if not path.is_relative_to(folder) or not path.resolve().is_relative_to(folder):
            rejected.add(path)
            err(item, f"file {name!r} lies outside {path_text(folder)}" + (
                "" if not path.is_relative_to(folder) else f" (a link to {path_text(path.resolve())}); refused"))
            continue
        if not path.is_file():
            err(item, f"file {name!r} not found in {path_text(folder)}")
            continue
        venue, year = row.get("venue", "").lower(), row.get("year", "")
        if venue and venue != pk.venue or year and year != str(pk.year):
            rejected.add(path)
            err(item, f"{name}: the row says {venue or pk.venue}-{year or pk.year} but the folder is {key}; "
                      "move the file to that venue-year's folder")
            continue
        if path in listed:
            err(item, f"file {name!r} listed twice; the first row is kept")
            continue
        listed[path] = row
    unlisted = []
    for p in pdfs:
        if p in listed or p in rejected:
            continue
        if not p.resolve().is_relative_to(folder):
            err(path_text(p.relative_to(folder).as_posix()),
                f"a link to {path_text(p.resolve())}, outside {path_text(folder)}; refused")
            continue
        unlisted.append(p)
    result.records = len(rows) + len(unlisted)
    twins = _same_content([*listed, *unlisted])
    seen_ids: set[str] = set()
    same_paper: dict[str, str] = {}  # paper_identity (title and authors) -> the file kept
    mtimes = []
    titles = _first_page_titles([p for p in [*listed, *unlisted]
                                 if p not in twins and not listed.get(p, {}).get("title")])
    for path in [*listed, *unlisted]:
        row = listed.get(path, {})
        name = path.relative_to(folder).as_posix()
        rel = path_text(name)  # what is shown and stored: exact, printable (pipeline/filenames.py)
        if path in twins:
            err(rel, f"a duplicate of {path_text(twins[path].relative_to(folder).as_posix())} (same content); "
                     "this file is skipped", "warning")
            continue
        stem = rel[:-4] if rel.lower().endswith(".pdf") else rel
        paper_id = row.get("paper_id") or stem
        if paper_id in seen_ids:
            err(rel, f"paper id {paper_id!r} used twice; this file is skipped")
            continue
        authors = split_authors(row.get("authors", ""))
        title = row.get("title") or titles.get(path)
        identity = paper_identity(title, authors)
        if identity in same_paper:  # another version of one paper (v1 and v2): the check would fail on it
            err(rel, f"the same title{' and authors' if authors else ''} as {same_paper[identity]}: another "
                     "version of the same paper?; this file is skipped (to keep both, give them their own titles "
                     f"or authors in {CSV_NAME})", "warning")
            continue
        if identity:
            same_paper[identity] = rel
        seen_ids.add(paper_id)
        stat = path.stat()
        mtimes.append(stat.st_mtime)
        digest.update(os.fsencode(name) + f"\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        if not title:
            err(rel, "no title in papers.csv and none readable on page 1", "warning")
        result.papers.append(Paper(
            partition_key=key, paper_id=paper_id, venue=pk.venue, year=pk.year, title=title or "",
            abstract=row.get("abstract") or None, authors=authors, affiliations=[[] for _ in authors],
            email_domains=[None] * len(authors), pdf_path=path_text(path), source=SOURCE,
            source_ref=path_text(folder),
        ))
    fetched = datetime.fromtimestamp(max(mtimes), timezone.utc).replace(microsecond=0) if mtimes else None
    for paper in result.papers:
        paper.source_sha256 = digest.hexdigest()
        paper.fetched_at = fetched
    return result


class LocalFolders:
    """Folders of PDFs, one per venue-year: `<root>/<venue>-<year>/` (PAPERATLAS_LOCAL_DIR, else
    $PAPERATLAS_HOME/local). A venue-year with a folder is read from it alone."""

    name = SOURCE

    def __init__(self, config: SourceConfig):
        self.root = config.location

    def folder(self, pk: PartitionKey) -> Path | None:
        return local_folder(self.root, pk)

    def venue_years(self) -> list[str]:
        return local_keys(self.root)

    def papers(self, pk: PartitionKey, venue=None, refresh: bool = False, progress=None) -> ParseResult:
        folder = self.folder(pk)
        if folder is None:
            raise SourceError(f"{pk}: no local folder {Path(self.root) / pk.key}")
        parsed = read_local(folder, pk)
        parsed.source, parsed.refs = SOURCE, [path_text(folder)]
        parsed.sha256 = parsed.papers[0].source_sha256 if parsed.papers else ""
        return parsed

    def available(self, pk: PartitionKey, venue=None) -> bool:
        return self.folder(pk) is not None

    def where(self, pk: PartitionKey, venue=None) -> str:
        return str(Path(self.root) / pk.key)
