"""A local OpenAlex-compatible API for the tests: `GET /works` with `filter`, `per-page`,
`select` and `cursor`, answered in the documented shape from a list of work dicts.

    with serve_openalex(works) as base:          # base: "http://127.0.0.1:<port>" (a str)
        ...PAPERATLAS_OPENALEX_BASE=base...
        base.requests                            # every request: path, query, status
        base.works_requests()                    # the /works ones

Answers: `{"meta": {"count", "per_page", "next_cursor", ...}, "results": [...]}`, cursor paging
from `cursor=*` (`next_cursor` is null on the last page; without `cursor` there is one page and
no next cursor), at most `page_size` works a page whatever `per-page` asks (a mirror may page
smaller). `select` keeps only the named top-level fields, as OpenAlex does.

Filters (comma = AND, `|` = OR, a leading `!` negates), as the sources use them:
- `publication_year:Y` (or `Y1-Y2`), `from_publication_date:YYYY-MM-DD` and
  `to_publication_date:YYYY-MM-DD` on the work's `publication_date`;
- any other key is a dotted path into the work (`type`, `topics.subfield.id`,
  `primary_location.source.id` ...; `primary_location.source.publisher_lineage` reads the source's
  `host_organization_lineage`), lists flattened; ids compare by their last segment, case
  ignored (`1702` matches `https://openalex.org/subfields/1702`);
- a key the work does not have matches when the work lists `"key:value"` in `_venues`;
- values compare with case ignored, as OpenAlex's filters do;
- the value `null` matches a work without the field (absent, None or empty), `!null` one with it.

`group_by=<path>` (`:include_unknown` adds the works without the field, key "unknown") answers
`{"meta": {..., "groups_count"}, "group_by": [{"key", "key_display_name", "count"}], "results": []}`
over the filtered works, largest groups first; a work counts once in each of its groups.

`works` is a list of work dicts, or a catalogue with `select(filter)` (tests/openalex_generated.py:
`GeneratedWorks(n)`, works made on demand from their index, filtered without building them).

`fail_pages={2}`: the first request for page 2 (1-based) answers HTTP 500, the next ones
normally. `local_pdfs=True` rewrites every work's `pdf_url` to `{base}/pdf/<work id>.pdf`, served
from `pdfs` ({work id: bytes}; others 404)."""

from __future__ import annotations

import argparse
import base64
import copy
import json
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

try:  # much faster on big pages; the tests run without it too
    import orjson

    def _dumps(body) -> bytes:
        return orjson.dumps(body)
except ImportError:  # pragma: no cover - orjson is a dependency
    def _dumps(body) -> bytes:
        return json.dumps(body).encode()

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "openalex" / "works.json"
ALIASES = {
    "primary_location.source.publisher_lineage": "primary_location.source.host_organization_lineage",
    "locations.source.publisher_lineage": "locations.source.host_organization_lineage",
}


def fixture_works() -> list[dict]:
    """The invented works of tests/fixtures/openalex/works.json (fresh copies)."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["works"]


def work_id(work: dict) -> str:
    return str(work.get("id") or "").rstrip("/").rsplit("/", 1)[-1]


def _norm(value) -> str:
    return str(value).strip().rstrip("/").rsplit("/", 1)[-1].lower()


def _leaves(value, path: list[str]) -> list:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item, path)]
    if not path:
        return [] if value is None else [value]
    if not isinstance(value, dict) or path[0] not in value:
        return []
    return _leaves(value[path[0]], path[1:])


def _has(value, path: list[str]) -> bool:
    if isinstance(value, list):
        return any(_has(item, path) for item in value)
    if not path:
        return True
    return isinstance(value, dict) and path[0] in value and _has(value[path[0]], path[1:])


def _year_matches(work: dict, value: str) -> bool:
    year = work.get("publication_year")
    low, _, high = value.partition("-")
    return isinstance(year, int) and int(low) <= year <= int(high or low)


def part_matches(work: dict, key: str, value: str) -> bool:
    """Whether one `key:value` filter part selects `work`."""
    if value.startswith("!"):
        return not part_matches(work, key, value[1:])
    date = str(work.get("publication_date") or "")
    if key == "from_publication_date":
        return bool(date) and date >= value
    if key == "to_publication_date":
        return bool(date) and date <= value
    if key == "publication_year":
        return any(_year_matches(work, v) for v in value.split("|"))
    path = ALIASES.get(key, key).split(".")
    options = {_norm(v) for v in value.split("|")}
    if "null" in options and not _leaves(work, path):
        return True  # OpenAlex's null: the work has no value there
    if not _has(work, path):
        tags = {str(t).lower() for t in work.get("_venues", [])}
        return any(f"{key}:{v}".lower() in tags for v in value.split("|"))
    return any(_norm(leaf) in options for leaf in _leaves(work, path))


def matches(work: dict, flt: str) -> bool:
    parts = [p for p in flt.split(",") if p.strip()]
    return all(part_matches(work, *_split(p)) for p in parts)


def _parents(value, path: list[str]) -> list[dict]:
    """The objects holding the last step of `path` (lists flattened)."""
    if isinstance(value, list):
        return [p for item in value for p in _parents(item, path)]
    if not isinstance(value, dict):
        return []
    if len(path) == 1:
        return [value] if value.get(path[0]) not in (None, "", [], {}) else []
    return _parents(value.get(path[0]), path[1:])


def parse_group_by(text: str) -> tuple[str, bool]:
    """`primary_topic.subfield.id:include_unknown` -> ("primary_topic.subfield.id", True)."""
    path, _, option = text.strip().partition(":")
    if not path or option not in ("", "include_unknown"):
        raise ValueError(f"group_by {text!r}: expected '<field>' or '<field>:include_unknown'")
    return path, option == "include_unknown"


def group_counts(works: Iterable[dict], path: str, unknown: bool = False) -> list[dict]:
    """OpenAlex's `group_by` list over `works`: each group's key (the field's value), its
    `key_display_name` (the value's `display_name` beside it, else the value) and its count."""
    steps = ALIASES.get(path, path).split(".")
    counts: dict[str, list] = {}
    missing = 0
    for work in works:
        keys = {}
        for parent in _parents(work, steps):
            value = parent[steps[-1]]
            for leaf in value if isinstance(value, list) else [value]:
                shown = parent.get("display_name") if steps[-1] == "id" else None
                keys.setdefault(str(leaf), str(shown or leaf))
        if not keys:
            missing += 1
        for key, shown in keys.items():
            counts.setdefault(key, [shown, 0])[1] += 1
    groups = [{"key": k, "key_display_name": shown, "count": n} for k, (shown, n) in counts.items()]
    if unknown and missing:
        groups.append({"key": "unknown", "key_display_name": "unknown", "count": missing})
    return sorted(groups, key=lambda g: (-g["count"], g["key"]))


class ListSelection:
    """The works of a list that a filter selects (what `select` of a catalogue returns)."""

    def __init__(self, works: list[dict]):
        self.works = works

    def __len__(self) -> int:
        return len(self.works)

    def page(self, offset: int, size: int) -> list[dict]:
        return self.works[offset:offset + size]

    def groups(self, path: str, unknown: bool) -> list[dict]:
        return group_counts(self.works, path, unknown)


class ListWorks:
    """A catalogue of work dicts held in a list, each request filtering all of them."""

    def __init__(self, works: Iterable[dict]):
        self.works = [copy.deepcopy(w) for w in works]

    def select(self, flt: str) -> ListSelection:
        return ListSelection([w for w in self.works if matches(w, flt)])


def _split(part: str) -> tuple[str, str]:
    key, sep, value = part.partition(":")
    if not sep:
        raise ValueError(f"filter part {part!r} has no value")
    return key.strip(), value.strip()


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    if cursor == "*":
        return 0
    text = base64.urlsafe_b64decode(cursor.encode()).decode()
    if not text.startswith("offset:"):
        raise ValueError(cursor)
    return int(text.split(":", 1)[1])


class Served(str):
    """The server's base URL, carrying what the server saw."""

    requests: list[dict]

    def works_requests(self) -> list[dict]:
        return [r for r in self.requests if r["path"] == "/works"]


class _State:
    def __init__(self, works, pdfs, page_size, fail_pages, local_pdfs):
        self.works = works if hasattr(works, "select") else ListWorks(works)
        self.pdfs = dict(pdfs or {})
        self.page_size = page_size
        self.fail_pages = set(fail_pages or ())
        self.local_pdfs = local_pdfs
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.base = ""

    def shown(self, work: dict, select: list[str]) -> dict:
        # A shallow copy: the answer is only serialised; a rewritten location is copied first.
        out = {k: v for k, v in work.items() if not k.startswith("_") and (not select or k in select)}
        if self.local_pdfs:
            for name in ("primary_location", "best_oa_location"):
                location = out.get(name)
                if isinstance(location, dict) and location.get("pdf_url"):
                    out[name] = location | {"pdf_url": f"{self.base}/pdf/{work_id(work)}.pdf"}
        return out

    def works_page(self, query: dict) -> tuple[int, dict]:
        try:
            flt = query.get("filter", "")
            selected = self.works.select(flt)
            grouping = parse_group_by(query["group_by"]) if query.get("group_by") else None
            per_page = min(int(query.get("per-page") or query.get("per_page") or 25), self.page_size)
            cursor = query.get("cursor")
            offset = _offset(cursor) if cursor else 0
        except ValueError as exc:
            return 400, {"error": "Invalid query parameters error.", "message": str(exc)}
        page = offset // max(per_page, 1) + 1
        with self.lock:
            if page in self.fail_pages:
                self.fail_pages.discard(page)
                return 500, {"error": "Internal server error", "message": f"page {page} fails once"}
        total = len(selected)
        if grouping:
            groups = selected.groups(*grouping)
            meta = {"count": total, "db_response_time_ms": 1, "page": 1, "per_page": per_page, "next_cursor": None,
                    "groups_count": len(groups)}
            return 200, {"meta": meta, "results": [], "group_by": groups}
        results = selected.page(offset, per_page)
        select = [s.strip() for s in query.get("select", "").split(",") if s.strip()]
        more = cursor is not None and offset + per_page < total
        meta = {"count": total, "db_response_time_ms": 1, "page": None if cursor else 1, "per_page": per_page,
                "next_cursor": _cursor(offset + per_page) if more else None, "groups_count": None}
        return 200, {"meta": meta, "results": [self.shown(w, select) for w in results], "group_by": []}


def _handler(state: _State):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            if url.path.rstrip("/") == "/works":
                status, body = state.works_page(query)
                data, kind = _dumps(body), "application/json"
            elif url.path.startswith("/pdf/") and url.path.endswith(".pdf"):
                content = state.pdfs.get(url.path[len("/pdf/"):-len(".pdf")])
                status = 200 if content is not None else 404
                data, kind = (content, "application/pdf") if content is not None else (b"not found", "text/plain")
            else:
                status, data, kind = 404, b'{"error": "not found"}', "application/json"
            with state.lock:
                state.requests.append({"path": url.path, "query": query, "status": status})
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


@contextmanager
def serve_openalex(works: Iterable[dict] | None = None, pdfs: dict[str, bytes] | None = None, page_size: int = 200,
                   fail_pages: Iterable[int] = (), local_pdfs: bool = False, port: int = 0) -> Iterator[Served]:
    """Serve `works` (default: the fixture's; a list or a catalogue such as GeneratedWorks) on
    127.0.0.1 at a free port (or `port`); yields the base URL."""
    state = _State(fixture_works() if works is None else works, pdfs, page_size, fail_pages, local_pdfs)
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    served = Served(state.base)
    served.requests = state.requests
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    """`python tests/openalex_server.py --generate N --year Y`: serve N generated works until
    killed; the first line on stdout is the base URL."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--generate", type=int, metavar="N", help="serve N generated works (default: the fixture)")
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--page-size", type=int, default=200)
    args = parser.parse_args(argv)
    works = None
    if args.generate is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from openalex_generated import GeneratedWorks

        works = GeneratedWorks(args.generate, year=args.year, seed=args.seed)
    with serve_openalex(works, page_size=args.page_size, port=args.port) as base:
        print(base, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
