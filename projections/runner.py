"""The projection runner: follows the ledger's event log, in batches while catching up and woken
by PostgreSQL notifications when live. Each batch is read and decoded once and applied to every
projection in one transaction that also moves their positions. A PostgreSQL advisory lock per
projection keeps one active runner per projection across processes; others wait as standbys.
The leader's batches run on the very connection that holds the locks, so a leader whose
connection is gone cannot commit another batch: its locks and its open transaction end together,
before a standby can take the locks. A runner outlives any failure: it retries, taking the locks
anew, and reports what failed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from ledger.application import EVENTS_TABLE
from projections.audit_trail import AuditTrail
from projections.commissions import Commissions
from projections.competences import Competences
from projections.decisions import Decisions
from projections.events import read_events
from projections.health import Failure, Health, describe, first_of, retry_delay
from projections.ledger_info import LedgerInfo
from projections.projection import Projection
from projections.structure import Structure
from projections.tracking import (
    SCHEMA,
    advance,
    claim_position,
    clear_failure,
    record_failure,
    setup_tracking,
)
from projections.transparency_log import TransparencyLog

POLL_SECONDS = 1.0
STALL_SECONDS = 10.0
"""A projection behind the log whose position has not moved for this long is stalled."""
REPORT_SECONDS = 2.0  # the longest a runner tries to note its failure in the tracking table
log = logging.getLogger(__name__)
CATCH_UP_BATCH = 5000


def all_projections() -> list[Projection]:
    return [LedgerInfo(), AuditTrail(), Structure(), Competences(), Decisions(), Commissions(),
            TransparencyLog()]


def projection_named(name: str) -> Projection:
    for projection in all_projections():
        if projection.name == name:
            return projection
    names = ", ".join(p.name for p in all_projections())
    raise KeyError(f"There is no projection '{name}'; the projections are: {names}.")


class LeadershipLost(ConnectionError):
    """The connection holding the projections' locks is gone, and the locks with it."""


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int
    rate: float | None = None  # events/s of its last batch
    updated_at: datetime | None = None
    unmoved_for: float | None = None
    """Seconds since its position last moved, by the database's clock; None: never projected."""
    last_error: str | None = None  # of the runner's last failure, until a batch commits again
    last_error_at: datetime | None = None

    @property
    def lag(self) -> int:
        return self.head - self.position

    @property
    def state(self) -> Literal["current", "advancing", "stalled"]:
        """Stalled: behind the log, and its position has not moved for STALL_SECONDS."""
        if self.lag <= 0:
            return "current"
        if self.unmoved_for is not None and self.unmoved_for < STALL_SECONDS:
            return "advancing"
        return "stalled"


class Runner:
    def __init__(self, pool: asyncpg.Pool, projections: Sequence[Projection],
                 batch_size: int = CATCH_UP_BATCH) -> None:
        self.pool = pool
        self.projections = sorted(projections, key=lambda p: p.name)
        self.batch_size = batch_size
        self.health = Health("Projecting", log)

    async def run(self, stop: asyncio.Event) -> None:
        """Projects until `stop` is set, whatever fails on the way (the database gone, a batch
        refused): it waits a while (see `Health`), stands by until it holds the locks again and
        goes on from the tracked positions, a failed batch having been rolled back."""
        while not stop.is_set():
            try:
                await self._lead_and_project(stop)
            # Any exception, not only the database's: a runner that stops leaves the API serving
            # frozen projections, one that retries shows its failure and recovers by itself.
            except Exception as error:
                failure = self.health.failed(error)
                await self._report(failure)
                await first_of(stop, timeout=retry_delay(failure.attempts))

    async def _lead_and_project(self, stop: asyncio.Event) -> None:
        """Stands by until this runner holds every projection's lock, then projects until `stop`
        is set. The locks belong to the listening connection's session, and every batch commits
        on it: when it dies, the locks and any batch in flight go with it and another runner may
        lead, so this one stops projecting (LeadershipLost)."""
        async with self.pool.acquire() as listener:
            if not await self._lead(listener, stop):
                return
            # Only a leader sets up: a standby's DDL would wait for the leader's batches and
            # they for it, until PostgreSQL refused one of them as a deadlock.
            await self.setup()
            wake, lost = asyncio.Event(), asyncio.Event()

            def notified(*_: object) -> None:
                wake.set()

            def terminated(*_: object) -> None:
                lost.set()
                wake.set()

            listener.add_termination_listener(terminated)
            await listener.add_listener(EVENTS_TABLE, notified)
            try:
                while not stop.is_set():
                    if lost.is_set():
                        raise LeadershipLost("The connection holding the projection locks closed.")
                    wake.clear()
                    applied = await self.apply_batch(listener)
                    self.health.succeeded()
                    if applied == 0:
                        await first_of(wake, stop, timeout=POLL_SECONDS)
            finally:
                # A connection that died went back to the pool by itself (InterfaceError: released),
                # its session's locks and LISTEN gone with it; the pool resets a live one on release
                # (UNLISTEN, locks let go) but wants its listeners removed first.
                with contextlib.suppress(asyncpg.InterfaceError):
                    listener.remove_termination_listener(terminated)
                    await listener.remove_listener(EVENTS_TABLE, notified)

    async def _report(self, failure: Failure) -> None:
        """Notes the failure in the projections' tracking rows for other processes to read. Best
        effort, as the database may be what failed: then a later failure is noted once it
        answers again. The next batch that commits clears it."""
        try:
            async with asyncio.timeout(REPORT_SECONDS), self.pool.acquire() as conn:
                await record_failure(conn, [p.name for p in self.projections], failure.error,
                                     failure.at)
        except Exception as error:  # whatever it is, the runner goes on
            log.debug("The failure could not be recorded: %s", describe(error))

    async def catch_up(self) -> int:
        """Applies the next batch to every projection on a connection of the pool, leading or
        not (for rebuilds, tests and scripts); returns how many events were read."""
        async with self.pool.acquire() as conn:
            return await self.apply_batch(conn)

    async def apply_batch(self, conn: asyncpg.Connection) -> int:
        """Applies the next batch to every projection in one transaction on `conn`; returns how
        many events were read. Concurrent batches queue on the tracking rows (`claim_position`),
        so an event is applied once whoever runs them."""
        async with conn.transaction():
            began = time.perf_counter()
            positions = {p.name: await claim_position(conn, p.name) for p in self.projections}
            await clear_failure(conn, list(positions))
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
        whose tables changed shape since they were filled is emptied, to be projected anew.
        Nothing is done, and no lock taken, when every projection is tracked at its version: a
        process starting beside a leading runner must not queue DDL behind its batches."""
        if await self._in_shape():
            return
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

    async def _in_shape(self) -> bool:
        """Whether every projection is tracked at its current version (a read, no lock)."""
        try:
            stored = dict(await self.pool.fetch(f"SELECT projection, version FROM {SCHEMA}.tracking"))
        except asyncpg.UndefinedTableError:
            return False
        return all(stored.get(p.name) == p.version for p in self.projections)

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
            self.health.succeeded()  # another runner leads: nothing fails here while it does
            await first_of(stop, timeout=POLL_SECONDS)
        return False


async def statuses(pool: asyncpg.Pool, projections: Sequence[Projection]
                   ) -> list[ProjectionStatus]:
    """Where each projection stands. Reads only, as a readiness probe must: set-up DDL would wait
    for a running batch."""
    async with pool.acquire() as conn:
        head = await conn.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}")
        try:
            rows = {row["projection"]: row for row in await conn.fetch(
                f"SELECT projection, position, rate, updated_at,"
                f" extract(epoch FROM now() - updated_at)::float8 AS unmoved_for,"
                f" last_error, last_error_at FROM {SCHEMA}.tracking")}
        except asyncpg.UndefinedTableError:  # nothing set up yet, so nothing projected
            rows = {}
    return [
        ProjectionStatus(p.name, row["position"], head, row["rate"], row["updated_at"],
                         row["unmoved_for"], row["last_error"], row["last_error_at"])
        if (row := rows.get(p.name)) is not None
        else ProjectionStatus(p.name, 0, head)
        for p in projections
    ]


def lock_key(name: str) -> int:
    return zlib.crc32(f"bevoegd-projection:{name}".encode())
