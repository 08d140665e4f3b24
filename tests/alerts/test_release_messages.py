"""How the alerts of an announced release read (issue 26), in both languages and in every
format a channel takes: the site's announcement, a change, a withdrawal, and the "prepare"
alert that links to the dashboard's CAPTCHA page. Instants are fixed (mardi 9 décembre
2025, 10:00 à Paris), never today."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from creneau.alerts.channels import Channel
from creneau.alerts.messages import Messages
from creneau.alerts.outbox import prepare_event, release_event
from creneau.expected import Announcement
from creneau.results import CheckResult, Status

PARIS = ZoneInfo("Europe/Paris")
T = datetime(2025, 12, 9, 9, 0, tzinfo=UTC)
PAGE = "https://pref.example/rdv"  # rendered only, never fetched
DASHBOARD = "https://creneau.example"
RESULT = CheckResult("prefecture", "rdvpref", PAGE, Status.NONE, T - timedelta(hours=2))
NOW = Announcement("prefecture", T, datetime(2025, 12, 15).date(), T, T)
BEFORE = Announcement("prefecture", datetime(2025, 12, 8, 13, 30, tzinfo=UTC), None, T, T)
EVENTS: dict[str, dict[str, Any]] = {
    "release_announced": release_event(RESULT, "release_announced", NOW).event,
    "release_changed": release_event(RESULT, "release_changed", NOW, BEFORE).event,
    "release_withdrawn": release_event(RESULT, "release_withdrawn", NOW).event,
    "prepare_captcha": prepare_event(
        "prefecture", "rdvpref", PAGE, T, T - timedelta(minutes=5)
    ).event,
}
TEXT = {
    "fr": {
        "release_announced": (
            "Mise en ligne annoncée mardi 9 décembre à 10:00 — prefecture",
            "prefecture\nLe site annonce une mise en ligne mardi 9 décembre à 10:00, pour des "
            "créneaux de la semaine du 15 décembre.\ncreneau regardera dès 10:00 et vous "
            f"préviendra des créneaux qui apparaîtront.\n\n{PAGE}",
        ),
        "release_changed": (
            "Mise en ligne déplacée au mardi 9 décembre à 10:00 — prefecture",
            "prefecture\nLe site a changé la mise en ligne annoncée : mardi 9 décembre à 10:00, "
            "pour des créneaux de la semaine du 15 décembre, au lieu du lundi 8 décembre à "
            f"14:30.\n\n{PAGE}",
        ),
        "release_withdrawn": (
            "Mise en ligne retirée — prefecture",
            "prefecture\nLe site n'annonce plus la mise en ligne du mardi 9 décembre à 10:00. "
            f"creneau continue de surveiller comme d'habitude.\n\n{PAGE}",
        ),
        "prepare_captcha": (
            "CAPTCHA à résoudre avant 09:55 — prefecture",
            "prefecture\nMise en ligne annoncée à 10:00 — résolvez le CAPTCHA avant 09:55 pour "
            "que creneau regarde dès 10:00.\nRésoudre le CAPTCHA : "
            f'{DASHBOARD}/captcha/prefecture\n(ou, dans un terminal, lancez "creneau captcha '
            f'prefecture")\n\n{PAGE}',
        ),
    },
    "en": {
        "release_announced": (
            "Release announced for Tuesday 9 December at 10:00 — prefecture",
            "prefecture\nThe site announces a release on Tuesday 9 December at 10:00, for slots "
            "in the week of 15 December.\ncreneau will look from 10:00 and tell you of the "
            f"slots that appear.\n\n{PAGE}",
        ),
        "release_changed": (
            "Release moved to Tuesday 9 December at 10:00 — prefecture",
            "prefecture\nThe site changed the release it announced: Tuesday 9 December at "
            "10:00, for slots in the week of 15 December, instead of Monday 8 December at "
            f"14:30.\n\n{PAGE}",
        ),
        "release_withdrawn": (
            "Release withdrawn — prefecture",
            "prefecture\nThe site no longer announces the release of Tuesday 9 December at "
            f"10:00. creneau goes on watching as usual.\n\n{PAGE}",
        ),
        "prepare_captcha": (
            "CAPTCHA to solve before 09:55 — prefecture",
            "prefecture\nRelease announced at 10:00 — solve the CAPTCHA before 09:55 so that "
            f"creneau looks from 10:00.\nSolve the CAPTCHA: {DASHBOARD}/captcha/prefecture\n"
            f'(or, in a terminal, run "creneau captcha prefecture")\n\n{PAGE}',
        ),
    },
}


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", list(EVENTS))
def test_each_release_message_reads_right_in_plain_text(language: str, name: str) -> None:
    rendered = Messages(language, PARIS, dashboard_url=DASHBOARD).render(
        [EVENTS[name]], Channel("text")
    )
    assert (rendered.title, rendered.body) == TEXT[language][name]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", list(EVENTS))
def test_markdown_and_html_say_the_same_with_their_markup(language: str, name: str) -> None:
    """The plain text, with the target in bold and the links as each format writes them."""
    messages = Messages(language, PARIS, dashboard_url=DASHBOARD)
    title, text = TEXT[language][name]
    captcha = f"{DASHBOARD}/captcha/prefecture"
    label = {"fr": "Résoudre le CAPTCHA : ", "en": "Solve the CAPTCHA: "}[language]
    command = '"creneau captcha prefecture"'
    markdown = (
        text.replace("prefecture\n", "**prefecture**\n", 1)
        .replace(f"\n{PAGE}", f"\n<{PAGE}>")
        .replace(f"{label}{captcha}", f"[{label.rstrip(' :')}]({captcha})")
        .replace(command, "`creneau captcha prefecture`")
    )
    html = (
        text.replace("prefecture\n", "<b>prefecture</b>\n", 1)
        .replace(f"\n{PAGE}", f'\n<a href="{PAGE}">{PAGE}</a>')
        .replace(captcha, f'<a href="{captcha}">{captcha}</a>')
        .replace(command, "<code>creneau captcha prefecture</code>")
        .replace("\n", "<br>")
    )
    assert messages.render([EVENTS[name]], Channel("markdown")).body == markdown
    assert messages.render([EVENTS[name]], Channel("html")).body == html
    assert messages.render([EVENTS[name]], Channel("html")).title == title


def test_the_issue_s_own_words() -> None:
    french = Messages("fr", PARIS, dashboard_url=DASHBOARD)
    assert (
        "Le site annonce une mise en ligne mardi 9 décembre à 10:00, pour des créneaux de la "
        "semaine du 15 décembre"
    ) in french.render([EVENTS["release_announced"]]).body
    assert (
        "Mise en ligne annoncée à 10:00 — résolvez le CAPTCHA avant 09:55 pour que creneau "
        "regarde dès 10:00"
    ) in french.render([EVENTS["prepare_captcha"]]).body


def test_times_follow_the_configured_zone() -> None:
    montreal = Messages("fr", ZoneInfo("America/Montreal"))
    body = montreal.render([EVENTS["release_announced"]], Channel("text")).body
    assert "mardi 9 décembre à 04:00" in body


def test_without_a_dashboard_the_prepare_alert_names_the_command() -> None:
    body = Messages("en", PARIS).render([EVENTS["prepare_captcha"]], Channel("text")).body
    assert "captcha/" not in body
    assert 'Run "creneau captcha prefecture" and type the code from the image.' in body


def test_the_events_carry_no_secret_of_the_page_address() -> None:
    secret = CheckResult(
        "prefecture", "rdvpref", "https://user:pw@pref.example/rdv", Status.NONE, T
    )
    assert release_event(secret, "release_announced", NOW).event["url"] == PAGE
    prepared = prepare_event("prefecture", "rdvpref", "https://user:pw@pref.example/rdv", T, T)
    assert prepared.event["url"] == PAGE
    assert prepared.kind == "trouble"


# --- the site's own sentence, quoted as page text --------------------------------------------

SAID = (
    "Prochaine mise en ligne de nouveaux rendez-vous : le 09/12/2025 à 10:00 pour des créneaux "
    "de la semaine du 15/12/2025"
)
QUOTED = replace(NOW, said=SAID)
QUOTE = {"fr": f"Le site : « {SAID} »", "en": f'The site says: "{SAID}"'}


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", ["release_announced", "release_changed"])
@pytest.mark.parametrize("format", ["text", "markdown", "html"])
def test_a_release_message_quotes_the_site_in_every_format(
    language: str, name: str, format: str
) -> None:
    """The message without a sentence, and the site's own words on a line of their own right
    after what it announced."""
    event = release_event(RESULT, name, QUOTED, BEFORE if name == "release_changed" else None)
    assert event.event["said"] == SAID
    messages = Messages(language, PARIS, dashboard_url=DASHBOARD)
    plain = messages.render([EVENTS[name]], Channel(format)).body
    quoted = messages.render([event.event], Channel(format)).body
    newline = "<br>" if format == "html" else "\n"
    cut = plain.index(newline, plain.index(newline) + 1)  # after the announcement's sentence
    if name == "release_changed":  # its sentence ends the paragraph
        cut = plain.index(newline + newline)
    assert quoted == plain[:cut] + newline + QUOTE[language] + plain[cut:]


def test_the_issue_s_words_then_the_site_s() -> None:
    body = Messages("fr", PARIS).render([release_event(RESULT, "release_announced", QUOTED).event])
    assert (
        "Le site annonce une mise en ligne mardi 9 décembre à 10:00, pour des créneaux de la "
        f"semaine du 15 décembre.\nLe site : « {SAID} »\n"
    ) in body.body


def test_a_withdrawal_quotes_nothing() -> None:
    event = release_event(RESULT, "release_withdrawn", QUOTED).event
    assert "said" not in event
    assert "Prochaine" not in Messages("fr", PARIS).render([event], Channel("text")).body


HOSTILE = "Prochaine *mise* en ligne <b>le</b> [09/12](https://evil.example)\n# à 10:00 ] `x`"


@pytest.mark.parametrize(
    ("format", "shown"),
    [
        (
            "text",
            "Prochaine *mise* en ligne <b>le</b> [09/12](https://evil.example) # à 10:00 ] `x`",
        ),
        (
            "markdown",
            r"Prochaine \*mise\* en ligne \<b\>le\</b\> \[09/12\](https://evil.example) # à "
            r"10:00 \] \`x\`",
        ),
        (
            "html",
            "Prochaine *mise* en ligne &lt;b&gt;le&lt;/b&gt; [09/12](https://evil.example) # à "
            "10:00 ] `x`",
        ),
    ],
)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_site_s_sentence_is_data_in_every_format(
    format: str, shown: str, language: str
) -> None:
    """Markup in the sentence shows as itself; a newline in it starts no line (no heading)."""
    event = release_event(RESULT, "release_announced", replace(NOW, said=HOSTILE)).event
    body = Messages(language, PARIS).render([event], Channel(format)).body
    quote = {"fr": f"Le site : « {shown} »", "en": f'The site says: "{shown}"'}[language]
    assert quote in body
    if format != "text":  # plain text shows it as it is: nothing reads markup there
        assert "<b>le" not in body
    assert "\n# " not in body


def test_the_sentence_in_an_event_carries_no_secret_of_an_address() -> None:
    said = f"{SAID} https://user:pw@pref.example/rdv"
    event = release_event(RESULT, "release_announced", replace(NOW, said=said)).event
    assert event["said"] == f"{SAID} https://pref.example/rdv"
