"""What the daemon is doing, read from the database: `status` (each target's last and next
check, its host, its next release and the cost of the burst at it, the outbox, which daemon
is active and which stand by), `health` (exit 1
when checks are late, for a HEALTHCHECK) and `db upgrade`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from creneau.cli.context import (
    STATUS_STYLE,
    database_label,
    existing_store,
    open_store,
    out,
    read_config,
)
from creneau.cli.options import CONFIG_OPTION
from creneau.dates import local_time
from creneau.details import render
from creneau.terminal import plain

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.store import LeadershipView, Store

DETAIL_SHOWN = 60  # characters of a check's detail in the status table


@click.command()
@CONFIG_OPTION
def status(config_path: Path) -> None:
    """Each target's last check, next check and host state (those that need a person first:
    slots, a CAPTCHA, trouble), its next release and the cost of the burst at it, and the
    outbox."""
    from creneau import history as queries

    config = read_config(config_path)
    store = existing_store(config.creneau.database)
    zone, language = config.creneau.zone, config.creneau.language
    last = {row.target: row for row in queries.last_check_rows(store)}
    next_checks = store.next_checks()
    hosts = store.host_states()
    now = datetime.now(UTC)
    table = Table(title="Targets", header_style="bold")
    for column in ("target", "last check", "status", "detail", "next check", "host"):
        table.add_column(column)
    statuses = {name: row.status for name, row in last.items()}
    for target in queries.needing_a_person_first(config.targets, statuses):
        row = last.get(target.name)
        state = hosts.get(target.host)
        host_text = f"{target.host}: ok"
        if state and state.open_until and state.open_until > now:
            host_text = (
                f"{target.host}: cooling down until {local_time(state.open_until, zone)} "
                f"({render(state.reason, language, zone)})"
            )
        elif state and state.not_before and state.not_before > now:
            host_text = f"{target.host}: Retry-After until {local_time(state.not_before, zone)}"
        status_text = row.status if row else "never checked"
        style = STATUS_STYLE.get(status_text, "default")
        table.add_row(
            plain(target.name),
            local_time(row.started_at if row else None, zone),
            plain(status_text, style),
            plain(render(row.said, language, zone)[:DETAIL_SHOWN] if row else ""),
            local_time(next_checks.get(target.name), zone),
            plain(host_text),
        )
    out.print(table)
    for line in release_lines(store, config, now):
        out.print(plain(line))
    pending = store.notifications("pending")
    failed = store.notifications("failed")
    out.print(f"outbox: {len(pending)} pending, {len(failed)} failed")
    out.print(plain(config_line(store.facts(), config_path, zone)))
    for line in daemon_lines(store.leadership(), zone):
        out.print(plain(line))


def release_lines(store: Store, config: Config, now: datetime) -> list[str]:
    """Each target's next release, the cost of the burst at an announced one, and whether a
    site session is (or was) ready for it."""
    from creneau.usecases.release_texts import next_release_line
    from creneau.usecases.releases import expected_releases
    from creneau.usecases.session_notice import session_notices

    zone, language = config.creneau.zone, config.creneau.language
    found = expected_releases(store, config, now)
    notices = session_notices(store, config, now)
    return [
        next_release_line(name, release, zone, language, notices.get(name))
        for name, release in found.items()
    ]


def daemon_lines(view: LeadershipView, zone: ZoneInfo) -> list[str]:
    """Which daemon is active (host name, pid, since when), and those standing by; nothing
    before a daemon first ran on this database."""
    from creneau.dates import compact_duration

    lines = []
    active = view.active
    if active is not None:
        renewed = compact_duration(view.now - active.renewed_at) if active.renewed_at else "?"
        lines.append(
            f"active daemon: {active.instance} (host {active.host}, pid {active.pid}) since "
            f"{local_time(active.since, zone)}, term {active.epoch}; lease renewed {renewed} "
            "ago"
        )
    elif view.leader.instance is not None and view.leader.lease_until is not None:
        how = "stepped down" if view.leader.released else "lease lapsed"
        lines.append(
            f"active daemon: none ({view.leader.instance}, term {view.leader.epoch}: {how} "
            f"at {local_time(view.leader.lease_until, zone)})"
        )
    elif view.standbys:
        lines.append("active daemon: none yet")
    for seen in view.standbys:
        lines.append(
            f"standing by: {seen.instance} (host {seen.host}, pid {seen.pid}) since "
            f"{local_time(seen.started_at, zone)}"
        )
    if view.leader.takeovers:
        lines.append(f"takeovers after an active daemon was lost: {view.leader.takeovers}")
    return lines


def config_line(facts: dict[str, tuple[str, datetime]], config_path: Path, zone: ZoneInfo) -> str:
    """Which config the daemon runs with, and whether the file still says the same."""
    from creneau.daemon.reload import digest

    if "config_digest" not in facts:
        return "config: no daemon has loaded one yet"
    loaded, at = facts["config_digest"]
    now = digest(config_path.read_bytes()) if config_path.exists() else "gone"
    same = "the file is the same" if now == loaded else f"the file is now {now}: not loaded"
    return f"config {loaded} loaded at {local_time(at, zone)}; {same}"


@click.command()
@CONFIG_OPTION
@click.option(
    "--max-age",
    default="",
    help='Instead of each target\'s plan: the oldest acceptable last check, e.g. "15m".',
)
def health(config_path: Path, max_age: str) -> None:
    """Exit 0 when every target is checked as its plan says (its interval, its windows),
    1 otherwise (for a container's HEALTHCHECK)."""
    from creneau.daemon.health import overdue
    from creneau.dates import compact_duration
    from creneau.targets import parse_duration

    config = read_config(config_path)
    store = existing_store(config.creneau.database)
    now = datetime.now(UTC)
    last_checks = store.last_checks()
    last = max(last_checks.values(), default=None)
    if max_age:
        if last is None or now - last > parse_duration(max_age):
            ago = "never" if last is None else f"{compact_duration(now - last)} ago"
            click.echo(f"unhealthy: last check {ago}", err=True)
            sys.exit(1)
    else:
        zone = config.creneau.zone
        late = overdue(config.targets, zone, store.next_checks(), last_checks, now)
        if late:
            problems = "; ".join(item.describe(now, zone) for item in late)
            click.echo(f"unhealthy: {problems}", err=True)
            sys.exit(1)
    ago = "never" if last is None else f"{compact_duration(now - last)} ago"
    out.print(f"healthy: {len(config.targets)} target(s) on schedule; last check {ago}")


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@CONFIG_OPTION
def db_upgrade(config_path: Path) -> None:
    """Apply pending migrations (the daemon also does this at start)."""
    config = read_config(config_path)
    open_store(config.creneau.database)
    out.print(f"database up to date: {database_label(config.creneau.database)}")
