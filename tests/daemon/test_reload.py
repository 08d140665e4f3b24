"""The daemon takes config changes without a restart: on SIGHUP and when the file changes,
a valid config adds, stops and reschedules only what changed; an invalid one leaves the
running config in place and is said once."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from creneau.config import load_config
from creneau.daemon import Daemon
from creneau.daemon.reload import compare, digest
from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.store import Store

HEAD = """# creneau, edited while it runs
[creneau]
contact = "reload@example.org"  # who the sites may reach
database = "sqlite:///c.db"

[[notify]]
name = "phone"
urls = ["{phone}"]

[hosts."127.0.0.1"]
per_minute = 6000
burst = 60
"""


def target(name: str, url: str, every: str = "1s", paused: bool = False) -> str:
    flag = "paused = true\n" if paused else ""
    return (
        f'\n[[target]]\nname = "{name}"\nsystem = "ezbooking"\nurl = "{url}"\n'
        f'every = "{every}"\njitter = "0s"\n{flag}'
    )


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_the_change_between_two_configs_is_per_target(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    url = "http://127.0.0.1:9/booking/create/1001"
    path.write_text(HEAD.format(phone="json://127.0.0.1:9/") + target("a", url) + target("b", url))
    old = load_config(path)
    path.write_text(
        HEAD.format(phone="json://127.0.0.1:9/")
        + target("a", url, every="2s")
        + target("b", url, paused=True)
        + target("c", url)
    )
    change = compare(old, load_config(path))
    assert [t.name for t in change.added] == ["c"]
    assert change.removed == ("b",)
    assert [t.name for t in change.changed] == ["a"]
    assert change.needs_restart == ()


@pytest.mark.slow
async def test_random_edits_are_taken_or_refused_and_the_schedule_follows_the_file(
    simulator: SimulatorServer, phone: Phone, tmp_path: Path
) -> None:
    chance = random.Random(17)
    path = tmp_path / "config.toml"
    head = HEAD.format(phone=phone.apprise_url)
    urls = [simulator.booking_url(booking) for booking in ("1002", "1003")]
    names = ["n1", "n2", "n3", "n4"]

    def valid_text(active: set[str], paused: set[str]) -> str:
        return head + "".join(
            target(name, urls[index % 2], every=chance.choice(["1s", "2s"]), paused=name in paused)
            for index, name in enumerate(names)
            if name in active | paused
        )

    active, paused = {"n1", "n2"}, set[str]()
    path.write_text(valid_text(active, paused))
    daemon = Daemon(load_config(path), Store(f"sqlite:///{tmp_path / 'c.db'}"), config_path=path)
    stop = asyncio.Event()
    running = asyncio.create_task(daemon.run(stop))
    await until(lambda: set(daemon.first_checks()) == active)
    refused, runs_of_mistakes, wrong = 0, 0, False
    for step in range(50):
        if chance.random() < 0.3:
            runs_of_mistakes += 0 if wrong else 1
            wrong = True
            text = path.read_text().replace("[[target]]", "[[target", 1) + f"\n# step {step}\n"
            path.write_text(text)
            await until(lambda text=text: daemon._refused_config == text.encode())
            refused += 1
            assert set(daemon.first_checks()) == active  # the old schedule runs on
            continue
        wrong = False
        active = set(chance.sample(names, chance.randint(1, 4)))
        paused = set(chance.sample(sorted(set(names) - active), chance.randint(0, 4 - len(active))))
        path.write_text(valid_text(active, paused) + f"\n# step {step}\n")
        started = time.monotonic()
        await until(lambda wanted=active: set(daemon.first_checks()) == wanted, seconds=2.0)
        assert time.monotonic() - started < 2.0
    stop.set()
    await asyncio.wait_for(running, 30)
    assert refused >= 10
    facts = daemon.store.facts()
    assert facts["config_digest"][0] == digest(path.read_bytes())
    refusals = [m for m in phone.messages if "configuration" in m.title]
    assert len(refusals) == runs_of_mistakes  # said once while the file stays wrong
    slots = [m.body for m in phone.messages if m not in refusals]
    assert len(slots) == len(set(slots))  # no slot alert sent twice
