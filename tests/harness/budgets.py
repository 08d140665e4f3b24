"""Politeness proved from a simulated site's log: no stretch of time holds more requests to a
host than its token bucket lets through."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator, Sequence

from creneau.host_budget import HostBudget
from creneau.simulator.server import Hit

MINUTE = 60.0
LENGTHS = (1.0, 10.0, MINUTE, 10 * MINUTE)


def excesses(hits: Sequence[Hit], budget: HostBudget) -> Iterator[str]:
    """Each stretch (of LENGTHS, from each request) holding more requests to a host than
    `budget` allows, in words."""
    by_host: dict[str, list[float]] = defaultdict(list)
    for hit in hits:
        by_host[hit.host].append(hit.at)
    for host, times in by_host.items():
        times.sort()
        for i, start in enumerate(times):
            for length in LENGTHS:
                count = bisect.bisect_right(times, start + length) - i
                allowed = budget.burst + budget.per_minute * length / MINUTE + 1e-9
                if count > allowed:
                    yield (
                        f"{host}: {count} requests in {length:g}s from t={start:.1f} "
                        f"(allowed {allowed:.1f})"
                    )


def over_budget(hits: Sequence[Hit], budget: HostBudget) -> int:
    return sum(1 for _ in excesses(hits, budget))


def assert_within_budget(hits: Sequence[Hit], per_minute: float, burst: int) -> None:
    """No window of any length holds more requests than a token bucket allows."""
    found = next(excesses(hits, HostBudget(per_minute, burst)), None)
    assert found is None, found
