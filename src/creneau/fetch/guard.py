"""The SSRF guard for links given through the web: a visitor of the dashboard may not make
creneau fetch this machine, its network or a cloud's metadata service. (The command-line
user owns the machine and is not guarded.)

Modelled on changedetection.io's guard (dgtlmoon/changedetection.io,
`changedetectionio/validate_url.py`: `is_special_purpose_ip`, `is_private_hostname`,
`is_fetch_url_allowed`; `content_fetchers/requests.py` re-checks each redirect hop it follows
by hand). Taken from it: the address list (Python's private, loopback, link-local, reserved,
multicast and unspecified flags, plus 100.64.0.0/10 — the gap of GHSA-gwph-fp79-379w —,
192.88.99.0/24, 224.0.0.0/4, ff00::/8, 3fff::/20, then anything `not is_global`), IPv4
addresses hidden in IPv4-mapped, 6to4 and Teredo forms judged too, a host refused when ANY of
its A/AAAA records is, backslashes refused (GHSA-rph4-96w6-q594: two URL parsers disagree on
the host), and one switch lifting the address check ([web] allow_private_targets, their
ALLOW_IANA_RESTRICTED_ADDRESSES). Added here: user names in links are refused, as are
numeric hosts in the forms only the C library reads (`127.1`, `2130706433`, `0x7f.1`), and
every host is judged in the form httpx will connect to: its IDNA 2008 encoding, not the
socket module's IDNA 2003 (`faß.de` is two different domains to them), nor the link as written
(IDNA reads the full stops U+3002, U+FF0E and U+FF61 as ".": `http://127。0。0。1/` is a
request to 127.0.0.1).

The polite client (client.py) runs `Guard.check` on every request — the first, each redirect
hop it follows by hand, robots.txt — at fetch time, right before the request is sent, so a
name that resolved to a public address when the link was added and to 127.0.0.1 later
(DNS rebinding) is refused then.

Limitation: httpx resolves the name again when it connects (unless the session already holds
a connection to the host, opened after an earlier check). Nothing waits between the two
look-ups, only a few turns of the event loop (normally well under a millisecond), but time is
no defence against a hostile name server: answering with a TTL of 0, a public address to the
first query and a private one to the second wins that race every time. Only connecting to the
very address that was checked closes it, and httpx 0.28 offers no simple way: its
`AsyncHTTPTransport` takes neither a resolver nor a network backend (it builds its httpcore
pool itself and keeps it in the private `_pool`; custom resolution is not supported,
encode/httpx#1319); rewriting the URL to the address, with the name kept in the Host header
and in httpcore's `sni_hostname` extension, would key the cookie jar, `response.url` and
relative redirects to the address instead of the name; a transport of our own over httpcore's
`AsyncConnectionPool(network_backend=…)` would copy httpx's private exception mapping. What
the guard does stop: names that resolve to private addresses, private addresses written in
the link, redirects to either, and a name whose answer changes between two requests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit

import httpx

from creneau.details import Detail

__all__ = [
    "Guard",
    "Resolver",
    "check_address",
    "check_addresses",
    "check_url",
    "connect_host",
    "resolve",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

# A host name to its addresses (as text). Raises OSError when the name does not resolve.
Resolver: TypeAlias = Callable[[str], Awaitable[Sequence[str]]]

# Not globally reachable, yet missed by some or all of Python's flags (which also changed
# between releases): named here so that each refusal says what the range is.
_NAMED_RANGES = (
    (ipaddress.ip_network("100.64.0.0/10"), Detail("address.cgnat")),
    (ipaddress.ip_network("192.88.99.0/24"), Detail("address.relay_6to4")),
    (ipaddress.ip_network("224.0.0.0/4"), Detail("address.multicast")),
    (ipaddress.ip_network("ff00::/8"), Detail("address.multicast")),
    (ipaddress.ip_network("3fff::/20"), Detail("address.documentation")),
)

# The forms inet_aton reads besides a.b.c.d: fewer parts, octal, hexadecimal. getaddrinfo
# (hence httpx) takes "127.1" or "2130706433" for 127.0.0.1; no domain name looks like this.
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+))*\.?", re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_url(url: str, *, allow_private: bool = False) -> Detail | None:
    """Why this link may not be fetched (one line), or None. No network: the scheme, the
    authority, and a host given as an address (unless `allow_private`)."""
    if url != url.strip():
        return Detail("guard.spaces")
    if _CONTROL.search(url):
        return Detail("guard.control")
    if "\\" in url:
        return Detail("guard.backslash")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as failure:
        return Detail("guard.invalid", error=str(failure))
    if parts.scheme not in ("http", "https"):
        return Detail("guard.scheme", scheme=parts.scheme)
    if "@" in parts.netloc:
        return Detail("guard.userinfo")
    if "%" in parts.netloc:
        return Detail("guard.percent")
    written = parts.hostname
    if not written:
        return Detail("guard.no_host")
    if port == 0:
        return Detail("guard.port_zero")
    try:
        host = connect_host(url)
    except httpx.InvalidURL as failure:
        return Detail("guard.invalid", error=str(failure))
    if written.isascii() and host != written:
        return Detail("guard.two_parsers", written=written, host=host)
    # Judged as httpx will connect to it: 127。0。0。1 (ideographic full stops) is 127.0.0.1.
    named = host if host == written else Detail("guard.written", host=host, written=written)
    literal = _ip_literal(host)
    if literal is None:
        if _NUMERIC_HOST.fullmatch(host):
            return Detail("guard.non_standard", host=named)
        return None
    if allow_private:
        return None
    if why := check_address(literal):
        return Detail("guard.address", host=named, why=why)
    return None


def connect_host(url: str) -> str:
    """The host httpx sends the request to: its IDNA 2008 encoding of the link's host, where
    the full stops 。．｡ separate labels as "." does (an IPv6 address without brackets).
    Raises httpx.InvalidURL."""
    return httpx.URL(url).raw_host.decode("ascii").lower()


def check_address(address: IPAddress) -> Detail | None:
    """Why an address may not be fetched (a loopback address…), or None when it is public.
    An IPv4 address hidden in an IPv6 one (IPv4-mapped, 6to4, Teredo) is judged first, so
    that the reason names what the connection would really reach."""
    for form, embedded in _embedded_ipv4(address):
        if why := check_address(embedded):
            return Detail("address.embedded", form=form, address=str(embedded), why=why)
    if address.is_unspecified:
        return Detail("address.unspecified")
    if address.is_loopback:
        return Detail("address.loopback")
    if address.is_link_local:
        return Detail("address.link_local")
    if address.is_multicast:
        return Detail("address.multicast")
    for network, why in _NAMED_RANGES:
        if address.version == network.version and address in network:
            return why
    if address.is_private:
        return Detail("address.private")
    if address.is_reserved:
        return Detail("address.reserved")
    if not address.is_global:
        return Detail("address.not_global")
    return None


def check_addresses(
    host: str, addresses: Sequence[str], *, allow_private: bool = False
) -> Detail | None:
    """Why a host whose name resolved to `addresses` may not be fetched, or None. ANY
    blocked address refuses the host: a name answering with one public and one private
    address is still a way to the private one."""
    if allow_private:
        return None
    if not addresses:
        return Detail("guard.no_address", host=host)
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return Detail("guard.not_an_address", host=host, answer=text)
        if why := check_address(address):
            # As the resolver wrote it: Python's own spelling of some IPv6 forms changed.
            return Detail("guard.resolves_to", host=host, address=text, why=why)
    return None


async def resolve(host: str) -> list[str]:
    """Every A and AAAA address of `host`, in the resolver's order, without duplicates.
    `socket.getaddrinfo` runs in the loop's executor thread; raises OSError (gaierror)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except UnicodeError as failure:  # the idna codec refuses the name ("a..b")
        raise socket.gaierror(socket.EAI_NONAME, f"not a host name ({failure})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Guard:
    """The checks for one setting of [web] allow_private_targets; the resolver is injectable
    so that tests give DNS answers without the network."""

    allow_private: bool = False
    resolver: Resolver = resolve

    def check_url(self, url: str) -> Detail | None:
        return check_url(url, allow_private=self.allow_private)

    def check_addresses(self, host: str, addresses: Sequence[str]) -> Detail | None:
        return check_addresses(host, addresses, allow_private=self.allow_private)

    async def check(self, url: str) -> Detail | None:
        """Why the request may not be sent now (one line), or None: the link, then every
        address its host resolves to at this moment. Raises OSError when the host does not
        resolve (a network failure, not a refusal)."""
        if why := self.check_url(url):
            return why
        if self.allow_private:
            return None
        host = connect_host(url)  # the name httpx will look up, or the address it dials
        if _ip_literal(host) is not None:
            return None  # judged by check_url, on this same form of the host
        return self.check_addresses(host, await self.resolver(host))


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _embedded_ipv4(address: IPAddress) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, with the name of the form (Teredo's are
    its server's and its client's)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [
        ("IPv4-mapped", address.ipv4_mapped),
        ("6to4", address.sixtofour),
        *(("Teredo", embedded) for embedded in address.teredo or ()),
    ]
    return [(form, embedded) for form, embedded in found if embedded is not None]
