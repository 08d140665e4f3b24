"""kill -9 of a real `creneau run` at random moments of a release storm — during a fetch,
a database write or a delivery — then a restart, many times. Afterwards: the database is
intact, every slot creneau recorded reached the phone, and a message came twice at most
once per kill (the one in flight when the process died)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from creneau.dates import long_datetime
from creneau.simulator.pages import PARIS
from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import Prefecture, default_bookings

DESKS = ["14006", "14007", "14012"]
REPORT = Path(__file__).resolve().parents[2] / "bench" / "faults.json"


def start_daemon(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "creneau", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def write_config(tmp_path: Path, simulator: SimulatorServer, phone: Phone) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[creneau]
database = "sqlite:///creneau.db"
contact = "faults@example.org"
data_dir = "{tmp_path / "data"}"
[[notify]]
name = "phone"
urls = ["{phone.apprise_url}"]
[[target]]
name = "storm"
system = "ezbooking"
url = "{simulator.booking_url("1001")}"
every = "300ms"
jitter = "0s"
[hosts."127.0.0.1"]
per_minute = 60000
burst = 60
""")
    return config


def slot_label(start: datetime) -> str:
    """How a slot reads in a French message."""
    return long_datetime(start, PARIS)


def run_storm(tmp_path: Path, kills: int, seed: int) -> dict[str, float]:
    chance = random.Random(seed)
    prefecture = Prefecture(default_bookings())
    with SimulatorServer(prefecture) as simulator, Phone(delay=0.15) as phone:
        config = write_config(tmp_path, simulator, phone)
        for _ in range(kills):
            prefecture.release("1001", chance.choice(DESKS), chance.randint(1, 2))
            daemon = start_daemon(config)
            time.sleep(chance.uniform(0.8, 3.5))  # start-up takes about a second
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(timeout=30)
        # Let a last run check and bring everything out, then stop it properly.
        database = tmp_path / "creneau.db"
        with sqlite3.connect(database) as db:
            checks_before = db.execute("select count(*) from checks").fetchone()[0]
        daemon = start_daemon(config)
        deadline = time.monotonic() + 180  # a loaded machine can be slow to drain
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
                    waiting = db.execute(
                        "select count(*) from notifications where state != 'sent'"
                    ).fetchone()[0]
                    checks = db.execute("select count(*) from checks").fetchone()[0]
            except sqlite3.OperationalError:
                continue  # not created or migrated yet
            if not waiting and checks > checks_before:
                break
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        received = list(phone.messages)
    with sqlite3.connect(database) as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        slots = db.execute("select start, first_seen from slots").fetchall()
        states = Counter(state for (state,) in db.execute("select state from notifications"))
        check_count = db.execute("select count(*) from checks").fetchone()[0]
    assert states.keys() <= {"sent"}, f"alerts left unsent after the last run: {states}"
    seen: Counter[str] = Counter()
    for message in received:
        for line in message.body.splitlines():
            if line.startswith("- "):
                seen[line[2:].strip()] += 1
    lost, delays = 0, []
    for start, first_seen in slots:
        label = slot_label(datetime.fromisoformat(start + "+00:00"))
        if not seen[label]:
            lost += 1
            continue
        received_at = min(m.at for m in received if label in m.body)
        delays.append(received_at - datetime.fromisoformat(first_seen + "+00:00").timestamp())
    repeated_messages = len(received) - len({m.body for m in received})
    return {
        "kills": kills,
        "checks": check_count,
        "slots": len(slots),
        "messages": len(received),
        "lost": lost,
        "duplicated_messages": repeated_messages,
        "median_delay_s": round(statistics.median(delays), 2) if delays else 0.0,
        "p99_delay_s": round(sorted(delays)[int(0.99 * (len(delays) - 1))], 2) if delays else 0.0,
    }


@pytest.mark.slow
def test_a_few_kills_lose_nothing(tmp_path: Path) -> None:
    outcome = run_storm(tmp_path, kills=6, seed=3)
    assert outcome["slots"] >= 6
    assert outcome["lost"] == 0
    assert outcome["duplicated_messages"] <= outcome["kills"]


@pytest.mark.long
def test_a_hundred_kills_lose_nothing(tmp_path: Path) -> None:
    outcome = run_storm(tmp_path, kills=100, seed=11)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({"kill9": outcome}, indent=2) + "\n")
    print(json.dumps(outcome))
    assert outcome["lost"] == 0
    assert outcome["duplicated_messages"] <= outcome["kills"]
