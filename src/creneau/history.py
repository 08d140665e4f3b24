"""Questions answered from the store alone: when were slots released, how often was the
site even reachable."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from creneau.store import Store
from creneau.store.schema import CheckRow, SlotRow


@dataclass(frozen=True)
class Release:
    """Slots first seen in one check at one guichet. The release happened between
    `previous_check_at` (the last check that did not see them) and `seen_at`."""

    target: str
    guichet_id: str
    guichet: str
    seen_at: datetime
    previous_check_at: datetime | None
    slot_starts: tuple[datetime, ...]

    @property
    def slot_count(self) -> int:
        return len(self.slot_starts)

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


@dataclass(frozen=True)
class TargetSummary:
    target: str
    checks: int
    by_status: dict[str, int]
    first_check: datetime | None
    last_check: datetime | None
    releases: int
    last_release: Release | None


def releases(store: Store, target: str | None = None) -> list[Release]:
    query = (
        select(
            SlotRow.target,
            SlotRow.guichet_id,
            SlotRow.guichet,
            SlotRow.start,
            SlotRow.first_check_id,
            SlotRow.previous_check_at,
            CheckRow.started_at,
        )
        .join(CheckRow, CheckRow.id == SlotRow.first_check_id)
        .order_by(CheckRow.started_at, SlotRow.guichet_id, SlotRow.start)
    )
    if target:
        query = query.where(SlotRow.target == target)
    grouped: dict[tuple[int, str], list[Any]] = defaultdict(list)
    with store.read() as session:
        for row in session.execute(query):
            grouped[(row.first_check_id, row.guichet_id)].append(row)
        found = []
        for rows in grouped.values():
            first = rows[0]
            found.append(
                Release(
                    target=first.target,
                    guichet_id=first.guichet_id,
                    guichet=first.guichet,
                    seen_at=first.started_at,
                    previous_check_at=first.previous_check_at,
                    slot_starts=tuple(row.start for row in rows),
                )
            )
    return found


def summaries(store: Store, target: str | None = None) -> list[TargetSummary]:
    query = select(
        CheckRow.target,
        CheckRow.status,
        func.count(),
        func.min(CheckRow.started_at),
        func.max(CheckRow.started_at),
    ).group_by(CheckRow.target, CheckRow.status)
    if target:
        query = query.where(CheckRow.target == target)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    spans: dict[str, list[datetime]] = defaultdict(list)
    with store.read() as session:
        for name, status, count, first, last in session.execute(query):
            counts[name][status] += count
            spans[name] += [first, last]
    all_releases = releases(store, target)
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
    releases_at = select(SlotRow.target, func.max(SlotRow.first_seen)).group_by(SlotRow.target)
    with store.read() as session:
        checks = dict(session.execute(counts).all())
        last_release = dict(session.execute(releases_at).all())
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
