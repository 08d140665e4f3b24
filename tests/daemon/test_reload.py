"""The daemon takes config changes without a restart: on SIGHUP and when the file changes,
a valid config adds, stops and reschedules only what changed; an invalid one leaves the
running config in place and is said once."""

from __future__ import annotations

import asyncio
import html
import random
import signal
import subprocess
import sys
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
from processes import StderrLines

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
            await until(lambda text=text: daemon.config_file.refused == text.encode())
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


# --- whatever a reload meets, the reloader lives on --------------------------------------------

DEEP = 100_000


def deep_file(head: str, url: str) -> str:
    """Valid but for one setting: a list nested past what any TOML parser's stack holds."""
    return head + target("n1", url) + "desks = " + "[" * DEEP + "]" * DEEP + "\n"


def html_file(head: str, url: str, **settings: str) -> str:
    lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
    return (
        head
        + target("n1", url)
        + f'\n[[target]]\nname = "h"\nsystem = "html"\nurl = "{url}"\n'
        + lines
    )


@pytest.mark.slow
def test_the_running_daemon_refuses_what_broke_its_reloader_and_takes_the_next_change(
    simulator: SimulatorServer, phone: Phone, tmp_path: Path
) -> None:
    """A file nested 100,000 deep, a CSS selector and a regular expression that could hang:
    each refused in one line naming file, place and problem, the running config kept, a
    trouble alert each; then a valid change and a SIGHUP are still taken, and SIGTERM stops
    it cleanly (before, the reloader died at the first: no reload, no word, a traceback)."""
    path = tmp_path / "config.toml"
    head = HEAD.format(phone=phone.apprise_url) + "\n[web]\nenabled = false\n"
    url = simulator.booking_url("1003")  # never a slot: the only alerts are about the config
    path.write_text(head + target("n1", url))
    deep = deep_file(head, url)
    deep_line = deep[: deep.index("desks = ")].count("\n") + 1
    daemon = subprocess.Popen(
        [sys.executable, "-m", "creneau", "run", "--config", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = StderrLines(daemon)
    try:
        stderr.wait_for("first check")
        refused = f"config not reloaded, the running one stays: {path}: "
        for text, said in (
            (
                deep,
                f"line {deep_line}, column 9: lists or tables nested {DEEP} deep, too deep to "
                "read (TOML syntax)",
            ),
            (
                html_file(head, url, slot_selector='"' + ":is(" * 600 + "li" + ")" * 600 + '"'),
                'target "h".slot_selector: not a CSS selector soupsieve can compile',
            ),
            (
                html_file(head, url, slot_selector='"li"', slot_time_pattern="'(\\d+\\s?)+$'"),
                'target "h".slot_time_pattern: a repetition over something that repeats',
            ),
        ):
            path.write_text(text)
            stderr.wait_for(refused + said)
        path.write_text(head + target("n1", url) + target("n2", url))
        stderr.wait_for("config reloaded: 1 target(s) added, 0 stopped, 0 changed")
        daemon.send_signal(signal.SIGHUP)
        stderr.wait_for("config reloaded: 0 target(s) added, 0 stopped, 0 changed")
        deadline = time.monotonic() + 60
        while refusals_told(phone) < 3 and time.monotonic() < deadline:
            phone.wait_for(len(phone.messages) + 1, timeout=deadline - time.monotonic())
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
    rest = stderr.rest()
    assert daemon.returncode == 0, rest
    assert "Traceback" not in rest
    assert sum(refused in line for line in stderr.lines) == 3
    assert refusals_told(phone) == 3


REFUSED_TITLE = "creneau n'a pas repris sa configuration modifiée"


def refusals_told(phone: Phone) -> int:
    """The refused-config alerts the phone received, each alone or within a digest (alerts
    waiting together, on a busy machine, go out as one message that names each)."""
    return sum(
        1 if message.title == REFUSED_TITLE else html.unescape(message.body).count(REFUSED_TITLE)
        for message in phone.messages
    )


async def test_a_reload_that_fails_past_the_checks_keeps_the_config_and_the_reloader(
    simulator: SimulatorServer, phone: Phone, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The database failing while a change is taken (or any failure past the config's own
    checks): the running config stays, it is said once, and the next change is taken."""
    path = tmp_path / "config.toml"
    head = HEAD.format(phone=phone.apprise_url)
    url = simulator.booking_url("1003")  # never a slot: the only alerts are about the config
    path.write_text(head + target("n1", url))
    daemon = Daemon(load_config(path), Store(f"sqlite:///{tmp_path / 'c.db'}"), config_path=path)
    stop = asyncio.Event()
    running = asyncio.create_task(daemon.run(stop))
    await until(lambda: set(daemon.first_checks()) == {"n1"})
    last_checks = daemon.store.last_checks

    def gone() -> dict[str, object]:
        raise RuntimeError("the database went away")

    daemon.store.last_checks = gone  # type: ignore[method-assign]
    first = head + target("n1", url) + target("n2", url)
    path.write_text(first)
    await until(lambda: daemon.config_file.refused == first.encode())
    path.write_text(first + "# the same change again\n")
    await until(
        lambda: daemon.config_file.refused == (first + "# the same change again\n").encode()
    )
    assert set(daemon.first_checks()) == {"n1"}
    assert [t.name for t in daemon.config.targets] == ["n1"]
    said = [r.getMessage() for r in caplog.records if "config not reloaded" in r.getMessage()]
    assert said == [
        f"config not reloaded, the running one stays: {path}: could not be taken "
        "(RuntimeError: the database went away)"
    ]
    daemon.store.last_checks = last_checks  # type: ignore[method-assign]
    path.write_text(head + target("n1", url) + target("n3", url))
    await until(lambda: set(daemon.first_checks()) == {"n1", "n3"})
    alerts = phone.wait_for(1, timeout=30)
    stop.set()
    await asyncio.wait_for(running, 30)
    assert [alert.title for alert in alerts] == ["creneau n'a pas repris sa configuration modifiée"]
