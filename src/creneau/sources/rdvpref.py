"""RDV Préfecture, the national booking system: /rdvpref/reservation/demarche/<id>/<step>/.

A démarche's `cgu/` page shows the terms and a CAPTCHA (CaptchEtat: the image comes from the
PISTE API, a person types the "code de sécurité"); the form goes to `_validerCaptcha`, and the
site session (a cookie) then reaches `creneau/`, which shows one week of free slots or says
"Aucun créneau disponible". An expired session is sent back to `cgu/`.

creneau never types the code. `check` reads `creneau/` with the cookies of a session a person
opened and reports CAPTCHA when that session is gone; `start_captcha` fetches the image for a
person to read and `submit_captcha` sends what they typed. Nothing here goes past `creneau/`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urljoin, urlsplit
from zoneinfo import ZoneInfo

from pydantic import field_validator

from creneau.http import HostBudget
from creneau.page import Page
from creneau.results import GuichetResult, Slot, Status
from creneau.sources import Choice, FlowOutcome, Reading
from creneau.sources.common import (
    NotJson,
    load_json,
    looks_like_captcha,
    read_failure,
    visible_text,
)
from creneau.targets import TargetBase

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

    from creneau.http import Session

SITE_ZONE = ZoneInfo("Europe/Paris")
KEEPS_SESSION = True  # the session a person opened by solving the CAPTCHA serves later checks
SITE_HOST = "www.rdv-prefecture.interieur.gouv.fr"
CAPTCHETAT_HOST = "api.piste.gouv.fr"

# A check is one request (two when sent back to cgu/); a CAPTCHA costs three.
HOST_BUDGETS = {
    SITE_HOST: HostBudget(per_minute=4.0, burst=4),
    CAPTCHETAT_HOST: HostBudget(per_minute=4.0, burst=4),
}

# --- everything this module knows of the site's markup, in one place ----------------------
# Confirmed from the site's own Vue components, its framework (Vertigo) and woob's module:
# the steps, `_validerCaptcha`, `captchaId`, `captchaUsercode`, `?error=invalidCaptcha`,
# <rdv-captchetat>, BDC_VCID_<style>, <style>_CaptchaImage, script#vui-init-data, the slot
# fields (trhId, dateLocale, minutesDebut), the criteria and publication fields, radio ids
# `trhId_<id>`, labels "09h30" and day headers "lundi 18/05". Not confirmed: the names of the
# objects inside vueData (found here by their shape) and the terms checkbox.
DEMARCHE_URL = re.compile(
    r"^(?P<base>https?://[^/?#]+/rdvpref/reservation/demarche/(?P<id>\d+))(?:/[^?#]*)?$"
)
CGU_STEP = "cgu/"
SLOTS_STEP = "creneau/"
VALIDATE_CAPTCHA_STEP = "_validerCaptcha"
INVALID_CAPTCHA = ("error", "invalidCaptcha")  # query parameter of cgu/ after a wrong code

CAPTCHETAT_WIDGET = "rdv-captchetat"
CAPTCHETAT_ENDPOINT_ATTR = "endpoint-url"
CAPTCHETAT_STYLE_ATTR = "captcha-style-name"
CAPTCHETAT_TOKEN_ATTR = "token"
CAPTCHETAT_ENDPOINT = f"https://{CAPTCHETAT_HOST}/piste/captcha/simple-captcha-endpoint"
CAPTCHETAT_DEFAULT_STYLE = "captchaFR"
CAPTCHA_ID_FIELD = "captchaId"
CAPTCHA_ID_INPUT = "input[id^=BDC_VCID_]"
CAPTCHA_IMAGE = "img[id$=_CaptchaImage], img.BDC_CaptchaImage, img[src*=captcha i]"
CODE_FIELD = "captchaUsercode"
CODE_INPUT = f"input[name={CODE_FIELD}], input#captchaFormulaireExtInput"
VALIDATE_BUTTON = f"[formaction*={VALIDATE_CAPTCHA_STEP}]"
TERMS_CHECKBOX = re.compile(r"cgu|accept|condition", re.IGNORECASE)  # id or name of the box
HOME_START_LINK = "a[href*='/cgu']"

INIT_DATA = "script#vui-init-data"
VUE_DATA_KEY = "vueData"
SLOTS_WIDGET = "rdv-choix-tranche"
SLOT_RADIO = "input[id^=trhId_]"
SLOT_RADIO_PREFIX = "trhId_"
DAY_COLUMN = "blocCreneauSelection"  # class of the column holding one day's radios
DAY_HEADER = "h3"
SLOT_ID = "trhId"
SLOT_DAY = "dateLocale"
SLOT_START_MINUTES = "minutesDebut"
CRITERIA_FIRST_DAY = "premierJour"
CRITERIA_FIRST_FREE_DAY = "datePremiereDispo"
PUBLICATION_INSTANT = "instantPublication"
PUBLICATION_FIRST_DAY = "dateMin"
PREVIOUS_PUBLICATION_KEY = re.compile(r"precedente", re.IGNORECASE)
NEXT_PUBLICATION_KEY = re.compile(r"prochaine", re.IGNORECASE)
TITLE = "h1"

# Phrases are matched on folded text (lower case, no accents).
SLOTS_HEADING = "choisissez votre creneau"
NO_SLOT = re.compile(r"aucun creneau disponible")
HOME_PHRASE = "prendre un rendez-vous"
_RELEASE = (
    r"mise en ligne de (?:nouveaux )?rendez-vous ?:? ?le (\d{1,2}/\d{1,2}/\d{4}) a (\d{1,2})[:h]"
    r"(\d{2})(?: pour des creneaux de la semaine du (\d{1,2}/\d{1,2}/\d{4}))?"
)
LAST_RELEASE = re.compile(r"derniere " + _RELEASE)
NEXT_RELEASE = re.compile(r"prochaine " + _RELEASE)
BOT_WALL = re.compile(
    r"incapsula incident id|request unsuccessful\. incapsula"
    r"|attention required! \| cloudflare|verify(ing)? you are human"
)
ERROR_TITLE = re.compile(r"<title>\s*(403|429|50[0-9])\b", re.IGNORECASE)
HUMAN_NEEDED = "a human is needed: run `creneau captcha {name}`"

_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_CLOCK = re.compile(r"^(\d{1,2})[:h](\d{2})")
_INSTANT = re.compile(r"^(\d{1,2}/\d{1,2}/\d{4})[ T](\d{1,2})[:h](\d{2})")
_HEADER_DAY = re.compile(r"(\d{1,2})/(\d{1,2})")
_JSON_DEPTH = 8


class Target(TargetBase):
    system: Literal["rdvpref"] = "rdvpref"

    @field_validator("url")
    @classmethod
    def _demarche_url(cls, url: str) -> str:
        if DEMARCHE_URL.match(_without_query(url)) is None:
            raise ValueError(
                "must look like https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/"
                f'reservation/demarche/<id>/ (any step after it is fine; got "{url}")'
            )
        return url


@dataclass(frozen=True)
class DemarcheUrls:
    demarche_id: str
    base: str  # …/rdvpref/reservation/demarche/<id>, no trailing slash
    cgu: str
    slots: str
    validate_captcha: str


def demarche_urls(url: str) -> DemarcheUrls:
    found = DEMARCHE_URL.match(_without_query(url))
    if found is None:  # the Target model rejects such URLs; keep the helpers total anyway
        raise ValueError(f"not an RDV Préfecture démarche URL: {url}")
    base = found.group("base")
    return DemarcheUrls(
        demarche_id=found.group("id"),
        base=base,
        cgu=f"{base}/{CGU_STEP}",
        slots=f"{base}/{SLOTS_STEP}",
        validate_captcha=f"{base}/{VALIDATE_CAPTCHA_STEP}",
    )


def _without_query(url: str) -> str:
    return urlsplit(url)._replace(query="", fragment="").geturl()


# --- parsing: pure functions of a page ---------------------------------------------------


def parse_page(page: Page, target: Target | None = None) -> Reading:
    """Classify one RDV Préfecture page: CAPTCHA, slots, no slot, a failure, or unknown."""
    if page.status == 200 and (found := ERROR_TITLE.search(page.text[:1024])):
        page = Page(page.url, int(found.group(1)), page.body, page.headers)
    text = visible_text(page.text)
    if failure := read_failure(page, text):
        return failure
    if BOT_WALL.search(text):
        return Reading("bot-wall", Status.BLOCKED, "an anti-bot wall answered instead of the site")
    soup = _soup(page.text)
    vue_data = read_vue_data(soup)
    facts = release_facts(text, vue_data)
    if _is_captcha_page(soup):
        return _captcha_reading(soup, page.url, facts)
    if _is_slots_page(soup, text, vue_data):
        return _slots_reading(soup, text, vue_data, page.url, facts)
    if HOME_PHRASE in text and soup.select_one(HOME_START_LINK):
        return Reading("demarche", None, "the démarche's home page", facts=facts)
    if looks_like_captcha(text):
        return Reading("captcha", Status.CAPTCHA, "the site asks for a CAPTCHA", facts=facts)
    return Reading("unknown", Status.UNKNOWN, "not a page of RDV Préfecture we know", facts=facts)


def _is_captcha_page(soup: BeautifulSoup) -> bool:
    return bool(soup.select_one(CAPTCHETAT_WIDGET) or soup.select_one(CODE_INPUT))


def _captcha_reading(soup: BeautifulSoup, url: str, facts: dict[str, str]) -> Reading:
    wrong = parse_qs(urlsplit(url).query).get(INVALID_CAPTCHA[0], []) == [INVALID_CAPTCHA[1]]
    detail = (
        "the code typed was not accepted: the site shows a new CAPTCHA"
        if wrong
        else "the site asks for a CAPTCHA (terms page)"
    )
    scope = _captcha_form(soup) or soup
    fields = _hidden_fields(scope) + _terms_boxes(scope)
    return Reading("captcha", Status.CAPTCHA, detail, fields=fields, facts=facts)


def _is_slots_page(soup: BeautifulSoup, text: str, vue_data: dict[str, Any]) -> bool:
    return bool(
        SLOTS_HEADING in text
        or NO_SLOT.search(text)
        or soup.select_one(SLOTS_WIDGET)
        or soup.select_one(SLOT_RADIO)
        or _slot_lists(vue_data)
        or _criteria(vue_data)
    )


def _slots_reading(
    soup: BeautifulSoup, text: str, vue_data: dict[str, Any], url: str, facts: dict[str, str]
) -> Reading:
    demarche = _demarche_choice(soup, url)
    criteria = _criteria(vue_data)
    first_free = _read_day(criteria.get(CRITERIA_FIRST_FREE_DAY))
    if first_free:
        facts = {**facts, "first_availability": first_free.isoformat()}
    slots, unreadable = _slots_from_json(vue_data, demarche)
    if not slots and not unreadable:
        slots, unreadable = _slots_from_radios(soup, _read_day(criteria.get(CRITERIA_FIRST_DAY)))
        slots = [_at(slot, demarche) for slot in slots]
    found = tuple(sorted(set(slots)))

    def reading(kind: str, status: Status, detail: str) -> Reading:
        return Reading(kind, status, detail, (demarche,), found, facts=facts)

    if found:
        more = f" ({unreadable} more could not be read)" if unreadable else ""
        return reading("creneau", Status.AVAILABLE, f"{len(found)} free slot(s) shown{more}")
    if unreadable:
        return reading("unknown", Status.UNKNOWN, f"{unreadable} slot(s) shown but none readable")
    if first_free:
        return reading(
            "creneau-later",
            Status.AVAILABLE,
            f"no slot in the week shown; the site says the first free day is {first_free:%d/%m/%Y}",
        )
    if NO_SLOT.search(text):
        return reading("creneau-none", Status.NONE, 'the page says "Aucun créneau disponible"')
    return reading("unknown", Status.UNKNOWN, "slot page without slots nor the no-slot phrase")


def _demarche_choice(soup: BeautifulSoup, url: str) -> Choice:
    found = DEMARCHE_URL.match(_without_query(url))
    demarche_id = found.group("id") if found else ""
    heading = soup.select_one(TITLE)
    title = " ".join(heading.get_text(" ").split()) if heading else ""
    return Choice(demarche_id, title or f"démarche {demarche_id}".strip())


def _at(slot: Slot, demarche: Choice) -> Slot:
    return Slot(start=slot.start, guichet_id=demarche.id, guichet=demarche.label, key=slot.key)


# --- the page's JSON state (Vertigo-UI puts it in script#vui-init-data) -----------------


def read_vue_data(soup: BeautifulSoup) -> dict[str, Any]:
    script = soup.select_one(INIT_DATA)
    if script is None:
        return {}
    try:
        data = load_json(script.get_text())
    except NotJson:
        return {}
    vue_data = data.get(VUE_DATA_KEY) if isinstance(data, dict) else None
    return vue_data if isinstance(vue_data, dict) else {}


def _walk(value: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair inside vueData, depth first, bounded."""
    if depth > _JSON_DEPTH:
        return
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, inner in items:
        yield str(key), inner
        if isinstance(inner, dict | list):
            yield from _walk(inner, depth + 1)


def _slot_lists(vue_data: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Lists of objects shaped like the site's time slots (TrancheHoraire)."""
    lists = []
    for _key, value in _walk(vue_data):
        if isinstance(value, list) and value and all(_is_slot(item) for item in value):
            lists.append(value)
    return lists


def _is_slot(item: Any) -> bool:
    return isinstance(item, dict) and SLOT_ID in item and SLOT_DAY in item


def _criteria(vue_data: dict[str, Any]) -> dict[str, Any]:
    """The search criteria object (CritereTrancheHoraire): first day, first free day…"""
    for _key, value in _walk(vue_data):
        if isinstance(value, dict) and CRITERIA_FIRST_DAY in value:
            return value
    return {}


def _slots_from_json(vue_data: dict[str, Any], demarche: Choice) -> tuple[list[Slot], int]:
    slots, unreadable = [], 0
    for items in _slot_lists(vue_data):
        for item in items:
            day = _read_day(item.get(SLOT_DAY))
            minutes = _read_minutes(item.get(SLOT_START_MINUTES))
            key = str(item.get(SLOT_ID, "")).strip()
            if day is None or minutes is None or not key:
                unreadable += 1
                continue
            start = _local(day, minutes)
            slots.append(Slot(start=start, guichet_id=demarche.id, guichet=demarche.label, key=key))
    return slots, unreadable


def _slots_from_radios(soup: BeautifulSoup, first_day: date | None) -> tuple[list[Slot], int]:
    """Slots from rendered radios: the day comes from the column header ("lundi 18/05"),
    its year from the criteria's first day, the time from the label ("09h30")."""
    slots, unreadable = [], 0
    for radio in soup.select(SLOT_RADIO):
        key = str(radio.get("id", ""))[len(SLOT_RADIO_PREFIX) :]
        day = _radio_day(radio, first_day)
        label = soup.find("label", attrs={"for": str(radio.get("id", ""))})
        minutes = _read_minutes(label.get_text(" ").strip() if label else None)
        if not key or day is None or minutes is None:
            unreadable += 1
            continue
        slots.append(Slot(start=_local(day, minutes), guichet_id="", guichet="", key=key))
    return slots, unreadable


def _radio_day(radio: Tag, first_day: date | None) -> date | None:
    column = radio.find_parent(class_=DAY_COLUMN)
    header = column.find(DAY_HEADER) if column else None
    found = _HEADER_DAY.search(header.get_text(" ")) if header else None
    if found is None or first_day is None:
        return None
    day, month = int(found.group(1)), int(found.group(2))
    for year in (first_day.year, first_day.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= first_day - timedelta(days=7):  # a week shown never starts in the past
            return candidate
    return None


def _local(day: date, minutes: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SITE_ZONE) + timedelta(minutes=minutes)


def _read_day(value: Any) -> date | None:
    """'18/05/2026' (how Vertigo writes a LocalDate) or '2026-05-18'."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if found := _DAY.match(text):
            return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
        if found := _ISO_DAY.match(text):
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None
    return None


def _read_minutes(value: Any) -> int | None:
    """Minutes after midnight: 570, '570', '09:30' or '09h30'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        minutes = value
    elif isinstance(value, str) and value.strip().isdigit():
        minutes = int(value.strip())
    elif isinstance(value, str) and (found := _CLOCK.match(value.strip())):
        hours, mins = int(found.group(1)), int(found.group(2))
        minutes = hours * 60 + mins if mins < 60 else -1
    else:
        return None
    return minutes if 0 <= minutes < 24 * 60 else None


# --- release information ("Dernière mise en ligne de rendez-vous : le … à …") ------------


def release_facts(text: str, vue_data: dict[str, Any]) -> dict[str, str]:
    """When the site last (and next) put slots online, from the page's text or, failing
    that, from its JSON state."""
    facts: dict[str, str] = {}
    for name, phrase, key in (
        ("last_release", LAST_RELEASE, PREVIOUS_PUBLICATION_KEY),
        ("next_release", NEXT_RELEASE, NEXT_PUBLICATION_KEY),
    ):
        found = phrase.search(text)
        release = _release_from_text(found) if found else _release_from_json(vue_data, key)
        if release is None:
            continue
        at, week = release
        facts[f"{name}_at"] = at.isoformat()
        if week is not None:
            facts[f"{name}_week"] = week.isoformat()
    return facts


def _release_from_text(found: re.Match[str]) -> tuple[datetime, date | None] | None:
    day = _read_day(found.group(1))
    hours, minutes = int(found.group(2)), int(found.group(3))
    if day is None or hours > 23 or minutes > 59:
        return None
    week = _read_day(found.group(4)) if found.group(4) else None
    return _local(day, hours * 60 + minutes), week


def _release_from_json(
    vue_data: dict[str, Any], key: re.Pattern[str]
) -> tuple[datetime, date | None] | None:
    for name, value in _walk(vue_data):
        if key.search(name) and isinstance(value, dict) and PUBLICATION_INSTANT in value:
            at = _read_instant(value[PUBLICATION_INSTANT])
            if at is None:
                return None
            first = _read_day(value.get(PUBLICATION_FIRST_DAY))
            return at, first - timedelta(days=first.weekday()) if first else None
    return None


def _read_instant(value: Any) -> datetime | None:
    """'04/05/2026 11:58' (Paris time, as the site formats it) or an ISO instant."""
    if not isinstance(value, str):
        return None
    if found := _INSTANT.match(value.strip()):
        day, hours, minutes = _read_day(found.group(1)), int(found.group(2)), int(found.group(3))
        if day is None or hours > 23 or minutes > 59:
            return None
        return _local(day, hours * 60 + minutes)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(SITE_ZONE) if moment.tzinfo else None


# --- the CAPTCHA form (pure) ---------------------------------------------------------------


@dataclass(frozen=True)
class CaptchEtatWidget:
    """<rdv-captchetat>: the page loads the CAPTCHA from the PISTE API with a bearer token."""

    endpoint: str
    style: str
    token: str

    def html_url(self) -> str:
        return f"{self.endpoint}?get=html&c={self.style}"

    def image_url(self, captcha_id: str) -> str:
        return f"{self.endpoint}?get=image&c={self.style}&t={captcha_id}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass(frozen=True)
class CaptchaForm:
    """What the cgu/ page says about how to answer its CAPTCHA."""

    form_url: str
    fields: tuple[tuple[str, str], ...]  # hidden fields and the terms checkbox
    code_field: str
    widget: CaptchEtatWidget | None
    image_url: str  # empty when the widget gives it


@dataclass(frozen=True)
class CaptchEtatAnswer:
    """What the PISTE API's CAPTCHA markup gives: the id to post back, its hidden fields and
    the image's address."""

    captcha_id: str
    fields: tuple[tuple[str, str], ...]
    image_url: str


def read_captcha_form(markup: str, page_url: str) -> CaptchaForm | None:
    """The CAPTCHA form of a cgu/ page, or None when the page has none."""
    soup = _soup(markup)
    if not _is_captcha_page(soup):
        return None
    form = _captcha_form(soup)
    scope: Tag = form or soup
    fields = _hidden_fields(scope) + _terms_boxes(scope)
    code_input = scope.select_one(CODE_INPUT)
    code_field = str(code_input.get("name") or CODE_FIELD) if code_input else CODE_FIELD
    widget = _widget(soup, page_url)
    image = scope.select_one(CAPTCHA_IMAGE)
    image_url = urljoin(page_url, str(image.get("src", ""))) if image and not widget else ""
    return CaptchaForm(_form_url(scope, form, page_url), fields, code_field, widget, image_url)


def read_captchetat_answer(markup: str, endpoint: str, style: str) -> CaptchEtatAnswer | None:
    """Parse the PISTE API's `?get=html` answer; None when it holds no CAPTCHA id."""
    soup = _soup(markup)
    id_input = soup.select_one(CAPTCHA_ID_INPUT)
    captcha_id = str(id_input.get("value", "")).strip() if id_input else ""
    if not captcha_id:
        script = soup.select_one("script[src*='t=']")
        params = parse_qs(urlsplit(str(script.get("src", ""))).query) if script else {}
        captcha_id = params.get("t", [""])[0]
    if not captcha_id:
        return None
    image = soup.select_one(CAPTCHA_IMAGE)
    src = str(image.get("src", "")) if image else ""
    # The site's own component rebases the markup's relative addresses on the endpoint.
    if src:
        image_url = urljoin(endpoint, src)
    else:
        image_url = CaptchEtatWidget(endpoint, style, "").image_url(captcha_id)
    return CaptchEtatAnswer(captcha_id, _hidden_fields(soup), image_url)


def _captcha_form(soup: BeautifulSoup) -> Tag | None:
    for element in (soup.select_one(CODE_INPUT), soup.select_one(CAPTCHETAT_WIDGET)):
        form = element.find_parent("form") if element else None
        if form is not None:
            return form
    return soup.select_one("form")


def _hidden_fields(scope: Tag) -> tuple[tuple[str, str], ...]:
    return tuple(
        (str(field["name"]), str(field.get("value", "")))
        for field in scope.select("input[type=hidden][name]")
    )


def _terms_boxes(scope: Tag) -> tuple[tuple[str, str], ...]:
    """Checkboxes a person ticks to accept the terms (required, or named after them)."""
    boxes = []
    for box in scope.select("input[type=checkbox][name]"):
        names = f"{box.get('id', '')} {box.get('name', '')}"
        if box.has_attr("required") or TERMS_CHECKBOX.search(names):
            boxes.append((str(box["name"]), str(box.get("value") or "on")))
    return tuple(boxes)


def _form_url(scope: Tag, form: Tag | None, page_url: str) -> str:
    button = scope.select_one(VALIDATE_BUTTON)
    if button is not None:
        return urljoin(page_url, str(button["formaction"]))
    action = str(form.get("action", "")) if form else ""
    if action:
        return urljoin(page_url, action)
    if DEMARCHE_URL.match(_without_query(page_url)):
        return demarche_urls(page_url).validate_captcha
    return page_url


def _widget(soup: BeautifulSoup, page_url: str) -> CaptchEtatWidget | None:
    element = soup.select_one(CAPTCHETAT_WIDGET)
    if element is None:
        return None
    endpoint = str(element.get(CAPTCHETAT_ENDPOINT_ATTR, "")).strip()
    return CaptchEtatWidget(
        endpoint=urljoin(page_url, endpoint) if endpoint else CAPTCHETAT_ENDPOINT,
        style=str(element.get(CAPTCHETAT_STYLE_ATTR, "")).strip() or CAPTCHETAT_DEFAULT_STYLE,
        token=str(element.get(CAPTCHETAT_TOKEN_ATTR, "")).strip(),
    )


def image_type(data: bytes) -> str | None:
    """The media type of a PNG, JPEG or GIF image; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return None


# --- the flow: which request next --------------------------------------------------------


async def check(target: Target, session: Session) -> FlowOutcome:
    """Read creneau/ with the session's cookies. Never passes a CAPTCHA: when the site asks
    for one (or sends us back to cgu/), a person must run `creneau captcha <name>`."""
    urls = demarche_urls(target.url)
    page = await session.get(urls.slots)
    reading = parse_page(page)
    facts = dict(reading.facts)
    if reading.kind in ("captcha", "demarche"):
        detail = HUMAN_NEEDED.format(name=target.name)
        return FlowOutcome((), Status.CAPTCHA, detail, page, facts)
    if reading.kind.startswith("creneau") or reading.choices:
        guichet = _guichet(urls.demarche_id, reading)
        return FlowOutcome((guichet,), guichet.status, reading.detail, page, facts)
    status = reading.status or Status.UNKNOWN
    detail = reading.detail if reading.status else f"unexpected {reading.kind} page"
    return FlowOutcome((), status, detail, page, facts)


def _guichet(demarche_id: str, reading: Reading) -> GuichetResult:
    label = reading.choices[0].label if reading.choices else ""
    demarche = Choice(demarche_id, label or f"démarche {demarche_id}")
    slots = tuple(sorted(_at(slot, demarche) for slot in reading.slots))
    status = reading.status or Status.UNKNOWN
    return GuichetResult(demarche.id, demarche.label, status, slots, reading.detail)


@dataclass(frozen=True)
class CaptchaChallenge:
    """A CAPTCHA for a person to read: the image, and how to send back what they type."""

    image: bytes
    content_type: str
    form_url: str  # where submit_captcha posts
    fields: tuple[tuple[str, str], ...]  # hidden fields (and the terms box) to resubmit
    code_field: str  # the name of the "code de sécurité" field
    image_url: str = ""
    page_url: str = ""


class CaptchaUnavailable(ValueError):
    """cgu/ gave no CAPTCHA to show (refused, failed, or not a CAPTCHA page)."""

    def __init__(self, detail: str, reading: Reading) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reading = reading


async def start_captcha(target: Target, session: Session) -> CaptchaChallenge:
    """Open the terms page and fetch its CAPTCHA image (three requests with CaptchEtat).
    Raises CaptchaUnavailable, whose `reading` says why, when there is no CAPTCHA to show."""
    urls = demarche_urls(target.url)
    page = await session.get(urls.cgu)
    reading = parse_page(page)
    form = read_captcha_form(page.text, page.url) if reading.kind == "captcha" else None
    if form is None:
        raise CaptchaUnavailable(f"{urls.cgu} shows no CAPTCHA: {reading.detail}", reading)
    fields, image_url, headers = form.fields, form.image_url, {}
    if form.widget is not None:
        answer = await _load_captchetat(session, form.widget)
        fields = fields + answer.fields + ((CAPTCHA_ID_FIELD, answer.captcha_id),)
        image_url, headers = answer.image_url, form.widget.headers()
    if not image_url:
        unknown = Reading("unknown", Status.UNKNOWN, "CAPTCHA form without an image")
        raise CaptchaUnavailable(f"{urls.cgu}: the CAPTCHA has no image", unknown)
    image = await session.get(image_url, headers={**headers, "Accept": "image/*"})
    content_type = image_type(image.body) if image.status == 200 else None
    if content_type is None:
        failure = read_failure(image) or Reading("unknown", Status.UNKNOWN, "not an image")
        raise CaptchaUnavailable(f"the CAPTCHA image could not be read: {failure.detail}", failure)
    return CaptchaChallenge(
        image=image.body,
        content_type=content_type,
        form_url=form.form_url,
        fields=fields,
        code_field=form.code_field,
        image_url=image_url,
        page_url=page.url,
    )


async def _load_captchetat(session: Session, widget: CaptchEtatWidget) -> CaptchEtatAnswer:
    page = await session.get(widget.html_url(), headers=widget.headers())
    failure = read_failure(page)
    answer = None if failure else read_captchetat_answer(page.text, widget.endpoint, widget.style)
    if answer is None:
        why = failure or Reading("unknown", Status.UNKNOWN, "no CAPTCHA id in the answer")
        raise CaptchaUnavailable(f"the CAPTCHA service gave no CAPTCHA: {why.detail}", why)
    return answer


async def submit_captcha(
    target: Target, session: Session, challenge: CaptchaChallenge, code: str
) -> Reading:
    """Send the code a person typed; return the reading of the page reached: slots or no
    slot when it was right, CAPTCHA again (a new image) when it was wrong. The caller then
    keeps `session.cookies()` for the daemon's checks."""
    typed = code.strip()
    if not typed:
        raise ValueError("the code is empty: type the characters shown in the image")
    data = {**dict(challenge.fields), challenge.code_field: typed}
    reading = parse_page(await session.post(challenge.form_url, data))
    if reading.status is None or reading.kind == "unknown":
        # The answer was not a page of the flow (e.g. an empty 200): look at creneau/ itself.
        reading = parse_page(await session.get(demarche_urls(target.url).slots))
    return reading


def _soup(markup: str) -> BeautifulSoup:
    """BeautifulSoup is imported when a page is parsed: a daemon without a target of this
    system never loads it."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(markup, "lxml")
