"""How alerts read. Each event in the outbox is rendered, when it is sent, by a Jinja2
template, in the format the channel shows: plain text (with bare links), Markdown or HTML
(with the address visible, so that an e-mail's text part keeps it). Every value a template
prints is data: control characters removed, escaped for the format; markup comes only from
the filters (`strong`, `em`, `code`, `link`, `heading`). Defaults in French and English; the
config can override any template. Several events for one URL make one message, capped to
what the channel accepts."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined, Template, TemplateError

from creneau.alerts import release_messages
from creneau.alerts.channels import Channel
from creneau.config import WebSettings
from creneau.dates import day_in_words, long_datetime, message_duration
from creneau.details import from_payload, render
from creneau.redact import booking_link
from creneau.sources.reading import MAX_SLOTS_PER_PAGE
from creneau.targets import NAME_PATTERN

KINDS = {
    "new_slots": "slots", "slots_gone": "slots",
    "host_down": "trouble", "host_up": "trouble", "captcha": "trouble",
    "page_changed": "trouble", "failing": "trouble",
    "heartbeat": "heartbeat", "test": "test", **release_messages.RELEASE_KINDS,
}  # fmt: skip
EVENTS = tuple(KINDS)
LANGUAGES = ("fr", "en")

# A message lists at most this many slots per target, the first by time, then "and N more":
# past that, a list helps nobody choose (a release of 1,200 slots once made 40,962 characters).
MAX_SLOTS_LISTED = 50
MAX_FIELD = 300  # a label or detail from a page, in characters

# Slots whose time the page did not show readably carry a stand-in start in January 1970
# (sources/html/: UNREADABLE_TIME_BASE) and the element's text in their key.
TIME_KNOWN_FROM = datetime(1971, 1, 1, tzinfo=UTC)
UNREADABLE_KEY_PREFIX = "time-not-read:"  # sources/html/: UNREADABLE_KEY_PREFIX

_FR: dict[str, dict[str, str]] = {
    "new_slots": {
        "title": "{{ count }} {{ 'nouveau créneau' if count == 1 else 'nouveaux créneaux' }}"
                 " — {{ guichets | join(', ') }}",
        "body": (
            "{{ target | strong }} : {{ count }} "
            "{{ 'nouveau créneau' if count == 1 else 'nouveaux créneaux' }}\n"
            "{% for guichet, slots in by_guichet %}\n{{ guichet | strong }}\n"
            "{% for slot in slots %}- {{ slot | when }}"
            "{% if slot.booking_url %} — {{ slot.booking_url | link('réserver ce créneau') }}"
            "{% endif %}\n{% endfor %}{% endfor %}"
            "{% if more %}… et {{ more }} {{ 'autre' if more == 1 else 'autres' }}\n{% endif %}"
            "{% if not_kept %}… et {{ not_kept }} {{ 'autre créneau' if not_kept == 1 else "
            "'autres créneaux' }} sur la page, non {{ 'lu' if not_kept == 1 else 'lus' }} "
            "(creneau en lit {{ max_read }} au plus)\n{% endif %}"
            "{% if gone_meanwhile %}\n{{ gone_meanwhile }} "
            "{{ 'autre créneau apparu entre-temps est déjà parti' if gone_meanwhile == 1 else "
            "'autres créneaux apparus entre-temps sont déjà partis' }}.\n{% endif %}"
            "\n{{ url | link('Réserver sur le site') }}\n\n"
            "{{ 'creneau ne réserve jamais à votre place : réservez vous-même sur le site.'"
            " | em }}"),
    },
    "slots_gone": {
        "title": "{{ count }} {{ 'créneau parti' if count == 1 else 'créneaux partis' }}"
                 " — {{ target }}",
        "body": (
            "{{ target | strong }} : {{ 'ce créneau a' if count == 1 else 'ces créneaux ont' }}"
            " disparu.\n"
            "{% for slot in slots %}- {{ slot | when }} ({{ slot.guichet }}), "
            "visible {{ slot.lasted | duration }}\n{% endfor %}"
            "{% if more %}… et {{ more }} {{ 'autre' if more == 1 else 'autres' }}{% endif %}"),
    },
    "host_down": {
        "title": "Site {{ 'bloqué' if status == 'blocked' else 'surchargé' }} : {{ host }}",
        "body": (
            "{{ host }} {{ 'refuse nos requêtes' if status == 'blocked' else 'est surchargé' }}"
            " ({{ reason }}). creneau se met en pause et réessaiera vers {{ until | clock }}, "
            "tout seul : vous n'avez rien à faire. Vous serez prévenu quand le site répondra "
            "de nouveau."),
    },
    "host_up": {
        "title": "Site de nouveau joignable : {{ host }}",
        "body": "{{ host }} répond de nouveau ; creneau a repris la surveillance.",
    },
    "captcha": {
        "title": "Action requise : {{ target }}",
        "body": (
            "{{ target | strong }} : "
            "{% if challenge == 'image' %}le site demande un CAPTCHA (une image à recopier). "
            "creneau ne le résout jamais. "
            "{% if captcha_page %}Recopiez le code de l'image sur cette page du tableau de "
            "bord : {{ captcha_page | link }}\n(ou, dans un terminal, lancez "
            "{{ ('creneau captcha ' ~ target) | code }}) ; creneau reprendra ensuite la "
            "surveillance.{% else %}Lancez {{ ('creneau captcha ' ~ target) | code }} et "
            "recopiez le code de l'image ; creneau reprendra ensuite la surveillance.{% endif %}"
            "{% else %}le site demande {{ challenge_name }}. creneau ne le passe jamais et ne "
            "peut pas vous le transmettre : seul un navigateur sur le site peut le passer. "
            "creneau regarde de nouveau à chaque vérification.{% endif %}"
            "\n\n{{ url | link }}"),
    },
    "page_changed": {
        "title": "Page modifiée : {{ target }}",
        "body": (
            "{{ target | strong }} : creneau ne reconnaît plus la page ({{ detail }}). "
            "Impossible de dire s'il y a des créneaux : vérifiez vous-même.\n\n{{ url | link }}"
            "{% if saved_page %}\n\nPage enregistrée : {{ saved_page }}{% endif %}"),
    },
    "failing": {
        "title": "Surveillance en échec : {{ target }}",
        "body": (
            "{{ target | strong }} : aucune réponse claire du site depuis {{ since | when }} "
            "(dernier état : {{ status }}, {{ detail }}). creneau continue d'essayer."),
    },
    "stalled": {
        "title": "creneau ne vérifie plus comme prévu",
        "body": (
            "creneau n'a pas fait les vérifications prévues :\n"
            "{% for line in late %}- {{ line }}\n{% endfor %}"
            "\nSans vérification, pas d'alerte : regardez ses journaux, ou redémarrez-le."),
    },
    "config_refused": {
        "title": "creneau n'a pas repris sa configuration modifiée",
        "body": (
            "La configuration modifiée contient une erreur ; creneau continue avec "
            "l'ancienne :\n{% for line in problems %}- {{ line }}\n{% endfor %}"),
    },
    "store_failing": {
        "title": "creneau ne peut plus écrire dans sa base de données",
        "body": (
            "creneau ne peut plus écrire dans sa base de données ({{ reason }}) depuis "
            "{{ since | when }}. Il continue de vérifier et vous envoie directement les "
            "nouveaux créneaux ; rien n'est enregistré tant que la base ne fonctionne pas de "
            "nouveau (vérifiez le disque et le fichier), puis il rattrape ce qu'il a vu."),
    },
    "heartbeat": {
        "title": "creneau veille toujours",
        "body": (
            "{{ checks }} vérifications depuis {{ since | when }}."
            "{% for line in targets %}\n- {{ line.target | strong }} : {{ line.checks }} "
            "vérifications, dernier état {{ line.status }}"
            "{% if line.last_release %}, dernière apparition de créneaux "
            "{{ line.last_release | when }}{% endif %}{% endfor %}"),
    },
    "test": {
        "title": "creneau : message de test",
        "body": ("Ce canal recevra les alertes de créneaux. "
                 "{{ 'creneau ne réserve jamais à votre place : réservez vous-même sur le site.'"
                 " | em }}"),
    },
    "digest": {
        "title": "{{ count }} alertes creneau",
        "body": (
            "{% for part in parts %}{{ part.title | heading }}\n\n{{ part.body }}\n\n"
            "{% endfor %}"),
    },
}  # fmt: skip

_EN: dict[str, dict[str, str]] = {
    "new_slots": {
        "title": "{{ count }} new slot{{ '' if count == 1 else 's' }}"
                 " — {{ guichets | join(', ') }}",
        "body": (
            "{{ target | strong }}: {{ count }} new slot{{ '' if count == 1 else 's' }}\n"
            "{% for guichet, slots in by_guichet %}\n{{ guichet | strong }}\n"
            "{% for slot in slots %}- {{ slot | when }}"
            "{% if slot.booking_url %} — {{ slot.booking_url | link('book this slot') }}"
            "{% endif %}\n{% endfor %}{% endfor %}"
            "{% if more %}… and {{ more }} more\n{% endif %}"
            "{% if not_kept %}… and {{ not_kept }} more slot{{ '' if not_kept == 1 else 's' }} "
            "on the page, not read (creneau reads {{ max_read }} at most)\n{% endif %}"
            "{% if gone_meanwhile %}\n{{ gone_meanwhile }} "
            "{{ 'other slot that appeared meanwhile is' if gone_meanwhile == 1 else "
            "'other slots that appeared meanwhile are' }} already gone.\n{% endif %}"
            "\n{{ url | link('Book on the site') }}\n\n"
            "{{ 'creneau never books for you (« creneau ne réserve jamais à votre place »): "
            "book it yourself on the site.' | em }}"),
    },
    "slots_gone": {
        "title": "{{ count }} slot{{ '' if count == 1 else 's' }} gone — {{ target }}",
        "body": (
            "{{ target | strong }}: {{ 'this slot is' if count == 1 else 'these slots are' }}"
            " gone.\n"
            "{% for slot in slots %}- {{ slot | when }} ({{ slot.guichet }}), "
            "visible for {{ slot.lasted | duration }}\n{% endfor %}"
            "{% if more %}… and {{ more }} more{% endif %}"),
    },
    "host_down": {
        "title": "Site {{ 'blocking us' if status == 'blocked' else 'overloaded' }}: {{ host }}",
        "body": (
            "{{ host }} {{ 'refuses our requests' if status == 'blocked' else 'is overloaded' }}"
            " ({{ reason }}). creneau pauses and will try again around {{ until | clock }} on "
            "its own: nothing to do. You will be told when the site answers again."),
    },
    "host_up": {
        "title": "Site reachable again: {{ host }}",
        "body": "{{ host }} answers again; creneau is watching again.",
    },
    "captcha": {
        "title": "Action needed: {{ target }}",
        "body": (
            "{{ target | strong }}: "
            "{% if challenge == 'image' %}the site asks for a CAPTCHA (an image to copy). "
            "creneau never solves one. "
            "{% if captcha_page %}Type the code from the image on this page of the dashboard: "
            "{{ captcha_page | link }}\n(or, in a terminal, run "
            "{{ ('creneau captcha ' ~ target) | code }}); creneau then goes on watching."
            "{% else %}Run {{ ('creneau captcha ' ~ target) | code }} and type the code from "
            "the image; creneau then goes on watching.{% endif %}"
            "{% else %}the site asks for {{ challenge_name }}. creneau never passes it and "
            "cannot hand it to you: only a browser on the site can pass it. creneau looks "
            "again at each check.{% endif %}"
            "\n\n{{ url | link }}"),
    },
    "page_changed": {
        "title": "Page changed: {{ target }}",
        "body": (
            "{{ target | strong }}: creneau no longer recognises the page ({{ detail }}), so "
            "it cannot tell whether slots exist: check it yourself.\n\n{{ url | link }}"
            "{% if saved_page %}\n\nPage saved: {{ saved_page }}{% endif %}"),
    },
    "failing": {
        "title": "Watching is failing: {{ target }}",
        "body": (
            "{{ target | strong }}: no clear answer from the site since {{ since | when }} "
            "(last: {{ status }}, {{ detail }}). creneau keeps trying."),
    },
    "stalled": {
        "title": "creneau is not checking as planned",
        "body": (
            "creneau has not made the checks it planned:\n"
            "{% for line in late %}- {{ line }}\n{% endfor %}"
            "\nWithout checks there are no alerts: look at its logs, or restart it."),
    },
    "config_refused": {
        "title": "creneau did not take its changed config",
        "body": (
            "The changed config has a mistake; creneau goes on with the previous one:\n"
            "{% for line in problems %}- {{ line }}\n{% endfor %}"),
    },
    "store_failing": {
        "title": "creneau cannot write to its database",
        "body": (
            "creneau cannot write to its database ({{ reason }}) since {{ since | when }}. It "
            "goes on checking and sends you new slots directly; nothing is recorded until "
            "the database works again (check the disk and the file), then it catches up with "
            "what it saw."),
    },
    "heartbeat": {
        "title": "creneau is still watching",
        "body": (
            "{{ checks }} checks since {{ since | when }}."
            "{% for line in targets %}\n- {{ line.target | strong }}: {{ line.checks }} checks, "
            "last status {{ line.status }}"
            "{% if line.last_release %}, slots last appeared {{ line.last_release | when }}"
            "{% endif %}{% endfor %}"),
    },
    "test": {
        "title": "creneau: test message",
        "body": ("This channel will receive slot alerts. "
                 "{{ 'creneau never books for you.' | em }}"),
    },
    "digest": {
        "title": "{{ count }} creneau alerts",
        "body": (
            "{% for part in parts %}{{ part.title | heading }}\n\n{{ part.body }}\n\n"
            "{% endfor %}"),
    },
}  # fmt: skip

DEFAULTS = {
    "fr": {**_FR, **release_messages.FR},
    "en": {**_EN, **release_messages.EN},
}

# What a challenge is called in a message (CheckResult.challenge; "" for the systems that do
# not name theirs).
CHALLENGE_NAMES = {
    "fr": {
        "image": "un CAPTCHA (une image à recopier)",
        "recaptcha": "un reCAPTCHA de Google (« Je ne suis pas un robot »)",
        "hcaptcha": "un test hCaptcha",
        "turnstile": "une vérification Cloudflare Turnstile",
        "bot-wall": "un contrôle anti-robots",
        "interstitial": "une page de vérification",
        "": "une vérification (CAPTCHA)",
    },
    "en": {
        "image": "a CAPTCHA (an image to copy)",
        "recaptcha": 'a Google reCAPTCHA ("I\'m not a robot")',
        "hcaptcha": "an hCaptcha challenge",
        "turnstile": "a Cloudflare Turnstile check",
        "bot-wall": "an anti-bot check",
        "interstitial": "a verification page",
        "": "a verification (CAPTCHA)",
    },
}
STYLES = {
    "text": {"strong": "{}", "em": "{}", "code": '"{}"', "heading": "{}"},
    "markdown": {"strong": "**{}**", "em": "_{}_", "code": "`{}`", "heading": "### {}"},
    "html": {
        "strong": "<b>{}</b>",
        "em": "<i>{}</i>",
        "code": "<code>{}</code>",
        "heading": "<b>{}</b>",
    },
}
TIME_NOT_READ = {"fr": "heure non lue", "en": "time not read"}
LINK_SEPARATOR = {"fr": " : ", "en": ": "}


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    format: str = "markdown"


class Safe(str):
    """Text made by creneau's own filters: already in the channel's format."""


# Control characters (C0, DEL, C1: terminal escape sequences), zero-width and bidirectional
# controls: never shown. Whitespace, newlines included, folds to one space.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b\u200c\u200e\u200f\u202a-\u202e"
                        "\u2060-\u2064\u2066-\u2069\ufeff]")  # fmt: skip
# CommonMark escapes any ASCII punctuation with a backslash. These start markup anywhere in
# a line (emphasis, links, code, raw HTML, autolinks, tables, strikethrough, entities,
# mentions); the rest only matter at the start of a line.
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>|~@&])")
_MARKDOWN_LINE_START = re.compile(r"^(\d+(?=[.)])|(?=[#>+=-]))")


def clean(text: str, limit: int = MAX_FIELD) -> str:
    """Page text as one line of data: no control character, no run of whitespace."""
    text = " ".join(_INVISIBLE.sub("", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str, format: str) -> str:
    """Text shown as itself in this format."""
    if format == "html":
        return html.escape(text, quote=True)
    if format == "markdown":
        text = _MARKDOWN_INLINE.sub(r"\\\1", text)
        return _MARKDOWN_LINE_START.sub(lambda m: m.group(1) + "\\", text, count=1)
    return text


def link_target(url: str, format: str) -> str:
    """A link's address, written so that the format cannot read it as anything else."""
    address = quote(url, safe=":/?#[]@!$&*+,;=%-._~")
    return html.escape(address, quote=True) if format == "html" else address


def _code(text: str, format: str) -> str:
    """A command to type. A Markdown code span shows its content as is: nothing to escape
    but the backtick that would end it."""
    text = clean(text).replace("`", "'")
    return STYLES[format]["code"].format(text if format == "markdown" else escape(text, format))


class Messages:
    """Renders outbox events in one language and time zone, with the config's overrides."""

    def __init__(
        self,
        language: str = "fr",
        zone: ZoneInfo | None = None,
        overrides: Mapping[str, Mapping[str, str]] | None = None,
        *,
        dashboard_url: str | None = None,
    ) -> None:
        self.language = language
        self.zone = zone or ZoneInfo("Europe/Paris")
        # Where the dashboard is (`dashboard_address`): an image CAPTCHA's alert links to its
        # page there. None: the dashboard is off, the alert names the terminal command only.
        self.dashboard_url = dashboard_url
        self._sources = {event: dict(parts) for event, parts in DEFAULTS[language].items()}
        for event, parts in (overrides or {}).items():
            self._sources[event] = {**self._sources[event], **parts}
        self._templates: dict[str, dict[str, dict[str, Template]]] = {}
        self._compiled("text")  # a broken override shows at once, not at the first alert

    def render(
        self, events: Sequence[Mapping[str, Any]], channel: Channel | None = None
    ) -> Rendered:
        """One message for these events, oldest first: merged per target, a digest beyond
        one, in the channel's format and within what it accepts."""
        channel = channel or Channel()
        merged = merge(events)
        title = self._title(merged, channel)
        room = channel.body_room(title)
        longest = max((len(event.get("slots", ())) for event in merged), default=0)
        listed = min(longest, MAX_SLOTS_LISTED)
        body = self._body(merged, channel.format, listed)
        if len(body) > room and listed > 1:
            listed = self._most_slots_within(merged, channel.format, listed, room)
            body = self._body(merged, channel.format, listed)
        return Rendered(title, _cut(body, room, channel.format), channel.format)

    def _most_slots_within(
        self, events: list[Mapping[str, Any]], format: str, listed: int, room: int
    ) -> int:
        """The most slots per target whose message fits (at least one: the first slot and
        the link are what the message is for)."""
        low, high = 1, listed - 1
        while low < high:
            middle = (low + high + 1) // 2
            if len(self._body(events, format, middle)) <= room:
                low = middle
            else:
                high = middle - 1
        return low

    def _title(self, events: list[Mapping[str, Any]], channel: Channel) -> str:
        if len(events) == 1:
            title = self._part(events[0], "title", "text", MAX_SLOTS_LISTED)
        else:
            title = self._part({"event": "digest", "count": len(events)}, "title", "text", 0)
        title = " ".join(title.split())
        if channel.title_maxlen > 0 and len(title) > channel.title_maxlen:
            title = title[: channel.title_maxlen - 1].rstrip() + "…"
        return escape(title, channel.format) if channel.title_markup else title

    def _body(self, events: list[Mapping[str, Any]], format: str, listed: int) -> str:
        if len(events) == 1:
            body = self._part(events[0], "body", format, listed)
        else:
            parts = [
                {
                    "title": " ".join(self._part(event, "title", "text", listed).split()),
                    "body": Safe(self._part(event, "body", format, listed)),
                }
                for event in events
            ]
            digest = {"event": "digest", "count": len(parts), "parts": parts}
            body = self._part(digest, "body", format, listed)
        body = re.sub(r"\n{3,}", "\n\n", body.strip())
        return body.replace("\n", "<br>") if format == "html" else body

    def _part(self, event: Mapping[str, Any], part: str, format: str, listed: int) -> str:
        name = event["event"]
        context = event if name == "digest" else self._context(event, listed)
        return self._compiled(format)[name][part].render(context).strip()

    def _compiled(self, format: str) -> dict[str, dict[str, Template]]:
        if format not in self._templates:
            env = self._environment(format)
            self._templates[format] = {
                event: {part: env.from_string(text) for part, text in parts.items()}
                for event, parts in self._sources.items()
            }
        return self._templates[format]

    def _environment(self, format: str) -> Environment:
        def data(value: Any) -> str:
            if isinstance(value, Safe):
                return value
            return escape(clean(str(value)), format)

        def markup(style: str) -> Callable[[Any], Safe]:
            return lambda value: Safe(STYLES[format][style].format(data(value)))

        env = _bare_environment(finalize=data)
        for style in ("strong", "em", "heading"):
            env.filters[style] = markup(style)
        env.filters["code"] = lambda value: Safe(_code(str(value), format))
        env.filters["link"] = lambda url, label=None: self._link(url, label, format, data)
        env.filters["when"] = lambda at: self._when(at, data)
        env.filters["clock"] = self._clock
        env.filters["day"] = lambda at: day_in_words(at, self.zone, self.language)
        env.filters["week"] = lambda day: day_in_words(day, self.zone, self.language, weekday=False)
        env.filters["duration"] = lambda seconds: message_duration(seconds, self.language)
        return env

    def _link(self, url: Any, label: str | None, format: str, data: Callable[[Any], str]) -> Safe:
        """A link that reads the same in every format: the label, then the address — which
        is visible except in Markdown, where the label carries it."""
        address = booking_link(str(url or ""))
        if not address:
            return Safe(data(label) if label else "")
        target = link_target(address, format)
        if format == "markdown":
            return Safe(f"[{data(label)}]({target})" if label else f"<{target}>")
        shown = f'<a href="{target}">{target}</a>' if format == "html" else target
        return Safe(f"{data(label)}{LINK_SEPARATOR[self.language]}{shown}" if label else shown)

    def _context(self, event: Mapping[str, Any], listed: int) -> dict[str, Any]:
        context = dict(event)
        for key in ("since", "until", "last_release", *release_messages.MOMENTS):
            if isinstance(context.get(key), str):
                context[key] = datetime.fromisoformat(context[key])
        if isinstance(context.get("week"), str):
            context["week"] = date.fromisoformat(context["week"])
        for key in ("detail", "reason"):  # what a check or a host's breaker said
            if key in context:
                context[key] = render(from_payload(context[key]), self.language, self.zone)
        if "slots" in event:
            slots = sorted((_slot(raw) for raw in event["slots"]), key=_by_time)
            shown = slots[:listed]
            by_guichet: dict[str, list[dict[str, Any]]] = {}
            for slot in shown:
                by_guichet.setdefault(slot["guichet"], []).append(slot)
            context.update(
                slots=shown,
                count=len(slots),
                more=len(slots) - len(shown),
                by_guichet=list(by_guichet.items()),
                guichets=list(dict.fromkeys(slot["guichet"] for slot in slots)),
                gone_meanwhile=int(event.get("gone_meanwhile", 0)),
                not_kept=int(event.get("not_kept", 0)),
                max_read=MAX_SLOTS_PER_PAGE,
            )
        if "targets" in event:
            context["targets"] = [
                {
                    **line,
                    "last_release": datetime.fromisoformat(line["last_release"])
                    if line.get("last_release")
                    else None,
                }
                for line in event["targets"]
            ]
        if event["event"] == "prepare_captcha":  # a person's session: an image to copy
            context["captcha_page"] = captcha_page(self.dashboard_url, str(event.get("target")))
        if event["event"] == "captcha":
            challenge = str(event.get("challenge") or "")
            names = CHALLENGE_NAMES[self.language]
            context["challenge"] = challenge
            context["challenge_name"] = names.get(challenge, names[""])
            context["captcha_page"] = (
                captcha_page(self.dashboard_url, str(event.get("target", "")))
                if challenge == "image"
                else ""
            )
        context.setdefault("url", "")
        context.setdefault("said", "")  # a release's sentence, when the site wrote one
        return context

    def _when(self, at: Any, data: Callable[[Any], str]) -> Safe:
        """A slot or a moment, in words; a slot whose time the page did not show readably
        says so, with the element's text."""
        if isinstance(at, Mapping):
            if not at["time_known"]:
                return Safe(f"{data(at['text'])} ({TIME_NOT_READ[self.language]})")
            at = at["start"]
        if not isinstance(at, datetime):
            return Safe(data(at))
        if at < TIME_KNOWN_FROM:
            return Safe(TIME_NOT_READ[self.language])
        return Safe(long_datetime(at, self.zone, self.language))

    def _clock(self, at: datetime | None) -> str:
        return at.astimezone(self.zone).strftime("%H:%M") if at else "?"


def dashboard_address(web: WebSettings) -> str | None:
    """The dashboard's address as alerts give it: `[web] public_url`, else the address it
    listens on (with its root path); None when the dashboard is off."""
    if not web.enabled:
        return None
    if web.public_url:
        return web.public_url.rstrip("/")
    return f"http://{web.listen}{web.root_path}"


def captcha_page(dashboard_url: str | None, target: str) -> str:
    """The dashboard's page where a person types the code of `target`'s CAPTCHA; "" without a
    dashboard, or for a check run without a config (named by its address, not a name)."""
    if not dashboard_url or not re.fullmatch(NAME_PATTERN, target):
        return ""
    return f"{dashboard_url}/captcha/{quote(target, safe='')}"


def _bare_environment(finalize: Callable[[Any], str] | None = None) -> Environment:
    env = Environment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        finalize=finalize,
    )
    for name in ("strong", "em", "code", "heading", "link", "when", "clock", "duration"):
        env.filters[name] = str
    for name in ("day", "week"):
        env.filters[name] = str
    return env


def _slot(raw: Mapping[str, Any]) -> dict[str, Any]:
    slot = dict(raw)
    start = datetime.fromisoformat(raw["start"])
    slot["start"] = start
    slot["time_known"] = raw.get("time_known") is not False and start >= TIME_KNOWN_FROM
    slot["booking_url"] = booking_link(str(raw.get("booking_url") or ""))
    slot.setdefault("guichet", "")
    if not slot["time_known"]:
        text = str(raw.get("key", "")).removeprefix(UNREADABLE_KEY_PREFIX)
        slot["text"] = text
        # The source puts the element's text after the guichet's own label: group by that.
        shown = re.sub(r" #\d+$", "", text)
        slot["guichet"] = str(slot["guichet"]).removesuffix(f" — {shown}")
    return slot


def _by_time(slot: Mapping[str, Any]) -> tuple[bool, datetime]:
    return (not slot["time_known"], slot["start"])


def _cut(body: str, room: int, format: str) -> str:
    """The last resort when even the shortest list does not fit (a digest of many alerts):
    whole lines, then "…"."""
    if len(body) <= room:
        return body
    line_end = "<br>" if format == "html" else "\n"
    kept = body[: room - 1]
    if line_end in kept:
        kept = kept[: kept.rindex(line_end)]
    return kept.rstrip() + line_end + "…"


def merge(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """New slots of one target merge into one event (and slots gone, likewise); a slot
    that appeared and went before the message left is not announced at all, and a "new
    slots" event left without a slot is dropped."""
    merged: list[Mapping[str, Any]] = []
    index: dict[tuple[str, str], int] = {}
    for event in events:
        name = event["event"]
        key = (name, str(event.get("target", "")))
        if name not in ("new_slots", "slots_gone") or key not in index:
            index.setdefault(key, len(merged))
            merged.append(dict(event))
            continue
        earlier = dict(merged[index[key]])
        seen = {slot["key"] for slot in earlier["slots"]}
        earlier["slots"] = earlier["slots"] + [s for s in event["slots"] if s["key"] not in seen]
        gone_meanwhile = int(earlier.get("gone_meanwhile", 0)) + int(event.get("gone_meanwhile", 0))
        if gone_meanwhile:
            earlier["gone_meanwhile"] = gone_meanwhile
        if "not_kept" in event:  # the latest check's page says how many it did not read
            earlier["not_kept"] = event["not_kept"]
        merged[index[key]] = earlier
    clean_up = _without_stale_slots(merged)
    return [event for event in map(clean_up, merged) if event is not None]


def _without_stale_slots(
    events: list[Mapping[str, Any]],
) -> Callable[[Mapping[str, Any]], Mapping[str, Any] | None]:
    gone = {
        (e.get("target"), s["key"])
        for e in events
        if e["event"] == "slots_gone"
        for s in e["slots"]
    }
    new = {
        (e.get("target"), s["key"]) for e in events if e["event"] == "new_slots" for s in e["slots"]
    }
    both = gone & new

    def clean_up(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if event["event"] not in ("new_slots", "slots_gone"):
            return event
        slots = [s for s in event["slots"] if (event.get("target"), s["key"]) not in both]
        return {**event, "slots": slots} if slots else None

    return clean_up


def still_open(
    event: Mapping[str, Any], open_slots: set[tuple[str, datetime]]
) -> Mapping[str, Any]:
    """A "new slots" event without the slots that are gone by now (counted in
    `gone_meanwhile`): a slot is never announced as new once it is gone."""
    if event.get("event") != "new_slots":
        return event
    kept = [
        slot
        for slot in event["slots"]
        if (str(slot.get("guichet_id", "")), datetime.fromisoformat(slot["start"])) in open_slots
    ]
    gone = len(event["slots"]) - len(kept)
    if not gone:
        return event
    return {**event, "slots": kept, "gone_meanwhile": int(event.get("gone_meanwhile", 0)) + gone}


def check_overrides(overrides: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Problems with templates from the config, as "event.part: problem" lines."""
    problems = []
    env = _bare_environment()
    for event, parts in overrides.items():
        if event not in DEFAULTS["fr"]:
            problems.append(f"{event}: unknown message (known: {', '.join(DEFAULTS['fr'])})")
            continue
        for part, text in parts.items():
            if part not in ("title", "body"):
                problems.append(f"{event}.{part}: unknown key (title or body)")
                continue
            try:
                env.from_string(text)
            except TemplateError as failure:
                problems.append(f"{event}.{part}: {failure.message}")
    return problems
