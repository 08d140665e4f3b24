"""The kinds of alert a channel may take, named once: the config's `kinds`, the outbox rows
and the routing all use these."""

from __future__ import annotations

from typing import Literal, get_args

AlertKind = Literal["slots", "trouble", "heartbeat"]
KINDS: tuple[AlertKind, ...] = get_args(AlertKind)
ALL_KINDS: frozenset[str] = frozenset(KINDS)
