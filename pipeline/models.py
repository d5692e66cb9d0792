"""Plain records shared by the stages. Each maps to one row of a DuckDB table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone


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

    def row(self) -> dict:
        return asdict(self)


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
