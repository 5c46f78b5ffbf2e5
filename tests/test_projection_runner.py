"""The projection runner follows the ledger exactly once, whatever its batch size; one runner leads
per database (an advisory lock) while others stand by and take over; readers can wait for their
own writes; the API reports health and readiness of every projection."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from starlette.testclient import TestClient

from api.app import create_app
from ledger.application import EVENTS_TABLE, Ledger
from projections.errors import NotProjectedYet
from projections.queries.audit import event_counts
from projections.runner import Runner, all_projections, lock_key, statuses
from projections.tracking import SCHEMA
from projections.waiting import wait_for
from tests.ledger_setup import build_world
from tests.read_models import (
    import_history,
    pool_on,
    write_fresh_event,
)

pytestmark = pytest.mark.database

DEADLINE = 30.0  # seconds a bounded wait may take before the test fails; never a measurement
HISTORY_EVENTS = 3000  # the generator's smallest country records about this many anyway
_fresh = itertools.count()


# The ledger side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredEvent:
    position: int
    record_id: UUID
    version: int
    event_type: str  # "Record.Type", as ledger_info counts them
    meta: dict[str, Any]
    reason: str | None


async def stored_events(conn: asyncpg.Connection) -> list[StoredEvent]:
    """The ledger's events read straight from its table, not through the projections' decoder,
    so that a decoding slip in the projections cannot hide itself."""
    rows = await conn.fetch(
        f"SELECT notification_id, originator_id, originator_version, topic, state"
        f" FROM {EVENTS_TABLE} ORDER BY notification_id")
    events = []
    for row in rows:
        state = json.loads(row["state"])
        meta = state["meta"]["_data_"]
        meta["recorded_at"] = datetime.fromisoformat(meta["recorded_at"]["_data_"])
        events.append(StoredEvent(row["notification_id"], row["originator_id"],
                                  row["originator_version"], row["topic"].rpartition(":")[2],
                                  meta, state.get("reason")))
    return events


# The read side --------------------------------------------------------------------------------


@dataclass
class LiveRunner:
    runner: Runner
    task: asyncio.Task[None]
    stop: asyncio.Event

    async def halt(self) -> None:
        self.stop.set()
        await self.task  # re-raises whatever made the runner fail


@asynccontextmanager
async def live_runner(pool: asyncpg.Pool, batch_size: int = 5000) -> AsyncIterator[LiveRunner]:
    """A runner in the background, stopped on the way out even when the test failed, lest
    its connections keep the pool from closing."""
    stop = asyncio.Event()
    runner = Runner(pool, all_projections(), batch_size)
    live = LiveRunner(runner, asyncio.create_task(runner.run(stop)), stop)
    try:
        yield live
    finally:
        await live.halt()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Polls `check` until it holds; fails after DEADLINE seconds, saying what never happened."""
    deadline = time.monotonic() + DEADLINE
    while not await check():
        assert time.monotonic() < deadline, f"within {DEADLINE:g} s: {what}"
        await asyncio.sleep(0.05)


async def caught_up(pool: asyncpg.Pool) -> bool:
    found = await statuses(pool, all_projections())
    return all(s.lag == 0 for s in found)


async def assert_projected_exactly_once(conn: asyncpg.Connection) -> None:
    """The audit trail holds every event of the ledger once, in order, with its metadata, and
    ledger_info counts every event type as often as the ledger holds it."""
    events = await stored_events(conn)
    trail = await conn.fetch(
        f"SELECT position, record_id, version, event_type, recorded_at, actor, command_id,"
        f" correlation_id, reason FROM {SCHEMA}.audit_trail ORDER BY position")
    assert [row["position"] for row in trail] == [e.position for e in events]
    for row, event in zip(trail, events, strict=True):
        assert (row["record_id"], row["version"], row["event_type"], row["recorded_at"],
                row["actor"], row["command_id"], row["correlation_id"], row["reason"]) == (
            event.record_id, event.version, event.event_type,
            event.meta["recorded_at"], event.meta["actor"], event.meta["command_id"],
            event.meta["correlation_id"], event.reason), f"position {event.position}"
    assert Counter(await event_counts(conn)) == Counter(e.event_type for e in events)


# Exactly once ---------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 7, 250, 5000])
async def test_every_event_is_projected_exactly_once_whatever_the_batch_size(
    ledger: Ledger, database_url: str, batch_size: int
) -> None:
    # One event a batch takes every record's events through batches of their own; the world is
    # small enough for that, the generated country gives the larger batches work.
    build_world(ledger)
    head = import_history(ledger) if batch_size > 1 else ledger.position()
    async with pool_on(database_url) as pool:
        runner = Runner(pool, all_projections(), batch_size=batch_size)
        await runner.setup()
        applied = batches = 0
        while (batch := await runner.catch_up()) > 0:
            assert batch <= batch_size
            applied, batches = applied + batch, batches + 1
        assert applied == head
        assert batches == -(-head // batch_size)
        assert await runner.catch_up() == 0  # caught up: nothing is applied twice
        async with pool.acquire() as conn:
            await assert_projected_exactly_once(conn)
        assert {s.name: (s.position, s.lag) for s in await statuses(pool, all_projections())} \
            == {p.name: (head, 0) for p in all_projections()}


async def test_a_runner_set_up_again_resumes_where_it_stood(
    ledger: Ledger, database_url: str
) -> None:
    head = import_history(ledger)
    async with pool_on(database_url) as pool:
        await Runner(pool, all_projections(), batch_size=1000).setup()
        assert await Runner(pool, all_projections(), batch_size=1000).catch_up() == 1000
        resumed = Runner(pool, all_projections(), batch_size=1000)
        await resumed.setup()  # a restarted process: its set-up must keep the positions
        while await resumed.catch_up() > 0:
            pass
        async with pool.acquire() as conn:
            await assert_projected_exactly_once(conn)
        assert {s.position for s in await statuses(pool, all_projections())} == {head}


async def test_statuses_report_position_lag_and_rate(ledger: Ledger, database_url: str) -> None:
    head = import_history(ledger)
    async with pool_on(database_url) as pool:
        async with pool.acquire() as conn:
            positions = [e.position for e in await stored_events(conn)]
        never = await statuses(pool, all_projections())  # before any runner set anything up
        assert [(s.name, s.position, s.head, s.lag, s.rate, s.updated_at) for s in never] == [
            (p.name, 0, head, head, None, None) for p in all_projections()]

        runner = Runner(pool, all_projections(), batch_size=1000)
        await runner.setup()
        await runner.catch_up()
        for status in await statuses(pool, all_projections()):
            assert (status.position, status.head, status.lag) == (
                positions[999], head, head - positions[999]), status.name
            assert status.rate is not None and status.rate > 0
            assert status.updated_at is not None

        while await runner.catch_up() > 0:
            pass
        assert {(s.position, s.lag) for s in await statuses(pool, all_projections())} == {
            (head, 0)}


# One active runner ----------------------------------------------------------------------------


async def lock_holders(conn: asyncpg.Connection) -> Counter[int]:
    """Backend pids holding the projections' advisory locks, with how many each holds."""
    keys = [lock_key(p.name) for p in all_projections()]
    rows = await conn.fetch(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND ((classid::bigint << 32) | objid::bigint) = ANY($1::bigint[])", keys)
    return Counter(row["pid"] for row in rows)


async def tried_to_lead(conn: asyncpg.Connection, other_than: int) -> bool:
    """Some other session has asked for a projection lock: a runner that lost the election."""
    return bool(await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> $1 AND pid <> pg_backend_pid() AND query LIKE '%pg_try_advisory_lock%'",
        other_than))


async def test_a_second_runner_stands_by_and_takes_over_when_the_first_stops(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    # Separate pools stand for separate processes: advisory locks belong to sessions.
    async with pool_on(database_url) as pool_a, pool_on(database_url) as pool_b, \
            pool_on(database_url) as probe, probe.acquire() as conn, \
            live_runner(pool_a) as first:
        await eventually(lambda: caught_up(probe), "the first runner catches up")
        (leader,) = (await lock_holders(conn)).keys()
        assert (await lock_holders(conn))[leader] == len(all_projections())

        async with live_runner(pool_b) as second:
            await eventually(lambda: tried_to_lead(conn, other_than=leader),
                             "the second runner asks for the locks")
            position = await asyncio.to_thread(write_fresh_event, ledger)
            assert await wait_for(probe, position, timeout=DEADLINE) >= position
            assert await lock_holders(conn) == {leader: len(all_projections())}  # standing by
            await assert_projected_exactly_once(conn)

            await first.halt()
            position = await asyncio.to_thread(write_fresh_event, ledger)
            assert await wait_for(probe, position, timeout=DEADLINE) >= position  # the standby's
            (successor,) = (await lock_holders(conn)).keys()
            assert successor != leader
            await assert_projected_exactly_once(conn)
            await second.halt()
            assert await lock_holders(conn) == {}  # a stopped runner lets go of its locks


async def test_runners_started_together_project_each_event_once(
    ledger: Ledger, database_url: str
) -> None:
    import_history(ledger)
    async with pool_on(database_url) as pool_a, pool_on(database_url) as pool_b, \
            pool_on(database_url) as probe, \
            live_runner(pool_a, batch_size=300) as one, live_runner(pool_b, batch_size=300) as other:
        await eventually(lambda: caught_up(probe), "one of the runners catches up")
        for position in [await asyncio.to_thread(write_fresh_event, ledger) for _ in range(3)]:
            assert await wait_for(probe, position, timeout=DEADLINE) >= position
        assert not one.task.done() and not other.task.done()  # neither failed on the other's rows
        async with probe.acquire() as conn:
            await assert_projected_exactly_once(conn)


# Reading one's own writes ---------------------------------------------------------------------


async def test_wait_for_returns_once_a_live_runner_projects_a_fresh_write(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    async with pool_on(database_url) as pool, pool_on(database_url) as reader, \
            live_runner(pool):
        await eventually(lambda: caught_up(reader), "the runner catches up")
        position = await asyncio.to_thread(write_fresh_event, ledger)
        assert await wait_for(reader, position, timeout=DEADLINE) >= position
        # what a client reads next holds its write
        assert await reader.fetchval(
            f"SELECT count(*) FROM {SCHEMA}.audit_trail WHERE position = $1", position) == 1


async def test_wait_for_gives_up_when_no_runner_runs(ledger: Ledger, database_url: str) -> None:
    build_world(ledger)
    async with pool_on(database_url) as pool:
        runner = Runner(pool, all_projections())
        await runner.setup()
        await runner.catch_up()
        projected = ledger.position()
        assert await wait_for(pool, projected, timeout=DEADLINE) == projected  # already there

        position = write_fresh_event(ledger)  # nobody runs to project it
        with pytest.raises(NotProjectedYet) as refused:
            await wait_for(pool, position, timeout=0.2)
        assert refused.value.code == "NOT_PROJECTED_YET"
        assert refused.value.field == "atLeast"
        assert str(position) in refused.value.message


async def test_wait_for_gives_up_on_a_ledger_no_runner_ever_projected(
    ledger: Ledger, database_url: str
) -> None:
    position = write_fresh_event(ledger)  # and no runner has set anything up
    async with pool_on(database_url) as pool:
        with pytest.raises(NotProjectedYet):
            await wait_for(pool, position, timeout=0.2)


# The API --------------------------------------------------------------------------------------


def test_the_api_is_healthy_and_ready_once_projections_caught_up(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    every = {p.name: ledger.position() for p in all_projections()}
    with TestClient(create_app(database_url)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200  # a lag within the bound still serves reads
        assert set(ready.json()["projections"]) == set(every)
        deadline = time.monotonic() + DEADLINE
        while ready.json()["projections"] != every and time.monotonic() < deadline:
            time.sleep(0.05)
            ready = client.get("/readyz")
        assert ready.json() == {"status": "ready", "lag": 0, "projections": every}
