"""Links taken from source data reach only the public internet.

A paper list, an OpenAlex work or an OpenReview note names a PDF link that paperatlas then
downloads. Such a link must not make this machine send requests into its own network: to a
service on 127.0.0.1, a private address, or the cloud's metadata endpoint at 169.254.169.254
(server-side request forgery driven by third-party data). `guarded_session` is a requests
session whose connections check where they go: the host name is resolved once, every address
it resolves to must be a global unicast address, and the socket connects to the address that
was checked, so a name that resolves differently a moment later (DNS rebinding) changes
nothing. The Host header, TLS SNI and the certificate check keep the name. Every redirect hop
opens its connection the same way. Schemes other than http(s) have no adapter in requests and
are never followed.

The endpoints a user configures (`PAPERATLAS_PAPERLISTS_BASE`, `PAPERATLAS_OPENALEX_BASE`, …)
are the user's own choice and are not checked; `PAPERATLAS_ALLOW_PRIVATE_LINKS=1` turns the
check off for links too (local mirrors, tests).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

SETTING = "PAPERATLAS_ALLOW_PRIVATE_LINKS"
HINT = f"set {SETTING}=1 to fetch links to this machine's network"

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, 6to4, NAT64, Teredo's client)."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.teredo[1] if ip.teredo else None


def address_problem(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What kind of non-public address `address` is ("a loopback address", …), or None for a
    global unicast address that a link from the data may reach."""
    ip = ipaddress.ip_address(str(address).split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is local anyway
    inner = _embedded_ipv4(ip)
    if inner is not None:
        problem = address_problem(inner)
        if problem:
            return problem
    for kind, hit in (("a loopback address", ip.is_loopback), ("a link-local address", ip.is_link_local),
                      ("a multicast address", ip.is_multicast), ("an unspecified address", ip.is_unspecified),
                      ("a shared (carrier-grade NAT) address", ip.version == 4 and ip in _CGNAT),
                      ("a reserved address", ip.is_reserved), ("a private address", ip.is_private),
                      ("a site-local address", ip.version == 6 and ip.is_site_local),  # fec0::/10, deprecated
                      ("not a public address", not ip.is_global)):
        if hit:
            return kind
    return None


class AddressRefused(Exception):
    """A connection not made: `host` resolves to `address`, which is `kind` ("a loopback address")."""

    def __init__(self, host: str, address: str, kind: str):
        super().__init__(f"{host} resolves to {address}, {kind}" if host.strip("[]") != address
                         else f"{address} is {kind}")
        self.host, self.address, self.kind = host, address, kind


def checked_addresses(host: str, port: int) -> list[tuple]:
    """Every address `host` resolves to, as getaddrinfo gives them, once each is checked; the
    first that is not public raises AddressRefused (a name is refused when any address is)."""
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    for info in infos:
        address = info[4][0]
        kind = address_problem(address)
        if kind:
            raise AddressRefused(host, address.split("%", 1)[0], kind)
    return infos


def _connect_checked(conn: HTTPConnection) -> socket.socket:
    """urllib3's `_new_conn`, with the name resolved and checked here and the socket connected
    to a checked address (the next one when a connection fails); errors mapped as urllib3 maps them."""
    try:
        infos = checked_addresses(conn._dns_host, conn.port)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    error: OSError | None = None
    for info in infos:
        try:
            sock = connection.create_connection((info[4][0], conn.port), conn.timeout,
                                                source_address=conn.source_address, socket_options=conn.socket_options)
        except socket.timeout as exc:
            raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out. "
                                            f"(connect timeout={conn.timeout})") from exc
        except OSError as exc:
            error = exc
            continue
        sys.audit("http.client.connect", conn, conn.host, conn.port)
        return sock
    raise NewConnectionError(conn, f"Failed to establish a new connection: {error}") from error


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_checked(self)


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_checked(self)


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    """An adapter whose every connection goes only to a checked public address. Through a proxy
    (which resolves the name itself) the name is checked here before the request is sent."""

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        if proxies and select_proxy(request.url, proxies):
            parsed = urlparse(request.url)
            try:
                checked_addresses(parsed.hostname or "", parsed.port or (443 if parsed.scheme == "https" else 80))
            except socket.gaierror:
                pass  # the proxy resolves the name; what it cannot resolve fails there
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)


def checked_session() -> requests.Session:
    """A session whose connections reach only public addresses (see the module's text)."""
    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, CheckedAdapter())
    return session


def same_origin(url: str, other: str) -> bool:
    """Whether `url` is on the scheme, host and port of `other`: a link that stays on the host the
    user (or paperatlas) chose, such as a relative link in a page read from it."""
    a, b = urlparse(url), urlparse(other)
    try:
        return (a.scheme.lower(), a.hostname, a.port) == (b.scheme.lower(), b.hostname, b.port)
    except ValueError:  # a port out of range
        return False


def refusal(url: str, exc: AddressRefused, hop: str | None = None) -> str:
    """The line for a link refused for its address, naming the link (and the redirect hop)."""
    where = f"redirected to {hop}, and {exc}" if hop and hop != url else str(exc)
    return f"{url}: refused: {where}; {HINT}"

