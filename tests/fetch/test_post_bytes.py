"""`Session.post_bytes`: raw bytes with their Content-Type (an RFC 3161 query), under every
rule of the polite client — the host's budget, Retry-After, the guard, the bounded answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from creneau.fetch.client import FetchError, HostCoolingDown, PoliteClient, UnsafeLink
from creneau.fetch.guard import Guard
from creneau.host_budget import HostBudget

QUERY = b"0)\x02\x01\x010!0\t\x06\x05+\x0e\x03\x02\x1a\x05\x00\x04\x14" + bytes(range(20))
URL = "https://tsa.example/tsr"


class Streamed(httpx.AsyncByteStream):
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


def client_answering(
    seen: list[httpx.Request], status: int = 200, body: bytes = b"reply", **headers: str
) -> PoliteClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, headers=headers, stream=Streamed(body))

    return PoliteClient(
        "ops@example.org",
        lambda host: HostBudget(60, 2),
        retries=0,
        transport=httpx.MockTransport(answer),
        max_body_bytes=1024,
    )


async def test_the_bytes_go_as_they_are_with_their_type_and_spend_the_budget() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(seen, **{"content-type": "application/timestamp-reply"})
    async with client.session("tsa:tsa.example", URL, respect_robots=False) as session:
        page = await session.post_bytes(
            URL, QUERY, "application/timestamp-query", headers={"Accept": "x/y"}
        )
        assert session.requests == 1
    assert (page.status, page.body, page.header("content-type")) == (
        200, b"reply", "application/timestamp-reply",
    )  # fmt: skip
    [request] = seen
    assert (request.method, request.url, request.content) == ("POST", URL, QUERY)
    assert request.headers["content-type"] == "application/timestamp-query"
    assert request.headers["accept"] == "x/y"
    assert client.gate("tsa.example").bucket.level() == pytest.approx(1, abs=0.1)


async def test_retry_after_holds_the_host() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(seen, 503, b"busy", **{"retry-after": "3600"})
    async with client.session("tsa:tsa.example", URL, respect_robots=False) as session:
        page = await session.post_bytes(URL, QUERY, "application/timestamp-query")
    assert page.status == 503
    with pytest.raises(HostCoolingDown):
        async with client.session("tsa:tsa.example", URL, respect_robots=False) as session:
            await session.post_bytes(URL, QUERY, "application/timestamp-query")
    assert len(seen) == 1


async def test_the_guard_refuses_before_anything_is_sent() -> None:
    seen: list[httpx.Request] = []
    client = client_answering(seen)
    loopback = "http://127.0.0.1:9/tsr"
    with pytest.raises(UnsafeLink):
        async with client.session("tsa:127.0.0.1", loopback, guard=Guard()) as session:
            await session.post_bytes(loopback, QUERY, "application/timestamp-query")
    assert seen == []


async def test_an_answer_too_large_is_not_read() -> None:
    client = client_answering([], body=b"x" * 2048)
    with pytest.raises(FetchError, match="larger than 1 KiB"):
        async with client.session("tsa:tsa.example", URL, respect_robots=False) as session:
            await session.post_bytes(URL, QUERY, "application/timestamp-query")


async def test_a_307_to_another_host_resends_the_bytes_with_their_type_only() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "tsa.example":
            moved = {"location": "https://other.example/tsr"}
            return httpx.Response(307, headers=moved, stream=Streamed(b""))
        return httpx.Response(200, stream=Streamed(b"reply"))

    client = PoliteClient(
        None, lambda host: HostBudget(60, 5), retries=0, transport=httpx.MockTransport(answer)
    )
    async with client.session("tsa:tsa.example", URL, respect_robots=False) as session:
        page = await session.post_bytes(
            URL, QUERY, "application/timestamp-query", headers={"Authorization": "Bearer t"}
        )
    assert page.body == b"reply"
    moved = seen[1]
    assert (moved.method, str(moved.url), moved.content) == (
        "POST", "https://other.example/tsr", QUERY,
    )  # fmt: skip
    assert moved.headers["content-type"] == "application/timestamp-query"
    assert "authorization" not in moved.headers
    assert seen[0].headers["authorization"] == "Bearer t"
