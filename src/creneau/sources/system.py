"""What every booking system is to the rest of creneau: `BookingSystem`, its defaults and the
capabilities the command line, the dashboard and the alerts ask of it (instead of naming it),
and the vocabulary of a booking link (`Link`, `LinkProblem`, `Offered`, `LinkParts`, and for
a page read with a person's settings `HtmlOption`, `PhraseFound`). Each
system's package subclasses it in its `system.py` (`SYSTEM`); `creneau.sources` finds it by
name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo

from creneau.page import Page
from creneau.results import CheckResult
from creneau.sources.common import SITE_ZONE
from creneau.sources.reading import Choice, FlowOutcome, Reading

if TYPE_CHECKING:
    from creneau.host_budget import HostBudget
    from creneau.sources.session import Session
    from creneau.targets import TargetBase


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


@dataclass(frozen=True)
class LinkParts:
    """A link taken apart once, for each system to say whether it is one of its own."""

    given: str  # as the person wrote it, stripped
    parts: SplitResult
    host: str  # lower case
    plain: str  # without its query and fragment
    path: str  # without a trailing "/"
    loopback: bool  # a simulated site on this machine


@dataclass(frozen=True)
class Naming:
    """What the link's host and query say, for a system to name its target from."""

    place: str  # the département a préfecture's host names, or ""
    host_label: str  # the host's telling label, or ""
    query: Mapping[str, list[str]]

    def first(self, key: str) -> str:
        values = self.query.get(key)
        return values[0] if values else ""


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


class BookingSystem:
    """One booking system: its settings model, its page reading and request flow, and what
    the rest of creneau asks of it. The defaults suit a system of pages a person books on."""

    name: ClassVar[str]
    Target: ClassVar[type[TargetBase]]
    HOST_BUDGETS: ClassVar[Mapping[str, HostBudget]] = {}  # below a site's published limit
    KEEPS_SESSION: ClassVar[bool] = False  # the site's cookies are kept between checks
    # How long the site keeps an idle session (a person's solved CAPTCHA) alive; None: the
    # system keeps no session, or its lifetime is unknown.
    session_lifetime: ClassVar[timedelta | None] = None
    # Where a person books when the target is an API (ANTS): its own search page; "" = the
    # target's page.
    search_page: ClassVar[str] = ""
    # Its links name the démarche (a motif, a reason and a place) and its pages do not: the
    # target is named from the link first.
    named_by_link: ClassVar[bool] = False
    # Its pages are read with settings a person chooses from the page (`html`): adding a
    # target proposes them; the desks table is not shown.
    asks_for_selectors: ClassVar[bool] = False
    # Reading kinds of a page that offers choices → the setting that narrows to some of them.
    offered_kinds: ClassVar[Mapping[str, str]] = {}

    @property
    def fixtures(self) -> str:
        """Its saved pages, each with its exact reading, from the repository's root."""
        return f"fixtures/{self.name}"

    def parse_page(self, page: Page, target: Any = None) -> Reading:
        """What one page says (pure)."""
        raise NotImplementedError

    async def check(self, target: Any, session: Session) -> FlowOutcome:
        """The request flow of one check."""
        raise NotImplementedError

    # --- links ---------------------------------------------------------------------------

    def recognise(self, link: LinkParts) -> Link | None:
        """The link as one of this system's, with the settings it gives; None when not."""
        return None

    def name_words(self, link: Link, settings: Mapping[str, Any], naming: Naming) -> list[str]:
        """The words a target's name is made of, from the link alone (with `settings`)."""
        return [naming.place or naming.host_label, urlsplit(link.url).path.replace("/", " ")]

    def provisional_settings(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The settings one check is made with before the page is known."""
        return dict(fields)

    def offered(self, result: CheckResult) -> Offered | None:
        """What the site offered to choose from in this check, read by its own parser."""
        if not self.offered_kinds:
            return None
        for page in result.pages:
            reading = self.parse_page(page)
            if reading.kind in self.offered_kinds and reading.choices:
                return Offered(self.offered_kinds[reading.kind], reading.choices)
        return None

    def missing_problem(self, link: Link, missing: Sequence[str]) -> LinkProblem:
        """What the link lacks (`Link.missing`), and how to give it on the command line."""
        raise NotImplementedError(f"{self.name} links lack no setting")

    def selector_options(
        self, page: Page, reference: date, url: str, zone: ZoneInfo
    ) -> tuple[tuple[PhraseFound, ...], tuple[HtmlOption, ...]]:
        """For a system that `asks_for_selectors`: the "no slot" phrases the page says and
        the ways to read it, the best first (`reference`: the day of the check)."""
        return (), ()

    def site_zone(self, target: TargetBase) -> ZoneInfo:
        """The zone the site writes its times in."""
        return SITE_ZONE
