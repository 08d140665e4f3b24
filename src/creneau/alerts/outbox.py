"""What to tell whom: turns what a check found into outbox events, and routes each to the
channel URLs that take its kind (slots, trouble, heartbeat, release_announced). Pure: the
store writes the events in the check's own transaction; `messages.py` renders them when they
are sent. An event holds no secret: links lose their credentials, and every string passes
through `redact`."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from creneau.alert_kinds import RELEASE_ANNOUNCED, TAKEN_BY_DEFAULT, Destination, OutboxEvent
from creneau.changes import HYSTERESIS, AnnouncementChange
from creneau.config import Config
from creneau.detail_texts import Code
from creneau.details import Detail, Said
from creneau.expected import Announcement, Outcome
from creneau.fetch.politeness import HostTransition
from creneau.redact import booking_link, public_link, redact
from creneau.results import CheckResult, Slot, Status
from creneau.sources import search_page

PERSON_NEEDED = {Status.CAPTCHA: "captcha", Status.UNKNOWN: "page_changed"}
NO_CLEAR_ANSWER = (
    Status.BLOCKED,
    Status.OVERLOADED,
    Status.CLOSED,
    Status.ERROR,
    Status.UNKNOWN,
    Status.CAPTCHA,
)
ALERT_AT_MOST_EVERY = timedelta(hours=1)
MAX_LINK = 2000
_USERINFO = re.compile(r"(?<=://)[^/?#@\s]*@")


@dataclass(frozen=True)
class Routing:
    """Where a target's alerts go, and which of its slots are worth one."""

    zone: ZoneInfo
    destinations: Sequence[Destination] = ()  # the target's channels
    host_destinations: Sequence[Destination] = ()  # channels of every target on its host
    before: date | None = None  # only slots before this day alert
    within: timedelta | None = None  # only slots within this time from the check alert
    on_gone: bool = False  # also tell when slots go, and how long they lasted
    failing_after: timedelta | None = None  # tell once when no clear answer came for this long
    hysteresis: timedelta = HYSTERESIS  # a slot back within this is not new again

    def worth_alerting(self, slot: Slot, checked_at: datetime) -> bool:
        if self.before and slot.start.astimezone(self.zone).date() >= self.before:
            return False
        return not (self.within and slot.start > checked_at + self.within)


def page_link(result: CheckResult) -> str:
    """Where a person books for this target: its page, or the system's own search page when
    the target is an API."""
    return public_link(search_page(result.system) or result.url)


def shown_target(name: str) -> str:
    """A target's name as an alert shows it (an ad-hoc check is named by its URL)."""
    return public_link(name) if "://" in name else redact(name)


def slot_event(slot: Slot, lasted: float | None = None, booking_url: str = "") -> dict[str, Any]:
    event: dict[str, Any] = scrubbed(slot.to_json())
    event["time_known"] = slot.time_known
    if link := booking_link(booking_url):
        event["booking_url"] = link
    if lasted is not None:
        event["lasted"] = lasted
    return event


def new_slots(result: CheckResult, slots: Sequence[Slot]) -> OutboxEvent:
    """One event per target per check: the slots that appeared, where and when, each with
    the page where it is booked when the site gave one; and how many more the page showed
    than creneau reads (MAX_SLOTS_PER_PAGE), when it did."""
    event: dict[str, Any] = {
        "event": "new_slots",
        "target": shown_target(result.target),
        "system": result.system,
        "url": page_link(result),
        "slots": [slot_event(slot, booking_url=slot.booking_url) for slot in sorted(slots)],
    }
    if not_kept := result.slots_not_kept:
        event["not_kept"] = not_kept
    return OutboxEvent(result.target, "slots", event)


def slots_gone(result: CheckResult, gone: Sequence[tuple[Slot, float]]) -> OutboxEvent:
    return OutboxEvent(
        result.target,
        "slots",
        {
            "event": "slots_gone",
            "target": shown_target(result.target),
            "system": result.system,
            "url": page_link(result),
            "slots": [slot_event(slot, lasted) for slot, lasted in sorted(gone)],
        },
    )


def scrubbed(value: Any) -> Any:
    """Every string of a payload with the registered secrets masked, and the credentials
    of any address in it (a detail may quote the URL) left out."""
    if isinstance(value, str):
        return redact(_USERINFO.sub("", value))
    if isinstance(value, dict):
        return {key: scrubbed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrubbed(item) for item in value]
    return value


def said_json(said: Said) -> Any:
    """A detail as an event carries it: its code and parameters (rendered when the message
    is, in its language: `details.from_payload`), or an older record's text."""
    return said.to_json() if isinstance(said, Detail) else (said or "")


def host_event(transition: HostTransition) -> OutboxEvent:
    """One alert when a host starts refusing or failing, one when it answers again."""
    return OutboxEvent(
        "",
        "trouble",
        {
            "event": "host_down" if transition.kind == "down" else "host_up",
            "host": transition.host,
            "status": transition.status.value,
            "reason": scrubbed(said_json(transition.reason)),
            "until": transition.until.isoformat() if transition.until else None,
        },
    )


def person_alert_due(
    previous: str | None, previous_at: datetime | None, state: str | None, now: datetime
) -> bool:
    """Alert when a target enters a state that needs a person (a CAPTCHA, a page that
    changed, a long failure), once per state change, never more than once an hour."""
    if state is None or previous == state:
        return False
    return previous_at is None or now - previous_at >= ALERT_AT_MOST_EVERY


def trouble_state(
    result: CheckResult, failing_since: datetime | None, failing_after: timedelta | None
) -> str | None:
    """The state a person should hear of, or None: a clear answer clears it."""
    if result.status in PERSON_NEEDED:
        return PERSON_NEEDED[result.status]
    if (
        failing_after
        and failing_since
        and result.status in NO_CLEAR_ANSWER
        and result.checked_at - failing_since >= failing_after
    ):
        return "failing"
    return None


def trouble_event(
    result: CheckResult, state: str, saved_page: str | None, failing_since: datetime | None
) -> OutboxEvent:
    event: dict[str, Any] = {
        "event": state,
        "target": shown_target(result.target),
        "system": result.system,
        "url": page_link(result),
        "status": result.status.value,
        "detail": said_json(result.detail),
        "saved_page": saved_page,
    }
    if state == "captcha":  # image: a person passes it through creneau; others: a browser
        event["challenge"] = result.challenge
    if state == "failing" and failing_since:
        event["since"] = failing_since.isoformat()
    return OutboxEvent(result.target, "trouble", scrubbed(event))


def heartbeat_event(since: datetime, lines: Sequence[dict[str, Any]]) -> OutboxEvent:
    return OutboxEvent(
        "",
        "heartbeat",
        {
            "event": "heartbeat",
            "since": since.isoformat(),
            "checks": sum(line["checks"] for line in lines),
            "targets": list(lines),
        },
    )


def prepare_event(
    target: str, system: str, url: str, at: datetime, solve_before: datetime
) -> OutboxEvent:
    """Before a release the site announced at `at`, for a target whose checks need a
    person's CAPTCHA session: solve it before `solve_before` (the message links to the
    dashboard's CAPTCHA page, as the captcha alert does)."""
    event = {
        "event": "prepare_captcha",
        "target": shown_target(target),
        "system": system,
        "url": public_link(search_page(system) or url),
        "at": at.isoformat(),
        "solve_before": solve_before.isoformat(),
    }
    return OutboxEvent(target, "trouble", scrubbed(event))


def release_event(
    result: CheckResult, name: str, now: Announcement, before: Announcement | None = None
) -> OutboxEvent:
    """`release_announced` (the site announces `now`), `release_changed` (`now` instead of
    `before`) or `release_withdrawn` (`now` is no longer announced). The first two carry the
    site's sentence (`said`) when a page showed one."""
    event: dict[str, Any] = {
        "event": name,
        "target": shown_target(result.target),
        "system": result.system,
        "url": page_link(result),
        "at": now.at.isoformat(),
        "week": now.week.isoformat() if now.week else None,
    }
    if before is not None:
        event["before"] = before.at.isoformat()
    if now.said and name != "release_withdrawn":  # the site's own words, quoted as page text
        event["said"] = now.said
    return OutboxEvent(result.target, RELEASE_ANNOUNCED, scrubbed(event))


def release_events(
    result: CheckResult,
    change: AnnouncementChange,
    destinations: Sequence[Destination],
    told: set[tuple[str, str]],
) -> list[tuple[OutboxEvent, list[Destination]]]:
    """What to tell of a check's change to the announced release, and to whom: a new
    announcement to every channel that takes the kind; a changed one as a change where the
    earlier one was told (channel, URL key in `told`), as new elsewhere; a withdrawn one only
    where it was told. A release or a passed instant says nothing here (slots alert)."""
    was_told = [d for d in destinations if (d.channel, d.key) in told]
    not_told = [d for d in destinations if (d.channel, d.key) not in told]
    previous, started = change.previous, change.started
    if change.ended == "withdrawn" and previous is not None:
        return [(release_event(result, "release_withdrawn", previous), was_told)]
    if started is None:
        return []
    if change.ended == "changed" and previous is not None:
        return [
            (release_event(result, "release_changed", started, previous), was_told),
            (release_event(result, "release_announced", started), not_told),
        ]
    return [(release_event(result, "release_announced", started), list(destinations))]


WITHDRAWN_BECAUSE: dict[Outcome, Code] = {
    "changed": "outbox.withdrawn_release_changed",
    "withdrawn": "outbox.withdrawn_release_withdrawn",
    "released": "outbox.withdrawn_release_passed",
    "no_slots": "outbox.withdrawn_release_passed",
}


def release_alerts_withdrawn(ended: Announcement, outcome: Outcome) -> Detail:
    """Why the release alerts of an announcement that ended before they went are not sent."""
    code = WITHDRAWN_BECAUSE.get(outcome, "outbox.withdrawn_release_passed")
    return Detail(code, target=shown_target(ended.target), at=ended.at)


def destinations(
    channels: Sequence[tuple[str, Sequence[str]]],
    kinds: Mapping[str, frozenset[str]] | None = None,
) -> list[Destination]:
    """(channel name, its URLs) pairs → one destination per URL."""
    kinds = kinds or {}
    return [
        Destination(name, url, kinds.get(name, TAKEN_BY_DEFAULT))
        for name, urls in channels
        for url in urls
    ]


def routes(config: Config) -> dict[str, Routing]:
    """Each target's routing: its own channels, and for host-wide news (a site that blocks
    or recovers) the channels of every target on the same host, each URL once."""
    kinds = {channel.name: frozenset(channel.kinds) for channel in config.notify}
    own = {
        target.name: destinations(
            [(c.name, c.secret_urls) for c in config.channels_for(target)], kinds
        )
        for target in config.targets
    }
    by_host: dict[str, dict[str, Destination]] = defaultdict(dict)
    for target in config.targets:
        for destination in own[target.name]:
            by_host[target.host][destination.key] = destination
    settings = config.creneau
    return {
        target.name: Routing(
            settings.zone,
            own[target.name],
            list(by_host[target.host].values()),
            before=target.before,
            within=target.within,
            on_gone=target.on_gone,
            failing_after=settings.failing_after,
        )
        for target in config.targets
    }


def quiet_until(now: datetime, start: time, end: time, zone: ZoneInfo) -> datetime | None:
    """When quiet hours (a daily local range, maybe past midnight) end, if `now` is in them."""
    local = now.astimezone(zone)
    today = local.date()
    for day in (today - timedelta(days=1), today):
        begins = datetime.combine(day, start, tzinfo=zone)
        ends = datetime.combine(day if end > start else day + timedelta(days=1), end, tzinfo=zone)
        if begins <= local < ends:
            return ends
    return None
