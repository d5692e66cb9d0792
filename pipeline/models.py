"""Plain records shared by the stages. Each maps to one row of a DuckDB table."""

from __future__ import annotations

import json
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
    # Every source's view of each author, in author order, when the source gives more than a
    # name and strings (OpenReview, OpenAlex) or when several sources were merged. One list per
    # author of blocks {source, ref, name, affiliations, email_domain, reference_institutions,
    # reference_countries}; the first block with affiliations is the one that counts. The
    # reference_* fields are the source's own institutions/countries: for comparison only.
    author_sources: list[list[dict]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # every source that saw the paper, by priority
    source_ids: list[str] = field(default_factory=list)  # "<source>:<its id>" for each

    def row(self) -> dict:
        row = asdict(self)
        row["author_sources"] = json.dumps(self.author_sources, ensure_ascii=False) if self.author_sources else None
        row["sources"] = self.sources or ([self.source] if self.source else [])
        row["source_ids"] = self.source_ids or ([f"{self.source}:{self.paper_id}"] if self.source else [])
        return row


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
