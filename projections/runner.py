"""The projection runner: follows the ledger's event log, in batches while catching up and woken
by PostgreSQL notifications when live. A PostgreSQL advisory lock per projection keeps one active
runner per projection across processes; others wait as standbys."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from ledger.application import EVENTS_TABLE
from projections.ledger_info import LedgerInfo
from projections.tracking import SCHEMA, advance, claim_position, setup_tracking

POLL_SECONDS = 1.0


class Projection(Protocol):
    name: str

    async def setup(self, conn: asyncpg.Connection) -> None: ...

    async def apply(self, conn: asyncpg.Connection, events: Sequence[asyncpg.Record]) -> None: ...


def all_projections() -> list[Projection]:
    return [LedgerInfo()]


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        return self.head - self.position


class Runner:
    def __init__(self, pool: asyncpg.Pool, projections: Sequence[Projection],
                 batch_size: int = 2000) -> None:
        self.pool = pool
        self.projections = projections
        self.batch_size = batch_size

    async def run(self, stop: asyncio.Event) -> None:
        """Projects until `stop` is set."""
        await self.setup()
        async with self.pool.acquire() as listener:
            if not await self._lead(listener, stop):
                return
            wake = asyncio.Event()

            def notified(*_: object) -> None:
                wake.set()

            await listener.add_listener(EVENTS_TABLE, notified)
            try:
                while not stop.is_set():
                    wake.clear()
                    if await self.catch_up() == 0:
                        await _first_of(wake, stop, timeout=POLL_SECONDS)
            finally:
                await listener.remove_listener(EVENTS_TABLE, notified)
                await listener.execute("SELECT pg_advisory_unlock_all()")

    async def catch_up(self) -> int:
        """Applies one batch to every projection; returns how many events were applied."""
        applied = 0
        for projection in self.projections:
            async with self.pool.acquire() as conn, conn.transaction():
                position = await claim_position(conn, projection.name)
                events = await conn.fetch(
                    f"SELECT notification_id, originator_id, originator_version, topic, state"
                    f" FROM {EVENTS_TABLE} WHERE notification_id > $1"
                    f" ORDER BY notification_id LIMIT $2", position, self.batch_size)
                if not events:
                    continue
                await projection.apply(conn, events)
                await advance(conn, projection.name, events[-1]["notification_id"])
                applied += len(events)
        return applied

    async def setup(self) -> None:
        """Creates the tracking table and every projection's tables (repeatable)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await setup_tracking(conn)
            for projection in self.projections:
                await projection.setup(conn)

    async def _lead(self, conn: asyncpg.Connection, stop: asyncio.Event) -> bool:
        """Waits until this runner holds every projection's advisory lock, or `stop` is set."""
        keys = [_lock_key(p.name) for p in self.projections]
        while not stop.is_set():
            held = [await conn.fetchval("SELECT pg_try_advisory_lock($1)", key) for key in keys]
            if all(held):
                return True
            for key, got in zip(keys, held, strict=True):
                if got:
                    await conn.fetchval("SELECT pg_advisory_unlock($1)", key)
            await _first_of(asyncio.Event(), stop, timeout=POLL_SECONDS)
        return False


async def statuses(pool: asyncpg.Pool, projections: Sequence[Projection]
                   ) -> list[ProjectionStatus]:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await setup_tracking(conn)
        head = await conn.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}")
        rows = await conn.fetch(f"SELECT projection, position FROM {SCHEMA}.tracking")
    positions = {row["projection"]: row["position"] for row in rows}
    return [ProjectionStatus(p.name, positions.get(p.name, 0), head) for p in projections]


def _lock_key(name: str) -> int:
    return zlib.crc32(f"bevoegd-projection:{name}".encode())


async def _first_of(wake: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.create_task(wake.wait()), asyncio.create_task(stop.wait())]
    await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
