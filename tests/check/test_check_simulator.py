"""Whole checks against the simulated préfecture: each case gives the right status and the
exact slots, and creneau never goes where booking happens. The simulator follows the public
evidence (fixtures/ezbooking/SOURCES.md): planning ids differ from booking ids, the calendar
opens only when a desk has a slot, ezjscore's Accept rule, no class marks a free cell."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner

from conftest import english
from creneau.alerts.outbox import Routing
from creneau.check.record import watch_once
from creneau.check.run import run_check
from creneau.cli import cli
from creneau.fetch.client import PoliteClient
from creneau.host_budget import HostBudget
from creneau.results import Status
from creneau.simulator.pages import PARIS, nginx_error
from creneau.simulator.server import SimulatorServer
from creneau.simulator.wire import Request, Response
from creneau.sources import ezbooking
from creneau.sources.ezbooking.simulator import Booking, Desk, Prefecture, default_bookings
from creneau.store import Store
from creneau.store import pages as archive
from harness.transport import SimulatedInternet

GRID_CALL = re.compile(r"^/ezjscore/call/bookingserver::planning::assign::(\d+)::(\d+)::(-?\d+)$")
FAR_TITLE = "Admission exceptionnelle au séjour — Bobigny"


def target(simulator: SimulatorServer, booking: str, **fields: object) -> ezbooking.Target:
    return ezbooking.Target(
        name=f"b{booking}", url=simulator.booking_url(booking), every="5s", **fields
    )


def starts(epochs: list[int]) -> list[str]:
    return [datetime.fromtimestamp(epoch, PARIS).isoformat() for epoch in sorted(epochs)]


def a_day_of_this_week(weekday: int) -> date:
    """The simulator's today: a given weekday of the current week (any real date works)."""
    real = datetime.now(PARIS).date()
    return real - timedelta(days=real.weekday()) + timedelta(days=weekday)


def week_of(today: date, epoch: int) -> int:
    """Which week of the calendar (0 = today's) a slot falls in."""
    monday = today - timedelta(days=today.weekday())
    return (datetime.fromtimestamp(epoch, PARIS).date() - monday).days // 7


def in_process(internet: SimulatedInternet) -> PoliteClient:
    """A client talking to simulated hosts without sockets, with room for a long check."""
    budget = HostBudget(per_minute=600, burst=60)
    return PoliteClient(
        "tests@example.org", lambda host: budget, retry_backoff=0.01, transport=internet
    )


def on_test_host(booking: str, **fields: object) -> ezbooking.Target:
    url = f"https://prefecture.test/booking/create/{booking}"
    return ezbooking.Target(name=f"b{booking}", url=url, **fields)


def grid_calls(internet: SimulatedInternet) -> list[tuple[str, str, int]]:
    """(booking, planning, day offset) of every week grid asked for, in order."""
    found = (GRID_CALL.match(hit.path) for hit in internet.hits)
    return [(m.group(1), m.group(2), int(m.group(3))) for m in found if m]


def grid_offsets(internet: SimulatedInternet) -> list[int]:
    return [offset for _, _, offset in grid_calls(internet)]


async def test_released_slots_are_found_exactly_with_their_desk(
    simulator: SimulatorServer, prefecture: Prefecture, client: PoliteClient
) -> None:
    released = prefecture.release("1001", "14007", 3)
    result = await run_check(target(simulator, "1001"), client)
    assert result.status is Status.AVAILABLE
    assert [(s.guichet_id, s.guichet, s.start.isoformat(), s.key) for s in result.slots] == [
        ("14007", "Guichet 2 - Remise de titre", start, str(epoch))
        for start, epoch in zip(starts(released), sorted(released), strict=True)
    ]
    assert [(g.id, g.status) for g in result.guichets] == [
        ("14006", Status.NONE),
        ("14007", Status.AVAILABLE),
        ("14012", Status.NONE),
    ]
    assert prefecture.violations == []


async def test_only_the_configured_desks_are_read(
    simulator: SimulatorServer, prefecture: Prefecture, client: PoliteClient
) -> None:
    prefecture.release("1001", "14006", 2)
    result = await run_check(target(simulator, "1001", desks=["14007", "99"]), client)
    assert [(g.id, g.status) for g in result.guichets] == [
        ("14007", Status.NONE),
        ("99", Status.UNKNOWN),
    ]
    assert (
        english(result.guichets[1].detail)
        == "desk 99 is not offered (offered: 14006, 14007, 14012)"
    )
    assert result.status is Status.UNKNOWN  # never "none" while a desk is unaccounted for


async def test_a_one_desk_booking_reports_its_slots(
    simulator: SimulatorServer, prefecture: Prefecture, client: PoliteClient
) -> None:
    result = await run_check(target(simulator, "1002"), client)
    free = sorted(prefecture.bookings["1002"].desks[0].free)
    assert result.status is Status.AVAILABLE
    assert [s.key for s in result.slots] == [str(epoch) for epoch in free]
    assert {s.guichet_id for s in result.slots} == {"1002"}


async def test_only_the_weeks_from_the_first_free_slot_are_listed(client: PoliteClient) -> None:
    today = a_day_of_this_week(2)  # a Wednesday: next week is the first with room for all
    prefecture = Prefecture(default_bookings(), today=lambda: today)
    released = prefecture.release("1001", "14006", 200)  # fills this week and the next ones
    internet = SimulatedInternet({"prefecture.test": prefecture})
    client = in_process(internet)
    result = await run_check(on_test_host("1001", weeks=1, desks=["14006"]), client)
    first_week = [e for e in released if week_of(today, e) == week_of(today, min(released))]
    assert [s.key for s in result.slots] == [str(e) for e in sorted(first_week)]
    assert grid_offsets(internet) == [0]


@pytest.mark.parametrize(
    ("booking", "status", "http_status"),
    [
        ("1003", Status.NONE, 200),
        ("1403", Status.BLOCKED, 403),
        ("1429", Status.BLOCKED, 429),
        ("1502", Status.OVERLOADED, 502),
        ("1503", Status.OVERLOADED, 200),
        ("1410", Status.CLOSED, 200),
        ("1411", Status.CLOSED, 503),
        ("1999", Status.UNKNOWN, 200),
        ("1666", Status.CAPTCHA, 200),
        ("4040", Status.ERROR, 404),
    ],
)
async def test_each_case_has_its_status(
    simulator: SimulatorServer,
    prefecture: Prefecture,
    client: PoliteClient,
    booking: str,
    status: Status,
    http_status: int,
) -> None:
    result = await run_check(target(simulator, booking), client)
    assert (result.status, result.http_status, result.slots) == (status, http_status, [])
    assert prefecture.violations == []


async def test_a_slot_taken_between_steps_does_not_crash_the_flow(
    simulator: SimulatorServer, prefecture: Prefecture, client: PoliteClient
) -> None:
    prefecture.release("1001", "14012", 1)
    prefecture.take("1001", "14012")
    result = await run_check(target(simulator, "1001"), client)
    assert result.status is Status.NONE


def test_ad_hoc_check_prints_the_json_contract(
    simulator: SimulatorServer,
    prefecture: Prefecture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    released = prefecture.release("1001", "14012", 2)
    url = simulator.booking_url("1001")
    done = CliRunner().invoke(
        cli, ["check", "--system", "ezbooking", "--url", url, "--desk", "14012", "--json"]
    )
    assert done.exit_code == 0, done.output
    line = json.loads(done.stdout)
    assert {k: line[k] for k in ("target", "system", "url", "status", "http_status")} == {
        "target": url,
        "system": "ezbooking",
        "url": url,
        "status": "available",
        "http_status": 200,
    }
    assert line["guichets"][0]["id"] == "14012"
    assert line["slots"] == [
        {
            "guichet": "Guichet 5 - Étudiants",
            "guichet_id": "14012",
            "start": start,
            "key": str(epoch),
            "time_known": True,
        }
        for start, epoch in zip(starts(released), sorted(released), strict=True)
    ]
    assert datetime.fromisoformat(line["checked_at"]).tzinfo is not None
    assert (tmp_path / "creneau" / "creneau.db").exists()  # recorded like any other check


# --- what the public evidence says of the real sites ---------------------------------------


class Recording:
    """A simulated host that keeps every request it was sent."""

    def __init__(self, site: Prefecture) -> None:
        self.site = site
        self.requests: list[Request] = []

    def handles(self, path: str) -> bool:
        return self.site.handles(path)

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        return self.site.handle(request)


class DroppingAccept(Recording):
    """A proxy that drops the Accept header: ezjscore then answers HTML."""

    def handle(self, request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k != "accept"}
        return super().handle(dataclasses.replace(request, headers=headers))


class GridFailingFrom(Recording):
    """The connection breaks on every week grid after the first `weeks` ones."""

    def __init__(self, site: Prefecture, weeks: int) -> None:
        super().__init__(site)
        self.weeks = weeks

    def handle(self, request: Request) -> Response:
        if GRID_CALL.match(request.path):
            self.weeks -= 1
            if self.weeks < 0:
                raise httpx.ConnectError("connection reset by peer")
        return super().handle(request)


@pytest.mark.parametrize("weekday", range(7))
async def test_a_first_free_slot_four_weeks_out_is_named_exactly(weekday: int) -> None:
    today = a_day_of_this_week(weekday)
    prefecture = Prefecture(default_bookings(), today=lambda: today)
    released = prefecture.release("1004", "20687", 3, not_before=today + timedelta(weeks=4))
    internet = SimulatedInternet({"prefecture.test": prefecture})
    result = await run_check(on_test_host("1004"), in_process(internet))
    assert result.status is Status.AVAILABLE
    assert [(s.guichet_id, s.guichet, s.start.isoformat(), s.key) for s in result.slots] == [
        ("1004", FAR_TITLE, start, str(epoch))
        for start, epoch in zip(starts(released), sorted(released), strict=True)
    ]
    # Week after week through the planning the calendar names (never the booking id), up
    # to the first free slot, then the `weeks` (2) listed from it.
    first = week_of(today, min(released))
    assert first >= 4
    assert grid_calls(internet) == [("1004", "20687", 7 * week) for week in range(first + 2)]
    assert prefecture.violations == []


def test_the_json_check_of_a_far_first_slot_says_available_with_the_slots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    today = a_day_of_this_week(4)
    prefecture = Prefecture(default_bookings(), today=lambda: today)
    released = prefecture.release("1004", "20687", 2, not_before=today + timedelta(days=30))
    with SimulatorServer(prefecture) as simulator:
        url = simulator.booking_url("1004")
        done = CliRunner().invoke(cli, ["check", "--system", "ezbooking", "--url", url, "--json"])
    assert done.exit_code == 0, done.output
    line = json.loads(done.stdout)
    assert line["status"] == "available"
    assert line["slots"] == [
        {
            "guichet": FAR_TITLE,
            "guichet_id": "1004",
            "start": start,
            "key": str(epoch),
            "time_known": True,
        }
        for start, epoch in zip(starts(released), sorted(released), strict=True)
    ]


async def test_a_calendar_with_no_slot_in_the_weeks_searched_is_available_never_none() -> None:
    today = a_day_of_this_week(0)
    prefecture = Prefecture(default_bookings(), today=lambda: today)
    beyond = today + timedelta(weeks=ezbooking.MAX_WEEKS_SEARCHED + 1)
    prefecture.release("1004", "20687", 1, not_before=beyond)
    internet = SimulatedInternet({"prefecture.test": prefecture})
    result = await run_check(on_test_host("1004"), in_process(internet))
    assert (result.status, result.slots) == (Status.AVAILABLE, [])
    assert english(result.detail) == (
        "the calendar opened (the desk has a free slot) but no free slot was found in the "
        f"{ezbooking.MAX_WEEKS_SEARCHED} week(s) read: the first one lies beyond"
    )
    assert grid_offsets(internet) == [7 * week for week in range(ezbooking.MAX_WEEKS_SEARCHED)]


async def test_a_desk_says_how_far_its_weeks_were_read() -> None:
    today = a_day_of_this_week(2)
    prefecture = Prefecture(default_bookings(), today=lambda: today)
    prefecture.release("1004", "20687", 1, not_before=today + timedelta(days=15))
    internet = SimulatedInternet({"prefecture.test": prefecture})
    result = await run_check(on_test_host("1004"), in_process(internet))
    (guichet,) = result.guichets
    weeks = len(grid_offsets(internet))
    monday = today - timedelta(days=today.weekday())
    assert guichet.read_until == datetime.combine(
        monday + timedelta(weeks=weeks), time(0), tzinfo=ezbooking.SITE_ZONE
    )


async def test_the_week_grid_is_asked_for_as_the_site_s_own_script_asks() -> None:
    prefecture = Prefecture(default_bookings())
    prefecture.release("1002", "15001", 1)
    site = Recording(prefecture)
    await run_check(on_test_host("1002"), in_process(SimulatedInternet({"prefecture.test": site})))
    grid = [r for r in site.requests if GRID_CALL.match(r.path)]
    assert grid
    assert {(r.headers["accept"], r.headers["x-requested-with"]) for r in grid} == {
        ("application/json,text/javascript,*/*", "XMLHttpRequest")
    }


@pytest.mark.parametrize("escaped", [False, True])
async def test_a_week_grid_answered_in_html_is_read_as_well(escaped: bool) -> None:
    prefecture = Prefecture(default_bookings(), xhtml_escaped=escaped)
    released = prefecture.release("1002", "15001", 3)
    site = DroppingAccept(prefecture)
    internet = SimulatedInternet({"prefecture.test": site})
    result = await run_check(on_test_host("1002"), in_process(internet))
    assert result.status is Status.AVAILABLE
    assert [s.key for s in result.slots] == [str(epoch) for epoch in sorted(released)]


async def test_being_sent_back_to_the_desk_choice_means_no_slot() -> None:
    # The Préfecture de police answers "no slot" so (wasphulud/scraper, SOURCES.md).
    prefecture = Prefecture(default_bookings())
    internet = SimulatedInternet({"prefecture.test": prefecture})
    result = await run_check(on_test_host("1005"), in_process(internet))
    assert [(g.id, g.status, english(g.detail)) for g in result.guichets] == [
        ("990", Status.NONE, "the site sent us back to the desk choice: no free slot"),
        ("1000", Status.NONE, "the site sent us back to the desk choice: no free slot"),
    ]
    assert result.status is Status.NONE
    prefecture.release("1005", "1000", 1)
    again = await run_check(on_test_host("1005"), in_process(internet))  # a new client
    assert [(g.id, g.status) for g in again.guichets] == [
        ("990", Status.NONE),
        ("1000", Status.AVAILABLE),
    ]


def one_desk_naming_no_planning() -> Prefecture:
    booking = Booking("2001", "Naturalisation", [Desk("20687", "Guichet unique")])
    booking.calendar_names_planning = False
    prefecture = Prefecture([booking])
    prefecture.release("2001", "20687", 2)
    return prefecture


async def test_a_calendar_that_names_no_planning_is_unknown_with_the_reason() -> None:
    prefecture = one_desk_naming_no_planning()
    internet = SimulatedInternet({"prefecture.test": prefecture})
    result = await run_check(on_test_host("2001"), in_process(internet))
    assert result.status is Status.UNKNOWN
    assert english(result.detail).startswith(
        "the calendar opened (the desk has a free slot) but its page names no planning id"
    )
    assert grid_calls(internet) == []  # never the booking id in place of the planning


async def test_the_one_desk_configured_gives_the_planning_the_page_does_not_name() -> None:
    prefecture = one_desk_naming_no_planning()
    internet = SimulatedInternet({"prefecture.test": prefecture})
    result = await run_check(on_test_host("2001", desks=["20687"]), in_process(internet))
    assert result.status is Status.AVAILABLE
    assert {s.guichet_id for s in result.slots} == {"2001"}
    assert {planning for _, planning, _ in grid_calls(internet)} == {"20687"}


async def test_a_failure_after_the_calendar_opened_keeps_what_was_read() -> None:
    today = a_day_of_this_week(0)
    prefecture = Prefecture(default_bookings(), today=lambda: today)
    prefecture.release("1001", "14006", 1, not_before=today + timedelta(weeks=3))
    prefecture.release("1001", "14007", 1)
    site = GridFailingFrom(prefecture, weeks=2)
    internet = SimulatedInternet({"prefecture.test": site})
    result = await run_check(on_test_host("1001"), in_process(internet))
    first, second, third = result.guichets
    assert (first.id, first.status, first.slots) == ("14006", Status.AVAILABLE, ())
    assert english(first.detail).startswith(
        "the calendar opened (the desk has a free slot); no free slot in the 2 week(s) read, "
        "then week 3: "
    )
    # The host failed: the other desks are not asked for.
    assert [(g.id, g.status) for g in (second, third)] == [
        ("14007", Status.ERROR),
        ("14012", Status.ERROR),
    ]
    assert result.status is Status.AVAILABLE


class GridRefusedFrom(GridFailingFrom):
    """The host refuses (403) every week grid after the first `weeks` ones."""

    def handle(self, request: Request) -> Response:
        if GRID_CALL.match(request.path):
            self.weeks -= 1
            if self.weeks < 0:
                return Response(403, nginx_error(403, "Forbidden"))
        return Recording.handle(self, request)


async def test_a_refusal_while_reading_weeks_keeps_the_slots_seen_and_stops() -> None:
    today = a_day_of_this_week(0)
    prefecture = Prefecture(default_bookings(), today=lambda: today)
    released = prefecture.release("1001", "14006", 2)
    prefecture.release("1001", "14007", 2)
    site = GridRefusedFrom(prefecture, weeks=1)
    result = await run_check(
        on_test_host("1001"), in_process(SimulatedInternet({"prefecture.test": site}))
    )
    first, *others = result.guichets
    assert (first.id, first.status) == ("14006", Status.AVAILABLE)
    assert [s.key for s in first.slots] == [str(epoch) for epoch in sorted(released)]
    assert english(first.detail) == "week 2: HTTP 403: the site refuses our requests"
    assert [(g.id, g.status, english(g.detail)) for g in others] == [
        ("14007", Status.BLOCKED, "not checked: the site refused or failed"),
        ("14012", Status.BLOCKED, "not checked: the site refused or failed"),
    ]
    assert result.status is Status.AVAILABLE


async def test_with_keep_pages_every_page_a_multi_desk_check_read_is_listed_and_kept(
    tmp_path: Path, store: Store
) -> None:
    prefecture = Prefecture(default_bookings(), today=lambda: a_day_of_this_week(1))
    prefecture.release("1001", "14007", 2)
    internet = SimulatedInternet({"prefecture.test": prefecture})
    pages_dir = tmp_path / "pages"
    await watch_once(
        on_test_host("1001"),
        in_process(internet),
        store,
        Routing(PARIS),
        pages_dir=pages_dir,
        keep_pages=True,
    )
    (row,) = store.checks()
    answered = [hit for hit in internet.hits if hit.path != "/robots.txt" and hit.status == 200]
    assert [urlsplit(page["url"]).path for page in row.pages] == [hit.path for hit in answered]
    assert all(archive.read_kept(pages_dir, page["sha256"]) for page in row.pages)
    assert row.page_sha256 == row.pages[-1]["sha256"]
    # The desk with the slots and the desks without were answered by different pages.
    assert len({page["sha256"] for page in row.pages}) > 3


def test_an_ad_hoc_check_ignores_an_unrelated_config_in_the_folder(
    simulator: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("CRENEAU_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text('[creneau]\ncontact = "${NOT_SET_ANYWHERE}"\n')
    url = simulator.booking_url("1003")
    done = CliRunner().invoke(cli, ["check", "--system", "ezbooking", "--url", url, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["status"] == "none"
    named = CliRunner().invoke(
        cli, ["check", "--system", "ezbooking", "--url", url, "--config", "config.toml"]
    )
    assert named.exit_code == 2
    assert "NOT_SET_ANYWHERE is not set" in named.output
