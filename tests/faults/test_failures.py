"""The daemon under trouble it cannot fix: a channel that is down, slow or answers 500; a
database that is locked for a while; a full disk. Each time it keeps checking, says what is
wrong once, and recovers by itself."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from creneau.config import Config
from creneau.daemon import Daemon, health, watchdog
from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import Prefecture
from creneau.store import Store


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def config_for(database: str, phone: Phone, simulator: SimulatorServer) -> Config:
    return Config.model_validate(
        {
            "creneau": {"database": database, "contact": "faults@example.org"},
            "notify": [{"name": "phone", "urls": [phone.apprise_url]}],
            "target": [
                {
                    "name": "nanterre",
                    "system": "ezbooking",
                    "url": simulator.booking_url("1001"),
                    "every": "300ms",
                    "jitter": "0s",
                }
            ],
            "hosts": {"127.0.0.1": {"per_minute": 6000, "burst": 60}},
        }
    )


class Running:
    def __init__(self, config: Config) -> None:
        self.store = Store(config.creneau.database)
        self.checks = 0
        self.daemon = Daemon(config, self.store, on_recorded=self._count)
        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(self.daemon.run(self.stop_event))

    def _count(self, _recorded: object) -> None:
        self.checks += 1

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.wait_for(self.task, 20)


def said(caplog: pytest.LogCaptureFixture, level: int, words: str) -> int:
    return sum(1 for r in caplog.records if r.levelno == level and words in r.getMessage())


@pytest.mark.parametrize("trouble", ["down", "answers 500", "slow"])
async def test_a_channel_in_trouble_holds_alerts_not_checks(
    trouble: str,
    simulator: SimulatorServer,
    prefecture: Prefecture,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="creneau")
    phone = Phone(delay=40.0 if trouble == "slow" else 0.0).start()  # slower than the timeout
    if trouble == "down":
        phone.stop()  # nothing listens on its port any more
    else:
        phone.up = trouble != "answers 500"
    running = Running(config_for(f"sqlite:///{tmp_path / 'c.db'}", phone, simulator))
    prefecture.release("1001", "14007", 2)
    await until(lambda: running.checks >= 3)
    prefecture.release("1001", "14006", 1)
    await until(lambda: running.checks >= 8, seconds=60)
    await running.stop()
    states = [n.state for n in running.store.notifications()]
    assert states == ["pending", "pending"]  # kept, not lost
    assert said(caplog, logging.WARNING, "does not take alerts") == 1  # said once
    if trouble != "down":
        phone.stop()


async def test_alerts_held_by_a_channel_outage_go_out_when_it_is_back(
    simulator: SimulatorServer,
    prefecture: Prefecture,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="creneau")
    with Phone() as phone:
        phone.up = False
        running = Running(config_for(f"sqlite:///{tmp_path / 'c.db'}", phone, simulator))
        prefecture.release("1001", "14007", 2)
        await until(lambda: said(caplog, logging.WARNING, "does not take alerts") == 1)
        phone.up = True
        await until(lambda: len(phone.messages) == 1, seconds=45)  # the first retry: 30 s
        await running.stop()
    assert phone.messages[0].title == "2 nouveaux créneaux — Guichet 2 - Remise de titre"
    assert said(caplog, logging.INFO, "delivers again") == 1


async def test_a_briefly_locked_database_loses_nothing(
    simulator: SimulatorServer, prefecture: Prefecture, phone: Phone, tmp_path: Path
) -> None:
    database = tmp_path / "c.db"
    running = Running(config_for(f"sqlite:///{database}", phone, simulator))
    await until(lambda: running.checks >= 2)
    blocker = sqlite3.connect(database, timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")
    prefecture.release("1001", "14012", 1)  # appears while nothing can be written
    await asyncio.sleep(3)
    locked_at = running.checks
    blocker.rollback()
    blocker.close()
    await until(lambda: running.checks >= locked_at + 3)
    await until(lambda: len(phone.messages) >= 1)
    await running.stop()
    assert phone.messages[0].title == "1 nouveau créneau — Guichet 5 - Étudiants"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs for the data directory; skipped where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


async def test_a_full_disk_is_said_once_and_recording_resumes_when_space_returns(
    small_disk: Path,
    simulator: SimulatorServer,
    prefecture: Prefecture,
    phone: Phone,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="creneau")
    running = Running(config_for(f"sqlite:///{small_disk / 'c.db'}", phone, simulator))
    await until(lambda: running.checks >= 2)
    filler = small_disk / "filler"
    with filler.open("wb", buffering=0) as handle:  # fill the disk to the last byte
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    recorded_before = running.checks
    await asyncio.sleep(4)  # checks go on, nothing can be written
    assert running.checks == recorded_before
    os.unlink(filler)
    await until(lambda: running.checks >= recorded_before + 3)
    await running.stop()
    assert said(caplog, logging.ERROR, "cannot write to the database") == 1
    assert said(caplog, logging.INFO, "the database works again") == 1


async def test_a_full_disk_is_told_directly_new_slots_still_go_and_the_checks_are_caught_up(
    small_disk: Path,
    simulator: SimulatorServer,
    prefecture: Prefecture,
    phone: Phone,
) -> None:
    running = Running(config_for(f"sqlite:///{small_disk / 'c.db'}", phone, simulator))
    await until(lambda: running.checks >= 2)
    filler = small_disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    prefecture.release("1001", "14007", 2)
    await until(lambda: len(phone.messages) >= 2)
    titles = sorted(message.title for message in phone.messages)
    assert titles == [
        "2 nouveaux créneaux — Guichet 2 - Remise de titre",
        "creneau ne peut plus écrire dans sa base de données",
    ]
    recorded_before = running.checks
    os.unlink(filler)
    await until(lambda: running.checks >= recorded_before + 2)
    await running.stop()
    caught_up = [row for row in running.store.checks() if row.slot_count == 2]
    assert caught_up, "the checks made while the disk was full were recorded afterwards"
    assert len(running.store.slots()) == 2
    assert len(phone.messages) == 2  # the catch-up announced nothing twice


async def test_a_deleted_database_is_told_directly_and_health_fails(
    simulator: SimulatorServer, prefecture: Prefecture, phone: Phone, tmp_path: Path
) -> None:
    database = tmp_path / "c.db"
    running = Running(config_for(f"sqlite:///{database}", phone, simulator))
    await until(lambda: running.checks >= 2)
    database.unlink()
    await until(lambda: len(phone.messages) >= 1)
    assert [message.title for message in phone.messages] == [
        "creneau ne peut plus écrire dans sa base de données"
    ]
    assert "was deleted" in phone.messages[0].body
    await running.stop()
    assert not database.exists()  # nothing recreated it behind the user's back


async def test_a_daemon_that_stops_checking_says_so(
    simulator: SimulatorServer,
    phone: Phone,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(watchdog, "WATCHDOG_EVERY", timedelta(milliseconds=200))
    monkeypatch.setattr(health, "HEALTH_GRACE", timedelta(seconds=1))
    running = Running(config_for(f"sqlite:///{tmp_path / 'c.db'}", phone, simulator))
    await until(lambda: running.checks >= 1)
    assert running.daemon.scheduler is not None
    running.daemon.scheduler.pause()  # as if APScheduler's loop had died
    await until(lambda: len(phone.messages) >= 1)
    await running.stop()
    assert [message.title for message in phone.messages] == ["creneau ne vérifie plus comme prévu"]
    assert "nanterre: its check was due at" in phone.messages[0].body
