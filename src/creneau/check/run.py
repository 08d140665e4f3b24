"""One check of one target: its source's flow through a polite session, turned into a
CheckResult whatever happens (a fault becomes `error`, never an exception)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from creneau import sources
from creneau.details import Detail
from creneau.fetch.client import Guard, PoliteClient
from creneau.fetch.errors import FetchError, HostCoolingDown
from creneau.page import Page
from creneau.results import CheckResult, SiteSession, Status
from creneau.sources.reading import FlowOutcome
from creneau.targets import TargetBase

log = logging.getLogger(__name__)


@dataclass
class _Attempt:
    """What one check has gathered so far, to be said as a CheckResult at any point."""

    target: TargetBase
    cookies: SiteSession | None
    keeps_session: bool
    started_at: datetime
    clock: float = field(default_factory=time.perf_counter)
    kept: SiteSession | None = None
    pages: list[Page] = field(default_factory=list)  # every page the session read, for evidence

    def result(
        self,
        status: Status,
        detail: Detail | None,
        outcome: FlowOutcome | None = None,
        requests: int = 0,
        next_attempt_at: datetime | None = None,
    ) -> CheckResult:
        page = outcome.last_page if outcome else None
        return CheckResult(
            target=self.target.name,
            system=self.target.system,
            url=self.target.url,
            status=status,
            checked_at=self.started_at,
            duration_ms=round((time.perf_counter() - self.clock) * 1000),
            http_status=page.status if page else None,
            detail=detail,
            guichets=outcome.guichets if outcome else (),
            page_sha256=page.sha256 if page else None,
            requests=requests,
            next_attempt_at=next_attempt_at,
            facts=outcome.facts if outcome else {},
            challenge=outcome.challenge if outcome else "",
            releases=outcome.releases if outcome else None,
            slots_not_kept=outcome.slots_not_kept if outcome else 0,
            complete=outcome.complete if outcome else False,
            site_session=self.kept,
            site_session_used=(self.cookies or []) if self.keeps_session else None,
            page=page,
            pages=tuple(self.pages),
        )


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
    attempt = _Attempt(target, cookies, source.KEEPS_SESSION, now())
    try:
        async with client.session(
            target.name,
            target.url,
            cookies if attempt.keeps_session else None,
            respect_robots=target.respect_robots,
            guard=guard,
        ) as session:
            attempt.pages = session.pages
            try:
                outcome = await source.check(target, session)
            except FetchError as failure:
                session.verdict = failure.status
                return attempt.result(failure.status, failure.detail, requests=session.requests)
            except Exception as bug:  # a source that raises must not take the daemon down
                log.exception("%s: the %s source failed", target.name, target.system)
                session.verdict = Status.ERROR
                return attempt.result(Status.ERROR, internal_error(bug), requests=session.requests)
            # A refusal of the target's own settings says nothing of the host's health.
            session.verdict = None if outcome.config_error else outcome.status
            if attempt.keeps_session:  # a session that ends on a CAPTCHA is spent
                spent = outcome.status is Status.CAPTCHA
                attempt.kept = [] if spent else session.kept_cookies()
            return attempt.result(outcome.status, outcome.detail, outcome, session.requests)
    except HostCoolingDown as cooling:
        return attempt.result(cooling.status, cooling.detail, next_attempt_at=cooling.until)


def internal_error(bug: Exception) -> Detail:
    """A fault of creneau itself, said as the exception says it."""
    return Detail("internal_error", kind=type(bug).__name__, message=str(bug))
