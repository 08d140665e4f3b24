"""Releases and slot lifetimes, from the slot appearances and the last clear answer before
each (see `creneau.history` for the definitions)."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from creneau.store.history import SlotAppearance

PRECISE_WITHIN = timedelta(hours=1)

# (target, seen at) of a check that first saw slots → the last clear answer before it.
LastClearChecks = Mapping[tuple[str, datetime], datetime]


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


def releases_of(appearances: Sequence[SlotAppearance], since: LastClearChecks) -> list[Release]:
    """The releases among slot appearances (in the store's order: by first sighting, target,
    guichet, start): one per check and guichet that has a clear answer before it; the others
    are first sightings, left out."""
    groups = itertools.groupby(
        appearances, key=lambda slot: (slot.target, slot.guichet_id, slot.first_seen)
    )
    found = []
    for (target, _guichet, seen_at), group in groups:
        if (target, seen_at) in since:
            found.append(_release(list(group), since[target, seen_at]))
    return found


def _release(slots: Sequence[SlotAppearance], previous_clear_check: datetime) -> Release:
    first = slots[0]
    return Release(
        target=first.target,
        guichet_id=first.guichet_id,
        guichet=first.guichet,
        seen_at=first.first_seen,
        previous_check_at=previous_clear_check,
        slot_starts=tuple(slot.start for slot in slots),
        slot_gone_at=tuple(slot.gone_at for slot in slots),
    )


def release_times_of(since: LastClearChecks) -> list[datetime]:
    """When each release most likely happened, oldest first: halfway between the last clear
    check that did not show its slots and the check that did."""
    return sorted(seen - (seen - previous) / 2 for (_, seen), previous in since.items())


def quantile(durations: Sequence[timedelta], q: float) -> timedelta | None:
    """The q-quantile, interpolating linearly between ranks (numpy's default); None if empty."""
    if not durations:
        return None
    ordered = sorted(durations)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


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


def lifetimes_of(found: Iterable[Release]) -> list[Lifetime]:
    """One line per guichet, by target and guichet id."""
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
