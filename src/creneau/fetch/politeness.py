"""The rules of good behaviour towards a site, as pure state machines: the token bucket, the
per-host circuit breaker with its half-open probe, Retry-After deadlines, robots.txt rules.
`http.py` applies them to real requests; the store persists `HostState` (the bucket's level
included) so that a restart, a daemon taking over from another, or a one-shot `creneau check`
honours them too. No I/O here."""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from creneau.details import Detail
from creneau.results import Status

# Why a host cools down: a Detail; a str is what an older version stored (shown as it is),
# "" none.
Reason = Detail | str

BREAKER_FIRST_COOLDOWN = timedelta(minutes=5)
BREAKER_MAX_COOLDOWN = timedelta(hours=2)
BREAKER_JITTER = 0.1  # ± 10 %
FAILURES_BEFORE_COOLDOWN = 3
ROBOTS_MAX_AGE = timedelta(days=1)
ROBOTS_AGENT = "creneau"
FAILED = (Status.ERROR, Status.OVERLOADED)


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

    def level(self) -> float:
        """The tokens held now."""
        self._refill()
        return self.tokens

    def seconds_until_token(self) -> float:
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_second

    def take(self) -> None:
        self._refill()
        self.tokens -= 1

    def restore(self, tokens: float, at: datetime, now: datetime) -> None:
        """Go on from a level saved at `at` (by this process before a restart, or by another
        daemon): refilled for the time since, never beyond capacity; a clock that went
        backwards refills nothing."""
        elapsed = max(0.0, (now - at).total_seconds())
        self.tokens = min(self.capacity, tokens + elapsed * self.per_second)
        self.updated = self.clock()


@dataclass
class HostState:
    """What creneau remembers about a host across checks and restarts."""

    not_before: datetime | None = None  # a Retry-After deadline
    open_until: datetime | None = None  # the breaker is open (cooling down) until then
    reason: Reason = ""
    status: Status = Status.BLOCKED  # what targets report while it cools down
    consecutive_failures: int = 0
    openings: int = 0  # reopenings since it last closed: the cool-down doubles with each
    robots_txt: str | None = None
    robots_fetched_at: datetime | None = None
    bucket_tokens: float | None = None  # the token bucket's level after the last request
    bucket_at: datetime | None = None  # when that was (wall clock)


@dataclass(frozen=True)
class Spend:
    """A request about to leave: what the host's bucket holds once its token is taken, and
    the check it belongs to (its floor key, and when it began). Saved before the request
    goes by a daemon that may be taken over."""

    host: str
    tokens: float
    at: datetime
    target: str
    check_started_at: datetime


@dataclass(frozen=True)
class HostTransition:
    """The breaker opened ("down") or a probe closed it ("up"): worth one alert each."""

    host: str
    kind: str  # "down" | "up"
    status: Status
    reason: Reason
    at: datetime
    until: datetime | None = None


@dataclass(frozen=True)
class Cooling:
    """Why no request may go to the host now, and until when."""

    until: datetime
    reason: Reason
    status: Status


class HostGuard:
    """Applies the breaker and Retry-After rules to one host's `HostState`."""

    def __init__(self, host: str, state: HostState | None = None) -> None:
        self.host = host
        self.state = state or HostState()
        self.probing = False
        self.transitions: list[HostTransition] = []

    def cooling(self, now: datetime, *, starting_check: bool = False) -> Cooling | None:
        """None when a request may go now. The first check after a cool-down is the probe:
        while it runs, other checks wait."""
        state = self.state
        if state.not_before and now < state.not_before:
            return Cooling(
                state.not_before, state.reason or Detail("breaker.retry_after"), state.status
            )
        if state.open_until is None:
            return None
        if now < state.open_until:
            return Cooling(state.open_until, state.reason, state.status)
        if self.probing and starting_check:
            probing = Detail("breaker.probe_running")
            return Cooling(now + timedelta(minutes=1), probing, state.status)
        if starting_check:
            self.probing = True
        return None

    def refused(self, now: datetime, http_status: int, wait: timedelta) -> None:
        """403 or 429: the site says stop. 429's Retry-After is a floor for the cool-down."""
        if http_status == 429 and wait:
            self.state.not_before = now + wait
        self._trip(now, Detail("http_status", status=http_status), Status.BLOCKED, wait)

    def asked_to_wait(self, now: datetime, wait: timedelta, reason: Detail) -> None:
        """A 503 with Retry-After: no request before the deadline, exactly."""
        self.state.not_before = now + wait
        self.state.reason = reason
        self.state.status = Status.OVERLOADED

    def finish_check(self, status: Status, now: datetime) -> None:
        """Feed a check's verdict: failures count, the probe decides, success closes."""
        was_probe, self.probing = self.probing, False
        state = self.state
        if status in FAILED:
            state.consecutive_failures += 1
            if was_probe or state.consecutive_failures >= FAILURES_BEFORE_COOLDOWN:
                reason = (
                    Detail("breaker.probe_failed")
                    if was_probe
                    else Detail("breaker.failures_in_a_row", count=FAILURES_BEFORE_COOLDOWN)
                )
                self._trip(now, reason, status, timedelta(0))
            return
        if status is Status.BLOCKED:
            return  # a refusal already opened the breaker; robots.txt blocks are not faults
        if state.open_until is not None:
            if now < state.open_until:
                return  # another check opened it meanwhile: this one proves nothing
            again = Detail("breaker.answers_again")
            self.transitions.append(HostTransition(self.host, "up", status, again, now))
        state.not_before = None
        state.open_until = None
        state.openings = 0
        state.consecutive_failures = 0
        state.reason = ""

    def _trip(self, now: datetime, reason: Detail, status: Status, at_least: timedelta) -> None:
        state = self.state
        cooldown = min(BREAKER_MAX_COOLDOWN, BREAKER_FIRST_COOLDOWN * 2**state.openings)
        cooldown *= random.uniform(1 - BREAKER_JITTER, 1 + BREAKER_JITTER)
        state.open_until = now + max(cooldown, at_least)
        if state.openings == 0:
            self.transitions.append(
                HostTransition(self.host, "down", status, reason, now, state.open_until)
            )
        state.openings += 1
        state.consecutive_failures = 0
        state.reason = reason
        state.status = status

    def take_transitions(self) -> list[HostTransition]:
        taken, self.transitions = self.transitions, []
        return taken


def retry_after(headers: Mapping[str, str], now: datetime) -> timedelta:
    """Parse Retry-After (seconds or HTTP date); zero when absent or unreadable."""
    value = headers.get("retry-after", "").strip()
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


def robots_allows(robots_txt: str, url: str) -> bool:
    """What the site's robots.txt says of creneau fetching `url` (empty text allows all)."""
    if not robots_txt.strip():
        return True
    from protego import Protego

    return bool(Protego.parse(robots_txt).can_fetch(url, ROBOTS_AGENT))


def robots_is_fresh(state: HostState, now: datetime) -> bool:
    return (
        state.robots_txt is not None
        and state.robots_fetched_at is not None
        and now - state.robots_fetched_at < ROBOTS_MAX_AGE
    )
