"""Settings: the only code that reads the environment.

Every variable is listed once, in `VARIABLES`, with the default the docs show; `load_settings`
reads them into one `Settings`, and the resources, the sources and the command line take their
values from it. docs/configuration.md lists the same variables (a test keeps the two equal).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from .conventions import PLACEMENT

DEFAULT_PAPERLISTS_BASE = "https://raw.githubusercontent.com/papercopilot/paperlists/main"
DEFAULT_OPENALEX_BASE = "https://api.openalex.org"
PDF_MODES = ("download", "cached", "off")
STORES = ("duckdb", "delta")
EXECUTORS = ("multiprocess", "celery")
# The object store's own settings, passed to delta-rs and pyarrow as they are (S3 and MinIO).
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                 "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ALLOW_HTTP", "AWS_S3_LOCKING_PROVIDER",
                 "AWS_CONDITIONAL_PUT", "DELTA_DYNAMO_TABLE_NAME")


@dataclass(frozen=True)
class Variable:
    name: str
    default: str  # as docs/configuration.md prints it


VARIABLES = (
    Variable("PAPERATLAS_HOME", "`./.paperatlas` if it exists, else the user data folder"),
    Variable("DAGSTER_HOME", "`$PAPERATLAS_HOME/dagster`"),
    Variable("PAPERATLAS_STORE", "`duckdb`"),
    Variable("PAPERATLAS_STORE_URI", "`$PAPERATLAS_HOME/delta`"),
    Variable("PAPERATLAS_FILES", "`$PAPERATLAS_HOME`"),
    Variable("PAPERATLAS_EXECUTOR", "`multiprocess`"),
    Variable("PAPERATLAS_CELERY_BROKER", "`redis://127.0.0.1:6379/0`"),
    Variable("PAPERATLAS_CELERY_BACKEND", "the broker"),
    Variable("PAPERATLAS_RUN_CONCURRENCY", "`1`"),
    Variable("PAPERATLAS_STORE_THREADS", "DuckDB's own (one per core); with `run --jobs N`, cores / N per run"),
    Variable("PAPERATLAS_PAPERLISTS_BASE", f"`{DEFAULT_PAPERLISTS_BASE}`"),
    Variable("PAPERATLAS_ROR_DUMP", "the newest dump in ROR's Zenodo record"),
    Variable("PAPERATLAS_OVERRIDES", "`$PAPERATLAS_HOME/overrides.yaml`"),
    Variable("PAPERATLAS_SOURCES", "`$PAPERATLAS_HOME/sources.yaml`"),
    Variable("PAPERATLAS_COUNTRY_GROUPS", "`$PAPERATLAS_HOME/country_groups.yaml`"),
    Variable("PAPERATLAS_LOCAL_DIR", "`$PAPERATLAS_HOME/local`"),
    Variable("PAPERATLAS_TERMS", "`pipeline/data/terms.yaml`"),
    Variable("PAPERATLAS_PLACEMENT", "`hq`"),
    Variable("PAPERATLAS_HTTP_TIMEOUT", "`60`"),
    Variable("PAPERATLAS_HTTP_RETRIES", "`5`"),
    Variable("PAPERATLAS_SOURCE_RATE", "each source's own"),
    Variable("PAPERATLAS_PDFS", "`download`"),
    Variable("PAPERATLAS_PDF_RATE", "`1`"),
    Variable("PAPERATLAS_PDF_CONCURRENCY", "`4`"),
    Variable("PAPERATLAS_PDF_MAX_MB", "`200`"),
    Variable("PAPERATLAS_PDF_SECONDS", "`60`"),
    Variable("PAPERATLAS_PDF_MEMORY_MB", "`1024`"),
    Variable("PAPERATLAS_ALLOW_PRIVATE_LINKS", "`0`"),
    Variable("PAPERATLAS_OPENREVIEW_TOKEN", "unset"),
    Variable("PAPERATLAS_OPENREVIEW_USERNAME", "unset"),
    Variable("PAPERATLAS_OPENREVIEW_PASSWORD", "unset"),
    Variable("PAPERATLAS_OPENALEX_BASE", f"`{DEFAULT_OPENALEX_BASE}`"),
    Variable("PAPERATLAS_OPENALEX_SPLIT", "`20000`"),
    Variable("PAPERATLAS_OPENALEX_API_KEY", "unset"),
    Variable("PAPERATLAS_OPENALEX_EMAIL", "unset"),
    Variable("PAPERATLAS_OPENALEX_SNAPSHOT", "unset"),
)
NAMES = {v.name for v in VARIABLES}


def _env(name: str) -> str | None:
    assert name in NAMES, f"{name} is not in VARIABLES"
    return os.environ.get(name) or None


def path_with_this_python() -> str:
    """PATH with this Python's bin folder first: tools started by name (dagster-celery starts
    `celery`) are then the ones installed beside paperatlas, on PATH or not."""
    import sys

    return os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", os.defpath)


def is_set(name: str) -> bool:
    """Whether the environment sets `name` (a URL set there is passed on by name, not value)."""
    return _env(name) is not None


def chart_library_home() -> Path:
    """Point matplotlib's config and font cache (MPLCONFIGDIR) into paperatlas's own files:
    `$PAPERATLAS_FILES/cache/matplotlib`. Without it matplotlib creates `~/.config/matplotlib`
    and writes `~/.cache/matplotlib/fontlist-*.json`, even when HOME does not exist. When that
    folder cannot be written (a read-only home), a temporary folder is used and removed when
    the process ends, so a reading command leaves nothing anywhere. A MPLCONFIGDIR the user
    set is kept. Call before matplotlib is imported."""
    import atexit
    import shutil
    import tempfile

    if os.environ.get("MPLCONFIGDIR"):
        return Path(os.environ["MPLCONFIGDIR"])
    folder = load_settings().cache_dir / "matplotlib"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        writable = os.access(folder, os.W_OK | os.X_OK)
    except OSError:
        writable = False
    if not writable:
        folder = Path(tempfile.mkdtemp(prefix="paperatlas-matplotlib-"))
        atexit.register(shutil.rmtree, folder, True)
    os.environ["MPLCONFIGDIR"] = str(folder)  # the processes this one starts use it too
    return folder


def default_home() -> Path:
    """`$PAPERATLAS_HOME`, else `./.paperatlas` when it exists, else the user data dir."""
    env = _env("PAPERATLAS_HOME")
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
    paperlists_base: str = DEFAULT_PAPERLISTS_BASE
    openalex_base: str = DEFAULT_OPENALEX_BASE  # the OpenAlex API, or a mirror serving /works the same way
    # A venue-year with more OpenAlex works than this is read as sub-partitions (months, then subfields).
    openalex_split: int = 20_000
    openalex_snapshot: str | None = None  # the OpenAlex snapshot: a folder or s3://bucket/prefix holding data/works
    ror_dump: str | None = None  # None: the newest dump on Zenodo; "none": no registry
    overrides_env: str | None = None
    http_timeout: float = 60.0
    http_retries: int = 5
    pdf_mode: str = "download"
    pdf_rate: float = 1.0
    pdf_concurrency: int = 4
    pdf_max_mb: float = 200.0
    pdf_seconds: float = 60.0  # one PDF's reading in a worker, wall clock (real papers: under 1 s)
    pdf_memory_mb: float = 1024.0  # what a worker may allocate to read one PDF (real papers: under 25 MB)
    allow_private_links: bool = False  # links from source data may reach loopback/private addresses
    local_dir_env: str | None = None
    terms_env: str | None = None
    sources_env: str | None = None
    country_groups_env: str | None = None
    source_rate: float | None = None  # requests per second per host; None: each source's default
    placement: str = PLACEMENT.default  # where a multinational named without a place counts: hq or coauthors
    dagster_home_env: str | None = None
    store: str = "duckdb"  # duckdb (one machine) or delta (many workers)
    store_uri_env: str | None = None
    files_env: str | None = None  # the shared folder for PDFs, texts, reports and the download cache
    executor: str = "multiprocess"
    celery_broker: str = "redis://127.0.0.1:6379/0"
    celery_backend: str | None = None
    run_concurrency: int = 1  # Dagster runs `paperatlas run` keeps in flight at once (--jobs)
    store_threads: int | None = None  # DuckDB threads per store connection; None: DuckDB's default
    store_options: dict = field(default_factory=dict, repr=False)  # AWS_* as set
    openreview_token: str | None = field(default=None, repr=False)
    openreview_username: str | None = field(default=None, repr=False)
    openreview_password: str | None = field(default=None, repr=False)
    openalex_api_key: str | None = field(default=None, repr=False)
    openalex_email: str | None = field(default=None, repr=False)

    @property
    def overrides_file(self) -> Path:
        return Path(self.overrides_env).expanduser() if self.overrides_env else self.home / "overrides.yaml"

    @property
    def sources_file(self) -> Path:
        """The user's sources plan: `PAPERATLAS_SOURCES`, else `$PAPERATLAS_HOME/sources.yaml`."""
        return Path(self.sources_env).expanduser() if self.sources_env else self.home / "sources.yaml"

    @property
    def country_groups_file(self) -> Path | None:
        """The user's country groups: `PAPERATLAS_COUNTRY_GROUPS` (which must then exist), else
        `$PAPERATLAS_HOME/country_groups.yaml` when present, else None (the built-in groups only)."""
        if self.country_groups_env:
            return Path(self.country_groups_env).expanduser()
        default = self.home / "country_groups.yaml"
        return default if default.is_file() else None

    @property
    def terms_file(self) -> Path | None:
        """The term catalogue: `PAPERATLAS_TERMS`, else None (the catalogue shipped with paperatlas)."""
        return Path(self.terms_env).expanduser() if self.terms_env else None

    @property
    def files(self) -> Path:
        """Where the PDFs, their texts, the reports and the download cache live: a folder every
        worker sees when the work is spread over machines (`PAPERATLAS_FILES`)."""
        return Path(self.files_env).expanduser() if self.files_env else self.home

    @property
    def text_dir(self) -> Path:
        return self.files / "texts"

    @property
    def reports_dir(self) -> Path:
        """Where `venue_year_report` writes each venue-year's report folder."""
        return self.files / "reports"

    @property
    def database(self) -> Path:
        return self.home / "paperatlas.duckdb"

    @property
    def store_uri(self) -> str:
        """The Delta store's folder or s3:// URI."""
        return self.store_uri_env or str(self.home / "delta")

    @property
    def store_location(self) -> str:
        """What the store is, for messages: the DuckDB file or the Delta URI."""
        return self.store_uri if self.store == "delta" else str(self.database)

    @property
    def cache_dir(self) -> Path:
        return self.files / "cache"

    @property
    def pdf_dir(self) -> Path:
        return self.files / "pdfs"

    @property
    def local_dir(self) -> Path:
        return Path(self.local_dir_env).expanduser() if self.local_dir_env else self.home / "local"

    @property
    def dagster_home(self) -> Path:
        return Path(self.dagster_home_env).expanduser() if self.dagster_home_env else self.home / "dagster"


def _float_env(name: str, default: float | None, minimum: float = 0.0, above: bool = True,
               unit: str = "a number", whole: bool = False) -> float | None:
    """A finite number from `name` (a whole one with `whole`); `above`: strictly greater than
    `minimum`, else at least it. A value it cannot take is a ValueError naming the variable,
    the value and what it takes."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if (not math.isfinite(number) or (number <= minimum if above else number < minimum)
            or (whole and number != int(number))):
        bound = f"above {minimum:g}" if above else f"{minimum:g} or more"
        raise ValueError(f"{name}={raw!r}: expected {unit}, {bound}; fix the value or unset the variable")
    return number


def _int_env(name: str, default: int, minimum: int) -> int:
    return int(_float_env(name, default, minimum, above=False, unit="a whole number", whole=True))


def _choice_env(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (_env(name) or default).strip().lower()
    if raw not in choices:
        raise ValueError(f"{name}={raw!r}: expected one of {', '.join(choices)}")
    return raw


def _flag_env(name: str) -> bool:
    """On (`1`, `true`, `yes`, `on`) or off (unset, `0`, `false`, `no`, `off`); else a ValueError naming it."""
    value = _env(name) or "0"
    raw = value.strip().lower()
    if raw not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"{name}={value!r}: expected 1 or 0; fix the value or unset the variable")
    return raw in ("1", "true", "yes", "on")


def _url_env(name: str, default: str) -> str:
    """An http(s) base URL from `name` (no trailing slash); anything else is a ValueError naming it."""
    raw = (_env(name) or default).strip().rstrip("/")
    if not raw.lower().startswith(("http://", "https://")) or len(raw.split("://", 1)[1]) == 0:
        raise ValueError(f"{name}={raw!r}: expected an http(s) URL such as {default}; fix the value or unset the variable")
    return raw


def _snapshot_env(name: str) -> str | None:
    """A folder or an s3://bucket[/prefix] URL from `name`; another URL is a ValueError naming it."""
    raw = (_env(name) or "").strip().rstrip("/")
    if not raw:
        return None
    if "://" in raw and not (raw.lower().startswith("s3://") and len(raw) > len("s3://")):
        raise ValueError(f"{name}={raw!r}: expected a folder or s3://bucket/prefix holding data/works; "
                         "fix the value or unset the variable")
    return raw if raw.startswith("s3://") else str(Path(raw).expanduser())


def store_options() -> dict[str, str]:
    """The AWS_* settings that are set, for the Delta store on S3 (secrets: never shown)."""
    return {name: os.environ[name] for name in AWS_VARIABLES if os.environ.get(name)}


def load_settings() -> Settings:
    broker = _env("PAPERATLAS_CELERY_BROKER") or Settings.celery_broker
    return Settings(
        home=default_home(),
        paperlists_base=_env("PAPERATLAS_PAPERLISTS_BASE") or Settings.paperlists_base,
        openalex_base=_url_env("PAPERATLAS_OPENALEX_BASE", Settings.openalex_base),
        openalex_split=_int_env("PAPERATLAS_OPENALEX_SPLIT", Settings.openalex_split, 1),
        openalex_snapshot=_snapshot_env("PAPERATLAS_OPENALEX_SNAPSHOT"),
        ror_dump=_env("PAPERATLAS_ROR_DUMP"),
        overrides_env=_env("PAPERATLAS_OVERRIDES"),
        http_timeout=_float_env("PAPERATLAS_HTTP_TIMEOUT", Settings.http_timeout, unit="a number of seconds"),
        http_retries=_int_env("PAPERATLAS_HTTP_RETRIES", Settings.http_retries, 0),
        pdf_mode=_choice_env("PAPERATLAS_PDFS", Settings.pdf_mode, PDF_MODES),
        pdf_rate=_float_env("PAPERATLAS_PDF_RATE", Settings.pdf_rate, above=False,
                            unit="a rate in requests per second (0: no limit)"),
        pdf_concurrency=_int_env("PAPERATLAS_PDF_CONCURRENCY", Settings.pdf_concurrency, 1),
        pdf_max_mb=_float_env("PAPERATLAS_PDF_MAX_MB", Settings.pdf_max_mb, unit="a size in megabytes"),
        pdf_seconds=_float_env("PAPERATLAS_PDF_SECONDS", Settings.pdf_seconds, unit="a number of seconds"),
        pdf_memory_mb=_float_env("PAPERATLAS_PDF_MEMORY_MB", Settings.pdf_memory_mb, unit="a size in megabytes"),
        allow_private_links=_flag_env("PAPERATLAS_ALLOW_PRIVATE_LINKS"),
        local_dir_env=_env("PAPERATLAS_LOCAL_DIR"),
        terms_env=_env("PAPERATLAS_TERMS"),
        sources_env=_env("PAPERATLAS_SOURCES"),
        country_groups_env=_env("PAPERATLAS_COUNTRY_GROUPS"),
        source_rate=_float_env("PAPERATLAS_SOURCE_RATE", None, unit="a rate in requests per second"),
        placement=_choice_env("PAPERATLAS_PLACEMENT", Settings.placement, PLACEMENT.choices),
        dagster_home_env=_env("DAGSTER_HOME"),
        store=_choice_env("PAPERATLAS_STORE", Settings.store, STORES),
        store_uri_env=_env("PAPERATLAS_STORE_URI"),
        files_env=_env("PAPERATLAS_FILES"),
        executor=_choice_env("PAPERATLAS_EXECUTOR", Settings.executor, EXECUTORS),
        celery_broker=broker,
        celery_backend=_env("PAPERATLAS_CELERY_BACKEND") or broker,
        run_concurrency=_int_env("PAPERATLAS_RUN_CONCURRENCY", Settings.run_concurrency, 1),
        store_threads=_int_env("PAPERATLAS_STORE_THREADS", 1, 1) if _env("PAPERATLAS_STORE_THREADS") else None,
        store_options=store_options(),
        openreview_token=_env("PAPERATLAS_OPENREVIEW_TOKEN"),
        openreview_username=_env("PAPERATLAS_OPENREVIEW_USERNAME"),
        openreview_password=_env("PAPERATLAS_OPENREVIEW_PASSWORD"),
        openalex_api_key=_env("PAPERATLAS_OPENALEX_API_KEY"),
        openalex_email=_env("PAPERATLAS_OPENALEX_EMAIL"),
    )
