"""The config file the running daemon follows: read again on SIGHUP and when its content
changes (looked at twice a second); a text refused is said once while the file stays wrong
the same way. What changed and how it is applied: `daemon.reload` and the Daemon."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

from creneau.redact import redact

log = logging.getLogger("creneau")

CONFIG_POLL = timedelta(milliseconds=500)


class ConfigWatch:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.wanted = asyncio.Event()  # SIGHUP
        self.text = path.read_bytes() if path else b""  # the text in force
        self.refused = b""  # the text last refused
        self._said: list[str] = []  # the mistakes last said (once per change)

    async def changes(self, stop: asyncio.Event) -> AsyncIterator[bytes]:
        """Each text to take: asked for (SIGHUP), or new and not the one last refused."""
        if self.path is None:
            return
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wanted.wait(), CONFIG_POLL.total_seconds())
            asked = self.wanted.is_set()
            self.wanted.clear()
            if stop.is_set():
                return
            try:
                text = await asyncio.to_thread(self.path.read_bytes)
            except OSError as failure:
                log.warning(
                    "config: cannot read %s (%s); the running config stays", self.path, failure
                )
                continue
            if asked or (text != self.text and text != self.refused):
                yield text

    def taken(self, text: bytes) -> None:
        self.text, self.refused, self._said = text, b"", []

    def refuse(self, text: bytes, lines: Sequence[str]) -> bool:
        """Logs why, once while the file stays wrong the same way (an edit that leaves the
        same mistake is not news; a valid config in between makes the next one news again).
        True when it was news."""
        if text == self.refused:
            return False
        self.refused = text
        if list(lines) == self._said:
            return False
        self._said = list(lines)
        said = "; ".join(redact(line) for line in lines)
        log.error("config not reloaded, the running one stays: %s", said)
        return True
