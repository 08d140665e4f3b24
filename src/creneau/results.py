"""What one check of one target found: the status taxonomy, guichets and slots."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from creneau.details import Detail, Said, redacted, render
from creneau.expected import SAID_LIMIT
from creneau.redact import public_link

if TYPE_CHECKING:
    from datetime import tzinfo

    from creneau.page import Page


class Status(StrEnum):
    AVAILABLE = "available"  # at least one free slot
    NONE = "none"  # the page says there is no slot
    BLOCKED = "blocked"  # 403, 429, robots.txt disallows, host cooling down after a block
    OVERLOADED = "overloaded"  # 5xx, "Service surchargé"
    CLOSED = "closed"  # booking not open, maintenance
    CAPTCHA = "captcha"  # a human must act
    ERROR = "error"  # network, timeout, redirect loop, oversized body
    UNKNOWN = "unknown"  # a page we do not recognise: the layout changed


# When guichets disagree, the overall status is the first of these that any guichet has.
# "none" comes last: it is only the overall status when every guichet said so.
_SEVERITY = [
    Status.AVAILABLE,
    Status.BLOCKED,
    Status.OVERLOADED,
    Status.CAPTCHA,
    Status.CLOSED,
    Status.ERROR,
    Status.UNKNOWN,
    Status.NONE,
]


def overall_status(statuses: list[Status]) -> Status:
    """Combine guichet statuses; an empty list means nothing was recognised."""
    if not statuses:
        return Status.UNKNOWN
    present = set(statuses)
    return next(status for status in _SEVERITY if status in present)


# A slot a page shows without a time creneau can read (an html target) is still a slot: a
# missed alert is the one mistake that matters. But a Slot needs a start, and the diff knows a
# slot by (guichet_id, start), so its start is a stand-in: a second of January 1970 picked from
# a hash of the element's text and rank, so that the same element seen again keeps its start
# and two elements never share one. Being in the past, a stand-in passes every "only slots
# before/within" filter: the user is told. Its guichet label and key carry the page's text.
UNREADABLE_TIME_BASE = datetime(1970, 1, 1, tzinfo=UTC)
UNREADABLE_TIME_SPREAD = timedelta(days=28)


def unreadable_time_stand_in(identity: str) -> datetime:
    """The stand-in start for an element of this identity (its guichet, text and rank)."""
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).digest()
    seconds = int.from_bytes(digest[:8], "big") % int(UNREADABLE_TIME_SPREAD.total_seconds())
    return UNREADABLE_TIME_BASE + timedelta(seconds=seconds)


# As facts are shown (`creneau parse --json`) and stored: a slot's own page, by its key, the
# challenge a page asks for, and how many slots the pages showed beyond what is read. Typed on
# the readings and results (`Slot.booking_url`, `challenge`, `slots_not_kept`).
BOOKING_URL_FACT = "booking_url:"
CHALLENGE_FACT = "challenge"
SLOTS_NOT_KEPT_FACT = "slots_not_kept"
# At most this many slots' own pages are shown and stored with a reading, the earliest first.
MAX_BOOKING_URLS = 100


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # tz-aware, in the booking site's time zone
    guichet_id: str
    guichet: str
    key: str  # the site's own identifier for the slot (the epoch of a booking grid's link)
    # The slot's own page, where the site gives one (the ANTS hub: the mairie's); "" = the
    # target's page. Not part of the slot's identity.
    booking_url: str = field(default="", compare=False)

    @property
    def time_known(self) -> bool:
        """False for a stand-in start (see UNREADABLE_TIME_BASE)."""
        return self.start >= UNREADABLE_TIME_BASE + UNREADABLE_TIME_SPREAD + timedelta(days=1)

    def to_json(self) -> dict[str, Any]:
        return {
            "guichet": self.guichet,
            "guichet_id": self.guichet_id,
            "start": self.start.isoformat(),
            "key": self.key,
            "time_known": self.time_known,
        }


@dataclass(frozen=True)
class ReleaseAnnouncement:
    """What a site announces of when it puts slots online: when it last did (and the first
    week it then opened), and when it will next; `next_said`, the sentence the page shows
    for the next one, as the site wrote it ("" when the page's state alone says it)."""

    last_at: datetime | None = None
    last_week: date | None = None
    next_at: datetime | None = None
    next_week: date | None = None
    next_said: str = ""

    def as_facts(self) -> dict[str, str]:
        """As a check's facts store it: last_release_at, last_release_week, next_release_at,
        next_release_week (ISO; a week only with its instant), next_release_said (the site's
        sentence, with its instant)."""
        facts: dict[str, str] = {}
        for name, at, week in (
            ("last_release", self.last_at, self.last_week),
            ("next_release", self.next_at, self.next_week),
        ):
            if at is None:
                continue
            facts[f"{name}_at"] = at.isoformat()
            if week is not None:
                facts[f"{name}_week"] = week.isoformat()
        if self.next_at is not None and self.next_said:
            facts[NEXT_SAID_FACT] = self.next_said
        return facts

    @classmethod
    def from_facts(cls, facts: Mapping[str, Any]) -> ReleaseAnnouncement | None:
        """What `as_facts` wrote, read back; a part written wrong (another version's, a
        hand-edited row) is left out; None when nothing is left."""
        last_at, last_week = _release_fact(facts, "last_release")
        next_at, next_week = _release_fact(facts, "next_release")
        if last_at is None and next_at is None:
            return None
        said = facts.get(NEXT_SAID_FACT) if next_at is not None else None
        return cls(last_at, last_week, next_at, next_week, said_as_kept(said))


NEXT_SAID_FACT = "next_release_said"


def said_as_kept(said: object) -> str:
    """A sentence of a site as it is kept: whitespace collapsed, at most SAID_LIMIT
    characters ("" for anything but text)."""
    if not isinstance(said, str):
        return ""
    text = " ".join(said.split())
    return text if len(text) <= SAID_LIMIT else text[: SAID_LIMIT - 1].rstrip() + "…"


def _release_fact(facts: Mapping[str, Any], name: str) -> tuple[datetime | None, date | None]:
    """An instant and its week as `ReleaseAnnouncement.as_facts` writes them; (None, None)
    when the instant is missing or unreadable (a week alone means nothing)."""
    try:
        at = datetime.fromisoformat(facts[f"{name}_at"])
    except (KeyError, TypeError, ValueError):
        return None, None
    if at.tzinfo is None:  # as_facts writes aware instants: a naive one is not ours
        return None, None
    try:
        week = date.fromisoformat(facts[f"{name}_week"]) if f"{name}_week" in facts else None
    except (TypeError, ValueError):
        week = None
    return at, week


@dataclass(frozen=True)
class GuichetResult:
    id: str
    label: str
    status: Status
    slots: tuple[Slot, ...] = ()
    detail: Detail | None = None
    # The answer covers slots before this instant only (a calendar read for some weeks): a
    # slot seen earlier at a later time is neither confirmed nor gone. None: all of them.
    read_until: datetime | None = None

    def to_json(self, language: str = "en", zone: tzinfo = UTC) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "status": self.status.value,
            "detail": render(self.detail, language, zone),
            "slots": [slot.to_json() for slot in self.slots],
        }


class SiteCookie(TypedDict):
    """A cookie of a site session kept between checks, and where it may go back: the domain
    the cookie jar recorded (the host that set it, or ".example.org" when the site named a
    domain), its path, and whether it goes over HTTPS only."""

    name: str
    value: str
    domain: str  # "": kept before cookies carried their host; sent to the target's host only
    path: str
    secure: bool


SiteSession: TypeAlias = list[SiteCookie]


def site_session_of(stored: object) -> SiteSession:
    """A site session as the store keeps it (JSON). One kept by an older version is an
    object of names and values: its cookies come back without a domain."""
    if isinstance(stored, Mapping):
        return [_site_cookie({"name": name, "value": value}) for name, value in stored.items()]
    if not isinstance(stored, list):
        return []
    return [_site_cookie(each) for each in stored if isinstance(each, Mapping) and each.get("name")]


def _site_cookie(fields: Mapping[str, Any]) -> SiteCookie:
    return SiteCookie(
        name=str(fields["name"]),
        value=str(fields.get("value") or ""),
        domain=str(fields.get("domain") or ""),
        path=str(fields.get("path") or "/"),
        secure=bool(fields.get("secure")),
    )


@dataclass(frozen=True)
class CheckResult:
    target: str
    system: str
    url: str
    status: Status
    checked_at: datetime  # tz-aware UTC, when the check started
    duration_ms: int = 0
    http_status: int | None = None
    detail: Said = None  # a str: an older record's text, shown as it is
    guichets: tuple[GuichetResult, ...] = ()
    page_sha256: str | None = None
    requests: int = 0
    next_attempt_at: datetime | None = None  # set when the host asked us to wait
    facts: dict[str, str] = field(default_factory=dict)  # what the site said besides slots
    # The challenge the site asks for instead of its slots (Status.CAPTCHA): "image", one a
    # person solves through creneau, or one only a browser passes ("recaptcha", "turnstile"…).
    challenge: str = ""
    releases: ReleaseAnnouncement | None = None  # what the site announced of its releases
    slots_not_kept: int = 0  # slots its pages showed beyond what is read (sources' cap)
    complete: bool = False  # the answer lists every guichet that has slots
    site_session: SiteSession | None = None  # cookies to keep, for sources that keep them
    site_session_used: SiteSession | None = None  # the cookies the check started with
    page: Page | None = field(default=None, repr=False, compare=False)  # the decisive page
    pages: tuple[Page, ...] = field(default=(), repr=False, compare=False)  # all, in order

    @property
    def slots(self) -> list[Slot]:
        return sorted(slot for guichet in self.guichets for slot in guichet.slots)

    def to_json(self, language: str = "en", zone: tzinfo = UTC) -> dict[str, Any]:
        """What may be shown of the check (`creneau check --json`, the API): the target's
        public link (`public_link`: no credentials, no secret); `detail` redacted, in
        `language` (its instants in `zone`), with the code and parameters it is rendered
        from (null for an older record, which holds the text only)."""
        shown = redacted(self.detail)
        coded = shown.to_json() if isinstance(shown, Detail) else None
        return {
            "target": self.target,
            "system": self.system,
            "url": public_link(self.url),
            "status": self.status.value,
            "http_status": self.http_status,
            "checked_at": self.checked_at.isoformat(),
            "duration_ms": self.duration_ms,
            "detail": render(shown, language, zone),
            "detail_code": coded["code"] if coded else None,
            "detail_params": coded["params"] if coded else None,
            "guichets": [guichet.to_json(language, zone) for guichet in self.guichets],
            "slots": [slot.to_json() for slot in self.slots],
        }


def as_facts(
    facts: Mapping[str, str],
    slots: Iterable[Slot],
    challenge: str,
    releases: ReleaseAnnouncement | None = None,
    slots_not_kept: int = 0,
) -> dict[str, str]:
    """What the site said besides slots, as it is shown and stored: its release
    announcements, `facts`, each slot's own page (BOOKING_URL_FACT + its key; the first
    MAX_BOOKING_URLS), the challenge and the count of slots not read."""
    with_url = [slot for slot in slots if slot.booking_url][:MAX_BOOKING_URLS]
    shown = {**(releases.as_facts() if releases else {}), **facts}
    shown |= {BOOKING_URL_FACT + slot.key: slot.booking_url for slot in with_url}
    shown |= {CHALLENGE_FACT: challenge} if challenge else {}
    return shown | ({SLOTS_NOT_KEPT_FACT: str(slots_not_kept)} if slots_not_kept else {})
