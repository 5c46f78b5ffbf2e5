"""The database going away under a running API, and coming back.

The app talks to PostgreSQL through a TCP proxy (tests/tcp_proxy.py) that the test cuts: every
open connection dropped, new ones refused. While it is cut, every kind of request is answered
503 with Retry-After and a GraphQL error with code UNAVAILABLE (a write too: fast, not by the
request time limit), and the outage is logged once, whatever the number of requests. Once the
line is restored, the same app answers again without a restart, and says so once."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Awaitable, Iterator

import asyncpg
import httpx
import pytest

from ledger import commands as c
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from projections.connection import connect_kwargs
from projections.health import is_connection_failure
from tests.graphql_client import (
    WAIT_SECONDS,
    Api,
    assert_no_leak,
    error_codes,
    eventually,
    issue_token,
    load_world,
    receive,
    serving,
)
from tests.servers import free_port
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.database

OUTAGE = "database unavailable"
RECOVERY = "database available again"
DECISIONS = "query($at: Int) { decisions(first: 5, atLeast: $at) { nodes { code } } }"
BODY = 'query($code: String!) { body(code: $code) { code name } }'
SUBSCRIPTION = "subscription { ledgerEvents(after: 0) { position } }"


def new_jurisdiction(n: int) -> c.EstablishJurisdiction:
    return c.EstablishJurisdiction(code=f"gemeente-{n}", title=f"Gemeente {n}",
                                   kind="municipality")


@pytest.fixture
def position(database_url: str, ledger: Ledger) -> int:
    """The world, projected (no runner runs behind the proxy: these tests are about requests)."""
    at = load_world(ledger)
    with serving(database_url) as api:
        api.data(DECISIONS, {"at": at})
    return at


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    with TcpProxy(database_url) as line:
        yield line


@pytest.fixture
def api(proxy: TcpProxy, position: int) -> Iterator[Api]:
    with serving(proxy.url, run_projector=False) as served:
        yield served


def unavailable(response: httpx.Response) -> bool:
    """Whether a response is the honest answer of a server without its database."""
    body = response.json()
    assert_no_leak(body)
    return (response.status_code == 503 and int(response.headers["retry-after"]) > 0
            and error_codes(body) == ["UNAVAILABLE"])


@pytest.fixture(autouse=True)
def availability_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="api.availability")


def outage_lines(caplog: pytest.LogCaptureFixture, text: str, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.getMessage().startswith(text) and r.levelno == level]


def test_requests_while_the_database_is_down_are_answered_503(
        api: Api, proxy: TcpProxy, database_url: str, position: int,
        caplog: pytest.LogCaptureFixture) -> None:
    admin = issue_token(database_url, "admin")
    auditor = issue_token(database_url, "auditor")
    assert api.data(BODY, {"code": "raad-dordrecht"}, token=auditor)
    proxy.cut()

    with_token = api.post(BODY, {"code": "college-dordrecht"}, token=auditor)  # not cached
    assert unavailable(with_token), with_token.text
    public = api.post(DECISIONS, {"at": position})
    assert unavailable(public), public.text
    # a write meets the outage either at the door (the server knows) or in the ledger's pool:
    # either way it is told so, not left to run into the request time limit (TIMEOUT)
    write = api.mutate(new_jurisdiction(1), "outage-1", token=admin)
    assert unavailable(write), write.text
    for n in range(5):
        assert unavailable(api.post(BODY, {"code": f"body-{n}"}))
    assert len(outage_lines(caplog, OUTAGE, logging.WARNING)) == 1, caplog.text
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING), \
        caplog.text  # an outage is not a bug: no tracebacks

    proxy.restore()
    eventually(lambda: api.post(BODY, {"code": "raad-dordrecht"}).status_code == 200,
               "a read to be answered again")
    assert api.data(BODY, {"code": "raad-dordrecht"}, token=auditor)
    assert api.accepted(new_jurisdiction(2), "after-outage", token=admin) > position
    assert len(outage_lines(caplog, RECOVERY, logging.INFO)) == 1, caplog.text
    assert len(outage_lines(caplog, OUTAGE, logging.WARNING)) == 1, caplog.text


def test_a_second_outage_is_noticed_and_logged_again(
        api: Api, proxy: TcpProxy, caplog: pytest.LogCaptureFixture) -> None:
    for outage in (1, 2):
        proxy.cut()
        assert unavailable(api.post(BODY, {"code": "raad-dordrecht"}))
        assert len(outage_lines(caplog, OUTAGE, logging.WARNING)) == outage, caplog.text
        proxy.restore()
        eventually(lambda: api.post(BODY, {"code": "raad-dordrecht"}).status_code == 200,
                   "a read to be answered again")
        assert len(outage_lines(caplog, RECOVERY, logging.INFO)) == outage, caplog.text


def test_a_write_in_an_outage_is_told_to_try_again(
        api: Api, proxy: TcpProxy, database_url: str) -> None:
    """The first request after the cut, before the server knows of it: the write meets the
    outage in the ledger's pool (or at the door, if the read pool noticed first) and is told
    so at once, not left to run into the request time limit (TIMEOUT). Retried with the same
    key once the database is back, it is recorded once."""
    admin = issue_token(database_url, "admin")
    proxy.cut()
    write = api.mutate(new_jurisdiction(3), "key-3", token=admin)
    assert unavailable(write), write.text
    proxy.restore()
    eventually(lambda: api.mutate(new_jurisdiction(3), "key-3", token=admin).status_code == 200,
               "the write to be accepted")
    payload = api.payload(new_jurisdiction(3), "key-3", token=admin)
    assert payload["replayed"] and payload["userErrors"] == []


def test_a_write_waiting_for_the_ledger_is_answered_when_the_outage_is_known(
        proxy: TcpProxy, database_url: str, position: int) -> None:
    """A write already waiting inside the ledger's store (which retries for seconds) when the
    database goes away is answered UNAVAILABLE as soon as the server knows, not left to run
    into the request time limit."""
    admin = issue_token(database_url, "admin")
    env = {**eventsourcing_env(proxy.url), "POSTGRES_POOL_SIZE": "1",
           "POSTGRES_MAX_OVERFLOW": "0"}
    ledger = Ledger(env=env)
    try:
        with serving(proxy.url, ledger, run_projector=False) as api:
            assert api.data(BODY, {"code": "dsb"}, token=admin)  # the token is checked now
            cut = threading.Timer(0.5, proxy.cut)
            with ledger.store.datastore.get_connection():  # the write waits for this one
                cut.start()
                write = api.mutate(new_jurisdiction(5), "waiting", token=admin)
            cut.join()
            assert unavailable(write), write.text
    finally:
        ledger.close()


def test_unavailable_answers_are_not_cached(api: Api, proxy: TcpProxy) -> None:
    proxy.cut()
    assert unavailable(api.post(BODY, {"code": "raad-dordrecht"}))
    proxy.restore()
    eventually(lambda: api.post(BODY, {"code": "raad-dordrecht"}).status_code == 200,
               "the same read to be answered")


def test_graphql_response_media_type_gets_503_too(api: Api, proxy: TcpProxy) -> None:
    proxy.cut()
    response = api.client.post("/graphql", json={"query": BODY, "variables": {"code": "dsb"}},
                               headers={"Accept": "application/graphql-response+json"})
    assert unavailable(response), response.text
    assert response.headers["content-type"].startswith("application/graphql-response+json")


def test_a_subscription_is_told_the_database_is_gone(api: Api, proxy: TcpProxy) -> None:
    """graphql-transport-ws: the running subscription ends with an UNAVAILABLE error (its
    client resumes from the last position it saw); a new connection while the database is
    known to be down is closed with 1013, Try Again Later."""
    with api.subscribe() as socket:
        socket.send_json({"type": "connection_init"})
        assert receive(socket)["type"] == "connection_ack"
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        assert receive(socket)["type"] == "next"
        proxy.cut()
        message = receive(socket)
        while message["type"] == "next" and "errors" not in message["payload"]:
            message = receive(socket)  # the rest of the page read before the cut
        assert message["type"] == "next", message
        assert error_codes(message["payload"]) == ["UNAVAILABLE"], message
        assert receive(socket)["type"] == "complete"
    with api.subscribe() as socket:
        assert receive(socket) == {"type": "closed", "code": 1013}


def test_a_token_sent_in_connection_init_during_an_outage(
        api: Api, proxy: TcpProxy, database_url: str) -> None:
    """Browsers send the token in connection_init; if it cannot be checked then, the socket is
    closed with 1013 too, rather than left to fail."""
    auditor = issue_token(database_url, "auditor")
    with api.subscribe() as socket:
        proxy.cut()
        socket.send_json({"type": "connection_init",
                          "payload": {"Authorization": f"Bearer {auditor}"}})
        assert receive(socket) == {"type": "closed", "code": 1013}


def test_cached_answers_follow_the_ledger_again_after_an_outage(
        api: Api, proxy: TcpProxy, database_url: str) -> None:
    """The server learns of projected events by a notification on a connection of its own;
    once the database is back it listens again, or a cached answer would outlive the events
    that changed it (up to the cache's backstop of 30 s)."""
    jurisdictions = "{ jurisdictions(first: 100) { nodes { code } } }"

    def codes() -> set[str]:
        return {n["code"] for n in api.data(jurisdictions)["jurisdictions"]["nodes"]}

    assert "gemeente-4" not in codes()  # and now this answer is cached
    proxy.cut()
    assert unavailable(api.post(BODY, {"code": "raad-dordrecht"}))
    proxy.restore()
    eventually(lambda: api.post(BODY, {"code": "raad-dordrecht"}).status_code == 200,
               "a read to be answered again")
    with serving(database_url) as writer:  # with the runner, on a line of its own
        admin = issue_token(database_url, "admin")
        at = writer.accepted(new_jurisdiction(4), "after-the-outage", token=admin)
        writer.data(DECISIONS, {"at": at})
    eventually(lambda: "gemeente-4" in codes(), "the cached answer to be replaced")


def test_what_counts_as_the_database_being_gone(proxy: TcpProxy) -> None:
    """The judgement behind UNAVAILABLE, on real errors of both drivers: a connection refused or
    broken means the database is gone; a statement that fails or runs too long, or a ledger
    pool with no connection free in time, does not."""

    async def read_side() -> dict[str, bool]:
        conn = await asyncpg.connect(**connect_kwargs(proxy.url))
        judged = {
            "bad statement": await judgement(conn.execute("SELECT nonsense")),
            "slow statement": await judgement(conn.execute("SELECT pg_sleep(1)", timeout=0.1)),
        }
        in_flight = asyncio.create_task(judgement(conn.execute("SELECT pg_sleep(5)")))
        await asyncio.sleep(0.1)
        proxy.cut()
        judged["connection broken"] = await in_flight
        judged["connection refused"] = await judgement(
            asyncpg.connect(**connect_kwargs(proxy.url)))
        proxy.restore()
        return judged

    assert asyncio.run(read_side()) == {"bad statement": False, "slow statement": False,
                                        "connection broken": True, "connection refused": True}

    env = {**eventsourcing_env(proxy.url), "POSTGRES_POOL_SIZE": "1",
           "POSTGRES_MAX_OVERFLOW": "0"}
    ledger = Ledger(env=env)
    datastore = ledger.store.datastore  # the store itself retries; its errors come from here

    def ledger_side(statement: str) -> bool:
        try:
            with datastore.get_connection() as conn:
                conn.execute(statement)
        except Exception as error:
            return is_connection_failure(error)
        raise AssertionError("the statement was meant to fail")

    try:
        judged = {"bad statement": ledger_side("SELECT nonsense")}
        with datastore.get_connection():  # the pool's only connection, taken
            judged["no connection free"] = ledger_side("SELECT 1")
        proxy.cut()
        judged["connection broken"] = ledger_side("SELECT 1")
    finally:
        proxy.restore()
        ledger.close()
    assert judged == {"bad statement": False, "no connection free": False,
                      "connection broken": True}


async def judgement(attempt: Awaitable[object]) -> bool:
    """Whether the error `attempt` fails with counts as a connection failure."""
    try:
        await attempt
    except Exception as error:
        return is_connection_failure(error)
    raise AssertionError("the attempt was meant to fail")


def test_bevoegd_serve_logs_the_outage_and_its_end_once(
        proxy: TcpProxy, position: int) -> None:
    """The real server process, as an operator reads its log."""
    port = free_port()
    env = {**os.environ, "BEVOEGD_DATABASE_URL": proxy.url}
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port),
                               "--no-projector"], env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"

    def read() -> httpx.Response:
        return httpx.post(f"{base}/graphql", json={"query": BODY,
                                                   "variables": {"code": "raad-dordrecht"}})

    try:
        eventually(lambda: _answers(f"{base}/healthz"), "the server to start")
        assert read().status_code == 200
        proxy.cut()
        assert all(unavailable(read()) for _ in range(5))
        proxy.restore()
        eventually(lambda: read().status_code == 200, "a read to be answered again")
    finally:
        server.terminate()
        _, log = server.communicate(timeout=WAIT_SECONDS)
    assert len(re.findall(f"WARNING: +{OUTAGE}: ", log)) == 1, log
    assert len(re.findall(f"INFO: +{RECOVERY} ", log)) == 1, log
    assert "Traceback" not in log, log


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False


def test_a_process_started_before_the_database_answers_waits_for_its_first_connection(
    database_url: str,
) -> None:
    """A server process (API or worker) may start while the database is still coming up, or
    is slow to answer on a loaded machine: its ledger waits for the first connection for longer
    than the second a call waits for one later."""
    with TcpProxy(database_url) as proxy:
        proxy.cut()
        threading.Timer(1.5, proxy.restore).start()
        ledger = Ledger(env=eventsourcing_env(proxy.url))
        try:
            assert ledger.position() >= 0
        finally:
            ledger.close()
