"""Rebuilding projections from the start without stopping reads: the events are replayed (read
and decoded once for all the projections rebuilt) into shadow tables in a schema of their own,
indexes are built once the rows are in, and then, in one transaction that holds the projections'
tracking rows (so the live runner pauses), the shadow tables catch up to the head and take the
live tables' place."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import random
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg

from ledger.application import EVENTS_TABLE
from projections.events import LedgerEvent, read_events
from projections.projection import Projection
from projections.tracking import SCHEMA, advance, claim_position, setup_tracking

SHADOW = f"{SCHEMA}_rebuild"
PROCESS_POLL_SECONDS = 0.2
SWAP_LOCK_WAIT_MS = 200
SWAP_ATTEMPTS = 100
MAINTENANCE_WORKERS = 2  # connections building indexes and vacuuming side by side
MAINTENANCE_MEMORY = "256MB"  # maintenance_work_mem of each
REBUILD_BATCH = 20_000
"""Events per batch of the replay: more than the live runner's, because a batch redraws each
holding it changes and writes each decision it touches once, however many of their events it
holds (peak memory about 220 MB, against 125 MB with 5,000)."""
READ_AHEAD = 2  # batches read and decoded ahead of the slowest projection
Progress = Callable[[int, int], None]
"""Called with (position reached, head of the log) after every batch."""


class RebuildInProgress(RuntimeError):
    pass


def connections_needed(projections: int) -> int:
    """The pool a rebuild of this many projections needs: one connection holds the rebuild's
    lock, one reads the log, and each projection writes on its own."""
    return projections + 2


async def rebuild(pool: asyncpg.Pool, projections: Sequence[Projection],
                  progress: Progress | None = None, batch_size: int = REBUILD_BATCH, *,
                  processes: int = 1, database_url: str | None = None) -> int:
    """Rebuilds the projections; returns the position at which they were swapped in. With
    `processes` > 1 (and the `database_url` for them) the projections are shared out over that
    many processes, each reading the log itself, up to the head as it was at the start."""
    projections = sorted(projections, key=lambda p: p.name)  # the runner's locking order
    async with pool.acquire() as conn:
        await _lock(conn)
        try:
            await _prepare(conn, projections)
            head = await conn.fetchval(
                f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}")
            if processes > 1 and database_url is not None and len(projections) > 1:
                groups = [projections[i::processes] for i in range(processes)]
                position = await _replay_in_processes(database_url, groups, head, batch_size,
                                                      progress)
            else:
                position = await replay(pool, projections, SHADOW, head, batch_size, progress)
            await _finish_tables(pool, projections)
            return await _swap_in(conn, projections, position, batch_size)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _rebuild_key())


async def _swap_in(conn: asyncpg.Connection, projections: Sequence[Projection], position: int,
                   batch_size: int) -> int:
    """Catches the shadow tables up and puts them in the live tables' place, in one transaction.
    Readers may hold one live table and want the next (a decision and its verdicts): the swap
    waits for locks only briefly, and gives way and tries again rather than deadlock with them."""
    for attempt in range(SWAP_ATTEMPTS):
        try:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_WAIT_MS}ms'")
                reached = position
                for projection in projections:
                    await claim_position(conn, projection.name)
                while events := await read_events(conn, reached, batch_size):
                    await _apply(conn, projections, events)
                    reached = events[-1].position
                for projection in projections:
                    await _swap(conn, projection, reached)
                await conn.execute(f"DROP SCHEMA {SHADOW}")
            return reached
        except asyncpg.LockNotAvailableError:
            await asyncio.sleep(random.uniform(0, SWAP_LOCK_WAIT_MS / 1000) * (1 + attempt % 4))
    raise RebuildInProgress("The rebuilt tables could not take the live ones' place: readers or "
                            "the live runner kept them locked. The live projections are unchanged.")


async def _replay_in_processes(database_url: str, groups: list[list[Projection]], head: int,
                               batch_size: int, progress: Progress | None) -> int:
    context = multiprocessing.get_context("spawn")  # no forked copies of the event loop
    reached = [context.Value("q", 0) for _ in groups]
    workers = [context.Process(target=_replay_group, daemon=True, args=(
        database_url, [p.name for p in group], head, batch_size, counter))
        for group, counter in zip(groups, reached, strict=True)]
    for worker in workers:
        worker.start()
    try:
        while any(worker.is_alive() for worker in workers):
            await asyncio.sleep(PROCESS_POLL_SECONDS)
            if progress is not None:
                progress(min(counter.value for counter in reached), head)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
    if any(worker.exitcode != 0 for worker in workers):
        raise RuntimeError("A rebuild process failed; the live projections are unchanged.")
    return head


def _replay_group(database_url: str, names: list[str], head: int, batch_size: int,
                  reached: Any) -> None:
    """The replay of some projections up to `head`, in a process of its own."""
    from projections.connection import create_pool
    from projections.runner import projection_named

    async def run() -> None:
        pool = await create_pool(database_url, max_size=connections_needed(len(names)))
        try:
            await replay(pool, [projection_named(n) for n in names], SHADOW, head, batch_size,
                         lambda position, _: setattr(reached, "value", position))
        finally:
            await pool.close()

    asyncio.run(run())


async def replay(pool: asyncpg.Pool, projections: Sequence[Projection], schema: str, head: int,
                 batch_size: int, progress: Progress | None) -> int:
    """Replays the log up to `head` into the projections' tables in `schema` (made by
    `create_schema`). Each batch is read and decoded once, on a connection of its own; each
    projection applies the batches on its own connection, in its own transactions, so that
    Python works on one projection while the database writes another's rows, and reading stays
    a few batches ahead of the slowest projection."""
    if pool.get_max_size() < connections_needed(len(projections)):
        raise ValueError(f"A replay of {len(projections)} projections needs a pool of at least "
                         f"{connections_needed(len(projections))} connections.")
    queues = [asyncio.Queue[list[LedgerEvent] | None](READ_AHEAD) for _ in projections]
    reached = _Reached(len(projections), head, progress)

    async def read() -> None:
        position = 0
        async with pool.acquire() as reader:
            while events := await read_events(reader, position, batch_size, until=head):
                position = events[-1].position
                for queue in queues:
                    await queue.put(events)
        for queue in queues:
            await queue.put(None)

    async def project(index: int) -> None:
        projection, queue = projections[index], queues[index]
        batches, next_analyze = 0, 1
        async with pool.acquire() as conn:
            while (events := await queue.get()) is not None:
                async with conn.transaction():
                    # Nothing here is acknowledged to anyone: the swap commits durably.
                    await conn.execute("SET LOCAL synchronous_commit = off")
                    await projection.apply(conn, schema, events)
                batches += 1
                if batches == next_analyze:
                    # New tables have no statistics: without them the planner reads whole
                    # tables for the batch's lookups, and the replay slows down as they grow.
                    await _analyze(conn, [projection], schema)
                    next_analyze *= 4
                reached.update(index, events[-1].position)

    with _cycles_collected_afterwards():
        async with asyncio.TaskGroup() as group:
            group.create_task(read())
            for index in range(len(projections)):
                group.create_task(project(index))
    return reached.least


class _Reached:
    """How far the replay of each projection got; the progress reported is the least of them."""

    def __init__(self, projections: int, head: int, progress: Progress | None) -> None:
        self.positions = [0] * projections
        self.head = head
        self.progress = progress

    @property
    def least(self) -> int:
        return min(self.positions, default=0)

    def update(self, index: int, position: int) -> None:
        before = self.least
        self.positions[index] = position
        if self.progress is not None and self.least > before:
            self.progress(self.least, self.head)


@contextmanager
def _cycles_collected_afterwards() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the replay, and run once at its end. A
    replay makes and drops millions of small objects while it keeps many alive (decoded batches,
    loaded rows): the automatic collections walked those again and again and took a third of
    the replay's time. Reference counting frees the objects anyway; a 1M-event replay leaves
    fewer than a hundred in cycles for the collection at the end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


async def _finish_tables(pool: asyncpg.Pool, projections: Sequence[Projection]) -> None:
    """Builds the secondary indexes, then vacuums and analyses the filled tables, a few
    statements at a time so that the database uses more than one core. Freshly written tables are
    vacuumed anyway (autovacuum sets their hint bits and visibility map): done here, that burst
    of writes does not land on the live system right after the swap."""
    await _in_parallel(pool, [statement for projection in projections
                              for statement in projection.create_indexes(SHADOW)],
                       workers=MAINTENANCE_WORKERS)
    await _in_parallel(pool, [f"VACUUM (ANALYZE) {SHADOW}.{table}"
                              for projection in projections for table in projection.tables],
                       workers=MAINTENANCE_WORKERS)


async def _in_parallel(pool: asyncpg.Pool, statements: list[str], workers: int) -> None:
    waiting = list(reversed(statements))

    async def work() -> None:
        async with pool.acquire() as conn:
            await conn.execute(f"SET maintenance_work_mem = '{MAINTENANCE_MEMORY}'")
            try:
                while waiting:
                    await conn.execute(waiting.pop())
            finally:
                await conn.execute("RESET maintenance_work_mem")

    async with asyncio.TaskGroup() as group:
        for _ in range(min(workers, len(statements))):
            group.create_task(work())


async def _analyze(conn: asyncpg.Connection, projections: Sequence[Projection],
                   schema: str) -> None:
    for projection in projections:
        for table in projection.tables:
            await conn.execute(f"ANALYZE {schema}.{table}")


async def _lock(conn: asyncpg.Connection) -> None:
    if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _rebuild_key()):
        raise RebuildInProgress("Another process is rebuilding projections now; try again later.")


async def _prepare(conn: asyncpg.Connection, projections: Sequence[Projection]) -> None:
    async with conn.transaction():
        await setup_tracking(conn)
        await create_schema(conn, projections, SHADOW)


async def create_schema(conn: asyncpg.Connection, projections: Sequence[Projection],
                        schema: str) -> None:
    """The schema, with the projections' tables empty; whatever it held before (left by an
    interrupted run) is dropped."""
    await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    await conn.execute(f"CREATE SCHEMA {schema}")
    for projection in projections:
        for statement in projection.create_tables(schema):
            await conn.execute(statement)


async def _apply(conn: asyncpg.Connection, projections: Sequence[Projection],
                 events: list[LedgerEvent]) -> None:
    for projection in projections:
        await projection.apply(conn, SHADOW, events)


async def _swap(conn: asyncpg.Connection, projection: Projection, position: int) -> None:
    for table in projection.tables:
        await conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")
        await conn.execute(f"ALTER TABLE {SHADOW}.{table} SET SCHEMA {SCHEMA}")
    await conn.execute(f"UPDATE {SCHEMA}.tracking SET version = $2 WHERE projection = $1",
                       projection.name, projection.version)
    await advance(conn, projection.name, position)


def _rebuild_key() -> int:
    """One rebuild at a time: they share the shadow schema."""
    return zlib.crc32(b"bevoegd-rebuild")
