"""The polite client: what it sends, what it refuses to do, and how it ends bad answers."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from creneau import __version__
from creneau.fetch.client import (
    MAX_REDIRECTS,
    FetchError,
    HostCoolingDown,
    PoliteClient,
    TokenBucket,
    TooSoon,
    retry_after,
)
from creneau.host_budget import HostBudget
from creneau.results import Status
from servers import Answer, ScriptedServer


class Streamed(httpx.AsyncByteStream):
    """A body the client must stream, as from a socket (MockTransport pre-reads bytes)."""

    def __init__(self, data: bytes = b"ok") -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, stream=Streamed())


def fast_client(**kwargs: object) -> PoliteClient:
    defaults: dict[str, object] = {"request_timeout": 5.0, "retries": 2, "retry_backoff": 0.01}
    defaults.update(kwargs)
    return PoliteClient("ops@example.org", lambda host: HostBudget(600, 60), **defaults)


async def test_user_agent_is_honest_and_cookies_last_the_session() -> None:
    def first(seen: object) -> Answer:
        return Answer(200, b"ok", {"Set-Cookie": "eZSESSID=abc; path=/"})

    with ScriptedServer({"/a": first, "/b": lambda seen: Answer(200, b"ok")}) as server:
        client = fast_client()
        async with client.session("t", server.url) as session:
            await session.get(f"{server.url}/a")
            await session.get(f"{server.url}/b")
        async with client.session("t2", server.url) as session:
            await session.get(f"{server.url}/b")
    agents = {seen.headers["User-Agent"] for seen in server.seen}
    assert agents == {
        f"creneau/{__version__} (+https://github.com/creneau/creneau; ops@example.org)"
    }
    assert [seen.headers.get("Cookie") for seen in server.pages] == [None, "eZSESSID=abc", None]


async def test_post_redirect_becomes_get_and_is_followed() -> None:
    routes = {
        "/form": lambda s: Answer(302, b"", {"Location": "/next"}),
        "/next": lambda s: Answer(200, b"<p>step 1</p>"),
    }
    with ScriptedServer(routes) as server:
        async with fast_client().session("t", server.url) as session:
            page = await session.post(f"{server.url}/form", {"condition": "on"})
    assert (page.status, page.url, page.body) == (200, f"{server.url}/next", b"<p>step 1</p>")
    assert [(s.method, s.path) for s in server.pages] == [("POST", "/form"), ("GET", "/next")]


async def test_headers_given_for_one_host_never_follow_a_redirect_to_another() -> None:
    with ScriptedServer({"/api": lambda s: Answer(200, b"{}")}) as other:
        elsewhere = other.url.replace("127.0.0.1", "localhost")
        routes = {
            "/api": lambda s: Answer(302, b"", {"Location": f"{elsewhere}/api"}),
            "/here": lambda s: Answer(302, b"", {"Location": "/api"}),
        }
        with ScriptedServer(routes) as server:
            async with fast_client().session("t", server.url) as session:
                await session.get(f"{server.url}/here", headers={"X-Token": "secret-value"})
    assert [s.headers.get("X-Token") for s in server.pages] == ["secret-value", "secret-value"]
    assert [s.headers.get("X-Token") for s in other.pages] == [None]


async def test_proxy_settings_in_the_environment_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        ScriptedServer({"/": lambda s: Answer(200, b"proxy")}) as proxy,
        ScriptedServer({"/page": lambda s: Answer(200, b"site")}) as site,
    ):
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        site_url = site.url.replace("127.0.0.1", "localhost")
        async with fast_client().session("t", site_url) as session:
            page = await session.get(f"{site_url}/page")
    assert page.body == b"site"
    assert proxy.seen == []


async def test_a_redirect_loop_ends_as_an_error_after_five_hops() -> None:
    with ScriptedServer({"/loop": lambda s: Answer(302, b"", {"Location": "/loop"})}) as server:
        async with fast_client().session("t", server.url) as session:
            with pytest.raises(FetchError, match="redirect loop: more than 5 redirects"):
                await session.get(f"{server.url}/loop")
    assert len(server.pages) == MAX_REDIRECTS + 1


async def test_an_endless_body_is_cut_at_the_size_cap() -> None:
    def endless(seen: object) -> Answer:
        return Answer(200, iter(lambda: b"x" * 65536, None))

    with ScriptedServer({"/big": endless}) as server:
        async with fast_client(max_body_bytes=1024 * 1024).session("t", server.url) as session:
            with pytest.raises(FetchError, match="larger than 1024 KiB"):
                await session.get(f"{server.url}/big")


async def test_a_gzip_bomb_is_cut_without_inflating_it() -> None:
    bomb = gzip.compress(b"\0" * (32 * 1024 * 1024))  # 32 MiB that compress to ~32 KiB
    with ScriptedServer(
        {
            "/bomb": lambda s: Answer(
                200, bomb, {"Content-Encoding": "gzip", "Content-Type": "text/html"}
            )
        }
    ) as server:
        async with fast_client(max_body_bytes=1024 * 1024).session("t", server.url) as session:
            with pytest.raises(FetchError, match="larger than 1024 KiB"):
                await session.get(f"{server.url}/bomb")


async def test_gzip_bodies_are_decoded() -> None:
    with ScriptedServer(
        {
            "/z": lambda s: Answer(
                200, gzip.compress("créneau".encode()), {"Content-Encoding": "gzip"}
            )
        }
    ) as server:
        async with fast_client().session("t", server.url) as session:
            page = await session.get(f"{server.url}/z")
    assert page.body == "créneau".encode()


async def test_a_slow_drip_ends_at_the_request_deadline() -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(100):
            time.sleep(0.2)
            yield b"."

    with ScriptedServer({"/slow": lambda s: Answer(200, drip())}) as server:
        started = time.monotonic()
        async with fast_client(request_timeout=1.0, retries=0).session("t", server.url) as s:
            with pytest.raises(FetchError, match=r"no complete answer .* within 1s"):
                await s.get(f"{server.url}/slow")
    assert time.monotonic() - started < 5


async def test_502_is_retried_twice_then_returned() -> None:
    with ScriptedServer({"/x": lambda s: Answer(502, b"bad gateway")}) as server:
        async with fast_client().session("t", server.url) as session:
            page = await session.get(f"{server.url}/x")
    assert page.status == 502
    assert len(server.pages) == 3


async def test_403_is_never_retried_and_stops_every_later_request_to_the_host() -> None:
    with ScriptedServer({"/x": lambda s: Answer(403, b"no")}) as server:
        client = fast_client()
        async with client.session("t", server.url) as session:
            page = await session.get(f"{server.url}/x")
            assert page.status == 403
            with pytest.raises(HostCoolingDown) as cooling:
                await session.get(f"{server.url}/x")
        with pytest.raises(HostCoolingDown):
            async with client.session("other-target", server.url) as session:
                await session.get(f"{server.url}/x")
    assert len(server.pages) == 1
    assert cooling.value.status is Status.BLOCKED
    wait = cooling.value.until - datetime.now(UTC)
    assert timedelta(minutes=4) < wait <= timedelta(minutes=5.5)


@pytest.mark.parametrize("dot", ["\u3002", "\uff0e", "\uff61"])
async def test_a_host_written_with_other_full_stops_shares_the_hosts_breaker(dot: str) -> None:
    """Budgets, floors and breakers are kept per host as the client connects to it: writing
    the link's dots another way does not buy a second budget from the same site."""
    with ScriptedServer({"/x": lambda s: Answer(403, b"no")}) as server:
        client = fast_client()
        async with client.session("t", server.url) as session:
            assert (await session.get(f"{server.url}/x")).status == 403
        written_otherwise = server.url.replace("127.0.0.1", "127.0.0.1".replace(".", dot))
        with pytest.raises(HostCoolingDown):
            async with client.session("other-target", written_otherwise) as session:
                await session.get(f"{written_otherwise}/x")
    assert len(server.pages) == 1


async def test_429_retry_after_is_honoured_exactly() -> None:
    with ScriptedServer(
        {"/x": lambda s: Answer(429, b"slow down", {"Retry-After": "7200"})}
    ) as server:
        client = fast_client()
        async with client.session("t", server.url) as session:
            await session.get(f"{server.url}/x")
        with pytest.raises(HostCoolingDown) as cooling:
            async with client.session("t", server.url):
                pass
    wait = cooling.value.until - datetime.now(UTC)
    assert timedelta(hours=1, minutes=59) < wait <= timedelta(hours=2)
    assert len(server.pages) == 1


async def test_503_with_retry_after_is_not_retried_and_sets_the_next_attempt() -> None:
    with ScriptedServer({"/x": lambda s: Answer(503, b"busy", {"Retry-After": "600"})}) as s:
        client = fast_client()
        async with client.session("t", s.url) as session:
            page = await session.get(f"{s.url}/x")
        with pytest.raises(HostCoolingDown) as cooling:
            async with client.session("t", s.url):
                pass
    assert page.status == 503
    assert len(s.pages) == 1
    assert cooling.value.status is Status.OVERLOADED
    wait = cooling.value.until - datetime.now(UTC)
    assert timedelta(minutes=9) < wait <= timedelta(minutes=10)


async def test_three_failed_checks_in_a_row_cool_the_host_down() -> None:
    client = fast_client()
    for _ in range(2):
        async with client.session("t", "http://127.0.0.1:9/") as session:
            session.verdict = Status.OVERLOADED
    async with client.session("t", "http://127.0.0.1:9/") as session:
        session.verdict = Status.NONE  # a good check resets the count
    for _ in range(3):
        async with client.session("t", "http://127.0.0.1:9/") as session:
            session.verdict = Status.ERROR
    with pytest.raises(HostCoolingDown, match="3 failed checks in a row"):
        async with client.session("t", "http://127.0.0.1:9/"):
            pass


async def test_connection_refused_is_an_error_after_retries() -> None:
    client = fast_client(retries=1)
    async with client.session("t", "http://127.0.0.1:9/") as session:
        with pytest.raises(FetchError, match="ConnectError"):
            await session.get("http://127.0.0.1:9/booking/create/1")


async def test_public_hosts_get_at_most_one_check_per_minute() -> None:
    transport = httpx.MockTransport(ok)
    now = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    start = now[0]
    client = PoliteClient(
        None,
        transport=transport,
        now=lambda: now[0],
        monotonic=lambda: (now[0] - start).total_seconds(),
    )
    url = "https://prefecture.example.org/booking/create/1"
    async with client.session("t", url) as session:
        await session.get(url)
    now[0] += timedelta(seconds=59)
    with pytest.raises(TooSoon, match="at most one check per 1m"):
        async with client.session("t", url):
            pass
    now[0] += timedelta(seconds=1)
    async with client.session("t", url) as session:
        assert (await session.get(url)).status == 200


async def test_the_floor_survives_a_restart_through_remembered_checks() -> None:
    client = PoliteClient(None, transport=httpx.MockTransport(ok))
    client.remember_check("t", datetime.now(UTC) - timedelta(seconds=10))
    with pytest.raises(TooSoon):
        async with client.session("t", "https://prefecture.example.org/booking/create/1"):
            pass


async def test_one_request_in_flight_per_host_and_the_bucket_spaces_them() -> None:
    clock = [0.0]
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        if seconds > 0:  # httpx and the handler yield with sleep(0); only waits count
            sleeps.append(seconds)
            clock[0] += seconds
        await original(0)

    original = asyncio.sleep
    in_flight = 0
    most = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await original(0)
        in_flight -= 1
        return httpx.Response(200, stream=Streamed())

    client = PoliteClient(
        None,
        lambda host: HostBudget(per_minute=6, burst=2),
        transport=httpx.MockTransport(handler),
        monotonic=lambda: clock[0],
    )
    url = "https://prefecture.example.org/booking/create/1"
    try:
        asyncio.sleep = fake_sleep  # type: ignore[assignment]
        async with client.session("t", url) as session:
            await asyncio.gather(*(session.get(url) for _ in range(4)))
    finally:
        asyncio.sleep = original  # type: ignore[assignment]
    assert most == 1
    # robots.txt + 4 pages = 5 requests; a burst of 2, then 6/min: a token every 10 s.
    assert sleeps == [pytest.approx(10.0)] * 3


def test_tls_is_always_verified() -> None:
    tls = fast_client().tls
    assert tls.verify_mode is ssl.CERT_REQUIRED
    assert tls.check_hostname is True


def test_token_bucket_refills_at_its_rate() -> None:
    clock = [0.0]
    bucket = TokenBucket(per_second=0.1, capacity=2, clock=lambda: clock[0])
    bucket.take()
    bucket.take()
    assert bucket.seconds_until_token() == pytest.approx(10.0)
    clock[0] = 25.0
    assert bucket.seconds_until_token() == 0.0
    assert bucket.tokens == pytest.approx(2.0)  # capped at capacity


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120),
        ("", 0),
        ("soon", 0),
        ("Mon, 23 Nov 2026 12:10:00 GMT", 600),
        ("Mon, 23 Nov 2026 11:00:00 GMT", 0),
    ],
)
def test_retry_after_forms(value: str, seconds: int) -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert retry_after({"retry-after": value}, now) == timedelta(seconds=seconds)


async def test_a_session_can_resume_with_cookies_and_hand_them_over() -> None:
    def set_more(seen: object) -> Answer:
        return Answer(200, b"ok", {"Set-Cookie": "step=2; path=/"})

    with ScriptedServer({"/x": set_more}) as server:
        async with fast_client().session("t", server.url, {"SESSION": "abc"}) as session:
            await session.get(f"{server.url}/x")
            handed_over = session.cookies()
    assert server.pages[0].headers["Cookie"] == "SESSION=abc"
    assert handed_over == {"SESSION": "abc", "step": "2"}


def cookies_seen(server: ScriptedServer, path: str) -> list[tuple[str, str | None]]:
    """(host asked, the Cookie header it received) for each request of `path`."""
    return [
        (seen.headers["Host"].rsplit(":", 1)[0], seen.headers.get("Cookie"))
        for seen in server.pages
        if seen.path == path
    ]


@pytest.mark.parametrize(
    ("home", "other"), [("127.0.0.1", "localhost"), ("localhost", "127.0.0.1")]
)
async def test_a_kept_cookie_goes_back_only_to_the_host_that_set_it(home: str, other: str) -> None:
    # One loopback server under two host names: to a cookie jar, two hosts.
    routes = {
        "/set": lambda seen: Answer(200, b"ok", {"Set-Cookie": "sid=first; Path=/"}),
        "/see": lambda seen: Answer(200, b"ok"),
    }
    with ScriptedServer(routes) as server:
        port = server.url.rsplit(":", 1)[1]
        home_url, other_url = f"http://{home}:{port}", f"http://{other}:{port}"
        client = fast_client()
        async with client.session("open", home_url) as session:
            await session.get(f"{home_url}/set")
            kept = session.kept_cookies()
        # The next check resumes the kept session on a target whose pages span both hosts.
        async with client.session("resume", home_url, kept) as session:
            await session.get(f"{other_url}/see")
            await session.get(f"{home_url}/see")
            handed_over = session.kept_cookies()
    domain = home if "." in home else f"{home}.local"  # as http.cookiejar records it
    assert kept == [
        {"name": "sid", "value": "first", "domain": domain, "path": "/", "secure": False}
    ]
    assert cookies_seen(server, "/see") == [(other, None), (home, "sid=first")]
    assert handed_over == kept


async def test_a_cookie_kept_without_its_host_goes_back_to_the_targets_host_only() -> None:
    # Sessions kept by an older version (a name and a value each) and cookies given by name.
    with ScriptedServer({"/see": lambda seen: Answer(200, b"ok")}) as server:
        port = server.url.rsplit(":", 1)[1]
        home_url, other_url = f"http://127.0.0.1:{port}", f"http://localhost:{port}"
        old_style = {"name": "sid", "value": "old"}  # no domain, no path
        async with fast_client().session("t", home_url, [old_style]) as session:  # type: ignore[list-item]
            await session.get(f"{other_url}/see")
            await session.get(f"{home_url}/see")
        async with fast_client().session("t", other_url, {"sid": "named"}) as session:
            await session.get(f"{home_url}/see")
            await session.get(f"{other_url}/see")
    assert cookies_seen(server, "/see") == [
        ("localhost", None),
        ("127.0.0.1", "sid=old"),
        ("127.0.0.1", None),
        ("localhost", "sid=named"),
    ]


def test_a_reloaded_budget_applies_to_the_hosts_whose_budget_changed() -> None:
    client = PoliteClient("ops@example.org", lambda host: HostBudget(6, 10))
    kept, changed = client.gate("kept.example"), client.gate("changed.example")
    kept.bucket.take()
    client.use_budgets(
        lambda host: HostBudget(30, 20) if host == "changed.example" else HostBudget(6, 10)
    )
    assert client.gate("kept.example") is kept
    assert kept.bucket.capacity == 10
    assert kept.bucket.tokens < 10
    assert changed.bucket.capacity == 20
    assert changed.bucket.per_second == 0.5
