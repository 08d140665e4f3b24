"""The simulated préfecture follows the real site's rules, so that checks against it mean
something: sessions, step order, redirects, and a log of what was asked."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from creneau.simulator.pages import PARIS
from creneau.simulator.wire import Request
from creneau.sources.ezbooking.simulator import Event, Prefecture, default_bookings


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


def accepted_session(prefecture: Prefecture, booking: str) -> str:
    session = prefecture.handle(Request("GET", f"/booking/create/{booking}")).set_cookies[
        "eZSESSID"
    ]
    prefecture.handle(
        Request(
            "POST",
            f"/booking/create/{booking}/0",
            cookies={"eZSESSID": session},
            form={"condition": "on"},
        )
    )
    return session


GRID_1002 = "/ezjscore/call/bookingserver::planning::assign::1002::15001::0"


@pytest.mark.parametrize(
    ("accept", "query", "answer"),
    [
        ("application/json,text/javascript,*/*", "", "json"),  # ezjscore's io-ez
        ("application/json, text/javascript, */*; q=0.01", "", "json"),  # jQuery's
        ("*/*", "", "html"),  # httpx's and requests' default
        ("text/html", "", "html"),
        ("", "", "html"),
        ("*/*", "http_accept=json", "json"),
        ("application/json", "ContentType=xhtml", "html"),
    ],
)
def test_ezjscore_answers_json_only_when_json_is_asked_for(
    accept: str, query: str, answer: str
) -> None:
    prefecture = Prefecture(default_bookings(), clock=lambda: 0.0)
    prefecture.release("1002", "15001", 1)
    session = accepted_session(prefecture, "1002")
    headers = {"accept": accept} if accept else {}
    response = prefecture.handle(
        Request("GET", GRID_1002, query, cookies={"eZSESSID": session}, headers=headers)
    )
    body = str(response.body)
    assert response.headers["Vary"] == "Accept"
    if answer == "json":
        assert response.content_type == "application/json; charset=utf-8"
        assert set(json.loads(body)) == {"error_text", "content"}
    else:
        assert response.content_type == "text/html; charset=utf-8"
        assert body.startswith("<table>")
        assert '<th colspan="7">Semaine du ' in body


def test_no_class_marks_a_free_cell_and_each_slot_is_a_link_to_step_5() -> None:
    prefecture = Prefecture(default_bookings(), clock=lambda: 0.0)
    (epoch,) = prefecture.release("1002", "15001", 1)
    session = accepted_session(prefecture, "1002")
    body = str(prefecture.handle(Request("GET", GRID_1002, cookies={"eZSESSID": session})).body)
    next_week = prefecture.handle(
        Request("GET", GRID_1002[:-1] + "7", cookies={"eZSESSID": session})
    ).body
    week = body + str(next_week)
    assert "free" not in week
    assert week.count("/booking/create/1002/5/") == 1
    assert f'<a href="/booking/create/1002/5/{epoch}"' in week


def test_the_escaped_html_answer_is_ezjscore_s_text_encoding() -> None:
    prefecture = Prefecture(default_bookings(), clock=lambda: 0.0, xhtml_escaped=True)
    session = accepted_session(prefecture, "1002")
    body = str(prefecture.handle(Request("GET", GRID_1002, cookies={"eZSESSID": session})).body)
    assert body.startswith("&lt;table&gt;")
    assert "<" not in body


def test_a_grid_without_a_session_is_ezjscore_s_error() -> None:
    prefecture = sim()
    json_answer = prefecture.handle(
        Request("GET", GRID_1002, headers={"accept": "application/json"})
    )
    html_answer = prefecture.handle(Request("GET", GRID_1002))
    assert json.loads(str(json_answer.body)) == {"error_text": "Session expirée", "content": ""}
    assert html_answer.body == "Session expirée"


def test_the_calendar_opens_only_for_a_desk_with_a_slot_and_names_its_planning() -> None:
    prefecture = Prefecture(default_bookings(), clock=lambda: 0.0)
    session = accepted_session(prefecture, "1004")
    cookies = {"eZSESSID": session}
    no_slot = prefecture.handle(
        Request("POST", "/booking/create/1004/0", cookies=cookies, form={"condition": "on"})
    )
    assert no_slot.headers["Location"] == "/booking/create/1004/2"
    prefecture.release("1004", "20687", 1, not_before=prefecture.today() + timedelta(weeks=4))
    opened = prefecture.handle(
        Request("POST", "/booking/create/1004/0", cookies=cookies, form={"condition": "on"})
    )
    assert opened.headers["Location"] == "/booking/create/1004/4"
    calendar = str(
        prefecture.handle(Request("GET", "/booking/create/1004/4", cookies=cookies)).body
    )
    assert "bookingserver::planning::assign::1004::20687::" in calendar


def test_the_prefecture_de_police_sends_a_desk_without_slot_back_to_the_choice() -> None:
    prefecture = Prefecture(default_bookings(), clock=lambda: 0.0)
    session = accepted_session(prefecture, "1005")
    response = prefecture.handle(
        Request(
            "POST",
            "/booking/create/1005/1",
            cookies={"eZSESSID": session},
            form={"planning": "990", "nextButton": "Etape suivante"},
        )
    )
    assert response.headers["Location"] == "/booking/create/1005/1"


def test_slots_are_released_from_the_day_asked_for() -> None:
    today = [date(2026, 11, 25)]  # the simulator's own clock: any day works
    prefecture = Prefecture(default_bookings(), clock=lambda: 0.0, today=lambda: today[0])
    not_before = today[0] + timedelta(weeks=4)
    epochs = prefecture.release("1004", "20687", 30, not_before=not_before)
    days = sorted({datetime.fromtimestamp(e, PARIS).date() for e in epochs})
    assert days[0] >= not_before
    assert all(day.weekday() < 5 for day in days)
    assert epochs == sorted(epochs)
