"""What is alerted, and how it reads: deadline filter, slots gone, flapping slots, a long
failure; every message in French and English; the booking page of each slot, no secret in
an alert or the outbox, what a person can do about a CAPTCHA, slots whose time was not read;
the outbox and status commands."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from creneau.alert_kinds import Destination
from creneau.alerts.messages import Messages, check_overrides
from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.cli import cli
from creneau.results import CheckResult, GuichetResult, ReleaseAnnouncement, Slot, Status
from creneau.store import Store
from creneau.store.history import EVERYTHING, site_release_facts

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PHONE = [Destination("phone", "json://127.0.0.1:9/")]
HOUR = timedelta(hours=1)


def slot(day: int, hour: int = 9) -> Slot:
    start = datetime(2026, 12, day, hour, 0, tzinfo=PARIS)
    return Slot(start, "1", "Guichet 1", str(int(start.timestamp())))


def check(at: datetime, *slots: Slot, status: Status | None = None) -> CheckResult:
    status = status or (Status.AVAILABLE if slots else Status.NONE)
    return CheckResult(
        "nanterre",
        "ezbooking",
        "https://example.org/booking/create/1",
        status,
        at,
        guichets=(GuichetResult("1", "Guichet 1", status, tuple(slots)),),
    )


def events(store: Store) -> list[dict[str, Any]]:
    return [row.payload for row in store.notifications()]


def test_only_slots_before_the_deadline_alert_but_all_are_stored(store: Store) -> None:
    routing = Routing(PARIS, PHONE, before=date(2026, 12, 10))
    record(store, check(T0, slot(5), slot(20)), routing)
    assert [[s["start"] for s in e["slots"]] for e in events(store)] == [
        [slot(5).start.isoformat()]
    ]
    assert len(store.slots()) == 2


def test_within_counts_from_the_check(store: Store) -> None:
    routing = Routing(PARIS, PHONE, within=timedelta(days=12))  # until 5 Dec, 10:00 Paris
    record(store, check(T0, slot(1), slot(5), slot(20)), routing)
    assert [len(e["slots"]) for e in events(store)] == [2]


def test_nothing_is_sent_when_every_new_slot_is_past_the_deadline(store: Store) -> None:
    record(store, check(T0, slot(20)), Routing(PARIS, PHONE, before=date(2026, 12, 10)))
    assert events(store) == []


def test_slots_gone_are_told_with_how_long_they_lasted(store: Store) -> None:
    routing = Routing(PARIS, PHONE, on_gone=True)
    record(store, check(T0, slot(5), slot(6)), routing)
    record(store, check(T0 + timedelta(minutes=25), slot(6)), routing)
    gone = [e for e in events(store) if e["event"] == "slots_gone"]
    told = [(datetime.fromisoformat(s["start"]), s["lasted"]) for e in gone for s in e["slots"]]
    assert told == [(slot(5).start, 1500.0)]


def test_flapping_slots_are_announced_once(store: Store) -> None:
    routing = Routing(PARIS, PHONE, hysteresis=timedelta(minutes=10))
    for minutes, present in ((0, True), (2, False), (4, True), (6, False), (8, True)):
        record(
            store, check(T0 + timedelta(minutes=minutes), *([slot(5)] if present else [])), routing
        )
    assert [e["event"] for e in events(store)] == ["new_slots"]
    record(store, check(T0 + timedelta(minutes=10)), routing)
    record(store, check(T0 + timedelta(minutes=30), slot(5)), routing)  # gone for 20 min
    assert [e["event"] for e in events(store)] == ["new_slots", "new_slots"]


def test_a_long_failure_is_told_once(store: Store) -> None:
    routing = Routing(PARIS, PHONE, failing_after=timedelta(hours=2))
    record(store, check(T0), routing)
    for minutes in range(10, 6 * 60, 10):
        record(store, check(T0 + timedelta(minutes=minutes), status=Status.OVERLOADED), routing)
    failing = [e for e in events(store) if e["event"] == "failing"]
    assert [e["since"] for e in failing] == [(T0 + timedelta(minutes=10)).isoformat()]
    record(store, check(T0 + timedelta(hours=7)), routing)
    for minutes in range(10, 3 * 60, 10):
        at = T0 + timedelta(hours=7, minutes=minutes)
        record(store, check(at, status=Status.ERROR), routing)
    assert len([e for e in events(store) if e["event"] == "failing"]) == 2


# Only rendered into messages, never fetched; a reserved name (RFC 2606) that cannot resolve.
BOOKING_URL = "https://pref.example/booking/create/1"
SLOTS = [
    {
        "guichet": "Guichet 2",
        "guichet_id": "2",
        "start": "2026-12-01T08:00:00+00:00",
        "key": "a",
        "lasted": 5400.0,
    }
]
EVENTS: dict[str, dict[str, Any]] = {
    "new_slots": {"event": "new_slots", "target": "nanterre", "url": BOOKING_URL, "slots": SLOTS},
    "slots_gone": {
        "event": "slots_gone",
        "target": "nanterre",
        "url": BOOKING_URL,
        "slots": SLOTS,
    },
    "host_down": {
        "event": "host_down",
        "host": "pref.example",
        "status": "blocked",
        "reason": "HTTP 403",
        "until": "2026-11-23T10:05:00+00:00",
    },
    "host_up": {
        "event": "host_up",
        "host": "pref.example",
        "status": "none",
        "reason": "",
        "until": None,
    },
    "captcha": {
        "event": "captcha",
        "target": "allier",
        "url": BOOKING_URL,
        "status": "captcha",
        "detail": "",
        "saved_page": None,
        "challenge": "image",
    },
    "page_changed": {
        "event": "page_changed",
        "target": "asile",
        "url": BOOKING_URL,
        "status": "unknown",
        "detail": "no booking form",
        "saved_page": "/p.html",
    },
    "failing": {
        "event": "failing",
        "target": "nanterre",
        "url": BOOKING_URL,
        "status": "overloaded",
        "detail": "HTTP 502",
        "saved_page": None,
        "since": "2026-11-23T07:00:00+00:00",
    },
    "heartbeat": {
        "event": "heartbeat",
        "since": "2026-11-22T08:00:00+00:00",
        "checks": 288,
        "targets": [
            {
                "target": "nanterre",
                "checks": 288,
                "status": "none",
                "last_release": "2026-11-20T23:58:00+00:00",
            }
        ],
    },
    "test": {"event": "test"},
}
TITLES = {
    "fr": {
        "new_slots": "1 nouveau créneau — Guichet 2",
        "slots_gone": "1 créneau parti — nanterre",
        "host_down": "Site bloqué : pref.example",
        "host_up": "Site de nouveau joignable : pref.example",
        "captcha": "Action requise : allier",
        "page_changed": "Page modifiée : asile",
        "failing": "Surveillance en échec : nanterre",
        "heartbeat": "creneau veille toujours",
        "test": "creneau : message de test",
    },
    "en": {
        "new_slots": "1 new slot — Guichet 2",
        "slots_gone": "1 slot gone — nanterre",
        "host_down": "Site blocking us: pref.example",
        "host_up": "Site reachable again: pref.example",
        "captcha": "Action needed: allier",
        "page_changed": "Page changed: asile",
        "failing": "Watching is failing: nanterre",
        "heartbeat": "creneau is still watching",
        "test": "creneau: test message",
    },
}
BODY_MARKS = {
    "fr": {
        "new_slots": "- mardi 1 décembre 2026 à 09:00",
        "slots_gone": "visible 1 h 30",
        "host_down": "réessaiera vers 11:05",
        "captcha": "`creneau captcha allier`",
        "page_changed": "Page enregistrée : /p.html",
        "failing": "depuis lundi 23 novembre 2026 à 08:00",
        "heartbeat": "dernière apparition de créneaux samedi 21 novembre 2026 à 00:58",
    },
    "en": {
        "new_slots": "- Tuesday 1 December 2026, 09:00",
        "slots_gone": "visible for 1 h 30 min",
        "host_down": "around 11:05",
        "captcha": "`creneau captcha allier`",
        "page_changed": "Page saved: /p.html",
        "failing": "since Monday 23 November 2026, 08:00",
        "heartbeat": "slots last appeared Saturday 21 November 2026, 00:58",
    },
}


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", list(EVENTS))
def test_every_message_reads_right(language: str, name: str) -> None:
    rendered = Messages(language, PARIS).render([EVENTS[name]])
    assert rendered.title == TITLES[language][name]
    assert BODY_MARKS[language].get(name, "") in rendered.body


def test_every_slot_message_says_creneau_never_books() -> None:
    for language in ("fr", "en"):
        body = Messages(language, PARIS).render([EVENTS["new_slots"]]).body
        assert "creneau ne réserve jamais à votre place" in body
        assert BOOKING_URL in body


def test_templates_can_be_overridden_and_bad_ones_are_named() -> None:
    custom = Messages("fr", PARIS, {"new_slots": {"title": "RDV ! {{ count }} à {{ target }}"}})
    assert custom.render([EVENTS["new_slots"]]).title == "RDV ! 1 à nanterre"
    assert check_overrides(
        {"new_slot": {"title": "x"}, "captcha": {"title": "{{ oops", "subject": "x"}}
    ) == [
        "new_slot: unknown message (known: new_slots, slots_gone, host_down, host_up, "
        "captcha, page_changed, failing, stalled, config_refused, store_failing, heartbeat, test, "
        "digest, release_announced, release_changed, release_withdrawn, prepare_captcha)",
        "captcha.title: unexpected end of template, expected 'end of print statement'.",
        "captcha.subject: unknown key (title or body)",
    ]


def config_with(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[creneau]\ncontact = "a@b.org"\ndatabase = "sqlite:///c.db"\n'
        '[[notify]]\nname = "phone"\nurls = ["json://127.0.0.1:9/"]\n'
        '[[target]]\nname = "nanterre"\nsystem = "ezbooking"\n'
        'url = "https://example.org/booking/create/1"\n'
    )
    return path


def test_outbox_lists_what_waits_and_retry_makes_it_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = config_with(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.upgrade()
    record(store, check(T0, slot(5)), Routing(PARIS, PHONE))
    row = store.notifications()[0]
    store.outbox.mark_failed([row.id], "HTTP 503 from ntfy", None)
    listing = CliRunner().invoke(cli, ["outbox", "--config", str(path)])
    assert listing.exit_code == 0, listing.output
    assert "failed" in listing.stdout
    assert "1 nouveau créneau — Guichet 1" in listing.stdout
    assert "HTTP 503 from ntfy" in listing.stdout
    retried = CliRunner().invoke(cli, ["outbox", "retry", str(row.id), "--config", str(path)])
    assert retried.exit_code == 0
    assert store.notifications()[0].state == "pending"
    missing = CliRunner().invoke(cli, ["outbox", "retry", "999", "--config", str(path)])
    assert missing.exit_code == 2


def test_status_shows_last_and_next_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = config_with(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.upgrade()
    record(store, check(T0, slot(5)), Routing(PARIS, PHONE))
    store.save_next_check("nanterre", T0 + timedelta(minutes=5), T0)
    done = CliRunner().invoke(cli, ["status", "--config", str(path)])
    assert done.exit_code == 0, done.output
    assert "2026-11-23 10:00:00" in done.stdout  # last check, Paris time
    assert "2026-11-23 10:05:00" in done.stdout  # next check
    assert "available" in done.stdout
    assert "outbox: 1 pending, 0 failed" in done.stdout


# --- what an alert holds: the page to book on, no secret, the challenge, unread times -------

ANTS_API = "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition"
MAIRIE = "https://rdv.mairie10.paris.fr/passeport-cni?date=2026-06-02T09:00"  # never fetched


def ants_check(at: datetime, booking_urls: dict[str, str]) -> CheckResult:
    slots = tuple(
        Slot(
            datetime(2026, 6, 2, hour, 0, tzinfo=PARIS),
            "1201",
            "Mairie du 10e",
            f"k{hour}",
            booking_url=booking_urls.get(f"k{hour}", ""),
        )
        for hour in (9, 10)
    )
    return CheckResult(
        "passeport",
        "ants",
        ANTS_API,
        Status.AVAILABLE,
        at,
        guichets=(GuichetResult("1201", "Mairie du 10e", Status.AVAILABLE, slots),),
    )


def test_ants_alerts_link_each_slot_to_its_booking_page_never_to_the_api(store: Store) -> None:
    booking_urls = {"k9": MAIRIE, "k10": "javascript:alert(1)"}
    record(store, ants_check(T0, booking_urls), Routing(PARIS, PHONE))
    event = events(store)[0]
    assert event["url"] == "https://rendezvouspasseport.ants.gouv.fr/"
    assert [s.get("booking_url") for s in event["slots"]] == [MAIRIE, None]
    body = Messages("fr", PARIS).render([event]).body
    assert "api/SlotsFromPosition" not in body
    assert "javascript" not in body
    assert (
        "- mardi 2 juin 2026 à 09:00 — [réserver ce créneau]"
        "(https://rdv.mairie10.paris.fr/passeport-cni?date=2026-06-02T09:00)\n"
        "- mardi 2 juin 2026 à 10:00\n" in body
    )
    assert "[Réserver sur le site](https://rendezvouspasseport.ants.gouv.fr/)" in body


def test_secrets_in_a_target_url_reach_neither_the_outbox_nor_the_alert(store: Store) -> None:
    import json

    from creneau import redact

    redact.register("pw-Zq81xx")
    redact.register("key-Pz3Lmm")
    url = "http://admin:pw-Zq81xx@pref.example/ok?apikey=key-Pz3Lmm&demarche=12"
    result = CheckResult(
        "nanterre",
        "html",
        url,
        Status.AVAILABLE,
        T0,
        detail=f"read {url}",
        guichets=(GuichetResult("1", "Guichet 1", Status.AVAILABLE, (slot(5),)),),
    )
    record(store, result, Routing(PARIS, PHONE))
    record(
        store,
        dataclasses.replace(result, status=Status.UNKNOWN, checked_at=T0 + HOUR),
        Routing(PARIS, PHONE),
    )
    stored = json.dumps(events(store))
    for secret in ("pw-Zq81xx", "key-Pz3Lmm", "admin:"):
        assert secret not in stored
    assert [e["url"] for e in events(store)] == ["http://pref.example/ok?demarche=12"] * 2
    for language in ("fr", "en"):
        for event in events(store):
            body = Messages(language, PARIS).render([event]).body
            assert "pw-Zq81xx" not in body
            assert "key-Pz3Lmm" not in body
            assert "http://pref.example/ok?demarche=12" in body


def test_old_payloads_with_credentials_are_linked_without_them() -> None:
    from creneau import redact

    redact.register("tok-Wq55rr")
    event = {
        "event": "new_slots",
        "target": "nanterre",
        "url": "https://user:tok-Wq55rr@pref.example/a?t=tok-Wq55rr",
        "slots": SLOTS,
    }
    body = Messages("fr", PARIS).render([event]).body
    assert "[Réserver sur le site](https://pref.example/a)" in body
    assert "tok-Wq55rr" not in body


def test_the_typed_booking_pages_challenge_and_releases_are_stored_as_the_check_facts_were(
    store: Store,
) -> None:
    """Slot.booking_url, CheckResult.challenge and .releases are kept in the checks' facts
    column, in the format stored before they were typed (issue 25): older rows read the
    same, and the site's announcements are found again."""
    record(store, ants_check(T0, {"k9": MAIRIE}), Routing(PARIS, PHONE))
    announced = ReleaseAnnouncement(
        last_at=datetime(2026, 5, 4, 11, 58, tzinfo=PARIS), last_week=date(2026, 5, 18)
    )
    captcha = dataclasses.replace(
        check(T0 + timedelta(minutes=5), status=Status.CAPTCHA),
        challenge="recaptcha",
        releases=announced,
    )
    record(store, captcha, Routing(PARIS, PHONE))
    ants, allier = store.checks("passeport")[0], store.checks(captcha.target)[0]
    assert ants.facts == {"booking_url:k9": MAIRIE}
    assert (ants.booking_url("k9"), ants.booking_url("k10")) == (MAIRIE, "")
    assert allier.facts == {
        "last_release_at": "2026-05-04T11:58:00+02:00",
        "last_release_week": "2026-05-18",
        "challenge": "recaptcha",
    }
    assert site_release_facts(store, EVERYTHING)[captcha.target].as_facts() == {
        "last_release_at": "2026-05-04T11:58:00+02:00",
        "last_release_week": "2026-05-18",
    }


@pytest.mark.parametrize(
    ("challenge", "fr", "en"),
    [
        (
            "image",
            "Lancez `creneau captcha allier` et recopiez le code de l'image",
            "Run `creneau captcha allier` and type the code from the image",
        ),
        (
            "recaptcha",
            "le site demande un reCAPTCHA de Google (« Je ne suis pas un robot »). creneau ne le "
            "passe jamais et ne peut pas vous le transmettre : seul un navigateur sur le site "
            "peut le passer. creneau regarde de nouveau à chaque vérification.",
            'the site asks for a Google reCAPTCHA ("I\'m not a robot"). creneau never passes it '
            "and cannot hand it to you: only a browser on the site can pass it. creneau looks "
            "again at each check.",
        ),
        ("turnstile", "une vérification Cloudflare Turnstile", "a Cloudflare Turnstile check"),
        ("bot-wall", "un contrôle anti-robots", "an anti-bot check"),
        ("interstitial", "une page de vérification", "a verification page"),
        ("hcaptcha", "un test hCaptcha", "an hCaptcha challenge"),
    ],
)
def test_a_captcha_alert_says_what_a_person_can_do(
    store: Store, challenge: str, fr: str, en: str
) -> None:
    result = dataclasses.replace(
        check(T0, status=Status.CAPTCHA), target="allier", challenge=challenge
    )
    record(store, result, Routing(PARIS, PHONE))
    event = events(store)[0]
    assert (event["event"], event["challenge"]) == ("captcha", challenge)
    for language, says in (("fr", fr), ("en", en)):
        body = Messages(language, PARIS).render([event]).body
        assert says in body
        assert ("creneau captcha allier" in body) == (challenge == "image")


def test_a_slot_whose_time_was_not_read_shows_its_text_not_1970(store: Store) -> None:
    stand_in = datetime(1970, 1, 9, 3, 25, 7, tzinfo=UTC)
    unread = Slot(stand_in, "1", "Guichet 1 — Mardi matin", "time-not-read:Mardi matin")
    result = check(T0, slot(5), unread)
    record(store, result, Routing(PARIS, PHONE))
    event = events(store)[0]
    assert [s.get("time_known", True) for s in event["slots"]] == [False, True]
    french = Messages("fr", PARIS).render([event]).body
    assert "**Guichet 1**\n- samedi 5 décembre 2026 à 09:00\n- Mardi matin (heure non lue)\n" in (
        french
    )
    assert "1970" not in french
    english = Messages("en", PARIS).render([event])
    assert "- Mardi matin (time not read)" in english.body
    assert english.title == "2 new slots — Guichet 1"
