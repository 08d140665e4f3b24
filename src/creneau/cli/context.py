"""What every command shares: the two consoles, the colour of each status, reading the config
(its mistakes one line each, exit 2) and opening the database (exit 1 when it cannot be).

The consoles `out` (stdout) and `err` (stderr) are Rich Consoles made at their first use
(PEP 562's module `__getattr__`): `from creneau.cli.context import out` in a command's module
makes it then. A daemon whose stderr is no terminal never uses one, and never imports Rich;
`stderr_is_terminal()` tells which it is without Rich."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from creneau import logs
from creneau.redact import redact
from creneau.terminal import is_terminal

if TYPE_CHECKING:
    from rich.console import Console

    from creneau.config import Config
    from creneau.store import Store

    out: Console  # standard output
    err: Console  # standard error: the plan, the log on a terminal

STATUS_STYLE = {
    "available": "bold green",
    "none": "dim",
    "blocked": "red",
    "overloaded": "yellow",
    "closed": "yellow",
    "captcha": "magenta",
    "error": "red",
    "unknown": "magenta",
}

CONSOLES = {"out": False, "err": True}  # name → writes to stderr


def __getattr__(name: str) -> Console:
    """`out` or `err`, made at the first use of its name, then kept in the module."""
    if name not in CONSOLES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    # No emoji codes either: a hash written "…:CD:…" is data, not ":cd:" (an optical disc).
    console = Console(stderr=CONSOLES[name], highlight=False, soft_wrap=True, emoji=False)
    globals()[name] = console
    return console


def stderr_is_terminal() -> bool:
    """Whether `err` would write to a terminal (Rich's own test, without Rich)."""
    return is_terminal(sys.stderr)


def fail_config(lines: Sequence[str]) -> NoReturn:
    """Each mistake on one line (secrets masked), then exit 2."""
    for line in lines:
        click.echo(redact(line), err=True)
    sys.exit(2)


def read_config(config_path: Path) -> Config:
    """The config, its warnings logged, the log in its time zone and the URL keys ready."""
    from creneau import url_keys
    from creneau.config import ConfigError
    from creneau.startup import prepare_config

    try:
        config = prepare_config(config_path)
    except ConfigError as failure:
        fail_config(failure.lines)
    logs.use_zone(config.creneau.zone)
    for warning in config.warnings:
        logging.getLogger("creneau").warning(warning)
    url_keys.load_or_create(config.creneau.data_dir)
    return config


def open_store(url: str) -> Store:
    """The database, created or migrated to the latest schema."""
    from creneau.store import Store

    store = Store(url)
    try:
        store.upgrade()
    except Exception as failure:
        click.echo(redact(f"creneau: cannot open the database {url}: {failure}"), err=True)
        sys.exit(1)
    return store


def existing_store(url: str) -> Store:
    """The database, which must exist already: only `run` and `db upgrade` create one."""
    from creneau.store.database import database_file

    path = database_file(url)
    if path is not None and not path.exists():
        click.echo(
            f"creneau: no database at {path} (creneau run or creneau db upgrade creates "
            "it; check [creneau] database in the config)",
            err=True,
        )
        sys.exit(1)
    return open_store(url)


def database_exists(url: str) -> bool:
    """False only for an SQLite file that is not there (a server database is asked)."""
    from creneau.store.database import database_file

    path = database_file(url)
    return path is None or path.exists()


def database_label(url: str) -> str:
    """The database URL as it may be printed: its password masked."""
    from creneau.store.database import database_label as label

    return label(url)


def migrated_apart(url: str, config_path: Path) -> Store:
    """The store, with any pending migration applied by a child `creneau db upgrade`: the
    daemon then never loads Alembic (~11 MB it would keep for as long as it runs)."""
    import subprocess

    from creneau.store import Store
    from creneau.store.upgrade import head_revision

    store = Store(url)
    try:
        current = store.revision()
    except Exception as failure:
        click.echo(redact(f"creneau: cannot open the database {url}: {failure}"), err=True)
        sys.exit(1)
    if current != head_revision():
        done = subprocess.run(
            [sys.executable, "-m", "creneau", "db", "upgrade", "--config", str(config_path)],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            click.echo(redact(done.stderr.strip() or "creneau: the migration failed"), err=True)
            sys.exit(done.returncode)
    return store
