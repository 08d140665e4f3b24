"""The ANTS hub's search for passport and identity-card appointments in mairies
(gitlab.com/france-identite/rendez-vous-mairie): GET …/api/SlotsFromPosition.

It answers, in JSON, the meeting points (mairies) around a position, each with its
`available_slots` ({datetime, callback_url}). One check is one GET. Each meeting point is a
guichet. A slot's `callback_url` is the mairie's own booking page: it is kept for the user
(`Slot.booking_url`) and never requested.

The hub answers only requests that carry a token it issued, in the `X-HUB-RDV-AUTH-TOKEN`
header (its `verify_auth_token`: 401 "X-HUB-RDV-AUTH-TOKEN header invalid" otherwise). Such
tokens go to the software editors and partners ANTS connects to the hub; a target needs one
(`token = "${ANTS_TOKEN}"`). creneau never sends the website's own front-end token
(X-HUB-RDV-FRONT-AUTH-TOKEN) nor an Origin header pretending to be the website.

Slot times: the hub rewrites every mairie's slot as a wall-clock time followed by a literal
"Z" (editors such as RDV Service Public write Paris wall-clock times with a "Z" too), and its
response model then serves "+00:00": that "Z" or "+00:00" does NOT mean UTC (see
`ZERO_OFFSET_IS_PARIS_WALL_CLOCK`). A naive time is Paris wall-clock time too. Any other
offset is taken at its word and converted to Europe/Paris. Evidence: fixtures/ants/SOURCES.md.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from creneau import redact
from creneau.details import Detail, redacted
from creneau.host_budget import HostBudget
from creneau.page import Page
from creneau.results import MAX_BOOKING_URLS, GuichetResult, Slot, Status, overall_status
from creneau.sources.common import (
    SITE_ZONE,
    NotJson,
    fold,
    load_json,
    read_failure,
    status_from_error_title,
)
from creneau.sources.reading import (
    CUT_SHORT,
    MAX_SLOTS_PER_PAGE,
    Choice,
    FlowOutcome,
    PageReading,
    Reading,
    parsed,
    with_not_kept,
)
from creneau.targets import TargetBase

if TYPE_CHECKING:
    from creneau.sources.session import Session

KEEPS_SESSION = False  # each check starts a new site session


# unconfirmed: the production host and the "/api" prefix. The router declares
# "/SlotsFromPosition"; rdv-service-public's docs link the hub's preproduction API at
# ppd.api.rendezvouspasseport.ants.gouv.fr/docs. A wrong URL answers 404 (error), never "none".
API_HOST = "api.rendezvouspasseport.ants.gouv.fr"
API_PATH = "/api/SlotsFromPosition"
API_URL = f"https://{API_HOST}{API_PATH}"
TOKEN_HEADER = "X-HUB-RDV-AUTH-TOKEN"  # verify_auth_token(x_hub_rdv_auth_token = Header(None))
HUB_REFUSAL = "X-HUB-RDV-AUTH-TOKEN header invalid"  # its HTTPException(401, detail=…)
# Where the hub's API and the way to get a token are documented (rdv-service-public #3515 and
# docs/interconnexions/ants.md).
HUB_DOCS = "https://rendez-vous-api.france-identite.fr/docs"
HUB_CODE = "https://gitlab.com/france-identite/rendez-vous-mairie"
TOKEN_NEEDED = (
    f"the ANTS hub answers only requests carrying a token it issued ({TOKEN_HEADER}; without "
    f'one it answers 401 "{HUB_REFUSAL}"). ANTS gives such tokens to the software editors '
    f"and partners it connects to the hub (see {HUB_DOCS} and {HUB_CODE}); put yours in the "
    'environment and set token = "${ANTS_TOKEN}". creneau never uses the website\'s own '
    "token. For a mairie that books on RDV Service Public (rdv.anct.gouv.fr), watch its "
    'page with system = "rdvsp" instead: no token needed'
)

# The API allows 30 requests a minute per address (slowapi `@limiter.limit("30/minute")`,
# key_func=get_remote_address); one check is one request, so a few targets share this.
HOST_BUDGETS: dict[str, HostBudget] = {API_HOST: HostBudget(per_minute=12, burst=3)}

# Query parameters, as the API names them.
PARAM_LONGITUDE = "longitude"
PARAM_LATITUDE = "latitude"
PARAM_START_DATE = "start_date"
PARAM_END_DATE = "end_date"
PARAM_RADIUS = "radius_km"
PARAM_REASON = "reason"
PARAM_DOCUMENTS = "documents_number"

# The answer: a JSON list of meeting points.
POINT_ID = "id"
POINT_NAME = "name"
POINT_CITY = "city_name"
POINT_ZIP = "zip_code"
POINT_ADDRESS = "public_entry_address"
POINT_DISTANCE = "distance_km"
POINT_WEBSITE = "website"
POINT_LOGO = "city_logo"  # read by nothing: listed so the whole answer is accounted for
POINT_SLOTS = "available_slots"
SLOT_DATETIME = "datetime"
SLOT_CALLBACK = "callback_url"
# Error envelopes: FastAPI's {"detail": …} and slowapi's {"error": …}.
ERROR_KEYS = ("detail", "error")

REASONS = ("CNI", "PASSPORT", "CNI-PASSPORT")  # Query(default="CNI", enum=[…])
# The router's `radius_km: int = Query(default=40, enum=[0.99, 5, 10, 15, 20, 25, 30])` and
# `if radius_km not in [0.99, 5, 10, 15, 20, 25, 30]: raise HTTPException(status_code=403,
# detail="radius_km value not allowed")`: 0.99 is not an int (422), its own default 40 is
# refused. The radii changed once (they were `enum=[20, 40, 60]`, unchecked), so a 403
# naming the radius is the target's setting to change, never the hub refusing creneau.
RADIUS_CHOICES_KM = (5, 10, 15, 20, 25, 30)
RADIUS_REFUSAL = "radius_km value not allowed"
# The hub takes any `documents_number: int = Query(default=1)` and hands it to each editor,
# which books that many people at once (RDV Service Public's editor_controller.rb:
# `motif.default_duration_in_min * users_count`). RDV Service Public's own search counts
# 1 to 6 pre-applications ("entre 1 et 6", AntsPreDemandesCountValidator; sources/rdvsp/
# ANTS_COUNT_MAX): a larger number asks for a slot its pages would not book.
MAX_DOCUMENTS = 6
MAX_DAYS = 180  # unconfirmed: the hub takes any start_date..end_date
# The hub (hubrdvmairie, Editor.get_available_time_slots) reads each editor's slot as
# "%Y-%m-%dT%H:%MZ" (a literal Z: RDV Service Public writes Paris wall-clock times that way),
# folds any numeric offset into the hours (`replace(tzinfo=None) + timedelta(hours=offset)`),
# compares the result with Paris time and writes it back with a literal "Z"; its response
# model then serves "+00:00". Should the API ever serve true UTC, set this
# to False: "Z" then converts like any offset.
ZERO_OFFSET_IS_PARIS_WALL_CLOCK = True
SLOT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
FACT_PREFIX = "meeting_point."
# How many of a meeting point's slots lie past the answer's first MAX_SLOTS_PER_PAGE, unread.
NOT_KEPT_PREFIX = "slots_not_kept:"
MAX_API_MESSAGE = 200


class Target(TargetBase):
    system: Literal["ants"] = "ants"
    url: str = Field(default=API_URL, description="the SlotsFromPosition endpoint")
    latitude: float = Field(description="where to search from, in decimal degrees")
    longitude: float = Field(description="where to search from, in decimal degrees")
    radius_km: int = Field(default=10, description="one of 5, 10, 15, 20, 25, 30")
    reason: str = Field(description="CNI, PASSPORT or CNI-PASSPORT")
    documents_number: int = Field(
        default=1, description=f"people applying together (1-{MAX_DOCUMENTS})"
    )
    days: int = Field(default=60, description="how many days ahead to look (1-180)")
    meeting_points: list[str] = Field(
        default_factory=list, description="meeting point ids to report; empty = all listed"
    )
    token: SecretStr | None = Field(
        default=None,
        validate_default=True,
        description=f'the {TOKEN_HEADER} the hub issued you, e.g. "${{ANTS_TOKEN}}"',
    )

    @field_validator("token")
    @classmethod
    def _token_given(cls, token: SecretStr | None) -> SecretStr:
        value = token.get_secret_value().strip() if token is not None else ""
        if not value:
            raise ValueError(f"is required: {TOKEN_NEEDED}")
        redact.register(value)  # however it arrived (--set, a file): never printed
        return SecretStr(value)

    @field_validator("url")
    @classmethod
    def _endpoint(cls, url: str) -> str:
        parts = urlsplit(url)
        if not parts.path.endswith(API_PATH) or parts.query or parts.fragment:
            raise ValueError(f'must be the API endpoint, e.g. "{API_URL}" (got "{url}")')
        return url

    @field_validator("latitude")
    @classmethod
    def _latitude(cls, value: float) -> float:
        return _within(value, -90, 90)

    @field_validator("longitude")
    @classmethod
    def _longitude(cls, value: float) -> float:
        return _within(value, -180, 180)

    @field_validator("radius_km")
    @classmethod
    def _radius(cls, value: int) -> int:
        if value not in RADIUS_CHOICES_KM:
            choices = ", ".join(str(km) for km in RADIUS_CHOICES_KM)
            raise ValueError(f"must be one of {choices} km: the API refuses others (got {value})")
        return value

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> str:
        reason = value.strip().upper() if isinstance(value, str) else value
        if reason not in REASONS:
            raise ValueError(f"must be one of {', '.join(REASONS)} (got {value!r})")
        return str(reason)

    @field_validator("documents_number")
    @classmethod
    def _documents(cls, value: int) -> int:
        if not 1 <= value <= MAX_DOCUMENTS:
            raise ValueError(f"must be between 1 and {MAX_DOCUMENTS} (got {value})")
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: int) -> int:
        if not 1 <= value <= MAX_DAYS:
            raise ValueError(f"must be between 1 and {MAX_DAYS} days (got {value})")
        return value

    @field_validator("meeting_points")
    @classmethod
    def _point_ids(cls, ids: list[str]) -> list[str]:
        cleaned = [point_id.strip() for point_id in ids]
        if any(not point_id for point_id in cleaned):
            raise ValueError("meeting point ids must not be empty")
        return cleaned


def _within(value: float, low: float, high: float) -> float:
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"must be between {low} and {high} (got {value})")
    return value


def query_params(target: Target, today: date) -> dict[str, str]:
    """The API's query for `target`, looking `target.days` ahead from `today`."""
    return {
        PARAM_LONGITUDE: repr(float(target.longitude)),
        PARAM_LATITUDE: repr(float(target.latitude)),
        PARAM_START_DATE: today.isoformat(),
        PARAM_END_DATE: (today + timedelta(days=target.days)).isoformat(),
        PARAM_RADIUS: str(target.radius_km),
        PARAM_REASON: target.reason,
        PARAM_DOCUMENTS: str(target.documents_number),
    }


# --- parsing: pure functions of a page ---------------------------------------------------


class ShapeError(ValueError):
    """The JSON is not the list of meeting points this module knows: `detail` says how."""

    def __init__(self, detail: Detail) -> None:
        super().__init__(str(detail))
        self.detail = detail


def parse_page(page: Page, target: Target | None = None) -> Reading:
    """Classify one answer of the API: meeting points and their slots, or why not. A 200 JSON
    list is read before anything else: slots seen win over any banner (a JSON answer has
    none; an HTML one is a front server's page)."""
    return _PageRead(page if page.is_json else status_from_error_title(page)[0]).reading()


class _PageRead(PageReading[Reading]):
    def __init__(self, page: Page) -> None:
        self.page = page

    def refusal(self) -> Reading | None:
        return _refusal(self.page) if self.page.status != 200 else None

    def slots(self) -> Reading | None:
        if not self.page.is_json:
            return None
        return self._answer if self._answer.slots else None

    def banner(self) -> Reading | None:
        if self.page.is_json or (failure := read_failure(self.page)) is None:
            return None
        return _with_rule(failure, "common.read_failure")

    def rest(self) -> Reading:
        if not self.page.is_json:
            detail = Detail("ants.not_json")
            return Reading("not-json", Status.UNKNOWN, detail, rule="Page.is_json")
        return self._answer

    @cached_property
    def _answer(self) -> Reading:
        return _answer_reading(self.page)


def _answer_reading(page: Page) -> Reading:
    """What a JSON answer says: its meeting points and their slots, or why not."""
    try:
        data = load_json(page.text)
    except NotJson:
        detail = Detail("ants.invalid_json")
        return Reading("unknown", Status.UNKNOWN, detail, rule="common.NotJson")
    if message := _api_message(data):
        detail = Detail("ants.api_error", message=message)
        return Reading("api-error", Status.UNKNOWN, detail, rule="ERROR_KEYS")
    try:
        points = read_meeting_points(data)
    except ShapeError as changed:
        detail = Detail("ants.shape", problem=changed.detail)
        return Reading("unknown", Status.UNKNOWN, detail, rule="ShapeError")
    return _reading(points)


def _with_rule(reading: Reading, rule: str) -> Reading:
    return Reading(reading.kind, reading.status, reading.detail, rule=rule)


def _refusal(page: Page) -> Reading:
    if refuses_the_radius(page):
        choices = tuple(str(km) for km in RADIUS_CHOICES_KM)
        radius = Detail("ants.radius_refused", refusal=RADIUS_REFUSAL, choices=choices)
        return Reading("radius-not-allowed", Status.ERROR, radius, rule="RADIUS_REFUSAL")
    reading = read_failure(page) or Reading(
        "unexpected-status", Status.UNKNOWN, Detail("ants.unexpected_status", status=page.status)
    )
    kind, detail, rule = reading.kind, reading.detail, "common.read_failure"
    if page.status == 401:
        kind, rule = "unauthorized", "HUB_REFUSAL"
        detail = Detail("ants.hub_refused", header=TOKEN_HEADER)
    if detail and page.is_json and (message := _api_message(_json_or_none(page.text))):
        detail = Detail("ants.with_message", detail=detail, message=message)
    return Reading(kind, reading.status, detail, rule=rule)


def refuses_the_radius(page: Page) -> bool:
    """The hub's 403 for a radius it does not offer: the target's setting, not a refusal."""
    return (
        page.status == 403
        and page.is_json
        and _api_message(_json_or_none(page.text)) == RADIUS_REFUSAL
    )


def refuses_the_target(page: Page) -> bool:
    """An answer that refuses the target's own settings (its radius, its token): the
    target's mistake to fix, which says nothing of the hub's health."""
    return page.status == 401 or refuses_the_radius(page)


def _json_or_none(text: str) -> Any:
    try:
        return load_json(text)
    except NotJson:
        return None


def _api_message(data: Any) -> str:
    """The message of an error envelope such as {"detail": "…"}, or "" (secrets masked)."""
    if not isinstance(data, dict):
        return ""
    for key in ERROR_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return redact.redact(" ".join(value.split())[:MAX_API_MESSAGE])
        if value:
            return redact.redact(json.dumps(value, ensure_ascii=False)[:MAX_API_MESSAGE])
    return ""


@dataclass(frozen=True)
class SlotSeen:
    """One slot of the answer, with where it was read and the mairie's page for it."""

    slot: Slot
    path: str  # e.g. $[0].available_slots[2]
    booking_url: str = ""


@dataclass(frozen=True)
class MeetingPoint:
    """One meeting point of the answer, as creneau reports it."""

    id: str
    name: str
    city: str = ""
    zip_code: str = ""
    address: str = ""
    website: str = ""
    distance_km: float | None = None
    seen: tuple[SlotSeen, ...] = ()  # by start time
    not_kept: int = 0  # its slots past the answer's first MAX_SLOTS_PER_PAGE, not read

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(entry.slot for entry in self.seen)

    @property
    def booking_urls(self) -> tuple[str, ...]:
        """The mairie's own pages for these slots."""
        return tuple(entry.booking_url for entry in self.seen if entry.booking_url)

    @property
    def label(self) -> str:
        if not self.city or fold(self.city) in fold(self.name):
            return self.name
        return f"{self.name} ({self.city})"

    @property
    def description(self) -> Detail:
        """Its free slots, distance, address and where to book, for the guichet's detail."""
        about: dict[str, str | int | float] = {}
        if self.distance_km is not None:
            about["distance_km"] = self.distance_km
        place = " ".join(part for part in (self.zip_code, self.city) if part)
        if where := ", ".join(part for part in (self.address, place) if part):
            about["where"] = where
        if self.booking_urls:
            about["booking"] = self.booking_urls[0]
        elif self.website:
            about["website"] = self.website
        return Detail("ants.point", slots=len(self.seen), **about)


def read_meeting_points(data: Any) -> list[MeetingPoint]:
    """The meeting points of a decoded answer; ShapeError when it is not the known shape.
    Unknown extra fields are ignored; optional fields of the wrong type count as absent.
    The answer's first MAX_SLOTS_PER_PAGE slots are read; the others only counted."""
    if not isinstance(data, list):
        raise ShapeError(Detail("ants.shape.not_a_list", got=_kind(data)))
    points: dict[str, MeetingPoint] = {}
    room = MAX_SLOTS_PER_PAGE
    for index, raw in enumerate(data):
        if not isinstance(raw, dict):
            where = Detail("ants.where.point_number", number=index + 1)
            raise ShapeError(Detail("ants.shape.not_object", where=where, got=_kind(raw)))
        point = _meeting_point(raw, index, room)
        room -= len(point.seen)
        earlier = points.get(point.id)
        points[point.id] = _merged(earlier, point) if earlier else point
    return list(points.values())


def _meeting_point(raw: dict[str, Any], index: int, room: int) -> MeetingPoint:
    point_id = _point_id(raw, index)
    point = MeetingPoint(
        id=point_id,
        name=_required_text(raw, POINT_NAME, Detail("ants.where.point", point=point_id)),
        city=_optional_text(raw, POINT_CITY),
        zip_code=_optional_text(raw, POINT_ZIP),
        address=_optional_text(raw, POINT_ADDRESS),
        website=_optional_text(raw, POINT_WEBSITE),
        distance_km=_optional_number(raw, POINT_DISTANCE),
    )
    entries = raw.get(POINT_SLOTS)
    if not isinstance(entries, list):
        where = Detail("ants.where.point", point=point.id)
        raise ShapeError(Detail("ants.shape.no_slot_list", where=where, key=POINT_SLOTS))
    seen = _slots(entries[: max(room, 0)], point, index)
    return replace(point, seen=seen, not_kept=max(len(entries) - max(room, 0), 0))


def _merged(earlier: MeetingPoint, again: MeetingPoint) -> MeetingPoint:
    """A meeting point listed twice stays one guichet, with the slots of both."""
    by_start = {entry.slot.start: entry for entry in again.seen}
    by_start.update({entry.slot.start: entry for entry in earlier.seen})
    seen = tuple(by_start[start] for start in sorted(by_start))
    return replace(earlier, seen=seen, not_kept=earlier.not_kept + again.not_kept)


def _point_id(raw: dict[str, Any], index: int) -> str:
    value = raw.get(POINT_ID)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    where = Detail("ants.where.point_number", number=index + 1)
    raise ShapeError(Detail("ants.shape.no_usable", where=where, key=POINT_ID))


def _required_text(raw: dict[str, Any], key: str, where: Detail) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ShapeError(Detail("ants.shape.no_usable", where=where, key=key))
    return " ".join(value.split())


def _optional_text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _optional_number(raw: dict[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _slots(entries: list[Any], point: MeetingPoint, index: int) -> tuple[SlotSeen, ...]:
    found: dict[datetime, SlotSeen] = {}
    for number, entry in enumerate(entries):
        where = Detail("ants.where.slot", point=point.id, number=number + 1)
        if not isinstance(entry, dict):
            raise ShapeError(Detail("ants.shape.not_object", where=where, got=_kind(entry)))
        start = slot_start(_required_text(entry, SLOT_DATETIME, where), where)
        callback = entry.get(SLOT_CALLBACK)
        slot = Slot(start, point.id, point.label, key=slot_key(point.id, start))
        path = f"$[{index}].{POINT_SLOTS}[{number}]"
        booking_url = callback.strip() if isinstance(callback, str) else ""
        found.setdefault(start, SlotSeen(slot, path, booking_url))
    return tuple(found[start] for start in sorted(found))


def slot_key(point_id: str, start: datetime) -> str:
    """Stable across checks: one slot per meeting point and start time."""
    return f"{point_id}@{start.isoformat()}"


def slot_start(text: str, where: Detail | str = "slot") -> datetime:
    """A slot's `datetime` as an aware Europe/Paris time (see the module docstring)."""
    if not SLOT_TIME.match(text):
        raise ShapeError(Detail("ants.shape.not_a_datetime", where=where, text=text[:40]))
    try:
        # A slot is a minute: the hub's test-mode editors (services/mock_data.py
        # get_mock_slots: `datetime.now().replace(hour=…, minute=…)`) keep the seconds and
        # microseconds of the moment they ran, which would make the same slot a new key.
        parsed = datetime.fromisoformat(text).replace(second=0, microsecond=0)
        offset = parsed.utcoffset()
        if offset is None or (offset == timedelta(0) and ZERO_OFFSET_IS_PARIS_WALL_CLOCK):
            return parsed.replace(tzinfo=SITE_ZONE)
        return parsed.astimezone(SITE_ZONE)
    except (ValueError, OverflowError):
        raise ShapeError(Detail("ants.shape.not_a_datetime", where=where, text=text[:40])) from None


def _kind(value: Any) -> Detail:
    if value is None:
        return Detail("ants.json.null")
    if isinstance(value, bool):
        return Detail("ants.json.boolean")
    if isinstance(value, dict):
        return Detail("ants.json.object")
    if isinstance(value, list):
        return Detail("ants.json.list")
    if isinstance(value, str):
        return Detail("ants.json.string")
    return Detail("ants.json.number")


def _reading(points: list[MeetingPoint]) -> Reading:
    seen = _with_booking_urls(
        sorted((entry for point in points for entry in point.seen), key=lambda e: e.slot)
    )
    choices = tuple(Choice(point.id, point.label, point.description) for point in points)
    # Kept with the check (English, as every fact): the guichet's detail is the choice's.
    facts = {f"{FACT_PREFIX}{point.id}": str(point.description) for point in points}
    not_kept = sum(point.not_kept for point in points)
    if seen:
        with_slots = sum(1 for point in points if point.seen)
        detail = Detail(
            "ants.free_slots", slots=len(seen), with_slots=with_slots, points=len(points)
        )
        if not_kept:
            detail = with_not_kept(detail, not_kept)
            facts |= {f"{NOT_KEPT_PREFIX}{p.id}": str(p.not_kept) for p in points if p.not_kept}
        return Reading(
            "slots",
            Status.AVAILABLE,
            detail,
            choices,
            tuple(entry.slot for entry in seen),
            facts=facts,
            rule="POINT_SLOTS",
            read_from=tuple(entry.path for entry in seen),
            slots_not_kept=not_kept,
        )
    if points:
        detail = Detail("ants.points_without_slot", points=len(points))
    else:
        detail = Detail("ants.no_point")
    return Reading("no-slot", Status.NONE, detail, choices, facts=facts, rule="POINT_SLOTS")


def _with_booking_urls(seen: list[SlotSeen]) -> list[SlotSeen]:
    """Each slot with its callback_url (the mairie's booking page), for alerts to link to;
    only the earliest MAX_BOOKING_URLS, so that a check listing hundreds of slots does not
    store hundreds of URLs."""
    kept: list[SlotSeen] = []
    linked = 0
    for entry in seen:
        if entry.booking_url and linked < MAX_BOOKING_URLS:
            linked += 1
            entry = replace(entry, slot=replace(entry.slot, booking_url=entry.booking_url))
        kept.append(entry)
    return kept


# --- the flow: one request -----------------------------------------------------------------

NOT_LISTED = Detail("ants.not_listed")


async def check(target: Target, session: Session) -> FlowOutcome:
    if target.token is None:  # the model refuses this; kept for objects built without it
        return FlowOutcome((), Status.ERROR, Detail("ants.no_token", header=TOKEN_HEADER))
    headers = {TOKEN_HEADER: target.token.get_secret_value()}
    params = query_params(target, paris_today())
    session.configuration_error = refuses_the_target
    page = await session.get(target.url, params=params, headers=headers)
    reading = await parsed(parse_page, page)  # the target (its token) stays here
    # A parse in a process of its own knows no secret: mask the hub's words here.
    reading = replace(reading, detail=redacted(reading.detail))
    if reading.status not in (Status.AVAILABLE, Status.NONE):
        status = reading.status or Status.UNKNOWN
        mistake = refuses_the_target(page)
        return FlowOutcome((), status, reading.detail, page, config_error=mistake)
    guichets = guichets_of(reading, target.meeting_points)
    not_kept = sum(_not_kept(reading, guichet.id) for guichet in guichets)
    status = overall_status([g.status for g in guichets]) if guichets else Status.NONE
    detail = reading.detail
    if target.meeting_points:
        free = sum(len(g.slots) for g in guichets)
        detail = Detail("ants.watched", slots=free, points=len(guichets))
    facts = {key: value for key, value in reading.facts.items() if _about(key, guichets)}
    # The API lists only meeting points with free slots: one missing has none.
    return FlowOutcome(
        guichets, status, detail, page, facts, complete=True, slots_not_kept=not_kept
    )


def _about(fact: str, guichets: tuple[GuichetResult, ...]) -> bool:
    return any(fact == f"{FACT_PREFIX}{guichet.id}" for guichet in guichets)


def paris_today() -> date:
    return datetime.now(SITE_ZONE).date()


def guichets_of(reading: Reading, wanted: list[str]) -> tuple[GuichetResult, ...]:
    """One guichet per meeting point listed (or per id in `wanted`, when given)."""
    listed = {choice.id: choice for choice in reading.choices}
    guichets = []
    for point_id in wanted or list(listed):
        choice = listed.get(point_id)
        if choice is None:
            guichets.append(GuichetResult(point_id, point_id, Status.NONE, detail=NOT_LISTED))
            continue
        slots = tuple(slot for slot in reading.slots if slot.guichet_id == point_id)
        not_kept = _not_kept(reading, point_id)
        status = Status.AVAILABLE if slots or not_kept else Status.NONE
        until = CUT_SHORT if not_kept else None  # its list says nothing of what went
        guichets.append(GuichetResult(point_id, choice.label, status, slots, choice.about, until))
    return tuple(guichets)


def _not_kept(reading: Reading, point_id: str) -> int:
    return int(reading.facts.get(f"{NOT_KEPT_PREFIX}{point_id}", "0"))
