"""RDV Préfecture (rdvpref): what saved pages give beyond their reading (each page's whole
reading is in its `.expected.json`, tests/sources/test_fixtures.py; fixtures/rdvpref/SOURCES.md says
what each is built from), every challenge named with what a person can do about it, and the
whole human-in-the-loop flow against the simulated site, over loopback and in process:
check → CAPTCHA → a person reads the image and types the code → slots, until the site
session expires. creneau never books and never passes a challenge."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import FIXTURES, english
from creneau.captcha_errors import UnsolvableCaptcha
from creneau.expected import SAID_LIMIT
from creneau.fetch.client import PoliteClient, Session
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import ReleaseAnnouncement, Status
from creneau.simulator.server import SimulatorServer
from creneau.sources import rdvpref
from creneau.sources.common import FoldedText, fold, visible_text
from creneau.sources.rdvpref.simulator import (
    ALLOWED_STEPS,
    PARIS,
    STEP,
    RdvPrefecture,
    captcha_png,
    default_demarches,
)
from creneau.sources.reading import Choice, FlowOutcome, Reading
from harness.transport import SimulatedInternet

PAGES = FIXTURES / "rdvpref"
SITE = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche"
ALLIER = "Remise de titre de séjour - Préfecture de l'Allier"
VAL_DE_MARNE = "Titre de séjour - Préfecture du Val-de-Marne"
BROWSER_ONLY = (
    "creneau cannot hand it to you (it is not an image and a code): only a browser on the "
    "site can pass it. creneau does not retry it; it looks again at the next check"
)
IMAGE = (
    'the site asks for its image CAPTCHA (the "code de sécurité"): creneau can hand it to '
    "you — run `creneau captcha {name}` and type the code"
)


def parse(
    name: str,
    url: str = f"{SITE}/4418/creneau/",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Reading:
    page = Page.from_file(PAGES / name, url=url)
    if status != 200 or headers:
        page = Page(page.url, status, page.body, {**page.headers, **(headers or {})})
    return rdvpref.parse_page(page)


def slots(reading: Reading) -> list[tuple[str, str, str, str]]:
    return [(s.start.isoformat(), s.key, s.guichet_id, s.guichet) for s in reading.slots]


# --- saved pages ---------------------------------------------------------------------------

LAST_RELEASE = {
    "last_release_at": "2026-05-04T11:58:00+02:00",
    "last_release_week": "2026-05-18",
}
BOTH_RELEASES = {
    **LAST_RELEASE,
    "next_release_at": "2026-05-11T12:00:00+02:00",
    "next_release_week": "2026-05-25",
}


def announced(said: Reading | FlowOutcome) -> dict[str, str]:
    """Its release announcements and other facts, as a check stores them."""
    return {**(said.releases.as_facts() if said.releases else {}), **said.facts}


def test_every_saved_file_says_where_it_comes_from() -> None:
    saved = [
        path.name
        for path in sorted(PAGES.iterdir())
        if path.name != "SOURCES.md" and not path.name.endswith(".expected.json")
    ]
    sources = (PAGES / "SOURCES.md").read_text(encoding="utf-8")
    assert [name for name in saved if f"`{name}`" not in sources] == []


def test_three_free_slots_are_exact_with_the_demarche_as_guichet() -> None:
    reading = parse("creneau-3-free.html")
    assert english(reading.detail) == "3 free slot(s) shown"
    assert reading.choices == (Choice("4418", ALLIER),)
    assert slots(reading) == [
        ("2026-05-18T09:00:00+02:00", "5101234", "4418", ALLIER),
        ("2026-05-18T09:15:00+02:00", "5101235", "4418", ALLIER),
        ("2026-05-20T14:30:00+02:00", "5101240", "4418", ALLIER),
    ]
    assert reading.read_from == (
        "$.vueData.tranchesHoraires[0]",
        "$.vueData.tranchesHoraires[1]",
        "$.vueData.tranchesHoraires[2]",
    )


def test_slots_from_the_page_json_alone_in_winter_time() -> None:
    # Minutes come as a number or as "09:30"; the clocks went back on 25/10/2026.
    reading = parse("creneau-2-free-json-only.html", f"{SITE}/16040/creneau/")
    assert slots(reading) == [
        ("2026-10-27T09:30:00+01:00", "7730001", "16040", VAL_DE_MARNE),
        ("2026-10-29T10:00:00+01:00", "7730002", "16040", VAL_DE_MARNE),
    ]
    assert reading.read_from == ("$.vueData.tranches[1]", "$.vueData.tranches[0]")


def test_slots_from_rendered_radios_take_their_year_from_the_criteria() -> None:
    rhone = "Naturalisation - Préfecture du Rhône"
    reading = parse("creneau-2-free-radios-only.html", f"{SITE}/2246/creneau/")
    assert slots(reading) == [
        ("2026-09-08T08:30:00+02:00", "6600101", "2246", rhone),
        ("2026-09-10T11:15:00+02:00", "6600102", "2246", rhone),
    ]
    assert reading.read_from == (
        'input#trhId_6600101 + label "08h30"',
        'input#trhId_6600102 + label "11h15"',
    )


HAUTE_GARONNE = "Titre de séjour - Préfecture de la Haute-Garonne"
PHONE_SLOTS = [
    ("09-15T08:30:00+02:00", "7710231"),
    ("09-15T10:45:00+02:00", "7710236"),
    ("09-17T14:15:00+02:00", "7710254"),
]


@pytest.mark.parametrize(
    "served", ["Mon, 14 Sep 2026 06:12:40 GMT", "Sun, 20 Sep 2026 21:30:00 GMT"]
)
def test_a_phone_page_without_its_state_takes_the_year_of_the_day_it_was_served(
    served: str,
) -> None:
    """The phone layout: one expansion item per day ("mardi 15/09"), radios in li.radio-card,
    and no script#vui-init-data: the days' year is the one of the page's Date header."""
    reading = parse(
        "creneau-3-free-phone-layout.html", f"{SITE}/3871/creneau/", headers={"date": served}
    )
    assert (reading.status, slots(reading)) == (
        Status.AVAILABLE,
        [(f"2026-{at}", key, "3871", HAUTE_GARONNE) for at, key in PHONE_SLOTS],
    )


def test_a_phone_page_without_state_nor_date_says_its_slots_are_unreadable_never_none() -> None:
    reading = parse("creneau-3-free-phone-layout.html", f"{SITE}/3871/creneau/")
    assert (reading.status, english(reading.detail)) == (
        Status.UNKNOWN,
        "3 slot(s) shown but none readable",
    )


def test_a_phone_day_named_by_the_component_tag_is_read_too() -> None:
    body = (
        "<h1>Titre de séjour</h1><h2>Choisissez votre créneau</h2>"
        '<q-expansion-item group="jour" label="jeudi 17/09"><ul><li class="radio-card">'
        '<input type="radio" name="trhId" id="trhId_7710254">'
        '<label class="fr-label" for="trhId_7710254">14h15</label></li></ul></q-expansion-item>'
    )
    page = Page(
        f"{SITE}/3871/creneau/", 200, body.encode(), {"date": "Mon, 14 Sep 2026 06:12:40 GMT"}
    )
    assert [s.start.isoformat() for s in rdvpref.parse_page(page).slots] == [
        "2026-09-17T14:15:00+02:00"
    ]


def test_a_week_shown_without_slot_but_a_later_first_day_is_not_none() -> None:
    reading = parse("creneau-later-first-availability.html")
    assert reading.slots == ()
    assert english(reading.detail) == (
        "no slot in the week shown; the site says the first free day is 15/06/2026"
    )


def test_the_next_availability_button_of_a_rendered_page_is_read_without_json() -> None:
    body = (
        "<p>Aucun créneau disponible sur cette semaine</p>"
        "<button>Prochaine disponibilité le 22/06/2026</button>"
    )
    reading = rdvpref.parse_page(page_with({}, body))
    assert (reading.kind, reading.status, reading.rule, reading.facts) == (
        "creneau-later",
        Status.AVAILABLE,
        "NEXT_AVAILABILITY",
        {"first_availability": "2026-06-22"},
    )


NO_FREE_DAY = "the site says no day is free from 04/05/2026 to 29/06/2026 (no first free day)"


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("creneau-none.html", NO_FREE_DAY),
        ("creneau-none-raw.html", NO_FREE_DAY),
        ("creneau-none-formatted-instants.html", NO_FREE_DAY),
        ("creneau-none-iso-instants.html", NO_FREE_DAY),
        ("creneau-none-with-last-release.html", 'the page says "Aucun créneau disponible"'),
    ],
)
def test_no_slot_pages_say_why_and_carry_no_slot(name: str, detail: str) -> None:
    reading = parse(name)
    assert (reading.slots, english(reading.detail)) == ((), detail)


def test_a_criteria_search_that_starts_after_the_first_bookable_day_proves_nothing() -> None:
    criteria = {"premierJour": "11/05/2026", "dateMin": "04/05/2026", "datePremiereDispo": ""}
    reading = rdvpref.parse_page(page_with({"critere": criteria}))
    assert (reading.kind, reading.status) == ("unknown", Status.UNKNOWN)


def test_criteria_without_a_first_free_day_field_are_not_none() -> None:
    criteria = {"premierJour": "04/05/2026", "dateMin": "04/05/2026"}
    reading = rdvpref.parse_page(page_with({"critere": criteria}))
    assert (reading.kind, reading.status) == ("unknown", Status.UNKNOWN)


def test_a_week_without_slot_is_not_a_demarche_without_slot() -> None:
    reading = parse("creneau-week-empty.html")
    assert english(reading.detail) == (
        'the page says the week shown has no slot ("Aucun créneau disponible sur cette '
        'semaine") but not whether a later week has one'
    )


# --- point 12: slots seen win over banners -------------------------------------------------


def test_slots_and_a_maintenance_banner_are_available() -> None:
    name = "creneau-2-free-maintenance-banner.html"
    reading = parse(name)
    banner = visible_text((PAGES / name).read_text(encoding="utf-8"))
    assert "operation de maintenance" in banner
    assert "trop de demandes" in banner
    assert (reading.status, english(reading.detail)) == (Status.AVAILABLE, "2 free slot(s) shown")
    assert slots(reading) == [
        ("2026-05-18T09:30:00+02:00", "5101301", "4418", ALLIER),
        ("2026-05-19T10:15:00+02:00", "5101302", "4418", ALLIER),
    ]


@pytest.mark.parametrize(
    ("banner", "status"),
    [
        ("Trop de demandes : le service est momentanément surchargé.", Status.OVERLOADED),
        ("Une opération de maintenance est en cours.", Status.CLOSED),
    ],
)
def test_a_banner_decides_only_when_no_slot_is_seen(banner: str, status: Status) -> None:
    slot = {"trhId": 9, "dateLocale": "18/05/2026", "minutesDebut": 540}
    with_slot = rdvpref.parse_page(page_with({"t": [slot]}, f"<p>{banner}</p>"))
    assert (with_slot.status, [s.key for s in with_slot.slots]) == (Status.AVAILABLE, ["9"])
    without = rdvpref.parse_page(page_with({"critere": {"premierJour": "x"}}, f"<p>{banner}</p>"))
    assert without.status is status


# --- point 7: publication instants as Vertigo writes them ----------------------------------


@pytest.mark.parametrize(
    ("instant", "key"),
    [
        ("04/05/2026   11h58", "instantPublication_fmt"),  # "dd/MM/yyyy ' ' HH'h'mm"
        ("04/05/2026   11h58", "instantPublication"),
        ("04/05/2026 11:58", "instantPublication"),  # Vertigo-UI's encoder before 2025-03
        ("2026-05-04T11:58", "instantPublication"),  # and since, in the site's zone
        ("2026-05-04T09:58:00Z", "instantPublication"),
    ],
)
def test_the_last_release_is_read_from_every_form_vertigo_writes(instant: str, key: str) -> None:
    publication = {"dateMin": "20/05/2026", key: instant}
    reading = rdvpref.parse_page(page_with({"precedentePub": publication}))
    assert announced(reading) == LAST_RELEASE


def test_the_vertigo_instant_pattern_gives_three_spaces() -> None:
    # dd/MM/yyyy, then an unquoted space, a quoted space (' '), an unquoted space, HH'h'mm:
    # DateTimeFormatter copies the three, as the saved page shows.
    text = (PAGES / "creneau-none-formatted-instants.html").read_text(encoding="utf-8")
    assert '"instantPublication_fmt":"04/05/2026   11h58"' in text
    assert rdvpref._read_instant("04/05/2026   11h58") == datetime(2026, 5, 4, 11, 58, tzinfo=PARIS)


# --- the image CAPTCHA -------------------------------------------------------------------------


def test_terms_page_gives_the_context_the_browser_would_post() -> None:
    # Vertigo-UI binds the CTX field to the page state: v-bind:value="vueData.CTX".
    reading = parse("cgu-captcha.html", f"{SITE}/4418/cgu/")
    assert reading.fields == (("CTX", "d8c2f1a9b0e34c7f0a1b2c3d4e5f6a7b$5c4d3e2f1a0b9c8d"),)
    assert english(reading.detail) == IMAGE.format(name="<name>")


def test_a_target_name_goes_into_the_command_a_person_runs() -> None:
    target = rdvpref.Target(name="allier", url=f"{SITE}/4418/")
    page = Page.from_file(PAGES / "cgu-captcha.html", url=f"{SITE}/4418/cgu/")
    assert english(rdvpref.parse_page(page, target).detail) == IMAGE.format(name="allier")


def test_a_wrong_code_brings_the_terms_page_back_with_its_error() -> None:
    reading = parse("cgu-captcha.html", f"{SITE}/4418/cgu/?error=invalidCaptcha")
    assert (reading.status, english(reading.detail), reading.rule) == (
        Status.CAPTCHA,
        "the code typed was not accepted: the site shows a new CAPTCHA",
        "INVALID_CAPTCHA",
    )


def test_an_ended_session_is_said_so() -> None:
    reading = parse(
        "session-expired-back-to-cgu.html", f"{SITE}/4418/cgu/?error=errorSessionInvalide"
    )
    assert english(reading.detail) == (
        "the site session has ended (the site says errorSessionInvalide); "
        + IMAGE.format(name="<name>")
    )


def test_captchetat_form_is_read_from_the_terms_page() -> None:
    form = rdvpref.read_captcha_form(
        (PAGES / "cgu-captcha.html").read_text(encoding="utf-8"), f"{SITE}/4418/cgu/"
    )
    assert form == rdvpref.CaptchaForm(
        form_url=f"{SITE}/4418/_validerCaptcha",
        fields=(("CTX", "d8c2f1a9b0e34c7f0a1b2c3d4e5f6a7b$5c4d3e2f1a0b9c8d"),),
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


def test_the_captcha_id_comes_from_the_script_when_botdetect_gives_no_field() -> None:
    markup = (
        '<img id="captchaFR_CaptchaImage" src="simple-captcha-endpoint?get=image&amp;t=ab12">'
        '<script src="simple-captcha-endpoint?get=script-include&amp;c=captchaFR&amp;t=ab12">'
        "</script>"
    )
    answer = rdvpref.read_captchetat_answer(markup, rdvpref.CAPTCHETAT_ENDPOINT, "captchaFR")
    assert answer is not None
    assert answer.captcha_id == "ab12"


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("simple-captcha-endpoint?get=image&t=1", "https://api.piste.gouv.fr/piste/captcha/"),
        (
            "/captcha/simple-captcha-endpoint?get=image&t=1",
            "https://api.piste.gouv.fr/piste/captcha/",
        ),
        (
            "https://elsewhere.example/x/simple-captcha-endpoint?get=image&t=1",
            "https://api.piste.gouv.fr/piste/captcha/",
        ),
    ],
)
def test_image_addresses_are_rebased_on_the_endpoint_as_the_site_does(
    src: str, expected: str
) -> None:
    rebased = rdvpref.rebase_on_endpoint(src, rdvpref.CAPTCHETAT_ENDPOINT)
    assert rebased == expected + "simple-captcha-endpoint?get=image&t=1"


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


# --- point 6: every challenge is named, with what a person can do -------------------------


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        (
            "recaptcha-after-code.html",
            f'the site asks for a Google reCAPTCHA ("I\'m not a robot"): {BROWSER_ONLY}',
        ),
        ("hcaptcha-gate.html", f"the site asks for an hCaptcha challenge: {BROWSER_ONLY}"),
        (
            "turnstile-widget.html",
            f"the site answers with a Cloudflare Turnstile challenge: {BROWSER_ONLY}",
        ),
        (
            "cloudflare-challenge-403.html",
            f"the site answers with a Cloudflare Turnstile challenge: {BROWSER_ONLY}",
        ),
        (
            "bot-wall-incapsula.html",
            "an anti-bot wall (Imperva Incapsula) answered instead of the site: " + BROWSER_ONLY,
        ),
        (
            "interstitial-unknown.html",
            "the site shows a verification page creneau does not recognise: creneau cannot "
            "hand it to you; open the page in a browser. creneau does not retry it; it looks "
            "again at the next check",
        ),
    ],
)
def test_browser_only_challenges_say_creneau_cannot_hand_them_over(name: str, detail: str) -> None:
    reading = parse(name)
    assert (reading.status, english(reading.detail), reading.slots) == (Status.CAPTCHA, detail, ())


def test_a_cloudflare_challenge_served_as_403_is_a_challenge_not_a_refusal() -> None:
    headers = {"cf-mitigated": "challenge"}
    reading = parse("changed-layout.html", status=403, headers=headers)
    assert (reading.kind, reading.status, reading.rule, reading.facts, reading.challenge) == (
        "turnstile",
        Status.CAPTCHA,
        "CLOUDFLARE_CHALLENGE_HEADER",
        {},
        "turnstile",
    )
    assert parse("cloudflare-challenge-403.html", status=403).status is Status.CAPTCHA


def test_a_vendor_script_alone_on_a_slot_page_is_no_challenge() -> None:
    script = '<script src="https://www.google.com/recaptcha/api.js"></script>'
    criteria = {"premierJour": "04/05/2026", "dateMin": "04/05/2026", "datePremiereDispo": ""}
    on_slot_page = rdvpref.parse_page(page_with({"critere": criteria}, script))
    assert (on_slot_page.status, on_slot_page.rule) == (Status.NONE, "CRITERIA_FIRST_FREE_DAY")
    elsewhere = rdvpref.parse_page(page_with({}, f"<p>Un instant</p>{script}"))
    assert (elsewhere.status, elsewhere.rule) == (Status.CAPTCHA, "RECAPTCHA_SCRIPT")


def test_a_vendor_widget_on_a_slot_page_without_slots_is_a_challenge() -> None:
    widget = '<div class="h-captcha" data-sitekey="x"></div>'
    criteria = {"premierJour": "04/05/2026", "dateMin": "04/05/2026", "datePremiereDispo": ""}
    reading = rdvpref.parse_page(
        page_with({"critere": criteria}, widget + "Aucun créneau disponible")
    )
    assert (reading.status, reading.challenge) == (Status.CAPTCHA, "hcaptcha")


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


def page_with(vue_data: Mapping[str, object], body: str = "") -> Page:
    data = json.dumps({"vueData": vue_data})
    markup = f'<h1>D</h1>{body}<script type="application/json" id="vui-init-data">{data}</script>'
    return Page(f"{SITE}/7/creneau/", 200, markup.encode())


def test_slot_data_that_cannot_be_read_is_unknown_not_none() -> None:
    vue_data = {"tranches": [{"trhId": 1, "dateLocale": "31/02/2026", "minutesDebut": 540}]}
    reading = rdvpref.parse_page(page_with(vue_data, "<p>Aucun créneau disponible</p>"))
    assert (reading.kind, reading.status, english(reading.detail)) == (
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


# --- never NONE without the site saying so, never an exception ------------------------------

FRAGMENTS = st.sampled_from(
    [
        "Aucun créneau disponible",
        "Aucun créneau disponible sur cette semaine",
        "Choisissez votre créneau",
        "Dernière mise en ligne de rendez-vous : le 04/05/2026 à 11:58",
        "pour des créneaux de la semaine du 31/02/2026",
        "Prochaine disponibilité le 31/02/2026",
        '<input type="radio" id="trhId_1"><label for="trhId_1">25h99</label>',
        '<div class="blocCreneauSelection"><h3>lundi 40/13</h3>',
        "<rdv-choix-tranche>",
        "<rdv-captchetat token=x>",
        '<input name="captchaUsercode">',
        '<div class="g-recaptcha">',
        '<script src="https://js.hcaptcha.com/1/api.js"></script>',
        "window._cf_chl_opt",
        '<script type="application/json" id="vui-init-data">',
        "</script>",
        '{"vueData": {"t": [{"trhId": 1, "dateLocale": "18/05/2026"}]}}',
        '{"vueData": {"critere": {"premierJour": "x", "datePremiereDispo": ""}}}',
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
def test_random_pages_never_raise_and_never_say_none_unless_the_site_does(
    parts: list[str], status: int
) -> None:
    markup = "".join(parts)
    reading = rdvpref.parse_page(Page(f"{SITE}/1/creneau/", status, markup.encode()))
    if reading.status is Status.NONE:
        said = "aucun creneau disponible" in visible_text(markup)
        assert said or reading.rule == "CRITERIA_FIRST_FREE_DAY"
    assert len(reading.read_from) == len(reading.slots)


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


def fixture_page(name: str, step: str) -> Page:
    return Page.from_file(PAGES / name, url=f"{SITE}/4418/{step}")


@pytest.mark.parametrize(
    ("page", "status", "guichets", "challenge"),
    [
        # Sent to the démarche's home page instead of creneau/: the session is gone too.
        (fixture_page("demarche-home.html", ""), Status.CAPTCHA, [], "image"),
        (page_with({"t": [{"trhId": 1, "dateLocale": "x"}]}), Status.UNKNOWN, ["4418"], None),
        (fixture_page("recaptcha-after-code.html", "creneau/"), Status.CAPTCHA, [], "recaptcha"),
        (fixture_page("interstitial-unknown.html", "creneau/"), Status.CAPTCHA, [], "interstitial"),
    ],
)
async def test_check_reads_creneau_once_and_never_calls_a_page_none_it_does_not_know(
    page: Page, status: Status, guichets: list[str], challenge: str | None
) -> None:
    stand_in = OnePage(page)
    target = rdvpref.Target(name="allier", url=f"{SITE}/4418/")
    outcome = await rdvpref.check(target, stand_in)  # type: ignore[arg-type]
    assert (outcome.status, [g.id for g in outcome.guichets]) == (status, guichets)
    assert outcome.challenge == (challenge or "")
    assert stand_in.asked == [f"{SITE}/4418/creneau/"]  # one request: no retry


async def test_sent_home_says_the_session_is_gone_and_what_to_run() -> None:
    target = rdvpref.Target(name="allier", url=f"{SITE}/4418/")
    outcome = await rdvpref.check(target, OnePage(fixture_page("demarche-home.html", "")))  # type: ignore[arg-type]
    assert english(outcome.detail) == (
        "the site sent us back to the démarche's page: the site session is gone; "
        + IMAGE.format(name="allier")
    )


async def test_start_captcha_refuses_a_browser_only_challenge_with_its_reason() -> None:
    target = rdvpref.Target(name="allier", url=f"{SITE}/4418/")
    stand_in = OnePage(fixture_page("recaptcha-after-code.html", "cgu/"))
    with pytest.raises(rdvpref.CaptchaUnavailable) as refused:
        await rdvpref.start_captcha(target, stand_in)  # type: ignore[arg-type]
    assert refused.value.challenge == "recaptcha"
    assert str(refused.value) == (
        f'{SITE}/4418/cgu/: the site asks for a Google reCAPTCHA ("I\'m not a robot"): '
        + BROWSER_ONLY
    )
    assert stand_in.asked == [f"{SITE}/4418/cgu/"]


# --- the whole flow against the simulated site ----------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


TODAY = datetime(2026, 5, 4, 11, 58, 30, tzinfo=PARIS)


@pytest.fixture
def site(clock: FakeClock) -> RdvPrefecture:
    return RdvPrefecture(default_demarches(), session_ttl=600, clock=clock, now=lambda: TODAY)


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
    assert (outcome.status, english(outcome.detail), outcome.guichets, outcome.challenge) == (
        Status.CAPTCHA,
        "the site session has ended (the site says errorSessionInvalide); "
        + IMAGE.format(name="d4418"),
        (),
        "image",
    )
    assert outcome.facts == {}
    # robots.txt, creneau/ and the cgu/ page it redirects to; nothing is typed.
    assert requests == 3
    assert [(e.method, e.path, e.query, e.status) for e in site.log] == [
        ("GET", "/rdvpref/reservation/demarche/4418/creneau/", "", 302),
        ("GET", "/rdvpref/reservation/demarche/4418/cgu/", "error=errorSessionInvalide", 200),
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
        "BDC_VCID_captchaFR",
        "BDC_BackWorkaround_captchaFR",
        "captchaId",
    ]
    assert "$" in dict(challenge.fields)["CTX"]  # read from the page state, as a browser does

    wrong = await rdvpref.submit_captcha(target, person_session, challenge, "ZZZZZZ")
    assert (wrong.kind, wrong.status, english(wrong.detail)) == (
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
    assert (outcome.status, english(outcome.detail), requests) == (
        Status.AVAILABLE,
        "3 free slot(s) shown",
        2,  # robots.txt (this client's first request to the host), then creneau/
    )
    [guichet] = outcome.guichets
    assert (guichet.id, guichet.label, guichet.status) == ("4418", ALLIER, Status.AVAILABLE)
    assert [(s.start.isoformat(), s.key, s.guichet_id, s.guichet) for s in guichet.slots] == [
        (start, key, "4418", ALLIER) for start, key in zip(starts, released, strict=True)
    ]
    assert announced(outcome) == {**LAST_RELEASE, "first_availability": "2026-05-18"}

    site.take("4418")
    site.announce_next_release(
        "4418", datetime(2026, 5, 11, 12, 0, tzinfo=PARIS), date(2026, 5, 27)
    )
    clock.now += 599
    outcome, _ = await check_with(polite, target, cookies)
    assert (outcome.status, english(outcome.detail)) == (
        Status.NONE,
        "the site says no day is free from 04/05/2026 to 29/06/2026 (no first free day)",
    )
    assert announced(outcome) == BOTH_RELEASES

    clock.now += 1  # the site session is 600 s old: the site sends us back to cgu/
    outcome, _ = await check_with(polite, target, cookies)
    assert (outcome.status, outcome.facts, outcome.challenge) == (Status.CAPTCHA, {}, "image")
    assert english(outcome.detail).endswith("run `creneau captcha d4418` and type the code")
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


async def test_the_code_counts_only_with_the_pages_context(
    server: SimulatorServer, site: RdvPrefecture, person_session: Session
) -> None:
    # Vertigo-UI refuses a POST without the CTX of the page it serves.
    target = target_for(server)
    challenge = await rdvpref.start_captcha(target, person_session)
    code = site.captcha_code(person_session.cookies()["JSESSIONID"])
    without_context = rdvpref.CaptchaChallenge(
        challenge.image,
        challenge.content_type,
        challenge.form_url,
        tuple(field for field in challenge.fields if field[0] != "CTX"),
        challenge.code_field,
    )
    reading = await rdvpref.submit_captcha(target, person_session, without_context, code)
    assert (reading.status, reading.rule) == (Status.CAPTCHA, "SESSION_INVALID")


async def test_an_empty_code_is_not_sent(
    server: SimulatorServer, site: RdvPrefecture, person_session: Session
) -> None:
    target = target_for(server)
    challenge = await rdvpref.start_captcha(target, person_session)
    sent = len(site.log)
    with pytest.raises(ValueError, match="the code is empty"):
        await rdvpref.submit_captcha(target, person_session, challenge, "  ")
    assert len(site.log) == sent


async def test_a_recaptcha_chained_after_the_code_is_refused_plainly(
    server: SimulatorServer, site: RdvPrefecture, polite: PoliteClient, person_session: Session
) -> None:
    target = target_for(server, "9040")  # chains a reCAPTCHA after the image
    challenge = await rdvpref.start_captcha(target, person_session)
    code = site.captcha_code(person_session.cookies()["JSESSIONID"])
    sent = len(site.log)
    with pytest.raises(rdvpref.CaptchaUnavailable) as refused:
        await rdvpref.submit_captcha(target, person_session, challenge, code)
    assert (refused.value.challenge, str(refused.value)) == (
        "recaptcha",
        'after the code was sent, the site asks for a Google reCAPTCHA ("I\'m not a robot"): '
        + BROWSER_ONLY,
    )
    assert len(site.log) == sent + 1  # the POST only: nothing retried, nothing else tried
    # The daemon's check with that session names the same challenge, in one request.
    outcome, requests = await check_with(polite, target, person_session.cookies())
    assert (outcome.status, outcome.facts, outcome.challenge, requests) == (
        Status.CAPTCHA,
        {},
        "recaptcha",
        2,  # robots.txt, creneau/
    )
    with pytest.raises(rdvpref.CaptchaUnavailable, match="Google reCAPTCHA"):
        await rdvpref.start_captcha(target, person_session)
    assert_no_booking_request(site)


BOT_WALL_DETAIL = (
    "an anti-bot wall (Imperva Incapsula) answered instead of the site: " + BROWSER_ONLY
)
TURNSTILE_DETAIL = f"the site answers with a Cloudflare Turnstile challenge: {BROWSER_ONLY}"


@pytest.mark.parametrize(
    ("demarche", "status", "detail"),
    [
        ("1403", Status.BLOCKED, "HTTP 403: the site refuses our requests"),
        ("1502", Status.OVERLOADED, "HTTP 502 from the site"),
        ("1411", Status.CLOSED, 'the site says: "site en maintenance"'),
        ("1999", Status.UNKNOWN, "not a page of RDV Préfecture we know"),
        ("1666", Status.CAPTCHA, BOT_WALL_DETAIL),
        ("1777", Status.CAPTCHA, TURNSTILE_DETAIL),
    ],
)
async def test_failures_and_walls_are_reported_never_as_none(
    server: SimulatorServer,
    site: RdvPrefecture,
    polite: PoliteClient,
    demarche: str,
    status: Status,
    detail: str,
) -> None:
    outcome, _ = await check_with(polite, target_for(server, demarche))
    assert (outcome.status, english(outcome.detail), outcome.guichets) == (status, detail, ())
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
    assert isinstance(refused.value, UnsolvableCaptcha)  # what the CAPTCHA use case catches
    assert refused.value.challenge == ""


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


# --- in process: the real flow through the simulated internet ---------------------------------

RDVPREF_HOST, PISTE_HOST = "rdvpref.test", "piste.test"


class Internet:
    """The simulated site behind two host names, as the real one (its pages and the PISTE
    CAPTCHA service), and a client on a clock the test moves."""

    def __init__(self, **options: object) -> None:
        self.monotonic = 0.0
        self.site = RdvPrefecture(
            default_demarches(),
            session_ttl=600,
            clock=lambda: self.monotonic,
            now=lambda: TODAY,
            captchetat_url=f"https://{PISTE_HOST}/piste/captcha/simple-captcha-endpoint",
            **options,  # type: ignore[arg-type]
        )
        self.transport = SimulatedInternet(
            {RDVPREF_HOST: self.site, PISTE_HOST: self.site}, clock=lambda: self.monotonic
        )

    def client(self) -> PoliteClient:
        return PoliteClient(
            "t@example.org",
            lambda host: HostBudget(6000, 60),
            retry_backoff=0.01,
            monotonic=lambda: self.monotonic,
            transport=self.transport,
        )

    def target(self, demarche: str = "4418") -> rdvpref.Target:
        url = f"https://{RDVPREF_HOST}/rdvpref/reservation/demarche/{demarche}/"
        return rdvpref.Target(name=f"d{demarche}", url=url)

    async def open(self, target: rdvpref.Target) -> tuple[Reading, dict[str, str]]:
        async with self.client().session("captcha", target.url) as session:
            challenge = await rdvpref.start_captcha(target, session)
            code = self.site.captcha_code(session.cookies()["JSESSIONID"])
            reading = await rdvpref.submit_captcha(target, session, challenge, code)
            return reading, session.cookies()

    async def check(
        self, target: rdvpref.Target, cookies: dict[str, str] | None = None
    ) -> FlowOutcome:
        self.monotonic += 61  # past the floor between two checks of a target
        async with self.client().session(target.name, target.url, cookies=cookies) as session:
            return await rdvpref.check(target, session)

    def paths(self) -> list[tuple[str, str, str]]:
        return [(hit.host, hit.method, hit.path) for hit in self.transport.hits]


async def test_the_captchetat_service_on_its_own_host_is_reached_with_the_bearer_token() -> None:
    internet = Internet()
    target = internet.target()
    internet.site.release("4418", 2)
    reading, cookies = await internet.open(target)
    assert (reading.kind, len(reading.slots)) == ("creneau", 2)
    demarche = "/rdvpref/reservation/demarche/4418"
    endpoint = "/piste/captcha/simple-captcha-endpoint"
    assert internet.paths() == [
        (RDVPREF_HOST, "GET", "/robots.txt"),
        (RDVPREF_HOST, "GET", f"{demarche}/cgu/"),
        (PISTE_HOST, "GET", "/robots.txt"),
        (PISTE_HOST, "GET", endpoint),  # get=html
        (PISTE_HOST, "GET", endpoint),  # get=image
        (RDVPREF_HOST, "POST", f"{demarche}/_validerCaptcha"),
        (RDVPREF_HOST, "GET", f"{demarche}/creneau/"),
    ]
    outcome = await internet.check(target, cookies)
    assert (outcome.status, len(outcome.guichets[0].slots)) == (Status.AVAILABLE, 2)


@pytest.mark.parametrize(
    ("date_style", "expected"),
    [
        ("encoded-2024", LAST_RELEASE),
        ("encoded-2025", LAST_RELEASE),
        ("formatted", LAST_RELEASE),
    ],
)
async def test_the_last_release_survives_every_way_vertigo_writes_it(
    date_style: str, expected: dict[str, str]
) -> None:
    internet = Internet(date_style=date_style)
    target = internet.target("16040")
    internet.site.release("16040", 1, week_of=date(2026, 5, 18))
    internet.site.take("16040")
    reading, cookies = await internet.open(target)
    assert (reading.status, announced(reading)) == (Status.NONE, expected)
    outcome = await internet.check(target, cookies)
    assert (outcome.status, announced(outcome)) == (Status.NONE, expected)


async def test_a_site_that_opens_on_this_week_still_names_the_first_free_day() -> None:
    internet = Internet(opens_on_first_free_week=False)
    target = internet.target()
    internet.site.release("4418", 2, week_of=date(2026, 6, 15))
    reading, _ = await internet.open(target)
    assert (reading.kind, reading.status, reading.facts["first_availability"]) == (
        "creneau-later",
        Status.AVAILABLE,
        "2026-06-15",
    )


async def test_slots_win_over_a_banner_through_the_flow() -> None:
    internet = Internet()
    target = internet.target()
    internet.site.release("4418", 1)
    internet.site.set_banner("4418", "Une opération de maintenance est prévue ce soir.")
    reading, cookies = await internet.open(target)
    assert reading.status is Status.AVAILABLE
    outcome = await internet.check(target, cookies)
    assert (outcome.status, english(outcome.detail)) == (Status.AVAILABLE, "1 free slot(s) shown")


@pytest.mark.parametrize(
    ("challenge", "kind"),
    [
        ("recaptcha", "recaptcha"),
        ("hcaptcha", "hcaptcha"),
        ("turnstile", "turnstile"),
        ("bot-wall", "bot-wall"),
        ("interstitial", "interstitial"),
    ],
)
async def test_each_challenge_in_front_of_the_site_is_named_once_per_check(
    challenge: str, kind: str
) -> None:
    internet = Internet()
    internet.site.set_behaviour("4418", challenge)
    target = internet.target()
    outcome = await internet.check(target)
    assert (outcome.status, outcome.facts, outcome.challenge, outcome.guichets) == (
        Status.CAPTCHA,
        {},
        kind,
        (),
    )
    assert "only a browser" in english(outcome.detail) or "open the page in a browser" in english(
        outcome.detail
    )
    site_requests = [p for p in internet.paths() if p[2].startswith("/rdvpref/")]
    assert site_requests == [(RDVPREF_HOST, "GET", "/rdvpref/reservation/demarche/4418/creneau/")]


@pytest.mark.parametrize("challenge", ["recaptcha", "hcaptcha", "interstitial", "bot-wall"])
async def test_creneau_captcha_refuses_a_challenge_that_is_not_an_image(challenge: str) -> None:
    internet = Internet()
    internet.site.set_behaviour("4418", challenge)
    target = internet.target()
    async with internet.client().session("captcha", target.url) as session:
        with pytest.raises(rdvpref.CaptchaUnavailable) as refused:
            await rdvpref.start_captcha(target, session)
    assert refused.value.challenge == challenge
    assert not any(p[0] == PISTE_HOST for p in internet.paths())  # no image was asked for


async def test_a_turnstile_chained_after_the_code_stops_the_person_and_the_daemon() -> None:
    internet = Internet()
    internet.site.chain_challenge("4418", "turnstile")
    target = internet.target()
    async with internet.client().session("captcha", target.url) as session:
        challenge = await rdvpref.start_captcha(target, session)
        code = internet.site.captcha_code(session.cookies()["JSESSIONID"])
        with pytest.raises(rdvpref.CaptchaUnavailable) as refused:
            await rdvpref.submit_captcha(target, session, challenge, code)
        cookies = session.cookies()
    assert refused.value.challenge == "turnstile"
    assert refused.value.reading.rule == "CLOUDFLARE_CHALLENGE_HEADER"
    # The daemon's next check with that session meets the same page and names it.
    outcome = await internet.check(target, cookies)
    assert (outcome.status, english(outcome.detail), outcome.facts, outcome.challenge) == (
        Status.CAPTCHA,
        TURNSTILE_DETAIL,
        {},
        "turnstile",
    )
    assert_no_booking_request(internet.site)


def test_every_simulated_demarche_is_served_on_both_hosts_alike() -> None:
    internet = Internet()
    assert {d.id for d in internet.site.demarches.values()} >= {"4418", "9040", "1777"}
    assert internet.site.handles("/piste/captcha/simple-captcha-endpoint")
    with pytest.raises(ValueError, match="unknown challenge"):
        internet.site.chain_challenge("4418", "captcha-of-the-future")
    assert timedelta(seconds=internet.site.session_ttl) == timedelta(minutes=10)


# --- the site's own sentence for its next release, quoted as the page writes it -------------


def test_the_next_release_is_quoted_as_the_page_writes_it() -> None:
    releases = parse("creneau-none-with-last-release.html").releases
    assert releases is not None
    assert releases.next_said == (
        "Prochaine mise en ligne de nouveaux rendez-vous : le 11/05/2026 à 12:00 pour des "
        "créneaux de la semaine du 25/05/2026"
    )


@pytest.mark.parametrize(
    "name", ["creneau-none-formatted-instants.html", "creneau-none-iso-instants.html"]
)
def test_a_release_only_the_page_state_announces_has_no_sentence(name: str) -> None:
    releases = parse(name).releases
    assert releases is not None
    assert releases.next_at is not None
    assert releases.next_said == ""
    assert "next_release_said" not in announced(parse(name))


def test_the_quoted_sentence_keeps_case_accents_and_entities_and_collapses_whitespace() -> None:
    body = (
        "<p>Vous pouvez réessayer. PROCHAINE  MISE EN LIGNE de nouveaux rendez-vous&nbsp;:"
        "\n le 09/12/2026 &agrave; 10h00<br>pour des CRÉNEAUX de la semaine du 15/12/2026."
        " Merci.</p>"
    )
    releases = rdvpref.parse_page(page_with({}, body)).releases
    assert releases is not None
    assert releases.next_at == datetime(2026, 12, 9, 10, 0, tzinfo=PARIS)
    assert releases.next_said == (
        "PROCHAINE MISE EN LIGNE de nouveaux rendez-vous : le 09/12/2026 à 10h00 pour des "
        "CRÉNEAUX de la semaine du 15/12/2026"
    )


def test_a_sentence_without_its_week_is_quoted_up_to_the_time() -> None:
    body = "<p>Prochaine mise en ligne de rendez-vous : le 09/12/2026 à 10:00. À bientôt</p>"
    releases = rdvpref.parse_page(page_with({}, body)).releases
    assert releases is not None
    assert releases.next_said == "Prochaine mise en ligne de rendez-vous : le 09/12/2026 à 10:00"


def test_the_quoted_sentence_is_kept_to_its_limit_in_facts_read_back() -> None:
    at = datetime(2026, 12, 9, 10, 0, tzinfo=PARIS)
    said = "Prochaine mise en ligne " + "x" * (2 * SAID_LIMIT)
    facts = ReleaseAnnouncement(next_at=at, next_said=said).as_facts()
    back = ReleaseAnnouncement.from_facts(facts)
    assert back is not None
    assert back.next_at == at
    assert len(back.next_said) == SAID_LIMIT
    assert back.next_said.endswith("…")
    assert back.next_said.startswith("Prochaine mise en ligne xx")


def test_the_sentence_round_trips_through_facts_and_needs_its_instant() -> None:
    releases = parse("creneau-none-with-last-release.html").releases
    assert releases is not None
    assert ReleaseAnnouncement.from_facts(releases.as_facts()) == releases
    alone = {"last_release_at": "2026-05-04T11:58:00+02:00", "next_release_said": "Prochaine"}
    assert ReleaseAnnouncement.from_facts(alone) == ReleaseAnnouncement(
        last_at=datetime(2026, 5, 4, 11, 58, tzinfo=PARIS)
    )


@settings(deadline=None)
@given(st.text().filter(lambda text: "Σ" not in text))
def test_the_text_quoted_from_is_folded_as_phrases_are_matched(text: str) -> None:
    """The release phrases are matched on FoldedText as on `fold`: the same text, each of its
    characters knowing where it came from. (A capital sigma lowers by its place in a word,
    which a character alone cannot know: no French phrase has one.)"""
    folded = FoldedText.of(text)
    assert folded.folded.strip() == fold(text)
    assert len(folded.places) == len(folded.folded)
    assert list(folded.places) == sorted(folded.places)
