"""What an alert is, named once: the kinds a channel may take (the config's `kinds`, the
outbox rows, the routing), an event to tell, and where it goes. Below the store, which
keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from creneau.url_keys import url_key

AlertKind = Literal["slots", "trouble", "heartbeat"]
KINDS: tuple[AlertKind, ...] = get_args(AlertKind)
ALL_KINDS: frozenset[str] = frozenset(KINDS)


@dataclass(frozen=True)
class Destination:
    """Where an outbox row goes: a channel name and one of its URLs (held by the config),
    for the kinds of alert the channel takes."""

    channel: str
    url: str
    kinds: frozenset[str] = ALL_KINDS

    @property
    def key(self) -> str:
        return url_key(self.url)

    @property
    def label(self) -> str:
        return self.url.split("://", 1)[0][:40] + "://"


@dataclass(frozen=True)
class OutboxEvent:
    """Something to tell: `event` is a JSON-able mapping with an "event" name, rendered by
    `messages.py` only when it is sent."""

    target: str
    kind: str  # slots | trouble | heartbeat
    event: dict[str, Any]
