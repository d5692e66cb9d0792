"""Every paper source paperatlas can read, by name: the one list.

The sources plan validates names against it, `raw_papers` reads through it, `paperatlas
sources` asks it where each source reads, the new-year sensor asks it whether a year is out,
and the Dagster resources (one per source: resources/sources.py) are built from it with the
values of `Settings`. To add a source: a module in this package with a class of the `Source`
shape (pipeline/sources/base.py), and one entry below.

A venue-year with a local folder of PDFs is read from it alone: `local` comes first and is
not named in plans.
"""

from __future__ import annotations

from dataclasses import replace

from .base import Source, SourceConfig
from .local import LocalFolders
from .openalex import OpenAlex
from .openalex_snapshot import OpenAlexSnapshot
from .openreview import OpenReview
from .paperlists import Paperlists
from .proceedings import Proceedings
from .virtual_site import VirtualSite

SOURCES: dict[str, type] = {
    cls.name: cls for cls in (LocalFolders, Paperlists, VirtualSite, Proceedings, OpenReview, OpenAlex, OpenAlexSnapshot)
}
LOCAL = LocalFolders.name
NAMES = tuple(SOURCES)
PLANNED = tuple(n for n in NAMES if n != LOCAL)  # the names a sources plan may list

CREDENTIALS = ("openreview_token", "openreview_username", "openreview_password", "openalex_api_key",
               "openalex_email")


def configs(settings) -> dict[str, SourceConfig]:
    """Each source's configuration from the settings (pipeline/config.py): the one mapping."""
    common = dict(cache_dir=str(settings.cache_dir), timeout=settings.http_timeout, retries=settings.http_retries,
                  rate=settings.source_rate or 0.0,
                  allow_private_links=settings.allow_private_links)  # links found in the data
    where = {LOCAL: str(settings.local_dir), Paperlists.name: settings.paperlists_base,
             OpenAlex.name: settings.openalex_base, OpenAlexSnapshot.name: settings.openalex_snapshot or ""}
    split = {OpenAlex.name: settings.openalex_split, OpenAlexSnapshot.name: settings.openalex_split}
    return {name: SourceConfig(location=where.get(name, ""), split=split.get(name, 0), **common) for name in NAMES}


def credentials(settings) -> tuple[tuple[str, str], ...]:
    """The secrets sources may need (never stored in a resource's configuration)."""
    return tuple((k, getattr(settings, k)) for k in CREDENTIALS if getattr(settings, k, None))


def create(name: str, config: SourceConfig) -> Source:
    if name not in SOURCES:
        raise KeyError(f"unknown source {name!r} (known: {', '.join(NAMES)})")
    return SOURCES[name](config)


def build(settings) -> dict[str, Source]:
    """Every source, configured from the settings (with their credentials)."""
    secrets = credentials(settings)
    return {name: create(name, replace(config, credentials=secrets)) for name, config in configs(settings).items()}
