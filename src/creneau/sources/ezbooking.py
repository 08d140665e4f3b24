"""The legacy eZ Publish booking module of many préfectures: /booking/create/<id>[/<step>].

Steps: 0 terms → 1 desk choice → 2 "no slot" | 3 information → 4 calendar, whose weeks come
from /ezjscore/call/bookingserver::planning::assign::<booking>::<planning>::<day offset>.
Step 5 picks a slot and step 6 is a CAPTCHA: creneau never goes past step 4.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree
from pydantic import Field, field_validator

from creneau.page import Page
from creneau.results import GuichetResult, Slot, Status, overall_status
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
    from creneau.http import Session

SITE_ZONE = ZoneInfo("Europe/Paris")

# Everything this module knows of the site's markup, in one place (XPath: lxml is C-fast,
# and a check parses four pages or more).
FORM = '//form[@id="FormBookingCreate"]'
CONDITION_BOX = './/input[@id="condition" and @name="condition"]'
NEXT_BUTTON = './/input[@name="nextButton"]'
DESK_FIELDSET = './/fieldset[@id="fchoix_Booking"]'
DESK_RADIO = './/input[@name="planning"]'
DESK_LABEL = ".//label[@for=$radio]"
FREE_SLOT_LINK = './/td[contains(concat(" ", normalize-space(@class), " "), " free ")]//a/@href'
WEEK_HEADER = './/th[@colspan="7"]'
FIRST_FREE_BUTTON = "premiere plage horaire libre"  # folded: no accents
NEXT_STEP_LABEL = "Etape suivante"
NO_SLOT = re.compile(
    r"il n'existe plus de plage horaire libre pour (votre|la) demande de rendez-vous"
)
SLOT_HREF = re.compile(r"/booking/create/(\d+)/5/(\d{9,11})")
PLANNING_CALL = re.compile(r"bookingserver::planning::assign::(\d+)::(\d+)")
FORM_STEP = re.compile(r"/booking/create/\d+/(\d)")
BOOKING_URL = re.compile(r"^(?P<base>.*/booking/create/(?P<id>\d+))(?:/\d+)?/?$")
ERROR_TITLE = re.compile(r"<title>\s*(403|429|50[0-9])\b", re.IGNORECASE)


class Target(TargetBase):
    system: Literal["ezbooking"] = "ezbooking"
    desks: list[str] = Field(default_factory=list, description="planning ids; empty = all")
    weeks: int = Field(default=2, ge=1, le=6, description="calendar weeks read per desk")

    @field_validator("url")
    @classmethod
    def _booking_url(cls, url: str) -> str:
        if not BOOKING_URL.match(urlsplit(url)._replace(query="", fragment="").geturl()):
            raise ValueError(f'must look like https://<host>/booking/create/<id> (got "{url}")')
        return url


# --- parsing: pure functions of a page ---------------------------------------------------


def parse_page(page: Page, target: Target | None = None) -> Reading:
    """Classify one ezbooking page (an HTML step or a JSON week grid)."""
    head = page.text[:1024]
    if page.status == 200 and (found := ERROR_TITLE.search(head)):
        page = Page(page.url, int(found.group(1)), page.body, page.headers)
    if page.is_json and page.status == 200:
        return _parse_week_grid(page.text)
    text = visible_text(page.text)
    if failure := read_failure(page, text):
        return failure
    forms = _tree(page.text).xpath(FORM)
    if not forms:
        if looks_like_captcha(text):
            return Reading("captcha", Status.CAPTCHA, "the site asks for a CAPTCHA")
        return Reading("unknown", Status.UNKNOWN, "no booking form on the page")
    return _parse_step(forms[0], text, page.text)


def _tree(markup: str) -> lxml.html.HtmlElement:
    """The page as an lxml tree; an empty or unparsable page is an empty tree."""
    try:
        return lxml.html.document_fromstring(_XML_DECLARATION.sub("", markup, count=1))
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html></html>")


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")  # lxml refuses one in a str


def _parse_step(form: lxml.html.HtmlElement, text: str, markup: str) -> Reading:
    step = _form_step(form)
    if form.xpath(CONDITION_BOX):
        buttons = form.xpath(NEXT_BUTTON)
        value = buttons[0].get("value", "") if buttons else ""
        return Reading(
            "conditions",
            None,
            "terms to accept",
            fields=(("condition", "on"), ("nextButton", value)),
        )
    if form.xpath(DESK_FIELDSET):
        desks = tuple(_desk_choices(form))
        if desks:
            return Reading("desk-choice", None, f"{len(desks)} desks offered", choices=desks)
        return Reading("unknown", Status.UNKNOWN, "desk choice without any desk")
    if NO_SLOT.search(text):
        return Reading("no-slot", Status.NONE, "the page says there is no free slot")
    if FIRST_FREE_BUTTON in text or step == "4":
        plannings = {m.group(2) for m in PLANNING_CALL.finditer(markup)}
        choices = tuple(Choice(p, "") for p in sorted(plannings))
        return Reading("calendar", None, "week calendar", choices=choices)
    if step == "6" or looks_like_captcha(text):
        return Reading("captcha", Status.CAPTCHA, "the site asks for a CAPTCHA")
    if step == "3" and form.xpath(NEXT_BUTTON):
        return Reading("information", None, "information before the calendar")
    return Reading("unknown", Status.UNKNOWN, f"unrecognised booking step {step or '?'}")


def _form_step(form: lxml.html.HtmlElement) -> str:
    found = FORM_STEP.search(form.get("action", ""))
    return found.group(1) if found else ""


def _desk_choices(form: lxml.html.HtmlElement) -> list[Choice]:
    choices = []
    for radio in form.xpath(DESK_RADIO):
        desk_id = radio.get("value", "").strip()
        labels = form.xpath(DESK_LABEL, radio=radio.get("id", ""))
        name = " ".join(labels[0].text_content().split()) if labels else desk_id
        if desk_id:
            choices.append(Choice(desk_id, name))
    return choices


def _parse_week_grid(text: str) -> Reading:
    try:
        data = load_json(text)
    except NotJson:
        return Reading("unknown", Status.UNKNOWN, "week grid is not valid JSON")
    if not isinstance(data, dict):
        return Reading("unknown", Status.UNKNOWN, "week grid JSON is not an object")
    if data.get("error_text"):
        return Reading("unknown", Status.UNKNOWN, f"week grid error: {data['error_text']}")
    grid = _tree(f"<html><body>{data.get('content', '')}</body></html>")
    headers = grid.xpath(WEEK_HEADER)
    if not headers:
        return Reading("unknown", Status.UNKNOWN, "week grid without its week header")
    week = " ".join(headers[0].text_content().split())
    slots = []
    for href in grid.xpath(FREE_SLOT_LINK):
        found = SLOT_HREF.search(href)
        if found:
            epoch = found.group(2)
            start = datetime.fromtimestamp(int(epoch), SITE_ZONE)
            slots.append(Slot(start=start, guichet_id="", guichet="", key=epoch))
    status = Status.AVAILABLE if slots else Status.NONE
    return Reading("week-grid", status, week, slots=tuple(sorted(slots)))


# --- the flow: which request next --------------------------------------------------------


async def check(target: Target, session: Session) -> FlowOutcome:
    base, booking_id = _booking(target.url)
    entry = await session.get(base)
    reading = parse_page(entry)
    if reading.kind == "conditions":
        entry = await session.post(f"{base}/0", dict(reading.fields))
        reading = parse_page(entry)
    if reading.kind != "desk-choice":
        # One-desk bookings skip the choice: the booking itself is the guichet.
        title = _page_title(entry)
        desk = Choice(booking_id, title or f"booking {booking_id}")
        guichet, last = await _read_desk(
            session, base, booking_id, desk, reading, entry, target.weeks
        )
        return _outcome((guichet,), last, complete=True)
    offered = {choice.id: choice for choice in reading.choices}
    wanted = target.desks or list(offered)
    guichets: list[GuichetResult] = []
    last = entry
    for desk_id in wanted:
        if desk_id not in offered:
            guichets.append(
                GuichetResult(
                    desk_id,
                    desk_id,
                    Status.UNKNOWN,
                    detail=f"desk {desk_id} is not offered (offered: {', '.join(offered)})",
                )
            )
            continue
        if _host_said_stop(guichets):
            guichets.append(
                GuichetResult(
                    desk_id,
                    offered[desk_id].label,
                    guichets[-1].status,
                    detail="not checked: the site refused or failed",
                )
            )
            continue
        page = await session.post(f"{base}/1", {"planning": desk_id, "nextButton": NEXT_STEP_LABEL})
        guichet, last = await _read_desk(
            session, base, booking_id, offered[desk_id], parse_page(page), page, target.weeks
        )
        guichets.append(guichet)
    # Reading every desk the page offers, a desk that is gone has no slot either.
    return _outcome(tuple(guichets), last, complete=not target.desks)


async def _read_desk(
    session: Session,
    base: str,
    booking_id: str,
    desk: Choice,
    reading: Reading,
    page: Page,
    weeks: int,
) -> tuple[GuichetResult, Page]:
    if reading.kind == "information":
        page = await session.post(f"{base}/3", {"nextButton": NEXT_STEP_LABEL})
        reading = parse_page(page)
    if reading.kind != "calendar":
        status = reading.status or Status.UNKNOWN
        detail = reading.detail if reading.status else f"unexpected {reading.kind} page"
        return GuichetResult(desk.id, desk.label, status, detail=detail), page
    planning = reading.choices[0].id if len(reading.choices) == 1 else desk.id
    slots: list[Slot] = []
    trouble = ""
    for week in range(weeks):
        page = await session.get(
            _planning_url(base, booking_id, planning, 7 * week),
            headers={"X-Requested-With": "XMLHttpRequest"},
        )
        grid = parse_page(page)
        if grid.kind != "week-grid":
            trouble = f"week {week + 1}: {grid.detail}"
            status_if_empty = grid.status or Status.UNKNOWN
            break
        slots.extend(_at_desk(slot, desk) for slot in grid.slots)
    else:
        status_if_empty = Status.NONE
    if slots:
        return GuichetResult(
            desk.id, desk.label, Status.AVAILABLE, tuple(slots), detail=trouble
        ), page
    detail = trouble or f"calendar shown but no free slot in the next {weeks} week(s)"
    return GuichetResult(desk.id, desk.label, status_if_empty, detail=detail), page


def _at_desk(slot: Slot, desk: Choice) -> Slot:
    return Slot(start=slot.start, guichet_id=desk.id, guichet=desk.label, key=slot.key)


def _host_said_stop(guichets: list[GuichetResult]) -> bool:
    return bool(guichets) and guichets[-1].status in (
        Status.BLOCKED,
        Status.OVERLOADED,
        Status.CAPTCHA,
        Status.CLOSED,
    )


def _outcome(
    guichets: tuple[GuichetResult, ...], last: Page, *, complete: bool = False
) -> FlowOutcome:
    status = overall_status([g.status for g in guichets])
    details = {g.detail for g in guichets}
    if len(guichets) == 1 or len(details) == 1:
        prefix = f"{len(guichets)} desks: " if len(guichets) > 1 else ""
        return FlowOutcome(guichets, status, prefix + guichets[0].detail, last, complete=complete)
    detail = "; ".join(
        f"{g.label}: {g.detail}" for g in guichets if g.detail and g.status is not Status.AVAILABLE
    )
    return FlowOutcome(guichets, status, detail, last, complete=complete)


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
