"""Questions answered from the store alone: when slots are released, how long they stay, how
often the site was even reachable, and when it is worth checking.

Definitions (the `creneau history` commands' help refers to them):

- A *release* is the set of slots first seen in one check of one target at one guichet,
  when an earlier check of the target got a clear answer (`available` or `none`) that did not
  show them. It happened between that last clear check (`previous_check_at`) and `seen_at`
  (`slots.first_seen`). Slots seen at the target's first clear answer were already there: a
  *first sighting*, in no statistic (releases, heatmap, summary, lifetimes, adaptive polling).
  A check that was blocked, failed or not understood saw nothing, so a release seen after a
  run of them is known only since the clear check before the run (see "The check before a
  release" below for what the store tells after old checks are rolled up).
- An *observation hour* is a UTC clock hour in which the target was checked at least once
  with a clear answer (`available` or `none`): only such a check could have seen a release,
  so an hour spent blocked or failing is not counted as "no release". Read from raw `checks`
  and from the hourly roll-up `check_hours` alike; an hour in either (or split between both)
  counts once. An hour in which a release was seen is always an observation hour.
- A release is *placed* in the hour it was seen when its time is known within PRECISE_WITHIN
  (an hour): one seen after a longer blind stretch (a blocked run, a night outside the
  target's windows) may have happened in any hour of it, so the heatmap and the typical hours
  count it apart (`unplaced`), as the recommendation leaves it out.
- A *heatmap cell* is a local weekday × local hour (the configured zone) of an hour's start.
  Each real hour counts once: in autumn the repeated 02:00 adds two hours to its cell, in
  spring the skipped 02:00 adds none. Its *probability* is (observation hours with at least
  one placed release) / (observation hours); over several targets, target-hours are counted.
- A slot's *lifetime* is `first_seen` → `gone_at`. A slot without `gone_at` (still shown, or
  the checks stopped) is *censored*: counted, never in the median or p90, which are computed
  on the slots that went (p90 interpolates linearly between ranks).
- *Uptime* is the share of checks per status per local day.
- Periods: releases and lifetimes take `since <= first_seen < until`; the hourly queries take
  the whole UTC hours whose start is in the period, so raw and rolled-up checks agree.

Aggregation happens in SQL as index probes: one per target and hour (is there a clear answer?)
and one per target, local day and status (how many checks?), so that no check is ever sorted
or parsed in Python; Python only maps the resulting hours to local time. On SQLite the counts
need the index on checks(target, status, started_at) to stay under a second for a year of
checks (see bench/history.py)."""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    Integer,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    true,
    type_coerce,
    values,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from creneau.dates import SHORT_WEEKDAYS, window_length
from creneau.results import Status
from creneau.store import Store
from creneau.store.schema import CheckHourRow, CheckRow, SlotRow, UTCDateTime

HOUR = timedelta(hours=1)
CLEAR = (Status.AVAILABLE.value, Status.NONE.value)
STATUSES = tuple(status.value for status in Status)
DAYS_PER_QUERY = 1000  # keeps a query's bound parameters far below every database's limit
MMAP_BYTES = 1 << 30  # SQLite only maps what it reads: an upper bound, not an allocation

# The recommendation: releases whose time is known within this are used; below these
# amounts of data there is "not enough data"; windows must cover this share of them, and a
# set of windows longer than MAX_WINDOWS in all is no pattern at all.
PRECISE_WITHIN = timedelta(hours=1)
MIN_RELEASES = 5
MIN_OBSERVED_DAYS = 7
COVER = 0.8
QUARTER_MINUTES = 15
MAX_WINDOWS = timedelta(hours=4)

T = TypeVar("T")
Columns = TypeVarTuple("Columns")


# --- scope -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a query looks at: a period (`until` excluded), a target, a guichet (id or label)."""

    since: datetime | None = None
    until: datetime | None = None
    target: str | None = None
    guichet: str | None = None

    def whole_hours(self) -> Scope:
        """The same scope over the whole UTC hours whose start is in the period."""
        return replace(
            self,
            since=ceil_hour(self.since) if self.since else None,
            until=ceil_hour(self.until) if self.until else None,
        )


EVERYTHING = Scope()


def floor_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(at: datetime) -> datetime:
    floor = floor_hour(at)
    return floor if floor == at else floor + HOUR


def epoch_hour(at: datetime) -> int:
    """Hours since 1970-01-01 00:00 UTC: a cheap key for a UTC hour."""
    return int(at.timestamp()) // 3600


def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * 3600, UTC)


def quantile(durations: Sequence[timedelta], q: float) -> timedelta | None:
    """The q-quantile, interpolating linearly between ranks (numpy's default); None if empty."""
    if not durations:
        return None
    ordered = sorted(durations)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _slots_in(query: Select[*Columns], scope: Scope) -> Select[*Columns]:
    if scope.since:
        query = query.where(SlotRow.first_seen >= scope.since)
    if scope.until:
        query = query.where(SlotRow.first_seen < scope.until)
    if scope.target:
        query = query.where(SlotRow.target == scope.target)
    if scope.guichet:
        query = query.where(
            or_(SlotRow.guichet_id == scope.guichet, SlotRow.guichet == scope.guichet)
        )
    return query


@contextmanager
def _reading(store: Store) -> Iterator[Connection]:
    """A connection for the history queries: Core rows (the ORM's work per row is wasted on
    plain values), and on SQLite the file read through a memory map, since the queries probe
    an index thousands of times and a probe then costs a page lookup, not a system call."""
    with store.read() as session:
        db = session.connection()
        if db.dialect.name == "sqlite":
            db.execute(text(f"PRAGMA mmap_size={MMAP_BYTES}"))
        yield db


# --- releases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """Slots first seen in one check at one guichet. The release happened between
    `previous_check_at` (the last check with a clear answer, which did not show them; the
    start of its hour when only hourly counts tell) and `seen_at`."""

    target: str
    guichet_id: str
    guichet: str
    seen_at: datetime
    previous_check_at: datetime | None
    slot_starts: tuple[datetime, ...]
    slot_gone_at: tuple[datetime | None, ...] = ()  # per slot; None: still shown (censored)

    @property
    def slot_count(self) -> int:
        return len(self.slot_starts)

    @property
    def uncertainty(self) -> timedelta | None:
        """How long the release may have happened before `seen_at` (None: unknown)."""
        return self.seen_at - self.previous_check_at if self.previous_check_at else None

    @property
    def precise(self) -> bool:
        return self.uncertainty is not None and self.uncertainty <= PRECISE_WITHIN

    @property
    def all_gone_after(self) -> timedelta | None:
        """How long until its last slot went; None while one is still shown."""
        if not self.slot_gone_at or None in self.slot_gone_at:
            return None
        return max(gone for gone in self.slot_gone_at if gone) - self.seen_at

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "guichet": self.guichet,
            "guichet_id": self.guichet_id,
            "seen_at": self.seen_at.isoformat(),
            "previous_check_at": self.previous_check_at.isoformat()
            if self.previous_check_at
            else None,
            "slot_count": self.slot_count,
            "slots": [start.isoformat() for start in self.slot_starts],
        }


def releases(store: Store, scope: Scope = EVERYTHING) -> list[Release]:
    """Every release in the scope, oldest first (first sightings left out)."""
    query = _slots_in(
        select(
            SlotRow.target,
            SlotRow.guichet_id,
            SlotRow.guichet,
            _bulk_utc(SlotRow.first_seen),
            _bulk_utc(SlotRow.start),
            _bulk_utc(SlotRow.gone_at),
        ),
        scope,
    ).order_by(SlotRow.first_seen, SlotRow.target, SlotRow.guichet_id, SlotRow.start)
    with _reading(store) as db:
        since = clear_checks_before(db, scope)
        rows = db.execute(query).all()
    groups = itertools.groupby(rows, key=lambda row: (row.target, row.guichet_id, row.first_seen))
    found = []
    for (target, _guichet, seen_at), group in groups:
        if (target, seen_at) in since:
            found.append(_release(list(group), since[target, seen_at]))
    return found


def release_times(store: Store, target: str) -> list[datetime]:
    """When each past release of a target most likely happened, oldest first: halfway between
    the last clear check that did not show its slots and the check that did. For adaptive
    polling; first sightings are not releases."""
    with _reading(store) as db:
        since = clear_checks_before(db, Scope(target=target))
    return sorted(seen - (seen - previous) / 2 for (_, seen), previous in since.items())


class _BulkUTC(TypeDecorator[datetime]):
    """Reads a UTCDateTime column as the same tz-aware UTC datetimes, about twice as fast:
    SQLite's stored text ("YYYY-MM-DD HH:MM:SS.ffffff", UTC) goes straight to
    `fromisoformat`; other databases return aware datetimes. A year of slots is 70 000
    values."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromisoformat(f"{value}+00:00")


def _bulk_utc(column_: InstrumentedAttribute[Any]) -> ColumnElement[datetime]:
    return type_coerce(column_, _BulkUTC()).label(column_.key)


def _release(rows: Sequence[Any], previous_clear_check: datetime) -> Release:
    first = rows[0]
    return Release(
        target=first.target,
        guichet_id=first.guichet_id,
        guichet=first.guichet,
        seen_at=first.first_seen,
        previous_check_at=previous_clear_check,
        slot_starts=tuple(row.start for row in rows),
        slot_gone_at=tuple(row.gone_at for row in rows),
    )


# --- the check before a release ----------------------------------------------------------------
#
# A slot row keeps `previous_check_at`: the check just before the one that first saw it,
# whatever that check answered (NULL: the target's first check). A release needs the last
# check with a CLEAR answer before it, which is `previous_check_at` when that check was clear
# and an earlier one when it was blocked, failed or not understood. While the checks are raw,
# the status of that check, and the last clear one before it, are read exactly. Once rolled
# up, only the statuses of its hour remain: an hour with a clear answer is taken to mean that
# the check was clear (most are; but that answer may be the very check that saw the slots,
# or a later one: an hour's counts cannot tell); an hour without one means it was not, and
# the release is then known only since the start of the last hour with a clear answer. So
# raw and rolled-up checks give the same releases except where the check before one was not
# clear. A target whose first clear answer came after blocked checks and already showed the
# slots is a first sighting either way. (Recording the last clear check on the slot row when
# it is written would make all of this exact and the same forever.)


def clear_checks_before(db: Connection, scope: Scope) -> dict[tuple[str, datetime], datetime]:
    """For each check in the scope that first saw slots, keyed (target, seen at): the last
    check before it with a clear answer (a lower bound, see above). A check that has none is
    a first sighting and is left out."""
    found: dict[tuple[str, datetime], datetime] = {}
    rolled: list[tuple[str, datetime, datetime]] = []
    no_raw_clear: list[tuple[str, datetime, datetime]] = []
    for target, seen_at, previous, status, *earlier in db.execute(_sightings(scope)):
        if status in CLEAR:
            found[target, seen_at] = previous
        elif status is None:
            rolled.append((target, seen_at, previous))
        elif any(earlier):
            found[target, seen_at] = max(at for at in earlier if at is not None)
        else:
            no_raw_clear.append((target, seen_at, previous))
    unclear = _hours_without_clear_answer(db, [(target, at) for target, _, at in rolled])
    for target, seen_at, previous in rolled:
        if (target, epoch_hour(previous)) in unclear:
            no_raw_clear.append((target, seen_at, previous))
        else:  # a clear answer in its hour, or no hourly row that says otherwise
            found[target, seen_at] = previous
    for target, seen_at, previous in no_raw_clear:
        hour = _last_clear_hour(db, target, previous)
        if hour is not None:
            found[target, seen_at] = hour
    return found


def _sightings(scope: Scope) -> Select[Any]:
    """Each (target, seen at, previous check) of the slots in the scope, with the status of
    that previous check (NULL once rolled up) and, when it was not clear, the last raw check
    before it that said "none" and the last that said "available" (NULL: none left raw)."""
    sightings = _slots_in(
        select(SlotRow.target, SlotRow.first_seen, SlotRow.previous_check_at)
        .where(SlotRow.previous_check_at.is_not(None))
        .distinct(),
        scope,
    ).subquery()
    # The check's id, then its status: a seek in the (target, started_at) index and one by
    # primary key (asked for the status at once, SQLite scans the (target, status,
    # started_at) index instead, which holds it).
    previous_id = (
        select(CheckRow.id)
        .where(
            CheckRow.target == sightings.c.target,
            CheckRow.started_at == sightings.c.previous_check_at,
        )
        .limit(1)
        .scalar_subquery()
    )
    with_id = select(*sightings.c, previous_id.label("previous_id")).subquery()
    status = select(CheckRow.status).where(CheckRow.id == with_id.c.previous_id)
    with_status = select(*with_id.c, status.scalar_subquery().label("status")).subquery()

    def last_raw(answer: str) -> ColumnElement[datetime]:
        # One seek each in the (target, status, started_at) index, only when needed.
        last = (
            select(func.max(CheckRow.started_at))
            .where(
                CheckRow.target == with_status.c.target,
                CheckRow.status == answer,
                CheckRow.started_at < with_status.c.previous_check_at,
            )
            .scalar_subquery()
        )
        return case((with_status.c.status.not_in(CLEAR), last))

    return select(
        with_status.c.target,
        with_status.c.first_seen,
        with_status.c.previous_check_at,
        with_status.c.status,
        *(last_raw(answer) for answer in CLEAR),
    )


def _hours_without_clear_answer(
    db: Connection, moments: Sequence[tuple[str, datetime]]
) -> set[tuple[str, int]]:
    """Of the (target, UTC hour) of these moments, those `check_hours` holds checks for, none
    of them with a clear answer; hours as epoch hours."""
    wanted: dict[str, set[datetime]] = defaultdict(set)
    for target, at in moments:
        wanted[target].add(floor_hour(at))
    hour = _epoch_hour_sql(db, CheckHourRow.hour)
    clear = func.max(case((CheckHourRow.status.in_(CLEAR), 1), else_=0))
    found: set[tuple[str, int]] = set()
    for target, hours in wanted.items():
        for chunk in _chunks(sorted(hours), DAYS_PER_QUERY):
            query = (
                select(hour)
                .where(CheckHourRow.target == target, CheckHourRow.hour.in_(chunk))
                .group_by(CheckHourRow.hour)
                .having(clear == 0)
            )
            found.update((target, unclear) for unclear in db.scalars(query))
    return found


def _last_clear_hour(db: Connection, target: str, before: datetime) -> datetime | None:
    """The start of the last hour in `check_hours` with a clear answer, up to the hour of
    `before`: that hour holds no clear answer when `before` was rolled up (that is how it got
    here), and only older checks when it was split at the retention cut-off."""
    return db.scalar(
        select(CheckHourRow.hour)
        .where(
            CheckHourRow.target == target,
            CheckHourRow.status.in_(CLEAR),
            CheckHourRow.hour <= before,
        )
        .order_by(CheckHourRow.hour.desc())
        .limit(1)
    )


# --- lifetimes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lifetime:
    """How long the slots of a guichet stayed visible. Slots still shown are censored: counted
    in `censored`, left out of the median and p90."""

    target: str
    guichet_id: str
    guichet: str
    lifetimes: tuple[timedelta, ...]  # of the slots that went
    censored: int

    @property
    def gone(self) -> int:
        return len(self.lifetimes)

    @property
    def median(self) -> timedelta | None:
        return quantile(self.lifetimes, 0.5)

    @property
    def p90(self) -> timedelta | None:
        return quantile(self.lifetimes, 0.9)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "guichet": self.guichet,
            "guichet_id": self.guichet_id,
            "slots": self.gone + self.censored,
            "gone": self.gone,
            "censored": self.censored,
            "median_s": _seconds(self.median),
            "p90_s": _seconds(self.p90),
        }


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def lifetimes(store: Store, scope: Scope = EVERYTHING) -> list[Lifetime]:
    """One line per guichet: slots first seen in the scope, how long those that went lasted."""
    return lifetimes_of(releases(store, scope))


def lifetimes_of(found: Iterable[Release]) -> list[Lifetime]:
    by_guichet: dict[tuple[str, str], list[Release]] = defaultdict(list)
    for release in found:
        by_guichet[release.target, release.guichet_id].append(release)
    return [_lifetime(by_guichet[key]) for key in sorted(by_guichet)]


def _lifetime(found: Sequence[Release]) -> Lifetime:
    gone = []
    censored = 0
    for release in found:
        for gone_at in release.slot_gone_at:
            if gone_at is None:
                censored += 1
            else:
                gone.append(gone_at - release.seen_at)
    return Lifetime(
        target=found[0].target,
        guichet_id=found[0].guichet_id,
        guichet=found[-1].guichet,
        lifetimes=tuple(gone),
        censored=censored,
    )


def combined_lifetime(target: str, parts: Sequence[Lifetime]) -> Lifetime:
    """All guichets of a target as one."""
    return Lifetime(
        target=target,
        guichet_id="",
        guichet="all guichets",
        lifetimes=tuple(value for part in parts for value in part.lifetimes),
        censored=sum(part.censored for part in parts),
    )


# --- observation hours: raw checks and the hourly roll-up ------------------------------------


@dataclass(frozen=True)
class HourlyHistory:
    """One target, by UTC hour (epoch hours): when it was observed, when releases were seen."""

    target: str
    observed: frozenset[int]
    releases: Counter[int]  # hour → releases placed in it (one per guichet)
    unplaced: int = 0  # releases whose time is known only within more than PRECISE_WITHIN


def hourly_histories(
    store: Store, scope: Scope = EVERYTHING, found: Sequence[Release] | None = None
) -> list[HourlyHistory]:
    """`found`: the releases of `scope.whole_hours()` when the caller has them already."""
    hours = scope.whole_hours()
    with _reading(store) as db:
        if found is None:
            seen, unplaced = _release_hours(db, hours)
        else:
            seen, unplaced = _placed(
                (release.target, release.seen_at, release.previous_check_at)
                for release in found
                if release.previous_check_at is not None
            )
        histories = []
        for target in _targets(db, scope):
            mine = seen.get(target, Counter())
            observed = (
                _raw_clear_hours(db, target, hours)
                | _rolled_clear_hours(db, target, hours)
                | set(mine)
            )
            histories.append(HourlyHistory(target, frozenset(observed), mine, unplaced[target]))
    return histories


def _targets(db: Connection, scope: Scope) -> list[str]:
    """The targets a query covers: the one asked for, those that have the guichet asked for,
    or every target the store knows."""
    if scope.guichet:
        query = _slots_in(
            select(SlotRow.target).distinct(), Scope(target=scope.target, guichet=scope.guichet)
        )
        return sorted(db.scalars(query))
    if scope.target:
        return [scope.target]
    names: set[str] = set()
    for column_ in (CheckRow.target, CheckHourRow.target, SlotRow.target):
        names.update(_distinct(db, column_))
    return sorted(names)


def _distinct(db: Connection, indexed: InstrumentedAttribute[str]) -> list[str]:
    """The distinct values of an index's first column, one index seek each (a skip scan)."""
    found: list[str] = []
    value = db.scalar(select(func.min(indexed)))
    while value is not None:
        found.append(value)
        value = db.scalar(select(func.min(indexed)).where(indexed > value))
    return found


def _release_hours(db: Connection, hours: Scope) -> tuple[dict[str, Counter[int]], Counter[str]]:
    since = clear_checks_before(db, hours)
    query = _slots_in(
        select(SlotRow.target, SlotRow.guichet_id, SlotRow.first_seen).distinct(), hours
    )
    return _placed(
        (target, seen_at, since[target, seen_at])
        for target, _guichet, seen_at in db.execute(query)
        if (target, seen_at) in since  # else a first sighting
    )


def _placed(
    found: Iterable[tuple[str, datetime, datetime]],
) -> tuple[dict[str, Counter[int]], Counter[str]]:
    """From releases (target, seen at, last clear check before; one per guichet): per target,
    the releases placed in each hour they were seen, and how many could not be placed (their
    time known only within more than PRECISE_WITHIN)."""
    placed: dict[str, Counter[int]] = defaultdict(Counter)
    unplaced: Counter[str] = Counter()
    for target, seen_at, previous in found:
        if seen_at - previous <= PRECISE_WITHIN:
            placed[target][epoch_hour(seen_at)] += 1
        else:
            unplaced[target] += 1
    return placed, unplaced


def _clip(start: datetime, end: datetime, scope: Scope) -> tuple[datetime, datetime]:
    """[start, end) within the scope's period (already whole hours)."""
    if scope.since and scope.since > start:
        start = scope.since
    if scope.until and scope.until < end:
        end = scope.until
    return start, end


def _raw_span(db: Connection, target: str) -> tuple[datetime, datetime] | None:
    """From the hour of the target's first raw check to the end of the hour of its last."""
    # Two scalar subqueries: each min() or max() alone is one seek in the (target, started_at)
    # index, both in one SELECT would read every check of the target.
    where = CheckRow.target == target
    first = select(func.min(CheckRow.started_at)).where(where).scalar_subquery()
    last = select(func.max(CheckRow.started_at)).where(where).scalar_subquery()
    start, end = db.execute(select(first.label("first"), last.label("last"))).one()
    if start is None:
        return None
    return floor_hour(start), floor_hour(end) + HOUR


def _rolled_span(db: Connection, target: str) -> tuple[datetime, datetime] | None:
    where = CheckHourRow.target == target
    first = select(func.min(CheckHourRow.hour)).where(where).scalar_subquery()
    last = select(func.max(CheckHourRow.hour)).where(where).scalar_subquery()
    start, end = db.execute(select(first.label("first"), last.label("last"))).one()
    if start is None:
        return None
    return start, end + HOUR


def _raw_clear_hours(db: Connection, target: str, scope: Scope) -> set[int]:
    span = _raw_span(db, target)
    if span is None:
        return set()
    start, end = _clip(*span, scope)
    count = (end - start) // HOUR
    if count <= 0:
        return set()
    grid = _hour_grid(db, start, count)
    clear = exists().where(
        CheckRow.target == target,
        CheckRow.status.in_(CLEAR),
        CheckRow.started_at >= grid.c.lo,
        CheckRow.started_at < grid.c.hi,
    )
    # The hours without a clear answer are few: fetch those, not the thousands of others.
    unobserved = db.scalars(select(grid.c.n).where(~clear)).all()
    base = epoch_hour(start)
    return set(range(base, base + count)).difference(base + n for n in unobserved)


def _hour_grid(db: Connection, start: datetime, count: int) -> CTE:
    """`count` consecutive hours from `start` as rows (n, lo, hi), generated by the database:
    each becomes one index probe."""
    first = literal(start, UTCDateTime())
    grid = select(
        literal(0, Integer).label("n"), first.label("lo"), _plus_hour(db, first).label("hi")
    ).cte("hours", recursive=True)
    step = select(grid.c.n + 1, grid.c.hi, _plus_hour(db, grid.c.hi)).where(grid.c.n < count - 1)
    return grid.union_all(step)


def _plus_hour(db: Connection, at: ColumnElement[Any]) -> ColumnElement[Any]:
    if db.dialect.name == "sqlite":
        # Returns "YYYY-MM-DD HH:MM:SS", which compares with the stored
        # "YYYY-MM-DD HH:MM:SS.ffffff" as the instants do, since the bounds are on the hour.
        return func.datetime(at, "+1 hour")
    return at + literal(HOUR)


def _rolled_clear_hours(db: Connection, target: str, scope: Scope) -> set[int]:
    hour = _epoch_hour_sql(db, CheckHourRow.hour)
    query = select(hour).where(CheckHourRow.target == target, CheckHourRow.status.in_(CLEAR))
    if scope.since:
        query = query.where(CheckHourRow.hour >= scope.since)
    if scope.until:
        query = query.where(CheckHourRow.hour < scope.until)
    return set(db.scalars(query.distinct()))


def _epoch_hour_sql(
    db: Connection, at: ColumnElement[datetime] | InstrumentedAttribute[datetime]
) -> ColumnElement[int]:
    """`epoch_hour` computed by the database: thousands of hours are read as plain integers,
    not parsed into datetimes one by one."""
    if db.dialect.name == "sqlite":
        seconds = cast(func.strftime("%s", at), Integer)
    else:
        seconds = cast(func.floor(func.extract("epoch", at)), Integer)
    return seconds // 3600


# --- heatmap ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    weekday: int  # 0 = Monday, local
    hour: int  # local clock hour
    observed_hours: int
    release_hours: int  # observed hours in which at least one release was seen
    releases: int  # releases seen in those hours (one per guichet)

    @property
    def probability(self) -> float | None:
        """None when the cell was never observed: unknown, not "never"."""
        return self.release_hours / self.observed_hours if self.observed_hours else None

    def to_json(self) -> dict[str, Any]:
        probability = self.probability
        return {
            "weekday": SHORT_WEEKDAYS[self.weekday],
            "hour": self.hour,
            "observed_hours": self.observed_hours,
            "release_hours": self.release_hours,
            "releases": self.releases,
            "probability": round(probability, 4) if probability is not None else None,
        }


@dataclass(frozen=True)
class Heatmap:
    zone: str
    cells: tuple[HeatCell, ...]  # 7 × 24, Monday 00h first
    unplaced: int = 0  # releases in no cell: their time is known only within more than an hour

    def cell(self, weekday: int, hour: int) -> HeatCell:
        return self.cells[weekday * 24 + hour]

    @property
    def observed_hours(self) -> int:
        return sum(cell.observed_hours for cell in self.cells)

    @property
    def releases(self) -> int:
        return sum(cell.releases for cell in self.cells)


class LocalHours:
    """Places UTC hours (epoch hours) in local weekday × hour cells and local days, working
    each hour out once: a year of ten targets has 87 600 target-hours but 8 760 hours."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._cell: dict[int, int] = {}  # hour → weekday * 24 + local hour
        self._day: dict[int, date] = {}

    def _learn(self, hours: Iterable[int]) -> None:
        for hour in set(hours).difference(self._cell):
            local = hour_start(hour).astimezone(self.zone)
            self._cell[hour] = local.weekday() * 24 + local.hour
            self._day[hour] = local.date()

    def cells(self, hours: Counter[int]) -> Counter[int]:
        """Hours counted per cell (0 = Monday 00h … 167 = Sunday 23h)."""
        self._learn(hours)
        found: Counter[int] = Counter()
        for hour, count in hours.items():
            found[self._cell[hour]] += count
        return found

    def days(self, hours: Iterable[int]) -> set[date]:
        hours = list(hours)
        self._learn(hours)
        return set(map(self._day.__getitem__, hours))


def heatmap(store: Store, zone: ZoneInfo, scope: Scope = EVERYTHING) -> Heatmap:
    return heatmap_of(hourly_histories(store, scope), LocalHours(zone))


def heatmap_of(histories: Iterable[HourlyHistory], local: LocalHours) -> Heatmap:
    # Count per UTC hour first (targets share their hours), then place each hour once.
    observed: Counter[int] = Counter()
    release_hours: Counter[int] = Counter()
    seen: Counter[int] = Counter()
    unplaced = 0
    for history in histories:
        observed.update(history.observed)
        release_hours.update(history.releases.keys())
        seen.update(history.releases)
        unplaced += history.unplaced
    observed_cells, release_cells, seen_cells = (
        local.cells(counter) for counter in (observed, release_hours, seen)
    )
    cells = tuple(
        HeatCell(
            index // 24, index % 24, observed_cells[index], release_cells[index], seen_cells[index]
        )
        for index in range(7 * 24)
    )
    return Heatmap(str(local.zone), cells, unplaced)


# --- uptime ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UptimeDay:
    """One target's checks on one local day, by status."""

    target: str
    day: date
    counts: dict[str, int]

    @property
    def checks(self) -> int:
        return sum(self.counts.values())

    def share(self, status: str) -> float:
        return self.counts.get(status, 0) / self.checks if self.checks else 0.0

    @property
    def clear(self) -> float:
        """The share of checks that got a clear answer (available or none)."""
        return sum(self.share(status) for status in CLEAR)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "day": self.day.isoformat(),
            "checks": self.checks,
            "clear": round(self.clear, 4),
            "shares": {status: round(self.share(status), 4) for status in STATUSES},
            "counts": {status: self.counts.get(status, 0) for status in STATUSES},
        }


def uptime(store: Store, zone: ZoneInfo, scope: Scope = EVERYTHING) -> list[UptimeDay]:
    """Checks per status per local day, raw and rolled-up alike. Checks are not recorded per
    guichet: a guichet in the scope only selects the targets that have it."""
    hours = scope.whole_hours()
    counts: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    with _reading(store) as db:
        targets = _targets(db, scope)
        for target, day, status, checks in _status_days(db, targets, zone, hours):
            counts[target, day][status] += checks
    return [
        UptimeDay(target, date.fromordinal(day), dict(counts[target, day]))
        for target, day in sorted(counts)
    ]


def _status_days(
    db: Connection, targets: Sequence[str], zone: ZoneInfo, scope: Scope
) -> Iterator[tuple[str, int, str, int]]:
    """(target, day ordinal, status, checks) from raw checks, then from the roll-up."""
    raw = _span([_raw_span(db, target) for target in targets], scope)
    if raw is not None:
        for chunk in _chunks(local_days(zone, *raw), DAYS_PER_QUERY):
            yield from _raw_status_days(db, targets, chunk)
    rolled = _span([_rolled_span(db, target) for target in targets], scope)
    if rolled is not None:
        for chunk in _chunks(local_days(zone, *rolled), DAYS_PER_QUERY):
            yield from _rolled_status_days(db, targets, chunk)


def _span(
    spans: Iterable[tuple[datetime, datetime] | None], scope: Scope
) -> tuple[datetime, datetime] | None:
    """The smallest period holding every span, within the scope; None if empty."""
    known = [span for span in spans if span is not None]
    if not known:
        return None
    start, end = _clip(min(lo for lo, _ in known), max(hi for _, hi in known), scope)
    return (start, end) if start < end else None


def local_days(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[int, datetime, datetime]]:
    """The local days met by [start, end), as (ordinal, UTC start, UTC end) clipped to it."""
    days = []
    day = start.astimezone(zone).date()
    while (lo := _midnight(day, zone)) < end:
        hi = _midnight(day + timedelta(days=1), zone)
        days.append((day.toordinal(), max(lo, start), min(hi, end)))
        day += timedelta(days=1)
    return days


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


def _day_table(days: Sequence[tuple[int, datetime, datetime]]) -> CTE:
    return (
        values(
            column("n", Integer),
            column("lo", UTCDateTime()),
            column("hi", UTCDateTime()),
            name="days",
        )
        .data(list(days))
        .cte("days")
    )


def _name_table(name: str, names: Iterable[str]) -> CTE:
    return values(column("name", String), name=name).data([(n,) for n in names]).cte(name)


def _raw_status_days(
    db: Connection, targets: Sequence[str], days: Sequence[tuple[int, datetime, datetime]]
) -> list[tuple[str, int, str, int]]:
    # One count per target, day and status: each a range of the (target, status, started_at)
    # index, so that no check is sorted or even read from the table.
    grid = _day_table(days)
    names = _name_table("targets", targets)
    statuses = _name_table("statuses", STATUSES)
    checks = (
        select(func.count())
        .where(
            CheckRow.target == names.c.name,
            CheckRow.status == statuses.c.name,
            CheckRow.started_at >= grid.c.lo,
            CheckRow.started_at < grid.c.hi,
        )
        .scalar_subquery()
    )
    query = select(names.c.name, grid.c.n, statuses.c.name, checks).select_from(
        names.join(grid, true()).join(statuses, true())
    )
    # Zero counts are dropped here: a WHERE on the count would run every probe twice.
    return [(t, n, status, checks) for t, n, status, checks in db.execute(query) if checks]


def _rolled_status_days(
    db: Connection, targets: Sequence[str], days: Sequence[tuple[int, datetime, datetime]]
) -> list[tuple[str, int, str, int]]:
    grid = _day_table(days)
    names = _name_table("targets", targets)
    query = (
        select(names.c.name, grid.c.n, CheckHourRow.status, func.sum(CheckHourRow.checks))
        .select_from(names.join(grid, true()))
        .join(
            CheckHourRow,
            and_(
                CheckHourRow.target == names.c.name,
                CheckHourRow.hour >= grid.c.lo,
                CheckHourRow.hour < grid.c.hi,
            ),
        )
        .group_by(names.c.name, grid.c.n, CheckHourRow.status)
    )
    return [(t, n, status, int(checks)) for t, n, status, checks in db.execute(query)]


# --- summary: one screen per target ------------------------------------------------------------


@dataclass(frozen=True)
class TypicalHour:
    hour: int  # local clock hour, any weekday
    releases: int
    release_hours: int
    observed_hours: int

    @property
    def probability(self) -> float | None:
        return self.release_hours / self.observed_hours if self.observed_hours else None


@dataclass(frozen=True)
class Window:
    """A stretch of local clock time, in minutes from midnight, and the weekdays (0 = Monday)
    on which the releases it covers were seen."""

    start: int
    end: int
    weekdays: frozenset[int]
    releases: int

    def text(self) -> str:
        return f"between {_clock(self.start)} and {_clock(self.end)} {_days_text(self.weekdays)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "start": _clock(self.start),
            "end": _clock(self.end),
            "weekdays": [SHORT_WEEKDAYS[day] for day in sorted(self.weekdays)],
            "releases": self.releases,
        }


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _days_text(weekdays: frozenset[int]) -> str:
    names = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
    if weekdays == frozenset(range(7)):
        return "every day"
    if weekdays == frozenset(range(5)):
        return "on weekdays"
    if weekdays == frozenset({5, 6}):
        return "at weekends"
    listed = [names[day] for day in sorted(weekdays)]
    return "on " + (", ".join(listed[:-1]) + " and " + listed[-1] if len(listed) > 1 else listed[0])


@dataclass(frozen=True)
class Recommendation:
    """When to check, from past releases: the fewest quarter-hours of the local day that
    cover COVER of the releases whose time is known within PRECISE_WITHIN, merged into
    windows. `windows` is empty when there is not enough data or no pattern (see `reason`)."""

    windows: tuple[Window, ...]
    covered: int
    considered: int
    reason: str = ""

    def text(self) -> str:
        if not self.windows:
            return self.reason
        stretches = " and ".join(window.text() for window in self.windows)
        return f"check {stretches} ({self.covered} of {self.considered} releases)"

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text(),
            "windows": [window.to_json() for window in self.windows],
            "covered": self.covered,
            "considered": self.considered,
        }


def recommend(found: Sequence[Release], observed_days: int, zone: ZoneInfo) -> Recommendation:
    precise = [release for release in found if release.precise]
    if len(precise) < MIN_RELEASES or observed_days < MIN_OBSERVED_DAYS:
        return Recommendation(
            (),
            0,
            len(precise),
            f"not enough data: {len(precise)} releases with a known time (need "
            f"{MIN_RELEASES}) over {observed_days} observed days (need {MIN_OBSERVED_DAYS})",
        )
    by_quarter: dict[int, list[Release]] = defaultdict(list)
    for release in precise:
        local = release.seen_at.astimezone(zone)
        by_quarter[(local.hour * 60 + local.minute) // QUARTER_MINUTES].append(release)
    chosen: list[int] = []
    covered = 0
    for quarter in sorted(by_quarter, key=lambda q: (-len(by_quarter[q]), q)):
        if covered >= COVER * len(precise):
            break
        chosen.append(quarter)
        covered += len(by_quarter[quarter])
    span = timedelta(minutes=QUARTER_MINUTES * len(chosen))
    if span > MAX_WINDOWS:
        return Recommendation(
            (),
            covered,
            len(precise),
            f"no clear pattern: covering {COVER:.0%} of {len(precise)} releases takes "
            f"{window_length(span)} of the day; check all day",
        )
    return Recommendation(_windows(sorted(chosen), by_quarter, zone), covered, len(precise))


def _windows(
    quarters: Sequence[int], by_quarter: dict[int, list[Release]], zone: ZoneInfo
) -> tuple[Window, ...]:
    runs: list[list[int]] = []
    for quarter in quarters:
        if runs and runs[-1][-1] == quarter - 1:
            runs[-1].append(quarter)
        else:
            runs.append([quarter])
    windows = []
    for run in runs:
        covered = [release for quarter in run for release in by_quarter[quarter]]
        windows.append(
            Window(
                start=run[0] * QUARTER_MINUTES,
                end=(run[-1] + 1) * QUARTER_MINUTES,
                weekdays=frozenset(r.seen_at.astimezone(zone).weekday() for r in covered),
                releases=len(covered),
            )
        )
    return tuple(windows)


@dataclass(frozen=True)
class TargetReport:
    target: str
    releases: int
    last_release: Release | None
    observed_hours: int
    observed_days: int
    typical_hours: tuple[TypicalHour, ...]  # the hours with most releases, most first
    lifetime: Lifetime
    recommendation: Recommendation
    heatmap: Heatmap = field(repr=False)
    # What the site itself last said of its releases (RDV Préfecture's "Dernière mise en ligne
    # de rendez-vous : le … à …"): last_release_at, last_release_week, next_release_at, …
    site_says: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "releases": self.releases,
            "last_release": self.last_release.to_json() if self.last_release else None,
            "observed_hours": self.observed_hours,
            "observed_days": self.observed_days,
            "typical_hours": [
                {
                    "hour": typical.hour,
                    "releases": typical.releases,
                    "probability": round(typical.probability, 4)
                    if typical.probability is not None
                    else None,
                }
                for typical in self.typical_hours
            ],
            "lifetime": self.lifetime.to_json(),
            "recommendation": self.recommendation.to_json(),
            "site_says": self.site_says,
        }


def reports(store: Store, zone: ZoneInfo, scope: Scope = EVERYTHING) -> list[TargetReport]:
    """The `summary` screen of each target in the scope."""
    found = releases(store, scope)
    local = LocalHours(zone)
    said = site_release_facts(store, scope)
    # Over whole hours (a period given in days), the heatmap counts the same releases.
    same = found if scope.whole_hours() == scope else None
    return [
        replace(
            _report(
                history, [release for release in found if release.target == history.target], local
            ),
            site_says=said.get(history.target, {}),
        )
        for history in hourly_histories(store, scope, same)
    ]


SITE_RELEASE_FACTS = (
    "last_release_at",
    "last_release_week",
    "next_release_at",
    "next_release_week",
)
RECENT_CHECKS = 1000  # a week at 10 minutes: the statement is looked for in these only


def site_release_facts(store: Store, scope: Scope = EVERYTHING) -> dict[str, dict[str, str]]:
    """Per target, the release times the site itself announced in the latest of its recent
    checks (in the scope) that carried them."""
    said = {}
    with _reading(store) as db:
        for target in _targets(db, scope):
            recent = select(CheckRow.started_at, CheckRow.facts).where(CheckRow.target == target)
            if scope.since:
                recent = recent.where(CheckRow.started_at >= scope.since)
            if scope.until:
                recent = recent.where(CheckRow.started_at < scope.until)
            latest = recent.order_by(CheckRow.started_at.desc()).limit(RECENT_CHECKS).subquery()
            query = (
                select(latest.c.facts)
                .where(cast(latest.c.facts, Text).like('%release_at"%'))
                .order_by(latest.c.started_at.desc())
                .limit(1)
            )
            facts = db.scalar(query) or {}
            found = {key: facts[key] for key in SITE_RELEASE_FACTS if key in facts}
            if found:
                said[target] = found
    return said


def _report(history: HourlyHistory, found: Sequence[Release], local: LocalHours) -> TargetReport:
    observed_days = len(local.days(history.observed))
    grid = heatmap_of([history], local)
    return TargetReport(
        target=history.target,
        releases=len(found),
        last_release=found[-1] if found else None,
        observed_hours=len(history.observed),
        observed_days=observed_days,
        typical_hours=_typical_hours(grid),
        lifetime=combined_lifetime(history.target, lifetimes_of(found)),
        recommendation=recommend(found, observed_days, local.zone),
        heatmap=grid,
    )


def _typical_hours(grid: Heatmap, most: int = 3) -> tuple[TypicalHour, ...]:
    by_hour = [
        TypicalHour(
            hour,
            sum(grid.cell(day, hour).releases for day in range(7)),
            sum(grid.cell(day, hour).release_hours for day in range(7)),
            sum(grid.cell(day, hour).observed_hours for day in range(7)),
        )
        for hour in range(24)
    ]
    ranked = sorted((h for h in by_hour if h.releases), key=lambda h: (-h.releases, h.hour))
    return tuple(ranked[:most])


# --- what the demo and the heartbeat show ------------------------------------------------------


@dataclass(frozen=True)
class TargetSummary:
    target: str
    checks: int
    by_status: dict[str, int]
    first_check: datetime | None
    last_check: datetime | None
    releases: int
    last_release: Release | None


def summaries(store: Store, target: str | None = None) -> list[TargetSummary]:
    """Checks per status (raw and rolled-up) and releases, per target."""
    raw = select(
        CheckRow.target,
        CheckRow.status,
        func.count(),
        func.min(CheckRow.started_at),
        func.max(CheckRow.started_at),
    ).group_by(CheckRow.target, CheckRow.status)
    rolled = select(
        CheckHourRow.target,
        CheckHourRow.status,
        func.sum(CheckHourRow.checks),
        func.min(CheckHourRow.hour),
        func.max(CheckHourRow.hour),
    ).group_by(CheckHourRow.target, CheckHourRow.status)
    if target:
        raw = raw.where(CheckRow.target == target)
        rolled = rolled.where(CheckHourRow.target == target)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    spans: dict[str, list[datetime]] = defaultdict(list)
    with store.read() as session:
        for query in (raw, rolled):
            for name, status, count, first, last in session.execute(query):
                counts[name][status] += int(count)
                spans[name] += [first, last]
    all_releases = releases(store, Scope(target=target))
    summary = []
    for name in sorted(counts):
        mine = [release for release in all_releases if release.target == name]
        summary.append(
            TargetSummary(
                target=name,
                checks=sum(counts[name].values()),
                by_status=dict(counts[name]),
                first_check=min(spans[name]),
                last_check=max(spans[name]),
                releases=len(mine),
                last_release=mine[-1] if mine else None,
            )
        )
    return summary


@dataclass(frozen=True)
class Activity:
    """What a target went through since a time: for the daily heartbeat."""

    target: str
    checks: int
    status: str
    last_release: datetime | None

    def to_event(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "checks": self.checks,
            "status": self.status,
            "last_release": self.last_release.isoformat() if self.last_release else None,
        }


def activity(store: Store, since: datetime) -> list[Activity]:
    counts = (
        select(CheckRow.target, func.count())
        .where(CheckRow.started_at >= since)
        .group_by(CheckRow.target)
    )
    last_release: dict[str, datetime] = {}
    with _reading(store) as db:
        checks: dict[str, int] = dict(db.execute(counts).all())
        for target, seen_at in clear_checks_before(db, EVERYTHING):
            last_release[target] = max(seen_at, last_release.get(target, seen_at))
    last = {row.target: row.status for row in last_check_rows(store)}
    return [
        Activity(name, checks.get(name, 0), last.get(name, "never checked"), last_release.get(name))
        for name in sorted(set(last) | set(checks))
    ]


def last_check_rows(store: Store) -> list[CheckRow]:
    """The most recent check of each target."""
    latest = (
        select(CheckRow.target, func.max(CheckRow.id).label("id"))
        .group_by(CheckRow.target)
        .subquery()
    )
    with store.read() as session:
        return list(session.scalars(select(CheckRow).join(latest, CheckRow.id == latest.c.id)))
