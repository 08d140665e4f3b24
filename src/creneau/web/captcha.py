"""The CAPTCHA hand-off, /captcha/<name>: the image creneau's own site session received, shown
to a person (served from memory, never from the site); the code they type, sent back to the
site through that same site session; on success, the session kept in the store, where the
daemon — in this process or another — finds it for its next checks. creneau never solves a
CAPTCHA: it carries an image one way and a code the other.

Each step is one request to the dashboard and one short session of the polite client (under
`creneau run`, the daemon's own client: its budgets, Retry-After deadlines and breakers hold for
both). Between steps, the site session's cookies and its challenge wait in memory, per
dashboard session and target, for a few minutes: no step holds the site's host while a person
reads the image.

Only a POST carrying the page's CSRF token asks the site anything: a GET shows what waits in
memory, or a button to start. Any page a person visits may make their browser send a GET
(an <img>), and a site session spends the host's budget."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeGuard
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from creneau import sources
from creneau.alerts.messages import CHALLENGE_NAMES
from creneau.check.record import NotRecorded
from creneau.check.run import internal_error
from creneau.dates import long_datetime
from creneau.details import Detail, Said, render
from creneau.fetch.client import FetchError, TooSoon
from creneau.redact import public_link, redact
from creneau.results import CheckResult, SiteSession, Status
from creneau.runtime import CAPTCHA_TRIES, CaptchaOutcome, Runtime, said_by
from creneau.store import STORE_FAILURES
from creneau.web.auth import CSRF_FIELD, csrf_ok, csrf_token
from creneau.web.context import WebContext

if TYPE_CHECKING:
    from creneau.fetch.client import Session
    from creneau.fetch.politeness import HostState
    from creneau.live import RunningDaemon
    from creneau.sources import CaptchaImage, HandsCaptchaToAPerson
    from creneau.store import Store
    from creneau.targets import TargetBase

log = logging.getLogger("creneau")

HANDOFF_LIFETIME = timedelta(minutes=5)  # an image, or what became of it, waits this long
MAX_HANDOFFS = 50  # in memory at once, over every dashboard session; the oldest go first
CODE_MAX_LENGTH = 32
SLOTS_SHOWN = 5  # after a solved CAPTCHA, the check's first slots by time
# Image types passed on to the browser: raster images only (an SVG could carry script).
IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
NOT_AN_IMAGE = Detail("captcha.not_an_image")


# --- what a hand-off is at each step ------------------------------------------------------------


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
class Finished:
    """What became of a hand-off: solved (and the check made at once with the new session),
    or why there is no image or no session."""

    outcome: CaptchaOutcome
    checked: CheckResult | None = None
    check_note: Said = None  # why no check was made at once (the polite client's reason)
    gave_up: bool = False  # CAPTCHA_TRIES codes in a row were refused


@dataclass(frozen=True)
class _Accepted:
    cookies: SiteSession


Entry = Waiting | Finished
Key = tuple[str, str]  # (dashboard session, target)


@dataclass
class HandOffs:
    """The hand-offs in progress in this process, per dashboard session and target; each
    lives HANDOFF_LIFETIME from its last step."""

    now: Callable[[], datetime]
    lifetime: timedelta = HANDOFF_LIFETIME
    limit: int = MAX_HANDOFFS
    _entries: dict[Key, tuple[Entry, datetime]] = field(default_factory=dict)

    def get(self, key: Key) -> Entry | None:
        self._forget_expired()
        kept = self._entries.get(key)
        return kept[0] if kept else None

    def put(self, key: Key, entry: Entry) -> None:
        self._forget_expired()
        self._entries.pop(key, None)
        while len(self._entries) >= self.limit:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (entry, self.now() + self.lifetime)

    def drop(self, key: Key) -> None:
        self._entries.pop(key, None)

    def _forget_expired(self) -> None:
        now = self.now()
        for key in [key for key, (_, until) in self._entries.items() if until <= now]:
            del self._entries[key]


# --- the steps, against the site ----------------------------------------------------------------


def running_daemon(context: WebContext) -> RunningDaemon | None:
    """The daemon serving this dashboard (`creneau run`, same event loop): its polite
    client, and a check on demand (`creneau.live`); None under `creneau web` alone."""
    return context.live


class CaptchaDesk:
    """Runs the hand-off's steps: an image from the site, a code to the site, the session
    kept. Under `creneau web` alone it has its own polite client, seeded before each step with
    the hosts' states from the store and saving them after it, so that what the daemon
    learnt (a Retry-After, an open breaker) holds here and the other way round."""

    def __init__(self, context: WebContext) -> None:
        self.context = context
        self._runtime: Runtime | None = None
        self._serials = itertools.count(1)

    @property
    def runtime(self) -> Runtime:
        """Built again when the config changed (a target added, a channel renamed), keeping
        its client: the targets' routing follows the config in force."""
        context = self.context
        if self._runtime is None or self._runtime.config is not context.config:
            daemon = running_daemon(context)
            kept = self._runtime.client if self._runtime is not None else None
            self._runtime = Runtime(
                context.config,
                context.store,
                client=daemon.client if daemon else kept,
                db=context.db,
                now=context.now,
            )
        return self._runtime

    @property
    def own_client(self) -> bool:
        return running_daemon(self.context) is None

    async def start(self, target: TargetBase, source: HandsCaptchaToAPerson) -> Entry:
        """A new site session and its CAPTCHA image. A person's action, not a periodic check:
        it has its own interval floor, as `creneau captcha` has."""
        serial = next(self._serials)

        async def step(session: Session) -> Entry | _Accepted:
            return await _next_image(target, source, session, tries=1, serial=serial)

        entry = await self._in_site_session(target, f"{target.name}#captcha", None, step)
        assert not isinstance(entry, _Accepted)
        return entry

    async def answer(
        self, target: TargetBase, source: HandsCaptchaToAPerson, waiting: Waiting, code: str
    ) -> Entry:
        """Send the code through the image's site session: kept when the site accepts it, a
        new image when it refuses (up to CAPTCHA_TRIES images in all)."""

        async def step(session: Session) -> Entry | _Accepted:
            try:
                reading = await source.submit_captcha(target, session, waiting.challenge, code)
            except ValueError as unavailable:  # e.g. a reCAPTCHA chained after the right code
                return Finished(_no_image(unavailable))
            if reading.status is not Status.CAPTCHA:
                return _Accepted(session.kept_cookies())
            if waiting.tries >= CAPTCHA_TRIES:
                return Finished(CaptchaOutcome(solved=False), gave_up=True)
            return await _next_image(
                target, source, session, waiting.tries + 1, waiting.serial, notice="refused"
            )

        # The same hand-off, one step further: the floor was passed when it started.
        key = f"{target.name}#captcha#{waiting.serial}.{waiting.tries}"
        entry = await self._in_site_session(target, key, waiting.cookies, step)
        if isinstance(entry, _Accepted):
            return await self._keep(target, entry.cookies)
        return entry

    async def _in_site_session(
        self,
        target: TargetBase,
        key: str,
        cookies: SiteSession | None,
        step: Callable[[Session], Any],
    ) -> Entry | _Accepted:
        runtime = self.runtime
        if self.own_client:
            runtime.seed(await self.context.db(self.context.store.host_states), {})
        hosts = {target.host}
        result: Entry | _Accepted
        try:
            async with runtime.client.session(
                key,
                target.url,
                cookies,
                respect_robots=target.respect_robots,
                guard=runtime.guard(target),
            ) as session:
                try:
                    result = await step(session)
                except FetchError as failure:
                    session.verdict = session.verdict or failure.status
                    result = Finished(CaptchaOutcome(solved=False, problem=failure.detail))
                except Exception as bug:  # a source that raises must not break the page
                    log.exception("%s: the CAPTCHA hand-off failed", target.name)
                    session.verdict = session.verdict or Status.ERROR
                    result = Finished(CaptchaOutcome(solved=False, problem=internal_error(bug)))
                else:
                    solved = isinstance(result, _Accepted)
                    session.verdict = session.verdict or (Status.NONE if solved else Status.CAPTCHA)
                hosts |= {urlsplit(page.url).hostname or "" for page in session.pages}
        except FetchError as failure:  # too soon, or the host cools down: nothing was sent
            result = Finished(CaptchaOutcome(solved=False, problem=failure.detail))
        await self._remember_hosts(hosts - {""})
        return result

    async def _remember_hosts(self, hosts: set[str]) -> None:
        if not self.own_client:
            return  # the daemon's client: the daemon records its hosts with its checks
        client = self.runtime.client
        states = {host: client.host_state(host) for host in hosts}
        try:
            await self.context.db(_save_host_states, self.context.store, states, self.context.now())
        except STORE_FAILURES as failure:
            log.warning("CAPTCHA hand-off: hosts' state not saved (%s)", failure)

    async def _keep(self, target: TargetBase, cookies: SiteSession) -> Finished:
        """Save the site session for the daemon, then check once with it, as `creneau
        captcha` does. Under `creneau run` the daemon makes that check (its floor, its log,
        its outbox woken); under `creneau web` alone the daemon, wherever it runs, sends the
        alerts the check queued."""
        context = self.context
        try:
            await context.db(_save_site_session, context.store, target.name, cookies, context.now())
        except STORE_FAILURES as failure:
            problem = Detail("captcha.session_not_saved", error=str(failure))
            return Finished(CaptchaOutcome(solved=False, problem=problem))
        log.info("%s: CAPTCHA solved from the dashboard; its site session is kept", target.name)
        solved = CaptchaOutcome(solved=True)
        if daemon := running_daemon(context):
            recorded = await daemon.watch(target)  # None: too soon, or not recorded
            return Finished(solved, checked=recorded.result if recorded else None)
        try:
            recorded = await self.runtime.watch_once(target)
        except TooSoon as soon:
            return Finished(solved, check_note=soon.detail)
        except NotRecorded as failure:
            return Finished(solved, checked=failure.result)
        return Finished(solved, checked=recorded.result)


async def _next_image(
    target: TargetBase,
    source: HandsCaptchaToAPerson,
    session: Session,
    tries: int,
    serial: int,
    notice: str = "",
) -> Entry:
    try:
        challenge = await source.start_captcha(target, session)
    except ValueError as unavailable:
        return Finished(_no_image(unavailable))
    content_type = image_type(challenge.image)
    if content_type is None:
        return Finished(CaptchaOutcome(solved=False, problem=NOT_AN_IMAGE))
    return Waiting(session.kept_cookies(), challenge, content_type, tries, serial, notice)


def _no_image(unavailable: ValueError) -> CaptchaOutcome:
    """The sources raise a ValueError whose text says why and whose `challenge` names what
    the site asks for instead (as runtime.solve_captcha reads it)."""
    challenge = str(getattr(unavailable, "challenge", "") or "")
    return CaptchaOutcome(solved=False, problem=said_by(unavailable), challenge=challenge)


def image_type(data: bytes) -> str | None:
    return next((kind for magic, kind in IMAGE_SIGNATURES if data.startswith(magic)), None)


def _save_site_session(store: Store, target: str, cookies: SiteSession, at: datetime) -> None:
    with store.transaction() as tx:
        tx.save_site_session(target, cookies, at)


def _save_host_states(store: Store, states: dict[str, HostState], at: datetime) -> None:
    with store.transaction() as tx:
        for host, state in states.items():
            tx.save_host_state(host, state, at)


# --- the pages ------------------------------------------------------------------------------------


def routes(context: WebContext) -> list[BaseRoute]:
    handoffs = HandOffs(context.now)
    desk = CaptchaDesk(context)
    turns: dict[str, asyncio.Lock] = {}  # one step at a time per target

    def turn(name: str) -> asyncio.Lock:
        return turns.setdefault(name, asyncio.Lock())

    async def show(request: Request) -> Response:
        found = _target(context, request)
        if isinstance(found, Response):
            return found
        target, _source = found
        session: str | None = request.state.session
        if session is None:
            return _without_session(request, context, target)
        key = (session, target.name)
        async with turn(target.name):
            entry = handoffs.get(key)
            if entry is None:
                # A GET asks nothing of the site: any page may make the browser send one
                # (an <img>), and a site session spends the host's budget. A POST starts it.
                return _render(
                    request, context, "captcha.html", target_name=target.name, state="start"
                )
            if isinstance(entry, Finished) and not entry.outcome.solved:
                handoffs.drop(key)  # said once: coming back offers to try again
        return _page(request, context, target, entry, handoffs.lifetime)

    async def act(request: Request) -> Response:
        found = _target(context, request)
        if isinstance(found, Response):
            return found
        target, source = found
        form = await request.form()
        if not csrf_ok(request, context, form.get(CSRF_FIELD)):
            return HTMLResponse("missing or wrong CSRF token", status_code=403)
        key = (str(request.state.session), target.name)
        code = str(form.get("code", "")).strip()[:CODE_MAX_LENGTH]
        async with turn(target.name):
            current = handoffs.get(key)
            action = form.get("action")
            if action == "start" and _in_progress(current):
                entry = current  # a second tap on "show the image": one site session
            elif action in ("start", "new"):
                entry = await desk.start(target, source)
            elif isinstance(current, Finished) and current.outcome.solved:
                entry = current  # a second tap on "send": it is done already
            elif not isinstance(current, Waiting):
                entry = await desk.start(target, source)
                if isinstance(entry, Waiting):
                    entry = replace(entry, notice="expired")
            elif not code:
                entry = replace(current, notice="empty")
            else:
                entry = await desk.answer(target, source, current, code)
            handoffs.put(key, entry)
        return RedirectResponse(_page_url(request, target.name), status_code=303)

    async def image(request: Request) -> Response:
        found = _target(context, request)
        if isinstance(found, Response):
            return found
        target, _source = found
        session: str | None = request.state.session
        entry = handoffs.get((session, target.name)) if session else None
        if not isinstance(entry, Waiting):
            return Response("no CAPTCHA image waits here", 404, media_type="text/plain")
        return Response(
            entry.challenge.image,
            media_type=entry.content_type,
            headers={"cache-control": "no-store"},
        )

    return [
        Route("/captcha/{name}", show, methods=["GET"]),
        Route("/captcha/{name}", act, methods=["POST"]),
        Route("/captcha/{name}/image", image, methods=["GET"]),
    ]


def _in_progress(entry: Entry | None) -> TypeGuard[Entry]:
    """An image waits for its code, or the site accepted one: starting again would only
    spend the host's budget."""
    return isinstance(entry, Waiting) or (isinstance(entry, Finished) and entry.outcome.solved)


def _target(
    context: WebContext, request: Request
) -> tuple[TargetBase, HandsCaptchaToAPerson] | Response:
    """The target named in the path and its system's hand-off; 404 for an unknown target,
    a page saying so for a system that never asks for a CAPTCHA."""
    name = request.path_params["name"]
    target = next((t for t in context.config.targets if t.name == name), None)
    if target is None:
        return _render(request, context, "captcha.html", 404, target_name=name, state="unknown")
    source = sources.captcha_handler(target.system)
    if source is None:
        return _render(
            request,
            context,
            "captcha.html",
            target_name=name,
            state="no_captcha",
            system=target.system,
        )
    return target, source


def _without_session(request: Request, context: WebContext, target: TargetBase) -> Response:
    """The image belongs to a dashboard session (the guard gives one from the first page):
    without one, the browser keeps no cookie, and is told why the page cannot work."""
    return _render(request, context, "captcha.html", target_name=target.name, state="cookies")


def _page(
    request: Request, context: WebContext, target: TargetBase, entry: Entry, lifetime: timedelta
) -> Response:
    language, zone = context.config.creneau.language, context.config.creneau.zone
    names = CHALLENGE_NAMES[language]
    details: dict[str, Any] = {
        "target_name": target.name,
        "site": public_link(target.url),
        "state": _state(entry),
        "minutes": int(lifetime.total_seconds() // 60),
        "tries": CAPTCHA_TRIES,
    }
    if isinstance(entry, Waiting):
        image = f"{_page_url(request, target.name)}/image?v={entry.serial}.{entry.tries}"
        details.update(image_url=image, notice=entry.notice)
    else:
        outcome = entry.outcome
        details.update(
            problem=redact(render(outcome.problem, language, zone)),
            challenge_name=names.get(outcome.challenge, names[""]),
            check_note=redact(render(entry.check_note, language, zone)),
            checked=_checked(entry.checked, context, language),
        )
    return _render(request, context, "captcha.html", **details)


def _state(entry: Entry) -> str:
    if isinstance(entry, Waiting):
        return "image"
    if entry.outcome.solved:
        return "solved"
    if entry.outcome.browser_only:
        return "browser_only"
    return "problem" if entry.outcome.problem and not entry.gave_up else "gave_up"


def _checked(
    result: CheckResult | None, context: WebContext, language: str
) -> dict[str, Any] | None:
    """The check made with the new session, as the page shows it."""
    if result is None:
        return None
    zone = context.config.creneau.zone
    slots = [slot for slot in result.slots if slot.time_known][:SLOTS_SHOWN]
    return {
        "status": result.status.value,
        "count": len(result.slots),
        "slots": [(long_datetime(s.start, zone, language), s.guichet) for s in slots],
        "detail": redact(render(result.detail, language, zone)),
    }


def _page_url(request: Request, name: str) -> str:
    return f"{request.scope.get('root_path', '')}/captcha/{quote(name, safe='')}"


def _render(
    request: Request, context: WebContext, template: str, status: int = 200, **details: Any
) -> HTMLResponse:
    language = context.config.creneau.language
    page = context.render(
        template,
        language=language,
        root=request.scope.get("root_path", ""),
        logged_in=context.login_required and request.state.session is not None,
        csrf=csrf_token(request, context),
        page_url=_page_url(request, str(details["target_name"])),
        t=TEXT[language],
        words=STATUS_WORDS[language],
        **details,
    )
    return HTMLResponse(page, status_code=status)


# --- the page's words -----------------------------------------------------------------------------

TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "heading": "CAPTCHA",
        "lead": (
            "Le site demande de recopier le code de cette image. creneau vous la transmet "
            "telle que le site l'a envoyée : il ne résout jamais de CAPTCHA. Une fois le code "
            "accepté, creneau reprend la surveillance avec cette session."
        ),
        "start": (
            "Le site demande de recopier le code d'une image. Demandez-la : creneau ouvre "
            "alors une session sur le site et vous montre l'image telle que le site l'a "
            "envoyée ; il ne résout jamais de CAPTCHA."
        ),
        "start_button": "Afficher l'image du site",
        "image_alt": "Image du CAPTCHA envoyée par le site (les caractères à recopier)",
        "code_label": "Code de l'image",
        "send": "Envoyer le code",
        "new_image": "Une autre image",
        "valid_for": "Cette image reste disponible ici {minutes} minutes.",
        "refused": "Le site n'a pas accepté ce code : voici une nouvelle image.",
        "expired": "L'image précédente a expiré : voici une nouvelle image.",
        "empty": "Tapez le code de l'image avant d'envoyer.",
        "terminal": "Depuis un terminal, la même chose :",
        "solved": (
            "C'est fait : le site a accepté le code. creneau continue la surveillance avec "
            "cette session jusqu'à ce que le site y mette fin ; vous serez prévenu alors."
        ),
        "checked": "Vérifié à l'instant avec cette session :",
        "slots_one": "1 créneau disponible",
        "slots_many": "{count} créneaux disponibles",
        "check_later": "La prochaine vérification utilisera cette session.",
        "book": (
            "Pour réserver, ouvrez le site dans votre navigateur : il vous demandera aussi "
            "un code, c'est vous qui réservez."
        ),
        "browser_only": (
            "Le site demande {challenge} : creneau ne peut pas vous le transmettre, seul un "
            "navigateur sur le site peut le passer. Ouvrez le site dans votre navigateur si "
            "vous voulez réserver. creneau ne le passe jamais et regarde de nouveau à chaque "
            "vérification."
        ),
        "problem": "creneau n'a pas d'image du site à vous montrer pour le moment.",
        "retry": "Réessayer",
        "gave_up": (
            "Le site a refusé {tries} codes de suite. Demandez une nouvelle image quand vous "
            "voulez."
        ),
        "open_site": "Ouvrir le site",
        "no_captcha": (
            "Le système {system} ne demande jamais de CAPTCHA : rien à recopier pour cette cible."
        ),
        "unknown": "Aucune cible de ce nom.",
        "cookies": (
            "Cette page a besoin d'un cookie de session pour relier l'image au code que vous "
            "tapez. Autorisez les cookies pour ce site, puis rouvrez la page."
        ),
        "target_page": "Page de la cible",
        "overview": "Vue d'ensemble",
    },
    "en": {
        "heading": "CAPTCHA",
        "lead": (
            "The site asks for the code in this image. creneau shows it to you as the site "
            "sent it: it never solves a CAPTCHA. Once the code is accepted, creneau goes on "
            "watching with this session."
        ),
        "start": (
            "The site asks for the code in an image. Ask for it: creneau then opens a session "
            "on the site and shows you the image as the site sent it; it never solves a "
            "CAPTCHA."
        ),
        "start_button": "Show the site's image",
        "image_alt": "The CAPTCHA image the site sent (the characters to type)",
        "code_label": "Code in the image",
        "send": "Send the code",
        "new_image": "Another image",
        "valid_for": "This image stays available here for {minutes} minutes.",
        "refused": "The site did not accept that code: here is a new image.",
        "expired": "The previous image expired: here is a new one.",
        "empty": "Type the code from the image before sending.",
        "terminal": "From a terminal, the same:",
        "solved": (
            "Done: the site accepted the code. creneau goes on watching with this session "
            "until the site ends it; you will be told then."
        ),
        "checked": "Checked just now with this session:",
        "slots_one": "1 slot available",
        "slots_many": "{count} slots available",
        "check_later": "The next check will use this session.",
        "book": (
            "To book, open the site in your browser: it will ask you for a code too; you "
            "book, creneau never does."
        ),
        "browser_only": (
            "The site asks for {challenge}: creneau cannot hand it to you, only a browser on "
            "the site can pass it. Open the site in your browser if you want to book. creneau "
            "never passes it and looks again at each check."
        ),
        "problem": "creneau has no image from the site to show you right now.",
        "retry": "Try again",
        "gave_up": "The site refused {tries} codes in a row. Ask for a new image when you like.",
        "open_site": "Open the site",
        "no_captcha": (
            "The {system} system never asks for a CAPTCHA: nothing to type for this target."
        ),
        "unknown": "No target by that name.",
        "cookies": (
            "This page needs a session cookie to tie the image to the code you type. Allow "
            "cookies for this site, then open the page again."
        ),
        "target_page": "Target page",
        "overview": "Overview",
    },
}
STATUS_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "available": "créneaux disponibles",
        "none": "aucun créneau pour le moment",
        "blocked": "le site refuse nos requêtes",
        "overloaded": "le site est surchargé",
        "closed": "réservation fermée",
        "captcha": "le site demande encore un CAPTCHA",
        "error": "erreur",
        "unknown": "page non reconnue",
    },
    "en": {
        "available": "slots available",
        "none": "no slot for now",
        "blocked": "the site refuses our requests",
        "overloaded": "the site is overloaded",
        "closed": "booking closed",
        "captcha": "the site still asks for a CAPTCHA",
        "error": "error",
        "unknown": "page not recognised",
    },
}
