"""Checks at an announced release, proved from the simulated site's own log: the real daemon
runs against a simulated RDV Préfecture in virtual time; a person solves the CAPTCHA; the site
announces a publication and publishes it; the daemon checks around the announced instant,
within the host's budget, and the alert leaves seconds after the slots became visible."""

from __future__ import annotations

import asyncio
import itertools
import random
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
from creneau.expected import BURST_EVERY, BURST_LEAD, BURST_SPAN, DEFAULT_PREPARE, NEVER_BEFORE
from creneau.fetch.client import PoliteClient
from creneau.sources.rdvpref.simulated_releases import whole_minute_from
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


def scene(tmp_path: Path, clock: VirtualClock, session_ttl: float | None = None) -> Scene:
    site = RdvPrefecture(
        default_demarches(),
        clock=clock.monotonic,
        now=clock.now,
        session_ttl=session_ttl,
        rng=random.Random(5),
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


async def until(found: Scene, words: str, limit: timedelta) -> datetime:
    """Wait (on the virtual clock) for an alert saying `words`; when it came."""
    deadline = found.clock.now() + limit
    while found.clock.now() < deadline:
        for at, body in found.alerts:
            if words in body:
                return at
        await asyncio.sleep(1)
    raise AssertionError(f"no alert saying {words!r}: {found.alerts}")


async def started_and_solved(found: Scene) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """The daemon running; its first check met the CAPTCHA, which a person solved."""
    stop = asyncio.Event()
    running = asyncio.create_task(found.daemon.run(stop))
    await until(found, "CAPTCHA", timedelta(minutes=2))
    await solve(found)
    return stop, running


def in_paris(at: datetime) -> str:
    return at.astimezone(PARIS).strftime("%H:%M")


@pytest.mark.looptime
async def test_announcement_prepare_alert_captcha_burst_and_alert(
    tmp_path: Path, virtual_scheduler: Callable[[VirtualClock], None]
) -> None:
    """The site announces a publication; the person's site session ends meanwhile (the site
    limits its age); the prepare alert asks for the CAPTCHA before T; the person solves it;
    the burst sees the slots seconds after they show, and stops."""
    clock = VirtualClock(asyncio.get_running_loop())
    virtual_scheduler(clock)
    found = scene(tmp_path, clock, session_ttl=20 * 60)
    stop, running = await started_and_solved(found)
    announced = whole_minute_from(clock.now() + timedelta(minutes=40))
    publication = found.site.schedule_publication(DEMARCHE, announced, 2)
    prepare = DEFAULT_PREPARE
    asked = await until(found, "résolvez le CAPTCHA avant", timedelta(minutes=45))
    assert asked == pytest.approx(announced - prepare, abs=timedelta(seconds=2))
    said = next(body for at, body in found.alerts if at == asked)
    assert f"Mise en ligne annoncée à {in_paris(announced)}" in said
    assert f"avant {in_paris(announced - prepare / 2)}" in said
    await asyncio.sleep(120)  # the person takes two minutes to come
    await solve(found)
    caught = await until(found, "2 nouveaux créneaux", timedelta(minutes=15))
    visible = publication.visible_at
    assert 0 <= (caught - visible).total_seconds() <= BURST_EVERY.total_seconds() + 1
    await asyncio.sleep(60 * 60)
    stop.set()
    await running

    checks = found.slot_page_checks()
    start, end = found.at(announced - NEVER_BEFORE), found.at(caught + BURST_EVERY)
    around = [at for at in checks if start <= at <= end]
    steps = int((caught - announced) / BURST_EVERY) + 1
    expected = [found.at(announced - BURST_LEAD)] + [
        found.at(announced + BURST_EVERY * step) for step in range(steps)
    ]
    assert around == pytest.approx(expected, abs=1.5)  # one before, every 10 s, then none
    assert_within_budget(found.internet.hits, per_minute=6, burst=10)
    # Outside the window, the 60 s floor holds (a check after the CAPTCHA is the person's).
    starts = [found.at(check.started_at) for check in found.store.checks()]
    gaps = [b - a for a, b in itertools.pairwise(starts) if not start <= a <= end]
    assert min(gaps) >= 60 - 1e-6
    # The burst's checks are paid back: no more checks than `every` alone would have made
    # (the checks right after each CAPTCHA are the person's, not the schedule's).
    assert len(starts) - 2 <= clock.elapsed() // (5 * 60) + 1
    followed = found.store.announcement("allier")
    assert followed is not None
    assert (followed.at, followed.outcome, followed.session_ready) == (
        announced,
        "released",
        True,
    )
    found.store.close()


@pytest.mark.looptime
async def test_without_a_session_at_the_release_the_log_says_so_and_the_checks_go_on(
    tmp_path: Path,
    virtual_scheduler: Callable[[VirtualClock], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = VirtualClock(asyncio.get_running_loop())
    virtual_scheduler(clock)
    found = scene(tmp_path, clock, session_ttl=20 * 60)
    stop, running = await started_and_solved(found)
    announced = whole_minute_from(clock.now() + timedelta(minutes=40))
    found.site.schedule_publication(DEMARCHE, announced, 2)
    await asyncio.sleep((announced + timedelta(minutes=5) - clock.now()).total_seconds())
    stop.set()
    await running

    assert any("no site session is ready" in record.getMessage() for record in caplog.records)
    window = [
        at
        for at in found.slot_page_checks()
        if found.at(announced) <= at <= found.at(announced + BURST_SPAN)
    ]
    assert len(window) == int(BURST_SPAN / BURST_EVERY) + 1  # the checks went on
    followed = found.store.announcement("allier")
    assert followed is not None
    assert followed.session_ready is False
    found.store.close()


@pytest.mark.looptime
async def test_a_withdrawn_announcement_places_no_checks(
    tmp_path: Path, virtual_scheduler: Callable[[VirtualClock], None]
) -> None:
    clock = VirtualClock(asyncio.get_running_loop())
    virtual_scheduler(clock)
    found = scene(tmp_path, clock)
    stop, running = await started_and_solved(found)
    announced = whole_minute_from(clock.now() + timedelta(minutes=30))
    found.site.announce_next_release(DEMARCHE, announced, announced.date())
    await asyncio.sleep(12 * 60)
    found.site.demarches[DEMARCHE].next_release = None
    await asyncio.sleep((announced + timedelta(minutes=10) - clock.now()).total_seconds())
    stop.set()
    await running

    starts = [check.started_at for check in found.store.checks()]
    assert all(b - a >= timedelta(seconds=60) for a, b in itertools.pairwise(starts[1:]))
    followed = found.store.announcement("allier")
    assert followed is not None
    assert followed.outcome == "withdrawn"
    found.store.close()
