"""The CAPTCHA hand-off: a person reads the site's image, creneau sends the code they typed
through the same site session, keeps that session in the store for the daemon, checks once
with it and sends what is due. creneau never solves a CAPTCHA: it carries an image one way
and a code the other.

Two ways through it, on the same steps: `solve_captcha`, in one sitting (a terminal, through
a `CaptchaDialog`), and `CaptchaSteps`, one short site session per step (a web page: one
request shows the image, the next sends the code, the cookies waiting in between)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from creneau.captcha_errors import IMAGE_OR_NONE, InvalidCaptcha, UnsolvableCaptcha
from creneau.check.record import NotRecorded, Recorded
from creneau.check.run import internal_error
from creneau.details import Detail, Said
from creneau.fetch.client import FetchError, TooSoon
from creneau.results import CheckResult, SiteSession, Status
from creneau.store import STORE_FAILURES
from creneau.usecases.check_once import check_once

if TYPE_CHECKING:
    from creneau.fetch.client import Session
    from creneau.fetch.politeness import HostState
    from creneau.runtime import Runtime
    from creneau.sources import CaptchaImage, HandsCaptchaToAPerson
    from creneau.store import Store
    from creneau.targets import TargetBase

log = logging.getLogger("creneau")

CAPTCHA_TRIES = 3  # images shown before creneau stops asking
# Image types passed on to a person: raster images only (an SVG could carry script).
IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
NOT_AN_IMAGE = Detail("captcha.not_an_image")
Answer = TypeVar("Answer")


@dataclass(frozen=True)
class CaptchaOutcome:
    """`solved`, or why not: `problem` when the site offered no image to pass on or could
    not be reached ("" when the person stopped or every code was refused)."""

    solved: bool
    problem: Said = None
    challenge: str = ""  # the challenge the site asks for instead ("" or "image": none)

    @classmethod
    def unsolvable(cls, why: UnsolvableCaptcha) -> CaptchaOutcome:
        return cls(solved=False, problem=why.detail, challenge=why.challenge)

    @property
    def browser_only(self) -> bool:
        """The site asks for a challenge only a browser on the site can pass."""
        return self.challenge not in IMAGE_OR_NONE


# --- the steps against the site ---------------------------------------------------------------


@dataclass(frozen=True)
class ShownImage:
    """The site's CAPTCHA and the type of its image, as a person is shown it."""

    challenge: CaptchaImage
    content_type: str


async def image_from_site(
    target: TargetBase, source: HandsCaptchaToAPerson, session: Session
) -> ShownImage:
    """The site's image CAPTCHA, fetched through `session`. Raises UnsolvableCaptcha when
    there is none a person could read."""
    challenge = await source.start_captcha(target, session)
    content_type = image_type(challenge.image)
    if content_type is None:
        raise UnsolvableCaptcha(NOT_AN_IMAGE)
    return ShownImage(challenge, content_type)


async def send_code(
    target: TargetBase,
    source: HandsCaptchaToAPerson,
    session: Session,
    challenge: CaptchaImage,
    code: str,
) -> SiteSession:
    """Send the code through the image's site session; its cookies, for the daemon, when the
    site accepts it. Raises InvalidCaptcha when the site refuses it, UnsolvableCaptcha when
    it then asks for what only a browser passes (e.g. a reCAPTCHA chained after the code)."""
    reading = await source.submit_captcha(target, session, challenge, code)
    if reading.status is Status.CAPTCHA:
        raise InvalidCaptcha(reading.detail)
    return session.kept_cookies()


def image_type(data: bytes) -> str | None:
    return next((kind for magic, kind in IMAGE_SIGNATURES if data.startswith(magic)), None)


# --- the session kept, one check with it ------------------------------------------------------


@dataclass(frozen=True)
class Finished:
    """What became of a hand-off: solved (and the check made at once with the new session),
    or why there is no image or no session."""

    outcome: CaptchaOutcome
    checked: CheckResult | None = None
    new_slots: int = 0  # the slots that check saw appear
    queued: int = 0  # the alerts it queued
    check_note: Said = None  # why no check was made at once (the polite client's reason)
    gave_up: bool = False  # CAPTCHA_TRIES codes in a row were refused


CheckNow = Callable[["TargetBase"], Awaitable[Recorded | None]]  # None: not checked (too soon)


async def keep_and_check(
    runtime: Runtime,
    target: TargetBase,
    cookies: SiteSession,
    daemon_check: CheckNow | None = None,
    *,
    solved_from: str = "",
) -> Finished:
    """Save the site session for the daemon, then check the target once with it: through
    `daemon_check` when the daemon runs in this process (its floor, its log, its outbox
    woken; None when it did not check), else here. Nothing is sent. `solved_from` (e.g.
    "the dashboard") is logged; a terminal's person sees the outcome there already."""
    try:
        await runtime.db(_save_site_session, runtime.store, target.name, cookies, runtime.now())
    except STORE_FAILURES as failure:
        problem = Detail("captcha.session_not_saved", error=str(failure))
        return Finished(CaptchaOutcome(solved=False, problem=problem))
    if solved_from:
        log.info("%s: CAPTCHA solved from %s; its site session is kept", target.name, solved_from)
    solved = CaptchaOutcome(solved=True)
    try:
        recorded = await (daemon_check or _check_here(runtime))(target)
    except TooSoon as soon:
        return Finished(solved, check_note=soon.detail)
    except NotRecorded as failure:
        return Finished(solved, checked=failure.result)
    if recorded is None:
        return Finished(solved)
    return Finished(solved, recorded.result, len(recorded.appeared), recorded.queued)


def _check_here(runtime: Runtime) -> CheckNow:
    async def check(target: TargetBase) -> Recorded | None:
        return await check_once(runtime, target)

    return check


def _save_site_session(store: Store, target: str, cookies: SiteSession, at: datetime) -> None:
    with store.transaction() as tx:
        tx.save_site_session(target, cookies, at)


# --- in one sitting: a terminal ---------------------------------------------------------------


@dataclass(frozen=True)
class CaptchaDialog:
    """How `solve_captcha` reaches the person solving it."""

    show_image: Callable[[bytes], Awaitable[None]]
    ask_code: Callable[[], Awaitable[str]]  # what the person read in the image; "" to stop
    code_refused: Callable[[], None]  # the site did not accept the code
    checked: Callable[[Finished], None]  # the check made with the new session, before alerts


async def solve_captcha(
    runtime: Runtime,
    target: TargetBase,
    source: HandsCaptchaToAPerson,
    dialog: CaptchaDialog,
    *,
    tries: int = CAPTCHA_TRIES,
) -> CaptchaOutcome:
    """The hand-off in one site session: on success, keep it for the daemon, check the
    target once with it and send what is due. The runtime needs a config that names
    `target`."""
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
    finished = await keep_and_check(runtime, target, cookies)
    if finished.checked is not None:
        dialog.checked(finished)
    if finished.queued:
        await runtime.sender.deliver_due()
    return finished.outcome


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
            shown = await image_from_site(target, source, session)
            await dialog.show_image(shown.challenge.image)
            code = await dialog.ask_code()
            if not code.strip():
                return CaptchaOutcome(solved=False), None
            return CaptchaOutcome(solved=True), await send_code(
                target, source, session, shown.challenge, code
            )
        except UnsolvableCaptcha as unsolvable:
            return CaptchaOutcome.unsolvable(unsolvable), None
        except InvalidCaptcha:
            dialog.code_refused()
    return CaptchaOutcome(solved=False), None


# --- in steps: a web page ---------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """An image shown, its code awaited: the site session's cookies, and the challenge the
    source needs to send the code."""

    cookies: SiteSession
    challenge: CaptchaImage
    content_type: str
    tries: int  # images shown in this hand-off, this one included
    serial: int  # numbers the hand-off, for the polite client's keys and the image's URL
    notice: str = ""  # what the page says above the image: "refused", "expired" or "empty"


@dataclass(frozen=True)
class Accepted:
    """The site accepted the code: the session to keep (`keep_and_check`)."""

    cookies: SiteSession


Step = Waiting | Finished | Accepted
SiteStep = Callable[["Session"], Awaitable[Step]]


class CaptchaSteps:
    """The hand-off one short site session at a time, no step holding the site's host while
    a person reads the image. With a client of its own (`own_client`), the hosts' states are
    read from the store before each step and saved after it, so that what the daemon learnt
    (a Retry-After, an open breaker) holds here and the other way round."""

    def __init__(self) -> None:
        self._serials = itertools.count(1)

    async def start(
        self, runtime: Runtime, target: TargetBase, source: HandsCaptchaToAPerson, own_client: bool
    ) -> Waiting | Finished:
        """A new site session and its CAPTCHA image. A person's action, not a periodic check:
        it has its own interval floor, as `creneau captcha` has."""
        serial = next(self._serials)

        async def step(session: Session) -> Step:
            return await _next_image(target, source, session, tries=1, serial=serial)

        done = await _own_step(runtime, target, f"{target.name}#captcha", None, step, own_client)
        assert not isinstance(done, Accepted)
        return done

    async def answer(
        self,
        runtime: Runtime,
        target: TargetBase,
        source: HandsCaptchaToAPerson,
        waiting: Waiting,
        code: str,
        own_client: bool,
    ) -> Step:
        """Send the code through the image's site session: Accepted when the site accepts it,
        a new image when it refuses (up to CAPTCHA_TRIES images in all)."""

        async def step(session: Session) -> Step:
            try:
                return Accepted(await send_code(target, source, session, waiting.challenge, code))
            except UnsolvableCaptcha as unsolvable:
                return Finished(CaptchaOutcome.unsolvable(unsolvable))
            except InvalidCaptcha:
                if waiting.tries >= CAPTCHA_TRIES:
                    return Finished(CaptchaOutcome(solved=False), gave_up=True)
            return await _next_image(
                target, source, session, waiting.tries + 1, waiting.serial, notice="refused"
            )

        # The same hand-off, one step further: the floor was passed when it started.
        key = f"{target.name}#captcha#{waiting.serial}.{waiting.tries}"
        return await _own_step(runtime, target, key, waiting.cookies, step, own_client)


async def _next_image(
    target: TargetBase,
    source: HandsCaptchaToAPerson,
    session: Session,
    tries: int,
    serial: int,
    notice: str = "",
) -> Waiting | Finished:
    try:
        shown = await image_from_site(target, source, session)
    except UnsolvableCaptcha as unsolvable:
        return Finished(CaptchaOutcome.unsolvable(unsolvable))
    kept = session.kept_cookies()
    return Waiting(kept, shown.challenge, shown.content_type, tries, serial, notice)


async def _own_step(
    runtime: Runtime,
    target: TargetBase,
    key: str,
    cookies: SiteSession | None,
    step: SiteStep,
    own_client: bool,
) -> Step:
    """A step; with a client of its own, the hosts' states read from the store before it
    and saved after it."""
    if own_client:
        runtime.seed(await runtime.db(runtime.store.host_states), {})
    done = await _in_site_session(runtime, target, key, cookies, step)
    if own_client:
        await _remember_hosts(runtime, done.hosts)
    return done.step


@dataclass(frozen=True)
class _Done:
    step: Step
    hosts: set[str]  # the hosts the step's requests went to


async def _in_site_session(
    runtime: Runtime, target: TargetBase, key: str, cookies: SiteSession | None, step: SiteStep
) -> _Done:
    """One step in a short site session of the runtime's polite client; what the client
    refuses (too soon, a host cooling down) or the site answers, said as a Finished."""
    hosts = {target.host}
    done: Step
    try:
        async with runtime.client.session(
            key,
            target.url,
            cookies,
            respect_robots=target.respect_robots,
            guard=runtime.guard(target),
        ) as session:
            done = await _step_said(target, session, step)
            hosts |= {urlsplit(page.url).hostname or "" for page in session.pages}
    except FetchError as failure:  # too soon, or the host cools down: nothing was sent
        done = Finished(CaptchaOutcome(solved=False, problem=failure.detail))
    return _Done(done, hosts - {""})


async def _step_said(target: TargetBase, session: Session, step: SiteStep) -> Step:
    try:
        done = await step(session)
    except FetchError as failure:
        session.verdict = session.verdict or failure.status
        return Finished(CaptchaOutcome(solved=False, problem=failure.detail))
    except Exception as bug:  # a source that raises must not break the page
        log.exception("%s: the CAPTCHA hand-off failed", target.name)
        session.verdict = session.verdict or Status.ERROR
        return Finished(CaptchaOutcome(solved=False, problem=internal_error(bug)))
    solved = isinstance(done, Accepted)
    session.verdict = session.verdict or (Status.NONE if solved else Status.CAPTCHA)
    return done


async def _remember_hosts(runtime: Runtime, hosts: set[str]) -> None:
    """The hosts' states saved for the daemon (a client of its own: the daemon's records
    its hosts with its checks)."""
    states = {host: runtime.client.host_state(host) for host in hosts}
    try:
        await runtime.db(_save_host_states, runtime.store, states, runtime.now())
    except STORE_FAILURES as failure:
        log.warning("CAPTCHA hand-off: hosts' state not saved (%s)", failure)


def _save_host_states(store: Store, states: dict[str, HostState], at: datetime) -> None:
    with store.transaction() as tx:
        for host, state in states.items():
            tx.save_host_state(host, state, at)
