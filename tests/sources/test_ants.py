"""The ANTS source: what saved answers give beyond their reading (each one's whole reading is
in its `.expected.json`, tests/sources/test_fixtures.py), any JSON parsed without a crash or a
false "none", the target's validation, and whole checks against the simulated API."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import FIXTURES, english
from creneau import redact
from creneau.check.run import run_check
from creneau.fetch.client import PoliteClient
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import MAX_BOOKING_URLS, GuichetResult, Status
from creneau.simulator.wire import Request
from creneau.sources import ants, rdvsp
from creneau.sources.ants import simulator as simulated_hub
from creneau.sources.ants.simulator import SIMULATOR_TOKEN, AntsApi
from creneau.sources.reading import FlowOutcome, Reading
from harness.transport import SimulatedInternet

ANSWERS = FIXTURES / "ants"
STATUS_IN_NAME = re.compile(r"-(\d{3})\.\w+$")
PARIS_10 = "Mairie du 10e arrondissement (Paris)"
MONTREUIL = "Hôtel de ville de Montreuil"
VERSAILLES = "Mairie de Versailles"
SECLIN = "Mairie de Seclin"
PARIS_10_MOCK = "Mairie du 10e Arrondissement de Paris"  # the hub's test-mode meeting point


def served(name: str, status: int | None = None) -> Page:
    """A saved answer, served with the HTTP status its name carries (else 200)."""
    page = Page.from_file(ANSWERS / name)
    found = STATUS_IN_NAME.search(name)
    code = status if status is not None else int(found.group(1)) if found else 200
    return Page(page.url, code, page.body, page.headers)


def slots_of(reading: Reading) -> list[tuple[str, str, str, str]]:
    return [(s.guichet_id, s.guichet, s.start.isoformat(), s.key) for s in reading.slots]


def guichets(reading: Reading, wanted: list[str] | None = None) -> list[tuple[str, str, Status]]:
    return [(g.id, g.label, g.status) for g in ants.guichets_of(reading, wanted or [])]


# --- saved answers -------------------------------------------------------------------------

SAVED_ANSWERS = sorted(
    path.name
    for path in ANSWERS.iterdir()
    if path.name != "SOURCES.md" and not path.name.endswith(".expected.json")
)
# Each meeting point listed is a guichet: available with its slots, else none.
GUICHETS = {
    "slots-3-points.json": [
        ("1201", PARIS_10, Status.AVAILABLE),
        ("1202", MONTREUIL, Status.AVAILABLE),
        ("1203", VERSAILLES, Status.AVAILABLE),
    ],
    "no-slot.json": [("1201", PARIS_10, Status.NONE), ("1202", MONTREUIL, Status.NONE)],
    "datetime-forms.json": [("9001", SECLIN, Status.AVAILABLE)],
    "clock-change-october.json": [("1203", VERSAILLES, Status.AVAILABLE)],
    "same-point-twice.json": [("1201", PARIS_10, Status.AVAILABLE)],
    "slots-rdvsp-editor.json": [("87", "Mairie de Sannois", Status.AVAILABLE)],
    "slots-test-mode-seconds.json": [("203", PARIS_10_MOCK, Status.AVAILABLE)],
}


@pytest.mark.parametrize("name", SAVED_ANSWERS)
def test_each_meeting_point_listed_is_a_guichet(name: str) -> None:
    assert guichets(ants.parse_page(served(name))) == GUICHETS.get(name, [])


def test_every_saved_answer_has_its_provenance() -> None:
    sources = (ANSWERS / "SOURCES.md").read_text(encoding="utf-8")
    assert [name for name in SAVED_ANSWERS if f"`{name}`" not in sources] == []


def test_each_slot_says_where_in_the_answer_it_was_read() -> None:
    reading = ants.parse_page(served("slots-3-points.json"))
    assert list(zip(slots_of(reading), reading.read_from, strict=True))[:3] == [
        (slots_of(reading)[0], "$[0].available_slots[1]"),  # the answer lists 09:20 first
        (slots_of(reading)[1], "$[0].available_slots[0]"),
        (slots_of(reading)[2], "$[2].available_slots[0]"),
    ]
    assert len(reading.read_from) == len(reading.slots)


def test_each_slot_keeps_the_mairie_booking_page_for_alerts() -> None:
    reading = ants.parse_page(served("slots-rdvsp-editor.json"))
    booking = {slot.key: slot.booking_url for slot in reading.slots if slot.booking_url}
    assert booking == {
        f"87@2026-12-01T{hm}:00+01:00": "https://rdv.anct.gouv.fr/creneaux?duration=25"
        f"&lieu_id=87&motif_id=2301&public_link_organisation_id=31&starts_at=2026-12-01+{q}"
        for hm, q in (("09:00", "09%3A00"), ("09:25", "09%3A25"), ("09:50", "09%3A50"))
    }


def test_booking_pages_kept_are_capped_earliest_first() -> None:
    slots = [
        {"datetime": f"2026-06-{day:02d}T{hour:02d}:00:00+00:00", "callback_url": f"u{day}-{hour}"}
        for day in range(1, 30)
        for hour in range(8, 12)
    ]
    answer = [{"id": "1", "name": "Mairie", "available_slots": slots}]
    reading = ants.parse_page(Page("https://example.org/api", 200, json.dumps(answer).encode()))
    booking = [slot.key for slot in reading.slots if slot.booking_url]
    assert len(booking) == MAX_BOOKING_URLS
    assert booking[0] == "1@2026-06-01T08:00:00+02:00"
    assert len(reading.slots) == 29 * 4


def test_slots_in_a_200_answer_win_over_a_banner_phrase() -> None:
    answer = [
        {
            "id": "5",
            "name": "Mairie — opération de maintenance du site, trop de demandes",
            "available_slots": [{"datetime": "2026-06-02T09:00Z", "callback_url": "x"}],
        }
    ]
    reading = ants.parse_page(Page("https://example.org/api", 200, json.dumps(answer).encode()))
    assert (reading.kind, reading.status, len(reading.slots)) == ("slots", Status.AVAILABLE, 1)


def test_slot_keys_and_labels_name_the_meeting_point_and_the_paris_start() -> None:
    assert slots_of(ants.parse_page(served("slots-3-points.json")))[:3] == [
        ("1201", PARIS_10, "2026-06-02T09:00:00+02:00", "1201@2026-06-02T09:00:00+02:00"),
        ("1201", PARIS_10, "2026-06-02T09:20:00+02:00", "1201@2026-06-02T09:20:00+02:00"),
        ("1203", VERSAILLES, "2026-06-03T10:00:00+02:00", "1203@2026-06-03T10:00:00+02:00"),
    ]


def test_guichet_details_give_distance_address_and_the_mairie_booking_page() -> None:
    reading = ants.parse_page(served("slots-3-points.json"))
    assert [english(g.detail) for g in ants.guichets_of(reading, [])] == [
        "2 free slot(s) · 1.73 km · 72 Rue du Faubourg Saint-Martin, 75010 Paris · "
        "book on https://rdv.mairie10.paris.fr/passeport-cni?date=2026-06-02T09:00",
        "1 free slot(s) · 6.71 km · 1 Place Jean Jaurès, 93100 Montreuil · "
        "book on https://www.montreuil.fr/rendez-vous/titres?date=2026-06-04T14:40",
        "2 free slot(s) · 16.9 km · 4 Avenue de Paris, 78000 Versailles · "
        "book on https://www.versailles.fr/prendre-rendez-vous?date=2026-06-03T10:00",
    ]
    none = ants.parse_page(served("no-slot.json"))
    assert english(ants.guichets_of(none, [])[1].detail) == (
        "no free slot listed · 6.71 km · 1 Place Jean Jaurès, 93100 Montreuil · "
        "https://www.montreuil.fr"
    )


def test_elapsed_time_across_the_october_clock_change_is_real_time() -> None:
    first, second = (s.start for s in ants.parse_page(served("clock-change-october.json")).slots)
    # 06:30Z → 08:00Z: three days and 1h30 of real time, not the 0h30 of the wall clocks.
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(days=3, hours=1, minutes=30)


@pytest.mark.parametrize(
    ("name", "kind", "status"),
    [
        ("rate-limited-429.html", "rate-limited", Status.BLOCKED),
        ("bad-gateway-502.html", "server-error", Status.OVERLOADED),
        ("unauthorized-401.json", "api-error", Status.UNKNOWN),
        ("rate-limited-429.json", "api-error", Status.UNKNOWN),
        ("radius-not-allowed-403.json", "api-error", Status.UNKNOWN),
    ],
)
def test_error_answers_saved_as_200_are_still_not_none(
    name: str, kind: str, status: Status
) -> None:
    """`creneau parse` serves saved files as 200: an nginx error title or an API error
    envelope must still say what it is."""
    reading = ants.parse_page(served(name, status=200))
    assert (reading.kind, reading.status) == (kind, status)


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (403, "forbidden", Status.BLOCKED),
        (429, "rate-limited", Status.BLOCKED),
        (500, "server-error", Status.OVERLOADED),
        (503, "server-error", Status.OVERLOADED),
        (404, "not-found", Status.ERROR),
        (401, "unauthorized", Status.ERROR),
        (204, "unexpected-status", Status.UNKNOWN),
    ],
)
def test_http_status_decides_even_when_the_body_is_a_valid_answer(
    status: int, kind: str, expected: Status
) -> None:
    reading = ants.parse_page(served("slots-3-points.json", status=status))
    assert (reading.kind, reading.status, reading.slots) == (kind, expected, ())


# --- any JSON: never a crash, never a false "none" ---------------------------------------------


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`good` four times in five (`|` would weigh every branch of `bad` like `good`)."""
    return st.integers(min_value=0, max_value=4).flatmap(lambda n: bad if n == 0 else good)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=25,
)
anything = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
good_times = st.sampled_from(
    ["2026-06-02T09:00:00+00:00", "2026-06-02T09:00Z", "2026-06-02T09:20:00", "2026-06-02 10:00"]
)
good_slot = st.fixed_dictionaries(
    {"datetime": good_times}, optional={"callback_url": st.text(max_size=10)}
)
bad_slot = anything | st.fixed_dictionaries(
    {},
    optional={
        "datetime": st.sampled_from(["2026-06-02", "9h", "", "2026-13-02T09:00"]) | anything,
        "callback_url": anything,
    },
)


slot_lists = st.lists(mostly(good_slot, bad_slot), max_size=3)
good_ids = st.sampled_from(["1201", "1202", " 7 "]) | st.integers(min_value=0, max_value=9999)
good_names = st.sampled_from(["Mairie de Paris 10", "Mairie annexe"])
good_point = st.fixed_dictionaries(
    {"id": good_ids, "name": good_names, "available_slots": slot_lists},
    optional={"city_name": anything, "distance_km": anything, "zip_code": anything},
)
bad_point = anything | st.fixed_dictionaries(
    {},
    optional={
        "id": good_ids | st.sampled_from(["", "  "]) | anything,
        "name": good_names | st.sampled_from(["", "  "]) | anything,
        "available_slots": slot_lists | anything,
    },
)
# Mostly well-formed answers with a flaw here and there: every branch of the parser is hit.
near_points = st.lists(mostly(good_point, bad_point), max_size=4)


def is_known_shape_without_slots(value: Any) -> bool:
    """The one shape that may say "none": a list of well-formed meeting points, each with
    an empty `available_slots` list."""

    def usable_id(point_id: Any) -> bool:
        if isinstance(point_id, bool):
            return False
        return isinstance(point_id, int) or (isinstance(point_id, str) and bool(point_id.strip()))

    return isinstance(value, list) and all(
        isinstance(point, dict)
        and usable_id(point.get("id"))
        and isinstance(point.get("name"), str)
        and bool(point["name"].strip())
        and point.get("available_slots") == []
        for point in value
    )


def check_invariants(value: Any) -> None:
    body = json.dumps(value).encode()
    reading = ants.parse_page(Page("https://example.org/api", 200, body, {}))
    assert reading.status in (Status.AVAILABLE, Status.NONE, Status.UNKNOWN)
    if reading.status is Status.NONE:
        assert is_known_shape_without_slots(value), english(reading.detail)
    if reading.status is Status.AVAILABLE:
        assert isinstance(value, list)
        assert reading.slots
        assert all(slot.start.tzinfo is not None for slot in reading.slots)
    else:
        assert reading.slots == ()


@settings(max_examples=300)
@given(json_values)
def test_any_json_value_never_raises_and_never_says_none_unless_known(value: Any) -> None:
    check_invariants(value)


@settings(max_examples=300)
@given(near_points)
def test_almost_known_answers_never_raise_and_never_say_none_unless_known(value: Any) -> None:
    check_invariants(value)


@given(st.binary(max_size=200))
def test_any_body_never_raises(body: bytes) -> None:
    reading = ants.parse_page(Page("https://example.org/api", 200, body, {}))
    assert reading.status is not Status.AVAILABLE or reading.slots


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-12 * 60, max_value=14 * 60).filter(bool),
)
def test_a_real_offset_keeps_the_instant(moment: datetime, minutes: int) -> None:
    stamped = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    start = ants.slot_start(stamped.isoformat())
    assert start.tzinfo is ants.SITE_ZONE
    # The same instant to the minute, now on Paris clocks. (Compared in UTC: an aware time in
    # the October fold never equals one of another zone, by PEP 495's rule.)
    minute = stamped.replace(second=0, microsecond=0)
    assert start.astimezone(UTC) == minute.astimezone(UTC)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_naive_and_zero_offset_times_are_paris_wall_clock_to_the_minute(moment: datetime) -> None:
    """Seconds and microseconds (the hub's test-mode editors keep them) are not part of a
    slot: the same minute is the same slot, whatever else the time carries."""
    minute = moment.replace(second=0, microsecond=0)
    for text in (moment.isoformat(), f"{moment.isoformat()}Z", f"{moment.isoformat()}+00:00"):
        start = ants.slot_start(text)
        assert (start.tzinfo, start.replace(tzinfo=None)) == (ants.SITE_ZONE, minute)
        in_paris = minute.replace(tzinfo=ants.SITE_ZONE)
        assert ants.slot_key("203", start) == f"203@{in_paris.isoformat()}"


# --- the target -------------------------------------------------------------------------------


TOKEN = "hub-token-for-tests-7f3a"


def make_target(**fields: Any) -> ants.Target:
    base: dict[str, Any] = {
        "name": "passeport-paris",
        "latitude": 48.8566,
        "longitude": 2.3522,
        "reason": "PASSPORT",
        "token": TOKEN,
    }
    return ants.Target(**(base | fields))


def test_six_people_may_apply_together_as_on_rdv_service_public() -> None:
    """The hub sets no bound; RDV Service Public, an editor it queries, books 1 to 6."""
    assert make_target(documents_number=6).documents_number == 6
    assert ants.MAX_DOCUMENTS == rdvsp.ANTS_COUNT_MAX


def test_a_target_needs_only_a_position_and_a_reason() -> None:
    target = make_target(reason=" cni-passport ")
    assert (target.url, target.host, target.reason) == (
        "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition",
        "api.rendezvouspasseport.ants.gouv.fr",
        "CNI-PASSPORT",
    )
    assert (target.radius_km, target.documents_number, target.days) == (10, 1, 60)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"latitude": 91}, "latitude", "must be between -90 and 90 (got 91.0)"),
        ({"longitude": float("nan")}, "longitude", "must be between -180 and 180 (got nan)"),
        ({"radius_km": 7}, "radius_km", "must be one of 5, 10, 15, 20, 25, 30 km"),
        ({"reason": "visa"}, "reason", "must be one of CNI, PASSPORT, CNI-PASSPORT"),
        ({"documents_number": 7}, "documents_number", "must be between 1 and 6 (got 7)"),
        ({"documents_number": 0}, "documents_number", "must be between 1 and 6 (got 0)"),
        ({"days": 0}, "days", "must be between 1 and 180 days (got 0)"),
        ({"meeting_points": ["1201", " "]}, "meeting_points", "ids must not be empty"),
        ({"url": "https://rendezvouspasseport.ants.gouv.fr/"}, "url", "must be the API"),
        ({"url": f"{ants.API_URL}?radius_km=5"}, "url", "must be the API endpoint"),
        ({"every": "30s"}, "every", "must be at least 60s"),
    ],
)
def test_invalid_targets_are_refused_with_a_clear_message(
    fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        make_target(**fields)
    errors = {".".join(map(str, e["loc"])): e["msg"] for e in refused.value.errors()}
    assert list(errors) == [field]
    assert message in errors[field]


@pytest.mark.parametrize("token", [None, "", "   "])
def test_a_target_without_a_token_says_what_is_missing_and_where_to_get_one(
    token: str | None,
) -> None:
    fields: dict[str, Any] = {"token": token} if token is not None else {}
    with pytest.raises(ValidationError) as refused:
        ants.Target(name="p", latitude=48.8, longitude=2.3, reason="CNI", **fields)
    (error,) = refused.value.errors()
    assert error["loc"] == ("token",)
    message = error["msg"].removeprefix("Value error, ")
    assert message.startswith("is required: the ANTS hub answers only requests carrying a token")
    for needed in (
        "X-HUB-RDV-AUTH-TOKEN",
        '401 "X-HUB-RDV-AUTH-TOKEN header invalid"',
        "https://rendez-vous-api.france-identite.fr/docs",
        "gitlab.com/france-identite/rendez-vous-mairie",
        'token = "${ANTS_TOKEN}"',
        'system = "rdvsp"',
    ):
        assert needed in message


def test_the_token_is_never_printed() -> None:
    target = make_target()
    assert TOKEN not in repr(target)
    assert TOKEN not in str(target)
    assert TOKEN not in target.model_dump_json()
    assert target.token is not None
    assert target.token.get_secret_value() == TOKEN
    assert redact.redact(f"sent {TOKEN}") == "sent ***"


def test_an_api_message_echoing_the_token_is_masked() -> None:
    make_target()  # registers the token, as loading the config does
    body = json.dumps({"detail": f"token {TOKEN} revoked"}).encode()
    reading = ants.parse_page(Page("https://example.org/api", 401, body, {}))
    assert TOKEN not in english(reading.detail)
    assert english(reading.detail).endswith('("token *** revoked")')


TOML_EXAMPLE = """
[[target]]
name = "passeport-paris-11"
system = "ants"
token = "hub-token-from-the-environment"
latitude = 48.8589
longitude = 2.3800
radius_km = 10
reason = "PASSPORT"
documents_number = 1
days = 60
every = "10m"
"""


def test_the_documented_toml_block_is_a_valid_target() -> None:
    (table,) = tomllib.loads(TOML_EXAMPLE)["target"]
    target = ants.Target(**table)
    assert (target.url, target.every, target.meeting_points) == (
        ants.API_URL,
        timedelta(minutes=10),
        [],
    )


def test_the_query_is_built_from_the_target() -> None:
    target = make_target(radius_km=25, documents_number=3, days=45, longitude=-1.6778)
    assert ants.query_params(target, date(2026, 12, 20)) == {
        "longitude": "-1.6778",
        "latitude": "48.8566",
        "start_date": "2026-12-20",
        "end_date": "2027-02-03",
        "radius_km": "25",
        "reason": "PASSPORT",
        "documents_number": "3",
    }


def test_today_is_the_date_in_paris_not_in_utc() -> None:
    with time_machine.travel(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), tick=False):
        assert ants.paris_today() == date(2026, 3, 29)


def test_the_real_host_budget_stays_below_the_published_limit() -> None:
    budget = ants.HOST_BUDGETS[make_target().host]
    assert budget.per_minute < 30
    assert budget.burst <= 5
    assert set(ants.HOST_BUDGETS) == {"api.rendezvouspasseport.ants.gouv.fr"}


# --- whole checks against the simulated API (in process: no socket) ---------------------------

TODAY = date(2026, 6, 1)  # a Monday: the simulator releases from Tuesday 2 June on
HOST = "127.0.0.1"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> AntsApi:
    monkeypatch.setattr(ants, "paris_today", lambda: TODAY)
    return AntsApi(today=lambda: TODAY)


@pytest.fixture
def internet(api: AntsApi) -> SimulatedInternet:
    return SimulatedInternet({HOST: api})


def sim_target(**fields: Any) -> ants.Target:
    base: dict[str, Any] = {"url": f"http://{HOST}/api/SlotsFromPosition", "every": "5s"}
    base |= {"radius_km": 20, "documents_number": 2, "token": SIMULATOR_TOKEN}
    return make_target(**(base | fields))


ROBOTS = "/robots.txt"  # the client reads it once per host before the first request


async def run(target: ants.Target, internet: SimulatedInternet) -> tuple[FlowOutcome, int]:
    """One check through a fresh polite client: the outcome and the API requests it sent."""
    client = PoliteClient(
        "t@example.org", lambda h: HostBudget(6000, 60), retry_backoff=0.01, transport=internet
    )
    async with client.session(target.name, target.url) as session:
        outcome = await ants.check(target, session)
        return outcome, session.requests - 1  # minus the robots.txt fetch


def flow_slots(outcome: FlowOutcome) -> list[tuple[str, str, str]]:
    return [(s.guichet_id, s.start.isoformat(), s.key) for g in outcome.guichets for s in g.slots]


def day_after(days: int) -> date:
    return TODAY + timedelta(days=days)


async def test_released_slots_are_found_exactly_at_their_meeting_point(
    api: AntsApi, internet: SimulatedInternet
) -> None:
    api.release("1203", 2)
    api.release("1201", 1)
    api.release("1204", 3)  # Lille: 200 km away, outside the radius
    outcome, requests = await run(sim_target(), internet)
    assert (outcome.status, english(outcome.detail), requests) == (
        Status.AVAILABLE,
        "3 free slot(s) at 2 of 2 meeting point(s)",
        1,
    )
    assert [(g.id, g.label, g.status) for g in outcome.guichets] == [
        ("1201", PARIS_10, Status.AVAILABLE),
        ("1203", VERSAILLES, Status.AVAILABLE),
    ]
    tuesday = day_after(1).isoformat()
    assert flow_slots(outcome) == [
        ("1201", f"{tuesday}T09:00:00+02:00", f"1201@{tuesday}T09:00:00+02:00"),
        ("1203", f"{tuesday}T09:00:00+02:00", f"1203@{tuesday}T09:00:00+02:00"),
        ("1203", f"{tuesday}T09:20:00+02:00", f"1203@{tuesday}T09:20:00+02:00"),
    ]
    booking = {s.key: s.booking_url for g in outcome.guichets for s in g.slots if s.booking_url}
    assert set(outcome.facts) == {"meeting_point.1201", "meeting_point.1203"}
    assert set(booking) == {key for _, _, key in flow_slots(outcome)}
    assert booking[f"1201@{tuesday}T09:00:00+02:00"] == (
        f"http://{HOST}/mairie/1201/rendez-vous?date={tuesday}T09:00"
    )
    assert api.violations == []


async def test_the_query_and_the_token_sent_are_exactly_the_target_s(
    api: AntsApi, internet: SimulatedInternet
) -> None:
    await run(sim_target(reason="cni", days=30, documents_number=4, radius_km=5), internet)
    assert [(entry.method, entry.path, entry.params, entry.status) for entry in api.log] == [
        (
            "GET",
            "/api/SlotsFromPosition",
            {
                "longitude": "2.3522",
                "latitude": "48.8566",
                "start_date": TODAY.isoformat(),
                "end_date": day_after(30).isoformat(),
                "radius_km": "5",
                "reason": "CNI",
                "documents_number": "4",
            },
            200,  # the simulator answers only with X-HUB-RDV-AUTH-TOKEN set to its token
        )
    ]
    assert api.violations == []


async def test_a_token_the_hub_did_not_issue_is_an_error_that_names_the_header(
    api: AntsApi, internet: SimulatedInternet
) -> None:
    api.release("1201", 2)
    outcome, requests = await run(sim_target(token="not-one-of-the-hub-s"), internet)
    assert (outcome.status, outcome.guichets, requests) == (Status.ERROR, (), 1)
    assert english(outcome.detail) == (
        "HTTP 401: the hub refused the target's token (X-HUB-RDV-AUTH-TOKEN) "
        '("X-HUB-RDV-AUTH-TOKEN header invalid")'
    )
    assert "not-one-of-the-hub-s" not in english(outcome.detail)
    assert api.violations == ["a request without a valid X-HUB-RDV-AUTH-TOKEN"]


@pytest.mark.parametrize(
    ("settings", "http_status", "detail"),
    [
        ({"radius_km": 20}, 403, "does not offer the target's radius_km"),  # radii changed
        ({"token": "not-one-of-the-hub-s"}, 401, "the hub refused the target's token"),
    ],
)
async def test_the_hub_refusing_a_target_s_settings_is_its_error_and_never_stops_the_host(
    api: AntsApi,
    internet: SimulatedInternet,
    monkeypatch: pytest.MonkeyPatch,
    settings: dict[str, Any],
    http_status: int,
    detail: str,
) -> None:
    """A 403 "radius_km value not allowed" or a 401 says the target is set wrong: `error`,
    and the host stays open (no breaker, no cool-down) for the hub's other targets."""
    monkeypatch.setattr(simulated_hub, "RADIUS_CHOICES_KM", (5, 10, 15))  # as it changed once
    api.release("1201", 1)
    client = PoliteClient(
        "t@example.org", lambda h: HostBudget(6000, 60), retry_backoff=0.01, transport=internet
    )
    results = [await run_check(sim_target(**settings), client) for _ in range(4)]
    assert [(r.status, r.http_status) for r in results] == [(Status.ERROR, http_status)] * 4
    assert all(detail in english(r.detail) for r in results)
    state = client.gate(HOST).guard.state
    assert (state.open_until, state.not_before, state.consecutive_failures) == (None, None, 0)
    answered = await run_check(sim_target(radius_km=10), client)  # other targets go on
    assert (answered.status, len(answered.slots)) == (Status.AVAILABLE, 1)


async def test_the_mairies_booking_pages_are_never_requested(
    api: AntsApi, internet: SimulatedInternet
) -> None:
    api.release("1202", 4)
    outcome, _requests = await run(sim_target(), internet)
    assert f"book on http://{HOST}/mairie/1202/" in english(outcome.guichets[0].detail)  # offered…
    assert [hit.path for hit in internet.hits] == [ROBOTS, "/api/SlotsFromPosition"]  # …not fetched


async def test_no_free_slot_is_none_with_no_guichet(internet: SimulatedInternet) -> None:
    outcome, _requests = await run(sim_target(), internet)
    assert (outcome.status, outcome.guichets, english(outcome.detail)) == (
        Status.NONE,
        (),
        "the API lists no meeting point with a free slot",
    )


async def test_taken_slots_disappear(api: AntsApi, internet: SimulatedInternet) -> None:
    api.release("1201", 2)
    api.take("1201", 1)
    outcome, _requests = await run(sim_target(), internet)
    tuesday = day_after(1).isoformat()
    assert flow_slots(outcome) == [
        ("1201", f"{tuesday}T09:20:00+02:00", f"1201@{tuesday}T09:20:00+02:00")
    ]
    api.take("1201")
    outcome, _requests = await run(sim_target(), internet)
    assert (outcome.status, outcome.guichets) == (Status.NONE, ())


async def test_slots_beyond_the_days_looked_ahead_are_not_reported(
    api: AntsApi, internet: SimulatedInternet
) -> None:
    released = api.release("1201", 10)  # eight on the Tuesday, two on the Wednesday
    outcome, _requests = await run(sim_target(days=1), internet)
    assert [s.start for s in outcome.guichets[0].slots] == released[:8]
    assert {s.start.date() for s in outcome.guichets[0].slots} == {day_after(1)}


async def test_watched_meeting_points_absent_from_the_answer_are_none(
    api: AntsApi, internet: SimulatedInternet
) -> None:
    api.release("1201", 2)
    api.release("1203", 1)  # listed by the API, but not watched
    outcome, _requests = await run(sim_target(meeting_points=["1202", "1201"]), internet)
    assert [
        (g.id, g.label, g.status, english(g.detail), len(g.slots)) for g in outcome.guichets
    ] == [
        ("1202", "1202", Status.NONE, english(ants.NOT_LISTED), 0),
        ("1201", PARIS_10, Status.AVAILABLE, english(outcome.guichets[1].detail), 2),
    ]
    assert (outcome.status, english(outcome.detail)) == (
        Status.AVAILABLE,
        "2 free slot(s) at the 2 meeting point(s) watched",
    )
    assert set(outcome.facts) == {"meeting_point.1201"}
    booked = {s.key.partition("@")[0] for g in outcome.guichets for s in g.slots if s.booking_url}
    assert booked == {"1201"}


@pytest.mark.parametrize(
    ("behaviour", "status", "http_status", "requests", "detail"),
    [
        (
            "rate-limited",
            Status.BLOCKED,
            429,
            1,
            'HTTP 429: too many requests ("Rate limit exceeded: 30 per 1 minute")',
        ),
        ("bad-gateway", Status.OVERLOADED, 502, 3, "HTTP 502 from the site"),  # 2 retries
        (
            "changed-shape",
            Status.UNKNOWN,
            200,
            1,
            "unexpected answer shape: expected a list of meeting points, got an object",
        ),
        (
            "unauthorized",  # a token the hub no longer accepts
            Status.ERROR,
            401,
            1,
            "HTTP 401: the hub refused the target's token (X-HUB-RDV-AUTH-TOKEN) "
            '("X-HUB-RDV-AUTH-TOKEN header invalid")',
        ),
    ],
)
async def test_each_failure_behaviour_has_its_status(
    api: AntsApi,
    internet: SimulatedInternet,
    behaviour: str,
    status: Status,
    http_status: int,
    requests: int,
    detail: str,
) -> None:
    api.release("1201", 3)
    api.set_behaviour(behaviour)
    outcome, sent = await run(sim_target(), internet)
    assert outcome.last_page is not None
    assert (outcome.status, outcome.last_page.status, sent, len(api.log)) == (
        status,
        http_status,
        requests,
        requests,
    )
    assert (outcome.guichets, english(outcome.detail)) == ((), detail)


async def test_a_rate_limited_answer_says_when_to_come_back(
    api: AntsApi, internet: SimulatedInternet
) -> None:
    api.set_behaviour("rate-limited")
    outcome, _requests = await run(sim_target(), internet)
    assert outcome.last_page is not None
    assert outcome.last_page.header("retry-after") == "60"


# --- the simulator itself -------------------------------------------------------------------------


def ask(api: AntsApi, query: str, token: str | None = SIMULATOR_TOKEN) -> tuple[int, Any]:
    headers = {"x-hub-rdv-auth-token": token} if token is not None else {}
    response = api.handle(Request("GET", "/api/SlotsFromPosition", query, headers=headers))
    return response.status, json.loads(response.body)


FULL_QUERY = (
    f"longitude=2.3522&latitude=48.8566&start_date={TODAY}&end_date={day_after(29)}"
    "&radius_km=10&reason=CNI&documents_number=1"
)


@pytest.mark.parametrize("token", [None, "", "someone-else-s"])
def test_the_simulator_answers_only_with_its_token_as_the_hub_does(
    api: AntsApi, token: str | None
) -> None:
    assert ask(api, FULL_QUERY, token) == (401, {"detail": "X-HUB-RDV-AUTH-TOKEN header invalid"})
    assert (
        AntsApi(tokens=("mine",))
        .handle(
            Request(
                "GET",
                "/api/SlotsFromPosition",
                FULL_QUERY,
                headers={"x-hub-rdv-auth-token": "mine"},
            )
        )
        .status
        == 200
    )


def missing(name: str) -> dict[str, Any]:
    return {"loc": ["query", name], "msg": "field required", "type": "value_error.missing"}


def test_the_simulator_validates_the_query_as_fastapi_does(api: AntsApi) -> None:
    assert ask(api, "longitude=2.35&latitude=abc&reason=CNI") == (
        422,
        {
            "detail": [
                missing("start_date"),
                missing("end_date"),
                {
                    "loc": ["query", "latitude"],
                    "msg": "value is not a valid float",
                    "type": "type_error.float",
                },
            ]
        },
    )
    assert ask(api, FULL_QUERY.replace("radius_km=10", "radius_km=12")) == (
        403,
        {"detail": "radius_km value not allowed"},
    )
    # radius_km defaults to 40, which the hub then refuses.
    assert ask(api, FULL_QUERY.replace("&radius_km=10", ""))[0] == 403
    # An unknown reason goes to the mairies' software, which refuses it: no meeting point.
    api.release("1201", 1)
    assert ask(api, FULL_QUERY.replace("reason=CNI", "reason=VISA")) == (200, [])
    assert len(api.violations) == 4


def test_the_simulator_lists_only_points_with_slots_in_the_window(api: AntsApi) -> None:
    api.release("1201", 1)
    api.release("1202", 1)
    status, points = ask(api, FULL_QUERY)
    assert status == 200
    assert [(p["id"], p["distance_km"], len(p["available_slots"])) for p in points] == [
        ("1201", 1.73, 1),
        ("1202", 6.68, 1),
    ]
    assert points[0]["available_slots"][0]["datetime"] == f"{day_after(1)}T09:00:00+00:00"
    assert api.log[-1].params["reason"] == "CNI"


def test_the_simulator_keeps_the_api_s_own_limit() -> None:
    now = [0.0]
    api = AntsApi(clock=lambda: now[0], today=lambda: TODAY)
    assert ask(api, FULL_QUERY, token=None)[0] == 401  # refused before the limit counts it
    statuses = [ask(api, FULL_QUERY)[0] for _ in range(31)]
    assert statuses == [200] * 30 + [429]
    assert api.violations[1:] == ["more than 30 requests in a minute"]
    now[0] = 61.0
    assert ask(api, FULL_QUERY)[0] == 200


def test_the_simulator_knows_its_behaviours(api: AntsApi) -> None:
    with pytest.raises(ValueError, match="unknown behaviour"):
        api.set_behaviour("teapot")


def test_guichets_of_reports_only_what_was_asked() -> None:
    reading = ants.parse_page(served("slots-3-points.json"))
    picked = ants.guichets_of(reading, ["1203"])
    assert picked == (
        GuichetResult(
            "1203",
            VERSAILLES,
            Status.AVAILABLE,
            tuple(s for s in reading.slots if s.guichet_id == "1203"),
            reading.choices[2].about,
        ),
    )
    assert english(picked[0].detail) == reading.facts["meeting_point.1203"]
