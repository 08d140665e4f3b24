"""What to tell whom: turns slot changes into messages and routes them to channel URLs.
Pure: the store writes the result in the check's own transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from creneau.politeness import HostTransition
from creneau.results import Slot, Status
from creneau.store import Destination, OutboxMessage

if TYPE_CHECKING:
    from creneau.config import Config

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


def host_message(transition: HostTransition, zone: ZoneInfo) -> OutboxMessage:
    """One alert when a host starts refusing or failing, one when it answers again."""
    host = transition.host
    if transition.kind == "up":
        return OutboxMessage(
            target="",
            kind="trouble",
            title=f"Site de nouveau joignable : {host}",
            body=f"{host} répond de nouveau ; creneau a repris la surveillance.",
        )
    blocked = transition.status is Status.BLOCKED
    until = transition.until.astimezone(zone).strftime("%H:%M") if transition.until else "?"
    return OutboxMessage(
        target="",
        kind="trouble",
        title=f"Site {'bloqué' if blocked else 'surchargé'} : {host}",
        body=(
            f"{host} {'refuse nos requêtes' if blocked else 'est surchargé'} "
            f"({transition.reason}). creneau se met en pause et réessaiera vers {until}, "
            "tout seul : vous n'avez rien à faire. Vous serez prévenu quand le site "
            "répondra de nouveau."
        ),
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


@dataclass(frozen=True)
class Routing:
    """Where a target's alerts go."""

    zone: ZoneInfo
    destinations: Sequence[Destination] = ()  # the target's channels
    host_destinations: Sequence[Destination] = ()  # channels of every target on its host


def routes(config: Config) -> dict[str, Routing]:
    """Each target's routing: its own channels, and for host-wide news (a site that blocks
    or recovers) the channels of every target on the same host, each URL once."""
    own = {
        target.name: destinations([(c.name, c.secret_urls) for c in config.channels_for(target)])
        for target in config.targets
    }
    by_host: dict[str, dict[str, Destination]] = defaultdict(dict)
    for target in config.targets:
        for destination in own[target.name]:
            by_host[target.host][destination.key] = destination
    return {
        target.name: Routing(
            config.creneau.zone, own[target.name], list(by_host[target.host].values())
        )
        for target in config.targets
    }


PERSON_NEEDED = (Status.CAPTCHA, Status.UNKNOWN)
ALERT_AT_MOST_EVERY = timedelta(hours=1)


def person_alert_due(
    previous: str | None, previous_at: datetime | None, status: Status, now: datetime
) -> bool:
    """Alert when a target enters a state only a person can resolve (a CAPTCHA, a page that
    changed), once per state change and never more than once an hour per target."""
    if status not in PERSON_NEEDED or previous == status.value:
        return False
    return previous_at is None or now - previous_at >= ALERT_AT_MOST_EVERY


def next_alert_state(previous: str | None, status: Status, alerted: bool) -> str | None:
    """A good answer clears the state; other troubles leave it as it was."""
    if alerted:
        return status.value
    if status in (Status.AVAILABLE, Status.NONE):
        return None
    return previous


def person_message(
    target: str, url: str, status: Status, detail: str, saved_page: str | None
) -> OutboxMessage:
    if status is Status.CAPTCHA:
        return OutboxMessage(
            target=target,
            kind="trouble",
            title=f"Action requise : {target}",
            body=(
                f"{target} : le site demande un CAPTCHA. creneau ne le résout jamais. "
                f"Lancez « creneau captcha {target} » et recopiez le code de l'image ; "
                f"creneau reprendra ensuite la surveillance.\n{url}"
            ),
        )
    where = f"\nPage enregistrée : {saved_page}" if saved_page else ""
    return OutboxMessage(
        target=target,
        kind="trouble",
        title=f"Page modifiée : {target}",
        body=(
            f"{target} : creneau ne reconnaît plus la page ({detail}). Impossible de dire "
            f"s'il y a des créneaux : vérifiez vous-même.\n{url}{where}"
        ),
    )
