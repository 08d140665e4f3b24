"""Detection delay: the simulated préfecture releases slots at random moments; the real
daemon checks it every 60 s or 5 min (jitter 30 s); the time from release to the message
leaving for the channel is measured. Virtual time: hours of checking take seconds."""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from bench.figures import Figure
from creneau import url_keys
from creneau.config import Config
from creneau.daemon import Daemon
from creneau.fetch.client import PoliteClient
from creneau.simulator.pages import PARIS
from creneau.sources.ezbooking.simulator import Prefecture, default_bookings
from creneau.store import DatabaseThread, Store
from harness.transport import SimulatedInternet
from harness.virtual_time import VirtualClock, run_virtual

HOST = "prefecture.example"
# Per run: each release frees the desk's next time, never offered before, and none is taken,
# so the free times reach further each time; past ~190 of them they lie beyond the calendar
# weeks ezbooking lists from the first free one (`weeks`, 2), and no alert comes for them.
RELEASES = 100
RUNS = 8  # the median of 800 delays still moves by a few seconds from run to run at 5 min
JITTER = timedelta(seconds=30)


def scenario(every: timedelta, workdir: Path, seed: int):  # type: ignore[no-untyped-def]
    async def run(clock: VirtualClock) -> tuple[list[float], list[float]]:
        prefecture = Prefecture(default_bookings(), today=lambda: clock.today(PARIS))
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
        url_keys.load_or_create(config.creneau.data_dir)  # as `creneau run` does
        store = Store(config.creneau.database)
        client = PoliteClient(
            "bench@example.org",
            config.budget_for,
            transport=internet,
            now=clock.now,
            monotonic=clock.monotonic,
        )
        daemon = Daemon(config, store, client=client, now=clock.now, db=DatabaseThread(inline=True))
        received: list[datetime] = []

        async def phone(url: str, title: str, body: str, form: str) -> tuple[bool, str]:
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
        starts = [check.started_at for check in store.checks()]
        store.close()
        gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(starts)]
        delays = []
        for at in released:
            after = [got for got in received if got >= at]
            delays.append((min(after) - at).total_seconds() if after else float("inf"))
        return delays, gaps

    return run


def measure() -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory() as workdir:
        for every in (timedelta(seconds=60), timedelta(minutes=5)):
            runs = [run_virtual(scenario(every, Path(workdir), seed)) for seed in range(RUNS)]
            delays = sorted(delay for run_delays, _ in runs for delay in run_delays)
            gaps = [gap for _, run_gaps in runs for gap in run_gaps]
            # A release at a random moment waits, on average, E[gap²] / 2·E[gap] for the next
            # check (longer gaps catch more releases): what the schedule costs. The rest of the
            # mean delay is what creneau adds between seeing a slot and sending the message.
            wait = sum(gap * gap for gap in gaps) / (2 * sum(gaps))
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
            figures.append(
                Figure(
                    "detection delay",
                    f"mean wait for the next check (from the check gaps), {name}",
                    round(wait, 1),
                    "s",
                    details={"mean_gap_s": round(statistics.mean(gaps), 2)},
                )
            )
            figures.append(
                Figure(
                    "detection delay",
                    f"mean delay beyond that wait (seeing → sending), {name}",
                    round(statistics.mean(delays) - wait, 2),
                    "s",
                )
            )
    return figures
