"""A page of 100,000 slot elements (issue 24: 1.3 MB, under the 2 MiB body cap), built by each
system's `flood_page` (in its simulator, with `creneau.simulator.flood`: as many slots as its
markup fits in 2 MiB). First what reading it costs, in a process of its own: parse time, and how
much the process grows at its peak. Then a real `creneau run` checking such a page every 5
seconds, against the same daemon checking a page of three slots: its memory once idle (target ≤
1.2 ×) and the slowest /healthz answer while it checks. `python -m bench.bigpage parse SYSTEM`
prints one system's parse figures as JSON."""

from __future__ import annotations

import gc
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import creneau
from bench.figures import Figure
from bench.footprint import free_port, has_children, tree_rss_mb
from creneau.page import Page
from creneau.simulator import flood, flood_page
from creneau.simulator.server import SimulatorServer
from creneau.sources.html import simulator as html_site

# The systems whose big page is parsed, in the order the figures are written.
FLOODED = ("html", "ezbooking", "rdvpref", "rdvsp", "ants")

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOT = Path(creneau.__file__).resolve().parent.parent  # the creneau being measured
CHECKS = 3  # checks of the page before the daemon's memory is read
EVERY = 15  # seconds between two checks: room to read the memory between them
SETTLE = 3.0  # seconds of nothing to do (no check, no child process) before it is read
GOAL = 1.2  # RSS after the big page / RSS after the small one


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> bool:
    """Start the process's peak RSS afresh (Linux: /proc/self/clear_refs, "5")."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def parse_once(system: str) -> dict[str, float]:
    """Build the system's big page, then parse it once: seconds, slots read and not, and
    how much the process grew at its peak over what it was before the parse."""
    from creneau import sources

    source = sources.get(system)
    body = flood_page(system)().encode()
    kind = "application/json" if system == "ants" else "text/html"
    url = "http://127.0.0.1/ezjscore/call/x" if system == "ezbooking" else "http://127.0.0.1/x"
    headers = {"content-type": kind, "date": "Mon, 07 Dec 2026 07:00:00 GMT"}
    target = None
    if system == "html":
        fields = {"name": "plages", "url": "http://127.0.0.1/plages", **html_site.FLOOD_TARGET}
        target = source.Target.model_validate(fields)
    source.parse_page(Page(url, 200, b"<p>warm up</p>", headers), target)  # imports
    page = Page(url, 200, body, headers)
    gc.collect()
    before, exact = _rss_mb(), _reset_peak()
    started = time.perf_counter()
    reading = source.parse_page(page, target)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "megabytes": round(len(body) / 2**20, 2),
        "seconds": round(seconds, 3),
        "peak_growth_mb": round(peak - before, 1),
        "peak_exact": exact,
        "read": len(reading.slots),
        "not_kept": reading.slots_not_kept,
    }


def parse_in_own_process(system: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SOURCE_ROOT), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-m", "bench.bigpage", "parse", system],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def parse_figures() -> list[Figure]:
    figures = []
    for system in FLOODED:
        cost = parse_in_own_process(system)
        name = f"{system}: a page of {cost['read'] + cost['not_kept']:,} slots"
        seconds, growth = cost["seconds"], cost["peak_growth_mb"]
        figures.append(Figure("bigpage", f"{name}, parse time", seconds, "s", details=cost))
        figures.append(Figure("bigpage", f"{name}, peak memory growth", growth, "MB"))
    return figures


# --- a real daemon ------------------------------------------------------------------------------


def _config(workdir: Path, url: str, label: str, web_port: int) -> Path:
    config = workdir / f"{label}.toml"
    config.write_text(
        f'[creneau]\ncontact = "bench@example.org"\ndatabase = "sqlite:///{label}.db"\n'
        f'data_dir = "{workdir / label}"\n'
        f'[web]\nenabled = true\nlisten = "127.0.0.1:{web_port}"\n'
        '[hosts."127.0.0.1"]\nper_minute = 600\nburst = 60\n'
        f'[[target]]\nname = "plages"\nsystem = "html"\nurl = "{url}"\nevery = "{EVERY}s"\n'
        f'slot_selector = "{html_site.FLOOD_TARGET["slot_selector"]}"\n'
        f"none_text = {json.dumps(html_site.FLOOD_TARGET['none_text'], ensure_ascii=False)}\n"
    )
    return config


def _checks(database: Path) -> int:
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            return int(db.execute("select count(*) from checks").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


class _HealthProbe(threading.Thread):
    """Asks /healthz every 50 ms; keeps the slowest answer."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/healthz"
        self.slowest = 0.0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=30) as answer:
                    answer.read()
            except OSError:
                continue  # not listening yet
            self.slowest = max(self.slowest, time.perf_counter() - started)


def _idle_rss(pid: int, database: Path) -> float:
    """The daemon's (and its children's) RSS after SETTLE seconds without a check running."""
    while True:
        checks = _checks(database)
        quiet_until = time.monotonic() + SETTLE
        while time.monotonic() < quiet_until and not has_children(pid):
            time.sleep(0.1)
        if not has_children(pid) and _checks(database) == checks:
            return tree_rss_mb(pid)
        time.sleep(0.2)


def daemon_after(workdir: Path, url: str, label: str) -> dict[str, float]:
    """RSS of `creneau run` once it has checked `url` CHECKS times and gone idle."""
    port = free_port()
    config = _config(workdir, url, label, port)
    env = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT)}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "creneau", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
        env=env,
    )
    probe = _HealthProbe(port)
    probe.start()
    started = time.monotonic()
    try:
        while _checks(workdir / f"{label}.db") < CHECKS:
            if time.monotonic() - started > 300 or daemon.poll() is not None:
                raise RuntimeError(f"creneau run ({label}) did not check {CHECKS} times")
            time.sleep(0.1)
        probe.stopping.set()
        rss = _idle_rss(daemon.pid, workdir / f"{label}.db")
    finally:
        probe.stopping.set()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    stored = sum(path.stat().st_size for path in workdir.glob(f"{label}.db*"))
    return {
        "rss_mb": round(rss, 1),
        "slowest_healthz_s": round(probe.slowest, 3),
        "database_mb": round(stored / 2**20, 1),
    }


def daemon_figures() -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        small = flood.FloodSite(html_site.flood_page(3), "/small")
        big = flood.FloodSite(html_site.flood_page(), "/big")
        with SimulatorServer(sites=[small, big]) as server:
            idle = daemon_after(workdir, f"{server.url}/small", "small")
            flooded = daemon_after(workdir, f"{server.url}/big", "big")
    ratio = flooded["rss_mb"] / idle["rss_mb"]
    return [
        Figure("bigpage", "creneau run after checking a page of 3 slots", idle["rss_mb"], "MB"),
        Figure(
            "bigpage",
            f"creneau run after {CHECKS} checks of a page of {flood.SLOTS:,} slots",
            flooded["rss_mb"],
            "MB",
            details=flooded,
        ),
        Figure(
            "bigpage",
            "its RSS / the RSS after the page of 3 slots",
            round(ratio, 2),
            "×",
            target=f"≤ {GOAL}",
            ok=ratio <= GOAL,
        ),
        Figure(
            "bigpage",
            "slowest /healthz answer while it checked the big page",
            flooded["slowest_healthz_s"],
            "s",
        ),
        Figure(
            "bigpage",
            f"database and WAL after {CHECKS} checks of the big page (of the small one)",
            flooded["database_mb"],
            "MB",
            details={"small_page_mb": idle["database_mb"]},
        ),
    ]


def measure() -> list[Figure]:
    return parse_figures() + daemon_figures()


if __name__ == "__main__":
    if sys.argv[1:2] == ["parse"]:
        print(json.dumps(parse_once(sys.argv[2])))
    else:
        for figure in measure():
            print(figure)
