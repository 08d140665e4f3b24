"""How many requests an hour each host's targets need, against what the host's budget
allows: the arithmetic behind the start-up plan of `creneau run`, without any printing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from creneau.host_budget import HostBudget
    from creneau.targets import TargetBase

REQUESTS_PER_CHECK_GUESS = 7.0  # before any check was recorded: a one-desk ezbooking flow


@dataclass(frozen=True)
class HostLoad:
    """One host: its budget, how many targets it serves, and the requests an hour they need."""

    host: str
    budget: HostBudget
    targets: int
    needed: float  # requests an hour

    @property
    def allowed(self) -> float:
        """Requests an hour the budget allows."""
        return self.budget.per_minute * 60

    @property
    def over_budget(self) -> bool:
        return self.needed > self.allowed

    @property
    def slowdown(self) -> float:
        """How many times further apart than configured the checks will be (over budget)."""
        return self.needed / self.allowed


def host_loads(
    targets: Sequence[TargetBase],
    budget_for: Callable[[str], HostBudget],
    requests_per_check: Mapping[str, float],
) -> list[HostLoad]:
    """Each host of `targets`, by name. A target's need is its requests per check (as
    observed, else REQUESTS_PER_CHECK_GUESS) times its checks an hour at its interval."""
    loads = []
    for host in sorted({target.host for target in targets}):
        mine = [target for target in targets if target.host == host]
        needed = sum(
            requests_per_check.get(t.name, REQUESTS_PER_CHECK_GUESS)
            * 3600
            / t.every.total_seconds()
            for t in mine
        )
        loads.append(HostLoad(host, budget_for(host), len(mine), needed))
    return loads
