"""Any other booking page, described by the target: CSS selectors for the slots, phrases that
mean "no slot", and optionally how to read a slot's date and time (the common French and ISO
forms are read without being told).

This module owns the `html` target settings and their config-time checks, the French date
reading, and the reading of one page into guichets and slots. The flow is one GET of the
target's URL per check. An element the slot_selector matches is a slot even when its time
cannot be read (it then carries a stand-in start, see `results.UNREADABLE_TIME_BASE`);
slots seen win over a banner; a page that shows neither a slot nor a "no slot" phrase is
`unknown`, never `none`: silence about slots must not read as "no slot".
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from creneau import patterns
from creneau.details import Detail, joined
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import (
    GuichetResult,
    Slot,
    Status,
    overall_status,
    unreadable_time_stand_in,
)
from creneau.sources.common import (
    FAILURE_RULES,
    MAX_ELEMENTS_READ,
    Cut,
    bounded_soup,
    fold,
    looks_like_captcha,
    page_date,
    read_failure,
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

HOST_BUDGETS: dict[str, HostBudget] = {}  # the default budget: no published limit known
KEEPS_SESSION = False  # each check starts a new site session

PAGE_GUICHET_ID = "page"
QUOTE_LIMIT = 80
READ_FROM_LIMIT = 120  # characters of each `Reading.read_from` entry
PATH_DEPTH = 4  # elements named in a slot's path, up to the nearest one with an id

# Names of the rules a Reading reports as `rule` (for `creneau parse --explain`).
RULE_SLOTS = "slot_selector"  # the target's selector matched slot elements
RULE_NO_SLOT = "none_text"  # one of the target's phrases is on the page
RULE_NO_TARGET = "NO_TARGET"
RULE_UNRECOGNISED = "UNRECOGNISED"  # neither slots nor a phrase: unknown
RULE_CAPTCHA = "CAPTCHA_MARKERS"  # sources/common.py
RULE_HTTP_STATUS = "HTTP_STATUS"  # a 4xx/5xx answer, read by common.read_failure

# --- French dates ------------------------------------------------------------------------------

# Folded (no accents) names; abbreviations with or without their dot.
MONTH_NUMBERS = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7,
    "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = (
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "lun", "mar", "mer", "jeu", "ven", "sam", "dim",
)  # fmt: skip


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))  # longest first: "mars" before "mar"


FIRST_OF_MONTH = re.compile(r"\b1 ?er\b")  # "1<sup>er</sup>" reads as "1 er"
# French writes the day before the month: a month name follows a number. That also tells the
# month "mar." (after a day number) from the weekday "mar." (before one).
MONTH_NAME = re.compile(rf"(?<=\d )({_alternatives(MONTH_NUMBERS)})(?![a-z])\.?")
WEEKDAY_NAME = re.compile(rf"\b(?:{_alternatives(WEEKDAYS)})(?![a-z])\.?,? ?")
HOUR_AND_MINUTES = re.compile(r"\b(\d{1,2}) ?h ?(\d{2})(?!\d)")
HOUR_ONLY = re.compile(r"\b(\d{1,2}) ?h(?![a-z0-9])")
SPACES = re.compile(r"\s+")

FORMAT_DIRECTIVE = re.compile(r"(%.?)", re.DOTALL)
FORMAT_WEEKDAY = re.compile(r"%[Aa]\.?,? ?")
FORMAT_MONTH_NAME = re.compile(r"%[Bb]\.?")
FORMAT_HOUR_AND_MINUTES = re.compile(r"%H ?h ?%M")
FORMAT_HOUR_ONLY = re.compile(r"%H ?h(?![a-z])")
ALLOWED_DIRECTIVES = ("%d", "%m", "%B", "%b", "%Y", "%y", "%H", "%M", "%S", "%A", "%a", "%%")
REQUIRED_DIRECTIVES = (
    ("a day (%d)", ("%d",)),
    ("a month (%m, %B or %b)", ("%m", "%B", "%b")),
    ("a year (%Y or %y)", ("%Y", "%y")),
    ("an hour (%H)", ("%H",)),
)


def _unaccent(text: str) -> str:
    """Lower case, accents removed, apostrophes straightened; spaces kept as they are."""
    text = text.replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ").lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(char for char in text if not unicodedata.combining(char))


def normalise_french_datetime(text: str) -> str:
    """'Mardi 1er décembre 2026 à 9h30' → '1 12 2026 a 9:30': folded, weekday dropped, month
    names as numbers, '1er' as 1, '9h30' / '9 h 30' / '9h' as 9:30 / 9:30 / 9:00."""
    text = SPACES.sub(" ", _unaccent(text)).strip()
    text = FIRST_OF_MONTH.sub("1", text)
    text = MONTH_NAME.sub(lambda found: str(MONTH_NUMBERS[found.group(1)]), text)
    text = WEEKDAY_NAME.sub("", text)
    text = HOUR_AND_MINUTES.sub(r"\1:\2", text)
    text = HOUR_ONLY.sub(r"\1:00", text)
    return SPACES.sub(" ", text).strip()


def normalise_time_format(time_format: str) -> str:
    """The format as `normalise_french_datetime` leaves the text it describes:
    '%A %d %B %Y à %Hh%M' → '%d %m %Y a %H:%M'."""
    pieces = FORMAT_DIRECTIVE.split(time_format)
    time_format = "".join(
        piece if FORMAT_DIRECTIVE.fullmatch(piece) else _unaccent(piece) for piece in pieces
    )
    time_format = SPACES.sub(" ", time_format).strip()
    time_format = FORMAT_WEEKDAY.sub("", time_format)
    time_format = FORMAT_MONTH_NAME.sub("%m", time_format)
    time_format = FORMAT_HOUR_AND_MINUTES.sub("%H:%M", time_format)
    time_format = FORMAT_HOUR_ONLY.sub("%H:00", time_format)
    return SPACES.sub(" ", time_format).strip()


def parse_french_datetime(text: str, time_format: str, zone: ZoneInfo) -> datetime:
    """The wall-clock time `text` names, in `zone`. Raises ValueError when it does not fit."""
    naive = datetime.strptime(normalise_french_datetime(text), normalise_time_format(time_format))
    return naive.replace(tzinfo=zone)


def time_format_problem(time_format: str) -> str | None:
    """Why a slot_time_format cannot be used, or None."""
    directives = [p for p in FORMAT_DIRECTIVE.split(time_format) if FORMAT_DIRECTIVE.fullmatch(p)]
    for directive in directives:
        if directive not in ALLOWED_DIRECTIVES:
            return (
                f'unsupported directive "{directive}" in "{time_format}" '
                f"(use {' '.join(ALLOWED_DIRECTIVES)})"
            )
    missing = [name for name, options in REQUIRED_DIRECTIVES if not set(options) & {*directives}]
    if missing:
        return f'"{time_format}" lacks {_and(missing)} (e.g. "%d/%m/%Y %H:%M")'
    # Month names become numbers: "%m" and "%B" together would read the month twice.
    read = FORMAT_DIRECTIVE.findall(normalise_time_format(time_format))
    twice = sorted({d for d in read if d != "%%" and read.count(d) > 1})
    if twice:
        return f'"{time_format}" reads {_and(twice)} more than once'
    return None


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# --- French dates in their common forms (no slot_time_format needed) ---------------------------

# Each pattern runs on folded text (`_folded_for_dates`): lower case, no accents, "1er" as 1.
# The forms are those French booking pages print, e.g. betagouv/rdv-service-public's
# config/locales/fr.yml: "%A %d %B %Y à %Hh%M", "%A %-d/%m à %Hh%M", "%d/%m/%Y à %H:%M",
# and its slot buttons' aria-label "Choisir le créneau du %A %-d %b à %H:%M".
ISO_DATETIME = re.compile(
    r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[t ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    r"(z|[+-]\d{2}:?\d{2})?(?!\d)"
)
NUMERIC_DATE = re.compile(
    r"(?<![\d/.-])(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?(?![\d]|[/.-]\d)"
)
NAMED_DATE = re.compile(
    rf"(?<!\d)(\d{{1,2}}) ({_alternatives(MONTH_NUMBERS)})(?![a-z])\.?(?: (\d{{4}}))?(?!\d)"
)
CLOCK_TIME = re.compile(
    r"(?<![\d:])(\d{1,2})(?: ?h ?(\d{2})(?!\d)| ?h(?![a-z\d])| ?: ?(\d{2})(?!\d))"
)
YEARS_AHEAD = 8  # how far a date without a year may lie: 29 February recurs within 8 years


@dataclass(frozen=True)
class _DateFound:
    start: int  # where the date is in the folded text
    end: int
    day: int
    month: int
    year: int | None  # None: the text gives no year


def read_common_datetime(text: str, zone: ZoneInfo, reference: date | None) -> datetime | None:
    """The date and time a text names in one of the common French or ISO forms, as wall-clock
    time in `zone` ("mardi 8 décembre 2026 à 09h30", "08/12/2026 09:30", "le 8 déc. à 9h30",
    "8 décembre à 9 h 30", "lundi 07/12 - 14:00", "2026-12-08T09:30"). A date without a year is
    the next such date on or after `reference` (the page's date); without a reference, or
    without a time of day, None."""
    folded = _folded_for_dates(text)
    if iso := ISO_DATETIME.search(folded):
        return _iso_datetime(iso, zone)
    for found in _dates_in(folded):
        day = _full_date(found, reference)
        if day is None:
            continue
        clock = _clock_near(folded, found)
        if clock is None:
            return None
        hour, minute = clock
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return None


def _folded_for_dates(text: str) -> str:
    return FIRST_OF_MONTH.sub("1", SPACES.sub(" ", _unaccent(text)).strip())


def _iso_datetime(found: re.Match[str], zone: ZoneInfo) -> datetime | None:
    year, month, day, hour, minute = (int(found.group(i)) for i in range(1, 6))
    second = int(found.group(6) or 0)
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    offset = found.group(7)
    if offset is None:
        return naive.replace(tzinfo=zone)
    # An explicit offset names an instant: shown in the site's zone.
    return naive.replace(tzinfo=_fixed_zone(offset)).astimezone(zone)


def _fixed_zone(offset: str) -> timezone:
    if offset == "z":
        return UTC
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _dates_in(folded: str) -> Iterator[_DateFound]:
    """Day-month(-year) candidates, in the order they appear."""
    found = []
    for match in NUMERIC_DATE.finditer(folded):
        day, month, year = match.group(1), match.group(2), match.group(3)
        found.append(_DateFound(match.start(), match.end(), int(day), int(month), _year(year)))
    for match in NAMED_DATE.finditer(folded):
        day, month, year = match.group(1), MONTH_NUMBERS[match.group(2)], match.group(3)
        found.append(_DateFound(match.start(), match.end(), int(day), month, _year(year)))
    return iter(sorted(found, key=lambda candidate: candidate.start))


def _year(digits: str | None) -> int | None:
    if digits is None:
        return None
    return int(digits) + 2000 if len(digits) == 2 else int(digits)


def _full_date(found: _DateFound, reference: date | None) -> date | None:
    if found.year is not None:
        with suppress(ValueError):
            return date(found.year, found.month, found.day)
        return None
    if reference is None:
        return None
    for year in range(reference.year, reference.year + YEARS_AHEAD + 1):
        with suppress(ValueError):
            if (candidate := date(year, found.month, found.day)) >= reference:
                return candidate
    return None


def _clock_near(folded: str, found: _DateFound) -> tuple[int, int] | None:
    """The first time of day after the date, else the last one before it."""
    after = CLOCK_TIME.search(folded, found.end)
    before = [*CLOCK_TIME.finditer(folded[: found.start])]
    for match in [after, *reversed(before)]:
        if match is None:
            continue
        hour, minute = int(match.group(1)), int(match.group(2) or match.group(3) or 0)
        if hour < 24 and minute < 60:
            return hour, minute
    return None


# --- slots whose time cannot be read -----------------------------------------------------------

UNREADABLE_KEY_PREFIX = "time-not-read:"


# unconfirmed: generic wording of an empty row in a slot list, gathered from pages that say it
# ("Pas de créneau disponible": betagouv/rdv-service-public app/views/search/_creneaux.html.slim;
# "Il n'existe plus de plage horaire libre…": the ezbooking pages, quoted by many bots; "Aucun
# créneau disponible" / "Aucun rendez-vous" in booking front-ends). A matched element carrying
# it is not a slot; with nothing else on the page the answer is `unknown`, never `none`.
NO_SLOT_WORDS = re.compile(
    r"\b(aucun|aucune|pas de|plus de) (creneau|creneaux|rendez-vous|rdv|plage|plages|place"
    r"|places|disponibilite|disponibilites)\b"
)
# Where else an element may carry its time: the HTML <time datetime="…"> attribute, and the
# aria-label or title of a slot button (rdv-service-public's buttons show "09:30" and say
# "Choisir le créneau du mardi 8 déc. à 09:30" in their aria-label).
TIME_ATTRIBUTES = ("datetime", "aria-label", "title")
ATTRIBUTE_TAGS_LIMIT = 20


# --- the target --------------------------------------------------------------------------------


class Target(TargetBase):
    system: Literal["html"] = "html"
    none_text: list[str] = Field(
        default_factory=list, description='phrases meaning "no slot", matched without accents'
    )
    slot_selector: str | None = Field(default=None, description="CSS: each match is one slot")
    slot_time_selector: str | None = Field(
        default=None, description="CSS, inside each slot: where its time is; default: the slot"
    )
    slot_time_pattern: str | None = Field(
        default=None, description="regex searched in the time text; its groups, joined, are read"
    )
    slot_time_format: str | None = Field(
        default=None,
        description="strptime-like, French day and month names allowed; without it (or when it "
        "does not fit) the common French and ISO forms are read",
    )
    guichet_selector: str | None = Field(
        default=None, description="CSS: names the guichet, inside a slot or the nearest before it"
    )
    timezone: str = "Europe/Paris"

    @field_validator("none_text")
    @classmethod
    def _phrases(cls, phrases: list[str]) -> list[str]:
        if any(not fold(phrase) for phrase in phrases):
            raise ValueError("a phrase is empty: it would match every page")
        return phrases

    @field_validator("slot_selector", "slot_time_selector", "guichet_selector")
    @classmethod
    def _css(cls, selector: str | None) -> str | None:
        if selector is not None and (problem := patterns.selector_problem(selector)):
            raise ValueError(problem)
        return selector

    @field_validator("slot_time_pattern")
    @classmethod
    def _regex(cls, pattern: str | None) -> str | None:
        if pattern is not None and (problem := patterns.regex_problem(pattern)):
            raise ValueError(problem)
        return pattern

    @field_validator("slot_time_format")
    @classmethod
    def _format(cls, time_format: str | None) -> str | None:
        if time_format is not None and (problem := time_format_problem(time_format)):
            raise ValueError(problem)
        return time_format

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'unknown time zone "{name}" (e.g. "Europe/Paris")') from None
        return name

    @model_validator(mode="after")
    def _says_what_to_look_for(self) -> Self:
        if not self.none_text and self.slot_selector is None:
            raise ValueError(
                "give slot_selector (what one slot looks like), "
                'none_text (phrases that mean "no slot") or both'
            )
        orphans = [
            name
            for name in (
                "slot_time_selector",
                "slot_time_pattern",
                "slot_time_format",
                "guichet_selector",
            )
            if getattr(self, name) is not None
        ]
        if self.slot_selector is None and orphans:
            verb = "needs" if len(orphans) == 1 else "need"
            raise ValueError(f"{_and(orphans)} {verb} slot_selector")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# --- parsing: pure functions of a page ---------------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """What one page says: the Reading (for `creneau parse`) and the guichets (for a check)."""

    reading: Reading
    guichets: tuple[GuichetResult, ...] = ()


@dataclass(frozen=True)
class _SlotElement:
    """One element the slot_selector matched, as read: its start, or None when its time could
    not be read (`shown` then says what the page shows instead)."""

    guichet: Choice
    start: datetime | None
    shown: str  # the text that names its time (the whole element's when that is missing)
    text: str  # the whole element's visible text: its identity when its time is unread
    href: str
    path: str  # where it is in the page, for `read_from`


def parse_page(
    page: Page, target: Target | None = None, *, reference: date | None = None
) -> Reading:
    """Classify one page with the target's selectors and phrases. `reference`: the day dates
    without a year are counted from (default: the page's Date header)."""
    return analyse(page, target, reference).reading


def analyse(page: Page, target: Target | None, reference: date | None = None) -> Analysis:
    if target is None:
        detail = Detail("html.no_target")
        return Analysis(Reading("no-target", Status.UNKNOWN, detail, rule=RULE_NO_TARGET))
    return _PageRead(page, target, reference).reading()


class _PageRead(PageReading[Analysis]):
    def __init__(self, page: Page, target: Target, reference: date | None) -> None:
        self.page, self.target, self.reference = page, target, reference
        self.served, _ = status_from_error_title(page)
        self.text = visible_text(self.served.text)

    def refusal(self) -> Analysis | None:
        # A refusal or an error page: slots on it are not to be trusted.
        if self.served.status < 400 or self._banner is None:
            return None
        return Analysis(_with_failure_rule(self._banner, self.served is not self.page))

    def slots(self) -> Analysis | None:
        soup, _, matches = self._read
        if not matches.slots:
            return None
        day = self.reference or page_date(self.page, self.target.zone)
        return _slots_found(soup, matches, self.target, day, self._banner)

    def banner(self) -> Analysis | None:
        return Analysis(_with_failure_rule(self._banner, False)) if self._banner else None

    def rest(self) -> Analysis:
        soup, cut, matches = self._read
        if cut.shapes:
            # Slots may lie in the part not read: never "none", whatever the page's words.
            detail = Detail("page_too_large", elements=MAX_ELEMENTS_READ)
            return Analysis(Reading("too-large", Status.UNKNOWN, detail, rule="MAX_ELEMENTS_READ"))
        return _without_slots(soup, self.text, self.target, matches.empty_rows)

    @cached_property
    def _banner(self) -> Reading | None:
        return read_failure(self.served, self.text)

    @cached_property
    def _read(self) -> tuple[BeautifulSoup, Cut, _Matches]:
        soup, cut = bounded_soup(self.served.text)
        return soup, cut, _slot_elements(soup, self.target, cut)


def _without_slots(
    soup: BeautifulSoup, text: str, target: Target, empty_rows: list[Tag]
) -> Analysis:
    """A page that shows no slot and no banner: "no slot" only in the target's own words."""
    if (phrase := _none_phrase_in(text, target.none_text)) is not None:
        return _no_slot(soup, phrase, target)
    if looks_like_captcha(text):
        detail = Detail("captcha_asked")
        return Analysis(Reading("captcha", Status.CAPTCHA, detail, rule=RULE_CAPTCHA))
    if empty_rows:
        return Analysis(_empty_rows_only(empty_rows))
    detail = _nothing_recognised(target)
    return Analysis(Reading("unknown", Status.UNKNOWN, detail, rule=RULE_UNRECOGNISED))


def _with_failure_rule(failure: Reading, status_from_title: bool) -> Reading:
    rule = FAILURE_RULES.get(failure.kind, RULE_HTTP_STATUS)
    if status_from_title and rule == RULE_HTTP_STATUS:
        rule = "ERROR_TITLE"
    return replace(failure, rule=rule)


def _none_phrase_in(text: str, phrases: list[str]) -> str | None:
    return next((phrase for phrase in phrases if fold(phrase) in text), None)


@dataclass(frozen=True)
class _Matches:
    """The slot_selector's matches, less those that say there is no slot: sites often put
    "Aucun rendez-vous" in a row where the slots would be. `empty_rows`: the ones
    NO_SLOT_WORDS set aside (a target's own none_text phrases decide on their own)."""

    slots: list[Tag] = field(default_factory=list)  # the first MAX_SLOTS_PER_PAGE
    empty_rows: list[Tag] = field(default_factory=list)
    not_kept: int = 0  # matches past them, and elements of their shape in the part not read


def _slot_elements(soup: BeautifulSoup, target: Target, cut: Cut) -> _Matches:
    if target.slot_selector is None:
        return _Matches()
    phrases = [fold(phrase) for phrase in target.none_text]
    slots: list[Tag] = []
    empty_rows: list[Tag] = []
    matches = soup.select(target.slot_selector)
    for index, element in enumerate(matches):
        if len(slots) == MAX_SLOTS_PER_PAGE:
            return _Matches(slots, empty_rows, len(matches) - index + cut.like(slots))
        text = fold(element.get_text(" "))
        if any(phrase in text for phrase in phrases):
            continue
        (empty_rows if NO_SLOT_WORDS.search(text) else slots).append(element)
    return _Matches(slots, empty_rows, cut.like(slots))


def _empty_rows_only(empty_rows: list[Tag]) -> Reading:
    detail = Detail("html.no_slot_words", said=_short(_text_of(empty_rows[0])))
    return Reading("no-slot-words", Status.UNKNOWN, detail, rule="NO_SLOT_WORDS")


def _nothing_recognised(target: Target) -> Detail:
    phrases = tuple(target.none_text)
    if target.slot_selector is None:
        return Detail("html.not_recognised", phrases=phrases)
    return Detail("html.not_recognised", selector=target.slot_selector, phrases=phrases)


def _no_slot(soup: BeautifulSoup, phrase: str, target: Target) -> Analysis:
    detail = Detail("page_says", phrase=phrase)
    guichets = _guichets_on_page(_guichet_names(soup, target, [])) or [_page_guichet(target)]
    results = tuple(GuichetResult(g.id, g.label, Status.NONE, detail=detail) for g in guichets)
    reading = Reading("no-slot", Status.NONE, detail, choices=tuple(guichets), rule=RULE_NO_SLOT)
    return Analysis(reading, results)


def _slots_found(
    soup: BeautifulSoup,
    matches: _Matches,
    target: Target,
    reference: date | None,
    banner: Reading | None,
) -> Analysis:
    elements, not_kept = matches.slots, matches.not_kept
    names = _guichet_names(soup, target, elements)
    locate = _guichet_locator(soup, names, target)
    paths = _ElementPaths()
    read = [
        _read_slot_element(element, locate(element), paths(element), target, reference)
        for element in elements
    ]
    placed = sorted(_as_slots(read, target.zone))
    guichets = _unique([*_guichets_on_page(names), *(r.guichet for r in read)])
    results = tuple(
        _guichet_result(
            guichet,
            [slot for slot, _ in placed if slot.guichet_id == guichet.id],
            [r for r in read if r.guichet.id == guichet.id and r.start is None],
            cut_short=not_kept > 0,
        )
        for guichet in guichets
    )
    notes = _notes(results)
    if banner is not None and banner.detail is not None:
        # Slots seen win: a banner ("opération de maintenance", "trop de demandes") decides
        # only on a page without any slot.
        notes.append(Detail("html.banner_too", banner=banner.detail))
    found = Detail("html.slots", slots=len(placed), guichets=len(results))
    detail = with_not_kept(joined((found, *notes)), not_kept)
    reading = Reading(
        "slots",
        overall_status([result.status for result in results]),
        detail,
        choices=tuple(Choice(r.id, r.label) for r in results),
        slots=tuple(slot for slot, _ in placed),
        rule=RULE_SLOTS,
        read_from=tuple(origin for _, origin in placed),
        slots_not_kept=not_kept,
    )
    return Analysis(reading, results)


def _as_slots(read: list[_SlotElement], zone: ZoneInfo) -> list[tuple[Slot, str]]:
    """Each element as a Slot, with where it was read from."""
    stand_ins = _StandIns(zone)
    placed = []
    for element in read:
        if element.start is None:
            placed.append((stand_ins.slot(element), f"{element.path} (time not read)"))
            continue
        guichet = element.guichet
        key = element.href or f"{guichet.id}@{element.start.isoformat()}"
        slot = Slot(start=element.start, guichet_id=guichet.id, guichet=guichet.label, key=key)
        placed.append((slot, element.path))
    return [(slot, _read_from(origin)) for slot, origin in placed]


class _StandIns:
    """Slots for the elements of one page whose time is unread, in page order: each start is
    the stand-in of (guichet, element text, rank among elements of that text), moved on by a
    second in the rare case another element of the page already has it."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.rank: Counter[tuple[str, str]] = Counter()
        self.shown_rank: Counter[tuple[str, str]] = Counter()
        self.taken: set[tuple[str, datetime]] = set()

    def slot(self, element: _SlotElement) -> Slot:
        guichet = element.guichet
        self.rank[guichet.id, element.text] += 1
        start = unreadable_time_stand_in(
            f"{guichet.id}\n{element.text}\n{self.rank[guichet.id, element.text]}"
        )
        while (guichet.id, start) in self.taken:
            start += timedelta(seconds=1)
        self.taken.add((guichet.id, start))
        self.shown_rank[guichet.id, element.shown] += 1
        count = self.shown_rank[guichet.id, element.shown]
        shown = _short(element.shown)
        return Slot(
            start=start.astimezone(self.zone),
            guichet_id=guichet.id,
            guichet=f"{guichet.label} — {shown}",
            key=f"{UNREADABLE_KEY_PREFIX}{shown}" + (f" #{count}" if count > 1 else ""),
        )


def _guichet_result(
    guichet: Choice, slots: list[Slot], unreadable: list[_SlotElement], *, cut_short: bool
) -> GuichetResult:
    """A guichet's slots. When the page's slots were cut short, its list says nothing of
    what went, and a guichet without any read may have some among those not read."""
    read_until = CUT_SHORT if cut_short else None
    if not slots and cut_short:
        unread = Detail("none_among_read", cap=MAX_SLOTS_PER_PAGE)
        return GuichetResult(guichet.id, guichet.label, Status.UNKNOWN, detail=unread)
    if not slots:
        none_listed = Detail("html.no_slot_for_guichet")
        return GuichetResult(guichet.id, guichet.label, Status.NONE, detail=none_listed)
    detail = _unreadable_detail([r.shown for r in unreadable]) if unreadable else None
    return GuichetResult(
        guichet.id, guichet.label, Status.AVAILABLE, tuple(sorted(slots)), detail, read_until
    )


def _unreadable_detail(shown: list[str]) -> Detail:
    return Detail("html.times_not_read", count=len(shown), first=_short(shown[0]))


def _notes(results: tuple[GuichetResult, ...]) -> list[Detail]:
    """What the guichets with slots say besides (times not read), each named by its
    guichet when there are several."""
    return [
        Detail("labelled", label=r.label, detail=r.detail) if len(results) > 1 else r.detail
        for r in results
        if r.detail is not None and r.status is not Status.NONE
    ]


def _read_slot_element(
    element: Tag, guichet: Choice, path: str, target: Target, reference: date | None
) -> _SlotElement:
    text = _text_of(element)
    if target.slot_time_selector is None:
        holder: Tag | None = element
    else:
        holder = element.select_one(target.slot_time_selector)
    if holder is None:
        return _SlotElement(guichet, None, text, text, _href(element), path)
    shown = _text_of(holder) or text
    for candidate in [shown, *_time_attributes(holder)]:
        start = _read_time(candidate, target, reference)
        if start is not None:
            return _SlotElement(guichet, start, shown, text, _href(element), path)
    return _SlotElement(guichet, None, shown, text, _href(element), path)


def _read_time(text: str, target: Target, reference: date | None) -> datetime | None:
    """The target's format first, when it has one; the common forms otherwise or after."""
    when = _time_text(text, target.slot_time_pattern)
    if when is None:
        return None
    if target.slot_time_format is not None:
        with suppress(ValueError):
            return parse_french_datetime(when, target.slot_time_format, target.zone)
    return read_common_datetime(when, target.zone, reference)


def _time_attributes(holder: Tag) -> list[str]:
    tags = [holder, *holder.find_all(True, limit=ATTRIBUTE_TAGS_LIMIT)]
    return [
        str(value)
        for tag in tags
        for name in TIME_ATTRIBUTES
        if isinstance(value := tag.get(name), str) and value.strip()
    ]


def _time_text(text: str, pattern: str | None) -> str | None:
    """What to read as a date: the pattern's groups joined by a space (its whole match if it
    has none); the whole text without a pattern. None: the pattern is not in the text."""
    if pattern is None:
        return text
    found = patterns.search(pattern, text)
    if found is None:
        return None
    groups = [group for group in found.groups() if group]
    return " ".join(groups) if found.re.groups else found.group(0)


def _href(element: Tag) -> str:
    link = element if element.name == "a" and element.has_attr("href") else None
    link = link or element.select_one("a[href]")
    return str(link["href"]).strip() if link else ""


class _ElementPaths:
    """Short CSS-like paths to elements: up to PATH_DEPTH steps, from the nearest ancestor
    with an id (e.g. 'ul#plages > li.plage.libre:nth-of-type(2)'). Sibling ranks are counted
    once per parent: a page of thousands of slots stays linear."""

    def __init__(self) -> None:
        self._ranks: dict[int, dict[int, tuple[int, int]]] = {}  # parent → child → (n, of)

    def __call__(self, element: Tag) -> str:
        steps: list[str] = []
        node: Tag | None = element
        while node is not None and node.name not in ("[document]", "html", "body"):
            steps.append(self._step(node))
            if node.get("id") or len(steps) == PATH_DEPTH:
                break
            node = node.parent
        return " > ".join(reversed(steps))

    def _step(self, node: Tag) -> str:
        if isinstance(ident := node.get("id"), str) and ident:
            return f"{node.name}#{ident}"
        classes = node.get("class")
        names = classes.split() if isinstance(classes, str) else list(classes or [])
        step = node.name + "".join(f".{name}" for name in names[:3])
        position, of = self._rank(node)
        return f"{step}:nth-of-type({position})" if of > 1 else step

    def _rank(self, node: Tag) -> tuple[int, int]:
        parent = node.parent
        if parent is None:
            return 1, 1
        if id(parent) not in self._ranks:
            children = parent.find_all(True, recursive=False)
            totals = Counter(child.name for child in children)
            seen: Counter[str] = Counter()
            ranks = {}
            for child in children:
                seen[child.name] += 1
                ranks[id(child)] = (seen[child.name], totals[child.name])
            self._ranks[id(parent)] = ranks
        return self._ranks[id(parent)].get(id(node), (1, 1))


def _read_from(description: str) -> str:
    """At most READ_FROM_LIMIT characters, the end kept (the element itself is at the end)."""
    if len(description) <= READ_FROM_LIMIT:
        return description
    return "…" + description[-(READ_FROM_LIMIT - 1) :]


# --- guichets ----------------------------------------------------------------------------------


_Locator = Callable[["Tag"], Choice]


def _page_guichet(target: Target) -> Choice:
    return Choice(PAGE_GUICHET_ID, target.name)


def _guichet_of(element: Tag) -> Choice | None:
    label = _text_of(element)
    slug = re.sub(r"[^a-z0-9]+", "-", fold(label)).strip("-")
    return Choice(slug, label) if slug else None


def _guichet_names(soup: BeautifulSoup, target: Target, slots: list[Tag]) -> list[Tag]:
    """The guichet_selector's matches that name a guichet: not the containers of another
    match or of a slot (a container's text would include the slots themselves)."""
    if target.guichet_selector is None:
        return []
    matches = soup.select(target.guichet_selector)
    containers = {id(parent) for tag in [*matches, *slots] for parent in tag.parents}
    return [tag for tag in matches if id(tag) not in containers]


def _guichets_on_page(names: list[Tag]) -> list[Choice]:
    return _unique([guichet for guichet in map(_guichet_of, names) if guichet is not None])


def _guichet_locator(soup: BeautifulSoup, names: list[Tag], target: Target) -> _Locator:
    if target.guichet_selector is None:
        page = _page_guichet(target)
        return lambda element: page
    return _NearestGuichet(soup, names, target.guichet_selector, _page_guichet(target))


class _NearestGuichet:
    """The guichet of a slot element: the first guichet_selector match inside it, else the
    nearest guichet name before it in the page (a heading above a list of slots, or the cell
    of an earlier row that spans this one); the page's guichet when there is none."""

    def __init__(
        self, soup: BeautifulSoup, names: list[Tag], selector: str, fallback: Choice
    ) -> None:
        self.selector = selector
        self.fallback = fallback
        self.position = {id(tag): index for index, tag in enumerate(soup.find_all(True))}
        self.names = sorted(names, key=lambda tag: self.position[id(tag)])
        self.name_positions = [self.position[id(tag)] for tag in self.names]

    def __call__(self, element: Tag) -> Choice:
        name = element.select_one(self.selector)
        if name is None:
            before = bisect_left(self.name_positions, self.position[id(element)])
            name = self.names[before - 1] if before else None
        guichet = _guichet_of(name) if name is not None else None
        return guichet or self.fallback


def _unique(guichets: list[Choice]) -> list[Choice]:
    """One per id, in the page's order."""
    first: dict[str, Choice] = {}
    for guichet in guichets:
        first.setdefault(guichet.id, guichet)
    return list(first.values())


def _text_of(element: Tag) -> str:
    return " ".join(element.get_text(" ").split())


def _short(text: str) -> str:
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…"


# --- the flow: one GET per check ---------------------------------------------------------------


async def check(target: Target, session: Session) -> FlowOutcome:
    page = await session.get(target.url)
    analysis = await parsed(analyse, page, target)
    reading = analysis.reading
    status = reading.status or Status.UNKNOWN
    return FlowOutcome(
        analysis.guichets, status, reading.detail, page, slots_not_kept=reading.slots_not_kept
    )
