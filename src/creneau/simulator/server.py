"""Puts simulated sites on a loopback address, in a background thread. Requests go to the
first site whose `handles(path)` is true; every request is logged with its host."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from creneau.simulator.wire import ControlledSite, Request, Response, Site
from creneau.targets import is_loopback

EMPTY_INDEX = "<h1>Préfecture simulée</h1><ul></ul>"  # the root address, without a controlled site


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it, for budget assertions."""

    at: float  # time.monotonic()
    host: str
    method: str
    path: str
    status: int


class SimulatorServer:
    def __init__(
        self,
        prefecture: ControlledSite | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        sites: list[Site] | None = None,
    ) -> None:
        if not is_loopback(f"http://{host}/"):
            raise ValueError("the simulator only listens on loopback addresses")
        self.prefecture = prefecture
        self.sites: list[Site] = ([prefecture] if prefecture else []) + list(sites or [])
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._server = QuietServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def booking_url(self, booking_id: str) -> str:
        return f"{self.url}/booking/create/{booking_id}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="creneau-simulator",
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def dispatch(self, request: Request) -> Response:
        site = next((site for site in self.sites if site.handles(request.path)), None)
        response = site.handle(request) if site else Response(404, "<h1>404 Not Found</h1>")
        with self._lock:
            self.hits.append(
                Hit(time.monotonic(), request.host, request.method, request.path, response.status)
            )
        return response


def _handler_for(server: SimulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "prefecture-simulee/1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as separate writes: without this, Nagle's algorithm
            # and delayed ACKs add ~40 ms to every request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if parts.path.startswith("/_sim/") or parts.path == "/":
                self._write(_control(server, method, parts.path, parse_qs(parts.query)))
                return
            cookies = {k: v.value for k, v in SimpleCookie(self.headers.get("Cookie", "")).items()}
            request = Request(
                method,
                parts.path,
                parts.query,
                (self.headers.get("Host") or "").split(":")[0],
                cookies,
                Request.parse_form(body) if method == "POST" else {},
                {k.lower(): v for k, v in self.headers.items()},
            )
            self._write(server.dispatch(request))

        def _write(self, response: Response) -> None:
            data = (
                response.body.encode("utf-8") if isinstance(response.body, str) else response.body
            )
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            for name, value in response.set_cookies.items():
                self.send_header("Set-Cookie", f"{name}={value}; path=/; HttpOnly")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the server keeps its own log (hits)

    return Handler


def _control(
    server: SimulatorServer, method: str, path: str, query: dict[str, list[str]]
) -> Response:
    """The simulator's own addresses: its index, its log of requests, and the controls of
    the site they drive (release, take, behaviour)."""
    site = server.prefecture
    if path == "/":
        return site.index() if site else Response(200, EMPTY_INDEX)
    arg = {key: values[-1] for key, values in query.items()}
    payload: Any
    if path == "/_sim/requests":
        payload = [vars(hit) for hit in server.hits]
    elif site and path == "/_sim/release" and method == "POST":
        payload = site.release(arg["booking"], arg["desk"], int(arg.get("count", 1)))
    elif site and path == "/_sim/take" and method == "POST":
        site.take(arg["booking"], arg["desk"], int(arg.get("count", 0)))
        payload = "ok"
    elif site and path == "/_sim/behaviour" and method == "POST":
        site.set_behaviour(arg["booking"], arg["behaviour"])
        payload = "ok"
    else:
        return Response(404, "unknown admin call")
    return Response(200, json.dumps(payload), "application/json")


class QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-request (a killed daemon, a timeout) is not an error
    worth a traceback here."""

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]
