"""Command-line options several command modules share, here so that none has to import
another."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def config_option(help_text: str = "Configuration file (TOML).") -> Callable[[F], F]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default="config.toml",
        envvar="CRENEAU_CONFIG",
        show_default=True,
        help=help_text,
    )


CONFIG_OPTION = config_option()
