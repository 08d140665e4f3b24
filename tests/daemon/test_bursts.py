"""Checks at an announced release, proved from the simulated site's own log: the real daemon
runs against a simulated RDV Préfecture in virtual time; a person solves the CAPTCHA; the site
announces a publication and publishes it; the daemon checks around the announced instant,
within the host's budget, and the alert leaves seconds after the slots became visible."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from creneau import sources
from creneau.config import Config
from creneau.daemon import Daemon
from creneau.expected import BURST_EVERY, BURST_LEAD, NEVER_BEFORE
from creneau.fetch.client import PoliteClient
from creneau.sources.rdvpref.simulator import RdvPrefecture, default_demarches
from creneau.store import DatabaseThread, Store
from creneau.usecases.captcha import CaptchaDialog, solve_captcha
from harness.budgets import assert_within_budget
from harness.transport import SimulatedInternet
from harness.virtual_time import VirtualClock, scheduler_follows

PARIS = ZoneInfo("Europe/Paris")
HOST = "rdvpref.test"
DEMARCHE = "4418"
SLOTS_PAGE = f"/rdvpref/reservation/demarche/{DEMARCHE}/creneau/"


@pytest.fixture
def virtual_scheduler() -> Iterator[Callable[[VirtualClock], None]]:
    with ExitStack() as stack:
        yield lambda clock: stack.enter_context(scheduler_follows(clock))


@dataclass
class Scene:
    clock: VirtualClock
    site: RdvPrefecture
    internet: SimulatedInternet
    daemon: Daemon
    store: Store
    alerts: list[tuple[datetime, str]] = field(default_factory=list)

    def slot_page_checks(self) -> list[float]:
        return [hit.at for hit in self.internet.hits if hit.path == SLOTS_PAGE]

    def at(self, instant: datetime) -> float:
        """`instant` on the loop's clock (the site's log is kept on it)."""
        return self.clock.origin + (instant - self.clock.start).total_seconds()


def scene(tmp_path: Path, clock: VirtualClock) -> Scene:
    site = RdvPrefecture(
        default_demarches(), clock=clock.monotonic, now=lambda: clock.now().astimezone(PARIS)
    )
    internet = SimulatedInternet({HOST: site}, clock=clock.monotonic)
    config = Config.model_validate(
        {
            "creneau": {"database": f"sqlite:///{tmp_path / 'c.db'}", "contact": "t@example.org"},
            "notify": [{"name": "phone", "urls": ["json://127.0.0.1:9/"]}],
            "target": [
                {
                    "name": "allier",
                    "system": "rdvpref",
                    "url": f"https://{HOST}/rdvpref/reservation/demarche/{DEMARCHE}/",
                    "every": "5m",
                    "jitter": "0s",
                }
            ],
        }
    )
    store = Store(config.creneau.database)
    client = PoliteClient(
        "t@example.org",
        config.budget_for,
        transport=internet,
        now=clock.now,
        monotonic=clock.monotonic,
    )
    daemon = Daemon(config, store, client=client, now=clock.now, db=DatabaseThread(inline=True))
    found = Scene(clock, site, internet, daemon, store)

    async def phone(url: str, title: str, body: str, form: str) -> tuple[bool, str]:
        found.alerts.append((clock.now(), body))
        return True, ""

    daemon.sender.send = phone
    return found


async def solve(found: Scene) -> None:
    """A person reads the image and types the code, as `creneau captcha` lets them."""
    target = found.daemon.config.targets[0]
    source = sources.captcha_handler("rdvpref")
    assert source is not None

    async def shown(image: bytes) -> None:
        return None

    async def code() -> str:
        assert found.site.last_captcha_code is not None
        return found.site.last_captcha_code

    dialog = CaptchaDialog(shown, code, lambda: None, lambda finished: None)
    outcome = await solve_captcha(found.daemon.runtime, target, source, dialog)
    assert outcome.solved


def whole_minute_after(instant: datetime, minutes: int) -> datetime:
    return instant.replace(second=0, microsecond=0) + timedelta(minutes=minutes)


@pytest.mark.looptime
async def test_an_announced_release_is_caught_within_seconds_and_within_budget(
    tmp_path: Path, virtual_scheduler: Callable[[VirtualClock], None]
) -> None:
    clock = VirtualClock(asyncio.get_running_loop())
    virtual_scheduler(clock)
    found = scene(tmp_path, clock)
    stop = asyncio.Event()
    running = asyncio.create_task(found.daemon.run(stop))
    await asyncio.sleep(90)  # the first check meets the CAPTCHA
    announced = whole_minute_after(clock.now(), 30)
    found.site.announce_next_release(DEMARCHE, announced.astimezone(PARIS), announced.date())
    await asyncio.sleep((announced - timedelta(minutes=8) - clock.now()).total_seconds())
    await solve(found)
    visible = announced + timedelta(seconds=27)
    await asyncio.sleep((visible - clock.now()).total_seconds())
    found.site.release(DEMARCHE, 2)
    found.site.demarches[DEMARCHE].next_release = None
    await asyncio.sleep(90 * 60)
    stop.set()
    await running

    slots = [at for at, body in found.alerts if "2 nouveaux créneaux" in body]
    assert slots, found.alerts
    delay = (slots[0] - visible).total_seconds()
    assert 0 <= delay <= BURST_EVERY.total_seconds() + 1
    checks = found.slot_page_checks()
    start, end = found.at(announced - NEVER_BEFORE), found.at(visible + BURST_EVERY)
    around = [at for at in checks if start <= at <= end]
    # One check a minute before, then every 10 s until the release was seen, then none.
    expected = [found.at(announced - BURST_LEAD)] + [
        found.at(announced + BURST_EVERY * step) for step in range(4)
    ]
    assert around == pytest.approx(expected, abs=1.5)
    after = [at for at in checks if end < at <= end + 60]
    assert after == []
    assert_within_budget(found.internet.hits, per_minute=6, burst=10)
    # Outside the window, the 60 s floor holds (a check after the CAPTCHA is the person's).
    starts = [found.at(check.started_at) for check in found.store.checks()]
    gaps = [b - a for a, b in itertools.pairwise(starts) if not start <= a <= end]
    assert min(gaps) >= 60 - 1e-6
    # The burst's checks are paid back: no more checks than `every` alone would have made
    # (the check right after the CAPTCHA is the person's, not the schedule's).
    every_alone = clock.elapsed() // (5 * 60) + 1
    assert len(starts) - 1 <= every_alone
    found.store.close()
