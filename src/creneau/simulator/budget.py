"""A host's requests counted against its budget, from a simulated site's log (e.g.
`RdvPrefecture.request_times()`, or the hits of a server or transport): the most in any
window, and the requests a token bucket of that budget would not have let through."""

from __future__ import annotations

from collections.abc import Sequence

from creneau.host_budget import HostBudget


def most_within(times: Sequence[float], seconds: float) -> int:
    """The most requests in any window of `seconds` (a request `seconds` after another
    falls outside the first one's window)."""
    ordered = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= seconds:
            first += 1
        best = max(best, last - first + 1)
    return best


def over_budget(times: Sequence[float], budget: HostBudget, slack: float = 0.25) -> list[float]:
    """The requests a full bucket of `budget` would have refused: those that make some
    window [t_i, t_j] hold more than `burst` plus what the bucket refills in it (with
    `slack` seconds for the way between the client's clock and the host's). Empty: the
    budget held."""
    rate = budget.per_minute / 60
    tokens, previous, over = float(budget.burst), None, []
    for at in sorted(times):
        if previous is not None:
            tokens = min(float(budget.burst), tokens + rate * (at - previous))
        previous = at
        tokens -= 1
        if tokens < -rate * slack - 1e-9:
            over.append(at)
    return over
