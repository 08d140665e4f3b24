"""The only door to the network. Every request of every target passes through here, so the
politeness rules of `politeness.py` are enforced in one place: the interval floor per target,
one request in flight and a token bucket per host, the host's breaker and Retry-After
deadline, robots.txt, bounded bodies and deadlines; with a `Guard`, the SSRF checks of links
given through the web, on every request; with a `before_request` hook, whatever must happen
before a request may leave (a daemon that may be taken over saves what the request spends,
and may refuse it: `MayNotFetch`). Source modules receive a `Session`; they never see
httpx."""

from __future__ import annotations

import asyncio
import http.cookiejar
import logging
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import httpx
import tenacity

from creneau import PROJECT_URL, __version__
from creneau.dates import compact_duration
from creneau.details import Detail
from creneau.expected import WINDOW_FLOOR, in_window
from creneau.fetch.errors import FetchError, HostCoolingDown, TooSoon, UnsafeLink
from creneau.fetch.guard import Guard
from creneau.fetch.politeness import (
    HostGuard,
    HostState,
    HostTransition,
    Spend,
    TokenBucket,
    retry_after,
    robots_allows,
    robots_is_fresh,
)
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import SiteCookie, SiteSession, Status, site_session_of
from creneau.targets import INTERVAL_FLOOR, host_of, is_loopback

__all__ = [
    "FetchError",
    "Guard",
    "HostCoolingDown",
    "MayNotFetch",
    "PoliteClient",
    "Session",
    "TooSoon",
    "UnsafeLink",
]

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 2 * 1024 * 1024
RETRYABLE_STATUSES = frozenset({502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class MayNotFetch(BaseException):
    """Raised by a `before_request` hook: this request may not leave (the daemon is no
    longer the active one, or cannot record what the request spends). A BaseException, like
    cancellation: the check stops where it is, and no source's or check's `except Exception`
    turns it into a result or a breaker's failure."""


BeforeRequest = Callable[[Spend], Awaitable[None]]
# What a request sends: a form (url-encoded), raw bytes (`Session.post_bytes`), or nothing.
Body = Mapping[str, str] | bytes | None


def user_agent(contact: str | None) -> str:
    """An honest User-Agent that names the program and lets the site reach its operator."""
    reach = f"+{PROJECT_URL}" + (f"; {contact}" if contact else "")
    return f"creneau/{__version__} ({reach})"


@dataclass
class HostGate:
    """Everything the client knows about one host."""

    bucket: TokenBucket
    guard: HostGuard
    in_flight: asyncio.Lock = field(default_factory=asyncio.Lock)  # one request at a time
    check_turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # one check at a time
    robots_fetch: asyncio.Lock = field(default_factory=asyncio.Lock)


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


def _too_large(limit: int) -> Detail:
    return Detail("fetch.too_large", kib=limit // 1024)


def _cookie_jar(cookies: SiteSession | Mapping[str, str] | None, url: str) -> httpx.Cookies:
    """A jar holding `cookies` as the jar that received them held them: each sent only to
    its domain and path (a cookie set without a Domain attribute: to its host only)."""
    jar = httpx.Cookies()
    if not cookies:
        return jar
    home = _home_domain(url)
    for cookie in site_session_of(cookies):
        domain = cookie["domain"] or home
        if not domain:
            continue  # no host to send it to
        named = domain.startswith(".")  # the jar adds the dot when the site names a domain
        jar.jar.set_cookie(
            http.cookiejar.Cookie(
                version=0,
                name=cookie["name"],
                value=cookie["value"],
                port=None,
                port_specified=False,
                domain=domain,
                domain_specified=named,
                domain_initial_dot=named,
                path=cookie["path"],
                path_specified=True,
                secure=cookie["secure"],
                expires=None,
                discard=True,
                comment=None,
                comment_url=None,
                rest={},
            )
        )
    return jar


def _home_domain(url: str) -> str:
    """The domain http.cookiejar records for a cookie `url`'s host sets without a Domain
    attribute (its effective request host): the host as httpx sends it, ".local" added to
    a name without a dot. Where cookies kept without their domain go ("" for no host)."""
    try:
        host = httpx.URL(url).host
    except httpx.InvalidURL:
        return ""
    if not host:
        return ""
    host = f"[{host}]" if ":" in host else host
    return host if "." in host else f"{host}.local"


def _content_type(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    kept = {k: v for k, v in (headers or {}).items() if k.lower() == "content-type"}
    return kept or None


def _never(page: Page) -> bool:
    return False


class PoliteClient:
    """Owns the per-host gates and the per-target floor. Open one `session` per check."""

    def __init__(
        self,
        contact: str | None,
        budget_for: Callable[[str], HostBudget] = lambda host: HostBudget(),
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        request_timeout: float = 30.0,
        check_deadline: float = 120.0,
        connect_timeout: float = 10.0,
        retries: int = 2,
        retry_backoff: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.AsyncBaseTransport | None = None,
        guard: Guard | None = None,
    ) -> None:
        self.user_agent = user_agent(contact)
        self._budget_for = budget_for
        self._gates: dict[str, HostGate] = {}
        self._last_check: dict[str, tuple[datetime, float | None]] = {}
        self._announced: dict[str, datetime] = {}  # target key → a release its site announced
        self._known_states: dict[str, HostState] = {}
        self.max_body_bytes = max_body_bytes
        self.request_timeout = request_timeout
        self.check_deadline = check_deadline
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.monotonic = monotonic
        self.now = now
        self._transport = transport  # tests only: an in-process transport
        self.guard = guard  # every session's requests pass the SSRF guard; None: unguarded
        # Awaited before each request leaves, with what it spends; may raise MayNotFetch.
        self.before_request: BeforeRequest | None = None
        # Loading the CA bundle costs ~50 ms of CPU: once per client, not once per check.
        # It always verifies certificates and host names; there is no switch to turn that off.
        # The bundle is SSL_CERT_FILE's (or SSL_CERT_DIR's) when set, else certifi's.
        self.tls = httpx.create_ssl_context()

    # --- state that outlives the process --------------------------------------------------

    def restore_hosts(self, states: Mapping[str, HostState]) -> None:
        """Seed breakers, Retry-After deadlines, robots.txt caches and the token buckets'
        levels from the store."""
        self._known_states.update(states)
        for host, state in states.items():
            if host in self._gates:
                gate = self._gates[host]
                gate.guard.state = state
                self._restore_bucket(gate.bucket, state)

    def _restore_bucket(self, bucket: TokenBucket, state: HostState) -> None:
        if state.bucket_tokens is not None and state.bucket_at is not None:
            bucket.restore(state.bucket_tokens, state.bucket_at, self.now())

    def host_state(self, host: str) -> HostState:
        return self.gate(host).guard.state

    def take_transitions(self, host: str) -> list[HostTransition]:
        return self.gate(host).guard.take_transitions()

    def remember_check(self, target_key: str, started_at: datetime) -> None:
        """Seed the floor with a check made earlier (by another process, before a restart)."""
        known = self._last_check.get(target_key)
        if known is None or started_at > known[0]:
            self._last_check[target_key] = (started_at, None)

    def follow_announcement(self, target_key: str, at: datetime) -> None:
        """The target's site announced a release at `at`: in the window after it
        (`expected.in_window`), its checks may come WINDOW_FLOOR apart instead of
        INTERVAL_FLOOR. Nothing else lowers the floor; the host's budget still holds."""
        self._announced[target_key] = at

    def _floor(self, target_key: str, now: datetime) -> timedelta:
        at = self._announced.get(target_key)
        return WINDOW_FLOOR if at is not None and in_window(at, now) else INTERVAL_FLOOR

    def use_budgets(self, budget_for: Callable[[str], HostBudget]) -> None:
        """A reloaded config's budgets: a host whose budget changed gets a new bucket (full,
        as at start); breakers, Retry-After deadlines and floors stay as they are."""
        old, self._budget_for = self._budget_for, budget_for
        for host, gate in self._gates.items():
            if budget_for(host) != old(host):
                budget = budget_for(host)
                gate.bucket = TokenBucket(budget.per_minute / 60, budget.burst, self.monotonic)

    def gate(self, host: str) -> HostGate:
        if host not in self._gates:
            budget = self._budget_for(host)
            bucket = TokenBucket(budget.per_minute / 60, budget.burst, self.monotonic)
            known = self._known_states.get(host)
            if known is not None:
                self._restore_bucket(bucket, known)
            self._gates[host] = HostGate(bucket, HostGuard(host, known))
        return self._gates[host]

    # --- one check ----------------------------------------------------------------------------

    @asynccontextmanager
    async def session(
        self,
        target_key: str,
        url: str,
        cookies: SiteSession | Mapping[str, str] | None = None,
        *,
        respect_robots: bool = True,
        guard: Guard | None = None,
    ) -> AsyncIterator[Session]:
        """A cookie jar for one check of one target (seeded with `cookies` to resume a site
        session a person opened, e.g. after solving a CAPTCHA: each cookie goes back to the
        host that set it; one without a domain, or given as a name and a value, to `url`'s).
        Checks of one host take turns: each runs from start to end without others' requests
        in between, so what it reports is fresh. Refuses to start before the floor or while
        the host cools down; on exit, feeds the verdict to the host's breaker. `guard` (else
        the client's) checks each of the session's requests when it is sent: a refused one
        raises `UnsafeLink`."""
        host = host_of(url)
        gate = self.gate(host)
        async with gate.check_turn:
            if cooling := gate.guard.cooling(self.now(), starting_check=True):
                raise HostCoolingDown(host, cooling)
            try:
                self._enforce_floor(target_key, url)
            except TooSoon:
                gate.guard.probing = False
                raise
            session = Session(
                self,
                host,
                _cookie_jar(cookies, url),
                respect_robots=respect_robots,
                guard=guard if guard is not None else self.guard,
                target_key=target_key,
            )
            try:
                yield session
            finally:
                await session.aclose()
                if session.verdict is None:
                    gate.guard.probing = False  # the caller said nothing: no evidence
                else:
                    gate.guard.finish_check(session.verdict, self.now())

    def _enforce_floor(self, target_key: str, url: str) -> None:
        """At most one check of a target per INTERVAL_FLOOR (WINDOW_FLOOR in the window after
        a release its site announced); loopback hosts are exempt."""
        now, mono = self.now(), self.monotonic()
        floor = self._floor(target_key, now)
        last = self._last_check.get(target_key)
        if last is not None and not is_loopback(url):
            last_wall, last_mono = last
            elapsed = (
                timedelta(seconds=mono - last_mono) if last_mono is not None else now - last_wall
            )
            # A wall clock that went backwards says nothing of the time really elapsed.
            if timedelta(0) <= elapsed < floor:
                raise TooSoon(
                    Detail(
                        "fetch.too_soon",
                        elapsed=compact_duration(elapsed),
                        floor=compact_duration(floor),
                        wait=compact_duration(floor - elapsed),
                    )
                )
        self._last_check[target_key] = (now, mono)


class Session:
    """One check's conversation with a site: cookies persist across its requests."""

    def __init__(
        self,
        client: PoliteClient,
        host: str,
        cookies: httpx.Cookies | None = None,
        *,
        respect_robots: bool = True,
        guard: Guard | None = None,
        target_key: str = "",
    ) -> None:
        self._client = client
        self.host = host
        self.target_key = target_key  # the check's floor key
        self.started_at = client.now()
        self.requests = 0
        self.pages: list[Page] = []  # every answer read (robots.txt and redirects aside)
        self.verdict: Status | None = None
        # Set by a source that can tell a refusal of the target's own settings (the ANTS
        # hub's 403 "radius_km value not allowed") from the site saying stop: such an answer
        # opens no breaker.
        self.configuration_error: Callable[[Page], bool] = _never
        # Time spent waiting for the site, over all requests of the check. Time queued for
        # our own budget (the host's lock, tokens) does not count: the site is not slow.
        self.talking = 0.0
        self._respect_robots = respect_robots
        self._guard = guard
        self._http = httpx.AsyncClient(
            headers={
                "User-Agent": client.user_agent,
                "Accept-Language": "fr-FR,fr;q=0.9",
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(client.request_timeout, connect=client.connect_timeout),
            follow_redirects=False,
            verify=client.tls,
            # Never a proxy, a .netrc or certificates from the environment: every request
            # goes straight to the site, from this machine's own address.
            trust_env=False,
            transport=client._transport,
            cookies=cookies,
        )

    def cookies(self) -> dict[str, str]:
        """The site session's cookies by name (whichever host set them)."""
        return {cookie.name: cookie.value or "" for cookie in self._http.cookies.jar}

    def kept_cookies(self) -> SiteSession:
        """The site session's cookies, each with where it goes back, to hand over to a later
        check: kept as the jar holds them, a cookie of one host never reaches another."""
        return [
            SiteCookie(
                name=cookie.name,
                value=cookie.value or "",
                domain=cookie.domain,
                path=cookie.path,
                secure=cookie.secure,
            )
            for cookie in self._http.cookies.jar
        ]

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

    async def post_bytes(
        self,
        url: str,
        content: bytes,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Page:
        """POST `content` as it is (an RFC 3161 query to a time-stamping authority), with
        every rule of a form's POST: the guard, the host's budget, Retry-After, the bounded
        answer."""
        sent = {**(headers or {}), "Content-Type": content_type}
        return await self._follow("POST", url, content, sent)

    async def _follow(
        self,
        method: str,
        url: str,
        data: Body,
        headers: Mapping[str, str] | None,
    ) -> Page:
        for _hop in range(MAX_REDIRECTS + 1):
            await self._check_robots(url)
            page = await self._send_with_retries(method, url, data, headers)
            location = page.header("location")
            if page.status not in REDIRECT_STATUSES or not location:
                self.pages.append(page)
                return page
            url = urljoin(page.url, location)
            if page.status in (301, 302, 303) and method == "POST":
                method, data = "GET", None
            if host_of(url) != host_of(page.url):
                # A token meant for one host never follows to another; raw bytes (307, 308)
                # keep the type that says what they are.
                headers = _content_type(headers) if isinstance(data, bytes) else None
        raise FetchError(Detail("fetch.redirect_loop", hops=MAX_REDIRECTS, url=url))

    async def _check_robots(self, url: str) -> None:
        if not self._respect_robots:
            return
        host = host_of(url)
        gate = self._client.gate(host)
        state = gate.guard.state
        if not robots_is_fresh(state, self._client.now()):
            async with gate.robots_fetch:  # concurrent checks share one fetch
                if not robots_is_fresh(state, self._client.now()):
                    await self._fetch_robots(url, state)
        if not robots_allows(state.robots_txt or "", url):
            path = urlsplit(url).path
            raise FetchError(Detail("fetch.robots_disallows", host=host, path=path), Status.BLOCKED)

    async def _fetch_robots(self, url: str, state: HostState) -> None:
        """Fetched at most once a day per host; a 4xx means no rules. When the site fails,
        the cached copy is used, or, with none, the check waits for a better moment."""
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            page = await self._send_with_retries("GET", robots_url, None, None)
        except UnsafeLink:
            raise
        except FetchError as failure:
            if state.robots_txt is not None:
                return
            unreachable = Detail("fetch.robots_unreachable", why=failure.detail)
            raise FetchError(unreachable, failure.status) from None
        if page.status >= 500 or page.status in REDIRECT_STATUSES:
            if state.robots_txt is not None:
                return
            failed = Detail("http_status", status=page.status)
            raise FetchError(Detail("fetch.robots_unreachable", why=failed), Status.OVERLOADED)
        state.robots_txt = page.text if page.status < 400 else ""
        state.robots_fetched_at = self._client.now()

    async def _send_with_retries(
        self,
        method: str,
        url: str,
        data: Body,
        headers: Mapping[str, str] | None,
    ) -> Page:
        backoff = self._client.retry_backoff
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self._client.retries + 1),
            wait=tenacity.wait_exponential(multiplier=backoff, min=backoff, max=10 * backoff),
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
        data: Body,
        headers: Mapping[str, str] | None,
    ) -> Page:
        host = host_of(url)
        gate = self._client.gate(host)
        async with gate.in_flight:
            if cooling := gate.guard.cooling(self._client.now()):
                raise HostCoolingDown(host, cooling)
            # Holding the host's lock, nobody else takes tokens meanwhile: one sleep is enough.
            if (wait := gate.bucket.seconds_until_token()) > 0:
                await asyncio.sleep(wait)
            if self._guard is not None:
                await self._pass_guard(self._guard, url)  # now: nothing waits after it
            if (hook := self._client.before_request) is not None:
                # Saved before the request leaves; the bucket refills meanwhile, so the level
                # saved is never above the level left.
                level = gate.bucket.level() - 1
                now = self._client.now()
                await hook(Spend(host, level, now, self.target_key, self.started_at))
            gate.bucket.take()
            gate.guard.state.bucket_tokens = gate.bucket.tokens
            gate.guard.state.bucket_at = self._client.now()
            self.requests += 1
            page = await self._exchange(method, url, data, headers)
        self._obey(gate, page)
        if page.status in RETRYABLE_STATUSES and not page.header("retry-after"):
            raise _Retryable(Detail("http_status", status=page.status), page)
        return page

    async def _pass_guard(self, guard: Guard, url: str) -> None:
        """Checked when the request is about to leave, not when the link was added: a name
        that now resolves to a private address (DNS rebinding) is refused. A name that does
        not resolve is a connection failure, retried like one."""
        try:
            async with asyncio.timeout(self._client.connect_timeout):
                refusal = await guard.check(url)
        except TimeoutError:
            seconds = self._client.connect_timeout
            raise _Retryable(
                Detail("fetch.resolve_timeout", host=host_of(url), seconds=seconds)
            ) from None
        except OSError as failure:
            unresolved = Detail("fetch.unresolved", host=host_of(url), error=str(failure))
            raise _Retryable(unresolved) from None
        if refusal is not None:
            raise UnsafeLink(refusal)

    def _obey(self, gate: HostGate, page: Page) -> None:
        """A 403 or 429 means "stop": open the breaker now, whatever the flow does next.
        A 503 with Retry-After sets the earliest next request, exactly."""
        now = self._client.now()
        wait = retry_after(page.headers, now)
        if page.status in (403, 429) and not self.configuration_error(page):
            gate.guard.refused(now, page.status, wait)
            self.verdict = Status.BLOCKED
        elif page.status == 503 and wait:
            gate.guard.asked_to_wait(now, wait, Detail("breaker.retry_after_503"))

    async def _exchange(
        self,
        method: str,
        url: str,
        data: Body,
        headers: Mapping[str, str] | None,
    ) -> Page:
        left = self._client.check_deadline - self.talking
        if left <= 0:
            raise FetchError(Detail("fetch.deadline", seconds=self._client.check_deadline))
        timeout = min(self._client.request_timeout, left)
        started = self._client.monotonic()
        try:
            async with asyncio.timeout(timeout):
                form, content = (None, data) if isinstance(data, bytes) else (data, None)
                request = self._http.build_request(
                    method, url, data=form, content=content, headers=headers
                )
                response = await self._http.send(request, stream=True)
                try:
                    body = await self._read_bounded(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise _Retryable(Detail("fetch.no_answer", url=url, seconds=timeout)) from None
        except httpx.TransportError as failure:
            kind = type(failure).__name__
            raise _Retryable(
                Detail("fetch.connection_failed", kind=kind, message=str(failure))
            ) from None
        finally:
            self.talking += self._client.monotonic() - started
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

    def __init__(self, detail: Detail, page: Page | None = None) -> None:
        super().__init__(str(detail))
        self.detail = detail
        self.page = page
