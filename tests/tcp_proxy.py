"""A TCP proxy for outage tests: the app talks to PostgreSQL through it, and the test cuts the
line (every open connection dropped, new ones refused, as when the database host goes away) and
restores it on the same port, without touching the database server itself."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Self

from psycopg.conninfo import conninfo_to_dict, make_conninfo

HOST = "127.0.0.1"
CHUNK = 64 * 1024
CALL_SECONDS = 10.0


class TcpProxy:
    """Forwards connections from `HOST:port` to the database server of `database_url`."""

    def __init__(self, database_url: str) -> None:
        params = conninfo_to_dict(database_url)
        self.database_url = database_url
        self.host = str(params.get("host") or "localhost")
        self.target_port = int(params.get("port") or 5432)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._forwarding: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The database URL with the proxy in the server's place."""
        return make_conninfo(self.database_url, host=HOST, port=str(self.port))

    def __enter__(self) -> Self:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_SECONDS)
        self._loop.close()

    def cut(self) -> None:
        """Drops every open connection and refuses new ones until `restore`."""
        self._call(self._cut())

    def restore(self) -> None:
        """Accepts connections again, on the same port."""
        self._call(self._listen())

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_SECONDS)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._forward, HOST, self.port,
                                                      reuse_address=True)
            self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()  # the port is closed: a new connection is refused
        for writer in self._open:
            writer.transport.abort()  # no orderly goodbye: the peer sees the line go dead
        self._open.clear()
        await asyncio.gather(*self._forwarding, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def _forward(self, client_reader: asyncio.StreamReader,
                       client_writer: asyncio.StreamWriter) -> None:
        forwarding = asyncio.current_task()
        assert forwarding is not None
        self._forwarding.add(forwarding)
        try:
            await self._forward_to_server(client_reader, client_writer)
        finally:
            self._forwarding.discard(forwarding)

    async def _forward_to_server(self, client_reader: asyncio.StreamReader,
                                 client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await self._connect_to_server()
        except OSError:
            client_writer.transport.abort()
            return
        if self._server is None:  # cut while this connection was being made
            client_writer.transport.abort()
            server_writer.transport.abort()
            return
        self._open |= {client_writer, server_writer}
        await asyncio.gather(_pipe(client_reader, server_writer),
                             _pipe(server_reader, client_writer))
        self._open -= {client_writer, server_writer}

    async def _connect_to_server(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.host.startswith("/"):  # a socket folder, as libpq names it (the embedded server)
            return await asyncio.open_unix_connection(f"{self.host}/.s.PGSQL.{self.target_port}")
        return await asyncio.open_connection(self.host, self.target_port)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copies one direction until it ends or the line is cut."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        writer.close()
    except OSError:
        writer.transport.abort()
