"""The process's first lines. Until a command takes the signals over, SIGTERM and SIGINT end
the process at once with status 0 and no traceback: `docker stop` or Ctrl-C while creneau is
still importing or migrating is a clean stop, not a crash. Only the standard library here."""

from __future__ import annotations

import signal
from types import FrameType

# SIGTERM last: once it is caught, both are (Python itself catches SIGINT from the start).
QUIET_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def stop_quietly_on_signals() -> None:
    """(Re)install the quiet stop; the daemon's event loop replaces it while it runs."""
    for signum in QUIET_STOP_SIGNALS:
        signal.signal(signum, _exit_quietly)


def main() -> None:
    stop_quietly_on_signals()
    from creneau.cli import main as run_command

    run_command()
