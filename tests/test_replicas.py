"""Reads on a hot standby (tests/cluster.py): `bevoegd serve` processes that write to a primary
and read from its streaming standby start (nothing is set up on, or listened to, on a database
that refuses both), read their own writes through the load balancer, stream new events to
subscribers, never keep an answer of the standby's past under a newer generation, and say at
/readyz how far the standby lags, refusing readiness past the bound.

A standby whose replay is paused is a standby that lags for as long as the test needs: what the
primary has announced is then, for certain, not yet on the standby."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from api.app import READY_REPLICA_LAG_VARIABLE
from projections.queries.audit import projected_position
from projections.runner import all_projections
from tests.cluster import Cluster, Process, balancer_installed, cluster
from tests.graphql_client import eventually, issue_token
from tests.read_models import pool_on
from tests.test_serve import STARTUP_SECONDS, Served

pytestmark = pytest.mark.database

WRITES = 20
JURISDICTION_CODES = "{ jurisdictions(first: 100) { nodes { code } } }"
LEDGER_EVENTS = ("subscription($after: Int!) "
                 "{ ledgerEvents(after: $after) { position recordCode } }")
"""The same read as test_serve's JURISDICTIONS, without `atLeast`: the one a cache answers."""


@pytest.fixture(scope="module")
def replicated() -> Iterator[Cluster]:
    """A primary, its standby, the projection worker and two API processes reading the
    standby."""
    with cluster() as running:
        running.start_api()
        running.start_worker()
        running.start_api()
        yield running


def served(running: Cluster, process: Process) -> Served:
    """A client of one API process, or of the balancer, writing as an admin."""
    assert process.port is not None
    return Served(process.popen, process.port, running.write_url,  # type: ignore[arg-type]
                  issue_token(running.write_url, "admin", name="beheerder"))


def codes(body: dict[str, Any]) -> set[str]:
    assert not body.get("errors"), body
    return {node["code"] for node in body["data"]["jurisdictions"]["nodes"]}


def on_standby(running: Cluster, statement: str) -> Any:
    with psycopg.connect(running.read_url, autocommit=True) as conn:
        return conn.execute(statement).fetchone()[0]  # type: ignore[index]


def primary_projected(running: Cluster) -> int:
    async def position() -> int:
        async with pool_on(running.write_url, max_size=1) as pool:
            return await projected_position(pool, [p.name for p in all_projections()])
    return asyncio.run(position())


def paused(running: Cluster) -> bool:
    return on_standby(running, "SELECT pg_get_wal_replay_pause_state()") == "paused"


def test_the_api_reads_its_own_writes_from_the_standby_through_the_balancer(
        replicated: Cluster) -> None:
    """Each write goes to the primary through one process, the read that waits for its position
    (`atLeast`) to the standby through the next: every read shows its write."""
    if not balancer_installed():
        pytest.skip("HAProxy is not installed (Debian: apt-get install haproxy)")
    assert on_standby(replicated, "SELECT pg_is_in_recovery()")
    with replicated.balancer(replicated.apis) as balancer:
        client = served(replicated, balancer)
        for number in range(WRITES):
            code = f"gm{number:04d}"
            position = client.establish(code)
            assert client.projected(code, position), f"{code} (position {position}) not read"


def test_a_subscription_through_the_balancer_streams_each_write_from_the_standby(
        replicated: Cluster) -> None:
    if not balancer_installed():
        pytest.skip("HAProxy is not installed (Debian: apt-get install haproxy)")
    from websockets.sync.client import connect

    with replicated.balancer(replicated.apis) as balancer:
        client = served(replicated, balancer)
        after = client.establish("gm0300")
        with connect(f"ws://127.0.0.1:{balancer.port}/graphql",
                     subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                     open_timeout=STARTUP_SECONDS, close_timeout=STARTUP_SECONDS) as socket_:
            socket_.send(json.dumps({"type": "connection_init",
                                     "payload": {"Authorization": f"Bearer {client.admin}"}}))
            assert json.loads(socket_.recv(timeout=STARTUP_SECONDS))["type"] == "connection_ack"
            socket_.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": LEDGER_EVENTS, "variables": {"after": after}}}))
            for number in range(3):
                code = f"gm030{number + 1}"
                position = client.establish(code)
                event: dict[str, Any] = {"position": after}
                while event["position"] < position:
                    message = json.loads(socket_.recv(timeout=STARTUP_SECONDS))
                    assert message["type"] == "next", message
                    event = message["payload"]["data"]["ledgerEvents"]
                assert event == {"position": position, "recordCode": code}


def test_an_answer_of_a_lagging_standby_is_not_served_once_it_has_caught_up(
        replicated: Cluster) -> None:
    """The primary's notification that a write is projected comes before the standby has it:
    an answer read from the standby meanwhile is of the old generation, and once the standby
    has replayed, the same request is answered anew, with the write."""
    client = served(replicated, replicated.apis[0])
    first = client.establish("gm0100")
    assert client.projected("gm0100", first)
    on_standby(replicated, "SELECT pg_wal_replay_pause()")
    try:
        eventually(lambda: paused(replicated), "the standby's replay paused")
        position = client.establish("gm0101")
        eventually(lambda: primary_projected(replicated) >= position,
                   "the write projected on the primary", STARTUP_SECONDS)
        time.sleep(0.5)  # the notification reaches the process (to go wrong, it must have)
        assert "gm0101" not in codes(client.post(JURISDICTION_CODES, {}))  # the standby's past
        # a position the standby lacks is waited for (in vain, while paused), not refused
        assert not client.projected("gm0101", position)
    finally:
        on_standby(replicated, "SELECT pg_wal_replay_resume()")
    assert client.projected("gm0101", position)  # the read waiting for the write sees it...
    assert "gm0101" in codes(client.post(JURISDICTION_CODES, {}))  # ...and so does the next


def test_readyz_reports_the_standby_lag_and_is_not_ready_past_its_bound(
        replicated: Cluster) -> None:
    bounded = replicated.start_api({READY_REPLICA_LAG_VARIABLE: "1"})

    def ready() -> tuple[int, dict[str, Any]]:
        response = httpx.get(f"{bounded.url}/readyz", timeout=STARTUP_SECONDS)
        return response.status_code, response.json()

    eventually(lambda: ready()[0] == 200, "the process ready", STARTUP_SECONDS)
    status, answer = ready()
    assert set(answer["replica"]) == {"lag_bytes", "lag_seconds"}, answer
    on_standby(replicated, "SELECT pg_wal_replay_pause()")
    try:
        eventually(lambda: paused(replicated), "the standby's replay paused")
        served(replicated, bounded).establish("gm0200")
        eventually(lambda: ready()[0] == 503, "the lagging standby reported", STARTUP_SECONDS)
        status, answer = ready()
        assert answer["status"] == "replica lagging", answer
        assert answer["replica"]["lag_seconds"] > 1 and answer["replica"]["lag_bytes"] > 0
    finally:
        on_standby(replicated, "SELECT pg_wal_replay_resume()")
    eventually(lambda: ready()[0] == 200, "the process ready again", STARTUP_SECONDS)
