"""What every watched target has in common, whatever its booking system; durations; loopback."""

from __future__ import annotations

import ipaddress
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

if TYPE_CHECKING:
    from creneau.schedule import CheckPlan

INTERVAL_FLOOR = timedelta(seconds=60)

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: object) -> timedelta:
    """'90s', '5m', '1h30m', '2d' → timedelta. Anything else raises ValueError."""
    if isinstance(text, timedelta):
        return text
    if not isinstance(text, str):
        raise ValueError(f'expected a duration such as "90s", "5m" or "1h" (got {text!r})')
    compact = text.replace(" ", "").lower()
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise ValueError(f'expected a duration such as "90s", "5m" or "1h" (got "{text}")')
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts))


def format_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size:
            parts.append(f"{whole // size}{unit}")
            whole %= size
    return "".join(parts) or "0s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def is_loopback(url: str) -> bool:
    """True for localhost and 127.0.0.0/8 (and ::1): the simulator and tests live there."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _windows(value: object) -> object:
    from creneau.schedule import Window

    if isinstance(value, list):
        return [Window.parse(item) if isinstance(item, str) else item for item in value]
    return value


Windows = Annotated[list[Any], BeforeValidator(_windows)]


class Burst(BaseModel):
    """Known release times, checked more often: `{ windows = [...], every = "60s" }`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    windows: Windows = Field(min_length=1)
    every: Duration


class TargetBase(BaseModel):
    """Fields every target has. Each booking system adds its own in its source module."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.-]+$")
    system: str  # each source narrows it to its own name
    url: str
    every: Duration = timedelta(minutes=5)
    jitter: Duration = timedelta(seconds=30)
    notify: list[str] = Field(default_factory=list)
    windows: Windows = Field(default_factory=list)  # when to check at all; empty = always
    burst: Burst | None = None
    respect_robots: bool = True
    before: date | None = None  # only slots before this day alert; later ones are kept quiet
    within: Duration | None = None  # only slots within this time from now alert
    on_gone: bool = False  # also alert when slots go, with how long they lasted
    adaptive: bool = False  # check more when this target's slots were released in the past

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
                f"(got {format_duration(every)})"
            )
        if every <= timedelta(0):
            raise ValueError("must be positive")
        return every

    @field_validator("burst")
    @classmethod
    def _burst_floor(cls, burst: Burst | None, info: ValidationInfo) -> Burst | None:
        if burst and burst.every < INTERVAL_FLOOR and not is_loopback(info.data.get("url", "")):
            raise ValueError(
                f"every must be at least {INTERVAL_FLOOR.total_seconds():.0f}s "
                f"(got {format_duration(burst.every)})"
            )
        return burst

    def plan(self, zone: ZoneInfo, adaptive: tuple[timedelta, ...] | None = None) -> CheckPlan:
        from creneau.schedule import CheckPlan

        return CheckPlan(
            adaptive=adaptive if self.adaptive else None,
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
        return (urlsplit(self.url).hostname or "").lower()
