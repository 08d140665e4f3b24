"""From the link a person books with to a target: which booking system serves it and the
settings that follow from it (`recognise`), a name for it, and, once one check has read the
page, what the page offers (desks, places, organisations) and, for a page of no known system,
the `slot_selector` / `none_text` a person can choose from, each with what it reads.

Everything here is pure (no network, no file) but `check_link`, the one step that reaches the
site: one check through the runtime it is given (the CLI's, or the dashboard's with its own
guarded client), as polite as any check and recorded like `creneau check` records an ad-hoc
one. The booking systems' own patterns and validators decide (sources/*.py); nothing here
repeats them."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from creneau.alerts.events import SEARCH_PAGES
from creneau.dates import compact_duration
from creneau.page import Page
from creneau.sources import Choice, Reading, ants, ezbooking, html, rdvpref, rdvsp
from creneau.sources.common import SITE_ZONE, fold, html_soup, visible_text
from creneau.targets import (
    DEFAULT_EVERY,
    DEFAULT_JITTER,
    NAME_MAX_LENGTH,
    clipped,
    is_loopback,
    one_line,
    parse_duration,
)

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

    from creneau.results import CheckResult
    from creneau.runtime import Runtime
    from creneau.targets import TargetBase

log = logging.getLogger(__name__)

# The ANTS website, where a person searches by place; the hub's API answers its searches.
ANTS_SITE_HOST = urlsplit(SEARCH_PAGES["ants"]).hostname or ""
ANTS_HOSTS = frozenset({ants.API_HOST, ANTS_SITE_HOST})
# What the hub needs that no link gives: the token it issued (see sources/ants/).
ANTS_TOKEN_REFERENCE = "${ANTS_TOKEN}"
# unconfirmed: the ANTS website's own search address was not read anywhere; a link to it (or
# to the API, copied from a browser) that carries the API's query parameters gives them.
ANTS_QUERY_SETTINGS = (
    (ants.PARAM_LATITUDE, float),
    (ants.PARAM_LONGITUDE, float),
    (ants.PARAM_RADIUS, int),
    (ants.PARAM_REASON, str),
    (ants.PARAM_DOCUMENTS, int),
)
ANTS_REQUIRED = (ants.PARAM_LATITUDE, ants.PARAM_LONGITUDE, ants.PARAM_REASON)
# RDV Service Public's motif parameter ends with the motif's location type
# ("Passeport-public_office", "Information titres-phone": fixtures/rdvsp/motif-choice*.html).
RDVSP_LOCATION_TYPE = re.compile(r"-(?:public_office|phone|home|visio)$")
RDVSP_DEPARTEMENT = "departement"

# Phrases a page says when it has no slot, in the order they are tried: the longer first, so
# that a page saying both proposes the longer. Matched on folded text, as `none_text` is.
NONE_PHRASES = (
    "il n'existe plus de plage horaire libre",  # ezbooking pages (sources/ezbooking/)
    "aucun créneau disponible",
    "pas de créneau disponible",  # rdv-service-public's empty day (fixtures/html/SOURCES.md)
    "aucun rendez-vous disponible",
    "pas de rendez-vous disponible",
    "plus de plage horaire",
    "aucune plage horaire",
    "aucun créneau",
    "aucun rendez-vous",
    "aucune disponibilité",
    "plus de créneau",
)
PHRASE_CONTEXT = 40  # characters of the page shown on each side of a phrase found
MAX_SELECTORS = 5  # slot_selector candidates proposed
CLASS_NAME = re.compile(r"^-?[_a-zA-Z][_a-zA-Z0-9-]*$")  # written as .name in CSS as it is
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "svg"})
# Labels of a host that name no préfecture (national sites, a generic "rdv" label).
GENERIC_HOST_LABELS = frozenset(
    {"www", "rdv", "pprdv", "interieur", "rdv-prefecture", "anct", "ants", "service-public"}
)
# Pieces of a page's title or heading that name the site, not the démarche (folded).
GENERIC_PIECES = frozenset({"rendez-vous en prefecture", "rdv service public", "rdv solidarites"})
NAMED_BY_LINK = frozenset({"rdvsp", "ants"})
TITLE_SEPARATOR = re.compile(r"\s+[-–—|:]\s+")
PREFECTURE = re.compile(
    r"\bprefecture (?:de police\b|(?:de la |de l'|du |des |de |d')(?P<place>[a-z0-9' -]+))"
)
STATE_SERVICES = re.compile(
    r"\bservices de l'etat (?:dans|en|a|au|aux) (?:les |le |la |l')?(?P<place>[a-z0-9' -]+)"
)


class LinkProblem(ValueError):
    """The text is not a link a target can watch: one line saying why (the command line's
    words), and the same as a code and its values, which the dashboard words in the
    configured language (web/pages/texts.py, PROBLEMS)."""

    def __init__(self, line: str, code: str, /, **values: str) -> None:
        super().__init__(line)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Link:
    """What a link says on its own. `settings` are the target's settings that follow from it,
    in the order they are written; `missing` names those a target needs that it lacks."""

    given: str
    url: str  # as the target will hold it
    system: str
    settings: Mapping[str, Any]
    missing: tuple[str, ...] = ()


# --- recognising a link ----------------------------------------------------------------------


def recognise(link: str) -> Link:
    """The booking system of a link and the settings it gives: ezbooking for
    …/booking/create/<id>, rdvpref for …/rdvpref/reservation/demarche/<id>/…, rdvsp for RDV
    Service Public's hosts, ants for the ANTS website or hub, html for anything else."""
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
    plain = parts._replace(query="", fragment="").geturl()
    if booking := ezbooking.BOOKING_URL.match(plain):
        return Link(given, booking.group("base"), "ezbooking", {"desks": []})
    if rdvpref.DEMARCHE_URL.match(plain):
        return Link(given, rdvpref.demarche_urls(given).base + "/", "rdvpref", {})
    path = parts.path.rstrip("/")
    loopback = is_loopback(given)
    if host in rdvsp.HOST_BUDGETS or (
        loopback and (path == rdvsp.SEARCH_PATH or path.startswith(rdvsp.BOOKING_PATHS))
    ):
        return Link(given, rdvsp.search_url(given), "rdvsp", {})
    if host in ANTS_HOSTS or (loopback and path == ants.API_PATH):
        return _ants_link(given, plain if path == ants.API_PATH else ants.API_URL)
    return Link(given, parts._replace(fragment="").geturl(), "html", {})


def _ants_link(given: str, endpoint: str) -> Link:
    query = parse_qs(urlsplit(given).query)
    settings: dict[str, Any] = {}
    for key, kind in ANTS_QUERY_SETTINGS:
        values = query.get(key)
        if not values:
            continue
        raw = values[-1].strip()
        try:
            settings[key] = kind(raw.upper() if kind is str else raw)
        except ValueError:
            settings[key] = raw  # the target's validator says what is wrong with it
    settings["token"] = ANTS_TOKEN_REFERENCE
    missing = tuple(key for key in ANTS_REQUIRED if key not in settings)
    return Link(given, endpoint, "ants", settings, missing)


def missing_settings(link: Link, given: Mapping[str, Any]) -> tuple[str, ...]:
    """What the target still lacks once `given` (the user's own settings) are added."""
    return tuple(key for key in link.missing if key not in given)


def missing_line(link: Link, missing: Sequence[str]) -> str:
    """One line saying what the link lacks and how to give it on the command line."""
    return str(missing_problem(link, missing))


def missing_problem(link: Link, missing: Sequence[str]) -> LinkProblem:
    """What the link lacks, and how to give it on the command line."""
    examples = {"latitude": "48.85", "longitude": "2.35", "reason": "PASSPORT"}
    how = " ".join(f"--set {key}={examples.get(key, '…')}" for key in missing)
    given, lacking = one_line(link.given), ", ".join(missing)
    return LinkProblem(
        f"{given}: the ANTS hub searches around a place for a reason; the link does not say "
        f"{lacking}: give them, e.g. {how} (and the hub's token, "
        f'token = "{ANTS_TOKEN_REFERENCE}", from ANTS_TOKEN)',
        "ants_place_missing",
        link=given,
        missing=lacking,
        how=how,
        token=ANTS_TOKEN_REFERENCE,
    )


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
    parts = urlsplit(link.url)
    query = parse_qs(urlsplit(link.given).query)
    place = _host_place(parts.hostname or "")
    if link.system == "ezbooking":
        booking = ezbooking.BOOKING_URL.match(link.url)
        words = [place or "ezbooking", booking.group("id") if booking else ""]
    elif link.system == "rdvpref":
        words = ["rdvpref", rdvpref.demarche_urls(link.url).demarche_id]
    elif link.system == "rdvsp":
        motif = RDVSP_LOCATION_TYPE.sub("", _first(query, rdvsp.PARAM_MOTIF))
        words = [motif, _first(query, RDVSP_DEPARTEMENT)] if motif else ["rdvsp"]
    elif link.system == "ants":
        words = ["ants", str(given.get(ants.PARAM_REASON, "")), _first(query, "address")]
        if not words[-1]:
            words += [
                str(given.get(key, "")) for key in (ants.PARAM_LATITUDE, ants.PARAM_LONGITUDE)
            ]
    else:
        words = [place or _host_label(parts.hostname or ""), parts.path.replace("/", " ")]
    return slug(" ".join(words)) or link.system


def _first(query: Mapping[str, list[str]], key: str) -> str:
    values = query.get(key)
    return values[0] if values else ""


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
    démarche (rdvsp's motif and département, ants's reason and place) and whose pages do not."""
    if link.system in NAMED_BY_LINK:
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
    """The target one check is made with, before the page is known: for `html`, the common
    "no slot" phrases stand in for the settings the page will suggest."""
    fields = target_fields(link, name, every=every, notify=notify, settings=settings)
    if link.system == "html" and not {"slot_selector", "none_text"} & set(fields):
        fields["none_text"] = list(NONE_PHRASES)
    return fields


# --- one check, and what it shows ------------------------------------------------------------


async def check_link(runtime: Runtime, target: TargetBase) -> CheckResult:
    """One polite check of a target the config does not name yet, through `runtime` (its
    client's budgets, breakers, Retry-After and robots.txt, seeded from the store), recorded
    under the page's public link as `creneau check` records an ad-hoc one. Raises TooSoon."""
    from creneau.check.record import NotRecorded

    try:
        return (await runtime.watch_once(target)).result
    except NotRecorded as failure:
        log.warning("the check was made but could not be recorded: %s", failure.failure)
        return failure.result


@dataclass(frozen=True)
class Offered:
    """What the page offers to choose from, and the setting that narrows to some of them."""

    key: str  # "desks", "lieux", "organisations", "meeting_points"
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class HtmlOption:
    """One way to read a page of no known system, and what it reads on the page now."""

    slot_selector: str | None
    none_text: tuple[str, ...]
    reading: Reading

    @property
    def settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        if self.slot_selector is not None:
            settings["slot_selector"] = self.slot_selector
        if self.none_text:
            settings["none_text"] = list(self.none_text)
        return settings


@dataclass(frozen=True)
class PhraseFound:
    phrase: str  # as none_text holds it
    context: str  # the page's text around it (folded)


@dataclass(frozen=True)
class Preview:
    """What one check of a link shows, and what creneau proposes from it."""

    link: Link
    result: CheckResult
    name: str
    offered: Offered | None = None
    phrases: tuple[PhraseFound, ...] = ()  # html only
    options: tuple[HtmlOption, ...] = ()  # html only, the best first

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
    offered = offered_choices(link, result)
    if link.system != "html" or result.page is None or result.page.status >= 400:
        return Preview(link, result, name, offered)
    reference = result.checked_at.astimezone(zone).date()
    phrases = phrases_on_page(result.page)
    options = html_options(result.page, reference, link.url, phrases, zone=zone)
    return Preview(link, result, name, offered, phrases, options)


def site_zone(target: TargetBase) -> ZoneInfo:
    """The zone the site writes its times in: an html target's own, else Paris's."""
    return target.zone if isinstance(target, html.Target) else SITE_ZONE


def offered_choices(link: Link, result: CheckResult) -> Offered | None:
    """The desks (ezbooking), places or organisations (rdvsp) or meeting points (ants) the
    site offered, read from the pages of the check by the system's own parser."""
    if link.system == "ants":
        points = tuple(Choice(guichet.id, guichet.label) for guichet in result.guichets)
        return Offered("meeting_points", points) if points else None
    kinds = {
        "ezbooking": {"desk-choice": "desks"},
        "rdvsp": {rdvsp.KIND_PLACES: "lieux", rdvsp.KIND_ORGANISATIONS: "organisations"},
    }.get(link.system)
    if kinds is None:
        return None
    parse = ezbooking.parse_page if link.system == "ezbooking" else rdvsp.parse_page
    for page in result.pages:
        reading = parse(page)
        if reading.kind in kinds and reading.choices:
            return Offered(kinds[reading.kind], reading.choices)
    return None


# --- html: what to look for on a page of no known system -----------------------------------


def phrases_on_page(page: Page) -> tuple[PhraseFound, ...]:
    """NONE_PHRASES the page says, each with where; a phrase inside a longer one found is
    not proposed again."""
    text = visible_text(page.text)
    found: list[PhraseFound] = []
    for phrase in NONE_PHRASES:
        folded = fold(phrase)
        at = text.find(folded)
        if at < 0 or any(folded in fold(other.phrase) for other in found):
            continue
        start, end = max(0, at - PHRASE_CONTEXT), at + len(folded) + PHRASE_CONTEXT
        context = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
        found.append(PhraseFound(phrase, context))
    return tuple(found)


@dataclass(frozen=True)
class _Group:
    """Elements of one tag-and-class path from the page's body, and how many of them read a
    date and time."""

    steps: tuple[tuple[str, tuple[str, ...]], ...]
    elements: list[Tag]
    timed: int


def html_options(
    page: Page,
    reference: date,
    url: str,
    phrases: Sequence[PhraseFound] = (),
    *,
    zone: ZoneInfo = SITE_ZONE,
) -> tuple[HtmlOption, ...]:
    """Ways to read the page, the best first: each slot_selector candidate (elements that
    repeat, the same tag and class path, at least two of them with a date and time
    `html.read_common_datetime` reads, `reference` being the check's day), with the phrases
    found as none_text; then the phrases alone. Each with what `html` reads with it."""
    soup = html_soup(page.text)
    none_text = tuple(found.phrase for found in phrases)
    ranked = sorted(
        (
            (rank, selector)
            for group in _timed_groups(soup, reference, zone)
            if (selector := _selector(soup, group)) is not None
            for rank in [_rank(group, selector)]
        ),
    )
    options = []
    for _, selector in ranked[:MAX_SELECTORS]:
        if (option := _option(page, url, selector, none_text, reference)) is not None:
            options.append(option)
    if none_text and (option := _option(page, url, None, none_text, reference)) is not None:
        options.append(option)
    return tuple(options)


def _timed_groups(soup: BeautifulSoup, reference: date, zone: ZoneInfo) -> list[_Group]:
    body = soup.body or soup
    groups: dict[tuple[tuple[str, tuple[str, ...]], ...], list[Tag]] = {}
    for element in body.find_all(True):
        if element.name in SKIPPED_TAGS or any(p.name in SKIPPED_TAGS for p in element.parents):
            continue
        groups.setdefault(_steps(element), []).append(element)
    found = []
    for steps, elements in groups.items():
        if len(elements) < 2:
            continue
        timed = sum(1 for element in elements if _reads_a_time(element, reference, zone))
        if timed >= 2 and 2 * timed >= len(elements):  # most of them name a time
            found.append(_Group(steps, elements, timed))
    return [group for group in found if not _holds_others(group, found)]


def _steps(element: Tag, *, ordered: bool = False) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The element's path from the body: each step its tag and its (CSS-safe) classes, sorted
    to tell groups apart, or in the page's order (`ordered`) to write a selector."""
    chain = [element, *element.parents]
    steps = []
    for node in reversed(chain):
        if node.name in ("[document]", "html", "body"):
            continue
        classes = node.get("class")
        names = classes.split() if isinstance(classes, str) else list(classes or [])
        safe = [name for name in names if CLASS_NAME.match(name)]
        steps.append((node.name, tuple(safe if ordered else sorted(safe))))
    return tuple(steps)


def _reads_a_time(element: Tag, reference: date, zone: ZoneInfo) -> bool:
    texts = [" ".join(element.get_text(" ").split())]
    for tag in [element, *element.find_all(True, limit=html.ATTRIBUTE_TAGS_LIMIT)]:
        texts += [
            value
            for name in html.TIME_ATTRIBUTES
            if isinstance(value := tag.get(name), str) and value.strip()
        ]
    return any(html.read_common_datetime(text, zone, reference) for text in texts)


def _holds_others(group: _Group, groups: list[_Group]) -> bool:
    """A container of another group's timed elements, which are more: a list holding the
    slots reads only the first of them."""
    mine = {id(element) for element in group.elements}
    for other in groups:
        if other is group or other.timed <= group.timed:
            continue
        if all(any(id(parent) in mine for parent in tag.parents) for tag in other.elements):
            return True
    return False


def _selector(soup: BeautifulSoup, group: _Group) -> str | None:
    """The shortest CSS selector, from the end of the element's path (each step with all its
    classes: "li.plage.libre", not "li.plage", which would also match a plage taken), that
    matches exactly the group's elements; one naming a class is preferred to bare tags."""
    wanted = {id(element) for element in group.elements}
    path = _steps(group.elements[0], ordered=True)
    steps = [name + "".join(f".{c}" for c in classes) for name, classes in path]
    candidates = [" ".join(steps[-size:]) for size in range(1, len(steps) + 1)]
    candidates.append(" > ".join(steps))
    exact = [s for s in candidates if {id(tag) for tag in soup.select(s)} == wanted]
    classed = [s for s in exact if "." in s]
    chosen = classed or exact
    return chosen[0] if chosen else None


def _rank(group: _Group, selector: str) -> tuple[int, int, int, int]:
    """More elements with a time first; then those that carry a link (a slot's link is its
    steadiest key), the outer element, the shorter selector."""
    linked = sum(
        1
        for element in group.elements
        if (element.name == "a" and element.has_attr("href")) or element.select_one("a[href]")
    )
    return (-group.timed, -linked, len(group.steps), len(selector))


def _option(
    page: Page, url: str, selector: str | None, none_text: tuple[str, ...], reference: date
) -> HtmlOption | None:
    fields: dict[str, Any] = {"name": "candidate", "url": url, "none_text": list(none_text)}
    if selector is not None:
        fields["slot_selector"] = selector
    try:
        target = html.Target.model_validate(fields)
    except ValidationError:
        return None
    reading = html.analyse(page, target, reference).reading
    return HtmlOption(selector, none_text, reading)


def first_times(reading: Reading, zone: ZoneInfo, count: int = 3) -> list[str]:
    """The first slots' times as a person reads them ('mar. 08/12 09:30')."""
    times = [slot.start for slot in reading.slots if slot.time_known][:count]
    return [start.astimezone(zone).strftime("%a %d/%m %H:%M") for start in times]
