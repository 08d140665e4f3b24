"""Scale: 1,000 targets on 50 loopback hosts (127.0.0.1 … 127.0.0.50, each its own simulated
préfecture, in another process) at their budgets, for ten real minutes: the daemon's CPU per
check and share of a core, its memory, the scheduler's lag, and budget violations counted from
the servers' own logs."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent

from bench.figures import Figure
from creneau.config import Config
from creneau.daemon import Daemon
from creneau.host_budget import HostBudget
from creneau.store import Store

HOSTS = 50
TARGETS = 1000
SECONDS = float(os.environ.get("BENCH_SCALE_SECONDS", "600"))
BUDGET = HostBudget(per_minute=600, burst=60)  # per loopback host, set in the config


def serve(
    ready: multiprocessing.Queue[list[str]],
    stop: EventType,
    hits: multiprocessing.Queue[list[tuple[float, str]]],
) -> None:
    from creneau.simulator.server import SimulatorServer
    from creneau.sources.ezbooking.simulator import default_prefecture

    servers = [
        SimulatorServer(default_prefecture(), f"127.0.0.{n}").start() for n in range(1, HOSTS + 1)
    ]
    ready.put([server.url for server in servers])
    stop.wait()
    for server in servers:
        hits.put([(hit.at, hit.host) for hit in server.hits])
        server.stop()


def current_rss_mb() -> float:
    """Now, not the process's lifetime peak (earlier bench sections ran in this process)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def violations(times: list[float], per_minute: float, burst: int) -> int:
    """Windows in which a host saw more requests than its token bucket allows."""
    times.sort()
    found = 0
    for i, start in enumerate(times):
        for length in (1.0, 10.0, 60.0):
            inside = sum(1 for at in times[i:] if at <= start + length)
            if inside > burst + per_minute * length / 60 + 1e-9:
                found += 1
    return found


async def watch(urls: list[str], workdir: Path) -> dict[str, float]:
    bookings = ["1002", "1003"]
    config = Config.model_validate(
        {
            "creneau": {"database": f"sqlite:///{workdir / 'scale.db'}", "contact": "b@e.org"},
            "hosts": {
                f"127.0.0.{n}": {"per_minute": BUDGET.per_minute, "burst": BUDGET.burst}
                for n in range(1, HOSTS + 1)
            },
            "target": [
                {
                    "name": f"t{i}",
                    "system": "ezbooking",
                    "url": f"{urls[i % HOSTS]}/booking/create/{bookings[i % 2]}",
                }
                for i in range(TARGETS)
            ],
        }
    )
    store = Store(config.creneau.database)
    daemon = Daemon(config, store)
    lags: list[float] = []

    def submitted(event: JobSubmissionEvent) -> None:
        if event.job_id.startswith("t"):
            lags.append((datetime.now(UTC) - event.scheduled_run_times[-1]).total_seconds())

    stop = asyncio.Event()
    running = asyncio.create_task(daemon.run(stop))
    # The daemon's scheduler exists once it has migrated the store and taken the lease.
    for _ in range(600):
        if daemon.scheduler is not None or running.done():
            break
        await asyncio.sleep(0.1)
    assert daemon.scheduler is not None, "the daemon never started its scheduler"
    daemon.scheduler.add_listener(submitted, EVENT_JOB_SUBMITTED)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.sleep(SECONDS)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    rss = await asyncio.to_thread(current_rss_mb)
    stop.set()
    await running
    checks = len(store.checks())
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    lags.sort()
    return {
        "checks": checks,
        "cpu_s": cpu,
        "rss_mb": rss,
        "lag_p50_s": statistics.median(lags) if lags else 0.0,
        "lag_p99_s": lags[int(0.99 * (len(lags) - 1))] if lags else 0.0,
    }


def measure() -> list[Figure]:
    context = multiprocessing.get_context("spawn")
    ready, hits, stop = context.Queue(), context.Queue(), context.Event()
    servers = context.Process(target=serve, args=(ready, stop, hits))
    servers.start()
    urls = ready.get(timeout=60)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as workdir:
        result = asyncio.run(watch(urls, Path(workdir)))
    elapsed = time.monotonic() - started
    stop.set()
    by_host: dict[str, list[float]] = {}
    for _ in range(HOSTS):
        for at, host in hits.get(timeout=60):
            by_host.setdefault(host, []).append(at)
    servers.join(timeout=60)
    broken = sum(violations(times, BUDGET.per_minute, BUDGET.burst) for times in by_host.values())
    per_check_ms = result["cpu_s"] / max(result["checks"], 1) * 1000
    share = result["cpu_s"] / elapsed
    details = {**result, "seconds": round(elapsed), "requests": sum(map(len, by_host.values()))}
    return [
        Figure(
            "scale",
            f"{TARGETS} targets / {HOSTS} hosts: checks in {elapsed / 60:.0f} min",
            result["checks"],
            "checks",
            details=details,
        ),
        Figure(
            "scale", "CPU per check (daemon: check, record, schedule)", round(per_check_ms, 1), "ms"
        ),
        Figure(
            "scale",
            "daemon CPU, share of one core",
            round(share * 100, 1),
            "%",
            target="< 25 %",
            ok=share < 0.25,
        ),
        Figure(
            "scale",
            "scheduler lag p99",
            round(result["lag_p99_s"], 3),
            "s",
            target="< 1 s",
            ok=result["lag_p99_s"] < 1,
            details={"p50": round(result["lag_p50_s"], 3)},
        ),
        Figure(
            "scale",
            "RSS of the process running the daemon, 1,000 targets",
            round(result["rss_mb"], 1),
            "MB",
        ),
        Figure(
            "scale",
            "budget violations in the servers' logs",
            broken,
            "",
            target="0",
            ok=broken == 0,
        ),
    ]
