"""Page signals every booking system shares: refusals, overload, closure, CAPTCHAs."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from creneau.details import Detail
from creneau.page import Page
from creneau.results import Status
from creneau.sources.reading import Reading

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

# Every supported site is French and shows its times in Paris time (for RDV Préfecture the
# zone of its Vertigo LocaleManager is unconfirmed: its instants carry no offset).
SITE_ZONE = ZoneInfo("Europe/Paris")
# A saved error page comes back as 200 from a file: its <title> tells the real status.
ERROR_TITLE = re.compile(r"<title>\s*(401|403|429|50[0-9])\b", re.IGNORECASE)
# The names `creneau parse --explain` gives the rules of `read_failure`.
FAILURE_RULES = {"overloaded": "OVERLOADED_PHRASES", "closed": "CLOSED_PHRASES"}

_TAG = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<[^>]+>", re.DOTALL | re.IGNORECASE)
_SPACE = re.compile(r"\s+")

# Phrases are matched on folded text: lower case, no accents, straight apostrophes.
OVERLOADED_PHRASES = re.compile(
    r"service (est )?(momentanement |actuellement |temporairement )?surcharge"
    r"|trop de (demandes|connexions|requetes)"
)
CLOSED_PHRASES = re.compile(
    r"cette page n'est pas disponible pour le moment"
    r"|(site|service|page) (est )?(actuellement |momentanement |temporairement )?"
    r"(en|en cours de) maintenance"
    r"|operation de maintenance"
    r"|prise de rendez-vous (est )?(actuellement |momentanement |temporairement )?"
    r"(fermee|suspendue|indisponible)"
)
CAPTCHA_MARKERS = re.compile(
    r"captcha|code de securite|recopiez les caracteres|saisissez les caracteres",
)


def fold(text: str) -> str:
    """Lower case, accents removed, apostrophes straightened, whitespace collapsed."""
    text = text.replace("\u2019", "'").replace("\u00a0", " ").lower()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return _SPACE.sub(" ", text).strip()


def visible_text(markup: str) -> str:
    """The page's text without tags, scripts and styles, folded for phrase matching."""
    return fold(shown_text(markup))


def shown_text(markup: str) -> str:
    """The page's text without tags, scripts and styles, as it reads (not folded)."""
    return html.unescape(_TAG.sub(" ", markup))


@dataclass(frozen=True)
class FoldedText:
    """`text` folded as `fold` does (whitespace collapsed, but not stripped), each folded
    character knowing the character of `text` it comes from: a phrase matched on the folded
    text is quoted as the page writes it (`said`)."""

    text: str
    folded: str
    places: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> FoldedText:
        folded: list[str] = []
        places: list[int] = []
        for place, char in enumerate(text):
            for piece in _fold_char(char):  # a cedilla alone folds to a space, for one
                if piece.isspace() and folded and folded[-1] == " ":
                    continue
                folded.append(" " if piece.isspace() else piece)
                places.append(place)
        return cls(text, "".join(folded), tuple(places))

    def said(self, found: re.Match[str]) -> str:
        """What the page writes where `found` (a match on `folded`) is, spaces collapsed."""
        if found.end() <= found.start():
            return ""
        start, end = self.places[found.start()], self.places[found.end() - 1] + 1
        return " ".join(self.text[start:end].split())


def _fold_char(char: str) -> str:
    lowered = unicodedata.normalize("NFKD", char.replace("\u2019", "'").lower())
    return "".join(piece for piece in lowered if not unicodedata.combining(piece))


def read_failure(page: Page, text: str | None = None) -> Reading | None:
    """A page that says the site refuses, is overloaded or is closed; None otherwise.
    `text` is the page's folded visible text, when the caller has it already."""
    if page.status == 403:
        return Reading("forbidden", Status.BLOCKED, Detail("http_forbidden"))
    if page.status == 429:
        return Reading("rate-limited", Status.BLOCKED, Detail("http_rate_limited"))
    if text is None:
        text = visible_text(page.text)
    # What the page says beats its status: a maintenance page is often served as a 503.
    if OVERLOADED_PHRASES.search(text):
        return Reading("overloaded", Status.OVERLOADED, Detail("site_overloaded"))
    if match := CLOSED_PHRASES.search(text):
        return Reading("closed", Status.CLOSED, Detail("site_closed", phrase=match.group(0)))
    if page.status >= 500:
        detail = Detail("http_server_error", status=page.status)
        return Reading("server-error", Status.OVERLOADED, detail)
    if page.status == 404:
        return Reading("not-found", Status.ERROR, Detail("http_not_found"))
    if page.status >= 400:
        return Reading("client-error", Status.ERROR, Detail("http_status", status=page.status))
    return None


def status_from_error_title(page: Page) -> tuple[Page, bool]:
    """The page with the status its error <title> gives, and whether it gave one."""
    found = ERROR_TITLE.search(page.text[:1024]) if page.status == 200 else None
    if found is None:
        return page, False
    return Page(page.url, int(found.group(1)), page.body, page.headers), True


def failure_named(failure: Reading, from_title: bool) -> Reading:
    """A `read_failure` reading with the rule that decided it."""
    rule = FAILURE_RULES.get(failure.kind, "ERROR_TITLE" if from_title else "HTTP_STATUS")
    return replace(failure, rule=rule)


def page_date(page: Page, zone: ZoneInfo = SITE_ZONE) -> date | None:
    """The day the page was served, in the site's zone, from its Date header."""
    sent = page.header("date")
    if not sent:
        return None
    try:
        at = parsedate_to_datetime(sent)
    except (TypeError, ValueError, IndexError):
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(zone).date()


# A page is read into a tree of at most this many elements. A booking page has a few thousand;
# one of 100,000 slot elements made BeautifulSoup take 3 s and 100 MB. The elements past it
# are not read, only counted by shape (`Cut`).
MAX_ELEMENTS_READ = 25_000
_START_TAG = re.compile(r"<([a-zA-Z][\w:-]*)")
_START_TAG_CLASS = re.compile(
    r"""<([a-zA-Z][\w:-]*)(?:[^>]*?\sclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?"""
)
Shape = tuple[str, tuple[str, ...]]  # an element's tag and its sorted classes


@dataclass(frozen=True)
class Cut:
    """The elements of a page past MAX_ELEMENTS_READ: how many of each shape."""

    shapes: Counter[Shape] = field(default_factory=Counter)

    def like(self, elements: Iterable[Tag]) -> int:
        """How many cut elements have the shape of one of `elements` (slots cut short)."""
        kept = {
            _shape(str(element.name), element.get_attribute_list("class")) for element in elements
        }
        return sum(self.shapes[shape] for shape in kept)


def bounded_soup(markup: str) -> tuple[BeautifulSoup, Cut]:
    """The page as a tree of its first MAX_ELEMENTS_READ elements, and what was cut after.
    BeautifulSoup is imported when a page is parsed: a daemon without a target of a system
    that uses it never loads it."""
    from bs4 import BeautifulSoup

    end = _end_of_elements_read(markup)
    if end is None:
        return BeautifulSoup(markup, "lxml"), Cut()
    return BeautifulSoup(markup[:end], "lxml"), _cut_after(markup, end)


def html_soup(markup: str) -> BeautifulSoup:
    return bounded_soup(markup)[0]


def _end_of_elements_read(markup: str) -> int | None:
    """Where the element after the last one read starts; None when all are read. (A "<x" in
    a script or a comment counts as an element: the budget only errs on the small side.)"""
    if len(markup) < 3 * MAX_ELEMENTS_READ:  # "<b>": no element is shorter
        return None
    for count, found in enumerate(_START_TAG.finditer(markup)):
        if count == MAX_ELEMENTS_READ:
            return found.start()
    return None


def _cut_after(markup: str, end: int) -> Cut:
    shapes: Counter[Shape] = Counter()
    for found in _START_TAG_CLASS.finditer(markup, end):
        classes = next((group for group in found.groups()[1:] if group is not None), "")
        shapes[_shape(found.group(1), classes.split())] += 1
    return Cut(shapes)


def _shape(tag: str, classes: Iterable[str]) -> Shape:
    return tag.lower(), tuple(sorted(classes))


def looks_like_captcha(text: str) -> bool:
    return CAPTCHA_MARKERS.search(text) is not None


class NotJson(ValueError):
    """A body that is not JSON a parser can read (invalid, or nested too deep)."""


def load_json(text: str) -> Any:
    """json.loads that fails only with NotJson: a hostile body nested thousands of levels
    deep raises RecursionError, which is not a ValueError."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as failure:
        raise NotJson(str(failure)[:200]) from None
