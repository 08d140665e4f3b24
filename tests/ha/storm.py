"""A release storm watched by three `creneau run` on one PostgreSQL database while the active
one is killed (SIGKILL) again and again, a new daemon started in its place each time. What it
measures comes from outside creneau: the simulated host's request log (which process sent
each request), the phone's messages, the kill times. Shared by tests/ha and bench/takeover."""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from creneau.dates import long_datetime
from creneau.simulator.pages import PARIS
from creneau.simulator.phone import Phone
from creneau.sources.ezbooking.simulator import Prefecture, default_bookings
from ha.cluster import (
    Daemon,
    Request,
    line_marks,
    most_in_a_minute,
    over_budget,
    overlaps,
    postgres_database,
    slot_lines,
    start_daemon,
    wait_for_active,
    write_config,
)

BOOKING, DESK = "1002", "15001"  # one desk: a check is a few requests
# A budget that binds (the daemons want a check a second), with a burst that takes longer to
# refill than a takeover lasts: a successor starting with a full bucket would show.
PER_MINUTE, BURST = 60, 20


@dataclass
class Storm:
    kills: int
    takeovers: list[float] = field(default_factory=list)  # seconds from a kill to "active"
    requests: list[Request] = field(default_factory=list)
    kill_times: list[float] = field(default_factory=list)
    slots: int = 0
    lost: list[str] = field(default_factory=list)
    messages: int = 0
    duplicated: int = 0  # messages received again (the same text), beyond the first
    overlapping: int = 0
    unattributed: int = 0
    over_budget: int = 0
    most_in_a_minute: int = 0
    late_requests: int = 0  # requests arriving between a kill and the next "active" line
    logs: list[str] = field(default_factory=list)

    @property
    def takeover_median(self) -> float:
        return statistics.median(self.takeovers)

    @property
    def takeover_p99(self) -> float:
        ordered = sorted(self.takeovers)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def run_storm(server_url: str, kills: int, lease: float | None, seed: int = 7) -> Storm:
    """`kills` SIGKILLs of the active daemon among three; `lease`: CRENEAU_LEASE_SECONDS
    (None: the default)."""
    from ha.cluster import AttributingSimulator

    chance = random.Random(seed)
    storm = Storm(kills)
    database = postgres_database(server_url, f"storm{seed}")
    work = Path(tempfile.mkdtemp(prefix="creneau-ha-"))
    prefecture = Prefecture(default_bookings())
    releasing = threading.Event()
    with AttributingSimulator(prefecture) as simulator, Phone(delay=0.3) as phone:
        config = write_config(
            work, database, simulator, phone, per_minute=PER_MINUTE, burst=BURST, booking=BOOKING
        )
        daemons: list[Daemon] = []
        everyone: list[Daemon] = []

        def start() -> Daemon:
            daemon = start_daemon(config, lease)
            simulator.pids.add(daemon.pid)
            daemons.append(daemon)
            everyone.append(daemon)
            return daemon

        def release_now_and_then() -> None:
            while not releasing.wait(chance.uniform(1.0, 3.0)):
                prefecture.release(BOOKING, DESK, chance.randint(1, 2))

        releaser = threading.Thread(target=release_now_and_then, daemon=True)
        try:
            for _ in range(3):
                start()
            active, _line = wait_for_active(daemons, timeout=180)
            # The first check is a baseline: the storm begins once it is recorded.
            active.wait_for("storm:", timeout=120)
            releaser.start()
            for _ in range(kills):
                time.sleep(chance.uniform(2.0, 6.0))  # a check, a write or a delivery
                marks = line_marks(daemons)
                killed_at = active.kill()
                storm.kill_times.append(killed_at)
                daemons.remove(active)
                active, line = wait_for_active(daemons, timeout=180, marks=marks)
                storm.takeovers.append(line.at - killed_at)
                start()
            releasing.set()
            releaser.join()
            drain(database, phone)
        finally:
            releasing.set()
            for daemon in daemons:
                daemon.stop()
            storm.logs = [daemon.text for daemon in everyone]
        received = list(phone.messages)
    storm.requests = simulator.log()
    measure(storm, database, received)
    return storm


def drain(database: str, phone: Phone, timeout: float = 180) -> None:
    """Until the outbox is empty (every alert sent) and a check ran after the last release."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database)
    deadline = time.monotonic() + timeout
    try:
        checks_before = _scalar(engine, "select count(*) from checks")
        while time.monotonic() < deadline:
            waiting = _scalar(engine, "select count(*) from notifications where state != 'sent'")
            checks = _scalar(engine, "select count(*) from checks")
            if not waiting and checks > checks_before + 1:
                return
            time.sleep(0.5)
        with engine.connect() as connection:
            rows = connection.execute(text("select id, state, attempts from notifications"))
            raise AssertionError(f"the outbox did not drain: {list(rows)}")
    finally:
        engine.dispose()


def _scalar(engine, sql: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar() or 0)


def measure(storm: Storm, database: str, received: list) -> None:  # type: ignore[type-arg]
    from sqlalchemy import create_engine, text

    engine = create_engine(database)
    with engine.connect() as connection:
        starts = [row[0] for row in connection.execute(text("select start from slots"))]
    engine.dispose()
    seen = Counter(slot_lines(received))
    storm.slots = len(starts)
    storm.lost = [
        label for start in starts if not seen[label := long_datetime(_aware(start), PARIS)]
    ]
    storm.messages = len(received)
    storm.duplicated = len(received) - len({message.body for message in received})
    storm.overlapping = len(overlaps(storm.requests))
    storm.unattributed = sum(1 for request in storm.requests if not request.pid)
    times = [request.at for request in storm.requests]
    storm.over_budget = len(over_budget(times, PER_MINUTE, BURST))
    storm.most_in_a_minute = most_in_a_minute(times)


def _aware(start: datetime) -> datetime:
    from datetime import UTC

    return start if start.tzinfo else start.replace(tzinfo=UTC)
