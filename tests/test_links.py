"""Links taken from source data reach only the public internet (pipeline/http_links.py), redirect
errors name the URL, and a Content-Length over the cap is refused from the header.

Servers run on 127.0.0.1 only. A "public" host is a name whose resolution the test fakes
(getaddrinfo answers a global address) and whose connections it sends to a local server: no
test touches the internet."""

from __future__ import annotations

import http.server
import json
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
import urllib3.util.connection
from conftest import PAPERLISTS, serve

from paperatlas import cli
from paperatlas.pipeline.http import HttpClient, LinkRefused, PermanentFetchError
from paperatlas.pipeline.http_links import address_problem
from paperatlas.pipeline.pdfs.downloads import PdfItem, PdfStore

PDF = b"%PDF-1.4\n" + b"x" * 2000 + b"\n%%EOF\n"
PUBLIC = "8.8.8.8"  # the address faked names resolve to; a connection to it goes to a local server


class Server:
    """A local HTTP server: each path answers (status, headers, body); it counts requests.
    `stall` paths send their headers and then nothing until the test ends."""

    def __init__(self):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.hits: list[str] = []
        self.stall = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server name
                outer.hits.append(self.path)
                status, headers, body = outer.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                if headers.get("X-Stall"):
                    outer.stall.wait(30)
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = serve(Handler)
        self.port, self.url = self.httpd.server_address[1], self.httpd.url

    def close(self):
        self.stall.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def server2():
    s = Server()
    yield s
    s.close()


_CONNECTS: list | None = None


def _audit(event, args):
    if event == "socket.connect" and _CONNECTS is not None:
        _CONNECTS.append(args[1])


sys.addaudithook(_audit)  # cannot be removed; records only while a test sets _CONNECTS


@pytest.fixture
def connects():
    """Every address a socket connects to while the test runs (the interpreter's audit events)."""
    global _CONNECTS
    _CONNECTS = []
    yield _CONNECTS
    _CONNECTS = None


@pytest.fixture
def names(monkeypatch):
    """Fake DNS: `names[host] = [answer, …]` gives one answer per lookup (the last repeats), an
    answer being an address or a tuple of them; `names.asked` counts lookups. Other names
    resolve as usual."""
    real = socket.getaddrinfo

    class Names(dict):
        asked: dict[str, int] = {}

    table = Names()

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            table.asked[host] = table.asked.get(host, 0) + 1
            queue = table[host]
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
            return [info for address in ((answer,) if isinstance(answer, str) else answer)
                    for info in real(address, port, *args, **kwargs)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.fixture
def public_to(monkeypatch):
    """`public_to(server)`: a connection to PUBLIC goes to `server` instead; one to any other
    public address fails the test (the internet stays out, with or without the fix)."""
    real = urllib3.util.connection.create_connection

    def install(target: Server):
        def create_connection(address, *args, **kwargs):
            host, port = address
            resolved = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0]
            if resolved == PUBLIC:
                return real(("127.0.0.1", target.port), *args, **kwargs)
            assert address_problem(resolved), f"a test may not connect to {address}"
            return real((resolved, port), *args, **kwargs)

        monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)

    return install


def client(**kw) -> HttpClient:
    return HttpClient(None, timeout=10, retries=0, **kw)


# -- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"), ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"), ("10.0.0.1", "private"), ("172.16.5.4", "private"), ("192.168.1.1", "private"),
    ("fc00::1", "private"), ("fec0::1", "site-local"), ("fd12:3456::1", "private"), ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("100.64.0.1", "carrier-grade NAT"),
    ("240.0.0.1", "reserved"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::1", "loopback"), ("64:ff9b::a00:1", "private"), ("192.0.2.1", "private"),
])
def test_every_address_of_this_machine_s_networks_is_refused(address, kind):
    assert kind in address_problem(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "151.101.1.140"])
def test_global_unicast_addresses_pass(address):
    assert address_problem(address) is None


@pytest.mark.parametrize("link, shown", [
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://10.0.0.1/x.pdf", "10.0.0.1 is a private address"),
    ("http://2130706433:{port}/x.pdf", "2130706433 resolves to 127.0.0.1, a loopback address"),
    ("http://0x7f.1:{port}/x.pdf", "0x7f.1 resolves to 127.0.0.1, a loopback address"),
    ("http://[::ffff:127.0.0.1]:{port}/x.pdf", "::ffff:127.0.0.1 is a loopback address"),
    ("http://[::1]:{port}/x.pdf", "::1 is a loopback address"),
    ("http://127.0.0.1:{port}/x.pdf", "127.0.0.1 is a loopback address"),
])
def test_a_data_link_into_this_network_is_not_even_connected_to(server, connects, tmp_path, link, shown):
    server.routes["/x.pdf"] = (200, {}, PDF)
    link = link.format(port=server.port)
    with pytest.raises(LinkRefused) as refused:
        client().download(link, tmp_path / "x.pdf", 10**6, data_link=True)
    assert str(refused.value) == (f"{link}: refused: {shown}; set PAPERATLAS_ALLOW_PRIVATE_LINKS=1 to fetch "
                                  "links to this machine's network")
    assert connects == [] and server.hits == []
    assert list(tmp_path.iterdir()) == []


def test_a_name_that_resolves_into_this_network_is_refused(server, names, connects):
    names["papers.example.org"] = ["127.0.0.1"]
    server.routes["/x.pdf"] = (200, {}, PDF)
    url = f"http://papers.example.org:{server.port}/x.pdf"
    with pytest.raises(LinkRefused, match="papers.example.org resolves to 127.0.0.1, a loopback address"):
        client().get(url, data_link=True)
    assert connects == [] and server.hits == []


def test_a_name_is_refused_when_any_of_its_addresses_is_private(names, public_to, server, connects):
    names["mixed.example.org"] = [(PUBLIC, "10.1.2.3")]
    public_to(server)
    server.routes["/x"] = (200, {}, b"x")
    with pytest.raises(LinkRefused, match="mixed.example.org resolves to 10.1.2.3, a private address"):
        client().get("http://mixed.example.org/x", data_link=True)
    assert connects == [] and server.hits == []


def test_the_connection_goes_to_the_address_that_was_checked(names, public_to, server, server2, connects):
    """DNS rebinding: the name answers a public address to the check and 127.0.0.1 after. The
    connection goes to the checked address, so the local service (server2) never hears of it."""
    names["rebind.example.org"] = [PUBLIC, "127.0.0.1"]
    public_to(server)
    server.routes["/secret"] = (200, {}, b"public")
    server2.routes["/secret"] = (200, {}, b"internal")
    answer = client().get(f"http://rebind.example.org:{server2.port}/secret", data_link=True)
    assert answer.content == b"public"
    assert names.asked["rebind.example.org"] == 1
    assert server2.hits == [] and server.hits == ["/secret"]


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for `name` and its key, written to `folder` (cryptography comes with moto)."""
    pytest.importorskip("cryptography")
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_keeps_the_name_while_connecting_to_the_checked_address(names, public_to, server, tmp_path, monkeypatch):
    """The socket goes to the checked address; SNI and the certificate check still use the name."""
    import ssl

    cert, key = _self_signed(tmp_path, "secure.example.org")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    seen: list[str] = []
    context.sni_callback = lambda sock, name, ctx: seen.append(name)
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    server.routes["/x"] = (200, {}, b"over tls")
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # requests lets these override `verify`
        monkeypatch.setenv(variable, str(cert))
    names["secure.example.org"] = [PUBLIC]
    names["other.example.org"] = [PUBLIC]
    public_to(server)
    assert client().get("https://secure.example.org/x", data_link=True).content == b"over tls"
    assert seen == ["secure.example.org"]
    with pytest.raises(Exception, match="TLS with other.example.org failed"):  # the certificate names another host
        client().get("https://other.example.org/x", data_link=True)


def test_every_redirect_hop_is_checked(names, public_to, server, server2, connects):
    """A public host that redirects to 127.0.0.1 is refused at the hop, naming both."""
    names["public.example.org"] = [PUBLIC]
    public_to(server)
    hop = f"http://127.0.0.1:{server2.port}/admin"
    server.routes["/x.pdf"] = (302, {"Location": hop}, b"")
    server2.routes["/admin"] = (200, {}, PDF)
    url = "http://public.example.org/x.pdf"
    with pytest.raises(LinkRefused) as refused:
        client().download(url, Path("/nonexistent/x.pdf"), 10**6, data_link=True)
    assert str(refused.value).startswith(f"{url}: refused: redirected to {hop}, and 127.0.0.1 is a loopback address")
    assert server.hits == ["/x.pdf"] and server2.hits == []
    assert ("127.0.0.1", server2.port) not in connects


def test_through_a_proxy_the_link_is_checked_before_the_proxy_is_asked(server, monkeypatch):
    """A proxy resolves names itself, so the link is checked before the request goes out; the
    proxy (the user's own setting) is then asked only for public links."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    with pytest.raises(LinkRefused, match="10.0.0.1 is a private address"):
        client().get("http://10.0.0.1/latest/meta-data/", data_link=True)
    assert server.hits == []


def test_the_user_s_own_endpoints_and_the_opt_in_reach_this_machine(server, tmp_path):
    server.routes["/x.pdf"] = (200, {"Content-Type": "application/pdf"}, PDF)
    assert client().get(server.url + "/x.pdf").content == PDF  # a URL the user configured
    got = client(allow_private_links=True).download(server.url + "/x.pdf", tmp_path / "x.pdf", 10**6,
                                                    data_link=True)
    assert got.bytes == len(PDF) and (tmp_path / "x.pdf").read_bytes() == PDF


def test_the_pdf_store_refuses_each_link_and_records_it(server, names, connects, tmp_path):
    names["pdfs.example.org"] = ["127.0.0.1"]
    server.routes["/x.pdf"] = (200, {}, PDF)
    links = [f"{server.url}/x.pdf", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x.pdf",
             f"http://[::1]:{server.port}/x.pdf", f"http://2130706433:{server.port}/x.pdf",
             f"http://pdfs.example.org:{server.port}/x.pdf"]
    store = PdfStore(tmp_path / "pdfs", client(), concurrency=2)
    records = store.collect("neurips-2020", [PdfItem(f"p{n}", link) for n, link in enumerate(links)])
    assert [r.status for r in records] == ["failed"] * len(links)
    for record, link in zip(records, links):
        assert record.error.startswith(f"{link}: refused: ") and "PAPERATLAS_ALLOW_PRIVATE_LINKS=1" in record.error
    assert connects == [] and server.hits == []
    allowed = PdfStore(tmp_path / "pdfs", client(allow_private_links=True)).collect(
        "neurips-2020", [PdfItem("p0", links[0])])
    assert allowed[0].status == "downloaded" and server.hits == ["/x.pdf"]


# -- a whole run: one ingest_errors row per refused link, every paper counted --------------------------------


def _run_with_links(capsys, monkeypatch, tmp_path, links):
    records = json.loads((PAPERLISTS / "nips" / "nips2020.json").read_text())
    papers = [r for r in records if isinstance(r, dict)]
    for record in papers:
        record["pdf"] = ""
    for record, link in zip(papers, links):
        record["pdf"] = link
    (tmp_path / "pl" / "nips").mkdir(parents=True)
    (tmp_path / "pl" / "nips" / "nips2020.json").write_text(json.dumps(records))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(tmp_path / "pl"))
    monkeypatch.setenv("PAPERATLAS_PDFS", "download")
    monkeypatch.setenv("PAPERATLAS_PDF_RATE", "0")
    monkeypatch.setenv("PAPERATLAS_HTTP_RETRIES", "0")
    code = cli.main(["run", "neurips-2020"])
    out, err = capsys.readouterr()
    assert code == 0 and "materialised 1/1" in out, err

    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import Warehouse

    store = Warehouse(load_settings().database)
    return papers, store


def test_a_paper_list_s_links_into_this_network_cost_one_row_each(home, capsys, monkeypatch, tmp_path, server,
                                                                   names, connects):
    server.routes["/x.pdf"] = (200, {"Content-Type": "application/pdf"}, PDF)
    names["papers.example.org"] = ["127.0.0.1"]
    links = [f"{server.url}/x.pdf", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x.pdf",
             f"http://[::1]:{server.port}/x.pdf", f"http://2130706433:{server.port}/x.pdf",
             f"http://papers.example.org:{server.port}/x.pdf"]
    papers, store = _run_with_links(capsys, monkeypatch, tmp_path, links)
    assert server.hits == []
    assert not [c for c in connects if isinstance(c, tuple) and (c[0] in ("169.254.169.254", "10.0.0.1")
                                                                 or c[1] == server.port)]
    pdfs = {r["paper_id"]: r["status"] for r in store.records("SELECT paper_id, status FROM paper_pdfs")}
    assert [pdfs[p["id"]] for p in papers[:len(links)]] == ["failed"] * len(links)
    rows = store.records("SELECT item, reason FROM ingest_errors WHERE stage = 'paper_pdfs' ORDER BY reason")
    assert len(rows) == len(links)
    for link in links:
        [row] = [r for r in rows if r["reason"].startswith(f"{link}: refused: ")]
        assert "PAPERATLAS_ALLOW_PRIVATE_LINKS=1" in row["reason"]
    counted = {r["paper_id"] for r in store.records("SELECT paper_id FROM raw_papers")}
    assert {p["id"] for p in papers[:len(links)]} <= counted  # the papers stay counted


def test_the_opt_in_reaches_every_client_that_fetches_links_from_data(home, monkeypatch):
    """PAPERATLAS_ALLOW_PRIVATE_LINKS reaches the PDF store, the sources and the registry's
    clients through the resources; unset, each of them checks links."""
    from paperatlas.definitions import build_resources
    from paperatlas.pipeline.config import load_settings

    def clients() -> list[HttpClient]:
        resources = build_resources(load_settings())
        return [resources["pdf_store"].store().http, resources["proceedings"].reader().config.client(),
                HttpClient(None, allow_private_links=resources["ror"].allow_private_links)]

    assert all(c.link_session is not c.session for c in clients())
    monkeypatch.setenv("PAPERATLAS_ALLOW_PRIVATE_LINKS", "1")
    assert all(c.link_session is c.session for c in clients())


def test_the_opt_in_takes_only_on_or_off(home, capsys, monkeypatch):
    monkeypatch.setenv("PAPERATLAS_ALLOW_PRIVATE_LINKS", "maybe")
    assert cli.main(["errors"]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("paperatlas: PAPERATLAS_ALLOW_PRIVATE_LINKS='maybe'"), err


# -- redirect errors name the URL -----------------------------------------------------------------


def test_a_redirect_loop_names_the_url(server):
    server.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    url = server.url + "/loop"
    with pytest.raises(PermanentFetchError) as failure:
        client().fetch(url)
    assert str(failure.value) == f"{url}: redirected more than 30 times (a loop?)"


def test_a_redirect_to_file_names_the_url_and_the_hop(server, tmp_path):
    server.routes["/x.pdf"] = (302, {"Location": "file:///etc/passwd"}, b"")
    url = server.url + "/x.pdf"
    with pytest.raises(PermanentFetchError) as failure:
        client().fetch(url)
    assert str(failure.value) == f"{url}: redirected to file:///etc/passwd; only http(s) is followed"
    record = PdfStore(tmp_path / "pdfs", client(allow_private_links=True)).collect(
        "neurips-2020", [PdfItem("p1", url)])[0]
    assert record.status == "failed"
    assert record.error == f"{url}: redirected to file:///etc/passwd; only http(s) is followed"


def test_a_redirect_to_a_malformed_link_names_the_url_and_the_hop(server):
    server.routes["/x.pdf"] = (302, {"Location": "http://[::1/y.pdf"}, b"")
    url = server.url + "/x.pdf"
    with pytest.raises(PermanentFetchError) as failure:
        client().get(url)
    assert str(failure.value) == f"{url}: redirected to a malformed link 'http://[::1/y.pdf'"


# -- a Content-Length over the cap ------------------------------------------------------------------


def test_a_2_gb_content_length_is_refused_from_the_header(server):
    server.routes["/big.json"] = (200, {"Content-Length": str(2 << 30), "X-Stall": "1"}, b"")
    url = server.url + "/big.json"
    started = time.monotonic()
    with pytest.raises(PermanentFetchError) as failure:
        client().fetch(url)
    assert time.monotonic() - started < 3  # the server stalls after its headers: nothing was waited for
    assert str(failure.value) == (f"{url}: too large (2147 MB announced, over the 1074 MB a body may hold in "
                                  "memory); refused")


def test_a_pdf_over_its_cap_is_refused_from_the_header(server, tmp_path):
    server.routes["/big.pdf"] = (200, {"Content-Length": str(2 << 30), "X-Stall": "1"}, b"")
    url = server.url + "/big.pdf"
    started = time.monotonic()
    with pytest.raises(PermanentFetchError, match=r"too large \(2147.5 MB announced, limit 200 MB\)"):
        client(allow_private_links=True).download(url, tmp_path / "big.pdf", 200 * 10**6, data_link=True)
    assert time.monotonic() - started < 3
    assert list(tmp_path.iterdir()) == []


# -- a page's links that leave its host --------------------------------------------------------------


def test_a_proceedings_listing_linking_off_its_host_into_this_network_costs_that_page(server, connects, tmp_path):
    """The listing's own host is the user's choice (here a local mirror): its relative links are
    read. An abstract-page link that leaves it for 169.254.169.254 is refused and costs that page."""
    from source_payloads import PAPERS, abstract_html, listing_html

    from paperatlas.pipeline.partitions import parse_partition_key
    from paperatlas.pipeline.sources import proceedings

    listing = listing_html(2024)
    moved = f"/paper_files/paper/2024/hash/{PAPERS[1]['hash']}-Abstract-"
    hostile = "http://169.254.169.254/latest" + moved
    assert listing.count(moved) == 1
    server.routes["/paper_files/paper/2024"] = (200, {"Content-Type": "text/html"},
                                                listing.replace(moved, hostile).encode())
    for p in PAPERS:
        path = f"/paper_files/paper/2024/hash/{p['hash']}-Abstract-{p['track'].replace('_Track', '')}.html"
        server.routes[path] = (200, {"Content-Type": "text/html"}, abstract_html(p, 2024).encode())
    http = HttpClient(tmp_path / "cache", timeout=10, retries=0)
    result = proceedings.read(http, parse_partition_key("neurips-2024"), server.url + "/paper_files/paper/{year}")
    assert [p.paper_id for p in result.papers] == [PAPERS[0]["hash"], PAPERS[2]["hash"]]
    [error] = result.errors
    assert error.item.startswith("abstract page http://169.254.169.254/latest/")
    assert "refused: 169.254.169.254 is a link-local address" in error.reason
    assert not [c for c in connects if isinstance(c, tuple) and c[0] == "169.254.169.254"]
