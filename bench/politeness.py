"""Requests per host per hour at default settings, for 1, 10 and 100 targets on one host,
and the detection delay that follows: the real daemon against a simulated préfecture for
three simulated hours (virtual time: a few seconds of real time)."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import tempfile
from pathlib import Path

from bench.figures import Figure
from creneau.config import Config
from creneau.daemon import Daemon
from creneau.fetch.client import PoliteClient
from creneau.simulator.pages import PARIS
from creneau.sources.ezbooking.simulator import Prefecture, default_bookings
from creneau.store import DatabaseThread, Store
from harness.transport import SimulatedInternet
from harness.virtual_time import VirtualClock, run_virtual

HOST = "prefecture.example"
HOURS = 3
FLOWS = {"1002": "one desk", "1001": "three desks and an information step"}


def scenario(targets: int, booking: str, workdir: Path):  # type: ignore[no-untyped-def]
    async def run(clock: VirtualClock) -> dict[str, float]:
        prefecture = Prefecture(default_bookings(), today=lambda: clock.today(PARIS))
        prefecture.release("1001", "14007", 3)
        prefecture.release("1002", "15001", 3)
        internet = SimulatedInternet({HOST: prefecture}, clock=clock.monotonic)
        config = Config.model_validate(
            {
                "creneau": {
                    "database": f"sqlite:///{workdir / f'{booking}-{targets}.db'}",
                    "contact": "bench@example.org",
                },
                "target": [
                    {
                        "name": f"t{i}",
                        "system": "ezbooking",
                        "url": f"https://{HOST}/booking/create/{booking}",
                    }
                    for i in range(targets)
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
        stop = asyncio.Event()
        clock.loop.call_later(HOURS * 3600, stop.set)
        inline = DatabaseThread(inline=True)
        await Daemon(config, store, client=client, now=clock.now, db=inline).run(stop)
        gaps: list[float] = []
        for index in range(targets):
            starts = [row.started_at for row in store.checks(f"t{index}")]
            gaps += [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
        store.close()
        return {
            "requests_per_hour": len(internet.hits) / HOURS,
            "checks_per_target_per_hour": len(store.checks()) / targets / HOURS,
            "median_gap_s": statistics.median(gaps) if gaps else float("inf"),
            "max_gap_s": max(gaps) if gaps else float("inf"),
        }

    return run


def measure() -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory() as workdir:
        for booking, flow in FLOWS.items():
            for targets in (1, 10, 100):
                result = run_virtual(scenario(targets, booking, Path(workdir)))
                name = f"{targets} target(s), {flow}"
                figures.append(
                    Figure(
                        "politeness",
                        f"requests to the host per hour — {name}",
                        round(result["requests_per_hour"], 1),
                        "req/h",
                        target="≤ 360 (6 a minute)",
                        ok=result["requests_per_hour"] <= 360 + 10,
                        details=result,
                    )
                )
                worst = result["max_gap_s"]
                figures.append(
                    Figure(
                        "politeness",
                        f"worst gap between two checks of a target — {name}",
                        round(min(worst, HOURS * 3600) / 60, 1),
                        "min",
                        target=""
                        if worst < float("inf")
                        else f"(some checked < 2 times in {HOURS} h: > {HOURS * 60} min)",
                        details={
                            "median_gap_min": round(
                                min(result["median_gap_s"], HOURS * 3600) / 60, 1
                            )
                        },
                    )
                )
    return figures
