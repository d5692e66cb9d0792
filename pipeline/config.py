"""Configuration read from environment variables, with defaults that work offline.

Every variable is documented in the README; this module is the only place that reads them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .countries.decision import DEFAULT_PLACEMENT, PLACEMENTS

DEFAULT_PAPERLISTS_BASE = "https://raw.githubusercontent.com/papercopilot/paperlists/main"
USER_AGENT = "paperatlas/0.1 (+https://github.com/paperatlas/paperatlas; research pipeline)"


def default_home() -> Path:
    """`$PAPERATLAS_HOME`, else `./.paperatlas` when it exists, else the user data dir."""
    env = os.environ.get("PAPERATLAS_HOME")
    if env:
        return Path(env).expanduser().resolve()
    local = Path.cwd() / ".paperatlas"
    if local.exists():
        return local.resolve()
    try:
        from platformdirs import user_data_dir

        return Path(user_data_dir("paperatlas", appauthor=False))
    except ImportError:  # pragma: no cover - platformdirs is a declared dependency
        return local.resolve()


@dataclass(frozen=True)
class Settings:
    home: Path
    paperlists_base: str
    ror_dump: str | None
    overrides_file: Path
    http_timeout: float
    http_retries: int
    pdf_mode: str = "download"
    pdf_rate: float = 1.0
    pdf_concurrency: int = 4
    pdf_max_mb: float = 200.0
    local_dir_env: str | None = None
    terms_env: str | None = None
    sources_env: str | None = None
    source_rate: float | None = None  # requests per second per host; None: each source's default
    placement: str = DEFAULT_PLACEMENT  # where a multinational named without a place counts: hq or coauthors

    @property
    def sources_file(self) -> Path:
        """The user's sources plan: `PAPERATLAS_SOURCES`, else `$PAPERATLAS_HOME/sources.yaml`."""
        return Path(self.sources_env).expanduser() if self.sources_env else self.home / "sources.yaml"

    @property
    def terms_file(self) -> Path | None:
        """The term catalogue: `PAPERATLAS_TERMS`, else None (the catalogue shipped with paperatlas)."""
        return Path(self.terms_env).expanduser() if self.terms_env else None

    @property
    def text_dir(self) -> Path:
        return self.home / "texts"

    @property
    def reports_dir(self) -> Path:
        """Where `venue_year_report` writes each venue-year's report folder."""
        return self.home / "reports"

    @property
    def database(self) -> Path:
        return self.home / "paperatlas.duckdb"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def pdf_dir(self) -> Path:
        return self.home / "pdfs"

    @property
    def local_dir(self) -> Path:
        return Path(self.local_dir_env).expanduser() if self.local_dir_env else self.home / "local"

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME") or (self.home / "dagster"))


def _float_env(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a number") from exc


def _choice_env(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (os.environ.get(name) or default).strip().lower()
    if raw not in choices:
        raise ValueError(f"{name}={raw!r}: expected one of {', '.join(choices)}")
    return raw


def load_settings() -> Settings:
    home = default_home()
    return Settings(
        home=home,
        paperlists_base=os.environ.get("PAPERATLAS_PAPERLISTS_BASE") or DEFAULT_PAPERLISTS_BASE,
        ror_dump=os.environ.get("PAPERATLAS_ROR_DUMP") or None,
        overrides_file=Path(os.environ.get("PAPERATLAS_OVERRIDES") or (home / "overrides.yaml")).expanduser(),
        http_timeout=_float_env("PAPERATLAS_HTTP_TIMEOUT", 60.0),
        http_retries=int(_float_env("PAPERATLAS_HTTP_RETRIES", 5)),
        pdf_mode=_choice_env("PAPERATLAS_PDFS", "download", ("download", "cached", "off")),
        pdf_rate=_float_env("PAPERATLAS_PDF_RATE", 1.0),
        pdf_concurrency=max(1, int(_float_env("PAPERATLAS_PDF_CONCURRENCY", 4))),
        pdf_max_mb=_float_env("PAPERATLAS_PDF_MAX_MB", 200.0),
        local_dir_env=os.environ.get("PAPERATLAS_LOCAL_DIR") or None,
        terms_env=os.environ.get("PAPERATLAS_TERMS") or None,
        sources_env=os.environ.get("PAPERATLAS_SOURCES") or None,
        source_rate=_float_env("PAPERATLAS_SOURCE_RATE", None),
        placement=_choice_env("PAPERATLAS_PLACEMENT", DEFAULT_PLACEMENT, PLACEMENTS),
    )
