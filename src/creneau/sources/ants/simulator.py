"""A simulated ANTS hub search API (GET /api/SlotsFromPosition): meeting points around a
position, slots that tests release and take, failure behaviours, the API's own limit of 30
requests a minute, and a log of every request with its query parameters. No sockets here:
`handle` maps a request to a response; `server.py` puts it on 127.0.0.1.

Like the real hub (fixtures/ants/SOURCES.md): it answers only requests carrying one of its
tokens in X-HUB-RDV-AUTH-TOKEN (401 "X-HUB-RDV-AUTH-TOKEN header invalid" otherwise), then
validates the query as FastAPI does (422), then counts the request against its limit (429),
then refuses a radius it does not offer (403); it lists only the meeting points that have a
free slot in the window, and writes each slot as the mairie's wall-clock time labelled
"+00:00"."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from creneau.simulator import Simulated, flood
from creneau.simulator.pages import nginx_error
from creneau.simulator.wire import Request, Response

PARIS = ZoneInfo("Europe/Paris")
API_PATH = "/api/SlotsFromPosition"
BEHAVIOURS = ("normal", "rate-limited", "bad-gateway", "changed-shape", "unauthorized")
TOKEN_HEADER = "x-hub-rdv-auth-token"
HUB_REFUSAL = "X-HUB-RDV-AUTH-TOKEN header invalid"
# The token the simulator accepts unless told otherwise: public, for the demo and tests.
SIMULATOR_TOKEN = "creneau-simulator-token"
# slots_from_position's Query parameters: the required ones, and the defaults of the others.
REQUIRED_PARAMS = ("longitude", "latitude", "start_date", "end_date")
DEFAULTS = {"radius_km": "40", "reason": "CNI", "documents_number": "1"}
REASONS = ("CNI", "PASSPORT", "CNI-PASSPORT")
RADIUS_CHOICES_KM = (5, 10, 15, 20, 25, 30)
LIMIT_PER_MINUTE = 30
SLOT_TIMES = ("09:00", "09:20", "09:40", "10:00", "14:00", "14:20", "14:40", "15:00")
RELEASE_HORIZON_DAYS = 28
EARTH_RADIUS_KM = 6371.0
JSON = "application/json"


@dataclass
class MeetingPoint:
    id: str
    name: str
    city_name: str
    zip_code: str
    public_entry_address: str
    latitude: float
    longitude: float
    website: str
    free: set[datetime] = field(default_factory=set)  # aware, Europe/Paris

    def distance_km(self, latitude: float, longitude: float) -> float:
        """Great-circle distance, as the hub sorts and filters meeting points."""
        lat1, lat2 = math.radians(latitude), math.radians(self.latitude)
        d_lat = lat2 - lat1
        d_lon = math.radians(self.longitude - longitude)
        h = math.sin(d_lat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(d_lon / 2) ** 2
        return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class LoggedRequest:
    at: float  # the simulator's monotonic clock
    method: str
    path: str
    params: dict[str, str]
    status: int


def default_points() -> list[MeetingPoint]:
    """Three mairies within 20 km of the centre of Paris, and one 200 km away."""
    return [
        MeetingPoint(
            "1201",
            "Mairie du 10e arrondissement",
            "Paris",
            "75010",
            "72 Rue du Faubourg Saint-Martin",
            48.8717,
            2.3578,
            "https://mairie10.paris.fr",
        ),
        MeetingPoint(
            "1202",
            "Hôtel de ville de Montreuil",
            "Montreuil",
            "93100",
            "1 Place Jean Jaurès",
            48.8619,
            2.4431,
            "https://www.montreuil.fr",
        ),
        MeetingPoint(
            "1203",
            "Mairie de Versailles",
            "Versailles",
            "78000",
            "4 Avenue de Paris",
            48.8014,
            2.1301,
            "https://www.versailles.fr",
        ),
        MeetingPoint(
            "1204",
            "Mairie de Lille",
            "Lille",
            "59000",
            "Place Augustin Laurent",
            50.6311,
            3.0686,
            "https://www.lille.fr",
        ),
    ]


class BadQuery(ValueError):
    """A query FastAPI refuses before the hub's code runs: 422 and pydantic's error list."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Query:
    """The parts of a valid query that decide which meeting points and slots are listed."""

    longitude: float
    latitude: float
    start_date: date
    end_date: date
    radius_km: int
    reason: str
    documents_number: int


class AntsApi:
    """The simulated site: serves API_PATH; tests drive it with release, take and
    set_behaviour, and read `log` and `violations`."""

    def __init__(
        self,
        points: list[MeetingPoint] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = lambda: datetime.now(PARIS).date(),
        tokens: tuple[str, ...] = (SIMULATOR_TOKEN,),
    ) -> None:
        self.points = {point.id: point for point in points or default_points()}
        self.tokens = tokens
        self.behaviour = "normal"
        self.clock = clock
        self.today = today
        self.log: list[LoggedRequest] = []
        self.violations: list[str] = []  # requests a polite client must never make
        self._lock = threading.Lock()

    # --- driving the simulation ----------------------------------------------------------------

    def release(self, point_id: str, count: int) -> list[datetime]:
        """Free `count` more slots at a meeting point, the earliest bookable first."""
        with self._lock:
            point = self.points[point_id]
            starts = [start for start in self._bookable() if start not in point.free][:count]
            point.free.update(starts)
            return starts

    def take(self, point_id: str, count: int = 0) -> None:
        """Someone booked: remove the `count` earliest free slots (0 = all of them)."""
        with self._lock:
            point = self.points[point_id]
            for start in sorted(point.free)[: count or len(point.free)]:
                point.free.discard(start)

    def set_behaviour(self, behaviour: str) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r} (known: {', '.join(BEHAVIOURS)})")
        with self._lock:
            self.behaviour = behaviour

    def _bookable(self) -> list[datetime]:
        """Working-day slots from tomorrow on, in Paris wall-clock time."""
        first = self.today() + timedelta(days=1)
        starts = []
        for offset in range(RELEASE_HORIZON_DAYS):
            day = first + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for label in SLOT_TIMES:
                hour, minute = map(int, label.split(":"))
                starts.append(datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS))
        return starts

    # --- serving -------------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path == API_PATH

    def handle(self, request: Request) -> Response:
        with self._lock:
            response = self._answer(request)
            self.log.append(
                LoggedRequest(
                    self.clock(), request.method, request.path, request.params, response.status
                )
            )
            return response

    def _answer(self, request: Request) -> Response:
        if request.method != "GET":
            return _json(405, {"detail": "Method Not Allowed"})
        if request.headers.get(TOKEN_HEADER) not in self.tokens:
            self.violations.append("a request without a valid X-HUB-RDV-AUTH-TOKEN")
            return _json(401, {"detail": HUB_REFUSAL})
        try:
            query = _query(request.params)
        except BadQuery as bad:
            self.violations.append(f"bad query: {bad.errors}")
            return _json(422, {"detail": bad.errors})
        if self._over_limit():
            self.violations.append(f"more than {LIMIT_PER_MINUTE} requests in a minute")
            return _json(429, {"error": f"Rate limit exceeded: {LIMIT_PER_MINUTE} per 1 minute"})
        if failure := self._failure():
            return failure
        if query.radius_km not in RADIUS_CHOICES_KM:
            self.violations.append(f"radius_km={query.radius_km}")
            return _json(403, {"detail": "radius_km value not allowed"})
        if query.reason not in REASONS or query.documents_number < 1:
            # The hub passes these on unchecked; the mairies' software refuses them, and the
            # hub drops the meeting points whose software failed.
            self.violations.append(f"reason={query.reason} documents={query.documents_number}")
            return _json(200, [])
        host = request.headers.get("host", "127.0.0.1")
        return _json(200, self._meeting_points(query, host))

    def _over_limit(self) -> bool:
        """slowapi counts the requests that reached the endpoint (auth and query passed)."""
        now = self.clock()
        counted = [e for e in self.log if now - e.at < 60 and e.status not in (401, 405, 422)]
        return len(counted) >= LIMIT_PER_MINUTE

    def _failure(self) -> Response | None:
        match self.behaviour:
            case "rate-limited":
                return _json(
                    429,
                    {"error": f"Rate limit exceeded: {LIMIT_PER_MINUTE} per 1 minute"},
                    {"Retry-After": "60"},
                )
            case "bad-gateway":
                return Response(502, nginx_error(502, "Bad Gateway"))
            case "unauthorized":
                return _json(401, {"detail": "X-HUB-RDV-AUTH-TOKEN header invalid"})
        return None

    def _meeting_points(self, query: Query, host: str) -> Any:
        listed = []
        for point in self.points.values():
            distance = point.distance_km(query.latitude, query.longitude)
            starts = sorted(
                start for start in point.free if query.start_date <= start.date() <= query.end_date
            )
            if distance <= query.radius_km and starts:
                listed.append((distance, _point_json(point, distance, starts, host)))
        points = [entry for _distance, entry in sorted(listed, key=lambda pair: pair[0])]
        if self.behaviour == "changed-shape":
            return {"meeting_points": points, "count": len(points)}
        return points


# pydantic v1's messages, as FastAPI answers them for a bad query parameter.
TYPE_ERRORS = {
    float: ("value is not a valid float", "type_error.float"),
    int: ("value is not a valid integer", "type_error.integer"),
    date: ("invalid date format", "value_error.date"),
}


def _query(params: dict[str, str]) -> Query:
    values = DEFAULTS | params
    errors = [
        {"loc": ["query", name], "msg": "field required", "type": "value_error.missing"}
        for name in REQUIRED_PARAMS
        if name not in params
    ]
    kinds = {"longitude": float, "latitude": float, "start_date": date, "end_date": date}
    kinds |= {"radius_km": int, "documents_number": int}
    read: dict[str, Any] = {}
    for name, kind in kinds.items():
        if name not in values:
            continue
        try:
            read[name] = date.fromisoformat(values[name]) if kind is date else kind(values[name])
        except ValueError:
            message, error_type = TYPE_ERRORS[kind]
            errors.append({"loc": ["query", name], "msg": message, "type": error_type})
    if errors:
        raise BadQuery(errors)
    return Query(**read, reason=values["reason"])


def _point_json(
    point: MeetingPoint, distance: float, starts: list[datetime], host: str
) -> dict[str, Any]:
    return {
        "id": point.id,
        "name": point.name,
        "longitude": point.longitude,
        "latitude": point.latitude,
        "public_entry_address": point.public_entry_address,
        "zip_code": point.zip_code,
        "city_name": point.city_name,
        "decoded_city_name": point.city_name.lower(),
        "website": point.website,
        "city_logo": f"{point.website}/logo.png",
        "distance_km": round(distance, 2),
        "available_slots": [
            {
                # The hub's quirk: wall-clock time, labelled as if it were UTC.
                "datetime": f"{start:%Y-%m-%dT%H:%M:%S}+00:00",
                "callback_url": _booking_page(host, point, start),
            }
            for start in starts
        ],
    }


def _booking_page(host: str, point: MeetingPoint, start: datetime) -> str:
    """The mairie's own page for a slot: on the simulator, so a request to it would show."""
    return f"http://{host}/mairie/{point.id}/rendez-vous?date={start:%Y-%m-%dT%H:%M}"


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False), JSON, dict(headers or {}))


def _with_slots() -> AntsApi:
    site = AntsApi()
    site.release(next(iter(site.points)), 3)
    return site


SIMULATED = Simulated(
    'ANTS passport/CNI (system = "ants", --set latitude=48.86 --set longitude=2.35 '
    f"--set reason=PASSPORT --set token={SIMULATOR_TOKEN}):",
    _with_slots,
    lambda site, root: [f"  {root}{API_PATH}"],
)


# --- a page far bigger than any the site shows (issue 24): creneau.simulator.flood ------


def flood_page(count: int = flood.SLOTS, size: int = flood.BODY_CAP) -> str:
    """One meeting point of the hub's answer with `count` available slots."""

    def item(index: int) -> str:
        slot = {"datetime": f"{flood.minute(index):%Y-%m-%dT%H:%M}Z", "callback_url": ""}
        return ("," if index else "") + json.dumps(slot, separators=(",", ":"))

    head = '[{"id":"1","name":"Mairie","available_slots":['
    return flood.fit(head, "]}]", item, count, size)
