"""The limits on wrong passwords and wrong tokens (issue 24 item 2): requests arriving
together cannot all pass the limit, passwords are hashed off the event loop a few at a time,
failed logins never stop the API or the metrics, and a limited client is let in again soon
after it stops. Every request goes through the application on this test's own event loop
(httpx's ASGITransport), so that a hash computed on the loop would hold the test up too."""

from __future__ import annotations

import asyncio
import html
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from test_security import config_with, web_context

from creneau.config import load_config
from creneau.web import auth, security
from creneau.web.app import create_app
from creneau.web.context import WebContext
from creneau.web.security import (
    AttemptLimiter,
    HashingPool,
    client_key,
    hash_password,
    token_limiter,
)

PASSWORD = "correct horse 42"
HASHED = hash_password(PASSWORD, iterations=1000)
API_TOKEN = "api-token-0123456789abcdef"  # long enough not to be guessed
METRICS_TOKEN = "metrics-token-0123456789"
SHORT_TOKEN = "s3cret-api"
ATTACKER = "203.0.113.7"
HELD_HASH_SECONDS = 60.0  # how long a held hash waits for the test at most


class Clock:
    """The limiters' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def protected(tmp_path: Path, clock: Clock, api_token: str = API_TOKEN) -> WebContext:
    web = (
        f'listen = "0.0.0.0:8765"\npassword = "{HASHED}"\n'
        f'api_token = "{api_token}"\nmetrics_token = "{METRICS_TOKEN}"'
    )
    context = web_context(tmp_path, web)
    context.login_limiter = AttemptLimiter(clock=clock)
    limiter = token_limiter()
    limiter.clock = clock
    context.token_limiter = limiter
    return context


@asynccontextmanager
async def client_of(
    context: WebContext, address: str = ATTACKER
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_app(context), client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as client:
        yield client


async def logins(client: httpx.AsyncClient, password: str, count: int) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(client.post("/login", data={"password": password}) for _ in range(count))
        )
    )


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.mark.parametrize("count", [40, 120])
async def test_wrong_passwords_sent_together_are_limited(tmp_path: Path, count: int) -> None:
    context = protected(tmp_path, Clock())
    async with client_of(context) as client:
        answers = await logins(client, "guess", count)
    codes = Counter(answer.status_code for answer in answers)
    assert codes == {401: 5, 429: count - 5}
    limited = [answer for answer in answers if answer.status_code == 429]
    assert {answer.headers["retry-after"] for answer in limited} == {"12"}
    assert "Trop d'essais : réessayez dans 12 s." in html.unescape(limited[0].text)


async def test_a_limited_client_is_let_in_again_soon_after_it_stops(tmp_path: Path) -> None:
    # Behind a reverse proxy without trusted_proxy_auth every visitor has the proxy's
    # address: the owner is refused while a visitor guesses, and let in 12 s after.
    clock = Clock()
    context = protected(tmp_path, clock)
    async with client_of(context, "127.0.0.1") as client:
        await logins(client, "guess", 150)
        assert (await logins(client, PASSWORD, 1))[0].status_code == 429
        clock.now += 12
        [owner] = await logins(client, PASSWORD, 1)
        assert (owner.status_code, owner.headers["location"]) == (303, "/")
        # The right password did not use up the attempt 12 s gave back: a guess still has it.
        codes = [answer.status_code for answer in await logins(client, "guess", 6)]
        assert sorted(codes) == [401, 429, 429, 429, 429, 429]


async def test_failed_logins_never_stop_the_api_or_the_metrics(tmp_path: Path) -> None:
    context = protected(tmp_path, Clock())
    async with client_of(context, "127.0.0.1") as client:
        await logins(client, "guess", 40)
        assert (await logins(client, PASSWORD, 1))[0].status_code == 429
        api = await client.get("/api/v1/targets", headers=bearer(API_TOKEN))
        assert api.status_code == 200
        assert [target["target"] for target in api.json()] == ["t"]
        metrics = await client.get("/metrics", headers=bearer(METRICS_TOKEN))
        assert metrics.status_code == 200
        assert "creneau_build_info" in metrics.text


async def test_wrong_tokens_are_limited_per_token_and_a_long_right_one_still_passes(
    tmp_path: Path,
) -> None:
    context = protected(tmp_path, Clock())
    async with client_of(context, "127.0.0.1") as client:
        wrong = await asyncio.gather(
            *(client.get("/api/v1/targets", headers=bearer("guess")) for _ in range(40))
        )
        assert Counter(answer.status_code for answer in wrong) == {401: 5, 429: 35}
        assert (await client.get("/api/v1/targets", headers=bearer(API_TOKEN))).status_code == 200
        assert (await client.get("/metrics", headers=bearer(METRICS_TOKEN))).status_code == 200
        assert (await client.get("/metrics", headers=bearer("guess"))).status_code == 401
        assert (await logins(client, PASSWORD, 1))[0].status_code == 303


async def test_a_short_token_is_refused_while_its_client_is_limited(tmp_path: Path) -> None:
    clock = Clock()
    context = protected(tmp_path, clock, api_token=SHORT_TOKEN)
    async with client_of(context, "127.0.0.1") as client:
        for _ in range(5):
            await client.get("/api/v1/targets", headers=bearer("guess"))
        right = await client.get("/api/v1/targets", headers=bearer(SHORT_TOKEN))
        assert (right.status_code, right.headers["retry-after"]) == (429, "12")
        clock.now += 12
        assert (await client.get("/api/v1/targets", headers=bearer(SHORT_TOKEN))).status_code == 200
        # The right token gave its attempt back: the next guess is a 401, then a 429.
        codes = [
            (await client.get("/api/v1/targets", headers=bearer("guess"))).status_code
            for _ in range(2)
        ]
        assert codes == [401, 429]


class HeldHashes:
    """Each password comparison waits, in the thread that computes it, until the test lets
    it go: what the event loop does meanwhile is what it does during a slow hash."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.running = 0
        self.threads: list[int] = []
        self.lock = threading.Lock()
        compare: Callable[[str, str], bool] = auth.verify_password
        loop_thread = threading.get_ident()

        def held(given: str, stored: str) -> bool:
            with self.lock:
                self.running += 1
                self.threads.append(threading.get_ident())
            self.started.set()
            try:
                if threading.get_ident() != loop_thread:  # on the loop, it would hang the test
                    self.release.wait(HELD_HASH_SECONDS)
                return compare(given, stored)
            finally:
                with self.lock:
                    self.running -= 1

        monkeypatch.setattr(auth, "verify_password", held)


async def test_the_event_loop_answers_while_passwords_are_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = protected(tmp_path, Clock())
    context.login_limiter = AttemptLimiter(burst=100, clock=Clock())  # only the hashing limits
    hashes = HeldHashes(monkeypatch)
    async with client_of(context) as client:
        sent = [
            asyncio.create_task(client.post("/login", data={"password": "guess"}))
            for _ in range(20)
        ]
        try:
            assert await asyncio.to_thread(hashes.started.wait, HELD_HASH_SECONDS)
            health = await client.get("/healthz")
            answered_while_hashing = hashes.running > 0
            refused_at_once = []
            for finished in asyncio.as_completed(sent, timeout=HELD_HASH_SECONDS):
                refused_at_once.append(await finished)  # the first 15 while a hash is held
                if len(refused_at_once) == 15:
                    break
            still_hashing = hashes.running > 0
        finally:
            hashes.release.set()
        answers = await asyncio.gather(*sent)
    assert health.status_code == 200
    assert answered_while_hashing
    assert still_hashing
    assert threading.get_ident() not in hashes.threads
    # One hash at a time, four waiting their turn; the rest refused without waiting.
    assert Counter(answer.status_code for answer in answers) == {401: 5, 429: 15}
    assert len(hashes.threads) == 5
    assert sorted(answer.status_code for answer in refused_at_once) == [429] * 15
    assert {answer.headers["retry-after"] for answer in refused_at_once} == {"5"}


async def test_a_hashing_place_is_freed_when_its_hash_is_done() -> None:
    pool = HashingPool(at_once=1, waiting=0)
    go = threading.Event()
    first = asyncio.create_task(pool.check(lambda: go.wait(HELD_HASH_SECONDS)))
    await asyncio.sleep(0)
    assert await pool.check(lambda: True) is None  # the only place is taken
    first.cancel()  # the client went away: its hash still runs, its place stays taken
    assert await pool.check(lambda: True) is None
    go.set()
    with pytest.raises(asyncio.CancelledError):
        await first
    for _ in range(int(HELD_HASH_SECONDS * 100)):
        if (answer := await pool.check(lambda: True)) is not None:
            break
        await asyncio.sleep(0.01)
    assert answer is True


def test_an_attempt_is_reserved_given_back_and_never_owed() -> None:
    clock = Clock()
    limiter = AttemptLimiter(clock=clock)
    assert [limiter.reserve(ATTACKER) for _ in range(40)] == [True] * 5 + [False] * 35
    assert limiter.reserve("198.51.100.1")  # another client
    assert limiter.retry_after(ATTACKER) == 12
    clock.now += 12  # 5 a minute, and nothing owed for the 35 refused
    assert limiter.reserve(ATTACKER)
    assert not limiter.reserve(ATTACKER)
    limiter.give_back(ATTACKER)  # it was the right password
    assert limiter.reserve(ATTACKER)
    clock.now += 3600
    assert [limiter.reserve(ATTACKER) for _ in range(6)] == [True] * 5 + [False]


def test_one_ipv6_subscriber_is_one_client() -> None:
    assert (
        client_key("2001:db8:1:2::7") == client_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    )
    assert client_key("2001:db8:1:3::7") != client_key("2001:db8:1:2::7")
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key(None) == "?"


def test_the_limiter_forgets_idle_clients_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "CLIENTS_TRACKED", 10)
    clock = Clock()
    limiter = AttemptLimiter(clock=clock)
    for number in range(9):
        assert limiter.reserve(f"198.51.100.{number}")  # one attempt each: full in 12 s
    clock.now += 11
    while limiter.reserve(ATTACKER):
        pass
    clock.now += 1
    assert limiter.reserve("198.51.100.200")  # the eleventh client: the full ones go
    assert sorted(limiter._buckets) == ["198.51.100.200", ATTACKER]
    assert not limiter.reserve(ATTACKER)  # still limited: its bucket was kept


async def test_a_password_changed_by_a_reload_ends_the_sessions_opened_before(
    tmp_path: Path,
) -> None:
    """Whoever logged in with the old password (an intruder who learnt it) is out once the
    owner changes it; a session opened with the new one works."""
    context = protected(tmp_path, Clock())
    async with client_of(context) as client:
        assert (await logins(client, PASSWORD, 1))[0].status_code == 303
        assert (await client.get("/")).status_code == 200
        changed = config_with(tmp_path, 'listen = "0.0.0.0:8765"\npassword = "a new password 7"')
        context.config = load_config(changed)
        answer = await client.get("/")
        assert answer.status_code == 303
        assert "/login" in answer.headers["location"]
        assert (await logins(client, "a new password 7", 1))[0].status_code == 303
        assert (await client.get("/")).status_code == 200


async def test_a_password_changed_by_a_reload_replaces_the_old_one(tmp_path: Path) -> None:
    context = protected(tmp_path, Clock())
    async with client_of(context) as client:
        assert (await logins(client, PASSWORD, 1))[0].status_code == 303
        changed = config_with(tmp_path, 'listen = "0.0.0.0:8765"\npassword = "a new password 7"')
        context.config = load_config(changed)  # what the daemon's reload gives the dashboard
        assert (await logins(client, PASSWORD, 1))[0].status_code == 401
        assert (await logins(client, "a new password 7", 1))[0].status_code == 303
