"""Adding a target by the link a person books with, and pausing, resuming and removing one,
from the dashboard: the steps of `creneau add URL` and `creneau pause/resume/remove`
(usecases/targets.py), behind the login and the CSRF token (checked for every POST by
web/app.py).

GET /add is the form; POST /add/preview recognises the link, passes the SSRF guard (a visitor
of the dashboard may not make creneau fetch this machine or its network; `[web]
allow_private_targets` lifts it), checks the page once through the dashboard's own guarded
polite client, and shows what it sees and what creneau proposes (kept in memory for this
session a while); POST /add/save writes the `[[target]]` into the config file, validated
exactly as at start (a mistake is one line on the page, nothing written), and goes to the
target's page; POST /targets/<name>/pause|resume|remove edit its table. The daemon watching
the file takes each change without a restart; this dashboard takes the config it validated."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from creneau import sources
from creneau.config import ConfigError
from creneau.dates import compact_duration
from creneau.details import Detail, render
from creneau.fetch.client import PoliteClient, TooSoon
from creneau.fetch.guard import Guard
from creneau.redact import public_link, redact
from creneau.runtime import Runtime
from creneau.targets import INTERVAL_FLOOR, LONGEST_DURATION, NAME_MAX_LENGTH, DurationTooLong
from creneau.terminal import clean
from creneau.web.context import WebContext
from creneau.web.pages.common import configured_target, page, problem, root_of, shown, target_path
from creneau.web.pages.texts import (
    OFFERED_WORDS,
    STATUS_WORDS,
    WORDS,
    problem_line,
    short_moment,
    slots_count,
)

if TYPE_CHECKING:
    from pathlib import Path

    from creneau.adding import links
    from creneau.adding.config_file import Edited
    from creneau.config import Config
    from creneau.results import CheckResult, Slot
    from creneau.sources.reading import Reading
    from creneau.usecases.targets import Draft

# `usecases.targets` (the link readers and the config editor, tomlkit: ~1.5 MB) is imported
# by the steps that use it: a daemon whose dashboard never adds a target never loads it.
PREVIEW_LIFETIME = timedelta(minutes=30)  # a person reading the preview on a phone
MAX_PREVIEWS = 20  # kept at once, over every session; the oldest go first
SLOTS_SHOWN = 4  # per desk or reading, the first by time
LINK_MAX_LENGTH = 2000
EVERY_MAX_LENGTH = 20
T = TypeVar("T")

# The guard's refusals during this request's check (the check turns them into a result).
_refusals: ContextVar[list[Detail] | None] = ContextVar("creneau_web_refusals", default=None)


class Refused(Exception):
    """What stops a step, as one line for the page."""

    def __init__(self, line: str, status: int = 400) -> None:
        super().__init__(line)
        self.line = line
        self.status = status

    @classmethod
    def saying(cls, code: str, language: str, **values: str) -> Refused:
        """The line of a code of the dashboard's words (texts.PROBLEMS)."""
        return cls(redact(clean(problem_line(code, values, language))))


@dataclass(frozen=True)
class WatchfulGuard(Guard):
    """The SSRF guard, its refusals also told to the request that made the check: a page
    that redirects to a private address is refused, not saved."""

    async def check(self, url: str) -> Detail | None:
        why = await super().check(url)
        told = _refusals.get()
        if why is not None and told is not None:
            told.append(why)
        return why


# --- previews kept between the two steps ----------------------------------------------------


@dataclass(frozen=True)
class Previewed:
    """One preview: what the check showed and proposes, and the interval and the alert
    channels the person asked for."""

    found: links.Preview
    every: str
    notify: tuple[str, ...] = ()


@dataclass
class Previews:
    """The previews of this process, per dashboard session and id; each lives
    PREVIEW_LIFETIME."""

    now: Callable[[], datetime]
    lifetime: timedelta = PREVIEW_LIFETIME
    limit: int = MAX_PREVIEWS
    _kept: dict[tuple[str, str], tuple[Previewed, datetime]] = field(default_factory=dict)

    def put(self, session: str, previewed: Previewed) -> str:
        self._forget_expired()
        while len(self._kept) >= self.limit:
            del self._kept[next(iter(self._kept))]
        key = secrets.token_urlsafe(12)
        self._kept[(session, key)] = (previewed, self.now() + self.lifetime)
        return key

    def get(self, session: str, key: str) -> Previewed | None:
        self._forget_expired()
        kept = self._kept.get((session, key))
        return kept[0] if kept else None

    def drop(self, session: str, key: str) -> None:
        self._kept.pop((session, key), None)

    def _forget_expired(self) -> None:
        now = self.now()
        for key in [key for key, (_, until) in self._kept.items() if until <= now]:
            del self._kept[key]


# --- what the preview page shows --------------------------------------------------------------


@dataclass(frozen=True)
class DeskLine:
    id: str
    label: str
    status: str
    status_word: str
    slots: str


@dataclass(frozen=True)
class ChoiceLine:
    id: str
    label: str
    checked: bool
    desk: DeskLine | None  # what the check saw of it, when it read it


@dataclass(frozen=True)
class OptionLine:
    number: int
    settings: tuple[str, ...]  # 'slot_selector = "li.plage"', one per setting
    status: str
    status_word: str
    slots: str  # '3 créneaux : lun. 4 mars 09:20, …'
    checked: bool


@dataclass(frozen=True)
class ChannelChoice:
    """A configured alert channel, ticked or not, in the forms."""

    name: str
    checked: bool


@dataclass(frozen=True)
class PhraseLine:
    phrase: str
    context: str


@dataclass(frozen=True)
class PreviewPage:
    key: str
    system: str
    url: str
    status: str
    status_word: str
    detail: str
    read: str  # html: "HTTP 200, 1234 bytes"
    desks: tuple[DeskLine, ...]
    offered_title: str
    choices: tuple[ChoiceLine, ...]
    phrases: tuple[PhraseLine, ...]
    options: tuple[OptionLine, ...]
    name: str
    every: str
    channels: tuple[ChannelChoice, ...]  # the config's alert channels (none ticked: all)
    table: str  # the [[target]] as it would be written ("" for html: it depends on the choice)
    notes: tuple[str, ...]
    cannot_save: str  # why there is nothing to save ("" when there is)


def preview_page(
    key: str,
    previewed: Previewed,
    context: WebContext,
    *,
    name: str | None = None,
    every: str | None = None,
    notify: Sequence[str] | None = None,
    option: int = 1,
    chosen: Sequence[str] = (),
) -> PreviewPage:
    found = previewed.found
    result = found.result
    language, zone = context.config.creneau.language, context.config.creneau.zone
    words = STATUS_WORDS[language]
    html = sources.get(found.link.system).asks_for_selectors
    offered = found.offered
    every = previewed.every if every is None else every
    notify = previewed.notify if notify is None else notify
    desks = () if html else _desk_lines(result, context)
    choices = _choice_lines(found, desks, chosen)
    offered_ids = {choice.id for choice in choices}
    return PreviewPage(
        key=key,
        system=found.link.system,
        url=public_link(found.link.url),
        status=result.status.value,
        status_word=words.get(result.status.value, result.status.value),
        detail=shown(render(result.detail, language, zone), 400),
        read=_read_line(result) if html else "",
        desks=tuple(desk for desk in desks if desk.id not in offered_ids),
        offered_title=OFFERED_WORDS[language].get(offered.key, offered.key) if offered else "",
        choices=choices,
        phrases=tuple(PhraseLine(p.phrase, shown(p.context, 200)) for p in found.phrases),
        options=tuple(
            _option_line(number, each.settings, each.reading, number == option, context)
            for number, each in enumerate(found.options, 1)
        ),
        name=found.name if name is None else name,
        every=every,
        channels=channel_choices(context, notify),
        table="" if html else _table(found, every or None, notify),
        notes=tuple(_already_watched(found, context)),
        cannot_save=_cannot_save(found, language),
    )


def _desk_lines(result: CheckResult, context: WebContext) -> tuple[DeskLine, ...]:
    """Each desk the check read, its status and its first slots."""
    language, zone = context.config.creneau.language, context.config.creneau.zone
    words, now = STATUS_WORDS[language], context.now()
    return tuple(
        DeskLine(
            shown(guichet.id, 100),
            shown(guichet.label, 200),
            guichet.status.value,
            words.get(guichet.status.value, guichet.status.value),
            _slots_text(guichet.slots, now, zone, language),
        )
        for guichet in result.guichets
    )


def _choice_lines(
    found: links.Preview, desks: Sequence[DeskLine], chosen: Sequence[str]
) -> tuple[ChoiceLine, ...]:
    """What the page offers to choose from, ticked as chosen, each with its desk's line."""
    by_id = {desk.id: desk for desk in desks}
    offered = found.offered
    return tuple(
        ChoiceLine(
            shown(choice.id, 100),
            shown(choice.label, 200),
            choice.id in chosen,
            by_id.get(shown(choice.id, 100)),
        )
        for choice in (offered.choices if offered else ())
    )


def _read_line(result: CheckResult) -> str:
    page = result.page
    return f"HTTP {page.status}, {len(page.body)} bytes" if page else "—"


def _slots_text(slots: Sequence[Slot], now: datetime, zone: Any, language: str) -> str:
    """'3 créneaux : lun. 4 mars 09:20, mar. 5 mars 10:00, …'."""
    count = slots_count(len(slots), language)
    times = [short_moment(s.start, now, zone, language) for s in sorted(slots) if s.time_known]
    if not times:
        return count
    more = ", …" if len(times) > SLOTS_SHOWN else ""
    return f"{count}{WORDS[language]['colon']}{', '.join(times[:SLOTS_SHOWN])}{more}"


def _option_line(
    number: int, settings: dict[str, Any], reading: Reading, checked: bool, context: WebContext
) -> OptionLine:
    import tomlkit

    language, zone = context.config.creneau.language, context.config.creneau.zone
    state = reading.status.value if reading.status else reading.kind
    return OptionLine(
        number=number,
        settings=tuple(
            f"{key} = {tomlkit.item(value).as_string()}" for key, value in settings.items()
        ),
        status=state,
        status_word=STATUS_WORDS[language].get(state, state),
        slots=_slots_text(reading.slots, context.now(), zone, language),
        checked=checked,
    )


def channel_choices(context: WebContext, ticked: Sequence[str]) -> tuple[ChannelChoice, ...]:
    return tuple(
        ChannelChoice(channel.name, channel.name in ticked) for channel in context.config.notify
    )


def _table(found: links.Preview, every: str | None, notify: Sequence[str]) -> str:
    """The `[[target]]` as it would be written from here (checked through the SSRF guard)."""
    from creneau.usecases import targets

    try:
        return targets.table(found, every=every, notify=notify, guarded=True).text
    except ValueError:
        return ""


def _already_watched(found: links.Preview, context: WebContext) -> list[str]:
    from creneau.usecases import targets

    said = WORDS[context.config.creneau.language]["already_watched"]
    return [f"{said} {name}" for name in targets.already_watching(context.config, found.link.url)]


def _cannot_save(found: links.Preview, language: str) -> str:
    if not sources.get(found.link.system).asks_for_selectors or found.options:
        return ""
    page = found.result.page
    words = WORDS[language]
    return words["page_unread"] if page is None or page.status >= 400 else words["nothing_to_read"]


# --- the steps --------------------------------------------------------------------------------


@dataclass
class AddDesk:
    """Runs the steps of adding a target for the dashboard: its own polite client, behind
    the SSRF guard (the daemon's is not guarded: its links come from the machine's owner),
    seeded before each check with the hosts' states from the store, so that a breaker open
    or a Retry-After the daemon learnt holds here too."""

    context: WebContext
    previews: Previews
    _client: PoliteClient | None = None

    @property
    def guard(self) -> WatchfulGuard:
        return WatchfulGuard(allow_private=self.context.config.web.allow_private_targets)

    @property
    def client(self) -> PoliteClient:
        if self._client is None:
            context = self.context
            self._client = PoliteClient(
                context.config.creneau.contact,
                lambda host: self.context.config.budget_for(host),
                now=context.now,
            )
        self._client.guard = self.guard  # as the config says now
        return self._client

    def config_path(self) -> Path:
        path = self.context.config_path
        if path is None:
            raise Refused(WORDS[self.language]["edit_unavailable"], 409)
        return path

    @property
    def language(self) -> str:
        return self.context.config.creneau.language

    async def preview(
        self, url: str, name: str, every: str, notify: Sequence[str] = ()
    ) -> Previewed:
        """Recognise the link, pass the guard, check it once; raises Refused (one line)."""
        from creneau.usecases import targets

        path = self.config_path()
        language = self.language
        link, interval = _read_link(url, every, language)
        try:
            targets.require_settings(link, {})
        except targets.SettingsMissing as missing:
            raise Refused.saying(missing.problem.code, language, **missing.problem.values) from None
        await self.pass_guard(link.url)
        draft = await asyncio.to_thread(_draft, path, link, name or None, interval, language)
        found = await self.check(draft, link, name or None)
        return Previewed(found, every, tuple(notify))

    async def check(self, draft: Draft, link: links.Link, name: str | None) -> links.Preview:
        """The draft checked once through the dashboard's guarded client; raises Refused."""
        from creneau.usecases import targets

        context = self.context
        runtime = Runtime(
            draft.config_to_check_in,
            context.store,
            client=self.client,
            db=context.db,
            now=context.now,
        )
        runtime.seed(await context.db(context.store.host_states), {})
        told: list[Detail] = []
        listening = _refusals.set(told)
        try:
            found = await targets.preview(runtime, draft, link, name=name)
        except TooSoon:
            floor, link_shown = compact_duration(INTERVAL_FLOOR), public_link(link.url)
            raise Refused.saying(
                "checked_just_now", self.language, link=link_shown, floor=floor
            ) from None
        finally:
            _refusals.reset(listening)
        if told:
            raise Refused.saying("not_fetched", self.language, reason=self.said(told[0]))
        return found

    async def pass_guard(self, url: str) -> None:
        try:
            refusal = await self.guard.check(url)
        except OSError as failure:
            link, reason = public_link(url), str(failure)
            raise Refused.saying("host_unknown", self.language, link=link, reason=reason) from None
        if refusal is not None:
            raise Refused.saying("not_fetched", self.language, reason=self.said(refusal))

    def said(self, detail: Detail) -> str:
        return render(detail, self.language, self.context.config.creneau.zone)

    async def save(
        self,
        previewed: Previewed,
        name: str,
        every: str,
        notify: Sequence[str],
        option: int,
        chosen: Sequence[str],
    ) -> Config:
        """Write the target as previewed, with the person's name, interval, alert channels
        and choices; raises Refused (one line), the file untouched."""
        from creneau.usecases import targets

        path = self.config_path()
        found = previewed.found
        interval = _every(every, self.language)
        if why := _cannot_save(found, self.language):
            raise Refused(why)
        try:
            settings = targets.chosen_settings(found, option, chosen)
        except targets.OptionUnknown:
            raise Refused(WORDS[self.language]["choose_option"]) from None
        await self.pass_guard(found.link.url)
        named = replace(found, name=name or found.name)
        table = targets.table(named, every=interval, notify=notify, settings=settings, guarded=True)
        return await self.config_step(partial(targets.add, path, table))

    async def edit(self, edit: Callable[[Path, str], Edited], name: str) -> Config:
        """`edit` (one of usecases.targets': pause, resume, remove) made on target `name`,
        validated as at start; raises Refused, the file untouched."""
        path = self.config_path()
        edited = await self.config_step(partial(edit, path, name))
        return edited.config

    async def config_step(self, step: Callable[[], T]) -> T:
        """A step on the config file, off the event loop; what it refuses, one line."""

        def run() -> T:
            try:
                return step()
            except ConfigError as failure:
                raise Refused(_one_line(failure, self.language)) from None

        return await asyncio.to_thread(run)


def _read_link(url: str, every: str, language: str) -> tuple[links.Link, str | None]:
    """The link recognised and the interval read; raises Refused."""
    from creneau.adding import links
    from creneau.usecases import targets

    if not url.strip():
        raise Refused.saying("link_needed", language)
    if len(url) > LINK_MAX_LENGTH:
        raise Refused.saying("link_too_long", language, limit=str(LINK_MAX_LENGTH))
    text = every.strip() or None
    try:
        return targets.read_link(url, text), text
    except links.LinkProblem as problem_found:
        raise Refused.saying(problem_found.code, language, **problem_found.values) from None
    except ValueError as wrong:
        raise _every_refused(wrong, text, language) from None


def _every(every: str, language: str) -> str | None:
    from creneau.adding import links

    text = every.strip() or None
    try:
        links.durations(text)
    except ValueError as wrong:
        raise _every_refused(wrong, text, language) from None
    return text


def _every_refused(wrong: ValueError, text: str | None, language: str) -> Refused:
    if isinstance(wrong, DurationTooLong):
        longest = compact_duration(LONGEST_DURATION)
        return Refused.saying("every_too_long", language, longest=longest)
    given = clean(text or "")[:EVERY_MAX_LENGTH]
    return Refused.saying("every_not_a_duration", language, given=given)


def _draft(
    path: Path, link: links.Link, name: str | None, every: str | None, language: str
) -> Draft:
    """The target as it is checked (validated as at start, nothing written): it reads the
    file, off the event loop. Raises Refused."""
    from creneau.usecases import targets

    try:
        return targets.draft(path, link, name, every=every)
    except ConfigError as failure:
        raise Refused(_one_line(failure, language)) from None


def _channels(names: Sequence[str], context: WebContext) -> tuple[str, ...]:
    """The alert channels ticked, each one of the config's (none: all of them)."""
    known = [channel.name for channel in context.config.notify]
    for name in names:
        if name not in known:
            language, listed = context.config.creneau.language, ", ".join(known)
            raise Refused.saying(
                "unknown_channel", language, channel=shown(name, 100), known=listed
            )
    return tuple(name for name in known if name in names)


def _one_line(failure: ConfigError, language: str) -> str:
    """What the config editor refused, in the dashboard's words; the mistakes `load_config`
    found, as it words them: one line each (most often one)."""
    from creneau.adding.config_file import EditRefused

    if isinstance(failure, EditRefused):
        return Refused.saying(failure.code, language, **failure.values).line
    lines = [redact(clean(line)) for line in failure.lines]
    return "\n".join(lines) or Refused.saying("config_not_valid", language).line


# --- the routes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetControls:
    """What the target page's buttons need: whether it is paused, whether the file can be
    edited from here."""

    paused: bool
    editable: bool


def routes(context: WebContext) -> list[BaseRoute]:
    desk = AddDesk(context, Previews(context.now))
    context.templates.globals["target_controls"] = partial(target_controls, context)
    return [
        Route("/add", partial(add_form, desk), methods=["GET"]),
        Route("/add/preview", partial(add_preview, desk), methods=["POST"]),
        Route("/add/save", partial(add_save, desk), methods=["POST"]),
        Route("/targets/{name}/pause", partial(pause_target, desk), methods=["POST"]),
        Route("/targets/{name}/resume", partial(resume_target, desk), methods=["POST"]),
        Route("/targets/{name}/remove", partial(remove_target, desk), methods=["POST"]),
    ]


def target_controls(context: WebContext, name: str) -> TargetControls:
    target = configured_target(context, name)
    paused = bool(target is not None and target.paused)
    return TargetControls(paused, context.config_path is not None)


async def add_form(desk: AddDesk, request: Request) -> Response:
    """GET /add: the form."""
    return _form_page(request, desk.context)


async def add_preview(desk: AddDesk, request: Request) -> Response:
    """POST /add/preview: the link checked once, and what creneau proposes from it."""
    context = desk.context
    form = await request.form()
    url, name, every = (_text(form.get(key)) for key in ("url", "name", "every"))
    ticked = [_text(each) for each in form.getlist("notify")]
    try:
        _check_lengths(name, every, desk.language)
        notify = _channels(ticked, context)
        previewed = await desk.preview(url, name, every, notify)
    except Refused as refused:
        values = {"url": url, "name": name, "every": every}
        return _form_page(request, context, refused.line, refused.status, ticked, **values)
    key = desk.previews.put(_session(request), previewed)
    shown_page = preview_page(key, previewed, context)
    return page(request, context, "add_preview.html", preview=shown_page, problem="")


async def add_save(desk: AddDesk, request: Request) -> Response:
    """POST /add/save: the target previewed written, then its page."""
    context = desk.context
    form = await request.form()
    key = _text(form.get("preview"))
    previewed = desk.previews.get(_session(request), key)
    if previewed is None:
        return _form_page(request, context, WORDS[desk.language]["expired"], 400)
    name, every = _text(form.get("name")), _text(form.get("every"))
    ticked = [_text(each) for each in form.getlist("notify")]
    chosen = [_text(each) for each in form.getlist("choice")]
    option = _number(form.get("option"))
    try:
        _check_lengths(name, every, desk.language)
        notify = _channels(ticked, context)
        config = await desk.save(previewed, name, every, notify, option, chosen)
    except Refused as refused:
        shown_page = preview_page(
            key, previewed, context, name=name, every=every, notify=ticked, option=option,
            chosen=chosen,
        )  # fmt: skip
        return page(
            request,
            context,
            "add_preview.html",
            status=refused.status,
            preview=shown_page,
            problem=refused.line,
        )
    desk.previews.drop(_session(request), key)
    context.config = config
    saved = name or previewed.found.name
    return RedirectResponse(f"{root_of(request)}{target_path(saved)}", status_code=303)


async def pause_target(desk: AddDesk, request: Request) -> Response:
    """POST /targets/<name>/pause: paused = true, then its page."""
    from creneau.usecases.targets import pause

    return await _edit_target(desk, request, pause)


async def resume_target(desk: AddDesk, request: Request) -> Response:
    """POST /targets/<name>/resume: its paused = true removed, then its page."""
    from creneau.usecases.targets import resume

    return await _edit_target(desk, request, resume)


async def remove_target(desk: AddDesk, request: Request) -> Response:
    """POST /targets/<name>/remove: its table removed, then the overview."""
    from creneau.usecases.targets import remove

    return await _edit_target(desk, request, remove, to_overview=True)


async def _edit_target(
    desk: AddDesk,
    request: Request,
    edit: Callable[[Path, str], Edited],
    *,
    to_overview: bool = False,
) -> Response:
    context = desk.context
    name = request.path_params["name"]
    if configured_target(context, name) is None:
        return problem(request, context, 404, _no_target(name, desk.language))
    try:
        context.config = await desk.edit(edit, name)
    except Refused as refused:
        return problem(request, context, refused.status, refused.line)
    where = "/" if to_overview else target_path(name)
    return RedirectResponse(f"{root_of(request)}{where}", status_code=303)


def _check_lengths(name: str, every: str, language: str) -> None:
    if len(name) > NAME_MAX_LENGTH or len(every) > EVERY_MAX_LENGTH:
        raise Refused(WORDS[language]["too_long"])


def _form_page(
    request: Request,
    context: WebContext,
    line: str = "",
    status: int = 200,
    notify: Sequence[str] = (),
    **values: str,
) -> Response:
    return page(
        request,
        context,
        "add.html",
        status=status,
        problem=line,
        editable=context.config_path is not None,
        values={"url": "", "name": "", "every": "", **values},
        channels=channel_choices(context, notify),
    )


def _no_target(name: str, language: str) -> str:
    name = shown(name, 100)
    return f"Aucune cible nommée {name}." if language == "fr" else f"No target named {name}."


def _session(request: Request) -> str:
    session: str | None = getattr(request.state, "session", None)
    return session or ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> int:
    text = _text(value)
    return int(text) if text.isdigit() and len(text) < 4 else 0
