"""Every saved ezbooking page, parsed exactly."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from conftest import FIXTURES
from creneau.page import Page
from creneau.results import Status
from creneau.sources import Choice, ezbooking

PAGES = FIXTURES / "ezbooking"


def parse(name: str, status: int = 200) -> ezbooking.Reading:
    page = Page.from_file(PAGES / name)
    if status != 200:
        page = Page(page.url, status, page.body, page.headers)
    return ezbooking.parse_page(page)


@pytest.mark.parametrize(
    ("name", "kind", "status"),
    [
        ("conditions.html", "conditions", None),
        ("desk-choice.html", "desk-choice", None),
        ("information.html", "information", None),
        ("calendar.html", "calendar", None),
        ("no-slot.html", "no-slot", Status.NONE),
        ("no-slot-la-demande.html", "no-slot", Status.NONE),
        ("captcha.html", "captcha", Status.CAPTCHA),
        ("overloaded.html", "overloaded", Status.OVERLOADED),
        ("closed.html", "closed", Status.CLOSED),
        ("maintenance.html", "closed", Status.CLOSED),
        ("forbidden-403.html", "forbidden", Status.BLOCKED),
        ("rate-limited-429.html", "rate-limited", Status.BLOCKED),
        ("bad-gateway-502.html", "server-error", Status.OVERLOADED),
        ("unavailable-503.html", "server-error", Status.OVERLOADED),
        ("changed-layout.html", "unknown", Status.UNKNOWN),
        ("week-grid-3-free.json", "week-grid", Status.AVAILABLE),
        ("week-grid-none-free.json", "week-grid", Status.NONE),
        ("week-grid-changed.json", "unknown", Status.UNKNOWN),
        ("week-grid-error.json", "unknown", Status.UNKNOWN),
    ],
)
def test_each_saved_page_is_classified(name: str, kind: str, status: Status | None) -> None:
    reading = parse(name)
    assert (reading.kind, reading.status) == (kind, status)


def test_every_fixture_is_covered_by_a_test() -> None:
    tested = {
        "conditions.html",
        "desk-choice.html",
        "information.html",
        "calendar.html",
        "no-slot.html",
        "no-slot-la-demande.html",
        "captcha.html",
        "overloaded.html",
        "closed.html",
        "maintenance.html",
        "forbidden-403.html",
        "rate-limited-429.html",
        "bad-gateway-502.html",
        "unavailable-503.html",
        "changed-layout.html",
        "week-grid-3-free.json",
        "week-grid-none-free.json",
        "week-grid-changed.json",
        "week-grid-error.json",
        "week-grid-dst-2-free.json",
    }
    assert {path.name for path in PAGES.iterdir()} == tested


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


def test_calendar_names_the_planning_its_grid_comes_from() -> None:
    assert parse("calendar.html").choices == (Choice("14007", ""),)


def test_week_grid_slots_are_exact_with_paris_offset() -> None:
    reading = parse("week-grid-3-free.json")
    assert reading.detail == "Semaine du lundi 30 novembre 2026 au dimanche 06 décembre 2026"
    assert [(slot.start.isoformat(), slot.key) for slot in reading.slots] == [
        ("2026-12-01T09:00:00+01:00", "1796112000"),
        ("2026-12-01T09:15:00+01:00", "1796112900"),
        ("2026-12-03T14:30:00+01:00", "1796304600"),
    ]


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
    assert (reading.kind, reading.status) == (kind, expected)


def test_a_maintenance_page_served_as_503_is_closed_not_overloaded() -> None:
    reading = parse("maintenance.html", status=503)
    assert (reading.kind, reading.status) == ("closed", Status.CLOSED)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body><p>Bonjour</p></body></html>",
        b'{"content": 3}',
        b"[1, 2]",
        b"\xff\xfe\x00garbage",
        b'<form id="FormBookingCreate" action="/booking/create/1/9"></form>',
        b'<form id="FormBookingCreate"><fieldset id="fchoix_Booking"></fieldset></form>',
    ],
)
def test_unrecognised_pages_are_unknown_never_none(body: bytes) -> None:
    reading = ezbooking.parse_page(Page("https://example.org/booking/create/1", 200, body))
    assert reading.status is Status.UNKNOWN
