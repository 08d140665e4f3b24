"""The hosts (`/hosts`): for each site creneau asks, its request budget (per minute, burst),
its breaker (cooling down until when, why, failures in a row), its Retry-After deadline, and
its robots.txt: when it was fetched and whether it lets creneau read each target's page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from creneau.config import Config
from creneau.fetch.politeness import HostState, robots_allows
from creneau.targets import TargetBase
from creneau.web.context import WebContext
from creneau.web.pages.common import page, shown
from creneau.web.pages.texts import short_moment


@dataclass(frozen=True)
class RobotsLine:
    target: str
    allowed: str  # "autorisé" / "allowed", "interdit" / "disallowed", or not asked


@dataclass(frozen=True)
class HostLine:
    name: str
    targets: str
    budget: str
    breaker: str
    trouble: bool
    failures: int
    retry_after: str
    robots_fetched: str
    robots: tuple[RobotsLine, ...]


WORDS = {
    "fr": {
        "budget": "{per_minute:g} requêtes par minute, rafale de {burst}",
        "closed": "fermé (les requêtes passent)",
        "open": "ouvert jusqu'à {until} : {reason}",
        "probe": "une vérification d'essai est permise",
        "no_deadline": "aucune",
        "deadline": "pas de requête avant {until}",
        "past_deadline": "passée ({until})",
        "robots_never": "pas encore lu",
        "robots_fetched": "lu {at}",
        "allowed": "autorisé",
        "disallowed": "interdit",
        "ignored": "non suivi (respect_robots = false)",
        "unknown": "pas encore lu",
    },
    "en": {
        "budget": "{per_minute:g} requests a minute, burst of {burst}",
        "closed": "closed (requests go through)",
        "open": "open until {until}: {reason}",
        "probe": "a probe check may go",
        "no_deadline": "none",
        "deadline": "no request before {until}",
        "past_deadline": "passed ({until})",
        "robots_never": "not read yet",
        "robots_fetched": "read {at}",
        "allowed": "allowed",
        "disallowed": "disallowed",
        "ignored": "not followed (respect_robots = false)",
        "unknown": "not read yet",
    },
}


def hosts_of(config: Config, stored: Mapping[str, HostState]) -> list[str]:
    """The hosts of the configured targets in their order, then the others the store knows."""
    names = list(dict.fromkeys(target.host for target in config.targets))
    return names + sorted(set(stored) - set(names))


def host_line(
    name: str,
    state: HostState | None,
    config: Config,
    now: datetime,
    zone: ZoneInfo,
    language: str,
) -> HostLine:
    words = WORDS[language]
    state = state or HostState()
    budget = config.budget_for(name)
    targets = [target for target in config.targets if target.host == name]
    return HostLine(
        name=name,
        targets=", ".join(target.name for target in targets),
        budget=words["budget"].format(per_minute=budget.per_minute, burst=budget.burst),
        breaker=breaker_text(state, now, zone, language),
        trouble=bool(state.open_until and state.open_until > now)
        or bool(state.not_before and state.not_before > now),
        failures=state.consecutive_failures,
        retry_after=deadline_text(state.not_before, now, zone, language),
        robots_fetched=words["robots_fetched"].format(
            at=short_moment(state.robots_fetched_at, now, zone, language)
        )
        if state.robots_fetched_at
        else words["robots_never"],
        robots=tuple(robots_line(target, state, language) for target in targets),
    )


def breaker_text(state: HostState, now: datetime, zone: ZoneInfo, language: str) -> str:
    words = WORDS[language]
    if state.open_until is None:
        return words["closed"]
    until = short_moment(state.open_until, now, zone, language)
    if state.open_until <= now:
        return f"{words['open'].format(until=until, reason=shown(state.reason))} — {words['probe']}"
    return words["open"].format(until=until, reason=shown(state.reason))


def deadline_text(at: datetime | None, now: datetime, zone: ZoneInfo, language: str) -> str:
    words = WORDS[language]
    if at is None:
        return words["no_deadline"]
    until = short_moment(at, now, zone, language)
    return words["deadline" if at > now else "past_deadline"].format(until=until)


def robots_line(target: TargetBase, state: HostState, language: str) -> RobotsLine:
    words = WORDS[language]
    if not target.respect_robots:
        return RobotsLine(target.name, words["ignored"])
    if state.robots_txt is None:
        return RobotsLine(target.name, words["unknown"])
    allowed = robots_allows(state.robots_txt, target.url)
    return RobotsLine(target.name, words["allowed" if allowed else "disallowed"])


def host_lines(
    config: Config, stored: Mapping[str, HostState], now: datetime
) -> Sequence[HostLine]:
    zone, language = config.creneau.zone, config.creneau.language
    return [
        host_line(name, stored.get(name), config, now, zone, language)
        for name in hosts_of(config, stored)
    ]


def routes(context: WebContext) -> list[BaseRoute]:
    async def hosts(request: Request) -> Response:
        stored = await context.db(context.store.host_states)
        lines = host_lines(context.config, stored, context.now())
        return page(request, context, "hosts.html", hosts=lines)

    return [Route("/hosts", hosts, methods=["GET"])]
