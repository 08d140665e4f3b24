"""For a page of no known system (`html`): the `slot_selector` / `none_text` a person can
choose from when adding a target, each with what it reads on the page now (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from creneau.page import Page
from creneau.sources.common import SITE_ZONE, fold, html_soup, visible_text
from creneau.sources.html import (
    ATTRIBUTE_TAGS_LIMIT,
    TIME_ATTRIBUTES,
    Target,
    analyse,
    read_common_datetime,
)
from creneau.sources.system import HtmlOption, PhraseFound

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

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
    `read_common_datetime` reads, `reference` being the check's day), with the phrases
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
    for tag in [element, *element.find_all(True, limit=ATTRIBUTE_TAGS_LIMIT)]:
        texts += [
            value
            for name in TIME_ATTRIBUTES
            if isinstance(value := tag.get(name), str) and value.strip()
        ]
    return any(read_common_datetime(text, zone, reference) for text in texts)


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
        target = Target.model_validate(fields)
    except ValidationError:
        return None
    reading = analyse(page, target, reference).reading
    return HtmlOption(selector, none_text, reading)
