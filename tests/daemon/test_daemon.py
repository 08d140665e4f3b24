"""The daemon end to end on loopback: simulator releases slots, the phone receives exactly
one alert per release, a restart re-announces nothing, a broken target harms no other."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from conftest import english
from creneau.config import Config
from creneau.daemon import Daemon, check_job
from creneau.fetch.client import PoliteClient
from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.sources import ezbooking
from creneau.sources.ezbooking.simulator import Prefecture
from creneau.store import Store
from creneau.store.lock import AlreadyRunning
from processes import StderrLines


def config_for(database: str, phone: Phone, targets: list[dict[str, object]]) -> Config:
    return Config.model_validate(
        {
            "creneau": {"database": database, "contact": "tests@example.org"},
            "notify": [{"name": "phone", "urls": [phone.apprise_url]}],
            "target": [
                {"system": "ezbooking", "every": "500ms", "jitter": "0s", **t} for t in targets
            ],
            "hosts": {"127.0.0.1": {"per_minute": 6000, "burst": 60}},  # loopback may go faster
        }
    )


async def until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


class Running:
    """A daemon running in the test's event loop until `stop()`."""

    def __init__(self, config: Config, store: Store) -> None:
        self.checks: list[str] = []
        self.daemon = Daemon(
            config,
            store,
            on_recorded=lambda r: self.checks.append(f"{r.result.target}:{r.result.status.value}"),
        )
        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(self.daemon.run(self.stop_event))

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.wait_for(self.task, 15)


async def test_one_alert_per_release_and_none_again_after_a_restart(
    simulator: SimulatorServer, prefecture: Prefecture, phone: Phone, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'creneau.db'}"
    config = config_for(
        database, phone, [{"name": "nanterre", "url": simulator.booking_url("1001")}]
    )
    store = Store(database)

    running = Running(config, store)
    await until(lambda: len(running.checks) >= 1)
    prefecture.release("1001", "14007", 2)
    await until(lambda: len(phone.messages) >= 1)
    checks_at_alert = len(running.checks)
    await until(lambda: len(running.checks) >= checks_at_alert + 2)  # same slots seen again
    await running.stop()

    restarted = Running(config, store)
    await until(lambda: len(restarted.checks) >= 2)
    prefecture.release("1001", "14006", 1)
    await until(lambda: len(phone.messages) >= 2)
    await until(lambda: len(restarted.checks) >= 5)
    await restarted.stop()

    assert [m.title for m in phone.messages] == [
        "2 nouveaux créneaux — Guichet 2 - Remise de titre",
        "1 nouveau créneau — Guichet 1 - Remise de titre",
    ]
    assert "creneau ne réserve jamais à votre place" in phone.messages[0].body
    assert simulator.booking_url("1001") in phone.messages[0].body
    assert [n.state for n in store.notifications()] == ["sent", "sent"]
    assert prefecture.violations == []


async def test_a_target_whose_adapter_raises_does_not_stop_the_others(
    simulator: SimulatorServer,
    prefecture: Prefecture,
    phone: Phone,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_check = ezbooking.check

    async def sometimes_broken(target: ezbooking.Target, session: object) -> object:
        if target.name == "broken":
            raise RuntimeError("adapter bug")
        return await real_check(target, session)  # type: ignore[arg-type]

    monkeypatch.setattr(ezbooking, "check", sometimes_broken)
    database = f"sqlite:///{tmp_path / 'creneau.db'}"
    config = config_for(
        database,
        phone,
        [
            {"name": "broken", "url": simulator.booking_url("1003")},
            {"name": "fine", "url": simulator.booking_url("1001")},
        ],
    )
    store = Store(database)
    running = Running(config, store)
    await until(lambda: running.checks.count("broken:error") >= 2)
    prefecture.release("1001", "14012", 1)
    await until(lambda: len(phone.messages) >= 1)
    await running.stop()
    assert phone.messages[0].title == "1 nouveau créneau — Guichet 5 - Étudiants"
    errors = [english(c.said) for c in store.checks("broken")]
    assert set(errors) == {"internal error: RuntimeError: adapter bug"}


@pytest.mark.slow
def test_creneau_run_stops_cleanly_on_sigterm(
    simulator: SimulatorServer, prefecture: Prefecture, phone: Phone, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[creneau]
database = "sqlite:///creneau.db"
contact = "tests@example.org"
[[notify]]
name = "phone"
urls = ["{phone.apprise_url}"]
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{simulator.booking_url("1001")}"
every = "1s"
jitter = "0s"
[hosts."127.0.0.1"]
per_minute = 600
burst = 60
""")
    prefecture.release("1001", "14007", 1)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "creneau", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        messages = phone.wait_for(1, timeout=30)
        while checks_recorded(tmp_path / "creneau.db") < 2:
            time.sleep(0.05)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert "stopped" in err
    assert [m.title for m in messages] == ["1 nouveau créneau — Guichet 2 - Remise de titre"]
    with sqlite3.connect(tmp_path / "creneau.db") as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        assert db.execute("select count(*) from checks").fetchone()[0] >= 2


@pytest.mark.slow
def checks_recorded(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("select count(*) from checks").fetchone()[0])


def catches(pid: int, signum: int) -> bool:
    """Whether the process has a handler for `signum` (Linux: SigCgt in /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(mask, 16) >> (signum - 1) & 1)


def start_daemon(tmp_path: Path) -> subprocess.Popen[str]:
    config = tmp_path / "config.toml"
    config.write_text(
        '[creneau]\ncontact = "t@example.org"\ndatabase = "sqlite:///c.db"\n'
        '[[target]]\nname = "t"\nsystem = "ezbooking"\n'
        'url = "http://127.0.0.1:9/booking/create/1"\nevery = "1s"\n'
        "[web]\nenabled = false\n"
    )
    return subprocess.Popen(
        [sys.executable, "-m", "creneau", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_start_up_also_stops_cleanly(tmp_path: Path, signum: int) -> None:
    """The signal goes the moment the process can take it, while it is still importing:
    a clean stop, status 0, no traceback. (creneau catches SIGTERM last; Python catches
    SIGINT from its own start.)"""
    daemon = start_daemon(tmp_path)
    deadline = time.monotonic() + 30
    while not catches(daemon.pid, signal.SIGTERM) and daemon.poll() is None:
        assert time.monotonic() < deadline, "the process never installed its signal handler"
        time.sleep(0.001)
    daemon.send_signal(signum)
    _out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert "Traceback" not in err


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_once_the_daemon_runs_stops_it_cleanly(tmp_path: Path, signum: int) -> None:
    daemon = start_daemon(tmp_path)
    assert daemon.stderr is not None
    started = ""
    while "first check" not in started:  # the plan, printed once the scheduler runs
        line = daemon.stderr.readline()
        assert line, f"the daemon ended before it started: {started}"
        started += line
    daemon.send_signal(signum)
    _out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, started + err
    assert "stopped" in err
    assert "Traceback" not in started + err


async def test_targets_may_be_named_like_the_daemon_s_own_jobs(
    simulator: SimulatorServer, phone: Phone, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'creneau.db'}"
    names = ["retention", "heartbeat", "adaptive"]
    config = Config.model_validate(
        {
            "creneau": {"database": database, "contact": "tests@example.org", "heartbeat": "09:00"},
            "target": [
                {
                    "name": name,
                    "system": "ezbooking",
                    "url": simulator.booking_url("1003"),
                    "every": "500ms",
                    "adaptive": True,
                }
                for name in names
            ],
            "hosts": {"127.0.0.1": {"per_minute": 600, "burst": 60}},
        }
    )
    checked: set[str] = set()
    daemon = Daemon(config, Store(database), on_recorded=lambda r: checked.add(r.result.target))
    stop = asyncio.Event()
    running = asyncio.create_task(daemon.run(stop))
    await until(lambda: checked == set(names))
    assert set(daemon.first_checks()) == set(names)
    stop.set()
    await asyncio.wait_for(running, 15)


class Hanging(httpx.AsyncBaseTransport):
    """A site that takes every request and never answers."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_check_in_flight_when_the_daemon_stops_is_recorded_as_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check_job, "STOP_GRACE_SECONDS", 0.1)
    database = f"sqlite:///{tmp_path / 'creneau.db'}"
    config = Config.model_validate(
        {
            "creneau": {"database": database, "contact": "tests@example.org"},
            "target": [
                {
                    "name": "slow",
                    "system": "ezbooking",
                    "url": "http://127.0.0.1:9/booking/create/1",
                    "every": "1s",
                    "respect_robots": False,
                }
            ],
        }
    )
    site = Hanging()
    client = PoliteClient("tests@example.org", config.budget_for, transport=site)
    store = Store(database)
    daemon = Daemon(config, store, client=client)
    stop = asyncio.Event()
    running = asyncio.create_task(daemon.run(stop))
    await asyncio.wait_for(site.asked.wait(), 30)
    stop.set()
    await asyncio.wait_for(running, 30)
    assert [(row.target, row.status, english(row.said)) for row in store.checks()] == [
        ("slow", "error", english(check_job.INTERRUPTED))
    ]


@pytest.mark.slow
def test_sighup_reloads_the_config(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path)
    stderr = StderrLines(daemon)
    stderr.wait_for("first check")
    daemon.send_signal(signal.SIGHUP)
    stderr.wait_for("config reloaded: 0 target(s) added, 0 stopped, 0 changed")
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=30)
    assert daemon.returncode == 0, stderr.rest()
    assert "stopped" in stderr.rest()


@pytest.mark.slow
def test_a_second_daemon_on_the_same_database_refuses_to_start(tmp_path: Path) -> None:
    first = start_daemon(tmp_path)
    first_lines = StderrLines(first)
    first_lines.wait_for("first check")
    second = subprocess.run(
        [sys.executable, "-m", "creneau", "run", "--config", str(tmp_path / "config.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=30)
    assert second.returncode == 2
    (line,) = second.stderr.splitlines()
    assert line.startswith(f"creneau: another creneau run already uses {tmp_path / 'c.db'} (pid ")
    assert line.endswith("stop it first")
    assert first.returncode == 0


def test_the_daemon_lock_is_free_again_once_released(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    lock = store.daemon_lock()
    lock.acquire()
    with pytest.raises(AlreadyRunning, match="another creneau run already uses"):
        store.daemon_lock().acquire()
    lock.release()
    again = store.daemon_lock()
    again.acquire()
    again.release()
