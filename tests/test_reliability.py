"""Fault cases from the reliability issue: each builds its own bad input (servers only on
127.0.0.1) and checks the one-line message, the `ingest_errors` row and that nothing is lost."""

from __future__ import annotations

import time

import pytest
from conftest import PAPERLISTS, serve

from paperatlas import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name, value", [
    ("PAPERATLAS_HTTP_TIMEOUT", "0"), ("PAPERATLAS_HTTP_TIMEOUT", "-1"), ("PAPERATLAS_HTTP_TIMEOUT", "nan"),
    ("PAPERATLAS_HTTP_TIMEOUT", "inf"), ("PAPERATLAS_HTTP_RETRIES", "nan"), ("PAPERATLAS_HTTP_RETRIES", "2.5"),
    ("PAPERATLAS_PDF_CONCURRENCY", "0"), ("PAPERATLAS_PDF_MAX_MB", "-3"), ("PAPERATLAS_SOURCE_RATE", "0"),
    ("PAPERATLAS_PDFS", "foo"),
])
def test_a_setting_it_cannot_take_is_one_line_and_exit_2(home, capsys, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "errors")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"paperatlas: {name}={value!r}"), err


def test_a_zero_pdf_rate_means_no_limit(home, monkeypatch):
    from paperatlas.pipeline.config import load_settings

    monkeypatch.setenv("PAPERATLAS_PDF_RATE", "0")
    assert load_settings().pdf_rate == 0


# -- a local server: each path answers from a queue of (status, headers, body, seconds per byte) ----


class Server:
    """An HTTP server on 127.0.0.1 that answers each path from a queue of canned answers (the
    last one repeats) and counts the requests it got."""

    def __init__(self):
        import http.server

        self.routes: dict[str, list[tuple[int, dict, bytes, float]]] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server name
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                queue = server.routes.get(self.path) or [(404, {}, b"not found", 0.0)]
                status, headers, body, per_byte = queue.pop(0) if len(queue) > 1 else queue[0]
                if per_byte < 0:  # trickle the status line and headers instead of the body
                    try:
                        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 60:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(-per_byte)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    if per_byte:
                        for i in range(len(body)):
                            self.wfile.write(body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(per_byte)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = serve(Handler)
        self.url = self.httpd.url

    def answer(self, path: str, *answers):
        self.routes[path] = [(a[0], a[1], a[2], a[3] if len(a) > 3 else 0.0) for a in answers]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


HTML_ERROR = (200, {"Content-Type": "text/html"}, b"<html><body>Service temporarily unavailable</body></html>")


def test_an_error_page_served_with_200_is_never_cached_and_the_next_run_asks_again(home, capsys, monkeypatch, server):
    good = (PAPERLISTS / "nips" / "nips2020.json").read_bytes()
    server.answer("/nips/nips2020.json", HTML_ERROR, (200, {"Content-Type": "application/json"}, good))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", server.url)
    monkeypatch.setenv("PAPERATLAS_HTTP_RETRIES", "0")
    code, _, err = run(capsys, "run", "neurips-2020")
    assert code == 1 and "not valid JSON" in err and "not cached" in err
    code, _, err = run(capsys, "run", "neurips-2020")
    assert code == 0, err
    assert server.hits["/nips/nips2020.json"] == 2


@pytest.mark.parametrize("body", [b'{"papers": "none"}', b"[1, 2", b"{}"])
def test_every_validated_body_is_checked_before_the_cache(tmp_path, server, body):
    from paperatlas.pipeline.http import HttpClient, InvalidBody
    from paperatlas.pipeline.sources.paperlists import records_of

    server.answer("/x.json", (200, {}, body), (200, {}, b"[]"))
    http = HttpClient(tmp_path, retries=0)
    with pytest.raises(InvalidBody, match="not cached"):
        http.fetch(server.url + "/x.json", validate=records_of)
    assert not any((tmp_path / "http").glob("*x.json")) if (tmp_path / "http").exists() else True
    assert http.fetch(server.url + "/x.json", validate=records_of).value == []
    assert http.fetch(server.url + "/x.json", validate=records_of).from_cache
    assert server.hits["/x.json"] == 2


def test_a_bad_body_cached_by_an_older_version_is_evicted_and_fetched_anew(tmp_path, server):
    from paperatlas.pipeline.http import HttpClient
    from paperatlas.pipeline.sources.paperlists import records_of

    server.answer("/x.json", (200, {}, b"<html>oops</html>"), (200, {}, b"[]"))
    http = HttpClient(tmp_path, retries=0)
    assert http.fetch(server.url + "/x.json").content.startswith(b"<html>")  # cached unvalidated
    assert http.fetch(server.url + "/x.json", validate=records_of).value == []
    assert server.hits["/x.json"] == 2


def test_the_timeout_bounds_the_whole_request_even_when_the_server_trickles(tmp_path, server):
    from paperatlas.pipeline.http import FetchError, HttpClient

    server.answer("/slow.pdf", (200, {}, b"%PDF-" + b"x" * 40, 0.2))  # 9 s at one byte per 0.2 s
    server.answer("/slow-headers", (200, {}, b"", -0.2))  # 14 s of headers at one byte per 0.2 s
    http = HttpClient(tmp_path, timeout=1.0, retries=0)
    for path in ("/slow.pdf", "/slow-headers"):
        started = time.monotonic()
        with pytest.raises(FetchError, match="longer than 1 s"):
            http.fetch(server.url + path)
        with pytest.raises(FetchError, match="longer than 1 s"):
            http.download(server.url + path, tmp_path / "slow.pdf", max_bytes=10**6)
        assert time.monotonic() - started < 4
        assert not (tmp_path / "slow.pdf").exists()


def test_a_huge_retry_after_gives_up_at_once_naming_the_host_and_the_wait(tmp_path, server):
    from paperatlas.pipeline.http import FetchError, HttpClient

    server.answer("/busy", (429, {"Retry-After": "3600"}, b""))
    http = HttpClient(tmp_path, retries=5)
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        http.fetch(server.url + "/busy")
    assert time.monotonic() - started < 2 and server.hits["/busy"] == 1
    message = str(caught.value)
    assert "127.0.0.1" in message and "asked to wait 3600 s" in message and "try again later" in message


def test_a_retry_after_wait_is_announced_and_the_total_wait_is_capped(tmp_path, server, capsys):
    from paperatlas.pipeline.http import FetchError, HttpClient

    server.answer("/busy", (429, {"Retry-After": "2"}, b""))
    http = HttpClient(tmp_path, retries=10, max_total_wait=3)
    with pytest.raises(FetchError, match="still asks to wait"):
        http.fetch(server.url + "/busy")
    assert server.hits["/busy"] == 2  # waited 2 s once; another 2 s would pass the 3 s cap
    assert "answered HTTP 429; waiting 2 s" in capsys.readouterr().err


# -- nothing lost: one odd record costs itself, never the venue-year --------------------------------


def test_list_columns_are_typed_from_the_schema_not_from_a_sample_of_the_rows(tmp_path):
    from paperatlas.pipeline.store import Warehouse

    store = Warehouse(tmp_path / "s.duckdb")
    rows = [{"partition_key": "x-2020", "paper_id": str(i), "authors": [], "affiliations": [],
             "email_domains": []} for i in range(4553)]
    rows.append({"partition_key": "x-2020", "paper_id": "odd", "authors": ["A", "B"], "affiliations": [["MIT"]],
                 "email_domains": ["mit.edu", None]})
    assert store.replace_partition("raw_papers", "x-2020", rows) == 4554
    odd = store.records("SELECT authors, affiliations, email_domains FROM raw_papers WHERE paper_id = 'odd'")
    assert odd == [{"authors": ["A", "B"], "affiliations": [["MIT"]], "email_domains": ["mit.edu", None]}]


def test_a_misaligned_record_after_thousands_of_good_ones_costs_only_itself(home, capsys, monkeypatch, tmp_path):
    import json

    good = json.loads((PAPERLISTS / "nips" / "nips2020.json").read_text())[0]
    records = []
    for i in range(4553):
        record = dict(good, id=f"p{i}", title=f"Paper number {i}", author="A One;B Two", aff="", aff_domain="")
        records.append(record)
    records.append(dict(good, id="odd", title="The odd one", author="A One;B Two;C Three", aff="MIT;Tsinghua University",
                        aff_domain="mit.edu;tsinghua.edu.cn"))
    (tmp_path / "pl" / "nips").mkdir(parents=True)
    (tmp_path / "pl" / "nips" / "nips2020.json").write_text(json.dumps(records))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(tmp_path / "pl"))
    code, out, err = run(capsys, "run", "neurips-2020")
    assert "materialised 1/1" in out, err
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import Warehouse

    store = Warehouse(load_settings().database)
    assert store.scalar("SELECT count(*) FROM raw_papers") == 4554


def test_a_malformed_pdf_link_costs_one_paper_not_the_venue_year(home, capsys, monkeypatch, tmp_path, server):
    import json

    from test_pdf_pipeline import p1_page

    records = json.loads((PAPERLISTS / "nips" / "nips2020.json").read_text())
    records[0]["pdf"] = "http://[::1/x.pdf"
    records[1]["pdf"] = server.url + "/p1.pdf"
    for record in records[2:]:
        if isinstance(record, dict):
            record["pdf"] = ""
    server.answer("/p1.pdf", (200, {"Content-Type": "application/pdf"}, p1_page(tmp_path / "p1.pdf")))
    (tmp_path / "pl" / "nips").mkdir(parents=True)
    (tmp_path / "pl" / "nips" / "nips2020.json").write_text(json.dumps(records))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(tmp_path / "pl"))
    monkeypatch.setenv("PAPERATLAS_PDFS", "download")
    monkeypatch.setenv("PAPERATLAS_PDF_RATE", "0")
    monkeypatch.setenv("PAPERATLAS_ALLOW_PRIVATE_LINKS", "1")  # p1.pdf is served from 127.0.0.1
    code, out, err = run(capsys, "run", "neurips-2020")
    assert "materialised 1/1" in out, err
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import Warehouse

    store = Warehouse(load_settings().database)
    pdfs = {r["paper_id"]: r["status"] for r in store.records("SELECT paper_id, status FROM paper_pdfs")}
    assert pdfs[records[0]["id"]] == "failed" and pdfs[records[1]["id"]] == "downloaded"
    reasons = [r["reason"] for r in store.records("SELECT reason FROM ingest_errors WHERE stage = 'paper_pdfs'")]
    assert reasons == ["http://[::1/x.pdf: malformed link (Invalid IPv6 URL)"]


# -- say what went wrong, in one line ----------------------------------------------------------------


def _store():
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import Warehouse

    return Warehouse(load_settings().database)


def _truncated(ror_dump, tmp_path):
    data = ror_dump.read_bytes()
    path = tmp_path / "truncated.zip"
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


@pytest.mark.parametrize("make", ["random", "truncated", "not-utf8"])
def test_a_corrupt_ror_dump_is_one_line_and_an_ingest_errors_row(home, capsys, monkeypatch, tmp_path, ror_dump, make):
    import io
    import os
    import zipfile

    if make == "random":
        bad = tmp_path / "random.zip"
        bad.write_bytes(b"PK\x03\x04" + os.urandom(4000))
    elif make == "truncated":
        bad = _truncated(ror_dump, tmp_path)
    else:
        bad = tmp_path / "latin1.zip"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("v1.0-ror-data_schema_v2.json", '[{"id": "x", "names": [{"value": "Universit\xe9"}]}]'
                             .encode("latin-1"))
        bad.write_bytes(buffer.getvalue())
    monkeypatch.setenv("PAPERATLAS_ROR_DUMP", str(bad))
    code, out, err = run(capsys, "run", "neurips-2020")
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("paperatlas: could not load the reference data: ror_registry: ") and str(bad) in last
    assert "PAPERATLAS_ROR_DUMP" in last and "Dagster" not in last and "Traceback" not in err
    assert make != "random" or "corrupt or truncated" in last
    rows = _store().records("SELECT partition_key, stage, item, reason FROM ingest_errors")
    assert [(r["partition_key"], r["stage"]) for r in rows] == [("reference", "ror_registry")]
    assert str(bad) in rows[0]["reason"]


def test_reference_data_that_breaks_later_leaves_the_last_good_copy_in_use(home, capsys, monkeypatch, tmp_path, ror_dump):
    assert run(capsys, "run", "neurips-2020")[0] == 0
    before = _store().records("SELECT paper_id, country, placement FROM paper_countries ORDER BY ALL")
    monkeypatch.setenv("PAPERATLAS_ROR_DUMP", str(_truncated(ror_dump, tmp_path)))
    overrides = tmp_path / "overrides.yaml"
    overrides.write_bytes(b"- match: Universit\xe9\n  country: FR\n")  # Latin-1, not UTF-8
    monkeypatch.setenv("PAPERATLAS_OVERRIDES", str(overrides))
    terms = tmp_path / "terms.yaml"
    terms.write_text("terms: [not, a, term]\n")
    monkeypatch.setenv("PAPERATLAS_TERMS", str(terms))
    code, out, err = run(capsys, "run", "neurips-2020", "--refresh")
    assert code == 0 and "materialised 1/1" in out, err
    warnings = [line for line in err.splitlines() if line.startswith("paperatlas: warning:")]
    assert len(warnings) == 3, err
    assert any("ror_registry" in w and "PAPERATLAS_ROR_DUMP" in w for w in warnings)
    overrides_warning = next(w for w in warnings if "affiliation_overrides" in w)
    assert "not UTF-8" in overrides_warning and "PAPERATLAS_ROR_DUMP" not in overrides_warning
    assert any("term_catalogue" in w and "PAPERATLAS_TERMS" in w for w in warnings)
    assert _store().records("SELECT paper_id, country, placement FROM paper_countries ORDER BY ALL") == before
    stages = {r["stage"] for r in _store().records("SELECT stage FROM ingest_errors WHERE partition_key = 'reference'")}
    assert stages == {"ror_registry", "affiliation_overrides", "term_catalogue"}
    import hashlib

    (copy,) = [r["catalogue_copy"] for r in _store().records("SELECT DISTINCT catalogue_copy FROM terms")]
    assert hashlib.sha256(open(copy, "rb").read()).hexdigest().startswith(copy.rsplit("terms-", 1)[1][:16])


def test_a_stale_overrides_error_is_replaced_by_the_current_one(home, capsys, monkeypatch, tmp_path):
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("- match: x\n  country: ZZ\n")
    monkeypatch.setenv("PAPERATLAS_OVERRIDES", str(overrides))
    assert run(capsys, "run", "neurips-2020")[0] == 2
    overrides.write_bytes(b"- match: Universit\xe9\n  country: FR\n")
    code, _, err = run(capsys, "run", "neurips-2020")
    assert code == 2 and "not UTF-8" in err and "PAPERATLAS_ROR_DUMP" not in err.strip().splitlines()[-1]
    reasons = [r["reason"] for r in _store().records("SELECT reason FROM ingest_errors WHERE stage = 'affiliation_overrides'")]
    assert len(reasons) == 1 and "not UTF-8" in reasons[0]


def test_a_step_failure_shows_and_files_the_error_underneath(home, capsys, monkeypatch):
    from paperatlas.pipeline.countries import steps

    def broken(store, pk):
        try:
            raise OSError(28, "No space left on device")
        except OSError as exc:
            raise RuntimeError("wrapper that says nothing") from exc

    monkeypatch.setattr(steps, "country_edges", broken)
    code, out, err = run(capsys, "run", "neurips-2020")
    assert code == 1
    failed = next(line for line in err.splitlines() if line.startswith("FAILED neurips-2020"))
    assert "OSError: [Errno 28] No space left on device" in failed and "Dagster" not in failed
    rows = _store().records("SELECT stage, reason FROM ingest_errors WHERE partition_key = 'neurips-2020' "
                            "AND stage = 'broken'")
    assert rows and "No space left on device" in rows[0]["reason"]


def test_an_overlong_venue_key_is_refused_up_front(home, capsys):
    code, out, err = run(capsys, "run", "a" * 300 + "-2020")
    assert code == 2 and err.count("\n") == 1 and "at most 40" in err and len(err) < 300


# -- broken disks: one line, exit 2 ------------------------------------------------------------------


def _files(root):
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_reading_commands_write_nothing_so_a_read_only_home_works(home, capsys):
    import os
    import stat

    assert run(capsys, "run", "neurips-2020")[0] == 0
    (home / "paperatlas.duckdb.lock").unlink(missing_ok=True)
    before = _files(home)
    for argv in (["report", "neurips-2020", "--json"], ["errors"], ["papers", "neurips-2020"],
                 ["explain", "neurips-2020", "p1"], ["trend", "neurips"]):
        code, out, err = run(capsys, *argv)
        assert code == 0 and out, (argv, err)
    assert _files(home) == before  # not even the lock file
    if os.geteuid() != 0:  # root writes through permissions: the check above covers it there
        modes = {p: p.stat().st_mode for p in [home, *home.rglob("*")]}
        try:
            for p in modes:
                p.chmod(modes[p] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
            assert run(capsys, "errors")[0] == 0
            code, _, err = run(capsys, "report", "neurips-2020")
            assert code == 0, err
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


def test_a_corrupt_store_is_one_line_naming_the_file(home, capsys):
    home.mkdir(parents=True, exist_ok=True)
    (home / "paperatlas.duckdb").write_bytes(b"this is not a database" * 500)
    for argv in (["errors"], ["report", "neurips-2020"], ["run", "neurips-2020"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and err.count("\n") <= 2 and "Traceback" not in err, (argv, err)
        last = err.strip().splitlines()[-1]
        assert str(home / "paperatlas.duckdb") in last and "Move the file aside" in last, last


def test_a_full_disk_is_one_line_for_the_store_and_for_dagsters_storage(home, capsys, monkeypatch):
    import sqlite3

    import duckdb
    import sqlalchemy.exc

    def full(*args, **kwargs):
        raise duckdb.IOException('IO Error: Could not write file "paperatlas.duckdb": No space left on device')

    monkeypatch.setattr(duckdb, "connect", full)
    code, _, err = run(capsys, "run", "neurips-2020")
    assert code == 2 and err.count("\n") <= 2 and "free disk space" in err and "Traceback" not in err
    monkeypatch.undo()

    def instance_full(settings):
        raise sqlalchemy.exc.OperationalError("INSERT INTO event_logs", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(cli.execution, "instance", instance_full)
    code, _, err = run(capsys, "run", "neurips-2020")
    assert code == 2 and err.count("\n") == 1 and "DAGSTER_HOME" in err and "disk I/O error" in err
    monkeypatch.setattr(cli.execution, "instance", lambda settings: (_ for _ in ()).throw(OSError(28, "No space left on device",
                                                                                          str(home / "dagster"))))
    code, _, err = run(capsys, "run", "neurips-2020")
    assert code == 2 and err == f"paperatlas: {home / 'dagster'}: No space left on device; free disk space and run again " \
                                "(what was written before is kept)\n"


def test_a_reader_waits_for_a_writer_in_another_process(home, capsys):
    import subprocess
    import sys

    from conftest import ROOT

    assert run(capsys, "run", "neurips-2020")[0] == 0
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pipeline.store import Warehouse\n"
         "with Warehouse(sys.argv[1]).connect() as con:\n    print('holding', flush=True)\n    time.sleep(2)\n",
         str(home / "paperatlas.duckdb")], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "holding"
        started = time.monotonic()
        code, out, err = run(capsys, "errors")
        assert code == 0, err
        assert time.monotonic() - started > 0.5  # it waited for the writer instead of failing
    finally:
        writer.wait(timeout=30)


# -- also found ---------------------------------------------------------------------------------


def test_a_catastrophic_regex_in_a_term_catalogue_is_refused_when_it_loads(home, capsys, monkeypatch, tmp_path):
    terms = tmp_path / "terms.yaml"
    terms.write_text("""terms:
  - id: aaa
    name: AAA
    family: aaa
    kind: library
    origin: {organisation: Nobody, country: US}
    patterns: ['(a+)+$']
    anchors: [a]
""")
    monkeypatch.setenv("PAPERATLAS_TERMS", str(terms))
    started = time.monotonic()
    code, out, err = run(capsys, "run", "neurips-2020")
    assert code == 2 and time.monotonic() - started < 60
    assert "term 'aaa': pattern 1 repeats '(a+)+$'" in err and "catastrophic backtracking" in err
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4\n")
    code, _, err = run(capsys, "mentions", str(tmp_path / "x.pdf"), "--terms", str(terms))
    assert code == 2 and "catastrophic backtracking" in err and err.count("\n") == 1


@pytest.mark.parametrize("regex, refused", [
    ("(a+)+$", True), (r"(\w*\s)*x", True), ("((a+))*", True), (r"(?:-[\w-]+)*", True),
    ("(ab)+", False), ("a++", False), ("(?>a+)+", False), (r"Yi-(?:1\.5-)?(?:6|9|34)B(?:-[A-Za-z]+)*", False),
    (r"v\d+(?:\.\d+)*", False),
])
def test_nested_repeats_are_found_and_delimited_ones_allowed(regex, refused):
    from paperatlas.pipeline.mentions.catalogue import nested_repeat

    assert (nested_repeat(regex) is not None) == refused


def test_extract_pdf_reads_only_regular_files_so_a_fifo_cannot_hang_it(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from conftest import ROOT
    from test_pdf_pipeline import p1_page

    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    p1_page(tmp_path / "good.pdf")
    done = subprocess.run([sys.executable, "-m", "paperatlas.cli", "extract-pdf", str(fifo), str(tmp_path / "good.pdf"),
                           "--jobs", "1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [bool(line["error"]) for line in lines] == [True, False]
    assert "not a regular file" in lines[0]["error"]


@pytest.mark.parametrize("which", ["root", "user home", "paperatlas home", "parent of paperatlas home"])
def test_add_folder_refuses_the_root_and_the_homes(home, capsys, which):
    from pathlib import Path

    home.mkdir(parents=True, exist_ok=True)
    folder = {"root": Path("/"), "user home": Path.home(), "paperatlas home": home,
              "parent of paperatlas home": home.parent}[which]
    code, _, err = run(capsys, "add-folder", str(folder), "x-2024")
    assert code == 2 and "refusing" in err and err.count("\n") == 1
    assert not (home / "local" / "x-2024").exists()


def test_a_papers_csv_row_naming_a_link_out_of_the_folder_is_refused(home, capsys, tmp_path, monkeypatch):
    from test_pdf_pipeline import p1_page

    outside = tmp_path / "outside"
    outside.mkdir()
    p1_page(outside / "secret.pdf")
    folder = tmp_path / "pdfs"
    folder.mkdir()
    p1_page(folder / "mine.pdf")
    (folder / "link.pdf").symlink_to(outside / "secret.pdf")
    (folder / "papers.csv").write_text("file,title\nlink.pdf,Linked\nmine.pdf,Mine\n")
    assert run(capsys, "add-folder", str(folder), "local-2024")[0] == 0
    code, out, err = run(capsys, "run", "local-2024")
    assert "materialised 1/1" in out, err
    store = _store()
    assert [r["paper_id"] for r in store.records("SELECT paper_id FROM raw_papers ORDER BY 1")] == ["mine"]
    reasons = [r["reason"] for r in store.records("SELECT reason FROM ingest_errors WHERE stage = 'raw_papers'")]
    assert any("'link.pdf' lies outside" in r and "refused" in r for r in reasons), reasons


def test_report_out_keeps_the_files_it_did_not_write(home, capsys, tmp_path):
    assert run(capsys, "run", "neurips-2020")[0] == 0
    out_dir = tmp_path / "report"
    assert run(capsys, "report", "neurips-2020", "--out", str(out_dir))[0] == 0
    (out_dir / "review-verdicts.csv").write_text("paper_id,verdict\np1,correct\n")
    (out_dir / "charts" / "my-notes.txt").write_text("mine")
    code, _, err = run(capsys, "report", "neurips-2020", "--out", str(out_dir))
    assert code == 0 and "kept 2 file(s)" in err and "review-verdicts.csv" in err
    assert (out_dir / "review-verdicts.csv").read_text() == "paper_id,verdict\np1,correct\n"
    assert (out_dir / "charts" / "my-notes.txt").read_text() == "mine"
    assert (out_dir / "report.html").exists()


def test_a_number_or_nan_in_aff_is_missing_with_a_warning_not_the_text_42():
    from paperatlas.pipeline.partitions import parse_partition_key
    from paperatlas.pipeline.sources.paperlists import parse_records

    payload = b'[{"id": "a", "title": "T1", "author": "X Y", "aff": 42}, {"id": "b", "title": "T2", ' \
              b'"author": "X Y", "aff": NaN, "aff_domain": NaN}, {"id": 7, "title": "T3", "author": "X Y", "aff": "MIT"}]'
    result = parse_records(payload, parse_partition_key("neurips-2020"), "x.json")
    papers = {p.paper_id: p for p in result.papers}
    assert papers["a"].affiliations == [[]] and papers["b"].affiliations == [[]]
    assert papers["b"].email_domains == [None] and papers["7"].affiliations == [["MIT"]]
    warnings = [(e.item, e.reason, e.severity) for e in result.errors]
    assert ("record #0 (id 'a')", "field 'aff' holds the number 42, not text; treated as missing", "warning") in warnings
    assert sum("holds the number nan" in r for _, r, _ in warnings) == 2


def test_data_in_metadata_markdown_cannot_become_a_link_or_html():
    import pandas as pd

    from paperatlas.pipeline.text import preview

    table = str(preview(pd.DataFrame({"title": ["[click](javascript:alert(1))", "<img src=x onerror=alert(1)>",
                                                "![x](http://evil/x.png)", "<javascript:alert(1)>"]})))
    rows = table.splitlines()[2:]
    assert rows == ["| \\[click\\](javascript:alert(1)) |", "| \\<img src=x onerror=alert(1)\\> |",
                    "| !\\[x\\](http://evil/x.png) |", "| \\<javascript:alert(1)\\> |"]


@pytest.mark.parametrize("content, expected", [
    (b"venues: [\n", "the sources file: not valid YAML at line 2, column 1"),
    (b"\xff\xfevenues: {}\n", "the sources file: not UTF-8 text"),
])
def test_a_broken_sources_plan_is_one_line(home, capsys, monkeypatch, tmp_path, content, expected):
    plan = tmp_path / "sources.yaml"
    plan.write_bytes(content)
    monkeypatch.setenv("PAPERATLAS_SOURCES", str(plan))
    code, _, err = run(capsys, "sources")
    assert code == 2 and err.count("\n") == 1 and expected in err and str(plan) in err


def test_a_home_that_is_a_file_is_one_line(home, capsys, monkeypatch, tmp_path):
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("PAPERATLAS_HOME", str(tmp_path / "afile"))
    monkeypatch.delenv("DAGSTER_HOME")
    code, _, err = run(capsys, "run", "neurips-2020")
    assert code == 2 and err.count("\n") == 1 and "a file is where a folder is needed" in err


def test_json_nested_beyond_the_parser_costs_the_venue_year_one_line(home, capsys, monkeypatch, tmp_path):
    (tmp_path / "pl" / "nips").mkdir(parents=True)
    (tmp_path / "pl" / "nips" / "nips2020.json").write_text("[" * 100000 + "]" * 100000)
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(tmp_path / "pl"))
    code, out, err = run(capsys, "run", "neurips-2020")
    assert code == 1 and "nests deeper than Python's parser goes" in err


CRASH_EXTRACT = """
import json, os, signal, sys
from paperatlas import cli
from paperatlas.pipeline import pool
from paperatlas.pipeline.pdfs import steps
from paperatlas.pipeline.pdfs.extract import read_pdf

assert pool.start_method() == "fork"

def read_or_die(path):
    if path.endswith("03.pdf"):
        os.kill(os.getpid(), signal.SIGKILL)  # as a MuPDF crash or the OOM killer ends a worker
    return read_pdf(path)

steps.read_pdf = read_or_die
out = sys.argv[1]
code = cli.main(["extract-pdf", *sys.argv[2:], "--jobs", "2", "--output", out])
lines = [json.loads(line) for line in open(out)]
print(json.dumps({"code": code, "lines": [[l["file"], l["error"], len(l["authors"])] for l in lines]}))
"""


def test_extract_pdf_keeps_every_other_file_when_a_worker_dies(tmp_path):
    from conftest import run_alone
    from test_pdfs import marked_page

    for n in range(12):
        marked_page(tmp_path / f"{n:02d}.pdf")
    paths = sorted(str(p) for p in tmp_path.glob("*.pdf"))
    result = run_alone(CRASH_EXTRACT, str(tmp_path / "out.jsonl"), *paths)
    assert result["code"] == 0
    assert [line[0] for line in result["lines"]] == paths
    assert result["lines"][3][1] and "crash" in result["lines"][3][1].lower()
    assert all(line[1] is None and line[2] == 3 for n, line in enumerate(result["lines"]) if n != 3)


def test_an_unreadable_papers_csv_names_its_line(home, capsys, tmp_path):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "papers.csv").write_text("file,title\na.pdf,fine\nb.pdf," + "x" * 200_000 + "\n")
    assert run(capsys, "add-folder", str(folder), "local-2024")[0] == 0
    code, out, err = run(capsys, "run", "local-2024")
    assert code == 1
    failed = next(line for line in err.splitlines() if line.startswith("FAILED local-2024"))
    assert "papers.csv line 3: not readable as CSV (field larger than field limit" in failed


def test_a_body_over_the_size_cap_is_refused_not_held_in_memory(tmp_path, server):
    import gzip

    from paperatlas.pipeline.http import FetchError, HttpClient

    bomb = gzip.compress(b"[" + b" " * 5_000_000 + b"]")  # 5 MB once decompressed, a few KB on the wire
    server.answer("/bomb.json", (200, {"Content-Encoding": "gzip"}, bomb))
    http = HttpClient(tmp_path, retries=0, max_body=1_000_000)
    with pytest.raises(FetchError, match="over 1 MB; refused"):
        http.fetch(server.url + "/bomb.json")
    assert HttpClient(tmp_path, retries=0).fetch(server.url + "/bomb.json").content.startswith(b"[ ")


def test_a_writer_waits_for_a_lock_free_reader_in_another_process(home, capsys):
    import subprocess
    import sys

    from conftest import ROOT

    assert run(capsys, "run", "neurips-2020")[0] == 0
    reader = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pipeline.store import Warehouse\n"
         "with Warehouse(sys.argv[1], read_only=True).connect() as con:\n    print('reading', flush=True)\n"
         "    time.sleep(2)\n", str(home / "paperatlas.duckdb")], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "reading"
        code, out, err = run(capsys, "run", "neurips-2020")
        assert code == 0 and "materialised 1/1" in out, err
    finally:
        reader.wait(timeout=30)


def test_a_dump_url_serving_an_error_page_is_never_cached_as_the_dump(tmp_path, server, ror_dump):
    from paperatlas.pipeline.affiliations.reference import locate_dump
    from paperatlas.pipeline.affiliations.ror import RorDumpError
    from paperatlas.pipeline.http import HttpClient

    server.answer("/ror.zip", HTML_ERROR, (200, {}, ror_dump.read_bytes()[:-200]), (200, {}, ror_dump.read_bytes()))
    http = HttpClient(tmp_path, retries=0)
    with pytest.raises(RorDumpError, match="neither a zip nor a JSON array"):
        locate_dump(server.url + "/ror.zip", tmp_path, http)
    with pytest.raises(RorDumpError, match="not usable"):  # cut short: the zip's directory is gone
        locate_dump(server.url + "/ror.zip", tmp_path, http)
    location = locate_dump(server.url + "/ror.zip", tmp_path, http)
    assert location.path.read_bytes() == ror_dump.read_bytes() and server.hits["/ror.zip"] == 3


def test_a_reader_upgrades_a_store_written_by_an_older_version(home, capsys):
    import duckdb

    assert run(capsys, "run", "neurips-2020")[0] == 0
    con = duckdb.connect(str(home / "paperatlas.duckdb"))
    con.execute("ALTER TABLE terms DROP COLUMN catalogue_copy")
    con.close()
    code, out, err = run(capsys, "report", "neurips-2020", "--json")
    assert code == 0, err
    con = duckdb.connect(str(home / "paperatlas.duckdb"), read_only=True)
    assert "catalogue_copy" in [r[0] for r in con.execute("DESCRIBE terms").fetchall()]
    con.close()


def test_text_utf8_cannot_store_costs_a_warning_not_the_venue_year(home, capsys, monkeypatch, tmp_path):
    import json

    records = [r for r in json.loads((PAPERLISTS / "nips" / "nips2020.json").read_text()) if isinstance(r, dict)]
    records[0]["title"] = "Lone \ud800 surrogate and NUL \u0000 title"
    records[1]["aff"] = "Tsinghua University \udfff;MIT"
    (tmp_path / "pl" / "nips").mkdir(parents=True)
    (tmp_path / "pl" / "nips" / "nips2020.json").write_text(json.dumps(records))  # JSON escapes: "\ud800"
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(tmp_path / "pl"))
    code, out, err = run(capsys, "run", "neurips-2020")
    assert "materialised 1/1" in out, err
    titles = [r["title"] for r in _store().records("SELECT title FROM raw_papers WHERE paper_id = 'p1'")]
    assert titles == ["Lone \ufffd surrogate and NUL title"]
    warnings = _store().records("SELECT item FROM ingest_errors WHERE reason LIKE 'characters that cannot be stored%'")
    assert sorted(w["item"] for w in warnings) == ["record #0 (id 'p1')", "record #1 (id 'p2')"]
    assert run(capsys, "report", "neurips-2020", "--out", str(tmp_path / "report"))[0] == 0


def test_an_affiliation_string_too_long_to_be_one_is_not_matched():
    import time as clock

    from paperatlas.pipeline.affiliations.resolver import MAX_AFFILIATION, Resolver

    resolver = Resolver(None)
    started = clock.monotonic()
    huge = resolver.resolve("Stanford University, Dept. of " * 40_000)
    assert clock.monotonic() - started < 2
    assert huge.country is None and f"longer than {MAX_AFFILIATION:,} characters" in huge.reason
    assert resolver.resolve("x" * (MAX_AFFILIATION + 1), "tsinghua.edu.cn").country == "CN"


def test_a_page_built_to_hold_tens_of_thousands_of_lines_is_read_in_bounded_time(tmp_path):
    import pymupdf

    from paperatlas.pipeline.pdfs.extract import read_pdf

    doc = pymupdf.open()
    page = doc.new_page(width=600, height=800)
    page.insert_text((5, 5), "x", fontname="helv", fontsize=3)  # puts the font in the page's resources
    # A line per word, 3 pt high: no real first page holds more than about 120 lines.
    ops = [f"1 0 0 1 {10 + (i % 40) * 14} {790 - (i // 40) % 780} Tm (w{i % 97}) Tj" for i in range(20_000)]
    doc.update_stream(page.get_contents()[0], "\n".join(["BT /helv 3 Tf", *ops, "ET"]).encode())
    doc.save(tmp_path / "dense.pdf")
    started = time.monotonic()
    result = read_pdf(tmp_path / "dense.pdf")
    assert time.monotonic() - started < 5 and result.error is None  # 22 s before the bound
