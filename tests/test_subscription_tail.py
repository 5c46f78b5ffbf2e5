"""The shared tail of the log (api/tail.py): fifty subscribers, half the public's and half an
auditor's, cost one read of the audit trail per batch and reader class, not one per subscriber;
each receives every event once, in order; one that falls behind reads on its own and loses
nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
import pytest

from api.tail import Delivery, Reader, Tail, follow, read_everything, read_public
from ledger.application import Ledger
from projections.connection import create_pool
from projections.runner import Runner, all_projections
from projections.waiting import ProjectionWatch
from tests.ledger_setup import build_world
from tests.read_models import pool_on, write_fresh_event
from tests.test_projection_runner import eventually

pytestmark = [pytest.mark.database, pytest.mark.timeout(300)]

SUBSCRIBERS = 50
BATCHES = 5
CONNECTIONS = 10
NEVER_IDLE = 3600.0
"""The tail's recheck in these tests: it reads only when the projections move, so that every
read counted belongs to a batch."""


@asynccontextmanager
async def counted_pool(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    """A pool whose every statement is logged, in order, to the list given with it."""
    pool = await create_pool(database_url, min_size=CONNECTIONS, max_size=CONNECTIONS)
    statements: list[str] = []
    connections = [await pool.acquire() for _ in range(CONNECTIONS)]
    for conn in connections:
        conn.add_query_logger(lambda logged: statements.append(logged.query))
    for conn in connections:
        await pool.release(conn)
    try:
        yield pool, statements
    finally:
        await pool.close()


@dataclass
class Subscriber:
    """A subscription of a reader class from a position, received in the background."""

    tail: Tail
    read: Reader
    after: int
    received: list[Delivery] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._receive())

    async def _receive(self) -> None:
        async for delivery in follow(self.tail, self.read, self.after, None):
            self.received.append(delivery)

    def has(self, position: int) -> bool:
        return bool(self.received) and self.received[-1].received_at >= position


async def projected(runner: Runner, ledger: Ledger) -> int:
    """One more event, written and projected in a batch of its own; returns its position."""
    position = await asyncio.to_thread(write_fresh_event, ledger)
    assert await runner.catch_up() == 1
    return position


def audit_trail_reads(statements: list[str]) -> int:
    return sum("audit_trail" in statement for statement in statements)


async def test_fifty_subscribers_cost_one_read_per_batch_and_reader_class(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    # The runner has a pool of its own: its writes to the audit trail are not the readers'.
    async with pool_on(database_url) as runner_pool, counted_pool(database_url) as (
            pool, statements):
        runner = Runner(runner_pool, all_projections())
        await runner.setup()
        while await runner.catch_up():
            pass
        watch = ProjectionWatch(pool)
        await watch.start()
        tail = Tail(pool, watch, recheck_seconds=NEVER_IDLE)
        head = ledger.position()
        subscribers = [Subscriber(tail, (read_public, read_everything)[n % 2], head)
                       for n in range(SUBSCRIBERS)]
        try:
            for subscriber in subscribers:
                subscriber.start()
            # Two batches to start with: every subscriber has read on its own and joined the
            # tail by the time it holds the first, and the tail reads alone from the second on.
            for _ in range(2):
                position = await projected(runner, ledger)
                await eventually(lambda p=position: _all_have(subscribers, p),
                                 "every subscriber receives the event")
            assert (tail.subscribers(read_public), tail.subscribers(read_everything)) == (
                SUBSCRIBERS // 2, SUBSCRIBERS // 2)
            before = audit_trail_reads(statements)
            for _ in range(BATCHES):
                position = await projected(runner, ledger)
                await eventually(lambda p=position: _all_have(subscribers, p),
                                 "every subscriber receives the event")
            assert audit_trail_reads(statements) - before == BATCHES * 2  # classes
            for subscriber in subscribers:
                assert [d.received_at for d in subscriber.received] == list(
                    range(head + 1, position + 1))
        finally:
            for subscriber in subscribers:
                assert subscriber.task is not None
                subscriber.task.cancel()
            await asyncio.gather(*(s.task for s in subscribers if s.task is not None),
                                 return_exceptions=True)
            await watch.stop()
        assert (tail.subscribers(read_public), tail.subscribers(read_everything)) == (0, 0)


async def test_a_subscriber_that_falls_behind_reads_on_its_own_and_misses_nothing(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    async with pool_on(database_url) as runner_pool, pool_on(database_url) as pool:
        runner = Runner(runner_pool, all_projections())
        await runner.setup()
        while await runner.catch_up():
            pass
        watch = ProjectionWatch(pool)
        await watch.start()
        tail = Tail(pool, watch, bound=2)
        head = ledger.position()
        keeping_up = Subscriber(tail, read_everything, head)
        keeping_up.start()
        slow = follow(tail, read_everything, head, None)
        try:
            first = await projected(runner, ledger)
            assert (await anext(slow)).received_at == first  # it holds a place in the tail
            await eventually(lambda: _all_have([keeping_up], first), "the first event arrives")
            # More batches than its queue holds, while it reads none of them.
            for _ in range(BATCHES):
                last = await projected(runner, ledger)
                await eventually(lambda p=last: _all_have([keeping_up], p), "the event arrives")
            rest = [(await anext(slow)).received_at for _ in range(BATCHES)]
            assert rest == list(range(first + 1, last + 1))
            assert [d.received_at for d in keeping_up.received] == list(range(first, last + 1))
        finally:
            await slow.aclose()
            assert keeping_up.task is not None
            keeping_up.task.cancel()
            await asyncio.gather(keeping_up.task, return_exceptions=True)
            await watch.stop()


async def _all_have(subscribers: list[Subscriber], position: int) -> bool:
    return all(subscriber.has(position) for subscriber in subscribers)
