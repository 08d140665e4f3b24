"""The runtime: what checking needs, assembled in one place — the config, the store, the
polite HTTP client seeded from what the store remembers (each target's last check, each
host's breaker, Retry-After and robots.txt), each target's alert routing, and the sender.
`creneau run` (the Daemon), `check`, `captcha`, the dashboard's CAPTCHA page and the demo
are built on it; what they do with it is in creneau.usecases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from creneau.alerts import outbox
from creneau.alerts.deliver import Sender
from creneau.alerts.outbox import Routing
from creneau.fetch.client import Guard, PoliteClient
from creneau.store import StoreCall, inline

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.fetch.politeness import HostState
    from creneau.store import Store
    from creneau.targets import TargetBase

# An ad-hoc check run without a config: Paris time and French, like the config's default.
AD_HOC_ZONE = ZoneInfo("Europe/Paris")
AD_HOC_LANGUAGE = "fr"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Runtime:
    """config → store → polite client → routes → sender. Without a config (an ad-hoc check),
    every host has the default budget, alerts go nowhere and pages are not kept.

    Seed the client with `seed_from_store` (or `seed`, with what was read elsewhere, e.g. on
    the daemon's database thread) before the first check."""

    def __init__(
        self,
        config: Config | None,
        store: Store,
        *,
        contact: str | None = None,
        client: PoliteClient | None = None,
        db: StoreCall = inline,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.config = config
        self.store = store
        self.db = db
        self.now = now
        contact = contact or (config.creneau.contact if config else None)
        if client is None:
            client = PoliteClient(contact, config.budget_for) if config else PoliteClient(contact)
        self.client = client
        self.routes: dict[str, Routing] = outbox.routes(config) if config else {}

    @property
    def zone(self) -> ZoneInfo:
        return self.config.creneau.zone if self.config else AD_HOC_ZONE

    @property
    def language(self) -> str:
        """The language what a person reads is written in (a check's detail)."""
        return self.config.creneau.language if self.config else AD_HOC_LANGUAGE

    @property
    def pages_dir(self) -> Path:
        from creneau.config import default_data_dir

        return self.config.creneau.pages_dir if self.config else default_data_dir() / "pages"

    @property
    def keep_pages(self) -> bool:
        return bool(self.config and self.config.creneau.keep_pages)

    @cached_property
    def sender(self) -> Sender:
        """Delivers the outbox to the config's channels (built on first use: Jinja2 is
        loaded only when there is something to send)."""
        if self.config is None:
            raise RuntimeError("a runtime without a config has no channel to send to")
        return Sender.from_config(self.store, self.config, db=self.db, now=self.now)

    # --- the client remembers what the store knows ----------------------------------------

    def seed(
        self, host_states: Mapping[str, HostState], last_checks: Mapping[str, datetime]
    ) -> None:
        """Each target's last check (its interval floor holds across processes and restarts)
        and each host's breaker, Retry-After deadline and robots.txt."""
        for name, at in last_checks.items():
            self.client.remember_check(name, at)
        self.client.restore_hosts(host_states)

    def seed_from_store(self, *, floors: bool = True) -> None:
        """`seed` with what the store holds now. `floors=False` seeds the hosts only: a
        person's CAPTCHA session, and the check right after it, are not periodic checks."""
        last_checks = self.store.last_checks() if floors else {}
        self.seed(self.store.host_states(), last_checks)

    # --- what one check of a target goes through ---------------------------------------

    def guard(self, target: TargetBase) -> Guard | None:
        """The SSRF guard a target added through the dashboard is checked through."""
        if not target.guarded:
            return None
        allow_private = bool(self.config and self.config.web.allow_private_targets)
        return Guard(allow_private=allow_private)

    def routing(self, target: TargetBase) -> Routing:
        """Where the target's alerts go; nowhere for a target the config does not name."""
        return self.routes.get(target.name, Routing(self.zone))
