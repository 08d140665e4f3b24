"""What to tell whom: turns slot changes into messages and routes them to channel URLs.
Pure: the store writes the result in the check's own transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from creneau.results import Slot
from creneau.store import Destination, OutboxMessage

NEVER_BOOKS = "creneau ne réserve jamais à votre place : réservez vous-même sur le site."

_WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def french_datetime(slot: Slot, zone: ZoneInfo) -> str:
    """'mardi 1 décembre 2026 à 09:00' in the user's time zone."""
    at = slot.start.astimezone(zone)
    return f"{_WEEKDAYS[at.weekday()]} {at.day} {_MONTHS[at.month - 1]} {at.year} à {at:%H:%M}"


def new_slots_message(
    target: str, url: str, slots: Sequence[Slot], zone: ZoneInfo
) -> OutboxMessage:
    """One message per target per check: how many, where, when, and the booking page."""
    by_guichet: dict[str, list[Slot]] = defaultdict(list)
    for slot in sorted(slots):
        by_guichet[slot.guichet or slot.guichet_id].append(slot)
    count = len(slots)
    noun = "nouveau créneau" if count == 1 else "nouveaux créneaux"
    title = f"{count} {noun} — {', '.join(by_guichet)}"
    lines = [f"{target} : {count} {noun}", ""]
    for guichet, guichet_slots in by_guichet.items():
        lines.append(guichet)
        lines += [f"  • {french_datetime(slot, zone)}" for slot in guichet_slots]
        lines.append("")
    lines += [f"Réserver : {url}", NEVER_BOOKS]
    return OutboxMessage(
        target=target,
        kind="slots",
        title=title,
        body="\n".join(lines),
        extra={"slots": [slot.to_json() for slot in sorted(slots)]},
    )


def test_message() -> OutboxMessage:
    return OutboxMessage(
        target="",
        kind="test",
        title="creneau : message de test",
        body="Ce canal recevra les alertes de créneaux. " + NEVER_BOOKS,
    )


def destinations(channels: Sequence[tuple[str, Sequence[str]]]) -> list[Destination]:
    """(channel name, its URLs) pairs → one destination per URL."""
    return [Destination(name, url) for name, urls in channels for url in urls]
