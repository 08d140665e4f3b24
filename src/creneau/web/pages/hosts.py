"""The hosts (`/hosts`): for each site creneau asks, its request budget (per minute, burst),
its breaker (cooling down until when, why, failures in a row), its Retry-After deadline, and
its robots.txt: when it was fetched and whether it lets creneau read each target's page.
Above them, the daemons on this database: which one is active (host name, pid, since when)
and which stand by, and whether this dashboard is served by a standby (then read-only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from creneau.config import Config
from creneau.details import render
from creneau.fetch.politeness import HostState, robots_allows
from creneau.store import STORE_FAILURES, Instance, LeadershipView
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


@dataclass(frozen=True)
class DaemonLine:
    instance: str  # "host:pid"
    host: str
    pid: int
    role: str  # "active" or "standby"
    text: str  # since when, in words
    here: bool  # the daemon serving this dashboard


@dataclass(frozen=True)
class Daemons:
    lines: tuple[DaemonLine, ...]
    summary: str  # who is active, or that none is
    here_stands_by: bool  # this dashboard is a standby's: read-only


WORDS = {
    "fr": {
        "daemons": "Démons creneau run",
        "active": "actif",
        "standby": "en attente",
        "active_since": "actif depuis {since} (mandat {epoch})",
        "standby_since": "en attente depuis {since}",
        "none_active": "Aucun démon actif : le dernier ({last}) a cessé de renouveler son bail "
        "à {until}.",
        "none_ever": "Aucun démon n'a encore été actif sur cette base.",
        "one_active": "{instance} vérifie et envoie ; {standbys} en attente.",
        "takeovers": "reprises après la perte d'un démon actif : {count}",
        "here": "ce tableau de bord",
        "read_only": "Ce tableau de bord est servi par un démon en attente : il ne modifie "
        "rien. Faites les changements sur celui du démon actif.",
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
        "daemons": "creneau run daemons",
        "active": "active",
        "standby": "standby",
        "active_since": "active since {since} (term {epoch})",
        "standby_since": "standing by since {since}",
        "none_active": "No daemon is active: the last one ({last}) stopped renewing its lease "
        "at {until}.",
        "none_ever": "No daemon has been active on this database yet.",
        "one_active": "{instance} checks and sends; {standbys} standing by.",
        "takeovers": "takeovers after an active daemon was lost: {count}",
        "here": "this dashboard",
        "read_only": "This dashboard is served by a standby daemon: it changes nothing. "
        "Make changes on the active daemon's dashboard.",
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
    reason = shown(render(state.reason, language, zone))
    if state.open_until <= now:
        return f"{words['open'].format(until=until, reason=reason)} — {words['probe']}"
    return words["open"].format(until=until, reason=reason)


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


def daemons_of(
    view: LeadershipView, me: Instance, zone: ZoneInfo, language: str, serving: bool
) -> Daemons:
    """The daemons as `/hosts` shows them; `serving`: a daemon serves this dashboard (under
    `creneau run`), which is `me` (same host name and pid)."""
    words = WORDS[language]
    active = view.active
    lines = []
    if active is not None and active.since is not None:
        lines.append(
            DaemonLine(
                active.instance or "?",
                active.host or "?",
                active.pid or 0,
                words["active"],
                words["active_since"].format(
                    since=short_moment(active.since, view.now, zone, language),
                    epoch=active.epoch,
                ),
                serving and (active.host, active.pid) == (me.host, me.pid),
            )
        )
    for seen in view.standbys:
        lines.append(
            DaemonLine(
                seen.instance,
                seen.host,
                seen.pid,
                words["standby"],
                words["standby_since"].format(
                    since=short_moment(seen.started_at, view.now, zone, language)
                ),
                serving and (seen.host, seen.pid) == (me.host, me.pid),
            )
        )
    if active is not None:
        summary = words["one_active"].format(instance=active.instance, standbys=len(view.standbys))
    elif view.leader.instance and view.leader.lease_until:
        summary = words["none_active"].format(
            last=view.leader.instance,
            until=short_moment(view.leader.lease_until, view.now, zone, language),
        )
    else:
        summary = words["none_ever"]
    if view.leader.takeovers:
        summary += " " + words["takeovers"].format(count=view.leader.takeovers) + "."
    here_stands_by = any(line.here and line.role == words["standby"] for line in lines)
    return Daemons(tuple(lines), summary, here_stands_by)


def routes(context: WebContext) -> list[BaseRoute]:
    return [Route("/hosts", partial(hosts, context, Instance.this_process()), methods=["GET"])]


async def hosts(context: WebContext, me: Instance, request: Request) -> Response:
    """/hosts: each host's state, and the daemons sharing the database."""
    stored = await context.db(context.store.host_states)
    lines = host_lines(context.config, stored, context.now())
    config = context.config.creneau
    daemons = None
    try:
        view = await context.db(context.store.leadership)
    except STORE_FAILURES:
        view = None
    if view is not None:
        serving = context.live is not None
        daemons = daemons_of(view, me, config.zone, config.language, serving)
    return page(
        request,
        context,
        "hosts.html",
        hosts=lines,
        daemons=daemons,
        words=WORDS[config.language],
    )
