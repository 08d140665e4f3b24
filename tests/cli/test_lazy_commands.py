"""The daemon's process carries only what `creneau run` needs: each command's module is
imported when that command runs, httpx's own command-line client never, Apprise never, Rich
not before it writes to a terminal."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import click

from creneau.cli import COMMANDS, cli

RUN_IMPORTS = """
import json, sys
from creneau.entry import without_httpx_command_line
without_httpx_command_line()
import httpx
from creneau.cli import cli
cli.get_command(None, "run")
import creneau.daemon
print(json.dumps(sorted(name for name, module in sys.modules.items() if module)))
"""


def test_every_command_is_found_under_its_own_name() -> None:
    for name, where in COMMANDS.items():
        module, function = where.split(":")
        command = getattr(importlib.import_module(f"creneau.cli.{module}"), function)
        assert isinstance(command, click.Command)
        assert command.name == name
        assert cli.get_command(click.Context(cli), name) is command
    assert cli.get_command(click.Context(cli), "book") is None


def test_the_daemon_does_not_load_the_other_commands_nor_httpx_cli_nor_apprise_nor_rich() -> None:
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", RUN_IMPORTS], capture_output=True, text=True, check=True
            ).stdout
        )
    )
    assert "creneau.cli.run" in loaded
    assert "creneau.daemon" in loaded
    never = {
        "creneau.cli.evidence",
        "creneau.cli.history",
        "creneau.cli.targets",
        "creneau.evidence",
        "creneau.adding.config_file",
        "httpx._main",
        "pygments",
        "apprise",
        "alembic",
        "rich",  # its consoles are made at their first use (tests/daemon/test_without_rich.py)
    }
    assert never & loaded == set()
