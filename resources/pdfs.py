"""The PDF store: downloads under `$PAPERATLAS_HOME/pdfs`, their texts under `$PAPERATLAS_HOME/texts`,
and how PDFs are read."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from paperatlas.pipeline.http import HostPacer, HttpClient
from paperatlas.pipeline.pdfs.downloads import PdfStore


class PdfStoreResource(ConfigurableResource):
    """Where paper PDFs are kept and how they are downloaded."""

    directory: str = Field(description="Folder of the store: <root>/<venue-year>/<safe id>.pdf.")
    text_directory: str = Field(description="Cache of the PDFs' full texts, by SHA-256.")
    mode: str = Field(description="download | cached (no network: use stored files) | off (skip PDFs).")
    max_mb: float = Field(description="Largest PDF accepted, in MB.")
    concurrency: int = Field(description="Downloads at once.")
    rate_per_host: float = Field(description="Requests per second to one host at most.")
    timeout: float = Field(description="Seconds per HTTP request.")
    retries: int = Field(description="Retries on 429, 5xx, timeouts, dropped connections.")
    host_failure_limit: int = Field(default=3, description="Give a host up after this many papers failed in a row.")
    workers: int = Field(default=0, description="Processes reading PDFs; 0 means one per core.")
    allow_private_links: bool = Field(default=False, description="Download PDF links that point to this machine's "
                                      "network (PAPERATLAS_ALLOW_PRIVATE_LINKS: local mirrors, tests).")

    def store(self) -> PdfStore:
        http = HttpClient(None, timeout=self.timeout, retries=self.retries, pacer=HostPacer(self.rate_per_host),
                          allow_private_links=self.allow_private_links)
        return PdfStore(Path(self.directory), http, mode=self.mode, max_bytes=int(self.max_mb * 1024 * 1024),
                        concurrency=self.concurrency, host_failure_limit=self.host_failure_limit)

    def texts(self) -> Path:
        return Path(self.text_directory)

    def processes(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)
