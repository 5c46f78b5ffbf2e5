"""The projection runner: follows the ledger's event log, in batches while catching up and woken
by PostgreSQL notifications when live. Each batch is read and decoded once and applied to every
projection in one transaction that also moves their positions. A PostgreSQL advisory lock per
projection keeps one active runner per projection across processes; others wait as standbys."""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ledger.application import EVENTS_TABLE
from projections.audit_trail import AuditTrail
from projections.commissions import Commissions
from projections.competences import Competences
from projections.decisions import Decisions
from projections.events import read_events
from projections.ledger_info import LedgerInfo
from projections.projection import Projection
from projections.structure import Structure
from projections.tracking import SCHEMA, advance, claim_position, setup_tracking

POLL_SECONDS = 1.0
RETRY_SECONDS = 5.0
log = logging.getLogger(__name__)
CATCH_UP_BATCH = 5000


def all_projections() -> list[Projection]:
    return [LedgerInfo(), AuditTrail(), Structure(), Competences(), Decisions(), Commissions()]


def projection_named(name: str) -> Projection:
    for projection in all_projections():
        if projection.name == name:
            return projection
    names = ", ".join(p.name for p in all_projections())
    raise KeyError(f"There is no projection '{name}'; the projections are: {names}.")


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int
    rate: float | None  # events/s of its last batch
    updated_at: datetime | None

    @property
    def lag(self) -> int:
        return self.head - self.position


class Runner:
    def __init__(self, pool: asyncpg.Pool, projections: Sequence[Projection],
                 batch_size: int = CATCH_UP_BATCH) -> None:
        self.pool = pool
        self.projections = sorted(projections, key=lambda p: p.name)
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
                    try:
                        applied = await self.catch_up()
                    except (asyncpg.PostgresError, OSError):
                        # the batch was rolled back and is tried again; readiness shows the lag
                        log.exception("Projecting a batch failed; retrying in %g s.",
                                      RETRY_SECONDS)
                        await _first_of(asyncio.Event(), stop, timeout=RETRY_SECONDS)
                        continue
                    if applied == 0:
                        await _first_of(wake, stop, timeout=POLL_SECONDS)
            finally:
                await listener.remove_listener(EVENTS_TABLE, notified)
                await listener.execute("SELECT pg_advisory_unlock_all()")

    async def catch_up(self) -> int:
        """Applies the next batch to every projection; returns how many events were read."""
        async with self.pool.acquire() as conn, conn.transaction():
            began = time.perf_counter()
            positions = {p.name: await claim_position(conn, p.name) for p in self.projections}
            events = await read_events(conn, min(positions.values()), self.batch_size)
            if not events:
                return 0
            for projection in self.projections:
                position = positions[projection.name]
                todo = [e for e in events if e.position > position]
                if todo:
                    await projection.apply(conn, SCHEMA, todo)
            rate = len(events) / max(time.perf_counter() - began, 1e-9)
            for projection in self.projections:
                if positions[projection.name] < events[-1].position:  # never move one back
                    await advance(conn, projection.name, events[-1].position, rate)
            return len(events)

    async def setup(self) -> None:
        """Creates the tracking table and every projection's tables (repeatable). A projection
        whose tables changed shape since they were filled is emptied, to be projected anew."""
        async with self.pool.acquire() as conn, conn.transaction():
            await setup_tracking(conn)
            for projection in self.projections:
                stored = await conn.fetchval(
                    f"SELECT version FROM {SCHEMA}.tracking WHERE projection = $1", projection.name)
                if stored is not None and stored != projection.version:
                    for table in projection.tables:
                        await conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")
                for statement in [*projection.create_tables(SCHEMA),
                                  *projection.create_indexes(SCHEMA)]:
                    await conn.execute(statement)
                await conn.execute(
                    f"INSERT INTO {SCHEMA}.tracking (projection, version) VALUES ($1, $2)"
                    " ON CONFLICT (projection) DO UPDATE SET version = EXCLUDED.version,"
                    " position = CASE WHEN tracking.version = EXCLUDED.version"
                    "  THEN tracking.position ELSE 0 END",
                    projection.name, projection.version)

    async def _lead(self, conn: asyncpg.Connection, stop: asyncio.Event) -> bool:
        """Waits until this runner holds every projection's advisory lock, or `stop` is set."""
        keys = [lock_key(p.name) for p in self.projections]
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
        rows = {row["projection"]: row for row in await conn.fetch(
            f"SELECT projection, position, rate, updated_at FROM {SCHEMA}.tracking")}
    return [
        ProjectionStatus(p.name, row["position"], head, row["rate"], row["updated_at"])
        if (row := rows.get(p.name)) is not None
        else ProjectionStatus(p.name, 0, head, None, None)
        for p in projections
    ]


def lock_key(name: str) -> int:
    return zlib.crc32(f"bevoegd-projection:{name}".encode())


async def _first_of(wake: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.create_task(wake.wait()), asyncio.create_task(stop.wait())]
    await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
