"""Politeness proved from a simulated site's log: no stretch of time holds more requests to a
host than its token bucket lets through."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence

from creneau.simulator.server import Hit

MINUTE = 60.0


def assert_within_budget(hits: Sequence[Hit], per_minute: float, burst: int) -> None:
    """No window of any length holds more requests than a token bucket allows."""
    by_host: dict[str, list[float]] = defaultdict(list)
    for hit in hits:
        by_host[hit.host].append(hit.at)
    for host, times in by_host.items():
        times.sort()
        for i, start in enumerate(times):
            for length in (1.0, 10.0, MINUTE, 10 * MINUTE):
                count = bisect.bisect_right(times, start + length) - i
                allowed = burst + per_minute * length / MINUTE + 1e-9
                assert count <= allowed, (
                    f"{host}: {count} requests in {length:g}s from t={start:.1f} "
                    f"(allowed {allowed:.1f})"
                )
