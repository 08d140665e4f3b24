"""Puts a simulated préfecture on a loopback address, in a background thread."""

from __future__ import annotations

import json
import socket
import threading
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from creneau.simulator.prefecture import Prefecture, Request, Response
from creneau.targets import is_loopback


class SimulatorServer:
    def __init__(self, prefecture: Prefecture, host: str = "127.0.0.1", port: int = 0) -> None:
        if not is_loopback(f"http://{host}/"):
            raise ValueError("the simulator only listens on loopback addresses")
        self.prefecture = prefecture
        self._server = ThreadingHTTPServer((host, port), _handler_for(prefecture))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def booking_url(self, booking_id: str) -> str:
        return f"{self.url}/booking/create/{booking_id}"

    def start(self) -> SimulatorServer:
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

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def _handler_for(prefecture: Prefecture) -> type[BaseHTTPRequestHandler]:
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
            if parts.path.startswith("/_sim/"):
                self._admin(method, parts.path, parse_qs(parts.query))
                return
            if parts.path == "/":
                self._index()
                return
            cookies = {k: v.value for k, v in SimpleCookie(self.headers.get("Cookie", "")).items()}
            request = Request(
                method,
                parts.path,
                parts.query,
                (self.headers.get("Host") or "").split(":")[0],
                cookies,
                Request.parse_form(body) if method == "POST" else {},
            )
            response, new_session = prefecture.handle(request)
            if new_session:
                response.headers["Set-Cookie"] = f"eZSESSID={new_session}; path=/; HttpOnly"
            self._write(response)

        def _admin(self, method: str, path: str, query: dict[str, list[str]]) -> None:
            arg = {key: values[-1] for key, values in query.items()}
            payload: Any
            if path == "/_sim/requests":
                payload = [vars(entry) for entry in prefecture.log]
            elif path == "/_sim/release" and method == "POST":
                payload = prefecture.release(arg["booking"], arg["desk"], int(arg.get("count", 1)))
            elif path == "/_sim/take" and method == "POST":
                prefecture.take(arg["booking"], arg["desk"], int(arg.get("count", 0)))
                payload = "ok"
            elif path == "/_sim/behaviour" and method == "POST":
                prefecture.set_behaviour(arg["booking"], arg["behaviour"])
                payload = "ok"
            else:
                self._write(Response(404, "unknown admin call"))
                return
            self._write(Response(200, json.dumps(payload), "application/json"))

        def _index(self) -> None:
            rows = "".join(
                f'<li><a href="/booking/create/{b.id}">/booking/create/{b.id}</a> — '
                f"{b.title}: {b.summary}</li>"
                for b in prefecture.bookings.values()
            )
            self._write(Response(200, f"<h1>Préfecture simulée</h1><ul>{rows}</ul>"))

        def _write(self, response: Response) -> None:
            data = response.body.encode("utf-8")
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the prefecture keeps its own log

    return Handler
