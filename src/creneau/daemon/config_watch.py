"""The config file the running daemon follows: read again on SIGHUP and when its content
changes (looked at twice a second), taken without a restart when valid (`daemon.reload` says
what changed); a text refused is said once while the file stays wrong the same way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from pathlib import Path

from creneau.alert_kinds import OutboxEvent
from creneau.config import Config
from creneau.daemon.check_job import CheckJob
from creneau.daemon.context import DaemonContext, everyone
from creneau.daemon.reload import compare, digest, not_taken
from creneau.daemon.schedule import Schedule
from creneau.fetch.client import PoliteClient
from creneau.redact import redact
from creneau.runtime import Runtime
from creneau.store import Superseded

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


class Reloader:
    """Takes each change of the file: the new config's routes, channels and budgets, and the
    targets added, changed or removed scheduled accordingly; the client (host states,
    breakers, floors) and the outbox go on as they are."""

    def __init__(
        self,
        file: ConfigWatch,
        context: DaemonContext,
        schedule: Schedule,
        checks: CheckJob,
        make_runtime: Callable[[Config, PoliteClient], Runtime],
    ) -> None:
        self.file = file
        self.context = context
        self.schedule = schedule
        self.checks = checks
        self.make_runtime = make_runtime

    async def follow(self, stop: asyncio.Event) -> None:
        async for text in self.file.changes(stop):
            try:
                await self.reload(text)
            except Superseded as superseded:
                self.context.guard.lose(str(superseded))
            except Exception as failure:  # the reloader outlives whatever a reload meets
                log.debug("reloading %s failed", self.file.path, exc_info=True)
                self._refuse(text, [not_taken(self.file.path, failure)])

    async def reload(self, text: bytes) -> None:
        """Take the new config if it is valid; otherwise go on with the running one and say
        why, once (log and a trouble alert)."""
        from creneau.config import ConfigError
        from creneau.startup import prepare_config

        assert self.file.path is not None
        try:
            new = prepare_config(self.file.path)
        except ConfigError as failure:
            self._refuse(text, failure.lines)
            return
        context = self.context
        change = compare(context.config, new)
        # What may still fail (the database, the new runtime) fails before anything is taken.
        standing_by = self.schedule.scheduler is None
        last_checks = {} if standing_by else await context.db(context.store.last_checks)
        self._take(new)
        if standing_by:  # the next term starts with it
            self.file.taken(text)
            log.info("config reloaded (standing by): %s", change.summary())
            return
        await self.schedule.apply(change, last_checks)
        self.file.taken(text)
        await self.say_loaded()
        log.info("config reloaded: %s", change.summary())

    async def say_loaded(self) -> None:
        """Which config is loaded, and since when (`creneau status`)."""
        now = self.context.now()
        facts = {"config_digest": digest(self.file.text), "config_loaded_at": now.isoformat()}
        await self.context.write(self.context.store.save_facts, facts, now)

    def _take(self, new: Config) -> None:
        client = self.context.runtime.client
        self.context.config, self.context.runtime = new, self.make_runtime(new, client)
        client.use_budgets(new.budget_for)
        self.context.outage.everyone = everyone(new)

    def _refuse(self, text: bytes, lines: Sequence[str]) -> None:
        if not self.file.refuse(text, lines) or self.context.guard.term is None:
            return  # not news, or standing by: the active daemon tells people
        event = OutboxEvent("", "trouble", {"event": "config_refused", "problems": list(lines)})
        self.checks.track(asyncio.ensure_future(self.context.tell(event)))
