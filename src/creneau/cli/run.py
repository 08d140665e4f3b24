"""`creneau run`: the daemon, in the foreground until SIGINT or SIGTERM; first, the plan it
starts with (targets, intervals, first checks, each host's budget against its needs), printed
once it is the active daemon: Rich tables on a terminal, elsewhere (docker, systemd, a pipe)
one plain line per target and per host, and Rich is never imported. On an SQLite file a
second daemon is refused (exit 2); on PostgreSQL the others stand by (`daemon.leader`)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import click

from creneau import __version__
from creneau.cli import context
from creneau.cli.context import database_label, fail_config, migrated_apart, read_config
from creneau.cli.host_load import HostLoad, host_loads
from creneau.cli.options import CONFIG_OPTION
from creneau.dates import compact_duration, local_time
from creneau.quiet_stop import stop_quietly_on_signals
from creneau.redact import redact
from creneau.terminal import clean, plain

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from creneau.config import Config
    from creneau.store import Store
    from creneau.targets import TargetBase
    from creneau.usecases.releases import NextRelease

log = logging.getLogger("creneau")


@click.command()
@CONFIG_OPTION
def run(config_path: Path) -> None:
    """Run the daemon: check every target on its schedule and send alerts."""
    # Until the event loop takes the signals over, SIGTERM and SIGINT stop it quietly
    # (creneau.quiet_stop); a migration's transaction rolls back.
    from creneau.daemon import Daemon, run_until_signal
    from creneau.daemon.leader import lease_timing
    from creneau.store.lock import AlreadyRunning

    config = read_config(config_path)
    try:
        timing = lease_timing()
    except ValueError as wrong:
        fail_config([f"creneau: {wrong}"])
    store = migrated_apart(config.creneau.database, config_path)
    lock = store.daemon_lock()
    if not store.shared:  # PostgreSQL: the others stand by instead
        try:
            lock.acquire()
        except AlreadyRunning as running:
            click.echo(redact(f"creneau: {running}"), err=True)
            sys.exit(2)
    daemon = Daemon(config, store, config_path=config_path, timing=timing)
    log.info(
        "creneau %s: %d targets, database %s",
        __version__,
        len(config.targets),
        database_label(config.creneau.database),
    )
    observed = store.requests_per_check(datetime.now(UTC) - timedelta(days=7))
    companions = []
    if config.web.enabled:
        from creneau.web.server import make_context, serve

        dashboard = make_context(config, live=daemon)
        store.fence_alongside(dashboard.store)  # a standby's dashboard is read-only
        companions.append(partial(serve, dashboard))

    def show_plan() -> None:  # at each term's start: the releases known then
        upcoming = next_releases(store, config)
        print_plan(config, daemon.first_checks(), observed, upcoming)

    asyncio.run(run_until_signal(daemon, show_plan, companions))
    stop_quietly_on_signals()  # closing the loop restored the default handlers
    lock.release()
    log.info("stopped")


def next_releases(store: Store, config: Config) -> Mapping[str, NextRelease | None]:
    """Each target's next release now; none when the database cannot be read (the daemon
    says so in its log as soon as it checks)."""
    from creneau.store import STORE_FAILURES
    from creneau.usecases.releases import expected_releases

    try:
        return expected_releases(store, config, datetime.now(UTC))
    except STORE_FAILURES:
        return {}


TARGET_COLUMNS = ("target", "system", "host", "every", "burst", "windows", "first check")
HOST_COLUMNS = ("host", "budget", "targets", "requests per hour needed")
Row = tuple[str, ...]


class Section(NamedTuple):
    """One part of the plan: a table on a terminal, a heading and lines elsewhere."""

    title: str
    columns: Row
    rows: Sequence[Row]


def print_plan(
    config: Config,
    first_checks: Mapping[str, datetime],
    observed: Mapping[str, float] | None = None,
    upcoming: Mapping[str, NextRelease | None] | None = None,
) -> None:
    """The start-up summary: what is watched, how often, within which budgets, and each
    release a site announced with what the burst at it costs; and a warning for a host
    whose targets need more requests than its budget allows."""
    zone = config.creneau.zone
    targets = [_target_row(target, first_checks, zone) for target in config.targets]
    loads = host_loads(config.targets, config.budget_for, observed or {})
    hosts = [_host_row(load) for load in loads]
    plan = (Section("Targets", TARGET_COLUMNS, targets), Section("Hosts", HOST_COLUMNS, hosts))
    if context.stderr_is_terminal():
        _print_tables(plan)
    else:
        _print_lines(plan)
    _print_announced(upcoming or {}, zone, config.creneau.language)
    for load in loads:
        if load.over_budget:
            log.warning(
                f"{load.host}: its {load.targets} target(s) need ~{load.needed:.0f} requests "
                f"an hour and its budget allows {load.allowed:.0f}: checks will be about "
                f"{load.slowdown:.1f}× further apart than configured. Check less often, "
                "watch fewer desks, or accept it: creneau never exceeds the budget."
            )


def _print_announced(
    upcoming: Mapping[str, NextRelease | None], zone: ZoneInfo, language: str
) -> None:
    """One line per target whose site announced its next release, with the burst's cost."""
    from creneau.usecases.release_texts import next_release_line

    for name, release in upcoming.items():
        if release is None or release.expected.source != "announced":
            continue
        line = next_release_line(name, release, zone, language)
        if context.stderr_is_terminal():
            context.err.print(plain(line))
        else:
            click.echo(clean(line), err=True)


def _target_row(target: TargetBase, first_checks: Mapping[str, datetime], zone: ZoneInfo) -> Row:
    """A target's cells, as TARGET_COLUMNS name them."""
    burst = "—"
    if target.burst:
        windows = ", ".join(window.text for window in target.burst.windows)
        burst = f"{compact_duration(target.burst.every)} in {windows}"
    return (
        target.name,
        target.system,
        target.host,
        f"{compact_duration(target.every)} ± {compact_duration(target.jitter / 2)}",
        burst,
        ", ".join(w.text for w in target.windows) or "always",
        local_time(first_checks.get(target.name), zone),
    )


def _host_row(load: HostLoad) -> Row:
    """A host's cells, as HOST_COLUMNS name them."""
    return (
        load.host,
        f"{load.budget.per_minute:g}/min, bursts of {load.budget.burst}",
        str(load.targets),
        f"~{load.needed:.0f} (of {load.allowed:.0f} allowed)",
    )


def _print_tables(plan: Sequence[Section]) -> None:
    """The plan as Rich tables on stderr, a terminal."""
    from rich.table import Table

    for section in plan:
        table = Table(title=section.title, header_style="bold")
        for column in section.columns:
            table.add_column(column)
        for row in section.rows:
            table.add_row(*row)
        context.err.print(table)


def _print_lines(plan: Sequence[Section]) -> None:
    """The plan as plain lines on stderr (no terminal, no Rich): for each section a heading
    naming its columns, then one line per row, its cells cleaned and joined by " | "."""
    lines = []
    for section in plan:
        lines.append(f"{section.title}: {' | '.join(section.columns)}")
        lines += ["  " + " | ".join(clean(cell) for cell in row) for row in section.rows]
    click.echo("\n".join(lines), err=True)
