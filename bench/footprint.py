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
from contextlib import closing
from pathlib import Path

from bench.figures import Figure
from creneau.check.run import run_check
from creneau.fetch.client import PoliteClient
from creneau.host_budget import HostBudget
from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.sources import ezbooking
from creneau.sources.ezbooking.simulator import default_prefecture

CDIO = Path(os.environ.get("CHANGEDETECTION_VENV", "/tmp/cdio")) / "bin" / "changedetection.io"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BOOKINGS = ["1001", "1002", "1003"]
IDLE_AFTER = 25.0  # seconds after its start, the reference is measured (it has no alerts)
TARGETS = 10
MANY_TARGETS = 1000
IDLE_CHECKS = 20  # with many targets, idle after this many were checked (all takes an hour)
SETTLE = 3.0  # seconds of nothing to do before the measurement
HOST_PER_MINUTE = 600
CDIO_VERSION = "0.60.10"


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
        port: int = probe.getsockname()[1]
        return port


def creneau_config(
    server: SimulatorServer, phone: Phone, workdir: Path, targets: int, web: bool
) -> Path:
    """`targets` ezbooking desks on the simulator, checked every 5 minutes as the reference's
    watches are; the simulator's host gets a bigger budget than a real préfecture would, so
    that every target is checked (and the phone alerted) before the idle measurement."""
    listen = (
        f'[web]\nenabled = true\nlisten = "127.0.0.1:{free_port()}"\n'
        if web
        else ("[web]\nenabled = false\n")
    )
    watched = "".join(
        f'[[target]]\nname = "t{i}"\nsystem = "ezbooking"\n'
        f'url = "{server.booking_url(BOOKINGS[i % 3])}"\nevery = "5m"\n'
        for i in range(targets)
    )
    config = workdir / f"creneau-{targets}-{'web' if web else 'noweb'}.toml"
    config.write_text(
        f'[creneau]\ncontact = "bench@example.org"\ndatabase = "sqlite:///{config.stem}.db"\n'
        f'data_dir = "{workdir / "data"}"\n{listen}'
        f'[hosts."127.0.0.1"]\nper_minute = {HOST_PER_MINUTE}\nburst = 60\n'
        f'[[notify]]\nname = "phone"\nurls = ["{phone.apprise_url}"]\n{watched}'
    )
    return config


def checked_targets(database: Path) -> int:
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            return int(db.execute("select count(distinct target) from checks").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def has_children(pid: int) -> bool:
    try:
        return bool(Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        return False


def creneau_run(
    server: SimulatorServer, phone: Phone, workdir: Path, *, targets: int = TARGETS, web: bool
) -> dict[str, float]:
    """Idle RSS once the daemon has checked every target (or, with many targets, once it has
    checked IDLE_CHECKS of them), delivered an alert and ended its Apprise child."""
    config = creneau_config(server, phone, workdir, targets, web)
    database = workdir / f"{config.stem}.db"
    alerts_before = len(phone.messages)
    started = time.monotonic()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "creneau", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
    )
    first_check = None
    enough = min(targets, IDLE_CHECKS)
    try:
        while time.monotonic() - started < 180:
            time.sleep(0.05)
            checked = checked_targets(database)
            if checked and first_check is None:
                first_check = time.monotonic() - started
            alerted = len(phone.messages) > alerts_before
            if checked >= enough and alerted and not has_children(daemon.pid):
                break
        else:
            raise RuntimeError(f"creneau run ({targets} targets) never became idle")
        time.sleep(SETTLE)
        while has_children(daemon.pid):  # a delivery round still running: wait for its end
            time.sleep(0.05)
        rss = tree_rss_mb(daemon.pid)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    return {
        "startup_s": round(first_check or float("nan"), 2),
        "idle_rss_mb": round(rss, 1),
        "alerts": len(phone.messages) - alerts_before,
        "checked": checked_targets(database),
    }


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
        target = ezbooking.Target.model_validate({"name": "cost", "url": url, "every": "1s"})
        await run_check(target, client)  # warm up: imports, TLS context, parser caches
        costs = []
        for _ in range(batches):  # the best batch, as timeit does: the others met other work
            started = time.thread_time()
            for _ in range(rounds):
                await run_check(target, client)
            costs.append((time.thread_time() - started) / rounds)
        return min(costs)

    return {"cpu_s": asyncio.run(checks())}


def install_changedetection() -> bool:
    """The reference in a venv of its own (from PyPI), once; False when it cannot be had."""
    if CDIO.exists():
        return True
    venv = CDIO.parent.parent
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"changedetection.io=={CDIO_VERSION}"],
            check=True,
            timeout=900,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return CDIO.exists()


def memory_figures(server: SimulatorServer, phone: Phone, workdir: Path) -> list[Figure]:
    """creneau with the dashboard off and on, 1,000 targets, and the reference, in one run."""
    off = creneau_run(server, phone, workdir, web=False)
    on = creneau_run(server, phone, workdir, web=True)
    many = creneau_run(server, phone, workdir, targets=MANY_TARGETS, web=False)
    theirs = changedetection(server, workdir) if install_changedetection() else None
    figures = [
        Figure(
            "footprint",
            f"idle RSS of creneau run, {TARGETS} targets, dashboard off",
            off["idle_rss_mb"],
            "MB",
            details=off,
        ),
        Figure(
            "footprint",
            f"idle RSS of creneau run, {TARGETS} targets, dashboard on",
            on["idle_rss_mb"],
            "MB",
            details=on,
        ),
        Figure("footprint", "creneau run: start to first check", off["startup_s"], "s"),
    ]
    growth = many["idle_rss_mb"] / off["idle_rss_mb"]
    figures.append(
        Figure(
            "footprint",
            f"idle RSS with {MANY_TARGETS} targets / with {TARGETS}",
            round(growth, 2),
            "×",
            target="≤ 1.5",
            ok=growth <= 1.5,
            details={"rss_mb": many["idle_rss_mb"], "checked": many["checked"]},
        )
    )
    if theirs is None:
        figures.append(
            Figure(
                "footprint",
                "changedetection.io",
                0,
                "",
                target=f"skipped: cannot be installed at {CDIO}",
            )
        )
        return figures
    figures.append(
        Figure(
            "footprint",
            f"idle RSS of changedetection.io {CDIO_VERSION}, same {TARGETS} pages",
            theirs["idle_rss_mb"],
            "MB",
            details=theirs,
        )
    )
    for label, ours, limit in (("off", off, 0.75), ("on", on, 0.85)):
        ratio = ours["idle_rss_mb"] / theirs["idle_rss_mb"]
        figures.append(
            Figure(
                "footprint",
                f"idle RSS, creneau (dashboard {label}) / changedetection.io",
                round(ratio, 2),
                "×",
                target=f"≤ {limit}",
                ok=ratio <= limit,
            )
        )
    return figures


def measure() -> list[Figure]:
    with (
        tempfile.TemporaryDirectory() as folder,
        SimulatorServer(default_prefecture()) as server,
        Phone() as phone,
    ):
        workdir = Path(folder)
        figures = memory_figures(server, phone, workdir)
        url = server.booking_url("1002")
        loads = [load for _ in range(3) if (load := chromium_load(url, workdir)) is not None]
        browser = min(loads, key=lambda load: load["cpu_s"]) if len(loads) == 3 else None
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
