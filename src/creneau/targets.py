"""What every watched target has in common, whatever its booking system; durations; loopback."""

from __future__ import annotations

import ipaddress
import re
from datetime import date, timedelta
from typing import Annotated, Any, NoReturn
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from creneau.dates import compact_duration
from creneau.expected import DEFAULT_PREPARE
from creneau.plan import Aimed, CheckPlan, Window

INTERVAL_FLOOR = timedelta(seconds=60)
# Every duration is bounded when the config is read, so that no absurd value reaches the
# scheduler (APScheduler raises OverflowError past the year 9999, and stops every target).
# A slot lasts minutes to days: a page checked less often than weekly is not watched.
EVERY_CEILING = timedelta(days=7)
# Jitter only keeps watchers from hitting a site in the same second; hours only make checks
# late. It is also at most `every` (the spread is half of it either side of the interval).
JITTER_CEILING = timedelta(hours=6)
DEFAULT_EVERY = timedelta(minutes=5)
DEFAULT_JITTER = timedelta(seconds=30)
# How long before a release its site announced a person is asked to solve the CAPTCHA.
PREPARE_RANGE = (timedelta(seconds=10), timedelta(hours=6))
# A burst is more checks around a release minute: checks an hour apart are not a burst.
BURST_CEILING = timedelta(hours=1)
# No booking system watched here offers slots more than a few months ahead.
WITHIN_RANGE = (timedelta(minutes=1), timedelta(days=366))
# Longer than this, no duration means anything here; it keeps the arithmetic finite.
LONGEST_DURATION = timedelta(days=36600)

# A name is a folder name (kept pages), a URL path segment, a command-line argument and a
# word in alerts: ASCII only (no look-alike letters from another script, no invisible joiner),
# never "." or ".." nor anything starting with a dot (a hidden folder) or a dash (an option).
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]*$"
NAME_MAX_LENGTH = 100
NAME_CHARACTERS = (  # NAME_PATTERN, in a person's words
    "letters without accents, digits, '.', '_' and '-', starting with a letter, a digit or '_'"
)

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SHOWN_CHARACTERS = 40


class DurationTooLong(ValueError):
    """A duration written correctly but longer than any setting allows."""

    def __init__(self, text: str) -> None:
        super().__init__(
            f"is far too long: at most {compact_duration(LONGEST_DURATION)} (got {text})"
        )
        self.text = text


def shown(value: object) -> str:
    """A value from the file as a message shows it: quoted if text, on one line, clipped."""
    if isinstance(value, str):
        return f'"{clipped(value)}"'
    return clipped(repr(value) if isinstance(value, float) else str(value))


def clipped(text: str) -> str:
    """At most a few dozen characters of `text`, on one line."""
    short = text if len(text) <= _SHOWN_CHARACTERS else text[:_SHOWN_CHARACTERS] + "…"
    return one_line(short)


def one_line(text: str) -> str:
    """Control characters (a newline in a TOML string…) written as escapes: one line stays one."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def parse_duration(text: object) -> timedelta:
    """'90s', '5m', '1h30m', '2d' → timedelta. Whatever the text, anything else raises
    ValueError and nothing else (DurationTooLong beyond LONGEST_DURATION, never an overflow)."""
    if isinstance(text, timedelta):
        return text
    if not isinstance(text, str):
        raise ValueError(f'expected a duration such as "90s", "5m" or "1h" (got {shown(text)})')
    compact = text.replace(" ", "").lower()
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise ValueError(f'expected a duration such as "90s", "5m" or "1h" (got {shown(text)})')
    # float() turns a thousand digits into inf, never an error: compare before timedelta().
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if not seconds <= LONGEST_DURATION.total_seconds():
        raise DurationTooLong(clipped(text.strip()))
    return timedelta(seconds=seconds)


class DurationWithin:
    """Parses a duration and refuses it outside [low, high], saying the range. `shown_low`,
    when given, is the low end the message states (the 60s floor of a real site, enforced
    elsewhere because a loopback target may go below it)."""

    def __init__(
        self, low: timedelta, high: timedelta, *, shown_low: timedelta | None = None
    ) -> None:
        self.low, self.high = low, high
        self.shown_low = low if shown_low is None else shown_low

    def __call__(self, value: object) -> timedelta:
        try:
            duration = parse_duration(value)
        except DurationTooLong as too_long:
            self._refuse(too_long.text)
        if not self.low <= duration <= self.high:
            self._refuse(compact_duration(duration))
        return duration

    def _refuse(self, got: str) -> NoReturn:
        low, high = compact_duration(self.shown_low), compact_duration(self.high)
        raise ValueError(f"must be between {low} and {high} (got {got})")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Every = Annotated[
    timedelta,
    BeforeValidator(
        DurationWithin(timedelta(milliseconds=1), EVERY_CEILING, shown_low=INTERVAL_FLOOR)
    ),
]
Jitter = Annotated[timedelta, BeforeValidator(DurationWithin(timedelta(0), JITTER_CEILING))]
BurstEvery = Annotated[
    timedelta,
    BeforeValidator(
        DurationWithin(timedelta(milliseconds=1), BURST_CEILING, shown_low=INTERVAL_FLOOR)
    ),
]
Within = Annotated[timedelta, BeforeValidator(DurationWithin(*WITHIN_RANGE))]
Prepare = Annotated[timedelta, BeforeValidator(DurationWithin(*PREPARE_RANGE))]
Flag = StrictBool  # true or false: "yes", 1 or "false" (which pydantic takes) are mistakes


# The full stops IDNA reads as "." (UTS #46): ideographic, fullwidth, halfwidth ideographic.
_FULL_STOPS = str.maketrans(dict.fromkeys("\u3002\uff0e\uff61", "."))


def host_of(url: str) -> str:
    """The host as the HTTP client connects to it (。．｡ are full stops there, a name is
    IDNA-encoded, a final dot changes nothing): budgets, floors and `[hosts."…"]` settings
    are kept per real host, so writing a link's dots another way buys no second budget."""
    host = (urlsplit(url).hostname or "").translate(_FULL_STOPS).lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host  # never fetched: the client refuses such a link


def is_loopback(url: str) -> bool:
    """True for localhost and 127.0.0.0/8 (and ::1): the simulator and tests live there."""
    host = host_of(url)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _windows(value: object) -> object:
    if isinstance(value, list):
        return [Window.parse(item) if isinstance(item, str) else item for item in value]
    return value


Windows = Annotated[list[Any], BeforeValidator(_windows)]


class Burst(BaseModel):
    """Known release times, checked more often: `{ windows = [...], every = "60s" }`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    windows: Windows = Field(min_length=1)
    every: BurstEvery


class TargetBase(BaseModel):
    """Fields every target has. Each booking system adds its own in its source module."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH, pattern=NAME_PATTERN)
    system: str  # each source narrows it to its own name
    url: str
    every: Every = DEFAULT_EVERY
    jitter: Jitter = DEFAULT_JITTER  # unless written: at most `every` (see _default_jitter)
    notify: list[str] = Field(default_factory=list)
    windows: Windows = Field(default_factory=list)  # when to check at all; empty = always
    burst: Burst | None = None
    respect_robots: Flag = True
    before: date | None = None  # only slots before this day alert; later ones are kept quiet
    within: Within | None = None  # only slots within this time from now alert
    on_gone: Flag = False  # also alert when slots go, with how long they lasted
    adaptive: Flag = False  # check more when this target's slots were released in the past
    prepare: Prepare = DEFAULT_PREPARE  # the CAPTCHA alert's lead before an announced release
    paused: Flag = False  # kept in the config, not checked (creneau pause/resume)
    # Added through the dashboard: every request of its checks passes the SSRF guard, as
    # when it was previewed ([web] allow_private_targets lifts the address check).
    guarded: Flag = False

    @model_validator(mode="before")
    @classmethod
    def _default_jitter(cls, data: Any) -> Any:
        """Unless written, jitter is 30s, or `every` when shorter (a simulator checked every
        2s): a jitter longer than `every` is a mistake only when the user wrote it."""
        if not isinstance(data, dict) or "jitter" in data:
            return data
        try:
            every = parse_duration(data.get("every", DEFAULT_EVERY))
        except ValueError:
            return data  # `every` reports its own mistake
        return {**data, "jitter": min(DEFAULT_JITTER, every)}

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f'must be an http(s) URL (got "{url}")')
        return url

    @field_validator("every")
    @classmethod
    def _floor(cls, every: timedelta, info: ValidationInfo) -> timedelta:
        url = info.data.get("url", "")
        if every < INTERVAL_FLOOR and not is_loopback(url):
            raise ValueError(
                f"must be at least {INTERVAL_FLOOR.total_seconds():.0f}s "
                f"(got {compact_duration(every)})"
            )
        return every

    @field_validator("jitter")
    @classmethod
    def _jitter_within_every(cls, jitter: timedelta, info: ValidationInfo) -> timedelta:
        every = info.data.get("every")
        if isinstance(every, timedelta) and jitter > every:
            raise ValueError(
                f"must be at most every ({compact_duration(every)}): checks come every "
                f"{compact_duration(every)} give or take half the jitter "
                f"(got {compact_duration(jitter)})"
            )
        return jitter

    @field_validator("burst")
    @classmethod
    def _burst_floor(cls, burst: Burst | None, info: ValidationInfo) -> Burst | None:
        if burst and burst.every < INTERVAL_FLOOR and not is_loopback(info.data.get("url", "")):
            raise ValueError(
                f"every must be at least {INTERVAL_FLOOR.total_seconds():.0f}s "
                f"(got {compact_duration(burst.every)})"
            )
        every = info.data.get("every")
        if burst and isinstance(every, timedelta) and burst.every >= every:
            raise ValueError(
                f"every must be shorter than the target's every ({compact_duration(every)}): "
                f"a burst checks more often (got {compact_duration(burst.every)})"
            )
        return burst

    def plan(
        self,
        zone: ZoneInfo,
        adaptive: tuple[timedelta, ...] | None = None,
        aimed: Aimed | None = None,
    ) -> CheckPlan:
        return CheckPlan(
            adaptive=adaptive if self.adaptive else None,
            aimed=aimed if self.adaptive else None,
            every=self.every,
            jitter=self.jitter,
            zone=zone,
            windows=tuple(self.windows),
            burst_windows=tuple(self.burst.windows) if self.burst else (),
            burst_every=self.burst.every if self.burst else None,
            floor=timedelta(0) if is_loopback(self.url) else INTERVAL_FLOOR,
        )

    @property
    def host(self) -> str:
        return host_of(self.url)
