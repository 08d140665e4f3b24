"""`/metrics` for Prometheus: one collector, in a registry of its own, that reads the store
and the daemon's live state at each scrape (on the dashboard's database thread), so that a
target removed from or renamed in the config leaves no series behind: only the targets, hosts
and channels of the current config are shown. Labels are names (target, host, channel,
status, kind, state, HTTP code), never a URL, a slot time or a notification address.

What each counter counts:
- `creneau_checks_total{target,status}`: every check recorded, raw ones and those retention
  rolled into hourly counts alike (so the same in a new process); every status at 0 from
  the start.
- `creneau_check_duration_seconds{target}`: the checks whose duration is known (raw checks;
  a rolled-up check keeps none), see DURATION_BUCKETS.
- `creneau_http_requests_total{host,code}`: the requests the checks of the host's targets
  made, labelled with the HTTP status of each check's deciding answer (the store keeps one
  status per check, not per request); `code="none"`: the check got no HTTP answer (network
  error, timeout); `code="unknown"`: checks rolled up before this process first counted,
  whose statuses were not kept.
- `creneau_notifications_sent_total{channel,kind}`: alerts sent, by when they were sent.
- `creneau_leader{instance}`: 1 for the active daemon, 0 for each one standing by ("host:pid",
  the daemons seen on this database in the last few seconds: a stopped one leaves no series).
- `creneau_takeovers_total`: terms begun by a standby after the active daemon was lost (its
  lease lapsed), kept in the database: the same whichever daemon is scraped.
These four are read from rows that retention deletes (see RunningTotal): rows older than a
horizon an hour or two back are counted once, the newer ones at each scrape (a few index
ranges per target), so a roll-up never lowers a counter while this process runs.

And a gauge: `creneau_next_release_timestamp_seconds{target,source}`, when the target's
slots are expected next, `source` "announced" (its site said so) or "learned" (its history);
no series for a target with none known."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from prometheus_client import generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from creneau import __version__
from creneau.results import Status
from creneau.store import LeadershipView, Store
from creneau.store import metrics as queries
from creneau.usecases.releases import ReleaseMemo
from creneau.web.context import WebContext

if TYPE_CHECKING:
    from creneau.expected import ExpectedRelease
    from creneau.fetch.politeness import HostState

# A check is one to a dozen polite, sequential requests to a public booking site: a "no slot"
# page comes back in a few hundred milliseconds, a calendar read week by week in a few
# seconds, and each request gives up after 30 s (the client's request timeout). So the
# buckets are dense below 5 s, where a site slowing down shows first, with an edge at that
# timeout and one at twice it for a check that waited on more than one slow request.
DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
STATUSES = tuple(status.value for status in Status)
NO_ANSWER = "none"  # the code label of checks that got no HTTP answer
NOT_KEPT = "unknown"  # the code label of rolled-up requests
SETTLED = timedelta(hours=1)  # a check is recorded well within this after it started
RECOUNT = timedelta(hours=1)  # how far the horizon lags before it moves on

Key = tuple[str, str]


# --- running totals over rows that retention deletes ------------------------------------------

Count = Callable[[Store, Sequence[str], queries.Period], Counter[Key]]


@dataclass
class RunningTotal:
    """A counter per subject (a target, a channel: the first part of each key) read from
    rows that retention deletes. `count(store, subjects, period)` counts the subjects' rows
    whose moment is in the period, and for a period open to the past adds what the hourly
    roll-up kept of them. Rows before a subject's horizon are counted once into `carried`;
    rows since then are recounted at each read, a few index ranges. The horizon follows the
    clock SETTLED to SETTLED + RECOUNT behind it, far from the retention cut-off (a day at
    least): a roll-up only ever takes rows already carried, so it lowers no total. A subject
    the config no longer has is forgotten: back later, it is counted afresh."""

    count: Count
    horizons: dict[str, datetime] = field(default_factory=dict)
    carried: Counter[Key] = field(default_factory=Counter)

    def read(self, store: Store, subjects: Sequence[str], now: datetime) -> Counter[Key]:
        self._forget_all_but(subjects)
        settled = now - SETTLED
        new = [subject for subject in subjects if subject not in self.horizons]
        due = [s for s in subjects if s in self.horizons and settled - self.horizons[s] >= RECOUNT]
        # Counted first, kept after: a database error halfway leaves the totals as they were.
        settling = self.count(store, new, queries.Period(until=settled)) if new else Counter()
        for since, group in _grouped(due, self.horizons):
            settling.update(self.count(store, group, queries.Period(since, settled)))
        horizons = {**self.horizons, **dict.fromkeys([*new, *due], settled)}
        total = self.carried + settling
        for since, group in _grouped(subjects, horizons):
            total.update(self.count(store, group, queries.Period(since=since)))
        self.carried.update(settling)
        self.horizons = horizons
        return total

    def _forget_all_but(self, subjects: Sequence[str]) -> None:
        kept = set(subjects)
        for subject in set(self.horizons) - kept:
            del self.horizons[subject]
        for key in [key for key in self.carried if key[0] not in kept]:
            del self.carried[key]


def _grouped(
    subjects: Iterable[str], horizons: Mapping[str, datetime]
) -> list[tuple[datetime, list[str]]]:
    """The subjects by horizon: one query per group."""
    groups: dict[datetime, list[str]] = {}
    for subject in subjects:
        groups.setdefault(horizons[subject], []).append(subject)
    return sorted(groups.items())


def _checks(store: Store, targets: Sequence[str], period: queries.Period) -> Counter[Key]:
    """(target, status): checks, raw and (open to the past) rolled up."""
    found: Counter[Key] = Counter()
    for line in queries.check_counts(store, targets, period):
        found[line.target, line.status] += line.checks
    return found


def _durations(store: Store, targets: Sequence[str], period: queries.Period) -> Counter[Key]:
    """(target, "le<i>"): checks at most DURATION_BUCKETS[i]; (target, "count"),
    (target, "sum_ms"). Raw checks only: a rolled-up one keeps no duration."""
    bounds = [round(bound * 1000) for bound in DURATION_BUCKETS]
    found: Counter[Key] = Counter()
    for line in queries.checks_by_duration(store, targets, bounds, period):
        for index, checks in enumerate(line.at_most):
            found[line.target, f"le{index}"] += checks
        found[line.target, "count"] += line.count
        found[line.target, "sum_ms"] += line.total_ms
    return found


def _requests(store: Store, targets: Sequence[str], period: queries.Period) -> Counter[Key]:
    """(target, code): requests; open to the past, with the rolled-up ones as NOT_KEPT."""
    found: Counter[Key] = Counter()
    for line in queries.requests_by_status(store, targets, period):
        code = NO_ANSWER if line.http_status is None else str(line.http_status)
        found[line.target, code] += line.requests
    if period.since is None:
        for target, requests in queries.rolled_up_requests(store, targets).items():
            found[target, NOT_KEPT] += requests
    return found


def _sent(store: Store, channels: Sequence[str], period: queries.Period) -> Counter[Key]:
    """(channel, kind): alerts sent (those retention forgot are gone from the outbox)."""
    found: Counter[Key] = Counter()
    for line in queries.sent_notifications(store, channels, period):
        found[line.channel, line.kind] += line.sent
    return found


# --- what one scrape reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveView:
    """What the running daemon knows, copied on the event loop before the scrape: when each
    target is checked next (None under `creneau web`: the store's plan then) and how late
    its most overdue check is."""

    next_checks: Mapping[str, datetime | None] | None = None
    lag_seconds: float = 0.0


@dataclass(frozen=True)
class ConfiguredTarget:
    name: str
    host: str


@dataclass(frozen=True)
class Reading:
    """Everything one scrape shows, read at once."""

    now: datetime
    targets: tuple[ConfiguredTarget, ...]
    channels: Mapping[str, tuple[str, ...]]  # configured channel → the kinds it takes
    checks: Mapping[Key, int]
    durations: Mapping[Key, int]
    last_checks: Mapping[str, datetime]
    next_checks: Mapping[str, datetime | None]
    open_slots: Mapping[str, int]
    releases: Mapping[str, int]
    hosts: Mapping[str, HostState]
    requests: Mapping[Key, int]
    outbox: queries.OutboxState
    sent: Mapping[Key, int]
    lag_seconds: float
    leadership: LeadershipView | None = None  # None: not read (an older database)
    next_releases: Mapping[str, ExpectedRelease] = field(default_factory=dict)  # known ones

    @property
    def host_names(self) -> list[str]:
        return sorted({target.host for target in self.targets})


class StoreCollector(Collector):
    """Reads the store at each scrape; `exposition` runs on the dashboard's database thread
    (one thread: scrapes never overlap), `collect` is called from it by prometheus_client."""

    def __init__(self, context: WebContext) -> None:
        self.context = context
        self.registry = CollectorRegistry(auto_describe=False)
        self.checks = RunningTotal(_checks)
        self.durations = RunningTotal(_durations)
        self.requests = RunningTotal(_requests)
        self.sent = RunningTotal(_sent)
        self._live = LiveView()
        self._release_inputs: queries.ReleaseInputs | None = None
        self._releases: Counter[str] = Counter()
        self._release_records = ReleaseMemo()
        self.registry.register(self)

    def exposition(self, live: LiveView) -> bytes:
        self._live = live
        return generate_latest(self.registry)

    def collect(self) -> Iterator[Metric]:
        return iter(families(self.read()))

    def read(self) -> Reading:
        store, now, config = self.context.store, self.context.now(), self.context.config
        names = [target.name for target in config.targets]
        channels = [channel.name for channel in config.notify]
        next_checks = self._live.next_checks
        if next_checks is None:
            next_checks = store.next_checks()
        return Reading(
            now=now,
            targets=tuple(ConfiguredTarget(t.name, t.host) for t in config.targets),
            channels={channel.name: tuple(channel.kinds) for channel in config.notify},
            checks=self.checks.read(store, names, now),
            durations=self.durations.read(store, names, now),
            last_checks=queries.last_check_times(store, names),
            next_checks=next_checks,
            open_slots=queries.open_slot_counts(store),
            releases=self.release_counts(store),
            hosts=store.host_states(),
            requests=self.requests.read(store, names, now),
            outbox=queries.outbox_state(store),
            sent=self.sent.read(store, channels, now),
            lag_seconds=self._live.lag_seconds,
            leadership=store.leadership(),
            next_releases=self.next_releases(store, names, now),
        )

    def next_releases(
        self, store: Store, names: Sequence[str], now: datetime
    ) -> dict[str, ExpectedRelease]:
        """The targets whose next release is known, and it (its cost is not a metric)."""
        from creneau.usecases.releases import next_releases

        records = self._release_records.read(store, names)
        found = next_releases(records, names, now, self.context.config.creneau.zone)
        return {name: release.expected for name, release in found.items() if release is not None}

    def release_counts(self, store: Store) -> Counter[str]:
        """Releases per target (as `creneau history releases` finds them), computed again
        only when what they are computed from changed."""
        from creneau import history

        inputs = queries.release_inputs(store)
        if inputs != self._release_inputs:
            self._releases = Counter(release.target for release in history.releases(store))
            self._release_inputs = inputs
        return self._releases


# --- the families ---------------------------------------------------------------------------------


def families(reading: Reading) -> list[Metric]:
    """The exposition of a reading: exactly these families, in this order."""
    return [
        _checks_family(reading),
        _durations_family(reading),
        _per_target(
            GaugeMetricFamily(
                "creneau_last_check_timestamp_seconds",
                "When the target was last checked (Unix time); absent: never.",
                labels=["target"],
            ),
            reading,
            lambda name: _timestamp(reading.last_checks.get(name)),
        ),
        _per_target(
            GaugeMetricFamily(
                "creneau_next_check_timestamp_seconds",
                "When the target is checked next (Unix time); absent: not planned.",
                labels=["target"],
            ),
            reading,
            lambda name: _timestamp(reading.next_checks.get(name)),
        ),
        _next_release_family(reading),
        _per_target(
            GaugeMetricFamily(
                "creneau_slots_available",
                "Slots shown at the target's last clear answer and not gone since.",
                labels=["target"],
            ),
            reading,
            lambda name: reading.open_slots.get(name, 0),
        ),
        _per_target(
            CounterMetricFamily(
                "creneau_releases_total",
                "Releases seen (slots first seen after a clear answer that did not show them).",
                labels=["target"],
            ),
            reading,
            lambda name: reading.releases.get(name, 0),
        ),
        *_hosts(reading),
        _requests_family(reading),
        _outbox(reading),
        _sent_family(reading),
        GaugeMetricFamily(
            "creneau_outbox_oldest_pending_age_seconds",
            "Age of the oldest alert waiting to be sent (not held for quiet hours); 0: none.",
            value=_age(reading.outbox.oldest_pending, reading.now),
        ),
        GaugeMetricFamily(
            "creneau_scheduler_lag_seconds",
            "How late the most overdue check is (0 when none is, and under `creneau web`).",
            value=reading.lag_seconds,
        ),
        *_leadership(reading),
        _build_info(),
    ]


def _checks_family(reading: Reading) -> Metric:
    family = CounterMetricFamily(
        "creneau_checks_total",
        "Checks recorded, per status (raw and rolled up into hourly counts alike).",
        labels=["target", "status"],
    )
    for target in reading.targets:
        for status in STATUSES:
            family.add_metric([target.name, status], reading.checks.get((target.name, status), 0))
    return family


def _durations_family(reading: Reading) -> Metric:
    family = HistogramMetricFamily(
        "creneau_check_duration_seconds",
        "How long checks took (checks still kept raw: rolled-up ones keep no duration).",
        labels=["target"],
    )
    for target in reading.targets:
        counts = reading.durations
        buckets = [
            (str(float(bound)), counts.get((target.name, f"le{index}"), 0))
            for index, bound in enumerate(DURATION_BUCKETS)
        ]
        buckets.append(("+Inf", counts.get((target.name, "count"), 0)))
        total = counts.get((target.name, "sum_ms"), 0) / 1000
        family.add_metric([target.name], buckets, sum_value=total)
    return family


def _per_target(
    family: GaugeMetricFamily | CounterMetricFamily,
    reading: Reading,
    value: Callable[[str], float | None],
) -> Metric:
    for target in reading.targets:
        found = value(target.name)
        if found is not None:
            family.add_metric([target.name], found)
    return family


def _next_release_family(reading: Reading) -> Metric:
    family = GaugeMetricFamily(
        "creneau_next_release_timestamp_seconds",
        "When the target's slots are expected next (Unix time): announced by its site, or "
        "learned from its history (source); absent: none known.",
        labels=["target", "source"],
    )
    for target in reading.targets:
        release = reading.next_releases.get(target.name)
        if release is not None:
            family.add_metric([target.name, release.source], release.at.timestamp())
    return family


def _hosts(reading: Reading) -> Iterable[Metric]:
    blocked = GaugeMetricFamily(
        "creneau_host_blocked",
        "1 while creneau keeps away from the host (cooling down after a refusal, or a "
        "Retry-After), else 0.",
        labels=["host"],
    )
    until = GaugeMetricFamily(
        "creneau_host_cooldown_until_timestamp_seconds",
        "When the host's cool-down or Retry-After ends (Unix time); 0: none.",
        labels=["host"],
    )
    for host in reading.host_names:
        ends = _cooling_until(reading.hosts.get(host), reading.now)
        blocked.add_metric([host], 1 if ends else 0)
        until.add_metric([host], ends.timestamp() if ends else 0)
    return blocked, until


def _cooling_until(state: HostState | None, now: datetime) -> datetime | None:
    if state is None:
        return None
    ends = [at for at in (state.open_until, state.not_before) if at is not None and at > now]
    return max(ends, default=None)


def _requests_family(reading: Reading) -> Metric:
    family = CounterMetricFamily(
        "creneau_http_requests_total",
        "Requests the checks made, by the HTTP status of each check's deciding answer "
        "(none: no answer; unknown: rolled up, status not kept).",
        labels=["host", "code"],
    )
    host_of = {target.name: target.host for target in reading.targets}
    per_host: Counter[Key] = Counter()
    for (target, code), requests in reading.requests.items():
        if target in host_of:
            per_host[host_of[target], code] += requests
    for (host, code), requests in sorted(per_host.items()):
        family.add_metric([host, code], requests)
    return family


def _outbox(reading: Reading) -> Metric:
    family = GaugeMetricFamily(
        "creneau_outbox_notifications",
        "Alerts in the outbox, per state.",
        labels=["state"],
    )
    for state, rows in reading.outbox.rows.items():
        family.add_metric([state], rows)
    return family


def _sent_family(reading: Reading) -> Metric:
    family = CounterMetricFamily(
        "creneau_notifications_sent_total",
        "Alerts sent, per configured channel and kind.",
        labels=["channel", "kind"],
    )
    shown: Counter[Key] = Counter()
    for channel, kinds in reading.channels.items():
        for kind in kinds:
            shown[channel, kind] += 0
    for (channel, kind), sent in reading.sent.items():
        if channel in reading.channels:
            shown[channel, kind] += sent
    for (channel, kind), sent in sorted(shown.items()):
        family.add_metric([channel, kind], sent)
    return family


def _leadership(reading: Reading) -> Iterable[Metric]:
    leader = GaugeMetricFamily(
        "creneau_leader",
        "1 for the daemon that checks and sends, 0 for each one standing by.",
        labels=["instance"],
    )
    takeovers = CounterMetricFamily(
        "creneau_takeovers_total",
        "Times a standby took over after the active daemon was lost (its lease lapsed).",
    )
    view = reading.leadership
    if view is not None:
        active = view.active
        if active is not None and active.instance:
            leader.add_metric([active.instance], 1)
        for seen in view.standbys:
            leader.add_metric([seen.instance], 0)
    takeovers.add_metric([], view.leader.takeovers if view is not None else 0)
    return leader, takeovers


def _build_info() -> Metric:
    family = GaugeMetricFamily(
        "creneau_build_info", "The running creneau's version (always 1).", labels=["version"]
    )
    family.add_metric([__version__], 1)
    return family


def _timestamp(at: datetime | None) -> float | None:
    return at.timestamp() if at is not None else None


def _age(since: datetime | None, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


# --- the route ------------------------------------------------------------------------------------


def live_view(context: WebContext) -> LiveView:
    if context.live is None:
        return LiveView()
    return LiveView(dict(context.live.next_checks()), context.live.scheduler_lag_seconds())
