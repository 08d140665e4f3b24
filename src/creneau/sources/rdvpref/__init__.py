"""RDV Préfecture, the national booking system: /rdvpref/reservation/demarche/<id>/<step>/.

A démarche's `cgu/` page carries an image CAPTCHA (CaptchEtat: the image comes from the PISTE
API, a person types the "code de sécurité"); the form goes to `_validerCaptcha`, and the site
session (a cookie) then reaches `creneau/`, whose JSON state lists the week's free slots and
the first free day. Some flows chain a second, browser-only challenge (a reCAPTCHA checkbox, a
Cloudflare Turnstile page) after the code. Every constant below says where it comes from;
fixtures/rdvpref/SOURCES.md gives the repositories and commits.

creneau never types the code and never passes a challenge. `check` reads `creneau/` once with
the cookies of a session a person opened and reports `captcha`, naming the challenge, when
the session is gone; `start_captcha` fetches the image for a person to read and
`submit_captcha` sends what they typed. Neither retries a challenge, and nothing here goes past
`creneau/`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urljoin, urlsplit

from pydantic import field_validator

from creneau.captcha_errors import UnsolvableCaptcha
from creneau.detail_texts import Code
from creneau.details import Detail, joined
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import GuichetResult, ReleaseAnnouncement, Slot, Status, said_as_kept
from creneau.sources.common import (
    MAX_ELEMENTS_READ,
    SITE_ZONE,
    Cut,
    FoldedText,
    NotJson,
    bounded_soup,
    fold,
    html_soup,
    load_json,
    page_date,
    read_failure,
    shown_text,
    status_from_error_title,
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

KEEPS_SESSION = True  # the session a person opened by solving the CAPTCHA serves later checks
# unconfirmed: no public source gives the site's idle session timeout (SOURCES.md, "The site
# session's lifetime"): a third of the servlet containers' 30-minute default.
SESSION_LIFETIME = timedelta(minutes=10)
# The readings of the creneau/ page (the slots step): what the flow reports as the démarche.
SLOTS_PAGE_KINDS = frozenset({"creneau", "creneau-later", "creneau-none"})
SITE_HOST = "www.rdv-prefecture.interieur.gouv.fr"
CAPTCHETAT_HOST = "api.piste.gouv.fr"

# A check is one request (two when sent back to cgu/); a CAPTCHA costs three.
HOST_BUDGETS = {
    SITE_HOST: HostBudget(per_minute=4.0, burst=4),
    CAPTCHETAT_HOST: HostBudget(per_minute=4.0, burst=4),
}

# --- the steps (woob modules/rdvprefecture/browser.py; peykart and kednasai bots) ----------
DEMARCHE_URL = re.compile(
    r"^(?P<base>https?://[^/?#]+/rdvpref/reservation/demarche/(?P<id>\d+))(?:/[^?#]*)?$"
)
CGU_STEP = "cgu/"
SLOTS_STEP = "creneau/"
VALIDATE_CAPTCHA_STEP = "_validerCaptcha"
ERROR_PARAM = "error"  # cgu/?error=…
INVALID_CAPTCHA = "invalidCaptcha"  # woob browser.py: a wrong code
# unconfirmed: what it means; peykart shows only the URL cgu/?error=errorSessionInvalide.
SESSION_INVALID = "errorSessionInvalide"

# --- the image CAPTCHA: <rdv-captchetat> (the site's own Vue component, woob pages.py) -----
CAPTCHETAT_WIDGET = "rdv-captchetat"
CAPTCHETAT_ENDPOINT_ATTR = "endpoint-url"
CAPTCHETAT_STYLE_ATTR = "captcha-style-name"
CAPTCHETAT_TOKEN_ATTR = "token"
CAPTCHETAT_HANDLER = "simple-captcha-endpoint"
CAPTCHETAT_ENDPOINT = f"https://{CAPTCHETAT_HOST}/piste/captcha/{CAPTCHETAT_HANDLER}"
CAPTCHETAT_DEFAULT_STYLE = "captchaFR"
CAPTCHA_ID_FIELD = "captchaId"  # the component's hidden input; woob's captcha_vars
CAPTCHA_ID_INPUT = "input[id^=BDC_VCID_]"  # the component reads BDC_VCID_<style>
CAPTCHA_ID_SCRIPT = "script[src*='t=']"  # woob reads the id from the script's `t`
CAPTCHA_IMAGE_ID = "img[id$=_CaptchaImage]"  # component: id="captchaFR_CaptchaImage"
# unconfirmed: other images a CAPTCHA page might use (kednasai selects "div.captcha img").
CAPTCHA_IMAGE_FALLBACK = "div.captcha img, img.BDC_CaptchaImage, img[src*=captcha i]"
CAPTCHA_IMAGE_ACCEPT = "image/png"  # the component's Accept for the image
CODE_FIELD = "captchaUsercode"  # woob
CODE_INPUT = f"input[name={CODE_FIELD}], input#captchaFormulaireExtInput"  # woob, peykart
VALIDATE_BUTTON = f"[formaction*={VALIDATE_CAPTCHA_STEP}]"  # bots click this button
# unconfirmed: no source shows a terms checkbox on cgu/; ticked for the person if present.
TERMS_CHECKBOX = re.compile(r"cgu|accept|condition", re.IGNORECASE)
# Vertigo-UI forms bind hidden inputs to the page state (form.html: v-bind:value="vueData.CTX").
BOUND_VALUE_ATTRS = ("v-bind:value", ":value")
BOUND_VALUE = re.compile(r"^vueData((?:\.\w+)+)$")
HOME_START_LINK = "a[href*='/cgu']"  # unconfirmed: the démarche page links to cgu/

# --- the slots page: script#vui-init-data (vertigo-ui-mpa.js) and <rdv-choix-tranche> -------
INIT_DATA = "script#vui-init-data"
VUE_DATA_KEY = "vueData"
SLOTS_WIDGET = "rdv-choix-tranche"
SLOT_RADIO = "input[id^=trhId_]"  # component: :id="'trhId_' + trhId"
SLOT_RADIO_PREFIX = "trhId_"
SLOT_LABEL = "label[for]"  # component: <label :for="'trhId_' + trhId">09h30</label>
DAY_COLUMN = "blocCreneauSelection"  # component, wide screens: one column per day
DAY_HEADER = "h3"  # its heading, "lundi<br/>18/05"
# component, phones (`$q.screen.lt.sm`): a <q-expansion-item :label="'lundi 18/05'"> per day,
# which Quasar renders as div.q-expansion-item with the label in div.q-item__label.
DAY_ITEM = "q-expansion-item"
DAY_ITEM_LABEL = "q-item__label"
# Vertigo's TrancheHoraire (agenda_model.ksp); the list holding them is found by its shape.
SLOT_ID = "trhId"
SLOT_DAY = "dateLocale"
SLOT_START_MINUTES = "minutesDebut"
SLOT_FIELDS = (SLOT_ID, SLOT_DAY, SLOT_START_MINUTES)
# Vertigo's CritereTrancheHoraire, under "critere" (peykart reads `"critere":{…}`).
CRITERIA_KEY = "critere"
CRITERIA_FIRST_DAY = "premierJour"
CRITERIA_FIRST_BOOKABLE_DAY = "dateMin"
CRITERIA_LAST_DAY = "dateMax"
CRITERIA_FIRST_FREE_DAY = "datePremiereDispo"  # "" = no free day up to dateMax (peykart)
# Vertigo's PublicationRange; Vertigo-UI sends `<field>_fmt` when a page asks for the
# formatted value (MapUiObject). The keys holding the two publications are guesses, from
# FoPlanningServices.getPrecedentePublication / getProchainePublication.
PUBLICATION_INSTANT_KEYS = ("instantPublication", "instantPublication_fmt")
PUBLICATION_FIRST_DAY = "dateMin"
PREVIOUS_PUBLICATION_KEY = re.compile(r"precedente", re.IGNORECASE)  # unconfirmed
NEXT_PUBLICATION_KEY = re.compile(r"prochaine", re.IGNORECASE)  # unconfirmed
TITLE = "h1"  # unconfirmed: the démarche's name as the page heading

# Phrases are matched on folded text (lower case, no accents); all from the site's
# <rdv-choix-tranche> component unless said.
SLOTS_HEADING = "choisissez votre creneau"  # peykart isSecondStep
NO_SLOT = re.compile(r"aucun creneau disponible(?! sur cette semaine)")  # woob, kednasai
WEEK_EMPTY = re.compile(r"aucun creneau disponible sur cette semaine")
NEXT_AVAILABILITY = re.compile(r"prochaine disponibilite le (\d{1,2}/\d{1,2}/\d{4})")
HOME_PHRASE = "prendre un rendez-vous"  # unconfirmed
_RELEASE = (
    r"mise en ligne de (?:nouveaux )?rendez-vous ?:? ?le (\d{1,2}/\d{1,2}/\d{4}) a (\d{1,2})[:h]"
    r"(\d{2})(?: pour des creneaux de la semaine du (\d{1,2}/\d{1,2}/\d{4}))?"
)
LAST_RELEASE = re.compile(r"derniere " + _RELEASE)
NEXT_RELEASE = re.compile(r"prochaine " + _RELEASE)
# unconfirmed: an error page served with 200 whose title starts with its status.
UNKNOWN_PAGE = Detail("rdvpref.unknown_page")

# --- challenges: what may stand between creneau and creneau/ -------------------------------
Challenge = Literal["image", "recaptcha", "hcaptcha", "turnstile", "bot-wall", "interstitial"]
# Google's reCAPTCHA docs (g-recaptcha, api.js, enterprise.js); kednasai "div.g-recaptcha",
# "g-recaptcha-response".
RECAPTCHA_ELEMENTS = (
    ".g-recaptcha, textarea[name=g-recaptcha-response], #g-recaptcha-response, "
    "iframe[src*='/recaptcha/'], iframe[title*=reCAPTCHA]"
)
RECAPTCHA_SCRIPT = re.compile(r"/recaptcha/(?:api|enterprise)\.js")
# docs.hcaptcha.com: class "h-captcha", js.hcaptcha.com/1/api.js, "h-captcha-response".
HCAPTCHA_ELEMENTS = ".h-captcha, [name=h-captcha-response], iframe[src*='hcaptcha.com']"
HCAPTCHA_SCRIPT = re.compile(r"hcaptcha\.com/1/api\.js")
# Cloudflare's Turnstile docs (class "cf-turnstile", challenges.cloudflare.com/turnstile/v0/
# api.js, "cf-turnstile-response") and its challenge pages ("cf-mitigated: challenge").
TURNSTILE_ELEMENTS = (
    ".cf-turnstile, [name=cf-turnstile-response], iframe[src*='challenges.cloudflare.com']"
)
TURNSTILE_SCRIPT = re.compile(r"challenges\.cloudflare\.com/turnstile/")
CLOUDFLARE_CHALLENGE_HEADER = ("cf-mitigated", "challenge")
CLOUDFLARE_CHALLENGE_PAGE = re.compile(r"\b_cf_chl_opt\b|/cdn-cgi/challenge-platform/")
# Imperva (Incapsula): its block page and the challenge resource it loads.
INCAPSULA_WALL = re.compile(r"incapsula incident id|request unsuccessful\. incapsula")
INCAPSULA_RESOURCE = re.compile(r"/_Incapsula_Resource\?")
# unconfirmed: Cloudflare's older block/captcha page title.
CLOUDFLARE_WALL = re.compile(r"attention required! \| cloudflare")
# unconfirmed: words of a verification page no vendor marker identifies.
INTERSTITIAL_PHRASES = re.compile(
    r"captcha|code de securite|recopiez les caracteres|saisissez les caracteres"
    r"|verify(?:ing)? you are (?:a )?human|verifi\w* que vous (?:n'etes pas un robot|etes humain)"
    r"|je ne suis pas un robot|i'm not a robot|verification de securite|security check"
)
# (kind, vendor, the prefix of its two constants above, its elements, its script)
VENDOR_MARKERS: tuple[tuple[Challenge, str, str, str, re.Pattern[str]], ...] = (
    ("recaptcha", "Google reCAPTCHA", "RECAPTCHA", RECAPTCHA_ELEMENTS, RECAPTCHA_SCRIPT),
    ("hcaptcha", "hCaptcha", "HCAPTCHA", HCAPTCHA_ELEMENTS, HCAPTCHA_SCRIPT),
    ("turnstile", "Cloudflare", "TURNSTILE", TURNSTILE_ELEMENTS, TURNSTILE_SCRIPT),
)
# What each challenge is said to be (creneau.detail_texts): whether a person can pass it
# through creneau (the image) or only in a browser on the site (the others).
CHALLENGE_DETAILS: dict[Challenge, Code] = {
    "image": "rdvpref.image_captcha",
    "recaptcha": "rdvpref.recaptcha",
    "hcaptcha": "rdvpref.hcaptcha",
    "turnstile": "rdvpref.turnstile",
    "bot-wall": "rdvpref.bot_wall",
    "interstitial": "rdvpref.interstitial",
}
WRONG_CODE = Detail("rdvpref.wrong_code")
SESSION_ENDED = Detail("rdvpref.session_ended")
SENT_HOME = Detail("rdvpref.sent_home")
FAILURE_RULES = {
    "forbidden": "HTTP_STATUS",
    "rate-limited": "HTTP_STATUS",
    "server-error": "HTTP_STATUS",
    "not-found": "HTTP_STATUS",
    "client-error": "HTTP_STATUS",
    "overloaded": "common.OVERLOADED_PHRASES",
    "closed": "common.CLOSED_PHRASES",
}

_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_CLOCK = re.compile(r"^(\d{1,2})[:h](\d{2})")
# Vertigo writes instants three ways: Vertigo-UI's encoder before 2025-03 "04/05/2026 11:58",
# after it "2026-05-04T11:58" (both in the site's zone), and the PInstant smart type's
# formatter, pattern "dd/MM/yyyy ' ' HH'h'mm": "04/05/2026   11h58" (three spaces).
_INSTANT = re.compile(r"^(\d{1,2}/\d{1,2}/\d{4})\s+(\d{1,2})[:h](\d{2})$")
_ZONELESS_ISO_INSTANT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2})?$")
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
    """Classify one RDV Préfecture page: slots, a challenge, a failure, no slot, or unknown.
    Slots seen win over everything; a vendor challenge over banners; a banner over the rest.
    Whatever the page is, it may announce the site's releases."""
    page, _ = status_from_error_title(page)
    shown = shown_text(page.text)
    text = fold(shown)
    soup, cut = bounded_soup(page.text)
    vue_data = read_vue_data(soup)
    name = target.name if target is not None else "<name>"
    reading = _PageRead(page, name, text, soup, cut, vue_data).reading()
    releases = read_releases(shown, vue_data)
    return replace(reading, releases=releases) if releases else reading


class _PageRead(PageReading[Reading]):
    """A vendor's challenge counts as a banner: only slots seen win over it."""

    def __init__(
        self,
        page: Page,
        name: str,
        text: str,
        soup: BeautifulSoup,
        cut: Cut,
        vue_data: dict[str, Any],
    ) -> None:
        self.page, self.name, self.text, self.soup, self.vue_data = page, name, text, soup, vue_data
        self.slots_page = _is_slots_page(soup, text, vue_data)
        served = _Served(page.url, page_date(page), cut)
        self.slots_read = _slots_reading(soup, text, vue_data, served) if self.slots_page else None

    def slots(self) -> Reading | None:
        return self.slots_read if self.slots_read is not None and self.slots_read.slots else None

    def banner(self) -> Reading | None:
        page, soup, text = self.page, self.soup, self.text
        if vendor := third_party_challenge(page, soup, text, widgets_only=self.slots_page):
            return _challenge_reading(vendor[0], vendor[1], self.name, vendor=vendor[2])
        if failure := read_failure(page, text):
            return replace(failure, rule=FAILURE_RULES.get(failure.kind, ""))
        return None

    def rest(self) -> Reading:
        if self.slots_read is not None:
            return self.slots_read
        if _is_captcha_page(self.soup):
            return _image_captcha_reading(self.soup, self.vue_data, self.page.url, self.name)
        if HOME_PHRASE in self.text and self.soup.select_one(HOME_START_LINK):
            return Reading("demarche", None, Detail("rdvpref.home"), rule="HOME_PHRASE")
        if INTERSTITIAL_PHRASES.search(self.text):
            return _challenge_reading("interstitial", "INTERSTITIAL_PHRASES", self.name)
        return Reading("unknown", Status.UNKNOWN, UNKNOWN_PAGE, rule="UNKNOWN_PAGE")


def third_party_challenge(
    page: Page, soup: BeautifulSoup, text: str, *, widgets_only: bool = False
) -> tuple[Challenge, str, str] | None:
    """A challenge only a browser can pass: (kind, the rule that saw it, vendor). With
    `widgets_only`, a vendor's script alone does not count (a page may load one to score
    visitors without asking them anything)."""
    header, value = CLOUDFLARE_CHALLENGE_HEADER
    if page.header(header).strip().lower() == value:
        return "turnstile", "CLOUDFLARE_CHALLENGE_HEADER", "Cloudflare"
    scripts = " ".join(str(tag.get("src", "")) for tag in soup.select("script[src]"))
    for kind, vendor, name, elements, script in VENDOR_MARKERS:
        if soup.select_one(elements):
            return kind, f"{name}_ELEMENTS", vendor
        if not widgets_only and script.search(scripts):
            return kind, f"{name}_SCRIPT", vendor
    if CLOUDFLARE_CHALLENGE_PAGE.search(page.text):
        return "turnstile", "CLOUDFLARE_CHALLENGE_PAGE", "Cloudflare"
    if INCAPSULA_WALL.search(text) or INCAPSULA_RESOURCE.search(page.text):
        return "bot-wall", "INCAPSULA_WALL", "Imperva Incapsula"
    if CLOUDFLARE_WALL.search(text):
        return "bot-wall", "CLOUDFLARE_WALL", "Cloudflare"
    return None


def _challenge_reading(kind: Challenge, rule: str, name: str, *, vendor: str = "") -> Reading:
    detail = _challenge_detail(kind, name, vendor)
    reading_kind = "captcha" if kind == "image" else kind
    return Reading(reading_kind, Status.CAPTCHA, detail, challenge=kind, rule=rule)


def _challenge_detail(kind: Challenge, name: str, vendor: str = "") -> Detail:
    if kind == "image":
        return Detail(CHALLENGE_DETAILS[kind], name=name)
    if kind == "bot-wall":
        return Detail(CHALLENGE_DETAILS[kind], vendor=vendor)
    return Detail(CHALLENGE_DETAILS[kind])


def challenge_of(reading: Reading) -> str:
    """The challenge a reading names ("" when it names none)."""
    return reading.challenge if reading.status is Status.CAPTCHA else ""


def _is_captcha_page(soup: BeautifulSoup) -> bool:
    return bool(soup.select_one(CAPTCHETAT_WIDGET) or soup.select_one(CODE_INPUT))


def _image_captcha_reading(
    soup: BeautifulSoup, vue_data: dict[str, Any], url: str, name: str
) -> Reading:
    error = parse_qs(urlsplit(url).query).get(ERROR_PARAM, [""])[0]
    image = _challenge_detail("image", name)
    detail: Detail | None
    if error == INVALID_CAPTCHA:
        detail, rule = WRONG_CODE, "INVALID_CAPTCHA"
    elif error == SESSION_INVALID:
        detail, rule = joined((SESSION_ENDED, image)), "SESSION_INVALID"
    else:
        detail = image
        rule = "CAPTCHETAT_WIDGET" if soup.select_one(CAPTCHETAT_WIDGET) else "CODE_INPUT"
    scope = _captcha_form(soup) or soup
    fields = _hidden_fields(scope, vue_data) + _terms_boxes(scope)
    return Reading("captcha", Status.CAPTCHA, detail, fields=fields, challenge="image", rule=rule)


def _is_slots_page(soup: BeautifulSoup, text: str, vue_data: dict[str, Any]) -> bool:
    return bool(
        SLOTS_HEADING in text
        or NO_SLOT.search(text)
        or WEEK_EMPTY.search(text)
        or soup.select_one(SLOTS_WIDGET)
        or soup.select_one(SLOT_RADIO)
        or _slot_lists(vue_data)
        or _criteria(vue_data)
    )


@dataclass(frozen=True)
class _Served:
    url: str
    on: date | None  # the day of its Date header, in the site's zone
    cut: Cut  # the elements past those read (a page too large to read whole)


@dataclass(frozen=True)
class _Found:
    slots: list[tuple[Slot, str]]  # with where each was read
    unreadable: int = 0
    not_kept: int = 0  # past MAX_SLOTS_PER_PAGE, not read


def _slots_reading(
    soup: BeautifulSoup,
    text: str,
    vue_data: dict[str, Any],
    served: _Served,
) -> Reading:
    demarche = _demarche_choice(soup, served.url)
    criteria = _criteria(vue_data)
    first_free, first_free_rule = _first_free_day(criteria, text)
    facts = {"first_availability": first_free.isoformat()} if first_free else {}
    read, rule = _slots_from_json(vue_data, demarche), "SLOT_FIELDS"
    if not read.slots and not read.unreadable:
        # The days the radios show have no year: the week the state says is shown, else
        # (a page without its state) the week of the day the page was served.
        first_day = _read_day(criteria.get(CRITERIA_FIRST_DAY)) or served.on
        read, rule = _slots_from_radios(soup, first_day, demarche, served.cut), "SLOT_RADIO"
    found = sorted(dict(read.slots).items())  # one origin per slot, in time order
    slots = tuple(slot for slot, _ in found)
    read_from = tuple(origin for _, origin in found)
    unreadable, not_kept = read.unreadable, read.not_kept

    def reading(kind: str, status: Status, detail: Detail, rule: str) -> Reading:
        return Reading(
            kind,
            status,
            detail,
            (demarche,),
            slots,
            facts=facts,
            rule=rule,
            read_from=read_from,
            slots_not_kept=not_kept,
        )

    if slots:
        shown = Detail("rdvpref.free_slots", count=len(slots), unreadable=unreadable)
        shown = with_not_kept(shown, not_kept)
        return reading("creneau", Status.AVAILABLE, shown, rule)
    if unreadable:
        unread = Detail("rdvpref.none_readable", count=unreadable)
        return reading("unknown", Status.UNKNOWN, unread, rule)
    if first_free:
        later = Detail("rdvpref.first_free_day", day=first_free)
        return reading("creneau-later", Status.AVAILABLE, later, first_free_rule)
    if served.cut.shapes:
        # The state or the radios may lie in the part not read: never "none".
        too_large = Detail("page_too_large", elements=MAX_ELEMENTS_READ)
        return reading("unknown", Status.UNKNOWN, too_large, "MAX_ELEMENTS_READ")
    if no_free_day := _no_free_day(criteria):
        return reading("creneau-none", Status.NONE, no_free_day, "CRITERIA_FIRST_FREE_DAY")
    if NO_SLOT.search(text):
        said = Detail("page_says", phrase="Aucun créneau disponible")
        return reading("creneau-none", Status.NONE, said, "NO_SLOT")
    if WEEK_EMPTY.search(text):
        return reading("unknown", Status.UNKNOWN, Detail("rdvpref.week_empty"), "WEEK_EMPTY")
    unknown = Detail("rdvpref.no_slot_phrase")
    return reading("unknown", Status.UNKNOWN, unknown, "UNKNOWN_PAGE")


def _first_free_day(criteria: dict[str, Any], text: str) -> tuple[date | None, str]:
    """The first free day the site names: its criteria, or the "Prochaine disponibilité le …"
    button of a rendered page."""
    if day := _read_day(criteria.get(CRITERIA_FIRST_FREE_DAY)):
        return day, "CRITERIA_FIRST_FREE_DAY"
    found = NEXT_AVAILABILITY.search(text)
    if found and (day := _read_day(found.group(1))):
        return day, "NEXT_AVAILABILITY"
    return None, ""


def _no_free_day(criteria: dict[str, Any]) -> Detail | None:
    """Why the site's own search says there is no free day, or None when it does not say so.
    `datePremiereDispo` is searched from `premierJour` to `dateMax` (Vertigo's
    TkGetDatePremiereDisponibiliteByAgeIds); it proves nothing when the week shown starts
    after the first bookable day."""
    if criteria.get(CRITERIA_FIRST_FREE_DAY) != "":
        return None
    first_day = _read_day(criteria.get(CRITERIA_FIRST_DAY))
    bookable = _read_day(criteria.get(CRITERIA_FIRST_BOOKABLE_DAY))
    if first_day is None or bookable is None or first_day > bookable:
        return None
    last = _read_day(criteria.get(CRITERIA_LAST_DAY))
    if last is None:
        return Detail("rdvpref.no_free_day", since=bookable)
    return Detail("rdvpref.no_free_day", since=bookable, until=last)


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


def _walk(value: Any, path: str = "$.vueData", depth: int = 0) -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) inside vueData, depth first, bounded: in depth, and in the
    items of a list looked into (a list of slots is read whole by `_slots_from_json`)."""
    if depth > _JSON_DEPTH:
        return
    items = value.items() if isinstance(value, dict) else enumerate(value[:MAX_SLOTS_PER_PAGE])
    for key, inner in items:
        here = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"
        yield here, str(key), inner
        if isinstance(inner, dict | list):
            yield from _walk(inner, here, depth + 1)


def _slot_lists(vue_data: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Lists of objects shaped like the site's time slots (TrancheHoraire), with their path."""
    lists = []
    for path, _key, value in _walk(vue_data):
        if isinstance(value, list) and value and all(_is_slot(item) for item in value):
            lists.append((path, value))
    return lists


def _is_slot(item: Any) -> bool:
    return isinstance(item, dict) and SLOT_ID in item and SLOT_DAY in item


def _criteria(vue_data: dict[str, Any]) -> dict[str, Any]:
    """The search criteria (CritereTrancheHoraire): under "critere", else found by shape."""
    named = vue_data.get(CRITERIA_KEY)
    if isinstance(named, dict) and CRITERIA_FIRST_DAY in named:
        return named
    for _path, _key, value in _walk(vue_data):
        if isinstance(value, dict) and CRITERIA_FIRST_DAY in value:
            return value
    return {}


def _slots_from_json(vue_data: dict[str, Any], demarche: Choice) -> _Found:
    slots: list[tuple[Slot, str]] = []
    unreadable = not_kept = 0
    for path, items in _slot_lists(vue_data):
        room = max(0, MAX_SLOTS_PER_PAGE - len(slots) - unreadable)
        not_kept += max(0, len(items) - room)
        for index, item in enumerate(items[:room]):
            day = _read_day(item.get(SLOT_DAY))
            minutes = _read_minutes(item.get(SLOT_START_MINUTES))
            key = str(item.get(SLOT_ID, "")).strip()
            if day is None or minutes is None or not key:
                unreadable += 1
                continue
            slot = Slot(_local(day, minutes), demarche.id, demarche.label, key)
            slots.append((slot, f"{path}[{index}]"))
    return _Found(slots, unreadable, not_kept)


def _slots_from_radios(
    soup: BeautifulSoup, first_day: date | None, demarche: Choice, cut: Cut
) -> _Found:
    """Slots from rendered radios: the day comes from the column header ("lundi 18/05"),
    its year from the criteria's first day, the time from the label ("09h30")."""
    slots, unreadable = [], 0
    labels: dict[str, Tag] = {}
    for tag in soup.select(SLOT_LABEL):
        labels.setdefault(str(tag.get("for", "")), tag)
    radios = soup.select(SLOT_RADIO)
    read = radios[:MAX_SLOTS_PER_PAGE]
    not_kept = len(radios) - len(read) + cut.like(read)
    for radio in read:
        radio_id = str(radio.get("id", ""))
        key = radio_id[len(SLOT_RADIO_PREFIX) :]
        day = _radio_day(radio, first_day)
        label = labels.get(radio_id)
        label_text = label.get_text(" ").strip() if label else ""
        minutes = _read_minutes(label_text or None)
        if not key or day is None or minutes is None:
            unreadable += 1
            continue
        slot = Slot(_local(day, minutes), demarche.id, demarche.label, key)
        slots.append((slot, f'input#{radio_id} + label "{label_text[:20]}"'))
    return _Found(slots, unreadable, not_kept)


def _radio_day(radio: Tag, first_day: date | None) -> date | None:
    found = _HEADER_DAY.search(_day_heading(radio))
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


def _day_heading(radio: Tag) -> str:
    """What names the radio's day ("lundi 18/05"): its column's heading on a wide screen,
    its expansion item's label on a phone."""
    column = radio.find_parent(class_=DAY_COLUMN)
    if column is not None and (header := column.find(DAY_HEADER)) is not None:
        return str(header.get_text(" "))
    item = radio.find_parent(class_=DAY_ITEM) or radio.find_parent(DAY_ITEM)
    if item is None:
        return ""
    if item.name == DAY_ITEM:  # the component's own tag, as a template writes it
        return str(item.get("label", ""))
    label = item.find(class_=DAY_ITEM_LABEL)
    return str(label.get_text(" ")) if label is not None else ""


def _local(day: date, minutes: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SITE_ZONE) + timedelta(minutes=minutes)


def _read_day(value: Any) -> date | None:
    """'18/05/2026' (Vertigo's PLocalDate and its UI encoder before 2025-03) or '2026-05-18'
    (the encoder since)."""
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
    """Minutes after midnight: 570, '570', '09:30' (Vertigo's FormatterMinutes) or '09h30'
    (the component's label)."""
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


def read_releases(shown: str, vue_data: dict[str, Any]) -> ReleaseAnnouncement | None:
    """When the site last (and next) put slots online, from the page's text (`shown`, not
    folded: the next one's sentence is kept as the page writes it) or, failing that, from its
    JSON state (no sentence then); None when it says neither."""
    text = FoldedText.of(shown)
    last = _release(text, vue_data, LAST_RELEASE, PREVIOUS_PUBLICATION_KEY)
    upcoming = _release(text, vue_data, NEXT_RELEASE, NEXT_PUBLICATION_KEY)
    if last is None and upcoming is None:
        return None
    (last_at, last_week, _), (next_at, next_week, said) = (
        last or (None, None, ""),
        upcoming or (None, None, ""),
    )
    return ReleaseAnnouncement(last_at, last_week, next_at, next_week, said)


def _release(
    text: FoldedText, vue_data: dict[str, Any], phrase: re.Pattern[str], key: re.Pattern[str]
) -> tuple[datetime, date | None, str] | None:
    """An instant, its week and the sentence that says them ("" from the JSON state)."""
    found = phrase.search(text.folded)
    if found is None:
        from_json = _release_from_json(vue_data, key)
        return (*from_json, "") if from_json else None
    from_text = _release_from_text(found)
    return (*from_text, said_as_kept(text.said(found))) if from_text else None


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
    for _path, name, value in _walk(vue_data):
        if not key.search(name) or not isinstance(value, dict):
            continue
        instants = [value[field] for field in PUBLICATION_INSTANT_KEYS if field in value]
        if not instants:
            continue
        at = next(filter(None, map(_read_instant, instants)), None)
        if at is None:
            return None
        first = _read_day(value.get(PUBLICATION_FIRST_DAY))
        return at, first - timedelta(days=first.weekday()) if first else None
    return None


def _read_instant(value: Any) -> datetime | None:
    """An instant as Vertigo writes it (see _INSTANT), in the site's zone, or an ISO instant
    with its offset."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if found := _INSTANT.match(text):
        day, hours, minutes = _read_day(found.group(1)), int(found.group(2)), int(found.group(3))
        if day is None or hours > 23 or minutes > 59:
            return None
        return _local(day, hours * 60 + minutes)
    if found := _ZONELESS_ISO_INSTANT.match(text):
        year, month, day_of_month, hours, minutes = map(int, found.groups())
        try:
            return datetime(year, month, day_of_month, hours, minutes, tzinfo=SITE_ZONE)
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
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
    fields: tuple[tuple[str, str], ...]  # hidden fields (CTX…) and any terms checkbox
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
    soup = html_soup(markup)
    if not _is_captcha_page(soup):
        return None
    form = _captcha_form(soup)
    scope: Tag = form or soup
    fields = _hidden_fields(scope, read_vue_data(soup)) + _terms_boxes(scope)
    code_input = scope.select_one(CODE_INPUT)
    code_field = str(code_input.get("name") or CODE_FIELD) if code_input else CODE_FIELD
    widget = _widget(soup, page_url)
    image = _captcha_image(scope)
    image_url = urljoin(page_url, str(image.get("src", ""))) if image and not widget else ""
    return CaptchaForm(_form_url(scope, form, page_url), fields, code_field, widget, image_url)


def read_captchetat_answer(markup: str, endpoint: str, style: str) -> CaptchEtatAnswer | None:
    """Parse the PISTE API's `?get=html` answer; None when it holds no CAPTCHA id."""
    soup = html_soup(markup)
    id_input = soup.select_one(CAPTCHA_ID_INPUT)
    captcha_id = str(id_input.get("value", "")).strip() if id_input else ""
    if not captcha_id:
        script = soup.select_one(CAPTCHA_ID_SCRIPT)
        params = parse_qs(urlsplit(str(script.get("src", ""))).query) if script else {}
        captcha_id = params.get("t", [""])[0]
    if not captcha_id:
        return None
    image = _captcha_image(soup)
    src = str(image.get("src", "")) if image else ""
    if src:
        image_url = rebase_on_endpoint(src, endpoint)
    else:
        image_url = CaptchEtatWidget(endpoint, style, "").image_url(captcha_id)
    return CaptchEtatAnswer(captcha_id, _hidden_fields(soup, {}), image_url)


def rebase_on_endpoint(src: str, endpoint: str) -> str:
    """What the site's component does to the markup's addresses (changeRelativeToAbsoluteUrls):
    everything before the handler's name is replaced by the endpoint's base."""
    handler = endpoint.rstrip("/").rsplit("/", 1)[-1]
    if handler and handler in src and handler in endpoint:
        return endpoint[: endpoint.rindex(handler)] + src[src.index(handler) :]
    return urljoin(endpoint, src)


def _captcha_image(scope: Tag) -> Tag | None:
    return scope.select_one(CAPTCHA_IMAGE_ID) or scope.select_one(CAPTCHA_IMAGE_FALLBACK)


def _captcha_form(soup: BeautifulSoup) -> Tag | None:
    for element in (soup.select_one(CODE_INPUT), soup.select_one(CAPTCHETAT_WIDGET)):
        form = element.find_parent("form") if element else None
        if form is not None:
            return form
    return soup.select_one("form")


def _hidden_fields(scope: Tag, vue_data: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Hidden inputs and their values; a value bound to the page state (v-bind:value=
    "vueData.CTX") is read from it, as the browser would send it."""
    fields = []
    for field in scope.select("input[type=hidden][name]"):
        value = field.get("value")
        if value is None:
            value = _bound_value(field, vue_data)
        fields.append((str(field["name"]), str(value)))
    return tuple(fields)


def _bound_value(field: Tag, vue_data: dict[str, Any]) -> str:
    for attribute in BOUND_VALUE_ATTRS:
        found = BOUND_VALUE.match(str(field.get(attribute, "")).strip())
        if found is None:
            continue
        value: Any = vue_data
        for part in found.group(1).split(".")[1:]:
            value = value.get(part) if isinstance(value, dict) else None
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return ""


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
    """Read creneau/ once with the session's cookies. Never passes a challenge and never
    retries one: when the site asks for one, the outcome names it and says whether a person
    can solve it through `creneau captcha`."""
    urls = demarche_urls(target.url)
    page = await session.get(urls.slots)
    reading = await parsed(parse_page, page, target)
    return replace(_outcome(target, urls, page, reading), releases=reading.releases)


def _outcome(target: Target, urls: DemarcheUrls, page: Page, reading: Reading) -> FlowOutcome:
    facts = dict(reading.facts)
    if reading.kind == "demarche":
        image = _challenge_detail("image", target.name)
        sent_home = joined((SENT_HOME, image))
        return FlowOutcome((), Status.CAPTCHA, sent_home, page, facts, challenge="image")
    if reading.status is Status.CAPTCHA:
        challenge = reading.challenge
        return FlowOutcome((), Status.CAPTCHA, reading.detail, page, facts, challenge=challenge)
    if reading.kind in SLOTS_PAGE_KINDS or reading.choices:
        guichet = _guichet(urls.demarche_id, reading)
        return FlowOutcome(
            (guichet,),
            guichet.status,
            reading.detail,
            page,
            facts,
            slots_not_kept=reading.slots_not_kept,
        )
    status = reading.status or Status.UNKNOWN
    detail = reading.detail if reading.status else Detail("unexpected_page", kind=reading.kind)
    return FlowOutcome((), status, detail, page, facts)


def _guichet(demarche_id: str, reading: Reading) -> GuichetResult:
    label = reading.choices[0].label if reading.choices else ""
    demarche = Choice(demarche_id, label or f"démarche {demarche_id}")
    slots = tuple(sorted(_at(slot, demarche) for slot in reading.slots))
    status = reading.status or Status.UNKNOWN
    cut_short = CUT_SHORT if reading.slots_not_kept else None
    return GuichetResult(demarche.id, demarche.label, status, slots, reading.detail, cut_short)


@dataclass(frozen=True)
class CaptchaChallenge:
    """A CAPTCHA for a person to read: the image, and how to send back what they type."""

    image: bytes
    content_type: str
    form_url: str  # where submit_captcha posts
    fields: tuple[tuple[str, str], ...]  # hidden fields (and any terms box) to resubmit
    code_field: str  # the name of the "code de sécurité" field
    image_url: str = ""
    page_url: str = ""


class CaptchaUnavailable(UnsolvableCaptcha):
    """No image CAPTCHA a person could solve here: the site refused, failed, or asks for a
    challenge only a browser can pass (`challenge` names it, "" when there is none);
    `reading` is the page that says so."""

    def __init__(self, detail: Detail, reading: Reading) -> None:
        super().__init__(detail, challenge_of(reading))
        self.reading = reading


async def start_captcha(target: Target, session: Session) -> CaptchaChallenge:
    """Open the terms page and fetch its CAPTCHA image (three requests with CaptchEtat).
    Raises CaptchaUnavailable, whose `reading` says why, when there is no image CAPTCHA to
    show — in particular when the site asks for a challenge only a browser can pass."""
    urls = demarche_urls(target.url)
    page = await session.get(urls.cgu)
    reading = await parsed(parse_page, page, target)
    if challenge_of(reading) not in ("", "image"):
        raise CaptchaUnavailable(_at_page(urls.cgu, reading.detail), reading)
    form = read_captcha_form(page.text, page.url) if reading.kind == "captcha" else None
    if form is None:
        none = Detail("rdvpref.no_captcha_at", url=urls.cgu, detail=_said(reading))
        raise CaptchaUnavailable(none, reading)
    fields, image_url, headers = form.fields, form.image_url, {}
    if form.widget is not None:
        answer = await _load_captchetat(session, form.widget, target)
        fields = fields + answer.fields + ((CAPTCHA_ID_FIELD, answer.captcha_id),)
        image_url, headers = answer.image_url, form.widget.headers()
    if not image_url:
        unknown = Reading("unknown", Status.UNKNOWN, Detail("rdvpref.form_without_image"))
        raise CaptchaUnavailable(
            _at_page(urls.cgu, Detail("rdvpref.captcha_without_image")), unknown
        )
    image = await session.get(image_url, headers={**headers, "Accept": CAPTCHA_IMAGE_ACCEPT})
    content_type = image_type(image.body) if image.status == 200 else None
    if content_type is None:
        failure = read_failure(image) or Reading(
            "unknown", Status.UNKNOWN, Detail("rdvpref.not_an_image")
        )
        unreadable = Detail("rdvpref.image_unreadable", detail=_said(failure))
        raise CaptchaUnavailable(unreadable, failure)
    return CaptchaChallenge(
        image=image.body,
        content_type=content_type,
        form_url=form.form_url,
        fields=fields,
        code_field=form.code_field,
        image_url=image_url,
        page_url=page.url,
    )


async def _load_captchetat(
    session: Session, widget: CaptchEtatWidget, target: Target | None = None
) -> CaptchEtatAnswer:
    page = await session.get(widget.html_url(), headers=widget.headers())
    soup = html_soup(page.text)
    if vendor := third_party_challenge(page, soup, visible_text(page.text)):
        name = target.name if target is not None else "<name>"
        blocked = _challenge_reading(vendor[0], vendor[1], name, vendor=vendor[2])
        service = Detail("rdvpref.captcha_service", detail=_said(blocked))
        raise CaptchaUnavailable(service, blocked)
    failure = read_failure(page)
    answer = None if failure else read_captchetat_answer(page.text, widget.endpoint, widget.style)
    if answer is None:
        why = failure or Reading("unknown", Status.UNKNOWN, Detail("rdvpref.no_captcha_id"))
        none = Detail("rdvpref.service_gave_none", detail=_said(why))
        raise CaptchaUnavailable(none, why)
    return answer


async def submit_captcha(
    target: Target, session: Session, challenge: CaptchaChallenge, code: str
) -> Reading:
    """Send the code a person typed; return the reading of the page reached: slots or no
    slot when it was right, the image CAPTCHA again (a new image) when it was wrong. Raises
    CaptchaUnavailable when the site then asks for a challenge only a browser can pass (a
    reCAPTCHA chained after the code): a person cannot go on through creneau. The caller
    keeps `session.cookies()` for the daemon's checks."""
    typed = code.strip()
    if not typed:
        raise ValueError("the code is empty: type the characters shown in the image")
    data = {**dict(challenge.fields), challenge.code_field: typed}
    answer = await session.post(challenge.form_url, data)
    reading = _browser_only_refused(await parsed(parse_page, answer, target))
    if reading.status is None or reading.kind == "unknown":
        # The answer was not a page of the flow (e.g. an empty 200): look at creneau/ itself.
        page = await session.get(demarche_urls(target.url).slots)
        reading = _browser_only_refused(await parsed(parse_page, page, target))
    return reading


def _browser_only_refused(reading: Reading) -> Reading:
    if challenge_of(reading) not in ("", "image"):
        after = Detail("rdvpref.after_code", detail=_said(reading))
        raise CaptchaUnavailable(after, reading)
    return reading


def _said(reading: Reading) -> Detail:
    """What a reading says (every reading of this module says something)."""
    return reading.detail or UNKNOWN_PAGE


def _at_page(url: str, detail: Detail | None) -> Detail:
    return Detail("labelled", label=url, detail=detail or UNKNOWN_PAGE)
