"""Which slots are new, still there, back, or gone: previous sightings + this check → changes.
Pure: no database, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from creneau.results import CheckResult, Slot, Status

# Only a guichet that answered "these are the slots" or "no slot" says anything about what
# disappeared; a blocked, failed or unrecognised answer leaves earlier slots as they were.
SETTLED = (Status.AVAILABLE, Status.NONE)


@dataclass(frozen=True)
class KnownSlot:
    id: int
    guichet_id: str
    start: datetime
    first_seen: datetime
    gone_at: datetime | None


@dataclass(frozen=True)
class SlotChanges:
    new: list[Slot] = field(default_factory=list)  # never seen before
    returned: list[int] = field(default_factory=list)  # seen, gone, and now back
    returned_slots: list[Slot] = field(default_factory=list)
    still_open: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)

    @property
    def appeared(self) -> list[Slot]:
        """Slots to announce: new ones and ones that came back."""
        return sorted(self.new + self.returned_slots)


def diff_slots(known: list[KnownSlot], result: CheckResult) -> SlotChanges:
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
    by_key = {(k.guichet_id, k.start): k for k in known}
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
        elif earlier.gone_at is not None:
            changes.returned.append(earlier.id)
            changes.returned_slots.append(slot)
        else:
            changes.still_open.append(earlier.id)
    for key, earlier in by_key.items():
        if earlier.gone_at is None and key not in seen_keys and earlier.guichet_id in settled:
            changes.gone.append(earlier.id)
    return changes
