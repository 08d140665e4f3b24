"""A booking link recognised (system and settings, offline), a name proposed, and for a page
of no known system the slot_selector / none_text candidates and what each reads. The links are
shaped like those the fixtures' SOURCES.md quote; nothing here touches the network."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import FIXTURES
from creneau import sources
from creneau.adding import links
from creneau.adding.links import Link, LinkProblem, recognise
from creneau.page import Page
from creneau.results import CheckResult, GuichetResult, Status
from creneau.sources import ants
from creneau.sources.html import proposals
from creneau.sources.reading import Choice
from creneau.targets import NAME_PATTERN

PARIS = ZoneInfo("Europe/Paris")
REFERENCE = date(2026, 11, 30)  # the day the html fixtures are read on (their SOURCES.md)
RDVSP_SEARCH = (
    "https://rdv.anct.gouv.fr/prendre_rdv?public_link_organisation_id=31&departement=92"
    "&motif_name_with_location_type=Demande+de+passeport-public_office&service_id=7"
)

RECOGNISED: list[tuple[str, str, str, dict[str, Any]]] = [
    # ezbooking: fixtures/ezbooking/SOURCES.md (the Préfecture de police's bots, 2ooom's Ain)
    (
        "https://pprdv.interieur.gouv.fr/booking/create/948/2",
        "ezbooking",
        "https://pprdv.interieur.gouv.fr/booking/create/948",
        {"desks": []},
    ),
    (
        "http://www.rdv.ain.gouv.fr/booking/create/804",
        "ezbooking",
        "http://www.rdv.ain.gouv.fr/booking/create/804",
        {"desks": []},
    ),
    (
        "  https://pprdv.interieur.gouv.fr/booking/create/989/  ",
        "ezbooking",
        "https://pprdv.interieur.gouv.fr/booking/create/989",
        {"desks": []},
    ),
    (
        "https://www.hauts-de-seine.gouv.fr/booking/create/1001/4?lang=fr#haut",
        "ezbooking",
        "https://www.hauts-de-seine.gouv.fr/booking/create/1001",
        {"desks": []},
    ),
    # rdvpref: fixtures/rdvpref/SOURCES.md (peykart's session-expired link, woob's steps)
    (
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4083/cgu/"
        "?error=errorSessionInvalide",
        "rdvpref",
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4083/",
        {},
    ),
    (
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/2200/creneau/",
        "rdvpref",
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/2200/",
        {},
    ),
    # rdvsp: the app's three hosts (fixtures/rdvsp/SOURCES.md); a pinned week is dropped
    (RDVSP_SEARCH, "rdvsp", RDVSP_SEARCH, {}),
    (
        "https://www.rdv-solidarites.fr/prendre_rdv?departement=92&lieu_id=412"
        "&motif_name_with_location_type=X-public_office&date=2026-12-01+09%3A00%3A00+%2B0100",
        "rdvsp",
        "https://www.rdv-solidarites.fr/prendre_rdv?departement=92&lieu_id=412"
        "&motif_name_with_location_type=X-public_office",
        {},
    ),
    (
        "https://www.rdv-aide-numerique.fr/prendre_rdv?departement=95&autofocus=true"
        "&motif_name_with_location_type=Accompagnement-public_office",
        "rdvsp",
        "https://www.rdv-aide-numerique.fr/prendre_rdv?departement=95"
        "&motif_name_with_location_type=Accompagnement-public_office",
        {},
    ),
    # ants: the website with a place, or the hub's API as a browser shows it
    (
        "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition?longitude=-1.553621"
        "&latitude=47.218371&start_date=2026-12-01&end_date=2027-01-30&radius_km=20"
        "&reason=passport&documents_number=2",
        "ants",
        ants.API_URL,
        {
            "latitude": 47.218371,
            "longitude": -1.553621,
            "radius_km": 20,
            "reason": "PASSPORT",
            "documents_number": 2,
            "token": "${ANTS_TOKEN}",
        },
    ),
    (
        "https://rendezvouspasseport.ants.gouv.fr/?latitude=48.85&longitude=2.35&reason=CNI",
        "ants",
        ants.API_URL,
        {"latitude": 48.85, "longitude": 2.35, "reason": "CNI", "token": "${ANTS_TOKEN}"},
    ),
    # the simulator's addresses (creneau simulate), on loopback
    (
        "http://127.0.0.1:8000/prendre_rdv?departement=92&motif_name_with_location_type=X",
        "rdvsp",
        "http://127.0.0.1:8000/prendre_rdv?departement=92&motif_name_with_location_type=X",
        {},
    ),
    (
        "http://127.0.0.1:8000/api/SlotsFromPosition?latitude=48.86&longitude=2.35&reason=CNI",
        "ants",
        "http://127.0.0.1:8000/api/SlotsFromPosition",
        {"latitude": 48.86, "longitude": 2.35, "reason": "CNI", "token": "${ANTS_TOKEN}"},
    ),
    # anything else is a page the html system reads (fixtures/html/*.expected.json's URLs)
    (
        "https://www.hauts-de-seine.gouv.fr/rendez-vous/titres-de-sejour#liste",
        "html",
        "https://www.hauts-de-seine.gouv.fr/rendez-vous/titres-de-sejour",
        {},
    ),
    (
        "https://www.consulat-france-geneve.example/rendez-vous",
        "html",
        "https://www.consulat-france-geneve.example/rendez-vous",
        {},
    ),
    ("https://rdv.example/prendre_rdv", "html", "https://rdv.example/prendre_rdv", {}),
    (
        "https://pprdv.interieur.gouv.fr/booking/create/948/5/1796112000",
        "html",
        "https://pprdv.interieur.gouv.fr/booking/create/948/5/1796112000",
        {},
    ),
]


@pytest.mark.parametrize(("given", "system", "url", "settings"), RECOGNISED)
def test_a_link_is_recognised(given: str, system: str, url: str, settings: dict[str, Any]) -> None:
    link = recognise(given)
    assert (link.system, link.url, dict(link.settings), link.missing) == (
        system,
        url,
        settings,
        (),
    )


@pytest.mark.parametrize(("given", "system", "url", "settings"), RECOGNISED)
def test_what_a_link_gives_is_a_valid_target_of_its_system(
    given: str, system: str, url: str, settings: dict[str, Any]
) -> None:
    link = recognise(given)
    fields = links.provisional_fields(link, "from-the-link", every="5m")
    target = sources.get(system).Target.model_validate(fields)
    assert (target.system, target.url, target.every.total_seconds()) == (system, url, 300)


def test_the_ants_website_without_a_place_says_what_is_missing() -> None:
    link = recognise("https://rendezvouspasseport.ants.gouv.fr/")
    assert (link.system, link.url, dict(link.settings), link.missing) == (
        "ants",
        ants.API_URL,
        {"token": "${ANTS_TOKEN}"},
        ("latitude", "longitude", "reason"),
    )
    assert links.missing_settings(link, {"latitude": 48.85, "longitude": 2.35}) == ("reason",)
    assert links.missing_line(link, ("reason",)) == (
        "https://rendezvouspasseport.ants.gouv.fr/: the ANTS hub searches around a place for a "
        "reason; the link does not say reason: give them, e.g. --set reason=PASSPORT (and the "
        'hub\'s token, token = "${ANTS_TOKEN}", from ANTS_TOKEN)'
    )


def test_a_wrong_value_in_an_ants_link_is_left_to_the_target_to_refuse() -> None:
    link = recognise(f"{ants.API_URL}?latitude=north&longitude=2.35&reason=CNI")
    assert link.settings["latitude"] == "north"
    with pytest.raises(ValidationError, match="latitude"):
        ants.Target.model_validate(links.target_fields(link, "x") | {"token": "t0ken"})


def test_an_rdvsp_booking_link_is_refused_by_the_systems_own_words() -> None:
    link = recognise("https://rdv.anct.gouv.fr/users/rdv_wizard_step/new?starts_at=2026-12-01")
    assert link.system == "rdvsp"
    with pytest.raises(ValidationError, match="this is a booking link"):
        sources.get("rdvsp").Target.model_validate(links.target_fields(link, "x"))


@pytest.mark.parametrize(
    "given",
    ["", "   ", "ftp://example.org/rdv", "not a link", "mailto:rdv@example.org", "http://"],
)
def test_what_is_not_a_web_address_is_refused_in_one_line(given: str) -> None:
    with pytest.raises(LinkProblem) as raised:
        recognise(given)
    assert str(raised.value) == (f'not a web address: expected https://… (got "{given.strip()}")')


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Remise d'un titre de séjour — Nanterre", "remise-d-un-titre-de-sejour-nanterre"),
        ("  Œuvres & Cœur  ", "oeuvres-coeur"),
        ("Préfecture de l’Allier", "prefecture-de-l-allier"),
        ("!!!", ""),
        ("a" * 99 + " b", "a" * 99),
        ("x" * 150, "x" * 100),
    ],
)
def test_slug(text: str, expected: str) -> None:
    assert links.slug(text) == expected


def test_a_name_taken_gets_the_next_number_within_the_length_limit() -> None:
    assert links.unique_name("nanterre", {"paris"}) == "nanterre"
    assert links.unique_name("nanterre", {"nanterre", "nanterre-2"}) == "nanterre-3"
    long = "n" * 100
    assert links.unique_name(long, {long}) == "n" * 98 + "-2"


def page(system: str, name: str, url: str = "https://www.example.org/rdv") -> Page:
    return Page.from_file(FIXTURES / system / name, url=url)


@pytest.mark.parametrize(
    ("system", "fixture", "expected"),
    [
        ("ezbooking", "desk-choice.html", "hauts-de-seine-remise-d-un-titre-de-sejour-nanterre"),
        ("ezbooking", "conditions.html", "hauts-de-seine-remise-d-un-titre-de-sejour-nanterre"),
        ("rdvpref", "cgu-captcha.html", "allier-remise-de-titre-de-sejour"),
        ("rdvpref", "creneau-none.html", "val-de-marne-titre-de-sejour"),
        ("rdvpref", "creneau-2-free-radios-only.html", "rhone-naturalisation"),
        ("html", "consulate-list-4-slots.html", "prendre-rendez-vous-au-consulat"),
        (
            "html",
            "prefecture-table-3-slots.html",
            "hauts-de-seine-rendez-vous-disponibles-titres-de-sejour",
        ),
        ("html", "plages-slot-selector-only.html", "remise-de-titre-de-sejour"),
        ("ants", "slots-3-points.json", ""),
    ],
)
def test_a_name_from_the_page(system: str, fixture: str, expected: str) -> None:
    assert links.name_from_pages([page(system, fixture)]) == expected


def test_an_error_page_names_nothing_and_the_next_page_does() -> None:
    refused = Page("https://x.example/", 403, b"<title>403 Forbidden</title><h1>Forbidden</h1>")
    assert links.name_from_pages([refused]) == ""
    named = page("ezbooking", "conditions.html")
    assert links.name_from_pages([refused, named]).startswith("hauts-de-seine-")


def test_the_prefecture_comes_from_its_host_when_the_page_does_not_say() -> None:
    plain = Page("https://www.rdv.ain.gouv.fr/x", 200, b"<h1>Titre de s\xc3\xa9jour</h1>")
    assert links.name_from_pages([plain]) == "ain-titre-de-sejour"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://www.rdv.ain.gouv.fr/booking/create/804", "ain-804"),
        ("http://127.0.0.1:8000/booking/create/1001", "ezbooking-1001"),
        (
            "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4083/",
            "rdvpref-4083",
        ),
        (RDVSP_SEARCH, "demande-de-passeport-92"),
        ("https://rdv.anct.gouv.fr/prendre_rdv", "rdvsp"),
        (f"{ants.API_URL}?latitude=48.85&longitude=2.35&reason=CNI", "ants-cni-48-85-2-35"),
        (
            "https://www.hauts-de-seine.gouv.fr/rendez-vous/titres-de-sejour",
            "hauts-de-seine-rendez-vous-titres-de-sejour",
        ),
        ("https://www.consulat-france-geneve.example/rdv", "consulat-france-geneve-rdv"),
        ("http://127.0.0.1:8000/", "html"),
    ],
)
def test_a_name_from_the_link_alone(given: str, expected: str) -> None:
    assert links.name_from_link(recognise(given)) == expected


def test_the_users_settings_name_an_ants_target() -> None:
    link = recognise("https://rendezvouspasseport.ants.gouv.fr/")
    named = links.name_from_link(link, {"reason": "PASSPORT", "latitude": 47.2, "longitude": -1.5})
    assert named == "ants-passport-47-2-1-5"


@pytest.mark.parametrize(
    "title",
    [
        "..",
        ".",
        ". \u200d ..",
        "P\u0430ris \u2014 Titre de s\u00e9jour",  # a Cyrillic a
        "\u0663\u0664 \u0661",  # Arabic-Indic digits only
        "\ufb01le d'attente",  # a ligature
        "-rf",
    ],
)
def test_the_name_proposed_from_any_title_is_in_the_config_s_alphabet(title: str) -> None:
    body = f"<title>{title}</title><h1>{title}</h1>".encode()
    pages = [Page("http://127.0.0.1:8000/", 200, body)]
    link = recognise("http://127.0.0.1:8000/")
    name = links.propose_name(link, pages, {"html"})
    assert re.fullmatch(NAME_PATTERN, name), name
    assert name not in (".", "..")


@given(st.text(max_size=200))
def test_any_title_gives_a_name_in_the_alphabet_or_none(title: str) -> None:
    body = f"<title>{html.escape(title)}</title>".encode()
    name = links.name_from_pages([Page("https://www.rdv.ain.gouv.fr/", 200, body)])
    assert name == "" or re.fullmatch(NAME_PATTERN, name), name


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "expected"),
    [(None, ("5m", "30s")), ("10m", ("10m", "30s")), ("2s", ("2s", "2s")), ("30s", ("30s", "30s"))],
)
def test_every_and_its_jitter(every: str | None, expected: tuple[str, str]) -> None:
    assert links.durations(every) == expected


def test_a_wrong_every_is_the_configs_own_words() -> None:
    with pytest.raises(ValueError, match=r'expected a duration such as "90s", "5m" or "1h"'):
        links.durations("5 minutes")


def test_the_fields_come_in_the_order_they_are_written() -> None:
    link = recognise(f"{ants.API_URL}?reason=CNI")
    fields = links.target_fields(
        link, "mairie", every="10m", notify=["phone"], settings={"latitude": 1.5, "longitude": 2}
    )
    assert list(fields.items()) == [
        ("name", "mairie"),
        ("system", "ants"),
        ("url", ants.API_URL),
        ("every", "10m"),
        ("jitter", "30s"),
        ("notify", ["phone"]),
        ("reason", "CNI"),
        ("latitude", 1.5),
        ("longitude", 2),
        ("token", "${ANTS_TOKEN}"),
    ]


def test_an_html_target_is_checked_first_with_the_common_no_slot_phrases() -> None:
    link = recognise("https://www.example.org/rdv")
    assert links.provisional_fields(link, "x")["none_text"] == list(proposals.NONE_PHRASES)
    mine = links.provisional_fields(link, "x", settings={"slot_selector": "li"})
    assert "none_text" not in mine


# --- html: candidates --------------------------------------------------------------------------


def options(fixture: str) -> list[tuple[dict[str, Any], str, int, list[str]]]:
    read = page("html", fixture)
    found = proposals.html_options(read, REFERENCE, read.url, proposals.phrases_on_page(read))
    return [
        (
            option.settings,
            option.reading.status.value if option.reading.status else "",
            len(option.reading.slots),
            links.first_times(option.reading, PARIS),
        )
        for option in found
    ]


def test_a_table_of_rows_proposes_the_rows_then_the_time_cells() -> None:
    assert options("prefecture-table-3-slots.html") == [
        (
            {"slot_selector": "table.rdv-disponibles tbody tr"},
            "available",
            3,
            ["Fri 23/10 14:15", "Tue 27/10 09:00", "Tue 01/12 09:30"],
        ),
        (
            {"slot_selector": "td.horaire"},
            "available",
            3,
            ["Fri 23/10 14:15", "Tue 27/10 09:00", "Tue 01/12 09:30"],
        ),
    ]


def test_lists_under_headings_propose_the_items_not_the_lists_and_the_phrase() -> None:
    phrase = ["aucun créneau disponible"]
    assert options("consulate-list-4-slots.html") == [
        (
            {"slot_selector": "ul.creneaux li", "none_text": phrase},
            "available",
            4,
            ["Fri 26/03 09:30", "Mon 29/03 08:45", "Tue 30/03 14:00"],
        ),
        ({"none_text": phrase}, "none", 0, []),
    ]


def test_a_list_of_links_proposes_the_items_with_all_their_classes_first() -> None:
    times = ["Tue 08/12 09:30", "Tue 08/12 10:15", "Thu 07/01 14:00"]
    assert options("plages-slot-selector-only.html") == [
        ({"slot_selector": "li.plage.libre"}, "available", 3, times),
        ({"slot_selector": "li.plage.libre a"}, "available", 3, times),
    ]


def test_buttons_whose_day_is_in_their_aria_label_are_proposed() -> None:
    assert options("week-grid-aria-labels.html") == [
        (
            {
                "slot_selector": "a.fr-col-12.fr-btn.fr-btn--tertiary.fr-mb-1w"
                ".rdv-justify-content-center",
                "none_text": ["pas de créneau disponible"],
            },
            "available",
            3,
            ["Tue 08/12 09:30", "Tue 08/12 10:00", "Fri 01/01 11:00"],
        ),
        ({"none_text": ["pas de créneau disponible"]}, "none", 0, []),
    ]


def test_a_page_without_slots_proposes_its_phrase_only() -> None:
    assert options("prefecture-table-no-slot.html") == [
        ({"none_text": ["aucun rendez-vous"]}, "none", 0, []),
    ]


@pytest.mark.parametrize(
    "fixture",
    ["prefecture-changed-layout.html", "consulate-captcha.html", "prefecture-overloaded.html"],
)
def test_pages_with_neither_propose_nothing(fixture: str) -> None:
    found = options(fixture)
    assert [option for option in found if option[2] == 0 and option[1] == "none"] == []
    assert all("slot_selector" in option[0] for option in found)


def test_elements_that_rarely_name_a_time_are_not_slots() -> None:
    markup = (
        "<html><body><main>"
        + "".join(f"<p class='news'>Nouvelle {i}</p>" for i in range(5))
        + "<p class='news'>Mis à jour le 12/11/2026 à 10h00</p>"
        + "<p class='news'>Publié le 13/11/2026 à 11h00</p>"
        + "</main></body></html>"
    )
    read = Page("https://x.example/", 200, markup.encode(), {"content-type": "text/html"})
    assert proposals.html_options(read, REFERENCE, read.url) == ()


def test_phrases_found_the_longer_first_with_where_they_are() -> None:
    markup = "<p>Hélas, il n’existe plus de plage horaire libre pour votre demande.</p>"
    read = Page("https://x.example/", 200, markup.encode(), {"content-type": "text/html"})
    assert proposals.phrases_on_page(read) == (
        links.PhraseFound(
            "il n'existe plus de plage horaire libre",
            "helas, il n'existe plus de plage horaire libre pour votre demande.",
        ),
    )


# --- what the check shows --------------------------------------------------------------------


def result_of(pages: list[Page], guichets: tuple[GuichetResult, ...] = ()) -> CheckResult:
    return CheckResult(
        "x",
        "html",
        pages[-1].url,
        Status.UNKNOWN,
        datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        guichets=guichets,
        page=pages[-1],
        pages=tuple(pages),
    )


def test_the_desks_offered_are_read_from_the_pages_by_the_systems_parser() -> None:
    link = recognise("https://www.hauts-de-seine.gouv.fr/booking/create/1001")
    pages = [page("ezbooking", "conditions.html"), page("ezbooking", "desk-choice.html")]
    found = links.preview(
        link, result_of(pages), {"hauts-de-seine-remise-d-un-titre-de-sejour-nanterre"}
    )
    assert found.name == "hauts-de-seine-remise-d-un-titre-de-sejour-nanterre-2"
    assert found.offered == links.Offered(
        "desks",
        (
            Choice("14006", "Guichet 1 - Remise de titre"),
            Choice("14007", "Guichet 2 - Remise de titre"),
            Choice("14012", "Guichet 5 - Étudiants & passeport talent"),
        ),
    )
    assert found.comments({"desks": []}) == {"desks": "empty = all; seen: 14006, 14007, 14012"}
    assert found.comments({"desks": ["14007"]}) == {"desks": "seen: 14006, 14007, 14012"}
    assert found.comments({}) == {}
    assert found.options == ()


def test_the_places_offered_by_rdvsp() -> None:
    link = recognise(RDVSP_SEARCH)
    found = links.preview(link, result_of([page("rdvsp", "search-places.html")]), set())
    assert found.offered is not None
    assert found.offered.key == "lieux"
    assert len(found.offered.choices) >= 2
    assert found.name == "demande-de-passeport-92"


def test_the_meeting_points_offered_by_ants() -> None:
    link = recognise(f"{ants.API_URL}?latitude=48.85&longitude=2.35&reason=CNI")
    points = (GuichetResult("p1", "Mairie du 11e", Status.NONE),)
    found = links.preview(link, result_of([page("ants", "empty-list.json")], points), set())
    assert found.offered == links.Offered("meeting_points", (Choice("p1", "Mairie du 11e"),))
    assert found.name == "ants-cni-48-85-2-35"


def test_an_html_preview_reads_the_page_on_the_checks_day() -> None:
    link = recognise("https://www.example.org/rdv")
    found = links.preview(link, result_of([page("html", "plages-common-date-forms.html")]), set())
    assert found.name == "plages-horaires-libres"
    assert found.options[0].settings == {"slot_selector": "li.plage.libre"}
    assert len(found.options[0].reading.slots) == 7


def test_an_html_page_refused_proposes_nothing() -> None:
    link = recognise("https://www.example.org/rdv")
    refused = Page(link.url, 403, b"<title>403 Forbidden</title>")
    found = links.preview(link, result_of([refused]), set())
    assert (found.name, found.options, found.phrases) == ("example-rdv", (), ())


def test_a_link_is_a_value() -> None:
    assert recognise("http://127.0.0.1:1/booking/create/7") == Link(
        "http://127.0.0.1:1/booking/create/7",
        "http://127.0.0.1:1/booking/create/7",
        "ezbooking",
        {"desks": []},
    )


def test_the_fields_to_write_name_the_setting_that_narrows_what_is_offered() -> None:
    link = recognise(f"{ants.API_URL}?latitude=48.85&longitude=2.35&reason=CNI")
    points = (GuichetResult("p1", "Mairie du 11e", Status.NONE),)
    found = links.preview(link, result_of([page("ants", "empty-list.json")], points), set())
    fields = found.fields(every="10m")
    assert list(fields)[-2:] == ["meeting_points", "token"]
    assert fields["meeting_points"] == []
    assert found.fields(settings={"meeting_points": ["p1"]})["meeting_points"] == ["p1"]
    assert found.comments(fields) == {"meeting_points": "empty = all; seen: p1"}
