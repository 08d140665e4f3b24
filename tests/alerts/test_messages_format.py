"""How a message is written for each channel: page text is data (escaped for Markdown and
HTML, never markup; control characters removed), plain text with bare links, HTML with the
address visible, titles a channel puts in its body escaped too, and messages capped to what
the channel accepts with "and N more"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from markdown_it import MarkdownIt

from creneau.alerts.channels import Channel, channel_of
from creneau.alerts.messages import Messages

PARIS = ZoneInfo("Europe/Paris")
BOOKING_URL = "https://pref.example/booking/create/1"  # rendered only, never fetched
PHISHING = "[Réservez ICI](http://evil.example/phish) **URGENT** @everyone"
RICH = "[bold red]ALERTE[/bold red] [link=http://evil.example]lien[/link]"
ESCAPES = "\x1b[31mROUGE\x1b[0m \x1b]0;titre\x07 \x9b2J fin"
MARKDOWN = Channel("markdown", title_markup=True)
HTML = Channel("html")
TEXT = Channel("text")


def new_slots(*labels: str, target: str = "nanterre", count: int = 1) -> dict[str, Any]:
    first = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    slots = [
        {
            "guichet": label,
            "guichet_id": str(index),
            "start": (first + timedelta(minutes=10 * n, days=index)).isoformat(),
            "key": f"{index}-{n}",
        }
        for index, label in enumerate(labels)
        for n in range(count)
    ]
    return {"event": "new_slots", "target": target, "url": BOOKING_URL, "slots": slots}


def links(markdown: str) -> list[str]:
    html = MarkdownIt("commonmark").render(markdown)
    return [part.split('"', 1)[0] for part in html.split('<a href="')[1:]]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_phishing_label_is_shown_as_text_never_as_a_link(language: str) -> None:
    rendered = Messages(language, PARIS).render([new_slots(PHISHING)], MARKDOWN)
    html = MarkdownIt("commonmark").render(rendered.body)
    assert links(rendered.body) == [BOOKING_URL]
    assert "<strong>URGENT</strong>" not in html
    assert "[Réservez ICI](http://evil.example/phish) **URGENT** @everyone" in html
    assert r"\[Réservez ICI\](http://evil.example/phish) \*\*URGENT\*\* \@everyone" in (
        rendered.body
    )
    assert "evil.example" not in links(rendered.title)
    assert "<strong>" not in MarkdownIt("commonmark").render(rendered.title)


def test_page_text_in_every_kind_of_message_is_escaped() -> None:
    hostile = {
        "event": "page_changed",
        "target": "asile",
        "url": BOOKING_URL,
        "status": "unknown",
        "detail": f"{PHISHING} <img src=x onerror=alert(1)>",
        "saved_page": None,
    }
    gone = {**new_slots(PHISHING), "event": "slots_gone"}
    gone["slots"][0]["lasted"] = 600.0
    failing = {**hostile, "event": "failing", "since": "2026-11-23T07:00:00+00:00"}
    for event in (hostile, gone, failing):
        markdown = Messages("fr", PARIS).render([event], MARKDOWN).body
        assert "evil.example" not in " ".join(links(markdown))
        assert "<img" not in MarkdownIt("commonmark").render(markdown)
        html = Messages("fr", PARIS).render([event], HTML).body
        assert "<img" not in html
        assert 'href="http://evil' not in html


def test_a_digest_escapes_the_titles_it_quotes() -> None:
    rendered = Messages("fr", PARIS).render(
        [new_slots(PHISHING), new_slots("Guichet 2", target="bobigny")], MARKDOWN
    )
    assert rendered.title == "2 alertes creneau"
    assert links(rendered.body) == [BOOKING_URL, BOOKING_URL]
    assert r"### 1 nouveau créneau — \[Réservez ICI\](http://evil.example/phish)" in rendered.body


def test_rich_markup_and_escape_sequences_reach_no_channel() -> None:
    event = new_slots(RICH, ESCAPES)
    for channel in (MARKDOWN, HTML, TEXT):
        rendered = Messages("fr", PARIS).render([event], channel)
        for text in (rendered.title, rendered.body):
            assert not [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    plain = Messages("fr", PARIS).render([event], TEXT)
    assert "[31mROUGE[0m ]0;titre 2J fin" in plain.body
    assert RICH in plain.body  # plain text: shown as typed, nothing interprets it
    markdown = Messages("fr", PARIS).render([event], MARKDOWN).body
    assert r"\[bold red\]ALERTE\[/bold red\] \[link=http://evil.example\]lien\[/link\]" in (
        markdown
    )
    assert links(markdown) == [BOOKING_URL]


def test_html_escapes_page_text_and_shows_the_address() -> None:
    rendered = Messages("fr", PARIS).render([new_slots("<b>Guichet</b> & co")], HTML)
    assert rendered.format == "html"
    assert rendered.body == (
        "<b>nanterre</b> : 1 nouveau créneau<br><br><b>&lt;b&gt;Guichet&lt;/b&gt; &amp; co</b>"
        "<br>- mardi 1 décembre 2026 à 09:00<br><br>Réserver sur le site : "
        f'<a href="{BOOKING_URL}">{BOOKING_URL}</a><br><br>'
        "<i>creneau ne réserve jamais à votre place : réservez vous-même sur le site.</i>"
    )
    assert rendered.title == "1 nouveau créneau — <b>Guichet</b> & co"  # a plain subject


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            "nanterre : 1 nouveau créneau\n\nGuichet 1\n- mardi 1 décembre 2026 à 09:00\n\n"
            f"Réserver sur le site : {BOOKING_URL}\n\n"
            "creneau ne réserve jamais à votre place : réservez vous-même sur le site.",
        ),
        (
            "en",
            "nanterre: 1 new slot\n\nGuichet 1\n- Tuesday 1 December 2026, 09:00\n\n"
            f"Book on the site: {BOOKING_URL}\n\n"
            "creneau never books for you (« creneau ne réserve jamais à votre place »): book it "
            "yourself on the site.",
        ),
    ],
)
def test_plain_text_has_no_markdown_and_the_bare_link(language: str, expected: str) -> None:
    assert Messages(language, PARIS).render([new_slots("Guichet 1")], TEXT).body == expected


def test_what_apprise_says_of_each_channel() -> None:
    # Built from the URL only: nothing is sent, no host is looked up.
    assert channel_of("json://127.0.0.1:9/") == Channel("markdown", 32768, 250, True)
    assert channel_of("json://127.0.0.1:9/?format=text") == Channel("text", 32768, 250, False)
    assert channel_of("ntfy://127.0.0.1:9/topic") == Channel("text", 7800, 200, False)
    assert channel_of("mailto://127.0.0.1:9/?from=a@example.org") == Channel(
        "html", 32768, 250, False
    )
    assert channel_of("discord://123456/abcdefghijklmnop") == Channel("markdown", 2000, 250, True)
    sms = "twilio://AC1234567890123456789012345678901234:token1234567890@+33612345678/+33612345679"
    assert channel_of(sms) == Channel("text", 160, 0, False)
    assert channel_of("nosuchservice://abc") == Channel()


def test_an_sms_keeps_the_first_slot_and_the_link() -> None:
    sms = Channel("text", 160, 0, False)
    rendered = Messages("fr", PARIS).render([new_slots("Guichet 1", count=30)], sms)
    assert rendered.body.splitlines()[3] == "- mardi 1 décembre 2026 à 09:00"
    assert f"Réserver sur le site : {BOOKING_URL}" in rendered.body
    assert "… et " in rendered.body
    assert len(rendered.title) + len(rendered.body) < 600


def test_a_title_put_in_a_markdown_body_is_escaped() -> None:
    telegram = Channel("markdown", 4096, 0, True)
    rendered = Messages("fr", PARIS).render([new_slots(PHISHING)], telegram)
    assert rendered.title.startswith(r"1 nouveau créneau — \[Réservez ICI\]")


@pytest.mark.parametrize(
    ("language", "more"), [("fr", "… et 1150 autres"), ("en", "… and 1150 more")]
)
def test_a_huge_release_lists_the_first_slots_then_how_many_more(language: str, more: str) -> None:
    event = new_slots("Guichet 1", count=1200)
    event["slots"].reverse()  # the order they came in does not matter: by time
    rendered = Messages(language, PARIS).render([event])
    listed = [line for line in rendered.body.splitlines() if line.startswith("- ")]
    assert len(listed) == 50
    assert listed[0].endswith("09:00")
    assert listed[1].endswith("09:10")
    assert more in rendered.body
    assert len(rendered.body) < 4000


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("fr", "… et 98000 autres créneaux sur la page, non lus (creneau en lit 2000 au plus)"),
        ("en", "… and 98000 more slots on the page, not read (creneau reads 2000 at most)"),
    ],
)
def test_slots_a_page_showed_beyond_those_read_are_counted_in_the_message(
    language: str, said: str
) -> None:
    event = new_slots("Guichet 1", count=3) | {"not_kept": 98000}
    later = new_slots("Guichet 1", count=4) | {"not_kept": 98000}  # merged: said once
    rendered = Messages(language, PARIS).render([event, later])
    assert rendered.body.count(said) == 1
    assert "98000" not in Messages(language, PARIS).render([new_slots("Guichet 1")]).body


def test_a_long_title_is_cut_to_what_the_channel_takes() -> None:
    labels = [f"Guichet numéro {n} de la préfecture" for n in range(40)]
    ntfy = Channel("text", 7800, 200, False)
    rendered = Messages("fr", PARIS).render([new_slots(*labels)], ntfy)
    assert len(rendered.title) == 200
    assert rendered.title.startswith("40 nouveaux créneaux — Guichet numéro 0 de la préfecture")
    assert rendered.title.endswith("…")


def test_a_digest_too_long_for_the_channel_is_cut_at_a_line() -> None:
    trouble = [
        {
            "event": "page_changed",
            "target": f"cible-{n}",
            "url": BOOKING_URL,
            "status": "unknown",
            "detail": "x" * 250,
            "saved_page": None,
        }
        for n in range(40)
    ]
    discord = Channel("markdown", 2000, 250, True)
    body = Messages("fr", PARIS).render(trouble, discord).body
    assert len(body) <= 2000
    assert body.endswith("\n…")


def test_an_override_renders_in_every_format() -> None:
    custom = Messages(
        "fr",
        PARIS,
        {
            "new_slots": {
                "body": "{{ target | strong }} {{ slots[0].guichet }} {{ url | link('Go') }}"
            }
        },
    )
    event = new_slots(PHISHING)
    assert custom.render([event], TEXT).body == f"nanterre {PHISHING} Go : {BOOKING_URL}"
    assert links(custom.render([event], MARKDOWN).body) == [BOOKING_URL]
    old_style = Messages("fr", PARIS, {"new_slots": {"body": "[Réserver]({{ url }})"}})
    assert links(old_style.render([event], MARKDOWN).body) == [BOOKING_URL]
