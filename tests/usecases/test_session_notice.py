"""What the dashboard and `creneau status` say of a person's site session near an announced
release: from T − prepare to T while the last check met a CAPTCHA, solve it before the
prepare alert's instant; from T, when no session was ready at T, that creneau checked
anyway; otherwise nothing. Decided on a clock the test gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from creneau.alerts.outbox import Routing
from creneau.check.record import record
from creneau.config import Config
from creneau.expected import DEFAULT_PREPARE, FOLLOWED_FOR, Announcement
from creneau.results import CheckResult, ReleaseAnnouncement, Status
from creneau.store import Store
from creneau.usecases.release_texts import next_release_line, session_text
from creneau.usecases.session_notice import (
    SessionNotice,
    needs_session,
    session_notice,
    session_notices,
)

PARIS = ZoneInfo("Europe/Paris")
AT = datetime(2025, 12, 9, 10, 0, tzinfo=PARIS)  # the announced instant (never today's)
PENDING = Announcement("cergy", AT, None, AT - timedelta(hours=2), AT - timedelta(hours=1))
CERGY = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1234/"


def notice(
    now: datetime,
    followed: Announcement | None = PENDING,
    last_status: str | None = "captcha",
    needs: bool = True,
) -> SessionNotice | None:
    return session_notice(
        followed, needs_session=needs, last_status=last_status, prepare=DEFAULT_PREPARE, now=now
    )


def test_from_prepare_to_t_a_captcha_waiting_is_to_be_solved_before_the_alert_s_instant() -> None:
    assert notice(AT - DEFAULT_PREPARE - timedelta(seconds=1)) is None
    solve = SessionNotice("solve_captcha", AT, AT - timedelta(minutes=5))
    assert notice(AT - DEFAULT_PREPARE) == solve
    assert notice(AT - timedelta(seconds=1)) == solve
    # A session ready (the last check read the page), or a system without sessions: nothing.
    assert notice(AT - timedelta(minutes=3), last_status="none") is None
    assert notice(AT - timedelta(minutes=3), needs=False) is None
    assert notice(AT - timedelta(minutes=3), followed=None) is None
    withdrawn = replace(PENDING, outcome="withdrawn")
    assert notice(AT - timedelta(minutes=3), followed=withdrawn) is None


def test_from_t_a_session_not_ready_is_said_while_the_announcement_is_followed() -> None:
    missed = replace(PENDING, session_ready=False)
    assert notice(AT, followed=missed) == SessionNotice("not_ready", AT)
    released = replace(missed, outcome="released", released_seen_at=AT + timedelta(seconds=30))
    assert notice(AT + timedelta(minutes=2), followed=released) == SessionNotice("not_ready", AT)
    assert notice(AT + FOLLOWED_FOR + timedelta(seconds=1), followed=missed) is None
    assert notice(AT + timedelta(minutes=1), followed=replace(PENDING, session_ready=True)) is None
    assert notice(AT + timedelta(minutes=1)) is None  # not known: nothing said


def test_the_words_are_the_prepare_alert_s_in_both_languages() -> None:
    solve = SessionNotice("solve_captcha", AT, AT - timedelta(minutes=5))
    assert session_text(solve, PARIS, "fr") == (
        "Mise en ligne annoncée à 10:00 — résolvez le CAPTCHA avant 09:55 pour que creneau "
        "regarde dès 10:00"
    )
    assert session_text(solve, PARIS, "en") == (
        "Release announced at 10:00 — solve the CAPTCHA before 09:55 so that creneau looks "
        "from 10:00"
    )
    missed = SessionNotice("not_ready", AT)
    assert session_text(missed, PARIS, "fr") == (
        "Aucune session n'était prête à 10:00 : creneau a vérifié quand même"
    )
    assert session_text(missed, ZoneInfo("UTC"), "en") == (
        "No session was ready at 09:00: creneau checked anyway"
    )
    assert session_text(None, PARIS, "fr") == ""
    assert next_release_line("cergy", None, PARIS, "en", missed) == (
        "cergy — next release: none known; No session was ready at 10:00: creneau checked anyway"
    )


def test_which_systems_need_a_person_s_session() -> None:
    assert needs_session("rdvpref")
    assert not needs_session("ezbooking")
    assert not needs_session("no such system")


def test_read_from_the_store_for_each_configured_target(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.upgrade()
    config = Config.model_validate(
        {
            "creneau": {"contact": "tests@example.org", "timezone": "Europe/Paris"},
            "target": [{"name": "cergy", "system": "rdvpref", "url": CERGY}],
        }
    )
    said = ReleaseAnnouncement(next_at=AT)
    for at, status, releases in (
        (AT - timedelta(hours=1), Status.NONE, said),
        (AT - timedelta(minutes=9), Status.CAPTCHA, None),
    ):
        result = CheckResult("cergy", "rdvpref", CERGY, status, at, releases=releases)
        record(store, result, Routing(PARIS))
    now = AT - timedelta(minutes=7)
    assert session_notices(store, config, now) == {
        "cergy": SessionNotice("solve_captcha", AT, AT - timedelta(minutes=5))
    }
    assert session_notices(store, config, datetime(2025, 12, 1, tzinfo=UTC)) == {"cergy": None}
    store.close()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_notice_adds_nothing_to_the_line(language: str) -> None:
    assert next_release_line("cergy", None, PARIS, language) == next_release_line(
        "cergy", None, PARIS, language, None
    )
