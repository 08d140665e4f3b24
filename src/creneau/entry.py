"""The process's first lines. Until a command takes the signals over, SIGTERM and SIGINT end
the process at once with status 0 and no traceback: `docker stop` or Ctrl-C while creneau is
still importing or migrating is a clean stop, not a crash. Only the standard library here."""

from __future__ import annotations

import signal
import sys
from types import FrameType

# SIGTERM last: once it is caught, both are (Python itself catches SIGINT from the start).
QUIET_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def stop_quietly_on_signals() -> None:
    """(Re)install the quiet stop; the daemon's event loop replaces it while it runs."""
    for signum in QUIET_STOP_SIGNALS:
        signal.signal(signum, _exit_quietly)


def without_httpx_command_line() -> None:
    """httpx imports its own command-line client (click, Rich, Pygments: ~2.5 MB resident)
    whenever those happen to be installed; creneau never runs it. Marked as absent, httpx
    takes its documented fallback (`httpx.main` only says the CLI is unavailable)."""
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def main() -> None:
    stop_quietly_on_signals()
    without_httpx_command_line()
    from creneau.cli import main as run_command

    run_command()
