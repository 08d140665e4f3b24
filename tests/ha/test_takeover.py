"""Several `creneau run` on one PostgreSQL database (and one SQLite file): one active, the
others standing by; takeover after SIGKILL; the fence on a daemon that was paused; daemons
started together on an empty database. Real processes, a real PostgreSQL server, the
simulated host's own log of who sent what. `bench/takeover.py` runs the storm 20 times over
with the default lease; here it is 3 kills with a 6 s lease (a 2-core machine, the suite's
time)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from creneau.simulator.phone import Phone
from creneau.sources.ezbooking.simulator import Prefecture, default_bookings
from ha.cluster import (
    AttributingSimulator,
    DatabaseLink,
    line_marks,
    overlaps,
    postgres_database,
    start_daemon,
    stopped_at_exit,
    wait_for_active,
    write_config,
)
from ha.storm import BURST, PER_MINUTE, run_storm

pytestmark = pytest.mark.slow
LISTEN = 'listen = "127.0.0.1:'
LEASE = 6.0  # seconds: a takeover within ~6 s (the default, 30 s, gives 25 to 35 s)


def test_three_daemons_and_a_storm_lose_nothing_across_kills(postgres_server: str) -> None:
    storm = run_storm(postgres_server, kills=3, lease=LEASE)
    told = "\n=====\n".join(log[-3000:] for log in storm.logs)
    assert storm.slots >= 3, told
    assert storm.lost == [], told
    assert storm.duplicated <= storm.kills
    assert storm.overlapping == 0, "two daemons fetched in the same period"
    assert storm.unattributed <= storm.kills  # a request of a process killed meanwhile
    assert storm.over_budget == 0, "the host's budget was exceeded"
    assert storm.most_in_a_minute <= PER_MINUTE + BURST
    assert max(storm.takeovers) <= LEASE + 15  # generous: a busy 2-core machine


def test_a_paused_daemon_writes_and_fetches_nothing_once_superseded(
    postgres_server: str, tmp_path: Path
) -> None:
    """SIGSTOP the active one, let another take over, pause that one too (so that nothing
    else fetches), then SIGCONT the first: the host hears nothing and the store receives no
    write until the first leads a new term of its own."""
    database = postgres_database(postgres_server, "paused")
    with AttributingSimulator(Prefecture(default_bookings())) as simulator, Phone() as phone:
        config = write_config(tmp_path, database, simulator, phone, per_minute=600, burst=10)
        daemons = [start_daemon(config, LEASE) for _ in range(2)]
        simulator.pids.update(daemon.pid for daemon in daemons)
        with stopped_at_exit(daemons):
            first, _ = wait_for_active(daemons, timeout=180)
            first.wait_for("storm:", timeout=120)
            second = next(daemon for daemon in daemons if daemon is not first)
            marks = line_marks(daemons)
            first.signal(signal.SIGSTOP)
            wait_for_active([second], timeout=60, marks=marks)
            second.wait_for("storm:", timeout=60, after=marks[second.pid])
            second.signal(signal.SIGSTOP)
            engine = create_engine(database)
            writes_before = _writes(engine)
            heard_before = len(simulator.log())
            marks = line_marks(daemons)
            first.signal(signal.SIGCONT)
            first.wait_for("stopped checking at once", timeout=60, after=marks[first.pid])
            time.sleep(2 * LEASE / 6)  # a renewal and a look later: still nothing
            assert first.said("active: this daemon", marks[first.pid]) is None
            assert simulator.log()[heard_before:] == []
            assert _writes(engine) == writes_before
            engine.dispose()
            second.signal(signal.SIGCONT)


def test_a_daemon_cut_from_the_database_stops_before_another_starts(
    postgres_server: str, tmp_path: Path
) -> None:
    """A network partition between the active daemon and PostgreSQL (it stays alive): it
    stops fetching before its lease ends, a standby takes over, and once the network is back
    the first one stands by. Every request in the host's log is from one daemon at a time."""
    database = postgres_database(postgres_server, "cut")
    link = DatabaseLink(int(database.rsplit(":", 1)[1].split("/")[0]))
    with AttributingSimulator(Prefecture(default_bookings())) as simulator, Phone() as phone:
        cut_config = write_config(tmp_path / "cut", link.url(database), simulator, phone)
        config = write_config(tmp_path / "direct", database, simulator, phone)
        first = start_daemon(cut_config, LEASE)
        simulator.pids.add(first.pid)
        with stopped_at_exit([first]):
            first.wait_for("active: this daemon", timeout=180)
            second = start_daemon(config, LEASE)
            simulator.pids.add(second.pid)
            with stopped_at_exit([second]):
                second.wait_for("standing by", timeout=180)
                first.wait_for("storm:", timeout=120)
                marks = line_marks([first, second])
                cut_at = time.monotonic()
                link.cut()
                stopped = first.wait_for("stopped checking at once", 60, marks[first.pid])
                _, took_over = wait_for_active([second], timeout=60, marks=marks)
                second.wait_for("storm:", timeout=60, after=marks[second.pid])
                link.heal()
                first.wait_for("standing by", timeout=60, after=marks[first.pid])
                healed = len(simulator.log())
                second.wait_for("storm:", timeout=60, after=len(second.lines))
                log = simulator.log()
        link.close()
    assert "no lease renewal" in stopped.text
    assert stopped.at - cut_at <= LEASE  # it stopped by its own clock, before the lease ended
    assert took_over.at - cut_at <= LEASE + 15
    assert overlaps(log) == []
    first_requests = [request.at for request in log if request.pid == first.pid]
    second_after = [request.at for request in log if request.pid == second.pid]
    assert max(first_requests) < min(second_after)
    assert all(request.pid != first.pid for request in log[healed:])


def _writes(engine) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return tuple(
            int(connection.execute(text(query)).scalar() or 0)
            for query in (
                "select count(*) from checks",
                "select count(*) from notifications",
                "select coalesce(max(extract(epoch from updated_at)), 0) from hosts",
                "select coalesce(max(extract(epoch from updated_at)), 0) from target_states",
            )
        )


def test_daemons_started_together_on_an_empty_database_migrate_once(
    postgres_server: str, tmp_path: Path
) -> None:
    """Three daemons started at once on an empty database (each with its own dashboard):
    all come up, one active; `creneau status` and each dashboard's /hosts say which."""
    database = postgres_database(postgres_server, "together")
    with AttributingSimulator(Prefecture(default_bookings())) as simulator, Phone() as phone:
        ports = [free_port() for _ in range(3)]
        configs = [
            write_config(
                tmp_path / f"d{port}",
                database,
                simulator,
                phone,
                web=f'listen = "127.0.0.1:{port}"',
            )
            for port in ports
        ]
        daemons = [start_daemon(config, LEASE) for config in configs]
        with stopped_at_exit(daemons):
            active, _ = wait_for_active(daemons, timeout=240)
            standbys = [daemon for daemon in daemons if daemon is not active]
            for daemon in standbys:
                daemon.wait_for("standing by", timeout=240)
            for daemon in daemons:
                daemon.wait_for("dashboard at", timeout=240)
            status = subprocess.run(
                [sys.executable, "-m", "creneau", "status", "--config", str(configs[0])],
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "COLUMNS": "200"},
            )
            pages = {
                daemon.pid: httpx.get(f"http://127.0.0.1:{port}/hosts", timeout=30).text
                for daemon, port in zip(daemons, ports, strict=True)
            }
        for daemon in daemons:
            assert daemon.process.returncode == 0, daemon.text
            assert "Traceback" not in daemon.text
            assert "UniqueViolation" not in daemon.text
    host = socket.gethostname()
    said = status.stdout
    assert f"active daemon: {host}:{active.pid} (host {host}, pid {active.pid}) since" in said
    for daemon in standbys:
        assert f"standing by: {host}:{daemon.pid} (host {host}, pid {daemon.pid}) since" in said
    for pid, page in pages.items():
        assert f"{host}:{active.pid}</strong> — actif · actif depuis" in page
        for daemon in standbys:
            assert f"{host}:{daemon.pid}</strong> — en attente" in page
        assert ("ne modifie rien" in page) == (pid != active.pid)
    engine = create_engine(database)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from alembic_version")).scalar() == 1
        assert connection.execute(text("select count(*) from leadership")).scalar() == 1
    engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_second_daemon_on_one_sqlite_file_exits_2(tmp_path: Path) -> None:
    with AttributingSimulator(Prefecture(default_bookings())) as simulator, Phone() as phone:
        config = write_config(tmp_path, "sqlite:///creneau.db", simulator, phone)
        first = start_daemon(config)
        with stopped_at_exit([first]):
            first.wait_for("active: this daemon", timeout=120)
            second = subprocess.run(
                [sys.executable, "-m", "creneau", "run", "--config", str(config)],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                timeout=120,
            )
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert "already" in lines[0]
    assert "creneau.db" in lines[0]
