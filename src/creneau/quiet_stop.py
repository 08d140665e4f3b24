"""SIGTERM and SIGINT end the process at once with status 0 and no traceback, until a command
takes the signals over: `docker stop` or Ctrl-C while creneau is still importing or migrating
is a clean stop, not a crash. Only the standard library here (the entry point installs it
first, `creneau run` again once its event loop is closed)."""

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
