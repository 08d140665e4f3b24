"""The only door to the network. Every request of every target passes through here, so the
politeness rules are enforced in one place: the interval floor per target, one request in
flight and a token bucket per host, a circuit breaker per host, Retry-After, bounded bodies
and deadlines. Source modules receive a `Session`; they never see httpx."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
import zlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import httpx
import tenacity

from creneau import PROJECT_URL, __version__
from creneau.page import Page
from creneau.results import Status
from creneau.targets import INTERVAL_FLOOR, format_duration, is_loopback

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 2 * 1024 * 1024
RETRYABLE_STATUSES = frozenset({502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
BREAKER_FIRST_COOLDOWN = timedelta(minutes=5)
BREAKER_MAX_COOLDOWN = timedelta(hours=2)
FAILURES_BEFORE_COOLDOWN = 3


def user_agent(contact: str | None) -> str:
    """An honest User-Agent that names the program and lets the site reach its operator."""
    reach = f"+{PROJECT_URL}" + (f"; {contact}" if contact else "")
    return f"creneau/{__version__} ({reach})"


class FetchError(Exception):
    """A request that produced no usable page. `status` is what the check should report."""

    def __init__(self, detail: str, status: Status = Status.ERROR) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


class HostCoolingDown(FetchError):
    """The host's breaker is open: no request is sent until `until`."""

    def __init__(self, host: str, until: datetime, reason: str, status: Status) -> None:
        when = until.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        super().__init__(f"{host} is cooling down after {reason}; next attempt at {when}", status)
        self.until = until


class TooSoon(FetchError):
    """A check of a target was attempted before the interval floor allows."""


@dataclass(frozen=True)
class HostBudget:
    per_minute: float = 6.0
    burst: int = 10


@dataclass
class TokenBucket:
    """Classic token bucket on a monotonic clock."""

    per_second: float
    capacity: float
    clock: Callable[[], float]
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.updated = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now

    def seconds_until_token(self) -> float:
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_second

    def take(self) -> None:
        self._refill()
        self.tokens -= 1


@dataclass
class Breaker:
    """Per-host circuit breaker: opens on a refusal (403/429) at once, or after repeated
    failures; the cool-down doubles each time it reopens, and one good check closes it."""

    open_until: datetime | None = None
    reason: str = ""
    status: Status = Status.BLOCKED
    consecutive_failures: int = 0
    openings: int = 0

    def check(self, host: str, now: datetime) -> None:
        if self.open_until is not None and now < self.open_until:
            raise HostCoolingDown(host, self.open_until, self.reason, self.status)

    def trip(self, now: datetime, reason: str, status: Status, at_least: timedelta) -> None:
        cooldown = min(BREAKER_MAX_COOLDOWN, BREAKER_FIRST_COOLDOWN * 2**self.openings)
        cooldown *= random.uniform(0.9, 1.1)
        self.open_until = now + max(cooldown, at_least)
        self.reason = reason
        self.status = status
        self.openings += 1
        self.consecutive_failures = 0

    def record_check(self, status: Status, now: datetime) -> None:
        if status in (Status.ERROR, Status.OVERLOADED):
            self.consecutive_failures += 1
            if self.consecutive_failures >= FAILURES_BEFORE_COOLDOWN:
                self.trip(
                    now, f"{FAILURES_BEFORE_COOLDOWN} failed checks in a row", status, timedelta(0)
                )
        elif status is not Status.BLOCKED:
            self.consecutive_failures = 0
            self.openings = 0
            self.open_until = None


@dataclass
class HostGate:
    """Everything the client knows about one host."""

    bucket: TokenBucket
    breaker: Breaker = field(default_factory=Breaker)
    in_flight: asyncio.Lock = field(default_factory=asyncio.Lock)


def retry_after(page_headers: Mapping[str, str], now: datetime) -> timedelta:
    """Parse Retry-After (seconds or HTTP date); zero when absent or unreadable."""
    value = page_headers.get("retry-after", "").strip()
    if not value:
        return timedelta(0)
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return timedelta(0)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - now)


class _BoundedGunzip:
    """Decompresses gzip/deflate without ever holding more than `limit` bytes of output."""

    def __init__(self, encoding: str, limit: int) -> None:
        wbits = 47 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._inflate = zlib.decompressobj(wbits)
        self._limit = limit

    def feed(self, chunk: bytes, produced: int) -> bytes:
        out = self._inflate.decompress(chunk, self._limit - produced + 1)
        if self._inflate.unconsumed_tail:
            raise FetchError(_too_large(self._limit))
        return out


def _too_large(limit: int) -> str:
    return f"response body larger than {limit // 1024} KiB: not read further"


class PoliteClient:
    """Owns the per-host gates and the per-target floor. Open one `session` per check."""

    def __init__(
        self,
        contact: str | None,
        budget_for: Callable[[str], HostBudget] = lambda host: HostBudget(),
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        request_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retries: int = 2,
        retry_backoff: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.user_agent = user_agent(contact)
        self._budget_for = budget_for
        self._gates: dict[str, HostGate] = {}
        self._last_check: dict[str, datetime] = {}
        self.max_body_bytes = max_body_bytes
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.monotonic = monotonic
        self.now = now
        self._transport = transport  # tests only: an in-process transport
        # Loading the CA bundle costs ~50 ms of CPU: once per client, not once per check.
        # It always verifies certificates and host names; there is no switch to turn that off.
        self.tls = httpx.create_ssl_context()

    def gate(self, host: str) -> HostGate:
        if host not in self._gates:
            budget = self._budget_for(host)
            bucket = TokenBucket(budget.per_minute / 60, budget.burst, self.monotonic)
            self._gates[host] = HostGate(bucket)
        return self._gates[host]

    def remember_check(self, target_key: str, started_at: datetime) -> None:
        """Seed the floor with a check made earlier (by another process, before a restart)."""
        known = self._last_check.get(target_key)
        if known is None or started_at > known:
            self._last_check[target_key] = started_at

    @asynccontextmanager
    async def session(
        self, target_key: str, url: str, cookies: Mapping[str, str] | None = None
    ) -> AsyncIterator[Session]:
        """A cookie jar for one check of one target (seeded with `cookies` to resume a site
        session a person opened, e.g. after solving a CAPTCHA). Refuses to start before the
        floor; on exit, feeds the check's verdict to the host's breaker."""
        self._enforce_floor(target_key, url)
        host = (urlsplit(url).hostname or "").lower()
        self.gate(host).breaker.check(host, self.now())
        session = Session(self, host, cookies)
        try:
            yield session
        finally:
            await session.aclose()
            if session.verdict is not None:
                self.gate(host).breaker.record_check(session.verdict, self.now())

    def _enforce_floor(self, target_key: str, url: str) -> None:
        """At most one check of a target per INTERVAL_FLOOR; loopback hosts are exempt."""
        now = self.now()
        last = self._last_check.get(target_key)
        if last is not None and not is_loopback(url) and now - last < INTERVAL_FLOOR:
            wait = last + INTERVAL_FLOOR - now
            raise TooSoon(
                f"last checked {format_duration(now - last)} ago; at most one check per "
                f"{format_duration(INTERVAL_FLOOR)} (wait {format_duration(wait)})"
            )
        self._last_check[target_key] = now


class Session:
    """One check's conversation with a site: cookies persist across its requests."""

    def __init__(
        self, client: PoliteClient, host: str, cookies: Mapping[str, str] | None = None
    ) -> None:
        self._client = client
        self.host = host
        self.requests = 0
        self.verdict: Status | None = None
        self._http = httpx.AsyncClient(
            headers={
                "User-Agent": client.user_agent,
                "Accept-Language": "fr-FR,fr;q=0.9",
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(client.request_timeout, connect=client.connect_timeout),
            follow_redirects=False,
            verify=client.tls,
            transport=client._transport,
            cookies=dict(cookies or {}),
        )

    def cookies(self) -> dict[str, str]:
        """The site session's cookies, to hand over to a later check."""
        return {cookie.name: cookie.value or "" for cookie in self._http.cookies.jar}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Page:
        if params:
            url = str(httpx.URL(url, params=params))
        return await self._follow("GET", url, None, headers)

    async def post(
        self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None
    ) -> Page:
        return await self._follow("POST", url, data, headers)

    async def _follow(
        self,
        method: str,
        url: str,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> Page:
        for _hop in range(MAX_REDIRECTS + 1):
            page = await self._send_with_retries(method, url, data, headers)
            location = page.header("location")
            if page.status not in REDIRECT_STATUSES or not location:
                return page
            url = urljoin(page.url, location)
            if page.status in (301, 302, 303) and method == "POST":
                method, data = "GET", None
        raise FetchError(f"redirect loop: more than {MAX_REDIRECTS} redirects (last to {url})")

    async def _send_with_retries(
        self,
        method: str,
        url: str,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> Page:
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self._client.retries + 1),
            wait=tenacity.wait_exponential(
                multiplier=self._client.retry_backoff,
                min=self._client.retry_backoff,
                max=10 * self._client.retry_backoff,
            ),
            retry=tenacity.retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send(method, url, data, headers)
        except _Retryable as failure:
            if failure.page is not None:
                return failure.page
            raise FetchError(failure.detail) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        method: str,
        url: str,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> Page:
        host = (urlsplit(url).hostname or "").lower()
        gate = self._client.gate(host)
        async with gate.in_flight:
            gate.breaker.check(host, self._client.now())
            # Holding the host's lock, nobody else takes tokens meanwhile: one sleep is enough.
            if (wait := gate.bucket.seconds_until_token()) > 0:
                await asyncio.sleep(wait)
            gate.bucket.take()
            self.requests += 1
            page = await self._exchange(method, url, data, headers)
        self._watch_for_refusal(gate, host, page)
        if page.status in RETRYABLE_STATUSES and not page.header("retry-after"):
            raise _Retryable(f"HTTP {page.status}", page)
        return page

    def _watch_for_refusal(self, gate: HostGate, host: str, page: Page) -> None:
        """A 403 or 429 means "stop": open the breaker now, whatever the flow does next.
        A 503 with Retry-After also sets the earliest next request."""
        now = self._client.now()
        wait = retry_after(page.headers, now)
        if page.status in (403, 429):
            gate.breaker.trip(now, f"HTTP {page.status}", Status.BLOCKED, wait)
            self.verdict = Status.BLOCKED
        elif page.status == 503 and wait:
            gate.breaker.trip(now, "HTTP 503 with Retry-After", Status.OVERLOADED, wait)
            gate.breaker.openings -= 1  # a stated Retry-After is not an escalation

    async def _exchange(
        self,
        method: str,
        url: str,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> Page:
        try:
            async with asyncio.timeout(self._client.request_timeout):
                request = self._http.build_request(method, url, data=data, headers=headers)
                response = await self._http.send(request, stream=True)
                try:
                    body = await self._read_bounded(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise _Retryable(
                f"no complete answer from {url} within {self._client.request_timeout:g}s"
            ) from None
        except httpx.TransportError as failure:
            raise _Retryable(
                f"{type(failure).__name__}: {failure or 'connection failed'}"
            ) from None
        return Page(
            url=str(response.url),
            status=response.status_code,
            body=body,
            headers={k.lower(): v for k, v in response.headers.items()},
        )

    async def _read_bounded(self, response: httpx.Response) -> bytes:
        limit = self._client.max_body_bytes
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        decoder = (
            _BoundedGunzip(encoding, limit) if encoding in ("gzip", "x-gzip", "deflate") else None
        )
        chunks: list[bytes] = []
        produced = 0
        async for raw in response.aiter_raw():
            chunk = decoder.feed(raw, produced) if decoder else raw
            produced += len(chunk)
            if produced > limit:
                raise FetchError(_too_large(limit))
            chunks.append(chunk)
        return b"".join(chunks)


class _Retryable(Exception):
    """A connection failure or a 502/503/504: worth up to `retries` more attempts."""

    def __init__(self, detail: str, page: Page | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.page = page
