"""The simulated préfecture follows the real site's rules, so that checks against it mean
something: sessions, step order, redirects, and a log of what was asked."""

from __future__ import annotations

from creneau.simulator.prefecture import Event, Prefecture, default_bookings
from creneau.simulator.wire import Request


def sim(timetable: list[Event] | None = None, clock: list[float] | None = None) -> Prefecture:
    now = clock if clock is not None else [0.0]
    return Prefecture(default_bookings(), timetable, clock=lambda: now[0])


def test_without_a_session_every_step_goes_back_to_the_terms() -> None:
    prefecture = sim()
    response = prefecture.handle(Request("GET", "/booking/create/1001/4"))
    assert (response.status, response.headers["Location"]) == (302, "/booking/create/1001")
    assert "eZSESSID" in response.set_cookies


def test_accepting_the_terms_leads_to_the_desk_choice() -> None:
    prefecture = sim()
    session = prefecture.handle(Request("GET", "/booking/create/1001")).set_cookies["eZSESSID"]
    response = prefecture.handle(
        Request(
            "POST",
            "/booking/create/1001/0",
            cookies={"eZSESSID": session},
            form={"condition": "on"},
        )
    )
    assert response.headers["Location"] == "/booking/create/1001/1"
    page = prefecture.handle(
        Request("GET", "/booking/create/1001/1", cookies={"eZSESSID": session})
    )
    assert 'id="planning14006"' in page.body


def test_the_timetable_releases_and_takes_slots_as_time_passes() -> None:
    clock = [0.0]
    prefecture = sim(
        [Event(10, "1001", "14007", "release", 3), Event(20, "1001", "14007", "take", 1)], clock
    )
    desk = prefecture.bookings["1001"].desk("14007")
    assert desk is not None
    prefecture.handle(Request("GET", "/booking/create/1001"))
    assert len(desk.free) == 0
    clock[0] = 10.0
    prefecture.handle(Request("GET", "/booking/create/1001"))
    assert len(desk.free) == 3
    clock[0] = 25.0
    prefecture.handle(Request("GET", "/booking/create/1001"))
    assert len(desk.free) == 2
    assert [(entry.method, entry.path, entry.status) for entry in prefecture.log] == [
        ("GET", "/booking/create/1001", 200)
    ] * 3


def test_going_where_booking_happens_is_recorded_as_a_violation() -> None:
    prefecture = sim()
    prefecture.handle(Request("GET", "/booking/create/1001/6"))
    assert prefecture.violations == ["GET /booking/create/1001/6"]
