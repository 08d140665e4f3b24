"""One check of one target: its source's flow through a polite session, turned into a
CheckResult whatever happens (a fault becomes `error`, never an exception)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from creneau import sources
from creneau.details import Detail
from creneau.fetch.client import Guard, PoliteClient
from creneau.fetch.errors import FetchError, HostCoolingDown
from creneau.page import Page
from creneau.results import CheckResult, SiteSession, Status
from creneau.sources.reading import SLOTS_NOT_KEPT_FACT, FlowOutcome
from creneau.targets import TargetBase

log = logging.getLogger(__name__)


async def run_check(
    target: TargetBase,
    client: PoliteClient,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    cookies: SiteSession | None = None,
    guard: Guard | None = None,
) -> CheckResult:
    """Raises `http.TooSoon` (nothing was done) when the target was checked too recently.
    The client bounds the time spent waiting for the site (its `check_deadline`). With a
    `guard`, every request and redirect of the check passes it first."""
    source = sources.get(target.system)
    keeps_session = source.KEEPS_SESSION
    started_at, clock = now(), time.perf_counter()
    kept: SiteSession | None = None
    pages: list[Page] = []  # every page the session read, for evidence

    def result(
        status: Status,
        detail: Detail | None,
        outcome: FlowOutcome | None = None,
        requests: int = 0,
        next_attempt_at: datetime | None = None,
    ) -> CheckResult:
        page = outcome.last_page if outcome else None
        return CheckResult(
            target=target.name,
            system=target.system,
            url=target.url,
            status=status,
            checked_at=started_at,
            duration_ms=round((time.perf_counter() - clock) * 1000),
            http_status=page.status if page else None,
            detail=detail,
            guichets=outcome.guichets if outcome else (),
            page_sha256=page.sha256 if page else None,
            requests=requests,
            next_attempt_at=next_attempt_at,
            facts=_facts(outcome) if outcome else {},
            challenge=outcome.challenge if outcome else "",
            releases=outcome.releases if outcome else None,
            complete=outcome.complete if outcome else False,
            site_session=kept,
            site_session_used=(cookies or []) if keeps_session else None,
            page=page,
            pages=tuple(pages),
        )

    try:
        async with client.session(
            target.name,
            target.url,
            cookies if keeps_session else None,
            respect_robots=target.respect_robots,
            guard=guard,
        ) as session:
            pages = session.pages
            try:
                outcome = await source.check(target, session)
            except FetchError as failure:
                session.verdict = failure.status
                return result(failure.status, failure.detail, requests=session.requests)
            except Exception as bug:  # a source that raises must not take the daemon down
                log.exception("%s: the %s source failed", target.name, target.system)
                session.verdict = Status.ERROR
                return result(Status.ERROR, internal_error(bug), requests=session.requests)
            # A refusal of the target's own settings says nothing of the host's health.
            session.verdict = None if outcome.config_error else outcome.status
            if keeps_session:  # a session that ends on a CAPTCHA is spent
                kept = [] if outcome.status is Status.CAPTCHA else session.kept_cookies()
            return result(outcome.status, outcome.detail, outcome, session.requests)
    except HostCoolingDown as cooling:
        return result(cooling.status, cooling.detail, next_attempt_at=cooling.until)


def internal_error(bug: Exception) -> Detail:
    """A fault of creneau itself, said as the exception says it."""
    return Detail("internal_error", kind=type(bug).__name__, message=str(bug))


def _facts(outcome: FlowOutcome) -> dict[str, str]:
    """What the site said besides slots, and how many slots its pages showed unread."""
    if not outcome.slots_not_kept:
        return outcome.facts
    return {**outcome.facts, SLOTS_NOT_KEPT_FACT: str(outcome.slots_not_kept)}
