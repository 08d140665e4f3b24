"""RDV Service Public (rdv.anct.gouv.fr, formerly RDV Solidarités): the public search of the
betagouv Rails app that mairies and some préfectures use, `/prendre_rdv?…`.

One search URL walks the app's steps (`CreneauWizardForUsers::CurrentStepPicker`): the choice
of a motif; for passport and identity-card motifs, the number of ANTS pre-applications
(`ants_pre_demandes_count`); then, for a motif at a place, the choice of a place (lieu), or,
for a motif without a place (phone, at home), the choice of an organisation; each listed with
its next availability; then a week of slots, each slot a link to the booking wizard
(`/users/rdv_wizard_step/new?…&starts_at=…`). When nothing matches, the page says "aucun
créneau correspondant à votre recherche n'a été trouvé". Each place (or organisation) is a
guichet. Evidence for every name below: fixtures/rdvsp/SOURCES.md.

This module owns the `rdvsp` target settings, the reading of those pages and the flow: the
search page, the pre-application count when the site asks for it, then the week of each
listed place or organisation (at most `max_lieux`), following a "Prochaine disponibilité"
link once when a week is empty. It never requests a slot's link: that is where booking starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, parse_qsl, urlencode, urljoin, urlsplit

from pydantic import Field, ValidationInfo, field_validator

from creneau.dates import FRENCH_MONTHS
from creneau.details import Detail, joined
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import GuichetResult, Slot, Status, overall_status
from creneau.sources.common import (
    MAX_ELEMENTS_READ,
    SITE_ZONE,
    Cut,
    bounded_soup,
    fold,
    looks_like_captcha,
    read_failure,
    visible_text,
)
from creneau.sources.reading import (
    CUT_SHORT,
    MAX_SLOTS_PER_PAGE,
    Choice,
    FlowOutcome,
    PageReading,
    Reading,
    parsed,
    with_not_kept,
)
from creneau.targets import TargetBase

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

    from creneau.sources.session import Session


KEEPS_SESSION = False  # each check starts a new site session

# unconfirmed: the app publishes no rate limit for its HTML pages (its Rack::Attack rule
# covers /api/v1 only); one check is 2 + max_lieux (+1) requests, which this burst absorbs.
HOST_BUDGETS: dict[str, HostBudget] = {
    host: HostBudget(per_minute=6, burst=8)
    for host in ("rdv.anct.gouv.fr", "www.rdv-solidarites.fr", "www.rdv-aide-numerique.fr")
}

# --- everything this module knows of the site, in one place ----------------------------------

SEARCH_PATH = "/prendre_rdv"  # prendre_rdv_path
# Where booking starts (slot links lead there): never requested, and not a valid target URL.
BOOKING_PATHS = ("/users/rdv_wizard_step", "/prescripteur", "/prendre_rdv_prescripteur")
PARAM_LIEU = "lieu_id"
PARAM_ORGANISATION = "user_selected_organisation_id"  # _organisation_selection
PARAM_PUBLIC_LINK = (
    "public_link_organisation_id"  # SearchController#redirect_to_organisation_search
)
PARAM_DATE = "date"
PARAM_STARTS_AT = "starts_at"
PARAM_MOTIF = "motif_name_with_location_type"
PARAM_ANTS_COUNT = "ants_pre_demandes_count"  # _ants_pre_demandes_count_selection
# A URL copied after browsing pins a week ("date") that goes stale: checks start from today.
STALE_PARAMS = ("date", "autofocus")

CRENEAUX_BLOCK = "div[id^='creneaux-lieu-']"  # _creneaux: div id="creneaux-lieu-#{lieu&.id}"
CRENEAUX_BLOCK_PREFIX = "creneaux-lieu-"
SLOT_LINK = "a[href*='starts_at=']"  # link_to wizard_after_creneau_selection_path(starts_at:)
SELECTED_PLACE_NAME = "h2.card-title"  # _creneau_selection (2024): the chosen lieu's card
SUMMARY_ITEM = "li.list-group-item"  # _selected_motif_recap (2025+): "Lieu : <full name>"
SUMMARY_PLACE_LABEL = "lieu :"
# What names a listed place or organisation: the link itself (DSFR cards, 2025+:
# `.fr-card__title = link_to name, …`), else the card's title (2024: h4.card-title).
PLACE_LINK = "a[href*='lieu_id=']"  # _lieu_selection: prendre_rdv_path(…lieu_id:, date:)
ORGANISATION_LINK = "a[href*='user_selected_organisation_id=']"  # _organisation_selection
CARD_CLASSES = ["card", "fr-card"]
CARD_TITLE = ".fr-card__title, h4.card-title, h3.card-title"
MOTIF_LINK = "a[href*='motif_name_with_location_type=']"
MOTIF_NAME = "h3.card-title"  # _motif_selection_card (2024); _motif_card (2025+) names the link
ANTS_COUNT_INPUT = "input[name='ants_pre_demandes_count']"  # f.text_field :ants_pre_demandes_count
HIDDEN_INPUT = "input[type='hidden'][name]"  # hidden_field_tag key, value
# AntsPreDemandesCountValidator.count_valid?: 1 to 6 ("entre 1 et 6"); the form's own
# default is 1 (`value: context.query_params[:ants_pre_demandes_count] || 1`).
ANTS_COUNT_MIN, ANTS_COUNT_MAX, ANTS_COUNT_DEFAULT = 1, 6, 1

# Phrases, matched on folded text (lower case, no accents, straight apostrophes).
NO_SLOT = re.compile(r"aucun creneau correspondant a votre (recherche|invitation) n'a ete trouve")
# _nothing_to_show, its follow-up branch: the user's referent(s) have no free slot.
REFERENT_NO_SLOT = re.compile(r"votre referent n'a pas de creneaux disponibles")
# _creneaux: a day after the motif's max_public_booking_delay.
BOOKING_CLOSED_DAY = "date fermee a la reservation"
NEXT_AVAILABILITY_LABEL = "prochaine disponibilite le"
MOTIF_CHOICE_HEADING = "selectionnez le motif de votre rdv"
ANTS_COUNT_REFUSED = "veuillez choisir un nombre de pre-demandes entre 1 et 6"
# public/maintenance.html ("Service indisponible"), served by the host during an outage.
MAINTENANCE_PAGE = re.compile(r"rencontre un probleme, nous travaillons pour le resoudre")
# Link texts that name no place: the "next availability" link (2024) and a restriction
# modal's confirm button (2025+, `confirm_message: "Accepter"`).
GENERIC_LINK_TEXTS = (NEXT_AVAILABILITY_LABEL, "accepter")
MODAL_CLASS = "modal"  # common/_modal: div.modal.fade id=…
CHOICE_NOUNS = {
    PARAM_LIEU: "lieu", PARAM_ORGANISATION: "organisation", PARAM_PUBLIC_LINK: "organisation",
}  # fmt: skip

# How the app writes a time in a link: Rails' TimeWithZone#to_s, "2026-12-01 09:00:00 +0100".
START_VALUE = re.compile(
    r"^\s*(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"(?:\.\d+)?\s*(?P<offset>Z|UTC|[+-]\d{2}:?\d{2})?\s*$"
)
# ... and in text, l(starts_at, format: :human): "mardi 01 décembre 2026 à 09h00" (folded).
# unconfirmed: the locale's :human format was not read; used only when a link has no date=.
HUMAN_TIME = re.compile(
    r"(?P<day>\d{1,2}) (?P<month>[a-z]+) (?P<year>\d{4}) a (?P<hour>\d{1,2})h(?P<minute>\d{2})"
)
FOLDED_MONTHS = tuple(fold(month) for month in FRENCH_MONTHS)  # the page text is folded

# Kinds of page, and the rules (names above) that decide them.
KIND_SLOTS, KIND_EMPTY_WEEK = "creneaux", "next-availability"
KIND_PLACES, KIND_ORGANISATIONS = "lieu-selection", "organisation-selection"
KIND_MOTIFS, KIND_ANTS_COUNT = "motif-selection", "ants-count"
INTERMEDIATE_KINDS = (
    KIND_EMPTY_WEEK,
    KIND_PLACES,
    KIND_ORGANISATIONS,
    KIND_MOTIFS,
    KIND_ANTS_COUNT,
)

UNKNOWN_PAGE = Detail("rdvsp.unknown_page")  # what none of the rules saw

NEXT_FIELD = "next"  # Reading.fields key of the "Prochaine disponibilité" link
ACTION_FIELD = "@action"  # Reading.fields key of the count form's action (no input has this name)
NEXT_FACT = "next_availability"  # Reading.facts key, ISO start; per place: "next_availability:<id>"
ANTS_COUNT_FACT = "ants_pre_demandes_count"  # the count a check searched with
STOP_STATUSES = (Status.BLOCKED, Status.OVERLOADED, Status.CAPTCHA, Status.CLOSED)
MAX_READ_FROM = 120


class Target(TargetBase):
    """`url` is the search page as a person sees it once the motif is chosen, e.g.
    https://rdv.anct.gouv.fr/prendre_rdv?public_link_organisation_id=…&departement=92&
    motif_name_with_location_type=… (with `lieu_id=…` to watch one place only). Its `date`
    and `autofocus` are dropped: each check searches from today."""

    system: Literal["rdvsp"] = "rdvsp"
    lieux: list[str] = Field(
        default_factory=list, description="lieu ids (the lieu_id of the site's links); empty = all"
    )
    organisations: list[str] = Field(
        default_factory=list,
        description="for motifs without a place (phone, at home): organisation ids (the "
        "user_selected_organisation_id of the site's links); empty = all",
    )
    max_lieux: int = Field(
        default=6,
        ge=1,
        le=20,
        description="places (or organisations) whose week of slots is read per check",
    )
    ants_pre_demandes_count: int | None = Field(
        default=None,
        ge=ANTS_COUNT_MIN,
        le=ANTS_COUNT_MAX,
        description="passport / identity card: how many people apply together (the site's "
        f"ants_pre_demandes_count, {ANTS_COUNT_MIN}-{ANTS_COUNT_MAX}); default: the URL's, else "
        f"{ANTS_COUNT_DEFAULT}",
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
                "must carry the search parameters, e.g. /prendre_rdv?public_link_organisation_id="
                "…&departement=92&motif_name_with_location_type=… (copy the address once the "
                "motif is chosen)"
            )
        return url

    @field_validator("lieux")
    @classmethod
    def _lieu_ids(cls, lieux: list[str], info: ValidationInfo) -> list[str]:
        return _ids(lieux, info.data.get("url", ""), PARAM_LIEU, "lieux", "lieu ids")

    @field_validator("organisations")
    @classmethod
    def _organisation_ids(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        url = info.data.get("url", "")
        return _ids(ids, url, PARAM_ORGANISATION, "organisations", "organisation ids")

    @field_validator("ants_pre_demandes_count")
    @classmethod
    def _same_count_as_url(cls, count: int | None, info: ValidationInfo) -> int | None:
        in_url = _query_value(info.data.get("url", ""), PARAM_ANTS_COUNT)
        if count is not None and in_url and in_url != str(count):
            raise ValueError(
                f"the url already says {PARAM_ANTS_COUNT}={in_url}: drop one of the two"
            )
        return count


def _ids(ids: list[str], url: str, param: str, field: str, what: str) -> list[str]:
    for value in ids:
        if not value.isdigit():
            raise ValueError(f'{what} are numbers, the {param}=… of the links (got "{value}")')
    pinned = _query_value(url, param)
    if pinned and ids and ids != [pinned]:
        raise ValueError(f"the url already picks {param}={pinned}: drop `{field}` or the url's")
    return ids


# --- parsing: pure functions of a page ---------------------------------------------------


def parse_page(page: Page, target: Target | None = None) -> Reading:
    """Classify one page of the public search (sources.reading.PageReading's precedence)."""
    return _PageRead(page).reading()


class _PageRead(PageReading[Reading]):
    def __init__(self, page: Page) -> None:
        self.page = page
        self.text = visible_text(page.text)

    def refusal(self) -> Reading | None:
        return _failure_reading(self.page, self.text) if self.page.status in (403, 429) else None

    def slots(self) -> Reading | None:
        soup, cut = self._soup
        return _parse_slots(soup, cut) if soup.select_one(SLOT_LINK) else None

    def banner(self) -> Reading | None:
        return _failure_reading(self.page, self.text)

    def rest(self) -> Reading:
        soup, cut = self._soup
        return _without_slots(soup, cut, self.text)

    @cached_property
    def _soup(self) -> tuple[BeautifulSoup, Cut]:
        return bounded_soup(self.page.text)


def _without_slots(soup: Tag, cut: Cut, text: str) -> Reading:
    """A page with no slot link and no banner: a step of the search, or why no slot."""
    if cut.shapes:
        # Slot links may lie in the part not read: never "none", whatever the page says.
        detail = Detail("page_too_large", elements=MAX_ELEMENTS_READ)
        return Reading("too-large", Status.UNKNOWN, detail, rule="MAX_ELEMENTS_READ")
    if found := NO_SLOT.search(text):
        search = found.group(1) == "recherche"
        none = Detail("rdvsp.no_slot_search" if search else "rdvsp.no_slot_invitation")
        return Reading("no-slot", Status.NONE, none, rule="NO_SLOT")
    if REFERENT_NO_SLOT.search(text):
        detail = Detail("rdvsp.referent_no_slot")
        return Reading("no-slot", Status.NONE, detail, rule="REFERENT_NO_SLOT")
    if form := _ants_count_form(soup):
        return _parse_ants_count(form, text)
    block = soup.select_one(CRENEAUX_BLOCK)
    if block is not None:
        return _parse_empty_week(soup, block)
    if places := _choice_links(soup, PLACE_LINK, PARAM_LIEU):
        return _parse_choices(KIND_PLACES, places, "PLACE_LINK")
    if organisations := _choice_links(soup, ORGANISATION_LINK, PARAM_ORGANISATION):
        return _parse_choices(KIND_ORGANISATIONS, organisations, "ORGANISATION_LINK")
    if MOTIF_CHOICE_HEADING in text and (motifs := _motif_choices(soup)):
        detail = Detail("rdvsp.motifs_offered", count=len(motifs))
        return Reading(KIND_MOTIFS, None, detail, choices=motifs, rule="MOTIF_CHOICE_HEADING")
    if looks_like_captcha(text):
        detail = Detail("captcha_asked")
        return Reading("captcha", Status.CAPTCHA, detail, rule="common.CAPTCHA_MARKERS")
    return Reading("unknown", Status.UNKNOWN, UNKNOWN_PAGE, rule="UNKNOWN_PAGE")


def _failure_reading(page: Page, text: str) -> Reading | None:
    failure = read_failure(page, text)
    if (failure is None or failure.kind == "server-error") and MAINTENANCE_PAGE.search(text):
        return Reading(
            "maintenance",
            Status.CLOSED,
            Detail("rdvsp.maintenance"),
            rule="MAINTENANCE_PAGE",
        )
    if failure is None:
        return None
    return Reading(failure.kind, failure.status, failure.detail, rule="common.read_failure")


def _parse_slots(soup: Tag, cut: Cut) -> Reading:
    place = _selected_place(soup)
    found: dict[Slot, str] = {}
    unreadable = 0
    links = soup.select(SLOT_LINK)
    read = links[:MAX_SLOTS_PER_PAGE]
    not_kept = len(links) - len(read) + cut.like(read)
    for link in read:
        href = str(link.get("href", ""))
        start = parse_start(_query_value(href, PARAM_STARTS_AT))
        if start is None:
            unreadable += 1
            continue
        guichet = place.id or _guichet_in(href)
        slot = Slot(start, guichet, place.label, slot_key(guichet, start))
        found.setdefault(slot, _clip(f'a[href*="{_raw_param(href, PARAM_STARTS_AT)}"]'))
    if not found:
        detail = Detail("rdvsp.unreadable_links", count=unreadable)
        return Reading("unknown", Status.UNKNOWN, detail, rule="SLOT_LINK")
    detail = Detail("rdvsp.week_slots", count=len(found), unreadable=unreadable)
    detail = with_not_kept(detail, not_kept)
    slots = tuple(sorted(found))
    if not place.id and place.label:  # an organisation's week: its links name it
        place = Choice(slots[0].guichet_id, place.label)
    return Reading(
        KIND_SLOTS,
        Status.AVAILABLE,
        detail,
        (place,) if place.id else (),
        slots,
        rule="SLOT_LINK",
        read_from=tuple(found[slot] for slot in slots),
        slots_not_kept=not_kept,
    )


def _guichet_in(href: str) -> str:
    """A slot link carries the search's parameters: the place, or the organisation."""
    return _guichet_param(href)[1]


def _guichet_param(url: str) -> tuple[str, str]:
    """What a search URL or a slot link names as the guichet: the place, the organisation
    picked, or the organisation whose public link the search came from."""
    for param in (PARAM_LIEU, PARAM_ORGANISATION, PARAM_PUBLIC_LINK):
        if value := _query_value(url, param):
            return param, value
    return "", ""


def _parse_empty_week(soup: Tag, block: Tag) -> Reading:
    place = _selected_place(soup)
    choices = (place,) if place.id else ()
    for link in block.select("a[href]"):
        href = str(link.get("href", ""))
        if NEXT_AVAILABILITY_LABEL in fold(link.get_text(" ")) and _is_search_link(href):
            start = parse_start(_query_value(href, PARAM_DATE)) or parse_human(link.get_text(" "))
            return Reading(
                KIND_EMPTY_WEEK,
                None,
                Detail("rdvsp.next_link"),
                choices,
                fields=((NEXT_FIELD, href),),
                facts={NEXT_FACT: start.isoformat()} if start else {},
                rule="NEXT_AVAILABILITY_LABEL",
            )
    if BOOKING_CLOSED_DAY in fold(block.get_text(" ")):
        # The app shows a week only when it found slots or a next availability
        # (`no_availability?`): with no slot link and no next availability, its slots lie
        # after the booking delay, where every later week lies too.
        closed = Detail("rdvsp.week_closed")
        return Reading("no-slot", Status.NONE, closed, choices, rule="BOOKING_CLOSED_DAY")
    detail = Detail("rdvsp.empty_week")
    return Reading("unknown", Status.UNKNOWN, detail, choices, rule="CRENEAUX_BLOCK")


def _selected_place(soup: Tag) -> Choice:
    block = soup.select_one(CRENEAUX_BLOCK)
    lieu = str(block.get("id", ""))[len(CRENEAUX_BLOCK_PREFIX) :] if block is not None else ""
    heading = soup.select_one(SELECTED_PLACE_NAME)
    if heading is not None:
        return Choice(lieu, _text(heading))
    for item in soup.select(SUMMARY_ITEM):
        words = _text(item)
        at = fold(words).find(SUMMARY_PLACE_LABEL)
        if at >= 0:
            name = words[at + len(SUMMARY_PLACE_LABEL) :].strip(" :\u00a0")
            return Choice(lieu, name.removesuffix(" modifier").strip())
    return Choice(lieu, "")


@dataclass(frozen=True)
class _ChoiceLink:
    choice: Choice
    href: str
    next_start: datetime | None


def _choice_links(soup: Tag, selector: str, param: str) -> list[_ChoiceLink]:
    """One entry per place (or organisation), in the page's order. A motif with a
    restriction shows a second link to the same place, in its modal."""
    seen: dict[str, _ChoiceLink] = {}
    for link in soup.select(selector):
        href = str(link.get("href", ""))
        ident = _query_value(href, param)
        if not ident.isdigit() or ident in seen or not _is_search_link(href):
            continue
        card = link.find_parent(["li", "div"], class_=CARD_CLASSES) or link.parent
        name = _link_name(link) or _card_title(card) or _opener_title(soup, link)
        name = name or f"{CHOICE_NOUNS[param]} {ident}"
        start = parse_start(_query_value(href, PARAM_DATE)) or parse_human(
            _text(card) if card is not None else link.get_text(" ")
        )
        seen[ident] = _ChoiceLink(Choice(ident, name), href, start)
    return list(seen.values())


def _link_name(link: Tag) -> str:
    name = _text(link)
    if not name or any(generic in fold(name) for generic in GENERIC_LINK_TEXTS):
        return ""
    return name


def _card_title(card: Tag | None) -> str:
    if card is None:
        return ""
    title = card.select_one(CARD_TITLE)
    return _text(title) if title is not None else ""


def _opener_title(soup: Tag, link: Tag) -> str:
    """A link in a restriction modal ("Accepter") is named by the card that opens the modal
    (_organisation_selection: `.fr-card__body aria-controls="rdv-restriction-motif-<id>"`)."""
    modal = link.find_parent(class_=MODAL_CLASS)
    modal_id = str(modal.get("id", "")) if modal is not None else ""
    if not re.fullmatch(r"[\w-]+", modal_id):  # page text is data: no quotes in a selector
        return ""
    opener = soup.select_one(f'[aria-controls="{modal_id}"]')
    if opener is None:
        return ""
    return _card_title(opener.find_parent(["li", "div"], class_=CARD_CLASSES) or opener)


def _parse_choices(kind: str, links: list[_ChoiceLink], rule: str) -> Reading:
    facts = {
        f"{NEXT_FACT}:{link.choice.id}": link.next_start.isoformat()
        for link in links
        if link.next_start is not None
    }
    return Reading(
        kind,
        None,
        Detail("rdvsp.places" if kind == KIND_PLACES else "rdvsp.organisations", count=len(links)),
        choices=tuple(link.choice for link in links),
        fields=tuple((link.choice.id, link.href) for link in links),
        facts=facts,
        rule=rule,
    )


def _ants_count_form(soup: Tag) -> Tag | None:
    field = soup.select_one(ANTS_COUNT_INPUT)
    if field is None:
        return None
    form = field.find_parent("form")
    if form is None or not _is_search_link(str(form.get("action", ""))):
        return None
    return form


def _parse_ants_count(form: Tag, text: str) -> Reading:
    hidden = tuple(
        (str(field.get("name")), str(field.get("value", "")))
        for field in form.select(HIDDEN_INPUT)
        if field.get("name") != PARAM_ANTS_COUNT
    )
    fields = ((ACTION_FIELD, str(form.get("action", ""))), *hidden)
    if ANTS_COUNT_REFUSED in text:
        detail = Detail(
            "rdvsp.ants_count_refused",
            param=PARAM_ANTS_COUNT,
            least=ANTS_COUNT_MIN,
            most=ANTS_COUNT_MAX,
        )
        return Reading(
            KIND_ANTS_COUNT, Status.UNKNOWN, detail, fields=fields, rule="ANTS_COUNT_REFUSED"
        )
    detail = Detail("rdvsp.ants_count_asked", param=PARAM_ANTS_COUNT)
    return Reading(KIND_ANTS_COUNT, None, detail, fields=fields, rule="ANTS_COUNT_INPUT")


def _motif_choices(soup: Tag) -> tuple[Choice, ...]:
    choices: dict[str, Choice] = {}
    for link in soup.select(MOTIF_LINK):
        motif = _query_value(str(link.get("href", "")), PARAM_MOTIF)
        heading = link.select_one(MOTIF_NAME)
        name = _text(heading) if heading is not None else _text(link)
        if motif and motif not in choices:
            choices[motif] = Choice(motif, name or motif)
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


def slot_key(guichet: str, start: datetime) -> str:
    """Stable across checks: the app shows one slot per place and start time."""
    return f"{guichet}@{start.isoformat()}"


def _query_value(url: str, name: str) -> str:
    values = parse_qs(urlsplit(url).query).get(name, [])
    return values[-1] if values else ""


def _raw_param(href: str, name: str) -> str:
    """`name=value` as the link writes it (still URL-encoded)."""
    found = re.search(rf"(?:^|[?&]){re.escape(name)}=[^&#]*", href)
    return found.group(0).lstrip("?&") if found else name


def _is_search_link(href: str) -> bool:
    return urlsplit(href).path.rstrip("/").endswith(SEARCH_PATH)


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


def _clip(text: str) -> str:
    return text if len(text) <= MAX_READ_FROM else text[: MAX_READ_FROM - 1] + "…"


# --- the flow: which request next --------------------------------------------------------


def search_url(url: str) -> str:
    """The target's URL without the parameters that pin a week."""
    parts = urlsplit(url)
    kept = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in STALE_PARAMS
    ]
    return parts._replace(query=urlencode(kept), fragment="").geturl()


def ants_count(target: Target) -> int:
    """The number of pre-applications a check searches for: the target's, the URL's, or 1."""
    if target.ants_pre_demandes_count is not None:
        return target.ants_pre_demandes_count
    in_url = _query_value(target.url, PARAM_ANTS_COUNT)
    return int(in_url) if in_url.isdigit() else ANTS_COUNT_DEFAULT


def ants_count_url(page_url: str, reading: Reading, count: int) -> str:
    """The count form submitted as a browser would (GET, its hidden fields, the count)."""
    action = SEARCH_PATH
    kept: list[tuple[str, str]] = []
    for name, value in reading.fields:
        if name == ACTION_FIELD:
            action = value or SEARCH_PATH
        elif name not in STALE_PARAMS:
            kept.append((name, value))
    query = urlencode([*kept, (PARAM_ANTS_COUNT, str(count))])
    return urlsplit(urljoin(page_url, action))._replace(query=query, fragment="").geturl()


async def check(target: Target, session: Session) -> FlowOutcome:
    url = search_url(target.url)
    page = await session.get(url)
    reading = await parsed(parse_page, page)
    counted = None
    if reading.kind == KIND_ANTS_COUNT:
        counted = ants_count(target)
        if reading.status is None:  # asked, not refused: answer once, as the form would
            page = await session.get(ants_count_url(page.url, reading, counted))
            reading = await parsed(parse_page, page)
    outcome = await _follow(target, session, url, page, reading)
    if counted is None:
        return outcome
    facts = {**outcome.facts, ANTS_COUNT_FACT: str(counted)}
    detail = outcome.detail and Detail(
        "rdvsp.with_ants_count", detail=outcome.detail, param=PARAM_ANTS_COUNT, count=counted
    )
    return replace(outcome, detail=detail, facts=facts)


async def _follow(
    target: Target, session: Session, url: str, page: Page, reading: Reading
) -> FlowOutcome:
    if reading.kind == KIND_PLACES:
        return await _read_choices(target.lieux, target, session, page, reading)
    if reading.kind == KIND_ORGANISATIONS:
        return await _read_choices(target.organisations, target, session, page, reading)
    if reading.kind in (KIND_SLOTS, KIND_EMPTY_WEEK):
        param, ident = _guichet_param(url)
        place = reading.choices[0] if reading.choices else Choice(ident, "")
        if not place.id:
            place = Choice(ident, place.label)
        if not place.label:
            place = Choice(place.id, f"{CHOICE_NOUNS.get(param, 'lieu')} {place.id or '?'}")
        read = await _finish_place(session, place, page, reading)
        return _outcome((read.guichet,), read.page, read.not_kept)
    if reading.kind == KIND_MOTIFS:
        offered = tuple(choice.id for choice in reading.choices)
        detail = Detail("rdvsp.motif_needed", param=PARAM_MOTIF, offered=offered)
        return FlowOutcome((), Status.UNKNOWN, detail, page)
    if reading.kind == KIND_ANTS_COUNT:
        if reading.status is not None:
            return FlowOutcome((), reading.status, reading.detail, page)
        detail = Detail(
            "rdvsp.ants_count_still_asked",
            param=PARAM_ANTS_COUNT,
            count=ants_count(target),
            least=ANTS_COUNT_MIN,
            most=ANTS_COUNT_MAX,
        )
        return FlowOutcome((), Status.UNKNOWN, detail, page)
    if reading.status in (Status.UNKNOWN, Status.ERROR) and not _is_search_link(page.url):
        return FlowOutcome((), Status.UNKNOWN, _left_the_search(target, page), page)
    return FlowOutcome((), reading.status or Status.UNKNOWN, reading.detail, page)


def _left_the_search(target: Target, page: Page) -> Detail:
    """The app sends a search it does not allow to its home page (SearchController
    #search_allowed?: on RDV Service Public, a search goes through an organisation's link)."""
    where = urlsplit(page.url).path or "/"
    if _query_value(target.url, PARAM_PUBLIC_LINK):
        return Detail("rdvsp.left_search", where=where)
    return Detail("rdvsp.left_search", where=where, public_link=PARAM_PUBLIC_LINK)


async def _read_choices(
    wanted: list[str], target: Target, session: Session, page: Page, reading: Reading
) -> FlowOutcome:
    offered = {choice.id: choice for choice in reading.choices}
    links = dict(reading.fields)
    guichets: list[GuichetResult] = []
    last = page
    read = not_kept = 0
    refused = False  # the site refused or failed: no more requests this check
    for ident in wanted or list(offered):
        if ident not in offered:
            guichets.append(_not_listed(ident, offered, reading.kind))
            continue
        place = offered[ident]
        if refused or read >= target.max_lieux:
            why = (
                Detail("rdvsp.refused_or_failed")
                if refused
                else Detail("rdvsp.max_lieux", count=target.max_lieux)
            )
            not_read = Detail("rdvsp.week_not_read", why=why)
            guichets.append(_next_only(place, reading.facts, not_read))
            continue
        read += 1
        place_read = await _read_place(session, place, urljoin(page.url, links[ident]))
        guichets.append(place_read.guichet)
        last, not_kept = place_read.page, not_kept + place_read.not_kept
        refused = place_read.guichet.status in STOP_STATUSES
    return _outcome(tuple(guichets), last, not_kept)


@dataclass(frozen=True)
class _PlaceRead:
    guichet: GuichetResult
    page: Page
    not_kept: int = 0  # slots past MAX_SLOTS_PER_PAGE, not read


async def _read_place(session: Session, place: Choice, url: str) -> _PlaceRead:
    page = await session.get(url)
    return await _finish_place(session, place, page, await parsed(parse_page, page))


async def _finish_place(
    session: Session, place: Choice, page: Page, reading: Reading
) -> _PlaceRead:
    if reading.kind == KIND_EMPTY_WEEK:
        # An empty week (a place pinned in the URL, or a slot taken since the list was drawn):
        # the site links to the week of its next availability.
        page = await session.get(urljoin(page.url, dict(reading.fields)[NEXT_FIELD]))
        later = await parsed(parse_page, page)
        if later.kind == KIND_EMPTY_WEEK:
            facts = {f"{NEXT_FACT}:{place.id}": later.facts.get(NEXT_FACT, "")}
            announced = Detail("rdvsp.next_only_announced")
            return _PlaceRead(_next_only(place, facts, announced), page)
        reading = later
    if reading.kind == KIND_SLOTS:
        slots = tuple(_at_place(slot, place) for slot in reading.slots)
        # A week cut short says nothing of which slots seen earlier went.
        until = CUT_SHORT if reading.slots_not_kept else None
        guichet = GuichetResult(
            place.id, place.label, Status.AVAILABLE, slots, reading.detail, until
        )
        return _PlaceRead(guichet, page, reading.slots_not_kept)
    status = reading.status or Status.UNKNOWN
    detail = reading.detail if reading.status else Detail("unexpected_page", kind=reading.kind)
    return _PlaceRead(GuichetResult(place.id, place.label, status, detail=detail), page)


def _next_only(place: Choice, facts: dict[str, str], why: Detail) -> GuichetResult:
    """A place known only by the next availability the site announced for it."""
    start = parse_start(facts.get(f"{NEXT_FACT}:{place.id}", ""))
    if start is None:
        detail = Detail("rdvsp.next_unreadable", why=why)
        return GuichetResult(place.id, place.label, Status.UNKNOWN, detail=detail)
    slot = Slot(
        start=start, guichet_id=place.id, guichet=place.label, key=slot_key(place.id, start)
    )
    detail = Detail("rdvsp.next_only_known", why=why)
    return GuichetResult(place.id, place.label, Status.AVAILABLE, (slot,), detail)


def _not_listed(ident: str, offered: dict[str, Choice], kind: str) -> GuichetResult:
    # The app lists only the places (organisations) that have a next availability:
    # Steps::LieuSelection / Steps::OrganisationSelection drop the others (`.compact`).
    places = kind == KIND_PLACES
    label = f"lieu {ident}" if places else f"organisation {ident}"
    listed = tuple(offered)
    if places:
        detail = Detail("rdvsp.place_not_listed", listed=listed)
    else:
        detail = Detail("rdvsp.organisation_not_listed", listed=listed)
    return GuichetResult(ident, label, Status.NONE, detail=detail)


def _at_place(slot: Slot, place: Choice) -> Slot:
    return Slot(slot.start, place.id, place.label, slot_key(place.id, slot.start))


def _outcome(guichets: tuple[GuichetResult, ...], last: Page, not_kept: int = 0) -> FlowOutcome:
    status = overall_status([guichet.status for guichet in guichets])
    if len(guichets) == 1:
        return FlowOutcome(guichets, status, guichets[0].detail, last, slots_not_kept=not_kept)
    notes = [
        Detail("labelled", label=g.label, detail=g.detail)
        for g in guichets
        if g.status is not Status.AVAILABLE and g.detail is not None
    ]
    found = sum(len(g.slots) for g in guichets)
    summary = Detail("rdvsp.summary", places=len(guichets), slots=found)
    return FlowOutcome(guichets, status, joined((summary, *notes)), last, slots_not_kept=not_kept)
