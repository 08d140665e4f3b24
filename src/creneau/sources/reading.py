"""What a booking system's page reading and request flow give the rest of creneau: a page's
`Reading` (its `Choice`s, slots, fields), a flow's `FlowOutcome`, and the bounds every system
keeps (MAX_SLOTS_PER_PAGE; a big page parsed in a process of its own)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from creneau.details import Detail, joined
from creneau.page import Page
from creneau.results import GuichetResult, ReleaseAnnouncement, Slot, Status, as_facts
from creneau.sources.isolated import parse_in_child

if TYPE_CHECKING:
    pass

# At most this many slots are read from one page; the others are counted, never read, and
# said ("and N more"). A booking page shows tens of slots, a few hundred at most: one of
# 100,000 slot elements (1.3 MB, under the body cap) took a check 8 s and the daemon from 75
# to 643 MB, its database 58 MB more (issue 24).
MAX_SLOTS_PER_PAGE = 2_000
# The `read_until` of a guichet whose slots were cut at MAX_SLOTS_PER_PAGE: its list says
# nothing of which slots seen earlier are gone.
CUT_SHORT = datetime.min.replace(tzinfo=UTC)
# A page this big is parsed in a process of its own: its parse (a second or more for a page
# near the body cap) would hold up the daemon's other checks and its dashboard.
OFF_LOOP_BYTES = 256 * 1024

T = TypeVar("T")
R = TypeVar("R")  # what a page reading gives: a Reading, or a system's richer analysis


@dataclass(frozen=True)
class Choice:
    """Something the page offers to pick, e.g. a desk (guichet)."""

    id: str
    label: str
    about: Detail | None = None  # what the page says of it (ANTS: distance, address)


@dataclass(frozen=True)
class Reading:
    """What one page says. `status` is None for an intermediate step that says nothing about
    slots yet (a terms page, a desk choice); the flow then moves on."""

    kind: str
    status: Status | None
    detail: Detail | None = None
    choices: tuple[Choice, ...] = ()
    slots: tuple[Slot, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()  # form values the next step needs
    facts: dict[str, str] = field(default_factory=dict)  # e.g. when the site last released
    challenge: str = ""  # Status.CAPTCHA: what the page asks for ("image", "recaptcha"…)
    releases: ReleaseAnnouncement | None = None  # what the page announces of its releases
    # For `creneau parse --explain`: the named rule (a module constant) that decided, and
    # for each slot the element or JSON path it was read from (same order as `slots`).
    rule: str = ""
    read_from: tuple[str, ...] = ()
    slots_not_kept: int = 0  # slots the page shows beyond MAX_SLOTS_PER_PAGE, not read

    def to_json(self) -> dict[str, Any]:
        shown = {
            "kind": self.kind,
            "status": self.status.value if self.status else None,
            "detail": str(self.detail or ""),  # English, as `creneau parse --json` prints it
            "choices": [{"id": c.id, "label": c.label} for c in self.choices],
            "slots": [slot.to_json() for slot in self.slots],
            "facts": as_facts(self.facts, self.slots, self.challenge, self.releases),
        }
        return shown | ({"slots_not_kept": self.slots_not_kept} if self.slots_not_kept else {})


@dataclass(frozen=True)
class FlowOutcome:
    """What a source's flow found. `status` applies when no guichet was reached."""

    guichets: tuple[GuichetResult, ...]
    status: Status
    detail: Detail | None = None
    last_page: Page | None = None
    facts: dict[str, str] = field(default_factory=dict)
    challenge: str = ""  # Status.CAPTCHA: what the site asks for ("image", "recaptcha"…)
    releases: ReleaseAnnouncement | None = None  # what the site announced of its releases
    complete: bool = False  # guichets absent from the answer have no slot (all were listed)
    # The site refused the target's own settings (a radius it does not offer, a token it did
    # not issue): the target's mistake, no evidence about the host, not fed to its breaker.
    config_error: bool = False
    slots_not_kept: int = 0  # slots its pages showed beyond MAX_SLOTS_PER_PAGE, not read


class PageReading(ABC, Generic[R]):
    """One page being read by a booking system. Each system says what it sees on the page
    (a refusal, its slots, a banner, the rest); the order in which that decides is the same
    for every system and is written once, here (`reading`)."""

    def reading(self) -> R:
        """A refusal first (the host said stop, or failed: its breaker needs it, and slots
        on such a page are not to be trusted), then slots seen win over any banner, then a
        banner (overloaded, closed, a challenge in the way), then the system's reading of
        the rest of the page."""
        if (refused := self.refusal()) is not None:
            return refused
        if (seen := self.slots()) is not None:
            return seen
        if (said := self.banner()) is not None:
            return said
        return self.rest()

    def refusal(self) -> R | None:
        """The reading of a page the host refused or failed to serve; None otherwise."""
        return None

    def slots(self) -> R | None:
        """The reading of the slots the page shows; None when it shows none."""
        return None

    def banner(self) -> R | None:
        """What the page says over its content (overloaded, closed); None when nothing."""
        return None

    @abstractmethod
    def rest(self) -> R:
        """What the page is, when it is none of the above."""


@overload
def with_not_kept(detail: Detail, count: int) -> Detail: ...
@overload
def with_not_kept(detail: Detail | None, count: int) -> Detail | None: ...
def with_not_kept(detail: Detail | None, count: int) -> Detail | None:
    """A reading's detail, and, when its page was cut at MAX_SLOTS_PER_PAGE, how many slots
    were left unread."""
    if not count:
        return detail
    return joined((detail, Detail("slots_not_kept", count=count, cap=MAX_SLOTS_PER_PAGE)))


async def parsed(parse: Callable[..., T], page: Page, *args: Any) -> T:
    """`parse(page, *args)`; for a page big enough for its parse to hold up the event loop,
    in a process of its own (`isolated`): `parse` is then a module's function and its
    arguments pickle."""
    if len(page.body) < OFF_LOOP_BYTES:
        return parse(page, *args)
    return await parse_in_child(parse, page, *args)
