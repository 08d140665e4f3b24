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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeGuard
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from creneau import sources
from creneau.alerts.messages import CHALLENGE_NAMES
from creneau.dates import long_datetime
from creneau.details import render
from creneau.redact import public_link, redact
from creneau.results import CheckResult
from creneau.runtime import Runtime
from creneau.usecases.captcha import (
    CAPTCHA_TRIES,
    Accepted,
    CaptchaSteps,
    Finished,
    Waiting,
    keep_and_check,
)
from creneau.web.auth import csrf_token
from creneau.web.context import WebContext

if TYPE_CHECKING:
    from creneau.live import RunningDaemon
    from creneau.sources import HandsCaptchaToAPerson
    from creneau.targets import TargetBase


HANDOFF_LIFETIME = timedelta(minutes=5)  # an image, or what became of it, waits this long
MAX_HANDOFFS = 50  # in memory at once, over every dashboard session; the oldest go first
CODE_MAX_LENGTH = 32
SLOTS_SHOWN = 5  # after a solved CAPTCHA, the check's first slots by time


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


# --- the daemon, when `creneau run` serves this dashboard ---------------------------------------


def running_daemon(context: WebContext) -> RunningDaemon | None:
    """The daemon serving this dashboard (`creneau run`, same event loop): its polite
    client, and a check on demand (`creneau.live`); None under `creneau web` alone."""
    return context.live


class CaptchaDesk:
    """The hand-offs in memory, and the use case's steps with the dashboard's runtime: under
    `creneau run`, the daemon's polite client (its budgets, Retry-After deadlines and
    breakers hold for both) and its check; under `creneau web` alone, a client of its own,
    its hosts' states shared with the daemon through the store."""

    def __init__(self, context: WebContext) -> None:
        self.context = context
        self.steps = CaptchaSteps()
        self.handoffs = HandOffs(context.now)
        self._turns: dict[str, asyncio.Lock] = {}  # one step at a time per target
        self._runtime: Runtime | None = None

    def turn(self, name: str) -> asyncio.Lock:
        return self._turns.setdefault(name, asyncio.Lock())

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

    async def start(self, target: TargetBase, source: HandsCaptchaToAPerson) -> Entry:
        own_client = running_daemon(self.context) is None
        return await self.steps.start(self.runtime, target, source, own_client)

    async def answer(
        self, target: TargetBase, source: HandsCaptchaToAPerson, waiting: Waiting, code: str
    ) -> Entry:
        """The code sent; on success, the session kept and the target checked once with it:
        by the daemon under `creneau run` (its outbox woken), else here (the daemon, wherever
        it runs, sends the alerts the check queued)."""
        daemon = running_daemon(self.context)
        step = await self.steps.answer(
            self.runtime, target, source, waiting, code, own_client=daemon is None
        )
        if not isinstance(step, Accepted):
            return step
        daemon_check = daemon.watch if daemon else None
        return await keep_and_check(
            self.runtime, target, step.cookies, daemon_check, solved_from="the dashboard"
        )


# --- the pages ------------------------------------------------------------------------------------


def routes(context: WebContext) -> list[BaseRoute]:
    desk = CaptchaDesk(context)
    return [
        Route("/captcha/{name}", partial(show, context, desk), methods=["GET"]),
        Route("/captcha/{name}", partial(act, context, desk), methods=["POST"]),
        Route("/captcha/{name}/image", partial(image, context, desk), methods=["GET"]),
    ]


async def show(context: WebContext, desk: CaptchaDesk, request: Request) -> Response:
    """GET /captcha/<name>: what waits in memory, or a button to start. A GET asks nothing
    of the site: any page may make the browser send one (an <img>), and a site session spends
    the host's budget. A POST starts it."""
    found = _target(context, request)
    if isinstance(found, Response):
        return found
    target, _source = found
    session: str | None = request.state.session
    if session is None:
        return _without_session(request, context, target)
    key = (session, target.name)
    async with desk.turn(target.name):
        entry = desk.handoffs.get(key)
        if entry is None:
            return _render(request, context, "captcha.html", target_name=target.name, state="start")
        if isinstance(entry, Finished) and not entry.outcome.solved:
            desk.handoffs.drop(key)  # said once: coming back offers to try again
    return _page(request, context, target, entry, desk.handoffs.lifetime)


async def act(context: WebContext, desk: CaptchaDesk, request: Request) -> Response:
    """POST /captcha/<name>: a button — show an image (start, or another one), or send the
    code — then back to the page."""
    found = _target(context, request)
    if isinstance(found, Response):
        return found
    target, source = found
    form = await request.form()
    key = (str(request.state.session), target.name)
    code = str(form.get("code", "")).strip()[:CODE_MAX_LENGTH]
    async with desk.turn(target.name):
        current = desk.handoffs.get(key)
        entry = await _next(desk, target, source, current, form.get("action"), code)
        desk.handoffs.put(key, entry)
    return RedirectResponse(_page_url(request, target.name), status_code=303)


async def _next(
    desk: CaptchaDesk,
    target: TargetBase,
    source: HandsCaptchaToAPerson,
    current: Entry | None,
    action: object,
    code: str,
) -> Entry:
    if action == "start" and _in_progress(current):
        return current  # a second tap on "show the image": one site session
    if action in ("start", "new"):
        return await desk.start(target, source)
    if isinstance(current, Finished) and current.outcome.solved:
        return current  # a second tap on "send": it is done already
    if not isinstance(current, Waiting):
        entry = await desk.start(target, source)
        return replace(entry, notice="expired") if isinstance(entry, Waiting) else entry
    if not code:
        return replace(current, notice="empty")
    return await desk.answer(target, source, current, code)


async def image(context: WebContext, desk: CaptchaDesk, request: Request) -> Response:
    """GET /captcha/<name>/image: the image waiting for this dashboard session's code, from
    memory, never from the site."""
    found = _target(context, request)
    if isinstance(found, Response):
        return found
    target, _source = found
    session: str | None = request.state.session
    entry = desk.handoffs.get((session, target.name)) if session else None
    if not isinstance(entry, Waiting):
        return Response("no CAPTCHA image waits here", 404, media_type="text/plain")
    return Response(
        entry.challenge.image,
        media_type=entry.content_type,
        headers={"cache-control": "no-store"},
    )


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
