"""Serving the dashboard beside the daemon, in its event loop: uvicorn (h11, no websockets)
without its own signal handlers — the daemon owns SIGINT and SIGTERM and stops the server
itself — on a socket bound first, so that a port already taken costs the dashboard, never
the checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from creneau.web.context import WebContext
from creneau.web.security import Signer

if TYPE_CHECKING:
    from creneau.config import Config
    from creneau.live import RunningDaemon

log = logging.getLogger("creneau")


def make_context(
    config: Config, live: RunningDaemon | None = None, config_path: Path | None = None
) -> WebContext:
    """The dashboard's own store connection and database thread, its session key and the
    sessions logged out.
    `config_path`, the file its forms edit: when not given, the one the daemon watches."""
    from creneau.store import DatabaseThread, Store

    return WebContext(
        config,
        Store(config.creneau.database),
        DatabaseThread(),
        Signer.for_data_dir(config.creneau.data_dir),
        live,
        config_path=config_path if config_path is not None else watched_file(live),
    )


def watched_file(live: RunningDaemon | None) -> Path | None:
    """The config file `creneau run`'s daemon watches (its `config_path`), if any."""
    return live.config_path if live is not None else None


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets
    # that say so. With it on, an answer uvicorn writes in two parts waited for the
    # client's delayed ACK: 40 ms more on every page under ~64 kB.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(context: WebContext, stop: asyncio.Event) -> None:
    """Serve until `stop` is set; a dashboard that cannot bind is logged, not fatal."""
    from creneau.web.app import create_app

    web = context.config.web
    try:
        sock = bind(web.host, web.port)
    except OSError as failure:
        log.error("dashboard not served: cannot listen on %s (%s)", web.listen, failure)
        return
    config = uvicorn.Config(
        create_app(context),
        root_path=web.root_path,
        http="h11",
        ws="none",
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=web.trusted_proxy_auth,
    )
    server = QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    log.info("dashboard at %s", address(context))
    await stop.wait()
    server.should_exit = True
    await task
    sock.close()
    context.db.close()
    context.store.close()


def address(context: WebContext) -> str:
    from creneau.alerts.messages import dashboard_address

    return f"{dashboard_address(context.config.web)}/"


class QuietServer(uvicorn.Server):
    """uvicorn's Server without its signal handlers (uvicorn #1579): next to the daemon's
    own, each signal would be handled twice and re-raised at the end."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
