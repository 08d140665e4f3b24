"""Announced releases: a simulated RDV Préfecture announces each publication at a whole minute
an hour or two ahead, and its slots become visible at a random point of [T, T + 60 s] (its
cache's resynchronisation). The real daemon (every = "5m", its bursts at announced instants)
runs in virtual time; measured: the delay from visibility to the alert handed to the channel,
the requests per simulated week against what `every` alone makes, and the requests over the
host's budget, counted from the site's own log."""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.figures import Figure
from creneau import sources, url_keys
from creneau.config import Config
from creneau.daemon import Daemon
from creneau.fetch.client import PoliteClient
from creneau.host_budget import HostBudget
from creneau.simulator.budget import over_budget
from creneau.sources.rdvpref.simulated_releases import whole_minute_from
from creneau.sources.rdvpref.simulator import RdvPrefecture, default_demarches
from creneau.store import DatabaseThread, Store
from creneau.usecases.captcha import CaptchaDialog, solve_captcha
from harness.transport import SimulatedInternet
from harness.virtual_time import VirtualClock, run_virtual

PARIS = ZoneInfo("Europe/Paris")
HOST = "rdvpref.example"
DEMARCHE = "4418"
SLOTS_PAGE = f"/rdvpref/reservation/demarche/{DEMARCHE}/creneau/"
EVERY = timedelta(minutes=5)
WEEK = timedelta(weeks=1).total_seconds()
RELEASES_PER_RUN = 52
RUNS = 4  # 208 announced releases in all
BETWEEN = (timedelta(minutes=40), timedelta(minutes=100))  # from one visible to the next plan
AHEAD = (timedelta(minutes=20), timedelta(minutes=50))  # how early the site announces it


@dataclass
class Run:
    delays: list[float] = field(default_factory=list)
    requests: int = 0
    over_budget: int = 0
    seconds: float = 0.0


def config(workdir: Path, name: str) -> Config:
    return Config.model_validate(
        {
            "creneau": {
                "database": f"sqlite:///{workdir / f'announced-{name}.db'}",
                "contact": "bench@example.org",
            },
            "notify": [{"name": "phone", "urls": ["json://127.0.0.1:9/"]}],
            "target": [
                {
                    "name": "allier",
                    "system": "rdvpref",
                    "url": f"https://{HOST}/rdvpref/reservation/demarche/{DEMARCHE}/",
                    "every": f"{int(EVERY.total_seconds())}s",
                    "jitter": "30s",
                }
            ],
        }
    )


async def solve(daemon: Daemon, site: RdvPrefecture) -> None:
    """A person types the code once; the site session then lives as long as it is used."""
    source = sources.captcha_handler("rdvpref")
    assert source is not None

    async def nothing(image: bytes) -> None:
        return None

    async def code() -> str:
        return site.last_captcha_code or ""

    dialog = CaptchaDialog(nothing, code, lambda: None, lambda finished: None)
    await solve_captcha(daemon.runtime, daemon.config.targets[0], source, dialog)


def scenario(workdir: Path, seed: int, bursts: bool = True):  # type: ignore[no-untyped-def]
    """With `bursts` False, the same site and releases met by `every` alone (the daemon
    does not follow announcements): the requests to compare with."""

    async def run(clock: VirtualClock) -> Run:
        chance = random.Random(seed)
        site = RdvPrefecture(
            default_demarches(),
            clock=clock.monotonic,
            rng=random.Random(seed),
            now=lambda: clock.now().astimezone(PARIS),
        )
        internet = SimulatedInternet({HOST: site}, clock=clock.monotonic)
        settings = config(workdir, f"{seed}-{bursts}")
        url_keys.load_or_create(settings.creneau.data_dir)
        store = Store(settings.creneau.database)
        client = PoliteClient(
            "bench@example.org",
            settings.budget_for,
            transport=internet,
            now=clock.now,
            monotonic=clock.monotonic,
        )
        daemon = Daemon(
            settings, store, client=client, now=clock.now, db=DatabaseThread(inline=True)
        )
        received: list[datetime] = []

        async def phone(url: str, title: str, body: str, form: str) -> tuple[bool, str]:
            received.append(clock.now())
            return True, ""

        daemon.sender.send = phone
        if not bursts:
            daemon.bursts._follow = lambda *announced: None  # type: ignore[method-assign]
        stop = asyncio.Event()
        running = asyncio.create_task(daemon.run(stop))
        await asyncio.sleep(30)
        await solve(daemon, site)
        visible_at = await publish(site, clock, chance)
        await settle(daemon)
        stop.set()
        await running
        store.close()
        found = Run(seconds=clock.elapsed())
        for at in visible_at:
            after = [got for got in received if got >= at]
            found.delays.append((min(after) - at).total_seconds() if after else float("inf"))
        found.requests = len(internet.hits)
        found.over_budget = len(over_budget([hit.at for hit in internet.hits], HostBudget()))
        return found

    return run


async def publish(
    site: RdvPrefecture, clock: VirtualClock, chance: random.Random
) -> list[datetime]:
    """Plan each publication ahead (the site announces it at once and shows its slots a
    random 0–60 s after its instant); when each became visible."""
    visible_at = []
    for _ in range(RELEASES_PER_RUN):
        await asyncio.sleep(chance.uniform(*(b.total_seconds() for b in BETWEEN)))
        ahead = timedelta(seconds=chance.uniform(*(b.total_seconds() for b in AHEAD)))
        at = whole_minute_from(clock.now() + ahead)
        publication = site.schedule_publication(DEMARCHE, at, 1)
        visible_at.append(publication.visible_at)
        await asyncio.sleep((publication.visible_at - clock.now()).total_seconds() + 1)
    return visible_at


async def settle(daemon: Daemon) -> None:
    """Until the regular checks have paid back the bursts' (the count is over whole weeks
    of such cycles; at any moment at most one burst's checks are owed)."""
    await asyncio.sleep(EVERY.total_seconds() * 3)
    for _ in range(100):
        if daemon.schedule.bursts.owed["allier"] <= 0:
            return
        await asyncio.sleep(EVERY.total_seconds())


def measure() -> list[Figure]:
    with tempfile.TemporaryDirectory() as workdir:
        runs = [run_virtual(scenario(Path(workdir), seed)) for seed in range(RUNS)]
        alone = [run_virtual(scenario(Path(workdir), seed, False)) for seed in range(RUNS)]
    delays = sorted(delay for run in runs for delay in run.delays)
    median = statistics.median(delays)
    p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
    per_week, alone_per_week = requests_per_week(runs), requests_per_week(alone)
    over = sum(run.over_budget for run in runs)
    details = {
        "releases": len(delays),
        "simulated_weeks": round(sum(run.seconds for run in runs) / WEEK, 2),
        "every_alone_median_s": round(statistics.median(d for r in alone for d in r.delays), 1),
    }
    return [
        Figure(
            "release",
            "announced: median delay, visible → alert handed to the channel",
            round(median, 1),
            "s",
            target="≤ 6 s",
            ok=median <= 6,
            details=details,
        ),
        Figure(
            "release",
            "announced: p99 delay, visible → alert handed to the channel",
            round(p99, 1),
            "s",
            target="≤ 12 s",
            ok=p99 <= 12,
        ),
        Figure(
            "release",
            "announced: requests per simulated week, with bursts",
            round(per_week),
            "requests",
            target=f"≤ every = 5m alone on the same releases ({alone_per_week:.0f})",
            ok=per_week <= alone_per_week,
        ),
        Figure(
            "release",
            "announced: requests over the host's budget (6/min, bursts of 10)",
            over,
            "requests",
            target="0",
            ok=over == 0,
        ),
    ]


def requests_per_week(runs: list[Run]) -> float:
    return sum(run.requests for run in runs) / (sum(run.seconds for run in runs) / WEEK)
