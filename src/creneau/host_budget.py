"""How many requests a host may take: a rate and a burst. Named here, below the stages, for
the config (`[hosts]`), the booking systems (their known hosts' limits) and the polite client
that spends it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HostBudget:
    per_minute: float = 6.0
    burst: int = 10
