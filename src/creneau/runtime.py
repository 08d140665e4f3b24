"""The runtime: what checking needs, assembled in one place — the config, the store, the
polite HTTP client seeded from what the store remembers (each target's last check, each
host's breaker, Retry-After and robots.txt), each target's alert routing, and the sender.
`creneau run` (the Daemon), `check`, `captcha` and the demo are built on it.

Also the CAPTCHA use case: a person reads the site's image, creneau sends the code, keeps the
site session for the daemon, checks once with it and sends what is due. It reaches the person
only through the callables of a `CaptchaDialog` (a terminal today, a web page later)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from creneau.alerts import events as outbox
from creneau.alerts.deliver import Sender
from creneau.alerts.events import Routing
from creneau.check.record import Recorded, watch_once
from creneau.details import Said
from creneau.fetch.client import FetchError, Guard, PoliteClient
from creneau.redact import public_link
from creneau.results import SiteSession, Status
from creneau.store import StoreCall, inline

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.fetch.client import Session
    from creneau.fetch.politeness import HostState
    from creneau.sources import HandsCaptchaToAPerson
    from creneau.store import Store
    from creneau.targets import TargetBase

# An ad-hoc check run without a config: Paris time and French, like the config's default.
AD_HOC_ZONE = ZoneInfo("Europe/Paris")
AD_HOC_LANGUAGE = "fr"
CAPTCHA_TRIES = 3  # images shown before creneau stops asking


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Runtime:
    """config → store → polite client → routes → sender. Without a config (an ad-hoc check),
    every host has the default budget, alerts go nowhere and pages are not kept.

    Seed the client with `seed_from_store` (or `seed`, with what was read elsewhere, e.g. on
    the daemon's database thread) before the first check."""

    def __init__(
        self,
        config: Config | None,
        store: Store,
        *,
        contact: str | None = None,
        client: PoliteClient | None = None,
        db: StoreCall = inline,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.config = config
        self.store = store
        self.db = db
        self.now = now
        contact = contact or (config.creneau.contact if config else None)
        if client is None:
            client = PoliteClient(contact, config.budget_for) if config else PoliteClient(contact)
        self.client = client
        self.routes: dict[str, Routing] = outbox.routes(config) if config else {}

    @property
    def zone(self) -> ZoneInfo:
        return self.config.creneau.zone if self.config else AD_HOC_ZONE

    @property
    def language(self) -> str:
        """The language what a person reads is written in (a check's detail)."""
        return self.config.creneau.language if self.config else AD_HOC_LANGUAGE

    @property
    def pages_dir(self) -> Path:
        from creneau.config import default_data_dir

        return self.config.creneau.pages_dir if self.config else default_data_dir() / "pages"

    @property
    def keep_pages(self) -> bool:
        return bool(self.config and self.config.creneau.keep_pages)

    @cached_property
    def sender(self) -> Sender:
        """Delivers the outbox to the config's channels (built on first use: Jinja2 is
        loaded only when there is something to send)."""
        if self.config is None:
            raise RuntimeError("a runtime without a config has no channel to send to")
        return Sender.from_config(self.store, self.config, db=self.db, now=self.now)

    # --- the client remembers what the store knows ----------------------------------------

    def seed(
        self, host_states: Mapping[str, HostState], last_checks: Mapping[str, datetime]
    ) -> None:
        """Each target's last check (its interval floor holds across processes and restarts)
        and each host's breaker, Retry-After deadline and robots.txt."""
        for name, at in last_checks.items():
            self.client.remember_check(name, at)
        self.client.restore_hosts(host_states)

    def seed_from_store(self, *, floors: bool = True) -> None:
        """`seed` with what the store holds now. `floors=False` seeds the hosts only: a
        person's CAPTCHA session, and the check right after it, are not periodic checks."""
        last_checks = self.store.last_checks() if floors else {}
        self.seed(self.store.host_states(), last_checks)

    # --- one check ------------------------------------------------------------------------

    def guard(self, target: TargetBase) -> Guard | None:
        """The SSRF guard a target added through the dashboard is checked through."""
        if not target.guarded:
            return None
        allow_private = bool(self.config and self.config.web.allow_private_targets)
        return Guard(allow_private=allow_private)

    def routing(self, target: TargetBase) -> Routing:
        """Where the target's alerts go; nowhere for a target the config does not name."""
        return self.routes.get(target.name, Routing(self.zone))

    async def watch_once(self, target: TargetBase) -> Recorded:
        """One check of `target`, recorded, its alerts queued. A target the config does not
        name (an ad-hoc check) is recorded under its public link. Raises what
        `check.record.watch_once` raises (TooSoon, NotRecorded)."""
        configured = target.name in self.routes
        return await watch_once(
            target,
            self.client,
            self.store,
            self.routing(target),
            db=self.db,
            pages_dir=self.pages_dir,
            keep_pages=self.keep_pages,
            now=self.now,
            name_in_store=None if configured else public_link(target.url),
            guard=self.guard(target),
        )


# --- a person solves a CAPTCHA ----------------------------------------------------------------


@dataclass(frozen=True)
class CaptchaDialog:
    """How the CAPTCHA use case reaches the person solving it."""

    show_image: Callable[[bytes], Awaitable[None]]
    ask_code: Callable[[], Awaitable[str]]  # what the person read in the image; "" to stop
    code_refused: Callable[[], None]  # the site did not accept the code
    checked: Callable[[Recorded], None]  # the check made with the new session, before alerts


@dataclass(frozen=True)
class CaptchaOutcome:
    """`solved`, or why not: `problem` when the site offered no image to pass on or could
    not be reached ("" when the person stopped or every code was refused)."""

    solved: bool
    problem: Said = None
    challenge: str = ""  # the challenge the site asks for instead ("" or "image": none)

    @property
    def browser_only(self) -> bool:
        """The site asks for a challenge only a browser on the site can pass."""
        return self.challenge not in ("", "image")


async def solve_captcha(
    runtime: Runtime,
    target: TargetBase,
    source: HandsCaptchaToAPerson,
    dialog: CaptchaDialog,
    *,
    tries: int = CAPTCHA_TRIES,
) -> CaptchaOutcome:
    """Pass the site's image CAPTCHA to a person and their code to the site; on success,
    keep the site session for the daemon, check the target once with it and send what is
    due. The runtime needs a config that names `target`."""
    assert runtime.config is not None, "a CAPTCHA is solved for a configured target"
    try:
        # A person's action, not a periodic check: it has its own floor key.
        async with runtime.client.session(
            f"{target.name}#captcha",
            target.url,
            respect_robots=target.respect_robots,
            guard=runtime.guard(target),
        ) as session:
            outcome, cookies = await _ask_a_person(target, source, session, dialog, tries)
            session.verdict = Status.NONE if cookies is not None else Status.CAPTCHA
    except FetchError as failure:
        return CaptchaOutcome(solved=False, problem=failure.detail)
    if cookies is None:
        return outcome
    with runtime.store.transaction() as tx:
        tx.save_site_session(target.name, cookies, runtime.now())
    recorded = await watch_once(
        target,
        runtime.client,
        runtime.store,
        runtime.routes[target.name],
        pages_dir=runtime.config.creneau.pages_dir,
        guard=runtime.guard(target),
    )
    dialog.checked(recorded)
    if recorded.queued:
        await runtime.sender.deliver_due()
    return outcome


async def _ask_a_person(
    target: TargetBase,
    source: HandsCaptchaToAPerson,
    session: Session,
    dialog: CaptchaDialog,
    tries: int,
) -> tuple[CaptchaOutcome, SiteSession | None]:
    """Show the image, send what the person typed; the site session's cookies on success."""
    for _ in range(tries):
        try:
            challenge = await source.start_captcha(target, session)
        except ValueError as unavailable:
            return _no_image(unavailable), None
        await dialog.show_image(challenge.image)
        code = await dialog.ask_code()
        if not code.strip():
            return CaptchaOutcome(solved=False), None
        try:
            reading = await source.submit_captcha(target, session, challenge, code)
        except ValueError as unavailable:  # e.g. a reCAPTCHA chained after the right code
            return _no_image(unavailable), None
        if reading.status is not Status.CAPTCHA:
            return CaptchaOutcome(solved=True), session.kept_cookies()
        dialog.code_refused()
    return CaptchaOutcome(solved=False), None


def _no_image(unavailable: ValueError) -> CaptchaOutcome:
    """Why there is no image to pass on. The sources raise a ValueError whose text says why
    and whose `challenge` names what the site asks for instead (sources.rdvpref)."""
    return CaptchaOutcome(
        solved=False, problem=said_by(unavailable), challenge=getattr(unavailable, "challenge", "")
    )


def said_by(unavailable: ValueError) -> Said:
    """Why there is no image: the source's Detail (`CaptchaUnavailable.detail`), else the
    error's own text."""
    return getattr(unavailable, "detail", None) or str(unavailable)
