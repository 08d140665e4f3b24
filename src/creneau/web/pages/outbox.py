"""The outbox (`/outbox`): alerts waiting, failed or expired, and those sent in the last
24 hours, each with its channel (its name and URL scheme: never the URL), its attempts and
its last error (secrets masked), and a button that sends a waiting, failed or expired alert
again now (`POST /outbox/<id>/retry`, with the page's CSRF token)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from creneau.alerts.channels import Channel
from creneau.alerts.messages import Messages
from creneau.details import render
from creneau.store import NotificationRecord
from creneau.store import dashboard as queries
from creneau.usecases.outbox import NotRetriable, retry_alert
from creneau.web.context import WebContext
from creneau.web.pages.common import page, root_of, shown
from creneau.web.pages.texts import OUTBOX_STATES, short_moment

SENT_SINCE = timedelta(hours=24)
ROWS_SHOWN = 200
RETRIABLE = ("pending", "failed", "expired")
QUIET_HOURS = {"fr": " (heures calmes du canal)", "en": " (the channel's quiet hours)"}


@dataclass(frozen=True)
class AlertLine:
    id: int
    created: str
    state: str
    state_word: str
    target: str
    title: str
    channel: str  # "name (scheme://)"
    attempts: int
    next_try: str
    sent: str
    error: str
    retry: bool


@dataclass(frozen=True)
class OutboxPage:
    unsent: tuple[AlertLine, ...]
    sent: tuple[AlertLine, ...]
    counts: str
    notice: str


def alert_line(
    row: NotificationRecord, messages: Messages, now: datetime, zone: ZoneInfo, language: str
) -> AlertLine:
    scheme = row.url_label.split("://", 1)[0]
    return AlertLine(
        id=row.id,
        created=short_moment(row.created_at, now, zone, language),
        state=row.state,
        state_word=OUTBOX_STATES[language].get(row.state, row.state)
        + (QUIET_HOURS[language] if row.held and row.state == "pending" else ""),
        target=shown(row.target, 100),
        title=shown(title_of(row.payload, row.kind, messages)),
        channel=shown(f"{row.channel} ({scheme}://)", 100),
        attempts=row.attempts,
        next_try=short_moment(row.next_attempt_at, now, zone, language)
        if row.state == "pending"
        else "",
        sent=short_moment(row.sent_at, now, zone, language) if row.sent_at else "",
        error=shown(render(row.said_error, language, zone), 300),
        retry=row.state in RETRIABLE,
    )


def title_of(payload: Mapping[str, Any], kind: str, messages: Messages) -> str:
    """The alert's title as it is sent; its kind when the row cannot be rendered (a row
    written by another version, a template override that fails on it)."""
    if "event" not in payload:
        return kind
    try:
        return messages.render([payload], Channel(format="text")).title
    except Exception:  # one odd row must not take the page down
        return kind


def counts_text(counts: Mapping[str, int], language: str) -> str:
    words = OUTBOX_STATES[language]
    return " · ".join(f"{words[state]} {counts.get(state, 0)}" for state in RETRIABLE)


def notice_of(request: Request, language: str) -> str:
    """What the last retry did, from the query the redirect carries."""
    for key in ("retried", "missing"):
        value = request.query_params.get(key, "")
        if value.isdigit():
            number = int(value)
            if key == "retried":
                return (
                    f"L'alerte {number} part maintenant."
                    if language == "fr"
                    else f"Alert {number} is due now."
                )
            return (
                f"Aucune alerte {number} en attente, en échec ou expirée."
                if language == "fr"
                else f"No alert {number} waiting, failed or expired."
            )
    return ""


def routes(context: WebContext) -> list[BaseRoute]:
    settings = context.config.creneau
    messages = Messages(settings.language, settings.zone, context.config.templates)
    return [
        Route("/outbox", partial(outbox, context, messages), methods=["GET"]),
        Route("/outbox/{id:int}/retry", partial(retry, context), methods=["POST"]),
    ]


async def outbox(context: WebContext, messages: Messages, request: Request) -> Response:
    """/outbox: what waits, failed or expired, and what went lately."""
    now = context.now()
    found = await context.db(queries.outbox, context.store, now - SENT_SINCE, ROWS_SHOWN)
    zone, language = messages.zone, messages.language
    shown_page = OutboxPage(
        unsent=tuple(alert_line(row, messages, now, zone, language) for row in found.unsent),
        sent=tuple(alert_line(row, messages, now, zone, language) for row in found.sent),
        counts=counts_text(found.counts, language),
        notice=notice_of(request, language),
    )
    return page(request, context, "outbox.html", page=shown_page)


async def retry(context: WebContext, request: Request) -> Response:
    """POST /outbox/<id>/retry: the alert due now, then the outbox saying so."""
    number = request.path_params["id"]
    live = context.live
    wake = live.wake_sender if live is not None else None
    try:
        await retry_alert(context.store, number, context.now(), db=context.db, wake_sender=wake)
    except NotRetriable:
        outcome = "missing"
    else:
        outcome = "retried"
    return RedirectResponse(f"{root_of(request)}/outbox?{outcome}={number}", status_code=303)
