"""RDV Service Public (rdv.anct.gouv.fr, formerly RDV Solidarités): the public search of the
betagouv Rails app that mairies and some préfectures use, `/prendre_rdv?departement=…&
motif_name_with_location_type=…`.

One search URL walks the app's steps: the choice of a motif, then of a place (lieu), each
listed with its next availability, then a week of slots at one place (`lieu_id=…`), each slot
a link to the booking wizard (`/users/rdv_wizard_step/new?…&starts_at=…`). When nothing
matches, the page says "Malheureusement, aucun créneau correspondant à votre recherche n'a été
trouvé". Each place is a guichet.

This module owns the `rdvsp` target settings, the reading of those pages and the flow: the
search page, then the week of each listed place (at most `max_lieux` of them), following a
"Prochaine disponibilité" link once when a week is empty. It never requests a slot's link:
that is where booking starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, parse_qsl, urlencode, urljoin, urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator

from creneau.dates import FRENCH_MONTHS
from creneau.http import HostBudget
from creneau.page import Page
from creneau.results import GuichetResult, Slot, Status, overall_status
from creneau.sources import Choice, FlowOutcome, Reading
from creneau.sources.common import fold, looks_like_captcha, read_failure, visible_text
from creneau.targets import TargetBase

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

    from creneau.http import Session

SITE_ZONE = ZoneInfo("Europe/Paris")

# The app publishes no rate limit for its HTML pages (its Rack::Attack rule covers /api/v1
# only); one check is 1 + max_lieux (+1) requests, which this burst absorbs.
HOST_BUDGETS: dict[str, HostBudget] = {
    host: HostBudget(per_minute=6, burst=8)
    for host in ("rdv.anct.gouv.fr", "www.rdv-solidarites.fr", "www.rdv-aide-numerique.fr")
}

# --- everything this module knows of the site, in one place ----------------------------------

SEARCH_PATH = "/prendre_rdv"
# Where booking starts (slot links lead there): never requested, and not a valid target URL.
BOOKING_PATHS = ("/users/rdv_wizard_step", "/prescripteur", "/prendre_rdv_prescripteur")
PARAM_LIEU = "lieu_id"
PARAM_DATE = "date"
PARAM_STARTS_AT = "starts_at"
PARAM_MOTIF = "motif_name_with_location_type"
# A URL copied after browsing pins a week ("date") that goes stale: checks start from today.
STALE_PARAMS = ("date", "autofocus")

CRENEAUX_BLOCK = "div[id^='creneaux-lieu-']"  # _creneaux.html.slim: div id="creneaux-lieu-<id>"
CRENEAUX_BLOCK_PREFIX = "creneaux-lieu-"
SLOT_LINK = "a[href*='starts_at=']"  # link_to wizard_after_creneau_selection_path(starts_at:)
SELECTED_PLACE_NAME = "h2.card-title"  # _creneau_selection: the chosen lieu's card
PLACE_CARD = "div.card"  # _lieu_selection: one .card per lieu
PLACE_LINK = "a[href*='lieu_id=']"
PLACE_NAME = "h4.card-title"
MOTIF_LINK = "a[href*='motif_name_with_location_type=']"
MOTIF_NAME = "h3.card-title"  # _motif_selection_card.html.slim

# Phrases, matched on folded text (lower case, no accents, straight apostrophes).
NO_SLOT = re.compile(
    r"malheureusement, aucun creneau correspondant a votre (recherche|invitation) "
    r"n'a ete trouve"
)
NEXT_AVAILABILITY_LABEL = "prochaine disponibilite le"
MOTIF_CHOICE_HEADING = "selectionnez le motif de votre rdv"
# public/maintenance.html ("Service indisponible"), served by the host during an outage.
MAINTENANCE_PAGE = re.compile(r"rencontre un probleme, nous travaillons pour le resoudre")

# How the app writes a time in a link: Rails' TimeWithZone#to_s, "2026-12-01 09:00:00 +0100".
START_VALUE = re.compile(
    r"^\s*(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"(?:\.\d+)?\s*(?P<offset>Z|UTC|[+-]\d{2}:?\d{2})?\s*$"
)
# ... and in text, l(starts_at, format: :human): "mardi 01 décembre 2026 à 09h00" (folded).
HUMAN_TIME = re.compile(
    r"(?P<day>\d{1,2}) (?P<month>[a-z]+) (?P<year>\d{4}) a (?P<hour>\d{1,2})h(?P<minute>\d{2})"
)
FOLDED_MONTHS = tuple(fold(month) for month in FRENCH_MONTHS)  # the page text is folded

NEXT_FIELD = "next"  # Reading.fields key of the "Prochaine disponibilité" link
NEXT_FACT = "next_availability"  # Reading.facts key, ISO start; per place: "next_availability:<id>"
STOP_STATUSES = (Status.BLOCKED, Status.OVERLOADED, Status.CAPTCHA, Status.CLOSED)


class Target(TargetBase):
    """`url` is the search page as a person sees it once the motif is chosen, e.g.
    https://rdv.anct.gouv.fr/prendre_rdv?departement=92&motif_name_with_location_type=…
    (with `lieu_id=…` to watch one place only). Its `date` and `autofocus` are dropped: each
    check searches from today."""

    system: Literal["rdvsp"] = "rdvsp"
    lieux: list[str] = Field(
        default_factory=list, description="lieu ids (the lieu_id of the site's links); empty = all"
    )
    max_lieux: int = Field(
        default=6, ge=1, le=20, description="places whose week of slots is read per check"
    )

    @field_validator("url")
    @classmethod
    def _search_url(cls, url: str) -> str:
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        if path.startswith(BOOKING_PATHS):
            raise ValueError(
                f"this is a booking link ({path}), not a search: use the /prendre_rdv?… page "
                "that lists the places or the slots"
            )
        if path != SEARCH_PATH:
            raise ValueError(f'must be a search page, https://<host>/prendre_rdv?… (got "{url}")')
        if not parts.query:
            raise ValueError(
                "must carry the search parameters, e.g. /prendre_rdv?departement=92&"
                "motif_name_with_location_type=… (copy the address once the motif is chosen)"
            )
        return url

    @field_validator("lieux")
    @classmethod
    def _lieu_ids(cls, lieux: list[str], info: ValidationInfo) -> list[str]:
        for lieu in lieux:
            if not lieu.isdigit():
                raise ValueError(f'lieu ids are numbers, the lieu_id=… of the links (got "{lieu}")')
        pinned = _query_value(info.data.get("url", ""), PARAM_LIEU)
        if pinned and lieux and lieux != [pinned]:
            raise ValueError(
                f"the url already picks lieu_id={pinned}: drop `lieux` or the url's lieu_id"
            )
        return lieux


# --- parsing: pure functions of a page ---------------------------------------------------


def parse_page(page: Page, target: Target | None = None) -> Reading:
    """Classify one page of the public search."""
    text = visible_text(page.text)
    failure = read_failure(page, text)
    if (failure is None or failure.kind == "server-error") and MAINTENANCE_PAGE.search(text):
        return Reading("maintenance", Status.CLOSED, "the site shows its maintenance page")
    if failure is not None:
        return failure
    soup = _soup(page.text)
    if soup.select(SLOT_LINK):
        return _parse_slots(soup)
    if found := NO_SLOT.search(text):
        about = "search" if found.group(1) == "recherche" else "invitation"
        return Reading("no-slot", Status.NONE, f"the site says no slot matches the {about}")
    block = soup.select_one(CRENEAUX_BLOCK)
    if block is not None:
        return _parse_empty_week(soup, block)
    if places := _place_links(soup):
        return _parse_places(places)
    if MOTIF_CHOICE_HEADING in text and (motifs := _motif_choices(soup)):
        return Reading("motif-selection", None, f"{len(motifs)} motifs offered", choices=motifs)
    if looks_like_captcha(text):
        return Reading("captcha", Status.CAPTCHA, "the site asks for a CAPTCHA")
    return Reading("unknown", Status.UNKNOWN, "no place, slot or no-slot sentence on the page")


def _parse_slots(soup: Tag) -> Reading:
    place = _selected_place(soup)
    slots: set[Slot] = set()
    unreadable = 0
    for link in soup.select(SLOT_LINK):
        href = str(link.get("href", ""))
        start = parse_start(_query_value(href, PARAM_STARTS_AT))
        if start is None:
            unreadable += 1
            continue
        lieu = place.id or _query_value(href, PARAM_LIEU)
        slots.add(
            Slot(start=start, guichet_id=lieu, guichet=place.label, key=slot_key(lieu, start))
        )
    if not slots:
        return Reading(
            "unknown", Status.UNKNOWN, f"{unreadable} slot links without a readable time"
        )
    detail = f"{len(slots)} slots in the week shown"
    if unreadable:
        detail += f" ({unreadable} more links without a readable time)"
    choices = (place,) if place.id else ()
    return Reading("creneaux", Status.AVAILABLE, detail, choices, tuple(sorted(slots)))


def _parse_empty_week(soup: Tag, block: Tag) -> Reading:
    place = _selected_place(soup)
    choices = (place,) if place.id else ()
    for link in block.select("a[href]"):
        href = str(link.get("href", ""))
        if NEXT_AVAILABILITY_LABEL in fold(link.get_text(" ")) and _is_search_link(href):
            start = parse_start(_query_value(href, PARAM_DATE)) or parse_human(link.get_text(" "))
            facts = {NEXT_FACT: start.isoformat()} if start else {}
            return Reading(
                "next-availability",
                None,
                "no slot this week; the site links to its next availability",
                choices,
                fields=((NEXT_FIELD, href),),
                facts=facts,
            )
    return Reading(
        "unknown", Status.UNKNOWN, "a week of slots with no slot and no next availability", choices
    )


def _selected_place(soup: Tag) -> Choice:
    block = soup.select_one(CRENEAUX_BLOCK)
    lieu = str(block.get("id", ""))[len(CRENEAUX_BLOCK_PREFIX) :] if block is not None else ""
    heading = soup.select_one(SELECTED_PLACE_NAME)
    return Choice(lieu, _text(heading) if heading is not None else "")


@dataclass(frozen=True)
class _PlaceLink:
    place: Choice
    href: str
    next_start: datetime | None


def _place_links(soup: Tag) -> list[_PlaceLink]:
    """One entry per lieu, in the page's order (a lieu whose motif has a restriction has a
    second link, in its modal, to the same place)."""
    seen: dict[str, _PlaceLink] = {}
    for card in soup.select(PLACE_CARD):
        name = card.select_one(PLACE_NAME)
        for link in card.select(PLACE_LINK):
            href = str(link.get("href", ""))
            lieu = _query_value(href, PARAM_LIEU)
            if not lieu or lieu in seen or not _is_search_link(href) or name is None:
                continue
            start = parse_start(_query_value(href, PARAM_DATE)) or parse_human(link.get_text(" "))
            seen[lieu] = _PlaceLink(Choice(lieu, _text(name)), href, start)
    return list(seen.values())


def _parse_places(places: list[_PlaceLink]) -> Reading:
    facts = {
        f"{NEXT_FACT}:{link.place.id}": link.next_start.isoformat()
        for link in places
        if link.next_start is not None
    }
    return Reading(
        "lieu-selection",
        None,
        f"{len(places)} places with an availability",
        choices=tuple(link.place for link in places),
        fields=tuple((link.place.id, link.href) for link in places),
        facts=facts,
    )


def _motif_choices(soup: Tag) -> tuple[Choice, ...]:
    choices: dict[str, Choice] = {}
    for link in soup.select(MOTIF_LINK):
        motif = _query_value(str(link.get("href", "")), PARAM_MOTIF)
        name = link.select_one(MOTIF_NAME)
        if motif and motif not in choices:
            choices[motif] = Choice(motif, _text(name) if name is not None else motif)
    return tuple(choices.values())


def parse_start(value: str) -> datetime | None:
    """A time as the app writes it in its links, in Paris time; None when unreadable.
    Without an offset it is Paris wall-clock time."""
    found = START_VALUE.match(value)
    if found is None:
        return None
    try:
        day = datetime.fromisoformat(found.group("date"))
        wall = day.replace(
            hour=int(found.group("hour")),
            minute=int(found.group("minute")),
            second=int(found.group("second") or 0),
        )
    except ValueError:
        return None
    offset = found.group("offset")
    if offset is None:
        return wall.replace(tzinfo=SITE_ZONE)
    if offset in ("Z", "UTC"):
        return wall.replace(tzinfo=UTC).astimezone(SITE_ZONE)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    if minutes >= 24 * 60:
        return None
    return wall.replace(tzinfo=timezone(sign * timedelta(minutes=minutes))).astimezone(SITE_ZONE)


def parse_human(text: str) -> datetime | None:
    """'mardi 01 décembre 2026 à 09h00' → that time in Paris; None when unreadable."""
    found = HUMAN_TIME.search(fold(text))
    if found is None or found.group("month") not in FOLDED_MONTHS:
        return None
    try:
        return datetime(
            int(found.group("year")),
            FOLDED_MONTHS.index(found.group("month")) + 1,
            int(found.group("day")),
            int(found.group("hour")),
            int(found.group("minute")),
            tzinfo=SITE_ZONE,
        )
    except ValueError:
        return None


def slot_key(lieu: str, start: datetime) -> str:
    """Stable across checks: the app shows one slot per place and start time."""
    return f"{lieu}@{start.isoformat()}"


def _query_value(url: str, name: str) -> str:
    values = parse_qs(urlsplit(url).query).get(name, [])
    return values[-1] if values else ""


def _is_search_link(href: str) -> bool:
    return urlsplit(href).path.rstrip("/").endswith(SEARCH_PATH)


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


# --- the flow: which request next --------------------------------------------------------


def search_url(url: str) -> str:
    """The target's URL without the parameters that pin a week."""
    parts = urlsplit(url)
    kept = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in STALE_PARAMS
    ]
    return parts._replace(query=urlencode(kept), fragment="").geturl()


async def check(target: Target, session: Session) -> FlowOutcome:
    url = search_url(target.url)
    page = await session.get(url)
    reading = parse_page(page)
    if reading.kind == "lieu-selection":
        return await _read_places(target, session, page, reading)
    if reading.kind in ("creneaux", "next-availability"):
        lieu = _query_value(url, PARAM_LIEU)
        place = reading.choices[0] if reading.choices else Choice(lieu, f"lieu {lieu or '?'}")
        guichet, last = await _finish_place(session, place, page, reading)
        return _outcome((guichet,), last)
    if reading.kind == "motif-selection":
        offered = ", ".join(f'"{choice.id}"' for choice in reading.choices)
        detail = f"the URL stops at the choice of a motif: add {PARAM_MOTIF}= one of {offered}"
        return FlowOutcome((), Status.UNKNOWN, detail, page)
    return FlowOutcome((), reading.status or Status.UNKNOWN, reading.detail, page)


async def _read_places(
    target: Target, session: Session, page: Page, reading: Reading
) -> FlowOutcome:
    offered = {choice.id: choice for choice in reading.choices}
    links = dict(reading.fields)
    guichets: list[GuichetResult] = []
    last = page
    read = 0
    refused = False  # the site refused or failed: no more requests this check
    for lieu in target.lieux or list(offered):
        if lieu not in offered:
            guichets.append(_not_listed(lieu, offered))
            continue
        place = offered[lieu]
        if refused or read >= target.max_lieux:
            why = "the site refused or failed" if refused else f"max_lieux = {target.max_lieux}"
            guichets.append(_next_only(place, reading.facts, f"week not read: {why}"))
            continue
        read += 1
        guichet, last = await _read_place(session, place, urljoin(page.url, links[lieu]))
        guichets.append(guichet)
        refused = guichet.status in STOP_STATUSES
    return _outcome(tuple(guichets), last)


async def _read_place(session: Session, place: Choice, url: str) -> tuple[GuichetResult, Page]:
    page = await session.get(url)
    return await _finish_place(session, place, page, parse_page(page))


async def _finish_place(
    session: Session, place: Choice, page: Page, reading: Reading
) -> tuple[GuichetResult, Page]:
    if reading.kind == "next-availability":
        # An empty week (a place pinned in the URL, or a slot taken since the list was drawn):
        # the site links to the week of its next availability.
        page = await session.get(urljoin(page.url, dict(reading.fields)[NEXT_FIELD]))
        later = parse_page(page)
        if later.kind == "next-availability":
            facts = {f"{NEXT_FACT}:{place.id}": later.facts.get(NEXT_FACT, "")}
            detail = "the site announces a next availability but shows no slot in its week"
            return _next_only(place, facts, detail), page
        reading = later
    if reading.kind == "creneaux":
        slots = tuple(_at_place(slot, place) for slot in reading.slots)
        return GuichetResult(place.id, place.label, Status.AVAILABLE, slots, reading.detail), page
    status = reading.status or Status.UNKNOWN
    detail = reading.detail if reading.status else f"unexpected {reading.kind} page"
    return GuichetResult(place.id, place.label, status, detail=detail), page


def _next_only(place: Choice, facts: dict[str, str], why: str) -> GuichetResult:
    """A place known only by the next availability the site announced for it."""
    start = parse_start(facts.get(f"{NEXT_FACT}:{place.id}", ""))
    if start is None:
        detail = f"{why}; its next availability could not be read"
        return GuichetResult(place.id, place.label, Status.UNKNOWN, detail=detail)
    slot = Slot(
        start=start, guichet_id=place.id, guichet=place.label, key=slot_key(place.id, start)
    )
    detail = f"{why}; only its next availability is known"
    return GuichetResult(place.id, place.label, Status.AVAILABLE, (slot,), detail)


def _not_listed(lieu: str, offered: dict[str, Choice]) -> GuichetResult:
    # The app lists only the places that have an availability (SearchContext's
    # next_availability_by_lieux drops the others): a place it does not list has none.
    listed = ", ".join(offered) or "none"
    detail = f"not listed: the site lists only places with an availability (listed: {listed})"
    return GuichetResult(lieu, f"lieu {lieu}", Status.NONE, detail=detail)


def _at_place(slot: Slot, place: Choice) -> Slot:
    return Slot(slot.start, place.id, place.label, slot_key(place.id, slot.start))


def _outcome(guichets: tuple[GuichetResult, ...], last: Page) -> FlowOutcome:
    status = overall_status([guichet.status for guichet in guichets])
    if len(guichets) == 1:
        return FlowOutcome(guichets, status, guichets[0].detail, last)
    detail = "; ".join(
        f"{g.label}: {g.detail}" for g in guichets if g.status is not Status.AVAILABLE and g.detail
    )
    found = sum(len(g.slots) for g in guichets)
    summary = f"{len(guichets)} places, {found} slots"
    return FlowOutcome(guichets, status, f"{summary}; {detail}" if detail else summary, last)


def _soup(markup: str) -> BeautifulSoup:
    """BeautifulSoup is imported when a page is parsed: a daemon without a target of this
    system never loads it."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(markup, "lxml")
