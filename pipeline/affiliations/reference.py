"""Where the ROR dump and the overrides file come from, and the resolver built from them.

`PAPERATLAS_ROR_DUMP` (or `--ror`) names the dump: a local path, an http(s) URL (downloaded
once into the cache), `none` for no registry (curated tables, places and e-mail domains
only), or nothing: the newest dump published in ROR's Zenodo record, downloaded once and
cached (its MD5 from Zenodo is checked).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..http import HttpClient
from .resolver import Override, Resolver, load_overrides
from .ror import RorDumpError, RorIndex, file_sha256, load_index, newest_zenodo_dump

NO_REGISTRY = "none"


@dataclass(frozen=True)
class DumpLocation:
    path: Path
    source: str  # what the user configured, or the Zenodo URL


def locate_dump(spec: str | None, cache_dir: Path, http: HttpClient | None = None) -> DumpLocation | None:
    """The local file of the configured dump (downloading it when needed); None for `none`."""
    if spec is not None and spec.strip().lower() == NO_REGISTRY:
        return None
    if spec and not spec.startswith(("http://", "https://")):
        path = Path(spec).expanduser()
        if not path.exists():
            raise RorDumpError(f"ROR dump {path} does not exist (set PAPERATLAS_ROR_DUMP or --ror)")
        return DumpLocation(path.resolve(), spec)
    http = http or HttpClient(Path(cache_dir))
    if spec:
        result = http.fetch(spec)
        return DumpLocation(result.cache_path or _keep(result.content, cache_dir, spec), spec)
    url, md5, name = newest_zenodo_dump(http)
    result = http.fetch(url)
    if md5 and hashlib.md5(result.content).hexdigest() != md5:
        if result.cache_path:
            result.cache_path.unlink(missing_ok=True)
        raise RorDumpError(f"{name}: MD5 differs from the one Zenodo lists; the download was discarded")
    return DumpLocation(result.cache_path or _keep(result.content, cache_dir, url), url)


def _keep(content: bytes, cache_dir: Path, url: str) -> Path:
    from ..http import atomic_write_bytes

    path = Path(cache_dir) / "ror" / (hashlib.sha256(url.encode()).hexdigest()[:16] + ".zip")
    atomic_write_bytes(path, content)
    return path


def load_registry(spec: str | None, cache_dir: Path, http: HttpClient | None = None,
                  on_progress=None) -> tuple[RorIndex | None, DumpLocation | None, str | None]:
    """(index, where the dump is, its SHA-256) — (None, None, None) for `none`."""
    location = locate_dump(spec, cache_dir, http)
    if location is None:
        return None, None, None
    checksum = file_sha256(location.path)
    return load_index(location.path, cache_dir, checksum, on_progress), location, checksum


def overrides_digest(path: Path | None) -> str:
    """SHA-256 of the overrides file, or 'none' when there is none (its data version)."""
    if path is None or not Path(path).exists():
        return "none"
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build_resolver(spec: str | None, cache_dir: Path, overrides: Path | list[Override] | None = None,
                   http: HttpClient | None = None) -> Resolver:
    index, _location, _checksum = load_registry(spec, cache_dir, http)
    rules = overrides if isinstance(overrides, list) else load_overrides(overrides)
    return Resolver(index, rules)
