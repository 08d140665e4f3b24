"""Detection delay: the simulated préfecture releases slots at random moments; the real
daemon checks it every 60 s or 5 min (jitter 30 s); the time from release to the message
leaving for the channel is measured. Virtual time: hours of checking take seconds."""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from bench.figures import Figure
from creneau.config import Config
from creneau.daemon import Daemon
from creneau.http import PoliteClient
from creneau.simulator.prefecture import Prefecture, default_bookings
from creneau.simulator.transport import SimulatedInternet
from creneau.simulator.virtual_time import VirtualClock, run_virtual
from creneau.store import Store

HOST = "prefecture.example"
RELEASES = 200  # per run; a desk offers ~216 distinct times over two weeks
RUNS = 2
JITTER = timedelta(seconds=30)


def scenario(every: timedelta, workdir: Path, seed: int):  # type: ignore[no-untyped-def]
    async def run(clock: VirtualClock) -> list[float]:
        prefecture = Prefecture(default_bookings())
        internet = SimulatedInternet({HOST: prefecture}, clock=clock.monotonic)
        config = Config.model_validate(
            {
                "creneau": {
                    "database": f"sqlite:///{workdir / f'delay-{every.seconds}-{seed}.db'}",
                    "contact": "bench@example.org",
                },
                "notify": [{"name": "phone", "urls": ["json://127.0.0.1:9/"]}],
                "target": [
                    {
                        "name": "t",
                        "system": "ezbooking",
                        "url": f"https://{HOST}/booking/create/1002",
                        "every": f"{every.seconds}s",
                        "jitter": f"{JITTER.seconds}s",
                    }
                ],
            }
        )
        store = Store(config.creneau.database)
        client = PoliteClient(
            "bench@example.org",
            config.budget_for,
            transport=internet,
            now=clock.now,
            monotonic=clock.monotonic,
        )
        daemon = Daemon(config, store, client=client, now=clock.now)
        received: list[datetime] = []

        async def phone(url: str, title: str, body: str) -> tuple[bool, str]:
            received.append(clock.now())
            return True, ""

        daemon.sender.send = phone
        chance = random.Random(every.seconds * 100 + seed)
        released: list[datetime] = []

        async def release_at_random() -> None:
            for _ in range(RELEASES):  # each time a slot never offered before
                await asyncio.sleep(chance.uniform(3, 5) * every.total_seconds())
                prefecture.release("1002", "15001", 1)
                released.append(clock.now())

        stop = asyncio.Event()
        releases = asyncio.create_task(release_at_random())
        running = asyncio.create_task(daemon.run(stop))
        await releases
        await asyncio.sleep(3 * every.total_seconds())
        stop.set()
        await running
        store.close()
        delays = []
        for at in released:
            after = [got for got in received if got >= at]
            delays.append((min(after) - at).total_seconds() if after else float("inf"))
        return delays

    return run


def measure() -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory() as workdir:
        for every in (timedelta(seconds=60), timedelta(minutes=5)):
            delays = sorted(
                delay
                for seed in range(RUNS)
                for delay in run_virtual(scenario(every, Path(workdir), seed))
            )
            median = statistics.median(delays)
            p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
            median_limit = every.total_seconds() / 2 + 2
            p99_limit = (every + JITTER).total_seconds() + 5
            name = f"every {every.seconds // 60} min"
            figures.append(
                Figure(
                    "detection delay",
                    f"median, release → message, {name}",
                    round(median, 1),
                    "s",
                    target=f"≤ {median_limit:g} s",
                    ok=median <= median_limit,
                    details={"releases": len(delays)},
                )
            )
            figures.append(
                Figure(
                    "detection delay",
                    f"p99, release → message, {name}",
                    round(p99, 1),
                    "s",
                    target=f"≤ {p99_limit:g} s",
                    ok=p99 <= p99_limit,
                )
            )
    return figures
