"""A running daemon as the dashboard sees it (`creneau.live.RunningDaemon`), for the web's
tests: nothing scheduled, leading, no config of its own (the dashboard's stays in force);
a test overrides what it needs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from creneau.check.record import Recorded
from creneau.config import Config
from creneau.fetch.client import PoliteClient
from creneau.targets import TargetBase


class DaemonStandIn:
    config: Config | None = None  # None: the dashboard's own config is the one in force
    config_path: Path | None = None

    def __init__(self, client: PoliteClient | None = None) -> None:
        self.client = client or PoliteClient("tests@example.org")
        self.woken = 0

    def next_checks(self) -> Mapping[str, datetime | None]:
        return {}

    def scheduler_lag_seconds(self) -> float:
        return 0.0

    def read_only_reason(self) -> str | None:
        return None

    def wake_sender(self) -> None:
        self.woken += 1

    async def watch(self, target: TargetBase) -> Recorded | None:
        raise AssertionError(f"{target.name}: this test expects no check on demand")
