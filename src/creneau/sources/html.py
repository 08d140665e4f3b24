"""Any other booking page, described by the target: CSS selectors for the slots, phrases that
mean "no slot", and how to read a slot's date and time (French day and month names included).

This module owns the `html` target settings and their config-time checks, the French date
normalisation, and the reading of one page into guichets and slots. The flow is one GET of the
target's URL per check. A page that shows neither a slot nor a "no slot" phrase is `unknown`,
never `none`: silence about slots must not read as "no slot".
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from creneau.page import Page
from creneau.results import GuichetResult, Slot, Status, overall_status
from creneau.sources import Choice, FlowOutcome, Reading
from creneau.sources.common import fold, looks_like_captcha, read_failure, visible_text
from creneau.targets import TargetBase

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

    from creneau.http import Session

PAGE_GUICHET_ID = "page"
ERROR_TITLE = re.compile(r"<title>\s*(403|429|50[0-9])\b", re.IGNORECASE)
QUOTE_LIMIT = 80

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
    slot_time_format: str = Field(
        default="%d/%m/%Y %H:%M", description="strptime-like; French day and month names allowed"
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
        if selector is None:
            return None
        import soupsieve  # only for configs that use this system

        try:
            soupsieve.compile(selector)
        except (soupsieve.SelectorSyntaxError, NotImplementedError) as failure:
            reason = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
            raise ValueError(f'not a valid CSS selector "{selector}": {reason}') from None
        return selector

    @field_validator("slot_time_pattern")
    @classmethod
    def _regex(cls, pattern: str | None) -> str | None:
        if pattern is None:
            return None
        try:
            re.compile(pattern)
        except re.error as failure:
            raise ValueError(f'not a valid regular expression "{pattern}": {failure}') from None
        return pattern

    @field_validator("slot_time_format")
    @classmethod
    def _format(cls, time_format: str) -> str:
        if problem := time_format_problem(time_format):
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
            for name in ("slot_time_selector", "slot_time_pattern", "guichet_selector")
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
    """One element the slot_selector matched: its slot, or the text whose time was unreadable."""

    guichet: Choice
    slot: Slot | None
    unreadable: str = ""


def parse_page(page: Page, target: Target | None = None) -> Reading:
    """Classify one page with the target's selectors and phrases."""
    return analyse(page, target).reading


def analyse(page: Page, target: Target | None) -> Analysis:
    if target is None:
        detail = "the html system needs a target's selectors and phrases to read a page"
        return Analysis(Reading("no-target", Status.UNKNOWN, detail))
    page = _with_status_from_error_title(page)
    text = visible_text(page.text)
    if failure := read_failure(page, text):
        return Analysis(failure)
    soup = _soup(page.text)
    phrase = _none_phrase_in(text, target.none_text)
    elements = _slot_elements(soup, target)
    if elements:
        return _slots_found(soup, elements, target)
    if phrase is not None:
        return _no_slot(soup, phrase, target)
    if looks_like_captcha(text):
        return Analysis(Reading("captcha", Status.CAPTCHA, "the site asks for a CAPTCHA"))
    return Analysis(Reading("unknown", Status.UNKNOWN, _nothing_recognised(target)))


def _with_status_from_error_title(page: Page) -> Page:
    """A saved error page comes back as 200 from a file: its <title> tells the real status."""
    found = ERROR_TITLE.search(page.text[:1024]) if page.status == 200 else None
    return Page(page.url, int(found.group(1)), page.body, page.headers) if found else page


def _none_phrase_in(text: str, phrases: list[str]) -> str | None:
    return next((phrase for phrase in phrases if fold(phrase) in text), None)


def _slot_elements(soup: BeautifulSoup, target: Target) -> list[Tag]:
    """The slot_selector's matches, less those that carry a "no slot" phrase: sites often put
    "Aucun rendez-vous" in a row where the slots would be."""
    if target.slot_selector is None:
        return []
    phrases = [fold(phrase) for phrase in target.none_text]
    return [
        element
        for element in soup.select(target.slot_selector)
        if not any(phrase in fold(element.get_text(" ")) for phrase in phrases)
    ]


def _nothing_recognised(target: Target) -> str:
    looked_for = []
    if target.slot_selector is not None:
        looked_for.append(f'no element matches slot_selector "{target.slot_selector}"')
    if target.none_text:
        phrases = ", ".join(f'"{phrase}"' for phrase in target.none_text)
        looked_for.append(f"none of the none_text phrases is on the page ({phrases})")
    return " and ".join(looked_for) + ": the layout may have changed"


def _no_slot(soup: BeautifulSoup, phrase: str, target: Target) -> Analysis:
    detail = f'the page says "{phrase}"'
    guichets = _guichets_on_page(_guichet_names(soup, target, [])) or [_page_guichet(target)]
    results = tuple(GuichetResult(g.id, g.label, Status.NONE, detail=detail) for g in guichets)
    return Analysis(Reading("no-slot", Status.NONE, detail, choices=tuple(guichets)), results)


def _slots_found(soup: BeautifulSoup, elements: list[Tag], target: Target) -> Analysis:
    names = _guichet_names(soup, target, elements)
    locate = _guichet_locator(soup, names, target)
    read = [_read_slot_element(element, locate(element), target) for element in elements]
    guichets = _unique([*_guichets_on_page(names), *(r.guichet for r in read)])
    results = tuple(
        _guichet_result(guichet, [r for r in read if r.guichet.id == guichet.id])
        for guichet in guichets
    )
    slots = tuple(sorted(slot for result in results for slot in result.slots))
    status = overall_status([result.status for result in results])
    reading = Reading(
        "slots" if slots else "unreadable-slots",
        status,
        _summary(results, len(slots)),
        choices=tuple(Choice(r.id, r.label) for r in results),
        slots=slots,
    )
    return Analysis(reading, results)


def _guichet_result(guichet: Choice, read: list[_SlotElement]) -> GuichetResult:
    slots = tuple(sorted(r.slot for r in read if r.slot is not None))
    unreadable = [r.unreadable for r in read if r.slot is None]
    if not read:
        return GuichetResult(
            guichet.id, guichet.label, Status.NONE, detail="no slot listed for this guichet"
        )
    if not slots:
        return GuichetResult(
            guichet.id, guichet.label, Status.UNKNOWN, detail=_unreadable_detail(unreadable)
        )
    detail = ""
    if unreadable:
        count = f"{len(unreadable)} slot{'s' if len(unreadable) > 1 else ''}"
        detail = f"{count} unread: {_unreadable_detail(unreadable)}"
    return GuichetResult(guichet.id, guichet.label, Status.AVAILABLE, slots, detail)


def _unreadable_detail(unreadable: list[str]) -> str:
    more = f" (and {len(unreadable) - 1} more)" if len(unreadable) > 1 else ""
    return f"cannot read the time of {_quote(unreadable[0])}{more}"


def _summary(results: tuple[GuichetResult, ...], slot_count: int) -> str:
    at = f" at {len(results)} guichets" if len(results) > 1 else ""
    found = f"{slot_count} slot{'s' if slot_count != 1 else ''}{at}"
    notes = [
        f"{r.label}: {r.detail}" if len(results) > 1 else r.detail
        for r in results
        if r.detail and r.status is not Status.NONE
    ]
    return "; ".join([found, *notes])


def _read_slot_element(element: Tag, guichet: Choice, target: Target) -> _SlotElement:
    if target.slot_time_selector is None:
        holder: Tag | None = element
    else:
        holder = element.select_one(target.slot_time_selector)
    if holder is None:
        return _SlotElement(guichet, None, _text_of(element))
    text = _text_of(holder)
    when = _time_text(text, target.slot_time_pattern)
    if when is None:
        return _SlotElement(guichet, None, text)
    try:
        start = parse_french_datetime(when, target.slot_time_format, target.zone)
    except ValueError:
        return _SlotElement(guichet, None, text)
    key = _href(element) or f"{guichet.id}@{start.isoformat()}"
    return _SlotElement(
        guichet, Slot(start=start, guichet_id=guichet.id, guichet=guichet.label, key=key)
    )


def _time_text(text: str, pattern: str | None) -> str | None:
    """What to read as a date: the pattern's groups joined by a space (its whole match if it
    has none); the whole text without a pattern. None: the pattern is not in the text."""
    if pattern is None:
        return text
    found = re.search(pattern, text)
    if found is None:
        return None
    groups = [group for group in found.groups() if group]
    return " ".join(groups) if found.re.groups else found.group(0)


def _href(element: Tag) -> str:
    link = element if element.name == "a" and element.has_attr("href") else None
    link = link or element.select_one("a[href]")
    return str(link["href"]).strip() if link else ""


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


def _quote(text: str) -> str:
    short = text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…"
    return f'"{short}"'


# --- the flow: one GET per check ---------------------------------------------------------------


async def check(target: Target, session: Session) -> FlowOutcome:
    page = await session.get(target.url)
    analysis = analyse(page, target)
    reading = analysis.reading
    status = reading.status or Status.UNKNOWN
    return FlowOutcome(analysis.guichets, status, reading.detail, page)


def _soup(markup: str) -> BeautifulSoup:
    """BeautifulSoup is imported when a page is parsed: a daemon without a target of this
    system never loads it."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(markup, "lxml")
