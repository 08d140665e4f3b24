"""The history queries: what the `checks`, `check_hours` and `slots` tables say of slot
appearances, of the last clear answer before each, of observation hours and of checks per
day, as plain data that `creneau.history` analyses (the definitions are there).

Aggregation happens in SQL as index probes: one per target and hour (is there a clear
answer?) and one per target, local day and status (how many checks?), so that no check is ever
sorted or parsed in Python. On SQLite the counts need the index on checks(target, status,
started_at) to stay under a second for a year of checks (see bench/history.py). Raw checks and
their hourly roll-up are read alike: the layers above never learn which of the two answered."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    Column,
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from creneau.results import ReleaseAnnouncement, Status
from creneau.store import Store
from creneau.store.checks import CLEAR_STATUSES
from creneau.store.records import row_values
from creneau.store.schema import CHECK_HOURS, CHECKS, SLOTS, UTCDateTime

HOUR = timedelta(hours=1)
CLEAR = CLEAR_STATUSES
STATUSES = tuple(status.value for status in Status)
DAYS_PER_QUERY = 1000  # keeps a query's bound parameters far below every database's limit
MMAP_BYTES = 1 << 30  # SQLite only maps what it reads: an upper bound, not an allocation
SITE_RELEASE_FACTS = (
    "last_release_at",
    "last_release_week",
    "next_release_at",
    "next_release_week",
)
RECENT_CHECKS = 1000  # a week at 10 minutes: the site's statement is looked for in these only

T = TypeVar("T")
Columns = TypeVarTuple("Columns")


# --- scope and hours ---------------------------------------------------------------------------


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


# --- what the queries return ---------------------------------------------------------------------


@dataclass(frozen=True)
class SlotAppearance:
    """One appearance of a slot: at which guichet, first seen when, for which start, gone
    when (None: still shown, or the checks stopped)."""

    target: str
    guichet_id: str
    guichet: str
    first_seen: datetime
    start: datetime
    gone_at: datetime | None


@dataclass(frozen=True)
class GuichetSighting:
    """Slots first seen at one guichet in one check of a target."""

    target: str
    guichet_id: str
    seen_at: datetime


@dataclass(frozen=True)
class DayCounts:
    """One target's checks on one local day, per status (raw and rolled-up alike)."""

    target: str
    day: date
    counts: dict[str, int]


@dataclass(frozen=True)
class CheckTotals:
    """All of one target's checks per status (raw and rolled-up), and the first and last
    moments they cover (the start of an hour, for rolled-up ones)."""

    target: str
    by_status: dict[str, int]
    first_check: datetime
    last_check: datetime


# --- reading -------------------------------------------------------------------------------------


@contextmanager
def _reading(store: Store) -> Iterator[Connection]:
    """A connection for the history queries: Core rows (the ORM's work per row is wasted on
    plain values), and on SQLite the file read through a memory map, since the queries probe
    an index thousands of times and a probe then costs a page lookup, not a system call."""
    with store.engine.connect() as db:
        if db.dialect.name == "sqlite" and not db.info.get("mmap_size"):
            db.execute(text(f"PRAGMA mmap_size={MMAP_BYTES}"))
            db.info["mmap_size"] = MMAP_BYTES  # kept with the pooled connection: once each
        yield db


# The statements a target's page runs are built once per shape of scope (which of since,
# until, target and guichet it gives), its values bound, and run with the scope's values:
# building a statement and its cache key cost more than running it.
Shape = tuple[bool, bool, bool, bool]


def _shape(scope: Scope) -> Shape:
    return bool(scope.since), bool(scope.until), bool(scope.target), bool(scope.guichet)


def _values(scope: Scope) -> dict[str, Any]:
    given = {"since": scope.since, "until": scope.until}
    return {**given, "target": scope.target, "guichet": scope.guichet}


def _slots_in(query: Select[*Columns], shape: Shape) -> Select[*Columns]:
    """The slots of a scope of this shape (run with its `_values`)."""
    since, until, target, guichet = shape
    if since:
        query = query.where(SLOTS.c.first_seen >= bindparam("since", type_=UTCDateTime()))
    if until:
        query = query.where(SLOTS.c.first_seen < bindparam("until", type_=UTCDateTime()))
    if target:
        query = query.where(SLOTS.c.target == bindparam("target", type_=String()))
    if guichet:
        named = bindparam("guichet", type_=String())
        query = query.where(or_(SLOTS.c.guichet_id == named, SLOTS.c.guichet == named))
    return query


# --- slot appearances ----------------------------------------------------------------------------


def slot_appearances(store: Store, scope: Scope) -> list[SlotAppearance]:
    """The slots first seen in the scope, by first sighting, target, guichet and start."""
    with _reading(store) as db:
        rows = db.execute(_appearances_query(_shape(scope)), _values(scope))
        return [SlotAppearance(*row) for row in row_values(rows)]


@lru_cache(maxsize=16)
def _appearances_query(shape: Shape) -> Select[Any]:
    return _slots_in(
        select(
            SLOTS.c.target,
            SLOTS.c.guichet_id,
            SLOTS.c.guichet,
            _bulk_utc(SLOTS.c.first_seen),
            _bulk_utc(SLOTS.c.start),
            _bulk_utc(SLOTS.c.gone_at),
        ),
        shape,
    ).order_by(SLOTS.c.first_seen, SLOTS.c.target, SLOTS.c.guichet_id, SLOTS.c.start)


def guichet_sightings(store: Store, scope: Scope) -> list[GuichetSighting]:
    """Each (target, guichet, check) that first saw slots in the scope, once."""
    query = _slots_in(
        select(SLOTS.c.target, SLOTS.c.guichet_id, SLOTS.c.first_seen).distinct(), _shape(scope)
    )
    with _reading(store) as db:
        return [GuichetSighting(*row) for row in row_values(db.execute(query, _values(scope)))]


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


def _bulk_utc(column_: Column[Any]) -> ColumnElement[datetime]:
    return type_coerce(column_, _BulkUTC()).label(column_.key)


# --- the check before a release ------------------------------------------------------------------
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


def last_clear_checks(store: Store, scope: Scope) -> dict[tuple[str, datetime], datetime]:
    """For each check in the scope that first saw slots, keyed (target, seen at): the last
    check before it with a clear answer (a lower bound, see above). A check that has none is
    a first sighting and is left out."""
    with _reading(store) as db:
        return _last_clear_checks(db, scope)


def _last_clear_checks(db: Connection, scope: Scope) -> dict[tuple[str, datetime], datetime]:
    found: dict[tuple[str, datetime], datetime] = {}
    rolled: list[tuple[str, datetime, datetime]] = []
    no_raw_clear: list[tuple[str, datetime, datetime]] = []
    sightings = db.execute(_sightings(_shape(scope)), _values(scope))
    for target, seen_at, previous, status, *earlier in row_values(sightings):
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


@lru_cache(maxsize=16)
def _sightings(shape: Shape) -> Select[Any]:
    """Each (target, seen at, previous check) of the slots in the scope, with the status of
    that previous check (NULL once rolled up) and, when it was not clear, the last raw check
    before it that said "none" and the last that said "available" (NULL: none left raw)."""
    sightings = _slots_in(
        select(SLOTS.c.target, SLOTS.c.first_seen, SLOTS.c.previous_check_at)
        .where(SLOTS.c.previous_check_at.is_not(None))
        .distinct(),
        shape,
    ).subquery()
    # The check's id, then its row: a seek in the (target, started_at) index and one by
    # primary key (asked for the status at once, SQLite scans the (target, status,
    # started_at) index instead, which holds it). Joined, not a subquery in each column: SQLite
    # would run that subquery again for each CASE that tests the status.
    previous_id = (
        select(CHECKS.c.id)
        .where(
            CHECKS.c.target == sightings.c.target,
            CHECKS.c.started_at == sightings.c.previous_check_at,
        )
        .limit(1)
        .scalar_subquery()
    )
    previous = CHECKS.alias("previous")
    status = previous.c.status

    def last_raw(answer: str) -> ColumnElement[datetime]:
        # One seek each in the (target, status, started_at) index, only when needed.
        last = (
            select(func.max(CHECKS.c.started_at))
            .where(
                CHECKS.c.target == sightings.c.target,
                CHECKS.c.status == answer,
                CHECKS.c.started_at < sightings.c.previous_check_at,
            )
            .scalar_subquery()
        )
        return case((status.not_in(CLEAR), last))

    return select(
        sightings.c.target,
        sightings.c.first_seen,
        sightings.c.previous_check_at,
        status,
        *(last_raw(answer) for answer in CLEAR),
    ).select_from(sightings.outerjoin(previous, previous.c.id == previous_id))


def _hours_without_clear_answer(
    db: Connection, moments: Sequence[tuple[str, datetime]]
) -> set[tuple[str, int]]:
    """Of the (target, UTC hour) of these moments, those `check_hours` holds checks for, none
    of them with a clear answer; hours as epoch hours."""
    wanted: dict[str, set[datetime]] = defaultdict(set)
    for target, at in moments:
        wanted[target].add(floor_hour(at))
    hour = _epoch_hour_sql(db, CHECK_HOURS.c.hour)
    clear = func.max(case((CHECK_HOURS.c.status.in_(CLEAR), 1), else_=0))
    found: set[tuple[str, int]] = set()
    for target, hours in wanted.items():
        for chunk in _chunks(sorted(hours), DAYS_PER_QUERY):
            query = (
                select(hour)
                .where(CHECK_HOURS.c.target == target, CHECK_HOURS.c.hour.in_(chunk))
                .group_by(CHECK_HOURS.c.hour)
                .having(clear == 0)
            )
            found.update((target, unclear) for unclear in db.scalars(query))
    return found


def _last_clear_hour(db: Connection, target: str, before: datetime) -> datetime | None:
    """The start of the last hour in `check_hours` with a clear answer, up to the hour of
    `before`: that hour holds no clear answer when `before` was rolled up (that is how it got
    here), and only older checks when it was split at the retention cut-off."""
    return db.scalar(
        select(CHECK_HOURS.c.hour)
        .where(
            CHECK_HOURS.c.target == target,
            CHECK_HOURS.c.status.in_(CLEAR),
            CHECK_HOURS.c.hour <= before,
        )
        .order_by(CHECK_HOURS.c.hour.desc())
        .limit(1)
    )


# --- targets -------------------------------------------------------------------------------------


def _targets(db: Connection, scope: Scope) -> list[str]:
    if scope.guichet:
        narrowed = Scope(target=scope.target, guichet=scope.guichet)
        query = _slots_in(select(SLOTS.c.target).distinct(), _shape(narrowed))
        return sorted(db.scalars(query, _values(narrowed)))
    if scope.target:
        return [scope.target]
    names: set[str] = set()
    for column_ in (CHECKS.c.target, CHECK_HOURS.c.target, SLOTS.c.target):
        names.update(_distinct(db, column_))
    return sorted(names)


def _distinct(db: Connection, indexed: Column[str]) -> list[str]:
    """The distinct values of an index's first column, one index seek each (a skip scan)."""
    found: list[str] = []
    value = db.scalar(select(func.min(indexed)))
    while value is not None:
        found.append(value)
        value = db.scalar(select(func.min(indexed)).where(indexed > value))
    return found


# --- observation hours ---------------------------------------------------------------------------


def observation_hours(store: Store, scope: Scope) -> dict[str, frozenset[int]]:
    """For each target of the scope, in name order: the UTC hours (epoch hours) of the whole
    hours of the period in which a check got a clear answer, raw or rolled up."""
    hours = scope.whole_hours()
    with _reading(store) as db:
        return {
            target: frozenset(
                _raw_clear_hours(db, target, hours) | _rolled_clear_hours(db, target, hours)
            )
            for target in _targets(db, scope)
        }


def _clip(start: datetime, end: datetime, scope: Scope) -> tuple[datetime, datetime]:
    """[start, end) within the scope's period (already whole hours)."""
    if scope.since and scope.since > start:
        start = scope.since
    if scope.until and scope.until < end:
        end = scope.until
    return start, end


def _first_and_last(moment: Column[datetime], of_target: Column[str]) -> Select[datetime, datetime]:
    # Two scalar subqueries: each min() or max() alone is one seek in the (target, moment)
    # index, both in one SELECT would read every row of the target.
    where = of_target == bindparam("target", type_=String())
    first = select(func.min(moment)).where(where).scalar_subquery()
    last = select(func.max(moment)).where(where).scalar_subquery()
    return select(first.label("first"), last.label("last"))


RAW_SPAN = _first_and_last(CHECKS.c.started_at, CHECKS.c.target)
ROLLED_SPAN = _first_and_last(CHECK_HOURS.c.hour, CHECK_HOURS.c.target)


def _raw_span(db: Connection, target: str) -> tuple[datetime, datetime] | None:
    """From the hour of the target's first raw check to the end of the hour of its last."""
    span = db.execute(RAW_SPAN, {"target": target}).one()
    start: datetime | None = span[0]
    end: datetime = span[1]
    if start is None:
        return None
    return floor_hour(start), floor_hour(end) + HOUR


def _rolled_span(db: Connection, target: str) -> tuple[datetime, datetime] | None:
    span = db.execute(ROLLED_SPAN, {"target": target}).one()
    start: datetime | None = span[0]
    end: datetime = span[1]
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
        CHECKS.c.target == target,
        CHECKS.c.status.in_(CLEAR),
        CHECKS.c.started_at >= grid.c.lo,
        CHECKS.c.started_at < grid.c.hi,
    )
    # The hours without a clear answer are few: fetch those, not the thousands of others.
    unobserved: list[int] = list(db.scalars(select(grid.c.n).where(~clear)))
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
    hour = _epoch_hour_sql(db, CHECK_HOURS.c.hour)
    query = select(hour).where(CHECK_HOURS.c.target == target, CHECK_HOURS.c.status.in_(CLEAR))
    if scope.since:
        query = query.where(CHECK_HOURS.c.hour >= scope.since)
    if scope.until:
        query = query.where(CHECK_HOURS.c.hour < scope.until)
    return set(db.scalars(query.distinct()))


def _epoch_hour_sql(
    db: Connection, at: ColumnElement[datetime] | Column[datetime]
) -> ColumnElement[int]:
    """`epoch_hour` computed by the database: thousands of hours are read as plain integers,
    not parsed into datetimes one by one."""
    if db.dialect.name == "sqlite":
        seconds = cast(func.strftime("%s", at), Integer)
    else:
        seconds = cast(func.floor(func.extract("epoch", at)), Integer)
    return seconds // 3600


# --- checks per local day ------------------------------------------------------------------------


def checks_per_day(store: Store, zone: ZoneInfo, scope: Scope) -> list[DayCounts]:
    """Each target's checks per status per local day, over the whole hours of the period, by
    target and day. Checks are not recorded per guichet: a guichet in the scope only selects
    the targets that have it."""
    hours = scope.whole_hours()
    counts: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    with _reading(store) as db:
        targets = _targets(db, scope)
        for target, day, status, checks in _status_days(db, targets, zone, hours):
            counts[target, day][status] += checks
    return [
        DayCounts(target, date.fromordinal(day), dict(counts[target, day]))
        for target, day in sorted(counts)
    ]


def _status_days(
    db: Connection, targets: Sequence[str], zone: ZoneInfo, scope: Scope
) -> Iterator[tuple[str, int, str, int]]:
    """(target, day ordinal, status, checks) from raw checks, then from the roll-up."""
    raw = _span([_raw_span(db, target) for target in targets], scope)
    if raw is not None:
        for chunk in _chunks(local_days(zone, *raw), DAYS_PER_GRID):
            yield from _raw_status_days(db, targets, chunk)
    rolled = _span([_rolled_span(db, target) for target in targets], scope)
    if rolled is not None:
        for chunk in _chunks(local_days(zone, *rolled), DAYS_PER_GRID):
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


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


# A statement holding a VALUES list is never in SQLAlchemy's cache of compiled statements:
# each execution compiled it again, milliseconds for a target page's 14 days. The day grid is
# rows of bound values joined by UNION ALL instead, one statement per number of days, built
# once and run with each target's values.
DAYS_PER_GRID = 400  # SQLite allows 500 SELECTs in one UNION ALL


def _grid_values(days: Sequence[tuple[int, datetime, datetime]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for index, (n, lo, hi) in enumerate(days):
        values.update({f"n{index}": n, f"lo{index}": lo, f"hi{index}": hi})
    return values


def _day_grid(count: int) -> CTE:
    """`count` days as rows (n, lo, hi) of bound values (`_grid_values`)."""
    rows = [
        select(
            bindparam(f"n{index}", type_=Integer()).label("n"),
            bindparam(f"lo{index}", type_=UTCDateTime()).label("lo"),
            bindparam(f"hi{index}", type_=UTCDateTime()).label("hi"),
        )
        for index in range(count)
    ]
    return (union_all(*rows) if count > 1 else rows[0]).cte("days")


@lru_cache(maxsize=16)
def _raw_status_days_query(count: int) -> Select[tuple[int, str, int]]:
    # One count per day and status: each a range of the (target, status, started_at) index,
    # so that no check is sorted or even read from the table.
    grid = _day_grid(count)
    statuses = union_all(*(select(literal(status, String()).label("name")) for status in STATUSES))
    named = statuses.cte("statuses")
    checks = (
        select(func.count())
        .where(
            CHECKS.c.target == bindparam("target", type_=String()),
            CHECKS.c.status == named.c.name,
            CHECKS.c.started_at >= grid.c.lo,
            CHECKS.c.started_at < grid.c.hi,
        )
        .scalar_subquery()
    )
    return select(grid.c.n, named.c.name, checks).select_from(grid.join(named, true()))


def _raw_status_days(
    db: Connection, targets: Sequence[str], days: Sequence[tuple[int, datetime, datetime]]
) -> list[tuple[str, int, str, int]]:
    query, values = _raw_status_days_query(len(days)), _grid_values(days)
    found = []
    for target in targets:
        rows = db.execute(query, {**values, "target": target})
        # Zero counts are dropped here: a WHERE on the count would run every probe twice.
        found += [(target, n, status, checks) for n, status, checks in row_values(rows) if checks]
    return found


@lru_cache(maxsize=16)
def _rolled_status_days_query(count: int) -> Select[tuple[int, str, int]]:
    grid = _day_grid(count)
    return (
        select(grid.c.n, CHECK_HOURS.c.status, func.sum(CHECK_HOURS.c.checks))
        .select_from(grid)
        .join(
            CHECK_HOURS,
            and_(
                CHECK_HOURS.c.target == bindparam("target", type_=String()),
                CHECK_HOURS.c.hour >= grid.c.lo,
                CHECK_HOURS.c.hour < grid.c.hi,
            ),
        )
        .group_by(grid.c.n, CHECK_HOURS.c.status)
    )


def _rolled_status_days(
    db: Connection, targets: Sequence[str], days: Sequence[tuple[int, datetime, datetime]]
) -> list[tuple[str, int, str, int]]:
    query, values = _rolled_status_days_query(len(days)), _grid_values(days)
    found = []
    for target in targets:
        rows = db.execute(query, {**values, "target": target})
        found += [(target, n, status, int(checks)) for n, status, checks in row_values(rows)]
    return found


# --- what the site said, totals, activity --------------------------------------------------------


def site_release_facts(store: Store, scope: Scope) -> dict[str, ReleaseAnnouncement]:
    """Per target, the release times the site itself announced in the latest of its recent
    checks (in the scope) that carried them."""
    said = {}
    query = _site_facts_query(bool(scope.since), bool(scope.until))
    with _reading(store) as db:
        for target in _targets(db, scope):
            facts = db.scalar(query, {**_values(scope), "target": target}) or {}
            found = ReleaseAnnouncement.from_facts(facts)
            if found is not None:
                said[target] = found
    return said


@lru_cache(maxsize=4)
def _site_facts_query(since: bool, until: bool) -> Select[Any]:
    recent = select(CHECKS.c.started_at, CHECKS.c.facts).where(
        CHECKS.c.target == bindparam("target", type_=String())
    )
    if since:
        recent = recent.where(CHECKS.c.started_at >= bindparam("since", type_=UTCDateTime()))
    if until:
        recent = recent.where(CHECKS.c.started_at < bindparam("until", type_=UTCDateTime()))
    latest = recent.order_by(CHECKS.c.started_at.desc()).limit(RECENT_CHECKS).subquery()
    return (
        select(latest.c.facts)
        .where(cast(latest.c.facts, Text).like('%release_at"%'))
        .order_by(latest.c.started_at.desc())
        .limit(1)
    )


def check_totals(store: Store, target: str | None = None) -> list[CheckTotals]:
    """Checks per status, raw and rolled-up, of each target (or one), by name."""
    raw = select(
        CHECKS.c.target,
        CHECKS.c.status,
        func.count(),
        func.min(CHECKS.c.started_at),
        func.max(CHECKS.c.started_at),
    ).group_by(CHECKS.c.target, CHECKS.c.status)
    rolled = select(
        CHECK_HOURS.c.target,
        CHECK_HOURS.c.status,
        func.sum(CHECK_HOURS.c.checks),
        func.min(CHECK_HOURS.c.hour),
        func.max(CHECK_HOURS.c.hour),
    ).group_by(CHECK_HOURS.c.target, CHECK_HOURS.c.status)
    if target:
        raw = raw.where(CHECKS.c.target == target)
        rolled = rolled.where(CHECK_HOURS.c.target == target)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    spans: dict[str, list[datetime]] = defaultdict(list)
    with _reading(store) as db:
        for query in (raw, rolled):
            for name, status, count, first, last in row_values(db.execute(query)):
                counts[name][status] += int(count)
                spans[name] += [first, last]
    return [
        CheckTotals(name, dict(counts[name]), min(spans[name]), max(spans[name]))
        for name in sorted(counts)
    ]


def checks_since(store: Store, since: datetime) -> dict[str, int]:
    """How many checks each target had since `since` (raw checks: the recent past)."""
    counts = (
        select(CHECKS.c.target, func.count())
        .where(CHECKS.c.started_at >= since)
        .group_by(CHECKS.c.target)
    )
    with _reading(store) as db:
        return dict(db.execute(counts).all())
