"""Command-line options several command modules share (cli.py, history_cli.py,
evidence_cli.py), here so that none has to import another."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def config_option(help_text: str = "Configuration file (TOML).") -> Callable[[Any], Any]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default="config.toml",
        envvar="CRENEAU_CONFIG",
        show_default=True,
        help=help_text,
    )
