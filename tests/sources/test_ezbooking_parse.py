"""ezbooking pages beyond their reading: the form, desks and planning each step gives, exact
slots, and pages built in code (edge cases, HTTP statuses). Each saved page's whole reading is
in its `.expected.json` (tests/sources/test_fixtures.py); fixtures/ezbooking/SOURCES.md says
what each page is built from."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from conftest import FIXTURES, english
from creneau.page import Page
from creneau.results import Status
from creneau.sources import ezbooking
from creneau.sources.reading import Choice

PAGES = FIXTURES / "ezbooking"


def parse(name: str, status: int = 200, content_type: str = "") -> ezbooking.Reading:
    page = Page.from_file(PAGES / name)
    headers = {"content-type": content_type} if content_type else page.headers
    return ezbooking.parse_page(Page(page.url, status, page.body, headers))


def test_terms_page_gives_the_form_to_post() -> None:
    assert parse("conditions.html").fields == (
        ("condition", "on"),
        ("nextButton", "Effectuer une demande de rendez-vous"),
    )


def test_desk_choice_lists_every_desk_with_its_label() -> None:
    assert parse("desk-choice.html").choices == (
        Choice("14006", "Guichet 1 - Remise de titre"),
        Choice("14007", "Guichet 2 - Remise de titre"),
        Choice("14012", "Guichet 5 - Étudiants & passeport talent"),
    )


@pytest.mark.parametrize(
    "desk",
    [
        '<input name="planning" value="14007" id="planning14007"><label>Guichet 2</label>',
        '<label>Guichet 2</label> <input name="planning" value="14007">',
        '<label><span>Guichet 2</span> <input name="planning" value="14007"></label>',
    ],
)
def test_a_desk_label_without_for_names_the_radio_it_is_beside_or_around(desk: str) -> None:
    markup = (
        '<form id="FormBookingCreate" action="/booking/create/989/1"><fieldset id="fchoix_Booking">'
        '<p class="Bligne"><input name="planning" value="14006" id="planning14006">'
        f'<label for="planning14006">Guichet 1</label></p><p class="Bligne">{desk}</p>'
        "</fieldset></form>"
    )
    reading = ezbooking.parse_page(
        Page("https://example.org/booking/create/989/1", 200, markup.encode())
    )
    assert reading.choices == (Choice("14006", "Guichet 1"), Choice("14007", "Guichet 2"))


def test_calendar_names_the_planning_its_grid_comes_from() -> None:
    reading = parse("calendar.html")
    assert (reading.choices, reading.facts) == ((Choice("14007", ""),), {})


def test_a_calendar_that_names_no_planning_offers_none() -> None:
    # The flow must not fall back to the booking id (989 here): they always differ.
    assert parse("calendar-no-planning.html").choices == ()


def test_a_calendar_call_with_a_literal_offset_says_where_the_weeks_start() -> None:
    markup = (
        b'<form id="FormBookingCreate" action="/booking/create/13525/4"></form>'
        b"<script>Y.io.ez('bookingserver::planning::assign::13525::14202::175');</script>"
    )
    reading = ezbooking.parse_page(Page("https://example.org/booking/create/13525/4", 200, markup))
    assert (reading.kind, reading.choices, reading.facts) == (
        "calendar",
        (Choice("14202", ""),),
        {"first_day_offset": "175"},
    )


def test_a_calendar_may_carry_its_planning_in_a_form_field() -> None:
    markup = (
        b'<form id="FormBookingCreate" action="/booking/create/13525/4">'
        b'<input type="hidden" name="planning" value="14202"></form>'
    )
    reading = ezbooking.parse_page(Page("https://example.org/booking/create/13525/4", 200, markup))
    assert (reading.kind, reading.choices) == ("calendar", (Choice("14202", ""),))


def slots_of(reading: ezbooking.Reading) -> list[tuple[str, str, str, str]]:
    return [(s.start.isoformat(), s.key, s.guichet_id, s.guichet) for s in reading.slots]


THREE_FREE = [
    ("2026-12-01T09:00:00+01:00", "1796112000", "", ""),
    ("2026-12-01T09:15:00+01:00", "1796112900", "", ""),
    ("2026-12-03T14:30:00+01:00", "1796304600", "", ""),
]


def test_week_grid_in_the_json_envelope_slots_are_exact_with_paris_offset() -> None:
    reading = parse("week-grid-3-free.json")
    assert slots_of(reading) == THREE_FREE
    assert reading.read_from == tuple(
        f'$.content td.status-1.free > a[href="/booking/create/989/5/{key}"]'
        for _, key, _, _ in THREE_FREE
    )


def test_the_bare_html_week_is_read_from_its_links_without_any_free_class() -> None:
    # ezjscore answers HTML unless JSON is asked for; the bots read this form.
    reading = parse("week-grid-bare-3-free.html", content_type="text/html; charset=utf-8")
    assert slots_of(reading) == THREE_FREE
    assert reading.read_from == tuple(
        f'a[href="/booking/create/13525/5/{key}"]' for _, key, _, _ in THREE_FREE
    )


def test_the_escaped_html_week_is_unescaped_once_and_read() -> None:
    reading = parse("week-grid-escaped-3-free.html", content_type="text/html; charset=utf-8")
    assert slots_of(reading) == THREE_FREE
    assert reading.read_from[0] == '(escaped) a[href="/booking/create/13525/5/1796112000"]'


def test_the_bare_week_is_read_whatever_content_type_it_comes_with() -> None:
    for content_type in ("application/xhtml+xml", "text/plain", "text/javascript"):
        reading = parse("week-grid-bare-3-free.html", content_type=content_type)
        assert (reading.kind, slots_of(reading)) == ("week-grid", THREE_FREE)


def test_slots_seen_win_over_a_banner() -> None:
    reading = parse("calendar-slots-and-banner.html")
    assert slots_of(reading) == THREE_FREE
    assert reading.read_from[0] == 'a[href="/booking/create/989/5/1796112000"]'


def test_a_banner_decides_when_no_slot_is_seen() -> None:
    without_grid = (PAGES / "calendar-slots-and-banner.html").read_bytes()
    without_grid = without_grid.replace(b"/5/", b"/x/")
    reading = ezbooking.parse_page(Page("https://example.org/", 200, without_grid))
    assert (reading.kind, reading.status, reading.rule) == (
        "overloaded",
        Status.OVERLOADED,
        "OVERLOADED_PHRASES",
    )


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("https://example.org/ezjscore/call/x", b"<table><tr><td>complet</td></tr></table>"),
        (
            "file:///saved.json",
            b'{"error_text": "", "content": "<table><tr><td></td></tr></table>"}',
        ),
    ],
)
def test_a_grid_answer_whose_week_header_is_gone_is_an_empty_week(url: str, body: bytes) -> None:
    reading = ezbooking.parse_page(Page(url, 200, body))
    assert (reading.kind, reading.status, reading.rule, english(reading.detail)) == (
        "week-grid",
        None,
        "GRID_TABLE",
        "a week without its header: no free slot",
    )


def test_a_relative_slot_link_is_a_slot_too() -> None:
    body = b'<table><tr><td><a href="booking/create/13525/5/1796112000">libre</a></td></tr></table>'
    reading = ezbooking.parse_page(Page("https://example.org/ezjscore/call/x", 200, body))
    assert [slot.key for slot in reading.slots] == ["1796112000"]


def test_week_grid_across_the_october_clock_change() -> None:
    reading = parse("week-grid-dst-2-free.json")
    starts = [slot.start for slot in reading.slots]
    assert [start.isoformat() for start in starts] == [
        "2026-10-23T08:30:00+02:00",  # summer time
        "2026-10-25T09:00:00+01:00",  # the clocks went back that night
    ]
    # Elapsed time is 2 days 1h30 in UTC (06:30Z → 08:00Z), not the 2 days 0h30 of wall clocks.
    elapsed = starts[1].astimezone(UTC) - starts[0].astimezone(UTC)
    assert elapsed == timedelta(days=2, hours=1, minutes=30)


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (403, "forbidden", Status.BLOCKED),
        (429, "rate-limited", Status.BLOCKED),
        (502, "server-error", Status.OVERLOADED),
        (504, "server-error", Status.OVERLOADED),
        (404, "not-found", Status.ERROR),
    ],
)
def test_http_status_decides_when_the_page_says_nothing(
    status: int, kind: str, expected: Status
) -> None:
    reading = parse("changed-layout.html", status=status)
    assert (reading.kind, reading.status, reading.rule) == (kind, expected, "HTTP_STATUS")


def test_a_maintenance_page_served_as_503_is_closed_not_overloaded() -> None:
    reading = parse("maintenance.html", status=503)
    assert (reading.kind, reading.status) == ("closed", Status.CLOSED)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body><p>Bonjour</p></body></html>",
        b'{"content": 3}',
        b'{"unrelated": "object"}',
        b"[1, 2]",
        b"\xff\xfe\x00garbage",
        b"Session expir\xc3\xa9e",  # ezjscore's HTML answer to a failed call
        b'<form id="FormBookingCreate" action="/booking/create/1/9"></form>',
        b'<form id="FormBookingCreate"><fieldset id="fchoix_Booking"></fieldset></form>',
        b'<a href="/booking/create/1/5/notanepoch">libre</a>',
    ],
)
def test_unrecognised_pages_are_unknown_never_none(body: bytes) -> None:
    reading = ezbooking.parse_page(Page("https://example.org/booking/create/1", 200, body))
    assert reading.status is Status.UNKNOWN
