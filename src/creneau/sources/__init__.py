"""Booking systems, one module each. A source module exposes:

- `Target`: the pydantic model of its targets (TargetBase + its own fields, `system` literal);
- `parse_page(page, target=None) -> Reading`: pure, what one saved or fetched page says
  (`target` only for systems whose parsing depends on its settings, like `html`);
- `async check(target, session) -> FlowOutcome`: the request flow, driving `parse_page`
  through `parsed` (a big page is parsed in a process of its own); a page's slots past
  MAX_SLOTS_PER_PAGE are counted, not read (`slots_not_kept`);
- `HOST_BUDGETS: dict[str, HostBudget]`: default budgets for the hosts it knows (below a
  site's published limit), which a `[hosts."…"]` table in the config overrides;
- `KEEPS_SESSION: bool`: whether the site's cookies are kept between checks (a session a
  person opened by solving a CAPTCHA);
- optionally `start_captcha` / `submit_captcha` (`HandsCaptchaToAPerson`): an image CAPTCHA
  a person can solve through creneau.

The daemon, the CLI and the config look systems up here by name and know nothing else of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast, overload

from creneau.details import Detail, joined
from creneau.page import Page
from creneau.results import GuichetResult, Slot, Status
from creneau.sources.isolated import parse_in_child

if TYPE_CHECKING:
    from creneau.host_budget import HostBudget
    from creneau.sources.session import Session
    from creneau.targets import TargetBase

SYSTEMS: tuple[str, ...] = ("ezbooking", "rdvpref", "rdvsp", "ants", "html")

# At most this many slots are read from one page; the others are counted, never read, and
# said ("and N more"). A booking page shows tens of slots, a few hundred at most: one of
# 100,000 slot elements (1.3 MB, under the body cap) took a check 8 s and the daemon from 75
# to 643 MB, its database 58 MB more (issue 24).
MAX_SLOTS_PER_PAGE = 2_000
# CheckResult.facts: how many slots the check's pages showed beyond MAX_SLOTS_PER_PAGE.
SLOTS_NOT_KEPT_FACT = "slots_not_kept"
# The `read_until` of a guichet whose slots were cut at MAX_SLOTS_PER_PAGE: its list says
# nothing of which slots seen earlier are gone.
CUT_SHORT = datetime.min.replace(tzinfo=UTC)
# A page this big is parsed in a process of its own: its parse (a second or more for a page
# near the body cap) would hold up the daemon's other checks and its dashboard.
OFF_LOOP_BYTES = 256 * 1024

T = TypeVar("T")


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
            "facts": self.facts,
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
    complete: bool = False  # guichets absent from the answer have no slot (all were listed)
    # The site refused the target's own settings (a radius it does not offer, a token it did
    # not issue): the target's mistake, no evidence about the host, not fed to its breaker.
    config_error: bool = False
    slots_not_kept: int = 0  # slots its pages showed beyond MAX_SLOTS_PER_PAGE, not read


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


class Source(Protocol):
    Target: type[TargetBase]
    HOST_BUDGETS: Mapping[str, HostBudget]
    KEEPS_SESSION: bool

    def parse_page(self, page: Page, target: Any = None) -> Reading: ...

    async def check(self, target: Any, session: Session) -> FlowOutcome: ...


class CaptchaImage(Protocol):
    """A CAPTCHA image a person reads (the source keeps what it needs to send the code)."""

    image: bytes


class HandsCaptchaToAPerson(Source, Protocol):
    """A source whose site may ask for an image CAPTCHA that a person can solve
    (`creneau captcha NAME`): it shows the image and sends what the person typed."""

    async def start_captcha(self, target: Any, session: Session) -> CaptchaImage: ...

    async def submit_captcha(
        self, target: Any, session: Session, challenge: Any, code: str
    ) -> Reading: ...


def captcha_handler(system: str) -> HandsCaptchaToAPerson | None:
    source = get(system)
    return cast(HandsCaptchaToAPerson, source) if hasattr(source, "start_captcha") else None


def get(system: str) -> Source:
    if system not in SYSTEMS:
        raise KeyError(f'unknown system "{system}" (known: {", ".join(SYSTEMS)})')
    module: ModuleType = importlib.import_module(f"creneau.sources.{system}")
    return cast(Source, module)


def target_models() -> tuple[type[TargetBase], ...]:
    return tuple(get(system).Target for system in SYSTEMS)


def keeps_session(system: str) -> bool:
    return get(system).KEEPS_SESSION


def host_budgets() -> dict[str, HostBudget]:
    """Default budgets the sources declare for the hosts they know."""
    budgets: dict[str, HostBudget] = {}
    for system in SYSTEMS:
        budgets.update(get(system).HOST_BUDGETS)
    return budgets
