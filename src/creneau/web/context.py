"""What every page of the dashboard reads: the config, its own store connection and
database thread (a page never waits on a check, the daemon's thread never waits on a page),
what the running daemon knows live (next checks), the session signer, the templates."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creneau.web.security import (
    AttemptLimiter,
    HashingPool,
    Signer,
    hash_password,
    is_password_hash,
    token_limiter,
)

if TYPE_CHECKING:
    from jinja2 import Environment

    from creneau.config import Config
    from creneau.live import RunningDaemon
    from creneau.store import DatabaseThread, Store

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


@dataclass
class WebContext:
    given_config: Config  # `config` is the one in force (see there)
    store: Store
    db: DatabaseThread
    signer: Signer
    live: RunningDaemon | None = None  # `creneau web` alone reads the store instead
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Wrong passwords per client; wrong bearer tokens per client and token, apart: failed
    # logins never stop the API or the metrics. The hashes, off the event loop.
    login_limiter: AttemptLimiter = field(default_factory=AttemptLimiter)
    token_limiter: AttemptLimiter = field(default_factory=token_limiter)
    password_hashing: HashingPool = field(default_factory=HashingPool)
    # The config file the forms edit (add, pause, resume, remove); None: not known, and the
    # dashboard says those changes are unavailable.
    config_path: Path | None = None
    _password_hash: str | None = field(default=None, init=False)
    _password_of: object = field(default=None, init=False)  # the config's secret it is of
    _templates: Environment | None = field(default=None, init=False)
    _daemon_config_at_edit: object = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.signer = replace(self.signer, scope=lambda: self.session_scope)

    @property
    def session_scope(self) -> str:
        """A digest of the password in force ("" without one): sessions are signed under
        it, so a password set or changed by a reload ends the sessions opened before."""
        secret = self.config.web.password
        if secret is None:
            return ""
        given = secret.get_secret_value().encode()
        return hmac.new(self.signer.key, given, hashlib.sha256).hexdigest()

    @property
    def config(self) -> Config:
        """The config in force: under `creneau run`, the daemon's, which follows the file
        as it reloads it, unless the dashboard itself wrote the file since the daemon last
        did (the daemon takes it within a second); under `creneau web`, the one given and
        the dashboard's own edits."""
        running = self.live.config if self.live is not None else None
        if running is None or running is self._daemon_config_at_edit:
            return self.given_config
        return running

    @config.setter
    def config(self, config: Config) -> None:
        self.given_config = config
        self._daemon_config_at_edit = self.live.config if self.live is not None else None

    @property
    def password_hash(self) -> str | None:
        """The password's hash: the config's own when it holds one, else made once from the
        clear password the environment gave (never kept as such), and again when a reload
        gives another config: the old password stops working at once. Slow: call it from
        a password hashing thread."""
        secret = self.config.web.password
        if secret is None:
            return None
        if self._password_hash is None or self._password_of is not secret:
            given = secret.get_secret_value()
            self._password_hash = given if is_password_hash(given) else hash_password(given)
            self._password_of = secret
        return self._password_hash

    def read_only_reason(self) -> str | None:
        """Why this dashboard may change nothing now (its daemon stands by while another
        is active on the database), or None."""
        return self.live.read_only_reason() if self.live is not None else None

    @property
    def login_required(self) -> bool:
        return self.config.web.password is not None

    @property
    def templates(self) -> Environment:
        if self._templates is None:
            self._templates = template_environment()
        return self._templates

    def render(self, name: str, **context: Any) -> str:
        return self.templates.get_template(name).render(**context)


def template_environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html", "xml", "svg")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
