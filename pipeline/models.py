"""Plain records shared by the stages: rows of DuckDB tables (`Paper`, `IngestError`) and what a
stage hands back to the Dagster asset that ran it (`Outcome`, `Check`, metadata wrappers)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass
class Paper:
    partition_key: str
    paper_id: str
    venue: str
    year: int
    title: str
    abstract: str | None
    authors: list[str]
    # One list per author, in author order, when the source aligns them (`aligned`).
    affiliations: list[list[str]]
    # One entry per author (None where the source gives no domain).
    email_domains: list[str | None]
    # Affiliation strings the source could not tie to an author (`aligned` is False).
    unaligned_affiliations: list[str] = field(default_factory=list)
    aligned: bool = True
    pdf_url: str | None = None
    pdf_path: str | None = None  # a PDF already on disk (local folder source)
    status: str | None = None
    track: str | None = None
    source: str = ""
    source_ref: str = ""
    source_sha256: str = ""
    fetched_at: datetime | None = None
    # Every source's view of each author, in author order, when the source gives more than a
    # name and strings (OpenReview, OpenAlex) or when several sources were merged. One list per
    # author of blocks {source, ref, name, affiliations, email_domain, reference_institutions,
    # reference_countries}; the first block with affiliations is the one that counts. The
    # reference_* fields are the source's own institutions/countries: for comparison only.
    author_sources: list[list[dict]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # every source that saw the paper, by priority
    source_ids: list[str] = field(default_factory=list)  # "<source>:<its id>" for each

    def row(self) -> dict:
        """The paper as a store row. The lists are the paper's own (a shallow copy, not
        `asdict`'s deep one): the row is written, not changed."""
        row = {f.name: getattr(self, f.name) for f in _PAPER_FIELDS}
        row["author_sources"] = json.dumps(self.author_sources, ensure_ascii=False) if self.author_sources else None
        row["sources"] = self.sources or ([self.source] if self.source else [])
        row["source_ids"] = self.source_ids or ([f"{self.source}:{self.paper_id}"] if self.source else [])
        return row


_PAPER_FIELDS = dataclasses.fields(Paper)


def author_block(source: str, ref: str | None, name: str | None, affiliations: list[str] | None = None,
                 email_domain: str | None = None, reference_institutions: list[str] | None = None,
                 reference_countries: list[str] | None = None) -> dict:
    """One source's view of one author (see `Paper.author_sources`)."""
    return {
        "source": source, "ref": ref, "name": name, "affiliations": list(affiliations or []),
        "email_domain": email_domain, "reference_institutions": list(reference_institutions or []),
        "reference_countries": list(reference_countries or []),
    }


@dataclass
class IngestError:
    """One item that could not be used, and why. Stored in the `ingest_errors` table."""

    partition_key: str
    stage: str
    item: str
    reason: str
    severity: str = "error"  # "error": item dropped; "warning": item kept, with a caveat

    def row(self) -> dict:
        return asdict(self)


# -- what a stage hands back to the asset that ran it ----------------------------------------


# Characters no text of ours may hold: lone UTF-16 surrogates (JSON's "\ud800" decodes to one,
# and UTF-8 cannot encode it) and C0 controls other than tab and line breaks (NUL among them).
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _dirty(value: Any) -> bool:
    """Whether `value` holds a text `scrub` would change; reads without building anything."""
    if value.__class__ is str:
        return _UNWRITABLE.search(value) is not None
    if isinstance(value, (list, tuple)):
        texts = [v for v in value if v.__class__ is str]
        if texts and _UNWRITABLE.search("\n".join(texts)):  # one search for the texts of a list
            return True
        return len(texts) < len(value) and any(_dirty(v) for v in value if v.__class__ is not str)
    if isinstance(value, dict):
        return _dirty(list(value.values()))
    return isinstance(value, str) and _UNWRITABLE.search(value) is not None


def scrub(value: Any) -> tuple[Any, bool]:
    """`value` with lone surrogates made U+FFFD and control characters dropped, through lists,
    tuples and dicts; and whether anything changed. A value with nothing to change is returned
    as it is, after one read through it."""
    if not _dirty(value):
        return value, False
    return _scrubbed(value)


def _scrubbed(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str):
        if not _UNWRITABLE.search(value):
            return value, False
        return _UNWRITABLE.sub(lambda m: "\ufffd" if m.group() >= "\ud800" else "", value), True
    if isinstance(value, (list, tuple)):
        items = [_scrubbed(v) for v in value]
        return type(value)(v for v, _ in items), any(c for _, c in items)
    if isinstance(value, dict):
        items = {k: _scrubbed(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(c for _, c in items.values())
    return value, False


# What orjson writes for a character `scrub` would change: a control's escape (\\u0000-\\u001f,
# \\b, \\f; tab and line breaks are written \\t, \\n, \\r) or a surrogate's (\\ud800-\\udfff).
# orjson refuses to write a lone surrogate at all. On a document orjson parsed, the same
# pattern finds every escape that could decode to one (a pair is one character: a false alarm).
MAY_BE_UNWRITABLE = re.compile(rb"\\(?:u(?:00[01][0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2})|[bf])")


# `pdf_path` names a file, it is not text to show: cleaning it would name a file that does not
# exist. The local source keeps it as the exact, storable text of pipeline/filenames.py.
_SCRUBBED_FIELDS = [f for f in _PAPER_FIELDS if f.name != "pdf_path"]


def scrub_paper(paper: "Paper") -> list[str]:
    """Scrub every text of `paper` but its `pdf_path` in place (see `scrub`); the names of the
    fields that changed. A paper whose JSON shows nothing to scrub (the usual case) is not walked
    field by field."""
    try:
        if not MAY_BE_UNWRITABLE.search(orjson.dumps([getattr(paper, f.name) for f in _SCRUBBED_FIELDS])):
            return []
    except TypeError:  # a lone surrogate (orjson.JSONEncodeError), or a value orjson does not write
        pass
    changed = []
    for f in _SCRUBBED_FIELDS:
        value, dirty = scrub(getattr(paper, f.name))
        if dirty:
            setattr(paper, f.name, value)
            changed.append(f.name)
    return changed


def yaml_problem(exc: BaseException) -> str:
    """A YAML parse error in one line: where it is and what is wrong."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    return f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else \
        f"not valid YAML: {problem}"


def load_yaml(source) -> Any:
    """A YAML document (text or an open file) with the safe loader, through libyaml when it is
    there: about ten times faster (the term catalogue, which every PDF worker loads: 3 ms, not 26)."""
    import yaml

    return yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def read_yaml(path) -> Any:
    """The YAML document in the file at `path`. A file that cannot be read, is not UTF-8 or is
    not valid YAML raises ValueError with the reason in one line (the caller names the file)."""
    import yaml

    try:
        return load_yaml(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(yaml_problem(exc)) from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror or exc})") from exc


def root_cause(exc: BaseException) -> BaseException:
    """The error under the wrappers: what `exc` was raised from, or during, all the way down."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        below = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if below is None:
            break
        exc = below
    return exc


def root_error(exc: BaseException) -> str:
    """The error under the wrappers as `Type: message`: the cause a user can act on, e.g.
    `OSError: [Errno 36] File name too long: …`."""
    exc = root_cause(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def missing(value: Any) -> bool:
    """None, NaN or pandas' NA: a value the store or a frame left empty. The one such test."""
    if value is None:
        return True
    if value.__class__ is str:  # most values: neither NaN nor NA (the step below costs more)
        return False
    if isinstance(value, float) and math.isnan(value):
        return True
    pd = sys.modules.get("pandas")  # no pd.NA can exist where pandas was never imported
    return pd is not None and value is pd.NA


def clean(value: Any) -> Any:
    """The value, or None when it is missing."""
    return None if missing(value) else value


class Markdown(str):
    """Metadata text the UI renders as Markdown (a table, a report)."""


class Url(str):
    """Metadata that is a link."""


class FilePath(str):
    """Metadata that is a path on disk."""


@dataclass(frozen=True)
class Png:
    """A chart for the UI."""

    data: bytes
    alt: str


@dataclass
class Check:
    """The result of one asset check, as the stage measured it."""

    name: str
    passed: bool
    metadata: dict[str, Any] = field(default_factory=dict)
    severity: str = "error"  # "error" fails the run; "warn" only shows
    description: str | None = None


@dataclass
class Outcome:
    """What one step of a stage did: the rows it wrote, metadata for the UI (plain values,
    dicts and lists as JSON, `Markdown`, `Png`, `Url`, `FilePath`), its checks and, for
    reference data, the data version (the input file's SHA-256)."""

    rows: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    data_version: str | None = None
    row: str | None = None  # what one row of `rows` is ("paper and country"): the UI says it beside the count


@dataclass(frozen=True)
class Share:
    """A part of a whole, for people: "2.8% (16 of 570 papers)". `of` names the whole."""

    part: float
    whole: float
    of: str = "papers"

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    def __str__(self) -> str:
        if not self.whole:
            return f"n/a (0 {self.of})"
        return f"{percent(self.value)} ({self.part:,g} of {self.whole:,g} {self.of})"


def percent(value: float | None) -> str:
    """A share as people read it: 0.0281 -> "2.8%"; tiny non-zero shares are not shown as 0."""
    if value is None:
        return "n/a"
    pct = 100 * value
    if 0 < pct < 0.05:
        return "<0.1%"
    if 99.95 <= pct < 100:
        return ">99.9%"
    return f"{pct:.1f}%"


class StageFailure(RuntimeError):
    """The step cannot go on (a source, the registry, the catalogue is unusable). The reason is
    already in `ingest_errors`; the asset fails with it, without a traceback for the user."""


class Progress:
    """Reports `done of total` through `log` at most every `every` seconds, and the total at the
    end when it reported before: a step that ends within seconds says nothing; a long one shows
    it is moving."""

    def __init__(self, log: Callable[[str], None], label: str, total: int, every: float = 5.0):
        self.log, self.label, self.total, self.every = log, label, total, every
        self.last = time.monotonic()
        self.shown = False

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.every or (done == self.total and self.shown):
            self.last, self.shown = now, True
            self.log(f"{self.label}: {done}/{self.total}")
