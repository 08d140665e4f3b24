"""Requests and responses of the simulated sites, independent of sockets. A simulated site
is any object with `handles(path) -> bool` and `handle(request) -> Response`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str = ""
    host: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def parse_form(body: bytes) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}

    @property
    def params(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.query).items()}


@dataclass
class Response:
    status: int
    body: str | bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    set_cookies: dict[str, str] = field(default_factory=dict)


class Site(Protocol):
    def handles(self, path: str) -> bool: ...

    def handle(self, request: Request) -> Response: ...


@runtime_checkable
class ControlledSite(Site, Protocol):
    """A site the simulator's own controls drive (`/_sim/release`, `/_sim/take`,
    `/_sim/behaviour`), and whose index the root address shows."""

    def release(self, booking_id: str, desk_id: str, count: int) -> list[int]: ...

    def take(self, booking_id: str, desk_id: str, count: int = 0) -> None: ...

    def set_behaviour(self, booking_id: str, behaviour: str) -> None: ...

    def index(self) -> Response: ...
