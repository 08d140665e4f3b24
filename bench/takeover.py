"""Several daemons on one PostgreSQL database: the takeover time after SIGKILL of the active
one (median, p99; 20 kills of three daemons in a release storm, the default 30 s lease), what
the storm lost, duplicated or overspent, and the extra load of a standby on the database
(statements a minute, from the server's own statement log). Real processes and a throw-away
PostgreSQL server (tests/postgres.py); nothing leaves 127.0.0.1. CRENEAU_BENCH_KILLS and
CRENEAU_LEASE_SECONDS change the kill count and the lease."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.figures import Figure
from creneau.simulator.phone import Phone
from creneau.sources.ezbooking.simulator import Prefecture, default_bookings
from ha.cluster import (
    AttributingSimulator,
    postgres_database,
    start_daemon,
    stopped_at_exit,
    wait_for_active,
    write_config,
)
from ha.storm import run_storm

KILLS = int(os.environ.get("CRENEAU_BENCH_KILLS", "20"))
TAKEOVER_LIMIT = 45.0  # seconds, the issue's
STANDBY_MINUTES = 1.0
# "creneau host:pid" (its store) and "creneau host:pid lease" (its lease calls)
SESSION = re.compile(r"\[creneau [^\]]*:(\d+)(?: lease)?\] ")


def measure() -> list[Figure]:
    from postgres import server

    lease = float(os.environ.get("CRENEAU_LEASE_SECONDS", "30"))
    folder = Path(tempfile.mkdtemp(prefix="creneau-bench-pg-"))
    try:
        with server(folder) as url:
            figures = storm_figures(url, lease)
            figures.append(standby_figure(url, folder / "pgdata" / "log", lease))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return figures


def storm_figures(url: str, lease: float) -> list[Figure]:
    storm = run_storm(url, kills=KILLS, lease=lease, seed=20)
    details = {
        "kills": storm.kills,
        "lease_s": lease,
        "takeovers_s": [round(seconds, 1) for seconds in storm.takeovers],
        "slots": storm.slots,
        "messages": storm.messages,
        "requests": len(storm.requests),
        "most_requests_in_a_minute": storm.most_in_a_minute,
    }
    section = "takeover"
    return [
        Figure(
            section,
            f"takeover after SIGKILL of the active daemon — median of {storm.kills}",
            round(storm.takeover_median, 1),
            "s",
            details=details,
        ),
        Figure(
            section,
            f"takeover after SIGKILL of the active daemon — p99 of {storm.kills}",
            round(storm.takeover_p99, 1),
            "s",
            target=f"≤ {TAKEOVER_LIMIT:g} s",
            ok=storm.takeover_p99 <= TAKEOVER_LIMIT,
        ),
        Figure(
            section,
            "alerts lost across the kills",
            len(storm.lost),
            "slots",
            target="0",
            ok=not storm.lost,
        ),
        Figure(
            section,
            "alerts received twice",
            storm.duplicated,
            "messages",
            target=f"≤ {storm.kills} (one per kill)",
            ok=storm.duplicated <= storm.kills,
        ),
        Figure(
            section,
            "periods where two daemons fetched (the host's log)",
            storm.overlapping,
            "",
            target="0",
            ok=storm.overlapping == 0,
        ),
        Figure(
            section,
            "requests above the host's budget (any window, the host's log)",
            storm.over_budget,
            "",
            target="0",
            ok=storm.over_budget == 0,
        ),
    ]


def standby_figure(url: str, server_log: Path, lease: float) -> Figure:
    """One active daemon and two standbys for a minute, every statement logged with its
    session's application name ("creneau host:pid" and "creneau host:pid lease")."""
    from sqlalchemy import create_engine, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("alter system set log_statement = 'all'"))
        connection.execute(text("alter system set log_line_prefix = '%m [%a] '"))
        connection.execute(text("select pg_reload_conf()"))
    admin.dispose()
    database = postgres_database(url, "standbys")
    work = Path(tempfile.mkdtemp(prefix="creneau-bench-standby-"))
    with AttributingSimulator(Prefecture(default_bookings())) as simulator, Phone() as phone:
        config = write_config(work, database, simulator, phone, every="1m")
        daemons = [start_daemon(config, lease) for _ in range(3)]
        with stopped_at_exit(daemons):
            active, _ = wait_for_active(daemons, timeout=300)
            standbys = [daemon for daemon in daemons if daemon is not active]
            for daemon in standbys:
                daemon.wait_for("standing by", timeout=300)
            time.sleep(lease / 3)  # past start-up
            start = server_log.stat().st_size
            time.sleep(STANDBY_MINUTES * 60)
            with server_log.open("rb") as log:
                log.seek(start)
                said = log.read().decode(errors="replace")
    counts = Counter(
        int(found.group(1))
        for line in said.splitlines()
        if (found := SESSION.search(line)) and ("statement: " in line or "execute " in line)
    )
    per_standby = [counts[daemon.pid] / STANDBY_MINUTES for daemon in standbys]
    shutil.rmtree(work, ignore_errors=True)
    return Figure(
        "takeover",
        "database load of one standby",
        round(sum(per_standby) / len(per_standby), 1),
        "statements/min",
        details={
            "lease_s": lease,
            "per_standby": per_standby,
            "active": counts[active.pid] / STANDBY_MINUTES,
        },
    )
