"""The booking systems, one folder each, and their registry: `SYSTEMS` names them, one line
each, in the order a link is tried (the system that takes any page last). A system's folder
`sources/<system>/` holds:

- `__init__.py`: its `Target` (the pydantic model of its targets), the pure `parse_page(page,
  target=None) -> Reading` (a `PageReading` of sources/reading.py: the system says what it
  sees, the precedence — a refusal first, then slots win over banners — is the base's) and
  the request flow `async check(target, session) -> FlowOutcome` (a page's slots past
  MAX_SLOTS_PER_PAGE are counted, not read), its typed errors;
- `system.py`: `SYSTEM`, its `BookingSystem` (sources/system.py): host budgets, whether it
  keeps the site's cookies, how its links are recognised and named, what its pages offer,
  and the capabilities the command line and the dashboard ask of it; optionally
  `start_captcha` / `submit_captcha` (`HandsCaptchaToAPerson`);
- `simulator.py`: its simulated site (`SIMULATED`), for `creneau simulate`, the demo and tests;
- its saved pages are in `fixtures/<system>/` (`BookingSystem.fixtures`).

The daemon, the CLI, the dashboard and the config look systems up here by name and know
nothing else of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol, cast

from creneau.sources.reading import Reading

if TYPE_CHECKING:
    from creneau.host_budget import HostBudget
    from creneau.sources.session import Session
    from creneau.sources.system import BookingSystem
    from creneau.targets import TargetBase

SYSTEMS: tuple[str, ...] = (
    "ezbooking",
    "rdvpref",
    "rdvsp",
    "ants",
    "html",  # any page, read with the settings a person gives: tried last
)


class CaptchaImage(Protocol):
    """A CAPTCHA image a person reads (the source keeps what it needs to send the code)."""

    image: bytes


class HandsCaptchaToAPerson(Protocol):
    """A system whose site may ask for an image CAPTCHA that a person can solve
    (`creneau captcha NAME`): it shows the image and sends what the person typed. Where
    there is no image a person could solve, it raises `captcha_errors.UnsolvableCaptcha`."""

    async def start_captcha(self, target: Any, session: Session) -> CaptchaImage: ...

    async def submit_captcha(
        self, target: Any, session: Session, challenge: Any, code: str
    ) -> Reading: ...


def get(system: str) -> BookingSystem:
    """The booking system of that name (`creneau.sources.<system>.system.SYSTEM`)."""
    if system not in SYSTEMS:
        raise KeyError(f'unknown system "{system}" (known: {", ".join(SYSTEMS)})')
    found: BookingSystem = importlib.import_module(f"creneau.sources.{system}.system").SYSTEM
    return found


def search_page(system: str) -> str:
    """Where a person books for a target of this system whose URL is an API nobody books on
    (ANTS: its website); "" for the others, and for a name no system has."""
    return get(system).search_page if system in SYSTEMS else ""


def captcha_handler(system: str) -> HandsCaptchaToAPerson | None:
    source = get(system)
    return cast(HandsCaptchaToAPerson, source) if hasattr(source, "start_captcha") else None


def target_models() -> tuple[type[TargetBase], ...]:
    return tuple(get(system).Target for system in SYSTEMS)


def keeps_session(system: str) -> bool:
    return get(system).KEEPS_SESSION


def host_budgets() -> dict[str, HostBudget]:
    """Default budgets the systems declare for the hosts they know."""
    budgets: dict[str, HostBudget] = {}
    for system in SYSTEMS:
        budgets.update(get(system).HOST_BUDGETS)
    return budgets
