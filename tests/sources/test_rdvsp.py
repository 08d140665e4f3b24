"""RDV Service Public: what saved pages give beyond their reading (each page's whole reading is
in its `.expected.json`, tests/sources/test_fixtures.py), the target's checks, random pages that
never read as "none" without the site's sentence, and whole checks against the simulated site
(in process, through the simulated transport), which creneau never asks for a booking page."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import FIXTURES, english
from creneau.fetch.client import PoliteClient
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import Status
from creneau.sources import rdvsp
from creneau.sources.common import visible_text
from creneau.sources.rdvsp.simulator import NO_SLOT_SENTENCE, PHONE_MOTIF, RdvspSite
from creneau.sources.reading import FlowOutcome, Reading
from harness.transport import SimulatedInternet

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

SAVED_PAGES = sorted(path.name for path in PAGES.glob("*.html"))


def test_every_saved_page_has_its_provenance() -> None:
    sources = (PAGES / "SOURCES.md").read_text(encoding="utf-8")
    assert [name for name in SAVED_PAGES if f"`{name}`" not in sources] == []


def test_a_referent_not_assigned_to_the_user_is_not_a_no_slot_answer() -> None:
    """The other follow-up sentence of _nothing_to_show says who, not whether: unknown."""
    page = (PAGES / "no-slot-referent.html").read_text(encoding="utf-8")
    said = (
        "L'agent avec qui vous voulez prendre rendez-vous ne vous est pas assigné comme référent."
    )
    replaced = re.sub(r"Votre référent n'a pas de créneaux disponibles\.[^<]*", said, page)
    reading = rdvsp.parse_page(Page("https://rdv.anct.gouv.fr/prendre_rdv", 200, replaced.encode()))
    assert (said in replaced, reading.status) == (True, Status.UNKNOWN)


def test_a_week_whose_days_are_all_open_and_empty_is_still_unknown() -> None:
    """ "Date fermée à la reservation" decides, not the mere absence of slots."""
    page = (PAGES / "week-closed-to-booking.html").read_text(encoding="utf-8")
    opened = page.replace("Date fermée à la reservation", "Pas de créneau disponible")
    reading = rdvsp.parse_page(Page("https://rdv.anct.gouv.fr/prendre_rdv", 200, opened.encode()))
    assert (reading.kind, reading.status) == ("unknown", Status.UNKNOWN)


@pytest.mark.parametrize("name", SAVED_PAGES)
def test_each_reading_names_the_rule_that_decided(name: str) -> None:
    rule = parse(name).rule
    assert rule.removeprefix("common.") in vars(rdvsp) or rule == "common.read_failure"


def test_each_slot_says_which_link_it_was_read_from() -> None:
    reading = parse("slots-dsfr-2-days.html")
    assert reading.read_from == (
        'a[href*="starts_at=2026-12-01+09%3A00%3A00+%2B0100"]',
        'a[href*="starts_at=2026-12-01+09%3A50%3A00+%2B0100"]',
        'a[href*="starts_at=2026-12-03+14%3A40%3A00+%2B0100"]',
    )


def test_the_count_step_gives_the_form_to_send_back() -> None:
    reading = parse("ants-count.html")
    assert reading.fields == (
        ("@action", "/prendre_rdv"),
        ("public_link_organisation_id", "31"),
        ("departement", "92"),
        ("motif_name_with_location_type", "Passeport-public_office"),
        ("service_id", "7"),
    )
    assert english(reading.detail) == (
        "the site asks how many ANTS pre-applications (ants_pre_demandes_count) to search for"
    )
    page = "https://rdv.anct.gouv.fr/prendre_rdv?public_link_organisation_id=31"
    assert rdvsp.ants_count_url(page, reading, 2) == (
        "https://rdv.anct.gouv.fr/prendre_rdv?public_link_organisation_id=31&departement=92"
        "&motif_name_with_location_type=Passeport-public_office&service_id=7"
        "&ants_pre_demandes_count=2"
    )


def test_a_refused_count_says_what_the_site_accepts() -> None:
    reading = parse("ants-count-refused.html")
    assert english(reading.detail) == (
        "the site refused the number of ANTS pre-applications (ants_pre_demandes_count): "
        "it accepts 1 to 6"
    )
    # The refused value, a hidden field too, is not sent back.
    assert "ants_pre_demandes_count" not in dict(reading.fields)


BANNERS = [
    '<div class="fr-notice"><p>Opération de maintenance prévue ce soir.</p></div>',
    "<p>Service momentanément surchargé : trop de demandes.</p>",
    "<p>La prise de rendez-vous est temporairement suspendue.</p>",
]


@pytest.mark.parametrize("banner", BANNERS)
@pytest.mark.parametrize("status", [200, 503])
def test_slots_seen_win_over_a_banner(banner: str, status: int) -> None:
    saved = (PAGES / "slots-3-free.html").read_text(encoding="utf-8")
    body = saved.replace("<main", f"{banner}<main", 1).encode("utf-8")
    reading = rdvsp.parse_page(Page(SITE_URL, status, body))
    assert (reading.kind, reading.status, len(reading.slots)) == ("creneaux", Status.AVAILABLE, 3)
    # Without slots, the banner decides.
    empty = (PAGES / "next-availability.html").read_text(encoding="utf-8")
    reading = rdvsp.parse_page(
        Page(SITE_URL, 200, empty.replace("<main", f"{banner}<main", 1).encode())
    )
    assert reading.status in (Status.CLOSED, Status.OVERLOADED)


def test_a_refusal_status_decides_even_with_slots() -> None:
    saved = (PAGES / "slots-3-free.html").read_bytes()
    reading = rdvsp.parse_page(Page(SITE_URL, 429, saved))
    assert (reading.kind, reading.status, reading.slots) == ("rate-limited", Status.BLOCKED, ())


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
    assert (
        english(reading.detail)
        == "2 slots in the week shown (1 more links without a readable time)"
    )
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


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ants_pre_demandes_count": 0}, "greater than or equal to 1"),
        ({"ants_pre_demandes_count": 7}, "less than or equal to 6"),
        (
            {"url": f"{SITE_URL}&ants_pre_demandes_count=2", "ants_pre_demandes_count": 3},
            "the url already says ants_pre_demandes_count=2: drop one of the two",
        ),
        ({"organisations": ["Lens"]}, "organisation ids are numbers"),
        (
            {"url": f"{SITE_URL}&user_selected_organisation_id=56", "organisations": ["57"]},
            "the url already picks user_selected_organisation_id=56",
        ),
    ],
)
def test_count_and_organisation_mistakes_are_explained(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        rdvsp.Target(name="t", **({"url": SITE_URL} | fields))
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("url", "setting", "count"),
    [
        (SITE_URL, None, 1),  # the site's own default
        (f"{SITE_URL}&ants_pre_demandes_count=4", None, 4),
        (SITE_URL, 2, 2),
        (f"{SITE_URL}&ants_pre_demandes_count=2", 2, 2),
    ],
)
def test_the_count_searched_for(url: str, setting: int | None, count: int) -> None:
    target = rdvsp.Target(name="t", url=url, ants_pre_demandes_count=setting)
    assert rdvsp.ants_count(target) == count


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
    '<form action="/prendre_rdv" method="get"><input type="hidden" name="departement" value="9">',
    '<input type="text" name="ants_pre_demandes_count" value="1">',
    "</form>",
    "Veuillez choisir un nombre de pré-demandes entre 1 et 6",
    '<li class="fr-card"><div class="fr-card__title"><a href="/prendre_rdv?'
    'user_selected_organisation_id=5&amp;date=2026-12-01+09%3A00%3A00+%2B0100">Mairie</a></div>',
    '<li class="list-group-item">Lieu :&nbsp;Mairie (1 rue)</li>',
    "<p>",
    "<a href=",
]
INTERMEDIATE_KINDS = set(rdvsp.INTERMEDIATE_KINDS)


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


# --- whole checks against the simulated site, in process -----------------------------------

ROOT = "http://127.0.0.1"


def later(days: int) -> date:
    """A day relative to the simulator's own today (a Monday)."""
    return TODAY + timedelta(days=days)


@pytest.fixture
def site() -> RdvspSite:
    return RdvspSite(today=lambda: TODAY)


@pytest.fixture
def internet(site: RdvspSite) -> SimulatedInternet:
    return SimulatedInternet({"127.0.0.1": site})


@pytest.fixture(autouse=True)
def _never_books(site: RdvspSite) -> object:
    yield
    assert site.violations == []  # no booking page was ever requested


def target(site: RdvspSite, **fields: object) -> rdvsp.Target:
    params: dict[str, str | None] = fields.pop("params", {})  # type: ignore[assignment]
    return rdvsp.Target(name="mairies", url=site.search_url(ROOT, **params), **fields)


async def check(target: rdvsp.Target, internet: SimulatedInternet) -> FlowOutcome:
    client = PoliteClient(
        "t@example.org", lambda host: HostBudget(6000, 60), retry_backoff=0.01, transport=internet
    )
    async with client.session(target.name, target.url) as session:
        return await rdvsp.check(target, session)


def rows_of(starts: list[datetime], lieu: str, name: str) -> list[tuple[str, str, str, str]]:
    return [row(lieu, name, start.isoformat()) for start in starts]


def queries(site: RdvspSite) -> list[dict[str, list[str]]]:
    return [parse_qs(logged.query) for logged in site.log]


async def test_released_slots_are_found_exactly_at_their_place(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    released = site.release(ISSY, 3)
    outcome = await check(target(site), internet)
    assert outcome.status is Status.AVAILABLE
    assert [(g.id, g.label, g.status) for g in outcome.guichets] == [
        (ISSY, ISSY_NAME, Status.AVAILABLE)
    ]
    assert slot_rows(outcome) == rows_of(released, ISSY, ISSY_NAME)
    tuesday = later(1).isoformat()
    assert [start.isoformat() for start in released] == [
        f"{tuesday}T09:00:00+01:00",
        f"{tuesday}T09:20:00+01:00",
        f"{tuesday}T09:40:00+01:00",
    ]
    # The search, then the place's week through the site's own link (with its date).
    assert [logged.path for logged in site.log] == ["/prendre_rdv", "/prendre_rdv"]
    assert queries(site)[1]["lieu_id"] == [ISSY]
    assert queries(site)[1]["date"] == [f"{tuesday} 09:00:00 +0100"]
    assert outcome.facts == {}  # the URL carried the count: no count step


async def test_a_passport_url_without_the_count_goes_through_the_count_step(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    released = site.release(VANVES, 2)
    outcome = await check(target(site, params={"ants_pre_demandes_count": None}), internet)
    assert slot_rows(outcome) == rows_of(released, VANVES, "Mairie de Vanves")
    first, count, week = queries(site)
    assert "ants_pre_demandes_count" not in first
    # The form sent back as a browser would: its hidden fields, and the count (1 by default).
    assert count == {
        "public_link_organisation_id": ["31"],
        "departement": ["92"],
        "motif_name_with_location_type": ["Demande de passeport-public_office"],
        "service_id": ["7"],
        "ants_pre_demandes_count": ["1"],
    }
    assert week["ants_pre_demandes_count"] == ["1"]
    assert english(outcome.detail) == "2 slots in the week shown (ants_pre_demandes_count=1)"
    assert outcome.facts == {"ants_pre_demandes_count": "1"}


async def test_the_count_configured_is_the_count_searched_for(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    site.release(ISSY, 1)
    pinned = target(site, params={"ants_pre_demandes_count": None}, ants_pre_demandes_count=3)
    outcome = await check(pinned, internet)
    assert outcome.status is Status.AVAILABLE
    assert [q.get("ants_pre_demandes_count") for q in queries(site)] == [None, ["3"], ["3"]]


async def test_a_count_the_site_refuses_is_unknown_with_what_it_accepts(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    site.release(ISSY, 1)
    outcome = await check(target(site, params={"ants_pre_demandes_count": "9"}), internet)
    assert (outcome.status, outcome.guichets) == (Status.UNKNOWN, ())
    assert english(outcome.detail) == (
        "the site refused the number of ANTS pre-applications (ants_pre_demandes_count): "
        "it accepts 1 to 6 (ants_pre_demandes_count=9)"
    )
    assert len(site.log) == 1  # a refused count is not sent again


async def test_places_beyond_max_lieux_report_only_their_next_availability(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    issy = site.release(ISSY, 2)
    vanves = site.release(VANVES, 1, first_day=later(7))
    malakoff = site.release(MALAKOFF, 4, first_day=later(9))
    outcome = await check(target(site, max_lieux=2), internet)
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
    assert english(outcome.guichets[2].detail) == (
        "week not read: max_lieux = 2; only its next availability is known"
    )
    assert len(site.log) == 3  # the search and two weeks


async def test_only_the_configured_places_are_read(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    issy = site.release(ISSY, 2)
    site.release(VANVES, 2)
    outcome = await check(target(site, lieux=[ISSY, "999"]), internet)
    assert [(g.id, g.status) for g in outcome.guichets] == [
        (ISSY, Status.AVAILABLE),
        ("999", Status.NONE),
    ]
    assert english(outcome.guichets[1].detail) == (
        "not listed: the site lists only places with an availability (listed: 412, 413)"
    )
    assert slot_rows(outcome) == rows_of(issy, ISSY, ISSY_NAME)
    assert outcome.status is Status.AVAILABLE
    assert [q.get("lieu_id") for q in queries(site)] == [None, [ISSY]]


async def test_a_configured_place_without_availability_is_none(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    site.release(ISSY, 2)
    outcome = await check(target(site, lieux=[VANVES]), internet)
    assert [(g.id, g.status) for g in outcome.guichets] == [(VANVES, Status.NONE)]
    assert outcome.status is Status.NONE
    assert len(site.log) == 1


async def test_no_slot_anywhere_is_none_in_one_request(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    outcome = await check(target(site), internet)
    assert (outcome.status, outcome.guichets) == (Status.NONE, ())
    assert english(outcome.detail) == "the site says no slot matches the search"
    assert len(site.log) == 1


async def test_slots_released_then_taken_are_none(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    site.release(MALAKOFF, 2)
    site.take(MALAKOFF)
    outcome = await check(target(site), internet)
    assert outcome.status is Status.NONE


async def test_a_pinned_place_follows_the_link_to_its_next_availability(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    coming = site.release(VANVES, 2, first_day=later(14))
    pinned = target(
        site, params={"lieu_id": VANVES, "date": later(-22).isoformat(), "autofocus": "last"}
    )
    outcome = await check(pinned, internet)
    assert outcome.status is Status.AVAILABLE
    # Named as the week page names it: the recap's "Lieu : <full name>".
    full_name = "Mairie de Vanves (23 Rue Mary Besseyre, 92170 Vanves)"
    assert slot_rows(outcome) == rows_of(coming, VANVES, full_name)
    first, second = queries(site)
    assert "date" not in first
    assert "autofocus" not in first
    assert second["date"] == [f"{later(14)} 09:00:00 +0100"]
    assert second["autofocus"] == ["first"]


async def test_a_pinned_place_without_slot_is_none(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    site.release(ISSY, 5)
    outcome = await check(target(site, params={"lieu_id": VANVES}), internet)
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
    site: RdvspSite,
    internet: SimulatedInternet,
    behaviour: str,
    status: Status,
    http_status: int,
) -> None:
    site.release(ISSY, 3)
    site.set_behaviour(behaviour)
    outcome = await check(target(site), internet)
    assert (outcome.status, outcome.guichets) == (status, ())
    assert outcome.last_page is not None
    assert outcome.last_page.status == http_status


async def test_a_refusal_on_one_place_stops_the_reading(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    site.release(ISSY, 1)
    vanves = site.release(VANVES, 1, first_day=later(7))
    site.release(MALAKOFF, 1, first_day=later(8))
    site.set_behaviour("forbidden", ISSY)
    outcome = await check(target(site), internet)
    assert [(g.id, g.status) for g in outcome.guichets] == [
        (ISSY, Status.BLOCKED),
        (VANVES, Status.AVAILABLE),
        (MALAKOFF, Status.AVAILABLE),
    ]
    assert outcome.guichets[1].slots[0].start == vanves[0]
    assert english(outcome.guichets[1].detail).startswith(
        "week not read: the site refused or failed"
    )
    assert len(site.log) == 2  # nothing after the 403


async def test_a_changed_week_page_is_unknown_not_none(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    site.release(ISSY, 2)
    site.set_behaviour("changed", ISSY)
    outcome = await check(target(site), internet)
    assert [(g.id, g.status) for g in outcome.guichets] == [(ISSY, Status.UNKNOWN)]
    assert outcome.status is Status.UNKNOWN


async def test_a_url_without_motif_says_which_to_add(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    url = f"{ROOT}/prendre_rdv?public_link_organisation_id=31&departement=92"
    outcome = await check(rdvsp.Target(name="t", url=url), internet)
    assert outcome.status is Status.UNKNOWN
    assert english(outcome.detail) == (
        "the URL stops at the choice of a motif: add motif_name_with_location_type= one of "
        f'"Demande de passeport-public_office", "{PHONE_MOTIF}"'
    )


async def test_a_search_without_the_mairie_s_public_link_says_how_to_copy_it(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    site.release(ISSY, 2)
    outcome = await check(target(site, params={"public_link_organisation_id": None}), internet)
    assert (outcome.status, outcome.guichets) == (Status.UNKNOWN, ())
    assert english(outcome.detail) == (
        "the site sent the search to / instead of showing it: on rdv.anct.gouv.fr a search "
        "starts from the mairie's public link (/org/…); copy the address with "
        "public_link_organisation_id=… once the motif is chosen"
    )
    assert [(hit.path, hit.status) for hit in internet.hits] == [
        ("/robots.txt", 404),
        ("/prendre_rdv", 302),
        ("/", 404),
    ]


# --- motifs without a place: organisations --------------------------------------------------


@pytest.fixture
def solidarites() -> RdvspSite:
    """A domain that searches by address (RDV Solidarités): no public link needed, and a
    motif without a place lists organisations."""
    return RdvspSite(today=lambda: TODAY, requires_public_link=False)


def by_phone(site: RdvspSite, **fields: object) -> rdvsp.Target:
    params = dict.fromkeys(("public_link_organisation_id", "ants_pre_demandes_count"))
    url = site.search_url(ROOT, motif_name_with_location_type=PHONE_MOTIF, **params)
    return rdvsp.Target(name="telephone", url=url, **fields)


async def test_each_organisation_listed_is_a_guichet_with_its_week(
    solidarites: RdvspSite,
) -> None:
    issy = solidarites.release("31", 2)
    vanves = solidarites.release("32", 1, first_day=later(3))
    internet = SimulatedInternet({"127.0.0.1": solidarites})
    outcome = await check(by_phone(solidarites), internet)
    assert [(g.id, g.label, g.status) for g in outcome.guichets] == [
        ("31", "Ville d'Issy-les-Moulineaux", Status.AVAILABLE),
        ("32", "Ville de Vanves", Status.AVAILABLE),
    ]
    assert slot_rows(outcome) == [
        *rows_of(issy, "31", "Ville d'Issy-les-Moulineaux"),
        *rows_of(vanves, "32", "Ville de Vanves"),
    ]
    first, *weeks = queries(solidarites)
    assert "user_selected_organisation_id" not in first
    assert [week["user_selected_organisation_id"] for week in weeks] == [["31"], ["32"]]
    assert solidarites.violations == []


async def test_only_the_configured_organisations_are_read(solidarites: RdvspSite) -> None:
    vanves = solidarites.release("32", 2)
    internet = SimulatedInternet({"127.0.0.1": solidarites})
    outcome = await check(by_phone(solidarites, organisations=["32", "99"]), internet)
    assert [(g.id, g.status, english(g.detail)) for g in outcome.guichets] == [
        ("32", Status.AVAILABLE, "2 slots in the week shown"),
        (
            "99",
            Status.NONE,
            "not listed: the site lists only organisations with an availability (listed: 32)",
        ),
    ]
    assert slot_rows(outcome) == rows_of(vanves, "32", "Ville de Vanves")
    assert len(solidarites.log) == 2


async def test_a_phone_motif_from_the_public_link_reads_that_organisation_s_week(
    site: RdvspSite, internet: SimulatedInternet
) -> None:
    issy = site.release("31", 3)
    url = site.search_url(
        ROOT, motif_name_with_location_type=PHONE_MOTIF, ants_pre_demandes_count=None
    )
    outcome = await check(rdvsp.Target(name="t", url=url), internet)
    assert slot_rows(outcome) == rows_of(issy, "31", "Ville d'Issy-les-Moulineaux")
    assert len(site.log) == 1


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
    assert english(outcome.detail) == (
        "the site announces a next availability but shows no slot in its week; "
        "only its next availability is known"
    )


async def test_a_count_step_that_comes_back_is_unknown_and_says_what_to_set() -> None:
    session = SavedPages("ants-count.html")
    outcome = await rdvsp.check(rdvsp.Target(name="t", url=SITE_URL), session)  # type: ignore[arg-type]
    assert len(session.urls) == 2  # the form is sent once, never in a loop
    assert session.urls[1].endswith("&ants_pre_demandes_count=1")
    assert (outcome.status, english(outcome.detail)) == (
        Status.UNKNOWN,
        "the site still asks for the number of ANTS pre-applications after "
        "ants_pre_demandes_count=1: it accepts 1 to 6 (set ants_pre_demandes_count in the "
        "target) (ants_pre_demandes_count=1)",
    )


def test_the_simulated_site_serves_only_its_own_paths(site: RdvspSite) -> None:
    assert site.handles("/prendre_rdv")
    assert site.handles("/users/rdv_wizard_step/new")
    assert not site.handles("/booking/create/1")
    assert not site.handles("/robots.txt")
    assert not site.handles("/")
