"""A page that shows far more slots than any booking site (issue 24: 100,000 slot elements in
1.3 MB): each system reads the first MAX_SLOTS_PER_PAGE, counts the others exactly, says so,
and never answers "none" because it did not read a part of the page. The pages are built by
`creneau.simulator.flood`. A page that big is parsed in a process of its own."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import timedelta

import pytest

from conftest import english
from creneau.changes import KnownSlot, diff_slots
from creneau.fetch.client import PoliteClient
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import CheckResult, Status
from creneau.simulator import flood, flood_page
from creneau.simulator.wire import Request, Response
from creneau.sources import SYSTEMS, ants, ezbooking, html, rdvpref, rdvsp
from creneau.sources.common import MAX_ELEMENTS_READ
from creneau.sources.html import simulator as html_site
from creneau.sources.isolated import ParseFailed
from creneau.sources.reading import (
    CUT_SHORT,
    MAX_SLOTS_PER_PAGE,
    OFF_LOOP_BYTES,
    Reading,
    parsed,
)
from harness.transport import SimulatedInternet

SLOTS = 5_000  # well past the cap, quick to build and read
SERVED = {"date": "Mon, 07 Dec 2026 07:00:00 GMT"}
HTML_TARGET = html.Target.model_validate(
    {"name": "plages", "url": "http://127.0.0.1/plages", **html_site.FLOOD_TARGET}
)


def page(body: str, url: str = "http://127.0.0.1/x", kind: str = "text/html") -> Page:
    return Page(url, 200, body.encode(), {"content-type": kind, **SERVED})


def read(system: str, slots: int = SLOTS) -> Reading:
    body = flood_page(system)() if slots == flood.SLOTS else _page(system, slots)
    if system == "html":
        return html.parse_page(page(body), HTML_TARGET)
    if system == "ants":
        return ants.parse_page(page(body, kind="application/json"))
    if system == "ezbooking":
        return ezbooking.parse_page(page(body, "http://127.0.0.1/ezjscore/call/x"))
    return {"rdvpref": rdvpref, "rdvsp": rdvsp}[system].parse_page(page(body))


def _page(system: str, slots: int) -> str:
    return flood_page(system)(slots)


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_a_page_of_thousands_of_slots_is_read_up_to_the_cap_and_the_rest_counted(
    system: str,
) -> None:
    reading = read(system)
    assert (reading.status, len(reading.slots), reading.slots_not_kept) == (
        Status.AVAILABLE,
        MAX_SLOTS_PER_PAGE,
        SLOTS - MAX_SLOTS_PER_PAGE,
    )
    # The first ones of the page, at the times it gives them.
    assert reading.slots[0].start == flood.minute(0)
    assert reading.slots[-1].start == flood.minute(MAX_SLOTS_PER_PAGE - 1)
    assert f"{SLOTS - MAX_SLOTS_PER_PAGE} more on the page, not read" in english(reading.detail)
    assert reading.to_json()["slots_not_kept"] == SLOTS - MAX_SLOTS_PER_PAGE


def test_the_page_of_the_issue_is_read_within_the_elements_budget_and_counted_exactly() -> None:
    """100,000 <b> in 1.5 MB: past MAX_ELEMENTS_READ elements the page is not parsed, its
    elements of the slots' shape are counted."""
    body = html_site.flood_page()
    assert body.count("<b>") == flood.SLOTS > MAX_ELEMENTS_READ
    reading = read("html", flood.SLOTS)
    assert (len(reading.slots), reading.slots_not_kept) == (
        MAX_SLOTS_PER_PAGE,
        flood.SLOTS - MAX_SLOTS_PER_PAGE,
    )


def test_a_page_under_the_cap_says_nothing_of_slots_not_kept() -> None:
    reading = read("rdvsp", 3)
    assert (len(reading.slots), reading.slots_not_kept) == (3, 0)
    assert "slots_not_kept" not in reading.to_json()


FILLER = "<i>x</i>" * (MAX_ELEMENTS_READ + 10)


@pytest.mark.parametrize(
    ("system", "body"),
    [
        (
            "html",
            f"<p>Aucune plage libre</p>{FILLER}<p id=plages><b>7/12 8h00</b></p>",
        ),
        (
            "rdvsp",
            "<div class=card-body>Malheureusement, aucun créneau correspondant à votre "
            f"recherche n'a été trouvé.</div>{FILLER}"
            "<a href=/prendre_rdv?lieu_id=1&starts_at=2026-12-07+08:00>8:00</a>",
        ),
        (
            "rdvpref",
            "<h2>Choisissez votre créneau</h2><div>Aucun créneau disponible</div>"
            f"{FILLER}"
            '<div class="blocCreneauSelection"><h3>lundi<br>07/12</h3><ul><li>'
            '<input id="trhId_1"><label for="trhId_1">08h00</label></li></ul></div>',
        ),
    ],
)
def test_a_page_too_large_to_read_whole_is_never_none_for_what_it_did_not_read(
    system: str, body: str
) -> None:
    """Its words say "no slot", but a slot lies past the elements read: unknown."""
    target = HTML_TARGET if system == "html" else None
    source = {"html": html, "rdvsp": rdvsp, "rdvpref": rdvpref}[system]
    reading = source.parse_page(page(body), target)
    assert (reading.status, reading.rule) == (Status.UNKNOWN, "MAX_ELEMENTS_READ")


def test_slots_cut_at_the_cap_never_make_earlier_ones_gone() -> None:
    """A list cut short says nothing of which slots went: the ones seen before and not
    among those read stay open."""
    analysis = html.analyse(page(html_site.flood_page(SLOTS)), HTML_TARGET)
    assert [g.read_until for g in analysis.guichets] == [CUT_SHORT]
    beyond = replace(analysis.reading.slots[0], start=flood.minute(SLOTS - 1), key="past the cap")
    checked = CheckResult(
        "plages",
        "html",
        HTML_TARGET.url,
        Status.AVAILABLE,
        flood.FIRST,
        guichets=analysis.guichets,
        slots_not_kept=analysis.reading.slots_not_kept,
    )
    seen = KnownSlot(1, beyond.guichet_id, beyond.start, flood.FIRST - timedelta(hours=1), None)
    assert diff_slots([seen], checked).gone == []


def test_an_ants_meeting_point_whose_slots_all_lie_past_the_cap_is_not_none() -> None:
    body = flood_page("ants")(MAX_SLOTS_PER_PAGE)
    second = '{"id":"2","name":"Mairie 2","available_slots":[{"datetime":"2026-12-08T09:00Z"}]}'
    reading = ants.parse_page(page(body[:-1] + "," + second + "]", kind="application/json"))
    assert reading.slots_not_kept == 1
    assert [
        (g.id, g.status, len(g.slots), g.read_until) for g in ants.guichets_of(reading, [])
    ] == [
        ("1", Status.AVAILABLE, MAX_SLOTS_PER_PAGE, None),
        ("2", Status.AVAILABLE, 0, CUT_SHORT),
    ]


# --- a big page is parsed in a process of its own ---------------------------------------------

BIG = Page("http://127.0.0.1/x", 200, b" " * OFF_LOOP_BYTES, {"content-type": "text/html"})


def pid_of_the_parse(page: Page) -> int:
    return os.getpid()


def a_parser_s_bug(page: Page) -> None:
    raise ValueError("a parser's bug")


def killed(page: Page) -> None:
    os._exit(3)


async def test_a_big_page_is_parsed_in_a_process_of_its_own_a_small_one_here() -> None:
    small = Page(BIG.url, 200, b"<p>x</p>", BIG.headers)
    assert await parsed(pid_of_the_parse, small) == os.getpid()
    assert await parsed(pid_of_the_parse, BIG) != os.getpid()


async def test_a_parse_that_fails_in_its_process_fails_here_alike() -> None:
    with pytest.raises(ValueError, match="a parser's bug"):
        await parsed(a_parser_s_bug, BIG)
    with pytest.raises(ParseFailed, match="without a result"):
        await parsed(killed, BIG)


class EchoingHub:
    """An endpoint that answers an error envelope repeating the token it was sent, padded
    to a page big enough to be parsed apart."""

    def handles(self, path: str) -> bool:
        return True

    def handle(self, request: Request) -> Response:
        token = request.headers.get("x-hub-rdv-auth-token", "")
        body = {"detail": f"bad token {token}", "padding": " " * OFF_LOOP_BYTES}
        return Response(200, json.dumps(body), "application/json")


async def test_a_secret_in_a_big_answer_is_masked_though_parsed_apart() -> None:
    token = "hub-token-echoed-back-9f2c"
    target = ants.Target(
        name="echo",
        url="http://127.0.0.1/api/SlotsFromPosition",
        latitude=48.85,
        longitude=2.35,
        reason="CNI",
        token=token,
    )
    internet = SimulatedInternet({"127.0.0.1": EchoingHub()})
    client = PoliteClient("t@example.org", lambda h: HostBudget(6000, 60), transport=internet)
    async with client.session(target.name, target.url, respect_robots=False) as session:
        outcome = await ants.check(target, session)
    assert english(outcome.detail) == 'the API answered an error: "bad token ***"'


class FloodedCalendar:
    """A one-desk booking whose calendar's first week grid is flooded with slot links."""

    def __init__(self) -> None:
        self.grids: list[str] = []

    def handles(self, path: str) -> bool:
        return True

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/ezjscore/call/"):
            self.grids.append(request.path)
            return Response(200, flood_page("ezbooking")(SLOTS))
        calendar = (
            '<h1>Remise de titre</h1><form id="FormBookingCreate" action="/booking/create/1/4">'
            "</form><script>Y.io.ez('bookingserver::planning::assign::1::7::' + offset);</script>"
        )
        return Response(200, calendar)


async def test_an_ezbooking_desk_with_a_flooded_week_is_read_no_further() -> None:
    site = FloodedCalendar()
    internet = SimulatedInternet({"127.0.0.1": site})
    client = PoliteClient("t@example.org", lambda h: HostBudget(6000, 60), transport=internet)
    target = ezbooking.Target(name="pref", url="http://127.0.0.1/booking/create/1")
    async with client.session(target.name, target.url, respect_robots=False) as session:
        outcome = await ezbooking.check(target, session)
    (desk,) = outcome.guichets
    assert (desk.status, len(desk.slots), desk.read_until) == (
        Status.AVAILABLE,
        MAX_SLOTS_PER_PAGE,
        CUT_SHORT,
    )
    assert (outcome.slots_not_kept, len(site.grids)) == (SLOTS - MAX_SLOTS_PER_PAGE, 1)
