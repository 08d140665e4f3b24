"""The SSRF guard for links given through the web: hostile links and DNS answers are refused
before any connection, on every request the polite client sends (robots.txt, each redirect),
and `allow_private` lifts the address check only."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Sequence

import pytest

from conftest import english
from creneau.fetch.client import FetchError, Guard, PoliteClient, UnsafeLink
from creneau.fetch.guard import check_url, resolve
from creneau.host_budget import HostBudget
from creneau.results import Status
from servers import Answer, ScriptedServer, Seen

HINT = "([web] allow_private_targets = true allows it)"
PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
TEREDO_HIDING_10_0_0_1 = "2001:0:4136:e378:8000:63bf:f5ff:fffe"  # client bits: ~10.0.0.1


class FakeDns:
    """Answers from a table, one answer list per call when given a list of them, and
    remembers each question. An unknown name does not resolve."""

    def __init__(self, table: dict[str, list[Sequence[str]]]) -> None:
        self.table = {host: list(answers) for host, answers in table.items()}
        self.asked: list[str] = []

    async def __call__(self, host: str) -> Sequence[str]:
        self.asked.append(host)
        answers = self.table.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers.pop(0) if len(answers) > 1 else answers[0]


def dns(table: dict[str, Sequence[str]]) -> FakeDns:
    return FakeDns({host: [answer] for host, answer in table.items()})


async def no_dns(host: str) -> Sequence[str]:
    raise AssertionError(f"the guard should not have resolved {host}")


# --- the guard alone ----------------------------------------------------------------------

HOSTILE = [
    ("127.0.0.1", "booking.example resolves to 127.0.0.1, a loopback address"),
    ("169.254.169.254", "booking.example resolves to 169.254.169.254, a link-local address"),
    (
        "::ffff:10.0.0.1",
        "booking.example resolves to ::ffff:10.0.0.1, "
        "the IPv4-mapped form of 10.0.0.1, a private address",
    ),
    (
        "100.64.0.1",
        "booking.example resolves to 100.64.0.1, an address of 100.64.0.0/10, carrier-grade NAT",
    ),
    ("fe80::1", "booking.example resolves to fe80::1, a link-local address"),
    (
        "2002:7f00:1::1",
        "booking.example resolves to 2002:7f00:1::1, "
        "the 6to4 form of 127.0.0.1, a loopback address",
    ),
    (
        TEREDO_HIDING_10_0_0_1,
        f"booking.example resolves to {TEREDO_HIDING_10_0_0_1}, "
        "the Teredo form of 10.0.0.1, a private address",
    ),
    ("10.0.0.7", "booking.example resolves to 10.0.0.7, a private address"),
    ("0.0.0.0", "booking.example resolves to 0.0.0.0, the unspecified address"),
    ("224.0.0.1", "booking.example resolves to 224.0.0.1, a multicast address"),
    ("ff02::1", "booking.example resolves to ff02::1, a multicast address"),
    (
        "192.88.99.1",
        "booking.example resolves to 192.88.99.1, an address of 192.88.99.0/24, old 6to4 relays",
    ),
    (
        "3fff::1",
        "booking.example resolves to 3fff::1, an address of 3fff::/20, kept for documentation",
    ),
]


@pytest.mark.parametrize(("answer", "reason"), HOSTILE)
async def test_a_public_name_resolving_to_a_private_address_is_refused(
    answer: str, reason: str
) -> None:
    url = "https://booking.example/rdv"
    assert english(await Guard(resolver=dns({"booking.example": [answer]})).check(url)) == (
        f"{reason} {HINT}"
    )
    assert await Guard(allow_private=True, resolver=no_dns).check(url) is None


async def test_one_private_address_among_public_ones_refuses_the_name() -> None:
    answers = [PUBLIC_V4, PUBLIC_V6, "10.0.0.7"]
    guard = Guard(resolver=dns({"booking.example": answers}))
    assert english(await guard.check("https://booking.example/")) == (
        f"booking.example resolves to 10.0.0.7, a private address {HINT}"
    )


async def test_a_public_answer_is_allowed() -> None:
    resolver = dns({"booking.example": [PUBLIC_V4, PUBLIC_V6]})
    assert await Guard(resolver=resolver).check("https://booking.example/rdv?x=a@b") is None
    assert resolver.asked == ["booking.example"]


SHAPES = [
    ("http://user:pw@booking.example/", "the link carries a user name or password (user@host)"),
    ("http://booking.example@10.0.0.1/", "the link carries a user name or password (user@host)"),
    ("http:\\\\booking.example\\path", "the link contains a backslash"),
    ("http://10.0.0.1:80\\@booking.example/", "the link contains a backslash"),
    ("file:///etc/passwd", "only http and https links are fetched (not file)"),
    ("gopher://booking.example:70/_SET%20x", "only http and https links are fetched (not gopher)"),
    ("//booking.example/", "only http and https links are fetched (not a relative link)"),
    ("http:///etc/passwd", "the link has no host"),
    ("http://2130706433/", "2130706433 is an address in a non-standard form: write it a.b.c.d"),
    ("http://0x7f.1/", "0x7f.1 is an address in a non-standard form: write it a.b.c.d"),
    ("http://127.1/", "127.1 is an address in a non-standard form: write it a.b.c.d"),
    ("http://booking%2eexample/", "the link's host is percent-encoded"),
    ("http://booking.example\t/", "the link contains control characters"),
    (" http://booking.example/", "the link has spaces or line breaks around it"),
    ("http://booking.example:99999/", "not a valid link"),
]


@pytest.mark.parametrize(("url", "reason"), SHAPES)
async def test_hostile_link_shapes_are_refused_even_with_private_targets_allowed(
    url: str, reason: str
) -> None:
    for allow_private in (False, True):
        refusal = await Guard(allow_private, resolver=no_dns).check(url)
        assert refusal is not None
        assert english(refusal).startswith(reason)


LITERALS = [
    ("http://127.0.0.1:8080/", "127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[::1]/", "::1 is a loopback address"),
    (
        "http://[::ffff:10.0.0.1]/",
        "::ffff:10.0.0.1 is the IPv4-mapped form of 10.0.0.1, a private address",
    ),
    ("http://100.64.0.1/", "100.64.0.1 is an address of 100.64.0.0/10, carrier-grade NAT"),
]


@pytest.mark.parametrize(("url", "reason"), LITERALS)
async def test_a_private_address_in_the_link_is_refused_without_resolving(
    url: str, reason: str
) -> None:
    assert english(check_url(url)) == f"{reason} {HINT}"
    assert english(await Guard(resolver=no_dns).check(url)) == f"{reason} {HINT}"
    assert check_url(url, allow_private=True) is None
    assert await Guard(allow_private=True, resolver=no_dns).check(url) is None


# Every character IDNA reads as a full stop; httpx connects to the address they spell.
FULL_STOPS = ["\u002e", "\u3002", "\uff0e", "\uff61"]
INTERNAL = [
    ("127.0.0.1", "a loopback address"),
    ("10.0.0.1", "a private address"),
    ("192.168.0.1", "a private address"),
    ("169.254.169.254", "a link-local address"),
    ("172.16.0.1", "a private address"),
    ("100.64.0.1", "an address of 100.64.0.0/10, carrier-grade NAT"),
    ("0.0.0.0", "the unspecified address"),
]
NON_STANDARD = "is an address in a non-standard form: write it a.b.c.d"
INVALID = "not a valid link"


def fullwidth(text: str) -> str:
    """Digits as their fullwidth forms (U+FF10 to U+FF19)."""
    return "".join(chr(ord(c) - ord("0") + 0xFF10) if c.isdigit() else c for c in text)


def spelled(address: str, dot: str) -> str:
    return address.replace(".", dot)


def named(host: str, written: str) -> str:
    """How a refusal names a host: as httpx reads it, then as the link wrote it if not so."""
    return host if host == written else f"{host} (written {written})"


def integer_forms(address: str) -> list[str]:
    """The forms inet_aton (hence getaddrinfo) reads as `address` besides a.b.c.d: the last
    parts merged ("127.1"), each part in hexadecimal or octal (dotted forms); one number in
    decimal, hexadecimal and octal."""
    parts = [int(part) for part in address.split(".")]
    number = int.from_bytes(bytes(parts), "big")
    return [
        f"{parts[0]}.{int.from_bytes(bytes(parts[1:]), 'big')}",
        ".".join(hex(part) for part in parts),
        ".".join(f"0{part:o}" for part in parts),
        str(number),
        hex(number),
        f"0{number:o}",
    ]


def disguises(address: str, why: str) -> list[tuple[str, str]]:
    """(host as written in a link, how its refusal starts) for every way of writing
    `address` that some parser on the way may read as it."""
    forms: list[tuple[str, str]] = []
    for dot in FULL_STOPS:
        host = spelled(address, dot)
        forms.append((host, f"{named(address, host)} is {why} {HINT}"))
        forms.append((host + dot, f"{named(address + '.', host + dot)} {NON_STANDARD}"))
        forms.append((fullwidth(host), INVALID))  # IDNA 2008 refuses fullwidth digits
        for integer in integer_forms(address):
            if "." not in integer:
                continue  # no dot to replace: once, below
            written = spelled(integer, dot)
            # httpx refuses a.b.c.d with leading zeros itself; IDNA lets them through
            dotted_octal = dot == "." and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", integer)
            expected = INVALID if dotted_octal else f"{named(integer, written)} {NON_STANDARD}"
            forms.append((written, expected))
    forms.extend(
        (integer, f"{integer} {NON_STANDARD}")
        for integer in integer_forms(address)
        if "." not in integer
    )
    first, rest = address.split(".", 1)
    mixed = f"{first}\u3002{rest}"
    forms.append((mixed, f"{named(address, mixed)} is {why} {HINT}"))
    forms.append((address.replace(".", "%2e"), "the link's host is percent-encoded"))
    forms.append((address.replace(".", "%E3%80%82"), "the link's host is percent-encoded"))
    forms.append((spelled(address, "\u2024"), INVALID))  # ONE DOT LEADER: not a full stop
    return forms


DISGUISED = [
    (f"http://{host}:8080/latest/meta-data/", reason)
    for address, why in INTERNAL
    for host, reason in disguises(address, why)
]


@pytest.mark.parametrize(("url", "reason"), DISGUISED)
async def test_an_address_written_with_other_full_stops_or_digits_is_judged_as_httpx_reads_it(
    url: str, reason: str
) -> None:
    # Refused on the link alone (no name to resolve), whatever allow_private says about
    # well-formed addresses: the refusal names the address httpx would have dialled.
    refusal = check_url(url)
    assert refusal is not None, url
    assert english(refusal).startswith(reason), (url, refusal)
    if NON_STANDARD in english(refusal) or english(refusal).startswith(
        (INVALID, "the link's host is")
    ):
        assert check_url(url, allow_private=True) == refusal
    assert await Guard(resolver=no_dns).check(url) == refusal


async def test_a_name_written_with_other_full_stops_is_resolved_as_httpx_reads_it() -> None:
    resolver = dns({"localhost.": ["127.0.0.1"], "intranet.test": ["10.1.2.3"]})
    guard = Guard(resolver=resolver)
    assert english(await guard.check("http://localhost\u3002/")) == (
        f"localhost. resolves to 127.0.0.1, a loopback address {HINT}"
    )
    assert english(await guard.check("http://intranet\uff0etest/")) == (
        f"intranet.test resolves to 10.1.2.3, a private address {HINT}"
    )
    assert resolver.asked == ["localhost.", "intranet.test"]


async def test_a_public_address_in_the_link_is_allowed_without_resolving() -> None:
    assert await Guard(resolver=no_dns).check(f"http://{PUBLIC_V4}/") is None
    assert await Guard(resolver=no_dns).check(f"https://[{PUBLIC_V6}]:8443/") is None


async def test_answers_that_are_not_addresses_or_none_at_all_are_refused() -> None:
    guard = Guard(resolver=FakeDns({"odd.example": [["not-an-address"]], "none.example": [[]]}))
    assert english(await guard.check("http://odd.example/")) == (
        "odd.example resolves to 'not-an-address', which is not an address"
    )
    assert (
        english(await guard.check("http://none.example/")) == "none.example resolves to no address"
    )


async def test_the_name_resolved_is_the_one_httpx_connects_to() -> None:
    # IDNA 2008 (httpx) keeps ß; the socket module's IDNA 2003 would look up fass.de.
    resolver = dns({"xn--fa-hia.de": [PUBLIC_V4]})
    assert await Guard(resolver=resolver).check("https://faß.de/") is None
    assert resolver.asked == ["xn--fa-hia.de"]


async def test_a_name_that_does_not_resolve_raises_oserror() -> None:
    with pytest.raises(socket.gaierror):
        await Guard(resolver=dns({})).check("http://nowhere.example/")


async def test_the_real_resolver_reads_every_address_through_getaddrinfo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "127.0.0.1" in await resolve("localhost")  # /etc/hosts: no packet leaves
    assert await resolve("127.0.0.1") == ["127.0.0.1"]

    def idna_refuses(host: str, *args: object, **kwargs: object) -> object:
        "a..b".encode("idna")  # what getaddrinfo does first with a name
        raise AssertionError("unreachable")

    monkeypatch.setattr(socket, "getaddrinfo", idna_refuses)
    with pytest.raises(socket.gaierror, match=r"not a host name \(encoding with 'idna'"):
        await resolve("a..b")


# --- the guard in the polite client -------------------------------------------------------


def fast_client(guard: Guard | None = None) -> PoliteClient:
    return PoliteClient(
        "ops@example.org",
        lambda host: HostBudget(600, 60),
        request_timeout=5.0,
        retries=2,
        retry_backoff=0.01,
        guard=guard,
    )


def routes_to(location: str) -> dict[str, Callable[[Seen], Answer]]:
    return {
        "/start": lambda s: Answer(302, b"", {"Location": location}),
        "/secret": lambda s: Answer(200, b"the metadata service"),
    }


async def test_a_refused_first_request_reaches_nobody_not_even_for_robots_txt() -> None:
    resolver = dns({"localhost": ["127.0.0.1"]})
    with ScriptedServer(routes_to("/secret")) as server:
        url = server.url.replace("127.0.0.1", "localhost")
        async with fast_client().session("t", url, guard=Guard(resolver=resolver)) as session:
            with pytest.raises(UnsafeLink) as refused:
                await session.get(f"{url}/secret")
    assert refused.value.status is Status.BLOCKED
    assert english(refused.value.detail) == (
        f"not fetched: localhost resolves to 127.0.0.1, a loopback address {HINT}"
    )
    assert (server.seen, session.requests) == ([], 0)


async def test_allow_private_lets_the_same_request_through() -> None:
    guard = Guard(allow_private=True, resolver=no_dns)
    with ScriptedServer(routes_to("/secret")) as server:
        async with fast_client(guard).session("t", server.url) as session:
            page = await session.get(f"{server.url}/start")
    assert (page.status, page.body) == (200, b"the metadata service")
    assert [s.path for s in server.pages] == ["/start", "/secret"]


@pytest.mark.parametrize(
    ("location", "table", "reason"),
    [
        ("http://127.0.0.1:{port}/secret", {}, "127.0.0.1 is a loopback address"),
        (
            "http://intranet.test:{port}/secret",
            {"intranet.test": ["10.1.2.3"]},
            "intranet.test resolves to 10.1.2.3, a private address",
        ),
        (
            "http://metadata.test:{port}/secret",
            {"metadata.test": [PUBLIC_V4, "169.254.169.254"]},
            "metadata.test resolves to 169.254.169.254, a link-local address",
        ),
    ],
)
async def test_a_redirect_to_a_private_address_is_refused_before_it_is_followed(
    location: str, table: dict[str, Sequence[str]], reason: str
) -> None:
    # The first hop's name is made to look public to the guard (httpx still finds the
    # loopback server through /etc/hosts): the redirect alone must be refused.
    resolver = dns({"localhost": [PUBLIC_V4], **table})
    with ScriptedServer({}) as server:
        port = server.url.rsplit(":", 1)[1]
        server.routes.update(routes_to(location.format(port=port)))
        url = server.url.replace("127.0.0.1", "localhost")
        async with fast_client(Guard(resolver=resolver)).session("t", url) as session:
            with pytest.raises(UnsafeLink) as refused:
                await session.get(f"{url}/start")
    assert (refused.value.status, english(refused.value.detail)) == (
        Status.BLOCKED,
        f"not fetched: {reason} {HINT}",
    )
    assert [(s.method, s.path) for s in server.seen] == [("GET", "/robots.txt"), ("GET", "/start")]
    assert session.pages == []


@pytest.mark.parametrize("dot", FULL_STOPS[1:])
async def test_a_redirect_to_an_address_written_with_other_full_stops_is_refused(
    dot: str,
) -> None:
    # The loopback server sends the Location header in UTF-8, as a hostile site would.
    resolver = dns({"localhost": [PUBLIC_V4]})
    with ScriptedServer({}) as server:
        port = server.url.rsplit(":", 1)[1]
        written = spelled("127.0.0.1", dot)
        location = f"http://{written}:{port}/secret".encode().decode("latin-1")
        server.routes.update(routes_to(location))
        url = server.url.replace("127.0.0.1", "localhost")
        async with fast_client(Guard(resolver=resolver)).session("t", url) as session:
            with pytest.raises(UnsafeLink) as refused:
                await session.get(f"{url}/start")
    assert english(refused.value.reason) == (
        f"127.0.0.1 (written {written}) is a loopback address {HINT}"
    )
    assert [s.path for s in server.seen] == ["/robots.txt", "/start"]
    assert session.pages == []


async def test_a_name_rebound_to_loopback_between_requests_is_refused_at_fetch_time() -> None:
    # robots.txt and /start see the public answer; the redirect to /secret on the same name
    # is resolved again and now points at this machine.
    resolver = FakeDns({"localhost": [[PUBLIC_V4], [PUBLIC_V4], ["127.0.0.1"]]})
    with ScriptedServer(routes_to("/secret")) as server:
        url = server.url.replace("127.0.0.1", "localhost")
        async with fast_client(Guard(resolver=resolver)).session("t", url) as session:
            with pytest.raises(UnsafeLink) as refused:
                await session.get(f"{url}/start")
    assert (
        english(refused.value.reason)
        == f"localhost resolves to 127.0.0.1, a loopback address {HINT}"
    )
    assert [s.path for s in server.seen] == ["/robots.txt", "/start"]
    assert resolver.asked == ["localhost"] * 3


async def test_a_name_that_does_not_resolve_is_retried_as_a_network_error() -> None:
    resolver = dns({})
    client = fast_client(Guard(resolver=resolver))
    async with client.session("t", "http://gone.example/", respect_robots=False) as session:
        with pytest.raises(FetchError) as failed:
            await session.get("http://gone.example/rdv")
    assert not isinstance(failed.value, UnsafeLink)
    assert (failed.value.status, english(failed.value.detail)) == (
        Status.ERROR,
        f"gone.example does not resolve: [Errno {socket.EAI_NONAME}] Name or service not known",
    )
    assert (resolver.asked, session.requests) == (["gone.example"] * 3, 0)


async def test_a_session_guard_applies_where_the_client_has_none() -> None:
    client = fast_client()
    with ScriptedServer({"/x": lambda s: Answer(200, b"ok")}) as server:
        async with client.session("t", server.url) as session:
            assert (await session.get(f"{server.url}/x")).status == 200
        async with client.session("t2", server.url, guard=Guard(resolver=no_dns)) as session:
            with pytest.raises(UnsafeLink) as refused:
                await session.get(f"{server.url}/x")
    assert english(refused.value.reason) == f"127.0.0.1 is a loopback address {HINT}"
    assert [s.path for s in server.pages] == ["/x"]
