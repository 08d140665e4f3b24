"""Taking a changed config without a restart: what changed between the running config and
the new one, target by target, and which settings only a restart applies. Pure: the daemon
applies the change (the Daemon, `daemon.schedule`), keeping host states, breakers, site sessions and
the outbox, since they live in the client and the store, not in the config."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from creneau.redact import redact
from creneau.targets import one_line

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.targets import TargetBase

# What the running process cannot take: the database it holds, the folder of its files, the
# dashboard's socket and the time zone its scheduler was built with.
RESTART_SETTINGS = ("database", "data_dir", "timezone")


@dataclass(frozen=True)
class ConfigChange:
    added: tuple[TargetBase, ...]  # to schedule (paused ones are not)
    removed: tuple[str, ...]  # to stop checking (gone from the file, or paused)
    changed: tuple[TargetBase, ...]  # to schedule again with their new settings
    needs_restart: tuple[str, ...]  # settings the running daemon keeps as they were

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} target(s) added",
            f"{len(self.removed)} stopped",
            f"{len(self.changed)} changed",
        ]
        if self.needs_restart:
            parts.append(f"{', '.join(self.needs_restart)} only after a restart")
        return ", ".join(parts)


def compare(old: Config, new: Config) -> ConfigChange:
    before = {target.name: target for target in old.targets if not target.paused}
    after = {target.name: target for target in new.targets if not target.paused}
    added = tuple(target for name, target in after.items() if name not in before)
    removed = tuple(name for name in before if name not in after)
    changed = tuple(
        target
        for name, target in after.items()
        if name in before and target.model_dump() != before[name].model_dump()
    )
    restart = [
        f"creneau.{name}"
        for name in RESTART_SETTINGS
        if getattr(old.creneau, name) != getattr(new.creneau, name)
    ]
    if old.web != new.web:
        restart.append("web")
    return ConfigChange(added, removed, changed, tuple(restart))


def digest(text: bytes) -> str:
    """Which config is loaded, as `creneau status` shows it."""
    return hashlib.sha256(text).hexdigest()[:12]


def not_taken(path: Path | None, failure: Exception) -> str:
    """A reload that failed past the config's own checks (the database, a bug), as the
    one line a refused config gets: the running config stays."""
    said = one_line(redact(f"{type(failure).__name__}: {failure}"))
    return f"{path}: could not be taken ({said})"
