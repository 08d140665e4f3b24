"""What an alert is, named once: the kinds a channel may take (the config's `kinds`, the
outbox rows, the routing), an event to tell, and where it goes. Below the store, which
keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from creneau.url_keys import url_key

AlertKind = Literal["slots", "trouble", "heartbeat", "release_announced"]
KINDS: tuple[AlertKind, ...] = get_args(AlertKind)
# Kinds a channel takes only when its `kinds` lists them: the releases a site announces (one
# message per announcement, and when it changes or is withdrawn) are news to some, noise to
# others.
RELEASE_ANNOUNCED: AlertKind = "release_announced"
OPT_IN_KINDS: frozenset[str] = frozenset({RELEASE_ANNOUNCED})
DEFAULT_KINDS: tuple[AlertKind, ...] = tuple(k for k in KINDS if k not in OPT_IN_KINDS)
TAKEN_BY_DEFAULT: frozenset[str] = frozenset(DEFAULT_KINDS)


@dataclass(frozen=True)
class Destination:
    """Where an outbox row goes: a channel name and one of its URLs (held by the config),
    for the kinds of alert the channel takes."""

    channel: str
    url: str
    kinds: frozenset[str] = TAKEN_BY_DEFAULT

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
    kind: str  # an AlertKind
    event: dict[str, Any]
