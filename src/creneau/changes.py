"""Which slots are new, still there, back, or gone: previous sightings + this check → changes;
and what the check says of the release the site announced (`follow_announcement`). Pure: no
database, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from creneau.expected import FOLLOWED_FOR, Announcement, Outcome
from creneau.results import CheckResult, Slot, Status, said_as_kept

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


# --- the release a site announced: what one check says of it -------------------------------


@dataclass(frozen=True)
class AnnouncementChange:
    """What one check did to a target's announced release: `previous`, the latest one as it
    stands after the check (None: untouched), `ended` if this check ended it (its outcome),
    and `started`, an announcement this check saw first (or announced anew after it ended).
    A check may end one and start the next: a changed instant, or a release after which the
    page announces the following one."""

    previous: Announcement | None = None
    ended: Outcome | None = None
    started: Announcement | None = None

    @property
    def saved(self) -> tuple[Announcement, ...]:
        """The rows to write, in order."""
        return tuple(row for row in (self.previous, self.started) if row is not None)


def follow_announcement(
    latest: Announcement | None, result: CheckResult, new_slots: bool
) -> AnnouncementChange:
    """The target's latest announcement (or None), one check, and whether it saw new slots
    → what changed. Only a clear answer (SETTLED) says what the site announces: a blocked or
    failed check changes nothing, except that time passes (FOLLOWED_FOR)."""
    said = announced(result)
    if latest is None or latest.outcome != "pending":
        return _after_ended(latest, result, said)
    now = result.checked_at
    ended = _ending(latest, result, said, new_slots)
    seen_again = said is not None and said[0] == latest.at
    if ended is None and not seen_again:
        return AnnouncementChange()
    previous = replace(
        latest,
        last_seen=now if seen_again else latest.last_seen,
        week=(said[1] if said is not None and seen_again else None) or latest.week,
        said=(_sentence(result) if seen_again else "") or latest.said,
        outcome=ended or "pending",
        released_seen_at=now if ended == "released" and new_slots else None,
    )
    started = _new(result, said) if said is not None and not seen_again else None
    return AnnouncementChange(previous, ended, started)


def announced(result: CheckResult) -> tuple[datetime, date | None] | None:
    """The instant and week a clear answer announces its next release at, if it does."""
    releases = result.releases
    if result.status not in SETTLED or releases is None or releases.next_at is None:
        return None
    return releases.next_at, releases.next_week


def _ending(
    latest: Announcement,
    result: CheckResult,
    said: tuple[datetime, date | None] | None,
    new_slots: bool,
) -> Outcome | None:
    """How this check ends a pending announcement at T, if it does. Slots seen from T on are
    the release; so is the page's "Dernière mise en ligne … T" (the site says it published,
    and no longer says "Prochaine": no withdrawal), even with no new slot seen."""
    now, at = result.checked_at, latest.at
    if now > at + FOLLOWED_FOR:
        return "no_slots"
    published = result.releases is not None and result.releases.last_at == at
    if (new_slots and now >= at) or published:
        return "released"
    if said is None:
        return "withdrawn" if result.status in SETTLED and now < at else None
    if said[0] == at:
        return None
    return "changed" if now < at else "no_slots"  # past T, the page moved on to the next


def _after_ended(
    latest: Announcement | None,
    result: CheckResult,
    said: tuple[datetime, date | None] | None,
) -> AnnouncementChange:
    """No announcement pending: one the page says is new, unless it is the one that just
    ended as released or without slots (the site's cache shows it a while after T); one
    that was changed or withdrawn and is announced again starts anew."""
    if said is None:
        return AnnouncementChange()
    if latest is not None and said[0] == latest.at and latest.outcome in ("released", "no_slots"):
        seen = replace(latest, last_seen=result.checked_at, said=_sentence(result) or latest.said)
        return AnnouncementChange(seen)
    return AnnouncementChange(started=_new(result, said))


def _new(result: CheckResult, said: tuple[datetime, date | None]) -> Announcement:
    now = result.checked_at
    return Announcement(
        result.target, said[0], said[1], first_seen=now, last_seen=now, said=_sentence(result)
    )


def _sentence(result: CheckResult) -> str:
    """The site's own sentence for the release this check says is next ("" when none)."""
    return said_as_kept(result.releases.next_said) if result.releases is not None else ""
