"""The next release expected for each target, and what the burst of checks at an announced
one costs its host's budget (issue 26): what `creneau status`, `history summary`, `run` at
its start, the dashboard, `/api/v1/targets` and `/metrics` show, decided here once.

The site's word comes first: the announcement the store follows ("Prochaine mise en ligne
de nouveaux rendez-vous : le … à …"), while it is pending and until expected.BURST_SPAN
after its instant (the burst placed at it is over then). One the site withdrew or changed
is ended in the store, and so never shown, even if a check's facts still say it. Without
one, a release learned from the target's history, when a learner is given (`learned`);
otherwise none.

Reading (`read_releases`: the store, once, memoizable) is apart from deciding
(`next_releases`: the clock), so that a page refreshed every 20 s reads nothing new while
no check was recorded."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from creneau import history
from creneau.expected import BURST_SPAN, Announcement, BurstCost, ExpectedRelease, burst_cost
from creneau.learned import learned_release
from creneau.store.dashboard import last_check_id

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.host_budget import HostBudget
    from creneau.store import Store


class LearnRelease(Protocol):
    """A learner (creneau.learned.learned_release has this shape): the release a target's
    pattern expects next, from its past release times (oldest first) and when its history
    starts (`since`: the weeks before are not counted as observed), or None."""

    def __call__(
        self,
        target: str,
        times: Sequence[datetime],
        now: datetime,
        zone: ZoneInfo,
        *,
        since: datetime | None = None,
    ) -> ExpectedRelease | None: ...


# The learner every caller gets unless it passes its own (None: releases are never learned).
LEARNED: LearnRelease | None = learned_release

RECENT_CHECKS = 20  # the checks whose request counts give a burst's requests per check
# Before any check of the target reached its site: a check of a live RDV Préfecture session
# is one request (issue 26), and only RDV Préfecture announces its releases.
REQUESTS_PER_CHECK_UNKNOWN = 1


@dataclass(frozen=True)
class NextRelease:
    """A target's expected release, and for an announced one what its burst costs (None
    when the host's budget was not asked for)."""

    expected: ExpectedRelease
    cost: BurstCost | None = None

    def to_json(self) -> dict[str, Any]:
        found = self.expected.to_json()
        if self.cost is not None:
            found["burst"] = self.cost.to_json()
        return found


@dataclass(frozen=True)
class ReleaseRecords:
    """What the store says of some targets' releases, read at once: the latest
    announcement the store follows (pending, or how it ended), recent checks' request
    counts (newest first), and for a learner past release times (oldest first) and when
    each history starts."""

    announced: Mapping[str, Announcement]
    request_counts: Mapping[str, Sequence[int]]
    release_times: Mapping[str, Sequence[datetime]]
    first_checks: Mapping[str, datetime | None] = field(default_factory=dict)


def read_releases(
    store: Store, names: Sequence[str], *, learning: bool = LEARNED is not None
) -> ReleaseRecords:
    """The records `next_releases` decides from; past release times only when `learning`
    (by default, when a learner is wired in)."""
    announced = store.latest_announcements(names)
    times = {name: history.release_times(store, name) for name in names} if learning else {}
    first = {name: history.first_check(store, name) for name in names} if learning else {}
    return ReleaseRecords(announced, store.request_counts(names, RECENT_CHECKS), times, first)


@dataclass
class ReleaseMemo:
    """The records last read, kept until a check is recorded: a scraper every 15 s reads
    one small query while nothing changed."""

    key: tuple[object, ...] = ()
    records: ReleaseRecords | None = None

    def read(
        self, store: Store, names: Sequence[str], *, learning: bool = LEARNED is not None
    ) -> ReleaseRecords:
        key = (tuple(names), learning, last_check_id(store))
        if self.records is None or key != self.key:
            self.records = read_releases(store, names, learning=learning)
            self.key = key
        return self.records


def next_releases(
    records: ReleaseRecords,
    names: Sequence[str],
    now: datetime,
    zone: ZoneInfo,
    budgets: Mapping[str, HostBudget] | None = None,
    learned: LearnRelease | None = LEARNED,
) -> dict[str, NextRelease | None]:
    """Each named target's next release at `now`: announced (with its burst's cost when
    `budgets` gives the target's host budget), else learned, else None."""
    found: dict[str, NextRelease | None] = {}
    for name in names:
        announced = announced_release(records.announced.get(name), now, zone)
        if announced is not None:
            budget = budgets.get(name) if budgets is not None else None
            found[name] = NextRelease(announced, _cost(announced, records, budget))
        elif learned is not None:
            times, since = records.release_times.get(name, ()), records.first_checks.get(name)
            pattern = learned(name, times, now, zone, since=since)
            found[name] = NextRelease(pattern) if pattern is not None else None
        else:
            found[name] = None
    return found


def expected_releases(
    store: Store, config: Config, now: datetime, learned: LearnRelease | None = LEARNED
) -> dict[str, NextRelease | None]:
    """Each configured target's next release at `now`, with its burst's cost against its
    host's budget (`config.budget_for`), in the config's order."""
    names = [target.name for target in config.targets]
    zone = config.creneau.zone
    return expected_releases_of(store, names, now, zone, budgets_of(config), learned)


def expected_releases_of(
    store: Store,
    names: Sequence[str],
    now: datetime,
    zone: ZoneInfo,
    budgets: Mapping[str, HostBudget] | None = None,
    learned: LearnRelease | None = LEARNED,
) -> dict[str, NextRelease | None]:
    """`next_releases` of these targets, read from the store."""
    records = read_releases(store, names, learning=learned is not None)
    return next_releases(records, names, now, zone, budgets, learned)


def budgets_of(config: Config) -> dict[str, HostBudget]:
    """Each configured target's host budget, by target name."""
    return {target.name: config.budget_for(target.host) for target in config.targets}


def announced_release(
    followed: Announcement | None, now: datetime, zone: ZoneInfo
) -> ExpectedRelease | None:
    """The release the site announced, while it is pending (not released, changed,
    withdrawn or passed) and its burst may still run: until BURST_SPAN after its instant.
    Its instant in `zone` (the store keeps UTC; the API shows the local offset)."""
    if followed is None or followed.outcome != "pending" or followed.at + BURST_SPAN < now:
        return None
    return replace(followed.expected(), at=followed.at.astimezone(zone))


def requests_per_check(counts: Sequence[int]) -> int:
    """The median of recent checks' request counts, rounded up (a burst is not cheaper than
    its checks); REQUESTS_PER_CHECK_UNKNOWN without any."""
    if not counts:
        return REQUESTS_PER_CHECK_UNKNOWN
    return max(1, math.ceil(statistics.median(counts)))


def _cost(
    release: ExpectedRelease, records: ReleaseRecords, budget: HostBudget | None
) -> BurstCost | None:
    if budget is None:
        return None
    need = requests_per_check(records.request_counts.get(release.target, ()))
    return burst_cost(release.at, need, budget)
