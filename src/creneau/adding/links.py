"""From the link a person books with to a target: which booking system serves it and the
settings that follow from it (`recognise`), a name for it, and, once one check has read the
page, what the page offers (desks, places, organisations) and, for a page of no known system,
the `slot_selector` / `none_text` a person can choose from, each with what it reads.

Everything here is pure (no network, no file): the one check of the page is the add use
case's (`usecases/targets.py`). The booking systems' own patterns, names and validators
decide (each system's `sources/<system>/system.py`); nothing here names a system."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from creneau import sources
from creneau.dates import compact_duration
from creneau.page import Page
from creneau.sources.common import SITE_ZONE, fold, html_soup
from creneau.sources.reading import Reading
from creneau.sources.system import HtmlOption as HtmlOption  # what the callers of links use
from creneau.sources.system import Link as Link
from creneau.sources.system import LinkParts, Naming
from creneau.sources.system import LinkProblem as LinkProblem
from creneau.sources.system import Offered as Offered
from creneau.sources.system import PhraseFound as PhraseFound
from creneau.targets import (
    DEFAULT_EVERY,
    DEFAULT_JITTER,
    NAME_MAX_LENGTH,
    clipped,
    is_loopback,
    parse_duration,
)

if TYPE_CHECKING:
    from creneau.results import CheckResult
    from creneau.targets import TargetBase

log = logging.getLogger(__name__)

# Labels of a host that name no préfecture (national sites, a generic "rdv" label).
GENERIC_HOST_LABELS = frozenset(
    {"www", "rdv", "pprdv", "interieur", "rdv-prefecture", "anct", "ants", "service-public"}
)
# Pieces of a page's title or heading that name the site, not the démarche (folded).
GENERIC_PIECES = frozenset({"rendez-vous en prefecture", "rdv service public", "rdv solidarites"})
TITLE_SEPARATOR = re.compile(r"\s+[-–—|:]\s+")
PREFECTURE = re.compile(
    r"\bprefecture (?:de police\b|(?:de la |de l'|du |des |de |d')(?P<place>[a-z0-9' -]+))"
)
STATE_SERVICES = re.compile(
    r"\bservices de l'etat (?:dans|en|a|au|aux) (?:les |le |la |l')?(?P<place>[a-z0-9' -]+)"
)


# --- recognising a link ----------------------------------------------------------------------


def recognise(link: str) -> Link:
    """The booking system of a link and the settings it gives: the first of `sources.SYSTEMS`
    that recognises it (each system's `recognise`; the last one takes any page)."""
    given = link.strip()
    not_a_link = LinkProblem(
        f'not a web address: expected https://… (got "{clipped(given)}")',
        "not_a_link",
        given=clipped(given),
    )
    try:
        parts = urlsplit(given)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise not_a_link from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise not_a_link
    parts_of = LinkParts(
        given,
        parts,
        host,
        parts._replace(query="", fragment="").geturl(),
        parts.path.rstrip("/"),
        is_loopback(given),
    )
    for system in sources.SYSTEMS:
        if (found := sources.get(system).recognise(parts_of)) is not None:
            return found
    raise not_a_link  # unreachable: the last system takes any page


def missing_settings(link: Link, given: Mapping[str, Any]) -> tuple[str, ...]:
    """What the target still lacks once `given` (the user's own settings) are added."""
    return tuple(key for key in link.missing if key not in given)


def missing_line(link: Link, missing: Sequence[str]) -> str:
    """One line saying what the link lacks and how to give it on the command line."""
    return str(missing_problem(link, missing))


def missing_problem(link: Link, missing: Sequence[str]) -> LinkProblem:
    """What the link lacks, and how to give it on the command line."""
    return sources.get(link.system).missing_problem(link, missing)


# --- names -----------------------------------------------------------------------------------


def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and dashes, at most NAME_MAX_LENGTH characters."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:NAME_MAX_LENGTH].rstrip("-")


def unique_name(base: str, taken: Collection[str]) -> str:
    """`base`, or `base-2`, `base-3`… : the first not taken, within NAME_MAX_LENGTH."""
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: NAME_MAX_LENGTH - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        number += 1


def name_from_link(link: Link, settings: Mapping[str, Any] | None = None) -> str:
    """A name the link alone gives (before any page is read), with the user's `settings`."""
    given = {**link.settings, **(settings or {})}
    host = urlsplit(link.url).hostname or ""
    naming = Naming(_host_place(host), _host_label(host), parse_qs(urlsplit(link.given).query))
    words = sources.get(link.system).name_words(link, given, naming)
    return slug(" ".join(words)) or link.system


def _host_place(host: str) -> str:
    """The département a préfecture's host names (www.hauts-de-seine.gouv.fr), or ""."""
    labels = host.lower().split(".")
    if len(labels) >= 3 and labels[-2:] == ["gouv", "fr"] and labels[-3] not in GENERIC_HOST_LABELS:
        return labels[-3]
    return ""


def _host_label(host: str) -> str:
    if is_loopback(f"http://{host}/") or re.fullmatch(r"[0-9.:\[\]]+", host):
        return ""
    labels = [label for label in host.lower().split(".") if label not in GENERIC_HOST_LABELS]
    return labels[0] if len(labels) > 1 else ""


def name_from_pages(pages: Iterable[Page], url: str = "") -> str:
    """'<préfecture>-<démarche>' from the first page that has a heading or a title, e.g.
    'hauts-de-seine-remise-d-un-titre-de-sejour-nanterre'; "" when no page says."""
    for page in pages:
        if page.status >= 400 or page.is_json:
            continue
        heading, title = _heading_and_title(page)
        if not heading and not title:
            continue
        heading_pieces = _pieces(heading)
        title_pieces = _pieces(title)
        place = next(
            (found for piece in heading_pieces + title_pieces if (found := _prefecture(piece))),
            "",
        ) or _host_place(urlsplit(url or page.url).hostname or "")
        demarche = [piece for piece in heading_pieces if not _prefecture(piece)]
        if not demarche:
            site_named = title_pieces[:-1] if len(title_pieces) > 1 else title_pieces
            demarche = [p for p in site_named if not _prefecture(p) and p not in GENERIC_PIECES]
        return slug(" ".join([place, *demarche]))
    return ""


def _heading_and_title(page: Page) -> tuple[str, str]:
    soup = html_soup(page.text)
    heading = soup.find("h1")
    title = soup.find("title")
    return (
        " ".join(heading.get_text(" ").split()) if heading else "",
        " ".join(title.get_text(" ").split()) if title else "",
    )


def _pieces(text: str) -> list[str]:
    return [piece for piece in TITLE_SEPARATOR.split(fold(text)) if piece]


def _prefecture(piece: str) -> str:
    """The place a piece names as a préfecture ('allier'), 'prefecture-de-police', or ""."""
    for pattern in (PREFECTURE, STATE_SERVICES):
        if found := pattern.search(piece):
            place = found.groupdict().get("place")
            return slug(place) if place else slug(found.group(0))
    return ""


def propose_name(
    link: Link,
    pages: Iterable[Page],
    taken: Collection[str],
    settings: Mapping[str, Any] | None = None,
) -> str:
    """A name for the target, unique in the config: from the page (its préfecture and
    démarche), else from the link; from the link first for the systems whose link names the
    démarche and whose pages do not (the system is `named_by_link`)."""
    if sources.get(link.system).named_by_link:
        return unique_name(name_from_link(link, settings), taken)
    return unique_name(name_from_pages(pages, link.url) or name_from_link(link, settings), taken)


# --- the target's settings ---------------------------------------------------------------------


def durations(every: str | None) -> tuple[str, str]:
    """(every, jitter) as the config writes them: every as given (default 5m), the jitter 30s
    or every when shorter. Raises ValueError, worded for the user, for a wrong duration."""
    if every is None:
        return compact_duration(DEFAULT_EVERY), compact_duration(DEFAULT_JITTER)
    interval = parse_duration(every)
    text = every.strip()
    return text, compact_duration(DEFAULT_JITTER) if interval >= DEFAULT_JITTER else text


def target_fields(
    link: Link,
    name: str,
    *,
    every: str | None = None,
    notify: Sequence[str] = (),
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The `[[target]]` table's keys, in the order they are written: name, system, url,
    every and jitter, notify, the link's settings, then the user's own."""
    interval, jitter = durations(every)
    fields: dict[str, Any] = {
        "name": name,
        "system": link.system,
        "url": link.url,
        "every": interval,
        "jitter": jitter,
    }
    if notify:
        fields["notify"] = list(notify)
    fields.update(link.settings)
    fields.update(settings or {})
    if "token" in fields:  # after what it unlocks
        fields["token"] = fields.pop("token")
    return fields


def provisional_fields(
    link: Link,
    name: str,
    *,
    every: str | None = None,
    notify: Sequence[str] = (),
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The target one check is made with, before the page is known: for a page of no known
    system, the common "no slot" phrases stand in for the settings the page will suggest
    (the system's `provisional_settings`)."""
    fields = target_fields(link, name, every=every, notify=notify, settings=settings)
    return sources.get(link.system).provisional_settings(fields)


# --- one check, and what it shows ------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What one check of a link shows, and what creneau proposes from it."""

    link: Link
    result: CheckResult
    name: str
    offered: Offered | None = None
    phrases: tuple[PhraseFound, ...] = ()  # a system that asks_for_selectors only
    options: tuple[HtmlOption, ...] = ()  # the same, the best first

    def fields(
        self,
        *,
        every: str | None = None,
        notify: Sequence[str] = (),
        settings: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The target to write: `target_fields` with the proposed name, and the setting that
        narrows what the page offers, empty (all of it), unless `settings` give it."""
        fields = target_fields(self.link, self.name, every=every, notify=notify, settings=settings)
        if self.offered is not None and self.offered.key not in fields:
            fields[self.offered.key] = []
            if "token" in fields:
                fields["token"] = fields.pop("token")
        return fields

    def comments(self, fields: Mapping[str, Any]) -> dict[str, str]:
        """A comment beside the setting that narrows what the page offers: the ids seen."""
        if self.offered is None or not self.offered.choices:
            return {}
        ids = [choice.id for choice in self.offered.choices]
        seen = "seen: " + ", ".join(ids[:10]) + (", …" if len(ids) > 10 else "")
        key = self.offered.key
        if key not in fields:
            return {}
        return {key: seen if fields[key] else f"empty = all; {seen}"}


def preview(
    link: Link,
    result: CheckResult,
    taken: Collection[str],
    *,
    zone: ZoneInfo = SITE_ZONE,
    name: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Preview:
    """What the check shows and what follows from it (pure: the pages are in `result`).
    `name`: the user's own, else one is proposed (with the user's `settings`)."""
    pages = result.pages or ((result.page,) if result.page else ())
    name = name or propose_name(link, pages, taken, settings)
    system = sources.get(link.system)
    offered = system.offered(result)
    if not system.asks_for_selectors or result.page is None or result.page.status >= 400:
        return Preview(link, result, name, offered)
    reference = result.checked_at.astimezone(zone).date()
    phrases, options = system.selector_options(result.page, reference, link.url, zone)
    return Preview(link, result, name, offered, phrases, options)


def site_zone(target: TargetBase) -> ZoneInfo:
    """The zone the site writes its times in (a page of no known system: the target's own)."""
    return sources.get(target.system).site_zone(target)


def offered_choices(link: Link, result: CheckResult) -> Offered | None:
    """The desks, places, organisations or meeting points the site offered, read from the
    pages of the check by the system's own parser."""
    return sources.get(link.system).offered(result)


def first_times(reading: Reading, zone: ZoneInfo, count: int = 3) -> list[str]:
    """The first slots' times as a person reads them ('mar. 08/12 09:30')."""
    times = [slot.start for slot in reading.slots if slot.time_known][:count]
    return [start.astimezone(zone).strftime("%a %d/%m %H:%M") for start in times]
