"""What the dashboard may ask of the running daemon, when `creneau run` serves both in one
event loop (under `creneau web` alone there is none): declared here, below the web and the
daemon; `creneau.daemon.Daemon` implements it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from creneau.check.record import Recorded
    from creneau.config import Config
    from creneau.fetch.client import PoliteClient
    from creneau.targets import TargetBase


class RunningDaemon(Protocol):
    @property
    def config(self) -> Config:
        """The config in force: it follows the file as the daemon reloads it."""

    @property
    def config_path(self) -> Path | None:
        """The config file the daemon watches (the one the dashboard's forms edit)."""

    @property
    def client(self) -> PoliteClient:
        """Its polite client: the dashboard's requests to a site count with the daemon's."""

    def next_checks(self) -> Mapping[str, datetime | None]:
        """When each target is checked next, as the scheduler has it now."""

    def scheduler_lag_seconds(self) -> float:
        """How late the most overdue check is (0 when none is)."""

    def read_only_reason(self) -> str | None:
        """None while this daemon leads; else why its dashboard changes nothing."""

    def wake_sender(self) -> None:
        """An alert was made due now (a retry): the sender looks at once."""

    async def watch(self, target: TargetBase) -> Recorded | None:
        """A check on demand, recorded and logged as the daemon's own, whose alerts its
        outbox sends at once (None: too soon, or not recorded)."""
