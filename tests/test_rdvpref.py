"""RDV Préfecture (rdvpref): every saved page parsed exactly, and the whole human-in-the-loop
flow against the simulated site: check → CAPTCHA → a person reads the image and types the
code → slots, until the site session expires. Loopback only; creneau never books."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import FIXTURES
from creneau.http import HostBudget, PoliteClient, Session
from creneau.page import Page
from creneau.results import Status
from creneau.simulator.rdvpref import (
    ALLOWED_STEPS,
    PARIS,
    STEP,
    RdvPrefecture,
    captcha_png,
    default_demarches,
)
from creneau.simulator.server import SimulatorServer
from creneau.sources import Choice, FlowOutcome, Reading, rdvpref
from creneau.sources.common import visible_text

PAGES = FIXTURES / "rdvpref"
SITE = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche"
ALLIER = "Remise de titre de séjour - Préfecture de l'Allier"
VAL_DE_MARNE = "Titre de séjour - Préfecture du Val-de-Marne"


def parse(name: str, url: str = f"{SITE}/4418/creneau/", status: int = 200) -> Reading:
    page = Page.from_file(PAGES / name, url=url)
    if status != 200:
        page = Page(page.url, status, page.body, page.headers)
    return rdvpref.parse_page(page)


def slots(reading: Reading) -> list[tuple[str, str, str, str]]:
    return [(s.start.isoformat(), s.key, s.guichet_id, s.guichet) for s in reading.slots]


# --- every saved page ---------------------------------------------------------------------

CLASSIFIED = [
    ("cgu-captcha.html", "4418/cgu/", "captcha", Status.CAPTCHA),
    ("session-expired-back-to-cgu.html", "4418/cgu/", "captcha", Status.CAPTCHA),
    ("cgu-plain-captcha-form.html", "16040/cgu/", "captcha", Status.CAPTCHA),
    ("demarche-home.html", "4418/", "demarche", None),
    ("creneau-3-free.html", "4418/creneau/", "creneau", Status.AVAILABLE),
    ("creneau-2-free-json-only.html", "16040/creneau/", "creneau", Status.AVAILABLE),
    ("creneau-2-free-radios-only.html", "2246/creneau/", "creneau", Status.AVAILABLE),
    ("creneau-later-first-availability.html", "4418/creneau/", "creneau-later", Status.AVAILABLE),
    ("creneau-none.html", "16040/creneau/", "creneau-none", Status.NONE),
    ("creneau-none-with-last-release.html", "4418/creneau/", "creneau-none", Status.NONE),
    ("forbidden-403.html", "4418/creneau/", "forbidden", Status.BLOCKED),
    ("bad-gateway-502.html", "4418/creneau/", "server-error", Status.OVERLOADED),
    ("maintenance.html", "4418/creneau/", "closed", Status.CLOSED),
    ("changed-layout.html", "4418/creneau/", "unknown", Status.UNKNOWN),
    ("bot-wall-incapsula.html", "4418/creneau/", "bot-wall", Status.BLOCKED),
    ("captchetat-html-answer.html", "4418/cgu/", "unknown", Status.UNKNOWN),
]

EXPECTED_FACTS = {
    "creneau-3-free.html": {
        "last_release_at": "2026-05-04T11:58:00+02:00",
        "last_release_week": "2026-05-18",
        "first_availability": "2026-05-18",
    },
    "creneau-2-free-json-only.html": {"first_availability": "2026-10-27"},
    "creneau-2-free-radios-only.html": {"first_availability": "2026-09-08"},
    "creneau-later-first-availability.html": {"first_availability": "2026-06-15"},
    "creneau-none-with-last-release.html": {
        "last_release_at": "2026-05-04T11:58:00+02:00",
        "last_release_week": "2026-05-18",
        "next_release_at": "2026-05-11T12:00:00+02:00",
        "next_release_week": "2026-05-25",
    },
}


@pytest.mark.parametrize(("name", "step", "kind", "status"), CLASSIFIED)
def test_each_saved_page_is_classified_with_its_exact_facts(
    name: str, step: str, kind: str, status: Status | None
) -> None:
    reading = parse(name, f"{SITE}/{step}")
    assert (reading.kind, reading.status) == (kind, status)
    assert reading.facts == EXPECTED_FACTS.get(name, {})


def test_every_fixture_is_covered_by_a_test() -> None:
    tested = {name for name, *_ in CLASSIFIED} | {"captcha.png"}
    assert {path.name for path in PAGES.iterdir()} == tested


def test_three_free_slots_are_exact_with_the_demarche_as_guichet() -> None:
    reading = parse("creneau-3-free.html")
    assert reading.detail == "3 free slot(s) shown"
    assert reading.choices == (Choice("4418", ALLIER),)
    assert slots(reading) == [
        ("2026-05-18T09:00:00+02:00", "5101234", "4418", ALLIER),
        ("2026-05-18T09:15:00+02:00", "5101235", "4418", ALLIER),
        ("2026-05-20T14:30:00+02:00", "5101240", "4418", ALLIER),
    ]


def test_slots_from_the_page_json_alone_in_winter_time() -> None:
    # Minutes come as a number or as "09:30"; the clocks went back on 25/10/2026.
    assert slots(parse("creneau-2-free-json-only.html", f"{SITE}/16040/creneau/")) == [
        ("2026-10-27T09:30:00+01:00", "7730001", "16040", VAL_DE_MARNE),
        ("2026-10-29T10:00:00+01:00", "7730002", "16040", VAL_DE_MARNE),
    ]


def test_slots_from_rendered_radios_take_their_year_from_the_criteria() -> None:
    rhone = "Naturalisation - Préfecture du Rhône"
    assert slots(parse("creneau-2-free-radios-only.html", f"{SITE}/2246/creneau/")) == [
        ("2026-09-08T08:30:00+02:00", "6600101", "2246", rhone),
        ("2026-09-10T11:15:00+02:00", "6600102", "2246", rhone),
    ]


def test_a_week_shown_without_slot_but_a_later_first_day_is_not_none() -> None:
    reading = parse("creneau-later-first-availability.html")
    assert reading.slots == ()
    assert reading.detail == (
        "no slot in the week shown; the site says the first free day is 15/06/2026"
    )


def test_no_slot_pages_say_so_and_carry_no_slot() -> None:
    for name in ("creneau-none.html", "creneau-none-with-last-release.html"):
        reading = parse(name)
        assert (reading.slots, reading.detail) == (
            (),
            'the page says "Aucun créneau disponible"',
        )


def test_terms_page_gives_the_fields_to_resubmit() -> None:
    assert parse("cgu-captcha.html", f"{SITE}/4418/cgu/").fields == (
        ("CTX", "d8c2f1a9b0e34c7f"),
        ("reservation.cguAcceptees", "true"),
    )


def test_a_wrong_code_brings_the_terms_page_back_with_its_error() -> None:
    reading = parse("cgu-captcha.html", f"{SITE}/4418/cgu/?error=invalidCaptcha")
    assert (reading.status, reading.detail) == (
        Status.CAPTCHA,
        "the code typed was not accepted: the site shows a new CAPTCHA",
    )


def test_captchetat_form_is_read_from_the_terms_page() -> None:
    form = rdvpref.read_captcha_form(
        (PAGES / "cgu-captcha.html").read_text(encoding="utf-8"), f"{SITE}/4418/cgu/"
    )
    assert form == rdvpref.CaptchaForm(
        form_url=f"{SITE}/4418/_validerCaptcha",
        fields=(("CTX", "d8c2f1a9b0e34c7f"), ("reservation.cguAcceptees", "true")),
        code_field="captchaUsercode",
        widget=rdvpref.CaptchEtatWidget(
            endpoint="https://api.piste.gouv.fr/piste/captcha/simple-captcha-endpoint",
            style="captchaFR",
            token="eyJhbGciOiJSUzI1NiJ9.c2ltdWxhdGVk.c2lnbmF0dXJl",
        ),
        image_url="",
    )


def test_a_plain_captcha_form_gives_its_image_and_only_the_terms_box() -> None:
    form = rdvpref.read_captcha_form(
        (PAGES / "cgu-plain-captcha-form.html").read_text(encoding="utf-8"),
        f"{SITE}/16040/cgu/",
    )
    assert form is not None
    assert form.widget is None
    assert form.form_url == f"{SITE}/16040/_validerCaptcha"
    assert form.image_url == (
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/captcha/image?t=9f8e7d6c"
    )
    # The newsletter box is left unticked: only the terms one is accepted for the person.
    assert form.fields == (
        ("CTX", "0a1b2c3d4e5f6a7b"),
        ("captchaId", "9f8e7d6c"),
        ("conditions", "oui"),
    )


def test_the_captchetat_answer_gives_the_id_hidden_fields_and_image() -> None:
    endpoint = rdvpref.CAPTCHETAT_ENDPOINT
    captcha_id = "3b5f0e1a9c7d4e2f8a6b0c1d2e3f4a5b"
    answer = rdvpref.read_captchetat_answer(
        (PAGES / "captchetat-html-answer.html").read_text(encoding="utf-8"), endpoint, "captchaFR"
    )
    assert answer == rdvpref.CaptchEtatAnswer(
        captcha_id=captcha_id,
        fields=(("BDC_VCID_captchaFR", captcha_id), ("BDC_BackWorkaround_captchaFR", "0")),
        image_url=f"{endpoint}?get=image&c=captchaFR&t={captcha_id}",
    )


def test_a_page_without_captcha_has_no_captcha_form() -> None:
    markup = (PAGES / "creneau-3-free.html").read_text(encoding="utf-8")
    assert rdvpref.read_captcha_form(markup, f"{SITE}/4418/cgu/") is None


def test_the_saved_captcha_image_is_a_valid_png_of_its_code() -> None:
    data = (PAGES / "captcha.png").read_bytes()
    assert data == captcha_png("K7PX3A")
    assert rdvpref.image_type(data) == "image/png"
    width, height, rows = decode_png(data)
    assert (width, height) == (100, 28)
    assert any(0 in row for row in rows)  # something is drawn
    assert set(rows[0]) == {255}  # on a white margin


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Check every chunk's CRC and return the grayscale rows (filter 0 only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks[kind] = body
        offset += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 0)
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == height * (width + 1)
    rows = [raw[y * (width + 1) : (y + 1) * (width + 1)] for y in range(height)]
    assert {row[0] for row in rows} == {0}
    return width, height, [row[1:] for row in rows]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"<html>403</html>", None),
        (b"", None),
    ],
)
def test_only_images_are_taken_for_a_captcha(data: bytes, expected: str | None) -> None:
    assert rdvpref.image_type(data) == expected


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


def test_a_maintenance_page_served_as_503_is_closed_not_overloaded() -> None:
    reading = parse("maintenance.html", status=503)
    assert (reading.kind, reading.status) == ("closed", Status.CLOSED)


def page_with(vue_data: dict[str, object], body: str = "") -> Page:
    data = json.dumps({"vueData": vue_data})
    markup = f'<h1>D</h1>{body}<script type="application/json" id="vui-init-data">{data}</script>'
    return Page(f"{SITE}/7/creneau/", 200, markup.encode())


def test_slot_data_that_cannot_be_read_is_unknown_not_none() -> None:
    vue_data = {"tranches": [{"trhId": 1, "dateLocale": "31/02/2026", "minutesDebut": 540}]}
    reading = rdvpref.parse_page(page_with(vue_data, "<p>Aucun créneau disponible</p>"))
    assert (reading.kind, reading.status, reading.detail) == (
        "unknown",
        Status.UNKNOWN,
        "1 slot(s) shown but none readable",
    )


def test_radios_without_a_first_day_to_date_them_are_unknown() -> None:
    body = (
        '<div class="blocCreneauSelection"><h3>lundi<br>18/05</h3>'
        '<input type="radio" id="trhId_9"><label for="trhId_9">09h00</label></div>'
    )
    reading = rdvpref.parse_page(page_with({}, body))
    assert (reading.status, reading.slots) == (Status.UNKNOWN, ())


def test_radios_of_a_week_across_new_year_get_the_next_year() -> None:
    body = (
        '<div class="blocCreneauSelection"><h3>lundi<br>04/01</h3>'
        '<input type="radio" id="trhId_9"><label for="trhId_9">09h00</label></div>'
    )
    reading = rdvpref.parse_page(page_with({"c": {"premierJour": "28/12/2026"}}, body))
    assert [slot.start.isoformat() for slot in reading.slots] == ["2027-01-04T09:00:00+01:00"]


def test_a_slot_page_without_slots_nor_the_no_slot_phrase_is_unknown() -> None:
    reading = rdvpref.parse_page(page_with({"c": {"premierJour": "18/05/2026"}}, "<p>?</p>"))
    assert (reading.kind, reading.status) == ("unknown", Status.UNKNOWN)


def test_release_line_is_read_from_json_when_the_page_does_not_show_it() -> None:
    publication = {"dateMin": "20/05/2026", "instantPublication": "2026-05-04T09:58:00Z"}
    reading = rdvpref.parse_page(page_with({"precedentePub": publication}))
    # An ISO instant is given in Paris time; the week is the Monday of its first day.
    assert reading.facts == {
        "last_release_at": "2026-05-04T11:58:00+02:00",
        "last_release_week": "2026-05-18",
    }


# --- never NONE without the phrase, never an exception ------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "Aucun créneau disponible",
        "Choisissez votre créneau",
        "Dernière mise en ligne de rendez-vous : le 04/05/2026 à 11:58",
        "pour des créneaux de la semaine du 31/02/2026",
        '<input type="radio" id="trhId_1"><label for="trhId_1">25h99</label>',
        '<div class="blocCreneauSelection"><h3>lundi 40/13</h3>',
        "<rdv-choix-tranche>",
        "<rdv-captchetat token=x>",
        '<input name="captchaUsercode">',
        '<script type="application/json" id="vui-init-data">',
        "</script>",
        '{"vueData": {"t": [{"trhId": 1, "dateLocale": "18/05/2026"}]}}',
        '{"vueData": {"c": {"premierJour": "x", "datePremiereDispo": 5}}}',
        "<title>503",
        "Prendre un rendez-vous <a href='/cgu/'>",
        "<form>",
        "</div>",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(FRAGMENTS | st.text(max_size=30), max_size=12), status=st.integers(200, 599))
def test_random_pages_never_raise_and_never_say_none_without_the_phrase(
    parts: list[str], status: int
) -> None:
    markup = "".join(parts)
    reading = rdvpref.parse_page(Page(f"{SITE}/1/creneau/", status, markup.encode()))
    if reading.status is Status.NONE:
        assert "aucun creneau disponible" in visible_text(markup)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(vue_data=JSON_VALUES, key=st.sampled_from(["tranches", "critere", "precedentePub", "x"]))
def test_random_page_state_never_raises_nor_says_none(vue_data: object, key: str) -> None:
    data = json.dumps({"vueData": {key: vue_data}})
    markup = f'<script type="application/json" id="vui-init-data">{data}</script>'
    reading = rdvpref.parse_page(Page(f"{SITE}/1/creneau/", 200, markup.encode()))
    assert reading.status is not Status.NONE


# --- targets --------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["", "/", "/cgu/", "/creneau/", "/cgu/?error=invalidCaptcha"])
def test_a_demarche_url_with_any_step_gives_the_same_pages(step: str) -> None:
    target = rdvpref.Target(name="allier", url=f"{SITE}/4418{step}")
    urls = rdvpref.demarche_urls(target.url)
    assert (urls.demarche_id, urls.cgu, urls.slots, urls.validate_captcha) == (
        "4418",
        f"{SITE}/4418/cgu/",
        f"{SITE}/4418/creneau/",
        f"{SITE}/4418/_validerCaptcha",
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/",
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/abc/",
        "https://www.hauts-de-seine.gouv.fr/booking/create/989",
        "ftp://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4418/",
    ],
)
def test_other_urls_are_refused_with_a_clear_message(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        rdvpref.Target(name="x", url=url)
    assert "must" in str(refused.value)
    if url.startswith("https"):
        assert "rdvpref/reservation/demarche/<id>/" in str(refused.value)


class OnePage:
    """A stand-in session whose every GET answers the same saved page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.asked: list[str] = []

    async def get(self, url: str, **_: object) -> Page:
        self.asked.append(url)
        return self.page


@pytest.mark.parametrize(
    ("page", "status", "guichets"),
    [
        # Sent to the démarche's home page instead of creneau/: the session is gone too.
        (Page.from_file(PAGES / "demarche-home.html", url=f"{SITE}/4418/"), Status.CAPTCHA, []),
        (page_with({"t": [{"trhId": 1, "dateLocale": "x"}]}), Status.UNKNOWN, ["4418"]),
    ],
)
async def test_check_reads_creneau_once_and_never_calls_a_page_none_it_does_not_know(
    page: Page, status: Status, guichets: list[str]
) -> None:
    stand_in = OnePage(page)
    target = rdvpref.Target(name="allier", url=f"{SITE}/4418/")
    outcome = await rdvpref.check(target, stand_in)  # type: ignore[arg-type]
    assert (outcome.status, [g.id for g in outcome.guichets]) == (status, guichets)
    assert stand_in.asked == [f"{SITE}/4418/creneau/"]


# --- the whole flow against the simulated site ----------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def site(clock: FakeClock) -> RdvPrefecture:
    return RdvPrefecture(
        default_demarches(),
        session_ttl=600,
        clock=clock,
        now=lambda: datetime(2026, 5, 4, 11, 58, 30, tzinfo=PARIS),
    )


@pytest.fixture
def server(site: RdvPrefecture) -> Iterator[SimulatorServer]:
    with SimulatorServer(sites=[site]) as running:
        yield running


@pytest.fixture
def polite() -> PoliteClient:
    return PoliteClient("t@example.org", lambda host: HostBudget(6000, 60), retry_backoff=0.01)


def target_for(server: SimulatorServer, demarche: str = "4418") -> rdvpref.Target:
    url = f"{server.url}/rdvpref/reservation/demarche/{demarche}/"
    return rdvpref.Target(name=f"d{demarche}", url=url, every="5s")


@pytest.fixture
async def person_session(server: SimulatorServer) -> AsyncIterator[Session]:
    """The session `creneau captcha NAME` would hold open while a person types: another
    process, so its own client (a client runs one check per host at a time)."""
    person = PoliteClient("t@example.org", lambda host: HostBudget(6000, 60), retry_backoff=0.01)
    async with person.session("captcha", server.url) as session:
        yield session


async def check_with(
    polite: PoliteClient, target: rdvpref.Target, cookies: dict[str, str] | None = None
) -> tuple[FlowOutcome, int]:
    async with polite.session(target.name, target.url, cookies=cookies) as session:
        outcome = await rdvpref.check(target, session)
        return outcome, session.requests


async def open_site_session(
    site: RdvPrefecture, target: rdvpref.Target, session: Session
) -> Reading:
    """What a person does: look at the image, type what it shows."""
    challenge = await rdvpref.start_captcha(target, session)
    code = site.captcha_code(session.cookies()["JSESSIONID"])
    assert challenge.image == captcha_png(code)
    return await rdvpref.submit_captcha(target, session, challenge, code.lower())


async def test_without_a_site_session_the_check_asks_for_a_human(
    server: SimulatorServer, site: RdvPrefecture, polite: PoliteClient
) -> None:
    target = target_for(server)
    outcome, requests = await check_with(polite, target)
    assert (outcome.status, outcome.detail, outcome.guichets) == (
        Status.CAPTCHA,
        "a human is needed: run `creneau captcha d4418`",
        (),
    )
    # robots.txt, creneau/ and the cgu/ page it redirects to; nothing is typed.
    assert requests == 3
    assert [(e.method, e.path, e.status) for e in site.log] == [
        ("GET", "/rdvpref/reservation/demarche/4418/creneau/", 302),
        ("GET", "/rdvpref/reservation/demarche/4418/cgu/", 200),
    ]


async def test_the_human_flow_from_captcha_to_slots_and_back(
    server: SimulatorServer,
    site: RdvPrefecture,
    polite: PoliteClient,
    person_session: Session,
    clock: FakeClock,
) -> None:
    released = site.release("4418", 3)
    target = target_for(server)

    challenge = await rdvpref.start_captcha(target, person_session)
    shown = site.captcha_code(person_session.cookies()["JSESSIONID"])
    assert challenge.content_type == "image/png"
    assert challenge.image == captcha_png(shown)
    assert challenge.code_field == "captchaUsercode"
    assert challenge.form_url == f"{server.url}/rdvpref/reservation/demarche/4418/_validerCaptcha"
    assert [name for name, _ in challenge.fields] == [
        "CTX",
        "cguAccepte",
        "BDC_VCID_captchaFR",
        "BDC_BackWorkaround_captchaFR",
        "captchaId",
    ]

    wrong = await rdvpref.submit_captcha(target, person_session, challenge, "ZZZZZZ")
    assert (wrong.kind, wrong.status, wrong.detail) == (
        "captcha",
        Status.CAPTCHA,
        "the code typed was not accepted: the site shows a new CAPTCHA",
    )
    # The image answered once: even its right code is refused now.
    stale = await rdvpref.submit_captcha(target, person_session, challenge, shown)
    assert stale.status is Status.CAPTCHA

    reached = await open_site_session(site, target, person_session)
    starts = ["2026-05-18T08:30:00+02:00", "2026-05-18T08:45:00+02:00", "2026-05-18T09:00:00+02:00"]
    assert (reached.kind, reached.status) == ("creneau", Status.AVAILABLE)
    assert [(s.start.isoformat(), s.key) for s in reached.slots] == list(
        zip(starts, released, strict=True)
    )
    cookies = person_session.cookies()

    outcome, requests = await check_with(polite, target, cookies)
    assert (outcome.status, outcome.detail, requests) == (
        Status.AVAILABLE,
        "3 free slot(s) shown",
        2,  # robots.txt (this client's first request to the host), then creneau/
    )
    [guichet] = outcome.guichets
    assert (guichet.id, guichet.label, guichet.status) == ("4418", ALLIER, Status.AVAILABLE)
    assert [(s.start.isoformat(), s.key, s.guichet_id, s.guichet) for s in guichet.slots] == [
        (start, key, "4418", ALLIER) for start, key in zip(starts, released, strict=True)
    ]
    assert outcome.facts == {
        "last_release_at": "2026-05-04T11:58:00+02:00",
        "last_release_week": "2026-05-18",
        "first_availability": "2026-05-18",
    }

    site.take("4418")
    site.announce_next_release(
        "4418", datetime(2026, 5, 11, 12, 0, tzinfo=PARIS), date(2026, 5, 27)
    )
    clock.now += 599
    outcome, _ = await check_with(polite, target, cookies)
    assert (outcome.status, outcome.detail) == (
        Status.NONE,
        'the page says "Aucun créneau disponible"',
    )
    assert outcome.facts == {
        "last_release_at": "2026-05-04T11:58:00+02:00",
        "last_release_week": "2026-05-18",
        "next_release_at": "2026-05-11T12:00:00+02:00",
        "next_release_week": "2026-05-25",
    }

    clock.now += 1  # the site session is 600 s old: the site sends us back to cgu/
    outcome, _ = await check_with(polite, target, cookies)
    assert (outcome.status, outcome.detail) == (
        Status.CAPTCHA,
        "a human is needed: run `creneau captcha d4418`",
    )
    assert site.log[-1].path == "/rdvpref/reservation/demarche/4418/cgu/"
    assert_no_booking_request(site)


def assert_no_booking_request(site: RdvPrefecture) -> None:
    assert site.violations == []
    for request in site.log:
        step = STEP.match(request.path)
        if step is not None:
            assert (request.method, step.group("step")) in ALLOWED_STEPS, request


async def test_the_simulator_refuses_and_records_booking_steps(
    server: SimulatorServer, site: RdvPrefecture, person_session: Session
) -> None:
    target = target_for(server)
    await open_site_session(site, target, person_session)
    page = await person_session.post(
        f"{server.url}/rdvpref/reservation/demarche/4418/creneau/", {"trhId": "88120001"}
    )
    assert page.status == 403
    assert site.violations == ["POST /rdvpref/reservation/demarche/4418/creneau/"]


async def test_a_plain_captcha_form_works_the_same(
    server: SimulatorServer, site: RdvPrefecture, polite: PoliteClient, person_session: Session
) -> None:
    site.inline_captcha = True
    target = target_for(server, "16040")
    reached = await open_site_session(site, target, person_session)
    assert (reached.kind, reached.status, reached.facts) == ("creneau-none", Status.NONE, {})
    outcome, _ = await check_with(polite, target, person_session.cookies())
    assert (outcome.status, [g.id for g in outcome.guichets]) == (Status.NONE, ["16040"])
    # No request went to the CAPTCHA service: the image came from the form itself.
    assert not any(request.path.startswith("/piste/") for request in site.log)
    assert_no_booking_request(site)


async def test_the_terms_box_must_be_ticked_for_the_code_to_count(
    server: SimulatorServer, site: RdvPrefecture, person_session: Session
) -> None:
    target = target_for(server)
    challenge = await rdvpref.start_captcha(target, person_session)
    code = site.captcha_code(person_session.cookies()["JSESSIONID"])
    unticked = rdvpref.CaptchaChallenge(
        challenge.image,
        challenge.content_type,
        challenge.form_url,
        tuple(field for field in challenge.fields if field[0] != "cguAccepte"),
        challenge.code_field,
    )
    reading = await rdvpref.submit_captcha(target, person_session, unticked, code)
    assert reading.status is Status.CAPTCHA


async def test_an_empty_code_is_not_sent(
    server: SimulatorServer, site: RdvPrefecture, person_session: Session
) -> None:
    target = target_for(server)
    challenge = await rdvpref.start_captcha(target, person_session)
    sent = len(site.log)
    with pytest.raises(ValueError, match="the code is empty"):
        await rdvpref.submit_captcha(target, person_session, challenge, "  ")
    assert len(site.log) == sent


@pytest.mark.parametrize(
    ("demarche", "status", "detail"),
    [
        ("1403", Status.BLOCKED, "HTTP 403: the site refuses our requests"),
        ("1502", Status.OVERLOADED, "HTTP 502 from the site"),
        ("1411", Status.CLOSED, 'the site says: "site en maintenance"'),
        ("1999", Status.UNKNOWN, "not a page of RDV Préfecture we know"),
        ("1666", Status.BLOCKED, "an anti-bot wall answered instead of the site"),
    ],
)
async def test_failures_are_reported_never_as_none(
    server: SimulatorServer,
    site: RdvPrefecture,
    polite: PoliteClient,
    demarche: str,
    status: Status,
    detail: str,
) -> None:
    outcome, _ = await check_with(polite, target_for(server, demarche))
    assert (outcome.status, outcome.detail, outcome.guichets) == (status, detail, ())
    assert_no_booking_request(site)


async def test_start_captcha_on_a_refusing_site_says_why(
    server: SimulatorServer, site: RdvPrefecture, person_session: Session
) -> None:
    with pytest.raises(rdvpref.CaptchaUnavailable) as refused:
        await rdvpref.start_captcha(target_for(server, "1403"), person_session)
    assert refused.value.reading.status is Status.BLOCKED
    assert str(refused.value) == (
        f"{server.url}/rdvpref/reservation/demarche/1403/cgu/ shows no CAPTCHA: "
        "HTTP 403: the site refuses our requests"
    )
    assert isinstance(refused.value, ValueError)


async def test_start_captcha_fails_clearly_when_the_captcha_service_refuses(
    server: SimulatorServer, site: RdvPrefecture, person_session: Session
) -> None:
    target = target_for(server)
    page = await person_session.get(f"{server.url}/rdvpref/reservation/demarche/4418/cgu/")
    form = rdvpref.read_captcha_form(page.text, page.url)
    assert form is not None
    assert form.widget is not None
    # A widget whose token the service does not know answers 401.
    bad = rdvpref.CaptchEtatWidget(form.widget.endpoint, form.widget.style, "not-a-token")
    with pytest.raises(rdvpref.CaptchaUnavailable) as refused:
        await rdvpref._load_captchetat(person_session, bad)
    assert refused.value.reading.status is Status.ERROR
    assert "HTTP 401" in str(refused.value)
    assert (await rdvpref.start_captcha(target, person_session)).content_type == "image/png"
