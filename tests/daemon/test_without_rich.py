"""How daemons really run — stdout and stderr a pipe (docker, systemd) — `creneau run` never
imports Rich (~2.5 MB resident for as long as it runs): its log and its start-up plan are
plain lines. Asked of the real process, through tests/loaded_modules.py, once it has checked
a target."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from creneau.simulator.server import SimulatorServer
from loaded_modules import MODULES_FILE
from processes import StderrLines

LOADED_MODULES = Path(__file__).resolve().parent.parent / "loaded_modules.py"
# What would make Rich (and so creneau) treat a pipe as a terminal.
TERMINAL_OVERRIDES = ("TTY_COMPATIBLE", "FORCE_COLOR")


def write_config(tmp_path: Path, simulator: SimulatorServer) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[creneau]
database = "sqlite:///creneau.db"
contact = "tests@example.org"
[web]
enabled = false
[[target]]
name = "nanterre"
system = "ezbooking"
url = "{simulator.booking_url("1001")}"
every = "1s"
jitter = "0s"
[hosts."127.0.0.1"]
per_minute = 600
burst = 60
""")
    return config


def wait_for_file(path: Path, process: subprocess.Popen[str], timeout: float = 60.0) -> str:
    """The file's text once it exists (it appears complete), while the process runs."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, "the daemon ended before it wrote its modules"
        assert time.monotonic() < deadline, f"no {path.name} within {timeout:g}s"
        time.sleep(0.02)
    return path.read_text()


@pytest.mark.slow
def test_off_a_terminal_the_daemon_never_imports_rich(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    modules = tmp_path / "modules.txt"
    env = {name: value for name, value in os.environ.items() if name not in TERMINAL_OVERRIDES}
    config = write_config(tmp_path, simulator)
    daemon = subprocess.Popen(
        [sys.executable, str(LOADED_MODULES), "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**env, MODULES_FILE: str(modules)},
    )
    stderr = StderrLines(daemon)
    try:
        target = stderr.wait_for("  nanterre | ")  # the plan, plain lines…
        host = stderr.wait_for("  127.0.0.1 | ")
        checked = stderr.wait_for(" requests, ")  # …and a check recorded, then logged
        daemon.send_signal(signal.SIGUSR1)
        loaded = wait_for_file(modules, daemon).split()
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
    assert daemon.returncode == 0, stderr.rest()
    assert "creneau: nanterre: " in checked
    assert {"creneau.daemon", "creneau.cli.run", "httpx"} <= set(loaded)  # the real daemon
    assert [name for name in loaded if name.split(".")[0] == "rich"] == []
    assert "sqlalchemy.orm" not in loaded  # the store is on Core tables
    assert target.startswith("  nanterre | ezbooking | 127.0.0.1 | 1s ± 0s | — | always | ")
    assert host == "  127.0.0.1 | 600/min, bursts of 60 | 1 | ~25200 (of 36000 allowed)\n"
