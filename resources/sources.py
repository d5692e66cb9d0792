"""The paper sources besides paperlists and local folders, one resource per external system,
and the plan saying which of them feed each venue-year.

Every source reads through `pipeline.http.HttpClient`: retries with backoff on 429/5xx,
timeouts and cut transfers (a 429's announced reset time is honoured), a polite request rate
per host, and an on-disk cache so that a re-run reads the bytes the first run read (`refresh`
revalidates). Credentials come from environment variables named here, never from the run
configuration, and never reach the cache or a message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from pipeline.http import HostPacer, HttpClient
from pipeline.partitions import PartitionKey
from pipeline.sources import openalex, openreview, proceedings, virtual_site
from pipeline.sources.base import ParseResult, SourceError
from pipeline.sources.plan import SourcePlan, VenuePlan, load_plan

Progress = Callable[[str], None]


class _HttpSource(ConfigurableResource):
    cache_dir: str | None = Field(default=None, description="On-disk HTTP cache folder.")
    timeout: float = Field(default=60.0, description="Seconds per HTTP request.")
    retries: int = Field(default=5, description="Retries on 429, 5xx, timeouts, cut transfers and connection errors.")
    rate: float = Field(default=2.0, description="At most this many requests per second to one host.")

    def client(self) -> HttpClient:
        return HttpClient(Path(self.cache_dir) if self.cache_dir else None, timeout=self.timeout,
                          retries=self.retries, pacer=HostPacer(self.rate))


class VirtualSiteSource(_HttpSource):
    """A conference virtual site's `…-orals-posters.json` (neurips.cc, icml.cc, iclr.cc)."""

    def papers(self, pk: PartitionKey, venue: VenuePlan, refresh: bool = False, progress: Progress | None = None) -> ParseResult:
        return virtual_site.read(self.client(), pk, venue.virtual_site, refresh=refresh)

    def available(self, pk: PartitionKey, venue: VenuePlan) -> bool:
        return virtual_site.available(self.client(), pk, venue.virtual_site)


class ProceedingsSource(_HttpSource):
    """The NeurIPS proceedings site: the year's listing, then each abstract page."""

    concurrency: int = Field(default=4, description="Abstract pages read at once (the rate still applies).")

    def papers(self, pk: PartitionKey, venue: VenuePlan, refresh: bool = False, progress: Progress | None = None) -> ParseResult:
        return proceedings.read(self.client(), pk, venue.proceedings, refresh=refresh,
                                concurrency=self.concurrency, progress=progress)

    def available(self, pk: PartitionKey, venue: VenuePlan) -> bool:
        return proceedings.available(self.client(), pk, venue.proceedings)


class OpenReviewSource(_HttpSource):
    """OpenReview API v2: accepted notes of a venue id, and the authors' profiles."""

    api: str = Field(default=openreview.DEFAULT_API, description="API v2 base URL.")
    token_env: str = Field(default="PAPERATLAS_OPENREVIEW_TOKEN", description="Variable holding a token (optional).")
    username_env: str = Field(default="PAPERATLAS_OPENREVIEW_USERNAME", description="Variable holding a user name (optional).")
    password_env: str = Field(default="PAPERATLAS_OPENREVIEW_PASSWORD", description="Variable holding the password.")

    def headers(self, http: HttpClient) -> dict[str, str]:
        token = os.environ.get(self.token_env)
        username, password = os.environ.get(self.username_env), os.environ.get(self.password_env)
        if not token and username:
            if not password:
                raise SourceError(f"{self.username_env} is set but {self.password_env} is not")
            token = openreview.login(http, self.api, username, password)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def papers(self, pk: PartitionKey, venue: VenuePlan, refresh: bool = False, progress: Progress | None = None) -> ParseResult:
        http = self.client()
        return openreview.read(http, pk, list(venue.openreview), self.api, self.headers(http), refresh, progress)

    def available(self, pk: PartitionKey, venue: VenuePlan) -> bool:
        http = self.client()
        return bool(venue.openreview) and openreview.available(http, pk, list(venue.openreview), self.api, self.headers(http))


class OpenAlexSource(_HttpSource):
    """OpenAlex works selected by a filter (a journal, a topic) and the year."""

    api: str = Field(default=openalex.DEFAULT_API, description="API base URL.")
    api_key_env: str = Field(default="PAPERATLAS_OPENALEX_API_KEY", description="Variable holding an API key (optional).")
    email_env: str = Field(default="PAPERATLAS_OPENALEX_EMAIL", description="Variable holding a contact e-mail (optional).")
    rate: float = Field(default=5.0, description="At most this many requests per second (OpenAlex allows 10).")

    def secret_params(self) -> dict[str, str]:
        params = {}
        if os.environ.get(self.api_key_env):
            params["api_key"] = os.environ[self.api_key_env]
        if os.environ.get(self.email_env):
            params["mailto"] = os.environ[self.email_env]
        return params

    def papers(self, pk: PartitionKey, venue: VenuePlan, refresh: bool = False, progress: Progress | None = None) -> ParseResult:
        if not venue.openalex:
            raise SourceError(f"{pk}: no OpenAlex filter is configured for venue {pk.venue!r}")
        return openalex.read(self.client(), pk, venue.openalex, self.api, self.secret_params(), refresh, progress)

    def available(self, pk: PartitionKey, venue: VenuePlan) -> bool:
        return bool(venue.openalex) and openalex.available(self.client(), pk, venue.openalex, self.api, self.secret_params())


class SourcesPlanFile(ConfigurableResource):
    """The user's sources file (YAML), laid over the plan shipped with paperatlas."""

    path: str = Field(default="", description="Sources YAML; a missing file means the built-in plan.")

    def plan(self) -> SourcePlan:
        return load_plan(self.path or None)
