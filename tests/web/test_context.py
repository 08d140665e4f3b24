"""The dashboard reads the config in force: the running daemon's, which follows the file as
the daemon reloads it, or its own edit until the daemon has taken it."""

from __future__ import annotations

from pathlib import Path

from creneau.config import Config, load_config
from creneau.store import DatabaseThread, Store
from creneau.web.context import WebContext
from creneau.web.security import Signer
from daemon_stand_in import DaemonStandIn


def web_context(tmp_path: Path) -> WebContext:
    config = another(tmp_path, "t")
    store = Store(config.creneau.database)
    store.upgrade()
    return WebContext(config, store, DatabaseThread(inline=True), Signer(b"k" * 32))


def another(tmp_path: Path, name: str) -> Config:
    (tmp_path / name).mkdir(parents=True, exist_ok=True)
    path = tmp_path / name / "config.toml"
    path.write_text(
        f'[creneau]\ncontact = "t@example.org"\ndatabase = "sqlite:///{tmp_path / "c.db"}"\n'
        f'[[target]]\nname = "{name}"\nsystem = "ezbooking"\n'
        'url = "https://pref.example/booking/create/1"\n'
    )
    return load_config(path)


def names(context: WebContext) -> list[str]:
    return [target.name for target in context.config.targets]


def test_the_dashboard_follows_the_daemons_reloads_and_its_own_edits(tmp_path: Path) -> None:
    context = web_context(tmp_path)
    started = context.config
    daemon = DaemonStandIn()
    daemon.config = started
    context.live = daemon  # type: ignore[assignment]
    assert context.config is started

    daemon.config = another(tmp_path, "reloaded")  # `creneau add` in a terminal, then a reload
    assert names(context) == ["reloaded"]

    edited = another(tmp_path, "edited")  # the dashboard's own form wrote the file
    context.config = edited
    assert context.config is edited  # before the daemon has read the file again

    daemon.config = another(tmp_path, "taken")  # the daemon took the file
    assert names(context) == ["taken"]


def test_without_a_daemon_the_dashboard_keeps_its_own_config(tmp_path: Path) -> None:
    context = web_context(tmp_path)
    edited = another(tmp_path, "edited")
    context.config = edited
    assert context.config is edited
    assert context.given_config is edited
