"""Adding a target by the link a person books with, and pausing, resuming and removing one,
from the dashboard: the steps of `creneau add URL` and `creneau pause/resume/remove`
(links.py, adding/config_file.py), behind the login and the CSRF token.

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
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from creneau.config import ConfigError
from creneau.dates import compact_duration
from creneau.details import Detail, render
from creneau.fetch.client import PoliteClient, TooSoon
from creneau.fetch.guard import Guard
from creneau.redact import public_link, redact
from creneau.runtime import Runtime
from creneau.targets import INTERVAL_FLOOR, LONGEST_DURATION, NAME_MAX_LENGTH, DurationTooLong
from creneau.terminal import clean
from creneau.web.auth import CSRF_FIELD, csrf_ok
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

    from creneau import links
    from creneau.config import Config
    from creneau.results import CheckResult, Slot
    from creneau.sources import Reading

# `links` and `config_file` (the link readers, tomlkit: ~1.5 MB) are imported by the steps that
# use them: a daemon whose dashboard never adds a target never loads them.
PREVIEW_LIFETIME = timedelta(minutes=30)  # a person reading the preview on a phone
MAX_PREVIEWS = 20  # kept at once, over every session; the oldest go first
SLOTS_SHOWN = 4  # per desk or reading, the first by time
LINK_MAX_LENGTH = 2000
EVERY_MAX_LENGTH = 20
# Written beside `guarded = true`: why a target added here is checked through the SSRF guard.
GUARDED_COMMENT = "added from the dashboard: every request passes the SSRF guard"

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
    settings, now = context.config.creneau, context.now()
    language, zone = settings.language, settings.zone
    words = STATUS_WORDS[language]
    html = found.link.system == "html"
    offered = found.offered
    every = previewed.every if every is None else every
    notify = previewed.notify if notify is None else notify
    desks = (
        ()
        if html
        else tuple(
            DeskLine(
                shown(guichet.id, 100),
                shown(guichet.label, 200),
                guichet.status.value,
                words.get(guichet.status.value, guichet.status.value),
                _slots_text(guichet.slots, now, zone, language),
            )
            for guichet in result.guichets
        )
    )
    by_id = {desk.id: desk for desk in desks}
    choices = tuple(
        ChoiceLine(
            shown(choice.id, 100),
            shown(choice.label, 200),
            choice.id in chosen,
            by_id.get(shown(choice.id, 100)),
        )
        for choice in (offered.choices if offered else ())
    )
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
    try:
        return _guarded_table(found, every, notify)
    except ValueError:
        return ""


def _guarded_table(
    found: links.Preview,
    every: str | None,
    notify: Sequence[str],
    settings: Mapping[str, Any] | None = None,
) -> str:
    """The `[[target]]` table as written from here: checked through the SSRF guard."""
    from creneau.adding import config_file

    fields = {**found.fields(every=every, notify=notify, settings=settings), "guarded": True}
    comments = {**found.comments(fields), "guarded": GUARDED_COMMENT}
    return config_file.render_target(fields, comments)


def _already_watched(found: links.Preview, context: WebContext) -> list[str]:
    language = context.config.creneau.language
    return [
        f"{WORDS[language]['already_watched']} {target.name}"
        for target in context.config.targets
        if target.url == found.link.url
    ]


def _cannot_save(found: links.Preview, language: str) -> str:
    if found.link.system != "html" or found.options:
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
        from creneau import links
        from creneau.adding import config_file

        path = self.config_path()
        language = self.language
        link = _recognised(url, language)
        interval = _every(every, language)
        if missing := links.missing_settings(link, {}):
            missing_problem = links.missing_problem(link, missing)
            raise Refused.saying(missing_problem.code, language, **missing_problem.values)
        await self.pass_guard(link.url)
        taken, checked_as, config = await asyncio.to_thread(
            _with_provisional_target, path, link, name or None, interval, language
        )
        target = next(each for each in config.targets if each.name == checked_as)
        runtime = Runtime(
            config_file.without_target(config, checked_as),
            self.context.store,
            client=self.client,
            db=self.context.db,
            now=self.context.now,
        )
        runtime.seed(await self.context.db(self.context.store.host_states), {})
        told: list[Detail] = []
        listening = _refusals.set(told)
        try:
            result = await links.check_link(runtime, target)
        except TooSoon:
            floor = compact_duration(INTERVAL_FLOOR)
            link_shown = public_link(link.url)
            raise Refused.saying(
                "checked_just_now", language, link=link_shown, floor=floor
            ) from None
        finally:
            _refusals.reset(listening)
        if told:
            raise Refused.saying("not_fetched", language, reason=self.said(told[0]))
        zone = links.site_zone(target)
        found = links.preview(link, result, taken, zone=zone, name=name or None)
        return Previewed(found, every, tuple(notify))

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
        path = self.config_path()
        found = previewed.found
        interval = _every(every, self.language)
        if why := _cannot_save(found, self.language):
            raise Refused(why)
        settings: dict[str, Any] = {}
        if found.options:
            if not 1 <= option <= len(found.options):
                raise Refused(WORDS[self.language]["choose_option"])
            settings.update(found.options[option - 1].settings)
        if found.offered is not None:
            seen = [choice.id for choice in found.offered.choices]
            picked = [each for each in seen if each in chosen]
            if picked:
                settings[found.offered.key] = picked
        await self.pass_guard(found.link.url)
        named = replace(found, name=name or found.name)
        table = _guarded_table(named, interval, notify, settings)
        return await asyncio.to_thread(_write_table, path, table, self.language)

    async def edit(self, change: Callable[[str, str], str]) -> Config:
        """Edit the file (`change(text, file name)`), validated as at start; raises Refused."""
        path = self.config_path()

        def edit_file() -> Config:
            from creneau.adding import config_file

            try:
                return config_file.edit(path, lambda text: change(text, str(path))).config
            except ConfigError as failure:
                raise Refused(_one_line(failure, self.language)) from None

        return await asyncio.to_thread(edit_file)


def _recognised(url: str, language: str) -> links.Link:
    from creneau import links

    if not url.strip():
        raise Refused.saying("link_needed", language)
    if len(url) > LINK_MAX_LENGTH:
        raise Refused.saying("link_too_long", language, limit=str(LINK_MAX_LENGTH))
    try:
        return links.recognise(url)
    except links.LinkProblem as problem_found:
        raise Refused.saying(problem_found.code, language, **problem_found.values) from None


def _every(every: str, language: str) -> str | None:
    from creneau import links

    text = every.strip() or None
    try:
        links.durations(text)
    except DurationTooLong:
        longest = compact_duration(LONGEST_DURATION)
        raise Refused.saying("every_too_long", language, longest=longest) from None
    except ValueError:
        given = clean(text or "")[:EVERY_MAX_LENGTH]
        raise Refused.saying("every_not_a_duration", language, given=given) from None
    return text


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


def _with_provisional_target(
    path: Path, link: links.Link, name: str | None, every: str | None, language: str
) -> tuple[list[str], str, Config]:
    """The names taken, the name the check is made under, and the config with the target
    as it is checked (validated as at start, nothing written)."""
    from creneau import links
    from creneau.adding import config_file

    try:
        file = config_file.ConfigText.read(path)
        taken = config_file.target_names(file.text, str(path))
        checked_as = name or links.unique_name(links.name_from_link(link), taken)
        fields = links.provisional_fields(link, checked_as, every=every)
        return taken, checked_as, config_file.with_target(file, fields)[1]
    except ConfigError as failure:
        raise Refused(_one_line(failure, language)) from None


def _write_table(path: Path, table: str, language: str) -> Config:
    from creneau.adding import config_file

    try:
        file = config_file.ConfigText.read(path)
        text = config_file.add_target(file.text, table, str(path))
        config = config_file.validate(file, text)
        config_file.save(file, text)
    except ConfigError as failure:
        raise Refused(_one_line(failure, language)) from None
    return config


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

    def controls(name: str) -> TargetControls:
        target = configured_target(context, name)
        paused = bool(target is not None and target.paused)
        return TargetControls(paused, context.config_path is not None)

    context.templates.globals["target_controls"] = controls

    async def add_form(request: Request) -> Response:
        return _form_page(request, context)

    async def add_preview(request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, context, form.get(CSRF_FIELD)):
            return _forbidden(request, context)
        url, name, every = (_text(form.get(key)) for key in ("url", "name", "every"))
        ticked = [_text(each) for each in form.getlist("notify")]
        values = {"url": url, "name": name, "every": every}
        try:
            if len(name) > NAME_MAX_LENGTH or len(every) > EVERY_MAX_LENGTH:
                raise Refused(WORDS[desk.language]["too_long"])
            notify = _channels(ticked, context)
            previewed = await desk.preview(url, name, every, notify)
        except Refused as refused:
            return _form_page(
                request, context, refused.line, refused.status, notify=ticked, **values
            )
        key = desk.previews.put(_session(request), previewed)
        shown_page = preview_page(key, previewed, context)
        return page(request, context, "add_preview.html", preview=shown_page, problem="")

    async def add_save(request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, context, form.get(CSRF_FIELD)):
            return _forbidden(request, context)
        key = _text(form.get("preview"))
        previewed = desk.previews.get(_session(request), key)
        if previewed is None:
            return _form_page(request, context, WORDS[desk.language]["expired"], 400)
        name, every = _text(form.get("name")), _text(form.get("every"))
        ticked = [_text(each) for each in form.getlist("notify")]
        chosen = [_text(each) for each in form.getlist("choice")]
        option = _number(form.get("option"))
        try:
            if len(name) > NAME_MAX_LENGTH or len(every) > EVERY_MAX_LENGTH:
                raise Refused(WORDS[desk.language]["too_long"])
            notify = _channels(ticked, context)
            config = await desk.save(previewed, name, every, notify, option, chosen)
        except Refused as refused:
            shown_page = preview_page(
                key,
                previewed,
                context,
                name=name,
                every=every,
                notify=ticked,
                option=option,
                chosen=chosen,
            )
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

    def target_edit(
        change: Callable[[str], Callable[[str, str], str]], to_overview: bool = False
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            form = await request.form()
            if not csrf_ok(request, context, form.get(CSRF_FIELD)):
                return _forbidden(request, context)
            name = request.path_params["name"]
            if configured_target(context, name) is None:
                return problem(request, context, 404, _no_target(name, desk.language))
            try:
                context.config = await desk.edit(change(name))
            except Refused as refused:
                return problem(request, context, refused.status, refused.line)
            where = "/" if to_overview else target_path(name)
            return RedirectResponse(f"{root_of(request)}{where}", status_code=303)

        return endpoint

    def pause(name: str) -> Callable[[str, str], str]:
        from creneau.adding import config_file

        return lambda text, file: config_file.set_values(
            text, name, {"paused": config_file.value_item("true")}, file
        )

    def resume(name: str) -> Callable[[str, str], str]:
        from creneau.adding import config_file

        return lambda text, file: config_file.set_values(text, name, {"paused": None}, file)

    def remove(name: str) -> Callable[[str, str], str]:
        from creneau.adding import config_file

        return lambda text, file: config_file.remove_target(text, name, file)

    return [
        Route("/add", add_form, methods=["GET"]),
        Route("/add/preview", add_preview, methods=["POST"]),
        Route("/add/save", add_save, methods=["POST"]),
        Route("/targets/{name}/pause", target_edit(pause), methods=["POST"]),
        Route("/targets/{name}/resume", target_edit(resume), methods=["POST"]),
        Route("/targets/{name}/remove", target_edit(remove, to_overview=True), methods=["POST"]),
    ]


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


def _forbidden(request: Request, context: WebContext) -> Response:
    return problem(request, context, 403, WORDS[context.config.creneau.language]["csrf_refused"])


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
