"""How alerts read. Each event in the outbox is rendered, when it is sent, by a Jinja2
template: a plain title and a Markdown body (Apprise turns Markdown into plain text for
channels that only take text). Defaults in French and English; the config can override any
template. Several events for one target merge into one message; a digest gathers many."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined, TemplateError

from creneau.dates import long_datetime

KINDS = {
    "new_slots": "slots", "slots_gone": "slots",
    "host_down": "trouble", "host_up": "trouble", "captcha": "trouble",
    "page_changed": "trouble", "failing": "trouble",
    "heartbeat": "heartbeat", "test": "test",
}  # fmt: skip
EVENTS = tuple(KINDS)
LANGUAGES = ("fr", "en")


_FR: dict[str, dict[str, str]] = {
    "new_slots": {
        "title": "{{ count }} {{ 'nouveau créneau' if count == 1 else 'nouveaux créneaux' }}"
                 " — {{ guichets | join(', ') }}",
        "body": (
            "**{{ target }}** : {{ count }} "
            "{{ 'nouveau créneau' if count == 1 else 'nouveaux créneaux' }}\n"
            "{% for guichet, slots in by_guichet %}\n**{{ guichet }}**\n"
            "{% for slot in slots %}- {{ slot.start | when }}\n{% endfor %}"
            "{% endfor %}\n"
            "[Réserver sur le site]({{ url }})\n\n"
            "_creneau ne réserve jamais à votre place : réservez vous-même sur le site._"),
    },
    "slots_gone": {
        "title": "{{ count }} {{ 'créneau parti' if count == 1 else 'créneaux partis' }}"
                 " — {{ target }}",
        "body": (
            "**{{ target }}** : {{ 'ce créneau a' if count == 1 else 'ces créneaux ont' }}"
            " disparu.\n"
            "{% for slot in slots %}- {{ slot.start | when }} ({{ slot.guichet }}), "
            "visible {{ slot.lasted | duration }}\n{% endfor %}"),
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
            "**{{ target }}** : le site demande un CAPTCHA. creneau ne le résout jamais. "
            "Lancez `creneau captcha {{ target }}` et recopiez le code de l'image ; creneau "
            "reprendra ensuite la surveillance.\n\n{{ url }}"),
    },
    "page_changed": {
        "title": "Page modifiée : {{ target }}",
        "body": (
            "**{{ target }}** : creneau ne reconnaît plus la page ({{ detail }}). Impossible "
            "de dire s'il y a des créneaux : vérifiez vous-même.\n\n{{ url }}"
            "{% if saved_page %}\n\nPage enregistrée : {{ saved_page }}{% endif %}"),
    },
    "failing": {
        "title": "Surveillance en échec : {{ target }}",
        "body": (
            "**{{ target }}** : aucune réponse claire du site depuis {{ since | when }} "
            "(dernier état : {{ status }}, {{ detail }}). creneau continue d'essayer."),
    },
    "heartbeat": {
        "title": "creneau veille toujours",
        "body": (
            "{{ checks }} vérifications depuis {{ since | when }}."
            "{% for line in targets %}\n- **{{ line.target }}** : {{ line.checks }} "
            "vérifications, dernier état {{ line.status }}"
            "{% if line.last_release %}, dernière apparition de créneaux "
            "{{ line.last_release | when }}{% endif %}{% endfor %}"),
    },
    "test": {
        "title": "creneau : message de test",
        "body": ("Ce canal recevra les alertes de créneaux. _creneau ne réserve jamais à "
                 "votre place : réservez vous-même sur le site._"),
    },
    "digest": {
        "title": "{{ count }} alertes creneau",
        "body": "{% for part in parts %}### {{ part.title }}\n\n{{ part.body }}\n\n{% endfor %}",
    },
}  # fmt: skip

_EN: dict[str, dict[str, str]] = {
    "new_slots": {
        "title": "{{ count }} new slot{{ '' if count == 1 else 's' }}"
                 " — {{ guichets | join(', ') }}",
        "body": (
            "**{{ target }}**: {{ count }} new slot{{ '' if count == 1 else 's' }}\n"
            "{% for guichet, slots in by_guichet %}\n**{{ guichet }}**\n"
            "{% for slot in slots %}- {{ slot.start | when }}\n{% endfor %}"
            "{% endfor %}\n"
            "[Book on the site]({{ url }})\n\n"
            "_creneau never books for you (« creneau ne réserve jamais à votre place »): "
            "book it yourself on the site._"),
    },
    "slots_gone": {
        "title": "{{ count }} slot{{ '' if count == 1 else 's' }} gone — {{ target }}",
        "body": (
            "**{{ target }}**: {{ 'this slot is' if count == 1 else 'these slots are' }} gone.\n"
            "{% for slot in slots %}- {{ slot.start | when }} ({{ slot.guichet }}), "
            "visible for {{ slot.lasted | duration }}\n{% endfor %}"),
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
            "**{{ target }}**: the site asks for a CAPTCHA. creneau never solves one. Run "
            "`creneau captcha {{ target }}` and type the code from the image; creneau then "
            "goes on watching.\n\n{{ url }}"),
    },
    "page_changed": {
        "title": "Page changed: {{ target }}",
        "body": (
            "**{{ target }}**: creneau no longer recognises the page ({{ detail }}), so it "
            "cannot tell whether slots exist: check it yourself.\n\n{{ url }}"
            "{% if saved_page %}\n\nPage saved: {{ saved_page }}{% endif %}"),
    },
    "failing": {
        "title": "Watching is failing: {{ target }}",
        "body": (
            "**{{ target }}**: no clear answer from the site since {{ since | when }} "
            "(last: {{ status }}, {{ detail }}). creneau keeps trying."),
    },
    "heartbeat": {
        "title": "creneau is still watching",
        "body": (
            "{{ checks }} checks since {{ since | when }}."
            "{% for line in targets %}\n- **{{ line.target }}**: {{ line.checks }} checks, "
            "last status {{ line.status }}"
            "{% if line.last_release %}, slots last appeared {{ line.last_release | when }}"
            "{% endif %}{% endfor %}"),
    },
    "test": {
        "title": "creneau: test message",
        "body": "This channel will receive slot alerts. _creneau never books for you._",
    },
    "digest": {
        "title": "{{ count }} creneau alerts",
        "body": "{% for part in parts %}### {{ part.title }}\n\n{{ part.body }}\n\n{% endfor %}",
    },
}  # fmt: skip

DEFAULTS = {"fr": _FR, "en": _EN}


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


class Messages:
    """Renders outbox events in one language and time zone, with the config's overrides."""

    def __init__(
        self,
        language: str = "fr",
        zone: ZoneInfo | None = None,
        overrides: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.language = language
        self.zone = zone or ZoneInfo("Europe/Paris")
        self._env = Environment(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        self._env.filters["when"] = self._when
        self._env.filters["clock"] = self._clock
        self._env.filters["duration"] = self._duration
        sources = {event: dict(parts) for event, parts in DEFAULTS[language].items()}
        for event, parts in (overrides or {}).items():
            sources[event] = {**sources[event], **parts}
        self._templates = {
            event: {part: self._env.from_string(text) for part, text in parts.items()}
            for event, parts in sources.items()
        }

    def render(self, events: Sequence[Mapping[str, Any]]) -> Rendered:
        """One message for these events: merged per target, a digest beyond one."""
        merged = merge(events)
        if len(merged) == 1:
            return self._one(merged[0])
        parts = [self._one(event) for event in merged]
        return self._render("digest", {"count": len(parts), "parts": parts})

    def _one(self, event: Mapping[str, Any]) -> Rendered:
        return self._render(event["event"], self._context(event))

    def _render(self, name: str, context: dict[str, Any]) -> Rendered:
        template = self._templates[name]
        title = " ".join(template["title"].render(context).split())
        return Rendered(title, template["body"].render(context).strip())

    def _context(self, event: Mapping[str, Any]) -> dict[str, Any]:
        context = dict(event)
        for key in ("since", "until", "last_release"):
            if isinstance(context.get(key), str):
                context[key] = datetime.fromisoformat(context[key])
        if "slots" in event:
            slots = [_slot(raw) for raw in event["slots"]]
            by_guichet: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for slot in sorted(slots, key=lambda s: s["start"]):
                by_guichet[slot["guichet"]].append(slot)
            context.update(
                slots=slots,
                count=len(slots),
                by_guichet=list(by_guichet.items()),
                guichets=list(by_guichet),
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
        return context

    def _when(self, at: datetime) -> str:
        return long_datetime(at, self.zone, self.language)

    def _clock(self, at: datetime | None) -> str:
        return at.astimezone(self.zone).strftime("%H:%M") if at else "?"

    def _duration(self, seconds: float) -> str:
        minutes = round(seconds / 60)
        if minutes < 60:
            return f"{minutes} min"
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d}" if self.language == "fr" else f"{hours} h {minutes} min"


def _slot(raw: Mapping[str, Any]) -> dict[str, Any]:
    slot = dict(raw)
    slot["start"] = datetime.fromisoformat(raw["start"])
    return slot


def merge(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """New slots of one target merge into one event (and slots gone, likewise); a slot
    that appeared and went before the message left is not announced at all."""
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
        merged[index[key]] = earlier
    return [event for event in map(_without_stale_slots(merged), merged) if event]


def _without_stale_slots(events: list[Mapping[str, Any]]):  # type: ignore[no-untyped-def]
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

    def clean(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if event["event"] not in ("new_slots", "slots_gone") or not both:
            return event
        slots = [s for s in event["slots"] if (event.get("target"), s["key"]) not in both]
        return {**event, "slots": slots} if slots else None

    return clean


def check_overrides(overrides: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Problems with templates from the config, as "event.part: problem" lines."""
    problems = []
    env = Environment(undefined=StrictUndefined)
    for event, parts in overrides.items():
        if event not in DEFAULTS["fr"]:
            problems.append(f"{event}: unknown message (known: {', '.join(DEFAULTS['fr'])})")
            continue
        for part, text in parts.items():
            if part not in ("title", "body"):
                problems.append(f"{event}.{part}: unknown key (title or body)")
                continue
            try:
                env.parse(text)
            except TemplateError as failure:
                problems.append(f"{event}.{part}: {failure.message}")
    return problems
