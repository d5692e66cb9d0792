"""Without the network: a failure that waiting cannot heal (the name does not resolve, the
connection is refused, TLS fails) is given up at once, and the message names the URL once and
the setting that points paperatlas at a local copy. Timeouts, resets and 5xx keep their retries.

The failures are real: a port nobody listens on, a plain-HTTP server asked for TLS, and the
resolver's own exception (`socket.gaierror`) from `getaddrinfo`, which the tests replace so
that no query leaves the machine."""

import socket
import socketserver
import threading
import time

import pytest

from paperatlas.pipeline.affiliations.reference import locate_dump
from paperatlas.pipeline.affiliations.ror import RorDumpError
from paperatlas.pipeline.http import HttpClient, Unreachable
from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.pdfs.downloads import PdfItem, PdfStore
from paperatlas.pipeline.sources.paperlists import SourceError, locate_and_read

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def no_dns(monkeypatch):
    """Every name but the loopback's fails to resolve, as on a machine without a network."""

    def getaddrinfo(host, *args, **kwargs):
        if host in ("127.0.0.1", "localhost", "::1"):
            return REAL_GETADDRINFO(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: connecting is refused


class _Counting(socketserver.BaseRequestHandler):
    def handle(self):
        self.server.hits += 1
        self.request.recv(1024)
        self.request.sendall(self.server.answer)


@pytest.fixture
def plain_server():
    """A server on 127.0.0.1 that answers every connection with plain HTTP, counting them."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Counting)
    server.hits, server.answer = 0, b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def client(tmp_path, retries=5):
    # A backoff of seconds: a retried failure would show in the time taken.
    return HttpClient(tmp_path / "cache", timeout=5, retries=retries, backoff_initial=2, backoff_max=2)


def _fails_at_once(http, url):
    started = time.monotonic()
    with pytest.raises(Unreachable) as failure:
        http.fetch(url)
    assert time.monotonic() - started < 1.5, "retried"
    assert str(failure.value).count(url) == 1 and "HTTPConnectionPool" not in str(failure.value)
    return failure.value


def test_name_resolution_failure_is_not_retried(tmp_path, no_dns):
    error = _fails_at_once(client(tmp_path), "https://zenodo.org/api/records/6347574")
    assert "cannot resolve the host name zenodo.org" in error.reason


def test_refused_connection_is_not_retried_and_the_host_is_remembered(tmp_path, closed_port, monkeypatch):
    http = client(tmp_path)
    url = f"http://127.0.0.1:{closed_port}/a.json"
    assert "refused the connection" in _fails_at_once(http, url).reason
    tries = []
    monkeypatch.setattr(http.session, "request", lambda *a, **k: tries.append(a) or pytest.fail("asked again"))
    with pytest.raises(Unreachable, match="refused"):
        http.fetch(f"http://127.0.0.1:{closed_port}/b.json")  # the same host: not asked again
    assert not tries


def test_tls_failure_is_not_retried(tmp_path, plain_server):
    url = f"https://127.0.0.1:{plain_server.server_address[1]}/nips/nips2016.json"
    assert "TLS with 127.0.0.1 failed" in _fails_at_once(client(tmp_path), url).reason
    assert plain_server.hits == 1


def test_a_transient_failure_keeps_its_retries(tmp_path, plain_server, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    url = f"http://127.0.0.1:{plain_server.server_address[1]}/x.json"
    with pytest.raises(Exception, match="HTTP 503 after 3 attempts"):
        client(tmp_path, retries=2).fetch(url)
    assert plain_server.hits == 3


def test_only_a_try_that_follows_is_announced(tmp_path, plain_server, monkeypatch, capsys):
    monkeypatch.setattr("time.sleep", lambda s: None)
    url = f"http://127.0.0.1:{plain_server.server_address[1]}/x.json"
    with pytest.raises(Exception, match="HTTP 503 after 2 attempts"):
        client(tmp_path, retries=1).fetch(url)
    err = capsys.readouterr().err
    assert "before try 2 of 2" in err and "try 3" not in err


def test_each_source_names_its_offline_setting(tmp_path, no_dns):
    pk = parse_partition_key("neurips-2016")
    with pytest.raises(SourceError) as paperlists:
        locate_and_read("https://raw.githubusercontent.com/papercopilot/paperlists/main", pk, client(tmp_path), "nips")
    assert "PAPERATLAS_PAPERLISTS_BASE" in str(paperlists.value)
    assert str(paperlists.value).count("nips2016.json") == 1

    with pytest.raises(RorDumpError) as ror:
        locate_dump(None, tmp_path / "cache", client(tmp_path))
    assert "PAPERATLAS_ROR_DUMP" in str(ror.value) and "unreachable" in str(ror.value)

    store = PdfStore(tmp_path / "pdfs", client(tmp_path), concurrency=1)
    items = [PdfItem(f"p{n}", f"https://papers.nips.cc/p{n}.pdf") for n in range(4)]
    started = time.monotonic()
    records = store.collect("neurips-2016", items)
    assert time.monotonic() - started < 2  # one try for the host, then the rest are not tried
    assert [r.status for r in records] == ["failed"] * 4
    assert "cannot resolve" in records[0].error and "not tried" in records[1].error
    assert all("--pdfs cached" in r.error for r in records)


def test_run_without_settings_fails_fast_naming_every_offline_setting(home, monkeypatch, no_dns, capsys):
    """The first command of the README on a machine without a network."""
    from paperatlas import cli

    for name in ("PAPERATLAS_PAPERLISTS_BASE", "PAPERATLAS_ROR_DUMP"):
        monkeypatch.delenv(name)
    started = time.monotonic()
    assert cli.main(["run", "neurips-2016"]) == 2
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert took < 20, took
    last = err.strip().splitlines()[-1]
    assert last.startswith("paperatlas: could not load the reference data: ror_registry")
    for setting in ("PAPERATLAS_ROR_DUMP", "PAPERATLAS_PAPERLISTS_BASE", "--pdfs"):
        assert setting in last, setting
    assert last.count("https://zenodo.org/api/records/6347574") == 1
    assert "Traceback" not in err and "try 2" not in err


def test_run_with_the_registry_but_no_paper_lists(home, monkeypatch, no_dns, capsys):
    from paperatlas import cli

    monkeypatch.delenv("PAPERATLAS_PAPERLISTS_BASE")
    assert cli.main(["run", "neurips-2016"]) == 1
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if line.startswith("FAILED neurips-2016")]
    assert len(failed) == 1 and "PAPERATLAS_PAPERLISTS_BASE" in failed[0]
    assert failed[0].count("nips2016.json") == 1
    assert "Not executing" not in err  # Dagster's per-step lines stay in the run log
    assert err.strip().splitlines()[-1].startswith("paperatlas: to work offline, set PAPERATLAS_PAPERLISTS_BASE")


def test_resolve_without_a_registry_or_a_network_says_what_to_set(home, monkeypatch, no_dns, capsys):
    import io

    from paperatlas import cli

    monkeypatch.delenv("PAPERATLAS_ROR_DUMP")
    monkeypatch.setattr("sys.stdin", io.StringIO('{"affiliation": "MIT"}\n'))
    assert cli.main(["resolve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unreachable" in err and "PAPERATLAS_ROR_DUMP" in err and "--ror none" in err
