"""Footprint, side by side in one run: idle memory and start-up time of `creneau run` with 10
targets, and of a reference self-hosted monitor (changedetection.io, from PyPI, in its own
venv) watching the same 10 simulated pages at the same interval; then what a browser-driven
bot pays (headless Chromium loading the same page) against one creneau check."""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import Figure
from creneau.check.run import run_check
from creneau.fetch.client import HostBudget, PoliteClient
from creneau.simulator.phone import Phone
from creneau.simulator.prefecture import default_prefecture
from creneau.simulator.server import SimulatorServer
from creneau.sources import ezbooking

CDIO = Path(os.environ.get("CHANGEDETECTION_VENV", "/tmp/cdio")) / "bin" / "changedetection.io"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BOOKINGS = ["1001", "1002", "1003"]
IDLE_AFTER = 25.0  # seconds: every target checked once, alerts delivered, nothing to do
TARGETS = 10


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending += [int(child) for child in children]
    return total / 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def creneau_run(server: SimulatorServer, phone: Phone, workdir: Path) -> dict[str, float]:
    targets = "".join(
        f'[[target]]\nname = "t{i}"\nsystem = "ezbooking"\n'
        f'url = "{server.booking_url(BOOKINGS[i % 3])}"\nevery = "5m"\n'
        for i in range(TARGETS)
    )
    config = workdir / "creneau.toml"
    config.write_text(
        f'[creneau]\ncontact = "bench@example.org"\ndatabase = "sqlite:///c.db"\n'
        f'data_dir = "{workdir / "data"}"\n'
        f'[[notify]]\nname = "phone"\nurls = ["{phone.apprise_url}"]\n{targets}'
    )
    started = time.monotonic()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "creneau", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first_check = None
    while first_check is None and time.monotonic() - started < 60:
        time.sleep(0.05)
        try:
            with sqlite3.connect(f"file:{workdir / 'c.db'}?mode=ro", uri=True) as db:
                if db.execute("select count(*) from checks").fetchone()[0]:
                    first_check = time.monotonic() - started
        except sqlite3.OperationalError:
            continue
    time.sleep(max(0.0, IDLE_AFTER - (time.monotonic() - started)))
    rss = tree_rss_mb(daemon.pid)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=30)
    return {"startup_s": round(first_check or float("nan"), 2), "idle_rss_mb": round(rss, 1)}


def changedetection(server: SimulatorServer, workdir: Path) -> dict[str, float] | None:
    if not CDIO.exists():
        return None
    port = free_port()
    urls = [server.booking_url(BOOKINGS[i % 3]) + f"?watch={i}" for i in range(TARGETS)]
    command = [str(CDIO), "-h", "127.0.0.1", "-p", str(port), "-d", str(workdir / "cdio"), "-C"]
    for index, url in enumerate(urls):
        command += ["-u", url, f"-u{index}", '{"time_between_check": {"minutes": 5}}']
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ALLOW_IANA_RESTRICTED_ADDRESSES": "true"},
    )
    answered = None
    while answered is None and time.monotonic() - started < 120:
        time.sleep(0.1)
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                answered = time.monotonic() - started
    time.sleep(max(0.0, IDLE_AFTER - (time.monotonic() - started)))
    rss = tree_rss_mb(process.pid)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    return {"startup_s": round(answered or float("nan"), 2), "idle_rss_mb": round(rss, 1)}


def chromium_load(url: str, workdir: Path) -> dict[str, float] | None:
    """One headless page load: CPU time of the whole browser and its peak resident memory."""
    if CHROMIUM is None:
        return None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    browser = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={workdir / 'chromium'}",
            "--dump-dom",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0.0
    while browser.poll() is None:
        peak = max(peak, tree_rss_mb(browser.pid))
        time.sleep(0.02)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_s": cpu, "peak_rss_mb": peak}


def creneau_check_cost(url: str, rounds: int = 20, batches: int = 5) -> dict[str, float]:
    """CPU per check of the same page, in the running process (no interpreter start). The
    simulator answers from other threads of this process: only this thread's time counts."""
    client = PoliteClient("bench@example.org", lambda host: HostBudget(60000, 1000))

    async def checks() -> float:
        target = ezbooking.Target(name="cost", url=url, every="1s")
        await run_check(target, client)  # warm up: imports, TLS context, parser caches
        costs = []
        for _ in range(batches):  # the best batch, as timeit does: the others met other work
            started = time.thread_time()
            for _ in range(rounds):
                await run_check(target, client)
            costs.append((time.thread_time() - started) / rounds)
        return min(costs)

    return {"cpu_s": asyncio.run(checks())}


def measure() -> list[Figure]:
    figures = []
    with (
        tempfile.TemporaryDirectory() as folder,
        SimulatorServer(default_prefecture()) as server,
        Phone() as phone,
    ):
        workdir = Path(folder)
        ours = creneau_run(server, phone, workdir)
        theirs = changedetection(server, workdir)
        figures.append(
            Figure(
                "footprint",
                f"idle RSS of creneau run, {TARGETS} targets",
                ours["idle_rss_mb"],
                "MB",
                target="≤ 45 MB, half the reference",
                ok=ours["idle_rss_mb"] <= 45,
            )
        )
        figures.append(
            Figure("footprint", "creneau run: start to first check", ours["startup_s"], "s")
        )
        if theirs:
            ratio = ours["idle_rss_mb"] / theirs["idle_rss_mb"]
            figures.append(
                Figure(
                    "footprint",
                    f"idle RSS of changedetection.io, same {TARGETS} pages",
                    theirs["idle_rss_mb"],
                    "MB",
                    details=theirs,
                )
            )
            figures.append(
                Figure(
                    "footprint",
                    "idle RSS, creneau / changedetection.io",
                    round(ratio, 2),
                    "×",
                    target="≤ 0.5",
                    ok=ratio <= 0.5,
                )
            )
        else:
            figures.append(
                Figure(
                    "footprint",
                    "changedetection.io",
                    0,
                    "",
                    target=f"skipped: not installed at {CDIO}",
                )
            )
        url = server.booking_url("1002")
        loads = [chromium_load(url, workdir) for _ in range(3)]
        browser = min(loads, key=lambda load: load["cpu_s"]) if all(loads) else None
        check = creneau_check_cost(url)
        figures.append(
            Figure(
                "footprint",
                "CPU per creneau check (whole ezbooking flow)",
                round(check["cpu_s"] * 1000, 1),
                "ms",
            )
        )
        if browser:
            ratio = check["cpu_s"] / browser["cpu_s"]
            figures.append(
                Figure(
                    "footprint",
                    "CPU of one headless Chromium page load (browser start included, best of 3)",
                    round(browser["cpu_s"] * 1000),
                    "ms",
                    details=browser,
                )
            )
            figures.append(
                Figure(
                    "footprint",
                    "CPU, creneau check / Chromium load",
                    round(ratio, 4),
                    "×",
                    target="≤ 0.02 (1/50)",
                    ok=ratio <= 0.02,
                )
            )
            figures.append(
                Figure(
                    "footprint",
                    "peak memory of that Chromium load",
                    round(browser["peak_rss_mb"]),
                    "MB",
                )
            )
        else:
            figures.append(
                Figure(
                    "footprint",
                    "headless Chromium",
                    0,
                    "",
                    target="skipped: apt-get install chromium",
                )
            )
    return figures
