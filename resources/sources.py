"""The paper sources, one Dagster resource per external system (paperlists, a conference's
virtual site, the proceedings, OpenReview, OpenAlex, the local PDF folders), and the sources
plan. Each resource names its source in pipeline/sources/registry.py and carries the values
`Settings` gave it; credentials are read from the settings when a source is used, never kept in
a resource's configuration (which the UI shows)."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.sources import registry
from paperatlas.pipeline.sources.base import Source, SourceConfig
from paperatlas.pipeline.sources.plan import SourcePlan, load_plan


class PaperSource(ConfigurableResource):
    """One paper source of pipeline/sources/registry.py and how it reaches its system."""

    source: str = Field(description="The source's name in the registry.")
    location: str = Field(description="Base URL, API or folder; empty for the source's own default.")
    cache_dir: str = Field(description="On-disk HTTP cache folder.")
    timeout: float = Field(description="Seconds per HTTP request.")
    retries: int = Field(description="Retries on 429, 5xx, timeouts, cut transfers and connection errors.")
    rate: float = Field(description="At most this many requests per second to one host; 0: the source's default.")
    split: int = Field(default=0, description="A venue-year with more works than this is read as sub-partitions "
                       "(months, then subfields; PAPERATLAS_OPENALEX_SPLIT); 0: never split.")
    allow_private_links: bool = Field(default=False, description="Links found in the data may reach this machine's "
                                      "network (PAPERATLAS_ALLOW_PRIVATE_LINKS).")

    def reader(self) -> Source:
        config = SourceConfig(cache_dir=self.cache_dir, timeout=self.timeout, retries=self.retries, rate=self.rate,
                              location=self.location, split=self.split, allow_private_links=self.allow_private_links,
                              credentials=registry.credentials(load_settings()))
        return registry.create(self.source, config)


def source_resources(settings) -> dict[str, PaperSource]:
    """One resource per source of the registry, keyed by its name."""
    return {name: PaperSource(source=name, location=c.location, cache_dir=c.cache_dir, timeout=c.timeout,
                              retries=c.retries, rate=c.rate, split=c.split,
                              allow_private_links=c.allow_private_links)
            for name, c in registry.configs(settings).items()}


class SourcesPlanFile(ConfigurableResource):
    """The user's sources file (YAML), laid over the plan shipped with paperatlas."""

    path: str = Field(description="Sources YAML; a missing file means the built-in plan.")

    def plan(self) -> SourcePlan:
        return load_plan(self.path or None)
