"""The papercopilot/paperlists dataset, from its GitHub raw URL or a local copy."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from pipeline.config import DEFAULT_PAPERLISTS_BASE
from pipeline.http import HttpClient
from pipeline.partitions import PartitionKey
from pipeline.sources.paperlists import (
    ParseResult, SourceFile, available, locate_and_read, parse_records,
)


class PaperlistsSource(ConfigurableResource):
    """Reads `{name}/{name}{year}.json` or `{name}{year}.json` under `base` (URL or folder)."""

    base: str = Field(default=DEFAULT_PAPERLISTS_BASE, description="Base URL or local directory.")
    cache_dir: str | None = Field(default=None, description="On-disk HTTP cache folder.")
    timeout: float = Field(default=60.0, description="Seconds per HTTP request.")
    retries: int = Field(default=5, description="Retries on 429, 5xx, timeouts and connection errors.")
    include_rejected: bool = Field(default=False, description="Keep rejected/withdrawn submissions.")

    def client(self) -> HttpClient:
        return HttpClient(Path(self.cache_dir) if self.cache_dir else None, timeout=self.timeout, retries=self.retries)

    def read(self, pk: PartitionKey, refresh: bool = False) -> SourceFile:
        return locate_and_read(self.base, pk, self.client(), refresh=refresh)

    def load(self, pk: PartitionKey, refresh: bool = False) -> tuple[SourceFile, ParseResult]:
        source = self.read(pk, refresh=refresh)
        parsed = parse_records(
            source.content, pk, source.ref, source.sha256, self.include_rejected, fetched_at=source.fetched_at
        )
        return source, parsed

    def papers(self, pk: PartitionKey, venue=None, refresh: bool = False, progress=None) -> ParseResult:
        """The venue-year's papers, like every other source resource (`venue` is not needed)."""
        source, parsed = self.load(pk, refresh=refresh)
        parsed.source, parsed.refs, parsed.sha256 = "paperlists", [source.ref], source.sha256
        parsed.from_cache = source.from_cache
        return parsed

    def available(self, pk: PartitionKey, venue=None) -> bool:
        return available(self.base, pk, self.client())

