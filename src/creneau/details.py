"""What a check found, said as a code and its parameters (`Detail`), never as a sentence in
one language. A source, the polite client, the checker or the daemon says
`Detail("page_says", phrase="Aucun rendez-vous")`; every reader (the dashboard, the API,
alerts, `creneau status`, `check`, the evidence export) renders it for its person with
`render(detail, language, zone)`, from the one catalogue of texts in French and English
(`creneau.detail_texts`), the way alerts are written (`alerts/messages.py`): Jinja2 templates
per language.

Parameters are typed: numbers, text a page said (data: a reader escapes the text it renders
as it escapes any page text), days, aware instants (shown in the reader's time zone), other
details. The store keeps the code and the parameters (`to_json`); a row written before codes
existed holds an English sentence, which is shown as it is (`render` takes a `str` for it).
`str(detail)` is the English text in UTC: what the logs, written in English, say."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Union, cast, overload

from creneau.dates import WEEKDAYS
from creneau.detail_texts import TEXTS, Code
from creneau.redact import redact

if TYPE_CHECKING:
    from jinja2 import Template

Param = Union[  # a forward reference to Detail: not the | form
    str, int, float, date, datetime, "Detail", tuple[str, ...], tuple["Detail", ...]
]
LANGUAGES = ("fr", "en")
QUOTES = {"fr": ("« ", " »"), "en": ('"', '"')}


@dataclass(frozen=True, init=False)
class Detail:
    """A code of the catalogue and the values its texts name."""

    code: Code
    params: Mapping[str, Param]

    def __init__(self, code: Code, /, **params: Param) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "params", params)

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(self.params.items()))))

    def __str__(self) -> str:
        return render(self, "en", UTC)

    def to_json(self) -> dict[str, Any]:
        """{"code": …, "params": {…}}: instants as {"at": ISO 8601}, days as {"day": …},
        details as their own object."""
        return {"code": self.code, "params": {k: _encoded(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Detail:
        params = {key: _decoded(value) for key, value in (data.get("params") or {}).items()}
        return cls(cast(Code, str(data["code"])), **params)


Said = Detail | str | None  # a Detail; an older record's English text; nothing


def joined(items: Iterable[Detail | None]) -> Detail | None:
    """Several details as one ("a; b"): the one itself when alone, None when none."""
    present = tuple(item for item in items if item is not None)
    if len(present) <= 1:
        return present[0] if present else None
    return Detail("joined", items=present)


@overload
def redacted(said: Detail) -> Detail: ...
@overload
def redacted(said: Detail | None) -> Detail | None: ...
@overload
def redacted(said: Said) -> Said: ...
def redacted(said: Said) -> Said:
    """Every text in it with the registered secrets masked (`redact`): a detail may quote
    an address or an error that carries one."""
    if isinstance(said, str):
        return redact(said)
    if said is None:
        return None
    return Detail(said.code, **{name: _redacted(value) for name, value in said.params.items()})


def _redacted(value: Param) -> Param:
    if isinstance(value, str | Detail):
        return cast(Param, redacted(value))
    if isinstance(value, tuple):
        return tuple(_redacted(item) for item in value)  # type: ignore[return-value]
    return value


def recorded(code: str | None, params: Mapping[str, Any] | None, text: str) -> Detail | str:
    """What a stored row says: its Detail when it has a code, else the text it was written
    with (a row from before details had codes)."""
    if not code:
        return text
    return Detail.from_json({"code": code, "params": params or {}})


STORED = "detail:"  # how a Detail kept in a text column starts (an outbox row's last error)


def as_text(said: Detail | str) -> str:
    """A Detail as a text column keeps it ("detail:" and its JSON); a text as it is."""
    if isinstance(said, str):
        return said
    return STORED + json.dumps(said.to_json(), ensure_ascii=False)


def from_text(text: str) -> Detail | str:
    """What `as_text` kept: the Detail, or the text (an older row's, a channel's own error)."""
    if not text.startswith(STORED):
        return text
    try:
        return Detail.from_json(json.loads(text[len(STORED) :]))
    except (ValueError, KeyError, TypeError):
        return text


def from_payload(value: object) -> Said:
    """An alert's detail: its JSON ({"code": …, "params": …}), or the text an older version
    wrote."""
    if isinstance(value, Mapping) and "code" in value and "params" in value:
        return Detail.from_json(value)
    return None if value is None else str(value)


def render(detail: Said, language: str, zone: tzinfo = UTC) -> str:
    """The detail as a person reads it in `language`, its instants in `zone`."""
    if detail is None:
        return ""
    if isinstance(detail, str):
        return detail
    return _rendered(detail, language, zone)


@lru_cache(maxsize=4096)
def _rendered(detail: Detail, language: str, zone: tzinfo) -> str:
    """Kept: the overview says the same few details for many targets, every 20 seconds."""
    from jinja2 import TemplateError

    template = _templates(language).get(detail.code)
    if template is None:  # a code this version does not know (a newer one wrote the row)
        return detail.code
    try:
        return template.render(_context(detail, language, zone))
    except (TemplateError, TypeError, ValueError):  # its parameters are another version's
        return detail.code


def _context(detail: Detail, language: str, zone: tzinfo) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for name, value in detail.params.items():
        if isinstance(value, Detail):
            context[name] = render(value, language, zone)
        elif isinstance(value, tuple) and value and isinstance(value[0], Detail):
            context[name] = tuple(render(item, language, zone) for item in value)
        elif isinstance(value, datetime):
            context[name] = value.astimezone(zone)
        else:
            context[name] = value
    return context


@cache
def _templates(language: str) -> dict[str, Template]:
    """The catalogue's texts in `language`, compiled once, on first use: a parser that only
    says what it found never loads Jinja2."""
    from jinja2 import Environment, StrictUndefined

    opening, closing = QUOTES[language]
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters.update(
        q=lambda text: f"{opening}{text}{closing}",
        moment=lambda at: (
            f"{at:%d/%m/%Y à %H:%M:%S}" if language == "fr" else f"{at:%Y-%m-%d %H:%M:%S}"
        ),
        day=lambda day: f"{day:%d/%m/%Y}",
        weekday=lambda at: WEEKDAYS[language][at.weekday()],
        clock=lambda at: f"{at:%H:%M}",
        number=lambda value: f"{value:g}".replace(".", "," if language == "fr" else "."),
        counted=lambda count, one, many: f"{count} {one if _singular(count, language) else many}",
    )
    return {code: env.from_string(text) for code, text in TEXTS[language].items()}


def _singular(count: int, language: str) -> bool:
    """French counts 0 and 1 in the singular ("0 créneau"); English only 1."""
    return count <= 1 if language == "fr" else count == 1


def _encoded(value: Param) -> Any:
    if isinstance(value, Detail):
        return value.to_json()
    if isinstance(value, datetime):
        return {"at": value.isoformat()}
    if isinstance(value, date):
        return {"day": value.isoformat()}
    if isinstance(value, tuple):
        return [_encoded(item) for item in value]
    return value


def _decoded(value: Any) -> Param:
    if isinstance(value, list):
        return tuple(_decoded(item) for item in value)  # type: ignore[return-value]
    if isinstance(value, Mapping):
        if "code" in value:
            return Detail.from_json(value)
        if "at" in value:
            return datetime.fromisoformat(value["at"])
        if "day" in value:
            return date.fromisoformat(value["day"])
        return json.dumps(value)  # not this version's: kept as text (and hashable)
    return cast(Param, value)
