"""Time-stamp a finished export (`creneau evidence … --tsa URL`): the authority asked through
a polite client, its token checked and verified, three files added to the folder
(creneau.evidence.timestamp). `check_request` refuses a request that cannot succeed before
the export is made: no openssl, a link the client would refuse, no --tsa-ca file. `Sealer`
is the export's `seal` (creneau.usecases.evidence): run on the finished folder before it is
moved into place, so a failed time-stamp leaves no export behind."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from creneau.evidence.openssl import require_openssl
from creneau.evidence.period import EvidenceError
from creneau.evidence.timestamp import Stamped, request_timestamp
from creneau.redact import public_link, redact

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.fetch.client import PoliteClient
    from creneau.fetch.guard import Guard


def tsa_guard() -> Guard:
    """The command-line user names the authority: any address, loopback included (a local
    authority), but only a plain http(s) link the client's guard accepts."""
    from creneau.fetch.guard import Guard

    return Guard(allow_private=True)


def check_request(tsa_url: str | None, tsa_ca: Path | None) -> None:
    """Raises EvidenceError (one line) when the time-stamp cannot be asked for."""
    if tsa_url is None:
        raise EvidenceError("--tsa-ca needs --tsa (the authority's URL)")
    require_openssl()
    if why := tsa_guard().check_url(tsa_url):
        raise EvidenceError(f"--tsa {redact(public_link(tsa_url))}: {why}")
    if tsa_ca is not None and not tsa_ca.is_file():
        raise EvidenceError(f"--tsa-ca {tsa_ca}: no such file")


def tsa_client(config: Config) -> PoliteClient:
    """A polite client with the config's contact and host budgets."""
    from creneau.fetch.client import PoliteClient

    return PoliteClient(config.creneau.contact, config.budget_for)


async def stamp_export(
    folder: Path,
    tsa_url: str,
    tsa_ca: Path | None,
    client: PoliteClient,
    guard: Guard | None = None,
) -> Stamped:
    """Time-stamp `folder`'s MANIFEST.sha256 at `tsa_url`; its root from `tsa_ca`, else the
    system trust store. Raises EvidenceError, and then the folder is as it was."""
    return await request_timestamp(
        folder, tsa_url, client, roots=tsa_ca, guard=guard if guard is not None else tsa_guard()
    )


class SealFailed(EvidenceError):
    """The time-stamp of a finished export failed (the authority, its answer, its token):
    a run-time failure, not a bad request."""


@dataclass
class Sealer:
    """`seal` for creneau.usecases.evidence.export: time-stamps the folder, keeps what the
    authority stated in `stamped`. Runs its own event loop: call it where none runs (the
    command line, or a worker thread)."""

    tsa_url: str
    tsa_ca: Path | None
    client: PoliteClient
    stamped: Stamped | None = None

    def __call__(self, folder: Path) -> None:
        try:
            self.stamped = asyncio.run(stamp_export(folder, self.tsa_url, self.tsa_ca, self.client))
        except EvidenceError as failure:
            raise SealFailed(str(failure)) from None


def sealer(config: Config, tsa_url: str | None, tsa_ca: Path | None) -> Sealer | None:
    """The export's seal when an authority is named (the command's --tsa, the config's `tsa`
    for the dashboard's zip); None without one."""
    return None if tsa_url is None else Sealer(tsa_url, tsa_ca, tsa_client(config))
