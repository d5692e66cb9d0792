"""OpenReview API v2 (`https://api2.openreview.net`): a venue's accepted papers and the
authors' affiliations from their profiles.

- Accepted papers: `GET /notes?content.venueid=<venue id>&limit=1000&offset=…` (a venue id
  such as `NeurIPS.cc/2025/Conference`; rejected and withdrawn submissions carry another
  venueid). The answer is `{"notes": [...], "count": N}`; fields are wrapped,
  `content.title.value`, `content.authors.value`, `content.authorids.value`. The pages read
  must add up to `count`.
- Profiles: `POST /profiles/search {"ids": [...]}` (as the official openreview-py client
  does) answers `{"profiles": [...]}`; a profile's `content.history` lists positions
  `{position, start, end, institution: {name, domain, country}}`.
- Which entry counts: those valid in the paper's year (start ≤ year ≤ end; an open end is
  "until now"), not simply the newest; an internship counts only when it is the author's only
  entry for that year. A profile whose entries are all undated gives those entries. The
  institution's `name` becomes the affiliation string, its `domain` the e-mail domain, and its
  `country` is kept only as a comparison column. Authors listed by e-mail give that domain.
- Credentials are optional (`PAPERATLAS_OPENREVIEW_TOKEN`, or `…_USERNAME` and
  `…_PASSWORD`): `POST /login` returns a token sent as a bearer header. A 429 is retried after
  the reset time it announces (pipeline/http.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, urljoin

from ..http import FetchError, HttpClient
from ..models import IngestError, Paper, author_block, utcnow
from ..partitions import PartitionKey
from .base import STAGE, Digest, ParseResult, SourceConfig, SourceError, fetch_json, shaped, value

SOURCE = "openreview"
DEFAULT_API = "https://api2.openreview.net"
SITE = "https://openreview.net"
PAGE = 1000
PROFILE_BATCH = 100
INTERN = re.compile(r"\bintern", re.IGNORECASE)


def venue_ids(templates: list[str], pk: PartitionKey) -> list[str]:
    return [t.format(venue=pk.venue, year=pk.year) for t in templates]


def login(http: HttpClient, api: str, username: str, password: str) -> str:
    """A bearer token for `username` (never cached, never logged)."""
    try:
        response = http.get(f"{api}/login", body={"id": username, "password": password})
    except FetchError as exc:
        raise SourceError(f"OpenReview login for {username}: {exc}") from exc
    if response.status_code != 200:
        raise SourceError(f"OpenReview login for {username} failed: HTTP {response.status_code} "
                          f"{response.text[:200]!r}")
    try:
        return str(response.json()["token"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"OpenReview login for {username}: the answer holds no token") from exc


def _list(raw) -> list:
    return raw if isinstance(raw, list) else []


def _year(raw) -> int | None:
    if raw is None or raw == "":
        return None
    match = re.match(r"\s*(\d{4})", str(raw))
    return int(match.group(1)) if match else None


def history_for(profile: dict, year: int) -> list[dict]:
    """The profile's history entries valid in `year` (see the module docstring)."""
    content = profile.get("content") if isinstance(profile.get("content"), dict) else {}
    history = [e for e in (content.get("history") or []) if isinstance(e, dict)
               and isinstance(e.get("institution"), dict) and (e["institution"].get("name") or "").strip()]
    dated = [e for e in history if _year(e.get("start")) or _year(e.get("end"))]
    valid = [e for e in dated
             if (_year(e.get("start")) is None or _year(e.get("start")) <= year)
             and (_year(e.get("end")) is None or _year(e.get("end")) >= year)]
    if not dated:
        valid = history
    main = [e for e in valid if not INTERN.search(str(e.get("position") or ""))]
    return main or valid


def _profile_index(profiles: list[dict]) -> dict[str, dict]:
    """Every id a profile answers to: its id and each of its names' usernames."""
    index = {}
    for profile in profiles:
        if not isinstance(profile, dict) or not profile.get("id"):
            continue
        index[profile["id"]] = profile
        content = profile.get("content") if isinstance(profile.get("content"), dict) else {}
        for name in content.get("names") or []:
            if isinstance(name, dict) and name.get("username"):
                index.setdefault(name["username"], profile)
    return index


def read(http: HttpClient, pk: PartitionKey, templates: list[str], api: str = DEFAULT_API,
         headers: dict[str, str] | None = None, refresh: bool = False,
         progress: Callable[[str], None] | None = None) -> ParseResult:
    if not templates:
        raise SourceError(f"{pk}: no OpenReview venue id is configured for venue {pk.venue!r} "
                          "(set `openreview: [\"Venue.cc/{year}/Conference\"]` in the sources file)")
    api = api.rstrip("/")
    digest = Digest()
    notes: list[tuple[str, dict]] = []
    for vid in venue_ids(templates, pk):
        got, declared, offset = 0, None, 0
        while True:
            url = f"{api}/notes?content.venueid={quote(vid, safe='/')}&limit={PAGE}&offset={offset}"
            data = fetch_json(http, url, f"{pk} (OpenReview notes of {vid})", refresh, digest, headers=headers,
                              check=shaped("an OpenReview notes answer", notes=list))
            if declared is None and isinstance(data.get("count"), int):
                declared = data["count"]
            page = data["notes"]
            notes.extend((vid, n) for n in page)
            got += len(page)
            offset += len(page)
            if progress:
                progress(f"{pk}: {got}{'/' + str(declared) if declared is not None else ''} notes of {vid}")
            if not page or len(page) < PAGE or (declared is not None and got >= declared):
                break
        if declared is not None and got != declared:
            raise SourceError(f"{pk}: OpenReview declares {declared} accepted notes for {vid} but {got} were read; "
                              "nothing was stored (retry with refresh)")
    if not notes:
        raise SourceError(f"{pk}: OpenReview has no accepted notes for {', '.join(venue_ids(templates, pk))}")

    ids = sorted({a for _, n in notes if isinstance(n, dict) for a in _list(value(n.get("content") or {}, "authorids"))
                  if isinstance(a, str) and a.startswith("~")})
    profiles: list[dict] = []
    for start in range(0, len(ids), PROFILE_BATCH):
        batch = ids[start:start + PROFILE_BATCH]
        data = fetch_json(http, f"{api}/profiles/search", f"{pk} (OpenReview profiles of {batch[0]}…)", refresh,
                          digest, headers=headers, body={"ids": batch},
                          check=shaped("an OpenReview profiles answer", profiles=list))
        profiles.extend(data["profiles"])
        if progress:
            progress(f"{pk}: {min(start + PROFILE_BATCH, len(ids))}/{len(ids)} author profiles")
    result = parse_notes(notes, _profile_index(profiles), pk, api)
    return digest.fill(result)


def parse_notes(notes: list[tuple[str, dict]], profiles: dict[str, dict], pk: PartitionKey, api: str) -> ParseResult:
    result = ParseResult(records=len(notes), source=SOURCE)
    stats = result.stats
    fetched_at = utcnow()
    seen: set[str] = set()

    def err(item: str, reason: str, severity: str = "error") -> None:
        result.errors.append(IngestError(pk.key, STAGE, item, reason, severity))

    for index, (vid, note) in enumerate(notes):
        if not isinstance(note, dict) or not isinstance(note.get("content"), dict):
            err(f"note #{index} of {vid}", "is not an object with 'content'")
            continue
        note_id = str(note.get("id") or f"#{index}")
        item = f"note {note_id}"
        if note_id in seen:
            err(item, "listed twice; the first was kept", "warning")
            continue
        content = note["content"]
        title = " ".join(str(value(content, "title") or "").split())
        if not title:
            err(item, "has no content.title.value")
            continue
        authors = value(content, "authors") or []
        ids = value(content, "authorids") or []
        if not isinstance(authors, list) or not isinstance(ids, list):
            err(item, "content.authors / content.authorids are not lists")
            continue
        if len(ids) != len(authors):
            err(item, f"{len(authors)} authors but {len(ids)} author ids; affiliations are not read", "warning")
            ids = [None] * len(authors)
        ref = f"{SITE}/forum?id={note_id}"
        names, affiliations, domains, blocks = [], [], [], []
        for name, author_id in zip(authors, ids):
            name = " ".join(str(name or "").split())
            affs, domain, institutions, countries = [], None, [], []
            if isinstance(author_id, str) and author_id.startswith("~"):
                profile = profiles.get(author_id)
                if profile is None:
                    stats["authors_without_profile"] = stats.get("authors_without_profile", 0) + 1
                else:
                    entries = history_for(profile, pk.year)
                    if not entries:
                        stats["authors_without_history_for_year"] = stats.get("authors_without_history_for_year", 0) + 1
                    for entry in entries:
                        inst = entry["institution"]
                        label = " ".join(str(inst.get("name")).split())
                        if label not in affs:
                            affs.append(label)
                            institutions.append(label)
                            countries.append(str(inst.get("country") or "") or None)
                        domain = domain or (str(inst.get("domain") or "").strip().lower() or None)
            elif isinstance(author_id, str) and "@" in author_id:
                domain = author_id.rsplit("@", 1)[1].strip().lower() or None
                stats["authors_by_email"] = stats.get("authors_by_email", 0) + 1
            names.append(name)
            affiliations.append(affs)
            domains.append(domain)
            blocks.append([author_block(SOURCE, ref, name, affs, domain, institutions,
                                        [c for c in countries if c])])
        pdf = value(content, "pdf")
        seen.add(note_id)
        result.papers.append(Paper(
            partition_key=pk.key, paper_id=note_id, venue=pk.venue, year=pk.year, title=title,
            abstract=(str(value(content, "abstract") or "").strip() or None), authors=names,
            affiliations=affiliations, email_domains=domains,
            pdf_url=urljoin(SITE, pdf) if isinstance(pdf, str) and pdf else None,
            status=str(value(content, "venue") or "") or None, track=vid.rstrip("/").rsplit("/", 1)[-1],
            source=SOURCE, source_ref=ref, fetched_at=fetched_at, author_sources=blocks,
        ))
    return result


def available(http: HttpClient, pk: PartitionKey, templates: list[str], api: str = DEFAULT_API,
              headers: dict[str, str] | None = None) -> bool:
    for vid in venue_ids(templates, pk):
        response = http.get(f"{api.rstrip('/')}/notes?content.venueid={quote(vid, safe='/')}&limit=1", headers=headers)
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError:
                continue
            if isinstance(data, dict) and (data.get("count") or data.get("notes")):
                return True
    return False


class OpenReview:
    """OpenReview API v2: accepted notes of the venue ids, and the authors' profiles. A token, or
    a user name and password, come from the settings (PAPERATLAS_OPENREVIEW_*), never from the
    run configuration, and never reach the cache or a message."""

    name = SOURCE
    rate = 2.0

    def __init__(self, config: SourceConfig):
        self.config = config
        self.api = (config.location or DEFAULT_API).rstrip("/")

    def headers(self, http: HttpClient) -> dict[str, str]:
        token = self.config.secret("openreview_token")
        username, password = self.config.secret("openreview_username"), self.config.secret("openreview_password")
        if not token and username:
            if not password:
                raise SourceError("PAPERATLAS_OPENREVIEW_USERNAME is set but PAPERATLAS_OPENREVIEW_PASSWORD is not")
            token = login(http, self.api, username, password)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def papers(self, pk: PartitionKey, venue, refresh: bool = False, progress=None) -> ParseResult:
        http = self.config.client(self.rate)
        return read(http, pk, list(venue.openreview), self.api, self.headers(http), refresh, progress)

    def available(self, pk: PartitionKey, venue) -> bool:
        http = self.config.client(self.rate)
        return bool(venue.openreview) and available(http, pk, list(venue.openreview), self.api, self.headers(http))

    def where(self, pk: PartitionKey, venue) -> str:
        return ", ".join(venue_ids(list(venue.openreview), pk)) or "(no venue id)"
