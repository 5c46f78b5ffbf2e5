"""`bevoegd serve` as a real process: an address in use is refused before anything starts, and
with --workers several server processes share the port, a worker killed with SIGKILL is
replaced while the others go on answering, and one projection runner among them projects.

Every wait has a deadline (eventually, wait_until_healthy), so a server that never comes or
never recovers fails the test instead of hanging it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import psutil
import psycopg
import pytest

from ledger import commands as c
from ledger.database import DATABASE_URL_VARIABLE
from projections.runner import all_projections, lock_key
from tests.graphql_client import (
    camel,
    error_codes,
    eventually,
    graphql_input,
    issue_token,
    mutation_document,
)
from tests.servers import free_port, wait_until_healthy

pytestmark = pytest.mark.database

STARTUP_SECONDS = 60.0
"""The most a test waits for a server process to start (imports and the schema, on a busy
machine): a deadline, not a timing."""
READS = 20
NOT_SERVED = 3
"""The exit code `bevoegd serve` documents for an address it cannot listen on."""
ALL_LOCKS = {lock_key(projection.name) for projection in all_projections()}
JURISDICTIONS = ("query($position: Int!) { jurisdictions(first: 100, atLeast: $position) "
                 "{ nodes { code } } }")


def serve_command(port: int, *options: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", "serve", "--port", str(port), *options]


def tables_in(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [row[0] for row in conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")]


def test_a_port_in_use_is_refused_before_anything_starts(database_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(serve_command(port),
                              env=os.environ | {DATABASE_URL_VARIABLE: database_url},
                              capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert done.returncode == NOT_SERVED, done.stderr
    assert f"port {port} of 127.0.0.1: Address already in use" in done.stderr, done.stderr
    assert "GraphQL at" not in done.stderr and "startup complete" not in done.stderr
    assert tables_in(database_url) == []  # it did not even open the ledger


@dataclass
class Served:
    process: subprocess.Popen[str]
    port: int
    database_url: str
    admin: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def workers(self) -> set[int]:
        """The live server processes: the children multiprocessing spawned (not its resource
        tracker), leaving out a killed one its parent has not reaped yet."""
        return {child.pid for child in psutil.Process(self.process.pid).children()
                if _spawned_and_alive(child)}

    def post(self, query: str, variables: dict[str, Any], token: str | None = None
             ) -> dict[str, Any]:
        """The answer to one request on a connection of its own, so that any live worker may
        take it."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(self.url, json={"query": query, "variables": variables},
                              headers=headers, timeout=STARTUP_SECONDS)
        assert response.status_code == 200, response.text
        return response.json()

    def establish(self, code: str) -> int:
        """Writes a jurisdiction; returns the ledger position of the write."""
        command = c.EstablishJurisdiction(code=code, title=code.title(), kind="municipality")
        body = self.post(mutation_document(command.name),
                         {"key": code, "input": graphql_input(command)}, self.admin)
        payload = body["data"][camel(command.name)]
        assert payload["userErrors"] == [], payload
        return int(payload["position"])

    def projected(self, code: str, position: int) -> bool:
        """Whether a read waiting for the position (atLeast) shows the jurisdiction; False
        also when the wait ran out (the runner that took over was still catching up)."""
        body = self.post(JURISDICTIONS, {"position": position})
        if body.get("errors"):
            assert error_codes(body) == ["NOT_PROJECTED_YET"], body
            return False
        return code in {node["code"] for node in body["data"]["jurisdictions"]["nodes"]}

    def write_is_projected(self, code: str) -> None:
        position = self.establish(code)
        eventually(lambda: self.projected(code, position),
                   f"{code} projected (position {position})", STARTUP_SECONDS)

    def projection_locks(self) -> list[set[int]]:
        """The projection locks held, per database session: one set for each leading runner."""
        with psycopg.connect(self.database_url) as conn:
            held = conn.execute(
                "SELECT pid, objid::bigint FROM pg_locks WHERE locktype = 'advisory'"
                " AND granted AND database = (SELECT oid FROM pg_database"
                "  WHERE datname = current_database())").fetchall()
        sessions: dict[int, set[int]] = {}
        for pid, key in held:
            if key in ALL_LOCKS:
                sessions.setdefault(pid, set()).add(key)
        return list(sessions.values())


@contextmanager
def serving(database_url: str, *options: str) -> Iterator[Served]:
    """`bevoegd serve OPTIONS` on a free port, answering; stopped with SIGTERM afterwards,
    which it must survive cleanly."""
    port = free_port()
    admin = issue_token(database_url, "admin", name="beheerder")
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(serve_command(port, *options), text=True,
                                   env=os.environ | {DATABASE_URL_VARIABLE: database_url},
                                   stdout=subprocess.DEVNULL, stderr=errors)
        try:
            wait_until_healthy(process, port, STARTUP_SECONDS)
            yield Served(process, port, database_url, admin)
            process.terminate()
            assert process.wait(timeout=STARTUP_SECONDS) == 0
        except BaseException:
            errors.seek(0)
            sys.stderr.write(errors.read()[-4000:])
            raise
        finally:
            if process.poll() is None:
                for worker in psutil.Process(process.pid).children(recursive=True):
                    worker.kill()
                process.kill()
                process.wait()


def test_workers_share_the_port_and_one_that_dies_is_replaced(database_url: str) -> None:
    with serving(database_url, "--workers", "2") as served:
        eventually(lambda: len(served.workers()) == 2, "two workers", STARTUP_SECONDS)
        originals = served.workers()
        served.write_is_projected("papendrecht")
        assert served.projection_locks() == [ALL_LOCKS]  # one runner leads, the other waits

        # the leader is one of the two: killing each in turn kills it, and a standby or the
        # replacement takes over
        for number, victim in enumerate(originals):
            os.kill(victim, signal.SIGKILL)
            for _ in range(READS):  # answered by whichever workers are alive
                assert served.post("{ ledger { position } }", {})["data"]["ledger"]
            eventually(lambda victim=victim: len(served.workers()) == 2 and victim not in served.workers(),
                       f"a worker in place of {victim}", STARTUP_SECONDS)
            eventually(lambda: served.projection_locks() == [ALL_LOCKS], "one leading runner",
                       STARTUP_SECONDS)
            served.write_is_projected(f"gemeente-{number}")
        assert not served.workers() & originals


def test_a_websocket_message_over_the_body_limit_closes_the_socket(database_url: str) -> None:
    """A WebSocket message is held to the HTTP body limit, not uvicorn's 16 MiB: a larger one
    closes the socket with 1009 (message too big) before the server holds all of it."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from api.body_limit import DEFAULT_MAX_BODY_BYTES

    with serving(database_url) as served, connect(
            f"ws://127.0.0.1:{served.port}/graphql", subprotocols=["graphql-transport-ws"],
            open_timeout=STARTUP_SECONDS, close_timeout=STARTUP_SECONDS) as socket_:
        socket_.send('{"type": "connection_init"}')
        assert '"connection_ack"' in socket_.recv(timeout=STARTUP_SECONDS)
        query = "{ ledger { position } }" + " " * DEFAULT_MAX_BODY_BYTES
        socket_.send(f'{{"id": "1", "type": "subscribe", "payload": {{"query": "{query}"}}}}')
        with pytest.raises(ConnectionClosed) as closed:
            socket_.recv(timeout=STARTUP_SECONDS)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_connections_to_the_served_socket_do_not_wait_for_delayed_acknowledgements() -> None:
    """asyncio turns Nagle's algorithm off on each connection it accepts only when the socket
    says it is TCP; with it on, every keep-alive answer written in two parts waited 40 ms for the
    client's delayed acknowledgement."""
    import asyncio

    from api.serving import listen
    from tests.servers import free_port

    accepted: asyncio.Queue[int] = asyncio.Queue()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = writer.get_extra_info("socket")
        await accepted.put(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    with listen("127.0.0.1", free_port()) as listening:
        server = await asyncio.start_server(answer, sock=listening)
        async with server:
            port = listening.getsockname()[1]
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            assert await asyncio.wait_for(accepted.get(), STARTUP_SECONDS) != 0
            writer.close()


def _spawned_and_alive(process: psutil.Process) -> bool:
    try:
        return "spawn_main" in " ".join(process.cmdline())
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return False
