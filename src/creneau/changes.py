"""Which slots are new, still there, back, or gone: previous sightings + this check → changes.
Pure: no database, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from creneau.results import CheckResult, Slot, Status

# Only a guichet that answered "these are the slots" or "no slot" says anything about what
# disappeared; a blocked, failed or unrecognised answer leaves earlier slots as they were.
SETTLED = (Status.AVAILABLE, Status.NONE)
HYSTERESIS = timedelta(minutes=10)


@dataclass(frozen=True)
class KnownSlot:
    id: int
    guichet_id: str
    start: datetime
    first_seen: datetime
    gone_at: datetime | None
    guichet: str = ""
    key: str = ""

    def as_slot(self) -> Slot:
        return Slot(self.start, self.guichet_id, self.guichet, self.key)


@dataclass(frozen=True)
class SlotChanges:
    new: list[Slot] = field(default_factory=list)  # never seen before
    # Gone a while, and back (a booking cancelled, a desk reopened): a new appearance, announced
    # again and recorded beside the earlier one, which keeps its own first and last sighting.
    returned: list[Slot] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)  # blinked out and back: not new
    still_open: list[int] = field(default_factory=list)
    gone: list[KnownSlot] = field(default_factory=list)

    @property
    def appeared(self) -> list[Slot]:
        """Slots to announce: new ones and ones that came back after a while."""
        return sorted(self.new + self.returned)


def diff_slots(
    known: list[KnownSlot], result: CheckResult, hysteresis: timedelta = HYSTERESIS
) -> SlotChanges:
    settled = _settled_guichets(known, result)
    by_key = _latest_appearances(known)
    changes = SlotChanges()
    seen_keys = set()
    for slot in result.slots:
        key = (slot.guichet_id, slot.start)
        if key in seen_keys:
            continue
        seen_keys.add(key)
        earlier = by_key.get(key)
        if earlier is None:
            changes.new.append(slot)
        elif earlier.gone_at is None:
            changes.still_open.append(earlier.id)
        elif result.checked_at - earlier.gone_at < hysteresis:
            changes.reopened.append(earlier.id)
        else:
            changes.returned.append(slot)
    read_until = {g.id: g.read_until for g in result.guichets if g.read_until is not None}
    for key, earlier in by_key.items():
        if earlier.gone_at is None and key not in seen_keys and earlier.guichet_id in settled:
            limit = read_until.get(earlier.guichet_id)
            if limit is None or earlier.start < limit:
                changes.gone.append(earlier)
    return changes


def _latest_appearances(known: list[KnownSlot]) -> dict[tuple[str, datetime], KnownSlot]:
    latest: dict[tuple[str, datetime], KnownSlot] = {}
    for sighting in known:
        key = (sighting.guichet_id, sighting.start)
        if key not in latest or sighting.first_seen > latest[key].first_seen:
            latest[key] = sighting
    return latest


def _settled_guichets(known: list[KnownSlot], result: CheckResult) -> set[str]:
    # A guichet said to be available without any slot listed (only "from such a day") does
    # not say which earlier slots went.
    settled = {
        g.id
        for g in result.guichets
        if g.status is Status.NONE or (g.status is Status.AVAILABLE and g.slots)
    }
    if result.complete and result.status in SETTLED:
        present = {g.id for g in result.guichets}
        settled |= {k.guichet_id for k in known if k.guichet_id not in present}
    if result.status is Status.NONE:
        # The page as a whole says "no slot": every guichet seen before is settled, even one
        # a page only names beside its slots (html tables do).
        settled |= {k.guichet_id for k in known}
    return settled
