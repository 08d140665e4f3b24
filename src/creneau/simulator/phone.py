"""A simulated phone: a loopback HTTP endpoint that receives Apprise `json://` notifications,
keeps them, and can be switched down (answers 500) to play an outage."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from creneau.simulator.server import QuietServer


@dataclass(frozen=True)
class Received:
    at: float  # time.time()
    title: str
    body: str
    kind: str


class Phone:
    def __init__(
        self, on_message: Callable[[Received], None] | None = None, delay: float = 0.0
    ) -> None:
        self.messages: list[Received] = []
        self.up = True
        self.delay = delay  # seconds before answering: a slow service
        self.on_message = on_message
        self._lock = threading.Lock()
        self._server = QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def apprise_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"json://{host!s}:{port}/"

    def start(self) -> Phone:
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="creneau-phone",
        ).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Phone:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self._lock:
            return list(self.messages)

    def _receive(self, payload: dict[str, Any]) -> None:
        message = Received(
            time.time(),
            str(payload.get("title", "")),
            str(payload.get("message", "")),
            str(payload.get("type", "")),
        )
        with self._lock:
            self.messages.append(message)
        if self.on_message:
            self.on_message(message)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        phone = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                super().setup()
                # Headers and body go out as separate writes: without this, Nagle's algorithm
                # and delayed ACKs add ~40 ms to every request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if phone.delay:
                    time.sleep(phone.delay)
                if not phone.up:
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    phone._receive(json.loads(raw))
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
