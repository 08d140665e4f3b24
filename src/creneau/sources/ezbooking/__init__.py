"""The legacy eZ Publish booking module of some préfectures: /booking/create/<id>[/<step>].

Steps: 0 terms → 1 desk choice → 2 "no slot" | 3 information → 4 calendar, whose weeks come
from /ezjscore/call/bookingserver::planning::assign::<booking>::<planning>::<day offset>.
The module opens the calendar only when the desk has a free slot: reaching it means
"available", and the weeks are read on until the first free slot is named. Step 5 picks a
slot and step 6 is a CAPTCHA: creneau never goes past step 4. Evidence for every name below:
fixtures/ezbooking/SOURCES.md.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import lxml.html
from lxml import etree
from pydantic import Field, field_validator

from creneau.dates import FRENCH_MONTHS
from creneau.details import Detail, joined
from creneau.fetch.errors import FetchError
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import GuichetResult, Slot, Status, overall_status
from creneau.sources.common import (
    SITE_ZONE,
    NotJson,
    failure_named,
    fold,
    load_json,
    looks_like_captcha,
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
    from creneau.sources.session import Session

HOST_BUDGETS: dict[str, HostBudget] = {}  # the default budget: no published limit known
KEEPS_SESSION = False  # each check starts a new site session


# --- everything this module knows of the site, in one place ----------------------------------
# (XPath: lxml is C-fast, and a check parses four pages or more.)

FORM = '//form[@id="FormBookingCreate"]'
CONDITION_BOX = './/input[@id="condition" and @name="condition"]'
NEXT_BUTTON = './/input[@name="nextButton"]'
FINISH_BUTTON = './/input[@name="finishButton"]/@value'  # 2ooom: "Terminer" = no dates
FINISH_LABEL = "terminer"  # folded
DESK_FIELDSET = './/fieldset[@id="fchoix_Booking"]'
DESK_RADIO = './/input[@name="planning"]'
DESK_LABEL = ".//label[@for=$radio]"
# A desk whose label has no `for`: HTML also labels a radio by the <label> around it, and the
# desks' <p class="Bligne"> hold a radio and its label side by side (fixtures' SOURCES.md).
DESK_LABEL_AROUND = "ancestor::label[1]"
DESK_LABEL_BESIDE = (
    "following-sibling::*[1][self::label][not(@for)]",
    "preceding-sibling::*[1][self::label][not(@for)]",
)
STEP_IMAGE = re.compile(r"/etape_(\d)r\.png")  # the active step's image (2ooom)
FIRST_FREE_BUTTON = "premiere plage horaire libre"  # folded value of step 4's nextButton
NEXT_STEP_LABEL = "Etape suivante"
NO_SLOT = re.compile(r"il n'existe plus de plage horaire libre")  # folded
FORM_STEP = re.compile(r"/booking/create/\d+/(\d)")
BOOKING_URL = re.compile(r"^(?P<base>.*/booking/create/(?P<id>\d+))(?:/\d+)?/?$")

# The week grid: a slot is a link to step 5 ending in the slot's epoch (2ooom's watcher.py);
# the cell's class is only described, never required (no site's grid markup is public).
SLOT_LINK = './/a[contains(@href, "booking/create/")]'
SLOT_HREF = re.compile(r"booking/create/(\d+)/5/(\d{9,11})(?![\d])")
WEEK_HEADER = './/th[@colspan="7"]'
GRID_CALL_PATH = "/ezjscore/call/"  # where the week grids are asked for
GRID_TABLE = ".//table"  # a grid answer whose week header is gone still has its table
GRID_ENVELOPE = ("error_text", "content")  # ezjscore's answer when the request asks for JSON
# ezjscore's textEncode (since 2012) escapes the HTML when JSON was not asked for.
ESCAPED_GRID = re.compile(r"&lt;(?:table|tr|th|td|a)\b", re.IGNORECASE)
RAW_GRID = re.compile(r"<(?:table|tr|th|td|a)\b", re.IGNORECASE)

# The week header names its days ("Semaine du lundi 30 novembre 2026 au dimanche 06 décembre
# 2026", folded): the last one is how far the grid reaches.
FOLDED_MONTHS = tuple(fold(month) for month in FRENCH_MONTHS)
WEEK_HEADER_DAY = re.compile(rf"(\d{{1,2}})(?:er)? ({'|'.join(FOLDED_MONTHS)}) (\d{{4}})")

# unconfirmed: no public copy of a calendar page shows how it names its planning id; these
# are the two forms the bots' sniffing suggests (the AJAX call in a script, a form field).
PLANNING_CALL = re.compile(r"planning::assign::(\d+)::(\d+)(?:::(-?\d+))?")
PLANNING_FIELD = './/input[@name="planning"]/@value'

# The site's own JavaScript (ezjscore's io-ez) sends these; ezjscore then answers the JSON
# envelope. Without them it answers HTML, which `parse_page` reads as well.
GRID_REQUEST_HEADERS = {
    "Accept": "application/json,text/javascript,*/*",
    "X-Requested-With": "XMLHttpRequest",
}
# How far a desk whose calendar opened is read to name its first free slot: 13 weeks, about
# three months, as far as the bots read (0…91 days). Each week is one request, in the budget.
MAX_WEEKS_SEARCHED = 13
# unconfirmed: the grid's day offset counts from today on one site (Puy-de-Dôme) and from a
# fixed day on another (2ooom's Hauts-de-Seine); a literal offset in the page's call wins.
FIRST_DAY_OFFSET = 0

HOST_STOPS = (Status.BLOCKED, Status.OVERLOADED, Status.CAPTCHA, Status.CLOSED)


class Target(TargetBase):
    system: Literal["ezbooking"] = "ezbooking"
    desks: list[str] = Field(default_factory=list, description="planning ids; empty = all")
    weeks: int = Field(
        default=2, ge=1, le=6, description="calendar weeks listed from the first free slot"
    )

    @field_validator("url")
    @classmethod
    def _booking_url(cls, url: str) -> str:
        if not BOOKING_URL.match(urlsplit(url)._replace(query="", fragment="").geturl()):
            raise ValueError(f'must look like https://<host>/booking/create/<id> (got "{url}")')
        return url


# --- parsing: pure functions of a page ---------------------------------------------------


def parse_page(page: Page, target: Target | None = None) -> Reading:
    """Classify one ezbooking page: an HTML step, or a week grid (JSON envelope or HTML)."""
    return _PageRead(page).reading()


class _PageRead(PageReading[Reading]):
    def __init__(self, page: Page) -> None:
        self.page, self.from_title = status_from_error_title(page)

    def refusal(self) -> Reading | None:
        if self.page.status < 400:
            return None
        return _named_failure(read_failure(self.page), self.from_title)

    def slots(self) -> Reading | None:
        if self.page.is_json:
            return self._grid if self._grid.slots else None
        tree, found = self._html
        if not found.slots:
            return None
        forms = tree.xpath(FORM)
        return _calendar(forms[0], self.page.text, found) if forms else _week(tree, found)

    def banner(self) -> Reading | None:
        failure = read_failure(self.page, self._text)
        return _named_failure(failure, self.from_title) if failure else None

    def rest(self) -> Reading:
        if self.page.is_json:
            return self._grid
        (tree, _), text, page = self._html, self._text, self.page
        if forms := tree.xpath(FORM):
            return _parse_step(forms[0], text, page.text)
        if tree.xpath(WEEK_HEADER) or (GRID_CALL_PATH in page.url and tree.xpath(GRID_TABLE)):
            return _week(tree, _Links())
        if looks_like_captcha(text):
            return Reading("captcha", Status.CAPTCHA, Detail("captcha_asked"), rule="CAPTCHA")
        return Reading("unknown", Status.UNKNOWN, Detail("ezbooking.no_form"), rule="FORM")

    @cached_property
    def _grid(self) -> Reading:
        return _envelope_grid(self.page.text)

    @cached_property
    def _html(self) -> tuple[lxml.html.HtmlElement, _Links]:
        tree, where = _html_tree(self.page.text)
        return tree, _slot_links(tree, where)

    @cached_property
    def _text(self) -> str:
        return visible_text(self.page.text)


def _named_failure(failure: Reading | None, from_title: bool) -> Reading:
    if failure is None:  # read_failure answers every status >= 400; keep the parser total
        detail = Detail("ezbooking.unknown_error_page")
        return Reading("unknown", Status.UNKNOWN, detail, rule="HTTP_STATUS")
    return failure_named(failure, from_title)


def _tree(markup: str) -> lxml.html.HtmlElement:
    """The page as an lxml tree; an empty or unparsable page is an empty tree."""
    try:
        return lxml.html.document_fromstring(_XML_DECLARATION.sub("", markup, count=1))
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html></html>")


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")  # lxml refuses one in a str


# --- the week grid ---------------------------------------------------------------------------


def _html_tree(markup: str) -> tuple[lxml.html.HtmlElement, str]:
    """The page as a tree, and how its slots are described: ezjscore's HTML answer may come
    escaped (textEncode), which is unescaped once here."""
    if ESCAPED_GRID.search(markup) and not RAW_GRID.search(markup):
        return _tree(f"<html><body>{html.unescape(markup)}</body></html>"), "(escaped) "
    return _tree(markup), ""


def _envelope_grid(text: str) -> Reading:
    """ezjscore's JSON answer: {"error_text": …, "content": <the week's HTML>}."""
    try:
        data = load_json(text)
    except NotJson:
        detail = Detail("ezbooking.grid_not_json")
        return Reading("unknown", Status.UNKNOWN, detail, rule="NOT_JSON")
    if not isinstance(data, dict) or not any(key in data for key in GRID_ENVELOPE):
        detail = Detail("ezbooking.grid_no_envelope")
        return Reading("unknown", Status.UNKNOWN, detail, rule="GRID_ENVELOPE")
    if data.get("error_text"):
        detail = Detail("ezbooking.grid_error", message=str(data["error_text"])[:200])
        return Reading("unknown", Status.UNKNOWN, detail, rule="GRID_ENVELOPE")
    content = data.get("content")
    tree = _tree(f"<html><body>{content if isinstance(content, str) else ''}</body></html>")
    found = _slot_links(tree, "$.content ")
    if found.slots or tree.xpath(WEEK_HEADER) or tree.xpath(GRID_TABLE):
        return _week(tree, found)
    detail = Detail("ezbooking.grid_empty")
    return Reading("unknown", Status.UNKNOWN, detail, rule="WEEK_HEADER")


def _week(tree: lxml.html.HtmlElement, found: _Links) -> Reading:
    headers = tree.xpath(WEEK_HEADER)
    week = " ".join(headers[0].text_content().split()) if headers else ""
    if not found.slots:
        # One week without a free slot says nothing of the desk: the flow reads on.
        detail = Detail("ezbooking.week_no_slot", week=week)
        return Reading("week-grid", None, detail, rule="WEEK_HEADER" if week else "GRID_TABLE")
    slots, read_from = zip(*found.slots, strict=True)
    if week:
        detail = Detail("ezbooking.week", week=week)
    else:
        detail = Detail("ezbooking.slots_no_header", count=len(slots))
    detail = with_not_kept(detail, found.not_kept)
    return Reading(
        "week-grid",
        Status.AVAILABLE,
        detail,
        slots=slots,
        read_from=read_from,
        rule="SLOT_LINK",
        slots_not_kept=found.not_kept,
    )


@dataclass(frozen=True)
class _Links:
    """The slot links of a page: each slot once, in time order, with the element it was
    read from; the first MAX_SLOTS_PER_PAGE of the page, and how many others it has."""

    slots: list[tuple[Slot, str]] = field(default_factory=list)
    not_kept: int = 0


def _slot_links(tree: lxml.html.HtmlElement, where: str) -> _Links:
    found: dict[str, tuple[Slot, str]] = {}
    others: set[str] = set()
    for link in tree.xpath(SLOT_LINK):
        href = link.get("href", "")
        match = SLOT_HREF.search(href)
        if match is None or match.group(2) in found:
            continue
        epoch = match.group(2)
        if len(found) == MAX_SLOTS_PER_PAGE:
            others.add(epoch)
            continue
        start = datetime.fromtimestamp(int(epoch), SITE_ZONE)
        slot = Slot(start=start, guichet_id="", guichet="", key=epoch)
        found[epoch] = (slot, _described(link, href, where))
    return _Links(sorted(found.values()), len(others))


def _described(link: lxml.html.HtmlElement, href: str, where: str) -> str:
    """`td.status-1.free > a[href="…"]`: the link, and its cell's classes when it has any."""
    cell = link.getparent()
    classes = ".".join(cell.get("class", "").split()) if cell is not None else ""
    parent = f"{cell.tag}.{classes} > " if cell is not None and classes else ""
    return f'{where}{parent}a[href="{href}"]'[:120]


# --- the steps -------------------------------------------------------------------------------


def _parse_step(form: lxml.html.HtmlElement, text: str, markup: str) -> Reading:
    step = _step(form, markup)
    if form.xpath(CONDITION_BOX):
        return _conditions(form)
    if form.xpath(DESK_FIELDSET):
        desks = tuple(_desk_choices(form))
        if desks:
            detail = Detail("ezbooking.desks_offered", count=len(desks))
            return Reading("desk-choice", None, detail, choices=desks, rule="DESK_FIELDSET")
        detail = Detail("ezbooking.no_desk")
        return Reading("unknown", Status.UNKNOWN, detail, rule="DESK_FIELDSET")
    if NO_SLOT.search(text):
        detail = Detail("ezbooking.no_free_slot")
        return Reading("no-slot", Status.NONE, detail, rule="NO_SLOT")
    if step == "2" and FINISH_LABEL in {fold(value) for value in form.xpath(FINISH_BUTTON)}:
        detail = Detail("ezbooking.finish_only")
        return Reading("no-slot", Status.NONE, detail, rule="FINISH_BUTTON")
    if step == "4" or FIRST_FREE_BUTTON in _button_values(form):
        return _calendar(form, markup)
    if step == "6" or looks_like_captcha(text):
        return Reading("captcha", Status.CAPTCHA, Detail("captcha_asked"), rule="CAPTCHA")
    if step == "3" and form.xpath(NEXT_BUTTON):
        detail = Detail("ezbooking.information")
        return Reading("information", None, detail, rule="FORM_STEP")
    detail = Detail("ezbooking.unknown_step", step=step)
    return Reading("unknown", Status.UNKNOWN, detail, rule="FORM_STEP")


def _step(form: lxml.html.HtmlElement, markup: str) -> str:
    """The step the form posts to; the active step's image when the action says none."""
    found = FORM_STEP.search(form.get("action", ""))
    if found:
        return found.group(1)
    image = STEP_IMAGE.search(markup)
    return image.group(1) if image else ""


def _button_values(form: lxml.html.HtmlElement) -> set[str]:
    return {fold(button.get("value", "")) for button in form.xpath(NEXT_BUTTON)}


def _conditions(form: lxml.html.HtmlElement) -> Reading:
    buttons = form.xpath(NEXT_BUTTON)
    value = buttons[0].get("value", "") if buttons else ""
    return Reading(
        "conditions",
        None,
        Detail("ezbooking.terms"),
        fields=(("condition", "on"), ("nextButton", value)),
        rule="CONDITION_BOX",
    )


def _desk_choices(form: lxml.html.HtmlElement) -> list[Choice]:
    choices = []
    for radio in form.xpath(DESK_RADIO):
        desk_id = radio.get("value", "").strip()
        if desk_id:
            choices.append(Choice(desk_id, _desk_label(form, radio) or desk_id))
    return choices


def _desk_label(form: lxml.html.HtmlElement, radio: lxml.html.HtmlElement) -> str:
    """The radio's label: the one whose `for` names it, else the one around it, else the
    one right beside it."""
    radio_id = radio.get("id", "")
    labels = form.xpath(DESK_LABEL, radio=radio_id) if radio_id else []
    for query in (DESK_LABEL_AROUND, *DESK_LABEL_BESIDE):
        labels = labels or radio.xpath(query)
    return " ".join(labels[0].text_content().split()) if labels else ""


def _calendar(form: lxml.html.HtmlElement, markup: str, found: _Links | None = None) -> Reading:
    """The calendar step: the site opens it only for a desk with a free slot. Its weeks come
    later (AJAX); a page saved from a browser may hold one, whose slots are kept."""
    calls = list(PLANNING_CALL.finditer(markup))
    plannings = {call.group(2) for call in calls}
    plannings |= {value.strip() for value in form.xpath(PLANNING_FIELD) if value.strip()}
    offsets = {call.group(3) for call in calls if call.group(3)}
    facts = {"first_day_offset": offsets.pop()} if len(offsets) == 1 else {}
    found = found or _Links()
    detail = (
        Detail("ezbooking.calendar_slots", count=len(found.slots))
        if found.slots
        else Detail("ezbooking.calendar_opened")
    )
    detail = with_not_kept(detail, found.not_kept)
    return Reading(
        "calendar",
        Status.AVAILABLE,
        detail,
        choices=tuple(Choice(planning, "") for planning in sorted(plannings)),
        slots=tuple(slot for slot, _ in found.slots),
        read_from=tuple(where for _, where in found.slots),
        facts=facts,
        rule="SLOT_LINK" if found.slots else "CALENDAR_STEP",
        slots_not_kept=found.not_kept,
    )


# --- the flow: which request next --------------------------------------------------------


@dataclass(frozen=True)
class _Desk:
    """A desk to read: the guichet it is reported as, and its planning id when known."""

    base: str  # https://host/booking/create/<booking>
    booking: str
    guichet: Choice
    planning: str  # "" when only the calendar page can tell
    chosen: bool  # reached by posting a desk choice


@dataclass(frozen=True)
class _DeskRead:
    guichet: GuichetResult
    page: Page
    halted: Status | None = None  # the host refused or failed: read no further desk
    not_kept: int = 0  # slots past MAX_SLOTS_PER_PAGE, not read


async def check(target: Target, session: Session) -> FlowOutcome:
    base, booking_id = _booking(target.url)
    entry = await session.get(base)
    reading = await parsed(parse_page, entry)
    if reading.kind == "conditions":
        entry = await session.post(f"{base}/0", dict(reading.fields))
        reading = await parsed(parse_page, entry)
    if reading.kind != "desk-choice":
        # A one-desk booking skips the choice: the booking is the guichet, and only the
        # calendar page (or the one desk configured) names its planning.
        title = _page_title(entry)
        planning = target.desks[0] if len(target.desks) == 1 else ""
        desk = _Desk(
            base, booking_id, Choice(booking_id, title or f"booking {booking_id}"), planning, False
        )
        read = await _read_desk(session, desk, reading, entry, target.weeks)
        return _outcome((read.guichet,), read.page, complete=True, not_kept=read.not_kept)
    return await _read_desks(session, target, base, booking_id, reading.choices, entry)


async def _read_desks(
    session: Session,
    target: Target,
    base: str,
    booking_id: str,
    choices: tuple[Choice, ...],
    last: Page,
) -> FlowOutcome:
    offered = {choice.id: choice for choice in choices}
    guichets: list[GuichetResult] = []
    halted: Status | None = None
    not_kept = 0
    for desk_id in target.desks or list(offered):
        if desk_id not in offered:
            detail = Detail("ezbooking.desk_not_offered", desk=desk_id, offered=tuple(offered))
            guichets.append(GuichetResult(desk_id, desk_id, Status.UNKNOWN, detail=detail))
            continue
        if halted is not None:
            detail = Detail("not_checked_halted")
            guichets.append(GuichetResult(desk_id, offered[desk_id].label, halted, detail=detail))
            continue
        # The desk's radio value is the planning id its calendar asks for (2ooom's watcher).
        page = await session.post(f"{base}/1", {"planning": desk_id, "nextButton": NEXT_STEP_LABEL})
        desk = _Desk(base, booking_id, offered[desk_id], desk_id, True)
        read = await _read_desk(session, desk, await parsed(parse_page, page), page, target.weeks)
        guichets.append(read.guichet)
        last, halted = read.page, read.halted or _halt_of(read.guichet)
        not_kept += read.not_kept
    # Reading every desk the page offers, a desk that is gone has no slot either.
    return _outcome(tuple(guichets), last, complete=not target.desks, not_kept=not_kept)


def _halt_of(guichet: GuichetResult) -> Status | None:
    return guichet.status if guichet.status in HOST_STOPS else None


async def _read_desk(
    session: Session, desk: _Desk, reading: Reading, page: Page, weeks: int
) -> _DeskRead:
    if desk.chosen and reading.kind == "desk-choice":
        return _DeskRead(_back_to_desk_choice(desk), page)
    if reading.kind == "information":
        page = await session.post(f"{desk.base}/3", {"nextButton": NEXT_STEP_LABEL})
        reading = await parsed(parse_page, page)
    if reading.kind != "calendar":
        status = reading.status or Status.UNKNOWN
        detail = reading.detail if reading.status else Detail("unexpected_page", kind=reading.kind)
        return _DeskRead(_guichet(desk, status, detail=detail), page)
    planning = _planning_of(reading, desk)
    if not planning:
        detail = Detail("ezbooking.no_planning_id")
        return _DeskRead(_guichet(desk, Status.UNKNOWN, detail=detail), page)
    first_offset = int(reading.facts.get("first_day_offset", FIRST_DAY_OFFSET))
    return await _read_weeks(session, desk, planning, first_offset, weeks, page)


def _back_to_desk_choice(desk: _Desk) -> GuichetResult:
    # The Préfecture de police says "no slot" by sending you back to the desk choice.
    return _guichet(desk, Status.NONE, detail=Detail("ezbooking.back_to_desks"))


def _planning_of(reading: Reading, desk: _Desk) -> str:
    """The planning id of the week grid: what the calendar page names, else the desk chosen
    (its radio value) or configured. Never the booking id: they differ on every site."""
    named = [choice.id for choice in reading.choices]
    if len(named) == 1:
        return named[0]
    if desk.planning and (not named or desk.planning in named):
        return desk.planning
    return ""


@dataclass
class _Weeks:
    """What the weeks read so far showed."""

    slots: list[Slot]
    read: int = 0
    first_free_week: int | None = None
    trouble: Detail | None = None
    trouble_status: Status | None = None
    read_until: datetime | None = None  # the end of the last week whose grid was read
    not_kept: int = 0  # slots past MAX_SLOTS_PER_PAGE: a desk that has so many is read no more

    def more_to_read(self, listed: int) -> bool:
        if self.trouble or self.not_kept:
            return False
        if self.first_free_week is None:
            return self.read < MAX_WEEKS_SEARCHED
        return self.read < self.first_free_week + listed


async def _read_weeks(
    session: Session, desk: _Desk, planning: str, first_offset: int, listed: int, page: Page
) -> _DeskRead:
    """Week after week until the first free slot is named, then `listed` weeks from it."""
    weeks = _Weeks([])
    while weeks.more_to_read(listed):
        url = _planning_url(desk.base, desk.booking, planning, first_offset + 7 * weeks.read)
        try:
            page = await session.get(url, headers=GRID_REQUEST_HEADERS)
        except FetchError as failure:
            weeks.trouble = _week_trouble(weeks, failure.detail)
            weeks.trouble_status = failure.status
            break
        grid = await parsed(parse_page, page)
        if grid.kind != "week-grid":
            weeks.trouble = _week_trouble(
                weeks, grid.detail or Detail("unexpected_page", kind=grid.kind)
            )
            weeks.trouble_status = grid.status or Status.UNKNOWN
            break
        if grid.slots and weeks.first_free_week is None:
            weeks.first_free_week = weeks.read
        kept = grid.slots[: MAX_SLOTS_PER_PAGE - len(weeks.slots)]
        weeks.not_kept += grid.slots_not_kept + len(grid.slots) - len(kept)
        weeks.slots.extend(_at_desk(slot, desk.guichet) for slot in kept)
        weeks.read += 1
        weeks.read_until = _read_until(weeks.read_until, grid)
    return _DeskRead(_weeks_result(desk, weeks), page, _halted_by(weeks), weeks.not_kept)


def _week_trouble(weeks: _Weeks, trouble: Detail) -> Detail:
    return Detail("ezbooking.week_trouble", week=weeks.read + 1, trouble=trouble)


def _read_until(before: datetime | None, grid: Reading) -> datetime | None:
    """How far the weeks read reach: the day after the last one the grid's header names, or
    else just after its last slot (never further than what was seen)."""
    header = grid.detail.params.get("week", "") if grid.detail else ""
    found = list(WEEK_HEADER_DAY.finditer(fold(str(header))))
    if found:
        day, month, year = found[-1].groups()
        month_number = FOLDED_MONTHS.index(month) + 1
        end = datetime(int(year), month_number, int(day), tzinfo=SITE_ZONE) + timedelta(days=1)
    elif grid.slots:
        end = max(slot.start for slot in grid.slots) + timedelta(seconds=1)
    else:
        return before
    return end if before is None else max(before, end)


def _weeks_result(desk: _Desk, weeks: _Weeks) -> GuichetResult:
    if weeks.not_kept:  # its slots say nothing of which ones seen earlier went
        found = Detail("ezbooking.desk_slots", count=len(weeks.slots))
        detail = with_not_kept(found, weeks.not_kept)
        return _guichet(desk, Status.AVAILABLE, tuple(weeks.slots), detail, CUT_SHORT)
    if weeks.slots:
        return _guichet(desk, Status.AVAILABLE, tuple(weeks.slots), weeks.trouble, weeks.read_until)
    stopped, trouble = weeks.trouble_status, weeks.trouble
    if stopped is not None and stopped in (*HOST_STOPS, Status.UNKNOWN) and trouble is not None:
        # The host refused, or its grid is unreadable: say so rather than a bare "available".
        return _guichet(desk, stopped, detail=Detail("ezbooking.opened_but", trouble=trouble))
    detail = Detail("ezbooking.first_slot_beyond", weeks=weeks.read)
    if trouble is not None:
        detail = Detail("ezbooking.opened_then", weeks=weeks.read, trouble=trouble)
    return _guichet(desk, Status.AVAILABLE, detail=detail)


def _halted_by(weeks: _Weeks) -> Status | None:
    """A refusal or a failed connection stops the check: the next desk would meet it too."""
    stopped = weeks.trouble_status
    return stopped if stopped is not None and stopped in (*HOST_STOPS, Status.ERROR) else None


def _guichet(
    desk: _Desk,
    status: Status,
    slots: tuple[Slot, ...] = (),
    detail: Detail | None = None,
    read_until: datetime | None = None,
) -> GuichetResult:
    return GuichetResult(
        desk.guichet.id, desk.guichet.label, status, slots, detail=detail, read_until=read_until
    )


def _at_desk(slot: Slot, desk: Choice) -> Slot:
    return Slot(start=slot.start, guichet_id=desk.id, guichet=desk.label, key=slot.key)


def _outcome(
    guichets: tuple[GuichetResult, ...], last: Page, *, complete: bool = False, not_kept: int = 0
) -> FlowOutcome:
    status = overall_status([g.status for g in guichets])
    details = {g.detail for g in guichets}
    if len(guichets) == 1 or len(details) == 1:
        detail = guichets[0].detail
        if len(guichets) > 1 and detail is not None:
            detail = Detail("ezbooking.desks", count=len(guichets), detail=detail)
        return FlowOutcome(
            guichets, status, detail, last, complete=complete, slots_not_kept=not_kept
        )
    notes = tuple(
        Detail("labelled", label=g.label, detail=g.detail)
        for g in guichets
        if g.detail is not None and g.status is not Status.AVAILABLE
    )
    return FlowOutcome(
        guichets, status, joined(notes), last, complete=complete, slots_not_kept=not_kept
    )


def _booking(url: str) -> tuple[str, str]:
    plain = urlsplit(url)._replace(query="", fragment="").geturl()
    found = BOOKING_URL.match(plain)
    if found is None:  # the Target model rejects such URLs; keep the flow total anyway
        raise ValueError(f"not an ezbooking URL: {url}")
    return found.group("base"), found.group("id")


def _planning_url(base: str, booking_id: str, planning: str, offset: int) -> str:
    root = base[: base.index("/booking/create/")]
    return (
        f"{root}/ezjscore/call/bookingserver::planning::assign::{booking_id}::{planning}::{offset}"
    )


def _page_title(page: Page) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page.text, re.DOTALL | re.IGNORECASE)
    if not found:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())
