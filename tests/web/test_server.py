"""The dashboard's listening socket: what asyncio (uvicorn's loop) makes of the connections
it accepts."""

from __future__ import annotations

import asyncio
import socket

from creneau.web.server import bind


def test_connections_to_the_dashboard_send_small_answers_at_once() -> None:
    """Nagle's algorithm off (TCP_NODELAY) on every accepted connection: with it on, an answer
    written in two parts (uvicorn writes the head, then the body) waits for the client's
    delayed ACK, 40 ms on Linux, which made every page under ~64 kB 40 ms slower."""

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Record(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        listening = bind("127.0.0.1", 0)
        port = listening.getsockname()[1]
        server = await asyncio.get_running_loop().create_server(Record, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                return await asyncio.wait_for(seen, timeout=30)
            finally:
                writer.close()

    assert asyncio.run(accepted_nodelay()) != 0
