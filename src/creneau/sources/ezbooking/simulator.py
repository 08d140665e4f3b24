"""A simulated préfecture running the ezbooking flow: bookings, desks whose slots are
released and taken on a timetable (or on a weekly pattern with noise, `weekly_releases`:
the case where only history tells when slots come), sessions, failure behaviours, and a log
of every request (so tests can count what creneau sent). No sockets here: `handle` maps a
request to a response; `server.py` puts it on 127.0.0.1.

It follows the public evidence (fixtures/ezbooking/SOURCES.md): planning ids differ from
booking ids; the calendar step opens only for a desk with a free slot; ezjscore answers the
week in its JSON envelope only when the request asks for JSON (`Accept`, or an `http_accept`
parameter) and the bare HTML otherwise; no class marks a free cell."""

from __future__ import annotations

import html
import random
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as time_of_day

from creneau.simulator import Simulated, flood
from creneau.simulator.pages import PARIS, nginx_error
from creneau.simulator.wire import Request, Response
from creneau.sources.ezbooking import simulated_pages as pages
from creneau.sources.ezbooking.simulated_pages import GRID_TIMES

BEHAVIOURS = (
    "normal",
    "forbidden",
    "rate-limited",
    "bad-gateway",
    "overloaded",
    "closed",
    "maintenance",
    "changed",
    "captcha",
)
STEP = re.compile(r"^/booking/create/(?P<booking>\d+)(?:/(?P<step>\d+))?/?$")
GRID = re.compile(r"^/ezjscore/call/bookingserver::planning::assign::(\d+)::(\d+)::(-?\d+)$")
HORIZON_WEEKS = 16  # how far ahead a planning has slots to release
# ezjscAjaxContent::getHttpAccept: the first Accept entry containing one of these wins.
EZJSCORE_ACCEPT_ALIASES = (
    ("html", "xhtml"),
    ("json", "json"),
    ("javascript", "json"),
    ("xml", "xml"),
    ("text", "text"),
)


@dataclass
class Desk:
    id: str
    label: str
    free: set[int] = field(default_factory=set)  # slot start epochs


@dataclass
class Booking:
    id: str
    title: str
    desks: list[Desk]
    information_step: bool = False
    behaviour: str = "normal"
    summary: str = ""
    no_slot_step: str = "2"  # "1": back to the desk choice, as the Préfecture de police does
    calendar_names_planning: bool = True

    def desk(self, desk_id: str) -> Desk | None:
        return next((desk for desk in self.desks if desk.id == desk_id), None)


@dataclass(frozen=True)
class Event:
    """At `at` seconds after start, release `count` slots at a desk, or take them
    (count 0 = take all)."""

    at: float
    booking: str
    desk: str
    action: str  # "release" | "take"
    count: int = 0


@dataclass(frozen=True)
class WeeklyRelease:
    """A release `weekly_releases` planned: at `at`, near the weekly time (`on_pattern`) or
    at a random time of its week (noise)."""

    at: datetime
    on_pattern: bool


def weekly_release_instants(
    start: datetime,
    weeks: int,
    weekday: int,
    at: time_of_day,
    spread: timedelta,
    noise: float,
    rng: random.Random,
) -> list[WeeklyRelease]:
    """One release a week for `weeks` weeks from `start`'s week: on `weekday` (0 = Monday) at
    `at` (Paris) give or take a uniform `spread`, or, for a share `noise` of them, at a
    uniform random instant of that week. Only those after `start`, in order."""
    local = start.astimezone(PARIS)
    midnight = time_of_day()
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), midnight, PARIS)
    found = []
    for week in range(weeks):
        week_start = monday + timedelta(weeks=week)
        if rng.random() < noise:
            instant = week_start + timedelta(seconds=rng.uniform(0, 7 * 24 * 3600))
            found.append(WeeklyRelease(instant, on_pattern=False))
            continue
        day = (week_start + timedelta(days=weekday)).date()
        aimed = datetime.combine(day, at, PARIS)
        offset = timedelta(seconds=rng.uniform(-1, 1) * spread.total_seconds())
        found.append(WeeklyRelease(aimed + offset, on_pattern=True))
    return sorted((r for r in found if r.at > start), key=lambda release: release.at)


@dataclass(frozen=True)
class LoggedRequest:
    at: float  # the simulator's monotonic clock
    host: str
    method: str
    path: str
    status: int


@dataclass
class _Session:
    accepted: bool = False
    planning: str | None = None


class Prefecture:
    def __init__(
        self,
        bookings: list[Booking],
        timetable: list[Event] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = lambda: datetime.now(PARIS).date(),
        now: Callable[[], datetime] = lambda: datetime.now(PARIS),
        xhtml_escaped: bool = False,
    ) -> None:
        self.bookings = {booking.id: booking for booking in bookings}
        # ezjscore's textEncode escapes its HTML answer; the bots read it bare (the default).
        self.xhtml_escaped = xhtml_escaped
        self.timetable = sorted(timetable or [], key=lambda event: event.at)
        self.clock = clock
        self.today = today
        self.now = now  # the wall time `weekly_releases` places its instants in
        self.started = clock()
        self.log: list[LoggedRequest] = []
        self.violations: list[str] = []  # requests a monitor must never make
        self.released: list[tuple[float, str, str, list[int]]] = []  # (at, booking, desk, epochs)
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    # --- driving the timetable ---------------------------------------------------------------

    def release(
        self, booking_id: str, desk_id: str, count: int, *, not_before: date | None = None
    ) -> list[int]:
        """Free the `count` earliest bookable slots (from `not_before` on, when given)."""
        with self._lock:
            return self._release(booking_id, desk_id, count, not_before)

    def take(self, booking_id: str, desk_id: str, count: int = 0) -> None:
        with self._lock:
            self._take(booking_id, desk_id, count)

    def weekly_releases(
        self,
        booking_id: str,
        desk_id: str,
        *,
        weekday: int,
        at: time_of_day,
        spread: timedelta,
        noise: float,
        rng: random.Random,
        weeks: int = 8,
        count: int = 2,
        taken_after: timedelta | None = None,
    ) -> list[WeeklyRelease]:
        """Release `count` slots at the desk once a week for `weeks` weeks from now (the
        simulator's `now`), on the weekly pattern of `weekly_release_instants`; with
        `taken_after`, others book them that long after. Added to the timetable, so they
        happen on the simulator's clock. Returns the releases planned."""
        with self._lock:
            now = self.now()
            planned = weekly_release_instants(now, weeks, weekday, at, spread, noise, rng)
            elapsed = self.clock() - self.started
            for release in planned:
                when = elapsed + (release.at - now).total_seconds()
                self.timetable.append(Event(when, booking_id, desk_id, "release", count))
                if taken_after is not None:
                    later = when + taken_after.total_seconds()
                    self.timetable.append(Event(later, booking_id, desk_id, "take", count))
            self.timetable.sort(key=lambda event: event.at)
            return planned

    def set_behaviour(self, booking_id: str, behaviour: str) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        with self._lock:
            self.bookings[booking_id].behaviour = behaviour

    def index(self) -> Response:
        """The root address: a link to each booking."""
        rows = "".join(
            f'<li><a href="/booking/create/{b.id}">/booking/create/{b.id}</a> — '
            f"{b.title}: {b.summary}</li>"
            for b in self.bookings.values()
        )
        return Response(200, f"<h1>Préfecture simulée</h1><ul>{rows}</ul>")

    def _advance(self) -> None:
        elapsed = self.clock() - self.started
        while self.timetable and self.timetable[0].at <= elapsed:
            event = self.timetable.pop(0)
            if event.action == "release":
                self._release(event.booking, event.desk, event.count)
            else:
                self._take(event.booking, event.desk, event.count)

    def _release(
        self, booking_id: str, desk_id: str, count: int, not_before: date | None = None
    ) -> list[int]:
        desk = self.bookings[booking_id].desk(desk_id)
        assert desk is not None, f"no desk {desk_id} in booking {booking_id}"
        taken = {epoch for d in self.bookings[booking_id].desks for epoch in d.free}
        bookable = self._bookable_epochs(not_before)
        epochs = [epoch for epoch in bookable if epoch not in taken][:count]
        desk.free.update(epochs)
        self.released.append((self.clock(), booking_id, desk_id, epochs))
        return epochs

    def _take(self, booking_id: str, desk_id: str, count: int) -> None:
        desk = self.bookings[booking_id].desk(desk_id)
        assert desk is not None, f"no desk {desk_id} in booking {booking_id}"
        for epoch in sorted(desk.free)[: count or len(desk.free)]:
            desk.free.discard(epoch)

    def _bookable_epochs(self, not_before: date | None = None) -> list[int]:
        """Working-day slots from tomorrow (or `not_before`) to the end of the horizon."""
        today = self.today()
        end = today - timedelta(days=today.weekday()) + timedelta(weeks=HORIZON_WEEKS, days=-1)
        epochs = []
        day = max(today + timedelta(days=1), not_before or today)
        while day <= end:
            if day.weekday() < 5:
                for label in GRID_TIMES:
                    hour, minute = map(int, label.split(":"))
                    at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
                    epochs.append(int(at.timestamp()))
            day += timedelta(days=1)
        return epochs

    # --- serving -------------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path.startswith(("/booking/", "/ezjscore/"))

    def handle(self, request: Request) -> Response:
        with self._lock:
            self._advance()
            response, new_session = self._route(request)
            if new_session:
                response.set_cookies["eZSESSID"] = new_session
            self.log.append(
                LoggedRequest(
                    self.clock(), request.host, request.method, request.path, response.status
                )
            )
            return response

    def _route(self, request: Request) -> tuple[Response, str | None]:
        grid = GRID.match(request.path)
        step = STEP.match(request.path)
        booking_id = grid.group(1) if grid else step.group("booking") if step else None
        booking = self.bookings.get(booking_id or "")
        if booking is None:
            return Response(404, nginx_error(404, "Not Found")), None
        if failure := self._failure(booking):
            return failure, None
        session_id = request.cookies.get("eZSESSID")
        session = self._sessions.get(session_id or "")
        new_session = None
        if session is None:
            new_session = secrets.token_hex(16)
            session = self._sessions[new_session] = _Session()
        if grid:
            answer = self._grid(booking, session, grid.group(2), int(grid.group(3)))
            return self._as_ezjscore(answer, ezjscore_answer_type(request)), new_session
        assert step is not None
        return self._step(booking, session, step.group("step") or "0", request), new_session

    def _failure(self, booking: Booking) -> Response | None:
        match booking.behaviour:
            case "forbidden":
                return Response(403, nginx_error(403, "Forbidden"))
            case "rate-limited":
                return Response(
                    429, nginx_error(429, "Too Many Requests"), headers={"Retry-After": "120"}
                )
            case "bad-gateway":
                return Response(502, nginx_error(502, "Bad Gateway"))
            case "overloaded":
                return Response(200, pages.OVERLOADED)
            case "closed":
                return Response(200, pages.CLOSED)
            case "maintenance":
                return Response(503, pages.MAINTENANCE)
            case "changed":
                return Response(200, pages.CHANGED)
        return None

    def _step(self, booking: Booking, session: _Session, step: str, request: Request) -> Response:
        base = f"/booking/create/{booking.id}"
        if step in ("5", "6"):
            self.violations.append(f"{request.method} {request.path}")
            return Response(403, nginx_error(403, "Forbidden"))
        if step == "0":
            if booking.behaviour == "captcha":
                return Response(200, pages.captcha(booking.id, booking.title))
            if request.method == "POST" and request.form.get("condition") == "on":
                session.accepted = True
                if len(booking.desks) == 1:
                    session.planning = booking.desks[0].id
                    return self._redirect(self._after_desk(booking, session))
                return self._redirect(f"{base}/1")
            return Response(200, pages.conditions(booking.id, booking.title))
        if not session.accepted:
            return self._redirect(base)
        if step == "1":
            if request.method == "POST":
                desk = booking.desk(request.form.get("planning", ""))
                if desk is None:
                    return self._redirect(f"{base}/1")
                session.planning = desk.id
                return self._redirect(self._after_desk(booking, session))
            desks = [(desk.id, desk.label) for desk in booking.desks]
            return Response(200, pages.desk_choice(booking.id, booking.title, desks))
        if step == "2":
            return Response(200, pages.no_slot(booking.id, booking.title))
        if step == "3":
            if request.method == "POST":
                return self._redirect(f"{base}/4")
            return Response(200, pages.information(booking.id, booking.title))
        if step == "4" and session.planning:
            page = pages.calendar(
                booking.id,
                booking.title,
                session.planning,
                names_planning=booking.calendar_names_planning,
            )
            return Response(200, page)
        return self._redirect(base)

    def _after_desk(self, booking: Booking, session: _Session) -> str:
        desk = booking.desk(session.planning or "")
        base = f"/booking/create/{booking.id}"
        if desk is None or not desk.free:
            return f"{base}/{booking.no_slot_step}"
        return f"{base}/3" if booking.information_step else f"{base}/4"

    def _grid(
        self, booking: Booking, session: _Session, planning: str, offset: int
    ) -> tuple[str, str]:
        """(error_text, content) of ezjscore's answer for one week of a planning."""
        desk = booking.desk(planning)
        if not session.accepted or desk is None:
            return "Session expirée", ""
        today = self.today()
        monday = today - timedelta(days=today.weekday()) + timedelta(days=offset)
        return "", pages.week_table(booking.id, monday, desk.free)

    def _as_ezjscore(self, answer: tuple[str, str], answer_type: str) -> Response:
        """modules/ezjscore/call.php: json_encode of the envelope when JSON was asked for;
        otherwise the non-empty parts joined by commas, served as eZ Publish's default
        text/html (call.php sets no type for xhtml)."""
        error_text, content = answer
        headers = {"Vary": "Accept"}
        if answer_type == "json":
            body = pages.envelope(content, error_text)
            return Response(200, body, "application/json; charset=utf-8", headers=headers)
        text = ",".join(part for part in (error_text, content) if part)
        body = html.escape(text, quote=True) if self.xhtml_escaped else text
        return Response(200, body, "text/html; charset=utf-8", headers=headers)

    @staticmethod
    def _redirect(location: str) -> Response:
        return Response(302, "", headers={"Location": location})


def ezjscore_answer_type(request: Request) -> str:
    """ezjscAjaxContent::getHttpAccept with its default aliases: the `http_accept` parameter
    (POST, then GET) or the Accept header; the first entry naming an alias wins; xhtml by
    default. call.php's `ContentType` query parameter overrides it."""
    if "ContentType" in request.params:
        return (
            "json"
            if request.params["ContentType"] == "javascript"
            else request.params["ContentType"]
        )
    accept = next(
        (
            source[name]
            for source in (request.form, request.params)
            for name in ("http_accept", "HTTP_ACCEPT")
            if name in source
        ),
        request.headers.get("accept", ""),
    )
    for entry in accept.split(","):
        for alias, answer_type in EZJSCORE_ACCEPT_ALIASES:
            if alias in entry:
                return answer_type
    return "xhtml"


def default_bookings() -> list[Booking]:
    """The bookings `creneau simulate` serves: one per case a watcher meets."""

    def single(booking_id: str, title: str, behaviour: str, summary: str) -> Booking:
        return Booking(
            booking_id,
            title,
            [Desk(f"{booking_id}1", "Guichet unique")],
            behaviour=behaviour,
            summary=summary,
        )

    return [
        Booking(
            "1001",
            "Remise de titre de séjour — Nanterre",
            [
                Desk("14006", "Guichet 1 - Remise de titre"),
                Desk("14007", "Guichet 2 - Remise de titre"),
                Desk("14012", "Guichet 5 - Étudiants"),
            ],
            information_step=True,
            summary="3 desks; slots come and go on a timetable",
        ),
        Booking(
            "1002",
            "Naturalisation — entretien",
            [Desk("15001", "Bureau des naturalisations")],
            summary="one desk; free slots from the start",
        ),
        Booking(
            "1003",
            "Titre de séjour étudiant — Bobigny",
            [Desk("16001", "Guichet A"), Desk("16002", "Guichet B")],
            summary="2 desks; never a free slot",
        ),
        Booking(
            "1004",
            "Admission exceptionnelle au séjour — Bobigny",
            [Desk("20687", "Guichet unique")],
            summary="one desk, planning 20687; its first free slot four weeks out",
        ),
        Booking(
            "1005",
            "Titres de séjour — Préfecture de police",
            [Desk("990", "Guichets 1 à 4"), Desk("1000", "Guichets 5 à 8")],
            no_slot_step="1",
            summary="2 desks; no slot sends you back to the desk choice",
        ),
        single("1403", "Carte grise", "forbidden", "answers 403 Forbidden"),
        single("1429", "Permis de conduire", "rate-limited", "answers 429 with Retry-After"),
        single("1502", "Passeport", "bad-gateway", "answers 502 Bad Gateway"),
        single("1503", "Duplicata", "overloaded", 'says "Service surchargé"'),
        single("1410", "Regroupement familial", "closed", "says the page is not available"),
        single("1411", "Asile", "maintenance", "shows a maintenance page (503)"),
        single("1999", "Changement d'adresse", "changed", "a redesigned page (unknown)"),
        single("1666", "Titre de voyage", "captcha", "asks for a CAPTCHA"),
    ]


def default_prefecture(timetable: list[Event] | None = None) -> Prefecture:
    prefecture = Prefecture(default_bookings(), timetable)
    prefecture.release("1002", "15001", 4)
    prefecture.release("1004", "20687", 3, not_before=prefecture.today() + timedelta(weeks=4))
    return prefecture


def demo_timetable() -> list[Event]:
    """About a minute of life at booking 1001: two releases, slots taken in between."""
    return [
        Event(8, "1001", "14007", "release", 3),
        Event(22, "1001", "14007", "take", 2),
        Event(30, "1001", "14006", "release", 2),
        Event(44, "1001", "14006", "take", 0),
        Event(44, "1001", "14007", "take", 0),
    ]


def _simulated_prefecture() -> Prefecture:
    return default_prefecture(demo_timetable())


SIMULATED = Simulated(
    'ezbooking (system = "ezbooking"):',
    _simulated_prefecture,
    lambda site, root: [
        f"  {root}/booking/create/{booking.id}  {booking.summary}"
        for booking in site.bookings.values()
    ],
)


# --- a page far bigger than any the site shows (issue 24): creneau.simulator.flood ------


def flood_page(count: int = flood.SLOTS, size: int = flood.BODY_CAP) -> str:
    """A week grid (ezjscore's bare HTML answer) whose links all lead to step 5."""

    def item(index: int) -> str:
        return f"<a href=/booking/create/1/5/{int(flood.minute(index).timestamp())}>libre</a>"

    head = '<table><tr><th colspan="7">Semaine du lundi 7 décembre 2026</th></tr><tr><td>'
    return flood.fit(head, "</td></tr></table>", item, count, size)
