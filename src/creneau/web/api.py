"""`/api/v1`: what the command line prints with `--json`, as JSON over HTTP.

- `/api/v1/targets`: a list with one object per configured target, in the config's order,
  shaped as `creneau check --json` prints a check, from the target's last recorded check,
  and `next_release`: the release expected next (`ExpectedRelease.to_json`, and for one the
  site announced `burst`, what the checks placed at it cost the host's budget:
  `BurstCost.to_json`), or null; `/api/v1/targets/<name>` one of them (404 for a name the
  config does not have). A target never checked has the same keys, with `status`,
  `checked_at`, `http_status` and `duration_ms` null.
- `/api/v1/releases`: a list of the objects `creneau history releases --json` prints, for the
  same `since`, `until`, `target` and `guichet` query parameters (a day or an ISO 8601
  moment, in the configured time zone).

The store keeps a check's overall answer and the slots it showed, not each guichet's answer:
`guichets` lists the guichets that showed slots (each `available`), and a guichet that said
"no slot" is only in `detail`, written in the configured language and time zone; beside it,
`detail_code` and `detail_params` say what it is written from (creneau.detail_texts; null for
a check recorded before details had codes). The target's URL goes out as
`CheckResult.to_json` shows it, as for `creneau check --json`: without a credential or a
secret.

With `[web] api_token` set, every call needs `Authorization: Bearer <api_token>` (401 and a
WWW-Authenticate header otherwise); without one, the API is as protected as the dashboard
(a logged-in session when a password is set). `refused` is that check, for /metrics too."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from creneau.dates import OutOfRange, moment_from_text
from creneau.results import CheckResult, GuichetResult, Slot, Status
from creneau.sources.common import SITE_ZONE
from creneau.store import STORE_FAILURES, CheckRecord, SlotRecord
from creneau.store import metrics as queries
from creneau.web.context import WebContext
from creneau.web.security import STRONG_TOKEN_LENGTH, client_key, tokens_match

if TYPE_CHECKING:
    from pydantic import SecretStr

    from creneau.history import Scope
    from creneau.targets import TargetBase

NEVER_CHECKED = ("status", "checked_at", "http_status", "duration_ms")  # null then
NO_CHECK = datetime.fromtimestamp(0, UTC)


# --- who may call ---------------------------------------------------------------------------------


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def refused(
    request: Request, context: WebContext, token: SecretStr | None, *, json: bool = True
) -> Response | None:
    """None when the caller may read: it gives the token when one is configured, else it
    has what the dashboard asks (a logged-in session when a password is set). Otherwise the
    answer to send: 401, or 429 after too many wrong tokens from one client for this token
    (a limit of its own: failed logins never stop a scraper). The right token is let in
    even then when it is long enough not to be guessed (STRONG_TOKEN_LENGTH)."""
    if token is None:
        if not context.login_required or request.state.session is not None:
            return None
        return _unauthorized("log in to the dashboard first", json)
    given, expected = bearer(request), token.get_secret_value()
    if given is None:
        return _unauthorized("missing or wrong bearer token", json)
    if len(expected) >= STRONG_TOKEN_LENGTH and tokens_match(given, expected):
        return None
    limiter = context.token_limiter
    # Per token: guessing the API's token does not stop the metrics' scraper.
    realm = hashlib.sha256(expected.encode()).hexdigest()[:16]
    client = f"{client_key(request.client.host if request.client else None)} {realm}"
    if not limiter.reserve(client):
        seconds = str(limiter.retry_after(client))
        return _answer(
            f"too many wrong tokens: try again in {seconds} s", 429, json, {"retry-after": seconds}
        )
    if tokens_match(given, expected):
        limiter.give_back(client)
        return None
    return _unauthorized("missing or wrong bearer token", json)


def _unauthorized(why: str, json: bool) -> Response:
    return _answer(why, 401, json, {"www-authenticate": 'Bearer realm="creneau"'})


def _answer(why: str, status: int, json: bool, headers: dict[str, str]) -> Response:
    if json:
        return JSONResponse({"error": why}, status_code=status, headers=headers)
    return PlainTextResponse(why, status_code=status, headers=headers)


# --- the shapes -----------------------------------------------------------------------------------


def slot_zone(target: TargetBase) -> ZoneInfo:
    """The zone the target's site gives its slots in (as a check shows their starts)."""
    zone = getattr(target, "zone", None)
    return zone if isinstance(zone, ZoneInfo) else SITE_ZONE


def check_json(
    target: TargetBase,
    check: CheckRecord | None,
    slots: Sequence[SlotRecord],
    language: str = "fr",
    zone: ZoneInfo = SITE_ZONE,
) -> dict[str, Any]:
    """`creneau check --json`'s object for the target's last recorded check, its detail in
    `language` (instants in `zone`) beside its code and parameters."""
    zone = slot_zone(target)
    shown = [
        Slot(slot.start.astimezone(zone), slot.guichet_id, slot.guichet, slot.key) for slot in slots
    ]
    labels = {slot.guichet_id: slot.guichet for slot in reversed(shown)}  # the first's
    guichets = tuple(
        GuichetResult(
            guichet_id,
            labels[guichet_id],
            Status.AVAILABLE,
            tuple(slot for slot in shown if slot.guichet_id == guichet_id),
        )
        for guichet_id in sorted(labels)
    )
    result = CheckResult(
        target=target.name,
        system=target.system,
        url=target.url,
        status=Status(check.status) if check else Status.UNKNOWN,
        checked_at=check.started_at if check else NO_CHECK,
        duration_ms=check.duration_ms if check else 0,
        http_status=check.http_status if check else None,
        detail=check.said if check else None,
        guichets=guichets,
    )
    shape = result.to_json(language, zone)
    if check is None:
        shape.update(dict.fromkeys(NEVER_CHECKED))
    return shape


def targets_json(context: WebContext, wanted: str | None = None) -> list[dict[str, Any]]:
    """The configured targets' objects (only `wanted`, when given), each with its next
    release (null: none known): on the database thread."""
    from creneau.usecases.releases import budgets_of, expected_releases_of

    store, config = context.store, context.config
    chosen = [target for target in config.targets if wanted in (None, target.name)]
    names = [target.name for target in chosen]
    settings = config.creneau
    upcoming = expected_releases_of(store, names, context.now(), settings.zone, budgets_of(config))
    shapes = []
    for target in chosen:
        check = queries.latest_check(store, target.name)
        slots = queries.slots_seen_at(store, target.name, check.started_at) if check else []
        shape = check_json(target, check, slots, settings.language, settings.zone)
        release = upcoming.get(target.name)
        shape["next_release"] = release.to_json() if release is not None else None
        shapes.append(shape)
    return shapes


def releases_json(context: WebContext, scope: Scope) -> list[dict[str, Any]]:
    from creneau import history

    return [release.to_json() for release in history.releases(context.store, scope)]


class BadQuery(ValueError):
    """A query parameter the API cannot read: its message says which and why."""


def scope_of(request: Request, zone: ZoneInfo) -> Scope:
    """The `creneau history` options, from the query string."""
    from creneau.history import Scope

    params = request.query_params
    since = _moment(params.get("since"), "since", zone, end_of_day=False)
    until = _moment(params.get("until"), "until", zone, end_of_day=True)
    if since and until and since >= until:
        raise BadQuery(f"since {params['since']} is not before until {params['until']}")
    return Scope(since, until, params.get("target") or None, params.get("guichet") or None)


def _moment(text: str | None, name: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime | None:
    if not text:
        return None
    try:
        return moment_from_text(text, zone, end_of_day=end_of_day)
    except OutOfRange as problem:
        raise BadQuery(f"{name}: {problem}") from None
    except ValueError:
        raise BadQuery(
            f"{name}: expected a day (YYYY-MM-DD) or an ISO 8601 date and time "
            "(e.g. 2026-03-29T08:30)"
        ) from None


# --- the routes -----------------------------------------------------------------------------------


def routes(context: WebContext) -> list[BaseRoute]:
    return [
        Route("/api/v1/targets", partial(targets, context), methods=["GET"]),
        Route("/api/v1/targets/{name}", partial(target, context), methods=["GET"]),
        Route("/api/v1/releases", partial(releases, context), methods=["GET"]),
    ]


async def targets(context: WebContext, request: Request) -> Response:
    """/api/v1/targets: one object per configured target, in the config's order."""
    if (refusal := refused(request, context, context.config.web.api_token)) is not None:
        return refusal
    try:
        return JSONResponse(await context.db(targets_json, context))
    except STORE_FAILURES:
        return _unreadable()


async def target(context: WebContext, request: Request) -> Response:
    """/api/v1/targets/<name>: its object, or 404."""
    if (refusal := refused(request, context, context.config.web.api_token)) is not None:
        return refusal
    name = request.path_params["name"]
    try:
        found = await context.db(targets_json, context, name)
    except STORE_FAILURES:
        return _unreadable()
    if not found:
        return JSONResponse({"error": "no target of that name in the config"}, 404)
    return JSONResponse(found[0])


async def releases(context: WebContext, request: Request) -> Response:
    """/api/v1/releases: `creneau history releases --json` for the query's scope."""
    if (refusal := refused(request, context, context.config.web.api_token)) is not None:
        return refusal
    try:
        scope = scope_of(request, context.config.creneau.zone)
    except BadQuery as problem:
        return JSONResponse({"error": str(problem)}, 400)
    try:
        return JSONResponse(await context.db(releases_json, context, scope))
    except STORE_FAILURES:
        return _unreadable()


def _unreadable() -> Response:
    return JSONResponse({"error": "the database cannot be read"}, 503)
