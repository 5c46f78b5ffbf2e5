"""PostgreSQL killed (kill -9 of every server process) and restarted under load, the API left
running: while the database is away every request is answered at once, honestly (503 with
Retry-After and the GraphQL error code UNAVAILABLE; nothing internal); once it is back the same
API process writes and reads again, its projections move again and catch up with every write,
and every acknowledged write is in the ledger exactly once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from ledger.application import Ledger
from ledger.database import ensure_database, eventsourcing_env
from tests.graphql_client import LEAKS, issue_token
from tests.reliability.postgres_server import PostgresServer
from tests.reliability.processes import Server, until
from tests.reliability.suite import Figures
from tests.reliability.writers import (
    WRITE_DEADLINE,
    Tally,
    assert_each_acknowledged_write_once,
    every_write,
    griffies,
    http_client,
    replay_all,
    summary,
    unavailable,
    write_all,
)

pytestmark = [pytest.mark.database, pytest.mark.reliability, pytest.mark.timeout(300)]

WRITES_PER_CLIENT = 15
KILL_AFTER = 120  # acknowledged writes before the database is killed
DOWN_SECONDS = 3.0  # how long the database stays away: long enough for every client to notice
READERS = 4
READ = "query($at: Int) { decisions(first: 5, atLeast: $at) { nodes { code } } }"
MAX_TRACEBACKS = 3
"""The outage is logged once, and its end; not a traceback per failed request (the pool, the
projection runner and the token check may each report it)."""


@dataclass
class Reads:
    ok: int = 0
    unavailable: int = 0
    unexpected: list[str] = field(default_factory=list)


async def read_until(stop: asyncio.Event, url: str, token: str | None, reads: Reads) -> None:
    """A reader, with or without a token, asking again as soon as it is answered."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=30) as client:
        while not stop.is_set():
            try:
                response = await client.post(url, json={"query": READ}, headers=headers)
            except httpx.TransportError as error:
                reads.unexpected.append(f"no answer: {error!r}")
                return
            if response.status_code == 503:
                answer = unavailable(response)
                if answer.unexpected:
                    reads.unexpected.append(answer.unexpected)
                reads.unavailable += 1
                await asyncio.sleep(0.05)
            elif answered(response):
                reads.ok += 1
            else:
                reads.unexpected.append(f"{response.status_code}: {response.text[:300]}")


def answered(response: httpx.Response) -> bool:
    """200 with data and no errors, and nothing internal in it."""
    try:
        body = response.json()
    except ValueError:
        return False
    return (response.status_code == 200 and isinstance(body, dict) and "errors" not in body
            and body.get("data") is not None and not LEAKS.search(response.text))


async def test_postgres_killed_and_restarted_under_load(
    own_postgres: PostgresServer, tmp_path: Path, figures: Figures
) -> None:
    ensure_database(own_postgres.url(), "bevoegd")
    database_url = own_postgres.url("bevoegd")
    ledger = Ledger(env=eventsourcing_env(database_url))
    try:
        writing = await griffies(ledger, database_url, WRITES_PER_CLIENT)
        events_before = ledger.position()
    finally:
        ledger.close()
    auditor = await asyncio.to_thread(issue_token, database_url, "auditor")
    tally, reads, stop = Tally(), Reads(), asyncio.Event()
    log = tmp_path / "serve.log"
    server = Server(database_url, log)
    await asyncio.to_thread(server.start)
    assert server.process is not None
    pid = server.process.process.pid
    try:
        load = asyncio.create_task(write_all(server.graphql, writing, tally))
        readers = [asyncio.create_task(read_until(stop, server.graphql, token, reads))
                   for token in [auditor, None] * (READERS // 2)]
        await until(lambda: tally.acknowledged >= KILL_AFTER or load.done(),
                    f"{KILL_AFTER} acknowledged writes")
        assert not load.done(), tally.unexpected
        logged_before = log.read_text(errors="replace").count("Traceback")

        await asyncio.to_thread(own_postgres.kill)
        await asyncio.sleep(DOWN_SECONDS)
        async with http_client() as client:
            assert (await client.get(f"{server.base}/healthz")).status_code == 200  # up ...
            assert (await client.get(f"{server.base}/readyz")).status_code == 503  # not ready
        unavailable_while_down = (tally.answers["503"], reads.unavailable)
        await asyncio.to_thread(own_postgres.start)

        await asyncio.wait_for(load, WRITE_DEADLINE)
        assert tally.unexpected == [] and reads.unexpected == [], (
            tally.unexpected[:5], reads.unexpected[:5])
        assert all(unavailable_while_down), "no write or no read was answered 503 while down"

        last = max(w.position or 0 for w in every_write(writing))
        async with http_client() as client:
            await until(lambda: _reads(client, server.graphql, last),
                        "the projections to move again, up to the last acknowledged write")
            await until(lambda: _ready(client, server.base), "/readyz to answer 200 again")
        stop.set()
        await asyncio.gather(*readers)
        assert reads.unexpected == [], reads.unexpected[:5]
        await replay_all(server.graphql, writing, tally)
        assert tally.unexpected == [], tally.unexpected[:5]
        assert server.process.alive and server.process.process.pid == pid, "the API restarted"
    finally:
        stop.set()
        server.close()

    assert_each_acknowledged_write_once(database_url, writing, events_before)
    logged = log.read_text(errors="replace").count("Traceback") - logged_before
    assert logged <= MAX_TRACEBACKS, f"{logged} tracebacks logged for one outage"
    figures["PostgreSQL killed (kill -9) and restarted under load"] = {
        **summary(writing, tally), "readers": READERS, "reads answered": reads.ok,
        "503 answers while down (writes, reads)": list(unavailable_while_down),
        "seconds down": DOWN_SECONDS, "API restarts": 0}


async def _reads(client: httpx.AsyncClient, url: str, position: int) -> bool:
    """A read that waits for `position` is answered: the projections have reached it."""
    return answered(await client.post(url, json={"query": READ, "variables": {"at": position}}))


async def _ready(client: httpx.AsyncClient, base: str) -> bool:
    return (await client.get(f"{base}/readyz")).status_code == 200
