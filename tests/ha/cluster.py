"""Several real `creneau run` on one throw-away PostgreSQL database, a simulated préfecture
that knows which process sent each request, and a phone: what the high-availability tests
and `bench/takeover.py` drive.

Which daemon sent a request is the simulated host's own knowledge, not creneau's: when a
request arrives, the host looks up the process that owns the other end of its connection
(the client's port in /proc/net/tcp, that socket's inode among the daemons' open files).
The client is waiting for the answer at that moment, so its socket is still open."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creneau.simulator.phone import Phone
from creneau.simulator.server import SimulatorServer
from creneau.sources.ezbooking.simulator import Prefecture

UNKNOWN = 0  # a request whose process was gone before it could be looked up


@dataclass(frozen=True)
class Request:
    """One request as the simulated host saw it, and which process sent it."""

    at: float  # time.monotonic(), when it arrived
    pid: int
    path: str


class AttributingSimulator(SimulatorServer):
    """The simulator, logging the sending process of each request among `pids`."""

    def __init__(self, prefecture: Prefecture) -> None:
        super().__init__(prefecture)
        self.pids: set[int] = set()
        self.requests: list[Request] = []
        self._owners: dict[int, int] = {}  # client port → pid, per connection
        handler = self._server.RequestHandlerClass
        simulator = self

        class Attributing(handler):  # type: ignore[misc,valid-type]
            def _serve(self, method: str) -> None:
                port = self.client_address[1]
                pid = simulator._owners.get(port) or owner(port, set(simulator.pids))
                simulator._owners[port] = pid
                if not self.path.startswith("/_sim/"):
                    with simulator._lock:
                        simulator.requests.append(Request(time.monotonic(), pid, self.path))
                super()._serve(method)

            def finish(self) -> None:
                simulator._owners.pop(self.client_address[1], None)
                super().finish()

        self._server.RequestHandlerClass = Attributing

    def log(self) -> list[Request]:
        with self._lock:
            return list(self.requests)


def owner(port: int, pids: Iterable[int]) -> int:
    """The pid among `pids` with a TCP socket whose local port is `port` (UNKNOWN: none)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            for fd in os.scandir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(fd.path) in inodes:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return UNKNOWN


@dataclass(frozen=True)
class Line:
    at: float  # time.monotonic(), when this test read it
    text: str


class Daemon:
    """One `creneau run`, its stderr read on a thread, each line with when it was read."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[Line] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for text in self.process.stderr:
            self.lines.append(Line(time.monotonic(), text))

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def text(self) -> str:
        return "".join(line.text for line in list(self.lines))

    def said(self, text: str, after: int = 0) -> Line | None:
        """The first line holding `text` from the `after`-th line on."""
        return next((line for line in list(self.lines)[after:] if text in line.text), None)

    def wait_for(self, text: str, timeout: float, after: int = 0) -> Line:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (line := self.said(text, after)) is not None:
                return line
            if self.process.poll() is not None:
                self._reader.join(5)
                if (line := self.said(text, after)) is not None:
                    return line
                raise AssertionError(f"ended before saying {text!r}:\n{self.text[-4000:]}")
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} within {timeout:g}s:\n{self.text[-4000:]}")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> float:
        """SIGKILL; returns when it was sent."""
        at = time.monotonic()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        return at

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._reader.join(5)
        return code


def start_daemon(config: Path, lease: float | None = None, **env: str) -> Daemon:
    extra = {"CRENEAU_LEASE_SECONDS": f"{lease:g}"} if lease is not None else {}
    process = subprocess.Popen(
        [sys.executable, "-m", "creneau", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra, **env},
        cwd=config.parent,
    )
    return Daemon(process)


def postgres_database(server_url: str, name: str) -> str:
    """A new, empty database on the server; its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def write_config(
    folder: Path,
    database: str,
    simulator: SimulatorServer,
    phone: Phone,
    *,
    per_minute: int = 60,
    burst: int = 4,
    every: str = "1s",
    web: str = "enabled = false",
    booking: str = "1001",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(f"""
[creneau]
database = "{database}"
contact = "ha@example.org"
data_dir = "{folder / "data"}"
[web]
{web}
[[notify]]
name = "phone"
urls = ["{phone.apprise_url}"]
[[target]]
name = "storm"
system = "ezbooking"
url = "{simulator.booking_url(booking)}"
every = "{every}"
jitter = "0s"
[hosts."127.0.0.1"]
per_minute = {per_minute}
burst = {burst}
""")
    return config


ACTIVE = "active: this daemon"


def wait_for_active(
    daemons: Sequence[Daemon], timeout: float, marks: dict[int, int] | None = None
) -> tuple[Daemon, Line]:
    """The first of `daemons` to say it leads a term after its line `marks[pid]` (all its
    lines when not given), and that line."""
    marks = marks or {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        said = [
            (line, daemon)
            for daemon in daemons
            if (line := daemon.said(ACTIVE, marks.get(daemon.pid, 0))) is not None
        ]
        if said:
            line, daemon = min(said, key=lambda found: found[0].at)
            return daemon, line
        time.sleep(0.05)
    told = "\n---\n".join(daemon.text[-3000:] for daemon in daemons)
    raise AssertionError(f"no daemon became active within {timeout:g}s:\n{told}")


def line_marks(daemons: Iterable[Daemon]) -> dict[int, int]:
    return {daemon.pid: len(daemon.lines) for daemon in daemons}


@contextmanager
def stopped_at_exit(daemons: list[Daemon]) -> Iterator[list[Daemon]]:
    try:
        yield daemons
    finally:
        for daemon in daemons:
            daemon.stop()


# --- what the hosts' log says ------------------------------------------------------------------


def overlaps(requests: Sequence[Request]) -> list[tuple[Request, Request]]:
    """Pairs of requests from two processes where the earlier sender sent again after the
    later one began: two daemons fetching in the same period. Runs of one sender must
    follow each other without interleaving."""
    found = []
    finished: dict[int, Request] = {}  # senders whose run ended: their last request
    current: Request | None = None
    for request in sorted(requests, key=lambda r: r.at):
        if request.pid == UNKNOWN:
            continue  # counted apart: its sender was gone before it could be looked up
        if current is not None and request.pid != current.pid:
            finished[current.pid] = current
            if request.pid in finished:
                found.append((finished[request.pid], request))
        current = request
    return found


def over_budget(
    times: Sequence[float], per_minute: float, burst: int, slack: float = 0.25
) -> list[tuple[float, float, int]]:
    """Windows [t_i, t_j] holding more requests than a token bucket of this budget allows:
    `burst` plus what it refills meanwhile (with `slack` seconds for the way between the
    client's bucket and the host's clock). Empty: the budget held."""
    ordered = sorted(times)
    rate = per_minute / 60
    found = []
    for i, start in enumerate(ordered):
        for j in range(i + burst, len(ordered)):
            count = j - i + 1
            allowed = burst + rate * (ordered[j] - start + slack)
            if count > allowed:
                found.append((start, ordered[j], count))
    return found


def most_in_a_minute(times: Sequence[float]) -> int:
    ordered = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= 60:
            first += 1
        best = max(best, last - first + 1)
    return best


def slot_lines(messages: Iterable[Any]) -> list[str]:
    """The slot lines ('- …') of every message received, one entry per line received."""
    return [
        line[2:].strip()
        for message in messages
        for line in message.body.splitlines()
        if line.startswith("- ")
    ]


# --- a network between one daemon and the database, which the test can cut ---------------------


class DatabaseLink:
    """A TCP relay on loopback between one daemon and PostgreSQL. `cut()` plays a network
    partition: the connections open go silent (nothing more is relayed either way) and new
    ones are accepted but never relayed; `heal()` ends it (the silent ones are closed)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.cut_off = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url(self, database: str) -> str:
        """The database URL through this link."""
        return re.sub(r"@127\.0\.0\.1:\d+/", f"@127.0.0.1:{self.port}/", database)

    def cut(self) -> None:
        self.cut_off.set()

    def heal(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self.cut_off.clear()

    def close(self) -> None:
        self._stopped.set()
        self.heal()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
            if self.cut_off.is_set():
                continue  # accepted, never answered
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.append(server)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    def _relay(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                while self.cut_off.is_set():  # silent: hold what came, relay nothing
                    if self._stopped.wait(0.1) or source.fileno() < 0:
                        return
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
