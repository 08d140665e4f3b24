"""Keeps the test run on this machine: a connection or a name lookup for anything but
loopback (or a Unix socket) fails at once with OfflineError, before a packet leaves. Real
préfecture hostnames appear in fixtures and configs; this makes sure none is ever a target."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class OfflineError(ConnectionRefusedError):
    """A test tried to leave the machine."""


def is_loopback(host: object) -> bool:
    if not isinstance(host, str | bytes) or not host:
        return host is None  # getaddrinfo(None, port): the local host
    name = host.decode() if isinstance(host, bytes) else host
    if name.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _checked_address(address: Any) -> None:
    if isinstance(address, tuple) and not is_loopback(address[0]):
        raise OfflineError(f"tests stay on loopback: refused a connection to {address[0]}")


@contextmanager
def offline() -> Iterator[None]:
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        _checked_address(address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _checked_address(address)
        return original_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise OfflineError(f"tests stay on loopback: refused to look up {host}")
        return original_getaddrinfo(host, *args, **kwargs)

    patched: dict[str, Callable[..., Any]] = {"connect": connect, "connect_ex": connect_ex}
    for name, function in patched.items():
        setattr(socket.socket, name, function)
    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo
