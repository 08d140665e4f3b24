"""Politeness proved from the servers' own logs: the real daemon (APScheduler, triggers,
checks, store) runs against simulated préfectures for simulated hours, in virtual time.
Hosts are ordinary names (not loopback), so the 60 s floor and the default budgets apply."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from conftest import english
from creneau.config import Config
from creneau.daemon import Daemon
from creneau.daemon.check_job import INTERRUPTED
from creneau.fetch.client import PoliteClient
from creneau.fetch.politeness import BREAKER_FIRST_COOLDOWN, BREAKER_JITTER
from creneau.simulator.server import Hit
from creneau.simulator.wire import Request, Response
from creneau.sources.ezbooking.simulator import Prefecture, default_bookings
from creneau.store import DatabaseThread, Store
from harness.budgets import assert_within_budget
from harness.transport import SimulatedInternet
from harness.virtual_time import VirtualClock, scheduler_follows

MINUTE = 60.0
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def virtual_scheduler() -> Iterator[Callable[[VirtualClock], None]]:
    """APScheduler reads datetime.now(): make it follow the test's virtual clock."""
    with ExitStack() as stack:
        yield lambda clock: stack.enter_context(scheduler_follows(clock))


async def run_daemon(
    tmp_path: Path,
    internet: SimulatedInternet,
    clock: VirtualClock,
    targets: list[dict],
    hours: float,
    hosts: dict[str, dict] | None = None,
) -> Store:
    config = Config.model_validate(
        {
            "creneau": {
                "database": f"sqlite:///{tmp_path / 'creneau.db'}",
                "contact": "tests@example.org",
            },
            "target": targets,
            "hosts": hosts or {},
        }
    )
    store = Store(config.creneau.database)
    client = PoliteClient(
        "tests@example.org",
        config.budget_for,
        transport=internet,
        now=clock.now,
        monotonic=clock.monotonic,
        retry_backoff=1.0,
    )
    daemon = Daemon(config, store, client=client, now=clock.now, db=DatabaseThread(inline=True))
    stop = asyncio.Event()
    clock.loop.call_later(hours * 3600, stop.set)
    await daemon.run(stop)
    return store


def ezbooking_targets(host: str, count: int, prefix: str = "t", **fields: object) -> list[dict]:
    return [
        {
            "name": f"{prefix}{i}",
            "system": "ezbooking",
            "url": f"https://{host}/booking/create/1001",
            "every": "5m",
            "jitter": "30s",
            **fields,
        }
        for i in range(count)
    ]


def check_starts(hits: list[Hit]) -> dict[str, list[float]]:
    """When each check began, as the server saw it: the first page of each flow."""
    starts: dict[str, list[float]] = defaultdict(list)
    for hit in hits:
        if hit.method == "GET" and hit.path.rstrip("/").endswith("/booking/create/1001"):
            starts[hit.host].append(hit.at)
    return starts


def prefecture_with_slots(clock: VirtualClock) -> Prefecture:
    prefecture = Prefecture(default_bookings(), today=lambda: clock.today(PARIS))
    prefecture.release("1001", "14007", 3)
    return prefecture


@pytest.mark.looptime
async def test_ten_targets_on_one_host_stay_within_the_default_budget(
    tmp_path: Path, virtual_scheduler: Callable[[VirtualClock], None]
) -> None:
    clock = VirtualClock(asyncio.get_running_loop())
    virtual_scheduler(clock)
    internet = SimulatedInternet(
        {"prefecture-a.test": prefecture_with_slots(clock)}, clock=clock.monotonic
    )
    store = await run_daemon(
        tmp_path, internet, clock, ezbooking_targets("prefecture-a.test", 10), hours=2
    )
    assert_within_budget(internet.hits, per_minute=6, burst=10)
    checks = store.checks()
    per_target = {
        name: [c for c in checks if c.target == name] for name in {c.target for c in checks}
    }
    assert len(per_target) == 10
    for rows in per_target.values():
        starts = [row.started_at for row in rows]
        assert all(b - a >= timedelta(seconds=60) for a, b in itertools.pairwise(starts))
    requests = len(internet.hits)
    # 6 a minute for 2 hours is the most the host may see; robots.txt included.
    assert requests <= 10 + 6 * 120
    # Checks still waiting for their turn when the daemon stopped are recorded as interrupted.
    assert {c.status for c in checks if c.said != INTERRUPTED} <= {"available", "none"}


@pytest.mark.looptime
async def test_two_hundred_targets_on_three_hosts_never_exceed_any_budget(
    tmp_path: Path, virtual_scheduler: Callable[[VirtualClock], None]
) -> None:
    clock = VirtualClock(asyncio.get_running_loop())
    virtual_scheduler(clock)
    hosts = ["prefecture-a.test", "prefecture-b.test", "prefecture-c.test"]
    internet = SimulatedInternet(
        {host: prefecture_with_slots(clock) for host in hosts}, clock=clock.monotonic
    )
    targets = [
        t
        for index, host in enumerate(hosts)
        for t in ezbooking_targets(host, 67 if index < 2 else 66, prefix=f"h{index}-")
    ]
    budgets = {"prefecture-c.test": {"per_minute": 20, "burst": 5}}
    await run_daemon(tmp_path, internet, clock, targets, hours=1, hosts=budgets)
    a_and_b = [hit for hit in internet.hits if hit.host != "prefecture-c.test"]
    assert_within_budget(a_and_b, per_minute=6, burst=10)
    assert_within_budget(
        [hit for hit in internet.hits if hit.host == "prefecture-c.test"], per_minute=20, burst=5
    )
    # Demand far exceeds supply: the hosts get their budget's worth, used to the full.
    per_host = defaultdict(int)
    for hit in internet.hits:
        per_host[hit.host] += 1
    assert per_host["prefecture-a.test"] >= 6 * 60 * 0.9
    assert per_host["prefecture-c.test"] >= 20 * 60 * 0.9


class Refusing:
    """A site that answers every request with 403, or 503 with Retry-After."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers = headers or {}

    def handles(self, path: str) -> bool:
        return True

    def handle(self, request: Request) -> Response:
        return Response(self.status, "<h1>no</h1>", headers=dict(self.headers))


@pytest.mark.looptime
async def test_a_403_storm_is_met_with_exponential_silence_and_one_alert(
    tmp_path: Path, virtual_scheduler: Callable[[VirtualClock], None]
) -> None:
    clock = VirtualClock(asyncio.get_running_loop())
    virtual_scheduler(clock)
    internet = SimulatedInternet({"prefecture-a.test": Refusing(403)}, clock=clock.monotonic)
    targets = ezbooking_targets("prefecture-a.test", 5, every="1m", jitter="5s")
    targets[0]["notify"] = []
    store = await run_daemon(tmp_path, internet, clock, targets, hours=4)
    times = sorted(hit.at - clock.origin for hit in internet.hits)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    first = BREAKER_FIRST_COOLDOWN.total_seconds() * (1 - BREAKER_JITTER)
    # robots.txt is the first 403; after it, the host hears nothing for a cool-down that
    # doubles each time: 5, 10, 20, 40, 80 min…, capped at 2 h.
    expected = [first * 2**n for n in range(len(gaps))]
    assert len(times) <= 7
    for gap, least in zip(gaps, expected, strict=True):
        assert gap >= min(least, 2 * 3600 * (1 - BREAKER_JITTER)) - 1
    statuses = {row.status for row in store.checks()}
    assert statuses == {"blocked"}


@pytest.mark.looptime
async def test_retry_after_on_503_is_honoured_exactly(
    tmp_path: Path, virtual_scheduler: Callable[[VirtualClock], None]
) -> None:
    clock = VirtualClock(asyncio.get_running_loop())
    virtual_scheduler(clock)
    internet = SimulatedInternet(
        {"prefecture-a.test": Refusing(503, {"Retry-After": "600"})}, clock=clock.monotonic
    )
    targets = ezbooking_targets("prefecture-a.test", 3, every="1m", jitter="5s")
    await run_daemon(
        tmp_path,
        internet,
        clock,
        targets,
        hours=1,
        hosts={"prefecture-a.test": {"per_minute": 30, "burst": 10}},
    )
    times = sorted(hit.at for hit in internet.hits)
    assert times, "the host was never asked"
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 600 - 1e-6 for gap in gaps), gaps
    assert len(times) <= 7


@pytest.mark.looptime
async def test_a_slow_drip_host_is_checked_no_faster_and_ends_as_errors(
    tmp_path: Path, virtual_scheduler: Callable[[VirtualClock], None]
) -> None:
    clock = VirtualClock(asyncio.get_running_loop())
    virtual_scheduler(clock)
    internet = SimulatedInternet(
        {"prefecture-a.test": prefecture_with_slots(clock)},
        clock=clock.monotonic,
        delay=lambda request: 45.0,
    )
    store = await run_daemon(
        tmp_path, internet, clock, ezbooking_targets("prefecture-a.test", 3), hours=1
    )
    assert_within_budget(internet.hits, per_minute=6, burst=10)
    rows = store.checks()
    assert rows
    assert {row.status for row in rows} <= {"error", "blocked", "overloaded"}
    assert any("within 30s" in english(row.said) for row in rows)


async def _mixed_scenario(tmp_path: Path) -> tuple[list[tuple[float, str, str, int]], list[str]]:
    """An hour of two hosts, one answering and one refusing, from a seeded start."""
    random.seed(20)
    clock = VirtualClock(asyncio.get_running_loop())
    internet = SimulatedInternet(
        {"prefecture-a.test": prefecture_with_slots(clock), "prefecture-b.test": Refusing(403)},
        clock=clock.monotonic,
    )
    targets = ezbooking_targets("prefecture-a.test", 3) + ezbooking_targets(
        "prefecture-b.test", 2, prefix="b", every="1m", jitter="5s"
    )
    with scheduler_follows(clock):
        store = await run_daemon(tmp_path, internet, clock, targets, hours=1)
    hits = [
        (round(hit.at - clock.origin, 3), hit.host, hit.path, hit.status) for hit in internet.hits
    ]
    checks = [f"{row.target} {row.started_at - clock.start} {row.status}" for row in store.checks()]
    store.close()
    return hits, checks


@pytest.mark.looptime
async def test_a_virtual_scenario_is_the_same_whatever_the_real_date(tmp_path: Path) -> None:
    """Nothing under virtual time reads the real clock: moving it years ahead or behind
    changes no request and no status."""
    runs = []
    for index, years in enumerate((0, 12, -12)):
        moved = datetime.now(UTC) + timedelta(days=365 * years)
        with time_machine.travel(moved, tick=True):
            runs.append(await _mixed_scenario(tmp_path / str(index)))
    hits, checks = runs[0]
    assert {200, 403} <= {status for *_, status in hits}
    assert len(checks) > 20
    assert runs[1] == runs[0]
    assert runs[2] == runs[0]
