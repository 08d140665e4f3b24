"""RDV Service Public: every saved page parsed exactly, the target's checks, random pages that
never read as "none" without the site's sentence, and whole checks against the simulated site
(on 127.0.0.1 only), which creneau never asks for a booking page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import FIXTURES
from creneau.http import HostBudget, PoliteClient
from creneau.page import Page
from creneau.results import Status
from creneau.simulator.rdvsp import NO_SLOT_SENTENCE, RdvspSite
from creneau.simulator.server import SimulatorServer
from creneau.sources import Choice, FlowOutcome, Reading, rdvsp
from creneau.sources.common import visible_text

PAGES = FIXTURES / "rdvsp"
STATUS_IN_NAME = re.compile(r"-(\d{3})\.html$")
SITE_URL = "https://rdv.anct.gouv.fr/prendre_rdv?departement=92&motif_name_with_location_type=X"
TODAY = date(2026, 11, 23)  # a Monday: the simulated site's weeks are fixed
ISSY, VANVES, MALAKOFF = "412", "413", "415"
ISSY_NAME = "Mairie d'Issy-les-Moulineaux"


def parse(name: str, status: int | None = None) -> Reading:
    """A saved page, served with the HTTP status its name ends with (200 otherwise)."""
    saved = Page.from_file(PAGES / name)
    found = STATUS_IN_NAME.search(name)
    served = status or (int(found.group(1)) if found else 200)
    return rdvsp.parse_page(Page(saved.url, served, saved.body, saved.headers))


def slot_rows(reading: Reading | FlowOutcome) -> list[tuple[str, str, str, str]]:
    slots = (
        reading.slots
        if isinstance(reading, Reading)
        else [slot for guichet in reading.guichets for slot in guichet.slots]
    )
    return [(s.guichet_id, s.guichet, s.start.isoformat(), s.key) for s in slots]


def row(lieu: str, name: str, iso: str) -> tuple[str, str, str, str]:
    return (lieu, name, iso, f"{lieu}@{iso}")


# --- saved pages ---------------------------------------------------------------------------

PLACES = (
    Choice(ISSY, ISSY_NAME),
    Choice(VANVES, "Mairie de Vanves"),
    Choice(MALAKOFF, "Mairie de Malakoff"),
)
EXPECTED: dict[str, tuple[str, Status | None, tuple[Choice, ...], list[tuple[str, ...]]]] = {
    "search-places.html": ("lieu-selection", None, PLACES, []),
    "slots-3-free.html": (
        "creneaux",
        Status.AVAILABLE,
        (Choice(ISSY, ISSY_NAME),),
        [
            row(ISSY, ISSY_NAME, "2026-12-01T09:00:00+01:00"),
            row(ISSY, ISSY_NAME, "2026-12-01T09:20:00+01:00"),
            row(ISSY, ISSY_NAME, "2026-12-03T14:40:00+01:00"),
        ],
    ),
    "slots-dst-2-free.html": (
        "creneaux",
        Status.AVAILABLE,
        (Choice(VANVES, "Mairie de Vanves"),),
        [
            row(VANVES, "Mairie de Vanves", "2026-10-23T08:30:00+02:00"),  # summer time
            row(VANVES, "Mairie de Vanves", "2026-10-26T09:00:00+01:00"),  # clocks went back
        ],
    ),
    "next-availability.html": ("next-availability", None, (Choice(ISSY, ISSY_NAME),), []),
    "no-slot.html": ("no-slot", Status.NONE, (), []),
    "no-slot-invitation.html": ("no-slot", Status.NONE, (), []),
    "motif-choice.html": (
        "motif-selection",
        None,
        (
            Choice("Demande de passeport-public_office", "Demande de passeport"),
            Choice("Demande de carte d'identité-public_office", "Demande de carte d'identité"),
            Choice("Retrait de titre-public_office", "Retrait de titre"),
        ),
        [],
    ),
    "maintenance.html": ("maintenance", Status.CLOSED, (), []),
    "forbidden-403.html": ("forbidden", Status.BLOCKED, (), []),
    "rate-limited-429.html": ("rate-limited", Status.BLOCKED, (), []),
    "overloaded-502.html": ("server-error", Status.OVERLOADED, (), []),
    "server-error-500.html": ("server-error", Status.OVERLOADED, (), []),
    "not-found-404.html": ("not-found", Status.ERROR, (), []),
    "changed-layout.html": ("unknown", Status.UNKNOWN, (), []),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_saved_page_is_read_exactly(name: str) -> None:
    kind, status, choices, slots = EXPECTED[name]
    reading = parse(name)
    assert (reading.kind, reading.status, reading.choices) == (kind, status, choices)
    assert slot_rows(reading) == slots


def test_every_saved_page_is_covered() -> None:
    assert {path.name for path in PAGES.iterdir()} == set(EXPECTED)


def test_place_list_gives_each_place_its_link_and_next_availability() -> None:
    reading = parse("search-places.html")
    motif = "motif_name_with_location_type=Demande+de+passeport-public_office&service_id=7"
    assert reading.fields == (
        (
            ISSY,
            f"/prendre_rdv?date=2026-12-01+09%3A00%3A00+%2B0100&departement=92&lieu_id=412&{motif}",
        ),
        (
            VANVES,
            f"/prendre_rdv?date=2026-12-03+14%3A40%3A00+%2B0100&departement=92&lieu_id=413&{motif}",
        ),
        (
            MALAKOFF,
            f"/prendre_rdv?date=2026-12-08+10%3A20%3A00+%2B0100&departement=92&lieu_id=415&{motif}",
        ),
    )
    assert reading.facts == {
        "next_availability:412": "2026-12-01T09:00:00+01:00",
        "next_availability:413": "2026-12-03T14:40:00+01:00",
        "next_availability:415": "2026-12-08T10:20:00+01:00",
    }


def test_an_empty_week_links_to_the_next_availability() -> None:
    reading = parse("next-availability.html")
    assert reading.fields == (
        (
            "next",
            "/prendre_rdv?autofocus=first&date=2026-12-01+09%3A00%3A00+%2B0100&departement=92"
            "&lieu_id=412&motif_name_with_location_type=Demande+de+passeport-public_office"
            "&service_id=7",
        ),
    )
    assert reading.facts == {"next_availability": "2026-12-01T09:00:00+01:00"}


@pytest.mark.parametrize("status", [200, 503])
def test_the_maintenance_page_is_closed_whatever_its_status(status: int) -> None:
    reading = parse("maintenance.html", status=status)
    assert (reading.kind, reading.status) == ("maintenance", Status.CLOSED)


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (403, "forbidden", Status.BLOCKED),
        (429, "rate-limited", Status.BLOCKED),
        (502, "server-error", Status.OVERLOADED),
        (404, "not-found", Status.ERROR),
    ],
)
def test_http_status_decides_when_the_page_says_nothing(
    status: int, kind: str, expected: Status
) -> None:
    reading = parse("changed-layout.html", status=status)
    assert (reading.kind, reading.status) == (kind, expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01 09:00:00 +0100", "2026-12-01T09:00:00+01:00"),
        ("2026-12-01T09:00:00+01:00", "2026-12-01T09:00:00+01:00"),
        ("2026-12-01T08:00:00Z", "2026-12-01T09:00:00+01:00"),
        ("2026-12-01 08:00:00 UTC", "2026-12-01T09:00:00+01:00"),
        ("2026-07-01 09:00", "2026-07-01T09:00:00+02:00"),  # no offset: Paris wall clock
        ("2026-12-01 09:00:00 -0500", "2026-12-01T15:00:00+01:00"),
        ("2026-13-01 09:00:00 +0100", None),
        ("2026-12-01 25:00:00 +0100", None),
        ("2026-12-01 09:00:00 +2500", None),
        ("mardi", None),
        ("", None),
    ],
)
def test_times_in_links_are_read_in_paris_time(value: str, expected: str | None) -> None:
    start = rdvsp.parse_start(value)
    assert (start.isoformat() if start else None) == expected
    assert start is None or start.tzinfo is rdvsp.SITE_ZONE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Prochaine disponibilité le mardi 01 décembre 2026 à 09h00", "2026-12-01T09:00:00+01:00"),
        ("samedi 15 août 2026 à 8h30", "2026-08-15T08:30:00+02:00"),
        ("mardi 31 février 2026 à 09h00", None),
        ("mardi 01 brumaire 2026 à 09h00", None),
    ],
)
def test_human_times_are_read(text: str, expected: str | None) -> None:
    start = rdvsp.parse_human(text)
    assert (start.isoformat() if start else None) == expected


def test_the_search_url_forgets_the_week_a_person_was_looking_at() -> None:
    url = (
        "https://rdv.anct.gouv.fr/prendre_rdv?departement=92&date=2026-12-01+09%3A00%3A00"
        "&lieu_id=412&autofocus=first&motif_name_with_location_type=A+b-public_office#top"
    )
    assert rdvsp.search_url(url) == (
        "https://rdv.anct.gouv.fr/prendre_rdv?departement=92&lieu_id=412"
        "&motif_name_with_location_type=A+b-public_office"
    )


def test_slot_links_without_a_readable_time_are_left_out_and_said() -> None:
    saved = (PAGES / "slots-3-free.html").read_text(encoding="utf-8")
    body = saved.replace("starts_at=2026-12-01+09%3A20%3A00+%2B0100", "starts_at=bientot", 1)
    reading = rdvsp.parse_page(Page(SITE_URL, 200, body.encode("utf-8")))
    assert reading.detail == "2 slots in the week shown (1 more links without a readable time)"
    assert [start for _, _, start, _ in slot_rows(reading)] == [
        "2026-12-01T09:00:00+01:00",
        "2026-12-03T14:40:00+01:00",
    ]


# --- the target ----------------------------------------------------------------------------


def test_a_search_url_with_places_is_a_valid_target() -> None:
    target = rdvsp.Target(name="issy", url=SITE_URL, lieux=["412", "413"])
    assert (target.system, target.lieux, target.max_lieux) == ("rdvsp", ["412", "413"], 6)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "https://rdv.anct.gouv.fr/lieux/412"}, "must be a search page"),
        (
            {"url": "https://rdv.anct.gouv.fr/users/rdv_wizard_step/new?starts_at=x"},
            "this is a booking link (/users/rdv_wizard_step/new)",
        ),
        ({"url": "https://rdv.anct.gouv.fr/prendre_rdv"}, "must carry the search parameters"),
        (
            {"url": SITE_URL, "lieux": ["Mairie"]},
            "lieu ids are numbers, the lieu_id=… of the links",
        ),
        (
            {"url": f"{SITE_URL}&lieu_id=412", "lieux": ["413"]},
            "the url already picks lieu_id=412",
        ),
        ({"url": SITE_URL, "max_lieux": 0}, "greater than or equal to 1"),
        ({"url": SITE_URL, "max_lieux": 21}, "less than or equal to 20"),
    ],
)
def test_target_mistakes_are_explained(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        rdvsp.Target(name="t", **fields)
    assert message in str(raised.value)


def test_a_pinned_place_may_be_repeated_in_lieux() -> None:
    target = rdvsp.Target(name="t", url=f"{SITE_URL}&lieu_id=412", lieux=["412"])
    assert target.lieux == ["412"]


# --- random pages --------------------------------------------------------------------------

FRAGMENTS = [
    '<div class="card"><h4 class="card-title">Mairie</h4><a href="/prendre_rdv?lieu_id=7&amp;'
    'date=2026-12-01+09%3A00%3A00+%2B0100">Prochaine disponibilité le <strong>mardi 01 '
    "décembre 2026 à 09h00</strong></a></div>",
    '<a href="/users/rdv_wizard_step/new?lieu_id=7&amp;starts_at=2026-12-01+09%3A00%3A00+%2B0100">'
    "09:00</a>",
    '<a href="/users/rdv_wizard_step/new?starts_at=bientot">10:00</a>',
    '<div id="creneaux-lieu-7">',
    '<div id="creneaux-lieu-">',
    "</div>",
    '<a href="/prendre_rdv?lieu_id=7&amp;date=lundi">Prochaine disponibilité le</a>',
    '<h2 class="card-title">Mairie de Vanves</h2>',
    "Sélectionnez le motif de votre RDV",
    '<a href="/prendre_rdv?motif_name_with_location_type=x"><h3 class="card-title">X</h3></a>',
    NO_SLOT_SENTENCE,
    "<script>// Malheureusement, aucun créneau correspondant à votre recherche</script>",
    "Pas de créneau disponible",
    "Aucun créneau n'est disponible",
    "RDV Service Public rencontre un problème, nous travaillons pour le résoudre",
    "Saisissez les caractères",
    "<p>",
    "<a href=",
]
INTERMEDIATE_KINDS = {"lieu-selection", "next-availability", "motif-selection"}


def says_no_slot(body: str) -> bool:
    return "aucun creneau correspondant a votre" in visible_text(body)


def assert_sound(reading: Reading, body: str) -> None:
    if reading.status is Status.NONE:
        assert says_no_slot(body), reading
    if reading.status is None:
        assert reading.kind in INTERMEDIATE_KINDS
    assert (reading.status is Status.AVAILABLE) == bool(reading.slots)
    assert all(slot.start.tzinfo is rdvsp.SITE_ZONE for slot in reading.slots)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=14),
    status=st.sampled_from([200, 200, 200, 404, 500, 503]),
)
def test_random_pages_never_read_as_none_without_the_sentence(
    parts: list[str], status: int
) -> None:
    body = "".join(parts)
    reading = rdvsp.parse_page(Page(SITE_URL, status, body.encode("utf-8")))
    assert_sound(reading, body)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=400))
def test_random_bytes_never_raise(body: bytes) -> None:
    page = Page(SITE_URL, 200, body)
    assert_sound(rdvsp.parse_page(page), page.text)


# --- whole checks against the simulated site -----------------------------------------------


@pytest.fixture
def site() -> RdvspSite:
    return RdvspSite(today=lambda: TODAY)


@pytest.fixture
def server(site: RdvspSite) -> Iterator[SimulatorServer]:
    with SimulatorServer(sites=[site]) as running:
        yield running
    assert site.violations == []  # no booking page was ever requested


def target(server: SimulatorServer, site: RdvspSite, **fields: object) -> rdvsp.Target:
    params = {k: str(v) for k, v in fields.pop("params", {}).items()}  # type: ignore[attr-defined]
    return rdvsp.Target(name="mairies", url=site.search_url(server.url, **params), **fields)


async def check(target: rdvsp.Target) -> FlowOutcome:
    client = PoliteClient("t@example.org", lambda host: HostBudget(6000, 60), retry_backoff=0.01)
    async with client.session(target.name, target.url) as session:
        return await rdvsp.check(target, session)


def rows_of(starts: list[datetime], lieu: str, name: str) -> list[tuple[str, str, str, str]]:
    return [row(lieu, name, start.isoformat()) for start in starts]


def queries(site: RdvspSite) -> list[dict[str, list[str]]]:
    return [parse_qs(logged.query) for logged in site.log]


async def test_released_slots_are_found_exactly_at_their_place(
    server: SimulatorServer, site: RdvspSite
) -> None:
    released = site.release(ISSY, 3)
    outcome = await check(target(server, site))
    assert outcome.status is Status.AVAILABLE
    assert [(g.id, g.label, g.status) for g in outcome.guichets] == [
        (ISSY, ISSY_NAME, Status.AVAILABLE)
    ]
    assert slot_rows(outcome) == rows_of(released, ISSY, ISSY_NAME)
    assert [start.isoformat() for start in released] == [
        "2026-11-24T09:00:00+01:00",
        "2026-11-24T09:20:00+01:00",
        "2026-11-24T09:40:00+01:00",
    ]
    # The search, then the place's week through the site's own link (with its date).
    assert [logged.path for logged in site.log] == ["/prendre_rdv", "/prendre_rdv"]
    assert queries(site)[1]["lieu_id"] == [ISSY]
    assert queries(site)[1]["date"] == ["2026-11-24 09:00:00 +0100"]


async def test_places_beyond_max_lieux_report_only_their_next_availability(
    server: SimulatorServer, site: RdvspSite
) -> None:
    issy = site.release(ISSY, 2)
    vanves = site.release(VANVES, 1, first_day=date(2026, 11, 30))
    malakoff = site.release(MALAKOFF, 4, first_day=date(2026, 12, 2))
    outcome = await check(target(server, site, max_lieux=2))
    assert [(g.id, g.status) for g in outcome.guichets] == [
        (ISSY, Status.AVAILABLE),
        (VANVES, Status.AVAILABLE),
        (MALAKOFF, Status.AVAILABLE),
    ]
    assert slot_rows(outcome) == [
        *rows_of(issy, ISSY, ISSY_NAME),
        *rows_of(vanves, VANVES, "Mairie de Vanves"),
        *rows_of(malakoff[:1], MALAKOFF, "Mairie de Malakoff"),
    ]
    assert outcome.guichets[2].detail == (
        "week not read: max_lieux = 2; only its next availability is known"
    )
    assert len(site.log) == 3  # the search and two weeks


async def test_only_the_configured_places_are_read(
    server: SimulatorServer, site: RdvspSite
) -> None:
    issy = site.release(ISSY, 2)
    site.release(VANVES, 2)
    outcome = await check(target(server, site, lieux=[ISSY, "999"]))
    assert [(g.id, g.status) for g in outcome.guichets] == [
        (ISSY, Status.AVAILABLE),
        ("999", Status.NONE),
    ]
    assert outcome.guichets[1].detail == (
        "not listed: the site lists only places with an availability (listed: 412, 413)"
    )
    assert slot_rows(outcome) == rows_of(issy, ISSY, ISSY_NAME)
    assert outcome.status is Status.AVAILABLE
    assert [q.get("lieu_id") for q in queries(site)] == [None, [ISSY]]


async def test_a_configured_place_without_availability_is_none(
    server: SimulatorServer, site: RdvspSite
) -> None:
    site.release(ISSY, 2)
    outcome = await check(target(server, site, lieux=[VANVES]))
    assert [(g.id, g.status) for g in outcome.guichets] == [(VANVES, Status.NONE)]
    assert outcome.status is Status.NONE
    assert len(site.log) == 1


async def test_no_slot_anywhere_is_none_in_one_request(
    server: SimulatorServer, site: RdvspSite
) -> None:
    outcome = await check(target(server, site))
    assert (outcome.status, outcome.guichets) == (Status.NONE, ())
    assert outcome.detail == "the site says no slot matches the search"
    assert len(site.log) == 1


async def test_slots_released_then_taken_are_none(server: SimulatorServer, site: RdvspSite) -> None:
    site.release(MALAKOFF, 2)
    site.take(MALAKOFF)
    outcome = await check(target(server, site))
    assert outcome.status is Status.NONE


async def test_a_pinned_place_follows_the_link_to_its_next_availability(
    server: SimulatorServer, site: RdvspSite
) -> None:
    later = site.release(VANVES, 2, first_day=date(2026, 12, 7))
    pinned = target(
        server, site, params={"lieu_id": VANVES, "date": "2026-11-01", "autofocus": "last"}
    )
    outcome = await check(pinned)
    assert outcome.status is Status.AVAILABLE
    assert slot_rows(outcome) == rows_of(later, VANVES, "Mairie de Vanves")
    first, second = queries(site)
    assert "date" not in first
    assert "autofocus" not in first
    assert second["date"] == ["2026-12-07 09:00:00 +0100"]
    assert second["autofocus"] == ["first"]


async def test_a_pinned_place_without_slot_is_none(
    server: SimulatorServer, site: RdvspSite
) -> None:
    site.release(ISSY, 5)
    outcome = await check(target(server, site, params={"lieu_id": VANVES}))
    assert (outcome.status, outcome.guichets) == (Status.NONE, ())
    assert len(site.log) == 1


@pytest.mark.parametrize(
    ("behaviour", "status", "http_status"),
    [
        ("forbidden", Status.BLOCKED, 403),
        ("rate-limited", Status.BLOCKED, 429),
        ("overloaded", Status.OVERLOADED, 502),
        ("maintenance", Status.CLOSED, 503),
        ("changed", Status.UNKNOWN, 200),
    ],
)
async def test_each_failure_has_its_status(
    server: SimulatorServer, site: RdvspSite, behaviour: str, status: Status, http_status: int
) -> None:
    site.release(ISSY, 3)
    site.set_behaviour(behaviour)
    outcome = await check(target(server, site))
    assert (outcome.status, outcome.guichets) == (status, ())
    assert outcome.last_page is not None
    assert outcome.last_page.status == http_status


async def test_a_refusal_on_one_place_stops_the_reading(
    server: SimulatorServer, site: RdvspSite
) -> None:
    site.release(ISSY, 1)
    vanves = site.release(VANVES, 1, first_day=date(2026, 11, 30))
    site.release(MALAKOFF, 1, first_day=date(2026, 12, 1))
    site.set_behaviour("forbidden", ISSY)
    outcome = await check(target(server, site))
    assert [(g.id, g.status) for g in outcome.guichets] == [
        (ISSY, Status.BLOCKED),
        (VANVES, Status.AVAILABLE),
        (MALAKOFF, Status.AVAILABLE),
    ]
    assert outcome.guichets[1].slots[0].start == vanves[0]
    assert outcome.guichets[1].detail.startswith("week not read: the site refused or failed")
    assert len(site.log) == 2  # nothing after the 403


async def test_a_changed_week_page_is_unknown_not_none(
    server: SimulatorServer, site: RdvspSite
) -> None:
    site.release(ISSY, 2)
    site.set_behaviour("changed", ISSY)
    outcome = await check(target(server, site))
    assert [(g.id, g.status) for g in outcome.guichets] == [(ISSY, Status.UNKNOWN)]
    assert outcome.status is Status.UNKNOWN


async def test_a_url_without_motif_says_which_to_add(
    server: SimulatorServer, site: RdvspSite
) -> None:
    url = f"{server.url}/prendre_rdv?departement=92"
    outcome = await check(rdvsp.Target(name="t", url=url))
    assert outcome.status is Status.UNKNOWN
    assert outcome.detail == (
        "the URL stops at the choice of a motif: add motif_name_with_location_type= one of "
        '"Demande de passeport-public_office"'
    )


class SavedPages:
    """A session that answers every GET with the same saved page, and remembers the URLs."""

    def __init__(self, name: str) -> None:
        self.page = Page.from_file(PAGES / name)
        self.urls: list[str] = []

    async def get(self, url: str, **_: object) -> Page:
        self.urls.append(url)
        return Page(url, 200, self.page.body, self.page.headers)


async def test_an_empty_week_is_followed_once_then_its_announcement_is_reported() -> None:
    pinned = rdvsp.Target(name="t", url=f"{SITE_URL}&lieu_id=412")
    session = SavedPages("next-availability.html")
    outcome = await rdvsp.check(pinned, session)  # type: ignore[arg-type]
    assert session.urls == [
        f"{SITE_URL}&lieu_id=412",
        "https://rdv.anct.gouv.fr/prendre_rdv?autofocus=first&date=2026-12-01+09%3A00%3A00"
        "+%2B0100&departement=92&lieu_id=412&motif_name_with_location_type="
        "Demande+de+passeport-public_office&service_id=7",
    ]
    assert slot_rows(outcome) == [row(ISSY, ISSY_NAME, "2026-12-01T09:00:00+01:00")]
    assert outcome.detail == (
        "the site announces a next availability but shows no slot in its week; "
        "only its next availability is known"
    )


def test_the_simulated_site_serves_only_its_own_paths(site: RdvspSite) -> None:
    assert site.handles("/prendre_rdv")
    assert site.handles("/users/rdv_wizard_step/new")
    assert not site.handles("/booking/create/1")
    assert not site.handles("/robots.txt")
