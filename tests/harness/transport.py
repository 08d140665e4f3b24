"""Simulated sites without sockets: an httpx transport that hands each request to the site
registered for its host, and logs every hit on a clock of the caller's choice (the event
loop's, in virtual-time tests and benchmarks)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from http.cookies import SimpleCookie

import httpx

from creneau.simulator.server import Hit
from creneau.simulator.wire import Request, Response, Site


class SimulatedInternet(httpx.AsyncBaseTransport):
    """host name → simulated site. Unknown hosts fail like an unresolvable name."""

    def __init__(
        self,
        sites: dict[str, Site],
        clock: Callable[[], float] = time.monotonic,
        delay: Callable[[Request], float] | None = None,
    ) -> None:
        self.sites = sites
        self.clock = clock
        self.delay = delay  # seconds before answering, e.g. to play a slow server
        self.hits: list[Hit] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        site = self.sites.get(host)
        if site is None:
            raise httpx.ConnectError(f"[Errno -2] Name or service not known: {host}")
        wire = _to_wire(request, await request.aread())
        self.hits.append(Hit(self.clock(), host, wire.method, wire.path, 0))
        if self.delay and (seconds := self.delay(wire)):
            await asyncio.sleep(seconds)
        answer = site.handle(wire) if site.handles(wire.path) else Response(404, "not found")
        self.hits[-1] = Hit(self.hits[-1].at, host, wire.method, wire.path, answer.status)
        return _to_httpx(answer)


def _to_wire(request: httpx.Request, body: bytes) -> Request:
    cookies = {k: v.value for k, v in SimpleCookie(request.headers.get("cookie", "")).items()}
    form = Request.parse_form(body) if request.method == "POST" else {}
    return Request(
        request.method,
        request.url.path,
        request.url.query.decode(),
        request.url.host,
        cookies,
        form,
        {k.lower(): v for k, v in request.headers.items()},
    )


def _to_httpx(answer: Response) -> httpx.Response:
    body = answer.body.encode("utf-8") if isinstance(answer.body, str) else answer.body
    headers = [("content-type", answer.content_type), *answer.headers.items()]
    headers += [
        ("set-cookie", f"{name}={value}; path=/") for name, value in answer.set_cookies.items()
    ]
    return httpx.Response(answer.status, headers=headers, stream=_Body(body))


class _Body(httpx.AsyncByteStream):
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield self.data
