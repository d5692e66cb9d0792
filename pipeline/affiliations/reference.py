"""The reference data the resolver reads (the ROR registry and the user's overrides): where
each comes from, the tables they become, and the resolver built from them (one constructor,
cached per registry and overrides).

`PAPERATLAS_ROR_DUMP` (or `--ror`) names the dump: a local path, an http(s) URL (downloaded
once into the cache), `none` for no registry (curated tables, places and e-mail domains
only), or nothing: the newest dump published in ROR's Zenodo record, downloaded once and
cached (its MD5 from Zenodo is checked).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..http import FetchError, HttpClient, Unreachable
from ..http_links import same_origin
from ..models import Outcome, StageFailure, utcnow
from ..text import preview
from . import queries
from .resolver import Override, OverridesError, Resolver, load_overrides
from .ror import (
    INDEX_VERSION,
    ZENODO_CONCEPT_RECORD,
    RorDumpError,
    RorIndex,
    file_sha256,
    load_index,
    newest_zenodo_dump,
    read_dump,
)

NO_REGISTRY = "none"
OFFLINE_HINT = ("set PAPERATLAS_ROR_DUMP to a ROR v2 dump you have (a .zip or .json file), or to 'none' to "
                "resolve without the registry")


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
    try:
        if spec:
            result = http.fetch(spec, validate=_dump_body(None))
            return DumpLocation(result.cache_path or _keep(result.content, cache_dir, spec), spec)
        url, md5, name = newest_zenodo_dump(http)
        # The file link is Zenodo's data: off Zenodo's host, it reaches only public addresses.
        result = http.fetch(url, validate=_dump_body(md5), data_link=not same_origin(url, ZENODO_CONCEPT_RECORD))
    except Unreachable as exc:
        raise RorDumpError(f"could not download the ROR dump: {exc.with_hint(OFFLINE_HINT)}") from None
    except FetchError as exc:
        raise RorDumpError(f"could not download the ROR dump: {exc}") from exc
    return DumpLocation(result.cache_path or _keep(result.content, cache_dir, url), url)


def _dump_body(md5: str | None) -> Callable[[bytes], None]:
    """A validator for a downloaded dump: a whole zip (its CRCs check) or a JSON array, with the
    MD5 Zenodo lists. A body that fails is never cached."""

    def validate(content: bytes) -> None:
        if md5 and hashlib.md5(content).hexdigest() != md5:
            raise ValueError("its MD5 differs from the one Zenodo lists")
        if content.lstrip()[:1] == b"[":
            return
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ValueError(f"not a ROR dump: neither a zip nor a JSON array ({exc})") from exc
        if bad is not None:
            raise ValueError(f"the zip is damaged ({bad} fails its CRC)")

    return validate


def _keep(content: bytes, cache_dir: Path, url: str) -> Path:
    from ..http import atomic_write_bytes

    path = Path(cache_dir) / "ror" / (hashlib.sha256(url.encode()).hexdigest()[:16] + ".zip")
    atomic_write_bytes(path, content)
    return path


def overrides_digest(path: Path | None) -> str:
    """SHA-256 of the overrides file, or 'none' when there is none (its data version)."""
    if path is None or not Path(path).exists():
        return "none"
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_RESOLVERS: dict[tuple[str, str], Resolver] = {}


def cached_resolver(checksum: str, digest: str, index: Callable[[], RorIndex | None],
                    rules: Callable[[], list[Override]]) -> Resolver:
    """The resolver for a registry (by its checksum, `none` without one) and overrides (by their
    digest): built once per process, by the one constructor every caller goes through."""
    key = (checksum, digest)
    if key not in _RESOLVERS:
        _RESOLVERS.clear()  # one registry at a time: an index takes hundreds of MB
        _RESOLVERS[key] = Resolver(index(), rules())
    return _RESOLVERS[key]


def build_resolver(spec: str | None, cache_dir: Path, overrides: Path | list[Override] | None = None,
                   http: HttpClient | None = None) -> Resolver:
    """The resolver for a dump spec (PAPERATLAS_ROR_DUMP or --ror) and an overrides file or list."""
    location = locate_dump(spec, cache_dir, http)
    checksum = file_sha256(location.path) if location else NO_REGISTRY
    rules = overrides if isinstance(overrides, list) else load_overrides(overrides)
    digest = overrides_digest(overrides) if not isinstance(overrides, list) else hashlib.sha256(
        repr(rules).encode()).hexdigest()
    return cached_resolver(checksum, digest,
                           lambda: load_index(location.path, cache_dir, checksum) if location else None,
                           lambda: rules)


def resolver_from_store(store, index: Callable[[str, str], RorIndex]) -> tuple[Resolver, str, str]:
    """The resolver for the registry and overrides last materialised (tables ror_registry and
    affiliation_overrides): (resolver, registry checksum, overrides digest). `index(path,
    checksum)` loads the compiled registry."""
    registry = queries.registry(store)
    if not registry:
        raise StageFailure("no ROR registry in the store: materialise `ror_registry` first "
                           "(set PAPERATLAS_ROR_DUMP to a dump, or to 'none' to run without one)")
    checksum, path = registry["checksum"], registry["path"]
    rules = queries.override_rules(store)
    digest = str(rules[0]["file_sha256"]) if rules else NO_REGISTRY
    resolver = cached_resolver(
        checksum, digest, lambda: None if checksum == NO_REGISTRY else index(path, checksum),
        lambda: [Override(match=r["match"], contains=r["contains"], email_domain=r["email_domain"],
                          country=r["country"], institution=r["institution"], note=r["note"]) for r in rules])
    return resolver, checksum, digest


# -- the reference assets: ror_registry and affiliation_overrides ----------------------------

REFERENCE = "reference"  # reference data is not partitioned; its errors are filed under this key


def ror_registry(store, locate: Callable[[], DumpLocation | None], index: Callable[..., RorIndex],
                 spec: str | None, log: Callable[[str], None]) -> Outcome:
    """The ROR registry (table ror_organizations) and its compiled match index, from the dump
    `locate()` finds; the data version is the dump's SHA-256."""
    try:
        return _load_registry(store, locate, index, log)
    except (RorDumpError, FetchError, OSError) as exc:
        raise store.refuse(REFERENCE, "ror_registry", spec or "newest Zenodo dump", str(exc)) from exc


def _load_registry(store, locate, index, log) -> Outcome:
    location = locate()
    if location is None:
        log("ROR registry disabled (dump 'none'): curated tables, places and e-mail domains only")
        with store.connect() as con:
            store.replace_table("ror_organizations", [], con=con)
            store.replace_table("ror_registry", [{"checksum": NO_REGISTRY, "source": NO_REGISTRY, "records": 0,
                                                  "index_version": INDEX_VERSION, "loaded_at": utcnow()}], con=con)
        return Outcome(rows=0, row="organisation", metadata={"source": NO_REGISTRY}, data_version=NO_REGISTRY)
    checksum = file_sha256(location.path)
    current = queries.registry(store)
    def progress(what: str):
        return lambda n: log(f"ROR dump: {n:,} records read {what}")
    rows = None  # the dump's records, when read here: the index is compiled from them
    if current and current["checksum"] == checksum:
        records = int(current["records"])
        log(f"ROR dump {location.path.name} unchanged ({checksum[:12]}); table kept")
        frame, by_country = queries.registry_sample(store)
    else:
        rows = read_dump(location.path, progress("into the table"))
        frame = pd.DataFrame(rows)
        records = len(frame)
        with store.connect() as con:
            store.replace_table("ror_organizations", frame, con=con)
            store.replace_table("ror_registry", [{
                "checksum": checksum, "source": location.source, "path": str(location.path), "records": records,
                "index_version": INDEX_VERSION, "loaded_at": utcnow(),
            }], con=con)
        by_country = (frame.groupby("country").size().sort_values(ascending=False).head(15)
                      .rename("organisations").reset_index())
    # compiled now (from the records just read, or a pass over the dump), or loaded from the cache
    compiled = index(str(location.path), checksum, progress("for the match index"), rows)
    del rows
    store.record_errors(REFERENCE, "ror_registry", [])
    log(f"ROR index ready: {len(compiled):,} organisations, {len(compiled.by_name):,} names")
    return Outcome(rows=records, row="organisation", data_version=checksum, metadata={
        "source": location.source,
        "sha256": checksum,
        "names_indexed": len(compiled.by_name),
        "domains_indexed": len(compiled.by_domain),
        "top_countries": preview(by_country, rows=15),
        "preview": preview(frame, ["ror_id", "name", "country", "city", "status"]),
    })


def affiliation_overrides(store, path: str, log: Callable[[str], None]) -> Outcome:
    """The user's overrides file, validated, as table affiliation_overrides; the data version is
    the file's SHA-256."""
    digest = overrides_digest(path)
    try:
        rules = load_overrides(path)
    except OverridesError as exc:
        raise store.refuse(REFERENCE, "affiliation_overrides", path, str(exc)) from exc
    store.record_errors(REFERENCE, "affiliation_overrides", [])
    rows = [{"rule": n, "match": r.match, "contains": r.contains, "email_domain": r.email_domain,
             "country": r.country, "institution": r.institution, "note": r.note, "file": path,
             "file_sha256": digest} for n, r in enumerate(rules, start=1)]
    frame = pd.DataFrame(rows)
    store.replace_table("affiliation_overrides", frame)
    log(f"{len(rows)} override rules from {path}" if rows else f"no overrides ({path})")
    return Outcome(rows=len(rows), row="override rule", data_version=digest, metadata={
        "file": path, "sha256": digest, "preview": preview(frame, ["match", "contains", "email_domain", "country"], 20),
    })
