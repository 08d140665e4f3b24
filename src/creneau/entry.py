"""The process's first lines: the quiet stop on SIGTERM and SIGINT (creneau.quiet_stop), httpx
without its command line, then the command. Only the standard library before the command."""

from __future__ import annotations

import sys

from creneau.quiet_stop import stop_quietly_on_signals


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
